/*
 * The event index's insides, shared by evindex.c (the index) and
 * evsnap.c (its snapshot file), and by nothing else.
 */
#ifndef MR_ENGINE_EVINDEX_INT_H
#define MR_ENGINE_EVINDEX_INT_H

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>

#include "engine/evindex.h"

enum { MR_EVX_WATCHERS = 16, MR_EVX_LISTENERS = 8 };

struct mr_evx_list {
	struct mr_evitem *v;
	uint32_t n, cap;            /* cap with MR_EVX_PACKED: v is a slice of the packed block */
};

/*
 * After the load, every list is copied into one block in record id order
 * (mr_evx_pack): a segment or KPI pass over all doctors then reads memory
 * in order instead of jumping between 420,000 small allocations (each
 * first touch a cache miss), and the lists' growth slack goes. A packed
 * list that grows moves out to an allocation of its own.
 */
#define MR_EVX_PACKED 0x80000000u
#define MR_EVX_CAP(l) ((l)->cap & ~MR_EVX_PACKED)

/*
 * An event id in the id set: 96 bits of its keyed hash (two ids collide
 * with a chance of about 1e-11 in a billion events), 12 bytes with no
 * padding; all zero marks an empty slot.
 */
struct mr_evx_key {
	uint32_t lo, mid, hi;
};

struct mr_evindex {
	pthread_rwlock_t lock;         /* lists, ids */
	pthread_mutex_t sync_mu;       /* one reader of the log at a time; guards last */
	pthread_mutex_t ready_mu;
	pthread_cond_t ready_cv;
	atomic_int ready;
	_Atomic int64_t last;          /* the newest seq applied */
	int64_t ids_last;              /* the newest seq whose id is in the set (write-locked) */
	int keep_ids;
	unsigned char hash_key[crypto_shorthash_siphashx24_KEYBYTES];
	struct mr_evx_list *lists;     /* by HCP record id */
	struct mr_evitem *packed;      /* the block the packed lists are slices of (mr_evx_pack) */
	size_t npacked;
	uint32_t nlists;
	int64_t events;
	struct mr_evx_key *ids;
	uint64_t idcap, nids;
	struct {
		mr_evindex_watch_fn fn;
		void *arg;
	} watch[MR_EVX_WATCHERS];
	int nwatch;
	struct {
		mr_evindex_listen_fn fn;
		void *arg;
	} listen[MR_EVX_LISTENERS];
	int nlisten;
	/* the (type, content, campaign, meeting) of events, by code; its own lock, taken by encoders */
	pthread_rwlock_t attr_lock;
	struct mr_evindex_dicts dicts;
	struct mr_evattr *attrs;       /* attrs[0]: none of them */
	uint32_t nattrs, capattrs;
	uint32_t *attr_slot;           /* attr codes by hash; 0 empty (code 0 is never hashed) */
	uint32_t nattr_slot;
	pthread_mutex_t queue_mu;      /* the refs committed and not yet applied */
	struct mr_evref *queue;
	int nqueue, capqueue;
	pthread_t loader;
	int loading;
	struct mr_store *store;
	int64_t load_us;
	/*
	 * Ids claimed since the writer last said how far its stored events
	 * go (ids_advance / ids_rewind): while any are open, or ids_last is
	 * past last, the id set holds ids of events not (yet) committed, and
	 * no snapshot may take it.
	 */
	int64_t claims_open;
	/* the snapshot file (evsnap.c); all but snap_path guarded by sync_mu */
	char *snap_path;
	int64_t restored;              /* events the first load took from the snapshot */
	int64_t restore_us;
	int64_t from_store;            /* events the first load read from the store */
	int64_t saved_last;            /* the last seq the file holds (saved or restored); 0: none */
	int64_t save_us;
	int64_t saved_events;          /* the events the file holds */
	int64_t saved_at;              /* mr_mono_us of the last save or restore; 0: none */
	const char *snap_ignored;      /* why the file at start could not serve (static), or NULL */
	_Atomic int64_t maintained_at; /* mr_mono_us of mr_evindex_maintain's last look */
};

/*
 * Packs the lists again (mr_evx_pack) once a tenth of the events, and at
 * least MR_EVX_REPACK_MIN, lie in lists that grew out of the packed block:
 * passes over every doctor read memory in order again. Writers wait while
 * it copies (~0.3 s for 10 million events).
 */
enum { MR_EVX_REPACK_MIN = 100000 };
#define MR_EVX_MAINTAIN_US (60LL * 1000000) /* mr_evindex_maintain looks at most once a minute */
void mr_evx_repack(struct mr_evindex *x);

/*
 * Rebuilds the attr codes' hash slots from x->attrs, at least twice as
 * many as the attrs (growing); called with attr_lock held for writing (or alone).
 */
void mr_evx_attr_rehash(struct mr_evindex *x);

#endif
