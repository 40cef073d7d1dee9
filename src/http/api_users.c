/*
 * Accounts, for admins: list, read, create, change (name, role, rep link,
 * active/disabled, password). Reads are audited like any personal data;
 * each change is audited with digests of the account before and after.
 * An admin cannot lock themself out (disable or demote their own account).
 */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/authcache.h"
#include "auth/password.h"
#include "auth/role.h"
#include "auth/user.h"
#include "base/json.h"
#include "base/time.h"
#include "http/http.h"

struct mr_user_job {
	struct mr_req *r;
	struct mr_user user;        /* create: the new account; update: the result */
	char hash[MR_PASSWORD_HASH_MAX];
	struct mr_user_patch patch;
	int64_t id;
};

/* The role field, which must name a known role. */
static int mr_user_role_field(json_t *body, int required, int *role, struct mr_err *err)
{
	const char *s = NULL;
	int rc = mr_json_str(body, "role", required, 32, &s, err);

	*role = -1;
	if (rc < 0 || !s)
		return rc;
	*role = mr_role_parse(s);
	if (*role < 0)
		return mr_err_field(err, MR_EINVAL, "role",
				    "unknown role '%s': use admin, manager, field_rep, inside_rep, msl,"
				    " marketing, compliance or analyst",
				    s);
	return 0;
}

static void mr_user_audit_id(const struct mr_user *u, char *id, size_t n)
{
	snprintf(id, n, "%lld", (long long)u->id);
}

static void mr_user_digest(struct mr_req *r, const struct mr_user *u, unsigned char *out)
{
	json_t *v = mr_user_json(u);

	mr_audit_digest(&r->app->keys, v, out);
	json_decref(v);
}

static int mr_user_create_write(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_user_job *j = arg;
	unsigned char after[MR_AUDIT_DIGEST];
	char id[24];
	int rc = mr_user_create(c, &j->user, j->hash, &j->id, err);

	if (rc == 0)
		rc = mr_user_get(c, j->id, &j->user, err);
	if (rc < 0)
		return rc;
	mr_user_digest(j->r, &j->user, after);
	mr_user_audit_id(&j->user, id, sizeof(id));
	return mr_req_audit(j->r, c, "user.create", "user", id, 201, NULL, after, err);
}

static int mr_api_users_create(struct mr_req *r, struct mr_err *err)
{
	static const char *const allowed[] = { "login", "name", "role", "rep_id", "password", NULL };
	struct mr_user_job j;
	const char *login = NULL, *name = NULL, *rep = NULL, *password = NULL;
	char generated[21];
	json_t *body = NULL, *out;
	int rc;

	memset(&j, 0, sizeof(j));
	j.r = r;
	rc = mr_req_json(r, &body, err);
	if (rc == 0)
		rc = mr_json_only(body, allowed, err);
	if (rc == 0)
		rc = mr_json_str(body, "login", 1, MR_LOGIN_MAX, &login, err);
	if (rc == 0)
		rc = mr_json_str(body, "name", 1, MR_NAME_MAX, &name, err);
	if (rc == 0)
		rc = mr_user_role_field(body, 1, &j.user.role, err);
	if (rc == 0)
		rc = mr_json_str(body, "rep_id", 0, MR_REP_ID_MAX, &rep, err);
	if (rc == 0)
		rc = mr_json_str(body, "password", 0, MR_PASSWORD_MAX, &password, err);
	if (rc < 0)
		goto out;
	snprintf(j.user.login, sizeof(j.user.login), "%s", login);
	snprintf(j.user.name, sizeof(j.user.name), "%s", name);
	rc = mr_user_check_login(j.user.login, err);
	if (rc == 0)
		rc = mr_user_check_name(j.user.name, err);
	if (rc == 0 && rep && *rep) {
		rc = mr_user_check_rep_id(rep, err);
		snprintf(j.user.rep_id, sizeof(j.user.rep_id), "%s", rep);
	}
	if (rc == 0 && password)
		rc = mr_password_policy(password, err);
	if (rc < 0)
		goto out;
	if (!password) {
		mr_password_generate(generated, sizeof(generated));
		password = generated;
	}
	rc = mr_password_hash(password, j.hash, err);
	if (rc == 0)
		rc = mr_req_write(r, mr_user_create_write, &j, err);
	if (rc < 0)
		goto out;
	out = mr_user_json(&j.user);
	if (password == generated)
		json_object_set_new(out, "password", json_string(generated)); /* shown this once */
	rc = mr_reply_json(r, 201, out);
out:
	json_decref(body);
	return rc;
}

static int mr_user_update_write(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_user_job *j = arg;
	unsigned char before[MR_AUDIT_DIGEST], after[MR_AUDIT_DIGEST];
	struct mr_user old;
	char id[24];
	int rc = mr_user_get(c, j->id, &old, err);

	if (rc == MR_ENOTFOUND)
		return mr_err_set(err, MR_ENOTFOUND, "user %lld does not exist", (long long)j->id);
	if (rc == 0)
		rc = mr_user_update(c, j->id, &j->patch, mr_now_us(), err);
	if (rc == 0)
		rc = mr_user_get(c, j->id, &j->user, err);
	if (rc == 0 && (j->patch.password_hash || j->patch.disabled == 1)) {
		struct mr_val arg_id = mr_v_int(j->id);
		/* a new password or a disabled account ends every open session */
		rc = mr_conn_exec(c, "DELETE FROM sessions WHERE user_id = ?", &arg_id, 1, NULL, err);
	}
	if (rc < 0)
		return rc;
	mr_user_digest(j->r, &old, before);
	mr_user_digest(j->r, &j->user, after);
	mr_user_audit_id(&j->user, id, sizeof(id));
	return mr_req_audit(j->r, c, "user.update", "user", id, 200, before, after, err);
}

/* Reads the PATCH body into j->patch; strings stay borrowed from body. */
static int mr_user_patch_read(struct mr_req *r, json_t *body, struct mr_user_job *j,
			      struct mr_err *err)
{
	static const char *const allowed[] = { "name", "role", "rep_id", "status", "password", NULL };
	const char *status = NULL, *password = NULL;
	int rc = mr_json_only(body, allowed, err);

	j->patch.role = -1;
	j->patch.disabled = -1;
	if (rc == 0)
		rc = mr_json_str(body, "name", 0, MR_NAME_MAX, &j->patch.name, err);
	if (rc == 0 && j->patch.name)
		rc = mr_user_check_name(j->patch.name, err);
	if (rc == 0)
		rc = mr_user_role_field(body, 0, &j->patch.role, err);
	if (rc == 0)
		rc = mr_json_str(body, "rep_id", 0, MR_REP_ID_MAX, &j->patch.rep_id, err);
	if (rc == 0 && j->patch.rep_id && *j->patch.rep_id)
		rc = mr_user_check_rep_id(j->patch.rep_id, err);
	if (rc == 0 && json_is_null(json_object_get(body, "rep_id")))
		j->patch.rep_id = "";
	if (rc == 0)
		rc = mr_json_str(body, "status", 0, 16, &status, err);
	if (rc == 0 && status) {
		if (strcmp(status, "active") != 0 && strcmp(status, "disabled") != 0)
			return mr_err_field(err, MR_EINVAL, "status", "status is 'active' or 'disabled'");
		j->patch.disabled = strcmp(status, "disabled") == 0;
	}
	if (rc == 0)
		rc = mr_json_str(body, "password", 0, MR_PASSWORD_MAX, &password, err);
	if (rc == 0 && password)
		rc = mr_password_policy(password, err);
	if (rc < 0)
		return rc;
	if (j->id == r->who.user.id && (j->patch.disabled == 1 ||
					(j->patch.role >= 0 && j->patch.role != MR_ROLE_ADMIN)))
		return mr_err_set(err, MR_EUNPROC,
				  "you cannot disable your own account or take away your own admin role;"
				  " ask another admin");
	if (password) {
		rc = mr_password_hash(password, j->hash, err);
		j->patch.password_hash = j->hash;
	}
	return rc;
}

static int mr_api_users_update(struct mr_req *r, struct mr_err *err)
{
	struct mr_user_job j;
	json_t *body = NULL;
	int rc;

	memset(&j, 0, sizeof(j));
	j.r = r;
	rc = mr_req_param_id(r, "id", &j.id, err);
	if (rc == 0)
		rc = mr_req_json(r, &body, err);
	if (rc == 0)
		rc = mr_user_patch_read(r, body, &j, err);
	if (rc == 0)
		rc = mr_req_write(r, mr_user_update_write, &j, err);
	if (rc == 0) {
		/* a new role, status or password must hold from the next request on */
		mr_authcache_clear(r->app->authcache);
		rc = mr_reply_json(r, 200, mr_user_json(&j.user));
	}
	json_decref(body);
	return rc;
}

static int mr_api_users_get(struct mr_req *r, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	struct mr_user u;
	int64_t id;
	int rc = mr_req_param_id(r, "id", &id, err);

	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc < 0)
		return rc;
	rc = mr_user_get(c, id, &u, err);
	mr_req_done_conn(r, c);
	if (rc == MR_ENOTFOUND)
		return mr_err_set(err, MR_ENOTFOUND, "user %lld does not exist", (long long)id);
	if (rc == 0)
		rc = mr_req_audit_read(r, "user.read", "user", mr_req_param(r, "id"), err);
	if (rc == 0)
		rc = mr_reply_json(r, 200, mr_user_json(&u));
	return rc;
}

static int mr_api_users_list(struct mr_req *r, struct mr_err *err)
{
	struct mr_user_filter f;
	struct mr_conn *c = NULL;
	const char *role = NULL;
	json_t *items;
	int64_t next = 0;
	int rc;

	memset(&f, 0, sizeof(f));
	f.role = -1;
	rc = mr_req_paging(r, &f.limit, &f.after_id, err);
	if (rc == 0)
		rc = mr_req_query(r, "role", &role, err);
	if (rc == 0 && role) {
		f.role = mr_role_parse(role);
		if (f.role < 0)
			rc = mr_err_field(err, MR_EINVAL, "role", "unknown role '%s'", role);
	}
	if (rc == 0)
		rc = mr_req_query(r, "q", &f.q, err);
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc < 0)
		return rc;
	items = json_array();
	rc = mr_user_list(c, &f, items, &next, err);
	mr_req_done_conn(r, c);
	if (rc == 0)
		rc = mr_req_audit_read(r, "user.list", "user", NULL, err);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	return mr_reply_json(r, 200, mr_page(items, next));
}

const struct mr_route mr_routes_users[] = {
	{ "GET", "/api/v1/users", mr_api_users_list, MR_ROLE_BIT(MR_ROLE_ADMIN), 0,
	  "List accounts (filter by role, q)", "users", 0 },
	{ "POST", "/api/v1/users", mr_api_users_create, MR_ROLE_BIT(MR_ROLE_ADMIN), MR_ROUTE_BODY,
	  "Create an account; without a password, one is generated and returned once", "users", 16 * 1024 },
	{ "GET", "/api/v1/users/{id}", mr_api_users_get, MR_ROLE_BIT(MR_ROLE_ADMIN), 0, "Read an account",
	  "users", 0 },
	{ "PATCH", "/api/v1/users/{id}", mr_api_users_update, MR_ROLE_BIT(MR_ROLE_ADMIN), MR_ROUTE_BODY,
	  "Change an account's name, role, rep link, status or password", "users", 16 * 1024 },
	{ 0 },
};
