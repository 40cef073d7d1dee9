/*
 * Reading master data: one row as JSON, pages of rows with filters and a
 * name / pinyin / initials (content: title) prefix search, and the change
 * history. The SQL
 * is assembled from the entity's field table; every value is a parameter.
 *
 * Prefix search is a range scan on a bytewise-sorted key column
 * (key >= 'wang' AND key < 'wanh'), which both SQLite and PostgreSQL (with
 * the C collation the schema gives those columns) answer from an index.
 *
 * A page is the rows with the smallest ids after the cursor, and no index
 * gives the rows of a prefix in id order, so how a page is found depends
 * on how many rows match. Many: walk the ids in order and test each row;
 * a few dozen steps fill a page. Few: take the matching ids from the key
 * indexes (a UNION ALL of the three ranges), then read those rows in id
 * order. A cheap capped count of the ranges decides which; walking ids for
 * a rare prefix read the whole table (a 50-150 ms query at 400,000 HCPs),
 * and collecting the ids of a common one cost as much. A field rep's
 * alignments are few, so their page is read from those.
 *
 * SQLite plans without statistics, so the SQL for it carries hints: a
 * unary + on deleted_at and merged_into keeps it from walking the index of
 * merged_into (every live HCP has the same NULL there), and on the key
 * columns when the search is a filter. PostgreSQL plans from statistics
 * (which such expressions would blind) and gets plain columns. There the
 * few matches are read through its bitmap indexes and sorted, which beats
 * fetching them by id; ordering and paging by "t.id + 0" keep the plan
 * from walking the primary key instead, also the generic plan a prepared
 * statement may settle on after a few runs, which cannot see how many
 * rows a prefix matches.
 */
#include <math.h>
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
		else if (f->kind == MR_MDK_INT || f->kind == MR_MDK_TIME)
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

void mr_md_ranges(const struct mr_md_entity *e, const char *q, struct mr_arena *a,
		  struct mr_md_ranges *r)
{
	char norm[MR_NORM_MAX], letters[MR_NORM_MAX], end[MR_NORM_MAX + 1];
	size_t n = 0;

	mr_norm_query(q, norm);
	for (const char *p = norm; *p && n + 1 < sizeof(letters); p++) {
		if (*p >= 'a' && *p <= 'z')
			letters[n++] = *p;
	}
	letters[n] = '\0';
	r->n = 0;
	for (int i = 0; i < 3; i++) {
		const char *prefix = i == 0 ? norm : letters;

		if (i > 0 && (e != &mr_md_hcp || n == 0))
			break;
		mr_norm_prefix_end(prefix, end);
		r->col[r->n] = i == 0 ? "name_key" : i == 1 ? "pinyin_key" : "initials";
		r->from[r->n] = mr_arena_strdup(a, prefix);
		r->to[r->n] = mr_arena_strdup(a, end);
		r->n++;
	}
}

/*
 * The search as a condition on each row: any range holds, each key column
 * written as pre col post. A hint there keeps the key indexes out of it,
 * so that the planner walks ids, or uses what else drives, rather than read
 * a range it would then have to sort: "+col" on SQLite (free), "(col || '')"
 * on PostgreSQL (the same comparison, in the column's collation; there is
 * no unary + for text). Plain columns let PostgreSQL use its indexes.
 */
static void mr_md_search_rows(const struct mr_md_ranges *r, const char *pre, const char *post,
			      struct mr_buf *b, struct mr_val *args, int *nargs)
{
	mr_buf_adds(b, " AND (");
	for (int i = 0; i < r->n; i++) {
		mr_buf_addf(b, "%s(%st.%s%s >= ? AND %st.%s%s < ?)", i ? " OR " : "", pre, r->col[i], post,
			    pre, r->col[i], post);
		args[(*nargs)++] = mr_v_text(r->from[i]);
		args[(*nargs)++] = mr_v_text(r->to[i]);
	}
	mr_buf_adds(b, ")");
}

/* The search as the ids its ranges hold in the key indexes, which then drive the query. */
static void mr_md_search_ids(const struct mr_md_entity *e, const struct mr_md_ranges *r,
			     struct mr_buf *b, struct mr_val *args, int *nargs)
{
	mr_buf_adds(b, " AND t.id IN (");
	for (int i = 0; i < r->n; i++) {
		mr_buf_addf(b, "%sSELECT id FROM %s WHERE %s >= ? AND %s < ?", i ? " UNION ALL " : "",
			    e->table, r->col[i], r->col[i]);
		args[(*nargs)++] = mr_v_text(r->from[i]);
		args[(*nargs)++] = mr_v_text(r->to[i]);
	}
	mr_buf_adds(b, ")");
}

/*
 * 1 when the search matches few enough rows that collecting their ids beats
 * walking the table in id order. Walking costs about (limit + 1) * rows /
 * matches steps, collecting about matches, each step dearer: they meet near
 * two thirds of the square root of (limit + 1) * rows (measured at 420,000
 * HCPs), which caps the count.
 */
static int mr_md_search_is_narrow(struct mr_conn *c, const struct mr_md_entity *e,
				  const struct mr_md_ranges *r, int limit, int *narrow,
				  struct mr_err *err)
{
	char sql[160];
	struct mr_buf probe;
	struct mr_val args[3 * 3];
	int64_t rows = 0, cap, matches = 0;
	int nargs = 0;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT COALESCE(MAX(id), 0) FROM %s", e->table);
	rc = mr_conn_query_int(c, sql, NULL, 0, &rows, err);
	if (rc < 0)
		return rc;
	cap = (int64_t)sqrt((double)(limit + 1) * (double)rows) * 2 / 3 + 64;
	mr_buf_init(&probe, 4096);
	mr_buf_adds(&probe, "SELECT ");
	for (int i = 0; i < r->n; i++) {
		mr_buf_addf(&probe, "%s(SELECT COUNT(*) FROM (SELECT 1 FROM %s WHERE %s >= ? AND %s < ?"
			    " LIMIT ?) AS m%d)", i ? " + " : "", e->table, r->col[i], r->col[i], i);
		args[nargs++] = mr_v_text(r->from[i]);
		args[nargs++] = mr_v_text(r->to[i]);
		args[nargs++] = mr_v_int(cap);
	}
	rc = mr_conn_query_int(c, mr_buf_str(&probe), args, nargs, &matches, err);
	mr_buf_release(&probe);
	*narrow = rc == 0 && matches < cap;
	return rc;
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
	if (e == &mr_md_hcp && strcmp(name, "hco") == 0) {
		/* a doctor of a hospital: the primary one, or a further affiliation */
		mr_buf_adds(b, " AND (t.hco_id = (SELECT id FROM hcos WHERE ext_id = ?) OR t.id IN"
			    " (SELECT f.hcp_id FROM hcp_affiliations f JOIN hcos x ON x.id = f.hco_id"
			    " WHERE x.ext_id = ?))");
		args[(*nargs)++] = mr_v_text(val);
		args[(*nargs)++] = mr_v_text(val);
	} else if (e->fields[i].kind == MR_MDK_REF) {
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

/* Where a page's rows come from (see the top of the file). */
enum mr_md_drive {
	MR_MD_DRIVE_PLANNER, /* the database's choice: ids in order, or a filter's index */
	MR_MD_DRIVE_KEYS,    /* the search's few matches, then sorted (SQLite: by their ids) */
	MR_MD_DRIVE_SCOPE,   /* the ids aligned to the calling rep */
};

/* Appends the search, filters and scope of q to sql, arranged for drive. */
static int mr_md_where(struct mr_conn *c, const struct mr_md_entity *e,
		       const struct mr_scope *scope, const struct mr_md_query *q,
		       const struct mr_md_ranges *r, enum mr_md_drive drive, struct mr_buf *sql,
		       struct mr_val *args, int *nargs, struct mr_err *err)
{
	int pg = mr_conn_kind(c) == MR_STORE_PG;
	const char *hint = pg ? "" : "+"; /* PostgreSQL's estimates of these columns are right */
	int rc = 0;

	if (!q->include_deleted)
		mr_buf_addf(sql, " AND %st.deleted_at IS NULL", hint);
	if (e == &mr_md_hcp)
		mr_buf_addf(sql, " AND %st.merged_into IS NULL", hint);
	/*
	 * Few matches: SQLite takes their ids, PostgreSQL its bitmap indexes.
	 * Many, or a rep's scope: a filter the indexes stay out of (PostgreSQL's
	 * statistics cannot tell how many names start with 林: it guessed 54 of
	 * 5,178 and chose to read and sort them all).
	 */
	if (r->n > 0 && drive == MR_MD_DRIVE_KEYS && !pg)
		mr_md_search_ids(e, r, sql, args, nargs);
	else if (r->n > 0 && drive == MR_MD_DRIVE_KEYS)
		mr_md_search_rows(r, "", "", sql, args, nargs);
	else if (r->n > 0)
		mr_md_search_rows(r, pg ? "(" : "+", pg ? " || '')" : "", sql, args, nargs);
	for (int i = 0; rc == 0 && i < q->nfilters; i++)
		rc = mr_md_filter(e, q->filter_name[i], q->filter_val[i], sql, args, nargs, err);
	if (rc == 0 && e == &mr_md_hcp) {
		mr_md_alignment_filters(q, scope, sql, args, nargs);
		/* on SQLite, a "+" leaves the scope a filter when the keys drive */
		mr_scope_sql(scope, drive == MR_MD_DRIVE_KEYS && *hint ? "+t.id" : "t.id", sql, args,
			     nargs);
	}
	return rc;
}

int mr_md_list(struct mr_conn *c, const struct mr_md_entity *e, const struct mr_scope *scope,
	       const struct mr_md_query *q, json_t *items, int64_t *next, struct mr_err *err)
{
	struct mr_buf sql;
	struct mr_arena a;
	struct mr_rows *rows = NULL;
	struct mr_val args[MR_MD_QARGS];
	struct mr_md_ranges r = { .n = 0 };
	enum mr_md_drive drive = MR_MD_DRIVE_PLANNER;
	int nargs = 0, rc = 0, n = 0, narrow = 0;
	int64_t last = 0;

	*next = 0;
	mr_arena_init(&a);
	mr_buf_init(&sql, 16384);
	if (q->q && *q->q && e->key_field)
		mr_md_ranges(e, q->q, &a, &r);
	if (e == &mr_md_hcp && scope->kind == MR_SCOPE_REP)
		drive = MR_MD_DRIVE_SCOPE;
	else if (r.n > 0 && !q->rep && scope->kind != MR_SCOPE_NONE)
		rc = mr_md_search_is_narrow(c, e, &r, q->limit, &narrow, err);
	if (narrow)
		drive = MR_MD_DRIVE_KEYS;
	mr_md_select(e, &sql);
	if (rc == 0)
		rc = mr_md_where(c, e, scope, q, &r, drive, &sql, args, &nargs, err);
	if (rc < 0)
		goto out;
	if (drive == MR_MD_DRIVE_KEYS && mr_conn_kind(c) == MR_STORE_PG)
		mr_buf_addf(&sql, " AND t.id + 0 > ? ORDER BY t.id + 0 LIMIT %d", q->limit + 1);
	else
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

int mr_md_list_ids(struct mr_conn *c, const struct mr_md_entity *e, const int64_t *ids, int n,
		   int limit, json_t *items, int64_t *next, struct mr_err *err)
{
	struct mr_buf sql;
	struct mr_rows *rows = NULL;
	struct mr_val args[MR_MD_PAGE_IDS];
	int take = n < limit ? n : limit;
	int rc;

	*next = n > limit ? ids[limit - 1] : 0;
	if (take <= 0)
		return 0;
	if (take > MR_MD_PAGE_IDS)
		return mr_err_set(err, MR_EINTERNAL, "a page of %d ids is more than %d", take, MR_MD_PAGE_IDS);
	mr_buf_init(&sql, 16384);
	mr_md_select(e, &sql);
	mr_buf_adds(&sql, " AND t.deleted_at IS NULL");
	if (e == &mr_md_hcp)
		mr_buf_adds(&sql, " AND t.merged_into IS NULL");
	mr_buf_adds(&sql, " AND t.id IN (");
	for (int i = 0; i < take; i++) {
		args[i] = mr_v_int(ids[i]);
		mr_buf_adds(&sql, i ? ", ?" : "?");
	}
	mr_buf_adds(&sql, ") ORDER BY t.id");
	rc = mr_conn_query(c, mr_buf_str(&sql), args, take, &rows, err);
	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		rc = 0;
		json_array_append_new(items, mr_md_row_json(e, rows));
	}
	mr_rows_close(rows);
	mr_buf_release(&sql);
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
