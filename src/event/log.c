/*
 * See log.h. Both backends store a batch with one bulk call (mr_conn_copy):
 * SQLite straight into events, with explicit seqs following the largest
 * (the writer holds the database's write lock, so nothing else can take
 * them); PostgreSQL through COPY into a temporary staging table and one
 * INSERT ... SELECT ... ON CONFLICT (eid) DO NOTHING RETURNING, under an
 * advisory lock held to the commit, so that seqs become visible in
 * increasing order on every node and a follower of the log never skips a
 * seq that commits later.
 */
#include "event/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/time.h"
#include "crypto/pii.h"
#include "md/ident.h"

enum { MR_EVLOG_LOCK = 726174, MR_EVLOG_COLS = 15, MR_EVLOG_CHUNK = 10000 };

static const char *const mr_evlog_cols[MR_EVLOG_COLS] = {
	"seq", "eid", "ts", "hcp_id", "channel", "type", "outcome", "rep_id", "content",
	"campaign", "meeting", "duration_s", "props", "source", "received_at",
};

void mr_evlog_batch_reset(struct mr_evlog_batch *b)
{
	for (int i = 0; i < b->n; i++) {
		b->fate[i] = MR_EV_PENDING;
		b->seq[i] = 0;
		mr_err_clear(&b->why[i]);
	}
	b->stored = b->duplicates = b->rejected = 0;
	b->first_seq = b->last_seq = 0;
}

/* ------------------------------------------------------------ provisional HCPs */

/* The provisional HCP's external id: P- and the first bytes of the identity's blind index, in hex. */
static void mr_evlog_prov_ext(const struct mr_keys *k, const struct mr_event *ev, char out[32])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char bidx[MR_PII_BIDX];

	mr_pii_bidx(k, ev->id_kind, ev->id_app, ev->id_value, bidx);
	out[0] = 'P';
	out[1] = '-';
	for (int i = 0; i < 12; i++) {
		out[2 + 2 * i] = hex[bidx[i] >> 4];
		out[3 + 2 * i] = hex[bidx[i] & 15];
	}
	out[26] = '\0';
}

/* Creates the provisional HCP holding ev's identity; *id gets it. */
static int mr_evlog_provisional(struct mr_conn *c, const struct mr_keys *k,
				const struct mr_md_actor *who, const struct mr_event *ev, int64_t *id,
				struct mr_err *err)
{
	struct mr_arena a;
	struct mr_md_rec rec;
	struct mr_md_result res;
	struct mr_ident ident = { ev->id_kind, ev->id_app, ev->id_value, 0, ev->source };
	char ext[32];
	int rc;

	mr_evlog_prov_ext(k, ev, ext);
	mr_arena_init(&a);
	mr_md_rec_init(&rec, &mr_md_hcp);
	rec.ext_id = ext;
	rec.val[mr_md_field_index(&mr_md_hcp, "name")] = "未识别联系人";
	rec.val[mr_md_field_index(&mr_md_hcp, "status")] = "provisional";
	rc = mr_md_rec_check(&rec, 1, &a, err);
	if (rc == 0)
		rc = mr_md_upsert(c, k, &rec, 0, who, &res, err);
	if (rc == 0)
		rc = mr_ident_add(c, k, res.id, &ident, who, err);
	if (rc >= 0)
		*id = res.id;
	mr_arena_release(&a);
	return rc < 0 ? rc : 0;
}

/* Gives each event named by an identity its HCP: the holder's, or a new provisional one. */
static int mr_evlog_identities(struct mr_conn *c, const struct mr_keys *k,
			       const struct mr_md_actor *who, struct mr_evlog_batch *b,
			       struct mr_err *err)
{
	for (int i = 0; i < b->n; i++) {
		struct mr_event *ev = &b->ev[i];
		int rc;

		if (ev->hcp_id || b->fate[i] != MR_EV_PENDING)
			continue;
		rc = mr_ident_find(c, k, ev->id_kind, ev->id_app, ev->id_value, &ev->hcp_id, err);
		if (rc == MR_ENOTFOUND) {
			mr_err_clear(err);
			rc = mr_evlog_provisional(c, k, who, ev, &ev->hcp_id, err);
			if (rc == MR_ECONFLICT) { /* held by a deleted doctor */
				b->fate[i] = MR_EV_REJECTED;
				mr_err_field(&b->why[i], MR_EUNPROC, "identity",
					     "the %s belongs to a deleted doctor", ev->id_kind);
				b->rejected++;
				mr_err_clear(err);
				continue;
			}
		}
		if (rc < 0)
			return rc;
		/* later events of the batch with the same identity get the same HCP */
		for (int j = i + 1; j < b->n; j++) {
			struct mr_event *e2 = &b->ev[j];

			if (!e2->hcp_id && e2->id_kind && strcmp(e2->id_kind, ev->id_kind) == 0 &&
			    strcmp(e2->id_app, ev->id_app) == 0 && strcmp(e2->id_value, ev->id_value) == 0)
				e2->hcp_id = ev->hcp_id;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ rows */

static void mr_evlog_row(const struct mr_event *ev, int64_t seq, int64_t now, struct mr_val *v)
{
	v[0] = mr_v_int(seq);
	v[1] = mr_v_text(ev->id);
	v[2] = mr_v_int(ev->ts);
	v[3] = mr_v_int(ev->hcp_id);
	v[4] = mr_v_int(ev->channel);
	v[5] = mr_v_text(ev->type);
	v[6] = mr_v_int(ev->outcome);
	v[7] = ev->rep_id ? mr_v_int(ev->rep_id) : mr_v_null();
	v[8] = mr_v_text(ev->content);
	v[9] = mr_v_text(ev->campaign);
	v[10] = mr_v_text(ev->meeting);
	v[11] = ev->duration_s >= 0 ? mr_v_int(ev->duration_s) : mr_v_null();
	v[12] = mr_v_text(ev->props);
	v[13] = mr_v_text(ev->source);
	v[14] = mr_v_int(now);
}

/* SQLite: duplicates by the id set, the rest copied with the seqs that follow the largest. */
static int mr_evlog_append_sqlite(struct mr_conn *c, struct mr_evindex *ids,
				  struct mr_evlog_batch *b, int64_t now, struct mr_err *err)
{
	struct mr_val *vals = mr_malloc((size_t)b->n * MR_EVLOG_COLS * sizeof(*vals));
	uint64_t (*keys)[2] = mr_malloc(((size_t)b->n + 1) * sizeof(*keys));
	unsigned char *skip = mr_malloc((size_t)b->n + 1), *fresh = mr_malloc((size_t)b->n + 1);
	int64_t seq = 0;
	int rows = 0;
	int rc = ids ? mr_evindex_claim_stored(ids, c, err) : 0;

	if (rc == 0)
		rc = mr_conn_query_int(c, "SELECT COALESCE(MAX(seq), 0) FROM events", NULL, 0, &seq, err);
	for (int i = 0; rc == 0 && ids && i < b->n; i++) {
		if (!b->ev[i].id_key[0] && !b->ev[i].id_key[1])
			mr_evindex_id_key(ids, b->ev[i].id, b->ev[i].id_key);
		keys[i][0] = b->ev[i].id_key[0];
		keys[i][1] = b->ev[i].id_key[1];
		skip[i] = b->fate[i] != MR_EV_PENDING;
	}
	if (rc == 0 && ids)
		mr_evindex_claim_keys(ids, (const uint64_t (*)[2])keys, b->n, skip, fresh);
	for (int i = 0; rc == 0 && i < b->n; i++) {
		if (b->fate[i] != MR_EV_PENDING)
			continue;
		if (ids && !fresh[i]) {
			b->fate[i] = MR_EV_DUPLICATE;
			b->duplicates++;
			continue;
		}
		b->fate[i] = MR_EV_STORED;
		b->seq[i] = ++seq;
		mr_evlog_row(&b->ev[i], seq, now, vals + (size_t)rows * MR_EVLOG_COLS);
		rows++;
	}
	if (rc == 0)
		rc = mr_conn_copy(c, "events", mr_evlog_cols, MR_EVLOG_COLS, vals, rows, err);
	if (rc == 0 && rows > 0 && ids)
		mr_evindex_ids_advance(ids, seq);
	free(keys);
	free(skip);
	free(fresh);
	free(vals);
	return rc;
}

/* The staging table of a PostgreSQL connection, made on first use (temporary: per session). */
static int mr_evlog_staging(struct mr_conn *c, struct mr_err *err)
{
	int64_t have = 0;
	int rc = mr_conn_query_int(c, "SELECT COUNT(*) FROM pg_catalog.pg_class WHERE relname = 'events_in'"
				   " AND relpersistence = 't' AND pg_catalog.pg_table_is_visible(oid)",
				   NULL, 0, &have, err);

	if (rc == 0 && !have)
		rc = mr_conn_script(c, "CREATE TEMPORARY TABLE events_in (LIKE events INCLUDING DEFAULTS)", err);
	return rc;
}

/* PostgreSQL: COPY into the staging table, then one insert that skips ids already stored. */
static int mr_evlog_append_pg(struct mr_conn *c, struct mr_evlog_batch *b, int64_t now,
			      struct mr_err *err)
{
	struct mr_val *vals = mr_malloc((size_t)b->n * MR_EVLOG_COLS * sizeof(*vals));
	struct mr_rows *rows = NULL;
	int *order = mr_malloc(((size_t)b->n + 1) * sizeof(*order));
	int n = 0;
	int rc = mr_evlog_staging(c, err);

	if (rc == 0)
		rc = mr_conn_script(c, "DELETE FROM events_in", err);
	for (int i = 0; rc == 0 && i < b->n; i++) {
		if (b->fate[i] != MR_EV_PENDING)
			continue;
		mr_evlog_row(&b->ev[i], n + 1, now, vals + (size_t)n * MR_EVLOG_COLS); /* seq: the position */
		order[n++] = i;
	}
	if (rc == 0)
		rc = mr_conn_copy(c, "events_in", mr_evlog_cols, MR_EVLOG_COLS, vals, n, err);
	if (rc == 0)
		rc = mr_conn_query(c,
				   "INSERT INTO events (eid, ts, hcp_id, channel, type, outcome, rep_id, content,"
				   " campaign, meeting, duration_s, props, source, received_at)"
				   " SELECT eid, ts, hcp_id, channel, type, outcome, rep_id, content, campaign,"
				   " meeting, duration_s, props, source, received_at FROM events_in ORDER BY seq"
				   " ON CONFLICT (eid) DO NOTHING RETURNING seq, eid",
				   NULL, 0, &rows, err);
	/* RETURNING comes in insert order, which follows the staging order: match ids forward */
	for (int k = 0; rc == 0 && (rc = mr_rows_next(rows, err)) == 1;) {
		const char *eid = mr_rows_text(rows, 1);

		rc = 0;
		while (k < n && strcmp(b->ev[order[k]].id, eid) != 0)
			k++;
		if (k == n) {
			rc = mr_err_set(err, MR_EINTERNAL, "event %s came back from the insert out of order", eid);
			break;
		}
		b->fate[order[k]] = MR_EV_STORED;
		b->seq[order[k]] = mr_rows_int(rows, 0);
		k++;
	}
	mr_rows_close(rows);
	for (int k = 0; rc == 0 && k < n; k++) {
		if (b->fate[order[k]] == MR_EV_PENDING) {
			b->fate[order[k]] = MR_EV_DUPLICATE;
			b->duplicates++;
		}
	}
	free(order);
	free(vals);
	return rc < 0 ? rc : 0;
}

int mr_evlog_append(struct mr_conn *c, struct mr_evindex *ids, const struct mr_keys *k,
		    const struct mr_md_actor *who, struct mr_evlog_batch *b, struct mr_err *err)
{
	int pg = mr_conn_kind(c) == MR_STORE_PG;
	int rc = 0;

	if (pg) {
		char lock[64];

		snprintf(lock, sizeof(lock), "SELECT pg_advisory_xact_lock(%d)", MR_EVLOG_LOCK);
		rc = mr_conn_script(c, lock, err);
	}
	if (rc == 0)
		rc = mr_evlog_identities(c, k, who, b, err);
	if (rc == 0)
		rc = pg ? mr_evlog_append_pg(c, b, who->now, err) :
			  mr_evlog_append_sqlite(c, ids, b, who->now, err);
	if (rc < 0)
		return rc;
	for (int i = 0; i < b->n; i++) {
		if (b->fate[i] != MR_EV_STORED)
			continue;
		b->stored++;
		if (!b->first_seq || b->seq[i] < b->first_seq)
			b->first_seq = b->seq[i];
		if (b->seq[i] > b->last_seq)
			b->last_seq = b->seq[i];
	}
	return 0;
}

void mr_evlog_undo(struct mr_evindex *ids, const struct mr_evlog_batch *b)
{
	if (!ids)
		return;
	for (int i = 0; i < b->n; i++) {
		if (b->fate[i] == MR_EV_STORED)
			mr_evindex_unclaim_key(ids, b->ev[i].id_key);
	}
	if (b->first_seq)
		mr_evindex_ids_rewind(ids, b->first_seq);
}

static int mr_evlog_cmp_seq(const void *x, const void *y)
{
	const struct mr_evref *a = x, *b = y;

	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void mr_evlog_encode(struct mr_evindex *x, struct mr_event *ev, int n)
{
	for (int i = 0; i < n; i++) {
		if (!ev[i].attr)
			ev[i].attr = mr_evindex_attr(x, ev[i].type, ev[i].content, ev[i].campaign, ev[i].meeting);
	}
}

int mr_evlog_refs(struct mr_evindex *x, const struct mr_evlog_batch *b, struct mr_evref *out)
{
	int n = 0;

	for (int i = 0; i < b->n; i++) {
		const struct mr_event *ev = &b->ev[i];

		if (b->fate[i] != MR_EV_STORED)
			continue;
		out[n].seq = b->seq[i];
		out[n].ts = ev->ts;
		out[n].hcp = (uint32_t)ev->hcp_id;
		out[n].rep = (uint32_t)ev->rep_id;
		out[n].attr = ev->attr ? ev->attr :
			      mr_evindex_attr(x, ev->type, ev->content, ev->campaign, ev->meeting);
		out[n].dur = ev->duration_s >= 0 ? (uint32_t)ev->duration_s + 1 : 0;
		out[n].channel = (uint8_t)ev->channel;
		out[n].outcome = (uint8_t)ev->outcome;
		n++;
	}
	for (int i = 1; i < n; i++) {
		if (out[i].seq < out[i - 1].seq) { /* PostgreSQL may give seqs out of batch order */
			qsort(out, (size_t)n, sizeof(*out), mr_evlog_cmp_seq);
			break;
		}
	}
	return n;
}

/* ------------------------------------------------------------ reading */

#define MR_EVLOG_SELECT                                                                           \
	"SELECT e.seq, e.eid, e.ts, h.ext_id, e.channel, e.type, e.outcome, r.ext_id, r.name, r.type," \
	" e.content, e.campaign, e.meeting, e.duration_s, e.props, e.source, e.received_at"           \
	" FROM events e JOIN hcps h ON h.id = e.hcp_id LEFT JOIN reps r ON r.id = e.rep_id"

/* The current row as the API shows an event. */
static json_t *mr_evlog_row_json(struct mr_rows *rows, int with_props)
{
	int ch = (int)mr_rows_int(rows, 4);
	json_t *o = json_object();

	json_object_set_new(o, "seq", json_integer(mr_rows_int(rows, 0)));
	mr_json_set_str(o, "id", mr_rows_text(rows, 1));
	mr_json_set_time(o, "ts", mr_rows_int(rows, 2));
	mr_json_set_str(o, "hcp", mr_rows_text(rows, 3));
	mr_json_set_str(o, "channel", mr_channel_name(ch));
	mr_json_set_str(o, "type", mr_rows_text(rows, 5));
	mr_json_set_str(o, "outcome", mr_outcome_name(ch, (int)mr_rows_int(rows, 6)));
	if (mr_rows_text(rows, 7))
		json_object_set_new(o, "rep", json_pack("{s:s, s:s?, s:s?}", "id", mr_rows_text(rows, 7),
							"name", mr_rows_text(rows, 8), "type",
							mr_rows_text(rows, 9)));
	else
		json_object_set_new(o, "rep", json_null());
	mr_json_set_str(o, "content", mr_rows_text(rows, 10));
	mr_json_set_str(o, "campaign", mr_rows_text(rows, 11));
	mr_json_set_str(o, "meeting", mr_rows_text(rows, 12));
	json_object_set_new(o, "duration_s", mr_rows_isnull(rows, 13) ? json_null() :
					     json_integer(mr_rows_int(rows, 13)));
	if (with_props && mr_rows_text(rows, 14)) {
		json_t *p = json_loads(mr_rows_text(rows, 14), 0, NULL);

		json_object_set_new(o, "props", p ? p : json_object());
	} else {
		json_object_set_new(o, "props", json_object());
	}
	mr_json_set_str(o, "source", mr_rows_text(rows, 15));
	mr_json_set_time(o, "received_at", mr_rows_int(rows, 16));
	return o;
}

int mr_evlog_by_seqs(struct mr_conn *c, const int64_t *seqs, int n, int with_props, json_t *items,
		     struct mr_err *err)
{
	struct mr_buf sql;
	struct mr_val args[512];
	struct mr_rows *rows = NULL;
	json_t **got;
	int rc;

	if (n <= 0)
		return 0;
	if (n > (int)(sizeof(args) / sizeof(args[0])))
		return mr_err_set(err, MR_EINTERNAL, "%d events asked at once", n);
	mr_buf_init(&sql, 65536);
	mr_buf_adds(&sql, MR_EVLOG_SELECT " WHERE e.seq IN (");
	for (int i = 0; i < n; i++) {
		args[i] = mr_v_int(seqs[i]);
		mr_buf_adds(&sql, i ? ", ?" : "?");
	}
	mr_buf_adds(&sql, ")");
	got = mr_calloc((size_t)n, sizeof(*got));
	rc = mr_conn_query(c, mr_buf_str(&sql), args, n, &rows, err);
	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		int64_t seq = mr_rows_int(rows, 0);

		rc = 0;
		for (int i = 0; i < n; i++) {
			if (seqs[i] == seq && !got[i]) {
				got[i] = mr_evlog_row_json(rows, with_props);
				break;
			}
		}
	}
	for (int i = 0; i < n; i++) {
		if (got[i])
			json_array_append_new(items, got[i]);
	}
	mr_rows_close(rows);
	free(got);
	mr_buf_release(&sql);
	return rc < 0 ? rc : 0;
}

int mr_evlog_range(struct mr_conn *c, int64_t after_seq, int limit, const struct mr_scope *scope,
		   int with_props, json_t *items, int64_t *last_seq, struct mr_err *err)
{
	struct mr_buf sql;
	struct mr_val args[16];
	struct mr_rows *rows = NULL;
	int nargs = 1, rc;

	*last_seq = after_seq;
	args[0] = mr_v_int(after_seq);
	mr_buf_init(&sql, 8192);
	mr_buf_adds(&sql, MR_EVLOG_SELECT " WHERE e.seq > ?");
	if (scope)
		mr_scope_sql(scope, "COALESCE(h.merged_into, h.id)", &sql, args, &nargs);
	mr_buf_addf(&sql, " ORDER BY e.seq LIMIT %d", limit);
	rc = mr_conn_query(c, mr_buf_str(&sql), args, nargs, &rows, err);
	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		rc = 0;
		*last_seq = mr_rows_int(rows, 0);
		json_array_append_new(items, mr_evlog_row_json(rows, with_props));
	}
	mr_rows_close(rows);
	mr_buf_release(&sql);
	return rc < 0 ? rc : 0;
}

/* An event as the API shows it turned into the import format: rep by id, no store-only fields. */
static void mr_evlog_importable(json_t *o)
{
	static const char *const optional[] = { "content", "campaign", "meeting", "duration_s", NULL };
	json_t *rep = json_object_get(o, "rep");

	if (json_is_object(rep))
		json_object_set(o, "rep", json_object_get(rep, "id"));
	else
		json_object_del(o, "rep");
	for (int i = 0; optional[i]; i++) {
		if (json_is_null(json_object_get(o, optional[i])))
			json_object_del(o, optional[i]);
	}
	if (json_object_size(json_object_get(o, "props")) == 0)
		json_object_del(o, "props");
	json_object_del(o, "seq");
	json_object_del(o, "received_at");
}

int mr_evlog_export(struct mr_conn *c, int64_t after_seq, mr_evlog_each_fn fn, void *arg,
		    struct mr_err *err)
{
	int64_t at = after_seq, last = after_seq;
	int rc = 0;

	do {
		json_t *items = json_array();
		size_t i;
		json_t *it;

		at = last;
		rc = mr_evlog_range(c, at, MR_EVLOG_CHUNK, NULL, 1, items, &last, err);
		json_array_foreach(items, i, it) {
			if (rc < 0)
				break;
			mr_evlog_importable(it);
			rc = fn(arg, it, err);
		}
		json_decref(items);
	} while (rc == 0 && last != at);
	return rc;
}
