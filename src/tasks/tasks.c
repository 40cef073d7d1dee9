/*
 * See tasks.h. The open tasks live in a hash of singly linked nodes keyed
 * by the doctor's record id (buckets double when the nodes outnumber them
 * twice). The listener runs on whichever thread applied events — often a
 * request's, before it answers — so it only probes the hash and queues the
 * events whose doctor has open tasks; the module's thread does the rest,
 * and writes only through the writer, never from inside the listener.
 */
#include "tasks/tasks.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/time.h"
#include "engine/evindex.h"
#include "event/event.h"
#include "store/writer.h"
#include "tasks/task.h"

enum {
	MR_TASKS_TICK_MS = 1000,   /* expiry and following the table */
	MR_TASKS_OVERLAP_S = 10,   /* how far back each follow looks again (commits land late) */
	MR_TASKS_EXPIRE_MAX = 500, /* tasks expired per transaction */
	MR_TASKS_CANDIDATES = 64,  /* open tasks of one doctor looked at per event */
};

/* One open (or in progress) task, as the matcher needs it. */
struct mr_topen {
	struct mr_topen *next;
	int64_t id;
	uint32_t hcp;
	int type;
	int64_t assignee, due_from, due_to;
	char *content;
};

struct mr_tasks {
	struct mr_evindex *x;
	struct mr_store *store;
	struct mr_writer *writer;
	pthread_mutex_t mu;          /* the hash, the queue, the flags */
	pthread_cond_t cv;
	struct mr_topen **buckets;
	uint32_t nbuckets;           /* a power of two */
	int64_t nopen;
	struct mr_evref *queue;
	int nqueue, capqueue;
	int stop, kick, running, loaded;
	int tick_now;                /* mr_tasks_kick: expire and follow without waiting for the tick */
	pthread_t thread;
	int64_t followed_at;         /* updated_at the last follow read from */
	_Atomic int64_t heard, fulfilled, chained, expired;
};

struct mr_tasks *mr_tasks_new(struct mr_evindex *x)
{
	struct mr_tasks *t = mr_calloc(1, sizeof(*t));

	t->x = x;
	t->nbuckets = 1024;
	t->buckets = mr_calloc(t->nbuckets, sizeof(struct mr_topen *));
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	return t;
}

static void mr_topen_free(struct mr_topen *o)
{
	free(o->content);
	free(o);
}

void mr_tasks_free(struct mr_tasks *t)
{
	if (!t)
		return;
	mr_tasks_stop(t);
	for (uint32_t b = 0; b < t->nbuckets; b++) {
		struct mr_topen *o = t->buckets[b];

		while (o) {
			struct mr_topen *next = o->next;

			mr_topen_free(o);
			o = next;
		}
	}
	free(t->buckets);
	free(t->queue);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->cv);
	free(t);
}

/* ------------------------------------------------------------ the open set (mu held) */

static uint32_t mr_tasks_bucket(const struct mr_tasks *t, uint32_t hcp)
{
	return (hcp * 2654435761u) & (t->nbuckets - 1);
}

static void mr_tasks_grow(struct mr_tasks *t)
{
	uint32_t old = t->nbuckets;
	struct mr_topen **was = t->buckets;

	t->nbuckets = old * 2;
	t->buckets = mr_calloc(t->nbuckets, sizeof(struct mr_topen *));
	for (uint32_t b = 0; b < old; b++) {
		struct mr_topen *o = was[b];

		while (o) {
			struct mr_topen *next = o->next;
			uint32_t nb = mr_tasks_bucket(t, o->hcp);

			o->next = t->buckets[nb];
			t->buckets[nb] = o;
			o = next;
		}
	}
	free(was);
}

/* Drops task id of doctor hcp from the set, if it is there. */
static void mr_tasks_drop(struct mr_tasks *t, uint32_t hcp, int64_t id)
{
	struct mr_topen **p = &t->buckets[mr_tasks_bucket(t, hcp)];

	while (*p) {
		if ((*p)->id == id) {
			struct mr_topen *o = *p;

			*p = o->next;
			mr_topen_free(o);
			t->nopen--;
			return;
		}
		p = &(*p)->next;
	}
}

/* Puts o (taken) in the set, replacing the node of the same task. */
static void mr_tasks_put(struct mr_tasks *t, struct mr_topen *o)
{
	uint32_t b;

	mr_tasks_drop(t, o->hcp, o->id);
	if (t->nopen + 1 > 2 * (int64_t)t->nbuckets)
		mr_tasks_grow(t);
	b = mr_tasks_bucket(t, o->hcp);
	o->next = t->buckets[b];
	t->buckets[b] = o;
	t->nopen++;
}

static int mr_tasks_has(const struct mr_tasks *t, uint32_t hcp)
{
	for (const struct mr_topen *o = t->buckets[mr_tasks_bucket(t, hcp)]; o; o = o->next) {
		if (o->hcp == hcp)
			return 1;
	}
	return 0;
}

/* ------------------------------------------------------------ reading tasks from the store */

#define MR_TASKS_OPEN_COLS "SELECT id, hcp_id, assignee_id, type, due_from, due_to, content, status FROM tasks"

/* Applies the rows of an MR_TASKS_OPEN_COLS query to the set: active ones in, the others out. */
static int mr_tasks_apply_rows(struct mr_tasks *t, struct mr_rows *rows, struct mr_err *err)
{
	int rc;

	while ((rc = mr_rows_next(rows, err)) == 1) {
		int status = mr_task_status_parse(mr_rows_text(rows, 7));
		uint32_t hcp = (uint32_t)mr_rows_int(rows, 1);
		int64_t id = mr_rows_int(rows, 0);

		pthread_mutex_lock(&t->mu);
		if (mr_task_active(status)) {
			struct mr_topen *o = mr_calloc(1, sizeof(*o));

			o->id = id;
			o->hcp = hcp;
			o->assignee = mr_rows_int(rows, 2);
			o->type = mr_task_type_parse(mr_rows_text(rows, 3));
			o->due_from = mr_rows_int(rows, 4);
			o->due_to = mr_rows_int(rows, 5);
			o->content = mr_rows_isnull(rows, 6) ? NULL : mr_strdup(mr_rows_text(rows, 6));
			mr_tasks_put(t, o);
		} else {
			mr_tasks_drop(t, hcp, id);
		}
		pthread_mutex_unlock(&t->mu);
	}
	return rc < 0 ? rc : 0;
}

static int mr_tasks_query(struct mr_tasks *t, struct mr_conn *c, const char *where, struct mr_val arg,
			  struct mr_err *err)
{
	char sql[300];
	struct mr_rows *rows = NULL;
	int rc;

	snprintf(sql, sizeof(sql), "%s WHERE %s", MR_TASKS_OPEN_COLS, where);
	rc = mr_conn_query(c, sql, &arg, 1, &rows, err);
	if (rc == 0)
		rc = mr_tasks_apply_rows(t, rows, err);
	mr_rows_close(rows);
	return rc;
}

void mr_tasks_changed(struct mr_tasks *t, struct mr_conn *c, int64_t id)
{
	struct mr_conn *own = NULL;
	struct mr_err err;

	mr_err_clear(&err);
	if (!c) {
		if (!t->store || mr_store_acquire(t->store, &own, &err) < 0)
			return;
		c = own;
	}
	if (mr_tasks_query(t, c, "id = ?", mr_v_int(id), &err) < 0)
		mr_log_warn("event=tasks_follow_failed task=%lld error=\"%s\"", (long long)id, err.msg);
	if (own)
		mr_store_release(t->store, own);
}

/* The first load (every active task) or a follow (rows changed lately); on the thread. */
static void mr_tasks_follow_store(struct mr_tasks *t)
{
	struct mr_conn *c = NULL;
	struct mr_err err;
	int64_t now = mr_now_us();
	int rc;

	mr_err_clear(&err);
	if (mr_store_acquire(t->store, &c, &err) < 0)
		return;
	if (!t->loaded)
		rc = mr_tasks_query(t, c, "status IN ('open', 'in_progress') AND id > ?", mr_v_int(0), &err);
	else
		rc = mr_tasks_query(t, c, "updated_at >= ?", mr_v_int(t->followed_at - MR_TASKS_OVERLAP_S * MR_US_PER_S),
				    &err);
	mr_store_release(t->store, c);
	if (rc < 0) {
		mr_log_warn("event=tasks_follow_failed error=\"%s\"", err.msg);
		return;
	}
	t->followed_at = now;
	if (!t->loaded) {
		pthread_mutex_lock(&t->mu);
		t->loaded = 1;
		mr_log_info("event=tasks_loaded open=%lld", (long long)t->nopen);
		pthread_mutex_unlock(&t->mu);
	}
}

/* ------------------------------------------------------------ the listener */

static void mr_tasks_heard(void *arg, const struct mr_evref *refs, int n)
{
	struct mr_tasks *t = arg;
	int queued = 0;

	pthread_mutex_lock(&t->mu);
	for (int i = 0; t->nopen && i < n; i++) {
		if (!mr_tasks_has(t, refs[i].hcp))
			continue;
		if (t->nqueue == t->capqueue) {
			t->capqueue = t->capqueue ? t->capqueue * 2 : 64;
			t->queue = mr_realloc(t->queue, (size_t)t->capqueue * sizeof(*t->queue));
		}
		t->queue[t->nqueue++] = refs[i];
		queued++;
	}
	if (queued) {
		t->kick = 1;
		pthread_cond_signal(&t->cv);
	}
	pthread_mutex_unlock(&t->mu);
	if (queued)
		atomic_fetch_add(&t->heard, queued);
}

void mr_tasks_follow(struct mr_tasks *t)
{
	mr_evindex_listen(t->x, mr_tasks_heard, t);
}

/* ------------------------------------------------------------ matching and fulfilling */

/* The event's id, content and meeting, read by seq. */
struct mr_tasks_evrow {
	char eid[256];
	char content[256];
	char meeting[256];
	int has_content, has_meeting;
};

static int mr_tasks_read_event(struct mr_tasks *t, int64_t seq, struct mr_tasks_evrow *ev, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	struct mr_rows *rows = NULL;
	struct mr_val arg = mr_v_int(seq);
	int rc = mr_store_acquire(t->store, &c, err);

	memset(ev, 0, sizeof(*ev));
	if (rc == 0)
		rc = mr_conn_query(c, "SELECT eid, content, meeting FROM events WHERE seq = ?", &arg, 1, &rows, err);
	if (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		snprintf(ev->eid, sizeof(ev->eid), "%s", mr_rows_text(rows, 0));
		ev->has_content = !mr_rows_isnull(rows, 1);
		ev->has_meeting = !mr_rows_isnull(rows, 2);
		snprintf(ev->content, sizeof(ev->content), "%s", ev->has_content ? mr_rows_text(rows, 1) : "");
		snprintf(ev->meeting, sizeof(ev->meeting), "%s", ev->has_meeting ? mr_rows_text(rows, 2) : "");
		rc = 0;
	} else if (rc == 0) {
		rc = mr_err_set(err, MR_ENOTFOUND, "event seq %lld is not in the store", (long long)seq);
	}
	mr_rows_close(rows);
	if (c)
		mr_store_release(t->store, c);
	return rc;
}

/* A fulfilment on its way through the writer. */
struct mr_tasks_job {
	int64_t task_id, hcp_id, seq, ts, now;
	int type;
	struct mr_task_ev ev;
	const char *eid;
	int done;
	int64_t chained;         /* the visit task created, or 0 */
};

/* The chained visit: for the doctor's field owner, due within MR_TASK_CHAIN_DAYS. */
static int mr_tasks_chain(struct mr_conn *c, struct mr_tasks_job *j, struct mr_err *err)
{
	char ref[40], reason[400], when[40];
	const char *what = j->type == MR_TT_MEETING_INVITE ? "the meeting invitation" : "the WeChat message";
	struct mr_task_new nt;
	int64_t owner = 0;
	int rc = mr_task_field_owner(c, j->hcp_id, j->now, &owner, err);

	if (rc < 0 || !owner)
		return rc;
	mr_time_format(j->ts, when, sizeof(when));
	snprintf(ref, sizeof(ref), "chain:%lld", (long long)j->task_id);
	snprintf(reason, sizeof(reason),
		 "The doctor %s %s of task %lld (%s, event %s): visit within %d days while the interest is fresh.",
		 mr_outcome_name(j->ev.channel, j->ev.outcome), what, (long long)j->task_id, when, j->eid,
		 MR_TASK_CHAIN_DAYS);
	memset(&nt, 0, sizeof(nt));
	nt.type = MR_TT_VISIT;
	nt.hcp_id = j->hcp_id;
	nt.assignee_id = owner;
	nt.due_from = j->now;
	nt.due_to = j->now + MR_TASK_CHAIN_DAYS * INT64_C(86400) * MR_US_PER_S;
	nt.priority = 2;
	nt.source = MR_TSRC_RULE;
	nt.source_ref = ref;
	nt.reason = reason;
	nt.now = j->now;
	return mr_task_create(c, &nt, &j->chained, err);
}

static int mr_tasks_fulfil_write(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_tasks_job *j = arg;
	int rc = mr_task_fulfil(c, j->task_id, j->eid, j->seq, j->now, &j->done, err);

	j->chained = 0;
	if (rc == 0 && j->done && mr_task_chains(j->type, &j->ev))
		rc = mr_tasks_chain(c, j, err);
	return rc;
}

/* The open tasks of the event's doctor, copied out of the set (content borrowed into buf). */
struct mr_tasks_cand {
	int64_t id;
	struct mr_task_want w;
	char content[256];
};

static int mr_tasks_candidates(struct mr_tasks *t, uint32_t hcp, struct mr_tasks_cand *out, int max)
{
	int n = 0;

	pthread_mutex_lock(&t->mu);
	for (const struct mr_topen *o = t->buckets[mr_tasks_bucket(t, hcp)]; o && n < max; o = o->next) {
		if (o->hcp != hcp)
			continue;
		out[n].id = o->id;
		out[n].w.type = o->type;
		out[n].w.assignee_id = o->assignee;
		out[n].w.due_from = o->due_from;
		out[n].w.due_to = o->due_to;
		snprintf(out[n].content, sizeof(out[n].content), "%s", o->content ? o->content : "");
		out[n].w.content = o->content ? out[n].content : NULL;
		n++;
	}
	pthread_mutex_unlock(&t->mu);
	return n;
}

/* Fulfils candidate c by the event; updates the set after the commit. */
static void mr_tasks_fulfil(struct mr_tasks *t, const struct mr_evref *ref, const struct mr_tasks_cand *c,
			    const struct mr_task_ev *ev, const char *eid)
{
	struct mr_tasks_job j;
	struct mr_err err;

	memset(&j, 0, sizeof(j));
	j.task_id = c->id;
	j.hcp_id = ref->hcp;
	j.seq = ref->seq;
	j.ts = ref->ts;
	j.now = mr_now_us();
	j.type = c->w.type;
	j.ev = *ev;
	j.eid = eid;
	mr_err_clear(&err);
	if (mr_writer_submit(t->writer, mr_tasks_fulfil_write, &j, &err) < 0) {
		mr_log_warn("event=task_fulfil_failed task=%lld error=\"%s\"", (long long)c->id, err.msg);
		return;
	}
	mr_tasks_changed(t, NULL, c->id);
	if (j.done) {
		atomic_fetch_add(&t->fulfilled, 1);
		mr_log_info("event=task_fulfilled task=%lld seq=%lld", (long long)c->id, (long long)ref->seq);
	}
	if (j.chained) {
		atomic_fetch_add(&t->chained, 1);
		mr_tasks_changed(t, NULL, j.chained);
		mr_log_info("event=task_chained task=%lld visit=%lld", (long long)c->id, (long long)j.chained);
	}
}

/*
 * One event against its doctor's open tasks: of each type, the matching
 * task due first is fulfilled (one call does one call task, not all).
 */
static void mr_tasks_match(struct mr_tasks *t, const struct mr_evref *ref)
{
	struct mr_tasks_cand *cand = mr_malloc(MR_TASKS_CANDIDATES * sizeof(*cand));
	struct mr_tasks_evrow row;
	struct mr_task_ev ev = { ref->channel, ref->outcome, ref->rep, ref->ts, NULL, NULL };
	int n = mr_tasks_candidates(t, ref->hcp, cand, MR_TASKS_CANDIDATES), any = 0, read = 0;
	int best[MR_TT_COUNT];
	struct mr_err err;

	for (int i = 0; i < n; i++) {
		int need = 0;

		any |= mr_task_may_match(&cand[i].w, &ev, &need);
	}
	if (any) {
		mr_err_clear(&err);
		read = mr_tasks_read_event(t, ref->seq, &row, &err) == 0;
		if (!read)
			mr_log_warn("event=task_match_failed seq=%lld error=\"%s\"", (long long)ref->seq, err.msg);
		ev.content = read && row.has_content ? row.content : NULL;
		ev.meeting = read && row.has_meeting ? row.meeting : NULL;
	}
	for (int k = 0; k < MR_TT_COUNT; k++)
		best[k] = -1;
	for (int i = 0; read && i < n; i++) {
		int k = cand[i].w.type;

		if (k <= 0 || k >= MR_TT_COUNT || !mr_task_matches(&cand[i].w, &ev))
			continue;
		if (best[k] < 0 || cand[i].w.due_to < cand[best[k]].w.due_to ||
		    (cand[i].w.due_to == cand[best[k]].w.due_to && cand[i].id < cand[best[k]].id))
			best[k] = i;
	}
	for (int k = 0; read && k < MR_TT_COUNT; k++) {
		if (best[k] >= 0)
			mr_tasks_fulfil(t, ref, &cand[best[k]], &ev, row.eid);
	}
	free(cand);
}

/* ------------------------------------------------------------ expiry */

struct mr_tasks_expiry {
	int64_t now;
	int64_t ids[MR_TASKS_EXPIRE_MAX];
	int n;
};

static int mr_tasks_expire_write(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_tasks_expiry *e = arg;

	return mr_task_expire(c, e->now, e->ids, MR_TASKS_EXPIRE_MAX, &e->n, err);
}

static void mr_tasks_expire(struct mr_tasks *t)
{
	struct mr_tasks_expiry *e = mr_calloc(1, sizeof(*e));
	struct mr_err err;

	do {
		e->now = mr_now_us();
		e->n = 0;
		mr_err_clear(&err);
		if (mr_writer_submit(t->writer, mr_tasks_expire_write, e, &err) < 0) {
			mr_log_warn("event=task_expiry_failed error=\"%s\"", err.msg);
			break;
		}
		for (int i = 0; i < e->n; i++)
			mr_tasks_changed(t, NULL, e->ids[i]);
		if (e->n)
			mr_log_info("event=tasks_expired n=%d", e->n);
		atomic_fetch_add(&t->expired, e->n);
	} while (e->n == MR_TASKS_EXPIRE_MAX);
	free(e);
}

/* ------------------------------------------------------------ the thread */

/* Takes the queued events (mu held). */
static struct mr_evref *mr_tasks_take(struct mr_tasks *t, int *n)
{
	struct mr_evref *q = t->queue;

	*n = t->nqueue;
	t->queue = NULL;
	t->nqueue = t->capqueue = 0;
	return q;
}

static void mr_tasks_sleep(struct mr_tasks *t, int64_t until)
{
	struct timespec ts;

	if (t->kick || t->stop)
		return;
	ts.tv_sec = (time_t)(until / MR_US_PER_S);
	ts.tv_nsec = (long)(until % MR_US_PER_S) * 1000L;
	pthread_cond_timedwait(&t->cv, &t->mu, &ts);
}

static void *mr_tasks_main(void *arg)
{
	struct mr_tasks *t = arg;
	int64_t next_tick = 0;

	pthread_mutex_lock(&t->mu);
	while (!t->stop) {
		struct mr_evref *q;
		int n, tick = t->tick_now;

		t->kick = 0;
		t->tick_now = 0;
		q = mr_tasks_take(t, &n);
		pthread_mutex_unlock(&t->mu);
		for (int i = 0; i < n; i++)
			mr_tasks_match(t, &q[i]);
		free(q);
		if (tick || mr_now_us() >= next_tick) {
			mr_tasks_follow_store(t);
			if (t->loaded)
				mr_tasks_expire(t);
			next_tick = mr_now_us() + MR_TASKS_TICK_MS * 1000;
		}
		pthread_mutex_lock(&t->mu);
		if (!t->stop && !t->nqueue)
			mr_tasks_sleep(t, next_tick);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

void mr_tasks_start(struct mr_tasks *t, struct mr_store *store, struct mr_writer *w)
{
	t->store = store;
	t->writer = w;
	if (!w)
		return;
	pthread_mutex_lock(&t->mu);
	t->stop = 0;
	t->running = pthread_create(&t->thread, NULL, mr_tasks_main, t) == 0;
	pthread_mutex_unlock(&t->mu);
	if (!t->running)
		mr_log_warn("event=tasks_failed error=\"cannot start a thread\"");
}

void mr_tasks_stop(struct mr_tasks *t)
{
	int running;

	if (!t)
		return;
	pthread_mutex_lock(&t->mu);
	running = t->running;
	t->running = 0;
	t->stop = 1;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	if (running)
		pthread_join(t->thread, NULL);
}

void mr_tasks_kick(struct mr_tasks *t)
{
	pthread_mutex_lock(&t->mu);
	t->kick = 1;
	t->tick_now = 1;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
}

void mr_tasks_stats(struct mr_tasks *t, struct mr_tasks_stats *out)
{
	pthread_mutex_lock(&t->mu);
	out->ready = t->loaded;
	out->open = t->nopen;
	pthread_mutex_unlock(&t->mu);
	out->heard = atomic_load(&t->heard);
	out->fulfilled = atomic_load(&t->fulfilled);
	out->chained = atomic_load(&t->chained);
	out->expired = atomic_load(&t->expired);
}
