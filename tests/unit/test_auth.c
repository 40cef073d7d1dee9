/*
 * Unit tests of src/auth: password policy and argon2id hashes, accounts,
 * API tokens and sessions (hashed at rest, expiry, revocation, disabled
 * accounts), the login back-off, and role names.
 */
#include "unit.h"

#include <sodium.h>

#include "auth/authcache.h"
#include "auth/password.h"
#include "auth/role.h"
#include "auth/throttle.h"
#include "auth/token.h"
#include "auth/user.h"
#include "base/time.h"

static void test_password_policy_and_hash(void **state)
{
	char hash[MR_PASSWORD_HASH_MAX];
	char gen[21];
	struct mr_err err;

	(void)state;
	assert_int_equal(sodium_init() >= 0, 1);
	mr_err_clear(&err);
	assert_int_equal(mr_password_policy("short", &err), MR_EINVAL);
	assert_string_equal(err.field, "password");
	assert_int_equal(mr_password_policy("aaaaaaaaaaaa", &err), MR_EINVAL);
	assert_int_equal(mr_password_policy("correct horse battery", &err), 0);
	assert_int_equal(mr_password_hash("correct horse battery", hash, &err), 0);
	assert_non_null(strstr(hash, "$argon2id$"));
	assert_true(mr_password_verify(hash, "correct horse battery"));
	assert_false(mr_password_verify(hash, "correct horse batterz"));
	mr_password_generate(gen, sizeof(gen));
	assert_int_equal(strlen(gen), 20);
	assert_int_equal(mr_password_policy(gen, &err), 0);
}

static void test_login_and_field_checks(void **state)
{
	char login[80];
	struct mr_err err;

	(void)state;
	mr_err_clear(&err);
	snprintf(login, sizeof(login), "Zhang.San@Example.com");
	assert_int_equal(mr_user_check_login(login, &err), 0);
	assert_string_equal(login, "zhang.san@example.com");
	snprintf(login, sizeof(login), "has space");
	assert_int_equal(mr_user_check_login(login, &err), MR_EINVAL);
	snprintf(login, sizeof(login), "x");
	assert_int_equal(mr_user_check_login(login, &err), MR_EINVAL);
	assert_int_equal(mr_user_check_name("王医生", &err), 0);
	assert_int_equal(mr_user_check_name("bad\nname", &err), MR_EINVAL);
	assert_int_equal(mr_user_check_rep_id("R0042", &err), 0);
	assert_int_equal(mr_user_check_rep_id("R 42", &err), MR_EINVAL);
}

struct auth_fixture {
	struct mr_user user;
	int64_t id;
	char token[MR_SECRET_MAX + 1];
	int64_t token_id;
	char session[MR_SECRET_MAX + 1];
	char csrf[MR_CSRF_LEN + 1];
	int64_t session_id;
	int64_t now;
	char hash[MR_PASSWORD_HASH_MAX];
};

static int make_user(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct auth_fixture *f = arg;
	int rc;

	memset(&f->user, 0, sizeof(f->user));
	snprintf(f->user.login, sizeof(f->user.login), "wang");
	snprintf(f->user.name, sizeof(f->user.name), "王医生");
	f->user.role = MR_ROLE_FIELD_REP;
	snprintf(f->user.rep_id, sizeof(f->user.rep_id), "R0042");
	rc = mr_password_hash("a long password", f->hash, err);
	if (rc == 0)
		rc = mr_user_create(c, &f->user, f->hash, &f->id, err);
	if (rc == 0)
		rc = mr_token_create(c, f->id, "laptop", f->now + 3600 * MR_US_PER_S, f->token, &f->token_id, err);
	if (rc == 0)
		rc = mr_session_create(c, f->id, "127.0.0.1", f->now, 600 * MR_US_PER_S, f->session, f->csrf,
				       &f->session_id, err);
	return rc;
}

static int make_same_login(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct auth_fixture *f = arg;
	int64_t id;

	return mr_user_create(c, &f->user, f->hash, &id, err);
}

static int revoke_token(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct auth_fixture *f = arg;

	return mr_token_revoke(c, f->token_id, f->id + 1000, f->now, err) == MR_ENOTFOUND
		       ? mr_token_revoke(c, f->token_id, f->id, f->now, err)
		       : mr_err_set(err, MR_EINTERNAL, "another user revoked the token");
}

static int disable_user(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct auth_fixture *f = arg;
	struct mr_user_patch p = { NULL, -1, NULL, 1, NULL };

	return mr_user_update(c, f->id, &p, f->now, err);
}

static void test_tokens_and_sessions(void **state)
{
	struct mr_test_db db;
	struct auth_fixture f;
	struct mr_principal p;
	struct mr_conn *c = NULL;
	struct mr_err err;
	char hash[MR_PASSWORD_HASH_MAX];
	struct mr_user u;

	mr_test_db_open(&db, mr_test_backend(state));
	mr_err_clear(&err);
	memset(&f, 0, sizeof(f));
	f.now = mr_now_us();
	assert_int_equal(mr_store_write(db.store, make_user, &f, &err), 0);
	assert_int_equal(mr_store_write(db.store, make_same_login, &f, &err), MR_ECONFLICT);
	assert_string_equal(err.field, "login");
	assert_int_equal(strncmp(f.token, "mrt_", 4), 0);
	assert_int_equal(strncmp(f.session, "mrs_", 4), 0);
	assert_int_equal(mr_store_acquire(db.store, &c, &err), 0);

	/* secrets are stored only as hashes */
	{
		struct mr_val v = mr_v_text(f.token);
		int64_t n = -1;
		assert_int_equal(mr_conn_query_int(c, "SELECT COUNT(*) FROM api_tokens WHERE token_hash = ?",
						   &v, 1, &n, &err), 0);
		assert_int_equal(n, 0);
	}
	assert_int_equal(mr_user_by_login(c, "wang", &u, hash, &err), 0);
	assert_true(mr_password_verify(hash, "a long password"));
	assert_string_equal(u.name, "王医生");

	assert_int_equal(mr_token_authenticate(c, f.token, f.now, &p, &err), 0);
	assert_int_equal(p.via, MR_AUTH_TOKEN);
	assert_int_equal(p.user.id, f.id);
	assert_int_equal(p.user.role, MR_ROLE_FIELD_REP);
	assert_string_equal(p.user.rep_id, "R0042");
	/* expired an hour later */
	assert_int_equal(mr_token_authenticate(c, f.token, f.now + 3601 * MR_US_PER_S, &p, &err), MR_EAUTH);
	assert_string_equal(err.kind, "invalid_token");
	assert_int_equal(mr_token_authenticate(c, "mrt_not-a-token", f.now, &p, &err), MR_EAUTH);

	assert_int_equal(mr_session_authenticate(c, f.session, f.now, &p, &err), 0);
	assert_int_equal(p.via, MR_AUTH_SESSION);
	assert_string_equal(p.csrf, f.csrf);
	assert_int_equal(mr_session_authenticate(c, f.session, f.now + 601 * MR_US_PER_S, &p, &err), MR_EAUTH);
	assert_int_equal(mr_session_authenticate(c, f.token, f.now, &p, &err), MR_EAUTH);
	mr_store_release(db.store, c);

	/* only its owner (or an admin, owner 0) may revoke a token */
	assert_int_equal(mr_store_write(db.store, revoke_token, &f, &err), 0);
	assert_int_equal(mr_store_acquire(db.store, &c, &err), 0);
	assert_int_equal(mr_token_authenticate(c, f.token, f.now, &p, &err), MR_EAUTH);
	mr_store_release(db.store, c);

	/* a disabled account's sessions stop working */
	assert_int_equal(mr_store_write(db.store, disable_user, &f, &err), 0);
	assert_int_equal(mr_store_acquire(db.store, &c, &err), 0);
	assert_int_equal(mr_session_authenticate(c, f.session, f.now, &p, &err), MR_EAUTH);
	mr_store_release(db.store, c);
	mr_test_db_close(&db);
}

static void test_throttle_backs_off_and_resets(void **state)
{
	struct mr_throttle *t = mr_throttle_new();
	int64_t now = 1000 * MR_US_PER_S;
	int64_t retry = 0;

	(void)state;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(mr_throttle_check(t, "u:wang", now, &retry), 0);
		mr_throttle_fail(t, "u:wang", 5, now);
	}
	assert_int_equal(mr_throttle_check(t, "u:wang", now, &retry), 0);
	mr_throttle_fail(t, "u:wang", 5, now); /* the fifth: locked 1 s */
	assert_int_equal(mr_throttle_check(t, "u:wang", now, &retry), MR_ELIMIT);
	assert_int_equal(retry, 1);
	assert_int_equal(mr_throttle_check(t, "u:other", now, &retry), 0);
	now += 2 * MR_US_PER_S;
	assert_int_equal(mr_throttle_check(t, "u:wang", now, &retry), 0);
	mr_throttle_fail(t, "u:wang", 5, now); /* the sixth: 2 s */
	assert_int_equal(mr_throttle_check(t, "u:wang", now + MR_US_PER_S, &retry), MR_ELIMIT);
	for (int i = 0; i < 20; i++)
		mr_throttle_fail(t, "u:wang", 5, now);
	assert_int_equal(mr_throttle_check(t, "u:wang", now, &retry), MR_ELIMIT);
	assert_int_equal(retry, 15 * 60); /* capped */
	mr_throttle_reset(t, "u:wang");
	assert_int_equal(mr_throttle_check(t, "u:wang", now, &retry), 0);
	/* failures older than the window are forgotten */
	for (int i = 0; i < 4; i++)
		mr_throttle_fail(t, "a:1.2.3.4", 5, now);
	now += 16 * 60 * MR_US_PER_S;
	mr_throttle_fail(t, "a:1.2.3.4", 5, now);
	assert_int_equal(mr_throttle_check(t, "a:1.2.3.4", now, &retry), 0);
	mr_throttle_free(t);
}

static void test_throttle_table_stays_bounded(void **state)
{
	struct mr_throttle *t = mr_throttle_new();
	int64_t now = 1000 * MR_US_PER_S;
	int64_t retry = 0;
	char key[32];

	(void)state;
	/* a flood of distinct logins must not push a locked account out of the table */
	for (int i = 0; i < 8; i++)
		mr_throttle_fail(t, "u:target", 5, now);
	for (int i = 0; i < 50000; i++) {
		snprintf(key, sizeof(key), "u:flood%d", i);
		mr_throttle_fail(t, key, 5, now + 1);
	}
	assert_int_equal(mr_throttle_check(t, "u:target", now + 2, &retry), MR_ELIMIT);
	assert_int_equal(retry, 8);
	/* and the newest flood keys are tracked too */
	assert_int_equal(mr_throttle_check(t, "u:flood49999", now + 2, &retry), 0);
	mr_throttle_free(t);
}

static void test_authcache_serves_only_fresh_entries(void **state)
{
	struct mr_authcache *c = mr_authcache_new();
	struct mr_principal p, got;
	int64_t now = 1000 * MR_US_PER_S;
	uint64_t gen;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.user.id = 7;
	p.user.role = MR_ROLE_MSL;
	p.via = MR_AUTH_TOKEN;
	assert_false(mr_authcache_get(c, MR_AUTH_TOKEN, "mrt_a", now, &got));
	gen = mr_authcache_generation(c);
	mr_authcache_put(c, MR_AUTH_TOKEN, "mrt_a", &p, now, gen);
	assert_true(mr_authcache_get(c, MR_AUTH_TOKEN, "mrt_a", now + 1, &got));
	assert_int_equal(got.user.id, 7);
	/* the same secret presented as a session cookie is another credential */
	assert_false(mr_authcache_get(c, MR_AUTH_SESSION, "mrt_a", now + 1, &got));
	assert_false(mr_authcache_get(c, MR_AUTH_TOKEN, "mrt_b", now + 1, &got));
	/* gone after the TTL */
	assert_false(mr_authcache_get(c, MR_AUTH_TOKEN, "mrt_a", now + MR_AUTHCACHE_TTL_MS * 1000 + 1, &got));
	/* gone after a clear */
	mr_authcache_clear(c);
	assert_false(mr_authcache_get(c, MR_AUTH_TOKEN, "mrt_a", now + 1, &got));
	/* an entry read before a clear is never served, even if it lands after */
	gen = mr_authcache_generation(c);
	mr_authcache_clear(c);
	mr_authcache_put(c, MR_AUTH_TOKEN, "mrt_a", &p, now, gen);
	assert_false(mr_authcache_get(c, MR_AUTH_TOKEN, "mrt_a", now + 1, &got));
	/* never past the credential's own expiry */
	p.expires_at = now + 10;
	mr_authcache_put(c, MR_AUTH_TOKEN, "mrt_a", &p, now, mr_authcache_generation(c));
	assert_true(mr_authcache_get(c, MR_AUTH_TOKEN, "mrt_a", now + 9, &got));
	assert_false(mr_authcache_get(c, MR_AUTH_TOKEN, "mrt_a", now + 10, &got));
	mr_authcache_free(c);
}

static void test_role_names(void **state)
{
	char buf[128];

	(void)state;
	for (int r = 0; r < MR_ROLE_COUNT; r++)
		assert_int_equal(mr_role_parse(mr_role_name(r)), r);
	assert_int_equal(mr_role_parse("root"), -1);
	mr_roles_describe(MR_ROLE_BIT(MR_ROLE_ADMIN) | MR_ROLE_BIT(MR_ROLE_COMPLIANCE), buf, sizeof(buf));
	assert_string_equal(buf, "admin, compliance");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_password_policy_and_hash),
		cmocka_unit_test(test_login_and_field_checks),
		MR_TEST_BOTH(test_tokens_and_sessions),
		cmocka_unit_test(test_throttle_backs_off_and_resets),
		cmocka_unit_test(test_throttle_table_stays_bounded),
		cmocka_unit_test(test_authcache_serves_only_fresh_entries),
		cmocka_unit_test(test_role_names),
	};
	return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
