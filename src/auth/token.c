/*
 * See token.h. A secret is a prefix ("mrt_" token, "mrs_" session) and 32
 * random bytes in URL-safe base64; the prefix lets secret scanners spot a
 * leaked token. Lookups are by the hash, through a unique index.
 */
#include "auth/token.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "auth/role.h"
#include "base/json.h"
#include "base/time.h"

enum { MR_SECRET_BYTES = 32, MR_HASH_BYTES = 32 };

static void mr_secret_new(const char *prefix, char out[MR_SECRET_MAX + 1])
{
	unsigned char raw[MR_SECRET_BYTES];
	char b64[sodium_base64_ENCODED_LEN(MR_SECRET_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(out, MR_SECRET_MAX + 1, "%s%s", prefix, b64);
	sodium_memzero(raw, sizeof(raw));
}

static void mr_secret_hash(const char *secret, unsigned char out[MR_HASH_BYTES])
{
	crypto_generichash(out, MR_HASH_BYTES, (const unsigned char *)secret, strlen(secret), NULL, 0);
}

int mr_token_create(struct mr_conn *c, int64_t user_id, const char *name, int64_t expires_at,
		    char secret[MR_SECRET_MAX + 1], int64_t *id, struct mr_err *err)
{
	unsigned char hash[MR_HASH_BYTES];
	struct mr_val args[5];
	int rc;

	mr_secret_new("mrt_", secret);
	mr_secret_hash(secret, hash);
	args[0] = mr_v_int(user_id);
	args[1] = mr_v_text(name);
	args[2] = mr_v_blob(hash, sizeof(hash));
	args[3] = mr_v_int(mr_now_us());
	args[4] = expires_at ? mr_v_int(expires_at) : mr_v_null();
	rc = mr_conn_exec(c,
			  "INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at)"
			  " VALUES (?, ?, ?, ?, ?)",
			  args, 5, NULL, err);
	if (rc < 0)
		return rc;
	return mr_conn_query_int(c, "SELECT id FROM api_tokens WHERE token_hash = ?", &args[2], 1, id,
				 err);
}

int mr_token_revoke(struct mr_conn *c, int64_t id, int64_t owner, int64_t now, struct mr_err *err)
{
	struct mr_val args[3] = { mr_v_int(now), mr_v_int(id), mr_v_int(owner) };
	int64_t changes = 0;
	int rc;

	if (owner)
		rc = mr_conn_exec(c,
				  "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ?"
				  " AND revoked_at IS NULL",
				  args, 3, &changes, err);
	else
		rc = mr_conn_exec(c,
				  "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
				  args, 2, &changes, err);
	if (rc == 0 && changes == 0)
		rc = mr_err_set(err, MR_ENOTFOUND, "token %lld does not exist or is already revoked",
				(long long)id);
	return rc;
}

int mr_token_list(struct mr_conn *c, int64_t user_id, json_t *items, struct mr_err *err)
{
	struct mr_val arg = mr_v_int(user_id);
	struct mr_rows *r = NULL;
	int rc = mr_conn_query(c,
			       "SELECT id, name, created_at, expires_at, revoked_at FROM api_tokens"
			       " WHERE user_id = ? ORDER BY id DESC",
			       &arg, 1, &r, err);

	if (rc < 0)
		return rc;
	while ((rc = mr_rows_next(r, err)) == 1) {
		json_t *o = json_object();
		json_object_set_new(o, "id", json_integer(mr_rows_int(r, 0)));
		mr_json_set_str(o, "name", mr_rows_text(r, 1));
		mr_json_set_time(o, "created_at", mr_rows_int(r, 2));
		mr_json_set_time(o, "expires_at", mr_rows_isnull(r, 3) ? 0 : mr_rows_int(r, 3));
		mr_json_set_time(o, "revoked_at", mr_rows_isnull(r, 4) ? 0 : mr_rows_int(r, 4));
		json_array_append_new(items, o);
	}
	mr_rows_close(r);
	return rc < 0 ? rc : 0;
}

/* Reads the user columns (0..7), the credential id (8) and expiry (9) of an authentication query. */
static void mr_principal_read(struct mr_rows *r, struct mr_principal *p)
{
	const char *rep = mr_rows_text(r, 4);

	memset(p, 0, sizeof(*p));
	p->user.id = mr_rows_int(r, 0);
	snprintf(p->user.login, sizeof(p->user.login), "%s", mr_rows_text(r, 1));
	snprintf(p->user.name, sizeof(p->user.name), "%s", mr_rows_text(r, 2));
	p->user.role = mr_role_parse(mr_rows_text(r, 3));
	snprintf(p->user.rep_id, sizeof(p->user.rep_id), "%s", rep ? rep : "");
	p->user.created_at = mr_rows_int(r, 5);
	p->user.updated_at = mr_rows_int(r, 6);
	p->user.last_login_at = mr_rows_isnull(r, 7) ? 0 : mr_rows_int(r, 7);
	p->credential_id = mr_rows_int(r, 8);
	p->expires_at = mr_rows_isnull(r, 9) ? 0 : mr_rows_int(r, 9);
}

/* Runs an authentication query keyed by the secret's hash; MR_EAUTH when it finds nothing. */
static int mr_authenticate(struct mr_conn *c, const char *sql, const char *secret, int64_t now,
			   struct mr_principal *p, int extra_cols, struct mr_err *err)
{
	unsigned char hash[MR_HASH_BYTES];
	struct mr_val args[2];
	struct mr_rows *r = NULL;
	int rc;

	mr_secret_hash(secret, hash);
	args[0] = mr_v_blob(hash, sizeof(hash));
	args[1] = mr_v_int(now);
	rc = mr_conn_query(c, sql, args, 2, &r, err);
	if (rc < 0)
		return rc;
	rc = mr_rows_next(r, err);
	if (rc == 1) {
		mr_principal_read(r, p);
		if (extra_cols) {
			snprintf(p->csrf, sizeof(p->csrf), "%s", mr_rows_text(r, 10));
			p->login_at = mr_rows_int(r, 11);
		}
		rc = p->user.role >= 0 ? 0 : mr_err_set(err, MR_EAUTH, "the account has no valid role");
	} else if (rc == 0) {
		rc = mr_err_set(err, MR_EAUTH, "not authenticated");
	}
	mr_rows_close(r);
	return rc;
}

int mr_token_authenticate(struct mr_conn *c, const char *secret, int64_t now,
			  struct mr_principal *p, struct mr_err *err)
{
	int rc = mr_authenticate(c,
				 "SELECT u.id, u.login, u.name, u.role, u.rep_id, u.created_at, u.updated_at,"
				 " u.last_login_at, t.id, t.expires_at FROM api_tokens t"
				 " JOIN users u ON u.id = t.user_id"
				 " WHERE t.token_hash = ? AND t.revoked_at IS NULL"
				 " AND (t.expires_at IS NULL OR t.expires_at > ?) AND u.status = 'active'",
				 secret, now, p, 0, err);

	if (rc == MR_EAUTH) {
		mr_err_set(err, MR_EAUTH, "the API token is invalid, expired or revoked");
		mr_err_kind(err, "invalid_token");
	}
	if (rc == 0)
		p->via = MR_AUTH_TOKEN;
	return rc;
}

int mr_session_create(struct mr_conn *c, int64_t user_id, const char *ip, int64_t now,
		      int64_t ttl_us, char secret[MR_SECRET_MAX + 1], char csrf[MR_CSRF_LEN + 1],
		      int64_t *id, struct mr_err *err)
{
	unsigned char hash[MR_HASH_BYTES];
	unsigned char raw[MR_CSRF_LEN / 2];
	struct mr_val args[6];
	int rc;

	mr_secret_new("mrs_", secret);
	mr_secret_hash(secret, hash);
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(csrf, MR_CSRF_LEN + 1, raw, sizeof(raw));
	args[0] = mr_v_int(user_id);
	args[1] = mr_v_blob(hash, sizeof(hash));
	args[2] = mr_v_text(csrf);
	args[3] = mr_v_int(now);
	args[4] = mr_v_int(now + ttl_us);
	args[5] = mr_v_text(ip);
	rc = mr_conn_exec(c,
			  "INSERT INTO sessions (user_id, token_hash, csrf, created_at, expires_at, ip)"
			  " VALUES (?, ?, ?, ?, ?, ?)",
			  args, 6, NULL, err);
	if (rc < 0)
		return rc;
	return mr_conn_query_int(c, "SELECT id FROM sessions WHERE token_hash = ?", &args[1], 1, id, err);
}

int mr_session_delete(struct mr_conn *c, int64_t id, struct mr_err *err)
{
	struct mr_val arg = mr_v_int(id);

	return mr_conn_exec(c, "DELETE FROM sessions WHERE id = ?", &arg, 1, NULL, err);
}

int mr_session_purge(struct mr_conn *c, int64_t now, int64_t *n, struct mr_err *err)
{
	struct mr_val arg = mr_v_int(now);

	return mr_conn_exec(c, "DELETE FROM sessions WHERE expires_at <= ?", &arg, 1, n, err);
}

int mr_session_authenticate(struct mr_conn *c, const char *secret, int64_t now,
			    struct mr_principal *p, struct mr_err *err)
{
	int rc = mr_authenticate(c,
				 "SELECT u.id, u.login, u.name, u.role, u.rep_id, u.created_at, u.updated_at,"
				 " u.last_login_at, s.id, s.expires_at, s.csrf, s.created_at FROM sessions s"
				 " JOIN users u ON u.id = s.user_id"
				 " WHERE s.token_hash = ? AND s.expires_at > ? AND u.status = 'active'",
				 secret, now, p, 1, err);

	if (rc == MR_EAUTH) {
		mr_err_set(err, MR_EAUTH, "your session has ended; log in again");
		mr_err_kind(err, "session_expired");
	}
	if (rc == 0)
		p->via = MR_AUTH_SESSION;
	return rc;
}
