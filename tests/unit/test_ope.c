/*
 * Unit tests of src/engine/nba: the off-policy estimators (ope.c) against
 * hand computations written out below, the ridge and logistic fits
 * (linmodel.c) against closed forms and optimality conditions, the CSV log
 * reader (logcsv.c): encoding, globs, empty cells and every bad-input error
 * with its line and column, and a simulation in which the learned policy's
 * estimated value must match the ground truth of the simulated world.
 */
#include "unit.h"

#include <math.h>

#include "base/csv.h"
#include "base/mem.h"
#include "engine/nba/linmodel.h"
#include "engine/nba/logcsv.h"
#include "engine/nba/ope.h"

#define EPS 1e-9

/* cmocka's float check works in single precision; these numbers need double. */
#define assert_double_equal(a, b, eps) assert_near((a), (b), (eps), #a, __LINE__)

static void assert_near(double got, double want, double eps, const char *what, int line)
{
	if (!(fabs(got - want) <= eps))
		fail_msg("line %d: %s is %.17g, not %.17g", line, what, got, want);
}
#define Z95 1.959963984540054

/* --- the estimators by hand -------------------------------------------------- */

/*
 * Six rows, two actions. w = 1[π=a]/p; DR term = q(π) + w (r − q(a)).
 *
 *   row  a  r  p     π  q0   q1    w     w·r   DR term              DM term
 *   1    0  1  0.5   0  0.6  0.3   2     2     0.6 + 2(1−0.6) = 1.4   0.6
 *   2    1  0  0.25  1  0.2  0.4   4     0     0.4 + 4(0−0.4) = −1.2  0.4
 *   3    0  0  0.8   1  0.5  0.7   0     0     0.7                   0.7
 *   4    1  1  0.5   1  0.1  0.9   2     2     0.9 + 2(1−0.9) = 1.1   0.9
 *   5    0  1  0.4   0  0.8  0.5   2.5   2.5   0.8 + 2.5(1−0.8) = 1.3 0.8
 *   6    1  1  0.2   0  0.3  0.2   0     0     0.3                   0.3
 *
 *   logged = 4/6 = 2/3; Σ(r − 2/3)² = 4/9 + 8/9 = 4/3; SE = √(4/3 / 5 / 6)
 *   IPS = 6.5/6; Σt² = 4 + 4 + 6.25 = 14.25, n·mean² = 42.25/6, so Σ(t − mean)² = 173/24;
 *         SE = √(173/24 / 5 / 6) = √(173/720)
 *   SNIPS = Σwr/Σw = 6.5/10.5 = 13/21; Σ w²(r − 13/21)² = (4·64 + 16·169 + 4·64 + 6.25·64)/441
 *         = 3616/441; SE = √(3616)/21 / 10.5
 *   DR = 3.6/6 = 0.6; Σt² = 1.96 + 1.44 + 0.49 + 1.21 + 1.69 + 0.09 = 6.88, n·mean² = 2.16,
 *         Σ(t − mean)² = 4.72; SE = √(4.72 / 30)
 *   DM = 3.7/6; Σt² = 2.55, n·mean² = 13.69/6; SE = √((2.55 − 13.69/6) / 30)
 *   matched = 4 (rows 1, 2, 4, 5); ESS = 10.5² / (4 + 16 + 4 + 6.25) = 110.25/30.25; largest w 4
 */
static const int hand_a[6] = { 0, 1, 0, 1, 0, 1 };
static const double hand_r[6] = { 1, 0, 0, 1, 1, 1 };
static const double hand_p[6] = { 0.5, 0.25, 0.8, 0.5, 0.4, 0.2 };
static const int hand_pi[6] = { 0, 1, 1, 1, 0, 0 };
static const double hand_q[12] = { 0.6, 0.3, 0.2, 0.4, 0.5, 0.7, 0.1, 0.9, 0.8, 0.5, 0.3, 0.2 };

static void check_est(const struct mr_ope_est *e, double value, double se, size_t n)
{
	assert_double_equal(e->value, value, EPS);
	assert_double_equal(e->se, se, EPS);
	assert_double_equal(e->lo, value - Z95 * se, EPS);
	assert_double_equal(e->hi, value + Z95 * se, EPS);
	assert_int_equal(e->n, n);
}

static void test_ope_estimators_by_hand(void **state)
{
	struct mr_ope_log log = { 6, 2, hand_a, hand_r, hand_p };
	struct mr_ope_result o;
	struct mr_err err;

	(void)state;
	mr_err_clear(&err);
	assert_int_equal(mr_ope_estimate(&log, hand_pi, hand_q, &o, &err), 0);
	assert_int_equal(o.n, 6);
	assert_int_equal(o.matched, 4);
	assert_double_equal(o.ess, 110.25 / 30.25, EPS);
	assert_double_equal(o.max_weight, 4.0, EPS);
	check_est(&o.logged, 2.0 / 3, sqrt(4.0 / 3 / 5 / 6), 6);
	check_est(&o.ips, 6.5 / 6, sqrt(173.0 / 720), 6);
	check_est(&o.snips, 13.0 / 21, sqrt(3616.0) / 21 / 10.5, 4);
	check_est(&o.dr, 0.6, sqrt(4.72 / 30), 6);
	check_est(&o.dm, 3.7 / 6, sqrt((2.55 - 13.69 / 6) / 30), 6);
}

/*
 * Replay on the same log: the matched rows 1, 2, 4, 5 have r = 1, 0, 1, 1:
 * value 0.75, Σ(r − 0.75)² = 3·0.0625 + 0.5625 = 0.75, SE = √(0.75/3/4) = 0.25.
 * Each action was logged 3 times of 6: chi-square 0, p 1.
 */
static void test_ope_replay_by_hand(void **state)
{
	struct mr_ope_log log = { 6, 2, hand_a, hand_r, NULL };
	struct mr_ope_replay o;
	struct mr_err err;

	(void)state;
	assert_int_equal(mr_ope_replay(&log, hand_pi, &o, &err), 0);
	assert_int_equal(o.matched, 4);
	check_est(&o.value, 0.75, 0.25, 4);
	check_est(&o.logged, 2.0 / 3, sqrt(4.0 / 3 / 5 / 6), 6);
	assert_double_equal(o.chi2, 0, EPS);
	assert_int_equal(o.df, 1);
	assert_double_equal(o.chi2_p, 1.0, EPS);
}

/*
 * For 2 degrees of freedom P(X ≥ x) = e^(−x/2); for 1, erfc(√(x/2)); for 4,
 * e^(−x/2)(1 + x/2): closed forms on both sides of the series / continued
 * fraction switch (x/2 < df/2 + 1).
 */
static void test_ope_chi2_tail(void **state)
{
	(void)state;
	for (double x = 0.25; x < 60; x *= 1.7) {
		assert_double_equal(mr_ope_chi2_sf(x, 2), exp(-x / 2), 1e-12);
		assert_double_equal(mr_ope_chi2_sf(x, 1), erfc(sqrt(x / 2)), 1e-12);
		assert_double_equal(mr_ope_chi2_sf(x, 4), exp(-x / 2) * (1 + x / 2), 1e-12);
	}
	/* df 10: P(X ≥ 29.588) = 0.001 (tables, to their four digits). */
	assert_double_equal(mr_ope_chi2_sf(29.588, 10), 0.001, 1e-6);
	assert_double_equal(mr_ope_chi2_sf(0, 3), 1.0, EPS);
}

/* Nothing matched: IPS is 0, SNIPS undefined (NaN), ESS 0. */
static void test_ope_no_match(void **state)
{
	static const int pi[6] = { 1, 0, 1, 0, 1, 0 };
	struct mr_ope_log log = { 6, 2, hand_a, hand_r, hand_p };
	struct mr_ope_result o;
	struct mr_err err;

	(void)state;
	assert_int_equal(mr_ope_estimate(&log, pi, hand_q, &o, &err), 0);
	assert_int_equal(o.matched, 0);
	assert_double_equal(o.ips.value, 0, EPS);
	assert_true(isnan(o.snips.value));
	assert_double_equal(o.ess, 0, EPS);
}

static void test_ope_rejects_bad_arrays(void **state)
{
	static const double bad_p[6] = { 0.5, 0.25, 0.0, 0.5, 0.4, 0.2 };
	static const int bad_a[6] = { 0, 1, 2, 1, 0, 1 };
	struct mr_ope_log log = { 6, 2, hand_a, hand_r, bad_p };
	struct mr_ope_result o;
	struct mr_err err;

	(void)state;
	mr_err_clear(&err);
	assert_int_equal(mr_ope_estimate(&log, hand_pi, hand_q, &o, &err), MR_EINVAL);
	assert_string_equal(err.msg, "row 3: propensity 0 is not in (0, 1]");
	log.prop = hand_p;
	log.action = bad_a;
	assert_int_equal(mr_ope_estimate(&log, hand_pi, hand_q, &o, &err), MR_EINVAL);
	assert_string_equal(err.msg, "row 3: action 2 is not one of the 2 actions");
	log.n = 0;
	assert_int_equal(mr_ope_estimate(&log, hand_pi, hand_q, &o, &err), MR_EINVAL);
	assert_string_equal(err.msg, "the log has no rows");
	log.prop = NULL;
	log.n = 6;
	log.action = hand_a;
	assert_int_equal(mr_ope_estimate(&log, hand_pi, hand_q, &o, &err), MR_EINVAL);
}

/* --- the models ------------------------------------------------------------------ */

/*
 * Ridge with an unpenalised intercept on x = 1, 2, 3, y = 1, 2, 2, λ = 1:
 * centring, w = Σ(x − 2)(y − 5/3) / (Σ(x − 2)² + λ) = (2/3 + 0 + 1/3) / (2 + 1) = 1/3,
 * b = ȳ − w x̄ = 5/3 − 2/3 = 1. With λ = 0, least squares: w = 1/2, b = 2/3.
 */
static void test_lm_ridge_closed_form(void **state)
{
	static const double x[3] = { 1, 2, 3 }, y[3] = { 1, 2, 2 };
	static const size_t rows[3] = { 0, 1, 2 };
	struct mr_lm m;
	struct mr_err err;
	double at4 = 4;

	(void)state;
	assert_int_equal(mr_lm_fit(&m, MR_LM_RIDGE, x, 1, y, rows, 3, 1.0, &err), 0);
	assert_double_equal(m.w[0], 1.0, EPS);
	assert_double_equal(m.w[1], 1.0 / 3, EPS);
	assert_double_equal(mr_lm_predict(&m, &at4), 1 + 4.0 / 3, EPS);
	mr_lm_release(&m);
	assert_int_equal(mr_lm_fit(&m, MR_LM_RIDGE, x, 1, y, rows, 3, 0.0, &err), 0);
	assert_double_equal(m.w[0], 2.0 / 3, EPS);
	assert_double_equal(m.w[1], 0.5, EPS);
	mr_lm_release(&m);
}

/* Two identical features and λ = 0 are singular; a row subset is honoured; no rows is an error. */
static void test_lm_ridge_errors_and_subsets(void **state)
{
	static const double x2[6] = { 1, 1, 2, 2, 3, 3 }, y[3] = { 1, 2, 2 };
	static const double x[4] = { 1, 2, 3, 100 }, y4[4] = { 1, 2, 2, -50 };
	static const size_t rows[3] = { 0, 1, 2 };
	struct mr_lm m;
	struct mr_err err;

	(void)state;
	assert_int_equal(mr_lm_fit(&m, MR_LM_RIDGE, x2, 2, y, rows, 3, 0.0, &err), MR_EUNPROC);
	mr_lm_release(&m);
	assert_int_equal(mr_lm_fit(&m, MR_LM_RIDGE, x, 1, y4, rows, 3, 1.0, &err), 0);
	assert_double_equal(m.w[1], 1.0 / 3, EPS);   /* row 3 was not listed */
	mr_lm_release(&m);
	assert_int_equal(mr_lm_fit(&m, MR_LM_RIDGE, x, 1, y4, rows, 0, 1.0, &err), MR_EINVAL);
	mr_lm_release(&m);
	assert_int_equal(mr_lm_fit(&m, MR_LM_LOGISTIC, x, 1, y4, rows, 3, 1.0, &err), MR_EINVAL);
	assert_string_equal(err.msg, "logistic regression needs outcomes of 0 or 1, not 2");
	mr_lm_release(&m);
}

/*
 * Logistic regression on nearly separable data (y = 1 for x > 0 but for
 * one flipped row on each side): Newton converges, the gradient of the
 * penalised loss, Σ (p − y) z + λ w (λ₀ b for the intercept), is 0 at the
 * answer, and the model predicts the side of x.
 */
static void test_lm_logistic_converges(void **state)
{
	double x[40], y[40];
	size_t rows[40];
	struct mr_lm m;
	struct mr_err err;
	double g0 = 0, g1 = 0, lo = -3, hi = 3;

	(void)state;
	for (int i = 0; i < 40; i++) {
		x[i] = -2 + 4.0 * i / 39;
		y[i] = x[i] > 0;
		rows[i] = (size_t)i;
	}
	y[5] = 1;
	y[33] = 0;
	assert_int_equal(mr_lm_fit(&m, MR_LM_LOGISTIC, x, 1, y, rows, 40, 0.1, &err), 0);
	assert_true(m.converged);
	assert_true(m.iterations < 30);
	for (int i = 0; i < 40; i++) {
		double p = mr_lm_predict(&m, &x[i]);
		g0 += p - y[i];
		g1 += (p - y[i]) * x[i];
	}
	g0 += MR_LM_INTERCEPT_PENALTY * m.w[0];
	g1 += 0.1 * m.w[1];
	assert_true(fabs(g0) < 1e-7);
	assert_true(fabs(g1) < 1e-7);
	assert_true(m.w[1] > 1);
	assert_true(mr_lm_predict(&m, &hi) > 0.9);
	assert_true(mr_lm_predict(&m, &lo) < 0.1);
	mr_lm_release(&m);
}

/* Every outcome 0: the small intercept penalty keeps the fit finite and the prediction near 0. */
static void test_lm_logistic_all_same(void **state)
{
	static const double x[3] = { 1, 2, 3 }, y[3] = { 0, 0, 0 };
	static const size_t rows[3] = { 0, 1, 2 };
	struct mr_lm m;
	struct mr_err err;

	(void)state;
	assert_int_equal(mr_lm_fit(&m, MR_LM_LOGISTIC, x, 1, y, rows, 3, 1.0, &err), 0);
	assert_true(m.converged);
	assert_true(isfinite(m.w[0]));
	assert_true(mr_lm_predict(&m, &x[1]) < 1e-3);
	mr_lm_release(&m);
}

/*
 * With no features a ridge model is its rows' mean, so the cross-fitted q
 * of each row is the mean reward, for each action, over the other fold.
 */
static void test_ope_crossfit_uses_the_other_fold(void **state)
{
	enum { N = 40 };
	int action[N], pi[N];
	double reward[N], q[N * 2], sum[2][2] = { { 0 } }, cnt[2][2] = { { 0 } };
	struct mr_ope_log log = { N, 2, action, reward, NULL };
	struct mr_err err;
	int folds[2] = { 0, 0 };

	(void)state;
	for (int i = 0; i < N; i++) {
		action[i] = i % 2;
		reward[i] = (double)((i * 7) % 5) + action[i];
		sum[mr_ope_fold((size_t)i)][action[i]] += reward[i];
		cnt[mr_ope_fold((size_t)i)][action[i]] += 1;
		folds[mr_ope_fold((size_t)i)]++;
	}
	assert_true(folds[0] > 10 && folds[1] > 10);
	assert_int_equal(mr_ope_fold(7), mr_ope_fold(7));
	assert_int_equal(mr_ope_crossfit(&log, NULL, 0, MR_LM_RIDGE, 1.0, q, pi, &err), 0);
	for (int i = 0; i < N; i++) {
		int other = 1 - mr_ope_fold((size_t)i);
		double q0 = sum[other][0] / cnt[other][0], q1 = sum[other][1] / cnt[other][1];
		assert_double_equal(q[i * 2], q0, EPS);
		assert_double_equal(q[i * 2 + 1], q1, EPS);
		assert_int_equal(pi[i], q1 > q0 ? 1 : 0);
	}
}

/* --- reading a CSV log -------------------------------------------------------------- */

static int read_log(const char *text, const struct mr_logcsv_spec *spec, struct mr_logcsv *log,
		    struct mr_err *err)
{
	struct mr_csv *csv = NULL;
	int rc;

	mr_err_clear(err);
	assert_int_equal(mr_csv_open_mem(&csv, text, strlen(text), NULL, err), 0);
	rc = mr_logcsv_read(log, csv, spec, err);
	mr_csv_free(csv);
	return rc;
}

/*
 * spec: cardio, onco, (empty)   age: 30, (empty), 50, 40: mean 40, sd 10 → −1, 0, 1, 0
 * tag_a: 1, 0, 1, 0: mean 0.5, sd √(1/3) → ±0.5·√3     tag_b: x, y, (empty)
 * "other" is not named; "act" and "rew" are never features even though tag_* could not match them.
 */
static void test_logcsv_encoding(void **state)
{
	static const char text[] =
		"id,spec,age,tag_a,tag_b,other,act,rew,prop\n"
		"1,cardio,30,1,x,9,visit,1,0.5\n"
		"2,onco,,0,y,9,call,0,0.5\n"
		"3,,50,1,,9,visit,0.5,0.25\n"
		"4,cardio,40,0,x,9,call,1,1\n";
	static const char *const names[8] = { "spec=cardio", "spec=onco", "spec=(empty)", "age", "tag_a",
					      "tag_b=x", "tag_b=y", "tag_b=(empty)" };
	static const double want[4][8] = {
		{ 1, 0, 0, -1, 0.8660254037844386, 1, 0, 0 },
		{ 0, 1, 0, 0, -0.8660254037844386, 0, 1, 0 },
		{ 0, 0, 1, 1, 0.8660254037844386, 0, 0, 1 },
		{ 1, 0, 0, 0, -0.8660254037844386, 1, 0, 0 },
	};
	struct mr_logcsv_spec spec = { "act", "rew", "prop", " spec, age ,tag_*,spec", 0, NULL, NULL };
	struct mr_logcsv log;
	struct mr_err err;

	(void)state;
	assert_int_equal(read_log(text, &spec, &log, &err), 0);
	assert_int_equal(log.n, 4);
	assert_int_equal(log.nactions, 2);
	assert_string_equal(log.actions[0], "call");
	assert_string_equal(log.actions[1], "visit");
	assert_int_equal(log.action[0], 1);
	assert_int_equal(log.action[1], 0);
	assert_double_equal(log.reward[2], 0.5, EPS);
	assert_double_equal(log.prop[2], 0.25, EPS);
	assert_int_equal(log.ncols, 4);
	assert_true(log.cols[1].numeric);
	assert_double_equal(log.cols[1].mean, 40, EPS);
	assert_double_equal(log.cols[1].sd, 10, EPS);
	assert_int_equal(log.cols[1].empty, 1);
	assert_false(log.cols[3].numeric);
	assert_int_equal(log.nfeat, 8);
	for (int f = 0; f < 8; f++)
		assert_string_equal(log.feat_names[f], names[f]);
	for (int i = 0; i < 4; i++) {
		for (int f = 0; f < 8; f++)
			assert_double_equal(log.x[i * 8 + f], want[i][f], EPS);
	}
	mr_logcsv_release(&log);
}

/* Without a propensity column (replay) prop is NULL; an empty feature list gives no features. */
static void test_logcsv_replay_without_features(void **state)
{
	struct mr_logcsv_spec spec = { "a", "r", NULL, "", 0, NULL, NULL };
	struct mr_logcsv log;
	struct mr_err err;

	(void)state;
	assert_int_equal(read_log("a,r\nx,1\ny,0\nx,0\n", &spec, &log, &err), 0);
	assert_null(log.prop);
	assert_int_equal(log.nfeat, 0);
	assert_int_equal(log.n, 3);
	mr_logcsv_release(&log);
}

struct bad_case {
	const char *text;
	const char *features;
	const char *msg;
	int64_t line, column;
};

static void test_logcsv_bad_input(void **state)
{
	static const struct bad_case cases[] = {
		{ "act,rew,prop,f\na,1,0.5,1\n", "f,g", "no feature column 'g' in the header (it has: act, rew, prop, f)", 1, 0 },
		{ "action,rew,prop,f\na,1,0.5,1\n", "f", "no action column 'act' in the header (it has: action, rew, prop, f)", 1, 0 },
		{ "act,reward,prop\na,1,0.5\n", "", "no reward column 'rew' in the header (it has: act, reward, prop)", 1, 0 },
		{ "act,rew,p\na,1,0.5\n", "", "no propensity column 'prop' in the header (it has: act, rew, p)", 1, 0 },
		{ "act,rew,prop,f\na,1,0.5,1\n", "x_*", "no feature column 'x_*' in the header (it has: act, rew, prop, f)", 1, 0 },
		{ "act,rew,prop,f\na,1,0.5,1\n", "rew", "--features: 'rew' is the action, reward or propensity column, which cannot be a feature", 1, 0 },
		{ "act,rew,prop\na,1,0.5\nb,1,0\n", "", "line 3, column 3 (prop): '0' is not a probability in (0, 1] (the logging policy's chance of the logged action)", 3, 3 },
		{ "act,rew,prop\na,1,0.5\nb,1,-0.2\n", "", "line 3, column 3 (prop): '-0.2' is not a probability in (0, 1] (the logging policy's chance of the logged action)", 3, 3 },
		{ "act,rew,prop\na,1,1.5\n", "", "line 2, column 3 (prop): '1.5' is not a probability in (0, 1] (the logging policy's chance of the logged action)", 2, 3 },
		{ "act,rew,prop\na,1,\n", "", "line 2, column 3 (prop): the propensity is missing", 2, 3 },
		{ "act,rew,prop\na,1,half\n", "", "line 2, column 3 (prop): 'half' is not a probability in (0, 1] (the logging policy's chance of the logged action)", 2, 3 },
		{ "act,rew,prop\na,yes,0.5\n", "", "line 2, column 2 (rew): 'yes' is not a number", 2, 2 },
		{ "act,rew,prop\na,1,0.5\n\"b\nc\",nan,0.5\n", "", "line 3, column 2 (rew): 'nan' is not a number", 3, 2 },
		{ "act,rew,prop\na, ,0.5\n", "", "line 2, column 2 (rew): the reward is missing", 2, 2 },
		{ "act,rew,prop\n,1,0.5\n", "", "line 2, column 1 (act): the action is missing", 2, 1 },
		{ "act,rew,prop\na,1,0.5,7\n", "", "line 2: 4 fields where the header has 3", 2, 0 },
		{ "", "", "the log is empty: no header row", 0, 0 },
		{ "act,rew,prop\n", "", "the log has a header but no rows", 0, 0 },
		{ "act,rew,prop\na,1,0.5\na,0,0.5\n", "", "every row has the same action ('a'): a policy can only be evaluated on a log of two or more actions", 0, 0 },
		{ "act,rew,prop\na,1,0.5\nb,\"x\"y,0.5\n", "", "line 3, column 2: text after the closing quote (a quote inside a quoted field is written \"\")", 3, 2 },
	};
	struct mr_logcsv log;
	struct mr_err err;

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct mr_logcsv_spec spec = { "act", "rew", "prop", cases[k].features, 0, NULL, NULL };
		int rc = read_log(cases[k].text, &spec, &log, &err);
		if (rc != MR_EINVAL || strcmp(err.msg, cases[k].msg) != 0 || err.line != cases[k].line ||
		    err.column != cases[k].column)
			fail_msg("case %zu: rc %d, line %lld, column %lld: %s", k, rc, (long long)err.line,
				 (long long)err.column, err.msg);
		mr_logcsv_release(&log);
	}
}

/* A column with more distinct values than the cap (an id named by mistake) is refused by name. */
static void test_logcsv_level_cap(void **state)
{
	struct mr_logcsv_spec spec = { "act", "rew", "prop", "hcp", 3, NULL, NULL };
	struct mr_logcsv log;
	struct mr_err err;

	(void)state;
	assert_int_equal(read_log("act,rew,prop,hcp\na,1,1,h1\nb,1,1,h2\na,1,1,h3\nb,0,1,h4\n", &spec, &log,
				  &err), MR_EINVAL);
	assert_string_equal(err.msg, "feature column 'hcp' has 4 distinct values, more than 3: is it an id? "
			    "Leave it out of the features or group its values");
	assert_string_equal(err.field, "hcp");
	mr_logcsv_release(&log);
}

/* GBK is read (detected) and one-hot levels come out as UTF-8; bytes valid in neither are an error. */
static void test_logcsv_encodings(void **state)
{
	/* "科室" (department) and "心内" / "肿瘤" in GBK. */
	static const char gbk[] = "act,rew,prop,\xbf\xc6\xca\xd2\n"
				  "a,1,0.5,\xd0\xc4\xc4\xda\nb,0,0.5,\xd6\xd7\xc1\xf6\n";
	static const char junk[] = "act,rew,prop\na,1,0.5\nb,\xff\xff\xff,0.5\n";
	struct mr_logcsv_spec spec = { "act", "rew", "prop", "科室", 0, NULL, NULL };
	struct mr_logcsv log;
	struct mr_err err;

	(void)state;
	assert_int_equal(read_log(gbk, &spec, &log, &err), 0);
	assert_int_equal(log.nfeat, 2);
	assert_string_equal(log.feat_names[0], "科室=心内");
	assert_string_equal(log.feat_names[1], "科室=肿瘤");
	mr_logcsv_release(&log);
	spec.features = "";
	assert_int_equal(read_log(junk, &spec, &log, &err), MR_EINVAL);
	assert_string_equal(err.msg, "line 3, column 2: bytes that are not valid GB18030 (is the file in "
			    "another encoding?)");
	assert_int_equal(err.line, 3);
	assert_int_equal(err.column, 2);
	mr_logcsv_release(&log);
}

static void test_logcsv_number(void **state)
{
	double v;

	(void)state;
	assert_int_equal(mr_logcsv_number(" 1.5 ", &v), 0);
	assert_double_equal(v, 1.5, EPS);
	assert_int_equal(mr_logcsv_number("-2e3", &v), 0);
	assert_double_equal(v, -2000, EPS);
	assert_int_equal(mr_logcsv_number("", &v), -1);
	assert_int_equal(mr_logcsv_number("1x", &v), -1);
	assert_int_equal(mr_logcsv_number("inf", &v), -1);
	assert_int_equal(mr_logcsv_number("1e999", &v), -1);
}

/* --- a simulated world --------------------------------------------------------------- */

static uint64_t sim_state = 42;

static double sim_uniform(void)
{
	uint64_t z = (sim_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (double)(z >> 11) / 9007199254740992.0;
}

/* The world's truth: P(response | doctor, action). */
static double sim_truth(double x1, int seg, int a)
{
	double t = a == 0 ? -1 + 2 * x1 : a == 1 ? -1 - 2 * x1 : -0.7 + 1.6 * (seg == 2) - 1.0 * (seg == 0);

	return 1 / (1 + exp(-t));
}

/*
 * A uniformly random logger over three actions on 12,000 doctors with one
 * number (x1) and one category (seg) each; the best action depends on both.
 * The learned policy must be well above the logger's mean, and each of IPS,
 * SNIPS, DR and replay must cover the policy's true value, computed from
 * the world's response probabilities.
 */
static void test_ope_simulation(void **state)
{
	enum { N = 12000, K = 3, F = 4 };
	int *action = mr_malloc(N * sizeof(int)), *pi = mr_malloc(N * sizeof(int)), *seg = mr_malloc(N * sizeof(int));
	double *reward = mr_malloc(N * sizeof(double)), *prop = mr_malloc(N * sizeof(double));
	double *x = mr_calloc(N * F, sizeof(double)), *q = mr_malloc(N * K * sizeof(double));
	struct mr_ope_log log = { N, K, action, reward, prop };
	struct mr_ope_result o;
	struct mr_ope_replay rp;
	struct mr_err err;
	double truth = 0;

	(void)state;
	for (int i = 0; i < N; i++) {
		double x1 = 2 * sim_uniform() - 1;
		seg[i] = (int)(sim_uniform() * 3);
		action[i] = (int)(sim_uniform() * K);
		prop[i] = 1.0 / K;
		reward[i] = sim_uniform() < sim_truth(x1, seg[i], action[i]);
		x[i * F] = x1 * 1.7;   /* about standardised */
		x[i * F + 1 + seg[i]] = 1;
	}
	assert_int_equal(mr_ope_crossfit(&log, x, F, MR_LM_LOGISTIC, 1.0, q, pi, &err), 0);
	assert_int_equal(mr_ope_estimate(&log, pi, q, &o, &err), 0);
	log.prop = NULL;
	assert_int_equal(mr_ope_replay(&log, pi, &rp, &err), 0);
	for (int i = 0; i < N; i++)
		truth += sim_truth(x[i * F] / 1.7, seg[i], pi[i]) / N;
	print_message("logger %.4f, truth %.4f, IPS %.4f ± %.4f, SNIPS %.4f ± %.4f, DR %.4f ± %.4f, "
		      "replay %.4f ± %.4f (%zu matched)\n", o.logged.value, truth, o.ips.value, o.ips.se,
		      o.snips.value, o.snips.se, o.dr.value, o.dr.se, rp.value.value, rp.value.se, rp.matched);
	assert_true(truth > o.logged.value + 0.1);
	assert_true(o.ips.lo > o.logged.hi);
	assert_true(rp.value.lo > o.logged.hi);
	assert_true(o.ips.lo <= truth && truth <= o.ips.hi);
	assert_true(o.snips.lo <= truth && truth <= o.snips.hi);
	assert_true(o.dr.lo <= truth && truth <= o.dr.hi);
	assert_true(rp.value.lo <= truth && truth <= rp.value.hi);
	assert_true(rp.chi2_p > 0.001);
	assert_true(o.matched > N / 4 && o.matched < N / 2);
	free(action);
	free(pi);
	free(seg);
	free(reward);
	free(prop);
	free(x);
	free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ope_estimators_by_hand),
		cmocka_unit_test(test_ope_replay_by_hand),
		cmocka_unit_test(test_ope_chi2_tail),
		cmocka_unit_test(test_ope_no_match),
		cmocka_unit_test(test_ope_rejects_bad_arrays),
		cmocka_unit_test(test_lm_ridge_closed_form),
		cmocka_unit_test(test_lm_ridge_errors_and_subsets),
		cmocka_unit_test(test_lm_logistic_converges),
		cmocka_unit_test(test_lm_logistic_all_same),
		cmocka_unit_test(test_ope_crossfit_uses_the_other_fold),
		cmocka_unit_test(test_logcsv_encoding),
		cmocka_unit_test(test_logcsv_replay_without_features),
		cmocka_unit_test(test_logcsv_bad_input),
		cmocka_unit_test(test_logcsv_level_cap),
		cmocka_unit_test(test_logcsv_encodings),
		cmocka_unit_test(test_logcsv_number),
		cmocka_unit_test(test_ope_simulation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
