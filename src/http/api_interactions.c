/*
 * Reps' call and visit reports (event/report.h): a rep files one for a
 * doctor aligned to them; it is locked once filed, and a correction is an
 * amendment by its author (or an admin) that keeps the original. Filing
 * puts the report's event in the log and on the doctor's timeline before
 * the answer. The doctor's words are personal data: sealed at rest, shown
 * to the roles that may see contact data, and every read is audited.
 */
#include <stdio.h>
#include <string.h>

#include "auth/role.h"
#include "base/json.h"
#include "base/time.h"
#include "engine/evindex.h"
#include "event/report.h"
#include "http/api_md.h"
#include "http/http.h"
#include "md/scope.h"

struct mr_api_report_job {
	struct mr_req *r;
	struct mr_report *rep;
	struct mr_report_write w;
	const char *action;
};

static int mr_api_report_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_api_report_job *j = arg;
	struct mr_app *app = j->r->app;
	struct mr_evindex *ids = mr_store_kind(app->store) == MR_STORE_SQLITE ? app->evindex : NULL;
	struct mr_md_actor who;
	int rc;

	mr_api_actor(j->r, &who);
	who.source = "report";
	rc = mr_report_store(c, &app->keys, ids, j->rep, &who, &j->w, err);
	if (rc == 0)
		rc = mr_req_audit(j->r, c, j->action, "interaction", j->w.ext, 201, NULL, NULL, err);
	return rc;
}

/* Files the job through the writer; after the commit its event goes on the timeline. */
static int mr_api_report_write(struct mr_req *r, struct mr_api_report_job *j, struct mr_err *err)
{
	struct mr_evindex *ids = mr_store_kind(r->app->store) == MR_STORE_SQLITE ? r->app->evindex : NULL;
	int rc = mr_req_write(r, mr_api_report_fn, j, err);

	if (rc < 0) {
		if (j->w.b.n)
			mr_evlog_undo(ids, &j->w.b);
		return rc;
	}
	if (j->w.b.n && j->w.fate == MR_EV_STORED) {
		struct mr_evref ref;
		struct mr_err ignored;

		mr_evlog_refs(r->app->evindex, &j->w.b, &ref);
		mr_err_clear(&ignored);
		mr_evindex_apply(r->app->evindex, &ref, 1, r->app->store, &ignored);
	}
	return 0;
}

/* Replies with report ext as it now stands. */
static int mr_api_report_reply(struct mr_req *r, const char *ext, int status, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	json_t *o = NULL;
	int64_t hcp = 0;
	int rc = mr_req_conn(r, &c, err);

	if (rc == 0) {
		rc = mr_report_get(c, &r->app->keys, ext, 1, &o, &hcp, err);
		mr_req_done_conn(r, c);
	}
	if (rc < 0)
		return rc;
	return mr_reply_json(r, status, o);
}

static int mr_api_report_create(struct mr_req *r, struct mr_err *err)
{
	struct mr_api_report_job j = { r, NULL, { .ext = { 0 } }, "interaction.create" };
	struct mr_report rep;
	struct mr_conn *c = NULL;
	struct mr_scope s;
	json_t *body = NULL;
	int rc = mr_req_json(r, &body, err);

	if (rc == 0)
		rc = mr_report_from_json(&rep, body, 0, mr_now_us(), &r->arena, err);
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		rc = mr_api_hcp_ref(r, c, rep.hcp, 1, &rep.hcp_id, err);
		if (rc == 0)
			rc = mr_api_scope(r, c, &s, err);
		mr_req_done_conn(r, c);
	}
	if (rc == 0) {
		rep.rep_id = s.rep_id;
		j.rep = &rep;
		rc = mr_api_report_write(r, &j, err);
	}
	json_decref(body);
	if (rc < 0)
		return rc;
	return mr_api_report_reply(r, j.w.ext, 201, err);
}

/* Who filed the report: the author of its first version (an admin's amendment does not take it over). */
static const char *mr_api_report_author(json_t *o)
{
	json_t *first = json_array_get(json_object_get(o, "versions"), 0);
	const char *author = json_string_value(json_object_get(first ? first : o, "author"));

	return author ? author : "";
}

/* The report's doctor and author, with the caller's right to read (and amend) it. */
static int mr_api_report_access(struct mr_req *r, struct mr_conn *c, const char *ext, int amend,
				json_t **o, struct mr_err *err)
{
	struct mr_scope s;
	int64_t hcp = 0;
	int yes = 0;
	int rc = mr_api_scope(r, c, &s, err);

	if (rc == 0)
		rc = mr_report_get(c, &r->app->keys, ext, !s.masked, o, &hcp, err);
	if (rc == 0)
		rc = mr_scope_has_hcp(c, &s, hcp, &yes, err);
	if (rc == 0 && !yes)
		rc = mr_err_set(err, MR_EFORBIDDEN, "the report's doctor is not aligned to you or your team");
	if (rc == 0 && amend && r->who.user.role != MR_ROLE_ADMIN &&
	    strcmp(mr_api_report_author(*o), r->who.user.login) != 0)
		rc = mr_err_set(err, MR_EFORBIDDEN, "only the report's author (or an admin) may amend it");
	if (rc < 0) {
		json_decref(*o);
		*o = NULL;
	}
	return rc;
}

static int mr_api_report_amend(struct mr_req *r, struct mr_err *err)
{
	const char *ext = mr_req_param(r, "id");
	struct mr_api_report_job j = { r, NULL, { .ext = { 0 } }, "interaction.amend" };
	struct mr_report rep;
	struct mr_conn *c = NULL;
	json_t *body = NULL, *cur = NULL;
	int rc = mr_req_json(r, &body, err);

	if (rc == 0)
		rc = mr_report_from_json(&rep, body, 1, mr_now_us(), &r->arena, err);
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		rc = mr_api_report_access(r, c, ext, 1, &cur, err);
		mr_req_done_conn(r, c);
	}
	if (rc == 0) {
		/* amend the latest version: the chain's head */
		rep.amends = mr_arena_strdup(&r->arena, json_string_value(json_object_get(cur, "id")));
		j.rep = &rep;
		rc = mr_api_report_write(r, &j, err);
	}
	json_decref(cur);
	json_decref(body);
	if (rc < 0)
		return rc;
	return mr_api_report_reply(r, j.w.ext, 201, err);
}

static int mr_api_report_get(struct mr_req *r, struct mr_err *err)
{
	const char *ext = mr_req_param(r, "id");
	struct mr_conn *c = NULL;
	json_t *o = NULL;
	int rc = mr_req_conn(r, &c, err);

	if (rc == 0) {
		rc = mr_api_report_access(r, c, ext, 0, &o, err);
		mr_req_done_conn(r, c);
	}
	if (rc == 0)
		rc = mr_req_audit_read(r, "interaction.read", "interaction", ext, err);
	if (rc < 0) {
		json_decref(o);
		return rc;
	}
	return mr_reply_json(r, 200, o);
}

static int mr_api_report_list(struct mr_req *r, struct mr_err *err)
{
	const char *ext = mr_req_param(r, "id");
	struct mr_conn *c = NULL;
	struct mr_scope s;
	json_t *items = json_array();
	int64_t id = 0, limit = MR_REPORT_LIST_MAX;
	int rc = mr_req_query_int(r, "limit", 1, 200, MR_REPORT_LIST_MAX, &limit, err);

	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		rc = mr_api_hcp_ref(r, c, ext, 0, &id, err);
		if (rc == 0)
			rc = mr_api_scope(r, c, &s, err);
		if (rc == 0)
			rc = mr_report_list(c, &r->app->keys, id, !s.masked, (int)limit, items, err);
		mr_req_done_conn(r, c);
	}
	if (rc == 0)
		rc = mr_req_audit_read(r, "interaction.list", "hcp", ext, err);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	return mr_reply_json(r, 200, json_pack("{s:o}", "items", items));
}

#define MR_R_REPORTERS (MR_ROLE_BIT(MR_ROLE_ADMIN) | MR_ROLE_BIT(MR_ROLE_MANAGER) |                  \
			MR_ROLE_BIT(MR_ROLE_FIELD_REP) | MR_ROLE_BIT(MR_ROLE_INSIDE_REP) |              \
			MR_ROLE_BIT(MR_ROLE_MSL))

const struct mr_route mr_routes_interactions[] = {
	{ "POST", "/api/v1/interactions", mr_api_report_create, MR_R_REPORTERS, MR_ROUTE_BODY,
	  "File a call or visit report for an aligned doctor (locked once filed; its event goes on the timeline)",
	  "interactions", 64 * 1024 },
	{ "GET", "/api/v1/interactions/{id}", mr_api_report_get, MR_ROLES_ALL, 0,
	  "A report with its amendments", "interactions", 0 },
	{ "POST", "/api/v1/interactions/{id}/amend", mr_api_report_amend, MR_R_REPORTERS, MR_ROUTE_BODY,
	  "Correct a report: a new version that keeps the original (author or admin; reason required)",
	  "interactions", 64 * 1024 },
	{ "GET", "/api/v1/hcps/{id}/interactions", mr_api_report_list, MR_ROLES_ALL, 0,
	  "A doctor's reports, newest first, amendments folded in", "interactions", 0 },
	{ 0 },
};
