/*
 * Group commit. Submitters queue a job and sleep on a shared condition;
 * the writer takes every queued job (up to a cap), runs them in one
 * transaction and wakes everyone once per batch. While one batch commits
 * the next one queues up, so the cost of a commit (an fsync) is shared by
 * as many requests as arrive during it.
 *
 * Posted jobs (mr_writer_post) do not make their submitter wait: a done
 * function runs on this thread after their commit. A lazy one may wait up
 * to the linger time for company, so that a stream of them (the audit
 * records of reads) costs a commit per linger period instead of one each;
 * any other job arriving takes them along at once.
 */
#include "store/writer.h"

#include <errno.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/time.h"

enum { MR_WRITER_MAX_BATCH = 4096 };

struct mr_writer_job {
	mr_write_fn fn;
	mr_write_group_fn group;     /* or this, with the batch's other jobs of the same group */
	int grouped;                 /* run already, with an earlier job of its group */
	void *arg;
	struct mr_err *err;
	int rc;
	int done;
	struct mr_writer_job *next;
	/* posted jobs only (allocated here, freed after done_fn) */
	mr_writer_done_fn done_fn;
	int lazy;
	int64_t queued_at;           /* mr_mono_us() */
	struct mr_err own_err;
};

struct mr_writer {
	struct mr_store *store;
	struct mr_conn *conn;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work;
	pthread_cond_t done;
	struct mr_writer_job *head;
	struct mr_writer_job *tail;
	int stopping;
	int eager;                   /* queued jobs that are not lazy */
	int64_t linger_us;
	struct mr_writer_stats stats;
	void *group_args[MR_WRITER_MAX_BATCH];
	struct mr_writer_job *group_jobs[MR_WRITER_MAX_BATCH];
};

/* Runs one job under a savepoint, so its failure undoes only its own writes. */
static void mr_writer_run_job(struct mr_writer *w, struct mr_writer_job *j, int alone)
{
	struct mr_err sp_err;

	if (alone) {
		j->rc = j->fn(w->conn, j->arg, j->err);
		return;
	}
	mr_err_clear(&sp_err);
	if (mr_conn_savepoint(w->conn, "mr_job", j->err) < 0) {
		j->rc = j->err->code ? j->err->code : MR_EDB;
		return;
	}
	j->rc = j->fn(w->conn, j->arg, j->err);
	if (j->rc < 0)
		mr_conn_rollback_to(w->conn, "mr_job", &sp_err);
	mr_conn_release_savepoint(w->conn, "mr_job", &sp_err);
}

/* Runs first and every later job of the batch with its group fn in one call (alone: the whole batch). */
static void mr_writer_run_group(struct mr_writer *w, struct mr_writer_job *first, int alone)
{
	struct mr_err sp_err, err;
	int n = 0, rc;

	for (struct mr_writer_job *j = first; j; j = j->next) {
		if (j->group != first->group)
			continue;
		j->grouped = 1;
		w->group_jobs[n] = j;
		w->group_args[n++] = j->arg;
	}
	alone = alone && n > 0;
	mr_err_clear(&sp_err);
	mr_err_clear(&err);
	if (!alone && mr_conn_savepoint(w->conn, "mr_job", &err) < 0) {
		rc = err.code ? err.code : MR_EDB;
	} else {
		rc = first->group(w->conn, w->group_args, n, &err);
		if (!alone) {
			if (rc < 0)
				mr_conn_rollback_to(w->conn, "mr_job", &sp_err);
			mr_conn_release_savepoint(w->conn, "mr_job", &sp_err);
		}
	}
	for (int i = 0; i < n; i++) {
		w->group_jobs[i]->rc = rc;
		*w->group_jobs[i]->err = err;
	}
}

/* Fails every job of the batch that had succeeded with the transaction's error. */
static void mr_writer_fail_batch(struct mr_writer_job *batch, const struct mr_err *cause)
{
	for (struct mr_writer_job *j = batch; j; j = j->next) {
		if (j->rc < 0 && j->err->code)
			continue;
		*j->err = *cause;
		j->rc = cause->code ? cause->code : MR_EDB;
	}
}

/* 1 when every job of the batch belongs to one group: it needs no savepoint. */
static int mr_writer_one_group(const struct mr_writer_job *batch)
{
	for (const struct mr_writer_job *j = batch; j; j = j->next) {
		if (j->group != batch->group)
			return 0;
	}
	return 1;
}

static void mr_writer_run_batch(struct mr_writer *w, struct mr_writer_job *batch, uint64_t n)
{
	struct mr_err err;
	int64_t t0 = mr_mono_us();
	int all_failed = 1;

	mr_err_clear(&err);
	if (mr_conn_begin(w->conn, &err) < 0) {
		mr_log_error("event=writer_begin_failed error=\"%s\"", err.msg);
		mr_writer_fail_batch(batch, &err);
		return;
	}
	for (struct mr_writer_job *j = batch; j; j = j->next) {
		if (j->grouped)
			continue;
		if (j->group)
			mr_writer_run_group(w, j, j == batch && mr_writer_one_group(batch));
		else
			mr_writer_run_job(w, j, n == 1);
	}
	for (struct mr_writer_job *j = batch; j; j = j->next) {
		if (j->rc == 0)
			all_failed = 0;
	}
	if (all_failed) {
		mr_conn_rollback(w->conn);
	} else if (mr_conn_commit(w->conn, &err) < 0) {
		mr_log_error("event=writer_commit_failed jobs=%llu error=\"%s\"", (unsigned long long)n,
			     err.msg);
		mr_writer_fail_batch(batch, &err);
	}
	pthread_mutex_lock(&w->mu);
	w->stats.batches++;
	w->stats.jobs += n;
	w->stats.commit_us += (uint64_t)(mr_mono_us() - t0);
	if (n > w->stats.max_batch)
		w->stats.max_batch = n;
	for (struct mr_writer_job *j = batch; j; j = j->next) {
		if (j->rc < 0)
			w->stats.failed++;
	}
	pthread_mutex_unlock(&w->mu);
}

/* Sleeps on work until the absolute monotonic time until_us (or a signal). */
static void mr_writer_wait_until(struct mr_writer *w, int64_t until_us)
{
	struct timespec ts;
	int64_t wall = mr_now_us() + (until_us - mr_mono_us());

	ts.tv_sec = (time_t)(wall / MR_US_PER_S);
	ts.tv_nsec = (long)(wall % MR_US_PER_S) * 1000;
	pthread_cond_timedwait(&w->work, &w->mu, &ts);
}

/*
 * Finishes the posted jobs of a committed batch, then wakes its submitters
 * (so that a submitter finds the posted jobs that shared its commit
 * finished); called locked.
 */
static void mr_writer_finish(struct mr_writer *w, struct mr_writer_job *batch)
{
	struct mr_writer_job *posted = NULL, *waiting = NULL;

	for (struct mr_writer_job *j = batch, *next; j; j = next) {
		next = j->next;
		if (j->done_fn) {
			j->next = posted;
			posted = j;
		} else {
			j->next = waiting;
			waiting = j;
		}
	}
	if (posted) {
		pthread_mutex_unlock(&w->mu);
		while (posted) {
			struct mr_writer_job *j = posted;

			posted = j->next;
			j->done_fn(j->arg, j->rc, j->err);
			free(j);
		}
		pthread_mutex_lock(&w->mu);
	}
	for (struct mr_writer_job *j = waiting, *next; j; j = next) {
		next = j->next; /* the submitter owns j: once done is set it may be gone */
		j->done = 1;
	}
	pthread_cond_broadcast(&w->done);
}

/*
 * Every write of the process passes through this one thread, so when the
 * CPUs are busy (request threads parsing an import, say) it should not
 * wait its turn behind them: it asks for a better nice value, which Linux
 * gives a thread on its own. Without the privilege that stays as it was.
 */
static void mr_writer_prioritise(void)
{
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), -5) < 0)
		mr_log_debug("event=writer_priority error=\"%s\"", strerror(errno));
}

static void *mr_writer_main(void *arg)
{
	struct mr_writer *w = arg;

	mr_writer_prioritise();
	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct mr_writer_job *batch, *last;
		uint64_t n = 1;

		while (!w->head && !w->stopping)
			pthread_cond_wait(&w->work, &w->mu);
		if (!w->head)
			break;
		/* only lazy jobs: let them wait for company until the oldest has lingered enough */
		if (!w->eager && !w->stopping && mr_mono_us() < w->head->queued_at + w->linger_us) {
			mr_writer_wait_until(w, w->head->queued_at + w->linger_us);
			continue;
		}
		batch = w->head;
		last = batch;
		w->eager -= !batch->lazy;
		while (last->next && n < MR_WRITER_MAX_BATCH) {
			last = last->next;
			w->eager -= !last->lazy;
			n++;
		}
		w->head = last->next;
		if (!w->head)
			w->tail = NULL;
		last->next = NULL;
		w->stats.queued -= n;
		pthread_mutex_unlock(&w->mu);

		mr_writer_run_batch(w, batch, n);

		pthread_mutex_lock(&w->mu);
		mr_writer_finish(w, batch);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int mr_writer_start(struct mr_writer **out, struct mr_store *s, struct mr_err *err)
{
	struct mr_writer *w = mr_calloc(1, sizeof(*w));
	int rc;

	*out = NULL;
	w->store = s;
	rc = mr_store_connect(s, &w->conn, err);
	if (rc < 0) {
		free(w);
		return rc;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->done, NULL);
	if (pthread_create(&w->thread, NULL, mr_writer_main, w) != 0) {
		mr_store_disconnect(w->conn);
		free(w);
		return mr_err_set(err, MR_EINTERNAL, "cannot start the writer thread");
	}
	*out = w;
	return 0;
}

void mr_writer_stop(struct mr_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	mr_store_disconnect(w->conn);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->done);
	free(w);
}

int mr_writer_submit(struct mr_writer *w, mr_write_fn fn, void *arg, struct mr_err *err)
{
	struct mr_writer_job job;

	memset(&job, 0, sizeof(job));
	job.fn = fn;
	job.arg = arg;
	job.err = err;
	pthread_mutex_lock(&w->mu);
	if (w->stopping) {
		pthread_mutex_unlock(&w->mu);
		return mr_err_set(err, MR_EUNAVAIL, "the server is shutting down; try again");
	}
	if (w->tail)
		w->tail->next = &job;
	else
		w->head = &job;
	w->tail = &job;
	w->stats.queued++;
	w->eager++;
	pthread_cond_signal(&w->work);
	while (!job.done)
		pthread_cond_wait(&w->done, &w->mu);
	pthread_mutex_unlock(&w->mu);
	return job.rc;
}

static void mr_writer_enqueue(struct mr_writer *w, struct mr_writer_job *j)
{
	j->err = &j->own_err;
	j->queued_at = mr_mono_us();
	pthread_mutex_lock(&w->mu);
	if (w->stopping) {
		pthread_mutex_unlock(&w->mu);
		mr_err_set(j->err, MR_EUNAVAIL, "the server is shutting down; try again");
		j->done_fn(j->arg, MR_EUNAVAIL, j->err);
		free(j);
		return;
	}
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	w->stats.queued++;
	w->eager += !j->lazy;
	/* a lazy job wakes the writer only to start its linger clock */
	if (!j->lazy || w->head == j)
		pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
}

void mr_writer_post(struct mr_writer *w, mr_write_fn fn, void *arg, mr_writer_done_fn done,
		    int lazy)
{
	struct mr_writer_job *j = mr_calloc(1, sizeof(*j));

	j->fn = fn;
	j->arg = arg;
	j->done_fn = done;
	j->lazy = lazy;
	mr_writer_enqueue(w, j);
}

void mr_writer_post_group(struct mr_writer *w, mr_write_group_fn fn, void *arg, mr_writer_done_fn done,
			  int lazy)
{
	struct mr_writer_job *j = mr_calloc(1, sizeof(*j));

	j->group = fn;
	j->arg = arg;
	j->done_fn = done;
	j->lazy = lazy;
	mr_writer_enqueue(w, j);
}

static int mr_writer_nothing(struct mr_conn *c, void *arg, struct mr_err *err)
{
	(void)c;
	(void)arg;
	(void)err;
	return 0;
}

int mr_writer_flush(struct mr_writer *w, struct mr_err *err)
{
	return mr_writer_submit(w, mr_writer_nothing, NULL, err);
}

void mr_writer_set_linger(struct mr_writer *w, int64_t linger_us)
{
	pthread_mutex_lock(&w->mu);
	w->linger_us = linger_us;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
}

void mr_writer_stats(struct mr_writer *w, struct mr_writer_stats *out)
{
	pthread_mutex_lock(&w->mu);
	*out = w->stats;
	pthread_mutex_unlock(&w->mu);
}
