/*
 * Normal forms of master-data values (see norm.h). Transliteration uses one
 * ICU transliterator per thread, opened on first use: opening "Han-Latin"
 * costs milliseconds, using it microseconds, and a transliterator may not
 * be shared between threads.
 *
 * Those microseconds were a quarter of a bulk import's CPU, so names made
 * only of CJK ideographs take a short cut. ICU's Han-Latin first puts a
 * space between adjacent ideographs (Han-Spacedhan), then maps each one on
 * its own, except the few characters its rules read in context (沈 before
 * 阳, ...); Latin-ASCII and Lower then work letter by letter. So such a
 * name's pinyin is the pinyin of its characters joined by spaces, and the
 * pinyin of each character, asked of ICU once, is kept in a table shared
 * by all threads. A character ICU does not map to plain letters, a
 * character some rule reads in context, and anything else go through ICU
 * as before, so the result is always what ICU alone gives.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/ustring.h>
#include <unicode/utrans.h>

#include "base/mem.h"
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
		char ch = *s;

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch + 32);
		out[n++] = ch;
	}
	out[n] = '\0';
	/* a value longer than the key (a long title) keeps its start, cut after a whole character */
	while (n > 0 && mr_utf8_check(out, n) != 0)
		out[--n] = '\0';
}

void mr_norm_query(const char *q, char out[MR_NORM_MAX])
{
	mr_norm_collapse(q, out, MR_NORM_MAX);
}

static _Thread_local UTransliterator *mr_translit;
static pthread_key_t mr_translit_key;
static pthread_once_t mr_translit_once = PTHREAD_ONCE_INIT;

/* Closes a thread's transliterator when the thread ends (an importer's helper thread ends per import). */
static void mr_translit_close(void *t)
{
	utrans_close(t);
}

static void mr_translit_key_init(void)
{
	pthread_key_create(&mr_translit_key, mr_translit_close);
}

/* Transliterates UTF-8 s with ICU to lower-case ASCII pinyin, syllables space-separated. */
static void mr_transliterate_icu(const char *s, char *out, size_t cap)
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
		pthread_once(&mr_translit_once, mr_translit_key_init);
		pthread_setspecific(mr_translit_key, mr_translit);
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

/* The ideographs of the per-character table: CJK Extension A and the Unified block. */
enum { MR_PY_FIRST = 0x3400, MR_PY_LAST = 0x9fff, MR_PY_SYL = 8 };
enum { MR_PY_UNKNOWN = 0, MR_PY_CACHED = 1, MR_PY_ICU = 2 };

static char mr_py_syl[MR_PY_LAST - MR_PY_FIRST + 1][MR_PY_SYL];
static _Atomic unsigned char mr_py_state[MR_PY_LAST - MR_PY_FIRST + 1];
static pthread_mutex_t mr_py_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t mr_py_once = PTHREAD_ONCE_INIT;

static int mr_py_ideograph(uint32_t cp)
{
	return (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x4e00 && cp <= MR_PY_LAST);
}

/*
 * The rules that read ideographs in context ({沈}' '?阳 > shěn): a name
 * needs ICU only when it holds every ideograph of one of them; otherwise
 * none can apply and the characters map on their own. Written once, under
 * mr_py_once.
 */
enum { MR_PY_CTX_RULES = 32, MR_PY_CTX_CHARS = 4 };
static uint32_t mr_py_ctx[MR_PY_CTX_RULES][MR_PY_CTX_CHARS];
static int mr_py_ctx_len[MR_PY_CTX_RULES];
static int mr_py_nctx;
static unsigned char mr_py_in_ctx[MR_PY_LAST - MR_PY_FIRST + 1];

/*
 * Takes a rule other than a plain set mapping: one of literal ideographs,
 * braces and quoted text (a ? only after a quote) becomes a context rule;
 * any other sends its ideographs through ICU always.
 */
static void mr_py_context_rule(const UChar *rule, int32_t n)
{
	uint32_t cps[MR_PY_CTX_CHARS];
	int32_t i = 0;
	int k = 0, simple = 1, quoted = 0;
	UChar32 cp, prev = 0;

	while (i < n) {
		U16_NEXT(rule, i, n, cp);
		if (cp == '\'')
			quoted = !quoted;
		else if (!quoted && cp == '>')
			break;
		else if (!quoted && cp == '?')
			simple &= prev == '\'';
		else if (!quoted && cp < 0x80 && strchr("[]()\\|$^*+", (int)cp))
			simple = 0;
		if (cp >= MR_PY_FIRST && cp <= MR_PY_LAST) {
			if (k < MR_PY_CTX_CHARS)
				cps[k] = (uint32_t)cp;
			k++;
		}
		prev = cp;
	}
	if (simple && k > 0 && k <= MR_PY_CTX_CHARS && mr_py_nctx < MR_PY_CTX_RULES) {
		memcpy(mr_py_ctx[mr_py_nctx], cps, (size_t)k * sizeof(cps[0]));
		mr_py_ctx_len[mr_py_nctx++] = k;
		for (int j = 0; j < k; j++)
			mr_py_in_ctx[cps[j] - MR_PY_FIRST] = 1;
		return;
	}
	/* not a literal context, or no room: its ideographs (all of them) go through ICU */
	i = 0;
	while (i < n) {
		U16_NEXT(rule, i, n, cp);
		if (cp >= MR_PY_FIRST && cp <= MR_PY_LAST)
			atomic_store(&mr_py_state[cp - MR_PY_FIRST], MR_PY_ICU);
	}
}

/* 1 when the ideographs cps[0..n) (decoded from a name) hold all of some context rule's. */
static int mr_py_context_applies(const uint32_t *cps, int n)
{
	for (int r = 0; r < mr_py_nctx; r++) {
		int all = 1;

		for (int j = 0; all && j < mr_py_ctx_len[r]; j++) {
			int found = 0;

			for (int i = 0; !found && i < n; i++)
				found = cps[i] == mr_py_ctx[r][j];
			all = found;
		}
		if (all)
			return 1;
	}
	return 0;
}

/* 1 for a rule that maps each character of one plain set on its own: "[...] > pinyin;". */
static int mr_py_plain_rule(const UChar *rule, int32_t n)
{
	int32_t k = 1;

	if (n < 1 || rule[0] != '[')
		return 0;
	while (k < n && rule[k] != ']') {
		if (rule[k] == '[' || rule[k] == '\\' || rule[k] == '{' || rule[k] == '}')
			return 0;
		k++;
	}
	return k + 3 < n && rule[k + 1] == ' ' && rule[k + 2] == '>' && rule[k + 3] == ' ';
}

/* Sends every table character through ICU: the short cut is off. */
static void mr_py_disable(void)
{
	for (uint32_t cp = MR_PY_FIRST; cp <= MR_PY_LAST; cp++)
		atomic_store(&mr_py_state[cp - MR_PY_FIRST], MR_PY_ICU);
}

/* 1 when a "::" step of Han-Latin is the one that spaces ideographs apart. */
static int mr_py_spacing_step(const UChar *rule, int32_t n)
{
	static const char spacing[] = "::Han-Spacedhan();";

	if (n != (int32_t)sizeof(spacing) - 1)
		return 0;
	for (int32_t i = 0; i < n; i++) {
		if (rule[i] != (UChar)spacing[i])
			return 0;
	}
	return 1;
}

/*
 * Reads Han-Latin's rules once. Its only transform step must be the
 * spacing one; the characters of any rule other than a plain set mapping
 * are context characters (mr_py_context_rule) or always go through ICU.
 */
static void mr_py_init(void)
{
	UErrorCode st = U_ZERO_ERROR;
	UChar id[16];
	UChar *rules = NULL;
	UTransliterator *t;
	int32_t n = 0, start = 0;

	u_uastrcpy(id, "Han-Latin");
	t = utrans_openU(id, -1, UTRANS_FORWARD, NULL, 0, NULL, &st);
	if (U_SUCCESS(st))
		n = utrans_toRules(t, 0, NULL, 0, &st);
	if (n > 0 && st == U_BUFFER_OVERFLOW_ERROR) {
		st = U_ZERO_ERROR;
		rules = mr_malloc(((size_t)n + 1) * sizeof(UChar));
		utrans_toRules(t, 0, rules, n + 1, &st);
	}
	if (!rules || U_FAILURE(st))
		mr_py_disable();
	for (int32_t i = 0; rules && U_SUCCESS(st) && i <= n; i++) {
		int32_t len = i - start;

		if (i < n && rules[i] != '\n')
			continue;
		if (len >= 2 && rules[start] == ':' && rules[start + 1] == ':') {
			if (!mr_py_spacing_step(rules + start, len))
				mr_py_disable();
		} else if (len > 0 && !mr_py_plain_rule(rules + start, len)) {
			mr_py_context_rule(rules + start, len);
		}
		start = i + 1;
	}
	free(rules);
	utrans_close(t);
}

/* The pinyin of one ideograph from the table, asking ICU on first use; NULL when ICU must do the name. */
static const char *mr_py_char(uint32_t cp)
{
	_Atomic unsigned char *state = &mr_py_state[cp - MR_PY_FIRST];
	char one[8], latin[4 * MR_PY_SYL];
	size_t n;

	if (atomic_load_explicit(state, memory_order_acquire) == MR_PY_CACHED)
		return mr_py_syl[cp - MR_PY_FIRST];
	if (atomic_load_explicit(state, memory_order_acquire) == MR_PY_ICU)
		return NULL;
	snprintf(one, sizeof(one), "%c%c%c", (char)(0xe0 | (cp >> 12)),
		 (char)(0x80 | ((cp >> 6) & 0x3f)), (char)(0x80 | (cp & 0x3f)));
	mr_transliterate_icu(one, latin, sizeof(latin));
	n = strlen(latin);
	pthread_mutex_lock(&mr_py_mu);
	if (atomic_load_explicit(state, memory_order_relaxed) == MR_PY_UNKNOWN) {
		if (n == 0 || n >= MR_PY_SYL || strspn(latin, "abcdefghijklmnopqrstuvwxyz") != n) {
			atomic_store_explicit(state, MR_PY_ICU, memory_order_release);
		} else {
			memcpy(mr_py_syl[cp - MR_PY_FIRST], latin, n + 1);
			atomic_store_explicit(state, MR_PY_CACHED, memory_order_release);
		}
	}
	pthread_mutex_unlock(&mr_py_mu);
	return atomic_load_explicit(state, memory_order_acquire) == MR_PY_CACHED ?
	       mr_py_syl[cp - MR_PY_FIRST] : NULL;
}

/* The short cut: s made only of table ideographs, joined pinyin fits out; 0 when ICU must do it. */
static int mr_transliterate_table(const char *s, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cps[MR_NORM_MAX / 3 + 1];
	size_t n = 0;
	int ncp = 0, ctx = 0;

	pthread_once(&mr_py_once, mr_py_init);
	if (!*p)
		return 0;
	while (*p) {
		uint32_t cp;
		const char *syl;
		size_t len;

		if ((p[0] & 0xf0) != 0xe0 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		cp = ((uint32_t)(p[0] & 0x0f) << 12) | ((uint32_t)(p[1] & 0x3f) << 6) | (p[2] & 0x3f);
		if (!mr_py_ideograph(cp) || ncp == (int)(sizeof(cps) / sizeof(cps[0])))
			return 0;
		syl = mr_py_char(cp);
		if (!syl)
			return 0;
		len = strlen(syl);
		if (n + len + 2 >= cap)
			return 0;
		if (n > 0)
			out[n++] = ' ';
		memcpy(out + n, syl, len);
		n += len;
		cps[ncp++] = cp;
		ctx |= mr_py_in_ctx[cp - MR_PY_FIRST];
		p += 3;
	}
	out[n] = '\0';
	return !ctx || !mr_py_context_applies(cps, ncp);
}

/* Transliterates UTF-8 s to lower-case ASCII pinyin with syllables space-separated. */
static void mr_transliterate(const char *s, char *out, size_t cap)
{
	if (!mr_transliterate_table(s, out, cap))
		mr_transliterate_icu(s, out, cap);
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

/* The length of the UTF-8 character that ends s[0..n), or 0 when those bytes do not end one. */
static size_t mr_utf8_last(const char *s, size_t n)
{
	size_t k = 1;

	while (k <= n && k < 4 && ((unsigned char)s[n - k] & 0xc0) == 0x80)
		k++;
	if (k > n || mr_utf8_check(s + n - k, k) != 0)
		return 0;
	return k;
}

/* Writes code point cp as UTF-8 at out; returns its length. */
static size_t mr_utf8_put(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The smallest string above every string with prefix out[0..n) by raising its last bytes. */
static void mr_prefix_end_bytes(char *out, size_t n)
{
	while (n > 0 && (unsigned char)out[n - 1] == 0xff)
		out[--n] = '\0';
	if (n > 0)
		out[n - 1] = (char)((unsigned char)out[n - 1] + 1);
}

/*
 * The smallest string greater than every string with this prefix: the
 * last character goes up by one. UTF-8 sorts bytewise in code point order,
 * so this bounds the same strings as raising the last byte would, and stays
 * valid UTF-8, which PostgreSQL requires of a text parameter (raising the
 * last byte of 鸿, E9 B8 BF, would give E9 B8 C0). Bytes that do not end a
 * character, and a prefix of nothing but U+10FFFF, are raised as bytes.
 */
void mr_norm_prefix_end(const char *prefix, char out[MR_NORM_MAX + 1])
{
	size_t n = strlen(prefix), len;

	if (n > MR_NORM_MAX - 1)
		n = MR_NORM_MAX - 1;
	memcpy(out, prefix, n);
	out[n] = '\0';
	len = n;
	while (n > 0) {
		size_t k = mr_utf8_last(out, n);
		uint32_t cp;

		if (k == 0)
			break;
		cp = k == 1 ? (unsigned char)out[n - 1] :
		     (uint32_t)((unsigned char)out[n - k] & (0xff >> (k + 1)));
		for (size_t i = n - k + 1; i < n; i++)
			cp = (cp << 6) | ((unsigned char)out[i] & 0x3f);
		cp = cp == 0xd7ff ? 0xe000 : cp + 1; /* no surrogates in UTF-8 */
		n -= k;
		if (cp <= 0x10ffff) {
			n += mr_utf8_put(cp, out + n);
			out[n] = '\0';
			return;
		}
	}
	/* no character could go up: the bytes of the whole prefix do */
	memcpy(out, prefix, len);
	out[len] = '\0';
	mr_prefix_end_bytes(out, len);
}
