/*
 * The Fellegi-Sunter model of record linkage. A pair of records is compared
 * field by field (compare.h), giving a comparison vector of agreement
 * levels. Under the model each level has a probability m among pairs that
 * are the same entity and u among pairs that are not, fields independent
 * given the class; a pair's match weight is the sum over fields of
 * log2(m / u) (level 0, missing, adds nothing), and with the prior lambda
 * (the share of matches among the pairs compared) its match probability is
 * lambda 2^W / (lambda 2^W + 1 - lambda).
 *
 * m, u and lambda are estimated from the data itself with EM. Identical
 * comparison vectors (patterns) are grouped with their counts first, so an
 * iteration costs the number of distinct patterns (thousands), not the
 * number of pairs (millions). EM starts with m at "agreement is likely"
 * (0.9 on the closest level), lambda at a guess, and u at the level
 * frequencies of the candidate pairs themselves, which are nearly all
 * non-matches. u is not started from random pairs, as is often done:
 * blocking makes candidate pairs agree on the blocked fields far more than
 * random pairs do, and from random-pair u the EM on 100k doctors converged
 * to "pairs with the same name" as its match class (F1 0.01 instead of
 * 0.99). The u that EM ends with is the u among candidate pairs, which is
 * the population the posterior is about.
 *
 * Two probability thresholds sort pairs: at or above upper the records are
 * merged automatically, at or above lower they go to a person's review
 * queue, below they are different entities. The defaults (MR_FS_UPPER,
 * MR_FS_LOWER) were chosen on bench/gen-people.mjs data: see bench/dedupe.md.
 *
 * A model is plain data (no pointers); it is saved and loaded as JSON, so a
 * server can keep a trained model and score single pairs with an
 * explanation per field.
 */
#ifndef MR_IDENTITY_FS_H
#define MR_IDENTITY_FS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "identity/compare.h"

enum { MR_FS_MAX_FIELDS = 16, MR_FS_COLUMN_MAX = 64 };

#define MR_FS_UPPER 0.9
#define MR_FS_LOWER 0.3

struct mr_fs_field {
	char column[MR_FS_COLUMN_MAX];
	enum mr_cmp_kind kind;
	int nlevels;                  /* mr_cmp_nlevels(kind), level 0 included */
	double m[MR_CMP_MAX_LEVELS];  /* P(level | match) for levels >= 1; m[0] is 0 */
	double u[MR_CMP_MAX_LEVELS];  /* P(level | non-match) for levels >= 1 */
};

struct mr_fs_model {
	int nfields;
	struct mr_fs_field f[MR_FS_MAX_FIELDS];
	double lambda;  /* P(match) among the compared pairs */
	double upper;   /* match probability from which pairs merge */
	double lower;   /* match probability from which pairs are reviewed */
	int iterations; /* EM iterations run */
	int converged;  /* 1 when EM stopped before its cap */
};

enum mr_fs_decision { MR_FS_NEW, MR_FS_REVIEW, MR_FS_MATCH };

/* A pair's comparison vector, packed 4 bits per field: field f is bits 4f..4f+3. */
static inline int mr_fs_level_of(uint64_t code, int f)
{
	return (int)((code >> (4 * f)) & 15u);
}

static inline uint64_t mr_fs_code_with(uint64_t code, int f, int level)
{
	return code | ((uint64_t)level << (4 * f));
}

/* Distinct comparison vectors with their counts. */
struct mr_fs_patterns {
	uint64_t *code;
	double *count;
	size_t n, cap;
	uint32_t *slot; /* open addressing: index + 1, 0 empty */
	size_t nslot;
};

/* Prepares an empty pattern table; allocates nothing. */
void mr_fs_patterns_init(struct mr_fs_patterns *p);
/* Frees the table. */
void mr_fs_patterns_release(struct mr_fs_patterns *p);
/* Adds count to the pattern code (inserting it); returns the pattern's index. */
uint32_t mr_fs_patterns_add(struct mr_fs_patterns *p, uint64_t code, double count);

/* A model for the given fields with neutral starting values (m favours agreement, u uniform). */
void mr_fs_init(struct mr_fs_model *m, int nfields, const char *const *columns,
		const enum mr_cmp_kind *kinds);
/* Sets u to the level frequencies of the patterns (taken as non-matches), with add-one smoothing. */
void mr_fs_set_u(struct mr_fs_model *m, const struct mr_fs_patterns *p);

struct mr_fs_em_opts {
	int max_iter;   /* 50 when 0 */
	double tol;     /* largest change of any m, u or lambda that counts as converged; 1e-5 when 0 */
	double lambda0; /* starting prior; 0.01 when 0 */
	int fix_u;      /* 1: keep u as set (mr_fs_set_u), estimate m and lambda only */
};

/* Runs EM over the patterns of the candidate pairs, updating m, u, lambda; returns iterations run. */
int mr_fs_train(struct mr_fs_model *m, const struct mr_fs_patterns *p, const struct mr_fs_em_opts *o);

/* The match weight (bits) of a comparison vector. */
double mr_fs_weight(const struct mr_fs_model *m, uint64_t code);
/* The match probability of a weight under the model's prior. */
double mr_fs_prob(const struct mr_fs_model *m, double weight);
/* The weight at which the match probability is prob (0 < prob < 1). */
double mr_fs_weight_at(const struct mr_fs_model *m, double prob);
/* The decision for a match probability under the model's thresholds. */
enum mr_fs_decision mr_fs_decide(const struct mr_fs_model *m, double prob);
/* "new", "review" or "match". */
const char *mr_fs_decision_name(enum mr_fs_decision d);

/* One field's part in a pair's score. */
struct mr_fs_term {
	int level;     /* agreement level (compare.h), 0 = missing */
	double weight; /* log2(m / u) of that level, 0 when missing */
};

struct mr_fs_score {
	double weight;
	double prob;
	enum mr_fs_decision decision;
	int nfields;
	struct mr_fs_term term[MR_FS_MAX_FIELDS];
};

/* Scores a comparison vector with the weight of every field, for showing side by side. */
void mr_fs_score_code(const struct mr_fs_model *m, uint64_t code, struct mr_fs_score *out);
/* Compares two records given as one value per model field (NULL = missing) and scores them. */
void mr_fs_score_values(const struct mr_fs_model *m, const char *const *a, const char *const *b,
			struct mr_fs_score *out);

/* The model as a JSON object (a new reference). */
json_t *mr_fs_to_json(const struct mr_fs_model *m);
/* Reads a model written by mr_fs_to_json; MR_EINVAL naming the field when it is not one. */
int mr_fs_from_json(json_t *j, struct mr_fs_model *m, struct mr_err *err);

#endif
