/*
 * Unit tests of the audit chain on both backends: an untouched chain
 * verifies; each kind of tampering done directly in SQL (edit, delete in
 * the middle, cut the end, reorder, forge an insertion, wrong key) is
 * caught and names the first bad sequence number.
 */
#include "unit.h"

#include "audit/audit.h"
#include "base/time.h"

enum { RECORDS = 12 };

struct append_job {
	const struct mr_keys *keys;
	int n;
};

static int append_records(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct append_job *j = arg;
	unsigned char digest[MR_AUDIT_DIGEST];

	memset(digest, 0xab, sizeof(digest));
	for (int i = 0; i < j->n; i++) {
		struct mr_audit_rec rec;
		char id[16];
		int64_t seq = 0;
		int rc;
		snprintf(id, sizeof(id), "%d", i);
		memset(&rec, 0, sizeof(rec));
		rec.user_id = 1 + i % 3;
		rec.login = i % 2 ? "王医生" : "admin";
		rec.role = "admin";
		rec.action = i % 3 ? "user.update" : "auth.login";
		rec.entity = "user";
		rec.entity_id = id;
		rec.request_id = "req";
		rec.ip = "127.0.0.1";
		rec.status = 200;
		rec.after = i % 2 ? digest : NULL;
		rc = mr_audit_append(c, j->keys, &rec, &seq, err);
		if (rc < 0)
			return rc;
		assert_true(seq > 0);
	}
	return 0;
}

static int run_sql(struct mr_conn *c, void *arg, struct mr_err *err)
{
	return mr_conn_script(c, arg, err);
}

/* A database with RECORDS audit records; returns its keys. */
static void setup_chain(struct mr_test_db *db, void **state, struct mr_keys *k)
{
	struct append_job j;
	struct mr_err err;

	mr_test_db_open(db, mr_test_backend(state));
	mr_test_keys(k, 7);
	j.keys = k;
	j.n = RECORDS / 2;
	mr_err_clear(&err);
	/* two transactions, so the head is read back from the table in between */
	assert_int_equal(mr_store_write(db->store, append_records, &j, &err), 0);
	assert_int_equal(mr_store_write(db->store, append_records, &j, &err), 0);
}

static void expect_bad(struct mr_test_db *db, const struct mr_keys *k, const char *tamper,
		       int64_t bad_seq)
{
	struct mr_audit_check check;
	struct mr_err err;

	mr_err_clear(&err);
	if (tamper && mr_store_write(db->store, run_sql, (void *)tamper, &err) < 0)
		fail_msg("%s: %s", tamper, err.msg);
	assert_int_equal(mr_audit_verify(db->store, k, &check, &err), 0);
	if (bad_seq == 0) {
		assert_true(check.ok);
		assert_int_equal(check.records, RECORDS);
		return;
	}
	if (check.ok || check.first_bad_seq != bad_seq)
		fail_msg("after '%s': ok=%d first_bad_seq=%lld, expected %lld (%s)", tamper, check.ok,
			 (long long)check.first_bad_seq, (long long)bad_seq, check.reason);
}

static void test_untouched_chain_verifies(void **state)
{
	struct mr_test_db db;
	struct mr_keys k;

	setup_chain(&db, state, &k);
	expect_bad(&db, &k, NULL, 0);
	mr_test_db_close(&db);
}

static void test_edit_is_caught(void **state)
{
	struct mr_test_db db;
	struct mr_keys k;

	setup_chain(&db, state, &k);
	expect_bad(&db, &k, "UPDATE audit_log SET action = 'auth.logout' WHERE seq = 5", 5);
	mr_test_db_close(&db);
}

static void test_edit_of_timestamp_is_caught(void **state)
{
	struct mr_test_db db;
	struct mr_keys k;

	setup_chain(&db, state, &k);
	expect_bad(&db, &k, "UPDATE audit_log SET ts = ts + 1 WHERE seq = 9", 9);
	mr_test_db_close(&db);
}

static void test_delete_in_the_middle_is_caught(void **state)
{
	struct mr_test_db db;
	struct mr_keys k;

	setup_chain(&db, state, &k);
	expect_bad(&db, &k, "DELETE FROM audit_log WHERE seq = 4", 4);
	mr_test_db_close(&db);
}

static void test_cutting_the_end_is_caught(void **state)
{
	struct mr_test_db db;
	struct mr_keys k;

	setup_chain(&db, state, &k);
	expect_bad(&db, &k, "DELETE FROM audit_log WHERE seq >= 11", 11);
	mr_test_db_close(&db);
}

static void test_reordering_is_caught(void **state)
{
	struct mr_test_db db;
	struct mr_keys k;

	setup_chain(&db, state, &k);
	/* swap records 3 and 6 by renumbering them */
	expect_bad(&db, &k,
		   "UPDATE audit_log SET seq = -3 WHERE seq = 3;"
		   " UPDATE audit_log SET seq = 3 WHERE seq = 6;"
		   " UPDATE audit_log SET seq = 6 WHERE seq = -3",
		   3);
	mr_test_db_close(&db);
}

static void test_forged_insertion_is_caught(void **state)
{
	struct mr_test_db db;
	struct mr_keys k;

	setup_chain(&db, state, &k);
	/* a copy of the last record appended as a new one, head moved along */
	expect_bad(&db, &k,
		   "INSERT INTO audit_log (seq, ts, user_id, login, role, action, entity, entity_id,"
		   " request_id, ip, status, before_digest, after_digest, prev_hash, hash)"
		   " SELECT 13, ts, user_id, login, role, 'user.delete', entity, entity_id, request_id,"
		   " ip, status, before_digest, after_digest, hash, hash FROM audit_log WHERE seq = 12;"
		   " UPDATE audit_head SET seq = 13",
		   13);
	mr_test_db_close(&db);
}

static void test_wrong_key_fails_at_the_first_record(void **state)
{
	struct mr_test_db db;
	struct mr_keys k, other;
	struct mr_audit_check check;
	struct mr_err err;

	setup_chain(&db, state, &k);
	mr_test_keys(&other, 9);
	mr_err_clear(&err);
	assert_int_equal(mr_audit_verify(db.store, &other, &check, &err), 0);
	assert_false(check.ok);
	assert_int_equal(check.first_bad_seq, 1);
	mr_test_db_close(&db);
}

/* The records of many reads, appended in bulk between single ones, in one chain. */
static int append_bulk(struct mr_conn *c, void *arg, struct mr_err *err)
{
	const struct mr_keys *k = arg;
	struct mr_audit_rec recs[7];
	const struct mr_audit_rec *p[7];
	char ids[7][16];

	for (int i = 0; i < 7; i++) {
		snprintf(ids[i], sizeof(ids[i]), "D%04d", i);
		memset(&recs[i], 0, sizeof(recs[i]));
		recs[i].user_id = 2;
		recs[i].login = "rep\t1"; /* a tab: COPY's text format must escape it */
		recs[i].role = "field_rep";
		recs[i].action = "hcp.read";
		recs[i].entity = "hcp";
		recs[i].entity_id = ids[i];
		recs[i].ip = "10.0.0.1";
		recs[i].status = 200;
		p[i] = &recs[i];
	}
	return mr_audit_append_many(c, k, p, 7, err);
}

static void test_bulk_append_continues_the_chain(void **state)
{
	struct mr_test_db db;
	struct mr_keys k;
	struct append_job j;
	struct mr_audit_check check;
	struct mr_conn *c = NULL;
	struct mr_err err;
	int64_t n = 0;
	struct mr_val arg = mr_v_text("D0003");

	mr_test_db_open(&db, mr_test_backend(state));
	mr_test_keys(&k, 7);
	j.keys = &k;
	j.n = 3;
	mr_err_clear(&err);
	assert_int_equal(mr_store_write(db.store, append_records, &j, &err), 0);
	assert_int_equal(mr_store_write(db.store, append_bulk, &k, &err), 0);
	j.n = 2;
	assert_int_equal(mr_store_write(db.store, append_records, &j, &err), 0);
	assert_int_equal(mr_audit_verify(db.store, &k, &check, &err), 0);
	if (!check.ok)
		fail_msg("bulk chain: first bad %lld: %s", (long long)check.first_bad_seq, check.reason);
	assert_int_equal(check.records, RECORDS);
	/* the bulk rows are the records given, in order, with their strings intact */
	assert_int_equal(mr_store_acquire(db.store, &c, &err), 0);
	assert_int_equal(mr_conn_query_int(c, "SELECT seq FROM audit_log WHERE entity_id = ? AND login = 'rep	1'",
					   &arg, 1, &n, &err), 0);
	mr_store_release(db.store, c);
	assert_int_equal(n, 3 + 3 + 1);
	/* and tampering with one of them is caught there */
	expect_bad(&db, &k, "UPDATE audit_log SET entity_id = 'D9999' WHERE seq = 7", 7);
	mr_test_db_close(&db);
}

static void test_digest_is_canonical(void **state)
{
	struct mr_keys k;
	unsigned char a[MR_AUDIT_DIGEST], b[MR_AUDIT_DIGEST], c[MR_AUDIT_DIGEST];
	json_t *x = json_pack("{s:s,s:i}", "name", "王", "n", 1);
	json_t *y = json_pack("{s:i,s:s}", "n", 1, "name", "王");
	json_t *z = json_pack("{s:i,s:s}", "n", 2, "name", "王");

	(void)state;
	mr_test_keys(&k, 1);
	mr_audit_digest(&k, x, a);
	mr_audit_digest(&k, y, b);
	mr_audit_digest(&k, z, c);
	assert_memory_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, c, sizeof(a));
	json_decref(x);
	json_decref(y);
	json_decref(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		MR_TEST_BOTH(test_untouched_chain_verifies),
		MR_TEST_BOTH(test_edit_is_caught),
		MR_TEST_BOTH(test_edit_of_timestamp_is_caught),
		MR_TEST_BOTH(test_delete_in_the_middle_is_caught),
		MR_TEST_BOTH(test_cutting_the_end_is_caught),
		MR_TEST_BOTH(test_reordering_is_caught),
		MR_TEST_BOTH(test_forged_insertion_is_caught),
		MR_TEST_BOTH(test_wrong_key_fails_at_the_first_record),
		MR_TEST_BOTH(test_bulk_append_continues_the_chain),
		cmocka_unit_test(test_digest_is_canonical),
	};
	return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
