/*
 * Ridge and logistic regression (see linmodel.h). Both build the same kind
 * of system: a (d × d) matrix of Σ z zᵀ over the rows, z = (1, x), plus the
 * penalty on its diagonal, solved by Cholesky. Ridge solves it once; the
 * logistic fit solves it with weights p(1 − p) at each Newton step and
 * halves the step until the penalised log-loss falls enough (Armijo), so it
 * also converges on data that is nearly separable.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "engine/nba/linmodel.h"

int mr_lm_cholesky_solve(double *a, double *b, int d)
{
	for (int j = 0; j < d; j++) {
		double diag = a[j * d + j], s = diag;
		for (int k = 0; k < j; k++)
			s -= a[j * d + k] * a[j * d + k];
		/* what is left of the pivot after elimination, relative to it: ~0 when column j depends on the others */
		if (!(s > 1e-12 * diag) || !(s > 1e-300))
			return -1;
		a[j * d + j] = sqrt(s);
		for (int i = j + 1; i < d; i++) {
			double t = a[i * d + j];
			for (int k = 0; k < j; k++)
				t -= a[i * d + k] * a[j * d + k];
			a[i * d + j] = t / a[j * d + j];
		}
	}
	for (int i = 0; i < d; i++) {   /* L y = b */
		double t = b[i];
		for (int k = 0; k < i; k++)
			t -= a[i * d + k] * b[k];
		b[i] = t / a[i * d + i];
	}
	for (int i = d - 1; i >= 0; i--) {   /* Lᵀ x = y */
		double t = b[i];
		for (int k = i + 1; k < d; k++)
			t -= a[k * d + i] * b[k];
		b[i] = t / a[i * d + i];
	}
	return 0;
}

/* z·w for z = (1, row). */
static double mr_lm_dot(const double *w, const double *row, int nfeat)
{
	double s = w[0];

	for (int j = 0; j < nfeat; j++)
		s += w[1 + j] * row[j];
	return s;
}

/* a += c z zᵀ (lower triangle and diagonal only) for z = (1, row). */
static void mr_lm_add_outer(double *a, const double *row, int nfeat, double c)
{
	int d = nfeat + 1;

	for (int i = 0; i < d; i++) {
		double zi = i == 0 ? 1.0 : row[i - 1];
		if (zi == 0)
			continue;
		for (int k = 0; k <= i; k++) {
			double zk = k == 0 ? 1.0 : row[k - 1];
			a[i * d + k] += c * zi * zk;
		}
	}
}

/* The penalty on coefficient i: none (ridge) or λ₀ (logistic) on the intercept, λ on the rest. */
static double mr_lm_penalty(enum mr_lm_kind kind, int i, double lambda)
{
	if (i > 0)
		return lambda;
	return kind == MR_LM_LOGISTIC ? MR_LM_INTERCEPT_PENALTY : 0.0;
}

/* Mirrors the lower triangle into the upper one and adds the penalties to the diagonal. */
static void mr_lm_finish_system(double *a, int d, enum mr_lm_kind kind, double lambda)
{
	for (int i = 0; i < d; i++) {
		a[i * d + i] += mr_lm_penalty(kind, i, lambda);
		for (int k = 0; k < i; k++)
			a[k * d + i] = a[i * d + k];
	}
}

static int mr_lm_fit_ridge(struct mr_lm *m, const double *x, const double *y, const size_t *rows, size_t n,
			   double lambda, struct mr_err *err)
{
	int nfeat = m->nfeat, d = nfeat + 1;
	double *a = mr_calloc((size_t)d * (size_t)d, sizeof(*a));

	for (size_t k = 0; k < n; k++) {
		const double *row = x + rows[k] * (size_t)nfeat;
		mr_lm_add_outer(a, row, nfeat, 1.0);
		m->w[0] += y[rows[k]];
		for (int j = 0; j < nfeat; j++)
			m->w[1 + j] += row[j] * y[rows[k]];
	}
	mr_lm_finish_system(a, d, MR_LM_RIDGE, lambda);
	m->iterations = 1;
	m->converged = mr_lm_cholesky_solve(a, m->w, d) == 0;
	free(a);
	if (!m->converged)
		return mr_err_set(err, MR_EUNPROC, "ridge regression: the features are collinear "
				  "(use a penalty above 0)");
	return 0;
}

/* log(1 + e^t) without overflow. */
static double mr_lm_softplus(double t)
{
	return t > 0 ? t + log1p(exp(-t)) : log1p(exp(t));
}

/* The penalised logistic loss at w. */
static double mr_lm_logloss(const struct mr_lm *m, const double *w, const double *x, const double *y,
			    const size_t *rows, size_t n, double lambda)
{
	double f = 0;

	for (size_t k = 0; k < n; k++) {
		double t = mr_lm_dot(w, x + rows[k] * (size_t)m->nfeat, m->nfeat);
		f += mr_lm_softplus(t) - y[rows[k]] * t;
	}
	for (int i = 0; i <= m->nfeat; i++)
		f += 0.5 * mr_lm_penalty(MR_LM_LOGISTIC, i, lambda) * w[i] * w[i];
	return f;
}

/* The gradient g and Hessian a of the penalised loss at m->w. */
static void mr_lm_newton_system(const struct mr_lm *m, const double *x, const double *y, const size_t *rows,
				size_t n, double lambda, double *a, double *g)
{
	int nfeat = m->nfeat, d = nfeat + 1;

	memset(a, 0, (size_t)d * (size_t)d * sizeof(*a));
	for (int i = 0; i < d; i++)
		g[i] = mr_lm_penalty(MR_LM_LOGISTIC, i, lambda) * m->w[i];
	for (size_t k = 0; k < n; k++) {
		const double *row = x + rows[k] * (size_t)nfeat;
		double p = 1.0 / (1.0 + exp(-mr_lm_dot(m->w, row, nfeat)));
		double r = p - y[rows[k]];
		g[0] += r;
		for (int j = 0; j < nfeat; j++)
			g[1 + j] += r * row[j];
		mr_lm_add_outer(a, row, nfeat, p * (1 - p));
	}
	mr_lm_finish_system(a, d, MR_LM_LOGISTIC, lambda);
}

/* One damped Newton step; returns the Newton decrement gᵀH⁻¹g / 2 (0 when the step failed). */
static double mr_lm_newton_step(struct mr_lm *m, const double *x, const double *y, const size_t *rows,
				size_t n, double lambda, double *a, double *g, double *trial)
{
	int d = m->nfeat + 1;
	double f0 = mr_lm_logloss(m, m->w, x, y, rows, n, lambda), dec = 0, t = 1;
	double *s = trial + d;

	mr_lm_newton_system(m, x, y, rows, n, lambda, a, g);
	memcpy(s, g, (size_t)d * sizeof(*s));
	if (mr_lm_cholesky_solve(a, s, d) < 0)
		return 0;
	for (int i = 0; i < d; i++)
		dec += g[i] * s[i];
	for (int halvings = 0; halvings < 50; halvings++) {
		for (int i = 0; i < d; i++)
			trial[i] = m->w[i] - t * s[i];
		if (mr_lm_logloss(m, trial, x, y, rows, n, lambda) <= f0 - 1e-4 * t * dec)
			break;
		t *= 0.5;
	}
	memcpy(m->w, trial, (size_t)d * sizeof(*trial));
	return dec / 2;
}

static int mr_lm_fit_logistic(struct mr_lm *m, const double *x, const double *y, const size_t *rows,
			      size_t n, double lambda, struct mr_err *err)
{
	int d = m->nfeat + 1;
	double *a = mr_malloc((size_t)d * (size_t)d * sizeof(*a));
	double *g = mr_malloc((size_t)d * 3 * sizeof(*g));

	for (size_t k = 0; k < n; k++) {
		if (y[rows[k]] != 0 && y[rows[k]] != 1) {
			free(a);
			free(g);
			return mr_err_set(err, MR_EINVAL, "logistic regression needs outcomes of 0 or 1, "
					  "not %g", y[rows[k]]);
		}
	}
	while (m->iterations < MR_LM_MAX_ITER && !m->converged) {
		double dec = mr_lm_newton_step(m, x, y, rows, n, lambda, a, g, g + d);
		m->iterations++;
		m->converged = dec < 1e-12 * (double)n;
	}
	free(a);
	free(g);
	return 0;
}

int mr_lm_fit(struct mr_lm *m, enum mr_lm_kind kind, const double *x, int nfeat, const double *y,
	      const size_t *rows, size_t n, double lambda, struct mr_err *err)
{
	memset(m, 0, sizeof(*m));
	if (n == 0)
		return mr_err_set(err, MR_EINVAL, "a model needs at least one row to fit");
	if (nfeat < 0 || nfeat > MR_LM_MAX_FEATURES)
		return mr_err_set(err, MR_EINVAL, "a model takes at most %d features, not %d",
				  MR_LM_MAX_FEATURES, nfeat);
	if (!(lambda >= 0) || !isfinite(lambda))
		return mr_err_set(err, MR_EINVAL, "the penalty must be a number >= 0");
	m->kind = kind;
	m->nfeat = nfeat;
	m->w = mr_calloc((size_t)nfeat + 1, sizeof(*m->w));
	if (kind == MR_LM_RIDGE)
		return mr_lm_fit_ridge(m, x, y, rows, n, lambda, err);
	return mr_lm_fit_logistic(m, x, y, rows, n, lambda, err);
}

double mr_lm_predict(const struct mr_lm *m, const double *row)
{
	double t = mr_lm_dot(m->w, row, m->nfeat);

	return m->kind == MR_LM_LOGISTIC ? 1.0 / (1.0 + exp(-t)) : t;
}

void mr_lm_release(struct mr_lm *m)
{
	free(m->w);
	m->w = NULL;
}
