/*
 * The real HTTP server, in-process, fed the bad input the API must answer
 * well: malformed JSON, wrong types, unknown routes and methods, oversized
 * bodies and headers, invalid UTF-8, wrong passwords, wrong roles, revoked
 * tokens. Run under ASan + UBSan by `make test`, this is what proves none
 * of them crashes or leaks.
 */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>

#include "auth/role.h"
#include "auth/token.h"
#include "auth/user.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "http/app.h"
#include "http/server.h"
#include "store/writer.h"

struct fixture {
	struct mr_test_db db;
	struct mr_app app;
	struct mr_server *server;
	int port;
	char admin_token[MR_SECRET_MAX + 1];
	char rep_token[MR_SECRET_MAX + 1];
	char revoked_token[MR_SECRET_MAX + 1];
};

static struct fixture fx;

static int seed(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_user admin = { .role = MR_ROLE_ADMIN }, rep = { .role = MR_ROLE_FIELD_REP };
	int64_t admin_id = 0, rep_id = 0, tid = 0;
	int rc;

	(void)arg;
	snprintf(admin.login, sizeof(admin.login), "admin");
	snprintf(admin.name, sizeof(admin.name), "Admin");
	snprintf(rep.login, sizeof(rep.login), "rep");
	snprintf(rep.name, sizeof(rep.name), "代表");
	char hash[MR_PASSWORD_HASH_MAX];

	rc = mr_password_hash("rep password 123", hash, err);
	if (rc == 0)
		rc = mr_user_create(c, &admin, hash, &admin_id, err);
	if (rc == 0)
		rc = mr_user_create(c, &rep, hash, &rep_id, err);
	if (rc == 0)
		rc = mr_token_create(c, admin_id, "t", 0, fx.admin_token, &tid, err);
	if (rc == 0)
		rc = mr_token_create(c, rep_id, "t", 0, fx.rep_token, &tid, err);
	if (rc == 0)
		rc = mr_token_create(c, rep_id, "t", 0, fx.revoked_token, &tid, err);
	if (rc == 0)
		rc = mr_token_revoke(c, tid, 0, mr_now_us(), err);
	return rc;
}

static int setup(void **state)
{
	struct mr_server_opts opts;
	struct mr_keys keys;
	struct mr_err err;

	(void)state;
	assert_true(sodium_init() >= 0);
	mr_log_set_level(MR_LOG_WARN);
	mr_err_clear(&err);
	memset(&opts, 0, sizeof(opts));
	opts.listen = "127.0.0.1:0";
	opts.web_root = "web";
	opts.threads = 2;
	mr_test_db_open(&fx.db, 0);
	mr_test_keys(&keys, 3);
	if (mr_store_write(fx.db.store, seed, NULL, &err) < 0 ||
	    mr_app_init(&fx.app, fx.db.store, &keys, &opts, &err) < 0 ||
	    mr_writer_start(&fx.app.writer, fx.db.store, &err) < 0 ||
	    mr_server_start(&fx.server, &fx.app, &err) < 0)
		fail_msg("setup: %s", err.msg);
	fx.port = mr_server_port(fx.server);
	assert_true(fx.port > 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mr_server_stop(fx.server);
	mr_writer_stop(fx.app.writer);
	fx.app.writer = NULL;
	mr_app_release(&fx.app);
	mr_test_db_close(&fx.db);
	return 0;
}

/* Sends raw bytes (one request, Connection: close) and returns the status; *body gets the rest. */
static int http_raw(const char *req, size_t len, struct mr_buf *resp)
{
	struct sockaddr_in sa;
	char chunk[4096];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char code[4];
	int64_t status = 0;
	size_t off = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)fx.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	while (off < len) {
		ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (n <= 0)
			break; /* the server may answer and close before reading it all */
		off += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	mr_buf_init(resp, 1 << 22);
	for (;;) {
		ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
		if (n <= 0)
			break;
		mr_buf_add(resp, chunk, (size_t)n);
	}
	close(fd);
	if (resp->len < 12 || strncmp(mr_buf_str(resp), "HTTP/1.1 ", 9) != 0)
		return 0;
	memcpy(code, mr_buf_str(resp) + 9, 3);
	code[3] = '\0';
	return mr_parse_i64(code, 100, 599, &status) == 0 ? (int)status : 0;
}

/* Builds a request with optional bearer token, content type and body; returns the status. */
static int http(const char *method, const char *path, const char *token, const char *type,
		const char *body, size_t body_len, struct mr_buf *resp)
{
	struct mr_buf req;
	int status;

	mr_buf_init(&req, 1 << 24);
	mr_buf_addf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n", method, path);
	if (token)
		mr_buf_addf(&req, "Authorization: Bearer %s\r\n", token);
	if (type)
		mr_buf_addf(&req, "Content-Type: %s\r\n", type);
	if (body)
		mr_buf_addf(&req, "Content-Length: %zu\r\n", body_len);
	mr_buf_adds(&req, "\r\n");
	if (body)
		mr_buf_add(&req, body, body_len);
	status = http_raw(req.p, req.len, resp);
	mr_buf_release(&req);
	return status;
}

struct bad_case {
	const char *what;
	const char *method;
	const char *path;
	int token;          /* 0 none, 1 admin, 2 rep, 3 revoked */
	const char *type;
	const char *body;   /* NULL: no body */
	int status;
	const char *code;   /* expected error code in the body */
};

static const struct bad_case bad_cases[] = {
	{ "malformed JSON", "POST", "/api/v1/users", 1, "application/json", "{\"login\":", 400, "bad_request" },
	{ "JSON array", "POST", "/api/v1/users", 1, "application/json", "[1,2]", 400, "bad_request" },
	{ "wrong type", "POST", "/api/v1/users", 1, "application/json",
	  "{\"login\":\"x1\",\"name\":\"X\",\"role\":5}", 400, "bad_request" },
	{ "missing field", "POST", "/api/v1/users", 1, "application/json", "{\"login\":\"abc\"}", 400, "bad_request" },
	{ "unknown field", "POST", "/api/v1/users", 1, "application/json",
	  "{\"login\":\"abc\",\"name\":\"A\",\"role\":\"msl\",\"admin\":true}", 400, "bad_request" },
	{ "invalid UTF-8", "POST", "/api/v1/users", 1, "application/json",
	  "{\"login\":\"abc\",\"name\":\"\xb0\xa1\",\"role\":\"msl\"}", 400, "bad_request" },
	{ "empty body", "POST", "/api/v1/users", 1, "application/json", "", 400, "bad_request" },
	{ "wrong media type", "POST", "/api/v1/users", 1, "text/plain", "login=x", 415, "unsupported_media_type" },
	{ "near-JSON media type", "POST", "/api/v1/users", 1, "application/jsonx", "{}", 415, "unsupported_media_type" },
	{ "GET on a POST route", "GET", "/api/v1/auth/login", 0, NULL, NULL, 405, "method_not_allowed" },
	{ "unknown route", "GET", "/api/v1/nothing", 1, NULL, NULL, 404, "not_found" },
	{ "wrong method", "DELETE", "/api/v1/me", 1, NULL, NULL, 405, "method_not_allowed" },
	{ "no credentials", "GET", "/api/v1/me", 0, NULL, NULL, 401, "unauthenticated" },
	{ "revoked token", "GET", "/api/v1/me", 3, NULL, NULL, 401, "invalid_token" },
	{ "wrong role", "GET", "/api/v1/users", 2, NULL, NULL, 403, "forbidden" },
	{ "wrong role on audit", "GET", "/api/v1/audit", 2, NULL, NULL, 403, "forbidden" },
	{ "wrong password", "POST", "/api/v1/auth/login", 0, "application/json",
	  "{\"login\":\"rep\",\"password\":\"not the password\"}", 401, "invalid_credentials" },
	{ "unknown login", "POST", "/api/v1/auth/login", 0, "application/json",
	  "{\"login\":\"ghost\",\"password\":\"not the password\"}", 401, "invalid_credentials" },
	{ "bad limit", "GET", "/api/v1/users?limit=0", 1, NULL, NULL, 400, "bad_request" },
	{ "bad cursor", "GET", "/api/v1/users?cursor=abc", 1, NULL, NULL, 400, "bad_request" },
	{ "bad query UTF-8", "GET", "/api/v1/users?q=%FF", 1, NULL, NULL, 400, "bad_request" },
	{ "bad time", "GET", "/api/v1/audit?from=yesterday", 1, NULL, NULL, 400, "bad_request" },
	{ "bad id", "GET", "/api/v1/users/abc", 1, NULL, NULL, 404, "not_found" },
	{ "missing id", "GET", "/api/v1/users/999999", 1, NULL, NULL, 404, "not_found" },
	{ "path traversal", "GET", "/../../etc/passwd", 0, NULL, NULL, 404, "not_found" },
	{ "self demotion", "PATCH", "/api/v1/users/1", 1, "application/json", "{\"role\":\"msl\"}", 422, "unprocessable" },
	{ "duplicate login", "POST", "/api/v1/users", 1, "application/json",
	  "{\"login\":\"rep\",\"name\":\"R\",\"role\":\"msl\"}", 409, "conflict" },
};

static const char *token_of(int which)
{
	return which == 1 ? fx.admin_token : which == 2 ? fx.rep_token : which == 3 ? fx.revoked_token : NULL;
}

static void test_bad_input_gets_the_right_error(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct mr_buf resp;
		char needle[80];
		int status = http(c->method, c->path, token_of(c->token), c->type, c->body,
				  c->body ? strlen(c->body) : 0, &resp);
		snprintf(needle, sizeof(needle), "{\"error\":{\"code\":\"%s\"", c->code);
		if (status != c->status || !strstr(mr_buf_str(&resp), needle))
			fail_msg("%s: expected %d %s, got %d:\n%s", c->what, c->status, c->code, status,
				 mr_buf_str(&resp));
		if (!strstr(mr_buf_str(&resp), "X-Request-Id: "))
			fail_msg("%s: no X-Request-Id", c->what);
		mr_buf_release(&resp);
	}
}

static void test_oversized_body_and_headers(void **state)
{
	struct mr_buf resp, req;
	size_t big = (size_t)2 << 20;
	char *body = mr_calloc(1, big + 1);
	int status;

	(void)state;
	memset(body, 'a', big);
	/* declared too big: refused from the headers */
	status = http("POST", "/api/v1/users", fx.admin_token, "application/json", body, big, &resp);
	assert_int_equal(status, 413);
	assert_non_null(strstr(mr_buf_str(&resp), "\"too_large\""));
	mr_buf_release(&resp);
	/* chunked with no length: refused once past the cap */
	mr_buf_init(&req, big * 2);
	mr_buf_addf(&req, "POST /api/v1/users HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
			  "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
			  "Transfer-Encoding: chunked\r\n\r\n", fx.admin_token);
	for (int i = 0; i < 40; i++) {
		mr_buf_addf(&req, "%x\r\n", 65536);
		mr_buf_add(&req, body, 65536);
		mr_buf_adds(&req, "\r\n");
	}
	mr_buf_adds(&req, "0\r\n\r\n");
	status = http_raw(req.p, req.len, &resp);
	assert_int_equal(status, 413);
	mr_buf_release(&resp);
	mr_buf_release(&req);
	/* 20 KiB of headers */
	mr_buf_init(&req, big);
	mr_buf_adds(&req, "GET /api/v1/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
	for (int i = 0; i < 20; i++) {
		mr_buf_addf(&req, "X-Filler-%d: ", i);
		mr_buf_add(&req, body, 1000);
		mr_buf_adds(&req, "\r\n");
	}
	mr_buf_adds(&req, "\r\n");
	status = http_raw(req.p, req.len, &resp);
	assert_int_equal(status, 431);
	mr_buf_release(&resp);
	mr_buf_release(&req);
	free(body);
}

static void test_good_requests_still_work(void **state)
{
	struct mr_buf resp;

	(void)state;
	assert_int_equal(http("GET", "/api/v1/me", fx.rep_token, NULL, NULL, 0, &resp), 200);
	assert_non_null(strstr(mr_buf_str(&resp), "\"name\":\"代表\""));
	mr_buf_release(&resp);
	{
		const char *body = "{\"login\":\"new.one\",\"name\":\"新人\",\"role\":\"msl\"}";
		assert_int_equal(http("POST", "/api/v1/users", fx.admin_token, "application/json", body,
				      strlen(body), &resp), 201);
	}
	assert_non_null(strstr(mr_buf_str(&resp), "\"password\":\""));
	mr_buf_release(&resp);
	assert_int_equal(http("GET", "/healthz", NULL, NULL, NULL, 0, &resp), 200);
	mr_buf_release(&resp);
	assert_int_equal(http("GET", "/metrics", NULL, NULL, NULL, 0, &resp), 200);
	assert_non_null(strstr(mr_buf_str(&resp), "status=\"403\""));
	mr_buf_release(&resp);
	assert_int_equal(http("GET", "/api/openapi.json", NULL, NULL, NULL, 0, &resp), 200);
	mr_buf_release(&resp);
	assert_int_equal(http("HEAD", "/", NULL, NULL, NULL, 0, &resp), 200);
	assert_non_null(strstr(mr_buf_str(&resp), "Content-Security-Policy: "));
	assert_null(strstr(mr_buf_str(&resp), "<html"));
	mr_buf_release(&resp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_input_gets_the_right_error),
		cmocka_unit_test(test_oversized_body_and_headers),
		cmocka_unit_test(test_good_requests_still_work),
	};
	return cmocka_run_group_tests_name("server", tests, setup, teardown);
}
