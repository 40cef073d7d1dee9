/*
 * The HCP directory (src/engine/hcpdir.c) against the store it mirrors:
 * on a demo world of 3,000 doctors, every page of many searches (names,
 * pinyin, initials; a prefix of a few or of thousands of doctors) in every
 * kind of scope (everyone, a rep, a manager's team, nobody) must list the
 * same HCPs in the same order as the SQL of md/query.c, page after page.
 * Then master data changes — a rename, a delete, a merge and its undo, an
 * ended and a new alignment, a new doctor, a rep leaving a team — and
 * after a sync the pages must still agree, as must the external-id lookup.
 */
#include "unit.h"

#include "base/arena.h"
#include "base/buf.h"
#include "base/time.h"
#include "demo/world.h"
#include "engine/hcpdir.h"
#include "md/import.h"
#include "md/md.h"
#include "md/merge.h"
#include "md/relate.h"

struct loader {
	struct mr_store *store;
	struct mr_keys keys;
	struct mr_importer *im;
	int ncols;
	int64_t line;
};

static int commit_fn(void *ctx, mr_write_fn fn, void *arg, struct mr_err *err)
{
	return mr_store_write(((struct loader *)ctx)->store, fn, arg, err);
}

static int sink_begin(void *arg, const char *entity, int ncols, const char *const *cols,
		      struct mr_err *err)
{
	struct loader *l = arg;
	struct mr_import_opts o = { .entity = entity, .keys = &l->keys, .commit = commit_fn,
				    .commit_ctx = l, .batch = 2000 };

	o.who.login = "test";
	o.who.source = "demo";
	l->ncols = ncols;
	l->line = 1;
	assert_int_equal(mr_importer_new(&l->im, &o, err), 0);
	return mr_importer_header(l->im, ncols, cols, 1, err);
}

static int sink_row(void *arg, const char *const *vals, struct mr_err *err)
{
	struct loader *l = arg;

	return mr_importer_row(l->im, l->ncols, vals, ++l->line, err);
}

static int sink_end(void *arg, const char *entity, struct mr_err *err)
{
	struct loader *l = arg;
	struct mr_import_report rep;
	int rc = mr_importer_finish(l->im, &rep, err);

	(void)entity;
	assert_int_equal(rc, 0);
	assert_int_equal(rep.failed, 0);
	mr_import_report_release(&rep);
	mr_importer_free(l->im);
	l->im = NULL;
	return 0;
}

static void load_world(struct mr_store *s, int64_t hcps)
{
	struct loader l = { .store = s };
	struct mr_demo_opts o = { hcps, 11, 0.03, mr_now_us() - 30 * 86400 * MR_US_PER_S };
	struct mr_demo_sink sink = { &l, sink_begin, sink_row, sink_end };
	struct mr_err err;

	mr_test_keys(&l.keys, 7);
	mr_err_clear(&err);
	if (mr_demo_world(&o, &sink, NULL, &err) < 0)
		fail_msg("demo world: %s", err.msg);
}

/* The ids (as "id,id,...") of every page of q in scope s, by the store or by the directory. */
static char *all_pages(struct mr_store *st, struct mr_hcpdir *d, struct mr_md_query q,
		       const struct mr_scope *s)
{
	struct mr_buf out;
	struct mr_conn *c = NULL;
	struct mr_err err;
	int pages = 0;

	mr_err_clear(&err);
	mr_buf_init(&out, 1 << 24);
	assert_int_equal(mr_store_acquire(st, &c, &err), 0);
	do {
		json_t *items = json_array();
		int64_t next = 0, ids[MR_MD_PAGE_IDS];
		size_t i;
		json_t *it;
		int n = 0;

		if (d) {
			assert_int_equal(mr_hcpdir_sync(d, c, &err), 0);
			assert_int_equal(mr_hcpdir_page(d, &q, s, ids, &n), 1);
			assert_int_equal(mr_md_list_ids(c, &mr_md_hcp, ids, n, q.limit, items, &next, &err), 0);
		} else {
			assert_int_equal(mr_md_list(c, &mr_md_hcp, s, &q, items, &next, &err), 0);
		}
		json_array_foreach(items, i, it)
			mr_buf_addf(&out, "%s,", json_string_value(json_object_get(it, "id")));
		mr_buf_adds(&out, "|");
		json_decref(items);
		q.cursor = next;
	} while (q.cursor && ++pages < 1000);
	mr_store_release(st, c);
	return mr_buf_detach(&out, NULL);
}

/* A query term from row k of the HCPs: a name, pinyin or initials prefix of some length. */
static int term_of(struct mr_store *st, int k, char *out, size_t n)
{
	static const char *const sql[] = {
		"SELECT substr(name, 1, 1) FROM hcps WHERE id = ?",
		"SELECT substr(name, 1, 2) FROM hcps WHERE id = ?",
		"SELECT substr(pinyin_key, 1, 2) FROM hcps WHERE id = ?",
		"SELECT substr(pinyin_key, 1, 5) FROM hcps WHERE id = ?",
		"SELECT substr(initials, 1, 2) FROM hcps WHERE id = ?",
		"SELECT pinyin FROM hcps WHERE id = ?",
	};
	struct mr_conn *c = NULL;
	struct mr_rows *rows = NULL;
	struct mr_val arg = mr_v_int(1 + (k * 7919) % 2900);
	struct mr_err err;
	int found = 0;

	assert_int_equal(mr_store_acquire(st, &c, &err), 0);
	assert_int_equal(mr_conn_query(c, sql[k % 6], &arg, 1, &rows, &err), 0);
	if (mr_rows_next(rows, &err) == 1 && mr_rows_text(rows, 0)) {
		snprintf(out, n, "%s", mr_rows_text(rows, 0));
		found = 1;
	}
	mr_rows_close(rows);
	mr_store_release(st, c);
	return found;
}

static int64_t one_int(struct mr_store *st, const char *sql)
{
	struct mr_conn *c = NULL;
	struct mr_err err;
	int64_t v = 0;

	assert_int_equal(mr_store_acquire(st, &c, &err), 0);
	if (mr_conn_query_int(c, sql, NULL, 0, &v, &err) < 0)
		fail_msg("%s: %s", sql, err.msg);
	mr_store_release(st, c);
	return v;
}

/*
 * The engine's snapshots against SQL: the records each scope may see (as
 * the store lists them with no term), and the alignments in force by role.
 */
static void compare_snapshots(struct mr_store *st, struct mr_hcpdir *d, const struct mr_scope *scopes,
			      int nscopes)
{
	static const char *const roles[] = { "field_owner", "inside_owner", "msl" };
	struct mr_hcpdir_align *al = NULL;
	size_t nal = 0, by_role[4] = { 0 };

	for (int s = 0; s < nscopes; s++) {
		struct mr_md_query q = { .limit = 500 };
		char *want = all_pages(st, NULL, q, &scopes[s]);
		unsigned char *in = NULL;
		uint32_t n = 0;
		int64_t ids[MR_MD_PAGE_IDS];
		int k = 0;
		struct mr_buf got;
		struct mr_conn *c = NULL;
		struct mr_err err;

		assert_int_equal(mr_hcpdir_scope_map(d, &scopes[s], &in, &n), 1);
		mr_buf_init(&got, 1 << 24);
		assert_int_equal(mr_store_acquire(st, &c, &err), 0);
		for (uint32_t id = 1; id < n; id++) {
			if (in[id])
				ids[k++] = id;
			if (k == 500 || (id == n - 1 && k)) {
				json_t *items = json_array(), *it;
				int64_t next = 0;
				size_t i;

				assert_int_equal(mr_md_list_ids(c, &mr_md_hcp, ids, k, 500, items, &next, &err), 0);
				json_array_foreach(items, i, it)
					mr_buf_addf(&got, "%s,", json_string_value(json_object_get(it, "id")));
				json_decref(items);
				k = 0;
			}
		}
		mr_store_release(st, c);
		/* the store pages by 500 with '|' between pages; compare the ids alone */
		{
			struct mr_buf w;

			mr_buf_init(&w, strlen(want) + 1);
			for (const char *x = want; *x; x++) {
				if (*x != '|')
					mr_buf_addf(&w, "%c", *x);
			}
			if (strcmp(mr_buf_str(&w), mr_buf_str(&got)) != 0)
				fail_msg("scope %d: store %.200s... map %.200s...", s, mr_buf_str(&w), mr_buf_str(&got));
			mr_buf_release(&w);
		}
		mr_buf_release(&got);
		free(in);
		free(want);
	}
	assert_int_equal(mr_hcpdir_alignments(d, scopes[0].at, &al, &nal), 1);
	assert_true(nal > 0);
	for (size_t i = 0; i < nal; i++) {
		assert_true(al[i].role <= MR_AL_MSL);
		by_role[al[i].role]++;
	}
	free(al);
	for (int r = 0; r < 3; r++) {
		char sql[512];

		snprintf(sql, sizeof(sql),
			 "SELECT COUNT(*) FROM alignments WHERE deleted_at IS NULL AND role = '%s'"
			 " AND valid_from <= %lld AND (valid_to IS NULL OR valid_to > %lld)",
			 roles[r], (long long)scopes[0].at, (long long)scopes[0].at);
		assert_int_equal(by_role[r + 1], one_int(st, sql));
	}
	assert_int_equal(by_role[0], 0);
}

/* Compares store and directory on many terms, limits and scopes; returns the comparisons made. */
static int compare_all(struct mr_store *st, struct mr_hcpdir *d)
{
	struct mr_scope scopes[5];
	int64_t now = mr_now_us();
	int compared = 0;

	memset(scopes, 0, sizeof(scopes));
	for (int i = 0; i < 5; i++)
		scopes[i].at = now;
	scopes[0].kind = MR_SCOPE_ALL;
	scopes[1].kind = MR_SCOPE_REP;
	scopes[1].rep_id = one_int(st, "SELECT rep_id FROM alignments WHERE deleted_at IS NULL"
				       " GROUP BY rep_id ORDER BY COUNT(*) DESC, rep_id LIMIT 1");
	scopes[2].kind = MR_SCOPE_TEAM;
	scopes[2].rep_id = one_int(st, "SELECT manager_id FROM reps WHERE manager_id IS NOT NULL"
				       " GROUP BY manager_id ORDER BY COUNT(*) DESC, manager_id LIMIT 1");
	scopes[3].kind = MR_SCOPE_TEAM; /* the top of the tree: everyone's manager's manager */
	scopes[3].rep_id = one_int(st, "SELECT MIN(id) FROM reps WHERE manager_id IS NULL");
	scopes[4].kind = MR_SCOPE_NONE;
	for (int k = 0; k < 36; k++) {
		struct mr_md_query q = { .limit = k % 3 == 0 ? 5 : k % 3 == 1 ? 20 : 500 };
		char term[64];

		if (!term_of(st, k, term, sizeof(term)))
			continue;
		q.q = term;
		for (int s = 0; s < 5; s++) {
			char *want = all_pages(st, NULL, q, &scopes[s]);
			char *got = all_pages(st, d, q, &scopes[s]);

			if (strcmp(want, got) != 0)
				fail_msg("q=%s limit=%d scope %d: store %.200s... directory %.200s...", term,
					 q.limit, s, want, got);
			compared++;
			free(want);
			free(got);
		}
	}
	compare_snapshots(st, d, scopes, 4);
	return compared;
}

struct change_job {
	const struct mr_keys *keys;
	int step;
	int64_t merge_id;
};

static int put_hcp(struct mr_conn *c, const struct mr_keys *k, const char *ext, const char *name,
		   struct mr_err *err)
{
	struct mr_arena a;
	struct mr_md_rec rec;
	struct mr_md_result res;
	struct mr_md_actor who = { .login = "test", .source = "test", .now = mr_now_us() };
	int rc;

	mr_arena_init(&a);
	mr_md_rec_init(&rec, &mr_md_hcp);
	rec.ext_id = ext;
	rec.val[mr_md_field_index(&mr_md_hcp, "name")] = name;
	rc = mr_md_rec_check(&rec, 1, &a, err);
	if (rc == 0)
		rc = mr_md_upsert(c, k, &rec, 0, &who, &res, err);
	mr_arena_release(&a);
	return rc;
}

static int64_t q_int(struct mr_conn *c, const char *sql)
{
	struct mr_err err;
	int64_t v = 0;

	if (mr_conn_query_int(c, sql, NULL, 0, &v, &err) < 0)
		fail_msg("%s: %s", sql, err.msg);
	return v;
}

/* The changes, one transaction each (step by step), as the API would make them. */
static int change_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct change_job *j = arg;
	struct mr_md_actor who = { .login = "test", .source = "test", .now = mr_now_us() };
	struct mr_merge_opts mo = { .rule = "manual", .score = -1 };
	int64_t id;

	switch (j->step) {
	case 0: /* a doctor renamed: every key changes */
		return put_hcp(c, j->keys, "D0000011", "王小明", err);
	case 1: /* a doctor deleted */
		return mr_md_delete(c, &mr_md_hcp, q_int(c, "SELECT id FROM hcps WHERE ext_id = 'D0000012'"), &who,
				    err);
	case 2: /* a merge: D0000014 into D0000013, its alignments moving along */
		return mr_hcp_merge(c, q_int(c, "SELECT id FROM hcps WHERE ext_id = 'D0000013'"),
				    q_int(c, "SELECT id FROM hcps WHERE ext_id = 'D0000014'"), &mo, &who,
				    &j->merge_id, err);
	case 3: /* an alignment ended */
		id = q_int(c, "SELECT MIN(id) FROM alignments WHERE deleted_at IS NULL");
		return mr_align_delete(c, id, &who, err);
	case 4: { /* a new doctor, aligned to the busiest rep */
		struct mr_alignment al = { "D9999999", NULL, "msl", "", 1, 0 };
		char rep[32];
		int changed = 0;
		int rc = put_hcp(c, j->keys, "D9999999", "王新来", err);
		struct mr_rows *rows = NULL;

		if (rc == 0)
			rc = mr_conn_query(c, "SELECT r.ext_id FROM reps r JOIN alignments a ON a.rep_id = r.id"
					   " WHERE a.deleted_at IS NULL GROUP BY r.id ORDER BY COUNT(*) DESC, r.id"
					   " LIMIT 1", NULL, 0, &rows, err);
		if (rc == 0 && mr_rows_next(rows, err) == 1)
			snprintf(rep, sizeof(rep), "%s", mr_rows_text(rows, 0));
		mr_rows_close(rows);
		al.rep = rep;
		return rc == 0 ? mr_align_upsert(c, &al, &who, &id, &changed, err) : rc;
	}
	case 5: { /* a rep leaves the largest team: its manager is cleared, as a PATCH would */
		struct mr_val rep;
		int rc;

		id = q_int(c, "SELECT MIN(id) FROM reps WHERE manager_id = (SELECT manager_id FROM reps"
			   " WHERE manager_id IS NOT NULL GROUP BY manager_id ORDER BY COUNT(*) DESC,"
			   " manager_id LIMIT 1)");
		rep = mr_v_int(id);
		rc = mr_conn_exec(c, "UPDATE reps SET manager_id = NULL WHERE id = ?", &rep, 1, NULL, err);
		return rc == 0 ? mr_md_change(c, "rep", id, "manager", "x", NULL, &who, err) : rc;
	}
	default: /* the merge undone */
		return mr_hcp_unmerge(c, j->merge_id, &who, NULL, err);
	}
}

static void test_pages_equal_the_store(void **state)
{
	struct mr_test_db db;
	struct mr_hcpdir *d = mr_hcpdir_new();
	struct mr_keys keys;
	struct change_job j = { .keys = &keys };
	struct mr_hcpdir_stats st;
	struct mr_err err;
	struct mr_conn *c = NULL;

	mr_test_db_open(&db, mr_test_backend(state));
	mr_test_keys(&keys, 7);
	load_world(db.store, 3000);
	assert_true(compare_all(db.store, d) > 100);
	mr_hcpdir_stats(d, &st);
	assert_int_equal(st.ready, 1);
	assert_int_equal(st.full_loads, 1);

	assert_int_equal(mr_store_acquire(db.store, &c, &err), 0);
	assert_true(mr_hcpdir_lookup(d, "D0000012") > 0);
	assert_int_equal(mr_hcpdir_lookup(d, "no-such-doctor"), 0);
	mr_store_release(db.store, c);
	for (j.step = 0; j.step <= 6; j.step++) {
		if (mr_store_write(db.store, change_fn, &j, &err) < 0)
			fail_msg("change %d: %s", j.step, err.msg);
		compare_all(db.store, d);
	}
	mr_hcpdir_stats(d, &st);
	assert_int_equal(st.full_loads, 1); /* every change was applied on its own */
	assert_true(st.changes >= 7);
	assert_int_equal(mr_hcpdir_lookup(d, "D0000012"), 0); /* deleted */
	assert_true(mr_hcpdir_lookup(d, "D9999999") > 0);     /* new */
	assert_true(mr_hcpdir_lookup(d, "D0000014") > 0);     /* unmerged */
	mr_hcpdir_free(d);
	mr_test_db_close(&db);
}

/* A query the directory does not hold (a filter, deleted rows) is left to the store. */
static void test_declines_what_it_cannot_answer(void **state)
{
	struct mr_hcpdir *d = mr_hcpdir_new();
	struct mr_scope s = { .kind = MR_SCOPE_ALL, .at = mr_now_us() };
	struct mr_md_query q = { .q = "wang", .limit = 20 };
	int64_t ids[MR_MD_PAGE_IDS];
	int n = 0;

	(void)state;
	assert_int_equal(mr_hcpdir_page(d, &q, &s, ids, &n), 0); /* not loaded */
	assert_int_equal(mr_hcpdir_ready(d), 0);
	q.q = NULL;
	assert_int_equal(mr_hcpdir_page(d, &q, &s, ids, &n), 0);
	q.q = "wang";
	q.rep = "R00001";
	assert_int_equal(mr_hcpdir_page(d, &q, &s, ids, &n), 0);
	mr_hcpdir_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		MR_TEST_BOTH(test_pages_equal_the_store),
		cmocka_unit_test(test_declines_what_it_cannot_answer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
