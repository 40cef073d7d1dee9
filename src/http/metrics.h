/*
 * Request metrics in the Prometheus text format: a counter per route,
 * method and status, and a latency histogram per route, updated with
 * relaxed atomics from every HTTP thread without a lock.
 */
#ifndef MR_HTTP_METRICS_H
#define MR_HTTP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "http/http.h"

struct mr_metrics;

/* Counters for nroutes routes plus one slot for requests that matched none. */
struct mr_metrics *mr_metrics_new(size_t nroutes);
void mr_metrics_free(struct mr_metrics *m);
/* Records one request; route_index -1 when no route matched. */
void mr_metrics_observe(struct mr_metrics *m, int route_index, int status, int64_t dur_us);
/* Appends the whole exposition (HTTP, database pool, writer, build) to out. */
int mr_metrics_render(struct mr_metrics *m, const struct mr_app *app, struct mr_buf *out);

#endif
