/*
 * See audit.h for what the chain guarantees. Field encoding for the hash:
 * each field is a one-byte tag (0 null, 1 integer, 2 bytes) followed by an
 * 8-byte little-endian integer or length-prefixed bytes, so no two
 * different records can encode to the same input.
 */
#include "audit/audit.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/time.h"

enum { MR_AUDIT_PAGE = 5000 };

static const unsigned char mr_audit_zero[MR_AUDIT_DIGEST];

static void mr_hash_int(crypto_generichash_state *st, int64_t v)
{
	unsigned char b[9];
	uint64_t u = (uint64_t)v;

	b[0] = 1;
	for (int i = 0; i < 8; i++)
		b[1 + i] = (unsigned char)(u >> (8 * i));
	crypto_generichash_update(st, b, sizeof(b));
}

static void mr_hash_bytes(crypto_generichash_state *st, const void *p, size_t n)
{
	unsigned char b[9];

	if (!p) {
		b[0] = 0;
		crypto_generichash_update(st, b, 1);
		return;
	}
	b[0] = 2;
	for (int i = 0; i < 8; i++)
		b[1 + i] = (unsigned char)((uint64_t)n >> (8 * i));
	crypto_generichash_update(st, b, sizeof(b));
	crypto_generichash_update(st, p, n);
}

static void mr_hash_str(crypto_generichash_state *st, const char *s)
{
	mr_hash_bytes(st, s, s ? strlen(s) : 0);
}

/* A record as stored: what the chain hashes. */
struct mr_audit_row {
	int64_t seq, ts, user_id, status;
	const char *login, *role, *action, *entity, *entity_id, *request_id, *ip;
	const unsigned char *before, *after;
	size_t before_len, after_len;
};

static void mr_audit_hash(const struct mr_keys *k, const unsigned char *prev,
			  const struct mr_audit_row *r, unsigned char out[MR_AUDIT_DIGEST])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, k->audit, MR_KEY_BYTES, MR_AUDIT_DIGEST);
	crypto_generichash_update(&st, prev, MR_AUDIT_DIGEST);
	mr_hash_int(&st, r->seq);
	mr_hash_int(&st, r->ts);
	if (r->user_id)
		mr_hash_int(&st, r->user_id);
	else
		mr_hash_bytes(&st, NULL, 0);
	mr_hash_str(&st, r->login);
	mr_hash_str(&st, r->role);
	mr_hash_str(&st, r->action);
	mr_hash_str(&st, r->entity);
	mr_hash_str(&st, r->entity_id);
	mr_hash_str(&st, r->request_id);
	mr_hash_str(&st, r->ip);
	mr_hash_int(&st, r->status);
	mr_hash_bytes(&st, r->before, r->before_len);
	mr_hash_bytes(&st, r->after, r->after_len);
	crypto_generichash_final(&st, out, MR_AUDIT_DIGEST);
}

static void mr_audit_head_mac(const struct mr_keys *k, int64_t seq, const unsigned char *hash,
			      unsigned char out[MR_AUDIT_DIGEST])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, k->audit, MR_KEY_BYTES, MR_AUDIT_DIGEST);
	mr_hash_str(&st, "audit_head");
	mr_hash_int(&st, seq);
	crypto_generichash_update(&st, hash, MR_AUDIT_DIGEST);
	crypto_generichash_final(&st, out, MR_AUDIT_DIGEST);
}

void mr_audit_digest(const struct mr_keys *k, json_t *v, unsigned char out[MR_AUDIT_DIGEST])
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	crypto_generichash(out, MR_AUDIT_DIGEST, (const unsigned char *)(s ? s : ""),
			   s ? strlen(s) : 0, k->audit, MR_KEY_BYTES);
	free(s);
}

/* Reads (and on PostgreSQL locks) the head; creates it on first use. */
static int mr_audit_head(struct mr_conn *c, int64_t *seq, unsigned char hash[MR_AUDIT_DIGEST],
			 struct mr_err *err)
{
	const char *sql = mr_conn_kind(c) == MR_STORE_PG
				  ? "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE"
				  : "SELECT seq, hash FROM audit_head WHERE id = 1";
	struct mr_val init[2] = { mr_v_blob(mr_audit_zero, MR_AUDIT_DIGEST), mr_v_blob("", 0) };

	for (int attempt = 0; attempt < 2; attempt++) {
		struct mr_rows *r = NULL;
		int rc = mr_conn_query(c, sql, NULL, 0, &r, err);
		if (rc < 0)
			return rc;
		rc = mr_rows_next(r, err);
		if (rc == 1) {
			size_t n = 0;
			const void *h = mr_rows_blob(r, 1, &n);
			*seq = mr_rows_int(r, 0);
			if (n != MR_AUDIT_DIGEST) {
				mr_rows_close(r);
				return mr_err_set(err, MR_EINTERNAL, "the audit head is damaged");
			}
			memcpy(hash, h, MR_AUDIT_DIGEST);
		}
		mr_rows_close(r);
		if (rc < 0)
			return rc;
		if (rc == 1)
			return 0;
		rc = mr_conn_exec(c,
				  "INSERT INTO audit_head (id, seq, hash, mac) VALUES (1, 0, ?, ?)"
				  " ON CONFLICT (id) DO NOTHING",
				  init, 2, NULL, err);
		if (rc < 0)
			return rc;
	}
	return mr_err_set(err, MR_EINTERNAL, "the audit head cannot be created");
}

/* Row n of the chain after prev: fills row from rec, hash and (for the head) mac. */
static void mr_audit_chain(const struct mr_keys *k, const unsigned char *prev, int64_t seq,
			   const struct mr_audit_rec *rec, struct mr_audit_row *row,
			   unsigned char hash[MR_AUDIT_DIGEST])
{
	memset(row, 0, sizeof(*row));
	row->seq = seq;
	row->ts = rec->ts ? rec->ts : mr_now_us();
	row->user_id = rec->user_id;
	row->login = rec->login;
	row->role = rec->role;
	row->action = rec->action;
	row->entity = rec->entity;
	row->entity_id = rec->entity_id;
	row->request_id = rec->request_id;
	row->ip = rec->ip;
	row->status = rec->status;
	row->before = rec->before;
	row->before_len = rec->before ? MR_AUDIT_DIGEST : 0;
	row->after = rec->after;
	row->after_len = rec->after ? MR_AUDIT_DIGEST : 0;
	mr_audit_hash(k, prev, row, hash);
}

enum { MR_AUDIT_NCOLS = 15 };

static const char *const mr_audit_insert_cols[MR_AUDIT_NCOLS] = {
	"seq", "ts", "user_id", "login", "role", "action", "entity", "entity_id",
	"request_id", "ip", "status", "before_digest", "after_digest", "prev_hash", "hash",
};

static void mr_audit_args(const struct mr_audit_row *row, const unsigned char *prev,
			  const unsigned char *hash, struct mr_val *args)
{
	args[0] = mr_v_int(row->seq);
	args[1] = mr_v_int(row->ts);
	args[2] = row->user_id ? mr_v_int(row->user_id) : mr_v_null();
	args[3] = mr_v_text(row->login);
	args[4] = mr_v_text(row->role);
	args[5] = mr_v_text(row->action);
	args[6] = mr_v_text(row->entity);
	args[7] = mr_v_text(row->entity_id);
	args[8] = mr_v_text(row->request_id);
	args[9] = mr_v_text(row->ip);
	args[10] = mr_v_int(row->status);
	args[11] = mr_v_blob(row->before, row->before_len);
	args[12] = mr_v_blob(row->after, row->after_len);
	args[13] = mr_v_blob(prev, MR_AUDIT_DIGEST);
	args[14] = mr_v_blob(hash, MR_AUDIT_DIGEST);
}

static int mr_audit_set_head(struct mr_conn *c, const struct mr_keys *k, int64_t seq,
			     const unsigned char *hash, struct mr_err *err)
{
	unsigned char mac[MR_AUDIT_DIGEST];
	struct mr_val head[3];

	mr_audit_head_mac(k, seq, hash, mac);
	head[0] = mr_v_int(seq);
	head[1] = mr_v_blob(hash, MR_AUDIT_DIGEST);
	head[2] = mr_v_blob(mac, MR_AUDIT_DIGEST);
	return mr_conn_exec(c, "UPDATE audit_head SET seq = ?, hash = ?, mac = ? WHERE id = 1", head, 3,
			    NULL, err);
}

int mr_audit_append(struct mr_conn *c, const struct mr_keys *k, const struct mr_audit_rec *rec,
		    int64_t *seq_out, struct mr_err *err)
{
	unsigned char prev[MR_AUDIT_DIGEST], hash[MR_AUDIT_DIGEST];
	struct mr_audit_row row;
	struct mr_val args[MR_AUDIT_NCOLS];
	int64_t seq = 0;
	int rc = mr_audit_head(c, &seq, prev, err);

	if (rc < 0)
		return rc;
	mr_audit_chain(k, prev, seq + 1, rec, &row, hash);
	mr_audit_args(&row, prev, hash, args);
	rc = mr_conn_exec(c,
			  "INSERT INTO audit_log (seq, ts, user_id, login, role, action, entity, entity_id,"
			  " request_id, ip, status, before_digest, after_digest, prev_hash, hash)"
			  " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			  args, MR_AUDIT_NCOLS, NULL, err);
	if (rc == 0)
		rc = mr_audit_set_head(c, k, row.seq, hash, err);
	if (rc == 0 && seq_out)
		*seq_out = row.seq;
	return rc;
}

int mr_audit_append_many(struct mr_conn *c, const struct mr_keys *k,
			 const struct mr_audit_rec *const *recs, int n, struct mr_err *err)
{
	unsigned char (*hashes)[MR_AUDIT_DIGEST];
	struct mr_audit_row *rows;
	struct mr_val *args;
	int64_t seq = 0;
	int rc;

	if (n <= 0)
		return 0;
	if (n == 1)
		return mr_audit_append(c, k, recs[0], NULL, err);
	hashes = mr_malloc(((size_t)n + 1) * sizeof(*hashes));
	rc = mr_audit_head(c, &seq, hashes[0], err);
	if (rc < 0) {
		free(hashes);
		return rc;
	}
	rows = mr_malloc((size_t)n * sizeof(*rows));
	args = mr_malloc((size_t)n * MR_AUDIT_NCOLS * sizeof(*args));
	for (int i = 0; i < n; i++) {
		mr_audit_chain(k, hashes[i], seq + 1 + i, recs[i], &rows[i], hashes[i + 1]);
		mr_audit_args(&rows[i], hashes[i], hashes[i + 1], args + (size_t)i * MR_AUDIT_NCOLS);
	}
	rc = mr_conn_copy(c, "audit_log", mr_audit_insert_cols, MR_AUDIT_NCOLS, args, n, err);
	if (rc == 0)
		rc = mr_audit_set_head(c, k, seq + n, hashes[n], err);
	free(args);
	free(rows);
	free(hashes);
	return rc;
}

static const char mr_audit_cols[] =
	"seq, ts, user_id, login, role, action, entity, entity_id, request_id, ip, status,"
	" before_digest, after_digest, prev_hash, hash";

/* Reads the row at the cursor into *row (pointers valid until the next row). */
static void mr_audit_read_row(struct mr_rows *r, struct mr_audit_row *row)
{
	memset(row, 0, sizeof(*row));
	row->seq = mr_rows_int(r, 0);
	row->ts = mr_rows_int(r, 1);
	row->user_id = mr_rows_isnull(r, 2) ? 0 : mr_rows_int(r, 2);
	row->login = mr_rows_text(r, 3);
	row->role = mr_rows_text(r, 4);
	row->action = mr_rows_text(r, 5);
	row->entity = mr_rows_text(r, 6);
	row->entity_id = mr_rows_text(r, 7);
	row->request_id = mr_rows_text(r, 8);
	row->ip = mr_rows_text(r, 9);
	row->status = mr_rows_int(r, 10);
	row->before = mr_rows_isnull(r, 11) ? NULL : mr_rows_blob(r, 11, &row->before_len);
	row->after = mr_rows_isnull(r, 12) ? NULL : mr_rows_blob(r, 12, &row->after_len);
}

static void mr_audit_bad(struct mr_audit_check *out, int64_t seq, const char *reason)
{
	out->ok = 0;
	out->first_bad_seq = seq;
	snprintf(out->reason, sizeof(out->reason), "%s", reason);
}

/* Checks one page of records after *last_seq, extending the chain state; returns rows read or <0. */
static int mr_audit_verify_page(struct mr_conn *c, const struct mr_keys *k, int64_t *last_seq,
				unsigned char prev[MR_AUDIT_DIGEST], struct mr_audit_check *out,
				struct mr_err *err)
{
	char sql[256];
	struct mr_val args[2] = { mr_v_int(*last_seq), mr_v_int(MR_AUDIT_PAGE) };
	struct mr_rows *r = NULL;
	int count = 0;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT %s FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?",
		 mr_audit_cols);
	rc = mr_conn_query(c, sql, args, 2, &r, err);
	if (rc < 0)
		return rc;
	while ((rc = mr_rows_next(r, err)) == 1) {
		struct mr_audit_row row;
		unsigned char hash[MR_AUDIT_DIGEST];
		size_t n_prev = 0, n_hash = 0;
		const void *stored_prev, *stored_hash;

		mr_audit_read_row(r, &row);
		count++;
		if (row.seq != *last_seq + 1) {
			mr_audit_bad(out, *last_seq + 1, "record missing: the sequence has a gap");
			break;
		}
		stored_prev = mr_rows_blob(r, 13, &n_prev);
		if (n_prev != MR_AUDIT_DIGEST || sodium_memcmp(stored_prev, prev, MR_AUDIT_DIGEST) != 0) {
			mr_audit_bad(out, row.seq, "does not link to the record before it");
			break;
		}
		mr_audit_hash(k, prev, &row, hash);
		stored_hash = mr_rows_blob(r, 14, &n_hash);
		if (n_hash != MR_AUDIT_DIGEST || sodium_memcmp(stored_hash, hash, MR_AUDIT_DIGEST) != 0) {
			mr_audit_bad(out, row.seq, "content does not match its hash: the record was altered");
			break;
		}
		memcpy(prev, hash, MR_AUDIT_DIGEST);
		*last_seq = row.seq;
		out->records++;
	}
	mr_rows_close(r);
	return rc < 0 ? rc : count;
}

/* Compares the sealed head with the last record of the chain. */
static int mr_audit_verify_head(struct mr_conn *c, const struct mr_keys *k, int64_t last_seq,
				const unsigned char *last_hash, struct mr_audit_check *out,
				struct mr_err *err)
{
	struct mr_rows *r = NULL;
	int rc = mr_conn_query(c, "SELECT seq, hash, mac FROM audit_head WHERE id = 1", NULL, 0, &r, err);
	unsigned char mac[MR_AUDIT_DIGEST];

	if (rc < 0)
		return rc;
	rc = mr_rows_next(r, err);
	if (rc == 0 && last_seq > 0) {
		mr_audit_bad(out, last_seq, "the chain head is missing");
	} else if (rc == 1) {
		int64_t seq = mr_rows_int(r, 0);
		size_t n_hash = 0, n_mac = 0;
		const void *hash = mr_rows_blob(r, 1, &n_hash);
		const void *stored_mac = mr_rows_blob(r, 2, &n_mac);
		if (seq == 0 && last_seq == 0 && n_mac == 0) {
			/* a fresh chain: nothing appended yet */
		} else if (seq > last_seq) {
			mr_audit_bad(out, last_seq + 1, "record missing: the chain ends before its head");
		} else if (seq < last_seq) {
			mr_audit_bad(out, seq + 1, "records after the sealed head were added");
		} else {
			mr_audit_head_mac(k, seq, last_hash, mac);
			if (n_hash != MR_AUDIT_DIGEST || n_mac != MR_AUDIT_DIGEST ||
			    sodium_memcmp(hash, last_hash, MR_AUDIT_DIGEST) != 0 ||
			    sodium_memcmp(stored_mac, mac, MR_AUDIT_DIGEST) != 0)
				mr_audit_bad(out, seq, "the chain head does not seal the last record");
		}
	}
	mr_rows_close(r);
	return rc < 0 ? rc : 0;
}

int mr_audit_verify(struct mr_store *s, const struct mr_keys *k, struct mr_audit_check *out,
		    struct mr_err *err)
{
	unsigned char prev[MR_AUDIT_DIGEST];
	int64_t last_seq = 0;
	struct mr_conn *c;
	int rc;

	memset(out, 0, sizeof(*out));
	out->ok = 1;
	memset(prev, 0, sizeof(prev));
	rc = mr_store_acquire(s, &c, err);
	if (rc < 0)
		return rc;
	/* One snapshot for the whole walk, so appends made meanwhile are not mistaken for damage. */
	rc = mr_conn_begin_read(c, err);
	if (rc == 0) {
		do {
			rc = mr_audit_verify_page(c, k, &last_seq, prev, out, err);
		} while (rc == MR_AUDIT_PAGE && out->ok);
		if (rc >= 0 && out->ok)
			rc = mr_audit_verify_head(c, k, last_seq, prev, out, err);
		mr_conn_rollback(c);
	}
	mr_store_release(s, c);
	return rc < 0 ? rc : 0;
}
