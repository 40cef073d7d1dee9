/*
 * API tokens for scripts and integrations: any user lists, creates and
 * revokes their own; an admin may revoke anyone's. The secret is shown
 * once, at creation; only its hash is kept.
 */
#include <stdio.h>
#include <string.h>

#include "auth/authcache.h"
#include "auth/role.h"
#include "auth/token.h"
#include "base/json.h"
#include "base/time.h"
#include "http/http.h"

enum { MR_TOKEN_TTL_MAX_DAYS = 3650 };

struct mr_token_job {
	struct mr_req *r;
	const char *name;
	int64_t expires_at;
	int64_t id;
	char secret[MR_SECRET_MAX + 1];
};

static int mr_token_create_write(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_token_job *j = arg;
	char id[24];
	int rc = mr_token_create(c, j->r->who.user.id, j->name, j->expires_at, j->secret, &j->id, err);

	if (rc < 0)
		return rc;
	snprintf(id, sizeof(id), "%lld", (long long)j->id);
	return mr_req_audit(j->r, c, "token.create", "token", id, 201, NULL, NULL, err);
}

static int mr_api_tokens_create(struct mr_req *r, struct mr_err *err)
{
	static const char *const allowed[] = { "name", "ttl_days", NULL };
	struct mr_token_job j;
	json_t *body = NULL, *out;
	int64_t ttl_days = 0;
	int64_t now = mr_now_us();
	int rc;

	memset(&j, 0, sizeof(j));
	j.r = r;
	rc = mr_req_json(r, &body, err);
	if (rc == 0)
		rc = mr_json_only(body, allowed, err);
	if (rc == 0)
		rc = mr_json_str(body, "name", 1, MR_TOKEN_NAME_MAX, &j.name, err);
	if (rc == 0)
		rc = mr_json_int(body, "ttl_days", 0, 1, MR_TOKEN_TTL_MAX_DAYS, &ttl_days, NULL, err);
	if (rc < 0)
		goto out;
	j.expires_at = ttl_days ? now + ttl_days * 86400 * MR_US_PER_S : 0;
	rc = mr_req_write(r, mr_token_create_write, &j, err);
	if (rc < 0)
		goto out;
	out = json_object();
	json_object_set_new(out, "id", json_integer(j.id));
	json_object_set_new(out, "name", json_string(j.name));
	json_object_set_new(out, "token", json_string(j.secret));
	mr_json_set_time(out, "created_at", now);
	mr_json_set_time(out, "expires_at", j.expires_at);
	rc = mr_reply_json(r, 201, out);
out:
	json_decref(body);
	return rc;
}

static int mr_api_tokens_list(struct mr_req *r, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	json_t *items = json_array();
	int rc = mr_req_conn(r, &c, err);

	if (rc == 0) {
		rc = mr_token_list(c, r->who.user.id, items, err);
		mr_req_done_conn(r, c);
	}
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	return mr_reply_json(r, 200, mr_page(items, 0));
}

static int mr_token_revoke_write(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_token_job *j = arg;
	int64_t owner = j->r->who.user.role == MR_ROLE_ADMIN ? 0 : j->r->who.user.id;
	int rc = mr_token_revoke(c, j->id, owner, mr_now_us(), err);

	if (rc < 0)
		return rc;
	return mr_req_audit(j->r, c, "token.revoke", "token", mr_req_param(j->r, "id"), 204, NULL, NULL,
			    err);
}

static int mr_api_tokens_revoke(struct mr_req *r, struct mr_err *err)
{
	struct mr_token_job j;
	int rc;

	memset(&j, 0, sizeof(j));
	j.r = r;
	rc = mr_req_param_id(r, "id", &j.id, err);
	if (rc == 0)
		rc = mr_req_write(r, mr_token_revoke_write, &j, err);
	if (rc < 0)
		return rc;
	mr_authcache_clear(r->app->authcache);
	return mr_reply_empty(r, 204);
}

const struct mr_route mr_routes_tokens[] = {
	{ "GET", "/api/v1/tokens", mr_api_tokens_list, MR_ROLES_ALL, 0, "Your API tokens", "auth", 0 },
	{ "POST", "/api/v1/tokens", mr_api_tokens_create, MR_ROLES_ALL, MR_ROUTE_BODY,
	  "Create an API token (the secret is returned once)", "auth", 4096 },
	{ "DELETE", "/api/v1/tokens/{id}", mr_api_tokens_revoke, MR_ROLES_ALL, 0,
	  "Revoke an API token (yours; an admin's may be anyone's)", "auth", 0 },
	{ 0 },
};
