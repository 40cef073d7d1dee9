/*
 * Unit tests of the store interface, run against both real backends:
 * parameter and result types, conflicts, transactions and savepoints,
 * the statement cache under nesting, the pool, and migrations.
 */
#include "unit.h"

#include "store/schema.h"

static void scratch_table(struct mr_conn *c)
{
	struct mr_err err;

	mr_err_clear(&err);
	if (mr_conn_script(c, mr_conn_kind(c) == MR_STORE_PG
				      ? "CREATE TABLE t (k TEXT PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, b BYTEA)"
				      : "CREATE TABLE t (k TEXT PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, b BLOB)",
			   &err) < 0)
		fail_msg("%s", err.msg);
}

static int write_rows(struct mr_conn *c, void *arg, struct mr_err *err)
{
	static const unsigned char blob[] = { 0, 1, 2, 255, 0, 7 };
	struct mr_val a[4];
	int rc;

	(void)arg;
	scratch_table(c);
	a[0] = mr_v_text("王医生");
	a[1] = mr_v_int(INT64_C(-9007199254740993));
	a[2] = mr_v_real(0.25);
	a[3] = mr_v_blob(blob, sizeof(blob));
	rc = mr_conn_exec(c, "INSERT INTO t (k, i, d, b) VALUES (?, ?, ?, ?)", a, 4, NULL, err);
	if (rc < 0)
		return rc;
	a[0] = mr_v_text("null row");
	a[1] = mr_v_null();
	a[2] = mr_v_null();
	a[3] = mr_v_null();
	return mr_conn_exec(c, "INSERT INTO t (k, i, d, b) VALUES (?, ?, ?, ?)", a, 4, NULL, err);
}

static void test_types_round_trip(void **state)
{
	struct mr_test_db db;
	struct mr_conn *c = NULL;
	struct mr_rows *r = NULL;
	struct mr_err err;
	size_t n = 0;
	const unsigned char *b;

	mr_test_db_open(&db, mr_test_backend(state));
	mr_err_clear(&err);
	assert_int_equal(mr_store_write(db.store, write_rows, NULL, &err), 0);
	assert_int_equal(mr_store_acquire(db.store, &c, &err), 0);
	assert_int_equal(mr_conn_query(c, "SELECT k, i, d, b FROM t ORDER BY k DESC", NULL, 0, &r, &err), 0);
	assert_int_equal(mr_rows_next(r, &err), 1);
	assert_string_equal(mr_rows_text(r, 0), "王医生");
	assert_true(mr_rows_int(r, 1) == INT64_C(-9007199254740993));
	assert_true(mr_rows_real(r, 2) == 0.25);
	b = mr_rows_blob(r, 3, &n);
	assert_int_equal(n, 6);
	assert_int_equal(b[3], 255);
	assert_int_equal(b[4], 0);
	assert_int_equal(mr_rows_next(r, &err), 1);
	assert_string_equal(mr_rows_text(r, 0), "null row");
	assert_true(mr_rows_isnull(r, 1));
	assert_null(mr_rows_blob(r, 3, &n));
	assert_int_equal(mr_rows_next(r, &err), 0);
	mr_rows_close(r);
	mr_store_release(db.store, c);
	mr_test_db_close(&db);
}

static int insert_twice(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_val k = mr_v_text("dup");
	int rc;

	(void)arg;
	scratch_table(c);
	rc = mr_conn_exec(c, "INSERT INTO t (k) VALUES (?)", &k, 1, NULL, err);
	if (rc < 0)
		return rc;
	return mr_conn_exec(c, "INSERT INTO t (k) VALUES (?)", &k, 1, NULL, err);
}

static void test_unique_violation_is_conflict_and_rolls_back(void **state)
{
	struct mr_test_db db;
	struct mr_conn *c = NULL;
	struct mr_err err;
	int64_t n = -1;

	mr_test_db_open(&db, mr_test_backend(state));
	mr_err_clear(&err);
	assert_int_equal(mr_store_write(db.store, insert_twice, NULL, &err), MR_ECONFLICT);
	/* the whole transaction, CREATE TABLE included, was rolled back */
	assert_int_equal(mr_store_acquire(db.store, &c, &err), 0);
	assert_int_equal(mr_conn_query_int(c, "SELECT COUNT(*) FROM t", NULL, 0, &n, &err), MR_EDB);
	mr_store_release(db.store, c);
	mr_test_db_close(&db);
}

static int savepoints(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_val a = mr_v_text("kept"), b = mr_v_text("undone");
	struct mr_err ignore;

	(void)arg;
	mr_err_clear(&ignore);
	scratch_table(c);
	assert_int_equal(mr_conn_exec(c, "INSERT INTO t (k) VALUES (?)", &a, 1, NULL, err), 0);
	assert_int_equal(mr_conn_savepoint(c, "sp1", err), 0);
	assert_int_equal(mr_conn_exec(c, "INSERT INTO t (k) VALUES (?)", &b, 1, NULL, err), 0);
	assert_int_equal(mr_conn_exec(c, "INSERT INTO t (k) VALUES (?)", &b, 1, NULL, &ignore), MR_ECONFLICT);
	assert_int_equal(mr_conn_rollback_to(c, "sp1", err), 0);
	assert_int_equal(mr_conn_release_savepoint(c, "sp1", err), 0);
	return 0;
}

static void test_savepoint_undoes_only_its_part(void **state)
{
	struct mr_test_db db;
	struct mr_conn *c = NULL;
	struct mr_rows *r = NULL;
	struct mr_err err;

	mr_test_db_open(&db, mr_test_backend(state));
	mr_err_clear(&err);
	assert_int_equal(mr_store_write(db.store, savepoints, NULL, &err), 0);
	assert_int_equal(mr_store_acquire(db.store, &c, &err), 0);
	assert_int_equal(mr_conn_query(c, "SELECT k FROM t", NULL, 0, &r, &err), 0);
	assert_int_equal(mr_rows_next(r, &err), 1);
	assert_string_equal(mr_rows_text(r, 0), "kept");
	assert_int_equal(mr_rows_next(r, &err), 0);
	mr_rows_close(r);
	mr_store_release(db.store, c);
	mr_test_db_close(&db);
}

static void test_nested_use_of_one_statement(void **state)
{
	struct mr_test_db db;
	struct mr_conn *c = NULL;
	struct mr_rows *outer = NULL, *inner = NULL;
	struct mr_err err;
	const char *sql = "SELECT id, login FROM users ORDER BY id";
	int outer_rows = 0;

	mr_test_db_open(&db, mr_test_backend(state));
	mr_err_clear(&err);
	assert_int_equal(mr_store_acquire(db.store, &c, &err), 0);
	/* the same SQL open twice at once on one connection must not disturb the first */
	assert_int_equal(mr_conn_query(c, sql, NULL, 0, &outer, &err), 0);
	assert_int_equal(mr_conn_query(c, sql, NULL, 0, &inner, &err), 0);
	assert_int_equal(mr_rows_next(inner, &err), 0);
	mr_rows_close(inner);
	while (mr_rows_next(outer, &err) == 1)
		outer_rows++;
	mr_rows_close(outer);
	assert_int_equal(outer_rows, 0);
	/* a bad statement is an error, and the connection stays usable */
	assert_int_equal(mr_conn_query(c, "SELECT nope FROM nothing", NULL, 0, &outer, &err), MR_EDB);
	assert_non_null(strstr(err.msg, "nothing"));
	assert_int_equal(mr_conn_query(c, sql, NULL, 0, &outer, &err), 0);
	mr_rows_close(outer);
	mr_store_release(db.store, c);
	mr_test_db_close(&db);
}

static void test_pool_hands_out_distinct_connections(void **state)
{
	struct mr_test_db db;
	struct mr_conn *c[4];
	struct mr_pool_stats ps;
	struct mr_err err;

	mr_test_db_open(&db, mr_test_backend(state));
	mr_err_clear(&err);
	for (int i = 0; i < 4; i++)
		assert_int_equal(mr_store_acquire(db.store, &c[i], &err), 0);
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			assert_ptr_not_equal(c[i], c[j]);
	mr_store_pool_stats(db.store, &ps);
	assert_int_equal(ps.in_use, 4);
	for (int i = 0; i < 4; i++)
		mr_store_release(db.store, c[i]);
	mr_store_pool_stats(db.store, &ps);
	assert_int_equal(ps.in_use, 0);
	assert_int_equal(ps.acquires, 4);
	mr_test_db_close(&db);
}

static void test_migrations_are_recorded_and_idempotent(void **state)
{
	struct mr_test_db db;
	struct mr_err err;
	int64_t v = 0;

	mr_test_db_open(&db, mr_test_backend(state));
	mr_err_clear(&err);
	assert_int_equal(mr_store_schema_version(db.store, &v, &err), 0);
	assert_int_equal(v, mr_migrations[mr_migrations_count - 1].version);
	assert_int_equal(mr_store_migrate(db.store, &err), 0);
	assert_int_equal(mr_store_migrate(db.store, &err), 0);
	assert_int_equal(mr_store_schema_version(db.store, &v, &err), 0);
	assert_int_equal(v, mr_migrations[mr_migrations_count - 1].version);
	mr_test_db_close(&db);
}

static int future_version(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_val a[3] = { mr_v_int(9999), mr_v_text("from the future"), mr_v_int(1) };

	(void)arg;
	return mr_conn_exec(c, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
			    a, 3, NULL, err);
}

static void test_newer_database_is_refused(void **state)
{
	struct mr_test_db db;
	struct mr_err err;

	mr_test_db_open(&db, mr_test_backend(state));
	mr_err_clear(&err);
	assert_int_equal(mr_store_write(db.store, future_version, NULL, &err), 0);
	assert_int_equal(mr_store_migrate(db.store, &err), MR_EUNPROC);
	assert_non_null(strstr(err.msg, "newer than this medreach"));
	mr_test_db_close(&db);
}

static void test_open_rejects_unknown_urls(void **state)
{
	struct mr_store *s = NULL;
	struct mr_err err;

	(void)state;
	mr_err_clear(&err);
	assert_int_equal(mr_store_open(&s, "mysql://x", NULL, &err), MR_EINVAL);
	assert_non_null(strstr(err.msg, "sqlite:PATH"));
	assert_int_equal(mr_store_open(&s, "sqlite:", NULL, &err), MR_EINVAL);
	assert_int_equal(mr_store_open(&s, "postgresql://nobody@127.0.0.1:1/none", NULL, &err), MR_EDB);
	assert_non_null(strstr(err.msg, "cannot connect"));
	assert_null(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		MR_TEST_BOTH(test_types_round_trip),
		MR_TEST_BOTH(test_unique_violation_is_conflict_and_rolls_back),
		MR_TEST_BOTH(test_savepoint_undoes_only_its_part),
		MR_TEST_BOTH(test_nested_use_of_one_statement),
		MR_TEST_BOTH(test_pool_hands_out_distinct_connections),
		MR_TEST_BOTH(test_migrations_are_recorded_and_idempotent),
		MR_TEST_BOTH(test_newer_database_is_refused),
		cmocka_unit_test(test_open_rejects_unknown_urls),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
