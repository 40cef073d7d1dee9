/*
 * Loading the demo history (history.h) where `medreach demo` puts it: the
 * doctors to generate it for, and the sinks that keep its events.
 *
 * The roster is the list of doctors the generator takes: the world's live,
 * active primary doctors (D0000001…, never the planted MTG-/WX- duplicates,
 * which are identity resolution's business), each with the specialty and
 * title, the hospital's level and city tier, the field owner, inside owner
 * and MSL aligned now, and whether they have a WeChat, a WeCom and an e-mail
 * identity. It is read from the store once the world is in (so it is what
 * was really loaded, with the internal ids the event log needs), or, for
 * `medreach demo --csv`, collected from the world's rows as they stream by.
 * Either way the doctors come in external-id order, so one seed gives the
 * same events in the database and in events.ndjson.
 *
 * The sinks: mr_hist_store sends the events to the event log (event/log.h)
 * in batches of one transaction each, through the same bulk path as
 * `medreach import events` (ids resolved and id keys hashed beforehand);
 * mr_hist_write_ndjson writes them as NDJSON that `medreach import events`
 * reads back.
 *
 * Memory: a roster owns its arrays and strings until mr_hist_roster_release.
 */
#ifndef MR_DEMO_HISTORY_LOAD_H
#define MR_DEMO_HISTORY_LOAD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/arena.h"
#include "base/err.h"
#include "crypto/keys.h"
#include "demo/history.h"
#include "store/store.h"

/* The reps a doctor is aligned to, by role: indices of mr_hist_roster.rep_id. */
enum { MR_HIST_FIELD, MR_HIST_INSIDE, MR_HIST_MSL, MR_HIST_ROLES };

struct mr_hist_roster {
	struct mr_hist_hcp *h;            /* n doctors, ascending external id */
	int64_t *hcp_id;                  /* their internal ids (0 when read from rows) */
	int64_t (*rep_id)[MR_HIST_ROLES]; /* internal ids of field_rep, inside_rep, msl (0: none) */
	size_t n, cap;
	int64_t now_us;                   /* alignments current at this time count */
	struct mr_arena strs;             /* every string h points at */
	/* collecting from rows (mr_hist_roster_begin / _row) */
	struct mr_hist_hco *hcos;
	size_t nhcos, caphcos;
	const char *entity;
	int col[12];
	int sorted;
};

/* Prepares an empty roster whose alignments count when current at now_us. */
void mr_hist_roster_init(struct mr_hist_roster *r, int64_t now_us);
void mr_hist_roster_release(struct mr_hist_roster *r);

/*
 * Reads the roster from the store on c (a read connection): the live
 * (not deleted, merged or erased), active HCPs whose external id starts
 * with D, their hospitals, current alignments and identity kinds.
 */
int mr_hist_roster_load(struct mr_hist_roster *r, struct mr_conn *c, struct mr_err *err);

/*
 * Collects the roster from the demo world's rows (world.h's sink): call
 * _begin at each entity with its columns and _row with each row; the
 * roster is complete (and sorted) after the alignments. Entities other
 * than hcos, hcps, identities and alignments are ignored.
 */
void mr_hist_roster_begin(struct mr_hist_roster *r, const char *entity, int ncols,
			  const char *const *cols);
void mr_hist_roster_row(struct mr_hist_roster *r, const char *const *vals);

/* How storing or writing a history went. */
struct mr_hist_load_report {
	int64_t events;        /* generated */
	int64_t stored, duplicates;
	int64_t meetings;
	int64_t took_us;       /* the whole run */
	int64_t write_us;      /* of which in the store's transactions (or writing the file) */
};

struct mr_hist_load_opts {
	struct mr_store *store;
	const struct mr_keys *keys;
	int batch;             /* events per transaction (default 20,000) */
	int64_t now_us;        /* the events' received_at and the check's now */
	void (*progress)(void *arg, int64_t events);
	void *progress_arg;
};

/*
 * Generates the history o of r's doctors (r read from the store) and
 * appends every event to the event log, a batch a transaction: ids
 * stored before count as duplicates, so running it twice stores it once.
 * A batch that fails stops the load (the batches before it stay).
 */
int mr_hist_store(const struct mr_hist_opts *o, const struct mr_hist_roster *r,
		  const struct mr_hist_load_opts *lo, struct mr_hist_load_report *rep,
		  struct mr_err *err);

/* Generates the history o of r's doctors into f, one event a line, in the import's format. */
int mr_hist_write_ndjson(const struct mr_hist_opts *o, const struct mr_hist_roster *r, FILE *f,
			 struct mr_hist_load_report *rep, struct mr_err *err);

#endif
