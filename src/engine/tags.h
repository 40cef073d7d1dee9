/*
 * Tags (docs/tags.md): named expressions of the query language, kept
 * current for every doctor, and manual tags that people set per doctor.
 *
 * The store holds each tag's definition and its value for every doctor
 * (live HCP record), by record id: booleans and texts as one CRoaring
 * bitmap per distinct value (so a segment over tags is bitmap algebra)
 * beside a code per record, numbers as a float per record (NaN: null).
 * Computed values are never stored in the database: they are rebuilt
 * from the projections (engine/engine.h) at start and then kept current
 * in rounds, each one evaluating some tags for some doctors at the
 * store's clock:
 *   - events: the event index's listener re-evaluates the tags that read
 *     events (directly or through tags they name) for the doctors that
 *     got events, before the request that wrote them answers (a batch of
 *     more than 2,000 events, an import, right after, on the thread);
 *   - master data: the HCP directory's listener re-evaluates the tags of
 *     the doctors that changed (all tags, when hospitals, reps or content
 *     changed what they read);
 *   - expiry: a min-heap of (time, doctor, tag) says when a windowed
 *     value may change without a new event (an event leaving a window, a
 *     future-dated event arriving in one, the next whole day of
 *     days_since); mr_tags_advance re-evaluates what came due, so
 *     count(..., 90d) >= 3 turns false when its oldest event leaves;
 *   - definitions, manual values and recompute.
 * Tags that name other tags are evaluated after them (definitions with a
 * cycle are refused). Every change of a value by events, expiry, master
 * data, a manual set or a recompute goes to the tag-change log
 * (tag_changes, written through the group-commit writer in batches); the
 * first computation at load and a definition's own values do not (a new
 * tag's values are not news about a doctor, and a tag over 400,000
 * doctors would write as many rows).
 *
 * Thread-safe. The engine reads tags through struct mr_tagsrc
 * (mr_tags_source), within read spans; rounds run one at a time.
 * Lifecycle: mr_tags_new → mr_tags_follow (before the projections load)
 * → mr_tags_load or mr_tags_start → ... → mr_tags_stop (before the
 * writer stops) → mr_tags_free.
 */
#ifndef MR_ENGINE_TAGS_H
#define MR_ENGINE_TAGS_H

#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "engine/engine.h"
#include "store/store.h"

struct mr_tags;
struct mr_writer;

enum {
	MR_TAG_NAME_MAX = 63,        /* [a-z][a-z0-9_]{0,62} */
	MR_TAG_TEXT_MAX = 200,       /* a manual text value, in characters */
	MR_TAG_DESC_MAX = 1000,      /* description, in characters */
	MR_TAG_CATEGORY_MAX = 64,
	MR_TAG_BINS = 10,            /* a number's histogram */
};

enum mr_tag_kind { MR_TAG_COMPUTED, MR_TAG_MANUAL };

/* Why a round changed values: the tag-change log's cause. */
enum mr_tag_cause {
	MR_TC_NONE,                  /* the first computation: not logged */
	MR_TC_EVENT,
	MR_TC_EXPIRY,
	MR_TC_MASTERDATA,
	MR_TC_MANUAL,
	MR_TC_DEFINITION,            /* not logged */
	MR_TC_RECOMPUTE,
};
const char *mr_tag_cause_name(int cause);

/* A definition (strings borrowed). */
struct mr_tagdef {
	int64_t id;
	const char *name;
	int kind;                    /* enum mr_tag_kind */
	enum mr_xtype type;
	const char *expr;            /* NULL for a manual tag */
	const char *description, *category;
	const char *created_by, *updated_by;
	int64_t created_at, updated_at;
};

/* What the catalogue shows of a tag (strings in the caller's arena). */
struct mr_tag_info {
	struct mr_tagdef def;
	const char *error;           /* the definition no longer compiles (its values are null): why */
	const char **uses;           /* the names of the tags its expression names */
	int nuses;
	const char **used_by;        /* the names of the tags that name it */
	int nused_by;
	int64_t total;               /* doctors in scope */
	int64_t with_value;          /* ... that have a value */
	int64_t n_true;              /* booleans: ... whose value is true */
};

/* A doctor's value of one tag (strings in the caller's arena). */
struct mr_tag_value {
	int64_t id;
	const char *name;
	int kind;
	enum mr_xtype type;
	struct mr_xval v;
};

/* A tag's values over a scope. */
struct mr_tag_dist {
	enum mr_xtype type;
	int64_t total;               /* doctors in scope */
	int64_t nulls;               /* ... without a value */
	/* booleans and texts: each value with its count, most frequent first (then by value) */
	const char **values;
	int64_t *counts;
	int nvalues;
	int64_t other;               /* texts beyond the first max_values: their doctors */
	/* numbers */
	int64_t count;
	double min, max, mean;
	double bin_from[MR_TAG_BINS], bin_to[MR_TAG_BINS];
	int64_t bin_count[MR_TAG_BINS];
	int nbins;
};

struct mr_tags_stats {
	int ready;
	int tags;                    /* live tags */
	int64_t rounds, evaluated;   /* rounds run, (doctor, tag) values worked out */
	int64_t changes, logged;     /* value changes seen, rows committed to tag_changes */
	int64_t log_dropped;         /* changes seen with no writer to log them */
	int64_t heap;                /* expiry entries held */
	int64_t load_us;             /* the last full computation */
	int64_t last_event_us;       /* the last event round */
	int64_t bytes;               /* values and bitmaps */
};

struct mr_tags *mr_tags_new(struct mr_engine *e, struct mr_hcpdir *dir, struct mr_evindex *x,
			    struct mr_profile *pf);
/* Stops the thread if it runs and frees t (NULL is fine). */
void mr_tags_free(struct mr_tags *t);

/* The engine's view of t: find, value, bitmap within read spans (for mr_engine_set_tags). */
void mr_tags_source(struct mr_tags *t, struct mr_tagsrc *out);

/*
 * Registers t's listeners on the event index and the HCP directory: call
 * before their loads start, and after the profile's and the engine's own
 * (mr_profile_follow, mr_engine_follow), which must see a change first.
 */
void mr_tags_follow(struct mr_tags *t);

/* The clock of every round's as_of (default mr_now_us); tests drive time with one of their own. */
void mr_tags_set_clock(struct mr_tags *t, int64_t (*now)(void *arg), void *arg);

/*
 * Loads the definitions and manual values on c and computes every tag
 * for every doctor (not logged). The projections must be loaded.
 */
int mr_tags_load(struct mr_tags *t, struct mr_conn *c, struct mr_err *err);
/* 1 once loaded. */
int mr_tags_ready(struct mr_tags *t);
/* Waits for the load at most until deadline_us (a mr_mono_us time); 1 when loaded. */
int mr_tags_wait_ready(struct mr_tags *t, int64_t deadline_us);

/*
 * Re-evaluates every (doctor, tag) of the expiry heap whose time is at
 * or before now, at as_of now; returns how many it took off the heap.
 */
int mr_tags_advance(struct mr_tags *t, int64_t now);
/* The earliest time in the expiry heap; INT64_MAX when it is empty. */
int64_t mr_tags_next_expiry(struct mr_tags *t);

/*
 * Logs value changes through w from now on (posted batches; NULL stops,
 * after which changes are counted as dropped). fn (may be NULL) is told,
 * on the writer's thread, after each batch is committed.
 */
void mr_tags_log_to(struct mr_tags *t, struct mr_writer *w, void (*fn)(void *arg), void *arg);

/*
 * The server's way: a thread that loads t once the projections are in
 * (from a connection of store's), fires expiry at its time, and every
 * half second follows what other processes or nodes changed (definitions,
 * manual values, the change log). Changes are logged through w.
 * mr_tags_stop stops the thread and the logging: call it before the
 * writer stops.
 */
void mr_tags_start(struct mr_tags *t, struct mr_store *store, struct mr_writer *w, void (*logged)(void *arg),
		   void *arg);
void mr_tags_stop(struct mr_tags *t);

/*
 * Follows the store: definitions and manual values other processes
 * changed since the last call, read on c, applied (and logged). The
 * thread calls it; tests may.
 */
int mr_tags_sync(struct mr_tags *t, struct mr_conn *c, struct mr_err *err);

/* ------------------------------------------------------------ definitions */

/*
 * Checks def before it is stored: the name (a letter, then letters,
 * digits and _; not a profile, event or reserved name), the expression
 * (parsed, typed: def->type is set from it; errors MR_EINVAL with *xe's
 * column), or for a manual tag its type; the tags it names (no cycle, no
 * manual tag replaced by one of another type while tags use it:
 * MR_EINVAL / MR_ECONFLICT naming them). Call within mr_tags_define_begin.
 */
int mr_tags_check(struct mr_tags *t, struct mr_tagdef *def, struct mr_xerr *xe, struct mr_err *err);
/*
 * Whether the tag called name may be deleted: *id gets its id;
 * MR_ENOTFOUND, or MR_ECONFLICT naming the tags that use it.
 */
int mr_tags_check_delete(struct mr_tags *t, const char *name, int64_t *id, struct mr_err *err);
/*
 * Definition changes run one at a time, between begin and end: check,
 * store (through the writer), then apply, which computes the tag (and
 * the tags that use it) for every doctor, logging the changes.
 */
void mr_tags_define_begin(struct mr_tags *t);
void mr_tags_define_end(struct mr_tags *t);
void mr_tags_apply_def(struct mr_tags *t, const struct mr_tagdef *def);
void mr_tags_apply_delete(struct mr_tags *t, int64_t id);

/* The live tag called name: its definition and counts over scope (a map by record id; NULL: all). */
int mr_tags_get(struct mr_tags *t, const char *name, const unsigned char *scope, uint32_t nscope,
		struct mr_arena *a, struct mr_tag_info *out, struct mr_err *err);
/* Every live tag with an id above after (at most max), in id order; *n gets how many. */
int mr_tags_list(struct mr_tags *t, int64_t after, int max, const unsigned char *scope, uint32_t nscope,
		 struct mr_arena *a, struct mr_tag_info **out, int *n);

/* ------------------------------------------------------------ values */

/*
 * Every live tag's value for doctor hcp (a record id; a merged record
 * reads its survivor's), in id order. Returns how many, into *out (in a).
 */
int mr_tags_of_hcp(struct mr_tags *t, uint32_t hcp, struct mr_arena *a, struct mr_tag_value **out);
/* The live record whose values record id reads: itself, or the survivor it was merged into. */
uint32_t mr_tags_doctor(struct mr_tags *t, uint32_t id);
/* The values of tag name over scope (NULL: all doctors); texts: the max_values most frequent. */
int mr_tags_distribution(struct mr_tags *t, const char *name, const unsigned char *scope, uint32_t nscope,
			 int max_values, struct mr_arena *a, struct mr_tag_dist *out, struct mr_err *err);
/*
 * Computes every tag for every doctor again, logging what changed:
 * *ntags tags, *nhcps doctors, in *took_us.
 */
int mr_tags_recompute(struct mr_tags *t, int *ntags, int64_t *nhcps, int64_t *took_us, struct mr_err *err);
/* The time (µs) the last recompute evaluated every window at (0: none yet). */
int64_t mr_tags_recomputed_at(struct mr_tags *t);

/*
 * Manual values. A set runs between mr_tags_manual_begin and _end, so that
 * the old value it logs is the one it replaces. mr_tags_manual_check finds
 * the manual tag called name (MR_ENOTFOUND; MR_ECONFLICT for a computed
 * tag), checks value (its text: "true" / "false", a number, the text;
 * NULL clears) against its type and gives it canonical in *canon; *hcp
 * (a record id) becomes the doctor's live record, and *old the tag and
 * that doctor's value now (old->v.str its text, or NULL; strings in a).
 * After the caller's transaction (mr_tagdb_set_manual) committed,
 * mr_tags_apply_manual sets it in memory and evaluates the tags that name
 * it for that doctor again.
 */
void mr_tags_manual_begin(struct mr_tags *t);
void mr_tags_manual_end(struct mr_tags *t);
int mr_tags_manual_check(struct mr_tags *t, const char *name, uint32_t *hcp, const char *value,
			 struct mr_arena *a, struct mr_tag_value *old, const char **canon, struct mr_err *err);
void mr_tags_apply_manual(struct mr_tags *t, uint32_t hcp, int64_t id, const char *value);

/* The text a value is logged and stored as ("true", "12.5", the text), in buf; NULL for null. */
const char *mr_tag_value_text(const struct mr_xval *v, char *buf, size_t n);

void mr_tags_stats(struct mr_tags *t, struct mr_tags_stats *out);

#endif
