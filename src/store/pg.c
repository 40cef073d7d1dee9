/*
 * The PostgreSQL backend over libpq. SQL arrives with `?` placeholders and
 * is rewritten to $1, $2, ... once, when it is prepared; prepared statements
 * are cached per connection under generated names. Parameters go as text,
 * blobs as binary; results come back as text (bytea in hex form, decoded
 * here). A connection that breaks is reset once and its cache forgotten.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "store/store_int.h"

struct mr_pg_conn {
	struct mr_conn base;
	PGconn *pg;
	struct mr_stmt_cache cache;
	int next_id;
};

struct mr_pg_rows {
	struct mr_rows base;
	PGresult *res;
	int row;
	int nrows;
	int ncols;
	unsigned char **scratch; /* per column: a decoded bytea, freed on the next row */
};

enum { MR_PG_MAX_ARGS = 1024 }; /* 48 bytes of stack each while a statement runs */

static int mr_pg_fail(struct mr_pg_conn *c, PGresult *res, const char *what, struct mr_err *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(c->pg);
	int code = MR_EDB;
	char clean[256];
	size_t n;

	if (state && strcmp(state, "23505") == 0)
		code = MR_ECONFLICT;
	else if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0))
		code = MR_EUNAVAIL;
	snprintf(clean, sizeof(clean), "%s", msg && *msg ? msg : "unknown error");
	n = strlen(clean);
	while (n && (clean[n - 1] == '\n' || clean[n - 1] == ' '))
		clean[--n] = '\0';
	return mr_err_set(err, code, "postgresql: %s: %s", what, clean);
}

static void mr_pg_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg; /* NOTICEs (e.g. "relation already exists, skipping") are not errors */
}

static void mr_pg_disconnect(struct mr_conn *base)
{
	struct mr_pg_conn *c = (struct mr_pg_conn *)base;

	mr_stmt_cache_release(&c->cache, NULL);
	PQfinish(c->pg);
	free(c);
}

static int mr_pg_connect(struct mr_store *s, int write, struct mr_conn **out, struct mr_err *err)
{
	struct mr_pg_conn *c = mr_calloc(1, sizeof(*c));
	PGresult *res;

	(void)write;
	c->base.be = &mr_backend_pg;
	c->base.store = s;
	c->pg = PQconnectdb(s->target);
	if (PQstatus(c->pg) != CONNECTION_OK) {
		char msg[256];
		size_t n;
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c->pg));
		n = strlen(msg);
		while (n && msg[n - 1] == '\n')
			msg[--n] = '\0';
		mr_err_set(err, MR_EDB, "cannot connect to PostgreSQL: %s", msg);
		PQfinish(c->pg);
		free(c);
		return MR_EDB;
	}
	PQsetNoticeProcessor(c->pg, mr_pg_notice, NULL);
	res = PQexec(c->pg, "SET TIME ZONE 'UTC'; SET client_encoding = 'UTF8'");
	PQclear(res);
	*out = &c->base;
	return 0;
}

/* Recovers a broken connection once; the prepared statements are gone with it. */
static int mr_pg_recover(struct mr_pg_conn *c)
{
	if (PQstatus(c->pg) == CONNECTION_OK)
		return 0;
	mr_stmt_cache_release(&c->cache, NULL);
	PQreset(c->pg);
	return PQstatus(c->pg) == CONNECTION_OK ? 1 : -1;
}

static int mr_pg_script(struct mr_conn *base, const char *sql, struct mr_err *err)
{
	struct mr_pg_conn *c = (struct mr_pg_conn *)base;
	PGresult *res = PQexec(c->pg, sql);
	ExecStatusType st = PQresultStatus(res);
	int rc = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = mr_pg_fail(c, res, "exec", err);
	PQclear(res);
	if (rc < 0 && !base->in_tx)
		mr_pg_recover(c);
	return rc;
}

/* Rewrites `?` outside quotes into $1, $2, ... */
static char *mr_pg_number_params(const char *sql)
{
	struct mr_buf b;
	char quote = 0;
	int n = 0;

	mr_buf_init(&b, (size_t)1 << 24);
	for (const char *p = sql; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
			mr_buf_addc(&b, *p);
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
			mr_buf_addc(&b, *p);
		} else if (*p == '?') {
			mr_buf_addf(&b, "$%d", ++n);
		} else {
			mr_buf_addc(&b, *p);
		}
	}
	return mr_buf_detach(&b, NULL);
}

/* Returns the prepared statement name for sql, preparing it when new; NULL name means run unnamed. */
static int mr_pg_prepare(struct mr_pg_conn *c, const char *sql, char *name, size_t name_size,
			 struct mr_err *err)
{
	struct mr_stmt_entry *e = mr_stmt_cache_get(&c->cache, sql);
	char *numbered;
	PGresult *res;
	int rc = 0;

	if (e && e->handle) {
		snprintf(name, name_size, "mr%d", (int)(intptr_t)e->handle);
		return 0;
	}
	if (e)
		snprintf(name, name_size, "mr%d", ++c->next_id);
	else
		name[0] = '\0';
	numbered = mr_pg_number_params(sql);
	res = PQprepare(c->pg, name, numbered, 0, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = mr_pg_fail(c, res, "prepare", err);
	else if (e)
		e->handle = (void *)(intptr_t)c->next_id;
	PQclear(res);
	free(numbered);
	return rc;
}

static PGresult *mr_pg_run(struct mr_pg_conn *c, const char *name, const struct mr_val *args,
			   int nargs, char (*ints)[32])
{
	const char *values[MR_PG_MAX_ARGS];
	int lengths[MR_PG_MAX_ARGS];
	int formats[MR_PG_MAX_ARGS];

	for (int i = 0; i < nargs; i++) {
		const struct mr_val *v = &args[i];
		formats[i] = 0;
		lengths[i] = 0;
		switch (v->kind) {
		case MR_V_NULL:
			values[i] = NULL;
			break;
		case MR_V_INT:
			snprintf(ints[i], 32, "%lld", (long long)v->i);
			values[i] = ints[i];
			break;
		case MR_V_REAL:
			snprintf(ints[i], 32, "%.17g", v->d);
			values[i] = ints[i];
			break;
		case MR_V_TEXT: /* text goes as raw bytes too: no NUL needed */
		case MR_V_BLOB:
			values[i] = v->p;
			lengths[i] = (int)v->n;
			formats[i] = 1;
			break;
		}
	}
	return PQexecPrepared(c->pg, name, nargs, values, lengths, formats, 0);
}

/* Prepares and runs sql, retrying once over a reset connection when it was broken. */
static int mr_pg_execute(struct mr_pg_conn *c, const char *sql, const struct mr_val *args,
			 int nargs, PGresult **out, struct mr_err *err)
{
	char ints[MR_PG_MAX_ARGS][32];
	char name[32];
	PGresult *res;
	ExecStatusType st;
	int rc;

	*out = NULL;
	if (nargs > MR_PG_MAX_ARGS)
		return mr_err_set(err, MR_EINTERNAL, "too many SQL parameters (%d)", nargs);
	for (int attempt = 0; attempt < 2; attempt++) {
		rc = mr_pg_prepare(c, sql, name, sizeof(name), err);
		if (rc == 0) {
			res = mr_pg_run(c, name, args, nargs, ints);
			st = PQresultStatus(res);
			if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
				*out = res;
				return 0;
			}
			rc = mr_pg_fail(c, res, "exec", err);
			PQclear(res);
		}
		if (c->base.in_tx || mr_pg_recover(c) != 1)
			break;
	}
	return rc;
}

static int mr_pg_exec(struct mr_conn *base, const char *sql, const struct mr_val *args, int nargs,
		      int64_t *changes, struct mr_err *err)
{
	struct mr_pg_conn *c = (struct mr_pg_conn *)base;
	PGresult *res;
	int rc = mr_pg_execute(c, sql, args, nargs, &res, err);

	if (rc < 0)
		return rc;
	if (changes) {
		const char *t = PQcmdTuples(res);
		*changes = t && *t ? strtoll(t, NULL, 10) : 0;
	}
	PQclear(res);
	return 0;
}

/* Appends v in COPY's text format: \N for NULL, backslash escapes, bytea as \\x hex. */
static void mr_pg_copy_value(struct mr_buf *b, const struct mr_val *v)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = v->p;

	switch (v->kind) {
	case MR_V_NULL:
		mr_buf_adds(b, "\\N");
		return;
	case MR_V_INT:
		mr_buf_addf(b, "%lld", (long long)v->i);
		return;
	case MR_V_REAL:
		mr_buf_addf(b, "%.17g", v->d);
		return;
	case MR_V_BLOB:
		mr_buf_adds(b, "\\\\x");
		for (size_t i = 0; i < v->n; i++) {
			mr_buf_addc(b, hex[p[i] >> 4]);
			mr_buf_addc(b, hex[p[i] & 15]);
		}
		return;
	case MR_V_TEXT:
		for (size_t i = 0; i < v->n; i++) {
			char ch = (char)p[i];

			if (ch == '\\' || ch == '\t' || ch == '\n' || ch == '\r') {
				mr_buf_addc(b, '\\');
				ch = ch == '\t' ? 't' : ch == '\n' ? 'n' : ch == '\r' ? 'r' : '\\';
			}
			mr_buf_addc(b, ch);
		}
		return;
	}
}

/* Ends a COPY: sends the end (or an error, aborting it) and reads its result. */
static int mr_pg_copy_end(struct mr_pg_conn *c, const char *abort_msg, struct mr_err *err)
{
	PGresult *res;
	int rc = 0;

	if (PQputCopyEnd(c->pg, abort_msg) != 1)
		rc = mr_err_set(err, MR_EDB, "postgresql: copy: %s", PQerrorMessage(c->pg));
	while ((res = PQgetResult(c->pg)) != NULL) {
		if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK)
			rc = mr_pg_fail(c, res, "copy", err);
		PQclear(res);
	}
	return rc;
}

static int mr_pg_copy(struct mr_conn *base, const char *table, const char *const *cols, int ncols,
		      const struct mr_val *vals, int nrows, struct mr_err *err)
{
	struct mr_pg_conn *c = (struct mr_pg_conn *)base;
	struct mr_buf b;
	PGresult *res;
	int rc = 0;

	mr_buf_init(&b, (size_t)1 << 30);
	mr_buf_addf(&b, "COPY %s (", table);
	for (int i = 0; i < ncols; i++)
		mr_buf_addf(&b, "%s%s", i ? ", " : "", cols[i]);
	mr_buf_adds(&b, ") FROM STDIN");
	res = PQexec(c->pg, mr_buf_str(&b));
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		rc = mr_pg_fail(c, res, "copy", err);
		PQclear(res);
		mr_buf_release(&b);
		return rc;
	}
	PQclear(res);
	mr_buf_reset(&b);
	for (int r = 0; rc == 0 && r < nrows; r++) {
		for (int i = 0; i < ncols; i++) {
			if (i)
				mr_buf_addc(&b, '\t');
			mr_pg_copy_value(&b, &vals[(size_t)r * (size_t)ncols + (size_t)i]);
		}
		mr_buf_addc(&b, '\n');
		if (b.len >= 256 * 1024 || r == nrows - 1) {
			if (PQputCopyData(c->pg, b.p, (int)b.len) != 1)
				rc = mr_err_set(err, MR_EDB, "postgresql: copy: %s", PQerrorMessage(c->pg));
			mr_buf_reset(&b);
		}
	}
	mr_buf_release(&b);
	if (rc < 0) {
		struct mr_err ignored;

		mr_pg_copy_end(c, "medreach stopped the copy", &ignored);
		return rc;
	}
	return mr_pg_copy_end(c, NULL, err);
}

static int mr_pg_query(struct mr_conn *base, const char *sql, const struct mr_val *args, int nargs,
		       struct mr_rows **out, struct mr_err *err)
{
	struct mr_pg_conn *c = (struct mr_pg_conn *)base;
	struct mr_pg_rows *r;
	PGresult *res;
	int rc = mr_pg_execute(c, sql, args, nargs, &res, err);

	*out = NULL;
	if (rc < 0)
		return rc;
	r = mr_calloc(1, sizeof(*r));
	r->base.be = &mr_backend_pg;
	r->res = res;
	r->row = -1;
	r->nrows = PQntuples(res);
	r->ncols = PQnfields(res);
	r->scratch = mr_calloc((size_t)r->ncols, sizeof(*r->scratch));
	*out = &r->base;
	return 0;
}

static void mr_pg_rows_scrub(struct mr_pg_rows *r)
{
	for (int i = 0; i < r->ncols; i++) {
		free(r->scratch[i]);
		r->scratch[i] = NULL;
	}
}

static int mr_pg_rows_next(struct mr_rows *base, struct mr_err *err)
{
	struct mr_pg_rows *r = (struct mr_pg_rows *)base;

	(void)err;
	mr_pg_rows_scrub(r);
	if (r->row + 1 >= r->nrows)
		return 0;
	r->row++;
	return 1;
}

static int mr_pg_rows_isnull(struct mr_rows *base, int col)
{
	struct mr_pg_rows *r = (struct mr_pg_rows *)base;
	return PQgetisnull(r->res, r->row, col);
}

static int64_t mr_pg_rows_int(struct mr_rows *base, int col)
{
	struct mr_pg_rows *r = (struct mr_pg_rows *)base;
	const char *v = PQgetvalue(r->res, r->row, col);

	if (PQgetisnull(r->res, r->row, col))
		return 0;
	if (v[0] == 't' && v[1] == '\0')
		return 1; /* boolean true */
	return strtoll(v, NULL, 10);
}

static double mr_pg_rows_real(struct mr_rows *base, int col)
{
	struct mr_pg_rows *r = (struct mr_pg_rows *)base;

	if (PQgetisnull(r->res, r->row, col))
		return 0;
	return strtod(PQgetvalue(r->res, r->row, col), NULL);
}

static const char *mr_pg_rows_text(struct mr_rows *base, int col)
{
	struct mr_pg_rows *r = (struct mr_pg_rows *)base;

	if (PQgetisnull(r->res, r->row, col))
		return NULL;
	return PQgetvalue(r->res, r->row, col);
}

static int mr_pg_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static const void *mr_pg_rows_blob(struct mr_rows *base, int col, size_t *len)
{
	struct mr_pg_rows *r = (struct mr_pg_rows *)base;
	const char *v;
	unsigned char *out;
	size_t n;

	*len = 0;
	if (col < 0 || col >= r->ncols || PQgetisnull(r->res, r->row, col))
		return NULL;
	v = PQgetvalue(r->res, r->row, col);
	n = (size_t)PQgetlength(r->res, r->row, col);
	if (n < 2 || v[0] != '\\' || v[1] != 'x')
		return NULL;
	free(r->scratch[col]);
	out = mr_malloc(n / 2 + 1);
	r->scratch[col] = out;
	for (size_t i = 2; i + 1 < n; i += 2) {
		int hi = mr_pg_hexval(v[i]);
		int lo = mr_pg_hexval(v[i + 1]);
		if (hi < 0 || lo < 0) {
			*len = 0;
			return NULL;
		}
		out[*len] = (unsigned char)(hi * 16 + lo);
		(*len)++;
	}
	return out;
}

static void mr_pg_rows_close(struct mr_rows *base)
{
	struct mr_pg_rows *r = (struct mr_pg_rows *)base;

	PQclear(r->res);
	mr_pg_rows_scrub(r);
	free(r->scratch);
	free(r);
}

const struct mr_backend mr_backend_pg = {
	.name = "postgresql",
	.kind = MR_STORE_PG,
	.connect = mr_pg_connect,
	.disconnect = mr_pg_disconnect,
	.exec = mr_pg_exec,
	.query = mr_pg_query,
	.script = mr_pg_script,
	.begin_sql = "BEGIN",
	.begin_read_sql = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	.id_type = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
	.seq_type = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
	.blob_type = "BYTEA",
	.key_type = "TEXT COLLATE \"C\"",
	.index_list_sql = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
			  " AND tablename = ? AND indexdef NOT LIKE 'CREATE UNIQUE %' ORDER BY indexname",
	.rows_next = mr_pg_rows_next,
	.rows_isnull = mr_pg_rows_isnull,
	.rows_text = mr_pg_rows_text,
	.rows_blob = mr_pg_rows_blob,
	.rows_int = mr_pg_rows_int,
	.rows_real = mr_pg_rows_real,
	.rows_close = mr_pg_rows_close,
	.copy = mr_pg_copy,
};
