/*
 * Learned response models of the next-best-action engine (stages 2 and 3,
 * docs/models.md): per channel, an L2-regularised logistic regression
 * (engine/nba/linmodel.h) of P(the doctor responds | doctor, time slot),
 * learned from the event log, and per category of one profile attribute
 * (a setting, default specialty) a model of its own where the category has
 * enough examples; per doctor the category model is used when it beat the
 * global one on the category's held-out rows, else the global one.
 *
 * The serving path's question is one call: mr_models_score — "HCP h, channel
 * c, time slot s, at as_of → probability, model version, reason in words".
 *
 * Examples are outbound attempts (a call placed, a message sent, an
 * invitation) on phone, wechat, wecom, email and online meetings; the label
 * is the rung the attempt reached (ARCHITECTURE's KPI ladders: answered for
 * calls, responded for messages, registered for invitations). Features are
 * computed, for each attempt, only from events strictly before it (an
 * earlier time), in one pass over each doctor's packed event list.
 *
 * This header has two layers: the pure functions (slots, labels, features,
 * metrics, training a run from example sets, Thompson sampling), which the
 * unit tests drive with hand-made event lists, and struct mr_models, the
 * registry a server holds (active versions in memory, training over the
 * projections, the store's versions, evaluation). Thread-safe: scoring takes
 * a read lock; training builds off-lock and swaps the active set in.
 */
#ifndef MR_MODELS_MODELS_H
#define MR_MODELS_MODELS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "engine/evindex.h"
#include "engine/nba/linmodel.h"
#include "store/store.h"

/* The channels a model is learned for. */
enum mr_model_channel { MR_MC_PHONE, MR_MC_WECHAT, MR_MC_WECOM, MR_MC_EMAIL, MR_MC_MEETING, MR_MC_COUNT };

enum {
	MR_MODEL_BANDS = 4,          /* 08–12, 12–14, 14–18, 18–21 Asia/Shanghai (earlier / later fold in) */
	MR_MODEL_WEEKDAYS = 7,       /* Monday first */
	MR_MODEL_SLOTS = 28,         /* weekday × band: slot = weekday * 4 + band */
	MR_MODEL_SPEC_MAX = 24,      /* specialties one-hot (the most frequent) */
	MR_MODEL_TITLE_MAX = 8,
	MR_MODEL_WINDOW_MAX = 3650,  /* days of training window */
	MR_MODEL_CAT_MAX = 64,       /* category models per channel */
};

/* The feature layout (MR_MF_NFEAT doubles a row). */
enum {
	MR_MF_CH = 0,                             /* 3 per channel: log1p(attempts 90d), response rate, recency */
	MR_MF_OTHER = MR_MF_CH + 3 * MR_MC_COUNT, /* log1p(visits, offline meetings, content views in 90 days) */
	MR_MF_BANDRATE,                           /* the doctor's response rate on this channel in this band */
	MR_MF_WEEKDAY,                            /* 7 one-hot */
	MR_MF_BAND = MR_MF_WEEKDAY + MR_MODEL_WEEKDAYS,
	MR_MF_SPEC = MR_MF_BAND + MR_MODEL_BANDS,
	MR_MF_TITLE = MR_MF_SPEC + MR_MODEL_SPEC_MAX,
	MR_MF_LEVEL = MR_MF_TITLE + MR_MODEL_TITLE_MAX, /* hospital level 1..3 */
	MR_MF_NFEAT = MR_MF_LEVEL + 3,
};

#define MR_MODEL_WINDOW_US (INT64_C(90) * 86400 * 1000000)

/* The model channel of an event channel (enum mr_channel), or -1. */
int mr_model_channel_of(int ev_channel);
/* The event channel (enum mr_channel) of a model channel. */
int mr_model_ev_channel(int mc);
const char *mr_model_channel_name(int mc);
/* The model channel named ("phone", ...), or -1. */
int mr_model_channel_parse(const char *name);
/* 1 when outcome rung on model channel mc's ladder counts as a response. */
int mr_model_label(int mc, int outcome);
/* The slot (weekday * 4 + band) of a time, Asia/Shanghai. */
int mr_model_slot_of(int64_t ts_us);
/* "Tuesday 14–18" style names. */
const char *mr_model_weekday_name(int wd);
const char *mr_model_band_name(int band);
/* The feature's name ("wechat.rate_all", "slot.band.14-18", "specialty[3]", ...), into buf. */
const char *mr_model_feature_name(int f, char *buf, size_t cap);

/* ------------------------------------------------------------ features */

/* A doctor's profile as feature indices: -1 unknown / not in the vocabulary. */
struct mr_model_attrs {
	int spec, title, level;      /* level: 0..2 for hospital level 1..3 */
};

/* What a doctor did before a moment, kept by walking the event list forward. */
struct mr_model_state {
	int64_t last[MR_MC_COUNT];                       /* last attempt (µs), 0: none */
	uint32_t att[MR_MC_COUNT], pos[MR_MC_COUNT];     /* all earlier attempts, responses */
	uint32_t att90[MR_MC_COUNT], pos90[MR_MC_COUNT]; /* in the 90 days before */
	uint32_t attb[MR_MC_COUNT][MR_MODEL_BANDS], posb[MR_MC_COUNT][MR_MODEL_BANDS];
	uint32_t other90;
};

/* A walk over one doctor's events (oldest first), absorbing those strictly before a moment. */
struct mr_model_walk {
	const struct mr_evitem *it;
	uint32_t n, next, tail;
	struct mr_model_state s;
};

void mr_model_walk_init(struct mr_model_walk *w, const struct mr_evitem *items, uint32_t n);
/* Absorbs every event with ts < t (t must not decrease between calls) and expires the 90-day counts. */
void mr_model_walk_to(struct mr_model_walk *w, int64_t t);
/* The features of an attempt on channel mc in slot at time t, from s, into x (MR_MF_NFEAT). */
void mr_model_features(const struct mr_model_state *s, int64_t t, int mc, int slot,
		       const struct mr_model_attrs *a, double *x);

/* ------------------------------------------------------------ metrics */

enum { MR_MODEL_DECILES = 10 };

struct mr_model_metrics {
	size_t n, positives;
	double auc;                  /* NaN when one class is missing */
	double log_loss;
	double brier;
	int nbins;
	double bin_pred[MR_MODEL_DECILES], bin_obs[MR_MODEL_DECILES];
	size_t bin_n[MR_MODEL_DECILES];
};

/* Metrics of predictions p against 0/1 labels y over n rows (calibration by deciles of p). */
void mr_model_metrics(const double *p, const double *y, size_t n, struct mr_model_metrics *out);

/* ------------------------------------------------------------ training */

/* One channel's examples: rows of MR_MF_NFEAT features with label, time and category. */
struct mr_model_set {
	size_t n, cap;
	double *x, *y;
	int64_t *ts;
	int16_t *cat;                /* the doctor's category index, -1: none */
};

void mr_model_set_init(struct mr_model_set *s);
void mr_model_set_release(struct mr_model_set *s);
/* Appends one example (x is copied). */
void mr_model_set_add(struct mr_model_set *s, const double *x, int y, int64_t ts, int cat);

/* A trained model (one version). */
struct mr_model {
	int64_t id;                  /* store id; 0 before saving */
	int run;                     /* the training run (the version number) */
	int mc;
	char *category;              /* NULL: the global model */
	char *split_by;              /* the attribute the categories are values of */
	char version[160];           /* "wechat/global/v3", "wechat/specialty=心内科/v3" */
	int64_t trained_at, from, to;
	size_t examples, positives;
	double sampled;              /* share of the window's attempts kept (1: all) */
	struct mr_model_metrics holdout;
	double global_log_loss;      /* category models: the global model's on the same held-out rows */
	double global_auc;
	int beats_global;            /* category models: better held-out log loss than the global */
	int active;
	struct mr_lm lm;
	double mean[MR_MF_NFEAT];    /* training means, for contributions */
	char *spec_vocab[MR_MODEL_SPEC_MAX];
	char *title_vocab[MR_MODEL_TITLE_MAX];
	char *trained_by;
};

void mr_model_free(struct mr_model *m);

/* How a run trains. */
struct mr_model_train_opts {
	int64_t from, to;            /* the window of attempts (µs) */
	double lambda;               /* L2 penalty; 0: 1.0 */
	size_t min_examples;         /* per category model; 0: 500 */
	size_t min_positives;        /* 0: 50 */
	const char *split_by;        /* the attribute of the categories (NULL: none) */
	const char *const *cats;     /* category index → its value */
	int ncats;
	const char *const *spec_vocab; /* the vocabularies the attrs index */
	const char *const *title_vocab;
	int run;
	double sampled[MR_MC_COUNT];
	const char *by;
};

/*
 * Trains one channel's models from its examples: the global model on the
 * first 80% of the window (by time), metrics on the last 20%; then a model
 * per category with at least min_examples and min_positives, compared with
 * the global on the category's held-out rows. Appends the models to
 * out/nout (caller frees each with mr_model_free and the array). skipped
 * (when not NULL) gets why no global model was trained, or NULL.
 */
int mr_model_train_channel(int mc, const struct mr_model_set *set, const struct mr_model_train_opts *o,
			   struct mr_model ***out, int *nout, const char **skipped, struct mr_err *err);
/* The probability of model m for features x. */
double mr_model_predict(const struct mr_model *m, const double *x);

/* ------------------------------------------------------------ exploration */

/*
 * Thompson sampling over narms arms (≤ 256): arm i's posterior is
 * Beta(1 + strength·p[i] + pos[i], 1 + strength·(1 − p[i]) + neg[i]) — the
 * model's prediction as strength pseudo-observations plus the doctor's own
 * history. Fills prob[i] with the posterior probability that arm i is the
 * best (computed on a 256-point grid, Σ prob = 1) and returns the arm
 * chosen with those probabilities by one uniform number from seed, so a
 * (seed, inputs) pair always gives the same answer and prob[chosen] is the
 * propensity to log.
 */
int mr_model_thompson(const double *p, const double *pos, const double *neg, int narms, double strength,
		      uint64_t seed, double *prob);
/* The seed of a doctor's draws on the Asia/Shanghai day of as_of. */
uint64_t mr_model_seed(int64_t hcp_id, int64_t as_of);

/* ------------------------------------------------------------ the registry */

struct mr_models;
struct mr_hcpdir;
struct mr_profile;
struct mr_writer;

struct mr_tagsrc;
struct mr_models_src {
	struct mr_store *store;
	struct mr_hcpdir *dir;
	struct mr_evindex *ev;
	struct mr_profile *profile;
	const struct mr_tagsrc *tags; /* NULL: categories only by profile attributes (copied) */
};

struct mr_models *mr_models_new(const struct mr_models_src *src);
void mr_models_free(struct mr_models *m);
void mr_models_set_writer(struct mr_models *m, struct mr_writer *w);

/* Loads the active versions from the store (at start, after an activation). */
int mr_models_load(struct mr_models *m, struct mr_conn *c, struct mr_err *err);
/* 1 once the active versions have been loaded. */
int mr_models_loaded(struct mr_models *m);

/* The settings: the scheduled retrain, its window and the split. */
struct mr_models_settings {
	int schedule_daily;          /* 0: off (default) */
	int hour;                    /* Asia/Shanghai hour the daily retrain runs at or after */
	int window_days;             /* default 180 */
	char split_by[32];           /* a profile attribute name, "" for none; default specialty */
	int64_t min_examples, min_positives;
};

int mr_models_settings_get(struct mr_conn *c, struct mr_models_settings *s, struct mr_err *err);
int mr_models_settings_put(struct mr_conn *c, const struct mr_models_settings *s, const char *by, int64_t now,
			   struct mr_err *err);
int mr_models_settings_from_json(json_t *body, struct mr_models_settings *s, struct mr_err *err);
json_t *mr_models_settings_json(const struct mr_models_settings *s);

/* A training request. */
struct mr_models_train_req {
	int window_days;             /* 1..MR_MODEL_WINDOW_MAX */
	int64_t as_of;               /* the window's end (µs); 0: now */
	const char *split_by;        /* NULL: the settings'; "" none */
	int64_t min_examples, min_positives; /* 0: the settings' */
	const char *by;
};

/*
 * Trains every channel's models over the projections (the caller saves
 * them with mr_models_save, in a write transaction, which also makes them
 * the active versions). *out gets {run, window, took_ms, examples per
 * channel, skipped channels, versions: [...]} (new reference); *res the
 * trained models (pass to mr_models_save, then mr_models_adopt).
 */
struct mr_models_run;
int mr_models_train(struct mr_models *m, struct mr_conn *c, const struct mr_models_train_req *q,
		    struct mr_models_run **res, struct mr_err *err);
/* Writes the run's versions (ids filled) and activates them in place of the older ones. */
int mr_models_save(struct mr_conn *c, struct mr_models_run *run, struct mr_err *err);
/* The run's answer ({run, versions, took_ms, ...}, new reference). */
json_t *mr_models_run_json(const struct mr_models_run *run);
/* Makes the saved run's models the in-memory active set, and frees run. */
void mr_models_adopt(struct mr_models *m, struct mr_models_run *run);
void mr_models_run_free(struct mr_models_run *run);

/*
 * The stored versions, newest first, as JSON objects into items: at most
 * limit of those with an id below cursor (0: from the newest); *next gets
 * the cursor of the next page (0: none).
 */
int mr_models_list(struct mr_conn *c, int limit, int64_t cursor, json_t *items, int64_t *next, struct mr_err *err);
/* One version with its calibration and coefficients; MR_ENOTFOUND with the id. */
int mr_models_get(struct mr_conn *c, int64_t id, json_t **out, struct mr_err *err);
/* Makes version id its (channel, category)'s active one. MR_ENOTFOUND with the id. */
int mr_models_activate(struct mr_conn *c, int64_t id, struct mr_err *err);

/* The answer to "score HCP h on channel c in slot s at as_of". */
struct mr_score {
	double p;                    /* the probability of a response */
	int64_t model_id;
	char version[160];           /* the model version used ("" when no model: p is NaN) */
	char reason[400];            /* the top contributing features in words */
};

/*
 * Scores doctor hcp_id (an internal id; its merged records' events count)
 * for channel mc in slot at as_of (µs). MR_ENOTFOUND when no model is
 * active for the channel; MR_EUNAVAIL while the projections load.
 */
int mr_models_score(struct mr_models *m, int64_t hcp_id, int mc, int slot, int64_t as_of, struct mr_score *out,
		    struct mr_err *err);
/* What the serving path logs: the arm Thompson sampling served and the probability of serving it. */
struct mr_choice {
	int mc, slot;
	double probability;          /* the posterior probability the arm is the best: the propensity to log */
	struct mr_score score;       /* the arm's response probability, model version, reason */
};

/*
 * Thompson sampling (mr_model_thompson, strength 10, the doctor's own
 * responses per channel and band, seeded per doctor and Beijing day) over
 * every slot of the channels in mask (a bit per enum mr_model_channel; 0:
 * all) that have a model. MR_ENOTFOUND when none has; MR_EUNAVAIL while
 * the projections load.
 */
int mr_models_choose(struct mr_models *m, int64_t hcp_id, int64_t as_of, unsigned mask, struct mr_choice *out,
		     struct mr_err *err);

/*
 * Every channel and slot of doctor hcp_id at as_of: {as_of, channels:
 * [{channel, model_id, model_version, category, best: {slot, weekday,
 * band, p}, reasons: [...], slots: [{slot, weekday, band, p}]}]}.
 */
int mr_models_propensity(struct mr_models *m, int64_t hcp_id, int64_t as_of, json_t **out, struct mr_err *err);

/*
 * Off-policy evaluation of the active models' greedy policy over channel ×
 * hour band, on the logged attempts of the window_days before as_of, with
 * IPS, SNIPS and DR (engine/nba/ope.h); the logging propensities are
 * estimated per category × channel × band (said in the answer).
 */
int mr_models_evaluate(struct mr_models *m, int window_days, int64_t as_of, json_t **out, struct mr_err *err);

/* 1 when name can split the categories: a profile attribute, or a boolean or text tag. */
int mr_models_split_ok(struct mr_models *m, const char *name);

/* The settings changed: the next tick reads them again (else it does once a minute). */
void mr_models_settings_changed(struct mr_models *m);

/* The follower's tick: loads the active versions once, and runs the scheduled retrain when due. */
void mr_models_tick(struct mr_models *m);

#endif
