/*
 * KPIs over the in-memory projection: the outcome funnels of every channel
 * (phone calls → answered → successful → effective, messages sent →
 * delivered → read → responded, meetings invited → registered → attended,
 * visits, content views), their rates, and reach (doctors targeted,
 * reached, coverage, frequency), over a time window, grouped by one or two
 * dimensions: an attribute of the doctor (city tier, hospital level,
 * region, province, specialty, title), the rep who did the touch (the rep,
 * or their type: field versus inside) or the time (month, ISO week, in
 * Asia/Shanghai). Definitions: ../../docs/kpis.md.
 *
 * Nothing is sampled and nothing is read from the database: one pass over
 * the HCP records in the caller's scope (split over two threads), a binary
 * search into each record's time-ordered events for the window's start
 * (the event columns of analytics/kpistore.h), and counters in flat
 * arrays indexed by group code. An event counts for
 * the doctor its record survives in (a record merged into another counts
 * for the survivor, with the survivor's attributes).
 *
 * The projection's parts (engine/hcpdir.h, evindex.h, profile.h) must be
 * loaded; mr_kpi_compute reads them under their read locks.
 */
#ifndef MR_ANALYTICS_KPI_H
#define MR_ANALYTICS_KPI_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "event/event.h"
#include "md/md.h"

struct mr_hcpdir;
struct mr_evindex;
struct mr_profile;

/* The dimensions a KPI query may group by. */
enum mr_kpi_dim {
	MR_KD_CITY_TIER,
	MR_KD_HCO_LEVEL,
	MR_KD_REGION,
	MR_KD_PROVINCE,
	MR_KD_SPECIALTY,
	MR_KD_TITLE,
	MR_KD_REP_TYPE,
	MR_KD_REP,
	MR_KD_MONTH,
	MR_KD_WEEK,
	MR_KD_COUNT
};

enum {
	MR_KPI_MAX_DIMS = 2,
	MR_KPI_MAX_GROUPS = 200000,       /* groups a query may open (→ 400 beyond) */
	MR_KPI_MAX_WINDOW_DAYS = 3653,    /* ten years */
	MR_KPI_ZONE_S = 8 * 3600,         /* months and weeks are Asia/Shanghai's (UTC+8, no DST) */
	MR_KPI_RUNGS = 4,                 /* counters per channel: one per rung */
};

/* The dimension named ("hco.city_tier", "rep.type", "month", ...), or -1. */
int mr_kpi_dim_parse(const char *name);
const char *mr_kpi_dim_name(int dim);

/* What to compute. */
struct mr_kpi_query {
	int64_t from, to;        /* µs: events with from <= ts < to; targets as aligned at to */
	int dims[MR_KPI_MAX_DIMS];
	int ndims;               /* 0: one total */
	unsigned channels;       /* a bit per enum mr_channel; 0: all */
	int threads;             /* 0: as many as pay (at most 2) */
};

/*
 * The counters of one group. ev[ch][rung] counts events of channel ch
 * whose outcome is exactly that rung (the KPIs sum the rungs at and above
 * one); the reach counts are distinct doctors.
 */
struct mr_kpi_counts {
	uint32_t ev[MR_CH_COUNT][MR_KPI_RUNGS];
	uint32_t targeted;       /* live doctors in scope with an alignment in force at `to` */
	uint32_t reached;        /* doctors with at least one event that reached them */
	uint32_t covered;        /* reached and targeted */
};

/* One group: its key (a value per dimension; NULL: none, e.g. an event without a rep). */
struct mr_kpi_group {
	const char *key[MR_KPI_MAX_DIMS];
	struct mr_kpi_counts c;
};

/* The answer; owns its memory (mr_kpi_result_release). */
struct mr_kpi_result {
	struct mr_kpi_query q;
	struct mr_kpi_group *groups;   /* in key order (values ascending, none last; time in order) */
	uint32_t ngroups;
	struct mr_kpi_counts total;
	int64_t took_us;
	char **keys[MR_KPI_MAX_DIMS];  /* the keys' text by code, per dimension (owned) */
	uint32_t nkeys[MR_KPI_MAX_DIMS];
};

struct mr_kpistore;

/* The projection to read: the directory, the profile, and the events (the store's columns of ev's lists). */
struct mr_kpi_src {
	struct mr_hcpdir *dir;
	struct mr_evindex *ev;
	struct mr_profile *prof;
	struct mr_kpistore *store;   /* analytics/kpistore.h, following ev */
};

/*
 * Computes q for the doctors in scope s into *res (released by the caller
 * even on failure). MR_EUNAVAIL when a part of the projection is not
 * loaded; MR_EINVAL (field "group_by") when the dimensions would open more
 * than MR_KPI_MAX_GROUPS groups.
 */
int mr_kpi_compute(const struct mr_kpi_src *src, const struct mr_kpi_query *q,
		   const struct mr_scope *s, struct mr_kpi_result *res, struct mr_err *err);
void mr_kpi_result_release(struct mr_kpi_result *res);

/*
 * The KPIs of c as a JSON object: a member per channel of q (phone,
 * wechat, wecom, meeting_online, meeting_offline, visits, content, email,
 * sms) with its counts and rates (null when the denominator is 0), and
 * reach. A new reference.
 */
json_t *mr_kpi_counts_json(const struct mr_kpi_counts *c, unsigned channels);
/* The whole answer: {"group_by", "groups":[{"key":{...}, ...}], "total"}. A new reference. */
json_t *mr_kpi_result_json(const struct mr_kpi_result *res);

/* Month and ISO-week keys of a time (µs) in Asia/Shanghai: "2026-03", "2026-W09". */
void mr_kpi_month_key(int64_t us, char *out, size_t n);
void mr_kpi_week_key(int64_t us, char *out, size_t n);

#endif
