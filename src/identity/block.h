/*
 * Blocking: which pairs of records are worth comparing at all. Comparing
 * every pair of 100,000 records is 5 billion comparisons; blocking gives
 * each record a few keys per pass (the last 8 digits of its phone, its
 * licence number, its name, its birth date with its surname ...) and
 * compares only records that share a key in some pass. Each pass forgives
 * a different kind of noise, so a duplicate is missed only when every key
 * of it is broken at once.
 *
 * Keys must be selective. A pass whose blocks grow with the file (a birth
 * date alone: 7 records a day at 100k, 70 at 1M) costs pairs that grow
 * with n^2 and, worse, fills the candidates with pairs that agree on that
 * field by construction, which weakens what EM learns from it. On the 100k
 * bench, going from loose passes (birth date alone, first and last
 * character of a name, sorted characters, one-deletion keys on names) to
 * the ones below cut the candidates from 1.37M to 0.33M and raised F1 from
 * 0.982 to 0.987. So a date blocks only together with the surname (the
 * first character of the first name field), names block on their exact
 * normalised value (pinyin is dense: wangwei and wangwen are different
 * people, so typo keys on names paired half the file), and ids and phones
 * forgive an adjacent transposition through swap keys.
 *
 * A block (records sharing one key) of at most cap records yields all its
 * pairs. A bigger one (a common name, a placeholder phone number) is sorted
 * by the records' other fields and each record meets only its window - 1
 * successors (sorted neighbourhood), so the pairs stay linear in the number
 * of records whatever the data. Pairs found by several passes are kept
 * once; a pass's new_pairs counts those no earlier pass found.
 */
#ifndef MR_IDENTITY_BLOCK_H
#define MR_IDENTITY_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "identity/compare.h"

enum mr_block_key {
	MR_BLOCK_VALUE, /* the normalised value (name: tokens in sorted order; phone: last 11 digits) */
	MR_BLOCK_TYPO,  /* swap keys: per adjacent pair of differing characters, the value with the
			   pair sorted; for ids of 4 to MR_BLOCK_MAX_KEYS - 1 characters and the last
			   11 digits of a phone */
	MR_BLOCK_LAST8, /* phone: the last 8 digits */
	MR_BLOCK_DATE,  /* date: year with day and month as an unordered pair (forgives a swap), with field2's first character */
};

enum {
	MR_BLOCK_MAX_PASSES = 48,
	MR_BLOCK_MAX_KEYS = 32, /* keys of one value in one pass */
	MR_BLOCK_CAP = 30,
	MR_BLOCK_WINDOW = 10,
};

struct mr_block_pass {
	int field;             /* index of the compared field */
	int field2;            /* MR_BLOCK_DATE: the name field whose first character joins the key, or -1 */
	enum mr_block_key key;
	char name[80];         /* "<column>:<key>", for reports */
	uint64_t keyed;        /* records with a key in this pass */
	uint64_t blocks;       /* keys shared by two or more records */
	uint64_t windowed;     /* blocks over the cap, paired by windows */
	uint64_t pairs;        /* pairs this pass generated */
	uint64_t new_pairs;    /* of those, pairs no earlier pass generated */
};

struct mr_block_opts {
	size_t cap;    /* largest block paired in full; MR_BLOCK_CAP when 0 */
	size_t window; /* window of sorted neighbourhood in bigger blocks; MR_BLOCK_WINDOW when 0 */
};

struct mr_block {
	int npasses;
	struct mr_block_pass pass[MR_BLOCK_MAX_PASSES];
	uint64_t *pairs; /* (i << 32) | j with i < j, distinct, ascending */
	size_t npairs;
};

/*
 * Chooses the passes for fields of the given kinds: name gives value, id
 * value and typo, phone last8 and typo, date date (with the first name
 * field when there is one). Other kinds give a value pass only when no
 * field of those four kinds exists.
 */
void mr_block_plan(struct mr_block *b, int nfields, const enum mr_cmp_kind *kinds,
		   const char *const *columns);
/*
 * Writes the keys of one record in pass p to out (MR_BLOCK_MAX_KEYS at
 * most; row holds the record's prepared values, one per field); returns
 * how many. A missing value gives none.
 */
size_t mr_block_keys_of(const struct mr_block_pass *p, const enum mr_cmp_kind *kinds,
			const struct mr_cmp_val *row, uint64_t *out);
/*
 * Runs the planned passes over nrows records (vals[row * nfields + field])
 * and fills b->pairs; nrows must be below 2^32.
 */
void mr_block_run(struct mr_block *b, const struct mr_cmp_val *vals, size_t nrows, int nfields,
		  const enum mr_cmp_kind *kinds, const struct mr_block_opts *o);
/* Frees the pairs; the plan and counts stay readable. */
void mr_block_release(struct mr_block *b);

/* Sorts n 64-bit keys ascending, carrying vals along when not NULL (LSD radix, stable). */
void mr_block_sort(uint64_t *keys, uint32_t *vals, size_t n);

#endif
