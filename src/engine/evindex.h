/*
 * The event index: the in-memory projection of the event log that the
 * timeline, the change feed's waiters and (on SQLite) duplicate detection
 * read. Per HCP record it keeps the record's events as small references
 * (seq, time, channel, outcome, rep) sorted by time; the rows themselves
 * stay in the store and are read by seq. It is built from the store at
 * start and advanced in seq order: by the writer, right after each commit
 * of events (mr_evindex_apply), and by mr_evindex_sync, which reads what
 * other processes or nodes appended (seq > the last applied).
 *
 * Event ids. On SQLite the index also remembers every event id seen (as a
 * 96-bit keyed hash, so two ids collide with a chance of about 1e-11 in a
 * billion events): the single writer claims an id before it stores the
 * event, after catching up with anything another process appended, so an
 * id is stored once. On PostgreSQL a unique index does that for all nodes.
 *
 * Thread-safe. Waiting: mr_evindex_watch registers a callback run (on the
 * thread that applied) whenever the last seq advances.
 */
#ifndef MR_ENGINE_EVINDEX_H
#define MR_ENGINE_EVINDEX_H

#include <stdint.h>

#include "store/store.h"

struct mr_evindex;

/* One event as the index hands it over and takes it in. */
struct mr_evref {
	int64_t seq;
	int64_t ts;         /* µs */
	uint32_t hcp;       /* the HCP record it arrived for */
	uint32_t rep;       /* 0: none */
	uint32_t attr;      /* its (type, content, campaign, meeting): mr_evindex_attr */
	uint32_t dur;       /* duration_s + 1; 0: none */
	uint8_t channel;
	uint8_t outcome;
};

/*
 * One event in an HCP record's list, as the engine reads it: 32 bytes.
 * The strings of an event are dictionary codes (engine/dict.h), and the
 * four that describe what it was — type, content, campaign, meeting — are
 * one code of their combination (struct mr_evattr), since most events share
 * one with many others.
 */
struct mr_evitem {
	int64_t seq;
	int64_t ts;
	uint32_t rep;
	uint32_t attr;
	uint32_t dur;
	uint8_t channel;
	uint8_t outcome;
};

/* What an attr code stands for: codes in the index's dictionaries (mr_evindex_dicts). */
struct mr_evattr {
	uint32_t type, content, campaign, meeting;
};

struct mr_dict;
/* The dictionaries of the index's strings, alive as long as x. */
struct mr_evindex_dicts {
	struct mr_dict *type, *content, *campaign, *meeting;
};

struct mr_evindex_stats {
	int ready;
	int64_t events;
	int64_t last_seq;
	int64_t ids;        /* event ids held (SQLite) */
	int64_t attrs;      /* distinct (type, content, campaign, meeting) */
	int64_t load_us;
	int64_t bytes;      /* memory held by the lists, the id set and the attrs */
	int64_t scattered;  /* events in lists that grew out of the packed block */
	int64_t restored;   /* events the first load took from the snapshot file */
	int64_t restore_us;
	int64_t from_store; /* events the first load read from the store */
	int64_t save_us;    /* the last snapshot's write */
	int64_t saved_last; /* the last seq the snapshot file holds; 0: none */
	const char *snapshot_ignored; /* why the file at start could not serve, or NULL */
};

/* keep_ids: remember event ids for duplicate detection (SQLite). */
struct mr_evindex *mr_evindex_new(int keep_ids);
void mr_evindex_free(struct mr_evindex *x);

/* Loads the whole log the first time, then appends what has been stored since the last call. */
int mr_evindex_sync(struct mr_evindex *x, struct mr_conn *c, struct mr_err *err);
/* Loads on a thread of its own (see hcpdir.h's mr_hcpdir_load_async). */
void mr_evindex_load_async(struct mr_evindex *x, struct mr_store *store);
int mr_evindex_ready(struct mr_evindex *x);
/* Waits (at most until deadline, a mr_mono_us time) for the first load; 1 when ready. */
int mr_evindex_wait_ready(struct mr_evindex *x, int64_t deadline_us);
int64_t mr_evindex_last(struct mr_evindex *x);

/*
 * Duplicate detection (keep_ids only), for the writer inside its
 * transaction: 1 when id is new, and now claimed; 0 when seen before.
 * mr_evindex_unclaim gives back an id whose transaction failed.
 */
int mr_evindex_claim(struct mr_evindex *x, const char *id);
void mr_evindex_unclaim(struct mr_evindex *x, const char *id);
/*
 * The same with the id's key worked out beforehand (mr_evindex_id_key, on
 * any thread: the hashing need not happen on the writer's), and a hint to
 * fetch a key's slot into the cache ahead of its claim.
 */
void mr_evindex_id_key(const struct mr_evindex *x, const char *id, uint64_t key[2]);
int mr_evindex_claim_key(struct mr_evindex *x, const uint64_t key[2]);
void mr_evindex_unclaim_key(struct mr_evindex *x, const uint64_t key[2]);
void mr_evindex_prefetch(const struct mr_evindex *x, const uint64_t key[2]);
/* Claims n keys under one lock (keys i with skip[i] set are left alone): fresh[i] 1 when new. */
void mr_evindex_claim_keys(struct mr_evindex *x, const uint64_t (*keys)[2], int n,
			   const unsigned char *skip, unsigned char *fresh);
/*
 * Adds the ids of events stored after the newest one the id set has seen,
 * read on c (the writer's connection, inside its transaction, which holds
 * SQLite's write lock: nothing can be appended meanwhile). Rows of earlier
 * jobs of the same transaction are read too; their ids are claimed already.
 */
int mr_evindex_claim_stored(struct mr_evindex *x, struct mr_conn *c, struct mr_err *err);
/* The writer stored events up to seq, their ids claimed: the set has seen them. */
void mr_evindex_ids_advance(struct mr_evindex *x, int64_t seq);
/* After a failed transaction: the id set has seen nothing from seq on. */
void mr_evindex_ids_rewind(struct mr_evindex *x, int64_t seq);

/*
 * Adds events the caller has just committed, in seq order. When the index
 * is behind their first seq (another process appended in between), it
 * reads the gap from store first (a pooled connection). Wakes the watchers.
 */
int mr_evindex_apply(struct mr_evindex *x, const struct mr_evref *refs, int n,
		     struct mr_store *store, struct mr_err *err);
/*
 * The writer's way: queues committed events (in commit order) to be applied
 * by whoever drains next — the request that wrote them, before it answers,
 * or a reader, or the follower — so that the writer thread goes back to
 * writing. mr_evindex_drain applies everything queued so far.
 */
void mr_evindex_queue(struct mr_evindex *x, const struct mr_evref *refs, int n);
int mr_evindex_drain(struct mr_evindex *x, struct mr_store *store, struct mr_err *err);

/* What a timeline shows: events of the HCP records ids (a doctor and the records merged into it). */
struct mr_timeline_q {
	const uint32_t *hcps;
	int nhcps;
	unsigned channels;          /* bit per channel; 0: all */
	const unsigned char *reps;  /* NULL: all; else reps[rep_id] != 0 for the reps wanted */
	uint32_t nreps;             /* size of reps */
	int64_t from, to;           /* ts bounds [from, to); 0: open */
	int64_t before_seq;         /* the cursor: items after (older than) this one; 0: from the newest */
	int64_t after_seq;          /* only events with a larger seq (live updates); 0: any */
	int limit;
};

/*
 * The page of q, newest first (time, then seq), as references: at most
 * q->limit + 1 of them (the extra one says there is more). Returns how
 * many; -1 when before_seq is not an event of these HCPs.
 */
int mr_evindex_timeline(struct mr_evindex *x, const struct mr_timeline_q *q, struct mr_evref *out);

/*
 * The code of an event's (type, content, campaign, meeting), any of them
 * NULL, added when new. Any thread; ingestion works them out before the
 * writer stores the events (struct mr_event's attr), so that applying
 * costs the writer nothing.
 */
uint32_t mr_evindex_attr(struct mr_evindex *x, const char *type, const char *content,
			 const char *campaign, const char *meeting);
void mr_evindex_dicts(struct mr_evindex *x, struct mr_evindex_dicts *out);

/*
 * Reading the lists (the engine): between mr_evindex_read_begin and
 * mr_evindex_read_end nothing is added, and mr_evindex_items gives HCP
 * record hcp's events, oldest first (time, then seq), and
 * mr_evindex_attr_of what an attr code stands for. Keep the span short
 * (writers wait), and never call another evindex function inside it.
 */
void mr_evindex_read_begin(struct mr_evindex *x);
void mr_evindex_read_end(struct mr_evindex *x);
const struct mr_evitem *mr_evindex_items(const struct mr_evindex *x, uint32_t hcp, uint32_t *n);
const struct mr_evattr *mr_evindex_attr_of(const struct mr_evindex *x, uint32_t attr);
/* HCP record ids run below this (within a read span). */
uint32_t mr_evindex_nhcps(const struct mr_evindex *x);

/*
 * Called with the events just added (in seq order; hcp is the record they
 * arrived for), on the thread that added them, after the index has them
 * and before the watchers: the engine keeps its tags current this way. At
 * most 8 listeners; register before the load starts.
 */
typedef void (*mr_evindex_listen_fn)(void *arg, const struct mr_evref *refs, int n);
void mr_evindex_listen(struct mr_evindex *x, mr_evindex_listen_fn fn, void *arg);

/* Called with the new last seq whenever it advances; at most 16 watchers. */
typedef void (*mr_evindex_watch_fn)(void *arg, int64_t last_seq);
void mr_evindex_watch(struct mr_evindex *x, mr_evindex_watch_fn fn, void *arg);

void mr_evindex_stats(struct mr_evindex *x, struct mr_evindex_stats *out);

/*
 * The snapshot file (evsnap.c): the index as it stood at one seq, so that
 * a restart reads one file instead of the whole log and then only what
 * was stored after it. mr_evindex_snapshot_at names the file (NULL: none;
 * before anything else). mr_evindex_restore, on the empty index before
 * its load and before any event is claimed, takes the file when it is
 * whole, of this build, of this store and not past it: 1 restored; 0 no
 * file, or one that cannot serve (why goes to the log and the stats);
 * < 0 the store could not be read. The load then reads what follows.
 * mr_evindex_save writes the file (a temp file renamed over it, 0600):
 * 1 written; 0 nothing new since the file's seq (or no file named);
 * MR_EUNAVAIL while the writer has ids claimed for events not yet
 * committed (try again); < 0 on I/O or store errors. Writers wait while
 * it writes (about a second per ten million events).
 */
void mr_evindex_snapshot_at(struct mr_evindex *x, const char *path);
int mr_evindex_restore(struct mr_evindex *x, struct mr_store *s, struct mr_err *err);
int mr_evindex_save(struct mr_evindex *x, struct mr_store *s, struct mr_err *err);
/*
 * Saves when it pays: the file would spare a restart at least 50,000
 * events and a tenth of what it holds, and (after the first) ten minutes
 * have passed since the last. Waits up to two seconds for the writer's
 * claims to settle. For the loader after its load, and the follower.
 */
int mr_evindex_save_due(struct mr_evindex *x, struct mr_store *s, struct mr_err *err);
/*
 * Upkeep for a serving process's follower, doing something at most once a
 * minute: packs the lists again once a tenth of the events lie in lists
 * that grew out of the packed block (so passes over every doctor read
 * memory in order; writers wait ~0.3 s per 10 million events), then
 * mr_evindex_save_due.
 */
int mr_evindex_maintain(struct mr_evindex *x, struct mr_store *s, struct mr_err *err);

#endif
