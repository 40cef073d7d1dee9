/*
 * Off-policy evaluation: what a candidate policy π would have earned,
 * estimated from a log of what another (logging) policy did. Each logged
 * row is (x, a, r, p): the features, the action the logger took, the reward
 * that followed and the probability p the logger gave that action. The
 * estimators here work on plain arrays, so the CLI (`medreach nba
 * evaluate`, over any CSV log) and the API (over the platform's own log)
 * share them:
 *
 *   IPS    mean( 1[π(x)=a] r / p )                      unbiased when p is right
 *   SNIPS  Σ 1[π(x)=a] r/p  /  Σ 1[π(x)=a]/p             a little biased, far less variance
 *   DR     mean( q̂(x,π(x)) + 1[π(x)=a] (r − q̂(x,a)) / p )  unbiased if p or q̂ is right
 *   DM     mean( q̂(x,π(x)) )                            only as good as the model q̂
 *   replay mean r over rows with π(x)=a                  unbiased when the logger was uniform
 *
 * with 95% normal-approximation intervals (SE = sd/√n of the per-row terms;
 * the delta method for SNIPS). mr_ope_crossfit makes the candidate: a reward
 * model per action (linmodel.h), 2-fold cross-fitted so no row is scored by
 * a model that saw it, and π(x) = the action with the highest q̂(x, ·).
 */
#ifndef MR_ENGINE_NBA_OPE_H
#define MR_ENGINE_NBA_OPE_H

#include <stddef.h>

#include "base/err.h"
#include "engine/nba/linmodel.h"

/* One estimate: value with its standard error and 95% interval; NaN throughout when undefined. */
struct mr_ope_est {
	double value, se, lo, hi;
	size_t n;   /* rows the estimate averages over */
};

struct mr_ope_result {
	size_t n;           /* rows in the log */
	size_t matched;     /* rows where π(x) equals the logged action */
	double ess;         /* effective sample size (Σw)² / Σw², w = 1[π(x)=a] / p */
	double max_weight;  /* the largest w */
	struct mr_ope_est logged;   /* mean r: the logging policy's own value */
	struct mr_ope_est ips, snips, dr, dm;
};

struct mr_ope_replay {
	size_t n, matched;
	struct mr_ope_est logged;  /* mean r over the whole log */
	struct mr_ope_est value;   /* mean r over the matched rows */
	double chi2;               /* of the logged action counts against a uniform logger */
	int df;                    /* nactions − 1 */
	double chi2_p;             /* its p-value */
};

/* The log as arrays: n rows, actions 0..nactions-1; prop may be NULL when only replay is wanted. */
struct mr_ope_log {
	size_t n;
	int nactions;
	const int *action;
	const double *reward;
	const double *prop;
};

/*
 * Estimates π's value. pi[i] is π's action for row i; q (n × nactions,
 * row-major) the reward model's predictions, each row's from a model that
 * did not see it. MR_EINVAL for an empty log, an action out of range or a
 * propensity outside (0, 1] (naming the row, 1-based).
 */
int mr_ope_estimate(const struct mr_ope_log *log, const int *pi, const double *q, struct mr_ope_result *out,
		    struct mr_err *err);

/* Li et al.'s replay of π on a log of a (supposedly) uniform logger; MR_EINVAL for an empty log. */
int mr_ope_replay(const struct mr_ope_log *log, const int *pi, struct mr_ope_replay *out, struct mr_err *err);

/* 1 when every reward is 0 or 1 (the reward model is then logistic, else ridge). */
int mr_ope_binary(const double *reward, size_t n);

/* The fold (0 or 1) of row i: a stable hash of its index, so a rerun splits the same way. */
int mr_ope_fold(size_t i);

/*
 * The candidate policy and its reward model: for each fold and action, a
 * model of kind fitted with penalty lambda on the other fold's rows of that
 * action; q (n × nactions) gets every row's predictions from the models of
 * the other fold, pi[i] the action with the highest q (the lowest index on a
 * tie). An action with no rows in the other fold is predicted by its mean
 * reward over the whole log. x is n × nfeat, row-major.
 */
int mr_ope_crossfit(const struct mr_ope_log *log, const double *x, int nfeat, enum mr_lm_kind kind,
		    double lambda, double *q, int *pi, struct mr_err *err);

/* P(X ≥ x) for X chi-square with df degrees of freedom (the regularised upper incomplete gamma Q(df/2, x/2)). */
double mr_ope_chi2_sf(double x, int df);

#endif
