/*
 * The demo history generator (see history.h): a calendar, a plan per
 * doctor, an outcome model calibrated to the industry's rates, then the
 * events.
 *
 * Randomness is splitmix64, as in world.c, with one stream per concern and
 * per doctor: a doctor's streams are keyed by a hash of their id, so their
 * preferences never depend on the other doctors, and their touches and
 * outcomes only through what is shared (the volume normalisation, their
 * rep's meetings, the calibration and the event counter).
 *
 * Before any doctor: the calendar of the window in Beijing days (weekday,
 * Saturday, Sunday, or a Spring Festival / National Day holiday) and the
 * weight of each class of day per timing profile (calls, messages, visits,
 * content views, campaign sends), the content catalogue, the national
 * webinar series (one a week per product, one a fortnight of general
 * medical education), each field rep's offline meetings (as many as about
 * twenty invitations each), and the marketing campaigns (K01…: one per
 * product group and 91-day period, sending a wave every fortnight).
 *
 * A doctor's plan: touches in the window ≈ touches_per_year × years ×
 * volume (segment, title, hospital level, KOL, an individual log-normal
 * factor; normalised to mean 1 over the doctors given), each touch a kind
 * (mr_hg_kinds: who does it on which channel, weighted by the doctor's
 * coverage segment, limited to reps the doctor has and identities they
 * hold), then a time (profile day and hour band, or the meeting's start,
 * or a campaign wave), content and campaign. The company does not know the
 * preferences, so none of this looks at them, except that doctors open
 * content more often in their own best hour band.
 *
 * Outcomes are an ordinal logit: a touch's score is
 *   eta = lift[channel] (responsiveness + title + taste + best channel)
 *       + best hour band + best weekday + favourite topic (of its content or meeting)
 * and the rung reached is how many of the channel's thresholds eta plus
 * logistic noise passes. Delivery of messages is technical (a fixed share,
 * before the model). The thresholds are solved once, by bisection, on a
 * histogram of every touch's eta (a first pass plans every doctor without
 * emitting), so that the mean probability of reaching each rung over the
 * whole history is the target: the KPIs land on the rates however the
 * preferences are spread, and per doctor they move with them.
 *
 * The second pass plans each doctor again (the same streams give the same
 * touches), sorts them by time, draws outcomes and durations and emits.
 * Memory is a few dozen bytes per doctor plus one doctor's touches; a
 * million events take about a quarter of a second (docs/demo-history.md).
 */
#include "demo/history.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/time.h"
#include "demo/data.h"

#define MR_HG_DAY_S INT64_C(86400)
#define MR_HG_TZ_S INT64_C(28800) /* Beijing is UTC+8 all year */
#define MR_HG_YEAR_US (365.25 * 86400.0 * 1e6)
#define MR_HG_BIN_WIDTH_INV 64.0 /* eta histogram bins per logit unit: MR_HG_BINS span -8 .. +8 */

enum {
	MR_HG_MAXGROUPS = 8,     /* product groups: the products of data.c, then general */
	MR_HG_BINS = 1024,       /* eta histogram: 1/64 wide from -8 to +8 */
	MR_HG_PERIOD_DAYS = 91,  /* a campaign's length */
	MR_HG_WAVE_DAYS = 14,    /* a campaign sends every fortnight */
	MR_HG_INVITEES = 20,     /* invitations an offline meeting is planned for */
	MR_HG_RETRIES = 8,
};

/* Random streams, one per concern; doctors' streams are also keyed by the doctor. */
enum { MR_HG_S_PREFS = 1, MR_HG_S_VOLUME, MR_HG_S_PLAN, MR_HG_S_OUTCOME, MR_HG_S_CATALOGUE,
       MR_HG_S_MEETINGS, MR_HG_S_WAVES };

enum mr_hg_who { MR_HG_INSIDE, MR_HG_FIELD, MR_HG_MSL, MR_HG_MKT };

/* Coverage segments: who owns the doctor now. */
enum mr_hg_seg { MR_HG_SEG_INSIDE, MR_HG_SEG_FIELD, MR_HG_SEG_HYBRID, MR_HG_SEG_NONE, MR_HG_NSEG };

/* Day classes of the calendar. */
enum mr_hg_day { MR_HG_WORKDAY, MR_HG_SAT, MR_HG_SUN, MR_HG_HOLIDAY };

/* How a touch is timed: a drawn profile, a meeting's start, or a campaign wave. */
enum mr_hg_when { MR_HG_CALL, MR_HG_MSG, MR_HG_VISIT, MR_HG_VIEW, MR_HG_SEND, MR_HG_NPROF,
		  MR_HG_MEETING = MR_HG_NPROF, MR_HG_WAVE };

/* ---- tables ---- */

static const struct mr_hist_band mr_hg_bands[MR_HIST_BANDS] = {
	{ "early", 7, 9 },       { "morning", 9, 12 },    { "noon", 12, 14 },
	{ "afternoon", 14, 17 }, { "after_work", 17, 19 }, { "evening", 19, 22 },
};

struct mr_hg_topic {
	const char *name;
	const char *label;       /* in titles */
	int general;             /* also a topic of general medical education */
	const char *variants[4];
};

static const struct mr_hg_topic mr_hg_topics[MR_HIST_TOPICS] = {
	{ "patient_data", "患者数据", 1,
	  { "真实世界研究数据解读", "中国患者管理现状调查", "流行病学数据更新", "长期随访数据" } },
	{ "guidelines", "指南解读", 1,
	  { "最新版诊疗指南要点", "专家共识速览", "指南更新的临床意义", "基层诊疗路径" } },
	{ "clinical_trial", "临床研究", 1,
	  { "III 期临床试验结果", "头对头研究解读", "中国人群亚组分析", "研究设计与终点" } },
	{ "product_info", "产品信息", 0,
	  { "说明书要点", "作用机制动画", "产品一页纸", "医保与准入信息" } },
	{ "case_study", "病例分享", 1,
	  { "典型病例讨论", "疑难病例会诊实录", "门诊病例复盘", "多学科病例分享" } },
	{ "dosing", "用法用量", 0,
	  { "起始剂量与调整", "特殊人群用药", "换药方案", "用药依从性管理" } },
	{ "safety", "安全性", 0,
	  { "不良反应管理", "长期安全性数据", "药物相互作用", "禁忌与注意事项" } },
	{ "conference", "会议速递", 1,
	  { "国际年会速递", "全国学术年会精华", "年会热点回顾", "专家会后访谈" } },
};

/* Timing profiles: weight of a day by class, then of each hour band. */
struct mr_hg_profile {
	double day[4];                 /* workday, Saturday, Sunday, holiday */
	double band[MR_HIST_BANDS];
};

static const struct mr_hg_profile mr_hg_profiles[MR_HG_NPROF] = {
	[MR_HG_CALL] = { { 1, .12, .05, .03 }, { 4, 30, 14, 36, 14, 2 } },
	[MR_HG_MSG] = { { 1, .35, .25, .10 }, { 8, 24, 20, 26, 12, 10 } },
	[MR_HG_VISIT] = { { 1, .04, 0, 0 }, { 0, 45, 10, 45, 0, 0 } },
	[MR_HG_VIEW] = { { 1, .70, .70, .50 }, { 12, 10, 22, 10, 16, 30 } },
	[MR_HG_SEND] = { { 1, 0, 0, 0 }, { 0, 40, 25, 15, 0, 20 } },
};

/*
 * Kinds of touch: who does it, on which channel, how it is timed, how
 * often it carries a catalogue item, and its weight by coverage segment
 * (inside-owned, field-owned, both, neither). MSL visits go to KOLs only.
 */
struct mr_hg_kind {
	enum mr_hg_who who;
	int channel;
	const char *type;
	enum mr_hg_when when;
	int content_pct;
	double weight[MR_HG_NSEG];
};

static const struct mr_hg_kind mr_hg_kinds[] = {
	{ MR_HG_INSIDE, MR_CH_PHONE, "call", MR_HG_CALL, 0, { 26, 0, 14, 0 } },
	{ MR_HG_INSIDE, MR_CH_WECHAT, "message", MR_HG_MSG, 70, { 22, 0, 12, 0 } },
	{ MR_HG_INSIDE, MR_CH_WECOM, "message", MR_HG_MSG, 70, { 16, 0, 9, 0 } },
	{ MR_HG_INSIDE, MR_CH_MEETING_ONLINE, "invitation", MR_HG_MEETING, 0, { 8, 0, 5, 0 } },
	{ MR_HG_FIELD, MR_CH_VISIT, "visit", MR_HG_VISIT, 0, { 0, 52, 32, 0 } },
	{ MR_HG_FIELD, MR_CH_MEETING_OFFLINE, "invitation", MR_HG_MEETING, 0, { 0, 6, 4, 0 } },
	{ MR_HG_MSL, MR_CH_VISIT, "visit", MR_HG_VISIT, 0, { 6, 6, 6, 6 } },
	{ MR_HG_MKT, MR_CH_EMAIL, "email", MR_HG_WAVE, 100, { 8, 10, 6, 30 } },
	{ MR_HG_MKT, MR_CH_SMS, "sms", MR_HG_WAVE, 0, { 6, 8, 5, 25 } },
	{ MR_HG_MKT, MR_CH_CONTENT, "view", MR_HG_VIEW, 100, { 10, 14, 8, 30 } },
	{ MR_HG_MKT, MR_CH_MEETING_ONLINE, "invitation", MR_HG_MEETING, 0, { 0, 6, 0, 15 } },
};

#define MR_HG_NKINDS ((int)(sizeof(mr_hg_kinds) / sizeof(mr_hg_kinds[0])))

/*
 * The rates: reach[k] is the share of a channel's touches that reach rung
 * k or higher (docs/demo-history.md has them as KPIs). delivered > 0 makes
 * rung 1 a technical delivery with that share, outside the preference
 * model. dur[k] = { min, span } of duration_s at rung k in seconds, or for
 * meetings in percent of the meeting's length; { 0, 0 } for none.
 */
struct mr_hg_rate {
	double delivered;
	double reach[MR_EVENT_RUNGS_MAX];
	int dur[MR_EVENT_RUNGS_MAX][2];
};

static const struct mr_hg_rate mr_hg_rates[MR_CH_COUNT] = {
	[MR_CH_PHONE] = { 0, { 1, .60, .48, .408 }, { { 0, 0 }, { 20, 70 }, { 100, 200 }, { 300, 600 } } },
	[MR_CH_WECHAT] = { .98, { 1, .98, .62, .27 }, { { 0, 0 } } },
	[MR_CH_WECOM] = { .99, { 1, .99, .70, .30 }, { { 0, 0 } } },
	[MR_CH_MEETING_ONLINE] = { 0, { 1, .45, .30 }, { { 0, 0 }, { 0, 0 }, { 50, 50 } } },
	[MR_CH_MEETING_OFFLINE] = { 0, { 1, .70, .55 }, { { 0, 0 }, { 0, 0 }, { 85, 15 } } },
	[MR_CH_VISIT] = { 0, { 1, .90 }, { { 0, 0 }, { 300, 900 } } },
	[MR_CH_EMAIL] = { .95, { 1, .95, .20, .03 }, { { 0, 0 } } },
	[MR_CH_CONTENT] = { 0, { 1, .35 }, { { 8, 50 }, { 90, 300 } } },
	[MR_CH_SMS] = { .97, { 1, .97, .15, .02 }, { { 0, 0 } } },
};

/* The preference model's effects, on the logit scale. */
static const struct {
	double best_channel, band, weekday, topic; /* lifts when the touch matches the preference */
	double person_sd, taste_sd;                /* the individual factor; per-channel taste */
	double view_in_band_pct;                   /* content views a doctor opens in their best band */
} mr_hg_fx = { 1.0, 0.8, 0.4, 0.6, 0.45, 0.25, 40 };

/* Responsiveness by specialty (demo/data.h order): primary care and chronic care engage more. */
static const double mr_hg_spec_fx[MR_DEMO_NSPEC] = {
	[MR_DEMO_ENDO] = .15,    [MR_DEMO_CARDIO] = 0,    [MR_DEMO_OPHTH] = -.10,
	[MR_DEMO_NEURO] = 0,     [MR_DEMO_ONC] = -.15,    [MR_DEMO_RESP] = 0,
	[MR_DEMO_GASTRO] = 0,    [MR_DEMO_NEPH] = .10,    [MR_DEMO_RHEUM] = .10,
	[MR_DEMO_GP] = .25,      [MR_DEMO_PED] = -.20,    [MR_DEMO_OBS] = -.20,
};

/* By title (resident .. chief): on remote channels, and in person (visits, offline meetings). */
static const double mr_hg_title_fx[4][2] = { { .25, -.10 }, { .10, 0 }, { -.10, .10 }, { -.30, .20 } };

/* By city tier (index 0 = unknown): doctors in the biggest cities are the most solicited. */
static const double mr_hg_tier_fx[6] = { 0, -.10, -.05, 0, .05, .10 };

/* How likely each channel is a doctor's best, by title: seniors prefer to meet, juniors to message. */
static const double mr_hg_best_w[MR_CH_COUNT][4] = {
	[MR_CH_PHONE] = { 12, 14, 12, 8 },           [MR_CH_WECHAT] = { 30, 26, 20, 14 },
	[MR_CH_WECOM] = { 22, 22, 18, 14 },          [MR_CH_MEETING_ONLINE] = { 10, 10, 10, 8 },
	[MR_CH_MEETING_OFFLINE] = { 4, 6, 10, 14 },  [MR_CH_VISIT] = { 8, 12, 18, 26 },
	[MR_CH_EMAIL] = { 4, 4, 5, 6 },              [MR_CH_CONTENT] = { 10, 6, 5, 4 },
	[MR_CH_SMS] = { 2, 2, 2, 2 },
};

/* Best weekday (Monday first) and best hour band: after clinic, at lunch, in the evening. */
static const double mr_hg_wday_w[7] = { 18, 18, 18, 18, 18, 7, 3 };
static const double mr_hg_band_w[MR_HIST_BANDS] = { 10, 5, 30, 10, 25, 20 };

/* Touch volume: by segment, title, hospital level (0 = unknown); KOLs and the individual on top. */
static const double mr_hg_seg_volume[MR_HG_NSEG] = { 1.0, 1.0, 1.25, 0.3 };
static const double mr_hg_title_volume[4] = { 0.8, 1.0, 1.15, 1.3 };
static const double mr_hg_level_volume[4] = { 1.0, 0.85, 1.0, 1.1 };
static const double mr_hg_kol_volume = 1.3, mr_hg_volume_sd = 0.35;

/* Spring Festival and National Day holidays (放假安排) 2021-2026; other years have none. */
static const struct {
	int y, m, d, days;
} mr_hg_holidays[] = {
	{ 2021, 2, 11, 7 }, { 2021, 10, 1, 7 }, { 2022, 1, 31, 7 }, { 2022, 10, 1, 7 },
	{ 2023, 1, 21, 7 }, { 2023, 9, 29, 8 }, { 2024, 2, 10, 8 }, { 2024, 10, 1, 7 },
	{ 2025, 1, 28, 8 }, { 2025, 10, 1, 8 }, { 2026, 2, 15, 9 }, { 2026, 10, 1, 7 },
};

/* ---- state ---- */

struct mr_hg_rng {
	uint64_t s;
};

struct mr_hg_doc {          /* what the first look at the doctors found */
	double lambda;          /* expected touches in the window */
	uint64_t key;           /* the doctor's stream key */
	int rep;                /* field rep index, -1 */
	unsigned groups;        /* product groups of the specialty, a bit each */
	unsigned char seg, kol;
};

struct mr_hg_rep {          /* a field rep: their offline meetings */
	const char *id;
	double invites;         /* expected invitations of their doctors */
	int groups[MR_HG_MAXGROUPS];
	int m0, nm;
};

struct mr_hg_meet {
	struct mr_hist_meeting pub;
	int group, topic;
};

struct mr_hg_wave {
	int64_t ts;
	int campaign;
};

struct mr_hg_touch {
	int64_t ts;
	int seq, meeting, content, campaign, kind;
	float eta;
};

struct mr_hg {
	const struct mr_hist_opts *o;
	const struct mr_hist_hcp *hcps;
	size_t n;
	const struct mr_hist_sink *sink;
	struct mr_hist_stats *st;
	struct mr_err *err;
	double touches;                        /* per year */
	int ng, general;                       /* product groups; the general one */
	int64_t day0;                          /* the window's first Beijing day, days since the epoch */
	int ndays;
	unsigned char *cls;                    /* day classes */
	int *days_of[4], ndays_of[4];          /* the window's days by class */
	double class_cum[MR_HG_NPROF][4];      /* per profile: cumulative weight of each class's days */
	double band_cum[MR_HG_NPROF][MR_HIST_BANDS];
	struct mr_hist_content cat[MR_HIST_CONTENT_MAX];
	int cat_topic[MR_HIST_CONTENT_MAX];
	int ncat, c0[MR_HG_MAXGROUPS], nc[MR_HG_MAXGROUPS];
	struct mr_hg_doc *doc;
	struct mr_hg_rep *rep;
	int nrep, caprep;
	const char **rep_key;                  /* rep id -> index + 1, open addressing */
	int *rep_val;
	size_t rep_mask;
	struct mr_hg_meet *meet;
	int nmeet, capmeet, on0[MR_HG_MAXGROUPS], non[MR_HG_MAXGROUPS];
	struct mr_hg_wave *wave;               /* grouped by product group */
	int nwave, w0[MR_HG_MAXGROUPS], nw[MR_HG_MAXGROUPS];
	char (*campaign)[16];
	int ncampaign;
	int64_t hist[MR_CH_COUNT][MR_HG_BINS];
	int64_t hist_n[MR_CH_COUNT];
	double theta[MR_CH_COUNT][MR_EVENT_RUNGS_MAX];
	struct mr_hg_touch *t;                 /* one doctor's touches */
	int nt, capt;
	char idpre[48];
	size_t idlen;
	int64_t evseq;
};

/* ---- random numbers: splitmix64 ---- */

static uint64_t mr_hg_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The stream of one concern, for one doctor (key) or for the whole history (key 0). */
static void mr_hg_seed(struct mr_hg_rng *r, uint64_t seed, uint64_t key, uint64_t stream)
{
	r->s = mr_hg_mix(seed ^ mr_hg_mix(key ^ mr_hg_mix(stream * 0x9e3779b97f4a7c15ULL + 0x51ed270b27a5ULL)));
}

static uint64_t mr_hg_next(struct mr_hg_rng *r)
{
	r->s += 0x9e3779b97f4a7c15ULL;
	return mr_hg_mix(r->s);
}

/* Uniform in [0, 1). */
static double mr_hg_unit(struct mr_hg_rng *r)
{
	return (double)(mr_hg_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in (0, 1): never 0 or 1, so logs are finite. */
static double mr_hg_open(struct mr_hg_rng *r)
{
	return ((double)(mr_hg_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

/* Uniform in [0, n). */
static int64_t mr_hg_below(struct mr_hg_rng *r, int64_t n)
{
	int64_t v = (int64_t)(mr_hg_unit(r) * (double)n);

	if (n <= 0)
		return 0;
	return v >= n ? n - 1 : v;
}

static int mr_hg_pct(struct mr_hg_rng *r, double pct)
{
	return mr_hg_unit(r) * 100.0 < pct;
}

/* A standard normal (Box-Muller). */
static double mr_hg_normal(struct mr_hg_rng *r)
{
	double u = mr_hg_open(r), v = mr_hg_unit(r);

	return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* An index drawn by the weights w[0..n), or -1 when none is positive. */
static int mr_hg_pick(struct mr_hg_rng *r, const double *w, int n)
{
	double total = 0, x;
	int last = -1;

	for (int i = 0; i < n; i++)
		total += w[i] > 0 ? w[i] : 0;
	if (total <= 0)
		return -1;
	x = mr_hg_unit(r) * total;
	for (int i = 0; i < n; i++) {
		if (w[i] <= 0)
			continue;
		if (x < w[i])
			return i;
		x -= w[i];
		last = i;
	}
	return last;
}

static uint64_t mr_hg_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return mr_hg_mix(h);
}

/* ---- names ---- */

const char *mr_hist_topic(int i)
{
	return i >= 0 && i < MR_HIST_TOPICS ? mr_hg_topics[i].name : NULL;
}

const struct mr_hist_band *mr_hist_band(int i)
{
	return i >= 0 && i < MR_HIST_BANDS ? &mr_hg_bands[i] : NULL;
}

/* The specialty's index in demo/data.c, or -1. */
static int mr_hg_spec(const char *s)
{
	for (int i = 0; s && i < MR_DEMO_NSPEC; i++) {
		if (strcmp(mr_demo_specialties[i].id, s) == 0)
			return i;
	}
	return -1;
}

/* The title's index (resident .. chief); an unknown title counts as attending. */
static int mr_hg_title(const char *s)
{
	for (int i = 0; s && i < 4; i++) {
		if (strcmp(mr_demo_titles[i], s) == 0)
			return i;
	}
	return 1;
}

/* The product groups (a bit per data.c product) promoted to the specialty. */
static unsigned mr_hg_groups(int spec)
{
	unsigned m = 0;

	for (int p = 0; spec >= 0 && p < mr_demo_nproducts && p < MR_HG_MAXGROUPS - 1; p++) {
		if (mr_demo_products[p].specs & MR_DEMO_BIT(spec))
			m |= 1u << p;
	}
	return m;
}

static int mr_hg_ngroups(void)
{
	return (mr_demo_nproducts < MR_HG_MAXGROUPS - 1 ? mr_demo_nproducts : MR_HG_MAXGROUPS - 1) + 1;
}

static const char *mr_hg_product(int group)
{
	return group < mr_hg_ngroups() - 1 ? mr_demo_products[group].id : "";
}

/* ---- who a doctor is to the plan ---- */

static int mr_hg_seg(const struct mr_hist_hcp *h)
{
	if (h->inside_rep && h->field_rep)
		return MR_HG_SEG_HYBRID;
	if (h->inside_rep)
		return MR_HG_SEG_INSIDE;
	return h->field_rep ? MR_HG_SEG_FIELD : MR_HG_SEG_NONE;
}

/* A KOL to medical affairs: an MSL aligned, and a (associate) chief at a tertiary hospital. */
static int mr_hg_kol(const struct mr_hist_hcp *h)
{
	return h->msl && mr_hg_title(h->title) >= 2 && h->hco_level == 3;
}

/* Whether the doctor has an identity the channel needs (every doctor has a mobile). */
static int mr_hg_reachable(const struct mr_hist_hcp *h, int ch)
{
	switch (ch) {
	case MR_CH_WECHAT:
		return h->has_wechat;
	case MR_CH_WECOM:
		return h->has_wecom;
	case MR_CH_EMAIL:
		return h->has_email;
	case MR_CH_CONTENT:
		return h->has_wechat || h->has_email; /* articles reach them by the service account or mail */
	default:
		return 1;
	}
}

/* The weight of kind k for doctor h: 0 when h lacks the rep or the identity it needs. */
static double mr_hg_kind_weight(const struct mr_hist_hcp *h, int k)
{
	const struct mr_hg_kind *kd = &mr_hg_kinds[k];
	const char *who[] = { [MR_HG_INSIDE] = h->inside_rep, [MR_HG_FIELD] = h->field_rep,
			      [MR_HG_MSL] = mr_hg_kol(h) ? h->msl : NULL, [MR_HG_MKT] = "" };

	if (!who[kd->who] || !mr_hg_reachable(h, kd->channel))
		return 0;
	return kd->weight[mr_hg_seg(h)];
}

static int mr_hg_in_person(int ch)
{
	return ch == MR_CH_VISIT || ch == MR_CH_MEETING_OFFLINE;
}

/* ---- preferences ---- */

/* The best channel: drawn by title among the channels the doctor is reached on. */
static int mr_hg_best_channel(struct mr_hg_rng *r, const struct mr_hist_hcp *h, int title)
{
	double w[MR_CH_COUNT] = { 0 };
	int best;

	for (int k = 0; k < MR_HG_NKINDS; k++) {
		int ch = mr_hg_kinds[k].channel;

		if (mr_hg_kind_weight(h, k) > 0)
			w[ch] = mr_hg_best_w[ch][title];
	}
	best = mr_hg_pick(r, w, MR_CH_COUNT);
	return best < 0 ? MR_CH_SMS : best;
}

void mr_hist_prefs(uint64_t seed, const struct mr_hist_hcp *h, struct mr_hist_prefs *out)
{
	struct mr_hg_rng r;
	int spec = mr_hg_spec(h->specialty), title = mr_hg_title(h->title);
	int tier = h->city_tier >= 1 && h->city_tier <= 5 ? h->city_tier : 0;

	mr_hg_seed(&r, seed, mr_hg_hash(h->id ? h->id : ""), MR_HG_S_PREFS);
	memset(out, 0, sizeof(*out));
	out->best_weekday = mr_hg_pick(&r, mr_hg_wday_w, 7);
	out->best_band = mr_hg_pick(&r, mr_hg_band_w, MR_HIST_BANDS);
	out->topics[0] = (int)mr_hg_below(&r, MR_HIST_TOPICS);
	out->topics[1] = (out->topics[0] + 1 + (int)mr_hg_below(&r, MR_HIST_TOPICS - 1)) % MR_HIST_TOPICS;
	out->responsiveness = (spec >= 0 ? mr_hg_spec_fx[spec] : 0) + mr_hg_tier_fx[tier] +
			      mr_hg_fx.person_sd * mr_hg_normal(&r);
	out->best_channel = mr_hg_best_channel(&r, h, title);
	for (int ch = 1; ch < MR_CH_COUNT; ch++) {
		out->lift[ch] = out->responsiveness + mr_hg_title_fx[title][mr_hg_in_person(ch)] +
				mr_hg_fx.taste_sd * mr_hg_normal(&r);
		if (ch == out->best_channel)
			out->lift[ch] += mr_hg_fx.best_channel;
	}
}

/* ---- the content catalogue ---- */

static void mr_hg_item(struct mr_hist_content *c, size_t i, int group, int topic, int variant)
{
	const char *prod = mr_hg_product(group);

	snprintf(c->id, sizeof(c->id), "C%05zu", i + 1);
	snprintf(c->title, sizeof(c->title), "%s｜%s：%s", *prod ? prod : "医学教育",
		 mr_hg_topics[topic].label, mr_hg_topics[topic].variants[variant]);
	c->topic = mr_hg_topics[topic].name;
	c->product = prod;
}

size_t mr_hist_catalogue(uint64_t seed, struct mr_hist_content *out, size_t cap)
{
	struct mr_hg_rng r;
	int ng = mr_hg_ngroups();
	size_t n = 0;

	mr_hg_seed(&r, seed, 0, MR_HG_S_CATALOGUE);
	for (int g = 0; g < ng; g++) {
		for (int t = 0; t < MR_HIST_TOPICS; t++) {
			int k = 2 + (int)mr_hg_below(&r, 3), v0 = (int)mr_hg_below(&r, 4);

			if (g == ng - 1 && !mr_hg_topics[t].general)
				continue;
			for (int j = 0; j < k && n < MR_HIST_CONTENT_MAX; j++, n++) {
				if (n < cap)
					mr_hg_item(&out[n], n, g, t, (v0 + j) % 4);
			}
		}
	}
	return n;
}

static int mr_hg_topic_of(const char *name)
{
	for (int t = 0; t < MR_HIST_TOPICS; t++) {
		if (strcmp(mr_hg_topics[t].name, name) == 0)
			return t;
	}
	return -1;
}

/* Loads the catalogue, its topics, and where each product group's items start. */
static void mr_hg_plan_catalogue(struct mr_hg *g)
{
	g->ncat = (int)mr_hist_catalogue(g->o->seed, g->cat, MR_HIST_CONTENT_MAX);
	for (int i = g->ncat - 1; i >= 0; i--) {
		g->cat_topic[i] = mr_hg_topic_of(g->cat[i].topic);
		for (int gi = 0; gi < g->ng; gi++) {
			if (strcmp(g->cat[i].product, mr_hg_product(gi)) == 0) {
				g->c0[gi] = i;
				g->nc[gi]++;
			}
		}
	}
}

/* ---- the calendar ---- */

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t mr_hg_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The Beijing day (days since the epoch) of a time. */
static int64_t mr_hg_local_day(int64_t us)
{
	int64_t s = us / MR_US_PER_S + MR_HG_TZ_S;

	return s >= 0 ? s / MR_HG_DAY_S : -((-s + MR_HG_DAY_S - 1) / MR_HG_DAY_S);
}

/* 0 Monday .. 6 Sunday of a Beijing day. */
static int mr_hg_weekday(int64_t day)
{
	return (int)(((day + 3) % 7 + 7) % 7);
}

/* The hour band of a time, or -1 outside 07:00-22:00 Beijing time. */
static int mr_hg_band_of(int64_t us)
{
	int64_t s = us / MR_US_PER_S + MR_HG_TZ_S;
	int h = (int)(((s % MR_HG_DAY_S) + MR_HG_DAY_S) % MR_HG_DAY_S / 3600);

	for (int b = 0; b < MR_HIST_BANDS; b++) {
		if (h >= mr_hg_bands[b].from_h && h < mr_hg_bands[b].to_h)
			return b;
	}
	return -1;
}

/* The UTC time of second sec of window day d. */
static int64_t mr_hg_time(const struct mr_hg *g, int d, int64_t sec)
{
	return ((g->day0 + d) * MR_HG_DAY_S - MR_HG_TZ_S + sec) * MR_US_PER_S;
}

static void mr_hg_plan_calendar(struct mr_hg *g)
{
	int nh = (int)(sizeof(mr_hg_holidays) / sizeof(mr_hg_holidays[0]));

	g->day0 = mr_hg_local_day(g->o->from_us);
	g->ndays = (int)(mr_hg_local_day(g->o->to_us - 1) - g->day0 + 1);
	g->cls = mr_malloc((size_t)g->ndays);
	for (int d = 0; d < g->ndays; d++) {
		int wd = mr_hg_weekday(g->day0 + d);

		g->cls[d] = wd == 5 ? MR_HG_SAT : wd == 6 ? MR_HG_SUN : MR_HG_WORKDAY;
	}
	for (int i = 0; i < nh; i++) {
		int64_t first = mr_hg_civil(mr_hg_holidays[i].y, mr_hg_holidays[i].m, mr_hg_holidays[i].d);

		for (int64_t k = 0; k < mr_hg_holidays[i].days; k++) {
			int64_t d = first + k - g->day0;

			if (d >= 0 && d < g->ndays)
				g->cls[d] = MR_HG_HOLIDAY;
		}
	}
	for (int c = 0; c < 4; c++)
		g->days_of[c] = mr_malloc((size_t)g->ndays * sizeof(int));
	for (int d = 0; d < g->ndays; d++)
		g->days_of[g->cls[d]][g->ndays_of[g->cls[d]]++] = d;
	for (int p = 0; p < MR_HG_NPROF; p++) {
		double acc = 0;

		for (int c = 0; c < 4; c++) {
			acc += mr_hg_profiles[p].day[c] * g->ndays_of[c];
			g->class_cum[p][c] = acc;
		}
		acc = 0;
		for (int b = 0; b < MR_HIST_BANDS; b++) {
			acc += mr_hg_profiles[p].band[b];
			g->band_cum[p][b] = acc;
		}
	}
}

/* An index drawn from cumulative weights cum[0..n); cum[n-1] > 0. */
static int mr_hg_pick_cum(struct mr_hg_rng *r, const double *cum, int n)
{
	double x = mr_hg_unit(r) * cum[n - 1];

	for (int i = 0; i < n - 1; i++) {
		if (x < cum[i])
			return i;
	}
	return n - 1;
}

/* A window day drawn by profile p's day weights: a class, then one of its days (uniform when none weighs). */
static int mr_hg_day(const struct mr_hg *g, struct mr_hg_rng *r, int p)
{
	int c;

	if (g->class_cum[p][3] <= 0)
		return (int)mr_hg_below(r, g->ndays);
	c = mr_hg_pick_cum(r, g->class_cum[p], 4);
	return g->days_of[c][mr_hg_below(r, g->ndays_of[c])];
}

/* A time in band b of a day drawn by profile p, inside the window (clamped after a few tries). */
static int64_t mr_hg_draw_time(const struct mr_hg *g, struct mr_hg_rng *r, int p, int b)
{
	const struct mr_hist_band *bd = &mr_hg_bands[b];
	int64_t ts = 0;

	for (int i = 0; i < MR_HG_RETRIES; i++) {
		int d = mr_hg_day(g, r, p);

		ts = mr_hg_time(g, d, bd->from_h * 3600 + mr_hg_below(r, (bd->to_h - bd->from_h) * 3600));
		if (ts >= g->o->from_us && ts < g->o->to_us)
			return ts;
	}
	return ts < g->o->from_us ? g->o->from_us : g->o->to_us - 1;
}

/* The first window day from day `from` on that is weekday wd (0 Monday) and of class cls, or -1. */
static int mr_hg_find_day(const struct mr_hg *g, int from, int wd, int cls)
{
	for (int d = from < 0 ? 0 : from; d < from + 7 && d < g->ndays; d++) {
		if (mr_hg_weekday(g->day0 + d) == wd && g->cls[d] == cls)
			return d;
	}
	return -1;
}

/* ---- reps ---- */

/* The index of field rep id, added when new. */
static int mr_hg_rep_index(struct mr_hg *g, const char *id)
{
	size_t i;

	if ((size_t)(g->nrep + 1) * 2 > g->rep_mask + 1) {
		free(g->rep_key);
		free(g->rep_val);
		g->rep_mask = g->rep_mask ? 2 * g->rep_mask + 1 : 255;
		g->rep_key = mr_calloc(g->rep_mask + 1, sizeof(*g->rep_key));
		g->rep_val = mr_calloc(g->rep_mask + 1, sizeof(*g->rep_val));
		for (int k = 0; k < g->nrep; k++) {
			i = (size_t)mr_hg_hash(g->rep[k].id) & g->rep_mask;
			while (g->rep_key[i])
				i = (i + 1) & g->rep_mask;
			g->rep_key[i] = g->rep[k].id;
			g->rep_val[i] = k;
		}
	}
	i = (size_t)mr_hg_hash(id) & g->rep_mask;
	while (g->rep_key[i]) {
		if (strcmp(g->rep_key[i], id) == 0)
			return g->rep_val[i];
		i = (i + 1) & g->rep_mask;
	}
	if (g->nrep == g->caprep) {
		g->caprep = g->caprep ? 2 * g->caprep : 64;
		g->rep = mr_realloc(g->rep, (size_t)g->caprep * sizeof(*g->rep));
	}
	memset(&g->rep[g->nrep], 0, sizeof(g->rep[0]));
	g->rep[g->nrep].id = id;
	g->rep_key[i] = id;
	g->rep_val[i] = g->nrep;
	return g->nrep++;
}

/* ---- the doctors, at a glance ---- */

/* Doctor h's volume before normalising: segment, title, level, KOL and an individual factor. */
static double mr_hg_volume(const struct mr_hg *g, const struct mr_hist_hcp *h, uint64_t key)
{
	struct mr_hg_rng r;
	int level = h->hco_level >= 1 && h->hco_level <= 3 ? h->hco_level : 0;
	double v = mr_hg_seg_volume[mr_hg_seg(h)] * mr_hg_title_volume[mr_hg_title(h->title)] *
		   mr_hg_level_volume[level];

	if (mr_hg_kol(h))
		v *= mr_hg_kol_volume;
	mr_hg_seed(&r, g->o->seed, key, MR_HG_S_VOLUME);
	return v * exp(mr_hg_volume_sd * mr_hg_normal(&r) - mr_hg_volume_sd * mr_hg_volume_sd / 2);
}

/* The share of doctor h's touches that are offline-meeting invitations. */
static double mr_hg_offline_share(const struct mr_hist_hcp *h)
{
	double all = 0, off = 0;

	for (int k = 0; k < MR_HG_NKINDS; k++) {
		double w = mr_hg_kind_weight(h, k);

		all += w;
		off += mr_hg_kinds[k].channel == MR_CH_MEETING_OFFLINE ? w : 0;
	}
	return all > 0 ? off / all : 0;
}

/* Volumes, segments, product groups and field reps of every doctor. */
static void mr_hg_plan_doctors(struct mr_hg *g)
{
	double sum = 0, years = (double)(g->o->to_us - g->o->from_us) / MR_HG_YEAR_US, scale;

	g->doc = mr_calloc(g->n ? g->n : 1, sizeof(*g->doc));
	for (size_t i = 0; i < g->n; i++) {
		const struct mr_hist_hcp *h = &g->hcps[i];
		struct mr_hg_doc *d = &g->doc[i];

		d->key = mr_hg_hash(h->id);
		d->seg = (unsigned char)mr_hg_seg(h);
		d->kol = (unsigned char)mr_hg_kol(h);
		d->groups = mr_hg_groups(mr_hg_spec(h->specialty));
		d->lambda = mr_hg_volume(g, h, d->key);
		d->rep = h->field_rep ? mr_hg_rep_index(g, h->field_rep) : -1;
		sum += d->lambda;
	}
	scale = g->n && sum > 0 ? g->touches * years * (double)g->n / sum : 0;
	for (size_t i = 0; i < g->n; i++) {
		struct mr_hg_doc *d = &g->doc[i];

		d->lambda *= scale;
		if (d->rep < 0)
			continue;
		g->rep[d->rep].invites += d->lambda * mr_hg_offline_share(&g->hcps[i]);
		for (int gi = 0; gi < g->ng - 1; gi++)
			g->rep[d->rep].groups[gi] += (int)((d->groups >> gi) & 1u);
	}
}

/* ---- meetings ---- */

static int mr_hg_meeting_topic(struct mr_hg_rng *r, int general)
{
	for (;;) {
		int t = (int)mr_hg_below(r, MR_HIST_TOPICS);

		if (!general || mr_hg_topics[t].general)
			return t;
	}
}

/* Adds a meeting at minute `at` of window day d lasting len minutes, if it fits the window. */
static void mr_hg_add_meeting(struct mr_hg *g, int ch, int group, int topic, int d, int at, int len,
			      const char *host, int *no)
{
	int64_t start = mr_hg_time(g, d, (int64_t)at * 60);
	int64_t end = start + (int64_t)len * 60 * MR_US_PER_S;
	const char *prod = mr_hg_product(group);
	struct mr_hg_meet *m;

	if (start < g->o->from_us || end > g->o->to_us)
		return;
	if (g->nmeet == g->capmeet) {
		g->capmeet = g->capmeet ? 2 * g->capmeet : 256;
		g->meet = mr_realloc(g->meet, (size_t)g->capmeet * sizeof(*g->meet));
	}
	m = &g->meet[g->nmeet++];
	memset(m, 0, sizeof(*m));
	m->group = group;
	m->topic = topic;
	m->pub.channel = ch;
	m->pub.start_us = start;
	m->pub.end_us = end;
	m->pub.topic = mr_hg_topics[topic].name;
	m->pub.product = prod;
	m->pub.host = host;
	(*no)++;
	snprintf(m->pub.title, sizeof(m->pub.title), "%s %s · %s（第 %d 期）", *prod ? prod : "医学前沿",
		 ch == MR_CH_MEETING_ONLINE ? "线上学术会" : at >= 17 * 60 ? "城市学术会" : "学术沙龙",
		 mr_hg_topics[topic].label, *no);
}

/* The national webinars: one a week per product, one a fortnight of general medical education. */
static void mr_hg_plan_online(struct mr_hg *g)
{
	struct mr_hg_rng r;

	mr_hg_seed(&r, g->o->seed, 0, MR_HG_S_MEETINGS);
	for (int gi = 0; gi < g->ng; gi++) {
		int cadence = gi == g->general ? 14 : 7, no = 0;

		g->on0[gi] = g->nmeet;
		for (int s = -mr_hg_weekday(g->day0); s < g->ndays; s += cadence) {
			int d = mr_hg_find_day(g, s, (int)mr_hg_below(&r, 4), MR_HG_WORKDAY); /* Monday to Thursday */
			int evening = mr_hg_pct(&r, 80), at = evening ? 19 * 60 + 30 * (int)mr_hg_below(&r, 3) : 12 * 60 + 10;
			int len = evening ? (mr_hg_pct(&r, 50) ? 60 : 90) : 50;
			int topic = mr_hg_meeting_topic(&r, gi == g->general);

			if (d >= 0)
				mr_hg_add_meeting(g, MR_CH_MEETING_ONLINE, gi, topic, d, at, len, NULL, &no);
		}
		g->non[gi] = g->nmeet - g->on0[gi];
	}
}

/* The product group most of the rep's doctors are promoted. */
static int mr_hg_rep_group(const struct mr_hg *g, const struct mr_hg_rep *rp)
{
	int best = g->general;

	for (int gi = 0; gi < g->ng - 1; gi++) {
		if (rp->groups[gi] > 0 && (best == g->general || rp->groups[gi] > rp->groups[best]))
			best = gi;
	}
	return best;
}

/* Each field rep's offline meetings: city meetings on weekday evenings, salons on Saturdays. */
static void mr_hg_plan_offline(struct mr_hg *g)
{
	struct mr_hg_rng r;

	mr_hg_seed(&r, g->o->seed, 1, MR_HG_S_MEETINGS);
	for (int k = 0; k < g->nrep; k++) {
		struct mr_hg_rep *rp = &g->rep[k];
		int nm = (int)(rp->invites / MR_HG_INVITEES + 0.5), group = mr_hg_rep_group(g, rp), no = 0;

		nm = nm < 1 ? 1 : nm > g->ndays / 5 + 1 ? g->ndays / 5 + 1 : nm;
		rp->m0 = g->nmeet;
		for (int j = 0; j < nm; j++) {
			int base = (int)(((double)j + mr_hg_unit(&r)) * g->ndays / nm);
			int sat = mr_hg_pct(&r, 20);
			int d = mr_hg_find_day(g, base, sat ? 5 : (int)mr_hg_below(&r, 4), sat ? MR_HG_SAT : MR_HG_WORKDAY);
			int topic = mr_hg_meeting_topic(&r, group == g->general);

			if (d >= 0)
				mr_hg_add_meeting(g, MR_CH_MEETING_OFFLINE, group, topic, d,
						  sat ? 14 * 60 : 18 * 60 + 30, sat ? 180 : 120, rp->id, &no);
		}
		rp->nm = g->nmeet - rp->m0;
	}
}

struct mr_hg_order {
	int64_t start;
	int idx;
};

static int mr_hg_order_cmp(const void *a, const void *b)
{
	const struct mr_hg_order *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Numbers the meetings by start (M0001 first) and announces them to the sink in that order. */
static int mr_hg_announce(struct mr_hg *g)
{
	struct mr_hg_order *by = mr_malloc((size_t)(g->nmeet ? g->nmeet : 1) * sizeof(*by));
	int rc = 0;

	for (int i = 0; i < g->nmeet; i++)
		by[i] = (struct mr_hg_order){ g->meet[i].pub.start_us, i };
	qsort(by, (size_t)g->nmeet, sizeof(*by), mr_hg_order_cmp);
	for (int i = 0; i < g->nmeet; i++)
		snprintf(g->meet[by[i].idx].pub.id, sizeof(g->meet[0].pub.id), "M%04d", i + 1);
	for (int i = 0; rc == 0 && g->sink->meeting && i < g->nmeet; i++) {
		const struct mr_hist_meeting *m = &g->meet[by[i].idx].pub;

		rc = g->sink->meeting(g->sink->arg, m, g->err);
		if (rc < 0 && g->err->code == 0)
			mr_err_set(g->err, rc, "the demo history's receiver failed on meeting %s", m->id);
	}
	g->st->meetings = rc == 0 ? g->nmeet : 0;
	free(by);
	return rc < 0 ? rc : 0;
}

/* ---- campaigns ---- */

/* Campaigns (product group × 91-day period) and their sends, a wave every fortnight. */
static void mr_hg_plan_campaigns(struct mr_hg *g)
{
	int nper = (g->ndays + MR_HG_PERIOD_DAYS - 1) / MR_HG_PERIOD_DAYS;
	int per_wave = MR_HG_PERIOD_DAYS / MR_HG_WAVE_DAYS + 1;
	struct mr_hg_rng r;

	g->ncampaign = nper * g->ng;
	g->campaign = mr_calloc((size_t)g->ncampaign, sizeof(*g->campaign));
	for (int c = 0; c < g->ncampaign; c++)
		snprintf(g->campaign[c], sizeof(g->campaign[c]), "K%02d", c + 1);
	g->wave = mr_calloc((size_t)g->ncampaign * (size_t)per_wave, sizeof(*g->wave));
	mr_hg_seed(&r, g->o->seed, 0, MR_HG_S_WAVES);
	for (int gi = 0; gi < g->ng; gi++) {
		g->w0[gi] = g->nwave;
		for (int p = 0; p < nper; p++) {
			for (int s = p * MR_HG_PERIOD_DAYS; s < (p + 1) * MR_HG_PERIOD_DAYS; s += MR_HG_WAVE_DAYS) {
				int d = mr_hg_find_day(g, s, (int)mr_hg_below(&r, 5), MR_HG_WORKDAY);
				int b = mr_hg_pick_cum(&r, g->band_cum[MR_HG_SEND], MR_HIST_BANDS);
				const struct mr_hist_band *bd = &mr_hg_bands[b];
				int64_t at = bd->from_h * 3600 + 1800 * mr_hg_below(&r, 2 * (bd->to_h - bd->from_h));
				int64_t ts = d < 0 ? 0 : mr_hg_time(g, d, at); /* sends go out on the half hour */

				if (ts < g->o->from_us || ts >= g->o->to_us)
					continue;
				g->wave[g->nwave].ts = ts;
				g->wave[g->nwave++].campaign = p * g->ng + gi;
			}
		}
		g->nw[gi] = g->nwave - g->w0[gi];
	}
}

/* ---- a doctor's plan ---- */

/* A product group for one touch: usually one of the doctor's products, else general. */
static int mr_hg_group(const struct mr_hg *g, struct mr_hg_rng *r, unsigned groups)
{
	int n = __builtin_popcount(groups), k;

	if (n == 0 || mr_hg_pct(r, 25))
		return g->general;
	k = (int)mr_hg_below(r, n);
	for (int gi = 0; gi < g->ng - 1; gi++) {
		if ((groups >> gi) & 1) {
			if (k-- == 0)
				return gi;
		}
	}
	return g->general;
}

static int mr_hg_content(const struct mr_hg *g, struct mr_hg_rng *r, int group)
{
	return g->nc[group] ? g->c0[group] + (int)mr_hg_below(r, g->nc[group]) : -1;
}

/* Whether the doctor's touches before the last one already invite them to meeting m. */
static int mr_hg_invited(const struct mr_hg *g, int m)
{
	for (int i = 0; i < g->nt - 1; i++) {
		if (g->t[i].meeting == m)
			return 1;
	}
	return 0;
}

/* A meeting of [m0, m0+nm) the doctor is not yet invited to, or -1. */
static int mr_hg_pick_meeting(const struct mr_hg *g, struct mr_hg_rng *r, int m0, int nm)
{
	for (int i = 0; nm > 0 && i < MR_HG_RETRIES; i++) {
		int m = m0 + (int)mr_hg_below(r, nm);

		if (!mr_hg_invited(g, m))
			return m;
	}
	return -1;
}

static int mr_hg_place_meeting(const struct mr_hg *g, struct mr_hg_rng *r, const struct mr_hg_doc *d,
			       struct mr_hg_touch *t)
{
	const struct mr_hg_kind *k = &mr_hg_kinds[t->kind];
	int gi = mr_hg_group(g, r, d->groups);

	if (k->channel == MR_CH_MEETING_OFFLINE) {
		t->meeting = d->rep < 0 ? -1 : mr_hg_pick_meeting(g, r, g->rep[d->rep].m0, g->rep[d->rep].nm);
	} else {
		if (g->non[gi] == 0)
			gi = g->general;
		t->meeting = mr_hg_pick_meeting(g, r, g->on0[gi], g->non[gi]);
	}
	if (t->meeting < 0)
		return 0;
	t->ts = g->meet[t->meeting].pub.start_us;
	if (k->who == MR_HG_MKT)
		t->campaign = (int)((mr_hg_local_day(t->ts) - g->day0) / MR_HG_PERIOD_DAYS) * g->ng +
			      g->meet[t->meeting].group;
	return 1;
}

static int mr_hg_place_wave(const struct mr_hg *g, struct mr_hg_rng *r, const struct mr_hg_doc *d,
			    struct mr_hg_touch *t)
{
	const struct mr_hg_kind *k = &mr_hg_kinds[t->kind];
	int gi = mr_hg_group(g, r, d->groups);
	const struct mr_hg_wave *w;

	if (g->nw[gi] == 0)
		gi = g->general;
	if (g->nw[gi] == 0)
		return 0;
	w = &g->wave[g->w0[gi] + mr_hg_below(r, g->nw[gi])];
	t->ts = w->ts + mr_hg_below(r, k->channel == MR_CH_EMAIL ? 600 : 180) * MR_US_PER_S;
	if (t->ts >= g->o->to_us)
		t->ts = g->o->to_us - 1;
	t->campaign = w->campaign;
	if (mr_hg_pct(r, k->content_pct))
		t->content = mr_hg_content(g, r, gi);
	return 1;
}

static int mr_hg_place_drawn(const struct mr_hg *g, struct mr_hg_rng *r, const struct mr_hg_doc *d,
			     const struct mr_hist_prefs *p, struct mr_hg_touch *t)
{
	const struct mr_hg_kind *k = &mr_hg_kinds[t->kind];
	int b = mr_hg_pick_cum(r, g->band_cum[k->when], MR_HIST_BANDS);
	int gi = mr_hg_group(g, r, d->groups);

	if (k->when == MR_HG_VIEW && mr_hg_pct(r, mr_hg_fx.view_in_band_pct))
		b = p->best_band;
	t->ts = mr_hg_draw_time(g, r, k->when, b);
	if (mr_hg_pct(r, k->content_pct))
		t->content = mr_hg_content(g, r, gi);
	if (k->who == MR_HG_MKT)
		t->campaign = (int)((mr_hg_local_day(t->ts) - g->day0) / MR_HG_PERIOD_DAYS) * g->ng + gi;
	return 1;
}

/* The touch's score on the logit scale: the doctor's lift on the channel, plus timing and topic. */
static float mr_hg_eta(const struct mr_hg *g, const struct mr_hist_prefs *p, const struct mr_hg_touch *t)
{
	double eta = p->lift[mr_hg_kinds[t->kind].channel];
	int topic = -1;

	if (mr_hg_band_of(t->ts) == p->best_band)
		eta += mr_hg_fx.band;
	if (mr_hg_weekday(mr_hg_local_day(t->ts)) == p->best_weekday)
		eta += mr_hg_fx.weekday;
	if (t->content >= 0)
		topic = g->cat_topic[t->content];
	else if (t->meeting >= 0)
		topic = g->meet[t->meeting].topic;
	if (topic >= 0 && (topic == p->topics[0] || topic == p->topics[1]))
		eta += mr_hg_fx.topic;
	return (float)eta;
}

/* The doctor's kinds of touch that can happen in this window, weighted; 0 when none can. */
static int mr_hg_kind_mix(const struct mr_hg *g, size_t i, double *w)
{
	const struct mr_hg_doc *d = &g->doc[i];
	int any = 0;

	for (int k = 0; k < MR_HG_NKINDS; k++) {
		const struct mr_hg_kind *kd = &mr_hg_kinds[k];

		w[k] = mr_hg_kind_weight(&g->hcps[i], k);
		if (kd->channel == MR_CH_MEETING_OFFLINE && (d->rep < 0 || g->rep[d->rep].nm == 0))
			w[k] = 0;
		if (kd->channel == MR_CH_MEETING_ONLINE && g->non[g->general] == 0)
			w[k] = 0;
		if (kd->when == MR_HG_WAVE && g->nw[g->general] == 0)
			w[k] = 0;
		any |= w[k] > 0;
	}
	return any;
}

static struct mr_hg_touch *mr_hg_push(struct mr_hg *g)
{
	struct mr_hg_touch *t;

	if (g->nt == g->capt) {
		g->capt = g->capt ? 2 * g->capt : 256;
		g->t = mr_realloc(g->t, (size_t)g->capt * sizeof(*g->t));
	}
	t = &g->t[g->nt++];
	t->meeting = t->content = t->campaign = -1;
	return t;
}

/* Plans doctor i's touches into g->t, unsorted; the same doctor always gets the same plan. */
static void mr_hg_plan(struct mr_hg *g, size_t i, const struct mr_hist_prefs *p)
{
	const struct mr_hg_doc *d = &g->doc[i];
	double w[MR_HG_NKINDS];
	struct mr_hg_rng r;
	int64_t n;

	g->nt = 0;
	mr_hg_seed(&r, g->o->seed, d->key, MR_HG_S_PLAN);
	n = (int64_t)(d->lambda + mr_hg_unit(&r));
	if (!mr_hg_kind_mix(g, i, w))
		return;
	for (int k = 1; k < MR_HG_NKINDS; k++)
		w[k] += w[k - 1];
	for (int64_t k = 0; k < n; k++) {
		struct mr_hg_touch *t = mr_hg_push(g);
		int ok;

		t->seq = (int)k;
		t->kind = mr_hg_pick_cum(&r, w, MR_HG_NKINDS);
		if (mr_hg_kinds[t->kind].when == MR_HG_MEETING)
			ok = mr_hg_place_meeting(g, &r, d, t);
		else if (mr_hg_kinds[t->kind].when == MR_HG_WAVE)
			ok = mr_hg_place_wave(g, &r, d, t);
		else
			ok = mr_hg_place_drawn(g, &r, d, p, t);
		if (!ok) {
			g->nt--;
			continue;
		}
		t->eta = mr_hg_eta(g, p, t);
	}
}

/* ---- calibration ---- */

static int mr_hg_bin(double eta)
{
	int b = (int)floor((eta + 8.0) * MR_HG_BIN_WIDTH_INV);

	return b < 0 ? 0 : b >= MR_HG_BINS ? MR_HG_BINS - 1 : b;
}

/* The threshold at which the mean probability of passing it, over ch's histogram, is target. */
static double mr_hg_solve(const struct mr_hg *g, int ch, double target)
{
	double lo = -40, hi = 40;

	for (int it = 0; it < 60; it++) {
		double mid = (lo + hi) / 2, s = 0;

		for (int b = 0; b < MR_HG_BINS; b++) {
			double eta = -8.0 + (b + 0.5) / MR_HG_BIN_WIDTH_INV;

			if (g->hist[ch][b])
				s += (double)g->hist[ch][b] / (1.0 + exp(mid - eta));
		}
		if (s > target * (double)g->hist_n[ch])
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

/* First pass: every doctor's touches into the histograms, then the thresholds. */
static void mr_hg_calibrate(struct mr_hg *g)
{
	struct mr_hist_prefs p;

	for (size_t i = 0; i < g->n; i++) {
		mr_hist_prefs(g->o->seed, &g->hcps[i], &p);
		mr_hg_plan(g, i, &p);
		for (int j = 0; j < g->nt; j++) {
			int ch = mr_hg_kinds[g->t[j].kind].channel;

			g->hist[ch][mr_hg_bin(g->t[j].eta)]++;
			g->hist_n[ch]++;
		}
	}
	for (int ch = 1; ch < MR_CH_COUNT; ch++) {
		const struct mr_hg_rate *rt = &mr_hg_rates[ch];
		double base = rt->delivered > 0 ? rt->delivered : 1;

		for (int k = rt->delivered > 0 ? 2 : 1; k < mr_outcome_count(ch); k++)
			g->theta[ch][k] = g->hist_n[ch] ? mr_hg_solve(g, ch, rt->reach[k] / base) : 0;
	}
}

/* ---- events ---- */

/* The rung a touch reaches: delivery first where it is technical, then the ordinal logit (thresholds theta). */
static int mr_hg_outcome_at(const double theta[MR_CH_COUNT][MR_EVENT_RUNGS_MAX], struct mr_hg_rng *r, int ch,
			    double eta)
{
	const struct mr_hg_rate *rt = &mr_hg_rates[ch];
	int n = mr_outcome_count(ch), k = 1, rung = 0;
	double u, z;

	if (rt->delivered > 0) {
		if (mr_hg_unit(r) >= rt->delivered)
			return 0;
		rung = k++;
	}
	u = mr_hg_open(r);
	z = eta + log(u / (1.0 - u));
	for (; k < n && z > theta[ch][k]; k++)
		rung = k;
	return rung;
}

static int mr_hg_outcome(const struct mr_hg *g, struct mr_hg_rng *r, int ch, double eta)
{
	return mr_hg_outcome_at(g->theta, r, ch, eta);
}

static int64_t mr_hg_duration(const struct mr_hg *g, struct mr_hg_rng *r, const struct mr_hg_touch *t,
			      int ch, int rung)
{
	const int *dur = mr_hg_rates[ch].dur[rung];
	int64_t v = dur[0] + mr_hg_below(r, dur[1] + 1);

	if (dur[0] == 0 && dur[1] == 0)
		return -1;
	if (t->meeting >= 0) {
		const struct mr_hist_meeting *m = &g->meet[t->meeting].pub;

		return (m->end_us - m->start_us) / MR_US_PER_S * v / 100;
	}
	return v;
}

static int mr_hg_touch_cmp(const void *a, const void *b)
{
	const struct mr_hg_touch *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Sorts touches by time: insertion for the usual few dozen, qsort past that. */
static void mr_hg_sort(struct mr_hg_touch *t, int n)
{
	if (n > 64) {
		qsort(t, (size_t)n, sizeof(*t), mr_hg_touch_cmp);
		return;
	}
	for (int i = 1; i < n; i++) {
		struct mr_hg_touch x = t[i];
		int j = i;

		for (; j > 0 && mr_hg_touch_cmp(&t[j - 1], &x) > 0; j--)
			t[j] = t[j - 1];
		t[j] = x;
	}
}

/* The next event id: the seed's prefix and a ten-digit counter, into g->idpre. */
static const char *mr_hg_next_id(struct mr_hg *g)
{
	int64_t v = ++g->evseq;
	char *p = g->idpre + g->idlen;
	int w = 10;

	for (int64_t x = v / 10000000000; x > 0; x /= 10)
		w++;
	for (int i = w - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	p[w] = '\0';
	return g->idpre;
}

static void mr_hg_id_prefix(struct mr_hg *g)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	char rev[16];
	int n = 0;
	uint64_t s = g->o->seed;

	do {
		rev[n++] = digits[s % 36];
		s /= 36;
	} while (s);
	g->idpre[g->idlen++] = 'h';
	while (n > 0)
		g->idpre[g->idlen++] = rev[--n];
	g->idpre[g->idlen++] = '-';
}

/* Sends touch t of doctor h with its outcome. */
static int mr_hg_send(struct mr_hg *g, struct mr_hg_rng *r, const struct mr_hist_hcp *h,
		      const struct mr_hg_touch *t)
{
	const struct mr_hg_kind *k = &mr_hg_kinds[t->kind];
	const char *rep[] = { [MR_HG_INSIDE] = h->inside_rep, [MR_HG_FIELD] = h->field_rep,
			      [MR_HG_MSL] = h->msl, [MR_HG_MKT] = NULL };
	struct mr_event ev;
	int rc;

	mr_event_init(&ev);
	ev.id = mr_hg_next_id(g);
	ev.ts = t->ts;
	ev.hcp = h->id;
	ev.channel = k->channel;
	ev.type = k->type;
	ev.outcome = mr_hg_outcome(g, r, k->channel, t->eta);
	ev.rep = rep[k->who];
	ev.content = t->content >= 0 ? g->cat[t->content].id : NULL;
	ev.campaign = t->campaign >= 0 ? g->campaign[t->campaign] : NULL;
	ev.meeting = t->meeting >= 0 ? g->meet[t->meeting].pub.id : NULL;
	ev.duration_s = mr_hg_duration(g, r, t, k->channel, ev.outcome);
	ev.source = "demo";
	rc = g->sink->event(g->sink->arg, &ev, g->err);
	if (rc < 0) {
		if (g->err->code == 0)
			mr_err_set(g->err, rc, "the demo history's receiver failed on event %s", ev.id);
		return rc;
	}
	g->st->events++;
	g->st->by_channel[k->channel][ev.outcome]++;
	return 0;
}

/* Second pass: each doctor's touches again, in time order, with outcomes. */
static int mr_hg_emit(struct mr_hg *g)
{
	struct mr_hist_prefs p;
	struct mr_hg_rng r;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < g->n; i++) {
		mr_hist_prefs(g->o->seed, &g->hcps[i], &p);
		mr_hg_plan(g, i, &p);
		mr_hg_sort(g->t, g->nt);
		mr_hg_seed(&r, g->o->seed, g->doc[i].key, MR_HG_S_OUTCOME);
		for (int j = 0; rc == 0 && j < g->nt; j++)
			rc = mr_hg_send(g, &r, &g->hcps[i], &g->t[j]);
	}
	return rc;
}

/* ---- the whole ---- */

static int mr_hg_check_hcp(const struct mr_hist_hcp *h, size_t i, struct mr_err *err)
{
	if (!h->id || !*h->id || strlen(h->id) >= MR_EVENT_REF_MAX)
		return mr_err_field(err, MR_EINVAL, "id", "doctor %zu: the id must be 1 to %d bytes", i,
				    MR_EVENT_REF_MAX - 1);
	if (h->city_tier < 0 || h->city_tier > 5)
		return mr_err_field(err, MR_EINVAL, "city_tier",
				    "doctor %s: city_tier must be 1 to 5, or 0 when unknown", h->id);
	if (h->hco_level < 0 || h->hco_level > 3)
		return mr_err_field(err, MR_EINVAL, "hco_level",
				    "doctor %s: hco_level must be 1 to 3, or 0 when unknown", h->id);
	return 0;
}

static int mr_hg_check(const struct mr_hist_opts *o, const struct mr_hist_hcp *hcps, size_t n,
		       const struct mr_hist_sink *sink, struct mr_err *err)
{
	int rc = 0;

	if (!o || !sink || !sink->event || (n && !hcps))
		return mr_err_set(err, MR_EINVAL, "demo history: options, doctors and sink->event are required");
	if (n > MR_HIST_MAX_HCPS)
		return mr_err_field(err, MR_EINVAL, "hcps", "at most %d doctors", MR_HIST_MAX_HCPS);
	if (o->from_us < MR_EVENT_TS_MIN)
		return mr_err_field(err, MR_EINVAL, "from_us", "the window must start after 2000-01-01");
	if (o->to_us <= o->from_us)
		return mr_err_field(err, MR_EINVAL, "to_us", "the window must end after it starts");
	if ((o->to_us - o->from_us) / MR_US_PER_S > (int64_t)MR_HIST_MAX_DAYS * MR_HG_DAY_S)
		return mr_err_field(err, MR_EINVAL, "to_us", "the window is at most %d days", MR_HIST_MAX_DAYS);
	if (!(o->touches_per_year >= 0 && o->touches_per_year <= MR_HIST_MAX_TOUCHES))
		return mr_err_field(err, MR_EINVAL, "touches_per_year",
				    "touches_per_year must be 0 (for %d) to %d", MR_HIST_DEFAULT_TOUCHES,
				    MR_HIST_MAX_TOUCHES);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = mr_hg_check_hcp(&hcps[i], i, err);
	return rc;
}

static void mr_hg_free(struct mr_hg *g)
{
	free(g->cls);
	for (int c = 0; c < 4; c++)
		free(g->days_of[c]);
	free(g->doc);
	free(g->rep);
	free(g->rep_key);
	free(g->rep_val);
	free(g->meet);
	free(g->wave);
	free(g->campaign);
	free(g->t);
	free(g);
}

/* The generator's state for o and hcps with every plan made that the doctors' touches draw on. */
static struct mr_hg *mr_hg_new(const struct mr_hist_opts *o, const struct mr_hist_hcp *hcps, size_t n,
			       const struct mr_hist_sink *sink, struct mr_hist_stats *st, struct mr_err *err)
{
	struct mr_hg *g = mr_calloc(1, sizeof(*g));

	g->o = o;
	g->hcps = hcps;
	g->n = n;
	g->sink = sink;
	g->st = st;
	g->err = err;
	g->touches = o->touches_per_year > 0 ? o->touches_per_year : MR_HIST_DEFAULT_TOUCHES;
	g->ng = mr_hg_ngroups();
	g->general = g->ng - 1;
	mr_hg_id_prefix(g);
	mr_hg_plan_calendar(g);
	mr_hg_plan_catalogue(g);
	mr_hg_plan_doctors(g);
	mr_hg_plan_online(g);
	mr_hg_plan_offline(g);
	mr_hg_plan_campaigns(g);
	return g;
}

/* ---- the world answering touches it did not plan ---- */

struct mr_hist_world {
	double theta[MR_CH_COUNT][MR_EVENT_RUNGS_MAX];
};

static int mr_hg_nothing(void *arg, const struct mr_event *ev, struct mr_err *err)
{
	(void)arg;
	(void)ev;
	(void)err;
	return 0;
}

int mr_hist_world_new(const struct mr_hist_opts *o, const struct mr_hist_hcp *hcps, size_t n,
		      struct mr_hist_world **out, struct mr_err *err)
{
	static const struct mr_hist_sink none = { NULL, NULL, mr_hg_nothing };
	struct mr_hist_stats st;
	struct mr_hg *g;
	int rc;

	*out = NULL;
	memset(&st, 0, sizeof(st));
	rc = mr_hg_check(o, hcps, n, &none, err);
	if (rc < 0)
		return rc;
	g = mr_hg_new(o, hcps, n, &none, &st, err);
	mr_hg_calibrate(g);
	*out = mr_calloc(1, sizeof(**out));
	memcpy((*out)->theta, g->theta, sizeof(g->theta));
	mr_hg_free(g);
	return 0;
}

void mr_hist_world_free(struct mr_hist_world *w)
{
	free(w);
}

int mr_hist_topic_index(const char *name)
{
	return name ? mr_hg_topic_of(name) : -1;
}

int mr_hist_world_rung(const struct mr_hist_world *w, const struct mr_hist_prefs *p, int channel, int64_t ts,
		       int topic, uint64_t key)
{
	double eta = p->lift[channel];
	struct mr_hg_rng r;

	if (mr_hg_band_of(ts) == p->best_band)
		eta += mr_hg_fx.band;
	if (mr_hg_weekday(mr_hg_local_day(ts)) == p->best_weekday)
		eta += mr_hg_fx.weekday;
	if (topic >= 0 && (topic == p->topics[0] || topic == p->topics[1]))
		eta += mr_hg_fx.topic;
	mr_hg_seed(&r, 0, key, MR_HG_S_OUTCOME);
	return mr_hg_outcome_at(w->theta, &r, channel, eta);
}

int mr_hist_generate(const struct mr_hist_opts *o, const struct mr_hist_hcp *hcps, size_t n,
		     const struct mr_hist_sink *sink, struct mr_hist_stats *st, struct mr_err *err)
{
	struct mr_hist_stats none;
	struct mr_hg *g;
	int rc;

	if (!st)
		st = &none;
	memset(st, 0, sizeof(*st));
	rc = mr_hg_check(o, hcps, n, sink, err);
	if (rc < 0)
		return rc;
	g = mr_hg_new(o, hcps, n, sink, st, err);
	rc = mr_hg_announce(g);
	if (rc == 0) {
		mr_hg_calibrate(g);
		rc = mr_hg_emit(g);
	}
	mr_hg_free(g);
	return rc;
}
