/*
 * KPIs over the projection (analytics/kpi.h), on SQLite and PostgreSQL,
 * on a small world whose every number is worked out by hand below:
 *
 *   hospitals  H1 tier 1 (east), H2 tier 2 (west)
 *   reps       M field manager; RF field and RI inside, both under M; RX inside, no manager
 *   doctors    D1 H1 endocrinology: RF field owner, RI inside owner
 *              D2 H1 cardiology:    RI inside owner (RF's field ownership ended 2026-02-01)
 *              D3 H2 endocrinology: RF field owner
 *              D4 H2: merged into D3 after its events (they count for D3)
 *              D5 H1: deleted after its events (they count for no one)
 *              D6 no hospital: RX inside owner;  D7 H2: RX inside owner, no events
 *
 * The window is March 2026 in Shanghai: [03-01 00:00, 04-01 00:00) +08:00.
 *
 *   e1  D1 phone effective  RI  03-01 00:00 (the first instant: in)
 *   e2  D1 phone no_answer  RI  03-02      e3  D1 phone answered   RI  03-03
 *   e4  D1 visit completed  RF  03-04      e14 D2 meeting_offline invited RF 03-06
 *   e5  D2 phone successful RI  03-11      e6  D2 wechat read, no rep     03-12
 *   e7  D3 phone no_answer  RF  03-13      e8  D4 phone answered   RI  03-14
 *   e9  D5 phone effective  RI  03-15 (deleted doctor)
 *   e12 D6 meeting_online attended RX 03-21   e13 D6 email sent, no rep 03-22
 *   e10 D1 phone effective  RI  02-28 23:59:59 (out: the month before, in Shanghai)
 *   e11 D1 phone effective  RI  04-01 00:00 (out: the window's end)
 *
 * In March: phone calls 6 (e1 e2 e3 e5 e7 e8), answered 4, successful 2,
 * effective 1; reaching events 7 (e1 e3 e4 e5 e6 e8 e12) of 4 doctors (D1
 * D2 D3 D6); targets at 04-01 are D1 D2 D3 D6 D7; so coverage 4/5 and
 * frequency 7/4.
 */
#include "unit.h"
#include "world.h"

#include <jansson.h>
#include <math.h>

#include "analytics/kpi.h"
#include "analytics/kpistore.h"
#include "base/arena.h"
#include "base/time.h"
#include "engine/evindex.h"
#include "engine/hcpdir.h"
#include "engine/profile.h"
#include "event/log.h"
#include "md/md.h"
#include "md/merge.h"
#include "md/relate.h"

/* 2026-03-01T00:00:00+08:00 */
#define MARCH (INT64_C(1772294400) * MR_US_PER_S)
#define DAY (INT64_C(86400) * MR_US_PER_S)

struct fixture {
	struct mr_test_db db;
	struct mr_keys keys;
	struct mr_hcpdir *dir;
	struct mr_evindex *ev;
	struct mr_profile *prof;
	struct mr_kpistore *store;
	struct mr_evindex *ids;     /* SQLite: the id set of the writer */
	int64_t d[8];   /* d[1]..d[7]: the doctors' internal ids */
	int64_t m, rf, ri, rx;
};

/* ------------------------------------------------------------ building the world */

/* Upserts the record obj (stolen) describes; its internal id. */
static int64_t put(struct fixture *f, const struct mr_md_entity *e, json_t *obj)
{
	return mr_test_put(f->db.store, &f->keys, e, obj);
}

/* Aligns hcp to rep in role from 2025-01-01, until valid_to (0: open). */
static void align(struct fixture *f, const char *hcp, const char *rep, const char *role, int64_t valid_to)
{
	mr_test_align(f->db.store, hcp, rep, role, INT64_C(1735660800) * MR_US_PER_S, valid_to);
}

/* One event: the doctor's record, the channel, the rung, the rep (0: none), the time. */
struct ev_spec {
	const char *id;
	int hcp;
	int channel, outcome;
	char rep;         /* 'F' RF, 'I' RI, 'X' RX, 0 none */
	int64_t ts;
};

static const struct ev_spec mr_events[] = {
	{ "e1", 1, MR_CH_PHONE, 3, 'I', MARCH },
	{ "e2", 1, MR_CH_PHONE, 0, 'I', MARCH + 1 * DAY + 3600 * MR_US_PER_S },
	{ "e3", 1, MR_CH_PHONE, 1, 'I', MARCH + 2 * DAY },
	{ "e4", 1, MR_CH_VISIT, 1, 'F', MARCH + 3 * DAY },
	{ "e5", 2, MR_CH_PHONE, 2, 'I', MARCH + 10 * DAY },
	{ "e6", 2, MR_CH_WECHAT, 2, 0, MARCH + 11 * DAY },
	{ "e7", 3, MR_CH_PHONE, 0, 'F', MARCH + 12 * DAY },
	{ "e8", 4, MR_CH_PHONE, 1, 'I', MARCH + 13 * DAY },
	{ "e9", 5, MR_CH_PHONE, 3, 'I', MARCH + 14 * DAY },
	{ "e10", 1, MR_CH_PHONE, 3, 'I', MARCH - MR_US_PER_S },
	{ "e11", 1, MR_CH_PHONE, 3, 'I', MARCH + 31 * DAY },
	{ "e12", 6, MR_CH_MEETING_ONLINE, 2, 'X', MARCH + 20 * DAY },
	{ "e13", 6, MR_CH_EMAIL, 0, 0, MARCH + 21 * DAY },
	{ "e14", 2, MR_CH_MEETING_OFFLINE, 0, 'F', MARCH + 5 * DAY },
};
#define NEVENTS ((int)(sizeof(mr_events) / sizeof(mr_events[0])))

struct events_job {
	struct fixture *f;
	struct mr_evindex *ids;
	const struct ev_spec *spec;
	int n;
};

enum { MAX_BATCH = 16 };

static int events_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct events_job *j = arg;
	struct fixture *f = j->f;
	struct mr_md_actor who = { .login = "test", .source = "test", .now = mr_now_us() };
	struct mr_event ev[MAX_BATCH];
	unsigned char fate[MAX_BATCH];
	int64_t seq[MAX_BATCH];
	struct mr_err why[MAX_BATCH];
	struct mr_evlog_batch b = { ev, j->n, fate, seq, why, 0, 0, 0, 0, 0 };

	for (int i = 0; i < j->n; i++) {
		const struct ev_spec *s = &j->spec[i];

		mr_event_init(&ev[i]);
		ev[i].id = s->id;
		ev[i].ts = s->ts;
		ev[i].hcp_id = f->d[s->hcp];
		ev[i].channel = s->channel;
		ev[i].type = mr_channel_def(s->channel)->default_type;
		ev[i].outcome = s->outcome;
		ev[i].rep_id = s->rep == 'F' ? f->rf : s->rep == 'I' ? f->ri : s->rep == 'X' ? f->rx : 0;
	}
	mr_evlog_batch_reset(&b);
	return mr_evlog_append(c, j->ids, &f->keys, &who, &b, err);
}

/* Stores n events (ids: the SQLite id set, or NULL). */
static void store_events(struct fixture *f, struct mr_evindex *ids, const struct ev_spec *spec, int n)
{
	struct events_job j = { f, ids, spec, n };
	struct mr_err err;

	assert_true(n <= MAX_BATCH);
	if (mr_store_write(f->db.store, events_fn, &j, &err) < 0)
		fail_msg("events: %s", err.msg);
}

struct merge_job {
	int64_t survivor, merged, deleted;
};

static int merge_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct merge_job *j = arg;
	struct mr_md_actor who = { .login = "test", .source = "test", .now = mr_now_us() };
	struct mr_merge_opts mo = { .rule = "manual", .score = -1 };
	int64_t merge_id = 0;
	int rc = mr_hcp_merge(c, j->survivor, j->merged, &mo, &who, &merge_id, err);

	if (rc == 0)
		rc = mr_md_delete(c, &mr_md_hcp, j->deleted, &who, err);
	return rc;
}

static json_t *hcp(const char *id, const char *hco, const char *specialty)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "id", id, "name", id, "title", "chief");

	if (hco)
		json_object_set_new(o, "hco", json_string(hco));
	if (specialty)
		json_object_set_new(o, "specialty", json_string(specialty));
	return o;
}

static void open_fixture(struct fixture *f, void **state)
{
	int pg = mr_test_backend(state);
	struct mr_evindex *ids = pg ? NULL : mr_evindex_new(1);
	struct mr_conn *c = NULL;
	struct mr_err err;
	int64_t feb1 = INT64_C(1769875200) * MR_US_PER_S;

	memset(f, 0, sizeof(*f));
	mr_test_db_open(&f->db, pg);
	mr_test_keys(&f->keys, 9);
	put(f, &mr_md_hco, json_pack("{s:s, s:s, s:i, s:i, s:s, s:s}", "id", "H1", "name", "一院", "level", 3,
				     "city_tier", 1, "region", "east", "province", "上海"));
	put(f, &mr_md_hco, json_pack("{s:s, s:s, s:i, s:i, s:s, s:s}", "id", "H2", "name", "二院", "level", 2,
				     "city_tier", 2, "region", "west", "province", "四川"));
	f->m = put(f, &mr_md_rep, json_pack("{s:s, s:s, s:s}", "id", "M", "name", "经理", "type", "field"));
	f->rf = put(f, &mr_md_rep, json_pack("{s:s, s:s, s:s, s:s}", "id", "RF", "name", "张", "type", "field",
					     "manager", "M"));
	f->ri = put(f, &mr_md_rep, json_pack("{s:s, s:s, s:s, s:s}", "id", "RI", "name", "李", "type", "inside",
					     "manager", "M"));
	f->rx = put(f, &mr_md_rep, json_pack("{s:s, s:s, s:s}", "id", "RX", "name", "王", "type", "inside"));
	f->d[1] = put(f, &mr_md_hcp, hcp("D1", "H1", "endocrinology"));
	f->d[2] = put(f, &mr_md_hcp, hcp("D2", "H1", "cardiology"));
	f->d[3] = put(f, &mr_md_hcp, hcp("D3", "H2", "endocrinology"));
	f->d[4] = put(f, &mr_md_hcp, hcp("D4", "H2", NULL));
	f->d[5] = put(f, &mr_md_hcp, hcp("D5", "H1", "endocrinology"));
	f->d[6] = put(f, &mr_md_hcp, hcp("D6", NULL, NULL));
	f->d[7] = put(f, &mr_md_hcp, hcp("D7", "H2", "oncology"));
	align(f, "D1", "RF", "field_owner", 0);
	align(f, "D1", "RI", "inside_owner", 0);
	align(f, "D2", "RI", "inside_owner", 0);
	align(f, "D2", "RF", "field_owner", feb1);
	align(f, "D3", "RF", "field_owner", 0);
	align(f, "D6", "RX", "inside_owner", 0);
	align(f, "D7", "RX", "inside_owner", 0);

	assert_int_equal(mr_store_acquire(f->db.store, &c, &err), 0);
	if (ids)
		assert_int_equal(mr_evindex_sync(ids, c, &err), 0);
	store_events(f, ids, mr_events, NEVENTS);
	{
		struct merge_job mj = { f->d[3], f->d[4], f->d[5] };

		if (mr_store_write(f->db.store, merge_fn, &mj, &err) < 0)
			fail_msg("merge: %s", err.msg);
	}
	f->dir = mr_hcpdir_new();
	f->ev = mr_evindex_new(0);
	f->prof = mr_profile_new();
	f->store = mr_kpistore_new();
	mr_profile_follow(f->prof, f->dir);
	mr_kpistore_follow(f->store, f->ev);
	assert_int_equal(mr_hcpdir_sync(f->dir, c, &err), 0);
	assert_int_equal(mr_evindex_sync(f->ev, c, &err), 0);
	mr_store_release(f->db.store, c);
	if (ids) /* kept for events stored later (SQLite's id set) */
		f->ids = ids;
}

static void close_fixture(struct fixture *f)
{
	mr_kpistore_free(f->store);
	mr_profile_free(f->prof);
	mr_evindex_free(f->ev);
	mr_evindex_free(f->ids);
	mr_hcpdir_free(f->dir);
	mr_test_db_close(&f->db);
}

/* ------------------------------------------------------------ asking */

static const struct mr_scope mr_all = { .kind = MR_SCOPE_ALL };

/* Computes March (or [from, to)) grouped by dims (NULL-terminated names), channels (0: all). */
static void kpis(struct fixture *f, const struct mr_scope *s, int64_t from, int64_t to, const char *d0,
		 const char *d1, unsigned channels, int threads, struct mr_kpi_result *res)
{
	struct mr_kpi_src src = { f->dir, f->ev, f->prof, f->store };
	struct mr_kpi_query q = { .from = from, .to = to, .channels = channels, .threads = threads };
	struct mr_err err;
	struct mr_scope sc = *s;

	if (!sc.at)
		sc.at = mr_now_us();
	if (d0)
		q.dims[q.ndims++] = mr_kpi_dim_parse(d0);
	if (d1)
		q.dims[q.ndims++] = mr_kpi_dim_parse(d1);
	if (mr_kpi_compute(&src, &q, &sc, res, &err) < 0)
		fail_msg("kpis: %s", err.msg);
}

static void march(struct fixture *f, const struct mr_scope *s, const char *d0, const char *d1,
		  struct mr_kpi_result *res)
{
	kpis(f, s, MARCH, MARCH + 31 * DAY, d0, d1, 0, 0, res);
}

static int key_is(const char *got, const char *want)
{
	return got && want ? strcmp(got, want) == 0 : got == want;
}

/* The group with keys k0 (and k1); fails when absent. */
static const struct mr_kpi_counts *group(const struct mr_kpi_result *res, const char *k0, const char *k1)
{
	for (uint32_t i = 0; i < res->ngroups; i++) {
		if (key_is(res->groups[i].key[0], k0) && key_is(res->groups[i].key[1], k1))
			return &res->groups[i].c;
	}
	fail_msg("no group %s/%s", k0 ? k0 : "(none)", k1 ? k1 : "(none)");
	return NULL;
}

/* Events of ch at rung r or above. */
static unsigned at(const struct mr_kpi_counts *c, int ch, int r)
{
	unsigned n = 0;

	for (int k = r; k < MR_KPI_RUNGS; k++)
		n += c->ev[ch][k];
	return n;
}

static void assert_phone(const struct mr_kpi_counts *c, unsigned calls, unsigned answered,
			 unsigned successful, unsigned effective)
{
	assert_int_equal(at(c, MR_CH_PHONE, 0), calls);
	assert_int_equal(at(c, MR_CH_PHONE, 1), answered);
	assert_int_equal(at(c, MR_CH_PHONE, 2), successful);
	assert_int_equal(at(c, MR_CH_PHONE, 3), effective);
}

static void assert_reach(const struct mr_kpi_counts *c, unsigned targeted, unsigned reached, unsigned covered)
{
	assert_int_equal(c->targeted, targeted);
	assert_int_equal(c->reached, reached);
	assert_int_equal(c->covered, covered);
}

static double real_at(json_t *o, const char *section, const char *name)
{
	json_t *v = json_object_get(json_object_get(o, section), name);

	if (!json_is_real(v))
		fail_msg("%s.%s is not a number", section, name);
	return json_real_value(v);
}

static int is_null(json_t *o, const char *section, const char *name)
{
	return json_is_null(json_object_get(json_object_get(o, section), name));
}

/* ------------------------------------------------------------ tests */

static void test_total(void **state)
{
	struct fixture f;
	struct mr_kpi_result res, two;
	json_t *j, *t;

	open_fixture(&f, state);
	march(&f, &mr_all, NULL, NULL, &res);
	assert_int_equal(res.ngroups, 1);
	assert_phone(&res.total, 6, 4, 2, 1);
	assert_int_equal(at(&res.total, MR_CH_WECHAT, 0), 1);
	assert_int_equal(at(&res.total, MR_CH_WECHAT, 2), 1);
	assert_int_equal(at(&res.total, MR_CH_WECHAT, 3), 0);
	assert_int_equal(at(&res.total, MR_CH_MEETING_ONLINE, 2), 1);
	assert_int_equal(at(&res.total, MR_CH_MEETING_OFFLINE, 0), 1);
	assert_int_equal(at(&res.total, MR_CH_MEETING_OFFLINE, 1), 0);
	assert_int_equal(at(&res.total, MR_CH_VISIT, 1), 1);
	assert_int_equal(at(&res.total, MR_CH_EMAIL, 0), 1);
	assert_int_equal(at(&res.total, MR_CH_SMS, 0), 0);
	assert_reach(&res.total, 5, 4, 4);
	assert_memory_equal(&res.groups[0].c, &res.total, sizeof(res.total));

	/* the JSON: rates, null rates, reach */
	j = mr_kpi_result_json(&res);
	t = json_object_get(j, "total");
	assert_true(fabs(real_at(t, "phone", "answer_rate") - 4.0 / 6) < 1e-12);
	assert_true(real_at(t, "phone", "successful_rate") == 0.5);
	assert_true(real_at(t, "phone", "effective_rate") == 0.5);
	assert_true(real_at(t, "wechat", "response_rate") == 0.0);
	assert_true(is_null(t, "wecom", "response_rate"));   /* nothing sent */
	assert_true(is_null(t, "sms", "response_rate"));
	assert_true(real_at(t, "meeting_online", "participation_rate") == 1.0);
	assert_true(real_at(t, "meeting_offline", "participation_rate") == 0.0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(t, "visits"), "completed")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(t, "content"), "views")), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(t, "reach"), "interactions")), 7);
	assert_true(real_at(t, "reach", "coverage") == 0.8);
	assert_true(real_at(t, "reach", "frequency") == 1.75);
	assert_int_equal(json_array_size(json_object_get(j, "group_by")), 0);
	json_decref(j);

	/* two threads count the same */
	kpis(&f, &mr_all, MARCH, MARCH + 31 * DAY, NULL, NULL, 0, 2, &two);
	assert_memory_equal(&two.total, &res.total, sizeof(res.total));
	mr_kpi_result_release(&two);
	mr_kpi_result_release(&res);

	/* only phone: the other channels are left out, reach counts phone only */
	kpis(&f, &mr_all, MARCH, MARCH + 31 * DAY, NULL, NULL, 1u << MR_CH_PHONE, 0, &res);
	assert_reach(&res.total, 5, 3, 3);
	j = mr_kpi_counts_json(&res.total, 1u << MR_CH_PHONE);
	assert_non_null(json_object_get(j, "phone"));
	assert_null(json_object_get(j, "wechat"));
	assert_true(real_at(j, "reach", "frequency") == 4.0 / 3);
	json_decref(j);
	mr_kpi_result_release(&res);
	close_fixture(&f);
}

static void test_groups(void **state)
{
	struct fixture f;
	struct mr_kpi_result res;
	const struct mr_kpi_counts *c;
	json_t *j;

	open_fixture(&f, state);
	/* by city tier: D1 D2 in 1; D3 (and D4's event) and D7 in 2; D6 has no hospital */
	march(&f, &mr_all, "hco.city_tier", NULL, &res);
	assert_int_equal(res.ngroups, 3);
	assert_string_equal(res.groups[0].key[0], "1");
	assert_string_equal(res.groups[1].key[0], "2");
	assert_null(res.groups[2].key[0]);
	c = group(&res, "1", NULL);
	assert_phone(c, 4, 3, 2, 1);
	assert_reach(c, 2, 2, 2);
	c = group(&res, "2", NULL);
	assert_phone(c, 2, 1, 0, 0);
	assert_reach(c, 2, 1, 1);
	c = group(&res, NULL, NULL);
	assert_phone(c, 0, 0, 0, 0);
	assert_int_equal(at(c, MR_CH_MEETING_ONLINE, 2), 1);
	assert_reach(c, 1, 1, 1);
	j = mr_kpi_result_json(&res);
	{
		json_t *g2 = json_array_get(json_object_get(j, "groups"), 1);

		assert_string_equal(json_string_value(json_object_get(json_object_get(g2, "key"), "hco.city_tier")), "2");
		assert_true(real_at(g2, "phone", "answer_rate") == 0.5);
		assert_true(real_at(g2, "phone", "successful_rate") == 0.0);
		assert_true(is_null(g2, "phone", "effective_rate")); /* no successful call */
		assert_true(real_at(g2, "reach", "coverage") == 0.5);
		assert_true(is_null(json_array_get(json_object_get(j, "groups"), 2), "phone", "answer_rate"));
		assert_true(json_is_null(json_object_get(json_object_get(json_array_get(json_object_get(j, "groups"), 2),
									 "key"), "hco.city_tier")));
	}
	json_decref(j);
	mr_kpi_result_release(&res);

	/* by specialty: D4 has none, but its event counts for D3 (endocrinology) */
	march(&f, &mr_all, "specialty", NULL, &res);
	assert_string_equal(res.groups[0].key[0], "cardiology");
	assert_phone(group(&res, "endocrinology", NULL), 5, 3, 1, 1); /* D1's four and D4's one... */
	mr_kpi_result_release(&res);

	/* field versus inside: by the rep who did the touch; targets by the aligned rep */
	march(&f, &mr_all, "rep.type", NULL, &res);
	assert_int_equal(res.ngroups, 3);
	assert_string_equal(res.groups[0].key[0], "field");
	assert_string_equal(res.groups[1].key[0], "inside");
	assert_null(res.groups[2].key[0]);
	c = group(&res, "field", NULL);
	assert_phone(c, 1, 0, 0, 0);
	assert_int_equal(at(c, MR_CH_VISIT, 1), 1);
	assert_reach(c, 2, 1, 1);               /* targets D1 D3; reached D1 (the visit) */
	c = group(&res, "inside", NULL);
	assert_phone(c, 5, 4, 2, 1);
	assert_reach(c, 4, 4, 3);               /* targets D1 D2 D6 D7; D3 reached by RI but RF's */
	c = group(&res, NULL, NULL);
	assert_int_equal(at(c, MR_CH_WECHAT, 0), 1);
	assert_reach(c, 0, 1, 0);
	assert_reach(&res.total, 5, 4, 4);
	mr_kpi_result_release(&res);

	/* by rep, and two dimensions */
	march(&f, &mr_all, "rep", NULL, &res);
	assert_phone(group(&res, "RI", NULL), 5, 4, 2, 1);
	assert_reach(group(&res, "RX", NULL), 2, 1, 1);
	assert_reach(group(&res, "RF", NULL), 2, 1, 1);
	mr_kpi_result_release(&res);
	march(&f, &mr_all, "hco.city_tier", "rep.type", &res);
	c = group(&res, "2", "inside");
	assert_phone(c, 1, 1, 0, 0);
	assert_reach(c, 1, 1, 0);               /* target D7 (RX); reached D3, not an inside target */
	assert_reach(group(&res, "2", "field"), 1, 0, 0);
	assert_reach(group(&res, "1", "inside"), 2, 2, 2);
	mr_kpi_result_release(&res);
	close_fixture(&f);
}

static void test_scope(void **state)
{
	struct fixture f;
	struct mr_kpi_result res;
	struct mr_scope rep = { .kind = MR_SCOPE_REP }, team = { .kind = MR_SCOPE_TEAM }, none = {
		.kind = MR_SCOPE_NONE };

	open_fixture(&f, state);
	rep.rep_id = f.ri; /* RI's doctors now: D1 D2 */
	march(&f, &rep, NULL, NULL, &res);
	assert_phone(&res.total, 4, 3, 2, 1);
	assert_int_equal(at(&res.total, MR_CH_MEETING_ONLINE, 0), 0);
	assert_reach(&res.total, 2, 2, 2);
	mr_kpi_result_release(&res);

	team.rep_id = f.m; /* M's team, RF and RI: D1 D2 D3 (and D4's events) */
	march(&f, &team, "rep.type", NULL, &res);
	assert_phone(&res.total, 6, 4, 2, 1);
	assert_reach(&res.total, 3, 3, 3);
	assert_reach(group(&res, "inside", NULL), 2, 3, 2);
	mr_kpi_result_release(&res);

	march(&f, &none, NULL, NULL, &res);
	assert_phone(&res.total, 0, 0, 0, 0);
	assert_reach(&res.total, 0, 0, 0);
	assert_int_equal(res.ngroups, 1); /* no grouping: one row, even when empty */
	mr_kpi_result_release(&res);
	close_fixture(&f);
}

static void test_months_and_weeks(void **state)
{
	struct fixture f;
	struct mr_kpi_result res;
	char key[16];

	open_fixture(&f, state);
	/* the keys: Shanghai's calendar, ISO weeks (2026-03-01 is a Sunday, of week 9) */
	mr_kpi_month_key(MARCH, key, sizeof(key));
	assert_string_equal(key, "2026-03");
	mr_kpi_month_key(MARCH - 1, key, sizeof(key)); /* 2026-02-28T15:59:59Z */
	assert_string_equal(key, "2026-02");
	mr_kpi_week_key(MARCH, key, sizeof(key));
	assert_string_equal(key, "2026-W09");
	mr_kpi_week_key(MARCH + DAY, key, sizeof(key));
	assert_string_equal(key, "2026-W10");
	mr_kpi_week_key(INT64_C(1767196800) * MR_US_PER_S, key, sizeof(key)); /* 2026-01-01 (a Thursday) */
	assert_string_equal(key, "2026-W01");
	mr_kpi_week_key(INT64_C(1735574400) * MR_US_PER_S, key, sizeof(key)); /* 2024-12-31 (a Tuesday) */
	assert_string_equal(key, "2025-W01");
	mr_kpi_week_key(INT64_C(1609430400) * MR_US_PER_S, key, sizeof(key)); /* 2021-01-01 (a Friday) */
	assert_string_equal(key, "2020-W53");

	/* Feb 15 – Apr 15: e10 falls in February, e11 in April */
	kpis(&f, &mr_all, MARCH - 14 * DAY, MARCH + 45 * DAY, "month", NULL, 1u << MR_CH_PHONE, 0, &res);
	assert_int_equal(res.ngroups, 3);
	assert_string_equal(res.groups[0].key[0], "2026-02");
	assert_string_equal(res.groups[1].key[0], "2026-03");
	assert_string_equal(res.groups[2].key[0], "2026-04");
	assert_phone(group(&res, "2026-02", NULL), 1, 1, 1, 1);
	assert_phone(group(&res, "2026-03", NULL), 6, 4, 2, 1);
	assert_phone(group(&res, "2026-04", NULL), 1, 1, 1, 1);
	assert_reach(group(&res, "2026-02", NULL), 5, 1, 1); /* every month: the targets at the end */
	assert_reach(group(&res, "2026-03", NULL), 5, 3, 3);
	assert_reach(&res.total, 5, 3, 3);
	assert_phone(&res.total, 8, 6, 4, 3);
	mr_kpi_result_release(&res);

	/* March by week: W09 (Mar 1), W10 .. W14 (Mar 30–31) */
	kpis(&f, &mr_all, MARCH, MARCH + 31 * DAY, "week", "hco.city_tier", 1u << MR_CH_PHONE, 0, &res);
	assert_phone(group(&res, "2026-W09", "1"), 1, 1, 1, 1);
	assert_phone(group(&res, "2026-W10", "1"), 2, 1, 0, 0);
	assert_phone(group(&res, "2026-W11", "1"), 1, 1, 1, 0);
	assert_phone(group(&res, "2026-W11", "2"), 2, 1, 0, 0);
	assert_phone(group(&res, "2026-W14", "2"), 0, 0, 0, 0);
	assert_reach(group(&res, "2026-W14", "2"), 2, 0, 0);
	assert_string_equal(res.groups[0].key[0], "2026-W09");
	assert_string_equal(res.groups[res.ngroups - 1].key[0], "2026-W14");
	mr_kpi_result_release(&res);
	close_fixture(&f);
}

/* Events applied after the columns were built count at once (the store's delta), merged records included. */
static void test_new_events(void **state)
{
	static const struct ev_spec more[] = {
		{ "n1", 2, MR_CH_PHONE, 3, 'I', MARCH + 20 * DAY },
		{ "n2", 4, MR_CH_PHONE, 1, 'I', MARCH + 21 * DAY },  /* D4's: D3's */
		{ "n3", 1, MR_CH_PHONE, 3, 'I', MARCH + 40 * DAY },  /* after the window */
		{ "n4", 6, MR_CH_SMS, 1, 0, MARCH + 22 * DAY },
	};
	struct fixture f;
	struct mr_kpi_result res;
	struct mr_conn *c = NULL;
	struct mr_err err;

	open_fixture(&f, state);
	march(&f, &mr_all, NULL, NULL, &res); /* builds the columns */
	assert_phone(&res.total, 6, 4, 2, 1);
	mr_kpi_result_release(&res);
	store_events(&f, f.ids, more, 4);
	assert_int_equal(mr_store_acquire(f.db.store, &c, &err), 0);
	assert_int_equal(mr_evindex_sync(f.ev, c, &err), 0); /* the index reads them, and tells the store */
	mr_store_release(f.db.store, c);

	march(&f, &mr_all, "hco.city_tier", NULL, &res);
	assert_phone(&res.total, 8, 6, 3, 2);
	assert_int_equal(at(&res.total, MR_CH_SMS, 1), 1);
	assert_reach(&res.total, 5, 4, 4);
	assert_phone(group(&res, "1", NULL), 5, 4, 3, 2);
	assert_phone(group(&res, "2", NULL), 3, 2, 0, 0);
	mr_kpi_result_release(&res);
	kpis(&f, &mr_all, MARCH, MARCH + 45 * DAY, "month", NULL, 1u << MR_CH_PHONE, 0, &res);
	assert_phone(group(&res, "2026-03", NULL), 8, 6, 3, 2);
	assert_phone(group(&res, "2026-04", NULL), 2, 2, 2, 2); /* e11 and n3 */
	mr_kpi_result_release(&res);
	close_fixture(&f);
}

static void test_dims(void **state)
{
	(void)state;
	assert_int_equal(mr_kpi_dim_parse("hco.city_tier"), MR_KD_CITY_TIER);
	assert_int_equal(mr_kpi_dim_parse("rep.type"), MR_KD_REP_TYPE);
	assert_int_equal(mr_kpi_dim_parse("week"), MR_KD_WEEK);
	assert_int_equal(mr_kpi_dim_parse("hco.city"), -1);
	assert_string_equal(mr_kpi_dim_name(MR_KD_REGION), "region");
}

/* Before the projection is loaded: MR_EUNAVAIL (the API's 503 "loading"), never a partial answer. */
static void test_not_loaded(void **state)
{
	struct mr_kpi_src src = { mr_hcpdir_new(), mr_evindex_new(0), mr_profile_new(), mr_kpistore_new() };
	struct mr_kpi_query q = { .from = MARCH, .to = MARCH + DAY };
	struct mr_kpi_result res;
	struct mr_err err;

	(void)state;
	mr_err_clear(&err);
	assert_int_equal(mr_kpi_compute(&src, &q, &mr_all, &res, &err), MR_EUNAVAIL);
	assert_int_equal(res.ngroups, 0);
	mr_kpi_result_release(&res);
	mr_kpistore_free(src.store);
	mr_profile_free(src.prof);
	mr_evindex_free(src.ev);
	mr_hcpdir_free(src.dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dims),
		cmocka_unit_test(test_not_loaded),
		MR_TEST_BOTH(test_total),
		MR_TEST_BOTH(test_groups),
		MR_TEST_BOTH(test_scope),
		MR_TEST_BOTH(test_months_and_weeks),
		MR_TEST_BOTH(test_new_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
