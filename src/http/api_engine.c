/*
 * The engine's API: checking an expression for the editor
 * (POST /api/v1/expressions/check), and ad-hoc segments — how many doctors
 * an expression selects (POST /api/v1/segments/count) and which
 * (POST /api/v1/segments/members, paged, or as CSV) — evaluated over the
 * in-memory projections (engine/engine.h) within the caller's scope.
 *
 * An expression's error is a 400 whose detail says the column and what
 * was expected there: {"field":"expr","column":N,"expected":"..."}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/role.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "engine/engine.h"
#include "engine/segments.h"
#include "http/api_md.h"
#include "http/http.h"
#include "md/md.h"

enum {
	MR_SEG_BODY_MAX = 128 << 10,
	MR_SEG_PAGE_MAX = 500,
	MR_SEG_CSV_MAX = 1000000,   /* doctors in one CSV export */
};

/* Shanghai: a time without a zone in as_of is read as China time, like the UI shows times. */
#define MR_SEG_DEFAULT_OFFSET_S (8 * 3600)

/* 503 until the projections have loaded after a start: try again in a second. */
static int mr_api_loading(struct mr_err *err)
{
	mr_err_set(err, MR_EUNAVAIL, "the server is still loading its indexes; try again shortly");
	err->retry_after_s = 1;
	return MR_EUNAVAIL;
}

/* The 400 of an expression that does not parse or check. */
static int mr_api_expr_error(struct mr_req *r, const struct mr_xerr *xe, const struct mr_err *err)
{
	json_t *body = json_pack("{s:{s:s, s:s, s:{s:s, s:i, s:s, s:s}}}", "error", "code", "invalid_expression",
				 "message", err->msg, "detail", "field", "expr", "column", xe->col, "expected",
				 xe->expected, "request_id", r->request_id);

	return mr_reply_json(r, 400, body);
}

/* The body's "expr" (a string) and "as_of" (ISO 8601, default now). */
static int mr_api_expr_body(struct mr_req *r, json_t **body, const char **expr, size_t *len, int64_t *as_of,
			    struct mr_err *err)
{
	json_t *v;
	int rc = mr_req_json(r, body, err);

	if (rc < 0)
		return rc;
	if (!json_is_object(*body))
		return mr_err_set(err, MR_EINVAL, "the body must be a JSON object with \"expr\"");
	v = json_object_get(*body, "expr");
	if (!json_is_string(v))
		return mr_err_field(err, MR_EINVAL, "expr", "\"expr\" must be a string holding the expression");
	*expr = json_string_value(v);
	*len = json_string_length(v);
	*as_of = mr_now_us();
	v = json_object_get(*body, "as_of");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v) || mr_time_parse(json_string_value(v), MR_SEG_DEFAULT_OFFSET_S, as_of) < 0)
			return mr_err_field(err, MR_EINVAL, "as_of",
					    "\"as_of\" must be an ISO 8601 time such as 2026-03-31T24:00:00+08:00"
					    " or 2026-03-31");
	}
	return 0;
}

static int mr_api_expr_check(struct mr_req *r, struct mr_err *err)
{
	struct mr_eplan *plan = NULL;
	struct mr_xerr xe;
	json_t *body = NULL;
	const char *expr = NULL;
	size_t len = 0;
	int64_t as_of = 0;
	char *canonical = mr_arena_alloc(&r->arena, 2 * MR_EXPR_MAX_BYTES + 1);
	int rc;

	memset(&xe, 0, sizeof(xe)); /* col 0: no expression error (yet) */
	rc = mr_api_expr_body(r, &body, &expr, &len, &as_of, err);

	if (rc == 0)
		rc = mr_engine_compile(r->app->engine, expr, len, as_of, &r->arena, &plan, &xe, err);
	json_decref(body);
	if (rc == MR_EINVAL && xe.col > 0)
		return mr_reply_json(r, 200, json_pack("{s:b, s:{s:i, s:s, s:s}}", "valid", 0, "error", "column",
						       xe.col, "message", xe.msg, "expected", xe.expected));
	if (rc < 0)
		return rc;
	mr_expr_format(mr_eplan_tree(plan), canonical, 2 * MR_EXPR_MAX_BYTES + 1);
	return mr_reply_json(r, 200, json_pack("{s:b, s:s, s:s}", "valid", 1, "type",
					       mr_xtype_name(mr_eplan_type(plan)), "canonical", canonical));
}

/*
 * Brings the master-data projections up to date (read-your-writes: a
 * doctor created a moment ago is counted) before an expression is compiled
 * against them. Events need nothing: they are applied before their 2xx.
 */
static int mr_api_engine_sync(struct mr_req *r, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	int rc;

	if (!mr_hcpdir_ready(r->app->hcpdir))
		return 0;
	rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		rc = mr_hcpdir_sync(r->app->hcpdir, c, err);
		mr_req_done_conn(r, c);
	}
	return rc;
}

int mr_api_engine_ready(struct mr_req *r, struct mr_err *err)
{
	if (!mr_engine_ready(r->app->engine) || !mr_hcpdir_ready(r->app->hcpdir))
		return mr_api_loading(err);
	return mr_api_engine_sync(r, err);
}

/* Compiles the body's expression for a segment; 1 when it answered the request (a 400 of the expression). */
static int mr_api_seg_plan(struct mr_req *r, json_t **body, struct mr_eplan **plan, int64_t *as_of,
			   struct mr_err *err)
{
	struct mr_xerr xe;
	const char *expr = NULL;
	size_t len = 0;
	int rc;

	memset(&xe, 0, sizeof(xe)); /* col 0: no expression error (yet) */
	rc = mr_api_expr_body(r, body, &expr, &len, as_of, err);

	if (rc == 0 && !mr_engine_ready(r->app->engine))
		rc = mr_api_loading(err);
	if (rc == 0)
		rc = mr_api_engine_sync(r, err);
	if (rc == 0)
		rc = mr_engine_compile(r->app->engine, expr, len, *as_of, &r->arena, plan, &xe, err);
	if (rc == MR_EINVAL && xe.col > 0) {
		mr_api_expr_error(r, &xe, err);
		return 1;
	}
	if (rc == 0 && mr_eplan_type(*plan) != MR_XT_BOOL)
		rc = mr_err_field(err, MR_EINVAL, "expr", "a segment is a boolean expression (true or false for"
				  " each doctor); this one gives a %s", mr_xtype_name(mr_eplan_type(*plan)));
	return rc;
}

static json_t *mr_api_time_json(int64_t us)
{
	char buf[64];

	mr_time_format(us, buf, sizeof(buf));
	return json_string(buf);
}

static int mr_api_seg_count(struct mr_req *r, struct mr_err *err)
{
	struct mr_eplan *plan = NULL;
	json_t *body = NULL;
	unsigned char *scope = NULL;
	uint32_t nscope = 0;
	int64_t as_of = 0, count = 0, t0;
	int rc = mr_api_seg_plan(r, &body, &plan, &as_of, err);

	json_decref(body);
	if (rc == 1)
		return 0;
	if (rc == 0)
		rc = mr_api_scope_map(r, &scope, &nscope, err);
	t0 = mr_mono_us();
	if (rc == 0)
		rc = mr_engine_select(r->app->engine, plan, scope, nscope, 0, NULL, 0, NULL, &count, err);
	free(scope);
	if (rc < 0)
		return rc;
	return mr_reply_json(r, 200, json_pack("{s:I, s:f, s:o}", "count", (json_int_t)count, "took_ms",
					       (double)(mr_mono_us() - t0) / 1000.0, "as_of", mr_api_time_json(as_of)));
}

/* Writes one CSV field, quoted when it must be. */
static void mr_csv_field(struct mr_buf *b, const char *v, int last)
{
	if (v && strpbrk(v, ",\"\r\n")) {
		mr_buf_adds(b, "\"");
		for (const char *p = v; *p; p++) {
			if (*p == '"')
				mr_buf_adds(b, "\"");
			mr_buf_addf(b, "%c", *p);
		}
		mr_buf_adds(b, "\"");
	} else if (v) {
		mr_buf_adds(b, v);
	}
	mr_buf_adds(b, last ? "\r\n" : ",");
}

static const char *const mr_seg_csv_cols[] = { "id", "name", "specialty", "title", "department", "hco", "status" };
#define MR_SEG_CSV_NCOLS ((int)(sizeof(mr_seg_csv_cols) / sizeof(mr_seg_csv_cols[0])))

static void mr_csv_rows(struct mr_buf *b, json_t *items)
{
	size_t i;
	json_t *it;

	json_array_foreach(items, i, it) {
		for (int k = 0; k < MR_SEG_CSV_NCOLS; k++) {
			json_t *v = json_object_get(it, mr_seg_csv_cols[k]);

			mr_csv_field(b, json_is_string(v) ? json_string_value(v) : NULL, k == MR_SEG_CSV_NCOLS - 1);
		}
	}
}

static int mr_api_seg_members(struct mr_req *r, struct mr_err *err)
{
	struct mr_eplan *plan = NULL;
	json_t *body = NULL, *items = json_array(), *v;
	unsigned char *scope = NULL;
	uint32_t nscope = 0, *ids = NULL;
	int64_t as_of = 0, count = 0, cursor = 0, limit = 50;
	const char *format = NULL;
	int nids = 0, csv = 0, rc = mr_api_seg_plan(r, &body, &plan, &as_of, err);
	struct mr_conn *c = NULL;
	struct mr_buf out;

	if (rc == 1) {
		json_decref(body);
		json_decref(items);
		return 0;
	}
	if (rc == 0)
		rc = mr_req_query(r, "format", &format, err);
	if (rc == 0 && format && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0)
		rc = mr_err_field(err, MR_EINVAL, "format", "format must be json or csv");
	csv = format && strcmp(format, "csv") == 0;
	if (rc == 0 && (v = json_object_get(body, "limit")) && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > MR_SEG_PAGE_MAX)
			rc = mr_err_field(err, MR_EINVAL, "limit", "limit must be an integer from 1 to %d",
					  MR_SEG_PAGE_MAX);
		else
			limit = json_integer_value(v);
	}
	if (rc == 0 && (v = json_object_get(body, "cursor")) && !json_is_null(v)) {
		const char *cs = json_is_string(v) ? json_string_value(v) : "";
		char *end = NULL;

		cursor = strtoll(cs, &end, 10);
		if (!*cs || *end || cursor < 0 || cursor > UINT32_MAX)
			rc = mr_err_field(err, MR_EINVAL, "cursor", "the cursor is not one this list issued;"
					  " start again without it");
	}
	json_decref(body);
	if (csv)
		limit = MR_SEG_CSV_MAX;
	if (rc == 0)
		rc = mr_api_scope_map(r, &scope, &nscope, err);
	if (rc == 0) {
		ids = mr_calloc((size_t)limit + 1, sizeof(*ids));
		rc = mr_engine_select(r->app->engine, plan, scope, nscope, (uint32_t)cursor, ids, (int)limit + 1,
				      &nids, &count, err);
	}
	free(scope);
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	mr_buf_init(&out, csv ? 1 << 20 : 0);
	if (csv && rc == 0) {
		for (int k = 0; k < MR_SEG_CSV_NCOLS; k++)
			mr_csv_field(&out, mr_seg_csv_cols[k], k == MR_SEG_CSV_NCOLS - 1);
	}
	/* the rows, as the HCP list shows them (masked as a list is), MR_MD_PAGE_IDS - 1 at a time */
	for (int at = 0; rc == 0 && at < (csv ? nids : (nids < limit ? nids : (int)limit));) {
		int64_t page[MR_MD_PAGE_IDS], next = 0;
		int want = csv ? nids : (nids < limit ? nids : (int)limit), k = 0;
		json_t *rows = json_array();

		for (; k < MR_MD_PAGE_IDS - 1 && at + k < want; k++)
			page[k] = ids[at + k];
		rc = mr_md_list_ids(c, &mr_md_hcp, page, k, k, rows, &next, err);
		if (rc == 0 && csv)
			mr_csv_rows(&out, rows);
		if (rc == 0 && !csv)
			json_array_extend(items, rows);
		json_decref(rows);
		at += k;
	}
	if (c)
		mr_req_done_conn(r, c);
	if (rc == 0)
		rc = mr_req_audit_read(r, csv ? "segment.export" : "segment.members", "hcp", NULL, err);
	if (rc < 0) {
		free(ids);
		json_decref(items);
		mr_buf_release(&out);
		return rc;
	}
	if (csv) {
		size_t n = 0;
		char *text = mr_buf_detach(&out, &n);

		free(ids);
		json_decref(items);
		mr_reply_header(r, "Content-Disposition", "attachment; filename=\"segment.csv\"");
		return mr_reply_raw(r, 200, "text/csv; charset=utf-8", text, n);
	}
	mr_buf_release(&out);
	mr_api_times(items);
	{
		json_t *o = json_pack("{s:o, s:o, s:o}", "items", items, "next_cursor",
				      nids > limit ? json_sprintf("%u", ids[limit - 1]) : json_null(), "as_of",
				      mr_api_time_json(as_of));

		free(ids);
		return mr_reply_json(r, 200, o);
	}
}

/* ------------------------------------------------------------ saved segments */

#define MR_R_SEGMENTS MR_ROLES_ALL
#define MR_R_SEGMENT_WRITE                                                                   \
	(MR_ROLE_BIT(MR_ROLE_ADMIN) | MR_ROLE_BIT(MR_ROLE_MARKETING) | MR_ROLE_BIT(MR_ROLE_MANAGER))

/* The {name} of a saved segment's route, checked. */
static int mr_api_segment_name(struct mr_req *r, const char **name, struct mr_err *err)
{
	*name = mr_req_param(r, "name");
	if (!mr_segment_name_ok(*name) || strcmp(*name, "count") == 0 || strcmp(*name, "members") == 0)
		return mr_err_field(err, MR_EINVAL, "name", "a segment name is 1 to %d of a-z, 0-9, _ and -,"
				    " starting with a letter or digit (and not 'count' or 'members')",
				    MR_SEGMENT_NAME_MAX);
	return 0;
}

/* The live size of a saved segment's expression within the caller's scope, into o as "count". */
static void mr_api_segment_count(struct mr_req *r, json_t *o, const unsigned char *scope, uint32_t nscope)
{
	json_t *expr = json_object_get(o, "expr");
	struct mr_eplan *plan = NULL;
	struct mr_xerr xe;
	struct mr_err why;
	int64_t n = 0;

	if (json_is_string(expr) && mr_engine_ready(r->app->engine) &&
	    mr_engine_compile(r->app->engine, json_string_value(expr), json_string_length(expr), mr_now_us(),
			      &r->arena, &plan, &xe, &why) == 0 &&
	    mr_engine_select(r->app->engine, plan, scope, nscope, 0, NULL, 0, NULL, &n, &why) == 0)
		json_object_set_new(o, "count", json_integer(n));
	else
		json_object_set_new(o, "count", json_null());
}

struct mr_api_segment_put {
	struct mr_req *r;
	const char *name, *expr, *description;
	int created;
};

static int mr_api_segment_put_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_api_segment_put *j = arg;
	int64_t now = mr_now_us();
	int measured = 0;
	int rc = mr_segment_put(c, j->name, j->expr, j->description, j->r->who.user.login, now, &j->created, err);

	if (rc == 0)
		rc = mr_segments_measure(c, j->r->app->engine, j->name, now, &measured, err);
	if (rc == 0)
		rc = mr_req_audit(j->r, c, j->created ? "segment.create" : "segment.update", "segment", j->name,
				  j->created ? 201 : 200, NULL, NULL, err);
	return rc;
}

static int mr_api_segment_put(struct mr_req *r, struct mr_err *err)
{
	static const char *const allowed[] = { "expr", "description", NULL };
	struct mr_api_segment_put j = { r, NULL, NULL, NULL, 0 };
	struct mr_eplan *plan = NULL;
	json_t *body = NULL, *out = NULL;
	struct mr_conn *c = NULL;
	int64_t as_of = 0;
	int rc = mr_api_segment_name(r, &j.name, err);

	if (rc == 0) {
		rc = mr_api_seg_plan(r, &body, &plan, &as_of, err);
		if (rc == 1) {
			json_decref(body);
			return 0;
		}
	}
	if (rc == 0)
		rc = mr_json_only(body, allowed, err);
	if (rc == 0)
		rc = mr_json_str(body, "description", 0, MR_SEGMENT_DESC_MAX, &j.description, err);
	if (rc == 0) {
		j.expr = json_string_value(json_object_get(body, "expr"));
		rc = mr_req_write(r, mr_api_segment_put_fn, &j, err);
	}
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		rc = mr_segment_get(c, j.name, 1, &out, err);
		mr_req_done_conn(r, c);
	}
	json_decref(body);
	if (rc < 0)
		return rc;
	mr_api_segment_count(r, out, NULL, 0);
	return mr_reply_json(r, j.created ? 201 : 200, out);
}

static int mr_api_segment_get(struct mr_req *r, struct mr_err *err)
{
	const char *name = NULL;
	json_t *out = NULL;
	struct mr_conn *c = NULL;
	unsigned char *scope = NULL;
	uint32_t nscope = 0;
	int rc = mr_api_segment_name(r, &name, err);

	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		rc = mr_segment_get(c, name, 1, &out, err);
		mr_req_done_conn(r, c);
	}
	if (rc == 0)
		rc = mr_api_scope_map(r, &scope, &nscope, err);
	if (rc < 0) {
		json_decref(out);
		return rc;
	}
	mr_api_segment_count(r, out, scope, nscope);
	free(scope);
	return mr_reply_json(r, 200, out);
}

static int mr_api_segment_list(struct mr_req *r, struct mr_err *err)
{
	json_t *items = json_array(), *it;
	struct mr_conn *c = NULL;
	unsigned char *scope = NULL;
	uint32_t nscope = 0;
	size_t i;
	int rc = mr_req_conn(r, &c, err);

	if (rc == 0) {
		rc = mr_segment_list(c, items, err);
		mr_req_done_conn(r, c);
	}
	if (rc == 0)
		rc = mr_api_scope_map(r, &scope, &nscope, err);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	json_array_foreach(items, i, it)
		mr_api_segment_count(r, it, scope, nscope);
	free(scope);
	return mr_reply_json(r, 200, mr_page(items, 0));
}

struct mr_api_segment_del {
	struct mr_req *r;
	const char *name;
};

static int mr_api_segment_del_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_api_segment_del *j = arg;
	int rc = mr_segment_delete(c, j->name, mr_now_us(), err);

	if (rc == 0)
		rc = mr_req_audit(j->r, c, "segment.delete", "segment", j->name, 204, NULL, NULL, err);
	return rc;
}

static int mr_api_segment_delete(struct mr_req *r, struct mr_err *err)
{
	struct mr_api_segment_del j = { r, NULL };
	int rc = mr_api_segment_name(r, &j.name, err);

	if (rc == 0)
		rc = mr_req_write(r, mr_api_segment_del_fn, &j, err);
	return rc < 0 ? rc : mr_reply_empty(r, 204);
}

const struct mr_route mr_routes_engine[] = {
	{ "POST", "/api/v1/expressions/check", mr_api_expr_check, MR_ROLES_ALL, MR_ROUTE_BODY | MR_ROUTE_OK200,
	  "Checks an expression of the query language: {valid, type, canonical} or {valid: false, error:"
	  " {column, message, expected}}", "engine", MR_SEG_BODY_MAX },
	{ "POST", "/api/v1/segments/count", mr_api_seg_count, MR_R_SEGMENTS, MR_ROUTE_BODY | MR_ROUTE_OK200,
	  "How many doctors (within the caller's scope) a boolean expression selects at as_of:"
	  " {count, took_ms, as_of}", "segments", MR_SEG_BODY_MAX },
	{ "POST", "/api/v1/segments/members", mr_api_seg_members, MR_R_SEGMENTS, MR_ROUTE_BODY | MR_ROUTE_OK200,
	  "The doctors an expression selects, paged (limit, cursor in the body), or ?format=csv for all",
	  "segments", MR_SEG_BODY_MAX },
	{ "GET", "/api/v1/segments", mr_api_segment_list, MR_R_SEGMENTS, 0,
	  "Saved segments with their live count in the caller's scope and last daily size", "segments", 0 },
	{ "PUT", "/api/v1/segments/{name}", mr_api_segment_put, MR_R_SEGMENT_WRITE, MR_ROUTE_BODY,
	  "Saves a segment {expr, description} (a boolean expression); measures today's size", "segments",
	  MR_SEG_BODY_MAX },
	{ "GET", "/api/v1/segments/{name}", mr_api_segment_get, MR_R_SEGMENTS, 0,
	  "A saved segment with its daily sizes and its live count in the caller's scope", "segments", 0 },
	{ "DELETE", "/api/v1/segments/{name}", mr_api_segment_delete, MR_R_SEGMENT_WRITE, 0,
	  "Deletes a saved segment (its sizes are kept)", "segments", 0 },
	{ 0 },
};
