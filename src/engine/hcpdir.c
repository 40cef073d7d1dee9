/*
 * See hcpdir.h. The state that searches read (struct mr_hd_data) is
 * changed only under the write lock: a full load builds a whole new one
 * outside the lock and swaps it in; an incremental sync reads the changed
 * rows outside the lock and applies them inside it.
 *
 * Strings live in one append-only pool, addressed by 32-bit offsets (0 is
 * NULL). Each search key has a sorted array of (id, key offset at sort
 * time); an HCP whose key changed later is "dirty": its old entries no
 * longer count (the offset differs) and it is looked at directly until the
 * next rebuild of the arrays, which happens once there are many dirty ones.
 */
#include "engine/hcpdir.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/time.h"

enum { MR_HD_KEYS = 3 };
enum mr_hd_state { MR_HD_ABSENT, MR_HD_LIVE, MR_HD_DELETED, MR_HD_MERGED };

enum {
	MR_HD_MAX_PENDING = 20000, /* more changes than this: load everything again */
	MR_HD_LISTENERS = 4,
	MR_HD_MAX_DIRTY = 4096,    /* more dirty HCPs than this: sort the key arrays again */
	MR_HD_CHUNK = 200,         /* ids per "IN (...)" when reloading rows */
	MR_HD_MAX_HOLES = 1024,
};
#define MR_HD_HOLE_TTL_US (60 * MR_US_PER_S)

struct mr_hd_hcp {
	uint32_t ext;               /* pool offsets; 0 for NULL */
	uint32_t key[MR_HD_KEYS];   /* name_key, pinyin_key, initials */
	uint32_t *al;               /* ids of alignments that named this HCP (check al[].hcp) */
	uint32_t nal, capal;
	uint32_t merged_into;       /* 0: none */
	uint32_t *from;             /* records once merged into this one (check their merged_into) */
	uint32_t nfrom, capfrom;
	uint8_t state;
	uint8_t dirty;              /* keys changed since the sorted arrays were built */
};

struct mr_hd_align {
	uint32_t hcp, rep;
	int64_t from, to;           /* to: INT64_MAX when open-ended */
	uint8_t live;               /* loaded and not deleted */
	uint8_t role;               /* enum mr_align_role */
};

struct mr_hd_rep {
	uint32_t manager;           /* 0: none */
	uint32_t ext;               /* pool offset */
	uint8_t known, deleted;
	uint8_t type;               /* enum mr_rep_type */
	uint32_t *al;               /* ids of alignments that named this rep (check al[].rep) */
	uint32_t nal, capal;
};

/*
 * A slot of the external-id tables: the id with 32 more bits of the hash,
 * and the external id itself when it is short (most are: D0042539), so
 * that finding one touches one cache line, not the HCP's record and the
 * string pool too.
 */
enum { MR_HD_INLINE = 24 };
struct mr_hd_slot {
	uint64_t tag;               /* MR_HD_SLOT(hash, id); 0: empty */
	char ext[MR_HD_INLINE];     /* the external id, or "" when it is longer */
};

struct mr_hd_sorted {
	uint32_t id;
	uint32_t key;               /* the key's pool offset when sorted */
};

struct mr_hd_data {
	char *pool;
	size_t pool_len, pool_cap;
	struct mr_hd_hcp *hcp;      /* by internal id */
	uint32_t nhcp, caphcp;
	uint32_t nlive;
	struct mr_hd_align *al;     /* by alignment id */
	uint32_t nal, capal;
	struct mr_hd_rep *rep;      /* by rep id */
	uint32_t nrep, caprep;
	struct mr_hd_sorted *sorted[MR_HD_KEYS];
	uint32_t nsorted[MR_HD_KEYS];
	uint32_t *dirty;
	uint32_t ndirty, capdirty;
	struct mr_hd_slot *ht;      /* HCP ids by external id (open addressing, 0 empty) */
	uint32_t htcap, htused;
	struct mr_hd_slot *rht;     /* rep ids by external id, likewise */
	uint32_t rhtcap, rhtused;
};

struct mr_hd_hole {
	int64_t id;
	int64_t since_us;
};

struct mr_hcpdir {
	pthread_rwlock_t lock;      /* guards data */
	atomic_int ready;           /* data was loaded once */
	pthread_t loader;
	int loading;                /* the loader thread was started */
	struct mr_store *store;
	pthread_mutex_t sync_mu;    /* one sync at a time; guards what follows */
	struct mr_hd_data *data;    /* NULL until loaded */
	int64_t applied;
	struct mr_hd_hole holes[MR_HD_MAX_HOLES];
	int nholes;
	struct mr_hcpdir_stats stats;
	struct {
		mr_hcpdir_listen_fn fn;
		void *arg;
	} listen[MR_HD_LISTENERS];
	int nlisten;
};

/* ------------------------------------------------------------ growable parts */

#define MR_HD_GROW(ptr, n, cap, need)                                                           \
	do {                                                                                   \
		if ((need) > (cap)) {                                                          \
			size_t c_ = (cap) ? (size_t)(cap) * 2 : 16;                            \
			while (c_ < (size_t)(need))                                            \
				c_ *= 2;                                                       \
			(ptr) = mr_realloc((ptr), c_ * sizeof(*(ptr)));                        \
			memset((ptr) + (cap), 0, (c_ - (size_t)(cap)) * sizeof(*(ptr)));      \
			(cap) = (uint32_t)c_;                                                  \
		}                                                                              \
	} while (0)

static uint32_t mr_hd_str(struct mr_hd_data *d, const char *s)
{
	size_t n;

	if (!s)
		return 0;
	n = strlen(s) + 1;
	if (d->pool_len + n > d->pool_cap) {
		size_t cap = d->pool_cap ? d->pool_cap * 2 : 1 << 20;

		while (cap < d->pool_len + n)
			cap *= 2;
		d->pool = mr_realloc(d->pool, cap);
		d->pool_cap = cap;
	}
	memcpy(d->pool + d->pool_len, s, n);
	d->pool_len += n;
	return (uint32_t)(d->pool_len - n);
}

static struct mr_hd_data *mr_hd_data_new(void)
{
	struct mr_hd_data *d = mr_calloc(1, sizeof(*d));

	mr_hd_str(d, ""); /* offset 0 stands for NULL */
	d->pool[0] = '\0';
	return d;
}

static void mr_hd_data_free(struct mr_hd_data *d)
{
	if (!d)
		return;
	for (uint32_t i = 0; i < d->nhcp; i++) {
		free(d->hcp[i].al);
		free(d->hcp[i].from);
	}
	for (uint32_t i = 0; i < d->nrep; i++)
		free(d->rep[i].al);
	for (int k = 0; k < MR_HD_KEYS; k++)
		free(d->sorted[k]);
	free(d->pool);
	free(d->hcp);
	free(d->al);
	free(d->rep);
	free(d->dirty);
	free(d->ht);
	free(d->rht);
	free(d);
}

static struct mr_hd_hcp *mr_hd_hcp_at(struct mr_hd_data *d, uint32_t id)
{
	MR_HD_GROW(d->hcp, d->nhcp, d->caphcp, id + 1);
	if (id >= d->nhcp)
		d->nhcp = id + 1;
	return &d->hcp[id];
}

static struct mr_hd_rep *mr_hd_rep_at(struct mr_hd_data *d, uint32_t id)
{
	MR_HD_GROW(d->rep, d->nrep, d->caprep, id + 1);
	if (id >= d->nrep)
		d->nrep = id + 1;
	return &d->rep[id];
}

static void mr_hd_push(uint32_t **a, uint32_t *n, uint32_t *cap, uint32_t v)
{
	for (uint32_t i = 0; i < *n; i++) {
		if ((*a)[i] == v)
			return;
	}
	MR_HD_GROW(*a, *n, *cap, *n + 1);
	(*a)[(*n)++] = v;
}

/* ------------------------------------------------------------ external ids */

/*
 * FNV-1a, then MurmurHash3's finaliser: FNV's low bits, which pick the
 * slot, barely differ between ids like D0042539 and D0042549, which made
 * probe runs long; the finaliser spreads every bit over all of them.
 */
static uint64_t mr_hd_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/*
 * A hash table of ids by external id (open addressing, 0 empty), over the
 * HCPs or the reps: ext_of gives an id's external id. A slot holds the id
 * and 32 more bits of the hash, so a probe past another id costs no visit
 * to that id's string. External ids never change: an entry never moves.
 */
struct mr_hd_ht {
	struct mr_hd_slot **slots;
	uint32_t *cap, *used;
};

#define MR_HD_SLOT(h, id) (((h) & 0xffffffff00000000ULL) | (id))
#define MR_HD_SLOT_ID(s) ((uint32_t)(s).tag)

static const char *mr_hd_ext_hcp(const struct mr_hd_data *d, uint32_t id)
{
	return d->pool + d->hcp[id].ext;
}

static const char *mr_hd_ext_rep(const struct mr_hd_data *d, uint32_t id)
{
	return d->pool + d->rep[id].ext;
}

static void mr_hd_ht_put(struct mr_hd_data *d, struct mr_hd_ht t,
			 const char *(*ext_of)(const struct mr_hd_data *, uint32_t), uint32_t id)
{
	uint64_t h;
	uint32_t i;

	const char *ext = ext_of(d, id);
	struct mr_hd_slot *s;

	if ((*t.used + 1) * 2 > *t.cap) {
		struct mr_hd_slot *old = *t.slots;
		uint32_t oldcap = *t.cap;

		*t.cap = oldcap ? oldcap * 2 : 1024;
		*t.slots = mr_calloc(*t.cap, sizeof(**t.slots));
		*t.used = 0;
		for (uint32_t k = 0; k < oldcap; k++) {
			if (old[k].tag)
				mr_hd_ht_put(d, t, ext_of, MR_HD_SLOT_ID(old[k]));
		}
		free(old);
	}
	h = mr_hd_hash(ext);
	i = (uint32_t)h & (*t.cap - 1);
	while ((*t.slots)[i].tag) {
		if (MR_HD_SLOT_ID((*t.slots)[i]) == id)
			return;
		i = (i + 1) & (*t.cap - 1);
	}
	s = &(*t.slots)[i];
	s->tag = MR_HD_SLOT(h, id);
	if (strlen(ext) < MR_HD_INLINE)
		memcpy(s->ext, ext, strlen(ext) + 1);
	else
		s->ext[0] = '\0';
	(*t.used)++;
}

static uint32_t mr_hd_ht_get(const struct mr_hd_data *d, const struct mr_hd_slot *slots,
			     uint32_t cap, const char *(*ext_of)(const struct mr_hd_data *, uint32_t),
			     const char *ext)
{
	uint64_t h;
	uint32_t i;

	if (!cap)
		return 0;
	h = mr_hd_hash(ext);
	i = (uint32_t)h & (cap - 1);
	while (slots[i].tag) {
		const struct mr_hd_slot *s = &slots[i];

		if ((s->tag >> 32) == (h >> 32) &&
		    strcmp(s->ext[0] ? s->ext : ext_of(d, MR_HD_SLOT_ID(*s)), ext) == 0)
			return MR_HD_SLOT_ID(*s);
		i = (i + 1) & (cap - 1);
	}
	return 0;
}

/* ------------------------------------------------------------ reps */

static const char *const mr_rep_types[] = { "", "field", "inside", "msl", "kam" };

int mr_rep_type_parse(const char *name)
{
	for (int i = 1; name && i < (int)(sizeof(mr_rep_types) / sizeof(mr_rep_types[0])); i++) {
		if (strcmp(mr_rep_types[i], name) == 0)
			return i;
	}
	return MR_REP_NONE;
}

const char *mr_rep_type_name(int type)
{
	return type > 0 && type < (int)(sizeof(mr_rep_types) / sizeof(mr_rep_types[0])) ?
	       mr_rep_types[type] : NULL;
}

static const char *const mr_align_roles[] = { "", "field_owner", "inside_owner", "msl" };

int mr_align_role_parse(const char *name)
{
	for (int i = 1; name && i < (int)(sizeof(mr_align_roles) / sizeof(mr_align_roles[0])); i++) {
		if (strcmp(mr_align_roles[i], name) == 0)
			return i;
	}
	return MR_AL_NONE;
}

/* ------------------------------------------------------------ rows */

/* Sets HCP id from a row (id, ext_id, name_key, pinyin_key, initials, deleted, merged_into). */
static void mr_hd_set_hcp(struct mr_hd_data *d, uint32_t id, const char *ext, const char *const key[],
			  int deleted, uint32_t merged, int sorted)
{
	struct mr_hd_hcp *h = mr_hd_hcp_at(d, id);
	int was_live = h->state == MR_HD_LIVE;
	int changed = 0;

	if (!h->ext && ext) {
		h->ext = mr_hd_str(d, ext);
		mr_hd_ht_put(d, (struct mr_hd_ht){ &d->ht, &d->htcap, &d->htused }, mr_hd_ext_hcp, id);
	}
	for (int k = 0; k < MR_HD_KEYS; k++) {
		const char *now = h->key[k] ? d->pool + h->key[k] : NULL;

		if ((now == NULL) != (key[k] == NULL) || (now && strcmp(now, key[k]) != 0)) {
			h->key[k] = mr_hd_str(d, key[k]);
			changed = 1;
		}
	}
	h->state = merged ? MR_HD_MERGED : deleted ? MR_HD_DELETED : MR_HD_LIVE;
	h->merged_into = merged;
	if (merged) {
		struct mr_hd_hcp *s = mr_hd_hcp_at(d, merged);

		h = &d->hcp[id]; /* the array may have moved */
		mr_hd_push(&s->from, &s->nfrom, &s->capfrom, id);
	}
	d->nlive += (h->state == MR_HD_LIVE) - was_live;
	if (changed && sorted && !h->dirty) {
		h->dirty = 1;
		MR_HD_GROW(d->dirty, d->ndirty, d->capdirty, d->ndirty + 1);
		d->dirty[d->ndirty++] = id;
	}
}

/* Sets alignment id from a row (id, hcp_id, rep_id, valid_from, valid_to, deleted). */
static void mr_hd_set_align(struct mr_hd_data *d, uint32_t id, uint32_t hcp, uint32_t rep,
			    int64_t from, int64_t to, int deleted, const char *role)
{
	struct mr_hd_align *a;
	struct mr_hd_hcp *h = mr_hd_hcp_at(d, hcp);
	struct mr_hd_rep *r = mr_hd_rep_at(d, rep);

	MR_HD_GROW(d->al, d->nal, d->capal, id + 1);
	if (id >= d->nal)
		d->nal = id + 1;
	a = &d->al[id];
	a->hcp = hcp;
	a->rep = rep;
	a->from = from;
	a->to = to;
	a->live = !deleted;
	a->role = (uint8_t)mr_align_role_parse(role);
	mr_hd_push(&h->al, &h->nal, &h->capal, id);
	mr_hd_push(&r->al, &r->nal, &r->capal, id);
}

static void mr_hd_set_rep(struct mr_hd_data *d, uint32_t id, uint32_t manager, int deleted,
			  const char *ext, const char *type)
{
	struct mr_hd_rep *r = mr_hd_rep_at(d, id);

	r->known = 1;
	r->manager = manager;
	r->deleted = (uint8_t)deleted;
	r->type = (uint8_t)mr_rep_type_parse(type);
	if (!r->ext && ext) {
		r->ext = mr_hd_str(d, ext);
		mr_hd_ht_put(d, (struct mr_hd_ht){ &d->rht, &d->rhtcap, &d->rhtused }, mr_hd_ext_rep, id);
	}
}

static int64_t mr_hd_int_or(struct mr_rows *rows, int col, int64_t dflt)
{
	return mr_rows_isnull(rows, col) ? dflt : mr_rows_int(rows, col);
}

#define MR_HD_HCP_COLS                                                                        \
	"SELECT id, ext_id, name_key, pinyin_key, initials, deleted_at IS NOT NULL,"          \
	" COALESCE(merged_into, 0) FROM hcps"
#define MR_HD_ALIGN_COLS                                                                      \
	"SELECT id, hcp_id, rep_id, valid_from, valid_to, deleted_at IS NOT NULL, role FROM alignments"
#define MR_HD_REP_COLS                                                                        \
	"SELECT id, COALESCE(manager_id, 0), deleted_at IS NOT NULL, ext_id, type FROM reps"

/* Runs sql (with args) and sets each HCP, alignment or rep row it returns. */
static int mr_hd_read(struct mr_hd_data *d, struct mr_conn *c, char what, const char *sql,
		      const struct mr_val *args, int nargs, int sorted, struct mr_err *err)
{
	struct mr_rows *rows = NULL;
	int rc = mr_conn_query(c, sql, args, nargs, &rows, err);

	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		uint32_t id = (uint32_t)mr_rows_int(rows, 0);

		rc = 0;
		if (what == 'h') {
			const char *key[MR_HD_KEYS] = { mr_rows_text(rows, 2), mr_rows_text(rows, 3),
							mr_rows_text(rows, 4) };

			mr_hd_set_hcp(d, id, mr_rows_text(rows, 1), key, (int)mr_rows_int(rows, 5),
				      (uint32_t)mr_rows_int(rows, 6), sorted);
		} else if (what == 'a') {
			mr_hd_set_align(d, id, (uint32_t)mr_rows_int(rows, 1), (uint32_t)mr_rows_int(rows, 2),
					mr_rows_int(rows, 3), mr_hd_int_or(rows, 4, INT64_MAX),
					(int)mr_rows_int(rows, 5), mr_rows_text(rows, 6));
		} else {
			mr_hd_set_rep(d, id, (uint32_t)mr_rows_int(rows, 1), (int)mr_rows_int(rows, 2),
				      mr_rows_text(rows, 3), mr_rows_text(rows, 4));
		}
	}
	mr_rows_close(rows);
	return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------ the key arrays */

static int mr_hd_cmp_sorted(const void *x, const void *y, void *arg)
{
	const struct mr_hd_sorted *a = x, *b = y;
	int c = strcmp((const char *)arg + a->key, (const char *)arg + b->key);

	if (c)
		return c;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* Sorts every key array again from the current keys; no HCP is dirty after. */
static void mr_hd_sort(struct mr_hd_data *d)
{
	for (int k = 0; k < MR_HD_KEYS; k++) {
		uint32_t n = 0;

		free(d->sorted[k]);
		d->sorted[k] = mr_malloc(((size_t)d->nhcp + 1) * sizeof(*d->sorted[k]));
		for (uint32_t id = 1; id < d->nhcp; id++) {
			if (d->hcp[id].key[k]) {
				d->sorted[k][n].id = id;
				d->sorted[k][n].key = d->hcp[id].key[k];
				n++;
			}
		}
		qsort_r(d->sorted[k], n, sizeof(*d->sorted[k]), mr_hd_cmp_sorted, d->pool);
		d->nsorted[k] = n;
	}
	for (uint32_t i = 0; i < d->ndirty; i++)
		d->hcp[d->dirty[i]].dirty = 0;
	d->ndirty = 0;
}

/* The first entry of key array k whose key is >= s. */
static uint32_t mr_hd_lower(const struct mr_hd_data *d, int k, const char *s)
{
	uint32_t lo = 0, hi = d->nsorted[k];

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (strcmp(d->pool + d->sorted[k][mid].key, s) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* 1 when HCP id's current keys fall in any of the ranges (bytewise, as the store compares). */
static int mr_hd_match(const struct mr_hd_data *d, uint32_t id, const struct mr_md_ranges *r)
{
	const struct mr_hd_hcp *h = &d->hcp[id];

	for (int i = 0; i < r->n; i++) {
		const char *key = h->key[i] ? d->pool + h->key[i] : NULL;

		if (key && strcmp(key, r->from[i]) >= 0 && strcmp(key, r->to[i]) < 0)
			return 1;
	}
	return 0;
}

/* ------------------------------------------------------------ scope */

/* The caller's team as a bitmap over rep ids: root, then every live rep managed from it. */
static unsigned char *mr_hd_team(const struct mr_hd_data *d, uint32_t root)
{
	unsigned char *in = mr_calloc((size_t)d->nrep + 1, 1);
	int grew = 1;

	if (root < d->nrep)
		in[root] = 1;
	while (grew) {
		grew = 0;
		for (uint32_t id = 1; id < d->nrep; id++) {
			const struct mr_hd_rep *r = &d->rep[id];

			if (!in[id] && r->known && !r->deleted && r->manager && r->manager < d->nrep &&
			    in[r->manager]) {
				in[id] = 1;
				grew = 1;
			}
		}
	}
	return in;
}

static int mr_hd_align_now(const struct mr_hd_align *a, int64_t at)
{
	return a->live && a->from <= at && a->to > at;
}

/* 1 when HCP id is aligned now to the scope's rep (rep) or to one of its team (team). */
static int mr_hd_in_scope(const struct mr_hd_data *d, uint32_t id, const struct mr_scope *s,
			  const unsigned char *team)
{
	const struct mr_hd_hcp *h = &d->hcp[id];

	if (s->kind == MR_SCOPE_ALL)
		return 1;
	for (uint32_t i = 0; i < h->nal; i++) {
		const struct mr_hd_align *a = &d->al[h->al[i]];

		if (a->hcp != id || !mr_hd_align_now(a, s->at))
			continue;
		if (s->kind == MR_SCOPE_REP ? a->rep == (uint32_t)s->rep_id : (team && team[a->rep]))
			return 1;
	}
	return 0;
}

/* ------------------------------------------------------------ pages */

static int mr_hd_cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

/* Sorts ids and drops repeats; returns the new count. */
static uint32_t mr_hd_sort_unique(uint32_t *ids, uint32_t n)
{
	uint32_t m = 0;

	qsort(ids, n, sizeof(*ids), mr_hd_cmp_u32);
	for (uint32_t i = 0; i < n; i++) {
		if (m == 0 || ids[m - 1] != ids[i])
			ids[m++] = ids[i];
	}
	return m;
}

/* Keeps, in order, the candidates after the cursor that are live, match and are in scope. */
static void mr_hd_take(const struct mr_hd_data *d, const uint32_t *cand, uint32_t n,
		       const struct mr_md_query *q, const struct mr_md_ranges *r,
		       const struct mr_scope *s, const unsigned char *team, int64_t *ids, int *nids)
{
	for (uint32_t i = 0; i < n && *nids <= q->limit; i++) {
		uint32_t id = cand[i];

		if ((int64_t)id <= q->cursor || d->hcp[id].state != MR_HD_LIVE || !mr_hd_match(d, id, r) ||
		    !mr_hd_in_scope(d, id, s, team))
			continue;
		ids[(*nids)++] = id;
	}
}

/* The HCPs aligned now to rep, in id order (a rep has a few hundred at most). */
static uint32_t *mr_hd_rep_hcps(const struct mr_hd_data *d, uint32_t rep, int64_t at, uint32_t *n)
{
	const struct mr_hd_rep *r = rep < d->nrep ? &d->rep[rep] : NULL;
	uint32_t *ids = mr_malloc(((size_t)(r ? r->nal : 0) + 1) * sizeof(*ids));

	*n = 0;
	for (uint32_t i = 0; r && i < r->nal; i++) {
		const struct mr_hd_align *a = &d->al[r->al[i]];

		if (a->rep == rep && mr_hd_align_now(a, at))
			ids[(*n)++] = a->hcp;
	}
	*n = mr_hd_sort_unique(ids, *n);
	return ids;
}

/* The ids whose keys fall in the ranges, from the key arrays and the dirty list, in id order. */
static uint32_t *mr_hd_range_ids(const struct mr_hd_data *d, const struct mr_md_ranges *r,
				 uint32_t total, uint32_t *n)
{
	uint32_t *ids = mr_malloc(((size_t)total + 1) * sizeof(*ids));

	*n = 0;
	for (int k = 0; k < r->n; k++) {
		uint32_t lo = mr_hd_lower(d, k, r->from[k]), hi = mr_hd_lower(d, k, r->to[k]);

		for (uint32_t i = lo; i < hi; i++) {
			const struct mr_hd_sorted *e = &d->sorted[k][i];

			if (!d->hcp[e->id].dirty && d->hcp[e->id].key[k] == e->key)
				ids[(*n)++] = e->id;
		}
	}
	for (uint32_t i = 0; i < d->ndirty; i++)
		ids[(*n)++] = d->dirty[i];
	*n = mr_hd_sort_unique(ids, *n);
	return ids;
}

/* How many key-array entries the ranges span (an upper bound of the matches), dirty ones added. */
static uint32_t mr_hd_range_size(const struct mr_hd_data *d, const struct mr_md_ranges *r)
{
	uint32_t n = d->ndirty;

	for (int k = 0; k < r->n; k++)
		n += mr_hd_lower(d, k, r->to[k]) - mr_hd_lower(d, k, r->from[k]);
	return n;
}

/*
 * Collect or walk (as md/query.c decides for the store): walking ids in
 * order costs about (limit + 1) * live / matches steps, collecting the
 * matches about their number times a sort; they meet near two thirds of
 * the square root of (limit + 1) * live.
 */
static void mr_hd_search(const struct mr_hd_data *d, const struct mr_md_query *q,
			 const struct mr_md_ranges *r, const struct mr_scope *s,
			 const unsigned char *team, int64_t *ids, int *nids)
{
	uint32_t total = mr_hd_range_size(d, r);
	double cap = sqrt((double)(q->limit + 1) * (double)d->nlive) * 2 / 3 + 64;
	uint32_t n = 0, *cand;

	if (s->kind == MR_SCOPE_REP) {
		cand = mr_hd_rep_hcps(d, (uint32_t)s->rep_id, s->at, &n);
	} else if ((double)total < cap) {
		cand = mr_hd_range_ids(d, r, total, &n);
	} else {
		for (uint32_t id = (uint32_t)q->cursor + 1; id < d->nhcp && *nids <= q->limit; id++) {
			if (d->hcp[id].state == MR_HD_LIVE && mr_hd_match(d, id, r) &&
			    mr_hd_in_scope(d, id, s, team))
				ids[(*nids)++] = id;
		}
		return;
	}
	mr_hd_take(d, cand, n, q, r, s, team, ids, nids);
	free(cand);
}

int mr_hcpdir_page(struct mr_hcpdir *d, const struct mr_md_query *q, const struct mr_scope *s,
		   int64_t *ids, int *n)
{
	struct mr_md_ranges r;
	struct mr_arena a;
	unsigned char *team = NULL;
	int answered = 0;

	*n = 0;
	if (!q->q || !*q->q || q->nfilters || q->territory || q->rep || q->include_deleted ||
	    q->cursor < 0 || q->cursor >= UINT32_MAX)
		return 0;
	mr_arena_init(&a);
	mr_md_ranges(&mr_md_hcp, q->q, &a, &r);
	pthread_rwlock_rdlock(&d->lock);
	if (d->data && s->kind != MR_SCOPE_NONE) {
		if (s->kind == MR_SCOPE_TEAM)
			team = mr_hd_team(d->data, (uint32_t)s->rep_id);
		mr_hd_search(d->data, q, &r, s, team, ids, n);
		answered = 1;
	} else if (d->data) {
		answered = 1; /* no one is in an empty scope */
	}
	pthread_rwlock_unlock(&d->lock);
	free(team);
	mr_arena_release(&a);
	return answered;
}

int64_t mr_hcpdir_lookup(struct mr_hcpdir *d, const char *ext)
{
	int64_t id = 0;

	pthread_rwlock_rdlock(&d->lock);
	if (d->data) {
		const struct mr_hd_data *x = d->data;
		uint32_t i = mr_hd_ht_get(x, x->ht, x->htcap, mr_hd_ext_hcp, ext);

		if (i && x->hcp[i].state == MR_HD_LIVE)
			id = i;
	}
	pthread_rwlock_unlock(&d->lock);
	return id;
}

int mr_hcpdir_resolve(struct mr_hcpdir *d, struct mr_event *ev, int n, unsigned char *miss)
{
	int misses = 0;

	pthread_rwlock_rdlock(&d->lock);
	for (int i = 0; i < n; i++) {
		const struct mr_hd_data *x = d->data;
		struct mr_event *e = &ev[i];

		if (x && e->hcp && !e->hcp_id) {
			uint32_t id = mr_hd_ht_get(x, x->ht, x->htcap, mr_hd_ext_hcp, e->hcp);

			/* a merged record takes events too: they are its survivor's, and go back on an unmerge */
			e->hcp_id = id && (x->hcp[id].state == MR_HD_LIVE || x->hcp[id].state == MR_HD_MERGED) ?
				    id : 0;
		}
		if (x && e->rep && !e->rep_id) {
			uint32_t id = mr_hd_ht_get(x, x->rht, x->rhtcap, mr_hd_ext_rep, e->rep);

			e->rep_id = id && !x->rep[id].deleted ? id : 0;
		}
		miss[i] = (e->hcp && !e->hcp_id) || (e->rep && !e->rep_id);
		misses += miss[i];
	}
	pthread_rwlock_unlock(&d->lock);
	return misses;
}

int64_t mr_hcpdir_rep(struct mr_hcpdir *d, const char *ext, int *type)
{
	int64_t id = 0;

	pthread_rwlock_rdlock(&d->lock);
	if (d->data) {
		const struct mr_hd_data *x = d->data;
		uint32_t i = mr_hd_ht_get(x, x->rht, x->rhtcap, mr_hd_ext_rep, ext);

		if (i && !x->rep[i].deleted) {
			id = i;
			if (type)
				*type = x->rep[i].type;
		}
	}
	pthread_rwlock_unlock(&d->lock);
	return id;
}

int mr_hcpdir_reps_of(struct mr_hcpdir *d, unsigned mask, unsigned char **bits, uint32_t *n)
{
	int ok = 0;

	*bits = NULL;
	*n = 0;
	pthread_rwlock_rdlock(&d->lock);
	if (d->data) {
		*n = d->data->nrep;
		*bits = mr_calloc((size_t)*n + 1, 1);
		for (uint32_t i = 0; i < *n; i++)
			(*bits)[i] = (mask >> d->data->rep[i].type & 1) && d->data->rep[i].type;
		ok = 1;
	}
	pthread_rwlock_unlock(&d->lock);
	return ok;
}

int mr_hcpdir_rep_type(struct mr_hcpdir *d, int64_t rep_id)
{
	int type = MR_REP_NONE;

	pthread_rwlock_rdlock(&d->lock);
	if (d->data && rep_id > 0 && (uint64_t)rep_id < d->data->nrep)
		type = d->data->rep[rep_id].type;
	pthread_rwlock_unlock(&d->lock);
	return type;
}

int mr_hcpdir_cluster(struct mr_hcpdir *d, int64_t hcp_id, uint32_t *ids, int max)
{
	int n = 0;

	pthread_rwlock_rdlock(&d->lock);
	if (d->data && hcp_id > 0 && (uint64_t)hcp_id < d->data->nhcp && max > 0) {
		const struct mr_hd_data *x = d->data;

		ids[n++] = (uint32_t)hcp_id;
		/* breadth first over the records merged into each member */
		for (int k = 0; k < n; k++) {
			const struct mr_hd_hcp *h = &x->hcp[ids[k]];

			for (uint32_t i = 0; i < h->nfrom && n < max; i++) {
				uint32_t m = h->from[i];

				if (x->hcp[m].merged_into == ids[k])
					ids[n++] = m;
			}
		}
	}
	pthread_rwlock_unlock(&d->lock);
	return n;
}

/* ------------------------------------------------------------ sync */

/* Reads everything into a new data set, as of one snapshot, and the md_changes id it reflects. */
static int mr_hd_load(struct mr_conn *c, struct mr_hd_data **out, int64_t *applied,
		      struct mr_err *err)
{
	struct mr_hd_data *d = mr_hd_data_new();
	int rc = mr_conn_begin_read(c, err);

	*out = NULL;
	if (rc == 0)
		rc = mr_conn_query_int(c, "SELECT COALESCE(MAX(id), 0) FROM md_changes", NULL, 0, applied,
				       err);
	if (rc == 0)
		rc = mr_hd_read(d, c, 'h', MR_HD_HCP_COLS " ORDER BY id", NULL, 0, 0, err);
	if (rc == 0)
		rc = mr_hd_read(d, c, 'r', MR_HD_REP_COLS " ORDER BY id", NULL, 0, 0, err);
	if (rc == 0)
		rc = mr_hd_read(d, c, 'a', MR_HD_ALIGN_COLS " ORDER BY id", NULL, 0, 0, err);
	if (rc == 0)
		rc = mr_conn_commit(c, err);
	else
		mr_conn_rollback(c);
	if (rc < 0) {
		mr_hd_data_free(d);
		return rc;
	}
	mr_hd_sort(d);
	*out = d;
	return 0;
}

static int mr_hd_full_load(struct mr_hcpdir *hd, struct mr_conn *c, struct mr_err *err)
{
	struct mr_hd_data *fresh = NULL, *old;
	int64_t t0 = mr_mono_us(), applied = 0;
	int rc = mr_hd_load(c, &fresh, &applied, err);

	if (rc < 0)
		return rc;
	pthread_rwlock_wrlock(&hd->lock);
	old = hd->data;
	hd->data = fresh;
	pthread_rwlock_unlock(&hd->lock);
	mr_hd_data_free(old);
	hd->applied = applied;
	hd->nholes = 0;
	atomic_store(&hd->ready, 1);
	hd->stats.full_loads++;
	hd->stats.load_us = mr_mono_us() - t0;
	mr_log_info("event=hcpdir_loaded hcps=%u alignments=%u applied=%lld took_ms=%lld",
		    fresh->nhcp ? fresh->nhcp - 1 : 0, fresh->nal, (long long)applied,
		    (long long)(hd->stats.load_us / 1000));
	return 0;
}

/* The changed entities: ids of HCPs and reps to reload, and of hospitals (for the listeners). */
struct mr_hd_todo {
	int64_t *hcp, *rep, *hco;
	uint32_t nhcp, caphcp, nrep, caprep, nhco, caphco;
	int content;
	int64_t max_seen;
	int64_t rows;
};

static void mr_hd_todo_add(int64_t **a, uint32_t *n, uint32_t *cap, int64_t v)
{
	MR_HD_GROW(*a, *n, *cap, *n + 1);
	(*a)[(*n)++] = v;
}

/* Notes a change row (id, entity, entity_id) and the holes below it. */
static void mr_hd_note(struct mr_hcpdir *hd, struct mr_hd_todo *t, int64_t id, const char *entity,
		       int64_t entity_id, int64_t now)
{
	for (int64_t gap = (t->max_seen ? t->max_seen : hd->applied) + 1;
	     gap < id && hd->nholes < MR_HD_MAX_HOLES; gap++) {
		hd->holes[hd->nholes].id = gap;
		hd->holes[hd->nholes].since_us = now;
		hd->nholes++;
	}
	if (id > t->max_seen)
		t->max_seen = id;
	t->rows++;
	if (strcmp(entity, "hcp") == 0)
		mr_hd_todo_add(&t->hcp, &t->nhcp, &t->caphcp, entity_id);
	else if (strcmp(entity, "rep") == 0)
		mr_hd_todo_add(&t->rep, &t->nrep, &t->caprep, entity_id);
	else if (strcmp(entity, "hco") == 0)
		mr_hd_todo_add(&t->hco, &t->nhco, &t->caphco, entity_id);
	else if (strcmp(entity, "content") == 0)
		t->content = 1;
}

/* Reads the change rows after hd->applied (and any holes that filled since). */
static int mr_hd_changes(struct mr_hcpdir *hd, struct mr_conn *c, struct mr_hd_todo *t,
			 struct mr_err *err)
{
	struct mr_val args[2] = { mr_v_int(hd->applied), mr_v_int(MR_HD_MAX_PENDING + 1) };
	struct mr_rows *rows = NULL;
	int64_t now = mr_mono_us();
	int nold = hd->nholes, keep = 0;
	int rc = 0;

	/* holes first: an id that showed up is applied and no longer a hole */
	for (int i = 0; rc == 0 && i < nold; i++) {
		struct mr_val arg = mr_v_int(hd->holes[i].id);

		rc = mr_conn_query(c, "SELECT id, entity, entity_id FROM md_changes WHERE id = ?", &arg, 1,
				   &rows, err);
		if (rc == 0)
			rc = mr_rows_next(rows, err);
		if (rc == 1) {
			int64_t save = t->max_seen;

			t->max_seen = mr_rows_int(rows, 0); /* no new holes below a hole */
			mr_hd_note(hd, t, mr_rows_int(rows, 0), mr_rows_text(rows, 1), mr_rows_int(rows, 2), now);
			t->max_seen = save;
			rc = 0;
		} else if (rc == 0 && now - hd->holes[i].since_us < MR_HD_HOLE_TTL_US) {
			hd->holes[keep++] = hd->holes[i];
		}
		mr_rows_close(rows);
		rows = NULL;
	}
	if (rc < 0)
		return rc;
	memmove(hd->holes + keep, hd->holes + nold, (size_t)(hd->nholes - nold) * sizeof(hd->holes[0]));
	hd->nholes -= nold - keep;
	rc = mr_conn_query(c, "SELECT id, entity, entity_id FROM md_changes WHERE id > ? ORDER BY id LIMIT ?",
			   args, 2, &rows, err);
	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		rc = 0;
		mr_hd_note(hd, t, mr_rows_int(rows, 0), mr_rows_text(rows, 1), mr_rows_int(rows, 2), now);
	}
	mr_rows_close(rows);
	return rc < 0 ? rc : 0;
}

/* Reads rows whose ids (column col of sql's table) are in ids, MR_HD_CHUNK at a time, into d. */
static int mr_hd_reload(struct mr_hd_data *d, struct mr_conn *c, char what, const char *cols,
			const char *col, const int64_t *ids, uint32_t n, struct mr_err *err)
{
	struct mr_val args[MR_HD_CHUNK];
	char sql[512 + MR_HD_CHUNK * 3];
	int rc = 0;

	for (uint32_t at = 0; rc == 0 && at < n; at += MR_HD_CHUNK) {
		uint32_t k = n - at < MR_HD_CHUNK ? n - at : MR_HD_CHUNK;
		size_t len = (size_t)snprintf(sql, sizeof(sql), "%s WHERE %s IN (", cols, col);

		for (uint32_t i = 0; i < k; i++) {
			args[i] = mr_v_int(ids[at + i]);
			len += (size_t)snprintf(sql + len, sizeof(sql) - len, i ? ", ?" : "?");
		}
		snprintf(sql + len, sizeof(sql) - len, ")");
		rc = mr_hd_read(d, c, what, sql, args, (int)k, 1, err);
	}
	return rc;
}

/*
 * Applies the todo: the rows are read on c, as of one snapshot, straight
 * into the live data under the write lock (the reads are by primary key
 * or a short index range, a few at a time).
 */
static int mr_hd_apply(struct mr_hcpdir *hd, struct mr_conn *c, const struct mr_hd_todo *t,
		       struct mr_err *err)
{
	struct mr_hd_data *d = hd->data;
	int rc = mr_conn_begin_read(c, err);

	if (rc < 0)
		return rc;
	pthread_rwlock_wrlock(&hd->lock);
	rc = mr_hd_reload(d, c, 'h', MR_HD_HCP_COLS, "id", t->hcp, t->nhcp, err);
	if (rc == 0)
		rc = mr_hd_reload(d, c, 'a', MR_HD_ALIGN_COLS, "hcp_id", t->hcp, t->nhcp, err);
	if (rc == 0)
		rc = mr_hd_reload(d, c, 'r', MR_HD_REP_COLS, "id", t->rep, t->nrep, err);
	if (rc == 0 && d->ndirty > MR_HD_MAX_DIRTY)
		mr_hd_sort(d);
	pthread_rwlock_unlock(&hd->lock);
	if (rc == 0)
		rc = mr_conn_commit(c, err);
	else
		mr_conn_rollback(c);
	return rc;
}

/* Tells the listeners what a sync applied; called with sync_mu held. */
static void mr_hd_tell(struct mr_hcpdir *hd, struct mr_conn *c, const struct mr_hd_todo *t)
{
	struct mr_hcpdir_change ch = { 0 };

	if (t) {
		ch.hcps = t->hcp;
		ch.nhcps = t->nhcp;
		ch.reps = t->rep;
		ch.nreps = t->nrep;
		ch.hcos = t->hco;
		ch.nhcos = t->nhco;
		ch.content = t->content;
	} else {
		ch.all = 1;
	}
	for (int i = 0; i < hd->nlisten; i++)
		hd->listen[i].fn(hd->listen[i].arg, c, &ch);
}

void mr_hcpdir_listen(struct mr_hcpdir *d, mr_hcpdir_listen_fn fn, void *arg)
{
	pthread_mutex_lock(&d->sync_mu);
	if (d->nlisten < MR_HD_LISTENERS) {
		d->listen[d->nlisten].fn = fn;
		d->listen[d->nlisten].arg = arg;
		d->nlisten++;
	}
	pthread_mutex_unlock(&d->sync_mu);
}

int mr_hcpdir_sync(struct mr_hcpdir *hd, struct mr_conn *c, struct mr_err *err)
{
	struct mr_hd_todo t;
	int64_t newest = 0;
	int rc;

	pthread_mutex_lock(&hd->sync_mu);
	if (!hd->data) {
		rc = mr_hd_full_load(hd, c, err);
		if (rc == 0)
			mr_hd_tell(hd, c, NULL);
		goto out;
	}
	rc = mr_conn_query_int(c, "SELECT COALESCE(MAX(id), 0) FROM md_changes", NULL, 0, &newest, err);
	if (rc < 0 || (newest <= hd->applied && hd->nholes == 0))
		goto out;
	memset(&t, 0, sizeof(t));
	rc = mr_hd_changes(hd, c, &t, err);
	if (rc == 0 && t.rows > MR_HD_MAX_PENDING) {
		rc = mr_hd_full_load(hd, c, err);
		if (rc == 0)
			mr_hd_tell(hd, c, NULL);
	} else if (rc == 0) {
		rc = mr_hd_apply(hd, c, &t, err);
		if (rc == 0) {
			if (t.max_seen > hd->applied)
				hd->applied = t.max_seen;
			hd->stats.changes += t.rows;
			mr_hd_tell(hd, c, &t);
		}
	}
	free(t.hcp);
	free(t.rep);
	free(t.hco);
out:
	pthread_mutex_unlock(&hd->sync_mu);
	return rc;
}

/* ------------------------------------------------------------ life */

struct mr_hcpdir *mr_hcpdir_new(void)
{
	struct mr_hcpdir *d = mr_calloc(1, sizeof(*d));

	pthread_rwlock_init(&d->lock, NULL);
	pthread_mutex_init(&d->sync_mu, NULL);
	return d;
}

int mr_hcpdir_ready(struct mr_hcpdir *d)
{
	return atomic_load(&d->ready);
}

int mr_hcpdir_wait_ready(struct mr_hcpdir *d, int64_t deadline_us)
{
	while (!atomic_load(&d->ready) && d->loading && mr_mono_us() < deadline_us) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	return atomic_load(&d->ready);
}

static void *mr_hd_loader(void *arg)
{
	struct mr_hcpdir *d = arg;
	struct mr_conn *c = NULL;
	struct mr_err err;

	mr_err_clear(&err);
	if (mr_store_acquire(d->store, &c, &err) == 0) {
		if (mr_hcpdir_sync(d, c, &err) < 0)
			mr_log_warn("event=hcpdir_load_failed error=\"%s\"", err.msg);
		mr_store_release(d->store, c);
	} else {
		mr_log_warn("event=hcpdir_load_failed error=\"%s\"", err.msg);
	}
	return NULL;
}

void mr_hcpdir_load_async(struct mr_hcpdir *d, struct mr_store *store)
{
	d->store = store;
	if (pthread_create(&d->loader, NULL, mr_hd_loader, d) == 0)
		d->loading = 1;
	else
		mr_log_warn("event=hcpdir_load_failed error=\"cannot start a thread\"");
}

void mr_hcpdir_free(struct mr_hcpdir *d)
{
	if (!d)
		return;
	if (d->loading)
		pthread_join(d->loader, NULL);
	mr_hd_data_free(d->data);
	pthread_rwlock_destroy(&d->lock);
	pthread_mutex_destroy(&d->sync_mu);
	free(d);
}

int mr_hcpdir_alignments(struct mr_hcpdir *d, int64_t at, struct mr_hcpdir_align **out, size_t *n)
{
	const struct mr_hd_data *data;
	size_t m = 0;

	*out = NULL;
	*n = 0;
	pthread_rwlock_rdlock(&d->lock);
	data = d->data;
	if (!data) {
		pthread_rwlock_unlock(&d->lock);
		return 0;
	}
	for (uint32_t i = 1; i < data->nal; i++)
		m += mr_hd_align_now(&data->al[i], at);
	*out = mr_calloc(m ? m : 1, sizeof(**out));
	for (uint32_t i = 1; i < data->nal; i++) {
		const struct mr_hd_align *a = &data->al[i];
		const struct mr_hd_rep *r;

		if (!mr_hd_align_now(a, at))
			continue;
		r = a->rep < data->nrep ? &data->rep[a->rep] : NULL;
		(*out)[(*n)++] = (struct mr_hcpdir_align){ .hcp = a->hcp, .rep = a->rep, .role = a->role,
							   .rep_type = r ? r->type : MR_REP_NONE };
	}
	pthread_rwlock_unlock(&d->lock);
	return 1;
}

static int mr_hd_cmp_turn(const void *x, const void *y)
{
	const struct mr_hcpdir_turn *a = x, *b = y;

	if (a->hcp != b->hcp)
		return a->hcp < b->hcp ? -1 : 1;
	return a->at < b->at ? -1 : a->at > b->at;
}

int mr_hcpdir_align_turns(struct mr_hcpdir *d, int64_t at, int role, struct mr_hcpdir_turn **out, size_t *n)
{
	const struct mr_hd_data *data;
	size_t m = 0, k = 0;

	*out = NULL;
	*n = 0;
	pthread_rwlock_rdlock(&d->lock);
	data = d->data;
	if (!data) {
		pthread_rwlock_unlock(&d->lock);
		return 0;
	}
	for (uint32_t i = 1; i < data->nal; i++) {
		const struct mr_hd_align *a = &data->al[i];

		m += a->live && a->role == role && (a->from > at || (a->to > at && a->to != INT64_MAX));
	}
	*out = mr_calloc(m ? m : 1, sizeof(**out));
	for (uint32_t i = 1; i < data->nal; i++) {
		const struct mr_hd_align *a = &data->al[i];

		if (!a->live || a->role != role)
			continue;
		if (a->from > at)
			(*out)[k++] = (struct mr_hcpdir_turn){ a->hcp, a->from };
		else if (a->to > at && a->to != INT64_MAX)
			(*out)[k++] = (struct mr_hcpdir_turn){ a->hcp, a->to };
	}
	pthread_rwlock_unlock(&d->lock);
	qsort(*out, k, sizeof(**out), mr_hd_cmp_turn);
	for (size_t i = 0; i < k; i++) { /* the earliest per doctor: the first of its run */
		if (*n == 0 || (*out)[*n - 1].hcp != (*out)[i].hcp)
			(*out)[(*n)++] = (*out)[i];
	}
	return 1;
}

int mr_hcpdir_scope_map(struct mr_hcpdir *d, const struct mr_scope *s, unsigned char **in, uint32_t *n)
{
	const struct mr_hd_data *data;
	unsigned char *team = NULL;

	*in = NULL;
	*n = 0;
	pthread_rwlock_rdlock(&d->lock);
	data = d->data;
	if (!data) {
		pthread_rwlock_unlock(&d->lock);
		return 0;
	}
	*n = data->nhcp;
	*in = mr_calloc((size_t)data->nhcp + 1, 1);
	if (s->kind == MR_SCOPE_TEAM)
		team = mr_hd_team(data, (uint32_t)s->rep_id);
	for (uint32_t id = 1; id < data->nhcp; id++)
		(*in)[id] = data->hcp[id].state == MR_HD_LIVE && mr_hd_in_scope(data, id, s, team);
	free(team);
	pthread_rwlock_unlock(&d->lock);
	return 1;
}

const char *mr_hcpdir_rep_ext(struct mr_hcpdir *d, int64_t rep_id, char *buf, size_t cap)
{
	const char *ext = NULL;

	pthread_rwlock_rdlock(&d->lock);
	if (d->data && rep_id > 0 && rep_id < d->data->nrep && d->data->rep[rep_id].ext) {
		snprintf(buf, cap, "%s", d->data->pool + d->data->rep[rep_id].ext);
		ext = buf;
	}
	pthread_rwlock_unlock(&d->lock);
	return ext;
}

void mr_hcpdir_stats(struct mr_hcpdir *d, struct mr_hcpdir_stats *out)
{
	pthread_mutex_lock(&d->sync_mu);
	*out = d->stats;
	out->applied = d->applied;
	pthread_rwlock_rdlock(&d->lock);
	out->ready = d->data != NULL;
	out->hcps = d->data && d->data->nhcp ? d->data->nhcp - 1 : 0;
	out->alignments = d->data ? d->data->nal : 0;
	pthread_rwlock_unlock(&d->lock);
	pthread_mutex_unlock(&d->sync_mu);
}
