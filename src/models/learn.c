/*
 * The pure half of the response models (models.h): time slots, labels,
 * the per-doctor walk that keeps what a doctor did before each moment, the
 * feature rows, the held-out metrics, training one channel's global and
 * category models, and Thompson sampling. Nothing here reads the store or
 * the projections, so the unit tests drive it with hand-made event lists.
 */
#include "models/models.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "event/event.h"

#define MR_MODEL_TZ_S INT64_C(28800)

/* ------------------------------------------------------------ tables */

static const struct {
	const char *name;
	int ev_channel;
	int label_rung;              /* the lowest rung that counts as a response */
	const char *words;           /* how a reason names it */
} mr_model_channels[MR_MC_COUNT] = {
	[MR_MC_PHONE] = { "phone", MR_CH_PHONE, 1, "answers calls" },
	[MR_MC_WECHAT] = { "wechat", MR_CH_WECHAT, 3, "responds to WeChat" },
	[MR_MC_WECOM] = { "wecom", MR_CH_WECOM, 3, "responds to WeCom" },
	[MR_MC_EMAIL] = { "email", MR_CH_EMAIL, 3, "responds to email" },
	[MR_MC_MEETING] = { "meeting_online", MR_CH_MEETING_ONLINE, 1, "registers for online meetings" },
};

static const char *const mr_model_weekdays[MR_MODEL_WEEKDAYS] = { "Monday", "Tuesday", "Wednesday", "Thursday",
								  "Friday", "Saturday", "Sunday" };
static const char *const mr_model_bands[MR_MODEL_BANDS] = { "08-12", "12-14", "14-18", "18-21" };

int mr_model_channel_of(int ev_channel)
{
	for (int c = 0; c < MR_MC_COUNT; c++)
		if (mr_model_channels[c].ev_channel == ev_channel)
			return c;
	return -1;
}

int mr_model_ev_channel(int mc)
{
	return mr_model_channels[mc].ev_channel;
}

const char *mr_model_channel_name(int mc)
{
	return mc >= 0 && mc < MR_MC_COUNT ? mr_model_channels[mc].name : "?";
}

int mr_model_channel_parse(const char *name)
{
	for (int c = 0; name && c < MR_MC_COUNT; c++)
		if (strcmp(mr_model_channels[c].name, name) == 0)
			return c;
	return -1;
}

int mr_model_label(int mc, int outcome)
{
	return outcome >= mr_model_channels[mc].label_rung;
}

static int mr_model_band_of_hour(int h)
{
	if (h < 12)
		return 0;
	if (h < 14)
		return 1;
	if (h < 18)
		return 2;
	return 3;
}

int mr_model_slot_of(int64_t ts_us)
{
	int64_t local = ts_us / 1000000 + MR_MODEL_TZ_S;
	int64_t day = local >= 0 ? local / 86400 : (local - 86399) / 86400;
	int wd = (int)(((day + 3) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
	int h = (int)((local - day * 86400) / 3600);

	return wd * MR_MODEL_BANDS + mr_model_band_of_hour(h);
}

const char *mr_model_weekday_name(int wd)
{
	return wd >= 0 && wd < MR_MODEL_WEEKDAYS ? mr_model_weekdays[wd] : "?";
}

const char *mr_model_band_name(int band)
{
	return band >= 0 && band < MR_MODEL_BANDS ? mr_model_bands[band] : "?";
}

const char *mr_model_feature_name(int f, char *buf, size_t cap)
{
	static const char *const per_ch[3] = { "attempts_90d", "response_rate", "recency" };

	if (f < MR_MF_OTHER)
		snprintf(buf, cap, "%s.%s", mr_model_channel_name(f / 3), per_ch[f % 3]);
	else if (f == MR_MF_OTHER)
		snprintf(buf, cap, "other_interactions_90d");
	else if (f == MR_MF_BANDRATE)
		snprintf(buf, cap, "response_rate_in_band");
	else if (f < MR_MF_BAND)
		snprintf(buf, cap, "weekday.%s", mr_model_weekdays[f - MR_MF_WEEKDAY]);
	else if (f < MR_MF_SPEC)
		snprintf(buf, cap, "band.%s", mr_model_bands[f - MR_MF_BAND]);
	else if (f < MR_MF_TITLE)
		snprintf(buf, cap, "specialty[%d]", f - MR_MF_SPEC);
	else if (f < MR_MF_LEVEL)
		snprintf(buf, cap, "title[%d]", f - MR_MF_TITLE);
	else
		snprintf(buf, cap, "hco.level=%d", f - MR_MF_LEVEL + 1);
	return buf;
}

/* ------------------------------------------------------------ the walk */

void mr_model_walk_init(struct mr_model_walk *w, const struct mr_evitem *items, uint32_t n)
{
	memset(w, 0, sizeof(*w));
	w->it = items;
	w->n = n;
}

/* Adds (sign 1) or removes (sign -1) an event from the 90-day counts. */
static void mr_model_count90(struct mr_model_state *s, const struct mr_evitem *e, int sign)
{
	int mc = mr_model_channel_of(e->channel);

	if (mc < 0) {
		if (e->channel == MR_CH_VISIT || e->channel == MR_CH_CONTENT || e->channel == MR_CH_MEETING_OFFLINE)
			s->other90 += (uint32_t)sign;
		return;
	}
	s->att90[mc] += (uint32_t)sign;
	if (mr_model_label(mc, e->outcome))
		s->pos90[mc] += (uint32_t)sign;
}

void mr_model_walk_to(struct mr_model_walk *w, int64_t t)
{
	struct mr_model_state *s = &w->s;

	while (w->next < w->n && w->it[w->next].ts < t) {
		const struct mr_evitem *e = &w->it[w->next++];
		int mc = mr_model_channel_of(e->channel);

		mr_model_count90(s, e, 1);
		if (mc < 0)
			continue;
		int band = mr_model_slot_of(e->ts) % MR_MODEL_BANDS;
		int y = mr_model_label(mc, e->outcome);

		s->last[mc] = e->ts;
		s->att[mc]++;
		s->pos[mc] += (uint32_t)y;
		s->attb[mc][band]++;
		s->posb[mc][band] += (uint32_t)y;
	}
	while (w->tail < w->next && w->it[w->tail].ts < t - MR_MODEL_WINDOW_US)
		mr_model_count90(s, &w->it[w->tail++], -1);
}

/* A response rate with one pseudo-response in two pseudo-attempts: 0.5 for a doctor with no history. */
static double mr_model_rate(uint32_t pos, uint32_t att)
{
	return (pos + 1.0) / (att + 2.0);
}

void mr_model_features(const struct mr_model_state *s, int64_t t, int mc, int slot,
		       const struct mr_model_attrs *a, double *x)
{
	int wd = slot / MR_MODEL_BANDS, band = slot % MR_MODEL_BANDS;

	memset(x, 0, MR_MF_NFEAT * sizeof(*x));
	for (int c = 0; c < MR_MC_COUNT; c++) {
		double days = s->last[c] ? (double)(t - s->last[c]) / 86400e6 : -1;

		x[MR_MF_CH + 3 * c] = log1p(s->att90[c]);
		x[MR_MF_CH + 3 * c + 1] = mr_model_rate(s->pos[c], s->att[c]);
		x[MR_MF_CH + 3 * c + 2] = days < 0 ? 0 : exp(-days / 30.0);
	}
	x[MR_MF_OTHER] = log1p(s->other90);
	x[MR_MF_BANDRATE] = mr_model_rate(s->posb[mc][band], s->attb[mc][band]);
	x[MR_MF_WEEKDAY + wd] = 1;
	x[MR_MF_BAND + band] = 1;
	if (a && a->spec >= 0 && a->spec < MR_MODEL_SPEC_MAX)
		x[MR_MF_SPEC + a->spec] = 1;
	if (a && a->title >= 0 && a->title < MR_MODEL_TITLE_MAX)
		x[MR_MF_TITLE + a->title] = 1;
	if (a && a->level >= 0 && a->level < 3)
		x[MR_MF_LEVEL + a->level] = 1;
}

/* ------------------------------------------------------------ metrics */

struct mr_model_py {
	double p, y;
};

static int mr_model_py_cmp(const void *a, const void *b)
{
	double x = ((const struct mr_model_py *)a)->p, y = ((const struct mr_model_py *)b)->p;

	return (x > y) - (x < y);
}

/* AUC by ranks (ties share their mean rank) over rows sorted by p. */
static double mr_model_auc(const struct mr_model_py *r, size_t n, size_t npos)
{
	double ranksum = 0;
	size_t nneg = n - npos;

	if (npos == 0 || nneg == 0)
		return NAN;
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j < n && r[j].p == r[i].p)
			j++;
		double rank = (double)(i + 1 + j) / 2.0; /* ranks i+1..j */
		for (size_t k = i; k < j; k++)
			if (r[k].y > 0.5)
				ranksum += rank;
		i = j;
	}
	return (ranksum - (double)npos * ((double)npos + 1) / 2.0) / ((double)npos * (double)nneg);
}

void mr_model_metrics(const double *p, const double *y, size_t n, struct mr_model_metrics *out)
{
	struct mr_model_py *r = mr_malloc((n ? n : 1) * sizeof(*r));

	memset(out, 0, sizeof(*out));
	out->n = n;
	for (size_t i = 0; i < n; i++) {
		double q = fmin(fmax(p[i], 1e-12), 1 - 1e-12);

		r[i].p = p[i];
		r[i].y = y[i];
		out->positives += y[i] > 0.5;
		out->log_loss -= y[i] > 0.5 ? log(q) : log(1 - q);
		out->brier += (p[i] - y[i]) * (p[i] - y[i]);
	}
	if (n) {
		out->log_loss /= (double)n;
		out->brier /= (double)n;
	} else {
		out->log_loss = out->brier = NAN;
	}
	qsort(r, n, sizeof(*r), mr_model_py_cmp);
	out->auc = mr_model_auc(r, n, out->positives);
	out->nbins = n >= MR_MODEL_DECILES ? MR_MODEL_DECILES : (int)n;
	for (int b = 0; b < out->nbins; b++) {
		size_t lo = n * (size_t)b / (size_t)out->nbins, hi = n * (size_t)(b + 1) / (size_t)out->nbins;

		for (size_t i = lo; i < hi; i++) {
			out->bin_pred[b] += r[i].p;
			out->bin_obs[b] += r[i].y;
		}
		out->bin_n[b] = hi - lo;
		out->bin_pred[b] /= (double)(hi - lo);
		out->bin_obs[b] /= (double)(hi - lo);
	}
	free(r);
}

/* ------------------------------------------------------------ example sets */

void mr_model_set_init(struct mr_model_set *s)
{
	memset(s, 0, sizeof(*s));
}

void mr_model_set_release(struct mr_model_set *s)
{
	free(s->x);
	free(s->y);
	free(s->ts);
	free(s->cat);
	memset(s, 0, sizeof(*s));
}

void mr_model_set_add(struct mr_model_set *s, const double *x, int y, int64_t ts, int cat)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->x = mr_realloc(s->x, s->cap * MR_MF_NFEAT * sizeof(*s->x));
		s->y = mr_realloc(s->y, s->cap * sizeof(*s->y));
		s->ts = mr_realloc(s->ts, s->cap * sizeof(*s->ts));
		s->cat = mr_realloc(s->cat, s->cap * sizeof(*s->cat));
	}
	memcpy(s->x + s->n * MR_MF_NFEAT, x, MR_MF_NFEAT * sizeof(*x));
	s->y[s->n] = y ? 1 : 0;
	s->ts[s->n] = ts;
	s->cat[s->n] = (int16_t)cat;
	s->n++;
}

/* ------------------------------------------------------------ training */

void mr_model_free(struct mr_model *m)
{
	if (!m)
		return;
	mr_lm_release(&m->lm);
	free(m->category);
	free(m->split_by);
	free(m->trained_by);
	for (int i = 0; i < MR_MODEL_SPEC_MAX; i++)
		free(m->spec_vocab[i]);
	for (int i = 0; i < MR_MODEL_TITLE_MAX; i++)
		free(m->title_vocab[i]);
	free(m);
}

double mr_model_predict(const struct mr_model *m, const double *x)
{
	return mr_lm_predict(&m->lm, x);
}

static char *mr_model_dup(const char *s)
{
	return s ? mr_strdup(s) : NULL;
}

static struct mr_model *mr_model_new(int mc, const char *category, const struct mr_model_train_opts *o)
{
	struct mr_model *m = mr_calloc(1, sizeof(*m));

	m->mc = mc;
	m->run = o->run;
	m->category = mr_model_dup(category);
	m->split_by = mr_model_dup(category ? o->split_by : NULL);
	m->trained_by = mr_model_dup(o->by);
	m->from = o->from;
	m->to = o->to;
	m->sampled = o->sampled[mc] > 0 ? o->sampled[mc] : 1;
	m->global_log_loss = m->global_auc = NAN;
	for (int i = 0; o->spec_vocab && i < MR_MODEL_SPEC_MAX && o->spec_vocab[i]; i++)
		m->spec_vocab[i] = mr_strdup(o->spec_vocab[i]);
	for (int i = 0; o->title_vocab && i < MR_MODEL_TITLE_MAX && o->title_vocab[i]; i++)
		m->title_vocab[i] = mr_strdup(o->title_vocab[i]);
	if (category)
		snprintf(m->version, sizeof(m->version), "%s/%s=%s/v%d", mr_model_channel_name(mc), o->split_by,
			 category, o->run);
	else
		snprintf(m->version, sizeof(m->version), "%s/global/v%d", mr_model_channel_name(mc), o->run);
	return m;
}

/* The predictions of m for the rows listed, into p. */
static void mr_model_predict_rows(const struct mr_model *m, const struct mr_model_set *s, const size_t *rows,
				  size_t n, double *p, double *y)
{
	for (size_t k = 0; k < n; k++) {
		p[k] = mr_model_predict(m, s->x + rows[k] * MR_MF_NFEAT);
		y[k] = s->y[rows[k]];
	}
}

/* Fits m on the train rows and measures it on the held-out ones. */
static int mr_model_fit(struct mr_model *m, const struct mr_model_set *s, const size_t *train, size_t ntrain,
			const size_t *hold, size_t nhold, double lambda, struct mr_err *err)
{
	double *p = mr_malloc((nhold ? nhold : 1) * sizeof(*p)), *y = mr_malloc((nhold ? nhold : 1) * sizeof(*y));
	int rc = mr_lm_fit(&m->lm, MR_LM_LOGISTIC, s->x, MR_MF_NFEAT, s->y, train, ntrain, lambda, err);

	for (size_t k = 0; rc == 0 && k < ntrain; k++) {
		const double *row = s->x + train[k] * MR_MF_NFEAT;

		m->positives += s->y[train[k]] > 0.5;
		for (int j = 0; j < MR_MF_NFEAT; j++)
			m->mean[j] += row[j] / (double)ntrain;
	}
	m->examples = ntrain;
	if (rc == 0) {
		mr_model_predict_rows(m, s, hold, nhold, p, y);
		mr_model_metrics(p, y, nhold, &m->holdout);
	}
	free(p);
	free(y);
	return rc;
}

/* The held-out log loss and AUC of model g on the rows listed. */
static void mr_model_measure(const struct mr_model *g, const struct mr_model_set *s, const size_t *rows, size_t n,
			     double *log_loss, double *auc)
{
	double *p = mr_malloc((n ? n : 1) * sizeof(*p)), *y = mr_malloc((n ? n : 1) * sizeof(*y));
	struct mr_model_metrics mm;

	mr_model_predict_rows(g, s, rows, n, p, y);
	mr_model_metrics(p, y, n, &mm);
	*log_loss = mm.log_loss;
	*auc = mm.auc;
	free(p);
	free(y);
}

static void mr_model_push(struct mr_model ***out, int *nout, struct mr_model *m)
{
	*out = mr_realloc(*out, (size_t)(*nout + 1) * sizeof(struct mr_model *));
	(*out)[(*nout)++] = m;
}

/* The category models of one channel, each against global g on its held-out rows. */
static int mr_model_train_cats(int mc, const struct mr_model_set *s, const struct mr_model_train_opts *o,
			       int64_t cut, const struct mr_model *g, struct mr_model ***out, int *nout,
			       struct mr_err *err)
{
	size_t min_ex = o->min_examples ? o->min_examples : 500, min_pos = o->min_positives ? o->min_positives : 50;
	size_t *train = mr_malloc(s->n * sizeof(*train)), *hold = mr_malloc(s->n * sizeof(*hold));
	int rc = 0;

	for (int c = 0; rc == 0 && c < o->ncats && c < MR_MODEL_CAT_MAX; c++) {
		size_t ntrain = 0, nhold = 0, npos = 0;

		for (size_t i = 0; i < s->n; i++) {
			if (s->cat[i] != c)
				continue;
			npos += s->y[i] > 0.5;
			if (s->ts[i] < cut)
				train[ntrain++] = i;
			else
				hold[nhold++] = i;
		}
		if (ntrain + nhold < min_ex || npos < min_pos || ntrain == 0 || nhold == 0)
			continue; /* thin: the global model serves the category */
		struct mr_model *m = mr_model_new(mc, o->cats[c], o);

		rc = mr_model_fit(m, s, train, ntrain, hold, nhold, o->lambda > 0 ? o->lambda : 1.0, err);
		if (rc < 0) {
			mr_model_free(m);
			break;
		}
		mr_model_measure(g, s, hold, nhold, &m->global_log_loss, &m->global_auc);
		m->beats_global = m->holdout.log_loss < m->global_log_loss;
		m->active = 1;
		mr_model_push(out, nout, m);
	}
	free(train);
	free(hold);
	return rc;
}

int mr_model_train_channel(int mc, const struct mr_model_set *s, const struct mr_model_train_opts *o,
			   struct mr_model ***out, int *nout, const char **skipped, struct mr_err *err)
{
	int64_t cut = o->from + (int64_t)((double)(o->to - o->from) * 0.8);
	size_t *train = mr_malloc((s->n ? s->n : 1) * sizeof(*train)), *hold = mr_malloc((s->n ? s->n : 1) * sizeof(*hold));
	size_t ntrain = 0, nhold = 0, npos = 0;
	struct mr_model *g = NULL;
	int rc = 0;

	if (skipped)
		*skipped = NULL;
	for (size_t i = 0; i < s->n; i++) {
		npos += s->y[i] > 0.5;
		if (s->ts[i] < cut)
			train[ntrain++] = i;
		else
			hold[nhold++] = i;
	}
	if (ntrain < 20 || nhold < 5 || npos == 0 || npos == s->n) {
		if (skipped)
			*skipped = ntrain < 20 || nhold < 5 ? "too few attempts in the window (at least 20 before and 5"
							      " in the last fifth)"
							    : "every attempt had the same outcome";
		goto out;
	}
	g = mr_model_new(mc, NULL, o);
	rc = mr_model_fit(g, s, train, ntrain, hold, nhold, o->lambda > 0 ? o->lambda : 1.0, err);
	if (rc < 0) {
		mr_model_free(g);
		goto out;
	}
	g->active = 1;
	mr_model_push(out, nout, g);
	if (o->ncats > 0)
		rc = mr_model_train_cats(mc, s, o, cut, g, out, nout, err);
out:
	free(train);
	free(hold);
	return rc;
}

/* ------------------------------------------------------------ Thompson sampling */

static uint64_t mr_model_next(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static double mr_model_unif(uint64_t *s)
{
	return ((double)(mr_model_next(s) >> 11) + 0.5) / 9007199254740992.0;
}

/*
 * Thompson sampling chooses each arm with the posterior probability that it
 * is the best: q_i = P(θ_i > θ_j for every j ≠ i). Instead of estimating
 * q by drawing, it is computed — q_i = ∫ f_i(x) Π_{j≠i} F_j(x) dx — by the
 * midpoint rule on MR_MODEL_GRID points of [0, 1], each arm's Beta density
 * from tables of ln x and ln(1 − x) (one exp per arm and point), its mass
 * normalised to 1 and its distribution function the running sum; then one
 * uniform number picks the arm by q. The logged propensity is q itself,
 * exactly the probability the choice was made with.
 */
enum { MR_MODEL_GRID = 256 };

static double mr_model_lx[MR_MODEL_GRID], mr_model_l1x[MR_MODEL_GRID];
static pthread_once_t mr_model_grid_once = PTHREAD_ONCE_INIT;

static void mr_model_grid_init(void)
{
	for (int g = 0; g < MR_MODEL_GRID; g++) {
		double x = (g + 0.5) / MR_MODEL_GRID;

		mr_model_lx[g] = log(x);
		mr_model_l1x[g] = log1p(-x);
	}
}

int mr_model_thompson(const double *p, const double *pos, const double *neg, int narms, double strength,
		      uint64_t seed, double *prob)
{
	double *mass = mr_malloc((size_t)(narms > 0 ? narms : 1) * MR_MODEL_GRID * sizeof(*mass));
	double *cdf = mr_malloc((size_t)(narms > 0 ? narms : 1) * MR_MODEL_GRID * sizeof(*cdf));
	double total = 0, u, acc = 0;
	int chosen = narms - 1;

	pthread_once(&mr_model_grid_once, mr_model_grid_init);
	for (int i = 0; i < narms; i++) { /* each arm's Beta(a, b) on the grid */
		double pi = isnan(p[i]) ? 0.5 : fmin(fmax(p[i], 0), 1);
		double a = 1 + strength * pi + (pos ? pos[i] : 0), b = 1 + strength * (1 - pi) + (neg ? neg[i] : 0);
		double lnb = lgamma(a) + lgamma(b) - lgamma(a + b), sum = 0, run = 0;
		double *m = mass + (size_t)i * MR_MODEL_GRID, *f = cdf + (size_t)i * MR_MODEL_GRID;

		for (int g = 0; g < MR_MODEL_GRID; g++)
			sum += m[g] = exp((a - 1) * mr_model_lx[g] + (b - 1) * mr_model_l1x[g] - lnb);
		for (int g = 0; g < MR_MODEL_GRID; g++) {
			m[g] = sum > 0 ? m[g] / sum : 1.0 / MR_MODEL_GRID;
			f[g] = run + m[g] / 2; /* the distribution function at the cell's middle */
			run += m[g];
		}
		prob[i] = 0;
	}
	for (int g = 0; g < MR_MODEL_GRID; g++) { /* Π_{j≠i} F_j = Π_j F_j / F_i: F_i > 0 wherever f_i is */
		double all = 1;

		for (int j = 0; j < narms; j++)
			all *= cdf[(size_t)j * MR_MODEL_GRID + g];
		for (int i = 0; all > 0 && i < narms; i++) {
			double m = mass[(size_t)i * MR_MODEL_GRID + g];

			if (m > 0)
				prob[i] += m * all / cdf[(size_t)i * MR_MODEL_GRID + g];
		}
	}
	for (int i = 0; i < narms; i++)
		total += prob[i];
	for (int i = 0; i < narms; i++)
		prob[i] = total > 0 ? prob[i] / total : 1.0 / narms;
	u = mr_model_unif(&seed);
	for (int i = 0; i < narms; i++) {
		acc += prob[i];
		if (u < acc) {
			chosen = i;
			break;
		}
	}
	free(mass);
	free(cdf);
	return narms > 0 ? chosen : 0;
}

uint64_t mr_model_seed(int64_t hcp_id, int64_t as_of)
{
	int64_t day = (as_of / 1000000 + MR_MODEL_TZ_S) / 86400;
	uint64_t s = (uint64_t)hcp_id * UINT64_C(0x9e3779b97f4a7c15) ^ (uint64_t)day;

	return mr_model_next(&s);
}
