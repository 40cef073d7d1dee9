/*
 * See server.h. libmicrohttpd calls mr_on_request several times per
 * request: first with the headers (we route, apply the header and length
 * caps, authenticate and check the role here, so an unwelcome upload is
 * refused before it is read), then once per body chunk (capped), then
 * once with nothing left (we run the handler and queue the response).
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/authcache.h"
#include "auth/role.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/wait.h"
#include "store/writer.h"

/*
 * Headers are capped at 16 KiB (browsers send a few; nginx's default buffers
 * are 4 x 8 KiB). The connection's memory must hold them with room to spare,
 * but no more: libmicrohttpd clears it between keep-alive requests, and at
 * 128 KiB that was a fifth of the server's CPU on small requests.
 */
enum { MR_HEADERS_MAX = 16 * 1024, MR_CONN_MEMORY = 32 * 1024 };

/* How much of a refused body is read (and dropped) before the connection is cut. */
#define MR_DRAIN_MAX ((size_t)64 << 20)

struct mr_server {
	struct MHD_Daemon *daemon;
	struct mr_app *app;
	int port;
};

static struct mr_req *mr_req_new(struct mr_app *app, struct MHD_Connection *conn, const char *url,
				 const char *method)
{
	struct mr_req *r = mr_calloc(1, sizeof(*r));

	r->app = app;
	r->conn = conn;
	r->method = method;
	r->path = url;
	r->route_index = -1;
	r->resp_fd = -1;
	r->status = 500;
	r->t0_us = mr_mono_us();
	mr_arena_init(&r->arena);
	mr_buf_init(&r->body, app->opts.max_body);
	return r;
}

static void mr_req_free(struct mr_req *r)
{
	if (r->stream && r->stream_free)
		r->stream_free(r->stream);
	free(r->resp);
	if (r->resp_fd >= 0)
		close(r->resp_fd);
	mr_buf_release(&r->body);
	mr_arena_release(&r->arena);
	sodium_memzero(&r->who, sizeof(r->who));
	free(r);
}

/*
 * Takes the client's X-Request-Id when it is short and plain, else makes
 * one: a random prefix chosen once per process and a counter, which is
 * unique without a trip to the kernel's random source per request.
 */
static void mr_req_set_id(struct mr_req *r)
{
	static const char hex[] = "0123456789abcdef";
	const char *given = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Request-Id");
	uint64_t n;

	if (given && strlen(given) <= MR_REQ_ID_LEN && mr_str_charset(given, "-_.")) {
		snprintf(r->request_id, sizeof(r->request_id), "%s", given);
		return;
	}
	n = atomic_fetch_add_explicit(&r->app->next_request, 1, memory_order_relaxed);
	memcpy(r->request_id, r->app->request_prefix, 6);
	for (int i = 15; i >= 6; i--) {
		r->request_id[i] = hex[n & 15];
		n >>= 4;
	}
	r->request_id[16] = '\0';
}

static void mr_req_set_ip(struct mr_req *r)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	const void *addr = NULL;

	if (sa && sa->sa_family == AF_INET)
		addr = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa && sa->sa_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (!addr || !inet_ntop(sa->sa_family, addr, r->ip, sizeof(r->ip)))
		snprintf(r->ip, sizeof(r->ip), "-");
}

static enum MHD_Result mr_count_header(void *cls, enum MHD_ValueKind kind, const char *key,
				       const char *value)
{
	size_t *total = cls;

	(void)kind;
	*total += strlen(key) + (value ? strlen(value) : 0) + 4;
	return MHD_YES;
}

static void mr_req_fail(struct mr_req *r, const struct mr_err *err)
{
	r->failed = 1;
	r->fail = *err;
}

/* Authenticates by bearer token or session cookie; MR_EAUTH when neither is good. */
static int mr_req_authenticate(struct mr_req *r, struct mr_err *err)
{
	const char *authz = mr_req_header(r, "Authorization");
	const char *cookie = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "mr_session");
	struct mr_conn *c = NULL;
	int64_t now = mr_now_us();
	enum mr_auth_via via;
	const char *secret;
	uint64_t generation;
	int rc;

	if (!authz && !cookie) {
		mr_err_set(err, MR_EAUTH, "log in, or send an API token as 'Authorization: Bearer <token>'");
		return mr_err_kind(err, "unauthenticated");
	}
	if (authz && (strncmp(authz, "Bearer ", 7) != 0 || strlen(authz + 7) > MR_SECRET_MAX)) {
		mr_err_set(err, MR_EAUTH, "the Authorization header must be 'Bearer <token>'");
		return mr_err_kind(err, "invalid_token");
	}
	if (!authz && strlen(cookie) > MR_SECRET_MAX) {
		mr_err_set(err, MR_EAUTH, "your session has ended; log in again");
		return mr_err_kind(err, "session_expired");
	}
	via = authz ? MR_AUTH_TOKEN : MR_AUTH_SESSION;
	secret = authz ? authz + 7 : cookie;
	if (mr_authcache_get(r->app->authcache, via, secret, now, &r->who))
		return 0;
	generation = mr_authcache_generation(r->app->authcache);
	rc = mr_req_conn(r, &c, err);
	if (rc < 0)
		return rc;
	if (via == MR_AUTH_TOKEN)
		rc = mr_token_authenticate(c, secret, now, &r->who, err);
	else
		rc = mr_session_authenticate(c, secret, now, &r->who, err);
	mr_req_done_conn(r, c);
	if (rc < 0) {
		r->who.via = MR_AUTH_NONE;
		return rc;
	}
	mr_authcache_put(r->app->authcache, via, secret, &r->who, now, generation);
	return 0;
}

static int mr_is_safe_method(const char *m)
{
	return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
}

struct mr_denied_job {
	struct mr_req *r;
};

static int mr_denied_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_req *r = ((struct mr_denied_job *)arg)->r;

	return mr_req_audit(r, c, "access.denied", "route", r->route->pattern, 403, NULL, NULL, err);
}

/* The role and CSRF checks for an authenticated request. */
static int mr_req_authorize(struct mr_req *r, struct mr_err *err)
{
	const struct mr_route *rt = r->route;
	const char *csrf;

	if (!(rt->roles & MR_ROLE_BIT(r->who.user.role))) {
		char roles[160];
		struct mr_denied_job j = { r };
		struct mr_err audit_err;
		mr_roles_describe(rt->roles, roles, sizeof(roles));
		mr_err_clear(&audit_err);
		mr_req_write(r, mr_denied_fn, &j, &audit_err);
		return mr_err_set(err, MR_EFORBIDDEN, "your role (%s) may not %s %s; it needs one of: %s",
				  mr_role_name(r->who.user.role), rt->method, rt->pattern, roles);
	}
	if (r->who.via != MR_AUTH_SESSION || mr_is_safe_method(r->method) ||
	    (rt->flags & MR_ROUTE_NO_CSRF))
		return 0;
	csrf = mr_req_header(r, "X-CSRF-Token");
	if (!csrf || strlen(csrf) != MR_CSRF_LEN || sodium_memcmp(csrf, r->who.csrf, MR_CSRF_LEN) != 0) {
		mr_err_set(err, MR_EFORBIDDEN,
			   "a write with a session cookie needs the X-CSRF-Token header from login or /api/v1/me");
		return mr_err_kind(err, "csrf_required");
	}
	return 0;
}

/* 1 for the media type want, in any case, with or without parameters ("; charset=utf-8"). */
static int mr_is_type(const char *type, const char *want)
{
	size_t n = strlen(want);

	while (*type == ' ' || *type == '\t')
		type++;
	if (strncasecmp(type, want, n) != 0)
		return 0;
	type += n;
	while (*type == ' ' || *type == '\t')
		type++;
	return *type == '\0' || *type == ';';
}

/* Checks a JSON body's declared type and length before reading it. */
static int mr_req_check_body(struct mr_req *r, struct mr_err *err)
{
	const char *len = mr_req_header(r, "Content-Length");
	const char *type = mr_req_header(r, "Content-Type");
	size_t cap = r->route->max_body ? r->route->max_body : r->app->opts.max_body;
	int64_t n = 0;

	r->body.max = cap;
	if (len && (mr_parse_i64(len, 0, INT64_MAX, &n) < 0))
		return mr_err_set(err, MR_EINVAL, "the Content-Length header is not a number");
	if (len && (uint64_t)n > cap)
		return mr_err_set(err, MR_ETOOBIG, "the request body is %lld bytes; at most %zu are accepted here",
				  (long long)n, cap);
	if ((r->route->flags & MR_ROUTE_BODY) && (n > 0 || !len) && type && !mr_is_type(type, "application/json"))
		return mr_err_set(err, MR_EMEDIA, "send the body as JSON with 'Content-Type: application/json'");
	if ((r->route->flags & MR_ROUTE_CSV) && (n > 0 || !len) && type && !mr_is_type(type, "text/csv"))
		return mr_err_set(err, MR_EMEDIA, "send the file with 'Content-Type: text/csv'"
				  " (add '; charset=gb18030' for a GBK file, or ?encoding=)");
	if ((r->route->flags & MR_ROUTE_FHIR) && (n > 0 || !len) && type &&
	    !mr_is_type(type, "application/fhir+json") && !mr_is_type(type, "application/json"))
		return mr_err_set(err, MR_EMEDIA, "send the Bundle with 'Content-Type: application/fhir+json'");
	return 0;
}

/* Everything decided from the headers alone. */
static void mr_req_begin(struct mr_req *r)
{
	struct mr_app *app = r->app;
	char allow[64];
	size_t hdr_total = 0;
	struct mr_err err;
	int idx;

	mr_err_clear(&err);
	mr_req_set_id(r);
	mr_req_set_ip(r);
	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, mr_count_header, &hdr_total);
	if (hdr_total > MR_HEADERS_MAX) {
		mr_err_set(&err, MR_EHEADERS, "the request headers are %zu bytes; at most %d are accepted",
			   hdr_total, MR_HEADERS_MAX);
		mr_req_fail(r, &err);
		return;
	}
	if (mr_utf8_check(r->path, strlen(r->path))) {
		mr_err_set(&err, MR_EINVAL, "the request path is not valid UTF-8");
		mr_req_fail(r, &err);
		return;
	}
	/* HEAD is GET without the body; libmicrohttpd drops the body itself */
	idx = mr_router_match(app->routes, app->nroutes, strcmp(r->method, "HEAD") == 0 ? "GET" : r->method,
			      r->path, r, allow, sizeof(allow));
	if (idx == MR_ROUTE_NO_METHOD) {
		mr_reply_header(r, "Allow", allow);
		mr_err_set(&err, MR_EMETHOD, "%s is not allowed on %s; use %s", r->method, r->path, allow);
		mr_req_fail(r, &err);
		return;
	}
	if (idx < 0) {
		mr_err_set(&err, MR_ENOTFOUND, "there is no %s %s", r->method, r->path);
		mr_req_fail(r, &err);
		return;
	}
	r->route_index = idx;
	r->route = &app->routes[idx];
	if (!(r->route->roles & MR_ROLES_PUBLIC)) {
		if (mr_req_authenticate(r, &err) < 0 || mr_req_authorize(r, &err) < 0) {
			if (err.code == MR_EAUTH)
				mr_reply_header(r, "WWW-Authenticate", "Bearer");
			mr_req_fail(r, &err);
			return;
		}
	}
	if (mr_req_check_body(r, &err) < 0)
		mr_req_fail(r, &err);
}

/* Hands one chunk of a streamed body to its handler. */
static int mr_req_chunk(struct mr_req *r, const char *data, size_t n, struct mr_err *err)
{
	int rc;

	r->chunk = data;
	r->chunk_len = n;
	rc = r->route->handler(r, err);
	r->chunk = NULL;
	r->chunk_len = 0;
	return rc;
}

static void mr_req_dispatch(struct mr_req *r)
{
	struct mr_err err;
	int rc;

	mr_err_clear(&err);
	rc = r->route->handler(r, &err);
	if (rc < 0) {
		if (!err.code)
			mr_err_set(&err, rc, "the request failed");
		mr_reply_error(r, &err);
	} else if (!r->replied) {
		mr_err_set(&err, MR_EINTERNAL, "handler for %s %s sent no response", r->route->method,
			   r->route->pattern);
		mr_reply_error(r, &err);
	}
}

static enum MHD_Result mr_req_send(struct mr_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (r->failed && !r->replied)
		mr_reply_error(r, &r->fail);
	if (r->resp_fd >= 0) {
		resp = MHD_create_response_from_fd(r->resp_fd_size, r->resp_fd);
		r->resp_fd = -1; /* MHD closes it */
	} else {
		resp = MHD_create_response_from_buffer(r->resp_len, r->resp, MHD_RESPMEM_MUST_FREE);
		r->resp = NULL;
	}
	if (!resp)
		return MHD_NO;
	if (r->content_type)
		MHD_add_response_header(resp, "Content-Type", r->content_type);
	MHD_add_response_header(resp, "X-Request-Id", r->request_id);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	for (int i = 0; i < r->nhdr; i++)
		MHD_add_response_header(resp, r->hdr_name[i], r->hdr_value[i]);
	if (!MHD_get_response_header(resp, "Cache-Control"))
		MHD_add_response_header(resp, "Cache-Control", "no-store");
	ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result mr_on_request(void *cls, struct MHD_Connection *conn, const char *url,
				     const char *method, const char *version,
				     const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct mr_app *app = cls;
	struct mr_req *r = *con_cls;

	(void)version;
	if (!r) {
		r = mr_req_new(app, conn, url, method);
		*con_cls = r;
		mr_req_begin(r);
		if (r->failed)
			return mr_req_send(r);
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		r->bytes_in += n;
		if (r->failed) {
			/*
			 * A response is due once the body has arrived (libmicrohttpd cannot
			 * answer mid-upload); drain what is left, but hang up on a client
			 * that keeps sending far past the cap.
			 */
			return r->bytes_in > MR_DRAIN_MAX ? MHD_NO : MHD_YES;
		}
		if (mr_mono_us() - r->t0_us > (int64_t)app->opts.request_timeout_s * MR_US_PER_S) {
			struct mr_err err;
			mr_err_set(&err, MR_ETIMEOUT, "the request took longer than %d s to arrive",
				   app->opts.request_timeout_s);
			mr_req_fail(r, &err);
		} else if (r->route->flags & MR_ROUTE_STREAM) {
			struct mr_err err;

			mr_err_clear(&err);
			if (r->bytes_in > r->body.max)
				mr_err_set(&err, MR_ETOOBIG, "the request body is larger than %zu bytes", r->body.max);
			else if (mr_req_chunk(r, upload_data, n, &err) < 0 && !err.code)
				mr_err_set(&err, MR_EINTERNAL, "the body could not be taken");
			if (err.code)
				mr_req_fail(r, &err);
		} else if (mr_buf_add(&r->body, upload_data, n) < 0) {
			struct mr_err err;
			mr_err_set(&err, MR_ETOOBIG, "the request body is larger than %zu bytes", r->body.max);
			mr_req_fail(r, &err);
		}
		return MHD_YES;
	}
	if (r->replied && r->failed)
		return MHD_YES; /* already queued */
	if (!r->failed)
		mr_req_dispatch(r);
	if (r->suspended)
		return MHD_YES; /* parked (mr_req_wait): the handler runs again when resumed */
	return mr_req_send(r);
}

static void mr_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			    enum MHD_RequestTerminationCode toe)
{
	struct mr_app *app = cls;
	struct mr_req *r = *con_cls;
	int64_t dur;

	(void)conn;
	if (!r)
		return;
	mr_waiters_forget(app->waiters, r);
	dur = mr_mono_us() - r->t0_us;
	mr_metrics_observe(app->metrics, r->route_index, r->status, dur);
	if (mr_log_enabled(MR_LOG_INFO)) {
		char path[300];
		mr_log_quote(path, sizeof(path), r->path);
		mr_log_info("event=http req_id=%s ip=%s method=%s path=%s route=%s status=%d dur_us=%lld"
			    " in=%zu out=%zu user=%s%s",
			    r->request_id, r->ip, r->method, path, r->route ? r->route->pattern : "-",
			    r->status, (long long)dur, r->bytes_in, r->resp_len,
			    r->who.via != MR_AUTH_NONE ? r->who.user.login : "-",
			    toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
	}
	mr_req_free(r);
	*con_cls = NULL;
}

static void mr_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	char q[600];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	mr_log_quote(q, sizeof(q), msg);
	mr_log_warn("event=mhd message=%s", q);
}

/* Parses "host:port", "[v6]:port" or ":port" into a socket address. */
static int mr_parse_listen(const char *listen, struct sockaddr_storage *ss, int *v6,
			   struct mr_err *err)
{
	char host[256];
	const char *colon = strrchr(listen, ':');
	const char *port;
	struct addrinfo hints, *res = NULL;
	size_t hn;

	if (!colon)
		return mr_err_set(err, MR_EINVAL, "--listen '%s' must be HOST:PORT", listen);
	port = colon + 1;
	hn = (size_t)(colon - listen);
	if (hn >= 2 && listen[0] == '[' && listen[hn - 1] == ']') {
		listen++;
		hn -= 2;
	}
	if (hn >= sizeof(host))
		return mr_err_set(err, MR_EINVAL, "--listen host is too long");
	memcpy(host, listen, hn);
	host[hn] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if (getaddrinfo(hn ? host : NULL, port, &hints, &res) != 0 || !res)
		return mr_err_set(err, MR_EINVAL,
				  "--listen '%s': use a numeric address and port, e.g. 127.0.0.1:8080", listen);
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*v6 = res->ai_family == AF_INET6;
	freeaddrinfo(res);
	return 0;
}

int mr_server_start(struct mr_server **out, struct mr_app *app, struct mr_err *err)
{
	struct sockaddr_storage ss;
	struct mr_server *s;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME;
	in_port_t port;
	int v6 = 0;
	int rc;

	memset(&ss, 0, sizeof(ss));
	rc = mr_parse_listen(app->opts.listen, &ss, &v6, err);
	*out = NULL;
	if (rc < 0)
		return rc;
	if (v6)
		flags |= MHD_USE_IPv6;
	s = mr_calloc(1, sizeof(*s));
	s->app = app;
	port = v6 ? ((struct sockaddr_in6 *)(void *)&ss)->sin6_port
		  : ((struct sockaddr_in *)(void *)&ss)->sin_port;
	/* the port is also passed on its own, only so that libmicrohttpd's messages name it */
	s->daemon = MHD_start_daemon(
		flags, ntohs(port), NULL, NULL, mr_on_request, app,
		MHD_OPTION_EXTERNAL_LOGGER, mr_mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)app->opts.threads,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)app->opts.request_timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MR_CONN_MEMORY,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
		MHD_OPTION_NOTIFY_COMPLETED, mr_on_completed, app, MHD_OPTION_END);
	if (!s->daemon) {
		free(s);
		return mr_err_set(err, MR_EIO, "cannot listen on %s (is the port in use?)", app->opts.listen);
	}
	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : 0;
	*out = s;
	return 0;
}

int mr_server_port(struct mr_server *s)
{
	return s->port;
}

void mr_server_stop(struct mr_server *s)
{
	if (!s)
		return;
	mr_waiters_close(s->app->waiters); /* parked requests answer now; no new ones park */
	MHD_stop_daemon(s->daemon);
	free(s);
}
