/*
 * The SQLite backend: WAL so readers never wait for the writer, a busy
 * timeout so two processes (server and CLI) take turns, synchronous=FULL on
 * the write path so an acknowledged commit survives a crash, read-only
 * pooled connections, and prepared statements cached per connection.
 */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/time.h"
#include "store/store_int.h"

/* WAL frames (pages) after which a commit checkpoints, when no thread does it (SQLite's default) */
enum { MR_SQLITE_AUTOCHECKPOINT = 1000 };

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
	/*
	 * The write path gets a larger page cache (a cap; pages are allocated as
	 * used): a bulk import's transaction dirties index pages all over the
	 * file, and when they do not fit SQLite spills and rewrites them. It
	 * changes nothing about durability.
	 */
	snprintf(pragmas, sizeof(pragmas),
		 "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=%s;"
		 " PRAGMA cache_size=%d; PRAGMA temp_store=MEMORY; PRAGMA query_only=%d;"
		 " PRAGMA wal_autocheckpoint=%d; PRAGMA journal_size_limit=67108864;",
		 write && !s->opts.sync_normal ? "FULL" : "NORMAL", write ? -131072 : -16000,
		 write ? 0 : 1,
		 s->opts.background_checkpoint || s->opts.bulk_load ? 0 : MR_SQLITE_AUTOCHECKPOINT);
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

/* "INSERT INTO table (cols) VALUES (?, ...), ..." for rows rows, into sql; 0 when it does not fit. */
static size_t mr_sqlite_insert_sql(char *sql, size_t cap, const char *table, const char *const *cols,
				   int ncols, int rows)
{
	size_t len = (size_t)snprintf(sql, cap, "INSERT INTO %s (", table);

	for (int i = 0; i < ncols && len < cap; i++)
		len += (size_t)snprintf(sql + len, cap - len, "%s%s", i ? ", " : "", cols[i]);
	for (int r = 0; r < rows && len < cap; r++) {
		len += (size_t)snprintf(sql + len, cap - len, r ? "), (" : ") VALUES (");
		for (int i = 0; i < ncols && len < cap; i++)
			len += (size_t)snprintf(sql + len, cap - len, i ? ", ?" : "?");
	}
	if (len + 2 >= cap)
		return 0;
	len += (size_t)snprintf(sql + len, cap - len, ")");
	return len;
}

/*
 * Rows go in MR_SQLITE_COPY_ROWS at a time through one multi-row statement
 * (a fifth cheaper per row than stepping a one-row statement), the rest
 * one by one; both statements are prepared once per connection.
 */
enum { MR_SQLITE_COPY_ROWS = 32 };

static int mr_sqlite_copy(struct mr_conn *base, const char *table, const char *const *cols, int ncols,
			  const struct mr_val *vals, int nrows, struct mr_err *err)
{
	struct mr_sqlite_conn *c = (struct mr_sqlite_conn *)base;
	char sql[32768];
	int r = 0, rc = 0;

	while (rc == 0 && r < nrows) {
		int rows = nrows - r >= MR_SQLITE_COPY_ROWS && ncols * MR_SQLITE_COPY_ROWS <= 999 ?
			   MR_SQLITE_COPY_ROWS : 1;
		struct mr_stmt_entry *e;
		sqlite3_stmt *st;

		if (!mr_sqlite_insert_sql(sql, sizeof(sql), table, cols, ncols, rows))
			return mr_err_set(err, MR_EINTERNAL, "copy into %s: too many columns", table);
		rc = mr_sqlite_prepare(c, sql, vals + (size_t)r * (size_t)ncols, ncols * rows, &st, &e, err);
		/* the same statement as long as whole chunks remain */
		while (rc == 0) {
			rc = sqlite3_step(st);
			rc = rc == SQLITE_DONE ? 0 : mr_sqlite_fail(c, rc, "copy", err);
			r += rows;
			if (rc < 0 || nrows - r < rows || (rows == 1 && nrows - r >= MR_SQLITE_COPY_ROWS &&
							   ncols * MR_SQLITE_COPY_ROWS <= 999))
				break;
			sqlite3_reset(st);
			rc = mr_sqlite_bind(c, st, vals + (size_t)r * (size_t)ncols, ncols * rows, err);
		}
		if (st)
			mr_sqlite_done(st, e);
	}
	return rc;
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

/*
 * The background checkpointer (mr_store_opts.background_checkpoint). A
 * commit that crosses SQLite's threshold would copy the log into the
 * database and fsync it while every request of its group waits; here a
 * thread of the store does that on a connection of its own, PASSIVE, so it
 * never blocks the writer or a reader.
 */
struct mr_sqlite_ckpt {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	sqlite3 *db;
};

enum { MR_CKPT_POLL_MS = 50, MR_CKPT_GAP_US = 250000, MR_CKPT_RESTART_FRAMES = 16384,
       MR_CKPT_RESTART_WAIT_MS = 50 };

/*
 * A passive checkpoint copies the log into the database but never makes
 * the log start over: under a steady stream of reads some reader always
 * holds it, and the log grows without end (every read then searches more
 * of it). Past 64 MB of log, a RESTART checkpoint waits briefly for the
 * readers of the log to finish (new ones read the database, which has
 * everything), so the next commit writes the log from its start again
 * (cut back to journal_size_limit). It holds the write lock while it
 * waits: at most MR_CKPT_RESTART_WAIT_MS, then it gives up until the next
 * round.
 */
static void mr_sqlite_ckpt_restart(struct mr_sqlite_ckpt *k)
{
	int log = 0, done = 0, rc;

	sqlite3_busy_timeout(k->db, MR_CKPT_RESTART_WAIT_MS);
	rc = sqlite3_wal_checkpoint_v2(k->db, NULL, SQLITE_CHECKPOINT_RESTART, &log, &done);
	sqlite3_busy_timeout(k->db, 1000);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		mr_log_warn("event=checkpoint_failed mode=restart error=\"%s\"", sqlite3_errmsg(k->db));
	else
		mr_log_debug("event=checkpoint_restart frames=%d done=%d busy=%d", log, done, rc == SQLITE_BUSY);
}

static int64_t mr_sqlite_data_version(sqlite3_stmt *st)
{
	int64_t v = -1;

	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

/*
 * Every MR_CKPT_POLL_MS the thread asks whether another connection has
 * committed (PRAGMA data_version reads the shared-memory header: no I/O);
 * when one has and MR_CKPT_GAP_US have passed since the last run, it
 * checkpoints. Frames a reader still needed are taken on a later round.
 */
static void *mr_sqlite_ckpt_main(void *arg)
{
	struct mr_sqlite_ckpt *k = arg;
	int64_t last = 0, seen = -1;
	int pending = 0;
	sqlite3_stmt *probe = NULL;

	if (sqlite3_prepare_v2(k->db, "PRAGMA data_version", -1, &probe, NULL) != SQLITE_OK) {
		mr_log_warn("event=checkpoint_failed error=\"%s\"", sqlite3_errmsg(k->db));
		return NULL;
	}
	pthread_mutex_lock(&k->mu);
	while (!k->stop) {
		struct timespec until;
		int64_t v;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += MR_CKPT_POLL_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&k->cv, &k->mu, &until);
		if (k->stop)
			break;
		pthread_mutex_unlock(&k->mu);
		v = mr_sqlite_data_version(probe);
		if (v != seen) {
			seen = v;
			pending = 1;
		}
		if (pending && mr_mono_us() - last >= MR_CKPT_GAP_US) {
			int log = 0, done = 0;
			int rc = sqlite3_wal_checkpoint_v2(k->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);

			if (rc != SQLITE_OK && rc != SQLITE_BUSY)
				mr_log_warn("event=checkpoint_failed error=\"%s\"", sqlite3_errmsg(k->db));
			pending = log > done;
			last = mr_mono_us();
			if (log >= MR_CKPT_RESTART_FRAMES)
				mr_sqlite_ckpt_restart(k);
		}
		pthread_mutex_lock(&k->mu);
	}
	pthread_mutex_unlock(&k->mu);
	sqlite3_finalize(probe);
	return NULL;
}

static int mr_sqlite_start(struct mr_store *s, struct mr_err *err)
{
	struct mr_sqlite_ckpt *k;

	if (!s->opts.background_checkpoint)
		return 0;
	k = mr_calloc(1, sizeof(*k));
	if (sqlite3_open_v2(s->target, &k->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		mr_err_set(err, MR_EDB, "cannot open SQLite database '%s' for checkpoints: %s", s->target,
			   k->db ? sqlite3_errmsg(k->db) : "out of memory");
		sqlite3_close_v2(k->db);
		free(k);
		return MR_EDB;
	}
	sqlite3_busy_timeout(k->db, 1000);
	/*
	 * A connection learns that the file is in WAL mode (and opens the log)
	 * when it first reads; until then a checkpoint on it reports "not in
	 * WAL mode" (-1 frames) and does nothing.
	 */
	if (sqlite3_exec(k->db, "SELECT COUNT(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK) {
		mr_err_set(err, MR_EDB, "cannot open SQLite database '%s' for checkpoints: %s", s->target,
			   sqlite3_errmsg(k->db));
		sqlite3_close_v2(k->db);
		free(k);
		return MR_EDB;
	}
	pthread_mutex_init(&k->mu, NULL);
	pthread_cond_init(&k->cv, NULL);
	if (pthread_create(&k->thread, NULL, mr_sqlite_ckpt_main, k) != 0) {
		sqlite3_close_v2(k->db);
		free(k);
		return mr_err_set(err, MR_EINTERNAL, "cannot start the checkpoint thread");
	}
	s->be_state = k;
	return 0;
}

static void mr_sqlite_stop(struct mr_store *s)
{
	struct mr_sqlite_ckpt *k = s->be_state;

	if (!k)
		return;
	pthread_mutex_lock(&k->mu);
	k->stop = 1;
	pthread_cond_signal(&k->cv);
	pthread_mutex_unlock(&k->mu);
	pthread_join(k->thread, NULL);
	pthread_mutex_destroy(&k->mu);
	pthread_cond_destroy(&k->cv);
	sqlite3_close_v2(k->db);
	free(k);
	s->be_state = NULL;
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
	/* the rowid: rows are never deleted, so the largest is never reused, and no sequence table is written */
	.seq_type = "INTEGER PRIMARY KEY",
	.blob_type = "BLOB",
	.key_type = "TEXT",
	.index_list_sql = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
			  " AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE %' ORDER BY name",
	.rows_next = mr_sqlite_rows_next,
	.rows_isnull = mr_sqlite_rows_isnull,
	.rows_text = mr_sqlite_rows_text,
	.rows_blob = mr_sqlite_rows_blob,
	.rows_int = mr_sqlite_rows_int,
	.rows_real = mr_sqlite_rows_real,
	.rows_close = mr_sqlite_rows_close,
	.copy = mr_sqlite_copy,
	.start = mr_sqlite_start,
	.stop = mr_sqlite_stop,
};
