/*
 * Reading master data: one row as JSON, pages of rows with filters and a
 * name / pinyin / initials prefix search, and the change history. The SQL
 * is assembled from the entity's field table; every value is a parameter.
 *
 * Prefix search is a range scan on a bytewise-sorted key column
 * (key >= 'wang' AND key < 'wanh'), which both SQLite and PostgreSQL (with
 * the C collation the schema gives those columns) answer from an index.
 */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"
#include "md/md.h"
#include "md/norm.h"

enum { MR_MD_QARGS = 48 };

/* Appends the SELECT list of e (alias t): id, ext_id, fields, attrs, times. */
static void mr_md_select(const struct mr_md_entity *e, struct mr_buf *b)
{
	mr_buf_adds(b, "SELECT t.id, t.ext_id");
	for (int i = 0; i < e->nfields; i++) {
		const struct mr_md_field *f = &e->fields[i];

		if (f->kind == MR_MDK_REF)
			mr_buf_addf(b, ", (SELECT ext_id FROM %s WHERE id = t.%s)",
				    mr_md_entity_find(f->ref)->table, f->column);
		else if (f->kind == MR_MDK_IDENT)
			mr_buf_addf(b, ", (SELECT masked FROM hcp_identities WHERE hcp_id = t.id"
				    " AND kind = '%s' AND is_primary = 1)", f->name);
		else
			mr_buf_addf(b, ", t.%s", f->column);
	}
	mr_buf_adds(b, ", t.attrs, t.created_at, t.updated_at, t.deleted_at");
	if (e == &mr_md_hcp)
		mr_buf_adds(b, ", (SELECT ext_id FROM hcps WHERE id = t.merged_into), t.erased_at,"
			    " (SELECT name FROM hcos WHERE id = t.hco_id)");
	mr_buf_addf(b, " FROM %s t WHERE 1 = 1", e->table);
}

static json_t *mr_md_list_json(const char *s)
{
	json_t *a = json_array();

	while (s && *s) {
		const char *semi = strchr(s, ';');
		size_t n = semi ? (size_t)(semi - s) : strlen(s);

		if (n > 0)
			json_array_append_new(a, json_stringn(s, n));
		s += n + (semi ? 1 : 0);
	}
	return a;
}

static void mr_md_set_time(json_t *o, const char *key, struct mr_rows *rows, int col)
{
	json_object_set_new(o, key, mr_rows_isnull(rows, col) ? json_null() :
				    json_integer(mr_rows_int(rows, col)));
}

/* The current row as JSON; times stay µs integers here, the API renders them. */
static json_t *mr_md_row_json(const struct mr_md_entity *e, struct mr_rows *rows)
{
	json_t *o = json_object();
	int col = 2;

	json_object_set_new(o, "id", json_string(mr_rows_text(rows, 1)));
	for (int i = 0; i < e->nfields; i++, col++) {
		const struct mr_md_field *f = &e->fields[i];
		const char *s = mr_rows_text(rows, col);

		if (!s)
			json_object_set_new(o, f->name, json_null());
		else if (f->kind == MR_MDK_INT)
			json_object_set_new(o, f->name, json_integer(mr_rows_int(rows, col)));
		else if (f->kind == MR_MDK_LIST)
			json_object_set_new(o, f->name, mr_md_list_json(s));
		else
			json_object_set_new(o, f->name, json_string(s));
	}
	json_t *attrs = NULL;
	const char *at = mr_rows_text(rows, col);

	if (at)
		attrs = json_loads(at, 0, NULL);
	json_object_set_new(o, "attrs", attrs ? attrs : json_object());
	mr_md_set_time(o, "created_at", rows, col + 1);
	mr_md_set_time(o, "updated_at", rows, col + 2);
	mr_md_set_time(o, "deleted_at", rows, col + 3);
	if (e == &mr_md_hcp) {
		const char *merged = mr_rows_text(rows, col + 4);
		const char *hco_name = mr_rows_text(rows, col + 6);

		json_object_set_new(o, "merged_into", merged ? json_string(merged) : json_null());
		mr_md_set_time(o, "erased_at", rows, col + 5);
		json_object_set_new(o, "hco_name", hco_name ? json_string(hco_name) : json_null());
	}
	return o;
}

int mr_md_get(struct mr_conn *c, const struct mr_md_entity *e, int64_t id, json_t **out,
	      struct mr_err *err)
{
	struct mr_buf sql;
	struct mr_rows *rows = NULL;
	struct mr_val arg = mr_v_int(id);
	int rc;

	*out = NULL;
	mr_buf_init(&sql, 8192);
	mr_md_select(e, &sql);
	mr_buf_adds(&sql, " AND t.id = ?");
	rc = mr_conn_query(c, mr_buf_str(&sql), &arg, 1, &rows, err);
	if (rc == 0)
		rc = mr_rows_next(rows, err);
	if (rc == 1) {
		*out = mr_md_row_json(e, rows);
		rc = 0;
	} else if (rc == 0) {
		rc = mr_err_set(err, MR_ENOTFOUND, "%s does not exist", e->name);
	}
	mr_rows_close(rows);
	mr_buf_release(&sql);
	return rc;
}

/* A range condition col >= prefix AND col < end, when the prefix is non-empty. */
static void mr_md_prefix(struct mr_buf *b, const char *col, const char *prefix, struct mr_arena *a,
			 struct mr_val *args, int *nargs)
{
	char end[MR_NORM_MAX + 1];

	mr_norm_prefix_end(prefix, end);
	mr_buf_addf(b, "(t.%s >= ? AND t.%s < ?)", col, col);
	args[(*nargs)++] = mr_v_text(prefix);
	args[(*nargs)++] = mr_v_text(mr_arena_strdup(a, end));
}

/* The search condition of q over the entity's keys. */
static void mr_md_search(const struct mr_md_entity *e, const char *q, struct mr_arena *a,
			 struct mr_buf *b, struct mr_val *args, int *nargs)
{
	char norm[MR_NORM_MAX], letters[MR_NORM_MAX];
	size_t n = 0;

	mr_norm_query(q, norm);
	for (const char *p = norm; *p && n + 1 < sizeof(letters); p++) {
		if (*p >= 'a' && *p <= 'z')
			letters[n++] = *p;
	}
	letters[n] = '\0';
	mr_buf_adds(b, " AND (");
	mr_md_prefix(b, "name_key", mr_arena_strdup(a, norm), a, args, nargs);
	if (e == &mr_md_hcp && n > 0) {
		mr_buf_adds(b, " OR ");
		mr_md_prefix(b, "pinyin_key", mr_arena_strdup(a, letters), a, args, nargs);
		mr_buf_adds(b, " OR ");
		mr_md_prefix(b, "initials", mr_arena_strdup(a, letters), a, args, nargs);
	}
	mr_buf_adds(b, ")");
}

/* HCP filters that are attributes of the HCP's hospital. */
static const char *const mr_md_hco_filters[] = { "city_tier", "city", "province", "region",
						 "level", "grade", NULL };

static int mr_md_filter(const struct mr_md_entity *e, const char *name, const char *val,
			struct mr_buf *b, struct mr_val *args, int *nargs, struct mr_err *err)
{
	int i = mr_md_field_index(e, name);
	int64_t n;

	if (e == &mr_md_hcp && i < 0) {
		for (int k = 0; mr_md_hco_filters[k]; k++) {
			if (strcmp(mr_md_hco_filters[k], name) == 0) {
				mr_buf_addf(b, " AND t.hco_id IN (SELECT id FROM hcos WHERE %s = ?)", name);
				if (mr_parse_i64(val, INT64_MIN, INT64_MAX, &n) == 0)
					args[(*nargs)++] = mr_v_int(n);
				else
					args[(*nargs)++] = mr_v_text(val);
				return 0;
			}
		}
	}
	if (i < 0 || !(e->fields[i].flags & MR_MDF_FILTER))
		return mr_err_field(err, MR_EINVAL, name, "%s cannot be filtered by '%.40s'", e->plural, name);
	if (e->fields[i].kind == MR_MDK_REF) {
		mr_buf_addf(b, " AND t.%s = (SELECT id FROM %s WHERE ext_id = ?)", e->fields[i].column,
			    mr_md_entity_find(e->fields[i].ref)->table);
		args[(*nargs)++] = mr_v_text(val);
	} else if (e->fields[i].kind == MR_MDK_INT) {
		if (mr_parse_i64(val, INT64_MIN, INT64_MAX, &n) < 0)
			return mr_err_field(err, MR_EINVAL, name, "%s must be a whole number", name);
		mr_buf_addf(b, " AND t.%s = ?", e->fields[i].column);
		args[(*nargs)++] = mr_v_int(n);
	} else {
		mr_buf_addf(b, " AND t.%s = ?", e->fields[i].column);
		args[(*nargs)++] = mr_v_text(val);
	}
	return 0;
}

/* HCPs aligned (now) to a rep, or to any rep of a territory and the territories below it. */
static void mr_md_alignment_filters(const struct mr_md_query *q, const struct mr_scope *scope,
				    struct mr_buf *b, struct mr_val *args, int *nargs)
{
	if (q->rep) {
		mr_buf_adds(b, " AND t.id IN (SELECT a.hcp_id FROM alignments a JOIN reps r ON r.id = a.rep_id"
			    " WHERE r.ext_id = ? AND a.deleted_at IS NULL AND a.valid_from <= ?"
			    " AND (a.valid_to IS NULL OR a.valid_to > ?))");
		args[(*nargs)++] = mr_v_text(q->rep);
		args[(*nargs)++] = mr_v_int(scope->at);
		args[(*nargs)++] = mr_v_int(scope->at);
	}
	if (q->territory) {
		mr_buf_adds(b, " AND t.id IN (SELECT a.hcp_id FROM alignments a JOIN reps r ON r.id = a.rep_id"
			    " WHERE a.deleted_at IS NULL AND a.valid_from <= ? AND (a.valid_to IS NULL OR a.valid_to > ?)"
			    " AND r.territory_id IN (WITH RECURSIVE sub(id) AS"
			    " (SELECT id FROM territories WHERE ext_id = ? UNION"
			    " SELECT x.id FROM territories x JOIN sub ON x.parent_id = sub.id) SELECT id FROM sub))");
		args[(*nargs)++] = mr_v_int(scope->at);
		args[(*nargs)++] = mr_v_int(scope->at);
		args[(*nargs)++] = mr_v_text(q->territory);
	}
}

int mr_md_list(struct mr_conn *c, const struct mr_md_entity *e, const struct mr_scope *scope,
	       const struct mr_md_query *q, json_t *items, int64_t *next, struct mr_err *err)
{
	struct mr_buf sql;
	struct mr_arena a;
	struct mr_rows *rows = NULL;
	struct mr_val args[MR_MD_QARGS];
	int nargs = 0, rc = 0, n = 0;
	int64_t last = 0;

	*next = 0;
	mr_arena_init(&a);
	mr_buf_init(&sql, 16384);
	mr_md_select(e, &sql);
	if (!q->include_deleted)
		mr_buf_adds(&sql, " AND t.deleted_at IS NULL");
	if (e == &mr_md_hcp)
		mr_buf_adds(&sql, " AND t.merged_into IS NULL");
	if (q->q && *q->q && e->searchable)
		mr_md_search(e, q->q, &a, &sql, args, &nargs);
	for (int i = 0; rc == 0 && i < q->nfilters; i++)
		rc = mr_md_filter(e, q->filter_name[i], q->filter_val[i], &sql, args, &nargs, err);
	if (rc < 0)
		goto out;
	if (e == &mr_md_hcp) {
		mr_md_alignment_filters(q, scope, &sql, args, &nargs);
		mr_scope_sql(scope, "t.id", &sql, args, &nargs);
	}
	mr_buf_addf(&sql, " AND t.id > ? ORDER BY t.id LIMIT %d", q->limit + 1);
	args[nargs++] = mr_v_int(q->cursor);
	rc = mr_conn_query(c, mr_buf_str(&sql), args, nargs, &rows, err);
	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		rc = 0;
		if (n == q->limit) {
			*next = last;
			break;
		}
		json_array_append_new(items, mr_md_row_json(e, rows));
		last = mr_rows_int(rows, 0);
		n++;
	}
out:
	mr_rows_close(rows);
	mr_buf_release(&sql);
	mr_arena_release(&a);
	return rc < 0 ? rc : 0;
}

int mr_md_changes(struct mr_conn *c, const char *entity, int64_t id, int limit, int64_t cursor,
		  json_t *items, int64_t *next, struct mr_err *err)
{
	struct mr_val args[] = { mr_v_text(entity), mr_v_int(id),
				 mr_v_int(cursor ? cursor : INT64_MAX), mr_v_int(limit + 1) };
	struct mr_rows *rows = NULL;
	int rc = mr_conn_query(c,
			       "SELECT id, at, login, source, field, old_value, new_value, request_id"
			       " FROM md_changes WHERE entity = ? AND entity_id = ? AND id < ?"
			       " ORDER BY id DESC LIMIT ?",
			       args, 4, &rows, err);
	int n = 0;

	*next = 0;
	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		rc = 0;
		if (n == limit) {
			*next = json_integer_value(json_object_get(json_array_get(items, (size_t)n - 1), "seq"));
			break;
		}
		json_array_append_new(items, json_pack("{s:I, s:I, s:s?, s:s, s:s, s:s?, s:s?, s:s?}",
						       "seq", (json_int_t)mr_rows_int(rows, 0),
						       "at", (json_int_t)mr_rows_int(rows, 1),
						       "by", mr_rows_text(rows, 2),
						       "source", mr_rows_text(rows, 3),
						       "field", mr_rows_text(rows, 4),
						       "old", mr_rows_text(rows, 5),
						       "new", mr_rows_text(rows, 6),
						       "request_id", mr_rows_text(rows, 7)));
		n++;
	}
	mr_rows_close(rows);
	return rc < 0 ? rc : 0;
}
