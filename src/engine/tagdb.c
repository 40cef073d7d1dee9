/*
 * See tagdb.h. Plain SQL over the three tag tables, written once for both
 * backends (`?` placeholders; an insert's id by RETURNING on PostgreSQL,
 * last_insert_rowid() on SQLite, as md/entity.c does).
 */
#include "engine/tagdb.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"

static const char *const mr_tagdb_types[] = { [MR_XT_BOOL] = "boolean", [MR_XT_NUM] = "number",
					      [MR_XT_STR] = "text" };

const char *mr_tagdb_type_name(enum mr_xtype t)
{
	return t >= MR_XT_BOOL && t <= MR_XT_STR ? mr_tagdb_types[t] : "none";
}

enum mr_xtype mr_tagdb_type_parse(const char *s)
{
	for (int t = MR_XT_BOOL; s && t <= MR_XT_STR; t++) {
		if (strcmp(mr_tagdb_types[t], s) == 0)
			return (enum mr_xtype)t;
	}
	return MR_XT_NONE;
}

#define MR_TAGDB_DEF_COLS                                                                                    \
	"id, name, kind, type, expr, description, category, created_by, created_at, updated_by, updated_at"

int mr_tagdb_defs(struct mr_conn *c, void (*fn)(void *arg, const struct mr_tagdef *d), void *arg,
		  struct mr_err *err)
{
	struct mr_rows *rows = NULL;
	int rc = mr_conn_query(c, "SELECT " MR_TAGDB_DEF_COLS " FROM tags WHERE deleted_at IS NULL ORDER BY id",
			       NULL, 0, &rows, err);

	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		struct mr_tagdef d = {
			.id = mr_rows_int(rows, 0),
			.name = mr_rows_text(rows, 1),
			.kind = strcmp(mr_rows_text(rows, 2), "manual") == 0 ? MR_TAG_MANUAL : MR_TAG_COMPUTED,
			.type = mr_tagdb_type_parse(mr_rows_text(rows, 3)),
			.expr = mr_rows_text(rows, 4),
			.description = mr_rows_text(rows, 5),
			.category = mr_rows_text(rows, 6),
			.created_by = mr_rows_text(rows, 7),
			.created_at = mr_rows_int(rows, 8),
			.updated_by = mr_rows_text(rows, 9),
			.updated_at = mr_rows_int(rows, 10),
		};

		rc = 0;
		fn(arg, &d);
	}
	mr_rows_close(rows);
	return rc < 0 ? rc : 0;
}

int mr_tagdb_defs_version(struct mr_conn *c, int64_t *version, struct mr_err *err)
{
	struct mr_rows *rows = NULL;
	int rc = mr_conn_query(c, "SELECT COUNT(*), COALESCE(MAX(id), 0), COALESCE(MAX(updated_at), 0) FROM tags",
			       NULL, 0, &rows, err);

	*version = 0;
	if (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		uint64_t h = (uint64_t)mr_rows_int(rows, 0) * 0x9e3779b97f4a7c15u;

		h ^= (uint64_t)mr_rows_int(rows, 1) * 0xbf58476d1ce4e5b9u;
		h ^= (uint64_t)mr_rows_int(rows, 2);
		*version = (int64_t)(h >> 1);
		rc = 0;
	}
	mr_rows_close(rows);
	return rc < 0 ? rc : 0;
}

/* The live row called name: its id, kind, type and creation time (id 0: none). */
struct mr_tagdb_old {
	int64_t id, created_at;
	int kind;
	enum mr_xtype type;
};

static int mr_tagdb_find(struct mr_conn *c, const char *name, struct mr_tagdb_old *old, struct mr_err *err)
{
	struct mr_val arg = mr_v_text(name);
	struct mr_rows *rows = NULL;
	int rc = mr_conn_query(c, "SELECT id, kind, type, created_at FROM tags WHERE name = ? AND deleted_at IS NULL",
			       &arg, 1, &rows, err);

	memset(old, 0, sizeof(*old));
	if (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		old->id = mr_rows_int(rows, 0);
		old->kind = strcmp(mr_rows_text(rows, 1), "manual") == 0 ? MR_TAG_MANUAL : MR_TAG_COMPUTED;
		old->type = mr_tagdb_type_parse(mr_rows_text(rows, 2));
		old->created_at = mr_rows_int(rows, 3);
		rc = 0;
	}
	mr_rows_close(rows);
	return rc < 0 ? rc : 0;
}

static int mr_tagdb_insert(struct mr_conn *c, struct mr_tagdef *def, struct mr_err *err)
{
	int pg = mr_conn_kind(c) == MR_STORE_PG;
	struct mr_val args[10] = {
		mr_v_text(def->name), mr_v_text(def->kind == MR_TAG_MANUAL ? "manual" : "computed"),
		mr_v_text(mr_tagdb_type_name(def->type)), mr_v_text(def->expr), mr_v_text(def->description),
		mr_v_text(def->category), mr_v_text(def->created_by), mr_v_int(def->created_at),
		mr_v_text(def->updated_by), mr_v_int(def->updated_at),
	};
	const char *sql = pg ? "INSERT INTO tags (name, kind, type, expr, description, category, created_by,"
			       " created_at, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
			       " RETURNING id" :
			       "INSERT INTO tags (name, kind, type, expr, description, category, created_by,"
			       " created_at, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	int rc;

	if (pg)
		return mr_conn_query_int(c, sql, args, 10, &def->id, err);
	rc = mr_conn_exec(c, sql, args, 10, NULL, err);
	if (rc == 0)
		rc = mr_conn_query_int(c, "SELECT last_insert_rowid()", NULL, 0, &def->id, err);
	return rc;
}

int mr_tagdb_put(struct mr_conn *c, struct mr_tagdef *def, struct mr_err *err)
{
	struct mr_tagdb_old old;
	int rc = mr_tagdb_find(c, def->name, &old, err);

	if (rc < 0)
		return rc;
	if (old.id && (old.kind != def->kind || (def->kind == MR_TAG_MANUAL && old.type != def->type))) {
		/* another kind of tag under the old name: a new row, so old manual values stay with the old */
		rc = mr_tagdb_delete(c, old.id, def->updated_by, def->updated_at, err);
		if (rc < 0)
			return rc;
		return mr_tagdb_insert(c, def, err);
	}
	if (!old.id)
		return mr_tagdb_insert(c, def, err);
	{
		struct mr_val args[7] = {
			mr_v_text(mr_tagdb_type_name(def->type)), mr_v_text(def->expr), mr_v_text(def->description),
			mr_v_text(def->category), mr_v_text(def->updated_by), mr_v_int(def->updated_at),
			mr_v_int(old.id),
		};

		def->id = old.id;
		def->created_at = old.created_at;
		return mr_conn_exec(c, "UPDATE tags SET type = ?, expr = ?, description = ?, category = ?,"
				    " updated_by = ?, updated_at = ? WHERE id = ?", args, 7, NULL, err);
	}
}

int mr_tagdb_delete(struct mr_conn *c, int64_t id, const char *login, int64_t now, struct mr_err *err)
{
	struct mr_val args[4] = { mr_v_int(now), mr_v_text(login), mr_v_int(now), mr_v_int(id) };

	return mr_conn_exec(c, "UPDATE tags SET deleted_at = ?, updated_by = ?, updated_at = ? WHERE id = ?"
			    " AND deleted_at IS NULL", args, 4, NULL, err);
}

int mr_tagdb_manual(struct mr_conn *c, int64_t after,
		    void (*fn)(void *arg, int64_t hcp, int64_t tag, const char *value), void *arg,
		    int64_t *last, struct mr_err *err)
{
	struct mr_val a = mr_v_int(after);
	struct mr_rows *rows = NULL;
	int rc = mr_conn_query(c, "SELECT id, hcp_id, tag_id, value FROM hcp_tags WHERE id > ? ORDER BY id", &a, 1,
			       &rows, err);

	*last = after;
	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		rc = 0;
		*last = mr_rows_int(rows, 0);
		fn(arg, mr_rows_int(rows, 1), mr_rows_int(rows, 2), mr_rows_text(rows, 3));
	}
	mr_rows_close(rows);
	return rc < 0 ? rc : 0;
}

int mr_tagdb_set_manual(struct mr_conn *c, const struct mr_tagdb_set *s, struct mr_err *err)
{
	struct mr_val args[6] = { mr_v_int(s->hcp), mr_v_int(s->tag_id), mr_v_text(s->value),
				  mr_v_text(s->login), mr_v_int(s->now), mr_v_text(s->request_id) };
	int rc = mr_conn_exec(c, "INSERT INTO hcp_tags (hcp_id, tag_id, value, set_by, set_at, request_id)"
			      " VALUES (?, ?, ?, ?, ?, ?)", args, 6, NULL, err);
	struct mr_tagdb_change ch = { s->now, s->hcp, s->tag, s->type, s->old, s->value, MR_TC_MANUAL };

	if (rc < 0)
		return rc;
	if ((!s->old && !s->value) || (s->old && s->value && strcmp(s->old, s->value) == 0))
		return 0; /* set again to what it was: history, not a change */
	return mr_tagdb_log(c, &ch, 1, err);
}

int mr_tagdb_manual_meta(struct mr_conn *c, int64_t hcp, json_t *meta, struct mr_err *err)
{
	struct mr_val a = mr_v_int(hcp);
	struct mr_rows *rows = NULL;
	int rc = mr_conn_query(c, "SELECT tag_id, set_by, set_at FROM hcp_tags WHERE hcp_id = ? ORDER BY id", &a, 1,
			       &rows, err);

	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		char key[24];
		json_t *o = json_object();

		rc = 0;
		snprintf(key, sizeof(key), "%lld", (long long)mr_rows_int(rows, 0));
		mr_json_set_str(o, "set_by", mr_rows_text(rows, 1));
		mr_json_set_time(o, "set_at", mr_rows_int(rows, 2));
		json_object_set_new(meta, key, o); /* the newest row wins */
	}
	mr_rows_close(rows);
	return rc < 0 ? rc : 0;
}

enum { MR_TAGDB_LOG_COLS = 7, MR_TAGDB_LOG_CHUNK = 256 };

int mr_tagdb_log(struct mr_conn *c, const struct mr_tagdb_change *ch, int n, struct mr_err *err)
{
	static const char *const cols[MR_TAGDB_LOG_COLS] = { "at", "hcp_id", "tag", "type", "old_value", "new_value",
							     "cause" };
	struct mr_val vals[MR_TAGDB_LOG_CHUNK * MR_TAGDB_LOG_COLS];
	int rc = 0;

	for (int at = 0; rc == 0 && at < n; at += MR_TAGDB_LOG_CHUNK) {
		int k = n - at < MR_TAGDB_LOG_CHUNK ? n - at : MR_TAGDB_LOG_CHUNK;

		for (int i = 0; i < k; i++) {
			const struct mr_tagdb_change *x = &ch[at + i];
			struct mr_val *v = &vals[i * MR_TAGDB_LOG_COLS];

			v[0] = mr_v_int(x->at);
			v[1] = mr_v_int(x->hcp);
			v[2] = mr_v_text(x->tag);
			v[3] = mr_v_text(mr_tagdb_type_name(x->type));
			v[4] = mr_v_text(x->old);
			v[5] = mr_v_text(x->new_value);
			v[6] = mr_v_text(mr_tag_cause_name(x->cause));
		}
		rc = mr_conn_copy(c, "tag_changes", cols, MR_TAGDB_LOG_COLS, vals, k, err);
	}
	return rc;
}

json_t *mr_tagdb_value_json(enum mr_xtype type, const char *text)
{
	char *end = NULL;
	double d;

	if (!text)
		return json_null();
	switch (type) {
	case MR_XT_BOOL:
		return json_boolean(strcmp(text, "true") == 0);
	case MR_XT_NUM:
		d = strtod(text, &end);
		if (end && !*end && isfinite(d))
			return d == floor(d) && fabs(d) < 9e15 ? json_integer((json_int_t)d) : json_real(d);
		return json_string(text);
	default:
		return json_string(text);
	}
}

int mr_tagdb_changes(struct mr_conn *c, int64_t after, int limit, const struct mr_scope *scope, json_t *items,
		     int64_t *last, struct mr_err *err)
{
	struct mr_val args[8];
	struct mr_rows *rows = NULL;
	struct mr_buf sql;
	int nargs = 1, rc;

	args[0] = mr_v_int(after);
	*last = after;
	mr_buf_init(&sql, 4096);
	mr_buf_adds(&sql, "SELECT c.seq, c.at, h.ext_id, c.tag, c.type, c.old_value, c.new_value, c.cause"
		    " FROM tag_changes c JOIN hcps h ON h.id = c.hcp_id WHERE c.seq > ?");
	if (scope)
		mr_scope_sql(scope, "c.hcp_id", &sql, args, &nargs);
	mr_buf_addf(&sql, " ORDER BY c.seq LIMIT %d", limit);
	rc = mr_conn_query(c, mr_buf_str(&sql), args, nargs, &rows, err);
	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		enum mr_xtype type = mr_tagdb_type_parse(mr_rows_text(rows, 4));
		json_t *o = json_object();

		rc = 0;
		*last = mr_rows_int(rows, 0);
		json_object_set_new(o, "seq", json_integer(*last));
		mr_json_set_time(o, "at", mr_rows_int(rows, 1));
		mr_json_set_str(o, "hcp", mr_rows_text(rows, 2));
		mr_json_set_str(o, "tag", mr_rows_text(rows, 3));
		mr_json_set_str(o, "type", mr_rows_text(rows, 4));
		json_object_set_new(o, "old", mr_tagdb_value_json(type, mr_rows_text(rows, 5)));
		json_object_set_new(o, "new", mr_tagdb_value_json(type, mr_rows_text(rows, 6)));
		mr_json_set_str(o, "cause", mr_rows_text(rows, 7));
		json_array_append_new(items, o);
	}
	mr_rows_close(rows);
	mr_buf_release(&sql);
	return rc < 0 ? rc : 0;
}

int mr_tagdb_head(struct mr_conn *c, int64_t *head, struct mr_err *err)
{
	return mr_conn_query_int(c, "SELECT COALESCE(MAX(seq), 0) FROM tag_changes", NULL, 0, head, err);
}
