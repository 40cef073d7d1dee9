/*
 * Blocking passes (see block.h): keys per record, a radix sort to gather
 * equal keys, pairs from each block (in full or by sorted neighbourhood),
 * and a hash set so that a pair met in several passes is kept once.
 */
#include "identity/block.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "identity/fs.h"

static const char *const mr_block_key_names[] = {
	[MR_BLOCK_VALUE] = "value", [MR_BLOCK_TYPO] = "typo", [MR_BLOCK_LAST8] = "last8",
	[MR_BLOCK_DATE] = "date",
};

static void mr_block_add_pass(struct mr_block *b, int field, enum mr_block_key key, const char *column)
{
	struct mr_block_pass *p;

	if (b->npasses >= MR_BLOCK_MAX_PASSES)
		return;
	p = &b->pass[b->npasses++];
	memset(p, 0, sizeof(*p));
	p->field = field;
	p->field2 = -1;
	p->key = key;
	snprintf(p->name, sizeof(p->name), "%s:%s", column, mr_block_key_names[key]);
}

static int mr_block_first_name(int nfields, const enum mr_cmp_kind *kinds)
{
	for (int f = 0; f < nfields; f++) {
		if (kinds[f] == MR_CMP_NAME)
			return f;
	}
	return -1;
}

void mr_block_plan(struct mr_block *b, int nfields, const enum mr_cmp_kind *kinds,
		   const char *const *columns)
{
	int name = mr_block_first_name(nfields, kinds);

	memset(b, 0, sizeof(*b));
	for (int f = 0; f < nfields; f++) {
		struct mr_block_pass *p;
		switch (kinds[f]) {
		case MR_CMP_NAME:
			mr_block_add_pass(b, f, MR_BLOCK_VALUE, columns[f]);
			break;
		case MR_CMP_ID:
			mr_block_add_pass(b, f, MR_BLOCK_VALUE, columns[f]);
			mr_block_add_pass(b, f, MR_BLOCK_TYPO, columns[f]);
			break;
		case MR_CMP_PHONE:
			mr_block_add_pass(b, f, MR_BLOCK_LAST8, columns[f]);
			mr_block_add_pass(b, f, MR_BLOCK_TYPO, columns[f]);
			break;
		case MR_CMP_DATE:
			mr_block_add_pass(b, f, MR_BLOCK_DATE, columns[f]);
			p = &b->pass[b->npasses - 1];
			p->field2 = name;
			if (name >= 0)
				snprintf(p->name, sizeof(p->name), "%s:date+%s", columns[f], columns[name]);
			break;
		default:
			break;
		}
	}
	if (b->npasses)
		return;
	for (int f = 0; f < nfields; f++)
		mr_block_add_pass(b, f, MR_BLOCK_VALUE, columns[f]);
}

/* --- keys -------------------------------------------------------------- */

static uint64_t mr_block_hash(const uint32_t *u, size_t n, uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325ull ^ seed;

	for (size_t i = 0; i < n; i++) {
		h ^= u[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h ? h : 1;
}

/*
 * Swap keys: for each adjacent pair of differing characters, the value with
 * that pair in sorted order. Two values an adjacent transposition apart
 * share one; unlike deletion keys, a dense series of numbers (licences of
 * one region and year) does not put every neighbour in one block.
 */
static size_t mr_block_swap_keys(const uint32_t *u, size_t n, uint64_t seed, uint64_t *out)
{
	uint32_t w[MR_BLOCK_MAX_KEYS];
	size_t k = 0;

	if (n >= MR_BLOCK_MAX_KEYS)
		return 0;
	memcpy(w, u, n * sizeof(*u));
	for (size_t i = 0; i + 1 < n; i++) {
		if (u[i] == u[i + 1])
			continue;
		w[i] = u[i] < u[i + 1] ? u[i] : u[i + 1];
		w[i + 1] = u[i] < u[i + 1] ? u[i + 1] : u[i];
		out[k++] = mr_block_hash(w, n, seed + i);
		w[i] = u[i];
		w[i + 1] = u[i + 1];
	}
	return k;
}

static size_t mr_block_typo(enum mr_cmp_kind kind, const struct mr_cmp_val *v, uint64_t *out)
{
	if (kind == MR_CMP_PHONE) {
		uint32_t t = v->n > 11 ? 11 : v->n;
		return mr_block_swap_keys(v->u + v->n - t, t, 4 << 8, out);
	}
	return v->n >= 4 ? mr_block_swap_keys(v->u, v->n, 5 << 8, out) : 0;
}

static uint64_t mr_block_date(const struct mr_cmp_val *v, const struct mr_cmp_val *name)
{
	uint64_t ymd = v->alt, m = ymd / 100 % 100, d = ymd % 100;
	uint64_t key = ymd / 10000 * 10000 + (m < d ? m * 100 + d : d * 100 + m);
	uint32_t k[3];

	if (!name)
		return key;
	if (!name->present)
		return 0;
	k[0] = (uint32_t)(key >> 32);
	k[1] = (uint32_t)key;
	k[2] = name->u[0];
	return mr_block_hash(k, 3, 7);
}

size_t mr_block_keys_of(const struct mr_block_pass *p, const enum mr_cmp_kind *kinds,
			const struct mr_cmp_val *row, uint64_t *out)
{
	const struct mr_cmp_val *v = &row[p->field];

	if (!v->present)
		return 0;
	switch (p->key) {
	case MR_BLOCK_VALUE:
		out[0] = kinds[p->field] == MR_CMP_NAME ? v->alt : v->hash;
		return 1;
	case MR_BLOCK_TYPO:
		return mr_block_typo(kinds[p->field], v, out);
	case MR_BLOCK_LAST8:
		if (v->n < 8)
			return 0;
		out[0] = mr_block_hash(v->u + v->n - 8, 8, 6);
		return 1;
	case MR_BLOCK_DATE:
		out[0] = mr_block_date(v, p->field2 >= 0 ? &row[p->field2] : NULL);
		return out[0] != 0;
	}
	return 0;
}

/* --- sorting ----------------------------------------------------------- */

void mr_block_sort(uint64_t *keys, uint32_t *vals, size_t n)
{
	uint64_t *tk = mr_malloc(n * sizeof(*tk)), *sk = keys;
	uint32_t *tv = vals ? mr_malloc(n * sizeof(*tv)) : NULL, *sv = vals;
	uint64_t all_or = 0, all_and = ~0ull;

	for (size_t i = 0; i < n; i++) {
		all_or |= keys[i];
		all_and &= keys[i];
	}
	for (int shift = 0; shift < 64; shift += 8) {
		size_t count[256] = { 0 }, pos = 0;
		if ((((all_or ^ all_and) >> shift) & 0xff) == 0)
			continue; /* this byte is the same in every key */
		for (size_t i = 0; i < n; i++)
			count[(sk[i] >> shift) & 0xff]++;
		for (int d = 0; d < 256; d++) {
			size_t c = count[d];
			count[d] = pos;
			pos += c;
		}
		for (size_t i = 0; i < n; i++) {
			size_t at = count[(sk[i] >> shift) & 0xff]++;
			tk[at] = sk[i];
			if (sv)
				tv[at] = sv[i];
		}
		{
			uint64_t *xk = sk;
			uint32_t *xv = sv;
			sk = tk;
			tk = xk;
			sv = tv;
			tv = xv;
		}
	}
	if (sk != keys) {
		memcpy(keys, sk, n * sizeof(*keys));
		if (vals)
			memcpy(vals, sv, n * sizeof(*vals));
		tk = sk;
		tv = sv;
	}
	free(tk);
	free(tv);
}

/* --- the pair set ------------------------------------------------------ */

struct mr_block_set {
	uint64_t *slot; /* 0 = empty; a pair is never 0 since j > i >= 0 */
	size_t nslot, n;
};

static size_t mr_block_slot(uint64_t pair, size_t nslot)
{
	return (size_t)((pair * 0x9e3779b97f4a7c15ull) >> 20) & (nslot - 1);
}

static void mr_block_set_grow(struct mr_block_set *s)
{
	size_t nslot = s->nslot * 2;
	uint64_t *slot = mr_calloc(nslot, sizeof(*slot));

	for (size_t i = 0; i < s->nslot; i++) {
		size_t at;
		if (!s->slot[i])
			continue;
		at = mr_block_slot(s->slot[i], nslot);
		while (slot[at])
			at = (at + 1) & (nslot - 1);
		slot[at] = s->slot[i];
	}
	free(s->slot);
	s->slot = slot;
	s->nslot = nslot;
}

/* Adds a pair; returns 1 when it was new. */
static int mr_block_set_add(struct mr_block_set *s, uint64_t pair)
{
	size_t at;

	if ((s->n + 1) * 2 > s->nslot)
		mr_block_set_grow(s);
	at = mr_block_slot(pair, s->nslot);
	while (s->slot[at]) {
		if (s->slot[at] == pair)
			return 0;
		at = (at + 1) & (s->nslot - 1);
	}
	s->slot[at] = pair;
	s->n++;
	return 1;
}

/* --- one pass ---------------------------------------------------------- */

/* What the sorted-neighbourhood comparison of two records reads. */
struct mr_block_ctx {
	const struct mr_cmp_val *vals;
	int nfields;
	const enum mr_cmp_kind *kinds;
	int order[MR_FS_MAX_FIELDS];
	int norder;
	struct mr_block_pass *pass;
	struct mr_block_set set;
	size_t cap, window;
};

/* Missing sorts last; otherwise by number (date, number) or by the value's array. */
static int mr_block_val_cmp(enum mr_cmp_kind kind, const struct mr_cmp_val *x, const struct mr_cmp_val *y)
{
	uint32_t n;

	if (x->present != y->present)
		return x->present ? -1 : 1;
	if (!x->present)
		return 0;
	if (kind == MR_CMP_DATE || kind == MR_CMP_NUMBER)
		return (x->num > y->num) - (x->num < y->num);
	n = x->n < y->n ? x->n : y->n;
	for (uint32_t i = 0; i < n; i++) {
		if (x->u[i] != y->u[i])
			return x->u[i] < y->u[i] ? -1 : 1;
	}
	return (x->n > y->n) - (x->n < y->n);
}

/* Orders two records by their fields, most telling kinds first, then by row. */
static int mr_block_rec_cmp(const void *xp, const void *yp, void *arg)
{
	const struct mr_block_ctx *c = arg;
	uint32_t x = *(const uint32_t *)xp, y = *(const uint32_t *)yp;

	for (int k = 0; k < c->norder; k++) {
		int f = c->order[k];
		int r = mr_block_val_cmp(c->kinds[f], &c->vals[(size_t)x * (size_t)c->nfields + (size_t)f],
					 &c->vals[(size_t)y * (size_t)c->nfields + (size_t)f]);
		if (r)
			return r;
	}
	return (x > y) - (x < y);
}

/* The fields in the order the neighbourhood sort reads them. */
static void mr_block_order(struct mr_block_ctx *c)
{
	static const enum mr_cmp_kind prio[] = { MR_CMP_DATE, MR_CMP_PHONE, MR_CMP_ID, MR_CMP_NAME,
						 MR_CMP_NUMBER, MR_CMP_ADDRESS, MR_CMP_TEXT, MR_CMP_EXACT };

	c->norder = 0;
	for (size_t k = 0; k < sizeof(prio) / sizeof(prio[0]); k++) {
		for (int f = 0; f < c->nfields && c->norder < MR_FS_MAX_FIELDS; f++) {
			if (c->kinds[f] == prio[k])
				c->order[c->norder++] = f;
		}
	}
}

static void mr_block_emit(struct mr_block_ctx *c, uint32_t x, uint32_t y)
{
	uint64_t pair = x < y ? ((uint64_t)x << 32) | y : ((uint64_t)y << 32) | x;

	if (x == y)
		return; /* two deletion keys of one value can coincide ("1123") */
	c->pass->pairs++;
	if (mr_block_set_add(&c->set, pair))
		c->pass->new_pairs++;
}

/* Pairs of one block of rows: all of them, or by windows over the sorted block when it is big. */
static void mr_block_pairs(struct mr_block_ctx *c, uint32_t *rows, size_t n)
{
	size_t w = c->window;

	c->pass->blocks++;
	if (n <= c->cap) {
		for (size_t i = 0; i < n; i++) {
			for (size_t j = i + 1; j < n; j++)
				mr_block_emit(c, rows[i], rows[j]);
		}
		return;
	}
	c->pass->windowed++;
	qsort_r(rows, n, sizeof(*rows), mr_block_rec_cmp, c);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n && j < i + w; j++)
			mr_block_emit(c, rows[i], rows[j]);
	}
}

/* Key and row arrays of one pass, grown as keys come. */
struct mr_block_keys {
	uint64_t *key;
	uint32_t *row;
	size_t n, cap;
};

static void mr_block_pass_keys(struct mr_block_ctx *c, size_t nrows, struct mr_block_keys *k)
{
	const struct mr_block_pass *p = c->pass;
	uint64_t keys[MR_BLOCK_MAX_KEYS];

	k->n = 0;
	for (size_t r = 0; r < nrows; r++) {
		size_t nk = mr_block_keys_of(p, c->kinds, &c->vals[r * (size_t)c->nfields], keys);
		if (k->n + nk > k->cap) {
			k->cap = (k->n + nk) * 2;
			k->key = mr_realloc(k->key, k->cap * sizeof(*k->key));
			k->row = mr_realloc(k->row, k->cap * sizeof(*k->row));
		}
		for (size_t i = 0; i < nk; i++) {
			k->key[k->n] = keys[i];
			k->row[k->n] = (uint32_t)r;
			k->n++;
		}
		c->pass->keyed += nk > 0;
	}
}

static void mr_block_pass_run(struct mr_block_ctx *c, size_t nrows, struct mr_block_keys *k)
{
	size_t i = 0;

	mr_block_pass_keys(c, nrows, k);
	mr_block_sort(k->key, k->row, k->n);
	while (i < k->n) {
		size_t j = i + 1;
		while (j < k->n && k->key[j] == k->key[i])
			j++;
		if (j - i > 1)
			mr_block_pairs(c, k->row + i, j - i);
		i = j;
	}
}

void mr_block_run(struct mr_block *b, const struct mr_cmp_val *vals, size_t nrows, int nfields,
		  const enum mr_cmp_kind *kinds, const struct mr_block_opts *o)
{
	struct mr_block_ctx c;
	struct mr_block_keys keys = { 0 };
	size_t k = 0;

	memset(&c, 0, sizeof(c));
	c.vals = vals;
	c.nfields = nfields;
	c.kinds = kinds;
	c.cap = o && o->cap ? o->cap : MR_BLOCK_CAP;
	c.window = o && o->window > 1 ? o->window : MR_BLOCK_WINDOW;
	c.set.nslot = 1024;
	while (c.set.nslot < nrows * 8)
		c.set.nslot *= 2;
	c.set.slot = mr_calloc(c.set.nslot, sizeof(*c.set.slot));
	mr_block_order(&c);
	for (int p = 0; p < b->npasses; p++) {
		c.pass = &b->pass[p];
		mr_block_pass_run(&c, nrows, &keys);
	}
	free(keys.key);
	free(keys.row);
	free(b->pairs);
	b->pairs = mr_malloc((c.set.n ? c.set.n : 1) * sizeof(*b->pairs));
	for (size_t i = 0; i < c.set.nslot; i++) {
		if (c.set.slot[i])
			b->pairs[k++] = c.set.slot[i];
	}
	b->npairs = k;
	free(c.set.slot);
	mr_block_sort(b->pairs, NULL, b->npairs);
}

void mr_block_release(struct mr_block *b)
{
	free(b->pairs);
	b->pairs = NULL;
	b->npairs = 0;
}
