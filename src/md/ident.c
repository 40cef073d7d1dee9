/*
 * HCP identities at rest (see ident.h). The history of an identity change
 * shows masked values only: md_changes is read by more people than may
 * see a phone number.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "crypto/pii.h"
#include "md/ident.h"

/* The ext_id of the HCP holding (kind, app, bidx), other than hcp_id; 0 when none. */
static int mr_ident_holder(struct mr_conn *c, const char *kind, const char *app,
			   const unsigned char *bidx, int64_t hcp_id, char *ext, size_t n,
			   int64_t *row_id, struct mr_err *err)
{
	struct mr_val args[] = { mr_v_text(kind), mr_v_text(app), mr_v_blob(bidx, MR_PII_BIDX) };
	struct mr_rows *rows = NULL;
	int rc = mr_conn_query(c,
			       "SELECT i.id, i.hcp_id, h.ext_id FROM hcp_identities i"
			       " JOIN hcps h ON h.id = i.hcp_id WHERE i.kind = ? AND i.app = ? AND i.bidx = ?",
			       args, 3, &rows, err);

	*row_id = 0;
	if (rc == 0)
		rc = mr_rows_next(rows, err);
	if (rc == 1) {
		*row_id = mr_rows_int(rows, 0);
		rc = mr_rows_int(rows, 1) == hcp_id ? 0 : 1;
		snprintf(ext, n, "%s", mr_rows_text(rows, 2));
	}
	mr_rows_close(rows);
	return rc;
}

#define MR_IDENT_COLS                                                                            \
	"INSERT INTO hcp_identities (hcp_id, kind, app, value_enc, bidx, masked, is_primary,"    \
	" verified, source, created_at, updated_at) VALUES "
#define MR_IDENT_ROW "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
enum { MR_IDENT_NARGS = 11 };

static int mr_ident_conflict(const char *kind, const char *field, const char *ext,
			     struct mr_err *err)
{
	mr_err_field(err, MR_ECONFLICT, field, "this %s already belongs to HCP %s", kind, ext);
	return mr_err_kind(err, "identity_taken");
}

/* An identity row sealed and masked, as the parameters of MR_IDENT_ROW (pointing into sealed and masked). */
static int mr_ident_args(const struct mr_keys *k, int64_t hcp_id, const struct mr_ident *id,
			 int primary, const unsigned char *bidx, int64_t now,
			 unsigned char sealed[MR_PII_MAX + MR_PII_OVERHEAD],
			 char masked[MR_PII_MASK_MAX], struct mr_val *args, struct mr_err *err)
{
	size_t n = strlen(id->value);

	if (n > MR_PII_MAX)
		return mr_err_field(err, MR_EINVAL, id->kind, "%s is too long", id->kind);
	mr_pii_seal(k, id->value, n, sealed);
	mr_pii_mask(id->kind, id->value, masked);
	args[0] = mr_v_int(hcp_id);
	args[1] = mr_v_text(id->kind);
	args[2] = mr_v_text(id->app);
	args[3] = mr_v_blob(sealed, n + MR_PII_OVERHEAD);
	args[4] = mr_v_blob(bidx, MR_PII_BIDX);
	args[5] = mr_v_text(masked);
	args[6] = mr_v_int(primary);
	args[7] = mr_v_int(id->verified);
	args[8] = mr_v_text(id->source);
	args[9] = mr_v_int(now);
	args[10] = mr_v_int(now);
	return 0;
}

static int mr_ident_insert(struct mr_conn *c, const struct mr_keys *k, int64_t hcp_id,
			   const struct mr_ident *id, int primary, const unsigned char *bidx,
			   int64_t now, struct mr_err *err)
{
	unsigned char sealed[MR_PII_MAX + MR_PII_OVERHEAD];
	char masked[MR_PII_MASK_MAX];
	struct mr_val args[MR_IDENT_NARGS];
	int rc = mr_ident_args(k, hcp_id, id, primary, bidx, now, sealed, masked, args, err);

	if (rc == 0)
		rc = mr_conn_exec(c, MR_IDENT_COLS MR_IDENT_ROW, args, MR_IDENT_NARGS, NULL, err);
	return rc;
}

/* The masked value and row id of hcp_id's primary identity of kind; 0 when none. */
static int mr_ident_primary(struct mr_conn *c, int64_t hcp_id, const char *kind, char *masked,
			    size_t n, const unsigned char **bidx_out, unsigned char *bidx,
			    int64_t *row_id, struct mr_err *err)
{
	struct mr_val args[] = { mr_v_int(hcp_id), mr_v_text(kind) };
	struct mr_rows *rows = NULL;
	int rc = mr_conn_query(c,
			       "SELECT id, masked, bidx FROM hcp_identities"
			       " WHERE hcp_id = ? AND kind = ? AND is_primary = 1",
			       args, 2, &rows, err);

	*row_id = 0;
	*bidx_out = NULL;
	masked[0] = '\0';
	if (rc == 0)
		rc = mr_rows_next(rows, err);
	if (rc == 1) {
		size_t len = 0;
		const void *b = mr_rows_blob(rows, 2, &len);

		*row_id = mr_rows_int(rows, 0);
		snprintf(masked, n, "%s", mr_rows_text(rows, 1));
		if (b && len == MR_PII_BIDX) {
			memcpy(bidx, b, MR_PII_BIDX);
			*bidx_out = bidx;
		}
		rc = 0;
	}
	mr_rows_close(rows);
	return rc;
}

int mr_ident_set_primary(struct mr_conn *c, const struct mr_keys *k, int64_t hcp_id,
			 const char *kind, const char *value, const struct mr_md_actor *who,
			 struct mr_err *err)
{
	unsigned char bidx[MR_PII_BIDX], oldb[MR_PII_BIDX];
	const unsigned char *oldp = NULL;
	char old_masked[MR_PII_MASK_MAX], new_masked[MR_PII_MASK_MAX] = "", ext[80];
	int64_t old_row = 0, holder_row = 0;
	struct mr_ident id = { kind, "", value, 1, "master_data" };
	int rc = mr_ident_primary(c, hcp_id, kind, old_masked, sizeof(old_masked), &oldp, oldb,
				  &old_row, err);

	if (rc < 0)
		return rc;
	if (*value) {
		mr_pii_bidx(k, kind, "", value, bidx);
		if (oldp && memcmp(oldp, bidx, MR_PII_BIDX) == 0)
			return 0;
		rc = mr_ident_holder(c, kind, "", bidx, hcp_id, ext, sizeof(ext), &holder_row, err);
		if (rc == 1)
			return mr_ident_conflict(kind, kind, ext, err);
		if (rc < 0)
			return rc;
		mr_pii_mask(kind, value, new_masked);
	} else if (!old_row) {
		return 0;
	}
	if (old_row) {
		struct mr_val arg = mr_v_int(old_row);

		rc = mr_conn_exec(c, "DELETE FROM hcp_identities WHERE id = ?", &arg, 1, NULL, err);
	}
	if (rc == 0 && holder_row) {
		/* this HCP had the value as a secondary identity: promote it */
		struct mr_val args[] = { mr_v_int(who->now), mr_v_int(holder_row) };

		rc = mr_conn_exec(c, "UPDATE hcp_identities SET is_primary = 1, verified = 1,"
				  " updated_at = ? WHERE id = ?", args, 2, NULL, err);
	} else if (rc == 0 && *value) {
		rc = mr_ident_insert(c, k, hcp_id, &id, 1, bidx, who->now, err);
	}
	if (rc == 0)
		rc = mr_md_change(c, "hcp", hcp_id, kind, old_row ? old_masked : NULL,
				  *value ? new_masked : NULL, who, err);
	return rc < 0 ? rc : 1;
}

/* Fails with the conflict of the first of n values another HCP holds (an insert skipped one). */
static int mr_ident_new_conflict(struct mr_conn *c, int64_t hcp_id, int n,
				 const char *const *kinds, unsigned char (*bidx)[MR_PII_BIDX],
				 struct mr_err *err)
{
	char ext[80];
	int64_t row = 0;

	for (int i = 0; i < n; i++) {
		int rc = mr_ident_holder(c, kinds[i], "", bidx[i], hcp_id, ext, sizeof(ext), &row, err);

		if (rc == 1)
			return mr_ident_conflict(kinds[i], kinds[i], ext, err);
		if (rc < 0)
			return rc;
	}
	return mr_err_set(err, MR_EINTERNAL, "an identity of new HCP %lld was not stored",
			  (long long)hcp_id);
}

/*
 * Inserts n prepared identity rows. PostgreSQL: one statement that skips a
 * value held elsewhere (a failed statement would abort the transaction),
 * then the count tells. SQLite: one plain insert each, which is cheaper
 * there (a multi-row write keeps a statement journal), and a unique
 * violation undoes only that statement.
 */
static int mr_ident_insert_new(struct mr_conn *c, int64_t hcp_id, int n, const char *const *kinds,
			       unsigned char (*bidx)[MR_PII_BIDX], const struct mr_val *args,
			       struct mr_err *err)
{
	char sql[sizeof(MR_IDENT_COLS) + MR_IDENT_NEW_MAX * (sizeof(MR_IDENT_ROW) + 2) +
		 sizeof(" ON CONFLICT DO NOTHING")];
	size_t len = 0;
	int64_t added = 0;
	int rc = 0;

	if (mr_conn_kind(c) != MR_STORE_PG) {
		for (int i = 0; rc == 0 && i < n; i++)
			rc = mr_conn_exec(c, MR_IDENT_COLS MR_IDENT_ROW, args + i * MR_IDENT_NARGS,
					  MR_IDENT_NARGS, NULL, err);
		return rc == MR_ECONFLICT ? mr_ident_new_conflict(c, hcp_id, n, kinds, bidx, err) : rc;
	}
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s%s", i ? ", " : MR_IDENT_COLS,
					MR_IDENT_ROW);
	snprintf(sql + len, sizeof(sql) - len, " ON CONFLICT DO NOTHING");
	rc = mr_conn_exec(c, sql, args, n * MR_IDENT_NARGS, &added, err);
	if (rc == 0 && added != n)
		rc = mr_ident_new_conflict(c, hcp_id, n, kinds, bidx, err);
	return rc;
}

int mr_ident_prepare(const struct mr_keys *k, const char *kind, const char *value,
		     struct mr_arena *a, struct mr_ident_prep *p)
{
	size_t n = strlen(value);
	unsigned char *sealed;
	char masked[MR_PII_MASK_MAX];

	if (n > MR_PII_MAX)
		return 0;
	sealed = mr_arena_alloc(a, n + MR_PII_OVERHEAD);
	mr_pii_seal(k, value, n, sealed);
	mr_pii_bidx(k, kind, "", value, p->bidx);
	mr_pii_mask(kind, value, masked);
	p->kind = kind;
	p->value = value;
	p->sealed = sealed;
	p->sealed_len = n + MR_PII_OVERHEAD;
	p->masked = mr_arena_strdup(a, masked);
	return 1;
}

/* The parameters of MR_IDENT_ROW from a prepared value (pointing into p). */
static void mr_ident_prep_args(int64_t hcp_id, const struct mr_ident_prep *p, int64_t now,
			       struct mr_val *args)
{
	args[0] = mr_v_int(hcp_id);
	args[1] = mr_v_text(p->kind);
	args[2] = mr_v_text("");
	args[3] = mr_v_blob(p->sealed, p->sealed_len);
	args[4] = mr_v_blob(p->bidx, MR_PII_BIDX);
	args[5] = mr_v_text(p->masked);
	args[6] = mr_v_int(1);
	args[7] = mr_v_int(1);
	args[8] = mr_v_text("master_data");
	args[9] = mr_v_int(now);
	args[10] = mr_v_int(now);
}

int mr_ident_set_primaries_new(struct mr_conn *c, const struct mr_keys *k, int64_t hcp_id,
			       int n, const char *const *kinds, const char *const *values,
			       const struct mr_ident_prep *const *prep, int64_t now,
			       char (*masked)[MR_PII_MASK_MAX], struct mr_err *err)
{
	unsigned char sealed[MR_IDENT_NEW_MAX][MR_PII_MAX + MR_PII_OVERHEAD];
	unsigned char bidx[MR_IDENT_NEW_MAX][MR_PII_BIDX];
	struct mr_val args[MR_IDENT_NEW_MAX * MR_IDENT_NARGS];
	int rc = 0;

	assert(n >= 0 && n <= MR_IDENT_NEW_MAX);
	for (int i = 0; rc == 0 && i < n; i++) {
		struct mr_ident id = { kinds[i], "", values[i], 1, "master_data" };
		const struct mr_ident_prep *p = prep ? prep[i] : NULL;

		if (p && strcmp(p->kind, kinds[i]) == 0 && strcmp(p->value, values[i]) == 0) {
			memcpy(bidx[i], p->bidx, MR_PII_BIDX);
			snprintf(masked[i], MR_PII_MASK_MAX, "%s", p->masked);
			mr_ident_prep_args(hcp_id, p, now, args + i * MR_IDENT_NARGS);
			continue;
		}
		mr_pii_bidx(k, kinds[i], "", values[i], bidx[i]);
		rc = mr_ident_args(k, hcp_id, &id, 1, bidx[i], now, sealed[i], masked[i],
				   args + i * MR_IDENT_NARGS, err);
	}
	if (rc == 0 && n > 0)
		rc = mr_ident_insert_new(c, hcp_id, n, kinds, bidx, args, err);
	return rc;
}

int mr_ident_add(struct mr_conn *c, const struct mr_keys *k, int64_t hcp_id,
		 const struct mr_ident *id, const struct mr_md_actor *who, struct mr_err *err)
{
	unsigned char bidx[MR_PII_BIDX];
	char ext[80], masked[MR_PII_MASK_MAX];
	int64_t row = 0;
	int rc;

	mr_pii_bidx(k, id->kind, id->app, id->value, bidx);
	rc = mr_ident_holder(c, id->kind, id->app, bidx, hcp_id, ext, sizeof(ext), &row, err);
	if (rc == 1)
		return mr_ident_conflict(id->kind, "value", ext, err);
	if (rc < 0)
		return rc;
	if (row) {
		struct mr_val args[] = { mr_v_int(id->verified), mr_v_int(who->now), mr_v_int(row) };

		if (!id->verified)
			return 0;
		return mr_conn_exec(c, "UPDATE hcp_identities SET verified = ?, updated_at = ?"
				    " WHERE id = ? AND verified = 0", args, 3, NULL, err);
	}
	rc = mr_ident_insert(c, k, hcp_id, id, 0, bidx, who->now, err);
	mr_pii_mask(id->kind, id->value, masked);
	if (rc == 0)
		rc = mr_md_change(c, "hcp", hcp_id, id->kind, NULL, masked, who, err);
	return rc < 0 ? rc : 1;
}

int mr_ident_remove(struct mr_conn *c, int64_t hcp_id, int64_t ident_id,
		    const struct mr_md_actor *who, struct mr_err *err)
{
	struct mr_val args[] = { mr_v_int(ident_id), mr_v_int(hcp_id) };
	struct mr_rows *rows = NULL;
	char kind[40] = "", masked[MR_PII_MASK_MAX] = "";
	int64_t n = 0;
	int rc = mr_conn_query(c, "SELECT kind, masked FROM hcp_identities WHERE id = ? AND hcp_id = ?",
			       args, 2, &rows, err);

	if (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		snprintf(kind, sizeof(kind), "%s", mr_rows_text(rows, 0));
		snprintf(masked, sizeof(masked), "%s", mr_rows_text(rows, 1));
		rc = 0;
	} else if (rc == 0) {
		rc = mr_err_set(err, MR_ENOTFOUND, "the HCP has no identity %lld", (long long)ident_id);
	}
	mr_rows_close(rows);
	if (rc == 0)
		rc = mr_conn_exec(c, "DELETE FROM hcp_identities WHERE id = ? AND hcp_id = ?", args, 2,
				  &n, err);
	if (rc == 0)
		rc = mr_md_change(c, "hcp", hcp_id, kind, masked, NULL, who, err);
	return rc;
}

int mr_ident_find(struct mr_conn *c, const struct mr_keys *k, const char *kind, const char *app,
		  const char *value, int64_t *hcp_id, struct mr_err *err)
{
	unsigned char bidx[MR_PII_BIDX];
	struct mr_val args[3];

	mr_pii_bidx(k, kind, app, value, bidx);
	args[0] = mr_v_text(kind);
	args[1] = mr_v_text(app);
	args[2] = mr_v_blob(bidx, MR_PII_BIDX);
	return mr_conn_query_int(c,
				 "SELECT COALESCE(h.merged_into, h.id) FROM hcp_identities i"
				 " JOIN hcps h ON h.id = i.hcp_id"
				 " WHERE i.kind = ? AND i.app = ? AND i.bidx = ? AND h.deleted_at IS NULL",
				 args, 3, hcp_id, err);
}

int mr_ident_list(struct mr_conn *c, const struct mr_keys *k, int64_t hcp_id, int unmask,
		  json_t *items, struct mr_err *err)
{
	struct mr_val arg = mr_v_int(hcp_id);
	struct mr_rows *rows = NULL;
	char plain[MR_PII_MAX + 1];
	int rc = mr_conn_query(c,
			       "SELECT id, kind, app, masked, value_enc, is_primary, verified, source"
			       " FROM hcp_identities WHERE hcp_id = ? ORDER BY kind, is_primary DESC, id",
			       &arg, 1, &rows, err);

	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		const char *value = mr_rows_text(rows, 3);
		size_t n = 0;
		const void *sealed = mr_rows_blob(rows, 4, &n);

		rc = 0;
		if (unmask) {
			rc = mr_pii_open(k, sealed, n, plain, sizeof(plain), err);
			value = plain;
		}
		json_array_append_new(items, json_pack("{s:I, s:s, s:s, s:s, s:b, s:b, s:s?}",
						       "id", (json_int_t)mr_rows_int(rows, 0),
						       "kind", mr_rows_text(rows, 1),
						       "app", mr_rows_text(rows, 2),
						       "value", rc == 0 ? value : "",
						       "primary", (int)mr_rows_int(rows, 5),
						       "verified", (int)mr_rows_int(rows, 6),
						       "source", mr_rows_text(rows, 7)));
	}
	mr_rows_close(rows);
	return rc < 0 ? rc : 0;
}
