/*
 * See wait.h. The parked requests are an array under one mutex; parking,
 * waking and the timer's sweep hold it while they suspend or resume, so a
 * request is resumed at most once per park and never after it is gone.
 */
#include "http/wait.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/mem.h"
#include "base/time.h"

enum { MR_WAIT_MAX = 10000, MR_WAIT_TICK_MS = 50 };

struct mr_waiters {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct mr_req **r;
	int n, cap;
	int closed;
	pthread_t timer;
	int timer_started;
};

/* Resumes entry i and removes it; called locked. */
static void mr_waiters_resume_at(struct mr_waiters *w, int i)
{
	struct mr_req *r = w->r[i];

	w->r[i] = w->r[--w->n];
	r->suspended = 0;
	MHD_resume_connection(r->conn);
}

static void *mr_waiters_timer(void *arg)
{
	struct mr_waiters *w = arg;

	pthread_mutex_lock(&w->mu);
	while (!w->closed) {
		struct timespec ts;
		int64_t now;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += MR_WAIT_TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&w->cv, &w->mu, &ts);
		now = mr_mono_us();
		for (int i = w->n - 1; i >= 0; i--) {
			if (w->r[i]->wait_deadline_us <= now)
				mr_waiters_resume_at(w, i);
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct mr_waiters *mr_waiters_new(void)
{
	struct mr_waiters *w = mr_calloc(1, sizeof(*w));

	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->timer_started = pthread_create(&w->timer, NULL, mr_waiters_timer, w) == 0;
	if (!w->timer_started)
		w->closed = 1; /* without a timer nobody may wait */
	return w;
}

void mr_waiters_close(struct mr_waiters *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->closed = 1;
	while (w->n > 0)
		mr_waiters_resume_at(w, w->n - 1);
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void mr_waiters_free(struct mr_waiters *w)
{
	if (!w)
		return;
	mr_waiters_close(w);
	if (w->timer_started)
		pthread_join(w->timer, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w->r);
	free(w);
}

int mr_waiters_park(struct mr_waiters *w, struct mr_req *r, struct mr_err *err)
{
	int rc = 0;

	pthread_mutex_lock(&w->mu);
	if (w->closed || w->n >= MR_WAIT_MAX) {
		rc = mr_err_set(err, MR_EUNAVAIL, w->closed ? "the server is stopping" :
				"too many requests are waiting for events; poll again later");
	} else {
		if (w->n == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 64;
			w->r = mr_realloc(w->r, (size_t)w->cap * sizeof(*w->r));
		}
		w->r[w->n++] = r;
		r->suspended = 1;
		r->wait_count++;
		MHD_suspend_connection(r->conn);
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

void mr_waiters_forget(struct mr_waiters *w, struct mr_req *r)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	for (int i = 0; i < w->n; i++) {
		if (w->r[i] == r) {
			w->r[i] = w->r[--w->n];
			break;
		}
	}
	pthread_mutex_unlock(&w->mu);
}

void mr_waiters_wake(struct mr_waiters *w, int64_t last_seq)
{
	pthread_mutex_lock(&w->mu);
	for (int i = w->n - 1; i >= 0; i--) {
		if (w->r[i]->wait_after_seq < last_seq)
			mr_waiters_resume_at(w, i);
	}
	pthread_mutex_unlock(&w->mu);
}

int mr_waiters_count(struct mr_waiters *w)
{
	int n;

	pthread_mutex_lock(&w->mu);
	n = w->n;
	pthread_mutex_unlock(&w->mu);
	return n;
}
