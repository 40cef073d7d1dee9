/*
 * Unit tests of the HTTP layer's tables: the route table's start-up checks
 * (a route without roles stops the server), matching with parameters, 405
 * versus 404, the OpenAPI document generated from the real routes, and the
 * metrics exposition.
 */
#include "unit.h"

#include "auth/role.h"
#include "http/metrics.h"
#include "http/openapi.h"
#include "http/router.h"

static int h(struct mr_req *r, struct mr_err *err)
{
	(void)r;
	(void)err;
	return 0;
}

static void test_route_without_roles_stops_the_server(void **state)
{
	static const struct mr_route bad[] = {
		{ "GET", "/api/v1/ok", h, MR_ROLES_ALL, 0, "fine", "t", 0 },
		{ "GET", "/api/v1/forgot", h, 0, 0, "no roles", "t", 0 },
		{ 0 },
	};
	const struct mr_route *const tables[] = { bad, NULL };
	struct mr_route *routes = NULL;
	size_t n = 0;
	struct mr_err err;

	(void)state;
	mr_err_clear(&err);
	assert_int_equal(mr_router_build(tables, &routes, &n, &err), MR_EINTERNAL);
	assert_null(routes);
	assert_non_null(strstr(err.msg, "/api/v1/forgot declares no roles"));
}

static void test_bad_tables_are_refused(void **state)
{
	static const struct mr_route dup[] = {
		{ "GET", "/a", h, MR_ROLES_ALL, 0, "a", "t", 0 },
		{ "GET", "/a", h, MR_ROLES_ALL, 0, "a again", "t", 0 },
		{ 0 },
	};
	static const struct mr_route pattern[] = { { "GET", "/a//b", h, MR_ROLES_ALL, 0, "x", "t", 0 }, { 0 } };
	static const struct mr_route method[] = { { "BREW", "/a", h, MR_ROLES_ALL, 0, "x", "t", 0 }, { 0 } };
	static const struct mr_route mixed[] = {
		{ "GET", "/a", h, MR_ROLES_ALL | MR_ROLES_PUBLIC, 0, "x", "t", 0 }, { 0 } };
	const struct mr_route *const t1[] = { dup, NULL };
	const struct mr_route *const t2[] = { pattern, NULL };
	const struct mr_route *const t3[] = { method, NULL };
	const struct mr_route *const t4[] = { mixed, NULL };
	struct mr_route *routes = NULL;
	size_t n = 0;
	struct mr_err err;

	(void)state;
	assert_int_equal(mr_router_build(t1, &routes, &n, &err), MR_EINTERNAL);
	assert_non_null(strstr(err.msg, "declared twice"));
	assert_int_equal(mr_router_build(t2, &routes, &n, &err), MR_EINTERNAL);
	assert_non_null(strstr(err.msg, "malformed"));
	assert_int_equal(mr_router_build(t3, &routes, &n, &err), MR_EINTERNAL);
	assert_int_equal(mr_router_build(t4, &routes, &n, &err), MR_EINTERNAL);
}

static void test_real_table_is_valid_and_matches(void **state)
{
	struct mr_route *routes = NULL;
	struct mr_req r;
	char allow[64];
	size_t n = 0;
	struct mr_err err;
	int idx;

	(void)state;
	mr_err_clear(&err);
	assert_int_equal(mr_router_build(mr_route_tables, &routes, &n, &err), 0);
	assert_true(n >= 14);

	memset(&r, 0, sizeof(r));
	idx = mr_router_match(routes, n, "PATCH", "/api/v1/users/42", &r, allow, sizeof(allow));
	assert_true(idx >= 0);
	assert_string_equal(routes[idx].pattern, "/api/v1/users/{id}");
	assert_int_equal(r.nparams, 1);
	assert_int_equal(r.params[0].n, 2);
	assert_memory_equal(r.params[0].p, "42", 2);

	idx = mr_router_match(routes, n, "PUT", "/api/v1/users/42", &r, allow, sizeof(allow));
	assert_int_equal(idx, MR_ROUTE_NO_METHOD);
	assert_string_equal(allow, "GET, PATCH");

	/* unknown API paths reach the static catch-all, which answers 404 for /api/ itself */
	idx = mr_router_match(routes, n, "GET", "/api/v1/users/42/extra", &r, allow, sizeof(allow));
	assert_true(idx >= 0);
	assert_true(routes[idx].flags & MR_ROUTE_HIDDEN);
	/* and does not turn other methods into 405 */
	idx = mr_router_match(routes, n, "POST", "/api/v1/nothing", &r, allow, sizeof(allow));
	assert_int_equal(idx, MR_ROUTE_NO_PATH);

	/* a GET on a POST-only route is a 405, not the static catch-all's 404 */
	idx = mr_router_match(routes, n, "GET", "/api/v1/auth/login", &r, allow, sizeof(allow));
	assert_int_equal(idx, MR_ROUTE_NO_METHOD);
	assert_string_equal(allow, "POST");

	idx = mr_router_match(routes, n, "GET", "/healthz", &r, allow, sizeof(allow));
	assert_string_equal(routes[idx].pattern, "/healthz");
	assert_true(routes[idx].roles & MR_ROLES_PUBLIC);
	idx = mr_router_match(routes, n, "GET", "/api/v1/users", &r, allow, sizeof(allow));
	assert_int_equal(routes[idx].roles, MR_ROLE_BIT(MR_ROLE_ADMIN));
	/* an empty segment never fills a parameter */
	idx = mr_router_match(routes, n, "PATCH", "/api/v1/users/", &r, allow, sizeof(allow));
	assert_int_equal(idx, MR_ROUTE_NO_PATH);
	free(routes);
}

static void test_openapi_lists_every_visible_route(void **state)
{
	struct mr_route *routes = NULL;
	size_t n = 0, len = 0, visible = 0, ops = 0;
	struct mr_err err;
	char *doc;
	json_t *v, *paths, *item, *op;
	const char *path, *method;
	json_error_t je;

	(void)state;
	mr_err_clear(&err);
	assert_int_equal(mr_router_build(mr_route_tables, &routes, &n, &err), 0);
	doc = mr_openapi_render(routes, n, &len);
	v = json_loadb(doc, len, 0, &je);
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(v, "openapi")), "3.1.0");
	paths = json_object_get(v, "paths");
	for (size_t i = 0; i < n; i++)
		visible += !(routes[i].flags & MR_ROUTE_HIDDEN);
	json_object_foreach(paths, path, item) {
		json_object_foreach(item, method, op) {
			assert_non_null(json_object_get(op, "responses"));
			assert_non_null(json_object_get(op, "operationId"));
			ops++;
		}
	}
	assert_int_equal(ops, visible);
	op = json_object_get(json_object_get(paths, "/api/v1/users/{id}"), "patch");
	assert_non_null(op);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(op, "parameters"), 0), "name")), "id");
	op = json_object_get(json_object_get(paths, "/healthz"), "get");
	assert_int_equal(json_array_size(json_object_get(op, "security")), 0);
	assert_non_null(json_object_get(op, "security"));
	json_decref(v);
	free(doc);
	free(routes);
}

static void test_metrics_count_by_route_and_status(void **state)
{
	static const struct mr_route r2[] = {
		{ "GET", "/a", h, MR_ROLES_ALL, 0, "a", "t", 0 },
		{ "POST", "/b", h, MR_ROLES_ALL, 0, "b", "t", 0 },
		{ 0 },
	};
	struct mr_test_db db;
	struct mr_metrics *m = mr_metrics_new(2);
	struct mr_app app;
	struct mr_buf out;

	(void)state;
	mr_test_db_open(&db, 0);
	memset(&app, 0, sizeof(app));
	app.store = db.store;
	app.routes = r2;
	app.nroutes = 2;
	mr_metrics_observe(m, 0, 200, 300);
	mr_metrics_observe(m, 0, 200, 3000);
	mr_metrics_observe(m, 1, 409, 100);
	mr_metrics_observe(m, -1, 404, 50);
	mr_metrics_observe(m, 1, 418, 50);
	mr_buf_init(&out, 1 << 20);
	mr_metrics_render(m, &app, &out);
	assert_non_null(strstr(mr_buf_str(&out), "medreach_http_requests_total{route=\"/a\",method=\"GET\",status=\"200\"} 2\n"));
	assert_non_null(strstr(mr_buf_str(&out), "medreach_http_requests_total{route=\"/b\",method=\"POST\",status=\"409\"} 1\n"));
	assert_non_null(strstr(mr_buf_str(&out), "medreach_http_requests_total{route=\"/b\",method=\"POST\",status=\"4xx\"} 1\n"));
	assert_non_null(strstr(mr_buf_str(&out), "medreach_http_requests_total{route=\"unmatched\",method=\"any\",status=\"404\"} 1\n"));
	assert_non_null(strstr(mr_buf_str(&out), "medreach_http_request_duration_seconds_bucket{route=\"/a\",method=\"GET\",le=\"0.0005\"} 1\n"));
	assert_non_null(strstr(mr_buf_str(&out), "medreach_http_request_duration_seconds_bucket{route=\"/a\",method=\"GET\",le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(mr_buf_str(&out), "medreach_http_request_duration_seconds_count{route=\"/a\",method=\"GET\"} 2\n"));
	assert_non_null(strstr(mr_buf_str(&out), "medreach_db_pool_size 8\n"));
	assert_non_null(strstr(mr_buf_str(&out), "medreach_build_info{"));
	/* families are contiguous: no counter line after the histogram's TYPE line */
	assert_null(strstr(strstr(mr_buf_str(&out), "# TYPE medreach_http_request_duration_seconds"),
			   "medreach_http_requests_total{"));
	mr_buf_release(&out);
	mr_metrics_free(m);
	mr_test_db_close(&db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_without_roles_stops_the_server),
		cmocka_unit_test(test_bad_tables_are_refused),
		cmocka_unit_test(test_real_table_is_valid_and_matches),
		cmocka_unit_test(test_openapi_lists_every_visible_route),
		cmocka_unit_test(test_metrics_count_by_route_and_status),
	};
	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
