/*
 * The event log in the store (table events, schema 005_events.sql):
 * appending a batch of events inside the writer's transaction, and reading
 * events back by seq for the change feed, the timeline and exports.
 *
 * An append resolves what only a write can: an event that names its doctor
 * by a channel identity nobody holds yet gets a provisional HCP (status
 * "provisional", holding that identity) that identity resolution or a
 * person merges into the real doctor later; the event stays with it and
 * follows the merge. It then drops duplicates (an id seen before: the
 * in-memory id set on SQLite, the unique index on PostgreSQL) and inserts
 * the rest, in order, giving each its seq.
 */
#ifndef MR_EVENT_LOG_H
#define MR_EVENT_LOG_H

#include <jansson.h>
#include <stdint.h>

#include "crypto/keys.h"
#include "engine/evindex.h"
#include "event/event.h"
#include "md/md.h"
#include "store/store.h"

/* What happened to one event of a batch. */
enum mr_evlog_fate { MR_EV_PENDING, MR_EV_STORED, MR_EV_DUPLICATE, MR_EV_REJECTED };

struct mr_evlog_batch {
	struct mr_event *ev;     /* n events: hcp_id resolved, or 0 with an identity to resolve */
	int n;
	/* filled by mr_evlog_append */
	unsigned char *fate;     /* n entries (enum mr_evlog_fate), caller-allocated */
	int64_t *seq;            /* n entries, the seq of each stored event */
	struct mr_err *why;      /* n entries, for REJECTED */
	int stored, duplicates, rejected;
	int64_t first_seq, last_seq;
};

/*
 * Appends b in c's write transaction. ids (SQLite) is the index whose id
 * set detects duplicates (its claims are given back by mr_evlog_undo if the
 * transaction fails); NULL on PostgreSQL. An event whose identity cannot
 * be given a provisional HCP (its holder was deleted) is rejected; any
 * other failure fails the whole append.
 */
int mr_evlog_append(struct mr_conn *c, struct mr_evindex *ids, const struct mr_keys *k,
		    const struct mr_md_actor *who, struct mr_evlog_batch *b, struct mr_err *err);
/* Gives back the id claims of a batch whose transaction did not commit. */
void mr_evlog_undo(struct mr_evindex *ids, const struct mr_evlog_batch *b);
/*
 * The references of b's stored events, in seq order, for mr_evindex_apply;
 * returns how many. Events whose attr is 0 get theirs from x here (on the
 * caller's thread); mr_evlog_encode works them out beforehand.
 */
int mr_evlog_refs(struct mr_evindex *x, const struct mr_evlog_batch *b, struct mr_evref *out);
/* Fills the attr of n events that have none yet (any thread). */
void mr_evlog_encode(struct mr_evindex *x, struct mr_event *ev, int n);

/* Sets the defaults a batch's arrays need; the caller allocates fate, seq and why for n. */
void mr_evlog_batch_reset(struct mr_evlog_batch *b);

/*
 * Reads events as the API shows them ({"seq","id","ts","hcp",...,"rep":{id,
 * name,type}}), newest-first order kept as given: by seq list (timeline,
 * items in the order of seqs), or the range after after_seq (the feed, at
 * most limit, in seq order). with_props 0 leaves props out (masked roles).
 * scope, when not NULL and not everyone's, filters the range by HCP.
 */
int mr_evlog_by_seqs(struct mr_conn *c, const int64_t *seqs, int n, int with_props, json_t *items,
		     struct mr_err *err);
int mr_evlog_range(struct mr_conn *c, int64_t after_seq, int limit, const struct mr_scope *scope,
		   int with_props, json_t *items, int64_t *last_seq, struct mr_err *err);

/* Calls fn for every event after after_seq (in seq order, chunked), as JSON in the import format. */
typedef int (*mr_evlog_each_fn)(void *arg, json_t *ev, struct mr_err *err);
int mr_evlog_export(struct mr_conn *c, int64_t after_seq, mr_evlog_each_fn fn, void *arg,
		    struct mr_err *err);

#endif
