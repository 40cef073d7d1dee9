/*
 * The next-best-action engine in a server or the CLI (docs/nba.md): the
 * rules and contact policy held in memory (reloaded when the store says
 * they changed), one doctor's recommendations with what was blocked and
 * why (serving), the run that turns the best recommendations of every
 * doctor into rep tasks, the recommendation log (rows queued by serving
 * and written by the next tick, so that a read never waits for a commit),
 * and the nightly run. Under the learned policy (a running experiment's
 * learned arm, or the settings' policy) the response models
 * (models/models.h) choose among the candidates that pass the guards.
 *
 * Conditions are compiled by the engine at the request's as_of (a plan is
 * bound to it) and evaluated with mr_engine_values for one doctor, or with
 * mr_engine_select over everyone for the run. The guards are nba/guard.h's.
 *
 * Lifecycle: mr_nba_new → mr_nba_tick (the follower, every quarter second)
 * … → mr_nba_free. Thread-safe.
 */
#ifndef MR_NBA_NBA_H
#define MR_NBA_NBA_H

#include <jansson.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "store/store.h"

struct mr_nba;
struct mr_engine;
struct mr_hcpdir;
struct mr_evindex;
struct mr_profile;
struct mr_writer;

/* The projections the engine reads, and where it writes. */
struct mr_nba_src {
	struct mr_store *store;
	struct mr_writer *writer;    /* NULL: write on a store transaction of its own (the CLI) */
	struct mr_engine *engine;
	struct mr_hcpdir *dir;
	struct mr_evindex *ev;
	struct mr_profile *profile;
};

struct mr_nba *mr_nba_new(const struct mr_nba_src *src);
/* Writes the queued log rows and frees n (NULL is fine). */
void mr_nba_free(struct mr_nba *n);
/* Sets the writer once it runs. */
void mr_nba_set_writer(struct mr_nba *n, struct mr_writer *w);
/*
 * Sets the learned response models the learned policy ranks with
 * (models/models.h; NULL: none, so the learned policy falls back to the
 * rules and says so). Safe to call while serving.
 */
struct mr_models;
void mr_nba_set_models(struct mr_nba *n, struct mr_models *m);

/* A recommendations question. */
struct mr_nba_ask {
	int64_t hcp_id;              /* internal id of a live doctor */
	int64_t as_of;               /* µs; 0: now (the rules compiled within the last second serve: see docs/nba.md) */
	int k;                       /* at most this many; 0: the settings' k */
	int explain;                 /* list the blocked candidates too */
	int log;                     /* queue the served items to the recommendation log */
};

/*
 * The recommendations of one doctor, as {"hcp","as_of","items":[…]} (and
 * "blocked":[…] with explain) into *out (a new reference), computed on c
 * (a read connection). MR_EUNAVAIL while the engine loads.
 */
int mr_nba_recommend(struct mr_nba *n, struct mr_conn *c, const struct mr_nba_ask *q, struct mr_arena *a,
		     json_t **out, struct mr_err *err);

/* A run's request. */
struct mr_nba_run_opts {
	int64_t as_of;               /* 0: now */
	int dry_run;                 /* decide, count, create nothing */
	int limit_per_rep;           /* 0: the settings' */
	int per_hcp;                 /* tasks per doctor; 0: 1 */
	const char *segment;         /* a boolean expression: only these doctors; NULL: every doctor */
	const char *by;              /* the login it runs for (NULL: the server) */
	int64_t now;                 /* the tasks' creation time (0: the clock); a simulation's week replays it */
	void (*progress)(void *arg, const char *stage, int64_t done, int64_t total);
	void *progress_arg;
};

/*
 * Runs the rules over every doctor (or the segment's) at once, applies the
 * guards, and (unless dry) creates the tasks in the right reps' lists in
 * one transaction, with their log rows. *out gets {considered, candidates,
 * recommended, blocked: {code: n}, tasks_created, per_rep: [{rep, name?,
 * tasks}], as_of, dry_run, took_ms}. A segment that does not parse or is
 * not boolean: MR_EUNPROC with the column in the message.
 */
int mr_nba_run(struct mr_nba *n, const struct mr_nba_run_opts *o, json_t **out, struct mr_err *err);
/* mr_nba_run, with in_tx (e.g. the audit record) called inside the tasks' write transaction. */
int mr_nba_run_tx(struct mr_nba *n, const struct mr_nba_run_opts *o,
		  int (*in_tx)(struct mr_conn *c, void *arg, struct mr_err *err), void *in_tx_arg, json_t **out,
		  struct mr_err *err);

/* Writes the queued log rows now (tests and the log's reader call it first). */
int mr_nba_flush(struct mr_nba *n, struct mr_err *err);

/* The follower's tick: writes the queued log rows, and runs the nightly run when it is due and on. */
void mr_nba_tick(struct mr_nba *n);

/* Forgets the rules and settings held, so that the next use reads them again (after a write). */
void mr_nba_invalidate(struct mr_nba *n);

#endif
