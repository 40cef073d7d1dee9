/*
 * What the generic store (store.c) and its backends (sqlite.c, pg.c) share
 * and nobody else sees: the backend hook table, the common heads of
 * connections and result sets, and the per-connection statement cache.
 */
#ifndef MR_STORE_STORE_INT_H
#define MR_STORE_STORE_INT_H

#include <pthread.h>

#include "store/store.h"

struct mr_backend {
	const char *name;
	enum mr_store_kind kind;
	/* Opens a connection; write=1 for the write path. */
	int (*connect)(struct mr_store *s, int write, struct mr_conn **out, struct mr_err *err);
	void (*disconnect)(struct mr_conn *c);
	int (*exec)(struct mr_conn *c, const char *sql, const struct mr_val *args, int nargs,
		    int64_t *changes, struct mr_err *err);
	int (*query)(struct mr_conn *c, const char *sql, const struct mr_val *args, int nargs,
		     struct mr_rows **out, struct mr_err *err);
	/* Runs parameterless ;-separated SQL, also transaction control. */
	int (*script)(struct mr_conn *c, const char *sql, struct mr_err *err);
	const char *begin_sql;
	const char *begin_read_sql;
	const char *id_type;   /* what @ID@ becomes */
	const char *seq_type;  /* what @SEQ@ becomes: an increasing 64-bit key, never reused */
	const char *blob_type; /* what @BLOB@ becomes */
	const char *key_type;  /* what @KEY@ becomes: text that sorts bytewise (prefix ranges) */
	/* name and definition of each non-unique index of the table given as the one parameter */
	const char *index_list_sql;
	int (*rows_next)(struct mr_rows *r, struct mr_err *err);
	int (*rows_isnull)(struct mr_rows *r, int col);
	const char *(*rows_text)(struct mr_rows *r, int col);
	const void *(*rows_blob)(struct mr_rows *r, int col, size_t *len);
	int64_t (*rows_int)(struct mr_rows *r, int col);
	double (*rows_real)(struct mr_rows *r, int col);
	void (*rows_close)(struct mr_rows *r);
	/* mr_conn_copy: nrows rows of ncols values into table's columns cols. */
	int (*copy)(struct mr_conn *c, const char *table, const char *const *cols, int ncols,
		    const struct mr_val *vals, int nrows, struct mr_err *err);
	/* Starts and stops what the backend runs beside its connections (may be NULL). */
	int (*start)(struct mr_store *s, struct mr_err *err);
	void (*stop)(struct mr_store *s);
};

extern const struct mr_backend mr_backend_sqlite;
extern const struct mr_backend mr_backend_pg;

/* The head every backend's connection starts with. */
struct mr_conn {
	const struct mr_backend *be;
	struct mr_store *store;
	struct mr_conn *next_free;
	int in_tx;
};

/* The head every backend's result set starts with. */
struct mr_rows {
	const struct mr_backend *be;
};

struct mr_store {
	const struct mr_backend *be;
	char *target;             /* the file path (SQLite) or the connection URL (PostgreSQL) */
	struct mr_store_opts opts;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct mr_conn *free_list;
	int open_conns;
	int in_use;
	uint64_t acquires;
	uint64_t waits;
	pthread_mutex_t write_mu; /* serialises mr_store_write */
	struct mr_conn *write_conn;
	void *be_state;           /* the backend's own, between start and stop */
};

/* A statement cache keyed by SQL text; a backend stores its handle or id per entry. */
struct mr_stmt_entry {
	uint64_t hash;
	char *sql;
	void *handle;
	int busy; /* a result set is reading from it */
};

struct mr_stmt_cache {
	struct mr_stmt_entry *e;
	size_t cap;
	size_t n;
};

enum { MR_STMT_CACHE_MAX = 1024 };

/* Finds sql's entry, or claims a new one (handle NULL) when there is room; NULL when full. */
struct mr_stmt_entry *mr_stmt_cache_get(struct mr_stmt_cache *c, const char *sql);
/* Calls fin on every handle and frees the cache's memory. */
void mr_stmt_cache_release(struct mr_stmt_cache *c, void (*fin)(void *handle));

#endif
