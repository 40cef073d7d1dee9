/*
 * Reading a decision log from CSV (see logcsv.h). One pass over the file
 * keeps, per feature column, each cell's code in a string dictionary and its
 * value when it is a number; only at the end, with every cell seen, is a
 * column known to be numeric or categorical, and the design matrix built.
 */
#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "engine/dict.h"
#include "engine/nba/linmodel.h"
#include "engine/nba/logcsv.h"

#define MR_LOGCSV_EMPTY "(empty)"

/* One feature column while the file is read. */
struct mr_logcsv_raw {
	int src;            /* its index in the header */
	struct mr_dict *dict;
	uint32_t *code;     /* per row; 0 for an empty cell */
	double *num;        /* per row; NaN when empty or not a number */
	int numeric;        /* every non-empty cell so far was a number */
};

struct mr_logcsv_reader {
	const struct mr_logcsv_spec *spec;
	int nheader;
	char **header;
	int col_action, col_reward, col_prop;
	int nraw;
	struct mr_logcsv_raw *raw;
	struct mr_dict *actions;
	uint32_t *acode;
	size_t cap;
};

int mr_logcsv_number(const char *s, double *out)
{
	char *end;
	double v;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0' || isalpha((unsigned char)*s))
		return -1;
	v = strtod(s, &end);
	while (*end == ' ' || *end == '\t')
		end++;
	if (end == s || *end != '\0' || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* --- the header ---------------------------------------------------------- */

/* "a, b, c" of the header's names, cut short (with ", ...") to fit n bytes. */
static void mr_logcsv_have(const struct mr_logcsv_reader *r, char *out, size_t n)
{
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; i < r->nheader; i++) {
		size_t need = strlen(r->header[i]) + 2;
		if (used + need + 6 >= n) {
			snprintf(out + used, n - used, "%s...", i ? ", " : "");
			return;
		}
		used += (size_t)snprintf(out + used, n - used, "%s%s", i ? ", " : "", r->header[i]);
	}
}

static int mr_logcsv_find(const struct mr_logcsv_reader *r, const char *name)
{
	for (int i = 0; i < r->nheader; i++) {
		if (strcmp(r->header[i], name) == 0)
			return i;
	}
	return -1;
}

static int mr_logcsv_missing(const struct mr_logcsv_reader *r, const char *what, const char *name,
			     struct mr_err *err)
{
	char have[200];

	mr_logcsv_have(r, have, sizeof(have));
	return mr_err_field(err, MR_EINVAL, name, "no %s column '%s' in the header (it has: %s)", what, name,
			    have);
}

/* The header index of the column named name (required unless name is NULL: then -1). */
static int mr_logcsv_role(const struct mr_logcsv_reader *r, const char *what, const char *name, int *col,
			  struct mr_err *err)
{
	*col = -1;
	if (!name)
		return 0;
	*col = mr_logcsv_find(r, name);
	return *col < 0 ? mr_logcsv_missing(r, what, name, err) : 0;
}

static int mr_logcsv_is_role(const struct mr_logcsv_reader *r, int col)
{
	return col == r->col_action || col == r->col_reward || col == r->col_prop;
}

/* Adds header column col to the features unless it is there already. */
static int mr_logcsv_add_feature(struct mr_logcsv_reader *r, int col, struct mr_err *err)
{
	for (int k = 0; k < r->nraw; k++) {
		if (r->raw[k].src == col)
			return 0;
	}
	if (r->nraw == MR_LOGCSV_MAX_COLUMNS)
		return mr_err_set(err, MR_EINVAL, "--features: at most %d columns", MR_LOGCSV_MAX_COLUMNS);
	r->raw[r->nraw].src = col;
	r->raw[r->nraw].numeric = 1;
	r->raw[r->nraw].dict = mr_dict_new();
	r->nraw++;
	return 0;
}

/* Adds the columns that item names: one column, or every one starting with the prefix of "prefix*". */
static int mr_logcsv_feature_item(struct mr_logcsv_reader *r, const char *item, struct mr_err *err)
{
	size_t len = strlen(item);
	int col, matched = 0, rc = 0;

	if (len > 0 && item[len - 1] == '*') {
		for (int i = 0; rc == 0 && i < r->nheader; i++) {
			if (strncmp(r->header[i], item, len - 1) != 0 || mr_logcsv_is_role(r, i))
				continue;
			matched++;
			rc = mr_logcsv_add_feature(r, i, err);
		}
		if (rc == 0 && matched == 0)
			return mr_logcsv_missing(r, "feature", item, err);
		return rc;
	}
	col = mr_logcsv_find(r, item);
	if (col < 0)
		return mr_logcsv_missing(r, "feature", item, err);
	if (mr_logcsv_is_role(r, col))
		return mr_err_field(err, MR_EINVAL, item, "--features: '%s' is the action, reward or propensity "
				    "column, which cannot be a feature", item);
	return mr_logcsv_add_feature(r, col, err);
}

/* Trims blanks around s in place. */
static char *mr_logcsv_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

static int mr_logcsv_features(struct mr_logcsv_reader *r, struct mr_err *err)
{
	char *copy = mr_strdup(r->spec->features ? r->spec->features : "");
	char *item = copy;
	int rc = 0;

	r->raw = mr_calloc(MR_LOGCSV_MAX_COLUMNS, sizeof(*r->raw));
	while (rc == 0 && item) {
		char *next = strchr(item, ',');
		char *name;
		if (next)
			*next++ = '\0';
		name = mr_logcsv_trim(item);
		if (*name)
			rc = mr_logcsv_feature_item(r, name, err);
		item = next;
	}
	free(copy);
	return rc;
}

static int mr_logcsv_header(struct mr_logcsv_reader *r, const struct mr_csv_rec *rec, struct mr_err *err)
{
	const struct mr_logcsv_spec *s = r->spec;
	int rc;

	r->nheader = rec->nfields;
	r->header = mr_calloc((size_t)rec->nfields, sizeof(*r->header));
	for (int i = 0; i < rec->nfields; i++)
		r->header[i] = mr_strdup(rec->fields[i]);
	rc = mr_logcsv_role(r, "action", s->action, &r->col_action, err);
	if (rc == 0)
		rc = mr_logcsv_role(r, "reward", s->reward, &r->col_reward, err);
	if (rc == 0)
		rc = mr_logcsv_role(r, "propensity", s->propensity, &r->col_prop, err);
	if (rc == 0)
		rc = mr_logcsv_features(r, err);
	if (rc < 0)
		err->line = rec->line;
	return rc;
}

/* --- rows ---------------------------------------------------------------- */

static void mr_logcsv_grow(struct mr_logcsv_reader *r, struct mr_logcsv *log)
{
	if (log->n < r->cap)
		return;
	r->cap = r->cap ? r->cap * 2 : 1024;
	r->acode = mr_realloc(r->acode, r->cap * sizeof(*r->acode));
	log->reward = mr_realloc(log->reward, r->cap * sizeof(*log->reward));
	if (r->col_prop >= 0)
		log->prop = mr_realloc(log->prop, r->cap * sizeof(*log->prop));
	for (int k = 0; k < r->nraw; k++) {
		r->raw[k].code = mr_realloc(r->raw[k].code, r->cap * sizeof(*r->raw[k].code));
		r->raw[k].num = mr_realloc(r->raw[k].num, r->cap * sizeof(*r->raw[k].num));
	}
}

/* An error about the cell of column col (0-based) on the record's line. */
static int mr_logcsv_cell_err(const struct mr_logcsv_reader *r, const struct mr_csv_rec *rec, int col,
			      const char *what, struct mr_err *err)
{
	const char *cell = rec->fields[col];
	char shown[48];

	snprintf(shown, sizeof(shown), "%.40s%s", cell, strlen(cell) > 40 ? "..." : "");
	if (*mr_logcsv_trim(shown) == '\0')
		mr_err_field(err, MR_EINVAL, r->header[col], "line %lld, column %d (%s): the %s is missing",
			     (long long)rec->line, col + 1, r->header[col], what);
	else if (strcmp(what, "propensity") == 0)
		mr_err_field(err, MR_EINVAL, r->header[col], "line %lld, column %d (%s): '%s' is not a "
			     "probability in (0, 1] (the logging policy's chance of the logged action)",
			     (long long)rec->line, col + 1, r->header[col], shown);
	else
		mr_err_field(err, MR_EINVAL, r->header[col], "line %lld, column %d (%s): '%s' is not a number",
			     (long long)rec->line, col + 1, r->header[col], shown);
	err->line = rec->line;
	err->column = col + 1;
	return MR_EINVAL;
}

static void mr_logcsv_feature_cell(struct mr_logcsv_raw *raw, size_t row, const char *cell, size_t len)
{
	double v;

	raw->num[row] = NAN;
	raw->code[row] = 0;
	if (len == 0)
		return;
	raw->code[row] = mr_dict_intern(raw->dict, cell, len);
	if (mr_logcsv_number(cell, &v) == 0)
		raw->num[row] = v;
	else
		raw->numeric = 0;
}

static int mr_logcsv_row(struct mr_logcsv_reader *r, struct mr_logcsv *log, const struct mr_csv_rec *rec,
			 struct mr_err *err)
{
	size_t i = log->n;
	double v;

	if (rec->nfields != r->nheader) {
		err->line = rec->line;
		return mr_err_set(err, MR_EINVAL, "line %lld: %d fields where the header has %d",
				  (long long)rec->line, rec->nfields, r->nheader);
	}
	mr_logcsv_grow(r, log);
	if (*mr_logcsv_trim(rec->fields[r->col_action]) == '\0')
		return mr_logcsv_cell_err(r, rec, r->col_action, "action", err);
	if (mr_logcsv_number(rec->fields[r->col_reward], &log->reward[i]) < 0)
		return mr_logcsv_cell_err(r, rec, r->col_reward, "reward", err);
	if (r->col_prop >= 0) {
		if (mr_logcsv_number(rec->fields[r->col_prop], &v) < 0 || !(v > 0 && v <= 1))
			return mr_logcsv_cell_err(r, rec, r->col_prop, "propensity", err);
		log->prop[i] = v;
	}
	r->acode[i] = mr_dict_add(r->actions, rec->fields[r->col_action]);
	if (mr_dict_size(r->actions) > MR_LOGCSV_MAX_ACTIONS) {
		err->line = rec->line;
		return mr_err_set(err, MR_EINVAL, "line %lld: more than %d distinct actions",
				  (long long)rec->line, MR_LOGCSV_MAX_ACTIONS);
	}
	for (int k = 0; k < r->nraw; k++)
		mr_logcsv_feature_cell(&r->raw[k], i, rec->fields[r->raw[k].src], rec->lens[r->raw[k].src]);
	log->n++;
	return 0;
}

/* Reads the header and every row; the first bad record ends the read. */
static int mr_logcsv_scan(struct mr_logcsv_reader *r, struct mr_logcsv *log, struct mr_csv *csv,
			  struct mr_err *err)
{
	struct mr_csv_rec rec;
	int rc, have_header = 0;

	for (;;) {
		rc = mr_csv_next(csv, &rec, err);
		if (rc <= 0)
			break;
		rc = have_header ? mr_logcsv_row(r, log, &rec, err) : mr_logcsv_header(r, &rec, err);
		if (rc < 0)
			return rc;
		have_header = 1;
		if (r->spec->progress && log->n % 4096 == 0)
			r->spec->progress(r->spec->progress_arg, mr_csv_offset(csv), log->n);
	}
	if (rc == 0 && !have_header)
		return mr_err_set(err, MR_EINVAL, "the log is empty: no header row");
	if (rc == 0 && log->n == 0)
		return mr_err_set(err, MR_EINVAL, "the log has a header but no rows");
	return rc;
}

/* --- actions and features ------------------------------------------------ */

struct mr_logcsv_named {
	const char *name;
	int code;   /* the dictionary code − 1 */
};

static int mr_logcsv_cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct mr_logcsv_named *)a)->name, ((const struct mr_logcsv_named *)b)->name);
}

/* The actions in sorted order, and each row's index into them. */
static int mr_logcsv_actions(struct mr_logcsv_reader *r, struct mr_logcsv *log, struct mr_err *err)
{
	int k = (int)mr_dict_size(r->actions);
	struct mr_logcsv_named *order = mr_calloc((size_t)k, sizeof(*order));
	int *rank = mr_calloc((size_t)k, sizeof(*rank));

	for (int c = 0; c < k; c++) {
		order[c].name = mr_dict_str(r->actions, (uint32_t)c + 1);
		order[c].code = c;
	}
	qsort(order, (size_t)k, sizeof(*order), mr_logcsv_cmp_name);
	log->nactions = k;
	log->actions = mr_calloc((size_t)k, sizeof(*log->actions));
	for (int s = 0; s < k; s++) {
		log->actions[s] = mr_strdup(order[s].name);
		rank[order[s].code] = s;
	}
	assert(log->n > 0 && r->acode);   /* mr_logcsv_scan refuses a log without rows */
	log->action = mr_malloc(log->n * sizeof(*log->action));
	for (size_t i = 0; i < log->n; i++)
		log->action[i] = rank[r->acode[i] - 1];
	free(order);
	free(rank);
	if (k < 2)
		return mr_err_set(err, MR_EINVAL, "every row has the same action ('%s'): a policy can only be "
				  "evaluated on a log of two or more actions", log->actions[0]);
	return 0;
}

/* Decides the column's kind and its number of features; MR_EINVAL past the level cap. */
static int mr_logcsv_plan(const struct mr_logcsv_reader *r, const struct mr_logcsv_raw *raw, size_t n,
			  struct mr_logcsv_col *col, struct mr_err *err)
{
	int max = r->spec->max_levels > 0 ? r->spec->max_levels : MR_LOGCSV_MAX_LEVELS;
	size_t seen = 0;
	double sum = 0, ss = 0;

	col->name = mr_strdup(r->header[raw->src]);
	for (size_t i = 0; i < n; i++) {
		col->empty += raw->code[i] == 0;
		if (!isnan(raw->num[i])) {
			seen++;
			sum += raw->num[i];
		}
	}
	col->numeric = raw->numeric && seen > 0;
	if (col->numeric) {
		col->mean = sum / (double)seen;
		for (size_t i = 0; i < n; i++)
			ss += isnan(raw->num[i]) ? 0 : (raw->num[i] - col->mean) * (raw->num[i] - col->mean);
		col->sd = seen > 1 ? sqrt(ss / (double)(seen - 1)) : 0.0;
		col->nout = 1;
		return 0;
	}
	col->nout = (int)mr_dict_size(raw->dict) + (col->empty > 0);
	if (col->nout > max)
		return mr_err_field(err, MR_EINVAL, col->name, "feature column '%s' has %d distinct values, more "
				    "than %d: is it an id? Leave it out of the features or group its values",
				    col->name, col->nout, max);
	return 0;
}

/* Writes the column's features (names and every row's values) into log. */
static void mr_logcsv_encode(const struct mr_logcsv_raw *raw, const struct mr_logcsv_col *col,
			     struct mr_logcsv *log)
{
	size_t nf = (size_t)log->nfeat;
	int levels = (int)mr_dict_size(raw->dict);

	if (col->numeric) {
		log->feat_names[col->first] = mr_strdup(col->name);
		for (size_t i = 0; i < log->n; i++) {
			double v = isnan(raw->num[i]) ? col->mean : raw->num[i];
			log->x[i * nf + (size_t)col->first] = col->sd > 0 ? (v - col->mean) / col->sd : 0.0;
		}
		return;
	}
	for (int l = 0; l < col->nout; l++) {
		const char *level = l < levels ? mr_dict_str(raw->dict, (uint32_t)l + 1) : MR_LOGCSV_EMPTY;
		size_t len = strlen(col->name) + strlen(level) + 2;
		log->feat_names[col->first + l] = mr_malloc(len);
		snprintf(log->feat_names[col->first + l], len, "%s=%s", col->name, level);
	}
	for (size_t i = 0; i < log->n; i++) {
		int l = raw->code[i] ? (int)raw->code[i] - 1 : levels;
		log->x[i * nf + (size_t)(col->first + l)] = 1.0;
	}
}

static int mr_logcsv_design(const struct mr_logcsv_reader *r, struct mr_logcsv *log, struct mr_err *err)
{
	int rc = 0;

	log->ncols = r->nraw;
	log->cols = mr_calloc((size_t)(r->nraw ? r->nraw : 1), sizeof(*log->cols));
	for (int k = 0; rc == 0 && k < r->nraw; k++) {
		rc = mr_logcsv_plan(r, &r->raw[k], log->n, &log->cols[k], err);
		log->cols[k].first = log->nfeat;
		log->nfeat += log->cols[k].nout;
		if (rc == 0 && log->nfeat > MR_LM_MAX_FEATURES)
			rc = mr_err_set(err, MR_EINVAL, "the features make %d columns once one-hot encoded, more "
					"than %d: name fewer columns", log->nfeat, MR_LM_MAX_FEATURES);
	}
	if (rc == 0 && log->nfeat > 0 && log->n > MR_LOGCSV_MAX_CELLS / (size_t)log->nfeat)
		rc = mr_err_set(err, MR_ETOOBIG, "%zu rows × %d features is more than this command holds in "
				"memory (%zu cells): use fewer features or a sample of the log", log->n, log->nfeat,
				MR_LOGCSV_MAX_CELLS);
	if (rc < 0)
		return rc;
	log->x = mr_calloc(log->n * (size_t)(log->nfeat ? log->nfeat : 1), sizeof(*log->x));
	log->feat_names = mr_calloc((size_t)(log->nfeat ? log->nfeat : 1), sizeof(*log->feat_names));
	for (int k = 0; k < r->nraw; k++)
		mr_logcsv_encode(&r->raw[k], &log->cols[k], log);
	return 0;
}

/* --- the whole --------------------------------------------------------------- */

static void mr_logcsv_reader_release(struct mr_logcsv_reader *r)
{
	for (int i = 0; i < r->nheader; i++)
		free(r->header[i]);
	free(r->header);
	for (int k = 0; k < r->nraw; k++) {
		mr_dict_free(r->raw[k].dict);
		free(r->raw[k].code);
		free(r->raw[k].num);
	}
	free(r->raw);
	mr_dict_free(r->actions);
	free(r->acode);
}

int mr_logcsv_read(struct mr_logcsv *log, struct mr_csv *csv, const struct mr_logcsv_spec *spec,
		   struct mr_err *err)
{
	struct mr_logcsv_reader r;
	int rc;

	memset(log, 0, sizeof(*log));
	memset(&r, 0, sizeof(r));
	r.spec = spec;
	r.col_action = r.col_reward = r.col_prop = -1;
	r.actions = mr_dict_new();
	if (!spec->action || !spec->reward) {
		rc = mr_err_set(err, MR_EINVAL, "the action and reward columns must be named");
		goto out;
	}
	rc = mr_logcsv_scan(&r, log, csv, err);
	if (rc == 0)
		rc = mr_logcsv_actions(&r, log, err);
	if (rc == 0)
		rc = mr_logcsv_design(&r, log, err);
out:
	mr_logcsv_reader_release(&r);
	return rc;
}

void mr_logcsv_release(struct mr_logcsv *log)
{
	for (int a = 0; a < log->nactions; a++)
		free(log->actions[a]);
	free(log->actions);
	free(log->action);
	free(log->reward);
	free(log->prop);
	free(log->x);
	for (int f = 0; f < log->nfeat && log->feat_names; f++)
		free(log->feat_names[f]);
	free(log->feat_names);
	for (int k = 0; k < log->ncols; k++)
		free(log->cols[k].name);
	free(log->cols);
	memset(log, 0, sizeof(*log));
}
