/*
 * The identity-resolution pipeline of dedupe.h. Memory is flat arrays
 * sized once: prepared values (rows x fields), candidate pairs, one
 * comparison code and one pattern index per pair. The two heavy steps,
 * preparing values and comparing pairs, split their range over threads;
 * each thread writes only its own slice, so no locks are needed.
 */
#include "identity/dedupe.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/time.h"

enum { MR_DEDUPE_MAX_THREADS = 16, MR_DEDUPE_CHUNK = 1 << 15, MR_DEDUPE_CHECKS = 4096 };

/* --- the table --------------------------------------------------------- */

void mr_dedupe_table_init(struct mr_dedupe_table *t, int ncols, const char *const *names)
{
	memset(t, 0, sizeof(*t));
	mr_arena_init(&t->arena);
	t->ncols = ncols;
	t->names = mr_arena_alloc(&t->arena, (size_t)(ncols ? ncols : 1) * sizeof(*t->names));
	for (int c = 0; c < ncols; c++)
		t->names[c] = mr_arena_strdup(&t->arena, names[c] ? names[c] : "");
}

void mr_dedupe_table_release(struct mr_dedupe_table *t)
{
	free(t->cells);
	mr_arena_release(&t->arena);
	memset(t, 0, sizeof(*t));
}

void mr_dedupe_table_add(struct mr_dedupe_table *t, const char *const *cells, const size_t *lens)
{
	const char **row;

	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		t->cells = mr_realloc(t->cells, t->cap * (size_t)t->ncols * sizeof(*t->cells));
	}
	row = t->cells + t->nrows * (size_t)t->ncols;
	for (int c = 0; c < t->ncols; c++) {
		const char *s = cells[c];
		size_t n = s ? (lens ? lens[c] : strlen(s)) : 0;
		row[c] = n ? mr_arena_strndup(&t->arena, s, n) : "";
	}
	t->nrows++;
}

int mr_dedupe_table_column(const struct mr_dedupe_table *t, const char *name)
{
	for (int c = 0; c < t->ncols; c++) {
		if (strcmp(t->names[c], name) == 0)
			return c;
	}
	return -1;
}

const char *mr_dedupe_cell(const struct mr_dedupe_table *t, size_t row, int col)
{
	return t->cells[row * (size_t)t->ncols + (size_t)col];
}

/* --- threads ----------------------------------------------------------- */

/* One run's shared state. */
struct mr_dedupe_ctx {
	const struct mr_dedupe_table *t;
	const struct mr_dedupe_opts *o;
	int nf;
	enum mr_cmp_kind kinds[MR_FS_MAX_FIELDS];
	int threads;
	struct mr_cmp_val *vals;   /* rows x nf */
	struct mr_arena arena[MR_DEDUPE_MAX_THREADS];
	const uint64_t *pairs;     /* the pairs to compare */
	uint64_t *codes;           /* their comparison codes */
	const char *phase;
};

struct mr_dedupe_job {
	struct mr_dedupe_ctx *c;
	void (*fn)(struct mr_dedupe_ctx *c, int tid, size_t lo, size_t hi);
	int tid;
	size_t lo, hi;
};

static void *mr_dedupe_job_main(void *arg)
{
	struct mr_dedupe_job *j = arg;

	j->fn(j->c, j->tid, j->lo, j->hi);
	return NULL;
}

/*
 * Runs fn over [0, n) split in c->threads slices. The calling thread takes
 * slice 0 in chunks and reports progress, scaled by the thread count.
 */
static void mr_dedupe_parallel(struct mr_dedupe_ctx *c, size_t n,
			       void (*fn)(struct mr_dedupe_ctx *c, int tid, size_t lo, size_t hi))
{
	struct mr_dedupe_job jobs[MR_DEDUPE_MAX_THREADS];
	pthread_t th[MR_DEDUPE_MAX_THREADS];
	int started[MR_DEDUPE_MAX_THREADS] = { 0 };
	int nt = n < 4096 ? 1 : c->threads;
	size_t slice = (n + (size_t)nt - 1) / (size_t)nt, end0;

	for (int k = 1; k < nt; k++) {
		jobs[k] = (struct mr_dedupe_job){ c, fn, k, (size_t)k * slice,
						  (size_t)(k + 1) * slice < n ? (size_t)(k + 1) * slice : n };
		if (jobs[k].lo < jobs[k].hi)
			started[k] = pthread_create(&th[k], NULL, mr_dedupe_job_main, &jobs[k]) == 0;
		if (jobs[k].lo < jobs[k].hi && !started[k])
			fn(c, k, jobs[k].lo, jobs[k].hi); /* no thread: do it here */
	}
	end0 = slice < n ? slice : n;
	for (size_t lo = 0; lo < end0; lo += MR_DEDUPE_CHUNK) {
		size_t hi = lo + MR_DEDUPE_CHUNK < end0 ? lo + MR_DEDUPE_CHUNK : end0;
		fn(c, 0, lo, hi);
		uint64_t done = (uint64_t)hi * (uint64_t)nt; /* about: the other slices go as fast */
		if (c->o->progress)
			c->o->progress(c->o->progress_arg, c->phase, done < n ? done : n - 1, n);
	}
	for (int k = 1; k < nt; k++) {
		if (started[k])
			pthread_join(th[k], NULL);
	}
	if (c->o->progress)
		c->o->progress(c->o->progress_arg, c->phase, n, n);
}

static void mr_dedupe_prepare_rows(struct mr_dedupe_ctx *c, int tid, size_t lo, size_t hi)
{
	for (size_t r = lo; r < hi; r++) {
		for (int f = 0; f < c->nf; f++) {
			const char *s = mr_dedupe_cell(c->t, r, c->o->field[f].column);
			mr_cmp_prepare(c->kinds[f], s, strlen(s), &c->arena[tid],
				       &c->vals[r * (size_t)c->nf + (size_t)f]);
		}
	}
}

static uint64_t mr_dedupe_code(const struct mr_dedupe_ctx *c, uint32_t a, uint32_t b)
{
	const struct mr_cmp_val *va = c->vals + (size_t)a * (size_t)c->nf;
	const struct mr_cmp_val *vb = c->vals + (size_t)b * (size_t)c->nf;
	uint64_t code = 0;

	for (int f = 0; f < c->nf; f++)
		code = mr_fs_code_with(code, f, mr_cmp_level(c->kinds[f], &va[f], &vb[f]));
	return code;
}

static void mr_dedupe_compare_pairs(struct mr_dedupe_ctx *c, int tid, size_t lo, size_t hi)
{
	(void)tid;
	for (size_t i = lo; i < hi; i++)
		c->codes[i] = mr_dedupe_code(c, (uint32_t)(c->pairs[i] >> 32), (uint32_t)c->pairs[i]);
}

/* --- the steps --------------------------------------------------------- */

static int mr_dedupe_check(const struct mr_dedupe_table *t, const struct mr_dedupe_opts *o,
			   struct mr_err *err)
{
	if (o->nfields < 1 || o->nfields > MR_FS_MAX_FIELDS)
		return mr_err_set(err, MR_EINVAL, "compare 1 to %d columns", MR_FS_MAX_FIELDS);
	if (t->nrows >= UINT32_MAX)
		return mr_err_set(err, MR_ETOOBIG, "at most %u records", UINT32_MAX - 1);
	for (int f = 0; f < o->nfields; f++) {
		if (o->field[f].column < 0 || o->field[f].column >= t->ncols)
			return mr_err_set(err, MR_EINVAL, "compared column %d is not in the table", f + 1);
		if ((unsigned)o->field[f].kind >= MR_CMP_NKINDS)
			return mr_err_set(err, MR_EINVAL, "compared column %d has no valid kind", f + 1);
	}
	if (!o->model)
		return 0;
	if (o->model->nfields != o->nfields)
		return mr_err_set(err, MR_EINVAL, "the model compares %d fields, not %d",
				  o->model->nfields, o->nfields);
	for (int f = 0; f < o->nfields; f++) {
		if (o->model->f[f].kind != o->field[f].kind)
			return mr_err_set(err, MR_EINVAL, "field %d of the model is a %s, not a %s", f + 1,
					  mr_cmp_kind_name(o->model->f[f].kind),
					  mr_cmp_kind_name(o->field[f].kind));
	}
	return 0;
}

static void mr_dedupe_train(struct mr_dedupe_ctx *c, struct mr_dedupe_result *r,
			    const struct mr_fs_patterns *p)
{
	const char *cols[MR_FS_MAX_FIELDS];
	struct mr_fs_em_opts em = c->o->em;

	for (int f = 0; f < c->nf; f++)
		cols[f] = c->t->names[c->o->field[f].column];
	mr_fs_init(&r->model, c->nf, cols, c->kinds);
	mr_fs_set_u(&r->model, p);
	if (em.lambda0 <= 0 && r->stats.candidates) {
		/* About a third of the records have a duplicate somewhere among the candidates. */
		em.lambda0 = 0.3 * (double)c->t->nrows / (double)r->stats.candidates;
		em.lambda0 = em.lambda0 < 1e-4 ? 1e-4 : em.lambda0 > 0.5 ? 0.5 : em.lambda0;
	}
	mr_fs_train(&r->model, p, &em);
}

/* Clusters of two or more records, from labels that name each cluster's first row. */
static size_t mr_dedupe_multi(const uint32_t *cluster, size_t n)
{
	unsigned char *seen = mr_calloc(n ? n : 1, 1);
	size_t multi = 0;

	for (size_t i = 0; i < n; i++) {
		if (cluster[i] != i && !seen[cluster[i]]) {
			seen[cluster[i]] = 1;
			multi++;
		}
	}
	free(seen);
	return multi;
}

static int mr_dedupe_review_cmp(const void *x, const void *y)
{
	const struct mr_dedupe_pair *a = x, *b = y;

	if (a->prob != b->prob)
		return a->prob < b->prob ? 1 : -1;
	if (a->a != b->a)
		return a->a < b->a ? -1 : 1;
	return (a->b > b->b) - (a->b < b->b);
}

/* Per pattern: its weight, probability and decision. */
struct mr_dedupe_verdict {
	double *weight, *prob;
	unsigned char *dec;
};

/* Clusters being built: union-find plus a circular member list and the size of each root. */
struct mr_dedupe_merge {
	struct mr_cluster cl;
	uint32_t *next, *size;
	double wt[MR_FS_MAX_FIELDS][MR_CMP_MAX_LEVELS]; /* term weights, for scoring unseen pairs */
	double floor_w;                                 /* weight below which a pair is a clear non-match */
};

static int mr_dedupe_weight_cmp(const void *x, const void *y, void *arg)
{
	const double *w = arg;
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	if (w[a] != w[b])
		return w[a] < w[b] ? 1 : -1;
	return (a > b) - (a < b);
}

/*
 * 1 when some pair across the clusters of roots x and y is a clear
 * non-match: the evidence that chaining A~B~C would ignore. At most
 * MR_DEDUPE_CHECKS pairs are scored, so a giant cluster cannot stall.
 */
static int mr_dedupe_conflict(const struct mr_dedupe_ctx *c, const struct mr_dedupe_merge *mg, uint32_t x,
			      uint32_t y)
{
	size_t checks = 0;
	uint32_t a = x;

	do {
		uint32_t b = y;
		do {
			uint64_t code = mr_dedupe_code(c, a, b);
			double w = 0;
			for (int f = 0; f < c->nf; f++)
				w += mg->wt[f][mr_fs_level_of(code, f)];
			if (w < mg->floor_w)
				return 1;
			if (++checks >= MR_DEDUPE_CHECKS)
				return 0;
			b = mg->next[b];
		} while (b != y);
		a = mg->next[a];
	} while (a != x);
	return 0;
}

static void mr_dedupe_merge_init(struct mr_dedupe_merge *mg, const struct mr_fs_model *m, size_t n,
				 double conflict)
{
	mr_cluster_init(&mg->cl, n);
	mg->next = mr_malloc((n ? n : 1) * sizeof(*mg->next));
	mg->size = mr_malloc((n ? n : 1) * sizeof(*mg->size));
	for (size_t i = 0; i < n; i++) {
		mg->next[i] = (uint32_t)i;
		mg->size[i] = 1;
	}
	for (int f = 0; f < m->nfields; f++) {
		for (int l = 0; l < MR_CMP_MAX_LEVELS; l++) {
			struct mr_fs_score sc;
			mr_fs_score_code(m, mr_fs_code_with(0, f, l < m->f[f].nlevels ? l : 0), &sc);
			mg->wt[f][l] = sc.weight;
		}
	}
	mg->floor_w = conflict > 0 && conflict < 1 ? mr_fs_weight_at(m, conflict) : -1e300;
}

static void mr_dedupe_merge_release(struct mr_dedupe_merge *mg)
{
	mr_cluster_release(&mg->cl);
	free(mg->next);
	free(mg->size);
}

/*
 * Merges the pairs at or above upper, strongest first; a merge that would
 * put a clear non-match into one cluster is refused and the pair marked
 * for review (refused[i] = 1).
 */
static void mr_dedupe_merge_run(const struct mr_dedupe_ctx *c, struct mr_dedupe_result *r,
				struct mr_dedupe_merge *mg, const uint32_t *pat,
				const struct mr_dedupe_verdict *v, unsigned char *refused)
{
	const uint64_t *pairs = r->block.pairs;
	size_t n = r->block.npairs, ne = 0;
	uint64_t *edge;
	double *w;

	for (size_t i = 0; i < n; i++)
		ne += v->dec[pat[i]] == MR_FS_MATCH;
	edge = mr_malloc((ne ? ne : 1) * sizeof(*edge));
	w = mr_malloc((n ? n : 1) * sizeof(*w));
	ne = 0;
	for (size_t i = 0; i < n; i++) {
		w[i] = v->weight[pat[i]];
		if (v->dec[pat[i]] == MR_FS_MATCH)
			edge[ne++] = i;
	}
	qsort_r(edge, ne, sizeof(*edge), mr_dedupe_weight_cmp, w);
	for (size_t k = 0; k < ne; k++) {
		uint32_t x = mr_cluster_find(&mg->cl, (uint32_t)(pairs[edge[k]] >> 32));
		uint32_t y = mr_cluster_find(&mg->cl, (uint32_t)pairs[edge[k]]), t;
		if (x == y) {
			r->stats.matches++;
			continue;
		}
		if (mr_dedupe_conflict(c, mg, x, y)) {
			refused[edge[k]] = 1;
			r->stats.refused++;
			continue;
		}
		r->stats.matches++;
		mr_cluster_union(&mg->cl, x, y);
		t = mg->next[x];
		mg->next[x] = mg->next[y];
		mg->next[y] = t;
		mg->size[x < y ? x : y] = mg->size[x] + mg->size[y];
	}
	free(edge);
	free(w);
}

/* The review queue: pairs between the thresholds, and refused merges, whose records stayed apart. */
static void mr_dedupe_reviews(struct mr_dedupe_result *r, struct mr_cluster *cl, const uint32_t *pat,
			      const struct mr_fs_patterns *p, const struct mr_dedupe_verdict *v,
			      const unsigned char *refused)
{
	size_t n = r->block.npairs, k = 0, nrev = 0;

	for (size_t i = 0; i < n; i++)
		nrev += v->dec[pat[i]] == MR_FS_REVIEW || refused[i];
	r->review = mr_malloc((nrev ? nrev : 1) * sizeof(*r->review));
	for (size_t i = 0; i < n; i++) {
		uint32_t a = (uint32_t)(r->block.pairs[i] >> 32), b = (uint32_t)r->block.pairs[i];
		if ((v->dec[pat[i]] != MR_FS_REVIEW && !refused[i]) ||
		    mr_cluster_find(cl, a) == mr_cluster_find(cl, b))
			continue;
		r->review[k] = (struct mr_dedupe_pair){ a, b, p->code[pat[i]], v->weight[pat[i]],
							v->prob[pat[i]] };
		k++;
	}
	r->nreview = k;
	r->stats.reviews = k;
	qsort(r->review, k, sizeof(*r->review), mr_dedupe_review_cmp);
}

/* Decides every candidate pair, builds the clusters and the review queue. */
static void mr_dedupe_decide(const struct mr_dedupe_ctx *c, struct mr_dedupe_result *r, const uint32_t *pat,
			     const struct mr_fs_patterns *p)
{
	struct mr_dedupe_verdict v;
	struct mr_dedupe_merge mg;
	unsigned char *refused = mr_calloc(r->block.npairs ? r->block.npairs : 1, 1);
	double conflict = c->o->conflict ? c->o->conflict : MR_DEDUPE_CONFLICT;

	v.weight = mr_malloc((p->n ? p->n : 1) * sizeof(*v.weight));
	v.prob = mr_malloc((p->n ? p->n : 1) * sizeof(*v.prob));
	v.dec = mr_malloc(p->n ? p->n : 1);
	for (size_t i = 0; i < p->n; i++) {
		v.weight[i] = mr_fs_weight(&r->model, p->code[i]);
		v.prob[i] = mr_fs_prob(&r->model, v.weight[i]);
		v.dec[i] = (unsigned char)mr_fs_decide(&r->model, v.prob[i]);
	}
	mr_dedupe_merge_init(&mg, &r->model, r->stats.rows, conflict);
	mr_dedupe_merge_run(c, r, &mg, pat, &v, refused);
	mr_dedupe_reviews(r, &mg.cl, pat, p, &v, refused);
	r->cluster = mr_malloc((r->stats.rows ? r->stats.rows : 1) * sizeof(*r->cluster));
	r->stats.clusters = mr_cluster_labels(&mg.cl, r->cluster);
	r->stats.multi_clusters = mr_dedupe_multi(r->cluster, r->stats.rows);
	mr_dedupe_merge_release(&mg);
	free(refused);
	free(v.weight);
	free(v.prob);
	free(v.dec);
}

static double mr_dedupe_ms(int64_t since_us)
{
	return (double)(mr_mono_us() - since_us) / 1000.0;
}

/* Compares the candidate pairs into codes and groups them into patterns (pat: index per pair). */
static uint32_t *mr_dedupe_patterns(struct mr_dedupe_ctx *c, const struct mr_block *b,
				    struct mr_fs_patterns *p)
{
	uint32_t *pat = mr_malloc((b->npairs ? b->npairs : 1) * sizeof(*pat));

	c->pairs = b->pairs;
	c->codes = mr_malloc((b->npairs ? b->npairs : 1) * sizeof(*c->codes));
	c->phase = "compare";
	mr_dedupe_parallel(c, b->npairs, mr_dedupe_compare_pairs);
	mr_fs_patterns_init(p);
	for (size_t i = 0; i < b->npairs; i++)
		pat[i] = mr_fs_patterns_add(p, c->codes[i], 1.0);
	free(c->codes);
	c->codes = NULL;
	return pat;
}

static void mr_dedupe_ctx_init(struct mr_dedupe_ctx *c, const struct mr_dedupe_table *t,
			       const struct mr_dedupe_opts *o)
{
	memset(c, 0, sizeof(*c));
	c->t = t;
	c->o = o;
	c->nf = o->nfields;
	c->threads = o->threads > 0 ? o->threads : 2;
	c->threads = c->threads > MR_DEDUPE_MAX_THREADS ? MR_DEDUPE_MAX_THREADS : c->threads;
	for (int f = 0; f < c->nf; f++)
		c->kinds[f] = o->field[f].kind;
	for (int k = 0; k < MR_DEDUPE_MAX_THREADS; k++)
		mr_arena_init(&c->arena[k]);
	c->vals = mr_malloc((t->nrows ? t->nrows : 1) * (size_t)c->nf * sizeof(*c->vals));
}

static void mr_dedupe_ctx_release(struct mr_dedupe_ctx *c)
{
	for (int k = 0; k < MR_DEDUPE_MAX_THREADS; k++)
		mr_arena_release(&c->arena[k]);
	free(c->vals);
	c->vals = NULL;
}

/* Prepares every compared value of every row. */
static void mr_dedupe_prepare(struct mr_dedupe_ctx *c)
{
	c->phase = "prepare";
	mr_dedupe_parallel(c, c->t->nrows, mr_dedupe_prepare_rows);
}

int mr_dedupe_run(const struct mr_dedupe_table *t, const struct mr_dedupe_opts *o,
		  struct mr_dedupe_result *r, struct mr_err *err)
{
	const char *cols[MR_FS_MAX_FIELDS];
	struct mr_dedupe_ctx c;
	struct mr_fs_patterns p;
	uint32_t *pat;
	int64_t t0;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = mr_dedupe_check(t, o, err);
	if (rc < 0)
		return rc;
	r->stats.rows = t->nrows;
	mr_dedupe_ctx_init(&c, t, o);
	t0 = mr_mono_us();
	mr_dedupe_prepare(&c);
	r->stats.ms_prepare = mr_dedupe_ms(t0);

	t0 = mr_mono_us();
	for (int f = 0; f < c.nf; f++)
		cols[f] = t->names[o->field[f].column];
	mr_block_plan(&r->block, c.nf, c.kinds, cols);
	mr_block_run(&r->block, c.vals, t->nrows, c.nf, c.kinds, &o->block);
	r->stats.candidates = r->block.npairs;
	r->stats.ms_block = mr_dedupe_ms(t0);

	t0 = mr_mono_us();
	pat = mr_dedupe_patterns(&c, &r->block, &p);
	r->stats.patterns = p.n;
	r->stats.ms_compare = mr_dedupe_ms(t0);

	t0 = mr_mono_us();
	if (o->model)
		r->model = *o->model;
	else
		mr_dedupe_train(&c, r, &p);
	r->model.upper = o->upper > 0 ? o->upper : r->model.upper;
	r->model.lower = o->lower > 0 ? o->lower : r->model.lower;
	r->model.lower = r->model.lower > r->model.upper ? r->model.upper : r->model.lower;
	r->stats.ms_em = mr_dedupe_ms(t0);

	t0 = mr_mono_us();
	mr_dedupe_decide(&c, r, pat, &p);
	r->stats.ms_cluster = mr_dedupe_ms(t0);

	free(pat);
	mr_fs_patterns_release(&p);
	mr_block_release(&r->block);
	mr_dedupe_ctx_release(&c);
	return 0;
}

void mr_dedupe_result_release(struct mr_dedupe_result *r)
{
	mr_block_release(&r->block);
	free(r->cluster);
	free(r->review);
	r->cluster = NULL;
	r->review = NULL;
	r->nreview = 0;
}

/* --- baseline and labels ----------------------------------------------- */

/* Unions the rows that share a non-zero key; keys and rows are scratch of n entries. */
static void mr_dedupe_union_keys(struct mr_cluster *cl, uint64_t *keys, uint32_t *rows, size_t n)
{
	size_t i = 0;

	mr_block_sort(keys, rows, n);
	while (i < n) {
		size_t j = i + 1;
		while (j < n && keys[j] == keys[i]) {
			if (keys[i])
				mr_cluster_union(cl, rows[i], rows[j]);
			j++;
		}
		i = j;
	}
}

size_t mr_dedupe_baseline_exact(const struct mr_dedupe_table *t, const struct mr_dedupe_field *fields,
				int nfields, uint32_t *cluster)
{
	size_t n = t->nrows;
	uint64_t *keys = mr_malloc((n ? n : 1) * sizeof(*keys));
	uint32_t *rows = mr_malloc((n ? n : 1) * sizeof(*rows));
	struct mr_arena a;
	struct mr_cluster cl;
	size_t clusters;

	mr_cluster_init(&cl, n);
	for (int f = 0; f < nfields; f++) {
		mr_arena_init(&a);
		for (size_t r = 0; r < n; r++) {
			const char *s = mr_dedupe_cell(t, r, fields[f].column);
			struct mr_cmp_val v;
			mr_cmp_prepare(fields[f].kind, s, strlen(s), &a, &v);
			keys[r] = v.present ? v.hash : 0;
			rows[r] = (uint32_t)r;
		}
		mr_arena_release(&a);
		mr_dedupe_union_keys(&cl, keys, rows, n);
	}
	clusters = mr_cluster_labels(&cl, cluster);
	mr_cluster_release(&cl);
	free(keys);
	free(rows);
	return clusters;
}

static uint64_t mr_dedupe_str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

void mr_dedupe_labels(const struct mr_dedupe_table *t, int col, uint32_t *out)
{
	size_t n = t->nrows, nslot = 1024;
	uint32_t *slot;

	while (nslot < n * 2)
		nslot *= 2;
	slot = mr_calloc(nslot, sizeof(*slot)); /* first row + 1, 0 empty */
	for (size_t r = 0; r < n; r++) {
		const char *s = mr_dedupe_cell(t, r, col);
		size_t at;
		out[r] = (uint32_t)r;
		if (!*s)
			continue;
		at = (size_t)(mr_dedupe_str_hash(s) >> 20) & (nslot - 1);
		while (slot[at] && strcmp(mr_dedupe_cell(t, slot[at] - 1, col), s) != 0)
			at = (at + 1) & (nslot - 1);
		if (slot[at])
			out[r] = slot[at] - 1;
		else
			slot[at] = (uint32_t)(r + 1);
	}
	free(slot);
}
