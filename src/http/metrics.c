/*
 * See metrics.h. Status codes map to a small fixed set of slots; anything
 * else is counted under its class ("4xx"), so the memory per route is fixed.
 */
#include "http/metrics.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "base/mem.h"
#include "base/time.h"
#include "base/version.h"
#include "engine/evindex.h"
#include "engine/tags.h"
#include "store/store.h"
#include "store/writer.h"

static const int mr_status_codes[] = { 200, 201, 204, 304, 400, 401, 403, 404, 405, 408,
				       409, 413, 415, 422, 429, 431, 500, 503 };
enum { MR_NSTATUS = sizeof(mr_status_codes) / sizeof(mr_status_codes[0]), MR_NCLASS = 5 };

/* Upper bounds of the latency buckets, in microseconds. */
static const int64_t mr_bucket_us[] = { 250, 500, 1000, 2500, 5000, 10000, 25000, 50000,
					100000, 250000, 500000, 1000000, 2500000, 10000000 };
enum { MR_NBUCKETS = sizeof(mr_bucket_us) / sizeof(mr_bucket_us[0]) };

struct mr_route_metrics {
	atomic_uint_fast64_t status[MR_NSTATUS];
	atomic_uint_fast64_t other[MR_NCLASS]; /* 1xx..5xx not in the list */
	atomic_uint_fast64_t buckets[MR_NBUCKETS + 1];
	atomic_uint_fast64_t count;
	atomic_uint_fast64_t sum_us;
};

struct mr_metrics {
	size_t nroutes;
	struct mr_route_metrics *routes; /* nroutes + 1; the last is "no route" */
};

struct mr_metrics *mr_metrics_new(size_t nroutes)
{
	struct mr_metrics *m = mr_calloc(1, sizeof(*m));

	m->nroutes = nroutes;
	m->routes = mr_calloc(nroutes + 1, sizeof(*m->routes));
	return m;
}

void mr_metrics_free(struct mr_metrics *m)
{
	if (!m)
		return;
	free(m->routes);
	free(m);
}

void mr_metrics_observe(struct mr_metrics *m, int route_index, int status, int64_t dur_us)
{
	struct mr_route_metrics *rm;
	int slot = -1;
	int b = 0;

	if (route_index < 0 || (size_t)route_index >= m->nroutes)
		route_index = (int)m->nroutes;
	rm = &m->routes[route_index];
	for (int i = 0; i < MR_NSTATUS; i++) {
		if (mr_status_codes[i] == status) {
			slot = i;
			break;
		}
	}
	if (slot >= 0)
		atomic_fetch_add_explicit(&rm->status[slot], 1, memory_order_relaxed);
	else if (status >= 100 && status < 600)
		atomic_fetch_add_explicit(&rm->other[status / 100 - 1], 1, memory_order_relaxed);
	while (b < MR_NBUCKETS && dur_us > mr_bucket_us[b])
		b++;
	atomic_fetch_add_explicit(&rm->buckets[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&rm->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&rm->sum_us, (uint_fast64_t)(dur_us > 0 ? dur_us : 0),
				  memory_order_relaxed);
}

static uint64_t mr_load(atomic_uint_fast64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static void mr_metrics_counts(struct mr_buf *out, const char *route, const char *method,
			      struct mr_route_metrics *rm)
{
	static const char *const classes[MR_NCLASS] = { "1xx", "2xx", "3xx", "4xx", "5xx" };

	for (int i = 0; i < MR_NSTATUS; i++) {
		uint64_t v = mr_load(&rm->status[i]);
		if (v)
			mr_buf_addf(out,
				    "medreach_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
				    route, method, mr_status_codes[i], (unsigned long long)v);
	}
	for (int i = 0; i < MR_NCLASS; i++) {
		uint64_t v = mr_load(&rm->other[i]);
		if (v)
			mr_buf_addf(out,
				    "medreach_http_requests_total{route=\"%s\",method=\"%s\",status=\"%s\"} %llu\n",
				    route, method, classes[i], (unsigned long long)v);
	}
}

static void mr_metrics_hist(struct mr_buf *out, const char *route, const char *method,
			    struct mr_route_metrics *rm)
{
	uint64_t cum = 0;

	for (int b = 0; b < MR_NBUCKETS; b++) {
		cum += mr_load(&rm->buckets[b]);
		mr_buf_addf(out,
			    "medreach_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\",le=\"%g\"} %llu\n",
			    route, method, (double)mr_bucket_us[b] / 1e6, (unsigned long long)cum);
	}
	cum += mr_load(&rm->buckets[MR_NBUCKETS]);
	mr_buf_addf(out,
		    "medreach_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\",le=\"+Inf\"} %llu\n",
		    route, method, (unsigned long long)cum);
	mr_buf_addf(out, "medreach_http_request_duration_seconds_sum{route=\"%s\",method=\"%s\"} %.6f\n",
		    route, method, (double)mr_load(&rm->sum_us) / 1e6);
	mr_buf_addf(out, "medreach_http_request_duration_seconds_count{route=\"%s\",method=\"%s\"} %llu\n",
		    route, method, (unsigned long long)cum);
}

/* Writes one family (counts or histogram) for every route that has seen a request. */
static void mr_metrics_family(struct mr_metrics *m, const struct mr_app *app, struct mr_buf *out,
			      void (*each)(struct mr_buf *, const char *, const char *,
					   struct mr_route_metrics *))
{
	for (size_t i = 0; i <= m->nroutes; i++) {
		const char *route = i < m->nroutes ? app->routes[i].pattern : "unmatched";
		const char *method = i < m->nroutes ? app->routes[i].method : "any";
		if (mr_load(&m->routes[i].count) == 0)
			continue;
		each(out, route, method, &m->routes[i]);
	}
}

static void mr_metrics_store(struct mr_buf *out, const struct mr_app *app)
{
	struct mr_pool_stats ps;
	struct mr_writer_stats ws;

	mr_store_pool_stats(app->store, &ps);
	mr_buf_addf(out,
		    "# HELP medreach_db_pool_size Read connections the pool may hold.\n"
		    "# TYPE medreach_db_pool_size gauge\nmedreach_db_pool_size %d\n"
		    "# HELP medreach_db_pool_in_use Read connections handed out now.\n"
		    "# TYPE medreach_db_pool_in_use gauge\nmedreach_db_pool_in_use %d\n"
		    "# HELP medreach_db_pool_acquires_total Read connections handed out.\n"
		    "# TYPE medreach_db_pool_acquires_total counter\nmedreach_db_pool_acquires_total %llu\n"
		    "# HELP medreach_db_pool_waits_total Acquisitions that waited for a free connection.\n"
		    "# TYPE medreach_db_pool_waits_total counter\nmedreach_db_pool_waits_total %llu\n",
		    ps.size, ps.in_use, (unsigned long long)ps.acquires, (unsigned long long)ps.waits);
	if (!app->writer)
		return;
	mr_writer_stats(app->writer, &ws);
	mr_buf_addf(out,
		    "# HELP medreach_writer_batches_total Group-commit transactions.\n"
		    "# TYPE medreach_writer_batches_total counter\nmedreach_writer_batches_total %llu\n"
		    "# HELP medreach_writer_writes_total Writes committed through the writer.\n"
		    "# TYPE medreach_writer_writes_total counter\nmedreach_writer_writes_total %llu\n"
		    "# HELP medreach_writer_failed_total Writes that failed.\n"
		    "# TYPE medreach_writer_failed_total counter\nmedreach_writer_failed_total %llu\n"
		    "# HELP medreach_writer_max_batch Most writes in one transaction.\n"
		    "# TYPE medreach_writer_max_batch gauge\nmedreach_writer_max_batch %llu\n"
		    "# HELP medreach_writer_queue Writes waiting now.\n"
		    "# TYPE medreach_writer_queue gauge\nmedreach_writer_queue %llu\n"
		    "# HELP medreach_writer_seconds_total Time spent in write transactions.\n"
		    "# TYPE medreach_writer_seconds_total counter\nmedreach_writer_seconds_total %.6f\n",
		    (unsigned long long)ws.batches, (unsigned long long)ws.jobs,
		    (unsigned long long)ws.failed, (unsigned long long)ws.max_batch,
		    (unsigned long long)ws.queued, (double)ws.commit_us / 1e6);
}

/* The projections: how much they hold, and how long the tags' last event round took. */
static void mr_metrics_engine(struct mr_buf *out, const struct mr_app *app)
{
	struct mr_evindex_stats es;
	struct mr_tags_stats ts;

	if (app->evindex) {
		mr_evindex_stats(app->evindex, &es);
		mr_buf_addf(out,
			    "# HELP medreach_events_in_memory Events held by the event index.\n"
			    "# TYPE medreach_events_in_memory gauge\nmedreach_events_in_memory %lld\n"
			    "# HELP medreach_event_index_bytes Memory of the event index (lists, id set, attributes).\n"
			    "# TYPE medreach_event_index_bytes gauge\nmedreach_event_index_bytes %lld\n"
			    "# HELP medreach_event_index_restored_events Events the start took from the snapshot file.\n"
			    "# TYPE medreach_event_index_restored_events gauge\n"
			    "medreach_event_index_restored_events %lld\n"
			    "# HELP medreach_event_index_loaded_events Events the start read from the store.\n"
			    "# TYPE medreach_event_index_loaded_events gauge\nmedreach_event_index_loaded_events %lld\n"
			    "# HELP medreach_event_index_load_seconds How long the start's load took (snapshot and store).\n"
			    "# TYPE medreach_event_index_load_seconds gauge\nmedreach_event_index_load_seconds %.3f\n"
			    "# HELP medreach_event_index_snapshot_seq The last event the snapshot file holds (0: none).\n"
			    "# TYPE medreach_event_index_snapshot_seq gauge\nmedreach_event_index_snapshot_seq %lld\n",
			    (long long)es.events, (long long)es.bytes, (long long)es.restored,
			    (long long)es.from_store, (double)es.load_us / 1e6, (long long)es.saved_last);
	}
	if (app->tags) {
		mr_tags_stats(app->tags, &ts);
		mr_buf_addf(out,
			    "# HELP medreach_tags_rounds_total Rounds of tag evaluation (events, changes, expiry).\n"
			    "# TYPE medreach_tags_rounds_total counter\nmedreach_tags_rounds_total %lld\n"
			    "# HELP medreach_tags_last_event_round_seconds How long the last round for new events took.\n"
			    "# TYPE medreach_tags_last_event_round_seconds gauge\n"
			    "medreach_tags_last_event_round_seconds %.6f\n"
			    "# HELP medreach_tags_bytes Memory of the tag values and bitmaps.\n"
			    "# TYPE medreach_tags_bytes gauge\nmedreach_tags_bytes %lld\n",
			    (long long)ts.rounds, (double)ts.last_event_us / 1e6, (long long)ts.bytes);
	}
}

int mr_metrics_render(struct mr_metrics *m, const struct mr_app *app, struct mr_buf *out)
{
	mr_buf_addf(out,
		    "# HELP medreach_build_info Build and backend of this process.\n"
		    "# TYPE medreach_build_info gauge\n"
		    "medreach_build_info{version=\"%s\",commit=\"%s\",backend=\"%s\"} 1\n"
		    "# HELP medreach_start_time_seconds When this process started.\n"
		    "# TYPE medreach_start_time_seconds gauge\nmedreach_start_time_seconds %lld\n",
		    MR_VERSION, MR_COMMIT, mr_store_kind_name(app->store),
		    (long long)(app->started_at / MR_US_PER_S));
	mr_buf_adds(out, "# HELP medreach_http_requests_total HTTP requests by route, method and status.\n"
			 "# TYPE medreach_http_requests_total counter\n");
	mr_metrics_family(m, app, out, mr_metrics_counts);
	mr_buf_adds(out, "# HELP medreach_http_request_duration_seconds Time to answer, by route.\n"
			 "# TYPE medreach_http_request_duration_seconds histogram\n");
	mr_metrics_family(m, app, out, mr_metrics_hist);
	mr_metrics_store(out, app);
	mr_metrics_engine(out, app);
	return 0;
}
