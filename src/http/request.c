/*
 * The helpers handlers use to read a request and write a response: path
 * and query parameters with validation, the JSON body, paging, replies in
 * the standard shapes, and auditing tied to the request (who, from where,
 * which request id).
 */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/role.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "http/http.h"
#include "http/wait.h"
#include "store/writer.h"

enum { MR_QUERY_MAX = 512, MR_PAGE_MAX = 500, MR_PAGE_DEFAULT = 50, MR_RESPONSE_MAX = 256 << 20 };

int mr_reply_raw(struct mr_req *r, int status, const char *content_type, char *body, size_t len)
{
	free(r->resp);
	r->status = status;
	r->content_type = content_type;
	r->resp = body;
	r->resp_len = len;
	r->replied = 1;
	return 0;
}

int mr_reply_json(struct mr_req *r, int status, json_t *v)
{
	struct mr_buf b;
	char *body;
	size_t len;
	int rc;

	if (!v) { /* a json_pack that failed (a bug): answer 500, not a crash */
		struct mr_err err;

		mr_log_error("event=reply_failed status=%d req_id=%s reason=\"no JSON value\"", status, r->request_id);
		mr_err_set(&err, MR_EINTERNAL, "the server could not build its answer");
		mr_reply_error(r, &err);
		return 0;
	}
	mr_buf_init(&b, MR_RESPONSE_MAX);
	rc = mr_json_render(v, &b);
	json_decref(v);
	if (rc < 0) {
		struct mr_err err;
		mr_buf_release(&b);
		mr_err_set(&err, MR_EINTERNAL, "the response is larger than %d MiB", MR_RESPONSE_MAX >> 20);
		mr_reply_error(r, &err);
		return 0;
	}
	body = mr_buf_detach(&b, &len);
	return mr_reply_raw(r, status, "application/json; charset=utf-8", body, len);
}

int mr_reply_empty(struct mr_req *r, int status)
{
	return mr_reply_raw(r, status, NULL, NULL, 0);
}

void mr_reply_header(struct mr_req *r, const char *name, const char *value)
{
	if (r->nhdr >= MR_REQ_MAX_HEADERS)
		return;
	r->hdr_name[r->nhdr] = mr_arena_strdup(&r->arena, name);
	r->hdr_value[r->nhdr] = mr_arena_strdup(&r->arena, value);
	r->nhdr++;
}

static int mr_err_status(int code)
{
	switch (code) {
	case MR_EINVAL: return 400;
	case MR_EAUTH: return 401;
	case MR_EFORBIDDEN: return 403;
	case MR_ENOTFOUND: return 404;
	case MR_EMETHOD: return 405;
	case MR_ETIMEOUT: return 408;
	case MR_ECONFLICT: return 409;
	case MR_ETOOBIG: return 413;
	case MR_EMEDIA: return 415;
	case MR_EUNPROC: return 422;
	case MR_ELIMIT: return 429;
	case MR_EHEADERS: return 431;
	case MR_EUNAVAIL: return 503;
	default: return 500;
	}
}

void mr_reply_error(struct mr_req *r, const struct mr_err *err)
{
	json_t *detail = json_object();
	json_t *e = json_object();
	json_t *body = json_object();
	int status = mr_err_status(err->code);
	const char *msg = err->msg[0] ? err->msg : "something went wrong";

	if (status == 500) {
		/* Internal details stay in the log; the client gets the request id to quote. */
		char q[sizeof(err->msg) + 8];
		mr_log_quote(q, sizeof(q), err->msg);
		mr_log_error("event=internal_error req_id=%s route=%s error=%s", r->request_id,
			     r->route ? r->route->pattern : "-", q);
		msg = "internal error; quote the request id to your administrator";
	}
	if (err->field[0])
		json_object_set_new(detail, "field", mr_json_string_safe(err->field));
	if (err->line)
		json_object_set_new(detail, "line", json_integer(err->line));
	if (err->column)
		json_object_set_new(detail, "column", json_integer(err->column));
	if (err->retry_after_s) {
		char ra[24];
		json_object_set_new(detail, "retry_after_s", json_integer(err->retry_after_s));
		snprintf(ra, sizeof(ra), "%lld", (long long)err->retry_after_s);
		mr_reply_header(r, "Retry-After", ra);
	}
	json_object_set_new(detail, "request_id", json_string(r->request_id));
	json_object_set_new(e, "code", json_string(err->kind ? err->kind : mr_err_name(err->code)));
	json_object_set_new(e, "message", mr_json_string_safe(msg));
	json_object_set_new(e, "detail", detail);
	json_object_set_new(body, "error", e);
	mr_reply_json(r, status, body);
}

const char *mr_req_param(struct mr_req *r, const char *name)
{
	size_t n = strlen(name);

	for (int i = 0; i < r->nparams; i++) {
		const char *pn = r->param_names[i] + 1; /* skip '{' */
		if (strncmp(pn, name, n) == 0 && (pn[n] == '}' || pn[n] == '*'))
			return mr_arena_strndup(&r->arena, r->params[i].p, r->params[i].n);
	}
	return NULL;
}

int mr_req_param_id(struct mr_req *r, const char *name, int64_t *id, struct mr_err *err)
{
	const char *v = mr_req_param(r, name);

	if (!v || mr_parse_i64(v, 1, INT64_MAX, id) < 0)
		return mr_err_field(err, MR_ENOTFOUND, name, "'%s' is not a valid %s", v ? v : "", name);
	return 0;
}

int mr_req_query(struct mr_req *r, const char *key, const char **out, struct mr_err *err)
{
	const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
	size_t n;

	*out = NULL;
	if (!v)
		return 0;
	n = strlen(v);
	if (n > MR_QUERY_MAX)
		return mr_err_field(err, MR_EINVAL, key, "query parameter '%s' is longer than %d bytes",
				    key, MR_QUERY_MAX);
	if (mr_utf8_check(v, n))
		return mr_err_field(err, MR_EINVAL, key, "query parameter '%s' is not valid UTF-8", key);
	*out = v;
	return 0;
}

int mr_req_query_int(struct mr_req *r, const char *key, int64_t min, int64_t max, int64_t def,
		     int64_t *out, struct mr_err *err)
{
	const char *v;
	int rc = mr_req_query(r, key, &v, err);

	if (rc < 0)
		return rc;
	*out = def;
	if (!v)
		return 0;
	if (mr_parse_i64(v, min, max, out) < 0)
		return mr_err_field(err, MR_EINVAL, key,
				    "query parameter '%s' must be a whole number from %lld to %lld", key,
				    (long long)min, (long long)max);
	return 0;
}

int mr_req_query_time(struct mr_req *r, const char *key, int64_t *out, struct mr_err *err)
{
	const char *v;
	int rc = mr_req_query(r, key, &v, err);

	*out = 0;
	if (rc < 0 || !v)
		return rc;
	if (mr_time_parse(v, 8 * 3600, out) < 0)
		return mr_err_field(err, MR_EINVAL, key,
				    "query parameter '%s' must be an RFC 3339 time such as"
				    " 2026-11-23T09:00:00+08:00, or a date 2026-11-23",
				    key);
	return 0;
}

int mr_req_paging(struct mr_req *r, int *limit, int64_t *cursor, struct mr_err *err)
{
	int64_t l;
	int rc = mr_req_query_int(r, "limit", 1, MR_PAGE_MAX, MR_PAGE_DEFAULT, &l, err);

	if (rc < 0)
		return rc;
	*limit = (int)l;
	rc = mr_req_query_int(r, "cursor", 1, INT64_MAX, 0, cursor, err);
	if (rc < 0)
		return mr_err_field(err, MR_EINVAL, "cursor",
				    "the cursor is not one this server issued; start again without it");
	return 0;
}

int mr_req_json(struct mr_req *r, json_t **out, struct mr_err *err)
{
	return mr_json_parse_object(r->body.p ? r->body.p : "", r->body.len, out, err);
}

const char *mr_req_header(struct mr_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

json_t *mr_page(json_t *items, int64_t next_cursor)
{
	json_t *o = json_object();

	json_object_set_new(o, "items", items);
	if (next_cursor) {
		char c[24];
		snprintf(c, sizeof(c), "%lld", (long long)next_cursor);
		json_object_set_new(o, "next_cursor", json_string(c));
	} else {
		json_object_set_new(o, "next_cursor", json_null());
	}
	return o;
}

int mr_req_audit(struct mr_req *r, struct mr_conn *c, const char *action, const char *entity,
		 const char *entity_id, int status, const unsigned char *before,
		 const unsigned char *after, struct mr_err *err)
{
	struct mr_audit_rec rec;
	int authed = r->who.via != MR_AUTH_NONE;

	memset(&rec, 0, sizeof(rec));
	rec.user_id = authed ? r->who.user.id : 0;
	rec.login = authed ? r->who.user.login : NULL;
	rec.role = authed ? mr_role_name(r->who.user.role) : NULL;
	rec.action = action;
	rec.entity = entity;
	rec.entity_id = entity_id;
	rec.request_id = r->request_id;
	rec.ip = r->ip;
	rec.status = status;
	rec.before = before;
	rec.after = after;
	return mr_audit_append(c, &r->app->keys, &rec, NULL, err);
}

struct mr_audit_read_job {
	struct mr_req *r;
	const char *action, *entity, *entity_id;
};

static int mr_audit_read_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_audit_read_job *j = arg;

	return mr_req_audit(j->r, c, j->action, j->entity, j->entity_id, 200, NULL, NULL, err);
}

/* A read's audit record that outlives its request: every string copied into one block. */
struct mr_audit_post {
	struct mr_audit_rec rec;
	const struct mr_keys *keys;
	char buf[];
};

static const char *mr_audit_post_copy(char **at, const char *s)
{
	char *p = *at;
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	memcpy(p, s, n);
	*at = p + n;
	return p;
}

/* The audit records of the reads in one group commit, appended together. */
static int mr_audit_post_fn(struct mr_conn *c, void *const *args, int n, struct mr_err *err)
{
	const struct mr_audit_rec *recs[256];
	const struct mr_keys *keys = ((const struct mr_audit_post *)args[0])->keys;
	int rc = 0;

	for (int at = 0; rc == 0 && at < n; at += 256) {
		int m = n - at < 256 ? n - at : 256;

		for (int i = 0; i < m; i++)
			recs[i] = &((const struct mr_audit_post *)args[at + i])->rec;
		rc = mr_audit_append_many(c, keys, recs, m, err);
	}
	return rc;
}

static void mr_audit_post_done(void *arg, int rc, const struct mr_err *err)
{
	if (rc < 0)
		mr_log_error("event=read_audit_failed error=\"%s\"", err->msg);
	free(arg);
}

int mr_req_audit_read(struct mr_req *r, const char *action, const char *entity,
		      const char *entity_id, struct mr_err *err)
{
	struct mr_audit_read_job j = { r, action, entity, entity_id };
	const char *login = r->who.via != MR_AUTH_NONE ? r->who.user.login : NULL;
	const char *role = r->who.via != MR_AUTH_NONE ? mr_role_name(r->who.user.role) : NULL;
	const char *s[] = { login, role, action, entity, entity_id, r->request_id, r->ip };
	size_t need = 0;
	struct mr_audit_post *p;
	char *at;

	if (r->app->opts.read_audit_us <= 0)
		return mr_req_write(r, mr_audit_read_fn, &j, err);
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		need += s[i] ? strlen(s[i]) + 1 : 0;
	p = mr_calloc(1, sizeof(*p) + need);
	at = p->buf;
	p->keys = &r->app->keys;
	p->rec.ts = mr_now_us();
	p->rec.user_id = login ? r->who.user.id : 0;
	p->rec.login = mr_audit_post_copy(&at, login);
	p->rec.role = mr_audit_post_copy(&at, role);
	p->rec.action = mr_audit_post_copy(&at, action);
	p->rec.entity = mr_audit_post_copy(&at, entity);
	p->rec.entity_id = mr_audit_post_copy(&at, entity_id);
	p->rec.request_id = mr_audit_post_copy(&at, r->request_id);
	p->rec.ip = mr_audit_post_copy(&at, r->ip);
	p->rec.status = 200;
	mr_writer_post_group(r->app->writer, mr_audit_post_fn, p, mr_audit_post_done, 1);
	return 0;
}

int mr_req_wait(struct mr_req *r, int64_t after_seq, int64_t deadline_us, struct mr_err *err)
{
	if (!r->app->waiters)
		return mr_err_set(err, MR_EUNAVAIL, "this server cannot hold requests open");
	r->wait_after_seq = after_seq;
	r->wait_deadline_us = deadline_us;
	return mr_waiters_park(r->app->waiters, r, err);
}

int mr_req_write(struct mr_req *r, int (*fn)(struct mr_conn *c, void *arg, struct mr_err *err),
		 void *arg, struct mr_err *err)
{
	return mr_writer_submit(r->app->writer, fn, arg, err);
}

int mr_req_conn(struct mr_req *r, struct mr_conn **c, struct mr_err *err)
{
	return mr_store_acquire(r->app->store, c, err);
}

void mr_req_done_conn(struct mr_req *r, struct mr_conn *c)
{
	mr_store_release(r->app->store, c);
}
