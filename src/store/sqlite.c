/*
 * The SQLite backend: WAL so readers never wait for the writer, a busy
 * timeout so two processes (server and CLI) take turns, synchronous=FULL on
 * the write path so an acknowledged commit survives a crash, read-only
 * pooled connections, and prepared statements cached per connection.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/mem.h"
#include "store/store_int.h"

struct mr_sqlite_conn {
	struct mr_conn base;
	sqlite3 *db;
	struct mr_stmt_cache cache;
};

struct mr_sqlite_rows {
	struct mr_rows base;
	struct mr_sqlite_conn *conn;
	sqlite3_stmt *st;
	struct mr_stmt_entry *entry; /* NULL when the statement is not cached */
};

static int mr_sqlite_fail(struct mr_sqlite_conn *c, int src, const char *what, struct mr_err *err)
{
	int ext = sqlite3_extended_errcode(c->db);
	int code = MR_EDB;

	if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
		code = MR_ECONFLICT;
	else if (src == SQLITE_BUSY || src == SQLITE_LOCKED)
		code = MR_EUNAVAIL;
	return mr_err_set(err, code, "sqlite: %s: %s", what, sqlite3_errmsg(c->db));
}

/* Creates the directory that will hold path, one level, if it is missing. */
static void mr_sqlite_mkdir_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];

	if (!slash || slash == path || (size_t)(slash - path) >= sizeof(dir))
		return;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return;
}

static void mr_sqlite_finalize(void *handle)
{
	sqlite3_finalize(handle);
}

static void mr_sqlite_disconnect(struct mr_conn *base)
{
	struct mr_sqlite_conn *c = (struct mr_sqlite_conn *)base;

	mr_stmt_cache_release(&c->cache, mr_sqlite_finalize);
	sqlite3_close_v2(c->db);
	free(c);
}

static int mr_sqlite_script(struct mr_conn *base, const char *sql, struct mr_err *err)
{
	struct mr_sqlite_conn *c = (struct mr_sqlite_conn *)base;
	char *msg = NULL;
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		int code = rc == SQLITE_BUSY ? MR_EUNAVAIL : MR_EDB;
		mr_err_set(err, code, "sqlite: %s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return code;
	}
	return 0;
}

static int mr_sqlite_connect(struct mr_store *s, int write, struct mr_conn **out, struct mr_err *err)
{
	struct mr_sqlite_conn *c = mr_calloc(1, sizeof(*c));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	char pragmas[256];
	int rc;

	c->base.be = &mr_backend_sqlite;
	c->base.store = s;
	if (write)
		mr_sqlite_mkdir_parent(s->target);
	rc = sqlite3_open_v2(s->target, &c->db, flags, NULL);
	if (rc != SQLITE_OK) {
		mr_err_set(err, MR_EDB, "cannot open SQLite database '%s': %s", s->target,
			   c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		sqlite3_close_v2(c->db);
		free(c);
		return MR_EDB;
	}
	sqlite3_busy_timeout(c->db, 10000);
	sqlite3_extended_result_codes(c->db, 1);
	snprintf(pragmas, sizeof(pragmas),
		 "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=%s;"
		 " PRAGMA cache_size=-16000; PRAGMA temp_store=MEMORY; PRAGMA query_only=%d;",
		 write && s->opts.sync_full ? "FULL" : "NORMAL", write ? 0 : 1);
	rc = mr_sqlite_script(&c->base, pragmas, err);
	if (rc < 0) {
		mr_sqlite_disconnect(&c->base);
		return rc;
	}
	*out = &c->base;
	return 0;
}

static int mr_sqlite_bind(struct mr_sqlite_conn *c, sqlite3_stmt *st, const struct mr_val *args,
			  int nargs, struct mr_err *err)
{
	for (int i = 0; i < nargs; i++) {
		const struct mr_val *v = &args[i];
		int rc = SQLITE_OK;
		switch (v->kind) {
		case MR_V_NULL:
			rc = sqlite3_bind_null(st, i + 1);
			break;
		case MR_V_INT:
			rc = sqlite3_bind_int64(st, i + 1, v->i);
			break;
		case MR_V_REAL:
			rc = sqlite3_bind_double(st, i + 1, v->d);
			break;
		case MR_V_TEXT:
			rc = sqlite3_bind_text(st, i + 1, v->p, (int)v->n, SQLITE_STATIC);
			break;
		case MR_V_BLOB:
			rc = sqlite3_bind_blob(st, i + 1, v->p, (int)v->n, SQLITE_STATIC);
			break;
		}
		if (rc != SQLITE_OK)
			return mr_sqlite_fail(c, rc, "bind", err);
	}
	return 0;
}

/* Prepares (or takes from the cache) and binds sql; fills *entry when cached. */
static int mr_sqlite_prepare(struct mr_sqlite_conn *c, const char *sql, const struct mr_val *args,
			     int nargs, sqlite3_stmt **st, struct mr_stmt_entry **entry,
			     struct mr_err *err)
{
	struct mr_stmt_entry *e = mr_stmt_cache_get(&c->cache, sql);
	int rc;

	*st = NULL;
	*entry = NULL;
	if (e && e->busy)
		e = NULL;
	if (e && e->handle) {
		*st = e->handle;
	} else {
		rc = sqlite3_prepare_v3(c->db, sql, -1, e ? SQLITE_PREPARE_PERSISTENT : 0, st, NULL);
		if (rc != SQLITE_OK)
			return mr_sqlite_fail(c, rc, "prepare", err);
		if (e)
			e->handle = *st;
	}
	if (e)
		e->busy = 1;
	*entry = e;
	rc = mr_sqlite_bind(c, *st, args, nargs, err);
	if (rc < 0) {
		if (e) {
			sqlite3_reset(*st);
			sqlite3_clear_bindings(*st);
			e->busy = 0;
		} else {
			sqlite3_finalize(*st);
		}
		return rc;
	}
	return 0;
}

static void mr_sqlite_done(sqlite3_stmt *st, struct mr_stmt_entry *e)
{
	if (e) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		e->busy = 0;
	} else {
		sqlite3_finalize(st);
	}
}

static int mr_sqlite_exec(struct mr_conn *base, const char *sql, const struct mr_val *args,
			  int nargs, int64_t *changes, struct mr_err *err)
{
	struct mr_sqlite_conn *c = (struct mr_sqlite_conn *)base;
	struct mr_stmt_entry *e;
	sqlite3_stmt *st;
	int rc = mr_sqlite_prepare(c, sql, args, nargs, &st, &e, err);

	if (rc < 0)
		return rc;
	do {
		rc = sqlite3_step(st);
	} while (rc == SQLITE_ROW);
	if (rc != SQLITE_DONE) {
		rc = mr_sqlite_fail(c, rc, "exec", err);
		mr_sqlite_done(st, e);
		return rc;
	}
	if (changes)
		*changes = sqlite3_changes64(c->db);
	mr_sqlite_done(st, e);
	return 0;
}

static int mr_sqlite_query(struct mr_conn *base, const char *sql, const struct mr_val *args,
			   int nargs, struct mr_rows **out, struct mr_err *err)
{
	struct mr_sqlite_conn *c = (struct mr_sqlite_conn *)base;
	struct mr_sqlite_rows *r;
	struct mr_stmt_entry *e;
	sqlite3_stmt *st;
	int rc = mr_sqlite_prepare(c, sql, args, nargs, &st, &e, err);

	*out = NULL;
	if (rc < 0)
		return rc;
	r = mr_malloc(sizeof(*r));
	r->base.be = &mr_backend_sqlite;
	r->conn = c;
	r->st = st;
	r->entry = e;
	*out = &r->base;
	return 0;
}

static int mr_sqlite_rows_next(struct mr_rows *base, struct mr_err *err)
{
	struct mr_sqlite_rows *r = (struct mr_sqlite_rows *)base;
	int rc = sqlite3_step(r->st);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return mr_sqlite_fail(r->conn, rc, "step", err);
}

static int mr_sqlite_rows_isnull(struct mr_rows *base, int col)
{
	return sqlite3_column_type(((struct mr_sqlite_rows *)base)->st, col) == SQLITE_NULL;
}

static int64_t mr_sqlite_rows_int(struct mr_rows *base, int col)
{
	return sqlite3_column_int64(((struct mr_sqlite_rows *)base)->st, col);
}

static double mr_sqlite_rows_real(struct mr_rows *base, int col)
{
	return sqlite3_column_double(((struct mr_sqlite_rows *)base)->st, col);
}

static const char *mr_sqlite_rows_text(struct mr_rows *base, int col)
{
	return (const char *)sqlite3_column_text(((struct mr_sqlite_rows *)base)->st, col);
}

static const void *mr_sqlite_rows_blob(struct mr_rows *base, int col, size_t *len)
{
	sqlite3_stmt *st = ((struct mr_sqlite_rows *)base)->st;
	const void *p = sqlite3_column_blob(st, col);

	*len = (size_t)sqlite3_column_bytes(st, col);
	return p;
}

static void mr_sqlite_rows_close(struct mr_rows *base)
{
	struct mr_sqlite_rows *r = (struct mr_sqlite_rows *)base;

	mr_sqlite_done(r->st, r->entry);
	free(r);
}

const struct mr_backend mr_backend_sqlite = {
	.name = "sqlite",
	.kind = MR_STORE_SQLITE,
	.connect = mr_sqlite_connect,
	.disconnect = mr_sqlite_disconnect,
	.exec = mr_sqlite_exec,
	.query = mr_sqlite_query,
	.script = mr_sqlite_script,
	.begin_sql = "BEGIN IMMEDIATE",
	.begin_read_sql = "BEGIN",
	.id_type = "INTEGER PRIMARY KEY AUTOINCREMENT",
	.blob_type = "BLOB",
	.key_type = "TEXT",
	.rows_next = mr_sqlite_rows_next,
	.rows_isnull = mr_sqlite_rows_isnull,
	.rows_text = mr_sqlite_rows_text,
	.rows_blob = mr_sqlite_rows_blob,
	.rows_int = mr_sqlite_rows_int,
	.rows_real = mr_sqlite_rows_real,
	.rows_close = mr_sqlite_rows_close,
};
