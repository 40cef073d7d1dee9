/*
 * Regularised linear models over a small dense design matrix: ridge
 * regression for real-valued outcomes and L2-regularised logistic
 * regression for 0/1 outcomes. The next-best-action engine fits them as
 * reward models for off-policy evaluation (ope.c) and, later, as
 * response-propensity models over HCP features; both need only a few dozen
 * to a few hundred features, so the fit solves the normal equations (ridge)
 * or runs Newton's method with a backtracking line search (logistic) on a
 * dense (features + 1)² system by Cholesky factorisation.
 *
 * The design matrix is row-major, nfeat doubles a row, with no intercept
 * column: the model adds its own intercept. A fit reads the rows named by
 * an index list, so a caller can fit folds and per-action subsets of one
 * matrix without copying it.
 *
 * Penalties: ridge minimises  Σ (y − b − w·x)² + λ ‖w‖²  (the intercept b is
 * not penalised, so the closed form is the textbook one); logistic
 * minimises  −Σ log-likelihood + λ/2 ‖w‖² + λ₀/2 b²  with a tiny λ₀
 * (MR_LM_INTERCEPT_PENALTY), which keeps b finite when every outcome of a
 * subset is the same.
 */
#ifndef MR_ENGINE_NBA_LINMODEL_H
#define MR_ENGINE_NBA_LINMODEL_H

#include <stddef.h>

#include "base/err.h"

enum mr_lm_kind { MR_LM_RIDGE, MR_LM_LOGISTIC };

enum { MR_LM_MAX_FEATURES = 2048, MR_LM_MAX_ITER = 100 };
#define MR_LM_INTERCEPT_PENALTY 1e-4

struct mr_lm {
	enum mr_lm_kind kind;
	int nfeat;
	double *w;        /* nfeat + 1 coefficients: w[0] is the intercept, w[1 + j] feature j's */
	int iterations;   /* Newton steps (logistic); 1 for ridge */
	int converged;    /* 1 when the logistic fit met its tolerance within MR_LM_MAX_ITER */
};

/*
 * Fits m (uninitialised on entry, to be released with mr_lm_release) on the
 * n rows of x (nrows × nfeat, row-major) listed in rows, with outcomes
 * y[rows[k]]. lambda >= 0 is the L2 penalty. For logistic, y must be 0 or 1.
 * MR_EINVAL for no rows, too many features, a bad lambda or a logistic
 * outcome not 0/1; MR_EUNPROC when the system is singular (ridge with
 * lambda 0 on collinear features).
 */
int mr_lm_fit(struct mr_lm *m, enum mr_lm_kind kind, const double *x, int nfeat, const double *y,
	      const size_t *rows, size_t n, double lambda, struct mr_err *err);
/* The prediction for one row of nfeat features: the fitted value (ridge) or the probability of 1 (logistic). */
double mr_lm_predict(const struct mr_lm *m, const double *row);
/* Frees m's coefficients; m may be released twice. */
void mr_lm_release(struct mr_lm *m);

/*
 * Solves a x = b in place (b becomes x) for the symmetric positive definite
 * d × d matrix a (row-major, overwritten by its Cholesky factor). Returns
 * 0, or -1 when a is not positive definite.
 */
int mr_lm_cholesky_solve(double *a, double *b, int d);

#endif
