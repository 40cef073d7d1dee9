/*
 * The demo event history: a seeded, reproducible year (or any window) of
 * interaction events for the doctors of a demo world (world.h), so a fresh
 * install has KPIs, timelines and a recommendation engine with something
 * real to learn. `medreach demo` passes it the world's doctors as it loaded
 * them and sends the events to the event log; docs/demo-history.md tells
 * the story, history.c's top comment how it is computed.
 *
 * Three things make it believable:
 *   - rates: every channel lands on the industry's figures over the whole
 *     history (phone answered 60 % of calls, successful 80 % of answered,
 *     effective 85 % of successful; WeChat response 27 %; online-meeting
 *     participation 30 %; the others in history.c's rate table);
 *   - hidden preferences: each doctor has a best channel, weekday and hour
 *     band, two favourite content topics and a responsiveness
 *     (mr_hist_prefs), stable for a seed, and they move that doctor's
 *     outcomes while the population averages stay on the targets;
 *   - timing and volume: Beijing working hours, few weekend calls, visits on
 *     weekdays, meetings in the evening, quiet Spring Festival and National
 *     Day weeks; KOLs touched more, inside-owned doctors by phone and
 *     WeChat, field-owned doctors by visits, each doctor only on channels
 *     they have an identity for, by reps actually aligned to them.
 *
 * Memory: the caller owns the doctors, the options and every output
 * struct; strings handed to the sink are valid for that call only.
 */
#ifndef MR_DEMO_HISTORY_H
#define MR_DEMO_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "event/event.h"

enum {
	MR_HIST_TOPICS = 8,            /* content and meeting topics */
	MR_HIST_BANDS = 6,             /* hour bands of the day, Beijing time */
	MR_HIST_FAVOURITES = 2,        /* favourite topics per doctor */
	MR_HIST_CONTENT_MAX = 160,     /* items a catalogue can hold */
	MR_HIST_MAX_HCPS = 5000000,
	MR_HIST_MAX_DAYS = 3660,       /* the longest window: ten years */
	MR_HIST_MAX_TOUCHES = 1000,    /* touches_per_year at most */
	MR_HIST_DEFAULT_TOUCHES = 28,  /* touches_per_year when 0 is passed */
};

/* One doctor of the world, as the caller loaded it. Strings are borrowed for the call. */
struct mr_hist_hcp {
	const char *id;          /* external id, "D0000001": required, 1 to 63 bytes */
	const char *specialty;   /* endocrinology, cardiology, ... as demo/data.c spells them; NULL = unknown */
	const char *title;       /* resident, attending, assoc_chief, chief; NULL = unknown */
	int city_tier;           /* 1..5 of the doctor's hospital, 0 = unknown */
	int hco_level;           /* 1..3, 0 = unknown */
	const char *field_rep;   /* external ids of the reps aligned now (field_owner, */
	const char *inside_rep;  /*   inside_owner, msl), or NULL */
	const char *msl;
	int has_wechat, has_wecom, has_email; /* identities the doctor has (every doctor has a mobile) */
};

struct mr_hist_opts {
	uint64_t seed;            /* the same seed, doctors and options give the same events, byte for byte */
	int64_t from_us, to_us;   /* the window [from_us, to_us), at most MR_HIST_MAX_DAYS long, after 2000 */
	double touches_per_year;  /* average touches per doctor per year; 0 for MR_HIST_DEFAULT_TOUCHES */
};

/* A hour band of the day in Beijing time: [from_h, to_h). */
struct mr_hist_band {
	const char *name;         /* early, morning, noon, afternoon, after_work, evening */
	int from_h, to_h;
};

/* A content item the history refers to (the content master data: status approved). */
struct mr_hist_content {
	char id[8];               /* "C00001" */
	char title[128];          /* Chinese, with the product when it has one */
	const char *topic;        /* a topic name (mr_hist_topic) */
	const char *product;      /* a product id of demo/data.c, or "" for general medical education */
};

/* A meeting the history invites doctors to; every meeting event names one. */
struct mr_hist_meeting {
	char id[16];              /* "M0001", numbered in order of start */
	char title[160];
	int channel;              /* MR_CH_MEETING_ONLINE or MR_CH_MEETING_OFFLINE */
	int64_t start_us, end_us; /* inside the window */
	const char *topic;        /* a topic name */
	const char *product;      /* a product id, or "" */
	const char *host;         /* offline: the field rep who holds it; online: NULL (a national webinar) */
};

struct mr_hist_sink {
	void *arg;
	/* Optional (NULL to skip): each meeting, in id order, before any event. */
	int (*meeting)(void *arg, const struct mr_hist_meeting *m, struct mr_err *err);
	/* Required: each event; ev and its strings are valid for this call only. */
	int (*event)(void *arg, const struct mr_event *ev, struct mr_err *err);
};

struct mr_hist_stats {
	int64_t events;
	int64_t meetings;
	int64_t by_channel[MR_CH_COUNT][MR_EVENT_RUNGS_MAX]; /* events by channel and the rung they reached */
};

/*
 * A doctor's hidden preferences: what a recommendation engine should find.
 * Lifts are on the logit scale of the outcome model (history.c): +1 roughly
 * doubles the odds of reaching the next rung.
 */
struct mr_hist_prefs {
	int best_channel;             /* enum mr_channel, one the doctor is reached on */
	int best_weekday;             /* 0 Monday .. 6 Sunday */
	int best_band;                /* index of mr_hist_band */
	int topics[MR_HIST_FAVOURITES]; /* favourite topics, indices of mr_hist_topic */
	double responsiveness;        /* specialty + city tier + the individual factor, every channel */
	double lift[MR_CH_COUNT];     /* everything per channel: responsiveness, title, taste, best channel */
};

/* Topic i (0..MR_HIST_TOPICS-1) by name ("patient_data", "guidelines", ...), or NULL. */
const char *mr_hist_topic(int i);
/* Band i (0..MR_HIST_BANDS-1), or NULL. */
const struct mr_hist_band *mr_hist_band(int i);

/*
 * Fills out[0..cap) with the content catalogue of seed and returns how many
 * items it has (at most MR_HIST_CONTENT_MAX; pass cap 0 to count): ids
 * C00001…, every topic for every product and general items, titles
 * varying with the seed. The same seed gives the same catalogue.
 */
size_t mr_hist_catalogue(uint64_t seed, struct mr_hist_content *out, size_t cap);

/*
 * The hidden preferences of doctor h: a pure function of seed and h's
 * fields (not of the other doctors or of the window). The best channel is
 * one the history reaches h on, given h's reps and identities.
 */
void mr_hist_prefs(uint64_t seed, const struct mr_hist_hcp *h, struct mr_hist_prefs *out);

/*
 * Emits the history of hcps[0..n) into sink: first every meeting (when
 * sink->meeting is set), then the events doctor by doctor in the order
 * given, each doctor's in time order. Event ids are "h<seed in base 36>-"
 * and a ten-digit counter; source "demo". MR_EINVAL, with err->field, for
 * options or a doctor out of range (nothing emitted). Stops at the first
 * negative code a sink callback returns and returns it; st (may be NULL)
 * counts what was sent until then. 35,000 doctors × a year (about a million
 * events) take a fraction of a second.
 */
int mr_hist_generate(const struct mr_hist_opts *o, const struct mr_hist_hcp *hcps, size_t n,
		     const struct mr_hist_sink *sink, struct mr_hist_stats *st, struct mr_err *err);

/*
 * The world answering touches the history did not plan — a simulation of
 * what a policy's suggestions would have met (`medreach nba simulate`): the
 * history's outcome model with its thresholds calibrated as
 * mr_hist_generate calibrates them for o and hcps (the doctors' planned
 * touches over o's window), so a touch like the history's lands on the same
 * rates. MR_EINVAL as mr_hist_generate for bad options or doctors.
 */
struct mr_hist_world;
int mr_hist_world_new(const struct mr_hist_opts *o, const struct mr_hist_hcp *hcps, size_t n,
		      struct mr_hist_world **out, struct mr_err *err);
void mr_hist_world_free(struct mr_hist_world *w);
/*
 * The rung (index of the channel's outcome ladder, enum mr_channel) that a
 * touch of the doctor with preferences p on channel at ts (µs; its Beijing
 * weekday and hour band count) about topic (mr_hist_topic_index; -1 none)
 * reaches, drawn from a stream keyed by key: the same key, the same draw.
 */
int mr_hist_world_rung(const struct mr_hist_world *w, const struct mr_hist_prefs *p, int channel, int64_t ts,
		       int topic, uint64_t key);
/* The index of topic name (as mr_hist_topic gives it), or -1. */
int mr_hist_topic_index(const char *name);

#endif
