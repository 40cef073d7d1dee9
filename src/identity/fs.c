/*
 * Fellegi-Sunter estimation and scoring (see fs.h): the pattern table, EM
 * over it, weights and probabilities, and the model's JSON form.
 */
#include "identity/fs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>

#include "base/mem.h"

/* log2 of x, with a large negative value instead of -inf for 0 (EM sums these). */
static double mr_fs_log2(double x)
{
	return x > 0 ? log2(x) : -1e300;
}

static double mr_fs_exp2(double x)
{
	return exp2(x);
}

static double mr_fs_max(double a, double b)
{
	return a > b ? a : b;
}

/* No probability goes below this, so one odd level cannot veto a pair by itself (about -17 bits). */
#define MR_FS_FLOOR 1e-5

/* --- patterns ---------------------------------------------------------- */

void mr_fs_patterns_init(struct mr_fs_patterns *p)
{
	memset(p, 0, sizeof(*p));
}

void mr_fs_patterns_release(struct mr_fs_patterns *p)
{
	free(p->code);
	free(p->count);
	free(p->slot);
	memset(p, 0, sizeof(*p));
}

static size_t mr_fs_slot_of(uint64_t code, size_t nslot)
{
	code ^= code >> 31;
	code *= 0x9e3779b97f4a7c15ull;
	return (size_t)(code >> 17) & (nslot - 1);
}

static void mr_fs_patterns_grow(struct mr_fs_patterns *p)
{
	size_t nslot = p->nslot ? p->nslot * 2 : 1024;

	free(p->slot);
	p->slot = mr_calloc(nslot, sizeof(*p->slot));
	p->nslot = nslot;
	for (size_t i = 0; i < p->n; i++) {
		size_t s = mr_fs_slot_of(p->code[i], nslot);
		while (p->slot[s])
			s = (s + 1) & (nslot - 1);
		p->slot[s] = (uint32_t)(i + 1);
	}
}

uint32_t mr_fs_patterns_add(struct mr_fs_patterns *p, uint64_t code, double count)
{
	size_t s;

	if ((p->n + 1) * 2 > p->nslot)
		mr_fs_patterns_grow(p);
	s = mr_fs_slot_of(code, p->nslot);
	while (p->slot[s]) {
		uint32_t i = p->slot[s] - 1;
		if (p->code[i] == code) {
			p->count[i] += count;
			return i;
		}
		s = (s + 1) & (p->nslot - 1);
	}
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 256;
		p->code = mr_realloc(p->code, p->cap * sizeof(*p->code));
		p->count = mr_realloc(p->count, p->cap * sizeof(*p->count));
	}
	p->code[p->n] = code;
	p->count[p->n] = count;
	p->slot[s] = (uint32_t)(p->n + 1);
	return (uint32_t)p->n++;
}

/* --- the model --------------------------------------------------------- */

/* Normalises a[1..n-1] to sum 1 with the floor applied. */
static void mr_fs_normalise(double *a, int n)
{
	double sum = 0;

	for (int l = 1; l < n; l++) {
		a[l] = a[l] < MR_FS_FLOOR ? MR_FS_FLOOR : a[l];
		sum += a[l];
	}
	for (int l = 1; l < n; l++)
		a[l] /= sum;
}

void mr_fs_init(struct mr_fs_model *m, int nfields, const char *const *columns,
		const enum mr_cmp_kind *kinds)
{
	memset(m, 0, sizeof(*m));
	m->nfields = nfields > MR_FS_MAX_FIELDS ? MR_FS_MAX_FIELDS : nfields;
	m->lambda = 0.01;
	m->upper = MR_FS_UPPER;
	m->lower = MR_FS_LOWER;
	for (int f = 0; f < m->nfields; f++) {
		struct mr_fs_field *fd = &m->f[f];
		snprintf(fd->column, sizeof(fd->column), "%s", columns[f]);
		fd->kind = kinds[f];
		fd->nlevels = mr_cmp_nlevels(kinds[f]);
		for (int l = 1; l < fd->nlevels; l++) {
			fd->m[l] = l == 1 ? 0.9 : 0.1 / (fd->nlevels - 2);
			fd->u[l] = 1.0 / (fd->nlevels - 1);
		}
	}
}

void mr_fs_set_u(struct mr_fs_model *m, const struct mr_fs_patterns *p)
{
	for (int f = 0; f < m->nfields; f++) {
		struct mr_fs_field *fd = &m->f[f];
		for (int l = 1; l < fd->nlevels; l++)
			fd->u[l] = 1.0;
		for (size_t i = 0; i < p->n; i++) {
			int l = mr_fs_level_of(p->code[i], f);
			if (l > 0 && l < fd->nlevels)
				fd->u[l] += p->count[i];
		}
		mr_fs_normalise(fd->u, fd->nlevels);
	}
}

/* Sums of the E-step, per field and level, for matches and non-matches. */
struct mr_fs_acc {
	double m[MR_FS_MAX_FIELDS][MR_CMP_MAX_LEVELS];
	double u[MR_FS_MAX_FIELDS][MR_CMP_MAX_LEVELS];
	double matches, total;
};

static void mr_fs_estep(const struct mr_fs_model *m, const struct mr_fs_patterns *p,
			struct mr_fs_acc *acc)
{
	double lm[MR_FS_MAX_FIELDS][MR_CMP_MAX_LEVELS], lu[MR_FS_MAX_FIELDS][MR_CMP_MAX_LEVELS];
	double lprior = mr_fs_log2(m->lambda / (1.0 - m->lambda));

	memset(acc, 0, sizeof(*acc));
	for (int f = 0; f < m->nfields; f++) {
		for (int l = 1; l < m->f[f].nlevels; l++) {
			lm[f][l] = mr_fs_log2(m->f[f].m[l]);
			lu[f][l] = mr_fs_log2(m->f[f].u[l]);
		}
	}
	for (size_t i = 0; i < p->n; i++) {
		double x = lprior, g, c = p->count[i];
		for (int f = 0; f < m->nfields; f++) {
			int l = mr_fs_level_of(p->code[i], f);
			if (l)
				x += lm[f][l] - lu[f][l];
		}
		g = 1.0 / (1.0 + mr_fs_exp2(-x));
		acc->matches += c * g;
		acc->total += c;
		for (int f = 0; f < m->nfields; f++) {
			int l = mr_fs_level_of(p->code[i], f);
			acc->m[f][l] += c * g;
			acc->u[f][l] += c * (1.0 - g);
		}
	}
}

/* Moves a[l] to the estimate from the sums; returns the largest change. */
static double mr_fs_mstep(double *a, const double *sum, int n)
{
	double total = 0, delta = 0;
	double next[MR_CMP_MAX_LEVELS];

	for (int l = 1; l < n; l++)
		total += sum[l];
	if (total <= 0)
		return 0;
	for (int l = 1; l < n; l++)
		next[l] = sum[l] / total;
	mr_fs_normalise(next, n);
	for (int l = 1; l < n; l++) {
		delta = mr_fs_max(delta, next[l] > a[l] ? next[l] - a[l] : a[l] - next[l]);
		a[l] = next[l];
	}
	return delta;
}

int mr_fs_train(struct mr_fs_model *m, const struct mr_fs_patterns *p, const struct mr_fs_em_opts *o)
{
	int max_iter = o && o->max_iter > 0 ? o->max_iter : 50;
	double tol = o && o->tol > 0 ? o->tol : 1e-5;
	struct mr_fs_acc acc;
	int it;

	m->lambda = o && o->lambda0 > 0 ? o->lambda0 : 0.01;
	m->converged = 0;
	for (it = 1; it <= max_iter; it++) {
		double delta, lambda;
		mr_fs_estep(m, p, &acc);
		if (acc.total <= 0)
			break;
		lambda = acc.matches / acc.total;
		lambda = lambda < 1e-6 ? 1e-6 : lambda > 1.0 - 1e-6 ? 1.0 - 1e-6 : lambda;
		delta = lambda > m->lambda ? lambda - m->lambda : m->lambda - lambda;
		m->lambda = lambda;
		for (int f = 0; f < m->nfields; f++) {
			struct mr_fs_field *fd = &m->f[f];
			delta = mr_fs_max(delta, mr_fs_mstep(fd->m, acc.m[f], fd->nlevels));
			if (!(o && o->fix_u))
				delta = mr_fs_max(delta, mr_fs_mstep(fd->u, acc.u[f], fd->nlevels));
		}
		if (delta < tol) {
			m->converged = 1;
			break;
		}
	}
	m->iterations = it > max_iter ? max_iter : it;
	return m->iterations;
}

static double mr_fs_term_weight(const struct mr_fs_field *fd, int l)
{
	if (l <= 0 || l >= fd->nlevels)
		return 0;
	return mr_fs_log2(fd->m[l] / fd->u[l]);
}

double mr_fs_weight(const struct mr_fs_model *m, uint64_t code)
{
	double w = 0;

	for (int f = 0; f < m->nfields; f++)
		w += mr_fs_term_weight(&m->f[f], mr_fs_level_of(code, f));
	return w;
}

double mr_fs_prob(const struct mr_fs_model *m, double weight)
{
	double x = weight + mr_fs_log2(m->lambda / (1.0 - m->lambda));

	return 1.0 / (1.0 + mr_fs_exp2(-x));
}

double mr_fs_weight_at(const struct mr_fs_model *m, double prob)
{
	return mr_fs_log2(prob / (1.0 - prob)) - mr_fs_log2(m->lambda / (1.0 - m->lambda));
}

enum mr_fs_decision mr_fs_decide(const struct mr_fs_model *m, double prob)
{
	if (prob >= m->upper)
		return MR_FS_MATCH;
	return prob >= m->lower ? MR_FS_REVIEW : MR_FS_NEW;
}

const char *mr_fs_decision_name(enum mr_fs_decision d)
{
	return d == MR_FS_MATCH ? "match" : d == MR_FS_REVIEW ? "review" : "new";
}

void mr_fs_score_code(const struct mr_fs_model *m, uint64_t code, struct mr_fs_score *out)
{
	memset(out, 0, sizeof(*out));
	out->nfields = m->nfields;
	for (int f = 0; f < m->nfields; f++) {
		out->term[f].level = mr_fs_level_of(code, f);
		out->term[f].weight = mr_fs_term_weight(&m->f[f], out->term[f].level);
		out->weight += out->term[f].weight;
	}
	out->prob = mr_fs_prob(m, out->weight);
	out->decision = mr_fs_decide(m, out->prob);
}

void mr_fs_score_values(const struct mr_fs_model *m, const char *const *a, const char *const *b,
			struct mr_fs_score *out)
{
	uint64_t code = 0;

	for (int f = 0; f < m->nfields; f++)
		code = mr_fs_code_with(code, f, mr_cmp_strings(m->f[f].kind, a[f], b[f]));
	mr_fs_score_code(m, code, out);
}

/* --- JSON -------------------------------------------------------------- */

static json_t *mr_fs_field_json(const struct mr_fs_field *fd)
{
	json_t *o = json_object(), *levels = json_array(), *jm = json_array(), *ju = json_array();

	json_object_set_new(o, "column", json_string(fd->column));
	json_object_set_new(o, "kind", json_string(mr_cmp_kind_name(fd->kind)));
	for (int l = 1; l < fd->nlevels; l++) {
		json_array_append_new(levels, json_string(mr_cmp_level_name(fd->kind, l)));
		json_array_append_new(jm, json_real(fd->m[l]));
		json_array_append_new(ju, json_real(fd->u[l]));
	}
	json_object_set_new(o, "levels", levels);
	json_object_set_new(o, "m", jm);
	json_object_set_new(o, "u", ju);
	return o;
}

json_t *mr_fs_to_json(const struct mr_fs_model *m)
{
	json_t *o = json_object(), *fields = json_array();

	json_object_set_new(o, "version", json_integer(1));
	json_object_set_new(o, "lambda", json_real(m->lambda));
	json_object_set_new(o, "upper", json_real(m->upper));
	json_object_set_new(o, "lower", json_real(m->lower));
	json_object_set_new(o, "iterations", json_integer(m->iterations));
	json_object_set_new(o, "converged", json_boolean(m->converged));
	for (int f = 0; f < m->nfields; f++)
		json_array_append_new(fields, mr_fs_field_json(&m->f[f]));
	json_object_set_new(o, "fields", fields);
	return o;
}

/* Reads j as a probability in [lo, hi] into *out. */
static int mr_fs_prob_json(json_t *j, const char *name, double lo, double hi, double *out,
			   struct mr_err *err)
{
	double v;

	if (!json_is_number(j))
		return mr_err_field(err, MR_EINVAL, name, "model: %s must be a number", name);
	v = json_number_value(j);
	if (!(v >= lo && v <= hi))
		return mr_err_field(err, MR_EINVAL, name, "model: %s must be within [%g, %g]", name, lo, hi);
	*out = v;
	return 0;
}

/* Reads an array of nlevels-1 probabilities into a[1..]. */
static int mr_fs_levels_json(json_t *arr, const char *name, int nlevels, double *a, struct mr_err *err)
{
	int rc;

	if (!json_is_array(arr) || json_array_size(arr) != (size_t)(nlevels - 1))
		return mr_err_field(err, MR_EINVAL, name, "model: %s needs %d probabilities", name,
				    nlevels - 1);
	a[0] = 0;
	for (int l = 1; l < nlevels; l++) {
		rc = mr_fs_prob_json(json_array_get(arr, (size_t)(l - 1)), name, 1e-12, 1.0, &a[l], err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int mr_fs_field_from_json(json_t *o, struct mr_fs_field *fd, struct mr_err *err)
{
	json_t *col = json_object_get(o, "column"), *kind = json_object_get(o, "kind");
	int k, rc;

	if (!json_is_string(col) || json_string_length(col) >= sizeof(fd->column))
		return mr_err_field(err, MR_EINVAL, "column", "model: a field needs a column name (< 64 bytes)");
	k = json_is_string(kind) ? mr_cmp_kind_parse(json_string_value(kind)) : -1;
	if (k < 0)
		return mr_err_field(err, MR_EINVAL, "kind", "model: field '%s' has an unknown kind",
				    json_string_value(col));
	snprintf(fd->column, sizeof(fd->column), "%s", json_string_value(col));
	fd->kind = (enum mr_cmp_kind)k;
	fd->nlevels = mr_cmp_nlevels(fd->kind);
	rc = mr_fs_levels_json(json_object_get(o, "m"), "m", fd->nlevels, fd->m, err);
	if (rc == 0)
		rc = mr_fs_levels_json(json_object_get(o, "u"), "u", fd->nlevels, fd->u, err);
	return rc;
}

int mr_fs_from_json(json_t *j, struct mr_fs_model *m, struct mr_err *err)
{
	json_t *fields = json_object_get(j, "fields");
	json_t *it = json_object_get(j, "iterations");
	size_t n;
	int rc;

	memset(m, 0, sizeof(*m));
	if (!json_is_object(j) || json_integer_value(json_object_get(j, "version")) != 1)
		return mr_err_field(err, MR_EINVAL, "version", "model: not a version 1 model object");
	rc = mr_fs_prob_json(json_object_get(j, "lambda"), "lambda", 1e-9, 1.0 - 1e-9, &m->lambda, err);
	if (rc == 0)
		rc = mr_fs_prob_json(json_object_get(j, "upper"), "upper", 0.0, 1.0, &m->upper, err);
	if (rc == 0)
		rc = mr_fs_prob_json(json_object_get(j, "lower"), "lower", 0.0, m->upper, &m->lower, err);
	if (rc < 0)
		return rc;
	n = json_array_size(fields);
	if (!json_is_array(fields) || n == 0 || n > MR_FS_MAX_FIELDS)
		return mr_err_field(err, MR_EINVAL, "fields", "model: fields must hold 1 to %d fields",
				    MR_FS_MAX_FIELDS);
	for (size_t f = 0; f < n; f++) {
		rc = mr_fs_field_from_json(json_array_get(fields, f), &m->f[f], err);
		if (rc < 0)
			return rc;
	}
	m->nfields = (int)n;
	m->iterations = json_is_integer(it) ? (int)json_integer_value(it) : 0;
	m->converged = json_is_true(json_object_get(j, "converged"));
	return 0;
}
