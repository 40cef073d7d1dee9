/*
 * Logging in and out, and "who am I". Login answers the same way for an
 * unknown login, a wrong password and a disabled account, after the same
 * argon2id effort, so neither message nor timing tells which it was; and
 * failures feed the back-off (auth/throttle.h) per account and per address.
 */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/authcache.h"
#include "auth/password.h"
#include "auth/role.h"
#include "auth/throttle.h"
#include "auth/token.h"
#include "base/json.h"
#include "base/str.h"
#include "base/time.h"
#include "http/http.h"

enum { MR_LOGIN_INPUT_MAX = 256 };

struct mr_login_job {
	struct mr_req *r;
	struct mr_user user;      /* the account, on success */
	const char *attempted;    /* the login as typed (lower-cased), for failures */
	int status;               /* 200, 401 or 429 */
	char secret[MR_SECRET_MAX + 1];
	char csrf[MR_CSRF_LEN + 1];
	int64_t session_id;
	int64_t now;
};

static int mr_login_write(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_login_job *j = arg;
	struct mr_audit_rec rec;
	char id[24];
	int rc;

	memset(&rec, 0, sizeof(rec));
	rec.request_id = j->r->request_id;
	rec.ip = j->r->ip;
	rec.status = j->status;
	rec.entity = "user";
	if (j->status != 200) {
		rec.action = "auth.login_failed";
		rec.login = j->attempted;
		return mr_audit_append(c, &j->r->app->keys, &rec, NULL, err);
	}
	rc = mr_session_create(c, j->user.id, j->r->ip, j->now, j->r->app->opts.session_ttl_us,
			       j->secret, j->csrf, &j->session_id, err);
	if (rc == 0)
		rc = mr_user_touch_login(c, j->user.id, j->now, err);
	if (rc < 0)
		return rc;
	snprintf(id, sizeof(id), "%lld", (long long)j->user.id);
	rec.action = "auth.login";
	rec.user_id = j->user.id;
	rec.login = j->user.login;
	rec.role = mr_role_name(j->user.role);
	rec.entity_id = id;
	return mr_audit_append(c, &j->r->app->keys, &rec, NULL, err);
}

/* Checks login and password; fills j->user and returns 1 when they are right. */
static int mr_login_check(struct mr_req *r, const char *login, const char *password,
			  struct mr_login_job *j, struct mr_err *err)
{
	char hash[MR_PASSWORD_HASH_MAX];
	struct mr_conn *c = NULL;
	struct mr_err lookup;
	int rc = mr_req_conn(r, &c, err);

	if (rc < 0)
		return rc;
	mr_err_clear(&lookup);
	rc = mr_user_by_login(c, login, &j->user, hash, &lookup);
	mr_req_done_conn(r, c);
	if (rc == MR_ENOTFOUND) {
		mr_password_verify_dummy(password);
		return 0;
	}
	if (rc < 0) {
		*err = lookup;
		return rc;
	}
	if (!mr_password_verify(hash, password) || j->user.disabled || j->user.role < 0)
		return 0;
	return 1;
}

static int mr_login_refuse(struct mr_req *r, struct mr_login_job *j, int64_t retry_after,
			   struct mr_err *err)
{
	struct mr_err audit_err;
	int rc;

	mr_err_clear(&audit_err);
	rc = mr_req_write(r, mr_login_write, j, &audit_err);
	if (rc < 0) {
		*err = audit_err;
		return rc;
	}
	if (j->status == 429) {
		mr_err_set(err, MR_ELIMIT, "too many failed logins; try again in %lld s",
			   (long long)retry_after);
		err->retry_after_s = retry_after;
		return mr_err_kind(err, "too_many_attempts");
	}
	mr_err_set(err, MR_EAUTH, "the login or the password is wrong");
	return mr_err_kind(err, "invalid_credentials");
}

/* Reads {"login","password"}; login is lower-cased into out. */
static int mr_login_read(struct mr_req *r, json_t **body, char *login, size_t login_n,
			 const char **password, struct mr_err *err)
{
	static const char *const allowed[] = { "login", "password", NULL };
	const char *login_in = NULL;
	int rc = mr_req_json(r, body, err);

	if (rc == 0)
		rc = mr_json_only(*body, allowed, err);
	if (rc == 0)
		rc = mr_json_str(*body, "login", 1, MR_LOGIN_INPUT_MAX, &login_in, err);
	if (rc == 0)
		rc = mr_json_str(*body, "password", 1, MR_PASSWORD_MAX, password, err);
	if (rc == 0) {
		snprintf(login, login_n, "%s", login_in);
		mr_ascii_lower(login);
	}
	return rc;
}

/* Answers a good login: the session cookie and {"user","csrf_token"}. */
static int mr_login_reply(struct mr_req *r, struct mr_login_job *j)
{
	const struct mr_server_opts *o = &r->app->opts;
	char cookie[MR_SECRET_MAX + 128];
	json_t *out = json_object();

	snprintf(cookie, sizeof(cookie), "mr_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s",
		 j->secret, (long long)(o->session_ttl_us / MR_US_PER_S), o->secure_cookies ? "; Secure" : "");
	mr_reply_header(r, "Set-Cookie", cookie);
	j->user.last_login_at = j->now;
	json_object_set_new(out, "user", mr_user_json(&j->user));
	json_object_set_new(out, "csrf_token", json_string(j->csrf));
	return mr_reply_json(r, 200, out);
}

static int mr_api_login(struct mr_req *r, struct mr_err *err)
{
	struct mr_app *app = r->app;
	struct mr_login_job j;
	const char *password = NULL;
	char login[MR_LOGIN_INPUT_MAX * 4 + 1];
	char ukey[MR_LOGIN_INPUT_MAX * 4 + 8], akey[80];
	json_t *body = NULL;
	int64_t retry = 0, retry2 = 0;
	int rc;

	memset(&j, 0, sizeof(j));
	rc = mr_login_read(r, &body, login, sizeof(login), &password, err);
	if (rc < 0)
		goto out;
	snprintf(ukey, sizeof(ukey), "u:%s", login);
	snprintf(akey, sizeof(akey), "a:%s", r->ip);
	j.r = r;
	j.attempted = login;
	j.now = mr_now_us();
	if (mr_throttle_check(app->throttle, ukey, j.now, &retry) < 0 ||
	    mr_throttle_check(app->throttle, akey, j.now, &retry2) < 0) {
		j.status = 429;
		rc = mr_login_refuse(r, &j, retry > retry2 ? retry : retry2, err);
		goto out;
	}
	rc = mr_login_check(r, login, password, &j, err);
	if (rc == 0) {
		/* the lock-out runs from now, after the password check, not from the request's start */
		int64_t failed_at = mr_now_us();
		mr_throttle_fail(app->throttle, ukey, app->opts.login_free_fails, failed_at);
		mr_throttle_fail(app->throttle, akey, app->opts.addr_free_fails, failed_at);
		j.status = 401;
		rc = mr_login_refuse(r, &j, 0, err);
	} else if (rc > 0) {
		mr_throttle_reset(app->throttle, ukey);
		j.status = 200;
		rc = mr_req_write(r, mr_login_write, &j, err);
		if (rc == 0)
			rc = mr_login_reply(r, &j);
	}
out:
	json_decref(body);
	return rc;
}

static int mr_logout_write(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_req *r = arg;
	char id[24];
	int rc = 0;

	if (r->who.via == MR_AUTH_SESSION)
		rc = mr_session_delete(c, r->who.credential_id, err);
	if (rc < 0)
		return rc;
	snprintf(id, sizeof(id), "%lld", (long long)r->who.user.id);
	return mr_req_audit(r, c, "auth.logout", "user", id, 204, NULL, NULL, err);
}

static int mr_api_logout(struct mr_req *r, struct mr_err *err)
{
	int rc = mr_req_write(r, mr_logout_write, r, err);

	if (rc < 0)
		return rc;
	mr_authcache_clear(r->app->authcache);
	mr_reply_header(r, "Set-Cookie", "mr_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
	return mr_reply_empty(r, 204);
}

static int mr_api_me(struct mr_req *r, struct mr_err *err)
{
	json_t *o = mr_user_json(&r->who.user);

	(void)err;
	json_object_set_new(o, "auth", json_string(r->who.via == MR_AUTH_SESSION ? "session" : "token"));
	if (r->who.via == MR_AUTH_SESSION) {
		json_object_set_new(o, "csrf_token", json_string(r->who.csrf));
		mr_json_set_time(o, "login_at", r->who.login_at);
	}
	return mr_reply_json(r, 200, o);
}

const struct mr_route mr_routes_auth[] = {
	{ "POST", "/api/v1/auth/login", mr_api_login, MR_ROLES_PUBLIC, MR_ROUTE_BODY | MR_ROUTE_NO_CSRF,
	  "Log in with login and password; sets the session cookie and returns the CSRF token", "auth",
	  16 * 1024 },
	{ "POST", "/api/v1/auth/logout", mr_api_logout, MR_ROLES_ALL, 0, "End this session", "auth", 0 },
	{ "GET", "/api/v1/me", mr_api_me, MR_ROLES_ALL, 0, "The account making the request", "auth", 0 },
	{ 0 },
};
