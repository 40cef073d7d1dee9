/*
 * See user.h. Every statement is parameterised; a disabled user keeps its
 * row (and its audit history) but can no longer authenticate.
 */
#include "auth/user.h"

#include <stdio.h>
#include <string.h>

#include "auth/role.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/str.h"
#include "base/time.h"

static const char mr_user_cols[] =
	"id, login, name, role, rep_id, status, created_at, updated_at, last_login_at";

int mr_user_check_login(char *login, struct mr_err *err)
{
	size_t n = strlen(login);

	if (n < 2 || n > MR_LOGIN_MAX)
		return mr_err_field(err, MR_EINVAL, "login", "a login has 2 to %d characters",
				    MR_LOGIN_MAX);
	mr_ascii_lower(login);
	if (!mr_str_charset(login, "._@-"))
		return mr_err_field(err, MR_EINVAL, "login",
				    "a login may hold only letters a-z, digits and . _ @ -");
	return 0;
}

int mr_user_check_rep_id(const char *rep_id, struct mr_err *err)
{
	if (strlen(rep_id) > MR_REP_ID_MAX || !mr_str_charset(rep_id, "_-"))
		return mr_err_field(err, MR_EINVAL, "rep_id",
				    "a rep id has 1 to %d of A-Z, a-z, 0-9, _ and -", MR_REP_ID_MAX);
	return 0;
}

int mr_user_check_name(const char *name, struct mr_err *err)
{
	size_t n = strlen(name);
	size_t cps;

	if (mr_utf8_check(name, n))
		return mr_err_field(err, MR_EINVAL, "name", "the name is not valid UTF-8");
	cps = mr_utf8_len(name, n);
	if (cps == 0 || cps > MR_NAME_MAX)
		return mr_err_field(err, MR_EINVAL, "name", "a name has 1 to %d characters",
				    MR_NAME_MAX);
	for (const char *p = name; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return mr_err_field(err, MR_EINVAL, "name",
					    "the name holds a control character");
	}
	return 0;
}

static void mr_copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static void mr_user_read(struct mr_rows *r, struct mr_user *u)
{
	const char *status = mr_rows_text(r, 5);

	memset(u, 0, sizeof(*u));
	u->id = mr_rows_int(r, 0);
	mr_copy(u->login, sizeof(u->login), mr_rows_text(r, 1));
	mr_copy(u->name, sizeof(u->name), mr_rows_text(r, 2));
	u->role = mr_role_parse(mr_rows_text(r, 3) ? mr_rows_text(r, 3) : "");
	mr_copy(u->rep_id, sizeof(u->rep_id), mr_rows_text(r, 4));
	u->disabled = status && strcmp(status, "active") != 0;
	u->created_at = mr_rows_int(r, 6);
	u->updated_at = mr_rows_int(r, 7);
	u->last_login_at = mr_rows_isnull(r, 8) ? 0 : mr_rows_int(r, 8);
}

int mr_user_create(struct mr_conn *c, const struct mr_user *u, const char *password_hash,
		   int64_t *id, struct mr_err *err)
{
	int64_t now = mr_now_us();
	struct mr_val args[8];
	int rc;

	args[0] = mr_v_text(u->login);
	args[1] = mr_v_text(u->name);
	args[2] = mr_v_text(mr_role_name(u->role));
	args[3] = mr_v_text(u->rep_id[0] ? u->rep_id : NULL);
	args[4] = mr_v_text(u->disabled ? "disabled" : "active");
	args[5] = mr_v_text(password_hash);
	args[6] = mr_v_int(now);
	args[7] = mr_v_int(now);
	rc = mr_conn_exec(c,
			  "INSERT INTO users (login, name, role, rep_id, status, password_hash,"
			  " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			  args, 8, NULL, err);
	if (rc == MR_ECONFLICT)
		return mr_err_field(err, MR_ECONFLICT, "login", "the login '%s' is already taken",
				    u->login);
	if (rc < 0)
		return rc;
	return mr_conn_query_int(c, "SELECT id FROM users WHERE login = ?", args, 1, id, err);
}

static int mr_user_fetch(struct mr_conn *c, const char *sql, struct mr_val arg, struct mr_user *out,
			 char *hash, struct mr_err *err)
{
	struct mr_rows *r = NULL;
	int rc = mr_conn_query(c, sql, &arg, 1, &r, err);

	if (rc < 0)
		return rc;
	rc = mr_rows_next(r, err);
	if (rc == 1) {
		mr_user_read(r, out);
		if (hash)
			mr_copy(hash, MR_PASSWORD_HASH_MAX, mr_rows_text(r, 9));
		rc = 0;
	} else if (rc == 0) {
		rc = mr_err_set(err, MR_ENOTFOUND, "no such user");
	}
	mr_rows_close(r);
	return rc;
}

int mr_user_get(struct mr_conn *c, int64_t id, struct mr_user *out, struct mr_err *err)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT %s FROM users WHERE id = ?", mr_user_cols);
	return mr_user_fetch(c, sql, mr_v_int(id), out, NULL, err);
}

int mr_user_by_login(struct mr_conn *c, const char *login, struct mr_user *out,
		     char hash[MR_PASSWORD_HASH_MAX], struct mr_err *err)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT %s, password_hash FROM users WHERE login = ?",
		 mr_user_cols);
	return mr_user_fetch(c, sql, mr_v_text(login), out, hash, err);
}

int mr_user_update(struct mr_conn *c, int64_t id, const struct mr_user_patch *p, int64_t now,
		   struct mr_err *err)
{
	struct mr_val args[8];
	struct mr_buf sql;
	int64_t changes = 0;
	int n = 0;
	int rc;

	mr_buf_init(&sql, 1024);
	mr_buf_adds(&sql, "UPDATE users SET updated_at = ?");
	args[n++] = mr_v_int(now);
	if (p->name) {
		mr_buf_adds(&sql, ", name = ?");
		args[n++] = mr_v_text(p->name);
	}
	if (p->role >= 0) {
		mr_buf_adds(&sql, ", role = ?");
		args[n++] = mr_v_text(mr_role_name(p->role));
	}
	if (p->rep_id) {
		mr_buf_adds(&sql, ", rep_id = ?");
		args[n++] = mr_v_text(p->rep_id[0] ? p->rep_id : NULL);
	}
	if (p->disabled >= 0) {
		mr_buf_adds(&sql, ", status = ?");
		args[n++] = mr_v_text(p->disabled ? "disabled" : "active");
	}
	if (p->password_hash) {
		mr_buf_adds(&sql, ", password_hash = ?");
		args[n++] = mr_v_text(p->password_hash);
	}
	mr_buf_adds(&sql, " WHERE id = ?");
	args[n++] = mr_v_int(id);
	rc = mr_conn_exec(c, mr_buf_str(&sql), args, n, &changes, err);
	mr_buf_release(&sql);
	if (rc == 0 && changes == 0)
		rc = mr_err_set(err, MR_ENOTFOUND, "user %lld does not exist", (long long)id);
	return rc;
}

int mr_user_touch_login(struct mr_conn *c, int64_t id, int64_t now, struct mr_err *err)
{
	struct mr_val args[2] = { mr_v_int(now), mr_v_int(id) };

	return mr_conn_exec(c, "UPDATE users SET last_login_at = ? WHERE id = ?", args, 2, NULL, err);
}

int mr_user_list(struct mr_conn *c, const struct mr_user_filter *f, json_t *items,
		 int64_t *next_cursor, struct mr_err *err)
{
	struct mr_val args[5];
	struct mr_buf sql, like;
	struct mr_rows *r = NULL;
	int n = 0, count = 0;
	int64_t last = 0;
	int rc;

	*next_cursor = 0;
	mr_buf_init(&sql, 1024);
	mr_buf_init(&like, 1024);
	mr_buf_addf(&sql, "SELECT %s FROM users WHERE id > ?", mr_user_cols);
	args[n++] = mr_v_int(f->after_id);
	if (f->role >= 0) {
		mr_buf_adds(&sql, " AND role = ?");
		args[n++] = mr_v_text(mr_role_name(f->role));
	}
	if (f->q && *f->q) {
		/* LIKE with our own escape character, so % and _ in the query match literally */
		mr_buf_addc(&like, '%');
		for (const char *p = f->q; *p; p++) {
			if (*p == '%' || *p == '_' || *p == '!')
				mr_buf_addc(&like, '!');
			mr_buf_addc(&like, *p);
		}
		mr_buf_addc(&like, '%');
		mr_buf_adds(&sql, " AND (LOWER(login) LIKE LOWER(?) ESCAPE '!' OR LOWER(name) LIKE LOWER(?) ESCAPE '!')");
		args[n++] = mr_v_text(mr_buf_str(&like));
		args[n++] = mr_v_text(mr_buf_str(&like));
	}
	mr_buf_adds(&sql, " ORDER BY id LIMIT ?");
	args[n++] = mr_v_int(f->limit + 1);
	rc = mr_conn_query(c, mr_buf_str(&sql), args, n, &r, err);
	mr_buf_release(&sql);
	if (rc == 0) {
		while ((rc = mr_rows_next(r, err)) == 1) {
			struct mr_user u;
			if (count == f->limit) {
				*next_cursor = last;
				break;
			}
			mr_user_read(r, &u);
			last = u.id;
			json_array_append_new(items, mr_user_json(&u));
			count++;
		}
		mr_rows_close(r);
		if (rc > 0)
			rc = 0;
	}
	mr_buf_release(&like);
	return rc;
}

int mr_user_count(struct mr_conn *c, int64_t *n, struct mr_err *err)
{
	return mr_conn_query_int(c, "SELECT COUNT(*) FROM users", NULL, 0, n, err);
}

json_t *mr_user_json(const struct mr_user *u)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(u->id));
	json_object_set_new(o, "login", json_string(u->login));
	json_object_set_new(o, "name", json_string(u->name));
	json_object_set_new(o, "role", json_string(mr_role_name(u->role)));
	mr_json_set_str(o, "rep_id", u->rep_id[0] ? u->rep_id : NULL);
	json_object_set_new(o, "status", json_string(u->disabled ? "disabled" : "active"));
	mr_json_set_time(o, "created_at", u->created_at);
	mr_json_set_time(o, "updated_at", u->updated_at);
	mr_json_set_time(o, "last_login_at", u->last_login_at);
	return o;
}
