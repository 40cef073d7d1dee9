/*
 * What hangs off an HCP: alignments to reps, consents, and channel
 * identities (with the deterministic lookup the channel adapters use).
 * Every write is audited; identities are shown masked unless the caller's
 * role may see them, and an unmasked read is audited as such.
 */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/role.h"
#include "base/json.h"
#include "base/time.h"
#include "http/api_md.h"
#include "md/ident.h"
#include "md/norm.h"
#include "md/relate.h"

int mr_api_consents(struct mr_conn *c, int64_t hcp_id, json_t *items, struct mr_err *err)
{
	return mr_consent_list(c, hcp_id, 0, items, err);
}

int mr_api_alignments(struct mr_conn *c, const struct mr_scope *s, int64_t hcp_id, json_t *items,
		      int64_t *next, struct mr_err *err)
{
	return mr_align_list(c, s, hcp_id, 0, 100, 0, items, next, err);
}

/* An optional RFC 3339 time or date field of body; def when absent. */
static int mr_api_time_field(json_t *body, const char *key, int64_t def, int64_t *out,
			     struct mr_err *err)
{
	const char *s = NULL;
	int rc = mr_json_str(body, key, 0, 64, &s, err);

	*out = def;
	if (rc < 0 || !s)
		return rc;
	if (mr_time_parse(s, 8 * 3600, out) < 0)
		return mr_err_field(err, MR_EINVAL, key,
				    "%s is not a date (2024-03-05) or time (2024-03-05T09:00:00+08:00)", key);
	return 0;
}

struct mr_rel_job {
	struct mr_req *r;
	struct mr_alignment al;
	struct mr_consent cs;
	struct mr_ident id;
	const char *hcp;
	int64_t target;      /* an alignment or identity id */
	int64_t out_id;
	int changed;
};

/* A manager may align only reps of their own team. */
static int mr_api_rep_in_team(struct mr_req *r, struct mr_conn *c, const char *rep,
			      struct mr_err *err)
{
	struct mr_scope s;
	struct mr_val args[2];
	int64_t n = 0;
	int rc;

	if (r->who.user.role != MR_ROLE_MANAGER)
		return 0;
	rc = mr_api_scope(r, c, &s, err);
	if (rc < 0)
		return rc;
	args[0] = mr_v_int(s.rep_id);
	args[1] = mr_v_text(rep);
	rc = mr_conn_query_int(c,
			       "WITH RECURSIVE team(id) AS (SELECT CAST(? AS BIGINT) UNION SELECT r.id FROM reps r"
			       " JOIN team t ON r.manager_id = t.id WHERE r.deleted_at IS NULL)"
			       " SELECT COUNT(*) FROM reps WHERE ext_id = ? AND id IN (SELECT id FROM team)",
			       args, 2, &n, err);
	if (rc == 0 && n == 0)
		return mr_err_set(err, MR_EFORBIDDEN, "rep %.64s is not in your team", rep);
	return rc;
}

static int mr_align_write_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_rel_job *j = arg;
	struct mr_md_actor who;
	char id[24];
	int rc = mr_api_rep_in_team(j->r, c, j->al.rep, err);

	mr_api_actor(j->r, &who);
	if (rc == 0)
		rc = mr_align_upsert(c, &j->al, &who, &j->out_id, &j->changed, err);
	snprintf(id, sizeof(id), "%lld", (long long)j->out_id);
	if (rc == 0 && j->changed)
		rc = mr_req_audit(j->r, c, "alignment.create", "alignment", id, 201, NULL, NULL, err);
	return rc;
}

static int mr_api_align_create(struct mr_req *r, struct mr_err *err)
{
	static const char *const allowed[] = { "hcp", "rep", "role", "product", "valid_from",
					       "valid_to", NULL };
	struct mr_rel_job j;
	json_t *body = NULL, *out;
	int rc;

	memset(&j, 0, sizeof(j));
	j.r = r;
	rc = mr_req_json(r, &body, err);
	if (rc == 0)
		rc = mr_json_only(body, allowed, err);
	if (rc == 0)
		rc = mr_json_str(body, "hcp", 1, 64, &j.al.hcp, err);
	if (rc == 0)
		rc = mr_json_str(body, "rep", 1, 64, &j.al.rep, err);
	if (rc == 0)
		rc = mr_json_str(body, "role", 1, 32, &j.al.role, err);
	if (rc == 0)
		rc = mr_json_str(body, "product", 0, 64, &j.al.product, err);
	if (!j.al.product)
		j.al.product = "";
	if (rc == 0)
		rc = mr_api_time_field(body, "valid_from", mr_now_us(), &j.al.valid_from, err);
	if (rc == 0)
		rc = mr_api_time_field(body, "valid_to", 0, &j.al.valid_to, err);
	if (rc == 0)
		rc = mr_align_check(&j.al, err);
	if (rc == 0)
		rc = mr_req_write(r, mr_align_write_fn, &j, err);
	if (rc == 0) {
		out = json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:o}", "id", (json_int_t)j.out_id,
				"hcp", j.al.hcp, "rep", j.al.rep, "role", j.al.role, "product",
				j.al.product, "valid_from", (json_int_t)j.al.valid_from, "valid_to",
				j.al.valid_to ? json_integer(j.al.valid_to) : json_null());
		mr_api_times(out);
		rc = mr_reply_json(r, j.changed ? 201 : 200, out);
	}
	json_decref(body);
	return rc;
}

static int mr_align_delete_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_rel_job *j = arg;
	struct mr_md_actor who;
	struct mr_scope s;
	char id[24];
	int yes = 0;
	int64_t hcp = 0;
	int rc = mr_align_hcp(c, j->target, &hcp, err);

	mr_api_actor(j->r, &who);
	if (rc == 0)
		rc = mr_api_scope(j->r, c, &s, err);
	if (rc == 0)
		rc = mr_scope_has_hcp(c, &s, hcp, &yes, err);
	if (rc == 0 && !yes)
		return mr_err_set(err, MR_EFORBIDDEN, "the alignment's HCP is not in your team");
	if (rc == 0)
		rc = mr_align_delete(c, j->target, &who, err);
	snprintf(id, sizeof(id), "%lld", (long long)j->target);
	if (rc == 0)
		rc = mr_req_audit(j->r, c, "alignment.delete", "alignment", id, 204, NULL, NULL, err);
	return rc;
}

static int mr_api_align_delete(struct mr_req *r, struct mr_err *err)
{
	struct mr_rel_job j;
	int rc;

	memset(&j, 0, sizeof(j));
	j.r = r;
	rc = mr_req_param_id(r, "id", &j.target, err);
	if (rc == 0)
		rc = mr_req_write(r, mr_align_delete_fn, &j, err);
	return rc < 0 ? rc : mr_reply_empty(r, 204);
}

static int mr_api_align_list(struct mr_req *r, struct mr_err *err)
{
	const char *hcp = NULL, *rep = NULL;
	struct mr_conn *c = NULL;
	struct mr_scope s;
	json_t *items = json_array();
	int64_t cursor = 0, next = 0, hcp_id = 0, rep_id = 0;
	int limit = 0;
	int rc = mr_req_paging(r, &limit, &cursor, err);

	if (rc == 0)
		rc = mr_req_query(r, "hcp", &hcp, err);
	if (rc == 0)
		rc = mr_req_query(r, "rep", &rep, err);
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	rc = mr_api_scope(r, c, &s, err);
	if (rc == 0 && hcp)
		rc = mr_api_hcp_ref(r, c, hcp, 0, &hcp_id, err);
	if (rc == 0 && rep && (rc = mr_md_lookup(c, &mr_md_rep, rep, &rep_id, err)) == MR_ENOTFOUND)
		rc = mr_err_set(err, MR_ENOTFOUND, "rep %.64s does not exist", rep);
	if (rc == 0)
		rc = mr_align_list(c, &s, hcp_id, rep_id, limit, cursor, items, &next, err);
	mr_req_done_conn(r, c);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	mr_api_times(items);
	return mr_reply_json(r, 200, mr_page(items, next));
}

static int mr_consent_write_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_rel_job *j = arg;
	struct mr_md_actor who;
	int64_t hcp = 0;
	int rc = mr_api_hcp_ref(j->r, c, j->cs.hcp, 0, &hcp, err);

	mr_api_actor(j->r, &who);
	if (rc == 0 && (j->r->who.user.role == MR_ROLE_ANALYST ||
			j->r->who.user.role == MR_ROLE_MARKETING))
		return mr_err_set(err, MR_EFORBIDDEN, "your role may not record consents");
	if (rc == 0)
		rc = mr_consent_add(c, &j->cs, &who, &j->changed, err);
	if (rc == 0 && j->changed)
		rc = mr_req_audit(j->r, c, "consent.create", "hcp", j->cs.hcp, 201, NULL, NULL, err);
	return rc;
}

static int mr_api_consent_create(struct mr_req *r, struct mr_err *err)
{
	static const char *const allowed[] = { "hcp", "channel", "purpose", "status", "captured_at",
					       "source", "evidence", "version", NULL };
	struct mr_rel_job j;
	json_t *body = NULL;
	int rc;

	memset(&j, 0, sizeof(j));
	j.r = r;
	rc = mr_req_json(r, &body, err);
	if (rc == 0)
		rc = mr_json_only(body, allowed, err);
	if (rc == 0)
		rc = mr_json_str(body, "hcp", 1, 64, &j.cs.hcp, err);
	if (rc == 0)
		rc = mr_json_str(body, "channel", 1, 32, &j.cs.channel, err);
	if (rc == 0)
		rc = mr_json_str(body, "purpose", 1, 32, &j.cs.purpose, err);
	if (rc == 0)
		rc = mr_json_str(body, "status", 1, 16, &j.cs.status, err);
	if (rc == 0)
		rc = mr_api_time_field(body, "captured_at", mr_now_us(), &j.cs.captured_at, err);
	if (rc == 0)
		rc = mr_json_str(body, "source", 0, 64, &j.cs.source, err);
	if (rc == 0)
		rc = mr_json_str(body, "evidence", 0, 400, &j.cs.evidence, err);
	if (rc == 0)
		rc = mr_json_str(body, "version", 0, 32, &j.cs.version, err);
	if (rc == 0)
		rc = mr_consent_check(&j.cs, mr_now_us(), err);
	if (rc == 0)
		rc = mr_req_write(r, mr_consent_write_fn, &j, err);
	if (rc == 0)
		rc = mr_reply_json(r, j.changed ? 201 : 200,
				   json_pack("{s:s, s:s, s:s, s:s, s:b}", "hcp", j.cs.hcp, "channel",
					     j.cs.channel, "purpose", j.cs.purpose, "status",
					     j.cs.status, "recorded", j.changed));
	json_decref(body); /* last: the strings above point into it */
	return rc;
}

static int mr_api_consent_list(struct mr_req *r, struct mr_err *err)
{
	const char *history = NULL;
	struct mr_conn *c = NULL;
	json_t *items = json_array();
	int64_t id = 0;
	int rc = mr_req_query(r, "history", &history, err);

	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	rc = mr_api_hcp_ref(r, c, mr_req_param(r, "id"), 0, &id, err);
	if (rc == 0)
		rc = mr_consent_list(c, id, history && strcmp(history, "true") == 0, items, err);
	mr_req_done_conn(r, c);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	mr_api_times(items);
	return mr_reply_json(r, 200, json_pack("{s:o}", "items", items));
}

static int mr_ident_write_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_rel_job *j = arg;
	struct mr_md_actor who;
	int64_t hcp = 0;
	int rc = mr_api_hcp_ref(j->r, c, j->hcp, 1, &hcp, err);

	mr_api_actor(j->r, &who);
	if (rc == 0 && j->target)
		rc = mr_ident_remove(c, hcp, j->target, &who, err);
	else if (rc == 0)
		rc = j->changed = mr_ident_add(c, &j->r->app->keys, hcp, &j->id, &who, err);
	if (rc >= 0)
		rc = mr_req_audit(j->r, c, j->target ? "identity.delete" : "identity.create", "hcp",
				  j->hcp, j->target ? 204 : 201, NULL, NULL, err);
	return rc;
}

static int mr_api_ident_create(struct mr_req *r, struct mr_err *err)
{
	static const char *const allowed[] = { "kind", "value", "app", "verified", "source", NULL };
	struct mr_rel_job j;
	char norm[MR_NORM_MAX];
	const char *value = NULL;
	json_t *body = NULL, *v;
	int rc;

	memset(&j, 0, sizeof(j));
	j.r = r;
	j.hcp = mr_req_param(r, "id");
	rc = mr_req_json(r, &body, err);
	if (rc == 0)
		rc = mr_json_only(body, allowed, err);
	if (rc == 0)
		rc = mr_json_str(body, "kind", 1, 32, &j.id.kind, err);
	if (rc == 0)
		rc = mr_json_str(body, "value", 1, 256, &value, err);
	if (rc == 0)
		rc = mr_json_str(body, "app", 0, 64, &j.id.app, err);
	if (rc == 0)
		rc = mr_json_str(body, "source", 0, 64, &j.id.source, err);
	v = body ? json_object_get(body, "verified") : NULL;
	if (rc == 0 && v && !json_is_boolean(v))
		rc = mr_err_field(err, MR_EINVAL, "verified", "verified must be true or false");
	j.id.verified = json_is_true(v);
	if (!j.id.app)
		j.id.app = "";
	if (rc == 0)
		rc = mr_norm_identity(j.id.kind, value, norm, "value", err);
	j.id.value = norm;
	if (rc == 0)
		rc = mr_req_write(r, mr_ident_write_fn, &j, err);
	if (rc == MR_ECONFLICT && r->who.user.role != MR_ROLE_ADMIN &&
	    r->who.user.role != MR_ROLE_COMPLIANCE)
		/* do not tell a rep which doctor outside their alignment holds a number */
		mr_err_field(err, MR_ECONFLICT, "value", "this %s already belongs to another HCP;"
			     " ask an admin to resolve it", j.id.kind),
		mr_err_kind(err, "identity_taken");
	if (rc == 0)
		rc = mr_reply_json(r, j.changed ? 201 : 200,
				   json_pack("{s:s, s:s, s:b}", "hcp", j.hcp, "kind", j.id.kind,
					     "added", j.changed));
	json_decref(body); /* last: the strings above point into it */
	return rc;
}

static int mr_api_ident_delete(struct mr_req *r, struct mr_err *err)
{
	struct mr_rel_job j;
	int rc;

	memset(&j, 0, sizeof(j));
	j.r = r;
	j.hcp = mr_req_param(r, "id");
	rc = mr_req_param_id(r, "ident", &j.target, err);
	if (rc == 0)
		rc = mr_req_write(r, mr_ident_write_fn, &j, err);
	return rc < 0 ? rc : mr_reply_empty(r, 204);
}

static int mr_api_ident_list(struct mr_req *r, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	struct mr_scope s = { .masked = 1 };
	json_t *items = json_array();
	int64_t id = 0;
	int rc = mr_req_conn(r, &c, err);

	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	rc = mr_api_hcp_ref(r, c, mr_req_param(r, "id"), 0, &id, err);
	if (rc == 0)
		rc = mr_api_scope(r, c, &s, err);
	if (rc == 0)
		rc = mr_ident_list(c, &r->app->keys, id, !s.masked, items, err);
	mr_req_done_conn(r, c);
	if (rc == 0)
		rc = mr_req_audit_read(r, s.masked ? "hcp.identities" : "hcp.identities.unmasked", "hcp",
				       mr_req_param(r, "id"), err);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	return mr_reply_json(r, 200, json_pack("{s:o, s:b}", "items", items, "masked", s.masked));
}

/* Which HCP holds an identity: the deterministic step of identity resolution. */
static int mr_api_ident_resolve(struct mr_req *r, struct mr_err *err)
{
	const char *kind = NULL, *value = NULL, *app = NULL;
	char norm[MR_NORM_MAX], ext[80] = "";
	struct mr_conn *c = NULL;
	struct mr_scope s;
	int64_t id = 0;
	int yes = 0;
	int rc = mr_req_query(r, "kind", &kind, err);

	if (rc == 0)
		rc = mr_req_query(r, "value", &value, err);
	if (rc == 0)
		rc = mr_req_query(r, "app", &app, err);
	if (rc == 0 && (!kind || !value))
		rc = mr_err_set(err, MR_EINVAL, "give kind and value (and app for wechat_openid)");
	if (rc == 0)
		rc = mr_norm_identity(kind, value, norm, "value", err);
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc < 0)
		return rc;
	rc = mr_ident_find(c, &r->app->keys, kind, app ? app : "", norm, &id, err);
	if (rc == MR_ENOTFOUND)
		rc = mr_err_set(err, MR_ENOTFOUND, "no HCP has this %s", kind);
	if (rc == 0)
		rc = mr_api_scope(r, c, &s, err);
	if (rc == 0)
		rc = mr_scope_has_hcp(c, &s, id, &yes, err);
	if (rc == 0 && !yes)
		rc = mr_err_set(err, MR_ENOTFOUND, "no HCP aligned to you has this %s", kind);
	if (rc == 0) {
		struct mr_val arg = mr_v_int(id);
		struct mr_rows *rows = NULL;

		rc = mr_conn_query(c, "SELECT ext_id FROM hcps WHERE id = ?", &arg, 1, &rows, err);
		if (rc == 0 && mr_rows_next(rows, err) == 1)
			snprintf(ext, sizeof(ext), "%s", mr_rows_text(rows, 0));
		mr_rows_close(rows);
	}
	mr_req_done_conn(r, c);
	if (rc == 0)
		rc = mr_req_audit_read(r, "identity.resolve", "hcp", ext, err);
	if (rc < 0)
		return rc;
	return mr_reply_json(r, 200, json_pack("{s:s, s:s, s:s}", "hcp", ext, "rule", "deterministic",
					       "kind", kind));
}

struct mr_affil_job {
	struct mr_req *r;
	const char *hcp, *hco, *department, *role;
	int remove;
	int changed;
};

static int mr_affil_write_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_affil_job *j = arg;
	struct mr_md_actor who;
	int64_t hcp = 0;
	int rc = mr_api_hcp_ref(j->r, c, j->hcp, 1, &hcp, err);

	mr_api_actor(j->r, &who);
	if (rc == 0 && j->remove)
		rc = mr_affil_remove(c, hcp, j->hco, &who, err);
	else if (rc == 0)
		rc = mr_affil_set(c, hcp, j->hco, j->department, j->role, &who, &j->changed, err);
	if (rc == 0 && (j->changed || j->remove))
		rc = mr_req_audit(j->r, c, j->remove ? "affiliation.delete" : "affiliation.set", "hcp",
				  j->hcp, 200, NULL, NULL, err);
	return rc;
}

/* PUT /api/v1/hcps/{id}/affiliations/{hco} {"department","role"}: a further hospital of the HCP. */
static int mr_api_affil_set(struct mr_req *r, struct mr_err *err)
{
	static const char *const allowed[] = { "department", "role", NULL };
	struct mr_affil_job j = { r, mr_req_param(r, "id"), mr_req_param(r, "hco"), NULL, NULL, 0, 0 };
	json_t *body = NULL;
	int rc = mr_req_json(r, &body, err);

	if (rc == 0)
		rc = mr_json_only(body, allowed, err);
	if (rc == 0)
		rc = mr_json_str(body, "department", 0, 480, &j.department, err);
	if (rc == 0)
		rc = mr_json_str(body, "role", 0, 64, &j.role, err);
	if (rc == 0)
		rc = mr_req_write(r, mr_affil_write_fn, &j, err);
	if (rc == 0)
		rc = mr_reply_json(r, 200, json_pack("{s:s, s:s, s:s?, s:s?, s:b}", "hcp", j.hcp, "hco", j.hco,
						     "department", j.department, "role", j.role,
						     "changed", j.changed));
	json_decref(body);
	return rc;
}

static int mr_api_affil_delete(struct mr_req *r, struct mr_err *err)
{
	struct mr_affil_job j = { r, mr_req_param(r, "id"), mr_req_param(r, "hco"), NULL, NULL, 1, 0 };
	int rc = mr_req_write(r, mr_affil_write_fn, &j, err);

	return rc < 0 ? rc : mr_reply_empty(r, 204);
}

#define MR_R_ALL MR_ROLES_ALL
#define MR_R_ALIGN (MR_ROLE_BIT(MR_ROLE_ADMIN) | MR_ROLE_BIT(MR_ROLE_MANAGER))
#define MR_R_REPS (MR_ROLE_BIT(MR_ROLE_ADMIN) | MR_ROLE_BIT(MR_ROLE_MANAGER) |       \
		   MR_ROLE_BIT(MR_ROLE_FIELD_REP) | MR_ROLE_BIT(MR_ROLE_INSIDE_REP) | \
		   MR_ROLE_BIT(MR_ROLE_MSL))

const struct mr_route mr_routes_relations[] = {
	{ "GET", "/api/v1/alignments", mr_api_align_list, MR_R_ALL, 0,
	  "List alignments (filter by hcp, rep), within your scope", "alignments", 0 },
	{ "POST", "/api/v1/alignments", mr_api_align_create, MR_R_ALIGN, MR_ROUTE_BODY,
	  "Align an HCP to a rep (409 names a conflicting owner)", "alignments", 16 * 1024 },
	{ "DELETE", "/api/v1/alignments/{id}", mr_api_align_delete, MR_R_ALIGN, 0,
	  "End an alignment", "alignments", 0 },
	{ "POST", "/api/v1/consents", mr_api_consent_create,
	  MR_R_REPS | MR_ROLE_BIT(MR_ROLE_COMPLIANCE), MR_ROUTE_BODY,
	  "Record a consent (opt_in / opt_out) with its evidence", "consents", 16 * 1024 },
	{ "GET", "/api/v1/hcps/{id}/consents", mr_api_consent_list, MR_R_ALL, 0,
	  "An HCP's consents in force (?history=true: all)", "consents", 0 },
	{ "GET", "/api/v1/hcps/{id}/identities", mr_api_ident_list, MR_R_ALL, 0,
	  "An HCP's channel identities (masked unless your role may see them)", "identities", 0 },
	{ "POST", "/api/v1/hcps/{id}/identities", mr_api_ident_create, MR_R_REPS, MR_ROUTE_BODY,
	  "Add a channel identity to an HCP (409 when another HCP has it)", "identities", 16 * 1024 },
	{ "DELETE", "/api/v1/hcps/{id}/identities/{ident}", mr_api_ident_delete, MR_R_REPS, 0,
	  "Remove a channel identity", "identities", 0 },
	{ "PUT", "/api/v1/hcps/{id}/affiliations/{hco}", mr_api_affil_set, MR_R_REPS, MR_ROUTE_BODY,
	  "Set a further affiliation of an HCP (a hospital besides the primary one)", "hcps", 4096 },
	{ "DELETE", "/api/v1/hcps/{id}/affiliations/{hco}", mr_api_affil_delete, MR_R_REPS, 0,
	  "Remove a further affiliation", "hcps", 0 },
	{ "GET", "/api/v1/identities/resolve", mr_api_ident_resolve, MR_R_ALL, 0,
	  "Which HCP holds an identity (kind, value, app)", "identities", 0 },
	{ 0 },
};
