/*
 * See stats.h. Wilson: centre (p + z²/2n) / (1 + z²/n), half-width
 * z / (1 + z²/n) · sqrt(p(1-p)/n + z²/4n²). Difference: p1 - p0 ± z ·
 * sqrt(p1(1-p1)/n1 + p0(1-p0)/n0). z-test: (p1 - p0) / sqrt(p̄(1-p̄)(1/n1 +
 * 1/n0)) with p̄ = (x1 + x0)/(n1 + n0); two-sided p = erfc(|z|/√2).
 */
#include "experiments/stats.h"

#include <math.h>

struct mr_prop mr_stats_wilson(int64_t x, int64_t n)
{
	struct mr_prop r = { 0, 0, 0, 0 };
	double z2 = MR_STATS_Z95 * MR_STATS_Z95, p, d, centre, half;

	if (n <= 0)
		return r;
	p = (double)x / (double)n;
	d = 1.0 + z2 / (double)n;
	centre = (p + z2 / (2.0 * (double)n)) / d;
	half = MR_STATS_Z95 / d * sqrt(p * (1.0 - p) / (double)n + z2 / (4.0 * (double)n * (double)n));
	r.defined = 1;
	r.rate = p;
	r.lo = x == 0 ? 0.0 : fmax(0.0, centre - half);  /* exact at the ends, not 1e-17 off */
	r.hi = x == n ? 1.0 : fmin(1.0, centre + half);
	return r;
}

double mr_stats_p_two_sided(double z)
{
	return erfc(fabs(z) / sqrt(2.0));
}

struct mr_prop_diff mr_stats_compare(int64_t x1, int64_t n1, int64_t x0, int64_t n0, int64_t min_n)
{
	struct mr_prop_diff r = { 0, 0, 0, 0, 0, 1, 0 };
	double p1, p0, se, pool, sep;

	if (n1 <= 0 || n0 <= 0)
		return r;
	p1 = (double)x1 / (double)n1;
	p0 = (double)x0 / (double)n0;
	r.defined = 1;
	r.diff = p1 - p0;
	se = sqrt(p1 * (1.0 - p1) / (double)n1 + p0 * (1.0 - p0) / (double)n0);
	r.lo = r.diff - MR_STATS_Z95 * se;
	r.hi = r.diff + MR_STATS_Z95 * se;
	pool = (double)(x1 + x0) / (double)(n1 + n0);
	sep = sqrt(pool * (1.0 - pool) * (1.0 / (double)n1 + 1.0 / (double)n0));
	if (sep > 0) {
		r.z = r.diff / sep;
		r.p = mr_stats_p_two_sided(r.z);
	}
	r.significant = r.p < MR_STATS_ALPHA && n1 >= min_n && n0 >= min_n;
	return r;
}
