/*
 * Bearer secrets: API tokens (long-lived, named, revocable, optionally
 * expiring) and browser sessions (a cookie plus a CSRF token). Only a
 * BLAKE2b hash of each secret is stored, so a copy of the database lets
 * nobody in. Authenticating a secret yields a struct mr_principal: who is
 * acting, with which role, and how they proved it.
 */
#ifndef MR_AUTH_TOKEN_H
#define MR_AUTH_TOKEN_H

#include <jansson.h>
#include <stdint.h>

#include "auth/user.h"
#include "store/store.h"

enum {
	MR_SECRET_MAX = 64,     /* chars of a token or session secret, with its prefix */
	MR_CSRF_LEN = 32,       /* hex chars */
	MR_TOKEN_NAME_MAX = 100 /* code points */
};

enum mr_auth_via { MR_AUTH_NONE, MR_AUTH_TOKEN, MR_AUTH_SESSION };

struct mr_principal {
	struct mr_user user;
	enum mr_auth_via via;
	int64_t credential_id;         /* the token's or the session's id */
	char csrf[MR_CSRF_LEN + 1];    /* sessions only */
	int64_t login_at;              /* sessions: when it was created */
	int64_t expires_at;            /* when the credential expires; 0: never */
};

/* Creates an API token for user_id; writes the secret ("mrt_...") into secret, shown once. */
int mr_token_create(struct mr_conn *c, int64_t user_id, const char *name, int64_t expires_at,
		    char secret[MR_SECRET_MAX + 1], int64_t *id, struct mr_err *err);
/* Revokes token id; when owner is non-zero the token must belong to that user. */
int mr_token_revoke(struct mr_conn *c, int64_t id, int64_t owner, int64_t now, struct mr_err *err);
/* Appends user_id's tokens (newest first) to items. */
int mr_token_list(struct mr_conn *c, int64_t user_id, json_t *items, struct mr_err *err);
/* Fills *p from a live token of an active user; MR_EAUTH otherwise. */
int mr_token_authenticate(struct mr_conn *c, const char *secret, int64_t now,
			  struct mr_principal *p, struct mr_err *err);

/* Starts a session; writes its cookie secret and CSRF token. */
int mr_session_create(struct mr_conn *c, int64_t user_id, const char *ip, int64_t now,
		      int64_t ttl_us, char secret[MR_SECRET_MAX + 1], char csrf[MR_CSRF_LEN + 1],
		      int64_t *id, struct mr_err *err);
/* Ends a session (logout). */
int mr_session_delete(struct mr_conn *c, int64_t id, struct mr_err *err);
/* Deletes sessions that expired before now; *n (if given) gets how many. */
int mr_session_purge(struct mr_conn *c, int64_t now, int64_t *n, struct mr_err *err);
/* Fills *p from a live session of an active user; MR_EAUTH otherwise. */
int mr_session_authenticate(struct mr_conn *c, const char *secret, int64_t now,
			    struct mr_principal *p, struct mr_err *err);

#endif
