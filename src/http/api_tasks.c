/*
 * The task API (docs/tasks.md): create a task (POST /api/v1/tasks), list
 * them (assignee or "me", status, hcp, due=today|overdue|week, source;
 * cursor paging), read one with its history, change it (PATCH: status,
 * reassignment, due window, priority; a move the state machine forbids is
 * a 409 naming both statuses), dismiss it with a reason (POST
 * /dismiss: the feedback the NBA learns from), and the team summary per
 * assignee (open, due today, overdue, done this week).
 *
 * Scope: a rep sees and acts on the tasks assigned to them; a manager on
 * those of the reps they lead (their manager tree and their territories)
 * and of the doctors aligned to their team;
 * admin, marketing, analysts and compliance read everything, and admin
 * changes anything. An assignee must be aligned to the doctor as field or
 * inside owner, unless an admin or manager says "force": true. A task
 * outside the caller's scope is a 403, one that does not exist a 404, as
 * the doctors' routes do.
 */
#include <stdio.h>
#include <string.h>

#include "auth/role.h"
#include "base/json.h"
#include "base/time.h"
#include "http/api_md.h"
#include "http/http.h"
#include "md/md.h"
#include "tasks/task.h"
#include "tasks/tasks.h"

enum { MR_TASKS_BODY_MAX = 16 << 10 };

/* ------------------------------------------------------------ helpers */

/* The caller's task scope (and whether they may change tasks at all beyond their own). */
static int mr_api_task_scope(struct mr_req *r, struct mr_conn *c, struct mr_task_scope *ts, struct mr_err *err)
{
	struct mr_scope s;
	int rc = mr_api_scope(r, c, &s, err);

	memset(ts, 0, sizeof(*ts));
	if (rc < 0)
		return rc;
	ts->kind = s.kind;
	ts->rep_id = s.rep_id;
	ts->at = s.at;
	return 0;
}

static int mr_api_task_is_rep(struct mr_req *r)
{
	int role = r->who.user.role;

	return role == MR_ROLE_FIELD_REP || role == MR_ROLE_INSIDE_REP || role == MR_ROLE_MSL;
}

/* A time field of the body (RFC 3339, or a date: midnight in Shanghai); 0 when absent. */
static int mr_api_task_time(json_t *body, const char *key, int64_t *us, struct mr_err *err)
{
	const char *s = NULL;
	int rc = mr_json_str(body, key, 0, 64, &s, err);

	*us = 0;
	if (rc < 0 || !s)
		return rc;
	if (mr_time_parse(s, 8 * 3600, us) < 0 || *us <= 0)
		return mr_err_field(err, MR_EINVAL, key, "\"%s\" is not an ISO 8601 time such as 2026-03-05T09:00:00+08:00",
				    key);
	return 0;
}

/* A rep named by ext id, or "me" (the caller's own rep), as an internal id. */
static int mr_api_task_rep(struct mr_conn *c, const struct mr_task_scope *ts, const char *ext, const char *field,
			   int64_t *id, struct mr_err *err)
{
	int rc;

	if (strcmp(ext, "me") == 0) {
		if (ts->rep_id <= 0)
			return mr_err_field(err, MR_EINVAL, field, "your account is not linked to a rep, so \"me\" names"
					    " no one");
		*id = ts->rep_id;
		return 0;
	}
	rc = mr_task_rep_id(c, ext, id, err);
	if (rc == MR_ENOTFOUND)
		return mr_err_field(err, MR_EINVAL, field, "rep %.64s does not exist", ext);
	return rc;
}

/* Whether the caller may give a task to rep: a rep only to themselves, a manager within their team. */
static int mr_api_task_may_assign(struct mr_req *r, struct mr_conn *c, const struct mr_task_scope *ts, int64_t rep,
				  struct mr_err *err)
{
	int yes = 1, rc = 0;

	if (mr_api_task_is_rep(r))
		yes = rep == ts->rep_id;
	else if (r->who.user.role == MR_ROLE_MANAGER)
		rc = ts->rep_id ? mr_task_in_team(c, ts->rep_id, rep, &yes, err) : 0;
	if (rc == 0 && r->who.user.role == MR_ROLE_MANAGER && !ts->rep_id)
		yes = 0;
	if (rc == 0 && !yes)
		return mr_err_field(err, MR_EFORBIDDEN, "assignee", mr_api_task_is_rep(r) ?
				    "a rep may give tasks to themselves only" :
				    "that rep is neither in your team nor in your territories");
	return rc;
}

/* The assignee must be aligned to the doctor (field or inside owner) unless forced by admin or manager. */
static int mr_api_task_alignment(struct mr_req *r, struct mr_conn *c, int64_t hcp, int64_t rep, int force,
				 struct mr_err *err)
{
	int role = r->who.user.role, yes = 0;
	int rc;

	if (force && role != MR_ROLE_ADMIN && role != MR_ROLE_MANAGER)
		return mr_err_field(err, MR_EFORBIDDEN, "force", "only an admin or a manager may force an assignment");
	if (force)
		return 0;
	rc = mr_task_aligned(c, hcp, rep, mr_now_us(), &yes, err);
	if (rc == 0 && !yes)
		return mr_err_field(err, MR_EUNPROC, "assignee", "the rep is not aligned to this doctor as field or inside"
				    " owner; an admin or manager may assign anyway with \"force\": true");
	return rc;
}

/* The boolean "force" of a body. */
static int mr_api_task_force(json_t *body, int *force, struct mr_err *err)
{
	json_t *v = json_object_get(body, "force");

	*force = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return mr_err_field(err, MR_EINVAL, "force", "\"force\" is true or false");
	*force = json_is_true(v);
	return 0;
}

/* Reads task id and checks the caller may see it: 404, then 403. */
static int mr_api_task_visible(struct mr_req *r, struct mr_conn *c, int64_t id, struct mr_task_scope *ts,
			       struct mr_task_row *row, struct mr_err *err)
{
	int yes = 0;
	int rc = mr_api_task_scope(r, c, ts, err);

	if (rc == 0)
		rc = mr_task_read(c, id, row, err);
	if (rc == 0)
		rc = mr_task_in_scope(c, ts, row, &yes, err);
	if (rc == 0 && !yes)
		return mr_err_set(err, MR_EFORBIDDEN, "task %lld is not assigned to you or your team", (long long)id);
	return rc;
}

static int mr_api_task_reply(struct mr_req *r, int status, int64_t id, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	json_t *o = NULL;
	int rc = mr_req_conn(r, &c, err);

	if (rc == 0) {
		rc = mr_task_get(c, id, 1, &o, err);
		mr_req_done_conn(r, c);
	}
	if (rc < 0)
		return rc;
	return mr_reply_json(r, status, o);
}

/* ------------------------------------------------------------ create */

struct mr_task_create_job {
	struct mr_req *r;
	struct mr_task_new t;
	int64_t id;
};

static int mr_api_task_create_write(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_task_create_job *j = arg;
	char id[24];
	int rc = mr_task_create(c, &j->t, &j->id, err);

	snprintf(id, sizeof(id), "%lld", (long long)j->id);
	if (rc == 0)
		rc = mr_req_audit(j->r, c, "task.create", "task", id, 201, NULL, NULL, err);
	return rc;
}

/* The body's words and texts into t. */
static int mr_api_task_fields(json_t *body, struct mr_task_new *t, struct mr_err *err)
{
	const char *type = NULL, *source = NULL;
	int64_t prio = 0;
	int rc = mr_json_str(body, "type", 1, 32, &type, err);

	if (rc == 0 && !(t->type = mr_task_type_parse(type)))
		rc = mr_err_field(err, MR_EINVAL, "type", "unknown task type '%.32s': use call, wechat, visit,"
				  " meeting_invite, send_content or follow_up", type);
	if (rc == 0)
		rc = mr_json_str(body, "source", 0, 32, &source, err);
	if (rc == 0 && source && !(t->source = mr_task_source_parse(source)))
		rc = mr_err_field(err, MR_EINVAL, "source", "unknown source '%.32s': use person, rule, model or"
				  " experiment", source);
	if (rc == 0)
		rc = mr_json_int(body, "priority", 0, 1, 5, &prio, NULL, err);
	t->priority = (int)prio;
	if (rc == 0)
		rc = mr_json_str(body, "source_ref", 0, MR_TASK_REF_MAX, &t->source_ref, err);
	if (rc == 0)
		rc = mr_json_str(body, "reason", 0, MR_TASK_REASON_MAX, &t->reason, err);
	if (rc == 0)
		rc = mr_json_str(body, "channel", 0, MR_TASK_REF_MAX, &t->channel, err);
	if (rc == 0)
		rc = mr_json_str(body, "content", 0, MR_TASK_REF_MAX, &t->content, err);
	if (rc == 0)
		rc = mr_json_str(body, "topic", 0, MR_TASK_REF_MAX, &t->topic, err);
	if (rc == 0)
		rc = mr_api_task_time(body, "due_from", &t->due_from, err);
	if (rc == 0)
		rc = mr_api_task_time(body, "due_to", &t->due_to, err);
	if (rc == 0 && !t->due_to)
		rc = mr_err_field(err, MR_EINVAL, "due_to", "field 'due_to' is required");
	if (rc == 0 && !t->due_from)
		t->due_from = t->now < t->due_to ? t->now : t->due_to;
	return rc;
}

/* The doctor and the assignee of a new task, checked against the caller's scope. */
static int mr_api_task_parties(struct mr_req *r, json_t *body, struct mr_task_new *t, int *force, struct mr_err *err)
{
	const char *hcp = NULL, *assignee = NULL;
	struct mr_task_scope ts;
	struct mr_conn *c = NULL;
	struct mr_scope s;
	int yes = 0;
	int rc = mr_json_str(body, "hcp", 1, 64, &hcp, err);

	if (rc == 0)
		rc = mr_json_str(body, "assignee", 0, 64, &assignee, err);
	if (rc == 0)
		rc = mr_api_task_force(body, force, err);
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc < 0)
		return rc;
	rc = mr_md_lookup(c, &mr_md_hcp, hcp, &t->hcp_id, err);
	if (rc == MR_ENOTFOUND)
		rc = mr_err_field(err, MR_EINVAL, "hcp", "HCP %.64s does not exist", hcp);
	if (rc == 0)
		rc = mr_api_scope(r, c, &s, err);
	if (rc == 0)
		rc = mr_scope_has_hcp(c, &s, t->hcp_id, &yes, err);
	if (rc == 0 && !yes)
		rc = mr_err_field(err, MR_EFORBIDDEN, "hcp", "HCP %.64s is not aligned to you or your team", hcp);
	if (rc == 0)
		rc = mr_api_task_scope(r, c, &ts, err);
	if (rc == 0)
		rc = mr_api_task_rep(c, &ts, assignee ? assignee : "me", "assignee", &t->assignee_id, err);
	if (rc == 0)
		rc = mr_api_task_may_assign(r, c, &ts, t->assignee_id, err);
	if (rc == 0)
		rc = mr_api_task_alignment(r, c, t->hcp_id, t->assignee_id, *force, err);
	mr_req_done_conn(r, c);
	return rc;
}

static int mr_api_tasks_create(struct mr_req *r, struct mr_err *err)
{
	static const char *const allowed[] = { "type", "hcp", "assignee", "due_from", "due_to", "priority", "source",
					       "source_ref", "reason", "channel", "content", "topic", "force", NULL };
	struct mr_task_create_job j = { .r = r };
	json_t *body = NULL;
	int force = 0;
	int rc = mr_req_json(r, &body, err);

	j.t.now = mr_now_us();
	j.t.by = r->who.user.login;
	j.t.request_id = r->request_id;
	if (rc == 0)
		rc = mr_json_only(body, allowed, err);
	if (rc == 0)
		rc = mr_api_task_fields(body, &j.t, err);
	if (rc == 0)
		rc = mr_api_task_parties(r, body, &j.t, &force, err);
	if (rc == 0)
		rc = mr_task_check(&j.t, err);
	if (rc == 0)
		rc = mr_req_write(r, mr_api_task_create_write, &j, err);
	json_decref(body);
	if (rc < 0)
		return rc;
	mr_tasks_changed(r->app->tasks, NULL, j.id);
	return mr_api_task_reply(r, 201, j.id, err);
}

/* ------------------------------------------------------------ read */

/* The list's filters from the query string. */
static int mr_api_tasks_query(struct mr_req *r, struct mr_conn *c, const struct mr_task_scope *ts,
			      struct mr_task_query *q, struct mr_err *err)
{
	const char *assignee = NULL, *status = NULL, *hcp = NULL, *due = NULL, *source = NULL;
	int rc = mr_req_paging(r, &q->limit, &q->cursor, err);

	if (rc == 0)
		rc = mr_req_query(r, "assignee", &assignee, err);
	if (rc == 0)
		rc = mr_req_query(r, "status", &status, err);
	if (rc == 0)
		rc = mr_req_query(r, "hcp", &hcp, err);
	if (rc == 0)
		rc = mr_req_query(r, "due", &due, err);
	if (rc == 0)
		rc = mr_req_query(r, "source", &source, err);
	if (rc == 0 && assignee)
		rc = mr_api_task_rep(c, ts, assignee, "assignee", &q->assignee_id, err);
	if (rc == 0 && hcp && mr_md_lookup(c, &mr_md_hcp, hcp, &q->hcp_id, err) < 0)
		rc = mr_err_field(err, MR_EINVAL, "hcp", "HCP %.64s does not exist", hcp);
	if (rc == 0 && source && !(q->source = mr_task_source_parse(source)))
		rc = mr_err_field(err, MR_EINVAL, "source", "source is person, rule, model or experiment");
	if (rc == 0 && due) {
		static const char *const dues[] = { "", "today", "overdue", "week" };

		for (int i = 1; i < 4; i++)
			q->due = strcmp(due, dues[i]) == 0 ? i : q->due;
		if (!q->due)
			rc = mr_err_field(err, MR_EINVAL, "due", "due is today, overdue or week");
	}
	/* status: one or several, comma separated */
	for (const char *p = status; rc == 0 && p && *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char word[24];
		int s;

		snprintf(word, sizeof(word), "%.*s", (int)(n < sizeof(word) ? n : sizeof(word) - 1), p);
		s = n < sizeof(word) ? mr_task_status_parse(word) : 0;
		if (!s)
			rc = mr_err_field(err, MR_EINVAL, "status", "status is open, in_progress, done, cancelled or expired"
					  " (several: comma separated)");
		q->statuses |= 1 << s;
		p = end ? end + 1 : p + n;
	}
	return rc;
}

static int mr_api_tasks_list(struct mr_req *r, struct mr_err *err)
{
	struct mr_task_query q;
	struct mr_task_scope ts;
	struct mr_conn *c = NULL;
	json_t *items = json_array();
	int64_t next = 0;
	int rc = mr_req_conn(r, &c, err);

	memset(&q, 0, sizeof(q));
	q.now = mr_now_us();
	if (rc == 0) {
		rc = mr_api_task_scope(r, c, &ts, err);
		if (rc == 0)
			rc = mr_api_tasks_query(r, c, &ts, &q, err);
		if (rc == 0)
			rc = mr_task_list(c, &ts, &q, items, &next, err);
		mr_req_done_conn(r, c);
	}
	if (rc == 0)
		rc = mr_req_audit_read(r, "task.list", "task", NULL, err);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	return mr_reply_json(r, 200, mr_page(items, next));
}

static int mr_api_tasks_get(struct mr_req *r, struct mr_err *err)
{
	struct mr_task_scope ts;
	struct mr_task_row row;
	struct mr_conn *c = NULL;
	int64_t id = 0;
	int rc = mr_req_param_id(r, "id", &id, err);

	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		rc = mr_api_task_visible(r, c, id, &ts, &row, err);
		mr_req_done_conn(r, c);
	}
	if (rc == 0)
		rc = mr_req_audit_read(r, "task.read", "task", mr_req_param(r, "id"), err);
	if (rc < 0)
		return rc;
	return mr_api_task_reply(r, 200, id, err);
}

static int mr_api_tasks_summary(struct mr_req *r, struct mr_err *err)
{
	struct mr_task_scope ts;
	struct mr_conn *c = NULL;
	json_t *items = json_array(), *o;
	int64_t now = mr_now_us();
	int rc = mr_req_conn(r, &c, err);

	if (rc == 0) {
		rc = mr_api_task_scope(r, c, &ts, err);
		if (rc == 0)
			rc = mr_task_summary(c, &ts, now, items, err);
		mr_req_done_conn(r, c);
	}
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	o = json_object();
	json_object_set_new(o, "items", items);
	mr_json_set_time(o, "as_of", now);
	mr_json_set_time(o, "day_start", mr_task_day_start(now));
	mr_json_set_time(o, "week_start", mr_task_week_start(now));
	return mr_reply_json(r, 200, o);
}

/* ------------------------------------------------------------ change */

struct mr_task_patch_job {
	struct mr_req *r;
	int64_t id;
	struct mr_task_patch p;
	const char *action;
};

static int mr_api_task_patch_write(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_task_patch_job *j = arg;
	int rc = mr_task_update(c, j->id, &j->p, NULL, err);

	if (rc == 0)
		rc = mr_req_audit(j->r, c, j->action, "task", mr_req_param(j->r, "id"), 200, NULL, NULL, err);
	return rc;
}

/* The new due window: the body's times, each defaulting to the task's. */
static int mr_api_task_window(json_t *body, const struct mr_task_row *row, struct mr_task_patch *p,
			      struct mr_err *err)
{
	int rc = mr_api_task_time(body, "due_from", &p->due_from, err);

	if (rc == 0)
		rc = mr_api_task_time(body, "due_to", &p->due_to, err);
	if (rc < 0 || (!p->due_from && !p->due_to))
		return rc;
	if (!p->due_from)
		p->due_from = row->due_from;
	if (!p->due_to)
		p->due_to = row->due_to;
	if (p->due_to < p->due_from)
		return mr_err_field(err, MR_EINVAL, "due_to", "\"due_to\" lies before \"due_from\"");
	return 0;
}

/* The body of a PATCH into p, with the checks that need the store. */
static int mr_api_task_patch_body(struct mr_req *r, struct mr_conn *c, json_t *body, const struct mr_task_scope *ts,
				  const struct mr_task_row *row, struct mr_task_patch *p, struct mr_err *err)
{
	static const char *const allowed[] = { "status", "assignee", "due_from", "due_to", "priority", "force", "event",
					       NULL };
	const char *status = NULL, *assignee = NULL;
	int64_t prio = 0;
	int force = 0;
	int rc = mr_json_only(body, allowed, err);

	if (rc == 0)
		rc = mr_json_str(body, "status", 0, 32, &status, err);
	if (rc == 0 && status && !(p->status = mr_task_status_parse(status)))
		rc = mr_err_field(err, MR_EINVAL, "status", "status is open, in_progress, done, cancelled or expired");
	if (rc == 0 && p->status == MR_TS_EXPIRED)
		rc = mr_err_field(err, MR_EINVAL, "status", "tasks expire by themselves once overdue; cancel it instead");
	if (rc == 0)
		rc = mr_json_str(body, "event", 0, 200, &p->fulfilled_event, err);
	if (rc == 0 && p->fulfilled_event && p->status != MR_TS_DONE)
		rc = mr_err_field(err, MR_EINVAL, "event", "\"event\" names the event that did the task: give it with"
				  " status done");
	if (rc == 0)
		rc = mr_json_str(body, "assignee", 0, 64, &assignee, err);
	if (rc == 0)
		rc = mr_json_int(body, "priority", 0, 1, 5, &prio, NULL, err);
	p->priority = (int)prio;
	if (rc == 0)
		rc = mr_api_task_force(body, &force, err);
	if (rc == 0)
		rc = mr_api_task_window(body, row, p, err);
	if (rc == 0 && mr_api_task_is_rep(r) && (assignee || p->priority || p->due_from))
		rc = mr_err_set(err, MR_EFORBIDDEN, "a rep changes a task's status; reassigning, rescheduling and"
				" priorities are for managers");
	if (rc == 0 && assignee)
		rc = mr_api_task_rep(c, ts, assignee, "assignee", &p->assignee_id, err);
	if (rc == 0 && p->assignee_id && p->assignee_id != row->assignee_id) {
		rc = mr_api_task_may_assign(r, c, ts, p->assignee_id, err);
		if (rc == 0)
			rc = mr_api_task_alignment(r, c, row->hcp_id, p->assignee_id, force, err);
	}
	return rc;
}

/* Reads the task, checks the caller may act on it, and runs the patch that fill makes. */
static int mr_api_task_change(struct mr_req *r, int (*fill)(struct mr_req *r, struct mr_conn *c, json_t *body,
							     const struct mr_task_scope *ts,
							     const struct mr_task_row *row,
							     struct mr_task_patch *p, struct mr_err *err),
			      const char *action, struct mr_err *err)
{
	struct mr_task_patch_job j = { .r = r, .action = action };
	struct mr_task_scope ts;
	struct mr_task_row row;
	struct mr_conn *c = NULL;
	json_t *body = NULL;
	int rc = mr_req_param_id(r, "id", &j.id, err);

	if (rc == 0)
		rc = mr_req_json(r, &body, err);
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		rc = mr_api_task_visible(r, c, j.id, &ts, &row, err);
		if (rc == 0)
			rc = fill(r, c, body, &ts, &row, &j.p, err);
		mr_req_done_conn(r, c);
	}
	j.p.by = r->who.user.login;
	j.p.request_id = r->request_id;
	j.p.now = mr_now_us();
	if (rc == 0)
		rc = mr_req_write(r, mr_api_task_patch_write, &j, err);
	json_decref(body);
	if (rc < 0)
		return rc;
	mr_tasks_changed(r->app->tasks, NULL, j.id);
	return mr_api_task_reply(r, 200, j.id, err);
}

static int mr_api_tasks_patch(struct mr_req *r, struct mr_err *err)
{
	return mr_api_task_change(r, mr_api_task_patch_body, "task.update", err);
}

static int mr_api_task_dismiss_body(struct mr_req *r, struct mr_conn *c, json_t *body, const struct mr_task_scope *ts,
				    const struct mr_task_row *row, struct mr_task_patch *p, struct mr_err *err)
{
	static const char *const allowed[] = { "reason", NULL };
	int rc = mr_json_only(body, allowed, err);

	(void)r;
	(void)c;
	(void)ts;
	(void)row;
	if (rc == 0)
		rc = mr_json_str(body, "reason", 1, MR_TASK_REASON_MAX, &p->dismiss_reason, err);
	p->status = MR_TS_CANCELLED;
	return rc;
}

static int mr_api_tasks_dismiss(struct mr_req *r, struct mr_err *err)
{
	return mr_api_task_change(r, mr_api_task_dismiss_body, "task.dismiss", err);
}

#define MR_R_TASK_WRITE                                                                                      \
	(MR_ROLE_BIT(MR_ROLE_ADMIN) | MR_ROLE_BIT(MR_ROLE_MANAGER) | MR_ROLE_BIT(MR_ROLE_FIELD_REP) |            \
	 MR_ROLE_BIT(MR_ROLE_INSIDE_REP) | MR_ROLE_BIT(MR_ROLE_MSL))

const struct mr_route mr_routes_tasks[] = {
	{ "POST", "/api/v1/tasks", mr_api_tasks_create, MR_R_TASK_WRITE, MR_ROUTE_BODY,
	  "Creates a task: {type, hcp, assignee (rep id or \"me\"), due_from, due_to, priority 1-5, source,"
	  " source_ref, reason, channel, content, topic, force}", "tasks", MR_TASKS_BODY_MAX },
	{ "GET", "/api/v1/tasks", mr_api_tasks_list, MR_ROLES_ALL, 0,
	  "Tasks you may see (assignee or \"me\", status (comma separated), hcp, due=today|overdue|week, source;"
	  " limit, cursor)", "tasks", 0 },
	{ "GET", "/api/v1/tasks/summary", mr_api_tasks_summary, MR_ROLES_ALL, 0,
	  "Per assignee you may see: open, due today, overdue and done this week (Asia/Shanghai)", "tasks", 0 },
	{ "GET", "/api/v1/tasks/{id}", mr_api_tasks_get, MR_ROLES_ALL, 0,
	  "A task with its history of changes", "tasks", 0 },
	{ "PATCH", "/api/v1/tasks/{id}", mr_api_tasks_patch, MR_R_TASK_WRITE, MR_ROUTE_BODY,
	  "Changes a task: {status, event, assignee, due_from, due_to, priority, force}; a move the state machine"
	  " forbids is a 409", "tasks", MR_TASKS_BODY_MAX },
	{ "POST", "/api/v1/tasks/{id}/dismiss", mr_api_tasks_dismiss, MR_R_TASK_WRITE, MR_ROUTE_BODY | MR_ROUTE_OK200,
	  "Dismisses a task: {reason}; it is cancelled and the reason kept as feedback", "tasks", MR_TASKS_BODY_MAX },
	{ 0 },
};
