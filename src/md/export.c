/*
 * The exporter (see export.h). Custom attributes become columns after the
 * entity's fields; their names are gathered from a first pass over the
 * rows, so every row of the file has the same columns.
 */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/time.h"
#include "md/export.h"
#include "md/ident.h"

enum { MR_EXPORT_PAGE = 500, MR_EXPORT_MAXCOLS = 64 };

/* Reads the rows page by page, calling fn on each page's items. */
static int mr_export_pages(struct mr_conn *c, const struct mr_export_opts *o,
			   int (*fn)(void *arg, json_t *items, struct mr_err *err), void *arg,
			   struct mr_err *err)
{
	struct mr_md_query q = *o->query;
	int rc = 0;

	q.limit = MR_EXPORT_PAGE;
	q.cursor = 0;
	do {
		json_t *items = json_array();
		int64_t next = 0;

		rc = mr_md_list(c, o->e, o->scope, &q, items, &next, err);
		if (rc == 0)
			rc = fn(arg, items, err);
		json_decref(items);
		q.cursor = next;
	} while (rc == 0 && q.cursor);
	return rc;
}

struct mr_export_state {
	const struct mr_export_opts *o;
	struct mr_conn *c;
	struct mr_table *t;
	const char *cols[MR_EXPORT_MAXCOLS];
	int ncols, nfixed;
	int64_t rows;
};

static int mr_export_attr_names(void *arg, json_t *items, struct mr_err *err)
{
	struct mr_export_state *s = arg;
	size_t i;
	json_t *row;

	(void)err;
	json_array_foreach(items, i, row) {
		const char *key;
		json_t *v;

		json_object_foreach(json_object_get(row, "attrs"), key, v) {
			int seen = 0;

			(void)v;
			for (int k = s->nfixed; k < s->ncols; k++)
				seen |= strcmp(s->cols[k], key) == 0;
			if (!seen && s->ncols < MR_EXPORT_MAXCOLS)
				s->cols[s->ncols++] = mr_strdup(key);
		}
	}
	return 0;
}

/* Puts the HCP's contact values in the clear into row. */
static int mr_export_unmask(struct mr_export_state *s, json_t *row, struct mr_err *err)
{
	json_t *ids = json_array(), *x;
	int64_t id = 0;
	size_t i;
	int rc = mr_md_lookup(s->c, &mr_md_hcp, json_string_value(json_object_get(row, "id")), &id, err);

	if (rc == 0)
		rc = mr_ident_list(s->c, s->o->keys, id, 1, ids, err);
	json_array_foreach(ids, i, x) {
		const char *kind = json_string_value(json_object_get(x, "kind"));

		if (json_is_true(json_object_get(x, "primary")) && json_object_get(row, kind))
			json_object_set(row, kind, json_object_get(x, "value"));
	}
	json_decref(ids);
	return rc;
}

static const char *mr_export_cell(json_t *v, char *num, size_t n, struct mr_buf *list)
{
	size_t i;
	json_t *x;

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(num, n, "%lld", (long long)json_integer_value(v));
		return num;
	}
	if (json_is_array(v)) {
		mr_buf_reset(list);
		json_array_foreach(v, i, x) {
			if (i > 0)
				mr_buf_addc(list, ';');
			mr_buf_adds(list, json_string_value(x) ? json_string_value(x) : "");
		}
		return mr_buf_str(list);
	}
	return "";
}

static int mr_export_rows(void *arg, json_t *items, struct mr_err *err)
{
	struct mr_export_state *s = arg;
	char nums[MR_EXPORT_MAXCOLS][32];
	struct mr_buf lists[4];
	const char *cells[MR_EXPORT_MAXCOLS];
	size_t i;
	json_t *row;
	int rc = 0;

	for (int k = 0; k < 4; k++)
		mr_buf_init(&lists[k], 1 << 20);
	json_array_foreach(items, i, row) {
		int nl = 0;

		if (s->o->unmask && s->o->e == &mr_md_hcp && (rc = mr_export_unmask(s, row, err)) < 0)
			break;
		for (int k = 0; k < s->ncols; k++) {
			json_t *v = k < s->nfixed ? json_object_get(row, s->cols[k]) :
				    json_object_get(json_object_get(row, "attrs"), s->cols[k]);

			if (k > 0 && k < s->nfixed && s->o->e->fields[k - 1].kind == MR_MDK_TIME &&
			    json_is_integer(v)) {
				/* as RFC 3339, which the importer reads back */
				mr_time_format(json_integer_value(v), nums[k], sizeof(nums[k]));
				cells[k] = nums[k];
				continue;
			}
			cells[k] = mr_export_cell(v, nums[k], sizeof(nums[k]), &lists[nl < 3 ? nl : 3]);
			nl += json_is_array(v);
		}
		rc = mr_table_row(s->t, s->ncols, cells, err);
		if (rc < 0)
			break;
		s->rows++;
	}
	for (int k = 0; k < 4; k++)
		mr_buf_release(&lists[k]);
	if (s->o->progress)
		s->o->progress(s->o->progress_arg, s->rows);
	return rc;
}

int mr_md_export(struct mr_conn *c, const struct mr_export_opts *o, struct mr_table *t,
		 int64_t *rows, struct mr_err *err)
{
	struct mr_export_state s = { .o = o, .c = c, .t = t };
	enum mr_cell_kind kinds[MR_EXPORT_MAXCOLS];
	int rc;

	s.cols[s.ncols++] = "id";
	for (int i = 0; i < o->e->nfields; i++)
		s.cols[s.ncols++] = o->e->fields[i].name;
	s.nfixed = s.ncols;
	rc = mr_export_pages(c, o, mr_export_attr_names, &s, err);
	for (int k = 0; k < s.ncols; k++) {
		int f = k > 0 && k < s.nfixed ? k - 1 : -1;

		kinds[k] = f >= 0 && o->e->fields[f].kind == MR_MDK_INT ? MR_CELL_NUMBER : MR_CELL_TEXT;
	}
	if (rc == 0)
		rc = mr_table_header(t, s.ncols, s.cols, kinds, err);
	if (rc == 0)
		rc = mr_export_pages(c, o, mr_export_rows, &s, err);
	for (int k = s.nfixed; k < s.ncols; k++)
		free((char *)s.cols[k]);
	*rows = s.rows;
	return rc;
}
