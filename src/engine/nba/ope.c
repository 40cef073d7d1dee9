/*
 * The off-policy estimators and the cross-fitted candidate policy (see
 * ope.h). Every interval estimate is built the same way: a per-row term is
 * computed for each row and mr_ope_mean_ci turns the terms into a mean, a
 * standard error (sample sd / √n) and a 95% normal interval; SNIPS, a
 * ratio, has its own delta-method error.
 */
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "engine/nba/ope.h"

#define MR_OPE_Z95 1.959963984540054

static void mr_ope_est_nan(struct mr_ope_est *e, size_t n)
{
	e->value = e->se = e->lo = e->hi = NAN;
	e->n = n;
}

/* Fills e with the mean of the n terms t, its standard error and 95% interval. */
static void mr_ope_mean_ci(const double *t, size_t n, struct mr_ope_est *e)
{
	double sum = 0, ss = 0, mean;

	if (n == 0) {
		mr_ope_est_nan(e, 0);
		return;
	}
	for (size_t i = 0; i < n; i++)
		sum += t[i];
	mean = sum / (double)n;
	for (size_t i = 0; i < n; i++)
		ss += (t[i] - mean) * (t[i] - mean);
	e->value = mean;
	e->se = n > 1 ? sqrt(ss / (double)(n - 1) / (double)n) : 0.0;
	e->lo = mean - MR_OPE_Z95 * e->se;
	e->hi = mean + MR_OPE_Z95 * e->se;
	e->n = n;
}

/* Checks the log's actions (and propensities, when check_prop) row by row. */
static int mr_ope_check(const struct mr_ope_log *log, int check_prop, struct mr_err *err)
{
	if (log->n == 0)
		return mr_err_set(err, MR_EINVAL, "the log has no rows");
	if (log->nactions < 1)
		return mr_err_set(err, MR_EINVAL, "the log has no actions");
	for (size_t i = 0; i < log->n; i++) {
		if (log->action[i] < 0 || log->action[i] >= log->nactions)
			return mr_err_set(err, MR_EINVAL, "row %zu: action %d is not one of the %d actions", i + 1,
					  log->action[i], log->nactions);
		if (check_prop && !(log->prop[i] > 0 && log->prop[i] <= 1)) {
			err->line = (int64_t)i + 1;
			return mr_err_set(err, MR_EINVAL, "row %zu: propensity %g is not in (0, 1]", i + 1,
					  log->prop[i]);
		}
	}
	return 0;
}

/* SNIPS: Σ w r / Σ w, with the delta-method SE  √(Σ w² (r − V)²) / Σ w. */
static void mr_ope_snips(const struct mr_ope_log *log, const double *w, struct mr_ope_result *out)
{
	double sw = 0, swr = 0, ss = 0, v;

	for (size_t i = 0; i < log->n; i++) {
		sw += w[i];
		swr += w[i] * log->reward[i];
	}
	if (!(sw > 0)) {
		mr_ope_est_nan(&out->snips, 0);
		return;
	}
	v = swr / sw;
	for (size_t i = 0; i < log->n; i++)
		ss += w[i] * w[i] * (log->reward[i] - v) * (log->reward[i] - v);
	out->snips.value = v;
	out->snips.se = sqrt(ss) / sw;
	out->snips.lo = v - MR_OPE_Z95 * out->snips.se;
	out->snips.hi = v + MR_OPE_Z95 * out->snips.se;
	out->snips.n = out->matched;
}

/* The importance weights w = 1[π(x)=a] / p, with the matched count, ESS and largest weight. */
static void mr_ope_weights(const struct mr_ope_log *log, const int *pi, double *w, struct mr_ope_result *out)
{
	double sw = 0, sw2 = 0;

	assert(log->prop);
	out->matched = 0;
	out->max_weight = 0;
	for (size_t i = 0; i < log->n; i++) {
		w[i] = pi[i] == log->action[i] ? 1.0 / log->prop[i] : 0.0;
		out->matched += pi[i] == log->action[i];
		sw += w[i];
		sw2 += w[i] * w[i];
		if (w[i] > out->max_weight)
			out->max_weight = w[i];
	}
	out->ess = sw2 > 0 ? sw * sw / sw2 : 0.0;
}

int mr_ope_estimate(const struct mr_ope_log *log, const int *pi, const double *q, struct mr_ope_result *out,
		    struct mr_err *err)
{
	size_t n = log->n, k = (size_t)log->nactions;
	double *w, *t;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = log->prop ? mr_ope_check(log, 1, err) : mr_err_set(err, MR_EINVAL, "IPS needs propensities");
	if (rc < 0)
		return rc;
	w = mr_malloc(n * sizeof(*w));
	t = mr_malloc(n * sizeof(*t));
	out->n = n;
	mr_ope_weights(log, pi, w, out);
	mr_ope_mean_ci(log->reward, n, &out->logged);
	for (size_t i = 0; i < n; i++)
		t[i] = w[i] * log->reward[i];
	mr_ope_mean_ci(t, n, &out->ips);
	mr_ope_snips(log, w, out);
	for (size_t i = 0; i < n; i++)
		t[i] = q[i * k + (size_t)pi[i]] + w[i] * (log->reward[i] - q[i * k + (size_t)log->action[i]]);
	mr_ope_mean_ci(t, n, &out->dr);
	for (size_t i = 0; i < n; i++)
		t[i] = q[i * k + (size_t)pi[i]];
	mr_ope_mean_ci(t, n, &out->dm);
	free(w);
	free(t);
	return 0;
}

/* P(a, x), the regularised lower incomplete gamma function, by its power series (x < a + 1). */
static double mr_ope_gamma_p_series(double a, double x)
{
	double term = 1.0 / a, sum = term;

	for (int n = 1; n < 1000 && fabs(term) > fabs(sum) * 1e-16; n++) {
		term *= x / (a + n);
		sum += term;
	}
	return sum * exp(-x + a * log(x) - lgamma(a));
}

/* Q(a, x) = 1 − P(a, x) by its continued fraction (modified Lentz; x >= a + 1). */
static double mr_ope_gamma_q_fraction(double a, double x)
{
	double b = x + 1 - a, c = 1e300, d = 1 / b, h = d;

	for (int i = 1; i < 1000; i++) {
		double an = -i * (i - a), delta;
		b += 2;
		d = an * d + b;
		d = fabs(d) < 1e-300 ? 1e-300 : d;
		c = b + an / c;
		c = fabs(c) < 1e-300 ? 1e-300 : c;
		d = 1 / d;
		delta = d * c;
		h *= delta;
		if (fabs(delta - 1) < 1e-16)
			break;
	}
	return exp(-x + a * log(x) - lgamma(a)) * h;
}

double mr_ope_chi2_sf(double x, int df)
{
	double a = df / 2.0, hx = x / 2;

	if (df < 1 || !(x > 0))
		return 1.0;
	if (hx < a + 1)
		return 1.0 - mr_ope_gamma_p_series(a, hx);
	return mr_ope_gamma_q_fraction(a, hx);
}

/* The chi-square statistic of the action counts against equal shares. */
static double mr_ope_uniform_chi2(const struct mr_ope_log *log)
{
	size_t *count = mr_calloc((size_t)log->nactions, sizeof(*count));
	double expect = (double)log->n / log->nactions, chi2 = 0;

	for (size_t i = 0; i < log->n; i++)
		count[log->action[i]]++;
	for (int a = 0; a < log->nactions; a++)
		chi2 += ((double)count[a] - expect) * ((double)count[a] - expect) / expect;
	free(count);
	return chi2;
}

int mr_ope_replay(const struct mr_ope_log *log, const int *pi, struct mr_ope_replay *out, struct mr_err *err)
{
	double *t;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = mr_ope_check(log, 0, err);
	if (rc < 0)
		return rc;
	t = mr_malloc(log->n * sizeof(*t));
	out->n = log->n;
	for (size_t i = 0; i < log->n; i++) {
		if (pi[i] == log->action[i])
			t[out->matched++] = log->reward[i];
	}
	mr_ope_mean_ci(t, out->matched, &out->value);
	mr_ope_mean_ci(log->reward, log->n, &out->logged);
	out->chi2 = mr_ope_uniform_chi2(log);
	out->df = log->nactions - 1;
	out->chi2_p = mr_ope_chi2_sf(out->chi2, out->df);
	free(t);
	return 0;
}

int mr_ope_binary(const double *reward, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (reward[i] != 0 && reward[i] != 1)
			return 0;
	}
	return 1;
}

int mr_ope_fold(size_t i)
{
	uint64_t z = (uint64_t)i + 0x9e3779b97f4a7c15ULL;   /* splitmix64 */

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (int)(z & 1);
}

/* Each action's mean reward over the whole log: the prediction when a fold has no rows of it. */
static void mr_ope_action_means(const struct mr_ope_log *log, double *mean)
{
	size_t *count = mr_calloc((size_t)log->nactions, sizeof(*count));

	memset(mean, 0, (size_t)log->nactions * sizeof(*mean));
	for (size_t i = 0; i < log->n; i++) {
		mean[log->action[i]] += log->reward[i];
		count[log->action[i]]++;
	}
	for (int a = 0; a < log->nactions; a++)
		mean[a] = count[a] ? mean[a] / (double)count[a] : 0.0;
	free(count);
}

/* Fills column a of q for the rows of fold f, from a model fit on the other fold's rows of action a. */
static int mr_ope_fit_cell(const struct mr_ope_log *log, const double *x, int nfeat, enum mr_lm_kind kind,
			   double lambda, int f, int a, double fallback, size_t *rows, double *q,
			   struct mr_err *err)
{
	size_t n = 0, k = (size_t)log->nactions;
	struct mr_lm m;
	int rc = 0;

	for (size_t i = 0; i < log->n; i++) {
		if (mr_ope_fold(i) != f && log->action[i] == a)
			rows[n++] = i;
	}
	if (n > 0)
		rc = mr_lm_fit(&m, kind, x, nfeat, log->reward, rows, n, lambda, err);
	for (size_t i = 0; rc == 0 && i < log->n; i++) {
		if (mr_ope_fold(i) == f)
			q[i * k + (size_t)a] = n > 0 ? mr_lm_predict(&m, x + i * (size_t)nfeat) : fallback;
	}
	if (n > 0)
		mr_lm_release(&m);
	return rc;
}

int mr_ope_crossfit(const struct mr_ope_log *log, const double *x, int nfeat, enum mr_lm_kind kind,
		    double lambda, double *q, int *pi, struct mr_err *err)
{
	size_t k = (size_t)log->nactions;
	size_t *rows;
	double *mean;
	int rc;

	rc = mr_ope_check(log, 0, err);
	if (rc < 0)
		return rc;
	rows = mr_malloc(log->n * sizeof(*rows));
	mean = mr_malloc(k * sizeof(*mean));
	mr_ope_action_means(log, mean);
	for (int f = 0; rc == 0 && f < 2; f++) {
		for (int a = 0; rc == 0 && a < log->nactions; a++)
			rc = mr_ope_fit_cell(log, x, nfeat, kind, lambda, f, a, mean[a], rows, q, err);
	}
	for (size_t i = 0; rc == 0 && i < log->n; i++) {
		pi[i] = 0;
		for (size_t a = 1; a < k; a++) {
			if (q[i * k + a] > q[i * k + (size_t)pi[i]])
				pi[i] = (int)a;
		}
	}
	free(rows);
	free(mean);
	return rc;
}
