/*
 * Field comparators of the identity-resolution engine: each maps two values
 * of one kind of field (a name, a phone number, a date ...) to an agreement
 * level, a small integer from a fixed table per kind. Level 0 always means
 * "missing on either side" and carries no evidence; level 1 is the closest
 * agreement and the highest level is "different". The Fellegi-Sunter model
 * (fs.h) learns how likely each level is among matches and non-matches, so
 * a comparator only has to sort pairs into levels, never to weigh them.
 *
 * Values are prepared once per record (mr_cmp_prepare): normalised, decoded
 * to code points or digits, tokenised, parsed, hashed. Comparing two
 * prepared values (mr_cmp_level) then allocates nothing and is cheap enough
 * to run on millions of candidate pairs.
 *
 * The kinds and their levels (after level 0 = missing):
 *   name     exact (Latin script also with words reordered: "Wei Wang" =
 *            "wangwei"),
 *            Jaro-Winkler over code points >= 0.92 close, >= 0.80 similar,
 *            >= 0.60 far, different. Normalised: full-width to half-width,
 *            ASCII lower case, spaces and punctuation removed, u-umlaut to v.
 *   text     exact, token Jaccard >= 0.7 close, >= 0.4 similar, different.
 *   address  exact, token overlap (|A&B| / min(|A|,|B|)) >= 0.8 contains,
 *            >= 0.5 similar, different. Tokens of text and address: ASCII
 *            words, and character bigrams of CJK runs (a lone CJK character
 *            is a token of its own).
 *   exact    equal (after trimming blanks), different.
 *   id       equal after normalising (case, blanks, dashes, full-width),
 *            one edit or adjacent transposition, different.
 *   date     exact, day and month swapped, within 31 days, one digit off in
 *            YYYYMMDD, different. Parses YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD
 *            (one-digit month and day allowed), YYYYMMDD and YYYY年M月D日;
 *            a trailing time is ignored; an unparseable date is missing.
 *   number   equal, within 1 %, within 10 %, different.
 *   phone    last 11 digits equal, last 8 equal, one edit or transposition
 *            in the last 11, different. Digits only; +86 / 0086 dropped;
 *            fewer than 6 digits is missing.
 */
#ifndef MR_IDENTITY_COMPARE_H
#define MR_IDENTITY_COMPARE_H

#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"

enum mr_cmp_kind {
	MR_CMP_NAME,
	MR_CMP_TEXT,
	MR_CMP_EXACT,
	MR_CMP_ID,
	MR_CMP_DATE,
	MR_CMP_NUMBER,
	MR_CMP_PHONE,
	MR_CMP_ADDRESS,
	MR_CMP_NKINDS
};

enum {
	MR_CMP_MAX_LEVELS = 6, /* levels of any kind, 0 = missing included */
	MR_CMP_MAX_CP = 256,   /* code points kept of one value; the rest is ignored */
};

/*
 * One prepared value. u holds, by kind: code points of the normalised value
 * (name, exact, id), digits 0-9 (phone), sorted distinct token hashes (text,
 * address), nothing (date, number). The array belongs to the arena given to
 * mr_cmp_prepare.
 */
struct mr_cmp_val {
	const uint32_t *u;
	uint64_t hash;    /* hash of the normalised value (phone: of its last 11 digits) */
	uint64_t alt;     /* name: hash with words in sorted order (Latin script; else hash); date: YYYYMMDD */
	double num;       /* number: the value; date: days since 1970-01-01 */
	uint32_t n;       /* entries in u */
	uint32_t present; /* 0 when the value is missing (empty or unparseable) */
};

/* Parses a kind name ("name", "text", ...); -1 when unknown. */
int mr_cmp_kind_parse(const char *s);
/* The name of a kind. */
const char *mr_cmp_kind_name(enum mr_cmp_kind kind);
/* How many levels kind has, level 0 (missing) included. */
int mr_cmp_nlevels(enum mr_cmp_kind kind);
/* A short name of a level of kind ("missing", "exact", "close", ...). */
const char *mr_cmp_level_name(enum mr_cmp_kind kind, int level);

/* Prepares n bytes of UTF-8 at s (invalid bytes count as U+FFFD) as a value of kind; arrays come from a. */
void mr_cmp_prepare(enum mr_cmp_kind kind, const char *s, size_t n, struct mr_arena *a,
		    struct mr_cmp_val *v);
/* The agreement level of two prepared values of kind: 0 when either is missing. */
int mr_cmp_level(enum mr_cmp_kind kind, const struct mr_cmp_val *a, const struct mr_cmp_val *b);
/* The level of two NUL-terminated strings, prepared on the fly (for one-off comparisons). */
int mr_cmp_strings(enum mr_cmp_kind kind, const char *a, const char *b);

/* Jaro-Winkler similarity in [0, 1] of two code-point arrays (prefix scale 0.1, boost above 0.7). */
double mr_cmp_jaro_winkler(const uint32_t *a, size_t na, const uint32_t *b, size_t nb);
/* 1 when a and b are equal or one insertion, deletion, substitution or adjacent swap apart. */
int mr_cmp_within_one(const uint32_t *a, size_t na, const uint32_t *b, size_t nb);
/* Writes the normalised digits of a phone number (NUL-terminated) into out; returns their count. */
size_t mr_cmp_phone_norm(const char *s, char *out, size_t outsz);
/* Parses a date in one of the accepted forms into *ymd (YYYYMMDD); 0 or MR_EINVAL. */
int mr_cmp_date_parse(const char *s, size_t n, int32_t *ymd);
/* Days since 1970-01-01 of a valid YYYYMMDD. */
int32_t mr_cmp_date_days(int32_t ymd);

#endif
