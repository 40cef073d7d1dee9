/*
 * The response-model registry a server holds (models.h): the active
 * versions in memory, training a run over the projections (one pass over
 * every HCP record's packed event list), scoring one doctor with the
 * recombination step (the category model where it beat the global one),
 * the propensity answer with reasons and Thompson sampling, off-policy
 * evaluation of the greedy policy, and the follower's tick (the first load
 * and the scheduled retrain).
 *
 * Doctors and records: examples come from every live or merged HCP record
 * with the profile of the doctor it survives in (a merged record's history
 * is learned as its own); scoring one doctor reads the events of all its
 * records, merged by time.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/time.h"
#include "engine/dict.h"
#include "engine/hcpdir.h"
#include "engine/nba/ope.h"
#include "engine/profile.h"
#include "event/event.h"
#include "models/models_int.h"
#include "store/writer.h"

enum {
	MR_MODELS_CAP = 60000,       /* examples per channel a run keeps (sampled uniformly beyond) */
	MR_MODELS_EVAL_CAP = 100000, /* attempts an evaluation reads */
	MR_MODELS_CHUNK = 4096,      /* records per event-index read span */
	MR_MODELS_CLUSTER = 64,
	MR_MODELS_ACTIONS = MR_MC_COUNT * MR_MODEL_BANDS,
};

struct mr_models *mr_models_new(const struct mr_models_src *src)
{
	struct mr_models *m = mr_calloc(1, sizeof(*m));

	m->src = *src;
	if (src->tags)
		m->tags = *src->tags;
	m->src.tags = NULL;
	pthread_rwlock_init(&m->lock, NULL);
	pthread_mutex_init(&m->train_mu, NULL);
	pthread_mutex_init(&m->tick_mu, NULL);
	return m;
}

static void mr_models_free_set(struct mr_model **act, int n)
{
	for (int i = 0; i < n; i++)
		mr_model_free(act[i]);
	free(act);
}

void mr_models_free(struct mr_models *m)
{
	if (!m)
		return;
	mr_models_free_set(m->act, m->nact);
	pthread_rwlock_destroy(&m->lock);
	pthread_mutex_destroy(&m->train_mu);
	pthread_mutex_destroy(&m->tick_mu);
	free(m);
}

void mr_models_set_writer(struct mr_models *m, struct mr_writer *w)
{
	m->writer = w;
}

static void mr_models_day(int64_t us, char day[11]);

/* Makes act the active set (taken), with the store's stamp and newest training time. */
static void mr_models_swap(struct mr_models *m, struct mr_model **act, int n, int64_t stamp, int64_t newest)
{
	struct mr_model **old;
	int nold;

	pthread_rwlock_wrlock(&m->lock);
	m->stamp = stamp;
	if (newest)
		mr_models_day(newest, m->last_day);
	old = m->act;
	nold = m->nact;
	m->act = act;
	m->nact = n;
	m->loaded = 1;
	pthread_rwlock_unlock(&m->lock);
	mr_models_free_set(old, nold);
}

static void mr_models_day(int64_t us, char day[11])
{
	int64_t d = (us / 1000000 + 28800) / 86400;
	time_t t = (time_t)(d * 86400);
	struct tm tm;

	gmtime_r(&t, &tm);
	(void)strftime(day, 11, "%Y-%m-%d", &tm);
}

/* What changes whenever the active set does (a training run, an activation), on any node. */
static int mr_models_stamp(struct mr_conn *c, int64_t *stamp, struct mr_err *err)
{
	return mr_conn_query_int(c, "SELECT COALESCE(SUM(id), 0) FROM nba_models WHERE active = 1", NULL, 0, stamp, err);
}

int mr_models_load(struct mr_models *m, struct mr_conn *c, struct mr_err *err)
{
	struct mr_model **act = NULL;
	int n = 0;
	int64_t newest = 0, stamp = 0;
	int rc = mr_models_read_active(c, &act, &n, err);

	if (rc == 0)
		rc = mr_conn_query_int(c, "SELECT COALESCE(MAX(trained_at), 0) FROM nba_models", NULL, 0, &newest, err);
	if (rc == 0)
		rc = mr_models_stamp(c, &stamp, err);
	if (rc < 0) {
		mr_models_free_set(act, n);
		return rc;
	}
	mr_models_swap(m, act, n, stamp, newest);
	return 0;
}

int mr_models_loaded(struct mr_models *m)
{
	int v;

	pthread_rwlock_rdlock(&m->lock);
	v = m->loaded;
	pthread_rwlock_unlock(&m->lock);
	return v;
}

/* ------------------------------------------------------------ doctors' attributes */

/* What training reads of every record: its profile codes and its category. */
struct mr_models_docs {
	uint32_t n;
	uint32_t *spec, *title, *level, *cat; /* codes; cat is the split attribute's code (0: none) */
	unsigned char *use;                   /* live or merged */
	int split_attr;                       /* -1: no split by a profile attribute */
	struct mr_dict *catdict;              /* a split by a tag: its values' codes (cat) */
};

/* How a doctor's category is read: a profile attribute, or a boolean or text tag. */
struct mr_models_split {
	int attr;                             /* -1: not a profile attribute */
	int tag;                              /* -1: not a tag */
};

static void mr_models_split_of(struct mr_models *m, const char *name, struct mr_models_split *sp)
{
	enum mr_xtype type = MR_XT_NONE;
	int id = -1;

	sp->attr = sp->tag = -1;
	if (!name || !*name)
		return;
	sp->attr = mr_profile_attr_of(name);
	if (sp->attr >= 0 || !m->tags.find)
		return;
	m->tags.read_begin(m->tags.arg);
	if (m->tags.find(m->tags.arg, name, &id, &type) && (type == MR_XT_BOOL || type == MR_XT_STR))
		sp->tag = id;
	m->tags.read_end(m->tags.arg);
}

int mr_models_split_ok(struct mr_models *m, const char *name)
{
	struct mr_models_split sp;

	if (!name || !*name)
		return 1;
	mr_models_split_of(m, name, &sp);
	return (sp.attr >= 0 && sp.attr != MR_PA_HCO) || sp.tag >= 0;
}

/* Record id's value of tag (within the tags' read span) as text into buf; "" when none. */
static const char *mr_models_tag_text(struct mr_models *m, int tag, uint32_t id, char *buf, size_t cap)
{
	struct mr_xval v;

	memset(&v, 0, sizeof(v));
	m->tags.value(m->tags.arg, tag, id, &v);
	if (v.kind == MR_XV_BOOL)
		snprintf(buf, cap, "%s", v.num != 0 ? "true" : "false");
	else if (v.kind == MR_XV_STR && v.str)
		snprintf(buf, cap, "%s", v.str);
	else
		buf[0] = 0;
	return buf;
}

static uint32_t mr_models_survivor(const struct mr_profile *p, uint32_t id)
{
	for (int hops = 0; hops < 16 && mr_profile_state(p, id) == MR_PS_MERGED; hops++) {
		uint32_t to = mr_profile_merged_into(p, id);

		if (!to || to >= mr_profile_nhcps(p))
			break;
		id = to;
	}
	return id;
}

static void mr_models_docs_read(struct mr_models *m, const char *split_by, struct mr_models_docs *d)
{
	struct mr_profile *pf = m->src.profile;
	struct mr_models_split sp;
	char buf[256];

	memset(d, 0, sizeof(*d));
	mr_models_split_of(m, split_by, &sp);
	d->split_attr = sp.attr;
	mr_profile_read_begin(pf);
	d->n = mr_profile_nhcps(pf);
	d->spec = mr_calloc(d->n + 1, sizeof(uint32_t));
	d->title = mr_calloc(d->n + 1, sizeof(uint32_t));
	d->level = mr_calloc(d->n + 1, sizeof(uint32_t));
	d->cat = mr_calloc(d->n + 1, sizeof(uint32_t));
	d->use = mr_calloc(d->n + 1, 1);
	for (uint32_t id = 1; id < d->n; id++) {
		int st = mr_profile_state(pf, id);
		uint32_t s;

		if (st != MR_PS_LIVE && st != MR_PS_MERGED)
			continue;
		s = mr_models_survivor(pf, id);
		d->use[id] = 1;
		d->spec[id] = mr_profile_get(pf, s, MR_PA_SPECIALTY);
		d->title[id] = mr_profile_get(pf, s, MR_PA_TITLE);
		d->level[id] = mr_profile_get(pf, s, MR_PA_HCO_LEVEL);
		d->cat[id] = d->split_attr >= 0 ? mr_profile_get(pf, s, d->split_attr) : 0;
	}
	mr_profile_read_end(pf);
	if (sp.tag < 0)
		return;
	d->catdict = mr_dict_new();
	m->tags.read_begin(m->tags.arg);
	for (uint32_t id = 1; id < d->n; id++) {
		if (!d->use[id])
			continue;
		mr_models_tag_text(m, sp.tag, id, buf, sizeof(buf));
		d->cat[id] = buf[0] ? mr_dict_add(d->catdict, buf) : 0;
	}
	m->tags.read_end(m->tags.arg);
}

static void mr_models_docs_release(struct mr_models_docs *d)
{
	free(d->spec);
	free(d->title);
	free(d->level);
	free(d->cat);
	free(d->use);
	mr_dict_free(d->catdict);
}

struct mr_models_count {
	uint32_t code;
	uint32_t n;
};

static int mr_models_count_cmp(const void *a, const void *b)
{
	const struct mr_models_count *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return (x->code > y->code) - (x->code < y->code);
}

/*
 * The most frequent non-zero codes of col (at most max), into top; index
 * (by code, size *nindex) gets each code's position or -1.
 */
static int mr_models_vocab(const uint32_t *col, const unsigned char *use, uint32_t n, int max, uint32_t *top,
			   int **index, uint32_t *nindex)
{
	uint32_t maxcode = 0;
	struct mr_models_count *cnt;
	int k = 0;

	for (uint32_t i = 1; i < n; i++)
		if (use[i] && col[i] > maxcode)
			maxcode = col[i];
	cnt = mr_calloc(maxcode + 1, sizeof(*cnt));
	for (uint32_t c = 0; c <= maxcode; c++)
		cnt[c].code = c;
	for (uint32_t i = 1; i < n; i++)
		if (use[i] && col[i])
			cnt[col[i]].n++;
	qsort(cnt, maxcode + 1, sizeof(*cnt), mr_models_count_cmp);
	*nindex = maxcode + 1;
	*index = mr_malloc((maxcode + 1) * sizeof(int));
	for (uint32_t c = 0; c <= maxcode; c++)
		(*index)[c] = -1;
	for (uint32_t c = 0; c <= maxcode && k < max; c++) {
		if (!cnt[c].n || !cnt[c].code)
			break;
		top[k] = cnt[c].code;
		(*index)[cnt[c].code] = k++;
	}
	free(cnt);
	return k;
}

/* A profile value as text: the dictionary's string, or the number. */
static const char *mr_models_value_text(struct mr_profile *pf, int attr, uint32_t code, char *buf, size_t cap)
{
	if (mr_profile_attr_numeric(attr)) {
		snprintf(buf, cap, "%u", code);
		return buf;
	}
	snprintf(buf, cap, "%s", mr_dict_str(mr_profile_dict(pf), code) ?: "");
	return buf;
}

/* ------------------------------------------------------------ training */

/* A stable uniform number in [0, 1) of an event's seq. */
static double mr_models_hash01(int64_t seq)
{
	uint64_t z = (uint64_t)seq * UINT64_C(0x9e3779b97f4a7c15);

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	z ^= z >> 31;
	return (double)(z >> 11) / 9007199254740992.0;
}

/* The attempts per channel in [from, to): one cheap pass, for the sampling rates. */
static void mr_models_count_attempts(struct mr_evindex *ev, const struct mr_models_docs *d, int64_t from, int64_t to,
				     size_t *count)
{
	for (uint32_t lo = 1; lo < d->n; lo += MR_MODELS_CHUNK) {
		mr_evindex_read_begin(ev);
		uint32_t hi = lo + MR_MODELS_CHUNK, nx = mr_evindex_nhcps(ev);

		for (uint32_t id = lo; id < hi && id < d->n && id < nx; id++) {
			uint32_t n = 0;
			const struct mr_evitem *it = d->use[id] ? mr_evindex_items(ev, id, &n) : NULL;

			for (uint32_t i = 0; i < n; i++) {
				int mc = mr_model_channel_of(it[i].channel);

				if (mc >= 0 && it[i].ts >= from && it[i].ts < to)
					count[mc]++;
			}
		}
		mr_evindex_read_end(ev);
	}
}

/* The examples: every (sampled) attempt in the window, its features from the events strictly before it. */
static void mr_models_examples(struct mr_evindex *ev, const struct mr_models_docs *d, const int *spec_ix,
			       uint32_t nspec, const int *title_ix, uint32_t ntitle, const int *cat_ix, uint32_t ncat,
			       int64_t from, int64_t to, const double *rate, struct mr_model_set *sets)
{
	double x[MR_MF_NFEAT];

	for (uint32_t lo = 1; lo < d->n; lo += MR_MODELS_CHUNK) {
		mr_evindex_read_begin(ev);
		uint32_t hi = lo + MR_MODELS_CHUNK, nx = mr_evindex_nhcps(ev);

		for (uint32_t id = lo; id < hi && id < d->n && id < nx; id++) {
			uint32_t n = 0;
			const struct mr_evitem *it = d->use[id] ? mr_evindex_items(ev, id, &n) : NULL;
			struct mr_model_attrs a = {
				d->spec[id] < nspec ? spec_ix[d->spec[id]] : -1,
				d->title[id] < ntitle ? title_ix[d->title[id]] : -1,
				d->level[id] >= 1 && d->level[id] <= 3 ? (int)d->level[id] - 1 : -1,
			};
			int cat = d->cat[id] < ncat ? cat_ix[d->cat[id]] : -1;
			struct mr_model_walk w;

			mr_model_walk_init(&w, it, n);
			for (uint32_t i = 0; i < n; i++) {
				int mc = mr_model_channel_of(it[i].channel);

				if (mc < 0 || it[i].ts < from || it[i].ts >= to)
					continue;
				if (rate[mc] < 1 && mr_models_hash01(it[i].seq) >= rate[mc])
					continue;
				mr_model_walk_to(&w, it[i].ts);
				mr_model_features(&w.s, it[i].ts, mc, mr_model_slot_of(it[i].ts), &a, x);
				mr_model_set_add(&sets[mc], x, mr_model_label(mc, it[i].outcome), it[i].ts, cat);
			}
		}
		mr_evindex_read_end(ev);
	}
}

/* The vocabularies and categories of a run, as strings the models keep. */
struct mr_models_vocab {
	uint32_t spec[MR_MODEL_SPEC_MAX], title[MR_MODEL_TITLE_MAX], cats[MR_MODEL_CAT_MAX];
	int nspec, ntitle, ncats;
	int *spec_ix, *title_ix, *cat_ix;
	uint32_t nspec_ix, ntitle_ix, ncat_ix;
	char *spec_s[MR_MODEL_SPEC_MAX + 1], *title_s[MR_MODEL_TITLE_MAX + 1], *cat_s[MR_MODEL_CAT_MAX + 1];
};

static void mr_models_vocab_build(struct mr_profile *pf, const struct mr_models_docs *d, struct mr_models_vocab *v)
{
	char buf[256];

	memset(v, 0, sizeof(*v));
	v->nspec = mr_models_vocab(d->spec, d->use, d->n, MR_MODEL_SPEC_MAX, v->spec, &v->spec_ix, &v->nspec_ix);
	v->ntitle = mr_models_vocab(d->title, d->use, d->n, MR_MODEL_TITLE_MAX, v->title, &v->title_ix, &v->ntitle_ix);
	v->ncats = d->split_attr >= 0 || d->catdict ? mr_models_vocab(d->cat, d->use, d->n, MR_MODEL_CAT_MAX, v->cats,
									&v->cat_ix, &v->ncat_ix)
						    : 0;
	for (int i = 0; i < v->nspec; i++)
		v->spec_s[i] = mr_strdup(mr_models_value_text(pf, MR_PA_SPECIALTY, v->spec[i], buf, sizeof(buf)));
	for (int i = 0; i < v->ntitle; i++)
		v->title_s[i] = mr_strdup(mr_models_value_text(pf, MR_PA_TITLE, v->title[i], buf, sizeof(buf)));
	for (int i = 0; i < v->ncats; i++)
		v->cat_s[i] = mr_strdup(d->catdict ? mr_dict_str(d->catdict, v->cats[i])
					    : mr_models_value_text(pf, d->split_attr, v->cats[i], buf, sizeof(buf)));
}

static void mr_models_vocab_release(struct mr_models_vocab *v)
{
	for (int i = 0; i < v->nspec; i++)
		free(v->spec_s[i]);
	for (int i = 0; i < v->ntitle; i++)
		free(v->title_s[i]);
	for (int i = 0; i < v->ncats; i++)
		free(v->cat_s[i]);
	free(v->spec_ix);
	free(v->title_ix);
	free(v->cat_ix);
}

static int mr_models_ready(struct mr_models *m, struct mr_err *err)
{
	if (!mr_evindex_ready(m->src.ev) || !mr_profile_ready(m->src.profile)) {
		mr_err_set(err, MR_EUNAVAIL, "the server is still loading its indexes; try again shortly");
		err->retry_after_s = 1;
		return MR_EUNAVAIL;
	}
	return 0;
}

/* Fits every channel of the run. */
static int mr_models_fit_all(struct mr_models_run *run, struct mr_model_set *sets, struct mr_model_train_opts *o,
			     struct mr_err *err)
{
	json_t *skipped = json_object_get(run->info, "skipped");
	int rc = 0;

	for (int mc = 0; rc == 0 && mc < MR_MC_COUNT; mc++) {
		const char *why = NULL;

		rc = mr_model_train_channel(mc, &sets[mc], o, &run->models, &run->n, &why, err);
		if (why)
			json_object_set_new(skipped, mr_model_channel_name(mc), json_string(why));
		json_object_set_new(json_object_get(run->info, "examples"), mr_model_channel_name(mc),
				    json_integer((json_int_t)sets[mc].n));
		json_object_set_new(json_object_get(run->info, "sampled"), mr_model_channel_name(mc),
				    json_real(o->sampled[mc]));
	}
	for (int i = 0; i < run->n; i++)
		run->models[i]->trained_at = run->trained_at;
	return rc;
}

int mr_models_train(struct mr_models *m, struct mr_conn *c, const struct mr_models_train_req *q,
		    struct mr_models_run **res, struct mr_err *err)
{
	struct mr_models_settings st;
	struct mr_models_docs d;
	struct mr_models_vocab v;
	struct mr_model_set sets[MR_MC_COUNT];
	struct mr_model_train_opts o;
	size_t count[MR_MC_COUNT] = { 0 };
	int64_t t0 = mr_mono_us(), run_no = 0;
	struct mr_models_run *run;
	int rc;

	*res = NULL;
	rc = mr_models_ready(m, err);
	if (rc == 0)
		rc = mr_models_settings_get(c, &st, err);
	if (rc == 0)
		rc = mr_conn_query_int(c, "SELECT COALESCE(MAX(run), 0) + 1 FROM nba_models", NULL, 0, &run_no, err);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&m->train_mu);
	if (run_no <= m->last_run) /* a run trained here and not yet stored */
		run_no = m->last_run + 1;
	m->last_run = (int)run_no;
	run = mr_calloc(1, sizeof(*run));
	run->run = (int)run_no;
	run->trained_at = mr_now_us();
	run->to = q->as_of ? q->as_of : run->trained_at;
	run->from = run->to - (int64_t)q->window_days * 86400 * 1000000;
	run->info = json_pack("{s:{}, s:{}, s:{}}", "examples", "sampled", "skipped");
	memset(&o, 0, sizeof(o));
	o.from = run->from;
	o.to = run->to;
	o.split_by = q->split_by ? q->split_by : st.split_by;
	o.min_examples = (size_t)(q->min_examples ? q->min_examples : st.min_examples);
	o.min_positives = (size_t)(q->min_positives ? q->min_positives : st.min_positives);
	o.run = run->run;
	o.by = q->by;
	mr_models_docs_read(m, o.split_by, &d);
	mr_models_vocab_build(m->src.profile, &d, &v);
	o.spec_vocab = (const char *const *)v.spec_s;
	o.title_vocab = (const char *const *)v.title_s;
	o.cats = (const char *const *)v.cat_s;
	o.ncats = v.ncats;
	if (!*o.split_by)
		o.split_by = NULL;
	mr_models_count_attempts(m->src.ev, &d, run->from, run->to, count);
	for (int mc = 0; mc < MR_MC_COUNT; mc++) {
		mr_model_set_init(&sets[mc]);
		o.sampled[mc] = count[mc] > MR_MODELS_CAP ? (double)MR_MODELS_CAP / (double)count[mc] : 1.0;
	}
	mr_models_examples(m->src.ev, &d, v.spec_ix, v.nspec_ix, v.title_ix, v.ntitle_ix, v.cat_ix, v.ncat_ix,
			   run->from, run->to, o.sampled, sets);
	json_object_set_new(run->info, "features_ms", json_integer((mr_mono_us() - t0) / 1000));
	rc = mr_models_fit_all(run, sets, &o, err);
	for (int mc = 0; mc < MR_MC_COUNT; mc++)
		mr_model_set_release(&sets[mc]);
	mr_models_vocab_release(&v);
	mr_models_docs_release(&d);
	run->took_ms = (mr_mono_us() - t0) / 1000;
	pthread_mutex_unlock(&m->train_mu);
	if (rc < 0) {
		mr_models_run_free(run);
		return rc;
	}
	*res = run;
	return 0;
}

static json_t *mr_models_model_json(const struct mr_model *md)
{
	return json_pack("{s:I, s:s, s:s?, s:s?, s:s, s:I, s:I, s:f, s:{s:I, s:o, s:o, s:o}, s:o, s:b, s:b}", "id",
			 (json_int_t)md->id, "channel", mr_model_channel_name(md->mc), "split_by", md->split_by,
			 "category", md->category, "version", md->version, "examples", (json_int_t)md->examples,
			 "positives", (json_int_t)md->positives, "sampled", md->sampled, "metrics", "holdout_n",
			 (json_int_t)md->holdout.n, "auc", mr_models_num(md->holdout.auc), "log_loss",
			 mr_models_num(md->holdout.log_loss), "brier", mr_models_num(md->holdout.brier),
			 "global_log_loss", mr_models_num(md->global_log_loss), "beats_global", md->beats_global,
			 "active", md->active);
}

json_t *mr_models_run_json(const struct mr_models_run *run)
{
	json_t *o = json_deep_copy(run->info), *versions = json_array();
	char t[40];

	for (int i = 0; i < run->n; i++)
		json_array_append_new(versions, mr_models_model_json(run->models[i]));
	json_object_set_new(o, "run", json_integer(run->run));
	mr_time_format(run->from, t, sizeof(t));
	json_object_set_new(o, "window", json_pack("{s:s}", "from", t));
	mr_time_format(run->to, t, sizeof(t));
	json_object_set_new(json_object_get(o, "window"), "to", json_string(t));
	json_object_set_new(o, "versions", versions);
	json_object_set_new(o, "took_ms", json_integer(run->took_ms));
	return o;
}

void mr_models_run_free(struct mr_models_run *run)
{
	if (!run)
		return;
	mr_models_free_set(run->models, run->n);
	json_decref(run->info);
	free(run);
}

void mr_models_adopt(struct mr_models *m, struct mr_models_run *run)
{
	struct mr_model **act = NULL;
	int n = 0;

	/* the channels the run trained take its models; the others keep theirs */
	pthread_rwlock_wrlock(&m->lock);
	for (int i = 0; i < m->nact; i++) {
		int replaced = 0;

		for (int k = 0; k < run->n; k++)
			replaced |= run->models[k]->mc == m->act[i]->mc && !run->models[k]->category;
		if (replaced) {
			mr_model_free(m->act[i]);
			continue;
		}
		act = mr_realloc(act, (size_t)(n + 1) * sizeof(struct mr_model *));
		act[n++] = m->act[i];
	}
	for (int k = 0; k < run->n; k++) {
		act = mr_realloc(act, (size_t)(n + 1) * sizeof(struct mr_model *));
		act[n++] = run->models[k];
	}
	free(m->act);
	m->act = act;
	m->nact = n;
	m->loaded = 1;
	mr_models_day(run->trained_at, m->last_day);
	pthread_rwlock_unlock(&m->lock);
	free(run->models);
	run->models = NULL;
	run->n = 0;
	mr_models_run_free(run);
}

/* ------------------------------------------------------------ one doctor */

static int mr_models_item_cmp(const void *a, const void *b)
{
	const struct mr_evitem *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* The doctor's events (all its records, by time) into a malloc'd array. */
static struct mr_evitem *mr_models_doctor_items(struct mr_models *m, int64_t hcp_id, uint32_t *nout)
{
	uint32_t ids[MR_MODELS_CLUSTER], n = 0;
	int nids = mr_hcpdir_cluster(m->src.dir, hcp_id, ids, MR_MODELS_CLUSTER);
	struct mr_evitem *all = NULL;

	if (nids <= 0) {
		ids[0] = (uint32_t)hcp_id;
		nids = 1;
	}
	mr_evindex_read_begin(m->src.ev);
	for (int k = 0; k < nids; k++) {
		uint32_t cnt = 0;
		const struct mr_evitem *it = ids[k] < mr_evindex_nhcps(m->src.ev) ? mr_evindex_items(m->src.ev, ids[k], &cnt)
										    : NULL;

		if (!cnt)
			continue;
		all = mr_realloc(all, (n + cnt) * sizeof(*all));
		memcpy(all + n, it, cnt * sizeof(*it));
		n += cnt;
	}
	mr_evindex_read_end(m->src.ev);
	if (nids > 1 && n > 1)
		qsort(all, n, sizeof(*all), mr_models_item_cmp);
	*nout = n;
	return all;
}

/* The doctor's profile as strings (specialty, title, the split values per model) and level. */
struct mr_models_profile {
	uint32_t id;
	char spec[128], title[128];
	int level;
	uint32_t codes[MR_PA_COUNT];
};

static void mr_models_profile_of(struct mr_models *m, int64_t hcp_id, struct mr_models_profile *out)
{
	struct mr_profile *pf = m->src.profile;

	memset(out, 0, sizeof(*out));
	out->id = (uint32_t)hcp_id;
	mr_profile_read_begin(pf);
	if ((uint32_t)hcp_id < mr_profile_nhcps(pf)) {
		for (int a = 0; a < MR_PA_COUNT; a++)
			out->codes[a] = mr_profile_get(pf, (uint32_t)hcp_id, a);
	}
	mr_profile_read_end(pf);
	mr_models_value_text(pf, MR_PA_SPECIALTY, out->codes[MR_PA_SPECIALTY], out->spec, sizeof(out->spec));
	mr_models_value_text(pf, MR_PA_TITLE, out->codes[MR_PA_TITLE], out->title, sizeof(out->title));
	out->level = (int)out->codes[MR_PA_HCO_LEVEL];
}

static void mr_models_attrs_for(const struct mr_model *md, const struct mr_models_profile *p,
				struct mr_model_attrs *a)
{
	a->spec = a->title = -1;
	for (int i = 0; i < MR_MODEL_SPEC_MAX && md->spec_vocab[i]; i++)
		if (p->spec[0] && strcmp(md->spec_vocab[i], p->spec) == 0)
			a->spec = i;
	for (int i = 0; i < MR_MODEL_TITLE_MAX && md->title_vocab[i]; i++)
		if (p->title[0] && strcmp(md->title_vocab[i], p->title) == 0)
			a->title = i;
	a->level = p->level >= 1 && p->level <= 3 ? p->level - 1 : -1;
}

/* 1 when doctor id's value of tag name is value. */
static int mr_models_tag_is(struct mr_models *m, const char *name, uint32_t id, const char *value)
{
	struct mr_models_split sp;
	char buf[256];
	int yes;

	mr_models_split_of(m, name, &sp);
	if (sp.tag < 0)
		return 0;
	m->tags.read_begin(m->tags.arg);
	yes = strcmp(mr_models_tag_text(m, sp.tag, id, buf, sizeof(buf)), value) == 0;
	m->tags.read_end(m->tags.arg);
	return yes;
}

/*
 * The recombination step: channel mc's category model for the doctor when
 * one is active and beat the global model on its category, else the
 * global one (NULL: none). Under the read lock.
 */
static const struct mr_model *mr_models_pick(struct mr_models *m, int mc, const struct mr_models_profile *p)
{
	const struct mr_model *global = NULL, *cat = NULL;
	char buf[128];

	for (int i = 0; i < m->nact; i++) {
		const struct mr_model *md = m->act[i];
		int attr;

		if (md->mc != mc)
			continue;
		if (!md->category) {
			global = md;
			continue;
		}
		if (!md->beats_global)
			continue;
		attr = md->split_by ? mr_profile_attr_of(md->split_by) : -1;
		if (attr >= 0 && p->codes[attr] &&
		    strcmp(mr_models_value_text(m->src.profile, attr, p->codes[attr], buf, sizeof(buf)), md->category) == 0)
			cat = md;
		else if (attr < 0 && mr_models_tag_is(m, md->split_by, p->id, md->category))
			cat = md;
	}
	return cat ? cat : global;
}

/* A feature's part of a prediction in words (buf), from the doctor's counts. */
static void mr_models_words(int f, int mc, int slot, const struct mr_model_state *s,
			    const struct mr_models_profile *p, int64_t t, char *buf, size_t cap)
{
	static const char *const ch_words[MR_MC_COUNT] = { "phone", "WeChat", "WeCom", "email", "online meetings" };
	static const char *const resp[MR_MC_COUNT] = { "answers calls", "responds to WeChat", "responds to WeCom",
						       "responds to email", "registers for online meetings" };
	int c = f / 3, band = slot % MR_MODEL_BANDS;

	if (f < MR_MF_OTHER && f % 3 == 0)
		snprintf(buf, cap, "%s in 90 days: %u of %u", resp[c], s->pos90[c], s->att90[c]);
	else if (f < MR_MF_OTHER && f % 3 == 1 && !s->att[c])
		snprintf(buf, cap, "new to %s (no attempts yet)", ch_words[c]);
	else if (f < MR_MF_OTHER && f % 3 == 1)
		snprintf(buf, cap, "%s: %u of %u before", resp[c], s->pos[c], s->att[c]);
	else if (f == MR_MF_BANDRATE && !s->attb[mc][band])
		snprintf(buf, cap, "no %s attempts in %s yet", ch_words[mc], mr_model_band_name(band));
	else if (f < MR_MF_OTHER)
		snprintf(buf, cap, "last %s attempt %.0f days ago", ch_words[c],
			 s->last[c] ? (double)(t - s->last[c]) / 86400e6 : 0.0);
	else if (f == MR_MF_OTHER)
		snprintf(buf, cap, "%u visits, offline meetings or content views in 90 days", s->other90);
	else if (f == MR_MF_BANDRATE)
		snprintf(buf, cap, "%s in %s: %u of %u", resp[mc], mr_model_band_name(band), s->posb[mc][band],
			 s->attb[mc][band]);
	else if (f < MR_MF_BAND)
		snprintf(buf, cap, "%s is a good day for %s", mr_model_weekday_name(f - MR_MF_WEEKDAY), ch_words[mc]);
	else if (f < MR_MF_SPEC)
		snprintf(buf, cap, "%s is a good time for %s", mr_model_band_name(f - MR_MF_BAND), ch_words[mc]);
	else if (f < MR_MF_TITLE)
		snprintf(buf, cap, "specialty %s", p->spec);
	else if (f < MR_MF_LEVEL)
		snprintf(buf, cap, "title %s", p->title);
	else
		snprintf(buf, cap, "hospital level %d", p->level);
}

/* The top three features pushing the prediction up (w·(x − mean) > 0), in words, into out[] (NULL-padded). */
static int mr_models_reasons(const struct mr_model *md, const double *x, int mc, int slot,
			     const struct mr_model_state *s, const struct mr_models_profile *p, int64_t t,
			     char out[3][160])
{
	int top[3] = { -1, -1, -1 }, k = 0;
	double val[3] = { 0, 0, 0 };

	for (int f = 0; f < MR_MF_NFEAT; f++) {
		double ctb = md->lm.w[1 + f] * (x[f] - md->mean[f]);

		if (ctb <= 0.01)
			continue;
		for (int j = 0; j < 3; j++) {
			if (top[j] < 0 || ctb > val[j]) {
				for (int i = 2; i > j; i--) {
					top[i] = top[i - 1];
					val[i] = val[i - 1];
				}
				top[j] = f;
				val[j] = ctb;
				break;
			}
		}
	}
	for (int j = 0; j < 3 && top[j] >= 0; j++)
		mr_models_words(top[j], mc, slot, s, p, t, out[k++], 160);
	return k;
}

int mr_models_score(struct mr_models *m, int64_t hcp_id, int mc, int slot, int64_t as_of, struct mr_score *out,
		    struct mr_err *err)
{
	struct mr_models_profile p;
	struct mr_model_walk w;
	struct mr_model_attrs a;
	const struct mr_model *md;
	struct mr_evitem *items;
	uint32_t n = 0;
	double x[MR_MF_NFEAT];
	char rs[3][160];
	int rc = mr_models_ready(m, err), nr;

	memset(out, 0, sizeof(*out));
	out->p = NAN;
	if (rc < 0)
		return rc;
	if (mc < 0 || mc >= MR_MC_COUNT || slot < 0 || slot >= MR_MODEL_SLOTS)
		return mr_err_set(err, MR_EINVAL, "no model channel %d or slot %d", mc, slot);
	mr_models_profile_of(m, hcp_id, &p);
	items = mr_models_doctor_items(m, hcp_id, &n);
	mr_model_walk_init(&w, items, n);
	mr_model_walk_to(&w, as_of);
	pthread_rwlock_rdlock(&m->lock);
	md = mr_models_pick(m, mc, &p);
	if (md) {
		mr_models_attrs_for(md, &p, &a);
		mr_model_features(&w.s, as_of, mc, slot, &a, x);
		out->p = mr_model_predict(md, x);
		out->model_id = md->id;
		snprintf(out->version, sizeof(out->version), "%s", md->version);
		nr = mr_models_reasons(md, x, mc, slot, &w.s, &p, as_of, rs);
		for (int j = 0; j < nr; j++)
			snprintf(out->reason + strlen(out->reason), sizeof(out->reason) - strlen(out->reason), "%s%s",
				 j ? "; " : "", rs[j]);
	} else {
		rc = mr_err_set(err, MR_ENOTFOUND, "no active model for channel %s: train one first",
				mr_model_channel_name(mc));
	}
	pthread_rwlock_unlock(&m->lock);
	free(items);
	return rc;
}

/* One channel's part of the propensity answer; p (MR_MODEL_SLOTS) gets its slots' probabilities. */
static json_t *mr_models_channel_json(const struct mr_model *md, int mc, const struct mr_model_state *s,
				      const struct mr_models_profile *p, int64_t as_of, double *pr)
{
	json_t *o = json_pack("{s:s}", "channel", mr_model_channel_name(mc)), *slots = json_array(), *why = json_array();
	struct mr_model_attrs a;
	double x[MR_MF_NFEAT], bx[MR_MF_NFEAT];
	char rs[3][160];
	int best = 0, nr;

	mr_models_attrs_for(md, p, &a);
	for (int sl = 0; sl < MR_MODEL_SLOTS; sl++) {
		mr_model_features(s, as_of, mc, sl, &a, x);
		pr[sl] = mr_model_predict(md, x);
		if (pr[sl] > pr[best])
			best = sl;
		json_array_append_new(slots, json_pack("{s:i, s:s, s:s, s:f}", "slot", sl, "weekday",
						       mr_model_weekday_name(sl / MR_MODEL_BANDS), "band",
						       mr_model_band_name(sl % MR_MODEL_BANDS), "p", pr[sl]));
	}
	mr_model_features(s, as_of, mc, best, &a, bx);
	nr = mr_models_reasons(md, bx, mc, best, s, p, as_of, rs);
	for (int j = 0; j < nr; j++)
		json_array_append_new(why, json_string(rs[j]));
	json_object_set_new(o, "model_id", json_integer(md->id));
	json_object_set_new(o, "model_version", json_string(md->version));
	mr_json_set_str(o, "category", md->category);
	json_object_set_new(o, "best", json_pack("{s:i, s:s, s:s, s:f}", "slot", best, "weekday",
						  mr_model_weekday_name(best / MR_MODEL_BANDS), "band",
						  mr_model_band_name(best % MR_MODEL_BANDS), "p", pr[best]));
	json_object_set_new(o, "reasons", why);
	json_object_set_new(o, "slots", slots);
	return o;
}

/*
 * Thompson sampling over every channel × slot that has a model (has[mc]):
 * the arm served into *mc / *slot and its probability; 0 when no arm.
 */
static int mr_models_sample(int64_t hcp_id, int64_t as_of, const struct mr_model_state *s,
			    const double (*pr)[MR_MODEL_SLOTS], const int *has, int *mc_out, int *slot_out,
			    double *prob_out)
{
	double p[MR_MC_COUNT * MR_MODEL_SLOTS], pos[MR_MC_COUNT * MR_MODEL_SLOTS], neg[MR_MC_COUNT * MR_MODEL_SLOTS];
	double prob[MR_MC_COUNT * MR_MODEL_SLOTS];
	int arm_mc[MR_MC_COUNT * MR_MODEL_SLOTS], arm_sl[MR_MC_COUNT * MR_MODEL_SLOTS], n = 0, k;

	for (int mc = 0; mc < MR_MC_COUNT; mc++) {
		for (int sl = 0; has[mc] && sl < MR_MODEL_SLOTS; sl++) {
			int b = sl % MR_MODEL_BANDS;

			p[n] = pr[mc][sl];
			pos[n] = s->posb[mc][b];
			neg[n] = s->attb[mc][b] - s->posb[mc][b];
			arm_mc[n] = mc;
			arm_sl[n++] = sl;
		}
	}
	if (!n)
		return 0;
	k = mr_model_thompson(p, pos, neg, n, 10.0, mr_model_seed(hcp_id, as_of), prob);
	*mc_out = arm_mc[k];
	*slot_out = arm_sl[k];
	*prob_out = prob[k];
	return 1;
}

int mr_models_choose(struct mr_models *m, int64_t hcp_id, int64_t as_of, unsigned mask, struct mr_choice *out,
		     struct mr_err *err)
{
	struct mr_models_profile p;
	struct mr_model_walk w;
	struct mr_model_attrs a;
	struct mr_evitem *items;
	const struct mr_model *md[MR_MC_COUNT];
	double pr[MR_MC_COUNT][MR_MODEL_SLOTS], x[MR_MF_NFEAT];
	int has[MR_MC_COUNT] = { 0 };
	char rs[3][160];
	uint32_t n = 0;
	int rc = mr_models_ready(m, err), nr;

	memset(out, 0, sizeof(*out));
	out->score.p = NAN;
	if (rc < 0)
		return rc;
	mr_models_profile_of(m, hcp_id, &p);
	items = mr_models_doctor_items(m, hcp_id, &n);
	mr_model_walk_init(&w, items, n);
	mr_model_walk_to(&w, as_of);
	pthread_rwlock_rdlock(&m->lock);
	for (int mc = 0; mc < MR_MC_COUNT; mc++) {
		md[mc] = mask && !(mask & (1u << mc)) ? NULL : mr_models_pick(m, mc, &p);
		has[mc] = md[mc] != NULL;
		for (int sl = 0; has[mc] && sl < MR_MODEL_SLOTS; sl++) {
			mr_models_attrs_for(md[mc], &p, &a);
			mr_model_features(&w.s, as_of, mc, sl, &a, x);
			pr[mc][sl] = mr_model_predict(md[mc], x);
		}
	}
	if (mr_models_sample(hcp_id, as_of, &w.s, (const double(*)[MR_MODEL_SLOTS])pr, has, &out->mc, &out->slot,
			     &out->probability)) {
		const struct mr_model *c = md[out->mc];

		mr_models_attrs_for(c, &p, &a);
		mr_model_features(&w.s, as_of, out->mc, out->slot, &a, x);
		out->score.p = pr[out->mc][out->slot];
		out->score.model_id = c->id;
		snprintf(out->score.version, sizeof(out->score.version), "%s", c->version);
		nr = mr_models_reasons(c, x, out->mc, out->slot, &w.s, &p, as_of, rs);
		for (int j = 0; j < nr; j++)
			snprintf(out->score.reason + strlen(out->score.reason),
				 sizeof(out->score.reason) - strlen(out->score.reason), "%s%s", j ? "; " : "", rs[j]);
	} else {
		rc = mr_err_set(err, MR_ENOTFOUND, "no active model for the channels asked: train one first");
	}
	pthread_rwlock_unlock(&m->lock);
	free(items);
	return rc;
}

int mr_models_propensity(struct mr_models *m, int64_t hcp_id, int64_t as_of, json_t **out, struct mr_err *err)
{
	struct mr_models_profile p;
	struct mr_model_walk w;
	struct mr_evitem *items;
	double pr[MR_MC_COUNT][MR_MODEL_SLOTS];
	int has[MR_MC_COUNT] = { 0 };
	json_t *chans = json_array();
	uint32_t n = 0;
	char t[40];
	int rc = mr_models_ready(m, err);

	*out = NULL;
	if (rc < 0) {
		json_decref(chans);
		return rc;
	}
	mr_models_profile_of(m, hcp_id, &p);
	items = mr_models_doctor_items(m, hcp_id, &n);
	mr_model_walk_init(&w, items, n);
	mr_model_walk_to(&w, as_of);
	pthread_rwlock_rdlock(&m->lock);
	for (int mc = 0; mc < MR_MC_COUNT; mc++) {
		const struct mr_model *md = mr_models_pick(m, mc, &p);

		if (!md)
			continue;
		has[mc] = 1;
		json_array_append_new(chans, mr_models_channel_json(md, mc, &w.s, &p, as_of, pr[mc]));
	}
	pthread_rwlock_unlock(&m->lock);
	free(items);
	mr_time_format(as_of, t, sizeof(t));
	(void)has;
	*out = json_pack("{s:s, s:o}", "as_of", t, "channels", chans);
	return 0;
}

/* ------------------------------------------------------------ evaluation */

struct mr_models_eval {
	size_t n, cap;
	int *action;
	double *reward, *prop, *q;
	uint32_t *cat;
	int *pi;
};

static void mr_models_eval_add(struct mr_models_eval *e, int action, double reward, uint32_t cat, const double *q)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 4096;
		e->action = mr_realloc(e->action, e->cap * sizeof(int));
		e->reward = mr_realloc(e->reward, e->cap * sizeof(double));
		e->cat = mr_realloc(e->cat, e->cap * sizeof(uint32_t));
		e->q = mr_realloc(e->q, e->cap * MR_MODELS_ACTIONS * sizeof(double));
	}
	e->action[e->n] = action;
	e->reward[e->n] = reward;
	e->cat[e->n] = cat;
	memcpy(e->q + e->n * MR_MODELS_ACTIONS, q, MR_MODELS_ACTIONS * sizeof(double));
	e->n++;
}

static void mr_models_eval_release(struct mr_models_eval *e)
{
	free(e->action);
	free(e->reward);
	free(e->prop);
	free(e->q);
	free(e->cat);
	free(e->pi);
}

/* Every logged attempt of one record in the window: the action, the reward, the models' q for each action. */
static void mr_models_eval_record(struct mr_models *m, uint32_t id, const struct mr_evitem *it, uint32_t n,
				  const struct mr_models_profile *p, int64_t from, int64_t to, double rate,
				  struct mr_models_eval *e)
{
	const struct mr_model *md[MR_MC_COUNT];
	struct mr_model_attrs a[MR_MC_COUNT];
	struct mr_model_walk w;
	double x[MR_MF_NFEAT], q[MR_MODELS_ACTIONS];
	(void)id;
	for (int mc = 0; mc < MR_MC_COUNT; mc++) {
		md[mc] = mr_models_pick(m, mc, p);
		if (md[mc])
			mr_models_attrs_for(md[mc], p, &a[mc]);
	}
	mr_model_walk_init(&w, it, n);
	for (uint32_t i = 0; i < n; i++) {
		int mc = mr_model_channel_of(it[i].channel), slot;

		if (mc < 0 || it[i].ts < from || it[i].ts >= to)
			continue;
		if (rate < 1 && mr_models_hash01(it[i].seq) >= rate)
			continue;
		mr_model_walk_to(&w, it[i].ts);
		slot = mr_model_slot_of(it[i].ts);
		for (int c = 0; c < MR_MC_COUNT; c++) {
			for (int b = 0; b < MR_MODEL_BANDS; b++) {
				int sl = (slot / MR_MODEL_BANDS) * MR_MODEL_BANDS + b;

				if (!md[c]) {
					q[c * MR_MODEL_BANDS + b] = -1;
					continue;
				}
				mr_model_features(&w.s, it[i].ts, c, sl, &a[c], x);
				q[c * MR_MODEL_BANDS + b] = mr_model_predict(md[c], x);
			}
		}
		mr_models_eval_add(e, mc * MR_MODEL_BANDS + slot % MR_MODEL_BANDS, mr_model_label(mc, it[i].outcome),
				   p->codes[MR_PA_SPECIALTY], q);
	}
}

/* The empirical logging propensity of each row: its action's share of its specialty's attempts. */
static void mr_models_eval_props(struct mr_models_eval *e)
{
	uint32_t maxc = 0;
	double *cnt, *tot;

	for (size_t i = 0; i < e->n; i++)
		if (e->cat[i] > maxc)
			maxc = e->cat[i];
	cnt = mr_calloc((size_t)(maxc + 1) * MR_MODELS_ACTIONS, sizeof(double));
	tot = mr_calloc(maxc + 1, sizeof(double));
	for (size_t i = 0; i < e->n; i++) {
		cnt[(size_t)e->cat[i] * MR_MODELS_ACTIONS + (size_t)e->action[i]]++;
		tot[e->cat[i]]++;
	}
	e->prop = mr_malloc((e->n ? e->n : 1) * sizeof(double));
	e->pi = mr_malloc((e->n ? e->n : 1) * sizeof(int));
	for (size_t i = 0; i < e->n; i++) {
		const double *q = e->q + i * MR_MODELS_ACTIONS;
		int best = 0;

		e->prop[i] = cnt[(size_t)e->cat[i] * MR_MODELS_ACTIONS + (size_t)e->action[i]] / tot[e->cat[i]];
		for (int a = 1; a < MR_MODELS_ACTIONS; a++)
			if (q[a] > q[best])
				best = a;
		e->pi[i] = best;
	}
	for (size_t i = 0; i < e->n * MR_MODELS_ACTIONS; i++)
		if (e->q[i] < 0)
			e->q[i] = 0; /* an action without a model: no reward predicted */
	free(cnt);
	free(tot);
}

static json_t *mr_models_est_json(const struct mr_ope_est *x)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:I}", "value", mr_models_num(x->value), "se", mr_models_num(x->se),
			 "ci_low", mr_models_num(x->lo), "ci_high", mr_models_num(x->hi), "n", (json_int_t)x->n);
}

/* Reads every record's attempts in the window (sampled to the cap) into e. */
static void mr_models_eval_read(struct mr_models *m, int64_t from, int64_t to, struct mr_models_eval *e)
{
	struct mr_models_docs d;
	size_t count[MR_MC_COUNT] = { 0 }, total = 0;
	double rate;

	mr_models_docs_read(m, NULL, &d);
	mr_models_count_attempts(m->src.ev, &d, from, to, count);
	for (int mc = 0; mc < MR_MC_COUNT; mc++)
		total += count[mc];
	rate = total > MR_MODELS_EVAL_CAP ? (double)MR_MODELS_EVAL_CAP / (double)total : 1.0;
	for (uint32_t id = 1; id < d.n; id++) {
		struct mr_models_profile p;
		struct mr_evitem *items;
		uint32_t n = 0;

		if (!d.use[id])
			continue;
		mr_models_profile_of(m, id, &p);
		mr_evindex_read_begin(m->src.ev);
		if (id < mr_evindex_nhcps(m->src.ev)) {
			const struct mr_evitem *it = mr_evindex_items(m->src.ev, id, &n);

			items = n ? mr_malloc(n * sizeof(*items)) : NULL;
			if (n)
				memcpy(items, it, n * sizeof(*items));
		} else {
			items = NULL;
		}
		mr_evindex_read_end(m->src.ev);
		if (n) {
			pthread_rwlock_rdlock(&m->lock);
			mr_models_eval_record(m, id, items, n, &p, from, to, rate, e);
			pthread_rwlock_unlock(&m->lock);
		}
		free(items);
	}
	mr_models_docs_release(&d);
}

int mr_models_evaluate(struct mr_models *m, int window_days, int64_t as_of, json_t **out, struct mr_err *err)
{
	struct mr_models_eval e;
	struct mr_ope_result res;
	struct mr_ope_log lg;
	int64_t from = as_of - (int64_t)window_days * 86400 * 1000000, t0 = mr_mono_us();
	int nact;
	int rc = mr_models_ready(m, err);

	*out = NULL;
	if (rc < 0)
		return rc;
	pthread_rwlock_rdlock(&m->lock);
	nact = m->nact;
	pthread_rwlock_unlock(&m->lock);
	if (!nact) {
		mr_err_set(err, MR_EUNPROC, "no active models to evaluate: train them first");
		return mr_err_kind(err, "no_models");
	}
	memset(&e, 0, sizeof(e));
	mr_models_eval_read(m, from, as_of, &e);
	if (!e.n) {
		mr_models_eval_release(&e);
		return mr_err_set(err, MR_EUNPROC, "no logged attempts in the %d days before as_of", window_days);
	}
	mr_models_eval_props(&e);
	lg.n = e.n;
	lg.nactions = MR_MODELS_ACTIONS;
	lg.action = e.action;
	lg.reward = e.reward;
	lg.prop = e.prop;
	rc = mr_ope_estimate(&lg, e.pi, e.q, &res, err);
	if (rc == 0)
		*out = json_pack("{s:I, s:I, s:f, s:f, s:o, s:o, s:o, s:o, s:o, s:s, s:s, s:s, s:I}", "n", (json_int_t)res.n,
				 "matched", (json_int_t)res.matched, "ess", res.ess, "max_weight", res.max_weight, "logged",
				 mr_models_est_json(&res.logged), "ips", mr_models_est_json(&res.ips), "snips",
				 mr_models_est_json(&res.snips), "dr", mr_models_est_json(&res.dr), "dm",
				 mr_models_est_json(&res.dm), "policy",
				 "greedy: per attempt, the channel × hour band (on the attempt's weekday) the active models"
				 " score highest",
				 "propensity",
				 "estimated: these attempts have no logged propensities, so the logging policy's probability"
				 " of each channel × hour band is its share of the attempts in the doctor's specialty in the"
				 " window",
				 "reward", "the attempt's response (answered calls; responded messages; registered invitations)",
				 "took_ms", (json_int_t)((mr_mono_us() - t0) / 1000));
	mr_models_eval_release(&e);
	return rc;
}

/* ------------------------------------------------------------ the tick */

struct mr_models_tick_save {
	struct mr_models_run *run;
};

static int mr_models_tick_save(struct mr_conn *c, void *arg, struct mr_err *err)
{
	return mr_models_save(c, ((struct mr_models_tick_save *)arg)->run, err);
}

/* The scheduled retrain: once a day at or after the settings' hour, when on. */
static void mr_models_scheduled(struct mr_models *m, struct mr_conn *c)
{
	struct mr_models_train_req q;
	struct mr_models_tick_save j = { NULL };
	struct mr_err err;
	int64_t now = mr_now_us();
	char day[11];
	int hour = (int)(((now / 1000000 + 28800) % 86400) / 3600);

	mr_err_clear(&err);
	if (now - atomic_load(&m->settings_read_at) > 60 * INT64_C(1000000)) {
		if (mr_models_settings_get(c, &m->settings, &err) < 0)
			return;
		atomic_store(&m->settings_read_at, now);
	}
	char last[11];

	mr_models_day(now, day);
	pthread_rwlock_rdlock(&m->lock);
	memcpy(last, m->last_day, sizeof(last));
	pthread_rwlock_unlock(&m->lock);
	if (!m->settings.schedule_daily || hour < m->settings.hour || strcmp(day, last) == 0 || !m->writer ||
	    mr_models_ready(m, &err) < 0)
		return;
	memset(&q, 0, sizeof(q));
	q.window_days = m->settings.window_days;
	q.by = "schedule";
	if (mr_models_train(m, c, &q, &j.run, &err) == 0 && mr_writer_submit(m->writer, mr_models_tick_save, &j, &err) == 0) {
		char *info = json_dumps(j.run->info, JSON_COMPACT);

		mr_log_info("event=models_retrained run=%d versions=%d took_ms=%lld info=%s", j.run->run, j.run->n,
			    (long long)j.run->took_ms, info ? info : "{}");
		free(info);
		mr_models_adopt(m, j.run);
		return;
	}
	mr_log_warn("event=models_retrain_failed error=\"%s\"", err.msg);
	pthread_rwlock_wrlock(&m->lock);
	memcpy(m->last_day, day, 11); /* try again tomorrow, not every tick */
	pthread_rwlock_unlock(&m->lock);
	mr_models_run_free(j.run);
}

void mr_models_settings_changed(struct mr_models *m)
{
	atomic_store(&m->settings_read_at, 0);
}

void mr_models_tick(struct mr_models *m)
{
	struct mr_conn *c = NULL;
	struct mr_err err;

	mr_err_clear(&err);
	if (pthread_mutex_trylock(&m->tick_mu) != 0)
		return;
	if (mr_store_acquire(m->src.store, &c, &err) == 0) {
		int64_t now = mr_mono_us(), stamp = 0;
		int stale = !mr_models_loaded(m);

		if (!stale && now - m->stamp_read_at > 5 * INT64_C(1000000)) { /* another node trained or activated */
			m->stamp_read_at = now;
			if (mr_models_stamp(c, &stamp, &err) == 0) {
				pthread_rwlock_rdlock(&m->lock);
				stale = stamp != m->stamp;
				pthread_rwlock_unlock(&m->lock);
			}
		}
		if (stale && mr_models_load(m, c, &err) < 0)
			mr_log_warn("event=models_load_failed error=\"%s\"", err.msg);
		if (mr_models_loaded(m))
			mr_models_scheduled(m, c);
		mr_store_release(m->src.store, c);
	}
	pthread_mutex_unlock(&m->tick_mu);
}
