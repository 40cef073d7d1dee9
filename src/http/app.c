/* See app.h. */
#include "http/app.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analytics/kpistore.h"
#include "auth/authcache.h"
#include "auth/throttle.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/time.h"
#include "engine/engine.h"
#include "engine/segments.h"
#include "engine/evindex.h"
#include "engine/hcpdir.h"
#include "engine/profile.h"
#include "engine/tags.h"
#include "http/wait.h"
#include "store/writer.h"
#include "http/metrics.h"
#include "http/openapi.h"
#include "http/router.h"
#include "tasks/tasks.h"
#include "nba/nba.h"
#include "models/models.h"

void mr_server_opts_defaults(struct mr_server_opts *o)
{
	if (!o->listen)
		o->listen = "127.0.0.1:8080";
	if (!o->web_root)
		o->web_root = "web";
	if (o->threads <= 0)
		o->threads = 8;
	if (!o->max_body)
		o->max_body = (size_t)1 << 20;
	if (!o->session_ttl_us)
		o->session_ttl_us = 12 * 3600 * MR_US_PER_S;
	if (o->request_timeout_s <= 0)
		o->request_timeout_s = 30;
	if (o->login_free_fails <= 0)
		o->login_free_fails = 5;
	if (o->addr_free_fails <= 0)
		o->addr_free_fails = 30;
	if (!o->read_audit_set)
		o->read_audit_us = 20000;
}

int mr_app_init(struct mr_app *app, struct mr_store *store, const struct mr_keys *keys,
		const struct mr_server_opts *opts, struct mr_err *err)
{
	struct mr_route *routes = NULL;
	unsigned char prefix[3];
	size_t n = 0;
	int rc = mr_router_build(mr_route_tables, &routes, &n, err);

	memset(app, 0, sizeof(*app));
	if (rc < 0)
		return rc;
	app->store = store;
	app->keys = *keys;
	app->opts = *opts;
	mr_server_opts_defaults(&app->opts);
	app->routes = routes;
	app->nroutes = n;
	app->openapi = mr_openapi_render(routes, n, &app->openapi_len);
	app->metrics = mr_metrics_new(n);
	app->throttle = mr_throttle_new();
	app->authcache = mr_authcache_new();
	app->hcpdir = mr_hcpdir_new();
	app->evindex = mr_evindex_new(mr_store_kind(store) == MR_STORE_SQLITE);
	app->profile = mr_profile_new();
	app->kpistore = mr_kpistore_new();
	app->engine = mr_engine_new(app->hcpdir, app->evindex, app->profile);
	app->tags = mr_tags_new(app->engine, app->hcpdir, app->evindex, app->profile);
	{
		struct mr_tagsrc src;

		mr_tags_source(app->tags, &src);
		mr_engine_set_tags(app->engine, &src);
	}
	app->tasks = mr_tasks_new(app->evindex);
	{
		struct mr_nba_src nsrc = { store, NULL, app->engine, app->hcpdir, app->evindex, app->profile };

		app->nba = mr_nba_new(&nsrc);
	}
	{
		struct mr_tagsrc tsrc;
		struct mr_models_src msrc = { store, app->hcpdir, app->evindex, app->profile, &tsrc };

		mr_tags_source(app->tags, &tsrc);
		app->models = mr_models_new(&msrc);
	}
	mr_nba_set_models(app->nba, app->models); /* the learned policy, for requests and the nightly run alike */
	app->waiters = mr_waiters_new();
	app->started_at = mr_now_us();
	randombytes_buf(prefix, sizeof(prefix));
	sodium_bin2hex(app->request_prefix, sizeof(app->request_prefix), prefix, sizeof(prefix));
	atomic_init(&app->next_request, 1);
	return 0;
}

struct mr_follower {
	struct mr_app *app;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	char last_day[11];             /* the day the saved segments were last measured */
};

enum { MR_FOLLOW_MS = 250 };

struct mr_app_measure {
	struct mr_app *app;
	int measured;
};

static int mr_app_measure_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_app_measure *m = arg;

	return mr_segments_measure(c, m->app->engine, NULL, mr_now_us(), &m->measured, err);
}

/* Once a day (Asia/Shanghai), the saved segments' sizes, as soon as the engine can answer. */
static void mr_follow_daily(struct mr_app *app, char last_day[11])
{
	char day[11];
	struct mr_app_measure m = { app, 0 };
	struct mr_err err;

	mr_segment_day(mr_now_us(), day);
	if (strcmp(day, last_day) == 0 || !mr_engine_ready(app->engine) || !app->writer)
		return;
	mr_err_clear(&err);
	if (mr_writer_submit(app->writer, mr_app_measure_fn, &m, &err) < 0) {
		mr_log_warn("event=segments_measure_failed error=\"%s\"", err.msg);
		return;
	}
	memcpy(last_day, day, 11);
	if (m.measured)
		mr_log_info("event=segments_measured day=%s segments=%d", day, m.measured);
}

static void mr_follow_once(struct mr_app *app)
{
	struct mr_conn *c = NULL;
	struct mr_err err;

	mr_err_clear(&err);
	if (mr_store_acquire(app->store, &c, &err) < 0)
		return;
	if (mr_evindex_ready(app->evindex) && mr_evindex_drain(app->evindex, app->store, &err) < 0)
		mr_log_warn("event=follow_failed what=events error=\"%s\"", err.msg);
	if (mr_evindex_ready(app->evindex) && mr_evindex_sync(app->evindex, c, &err) < 0)
		mr_log_warn("event=follow_failed what=events error=\"%s\"", err.msg);
	if (mr_hcpdir_ready(app->hcpdir) && mr_hcpdir_sync(app->hcpdir, c, &err) < 0)
		mr_log_warn("event=follow_failed what=masterdata error=\"%s\"", err.msg);
	mr_store_release(app->store, c);
}

/* The event index's upkeep: its lists packed again, a fresh snapshot, once enough has been added. */
static void mr_follow_snapshot(struct mr_app *app)
{
	struct mr_err err;

	mr_err_clear(&err);
	if (mr_evindex_maintain(app->evindex, app->store, &err) < 0)
		mr_log_warn("event=snapshot_not_saved error=\"%s\"", err.msg);
}

static void *mr_follow_main(void *arg)
{
	struct mr_follower *f = arg;

	pthread_mutex_lock(&f->mu);
	while (!f->stop) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += MR_FOLLOW_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&f->cv, &f->mu, &ts);
		if (f->stop)
			break;
		pthread_mutex_unlock(&f->mu);
		mr_follow_once(f->app);
		mr_follow_daily(f->app, f->last_day);
		mr_follow_snapshot(f->app);
		mr_nba_tick(f->app->nba); /* the recommendation log, the nightly run */
		mr_models_tick(f->app->models); /* the active models' first load, the scheduled retrain */
		pthread_mutex_lock(&f->mu);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* The tag-change log moved on: the tag feed's polls wake (and look again). */
static void mr_app_tags_logged(void *arg)
{
	mr_waiters_wake(arg, INT64_MAX);
}

/* The event index's watcher: every advance wakes the polls waiting for it. */
static void mr_app_events_applied(void *arg, int64_t last_seq)
{
	mr_waiters_wake(arg, last_seq);
}

/*
 * The event index from its snapshot, when there is one that can serve:
 * before anything else reads or claims (the server is not listening yet),
 * so the load that follows reads only what was stored after it.
 */
static void mr_app_restore(struct mr_app *app)
{
	struct mr_err err;

	mr_err_clear(&err);
	mr_evindex_snapshot_at(app->evindex, app->opts.snapshot);
	if (mr_evindex_restore(app->evindex, app->store, &err) < 0)
		mr_log_warn("event=snapshot_ignored error=\"%s\"", err.msg);
}

void mr_app_start(struct mr_app *app)
{
	struct mr_follower *f = mr_calloc(1, sizeof(*f));

	mr_evindex_watch(app->evindex, mr_app_events_applied, app->waiters);
	mr_profile_follow(app->profile, app->hcpdir);
	mr_kpistore_follow(app->kpistore, app->evindex);
	mr_engine_follow(app->engine);
	mr_tags_follow(app->tags);
	mr_tasks_follow(app->tasks);
	mr_app_restore(app);
	mr_hcpdir_load_async(app->hcpdir, app->store);
	mr_evindex_load_async(app->evindex, app->store);
	mr_tags_start(app->tags, app->store, app->writer, mr_app_tags_logged, app->waiters);
	mr_tasks_start(app->tasks, app->store, app->writer);
	mr_nba_set_writer(app->nba, app->writer);
	mr_models_set_writer(app->models, app->writer);
	f->app = app;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	if (pthread_create(&f->thread, NULL, mr_follow_main, f) != 0) {
		mr_log_warn("event=follow_failed error=\"cannot start a thread\"");
		free(f);
		return;
	}
	app->follower = f;
}

void mr_app_stop(struct mr_app *app)
{
	struct mr_follower *f = app->follower;

	mr_tasks_stop(app->tasks); /* it writes through the writer */
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->thread, NULL);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	free(f);
	app->follower = NULL;
	if (mr_nba_flush(app->nba, &(struct mr_err){ 0 }) < 0) /* the last log rows, through the writer */
		mr_log_warn("event=nba_log_lost");
	mr_nba_set_writer(app->nba, NULL);
	mr_models_set_writer(app->models, NULL);
}

void mr_app_release(struct mr_app *app)
{
	mr_app_stop(app);
	mr_tags_free(app->tags);
	mr_tasks_free(app->tasks);
	mr_nba_free(app->nba);
	mr_models_free(app->models);
	free((void *)app->routes);
	free(app->openapi);
	mr_metrics_free(app->metrics);
	mr_throttle_free(app->throttle);
	mr_authcache_free(app->authcache);
	mr_waiters_free(app->waiters);
	mr_evindex_free(app->evindex);
	mr_hcpdir_free(app->hcpdir);
	mr_engine_free(app->engine);
	mr_profile_free(app->profile);
	mr_kpistore_free(app->kpistore);
	mr_keys_wipe(&app->keys);
	memset(app, 0, sizeof(*app));
}
