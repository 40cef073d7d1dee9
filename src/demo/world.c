/*
 * The demo world generator (see world.h): a plan, then the rows.
 *
 * Planning decides everything in memory, in a fixed order, from seeded
 * streams of one small PRNG (splitmix64), one stream per concern so that a
 * change to how consents are drawn does not move a single doctor: which
 * hospitals each city has (data.c's templates in order of importance, a
 * mix of tertiary, secondary and community care that grows with the
 * world), how many doctors each has (more at tertiary hospitals), who they
 * are, which of them the company targets, and who covers them:
 *
 *   field reps   tertiary hospitals, and 2甲 hospitals in tier 1-3 cities,
 *                one rep per ~200 doctors of the world, placed where those
 *                doctors are: a city with enough of them gets its own reps,
 *                the rest of a province shares province-level reps, and a
 *                province with too few hands them to inside reps;
 *   inside reps  everything else that is targeted (county hospitals,
 *                community care, lower tiers), one per ~800 doctors, at
 *                region level; some field-covered juniors also get an
 *                inside owner (hybrid coverage);
 *   MSLs         KOLs (chiefs, and some associate chiefs of university and
 *                provincial hospitals, at tertiary hospitals), per region;
 *   KAMs         one per ~5,000 doctors, in the cities with most field work.
 *
 * Reps own whole (hospital, specialty) units, balanced greedily, so a
 * territory reads like a real one. Managers come before their teams in the
 * rows: a national sales director, a regional manager per region, a
 * first-line manager per up to eight field reps of a province; an inside
 * sales head with team leads; a medical (MSL) head outside the sales line.
 *
 * Emitting walks the plan and formats rows into fixed cells, so the only
 * allocation is the plan itself (about 100 bytes per doctor): 35,000
 * doctors take ~60 ms and 7 MB, 400,000 take ~0.8 s and 46 MB.
 *
 * Duplicates are second records of a doctor from the meeting platform
 * (MTG-…) or the WeChat service account (WX-…). md keeps phone, e-mail and
 * licence number unique across HCPs (they are identities), so a duplicate
 * never repeats the primary's: it carries the same name or a homophone,
 * the phone with a typo or a changed prefix in another format (or none), a
 * licence number one digit off (or none), its own channel identity, and
 * often no hospital, title or specialty — the evidence identity resolution
 * weighs. The primary then lacks that channel's identity.
 */
#include "demo/world.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "demo/data.h"

enum {
	MR_DW_MAXAREA = 24,
	MR_DW_MAXCOLS = 12,
	MR_DW_CELL = 512,
	MR_DW_MAX_HCPS = 5000000,
	MR_DW_MONTHS = 40,
};

#define MR_DW_HOUR_US (3600 * MR_US_PER_S)
#define MR_DW_DAY_US (24 * MR_DW_HOUR_US)

/* Per-HCP flags of the plan. */
enum {
	MR_DW_INACTIVE = 1u << 0,
	MR_DW_FIELD = 1u << 1,   /* field-covered */
	MR_DW_INSIDE = 1u << 2,  /* inside-covered */
	MR_DW_HYBRID = 1u << 3,  /* field-covered with an inside owner too */
	MR_DW_ENDED = 1u << 4,   /* that inside ownership has ended */
	MR_DW_KOL = 1u << 5,     /* aligned to an MSL */
	MR_DW_WECOM = 1u << 6,   /* identities the doctor has */
	MR_DW_UNION = 1u << 7,
	MR_DW_OPENID = 1u << 8,
	MR_DW_MTG = 1u << 9,
	MR_DW_EMAIL = 1u << 10,
};

/* Rep roles, in the rows' order within their line. */
enum mr_dw_role {
	MR_DW_NSD,   /* national sales director */
	MR_DW_RSM,   /* regional sales manager */
	MR_DW_FLM,   /* first-line manager */
	MR_DW_REP,   /* field rep */
	MR_DW_KAM,
	MR_DW_IHEAD, /* head of inside sales */
	MR_DW_ILEAD, /* inside team lead */
	MR_DW_INREP, /* inside rep */
	MR_DW_MHEAD, /* head of medical (MSLs) */
	MR_DW_MSL,
};

enum mr_dw_cover { MR_DW_COVER_FIELD, MR_DW_COVER_INSIDE, MR_DW_COVER_MSL };

struct mr_rng {
	uint64_t s;
};

struct mr_dw_set { /* a set of uint64 keys, open addressing */
	uint64_t *k;
	size_t mask;
};

struct mr_dw_terr {
	char id[64];
	char name[64];
	int parent;
};

struct mr_dw_city {
	int prov, region, terr;
	struct mr_slice univ[2], dist[MR_DW_MAXAREA], county[MR_DW_MAXAREA];
	int nuniv, ndist, ncounty;
	int hco0, nhco;
	int64_t nfield;  /* field-covered doctors */
	int fgroup;      /* field group, -1 */
};

struct mr_dw_hco {
	int city;
	short tpl, area, street, addr_dist, addr_no;
	unsigned char level, grade, field;
	double staff;
	int hcp0, nhcp;  /* its doctors: by_hco[hcp0 .. hcp0+nhcp) */
};

struct mr_dw_hcp {
	int hco;
	int rep[3];      /* by enum mr_dw_cover; -1 */
	int dup;         /* -1, 0 meeting, 1 WeChat */
	uint32_t phone;  /* the eight digits after the prefix */
	uint32_t lic;    /* the licence number's last eight digits */
	unsigned short surname, given[2], lic_year, flags;
	unsigned char nchars, spec, title, gender, pfx;
};

struct mr_dw_group { /* reps that share a territory and split its doctors */
	enum mr_dw_cover cover;
	int terr, prov, region;
	int nreps;
	int *reps;
};

struct mr_dw_rep {
	enum mr_dw_role role;
	int terr, manager;
};

struct mr_dw {
	const struct mr_demo_opts *o;
	const struct mr_demo_sink *sink;
	struct mr_demo_stats *st;
	struct mr_err *err;
	int64_t n;                       /* primary doctors */
	struct mr_dw_city *city;
	int *prov_region, *prov_terr, *region_terr;
	struct mr_dw_terr *terr;
	int nterr;
	struct mr_dw_hco *hco;
	int nhco, caphco;
	struct mr_dw_hcp *hcp;
	int *by_hco;
	struct mr_dw_group *group;
	int ngroup;
	struct mr_dw_rep *rep;
	int nrep;
	int *kam_city;
	int nkam;
	int surname_cum[128];
	int *pool[2];                    /* given-name indices usable for men [0] and women [1] */
	int npool[2];
	struct mr_dw_set phones, licences, emails;
	int64_t month[MR_DW_MONTHS];     /* local midnight of the 1st, k months before now's month */
	int now_year;
	int64_t evseq;                   /* consent evidence numbers */
	const char *v[MR_DW_MAXCOLS];
	char cell[MR_DW_MAXCOLS][MR_DW_CELL];
};

/* ---- random numbers: splitmix64 ---- */

static uint64_t mr_dw_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A stream of its own for each concern, all from the one seed. */
static void mr_rng_seed(struct mr_rng *r, uint64_t seed, uint64_t stream)
{
	r->s = mr_dw_mix(seed ^ mr_dw_mix(stream * 0x9e3779b97f4a7c15ULL + 0x51ed270b27a5ULL));
}

static uint64_t mr_rng_next(struct mr_rng *r)
{
	r->s += 0x9e3779b97f4a7c15ULL;
	return mr_dw_mix(r->s);
}

/* Uniform in [0, n). */
static int64_t mr_rng_below(struct mr_rng *r, int64_t n)
{
	double u = (double)(mr_rng_next(r) >> 11) * 0x1.0p-53;
	int64_t v = (int64_t)(u * (double)n);

	if (n <= 0)
		return 0;
	return v >= n ? n - 1 : v;
}

static int mr_rng_pct(struct mr_rng *r, int pct)
{
	return mr_rng_below(r, 100) < pct;
}

static double mr_rng_unit(struct mr_rng *r)
{
	return (double)(mr_rng_next(r) >> 11) * 0x1.0p-53;
}

/* An index drawn by the weights w[0..n). */
static int mr_rng_weighted(struct mr_rng *r, const int *w, int n)
{
	int64_t total = 0, x;

	for (int i = 0; i < n; i++)
		total += w[i];
	x = mr_rng_below(r, total);
	for (int i = 0; i < n; i++) {
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return n - 1;
}

/*
 * A bijection of [0, 10^8), keyed: a four-round Feistel network on two
 * halves of four decimal digits. Phone numbers and licence numbers come
 * from it, so they look random and are unique without a lookup.
 */
static uint32_t mr_dw_perm8(uint64_t key, uint32_t x)
{
	uint32_t l = x / 10000, r = x % 10000;

	for (uint64_t i = 0; i < 4; i++) {
		uint32_t f = (uint32_t)(mr_dw_mix(key + i * 0x632be59bd9b4e019ULL + r) % 10000);
		uint32_t nl = r;

		r = (l + f) % 10000;
		l = nl;
	}
	return l * 10000 + r;
}

/* ---- a set of uint64 keys ---- */

static void mr_dw_set_init(struct mr_dw_set *s, int64_t n)
{
	size_t cap = 64;

	while ((int64_t)cap < 2 * n + 64)
		cap <<= 1;
	s->k = mr_calloc(cap, sizeof(*s->k));
	s->mask = cap - 1;
}

/* Adds key; 1 when it was new, 0 when already there. */
static int mr_dw_set_add(struct mr_dw_set *s, uint64_t key)
{
	size_t i = (size_t)mr_dw_mix(key) & s->mask;

	key++; /* 0 marks a free slot */
	while (s->k[i]) {
		if (s->k[i] == key)
			return 0;
		i = (i + 1) & s->mask;
	}
	s->k[i] = key;
	return 1;
}

static uint64_t mr_dw_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* ---- geography and territories ---- */

static int mr_dw_find_region(const char *id)
{
	for (int i = 0; i < mr_demo_nregions; i++) {
		if (strcmp(mr_demo_regions[i].id, id) == 0)
			return i;
	}
	return -1;
}

static int mr_dw_find_prov(const char *code)
{
	for (int i = 0; i < mr_demo_nprovinces; i++) {
		if (strcmp(mr_demo_provinces[i].code, code) == 0)
			return i;
	}
	return -1;
}

/* Splits space-separated s into at most max slices; returns how many. */
static int mr_dw_split(const char *s, struct mr_slice *out, int max)
{
	int n = 0;

	while (*s && n < max) {
		const char *e;

		while (*s == ' ')
			s++;
		e = s;
		while (*e && *e != ' ')
			e++;
		if (e > s)
			out[n++] = (struct mr_slice){ s, (size_t)(e - s) };
		s = e;
	}
	return n;
}

static int mr_dw_add_terr(struct mr_dw *w, int parent, const char *name, const char *id)
{
	struct mr_dw_terr *t = &w->terr[w->nterr];
	size_t ni = strlen(id), nn = strlen(name);

	/* the tables' codes and names are short; the bounds are only a guard */
	ni = ni < sizeof(t->id) ? ni : sizeof(t->id) - 1;
	nn = nn < sizeof(t->name) ? nn : sizeof(t->name) - 1;
	memcpy(t->id, id, ni);
	memcpy(t->name, name, nn);
	t->parent = parent;
	return w->nterr++;
}

/* Adds the territories of province p of region r: the province, then its cities. */
static void mr_dw_plan_terr_prov(struct mr_dw *w, int r, int p)
{
	const struct mr_demo_province *pv = &mr_demo_provinces[p];
	char id[80], name[64];

	snprintf(id, sizeof(id), "T-%s-%s", mr_demo_regions[r].id, pv->code);
	w->prov_terr[p] = mr_dw_add_terr(w, w->region_terr[r], pv->name, id);
	for (int c = 0; c < mr_demo_ncities; c++) {
		if (w->city[c].prov != p)
			continue;
		if (pv->municipality) {
			w->city[c].terr = w->prov_terr[p];
			continue;
		}
		snprintf(id, sizeof(id), "%s-%s", w->terr[w->prov_terr[p]].id, mr_demo_cities[c].code);
		snprintf(name, sizeof(name), "%s市", mr_demo_cities[c].name);
		w->city[c].terr = mr_dw_add_terr(w, w->prov_terr[p], name, id);
	}
}

/* The territory tree: 全国, the regions, the provinces and the cities (a municipality is one node). */
static void mr_dw_plan_terr(struct mr_dw *w)
{
	char id[64], name[64];
	int n = 1 + mr_demo_nregions + mr_demo_nprovinces + mr_demo_ncities;

	w->terr = mr_calloc((size_t)n, sizeof(*w->terr));
	mr_dw_add_terr(w, -1, "全国", "T-CN");
	for (int r = 0; r < mr_demo_nregions; r++) {
		snprintf(id, sizeof(id), "T-%s", mr_demo_regions[r].id);
		snprintf(name, sizeof(name), "%s区", mr_demo_regions[r].name);
		w->region_terr[r] = mr_dw_add_terr(w, 0, name, id);
		for (int p = 0; p < mr_demo_nprovinces; p++) {
			if (w->prov_region[p] == r)
				mr_dw_plan_terr_prov(w, r, p);
		}
	}
}

/* Resolves the tables' codes to indices and checks what the plan relies on. */
static int mr_dw_plan_geo(struct mr_dw *w)
{
	w->city = mr_calloc((size_t)mr_demo_ncities, sizeof(*w->city));
	w->prov_region = mr_calloc((size_t)mr_demo_nprovinces, sizeof(int));
	w->prov_terr = mr_calloc((size_t)mr_demo_nprovinces, sizeof(int));
	w->region_terr = mr_calloc((size_t)mr_demo_nregions, sizeof(int));
	for (int p = 0; p < mr_demo_nprovinces; p++) {
		w->prov_region[p] = mr_dw_find_region(mr_demo_provinces[p].region);
		if (w->prov_region[p] < 0)
			return mr_err_set(w->err, MR_EINTERNAL, "demo data: province %s has no region",
					  mr_demo_provinces[p].code);
	}
	for (int c = 0; c < mr_demo_ncities; c++) {
		const struct mr_demo_city *ct = &mr_demo_cities[c];
		struct mr_dw_city *cy = &w->city[c];

		cy->prov = mr_dw_find_prov(ct->province);
		if (cy->prov < 0)
			return mr_err_set(w->err, MR_EINTERNAL, "demo data: city %s has no province", ct->name);
		cy->region = w->prov_region[cy->prov];
		cy->nuniv = mr_dw_split(ct->univ, cy->univ, 2);
		cy->ndist = mr_dw_split(ct->districts, cy->dist, MR_DW_MAXAREA);
		cy->ncounty = mr_dw_split(ct->counties, cy->county, MR_DW_MAXAREA);
		cy->fgroup = -1;
		if (cy->ndist == 0)
			return mr_err_set(w->err, MR_EINTERNAL, "demo data: city %s has no district", ct->name);
	}
	mr_dw_plan_terr(w);
	return 0;
}

/* ---- hospitals ---- */

/* Cities' share of hospitals, by tier: big cities have more and bigger ones per head. */
static const double mr_dw_city_factor[5] = { 2.0, 1.4, 1.0, 0.75, 0.55 };
static const double mr_dw_size_factor[5] = { 1.3, 1.15, 1.0, 0.85, 0.7 };

struct mr_dw_cand {
	short tpl, area, street;
};

struct mr_dw_cands {
	struct mr_dw_cand *c[3]; /* by level - 1 */
	int n[3];
};

/* Hospitals in the world: one per ~12 doctors up to 36,000 doctors, then hospitals grow instead. */
static int64_t mr_dw_hco_target(int64_t n)
{
	if (n <= 36000)
		return (n + 11) / 12;
	return 3000 + (n - 36000) / 40;
}

/* x >= 0 rounded to the nearest integer (no libm). */
static int64_t mr_dw_round(double x)
{
	return (int64_t)(x + 0.5);
}

/* Splits total over n weights by cumulative rounding: exact sum, deterministic. */
static void mr_dw_apportion(const double *wt, int n, int64_t total, int64_t *out)
{
	double sum = 0, cum = 0;
	int64_t prev = 0;

	for (int i = 0; i < n; i++)
		sum += wt[i];
	for (int i = 0; i < n; i++) {
		int64_t upto;

		cum += wt[i];
		upto = i == n - 1 ? total : (sum > 0 ? mr_dw_round(cum / sum * (double)total) : 0);
		if (upto > total)
			upto = total;
		if (upto < prev)
			upto = prev;
		out[i] = upto - prev;
		prev = upto;
	}
}

/* How many places of city c template t is instantiated at. */
static int mr_dw_tpl_count(const struct mr_dw *w, int c, const struct mr_demo_hco_tpl *t)
{
	const struct mr_demo_city *ct = &mr_demo_cities[c];
	const struct mr_dw_city *cy = &w->city[c];

	if (ct->tier > t->max_tier)
		return 0;
	switch (t->scope) {
	case MR_DEMO_AT_UNIV0:
		return cy->nuniv >= 1;
	case MR_DEMO_AT_UNIV1:
		return cy->nuniv >= 2;
	case MR_DEMO_AT_PROV:
		return ct->capital && !mr_demo_provinces[cy->prov].municipality;
	case MR_DEMO_AT_CITY:
		return 1;
	case MR_DEMO_AT_DISTRICT:
		return cy->ndist;
	case MR_DEMO_AT_COUNTY:
		return cy->ncounty;
	case MR_DEMO_AT_STREET:
		return cy->ndist * mr_demo_nstreets;
	}
	return 0;
}

/* Every hospital city c could have, by level, each list in order of importance. */
static void mr_dw_cands(const struct mr_dw *w, int c, struct mr_dw_cands *cs)
{
	int tier = mr_demo_cities[c].tier, total = 0;

	for (int t = 0; t < mr_demo_nhco_tpls; t++)
		total += mr_dw_tpl_count(w, c, &mr_demo_hco_tpls[t]);
	for (int l = 0; l < 3; l++) {
		cs->c[l] = mr_malloc((size_t)(total + 1) * sizeof(struct mr_dw_cand));
		cs->n[l] = 0;
	}
	for (int t = 0; t < mr_demo_nhco_tpls; t++) {
		const struct mr_demo_hco_tpl *tp = &mr_demo_hco_tpls[t];
		int k = mr_dw_tpl_count(w, c, tp), l = tp->lg[tier - 1] / 10 - 1;

		for (int i = 0; i < k; i++) {
			struct mr_dw_cand *d = &cs->c[l][cs->n[l]++];

			d->tpl = (short)t;
			d->area = (short)(tp->scope == MR_DEMO_AT_STREET ? i / mr_demo_nstreets : i);
			d->street = (short)(tp->scope == MR_DEMO_AT_STREET ? i % mr_demo_nstreets : -1);
		}
	}
}

static int64_t mr_dw_min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* Of k hospitals, how many of each level: ~30 % tertiary, ~45 % secondary, the rest community. */
static void mr_dw_level_mix(int64_t k, const int *avail, int64_t *take)
{
	int64_t left;

	take[2] = mr_dw_min64(avail[2], k < 3 ? k : (k * 3 + 9) / 10);
	take[1] = mr_dw_min64(mr_dw_min64(avail[1], k - take[2]), (k * 45 + 99) / 100);
	take[0] = mr_dw_min64(avail[0], k - take[2] - take[1]);
	left = k - take[0] - take[1] - take[2];
	for (int l = 1; l <= 2 && left > 0; l++) {
		int64_t more = mr_dw_min64(left, avail[l] - take[l]);

		take[l] += more;
		left -= more;
	}
}

static void mr_dw_add_hco(struct mr_dw *w, struct mr_rng *r, int c, const struct mr_dw_cand *d)
{
	const struct mr_demo_hco_tpl *tp = &mr_demo_hco_tpls[d->tpl];
	int tier = mr_demo_cities[c].tier;
	struct mr_dw_hco *h = &w->hco[w->nhco++];
	static const int grade_w[3] = { 35, 45, 20 };

	h->city = c;
	h->tpl = d->tpl;
	h->area = d->area;
	h->level = (unsigned char)(tp->lg[tier - 1] / 10);
	h->grade = (unsigned char)(tp->lg[tier - 1] % 10);
	if (h->level == 1)
		h->grade = (unsigned char)mr_rng_weighted(r, grade_w, 3);
	h->street = (short)(d->street >= 0 ? d->street : mr_rng_below(r, mr_demo_nstreets));
	h->addr_dist = (short)(tp->scope == MR_DEMO_AT_DISTRICT || tp->scope == MR_DEMO_AT_STREET
				       ? d->area
				       : mr_rng_below(r, w->city[c].ndist));
	h->addr_no = (short)(1 + mr_rng_below(r, 999));
	h->field = (h->level == 3 && (tier < 5 || h->grade == 0)) ||
		   (h->level == 2 && h->grade == 0 && tier <= 3);
	h->staff = tp->staff * mr_dw_size_factor[tier - 1] * (0.8 + 0.4 * mr_rng_unit(r));
}

/* Chooses each city's hospitals: its share of the world's, tertiary first. */
static void mr_dw_plan_hcos(struct mr_dw *w)
{
	double *wt = mr_malloc((size_t)mr_demo_ncities * sizeof(double));
	int64_t *k = mr_malloc((size_t)mr_demo_ncities * sizeof(int64_t));
	struct mr_rng r;

	mr_rng_seed(&r, w->o->seed, 1);
	for (int c = 0; c < mr_demo_ncities; c++)
		wt[c] = mr_demo_cities[c].pop * mr_dw_city_factor[mr_demo_cities[c].tier - 1];
	mr_dw_apportion(wt, mr_demo_ncities, mr_dw_hco_target(w->n), k);
	w->caphco = 0;
	for (int c = 0; c < mr_demo_ncities; c++)
		w->caphco += (int)k[c];
	w->hco = mr_calloc((size_t)w->caphco + 1, sizeof(*w->hco));
	/* hospitals in territory order, so H000001 is in 北京 */
	for (int t = 0; t < w->nterr; t++) {
		for (int c = 0; c < mr_demo_ncities; c++) {
			struct mr_dw_cands cs;
			int64_t take[3];

			if (w->city[c].terr != t)
				continue;
			mr_dw_cands(w, c, &cs);
			mr_dw_level_mix(k[c], cs.n, take);
			w->city[c].hco0 = w->nhco;
			for (int l = 2; l >= 0; l--) {
				for (int64_t i = 0; i < take[l]; i++)
					mr_dw_add_hco(w, &r, c, &cs.c[l][i]);
				free(cs.c[l]);
			}
			w->city[c].nhco = w->nhco - w->city[c].hco0;
		}
	}
	free(wt);
	free(k);
}

/* ---- doctors ---- */

static void mr_dw_plan_names(struct mr_dw *w)
{
	int cum = 0;

	for (int i = 0; i < mr_demo_nsurnames && i < 128; i++) {
		cum += mr_demo_surnames[i].weight;
		w->surname_cum[i] = cum;
	}
	for (int g = 0; g < 2; g++) {
		w->pool[g] = mr_malloc((size_t)mr_demo_ngivens * sizeof(int));
		w->npool[g] = 0;
		for (int i = 0; i < mr_demo_ngivens; i++) {
			char sex = mr_demo_givens[i].gender;

			if (sex == 'N' || sex == (g ? 'F' : 'M'))
				w->pool[g][w->npool[g]++] = i;
		}
	}
}

/* A name for a man (female 0) or a woman: a weighted surname and one or two given characters. */
static void mr_dw_name(const struct mr_dw *w, struct mr_rng *r, int female, unsigned short *surname,
		       unsigned short *given, unsigned char *nchars)
{
	int ns = mr_demo_nsurnames < 128 ? mr_demo_nsurnames : 128;
	int64_t x = mr_rng_below(r, w->surname_cum[ns - 1]);
	int lo = 0, hi = ns - 1;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (x < w->surname_cum[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	*surname = (unsigned short)lo;
	*nchars = (unsigned char)(mr_rng_pct(r, 85) ? 2 : 1);
	given[0] = (unsigned short)w->pool[female][mr_rng_below(r, w->npool[female])];
	given[1] = (unsigned short)w->pool[female][mr_rng_below(r, w->npool[female])];
	if (given[1] == given[0] && !(female && mr_rng_pct(r, 30)))
		given[1] = (unsigned short)w->pool[female][mr_rng_below(r, w->npool[female])];
}

static int mr_dw_pick_spec(struct mr_rng *r, unsigned depts)
{
	int wt[MR_DEMO_NSPEC];

	for (int s = 0; s < MR_DEMO_NSPEC; s++)
		wt[s] = (depts & MR_DEMO_BIT(s)) ? mr_demo_specialties[s].weight : 0;
	return mr_rng_weighted(r, wt, MR_DEMO_NSPEC);
}

/* Who doctor i is: specialty, title, name, numbers. */
static void mr_dw_hcp_attrs(struct mr_dw *w, struct mr_rng *r, int64_t i)
{
	static const int lic_base[4] = { 1, 5, 11, 18 };
	static const int lic_span[4] = { 6, 10, 10, 10 };
	struct mr_dw_hcp *d = &w->hcp[i];
	const struct mr_dw_hco *h = &w->hco[d->hco];
	int year;

	d->spec = (unsigned char)mr_dw_pick_spec(r, mr_demo_hco_tpls[h->tpl].depts);
	d->title = (unsigned char)mr_rng_weighted(r, mr_demo_title_weights[h->level - 1], 4);
	d->gender = (unsigned char)mr_rng_pct(r, mr_demo_specialties[d->spec].female_pct);
	mr_dw_name(w, r, d->gender, &d->surname, d->given, &d->nchars);
	d->flags = (unsigned short)(mr_rng_pct(r, 2) ? MR_DW_INACTIVE : 0);
	d->pfx = (unsigned char)mr_rng_below(r, mr_demo_nphone_prefixes);
	d->phone = mr_dw_perm8(w->o->seed ^ 0x70686f6e65ULL, (uint32_t)i);
	d->lic = mr_dw_perm8(w->o->seed ^ 0x6c6963656e6365ULL, (uint32_t)i);
	year = w->now_year - lic_base[d->title] - (int)mr_rng_below(r, lic_span[d->title]);
	d->lic_year = (unsigned short)(year < 1999 ? 1999 : year);
	d->rep[0] = d->rep[1] = d->rep[2] = -1;
	d->dup = -1;
}

/* Spreads the doctors over the hospitals by size, in random order of ids. */
static void mr_dw_plan_hcps(struct mr_dw *w)
{
	double *wt = mr_malloc((size_t)w->nhco * sizeof(double));
	int64_t *cnt = mr_malloc((size_t)w->nhco * sizeof(int64_t));
	int *fill = mr_calloc((size_t)w->nhco, sizeof(int));
	int64_t p = 0;
	struct mr_rng r;

	for (int h = 0; h < w->nhco; h++)
		wt[h] = w->hco[h].staff;
	mr_dw_apportion(wt, w->nhco, w->n, cnt);
	w->hcp = mr_calloc((size_t)w->n, sizeof(*w->hcp));
	w->by_hco = mr_malloc((size_t)w->n * sizeof(int));
	for (int h = 0; h < w->nhco; h++) {
		w->hco[h].hcp0 = (int)p;
		w->hco[h].nhcp = (int)cnt[h];
		for (int64_t j = 0; j < cnt[h]; j++)
			w->hcp[p++].hco = h;
	}
	mr_rng_seed(&r, w->o->seed, 2);
	for (int64_t i = w->n - 1; i > 0; i--) {
		int64_t j = mr_rng_below(&r, i + 1);
		int t = w->hcp[i].hco;

		w->hcp[i].hco = w->hcp[j].hco;
		w->hcp[j].hco = t;
	}
	for (int64_t i = 0; i < w->n; i++) {
		struct mr_dw_hco *h = &w->hco[w->hcp[i].hco];

		w->by_hco[h->hcp0 + fill[w->hcp[i].hco]++] = (int)i;
	}
	mr_rng_seed(&r, w->o->seed, 3);
	for (int64_t i = 0; i < w->n; i++)
		mr_dw_hcp_attrs(w, &r, i);
	free(wt);
	free(cnt);
	free(fill);
}

/* The products (a bit per mr_demo_products row) promoted to a specialty. */
static unsigned mr_dw_products(int spec)
{
	unsigned m = 0;

	for (int p = 0; p < mr_demo_nproducts; p++) {
		if (mr_demo_products[p].specs & MR_DEMO_BIT(spec))
			m |= 1u << p;
	}
	return m;
}

/* Targeting, KOLs and the channel identities each doctor has. */
static void mr_dw_plan_cover(struct mr_dw *w)
{
	struct mr_rng r;

	mr_rng_seed(&r, w->o->seed, 4);
	for (int64_t i = 0; i < w->n; i++) {
		struct mr_dw_hcp *d = &w->hcp[i];
		const struct mr_dw_hco *h = &w->hco[d->hco];
		enum mr_demo_scope scope = mr_demo_hco_tpls[h->tpl].scope;
		int target = !(d->flags & MR_DW_INACTIVE) && mr_dw_products(d->spec);
		unsigned f = d->flags;
		int wecom_pct = 20;

		if (target) {
			f |= h->field ? MR_DW_FIELD : MR_DW_INSIDE;
			wecom_pct = h->field ? 65 : 45;
		}
		if (target && h->level == 3 &&
		    ((d->title == 3 && mr_rng_pct(&r, 50)) ||
		     (d->title == 2 && scope <= MR_DEMO_AT_PROV && mr_rng_pct(&r, 15))))
			f |= MR_DW_KOL;
		if (mr_rng_pct(&r, wecom_pct))
			f |= MR_DW_WECOM;
		if (mr_rng_pct(&r, 45))
			f |= MR_DW_UNION | (mr_rng_pct(&r, 90) ? MR_DW_OPENID : 0);
		else if (mr_rng_pct(&r, 8))
			f |= MR_DW_OPENID;
		if (mr_rng_pct(&r, 35))
			f |= MR_DW_MTG;
		if (mr_rng_pct(&r, 70))
			f |= MR_DW_EMAIL;
		d->flags = (unsigned short)f;
	}
}

/* ---- coverage: groups of reps and who owns whom ---- */

static int mr_dw_new_group(struct mr_dw *w, enum mr_dw_cover cover, int terr, int prov, int region,
			   int64_t nreps)
{
	struct mr_dw_group *g = &w->group[w->ngroup];

	g->cover = cover;
	g->terr = terr;
	g->prov = prov;
	g->region = region;
	g->nreps = (int)nreps;
	g->reps = mr_calloc((size_t)nreps + 1, sizeof(int));
	return w->ngroup++;
}


/* Field reps where the field doctors are; provinces with too few hand them to inside reps. */
static void mr_dw_plan_field(struct mr_dw *w)
{
	int64_t target = mr_dw_round((double)w->n / 200.0), total = 0;
	double load;

	for (int64_t i = 0; i < w->n; i++) {
		if (w->hcp[i].flags & MR_DW_FIELD) {
			w->city[w->hco[w->hcp[i].hco].city].nfield++;
			total++;
		}
	}
	load = (double)total / (double)(target < 1 ? 1 : target);
	for (int p = 0; p < mr_demo_nprovinces && total > 0; p++) {
		int64_t pool = 0, rp;

		for (int c = 0; c < mr_demo_ncities; c++) {
			int64_t rc = mr_dw_round((double)w->city[c].nfield / load);

			if (w->city[c].prov != p)
				continue;
			if (rc >= 1)
				w->city[c].fgroup = mr_dw_new_group(w, MR_DW_COVER_FIELD, w->city[c].terr, p,
								    w->prov_region[p], rc);
			else
				pool += w->city[c].nfield;
		}
		rp = mr_dw_round((double)pool / load);
		if (pool == 0 || rp < 1)
			continue;
		rp = mr_dw_new_group(w, MR_DW_COVER_FIELD, w->prov_terr[p], p, w->prov_region[p], rp);
		for (int c = 0; c < mr_demo_ncities; c++) {
			if (w->city[c].prov == p && w->city[c].fgroup < 0 && w->city[c].nfield > 0)
				w->city[c].fgroup = (int)rp;
		}
	}
	for (int64_t i = 0; i < w->n; i++) {
		struct mr_dw_hcp *d = &w->hcp[i];

		if ((d->flags & MR_DW_FIELD) && w->city[w->hco[d->hco].city].fgroup < 0)
			d->flags = (unsigned short)((d->flags & ~MR_DW_FIELD) | MR_DW_INSIDE);
	}
}

/* Juniors at field hospitals an inside rep also follows; a few of those ownerships ended. */
static void mr_dw_plan_hybrid(struct mr_dw *w)
{
	struct mr_rng r;

	mr_rng_seed(&r, w->o->seed, 5);
	for (int64_t i = 0; i < w->n; i++) {
		struct mr_dw_hcp *d = &w->hcp[i];
		int pct = w->hco[d->hco].level == 2 ? 40 : 10;

		if (!(d->flags & MR_DW_FIELD) || d->title > 1 || !mr_rng_pct(&r, pct))
			continue;
		d->flags |= MR_DW_HYBRID;
		if (mr_rng_pct(&r, 10))
			d->flags |= MR_DW_ENDED;
	}
}

/* Region-level reps (inside reps, MSLs): one per `per` doctors of the world, where the work is. */
static void mr_dw_plan_regional(struct mr_dw *w, enum mr_dw_cover cover, unsigned mask, double per)
{
	int64_t cnt[16] = { 0 }, total = 0, target = mr_dw_round((double)w->n / per);
	double load;

	for (int64_t i = 0; i < w->n; i++) {
		if (w->hcp[i].flags & mask) {
			cnt[w->city[w->hco[w->hcp[i].hco].city].region]++;
			total++;
		}
	}
	load = (double)total / (double)(target < 1 ? 1 : target);
	for (int r = 0; r < mr_demo_nregions && r < 16; r++) {
		int64_t k = mr_dw_round((double)cnt[r] / load);

		if (cnt[r] > 0)
			mr_dw_new_group(w, cover, w->region_terr[r], -1, r, k < 1 ? 1 : k);
	}
}

/* KAMs go to the cities with the most field work, one each, round again when there are more. */
static void mr_dw_plan_kams(struct mr_dw *w)
{
	int order[256], m = 0;

	w->nkam = (int)mr_dw_round((double)w->n / 5000.0);
	w->kam_city = mr_calloc((size_t)w->nkam + 1, sizeof(int));
	/* insertion sort by field doctors, most first; ties keep table order */
	for (int c = 0; c < mr_demo_ncities && m < 256; c++) {
		int j = m;

		if (w->city[c].nfield == 0 || w->city[c].fgroup < 0)
			continue;
		while (j > 0 && w->city[order[j - 1]].nfield < w->city[c].nfield) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = c;
		m++;
	}
	if (m == 0)
		w->nkam = 0;
	for (int k = 0; k < w->nkam; k++)
		w->kam_city[k] = order[k % m];
}

static int mr_dw_add_rep(struct mr_dw *w, enum mr_dw_role role, int terr, int manager)
{
	struct mr_dw_rep *p = &w->rep[w->nrep];

	p->role = role;
	p->terr = terr;
	p->manager = manager;
	return w->nrep++;
}

/* Province p's field reps, in chunks of up to eight under first-line managers. */
static void mr_dw_plan_field_team(struct mr_dw *w, int p, int rsm)
{
	int k = 0, j = 0, cur = -1, flm = -1;

	for (int g = 0; g < w->ngroup; g++) {
		if (w->group[g].cover == MR_DW_COVER_FIELD && w->group[g].prov == p)
			k += w->group[g].nreps;
	}
	for (int g = 0; g < w->ngroup && k > 0; g++) {
		struct mr_dw_group *gr = &w->group[g];

		if (gr->cover != MR_DW_COVER_FIELD || gr->prov != p)
			continue;
		for (int t = 0; t < gr->nreps; t++, j++) {
			int chunk = j * ((k + 7) / 8) / k;

			if (chunk != cur) {
				flm = mr_dw_add_rep(w, MR_DW_FLM, w->prov_terr[p], rsm);
				cur = chunk;
			}
			gr->reps[t] = mr_dw_add_rep(w, MR_DW_REP, gr->terr, flm);
		}
	}
}

/* Each region's inside reps, in teams of up to ten under a lead of that region. */
static void mr_dw_plan_inside_team(struct mr_dw *w, int head)
{
	for (int g = 0; g < w->ngroup; g++) {
		struct mr_dw_group *gr = &w->group[g];
		int nlead = (gr->nreps + 9) / 10, cur = -1, lead = -1;

		if (gr->cover != MR_DW_COVER_INSIDE)
			continue;
		for (int t = 0; t < gr->nreps; t++) {
			if (t * nlead / gr->nreps != cur) {
				lead = mr_dw_add_rep(w, MR_DW_ILEAD, gr->terr, head);
				cur = t * nlead / gr->nreps;
			}
			gr->reps[t] = mr_dw_add_rep(w, MR_DW_INREP, gr->terr, lead);
		}
	}
}

/* Every rep, in the order of the rows: managers before their teams. */
static void mr_dw_plan_reps(struct mr_dw *w)
{
	int cap = 16 + mr_demo_nregions + w->nkam, nsd, head;

	for (int g = 0; g < w->ngroup; g++)
		cap += 2 * w->group[g].nreps;
	w->rep = mr_calloc((size_t)cap, sizeof(*w->rep));
	nsd = mr_dw_add_rep(w, MR_DW_NSD, 0, -1);
	for (int r = 0; r < mr_demo_nregions; r++) {
		int rsm = mr_dw_add_rep(w, MR_DW_RSM, w->region_terr[r], nsd);

		for (int p = 0; p < mr_demo_nprovinces; p++) {
			if (w->prov_region[p] == r)
				mr_dw_plan_field_team(w, p, rsm);
		}
		for (int k = 0; k < w->nkam; k++) {
			if (w->city[w->kam_city[k]].region == r)
				mr_dw_add_rep(w, MR_DW_KAM, w->city[w->kam_city[k]].terr, rsm);
		}
	}
	head = mr_dw_add_rep(w, MR_DW_IHEAD, 0, nsd);
	mr_dw_plan_inside_team(w, head);
	head = mr_dw_add_rep(w, MR_DW_MHEAD, 0, -1);
	for (int g = 0; g < w->ngroup; g++) {
		struct mr_dw_group *gr = &w->group[g];

		for (int t = 0; gr->cover == MR_DW_COVER_MSL && t < gr->nreps; t++)
			gr->reps[t] = mr_dw_add_rep(w, MR_DW_MSL, gr->terr, head);
	}
}

struct mr_dw_unit {
	int hco, spec;
	int64_t n;
};

static int mr_dw_unit_cmp(const void *a, const void *b)
{
	const struct mr_dw_unit *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	if (x->hco != y->hco)
		return x->hco < y->hco ? -1 : 1;
	return (x->spec > y->spec) - (x->spec < y->spec);
}

static int mr_dw_covered(const struct mr_dw_hcp *d, enum mr_dw_cover cv)
{
	static const unsigned mask[3] = { MR_DW_FIELD, MR_DW_INSIDE | MR_DW_HYBRID, MR_DW_KOL };

	return (d->flags & mask[cv]) != 0;
}

/* Appends hospital h's units of cover cv: (hospital, specialty) for field reps, else the hospital. */
static void mr_dw_hco_units(const struct mr_dw *w, enum mr_dw_cover cv, int h,
			    struct mr_dw_unit *u, int *nu)
{
	int64_t cnt[MR_DEMO_NSPEC] = { 0 };

	for (int j = 0; j < w->hco[h].nhcp; j++) {
		const struct mr_dw_hcp *d = &w->hcp[w->by_hco[w->hco[h].hcp0 + j]];

		if (mr_dw_covered(d, cv))
			cnt[cv == MR_DW_COVER_FIELD ? d->spec : 0]++;
	}
	for (int s = 0; s < MR_DEMO_NSPEC; s++) {
		if (cnt[s])
			u[(*nu)++] = (struct mr_dw_unit){ h, s, cnt[s] };
	}
}

static void mr_dw_give_unit(struct mr_dw *w, enum mr_dw_cover cv, const struct mr_dw_unit *u, int rep)
{
	const struct mr_dw_hco *h = &w->hco[u->hco];

	for (int j = 0; j < h->nhcp; j++) {
		struct mr_dw_hcp *d = &w->hcp[w->by_hco[h->hcp0 + j]];

		if (mr_dw_covered(d, cv) && (cv != MR_DW_COVER_FIELD || d->spec == u->spec))
			d->rep[cv] = rep;
	}
}

static int mr_dw_group_has(const struct mr_dw *w, int gi, int c)
{
	if (w->group[gi].cover == MR_DW_COVER_FIELD)
		return w->city[c].fgroup == gi;
	return w->city[c].region == w->group[gi].region;
}

/* Splits group gi's doctors among its reps: biggest units first, each to the least loaded rep. */
static void mr_dw_assign(struct mr_dw *w, int gi)
{
	struct mr_dw_group *g = &w->group[gi];
	int cap = 1, nu = 0;
	struct mr_dw_unit *u;
	int64_t *load = mr_calloc((size_t)g->nreps, sizeof(int64_t));

	for (int c = 0; c < mr_demo_ncities; c++)
		cap += mr_dw_group_has(w, gi, c) ? w->city[c].nhco * MR_DEMO_NSPEC : 0;
	u = mr_malloc((size_t)cap * sizeof(*u));
	for (int c = 0; c < mr_demo_ncities; c++) {
		for (int h = 0; mr_dw_group_has(w, gi, c) && h < w->city[c].nhco; h++)
			mr_dw_hco_units(w, g->cover, w->city[c].hco0 + h, u, &nu);
	}
	qsort(u, (size_t)nu, sizeof(*u), mr_dw_unit_cmp);
	for (int i = 0; i < nu; i++) {
		int best = 0;

		for (int k = 1; k < g->nreps; k++) {
			if (load[k] < load[best])
				best = k;
		}
		load[best] += u[i].n;
		mr_dw_give_unit(w, g->cover, &u[i], g->reps[best]);
	}
	free(u);
	free(load);
}

/* Picks exactly round(dup_share * n) doctors for a second record; their primary lacks that channel. */
static void mr_dw_plan_dups(struct mr_dw *w, int64_t *ndup)
{
	int64_t want = mr_dw_round(w->o->dup_share * (double)w->n), got = 0;
	struct mr_rng r;

	mr_rng_seed(&r, w->o->seed, 6);
	for (int64_t i = 0; i < w->n && got < want; i++) {
		struct mr_dw_hcp *d = &w->hcp[i];

		if (mr_rng_below(&r, w->n - i) >= want - got)
			continue;
		d->dup = (int)mr_rng_below(&r, 2);
		d->flags &= (unsigned short)~(d->dup == 0 ? MR_DW_MTG : (MR_DW_UNION | MR_DW_OPENID));
		got++;
	}
	*ndup = got;
}

/* ---- rows ---- */

struct mr_dw_str {
	char *p;
	size_t n;
};

/* Cell i, emptied, as a string to append to; the row's value i points at it. */
static struct mr_dw_str mr_dw_cell(struct mr_dw *w, int i)
{
	w->v[i] = w->cell[i];
	w->cell[i][0] = '\0';
	return (struct mr_dw_str){ w->cell[i], 0 };
}

static void mr_dw_cat(struct mr_dw_str *s, const char *p, size_t n)
{
	if (s->n + n >= MR_DW_CELL)
		n = MR_DW_CELL - 1 - s->n; /* never with the tables' lengths */
	memcpy(s->p + s->n, p, n);
	s->n += n;
	s->p[s->n] = '\0';
}

static void mr_dw_cats(struct mr_dw_str *s, const char *p)
{
	mr_dw_cat(s, p, strlen(p));
}

static void mr_dw_catv(struct mr_dw_str *s, struct mr_slice v)
{
	mr_dw_cat(s, v.p, v.n);
}

static void mr_dw_setf(struct mr_dw *w, int i, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void mr_dw_setf(struct mr_dw *w, int i, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->cell[i], MR_DW_CELL, fmt, ap);
	va_end(ap);
	w->v[i] = w->cell[i];
}

static int mr_dw_fail(struct mr_dw *w, int rc)
{
	if (w->err->code == 0)
		mr_err_set(w->err, rc, "the demo world's receiver failed");
	return rc;
}

static int mr_dw_begin(struct mr_dw *w, const char *entity, const char *const *cols, int ncols)
{
	int rc = w->sink->begin(w->sink->arg, entity, ncols, cols, w->err);

	return rc < 0 ? mr_dw_fail(w, rc) : 0;
}

static int mr_dw_row(struct mr_dw *w, int64_t *count)
{
	int rc = w->sink->row(w->sink->arg, w->v, w->err);

	if (rc < 0)
		return mr_dw_fail(w, rc);
	(*count)++;
	return 0;
}

static int mr_dw_end(struct mr_dw *w, const char *entity)
{
	int rc = w->sink->end(w->sink->arg, entity, w->err);

	return rc < 0 ? mr_dw_fail(w, rc) : 0;
}

/* us as "2024-03-05T09:12:00+08:00" (us holds whole seconds). */
static void mr_dw_time(int64_t us, char *out, size_t n)
{
	char buf[40];
	size_t len;

	mr_time_format(us + 8 * MR_DW_HOUR_US, buf, sizeof(buf));
	len = strlen(buf);
	if (len && buf[len - 1] == 'Z')
		buf[len - 1] = '\0';
	snprintf(out, n, "%s+08:00", buf);
}

static int mr_dw_ends_with(struct mr_slice s, const char *suffix)
{
	size_t k = strlen(suffix);

	return s.n >= k && memcmp(s.p + s.n - k, suffix, k) == 0;
}

/* ---- territories, hospitals, reps ---- */

static const char *const mr_dw_terr_cols[] = { "id", "name", "parent" };
static const char *const mr_dw_hco_cols[] = { "id",	  "name",      "level",	  "grade",
					      "type",	  "province",  "city",	  "city_tier",
					      "region",	  "address",   "departments" };
static const char *const mr_dw_rep_cols[] = { "id", "name", "type", "manager", "territory", "user" };
static const char *const mr_dw_grades[3] = { "甲", "乙", "丙" };

static int mr_dw_emit_territories(struct mr_dw *w)
{
	int rc = mr_dw_begin(w, "territories", mr_dw_terr_cols, 3);

	for (int t = 0; rc == 0 && t < w->nterr; t++) {
		w->v[0] = w->terr[t].id;
		w->v[1] = w->terr[t].name;
		w->v[2] = w->terr[t].parent >= 0 ? w->terr[w->terr[t].parent].id : "";
		rc = mr_dw_row(w, &w->st->territories);
	}
	return rc ? rc : mr_dw_end(w, "territories");
}

static void mr_dw_hco_name(const struct mr_dw *w, const struct mr_dw_hco *h, struct mr_dw_str *s)
{
	const struct mr_demo_hco_tpl *tp = &mr_demo_hco_tpls[h->tpl];
	const struct mr_dw_city *cy = &w->city[h->city];
	const char *city = mr_demo_cities[h->city].name;

	switch (tp->scope) {
	case MR_DEMO_AT_UNIV0:
	case MR_DEMO_AT_UNIV1:
		mr_dw_catv(s, cy->univ[tp->scope == MR_DEMO_AT_UNIV1]);
		break;
	case MR_DEMO_AT_PROV:
		mr_dw_cats(s, mr_demo_provinces[cy->prov].name);
		break;
	case MR_DEMO_AT_COUNTY:
		mr_dw_catv(s, cy->county[h->area]);
		break;
	case MR_DEMO_AT_CITY:
	case MR_DEMO_AT_DISTRICT:
	case MR_DEMO_AT_STREET:
		mr_dw_cats(s, city);
		mr_dw_cats(s, "市");
		if (tp->scope != MR_DEMO_AT_CITY)
			mr_dw_catv(s, cy->dist[h->area]);
		if (tp->scope == MR_DEMO_AT_STREET) {
			mr_dw_cats(s, mr_demo_streets[h->street]);
			if (mr_dw_ends_with(cy->dist[h->area], "区"))
				mr_dw_cats(s, "街道");
		}
		break;
	}
	mr_dw_cats(s, tp->suffix);
}

static void mr_dw_hco_address(const struct mr_dw *w, const struct mr_dw_hco *h, struct mr_dw_str *s)
{
	const struct mr_dw_city *cy = &w->city[h->city];
	char no[16];

	if (!mr_demo_provinces[cy->prov].municipality)
		mr_dw_cats(s, mr_demo_provinces[cy->prov].name);
	mr_dw_cats(s, mr_demo_cities[h->city].name);
	mr_dw_cats(s, "市");
	if (mr_demo_hco_tpls[h->tpl].scope == MR_DEMO_AT_COUNTY)
		mr_dw_catv(s, cy->county[h->area]);
	else
		mr_dw_catv(s, cy->dist[h->addr_dist]);
	mr_dw_cats(s, mr_demo_streets[h->street]);
	snprintf(no, sizeof(no), "%d号", h->addr_no);
	mr_dw_cats(s, no);
}

static void mr_dw_hco_row(struct mr_dw *w, int i)
{
	const struct mr_dw_hco *h = &w->hco[i];
	const struct mr_demo_hco_tpl *tp = &mr_demo_hco_tpls[h->tpl];
	const struct mr_demo_city *ct = &mr_demo_cities[h->city];
	struct mr_dw_str s;

	mr_dw_setf(w, 0, "H%06d", i + 1);
	s = mr_dw_cell(w, 1);
	mr_dw_hco_name(w, h, &s);
	mr_dw_setf(w, 2, "%d", h->level);
	w->v[3] = mr_dw_grades[h->grade];
	w->v[4] = mr_demo_hco_types[tp->type];
	w->v[5] = mr_demo_provinces[w->city[h->city].prov].name;
	mr_dw_setf(w, 6, "%s市", ct->name);
	mr_dw_setf(w, 7, "%d", ct->tier);
	w->v[8] = mr_demo_regions[w->city[h->city].region].name;
	s = mr_dw_cell(w, 9);
	mr_dw_hco_address(w, h, &s);
	s = mr_dw_cell(w, 10);
	for (int d = 0; d < MR_DEMO_NSPEC; d++) {
		if (!(tp->depts & MR_DEMO_BIT(d)))
			continue;
		if (s.n)
			mr_dw_cats(&s, ";");
		mr_dw_cats(&s, mr_demo_specialties[d].dept);
	}
}

static int mr_dw_emit_hcos(struct mr_dw *w)
{
	int rc = mr_dw_begin(w, "hcos", mr_dw_hco_cols, 11);

	for (int i = 0; rc == 0 && i < w->nhco; i++) {
		mr_dw_hco_row(w, i);
		rc = mr_dw_row(w, &w->st->hcos);
	}
	return rc ? rc : mr_dw_end(w, "hcos");
}

static void mr_dw_put_name(struct mr_dw *w, int col, int surname, const unsigned short *given,
			   int nchars)
{
	struct mr_dw_str s = mr_dw_cell(w, col);

	mr_dw_cats(&s, mr_demo_surnames[surname].han);
	for (int k = 0; k < nchars; k++)
		mr_dw_cats(&s, mr_demo_givens[given[k]].han);
}

static int mr_dw_emit_reps(struct mr_dw *w)
{
	static const char *const types[] = { "field", "field", "field", "field", "kam",
					     "inside", "inside", "inside", "msl", "msl" };
	int rc = mr_dw_begin(w, "reps", mr_dw_rep_cols, 6);
	struct mr_rng r;

	mr_rng_seed(&r, w->o->seed, 7);
	for (int i = 0; rc == 0 && i < w->nrep; i++) {
		const struct mr_dw_rep *p = &w->rep[i];
		enum mr_dw_role ro = p->role;
		int mgr = ro == MR_DW_NSD || ro == MR_DW_RSM || ro == MR_DW_FLM || ro == MR_DW_IHEAD ||
			  ro == MR_DW_ILEAD || ro == MR_DW_MHEAD;
		unsigned short surname, given[2];
		unsigned char nchars;

		mr_dw_name(w, &r, (int)mr_rng_below(&r, 2), &surname, given, &nchars);
		mr_dw_setf(w, 0, "R%05d", i + 1);
		mr_dw_put_name(w, 1, surname, given, nchars);
		w->v[2] = types[ro];
		if (p->manager >= 0)
			mr_dw_setf(w, 3, "R%05d", p->manager + 1);
		else
			w->v[3] = "";
		w->v[4] = w->terr[p->terr].id;
		mr_dw_setf(w, 5, "%s.r%05d", mgr ? "mgr" : "rep", i + 1);
		rc = mr_dw_row(w, &w->st->reps);
	}
	return rc ? rc : mr_dw_end(w, "reps");
}

/* ---- doctors and their second records ---- */

static const char *const mr_dw_hcp_cols[] = { "id",	    "name",  "pinyin", "gender",
					      "title",	    "specialty", "department", "hco",
					      "license_no", "phone", "email",  "status" };
static const char *const mr_dw_dup_prefix[2] = { "MTG", "WX" };

static void mr_dw_pinyin(const unsigned short *given, int surname, int nchars, struct mr_dw_str *s,
			 int space)
{
	mr_dw_cats(s, mr_demo_surnames[surname].pinyin);
	if (space)
		mr_dw_cats(s, " ");
	for (int k = 0; k < nchars; k++)
		mr_dw_cats(s, mr_demo_givens[given[k]].pinyin);
}

/* The licence number (医师执业证书编码) as a number: category, province, year, serial. */
static uint64_t mr_dw_lic_key(const struct mr_dw *w, const struct mr_dw_hcp *d, uint32_t serial)
{
	const struct mr_dw_hco *h = &w->hco[d->hco];
	uint64_t cat = mr_demo_hco_tpls[h->tpl].type == MR_DEMO_TCM ? 2 : 1;
	uint64_t gb = (uint64_t)mr_demo_provinces[w->city[h->city].prov].gb;

	return cat * 100000000000000ULL + gb * 1000000000000ULL + d->lic_year * 100000000ULL + serial;
}

static uint64_t mr_dw_phone_key(int pfx, uint32_t rest)
{
	uint64_t p = 0;

	for (const char *c = mr_demo_phone_prefixes[pfx]; *c; c++)
		p = p * 10 + (uint64_t)(*c - '0');
	return p * 100000000ULL + rest;
}

/* A unique e-mail address for a doctor, or "" (col gets it). */
static void mr_dw_email(struct mr_dw *w, struct mr_rng *r, const struct mr_dw_hcp *d, int col)
{
	const struct mr_dw_hco *h = &w->hco[d->hco];
	const char *abbr = mr_demo_hco_tpls[h->tpl].abbr;
	int wt[4] = { *abbr ? 35 : 0, 25, 30, 10 };
	int kind = mr_rng_weighted(r, wt, 4);
	char local[64];
	struct mr_dw_str s = { local, 0 };
	int yy = (int)mr_rng_below(r, 30) + 60;

	mr_dw_pinyin(d->given, d->surname, d->nchars, &s, 0);
	for (int attempt = 0; attempt < 1000; attempt++) {
		char tag[16] = "";

		if (attempt)
			snprintf(tag, sizeof(tag), "%d", attempt + 1);
		if (kind == 0)
			mr_dw_setf(w, col, "%s%s@%s%s.cn", local, tag, mr_demo_cities[h->city].pinyin, abbr);
		else if (kind == 2)
			mr_dw_setf(w, col, "%lld@qq.com",
				   (long long)mr_rng_below(r, 3999990000LL) + 10000LL);
		else
			mr_dw_setf(w, col, "%s%02d%s@%s.com", local, yy % 100, tag, kind == 1 ? "163" : "126");
		if (mr_dw_set_add(&w->emails, mr_dw_hash(w->cell[col])))
			return;
	}
	w->v[col] = "";
}

static void mr_dw_hcp_row(struct mr_dw *w, struct mr_rng *r, int64_t i)
{
	const struct mr_dw_hcp *d = &w->hcp[i];
	const struct mr_demo_specialty *sp = &mr_demo_specialties[d->spec];
	struct mr_dw_str s;

	mr_dw_setf(w, 0, "D%07lld", (long long)i + 1);
	mr_dw_put_name(w, 1, d->surname, d->given, d->nchars);
	s = mr_dw_cell(w, 2);
	mr_dw_pinyin(d->given, d->surname, d->nchars, &s, 1);
	w->v[3] = d->gender ? "F" : "M";
	w->v[4] = mr_demo_titles[d->title];
	w->v[5] = sp->id;
	w->v[6] = sp->dept;
	mr_dw_setf(w, 7, "H%06d", d->hco + 1);
	mr_dw_setf(w, 8, "%015llu", (unsigned long long)mr_dw_lic_key(w, d, d->lic));
	mr_dw_setf(w, 9, "+86%s%08u", mr_demo_phone_prefixes[d->pfx], d->phone);
	if (d->flags & MR_DW_EMAIL)
		mr_dw_email(w, r, d, 10);
	else
		w->v[10] = "";
	w->v[11] = (d->flags & MR_DW_INACTIVE) ? "inactive" : "active";
}

/* Another character read the same way as given character g, usable for the gender, or -1. */
static int mr_dw_homophone(struct mr_rng *r, int g, int female)
{
	char sex = female ? 'F' : 'M';
	int n = 0, pick = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < mr_demo_ngivens; i++) {
			const struct mr_demo_given *c = &mr_demo_givens[i];

			if (i == g || strcmp(c->pinyin, mr_demo_givens[g].pinyin) != 0 ||
			    (c->gender != 'N' && c->gender != sex))
				continue;
			if (pass == 0)
				n++;
			else if (pick-- == 0)
				return i;
		}
		if (n == 0)
			return -1;
		pick = (int)mr_rng_below(r, n);
	}
	return -1;
}

/* The primary's phone with a slip (a prefix changed, a digit wrong, two swapped) or another one. */
static uint64_t mr_dw_phone_slip(struct mr_rng *r, const struct mr_dw_hcp *d)
{
	char dg[12];
	int how = (int)mr_rng_below(r, 10), k = 3 + (int)mr_rng_below(r, 7);
	uint64_t v = 0;

	snprintf(dg, sizeof(dg), "%s%08u", mr_demo_phone_prefixes[d->pfx], d->phone);
	if (how < 3) {
		int p = (d->pfx + 1 + (int)mr_rng_below(r, mr_demo_nphone_prefixes - 1)) %
			mr_demo_nphone_prefixes;
		memcpy(dg, mr_demo_phone_prefixes[p], 3);
	} else if (how < 6 || dg[k] == dg[k + 1]) {
		dg[k] = (char)('0' + (dg[k] - '0' + 1 + (int)mr_rng_below(r, 9)) % 10);
	} else if (how < 9) {
		char t = dg[k];

		dg[k] = dg[k + 1];
		dg[k + 1] = t;
	} else {
		return mr_dw_phone_key((int)mr_rng_below(r, mr_demo_nphone_prefixes),
				       (uint32_t)mr_rng_below(r, 100000000));
	}
	for (int i = 0; i < 11; i++)
		v = v * 10 + (uint64_t)(dg[i] - '0');
	return v;
}

/* A second record's phone: a slip of the primary's, in the formats people type; sometimes none. */
static void mr_dw_dup_phone(struct mr_dw *w, struct mr_rng *r, const struct mr_dw_hcp *d, int col)
{
	int f = (int)mr_rng_below(r, 4);

	w->v[col] = "";
	if (mr_rng_pct(r, 20))
		return;
	for (int attempt = 0; attempt < 8; attempt++) {
		uint64_t v = mr_dw_phone_slip(r, d);
		char dg[16];

		if (!mr_dw_set_add(&w->phones, v))
			continue;
		snprintf(dg, sizeof(dg), "%011llu", (unsigned long long)v);
		switch (f) {
		case 0:
			mr_dw_setf(w, col, "%.3s %.4s %.4s", dg, dg + 3, dg + 7);
			break;
		case 1:
			mr_dw_setf(w, col, "+86-%.3s-%.4s-%.4s", dg, dg + 3, dg + 7);
			break;
		case 2:
			mr_dw_setf(w, col, "%s", dg);
			break;
		default:
			mr_dw_setf(w, col, "+86 %.3s %.4s %.4s", dg, dg + 3, dg + 7);
			break;
		}
		return;
	}
}

/* A second record's licence number: one digit of the serial wrong; often none. */
static void mr_dw_dup_licence(struct mr_dw *w, struct mr_rng *r, const struct mr_dw_hcp *d, int col)
{
	w->v[col] = "";
	if (!mr_rng_pct(r, 35))
		return;
	for (int attempt = 0; attempt < 8; attempt++) {
		static const uint32_t pow10[8] = { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000 };
		int k = (int)mr_rng_below(r, 8);
		uint32_t digit = d->lic / pow10[k] % 10, nd = (digit + 1 + (uint32_t)mr_rng_below(r, 9)) % 10;
		uint64_t key = mr_dw_lic_key(w, d, d->lic - digit * pow10[k] + nd * pow10[k]);

		if (mr_dw_set_add(&w->licences, key)) {
			mr_dw_setf(w, col, "%015llu", (unsigned long long)key);
			return;
		}
	}
}

static void mr_dw_dup_row(struct mr_dw *w, struct mr_rng *r, const struct mr_dw_hcp *d, int64_t seq)
{
	unsigned short given[2] = { d->given[0], d->given[1] };
	const struct mr_demo_specialty *sp = &mr_demo_specialties[d->spec];
	struct mr_dw_str s;

	if (mr_rng_pct(r, 30)) {
		int pos = d->nchars - 1, alt = mr_dw_homophone(r, given[pos], d->gender);

		if (alt >= 0)
			given[pos] = (unsigned short)alt;
	}
	mr_dw_setf(w, 0, "%s-%06lld", mr_dw_dup_prefix[d->dup], (long long)seq);
	mr_dw_put_name(w, 1, d->surname, given, d->nchars);
	s = mr_dw_cell(w, 2);
	if (mr_rng_pct(r, 80))
		mr_dw_pinyin(given, d->surname, d->nchars, &s, 1);
	w->v[3] = mr_rng_pct(r, 70) ? (d->gender ? "F" : "M") : "";
	w->v[4] = mr_rng_pct(r, 50) ? mr_demo_titles[d->title] : "";
	w->v[5] = w->v[6] = "";
	if (mr_rng_pct(r, 60)) {
		w->v[5] = sp->id;
		w->v[6] = sp->dept;
	}
	if (mr_rng_pct(r, 75))
		mr_dw_setf(w, 7, "H%06d", d->hco + 1);
	else
		w->v[7] = "";
	mr_dw_dup_licence(w, r, d, 8);
	mr_dw_dup_phone(w, r, d, 9);
	if (mr_rng_pct(r, d->dup == 0 ? 40 : 15))
		mr_dw_email(w, r, d, 10);
	else
		w->v[10] = "";
	w->v[11] = "active";
}

static int mr_dw_emit_hcps(struct mr_dw *w)
{
	int rc = mr_dw_begin(w, "hcps", mr_dw_hcp_cols, 12);
	int64_t seq[2] = { 0, 0 };
	struct mr_rng r;

	mr_rng_seed(&r, w->o->seed, 8);
	for (int64_t i = 0; rc == 0 && i < w->n; i++) {
		mr_dw_hcp_row(w, &r, i);
		rc = mr_dw_row(w, &w->st->hcps);
	}
	for (int64_t i = 0; rc == 0 && i < w->n; i++) {
		const struct mr_dw_hcp *d = &w->hcp[i];

		if (d->dup < 0)
			continue;
		mr_dw_dup_row(w, &r, d, ++seq[d->dup]);
		rc = mr_dw_row(w, &w->st->hcps);
		w->st->duplicates += rc == 0;
	}
	return rc ? rc : mr_dw_end(w, "hcps");
}

/* ---- identities ---- */

static const char *const mr_dw_ident_cols[] = { "hcp", "kind", "value", "app", "verified", "source" };

static void mr_dw_randstr(struct mr_rng *r, const char *prefix, int n, char *out)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
	size_t k = strlen(prefix);

	memcpy(out, prefix, k);
	for (int i = 0; i < n; i++)
		out[k + (size_t)i] = alpha[mr_rng_below(r, 64)];
	out[k + (size_t)n] = '\0';
}

static int mr_dw_ident(struct mr_dw *w, const char *kind, const char *app, int verified,
		       const char *source)
{
	w->v[1] = kind;
	w->v[3] = app;
	w->v[4] = verified ? "1" : "0";
	w->v[5] = source;
	return mr_dw_row(w, &w->st->identities);
}

/* The channel identities in flags of the record whose id is in cell 0; k numbers it for unique ids. */
static int mr_dw_idents_of(struct mr_dw *w, struct mr_rng *r, unsigned flags, int64_t k)
{
	int rc = 0, sure = mr_rng_pct(r, 85);

	w->v[2] = w->cell[2];
	if (flags & MR_DW_WECOM) {
		int crm = mr_rng_pct(r, 10);

		mr_dw_randstr(r, "wm", 30, w->cell[2]);
		rc = mr_dw_ident(w, "wecom_external_userid", "", !crm, crm ? "crm" : "wecom");
	}
	if (rc == 0 && (flags & MR_DW_UNION)) {
		mr_dw_randstr(r, "o", 27, w->cell[2]);
		rc = mr_dw_ident(w, "wechat_unionid", "", sure, "wechat_oa");
	}
	if (rc == 0 && (flags & MR_DW_OPENID)) {
		mr_dw_randstr(r, "oUpF8u", 22, w->cell[2]);
		rc = mr_dw_ident(w, "wechat_openid", "wx_med_svc", sure, "wechat_oa");
	}
	if (rc == 0 && (flags & MR_DW_MTG)) {
		snprintf(w->cell[2], MR_DW_CELL, "1441%06lld%08u", (long long)mr_rng_below(r, 1000000),
			 mr_dw_perm8(w->o->seed ^ 0x6d656574ULL, (uint32_t)k));
		rc = mr_dw_ident(w, "meeting_user_id", "tencent_meeting", mr_rng_pct(r, 60), "meeting");
	}
	return rc;
}

static int mr_dw_emit_identities(struct mr_dw *w)
{
	int rc = mr_dw_begin(w, "identities", mr_dw_ident_cols, 6);
	int64_t seq[2] = { 0, 0 };
	struct mr_rng r;

	mr_rng_seed(&r, w->o->seed, 9);
	for (int64_t i = 0; rc == 0 && i < w->n; i++) {
		mr_dw_setf(w, 0, "D%07lld", (long long)i + 1);
		rc = mr_dw_idents_of(w, &r, w->hcp[i].flags, i);
	}
	for (int64_t i = 0; rc == 0 && i < w->n; i++) {
		const struct mr_dw_hcp *d = &w->hcp[i];

		if (d->dup < 0)
			continue;
		mr_dw_setf(w, 0, "%s-%06lld", mr_dw_dup_prefix[d->dup], (long long)++seq[d->dup]);
		rc = mr_dw_idents_of(w, &r, d->dup == 0 ? MR_DW_MTG : MR_DW_UNION | MR_DW_OPENID,
				     w->n + i);
	}
	return rc ? rc : mr_dw_end(w, "identities");
}

/* ---- alignments ---- */

static const char *const mr_dw_align_cols[] = { "hcp", "rep", "role", "product", "valid_from", "valid_to" };

static int mr_dw_align(struct mr_dw *w, int rep, const char *role, int64_t from, int64_t to)
{
	mr_dw_setf(w, 1, "R%05d", rep + 1);
	w->v[2] = role;
	mr_dw_time(from, w->cell[4], MR_DW_CELL);
	w->v[4] = w->cell[4];
	if (to) {
		mr_dw_time(to, w->cell[5], MR_DW_CELL);
		w->v[5] = w->cell[5];
	} else {
		w->v[5] = "";
	}
	return mr_dw_row(w, &w->st->alignments);
}

/* Doctor i's owners, one row per product: field, inside (perhaps ended), MSL. */
static int mr_dw_aligns_of(struct mr_dw *w, struct mr_rng *r, int64_t i)
{
	const struct mr_dw_hcp *d = &w->hcp[i];
	unsigned prods = mr_dw_products(d->spec);
	int64_t from = w->month[1 + mr_rng_below(r, 23)], in_from = from, in_to = 0;
	int rc = 0;

	if (d->flags & MR_DW_HYBRID)
		in_from = w->month[1 + mr_rng_below(r, 11)];
	if (d->flags & MR_DW_ENDED) {
		in_from = w->month[7 + mr_rng_below(r, 12)];
		in_to = w->month[1 + mr_rng_below(r, 5)];
	}
	mr_dw_setf(w, 0, "D%07lld", (long long)i + 1);
	for (int p = 0; rc == 0 && p < mr_demo_nproducts; p++) {
		if (!(prods & (1u << p)))
			continue;
		w->v[3] = mr_demo_products[p].id;
		if (d->rep[MR_DW_COVER_FIELD] >= 0)
			rc = mr_dw_align(w, d->rep[MR_DW_COVER_FIELD], "field_owner", from, 0);
		if (rc == 0 && d->rep[MR_DW_COVER_INSIDE] >= 0)
			rc = mr_dw_align(w, d->rep[MR_DW_COVER_INSIDE], "inside_owner", in_from, in_to);
		if (rc == 0 && d->rep[MR_DW_COVER_MSL] >= 0)
			rc = mr_dw_align(w, d->rep[MR_DW_COVER_MSL], "msl", from, 0);
	}
	return rc;
}

static int mr_dw_emit_alignments(struct mr_dw *w)
{
	int rc = mr_dw_begin(w, "alignments", mr_dw_align_cols, 6);
	struct mr_rng r;

	mr_rng_seed(&r, w->o->seed, 10);
	for (int64_t i = 0; rc == 0 && i < w->n; i++)
		rc = mr_dw_aligns_of(w, &r, i);
	return rc ? rc : mr_dw_end(w, "alignments");
}

/* ---- consents ---- */

static const char *const mr_dw_consent_cols[] = { "hcp", "channel", "purpose", "status",
						  "captured_at", "source", "evidence", "version" };

/* Where a consent on channel came from, and its evidence: a form, a WeCom message, paper, a call. */
static void mr_dw_evidence(struct mr_dw *w, struct mr_rng *r, const char *channel, int64_t at)
{
	const char *year = w->cell[4];
	const char *src = "web_form";

	if (strcmp(channel, "wecom") == 0)
		src = "wecom";
	else if (strcmp(channel, "phone") == 0)
		src = mr_rng_pct(r, 70) ? "rep" : "paper";
	else if (strcmp(channel, "visit") == 0)
		src = mr_rng_pct(r, 60) ? "paper" : "rep";
	else if (strcmp(channel, "sms") == 0 && mr_rng_pct(r, 25))
		src = "paper";
	w->v[5] = src;
	w->evseq++;
	if (strcmp(src, "wecom") == 0)
		mr_dw_setf(w, 6, "%llu%08lld_%lld",
			   (unsigned long long)(1000000000000ULL + mr_rng_below(r, 8999999999999LL)),
			   (long long)mr_rng_below(r, 100000000), (long long)(at / MR_US_PER_S));
	else
		mr_dw_setf(w, 6, "%s-%.4s-%06lld",
			   src[0] == 'w' ? "FORM" : (src[0] == 'p' ? "PAPER" : "CALL"), year,
			   (long long)w->evseq);
}

static int mr_dw_consent(struct mr_dw *w, struct mr_rng *r, const struct mr_demo_combo *c,
			 const char *status, int64_t at)
{
	w->v[1] = c->channel;
	w->v[2] = c->purpose;
	w->v[3] = status;
	mr_dw_time(at, w->cell[4], MR_DW_CELL);
	w->v[4] = w->cell[4];
	mr_dw_evidence(w, r, c->channel, at);
	/* the wording changed to v2 fifteen months ago */
	w->v[7] = at >= w->o->now_us - 15 * 30 * MR_DW_DAY_US ? "v2" : "v1";
	return mr_dw_row(w, &w->st->consents);
}

/*
 * A time in waking hours (08:00-21:00 in Shanghai) on a day from `back` to
 * back + span days before today: before now_us, in whole seconds.
 */
static int64_t mr_dw_day_time(struct mr_rng *r, int64_t now, int64_t back, int64_t span)
{
	int64_t local = now + 8 * MR_DW_HOUR_US;
	int64_t midnight = local / MR_DW_DAY_US * MR_DW_DAY_US - 8 * MR_DW_HOUR_US;
	int64_t day = back + mr_rng_below(r, (span < 0 ? 0 : span) + 1);

	return midnight - day * MR_DW_DAY_US + 8 * MR_DW_HOUR_US +
	       mr_rng_below(r, 13 * 3600) * MR_US_PER_S;
}

static int mr_dw_combo_ok(unsigned flags, const char *channel)
{
	if (strcmp(channel, "wecom") == 0)
		return (flags & MR_DW_WECOM) != 0;
	if (strcmp(channel, "wechat") == 0)
		return (flags & (MR_DW_UNION | MR_DW_OPENID)) != 0;
	if (strcmp(channel, "email") == 0)
		return (flags & MR_DW_EMAIL) != 0;
	return 1;
}

/* Doctor i's consents: a few channels and purposes; some opt-ins later withdrawn (two rows). */
static int mr_dw_consents_of(struct mr_dw *w, struct mr_rng *r, int64_t i)
{
	int wt[32], k, rc = 0;
	int64_t now = w->o->now_us;

	if (mr_rng_pct(r, 8))
		return 0;
	for (int c = 0; c < mr_demo_ncombos && c < 32; c++)
		wt[c] = mr_dw_combo_ok(w->hcp[i].flags, mr_demo_combos[c].channel) ? mr_demo_combos[c].weight : 0;
	mr_dw_setf(w, 0, "D%07lld", (long long)i + 1);
	k = 1 + (int)mr_rng_below(r, 5);
	for (int j = 0; rc == 0 && j < k; j++) {
		int c = mr_rng_weighted(r, wt, mr_demo_ncombos < 32 ? mr_demo_ncombos : 32);
		const struct mr_demo_combo *cb = &mr_demo_combos[c];
		int64_t at = mr_dw_day_time(r, now, 2, 3 * 365);
		int out = mr_rng_pct(r, cb->opt_out_pct);

		if (wt[c] == 0)
			break; /* nothing left to consent to */
		wt[c] = 0;
		rc = mr_dw_consent(w, r, cb, out ? "opt_out" : "opt_in", at);
		if (rc == 0 && !out && mr_rng_pct(r, 6))
			rc = mr_dw_consent(w, r, cb, "opt_out",
					   mr_dw_day_time(r, now, 1, (now - at) / MR_DW_DAY_US - 2));
	}
	return rc;
}

static int mr_dw_emit_consents(struct mr_dw *w)
{
	static const struct mr_demo_combo dup_combo[2] = { { "meeting", "meeting_invite", 1, 0 },
							    { "wechat", "medical_info", 1, 0 } };
	int rc = mr_dw_begin(w, "consents", mr_dw_consent_cols, 8);
	int64_t seq[2] = { 0, 0 };
	struct mr_rng r;

	mr_rng_seed(&r, w->o->seed, 11);
	for (int64_t i = 0; rc == 0 && i < w->n; i++)
		rc = mr_dw_consents_of(w, &r, i);
	for (int64_t i = 0; rc == 0 && i < w->n; i++) {
		const struct mr_dw_hcp *d = &w->hcp[i];

		if (d->dup < 0)
			continue;
		mr_dw_setf(w, 0, "%s-%06lld", mr_dw_dup_prefix[d->dup], (long long)++seq[d->dup]);
		rc = mr_dw_consent(w, &r, &dup_combo[d->dup], "opt_in",
				   mr_dw_day_time(&r, w->o->now_us, 1, 365));
	}
	return rc ? rc : mr_dw_end(w, "consents");
}

/* ---- the whole ---- */

/* The 1st of each of the last months, at midnight in Shanghai; now's year. */
static int mr_dw_plan_months(struct mr_dw *w)
{
	char buf[64];
	int64_t y, m;

	mr_time_format(w->o->now_us + 8 * MR_DW_HOUR_US, buf, sizeof(buf));
	buf[4] = buf[7] = '\0';
	if (mr_parse_i64(buf, 2000, 9000, &y) < 0 || mr_parse_i64(buf + 5, 1, 12, &m) < 0)
		return mr_err_field(w->err, MR_EINVAL, "now_us", "now_us must be a time after 2000");
	w->now_year = (int)y;
	for (int k = 0; k < MR_DW_MONTHS; k++) {
		int64_t mm = y * 12 + (m - 1) - k;

		snprintf(buf, sizeof(buf), "%04lld-%02lld-01T00:00:00+08:00", (long long)(mm / 12),
			 (long long)(mm % 12 + 1));
		if (mr_time_parse(buf, 0, &w->month[k]) < 0)
			return mr_err_set(w->err, MR_EINTERNAL, "demo world: bad month %s", buf);
	}
	return 0;
}

/* Indexes the primaries' phones and licence numbers, so second records never take one. */
static void mr_dw_plan_sets(struct mr_dw *w, int64_t ndup)
{
	mr_dw_set_init(&w->phones, w->n + ndup);
	mr_dw_set_init(&w->licences, w->n + ndup);
	mr_dw_set_init(&w->emails, w->n + ndup);
	for (int64_t i = 0; i < w->n; i++) {
		const struct mr_dw_hcp *d = &w->hcp[i];

		mr_dw_set_add(&w->phones, mr_dw_phone_key(d->pfx, d->phone));
		mr_dw_set_add(&w->licences, mr_dw_lic_key(w, d, d->lic));
	}
}

static int mr_dw_plan(struct mr_dw *w)
{
	int64_t ndup = 0;
	int ngroups;
	int rc = mr_dw_plan_months(w);

	if (rc == 0)
		rc = mr_dw_plan_geo(w);
	if (rc < 0)
		return rc;
	mr_dw_plan_names(w);
	mr_dw_plan_hcos(w);
	mr_dw_plan_hcps(w);
	mr_dw_plan_cover(w);
	ngroups = mr_demo_ncities + mr_demo_nprovinces + 2 * mr_demo_nregions + 4;
	w->group = mr_calloc((size_t)ngroups, sizeof(*w->group));
	mr_dw_plan_field(w);
	mr_dw_plan_hybrid(w);
	mr_dw_plan_regional(w, MR_DW_COVER_INSIDE, MR_DW_INSIDE | MR_DW_HYBRID, 800.0);
	mr_dw_plan_regional(w, MR_DW_COVER_MSL, MR_DW_KOL, 2500.0);
	mr_dw_plan_kams(w);
	mr_dw_plan_reps(w);
	for (int g = 0; g < w->ngroup; g++)
		mr_dw_assign(w, g);
	mr_dw_plan_dups(w, &ndup);
	mr_dw_plan_sets(w, ndup);
	return 0;
}

static int mr_dw_emit(struct mr_dw *w)
{
	int rc = mr_dw_emit_territories(w);

	if (rc == 0)
		rc = mr_dw_emit_hcos(w);
	if (rc == 0)
		rc = mr_dw_emit_reps(w);
	if (rc == 0)
		rc = mr_dw_emit_hcps(w);
	if (rc == 0)
		rc = mr_dw_emit_identities(w);
	if (rc == 0)
		rc = mr_dw_emit_alignments(w);
	if (rc == 0)
		rc = mr_dw_emit_consents(w);
	return rc;
}

static void mr_dw_free(struct mr_dw *w)
{
	for (int g = 0; g < w->ngroup; g++)
		free(w->group[g].reps);
	free(w->group);
	free(w->city);
	free(w->prov_region);
	free(w->prov_terr);
	free(w->region_terr);
	free(w->terr);
	free(w->hco);
	free(w->hcp);
	free(w->by_hco);
	free(w->rep);
	free(w->kam_city);
	free(w->pool[0]);
	free(w->pool[1]);
	free(w->phones.k);
	free(w->licences.k);
	free(w->emails.k);
	free(w);
}

static int mr_dw_check(const struct mr_demo_opts *o, const struct mr_demo_sink *sink,
		       struct mr_err *err)
{
	if (!o || !sink || !sink->begin || !sink->row || !sink->end)
		return mr_err_set(err, MR_EINVAL, "demo world: options and all three sink callbacks are required");
	if (o->hcps < 1 || o->hcps > MR_DW_MAX_HCPS)
		return mr_err_field(err, MR_EINVAL, "hcps", "the number of HCPs must be from 1 to %d",
				    MR_DW_MAX_HCPS);
	if (!(o->dup_share >= 0.0 && o->dup_share <= 1.0))
		return mr_err_field(err, MR_EINVAL, "dup_share", "the share of duplicates must be from 0 to 1");
	return 0;
}

int mr_demo_world(const struct mr_demo_opts *opts, const struct mr_demo_sink *sink,
		  struct mr_demo_stats *stats, struct mr_err *err)
{
	struct mr_demo_stats none;
	struct mr_dw *w;
	int rc;

	if (!stats)
		stats = &none;
	memset(stats, 0, sizeof(*stats));
	rc = mr_dw_check(opts, sink, err);
	if (rc < 0)
		return rc;
	w = mr_calloc(1, sizeof(*w));
	w->o = opts;
	w->sink = sink;
	w->st = stats;
	w->err = err;
	w->n = opts->hcps;
	rc = mr_dw_plan(w);
	if (rc == 0)
		rc = mr_dw_emit(w);
	mr_dw_free(w);
	return rc;
}
