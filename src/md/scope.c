/*
 * Visibility follows alignments. A field, inside or MSL rep sees the HCPs
 * aligned to them now; a manager sees their team's (every rep below them
 * in the manager tree, and their own); admin and compliance see everyone;
 * analysts and marketing see everyone read-only with personal data masked.
 * A user with a rep role but no rep record sees no one.
 *
 * The scope becomes one SQL condition on an HCP id column, so every list,
 * search and count filters in the database, not after it.
 */
#include <stdio.h>
#include <string.h>

#include "auth/role.h"
#include "base/buf.h"
#include "md/md.h"
#include "md/scope.h"

/* The caller's rep row: by the account's rep link, else by the rep's user login. */
static int mr_scope_rep(struct mr_conn *c, const struct mr_user *u, int64_t *rep_id,
			struct mr_err *err)
{
	struct mr_val arg = mr_v_text(u->rep_id[0] ? u->rep_id : u->login);
	int rc = mr_conn_query_int(c,
				   u->rep_id[0] ?
				   "SELECT id FROM reps WHERE ext_id = ? AND deleted_at IS NULL" :
				   "SELECT id FROM reps WHERE user_login = ? AND deleted_at IS NULL"
				   " ORDER BY id LIMIT 1",
				   &arg, 1, rep_id, err);

	if (rc == MR_ENOTFOUND) {
		*rep_id = 0;
		mr_err_clear(err);
		return 0;
	}
	return rc;
}

int mr_scope_for(struct mr_conn *c, const struct mr_principal *p, int64_t now,
		 struct mr_scope *s, struct mr_err *err)
{
	int role = p->user.role;

	memset(s, 0, sizeof(*s));
	s->at = now;
	switch (role) {
	case MR_ROLE_ADMIN:
		s->kind = MR_SCOPE_ALL;
		return 0;
	case MR_ROLE_COMPLIANCE:
		s->kind = MR_SCOPE_ALL;
		s->read_only = 1;
		return 0;
	case MR_ROLE_ANALYST:
	case MR_ROLE_MARKETING:
		s->kind = MR_SCOPE_ALL;
		s->masked = 1;
		s->read_only = 1;
		return 0;
	default:
		break;
	}
	if (mr_scope_rep(c, &p->user, &s->rep_id, err) < 0)
		return err->code;
	if (!s->rep_id)
		s->kind = MR_SCOPE_NONE;
	else
		s->kind = role == MR_ROLE_MANAGER ? MR_SCOPE_TEAM : MR_SCOPE_REP;
	return 0;
}

void mr_scope_sql(const struct mr_scope *scope, const char *col, struct mr_buf *b,
		  struct mr_val *args, int *nargs)
{
	switch (scope->kind) {
	case MR_SCOPE_ALL:
		return;
	case MR_SCOPE_NONE:
		mr_buf_adds(b, " AND 1 = 0");
		return;
	case MR_SCOPE_REP:
		mr_buf_addf(b, " AND %s IN (SELECT a.hcp_id FROM alignments a WHERE a.rep_id = ?", col);
		args[(*nargs)++] = mr_v_int(scope->rep_id);
		break;
	case MR_SCOPE_TEAM:
		mr_buf_addf(b,
			    " AND %s IN (SELECT a.hcp_id FROM alignments a WHERE a.rep_id IN"
			    " (WITH RECURSIVE team(id) AS (SELECT CAST(? AS BIGINT) UNION"
			    " SELECT r.id FROM reps r JOIN team t ON r.manager_id = t.id"
			    " WHERE r.deleted_at IS NULL) SELECT id FROM team)", col);
		args[(*nargs)++] = mr_v_int(scope->rep_id);
		break;
	}
	mr_buf_adds(b, " AND a.deleted_at IS NULL AND a.valid_from <= ?"
		    " AND (a.valid_to IS NULL OR a.valid_to > ?))");
	args[(*nargs)++] = mr_v_int(scope->at);
	args[(*nargs)++] = mr_v_int(scope->at);
}

int mr_scope_has_hcp(struct mr_conn *c, const struct mr_scope *scope, int64_t hcp_id, int *yes,
		     struct mr_err *err)
{
	struct mr_buf sql;
	struct mr_val args[8];
	int nargs = 1, rc;
	int64_t n = 0;

	*yes = scope->kind == MR_SCOPE_ALL;
	if (*yes)
		return 0;
	args[0] = mr_v_int(hcp_id);
	mr_buf_init(&sql, 2048);
	mr_buf_adds(&sql, "SELECT COUNT(*) FROM hcps h WHERE h.id = ?");
	mr_scope_sql(scope, "h.id", &sql, args, &nargs);
	rc = mr_conn_query_int(c, mr_buf_str(&sql), args, nargs, &n, err);
	mr_buf_release(&sql);
	*yes = n > 0;
	return rc;
}
