/*
 * The store: the single source of truth, behind one interface with two real
 * backends, SQLite (embedded default) and PostgreSQL (libpq).
 *
 * A struct mr_store is a database and its pool of connections. A struct
 * mr_conn is one connection, used by one thread at a time between
 * mr_store_acquire and mr_store_release. SQL is written once, with `?`
 * placeholders; the PostgreSQL backend numbers them ($1, $2, ...). Every
 * statement is prepared once per connection and cached. Values cross the
 * interface as struct mr_val; times are int64 microseconds (BIGINT).
 *
 * Writes from the server go through the writer (writer.h), which commits
 * many requests' writes in one transaction. Commands that run alone (the CLI)
 * write with mr_store_write. Reads use pooled connections and never wait for
 * writes (SQLite WAL, PostgreSQL MVCC).
 */
#ifndef MR_STORE_STORE_H
#define MR_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"

struct mr_store;
struct mr_conn;
struct mr_rows;

enum mr_store_kind { MR_STORE_SQLITE, MR_STORE_PG };

enum mr_vkind { MR_V_NULL, MR_V_INT, MR_V_REAL, MR_V_TEXT, MR_V_BLOB };

/* One statement parameter. Text and blob bytes are borrowed for the call. */
struct mr_val {
	enum mr_vkind kind;
	int64_t i;
	double d;
	const void *p;
	size_t n;
};

static inline struct mr_val mr_v_int(int64_t i)
{
	struct mr_val v = { .kind = MR_V_INT, .i = i };
	return v;
}

/* A text parameter; NULL becomes SQL NULL. */
static inline struct mr_val mr_v_text(const char *s)
{
	struct mr_val v = { .kind = s ? MR_V_TEXT : MR_V_NULL, .p = s, .n = s ? strlen(s) : 0 };
	return v;
}

static inline struct mr_val mr_v_blob(const void *p, size_t n)
{
	struct mr_val v = { .kind = p ? MR_V_BLOB : MR_V_NULL, .p = p, .n = n };
	return v;
}

static inline struct mr_val mr_v_null(void)
{
	struct mr_val v = { .kind = MR_V_NULL };
	return v;
}

static inline struct mr_val mr_v_real(double d)
{
	struct mr_val v = { .kind = MR_V_REAL, .d = d };
	return v;
}

struct mr_store_opts {
	int pool_size;      /* read connections (default 8) */
	/*
	 * SQLite: synchronous=NORMAL instead of FULL on the write path. A commit
	 * then survives the process dying but not the machine losing power.
	 * Default 0: every commit is on disk before it is acknowledged.
	 */
	int sync_normal;
	/*
	 * SQLite: checkpoint the write-ahead log from a thread of the store's
	 * own instead of in whichever commit crosses the threshold, so that no
	 * request waits for a checkpoint's copying and fsync (a server sets it).
	 */
	int background_checkpoint;
	/*
	 * SQLite: a bulk load. Commits do not checkpoint; the log is copied into
	 * the database once, when the last connection closes (or by a server's
	 * checkpointer), so a page rewritten by many transactions reaches the
	 * database file once instead of once per transaction.
	 */
	int bulk_load;
};

struct mr_pool_stats {
	int size;                /* connections the pool may hold */
	int in_use;              /* handed out now */
	uint64_t acquires;       /* total acquisitions */
	uint64_t waits;          /* acquisitions that had to wait */
};

/*
 * Opens "sqlite:PATH" (PATH created if missing) or a "postgresql://" URL.
 * Does not migrate; call mr_store_migrate.
 */
int mr_store_open(struct mr_store **out, const char *url, const struct mr_store_opts *opts,
		  struct mr_err *err);
/* Closes every connection; no connection may be in use. */
void mr_store_close(struct mr_store *s);
enum mr_store_kind mr_store_kind(const struct mr_store *s);
/* "sqlite" or "postgresql". */
const char *mr_store_kind_name(const struct mr_store *s);
/* Applies the numbered migrations the database has not seen, in order, each recorded. */
int mr_store_migrate(struct mr_store *s, struct mr_err *err);
/* The newest migration applied (0 for an empty database). */
int mr_store_schema_version(struct mr_store *s, int64_t *version, struct mr_err *err);

/* Hands out a connection for reads; waits while all are in use. Fails (MR_EDB) only when a new connection cannot be made. */
int mr_store_acquire(struct mr_store *s, struct mr_conn **out, struct mr_err *err);
/* Returns c to the pool; c must not be inside a transaction. */
void mr_store_release(struct mr_store *s, struct mr_conn *c);
void mr_store_pool_stats(struct mr_store *s, struct mr_pool_stats *out);

/* Opens a connection of its own, outside the pool, for the writer. */
int mr_store_connect(struct mr_store *s, struct mr_conn **out, struct mr_err *err);
/* Closes a connection made by mr_store_connect. */
void mr_store_disconnect(struct mr_conn *c);

/* A unit of writing: runs inside a transaction on c; returns 0 or a negative MR_E code. */
typedef int (*mr_write_fn)(struct mr_conn *c, void *arg, struct mr_err *err);
/* Runs fn in one write transaction on a fresh connection: committed when fn returns 0, else rolled back. */
int mr_store_write(struct mr_store *s, mr_write_fn fn, void *arg, struct mr_err *err);

/* The kind of the database c talks to. */
enum mr_store_kind mr_conn_kind(const struct mr_conn *c);
/* Runs a statement that returns no rows; *changes (if given) gets the rows it touched. */
int mr_conn_exec(struct mr_conn *c, const char *sql, const struct mr_val *args, int nargs,
		 int64_t *changes, struct mr_err *err);
/* Runs a query; read it with mr_rows_next and close it with mr_rows_close. */
int mr_conn_query(struct mr_conn *c, const char *sql, const struct mr_val *args, int nargs,
		  struct mr_rows **out, struct mr_err *err);
/* Runs several ;-separated statements without parameters (migrations). */
int mr_conn_script(struct mr_conn *c, const char *sql, struct mr_err *err);
/* Starts a write transaction (SQLite: BEGIN IMMEDIATE). */
int mr_conn_begin(struct mr_conn *c, struct mr_err *err);
/* Starts a read-only transaction: every read until the commit sees one snapshot. */
int mr_conn_begin_read(struct mr_conn *c, struct mr_err *err);
int mr_conn_commit(struct mr_conn *c, struct mr_err *err);
/* Rolls back; never fails in a way the caller can act on. */
void mr_conn_rollback(struct mr_conn *c);
/* Savepoints nest within a transaction; names are fixed identifiers. */
int mr_conn_savepoint(struct mr_conn *c, const char *name, struct mr_err *err);
int mr_conn_release_savepoint(struct mr_conn *c, const char *name, struct mr_err *err);
int mr_conn_rollback_to(struct mr_conn *c, const char *name, struct mr_err *err);

/* Advances to the next row: 1 when there is one, 0 at the end, <0 on error. */
int mr_rows_next(struct mr_rows *r, struct mr_err *err);
int mr_rows_isnull(struct mr_rows *r, int col);
int64_t mr_rows_int(struct mr_rows *r, int col);
double mr_rows_real(struct mr_rows *r, int col);
/* Column text, NUL-terminated, or NULL for SQL NULL; valid until the next mr_rows_next. */
const char *mr_rows_text(struct mr_rows *r, int col);
/* Column bytes; valid until the next mr_rows_next. */
const void *mr_rows_blob(struct mr_rows *r, int col, size_t *len);
/* Ends the query and frees r (NULL is fine). */
void mr_rows_close(struct mr_rows *r);

/*
 * Appends nrows rows to table: vals holds nrows * ncols values, row by row,
 * for the columns cols. The bulk path of the store: SQLite steps one
 * prepared INSERT per row; PostgreSQL sends the rows with COPY FROM STDIN.
 * A row that breaks a constraint fails the whole call (on PostgreSQL the
 * transaction too), so callers dedupe first or copy into a staging table.
 */
int mr_conn_copy(struct mr_conn *c, const char *table, const char *const *cols, int ncols,
		 const struct mr_val *vals, int nrows, struct mr_err *err);

/*
 * Bulk loads. mr_conn_defer_indexes drops the non-unique indexes of table
 * (in c's write transaction), keeping their definitions in the database;
 * *n gets how many. mr_conn_restore_indexes builds every index so dropped,
 * on any table, again; mr_store_migrate calls it too, so a load that died
 * half way loses no index.
 */
int mr_conn_defer_indexes(struct mr_conn *c, const char *table, int *n, struct mr_err *err);
int mr_conn_restore_indexes(struct mr_conn *c, struct mr_err *err);

/* Runs a query and reads its one row's first column as an integer; MR_ENOTFOUND when no row. */
int mr_conn_query_int(struct mr_conn *c, const char *sql, const struct mr_val *args, int nargs,
		      int64_t *out, struct mr_err *err);

#endif
