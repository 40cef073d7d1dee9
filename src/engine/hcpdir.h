/*
 * The HCP directory: an in-memory projection of the doctors' search keys
 * and of who may see them, so that a name / pinyin / initials search
 * within a caller's scope never walks the tables. It holds, per HCP, the
 * external id, the three search keys and whether it is live, deleted or
 * merged; the alignments (HCP, rep, validity); and the reps' manager tree.
 * The page it finds is a list of internal ids; the rows themselves are
 * read from the store by id (md/query.c), so what a user sees is always
 * the store's.
 *
 * It follows the store through md_changes, which every master-data write
 * appends to in its own transaction: a change to HCP N reloads N and its
 * alignments, a change to rep R reloads R. mr_hcpdir_sync, called before
 * each use, applies what committed since the last call (read-your-writes
 * within a process; other processes' and nodes' writes on their next
 * use). Ids a PostgreSQL sequence handed out but not yet committed are
 * kept as holes and looked at again for a minute.
 *
 * Thread-safe: searches share a read lock; applying changes takes the
 * write lock only to swap in what was read outside it.
 */
#ifndef MR_ENGINE_HCPDIR_H
#define MR_ENGINE_HCPDIR_H

#include <stddef.h>
#include <stdint.h>

#include "event/event.h"
#include "md/md.h"
#include "store/store.h"

struct mr_hcpdir;

struct mr_hcpdir_stats {
	int ready;            /* loaded */
	int64_t hcps;         /* HCP records held (any state) */
	int64_t alignments;
	int64_t applied;      /* the md_changes id applied up to */
	int64_t full_loads;
	int64_t changes;      /* md_changes rows applied incrementally */
	int64_t load_us;      /* the last full load */
};

struct mr_hcpdir *mr_hcpdir_new(void);
void mr_hcpdir_free(struct mr_hcpdir *d);

/*
 * Brings d up to date on c (a read connection): a full load the first time
 * or when very many changes are pending, else the changes since the last
 * call. Cheap when nothing changed (one indexed MAX).
 */
int mr_hcpdir_sync(struct mr_hcpdir *d, struct mr_conn *c, struct mr_err *err);

/*
 * One page of HCP list q within scope s, as internal ids, ascending, after
 * q->cursor: at most q->limit + 1 of them in ids (the extra one says there
 * is a next page). Returns 1 when it answered, 0 when d cannot answer this
 * query (not loaded, a filter it does not hold, no search term) and the
 * caller must ask the store.
 */
int mr_hcpdir_page(struct mr_hcpdir *d, const struct mr_md_query *q, const struct mr_scope *s,
		   int64_t *ids, int *n);

/* The internal id of the live (not deleted, not merged) HCP with external id ext, or 0. */
int64_t mr_hcpdir_lookup(struct mr_hcpdir *d, const char *ext);

/*
 * Resolves the external ids (hcp, rep) of n events to internal ids where
 * they are 0, under one lock: miss[i] is 1 for an event whose HCP or rep
 * is unknown or deleted (a merged HCP record is found: its events are its
 * survivor's); returns how many. Not loaded: all miss.
 */
int mr_hcpdir_resolve(struct mr_hcpdir *d, struct mr_event *ev, int n, unsigned char *miss);

/* Rep types, as the reps table names them. */
enum mr_rep_type { MR_REP_NONE, MR_REP_FIELD, MR_REP_INSIDE, MR_REP_MSL, MR_REP_KAM };
/* The enum of a rep type name ("field", ...); MR_REP_NONE when unknown. */
int mr_rep_type_parse(const char *name);
const char *mr_rep_type_name(int type);
/* The internal id of the live rep with external id ext (and its type), or 0. */
int64_t mr_hcpdir_rep(struct mr_hcpdir *d, const char *ext, int *type);
/*
 * The reps whose type is in mask (a bit per enum mr_rep_type) as a map by
 * rep id: *bits (malloc'd, *n entries) has 1 for each. 0 when not loaded.
 */
int mr_hcpdir_reps_of(struct mr_hcpdir *d, unsigned mask, unsigned char **bits, uint32_t *n);
/* Alignment roles, as the alignments table names them. */
enum mr_align_role { MR_AL_NONE, MR_AL_FIELD_OWNER, MR_AL_INSIDE_OWNER, MR_AL_MSL };
int mr_align_role_parse(const char *name);

/* An alignment in force, as mr_hcpdir_alignments lists them. */
struct mr_hcpdir_align {
	uint32_t hcp, rep;
	uint8_t role;       /* enum mr_align_role */
	uint8_t rep_type;   /* enum mr_rep_type */
};
/*
 * The alignments in force at time at (µs) of live rows, in id order, as a
 * malloc'd array *out of *n (free it). 0 when not loaded.
 */
int mr_hcpdir_alignments(struct mr_hcpdir *d, int64_t at, struct mr_hcpdir_align **out, size_t *n);
/* When a doctor's alignments of one role next start or end after some time. */
struct mr_hcpdir_turn {
	uint32_t hcp;
	int64_t at;         /* µs */
};
/*
 * The doctors whose alignments of role start or end after time at, each
 * with the earliest such time, in hcp order, as a malloc'd array *out of
 * *n (free it). 0 when not loaded.
 */
int mr_hcpdir_align_turns(struct mr_hcpdir *d, int64_t at, int role, struct mr_hcpdir_turn **out, size_t *n);
/*
 * The live HCP records in scope s (at s->at) as a map by record id:
 * (*in)[id] is 1 for each; *n ids (free *in). 0 when not loaded.
 */
int mr_hcpdir_scope_map(struct mr_hcpdir *d, const struct mr_scope *s, unsigned char **in, uint32_t *n);
/* The external id of rep rep_id, written into buf, or NULL when unknown. */
const char *mr_hcpdir_rep_ext(struct mr_hcpdir *d, int64_t rep_id, char *buf, size_t cap);
/* The type of rep rep_id (MR_REP_NONE when unknown). */
int mr_hcpdir_rep_type(struct mr_hcpdir *d, int64_t rep_id);
/*
 * The HCP record hcp_id and every record merged into it (directly or
 * through others), at most max, into ids; returns how many (0 when
 * hcp_id is unknown). Their events are the doctor's.
 */
int mr_hcpdir_cluster(struct mr_hcpdir *d, int64_t hcp_id, uint32_t *ids, int max);

/*
 * What a sync applied, for the projections that follow master data beside
 * the directory (engine/profile.h): the HCP records, reps and hospitals
 * that changed (internal ids, repeats possible), whether content did, or
 * all: a full load, after which anything may have changed.
 */
struct mr_hcpdir_change {
	int all;
	const int64_t *hcps, *reps, *hcos;
	uint32_t nhcps, nreps, nhcos;
	int content;
};
/*
 * Called after each sync that applied something, on its thread and its
 * connection c (outside any transaction; the directory's lock not held),
 * in the order of the changes. A listener that cannot read what changed
 * must note it and catch up later: the directory has moved on. At most 4;
 * register before the load starts.
 */
typedef void (*mr_hcpdir_listen_fn)(void *arg, struct mr_conn *c, const struct mr_hcpdir_change *ch);
void mr_hcpdir_listen(struct mr_hcpdir *d, mr_hcpdir_listen_fn fn, void *arg);

/* 1 once the first load is in (until then, callers ask the store). */
int mr_hcpdir_ready(struct mr_hcpdir *d);
/* Waits for the first load at most until deadline_us (a mr_mono_us time); 1 when ready. */
int mr_hcpdir_wait_ready(struct mr_hcpdir *d, int64_t deadline_us);
/*
 * Loads d on a thread of its own, from a connection of store's, so that a
 * server starts answering at once (from the store) and searches in memory
 * as soon as the load is in. mr_hcpdir_free waits for it.
 */
void mr_hcpdir_load_async(struct mr_hcpdir *d, struct mr_store *store);

void mr_hcpdir_stats(struct mr_hcpdir *d, struct mr_hcpdir_stats *out);

#endif
