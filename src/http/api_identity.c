/*
 * Identity resolution through the API, for data stewards (admins): merge
 * one HCP record into another, undo a merge exactly, run the probabilistic
 * matcher over every HCP, and work the review queue of probable
 * duplicates side by side. Each act is audited with its lineage.
 */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/role.h"
#include "base/json.h"
#include "base/time.h"
#include "http/api_md.h"
#include "md/merge.h"
#include "md/resolve.h"

struct mr_merge_job {
	struct mr_req *r;
	const char *from;        /* the record merged away (path id) */
	const char *into;        /* the survivor */
	struct mr_merge_opts o;
	int64_t merge_id;
	int64_t review_id;
	int accept;
	json_t *kept;
};

static int mr_merge_job_audit(struct mr_merge_job *j, struct mr_conn *c, const char *action,
			      const char *entity_id, struct mr_err *err)
{
	return mr_req_audit(j->r, c, action, "hcp", entity_id, 200, NULL, NULL, err);
}

static int mr_merge_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_merge_job *j = arg;
	struct mr_md_actor who;
	int64_t s = 0, m = 0;
	int rc = mr_md_lookup(c, &mr_md_hcp, j->into, &s, err);

	mr_api_actor(j->r, &who);
	who.source = "merge";
	if (rc == MR_ENOTFOUND)
		return mr_err_field(err, MR_ENOTFOUND, "into", "HCP %.64s does not exist", j->into);
	if (rc == 0 && (rc = mr_md_lookup(c, &mr_md_hcp, j->from, &m, err)) == MR_ENOTFOUND)
		return mr_err_set(err, MR_ENOTFOUND, "HCP %.64s does not exist", j->from);
	if (rc == 0)
		rc = mr_hcp_merge(c, s, m, &j->o, &who, &j->merge_id, err);
	if (rc == 0)
		rc = mr_merge_job_audit(j, c, "hcp.merge", j->from, err);
	return rc;
}

/* POST /api/v1/hcps/{id}/merge {"into","reason","survivorship":{field: rule}} */
static int mr_api_merge(struct mr_req *r, struct mr_err *err)
{
	static const char *const allowed[] = { "into", "reason", "survivorship", NULL };
	struct mr_merge_job j;
	json_t *body = NULL, *surv, *v;
	const char *key;
	int rc;

	memset(&j, 0, sizeof(j));
	j.r = r;
	j.from = mr_req_param(r, "id");
	j.o.rule = "manual";
	j.o.score = -1;
	rc = mr_req_json(r, &body, err);
	if (rc == 0)
		rc = mr_json_only(body, allowed, err);
	if (rc == 0)
		rc = mr_json_str(body, "into", 1, 64, &j.into, err);
	if (rc == 0)
		rc = mr_json_str(body, "reason", 0, 400, &j.o.reason, err);
	surv = body ? json_object_get(body, "survivorship") : NULL;
	if (rc == 0 && surv && !json_is_object(surv))
		rc = mr_err_field(err, MR_EINVAL, "survivorship", "survivorship is an object of field: rule");
	json_object_foreach(surv, key, v) {
		int f = mr_md_field_index(&mr_md_hcp, key);

		if (rc < 0)
			break;
		if (f < 0 || !json_is_string(v) || mr_survive_parse(json_string_value(v)) < 0)
			rc = mr_err_field(err, MR_EINVAL, "survivorship",
					  "survivorship.%.40s: a field of hcp and one of recent, survivor, merged, fill",
					  key);
		else
			j.o.survive[f] = json_string_value(v);
	}
	if (rc == 0)
		rc = mr_req_write(r, mr_merge_fn, &j, err);
	if (rc == 0)
		rc = mr_reply_json(r, 200, json_pack("{s:I, s:s, s:s, s:s}", "merge", (json_int_t)j.merge_id,
						     "survivor", j.into, "merged", j.from, "rule", "manual"));
	json_decref(body);
	return rc;
}

static int mr_unmerge_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_merge_job *j = arg;
	struct mr_md_actor who;
	char id[24];
	int rc;

	mr_api_actor(j->r, &who);
	who.source = "merge";
	rc = mr_hcp_unmerge(c, j->merge_id, &who, &j->kept, err);
	snprintf(id, sizeof(id), "%lld", (long long)j->merge_id);
	if (rc == 0)
		rc = mr_req_audit(j->r, c, "hcp.unmerge", "merge", id, 200, NULL, NULL, err);
	return rc;
}

static int mr_api_unmerge(struct mr_req *r, struct mr_err *err)
{
	struct mr_merge_job j;
	int rc;

	memset(&j, 0, sizeof(j));
	j.r = r;
	rc = mr_req_param_id(r, "id", &j.merge_id, err);
	if (rc == 0)
		rc = mr_req_write(r, mr_unmerge_fn, &j, err);
	if (rc < 0)
		return rc;
	return mr_reply_json(r, 200, json_pack("{s:I, s:o}", "merge", (json_int_t)j.merge_id, "kept",
					       j.kept ? j.kept : json_array()));
}

static int mr_api_merges(struct mr_req *r, struct mr_err *err)
{
	const char *hcp = NULL;
	struct mr_conn *c = NULL;
	json_t *items = json_array();
	int64_t cursor = 0, next = 0, id = 0;
	int limit = 0;
	int rc = mr_req_paging(r, &limit, &cursor, err);

	if (rc == 0)
		rc = mr_req_query(r, "hcp", &hcp, err);
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	if (hcp) {
		/* a merged record is not "live", so look it up by ext_id directly */
		struct mr_val arg = mr_v_text(hcp);

		rc = mr_conn_query_int(c, "SELECT id FROM hcps WHERE ext_id = ?", &arg, 1, &id, err);
		if (rc == MR_ENOTFOUND)
			rc = mr_err_set(err, MR_ENOTFOUND, "HCP %.64s does not exist", hcp);
	}
	if (rc == 0)
		rc = mr_merge_list(c, id, limit, cursor, items, &next, err);
	mr_req_done_conn(r, c);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	mr_api_times(items);
	return mr_reply_json(r, 200, mr_page(items, next));
}

static int mr_api_resolve_commit(void *ctx, mr_write_fn fn, void *arg, struct mr_err *err)
{
	return mr_req_write(ctx, fn, arg, err);
}

struct mr_resolve_audit {
	struct mr_req *r;
	json_t *stats;
};

static int mr_resolve_audit_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_resolve_audit *a = arg;
	unsigned char after[MR_AUDIT_DIGEST];

	mr_audit_digest(&a->r->app->keys, a->stats, after);
	return mr_req_audit(a->r, c, "identity.run", "hcp", NULL, 200, NULL, after, err);
}

/* POST /api/v1/identity/run {"upper","lower"}: the probabilistic matcher over every HCP. */
static int mr_api_resolve_run(struct mr_req *r, struct mr_err *err)
{
	static const char *const allowed[] = { "upper", "lower", NULL };
	struct mr_resolve_stats st;
	struct mr_md_actor who;
	struct mr_resolve_audit a = { r, NULL };
	struct mr_conn *c = NULL;
	json_t *body = NULL, *v;
	double upper = 0, lower = 0;
	int rc = r->body.len ? mr_req_json(r, &body, err) : 0;

	if (rc == 0 && body)
		rc = mr_json_only(body, allowed, err);
	if (rc == 0 && body && (v = json_object_get(body, "upper")) != NULL) {
		upper = json_number_value(v);
		if (!json_is_number(v) || upper <= 0 || upper >= 1)
			rc = mr_err_field(err, MR_EINVAL, "upper", "upper is a probability between 0 and 1");
	}
	if (rc == 0 && body && (v = json_object_get(body, "lower")) != NULL) {
		lower = json_number_value(v);
		if (!json_is_number(v) || lower <= 0 || lower >= 1 || (upper > 0 && lower > upper))
			rc = mr_err_field(err, MR_EINVAL, "lower", "lower is a probability between 0 and upper");
	}
	json_decref(body);
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc < 0)
		return rc;
	mr_api_actor(r, &who);
	who.source = "merge";
	rc = mr_resolve_run(c, &r->app->keys, upper, lower, mr_api_resolve_commit, r, &who, &st, err);
	mr_req_done_conn(r, c);
	if (rc < 0) {
		json_decref(st.model);
		return rc;
	}
	a.stats = json_pack("{s:I, s:I, s:I, s:I, s:f, s:f, s:I, s:o}", "hcps", (json_int_t)st.hcps,
			    "candidates", (json_int_t)st.candidates, "merged", (json_int_t)st.merged,
			    "queued", (json_int_t)st.queued, "upper", st.upper, "lower", st.lower,
			    "took_ms", (json_int_t)(st.took_us / 1000),
			    "model", st.model ? st.model : json_null());
	rc = mr_req_write(r, mr_resolve_audit_fn, &a, err);
	if (rc < 0) {
		json_decref(a.stats);
		return rc;
	}
	return mr_reply_json(r, 200, a.stats);
}

static int mr_api_reviews(struct mr_req *r, struct mr_err *err)
{
	const char *status = NULL;
	struct mr_conn *c = NULL;
	json_t *items = json_array();
	int64_t cursor = 0, next = 0;
	int limit = 0;
	int rc = mr_req_paging(r, &limit, &cursor, err);

	if (rc == 0)
		rc = mr_req_query(r, "status", &status, err);
	if (rc == 0 && status && strcmp(status, "pending") != 0 && strcmp(status, "accepted") != 0 &&
	    strcmp(status, "rejected") != 0)
		rc = mr_err_field(err, MR_EINVAL, "status", "status is pending, accepted or rejected");
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	rc = mr_review_list(c, status ? status : "pending", limit, cursor, items, &next, err);
	mr_req_done_conn(r, c);
	if (rc == 0)
		rc = mr_req_audit_read(r, "identity.reviews", "hcp", NULL, err);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	mr_api_times(items);
	return mr_reply_json(r, 200, mr_page(items, next));
}

static int mr_review_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_merge_job *j = arg;
	struct mr_md_actor who;
	char id[24];
	int rc;

	mr_api_actor(j->r, &who);
	who.source = "merge";
	rc = mr_review_decide(c, j->review_id, j->accept, j->o.reason, &who, &j->merge_id, err);
	snprintf(id, sizeof(id), "%lld", (long long)j->review_id);
	if (rc == 0)
		rc = mr_req_audit(j->r, c, j->accept ? "identity.review.accept" : "identity.review.reject",
				  "review", id, 200, NULL, NULL, err);
	return rc;
}

/* POST /api/v1/identity/reviews/{id} {"decision":"accept"|"reject","reason"} */
static int mr_api_review_decide(struct mr_req *r, struct mr_err *err)
{
	static const char *const allowed[] = { "decision", "reason", NULL };
	struct mr_merge_job j;
	const char *decision = NULL;
	json_t *body = NULL;
	int rc;

	memset(&j, 0, sizeof(j));
	j.r = r;
	rc = mr_req_param_id(r, "id", &j.review_id, err);
	if (rc == 0)
		rc = mr_req_json(r, &body, err);
	if (rc == 0)
		rc = mr_json_only(body, allowed, err);
	if (rc == 0)
		rc = mr_json_str(body, "decision", 1, 16, &decision, err);
	if (rc == 0)
		rc = mr_json_str(body, "reason", 0, 400, &j.o.reason, err);
	if (rc == 0 && strcmp(decision, "accept") != 0 && strcmp(decision, "reject") != 0)
		rc = mr_err_field(err, MR_EINVAL, "decision", "decision is accept or reject");
	j.accept = rc == 0 && strcmp(decision, "accept") == 0;
	if (rc == 0)
		rc = mr_req_write(r, mr_review_fn, &j, err);
	if (rc == 0)
		rc = mr_reply_json(r, 200, json_pack("{s:I, s:s, s:o}", "id", (json_int_t)j.review_id,
						     "status", j.accept ? "accepted" : "rejected", "merge",
						     j.merge_id ? json_integer(j.merge_id) : json_null()));
	json_decref(body);
	return rc;
}

#define MR_R_STEWARD MR_ROLE_BIT(MR_ROLE_ADMIN)

const struct mr_route mr_routes_identity[] = {
	{ "POST", "/api/v1/hcps/{id}/merge", mr_api_merge, MR_R_STEWARD, MR_ROUTE_BODY | MR_ROUTE_OK200,
	  "Merge this HCP record into another (\"into\"), keeping lineage", "identity", 16 * 1024 },
	{ "GET", "/api/v1/merges", mr_api_merges, MR_R_STEWARD | MR_ROLE_BIT(MR_ROLE_COMPLIANCE), 0,
	  "Merges with their lineage (filter by hcp), newest first", "identity", 0 },
	{ "POST", "/api/v1/merges/{id}/undo", mr_api_unmerge, MR_R_STEWARD, MR_ROUTE_OK200,
	  "Undo a merge, restoring both records as they were", "identity", 0 },
	{ "POST", "/api/v1/identity/run", mr_api_resolve_run, MR_R_STEWARD, MR_ROUTE_BODY | MR_ROUTE_OK200,
	  "Find duplicate HCPs (Fellegi-Sunter): merge the sure, queue the probable", "identity", 4096 },
	{ "GET", "/api/v1/identity/reviews", mr_api_reviews, MR_R_STEWARD, 0,
	  "The review queue of probable duplicates, side by side", "identity", 0 },
	{ "POST", "/api/v1/identity/reviews/{id}", mr_api_review_decide, MR_R_STEWARD, MR_ROUTE_BODY | MR_ROUTE_OK200,
	  "Accept (merge) or reject (with a reason) a probable duplicate", "identity", 4096 },
	{ 0 },
};
