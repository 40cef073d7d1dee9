/*
 * The experiments API (experiments/experiments.h, docs/experiments.md):
 * define an A/B test while it is a draft (PUT /api/v1/experiments/{name}),
 * read one or the list, start, stop and archive it, delete a draft, see
 * its live results (per arm the units, the primary metric with its 95%
 * Wilson interval, and each arm against the control: the difference, its
 * interval, z, p and the verdict in words) and where one unit stands
 * (GET …/{name}/assignment?hcp=ID or ?rep=ID), and which running
 * experiment holds a unit at all (GET /api/v1/experiments/assignment?hcp=ID,
 * the question the next-best-action engine asks).
 *
 * Admin and marketing write; managers, analysts and compliance read.
 * Nothing here is personal (counts and rates; an assignment is a hash of
 * an id the caller already holds), so reads are not audited; every write
 * is, in its own transaction. Starting an experiment that shares a unit
 * with a running one of the same unit kind is a 409 naming it.
 */
#include <stdio.h>
#include <string.h>

#include "auth/role.h"
#include "base/json.h"
#include "base/time.h"
#include "engine/engine.h"
#include "engine/hcpdir.h"
#include "experiments/experiments.h"
#include "http/api_md.h"
#include "http/http.h"

enum { MR_EXP_BODY_MAX = 64 << 10 };

#define MR_R_EXP_READ                                                                                      \
	(MR_ROLE_BIT(MR_ROLE_ADMIN) | MR_ROLE_BIT(MR_ROLE_MARKETING) | MR_ROLE_BIT(MR_ROLE_MANAGER) |      \
	 MR_ROLE_BIT(MR_ROLE_ANALYST) | MR_ROLE_BIT(MR_ROLE_COMPLIANCE))
#define MR_R_EXP_WRITE (MR_ROLE_BIT(MR_ROLE_ADMIN) | MR_ROLE_BIT(MR_ROLE_MARKETING))

/* ------------------------------------------------------------ helpers */

static void mr_api_exp_src(struct mr_req *r, struct mr_exp_src *src)
{
	src->store = r->app->store;
	src->engine = r->app->engine;
	src->dir = r->app->hcpdir;
	src->ev = r->app->evindex;
}

/* The {name} of the route, checked. */
static int mr_api_exp_name(struct mr_req *r, const char **name, struct mr_err *err)
{
	*name = mr_req_param(r, "name");
	if (!mr_experiment_name_ok(*name) || strcmp(*name, "assignment") == 0)
		return mr_err_field(err, MR_EINVAL, "name", "an experiment name is 1 to %d of a-z, 0-9, _ and -,"
				    " starting with a letter or digit (and not 'assignment')", MR_EXP_NAME_MAX);
	return 0;
}

/* Experiment name read on a pooled connection. */
static int mr_api_exp_load(struct mr_req *r, const char *name, struct mr_experiment *x, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	int rc = mr_req_conn(r, &c, err);

	if (rc == 0) {
		rc = mr_experiment_get(c, name, &r->arena, x, err);
		mr_req_done_conn(r, c);
	}
	return rc;
}

/*
 * Checks x's population with the engine: 1 when it answered the request
 * (a 400 naming the column, as the segment API's), else 0 or MR_E....
 */
static int mr_api_exp_population(struct mr_req *r, const struct mr_experiment *x, struct mr_err *err)
{
	struct mr_eplan *plan = NULL;
	struct mr_xerr xe;
	int rc;

	if (!x->population)
		return 0;
	memset(&xe, 0, sizeof(xe));
	rc = mr_engine_compile(r->app->engine, x->population, strlen(x->population), mr_now_us(), &r->arena, &plan,
			       &xe, err);
	if (rc == MR_EINVAL && xe.col > 0) {
		char msg[400];

		snprintf(msg, sizeof(msg), "the population does not parse: %s (column %d)", xe.msg, xe.col);
		mr_reply_json(r, 400, json_pack("{s:{s:s, s:s, s:{s:s, s:i, s:s, s:s}}}", "error", "code",
						"invalid_expression", "message", msg, "detail", "field", "population",
						"column", xe.col, "expected", xe.expected, "request_id", r->request_id));
		return 1;
	}
	if (rc == 0 && mr_eplan_type(plan) != MR_XT_BOOL)
		rc = mr_err_field(err, MR_EINVAL, "population", "a population is a boolean expression (true or false"
				  " for each doctor); this one gives a %s", mr_xtype_name(mr_eplan_type(plan)));
	return rc;
}

/* ------------------------------------------------------------ define */

struct mr_api_exp_put {
	struct mr_req *r;
	struct mr_experiment x;
	int created;
};

static int mr_api_exp_put_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_api_exp_put *j = arg;
	int rc = mr_experiment_put(c, &j->x, j->r->who.user.login, mr_now_us(), &j->created, err);

	if (rc == 0)
		rc = mr_req_audit(j->r, c, j->created ? "experiment.create" : "experiment.update", "experiment",
				  j->x.name, j->created ? 201 : 200, NULL, NULL, err);
	return rc;
}

static int mr_api_exp_put(struct mr_req *r, struct mr_err *err)
{
	struct mr_api_exp_put j;
	json_t *body = NULL;
	int rc;

	memset(&j, 0, sizeof(j));
	j.r = r;
	rc = mr_api_exp_name(r, &j.x.name, err);
	if (rc == 0)
		rc = mr_req_json(r, &body, err);
	if (rc == 0)
		rc = mr_experiment_from_json(body, &r->arena, &j.x, err);
	if (rc == 0)
		rc = mr_api_engine_ready(r, err);
	if (rc == 0)
		rc = mr_api_exp_population(r, &j.x, err);
	if (rc == 0)
		rc = mr_req_write(r, mr_api_exp_put_fn, &j, err);
	json_decref(body); /* the definition's strings were body's */
	if (rc == 1)
		return 0;
	if (rc == 0)
		rc = mr_api_exp_load(r, j.x.name, &j.x, err);
	if (rc < 0)
		return rc;
	return mr_reply_json(r, j.created ? 201 : 200, mr_experiment_json(&j.x));
}

/* ------------------------------------------------------------ read */

static int mr_api_exp_get(struct mr_req *r, struct mr_err *err)
{
	struct mr_experiment x = { 0 };
	const char *name = NULL;
	int rc = mr_api_exp_name(r, &name, err);

	if (rc == 0)
		rc = mr_api_exp_load(r, name, &x, err);
	if (rc < 0)
		return rc;
	return mr_reply_json(r, 200, mr_experiment_json(&x));
}

static int mr_api_exp_list(struct mr_req *r, struct mr_err *err)
{
	struct mr_experiment *xs = NULL;
	struct mr_conn *c = NULL;
	const char *status = NULL;
	json_t *items;
	int n = 0, want = -1;
	int rc = mr_req_query(r, "status", &status, err);

	for (int s = MR_EXP_DRAFT; rc == 0 && status && s <= MR_EXP_ARCHIVED; s++) {
		if (strcmp(status, mr_experiments_status_name(s)) == 0)
			want = s;
	}
	if (rc == 0 && status && want < 0)
		rc = mr_err_field(err, MR_EINVAL, "status", "status is draft, running, stopped or archived");
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		rc = mr_experiment_list(c, want, &r->arena, &xs, &n, err);
		mr_req_done_conn(r, c);
	}
	if (rc < 0)
		return rc;
	items = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(items, mr_experiment_json(&xs[i]));
	return mr_reply_json(r, 200, mr_page(items, 0));
}

/* ------------------------------------------------------------ start, stop, archive, delete */

struct mr_api_exp_move {
	struct mr_req *r;
	const char *name;
	int to;
	const char *other;           /* start: the running experiment it overlaps */
	int64_t shared;
};

static int mr_api_exp_move_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	static const char *const action[] = { NULL, "experiment.start", "experiment.stop", "experiment.archive" };
	struct mr_api_exp_move *j = arg;
	int64_t now = mr_now_us();
	int rc = 0;

	if (j->to == MR_EXP_RUNNING) {
		struct mr_experiment x = { 0 };
		struct mr_exp_src src;

		mr_api_exp_src(j->r, &src);
		rc = mr_experiment_get(c, j->name, &j->r->arena, &x, err);
		if (rc == 0 && x.status == MR_EXP_DRAFT)
			rc = mr_experiment_overlap(&src, c, &x, now, &j->r->arena, &j->other, &j->shared, err);
		if (rc == 0 && j->other) {
			mr_err_field(err, MR_ECONFLICT, "population", "experiment '%s' is running on the same units"
				     " (%s): %lld of them would be in both; stop it first or narrow the population",
				     j->other, mr_experiments_unit_name(x.unit), (long long)j->shared);
			return mr_err_kind(err, "experiment_overlap");
		}
	}
	if (rc == 0)
		rc = mr_experiment_set_status(c, j->name, j->to, j->r->who.user.login, now, err);
	if (rc == 0)
		rc = mr_req_audit(j->r, c, action[j->to], "experiment", j->name, 200, NULL, NULL, err);
	return rc;
}

static int mr_api_exp_move(struct mr_req *r, int to, struct mr_err *err)
{
	struct mr_api_exp_move j = { r, NULL, to, NULL, 0 };
	struct mr_experiment x = { 0 };
	int rc = mr_api_exp_name(r, &j.name, err);

	if (rc == 0 && to == MR_EXP_RUNNING)
		rc = mr_api_engine_ready(r, err);
	if (rc == 0)
		rc = mr_req_write(r, mr_api_exp_move_fn, &j, err);
	if (rc == 0)
		rc = mr_api_exp_load(r, j.name, &x, err);
	if (rc < 0)
		return rc;
	return mr_reply_json(r, 200, mr_experiment_json(&x));
}

static int mr_api_exp_start(struct mr_req *r, struct mr_err *err)
{
	return mr_api_exp_move(r, MR_EXP_RUNNING, err);
}

static int mr_api_exp_stop(struct mr_req *r, struct mr_err *err)
{
	return mr_api_exp_move(r, MR_EXP_STOPPED, err);
}

static int mr_api_exp_archive(struct mr_req *r, struct mr_err *err)
{
	return mr_api_exp_move(r, MR_EXP_ARCHIVED, err);
}

static int mr_api_exp_delete_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_api_exp_move *j = arg;
	int rc = mr_experiment_delete(c, j->name, err);

	if (rc == 0)
		rc = mr_req_audit(j->r, c, "experiment.delete", "experiment", j->name, 204, NULL, NULL, err);
	return rc;
}

static int mr_api_exp_delete(struct mr_req *r, struct mr_err *err)
{
	struct mr_api_exp_move j = { r, NULL, 0, NULL, 0 };
	int rc = mr_api_exp_name(r, &j.name, err);

	if (rc == 0)
		rc = mr_req_write(r, mr_api_exp_delete_fn, &j, err);
	return rc < 0 ? rc : mr_reply_empty(r, 204);
}

/* ------------------------------------------------------------ results and assignment */

static int mr_api_exp_results(struct mr_req *r, struct mr_err *err)
{
	struct mr_experiment x = { 0 };
	struct mr_exp_results res;
	struct mr_exp_src src;
	struct mr_conn *c = NULL;
	const char *name = NULL;
	int64_t t0 = mr_mono_us();
	int rc = mr_api_exp_name(r, &name, err);
	json_t *o;

	mr_api_exp_src(r, &src);
	if (rc == 0)
		rc = mr_api_exp_load(r, name, &x, err);
	if (rc == 0)
		rc = mr_api_engine_ready(r, err);
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		rc = mr_experiment_results(&src, c, &x, mr_now_us(), &r->arena, &res, err);
		mr_req_done_conn(r, c);
	}
	if (rc < 0)
		return rc;
	o = mr_experiment_results_json(&x, &res);
	json_object_set_new(o, "took_ms", json_real((double)(mr_mono_us() - t0) / 1000.0));
	return mr_reply_json(r, 200, o);
}

static int mr_api_exp_assignment(struct mr_req *r, struct mr_err *err)
{
	struct mr_experiment x = { 0 };
	struct mr_exp_src src;
	struct mr_conn *c = NULL;
	const char *name = NULL, *hcp = NULL, *rep = NULL, *ext;
	uint32_t bucket = 0;
	int arm = 0, in_pop = 0;
	int rc = mr_api_exp_name(r, &name, err);
	json_t *o;

	mr_api_exp_src(r, &src);
	if (rc == 0)
		rc = mr_req_query(r, "hcp", &hcp, err);
	if (rc == 0)
		rc = mr_req_query(r, "rep", &rep, err);
	if (rc == 0)
		rc = mr_api_exp_load(r, name, &x, err);
	if (rc == 0 && (!hcp == !rep || (x.unit == MR_EXP_HCP ? !hcp : !rep)))
		rc = mr_err_field(err, MR_EINVAL, x.unit == MR_EXP_HCP ? "hcp" : "rep", "experiment '%s' assigns"
				  " %ss: ask with ?%s=ID", name, x.unit == MR_EXP_HCP ? "doctor" : "rep",
				  mr_experiments_unit_name(x.unit));
	ext = hcp ? hcp : rep;
	if (rc == 0)
		rc = mr_api_engine_ready(r, err);
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		rc = mr_experiment_assignment(&src, c, &x, ext, mr_now_us(), &r->arena, &bucket, &arm, &in_pop, err);
		mr_req_done_conn(r, c);
	}
	if (rc < 0)
		return rc;
	o = json_pack("{s:s, s:s, s:s, s:i, s:b}", "experiment", x.name, "unit", mr_experiments_unit_name(x.unit),
		      "id", ext, "bucket", (int)bucket, "in_population", in_pop);
	if (in_pop)
		json_object_set_new(o, "arm", json_pack("{s:s, s:s}", "name", x.arms[arm].name, "kind",
							mr_experiments_kind_name(x.arms[arm].kind)));
	else
		json_object_set_new(o, "arm", json_null());
	mr_json_set_time(o, "population_as_of", mr_experiment_as_of(&x, mr_now_us()));
	return mr_reply_json(r, 200, o);
}

/* Which running experiment holds one unit (?hcp=ID or ?rep=ID), and its arm: what the NBA engine asks. */
static int mr_api_exp_unit(struct mr_req *r, struct mr_err *err)
{
	const struct mr_experiment *x = NULL;
	struct mr_exp_src src;
	struct mr_conn *c = NULL;
	const char *hcp = NULL, *rep = NULL;
	int arm = -1;
	int rc = mr_req_query(r, "hcp", &hcp, err);
	json_t *o;

	mr_api_exp_src(r, &src);
	if (rc == 0)
		rc = mr_req_query(r, "rep", &rep, err);
	if (rc == 0 && !hcp == !rep)
		rc = mr_err_field(err, MR_EINVAL, "hcp", "ask with one of ?hcp=ID or ?rep=ID");
	if (rc == 0)
		rc = mr_api_engine_ready(r, err);
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		rc = mr_experiments_unit_arm(&src, c, hcp ? MR_EXP_HCP : MR_EXP_REP, hcp ? hcp : rep, mr_now_us(),
					     &r->arena, &x, &arm, err);
		mr_req_done_conn(r, c);
	}
	if (rc < 0)
		return rc;
	o = json_pack("{s:s, s:s}", "unit", hcp ? "hcp" : "rep", "id", hcp ? hcp : rep);
	mr_json_set_str(o, "experiment", x ? x->name : NULL);
	if (x)
		json_object_set_new(o, "arm", json_pack("{s:s, s:s}", "name", x->arms[arm].name, "kind",
							mr_experiments_kind_name(x->arms[arm].kind)));
	else
		json_object_set_new(o, "arm", json_null());
	return mr_reply_json(r, 200, o);
}

const struct mr_route mr_routes_experiments[] = {
	{ "GET", "/api/v1/experiments", mr_api_exp_list, MR_R_EXP_READ, 0,
	  "Experiments (A/B tests), newest first (?status=draft|running|stopped|archived)", "experiments", 0 },
	{ "GET", "/api/v1/experiments/assignment", mr_api_exp_unit, MR_R_EXP_READ, 0,
	  "Which running experiment holds one unit (?hcp=ID or ?rep=ID) and its arm; experiment null when none",
	  "experiments", 0 },
	{ "PUT", "/api/v1/experiments/{name}", mr_api_exp_put, MR_R_EXP_WRITE, MR_ROUTE_BODY,
	  "Creates or edits a draft experiment {description, unit: hcp|rep, population, metric, arms:[{name,"
	  " kind: rules|learned|holdout|custom, allocation}]}", "experiments", MR_EXP_BODY_MAX },
	{ "GET", "/api/v1/experiments/{name}", mr_api_exp_get, MR_R_EXP_READ, 0,
	  "An experiment's definition, status and salt", "experiments", 0 },
	{ "DELETE", "/api/v1/experiments/{name}", mr_api_exp_delete, MR_R_EXP_WRITE, 0,
	  "Deletes a draft experiment", "experiments", 0 },
	{ "POST", "/api/v1/experiments/{name}/start", mr_api_exp_start, MR_R_EXP_WRITE, MR_ROUTE_OK200,
	  "Starts a draft (409 when it shares units with a running experiment)", "experiments", 0 },
	{ "POST", "/api/v1/experiments/{name}/stop", mr_api_exp_stop, MR_R_EXP_WRITE, MR_ROUTE_OK200,
	  "Stops a running experiment (its results then end at stopped_at)", "experiments", 0 },
	{ "POST", "/api/v1/experiments/{name}/archive", mr_api_exp_archive, MR_R_EXP_WRITE, MR_ROUTE_OK200,
	  "Archives a stopped experiment", "experiments", 0 },
	{ "GET", "/api/v1/experiments/{name}/results", mr_api_exp_results, MR_R_EXP_READ, 0,
	  "Per arm the units and the primary metric with its 95% Wilson interval; each arm against the control:"
	  " difference with its 95% CI, z, p and whether it is significant", "experiments", 0 },
	{ "GET", "/api/v1/experiments/{name}/assignment", mr_api_exp_assignment, MR_R_EXP_READ, 0,
	  "The bucket and arm of one unit (?hcp=ID or ?rep=ID) and whether it is in the population",
	  "experiments", 0 },
	{ 0 },
};
