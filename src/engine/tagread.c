/*
 * The tag store's answers to the catalogue and the profile (tags.h): a
 * doctor's tags, a tag's definition and counts, its distribution over a
 * scope. Each reads the values within the read span, so it sees every
 * tag as one round left it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "engine/profile.h"
#include "engine/tags_int.h"

/* ------------------------------------------------------------ reading */

uint32_t mr_tags_doctor(struct mr_tags *t, uint32_t id)
{
	return mr_tags_survivor(t, id);
}

int mr_tags_of_hcp(struct mr_tags *t, uint32_t hcp, struct mr_arena *a, struct mr_tag_value **out)
{
	struct mr_tag_value *v;
	int n = 0;

	hcp = mr_tags_survivor(t, hcp);
	pthread_rwlock_rdlock(&t->lock);
	v = mr_arena_alloc(a, (size_t)(t->norder ? t->norder : 1) * sizeof(*v));
	for (int64_t id = 1; id < t->nbyid; id++) {
		const struct mr_tag *g = t->byid[id];

		if (!g || !g->live)
			continue;
		v[n].id = g->id;
		v[n].name = mr_arena_strdup(a, g->name);
		v[n].kind = g->kind;
		v[n].type = g->type;
		mr_tag_get(g, hcp, &v[n].v);
		v[n].v.str = mr_arena_strdup(a, v[n].v.str);
		n++;
	}
	pthread_rwlock_unlock(&t->lock);
	*out = v;
	return n;
}

/* Live doctors in scope: count, and (when want) the map of them by record id (free it). */
static int64_t mr_tags_in_scope(struct mr_tags *t, const unsigned char *scope, uint32_t nscope, uint8_t **map,
				uint32_t *nmap)
{
	int64_t total = 0;
	uint32_t n;
	uint8_t *m;

	mr_profile_read_begin(t->pf);
	n = mr_profile_nhcps(t->pf);
	m = mr_calloc(n + 1, 1);
	for (uint32_t id = 1; id < n; id++) {
		if (mr_profile_state(t->pf, id) != MR_PS_LIVE || (scope && (id >= nscope || !scope[id])))
			continue;
		m[id] = 1;
		total++;
	}
	mr_profile_read_end(t->pf);
	*map = m;
	*nmap = n;
	return total;
}

/* g's counts over the doctors of map: with a value, true. */
static void mr_tag_counts(const struct mr_tag *g, const uint8_t *map, uint32_t nmap, int64_t *with, int64_t *yes)
{
	*with = 0;
	*yes = 0;
	for (uint32_t id = 0; id < nmap && id < g->v.cap; id++) {
		if (!map[id])
			continue;
		if (g->type == MR_XT_NUM) {
			*with += !isnan(g->v.num[id]);
		} else if (g->v.code[id]) {
			(*with)++;
			*yes += g->type == MR_XT_BOOL && g->v.code[id] == 2;
		}
	}
}

/* g as the catalogue shows it (within the read span). */
static void mr_tag_info_of(struct mr_tags *t, const struct mr_tag *g, const uint8_t *map, uint32_t nmap,
			   int64_t total, struct mr_arena *a, struct mr_tag_info *o)
{
	memset(o, 0, sizeof(*o));
	o->def.id = g->id;
	o->def.name = mr_arena_strdup(a, g->name);
	o->def.kind = g->kind;
	o->def.type = g->type;
	o->def.expr = mr_arena_strdup(a, g->expr);
	o->def.description = mr_arena_strdup(a, g->description);
	o->def.category = mr_arena_strdup(a, g->category);
	o->def.created_by = mr_arena_strdup(a, g->created_by);
	o->def.updated_by = mr_arena_strdup(a, g->updated_by);
	o->def.created_at = g->created_at;
	o->def.updated_at = g->updated_at;
	o->error = mr_arena_strdup(a, g->error);
	o->uses = mr_arena_alloc(a, (size_t)(g->ndeps + 1) * sizeof(*o->uses));
	for (int k = 0; k < g->ndeps; k++) {
		const struct mr_tag *d = mr_tag_at(t, g->deps[k]);

		if (d && d->live)
			o->uses[o->nuses++] = mr_arena_strdup(a, d->name);
	}
	o->used_by = mr_arena_alloc(a, (size_t)(t->norder + 1) * sizeof(*o->used_by));
	for (int i = 0; i < t->norder; i++) {
		const struct mr_tag *u = t->byid[t->order[i]];

		for (int k = 0; k < u->ndeps; k++) {
			if (u->deps[k] == g->id) {
				o->used_by[o->nused_by++] = mr_arena_strdup(a, u->name);
				break;
			}
		}
	}
	o->total = total;
	mr_tag_counts(g, map, nmap, &o->with_value, &o->n_true);
}

int mr_tags_get(struct mr_tags *t, const char *name, const unsigned char *scope, uint32_t nscope,
		struct mr_arena *a, struct mr_tag_info *out, struct mr_err *err)
{
	uint8_t *map = NULL;
	uint32_t nmap = 0;
	int64_t total = mr_tags_in_scope(t, scope, nscope, &map, &nmap);
	const struct mr_tag *g;
	int rc = 0;

	pthread_rwlock_rdlock(&t->lock);
	g = mr_tag_named(t, name);
	if (g)
		mr_tag_info_of(t, g, map, nmap, total, a, out);
	else
		rc = mr_err_set(err, MR_ENOTFOUND, "there is no tag called %.64s", name);
	pthread_rwlock_unlock(&t->lock);
	free(map);
	return rc;
}

int mr_tags_list(struct mr_tags *t, int64_t after, int max, const unsigned char *scope, uint32_t nscope,
		 struct mr_arena *a, struct mr_tag_info **out, int *n)
{
	uint8_t *map = NULL;
	uint32_t nmap = 0;
	int64_t total = mr_tags_in_scope(t, scope, nscope, &map, &nmap);

	*n = 0;
	pthread_rwlock_rdlock(&t->lock);
	*out = mr_arena_alloc(a, (size_t)(max > 0 ? max : 1) * sizeof(**out));
	for (int64_t id = after + 1; id > 0 && id < t->nbyid && *n < max; id++) {
		const struct mr_tag *g = t->byid[id];

		if (g && g->live)
			mr_tag_info_of(t, g, map, nmap, total, a, &(*out)[(*n)++]);
	}
	pthread_rwlock_unlock(&t->lock);
	free(map);
	return 0;
}

/* A number tag's spread over map: min, max, mean and about ten bins (one per value for few whole numbers). */
static void mr_tag_histogram(const struct mr_tag *g, const uint8_t *map, uint32_t nmap, struct mr_tag_dist *o)
{
	double sum = 0, width;
	int whole = 1;

	o->min = INFINITY;
	o->max = -INFINITY;
	for (uint32_t id = 0; id < nmap && id < g->v.cap; id++) {
		double d = g->v.num[id];

		if (!map[id] || isnan(g->v.num[id]))
			continue;
		o->count++;
		sum += d;
		o->min = d < o->min ? d : o->min;
		o->max = d > o->max ? d : o->max;
		whole &= d == floor(d);
	}
	if (!o->count) {
		o->min = o->max = 0;
		return;
	}
	o->mean = sum / (double)o->count;
	if (whole && o->max - o->min < MR_TAG_BINS)
		o->nbins = (int)(o->max - o->min) + 1;
	else
		o->nbins = o->max > o->min ? MR_TAG_BINS : 1;
	width = whole && o->max - o->min < MR_TAG_BINS ? 1 : (o->max - o->min) / o->nbins;
	for (int b = 0; b < o->nbins; b++) {
		o->bin_from[b] = o->min + b * width;
		o->bin_to[b] = whole && o->max - o->min < MR_TAG_BINS ? o->bin_from[b] : o->min + (b + 1) * width;
	}
	if (o->nbins > 1 && !(whole && o->max - o->min < MR_TAG_BINS))
		o->bin_to[o->nbins - 1] = o->max;
	for (uint32_t id = 0; id < nmap && id < g->v.cap; id++) {
		double d = g->v.num[id];
		int b;

		if (!map[id] || isnan(g->v.num[id]))
			continue;
		b = width > 0 ? (int)((d - o->min) / width) : 0;
		o->bin_count[b < 0 ? 0 : b >= o->nbins ? o->nbins - 1 : b]++;
	}
}

/* For sorting values: most doctors first, then by the text. */
struct mr_vcount {
	const char *text;
	int64_t count;
};

static int mr_vcount_cmp(const void *x, const void *y)
{
	const struct mr_vcount *a = x, *b = y;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return strcmp(a->text, b->text);
}

/* A boolean or text tag's values over map, most frequent first. */
static void mr_tag_values(const struct mr_tag *g, const uint8_t *map, uint32_t nmap, int max_values,
			  struct mr_arena *a, struct mr_tag_dist *o)
{
	uint32_t ncodes = g->type == MR_XT_BOOL ? 3 : g->v.ntexts;
	int64_t *count = mr_calloc(ncodes + 1, sizeof(*count)), with = 0;
	struct mr_vcount *vc = mr_calloc(ncodes + 1, sizeof(*vc));
	int n = 0;

	for (uint32_t id = 0; id < nmap && id < g->v.cap; id++) {
		if (map[id] && g->v.code[id] && g->v.code[id] < ncodes)
			count[g->v.code[id]]++;
	}
	for (uint32_t c = 1; c < ncodes; c++) {
		if (!count[c])
			continue;
		vc[n].text = mr_tagval_text(g, c);
		vc[n++].count = count[c];
		with += count[c];
	}
	qsort(vc, (size_t)n, sizeof(*vc), mr_vcount_cmp);
	o->values = mr_arena_alloc(a, (size_t)(n ? n : 1) * sizeof(*o->values));
	o->counts = mr_arena_alloc(a, (size_t)(n ? n : 1) * sizeof(*o->counts));
	for (int i = 0; i < n; i++) {
		if (i >= max_values) {
			o->other += vc[i].count;
			continue;
		}
		o->values[o->nvalues] = mr_arena_strdup(a, vc[i].text);
		o->counts[o->nvalues++] = vc[i].count;
	}
	o->nulls = o->total - with;
	free(count);
	free(vc);
}

int mr_tags_distribution(struct mr_tags *t, const char *name, const unsigned char *scope, uint32_t nscope,
			 int max_values, struct mr_arena *a, struct mr_tag_dist *out, struct mr_err *err)
{
	uint8_t *map = NULL;
	uint32_t nmap = 0;
	int64_t total = mr_tags_in_scope(t, scope, nscope, &map, &nmap);
	const struct mr_tag *g;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->total = total;
	pthread_rwlock_rdlock(&t->lock);
	g = mr_tag_named(t, name);
	if (!g) {
		rc = mr_err_set(err, MR_ENOTFOUND, "there is no tag called %.64s", name);
	} else {
		out->type = g->type;
		if (g->type == MR_XT_NUM) {
			mr_tag_histogram(g, map, nmap, out);
			out->nulls = total - out->count;
		} else {
			mr_tag_values(g, map, nmap, max_values, a, out);
		}
	}
	pthread_rwlock_unlock(&t->lock);
	free(map);
	return rc;
}

