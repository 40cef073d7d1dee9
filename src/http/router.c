/*
 * See router.h. Matching walks pattern and path segment by segment; with a
 * few dozen routes a linear scan costs well under a microsecond, which is
 * not worth an index yet.
 */
#include "http/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/role.h"
#include "base/mem.h"

static const char *const mr_methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", NULL };

static int mr_route_check_pattern(const char *p)
{
	if (p[0] != '/')
		return 0;
	if (p[1] == '\0')
		return 1;
	for (const char *seg = p + 1; *seg;) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);
		if (n == 0)
			return 0;
		if (seg[0] == '{') {
			int rest = n > 3 && seg[n - 2] == '*';
			size_t name_end = rest ? n - 2 : n - 1;
			if (seg[n - 1] != '}' || name_end < 2)
				return 0;
			for (size_t i = 1; i < name_end; i++) {
				if (!((seg[i] >= 'a' && seg[i] <= 'z') || seg[i] == '_'))
					return 0;
			}
			if (rest && end)
				return 0;
		}
		seg += n;
		if (*seg == '/')
			seg++;
	}
	return 1;
}

static int mr_route_check(const struct mr_route *rt, struct mr_err *err)
{
	int method_ok = 0;

	for (const char *const *m = mr_methods; *m; m++) {
		if (strcmp(*m, rt->method) == 0)
			method_ok = 1;
	}
	if (!method_ok)
		return mr_err_set(err, MR_EINTERNAL, "route %s %s: unknown method", rt->method, rt->pattern);
	if (!mr_route_check_pattern(rt->pattern))
		return mr_err_set(err, MR_EINTERNAL, "route %s %s: malformed path pattern", rt->method,
				  rt->pattern);
	if (!rt->handler)
		return mr_err_set(err, MR_EINTERNAL, "route %s %s: no handler", rt->method, rt->pattern);
	if (rt->roles == 0)
		return mr_err_set(err, MR_EINTERNAL,
				  "route %s %s declares no roles: every route must say who may call it"
				  " (or MR_ROLES_PUBLIC)",
				  rt->method, rt->pattern);
	if ((rt->roles & ~(MR_ROLES_ALL | MR_ROLES_PUBLIC)) ||
	    ((rt->roles & MR_ROLES_PUBLIC) && (rt->roles & MR_ROLES_ALL)))
		return mr_err_set(err, MR_EINTERNAL, "route %s %s: invalid role set", rt->method,
				  rt->pattern);
	if (!rt->summary || !*rt->summary)
		return mr_err_set(err, MR_EINTERNAL, "route %s %s: no summary for openapi.json",
				  rt->method, rt->pattern);
	return 0;
}

int mr_router_build(const struct mr_route *const *tables, struct mr_route **out, size_t *n,
		    struct mr_err *err)
{
	size_t count = 0, k = 0;
	struct mr_route *all;

	*out = NULL;
	*n = 0;
	for (const struct mr_route *const *t = tables; *t; t++) {
		for (const struct mr_route *rt = *t; rt->method; rt++)
			count++;
	}
	all = mr_calloc(count, sizeof(*all));
	for (const struct mr_route *const *t = tables; *t; t++) {
		for (const struct mr_route *rt = *t; rt->method; rt++) {
			int rc = mr_route_check(rt, err);
			for (size_t i = 0; rc == 0 && i < k; i++) {
				if (strcmp(all[i].method, rt->method) == 0 &&
				    strcmp(all[i].pattern, rt->pattern) == 0)
					rc = mr_err_set(err, MR_EINTERNAL, "route %s %s is declared twice",
							rt->method, rt->pattern);
			}
			if (rc < 0) {
				free(all);
				return rc;
			}
			all[k++] = *rt;
		}
	}
	*out = all;
	*n = k;
	return 0;
}

/* Matches path against pattern; fills r's parameters when r is given. */
static int mr_route_match_path(const char *pattern, const char *path, struct mr_req *r)
{
	const char *p = pattern;
	const char *s = path;
	int np = 0;

	while (*p && *s) {
		const char *pe, *se;
		size_t pn, sn;

		if (*p != '/' || *s != '/')
			return 0;
		p++;
		s++;
		pe = strchr(p, '/');
		se = strchr(s, '/');
		pn = pe ? (size_t)(pe - p) : strlen(p);
		sn = se ? (size_t)(se - s) : strlen(s);
		if (pn && p[0] == '{') {
			int rest = p[pn - 2] == '*';
			if (np >= MR_REQ_MAX_PARAMS || (sn == 0 && !rest))
				return 0;
			if (r) {
				r->param_names[np] = p;
				r->params[np].p = s;
				r->params[np].n = rest ? strlen(s) : sn;
			}
			np++;
			if (rest) {
				if (r)
					r->nparams = np;
				return 1;
			}
		} else if (pn != sn || memcmp(p, s, pn) != 0) {
			return 0;
		}
		p += pn;
		s += sn;
	}
	if (*p != '\0' || *s != '\0')
		return 0;
	if (r)
		r->nparams = np;
	return 1;
}

int mr_router_match(const struct mr_route *routes, size_t n, const char *method, const char *path,
		    struct mr_req *r, char *allow, size_t allow_n)
{
	size_t used = 0;
	int path_seen = 0;
	int fallback = -1; /* a hidden catch-all that would take the request */

	if (allow_n)
		allow[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int same_method;
		/* fills r's parameters as it goes; only a full match sets r->nparams, so a miss leaves none */
		if (!mr_route_match_path(routes[i].pattern, path, r))
			continue;
		same_method = strcmp(routes[i].method, method) == 0;
		if (routes[i].flags & MR_ROUTE_HIDDEN) {
			/* the static catch-all never turns a path into a 405, nor hides one */
			if (same_method && fallback < 0)
				fallback = (int)i;
			continue;
		}
		if (same_method)
			return (int)i;
		path_seen = 1;
		if (used < allow_n) {
			int k = snprintf(allow + used, allow_n - used, "%s%s", used ? ", " : "",
					 routes[i].method);
			if (k > 0)
				used += (size_t)k;
		}
	}
	if (path_seen)
		return MR_ROUTE_NO_METHOD;
	if (fallback >= 0) {
		mr_route_match_path(routes[fallback].pattern, path, r);
		return fallback;
	}
	return MR_ROUTE_NO_PATH;
}
