/*
 * A CSV log of logged decisions, read into what off-policy evaluation needs
 * (ope.h): per row the action taken, the reward and (optionally) the
 * logging policy's propensity, and a design matrix of features.
 *
 * The features come from columns named in a spec like "age,specialty,tag_*"
 * (a trailing * takes every column starting with what precedes it, except
 * the action, reward and propensity columns). After the whole file is read,
 * a column whose every non-empty cell is a number is numeric: standardised
 * to mean 0 and sd 1, an empty cell taking the mean (so 0). Any other column
 * is categorical: one 0/1 indicator per distinct value, with empty cells as
 * a level of their own, "(empty)"; at most max_levels levels, so an id column
 * named by mistake is an error, not a million features.
 *
 * Every problem is an error that says where: a missing column (naming the
 * columns the file has), a bad record of the CSV reader, a row with the
 * wrong number of fields, a missing or non-numeric reward, a missing,
 * non-numeric or out-of-(0, 1] propensity, each with its line and column; an
 * empty log; a log of a single action.
 */
#ifndef MR_ENGINE_NBA_LOGCSV_H
#define MR_ENGINE_NBA_LOGCSV_H

#include <stddef.h>
#include <stdint.h>

#include "base/csv.h"
#include "base/err.h"

enum {
	MR_LOGCSV_MAX_LEVELS = 1000,  /* distinct values of a categorical column, by default */
	MR_LOGCSV_MAX_COLUMNS = 256,  /* feature columns */
	MR_LOGCSV_MAX_ACTIONS = 1000,
};
/* Design-matrix cells (rows × features) at most: 2 GiB of doubles. */
#define MR_LOGCSV_MAX_CELLS ((size_t)1 << 28)

struct mr_logcsv_spec {
	const char *action;      /* column names; required */
	const char *reward;
	const char *propensity;  /* NULL: no propensity column (replay) */
	const char *features;    /* comma-separated names and prefix* globs; may be "" */
	int max_levels;          /* 0: MR_LOGCSV_MAX_LEVELS */
	/* Called every few thousand rows with the bytes read and the rows so far; may be NULL. */
	void (*progress)(void *arg, uint64_t offset, size_t rows);
	void *progress_arg;
};

/* One source column of the features and how it was encoded. */
struct mr_logcsv_col {
	char *name;
	int numeric;       /* 1: standardised number; 0: one-hot levels */
	int first, nout;   /* its features are first .. first + nout − 1 */
	double mean, sd;   /* numeric: of the non-empty cells */
	size_t empty;      /* empty cells */
};

struct mr_logcsv {
	size_t n;              /* rows (the header not counted) */
	int nactions;
	char **actions;        /* the distinct actions, sorted (strcmp) */
	int *action;           /* n indices into actions */
	double *reward;        /* n */
	double *prop;          /* n, or NULL when the spec named no propensity column */
	int nfeat;
	double *x;             /* n × nfeat, row-major */
	char **feat_names;     /* "age", "specialty=cardiology", "specialty=(empty)" */
	int ncols;
	struct mr_logcsv_col *cols;
};

/*
 * Reads the whole CSV (header first) into log, which the caller releases
 * with mr_logcsv_release whatever the result. MR_EINVAL with err's line,
 * column and field set where they apply; MR_EIO when the input cannot be
 * read.
 */
int mr_logcsv_read(struct mr_logcsv *log, struct mr_csv *csv, const struct mr_logcsv_spec *spec,
		   struct mr_err *err);
/* Frees everything log holds. */
void mr_logcsv_release(struct mr_logcsv *log);

/* Parses all of s (surrounding blanks allowed) as a finite number; -1 when it is not one. */
int mr_logcsv_number(const char *s, double *out);

#endif
