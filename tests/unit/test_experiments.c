/*
 * Unit tests of src/experiments: the assignment hash (stable, equal to
 * BLAKE2b-512 computed elsewhere, its shares matching the allocations
 * over 100,000 units, bucket ranges in arm order), the statistics (Wilson
 * interval, difference CI, pooled z and p) against hand computations
 * written out below, their edge cases (0/0, 0/n, n/n, too few for
 * significance), a definition's every bad input, and the rows on both
 * backends (create, edit a draft keeping its salt, the status ladder,
 * delete only a draft).
 */
#include "unit.h"

#include <jansson.h>
#include <math.h>

#include "base/arena.h"
#include "experiments/experiments.h"
#include "experiments/stats.h"

#define EPS 1e-6

/* cmocka's float check works in single precision; these numbers need double. */
#define assert_double_equal(a, b, eps) assert_near((a), (b), (eps), #a, __LINE__)

static void assert_near(double got, double want, double eps, const char *what, int line)
{
	if (!(fabs(got - want) <= eps))
		fail_msg("line %d: %s is %.17g, not %.17g", line, what, got, want);
}

static const unsigned char salt0[MR_EXP_SALT_BYTES] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

/* An experiment of n arms with these allocations (in buckets) and salt0. */
static void mk(struct mr_experiment *x, int n, const int *buckets)
{
	static const char *const names[] = { "a", "b", "c", "d", "e" };

	memset(x, 0, sizeof(*x));
	memcpy(x->salt, salt0, sizeof(salt0));
	x->narms = n;
	for (int i = 0; i < n; i++) {
		x->arms[i].name = names[i];
		x->arms[i].kind = MR_EXP_RULES;
		x->arms[i].buckets = buckets[i];
	}
}

/* --- assignment --------------------------------------------------------------- */

/*
 * The bucket is the first 8 bytes, big-endian, of BLAKE2b-512(salt || id)
 * mod 10,000. Computed with Python's hashlib for salt 00 01 .. 0f:
 *   hashlib.blake2b(bytes(range(16)) + b"D0000001", digest_size=64)
 *     first 8 bytes 3c01af1ca036c3e5 = 4323929654734275557 → 5557
 *   b"R0042": 35a2df621a985138 = 3864897042683285816 → 5816
 *   b"":      bfbabbef45554ccf = 13815561443247213775 → 3775
 */
static void test_bucket_known(void **state)
{
	(void)state;
	assert_int_equal(mr_experiments_bucket(salt0, "D0000001"), 5557);
	assert_int_equal(mr_experiments_bucket(salt0, "R0042"), 5816);
	assert_int_equal(mr_experiments_bucket(salt0, ""), 3775);
	/* the same unit, asked again, lands in the same bucket */
	assert_int_equal(mr_experiments_bucket(salt0, "D0000001"), mr_experiments_bucket(salt0, "D0000001"));
}

/* Arms take consecutive ranges in their order: 25% = buckets 0..2499, then 2500..9999. */
static void test_arm_ranges(void **state)
{
	static const int b[] = { 2500, 7500 };
	struct mr_experiment x;

	(void)state;
	mk(&x, 2, b);
	assert_int_equal(mr_experiments_arm_of_bucket(&x, 0), 0);
	assert_int_equal(mr_experiments_arm_of_bucket(&x, 2499), 0);
	assert_int_equal(mr_experiments_arm_of_bucket(&x, 2500), 1);
	assert_int_equal(mr_experiments_arm_of_bucket(&x, 9999), 1);
	/* D0000001 is in bucket 5557: the second arm */
	assert_int_equal(mr_experiments_arm(&x, "D0000001"), 1);
}

/*
 * Over 100,000 units, each arm's share is its allocation within 1 point
 * (the binomial standard deviation of a 50% share is 0.16 points), and a
 * second pass gives every unit the same arm. Another salt reshuffles: about
 * half the units of a 50/50 split change arm.
 */
static void test_shares(void **state)
{
	static const int b[] = { 5000, 3000, 1500, 500 };
	enum { N = 100000 };
	struct mr_experiment x, y;
	int count[4] = { 0 }, moved = 0;
	char id[32];

	(void)state;
	mk(&x, 4, b);
	for (int i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "D%07d", i);
		count[mr_experiments_arm(&x, id)]++;
	}
	for (int k = 0; k < 4; k++)
		assert_double_equal((double)count[k] / N, b[k] / 10000.0, 0.01);
	for (int i = 0; i < N; i += 7) {
		int before;

		snprintf(id, sizeof(id), "D%07d", i);
		before = mr_experiments_arm(&x, id);
		assert_int_equal(mr_experiments_arm(&x, id), before);
	}
	{
		static const int half[] = { 5000, 5000 };

		mk(&x, 2, half);
		mk(&y, 2, half);
		y.salt[0] ^= 0xff;
		for (int i = 0; i < N; i++) {
			snprintf(id, sizeof(id), "D%07d", i);
			moved += mr_experiments_arm(&x, id) != mr_experiments_arm(&y, id);
		}
		assert_double_equal((double)moved / N, 0.5, 0.01);
	}
}

/* --- statistics by hand ------------------------------------------------------- */

/*
 * Wilson 95% for 45/100, z = 1.959963984540054, z² = 3.841458820694124:
 *   p = 0.45, d = 1 + z²/n = 1.03841458820694
 *   centre = (0.45 + z²/200) / d = (0.45 + 0.01920729410347) / 1.03841458820694 = 0.451849675
 *   half = z/d · sqrt(p(1-p)/n + z²/(4n²)) = 1.887451 · sqrt(0.002475 + 0.0000960365) = 0.095704296
 *   → [0.356145379795, 0.547553970026]
 */
static void test_wilson(void **state)
{
	struct mr_prop r = mr_stats_wilson(45, 100);

	(void)state;
	assert_true(r.defined);
	assert_double_equal(r.rate, 0.45, 1e-12);
	assert_double_equal(r.lo, 0.356145379795, EPS);
	assert_double_equal(r.hi, 0.547553970026, EPS);
}

/*
 * Edge cases. 0/0: no rate, no interval. 0/n: p = 0, so centre = half =
 * z²/(2(n + z²)) and the interval is [0, z²/(n + z²)]; for n = 50:
 * 3.841458820694124 / 53.841458820694124 = 0.071347599133. n/n, by
 * symmetry: [n/(n + z²), 1] = [0.928652400867, 1].
 */
static void test_wilson_edges(void **state)
{
	struct mr_prop r = mr_stats_wilson(0, 0);

	(void)state;
	assert_false(r.defined);
	r = mr_stats_wilson(0, 50);
	assert_true(r.defined);
	assert_double_equal(r.rate, 0, 0);
	assert_double_equal(r.lo, 0, 0);
	assert_double_equal(r.hi, 0.071347599133, EPS);
	r = mr_stats_wilson(50, 50);
	assert_double_equal(r.rate, 1, 0);
	assert_double_equal(r.lo, 0.928652400867, EPS);
	assert_double_equal(r.hi, 1, 0);
}

/*
 * 60/200 against a control of 45/200:
 *   diff = 0.30 - 0.225 = 0.075
 *   unpooled se = sqrt(0.3·0.7/200 + 0.225·0.775/200) = sqrt(0.00105 + 0.000871875) = 0.043839194792
 *   CI = 0.075 ± 1.959963984540054 · 0.043839194792 = [-0.010923242903, 0.160923242903]
 *   pooled p̄ = 105/400 = 0.2625; se = sqrt(0.2625 · 0.7375 · (1/200 + 1/200)) = 0.043999289767
 *   z = 0.075 / 0.043999289767 = 1.704572969181; p = erfc(z/√2) = 0.088274096275 → not significant
 */
static void test_compare(void **state)
{
	struct mr_prop_diff d = mr_stats_compare(60, 200, 45, 200, 30);

	(void)state;
	assert_true(d.defined);
	assert_double_equal(d.diff, 0.075, 1e-12);
	assert_double_equal(d.lo, -0.010923242903, EPS);
	assert_double_equal(d.hi, 0.160923242903, EPS);
	assert_double_equal(d.z, 1.704572969181, EPS);
	assert_double_equal(d.p, 0.088274096275, EPS);
	assert_false(d.significant);
	/* the other way round: the same p, z and difference negated */
	d = mr_stats_compare(45, 200, 60, 200, 30);
	assert_double_equal(d.z, -1.704572969181, EPS);
	assert_double_equal(d.p, 0.088274096275, EPS);
	assert_double_equal(d.diff, -0.075, 1e-12);
}

/*
 * Significance needs p < 0.05 and 30 in each denominator. 20/20 against
 * 0/20: p̄ = 0.5, se = sqrt(0.25 · 0.1) = 0.158113883, z = 1/0.158113883
 * = 6.324555320, p = 2.5396e-10 — tiny, yet not significant (20 < 30).
 * 200/400 against 100/400: p̄ = 0.375, se = sqrt(0.234375 · 0.005) =
 * 0.034232659844, z = 0.25/0.034232659844 = 7.302967433; significant.
 * 0/n against 0/n: the pooled rate is 0, no variance: z 0, p 1.
 * A zero denominator on either side: undefined.
 */
static void test_compare_edges(void **state)
{
	struct mr_prop_diff d = mr_stats_compare(20, 20, 0, 20, 30);

	(void)state;
	assert_double_equal(d.z, 6.324555320337, EPS);
	assert_double_equal(d.p, 2.539628589470881e-10, 1e-15);
	assert_false(d.significant);
	d = mr_stats_compare(200, 400, 100, 400, 30);
	assert_double_equal(d.z, 7.302967433402, EPS);
	assert_true(d.significant);
	d = mr_stats_compare(0, 50, 0, 80, 30);
	assert_true(d.defined);
	assert_double_equal(d.diff, 0, 0);
	assert_double_equal(d.lo, 0, 0);
	assert_double_equal(d.hi, 0, 0);
	assert_double_equal(d.z, 0, 0);
	assert_double_equal(d.p, 1, 0);
	assert_false(d.significant);
	d = mr_stats_compare(50, 50, 80, 80, 30);
	assert_double_equal(d.p, 1, 0);
	d = mr_stats_compare(3, 10, 0, 0, 30);
	assert_false(d.defined);
	assert_false(d.significant);
	d = mr_stats_compare(0, 0, 3, 10, 30);
	assert_false(d.defined);
	/* p of z = 1.959963984540054 is 0.05 */
	assert_double_equal(mr_stats_p_two_sided(1.959963984540054), 0.05, 1e-12);
}

/* --- a definition from JSON --------------------------------------------------- */

/* Parses text as a definition: 0, or the error's code with err filled. */
static int parse(const char *text, struct mr_experiment *x, struct mr_err *err)
{
	struct mr_arena a;
	json_t *body = json_loads(text, 0, NULL);
	int rc;

	assert_non_null(body);
	mr_arena_init(&a);
	memset(x, 0, sizeof(*x));
	mr_err_clear(err);
	rc = mr_experiment_from_json(body, &a, x, err);
	json_decref(body);
	mr_arena_release(&a);
	return rc;
}

#define ARMS2 "[{\"name\":\"rules\",\"kind\":\"rules\",\"allocation\":45.5},{\"name\":\"hold\",\"kind\":\"holdout\",\"allocation\":54.5}]"

static void test_definition(void **state)
{
	static const struct {
		const char *body, *field, *says;
	} bad[] = {
		{ "{\"metric\":\"effective_rate\",\"arms\":[{\"name\":\"a\",\"kind\":\"rules\",\"allocation\":60},"
		  "{\"name\":\"b\",\"kind\":\"learned\",\"allocation\":30}]}", "arms", "sum to 90%" },
		{ "{\"metric\":\"effective_rate\",\"arms\":[{\"name\":\"a\",\"kind\":\"rules\",\"allocation\":100}]}",
		  "arms", "has 1" },
		{ "{\"metric\":\"effective_rate\",\"arms\":[{\"name\":\"a\",\"kind\":\"rules\",\"allocation\":50},"
		  "{\"name\":\"a\",\"kind\":\"learned\",\"allocation\":50}]}", "arms[1].name", "named 'a'" },
		{ "{\"metric\":\"open_rate\",\"arms\":" ARMS2 "}", "metric", "unknown metric 'open_rate'" },
		{ "{\"arms\":" ARMS2 "}", "metric", "required" },
		{ "{\"metric\":\"response_rate\",\"unit\":\"team\",\"arms\":" ARMS2 "}", "unit", "hcp or rep" },
		{ "{\"metric\":\"response_rate\",\"arms\":[{\"name\":\"a\",\"kind\":\"magic\",\"allocation\":50},"
		  "{\"name\":\"b\",\"kind\":\"rules\",\"allocation\":50}]}", "arms[0].kind", "rules, learned" },
		{ "{\"metric\":\"response_rate\",\"arms\":[{\"name\":\"a\",\"kind\":\"rules\",\"allocation\":33.333},"
		  "{\"name\":\"b\",\"kind\":\"rules\",\"allocation\":66.667}]}", "arms[0].allocation", "0.01" },
		{ "{\"metric\":\"response_rate\",\"arms\":[{\"name\":\"a\",\"kind\":\"rules\",\"allocation\":0},"
		  "{\"name\":\"b\",\"kind\":\"rules\",\"allocation\":100}]}", "arms[0].allocation", "above 0" },
		{ "{\"metric\":\"response_rate\",\"arms\":[{\"name\":\"a\",\"kind\":\"holdout\",\"allocation\":50},"
		  "{\"name\":\"b\",\"kind\":\"holdout\",\"allocation\":50}]}", "arms", "one holdout" },
		{ "{\"metric\":\"response_rate\",\"arms\":[{\"name\":\"\",\"kind\":\"rules\",\"allocation\":50},"
		  "{\"name\":\"b\",\"kind\":\"rules\",\"allocation\":50}]}", "arms[0].name", "1 to 64" },
		{ "{\"metric\":\"response_rate\",\"colour\":1,\"arms\":" ARMS2 "}", "colour", "colour" },
	};
	struct mr_experiment x;
	struct mr_err err;

	(void)state;
	assert_int_equal(parse("{\"metric\":\"participation_rate\",\"unit\":\"rep\",\"population\":\"  \","
			       "\"arms\":" ARMS2 "}", &x, &err), 0);
	assert_int_equal(x.unit, MR_EXP_REP);
	assert_int_equal(x.metric, MR_EXP_PARTICIPATION);
	assert_null(x.population); /* blank: everyone */
	assert_int_equal(x.narms, 2);
	assert_int_equal(x.arms[0].buckets, 4550);
	assert_int_equal(x.arms[1].buckets, 5450);
	assert_int_equal(x.arms[1].kind, MR_EXP_HOLDOUT);
	assert_int_equal(mr_experiment_control(&x), 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i].body, &x, &err) != MR_EINVAL)
			fail_msg("accepted: %s", bad[i].body);
		if (strcmp(err.field, bad[i].field) != 0 || !strstr(err.msg, bad[i].says))
			fail_msg("%s: field '%s', message '%s'", bad[i].body, err.field, err.msg);
	}
}

static void test_tables(void **state)
{
	const struct mr_exp_metric_def *m = mr_experiments_metric(MR_EXP_EFFECTIVE);

	(void)state;
	/* ARCHITECTURE.md: effective communication rate = effective / successful-or-better (phone rungs 3 and 2) */
	assert_string_equal(m->name, "effective_rate");
	assert_int_equal(m->num_rung, 3);
	assert_int_equal(m->den_rung, 2);
	m = mr_experiments_metric(MR_EXP_RESPONSE); /* responded / sent */
	assert_int_equal(m->num_rung, 3);
	assert_int_equal(m->den_rung, 0);
	m = mr_experiments_metric(MR_EXP_PARTICIPATION); /* attended / invited */
	assert_int_equal(m->num_rung, 2);
	assert_int_equal(m->den_rung, 0);
	assert_int_equal(mr_experiments_metric_parse("response_rate"), MR_EXP_RESPONSE);
	assert_int_equal(mr_experiments_metric_parse("nope"), -1);
	assert_true(mr_experiment_name_ok("q3-wechat_test"));
	assert_false(mr_experiment_name_ok("-x"));
	assert_false(mr_experiment_name_ok("Upper"));
	assert_false(mr_experiment_name_ok(""));
}

/* --- rows, on both backends --------------------------------------------------- */

struct job {
	struct mr_experiment *x;
	const char *name;
	int to, created, del;
};

static int job_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct job *j = arg;

	if (j->x)
		return mr_experiment_put(c, j->x, "tester", 1000, &j->created, err);
	if (j->del)
		return mr_experiment_delete(c, j->name, err);
	return mr_experiment_set_status(c, j->name, j->to, "tester", 2000 + j->to, err);
}

static int run(struct mr_test_db *db, struct job *j, struct mr_err *err)
{
	mr_err_clear(err);
	return mr_store_write(db->store, job_fn, j, err);
}

static void get(struct mr_test_db *db, const char *name, struct mr_arena *a, struct mr_experiment *out)
{
	struct mr_conn *c = NULL;
	struct mr_err err;

	assert_int_equal(mr_store_acquire(db->store, &c, &err), 0);
	if (mr_experiment_get(c, name, a, out, &err) < 0)
		fail_msg("get %s: %s", name, err.msg);
	mr_store_release(db->store, c);
}

static void test_rows(void **state)
{
	static const int zero[MR_EXP_SALT_BYTES];
	struct mr_test_db db;
	struct mr_arena a;
	struct mr_experiment x, got, again;
	struct mr_err err;
	struct job j = { &x, NULL, 0, 0, 0 };

	mr_test_db_open(&db, mr_test_backend(state));
	mr_arena_init(&a);
	assert_int_equal(parse("{\"metric\":\"response_rate\",\"population\":\"specialty = \\\"x\\\"\",\"arms\":"
			       ARMS2 "}", &x, &err), 0);
	x.name = "t1";
	x.population = "specialty = \"x\"";
	x.arms[0].name = "rules";
	x.arms[1].name = "hold";
	assert_int_equal(run(&db, &j, &err), 0);
	assert_true(j.created);
	get(&db, "t1", &a, &got);
	assert_int_equal(got.status, MR_EXP_DRAFT);
	assert_int_equal(got.narms, 2);
	assert_string_equal(got.arms[1].name, "hold");
	assert_int_equal(got.arms[1].buckets, 5450);
	assert_string_equal(got.population, "specialty = \"x\"");
	assert_memory_not_equal(got.salt, zero, MR_EXP_SALT_BYTES); /* drawn */
	/* editing the draft replaces its arms and keeps its salt */
	x.narms = 2;
	x.arms[0].buckets = 9000;
	x.arms[1].buckets = 1000;
	assert_int_equal(run(&db, &j, &err), 0);
	assert_false(j.created);
	get(&db, "t1", &a, &again);
	assert_int_equal(again.arms[0].buckets, 9000);
	assert_memory_equal(again.salt, got.salt, MR_EXP_SALT_BYTES);
	/* the ladder: stop before start is a conflict; start, stop, archive */
	j = (struct job){ NULL, "t1", MR_EXP_STOPPED, 0, 0 };
	assert_int_equal(run(&db, &j, &err), MR_ECONFLICT);
	assert_non_null(strstr(err.msg, "is draft"));
	j.to = MR_EXP_RUNNING;
	assert_int_equal(run(&db, &j, &err), 0);
	/* a running experiment is neither edited nor deleted */
	j = (struct job){ &x, NULL, 0, 0, 0 };
	x.name = "t1";
	assert_int_equal(run(&db, &j, &err), MR_ECONFLICT);
	assert_non_null(strstr(err.msg, "is running"));
	j = (struct job){ NULL, "t1", 0, 0, 1 };
	assert_int_equal(run(&db, &j, &err), MR_ECONFLICT);
	j = (struct job){ NULL, "t1", MR_EXP_STOPPED, 0, 0 };
	assert_int_equal(run(&db, &j, &err), 0);
	j.to = MR_EXP_ARCHIVED;
	assert_int_equal(run(&db, &j, &err), 0);
	get(&db, "t1", &a, &got);
	assert_int_equal(got.status, MR_EXP_ARCHIVED);
	assert_int_equal(got.started_at, 2000 + MR_EXP_RUNNING);
	assert_int_equal(got.stopped_at, 2000 + MR_EXP_STOPPED);
	assert_int_equal(got.archived_at, 2000 + MR_EXP_ARCHIVED);
	/* a draft is deleted, arms and all; a missing one is a 404 */
	x.name = "t2";
	j = (struct job){ &x, NULL, 0, 0, 0 };
	assert_int_equal(run(&db, &j, &err), 0);
	j = (struct job){ NULL, "t2", 0, 0, 1 };
	assert_int_equal(run(&db, &j, &err), 0);
	assert_int_equal(run(&db, &j, &err), MR_ENOTFOUND);
	{
		struct mr_conn *c = NULL;
		struct mr_experiment *xs = NULL;
		int n = 0;
		int64_t arms = -1;

		assert_int_equal(mr_store_acquire(db.store, &c, &err), 0);
		assert_int_equal(mr_experiment_list(c, -1, &a, &xs, &n, &err), 0);
		assert_int_equal(n, 1);
		assert_string_equal(xs[0].name, "t1");
		assert_int_equal(xs[0].narms, 2);
		assert_int_equal(mr_experiment_list(c, MR_EXP_RUNNING, &a, &xs, &n, &err), 0);
		assert_int_equal(n, 0);
		assert_int_equal(mr_conn_query_int(c, "SELECT COUNT(*) FROM experiment_arms", NULL, 0, &arms, &err), 0);
		assert_int_equal(arms, 2);
		mr_store_release(db.store, c);
	}
	mr_arena_release(&a);
	mr_test_db_close(&db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_known),
		cmocka_unit_test(test_arm_ranges),
		cmocka_unit_test(test_shares),
		cmocka_unit_test(test_wilson),
		cmocka_unit_test(test_wilson_edges),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_compare_edges),
		cmocka_unit_test(test_definition),
		cmocka_unit_test(test_tables),
		MR_TEST_BOTH(test_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
