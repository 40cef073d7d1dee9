/*
 * Alignments, consents and erasure (see relate.h). The one-owner rule is
 * checked here, in the write transaction, so two concurrent requests
 * cannot both become the field owner: the writer runs them one after the
 * other.
 */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"
#include "base/time.h"
#include "md/relate.h"

static int mr_in(const char *s, const char *const *set)
{
	for (int i = 0; set[i]; i++) {
		if (strcmp(s, set[i]) == 0)
			return 1;
	}
	return 0;
}

static const char *const mr_align_roles[] = { "field_owner", "inside_owner", "msl", NULL };

int mr_align_check(const struct mr_alignment *al, struct mr_err *err)
{
	if (!al->hcp || !*al->hcp)
		return mr_err_field(err, MR_EINVAL, "hcp", "hcp is required");
	if (!al->rep || !*al->rep)
		return mr_err_field(err, MR_EINVAL, "rep", "rep is required");
	if (!al->role || !mr_in(al->role, mr_align_roles))
		return mr_err_field(err, MR_EINVAL, "role",
				    "role must be field_owner, inside_owner or msl");
	if (strlen(al->product) > 64 || (*al->product && !mr_str_charset(al->product, "_-.")))
		return mr_err_field(err, MR_EINVAL, "product",
				    "product is a code of up to 64 characters of A-Z a-z 0-9 _ - .");
	if (al->valid_to && al->valid_to <= al->valid_from)
		return mr_err_field(err, MR_EINVAL, "valid_to", "valid_to must be after valid_from");
	return 0;
}

/* An existing owner that would overlap: MR_ECONFLICT naming it, or 0. */
static int mr_align_conflict(struct mr_conn *c, const struct mr_alignment *al, int64_t hcp,
			     int64_t rep, struct mr_err *err)
{
	int64_t to = al->valid_to ? al->valid_to : INT64_MAX;
	struct mr_val args[] = { mr_v_int(hcp), mr_v_text(al->role), mr_v_text(al->product),
				 mr_v_int(rep), mr_v_int(to), mr_v_int(al->valid_from) };
	struct mr_rows *rows = NULL;
	int rc;

	if (strcmp(al->role, "msl") == 0)
		return 0; /* several MSLs may cover one KOL */
	rc = mr_conn_query(c,
			   "SELECT a.id, r.ext_id, a.valid_from, a.valid_to FROM alignments a"
			   " JOIN reps r ON r.id = a.rep_id WHERE a.hcp_id = ? AND a.role = ?"
			   " AND a.product = ? AND a.rep_id <> ? AND a.deleted_at IS NULL"
			   " AND a.valid_from < ? AND (a.valid_to IS NULL OR a.valid_to > ?)"
			   " ORDER BY a.id LIMIT 1",
			   args, 6, &rows, err);
	if (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		char from[40];

		mr_time_format(mr_rows_int(rows, 2), from, sizeof(from));
		mr_err_field(err, MR_ECONFLICT, "role",
			     "HCP %s already has %s %s%s%s since %s (alignment %lld); end that"
			     " alignment first", al->hcp, al->role, mr_rows_text(rows, 1),
			     *al->product ? " for product " : "", al->product, from,
			     (long long)mr_rows_int(rows, 0));
		mr_err_kind(err, "alignment_conflict");
		rc = MR_ECONFLICT;
	}
	mr_rows_close(rows);
	return rc;
}

/* The live alignment with the same hcp, rep, role and product: its id and dates, or 0. */
static int mr_align_same(struct mr_conn *c, const struct mr_alignment *al, int64_t hcp, int64_t rep,
			 int64_t *id, int64_t *from, int64_t *to, struct mr_err *err)
{
	struct mr_val args[] = { mr_v_int(hcp), mr_v_int(rep), mr_v_text(al->role),
				 mr_v_text(al->product) };
	struct mr_rows *rows = NULL;
	int rc = mr_conn_query(c,
			       "SELECT id, valid_from, valid_to FROM alignments WHERE hcp_id = ?"
			       " AND rep_id = ? AND role = ? AND product = ? AND deleted_at IS NULL",
			       args, 4, &rows, err);

	*id = 0;
	if (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		*id = mr_rows_int(rows, 0);
		*from = mr_rows_int(rows, 1);
		*to = mr_rows_isnull(rows, 2) ? 0 : mr_rows_int(rows, 2);
		rc = 0;
	}
	mr_rows_close(rows);
	return rc;
}

static int mr_align_refs(struct mr_conn *c, const struct mr_alignment *al, int64_t *hcp,
			 int64_t *rep, struct mr_err *err)
{
	int rc = mr_md_lookup(c, &mr_md_hcp, al->hcp, hcp, err);

	if (rc == MR_ENOTFOUND)
		return mr_err_field(err, MR_EINVAL, "hcp", "HCP '%.64s' does not exist", al->hcp);
	if (rc == 0)
		rc = mr_md_lookup(c, &mr_md_rep, al->rep, rep, err);
	if (rc == MR_ENOTFOUND)
		return mr_err_field(err, MR_EINVAL, "rep", "rep '%.64s' does not exist", al->rep);
	return rc;
}

int mr_align_upsert(struct mr_conn *c, const struct mr_alignment *al, const struct mr_md_actor *who,
		    int64_t *id, int *changed, struct mr_err *err)
{
	int64_t hcp = 0, rep = 0, from = 0, to = 0;
	char desc[200];
	int rc = mr_align_refs(c, al, &hcp, &rep, err);

	*changed = 0;
	if (rc == 0)
		rc = mr_align_conflict(c, al, hcp, rep, err);
	if (rc == 0)
		rc = mr_align_same(c, al, hcp, rep, id, &from, &to, err);
	if (rc < 0)
		return rc;
	snprintf(desc, sizeof(desc), "%s %s%s%s", al->role, al->rep, *al->product ? " / " : "",
		 al->product);
	if (*id) {
		struct mr_val args[] = { mr_v_int(al->valid_from),
					 al->valid_to ? mr_v_int(al->valid_to) : mr_v_null(),
					 mr_v_int(who->now), mr_v_int(*id) };

		if (from == al->valid_from && to == al->valid_to)
			return 0;
		rc = mr_conn_exec(c, "UPDATE alignments SET valid_from = ?, valid_to = ?, updated_at = ?"
				  " WHERE id = ?", args, 4, NULL, err);
	} else {
		struct mr_val args[] = { mr_v_int(hcp), mr_v_int(rep), mr_v_text(al->role),
					 mr_v_text(al->product), mr_v_int(al->valid_from),
					 al->valid_to ? mr_v_int(al->valid_to) : mr_v_null(),
					 mr_v_int(who->now), mr_v_int(who->now) };

		rc = mr_conn_exec(c, "INSERT INTO alignments (hcp_id, rep_id, role, product, valid_from,"
				  " valid_to, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
				  args, 8, NULL, err);
		if (rc == 0)
			rc = mr_align_same(c, al, hcp, rep, id, &from, &to, err);
	}
	*changed = 1;
	if (rc == 0)
		rc = mr_md_change(c, "hcp", hcp, "alignment", NULL, desc, who, err);
	return rc;
}

int mr_align_hcp(struct mr_conn *c, int64_t id, int64_t *hcp_id, struct mr_err *err)
{
	struct mr_val arg = mr_v_int(id);
	int rc = mr_conn_query_int(c, "SELECT hcp_id FROM alignments WHERE id = ? AND deleted_at IS NULL",
				   &arg, 1, hcp_id, err);

	if (rc == MR_ENOTFOUND)
		return mr_err_set(err, MR_ENOTFOUND, "alignment %lld does not exist", (long long)id);
	return rc;
}

int mr_align_delete(struct mr_conn *c, int64_t id, const struct mr_md_actor *who, struct mr_err *err)
{
	struct mr_val args[] = { mr_v_int(who->now), mr_v_int(who->now), mr_v_int(id) };
	int64_t hcp = 0;
	char desc[40];
	int rc = mr_align_hcp(c, id, &hcp, err);

	if (rc == 0)
		rc = mr_conn_exec(c, "UPDATE alignments SET deleted_at = ?, updated_at = ? WHERE id = ?",
				  args, 3, NULL, err);
	snprintf(desc, sizeof(desc), "alignment %lld", (long long)id);
	if (rc == 0)
		rc = mr_md_change(c, "hcp", hcp, "alignment", desc, "ended", who, err);
	return rc;
}

int mr_align_list(struct mr_conn *c, const struct mr_scope *scope, int64_t hcp_id, int64_t rep_id,
		  int limit, int64_t cursor, json_t *items, int64_t *next, struct mr_err *err)
{
	struct mr_buf sql;
	struct mr_val args[12];
	struct mr_rows *rows = NULL;
	int nargs = 0, n = 0, rc;
	int64_t last = 0;

	*next = 0;
	mr_buf_init(&sql, 4096);
	mr_buf_adds(&sql, "SELECT a.id, h.ext_id, r.ext_id, r.name, r.type, a.role, a.product,"
		    " a.valid_from, a.valid_to, h.name FROM alignments a JOIN hcps h ON h.id = a.hcp_id"
		    " JOIN reps r ON r.id = a.rep_id WHERE a.deleted_at IS NULL AND a.id > ?");
	args[nargs++] = mr_v_int(cursor);
	if (hcp_id) {
		mr_buf_adds(&sql, " AND a.hcp_id = ?");
		args[nargs++] = mr_v_int(hcp_id);
	}
	if (rep_id) {
		mr_buf_adds(&sql, " AND a.rep_id = ?");
		args[nargs++] = mr_v_int(rep_id);
	}
	mr_scope_sql(scope, "a.hcp_id", &sql, args, &nargs);
	mr_buf_addf(&sql, " ORDER BY a.id LIMIT %d", limit + 1);
	rc = mr_conn_query(c, mr_buf_str(&sql), args, nargs, &rows, err);
	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		rc = 0;
		if (n == limit) {
			*next = last;
			break;
		}
		json_array_append_new(items, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:s}",
			"id", (json_int_t)mr_rows_int(rows, 0), "hcp", mr_rows_text(rows, 1),
			"rep", mr_rows_text(rows, 2), "rep_name", mr_rows_text(rows, 3),
			"rep_type", mr_rows_text(rows, 4), "role", mr_rows_text(rows, 5),
			"product", mr_rows_text(rows, 6), "valid_from", (json_int_t)mr_rows_int(rows, 7),
			"valid_to", mr_rows_isnull(rows, 8) ? json_null() : json_integer(mr_rows_int(rows, 8)),
			"hcp_name", mr_rows_text(rows, 9)));
		last = mr_rows_int(rows, 0);
		n++;
	}
	mr_rows_close(rows);
	mr_buf_release(&sql);
	return rc < 0 ? rc : 0;
}

static const char *const mr_consent_channels[] = { "phone", "wechat", "wecom", "email", "sms",
						   "meeting", "visit", NULL };
static const char *const mr_consent_purposes[] = { "promotional", "medical_info",
						   "meeting_invite", "survey", NULL };

static int mr_opt_text(const char *s, const char *field, size_t max, struct mr_err *err)
{
	if (s && (strlen(s) > max || mr_utf8_check(s, strlen(s)) != 0))
		return mr_err_field(err, MR_EINVAL, field, "%s must be UTF-8 text of at most %zu bytes",
				    field, max);
	return 0;
}

int mr_consent_check(const struct mr_consent *cs, int64_t now, struct mr_err *err)
{
	if (!cs->hcp || !*cs->hcp)
		return mr_err_field(err, MR_EINVAL, "hcp", "hcp is required");
	if (!cs->channel || !mr_in(cs->channel, mr_consent_channels))
		return mr_err_field(err, MR_EINVAL, "channel",
				    "channel must be phone, wechat, wecom, email, sms, meeting or visit");
	if (!cs->purpose || !mr_in(cs->purpose, mr_consent_purposes))
		return mr_err_field(err, MR_EINVAL, "purpose",
				    "purpose must be promotional, medical_info, meeting_invite or survey");
	if (!cs->status || (strcmp(cs->status, "opt_in") != 0 && strcmp(cs->status, "opt_out") != 0))
		return mr_err_field(err, MR_EINVAL, "status", "status must be opt_in or opt_out");
	if (cs->captured_at <= 0 || cs->captured_at > now + 300 * 1000000LL)
		return mr_err_field(err, MR_EINVAL, "captured_at",
				    "captured_at is required and cannot be in the future");
	if (mr_opt_text(cs->source, "source", 64, err) < 0 ||
	    mr_opt_text(cs->evidence, "evidence", 400, err) < 0 ||
	    mr_opt_text(cs->version, "version", 32, err) < 0)
		return err->code;
	return 0;
}

static int mr_streq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

int mr_consent_add(struct mr_conn *c, const struct mr_consent *cs, const struct mr_md_actor *who,
		   int *added, struct mr_err *err)
{
	int64_t hcp = 0;
	struct mr_rows *rows = NULL;
	int rc = mr_md_lookup(c, &mr_md_hcp, cs->hcp, &hcp, err);
	struct mr_val key[] = { mr_v_int(hcp), mr_v_text(cs->channel), mr_v_text(cs->purpose),
				mr_v_int(cs->captured_at) };

	*added = 0;
	if (rc == MR_ENOTFOUND)
		return mr_err_field(err, MR_EINVAL, "hcp", "HCP '%.64s' does not exist", cs->hcp);
	key[0] = mr_v_int(hcp);
	if (rc == 0)
		rc = mr_conn_query(c, "SELECT status, source, evidence, version FROM consents"
				   " WHERE hcp_id = ? AND channel = ? AND purpose = ? AND captured_at = ?",
				   key, 4, &rows, err);
	if (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		int same = mr_streq(mr_rows_text(rows, 0), cs->status) &&
			   mr_streq(mr_rows_text(rows, 1), cs->source) &&
			   mr_streq(mr_rows_text(rows, 2), cs->evidence) &&
			   mr_streq(mr_rows_text(rows, 3), cs->version);

		rc = same ? 0 : mr_err_field(err, MR_ECONFLICT, "captured_at",
					     "a different %s / %s consent was captured at the same time",
					     cs->channel, cs->purpose);
		mr_rows_close(rows);
		return rc;
	}
	mr_rows_close(rows);
	if (rc < 0)
		return rc;
	{
		struct mr_val args[] = { mr_v_int(hcp), mr_v_text(cs->channel), mr_v_text(cs->purpose),
					 mr_v_text(cs->status), mr_v_int(cs->captured_at),
					 mr_v_text(cs->source), mr_v_text(cs->evidence),
					 mr_v_text(cs->version), mr_v_int(who->now), mr_v_text(who->login) };
		char field[64], val[32];

		rc = mr_conn_exec(c, "INSERT INTO consents (hcp_id, channel, purpose, status, captured_at,"
				  " source, evidence, version, recorded_at, recorded_by)"
				  " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", args, 10, NULL, err);
		snprintf(field, sizeof(field), "consent.%s.%s", cs->channel, cs->purpose);
		snprintf(val, sizeof(val), "%s", cs->status);
		if (rc == 0)
			rc = mr_md_change(c, "hcp", hcp, field, NULL, val, who, err);
	}
	*added = rc == 0;
	return rc;
}

int mr_consent_list(struct mr_conn *c, int64_t hcp_id, int history, json_t *items,
		    struct mr_err *err)
{
	struct mr_val arg = mr_v_int(hcp_id);
	struct mr_rows *rows = NULL;
	int rc = mr_conn_query(c,
			       history ?
			       "SELECT channel, purpose, status, captured_at, source, evidence, version,"
			       " recorded_at, recorded_by FROM consents c WHERE hcp_id = ?"
			       " ORDER BY captured_at DESC, id DESC" :
			       "SELECT channel, purpose, status, captured_at, source, evidence, version,"
			       " recorded_at, recorded_by FROM consents c WHERE hcp_id = ?"
			       " AND NOT EXISTS (SELECT 1 FROM consents n WHERE n.hcp_id = c.hcp_id"
			       " AND n.channel = c.channel AND n.purpose = c.purpose"
			       " AND (n.captured_at > c.captured_at OR (n.captured_at = c.captured_at AND n.id > c.id)))"
			       " ORDER BY channel, purpose",
			       &arg, 1, &rows, err);

	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		rc = 0;
		json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:I, s:s?, s:s?, s:s?, s:I, s:s?}",
			"channel", mr_rows_text(rows, 0), "purpose", mr_rows_text(rows, 1),
			"status", mr_rows_text(rows, 2), "captured_at", (json_int_t)mr_rows_int(rows, 3),
			"source", mr_rows_text(rows, 4), "evidence", mr_rows_text(rows, 5),
			"version", mr_rows_text(rows, 6), "recorded_at", (json_int_t)mr_rows_int(rows, 7),
			"recorded_by", mr_rows_text(rows, 8)));
	}
	mr_rows_close(rows);
	return rc < 0 ? rc : 0;
}

int mr_hcp_erase(struct mr_conn *c, int64_t hcp_id, const struct mr_md_actor *who,
		 struct mr_err *err)
{
	struct mr_val id = mr_v_int(hcp_id);
	struct mr_val now_id[] = { mr_v_int(who->now), mr_v_int(who->now), mr_v_int(who->now),
				   mr_v_int(hcp_id) };
	int rc = mr_conn_exec(c, "DELETE FROM hcp_identities WHERE hcp_id = ?", &id, 1, NULL, err);

	if (rc == 0)
		rc = mr_conn_exec(c, "UPDATE hcps SET name = '[erased]', name_key = '', pinyin = NULL,"
				  " pinyin_key = NULL, initials = NULL, gender = NULL, attrs = NULL,"
				  " status = 'inactive', erased_at = ?, deleted_at = COALESCE(deleted_at, ?),"
				  " updated_at = ? WHERE id = ?", now_id, 4, NULL, err);
	if (rc == 0)
		rc = mr_conn_exec(c, "UPDATE consents SET evidence = NULL, recorded_by = NULL"
				  " WHERE hcp_id = ?", &id, 1, NULL, err);
	if (rc == 0)
		rc = mr_conn_exec(c, "UPDATE md_changes SET old_value = NULL, new_value = NULL"
				  " WHERE entity = 'hcp' AND entity_id = ? AND field <> '*'", &id, 1, NULL,
				  err);
	if (rc == 0)
		rc = mr_conn_exec(c, "UPDATE alignments SET deleted_at = ?, updated_at = ?"
				  " WHERE hcp_id = ? AND deleted_at IS NULL",
				  (struct mr_val[]){ now_id[0], now_id[1], id }, 3, NULL, err);
	/*
	 * The interactions stay, as anonymous facts for the KPIs (channel,
	 * outcome, time, rep); what the doctor said, in reports and in events'
	 * free-form props, goes. The events table has no index by doctor on
	 * SQLite (see 005_events.sql): an erasure reads it whole, once.
	 */
	if (rc == 0)
		rc = mr_conn_exec(c, "UPDATE interactions SET notes_enc = NULL WHERE hcp_id = ?", &id, 1, NULL,
				  err);
	if (rc == 0)
		rc = mr_conn_exec(c, "UPDATE events SET props = NULL WHERE hcp_id = ? AND props IS NOT NULL",
				  &id, 1, NULL, err);
	if (rc == 0)
		rc = mr_md_change(c, "hcp", hcp_id, "*", NULL, "erased", who, err);
	return rc;
}

int mr_affil_set(struct mr_conn *c, int64_t hcp_id, const char *hco, const char *department,
		 const char *role, const struct mr_md_actor *who, int *changed, struct mr_err *err)
{
	struct mr_rows *rows = NULL;
	int64_t hco_id = 0;
	int rc = mr_md_lookup(c, &mr_md_hco, hco, &hco_id, err);
	struct mr_val key[] = { mr_v_int(hcp_id), mr_v_int(0) };

	*changed = 0;
	if (rc == MR_ENOTFOUND)
		return mr_err_field(err, MR_EINVAL, "hco", "HCO '%.64s' does not exist", hco);
	if (mr_opt_text(department, "department", 120, err) < 0 || mr_opt_text(role, "role", 64, err) < 0)
		return err->code;
	key[1] = mr_v_int(hco_id);
	if (rc == 0)
		rc = mr_conn_query(c, "SELECT department, role FROM hcp_affiliations WHERE hcp_id = ? AND hco_id = ?",
				   key, 2, &rows, err);
	if (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		int same = mr_streq(mr_rows_text(rows, 0), department) && mr_streq(mr_rows_text(rows, 1), role);
		struct mr_val args[] = { mr_v_text(department), mr_v_text(role), mr_v_int(hcp_id), mr_v_int(hco_id) };

		mr_rows_close(rows);
		if (same)
			return 0;
		rc = mr_conn_exec(c, "UPDATE hcp_affiliations SET department = ?, role = ? WHERE hcp_id = ? AND hco_id = ?",
				  args, 4, NULL, err);
	} else {
		struct mr_val args[] = { mr_v_int(hcp_id), mr_v_int(hco_id), mr_v_text(department), mr_v_text(role),
					 mr_v_int(who->now) };

		mr_rows_close(rows);
		if (rc == 0)
			rc = mr_conn_exec(c, "INSERT INTO hcp_affiliations (hcp_id, hco_id, department, role, created_at)"
					  " VALUES (?, ?, ?, ?, ?)", args, 5, NULL, err);
	}
	*changed = rc == 0;
	if (rc == 0)
		rc = mr_md_change(c, "hcp", hcp_id, "affiliation", NULL, hco, who, err);
	return rc;
}

int mr_affil_remove(struct mr_conn *c, int64_t hcp_id, const char *hco,
		    const struct mr_md_actor *who, struct mr_err *err)
{
	struct mr_val args[] = { mr_v_int(hcp_id), mr_v_text(hco) };
	int64_t n = 0;
	int rc = mr_conn_exec(c, "DELETE FROM hcp_affiliations WHERE hcp_id = ? AND hco_id ="
			      " (SELECT id FROM hcos WHERE ext_id = ?)", args, 2, &n, err);

	if (rc == 0 && n == 0)
		return mr_err_set(err, MR_ENOTFOUND, "the HCP has no affiliation with %.64s", hco);
	if (rc == 0)
		rc = mr_md_change(c, "hcp", hcp_id, "affiliation", hco, NULL, who, err);
	return rc;
}

int mr_affil_list(struct mr_conn *c, int64_t hcp_id, json_t *items, struct mr_err *err)
{
	struct mr_val arg = mr_v_int(hcp_id);
	struct mr_rows *rows = NULL;
	int rc = mr_conn_query(c, "SELECT o.ext_id, o.name, a.department, a.role FROM hcp_affiliations a"
			       " JOIN hcos o ON o.id = a.hco_id WHERE a.hcp_id = ? ORDER BY o.ext_id",
			       &arg, 1, &rows, err);

	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		rc = 0;
		json_array_append_new(items, json_pack("{s:s, s:s, s:s?, s:s?}", "hco", mr_rows_text(rows, 0),
						       "hco_name", mr_rows_text(rows, 1), "department",
						       mr_rows_text(rows, 2), "role", mr_rows_text(rows, 3)));
	}
	mr_rows_close(rows);
	return rc < 0 ? rc : 0;
}
