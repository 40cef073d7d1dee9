/* See app.h. */
#include "http/app.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authcache.h"
#include "auth/throttle.h"
#include "base/time.h"
#include "engine/hcpdir.h"
#include "http/metrics.h"
#include "http/openapi.h"
#include "http/router.h"

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
	app->started_at = mr_now_us();
	randombytes_buf(prefix, sizeof(prefix));
	sodium_bin2hex(app->request_prefix, sizeof(app->request_prefix), prefix, sizeof(prefix));
	atomic_init(&app->next_request, 1);
	return 0;
}

void mr_app_release(struct mr_app *app)
{
	free((void *)app->routes);
	free(app->openapi);
	mr_metrics_free(app->metrics);
	mr_throttle_free(app->throttle);
	mr_authcache_free(app->authcache);
	mr_hcpdir_free(app->hcpdir);
	mr_keys_wipe(&app->keys);
	memset(app, 0, sizeof(*app));
}
