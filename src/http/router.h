/*
 * The route table: built once at start from the per-resource tables,
 * checked (every route declares its roles, patterns are well formed, no
 * route is declared twice), then matched per request.
 */
#ifndef MR_HTTP_ROUTER_H
#define MR_HTTP_ROUTER_H

#include <stddef.h>

#include "http/http.h"

enum { MR_ROUTE_NO_PATH = -1, MR_ROUTE_NO_METHOD = -2 };

/* The NULL-terminated list of every resource's table (routes.c). */
extern const struct mr_route *const mr_route_tables[];

/*
 * Flattens the {NULL}-terminated tables into one malloc'd array and checks
 * every row; a route without roles, a bad pattern or a duplicate fails with
 * a message naming it, and the server must not start.
 */
int mr_router_build(const struct mr_route *const *tables, struct mr_route **out, size_t *n,
		    struct mr_err *err);
/*
 * Finds the route for method and path, filling r's path parameters.
 * Returns its index, MR_ROUTE_NO_PATH, or MR_ROUTE_NO_METHOD with the
 * methods the path does take written into allow ("GET, PATCH").
 */
int mr_router_match(const struct mr_route *routes, size_t n, const char *method, const char *path,
		    struct mr_req *r, char *allow, size_t allow_n);

#endif
