/*
 * Experiments (A/B tests) of the next-best-action engine
 * (store/schema/013_experiments.sql, docs/experiments.md): which policy —
 * expert rules, a learned model, a custom one, or nothing at all (a
 * holdout) — a doctor or a rep gets, and whether it moves a KPI.
 *
 * An experiment names its unit (a doctor or a rep), its population (a
 * boolean expression of the query language over doctors; none: every
 * doctor, or every rep), its arms with their share of the units, and its
 * primary metric, one of the KPI rates of ARCHITECTURE.md (the rungs of
 * analytics/kpi.c). It goes draft → running → stopped → archived.
 *
 * Assignment is stable hashing: a unit's bucket is the first 8 bytes
 * (big-endian) of BLAKE2b-512(salt || the unit's external id) modulo
 * 10,000, and the arms take consecutive bucket ranges by their allocation,
 * in their order. The salt is drawn when the experiment is created and
 * never changes, so a unit keeps its arm across restarts and nodes, and
 * anyone holding the salt can recompute it.
 *
 * Results count, for each arm, the metric's events of its units from
 * started_at until stopped_at (or now): a doctor's events (its merged
 * records' too) for unit hcp, the events its reps made (to the
 * population's doctors) for unit rep. The population is evaluated at
 * started_at (at now for a draft), so that it does not drift while the
 * experiment runs. Statistics: experiments/stats.h.
 *
 * Ownership: an experiment's strings live in the arena its reader was
 * given.
 */
#ifndef MR_EXPERIMENTS_EXPERIMENTS_H
#define MR_EXPERIMENTS_EXPERIMENTS_H

#include <jansson.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "experiments/stats.h"
#include "store/store.h"

struct mr_engine;
struct mr_hcpdir;
struct mr_evindex;

enum mr_exp_unit { MR_EXP_HCP, MR_EXP_REP };
enum mr_exp_kind { MR_EXP_RULES, MR_EXP_LEARNED, MR_EXP_HOLDOUT, MR_EXP_CUSTOM, MR_EXP_RANDOM };
enum mr_exp_metric { MR_EXP_EFFECTIVE, MR_EXP_RESPONSE, MR_EXP_PARTICIPATION, MR_EXP_EFFECTIVE_CONTACT };
enum mr_exp_status { MR_EXP_DRAFT, MR_EXP_RUNNING, MR_EXP_STOPPED, MR_EXP_ARCHIVED };

enum {
	MR_EXP_BUCKETS = 10000,      /* an allocation of 1% is 100 buckets */
	MR_EXP_ARMS_MIN = 2,
	MR_EXP_ARMS_MAX = 10,
	MR_EXP_SALT_BYTES = 16,
	MR_EXP_NAME_MAX = 64,        /* experiment and arm names, code points */
	MR_EXP_DESC_MAX = 1000,
	MR_EXP_POP_MAX = 4000,       /* population expression, bytes */
	MR_EXP_MIN_DEN = 30,         /* per arm, before a difference may be called significant */
	MR_EXP_CLUSTER_MAX = 64,     /* records of one doctor (itself and those merged into it) */
};

struct mr_exp_arm {
	const char *name;
	int kind;                    /* enum mr_exp_kind */
	int buckets;                 /* its share of MR_EXP_BUCKETS */
};

struct mr_experiment {
	int64_t id;
	const char *name;
	const char *description;     /* NULL: none */
	const char *population;      /* NULL: every doctor (unit hcp) or every rep (unit rep) */
	int unit;                    /* enum mr_exp_unit */
	int metric;                  /* enum mr_exp_metric */
	int status;                  /* enum mr_exp_status */
	unsigned char salt[MR_EXP_SALT_BYTES];
	struct mr_exp_arm arms[MR_EXP_ARMS_MAX];
	int narms;
	int64_t started_at, stopped_at, archived_at; /* µs; 0: not yet */
	const char *created_by, *updated_by;
	int64_t created_at, updated_at;
};

/* A primary metric: events of channels (a bit per enum mr_channel) at or above den_rung, and of those num_rung. */
struct mr_exp_metric_def {
	const char *name;
	unsigned channels;
	int num_rung, den_rung;
	const char *numerator, *denominator; /* in words */
};

/* The definition of metric m (enum mr_exp_metric), or NULL. */
const struct mr_exp_metric_def *mr_experiments_metric(int m);
/* The names of the enums, and back (-1 when unknown). */
int mr_experiments_metric_parse(const char *name);
const char *mr_experiments_unit_name(int unit);
int mr_experiments_unit_parse(const char *name);
const char *mr_experiments_kind_name(int kind);
int mr_experiments_kind_parse(const char *name);
const char *mr_experiments_status_name(int status);

/* 1 when name is an experiment name: [a-z0-9_-], 1..64, starting with a letter or digit. */
int mr_experiment_name_ok(const char *name);

/* ------------------------------------------------------------ assignment */

/* The bucket (0..9,999) of the unit with external id unit_id under salt. */
uint32_t mr_experiments_bucket(const unsigned char salt[MR_EXP_SALT_BYTES], const char *unit_id);
/* A share of the buckets as a percentage (2,500 → 25). */
double mr_experiments_percent(int buckets);
/* The arm (index into x->arms) that bucket falls in: the arms take consecutive ranges, in order. */
int mr_experiments_arm_of_bucket(const struct mr_experiment *x, uint32_t bucket);
/*
 * The arm (index into x->arms) of the unit with external id unit_id
 * (a doctor's or a rep's, by x->unit): stable for the experiment's life.
 * Whether the unit is in the population at all is
 * mr_experiment_assignment's question.
 */
int mr_experiments_arm(const struct mr_experiment *x, const char *unit_id);

/* ------------------------------------------------------------ definitions */

/*
 * Reads an experiment's definition from a PUT body (description, unit,
 * population, metric, arms) into x (strings borrowed from body or in a).
 * Checks every field but the population's expression (the engine's
 * work): MR_EINVAL naming the field ("arms[1].allocation", ...).
 */
int mr_experiment_from_json(json_t *body, struct mr_arena *a, struct mr_experiment *x, struct mr_err *err);

/*
 * Creates experiment x->name as a draft with a fresh salt, or replaces the
 * definition of the draft of that name (keeping its salt): *created 1 when
 * new. MR_ECONFLICT when the experiment exists and is not a draft. In c's
 * write transaction.
 */
int mr_experiment_put(struct mr_conn *c, const struct mr_experiment *x, const char *who, int64_t now,
		      int *created, struct mr_err *err);
/* Experiment name into *x (strings in a); MR_ENOTFOUND when there is none. */
int mr_experiment_get(struct mr_conn *c, const char *name, struct mr_arena *a, struct mr_experiment *x,
		      struct mr_err *err);
/* Every experiment (status < 0) or those of one status, newest first, into *xs (in a) and *n. */
int mr_experiment_list(struct mr_conn *c, int status, struct mr_arena *a, struct mr_experiment **xs, int *n,
		       struct mr_err *err);
/*
 * Moves experiment name to status to (running, stopped or archived), from
 * the one status before it; sets started_at, stopped_at or archived_at to
 * now. MR_ECONFLICT (saying the current status) otherwise.
 */
int mr_experiment_set_status(struct mr_conn *c, const char *name, int to, const char *who, int64_t now,
			     struct mr_err *err);
/* Deletes draft name and its arms; MR_ECONFLICT when it is not a draft. */
int mr_experiment_delete(struct mr_conn *c, const char *name, struct mr_err *err);
/* x as the API shows it. A new reference. */
json_t *mr_experiment_json(const struct mr_experiment *x);

/* ------------------------------------------------------------ units and results */

/*
 * The projections an experiment's units and events come from. The caller
 * brings the directory up to date first (mr_hcpdir_sync on a read
 * connection: not inside a write transaction).
 */
struct mr_exp_src {
	struct mr_store *store;      /* events queued by the writer are applied from it first */
	struct mr_engine *engine;
	struct mr_hcpdir *dir;
	struct mr_evindex *ev;
};

/* The moment x's population is evaluated at: started_at once started, else now. */
int64_t mr_experiment_as_of(const struct mr_experiment *x, int64_t now);

/*
 * The units of x at as_of, ascending by internal id: doctors (HCP record
 * ids) of the population, or reps (rep ids; all live reps, or those
 * aligned at as_of to a doctor of the population), with their external
 * ids and arms (arrays in a). *pop gets the population's doctors (NULL
 * and 0 for every doctor) for the rep unit's events. MR_EUNPROC when the
 * population no longer compiles (a tag it names was deleted).
 */
struct mr_exp_units {
	uint32_t *ids;
	const char **ext;
	int *arm;
	int n;
	uint32_t *pop;               /* unit rep: the population's doctors, NULL: all */
	int npop;
};
int mr_experiment_units(const struct mr_exp_src *src, struct mr_conn *c, const struct mr_experiment *x,
			int64_t as_of, struct mr_arena *a, struct mr_exp_units *out, struct mr_err *err);

/*
 * Where one unit stands: its bucket and arm, and whether it is in the
 * population at x's as_of (*in_pop; an arm applies only then). kind is
 * x->unit's; MR_ENOTFOUND when there is no such live doctor or rep.
 */
int mr_experiment_assignment(const struct mr_exp_src *src, struct mr_conn *c, const struct mr_experiment *x,
			     const char *ext, int64_t now, struct mr_arena *a, uint32_t *bucket, int *arm,
			     int *in_pop, struct mr_err *err);

/*
 * What the next-best-action engine asks before it serves a unit: which
 * running experiment of unit kind (enum mr_exp_unit) holds the unit with
 * external id ext at now, and in which arm. *x (in a) and *arm; *x NULL
 * when none does (running experiments of one unit kind never share a unit,
 * so at most one holds it). MR_ENOTFOUND when there is no such live
 * doctor or rep.
 */
int mr_experiments_unit_arm(const struct mr_exp_src *src, struct mr_conn *c, int unit, const char *ext,
			    int64_t now, struct mr_arena *a, const struct mr_experiment **x, int *arm,
			    struct mr_err *err);

/* An arm's tally and rate with its 95% Wilson interval. */
struct mr_exp_arm_result {
	int64_t units, num, den;
	struct mr_prop rate;
};
struct mr_exp_results {
	int64_t from, to, as_of;     /* events with from <= ts < to; the population at as_of */
	int control;                 /* the arm the others are compared with */
	struct mr_exp_arm_result arm[MR_EXP_ARMS_MAX];
	struct mr_prop_diff cmp[MR_EXP_ARMS_MAX]; /* arm i against control (not for the control, nor holdouts) */
};
/* The results of started experiment x at now. */
int mr_experiment_results(const struct mr_exp_src *src, struct mr_conn *c, const struct mr_experiment *x,
			  int64_t now, struct mr_arena *a, struct mr_exp_results *res, struct mr_err *err);
/* The arm the others are compared with: the holdout when there is one, else the first. */
int mr_experiment_control(const struct mr_experiment *x);
/* res as the API shows it (with the verdicts in words). A new reference. */
json_t *mr_experiment_results_json(const struct mr_experiment *x, const struct mr_exp_results *res);

/*
 * Whether x, about to start at now, shares a unit with a running
 * experiment of the same unit kind: *other gets that experiment's name (in
 * a; NULL when none) and *shared how many units both hold (for unit hcp
 * the doctors both populations select, counted by the engine).
 */
int mr_experiment_overlap(const struct mr_exp_src *src, struct mr_conn *c, const struct mr_experiment *x,
			  int64_t now, struct mr_arena *a, const char **other, int64_t *shared, struct mr_err *err);

#endif
