/*
 * HCP merges and unmerges (see merge.h). Every change a merge makes is
 * written down in its undo record before it is made, inside the same
 * transaction, so a merge is either whole and undoable or not there at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/str.h"
#include "md/merge.h"
#include "md/norm.h"

/* The survivorship columns of hcps, in the order of mr_md_hcp's fields where they are fields. */
struct mr_merge_col {
	const char *col;
	const char *field;   /* the mr_md_hcp field it belongs to, or NULL for a derived key */
	int is_int;
};

static const struct mr_merge_col mr_merge_cols[] = {
	{ "name", "name", 0 },         { "pinyin", "pinyin", 0 },
	{ "gender", "gender", 0 },     { "title", "title", 0 },
	{ "specialty", "specialty", 0 }, { "department", "department", 0 },
	{ "hco_id", "hco", 1 },        { "attrs", NULL, 0 },
	{ "name_key", NULL, 0 },       { "pinyin_key", NULL, 0 },
	{ "initials", NULL, 0 },
};
enum { MR_MERGE_NCOLS = sizeof(mr_merge_cols) / sizeof(mr_merge_cols[0]), MR_MERGE_NFIELDS = 8 };

static const char *const mr_survive_names[] = { "recent", "survivor", "merged", "fill", NULL };

int mr_survive_parse(const char *s)
{
	for (int i = 0; mr_survive_names[i]; i++) {
		if (strcmp(s, mr_survive_names[i]) == 0)
			return i;
	}
	return -1;
}

/* One HCP row as the merge sees it. */
struct mr_merge_row {
	int64_t id;
	char ext[MR_MD_EXT_MAX + 1];
	char *val[MR_MERGE_NCOLS];   /* malloc'd text, NULL for SQL NULL */
	int64_t updated_at;
	int merged;                  /* merged_into is set */
	char merged_into[MR_MD_EXT_MAX + 1];
	int deleted;
	int verified;                /* holds a verified identity */
};

static void mr_merge_row_release(struct mr_merge_row *r)
{
	for (int i = 0; i < MR_MERGE_NCOLS; i++)
		free(r->val[i]);
}

static int mr_merge_row_load(struct mr_conn *c, int64_t id, struct mr_merge_row *r,
			     struct mr_err *err)
{
	struct mr_val arg = mr_v_int(id);
	struct mr_rows *rows = NULL;
	int rc = mr_conn_query(c,
			       "SELECT h.ext_id, h.updated_at, (SELECT ext_id FROM hcps m WHERE m.id = h.merged_into),"
			       " h.deleted_at, (SELECT COUNT(*) FROM hcp_identities i WHERE i.hcp_id = h.id"
			       " AND i.verified = 1), h.name, h.pinyin, h.gender, h.title, h.specialty,"
			       " h.department, h.hco_id, h.attrs, h.name_key, h.pinyin_key, h.initials"
			       " FROM hcps h WHERE h.id = ?",
			       &arg, 1, &rows, err);

	memset(r, 0, sizeof(*r));
	r->id = id;
	if (rc == 0 && (rc = mr_rows_next(rows, err)) == 0)
		rc = mr_err_set(err, MR_ENOTFOUND, "HCP %lld does not exist", (long long)id);
	if (rc == 1) {
		snprintf(r->ext, sizeof(r->ext), "%s", mr_rows_text(rows, 0));
		r->updated_at = mr_rows_int(rows, 1);
		r->merged = !mr_rows_isnull(rows, 2);
		if (r->merged)
			snprintf(r->merged_into, sizeof(r->merged_into), "%s", mr_rows_text(rows, 2));
		r->deleted = !mr_rows_isnull(rows, 3);
		r->verified = mr_rows_int(rows, 4) > 0;
		for (int i = 0; i < MR_MERGE_NCOLS; i++) {
			const char *s = mr_rows_text(rows, 5 + i);

			r->val[i] = s ? mr_strdup(s) : NULL;
		}
		rc = 0;
	}
	mr_rows_close(rows);
	return rc;
}

static int mr_merge_check(const struct mr_merge_row *s, const struct mr_merge_row *m,
			  struct mr_err *err)
{
	if (s->id == m->id)
		return mr_err_set(err, MR_EUNPROC, "an HCP cannot be merged into itself (%s)", s->ext);
	if (s->merged)
		return mr_err_set(err, MR_ECONFLICT, "HCP %s was merged into %s; merge into %s instead",
				  s->ext, s->merged_into, s->merged_into);
	if (m->merged)
		return mr_err_set(err, MR_ECONFLICT, "HCP %s was already merged into %s", m->ext,
				  m->merged_into);
	if (s->deleted || m->deleted)
		return mr_err_set(err, MR_ECONFLICT, "HCP %s is deleted", s->deleted ? s->ext : m->ext);
	return 0;
}

static int mr_merge_empty(const char *v)
{
	return !v || !*v;
}

/* Whether the survivor takes column i's value from the merged record. */
static int mr_merge_takes(const struct mr_merge_row *s, const struct mr_merge_row *m, int i,
			  const struct mr_merge_opts *o)
{
	int rule = MR_SURVIVE_RECENT;
	int f = mr_merge_cols[i].field ? mr_md_field_index(&mr_md_hcp, mr_merge_cols[i].field) : -1;

	if (f >= 0 && o->survive[f])
		rule = mr_survive_parse(o->survive[f]);
	if (mr_merge_empty(m->val[i]) || (s->val[i] && strcmp(s->val[i], m->val[i]) == 0))
		return 0;
	switch (rule) {
	case MR_SURVIVE_SURVIVOR:
		return 0;
	case MR_SURVIVE_MERGED:
		return 1;
	case MR_SURVIVE_FILL:
		return mr_merge_empty(s->val[i]);
	default:
		return mr_merge_empty(s->val[i]) || (m->verified && m->updated_at > s->updated_at);
	}
}

static struct mr_val mr_merge_colval(int i, const char *v)
{
	int64_t n;

	if (!v)
		return mr_v_null();
	if (mr_merge_cols[i].is_int)
		return mr_v_int(mr_parse_i64(v, INT64_MIN, INT64_MAX, &n) == 0 ? n : 0);
	return mr_v_text(v);
}

static int mr_merge_set_col(struct mr_conn *c, int64_t id, int i, const char *v, struct mr_err *err)
{
	char sql[96];
	struct mr_val args[2] = { mr_merge_colval(i, v), mr_v_int(id) };

	snprintf(sql, sizeof(sql), "UPDATE hcps SET %s = ? WHERE id = ?", mr_merge_cols[i].col);
	return mr_conn_exec(c, sql, args, 2, NULL, err);
}

static json_t *mr_jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* Applies survivorship: the columns the survivor takes, recorded in undo and lineage. */
static int mr_merge_fields(struct mr_conn *c, struct mr_merge_row *s, const struct mr_merge_row *m,
			   const struct mr_merge_opts *o, json_t *undo_cols, json_t *taken,
			   struct mr_err *err)
{
	char *next[MR_MERGE_NCOLS];
	int rc = 0, names = 0;

	for (int i = 0; i < MR_MERGE_NCOLS; i++) {
		next[i] = s->val[i];
		if (i < MR_MERGE_NFIELDS && mr_merge_takes(s, m, i, o)) {
			next[i] = m->val[i];
			names |= i <= 1; /* name or pinyin: the search keys follow */
			json_object_set_new(taken, mr_merge_cols[i].field ? mr_merge_cols[i].field : "attrs",
					    json_string(m->ext));
		}
	}
	if (names) {
		struct mr_name_keys k;

		mr_name_keys(next[0] ? next[0] : "", next[1], &k);
		next[8] = mr_strdup(k.name);
		next[9] = mr_strdup(k.pinyin_key);
		next[10] = mr_strdup(k.initials);
	}
	for (int i = 0; rc == 0 && i < MR_MERGE_NCOLS; i++) {
		if (next[i] == s->val[i] || (next[i] && s->val[i] && strcmp(next[i], s->val[i]) == 0)) {
			if (i >= MR_MERGE_NFIELDS && next[i] != s->val[i])
				free(next[i]);
			continue;
		}
		json_array_append_new(undo_cols, json_pack("{s:s, s:o, s:o}", "col", mr_merge_cols[i].col,
							   "old", mr_jstr(s->val[i]), "new", mr_jstr(next[i])));
		rc = mr_merge_set_col(c, s->id, i, next[i], err);
		if (i >= MR_MERGE_NFIELDS)
			free(next[i]);
	}
	return rc;
}

/* Appends the ids a query returns (one int64 column) to arr. */
static int mr_merge_ids(struct mr_conn *c, const char *sql, const struct mr_val *args, int nargs,
			json_t *arr, struct mr_err *err)
{
	struct mr_rows *rows = NULL;
	int rc = mr_conn_query(c, sql, args, nargs, &rows, err);

	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		json_array_append_new(arr, json_integer(mr_rows_int(rows, 0)));
		rc = 0;
	}
	mr_rows_close(rows);
	return rc < 0 ? rc : 0;
}

/* Runs sql once per id of ids, with (first, id) or (id) as arguments. */
static int mr_merge_each(struct mr_conn *c, const char *sql, int64_t first, int with_first,
			 json_t *ids, struct mr_err *err)
{
	size_t i;
	json_t *x;
	int rc = 0;

	json_array_foreach(ids, i, x) {
		struct mr_val args[2] = { mr_v_int(first), mr_v_int(json_integer_value(x)) };

		rc = mr_conn_exec(c, sql, with_first ? args : args + 1, with_first ? 2 : 1, NULL, err);
		if (rc < 0)
			break;
	}
	return rc;
}

/* Moves the merged record's identities; a kind the survivor already has a primary of comes as secondary. */
static int mr_merge_identities(struct mr_conn *c, int64_t s, int64_t m, json_t *undo,
			       struct mr_err *err)
{
	struct mr_val args[] = { mr_v_int(m) };
	struct mr_rows *rows = NULL;
	json_t *list = json_array();
	size_t i;
	json_t *x;
	int rc = mr_conn_query(c, "SELECT id, is_primary, kind FROM hcp_identities WHERE hcp_id = ?",
			       args, 1, &rows, err);

	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		json_array_append_new(list, json_pack("{s:I, s:i, s:s}", "id",
						      (json_int_t)mr_rows_int(rows, 0), "primary",
						      (int)mr_rows_int(rows, 1), "kind", mr_rows_text(rows, 2)));
		rc = 0;
	}
	mr_rows_close(rows);
	json_object_set_new(undo, "identities", list);
	json_array_foreach(list, i, x) {
		int64_t has = 0;
		struct mr_val q[] = { mr_v_int(s), mr_v_text(json_string_value(json_object_get(x, "kind"))) };

		if (rc < 0)
			break;
		rc = mr_conn_query_int(c, "SELECT COUNT(*) FROM hcp_identities WHERE hcp_id = ? AND kind = ?"
				       " AND is_primary = 1", q, 2, &has, err);
		if (rc == 0) {
			struct mr_val u[] = { mr_v_int(s), mr_v_int(has ? 0 : json_integer_value(json_object_get(x, "primary"))),
					      mr_v_int(json_integer_value(json_object_get(x, "id"))) };

			rc = mr_conn_exec(c, "UPDATE hcp_identities SET hcp_id = ?, is_primary = ? WHERE id = ?",
					  u, 3, NULL, err);
		}
	}
	return rc;
}

/*
 * Moves the merged record's alignments; one whose role and product the
 * survivor already has an owner for (or the same rep) is ended instead,
 * so the one-owner rule still holds.
 */
static int mr_merge_alignments(struct mr_conn *c, int64_t s, int64_t m, int64_t now, json_t *undo,
			       struct mr_err *err)
{
	struct mr_val args[] = { mr_v_int(m), mr_v_int(s) };
	json_t *ended = json_array(), *moved = json_array();
	int rc = mr_merge_ids(c,
			      "SELECT a.id FROM alignments a WHERE a.hcp_id = ? AND a.deleted_at IS NULL AND EXISTS"
			      " (SELECT 1 FROM alignments b WHERE b.hcp_id = ? AND b.deleted_at IS NULL"
			      " AND b.role = a.role AND b.product = a.product"
			      " AND (b.role <> 'msl' OR b.rep_id = a.rep_id)) ORDER BY a.id",
			      args, 2, ended, err);

	if (rc == 0)
		rc = mr_merge_ids(c,
				  "SELECT a.id FROM alignments a WHERE a.hcp_id = ? AND a.deleted_at IS NULL AND NOT EXISTS"
				  " (SELECT 1 FROM alignments b WHERE b.hcp_id = ? AND b.deleted_at IS NULL"
				  " AND b.role = a.role AND b.product = a.product"
				  " AND (b.role <> 'msl' OR b.rep_id = a.rep_id)) ORDER BY a.id",
				  args, 2, moved, err);
	json_object_set_new(undo, "alignments_ended", ended);
	json_object_set_new(undo, "alignments_moved", moved);
	if (rc == 0)
		rc = mr_merge_each(c, "UPDATE alignments SET deleted_at = ? WHERE id = ?", now, 1, ended, err);
	if (rc == 0)
		rc = mr_merge_each(c, "UPDATE alignments SET hcp_id = ? WHERE id = ?", s, 1, moved, err);
	return rc;
}

/* Moves consents, except one the survivor has for the same channel, purpose and time. */
static int mr_merge_consents(struct mr_conn *c, int64_t s, int64_t m, json_t *undo,
			     struct mr_err *err)
{
	struct mr_val args[] = { mr_v_int(m), mr_v_int(s) };
	json_t *moved = json_array();
	int rc = mr_merge_ids(c,
			      "SELECT a.id FROM consents a WHERE a.hcp_id = ? AND NOT EXISTS (SELECT 1 FROM consents b"
			      " WHERE b.hcp_id = ? AND b.channel = a.channel AND b.purpose = a.purpose"
			      " AND b.captured_at = a.captured_at) ORDER BY a.id",
			      args, 2, moved, err);

	json_object_set_new(undo, "consents_moved", moved);
	if (rc == 0)
		rc = mr_merge_each(c, "UPDATE consents SET hcp_id = ? WHERE id = ?", s, 1, moved, err);
	return rc;
}

static int mr_merge_record(struct mr_conn *c, const struct mr_merge_row *s,
			   const struct mr_merge_row *m, const struct mr_merge_opts *o, json_t *lineage,
			   json_t *undo, const struct mr_md_actor *who, int64_t *merge_id,
			   struct mr_err *err)
{
	char *lin = json_dumps(lineage, JSON_SORT_KEYS | JSON_COMPACT);
	char *und = json_dumps(undo, JSON_SORT_KEYS | JSON_COMPACT);
	struct mr_val args[] = { mr_v_int(s->id), mr_v_int(m->id), mr_v_text(o->rule),
				 o->score >= 0 ? mr_v_real(o->score) : mr_v_null(), mr_v_text(lin),
				 mr_v_text(und), mr_v_int(who->now), mr_v_text(who->login) };
	int rc = mr_conn_exec(c, "INSERT INTO hcp_merges (survivor_id, merged_id, rule, score, lineage,"
			      " undo, merged_at, merged_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			      args, 8, NULL, err);

	free(lin);
	free(und);
	if (rc == 0)
		rc = mr_conn_query_int(c, "SELECT MAX(id) FROM hcp_merges WHERE merged_id = ?", &args[1], 1,
				       merge_id, err);
	return rc;
}

int mr_hcp_merge(struct mr_conn *c, int64_t survivor_id, int64_t merged_id,
		 const struct mr_merge_opts *o, const struct mr_md_actor *who, int64_t *merge_id,
		 struct mr_err *err)
{
	struct mr_merge_row s, m;
	json_t *undo = json_object(), *cols = json_array(), *taken = json_object(), *lineage;
	int rc = mr_merge_row_load(c, survivor_id, &s, err);

	memset(&m, 0, sizeof(m));
	if (rc == 0)
		rc = mr_merge_row_load(c, merged_id, &m, err);
	if (rc == 0)
		rc = mr_merge_check(&s, &m, err);
	json_object_set_new(undo, "survivor_updated_at", json_integer(s.updated_at));
	json_object_set_new(undo, "merged_updated_at", json_integer(m.updated_at));
	json_object_set_new(undo, "columns", cols);
	if (rc == 0)
		rc = mr_merge_fields(c, &s, &m, o, cols, taken, err);
	if (rc == 0)
		rc = mr_merge_identities(c, survivor_id, merged_id, undo, err);
	if (rc == 0)
		rc = mr_merge_alignments(c, survivor_id, merged_id, who->now, undo, err);
	if (rc == 0)
		rc = mr_merge_consents(c, survivor_id, merged_id, undo, err);
	if (rc == 0) {
		struct mr_val args[] = { mr_v_int(survivor_id), mr_v_int(who->now), mr_v_int(merged_id),
					 mr_v_int(who->now), mr_v_int(survivor_id) };

		rc = mr_conn_exec(c, "UPDATE hcps SET merged_into = ?, updated_at = ? WHERE id = ?", args, 3,
				  NULL, err);
		if (rc == 0)
			rc = mr_conn_exec(c, "UPDATE hcps SET updated_at = ? WHERE id = ?", args + 3, 2, NULL, err);
	}
	lineage = json_pack("{s:[s,s], s:s, s:o, s:o, s:s?}", "source_records", s.ext, m.ext, "rule",
			    o->rule, "score", o->score >= 0 ? json_real(o->score) : json_null(),
			    "fields_taken", taken, "reason", o->reason);
	if (o->detail)
		json_object_set(lineage, "detail", o->detail);
	if (rc == 0)
		rc = mr_merge_record(c, &s, &m, o, lineage, undo, who, merge_id, err);
	if (rc == 0)
		rc = mr_md_change(c, "hcp", survivor_id, "merge", m.ext, s.ext, who, err);
	if (rc == 0)
		rc = mr_md_change(c, "hcp", merged_id, "merged_into", NULL, s.ext, who, err);
	json_decref(lineage);
	json_decref(undo);
	mr_merge_row_release(&s);
	mr_merge_row_release(&m);
	return rc;
}

struct mr_merge_rec {
	int64_t survivor, merged;
	int undone;
	json_t *undo;
	char survivor_ext[MR_MD_EXT_MAX + 1], merged_ext[MR_MD_EXT_MAX + 1];
};

static int mr_merge_load(struct mr_conn *c, int64_t id, struct mr_merge_rec *r, struct mr_err *err)
{
	struct mr_val arg = mr_v_int(id);
	struct mr_rows *rows = NULL;
	int rc = mr_conn_query(c,
			       "SELECT m.survivor_id, m.merged_id, m.undone_at, m.undo, s.ext_id, x.ext_id"
			       " FROM hcp_merges m JOIN hcps s ON s.id = m.survivor_id"
			       " JOIN hcps x ON x.id = m.merged_id WHERE m.id = ?",
			       &arg, 1, &rows, err);

	memset(r, 0, sizeof(*r));
	if (rc == 0 && (rc = mr_rows_next(rows, err)) == 0)
		rc = mr_err_set(err, MR_ENOTFOUND, "merge %lld does not exist", (long long)id);
	if (rc == 1) {
		r->survivor = mr_rows_int(rows, 0);
		r->merged = mr_rows_int(rows, 1);
		r->undone = !mr_rows_isnull(rows, 2);
		r->undo = json_loads(mr_rows_text(rows, 3), 0, NULL);
		snprintf(r->survivor_ext, sizeof(r->survivor_ext), "%s", mr_rows_text(rows, 4));
		snprintf(r->merged_ext, sizeof(r->merged_ext), "%s", mr_rows_text(rows, 5));
		rc = r->undo ? 0 : mr_err_set(err, MR_EINTERNAL, "merge %lld has no undo record", (long long)id);
	}
	mr_rows_close(rows);
	return rc;
}

/* A later merge touching either record that still stands blocks this unmerge. */
static int mr_unmerge_check(struct mr_conn *c, int64_t id, const struct mr_merge_rec *r,
			    struct mr_err *err)
{
	struct mr_val args[] = { mr_v_int(id), mr_v_int(r->survivor), mr_v_int(r->merged),
				 mr_v_int(r->survivor), mr_v_int(r->merged) };
	int64_t later = 0;
	int rc;

	if (r->undone)
		return mr_err_set(err, MR_ECONFLICT, "merge %lld was undone already", (long long)id);
	rc = mr_conn_query_int(c, "SELECT COALESCE(MIN(id), 0) FROM hcp_merges WHERE id > ? AND undone_at IS NULL"
			       " AND (survivor_id IN (?, ?) OR merged_id IN (?, ?))", args, 5, &later, err);
	if (rc == 0 && later)
		return mr_err_set(err, MR_ECONFLICT, "merge %lld came later and involves the same records;"
				  " undo it first", (long long)later);
	return rc;
}

static int mr_merge_col_index(const char *col)
{
	for (int i = 0; i < MR_MERGE_NCOLS; i++) {
		if (strcmp(mr_merge_cols[i].col, col) == 0)
			return i;
	}
	return -1;
}

/* Puts back the survivor's columns that still hold what the merge set; the others go in kept. */
static int mr_unmerge_cols(struct mr_conn *c, const struct mr_merge_rec *r, json_t *kept,
			   struct mr_err *err)
{
	struct mr_merge_row now;
	json_t *cols = json_object_get(r->undo, "columns"), *x;
	size_t i;
	int rc = mr_merge_row_load(c, r->survivor, &now, err);

	json_array_foreach(cols, i, x) {
		int k = mr_merge_col_index(json_string_value(json_object_get(x, "col")));
		const char *want = json_string_value(json_object_get(x, "new"));
		const char *old = json_string_value(json_object_get(x, "old"));

		if (rc < 0 || k < 0)
			break;
		if (!mr_merge_empty(want) ? !now.val[k] || strcmp(now.val[k], want) != 0 : !mr_merge_empty(now.val[k])) {
			if (mr_merge_cols[k].field)
				json_array_append_new(kept, json_string(mr_merge_cols[k].field));
			continue;
		}
		rc = mr_merge_set_col(c, r->survivor, k, old, err);
	}
	mr_merge_row_release(&now);
	return rc;
}

static int mr_unmerge_rows(struct mr_conn *c, const struct mr_merge_rec *r, struct mr_err *err)
{
	json_t *ids = json_object_get(r->undo, "identities"), *x;
	size_t i;
	int rc = 0;

	json_array_foreach(ids, i, x) {
		struct mr_val args[] = { mr_v_int(r->merged),
					 mr_v_int(json_integer_value(json_object_get(x, "primary"))),
					 mr_v_int(json_integer_value(json_object_get(x, "id"))) };

		rc = mr_conn_exec(c, "UPDATE hcp_identities SET hcp_id = ?, is_primary = ? WHERE id = ?", args,
				  3, NULL, err);
		if (rc < 0)
			return rc;
	}
	rc = mr_merge_each(c, "UPDATE alignments SET hcp_id = ? WHERE id = ?", r->merged, 1,
			   json_object_get(r->undo, "alignments_moved"), err);
	if (rc == 0)
		rc = mr_merge_each(c, "UPDATE alignments SET deleted_at = NULL WHERE id = ?", 0, 0,
				   json_object_get(r->undo, "alignments_ended"), err);
	if (rc == 0)
		rc = mr_merge_each(c, "UPDATE consents SET hcp_id = ? WHERE id = ?", r->merged, 1,
				   json_object_get(r->undo, "consents_moved"), err);
	return rc;
}

int mr_hcp_unmerge(struct mr_conn *c, int64_t merge_id, const struct mr_md_actor *who,
		   json_t **kept_out, struct mr_err *err)
{
	struct mr_merge_rec r;
	json_t *kept = json_array();
	int rc = mr_merge_load(c, merge_id, &r, err);

	if (rc == 0)
		rc = mr_unmerge_check(c, merge_id, &r, err);
	if (rc == 0)
		rc = mr_unmerge_cols(c, &r, kept, err);
	if (rc == 0)
		rc = mr_unmerge_rows(c, &r, err);
	if (rc == 0) {
		struct mr_val m[] = { mr_v_int(json_integer_value(json_object_get(r.undo, "merged_updated_at"))),
				      mr_v_int(r.merged) };
		struct mr_val s[] = { mr_v_int(json_integer_value(json_object_get(r.undo, "survivor_updated_at"))),
				      mr_v_int(r.survivor) };
		struct mr_val d[] = { mr_v_int(who->now), mr_v_text(who->login), mr_v_int(merge_id) };

		rc = mr_conn_exec(c, "UPDATE hcps SET merged_into = NULL, updated_at = ? WHERE id = ?", m, 2,
				  NULL, err);
		if (rc == 0 && json_array_size(kept) == 0)
			rc = mr_conn_exec(c, "UPDATE hcps SET updated_at = ? WHERE id = ?", s, 2, NULL, err);
		if (rc == 0)
			rc = mr_conn_exec(c, "UPDATE hcp_merges SET undone_at = ?, undone_by = ? WHERE id = ?", d,
					  3, NULL, err);
	}
	if (rc == 0)
		rc = mr_md_change(c, "hcp", r.survivor, "unmerge", r.merged_ext, NULL, who, err);
	if (rc == 0)
		rc = mr_md_change(c, "hcp", r.merged, "merged_into", r.survivor_ext, NULL, who, err);
	json_decref(r.undo);
	if (rc == 0 && kept_out)
		*kept_out = kept;
	else
		json_decref(kept);
	return rc;
}

int mr_merge_list(struct mr_conn *c, int64_t hcp_id, int limit, int64_t cursor, json_t *items,
		  int64_t *next, struct mr_err *err)
{
	struct mr_val args[] = { mr_v_int(cursor ? cursor : INT64_MAX), mr_v_int(hcp_id),
				 mr_v_int(hcp_id), mr_v_int(hcp_id), mr_v_int(limit + 1) };
	struct mr_rows *rows = NULL;
	int n = 0;
	int rc = mr_conn_query(c,
			       "SELECT m.id, s.ext_id, x.ext_id, m.rule, m.score, m.lineage, m.merged_at,"
			       " m.merged_by, m.undone_at, m.undone_by FROM hcp_merges m"
			       " JOIN hcps s ON s.id = m.survivor_id JOIN hcps x ON x.id = m.merged_id"
			       " WHERE m.id < ? AND (? = 0 OR m.survivor_id = ? OR m.merged_id = ?)"
			       " ORDER BY m.id DESC LIMIT ?",
			       args, 5, &rows, err);

	*next = 0;
	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		json_t *lineage = json_loads(mr_rows_text(rows, 5), 0, NULL);

		rc = 0;
		if (n == limit) {
			json_decref(lineage);
			*next = json_integer_value(json_object_get(json_array_get(items, (size_t)n - 1), "id"));
			break;
		}
		json_array_append_new(items, json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:I, s:s?, s:o, s:s?}",
			"id", (json_int_t)mr_rows_int(rows, 0), "survivor", mr_rows_text(rows, 1),
			"merged", mr_rows_text(rows, 2), "rule", mr_rows_text(rows, 3),
			"score", mr_rows_isnull(rows, 4) ? json_null() : json_real(mr_rows_real(rows, 4)),
			"lineage", lineage ? lineage : json_object(), "merged_at", (json_int_t)mr_rows_int(rows, 6),
			"merged_by", mr_rows_text(rows, 7),
			"undone_at", mr_rows_isnull(rows, 8) ? json_null() : json_integer(mr_rows_int(rows, 8)),
			"undone_by", mr_rows_text(rows, 9)));
		n++;
	}
	mr_rows_close(rows);
	return rc < 0 ? rc : 0;
}
