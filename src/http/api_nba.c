/*
 * The next-best-action API (nba/nba.h, docs/nba.md): expert rules
 * (PUT/GET/DELETE /api/v1/rules/{name}, the list), the contact policy
 * (GET/PUT /api/v1/nba/settings), one doctor's recommendations with what
 * was blocked and why (GET /api/v1/hcps/{id}/recommendations), the run that
 * turns the best of them into rep tasks (POST /api/v1/nba/run), and the
 * recommendation log (GET /api/v1/nba/log). Doctors under the learned
 * policy (a learned arm, or the settings' policy "learned") are ranked by
 * the server's response models, which these routes hand the engine.
 *
 * A rule's condition is compiled by the engine before anything is saved:
 * a parse error is a 422 with its column and what was expected, a
 * condition that is not boolean a 422 saying its type, and an action
 * naming content that does not exist a 422 naming it. Recommendations are
 * scoped like the doctor's other routes (a rep only for aligned doctors).
 * Every write is audited in its own transaction.
 */
#include <stdio.h>
#include <string.h>

#include "auth/role.h"
#include "base/json.h"
#include "base/time.h"
#include "engine/engine.h"
#include "engine/hcpdir.h"
#include "http/api_md.h"
#include "http/http.h"
#include "nba/nba.h"
#include "nba/rules.h"

enum { MR_NBA_BODY_MAX = 64 << 10 };

#define MR_R_NBA_READ                                                                                      \
	(MR_ROLE_BIT(MR_ROLE_ADMIN) | MR_ROLE_BIT(MR_ROLE_MARKETING) | MR_ROLE_BIT(MR_ROLE_MANAGER) |      \
	 MR_ROLE_BIT(MR_ROLE_ANALYST) | MR_ROLE_BIT(MR_ROLE_COMPLIANCE))
#define MR_R_NBA_WRITE (MR_ROLE_BIT(MR_ROLE_ADMIN) | MR_ROLE_BIT(MR_ROLE_MARKETING))
#define MR_R_NBA_ADMIN MR_ROLE_BIT(MR_ROLE_ADMIN)
#define MR_R_NBA_LOG (MR_ROLE_BIT(MR_ROLE_ADMIN) | MR_ROLE_BIT(MR_ROLE_MARKETING) | MR_ROLE_BIT(MR_ROLE_ANALYST))

/* ------------------------------------------------------------ helpers */

static int mr_api_nba_name(struct mr_req *r, const char **name, struct mr_err *err)
{
	*name = mr_req_param(r, "name");
	if (!mr_nba_rule_name_ok(*name))
		return mr_err_field(err, MR_EINVAL, "name", "a rule name is 1 to %d of a-z, 0-9, _ and -, starting"
				    " with a letter or digit", MR_NBA_NAME_MAX);
	return 0;
}

/*
 * Compiles the rule's condition: 1 when it answered the request (a 422
 * with the column), else 0 or MR_E....
 */
static int mr_api_nba_condition(struct mr_req *r, const struct mr_nba_rule *rule, struct mr_err *err)
{
	struct mr_eplan *plan = NULL;
	struct mr_xerr xe;
	int rc;

	memset(&xe, 0, sizeof(xe));
	rc = mr_engine_compile(r->app->engine, rule->condition, strlen(rule->condition), mr_now_us(), &r->arena,
			       &plan, &xe, err);
	if (rc == MR_EINVAL && xe.col > 0) {
		char msg[400];

		snprintf(msg, sizeof(msg), "the condition does not parse: %s (column %d)", xe.msg, xe.col);
		mr_reply_json(r, 422, json_pack("{s:{s:s, s:s, s:{s:s, s:i, s:s, s:s}}}", "error", "code",
						"invalid_expression", "message", msg, "detail", "field", "condition",
						"column", xe.col, "expected", xe.expected, "request_id", r->request_id));
		return 1;
	}
	if (rc == 0 && mr_eplan_type(plan) != MR_XT_BOOL) {
		mr_err_field(err, MR_EUNPROC, "condition", "a rule's condition is a boolean expression (true or false"
			     " for each doctor); this one gives a %s", mr_xtype_name(mr_eplan_type(plan)));
		return mr_err_kind(err, "not_boolean");
	}
	return rc;
}

/* 422 when the rule names content that does not exist. */
static int mr_api_nba_content(struct mr_req *r, const struct mr_nba_rule *rule, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	int yes = 1, rc;

	if (!rule->content.id)
		return 0;
	rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		rc = mr_nba_content_exists(c, rule->content.id, &yes, err);
		mr_req_done_conn(r, c);
	}
	if (rc == 0 && !yes) {
		mr_err_field(err, MR_EUNPROC, "action.content.id", "unknown content '%.64s': the action names content"
			     " that does not exist", rule->content.id);
		return mr_err_kind(err, "unknown_content");
	}
	return rc;
}

/* ------------------------------------------------------------ rules */

struct mr_api_nba_put {
	struct mr_req *r;
	struct mr_nba_rule rule;
	int created;
};

static int mr_api_nba_put_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_api_nba_put *j = arg;
	int rc = mr_nba_rule_put(c, &j->rule, j->r->who.user.login, mr_now_us(), &j->created, err);

	if (rc == 0)
		rc = mr_req_audit(j->r, c, j->created ? "rule.create" : "rule.update", "rule", j->rule.name,
				  j->created ? 201 : 200, NULL, NULL, err);
	return rc;
}

static int mr_api_nba_load(struct mr_req *r, const char *name, struct mr_nba_rule *rule, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	int rc = mr_req_conn(r, &c, err);

	if (rc == 0) {
		rc = mr_nba_rule_get(c, name, &r->arena, rule, err);
		mr_req_done_conn(r, c);
	}
	return rc;
}

static int mr_api_nba_put(struct mr_req *r, struct mr_err *err)
{
	struct mr_api_nba_put j;
	json_t *body = NULL;
	int rc;

	memset(&j, 0, sizeof(j));
	j.r = r;
	rc = mr_api_nba_name(r, &j.rule.name, err);
	if (rc == 0)
		rc = mr_req_json(r, &body, err);
	if (rc == 0)
		rc = mr_nba_rule_from_json(body, &r->arena, &j.rule, err);
	if (rc == 0)
		rc = mr_api_engine_ready(r, err);
	if (rc == 0)
		rc = mr_api_nba_condition(r, &j.rule, err);
	if (rc == 0)
		rc = mr_api_nba_content(r, &j.rule, err);
	if (rc == 0)
		rc = mr_req_write(r, mr_api_nba_put_fn, &j, err);
	json_decref(body); /* the rule's strings were body's */
	if (rc == 1)
		return 0;
	if (rc == 0) {
		mr_nba_invalidate(r->app->nba);
		rc = mr_api_nba_load(r, j.rule.name, &j.rule, err);
	}
	if (rc < 0)
		return rc;
	return mr_reply_json(r, j.created ? 201 : 200, mr_nba_rule_json(&j.rule));
}

static int mr_api_nba_get(struct mr_req *r, struct mr_err *err)
{
	struct mr_nba_rule rule;
	const char *name = NULL;
	int rc = mr_api_nba_name(r, &name, err);

	if (rc == 0)
		rc = mr_api_nba_load(r, name, &rule, err);
	if (rc < 0)
		return rc;
	return mr_reply_json(r, 200, mr_nba_rule_json(&rule));
}

static int mr_api_nba_list(struct mr_req *r, struct mr_err *err)
{
	struct mr_nba_rule *rules = NULL;
	struct mr_conn *c = NULL;
	json_t *items;
	int n = 0;
	int rc = mr_req_conn(r, &c, err);

	if (rc == 0) {
		rc = mr_nba_rule_list(c, &r->arena, &rules, &n, err);
		mr_req_done_conn(r, c);
	}
	if (rc < 0)
		return rc;
	items = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(items, mr_nba_rule_json(&rules[i]));
	return mr_reply_json(r, 200, mr_page(items, 0));
}

struct mr_api_nba_del {
	struct mr_req *r;
	const char *name;
};

static int mr_api_nba_delete_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_api_nba_del *j = arg;
	int rc = mr_nba_rule_delete(c, j->name, err);

	if (rc == 0)
		rc = mr_req_audit(j->r, c, "rule.delete", "rule", j->name, 204, NULL, NULL, err);
	return rc;
}

static int mr_api_nba_delete(struct mr_req *r, struct mr_err *err)
{
	struct mr_api_nba_del j = { r, NULL };
	int rc = mr_api_nba_name(r, &j.name, err);

	if (rc == 0)
		rc = mr_req_write(r, mr_api_nba_delete_fn, &j, err);
	if (rc < 0)
		return rc;
	mr_nba_invalidate(r->app->nba);
	return mr_reply_empty(r, 204);
}

/* ------------------------------------------------------------ settings */

static int mr_api_nba_settings_read(struct mr_req *r, struct mr_nba_settings *s, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	int rc = mr_req_conn(r, &c, err);

	if (rc == 0) {
		rc = mr_nba_settings_get(c, s, err);
		mr_req_done_conn(r, c);
	}
	return rc;
}

static int mr_api_nba_settings_get(struct mr_req *r, struct mr_err *err)
{
	struct mr_nba_settings s;
	int rc = mr_api_nba_settings_read(r, &s, err);

	return rc < 0 ? rc : mr_reply_json(r, 200, mr_nba_settings_json(&s));
}

struct mr_api_nba_set {
	struct mr_req *r;
	struct mr_nba_settings s;
};

static int mr_api_nba_settings_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_api_nba_set *j = arg;
	int rc = mr_nba_settings_put(c, &j->s, j->r->who.user.login, mr_now_us(), err);

	if (rc == 0)
		rc = mr_req_audit(j->r, c, "nba.settings", "nba_settings", "1", 200, NULL, NULL, err);
	return rc;
}

static int mr_api_nba_settings_put(struct mr_req *r, struct mr_err *err)
{
	struct mr_api_nba_set j;
	json_t *body = NULL;
	int rc;

	j.r = r;
	rc = mr_api_nba_settings_read(r, &j.s, err);
	if (rc == 0)
		rc = mr_req_json(r, &body, err);
	if (rc == 0)
		rc = mr_nba_settings_from_json(body, &j.s, err);
	json_decref(body);
	if (rc == 0)
		rc = mr_req_write(r, mr_api_nba_settings_fn, &j, err);
	if (rc < 0)
		return rc;
	mr_nba_invalidate(r->app->nba);
	return mr_reply_json(r, 200, mr_nba_settings_json(&j.s));
}

/* ------------------------------------------------------------ recommendations */

static int mr_api_nba_recommend(struct mr_req *r, struct mr_err *err)
{
	const char *ext = mr_req_param(r, "id"), *explain = NULL;
	struct mr_nba_ask q;
	struct mr_conn *c = NULL;
	int64_t k = 0, as_of = 0, id = 0;
	json_t *out = NULL;
	int rc = mr_req_query_int(r, "k", 1, MR_NBA_K_MAX, 0, &k, err);

	if (rc == 0)
		rc = mr_req_query_time(r, "as_of", &as_of, err);
	if (rc == 0)
		rc = mr_req_query(r, "explain", &explain, err);
	if (rc == 0 && explain && strcmp(explain, "true") != 0 && strcmp(explain, "false") != 0)
		rc = mr_err_field(err, MR_EINVAL, "explain", "explain is true or false");
	if (rc == 0 && (!mr_engine_ready(r->app->engine) || !mr_hcpdir_ready(r->app->hcpdir))) {
		mr_err_set(err, MR_EUNAVAIL, "the server is still loading its indexes; try again shortly");
		err->retry_after_s = 1;
		rc = MR_EUNAVAIL;
	}
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		rc = mr_api_hcp_ref(r, c, ext, 0, &id, err);
		memset(&q, 0, sizeof(q));
		q.hcp_id = id;
		q.as_of = as_of; /* 0: now */
		q.k = (int)k;
		q.explain = explain && strcmp(explain, "true") == 0;
		q.log = 1;
		mr_nba_set_models(r->app->nba, r->app->models); /* the learned policy's models */
		if (rc == 0)
			rc = mr_nba_recommend(r->app->nba, c, &q, &r->arena, &out, err);
		mr_req_done_conn(r, c);
	}
	if (rc < 0)
		return rc;
	return mr_reply_json(r, 200, out);
}

/* ------------------------------------------------------------ the run and the log */

static int mr_api_nba_run_audit(struct mr_conn *c, void *arg, struct mr_err *err)
{
	return mr_req_audit(arg, c, "nba.run", "nba", "run", 200, NULL, NULL, err);
}

static int mr_api_nba_run(struct mr_req *r, struct mr_err *err)
{
	static const char *const allowed[] = { "as_of", "dry_run", "limit", "limit_per_rep", "per_hcp", "segment",
					       NULL };
	struct mr_nba_run_opts o;
	json_t *body = NULL, *out = NULL, *dry;
	const char *as_of = NULL;
	int64_t limit = 0, per_hcp = 0, limit2 = 0;
	int present = 0;
	int rc;

	memset(&o, 0, sizeof(o));
	rc = r->body.len ? mr_req_json(r, &body, err) : 0;
	if (!body)
		body = json_object();
	if (rc == 0)
		rc = mr_json_only(body, allowed, err);
	if (rc == 0)
		rc = mr_json_str(body, "as_of", 0, 64, &as_of, err);
	if (rc == 0 && as_of && mr_time_parse(as_of, 8 * 3600, &o.as_of) < 0)
		rc = mr_err_field(err, MR_EINVAL, "as_of", "as_of is an RFC 3339 time");
	dry = json_object_get(body, "dry_run");
	if (rc == 0 && dry && !json_is_boolean(dry))
		rc = mr_err_field(err, MR_EINVAL, "dry_run", "dry_run is true or false");
	o.dry_run = json_is_true(dry);
	if (rc == 0)
		rc = mr_json_int(body, "limit", 0, 0, 100000, &limit, &present, err);
	if (rc == 0)
		rc = mr_json_int(body, "limit_per_rep", 0, 0, 100000, &limit2, &present, err);
	if (rc == 0)
		rc = mr_json_int(body, "per_hcp", 0, 0, MR_NBA_K_MAX, &per_hcp, &present, err);
	if (rc == 0)
		rc = mr_json_str(body, "segment", 0, MR_NBA_COND_MAX, &o.segment, err);
	o.limit_per_rep = (int)(limit2 ? limit2 : limit);
	o.per_hcp = (int)per_hcp;
	o.by = r->who.user.login;
	if (rc == 0)
		rc = mr_api_engine_ready(r, err);
	mr_nba_set_models(r->app->nba, r->app->models);
	if (rc == 0)
		rc = o.dry_run ? mr_nba_run(r->app->nba, &o, &out, err)
			       : mr_nba_run_tx(r->app->nba, &o, mr_api_nba_run_audit, r, &out, err);
	json_decref(body);
	if (rc < 0)
		return rc;
	return mr_reply_json(r, 200, out);
}

static int mr_api_nba_log(struct mr_req *r, struct mr_err *err)
{
	const char *hcp = NULL;
	struct mr_conn *c = NULL;
	int64_t limit = 0, id = 0;
	json_t *items = json_array();
	int rc = mr_req_query_int(r, "limit", 1, 500, 50, &limit, err);

	if (rc == 0)
		rc = mr_req_query(r, "hcp", &hcp, err);
	if (rc == 0)
		rc = mr_nba_flush(r->app->nba, err); /* what was served so far is in the log */
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		if (hcp)
			rc = mr_api_hcp_ref(r, c, hcp, 0, &id, err);
		if (rc == 0)
			rc = mr_nba_log_list(c, id, (int)limit, items, err);
		mr_req_done_conn(r, c);
	}
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	return mr_reply_json(r, 200, mr_page(items, 0));
}

const struct mr_route mr_routes_nba[] = {
	{ "GET", "/api/v1/rules", mr_api_nba_list, MR_R_NBA_READ, 0,
	  "Next-best-action rules, by priority and name", "nba", 0 },
	{ "PUT", "/api/v1/rules/{name}", mr_api_nba_put, MR_R_NBA_WRITE, MR_ROUTE_BODY,
	  "Creates or replaces a rule {description, condition, action: {action, channel, content: {id | product |"
	  " topic}, window: {days, weekdays, hours}, repeat_days}, priority, valid_from, valid_to, owner_role,"
	  " enabled}; 422 for a condition that does not parse (with its column) or is not boolean, or unknown"
	  " content", "nba", MR_NBA_BODY_MAX },
	{ "GET", "/api/v1/rules/{name}", mr_api_nba_get, MR_R_NBA_READ, 0, "A rule", "nba", 0 },
	{ "DELETE", "/api/v1/rules/{name}", mr_api_nba_delete, MR_R_NBA_WRITE, 0, "Deletes a rule", "nba", 0 },
	{ "GET", "/api/v1/nba/settings", mr_api_nba_settings_get, MR_R_NBA_WRITE, 0,
	  "The contact policy: weekly budget, channel caps, quiet hours, consent channels, nightly run", "nba", 0 },
	{ "PUT", "/api/v1/nba/settings", mr_api_nba_settings_put, MR_R_NBA_ADMIN, MR_ROUTE_BODY | MR_ROUTE_OK200,
	  "Changes the contact policy (the fields given)", "nba", 8192 },
	{ "GET", "/api/v1/hcps/{id}/recommendations", mr_api_nba_recommend, MR_ROLES_ALL, 0,
	  "An HCP's next best actions (?as_of=&k=&explain=true: also what was blocked and why)", "nba", 0 },
	{ "POST", "/api/v1/nba/run", mr_api_nba_run, MR_R_NBA_WRITE, MR_ROUTE_BODY | MR_ROUTE_OK200,
	  "Turns every doctor's best recommendations into rep tasks {as_of, dry_run, limit_per_rep, per_hcp,"
	  " segment}; counts, blocked by reason, tasks per rep", "nba", 8192 },
	{ "GET", "/api/v1/nba/log", mr_api_nba_log, MR_R_NBA_LOG, 0,
	  "The recommendation log, newest first (?hcp=&limit=)", "nba", 0 },
	{ 0 },
};
