/*
 * Fuzzes route matching (src/http/router.c) on the real route table, built
 * once with mr_router_build as the server builds it. The input is
 * "METHOD PATH" (split at the first space). Invariants:
 *   - a match names a route of that method, whose pattern with the filled
 *     parameters put back reassembles to exactly the path; the parameters
 *     point inside the path, a {name} is one non-empty segment and only a
 *     last {name*} spans slashes; mr_req_param reads each one back;
 *   - it is the first route that matches: none before it does;
 *   - for each route, whether its pattern matches agrees with an independent
 *     segment-by-segment matcher written here;
 *   - a 405 lists the methods the path takes, none of them the one asked;
 *     a 404 lists none; the Allow buffer is always terminated.
 */
#include <stdint.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "http/http.h"
#include "http/router.h"
#include "fuzz.h"

static struct mr_route *fuzz_routes;
static size_t fuzz_nroutes;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct mr_err err;

	(void)argc;
	(void)argv;
	memset(&err, 0, sizeof(err));
	if (mr_router_build(mr_route_tables, &fuzz_routes, &fuzz_nroutes, &err) < 0) {
		fprintf(stderr, "fuzz_router: the route table does not build: %s\n", err.msg);
		abort();
	}
	return 0;
}

/* Length of the segment at s (up to '/' or the end). */
static size_t fuzz_seg_len(const char *s)
{
	const char *slash = strchr(s, '/');

	return slash ? (size_t)(slash - s) : strlen(s);
}

/*
 * The reference matcher: walks pattern and path one "/segment" at a time.
 * "{x}" takes one non-empty segment, a last "{x*}" takes all that is left
 * after its slash (even nothing), anything else must be equal.
 */
static int fuzz_ref_match(const char *pattern, const char *path)
{
	const char *p = pattern;
	const char *s = path;

	if (strcmp(pattern, "/") == 0)
		return strcmp(path, "/") == 0;
	while (*p == '/') {
		size_t pn, sn;

		if (*s != '/')
			return 0;
		p++;
		s++;
		pn = fuzz_seg_len(p);
		sn = fuzz_seg_len(s);
		if (p[0] == '{' && p[pn - 2] == '*')
			return 1;
		if (p[0] == '{') {
			if (sn == 0)
				return 0;
		} else if (pn != sn || strncmp(p, s, pn) != 0) {
			return 0;
		}
		p += pn;
		s += sn;
	}
	return *s == '\0';
}

/* Puts the parameters of r back into the pattern and compares with path. */
static void fuzz_check_reassembly(const char *pattern, const char *path, struct mr_req *r)
{
	size_t path_len = strlen(path);
	size_t pat_len = strlen(pattern);
	char *out = malloc(pat_len + path_len + 1);
	size_t used = 0;
	int k = 0;

	FUZZ_CHECK(out != NULL, "memory");
	for (const char *p = pattern; *p;) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			FUZZ_CHECK(close != NULL, "patterns are well formed");
			FUZZ_CHECK(k < r->nparams, "every {name} of the pattern is filled");
			FUZZ_CHECK(r->param_names[k] == p, "param_names point at the pattern's {name}");
			memcpy(out + used, r->params[k].p, r->params[k].n);
			used += r->params[k].n;
			k++;
			p = close + 1;
		} else {
			out[used++] = *p++;
		}
		FUZZ_CHECK(used <= path_len, "the reassembly is no longer than the path");
	}
	FUZZ_CHECK(k == r->nparams, "no parameter is left over");
	FUZZ_CHECK(used == path_len && memcmp(out, path, used) == 0,
		   "pattern plus parameters reassemble to the path");
	free(out);
}

static void fuzz_check_params(const struct mr_route *rt, const char *path, struct mr_req *r)
{
	size_t path_len = strlen(path);

	FUZZ_CHECK(r->nparams >= 0 && r->nparams <= MR_REQ_MAX_PARAMS, "nparams is within bounds");
	for (int i = 0; i < r->nparams; i++) {
		const char *name = r->param_names[i];
		size_t name_len = strchr(name, '}') - name - 1;
		int rest = name[name_len] == '*';
		char key[64];
		const char *got;

		FUZZ_CHECK(r->params[i].p >= path && r->params[i].p <= path + path_len &&
				   r->params[i].n <= (size_t)(path + path_len - r->params[i].p),
			   "a parameter lies inside the path");
		if (!rest)
			FUZZ_CHECK(r->params[i].n > 0 && !memchr(r->params[i].p, '/', r->params[i].n),
				   "a {name} parameter is one non-empty segment");
		else
			FUZZ_CHECK(r->params[i].p + r->params[i].n == path + path_len,
				   "a {name*} parameter runs to the end of the path");

		if (rest)
			name_len--;
		FUZZ_CHECK(name_len > 0 && name_len < sizeof(key), "parameter names are short");
		memcpy(key, name + 1, name_len);
		key[name_len] = '\0';
		got = mr_req_param(r, key);
		FUZZ_CHECK(got != NULL && strlen(got) == r->params[i].n &&
				   memcmp(got, r->params[i].p, r->params[i].n) == 0,
			   "mr_req_param reads the parameter back");
	}
	fuzz_check_reassembly(rt->pattern, path, r);
}

/* Each route alone: does the router match its pattern where the reference does? */
static void fuzz_check_each_route(const char *path)
{
	for (size_t i = 0; i < fuzz_nroutes; i++) {
		struct mr_req r;
		char allow[8];
		int rc;

		memset(&r, 0, sizeof(r));
		rc = mr_router_match(&fuzz_routes[i], 1, fuzz_routes[i].method, path, &r, allow,
				     sizeof(allow));
		FUZZ_CHECK((rc == 0) == fuzz_ref_match(fuzz_routes[i].pattern, path),
			   "the router and the reference matcher agree on every pattern");
	}
}

static void fuzz_check_allow(int rc, const char *method, const char *allow, size_t allow_n)
{
	FUZZ_CHECK(memchr(allow, '\0', allow_n) != NULL, "Allow is NUL-terminated in its buffer");
	if (rc == MR_ROUTE_NO_PATH) {
		FUZZ_CHECK(allow[0] == '\0', "a 404 lists no methods");
		return;
	}
	FUZZ_CHECK(allow[0] != '\0', "a 405 lists the methods the path takes");
	for (const char *m = allow; *m;) {
		size_t n = strcspn(m, ",");
		FUZZ_CHECK(!(strlen(method) == n && strncmp(m, method, n) == 0),
			   "a 405 does not list the method that was refused");
		m += n;
		while (*m == ',' || *m == ' ')
			m++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *space = memchr(data, ' ', size);
	size_t method_n = space ? (size_t)(space - data) : 0;
	char *method, *path;
	char allow[64];
	struct mr_req r;
	int rc;

	if (size > 1024)
		return 0; /* the server caps the URL well below this */
	method = fuzz_cstr(data, method_n);
	path = space ? fuzz_cstr(space + 1, size - method_n - 1) : fuzz_cstr(data, size);
	memset(&r, 0, sizeof(r));
	mr_arena_init(&r.arena);

	rc = mr_router_match(fuzz_routes, fuzz_nroutes, method, path, &r, allow, sizeof(allow));
	FUZZ_CHECK(rc >= MR_ROUTE_NO_METHOD && rc < (int)fuzz_nroutes, "a route index or a miss");
	if (rc >= 0) {
		char before[8];
		FUZZ_CHECK(strcmp(fuzz_routes[rc].method, method) == 0, "the route takes the method");
		fuzz_check_params(&fuzz_routes[rc], path, &r);
		FUZZ_CHECK(mr_router_match(fuzz_routes, (size_t)rc, method, path, NULL, before,
					   sizeof(before)) < 0,
			   "no earlier route matches: the first match wins");
	} else {
		fuzz_check_allow(rc, method, allow, sizeof(allow));
	}
	fuzz_check_each_route(path);

	mr_arena_release(&r.arena);
	free(path);
	free(method);
	return 0;
}
