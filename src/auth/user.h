/*
 * Accounts: who may log in, with which role, linked to which rep. Logins
 * are case-insensitive (stored lower-case). The password hash never leaves
 * this module except to mr_password_verify.
 */
#ifndef MR_AUTH_USER_H
#define MR_AUTH_USER_H

#include <jansson.h>
#include <stdint.h>

#include "auth/password.h"
#include "store/store.h"

enum {
	MR_LOGIN_MAX = 64,       /* bytes, ASCII */
	MR_NAME_MAX = 100,       /* code points */
	MR_REP_ID_MAX = 64,      /* bytes */
};

struct mr_user {
	int64_t id;
	char login[MR_LOGIN_MAX + 1];
	char name[MR_NAME_MAX * 4 + 1];
	int role;
	char rep_id[MR_REP_ID_MAX + 1]; /* "" when not linked */
	int disabled;
	int64_t created_at;
	int64_t updated_at;
	int64_t last_login_at;
};

/* A change to a user: NULL / -1 fields are left as they are. */
struct mr_user_patch {
	const char *name;
	int role;              /* -1: unchanged */
	const char *rep_id;    /* "" clears the link */
	int disabled;          /* -1: unchanged */
	const char *password_hash; /* from mr_password_hash, computed before the transaction */
};

struct mr_user_filter {
	int role;         /* -1: any */
	const char *q;    /* substring of login or name, or NULL */
	int64_t after_id; /* cursor */
	int limit;
};

/* Checks and lower-cases a login in place: 2..64 of [a-z0-9._@-]. */
int mr_user_check_login(char *login, struct mr_err *err);
/* Checks a rep id: 1..64 of [A-Za-z0-9_-]. */
int mr_user_check_rep_id(const char *rep_id, struct mr_err *err);
/* Checks a display name: 1..MR_NAME_MAX code points, no control characters. */
int mr_user_check_name(const char *name, struct mr_err *err);

/*
 * Inserts a user with a password hash from mr_password_hash (hash before the
 * write transaction: argon2id is deliberately slow and must not hold up the
 * writer). MR_ECONFLICT when the login is taken.
 */
int mr_user_create(struct mr_conn *c, const struct mr_user *u, const char *password_hash,
		   int64_t *id, struct mr_err *err);
int mr_user_get(struct mr_conn *c, int64_t id, struct mr_user *out, struct mr_err *err);
/* Finds a user by login; *hash (if given) receives the password hash. MR_ENOTFOUND when none. */
int mr_user_by_login(struct mr_conn *c, const char *login, struct mr_user *out,
		     char hash[MR_PASSWORD_HASH_MAX], struct mr_err *err);
int mr_user_update(struct mr_conn *c, int64_t id, const struct mr_user_patch *p, int64_t now,
		   struct mr_err *err);
int mr_user_touch_login(struct mr_conn *c, int64_t id, int64_t now, struct mr_err *err);
/* Appends users matching f to items (oldest id first); *next_cursor is 0 at the end. */
int mr_user_list(struct mr_conn *c, const struct mr_user_filter *f, json_t *items,
		 int64_t *next_cursor, struct mr_err *err);
int mr_user_count(struct mr_conn *c, int64_t *n, struct mr_err *err);
/* The user as the API shows it (never the hash). */
json_t *mr_user_json(const struct mr_user *u);

#endif
