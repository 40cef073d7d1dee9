/*
 * The statistics of an A/B test on a rate (experiments/experiments.h):
 * a proportion's 95% Wilson score interval, and two proportions compared —
 * their difference with its unpooled normal 95% interval and the pooled
 * two-proportion z-test with its two-sided p-value. Pure functions of the
 * counts; docs/experiments.md gives the formulas and when to trust them.
 */
#ifndef MR_EXPERIMENTS_STATS_H
#define MR_EXPERIMENTS_STATS_H

#include <stdint.h>

/* The normal quantile of a two-sided 95% interval. */
#define MR_STATS_Z95 1.959963984540054
#define MR_STATS_ALPHA 0.05

/* A proportion x/n: defined 0 when n is 0 (no rate, no interval). */
struct mr_prop {
	int defined;
	double rate, lo, hi;
};

/* Two proportions, x1/n1 against a control x0/n0: defined 0 when either n is 0. */
struct mr_prop_diff {
	int defined;
	double diff, lo, hi;         /* p1 - p0 and its unpooled normal 95% interval */
	double z, p;                 /* pooled z-test; z 0 and p 1 when the pooled rate is 0 or 1 */
	int significant;             /* p < 0.05 and both denominators at least min_n */
};

/* x/n with its 95% Wilson score interval (0 <= x <= n). */
struct mr_prop mr_stats_wilson(int64_t x, int64_t n);
/* x1/n1 against x0/n0; significant needs both n at least min_n. */
struct mr_prop_diff mr_stats_compare(int64_t x1, int64_t n1, int64_t x0, int64_t n0, int64_t min_n);
/* The two-sided p-value of a standard normal z: P(|Z| >= |z|). */
double mr_stats_p_two_sided(double z);

#endif
