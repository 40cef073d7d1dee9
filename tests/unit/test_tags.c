/*
 * The tag store (engine/tags.h) on SQLite and PostgreSQL, over a small
 * world worked out by hand, with the clock driven by the test:
 *
 *   doctors  D1 endocrinology; D2 cardiology; D3 (no events of its own);
 *            D4 merged into D3 (its events count for D3); D5 no events
 *   content  C1 guidelines, C2 patient_data
 *   events (days before T0)
 *     D1 wechat responded 80, 50, 10; phone effective 5;
 *        content viewed C1 3, C2 2, C1 1
 *     D2 wechat responded 30, 20; phone no_answer 200 (outside 180 days)
 *     D4 wechat responded 60, 40, 1
 *   weights: responded 3, effective 3, viewed 1, no_answer 1
 *
 *   engagement_score = sum(weight, 180d):   D1 15, D2 6, D3 9, D5 0
 *   academic_need = top(content.topic, channel = "content", 180d): D1 guidelines
 *   wechat_engaged = count(wechat responded, 90d) >= 3: D1 and D3 true, until
 *      T0+10d for D1 (its event of day 80 leaves the window) and T0+30d for D3
 *   engaged_high = engagement_score >= 10 (a tag naming a tag): D1
 *
 * Checked: the values and their bitmaps, an event re-evaluating its
 * doctor's tags (and the tags naming them), expiry at the exact moment by
 * an explicit clock, manual tags (history, newest wins, null clears) and a
 * tag naming one, master data followed, dependency order, cycles and bad
 * names refused, deletes of used tags refused, distributions, and the
 * change log (tag_changes) written through the writer with its causes
 * (not the load's, nor a definition's).
 */
#include "unit.h"
#include "world.h"

#include <jansson.h>
#include <math.h>
#include <roaring/roaring.h>

#include "base/arena.h"
#include "base/time.h"
#include "engine/engine.h"
#include "engine/tagdb.h"
#include "engine/tags.h"
#include "event/log.h"
#include "md/md.h"
#include "md/merge.h"
#include "store/writer.h"

#define DAY (INT64_C(86400) * MR_US_PER_S)
#define T0 (INT64_C(1772294400) * MR_US_PER_S) /* 2026-03-01T00:00:00+08:00 */

struct world {
	struct mr_test_db db;
	struct mr_keys keys;
	struct mr_hcpdir *dir;
	struct mr_evindex *ix;
	struct mr_profile *pf;
	struct mr_engine *e;
	struct mr_tags *t;
	struct mr_writer *w;
	struct mr_tagsrc src;
	int64_t now;           /* the tags' clock */
	int64_t d[6];          /* D1..D5 at 1..5 */
	int pg;
};

static int64_t clock_fn(void *arg)
{
	return ((struct world *)arg)->now;
}

static int64_t put(struct world *w, const struct mr_md_entity *e, json_t *obj)
{
	return mr_test_put(w->db.store, &w->keys, e, obj);
}

/* ------------------------------------------------------------ events */

struct evspec {
	int hcp;           /* D index */
	int ch, outcome;
	double days;       /* before T0 */
	const char *content;
};

struct append_job {
	struct world *w;
	struct mr_evlog_batch *b;
};

static int append_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct append_job *j = arg;
	struct mr_md_actor who = { .login = "test", .source = "test", .now = mr_now_us() };

	mr_evlog_batch_reset(j->b);
	return mr_evlog_append(c, j->w->pg ? NULL : j->w->ix, &j->w->keys, &who, j->b, err);
}

/* Appends n events and applies them as the writer does (the listeners hear them). */
static void events(struct world *w, const struct evspec *s, int n)
{
	struct mr_event ev[16];
	unsigned char fate[16];
	int64_t seq[16];
	struct mr_err why[16], err;
	struct mr_evref refs[16];
	struct mr_evlog_batch b = { ev, n, fate, seq, why, 0, 0, 0, 0, 0 };
	struct append_job j = { w, &b };
	static int next_id;
	char ids[16][16];
	int k;

	assert_true(n <= 16);
	for (int i = 0; i < n; i++) {
		mr_event_init(&ev[i]);
		snprintf(ids[i], sizeof(ids[i]), "tg%d", ++next_id);
		ev[i].id = ids[i];
		ev[i].ts = T0 - (int64_t)(s[i].days * (double)DAY);
		ev[i].hcp_id = w->d[s[i].hcp];
		ev[i].channel = s[i].ch;
		ev[i].type = mr_channel_def(s[i].ch)->default_type;
		ev[i].outcome = s[i].outcome;
		ev[i].content = s[i].content;
	}
	if (mr_store_write(w->db.store, append_fn, &j, &err) < 0)
		fail_msg("append: %s", err.msg);
	assert_int_equal(b.stored, n);
	k = mr_evlog_refs(w->ix, &b, refs);
	mr_evindex_queue(w->ix, refs, k);
	assert_int_equal(mr_evindex_drain(w->ix, w->db.store, &err), 0);
}

static void sync_dir(struct world *w)
{
	struct mr_conn *c = NULL;
	struct mr_err err;

	assert_int_equal(mr_store_acquire(w->db.store, &c, &err), 0);
	assert_int_equal(mr_hcpdir_sync(w->dir, c, &err), 0);
	mr_store_release(w->db.store, c);
}

/* ------------------------------------------------------------ definitions and values */

struct def_job {
	struct mr_tagdef *def;
};

static int def_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	return mr_tagdb_put(c, ((struct def_job *)arg)->def, err);
}

/* Defines tag name as the API does: checked, stored, applied. Returns the check's code (0: defined). */
static int define(struct world *w, const char *name, const char *expr, enum mr_xtype manual_type,
		  struct mr_xerr *xe, struct mr_err *err)
{
	struct mr_tagdef def = { .name = name, .expr = expr, .kind = expr ? MR_TAG_COMPUTED : MR_TAG_MANUAL,
				 .type = expr ? MR_XT_NONE : manual_type, .created_by = "test", .updated_by = "test",
				 .created_at = w->now, .updated_at = w->now };
	struct def_job j = { &def };
	struct mr_xerr xe0;
	struct mr_err err0;
	int rc;

	mr_tags_define_begin(w->t);
	rc = mr_tags_check(w->t, &def, xe ? xe : &xe0, err ? err : &err0);
	if (rc == 0 && mr_store_write(w->db.store, def_fn, &j, &err0) < 0)
		fail_msg("define %s: %s", name, err0.msg);
	if (rc == 0)
		mr_tags_apply_def(w->t, &def);
	mr_tags_define_end(w->t);
	return rc;
}

static void must_define(struct world *w, const char *name, const char *expr)
{
	struct mr_err err;

	if (define(w, name, expr, MR_XT_NONE, NULL, &err) < 0)
		fail_msg("define %s: %s", name, err.msg);
}

/* Doctor d's value of tag name (an mr_xval; text copied into a static buffer). */
static struct mr_xval value(struct world *w, int d, const char *name)
{
	static char text[128];
	struct mr_tag_value *v = NULL;
	struct mr_xval out = { 0 };
	struct mr_arena a;
	int n;

	mr_arena_init(&a);
	n = mr_tags_of_hcp(w->t, (uint32_t)w->d[d], &a, &v);
	for (int i = 0; i < n; i++) {
		if (strcmp(v[i].name, name) == 0) {
			out = v[i].v;
			if (out.kind == MR_XV_STR) {
				snprintf(text, sizeof(text), "%s", out.str);
				out.str = text;
			}
		}
	}
	mr_arena_release(&a);
	return out;
}

static void assert_num(struct world *w, int d, const char *name, double want)
{
	struct mr_xval v = value(w, d, name);

	if (v.kind != MR_XV_NUM || fabs(v.num - want) > 1e-6)
		fail_msg("D%d %s: want %g, got kind %d value %g", d, name, want, v.kind, v.num);
}

static void assert_bool(struct world *w, int d, const char *name, int want)
{
	struct mr_xval v = value(w, d, name);

	if (v.kind != MR_XV_BOOL || (v.num != 0) != want)
		fail_msg("D%d %s: want %s, got kind %d value %g", d, name, want ? "true" : "false", v.kind, v.num);
}

static void assert_text(struct world *w, int d, const char *name, const char *want)
{
	struct mr_xval v = value(w, d, name);

	if (!want) {
		if (v.kind != MR_XV_NULL)
			fail_msg("D%d %s: want null, got kind %d", d, name, v.kind);
		return;
	}
	if (v.kind != MR_XV_STR || strcmp(v.str, want) != 0)
		fail_msg("D%d %s: want %s, got kind %d %s", d, name, want, v.kind, v.kind == MR_XV_STR ? v.str : "");
}

/* Rows of the change log matching cond (after the writer committed what was posted). */
static int64_t changes(struct world *w, const char *cond)
{
	struct mr_conn *c = NULL;
	struct mr_err err;
	char sql[512];
	int64_t n = 0;

	assert_int_equal(mr_writer_flush(w->w, &err), 0);
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM tag_changes WHERE %s", cond);
	assert_int_equal(mr_store_acquire(w->db.store, &c, &err), 0);
	if (mr_conn_query_int(c, sql, NULL, 0, &n, &err) < 0)
		fail_msg("%s: %s", sql, err.msg);
	mr_store_release(w->db.store, c);
	return n;
}

/* Every doctor's bitmap membership of tag name's value equals its value. */
static void assert_bitmaps(struct world *w, const char *name, const char *const *values, int nvalues)
{
	int id = 0;
	enum mr_xtype type = MR_XT_NONE;

	w->src.read_begin(w->src.arg);
	assert_true(w->src.find(w->src.arg, name, &id, &type));
	for (int k = 0; k < nvalues; k++) {
		const roaring_bitmap_t *bm = w->src.bitmap(w->src.arg, id, values[k]);
		uint64_t members = 0;

		assert_non_null(bm);
		for (int d = 1; d <= 5; d++) {
			struct mr_xval v;
			char buf[40];
			const char *text;
			int has = roaring_bitmap_contains(bm, (uint32_t)w->d[d]);

			w->src.value(w->src.arg, id, (uint32_t)w->d[d], &v);
			text = mr_tag_value_text(&v, buf, sizeof(buf));
			if (has != (text && strcmp(text, values[k]) == 0))
				fail_msg("%s = %s: D%d in the bitmap %d, value %s", name, values[k], d, has, text ? text : "null");
			members += has;
		}
		assert_int_equal(roaring_bitmap_get_cardinality(bm), members); /* nobody else: no merged, no deleted */
	}
	w->src.read_end(w->src.arg);
}

/* ------------------------------------------------------------ the world */

struct merge_job {
	int64_t survivor, merged;
};

static int merge_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct merge_job *j = arg;
	struct mr_md_actor who = { .login = "test", .source = "test", .now = mr_now_us() };
	struct mr_merge_opts mo = { .rule = "manual", .score = -1 };
	int64_t merge_id = 0;

	return mr_hcp_merge(c, j->survivor, j->merged, &mo, &who, &merge_id, err);
}

static void open_world(struct world *w, void **state)
{
	struct mr_conn *c = NULL;
	struct mr_err err;

	memset(w, 0, sizeof(*w));
	w->pg = mr_test_backend(state);
	w->now = T0;
	mr_test_db_open(&w->db, w->pg);
	mr_test_keys(&w->keys, 7);
	w->d[1] = put(w, &mr_md_hcp, json_pack("{s:s, s:s, s:s}", "id", "D1", "name", "王一", "specialty",
						"endocrinology"));
	w->d[2] = put(w, &mr_md_hcp, json_pack("{s:s, s:s, s:s}", "id", "D2", "name", "李二", "specialty",
						"cardiology"));
	w->d[3] = put(w, &mr_md_hcp, json_pack("{s:s, s:s}", "id", "D3", "name", "张三"));
	w->d[4] = put(w, &mr_md_hcp, json_pack("{s:s, s:s}", "id", "D4", "name", "张三"));
	w->d[5] = put(w, &mr_md_hcp, json_pack("{s:s, s:s}", "id", "D5", "name", "赵五"));
	put(w, &mr_md_content, json_pack("{s:s, s:s, s:s, s:s}", "id", "C1", "title", "指南", "topic", "guidelines",
					  "status", "approved"));
	put(w, &mr_md_content, json_pack("{s:s, s:s, s:s, s:s}", "id", "C2", "title", "数据", "topic",
					  "patient_data", "status", "approved"));
	w->dir = mr_hcpdir_new();
	w->ix = mr_evindex_new(!w->pg);
	w->pf = mr_profile_new();
	w->e = mr_engine_new(w->dir, w->ix, w->pf);
	w->t = mr_tags_new(w->e, w->dir, w->ix, w->pf);
	mr_tags_set_clock(w->t, clock_fn, w);
	mr_tags_source(w->t, &w->src);
	mr_engine_set_tags(w->e, &w->src);
	mr_profile_follow(w->pf, w->dir);
	mr_engine_follow(w->e);
	mr_tags_follow(w->t);
	assert_int_equal(mr_store_acquire(w->db.store, &c, &err), 0);
	assert_int_equal(mr_hcpdir_sync(w->dir, c, &err), 0);
	assert_int_equal(mr_evindex_sync(w->ix, c, &err), 0);
	mr_store_release(w->db.store, c);
	{
		const struct evspec s[] = {
			{ 1, MR_CH_WECHAT, 3, 80, NULL }, { 1, MR_CH_WECHAT, 3, 50, NULL },
			{ 1, MR_CH_WECHAT, 3, 10, NULL }, { 1, MR_CH_PHONE, 3, 5, NULL },
			{ 1, MR_CH_CONTENT, 0, 3, "C1" }, { 1, MR_CH_CONTENT, 0, 2, "C2" },
			{ 1, MR_CH_CONTENT, 0, 1, "C1" }, { 2, MR_CH_WECHAT, 3, 30, NULL },
			{ 2, MR_CH_WECHAT, 3, 20, NULL }, { 2, MR_CH_PHONE, 0, 200, NULL },
			{ 4, MR_CH_WECHAT, 3, 60, NULL }, { 4, MR_CH_WECHAT, 3, 40, NULL },
			{ 4, MR_CH_WECHAT, 3, 1, NULL },
		};

		events(w, s, (int)(sizeof(s) / sizeof(s[0])));
	}
	{
		struct merge_job mj = { w->d[3], w->d[4] };

		if (mr_store_write(w->db.store, merge_fn, &mj, &err) < 0)
			fail_msg("merge: %s", err.msg);
	}
	sync_dir(w);
	assert_int_equal(mr_writer_start(&w->w, w->db.store, &err), 0);
	mr_tags_log_to(w->t, w->w, NULL, NULL);
}

/* Loads the tags (the first computation: not logged). */
static void load(struct world *w)
{
	struct mr_conn *c = NULL;
	struct mr_err err;

	assert_int_equal(mr_store_acquire(w->db.store, &c, &err), 0);
	if (mr_tags_load(w->t, c, &err) < 0)
		fail_msg("load: %s", err.msg);
	mr_store_release(w->db.store, c);
	assert_true(mr_tags_ready(w->t));
}

static void close_world(struct world *w)
{
	mr_tags_stop(w->t);
	mr_writer_stop(w->w);
	mr_tags_free(w->t);
	mr_engine_free(w->e);
	mr_hcpdir_free(w->dir);
	mr_evindex_free(w->ix);
	mr_profile_free(w->pf);
	mr_test_db_close(&w->db);
}

/* Stores the three computed tags of the header before the load, as another process would have. */
static void store_defs(struct world *w)
{
	static const struct { const char *name, *expr; enum mr_xtype type; } defs[] = {
		{ "engagement_score", "sum(weight, 180d)", MR_XT_NUM },
		{ "academic_need", "top(content.topic, channel = \"content\", 180d)", MR_XT_STR },
		{ "wechat_engaged", "count(channel = \"wechat\" and outcome >= \"responded\", 90d) >= 3", MR_XT_BOOL },
	};

	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
		struct mr_tagdef def = { .name = defs[i].name, .expr = defs[i].expr, .kind = MR_TAG_COMPUTED,
					 .type = defs[i].type, .created_by = "test", .updated_by = "test",
					 .created_at = T0, .updated_at = T0 };
		struct def_job j = { &def };
		struct mr_err err;

		if (mr_store_write(w->db.store, def_fn, &j, &err) < 0)
			fail_msg("store %s: %s", defs[i].name, err.msg);
	}
}

/* ------------------------------------------------------------ the tests */

/* The values at load, their bitmaps, and the first computation not logged. */
static void test_values_and_bitmaps(void **state)
{
	static const char *const bools[] = { "true", "false" };
	static const char *const topics[] = { "guidelines", "patient_data", "safety" };
	struct world w;
	struct mr_tag_dist d;
	struct mr_arena a;
	struct mr_err err;

	open_world(&w, state);
	store_defs(&w);
	load(&w);
	assert_num(&w, 1, "engagement_score", 15);
	assert_num(&w, 2, "engagement_score", 6);
	assert_num(&w, 3, "engagement_score", 9); /* D4's events, merged into D3 */
	assert_num(&w, 5, "engagement_score", 0);
	assert_int_equal(value(&w, 4, "engagement_score").kind, MR_XV_NUM); /* D4 reads its survivor's */
	assert_text(&w, 1, "academic_need", "guidelines");
	assert_text(&w, 2, "academic_need", NULL);
	assert_bool(&w, 1, "wechat_engaged", 1);
	assert_bool(&w, 2, "wechat_engaged", 0);
	assert_bool(&w, 3, "wechat_engaged", 1);
	assert_bool(&w, 5, "wechat_engaged", 0);
	assert_bitmaps(&w, "wechat_engaged", bools, 2);
	assert_bitmaps(&w, "academic_need", topics, 3);
	/* the engine reads tags in segments */
	{
		struct mr_eplan *p = NULL;
		struct mr_xerr xe;
		int64_t n = 0;

		mr_arena_init(&a);
		assert_int_equal(mr_engine_compile(w.e, "wechat_engaged and tag.engagement_score >= 10", 45, T0, &a, &p,
						   &xe, &err), 0);
		assert_int_equal(mr_engine_select(w.e, p, NULL, 0, 0, NULL, 0, NULL, &n, &err), 0);
		assert_int_equal(n, 1); /* D1 */
		mr_arena_release(&a);
	}
	/* distributions: 4 live doctors */
	mr_arena_init(&a);
	assert_int_equal(mr_tags_distribution(w.t, "academic_need", NULL, 0, 10, &a, &d, &err), 0);
	assert_int_equal(d.total, 4);
	assert_int_equal(d.nvalues, 1);
	assert_string_equal(d.values[0], "guidelines");
	assert_int_equal(d.counts[0], 1);
	assert_int_equal(d.nulls, 3);
	assert_int_equal(mr_tags_distribution(w.t, "engagement_score", NULL, 0, 10, &a, &d, &err), 0);
	assert_int_equal(d.count, 4);
	assert_true(d.min == 0 && d.max == 15 && fabs(d.mean - 7.5) < 1e-9);
	assert_int_equal(d.nbins, 10);
	{
		int64_t sum = 0;

		for (int b = 0; b < d.nbins; b++)
			sum += d.bin_count[b];
		assert_int_equal(sum, 4);
		assert_int_equal(d.bin_count[0], 1);  /* 0 */
		assert_int_equal(d.bin_count[9], 1);  /* 15: the last bin holds the max */
	}
	assert_int_equal(mr_tags_distribution(w.t, "wechat_engaged", NULL, 0, 10, &a, &d, &err), 0);
	assert_int_equal(d.nvalues, 2);
	assert_string_equal(d.values[0], "false");
	assert_int_equal(d.counts[0], 2);
	assert_int_equal(mr_tags_distribution(w.t, "nope", NULL, 0, 10, &a, &d, &err), MR_ENOTFOUND);
	/* a scope: D1 and D2 only */
	{
		unsigned char scope[64] = { 0 };

		scope[w.d[1]] = scope[w.d[2]] = 1;
		assert_int_equal(mr_tags_distribution(w.t, "wechat_engaged", scope, sizeof(scope), 10, &a, &d, &err), 0);
		assert_int_equal(d.total, 2);
		assert_int_equal(d.counts[0] + d.counts[1], 2);
	}
	mr_arena_release(&a);
	assert_int_equal(changes(&w, "1 = 1"), 0);
	close_world(&w);
}

/* An event re-evaluates its doctor's event tags and the tags naming them, logged. */
static void test_incremental(void **state)
{
	struct world w;

	open_world(&w, state);
	store_defs(&w);
	load(&w);
	must_define(&w, "engaged_high", "engagement_score >= 10");
	assert_bool(&w, 1, "engaged_high", 1);
	assert_bool(&w, 3, "engaged_high", 0);
	assert_int_equal(changes(&w, "tag = 'engaged_high'"), 0); /* a definition's values are not news */
	{
		/* D3 (through merged D4) gets a phone call: 9 + 3 */
		const struct evspec s[] = { { 4, MR_CH_PHONE, 3, 0.5, NULL }, { 5, MR_CH_CONTENT, 1, 0.25, "C2" } };

		events(&w, s, 2);
	}
	assert_num(&w, 3, "engagement_score", 12);
	assert_bool(&w, 3, "engaged_high", 1);
	assert_num(&w, 5, "engagement_score", 3); /* content completed */
	assert_text(&w, 5, "academic_need", "patient_data");
	assert_num(&w, 1, "engagement_score", 15); /* nobody else */
	assert_int_equal(changes(&w, "cause = 'event'"), 4);
	{
		char cond[160];

		snprintf(cond, sizeof(cond), "cause = 'event' AND tag = 'engaged_high' AND hcp_id = %lld"
			 " AND old_value = 'false' AND new_value = 'true' AND type = 'boolean'", (long long)w.d[3]);
		assert_int_equal(changes(&w, cond), 1);
		snprintf(cond, sizeof(cond), "tag = 'engagement_score' AND hcp_id = %lld AND old_value = '9'"
			 " AND new_value = '12'", (long long)w.d[3]);
		assert_int_equal(changes(&w, cond), 1);
		snprintf(cond, sizeof(cond), "tag = 'academic_need' AND old_value IS NULL AND new_value = 'patient_data'"
			 " AND hcp_id = %lld", (long long)w.d[5]);
		assert_int_equal(changes(&w, cond), 1);
	}
	/* the feed's view of it */
	{
		struct mr_conn *c = NULL;
		struct mr_err err;
		json_t *items = json_array();
		int64_t last = 0, head = 0;

		assert_int_equal(mr_store_acquire(w.db.store, &c, &err), 0);
		assert_int_equal(mr_tagdb_head(c, &head, &err), 0);
		assert_int_equal(mr_tagdb_changes(c, head - 4, 10, NULL, items, &last, &err), 0);
		assert_int_equal(json_array_size(items), 4);
		assert_int_equal(last, head);
		assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "cause")), "event");
		mr_store_release(w.db.store, c);
		json_decref(items);
	}
	close_world(&w);
}

/* Windows close without events: at the moment the oldest counted event leaves, not before. */
static void test_expiry(void **state)
{
	struct world w;
	char cond[200];

	open_world(&w, state);
	store_defs(&w);
	load(&w);
	/* an owner's tag turns when the alignment ends (T0 + 3 d), with no event and no change of master data */
	put(&w, &mr_md_rep, json_pack("{s:s, s:s, s:s}", "id", "R9", "name", "钱代表", "type", "field"));
	mr_test_align(w.db.store, "D2", "R9", "field_owner", T0 - DAY, T0 + 3 * DAY);
	sync_dir(&w);
	must_define(&w, "owned_r9", "owner.field = \"R9\"");
	assert_bool(&w, 2, "owned_r9", 1);
	assert_int_equal(mr_tags_next_expiry(w.t), T0 + 3 * DAY);
	w.now = T0 + 3 * DAY;
	while (mr_tags_next_expiry(w.t) <= w.now)
		mr_tags_advance(w.t, w.now);
	assert_bool(&w, 2, "owned_r9", 0);
	snprintf(cond, sizeof(cond), "cause = 'expiry' AND tag = 'owned_r9' AND hcp_id = %lld AND at = %lld"
		 " AND new_value = 'false'", (long long)w.d[2], (long long)(T0 + 3 * DAY));
	assert_int_equal(changes(&w, cond), 1);
	/* just before: every entry due by then fires, nothing changes */
	w.now = T0 + 10 * DAY - 1;
	while (mr_tags_next_expiry(w.t) <= w.now)
		mr_tags_advance(w.t, w.now);
	assert_bool(&w, 1, "wechat_engaged", 1);
	assert_true(mr_tags_next_expiry(w.t) <= T0 + 10 * DAY); /* what it waits for */
	w.now = T0 + 10 * DAY;
	mr_tags_advance(w.t, w.now);
	assert_bool(&w, 1, "wechat_engaged", 0);
	assert_bool(&w, 3, "wechat_engaged", 1);
	snprintf(cond, sizeof(cond), "cause = 'expiry' AND tag = 'wechat_engaged' AND hcp_id = %lld AND at = %lld"
		 " AND new_value = 'false'", (long long)w.d[1], (long long)(T0 + 10 * DAY));
	assert_int_equal(changes(&w, cond), 1);
	/* D3's (merged D4's) oldest leaves at T0 + 30 days; the scores shrink as events leave 180 days */
	w.now = T0 + 30 * DAY;
	while (mr_tags_next_expiry(w.t) <= w.now)
		mr_tags_advance(w.t, w.now);
	assert_bool(&w, 3, "wechat_engaged", 0);
	w.now = T0 + 174 * DAY; /* D1: only day-5 (phone, 3) and the content (1 each) remain */
	while (mr_tags_next_expiry(w.t) <= w.now)
		mr_tags_advance(w.t, w.now);
	assert_num(&w, 1, "engagement_score", 6);
	w.now = T0 + 200 * DAY;
	while (mr_tags_next_expiry(w.t) <= w.now)
		mr_tags_advance(w.t, w.now);
	assert_num(&w, 1, "engagement_score", 0);
	assert_text(&w, 1, "academic_need", NULL);
	assert_int_equal(mr_tags_next_expiry(w.t), INT64_MAX); /* nothing left to wait for */
	assert_true(changes(&w, "cause = 'expiry'") >= 6);
	close_world(&w);
}

static int manual_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	return mr_tagdb_set_manual(c, arg, err);
}

/* Sets doctor d's manual tag as the API does: checked, stored with its change, applied. */
static void manual_set(struct world *w, int d, const char *name, const char *value)
{
	struct mr_tag_value old;
	const char *canon = NULL;
	uint32_t hcp = (uint32_t)w->d[d];
	struct mr_arena a;
	struct mr_err err;

	mr_arena_init(&a);
	mr_tags_manual_begin(w->t);
	if (mr_tags_manual_check(w->t, name, &hcp, value, &a, &old, &canon, &err) < 0)
		fail_msg("set %s: %s", name, err.msg);
	{
		struct mr_tagdb_set s = { hcp, old.id, old.name, canon, old.v.str, old.type, "rep.a", "req-1", w->now };

		if (mr_store_write(w->db.store, manual_fn, &s, &err) < 0)
			fail_msg("set %s: %s", name, err.msg);
	}
	mr_tags_apply_manual(w->t, hcp, old.id, canon);
	mr_tags_manual_end(w->t);
	mr_arena_release(&a);
}

/* Manual tags: set, history (newest wins), null clears, a tag naming one; reloaded from the store. */
static void test_manual(void **state)
{
	struct world w;
	struct mr_tag_value old;
	const char *canon = NULL;
	uint32_t hcp;
	struct mr_arena a;
	struct mr_err err;

	open_world(&w, state);
	store_defs(&w);
	load(&w);
	assert_int_equal(define(&w, "kol", NULL, MR_XT_BOOL, NULL, &err), 0);
	assert_int_equal(define(&w, "potential", NULL, MR_XT_NUM, NULL, &err), 0);
	assert_int_equal(define(&w, "segment_note", NULL, MR_XT_STR, NULL, &err), 0);
	must_define(&w, "kol_engaged", "kol and wechat_engaged");
	assert_text(&w, 1, "kol", NULL);
	assert_bool(&w, 1, "kol_engaged", 0);
	manual_set(&w, 1, "kol", "true");
	assert_bool(&w, 1, "kol", 1);
	assert_bool(&w, 1, "kol_engaged", 1);
	manual_set(&w, 2, "kol", "true");
	manual_set(&w, 2, "kol", "false"); /* newest wins */
	assert_bool(&w, 2, "kol", 0);
	manual_set(&w, 4, "potential", "12.5"); /* D4 is merged: the value goes to D3 */
	assert_num(&w, 3, "potential", 12.5);
	manual_set(&w, 1, "segment_note", "心内科 KOL 候选");
	assert_text(&w, 1, "segment_note", "心内科 KOL 候选");
	manual_set(&w, 1, "segment_note", NULL); /* cleared */
	assert_text(&w, 1, "segment_note", NULL);
	/* logged once each by its transaction (the round does not log it again); the dependant by the round */
	assert_int_equal(changes(&w, "cause = 'manual' AND tag = 'kol'"), 3);
	assert_int_equal(changes(&w, "cause = 'manual' AND tag = 'kol_engaged' AND new_value = 'true'"), 1);
	assert_int_equal(changes(&w, "cause = 'manual' AND tag = 'segment_note' AND new_value IS NULL"), 1);
	/* wrong values, computed tags, unknown tags */
	mr_arena_init(&a);
	hcp = (uint32_t)w.d[1];
	assert_int_equal(mr_tags_manual_check(w.t, "kol", &hcp, "yes", &a, &old, &canon, &err), MR_EINVAL);
	assert_int_equal(mr_tags_manual_check(w.t, "potential", &hcp, "12x", &a, &old, &canon, &err), MR_EINVAL);
	assert_int_equal(mr_tags_manual_check(w.t, "wechat_engaged", &hcp, "true", &a, &old, &canon, &err),
			 MR_ECONFLICT);
	assert_int_equal(mr_tags_manual_check(w.t, "nope", &hcp, "true", &a, &old, &canon, &err), MR_ENOTFOUND);
	assert_int_equal(mr_tags_manual_check(w.t, "potential", &hcp, "1e2", &a, &old, &canon, &err), 0);
	assert_string_equal(canon, "100");
	mr_arena_release(&a);
	/* another process reads the same from the store */
	{
		struct mr_tags *again = mr_tags_new(w.e, w.dir, w.ix, w.pf);
		struct mr_tags *mine = w.t;
		struct mr_tagsrc src;

		mr_tags_set_clock(again, clock_fn, &w);
		w.t = again;
		mr_tags_source(again, &src);
		mr_engine_set_tags(w.e, &src);
		load(&w);
		assert_bool(&w, 1, "kol", 1);
		assert_bool(&w, 2, "kol", 0);
		assert_num(&w, 3, "potential", 12.5);
		assert_text(&w, 1, "segment_note", NULL);
		assert_bool(&w, 1, "kol_engaged", 1);
		w.t = mine;
		mr_engine_set_tags(w.e, &w.src);
		/* and follows what this one sets */
		manual_set(&w, 5, "kol", "true");
		{
			struct mr_conn *c = NULL;

			assert_int_equal(mr_store_acquire(w.db.store, &c, &err), 0);
			assert_int_equal(mr_tags_sync(again, c, &err), 0);
			mr_store_release(w.db.store, c);
		}
		w.t = again;
		mr_engine_set_tags(w.e, &src);
		assert_bool(&w, 5, "kol", 1);
		w.t = mine;
		mr_engine_set_tags(w.e, &w.src);
		mr_tags_free(again);
	}
	close_world(&w);
}

/* Master data: a changed specialty re-evaluates that doctor's tags (logged as masterdata). */
static void test_masterdata(void **state)
{
	struct world w;

	open_world(&w, state);
	load(&w);
	must_define(&w, "endo", "specialty = \"endocrinology\"");
	assert_bool(&w, 1, "endo", 1);
	assert_bool(&w, 2, "endo", 0);
	put(&w, &mr_md_hcp, json_pack("{s:s, s:s, s:s}", "id", "D2", "name", "李二", "specialty", "endocrinology"));
	sync_dir(&w);
	assert_bool(&w, 2, "endo", 1);
	assert_int_equal(changes(&w, "cause = 'masterdata' AND tag = 'endo'"), 1);
	close_world(&w);
}

/* Tags naming tags: evaluated after them; cycles, bad names, type changes and deletes in use refused. */
static void test_definitions(void **state)
{
	struct world w;
	struct mr_xerr xe;
	struct mr_err err;
	int64_t id = 0;

	open_world(&w, state);
	store_defs(&w);
	load(&w);
	must_define(&w, "b_tag", "engagement_score >= 10 and wechat_engaged");
	must_define(&w, "c_tag", "b_tag or academic_need = \"patient_data\"");
	assert_bool(&w, 1, "c_tag", 1);
	assert_bool(&w, 2, "c_tag", 0);
	assert_bool(&w, 1, "b_tag", 1);
	/* redefining the first changes the ones after it, in order: D1 9 now */
	must_define(&w, "engagement_score", "sum(weight, channel = \"wechat\", 365d)");
	assert_num(&w, 1, "engagement_score", 9);
	assert_bool(&w, 1, "b_tag", 0);
	assert_bool(&w, 1, "c_tag", 0);
	/* cycles */
	assert_int_equal(define(&w, "wechat_engaged", "c_tag", MR_XT_NONE, &xe, &err), MR_EINVAL);
	assert_non_null(strstr(err.msg, "c_tag"));
	assert_non_null(strstr(err.msg, "b_tag"));
	assert_int_equal(define(&w, "b_tag", "b_tag", MR_XT_NONE, &xe, &err), MR_EINVAL);
	/* an expression error says where */
	assert_int_equal(define(&w, "x_tag", "count(channel = \"pigeon\", 90d) > 1", MR_XT_NONE, &xe, &err), MR_EINVAL);
	assert_int_equal(xe.col, 17);
	assert_non_null(strstr(xe.expected, "phone"));
	/* names */
	assert_int_equal(define(&w, "specialty", "true", MR_XT_NONE, NULL, &err), MR_EINVAL);
	assert_string_equal(err.field, "name");
	assert_int_equal(define(&w, "channel", "true", MR_XT_NONE, NULL, &err), MR_EINVAL);
	assert_int_equal(define(&w, "Kol", "true", MR_XT_NONE, NULL, &err), MR_EINVAL);
	assert_int_equal(define(&w, "1kol", "true", MR_XT_NONE, NULL, &err), MR_EINVAL);
	assert_int_equal(define(&w, "count", "true", MR_XT_NONE, NULL, &err), MR_EINVAL);
	assert_int_equal(define(&w, "a234567890123456789012345678901234567890123456789012345678901234", "true",
				MR_XT_NONE, NULL, &err), MR_EINVAL);
	assert_int_equal(define(&w, "manual_no_type", NULL, MR_XT_NONE, NULL, &err), MR_EINVAL);
	/* a type change while used; a delete while used */
	assert_int_equal(define(&w, "b_tag", "engagement_score", MR_XT_NONE, &xe, &err), MR_ECONFLICT);
	assert_non_null(strstr(err.msg, "c_tag"));
	mr_tags_define_begin(w.t);
	assert_int_equal(mr_tags_check_delete(w.t, "b_tag", &id, &err), MR_ECONFLICT);
	assert_int_equal(mr_tags_check_delete(w.t, "c_tag", &id, &err), 0);
	mr_tags_apply_delete(w.t, id);
	assert_int_equal(mr_tags_check_delete(w.t, "c_tag", &id, &err), MR_ENOTFOUND);
	mr_tags_define_end(w.t);
	assert_int_equal(value(&w, 1, "c_tag").kind, MR_XV_NULL);
	assert_int_equal(changes(&w, "cause = 'definition'"), 0);
	/* a deleted name can be defined again, of another type */
	must_define(&w, "c_tag", "engagement_score");
	assert_num(&w, 1, "c_tag", 9);
	close_world(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		MR_TEST_BOTH(test_values_and_bitmaps),
		MR_TEST_BOTH(test_incremental),
		MR_TEST_BOTH(test_expiry),
		MR_TEST_BOTH(test_manual),
		MR_TEST_BOTH(test_masterdata),
		MR_TEST_BOTH(test_definitions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
