/*
 * Unit tests of the group-commit writer on both backends: concurrent
 * submitters are batched into fewer transactions, every acknowledged write
 * is visible to a fresh reader, and one failing write does not take the
 * others of its batch down with it.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "unit.h"

#include "store/writer.h"

enum { THREADS = 8, PER_THREAD = 50 };

struct submitter {
	struct mr_writer *w;
	int id;
	int fails; /* writes this thread expected to fail, and saw fail */
	int bad;   /* writes whose result was not what was expected */
};

struct row_job {
	int thread;
	int seq;
	int poison; /* make this write fail after inserting */
};

static int create_table(struct mr_conn *c, void *arg, struct mr_err *err)
{
	(void)arg;
	return mr_conn_script(c, "CREATE TABLE w (thread INTEGER, seq INTEGER, PRIMARY KEY (thread, seq))",
			      err);
}

static int insert_row(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct row_job *j = arg;
	struct mr_val a[2] = { mr_v_int(j->thread), mr_v_int(j->seq) };
	int rc = mr_conn_exec(c, "INSERT INTO w (thread, seq) VALUES (?, ?)", a, 2, NULL, err);

	if (rc == 0 && j->poison)
		return mr_err_set(err, MR_EUNPROC, "poisoned write %d/%d", j->thread, j->seq);
	return rc;
}

static void *submit_many(void *arg)
{
	struct submitter *s = arg;

	for (int i = 0; i < PER_THREAD; i++) {
		struct row_job j = { s->id, i, i % 10 == 3 };
		struct mr_err err;
		int rc;
		mr_err_clear(&err);
		rc = mr_writer_submit(s->w, insert_row, &j, &err);
		if (j.poison && rc == MR_EUNPROC && strstr(err.msg, "poisoned"))
			s->fails++;
		else if (j.poison || rc != 0)
			s->bad++;
	}
	return NULL;
}

static void test_group_commit_batches_and_isolates_failures(void **state)
{
	struct mr_test_db db;
	struct mr_writer *w = NULL;
	struct submitter subs[THREADS];
	pthread_t th[THREADS];
	struct mr_writer_stats ws;
	struct mr_conn *c = NULL;
	struct mr_err err;
	int64_t n = 0, poisoned = 0;

	mr_test_db_open(&db, mr_test_backend(state));
	mr_err_clear(&err);
	assert_int_equal(mr_writer_start(&w, db.store, &err), 0);
	assert_int_equal(mr_writer_submit(w, create_table, NULL, &err), 0);
	for (int i = 0; i < THREADS; i++) {
		subs[i] = (struct submitter){ w, i, 0, 0 };
		pthread_create(&th[i], NULL, submit_many, &subs[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(subs[i].bad, 0);
		assert_int_equal(subs[i].fails, PER_THREAD / 10);
	}
	mr_writer_stats(w, &ws);
	mr_writer_stop(w);
	/* every acknowledged write is there, every failed one is not */
	assert_int_equal(mr_store_acquire(db.store, &c, &err), 0);
	assert_int_equal(mr_conn_query_int(c, "SELECT COUNT(*) FROM w", NULL, 0, &n, &err), 0);
	assert_int_equal(n, THREADS * (PER_THREAD - PER_THREAD / 10));
	assert_int_equal(mr_conn_query_int(c, "SELECT COUNT(*) FROM w WHERE seq % 10 = 3", NULL, 0,
					   &poisoned, &err), 0);
	assert_int_equal(poisoned, 0);
	mr_store_release(db.store, c);
	assert_int_equal(ws.jobs, THREADS * PER_THREAD + 1);
	assert_int_equal(ws.failed, THREADS * (PER_THREAD / 10));
	/* concurrent submitters shared transactions */
	assert_true(ws.batches < ws.jobs);
	assert_true(ws.max_batch > 1);
	mr_test_db_close(&db);
}

static int fail_always(struct mr_conn *c, void *arg, struct mr_err *err)
{
	(void)c;
	(void)arg;
	return mr_err_set(err, MR_ECONFLICT, "no");
}

static void test_single_failing_write_reports_its_error(void **state)
{
	struct mr_test_db db;
	struct mr_writer *w = NULL;
	struct mr_err err;

	mr_test_db_open(&db, mr_test_backend(state));
	mr_err_clear(&err);
	assert_int_equal(mr_writer_start(&w, db.store, &err), 0);
	assert_int_equal(mr_writer_submit(w, fail_always, NULL, &err), MR_ECONFLICT);
	assert_string_equal(err.msg, "no");
	/* the writer is still healthy afterwards */
	mr_err_clear(&err);
	assert_int_equal(mr_writer_submit(w, create_table, NULL, &err), 0);
	mr_writer_stop(w);
	mr_test_db_close(&db);
}

/* Posted group jobs: rows inserted by one call per batch; a group that fails fails only its own. */
struct group_rec {
	int id;
	int rc;
	int done;
};

static atomic_int group_calls;
static atomic_int group_done;
static atomic_int group_fail_next;

static int insert_group(struct mr_conn *c, void *const *args, int n, struct mr_err *err)
{
	atomic_fetch_add(&group_calls, 1);
	for (int i = 0; i < n; i++) {
		const struct group_rec *g = args[i];
		struct mr_val a[2] = { mr_v_int(1000), mr_v_int(g->id) };
		int rc = mr_conn_exec(c, "INSERT INTO w (thread, seq) VALUES (?, ?)", a, 2, NULL, err);

		if (rc < 0)
			return rc;
	}
	if (atomic_exchange(&group_fail_next, 0))
		return mr_err_set(err, MR_EUNPROC, "the group failed");
	return 0;
}

static void group_rec_done(void *arg, int rc, const struct mr_err *err)
{
	struct group_rec *g = arg;

	g->rc = rc;
	if (rc < 0)
		assert_string_equal(err->msg, "the group failed");
	g->done = 1;
	atomic_fetch_add(&group_done, 1);
}

static void test_group_jobs_share_one_call(void **state)
{
	enum { N = 200 };
	static struct group_rec recs[N + 10];
	struct mr_test_db db;
	struct mr_writer *w = NULL;
	struct mr_conn *c = NULL;
	struct mr_err err;
	struct row_job plain = { 7, 1, 0 };
	int64_t n = 0;

	mr_test_db_open(&db, mr_test_backend(state));
	mr_err_clear(&err);
	atomic_store(&group_calls, 0);
	atomic_store(&group_done, 0);
	atomic_store(&group_fail_next, 0);
	assert_int_equal(mr_writer_start(&w, db.store, &err), 0);
	assert_int_equal(mr_writer_submit(w, create_table, NULL, &err), 0);
	mr_writer_set_linger(w, 200000); /* lazy jobs wait for company */
	for (int i = 0; i < N; i++) {
		recs[i] = (struct group_rec){ i, 1, 0 };
		mr_writer_post_group(w, insert_group, &recs[i], group_rec_done, 1);
	}
	/* a plain write takes the waiting group along, in the same transaction */
	assert_int_equal(mr_writer_submit(w, insert_row, &plain, &err), 0);
	assert_int_equal(atomic_load(&group_done), N);
	assert_true(atomic_load(&group_calls) <= 2);
	for (int i = 0; i < N; i++)
		assert_int_equal(recs[i].rc, 0);
	/* a failing group: its jobs all fail, the plain write beside it does not */
	atomic_store(&group_fail_next, 1);
	for (int i = N; i < N + 10; i++) {
		recs[i] = (struct group_rec){ i, 1, 0 };
		mr_writer_post_group(w, insert_group, &recs[i], group_rec_done, 1);
	}
	plain.seq = 2;
	assert_int_equal(mr_writer_submit(w, insert_row, &plain, &err), 0);
	mr_writer_stop(w);
	for (int i = N; i < N + 10; i++) {
		assert_true(recs[i].done);
		assert_int_equal(recs[i].rc, MR_EUNPROC);
	}
	assert_int_equal(mr_store_acquire(db.store, &c, &err), 0);
	assert_int_equal(mr_conn_query_int(c, "SELECT COUNT(*) FROM w WHERE thread = 1000", NULL, 0, &n, &err), 0);
	assert_int_equal(n, N);
	assert_int_equal(mr_conn_query_int(c, "SELECT COUNT(*) FROM w WHERE thread = 7", NULL, 0, &n, &err), 0);
	assert_int_equal(n, 2);
	mr_store_release(db.store, c);
	mr_test_db_close(&db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		MR_TEST_BOTH(test_group_commit_batches_and_isolates_failures),
		MR_TEST_BOTH(test_single_failing_write_reports_its_error),
		MR_TEST_BOTH(test_group_jobs_share_one_call),
	};
	return cmocka_run_group_tests_name("writer", tests, NULL, NULL);
}
