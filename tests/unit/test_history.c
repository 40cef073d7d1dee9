/*
 * Unit tests of src/demo/history.c: the demo event history. The doctors
 * are a real demo world's (5,000 doctors, its active primaries, with their
 * hospitals' level and tier, identities and current alignments), read
 * through the world's sink as `medreach demo` reads them; one year of
 * history is generated once for the group and kept as compact records.
 *
 * The tests check what a user of the demo relies on, from the events
 * alone: the KPIs land on the industry's rates; the same seed gives the
 * same bytes; events are valid, unique, inside the window and in order;
 * channels, reps, meetings and content are ones the doctor really has;
 * times look like Chinese working life; volume follows coverage; and the
 * hidden preferences (mr_hist_prefs) show in the outcomes by a clear
 * margin, which is what a recommendation engine is to learn.
 */
#include "unit.h"

#include <math.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "demo/data.h"
#include "demo/history.h"
#include "demo/world.h"
#include "event/event.h"

#define NOW_US (INT64_C(1767225600) * MR_US_PER_S) /* 2026-01-01T00:00:00Z */
#define DAY_US (INT64_C(86400) * MR_US_PER_S)
#define FROM_US (NOW_US - 365 * DAY_US)
#define WORLD_HCPS 5000
#define SEED 11

#define assert_near(x, want, tol)                                                              \
	do {                                                                                    \
		double x_ = (x);                                                                \
		if (!(fabs(x_ - (want)) <= (tol)))                                              \
			fail_msg("%s = %.4f, want %.4f ± %.4f", #x, x_, (double)(want), (double)(tol)); \
	} while (0)

#define assert_above(x, y, margin)                                                              \
	do {                                                                                     \
		double a_ = (x), b_ = (y);                                                       \
		if (!(a_ >= b_ + (margin)))                                                      \
			fail_msg("%s = %.4f is not %.2f above %s = %.4f", #x, a_, (double)(margin), #y, b_); \
	} while (0)

/* ---- the doctors of a demo world ---- */

struct docs {
	struct mr_hist_hcp *h;
	size_t n, cap;
	int *lt;              /* hcos: level * 10 + tier, by hospital number */
	size_t nlt, caplt;
	char **strs;          /* every string the rows point at */
	size_t nstr, capstr;
	const char *entity;
};

static char *keep_str(struct docs *d, const char *s)
{
	if (d->nstr == d->capstr) {
		d->capstr = d->capstr ? 2 * d->capstr : 4096;
		d->strs = mr_realloc(d->strs, d->capstr * sizeof(char *));
	}
	d->strs[d->nstr] = mr_strdup(s);
	return d->strs[d->nstr++];
}

/* The number in an id like "D0000012" or "H000034" (after its one-letter prefix), or -1. */
static int64_t id_number(const char *id, char prefix)
{
	int64_t v;

	if (!id || id[0] != prefix || mr_parse_i64(id + 1, 1, INT64_C(1) << 40, &v) < 0)
		return -1;
	return v;
}

static int docs_begin(void *arg, const char *entity, int ncols, const char *const *cols, struct mr_err *err)
{
	struct docs *d = arg;

	(void)ncols;
	(void)cols;
	(void)err;
	d->entity = entity;
	return 0;
}

static void docs_hco(struct docs *d, const char *const *v)
{
	int64_t level = 0, tier = 0;

	assert_int_equal(mr_parse_i64(v[2], 1, 3, &level), 0);
	assert_int_equal(mr_parse_i64(v[7], 1, 5, &tier), 0);
	if (d->nlt == d->caplt) {
		d->caplt = d->caplt ? 2 * d->caplt : 1024;
		d->lt = mr_realloc(d->lt, d->caplt * sizeof(int));
	}
	assert_int_equal(id_number(v[0], 'H'), (int64_t)d->nlt + 1);
	d->lt[d->nlt++] = (int)(level * 10 + tier);
}

/* Every primary doctor gets a row (D-numbers stay indices); inactive ones are dropped later. */
static void docs_hcp(struct docs *d, const char *const *v)
{
	struct mr_hist_hcp *h;
	int64_t hco = id_number(v[7], 'H');

	if (v[0][0] != 'D')
		return;
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 1024;
		d->h = mr_realloc(d->h, d->cap * sizeof(*d->h));
	}
	h = &d->h[d->n++];
	memset(h, 0, sizeof(*h));
	h->id = strcmp(v[11], "active") == 0 ? keep_str(d, v[0]) : NULL;
	h->title = keep_str(d, v[4]);
	h->specialty = keep_str(d, v[5]);
	h->has_email = v[10][0] != '\0';
	if (hco >= 1 && (size_t)hco <= d->nlt) {
		h->hco_level = d->lt[hco - 1] / 10;
		h->city_tier = d->lt[hco - 1] % 10;
	}
}

static struct mr_hist_hcp *docs_of(struct docs *d, const char *id)
{
	int64_t k = id_number(id, 'D');

	return k >= 1 && (size_t)k <= d->n ? &d->h[k - 1] : NULL;
}

static int docs_row(void *arg, const char *const *v, struct mr_err *err)
{
	struct docs *d = arg;
	struct mr_hist_hcp *h;

	(void)err;
	if (strcmp(d->entity, "hcos") == 0)
		docs_hco(d, v);
	else if (strcmp(d->entity, "hcps") == 0)
		docs_hcp(d, v);
	else if (strcmp(d->entity, "identities") == 0 && (h = docs_of(d, v[0])) != NULL) {
		h->has_wecom |= strcmp(v[1], "wecom_external_userid") == 0;
		h->has_wechat |= strncmp(v[1], "wechat_", 7) == 0;
	} else if (strcmp(d->entity, "alignments") == 0 && (h = docs_of(d, v[0])) != NULL && !v[5][0]) {
		if (strcmp(v[2], "field_owner") == 0 && !h->field_rep)
			h->field_rep = keep_str(d, v[1]);
		if (strcmp(v[2], "inside_owner") == 0 && !h->inside_rep)
			h->inside_rep = keep_str(d, v[1]);
		if (strcmp(v[2], "msl") == 0 && !h->msl)
			h->msl = keep_str(d, v[1]);
	}
	return 0;
}

static int docs_end(void *arg, const char *entity, struct mr_err *err)
{
	(void)arg;
	(void)entity;
	(void)err;
	return 0;
}

static void docs_load(struct docs *d, int64_t hcps, uint64_t seed)
{
	struct mr_demo_opts o = { hcps, seed, 0, NOW_US };
	struct mr_demo_sink sink = { d, docs_begin, docs_row, docs_end };
	struct mr_err err;
	size_t j = 0;

	memset(d, 0, sizeof(*d));
	if (mr_demo_world(&o, &sink, NULL, &err) != 0)
		fail_msg("demo world: %s", err.msg);
	for (size_t i = 0; i < d->n; i++) {
		if (d->h[i].id)
			d->h[j++] = d->h[i];
	}
	d->n = j;
}

static void docs_free(struct docs *d)
{
	for (size_t i = 0; i < d->nstr; i++)
		free(d->strs[i]);
	free(d->strs);
	free(d->h);
	free(d->lt);
	memset(d, 0, sizeof(*d));
}

/* ---- a generated history, as compact records ---- */

enum { REP_NONE, REP_FIELD, REP_INSIDE, REP_MSL, REP_OTHER };

struct rec {
	int64_t ts, dur;
	int doc;             /* index into the doctors */
	int meeting;         /* index into the meetings, -1 none, -2 unknown id */
	int content;         /* index into the catalogue, -1 none, -2 unknown id */
	signed char ch, outcome, rep, campaign;
};

struct hist {
	const struct docs *d;
	struct rec *r;
	size_t n, cap;
	char **ids;
	struct mr_hist_meeting *m;
	char **hosts;
	size_t nm, capm;
	struct mr_hist_content cat[MR_HIST_CONTENT_MAX];
	size_t ncat;
	size_t cur;          /* the doctor events are arriving for */
	int64_t last_ts;
	int64_t invalid, outside, disorder, stray, bad_type, bad_source;
	char first_invalid[400];
	uint64_t hash;
	int keep;
	int64_t fail_at, calls_after_fail;
	int failed;
	struct mr_hist_stats st;
	struct mr_arena arena;
	int64_t from_us, to_us;
};

static struct docs g_docs;
static struct hist g_hist;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
	return s ? fnv(h, s, strlen(s) + 1) : fnv(h, "\xff", 1);
}

static const char *const want_type[MR_CH_COUNT] = {
	[MR_CH_PHONE] = "call",           [MR_CH_WECHAT] = "message",   [MR_CH_WECOM] = "message",
	[MR_CH_MEETING_ONLINE] = "invitation", [MR_CH_MEETING_OFFLINE] = "invitation",
	[MR_CH_VISIT] = "visit",          [MR_CH_EMAIL] = "email",      [MR_CH_CONTENT] = "view",
	[MR_CH_SMS] = "sms",
};

static int on_meeting(void *arg, const struct mr_hist_meeting *m, struct mr_err *err)
{
	struct hist *hs = arg;

	if (hs->fail_at < 0)
		return mr_err_set(err, MR_EIO, "no room for meetings");
	hs->hash = fnv_str(hs->hash, m->id);
	hs->hash = fnv_str(hs->hash, m->title);
	hs->hash = fnv(hs->hash, &m->start_us, sizeof(m->start_us));
	hs->hash = fnv_str(hs->hash, m->host);
	if (hs->nm == hs->capm) {
		hs->capm = hs->capm ? 2 * hs->capm : 256;
		hs->m = mr_realloc(hs->m, hs->capm * sizeof(*hs->m));
		hs->hosts = mr_realloc(hs->hosts, hs->capm * sizeof(char *));
	}
	hs->m[hs->nm] = *m;
	hs->hosts[hs->nm] = m->host ? mr_strdup(m->host) : NULL;
	hs->m[hs->nm].host = hs->hosts[hs->nm];
	hs->nm++;
	return 0;
}

/* Moves to the doctor the event is for: the same one, or a later one (never an earlier one). */
static int follow_doctor(struct hist *hs, const char *hcp)
{
	size_t k = hs->cur;

	while (k < hs->d->n && strcmp(hs->d->h[k].id, hcp) != 0)
		k++;
	if (k == hs->d->n)
		return -1;
	if (k != hs->cur)
		hs->last_ts = INT64_MIN;
	hs->cur = k;
	return (int)k;
}

static int rep_code(const struct mr_hist_hcp *h, const char *rep)
{
	if (!rep)
		return REP_NONE;
	if (h->field_rep && strcmp(rep, h->field_rep) == 0)
		return REP_FIELD;
	if (h->inside_rep && strcmp(rep, h->inside_rep) == 0)
		return REP_INSIDE;
	if (h->msl && strcmp(rep, h->msl) == 0)
		return REP_MSL;
	return REP_OTHER;
}

/* The index of a "C00012" or "M0007" id in a list numbered from 1, checked; -1 for none, -2 unknown. */
static int ref_index(const char *id, char prefix, size_t n, const char *(*name)(const struct hist *, size_t),
		     const struct hist *hs)
{
	int64_t k = id_number(id, prefix);

	if (!id)
		return -1;
	if (k < 1 || (size_t)k > n || strcmp(name(hs, (size_t)k - 1), id) != 0)
		return -2;
	return (int)k - 1;
}

static const char *cat_id(const struct hist *hs, size_t i)
{
	return hs->cat[i].id;
}

static const char *meeting_id(const struct hist *hs, size_t i)
{
	return hs->m[i].id;
}

static void hash_event(struct hist *hs, const struct mr_event *ev)
{
	hs->hash = fnv_str(hs->hash, ev->id);
	hs->hash = fnv(hs->hash, &ev->ts, sizeof(ev->ts));
	hs->hash = fnv_str(hs->hash, ev->hcp);
	hs->hash = fnv(hs->hash, &ev->channel, sizeof(ev->channel));
	hs->hash = fnv(hs->hash, &ev->outcome, sizeof(ev->outcome));
	hs->hash = fnv_str(hs->hash, ev->type);
	hs->hash = fnv_str(hs->hash, ev->rep);
	hs->hash = fnv_str(hs->hash, ev->content);
	hs->hash = fnv_str(hs->hash, ev->campaign);
	hs->hash = fnv_str(hs->hash, ev->meeting);
	hs->hash = fnv(hs->hash, &ev->duration_s, sizeof(ev->duration_s));
	hs->hash = fnv_str(hs->hash, ev->source);
}

/* What is checked on every event as it arrives: validity, window, order, type, source. */
static void check_event(struct hist *hs, const struct mr_event *ev)
{
	struct mr_event copy = *ev;
	struct mr_err err;

	mr_err_clear(&err);
	if (mr_event_check(&copy, hs->to_us, &hs->arena, &err) != 0 && hs->invalid++ == 0)
		snprintf(hs->first_invalid, sizeof(hs->first_invalid), "%s: %s (%s)", ev->id, err.msg, err.field);
	hs->outside += ev->ts < hs->from_us || ev->ts >= hs->to_us;
	hs->disorder += ev->ts < hs->last_ts;
	hs->last_ts = ev->ts;
	hs->bad_type += !ev->type || ev->channel <= 0 || ev->channel >= MR_CH_COUNT ||
			strcmp(ev->type, want_type[ev->channel]) != 0;
	hs->bad_source += !ev->source || strcmp(ev->source, "demo") != 0;
}

static void keep_event(struct hist *hs, const struct mr_event *ev, int doc)
{
	struct rec *r;

	if (hs->n == hs->cap) {
		hs->cap = hs->cap ? 2 * hs->cap : 65536;
		hs->r = mr_realloc(hs->r, hs->cap * sizeof(*hs->r));
		hs->ids = mr_realloc(hs->ids, hs->cap * sizeof(char *));
	}
	hs->ids[hs->n] = mr_strdup(ev->id);
	r = &hs->r[hs->n++];
	r->ts = ev->ts;
	r->dur = ev->duration_s;
	r->doc = doc;
	r->ch = (signed char)ev->channel;
	r->outcome = (signed char)ev->outcome;
	r->rep = (signed char)rep_code(&hs->d->h[doc], ev->rep);
	r->campaign = ev->campaign != NULL;
	r->content = ref_index(ev->content, 'C', hs->ncat, cat_id, hs);
	r->meeting = ref_index(ev->meeting, 'M', hs->nm, meeting_id, hs);
}

static int on_event(void *arg, const struct mr_event *ev, struct mr_err *err)
{
	struct hist *hs = arg;
	int doc;

	if (hs->failed) {
		hs->calls_after_fail++;
		return 0;
	}
	if (hs->fail_at > 0 && (int64_t)hs->st.events + 1 == hs->fail_at) {
		hs->failed = 1;
		return mr_err_set(err, MR_EIO, "disk full at event %lld", (long long)hs->fail_at);
	}
	hs->st.events++;
	hash_event(hs, ev);
	doc = ev->hcp ? follow_doctor(hs, ev->hcp) : -1;
	check_event(hs, ev);
	if (doc < 0) {
		hs->stray++;
		return 0;
	}
	if (hs->keep)
		keep_event(hs, ev, doc);
	return 0;
}

static void hist_free(struct hist *hs)
{
	for (size_t i = 0; i < hs->n; i++)
		free(hs->ids[i]);
	for (size_t i = 0; i < hs->nm; i++)
		free(hs->hosts[i]);
	free(hs->ids);
	free(hs->r);
	free(hs->m);
	free(hs->hosts);
	mr_arena_release(&hs->arena);
	memset(hs, 0, sizeof(*hs));
}

static void hist_init(struct hist *hs, const struct docs *d, uint64_t seed, int keep)
{
	memset(hs, 0, sizeof(*hs));
	hs->d = d;
	hs->keep = keep;
	hs->hash = 0xcbf29ce484222325ULL;
	hs->last_ts = INT64_MIN;
	hs->from_us = FROM_US;
	hs->to_us = NOW_US;
	hs->ncat = mr_hist_catalogue(seed, hs->cat, MR_HIST_CONTENT_MAX);
	mr_arena_init(&hs->arena);
}

/* Generates the history of d into hs; returns the generator's result (its stats in hs->st). */
static int hist_make(struct hist *hs, const struct docs *d, uint64_t seed, double touches, int keep,
		     struct mr_err *err)
{
	struct mr_hist_opts o = { seed, FROM_US, NOW_US, touches };
	struct mr_hist_sink sink = { hs, on_meeting, on_event };
	struct mr_hist_stats st;
	int rc;

	hist_init(hs, d, seed, keep);
	mr_err_clear(err);
	rc = mr_hist_generate(&o, d->h, d->n, &sink, &st, err);
	if (rc == 0)
		assert_int_equal(st.events, hs->st.events);
	hs->st = st;
	return rc;
}

/* ---- Beijing time of an event ---- */

static int64_t local_s(int64_t us)
{
	return us / MR_US_PER_S + 8 * 3600;
}

static int local_hour(int64_t us)
{
	return (int)(local_s(us) % 86400 / 3600);
}

static int local_minute(int64_t us)
{
	return (int)(local_s(us) % 86400 / 60);
}

/* 0 Monday .. 6 Sunday. */
static int local_weekday(int64_t us)
{
	return (int)((local_s(us) / 86400 + 3) % 7);
}

static int in_band(int64_t us, int band)
{
	const struct mr_hist_band *b = mr_hist_band(band);
	int h = local_hour(us);

	return h >= b->from_h && h < b->to_h;
}

/* ---- helpers over the records ---- */

/* The share of events on ch (and of doctors passing keep, when set) that reached rung or higher. */
struct rate {
	int64_t n, hit;
};

static double rate_of(struct rate r)
{
	return r.n ? (double)r.hit / (double)r.n : 0;
}

static struct rate reach(const struct hist *hs, int ch, int rung, int lowest)
{
	struct rate r = { 0, 0 };

	for (size_t i = 0; i < hs->n; i++) {
		if (hs->r[i].ch != ch || hs->r[i].outcome < lowest)
			continue;
		r.n++;
		r.hit += hs->r[i].outcome >= rung;
	}
	return r;
}

static struct mr_hist_prefs *all_prefs(const struct docs *d, uint64_t seed)
{
	struct mr_hist_prefs *p = mr_calloc(d->n ? d->n : 1, sizeof(*p));

	for (size_t i = 0; i < d->n; i++)
		mr_hist_prefs(seed, &d->h[i], &p[i]);
	return p;
}

static int is_kol(const struct mr_hist_hcp *h)
{
	return h->msl && (strcmp(h->title, "chief") == 0 || strcmp(h->title, "assoc_chief") == 0) &&
	       h->hco_level == 3;
}

static int group_setup(void **state)
{
	struct mr_err err;

	(void)state;
	docs_load(&g_docs, WORLD_HCPS, 7);
	if (hist_make(&g_hist, &g_docs, SEED, 0, 1, &err) != 0)
		fail_msg("history: %s", err.msg);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	hist_free(&g_hist);
	docs_free(&g_docs);
	return 0;
}

/* ---- the tests ---- */

static void test_kpis_land_on_industry_rates(void **state)
{
	const struct hist *hs = &g_hist;

	(void)state;
	/* the contract's KPIs, each as its ratio of rungs */
	assert_near(rate_of(reach(hs, MR_CH_PHONE, 1, 0)), 0.60, 0.02);  /* answer rate */
	assert_near(rate_of(reach(hs, MR_CH_PHONE, 2, 1)), 0.80, 0.02);  /* successful / answered */
	assert_near(rate_of(reach(hs, MR_CH_PHONE, 3, 2)), 0.85, 0.02);  /* effective / successful */
	assert_near(rate_of(reach(hs, MR_CH_WECHAT, 3, 0)), 0.27, 0.02); /* response rate */
	assert_near(rate_of(reach(hs, MR_CH_MEETING_ONLINE, 2, 0)), 0.30, 0.02); /* participation */
	/* the other channels, as docs/demo-history.md states them */
	assert_near(rate_of(reach(hs, MR_CH_WECOM, 3, 0)), 0.30, 0.02);
	assert_near(rate_of(reach(hs, MR_CH_WECHAT, 2, 0)), 0.62, 0.02);
	assert_near(rate_of(reach(hs, MR_CH_EMAIL, 2, 0)), 0.20, 0.02);
	assert_near(rate_of(reach(hs, MR_CH_EMAIL, 3, 0)), 0.03, 0.01);
	assert_near(rate_of(reach(hs, MR_CH_SMS, 3, 0)), 0.02, 0.01);
	assert_near(rate_of(reach(hs, MR_CH_MEETING_OFFLINE, 2, 0)), 0.55, 0.02);
	assert_near(rate_of(reach(hs, MR_CH_VISIT, 1, 0)), 0.90, 0.02);
	assert_near(rate_of(reach(hs, MR_CH_CONTENT, 1, 0)), 0.35, 0.02);
	/* enough of each for the rates to mean something */
	assert_true(reach(hs, MR_CH_PHONE, 1, 0).n > 5000);
	assert_true(reach(hs, MR_CH_WECHAT, 3, 0).n > 2000);
	assert_true(reach(hs, MR_CH_MEETING_ONLINE, 2, 0).n > 5000);
}

static void test_stats_match_events(void **state)
{
	const struct hist *hs = &g_hist;
	int64_t by[MR_CH_COUNT][MR_EVENT_RUNGS_MAX] = { { 0 } };

	(void)state;
	assert_int_equal(hs->st.events, (int64_t)hs->n);
	assert_int_equal(hs->st.meetings, (int64_t)hs->nm);
	for (size_t i = 0; i < hs->n; i++)
		by[hs->r[i].ch][hs->r[i].outcome]++;
	assert_memory_equal(by, hs->st.by_channel, sizeof(by));
}

static void test_same_seed_same_events_other_seed_differs(void **state)
{
	struct hist a, b;
	struct mr_err err;

	(void)state;
	assert_int_equal(hist_make(&a, &g_docs, SEED, 0, 0, &err), 0);
	assert_int_equal(a.hash, g_hist.hash);
	assert_int_equal(a.st.events, g_hist.st.events);
	assert_int_equal(hist_make(&b, &g_docs, SEED + 1, 0, 0, &err), 0);
	assert_true(b.hash != a.hash);
	assert_true(b.st.events > 0);
	hist_free(&a);
	hist_free(&b);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_events_valid_unique_and_in_window(void **state)
{
	const struct hist *hs = &g_hist;
	char **ids = mr_malloc(hs->n * sizeof(char *));

	(void)state;
	if (hs->invalid)
		fail_msg("%lld events fail mr_event_check; the first: %s", (long long)hs->invalid, hs->first_invalid);
	assert_int_equal(hs->outside, 0);
	assert_int_equal(hs->bad_type, 0);
	assert_int_equal(hs->bad_source, 0);
	assert_int_equal(hs->stray, 0);
	memcpy(ids, hs->ids, hs->n * sizeof(char *));
	qsort(ids, hs->n, sizeof(char *), cmp_str);
	for (size_t i = 1; i < hs->n; i++) {
		if (strcmp(ids[i - 1], ids[i]) == 0)
			fail_msg("event id %s repeats", ids[i]);
	}
	free(ids);
	/* "h" + the seed in base 36 + "-" + a ten-digit counter, counting from 1 in emission order */
	assert_string_equal(hs->ids[0], "hb-0000000001");
	assert_string_equal(hs->ids[1], "hb-0000000002");
	assert_int_equal(strlen(hs->ids[hs->n - 1]), 13);
}

static void test_events_doctor_by_doctor_in_time_order(void **state)
{
	const struct hist *hs = &g_hist;
	size_t with = 0;

	(void)state;
	assert_int_equal(hs->disorder, 0);
	for (size_t i = 1; i < hs->n; i++) {
		assert_true(hs->r[i].doc >= hs->r[i - 1].doc);
		with += hs->r[i].doc != hs->r[i - 1].doc;
	}
	assert_true(with + 1 > g_docs.n * 95 / 100); /* nearly every doctor has a history */
}

static void test_channels_only_where_the_doctor_has_the_identity(void **state)
{
	const struct hist *hs = &g_hist;
	int64_t n[MR_CH_COUNT] = { 0 };

	(void)state;
	for (size_t i = 0; i < hs->n; i++) {
		const struct mr_hist_hcp *h = &g_docs.h[hs->r[i].doc];
		int ch = hs->r[i].ch;

		n[ch]++;
		if (ch == MR_CH_WECHAT && !h->has_wechat)
			fail_msg("a WeChat event for %s, who has no WeChat identity", h->id);
		if (ch == MR_CH_WECOM && !h->has_wecom)
			fail_msg("a WeCom event for %s, who has no WeCom identity", h->id);
		if (ch == MR_CH_EMAIL && !h->has_email)
			fail_msg("an e-mail event for %s, who has no e-mail", h->id);
		if (ch == MR_CH_CONTENT && !h->has_wechat && !h->has_email)
			fail_msg("a content view for %s, whom no article can reach", h->id);
	}
	for (int ch = 1; ch < MR_CH_COUNT; ch++)
		assert_true(n[ch] > 500); /* and every channel is in use */
}

static void test_reps_are_aligned_and_of_the_right_type(void **state)
{
	const struct hist *hs = &g_hist;
	int64_t msl_visits = 0, mkt_meetings = 0, rep_meetings = 0;

	(void)state;
	for (size_t i = 0; i < hs->n; i++) {
		const struct rec *r = &hs->r[i];
		const struct mr_hist_hcp *h = &g_docs.h[r->doc];

		assert_true(r->rep != REP_OTHER);
		assert_true(r->rep == REP_NONE ? r->campaign : !r->campaign); /* a rep, or a campaign */
		switch (r->ch) {
		case MR_CH_PHONE:
		case MR_CH_WECHAT:
		case MR_CH_WECOM:
			assert_int_equal(r->rep, REP_INSIDE);
			break;
		case MR_CH_MEETING_ONLINE:
			assert_true(r->rep == REP_INSIDE || r->rep == REP_NONE);
			rep_meetings += r->rep == REP_INSIDE;
			mkt_meetings += r->rep == REP_NONE;
			break;
		case MR_CH_MEETING_OFFLINE:
			assert_int_equal(r->rep, REP_FIELD);
			break;
		case MR_CH_VISIT:
			assert_true(r->rep == REP_FIELD || r->rep == REP_MSL);
			if (r->rep == REP_MSL && !is_kol(h))
				fail_msg("an MSL visit to %s, who is no KOL (%s, level %d)", h->id, h->title, h->hco_level);
			msl_visits += r->rep == REP_MSL;
			break;
		default: /* e-mail, SMS, content: marketing */
			assert_int_equal(r->rep, REP_NONE);
		}
	}
	assert_true(msl_visits > 20);
	assert_true(mkt_meetings > 100 && rep_meetings > 100);
}

static void test_meetings_are_real_and_shared(void **state)
{
	const struct hist *hs = &g_hist;
	int64_t *invited = mr_calloc(hs->nm, sizeof(int64_t)), used = 0, invites = 0, evening = 0;

	(void)state;
	assert_true(hs->nm > 100);
	for (size_t k = 0; k < hs->nm; k++) {
		const struct mr_hist_meeting *m = &hs->m[k];
		char id[32];

		snprintf(id, sizeof(id), "M%04zu", k + 1);
		assert_string_equal(m->id, id);
		assert_true(k == 0 || m->start_us >= hs->m[k - 1].start_us); /* numbered by start */
		assert_true(m->start_us >= FROM_US && m->end_us <= NOW_US && m->end_us > m->start_us);
		assert_true(m->title[0] && m->topic && m->product);
		assert_true(m->channel == MR_CH_MEETING_ONLINE ? !m->host : m->host != NULL);
		evening += local_hour(m->start_us) >= 18;
	}
	assert_true(evening * 10 >= (int64_t)hs->nm * 7); /* meetings are mostly in the evening */
	for (size_t i = 0; i < hs->n; i++) {
		const struct rec *r = &hs->r[i];
		int meeting_ch = r->ch == MR_CH_MEETING_ONLINE || r->ch == MR_CH_MEETING_OFFLINE;

		assert_true(meeting_ch ? r->meeting >= 0 : r->meeting == -1);
		if (!meeting_ch)
			continue;
		assert_int_equal(hs->m[r->meeting].channel, r->ch);
		assert_int_equal(r->ts, hs->m[r->meeting].start_us); /* dated at the meeting */
		if (r->ch == MR_CH_MEETING_OFFLINE)
			assert_string_equal(hs->m[r->meeting].host, g_docs.h[r->doc].field_rep);
		invites++;
		used += invited[r->meeting]++ == 0;
	}
	assert_true(invites >= used * 5); /* several doctors per meeting */
	free(invited);
}

/* Whether product is promoted to doctors of specialty spec (demo/data.c's table). */
static int promoted(const char *product, const char *spec)
{
	for (int p = 0; p < mr_demo_nproducts; p++) {
		if (strcmp(mr_demo_products[p].id, product) != 0)
			continue;
		for (int s = 0; s < MR_DEMO_NSPEC; s++) {
			if (strcmp(mr_demo_specialties[s].id, spec) == 0)
				return (mr_demo_products[p].specs & MR_DEMO_BIT(s)) != 0;
		}
	}
	return 0;
}

static void test_content_comes_from_the_catalogue(void **state)
{
	const struct hist *hs = &g_hist;
	int64_t msgs = 0, msgs_with = 0;

	(void)state;
	for (size_t i = 0; i < hs->n; i++) {
		const struct rec *r = &hs->r[i];
		const char *prod;
		const char *spec = g_docs.h[r->doc].specialty;

		assert_true(r->content != -2); /* never an id outside the catalogue */
		if (r->ch == MR_CH_EMAIL || r->ch == MR_CH_CONTENT)
			assert_true(r->content >= 0);
		else if (r->ch == MR_CH_WECHAT || r->ch == MR_CH_WECOM) {
			msgs++;
			msgs_with += r->content >= 0;
		} else
			assert_int_equal(r->content, -1);
		if (r->content < 0)
			continue;
		prod = hs->cat[r->content].product;
		if (*prod && !promoted(prod, spec))
			fail_msg("content on %s for %s, a doctor of %s", prod, g_docs.h[r->doc].id, spec);
	}
	assert_near((double)msgs_with / (double)msgs, 0.70, 0.03);
}

static void test_durations_follow_outcomes(void **state)
{
	const struct hist *hs = &g_hist;
	double sum[4] = { 0 };
	int64_t n[4] = { 0 };

	(void)state;
	for (size_t i = 0; i < hs->n; i++) {
		const struct rec *r = &hs->r[i];

		if (r->ch == MR_CH_PHONE) {
			assert_true(r->outcome == 0 ? r->dur == -1 : r->dur > 0);
			sum[r->outcome] += (double)r->dur;
			n[r->outcome]++;
		} else if (r->ch == MR_CH_MEETING_ONLINE || r->ch == MR_CH_MEETING_OFFLINE) {
			const struct mr_hist_meeting *m = &hs->m[r->meeting];

			if (r->outcome == 2)
				assert_true(r->dur > 0 && r->dur * MR_US_PER_S <= m->end_us - m->start_us);
			else
				assert_int_equal(r->dur, -1);
		} else if (r->ch == MR_CH_VISIT) {
			assert_true(r->outcome == 1 ? r->dur > 0 : r->dur == -1);
		} else if (r->ch != MR_CH_CONTENT) {
			assert_int_equal(r->dur, -1);
		}
	}
	/* successful calls last longer than merely answered ones, effective ones longest */
	assert_true(sum[1] / (double)n[1] < sum[2] / (double)n[2]);
	assert_true(sum[2] / (double)n[2] < sum[3] / (double)n[3]);
}

/* Phone calls per workday in [from, from+days) Beijing days, over those days. */
static double calls_per_day(const struct hist *hs, int64_t from_us, int days)
{
	int64_t n = 0;

	for (size_t i = 0; i < hs->n; i++)
		n += hs->r[i].ch == MR_CH_PHONE && hs->r[i].ts >= from_us && hs->r[i].ts < from_us + days * DAY_US;
	return (double)n / days;
}

static void test_timing_looks_like_china(void **state)
{
	const struct hist *hs = &g_hist;
	int64_t rep_msgs = 0, weekend_calls = 0, calls = 0, visits = 0, sat_visits = 0;
	int64_t spring = (INT64_C(1738022400) - 8 * 3600) * MR_US_PER_S; /* 2025-01-28 00:00 +08:00 */
	int64_t march = (INT64_C(1740960000) - 8 * 3600) * MR_US_PER_S;  /* 2025-03-03 00:00 +08:00, a Monday */

	(void)state;
	for (size_t i = 0; i < hs->n; i++) {
		const struct rec *r = &hs->r[i];
		int wd = local_weekday(r->ts), h = local_hour(r->ts);

		if (r->ch == MR_CH_PHONE || r->ch == MR_CH_WECHAT || r->ch == MR_CH_WECOM || r->ch == MR_CH_VISIT) {
			assert_in_range(h, 7, 21); /* working hours, Beijing time */
			rep_msgs++;
		}
		if (r->ch == MR_CH_PHONE) {
			calls++;
			weekend_calls += wd >= 5;
		}
		if (r->ch == MR_CH_VISIT) {
			assert_true(wd != 6); /* no visits on Sunday */
			visits++;
			sat_visits += wd == 5;
		}
		if (r->ch == MR_CH_MEETING_ONLINE)
			assert_true(local_minute(r->ts) >= 19 * 60 || (h == 12 && wd < 5));
		if (r->ch == MR_CH_MEETING_OFFLINE)
			assert_true(wd == 5 || local_minute(r->ts) >= 18 * 60);
	}
	assert_true(weekend_calls * 100 < calls * 5);   /* under 5 % of calls at weekends */
	assert_true(sat_visits * 100 < visits * 2);
	/* the Spring Festival holiday is quiet: calls per day under a fifth of four ordinary weeks' */
	assert_true(calls_per_day(hs, march, 28) > 15);
	assert_true(calls_per_day(hs, spring, 8) * 5 < calls_per_day(hs, march, 28));
}

static void test_volume_follows_coverage(void **state)
{
	const struct hist *hs = &g_hist;
	int64_t n_kol = 0, n_other = 0, ev_kol = 0, ev_other = 0;
	int64_t in_all = 0, in_remote = 0, in_visit = 0, f_all = 0, f_remote = 0, f_visit = 0;

	(void)state;
	assert_near((double)hs->n / (double)g_docs.n, 28.0, 28.0 * 0.05); /* the default volume */
	for (size_t k = 0; k < g_docs.n; k++) {
		n_kol += is_kol(&g_docs.h[k]);
		n_other += !is_kol(&g_docs.h[k]);
	}
	for (size_t i = 0; i < hs->n; i++) {
		const struct mr_hist_hcp *h = &g_docs.h[hs->r[i].doc];
		int ch = hs->r[i].ch, remote = ch == MR_CH_PHONE || ch == MR_CH_WECHAT || ch == MR_CH_WECOM;

		ev_kol += is_kol(h);
		ev_other += !is_kol(h);
		if (h->inside_rep && !h->field_rep) {
			in_all++;
			in_remote += remote;
			in_visit += ch == MR_CH_VISIT;
		} else if (h->field_rep && !h->inside_rep) {
			f_all++;
			f_remote += remote;
			f_visit += ch == MR_CH_VISIT;
		}
	}
	assert_true(n_kol > 20);
	assert_above((double)ev_kol / (double)n_kol, 1.4 * (double)ev_other / (double)n_other, 0);
	assert_above((double)in_remote / (double)in_all, 0.40, 0); /* inside-owned: phone and WeChat */
	assert_above((double)f_visit / (double)f_all, 0.40, 0);    /* field-owned: visits */
	assert_above((double)in_remote / (double)in_all, (double)f_remote / (double)f_all, 0.30);
	assert_above((double)f_visit / (double)f_all, (double)in_visit / (double)in_all, 0.30);
}

/* The rate of reaching `rung` on ch, for events where pick(prefs, rec) is 1 ([1]) or 0 ([0]). */
static void split_rate(const struct hist *hs, const struct mr_hist_prefs *p, int ch, int rung,
		       int (*pick)(const struct hist *, const struct mr_hist_prefs *, const struct rec *),
		       double out[2])
{
	struct rate r[2] = { { 0, 0 }, { 0, 0 } };

	for (size_t i = 0; i < hs->n; i++) {
		const struct rec *e = &hs->r[i];
		int k;

		if (e->ch != ch)
			continue;
		k = pick(hs, &p[e->doc], e) ? 1 : 0;
		r[k].n++;
		r[k].hit += e->outcome >= rung;
	}
	assert_true(r[0].n > 200 && r[1].n > 200);
	out[0] = rate_of(r[0]);
	out[1] = rate_of(r[1]);
}

static int on_best_channel(const struct hist *hs, const struct mr_hist_prefs *p, const struct rec *e)
{
	(void)hs;
	return p->best_channel == e->ch;
}

static int on_best_band(const struct hist *hs, const struct mr_hist_prefs *p, const struct rec *e)
{
	(void)hs;
	return in_band(e->ts, p->best_band);
}

static int on_best_weekday(const struct hist *hs, const struct mr_hist_prefs *p, const struct rec *e)
{
	(void)hs;
	return local_weekday(e->ts) == p->best_weekday;
}

static int on_favourite_topic(const struct hist *hs, const struct mr_hist_prefs *p, const struct rec *e)
{
	const char *t = e->content >= 0 ? hs->cat[e->content].topic : "";

	return strcmp(t, mr_hist_topic(p->topics[0])) == 0 || strcmp(t, mr_hist_topic(p->topics[1])) == 0;
}

static void test_best_channel_raises_response(void **state)
{
	struct mr_hist_prefs *p = all_prefs(&g_docs, SEED);
	double r[2];

	(void)state;
	split_rate(&g_hist, p, MR_CH_PHONE, 1, on_best_channel, r);
	assert_above(r[1], r[0], 0.10); /* answered */
	split_rate(&g_hist, p, MR_CH_WECHAT, 3, on_best_channel, r);
	assert_above(r[1], r[0], 0.10); /* responded */
	split_rate(&g_hist, p, MR_CH_MEETING_ONLINE, 2, on_best_channel, r);
	assert_above(r[1], r[0], 0.10); /* attended */
	split_rate(&g_hist, p, MR_CH_VISIT, 1, on_best_channel, r);
	assert_above(r[1], r[0], 0.04); /* completed, from a high base */
	free(p);
}

static void test_best_band_weekday_and_topics_raise_response(void **state)
{
	struct mr_hist_prefs *p = all_prefs(&g_docs, SEED);
	double r[2];

	(void)state;
	split_rate(&g_hist, p, MR_CH_PHONE, 1, on_best_band, r);
	assert_above(r[1], r[0], 0.08);
	split_rate(&g_hist, p, MR_CH_WECHAT, 3, on_best_band, r);
	assert_above(r[1], r[0], 0.08);
	split_rate(&g_hist, p, MR_CH_PHONE, 1, on_best_weekday, r);
	assert_above(r[1], r[0], 0.04);
	split_rate(&g_hist, p, MR_CH_WECOM, 3, on_favourite_topic, r);
	assert_above(r[1], r[0], 0.06);
	split_rate(&g_hist, p, MR_CH_CONTENT, 1, on_favourite_topic, r);
	assert_above(r[1], r[0], 0.06);
	free(p);
}

static int by_title(const struct hist *hs, const char *title, int ch, int rung, struct rate *r)
{
	r->n = r->hit = 0;
	for (size_t i = 0; i < hs->n; i++) {
		const struct rec *e = &hs->r[i];

		if (e->ch != ch || strcmp(g_docs.h[e->doc].title, title) != 0)
			continue;
		r->n++;
		r->hit += e->outcome >= rung;
	}
	return r->n > 200;
}

static void test_responsiveness_varies_by_title_and_doctor(void **state)
{
	const struct hist *hs = &g_hist;
	struct rate res, chief;
	int64_t *n = mr_calloc(g_docs.n, sizeof(int64_t)), *hit = mr_calloc(g_docs.n, sizeof(int64_t));
	double spread = 0, noise = 0;
	int64_t docs = 0;

	(void)state;
	/* juniors pick up the phone; seniors make time for visits */
	assert_true(by_title(hs, "resident", MR_CH_PHONE, 1, &res));
	assert_true(by_title(hs, "chief", MR_CH_PHONE, 1, &chief));
	assert_above(rate_of(res), rate_of(chief), 0.05);
	assert_true(by_title(hs, "resident", MR_CH_VISIT, 1, &res));
	assert_true(by_title(hs, "chief", MR_CH_VISIT, 1, &chief));
	assert_above(rate_of(chief), rate_of(res), 0.01);
	/* doctors differ by far more than chance: per-doctor answer rates spread wider than binomial noise */
	for (size_t i = 0; i < hs->n; i++) {
		n[hs->r[i].doc] += hs->r[i].ch == MR_CH_PHONE;
		hit[hs->r[i].doc] += hs->r[i].ch == MR_CH_PHONE && hs->r[i].outcome >= 1;
	}
	for (size_t k = 0; k < g_docs.n; k++) {
		double q;

		if (n[k] < 15)
			continue;
		q = (double)hit[k] / (double)n[k];
		spread += (q - 0.6) * (q - 0.6);
		noise += 0.6 * 0.4 / (double)n[k];
		docs++;
	}
	assert_true(docs > 100);
	assert_above(spread / noise, 1.5, 0);
	free(n);
	free(hit);
}

static void test_prefs_are_a_pure_function(void **state)
{
	struct mr_hist_prefs a, b;
	int differ = 0;

	(void)state;
	for (size_t i = 0; i < g_docs.n; i++) {
		const struct mr_hist_hcp *h = &g_docs.h[i];
		struct mr_hist_hcp copy = *h;
		char id[64];

		snprintf(id, sizeof(id), "%s", h->id); /* another copy of the same doctor */
		copy.id = id;
		mr_hist_prefs(SEED, h, &a);
		mr_hist_prefs(SEED, &copy, &b);
		assert_memory_equal(&a, &b, sizeof(a));
		assert_in_range(a.best_weekday, 0, 6);
		assert_in_range(a.best_band, 0, MR_HIST_BANDS - 1);
		assert_true(a.topics[0] != a.topics[1]);
		assert_true(a.lift[a.best_channel] > a.responsiveness);
		/* the best channel is one the doctor is reached on */
		assert_true(a.best_channel != MR_CH_WECHAT || h->has_wechat);
		assert_true(a.best_channel != MR_CH_WECOM || h->has_wecom);
		assert_true(a.best_channel != MR_CH_EMAIL || h->has_email);
		assert_true(a.best_channel != MR_CH_PHONE || h->inside_rep);
		assert_true(a.best_channel != MR_CH_VISIT || h->field_rep || is_kol(h));
		mr_hist_prefs(SEED + 1, h, &b);
		differ += memcmp(&a, &b, sizeof(a)) != 0;
	}
	assert_int_equal(differ, (int)g_docs.n); /* another seed, other doctors' tastes */
}

static void test_catalogue(void **state)
{
	static struct mr_hist_content a[MR_HIST_CONTENT_MAX], b[MR_HIST_CONTENT_MAX], few[3];
	size_t n = mr_hist_catalogue(SEED, a, MR_HIST_CONTENT_MAX), same = 0;
	int topics[MR_HIST_TOPICS] = { 0 };

	(void)state;
	assert_true(n >= 40 && n <= MR_HIST_CONTENT_MAX);
	assert_int_equal(mr_hist_catalogue(SEED, NULL, 0), n);
	assert_int_equal(mr_hist_catalogue(SEED, few, 3), n); /* counts all, fills three */
	assert_memory_equal(few, a, sizeof(few));
	for (size_t i = 0; i < n; i++) {
		char id[32];
		int t = -1;

		snprintf(id, sizeof(id), "C%05zu", i + 1);
		assert_string_equal(a[i].id, id);
		assert_true(strlen(a[i].title) > 10 && mr_utf8_check(a[i].title, strlen(a[i].title)) == 0);
		for (int k = 0; k < MR_HIST_TOPICS; k++)
			t = strcmp(a[i].topic, mr_hist_topic(k)) == 0 ? k : t;
		assert_true(t >= 0);
		topics[t]++;
		assert_true(!*a[i].product || strstr(a[i].title, a[i].product) == a[i].title);
		if (!*a[i].product) /* general education has no product pages */
			assert_true(strcmp(a[i].topic, "product_info") != 0 && strcmp(a[i].topic, "dosing") != 0);
	}
	for (int k = 0; k < MR_HIST_TOPICS; k++)
		assert_true(topics[k] >= 4);
	assert_int_equal(mr_hist_catalogue(SEED, b, MR_HIST_CONTENT_MAX), n);
	assert_memory_equal(a, b, n * sizeof(a[0]));
	n = mr_hist_catalogue(SEED + 1, b, MR_HIST_CONTENT_MAX);
	for (size_t i = 0; i < n && i < MR_HIST_CONTENT_MAX; i++)
		same += strcmp(a[i].title, b[i].title) == 0;
	assert_true(same < n); /* another seed, another catalogue */
	assert_null(mr_hist_topic(MR_HIST_TOPICS));
	assert_null(mr_hist_band(-1));
	assert_string_equal(mr_hist_band(2)->name, "noon");
}

static int never_called(void *arg, const struct mr_event *ev, struct mr_err *err)
{
	(void)arg;
	(void)ev;
	(void)err;
	fail_msg("the sink was called for refused input");
	return 0;
}

/* Refuses o for the doctors d with MR_EINVAL naming field. */
static void assert_refused(const struct mr_hist_opts *o, const struct mr_hist_hcp *d, size_t n,
			   const char *field)
{
	struct mr_hist_sink sink = { NULL, NULL, never_called };
	struct mr_err err;

	mr_err_clear(&err);
	assert_int_equal(mr_hist_generate(o, d, n, &sink, NULL, &err), MR_EINVAL);
	assert_string_equal(err.field, field);
	assert_true(err.msg[0] != '\0');
}

static void test_bad_input_refused(void **state)
{
	struct mr_hist_hcp d[2] = { { .id = "D1", .title = "chief" }, { .id = "D2" } };
	struct mr_hist_opts o = { 1, FROM_US, NOW_US, 28 };
	struct mr_hist_sink no_event = { NULL, NULL, NULL };
	struct mr_err err;

	(void)state;
	o.to_us = o.from_us;
	assert_refused(&o, d, 2, "to_us");
	o.to_us = o.from_us + 3661 * DAY_US; /* over ten years */
	assert_refused(&o, d, 2, "to_us");
	o = (struct mr_hist_opts){ 1, 0, NOW_US, 28 };
	assert_refused(&o, d, 2, "from_us");
	o = (struct mr_hist_opts){ 1, FROM_US, NOW_US, -1 };
	assert_refused(&o, d, 2, "touches_per_year");
	o.touches_per_year = NAN;
	assert_refused(&o, d, 2, "touches_per_year");
	o.touches_per_year = 1001;
	assert_refused(&o, d, 2, "touches_per_year");
	o.touches_per_year = 28;
	d[1].id = NULL;
	assert_refused(&o, d, 2, "id");
	d[1].id = "";
	assert_refused(&o, d, 2, "id");
	d[1].id = "D2";
	d[1].city_tier = 6;
	assert_refused(&o, d, 2, "city_tier");
	d[1].city_tier = 0;
	d[1].hco_level = 4;
	assert_refused(&o, d, 2, "hco_level");
	d[1].hco_level = 0;
	assert_int_equal(mr_hist_generate(&o, d, 2, &no_event, NULL, &err), MR_EINVAL);
	assert_int_equal(mr_hist_generate(&o, NULL, 2, &no_event, NULL, &err), MR_EINVAL);
}

static void test_sink_error_stops_generation(void **state)
{
	struct hist hs;
	struct mr_hist_opts o = { SEED, FROM_US, NOW_US, 0 };
	struct mr_hist_sink sink = { &hs, on_meeting, on_event };
	struct mr_hist_stats st;
	struct mr_err err;

	(void)state;
	hist_init(&hs, &g_docs, SEED, 0);
	hs.fail_at = 100;
	mr_err_clear(&err);
	assert_int_equal(mr_hist_generate(&o, g_docs.h, 500, &sink, &st, &err), MR_EIO);
	assert_string_equal(err.msg, "disk full at event 100");
	assert_int_equal(hs.calls_after_fail, 0);
	assert_int_equal(st.events, 99);
	hist_free(&hs);
	/* a failing meeting callback stops it before any event */
	hist_init(&hs, &g_docs, SEED, 0);
	hs.fail_at = -1;
	assert_int_equal(mr_hist_generate(&o, g_docs.h, 500, &sink, &st, &err), MR_EIO);
	assert_string_equal(err.msg, "no room for meetings");
	assert_int_equal(hs.st.events, 0);
	hist_free(&hs);
}

static void test_small_inputs_work(void **state)
{
	struct mr_hist_hcp one[1] = { { .id = "D0000001" } }; /* no reps, no identities, nothing known */
	struct mr_hist_opts o = { 5, FROM_US, NOW_US, 0 };
	struct docs d = { .h = one, .n = 1 };
	struct hist hs;
	struct mr_hist_sink sink = { &hs, NULL, on_event };
	struct mr_hist_stats st;
	struct mr_err err;

	(void)state;
	hist_init(&hs, &d, 5, 1);
	assert_int_equal(mr_hist_generate(&o, one, 0, &sink, &st, &err), 0); /* no doctors, no events */
	assert_int_equal(st.events, 0);
	assert_int_equal(mr_hist_generate(&o, one, 1, &sink, &st, &err), 0);
	assert_true(st.events > 0);              /* marketing still reaches them: SMS */
	assert_int_equal(st.by_channel[MR_CH_SMS][0] + st.by_channel[MR_CH_SMS][1] + st.by_channel[MR_CH_SMS][2] +
				 st.by_channel[MR_CH_SMS][3] + st.by_channel[MR_CH_MEETING_ONLINE][0] +
				 st.by_channel[MR_CH_MEETING_ONLINE][1] + st.by_channel[MR_CH_MEETING_ONLINE][2],
			 st.events);
	assert_int_equal(hs.invalid + hs.outside + hs.stray, 0);
	hist_free(&hs);
	/* a window of one afternoon: whatever happens, happens inside it */
	hist_init(&hs, &g_docs, 5, 0);
	hs.from_us = o.from_us = NOW_US - 30 * DAY_US + 6 * 3600 * MR_US_PER_S; /* 14:00 Beijing */
	hs.to_us = o.to_us = o.from_us + 3 * 3600 * MR_US_PER_S;
	o.touches_per_year = 1000;
	assert_int_equal(mr_hist_generate(&o, g_docs.h, 200, &sink, &st, &err), 0);
	assert_true(st.events > 0);
	assert_int_equal(hs.invalid + hs.outside + hs.stray + hs.disorder, 0);
	hist_free(&hs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kpis_land_on_industry_rates),
		cmocka_unit_test(test_stats_match_events),
		cmocka_unit_test(test_same_seed_same_events_other_seed_differs),
		cmocka_unit_test(test_events_valid_unique_and_in_window),
		cmocka_unit_test(test_events_doctor_by_doctor_in_time_order),
		cmocka_unit_test(test_channels_only_where_the_doctor_has_the_identity),
		cmocka_unit_test(test_reps_are_aligned_and_of_the_right_type),
		cmocka_unit_test(test_meetings_are_real_and_shared),
		cmocka_unit_test(test_content_comes_from_the_catalogue),
		cmocka_unit_test(test_durations_follow_outcomes),
		cmocka_unit_test(test_timing_looks_like_china),
		cmocka_unit_test(test_volume_follows_coverage),
		cmocka_unit_test(test_best_channel_raises_response),
		cmocka_unit_test(test_best_band_weekday_and_topics_raise_response),
		cmocka_unit_test(test_responsiveness_varies_by_title_and_doctor),
		cmocka_unit_test(test_prefs_are_a_pure_function),
		cmocka_unit_test(test_catalogue),
		cmocka_unit_test(test_bad_input_refused),
		cmocka_unit_test(test_sink_error_stops_generation),
		cmocka_unit_test(test_small_inputs_work),
	};
	return cmocka_run_group_tests_name("history", tests, group_setup, group_teardown);
}
