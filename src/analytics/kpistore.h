/*
 * The KPIs' copy of the event lists, laid out for scanning. The event
 * index (engine/evindex.h) keeps each HCP record's events in an
 * allocation of its own, grown as events arrive, so its lists lie all
 * over the heap: a pass over every event pays a cache and TLB miss per
 * doctor (~400 ms over 10 million events). Here the same events sit in
 * columns (time, channel and outcome, rep), record after record, each
 * column one allocation on huge pages, so that a KPI pass reads memory
 * front to back and only the columns it needs (a phone funnel reads 1
 * byte an event, and each record's first and last time).
 *
 * The columns are built from the index on first use (under the index's
 * read lock: its writers wait, ~70 ms per million events here) and the
 * events applied after that arrive through the index's listener into a
 * small delta, chained per record. When the delta grows past an eighth of
 * the columns (at least 64k events), the next read rebuilds.
 *
 * Thread-safe: reads share a lock; the listener and rebuilds take it
 * exclusively.
 */
#ifndef MR_ANALYTICS_KPISTORE_H
#define MR_ANALYTICS_KPISTORE_H

#include <stdint.h>

struct mr_evindex;
struct mr_kpistore;

/* An event applied after the columns were built. */
struct mr_kpistore_ev {
	int64_t ts;
	uint32_t rep;
	uint32_t next;      /* the record's next delta event, as index + 1; 0: none */
	uint8_t cho;        /* channel << 2 | outcome */
};

/* What a reader sees, unchanged between mr_kpistore_read_begin and _end. */
struct mr_kpistore_view {
	uint32_t nrec;                     /* records below this have columns */
	const uint32_t *off;               /* nrec + 1: record r's events are off[r] .. off[r + 1] - 1 */
	const int64_t *ts;                 /* µs, ascending within a record */
	const int64_t *first, *last;       /* nrec: a record's first and last ts (a pass finds its window in them) */
	const uint8_t *cho;                /* channel << 2 | outcome */
	const uint32_t *rep;               /* rep id, 0: none */
	const uint32_t *dhead;             /* ndhead: a record's newest delta event, as index + 1 */
	uint32_t ndhead;
	const struct mr_kpistore_ev *d;
	int64_t events;                    /* in the columns and the delta */
};

struct mr_kpistore *mr_kpistore_new(void);
void mr_kpistore_free(struct mr_kpistore *k);

/* Takes x's new events as they are applied: call before x's load starts. */
void mr_kpistore_follow(struct mr_kpistore *k, struct mr_evindex *x);

/*
 * Begins a read of x's events (x loaded): builds or rebuilds the columns
 * first when they are missing or the delta is too large, then fills *v.
 */
void mr_kpistore_read_begin(struct mr_kpistore *k, struct mr_evindex *x, struct mr_kpistore_view *v);
void mr_kpistore_read_end(struct mr_kpistore *k);

/* Bytes held (columns and delta). */
int64_t mr_kpistore_bytes(struct mr_kpistore *k);

#endif
