/*
 * See kpistore.h. The columns and the delta share one rwlock. Events
 * reach the listener after the index holds them, in seq order, so an
 * event either is in the lists the columns were copied from (its seq at
 * most the largest copied, `built_seq`), or is heard afterwards: the
 * listener keeps only seqs above built_seq, and ignores everything while
 * there are no columns (the first build copies it).
 */
#include "analytics/kpistore.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/time.h"
#include "engine/evindex.h"

enum { MR_KS_DELTA_MIN = 65536, MR_KS_DELTA_SHARE = 8 };

struct mr_kpistore {
	pthread_rwlock_t lock;
	int built;
	int64_t built_seq;             /* the largest seq in the columns */
	uint32_t nrec;
	uint32_t *off;
	int64_t *ts, *first, *last;
	uint8_t *cho;
	uint32_t *rep;
	size_t n;                      /* events in the columns */
	uint32_t *dhead;               /* by record */
	uint32_t ndhead;
	struct mr_kpistore_ev *d;
	uint32_t nd, capd;
};

struct mr_kpistore *mr_kpistore_new(void)
{
	struct mr_kpistore *k = mr_calloc(1, sizeof(*k));

	pthread_rwlock_init(&k->lock, NULL);
	return k;
}

/* Drops the columns and the delta; called write-locked. */
static void mr_ks_clear(struct mr_kpistore *k)
{
	size_t nr = (size_t)k->nrec + 1;

	mr_big_free(k->off, nr * sizeof(*k->off));
	mr_big_free(k->first, nr * sizeof(*k->first));
	mr_big_free(k->last, nr * sizeof(*k->last));
	mr_big_free(k->ts, k->n * sizeof(*k->ts));
	mr_big_free(k->cho, k->n);
	mr_big_free(k->rep, k->n * sizeof(*k->rep));
	free(k->dhead);
	free(k->d);
	k->off = k->dhead = k->rep = NULL;
	k->ts = k->first = k->last = NULL;
	k->cho = NULL;
	k->d = NULL;
	k->nrec = k->ndhead = k->nd = k->capd = 0;
	k->n = 0;
	k->built = 0;
}

void mr_kpistore_free(struct mr_kpistore *k)
{
	if (!k)
		return;
	mr_ks_clear(k);
	pthread_rwlock_destroy(&k->lock);
	free(k);
}

/* ------------------------------------------------------------ the delta */

/* Adds one event of record hcp to the delta; called write-locked. */
static void mr_ks_delta_add(struct mr_kpistore *k, const struct mr_evref *r)
{
	if (r->hcp >= k->ndhead) {
		uint32_t cap = k->ndhead ? k->ndhead : 1024;

		while (cap <= r->hcp)
			cap *= 2;
		k->dhead = mr_realloc(k->dhead, (size_t)cap * sizeof(*k->dhead));
		memset(k->dhead + k->ndhead, 0, (size_t)(cap - k->ndhead) * sizeof(*k->dhead));
		k->ndhead = cap;
	}
	if (k->nd == k->capd) {
		k->capd = k->capd ? k->capd * 2 : 4096;
		k->d = mr_realloc(k->d, (size_t)k->capd * sizeof(*k->d));
	}
	k->d[k->nd] = (struct mr_kpistore_ev){ .ts = r->ts, .rep = r->rep, .next = k->dhead[r->hcp],
					       .cho = (uint8_t)(r->channel << 2 | (r->outcome & 3u)) };
	k->dhead[r->hcp] = ++k->nd;
}

static void mr_ks_listener(void *arg, const struct mr_evref *refs, int n)
{
	struct mr_kpistore *k = arg;

	pthread_rwlock_wrlock(&k->lock);
	for (int i = 0; k->built && i < n; i++) {
		if (refs[i].seq > k->built_seq)
			mr_ks_delta_add(k, &refs[i]);
	}
	pthread_rwlock_unlock(&k->lock);
}

void mr_kpistore_follow(struct mr_kpistore *k, struct mr_evindex *x)
{
	mr_evindex_listen(x, mr_ks_listener, k);
}

/* ------------------------------------------------------------ the columns */

/* Copies x's lists into columns; called write-locked. */
static void mr_ks_build(struct mr_kpistore *k, struct mr_evindex *x)
{
	int64_t t0 = mr_mono_us(), top = 0;
	size_t at = 0;

	mr_ks_clear(k);
	mr_evindex_read_begin(x);
	k->nrec = mr_evindex_nhcps(x);
	k->off = mr_big_alloc(((size_t)k->nrec + 1) * sizeof(*k->off));
	k->first = mr_big_alloc(((size_t)k->nrec + 1) * sizeof(*k->first));
	k->last = mr_big_alloc(((size_t)k->nrec + 1) * sizeof(*k->last));
	for (uint32_t r = 0; r < k->nrec; r++) {
		uint32_t n = 0;

		const struct mr_evitem *v = mr_evindex_items(x, r, &n);

		k->off[r] = (uint32_t)k->n;
		k->first[r] = n ? v[0].ts : INT64_MAX;
		k->last[r] = n ? v[n - 1].ts : INT64_MIN;
		k->n += n;
	}
	k->off[k->nrec] = (uint32_t)k->n;
	k->ts = mr_big_alloc(k->n * sizeof(*k->ts));
	k->cho = mr_big_alloc(k->n);
	k->rep = mr_big_alloc(k->n * sizeof(*k->rep));
	for (uint32_t r = 0; r < k->nrec; r++) {
		uint32_t n = 0;
		const struct mr_evitem *v = mr_evindex_items(x, r, &n);

		for (uint32_t i = 0; i < n; i++, at++) {
			k->ts[at] = v[i].ts;
			k->cho[at] = (uint8_t)(v[i].channel << 2 | (v[i].outcome & 3u));
			k->rep[at] = v[i].rep;
			top = v[i].seq > top ? v[i].seq : top;
		}
	}
	mr_evindex_read_end(x);
	k->built_seq = top;
	k->built = 1;
	mr_log_info("event=kpistore_built events=%zu records=%u took_ms=%lld", k->n, k->nrec,
		    (long long)((mr_mono_us() - t0) / 1000));
}

/* 1 when the columns are missing or the delta has outgrown them. */
static int mr_ks_stale(const struct mr_kpistore *k)
{
	return !k->built || (k->nd > MR_KS_DELTA_MIN && k->nd > k->n / MR_KS_DELTA_SHARE);
}

void mr_kpistore_read_begin(struct mr_kpistore *k, struct mr_evindex *x, struct mr_kpistore_view *v)
{
	pthread_rwlock_rdlock(&k->lock);
	while (mr_ks_stale(k)) {
		pthread_rwlock_unlock(&k->lock);
		pthread_rwlock_wrlock(&k->lock);
		if (mr_ks_stale(k)) /* not rebuilt meanwhile by another reader */
			mr_ks_build(k, x);
		pthread_rwlock_unlock(&k->lock);
		pthread_rwlock_rdlock(&k->lock);
	}
	*v = (struct mr_kpistore_view){ .nrec = k->nrec, .off = k->off, .ts = k->ts, .first = k->first,
					 .last = k->last, .cho = k->cho, .rep = k->rep,
					 .dhead = k->dhead, .ndhead = k->ndhead, .d = k->d,
					 .events = (int64_t)k->n + k->nd };
}

void mr_kpistore_read_end(struct mr_kpistore *k)
{
	pthread_rwlock_unlock(&k->lock);
}

int64_t mr_kpistore_bytes(struct mr_kpistore *k)
{
	int64_t b;

	pthread_rwlock_rdlock(&k->lock);
	b = (int64_t)k->n * (int64_t)(sizeof(*k->ts) + sizeof(*k->cho) + sizeof(*k->rep)) +
	    (int64_t)k->nrec * 20 + (int64_t)k->ndhead * 4 + (int64_t)k->capd * (int64_t)sizeof(*k->d);
	pthread_rwlock_unlock(&k->lock);
	return b;
}
