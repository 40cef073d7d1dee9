/*
 * Event ingestion: NDJSON, one event a line, plain or gzip, read as a
 * stream (bytes in as they arrive; nothing beyond one line and one batch is
 * buffered), checked line by line, and handed on in batches. The same code
 * serves POST /api/v1/events (batches go to the server's group-commit
 * writer, a few in flight while the next lines are parsed) and
 * `medreach import events` (batches committed one by one).
 *
 * Bad lines are reported with their line number and the reason, and the
 * good ones are kept: malformed JSON, a field the contract does not know,
 * a channel or outcome outside it, an unknown doctor or rep, a line over
 * the cap, invalid UTF-8. What stops the whole stream: the inflated size
 * passing its cap (a gzip bomb: MR_ETOOBIG), a corrupt gzip stream, and a
 * batch whose commit failed (the store's error; batches before it are
 * committed, and sending the stream again is safe, as stored ids count as
 * duplicates).
 */
#ifndef MR_EVENT_INGEST_H
#define MR_EVENT_INGEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "event/log.h"

struct mr_ingest;

/* One batch on its way to the store; mr_ingest_batch_done says how it ended. */
struct mr_ingest_batch {
	struct mr_evlog_batch log;
	int64_t *line;              /* the NDJSON line of each event */
	struct mr_arena arena;      /* the events' strings */
	int cap;
	struct mr_ingest *owner;
	int rc;                     /* set by mr_ingest_batch_done */
	struct mr_err err;
};

struct mr_ingest_opts {
	int gzip;                   /* the bytes are a gzip stream */
	size_t max_inflated;        /* cap on the inflated bytes (0: 4 GiB) */
	int batch;                  /* events per batch (default 4096) */
	int in_flight;              /* batches submitted and not done, at most (default 2) */
	int max_listed;             /* rejected lines listed in the report (default 1000) */
	const char *source;         /* the events' source unless a line names one ("api", "import") */
	/*
	 * Resolves ev->hcp and ev->rep to internal ids, a batch at a time, before
	 * it is submitted: an event it cannot resolve gets fate MR_EV_REJECTED
	 * and its reason in b->log.why[i]. A negative return fails the stream.
	 */
	int (*resolve)(void *arg, struct mr_ingest_batch *b, struct mr_err *err);
	/*
	 * Takes a full batch; must eventually call mr_ingest_batch_done(b, ...)
	 * (possibly before returning, possibly from another thread). A negative
	 * return means it could not take it (nothing submitted).
	 */
	int (*submit)(void *arg, struct mr_ingest_batch *b, struct mr_err *err);
	void *arg;
	void (*progress)(void *arg, int64_t bytes, int64_t events);
	void *progress_arg;
};

struct mr_ingest_report {
	int64_t lines;              /* non-empty lines */
	int64_t accepted, duplicates, rejected;
	int64_t bytes_in, bytes_inflated;
	json_t *rejected_list;      /* [{"line","error"}] in line order, at most max_listed; owned */
	int64_t took_us;
};

int mr_ingest_new(struct mr_ingest **out, const struct mr_ingest_opts *o, struct mr_err *err);
/* Takes the next n bytes of the body. */
int mr_ingest_feed(struct mr_ingest *in, const void *data, size_t n, struct mr_err *err);
/* Ends the stream: the last batch submitted, every batch waited for; fills rep. */
int mr_ingest_finish(struct mr_ingest *in, struct mr_ingest_report *rep, struct mr_err *err);
/* Waits for batches in flight (after a failure, before freeing) and frees in (NULL is fine). */
void mr_ingest_free(struct mr_ingest *in);
/* The report as the API answers: {"accepted","duplicates","rejected":[...],"rejected_total",...}. */
json_t *mr_ingest_report_json(const struct mr_ingest_report *rep);
void mr_ingest_report_release(struct mr_ingest_report *rep);

/*
 * The usual resolve function: the batch's HCP and rep ids from the in-memory
 * directory d, under one lock; when some are unknown, d is synced from store
 * once (they may have been created a moment ago, perhaps by another process)
 * and asked again; what is still unknown is rejected ("unknown HCP 'D..'").
 */
struct mr_hcpdir;
int mr_ingest_resolve(struct mr_hcpdir *d, struct mr_store *store, struct mr_ingest_batch *b,
		      struct mr_err *err);

/* The submit function's word that b was committed (rc 0) or failed; any thread. */
void mr_ingest_batch_done(struct mr_ingest_batch *b, int rc, const struct mr_err *err);

#endif
