/*
 * An experiment's units, assignments, results and overlaps
 * (experiments.h), over the in-memory projections: the engine selects the
 * population's doctors, the HCP directory gives alignments and merged
 * records, the event index the events. External ids (what the hash takes)
 * come from the store, once per call.
 *
 * The tally follows analytics/kpi.c: an event of one of the metric's
 * channels counts in the denominator when its rung is at or above the
 * denominator's, and in the numerator at or above the numerator's; a
 * doctor's events are those of its record and of the records merged into
 * it; the window is from <= ts < to.
 */
#include "experiments/experiments.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "engine/engine.h"
#include "engine/evindex.h"
#include "engine/hcpdir.h"

/* ------------------------------------------------------------ the population */

/* The doctors (record ids, ascending) population src selects at as_of, into *ids (in a). */
static int mr_exp_select(struct mr_engine *e, const char *src, int64_t as_of, struct mr_arena *a, uint32_t **ids,
			 int *n, struct mr_err *err)
{
	struct mr_eplan *plan = NULL;
	struct mr_xerr xe;
	int64_t count = 0;
	int rc;

	*ids = NULL;
	*n = 0;
	if (!mr_engine_ready(e))
		return mr_err_set(err, MR_EUNAVAIL, "the server is still loading its indexes; try again shortly");
	rc = mr_engine_compile(e, src, strlen(src), as_of, a, &plan, &xe, err);
	if (rc == MR_EINVAL)
		return mr_err_field(err, MR_EUNPROC, "population", "the population no longer compiles: %s (column"
				    " %d)", xe.msg, xe.col);
	if (rc == 0 && mr_eplan_type(plan) != MR_XT_BOOL)
		return mr_err_field(err, MR_EUNPROC, "population", "the population is not a boolean expression");
	if (rc == 0)
		rc = mr_engine_select(e, plan, NULL, 0, 0, NULL, 0, NULL, &count, err);
	if (rc == 0) {
		*ids = mr_arena_alloc(a, ((size_t)count + 1) * sizeof(**ids));
		rc = mr_engine_select(e, plan, NULL, 0, 0, *ids, (int)count + 1, n, &count, err);
	}
	if (rc == 0 && *n > count)
		*n = (int)count; /* a doctor added in between waits for the next call */
	return rc;
}

/* The population's text, "true" for everyone. */
static const char *mr_exp_pop(const struct mr_experiment *x)
{
	return x->population ? x->population : "true";
}

/* External ids by internal id of table (hcps or reps), live rows only: *ext[id] (in a), NULL for none. */
static int mr_exp_ext_ids(struct mr_conn *c, int reps, struct mr_arena *a, const char ***ext, uint32_t *n,
			  struct mr_err *err)
{
	struct mr_rows *r = NULL;
	int64_t max = 0;
	int rc = mr_conn_query_int(c, reps ? "SELECT COALESCE(MAX(id), 0) FROM reps" :
				   "SELECT COALESCE(MAX(id), 0) FROM hcps", NULL, 0, &max, err);

	*ext = NULL;
	*n = 0;
	if (rc < 0)
		return rc;
	*n = (uint32_t)max + 1;
	*ext = mr_arena_alloc(a, *n * sizeof(**ext));
	memset(*ext, 0, *n * sizeof(**ext));
	rc = mr_conn_query(c, reps ? "SELECT id, ext_id FROM reps WHERE deleted_at IS NULL" :
			   "SELECT id, ext_id FROM hcps WHERE deleted_at IS NULL AND merged_into IS NULL", NULL, 0,
			   &r, err);
	while (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		int64_t id = mr_rows_int(r, 0);

		rc = 0;
		if (id > 0 && id < (int64_t)*n)
			(*ext)[id] = mr_arena_strdup(a, mr_rows_text(r, 1));
	}
	mr_rows_close(r);
	return rc < 0 ? rc : 0;
}

static int mr_exp_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The reps (ascending, distinct, in a) aligned at as_of to a doctor of pop (n of them, ascending). */
static int mr_exp_reps_of(struct mr_hcpdir *dir, int64_t as_of, const uint32_t *pop, int npop, struct mr_arena *a,
			  uint32_t **reps, int *nreps, struct mr_err *err)
{
	struct mr_hcpdir_align *al = NULL;
	size_t nal = 0;
	int k = 0;

	*reps = NULL;
	*nreps = 0;
	if (!mr_hcpdir_alignments(dir, as_of, &al, &nal))
		return mr_err_set(err, MR_EUNAVAIL, "the server is still loading its indexes; try again shortly");
	*reps = mr_arena_alloc(a, (nal + 1) * sizeof(**reps));
	for (size_t i = 0; npop > 0 && i < nal; i++) {
		if (bsearch(&al[i].hcp, pop, (size_t)npop, sizeof(*pop), mr_exp_cmp_u32))
			(*reps)[k++] = al[i].rep;
	}
	free(al);
	qsort(*reps, (size_t)k, sizeof(**reps), mr_exp_cmp_u32);
	for (int i = 0; i < k; i++) {
		if (*nreps == 0 || (*reps)[*nreps - 1] != (*reps)[i])
			(*reps)[(*nreps)++] = (*reps)[i];
	}
	return 0;
}

int mr_experiment_units(const struct mr_exp_src *src, struct mr_conn *c, const struct mr_experiment *x,
			int64_t as_of, struct mr_arena *a, struct mr_exp_units *out, struct mr_err *err)
{
	const char **ext = NULL;
	uint32_t next = 0, *cand = NULL;
	int ncand = 0, rc;

	memset(out, 0, sizeof(*out));
	rc = 0;
	if (x->unit == MR_EXP_HCP || x->population)
		rc = mr_exp_select(src->engine, mr_exp_pop(x), as_of, a, &cand, &ncand, err);
	if (rc == 0)
		rc = mr_exp_ext_ids(c, x->unit == MR_EXP_REP, a, &ext, &next, err);
	if (rc == 0 && x->unit == MR_EXP_REP) {
		out->pop = cand;
		out->npop = ncand;
		if (x->population) {
			rc = mr_exp_reps_of(src->dir, as_of, cand, ncand, a, &cand, &ncand, err);
		} else { /* every live rep */
			cand = mr_arena_alloc(a, next * sizeof(*cand));
			ncand = 0;
			for (uint32_t id = 1; id < next; id++) {
				if (ext[id])
					cand[ncand++] = id;
			}
		}
	}
	if (rc < 0)
		return rc;
	out->ids = mr_arena_alloc(a, ((size_t)ncand + 1) * sizeof(*out->ids));
	out->ext = mr_arena_alloc(a, ((size_t)ncand + 1) * sizeof(*out->ext));
	out->arm = mr_arena_alloc(a, ((size_t)ncand + 1) * sizeof(*out->arm));
	for (int i = 0; i < ncand; i++) {
		if (cand[i] >= next || !ext[cand[i]])
			continue; /* deleted since (a rep), or not yet read */
		out->ids[out->n] = cand[i];
		out->ext[out->n] = ext[cand[i]];
		out->arm[out->n] = mr_experiments_arm(x, ext[cand[i]]);
		out->n++;
	}
	return 0;
}

int mr_experiment_assignment(const struct mr_exp_src *src, struct mr_conn *c, const struct mr_experiment *x,
			     const char *ext, int64_t now, struct mr_arena *a, uint32_t *bucket, int *arm,
			     int *in_pop, struct mr_err *err)
{
	int64_t id = 0, as_of = mr_experiment_as_of(x, now);
	int type = 0, rc = 0;

	*in_pop = 0;
	*bucket = mr_experiments_bucket(x->salt, ext);
	*arm = mr_experiments_arm_of_bucket(x, *bucket);
	id = x->unit == MR_EXP_HCP ? mr_hcpdir_lookup(src->dir, ext) : mr_hcpdir_rep(src->dir, ext, &type);
	if (!id)
		return mr_err_field(err, MR_ENOTFOUND, x->unit == MR_EXP_HCP ? "hcp" : "rep", "no live %s '%s'",
				    x->unit == MR_EXP_HCP ? "doctor" : "rep", ext);
	if (!x->population) {
		*in_pop = 1;
		return 0;
	}
	if (x->unit == MR_EXP_HCP) {
		uint32_t *pop = NULL, key = (uint32_t)id;
		int n = 0;

		rc = mr_exp_select(src->engine, x->population, as_of, a, &pop, &n, err);
		*in_pop = rc == 0 && n > 0 && bsearch(&key, pop, (size_t)n, sizeof(*pop), mr_exp_cmp_u32) != NULL;
	} else {
		struct mr_exp_units u;

		rc = mr_experiment_units(src, c, x, as_of, a, &u, err);
		for (int i = 0; rc == 0 && i < u.n; i++)
			*in_pop |= u.ids[i] == (uint32_t)id;
	}
	return rc;
}

int mr_experiments_unit_arm(const struct mr_exp_src *src, struct mr_conn *c, int unit, const char *ext,
			    int64_t now, struct mr_arena *a, const struct mr_experiment **x, int *arm,
			    struct mr_err *err)
{
	struct mr_experiment *running = NULL;
	int n = 0, rc = mr_experiment_list(c, MR_EXP_RUNNING, a, &running, &n, err);
	int64_t id = 0;
	int type = 0;

	*x = NULL;
	*arm = -1;
	if (rc < 0)
		return rc;
	id = unit == MR_EXP_HCP ? mr_hcpdir_lookup(src->dir, ext) : mr_hcpdir_rep(src->dir, ext, &type);
	if (!id)
		return mr_err_field(err, MR_ENOTFOUND, unit == MR_EXP_HCP ? "hcp" : "rep", "no live %s '%s'",
				    unit == MR_EXP_HCP ? "doctor" : "rep", ext);
	for (int i = 0; i < n; i++) {
		uint32_t bucket = 0;
		int k = 0, in_pop = 0;

		if (running[i].unit != unit)
			continue;
		rc = mr_experiment_assignment(src, c, &running[i], ext, now, a, &bucket, &k, &in_pop, err);
		if (rc < 0)
			return rc;
		if (in_pop) {
			*x = &running[i];
			*arm = k;
			return 0;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ results */

/* Adds the metric's events of record rec within [from, to) to arm k's tally; with repArm, by the event's rep. */
static void mr_exp_tally(const struct mr_evindex *ev, uint32_t rec, const struct mr_exp_metric_def *m, int64_t from,
			 int64_t to, int k, const int *rep_arm, uint32_t nrep_arm, struct mr_exp_results *res)
{
	uint32_t n = 0;
	const struct mr_evitem *it = rec < mr_evindex_nhcps(ev) ? mr_evindex_items(ev, rec, &n) : NULL;

	for (uint32_t i = 0; it && i < n; i++) {
		int arm = k;

		if (it[i].ts < from || it[i].ts >= to || !(m->channels & (1u << it[i].channel)) ||
		    it[i].outcome < m->den_rung)
			continue;
		if (rep_arm) {
			if (!it[i].rep || it[i].rep >= nrep_arm || rep_arm[it[i].rep] < 0)
				continue;
			arm = rep_arm[it[i].rep];
		}
		res->arm[arm].den++;
		res->arm[arm].num += it[i].outcome >= m->num_rung;
	}
}

/* The records of each doctor of ids (itself and those merged into it), flattened, with their doctor's index. */
struct mr_exp_recs {
	uint32_t *rec;
	int *of;
	size_t n;
};

static void mr_exp_clusters(struct mr_hcpdir *dir, const uint32_t *ids, int n, struct mr_exp_recs *out)
{
	size_t cap = (size_t)n + 16;

	out->rec = mr_malloc(cap * sizeof(*out->rec));
	out->of = mr_malloc(cap * sizeof(*out->of));
	out->n = 0;
	for (int i = 0; i < n; i++) {
		uint32_t cl[MR_EXP_CLUSTER_MAX];
		int k = mr_hcpdir_cluster(dir, ids[i], cl, MR_EXP_CLUSTER_MAX);

		if (out->n + (size_t)k > cap) {
			cap = 2 * cap + (size_t)k;
			out->rec = mr_realloc(out->rec, cap * sizeof(*out->rec));
			out->of = mr_realloc(out->of, cap * sizeof(*out->of));
		}
		for (int j = 0; j < k; j++) {
			out->rec[out->n] = cl[j];
			out->of[out->n++] = i;
		}
	}
}

int mr_experiment_results(const struct mr_exp_src *src, struct mr_conn *c, const struct mr_experiment *x,
			  int64_t now, struct mr_arena *a, struct mr_exp_results *res, struct mr_err *err)
{
	const struct mr_exp_metric_def *m = mr_experiments_metric(x->metric);
	struct mr_exp_units u;
	struct mr_exp_recs recs = { NULL, NULL, 0 };
	int *rep_arm = NULL;
	uint32_t nrep_arm = 0;
	int rc;

	memset(&u, 0, sizeof(u));
	memset(res, 0, sizeof(*res));
	if (!x->started_at || !m)
		return mr_err_field(err, MR_ECONFLICT, "status", "experiment '%s' has not started: it has no"
				    " results yet", x->name);
	res->from = x->started_at;
	res->to = x->stopped_at ? x->stopped_at : now;
	res->as_of = mr_experiment_as_of(x, now);
	res->control = mr_experiment_control(x);
	rc = mr_evindex_drain(src->ev, src->store, err);
	if (rc == 0)
		rc = mr_experiment_units(src, c, x, res->as_of, a, &u, err);
	if (rc < 0)
		return rc;
	for (int i = 0; i < u.n; i++)
		res->arm[u.arm[i]].units++;
	if (x->unit == MR_EXP_HCP) {
		mr_exp_clusters(src->dir, u.ids, u.n, &recs);
	} else {
		nrep_arm = u.n ? u.ids[u.n - 1] + 1 : 0;
		rep_arm = mr_malloc(((size_t)nrep_arm + 1) * sizeof(*rep_arm));
		for (uint32_t i = 0; i < nrep_arm; i++)
			rep_arm[i] = -1;
		for (int i = 0; i < u.n; i++)
			rep_arm[u.ids[i]] = u.arm[i];
		if (x->population)
			mr_exp_clusters(src->dir, u.pop, u.npop, &recs);
	}
	mr_evindex_read_begin(src->ev);
	if (x->unit == MR_EXP_REP && !x->population) {
		for (uint32_t r = 0; r < mr_evindex_nhcps(src->ev); r++)
			mr_exp_tally(src->ev, r, m, res->from, res->to, 0, rep_arm, nrep_arm, res);
	} else {
		for (size_t i = 0; i < recs.n; i++)
			mr_exp_tally(src->ev, recs.rec[i], m, res->from, res->to,
				     rep_arm || !u.arm ? 0 : u.arm[recs.of[i]], rep_arm, nrep_arm, res);
	}
	mr_evindex_read_end(src->ev);
	free(recs.rec);
	free(recs.of);
	free(rep_arm);
	for (int i = 0; i < x->narms; i++) {
		struct mr_exp_arm_result *ar = &res->arm[i], *ctl = &res->arm[res->control];

		ar->rate = mr_stats_wilson(ar->num, ar->den);
		if (i != res->control && x->arms[i].kind != MR_EXP_HOLDOUT)
			res->cmp[i] = mr_stats_compare(ar->num, ar->den, ctl->num, ctl->den, MR_EXP_MIN_DEN);
	}
	return 0;
}

static json_t *mr_exp_num(int defined, double v)
{
	return defined ? json_real(v) : json_null();
}

/* The verdict on arm i against the control, in words. */
static json_t *mr_exp_verdict(const struct mr_experiment *x, const struct mr_exp_results *res, int i)
{
	const struct mr_prop_diff *d = &res->cmp[i];
	const char *arm = x->arms[i].name, *ctl = x->arms[res->control].name;

	if (!d->defined)
		return json_sprintf("not yet significant: %s or %s has no events in the denominator yet", arm, ctl);
	if (d->significant)
		return json_sprintf("significant: %s is %s than %s (p = %.4g)", arm, d->diff > 0 ? "higher" : "lower",
				    ctl, d->p);
	if (res->arm[i].den < MR_EXP_MIN_DEN || res->arm[res->control].den < MR_EXP_MIN_DEN)
		return json_sprintf("not yet significant: each arm needs at least %d in the denominator (%s has"
				    " %lld, %s %lld)", MR_EXP_MIN_DEN, arm, (long long)res->arm[i].den, ctl,
				    (long long)res->arm[res->control].den);
	return json_sprintf("not yet significant: p = %.4g is not below 0.05", d->p);
}

json_t *mr_experiment_results_json(const struct mr_experiment *x, const struct mr_exp_results *res)
{
	const struct mr_exp_metric_def *m = mr_experiments_metric(x->metric);
	json_t *o = json_object(), *arms = json_array(), *cmps = json_array();

	mr_json_set_str(o, "experiment", x->name);
	mr_json_set_str(o, "status", mr_experiments_status_name(x->status));
	mr_json_set_str(o, "unit", mr_experiments_unit_name(x->unit));
	mr_json_set_str(o, "metric", m->name);
	json_object_set_new(o, "metric_definition", json_pack("{s:s, s:s}", "numerator", m->numerator,
							      "denominator", m->denominator));
	mr_json_set_time(o, "from", res->from);
	mr_json_set_time(o, "to", res->to);
	mr_json_set_time(o, "population_as_of", res->as_of);
	mr_json_set_str(o, "control", x->arms[res->control].name);
	for (int i = 0; i < x->narms; i++) {
		const struct mr_exp_arm_result *ar = &res->arm[i];

		json_array_append_new(arms, json_pack("{s:s, s:s, s:f, s:I, s:I, s:I, s:o, s:o}", "name",
						      x->arms[i].name, "kind", mr_experiments_kind_name(x->arms[i].kind),
						      "allocation", mr_experiments_percent(x->arms[i].buckets),
						      "units", (json_int_t)ar->units, "numerator", (json_int_t)ar->num,
						      "denominator", (json_int_t)ar->den, "rate",
						      mr_exp_num(ar->rate.defined, ar->rate.rate), "ci",
						      ar->rate.defined ? json_pack("[f, f]", ar->rate.lo, ar->rate.hi) :
						      json_null()));
		if (i == res->control || x->arms[i].kind == MR_EXP_HOLDOUT)
			continue;
		{
			const struct mr_prop_diff *d = &res->cmp[i];

			json_array_append_new(cmps, json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:b, s:o}", "arm",
							      x->arms[i].name, "control", x->arms[res->control].name,
							      "difference", mr_exp_num(d->defined, d->diff), "ci",
							      d->defined ? json_pack("[f, f]", d->lo, d->hi) : json_null(),
							      "z", mr_exp_num(d->defined, d->z), "p_value",
							      mr_exp_num(d->defined, d->p), "significant", d->significant,
							      "verdict", mr_exp_verdict(x, res, i)));
		}
	}
	json_object_set_new(o, "arms", arms);
	json_object_set_new(o, "comparisons", cmps);
	return o;
}

/* ------------------------------------------------------------ overlap */

/* How many of a's n ids (ascending) b (ascending) holds too. */
static int64_t mr_exp_common(const uint32_t *a, int na, const uint32_t *b, int nb)
{
	int64_t k = 0;

	for (int i = 0, j = 0; i < na && j < nb;) {
		if (a[i] < b[j])
			i++;
		else if (a[i] > b[j])
			j++;
		else {
			k++;
			i++;
			j++;
		}
	}
	return k;
}

/* The doctors both populations select at as_of, counted by the engine: "(a) and (b)". */
static int mr_exp_common_hcps(struct mr_engine *e, const char *pa, const char *pb, int64_t as_of,
			      struct mr_arena *a, int64_t *shared, struct mr_err *err)
{
	struct mr_buf b;
	uint32_t *ids = NULL;
	int n = 0, rc;
	char *src;

	mr_buf_init(&b, 2 * (size_t)MR_EXP_POP_MAX + 64);
	/* on lines of their own, so that a comment (--) in one cannot swallow the rest */
	mr_buf_adds(&b, "(\n");
	mr_buf_adds(&b, pa);
	mr_buf_adds(&b, "\n) and (\n");
	mr_buf_adds(&b, pb);
	mr_buf_adds(&b, "\n)");
	src = mr_arena_strdup(a, mr_buf_str(&b));
	mr_buf_release(&b);
	rc = mr_exp_select(e, src, as_of, a, &ids, &n, err);
	*shared = n;
	return rc;
}

int mr_experiment_overlap(const struct mr_exp_src *src, struct mr_conn *c, const struct mr_experiment *x,
			  int64_t now, struct mr_arena *a, const char **other, int64_t *shared, struct mr_err *err)
{
	struct mr_experiment *running = NULL;
	struct mr_exp_units mine;
	int n = 0, have_mine = 0;
	int rc = mr_experiment_list(c, MR_EXP_RUNNING, a, &running, &n, err);

	*other = NULL;
	*shared = 0;
	for (int i = 0; rc == 0 && i < n && !*other; i++) {
		const struct mr_experiment *y = &running[i];

		if (y->unit != x->unit || strcmp(y->name, x->name) == 0)
			continue;
		if (x->unit == MR_EXP_HCP) {
			rc = mr_exp_common_hcps(src->engine, mr_exp_pop(x), mr_exp_pop(y), now, a, shared, err);
		} else {
			struct mr_exp_units theirs;

			if (!have_mine)
				rc = mr_experiment_units(src, c, x, now, a, &mine, err);
			have_mine = 1;
			if (rc == 0)
				rc = mr_experiment_units(src, c, y, mr_experiment_as_of(y, now), a, &theirs, err);
			if (rc == 0)
				*shared = mr_exp_common(mine.ids, mine.n, theirs.ids, theirs.n);
		}
		if (rc == 0 && *shared > 0)
			*other = y->name;
	}
	if (!*other)
		*shared = 0;
	return rc;
}
