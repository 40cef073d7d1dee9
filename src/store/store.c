/*
 * The backend-independent half of the store: opening by URL, the
 * connection pool, transactions, the one-off write path for commands and
 * the statement cache the backends share.
 */
#include "store/store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/time.h"
#include "store/store_int.h"

int mr_store_open(struct mr_store **out, const char *url, const struct mr_store_opts *opts,
		  struct mr_err *err)
{
	struct mr_store *s;
	const struct mr_backend *be;
	const char *target;
	struct mr_conn *probe = NULL;
	int rc;

	*out = NULL;
	if (strncmp(url, "sqlite:", 7) == 0) {
		be = &mr_backend_sqlite;
		target = url + 7;
	} else if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0) {
		be = &mr_backend_pg;
		target = url;
	} else {
		return mr_err_set(err, MR_EINVAL,
				  "database '%s' is not understood: use sqlite:PATH or a postgresql:// URL",
				  url);
	}
	if (!*target)
		return mr_err_set(err, MR_EINVAL, "database URL '%s' names no file", url);
	s = mr_calloc(1, sizeof(*s));
	s->be = be;
	s->target = mr_strdup(target);
	if (opts)
		s->opts = *opts;
	if (s->opts.pool_size <= 0)
		s->opts.pool_size = 8;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_mutex_init(&s->write_mu, NULL);
	/* Connect once now, so a wrong URL fails at start and not on the first request. */
	rc = be->connect(s, 1, &probe, err);
	if (rc < 0) {
		mr_store_close(s);
		return rc;
	}
	s->write_conn = probe;
	if (be->start) {
		rc = be->start(s, err);
		if (rc < 0) {
			mr_store_close(s);
			return rc;
		}
	}
	*out = s;
	return 0;
}

void mr_store_close(struct mr_store *s)
{
	if (!s)
		return;
	if (s->be->stop)
		s->be->stop(s);
	while (s->free_list) {
		struct mr_conn *c = s->free_list;
		s->free_list = c->next_free;
		s->be->disconnect(c);
	}
	if (s->write_conn)
		s->be->disconnect(s->write_conn);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->write_mu);
	free(s->target);
	free(s);
}

enum mr_store_kind mr_store_kind(const struct mr_store *s)
{
	return s->be->kind;
}

const char *mr_store_kind_name(const struct mr_store *s)
{
	return s->be->name;
}

int mr_store_acquire(struct mr_store *s, struct mr_conn **out, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	int waited = 0;
	int rc;

	*out = NULL;
	pthread_mutex_lock(&s->mu);
	s->acquires++;
	while (!s->free_list && s->open_conns >= s->opts.pool_size) {
		if (!waited) {
			s->waits++;
			waited = 1;
		}
		pthread_cond_wait(&s->cv, &s->mu);
	}
	if (s->free_list) {
		c = s->free_list;
		s->free_list = c->next_free;
		s->in_use++;
		pthread_mutex_unlock(&s->mu);
		*out = c;
		return 0;
	}
	s->open_conns++;
	s->in_use++;
	pthread_mutex_unlock(&s->mu);
	rc = s->be->connect(s, 0, &c, err);
	if (rc < 0) {
		pthread_mutex_lock(&s->mu);
		s->open_conns--;
		s->in_use--;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		return rc;
	}
	*out = c;
	return 0;
}

void mr_store_release(struct mr_store *s, struct mr_conn *c)
{
	if (!c)
		return;
	if (c->in_tx)
		mr_conn_rollback(c);
	pthread_mutex_lock(&s->mu);
	c->next_free = s->free_list;
	s->free_list = c;
	s->in_use--;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void mr_store_pool_stats(struct mr_store *s, struct mr_pool_stats *out)
{
	pthread_mutex_lock(&s->mu);
	out->size = s->opts.pool_size;
	out->in_use = s->in_use;
	out->acquires = s->acquires;
	out->waits = s->waits;
	pthread_mutex_unlock(&s->mu);
}

int mr_store_connect(struct mr_store *s, struct mr_conn **out, struct mr_err *err)
{
	return s->be->connect(s, 1, out, err);
}

void mr_store_disconnect(struct mr_conn *c)
{
	if (c)
		c->be->disconnect(c);
}

int mr_store_write(struct mr_store *s, mr_write_fn fn, void *arg, struct mr_err *err)
{
	int rc;

	pthread_mutex_lock(&s->write_mu);
	rc = mr_conn_begin(s->write_conn, err);
	if (rc == 0) {
		rc = fn(s->write_conn, arg, err);
		if (rc == 0)
			rc = mr_conn_commit(s->write_conn, err);
		else
			mr_conn_rollback(s->write_conn);
	}
	pthread_mutex_unlock(&s->write_mu);
	return rc;
}

enum mr_store_kind mr_conn_kind(const struct mr_conn *c)
{
	return c->be->kind;
}

int mr_conn_exec(struct mr_conn *c, const char *sql, const struct mr_val *args, int nargs,
		 int64_t *changes, struct mr_err *err)
{
	return c->be->exec(c, sql, args, nargs, changes, err);
}

int mr_conn_query(struct mr_conn *c, const char *sql, const struct mr_val *args, int nargs,
		  struct mr_rows **out, struct mr_err *err)
{
	return c->be->query(c, sql, args, nargs, out, err);
}

int mr_conn_script(struct mr_conn *c, const char *sql, struct mr_err *err)
{
	return c->be->script(c, sql, err);
}

int mr_conn_begin(struct mr_conn *c, struct mr_err *err)
{
	int rc = c->be->script(c, c->be->begin_sql, err);

	if (rc == 0)
		c->in_tx = 1;
	return rc;
}

int mr_conn_begin_read(struct mr_conn *c, struct mr_err *err)
{
	int rc = c->be->script(c, c->be->begin_read_sql, err);

	if (rc == 0)
		c->in_tx = 1;
	return rc;
}

int mr_conn_commit(struct mr_conn *c, struct mr_err *err)
{
	int rc = c->be->script(c, "COMMIT", err);

	if (rc < 0)
		mr_conn_rollback(c);
	c->in_tx = 0;
	return rc;
}

void mr_conn_rollback(struct mr_conn *c)
{
	struct mr_err ignored;

	mr_err_clear(&ignored);
	c->be->script(c, "ROLLBACK", &ignored);
	c->in_tx = 0;
}

/* Runs "VERB name" for a savepoint verb; names are identifiers chosen by our code, never input. */
static int mr_conn_savepoint_cmd(struct mr_conn *c, const char *verb, const char *name,
				 struct mr_err *err)
{
	char sql[96];

	snprintf(sql, sizeof(sql), "%s %s", verb, name);
	return c->be->script(c, sql, err);
}

int mr_conn_savepoint(struct mr_conn *c, const char *name, struct mr_err *err)
{
	return mr_conn_savepoint_cmd(c, "SAVEPOINT", name, err);
}

int mr_conn_release_savepoint(struct mr_conn *c, const char *name, struct mr_err *err)
{
	return mr_conn_savepoint_cmd(c, "RELEASE SAVEPOINT", name, err);
}

int mr_conn_rollback_to(struct mr_conn *c, const char *name, struct mr_err *err)
{
	return mr_conn_savepoint_cmd(c, "ROLLBACK TO SAVEPOINT", name, err);
}

int mr_rows_next(struct mr_rows *r, struct mr_err *err)
{
	return r->be->rows_next(r, err);
}

int mr_rows_isnull(struct mr_rows *r, int col)
{
	return r->be->rows_isnull(r, col);
}

int64_t mr_rows_int(struct mr_rows *r, int col)
{
	return r->be->rows_int(r, col);
}

double mr_rows_real(struct mr_rows *r, int col)
{
	return r->be->rows_real(r, col);
}

const char *mr_rows_text(struct mr_rows *r, int col)
{
	return r->be->rows_text(r, col);
}

const void *mr_rows_blob(struct mr_rows *r, int col, size_t *len)
{
	return r->be->rows_blob(r, col, len);
}

void mr_rows_close(struct mr_rows *r)
{
	if (r)
		r->be->rows_close(r);
}

int mr_conn_query_int(struct mr_conn *c, const char *sql, const struct mr_val *args, int nargs,
		      int64_t *out, struct mr_err *err)
{
	struct mr_rows *r = NULL;
	int rc = mr_conn_query(c, sql, args, nargs, &r, err);

	if (rc < 0)
		return rc;
	rc = mr_rows_next(r, err);
	if (rc == 1) {
		*out = mr_rows_int(r, 0);
		rc = 0;
	} else if (rc == 0) {
		rc = mr_err_set(err, MR_ENOTFOUND, "no row");
	}
	mr_rows_close(r);
	return rc;
}

/* Reads rows of (name, ddl) from sql with one text parameter into a JSON array of pairs. */
static int mr_index_rows(struct mr_conn *c, const char *sql, const char *param, json_t *out,
			 struct mr_err *err)
{
	struct mr_val arg = mr_v_text(param);
	struct mr_rows *rows = NULL;
	int rc = mr_conn_query(c, sql, param ? &arg : NULL, param ? 1 : 0, &rows, err);

	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		json_array_append_new(out, json_pack("[s,s]", mr_rows_text(rows, 0), mr_rows_text(rows, 1)));
		rc = 0;
	}
	mr_rows_close(rows);
	return rc < 0 ? rc : 0;
}

/* Index names come from the catalog; quoted all the same, as identifiers. */
static void mr_index_drop_sql(const char *name, char *out, size_t n)
{
	snprintf(out, n, "DROP INDEX \"%s\"", name);
}

int mr_conn_copy(struct mr_conn *c, const char *table, const char *const *cols, int ncols,
		 const struct mr_val *vals, int nrows, struct mr_err *err)
{
	if (nrows <= 0)
		return 0;
	return c->be->copy(c, table, cols, ncols, vals, nrows, err);
}

int mr_conn_defer_indexes(struct mr_conn *c, const char *table, int *n, struct mr_err *err)
{
	json_t *list = json_array();
	int rc = mr_index_rows(c, c->be->index_list_sql, table, list, err);
	size_t i;
	json_t *pair;

	*n = 0;
	json_array_foreach(list, i, pair) {
		const char *name = json_string_value(json_array_get(pair, 0));
		const char *ddl = json_string_value(json_array_get(pair, 1));
		struct mr_val args[] = { mr_v_text(name), mr_v_text(table), mr_v_text(ddl),
					 mr_v_int(mr_now_us()) };
		char drop[200];

		if (rc < 0)
			break;
		if (strlen(name) > 120 || strchr(name, '"'))
			continue;
		rc = mr_conn_exec(c, "INSERT INTO deferred_indexes (name, tbl, ddl, deferred_at)"
				  " VALUES (?, ?, ?, ?)", args, 4, NULL, err);
		mr_index_drop_sql(name, drop, sizeof(drop));
		if (rc == 0)
			rc = mr_conn_script(c, drop, err);
		if (rc == 0)
			(*n)++;
	}
	json_decref(list);
	return rc;
}

int mr_conn_restore_indexes(struct mr_conn *c, struct mr_err *err)
{
	json_t *list = json_array();
	int rc = mr_index_rows(c, "SELECT name, ddl FROM deferred_indexes ORDER BY name", NULL, list, err);
	size_t i;
	json_t *pair;

	json_array_foreach(list, i, pair) {
		struct mr_val arg = mr_v_text(json_string_value(json_array_get(pair, 0)));

		if (rc < 0)
			break;
		rc = mr_conn_script(c, json_string_value(json_array_get(pair, 1)), err);
		if (rc == 0)
			rc = mr_conn_exec(c, "DELETE FROM deferred_indexes WHERE name = ?", &arg, 1, NULL, err);
	}
	json_decref(list);
	return rc;
}

/* FNV-1a: fast, and good enough for a table of at most a thousand SQL texts. */
static uint64_t mr_sql_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static void mr_stmt_cache_grow(struct mr_stmt_cache *c)
{
	size_t cap = c->cap ? c->cap * 2 : 64;
	struct mr_stmt_entry *e = mr_calloc(cap, sizeof(*e));

	for (size_t i = 0; i < c->cap; i++) {
		size_t j;
		if (!c->e[i].sql)
			continue;
		j = c->e[i].hash & (cap - 1);
		while (e[j].sql)
			j = (j + 1) & (cap - 1);
		e[j] = c->e[i];
	}
	free(c->e);
	c->e = e;
	c->cap = cap;
}

struct mr_stmt_entry *mr_stmt_cache_get(struct mr_stmt_cache *c, const char *sql)
{
	uint64_t h = mr_sql_hash(sql);
	size_t i;

	if (c->cap == 0 || (c->n + 1) * 2 > c->cap) {
		if (c->n >= MR_STMT_CACHE_MAX)
			goto lookup_only;
		mr_stmt_cache_grow(c);
	}
	i = h & (c->cap - 1);
	while (c->e[i].sql) {
		if (c->e[i].hash == h && strcmp(c->e[i].sql, sql) == 0)
			return &c->e[i];
		i = (i + 1) & (c->cap - 1);
	}
	c->e[i].hash = h;
	c->e[i].sql = mr_strdup(sql);
	c->e[i].handle = NULL;
	c->e[i].busy = 0;
	c->n++;
	return &c->e[i];

lookup_only:
	i = h & (c->cap - 1);
	while (c->e[i].sql) {
		if (c->e[i].hash == h && strcmp(c->e[i].sql, sql) == 0)
			return &c->e[i];
		i = (i + 1) & (c->cap - 1);
	}
	return NULL;
}

void mr_stmt_cache_release(struct mr_stmt_cache *c, void (*fin)(void *handle))
{
	for (size_t i = 0; i < c->cap; i++) {
		if (!c->e[i].sql)
			continue;
		if (c->e[i].handle && fin)
			fin(c->e[i].handle);
		free(c->e[i].sql);
	}
	free(c->e);
	c->e = NULL;
	c->cap = 0;
	c->n = 0;
}
