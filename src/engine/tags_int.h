/*
 * What the tag store's files share and nobody else sees: the store's
 * state (struct mr_tags), a tag (struct mr_tag) and its values (struct
 * mr_tagval), and the helpers that read them. tags.c keeps them current;
 * tagread.c answers the catalogue's questions from them. See tags.h.
 *
 * Locking: definitions and values change only in rounds (round_mu), and
 * are published under the write lock (lock); readers take the read lock.
 */
#ifndef MR_ENGINE_TAGS_INT_H
#define MR_ENGINE_TAGS_INT_H

#include <pthread.h>
#include <roaring/roaring.h>
#include <stdatomic.h>
#include <stdint.h>

#include "base/time.h"
#include "engine/tags.h"

enum {
	MR_TAGS_MAX_ID = 1 << 20,    /* tag ids (rows of tags) this store takes */
	MR_TAGS_THREADS = 2,
	MR_TAGS_SPLIT = 20000,       /* a round over more doctors uses the threads */
	MR_TAGS_BATCH = 8,           /* computed tags a full round evaluates in one pass */
	MR_TAGS_LOG_BATCH = 20000,   /* changes in one writer job */
	MR_TAGS_SYNC_MS = 500,       /* following other nodes */
	MR_TAGS_IDLE_MS = 50,        /* waiting for the projections */
	MR_TAGS_PCACHE = 256,        /* a worker's text cache (by pointer) */
	MR_TAGS_INLINE_MAX = 2000,   /* events of a batch worked out before the request answers */
};

#define MR_DAY_US (86400 * MR_US_PER_S)

/* What a definition reads (struct mr_tag's flags). */
enum {
	MR_TF_EVENTS = 1u << 0,      /* event functions */
	MR_TF_HCO = 1u << 2,         /* hco.* */
	MR_TF_REPS = 1u << 3,        /* rep, rep.type, owner.* */
	MR_TF_CONTENT = 1u << 4,     /* content.topic, content.product */
	MR_TF_EVENTS_ALL = 1u << 5,  /* events, itself or through the tags it names */
	MR_TF_TIMED = 1u << 6,       /* its value may change with time alone: windows, days_since, owners */
};

/* A tag's values, by record id. */
struct mr_tagval {
	uint32_t cap;                /* records 0..cap-1 */
	uint32_t *code;              /* booleans, texts: 0 null; booleans 1 false, 2 true */
	float *num;                  /* numbers: NaN null */
	struct mr_dict *dict;        /* texts */
	const char **texts;          /* texts: by code (the dictionary's strings), ntexts long */
	uint32_t ntexts;
	roaring_bitmap_t **bm;       /* booleans, texts: the records holding each code */
	uint32_t nbm;
	int64_t *due;                /* timed tags: when the value may change next (0: nothing due) */
	/* manual tags: what people set, per record (published for live records) */
	uint32_t *raw_code;
	float *raw_num;
};

struct mr_tag {
	int64_t id;
	int live;                    /* 0 once deleted: the slot stays, so an id never means another tag */
	int kind;
	enum mr_xtype type;
	char *name, *expr, *description, *category, *created_by, *updated_by;
	int64_t created_at, updated_at;
	char *error;                 /* the expression does not compile now: why (values are null) */
	unsigned flags;
	int64_t *deps;               /* the tags its expression names */
	int ndeps;
	struct mr_tagval v;
};

/* One expiry entry: doctor hcp's value of tag may change at time at. */
struct mr_tagexp {
	int64_t at;
	uint32_t hcp;
	uint32_t tag;
};

struct mr_tags {
	int64_t recomputed_at;         /* the clock of the last recompute (under round_mu) */
	struct mr_engine *e;
	struct mr_hcpdir *dir;
	struct mr_evindex *x;
	struct mr_profile *pf;
	int64_t (*now)(void *arg);
	void *now_arg;
	pthread_rwlock_t lock;       /* readers' span over definitions and values; rounds publish under it */
	pthread_mutex_t round_mu;    /* one round at a time; the heap */
	pthread_mutex_t def_mu;      /* definition changes, check to apply */
	pthread_mutex_t manual_mu;   /* manual sets, check to apply */
	struct mr_tag **byid;
	int64_t nbyid;
	int64_t *order;              /* live tags, each after those it names */
	int norder;
	atomic_int ready;
	atomic_int seen_dir;         /* the directory's first load was heard: the content catalogue is in */
	roaring_bitmap_t *empty;
	struct mr_tagexp *heap;
	size_t nheap, capheap;
	int64_t ndue;                /* due times set (the heap's entries that are not stale) */
	int64_t round_doctors;       /* the last round's */
	uint32_t *later;             /* records of large event batches, for the thread (round_mu) */
	uint32_t nlater, caplater;
	/* the change log */
	pthread_mutex_t log_mu;
	struct mr_writer *writer;
	void (*logged)(void *arg);
	void *logged_arg;
	/* following the store */
	int64_t defs_version, manual_last, head_seen;
	/* the thread */
	struct mr_store *store;
	pthread_t thread;
	int running, stop, kick;
	int64_t waiting_until;
	pthread_mutex_t th_mu;
	pthread_cond_t th_cv;
	/* stats: rounds' own under round_mu, the log's atomic */
	struct mr_tags_stats st;
	atomic_llong logged_rows, dropped;
};

/* The tag of id, or NULL (also for a slot never used). */
struct mr_tag *mr_tag_at(const struct mr_tags *t, int64_t id);
/* The live tag called name, or NULL. */
struct mr_tag *mr_tag_named(const struct mr_tags *t, const char *name);
/* Record id's value of g (within a read span or a round). */
void mr_tag_get(const struct mr_tag *g, uint32_t id, struct mr_xval *out);
/* The text of code in g's values (booleans: "true" / "false"); NULL for 0. */
const char *mr_tagval_text(const struct mr_tag *g, uint32_t code);
/* Number text: whole numbers without a fraction, others with 7 significant digits (a float's). */
const char *mr_num_text(double d, char *buf, size_t n);
/* The live record a record's values are read at: itself, or the survivor it was merged into. */
uint32_t mr_tags_survivor(struct mr_tags *t, uint32_t id);

#endif
