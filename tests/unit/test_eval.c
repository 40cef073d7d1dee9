/*
 * The engine (engine/engine.h) on SQLite and PostgreSQL, over a small world
 * worked out by hand: attributes and the hospital's, owners, consents, each
 * event function with its window relative to as_of (an event after as_of
 * never counts; one exactly at the window's start does not either), rep
 * fields, content topics from the content table, null semantics (a rate
 * over nothing, days since nothing), top()'s ties, a merged record's events
 * counted for its survivor, scopes, paging, and when a windowed value
 * expires.
 */
#include "unit.h"
#include "world.h"

#include <jansson.h>
#include <math.h>

#include "base/arena.h"
#include "base/time.h"
#include "engine/engine.h"
#include "event/log.h"
#include "md/md.h"
#include "md/merge.h"
#include "md/relate.h"

#define DAY (INT64_C(86400) * MR_US_PER_S)
#define T0 (INT64_C(1748736000) * MR_US_PER_S) /* as_of: 2025-06-01T00:00:00Z */

struct world {
	struct mr_test_db db;
	struct mr_keys keys;
	struct mr_hcpdir *dir;
	struct mr_evindex *ix;
	struct mr_profile *pf;
	struct mr_engine *e;
	int64_t d[5];          /* D1..D4 at 1..4 */
	int64_t r1, r2;
	int pg;
};

/* Upserts the record obj (taken) of entity e; returns its internal id. */
static int64_t put(struct world *w, const struct mr_md_entity *e, json_t *obj)
{
	return mr_test_put(w->db.store, &w->keys, e, obj);
}

static void align(struct world *w, const char *hcp, const char *rep, const char *role)
{
	mr_test_align(w->db.store, hcp, rep, role, T0 - 400 * DAY, 0);
}

/* Events: n of them, appended and applied as the writer does. */
struct evspec {
	int hcp;           /* D index */
	int ch, outcome;
	double days;       /* before T0 (negative: after) */
	const char *content;
	int64_t rep;
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

static void events(struct world *w, const struct evspec *s, int n)
{
	struct mr_event ev[32];
	unsigned char fate[32];
	int64_t seq[32];
	struct mr_err why[32], err;
	struct mr_evref refs[32];
	struct mr_evlog_batch b = { ev, n, fate, seq, why, 0, 0, 0, 0, 0 };
	struct append_job j = { w, &b };
	static int next_id;
	char ids[32][16];
	int k;

	for (int i = 0; i < n; i++) {
		mr_event_init(&ev[i]);
		snprintf(ids[i], sizeof(ids[i]), "ev%d", ++next_id);
		ev[i].id = ids[i];
		ev[i].ts = T0 - (int64_t)(s[i].days * (double)DAY);
		ev[i].hcp_id = w->d[s[i].hcp];
		ev[i].channel = s[i].ch;
		ev[i].type = mr_channel_def(s[i].ch)->default_type;
		ev[i].outcome = s[i].outcome;
		ev[i].content = s[i].content;
		ev[i].rep_id = s[i].rep;
	}
	if (mr_store_write(w->db.store, append_fn, &j, &err) < 0)
		fail_msg("append: %s", err.msg);
	assert_int_equal(b.stored, n);
	k = mr_evlog_refs(w->ix, &b, refs);
	mr_evindex_queue(w->ix, refs, k);
	assert_int_equal(mr_evindex_drain(w->ix, w->db.store, &err), 0);
}

static void sync_all(struct world *w)
{
	struct mr_conn *c = NULL;
	struct mr_err err;

	assert_int_equal(mr_store_acquire(w->db.store, &c, &err), 0);
	assert_int_equal(mr_hcpdir_sync(w->dir, c, &err), 0);
	assert_int_equal(mr_evindex_sync(w->ix, c, &err), 0);
	mr_store_release(w->db.store, c);
}

static void open_world(struct world *w, void **state)
{
	memset(w, 0, sizeof(*w));
	w->pg = mr_test_backend(state);
	mr_test_db_open(&w->db, w->pg);
	mr_test_keys(&w->keys, 9);
	put(w, &mr_md_hco, json_pack("{s:s, s:s, s:i, s:i, s:s}", "id", "H1", "name", "协和医院", "level", 3,
				      "city_tier", 1, "region", "north"));
	put(w, &mr_md_hco, json_pack("{s:s, s:s, s:i, s:i, s:s}", "id", "H2", "name", "县医院", "level", 2,
				      "city_tier", 4, "region", "west"));
	w->d[1] = put(w, &mr_md_hcp, json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", "D1", "name", "王一", "specialty",
						"endocrinology", "title", "chief", "hco", "H1"));
	w->d[2] = put(w, &mr_md_hcp, json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", "D2", "name", "李二", "specialty",
						"endocrinology", "title", "resident", "hco", "H2"));
	w->d[3] = put(w, &mr_md_hcp, json_pack("{s:s, s:s, s:s, s:s}", "id", "D3", "name", "张三", "specialty",
						"cardiology", "hco", "H2"));
	w->d[4] = put(w, &mr_md_hcp, json_pack("{s:s, s:s}", "id", "D4", "name", "王一"));
	w->r1 = put(w, &mr_md_rep, json_pack("{s:s, s:s, s:s}", "id", "R1", "name", "赵", "type", "field"));
	w->r2 = put(w, &mr_md_rep, json_pack("{s:s, s:s, s:s}", "id", "R2", "name", "钱", "type", "inside"));
	put(w, &mr_md_content, json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", "C1", "title", "真实世界数据", "topic",
					  "patient_data", "product", "P1", "status", "approved"));
	put(w, &mr_md_content, json_pack("{s:s, s:s, s:s, s:s}", "id", "C2", "title", "指南", "topic", "guidelines",
					  "status", "approved"));
	align(w, "D1", "R1", "field_owner");
	align(w, "D2", "R2", "inside_owner");
	w->dir = mr_hcpdir_new();
	w->ix = mr_evindex_new(!w->pg);
	w->pf = mr_profile_new();
	w->e = mr_engine_new(w->dir, w->ix, w->pf);
	mr_profile_follow(w->pf, w->dir);
	mr_engine_follow(w->e);
	sync_all(w);
	{
		const struct evspec s[] = {
			{ 1, MR_CH_WECHAT, 3, 1, NULL, 0 },
			{ 1, MR_CH_WECHAT, 3, 10, NULL, w->r2 },
			{ 1, MR_CH_WECHAT, 3, 100, NULL, 0 },
			{ 1, MR_CH_VISIT, 1, 95, NULL, w->r1 },
			{ 1, MR_CH_CONTENT, 0, 5, "C1", 0 },
			{ 1, MR_CH_CONTENT, 0, 6, "C1", 0 },
			{ 1, MR_CH_CONTENT, 1, 7, "C2", 0 },
			{ 1, MR_CH_PHONE, 2, 40.5, NULL, w->r2 },
			{ 2, MR_CH_WECHAT, 0, 2, NULL, 0 },
			{ 2, MR_CH_PHONE, 0, 1, NULL, w->r2 },
			{ 2, MR_CH_PHONE, 1, 3, NULL, w->r2 },
			{ 2, MR_CH_VISIT, 1, -1, NULL, 0 },      /* after as_of */
			{ 3, MR_CH_EMAIL, 0, 30, NULL, 0 },      /* exactly at a 30-day window's start: out */
			{ 3, MR_CH_CONTENT, 0, 3, "C1", 0 },     /* a tie: one each */
			{ 3, MR_CH_CONTENT, 0, 4, "C2", 0 },
			{ 4, MR_CH_WECHAT, 3, 20, NULL, 0 },
		};

		events(w, s, (int)(sizeof(s) / sizeof(s[0])));
	}
}

static void close_world(struct world *w)
{
	mr_engine_free(w->e);
	mr_hcpdir_free(w->dir);
	mr_evindex_free(w->ix);
	mr_profile_free(w->pf);
	mr_test_db_close(&w->db);
}

/* How many doctors src selects at T0 (within scope, when given). */
static int64_t count_of(struct world *w, const char *src, const unsigned char *scope, uint32_t nscope)
{
	struct mr_arena a;
	struct mr_eplan *p = NULL;
	struct mr_xerr xe;
	struct mr_err err;
	int64_t n = -1;

	mr_arena_init(&a);
	if (mr_engine_compile(w->e, src, strlen(src), T0, &a, &p, &xe, &err) < 0)
		fail_msg("%s: %s", src, err.msg);
	if (mr_engine_select(w->e, p, scope, nscope, 0, NULL, 0, NULL, &n, &err) < 0)
		fail_msg("%s: %s", src, err.msg);
	mr_arena_release(&a);
	return n;
}

/* How many doctors src selects at time at. */
static int64_t count_of_at(struct world *w, const char *src, int64_t at)
{
	struct mr_arena a;
	struct mr_eplan *p = NULL;
	struct mr_xerr xe;
	struct mr_err err;
	int64_t n = -1;

	mr_arena_init(&a);
	if (mr_engine_compile(w->e, src, strlen(src), at, &a, &p, &xe, &err) < 0)
		fail_msg("%s: %s", src, err.msg);
	assert_int_equal(mr_engine_select(w->e, p, NULL, 0, 0, NULL, 0, NULL, &n, &err), 0);
	mr_arena_release(&a);
	return n;
}

/* The value of src for doctor D<k> at T0, as text ("null", "true", "3", "patient_data"). */
static const char *value_of(struct world *w, const char *src, int k, char *buf, size_t n)
{
	struct mr_arena a;
	struct mr_eplan *p = NULL;
	struct mr_xerr xe;
	struct mr_err err;
	struct mr_xval v;
	uint32_t id = (uint32_t)w->d[k];

	mr_arena_init(&a);
	if (mr_engine_compile(w->e, src, strlen(src), T0, &a, &p, &xe, &err) < 0)
		fail_msg("%s: %s", src, err.msg);
	assert_int_equal(mr_engine_values(w->e, p, &id, 1, &a, &v, NULL, &err), 0);
	if (v.kind == MR_XV_NULL)
		snprintf(buf, n, "null");
	else if (v.kind == MR_XV_BOOL)
		snprintf(buf, n, "%s", v.num ? "true" : "false");
	else if (v.kind == MR_XV_NUM)
		snprintf(buf, n, "%g", v.num);
	else
		snprintf(buf, n, "%s", v.str);
	mr_arena_release(&a);
	return buf;
}

#define VALUE(src, k) value_of(&w, (src), (k), buf, sizeof(buf))

static void test_functions_and_windows(void **state)
{
	struct world w;
	char buf[128];

	open_world(&w, state);
	/* attributes, the hospital's, owners */
	assert_int_equal(count_of(&w, "specialty = \"endocrinology\"", NULL, 0), 2);
	assert_int_equal(count_of(&w, "specialty != \"endocrinology\"", NULL, 0), 1); /* D4 has none: null */
	assert_int_equal(count_of(&w, "hco.city_tier >= 3 and specialty = \"endocrinology\"", NULL, 0), 1);
	assert_int_equal(count_of(&w, "hco.level in (2, 3)", NULL, 0), 3);
	assert_int_equal(count_of(&w, "owner.field = \"R1\"", NULL, 0), 1);
	assert_int_equal(count_of(&w, "owner.inside in (\"R1\", \"R2\")", NULL, 0), 1);
	assert_int_equal(count_of(&w, "specialty = \"no such value\"", NULL, 0), 0);
	assert_int_equal(count_of(&w, "true", NULL, 0), 4);
	/* event functions */
	assert_string_equal(VALUE("count(channel = \"wechat\" and outcome >= \"responded\", 30d)", 1), "2");
	assert_string_equal(VALUE("count(channel = \"wechat\", 365d)", 1), "3");
	assert_string_equal(VALUE("exists(channel = \"visit\", 90d)", 1), "false");  /* 95 days ago */
	assert_string_equal(VALUE("exists(channel = \"visit\", 96d)", 1), "true");
	assert_string_equal(VALUE("exists(channel = \"visit\", 90d)", 2), "false");  /* after as_of */
	assert_string_equal(VALUE("count(channel = \"email\", 30d)", 3), "0");       /* at the start: out */
	assert_string_equal(VALUE("count(channel = \"email\", 721h)", 3), "1");
	assert_string_equal(VALUE("days_since(channel = \"phone\" and outcome >= \"successful\")", 1), "40");
	assert_string_equal(VALUE("days_since(channel = \"phone\" and outcome >= \"successful\")", 2), "null");
	assert_string_equal(VALUE("rate(channel = \"phone\" and outcome >= \"answered\", channel = \"phone\", 30d)", 2),
			    "0.5");
	assert_string_equal(VALUE("rate(channel = \"phone\" and outcome >= \"answered\", channel = \"phone\", 30d)", 1),
			    "null");
	assert_string_equal(VALUE("sum(weight, channel = \"wechat\", 30d)", 2), "1");
	assert_string_equal(VALUE("sum(weight, 30d)", 1), "11"); /* wechat 3+3, content 1+1+3 (completed) */
	assert_string_equal(VALUE("top(content.topic, channel = \"content\", 30d)", 1), "patient_data");
	assert_string_equal(VALUE("top(content.topic, channel = \"content\", 30d)", 3), "guidelines"); /* tie */
	assert_string_equal(VALUE("top(content.product, 30d)", 1), "P1");
	assert_string_equal(VALUE("top(channel, 30d)", 2), "phone");
	assert_string_equal(VALUE("top(rep, 365d)", 1), "R2");
	assert_string_equal(VALUE("top(content, channel = \"visit\", 30d)", 1), "null");
	assert_string_equal(VALUE("count(rep.type = \"inside\", 365d)", 1), "2");
	assert_string_equal(VALUE("count(rep = \"R1\", 365d)", 1), "1");
	assert_string_equal(VALUE("count(rep != \"R1\", 365d)", 1), "2"); /* no rep: null, not counted */
	assert_string_equal(VALUE("count(content.topic = \"patient_data\", 30d)", 1), "2");
	assert_string_equal(VALUE("count(not (channel = \"wechat\"), 30d)", 1), "3");
	/* a segment of all that */
	assert_int_equal(count_of(&w,
				  "specialty = \"endocrinology\" and count(channel = \"wechat\" and outcome >= \"responded\","
				  " 365d) >= 2 and not exists(channel = \"visit\", 90d)", NULL, 0), 1);
	close_world(&w);
}

struct merge_job {
	int64_t into, from;
};

static int merge_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct merge_job *j = arg;
	struct mr_md_actor who = { .login = "test", .source = "test", .now = mr_now_us() };
	struct mr_merge_opts o = { .rule = "manual", .score = -1 };
	int64_t id = 0;

	return mr_hcp_merge(c, j->into, j->from, &o, &who, &id, err);
}

static void test_merges_scope_paging_expiry(void **state)
{
	struct world w;
	char buf[128];
	struct mr_arena a;
	struct mr_eplan *p = NULL;
	struct mr_xerr xe;
	struct mr_err err;
	const char *src = "count(channel = \"wechat\" and outcome >= \"responded\", 30d) >= 2";
	int64_t n = 0;

	open_world(&w, state);
	/* D4's event counts for D1 once D4 is merged into it */
	assert_string_equal(VALUE("count(channel = \"wechat\" and outcome >= \"responded\", 30d)", 1), "2");
	{
		struct merge_job j = { w.d[1], w.d[4] };

		assert_int_equal(mr_store_write(w.db.store, merge_fn, &j, &err), 0);
	}
	sync_all(&w);
	assert_string_equal(VALUE("count(channel = \"wechat\" and outcome >= \"responded\", 30d)", 1), "3");
	assert_string_equal(VALUE("count(channel = \"wechat\" and outcome >= \"responded\", 30d)", 4), "3");
	assert_int_equal(count_of(&w, "true", NULL, 0), 3); /* a merged record is not a doctor */

	/* scope: the caller sees D2 only */
	{
		unsigned char scope[16] = { 0 };

		scope[w.d[2]] = 1;
		assert_int_equal(count_of(&w, "true", scope, 16), 1);
		assert_int_equal(count_of(&w, "specialty = \"cardiology\"", scope, 16), 0);
	}

	/* paging: ids in order, after the cursor */
	mr_arena_init(&a);
	assert_int_equal(mr_engine_compile(w.e, "true", 4, T0, &a, &p, &xe, &err), 0);
	{
		uint32_t ids[4];
		int got = 0;

		assert_int_equal(mr_engine_select(w.e, p, NULL, 0, 0, ids, 2, &got, &n, &err), 0);
		assert_int_equal(got, 2);
		assert_true(ids[0] == (uint32_t)w.d[1] && ids[1] == (uint32_t)w.d[2]);
		assert_int_equal(mr_engine_select(w.e, p, NULL, 0, ids[1], ids, 2, &got, &n, &err), 0);
		assert_int_equal(got, 1);
		assert_int_equal(ids[0], (uint32_t)w.d[3]);
	}
	/* expiry: D1's count rests on events 1, 10 and 20 days old; the oldest leaves at T0 + 10 d */
	assert_int_equal(mr_engine_compile(w.e, src, strlen(src), T0, &a, &p, &xe, &err), 0);
	assert_int_equal(mr_engine_valid_until(w.e, p, (uint32_t)w.d[1]), T0 + 10 * DAY);
	/*
	 * the same from the values' pass, doctor by doctor (tags schedule with it); seen from
	 * 5 days earlier, the event 1 day old is dated after as_of and comes into the window first
	 */
	{
		uint32_t two[2] = { (uint32_t)w.d[1], (uint32_t)w.d[3] };
		struct mr_xval vals[2];
		int64_t until[2];

		assert_int_equal(mr_engine_values(w.e, p, two, 2, &a, vals, until, &err), 0);
		assert_int_equal(until[0], T0 + 10 * DAY);
		assert_int_equal(until[1], mr_engine_valid_until(w.e, p, two[1]));
		assert_int_equal(mr_engine_compile(w.e, src, strlen(src), T0 - 5 * DAY, &a, &p, &xe, &err), 0);
		assert_int_equal(mr_engine_values(w.e, p, two, 1, &a, vals, until, &err), 0);
		assert_int_equal(until[0], T0 - DAY);
		assert_int_equal(mr_engine_valid_until(w.e, p, two[0]), T0 - DAY);
	}
	/* days_since grows at the next whole day after the newest match (40.5 days ago) */
	src = "days_since(channel = \"phone\") > 40";
	assert_int_equal(mr_engine_compile(w.e, src, strlen(src), T0, &a, &p, &xe, &err), 0);
	assert_int_equal(mr_engine_valid_until(w.e, p, (uint32_t)w.d[1]), T0 + DAY / 2);
	/*
	 * owners change with time alone: D3's field alignment to R2 ends at T0 + 2 d, D2's to R2
	 * begins at T0 + 5 d; an owner tag's value turns then
	 */
	mr_test_align(w.db.store, "D3", "R2", "field_owner", T0 - DAY, T0 + 2 * DAY);
	mr_test_align(w.db.store, "D2", "R2", "field_owner", T0 + 5 * DAY, 0);
	sync_all(&w);
	src = "owner.field = \"R2\"";
	assert_int_equal(mr_engine_compile(w.e, src, strlen(src), T0, &a, &p, &xe, &err), 0);
	assert_int_equal(mr_engine_valid_until(w.e, p, (uint32_t)w.d[3]), T0 + 2 * DAY);
	assert_int_equal(mr_engine_valid_until(w.e, p, (uint32_t)w.d[2]), T0 + 5 * DAY);
	assert_int_equal(mr_engine_valid_until(w.e, p, (uint32_t)w.d[1]), INT64_MAX);
	assert_int_equal(count_of_at(&w, src, T0), 1);
	assert_int_equal(count_of_at(&w, src, T0 + 2 * DAY), 0);
	assert_int_equal(count_of_at(&w, src, T0 + 5 * DAY), 1);
	/* no event function: valid for ever */
	src = "specialty = \"endocrinology\"";
	assert_int_equal(mr_engine_compile(w.e, src, strlen(src), T0, &a, &p, &xe, &err), 0);
	assert_int_equal(mr_engine_valid_until(w.e, p, (uint32_t)w.d[1]), INT64_MAX);

	/* what the engine cannot evaluate, and a type a segment cannot use */
	src = "count(channel = type, 30d) > 1";
	assert_int_equal(mr_engine_compile(w.e, src, strlen(src), T0, &a, &p, &xe, &err), MR_EINVAL);
	assert_int_equal(xe.col, 7);
	src = "count(channel = \"phone\", 30d)";
	assert_int_equal(mr_engine_compile(w.e, src, strlen(src), T0, &a, &p, &xe, &err), 0);
	assert_int_equal(mr_engine_select(w.e, p, NULL, 0, 0, NULL, 0, NULL, &n, &err), MR_EINVAL);
	mr_arena_release(&a);
	close_world(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		MR_TEST_BOTH(test_functions_and_windows),
		MR_TEST_BOTH(test_merges_scope_paging_expiry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
