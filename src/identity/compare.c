/*
 * The comparators behind compare.h: normalisation per kind at preparation
 * time, so that comparing is a few array walks. Everything works on Unicode
 * code points, because Chinese names are two to four characters and any
 * byte-level measure would see three times as many "letters" as there are.
 */
#include "identity/compare.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"

enum { MR_CMP_MAX_TOKENS = 16 };

static const char *const mr_cmp_kind_names[MR_CMP_NKINDS] = {
	[MR_CMP_NAME] = "name",     [MR_CMP_TEXT] = "text",     [MR_CMP_EXACT] = "exact",
	[MR_CMP_ID] = "id",         [MR_CMP_DATE] = "date",     [MR_CMP_NUMBER] = "number",
	[MR_CMP_PHONE] = "phone",   [MR_CMP_ADDRESS] = "address",
};

/* Level names per kind; the count of non-NULL entries is the kind's level count. */
static const char *const mr_cmp_levels[MR_CMP_NKINDS][MR_CMP_MAX_LEVELS] = {
	[MR_CMP_NAME] = { "missing", "exact", "close", "similar", "far", "different" },
	[MR_CMP_TEXT] = { "missing", "exact", "close", "similar", "different" },
	[MR_CMP_EXACT] = { "missing", "equal", "different" },
	[MR_CMP_ID] = { "missing", "equal", "typo", "different" },
	[MR_CMP_DATE] = { "missing", "exact", "swapped", "near", "typo", "different" },
	[MR_CMP_NUMBER] = { "missing", "equal", "1pct", "10pct", "different" },
	[MR_CMP_PHONE] = { "missing", "exact", "last8", "typo", "different" },
	[MR_CMP_ADDRESS] = { "missing", "exact", "contains", "similar", "different" },
};

int mr_cmp_kind_parse(const char *s)
{
	for (int k = 0; k < MR_CMP_NKINDS; k++) {
		if (strcmp(s, mr_cmp_kind_names[k]) == 0)
			return k;
	}
	return -1;
}

const char *mr_cmp_kind_name(enum mr_cmp_kind kind)
{
	return (unsigned)kind < MR_CMP_NKINDS ? mr_cmp_kind_names[kind] : "?";
}

int mr_cmp_nlevels(enum mr_cmp_kind kind)
{
	int n = 0;

	if ((unsigned)kind >= MR_CMP_NKINDS)
		return 0;
	while (n < MR_CMP_MAX_LEVELS && mr_cmp_levels[kind][n])
		n++;
	return n;
}

const char *mr_cmp_level_name(enum mr_cmp_kind kind, int level)
{
	if (level < 0 || level >= mr_cmp_nlevels(kind))
		return "?";
	return mr_cmp_levels[kind][level];
}

static double mr_cmp_abs(double x)
{
	return x < 0 ? -x : x;
}

/* --- code points ------------------------------------------------------- */

/* Decodes one code point at s (n > 0 bytes left); sets *len; invalid input gives U+FFFD. */
static uint32_t mr_cmp_utf8_next(const unsigned char *s, size_t n, size_t *len)
{
	uint32_t c = s[0];
	size_t need;

	*len = 1;
	if (c < 0x80)
		return c;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
		c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		c &= 0x07;
	} else {
		return 0xfffd;
	}
	if (n <= need)
		return 0xfffd;
	for (size_t i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0xfffd;
		c = (c << 6) | (s[i] & 0x3f);
	}
	*len = need + 1;
	return c;
}

/* Full-width ASCII forms and the ideographic space to their ASCII twins. */
static uint32_t mr_cmp_halfwidth(uint32_t c)
{
	if (c >= 0xff01 && c <= 0xff5e)
		return c - 0xfee0;
	if (c == 0x3000)
		return ' ';
	return c;
}

static int mr_cmp_is_cjk(uint32_t c)
{
	return (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) ||
	       (c >= 0xf900 && c <= 0xfaff) || (c >= 0x20000 && c <= 0x2ffff);
}

static int mr_cmp_has_cjk(const uint32_t *u, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (mr_cmp_is_cjk(u[i]))
			return 1;
	}
	return 0;
}

/* Spaces, punctuation and symbols: separators between tokens. */
static int mr_cmp_is_sep(uint32_t c)
{
	if (c < 0x80)
		return !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
	return (c >= 0x80 && c <= 0xbf) || c == 0xd7 || c == 0xf7 || (c >= 0x2000 && c <= 0x206f) ||
	       (c >= 0x3000 && c <= 0x303f) || c == 0x30fb || (c >= 0xfe30 && c <= 0xfe4f) ||
	       (c >= 0xff00 && c <= 0xff65) || c == 0xfffd;
}

/* Decodes n bytes at s into at most MR_CMP_MAX_CP code points, half-width and ASCII lower-cased. */
static size_t mr_cmp_decode(const char *s, size_t n, uint32_t *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k = 0;

	while (i < n && k < MR_CMP_MAX_CP) {
		size_t len;
		uint32_t c = mr_cmp_halfwidth(mr_cmp_utf8_next(p + i, n - i, &len));
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c == 0xfc || c == 0xdc) /* u-umlaut, as pinyin input methods type it */
			c = 'v';
		out[k++] = c;
		i += len;
	}
	return k;
}

static uint64_t mr_cmp_hash_add(uint64_t h, const uint32_t *u, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= u[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* A 64-bit hash of n code points, never 0 (0 means "no value"). */
static uint64_t mr_cmp_hash(const uint32_t *u, size_t n)
{
	uint64_t h = mr_cmp_hash_add(0xcbf29ce484222325ull, u, n);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h ? h : 1;
}

static const uint32_t *mr_cmp_keep(struct mr_arena *a, const uint32_t *u, size_t n)
{
	uint32_t *p = mr_arena_alloc(a, n * sizeof(*p));

	memcpy(p, u, n * sizeof(*p));
	return p;
}

/* --- preparation per kind ---------------------------------------------- */

struct mr_cmp_span {
	uint16_t off, len;
};

static int mr_cmp_span_cmp(const uint32_t *u, struct mr_cmp_span x, struct mr_cmp_span y)
{
	size_t n = x.len < y.len ? x.len : y.len;

	for (size_t i = 0; i < n; i++) {
		if (u[x.off + i] != u[y.off + i])
			return u[x.off + i] < u[y.off + i] ? -1 : 1;
	}
	return (int)x.len - (int)y.len;
}

/* The hash of the name's tokens in sorted order, so "Wei Wang" and "Wang Wei" meet. */
static uint64_t mr_cmp_sorted_hash(const uint32_t *u, struct mr_cmp_span *tok, size_t ntok)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 1; i < ntok; i++) {
		struct mr_cmp_span t = tok[i];
		size_t j = i;
		while (j > 0 && mr_cmp_span_cmp(u, tok[j - 1], t) > 0) {
			tok[j] = tok[j - 1];
			j--;
		}
		tok[j] = t;
	}
	for (size_t i = 0; i < ntok; i++)
		h = mr_cmp_hash_add(h, u + tok[i].off, tok[i].len);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h ? h : 1;
}

static void mr_cmp_prep_name(const uint32_t *cp, size_t n, struct mr_arena *a, struct mr_cmp_val *v)
{
	uint32_t out[MR_CMP_MAX_CP];
	struct mr_cmp_span tok[MR_CMP_MAX_TOKENS];
	size_t k = 0, ntok = 0;
	int in_tok = 0;

	for (size_t i = 0; i < n; i++) {
		if (mr_cmp_is_sep(cp[i])) {
			in_tok = 0;
			continue;
		}
		if (!in_tok && ntok < MR_CMP_MAX_TOKENS) {
			tok[ntok].off = (uint16_t)k;
			tok[ntok].len = 0;
			ntok++;
		}
		in_tok = 1;
		tok[ntok - 1].len++;
		out[k++] = cp[i];
	}
	if (!k)
		return;
	v->present = 1;
	v->u = mr_cmp_keep(a, out, k);
	v->n = (uint32_t)k;
	v->hash = mr_cmp_hash(out, k);
	v->alt = v->hash;
	if (ntok > 1 && ntok < MR_CMP_MAX_TOKENS && !mr_cmp_has_cjk(out, k))
		v->alt = mr_cmp_sorted_hash(out, tok, ntok); /* "Wei Wang"; a CJK name keeps its order */
}

static int mr_cmp_u32_cmp(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return (a > b) - (a < b);
}

static uint32_t mr_cmp_token_hash(const uint32_t *u, size_t n)
{
	uint64_t h = mr_cmp_hash(u, n);

	return (uint32_t)(h ^ (h >> 32));
}

/* Tokens of text and address: ASCII words, CJK bigrams (a lone CJK character alone). */
static void mr_cmp_prep_text(const uint32_t *cp, size_t n, struct mr_arena *a, struct mr_cmp_val *v)
{
	uint32_t norm[MR_CMP_MAX_CP], tok[MR_CMP_MAX_CP];
	size_t k = 0, nt = 0, i = 0;

	while (i < n) {
		size_t j = i;
		if (mr_cmp_is_sep(cp[i])) {
			i++;
			continue;
		}
		if (mr_cmp_is_cjk(cp[i])) {
			while (j < n && mr_cmp_is_cjk(cp[j]))
				j++;
			if (j - i == 1)
				tok[nt++] = mr_cmp_token_hash(cp + i, 1);
			for (size_t b = i; b + 1 < j; b++)
				tok[nt++] = mr_cmp_token_hash(cp + b, 2);
		} else {
			while (j < n && !mr_cmp_is_sep(cp[j]) && !mr_cmp_is_cjk(cp[j]))
				j++;
			tok[nt++] = mr_cmp_token_hash(cp + i, j - i);
		}
		memcpy(norm + k, cp + i, (j - i) * sizeof(*cp));
		k += j - i;
		i = j;
	}
	if (!nt)
		return;
	qsort(tok, nt, sizeof(tok[0]), mr_cmp_u32_cmp);
	{
		size_t w = 1;
		for (size_t r = 1; r < nt; r++) {
			if (tok[r] != tok[w - 1])
				tok[w++] = tok[r];
		}
		nt = w;
	}
	v->present = 1;
	v->u = mr_cmp_keep(a, tok, nt);
	v->n = (uint32_t)nt;
	v->hash = mr_cmp_hash(norm, k);
}

static int mr_cmp_is_blank(uint32_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0x3000 || c == 0xa0;
}

/* Exact: the value as written, blanks trimmed at both ends (no folding at all). */
static void mr_cmp_prep_exact(const char *s, size_t n, struct mr_arena *a, struct mr_cmp_val *v)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp[MR_CMP_MAX_CP];
	size_t i = 0, k = 0, lo = 0;

	while (i < n && k < MR_CMP_MAX_CP) {
		size_t len;
		cp[k++] = mr_cmp_utf8_next(p + i, n - i, &len);
		i += len;
	}
	while (lo < k && mr_cmp_is_blank(cp[lo]))
		lo++;
	while (k > lo && mr_cmp_is_blank(cp[k - 1]))
		k--;
	if (k == lo)
		return;
	v->present = 1;
	v->u = mr_cmp_keep(a, cp + lo, k - lo);
	v->n = (uint32_t)(k - lo);
	v->hash = mr_cmp_hash(cp + lo, k - lo);
}

static int mr_cmp_is_dash(uint32_t c)
{
	return c == '-' || c == '_' || (c >= 0x2010 && c <= 0x2015) || c == 0x2212;
}

/* Identifiers: case-folded, half-width, without blanks and dashes. */
static void mr_cmp_prep_id(const uint32_t *cp, size_t n, struct mr_arena *a, struct mr_cmp_val *v)
{
	uint32_t out[MR_CMP_MAX_CP];
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (!mr_cmp_is_blank(cp[i]) && !mr_cmp_is_dash(cp[i]))
			out[k++] = cp[i];
	}
	if (!k)
		return;
	v->present = 1;
	v->u = mr_cmp_keep(a, out, k);
	v->n = (uint32_t)k;
	v->hash = mr_cmp_hash(out, k);
}

/* The digits of a phone number without the +86 / 0086 country prefix; returns the count. */
static size_t mr_cmp_phone_digits(const uint32_t *cp, size_t n, uint32_t *out)
{
	size_t k = 0, skip = 0;

	for (size_t i = 0; i < n; i++) {
		if (cp[i] >= '0' && cp[i] <= '9')
			out[k++] = cp[i] - '0';
	}
	if (k >= 13 && out[0] == 0 && out[1] == 0 && out[2] == 8 && out[3] == 6)
		skip = 4;
	else if (k == 13 && out[0] == 8 && out[1] == 6)
		skip = 2;
	memmove(out, out + skip, (k - skip) * sizeof(*out));
	return k - skip;
}

static void mr_cmp_prep_phone(const uint32_t *cp, size_t n, struct mr_arena *a, struct mr_cmp_val *v)
{
	uint32_t d[MR_CMP_MAX_CP];
	size_t k = mr_cmp_phone_digits(cp, n, d);
	size_t tail = k > 11 ? 11 : k;

	if (k < 6)
		return;
	v->present = 1;
	v->u = mr_cmp_keep(a, d, k);
	v->n = (uint32_t)k;
	v->hash = mr_cmp_hash(d + k - tail, tail);
}

size_t mr_cmp_phone_norm(const char *s, char *out, size_t outsz)
{
	uint32_t cp[MR_CMP_MAX_CP], d[MR_CMP_MAX_CP];
	size_t ncp = mr_cmp_decode(s, strlen(s), cp);
	size_t k = mr_cmp_phone_digits(cp, ncp, d);
	size_t i;

	for (i = 0; i < k && i + 1 < outsz; i++)
		out[i] = (char)('0' + d[i]);
	if (outsz)
		out[i] = '\0';
	return k;
}

/* Reads 1..max digits at s[*i]; -1 when there is none. */
static int mr_cmp_digits(const char *s, size_t n, size_t *i, int max, int *ndig)
{
	int v = 0;

	*ndig = 0;
	while (*i < n && *ndig < max && s[*i] >= '0' && s[*i] <= '9') {
		v = v * 10 + (s[*i] - '0');
		(*i)++;
		(*ndig)++;
	}
	return *ndig ? v : -1;
}

/* Matches the UTF-8 bytes of lit at s[*i] and steps over them. */
static int mr_cmp_lit(const char *s, size_t n, size_t *i, const char *lit)
{
	size_t l = strlen(lit);

	if (n - *i < l || memcmp(s + *i, lit, l) != 0)
		return 0;
	*i += l;
	return 1;
}

static int mr_cmp_date_valid(int y, int m, int d)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (y < 1800 || y > 2200 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	return !(m == 2 && d == 29 && !leap);
}

int mr_cmp_date_parse(const char *s, size_t n, int32_t *ymd)
{
	size_t i = 0;
	int y, m = -1, d = -1, nd;
	int cjk = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	y = mr_cmp_digits(s, n, &i, 8, &nd);
	if (nd == 8) {
		d = y % 100;
		m = y / 100 % 100;
		y /= 10000;
	} else if (nd == 4) {
		char sep = '\0';
		if (i < n)
			sep = s[i];
		if (sep == '-' || sep == '/' || sep == '.')
			i++;
		else if (mr_cmp_lit(s, n, &i, "年"))
			cjk = 1;
		else
			return MR_EINVAL;
		m = mr_cmp_digits(s, n, &i, 2, &nd);
		if (cjk ? !mr_cmp_lit(s, n, &i, "月") : (i >= n || s[i] != sep))
			return MR_EINVAL;
		if (!cjk)
			i++;
		d = mr_cmp_digits(s, n, &i, 2, &nd);
		if (cjk)
			mr_cmp_lit(s, n, &i, "日");
	} else {
		return MR_EINVAL;
	}
	if (i < n && s[i] != ' ' && s[i] != 'T' && s[i] != '\t')
		return MR_EINVAL;
	if (!mr_cmp_date_valid(y, m, d))
		return MR_EINVAL;
	*ymd = y * 10000 + m * 100 + d;
	return 0;
}

int32_t mr_cmp_date_days(int32_t ymd)
{
	int y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;
	int era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void mr_cmp_prep_date(const char *s, size_t n, struct mr_cmp_val *v)
{
	int32_t ymd;

	if (mr_cmp_date_parse(s, n, &ymd) < 0)
		return;
	v->present = 1;
	v->alt = (uint64_t)ymd;
	v->hash = (uint64_t)ymd;
	v->num = mr_cmp_date_days(ymd);
}

/* A number, with blanks and thousands separators ignored. */
static void mr_cmp_prep_number(const char *s, size_t n, struct mr_cmp_val *v)
{
	char buf[64];
	size_t k = 0;
	char *end;
	double x;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == ',' || s[i] == ' ' || s[i] == '\t')
			continue;
		if (k + 1 >= sizeof(buf))
			return;
		buf[k++] = s[i];
	}
	buf[k] = '\0';
	if (!k)
		return;
	x = strtod(buf, &end);
	if (*end != '\0' || !(x > -1e300 && x < 1e300)) /* also NaN and infinities */
		return;
	v->present = 1;
	v->num = x;
	memcpy(&v->hash, &x, sizeof(v->hash));
	v->hash = v->hash ? v->hash : 1;
}

void mr_cmp_prepare(enum mr_cmp_kind kind, const char *s, size_t n, struct mr_arena *a,
		    struct mr_cmp_val *v)
{
	uint32_t cp[MR_CMP_MAX_CP];
	size_t k;

	memset(v, 0, sizeof(*v));
	if (kind == MR_CMP_EXACT) {
		mr_cmp_prep_exact(s, n, a, v);
		return;
	}
	if (kind == MR_CMP_DATE) {
		mr_cmp_prep_date(s, n, v);
		return;
	}
	if (kind == MR_CMP_NUMBER) {
		mr_cmp_prep_number(s, n, v);
		return;
	}
	k = mr_cmp_decode(s, n, cp);
	if (kind == MR_CMP_NAME)
		mr_cmp_prep_name(cp, k, a, v);
	else if (kind == MR_CMP_TEXT || kind == MR_CMP_ADDRESS)
		mr_cmp_prep_text(cp, k, a, v);
	else if (kind == MR_CMP_ID)
		mr_cmp_prep_id(cp, k, a, v);
	else if (kind == MR_CMP_PHONE)
		mr_cmp_prep_phone(cp, k, a, v);
}

/* --- similarity -------------------------------------------------------- */

double mr_cmp_jaro_winkler(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	unsigned char fa[MR_CMP_MAX_CP], fb[MR_CMP_MAX_CP];
	size_t win, m = 0, t = 0, k = 0, l = 0;
	double jaro;

	na = na > MR_CMP_MAX_CP ? MR_CMP_MAX_CP : na;
	nb = nb > MR_CMP_MAX_CP ? MR_CMP_MAX_CP : nb;
	if (!na || !nb)
		return na == nb ? 1.0 : 0.0;
	win = (na > nb ? na : nb) / 2;
	win = win ? win - 1 : 0;
	memset(fa, 0, na);
	memset(fb, 0, nb);
	for (size_t i = 0; i < na; i++) {
		size_t lo = i > win ? i - win : 0, hi = i + win + 1 < nb ? i + win + 1 : nb;
		for (size_t j = lo; j < hi; j++) {
			if (!fb[j] && a[i] == b[j]) {
				fa[i] = fb[j] = 1;
				m++;
				break;
			}
		}
	}
	if (!m)
		return 0.0;
	for (size_t i = 0; i < na; i++) {
		if (!fa[i])
			continue;
		while (!fb[k])
			k++;
		t += a[i] != b[k];
		k++;
	}
	jaro = ((double)m / (double)na + (double)m / (double)nb + ((double)m - (double)t / 2.0) / (double)m) / 3.0;
	if (jaro <= 0.7)
		return jaro;
	while (l < 4 && l < na && l < nb && a[l] == b[l])
		l++;
	return jaro + (double)l * 0.1 * (1.0 - jaro);
}

int mr_cmp_within_one(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	size_t i = 0;

	if (na > nb + 1 || nb > na + 1)
		return 0;
	while (i < na && i < nb && a[i] == b[i])
		i++;
	if (i == na && i == nb)
		return 1;
	if (na > nb)
		return memcmp(a + i + 1, b + i, (na - i - 1) * sizeof(*a)) == 0;
	if (nb > na)
		return memcmp(a + i, b + i + 1, (nb - i - 1) * sizeof(*a)) == 0;
	if (memcmp(a + i + 1, b + i + 1, (na - i - 1) * sizeof(*a)) == 0)
		return 1;
	return i + 1 < na && a[i] == b[i + 1] && a[i + 1] == b[i] &&
	       memcmp(a + i + 2, b + i + 2, (na - i - 2) * sizeof(*a)) == 0;
}

/* Entries two sorted, distinct arrays have in common. */
static size_t mr_cmp_common(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	size_t i = 0, j = 0, c = 0;

	while (i < na && j < nb) {
		if (a[i] == b[j]) {
			c++;
			i++;
			j++;
		} else if (a[i] < b[j]) {
			i++;
		} else {
			j++;
		}
	}
	return c;
}

static int mr_cmp_level_name_kind(const struct mr_cmp_val *a, const struct mr_cmp_val *b)
{
	double jw;

	if (a->hash == b->hash || a->alt == b->alt)
		return 1;
	jw = mr_cmp_jaro_winkler(a->u, a->n, b->u, b->n);
	if (jw >= 0.92 - 1e-9)
		return 2;
	if (jw >= 0.80 - 1e-9)
		return 3;
	if (jw >= 0.60 - 1e-9)
		return 4;
	return 5;
}

static int mr_cmp_level_tokens(enum mr_cmp_kind kind, const struct mr_cmp_val *a,
			       const struct mr_cmp_val *b)
{
	size_t c;
	double s;

	if (a->hash == b->hash)
		return 1;
	c = mr_cmp_common(a->u, a->n, b->u, b->n);
	if (kind == MR_CMP_ADDRESS) {
		s = (double)c / (double)(a->n < b->n ? a->n : b->n);
		return s >= 0.8 - 1e-9 ? 2 : s >= 0.5 - 1e-9 ? 3 : 4;
	}
	s = (double)c / (double)(a->n + b->n - c);
	return s >= 0.7 - 1e-9 ? 2 : s >= 0.4 - 1e-9 ? 3 : 4;
}

static int mr_cmp_level_date(const struct mr_cmp_val *a, const struct mr_cmp_val *b)
{
	int32_t x = (int32_t)a->alt, y = (int32_t)b->alt;
	uint32_t dx[8], dy[8];

	if (x == y)
		return 1;
	if (x / 10000 == y / 10000 && x / 100 % 100 == y % 100 && x % 100 == y / 100 % 100)
		return 2;
	if (mr_cmp_abs(a->num - b->num) <= 31.0)
		return 3;
	for (int i = 7; i >= 0; i--) {
		dx[i] = (uint32_t)(x % 10);
		dy[i] = (uint32_t)(y % 10);
		x /= 10;
		y /= 10;
	}
	return mr_cmp_within_one(dx, 8, dy, 8) ? 4 : 5;
}

static int mr_cmp_level_number(const struct mr_cmp_val *a, const struct mr_cmp_val *b)
{
	double d = mr_cmp_abs(a->num - b->num);
	double s = mr_cmp_abs(a->num) > mr_cmp_abs(b->num) ? mr_cmp_abs(a->num) : mr_cmp_abs(b->num);

	if (d == 0.0)
		return 1;
	if (d <= 0.01 * s)
		return 2;
	return d <= 0.1 * s ? 3 : 4;
}

static int mr_cmp_level_phone(const struct mr_cmp_val *a, const struct mr_cmp_val *b)
{
	size_t ta = a->n > 11 ? 11 : a->n, tb = b->n > 11 ? 11 : b->n;
	const uint32_t *pa = a->u + a->n - ta, *pb = b->u + b->n - tb;

	if (ta == tb && memcmp(pa, pb, ta * sizeof(*pa)) == 0)
		return 1;
	if (a->n >= 8 && b->n >= 8 && memcmp(a->u + a->n - 8, b->u + b->n - 8, 8 * sizeof(*pa)) == 0)
		return 2;
	return mr_cmp_within_one(pa, ta, pb, tb) ? 3 : 4;
}

int mr_cmp_level(enum mr_cmp_kind kind, const struct mr_cmp_val *a, const struct mr_cmp_val *b)
{
	if (!a->present || !b->present)
		return 0;
	switch (kind) {
	case MR_CMP_NAME:
		return mr_cmp_level_name_kind(a, b);
	case MR_CMP_TEXT:
	case MR_CMP_ADDRESS:
		return mr_cmp_level_tokens(kind, a, b);
	case MR_CMP_EXACT:
		return a->n == b->n && memcmp(a->u, b->u, a->n * sizeof(*a->u)) == 0 ? 1 : 2;
	case MR_CMP_ID:
		if (a->hash == b->hash)
			return 1;
		return mr_cmp_within_one(a->u, a->n, b->u, b->n) ? 2 : 3;
	case MR_CMP_DATE:
		return mr_cmp_level_date(a, b);
	case MR_CMP_NUMBER:
		return mr_cmp_level_number(a, b);
	case MR_CMP_PHONE:
		return mr_cmp_level_phone(a, b);
	default:
		return 0;
	}
}

int mr_cmp_strings(enum mr_cmp_kind kind, const char *a, const char *b)
{
	struct mr_arena ar;
	struct mr_cmp_val va, vb;
	int level;

	mr_arena_init(&ar);
	mr_cmp_prepare(kind, a ? a : "", a ? strlen(a) : 0, &ar, &va);
	mr_cmp_prepare(kind, b ? b : "", b ? strlen(b) : 0, &ar, &vb);
	level = mr_cmp_level(kind, &va, &vb);
	mr_arena_release(&ar);
	return level;
}
