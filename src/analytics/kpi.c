/*
 * See kpi.h. The plan of a query turns each dimension into an axis of
 * small codes (an attribute's values in scope, the reps, their types, the
 * months or weeks of the window), so that a group is one integer: the
 * first axis's code times the second axis's size plus the second's. The
 * counters are flat arrays by group code, one set per thread, summed at
 * the end; each counts the events of one (group, channel, rung).
 *
 * The pass goes by surviving doctor: the doctor's own record, then the
 * records merged into it, so that "distinct doctors reached in a group"
 * is a stamp per group (the last doctor counted there) rather than a set.
 * The events come from the KPI columns (analytics/kpistore.h). When every
 * event of a record falls in one group (no rep or time dimension) the
 * loop is an increment and an OR per event; otherwise a table look-up
 * gives the rep's code, and another (by local day) the time bucket.
 *
 * Targets are the alignments in force at the window's end, within the
 * caller's scope; a doctor's group is its attributes, or for the rep
 * dimensions the aligned rep. Time buckets share one target list (the
 * targets at the end of the window).
 */
#include "analytics/kpi.h"

#include "analytics/kpistore.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/time.h"
#include "engine/dict.h"
#include "engine/evindex.h"
#include "engine/hcpdir.h"
#include "engine/profile.h"

enum {
	MR_KPI_SLOTS = MR_CH_COUNT * MR_KPI_RUNGS,
	MR_KPI_THREADS = 2,
	MR_KPI_MERGE_DEPTH = 32,
	MR_KPI_SPLIT_MIN = 200000,    /* fewer events than this: one thread */
	MR_KPI_AHEAD = 16,            /* records whose times are fetched ahead of the one counted */
};
#define MR_KPI_DAY_S INT64_C(86400)

/* ------------------------------------------------------------ tables */

/* What kind of thing a dimension groups by. */
enum { MR_KK_ATTR, MR_KK_REP_TYPE, MR_KK_REP, MR_KK_MONTH, MR_KK_WEEK };

static const struct {
	const char *name;
	int kind;
	int attr; /* MR_KK_ATTR: enum mr_pattr */
} mr_kpi_dims[MR_KD_COUNT] = {
	[MR_KD_CITY_TIER] = { "hco.city_tier", MR_KK_ATTR, MR_PA_HCO_CITY_TIER },
	[MR_KD_HCO_LEVEL] = { "hco.level", MR_KK_ATTR, MR_PA_HCO_LEVEL },
	[MR_KD_REGION] = { "region", MR_KK_ATTR, MR_PA_REGION },
	[MR_KD_PROVINCE] = { "hco.province", MR_KK_ATTR, MR_PA_HCO_PROVINCE },
	[MR_KD_SPECIALTY] = { "specialty", MR_KK_ATTR, MR_PA_SPECIALTY },
	[MR_KD_TITLE] = { "title", MR_KK_ATTR, MR_PA_TITLE },
	[MR_KD_REP_TYPE] = { "rep.type", MR_KK_REP_TYPE, 0 },
	[MR_KD_REP] = { "rep", MR_KK_REP, 0 },
	[MR_KD_MONTH] = { "month", MR_KK_MONTH, 0 },
	[MR_KD_WEEK] = { "week", MR_KK_WEEK, 0 },
};

/* A rate: the events at or above rung num among those at or above rung den. */
struct mr_kpi_rate {
	const char *name;
	int num, den;
};

/*
 * The KPIs of each channel, as ARCHITECTURE.md defines them: a count per
 * rung ("answered" counts the calls that reached answered or better), the
 * rates, and the rung from which an event reached the doctor.
 */
static const struct mr_kpi_section {
	const char *name;
	const char *counts[MR_KPI_RUNGS];
	struct mr_kpi_rate rates[3];
	int channel;
	int reach_rung;
} mr_kpi_sections[] = {
	{ "phone", { "calls", "answered", "successful", "effective" },
	  { { "answer_rate", 1, 0 }, { "successful_rate", 2, 1 }, { "effective_rate", 3, 2 } },
	  MR_CH_PHONE, 1 },
	{ "wechat", { "sent", "delivered", "read", "responded" },
	  { { "response_rate", 3, 0 } }, MR_CH_WECHAT, 1 },
	{ "wecom", { "sent", "delivered", "read", "responded" },
	  { { "response_rate", 3, 0 } }, MR_CH_WECOM, 1 },
	{ "meeting_online", { "invited", "registered", "attended" },
	  { { "participation_rate", 2, 0 } }, MR_CH_MEETING_ONLINE, 2 },
	{ "meeting_offline", { "invited", "registered", "attended" },
	  { { "participation_rate", 2, 0 } }, MR_CH_MEETING_OFFLINE, 2 },
	{ "visits", { "planned", "completed" },
	  { { NULL, 0, 0 } }, MR_CH_VISIT, 1 },
	{ "content", { "views", "completed" },
	  { { NULL, 0, 0 } }, MR_CH_CONTENT, 0 },
	{ "email", { "sent", "delivered", "read", "responded" },
	  { { "response_rate", 3, 0 } }, MR_CH_EMAIL, 1 },
	{ "sms", { "sent", "delivered", "read", "responded" },
	  { { "response_rate", 3, 0 } }, MR_CH_SMS, 1 },
};
#define MR_KPI_NSECTIONS ((int)(sizeof(mr_kpi_sections) / sizeof(mr_kpi_sections[0])))

#define MR_KPI_ALL_CHANNELS (((1u << MR_CH_COUNT) - 1u) & ~1u)

int mr_kpi_dim_parse(const char *name)
{
	for (int i = 0; name && i < MR_KD_COUNT; i++) {
		if (strcmp(mr_kpi_dims[i].name, name) == 0)
			return i;
	}
	return -1;
}

const char *mr_kpi_dim_name(int dim)
{
	return dim >= 0 && dim < MR_KD_COUNT ? mr_kpi_dims[dim].name : NULL;
}

/* ------------------------------------------------------------ calendar (Asia/Shanghai) */

static int64_t mr_kpi_floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t mr_kpi_days(int64_t y, int m, int d)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = mr_kpi_floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* The civil date of a day number. */
static void mr_kpi_civil(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = mr_kpi_floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* The local day (in Shanghai) of a time. */
static int64_t mr_kpi_local_day(int64_t us)
{
	return mr_kpi_floor_div(mr_kpi_floor_div(us, MR_US_PER_S) + MR_KPI_ZONE_S, MR_KPI_DAY_S);
}

/* The UTC time (µs) at which local day starts. */
static int64_t mr_kpi_day_start(int64_t day)
{
	return (day * MR_KPI_DAY_S - MR_KPI_ZONE_S) * MR_US_PER_S;
}

/* The Monday that starts the ISO week of day. */
static int64_t mr_kpi_week_start(int64_t day)
{
	return day - (day + 3 - mr_kpi_floor_div(day + 3, 7) * 7); /* 1970-01-01 was a Thursday */
}

void mr_kpi_month_key(int64_t us, char *out, size_t n)
{
	int64_t y;
	int m, d;

	mr_kpi_civil(mr_kpi_local_day(us), &y, &m, &d);
	snprintf(out, n, "%04lld-%02d", (long long)y, m);
}

void mr_kpi_week_key(int64_t us, char *out, size_t n)
{
	int64_t thursday = mr_kpi_week_start(mr_kpi_local_day(us)) + 3, y;
	int m, d;

	mr_kpi_civil(thursday, &y, &m, &d);
	snprintf(out, n, "%04lld-W%02d", (long long)y,
		 (int)((thursday - mr_kpi_days(y, 1, 1)) / 7 + 1));
}

/* The start (µs) of the month or week after the one holding us. */
static int64_t mr_kpi_next_bucket(int kind, int64_t us)
{
	int64_t day = mr_kpi_local_day(us), y;
	int m, d;

	if (kind == MR_KK_WEEK)
		return mr_kpi_day_start(mr_kpi_week_start(day) + 7);
	mr_kpi_civil(day, &y, &m, &d);
	return mr_kpi_day_start(m == 12 ? mr_kpi_days(y + 1, 1, 1) : mr_kpi_days(y, m + 1, 1));
}

/* ------------------------------------------------------------ the plan */

/* One dimension as codes 0..n-1. */
struct mr_kpi_axis {
	int dim, kind;
	uint32_t n;             /* codes */
	uint32_t mult;          /* its stride in a group code */
	const uint32_t *col;    /* ATTR: the profile's column */
	uint32_t ncol;
	uint32_t *code;         /* ATTR: value → code; REP, REP_TYPE: rep id → code */
	uint32_t ncode;
	uint32_t *val;          /* ATTR: code → value */
	int64_t *bounds;        /* MONTH, WEEK: n + 1 bucket starts, the last the window's end */
	int64_t day0;           /* MONTH, WEEK: when the window's first (local) day starts, µs */
	uint16_t *dayb;         /* MONTH, WEEK: the bucket of each day from day0 on */
};

/* A record merged into a doctor in scope. */
struct mr_kpi_merged {
	uint32_t s, r;
};

struct mr_kpi_plan {
	struct mr_kpi_axis ax[MR_KPI_MAX_DIMS];
	int nax;
	int rep, time;                /* the axis by rep (or rep type) and by time, or -1 */
	uint32_t ngroups;
	int64_t from, to;
	unsigned channels;
	uint8_t reaches[256];         /* by channel << 2 | outcome: 1 when it reached the doctor */
	struct mr_kpistore_view v;    /* the events */
	unsigned char *in;            /* the live doctors in scope, by record id */
	uint32_t nin;
	unsigned char *aligned;       /* targets: by record id */
	uint32_t *aoff, *acode;       /* rep axis: the aligned reps' codes of each doctor (aoff: nin + 1) */
	struct mr_kpi_merged *merged; /* by survivor */
	uint32_t nmerged;
};

/* One thread's share: survivors lo..hi-1 and its counters. */
struct mr_kpi_part {
	const struct mr_kpi_plan *p;
	uint32_t lo, hi;
	uint32_t *ev;                 /* ngroups × MR_KPI_SLOTS */
	uint32_t *reached, *covered, *stamp, *targeted;
	uint32_t t_targeted, t_reached, t_covered;
	pthread_t th;
	int started;
};

/* The doctor being counted. */
struct mr_kpi_hcp {
	uint32_t s;
	uint32_t base;                /* its group code from the attribute axes */
	int targeted;
	const uint32_t *codes;        /* rep axis: its aligned reps' codes (repeats possible) */
	uint32_t ncodes;
};

static void mr_kpi_plan_release(struct mr_kpi_plan *p)
{
	for (int a = 0; a < p->nax; a++) {
		free(p->ax[a].code);
		free(p->ax[a].val);
		free(p->ax[a].bounds);
		free(p->ax[a].dayb);
	}
	free(p->in);
	free(p->aligned);
	free(p->aoff);
	free(p->acode);
	free(p->merged);
}

/*
 * The bucket of each local day of the window, so that an event's bucket
 * is one division (by a constant) and a look-up: no branch per event.
 */
static void mr_kpi_axis_days(struct mr_kpi_axis *x, int64_t from, int64_t to)
{
	int64_t first = mr_kpi_local_day(from), ndays = mr_kpi_local_day(to - 1) - first + 1;
	uint32_t b = 0;

	x->day0 = mr_kpi_day_start(first);
	x->dayb = mr_malloc((size_t)(ndays > 0 ? ndays : 1) * sizeof(*x->dayb));
	for (int64_t d = 0; d < ndays; d++) {
		while (b + 1 < x->n && x->bounds[b + 1] <= mr_kpi_day_start(first + d))
			b++;
		x->dayb[d] = (uint16_t)b;
	}
}

/* The time bucket holding ts (from <= ts < to). */
static inline uint32_t mr_kpi_day_bucket(const struct mr_kpi_axis *x, int64_t ts)
{
	return x->dayb[(uint64_t)(ts - x->day0) / (uint64_t)(MR_KPI_DAY_S * MR_US_PER_S)];
}

/* Buckets of the window: starts of the months (weeks) from the one holding from, up to to. */
static void mr_kpi_axis_time(struct mr_kpi_axis *x, int64_t from, int64_t to)
{
	uint32_t n = 0, cap = 16;

	x->bounds = mr_malloc(cap * sizeof(*x->bounds));
	for (int64_t at = from; at < to; at = mr_kpi_next_bucket(x->kind, at)) {
		if (n + 2 > cap) {
			cap *= 2;
			x->bounds = mr_realloc(x->bounds, cap * sizeof(*x->bounds));
		}
		x->bounds[n++] = at;
	}
	x->bounds[n] = to;
	x->n = n ? n : 1;
	if (!n)
		x->bounds[1] = to;
	mr_kpi_axis_days(x, from, to);
}

/* An attribute's values among the doctors in scope, as codes 1.. (0: none). */
static void mr_kpi_axis_attr(struct mr_kpi_axis *x, const struct mr_kpi_plan *p, struct mr_profile *prof)
{
	int attr = mr_kpi_dims[x->dim].attr;
	uint32_t cap = 16;

	x->col = mr_profile_column(prof, attr);
	x->ncol = mr_profile_nhcps(prof);
	x->ncode = mr_profile_attr_numeric(attr) ? 1000 : mr_dict_size(mr_profile_dict(prof)) + 1;
	x->code = mr_calloc(x->ncode, sizeof(*x->code));
	x->val = mr_malloc(cap * sizeof(*x->val));
	x->val[0] = 0;
	x->n = 1;
	for (uint32_t s = 1; s < x->ncol && s < p->nin; s++) {
		uint32_t v = x->col[s];

		if (!p->in[s] || !v || v >= x->ncode || x->code[v])
			continue;
		if (x->n == cap) {
			cap *= 2;
			x->val = mr_realloc(x->val, cap * sizeof(*x->val));
		}
		x->code[v] = x->n;
		x->val[x->n++] = v;
	}
}

/* Reps (or their types) as codes: the rep id itself, or its type; 0: no rep. */
static int mr_kpi_axis_rep(struct mr_kpi_axis *x, struct mr_hcpdir *dir)
{
	unsigned char *bits = NULL;
	uint32_t nrep = 0;

	if (!mr_hcpdir_reps_of(dir, 0, &bits, &nrep))
		return 0;
	free(bits);
	x->ncode = nrep ? nrep : 1;
	x->code = mr_calloc(x->ncode, sizeof(*x->code));
	for (uint32_t id = 1; id < nrep; id++)
		x->code[id] = x->kind == MR_KK_REP ? id : (uint32_t)mr_hcpdir_rep_type(dir, id);
	x->n = x->kind == MR_KK_REP ? x->ncode : MR_REP_KAM + 1;
	return 1;
}

/* The records merged (directly or through others) into a doctor in scope, by survivor. */
static int mr_kpi_cmp_merged(const void *a, const void *b)
{
	const struct mr_kpi_merged *x = a, *y = b;

	return x->s != y->s ? (x->s < y->s ? -1 : 1) : (x->r < y->r ? -1 : x->r > y->r);
}

static void mr_kpi_plan_merged(struct mr_kpi_plan *p, const struct mr_profile *prof)
{
	uint32_t n = mr_profile_nhcps(prof), cap = 0;

	for (uint32_t r = 1; r < n; r++) {
		uint32_t s = r;
		int depth = 0;

		if (mr_profile_state(prof, r) != MR_PS_MERGED)
			continue;
		while (mr_profile_state(prof, s) == MR_PS_MERGED && depth++ < MR_KPI_MERGE_DEPTH)
			s = mr_profile_merged_into(prof, s);
		if (s >= p->nin || !p->in[s])
			continue;
		if (p->nmerged == cap) {
			cap = cap ? cap * 2 : 64;
			p->merged = mr_realloc(p->merged, cap * sizeof(*p->merged));
		}
		p->merged[p->nmerged++] = (struct mr_kpi_merged){ s, r };
	}
	if (p->nmerged > 1)
		qsort(p->merged, p->nmerged, sizeof(*p->merged), mr_kpi_cmp_merged);
}

/* The targets: doctors in scope aligned at `to`, and (rep axis) to which reps' codes. */
static int mr_kpi_plan_targets(struct mr_kpi_plan *p, struct mr_hcpdir *dir)
{
	struct mr_hcpdir_align *al = NULL;
	size_t nal = 0;
	const struct mr_kpi_axis *x = p->rep >= 0 ? &p->ax[p->rep] : NULL;

	if (!mr_hcpdir_alignments(dir, p->to, &al, &nal))
		return 0;
	p->aligned = mr_calloc((size_t)p->nin + 1, 1);
	if (x)
		p->aoff = mr_calloc((size_t)p->nin + 2, sizeof(*p->aoff));
	for (size_t i = 0; i < nal; i++) {
		if (al[i].hcp >= p->nin || !p->in[al[i].hcp])
			continue;
		p->aligned[al[i].hcp] = 1;
		if (x)
			p->aoff[al[i].hcp + 1]++;
	}
	if (x) {
		for (uint32_t s = 1; s <= p->nin; s++)
			p->aoff[s] += p->aoff[s - 1];
		p->acode = mr_malloc(((size_t)p->aoff[p->nin] + 1) * sizeof(*p->acode));
		for (size_t i = 0; i < nal; i++) { /* aoff[s] runs ahead as s's slots fill, then is put back */
			if (al[i].hcp < p->nin && p->in[al[i].hcp])
				p->acode[p->aoff[al[i].hcp]++] = al[i].rep < x->ncode ? x->code[al[i].rep] : 0;
		}
		for (uint32_t s = p->nin; s > 0; s--)
			p->aoff[s] = p->aoff[s - 1];
		p->aoff[0] = 0;
	}
	free(al);
	return 1;
}

/* ------------------------------------------------------------ the pass */

/*
 * The first of the events lo..hi-1 (time-ordered) at or after from, by
 * galloping from lo: a window usually cuts a record near its start, where
 * the first probes share the cache lines just read.
 */
static uint32_t mr_kpi_first(const int64_t *ts, uint32_t lo, uint32_t hi, int64_t from)
{
	uint32_t step = 1;

	while (lo < hi && ts[lo] < from) {
		uint32_t probe = hi - lo > step ? lo + step : hi - 1;

		if (ts[probe] < from) {
			lo = probe + 1;
			step *= 2;
			continue;
		}
		hi = probe; /* the answer lies in lo..probe; search it by halves */
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;

			if (ts[mid] < from)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo;
	}
	return lo;
}

/* 1 when doctor h is a target in the group of rep code c (rep axis), or at all. */
static int mr_kpi_targeted_in(const struct mr_kpi_plan *p, const struct mr_kpi_hcp *h, uint32_t c)
{
	if (p->rep < 0 || !h->targeted)
		return h->targeted;
	for (uint32_t i = 0; i < h->ncodes; i++) {
		if (h->codes[i] == c)
			return 1;
	}
	return 0;
}

/* Counts one event (cho: channel << 2 | outcome) of doctor h in time bucket b; 1 when it reached them. */
static inline int mr_kpi_one(struct mr_kpi_part *w, const struct mr_kpi_hcp *h, unsigned cho, uint32_t rep,
			     uint32_t b)
{
	const struct mr_kpi_plan *p = w->p;
	uint32_t g = h->base, c = 0;

	if (p->rep >= 0) {
		const struct mr_kpi_axis *rx = &p->ax[p->rep];

		c = rep < rx->ncode ? rx->code[rep] : 0;
		g += c * rx->mult;
	}
	if (p->time >= 0)
		g += b * p->ax[p->time].mult;
	w->ev[(size_t)g * MR_KPI_SLOTS + cho]++;
	if (!p->reaches[cho])
		return 0;
	if (w->stamp[g] != h->s) {
		w->stamp[g] = h->s;
		w->reached[g]++;
		w->covered[g] += (uint32_t)mr_kpi_targeted_in(p, h, c);
	}
	return 1;
}

/*
 * The common case, every event of the record in one group (no rep or time
 * dimension): no branch per event but the loop's, the reach folded into a
 * flag and counted once.
 */
static int mr_kpi_run_fixed(struct mr_kpi_part *w, const struct mr_kpi_hcp *h, uint32_t i, uint32_t end)
{
	const struct mr_kpi_plan *p = w->p;
	const uint8_t *cho = p->v.cho, *reaches = p->reaches;
	uint32_t *ev = w->ev + (size_t)h->base * MR_KPI_SLOTS;
	unsigned reached = 0;

	for (; i < end; i++) {
		unsigned c = cho[i]; /* once: the store below could alias it */

		ev[c]++;
		reached |= reaches[c];
	}
	return (int)reached;
}

/*
 * Events i..end-1 of doctor h when the group moves with the event (by rep,
 * or by month or week): the rep's code from a table, the time bucket from
 * a table by local day, and a doctor's first reaching event in a group
 * counted by its stamp. Inlined for each case (by_rep, by_time constant).
 */
static inline __attribute__((always_inline)) int
mr_kpi_run_moving(struct mr_kpi_part *w, const struct mr_kpi_hcp *h, uint32_t i, uint32_t end, int by_rep,
		  int by_time)
{
	const struct mr_kpi_plan *p = w->p;
	const struct mr_kpi_axis *rx = by_rep ? &p->ax[p->rep] : NULL;
	const struct mr_kpi_axis *tx = by_time ? &p->ax[p->time] : NULL;
	const uint8_t *cho = p->v.cho, *reaches = p->reaches;
	const uint32_t *rep = p->v.rep;
	const int64_t *ts = tx ? p->v.ts : NULL; /* read only to follow the time buckets */
	unsigned any = 0;

	for (; i < end; i++) {
		unsigned c = cho[i], r = reaches[c], fresh;
		uint32_t g = h->base, code = 0, old;

		if (tx)
			g += mr_kpi_day_bucket(tx, ts[i]) * tx->mult;
		if (rx) {
			code = rep[i] < rx->ncode ? rx->code[rep[i]] : 0;
			g += code * rx->mult;
		}
		w->ev[(size_t)g * MR_KPI_SLOTS + c]++;
		any |= r;
		/* no branch on r or on fresh: both are as good as random (a new month, a new rep) */
		old = w->stamp[g];
		fresh = r & (old != h->s);
		w->stamp[g] = r ? h->s : old;
		w->reached[g] += fresh;
		if (!rx)
			w->covered[g] += fresh & (unsigned)h->targeted;
		else if (fresh)
			w->covered[g] += (uint32_t)mr_kpi_targeted_in(p, h, code);
	}
	return (int)any;
}

/* Counts record r's events in the window for doctor h (columns, then delta); 1 when one reached them. */
static int mr_kpi_record(struct mr_kpi_part *w, const struct mr_kpi_hcp *h, uint32_t r)
{
	const struct mr_kpi_plan *p = w->p;
	const struct mr_kpistore_view *v = &p->v;
	const struct mr_kpi_axis *tx = p->time >= 0 ? &p->ax[p->time] : NULL;
	uint32_t hi = r < v->nrec ? v->off[r + 1] : 0, i = r < v->nrec ? v->off[r] : 0;
	int any = 0;

	if (i < hi && v->first[r] < p->from) /* else the whole record is at or after from: the usual case */
		i = mr_kpi_first(v->ts, i, hi, p->from);
	if (i < hi && v->last[r] >= p->to) /* the run ends at `to`: found once, so the loops test no time */
		hi = mr_kpi_first(v->ts, i, hi, p->to);
	if (p->rep < 0 && !tx) /* one loop per case, each compiled for it */
		any = mr_kpi_run_fixed(w, h, i, hi);
	else if (p->rep < 0)
		any = mr_kpi_run_moving(w, h, i, hi, 0, 1);
	else if (!tx)
		any = mr_kpi_run_moving(w, h, i, hi, 1, 0);
	else
		any = mr_kpi_run_moving(w, h, i, hi, 1, 1);
	for (uint32_t d = r < v->ndhead ? v->dhead[r] : 0; d; d = v->d[d - 1].next) {
		const struct mr_kpistore_ev *e = &v->d[d - 1];

		if (e->ts >= p->from && e->ts < p->to)
			any |= mr_kpi_one(w, h, e->cho, e->rep, tx ? mr_kpi_day_bucket(tx, e->ts) : 0);
	}
	if (any && p->rep < 0 && !tx && w->stamp[h->base] != h->s) { /* the fixed run's reach, once */
		w->stamp[h->base] = h->s;
		w->reached[h->base]++;
		w->covered[h->base] += (uint32_t)h->targeted;
	}
	return any;
}

/* Doctor s's group code from the attribute axes, and its targets counted. */
static void mr_kpi_hcp_init(struct mr_kpi_part *w, struct mr_kpi_hcp *h, uint32_t s)
{
	const struct mr_kpi_plan *p = w->p;

	h->s = s;
	h->base = 0;
	for (int a = 0; a < p->nax; a++) {
		const struct mr_kpi_axis *x = &p->ax[a];
		uint32_t v = x->kind == MR_KK_ATTR && s < x->ncol ? x->col[s] : 0;

		h->base += (v < x->ncode ? x->code[v] : 0) * x->mult;
	}
	h->targeted = p->aligned[s];
	h->codes = NULL;
	h->ncodes = 0;
	if (!h->targeted)
		return;
	w->t_targeted++;
	if (p->rep < 0) {
		w->targeted[h->base]++;
		return;
	}
	h->codes = p->acode + p->aoff[s];
	h->ncodes = p->aoff[s + 1] - p->aoff[s];
	for (uint32_t i = 0; i < h->ncodes; i++) { /* each rep group once */
		uint32_t k = 0;

		while (k < i && h->codes[k] != h->codes[i])
			k++;
		if (k == i)
			w->targeted[h->base + h->codes[i] * p->ax[p->rep].mult]++;
	}
}

static void *mr_kpi_part_run(void *arg)
{
	struct mr_kpi_part *w = arg;
	const struct mr_kpi_plan *p = w->p;
	uint32_t m = 0;

	while (m < p->nmerged && p->merged[m].s < w->lo)
		m++;
	for (uint32_t s = w->lo; s < w->hi; s++) {
		struct mr_kpi_hcp h;
		int any;

		/*
		 * The times of a record the window cuts (its first event before
		 * from) are read where it starts: a jump from record to record that
		 * no hardware prefetcher follows, so fetch them ahead of their turn.
		 * (Written here: GCC drops a call to a helper that only prefetches.)
		 */
		if (s + MR_KPI_AHEAD < p->v.nrec && p->v.first[s + MR_KPI_AHEAD] < p->from)
			__builtin_prefetch(&p->v.ts[p->v.off[s + MR_KPI_AHEAD]], 0, 0);
		if (!p->in[s])
			continue;
		mr_kpi_hcp_init(w, &h, s);
		any = mr_kpi_record(w, &h, s);
		for (; m < p->nmerged && p->merged[m].s == s; m++)
			any |= mr_kpi_record(w, &h, p->merged[m].r);
		if (any) {
			w->t_reached++;
			w->t_covered += (uint32_t)h.targeted;
		}
	}
	return NULL;
}

static void mr_kpi_part_init(struct mr_kpi_part *w, const struct mr_kpi_plan *p, uint32_t lo, uint32_t hi)
{
	memset(w, 0, sizeof(*w));
	w->p = p;
	w->lo = lo;
	w->hi = hi;
	w->ev = mr_calloc((size_t)p->ngroups * MR_KPI_SLOTS, sizeof(*w->ev));
	w->reached = mr_calloc(p->ngroups, sizeof(*w->reached));
	w->covered = mr_calloc(p->ngroups, sizeof(*w->covered));
	w->stamp = mr_calloc(p->ngroups, sizeof(*w->stamp));
	w->targeted = mr_calloc(p->ngroups, sizeof(*w->targeted));
}

static void mr_kpi_part_release(struct mr_kpi_part *w)
{
	free(w->ev);
	free(w->reached);
	free(w->covered);
	free(w->stamp);
	free(w->targeted);
}

/* Runs the parts (the first on this thread) and adds the others into the first. */
static void mr_kpi_run(struct mr_kpi_part *parts, int n)
{
	const struct mr_kpi_plan *p = parts[0].p;

	for (int i = 1; i < n; i++)
		parts[i].started = pthread_create(&parts[i].th, NULL, mr_kpi_part_run, &parts[i]) == 0;
	mr_kpi_part_run(&parts[0]);
	for (int i = 1; i < n; i++) {
		if (parts[i].started)
			pthread_join(parts[i].th, NULL);
		else
			mr_kpi_part_run(&parts[i]);
	}
	for (int i = 1; i < n; i++) {
		for (size_t k = 0; k < (size_t)p->ngroups * MR_KPI_SLOTS; k++)
			parts[0].ev[k] += parts[i].ev[k];
		for (uint32_t g = 0; g < p->ngroups; g++) {
			parts[0].reached[g] += parts[i].reached[g];
			parts[0].covered[g] += parts[i].covered[g];
			parts[0].targeted[g] += parts[i].targeted[g];
		}
		parts[0].t_targeted += parts[i].t_targeted;
		parts[0].t_reached += parts[i].t_reached;
		parts[0].t_covered += parts[i].t_covered;
	}
}

/* ------------------------------------------------------------ keys and groups */

static char *mr_kpi_key_text(const struct mr_kpi_axis *x, uint32_t code, const struct mr_kpi_src *src)
{
	char buf[96];

	switch (x->kind) {
	case MR_KK_ATTR:
		if (!code)
			return NULL;
		if (mr_profile_attr_numeric(mr_kpi_dims[x->dim].attr)) {
			snprintf(buf, sizeof(buf), "%u", x->val[code]);
			return mr_strdup(buf);
		}
		return mr_strdup(mr_dict_str(mr_profile_dict(src->prof), x->val[code]));
	case MR_KK_REP_TYPE:
		return code ? mr_strdup(mr_rep_type_name((int)code)) : NULL;
	case MR_KK_REP:
		return code ? mr_strdup(mr_hcpdir_rep_ext(src->dir, code, buf, sizeof(buf))) : NULL;
	case MR_KK_MONTH:
		mr_kpi_month_key(x->bounds[code], buf, sizeof(buf));
		return mr_strdup(buf);
	default:
		mr_kpi_week_key(x->bounds[code], buf, sizeof(buf));
		return mr_strdup(buf);
	}
}

/* The order of an axis's codes: values ascending (numbers as numbers), none last. */
struct mr_kpi_sort {
	const struct mr_kpi_axis *x;
	char **keys;
};

static int mr_kpi_cmp_code(const void *a, const void *b, void *arg)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	const struct mr_kpi_sort *s = arg;
	const char *kx = s->keys[x], *ky = s->keys[y];

	if (!kx || !ky)
		return kx ? -1 : ky ? 1 : 0;
	if (s->x->kind == MR_KK_ATTR && mr_profile_attr_numeric(mr_kpi_dims[s->x->dim].attr))
		return s->x->val[x] < s->x->val[y] ? -1 : s->x->val[x] > s->x->val[y];
	if (s->x->kind != MR_KK_ATTR && s->x->kind != MR_KK_REP)
		return x < y ? -1 : x > y;
	return strcmp(kx, ky);
}

static uint32_t *mr_kpi_order(const struct mr_kpi_axis *x, char **keys)
{
	uint32_t *order = mr_malloc((size_t)x->n * sizeof(*order));
	struct mr_kpi_sort s = { x, keys };

	for (uint32_t c = 0; c < x->n; c++)
		order[c] = c;
	qsort_r(order, x->n, sizeof(*order), mr_kpi_cmp_code, &s);
	return order;
}

/* Group g's counters from the summed part w; 0 when the group holds nothing. */
static int mr_kpi_group_counts(const struct mr_kpi_plan *p, const struct mr_kpi_part *w, uint32_t g,
			       struct mr_kpi_counts *c)
{
	uint32_t t = g, any = 0;

	if (p->time >= 0) /* targets are counted in the first bucket's place */
		t -= (g / p->ax[p->time].mult % p->ax[p->time].n) * p->ax[p->time].mult;
	memcpy(c->ev, w->ev + (size_t)g * MR_KPI_SLOTS, sizeof(c->ev));
	c->targeted = w->targeted[t];
	c->reached = w->reached[g];
	c->covered = w->covered[g];
	for (int ch = 0; ch < MR_CH_COUNT; ch++) { /* the pass counts every channel; keep those asked for */
		for (int r = 0; r < MR_KPI_RUNGS; r++) {
			if (!(p->channels >> ch & 1))
				c->ev[ch][r] = 0;
			any |= c->ev[ch][r];
		}
	}
	return any || c->targeted || c->reached;
}

/* The groups in key order, their keys, and the total. */
static void mr_kpi_collect(const struct mr_kpi_plan *p, const struct mr_kpi_part *w,
			   const struct mr_kpi_src *src, struct mr_kpi_result *res)
{
	uint32_t *order[MR_KPI_MAX_DIMS] = { NULL, NULL };
	uint32_t n0 = p->nax > 0 ? p->ax[0].n : 1, n1 = p->nax > 1 ? p->ax[1].n : 1;

	for (int a = 0; a < p->nax; a++) {
		res->nkeys[a] = p->ax[a].n;
		res->keys[a] = mr_calloc(p->ax[a].n, sizeof(char *));
		for (uint32_t c = 0; c < p->ax[a].n; c++)
			res->keys[a][c] = mr_kpi_key_text(&p->ax[a], c, src);
		order[a] = mr_kpi_order(&p->ax[a], res->keys[a]);
	}
	res->groups = mr_calloc(p->ngroups, sizeof(*res->groups));
	for (uint32_t i = 0; i < n0; i++) {
		for (uint32_t j = 0; j < n1; j++) {
			uint32_t c0 = order[0] ? order[0][i] : 0, c1 = order[1] ? order[1][j] : 0;
			uint32_t g = c0 * (p->nax > 0 ? p->ax[0].mult : 0) + c1 * (p->nax > 1 ? p->ax[1].mult : 0);
			struct mr_kpi_group *grp = &res->groups[res->ngroups];

			if (!mr_kpi_group_counts(p, w, g, &grp->c) && p->nax > 0) /* no grouping: one row, always */
				continue;
			grp->key[0] = p->nax > 0 ? res->keys[0][c0] : NULL;
			grp->key[1] = p->nax > 1 ? res->keys[1][c1] : NULL;
			res->ngroups++;
		}
	}
	for (uint32_t g = 0; g < p->ngroups; g++) {
		for (int k = 0; k < MR_KPI_SLOTS; k++) {
			if (p->channels >> (k / MR_KPI_RUNGS) & 1)
				res->total.ev[k / MR_KPI_RUNGS][k % MR_KPI_RUNGS] += w->ev[(size_t)g * MR_KPI_SLOTS + (size_t)k];
		}
	}
	res->total.targeted = w->t_targeted;
	res->total.reached = w->t_reached;
	res->total.covered = w->t_covered;
	free(order[0]);
	free(order[1]);
}

/* ------------------------------------------------------------ compute */

/* The axes of q: codes, strides, and how many groups they open. */
static int mr_kpi_plan_axes(struct mr_kpi_plan *p, const struct mr_kpi_query *q, const struct mr_kpi_src *src,
			    struct mr_err *err)
{
	uint64_t groups = 1;

	p->rep = p->time = -1;
	p->nax = q->ndims;
	for (int a = 0; a < q->ndims; a++) {
		struct mr_kpi_axis *x = &p->ax[a];

		x->dim = q->dims[a];
		x->kind = mr_kpi_dims[x->dim].kind;
		if (x->kind == MR_KK_MONTH || x->kind == MR_KK_WEEK) {
			p->time = a;
			mr_kpi_axis_time(x, q->from, q->to);
		} else if (x->kind == MR_KK_REP || x->kind == MR_KK_REP_TYPE) {
			p->rep = a;
			if (!mr_kpi_axis_rep(x, src->dir))
				return mr_err_set(err, MR_EUNAVAIL, "the HCP directory is still loading; try again shortly");
		} else {
			x->n = 1; /* sized under the profile's lock (mr_kpi_axis_attr) */
		}
	}
	for (int a = 0; a < p->nax; a++)
		groups *= p->ax[a].kind == MR_KK_ATTR ? 1 : p->ax[a].n;
	if (groups > MR_KPI_MAX_GROUPS)
		return mr_err_field(err, MR_EINVAL, "group_by", "grouping by %s%s%s opens %llu groups, more than"
				    " %d: choose a coarser dimension or a shorter window",
				    mr_kpi_dim_name(q->dims[0]), q->ndims > 1 ? " and " : "",
				    q->ndims > 1 ? mr_kpi_dim_name(q->dims[1]) : "", (unsigned long long)groups,
				    MR_KPI_MAX_GROUPS);
	return 0;
}

/* The strides, once every axis is sized. */
static int mr_kpi_plan_strides(struct mr_kpi_plan *p, struct mr_err *err)
{
	uint64_t groups = 1;

	for (int a = p->nax - 1; a >= 0; a--) {
		p->ax[a].mult = (uint32_t)groups;
		groups *= p->ax[a].n;
		if (groups > MR_KPI_MAX_GROUPS)
			return mr_err_field(err, MR_EINVAL, "group_by", "the grouping opens more than %d groups:"
					    " choose a coarser dimension or a shorter window", MR_KPI_MAX_GROUPS);
	}
	p->ngroups = (uint32_t)groups;
	return 0;
}

static void mr_kpi_plan_basics(struct mr_kpi_plan *p, const struct mr_kpi_query *q)
{
	p->from = q->from;
	p->to = q->to;
	p->channels = q->channels ? q->channels & MR_KPI_ALL_CHANNELS : MR_KPI_ALL_CHANNELS;
	for (int i = 0; i < MR_KPI_NSECTIONS; i++) {
		const struct mr_kpi_section *sec = &mr_kpi_sections[i];

		for (int r = sec->reach_rung; r < MR_KPI_RUNGS && (p->channels >> sec->channel & 1); r++)
			p->reaches[sec->channel << 2 | r] = 1;
	}
}

/* The record at which part k of n starts, so that each part has about as many events. */
static uint32_t mr_kpi_split(const struct mr_kpistore_view *v, uint32_t nin, uint64_t k, uint64_t n)
{
	uint32_t lo = 1, hi = nin < v->nrec ? nin : v->nrec;
	uint64_t want = (uint64_t)(hi ? v->off[hi] : 0) * k / n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (v->off[mid] < want)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The pass itself, under the profile's and the event store's read locks. */
static int mr_kpi_pass(struct mr_kpi_plan *p, const struct mr_kpi_query *q, const struct mr_kpi_src *src,
		       struct mr_kpi_result *res, struct mr_err *err)
{
	struct mr_kpi_part parts[MR_KPI_THREADS];
	int nparts = q->threads > 0 ? q->threads : MR_KPI_THREADS;
	int rc;

	if (nparts > MR_KPI_THREADS)
		nparts = MR_KPI_THREADS;
	mr_profile_read_begin(src->prof);
	for (int a = 0; a < p->nax; a++) {
		if (p->ax[a].kind == MR_KK_ATTR)
			mr_kpi_axis_attr(&p->ax[a], p, src->prof);
	}
	rc = mr_kpi_plan_strides(p, err);
	if (rc < 0) {
		mr_profile_read_end(src->prof);
		return rc;
	}
	mr_kpi_plan_merged(p, src->prof);
	mr_kpistore_read_begin(src->store, src->ev, &p->v);
	if (q->threads <= 0 && p->v.events < MR_KPI_SPLIT_MIN)
		nparts = 1;
	for (int i = 0; i < nparts; i++) {
		uint32_t lo = i ? parts[i - 1].hi : 1;
		uint32_t hi = i == nparts - 1 ? p->nin : mr_kpi_split(&p->v, p->nin, (uint64_t)i + 1, (uint64_t)nparts);

		mr_kpi_part_init(&parts[i], p, lo, hi > lo ? hi : lo);
	}
	mr_kpi_run(parts, nparts);
	mr_kpistore_read_end(src->store);
	mr_kpi_collect(p, &parts[0], src, res);
	mr_profile_read_end(src->prof);
	for (int i = 0; i < nparts; i++)
		mr_kpi_part_release(&parts[i]);
	return 0;
}

int mr_kpi_compute(const struct mr_kpi_src *src, const struct mr_kpi_query *q, const struct mr_scope *s,
		   struct mr_kpi_result *res, struct mr_err *err)
{
	struct mr_kpi_plan p;
	int64_t t0 = mr_mono_us();
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&p, 0, sizeof(p));
	res->q = *q;
	if (!mr_hcpdir_ready(src->dir) || !mr_evindex_ready(src->ev) || !mr_profile_ready(src->prof))
		return mr_err_set(err, MR_EUNAVAIL, "the in-memory projection is still loading; try again shortly");
	mr_kpi_plan_basics(&p, q);
	rc = mr_kpi_plan_axes(&p, q, src, err);
	if (rc == 0 && !mr_hcpdir_scope_map(src->dir, s, &p.in, &p.nin))
		rc = mr_err_set(err, MR_EUNAVAIL, "the HCP directory is still loading; try again shortly");
	if (rc == 0 && !mr_kpi_plan_targets(&p, src->dir))
		rc = mr_err_set(err, MR_EUNAVAIL, "the HCP directory is still loading; try again shortly");
	if (rc == 0)
		rc = mr_kpi_pass(&p, q, src, res, err);
	mr_kpi_plan_release(&p);
	res->took_us = mr_mono_us() - t0;
	return rc;
}

void mr_kpi_result_release(struct mr_kpi_result *res)
{
	for (int a = 0; a < MR_KPI_MAX_DIMS; a++) {
		for (uint32_t c = 0; res->keys[a] && c < res->nkeys[a]; c++)
			free(res->keys[a][c]);
		free(res->keys[a]);
	}
	free(res->groups);
	memset(res, 0, sizeof(*res));
}

/* ------------------------------------------------------------ JSON */

static json_t *mr_kpi_ratio(uint64_t num, uint64_t den)
{
	return den ? json_real((double)num / (double)den) : json_null();
}

/* The events of channel ch at rung r or above. */
static uint64_t mr_kpi_at_least(const struct mr_kpi_counts *c, int ch, int r)
{
	uint64_t n = 0;

	for (int k = r; k < MR_KPI_RUNGS; k++)
		n += c->ev[ch][k];
	return n;
}

static json_t *mr_kpi_section_json(const struct mr_kpi_section *sec, const struct mr_kpi_counts *c)
{
	json_t *o = json_object();

	for (int r = 0; r < MR_KPI_RUNGS && sec->counts[r]; r++)
		json_object_set_new(o, sec->counts[r], json_integer((json_int_t)mr_kpi_at_least(c, sec->channel, r)));
	for (int k = 0; k < 3 && sec->rates[k].name; k++)
		json_object_set_new(o, sec->rates[k].name,
				    mr_kpi_ratio(mr_kpi_at_least(c, sec->channel, sec->rates[k].num),
						 mr_kpi_at_least(c, sec->channel, sec->rates[k].den)));
	return o;
}

/* Sets the KPIs of c (the channels' sections, then reach) in o. */
static void mr_kpi_counts_into(json_t *o, const struct mr_kpi_counts *c, unsigned channels)
{
	uint64_t interactions = 0;

	if (!channels)
		channels = MR_KPI_ALL_CHANNELS;
	for (int i = 0; i < MR_KPI_NSECTIONS; i++) {
		const struct mr_kpi_section *sec = &mr_kpi_sections[i];

		if (!(channels >> sec->channel & 1))
			continue;
		json_object_set_new(o, sec->name, mr_kpi_section_json(sec, c));
		interactions += mr_kpi_at_least(c, sec->channel, sec->reach_rung);
	}
	json_object_set_new(o, "reach", json_pack("{s:I, s:I, s:I, s:I, s:o, s:o}",
						  "hcps_targeted", (json_int_t)c->targeted,
						  "hcps_reached", (json_int_t)c->reached,
						  "hcps_covered", (json_int_t)c->covered,
						  "interactions", (json_int_t)interactions,
						  "coverage", mr_kpi_ratio(c->covered, c->targeted),
						  "frequency", mr_kpi_ratio(interactions, c->reached)));
}

json_t *mr_kpi_counts_json(const struct mr_kpi_counts *c, unsigned channels)
{
	json_t *o = json_object();

	mr_kpi_counts_into(o, c, channels);
	return o;
}

json_t *mr_kpi_result_json(const struct mr_kpi_result *res)
{
	json_t *dims = json_array(), *groups = json_array();

	for (int a = 0; a < res->q.ndims; a++)
		json_array_append_new(dims, json_string(mr_kpi_dim_name(res->q.dims[a])));
	for (uint32_t i = 0; i < res->ngroups; i++) {
		const struct mr_kpi_group *g = &res->groups[i];
		json_t *key = json_object(), *o = json_object();

		for (int a = 0; a < res->q.ndims; a++)
			json_object_set_new(key, mr_kpi_dim_name(res->q.dims[a]),
					    g->key[a] ? json_string(g->key[a]) : json_null());
		json_object_set_new(o, "key", key);
		mr_kpi_counts_into(o, &g->c, res->q.channels);
		json_array_append_new(groups, o);
	}
	return json_pack("{s:o, s:o, s:o}", "group_by", dims, "groups", groups, "total",
			 mr_kpi_counts_json(&res->total, res->q.channels));
}
