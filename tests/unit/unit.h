/*
 * Shared helpers of the unit tests: cmocka's headers in the right order,
 * and test databases of both backends: a fresh SQLite file in a temp
 * directory, and (when MEDREACH_TEST_PG_URL names a server, as
 * scripts/run-tests.sh arranges) a fresh PostgreSQL database on it.
 */
#ifndef MR_TESTS_UNIT_H
#define MR_TESTS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/keys.h"
#include "store/store.h"

struct mr_test_db {
	char url[512];
	char dir[256];     /* SQLite: the temp directory */
	char pg_name[64];  /* PostgreSQL: the database to drop */
	struct mr_store *store;
};

/* Runs one admin statement on the PostgreSQL server named by MEDREACH_TEST_PG_URL. */
static inline void mr_test_pg_admin(const char *sql)
{
	PGconn *c = PQconnectdb(getenv("MEDREACH_TEST_PG_URL"));
	PGresult *r;

	assert_int_equal(PQstatus(c), CONNECTION_OK);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

/* 1 when the PostgreSQL backend can be tested. */
static inline int mr_test_have_pg(void)
{
	const char *u = getenv("MEDREACH_TEST_PG_URL");
	return u && *u;
}

/* Opens (and migrates) a fresh database: pg=0 SQLite, pg=1 PostgreSQL. */
static inline void mr_test_db_open(struct mr_test_db *db, int pg)
{
	static int counter;
	struct mr_err err;

	memset(db, 0, sizeof(*db));
	mr_err_clear(&err);
	if (pg) {
		const char *base = getenv("MEDREACH_TEST_PG_URL");
		const char *slash = strrchr(base, '/');
		char sql[128];
		snprintf(db->pg_name, sizeof(db->pg_name), "mr_unit_%d_%d", (int)getpid(), ++counter);
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db->pg_name);
		mr_test_pg_admin(sql);
		snprintf(db->url, sizeof(db->url), "%.*s/%s", (int)(slash - base), base, db->pg_name);
	} else {
		snprintf(db->dir, sizeof(db->dir), "/tmp/mr-unit-XXXXXX");
		assert_non_null(mkdtemp(db->dir));
		snprintf(db->url, sizeof(db->url), "sqlite:%s/test.db", db->dir);
	}
	if (mr_store_open(&db->store, db->url, NULL, &err) < 0 || mr_store_migrate(db->store, &err) < 0)
		fail_msg("open %s: %s", db->url, err.msg);
}

static inline void mr_test_db_close(struct mr_test_db *db)
{
	char cmd[512];

	mr_store_close(db->store);
	db->store = NULL;
	if (db->pg_name[0]) {
		snprintf(cmd, sizeof(cmd), "DROP DATABASE IF EXISTS %s", db->pg_name);
		mr_test_pg_admin(cmd);
	}
	if (db->dir[0]) {
		snprintf(cmd, sizeof(cmd), "%s/test.db", db->dir);
		unlink(cmd);
		snprintf(cmd, sizeof(cmd), "%s/test.db-wal", db->dir);
		unlink(cmd);
		snprintf(cmd, sizeof(cmd), "%s/test.db-shm", db->dir);
		unlink(cmd);
		rmdir(db->dir);
	}
}

/* Deterministic keys for tests. */
static inline void mr_test_keys(struct mr_keys *k, unsigned char seed)
{
	memset(k->audit, seed, sizeof(k->audit));
	memset(k->pii, seed + 1, sizeof(k->pii));
	memset(k->index, seed + 2, sizeof(k->index));
}

/* Runs tests once per available backend: the state is an int* holding 0 (SQLite) or 1 (PostgreSQL). */
#define MR_TEST_BOTH(fn)                                               \
	cmocka_unit_test_prestate(fn, &mr_test_backend_sqlite),        \
	cmocka_unit_test_prestate(fn, &mr_test_backend_pg)

static int mr_test_backend_sqlite __attribute__((unused)) = 0;
static int mr_test_backend_pg __attribute__((unused)) = 1;

/* The backend a MR_TEST_BOTH test runs on; PostgreSQL without a server is a failure, not a skip. */
static inline int mr_test_backend(void **state)
{
	int pg = **(int **)state;
	if (pg && !mr_test_have_pg())
		fail_msg("set MEDREACH_TEST_PG_URL (make test starts a private PostgreSQL and does)");
	return pg;
}

#endif
