/*
 * The single write path of a server process, with group commit: requests
 * hand their writes (a mr_write_fn) to one writer thread, which runs all
 * that are waiting in one transaction, each under its own savepoint, and
 * commits once. Each request is answered only after that commit, so an
 * acknowledged write is durable, and one request's failure rolls back only
 * its own part of the batch.
 *
 * Lifecycle: mr_writer_start → mr_writer_submit / mr_writer_post (from
 * any thread) → mr_writer_stop (drains what is queued, then joins).
 */
#ifndef MR_STORE_WRITER_H
#define MR_STORE_WRITER_H

#include <stdint.h>

#include "store/store.h"

struct mr_writer;

struct mr_writer_stats {
	uint64_t batches;     /* transactions committed or attempted */
	uint64_t jobs;        /* writes run */
	uint64_t failed;      /* writes that returned an error or whose commit failed */
	uint64_t max_batch;   /* the most writes in one transaction */
	uint64_t commit_us;   /* total time spent in transactions */
	uint64_t queued;      /* waiting now */
};

int mr_writer_start(struct mr_writer **out, struct mr_store *s, struct mr_err *err);
/* Finishes what is queued, stops the thread and frees w (NULL is fine). */
void mr_writer_stop(struct mr_writer *w);
/*
 * Runs fn(conn, arg, err) in the next group transaction and waits for the
 * commit. Returns fn's result, or the commit's error; 0 means durable.
 */
int mr_writer_submit(struct mr_writer *w, mr_write_fn fn, void *arg, struct mr_err *err);
/* What a posted job's submitter is told, on the writer thread, once its transaction ended. */
typedef void (*mr_writer_done_fn)(void *arg, int rc, const struct mr_err *err);
/*
 * Queues fn(conn, arg, err) and returns at once; done(arg, rc, err) runs on
 * the writer thread after the commit (rc 0: durable) or the failure, and
 * owns arg from then on. A lazy job may wait up to the linger time (see
 * mr_writer_set_linger) for other jobs to share its commit; any job that is
 * not lazy takes the waiting ones along at once.
 */
void mr_writer_post(struct mr_writer *w, mr_write_fn fn, void *arg, mr_writer_done_fn done,
		    int lazy);
/*
 * A posted job that runs together with the other jobs of its kind in a
 * batch: fn(conn, args, n, err) once for all of them, at the place of the
 * first, under one savepoint (their fate is shared), e.g. the audit records
 * of reads, appended with one bulk insert instead of one each.
 */
typedef int (*mr_write_group_fn)(struct mr_conn *c, void *const *args, int n, struct mr_err *err);
void mr_writer_post_group(struct mr_writer *w, mr_write_group_fn fn, void *arg, mr_writer_done_fn done,
			  int lazy);
/* Waits until everything queued before the call is committed. */
int mr_writer_flush(struct mr_writer *w, struct mr_err *err);
/* How long lazy jobs may wait for company (default 0: not at all). */
void mr_writer_set_linger(struct mr_writer *w, int64_t linger_us);
void mr_writer_stats(struct mr_writer *w, struct mr_writer_stats *out);

#endif
