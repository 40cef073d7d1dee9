/*
 * The probabilistic step of identity resolution over the store (see
 * resolve.h). Personal values (phone, licence number, email) are opened
 * into memory only for the comparison and never written anywhere else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/time.h"
#include "crypto/pii.h"
#include "identity/dedupe.h"
#include "md/ident.h"
#include "md/merge.h"
#include "md/resolve.h"

/* The fields compared, their kinds, and the column of the load query each comes from. */
static const char *const mr_resolve_cols[] = { "name", "pinyin", "hco", "specialty", "phone",
					       "license_no", "email" };
static const enum mr_cmp_kind mr_resolve_kinds[] = { MR_CMP_NAME, MR_CMP_NAME, MR_CMP_EXACT,
						     MR_CMP_EXACT, MR_CMP_PHONE, MR_CMP_ID,
						     MR_CMP_EXACT };
enum { MR_RESOLVE_NCOLS = 7 };

/* The primary identities of every live HCP, opened, as row -> value per kind. */
static int mr_resolve_idents(struct mr_conn *c, const struct mr_keys *k, const int64_t *ids, size_t n,
			     char **cells, struct mr_err *err)
{
	struct mr_rows *rows = NULL;
	char plain[MR_PII_MAX + 1];
	size_t at = 0;
	int rc = mr_conn_query(c,
			       "SELECT i.hcp_id, i.kind, i.value_enc FROM hcp_identities i JOIN hcps h ON h.id = i.hcp_id"
			       " WHERE i.is_primary = 1 AND h.deleted_at IS NULL AND h.merged_into IS NULL"
			       " AND i.kind IN ('phone', 'license_no', 'email') ORDER BY i.hcp_id",
			       NULL, 0, &rows, err);

	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		int64_t hcp = mr_rows_int(rows, 0);
		const char *kind = mr_rows_text(rows, 1);
		size_t len = 0;
		const void *sealed = mr_rows_blob(rows, 2, &len);
		int col = strcmp(kind, "phone") == 0 ? 4 : strcmp(kind, "license_no") == 0 ? 5 : 6;

		rc = 0;
		while (at < n && ids[at] < hcp)
			at++;
		if (at == n || ids[at] != hcp)
			continue;
		rc = mr_pii_open(k, sealed, len, plain, sizeof(plain), err);
		if (rc == 0) {
			free(cells[at * MR_RESOLVE_NCOLS + (size_t)col]);
			cells[at * MR_RESOLVE_NCOLS + (size_t)col] = mr_strdup(plain);
		}
	}
	mr_rows_close(rows);
	return rc < 0 ? rc : 0;
}

/* Loads every live HCP into t; ids[i] is row i's internal id (ascending). */
static int mr_resolve_load(struct mr_conn *c, const struct mr_keys *k, struct mr_dedupe_table *t,
			   int64_t **ids_out, struct mr_err *err)
{
	struct mr_rows *rows = NULL;
	int64_t *ids = NULL;
	char **cells = NULL;
	size_t n = 0, cap = 0;
	int rc = mr_conn_query(c,
			       "SELECT h.id, h.name, h.pinyin_key, (SELECT ext_id FROM hcos WHERE id = h.hco_id),"
			       " h.specialty FROM hcps h WHERE h.deleted_at IS NULL AND h.merged_into IS NULL"
			       " ORDER BY h.id",
			       NULL, 0, &rows, err);

	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		rc = 0;
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			ids = mr_realloc(ids, cap * sizeof(*ids));
			cells = mr_realloc(cells, cap * MR_RESOLVE_NCOLS * sizeof(*cells));
		}
		ids[n] = mr_rows_int(rows, 0);
		for (int i = 0; i < MR_RESOLVE_NCOLS; i++) {
			const char *s = i < 4 ? mr_rows_text(rows, 1 + i) : NULL;

			cells[n * MR_RESOLVE_NCOLS + (size_t)i] = s ? mr_strdup(s) : NULL;
		}
		n++;
	}
	mr_rows_close(rows);
	if (rc == 0)
		rc = mr_resolve_idents(c, k, ids, n, cells, err);
	for (size_t r = 0; r < n; r++) {
		if (rc == 0)
			mr_dedupe_table_add(t, (const char *const *)&cells[r * MR_RESOLVE_NCOLS], NULL);
		for (int i = 0; i < MR_RESOLVE_NCOLS; i++)
			free(cells[r * MR_RESOLVE_NCOLS + (size_t)i]);
	}
	free(cells);
	*ids_out = ids;
	return rc < 0 ? rc : 0;
}

/* The per-field comparison of rows a and b, for the lineage and the review screen. */
static json_t *mr_resolve_detail(const struct mr_dedupe_table *t, const struct mr_fs_model *m,
				 size_t a, size_t b, double *prob)
{
	const char *va[MR_RESOLVE_NCOLS], *vb[MR_RESOLVE_NCOLS];
	struct mr_fs_score s;
	json_t *out = json_array();

	for (int i = 0; i < MR_RESOLVE_NCOLS; i++) {
		va[i] = mr_dedupe_cell(t, a, i);
		vb[i] = mr_dedupe_cell(t, b, i);
	}
	mr_fs_score_values(m, va, vb, &s);
	for (int i = 0; i < MR_RESOLVE_NCOLS; i++)
		json_array_append_new(out, json_pack("{s:s, s:s, s:f}", "field", mr_resolve_cols[i],
						     "level", mr_cmp_level_name(mr_resolve_kinds[i], s.term[i].level),
						     "weight", s.term[i].weight));
	*prob = s.prob;
	return out;
}

struct mr_resolve_job {
	const struct mr_dedupe_table *t;
	const struct mr_dedupe_result *res;
	const int64_t *ids;
	const struct mr_md_actor *who;
	struct mr_resolve_stats *st;
};

/* 1 when a field other than the name agrees: the hospital, a phone, the licence or the email. */
static int mr_resolve_corroborated(json_t *detail)
{
	static const char *const strong[] = { "hco", "phone", "license_no", "email", NULL };
	size_t i;
	json_t *x;

	json_array_foreach(detail, i, x) {
		const char *field = json_string_value(json_object_get(x, "field"));

		for (int k = 0; strong[k]; k++) {
			if (strcmp(field, strong[k]) == 0 && json_real_value(json_object_get(x, "weight")) > 0)
				return 1;
		}
	}
	return 0;
}

/* Adds the pair (rows a < b) to the review queue unless it is there (or was decided) already. */
static int mr_resolve_queue(struct mr_conn *c, struct mr_resolve_job *j, size_t a, size_t b,
			    double prob, json_t *detail, struct mr_err *err)
{
	char *text = json_dumps(detail, JSON_COMPACT);
	struct mr_val args[] = { mr_v_int(j->ids[a < b ? a : b]), mr_v_int(j->ids[a < b ? b : a]),
				 mr_v_real(prob), mr_v_text(text), mr_v_int(j->who->now) };
	int64_t added = 0;
	int rc = mr_conn_exec(c, "INSERT INTO match_reviews (a_id, b_id, score, detail, status, created_at)"
			      " VALUES (?, ?, ?, ?, 'pending', ?) ON CONFLICT (a_id, b_id) DO NOTHING",
			      args, 5, &added, err);

	j->st->queued += added;
	free(text);
	return rc;
}

static int mr_resolve_write(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_resolve_job *j = arg;
	const struct mr_dedupe_result *res = j->res;
	int rc = 0;

	j->st->merged = 0;
	j->st->queued = 0;
	for (size_t r = 0; rc == 0 && r < j->t->nrows; r++) {
		size_t root = res->cluster[r];
		struct mr_merge_opts o = { .rule = "fellegi_sunter" };
		int64_t merge_id;

		int64_t rejected = 0;
		struct mr_val pair[] = { mr_v_int(j->ids[root]), mr_v_int(j->ids[r]) };

		if (root == r)
			continue;
		/* a person said these two are different doctors: that stands */
		rc = mr_conn_query_int(c, "SELECT COUNT(*) FROM match_reviews WHERE status = 'rejected'"
				       " AND a_id = ? AND b_id = ?", pair, 2, &rejected, err);
		if (rc < 0 || rejected)
			continue;
		o.detail = mr_resolve_detail(j->t, &res->model, root, r, &o.score);
		if (!mr_resolve_corroborated(o.detail)) {
			/* a name alone never merges a doctor: a person looks first */
			rc = mr_resolve_queue(c, j, root, r, o.score, o.detail, err);
			json_decref(o.detail);
			continue;
		}
		rc = mr_hcp_merge(c, j->ids[root], j->ids[r], &o, j->who, &merge_id, err);
		json_decref(o.detail);
		j->st->merged += rc == 0;
	}
	for (size_t i = 0; rc == 0 && i < res->nreview; i++) {
		const struct mr_dedupe_pair *p = &res->review[i];
		/* a record merged just now is reviewed as its survivor */
		size_t a = res->cluster[p->a], b = res->cluster[p->b];
		double prob;
		json_t *detail;

		if (a == b)
			continue;
		if (a > b) {
			size_t x = a;

			a = b;
			b = x;
		}
		detail = mr_resolve_detail(j->t, &res->model, a, b, &prob);
		rc = mr_resolve_queue(c, j, a, b, prob, detail, err);
		json_decref(detail);
	}
	return rc;
}

int mr_resolve_run(struct mr_conn *rc_conn, const struct mr_keys *k, double upper, double lower,
		   mr_resolve_commit_fn commit, void *ctx, const struct mr_md_actor *who,
		   struct mr_resolve_stats *st, struct mr_err *err)
{
	struct mr_dedupe_table t;
	struct mr_dedupe_opts o;
	struct mr_dedupe_result res;
	struct mr_resolve_job j;
	int64_t *ids = NULL, t0 = mr_mono_us();
	int rc;

	memset(st, 0, sizeof(*st));
	memset(&o, 0, sizeof(o));
	memset(&res, 0, sizeof(res));
	mr_dedupe_table_init(&t, MR_RESOLVE_NCOLS, mr_resolve_cols);
	rc = mr_resolve_load(rc_conn, k, &t, &ids, err);
	st->hcps = (int64_t)t.nrows;
	o.nfields = MR_RESOLVE_NCOLS;
	for (int i = 0; i < MR_RESOLVE_NCOLS; i++) {
		o.field[i].column = i;
		o.field[i].kind = mr_resolve_kinds[i];
	}
	o.upper = upper;
	o.lower = lower;
	if (rc == 0 && t.nrows >= 2)
		rc = mr_dedupe_run(&t, &o, &res, err);
	if (rc == 0 && t.nrows >= 2) {
		j = (struct mr_resolve_job){ &t, &res, ids, who, st };
		st->candidates = (int64_t)res.stats.candidates;
		st->upper = res.model.upper;
		st->lower = res.model.lower;
		st->model = mr_fs_to_json(&res.model);
		rc = commit(ctx, mr_resolve_write, &j, err);
		mr_dedupe_result_release(&res);
	}
	st->took_us = mr_mono_us() - t0;
	mr_dedupe_table_release(&t);
	free(ids);
	return rc;
}

/* The JSON of one HCP for the review screen: the fields a person compares. */
static json_t *mr_review_side(struct mr_conn *c, int64_t id, struct mr_err *err)
{
	json_t *o = NULL;

	if (mr_md_get(c, &mr_md_hcp, id, &o, err) < 0)
		return json_null();
	return o;
}

int mr_review_list(struct mr_conn *c, const char *status, int limit, int64_t cursor, json_t *items,
		   int64_t *next, struct mr_err *err)
{
	struct mr_val args[] = { mr_v_text(status), mr_v_int(cursor), mr_v_int(limit + 1) };
	struct mr_rows *rows = NULL;
	int n = 0;
	int rc = mr_conn_query(c,
			       "SELECT id, a_id, b_id, score, detail, status, reason, created_at, decided_at,"
			       " decided_by FROM match_reviews WHERE status = ? AND id > ?"
			       " ORDER BY id LIMIT ?",
			       args, 3, &rows, err);
	int64_t last = 0;

	*next = 0;
	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		json_t *detail;

		rc = 0;
		if (n == limit) {
			*next = last;
			break;
		}
		detail = json_loads(mr_rows_text(rows, 4), 0, NULL);
		json_array_append_new(items, json_pack("{s:I, s:I, s:I, s:f, s:o, s:s, s:s?, s:I, s:o, s:s?}",
			"id", (json_int_t)mr_rows_int(rows, 0), "a_id", (json_int_t)mr_rows_int(rows, 1),
			"b_id", (json_int_t)mr_rows_int(rows, 2), "score", mr_rows_real(rows, 3),
			"detail", detail ? detail : json_array(), "status", mr_rows_text(rows, 5),
			"reason", mr_rows_text(rows, 6), "created_at", (json_int_t)mr_rows_int(rows, 7),
			"decided_at", mr_rows_isnull(rows, 8) ? json_null() : json_integer(mr_rows_int(rows, 8)),
			"decided_by", mr_rows_text(rows, 9)));
		last = mr_rows_int(rows, 0);
		n++;
	}
	mr_rows_close(rows);
	if (rc < 0)
		return rc;
	/* both records side by side */
	for (size_t i = 0; i < json_array_size(items); i++) {
		json_t *it = json_array_get(items, i);

		json_object_set_new(it, "a", mr_review_side(c, json_integer_value(json_object_get(it, "a_id")), err));
		json_object_set_new(it, "b", mr_review_side(c, json_integer_value(json_object_get(it, "b_id")), err));
		json_object_del(it, "a_id");
		json_object_del(it, "b_id");
	}
	return 0;
}

int mr_review_decide(struct mr_conn *c, int64_t id, int accept, const char *reason,
		     const struct mr_md_actor *who, int64_t *merge_id, struct mr_err *err)
{
	struct mr_val arg = mr_v_int(id);
	struct mr_rows *rows = NULL;
	int64_t a = 0, b = 0;
	double score = 0;
	json_t *detail = NULL;
	char status[16] = "";
	int rc = mr_conn_query(c, "SELECT a_id, b_id, score, status, detail FROM match_reviews WHERE id = ?",
			       &arg, 1, &rows, err);

	*merge_id = 0;
	if (rc == 0 && (rc = mr_rows_next(rows, err)) == 0)
		rc = mr_err_set(err, MR_ENOTFOUND, "review item %lld does not exist", (long long)id);
	if (rc == 1) {
		a = mr_rows_int(rows, 0);
		b = mr_rows_int(rows, 1);
		score = mr_rows_real(rows, 2);
		snprintf(status, sizeof(status), "%s", mr_rows_text(rows, 3));
		detail = json_loads(mr_rows_text(rows, 4), 0, NULL);
		rc = 0;
	}
	mr_rows_close(rows);
	if (rc == 0 && strcmp(status, "pending") != 0)
		rc = mr_err_set(err, MR_ECONFLICT, "review item %lld was %s already", (long long)id, status);
	if (rc == 0 && !accept && (!reason || !*reason))
		rc = mr_err_field(err, MR_EINVAL, "reason", "say why the two records are different doctors");
	if (rc == 0 && accept) {
		struct mr_merge_opts o = { .rule = "review", .score = score, .detail = detail,
					   .reason = reason };

		rc = mr_hcp_merge(c, a < b ? a : b, a < b ? b : a, &o, who, merge_id, err);
	}
	if (rc == 0) {
		struct mr_val args[] = { mr_v_text(accept ? "accepted" : "rejected"), mr_v_text(reason),
					 mr_v_int(who->now), mr_v_text(who->login), mr_v_int(id) };

		rc = mr_conn_exec(c, "UPDATE match_reviews SET status = ?, reason = ?, decided_at = ?,"
				  " decided_by = ? WHERE id = ?", args, 5, NULL, err);
	}
	json_decref(detail);
	return rc;
}

int mr_resolve_arrival(struct mr_conn *c, const struct mr_keys *k, const struct mr_md_rec *rec,
		       int mode, const struct mr_md_actor *who, struct mr_md_result *res,
		       int64_t *merged_into, struct mr_err *err)
{
	static const char *const keys[] = { "license_no", "phone" }; /* the verified kinds, strongest first */
	struct mr_val arg = mr_v_text(rec->ext_id);
	struct mr_md_rec own = *rec;
	struct mr_merge_opts o = { .score = -1 };
	char rule[48];
	int64_t known = 0, holder = 0, merge_id;
	int rc = mr_conn_query_int(c, "SELECT COUNT(*) FROM hcps WHERE ext_id = ?", &arg, 1, &known, err);

	*merged_into = 0;
	for (size_t i = 0; rc == 0 && !known && !holder && i < sizeof(keys) / sizeof(keys[0]); i++) {
		int f = mr_md_field_index(&mr_md_hcp, keys[i]);

		if (!rec->val[f] || !*rec->val[f])
			continue;
		rc = mr_ident_find(c, k, keys[i], "", rec->val[f], &holder, err);
		if (rc == MR_ENOTFOUND) {
			mr_err_clear(err);
			rc = 0;
			continue;
		}
		if (rc == 0) {
			own.val[f] = NULL; /* it stays with its holder */
			snprintf(rule, sizeof(rule), "deterministic:%s", keys[i]);
		}
	}
	if (rc == 0 && holder) {
		/* the other contact field may be the holder's too: it moves with the merge anyway */
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			int f = mr_md_field_index(&mr_md_hcp, keys[i]);
			int64_t h2 = 0;

			if (own.val[f] && *own.val[f] &&
			    mr_ident_find(c, k, keys[i], "", own.val[f], &h2, err) == 0 && h2 == holder)
				own.val[f] = NULL;
			mr_err_clear(err);
		}
	}
	if (rc == 0)
		rc = mr_md_upsert(c, k, &own, mode, who, res, err);
	if (rc == 0 && holder) {
		o.rule = rule;
		rc = mr_hcp_merge(c, holder, res->id, &o, who, &merge_id, err);
		*merged_into = holder;
	}
	return rc;
}
