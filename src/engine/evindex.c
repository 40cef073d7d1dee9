/*
 * See evindex.h. Two structures under one read-write lock: per HCP record a
 * growable array of items sorted by (time, seq), an event arriving out of
 * time order slotted in by binary search; and, when ids are kept, an open-
 * addressing set of 96-bit keyed hashes (SipHash-2-4 with a key drawn at
 * start, or the snapshot's) with linear probing and backward-shift deletion.
 *
 * Loading and syncing read the log in chunks of seq order on one mutex;
 * the writer's mr_evindex_apply takes it too, so the index always holds a
 * prefix of the log, in order, with no gap: an apply whose events do not
 * follow the last seq reads the missing ones from the store first, and one
 * that arrives before the first load is over leaves them to the load,
 * whose last catch-up happens after it says ready.
 */
#include "engine/evindex.h"

#include <malloc.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/time.h"
#include "engine/dict.h"
#include "engine/evindex_int.h"

enum { MR_EVX_CHUNK = 100000 };

_Static_assert(sizeof(struct mr_evitem) == 32, "an event in memory is 32 bytes");

/* ------------------------------------------------------------ ids */

/* The key of 128 hash bits (as ingestion carries them: mr_evindex_id_key), 96 of them kept. */
static struct mr_evx_key mr_evx_key_of(const uint64_t key[2])
{
	struct mr_evx_key k = { (uint32_t)key[0], (uint32_t)(key[0] >> 32), (uint32_t)key[1] };

	if (!k.lo && !k.mid && !k.hi)
		k.hi = 1; /* all zero marks an empty slot */
	return k;
}

static struct mr_evx_key mr_evx_hash(const struct mr_evindex *x, const char *id)
{
	uint64_t key[2];

	mr_evindex_id_key(x, id, key);
	return mr_evx_key_of(key);
}

static int mr_evx_key_empty(const struct mr_evx_key *k)
{
	return !k->lo && !k->mid && !k->hi;
}

static int mr_evx_key_eq(const struct mr_evx_key *a, const struct mr_evx_key *b)
{
	return a->lo == b->lo && a->mid == b->mid && a->hi == b->hi;
}

/*
 * The slot a key starts probing from: its 64 low bits scaled onto the
 * table (any size, not only powers of two: the table grows by half, and
 * its load stays between 0.55 and 0.85 — 12 bytes a slot, ~16 an id).
 */
static uint64_t mr_evx_home(uint32_t lo, uint32_t mid, uint64_t cap)
{
	return (uint64_t)(((unsigned __int128)((uint64_t)mid << 32 | lo) * cap) >> 64);
}

static uint64_t mr_evx_next(uint64_t i, uint64_t cap)
{
	return i + 1 == cap ? 0 : i + 1;
}

static void mr_evx_ids_put(struct mr_evindex *x, struct mr_evx_key k);

static void mr_evx_ids_grow(struct mr_evindex *x)
{
	struct mr_evx_key *old = x->ids;
	uint64_t oldcap = x->idcap;

	x->idcap = oldcap ? oldcap + oldcap / 2 : 1 << 16;
	x->ids = mr_big_alloc(x->idcap * sizeof(*x->ids));
	x->nids = 0;
	for (uint64_t i = 0; i < oldcap; i++) {
		if (!mr_evx_key_empty(&old[i]))
			mr_evx_ids_put(x, old[i]);
	}
	mr_big_free(old, oldcap * sizeof(*old));
}

/* Adds k; 1 when it was not there. */
static int mr_evx_ids_add(struct mr_evindex *x, struct mr_evx_key k)
{
	uint64_t i;

	if ((x->nids + 1) * 20 > x->idcap * 17)
		mr_evx_ids_grow(x);
	i = mr_evx_home(k.lo, k.mid, x->idcap);
	while (!mr_evx_key_empty(&x->ids[i])) {
		if (mr_evx_key_eq(&x->ids[i], &k))
			return 0;
		i = mr_evx_next(i, x->idcap);
	}
	x->ids[i] = k;
	x->nids++;
	return 1;
}

static void mr_evx_ids_put(struct mr_evindex *x, struct mr_evx_key k)
{
	mr_evx_ids_add(x, k);
}

/* Removes k, shifting back the entries that probed past its slot; 1 when it was there. */
static int mr_evx_ids_del(struct mr_evindex *x, struct mr_evx_key k)
{
	uint64_t cap = x->idcap, i, j;

	if (!cap)
		return 0;
	i = mr_evx_home(k.lo, k.mid, cap);
	while (!mr_evx_key_empty(&x->ids[i]) && !mr_evx_key_eq(&x->ids[i], &k))
		i = mr_evx_next(i, cap);
	if (mr_evx_key_empty(&x->ids[i]))
		return 0;
	j = i;
	for (;;) {
		uint64_t home;

		j = mr_evx_next(j, cap);
		if (mr_evx_key_empty(&x->ids[j]))
			break;
		home = mr_evx_home(x->ids[j].lo, x->ids[j].mid, cap);
		/* move j back to i unless its home lies cyclically in (i, j] */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			x->ids[i] = x->ids[j];
			i = j;
		}
	}
	memset(&x->ids[i], 0, sizeof(x->ids[i]));
	x->nids--;
	return 1;
}

void mr_evindex_id_key(const struct mr_evindex *x, const char *id, uint64_t key[2])
{
	unsigned char h[crypto_shorthash_siphashx24_BYTES];

	crypto_shorthash_siphashx24(h, (const unsigned char *)id, strlen(id), x->hash_key);
	memcpy(&key[0], h, 8);
	memcpy(&key[1], h + 8, 8);
}

int mr_evindex_claim_key(struct mr_evindex *x, const uint64_t key[2])
{
	struct mr_evx_key k = mr_evx_key_of(key);
	int fresh;

	pthread_rwlock_wrlock(&x->lock);
	fresh = mr_evx_ids_add(x, k);
	x->claims_open += fresh;
	pthread_rwlock_unlock(&x->lock);
	return fresh;
}

void mr_evindex_unclaim_key(struct mr_evindex *x, const uint64_t key[2])
{
	struct mr_evx_key k = mr_evx_key_of(key);

	pthread_rwlock_wrlock(&x->lock);
	if (mr_evx_ids_del(x, k) && x->claims_open > 0)
		x->claims_open--;
	pthread_rwlock_unlock(&x->lock);
}

void mr_evindex_prefetch(const struct mr_evindex *x, const uint64_t key[2])
{
	/* racy on purpose: a stale table pointer only wastes the hint */
	if (x->idcap)
		__builtin_prefetch(&x->ids[mr_evx_home((uint32_t)key[0], (uint32_t)(key[0] >> 32), x->idcap)]);
}

void mr_evindex_claim_keys(struct mr_evindex *x, const uint64_t (*keys)[2], int n,
			   const unsigned char *skip, unsigned char *fresh)
{
	pthread_rwlock_wrlock(&x->lock);
	for (int i = 0; i < n; i++) {
		struct mr_evx_key k = mr_evx_key_of(keys[i]);

		if (i + 8 < n && x->idcap) /* the slot's cache miss, overlapped with the ones before */
			__builtin_prefetch(&x->ids[mr_evx_home((uint32_t)keys[i + 8][0],
							       (uint32_t)(keys[i + 8][0] >> 32), x->idcap)]);
		fresh[i] = !skip[i] && mr_evx_ids_add(x, k);
		x->claims_open += fresh[i];
	}
	pthread_rwlock_unlock(&x->lock);
}

int mr_evindex_claim(struct mr_evindex *x, const char *id)
{
	struct mr_evx_key k = mr_evx_hash(x, id);
	int fresh;

	pthread_rwlock_wrlock(&x->lock);
	fresh = mr_evx_ids_add(x, k);
	x->claims_open += fresh;
	pthread_rwlock_unlock(&x->lock);
	return fresh;
}

void mr_evindex_unclaim(struct mr_evindex *x, const char *id)
{
	struct mr_evx_key k = mr_evx_hash(x, id);

	pthread_rwlock_wrlock(&x->lock);
	if (mr_evx_ids_del(x, k) && x->claims_open > 0)
		x->claims_open--;
	pthread_rwlock_unlock(&x->lock);
}

int mr_evindex_claim_stored(struct mr_evindex *x, struct mr_conn *c, struct mr_err *err)
{
	struct mr_val arg;
	struct mr_rows *rows = NULL;
	int64_t from;
	int rc;

	pthread_rwlock_rdlock(&x->lock);
	from = x->ids_last;
	pthread_rwlock_unlock(&x->lock);
	arg = mr_v_int(from);
	rc = mr_conn_query(c, "SELECT seq, eid FROM events WHERE seq > ? ORDER BY seq", &arg, 1, &rows,
			   err);
	pthread_rwlock_wrlock(&x->lock);
	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		rc = 0;
		mr_evx_ids_add(x, mr_evx_hash(x, mr_rows_text(rows, 1)));
		x->ids_last = mr_rows_int(rows, 0);
	}
	pthread_rwlock_unlock(&x->lock);
	mr_rows_close(rows);
	return rc < 0 ? rc : 0;
}

void mr_evindex_ids_advance(struct mr_evindex *x, int64_t seq)
{
	pthread_rwlock_wrlock(&x->lock);
	if (x->ids_last < seq)
		x->ids_last = seq;
	x->claims_open = 0;
	pthread_rwlock_unlock(&x->lock);
}

void mr_evindex_ids_rewind(struct mr_evindex *x, int64_t seq)
{
	pthread_rwlock_wrlock(&x->lock);
	if (x->ids_last >= seq)
		x->ids_last = seq - 1;
	x->claims_open = 0;
	pthread_rwlock_unlock(&x->lock);
}

/* ------------------------------------------------------------ attrs */

static uint32_t mr_evx_attr_hash(const struct mr_evattr *a)
{
	uint64_t h = (uint64_t)a->type * 0x9e3779b97f4a7c15ULL;

	h = (h ^ a->content) * 0xbf58476d1ce4e5b9ULL;
	h = (h ^ a->campaign) * 0x94d049bb133111ebULL;
	h = (h ^ a->meeting) * 0x9e3779b97f4a7c15ULL;
	return (uint32_t)(h >> 32);
}

static int mr_evx_attr_eq(const struct mr_evattr *a, const struct mr_evattr *b)
{
	return a->type == b->type && a->content == b->content && a->campaign == b->campaign &&
	       a->meeting == b->meeting;
}

/* The slot of a (or the empty one where it goes); called locked. */
static uint32_t mr_evx_attr_probe(const struct mr_evindex *x, const struct mr_evattr *a)
{
	uint32_t mask = x->nattr_slot - 1, i = mr_evx_attr_hash(a) & mask;

	while (x->attr_slot[i] && !mr_evx_attr_eq(&x->attrs[x->attr_slot[i]], a))
		i = (i + 1) & mask;
	return i;
}

void mr_evx_attr_rehash(struct mr_evindex *x)
{
	free(x->attr_slot);
	x->nattr_slot = x->nattr_slot ? x->nattr_slot * 2 : 1024;
	while ((uint64_t)x->nattr_slot < (uint64_t)x->nattrs * 2) /* a restored index: all its attrs at once */
		x->nattr_slot *= 2;
	x->attr_slot = mr_calloc(x->nattr_slot, sizeof(*x->attr_slot));
	for (uint32_t code = 1; code < x->nattrs; code++)
		x->attr_slot[mr_evx_attr_probe(x, &x->attrs[code])] = code;
}

uint32_t mr_evindex_attr(struct mr_evindex *x, const char *type, const char *content,
			 const char *campaign, const char *meeting)
{
	struct mr_evattr a = { mr_dict_add(x->dicts.type, type), mr_dict_add(x->dicts.content, content),
			       mr_dict_add(x->dicts.campaign, campaign), mr_dict_add(x->dicts.meeting, meeting) };
	uint32_t code, i;

	if (!a.type && !a.content && !a.campaign && !a.meeting)
		return 0;
	pthread_rwlock_rdlock(&x->attr_lock);
	code = x->attr_slot[mr_evx_attr_probe(x, &a)];
	pthread_rwlock_unlock(&x->attr_lock);
	if (code)
		return code;
	pthread_rwlock_wrlock(&x->attr_lock);
	i = mr_evx_attr_probe(x, &a);
	code = x->attr_slot[i];
	if (!code) {
		if (x->nattrs == x->capattrs) {
			x->capattrs *= 2;
			x->attrs = mr_realloc(x->attrs, (size_t)x->capattrs * sizeof(*x->attrs));
		}
		code = x->nattrs++;
		x->attrs[code] = a;
		x->attr_slot[i] = code;
		if ((uint64_t)x->nattrs * 2 > x->nattr_slot)
			mr_evx_attr_rehash(x);
	}
	pthread_rwlock_unlock(&x->attr_lock);
	return code;
}

void mr_evindex_dicts(struct mr_evindex *x, struct mr_evindex_dicts *out)
{
	*out = x->dicts;
}

void mr_evindex_read_begin(struct mr_evindex *x)
{
	pthread_rwlock_rdlock(&x->lock);
	pthread_rwlock_rdlock(&x->attr_lock);
}

void mr_evindex_read_end(struct mr_evindex *x)
{
	pthread_rwlock_unlock(&x->attr_lock);
	pthread_rwlock_unlock(&x->lock);
}

const struct mr_evitem *mr_evindex_items(const struct mr_evindex *x, uint32_t hcp, uint32_t *n)
{
	if (hcp >= x->nlists) {
		*n = 0;
		return NULL;
	}
	*n = x->lists[hcp].n;
	return x->lists[hcp].v;
}

const struct mr_evattr *mr_evindex_attr_of(const struct mr_evindex *x, uint32_t attr)
{
	return &x->attrs[attr < x->nattrs ? attr : 0];
}

uint32_t mr_evindex_nhcps(const struct mr_evindex *x)
{
	return x->nlists;
}

void mr_evindex_listen(struct mr_evindex *x, mr_evindex_listen_fn fn, void *arg)
{
	pthread_mutex_lock(&x->sync_mu);
	if (x->nlisten < MR_EVX_LISTENERS) {
		x->listen[x->nlisten].fn = fn;
		x->listen[x->nlisten].arg = arg;
		x->nlisten++;
	}
	pthread_mutex_unlock(&x->sync_mu);
}

/* ------------------------------------------------------------ lists */

static int mr_evx_before(const struct mr_evitem *a, int64_t ts, int64_t seq)
{
	return a->ts < ts || (a->ts == ts && a->seq < seq);
}

/* Adds one event to its HCP's list, keeping the list sorted; called write-locked. */
static void mr_evx_add(struct mr_evindex *x, const struct mr_evref *r)
{
	struct mr_evx_list *l;
	struct mr_evitem it = { r->seq, r->ts, r->rep, r->attr, r->dur, r->channel, r->outcome };
	uint32_t pos;

	if (r->hcp >= x->nlists) {
		uint32_t cap = x->nlists ? x->nlists : 1024;

		while (cap <= r->hcp)
			cap *= 2;
		x->lists = mr_realloc(x->lists, (size_t)cap * sizeof(*x->lists));
		memset(x->lists + x->nlists, 0, (size_t)(cap - x->nlists) * sizeof(*x->lists));
		x->nlists = cap;
	}
	l = &x->lists[r->hcp];
	if (l->n == MR_EVX_CAP(l)) {
		uint32_t cap = l->n ? l->n * 2 : 4;

		if (l->cap & MR_EVX_PACKED) {
			struct mr_evitem *v = mr_malloc((size_t)cap * sizeof(*v));

			memcpy(v, l->v, (size_t)l->n * sizeof(*v));
			l->v = v;
		} else {
			l->v = mr_realloc(l->v, (size_t)cap * sizeof(*l->v));
		}
		l->cap = cap;
	}
	pos = l->n;
	if (pos > 0 && !mr_evx_before(&l->v[pos - 1], it.ts, it.seq)) {
		uint32_t lo = 0, hi = l->n;

		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;

			if (mr_evx_before(&l->v[mid], it.ts, it.seq))
				lo = mid + 1;
			else
				hi = mid;
		}
		pos = lo;
		memmove(l->v + pos + 1, l->v + pos, (size_t)(l->n - pos) * sizeof(*l->v));
	}
	l->v[pos] = it;
	l->n++;
	x->events++;
}

/* Hands events just added to the listeners; called with sync_mu held, x->lock not. */
static void mr_evx_tell(struct mr_evindex *x, const struct mr_evref *refs, int n)
{
	for (int i = 0; i < x->nlisten; i++)
		x->listen[i].fn(x->listen[i].arg, refs, n);
}

/* ------------------------------------------------------------ reading the log */

/*
 * Reads one chunk of the log after x->last into the index; *got gets how
 * many rows. Called with sync_mu held.
 */
static int mr_evx_read_chunk(struct mr_evindex *x, struct mr_conn *c, int64_t *got,
			     struct mr_err *err)
{
	struct mr_val args[2] = { mr_v_int(atomic_load(&x->last)), mr_v_int(MR_EVX_CHUNK) };
	struct mr_rows *rows = NULL;
	int64_t last = atomic_load(&x->last);
	int rc = mr_conn_query(c,
			       "SELECT seq, eid, ts, hcp_id, COALESCE(rep_id, 0), channel, outcome, type,"
			       " content, campaign, meeting, duration_s FROM events WHERE seq > ? ORDER BY seq"
			       " LIMIT ?",
			       args, 2, &rows, err);

	struct mr_evref *heard = NULL; /* for the listeners, once loaded */
	int nheard = 0;

	*got = 0;
	if (rc == 0 && x->nlisten && atomic_load(&x->ready))
		heard = mr_malloc(MR_EVX_CHUNK * sizeof(*heard));
	pthread_rwlock_wrlock(&x->lock);
	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		struct mr_evref r;

		rc = 0;
		r.seq = mr_rows_int(rows, 0);
		r.ts = mr_rows_int(rows, 2);
		r.hcp = (uint32_t)mr_rows_int(rows, 3);
		r.rep = (uint32_t)mr_rows_int(rows, 4);
		r.channel = (uint8_t)mr_rows_int(rows, 5);
		r.outcome = (uint8_t)mr_rows_int(rows, 6);
		r.attr = mr_evindex_attr(x, mr_rows_text(rows, 7), mr_rows_text(rows, 8), mr_rows_text(rows, 9),
					 mr_rows_text(rows, 10));
		r.dur = mr_rows_isnull(rows, 11) ? 0 : (uint32_t)mr_rows_int(rows, 11) + 1;
		if (x->keep_ids && r.seq > x->ids_last) {
			mr_evx_ids_add(x, mr_evx_hash(x, mr_rows_text(rows, 1)));
			x->ids_last = r.seq;
		}
		mr_evx_add(x, &r);
		if (heard)
			heard[nheard++] = r;
		last = r.seq;
		(*got)++;
	}
	pthread_rwlock_unlock(&x->lock);
	mr_rows_close(rows);
	atomic_store(&x->last, last);
	if (nheard)
		mr_evx_tell(x, heard, nheard);
	free(heard);
	return rc < 0 ? rc : 0;
}

/* Reads the log until the end; called with sync_mu held. */
static int mr_evx_catch_up(struct mr_evindex *x, struct mr_conn *c, struct mr_err *err)
{
	int64_t got = 0;
	int rc;

	do {
		rc = mr_evx_read_chunk(x, c, &got, err);
	} while (rc == 0 && got == MR_EVX_CHUNK);
	return rc;
}

static void mr_evx_notify(struct mr_evindex *x, int64_t last)
{
	for (int i = 0; i < x->nwatch; i++)
		x->watch[i].fn(x->watch[i].arg, last);
}

/* Copies every list into one block in record id order; called with sync_mu held. */
static void mr_evx_pack(struct mr_evindex *x)
{
	struct mr_evitem *block;
	size_t total = 0, at = 0;

	for (uint32_t i = 0; i < x->nlists; i++)
		total += x->lists[i].n;
	if (!total)
		return;
	block = mr_big_alloc(total * sizeof(*block));
	pthread_rwlock_wrlock(&x->lock);
	for (uint32_t i = 0; i < x->nlists; i++) {
		struct mr_evx_list *l = &x->lists[i];

		if (!l->n)
			continue;
		memcpy(block + at, l->v, (size_t)l->n * sizeof(*block));
		if (!(l->cap & MR_EVX_PACKED))
			free(l->v);
		l->v = block + at;
		l->cap = l->n | MR_EVX_PACKED;
		at += l->n;
	}
	mr_big_free(x->packed, x->npacked * sizeof(*x->packed));
	x->packed = block;
	x->npacked = total;
	pthread_rwlock_unlock(&x->lock);
	malloc_trim(0); /* the small lists' pages go back */
}

/* The events in lists outside the packed block (all of them before the first pack). */
static int64_t mr_evx_scattered(const struct mr_evindex *x)
{
	int64_t n = 0;

	for (uint32_t i = 0; i < x->nlists; i++) {
		if (!(x->lists[i].cap & MR_EVX_PACKED))
			n += x->lists[i].n;
	}
	return n;
}

void mr_evx_repack(struct mr_evindex *x)
{
	int64_t out;

	pthread_mutex_lock(&x->sync_mu);
	out = atomic_load(&x->ready) ? mr_evx_scattered(x) : 0;
	if (out >= MR_EVX_REPACK_MIN && out * 10 >= x->events) {
		int64_t t0 = mr_mono_us();

		mr_evx_pack(x);
		mr_log_info("event=evindex_repacked events=%lld scattered=%lld took_ms=%lld", (long long)x->events,
			    (long long)out, (long long)((mr_mono_us() - t0) / 1000));
	}
	pthread_mutex_unlock(&x->sync_mu);
}

int mr_evindex_maintain(struct mr_evindex *x, struct mr_store *s, struct mr_err *err)
{
	int64_t now = mr_mono_us(), last = atomic_load(&x->maintained_at);

	if (now - last < MR_EVX_MAINTAIN_US || !atomic_compare_exchange_strong(&x->maintained_at, &last, now))
		return 0;
	mr_evx_repack(x);
	return mr_evindex_save_due(x, s, err);
}

int mr_evindex_sync(struct mr_evindex *x, struct mr_conn *c, struct mr_err *err)
{
	int64_t t0 = mr_mono_us(), before;
	int first, rc;

	pthread_mutex_lock(&x->sync_mu);
	first = !atomic_load(&x->ready);
	before = atomic_load(&x->last);
	rc = mr_evx_catch_up(x, c, err);
	if (rc == 0 && first) {
		pthread_mutex_lock(&x->ready_mu);
		atomic_store(&x->ready, 1);
		pthread_cond_broadcast(&x->ready_cv);
		pthread_mutex_unlock(&x->ready_mu);
		/* what committed while the load read, whose apply found the index not ready */
		rc = mr_evx_catch_up(x, c, err);
		if (rc == 0 && mr_evx_scattered(x))
			mr_evx_pack(x);
		x->load_us = mr_mono_us() - t0 + x->restore_us;
		x->from_store = x->events - x->restored;
		mr_log_info("event=evindex_loaded events=%lld last_seq=%lld took_ms=%lld",
			    (long long)x->events, (long long)atomic_load(&x->last),
			    (long long)(x->load_us / 1000));
	}
	pthread_mutex_unlock(&x->sync_mu);
	if (atomic_load(&x->last) != before)
		mr_evx_notify(x, atomic_load(&x->last));
	return rc;
}

/* Applies refs with sync_mu held; returns 1 when the last seq moved. */
static int mr_evx_apply_locked(struct mr_evindex *x, const struct mr_evref *refs, int n,
			       struct mr_store *store, struct mr_err *err)
{
	int64_t before = atomic_load(&x->last);
	int rc = 0;

	if (refs[0].seq > before + 1 && store) {
		struct mr_conn *c = NULL;

		rc = mr_store_acquire(store, &c, err);
		if (rc == 0)
			rc = mr_evx_catch_up(x, c, err);
		if (c)
			mr_store_release(store, c);
	}
	int first = 0;

	pthread_rwlock_wrlock(&x->lock);
	while (rc == 0 && first < n && refs[first].seq <= atomic_load(&x->last))
		first++; /* read from the store already */
	for (int i = first; rc == 0 && i < n; i++) {
		mr_evx_add(x, &refs[i]);
		atomic_store(&x->last, refs[i].seq);
	}
	pthread_rwlock_unlock(&x->lock);
	if (rc == 0 && first < n)
		mr_evx_tell(x, refs + first, n - first);
	return rc < 0 ? rc : atomic_load(&x->last) != before;
}

int mr_evindex_apply(struct mr_evindex *x, const struct mr_evref *refs, int n,
		     struct mr_store *store, struct mr_err *err)
{
	int rc;

	if (n <= 0 || !atomic_load(&x->ready))
		return 0; /* the load reads them */
	pthread_mutex_lock(&x->sync_mu);
	rc = mr_evx_apply_locked(x, refs, n, store, err);
	pthread_mutex_unlock(&x->sync_mu);
	if (rc == 1)
		mr_evx_notify(x, atomic_load(&x->last));
	return rc < 0 ? rc : 0;
}

void mr_evindex_queue(struct mr_evindex *x, const struct mr_evref *refs, int n)
{
	pthread_mutex_lock(&x->queue_mu);
	if (x->nqueue + n > x->capqueue) {
		x->capqueue = x->nqueue + n > 2 * x->capqueue ? x->nqueue + n : 2 * x->capqueue;
		x->queue = mr_realloc(x->queue, (size_t)x->capqueue * sizeof(*x->queue));
	}
	memcpy(x->queue + x->nqueue, refs, (size_t)n * sizeof(*refs));
	x->nqueue += n;
	pthread_mutex_unlock(&x->queue_mu);
}

int mr_evindex_drain(struct mr_evindex *x, struct mr_store *store, struct mr_err *err)
{
	struct mr_evref *take;
	int n, rc;

	/* under sync_mu throughout, so queues are applied in the order they were filled */
	pthread_mutex_lock(&x->sync_mu);
	pthread_mutex_lock(&x->queue_mu);
	take = x->queue;
	n = x->nqueue;
	x->queue = NULL;
	x->nqueue = x->capqueue = 0;
	pthread_mutex_unlock(&x->queue_mu);
	rc = n && atomic_load(&x->ready) ? mr_evx_apply_locked(x, take, n, store, err) : 0;
	pthread_mutex_unlock(&x->sync_mu);
	free(take);
	if (rc == 1)
		mr_evx_notify(x, atomic_load(&x->last));
	return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------ timeline */

/* Where list l's walk starts: the index after the last item older than (ts, seq). */
static uint32_t mr_evx_start(const struct mr_evx_list *l, int64_t ts, int64_t seq)
{
	uint32_t lo = 0, hi = l->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (mr_evx_before(&l->v[mid], ts, seq))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int mr_evx_wanted(const struct mr_timeline_q *q, const struct mr_evitem *it)
{
	if (q->channels && !(q->channels & (1u << it->channel)))
		return 0;
	if (q->reps && (it->rep >= q->nreps || !q->reps[it->rep]))
		return 0;
	if ((q->from && it->ts < q->from) || (q->to && it->ts >= q->to))
		return 0;
	return !q->after_seq || it->seq > q->after_seq;
}

/* The (ts, seq) of the cursor's event; 0 when it is not in these lists. */
static int mr_evx_find(const struct mr_evindex *x, const struct mr_timeline_q *q, int64_t seq,
		       int64_t *ts)
{
	for (int h = 0; h < q->nhcps; h++) {
		const struct mr_evx_list *l = q->hcps[h] < x->nlists ? &x->lists[q->hcps[h]] : NULL;

		for (uint32_t i = 0; l && i < l->n; i++) {
			if (l->v[i].seq == seq) {
				*ts = l->v[i].ts;
				return 1;
			}
		}
	}
	return 0;
}

enum { MR_EVX_MAX_MERGED = 64 };

int mr_evindex_timeline(struct mr_evindex *x, const struct mr_timeline_q *q, struct mr_evref *out)
{
	uint32_t at[MR_EVX_MAX_MERGED]; /* per list: items left to walk, from the newest down */
	int64_t ts = INT64_MAX, seq = INT64_MAX;
	int nh = q->nhcps < MR_EVX_MAX_MERGED ? q->nhcps : MR_EVX_MAX_MERGED;
	int n = 0;

	pthread_rwlock_rdlock(&x->lock);
	if (q->before_seq && !mr_evx_find(x, q, q->before_seq, &ts)) {
		pthread_rwlock_unlock(&x->lock);
		return -1;
	}
	if (q->before_seq)
		seq = q->before_seq;
	for (int h = 0; h < nh; h++) {
		const struct mr_evx_list *l = q->hcps[h] < x->nlists ? &x->lists[q->hcps[h]] : NULL;

		at[h] = l ? mr_evx_start(l, ts, seq) : 0;
	}
	while (n <= q->limit) {
		const struct mr_evitem *best = NULL;
		int bh = -1;

		for (int h = 0; h < nh; h++) {
			const struct mr_evitem *it;

			if (!at[h])
				continue;
			it = &x->lists[q->hcps[h]].v[at[h] - 1];
			if (!best || mr_evx_before(best, it->ts, it->seq)) {
				best = it;
				bh = h;
			}
		}
		if (!best)
			break;
		at[bh]--;
		if (!mr_evx_wanted(q, best))
			continue;
		out[n].seq = best->seq;
		out[n].ts = best->ts;
		out[n].hcp = q->hcps[bh];
		out[n].rep = best->rep;
		out[n].attr = best->attr;
		out[n].dur = best->dur;
		out[n].channel = best->channel;
		out[n].outcome = best->outcome;
		n++;
	}
	pthread_rwlock_unlock(&x->lock);
	return n;
}

/* ------------------------------------------------------------ life */

struct mr_evindex *mr_evindex_new(int keep_ids)
{
	struct mr_evindex *x = mr_calloc(1, sizeof(*x));

	pthread_rwlock_init(&x->lock, NULL);
	pthread_mutex_init(&x->sync_mu, NULL);
	pthread_mutex_init(&x->ready_mu, NULL);
	pthread_cond_init(&x->ready_cv, NULL);
	pthread_mutex_init(&x->queue_mu, NULL);
	pthread_rwlock_init(&x->attr_lock, NULL);
	x->dicts.type = mr_dict_new();
	x->dicts.content = mr_dict_new();
	x->dicts.campaign = mr_dict_new();
	x->dicts.meeting = mr_dict_new();
	x->capattrs = 1024;
	x->attrs = mr_calloc(x->capattrs, sizeof(*x->attrs));
	x->nattrs = 1;
	mr_evx_attr_rehash(x);
	x->keep_ids = keep_ids;
	randombytes_buf(x->hash_key, sizeof(x->hash_key));
	return x;
}

static void *mr_evx_loader(void *arg)
{
	struct mr_evindex *x = arg;
	struct mr_conn *c = NULL;
	struct mr_err err;

	mr_err_clear(&err);
	if (mr_store_acquire(x->store, &c, &err) == 0) {
		if (mr_evindex_sync(x, c, &err) < 0)
			mr_log_error("event=evindex_load_failed error=\"%s\"", err.msg);
		mr_store_release(x->store, c);
		if (mr_evindex_save_due(x, x->store, &err) < 0)
			mr_log_warn("event=snapshot_not_saved error=\"%s\"", err.msg);
	} else {
		mr_log_error("event=evindex_load_failed error=\"%s\"", err.msg);
	}
	return NULL;
}

void mr_evindex_load_async(struct mr_evindex *x, struct mr_store *store)
{
	x->store = store;
	if (pthread_create(&x->loader, NULL, mr_evx_loader, x) == 0)
		x->loading = 1;
	else
		mr_log_error("event=evindex_load_failed error=\"cannot start a thread\"");
}

int mr_evindex_ready(struct mr_evindex *x)
{
	return atomic_load(&x->ready);
}

int mr_evindex_wait_ready(struct mr_evindex *x, int64_t deadline_us)
{
	pthread_mutex_lock(&x->ready_mu);
	while (!atomic_load(&x->ready)) {
		int64_t left = deadline_us - mr_mono_us();
		struct timespec ts;

		if (left <= 0)
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += left / MR_US_PER_S;
		ts.tv_nsec += (left % MR_US_PER_S) * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&x->ready_cv, &x->ready_mu, &ts);
	}
	pthread_mutex_unlock(&x->ready_mu);
	return atomic_load(&x->ready);
}

int64_t mr_evindex_last(struct mr_evindex *x)
{
	return atomic_load(&x->last);
}

void mr_evindex_watch(struct mr_evindex *x, mr_evindex_watch_fn fn, void *arg)
{
	pthread_mutex_lock(&x->sync_mu);
	if (x->nwatch < MR_EVX_WATCHERS) {
		x->watch[x->nwatch].fn = fn;
		x->watch[x->nwatch].arg = arg;
		x->nwatch++;
	}
	pthread_mutex_unlock(&x->sync_mu);
}

void mr_evindex_stats(struct mr_evindex *x, struct mr_evindex_stats *out)
{
	pthread_rwlock_rdlock(&x->lock);
	out->ready = atomic_load(&x->ready);
	out->events = x->events;
	out->last_seq = atomic_load(&x->last);
	out->ids = (int64_t)x->nids;
	out->load_us = x->load_us;
	out->scattered = mr_evx_scattered(x);
	out->restored = x->restored;
	out->restore_us = x->restore_us;
	out->from_store = x->from_store;
	out->save_us = x->save_us;
	out->saved_last = x->saved_last;
	out->snapshot_ignored = x->snap_ignored;
	out->bytes = (int64_t)(x->idcap * sizeof(*x->ids) + (uint64_t)x->nlists * sizeof(*x->lists));
	for (uint32_t i = 0; i < x->nlists; i++)
		out->bytes += (int64_t)MR_EVX_CAP(&x->lists[i]) * (int64_t)sizeof(struct mr_evitem);
	pthread_rwlock_rdlock(&x->attr_lock);
	out->attrs = x->nattrs - 1;
	out->bytes += (int64_t)x->capattrs * (int64_t)sizeof(*x->attrs) +
		      (int64_t)x->nattr_slot * (int64_t)sizeof(*x->attr_slot);
	pthread_rwlock_unlock(&x->attr_lock);
	pthread_rwlock_unlock(&x->lock);
}

void mr_evindex_free(struct mr_evindex *x)
{
	if (!x)
		return;
	if (x->loading)
		pthread_join(x->loader, NULL);
	for (uint32_t i = 0; i < x->nlists; i++) {
		if (!(x->lists[i].cap & MR_EVX_PACKED))
			free(x->lists[i].v);
	}
	mr_big_free(x->packed, x->npacked * sizeof(*x->packed));
	free(x->lists);
	mr_big_free(x->ids, x->idcap * sizeof(*x->ids));
	free(x->snap_path);
	free(x->queue);
	free(x->attrs);
	free(x->attr_slot);
	mr_dict_free(x->dicts.type);
	mr_dict_free(x->dicts.content);
	mr_dict_free(x->dicts.campaign);
	mr_dict_free(x->dicts.meeting);
	pthread_rwlock_destroy(&x->attr_lock);
	pthread_mutex_destroy(&x->queue_mu);
	pthread_rwlock_destroy(&x->lock);
	pthread_mutex_destroy(&x->sync_mu);
	pthread_mutex_destroy(&x->ready_mu);
	pthread_cond_destroy(&x->ready_cv);
	free(x);
}
