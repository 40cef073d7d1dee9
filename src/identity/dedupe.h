/*
 * Identity resolution as one call: given a table of records (columns of
 * strings) and the columns to compare with their kinds, find which records
 * are the same entity. The pipeline: prepare every compared value once
 * (compare.h), generate candidate pairs by blocking (block.h), compare
 * them into patterns on up to `threads` threads, fit the Fellegi-Sunter
 * model by EM (fs.h) or use a given one, merge pairs at or above the upper threshold with union-find
 * (cluster.h) and keep the pairs between the thresholds as a review queue.
 *
 * `medreach dedupe` runs this over a CSV file; the server can run it over
 * HCP master data, or score single pairs against a saved model with
 * mr_fs_score_values.
 */
#ifndef MR_IDENTITY_DEDUPE_H
#define MR_IDENTITY_DEDUPE_H

#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "identity/block.h"
#include "identity/cluster.h"
#include "identity/compare.h"
#include "identity/fs.h"

/*
 * Merging A~B and B~C puts A and C together even when A and C are clearly
 * different people (a record with few fields bridging two namesakes). So
 * matched pairs are merged strongest first, and a merge is refused (the
 * pair goes to review instead) when any pair across the two clusters has a
 * match probability below this.
 */
#define MR_DEDUPE_CONFLICT 0.01

/* Records as rows of string cells; the table owns copies of everything added. */
struct mr_dedupe_table {
	int ncols;
	char **names;
	size_t nrows, cap;
	const char **cells; /* row-major, cells[row * ncols + col]; "" when missing, never NULL */
	struct mr_arena arena;
};

/* An empty table with ncols named columns. */
void mr_dedupe_table_init(struct mr_dedupe_table *t, int ncols, const char *const *names);
/* Frees the table and everything in it. */
void mr_dedupe_table_release(struct mr_dedupe_table *t);
/* Appends a row of ncols cells (NULL = missing); lens may be NULL (NUL-terminated cells). */
void mr_dedupe_table_add(struct mr_dedupe_table *t, const char *const *cells, const size_t *lens);
/* The index of the column called name, or -1. */
int mr_dedupe_table_column(const struct mr_dedupe_table *t, const char *name);
/* The cell at row, col. */
const char *mr_dedupe_cell(const struct mr_dedupe_table *t, size_t row, int col);

struct mr_dedupe_field {
	int column; /* in the table */
	enum mr_cmp_kind kind;
};

struct mr_dedupe_opts {
	int nfields; /* 1 .. MR_FS_MAX_FIELDS */
	struct mr_dedupe_field field[MR_FS_MAX_FIELDS];
	double upper, lower;   /* match-probability thresholds; 0 = the model's (MR_FS_UPPER, MR_FS_LOWER); lower <= upper */
	double conflict;       /* refuse a merge across a pair below this probability; MR_DEDUPE_CONFLICT when 0, < 0: never */
	int threads;           /* for preparing and comparing; 2 when 0 */
	struct mr_block_opts block;
	struct mr_fs_em_opts em;
	const struct mr_fs_model *model; /* when set: score with it, no training (its fields must match) */
	/* Called now and then from the calling thread: phase "prepare", "block", "compare", "em". */
	void (*progress)(void *arg, const char *phase, uint64_t done, uint64_t total);
	void *progress_arg;
};

/* A pair for a person to review. */
struct mr_dedupe_pair {
	uint32_t a, b; /* record indices, a < b */
	uint64_t code; /* the comparison vector (fs.h), for mr_fs_score_code */
	double weight, prob;
};

struct mr_dedupe_stats {
	size_t rows;
	uint64_t candidates;   /* distinct pairs compared */
	uint64_t patterns;     /* distinct comparison vectors among them */
	uint64_t matches;      /* pairs at or above upper, merged */
	uint64_t refused;      /* pairs at or above upper not merged: the clusters held a clear non-match */
	uint64_t reviews;      /* pairs between the thresholds whose records stayed apart */
	size_t clusters;       /* entities found (singletons included) */
	size_t multi_clusters; /* of those, with two or more records */
	double ms_prepare, ms_block, ms_compare, ms_em, ms_cluster;
};

struct mr_dedupe_result {
	struct mr_fs_model model;   /* trained (or the given one), with the thresholds used */
	struct mr_block block;      /* the passes and their counts (pairs freed) */
	struct mr_dedupe_stats stats;
	uint32_t *cluster;          /* per row: the smallest row index of its cluster */
	struct mr_dedupe_pair *review; /* most probable first */
	size_t nreview;
};

/* Runs the pipeline over t; fills r (release with mr_dedupe_result_release even on error). */
int mr_dedupe_run(const struct mr_dedupe_table *t, const struct mr_dedupe_opts *o,
		  struct mr_dedupe_result *r, struct mr_err *err);
/* Frees what r holds. */
void mr_dedupe_result_release(struct mr_dedupe_result *r);

/*
 * What a legacy CRM does, as a baseline: records are one entity when they
 * are equal on the normalised value (per its kind) of any of the fields,
 * transitively. Writes cluster labels like mr_dedupe_run; returns the
 * number of clusters.
 */
size_t mr_dedupe_baseline_exact(const struct mr_dedupe_table *t, const struct mr_dedupe_field *fields,
				int nfields, uint32_t *cluster);

/* Labels rows by a column's value: the first row index holding it; every empty cell is its own label. */
void mr_dedupe_labels(const struct mr_dedupe_table *t, int col, uint32_t *out);

#endif
