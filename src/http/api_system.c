/*
 * The routes that need no login: liveness with a database check, metrics
 * for Prometheus, and the API's own description.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/role.h"
#include "base/mem.h"
#include "base/version.h"
#include "engine/evindex.h"
#include "engine/hcpdir.h"
#include "http/http.h"
#include "http/metrics.h"
#include "store/store.h"

static int mr_api_healthz(struct mr_req *r, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	json_t *o = json_object();
	int64_t one = 0;
	int rc = mr_req_conn(r, &c, err);

	if (rc == 0) {
		rc = mr_conn_query_int(c, "SELECT 1", NULL, 0, &one, err);
		mr_req_done_conn(r, c);
	}
	json_object_set_new(o, "status", json_string(rc == 0 ? "ok" : "unavailable"));
	json_object_set_new(o, "db", json_string(rc == 0 ? "ok" : "unreachable"));
	json_object_set_new(o, "backend", json_string(mr_store_kind_name(r->app->store)));
	json_object_set_new(o, "version", json_string(MR_VERSION));
	/* the in-memory indexes load after the start; until then the store answers, more slowly */
	json_object_set_new(o, "indexes",
			    json_pack("{s:s, s:s}",
				      "hcps", r->app->hcpdir && mr_hcpdir_ready(r->app->hcpdir) ? "ready" : "loading",
				      "events", r->app->evindex && mr_evindex_ready(r->app->evindex) ? "ready" : "loading"));
	return mr_reply_json(r, rc == 0 ? 200 : 503, o);
}

static int mr_api_metrics(struct mr_req *r, struct mr_err *err)
{
	struct mr_buf b;
	size_t len;
	char *s;

	(void)err;
	mr_buf_init(&b, (size_t)64 << 20);
	mr_metrics_render(r->app->metrics, r->app, &b);
	s = mr_buf_detach(&b, &len);
	return mr_reply_raw(r, 200, "text/plain; version=0.0.4; charset=utf-8", s, len);
}

static int mr_api_openapi(struct mr_req *r, struct mr_err *err)
{
	(void)err;
	return mr_reply_raw(r, 200, "application/json; charset=utf-8",
			    mr_strndup(r->app->openapi, r->app->openapi_len), r->app->openapi_len);
}

const struct mr_route mr_routes_system[] = {
	{ "GET", "/healthz", mr_api_healthz, MR_ROLES_PUBLIC, 0, "Liveness and database check", "system", 0 },
	{ "GET", "/metrics", mr_api_metrics, MR_ROLES_PUBLIC, 0, "Prometheus metrics", "system", 0 },
	{ "GET", "/api/openapi.json", mr_api_openapi, MR_ROLES_PUBLIC, 0, "This API description (OpenAPI 3.1)",
	  "system", 0 },
	{ 0 },
};
