/*
 * Normal forms of master-data values (see norm.h). Transliteration uses one
 * ICU transliterator per thread, opened on first use: opening "Han-Latin"
 * costs milliseconds, using it microseconds, and a transliterator may not
 * be shared between threads.
 */
#include <stdio.h>
#include <string.h>
#include <unicode/ustring.h>
#include <unicode/utrans.h>

#include "base/str.h"
#include "md/norm.h"

static int mr_is_sep(char c)
{
	return c == ' ' || c == '-' || c == '(' || c == ')' || c == '.' || c == '\t';
}

/* Copies the digits of in (and a leading '+') to out; -1 on any other character. */
static int mr_phone_digits(const char *in, char *out, size_t cap)
{
	size_t n = 0;

	for (const char *p = in; *p; p++) {
		if (mr_is_sep(*p))
			continue;
		if (!((*p >= '0' && *p <= '9') || (*p == '+' && n == 0)) || n + 1 >= cap)
			return -1;
		out[n++] = *p;
	}
	out[n] = '\0';
	return (int)n;
}

int mr_norm_phone(const char *in, char out[MR_NORM_MAX], const char *field, struct mr_err *err)
{
	char d[32];
	const char *p = d;
	int n = mr_phone_digits(in, d, sizeof(d));
	size_t len;

	if (n < 0)
		goto bad;
	if (*p == '+')
		p++;
	else if (p[0] == '0' && p[1] == '0')
		p += 2;
	else if (n == 11 && p[0] == '1') {
		snprintf(out, MR_NORM_MAX, "+86%s", p);
		return p[1] >= '3' ? 0 : mr_err_field(err, MR_EINVAL, field,
			"'%s' is not a mainland mobile number: the second digit is 3 to 9", in);
	} else if (p[0] == '0' && n >= 10 && n <= 12) {
		snprintf(out, MR_NORM_MAX, "+86%s", p + 1); /* a landline: drop the trunk 0 */
		return 0;
	} else {
		goto bad;
	}
	len = strlen(p);
	if (len < 8 || len > 15 || p[0] == '0')
		goto bad;
	if (p[0] == '8' && p[1] == '6' && p[2] == '1' && len != 13)
		goto bad;
	snprintf(out, MR_NORM_MAX, "+%s", p);
	return 0;
bad:
	return mr_err_field(err, MR_EINVAL, field,
			    "'%.40s' is not a phone number: give a mainland mobile (13812345678)"
			    " or E.164 (+8613812345678)", in);
}

/* Trims ASCII spaces of in into out; returns the length or -1 when too long. */
static int mr_trim(const char *in, char *out, size_t cap)
{
	size_t n;

	while (*in == ' ' || *in == '\t')
		in++;
	n = strlen(in);
	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t'))
		n--;
	if (n >= cap)
		return -1;
	memcpy(out, in, n);
	out[n] = '\0';
	return (int)n;
}

int mr_norm_email(const char *in, char out[MR_NORM_MAX], const char *field, struct mr_err *err)
{
	const char *at, *dot;
	int n = mr_trim(in, out, MR_NORM_MAX);

	if (n < 0 || n > 254)
		return mr_err_field(err, MR_EINVAL, field, "the email address is longer than 254 bytes");
	mr_ascii_lower(out);
	at = strchr(out, '@');
	dot = at ? strrchr(at, '.') : NULL;
	if (!at || at == out || strchr(at + 1, '@') || !dot || dot == at + 1 || !dot[1] ||
	    strpbrk(out, " \t,;<>\"") || mr_utf8_check(out, (size_t)n) != 0)
		return mr_err_field(err, MR_EINVAL, field,
				    "'%.60s' is not an email address (name@example.com)", in);
	return 0;
}

int mr_norm_license(const char *in, char out[MR_NORM_MAX], const char *field, struct mr_err *err)
{
	size_t n = 0;

	for (const char *p = in; *p; p++) {
		if (*p == ' ')
			continue;
		if (*p < '0' || *p > '9' || n >= 15)
			goto bad;
		out[n++] = *p;
	}
	out[n] = '\0';
	if (n == 15)
		return 0;
bad:
	return mr_err_field(err, MR_EINVAL, field,
			    "'%.40s' is not a physician licence number (执业证书编码): 15 digits", in);
}

struct mr_idkind {
	const char *kind;
	int (*norm)(const char *in, char out[MR_NORM_MAX], const char *field, struct mr_err *err);
	int min, max;      /* length bounds for plain ids */
};

static int mr_norm_plain(const struct mr_idkind *k, const char *in, char out[MR_NORM_MAX],
			 const char *field, struct mr_err *err)
{
	int n = mr_trim(in, out, MR_NORM_MAX);

	if (n < k->min || n > k->max || !mr_str_charset(out, "_-.@"))
		return mr_err_field(err, MR_EINVAL, field,
				    "'%.60s' is not a %s: %d to %d characters of A-Z a-z 0-9 _ - . @",
				    in, k->kind, k->min, k->max);
	return 0;
}

static const struct mr_idkind mr_idkinds[] = {
	{ "phone", mr_norm_phone, 0, 0 },
	{ "email", mr_norm_email, 0, 0 },
	{ "license_no", mr_norm_license, 0, 0 },
	{ "wechat_unionid", NULL, 6, 64 },
	{ "wechat_openid", NULL, 6, 64 },
	{ "wecom_external_userid", NULL, 6, 64 },
	{ "meeting_user_id", NULL, 1, 64 },
};

static const struct mr_idkind *mr_idkind_find(const char *kind)
{
	for (size_t i = 0; i < sizeof(mr_idkinds) / sizeof(mr_idkinds[0]); i++) {
		if (strcmp(mr_idkinds[i].kind, kind) == 0)
			return &mr_idkinds[i];
	}
	return NULL;
}

int mr_norm_identity_kind(const char *kind)
{
	return mr_idkind_find(kind) != NULL;
}

int mr_norm_identity(const char *kind, const char *in, char out[MR_NORM_MAX], const char *field,
		     struct mr_err *err)
{
	const struct mr_idkind *k = mr_idkind_find(kind);

	if (!k)
		return mr_err_field(err, MR_EINVAL, "kind",
				    "unknown identity kind '%.40s': use wechat_unionid, wechat_openid,"
				    " wecom_external_userid, phone, email, meeting_user_id or license_no",
				    kind);
	if (k->norm)
		return k->norm(in, out, field, err);
	return mr_norm_plain(k, in, out, field, err);
}

/* Copies s trimmed, with runs of spaces collapsed and ASCII lower-cased. */
static void mr_norm_collapse(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	int space = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	for (; *s && n + 2 < cap; s++) {
		if (*s == ' ' || *s == '\t') {
			space = 1;
			continue;
		}
		if (space && n > 0)
			out[n++] = ' ';
		space = 0;
		out[n++] = (*s >= 'A' && *s <= 'Z') ? (char)(*s + 32) : *s;
	}
	out[n] = '\0';
	if (mr_utf8_check(out, n) != 0)
		out[0] = '\0'; /* cut inside a character: callers validated the whole; never here */
}

void mr_norm_query(const char *q, char out[MR_NORM_MAX])
{
	mr_norm_collapse(q, out, MR_NORM_MAX);
}

static _Thread_local UTransliterator *mr_translit;

/* Transliterates UTF-8 s to lower-case ASCII pinyin with syllables space-separated. */
static void mr_transliterate(const char *s, char *out, size_t cap)
{
	UChar buf[512];
	int32_t len = 0, limit, cap16 = (int32_t)(sizeof(buf) / sizeof(buf[0]));
	UErrorCode st = U_ZERO_ERROR;

	out[0] = '\0';
	if (!mr_translit) {
		UChar id[64];

		u_uastrcpy(id, "Han-Latin; Latin-ASCII; Lower");
		mr_translit = utrans_openU(id, -1, UTRANS_FORWARD, NULL, 0, NULL, &st);
		if (U_FAILURE(st))
			return;
	}
	u_strFromUTF8(buf, cap16, &len, s, -1, &st);
	if (U_FAILURE(st) || len >= cap16 / 2)
		return;
	limit = len;
	utrans_transUChars(mr_translit, buf, &len, cap16, 0, &limit, &st);
	if (U_FAILURE(st))
		return;
	u_strToUTF8(out, (int32_t)cap - 1, NULL, buf, len, &st);
	if (U_FAILURE(st))
		out[0] = '\0';
}

/* The letters of s only: "wang jian-guo" -> "wangjianguo". */
static void mr_letters(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	for (; *s && n + 1 < cap; s++) {
		char c = *s;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if (c >= 'a' && c <= 'z')
			out[n++] = c;
	}
	out[n] = '\0';
}

/* The first letter of each word of s. */
static void mr_initials(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	int start = 1;

	for (; *s && n + 1 < cap; s++) {
		char c = *s;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if (c >= 'a' && c <= 'z') {
			if (start)
				out[n++] = c;
			start = 0;
		} else {
			start = 1;
		}
	}
	out[n] = '\0';
}

void mr_name_keys(const char *name, const char *pinyin, struct mr_name_keys *out)
{
	char latin[MR_NORM_MAX];

	mr_norm_collapse(name, out->name, sizeof(out->name));
	mr_transliterate(out->name, latin, sizeof(latin));
	if (pinyin && *pinyin)
		mr_norm_collapse(pinyin, out->pinyin, sizeof(out->pinyin));
	else
		snprintf(out->pinyin, sizeof(out->pinyin), "%s", latin);
	mr_letters(out->pinyin, out->pinyin_key, sizeof(out->pinyin_key));
	mr_initials(latin[0] ? latin : out->pinyin, out->initials, sizeof(out->initials));
}

void mr_norm_prefix_end(const char *prefix, char out[MR_NORM_MAX + 1])
{
	size_t n = strlen(prefix);

	if (n > MR_NORM_MAX - 1)
		n = MR_NORM_MAX - 1;
	memcpy(out, prefix, n);
	out[n] = '\0';
	/* the smallest string greater than every string with this prefix */
	while (n > 0 && (unsigned char)out[n - 1] == 0xff)
		out[--n] = '\0';
	if (n > 0)
		out[n - 1] = (char)((unsigned char)out[n - 1] + 1);
}
