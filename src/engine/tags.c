/*
 * The tag store (tags.h): definitions, values by record id, rounds of
 * evaluation, the expiry heap and the tag-change log.
 *
 * Values. Each tag's values live in a struct mr_tagval: a code per record
 * for booleans (1 false, 2 true) and texts (the code of the text in the
 * tag's dictionary), 0 for null, with one CRoaring bitmap of records per
 * code; a float per record for numbers, NaN for null. Only live records
 * hold values. Manual tags keep what people set per record (raw) and
 * publish it for live records.
 *
 * Rounds. Every change of definitions or values happens in a round, one
 * at a time (round_mu): compile the tags concerned at the round's as_of
 * (a plan is bound to its as_of), evaluate them in dependency order for
 * the doctors concerned (mr_engine_values), and publish what changed
 * under the write lock, so readers (the engine's read spans, the API)
 * see a round's values of a tag all at once. A round over every doctor
 * splits the records between two threads and builds the values anew; a
 * round over a few updates them in place.
 *
 * Expiry. A tag with windows gets, per doctor, the time its value may
 * next change without an event (due[]), and a heap entry (time, doctor,
 * tag); an entry whose time no longer equals due[] is stale and skipped.
 * The engine works the time out exactly in the pass that evaluates the
 * value (mr_engine_values' until: the oldest event a window counted
 * leaves it, a days_since grows by a day, a future-dated event comes into
 * a window), so scheduling costs no second look at the event lists.
 *
 * The catalogue's questions are answered in tagread.c; the state both
 * files share is in tags_int.h.
 */
#include "engine/tags.h"

#include <math.h>
#include <pthread.h>
#include <roaring/roaring.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/time.h"
#include "engine/dict.h"
#include "engine/evindex.h"
#include "engine/hcpdir.h"
#include "engine/profile.h"
#include "engine/tagdb.h"
#include "engine/tags_int.h"
#include "store/writer.h"

const char *mr_tag_cause_name(int cause)
{
	static const char *const names[] = { "load", "event", "expiry", "masterdata", "manual", "definition",
					     "recompute" };

	return cause >= 0 && cause <= MR_TC_RECOMPUTE ? names[cause] : "unknown";
}

static int64_t mr_tags_clock(struct mr_tags *t)
{
	return t->now ? t->now(t->now_arg) : mr_now_us();
}

struct mr_tag *mr_tag_at(const struct mr_tags *t, int64_t id)
{
	return id > 0 && id < t->nbyid ? t->byid[id] : NULL;
}

/* The live tag called name, or NULL. */
struct mr_tag *mr_tag_named(const struct mr_tags *t, const char *name)
{
	for (int i = 0; i < t->norder; i++) {
		struct mr_tag *g = t->byid[t->order[i]];

		if (strcmp(g->name, name) == 0)
			return g;
	}
	return NULL;
}

/* ------------------------------------------------------------ values */

static const char *const mr_bool_text[] = { NULL, "false", "true" };

/* Number text: whole numbers without a fraction, others with 7 significant digits (a float's). */
const char *mr_num_text(double d, char *buf, size_t n)
{
	if (d == floor(d) && fabs(d) < 1e15)
		snprintf(buf, n, "%.0f", d);
	else
		snprintf(buf, n, "%.7g", d);
	return buf;
}

const char *mr_tag_value_text(const struct mr_xval *v, char *buf, size_t n)
{
	switch (v->kind) {
	case MR_XV_BOOL: return v->num != 0 ? "true" : "false";
	case MR_XV_NUM: return mr_num_text(v->num, buf, n);
	case MR_XV_STR: return v->str;
	default: return NULL;
	}
}

/* Record id's value of g (within a read span or a round), as an mr_xval. */
void mr_tag_get(const struct mr_tag *g, uint32_t id, struct mr_xval *out)
{
	const struct mr_tagval *v = &g->v;

	out->kind = MR_XV_NULL;
	out->num = 0;
	out->str = NULL;
	if (!g->live || id >= v->cap)
		return;
	if (g->type == MR_XT_NUM) {
		if (!isnan(v->num[id])) {
			out->kind = MR_XV_NUM;
			out->num = v->num[id];
		}
	} else if (v->code[id]) {
		out->kind = g->type == MR_XT_BOOL ? MR_XV_BOOL : MR_XV_STR;
		out->num = v->code[id] == 2;
		out->str = g->type == MR_XT_STR && v->code[id] < v->ntexts ? v->texts[v->code[id]] : NULL;
	}
}

/* The text of code in v (booleans: "true" / "false"). */
const char *mr_tagval_text(const struct mr_tag *g, uint32_t code)
{
	if (!code)
		return NULL;
	if (g->type == MR_XT_BOOL)
		return code <= 2 ? mr_bool_text[code] : NULL;
	return code < g->v.ntexts ? g->v.texts[code] : NULL;
}

/* Sets up empty values of type for records below cap (all null). */
static void mr_tagval_init(struct mr_tagval *v, enum mr_xtype type, uint32_t cap, int timed, int manual)
{
	memset(v, 0, sizeof(*v));
	v->cap = cap;
	if (type == MR_XT_NUM) {
		v->num = mr_malloc((size_t)(cap ? cap : 1) * sizeof(*v->num));
		for (uint32_t i = 0; i < cap; i++)
			v->num[i] = NAN;
	} else {
		v->code = mr_calloc(cap ? cap : 1, sizeof(*v->code));
	}
	if (type == MR_XT_STR) {
		v->dict = mr_dict_new();
		v->texts = mr_calloc(1, sizeof(*v->texts));
		v->ntexts = 1;
	}
	if (timed)
		v->due = mr_calloc(cap ? cap : 1, sizeof(*v->due));
	if (manual && type == MR_XT_NUM) {
		v->raw_num = mr_malloc((size_t)(cap ? cap : 1) * sizeof(*v->raw_num));
		for (uint32_t i = 0; i < cap; i++)
			v->raw_num[i] = NAN;
	} else if (manual) {
		v->raw_code = mr_calloc(cap ? cap : 1, sizeof(*v->raw_code));
	}
}

static void mr_tagval_release(struct mr_tagval *v)
{
	for (uint32_t c = 0; c < v->nbm; c++) {
		if (v->bm[c])
			roaring_bitmap_free(v->bm[c]);
	}
	free(v->bm);
	free(v->code);
	free(v->num);
	free(v->texts);
	mr_dict_free(v->dict);
	free(v->due);
	free(v->raw_code);
	free(v->raw_num);
	memset(v, 0, sizeof(*v));
}

/* Grows an array of n elements of size sz to m, filling the new ones with fill (sz bytes). */
static void *mr_grow(void *p, uint32_t n, uint32_t m, size_t sz, const void *fill)
{
	char *q = mr_realloc(p, (size_t)m * sz);

	for (uint32_t i = n; i < m; i++)
		memcpy(q + (size_t)i * sz, fill, sz);
	return q;
}

/* Makes room for records below cap (under the write lock: arrays move). */
static void mr_tagval_reserve(struct mr_tagval *v, uint32_t cap)
{
	static const uint32_t zero32;
	static const int64_t zero64;
	const float nan_f = NAN;
	uint32_t m = v->cap ? v->cap : 1024;

	if (cap <= v->cap)
		return;
	while (m < cap)
		m *= 2;
	if (v->code)
		v->code = mr_grow(v->code, v->cap, m, sizeof(*v->code), &zero32);
	if (v->num)
		v->num = mr_grow(v->num, v->cap, m, sizeof(*v->num), &nan_f);
	if (v->due)
		v->due = mr_grow(v->due, v->cap, m, sizeof(*v->due), &zero64);
	if (v->raw_code)
		v->raw_code = mr_grow(v->raw_code, v->cap, m, sizeof(*v->raw_code), &zero32);
	if (v->raw_num)
		v->raw_num = mr_grow(v->raw_num, v->cap, m, sizeof(*v->raw_num), &nan_f);
	v->cap = m;
}

/* Extends texts[] to every code of the dictionary (v unpublished, or under the write lock). */
static void mr_tagval_sync_texts(struct mr_tagval *v)
{
	uint32_t n = mr_dict_size(v->dict) + 1;

	if (n <= v->ntexts)
		return;
	v->texts = mr_realloc(v->texts, (size_t)n * sizeof(*v->texts));
	for (uint32_t c = v->ntexts; c < n; c++)
		v->texts[c] = mr_dict_str(v->dict, c);
	v->ntexts = n;
}

/* Puts record id under code c's bitmap (0: none). */
static void mr_tagval_bm_add(struct mr_tagval *v, uint32_t c, uint32_t id)
{
	if (!c)
		return;
	if (c >= v->nbm) {
		v->bm = mr_realloc(v->bm, (size_t)(c + 1) * sizeof(roaring_bitmap_t *));
		memset(v->bm + v->nbm, 0, (size_t)(c + 1 - v->nbm) * sizeof(roaring_bitmap_t *));
		v->nbm = c + 1;
	}
	if (!v->bm[c])
		v->bm[c] = roaring_bitmap_create();
	roaring_bitmap_add(v->bm[c], id);
}

static void mr_tagval_bm_remove(struct mr_tagval *v, uint32_t c, uint32_t id)
{
	if (c && c < v->nbm && v->bm[c])
		roaring_bitmap_remove(v->bm[c], id);
}

/* Builds the bitmaps of v's codes from scratch (a whole round's values). */
static void mr_tagval_build_bitmaps(struct mr_tagval *v, uint32_t ncodes)
{
	uint32_t *count = mr_calloc(ncodes + 1, sizeof(*count)), *at = mr_calloc(ncodes + 1, sizeof(*at));
	uint32_t *ids, total = 0;

	for (uint32_t i = 0; i < v->cap; i++) {
		if (v->code[i] && v->code[i] <= ncodes)
			count[v->code[i]]++;
	}
	for (uint32_t c = 1; c <= ncodes; c++) {
		at[c] = total;
		total += count[c];
	}
	ids = mr_malloc((size_t)(total ? total : 1) * sizeof(*ids));
	for (uint32_t i = 0; i < v->cap; i++) {
		if (v->code[i] && v->code[i] <= ncodes)
			ids[at[v->code[i]]++] = i;
	}
	v->nbm = ncodes + 1;
	v->bm = mr_calloc(v->nbm, sizeof(roaring_bitmap_t *));
	for (uint32_t c = 1, start = 0; c <= ncodes; start += count[c], c++) {
		if (!count[c])
			continue;
		v->bm[c] = roaring_bitmap_create();
		roaring_bitmap_add_many(v->bm[c], count[c], ids + start);
		roaring_bitmap_run_optimize(v->bm[c]);
	}
	free(ids);
	free(count);
	free(at);
}

/* ------------------------------------------------------------ the expiry heap (under round_mu) */

static void mr_heap_up(struct mr_tagexp *h, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		struct mr_tagexp tmp;

		if (h[p].at <= h[i].at)
			break;
		tmp = h[p];
		h[p] = h[i];
		h[i] = tmp;
		i = p;
	}
}

static void mr_heap_down(struct mr_tagexp *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct mr_tagexp tmp;

		if (l < n && h[l].at < h[m].at)
			m = l;
		if (r < n && h[r].at < h[m].at)
			m = r;
		if (m == i)
			break;
		tmp = h[m];
		h[m] = h[i];
		h[i] = tmp;
		i = m;
	}
}

static void mr_heap_push(struct mr_tags *t, int64_t at, uint32_t hcp, int64_t tag)
{
	if (t->nheap == t->capheap) {
		t->capheap = t->capheap ? t->capheap * 2 : 1024;
		t->heap = mr_realloc(t->heap, t->capheap * sizeof(*t->heap));
	}
	t->heap[t->nheap] = (struct mr_tagexp){ at, hcp, (uint32_t)tag };
	mr_heap_up(t->heap, t->nheap++);
}

static struct mr_tagexp mr_heap_pop(struct mr_tags *t)
{
	struct mr_tagexp top = t->heap[0];

	t->heap[0] = t->heap[--t->nheap];
	mr_heap_down(t->heap, t->nheap, 0);
	return top;
}

/* Whether entry x still stands: its tag lives and the doctor's due time is x's. */
static int mr_heap_live(const struct mr_tags *t, const struct mr_tagexp *x)
{
	const struct mr_tag *g = mr_tag_at(t, x->tag);

	return g && g->live && g->v.due && x->hcp < g->v.cap && g->v.due[x->hcp] == x->at;
}

/* Builds the heap again from every tag's due times (drops stale entries). */
static void mr_heap_rebuild(struct mr_tags *t)
{
	t->nheap = 0;
	for (int i = 0; i < t->norder; i++) {
		const struct mr_tag *g = t->byid[t->order[i]];

		for (uint32_t id = 0; g->v.due && id < g->v.cap; id++) {
			if (!g->v.due[id])
				continue;
			if (t->nheap == t->capheap) {
				t->capheap = t->capheap ? t->capheap * 2 : 1024;
				t->heap = mr_realloc(t->heap, t->capheap * sizeof(*t->heap));
			}
			t->heap[t->nheap++] = (struct mr_tagexp){ g->v.due[id], id, (uint32_t)g->id };
		}
	}
	t->ndue = (int64_t)t->nheap;
	for (size_t i = t->nheap / 2; i-- > 0;)
		mr_heap_down(t->heap, t->nheap, i);
}

/* Tells the thread when the heap's first entry moved earlier than it waits for. */
static void mr_tags_kick_if_earlier(struct mr_tags *t)
{
	int64_t first = t->nheap ? t->heap[0].at : INT64_MAX;

	pthread_mutex_lock(&t->th_mu);
	if (t->running && first < t->waiting_until) {
		t->kick = 1;
		pthread_cond_signal(&t->th_cv);
	}
	pthread_mutex_unlock(&t->th_mu);
}

/* ------------------------------------------------------------ what a definition reads */

static void mr_meta_dep(struct mr_tags *t, struct mr_tag *g, const char *name)
{
	const struct mr_tag *d = mr_tag_named(t, strncmp(name, "tag.", 4) == 0 ? name + 4 : name);

	if (!d || d == g)
		return;
	for (int i = 0; i < g->ndeps; i++) {
		if (g->deps[i] == d->id)
			return;
	}
	g->deps = mr_realloc(g->deps, (size_t)(g->ndeps + 1) * sizeof(*g->deps));
	g->deps[g->ndeps++] = d->id;
}

/* Walks tree x of g's expression: the names and functions it uses. */
static void mr_meta_walk(struct mr_tags *t, struct mr_tag *g, const struct mr_xnode *x)
{
	switch (x->op) {
	case MR_XO_NAME:
		if (x->scope == MR_XS_EVENT) {
			if (strcmp(x->text, "rep") == 0 || strcmp(x->text, "rep.type") == 0)
				g->flags |= MR_TF_REPS;
			else if (strncmp(x->text, "content.", 8) == 0)
				g->flags |= MR_TF_CONTENT;
		} else if (strncmp(x->text, "hco.", 4) == 0) {
			g->flags |= MR_TF_HCO;
		} else if (strncmp(x->text, "owner.", 6) == 0) {
			g->flags |= MR_TF_REPS | MR_TF_TIMED; /* alignments start and end in time */
		} else if (mr_profile_attr_of(x->text) < 0 && strncmp(x->text, "consent.", 8) != 0) {
			mr_meta_dep(t, g, x->text);
		}
		return;
	case MR_XO_DAYS_SINCE:
		g->flags |= MR_TF_EVENTS | MR_TF_TIMED;
		break;
	case MR_XO_COUNT:
	case MR_XO_EXISTS:
	case MR_XO_SUM:
	case MR_XO_RATE:
	case MR_XO_TOP:
		g->flags |= MR_TF_EVENTS | MR_TF_TIMED;
		break;
	default:
		break;
	}
	for (int i = 0; i < x->n; i++)
		mr_meta_walk(t, g, x->kids[i]);
}

/* Clears what g's definition reads (before it is read again). */
static void mr_meta_clear(struct mr_tag *g)
{
	free(g->deps);
	g->deps = NULL;
	g->ndeps = 0;
	g->flags = 0;
}

/*
 * Orders the live tags so that each comes after the tags it names (a
 * cycle, which checks refuse, would be broken anywhere); under the write lock.
 */
static void mr_tags_order(struct mr_tags *t)
{
	unsigned char *mark = mr_calloc((size_t)t->nbyid + 1, 1); /* 1 visiting, 2 placed */
	int64_t *stack = mr_malloc((size_t)(t->nbyid + 1) * sizeof(*stack));
	int *next = mr_calloc((size_t)t->nbyid + 1, sizeof(*next));
	int n = 0;

	t->order = mr_realloc(t->order, (size_t)(t->nbyid + 1) * sizeof(*t->order));
	for (int64_t id = 1; id < t->nbyid; id++) {
		int sp = 0;

		if (!t->byid[id] || !t->byid[id]->live || mark[id])
			continue;
		stack[sp++] = id;
		mark[id] = 1;
		while (sp) {
			struct mr_tag *g = t->byid[stack[sp - 1]];
			int64_t d = next[g->id] < g->ndeps ? g->deps[next[g->id]++] : 0;

			if (!d) {
				mark[g->id] = 2;
				t->order[n++] = g->id;
				sp--;
			} else if (mr_tag_at(t, d) && t->byid[d]->live && !mark[d]) {
				mark[d] = 1;
				stack[sp++] = d;
			}
		}
	}
	t->norder = n;
	/* reading events goes along the names */
	for (int i = 0; i < n; i++) {
		struct mr_tag *g = t->byid[t->order[i]];

		g->flags &= ~MR_TF_EVENTS_ALL;
		if (g->flags & MR_TF_EVENTS)
			g->flags |= MR_TF_EVENTS_ALL;
		for (int k = 0; k < g->ndeps; k++) {
			const struct mr_tag *d = mr_tag_at(t, g->deps[k]);

			if (d && d->live && (d->flags & MR_TF_EVENTS_ALL))
				g->flags |= MR_TF_EVENTS_ALL;
		}
	}
	free(mark);
	free(stack);
	free(next);
}

/* ------------------------------------------------------------ evaluating */

/* One tag over some doctors: what a worker works out. */
struct mr_tagjob {
	struct mr_tags *t;
	const struct mr_tag *g;
	const struct mr_eplan *plan; /* NULL: manual (the raw values) or not compiling (null) */
	const uint32_t *ids;         /* live records */
	uint32_t n;
	int64_t as_of;
	struct mr_dict *dict;        /* texts go in here */
	uint32_t *code;              /* out, by position: booleans, texts */
	float *num;                  /* out: numbers */
	int64_t *due;                /* out: timed tags (0: nothing due); NULL otherwise */
	int rc;
	struct mr_err err;
	pthread_t thread;
};

/* Texts by pointer: the engine hands out its dictionaries' strings, so most repeat exactly. */
struct mr_pcache {
	const char *p[MR_TAGS_PCACHE];
	uint32_t code[MR_TAGS_PCACHE];
};

static uint32_t mr_pcache_code(struct mr_pcache *pc, struct mr_dict *d, const char *s)
{
	size_t slot = ((uintptr_t)s >> 3) % MR_TAGS_PCACHE;

	if (pc->p[slot] != s) {
		pc->p[slot] = s;
		pc->code[slot] = mr_dict_add(d, s);
	}
	return pc->code[slot];
}

/* Turns the engine's values into codes or numbers. */
static void mr_tagjob_convert(struct mr_tagjob *j, const struct mr_xval *xv)
{
	struct mr_pcache *pc = mr_calloc(1, sizeof(*pc));

	for (uint32_t i = 0; i < j->n; i++) {
		const struct mr_xval *v = &xv[i];

		switch (j->g->type) {
		case MR_XT_NUM:
			j->num[i] = v->kind == MR_XV_NUM ? (float)v->num : NAN;
			break;
		case MR_XT_BOOL:
			j->code[i] = v->kind == MR_XV_BOOL ? (v->num != 0 ? 2 : 1) : 0;
			break;
		default:
			j->code[i] = v->kind == MR_XV_STR && v->str ? mr_pcache_code(pc, j->dict, v->str) : 0;
			break;
		}
	}
	free(pc);
}

/* A manual tag's values: what people set. */
static void mr_tagjob_raw(struct mr_tagjob *j)
{
	const struct mr_tagval *v = &j->g->v;

	for (uint32_t i = 0; i < j->n; i++) {
		uint32_t id = j->ids[i];

		if (j->num)
			j->num[i] = v->raw_num && id < v->cap ? v->raw_num[id] : NAN;
		else
			j->code[i] = v->raw_code && id < v->cap ? v->raw_code[id] : 0;
	}
}

/* A job without a plan: a manual tag's raw values, or nulls (its expression does not compile now). */
static void mr_tagjob_fill(struct mr_tagjob *j)
{
	if (j->g->kind == MR_TAG_MANUAL) {
		mr_tagjob_raw(j);
	} else {
		for (uint32_t i = 0; i < j->n; i++) {
			if (j->num)
				j->num[i] = NAN;
			else
				j->code[i] = 0;
		}
	}
	for (uint32_t i = 0; j->due && i < j->n; i++)
		j->due[i] = 0;
}

/* A worker's share of jobs over the same doctors: positions [from, to) of each. */
struct mr_tagpart {
	struct mr_tagjob *jobs;
	int njobs;
	uint32_t from, to;
	int rc;
	struct mr_err err;
	pthread_t thread;
};

/* Job j narrowed to positions [from, to). */
static void mr_tagjob_narrow(const struct mr_tagjob *j, uint32_t from, uint32_t to, struct mr_tagjob *out)
{
	*out = *j;
	out->ids = j->ids + from;
	out->n = to - from;
	out->code = j->code ? j->code + from : NULL;
	out->num = j->num ? j->num + from : NULL;
	out->due = j->due ? j->due + from : NULL;
}

/*
 * Evaluates the part's jobs: those with plans in one pass of the engine
 * (mr_engine_values_many: each doctor's events read once for all), with,
 * from the same pass, when each value may next change without an event.
 */
static void *mr_tagpart_run(void *arg)
{
	struct mr_tagpart *p = arg;
	struct mr_tagjob sub[MR_TAGS_BATCH];
	const struct mr_eplan *plans[MR_TAGS_BATCH];
	struct mr_xval *xv[MR_TAGS_BATCH];
	int64_t *until[MR_TAGS_BATCH];
	int at[MR_TAGS_BATCH], np = 0;
	struct mr_arena a;

	p->rc = 0;
	for (int k = 0; k < p->njobs; k++) {
		mr_tagjob_narrow(&p->jobs[k], p->from, p->to, &sub[k]);
		if (!sub[k].plan) {
			mr_tagjob_fill(&sub[k]);
			continue;
		}
		plans[np] = sub[k].plan;
		xv[np] = mr_malloc((size_t)(sub[k].n ? sub[k].n : 1) * sizeof(**xv));
		until[np] = sub[k].due;
		at[np++] = k;
	}
	if (!np)
		return NULL;
	mr_arena_init(&a);
	p->rc = mr_engine_values_many(sub[at[0]].t->e, plans, np, sub[at[0]].ids, (int)(p->to - p->from), &a, xv,
				      until, &p->err);
	for (int q = 0; q < np; q++) {
		struct mr_tagjob *j = &sub[at[q]];

		if (p->rc == 0)
			mr_tagjob_convert(j, xv[q]);
		for (uint32_t i = 0; p->rc == 0 && j->due && i < j->n; i++)
			j->due[i] = j->due[i] == INT64_MAX ? 0 : j->due[i];
		free(xv[q]);
	}
	mr_arena_release(&a);
	return NULL;
}

/* Runs njobs jobs over the same n doctors, split between the threads when there are many. */
static int mr_tagjobs_split(struct mr_tagjob *jobs, int njobs, uint32_t n, struct mr_err *err)
{
	struct mr_tagpart part[MR_TAGS_THREADS];
	int nparts = n < MR_TAGS_SPLIT ? 1 : MR_TAGS_THREADS, rc = 0;
	uint32_t step = n / (uint32_t)nparts;

	for (int i = 0; i < nparts; i++) {
		memset(&part[i], 0, sizeof(part[i]));
		part[i].jobs = jobs;
		part[i].njobs = njobs;
		part[i].from = (uint32_t)i * step;
		part[i].to = i == nparts - 1 ? n : part[i].from + step;
		if (i > 0 && pthread_create(&part[i].thread, NULL, mr_tagpart_run, &part[i]) != 0)
			part[i].thread = 0;
	}
	mr_tagpart_run(&part[0]);
	for (int i = 1; i < nparts; i++) {
		if (part[i].thread)
			pthread_join(part[i].thread, NULL);
		else
			mr_tagpart_run(&part[i]);
	}
	for (int i = 0; i < nparts && rc == 0; i++) {
		if (part[i].rc < 0) {
			rc = part[i].rc;
			*err = part[i].err;
		}
	}
	return rc;
}

/* ------------------------------------------------------------ the change log */

/* A round's changes on their way to the writer. */
struct mr_taglog {
	struct mr_tags *t;
	struct mr_arena a;
	struct mr_tagdb_change *ch;
	int n, cap;
	const struct mr_tag *last;   /* the tag whose name was copied last, and the copy */
	const char *last_name;
};

static struct mr_taglog *mr_taglog_new(struct mr_tags *t)
{
	struct mr_taglog *l = mr_calloc(1, sizeof(*l));

	l->t = t;
	mr_arena_init(&l->a);
	return l;
}

static void mr_taglog_free(struct mr_taglog *l)
{
	if (!l)
		return;
	mr_arena_release(&l->a);
	free(l->ch);
	free(l);
}

static int mr_taglog_write(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_taglog *l = arg;

	return mr_tagdb_log(c, l->ch, l->n, err);
}

static void mr_taglog_done(void *arg, int rc, const struct mr_err *err)
{
	struct mr_taglog *l = arg;
	struct mr_tags *t = l->t;

	if (rc < 0) {
		atomic_fetch_add(&t->dropped, l->n);
		mr_log_warn("event=tag_log_failed changes=%d error=\"%s\"", l->n, err ? err->msg : "");
	} else {
		atomic_fetch_add(&t->logged_rows, l->n);
	}
	mr_taglog_free(l);
	if (rc == 0 && t->logged)
		t->logged(t->logged_arg);
}

/* Hands l to the writer (or drops it when nobody writes the log); l is gone after. */
static void mr_taglog_post(struct mr_tags *t, struct mr_taglog *l)
{
	if (!l || l->n == 0) {
		mr_taglog_free(l);
		return;
	}
	pthread_mutex_lock(&t->log_mu);
	if (t->writer) {
		mr_writer_post(t->writer, mr_taglog_write, l, mr_taglog_done, 0);
		l = NULL;
	}
	pthread_mutex_unlock(&t->log_mu);
	if (l) {
		atomic_fetch_add(&t->dropped, l->n);
		mr_taglog_free(l);
	}
}

/* Notes doctor hcp's change of g from old to new (texts); a full batch goes to the writer at once. */
static void mr_taglog_add(struct mr_taglog **lp, int64_t at, uint32_t hcp, const struct mr_tag *g,
			  const char *old, const char *new_value, int cause)
{
	struct mr_taglog *l = *lp;
	struct mr_tagdb_change *c;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->ch = mr_realloc(l->ch, (size_t)l->cap * sizeof(*l->ch));
	}
	if (l->last != g) {
		l->last = g;
		l->last_name = mr_arena_strdup(&l->a, g->name);
	}
	c = &l->ch[l->n++];
	c->at = at;
	c->hcp = hcp;
	c->tag = l->last_name;
	c->type = g->type;
	c->old = mr_arena_strdup(&l->a, old);
	c->new_value = mr_arena_strdup(&l->a, new_value);
	c->cause = cause;
	if (l->n >= MR_TAGS_LOG_BATCH) {
		struct mr_tags *t = l->t;

		mr_taglog_post(t, l);
		*lp = mr_taglog_new(t);
	}
}

/* ------------------------------------------------------------ rounds (under round_mu) */

/* What a round works with. */
struct mr_round {
	int64_t as_of;
	int cause;                   /* MR_TC_NONE, MR_TC_DEFINITION: nothing is logged */
	int full;                    /* every record */
	uint32_t cap;                /* records below this */
	uint32_t *live, nlive;       /* the doctors evaluated */
	uint32_t *dead, ndead;       /* records whose values become null */
	struct mr_taglog *log;
	int64_t evaluated, changes;
	int64_t eval_us, publish_us;  /* a full round's: evaluating (values and due times), building and swapping */
};

/* Whether a round of cause logs what changes: not the first computation, nor a definition's. */
static int mr_cause_logs(int cause)
{
	return cause != MR_TC_NONE && cause != MR_TC_DEFINITION;
}

/*
 * Whether a change of g is logged in round r: see mr_cause_logs; nor is a
 * manual tag's own change in a manual round (its transaction logged it).
 */
static int mr_round_logs(const struct mr_round *r, const struct mr_tag *g)
{
	return mr_cause_logs(r->cause) && !(r->cause == MR_TC_MANUAL && g->kind == MR_TAG_MANUAL);
}

/* Logs the change of record id from old to new codes / numbers, if they differ; 1 when they do. */
static int mr_round_diff(struct mr_round *r, const struct mr_tag *g, const struct mr_tagval *oldv, uint32_t id,
			 uint32_t oc, float on, const struct mr_tagval *newv, uint32_t nc, float nn)
{
	char ob[40], nb[40];
	const char *ot, *nt;

	(void)newv;
	if (g->type == MR_XT_NUM ? (isnan(on) ? isnan(nn) : on == nn) :
				   (g->type == MR_XT_BOOL ? oc == nc : (oc == 0 || nc == 0) ? oc == nc :
				    strcmp(oldv->texts[oc], newv->texts[nc]) == 0))
		return 0;
	r->changes++;
	if (!mr_round_logs(r, g))
		return 1;
	if (g->type == MR_XT_NUM) {
		ot = isnan(on) ? NULL : mr_num_text(on, ob, sizeof(ob));
		nt = isnan(nn) ? NULL : mr_num_text(nn, nb, sizeof(nb));
	} else if (g->type == MR_XT_BOOL) {
		ot = oc <= 2 ? mr_bool_text[oc] : NULL;
		nt = nc <= 2 ? mr_bool_text[nc] : NULL;
	} else {
		ot = oc ? oldv->texts[oc] : NULL;
		nt = nc ? newv->texts[nc] : NULL;
	}
	mr_taglog_add(&r->log, r->as_of, id, g, ot, nt, r->cause);
	return 1;
}

/* The values job of g over the round's live doctors, by position. */
static void mr_round_job(struct mr_tags *t, struct mr_round *r, const struct mr_tag *g, const struct mr_eplan *plan,
			 struct mr_dict *dict, struct mr_tagjob *j)
{
	memset(j, 0, sizeof(*j));
	j->t = t;
	j->g = g;
	j->plan = plan;
	j->ids = r->live;
	j->n = r->nlive;
	j->as_of = r->as_of;
	j->dict = dict;
	if (g->type == MR_XT_NUM)
		j->num = mr_malloc((size_t)(r->nlive ? r->nlive : 1) * sizeof(*j->num));
	else
		j->code = mr_malloc((size_t)(r->nlive ? r->nlive : 1) * sizeof(*j->code));
	if ((g->flags & MR_TF_TIMED) && plan)
		j->due = mr_malloc((size_t)(r->nlive ? r->nlive : 1) * sizeof(*j->due));
}

static void mr_round_job_free(struct mr_tagjob *j)
{
	free(j->code);
	free(j->num);
	free(j->due);
}

/* Scatters job j's values (by position) into nv (by record id). */
static void mr_round_scatter(const struct mr_round *r, const struct mr_tagjob *j, const int64_t *due,
			     struct mr_tagval *nv)
{
	for (uint32_t i = 0; i < r->nlive; i++) {
		uint32_t id = r->live[i];

		if (nv->num)
			nv->num[id] = j->num ? j->num[i] : NAN;
		else if (nv->code)
			nv->code[id] = j->code ? j->code[i] : 0;
		if (due && nv->due)
			nv->due[id] = due[i];
	}
}

/* Sets record id's value of g (under the write lock), bitmaps and due time included; 1 when it changed. */
static int mr_round_set(struct mr_tags *t, struct mr_round *r, struct mr_tag *g, uint32_t id, uint32_t nc, float nn,
			int64_t due)
{
	struct mr_tagval *v = &g->v;
	uint32_t oc = v->code ? v->code[id] : 0;
	float on = v->num ? v->num[id] : NAN;
	int changed = mr_round_diff(r, g, v, id, oc, on, v, nc, nn);

	if (v->num)
		v->num[id] = nn;
	if (v->code && oc != nc) {
		mr_tagval_bm_remove(v, oc, id);
		mr_tagval_bm_add(v, nc, id);
		v->code[id] = nc;
	}
	if (v->due && v->due[id] != due) {
		t->ndue += (due != 0) - (v->due[id] != 0);
		v->due[id] = due;
		if (due)
			mr_heap_push(t, due, id, g->id);
	}
	return changed;
}

/* The round's doctors' values of g worked out and set in place. */
static int mr_round_part_tag(struct mr_tags *t, struct mr_round *r, struct mr_tag *g, const struct mr_eplan *plan,
			     struct mr_err *err)
{
	struct mr_tagjob j;
	int rc;

	mr_round_job(t, r, g, plan, g->v.dict, &j);
	rc = mr_tagjobs_split(&j, 1, r->nlive, err);
	if (rc < 0) {
		mr_round_job_free(&j);
		return rc;
	}
	pthread_rwlock_wrlock(&t->lock);
	mr_tagval_reserve(&g->v, r->cap);
	if (g->v.dict)
		mr_tagval_sync_texts(&g->v);
	for (uint32_t i = 0; i < r->nlive; i++)
		mr_round_set(t, r, g, r->live[i], j.code ? j.code[i] : 0, j.num ? j.num[i] : NAN, j.due ? j.due[i] : 0);
	for (uint32_t i = 0; i < r->ndead; i++)
		mr_round_set(t, r, g, r->dead[i], 0, NAN, 0);
	pthread_rwlock_unlock(&t->lock);
	r->evaluated += r->nlive;
	mr_round_job_free(&j);
	return 0;
}

/* Whether g's expression names one of the tags gs. */
static int mr_tag_names_any(const struct mr_tag *g, struct mr_tag *const *gs, int n)
{
	for (int d = 0; d < g->ndeps; d++) {
		for (int k = 0; k < n; k++) {
			if (g->deps[d] == gs[k]->id)
				return 1;
		}
	}
	return 0;
}

/* Compiles g at the round's as_of into a (NULL plan: manual, or it does not compile now: g->error says why). */
static const struct mr_eplan *mr_round_plan(struct mr_tags *t, struct mr_round *r, struct mr_tag *g,
					    struct mr_arena *a)
{
	struct mr_eplan *plan = NULL;
	struct mr_xerr xe;
	struct mr_err err;
	char *why = NULL;

	if (g->kind == MR_TAG_MANUAL || !g->expr)
		return NULL;
	mr_err_clear(&err);
	if (mr_engine_compile(t->e, g->expr, strlen(g->expr), r->as_of, a, &plan, &xe, &err) < 0)
		why = mr_strdup(err.msg);
	else if (mr_eplan_type(plan) != g->type) {
		char msg[200];

		snprintf(msg, sizeof(msg), "its expression now gives a %s, not a %s: define it again",
			 mr_xtype_name(mr_eplan_type(plan)), mr_xtype_name(g->type));
		why = mr_strdup(msg);
		plan = NULL;
	}
	if (why || g->error) {
		pthread_rwlock_wrlock(&t->lock);
		free(g->error);
		g->error = why;
		pthread_rwlock_unlock(&t->lock);
	}
	return why ? NULL : plan;
}

static int mr_u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The round's doctors: every live record (ids NULL), or ids split into
 * the live ones and the others (merged, deleted: their values go).
 */
static void mr_round_doctors(struct mr_tags *t, struct mr_round *r, const uint32_t *ids, uint32_t n)
{
	uint32_t np;

	mr_profile_read_begin(t->pf);
	np = mr_profile_nhcps(t->pf);
	r->cap = np;
	if (!ids) {
		r->live = mr_malloc((size_t)(np ? np : 1) * sizeof(*r->live));
		r->dead = mr_malloc((size_t)(np ? np : 1) * sizeof(*r->dead));
		for (uint32_t id = 1; id < np; id++) {
			if (mr_profile_state(t->pf, id) == MR_PS_LIVE)
				r->live[r->nlive++] = id;
			else
				r->dead[r->ndead++] = id;
		}
	} else {
		uint32_t *s = mr_malloc((size_t)(n ? n : 1) * sizeof(*s));

		memcpy(s, ids, (size_t)n * sizeof(*s));
		qsort(s, n, sizeof(*s), mr_u32_cmp);
		r->live = mr_malloc((size_t)(n ? n : 1) * sizeof(*r->live));
		r->dead = mr_malloc((size_t)(n ? n : 1) * sizeof(*r->dead));
		for (uint32_t i = 0; i < n; i++) {
			if (!s[i] || (i && s[i] == s[i - 1]))
				continue;
			if (s[i] >= r->cap)
				r->cap = s[i] + 1;
			if (mr_profile_state(t->pf, s[i]) == MR_PS_LIVE)
				r->live[r->nlive++] = s[i];
			else
				r->dead[r->ndead++] = s[i];
		}
		free(s);
	}
	mr_profile_read_end(t->pf);
}

/* The tags a round evaluates: want (by id; NULL: every tag) and every tag that names one, in order. */
static unsigned char *mr_round_select(struct mr_tags *t, const unsigned char *want)
{
	unsigned char *sel = mr_calloc((size_t)t->nbyid + 1, 1);

	for (int i = 0; i < t->norder; i++) {
		struct mr_tag *g = t->byid[t->order[i]];

		sel[g->id] = !want || want[g->id];
		for (int k = 0; !sel[g->id] && k < g->ndeps; k++)
			sel[g->id] = g->deps[k] < t->nbyid && sel[g->deps[k]];
	}
	return sel;
}

/* Publishes job j's values of computed tag g, every record's, built into nv and swapped in. */
static void mr_round_full_publish(struct mr_tags *t, struct mr_round *r, struct mr_tag *g, struct mr_tagval *nv,
				  const struct mr_tagjob *j)
{
	struct mr_tagval *ov = &g->v;
	int64_t t0 = mr_mono_us();
	uint32_t top;

	mr_round_scatter(r, j, j->due, nv);
	if (nv->dict)
		mr_tagval_sync_texts(nv);
	if (nv->code)
		mr_tagval_build_bitmaps(nv, g->type == MR_XT_BOOL ? 2 : nv->ntexts - 1);
	r->evaluated += r->nlive;
	top = ov->cap > nv->cap ? ov->cap : nv->cap;
	for (uint32_t id = 0; mr_cause_logs(r->cause) && id < top; id++) {
		uint32_t oc = ov->code && id < ov->cap ? ov->code[id] : 0;
		uint32_t nc = nv->code && id < nv->cap ? nv->code[id] : 0;
		float on = ov->num && id < ov->cap ? ov->num[id] : NAN, nn = nv->num && id < nv->cap ? nv->num[id] : NAN;

		mr_round_diff(r, g, ov, id, oc, on, nv, nc, nn);
	}
	pthread_rwlock_wrlock(&t->lock);
	{
		struct mr_tagval tmp = *ov;

		*ov = *nv;
		*nv = tmp;
	}
	pthread_rwlock_unlock(&t->lock);
	r->publish_us += mr_mono_us() - t0;
}

/*
 * Every record's values of the computed tags gs (none naming another of
 * them) worked out in one pass and swapped in, tag by tag.
 */
static int mr_round_full_batch(struct mr_tags *t, struct mr_round *r, struct mr_tag *const *gs, int n,
			       struct mr_err *err)
{
	struct mr_tagval nv[MR_TAGS_BATCH];
	struct mr_tagjob j[MR_TAGS_BATCH];
	struct mr_arena a;
	int64_t t0 = mr_mono_us();
	int rc;

	mr_arena_init(&a);
	for (int k = 0; k < n; k++) {
		const struct mr_eplan *plan = mr_round_plan(t, r, gs[k], &a);

		mr_tagval_init(&nv[k], gs[k]->type, r->cap, (gs[k]->flags & MR_TF_TIMED) != 0, 0);
		mr_round_job(t, r, gs[k], plan, nv[k].dict, &j[k]);
	}
	rc = mr_tagjobs_split(j, n, r->nlive, err);
	r->eval_us += mr_mono_us() - t0;
	for (int k = 0; k < n; k++) {
		if (rc == 0)
			mr_round_full_publish(t, r, gs[k], &nv[k], &j[k]);
		mr_tagval_release(&nv[k]);
		mr_round_job_free(&j[k]);
	}
	mr_arena_release(&a);
	return rc;
}

/*
 * A round: evaluates the tags of want (and those naming them) for doctors
 * ids (NULL: everyone) at as_of, logging changes as cause. Called with
 * round_mu held.
 */
static int mr_tags_round(struct mr_tags *t, const uint32_t *ids, uint32_t n, const unsigned char *want, int cause,
			 int64_t as_of, struct mr_err *err)
{
	struct mr_round r;
	unsigned char *sel = mr_round_select(t, want);
	int ntags = 0, rc = 0;
	int64_t t0 = mr_mono_us();

	memset(&r, 0, sizeof(r));
	r.as_of = as_of;
	r.cause = cause;
	r.full = ids == NULL;
	r.log = mr_taglog_new(t);
	mr_round_doctors(t, &r, ids, n);
	for (int i = 0; rc == 0 && i < t->norder;) {
		struct mr_tag *g = t->byid[t->order[i]];
		struct mr_tag *batch[MR_TAGS_BATCH];
		int nb = 0;

		if (!sel[g->id]) {
			i++;
			continue;
		}
		if (!(r.full && g->kind == MR_TAG_COMPUTED)) {
			const struct mr_eplan *plan;
			struct mr_arena a;

			ntags++;
			mr_arena_init(&a);
			plan = mr_round_plan(t, &r, g, &a);
			rc = mr_round_part_tag(t, &r, g, plan, err);
			mr_arena_release(&a);
			i++;
			continue;
		}
		/* the computed tags that follow, up to one that names one of them: one pass for all */
		for (; i < t->norder && nb < MR_TAGS_BATCH; i++) {
			g = t->byid[t->order[i]];
			if (!sel[g->id])
				continue;
			if (g->kind != MR_TAG_COMPUTED || mr_tag_names_any(g, batch, nb))
				break;
			batch[nb++] = g;
		}
		ntags += nb;
		rc = mr_round_full_batch(t, &r, batch, nb, err);
	}
	if ((r.full && rc == 0) || t->nheap > 2 * (size_t)t->ndue + 4096)
		mr_heap_rebuild(t);
	t->st.heap = (int64_t)t->nheap;
	t->round_doctors = r.nlive;
	mr_log(MR_LOG_DEBUG, "event=tag_round cause=%s doctors=%u tags=%d changes=%lld heap=%zu eval_us=%lld"
	       " publish_us=%lld took_us=%lld", mr_tag_cause_name(cause), r.nlive, ntags,
	       (long long)r.changes, t->nheap, (long long)r.eval_us, (long long)r.publish_us,
	       (long long)(mr_mono_us() - t0));
	t->round_doctors = r.nlive;
	t->st.rounds++;
	t->st.evaluated += r.evaluated;
	t->st.changes += r.changes;
	mr_taglog_post(t, r.log);
	free(r.live);
	free(r.dead);
	free(sel);
	mr_tags_kick_if_earlier(t);
	return rc;
}

/* ------------------------------------------------------------ the engine's view */

static int mr_src_find(void *arg, const char *name, int *id, enum mr_xtype *type)
{
	struct mr_tags *t = arg;
	const struct mr_tag *g = mr_tag_named(t, name);

	if (!g)
		return 0;
	*id = (int)g->id;
	*type = g->type;
	return 1;
}

static void mr_src_read_begin(void *arg)
{
	struct mr_tags *t = arg;

	pthread_rwlock_rdlock(&t->lock);
}

static void mr_src_read_end(void *arg)
{
	struct mr_tags *t = arg;

	pthread_rwlock_unlock(&t->lock);
}

static void mr_src_value(void *arg, int id, uint32_t hcp, struct mr_xval *out)
{
	struct mr_tags *t = arg;
	const struct mr_tag *g = mr_tag_at(t, id);

	if (!g) {
		memset(out, 0, sizeof(*out));
		return;
	}
	mr_tag_get(g, hcp, out);
}

static const void *mr_src_bitmap(void *arg, int id, const char *value)
{
	struct mr_tags *t = arg;
	const struct mr_tag *g = mr_tag_at(t, id);
	uint32_t code = 0;

	if (!g || !g->live || g->type == MR_XT_NUM || !value)
		return NULL;
	if (g->type == MR_XT_BOOL)
		code = strcmp(value, "true") == 0 ? 2 : strcmp(value, "false") == 0 ? 1 : 0;
	else if (g->v.dict)
		code = mr_dict_find(g->v.dict, value);
	return code && code < g->v.nbm && g->v.bm[code] ? g->v.bm[code] : t->empty;
}

void mr_tags_source(struct mr_tags *t, struct mr_tagsrc *out)
{
	memset(out, 0, sizeof(*out));
	out->find = mr_src_find;
	out->read_begin = mr_src_read_begin;
	out->read_end = mr_src_read_end;
	out->value = mr_src_value;
	out->bitmap = mr_src_bitmap;
	out->arg = t;
}

/* ------------------------------------------------------------ definitions (under round_mu) */

static void mr_restr(char **dst, const char *src)
{
	free(*dst);
	*dst = src ? mr_strdup(src) : NULL;
}

/* Re-reads what each computed tag's expression reads (compiled now) and orders the tags again. */
static void mr_tags_refresh(struct mr_tags *t)
{
	int64_t as_of = mr_tags_clock(t);

	pthread_rwlock_wrlock(&t->lock);
	mr_tags_order(t);
	pthread_rwlock_unlock(&t->lock);
	for (int64_t id = 1; id < t->nbyid; id++) {
		struct mr_tag *g = t->byid[id], m;
		struct mr_eplan *plan = NULL;
		struct mr_xerr xe;
		struct mr_err err;
		struct mr_arena a;
		char *why = NULL;

		if (!g || !g->live || g->kind != MR_TAG_COMPUTED || !g->expr)
			continue;
		memset(&m, 0, sizeof(m));
		m.id = g->id;
		mr_arena_init(&a);
		mr_err_clear(&err);
		if (mr_engine_compile(t->e, g->expr, strlen(g->expr), as_of, &a, &plan, &xe, &err) < 0)
			why = mr_strdup(err.msg);
		else
			mr_meta_walk(t, &m, mr_eplan_tree(plan));
		mr_arena_release(&a);
		pthread_rwlock_wrlock(&t->lock);
		mr_meta_clear(g);
		g->flags = m.flags;
		g->deps = m.deps;
		g->ndeps = m.ndeps;
		free(g->error);
		g->error = why;
		pthread_rwlock_unlock(&t->lock);
	}
	pthread_rwlock_wrlock(&t->lock);
	mr_tags_order(t);
	pthread_rwlock_unlock(&t->lock);
}

/* Takes def in (no values worked out): a new slot, or the slot of its id updated. 1 when its values start over. */
static int mr_tags_take_def(struct mr_tags *t, const struct mr_tagdef *def)
{
	struct mr_tag *g = mr_tag_at(t, def->id);
	int fresh = !g || !g->live || g->kind != def->kind || g->type != def->type;
	uint32_t cap;

	mr_profile_read_begin(t->pf);
	cap = mr_profile_nhcps(t->pf);
	mr_profile_read_end(t->pf);
	pthread_rwlock_wrlock(&t->lock);
	if (def->id >= t->nbyid) {
		int64_t n = t->nbyid ? t->nbyid : 16;

		while (n <= def->id)
			n *= 2;
		t->byid = mr_realloc(t->byid, (size_t)n * sizeof(struct mr_tag *));
		memset(t->byid + t->nbyid, 0, (size_t)(n - t->nbyid) * sizeof(struct mr_tag *));
		t->nbyid = n;
	}
	if (!g) {
		g = mr_calloc(1, sizeof(*g));
		g->id = def->id;
		t->byid[def->id] = g;
	}
	if (fresh || !g->created_at) {
		mr_restr(&g->created_by, def->created_by);
		g->created_at = def->created_at;
	}
	g->live = 1;
	g->kind = def->kind;
	g->type = def->type;
	mr_restr(&g->name, def->name);
	mr_restr(&g->expr, def->kind == MR_TAG_MANUAL ? NULL : def->expr);
	mr_restr(&g->description, def->description);
	mr_restr(&g->category, def->category);
	mr_restr(&g->updated_by, def->updated_by);
	g->updated_at = def->updated_at;
	if (fresh) {
		mr_tagval_release(&g->v);
		mr_tagval_init(&g->v, g->type, cap, 0, g->kind == MR_TAG_MANUAL);
	}
	pthread_rwlock_unlock(&t->lock);
	return fresh;
}

/* Logs every value of g going (g deleted) and frees them. */
static void mr_tags_drop_values(struct mr_tags *t, struct mr_tag *g, int cause)
{
	struct mr_taglog *log = mr_taglog_new(t);
	int64_t at = mr_tags_clock(t);
	char buf[40];

	for (uint32_t id = 0; mr_cause_logs(cause) && id < g->v.cap; id++) {
		struct mr_xval v;
		const char *old;

		mr_tag_get(g, id, &v);
		old = mr_tag_value_text(&v, buf, sizeof(buf));
		if (old)
			mr_taglog_add(&log, at, id, g, old, NULL, cause);
	}
	mr_taglog_post(t, log);
	pthread_rwlock_wrlock(&t->lock);
	g->live = 0;
	mr_tagval_release(&g->v);
	pthread_rwlock_unlock(&t->lock);
}

/* The tags that name g (by id), as a selection by id; NULL when none. */
static unsigned char *mr_tags_users(struct mr_tags *t, const struct mr_tag *g)
{
	unsigned char *sel = NULL;

	for (int i = 0; i < t->norder; i++) {
		const struct mr_tag *u = t->byid[t->order[i]];

		for (int k = 0; k < u->ndeps; k++) {
			if (u->deps[k] != g->id)
				continue;
			if (!sel)
				sel = mr_calloc((size_t)t->nbyid + 1, 1);
			sel[u->id] = 1;
		}
	}
	return sel;
}

/* Deletes g: its values go (logged), the tags that named it are evaluated again. */
static void mr_tags_remove_locked(struct mr_tags *t, struct mr_tag *g, int cause)
{
	unsigned char *users = mr_tags_users(t, g);
	struct mr_err err;

	mr_tags_drop_values(t, g, cause);
	mr_tags_refresh(t);
	if (users && mr_tags_round(t, NULL, 0, users, cause, mr_tags_clock(t), &err) < 0)
		mr_log_warn("event=tag_round_failed error=\"%s\"", err.msg);
	free(users);
}

/* Takes def in and works out its values (and those of the tags naming it), logging as cause. */
static void mr_tags_put_locked(struct mr_tags *t, const struct mr_tagdef *def, int cause)
{
	struct mr_tag *old = mr_tag_named(t, def->name), *g;
	unsigned char *want;
	struct mr_err err;

	if (def->id <= 0 || def->id >= MR_TAGS_MAX_ID || def->type == MR_XT_NONE) {
		mr_log_warn("event=tag_skipped id=%lld reason=\"bad id or type\"", (long long)def->id);
		return;
	}
	if (old && old->id != def->id)
		mr_tags_drop_values(t, old, cause); /* replaced by a new row of another kind or type */
	mr_tags_take_def(t, def);
	mr_tags_refresh(t);
	g = mr_tag_at(t, def->id);
	want = mr_calloc((size_t)t->nbyid + 1, 1);
	want[g->id] = 1;
	if (mr_tags_round(t, NULL, 0, want, cause, mr_tags_clock(t), &err) < 0)
		mr_log_warn("event=tag_round_failed tag=%s error=\"%s\"", g->name, err.msg);
	free(want);
}

void mr_tags_apply_def(struct mr_tags *t, const struct mr_tagdef *def)
{
	pthread_mutex_lock(&t->round_mu);
	mr_tags_put_locked(t, def, MR_TC_DEFINITION);
	pthread_mutex_unlock(&t->round_mu);
}

void mr_tags_apply_delete(struct mr_tags *t, int64_t id)
{
	struct mr_tag *g;

	pthread_mutex_lock(&t->round_mu);
	g = mr_tag_at(t, id);
	if (g && g->live)
		mr_tags_remove_locked(t, g, MR_TC_DEFINITION);
	pthread_mutex_unlock(&t->round_mu);
}

void mr_tags_define_begin(struct mr_tags *t)
{
	pthread_mutex_lock(&t->def_mu);
}

void mr_tags_define_end(struct mr_tags *t)
{
	pthread_mutex_unlock(&t->def_mu);
}

/* ------------------------------------------------------------ checks */

/* Names a tag may not take: the language's words, and what the profile and events call things. */
static const char *const mr_tag_reserved[] = {
	"and", "or", "not", "in", "true", "false", "null",
	"count", "exists", "sum", "rate", "top", "days_since",
	"channel", "type", "outcome", "rep", "content", "campaign", "meeting", "duration_s", "weight",
	"hco", "owner", "consent", "tag", "feed", "recompute",
	NULL,
};

static int mr_tags_check_name(const char *name, struct mr_err *err)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > MR_TAG_NAME_MAX || name[0] < 'a' || name[0] > 'z')
		return mr_err_field(err, MR_EINVAL, "name", "a tag's name is a lower-case letter followed by at most"
				    " %d lower-case letters, digits or _ (such as wechat_engaged)", MR_TAG_NAME_MAX - 1);
	for (size_t i = 1; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return mr_err_field(err, MR_EINVAL, "name", "'%c' cannot be part of a tag's name: use lower-case"
					    " letters, digits and _", c);
	}
	for (int i = 0; mr_tag_reserved[i]; i++) {
		if (strcmp(mr_tag_reserved[i], name) == 0)
			return mr_err_field(err, MR_EINVAL, "name", "'%s' is a word of the expression language or an"
					    " event field; choose another name", name);
	}
	if (mr_profile_attr_of(name) >= 0)
		return mr_err_field(err, MR_EINVAL, "name", "'%s' is a profile attribute; a tag needs a name of its"
				    " own", name);
	return 0;
}

/* Whether from reaches tag id through the tags each names; fills path (names, " → ") when it does. */
static int mr_tags_reaches(struct mr_tags *t, int64_t from, int64_t id, int depth, char *path, size_t n)
{
	const struct mr_tag *g = mr_tag_at(t, from);

	if (!g || !g->live || depth > 64)
		return 0;
	if (from == id) {
		snprintf(path, n, "%s", g->name);
		return 1;
	}
	for (int k = 0; k < g->ndeps; k++) {
		if (mr_tags_reaches(t, g->deps[k], id, depth + 1, path, n)) {
			char tail[512];

			snprintf(tail, sizeof(tail), "%s", path);
			snprintf(path, n, "%s → %s", g->name, tail);
			return 1;
		}
	}
	return 0;
}

/* Compiles def's expression now: its type and the tags it names (in m). */
static int mr_tags_check_expr(struct mr_tags *t, struct mr_tagdef *def, struct mr_tag *m, struct mr_xerr *xe,
			      struct mr_err *err)
{
	struct mr_eplan *plan = NULL;
	struct mr_arena a;
	int rc;

	if (!def->expr || !*def->expr)
		return mr_err_field(err, MR_EINVAL, "expr", "\"expr\" is empty: give the expression, or leave it out"
				    " (null) and give \"type\" for a manual tag");
	mr_arena_init(&a);
	rc = mr_engine_compile(t->e, def->expr, strlen(def->expr), mr_tags_clock(t), &a, &plan, xe, err);
	if (rc == 0) {
		def->type = mr_eplan_type(plan);
		mr_meta_walk(t, m, mr_eplan_tree(plan));
	}
	mr_arena_release(&a);
	return rc;
}

/* The names of the tags using g (at most a few), for messages. */
static void mr_tags_users_text(struct mr_tags *t, const struct mr_tag *g, char *buf, size_t n)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < t->norder && used + 1 < n; i++) {
		const struct mr_tag *u = t->byid[t->order[i]];

		for (int k = 0; k < u->ndeps; k++) {
			if (u->deps[k] == g->id) {
				int w = snprintf(buf + used, n - used, "%s%s", used ? ", " : "", u->name);

				used += w > 0 ? (size_t)w : 0;
				break;
			}
		}
	}
}

int mr_tags_check(struct mr_tags *t, struct mr_tagdef *def, struct mr_xerr *xe, struct mr_err *err)
{
	struct mr_tag m, *old;
	char path[600], users[400];
	int rc = mr_tags_check_name(def->name, err);

	memset(xe, 0, sizeof(*xe));
	memset(&m, 0, sizeof(m));
	if (rc < 0)
		return rc;
	old = mr_tag_named(t, def->name);
	m.id = old ? old->id : -1;
	if (def->kind == MR_TAG_MANUAL) {
		if (def->type != MR_XT_BOOL && def->type != MR_XT_NUM && def->type != MR_XT_STR)
			return mr_err_field(err, MR_EINVAL, "type", "a manual tag (no \"expr\") needs \"type\": boolean,"
					    " number or text");
	} else if ((rc = mr_tags_check_expr(t, def, &m, xe, err)) < 0) {
		return rc;
	}
	for (int k = 0; old && k < m.ndeps; k++) {
		if (mr_tags_reaches(t, m.deps[k], old->id, 0, path, sizeof(path))) {
			rc = mr_err_field(err, MR_EINVAL, "expr", "tag %s would name itself through other tags (%s → %s):"
					  " a tag cannot depend on its own value", def->name, def->name, path);
			break;
		}
	}
	free(m.deps);
	if (rc == 0 && old && old->type != def->type) {
		mr_tags_users_text(t, old, users, sizeof(users));
		if (*users)
			rc = mr_err_set(err, MR_ECONFLICT, "tag %s is a %s and %s use it as one; it cannot become a %s"
					" while they do", def->name, mr_xtype_name(old->type), users,
					mr_xtype_name(def->type));
	}
	return rc;
}

int mr_tags_check_delete(struct mr_tags *t, const char *name, int64_t *id, struct mr_err *err)
{
	const struct mr_tag *g = mr_tag_named(t, name);
	char users[400];

	if (!g)
		return mr_err_set(err, MR_ENOTFOUND, "there is no tag called %.64s", name);
	*id = g->id;
	mr_tags_users_text(t, g, users, sizeof(users));
	if (*users)
		return mr_err_set(err, MR_ECONFLICT, "tag %s is used by %s; change or delete those first", name, users);
	return 0;
}

/* ------------------------------------------------------------ manual values */

void mr_tags_manual_begin(struct mr_tags *t)
{
	pthread_mutex_lock(&t->manual_mu);
}

void mr_tags_manual_end(struct mr_tags *t)
{
	pthread_mutex_unlock(&t->manual_mu);
}

/* The live record a record's values are read at: itself, or the survivor it was merged into. */
uint32_t mr_tags_survivor(struct mr_tags *t, uint32_t id)
{
	mr_profile_read_begin(t->pf);
	for (int hops = 0; hops < 16 && mr_profile_state(t->pf, id) == MR_PS_MERGED &&
			   mr_profile_merged_into(t->pf, id); hops++)
		id = mr_profile_merged_into(t->pf, id);
	mr_profile_read_end(t->pf);
	return id;
}

/* value as g's type would hold it, canonical (into buf); MR_EINVAL when it is not one. */
static int mr_tags_canon(const struct mr_tag *g, const char *value, char *buf, size_t n, const char **out,
			 struct mr_err *err)
{
	char *end = NULL;
	double d;

	*out = NULL;
	if (!value)
		return 0;
	switch (g->type) {
	case MR_XT_BOOL:
		if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
			return mr_err_field(err, MR_EINVAL, "value", "tag %s is a boolean: true, false or null", g->name);
		*out = value;
		return 0;
	case MR_XT_NUM:
		d = strtod(value, &end);
		if (!*value || !end || *end || !isfinite(d) || fabs(d) > 3e38)
			return mr_err_field(err, MR_EINVAL, "value", "tag %s is a number: a number or null", g->name);
		*out = mr_num_text((float)d, buf, n);
		return 0;
	default:
		if (!*value || strlen(value) > 4 * MR_TAG_TEXT_MAX)
			return mr_err_field(err, MR_EINVAL, "value", "tag %s is a text of 1 to %d characters, or null",
					    g->name, MR_TAG_TEXT_MAX);
		*out = value;
		return 0;
	}
}

int mr_tags_manual_check(struct mr_tags *t, const char *name, uint32_t *hcp, const char *value,
			 struct mr_arena *a, struct mr_tag_value *old, const char **canon, struct mr_err *err)
{
	const struct mr_tag *g;
	char buf[48], vb[48];
	int rc;

	*hcp = mr_tags_survivor(t, *hcp);
	pthread_rwlock_rdlock(&t->lock);
	g = mr_tag_named(t, name);
	if (!g) {
		pthread_rwlock_unlock(&t->lock);
		return mr_err_set(err, MR_ENOTFOUND, "there is no tag called %.64s", name);
	}
	if (g->kind != MR_TAG_MANUAL) {
		pthread_rwlock_unlock(&t->lock);
		return mr_err_set(err, MR_ECONFLICT, "tag %s is computed from its expression; only manual tags are"
				  " set by hand", name);
	}
	rc = mr_tags_canon(g, value, buf, sizeof(buf), canon, err);
	if (rc == 0) {
		old->id = g->id;
		old->name = mr_arena_strdup(a, g->name);
		old->kind = g->kind;
		old->type = g->type;
		mr_tag_get(g, *hcp, &old->v);
		old->v.str = mr_arena_strdup(a, mr_tag_value_text(&old->v, vb, sizeof(vb)));
		*canon = mr_arena_strdup(a, *canon);
	}
	pthread_rwlock_unlock(&t->lock);
	return rc;
}

/* Sets what people set for record hcp of manual tag g (the raw value; published by a round). */
static void mr_tags_set_raw(struct mr_tags *t, struct mr_tag *g, uint32_t hcp, const char *value)
{
	struct mr_tagval *v = &g->v;

	pthread_rwlock_wrlock(&t->lock);
	mr_tagval_reserve(v, hcp + 1);
	if (g->type == MR_XT_NUM) {
		v->raw_num[hcp] = value ? strtof(value, NULL) : NAN;
	} else if (g->type == MR_XT_BOOL) {
		v->raw_code[hcp] = !value ? 0 : strcmp(value, "true") == 0 ? 2 : 1;
	} else {
		v->raw_code[hcp] = value ? mr_dict_add(v->dict, value) : 0;
		mr_tagval_sync_texts(v);
	}
	pthread_rwlock_unlock(&t->lock);
}

void mr_tags_apply_manual(struct mr_tags *t, uint32_t hcp, int64_t id, const char *value)
{
	struct mr_tag *g;
	struct mr_err err;

	pthread_mutex_lock(&t->round_mu);
	g = mr_tag_at(t, id);
	if (g && g->live && g->kind == MR_TAG_MANUAL) {
		unsigned char *want = mr_calloc((size_t)t->nbyid + 1, 1);

		mr_tags_set_raw(t, g, hcp, value);
		want[id] = 1;
		if (mr_tags_round(t, &hcp, 1, want, MR_TC_MANUAL, mr_tags_clock(t), &err) < 0)
			mr_log_warn("event=tag_round_failed tag=%s error=\"%s\"", g->name, err.msg);
		free(want);
	}
	pthread_mutex_unlock(&t->round_mu);
}

/* ------------------------------------------------------------ loading and following the store */

static void mr_tags_def_cb(void *arg, const struct mr_tagdef *d)
{
	struct mr_tags *t = arg;

	if (d->id <= 0 || d->id >= MR_TAGS_MAX_ID || d->type == MR_XT_NONE || !d->name) {
		mr_log_warn("event=tag_skipped id=%lld reason=\"bad id, name or type\"", (long long)d->id);
		return;
	}
	mr_tags_take_def(t, d);
}

/* Manual rows read from the store: the raw values set, and which (doctor, tag) they touched. */
struct mr_manual_read {
	struct mr_tags *t;
	uint32_t *hcps;
	uint32_t n, cap;
	unsigned char *want;
};

static void mr_tags_manual_cb(void *arg, int64_t hcp, int64_t tag, const char *value)
{
	struct mr_manual_read *m = arg;
	struct mr_tag *g = mr_tag_at(m->t, tag);
	char buf[48];
	const char *canon = NULL;
	struct mr_err err;

	if (!g || !g->live || g->kind != MR_TAG_MANUAL || hcp <= 0 || hcp > UINT32_MAX - 1 ||
	    mr_tags_canon(g, value, buf, sizeof(buf), &canon, &err) < 0)
		return;
	mr_tags_set_raw(m->t, g, (uint32_t)hcp, canon);
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->hcps = mr_realloc(m->hcps, (size_t)m->cap * sizeof(*m->hcps));
	}
	m->hcps[m->n++] = (uint32_t)hcp;
	if (m->want)
		m->want[tag] = 1;
}

int mr_tags_load(struct mr_tags *t, struct mr_conn *c, struct mr_err *err)
{
	struct mr_manual_read m = { t, NULL, 0, 0, NULL };
	int64_t t0 = mr_mono_us();
	int rc;

	pthread_mutex_lock(&t->def_mu);
	pthread_mutex_lock(&t->round_mu);
	rc = mr_tagdb_defs_version(c, &t->defs_version, err);
	if (rc == 0)
		rc = mr_tagdb_defs(c, mr_tags_def_cb, t, err);
	if (rc == 0)
		mr_tags_refresh(t);
	if (rc == 0)
		rc = mr_tagdb_manual(c, 0, mr_tags_manual_cb, &m, &t->manual_last, err);
	if (rc == 0)
		rc = mr_tagdb_head(c, &t->head_seen, err);
	if (rc == 0)
		rc = mr_tags_round(t, NULL, 0, NULL, MR_TC_NONE, mr_tags_clock(t), err);
	if (rc == 0) {
		t->st.load_us = mr_mono_us() - t0;
		atomic_store(&t->ready, 1);
		mr_log_info("event=tags_loaded tags=%d evaluated=%lld heap=%lld took_ms=%lld", t->norder,
			    (long long)t->st.evaluated, (long long)t->nheap, (long long)(t->st.load_us / 1000));
	}
	pthread_mutex_unlock(&t->round_mu);
	pthread_mutex_unlock(&t->def_mu);
	free(m.hcps);
	return rc;
}

int mr_tags_ready(struct mr_tags *t)
{
	return atomic_load(&t->ready);
}

int mr_tags_wait_ready(struct mr_tags *t, int64_t deadline_us)
{
	while (!mr_tags_ready(t) && mr_mono_us() < deadline_us) {
		struct timespec ts = { 0, 10 * 1000000L };

		nanosleep(&ts, NULL);
	}
	return mr_tags_ready(t);
}

/* A stored definition as the store holds it (copied), for comparing with memory. */
struct mr_defs_read {
	struct mr_tagdef *d;
	int n, cap;
	struct mr_arena a;
};

static void mr_tags_defs_copy_cb(void *arg, const struct mr_tagdef *d)
{
	struct mr_defs_read *r = arg;
	struct mr_tagdef *x;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->d = mr_realloc(r->d, (size_t)r->cap * sizeof(*r->d));
	}
	x = &r->d[r->n++];
	*x = *d;
	x->name = mr_arena_strdup(&r->a, d->name);
	x->expr = mr_arena_strdup(&r->a, d->expr);
	x->description = mr_arena_strdup(&r->a, d->description);
	x->category = mr_arena_strdup(&r->a, d->category);
	x->created_by = mr_arena_strdup(&r->a, d->created_by);
	x->updated_by = mr_arena_strdup(&r->a, d->updated_by);
}

static int mr_str_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Applies the store's definitions that differ from memory's (another node changed them). */
static void mr_tags_sync_defs(struct mr_tags *t, const struct mr_defs_read *r)
{
	for (int i = 0; i < r->n; i++) {
		const struct mr_tagdef *d = &r->d[i];
		const struct mr_tag *g = mr_tag_at(t, d->id);

		if (g && g->live && g->kind == d->kind && g->type == d->type && g->updated_at == d->updated_at &&
		    mr_str_same(g->expr, d->kind == MR_TAG_MANUAL ? NULL : d->expr))
			continue;
		mr_tags_put_locked(t, d, MR_TC_DEFINITION);
	}
	for (int64_t id = 1; id < t->nbyid; id++) {
		struct mr_tag *g = t->byid[id];
		int stored = 0;

		for (int i = 0; g && g->live && i < r->n && !stored; i++)
			stored = r->d[i].id == id;
		if (g && g->live && !stored)
			mr_tags_remove_locked(t, g, MR_TC_DEFINITION);
	}
}

int mr_tags_sync(struct mr_tags *t, struct mr_conn *c, struct mr_err *err)
{
	struct mr_manual_read m = { t, NULL, 0, 0, NULL };
	int64_t version = 0, head = 0;
	int rc;

	if (!mr_tags_ready(t))
		return 0;
	rc = mr_tagdb_defs_version(c, &version, err);
	if (rc == 0 && version != t->defs_version) {
		struct mr_defs_read r;

		memset(&r, 0, sizeof(r));
		mr_arena_init(&r.a);
		pthread_mutex_lock(&t->def_mu);
		pthread_mutex_lock(&t->round_mu);
		rc = mr_tagdb_defs(c, mr_tags_defs_copy_cb, &r, err);
		if (rc == 0) {
			mr_tags_sync_defs(t, &r);
			t->defs_version = version;
		}
		pthread_mutex_unlock(&t->round_mu);
		pthread_mutex_unlock(&t->def_mu);
		free(r.d);
		mr_arena_release(&r.a);
	}
	if (rc == 0) {
		pthread_mutex_lock(&t->round_mu);
		m.want = mr_calloc((size_t)t->nbyid + 1, 1);
		rc = mr_tagdb_manual(c, t->manual_last, mr_tags_manual_cb, &m, &t->manual_last, err);
		if (rc == 0 && m.n)
			rc = mr_tags_round(t, m.hcps, m.n, m.want, MR_TC_MANUAL, mr_tags_clock(t), err);
		pthread_mutex_unlock(&t->round_mu);
		free(m.want);
		free(m.hcps);
	}
	if (rc == 0)
		rc = mr_tagdb_head(c, &head, err);
	if (rc == 0 && head != t->head_seen) {
		t->head_seen = head;
		if (t->logged)
			t->logged(t->logged_arg);
	}
	return rc;
}

/* ------------------------------------------------------------ expiry and listeners */

int mr_tags_advance(struct mr_tags *t, int64_t now)
{
	uint32_t *ids = NULL, n = 0, cap = 0;
	unsigned char *want;
	int popped = 0;
	struct mr_err err;
	int64_t as_of = mr_tags_clock(t);

	pthread_mutex_lock(&t->round_mu);
	if (!mr_tags_ready(t) || !t->nheap || t->heap[0].at > now) {
		pthread_mutex_unlock(&t->round_mu);
		return 0;
	}
	want = mr_calloc((size_t)t->nbyid + 1, 1);
	while (t->nheap && t->heap[0].at <= now) {
		struct mr_tagexp x = mr_heap_pop(t);
		struct mr_tag *g;

		popped++;
		if (!mr_heap_live(t, &x))
			continue;
		g = t->byid[x.tag];
		g->v.due[x.hcp] = 0; /* taken: the round sets the next */
		t->ndue--;
		want[x.tag] = 1;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			ids = mr_realloc(ids, (size_t)cap * sizeof(*ids));
		}
		ids[n++] = x.hcp;
	}
	if (n && mr_tags_round(t, ids, n, want, MR_TC_EXPIRY, as_of > now ? as_of : now, &err) < 0)
		mr_log_warn("event=tag_expiry_failed error=\"%s\"", err.msg);
	pthread_mutex_unlock(&t->round_mu);
	free(want);
	free(ids);
	return popped;
}

int64_t mr_tags_next_expiry(struct mr_tags *t)
{
	int64_t at;

	pthread_mutex_lock(&t->round_mu);
	at = t->nheap ? t->heap[0].at : INT64_MAX;
	pthread_mutex_unlock(&t->round_mu);
	return at;
}

/* The tags that read events (directly or through tags they name), as a selection; NULL when none. */
static unsigned char *mr_tags_event_tags(struct mr_tags *t)
{
	unsigned char *want = NULL;

	for (int i = 0; i < t->norder; i++) {
		const struct mr_tag *g = t->byid[t->order[i]];

		if (!(g->flags & MR_TF_EVENTS_ALL))
			continue;
		if (!want)
			want = mr_calloc((size_t)t->nbyid + 1, 1);
		want[g->id] = 1;
	}
	return want;
}

/* An event round for records ids (their survivors'); round_mu held. */
static void mr_tags_event_round(struct mr_tags *t, uint32_t *ids, uint32_t n)
{
	unsigned char *want = mr_tags_event_tags(t);
	int64_t t0 = mr_mono_us();
	struct mr_err err;

	if (!want)
		return;
	for (uint32_t i = 0; i < n; i++)
		ids[i] = mr_tags_survivor(t, ids[i]);
	if (mr_tags_round(t, ids, n, want, MR_TC_EVENT, mr_tags_clock(t), &err) < 0)
		mr_log_warn("event=tag_round_failed what=events error=\"%s\"", err.msg);
	t->st.last_event_us = mr_mono_us() - t0;
	free(want);
}

/*
 * The event index's listener: the tags that read events, for the doctors
 * that got events, before the request that wrote them answers. A large
 * batch (an import) is handed to the thread instead, so that ingestion
 * does not wait for it; its tags follow within moments.
 */
static void mr_tags_heard(void *arg, const struct mr_evref *refs, int n)
{
	struct mr_tags *t = arg;
	uint32_t *ids;

	pthread_mutex_lock(&t->round_mu);
	if (!mr_tags_ready(t) || n <= 0) {
		pthread_mutex_unlock(&t->round_mu);
		return;
	}
	if (n > MR_TAGS_INLINE_MAX && t->running) {
		if (t->nlater + (uint32_t)n > t->caplater) {
			t->caplater = (t->nlater + (uint32_t)n) * 2;
			t->later = mr_realloc(t->later, (size_t)t->caplater * sizeof(*t->later));
		}
		for (int i = 0; i < n; i++)
			t->later[t->nlater++] = refs[i].hcp;
		pthread_mutex_unlock(&t->round_mu);
		pthread_mutex_lock(&t->th_mu);
		t->kick = 1;
		pthread_cond_signal(&t->th_cv);
		pthread_mutex_unlock(&t->th_mu);
		return;
	}
	ids = mr_malloc((size_t)n * sizeof(*ids));
	for (int i = 0; i < n; i++)
		ids[i] = refs[i].hcp;
	mr_tags_event_round(t, ids, (uint32_t)n);
	pthread_mutex_unlock(&t->round_mu);
	free(ids);
}

/* The thread's part: the events of large batches handed over by the listener. */
static void mr_tags_catch_up(struct mr_tags *t)
{
	uint32_t *ids, n;

	pthread_mutex_lock(&t->round_mu);
	ids = t->later;
	n = t->nlater;
	t->later = NULL;
	t->nlater = t->caplater = 0;
	if (n)
		mr_tags_event_round(t, ids, n);
	pthread_mutex_unlock(&t->round_mu);
	free(ids);
}

/* Tags that read what flags say (hospitals, reps, content), as a selection; NULL when none. */
static unsigned char *mr_tags_reading(struct mr_tags *t, unsigned flags)
{
	unsigned char *want = NULL;

	for (int i = 0; i < t->norder; i++) {
		const struct mr_tag *g = t->byid[t->order[i]];

		if (!(g->flags & flags))
			continue;
		if (!want)
			want = mr_calloc((size_t)t->nbyid + 1, 1);
		want[g->id] = 1;
	}
	return want;
}

/* The directory's listener: changed doctors' tags; every doctor's tags that read what else changed. */
static void mr_tags_dir_changed(void *arg, struct mr_conn *c, const struct mr_hcpdir_change *ch)
{
	struct mr_tags *t = arg;
	unsigned flags = (ch->nhcos ? MR_TF_HCO : 0) | (ch->nreps ? MR_TF_REPS : 0) | (ch->content ? MR_TF_CONTENT : 0);
	struct mr_err err;
	int rc = 0;

	(void)c;
	pthread_mutex_lock(&t->round_mu);
	if (ch->all)
		atomic_store(&t->seen_dir, 1);
	if (mr_tags_ready(t) && ch->all) {
		rc = mr_tags_round(t, NULL, 0, NULL, MR_TC_MASTERDATA, mr_tags_clock(t), &err);
	} else if (mr_tags_ready(t)) {
		unsigned char *want = flags ? mr_tags_reading(t, flags) : NULL;
		uint32_t *ids = mr_malloc((size_t)(2 * ch->nhcps + 1) * sizeof(*ids)), n = 0;

		if (want)
			rc = mr_tags_round(t, NULL, 0, want, MR_TC_MASTERDATA, mr_tags_clock(t), &err);
		for (uint32_t i = 0; i < ch->nhcps; i++) {
			if (ch->hcps[i] <= 0 || ch->hcps[i] >= UINT32_MAX)
				continue;
			ids[n++] = (uint32_t)ch->hcps[i];
			ids[n++] = mr_tags_survivor(t, (uint32_t)ch->hcps[i]);
		}
		if (rc == 0 && n)
			rc = mr_tags_round(t, ids, n, NULL, MR_TC_MASTERDATA, mr_tags_clock(t), &err);
		free(ids);
		free(want);
	}
	if (rc < 0)
		mr_log_warn("event=tag_round_failed what=masterdata error=\"%s\"", err.msg);
	pthread_mutex_unlock(&t->round_mu);
}

void mr_tags_follow(struct mr_tags *t)
{
	mr_evindex_listen(t->x, mr_tags_heard, t);
	mr_hcpdir_listen(t->dir, mr_tags_dir_changed, t);
}

/* ------------------------------------------------------------ the thread */

void mr_tags_log_to(struct mr_tags *t, struct mr_writer *w, void (*fn)(void *arg), void *arg)
{
	pthread_mutex_lock(&t->log_mu);
	t->writer = w;
	if (w) {
		t->logged = fn;
		t->logged_arg = arg;
	}
	pthread_mutex_unlock(&t->log_mu);
}

/* Loads t once the projections are in; 1 when loaded. */
static int mr_tags_try_load(struct mr_tags *t)
{
	struct mr_conn *c = NULL;
	struct mr_err err;
	int rc;

	if (!mr_engine_ready(t->e) || !atomic_load(&t->seen_dir))
		return 0;
	mr_err_clear(&err);
	rc = mr_store_acquire(t->store, &c, &err);
	if (rc == 0) {
		rc = mr_tags_load(t, c, &err);
		mr_store_release(t->store, c);
	}
	if (rc < 0)
		mr_log_warn("event=tags_load_failed error=\"%s\"", err.msg);
	return rc == 0;
}

static void mr_tags_follow_store(struct mr_tags *t)
{
	struct mr_conn *c = NULL;
	struct mr_err err;

	mr_err_clear(&err);
	if (mr_store_acquire(t->store, &c, &err) < 0)
		return;
	if (mr_tags_sync(t, c, &err) < 0)
		mr_log_warn("event=follow_failed what=tags error=\"%s\"", err.msg);
	mr_store_release(t->store, c);
}

/* Sleeps until until (µs, the realtime clock), a kick or stop; th_mu held. */
static void mr_tags_sleep(struct mr_tags *t, int64_t until)
{
	struct timespec ts;

	t->waiting_until = until;
	if (t->kick || t->stop) {
		t->kick = 0;
		return;
	}
	ts.tv_sec = (time_t)(until / MR_US_PER_S);
	ts.tv_nsec = (long)(until % MR_US_PER_S) * 1000L;
	pthread_cond_timedwait(&t->th_cv, &t->th_mu, &ts);
	t->kick = 0;
	t->waiting_until = INT64_MAX;
}

static void *mr_tags_main(void *arg)
{
	struct mr_tags *t = arg;
	int64_t next_sync = 0;

	pthread_mutex_lock(&t->th_mu);
	while (!t->stop) {
		int64_t now, until;

		pthread_mutex_unlock(&t->th_mu);
		now = mr_now_us();
		if (!mr_tags_ready(t)) {
			mr_tags_try_load(t);
		} else {
			mr_tags_catch_up(t);
			mr_tags_advance(t, mr_tags_clock(t));
			if (now >= next_sync) {
				mr_tags_follow_store(t);
				next_sync = mr_now_us() + MR_TAGS_SYNC_MS * 1000;
			}
		}
		now = mr_now_us();
		until = mr_tags_ready(t) ? next_sync : now + MR_TAGS_IDLE_MS * 1000;
		if (mr_tags_ready(t)) {
			int64_t first = mr_tags_next_expiry(t);

			/* the heap is in the tags' clock; the wait, on the real one */
			if (first != INT64_MAX && first - mr_tags_clock(t) + now < until)
				until = first - mr_tags_clock(t) + now + 1;
		}
		pthread_mutex_lock(&t->th_mu);
		if (!t->stop)
			mr_tags_sleep(t, until);
	}
	pthread_mutex_unlock(&t->th_mu);
	return NULL;
}

void mr_tags_start(struct mr_tags *t, struct mr_store *store, struct mr_writer *w, void (*logged)(void *arg),
		   void *arg)
{
	t->store = store;
	mr_tags_log_to(t, w, logged, arg);
	pthread_mutex_lock(&t->th_mu);
	t->stop = 0;
	t->running = pthread_create(&t->thread, NULL, mr_tags_main, t) == 0;
	pthread_mutex_unlock(&t->th_mu);
	if (!t->running)
		mr_log_warn("event=tags_failed error=\"cannot start a thread\"");
}

void mr_tags_stop(struct mr_tags *t)
{
	int running;

	if (!t)
		return;
	pthread_mutex_lock(&t->th_mu);
	running = t->running;
	t->stop = 1;
	pthread_cond_signal(&t->th_cv);
	pthread_mutex_unlock(&t->th_mu);
	if (running)
		pthread_join(t->thread, NULL);
	pthread_mutex_lock(&t->th_mu);
	t->running = 0;
	pthread_mutex_unlock(&t->th_mu);
	mr_tags_log_to(t, NULL, NULL, NULL);
}

/* ------------------------------------------------------------ the rest */

int mr_tags_recompute(struct mr_tags *t, int *ntags, int64_t *nhcps, int64_t *took_us, struct mr_err *err)
{
	int64_t t0 = mr_mono_us();
	int rc;

	if (!mr_tags_ready(t))
		return mr_err_set(err, MR_EUNAVAIL, "the tags are still loading; try again in a moment");
	pthread_mutex_lock(&t->round_mu);
	t->recomputed_at = mr_tags_clock(t);
	rc = mr_tags_round(t, NULL, 0, NULL, MR_TC_RECOMPUTE, t->recomputed_at, err);
	*ntags = t->norder;
	*nhcps = t->round_doctors;
	pthread_mutex_unlock(&t->round_mu);
	*took_us = mr_mono_us() - t0;
	return rc;
}

int64_t mr_tags_recomputed_at(struct mr_tags *t)
{
	int64_t at;

	pthread_mutex_lock(&t->round_mu);
	at = t->recomputed_at;
	pthread_mutex_unlock(&t->round_mu);
	return at;
}

void mr_tags_stats(struct mr_tags *t, struct mr_tags_stats *out)
{
	pthread_mutex_lock(&t->round_mu);
	*out = t->st;
	out->ready = mr_tags_ready(t);
	out->tags = t->norder;
	out->heap = (int64_t)t->nheap;
	out->bytes = (int64_t)(t->capheap * sizeof(*t->heap));
	pthread_rwlock_rdlock(&t->lock);
	for (int i = 0; i < t->norder; i++) {
		const struct mr_tagval *v = &t->byid[t->order[i]]->v;

		out->bytes += (int64_t)v->cap * (int64_t)((v->code ? 4 : 0) + (v->num ? 4 : 0) + (v->due ? 8 : 0) +
							  (v->raw_code ? 4 : 0) + (v->raw_num ? 4 : 0));
		for (uint32_t c = 0; c < v->nbm; c++)
			out->bytes += v->bm[c] ? (int64_t)roaring_bitmap_portable_size_in_bytes(v->bm[c]) : 0;
	}
	pthread_rwlock_unlock(&t->lock);
	pthread_mutex_unlock(&t->round_mu);
	out->logged = atomic_load(&t->logged_rows);
	out->log_dropped = atomic_load(&t->dropped);
}

void mr_tags_set_clock(struct mr_tags *t, int64_t (*now)(void *arg), void *arg)
{
	t->now = now;
	t->now_arg = arg;
}

struct mr_tags *mr_tags_new(struct mr_engine *e, struct mr_hcpdir *dir, struct mr_evindex *x,
			    struct mr_profile *pf)
{
	struct mr_tags *t = mr_calloc(1, sizeof(*t));

	t->e = e;
	t->dir = dir;
	t->x = x;
	t->pf = pf;
	t->empty = roaring_bitmap_create();
	t->waiting_until = INT64_MAX;
	pthread_rwlock_init(&t->lock, NULL);
	pthread_mutex_init(&t->round_mu, NULL);
	pthread_mutex_init(&t->def_mu, NULL);
	pthread_mutex_init(&t->manual_mu, NULL);
	pthread_mutex_init(&t->log_mu, NULL);
	pthread_mutex_init(&t->th_mu, NULL);
	pthread_cond_init(&t->th_cv, NULL);
	atomic_init(&t->ready, 0);
	atomic_init(&t->seen_dir, 0);
	atomic_init(&t->logged_rows, 0);
	atomic_init(&t->dropped, 0);
	return t;
}

void mr_tags_free(struct mr_tags *t)
{
	if (!t)
		return;
	mr_tags_stop(t);
	for (int64_t id = 0; id < t->nbyid; id++) {
		struct mr_tag *g = t->byid[id];

		if (!g)
			continue;
		mr_tagval_release(&g->v);
		mr_meta_clear(g);
		free(g->name);
		free(g->expr);
		free(g->description);
		free(g->category);
		free(g->created_by);
		free(g->updated_by);
		free(g->error);
		free(g);
	}
	free(t->byid);
	free(t->order);
	free(t->heap);
	free(t->later);
	roaring_bitmap_free(t->empty);
	pthread_rwlock_destroy(&t->lock);
	pthread_mutex_destroy(&t->round_mu);
	pthread_mutex_destroy(&t->def_mu);
	pthread_mutex_destroy(&t->manual_mu);
	pthread_mutex_destroy(&t->log_mu);
	pthread_mutex_destroy(&t->th_mu);
	pthread_cond_destroy(&t->th_cv);
	free(t);
}
