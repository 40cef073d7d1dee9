/*
 * The engine: expressions of the query language (engine/expr.h) compiled
 * against the projections — the profile (engine/profile.h), the event
 * index (engine/evindex.h), the HCP directory's alignments and reps, the
 * content table and the tags — and evaluated per doctor, for a segment's
 * count or members, a tag's value or a rule's condition.
 *
 * A doctor is an HCP record that is live (not deleted, not merged); the
 * events of the records merged into it are its events too.
 *
 * Compiling resolves every name and literal once: text attributes become
 * dictionary codes, an event filter becomes lookup tables over (channel,
 * outcome), over the (type, content, campaign, meeting) codes, over reps,
 * so that evaluating is integer work. A plan is bound to the moment it was
 * compiled (alignments in force at as_of, reps and content known then) and
 * to its as_of; compile again for another.
 *
 * Thread-safe: plans are read-only once compiled; evaluating takes the
 * projections' read locks.
 */
#ifndef MR_ENGINE_ENGINE_H
#define MR_ENGINE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "engine/evindex.h"
#include "engine/expr.h"
#include "engine/hcpdir.h"
#include "engine/profile.h"

struct mr_engine;
struct mr_eplan;

/* A value: null, a boolean, a number or a text (valid while the plan and its evaluation live). */
enum { MR_XV_NULL = 0, MR_XV_BOOL, MR_XV_NUM, MR_XV_STR };
struct mr_xval {
	int kind;
	double num;          /* BOOL: 0 or 1 */
	const char *str;
};

/*
 * Tags, as the engine reads them (engine/tags.h provides this): a name's
 * tag and type, and a doctor's value of tag id (within the engine's read
 * span: begin/end bracket every evaluation).
 */
struct mr_tagsrc {
	int (*find)(void *arg, const char *name, int *id, enum mr_xtype *type);
	void (*read_begin)(void *arg);
	void (*read_end)(void *arg);
	void (*value)(void *arg, int id, uint32_t hcp, struct mr_xval *out);
	void *arg;
	/*
	 * Optional (may be NULL): the CRoaring bitmap (roaring_bitmap_t) of
	 * the records whose value of boolean or text tag id equals value
	 * (booleans: "true", "false"), valid within the read span; an empty
	 * bitmap when no doctor has that value; NULL for a number tag or an
	 * unknown id. Segments over tags use it for bitmap algebra.
	 */
	const void *(*bitmap)(void *arg, int id, const char *value);
};

struct mr_engine *mr_engine_new(struct mr_hcpdir *dir, struct mr_evindex *events, struct mr_profile *profile);
void mr_engine_free(struct mr_engine *e);
/* Sets where tags come from (call before serving). */
void mr_engine_set_tags(struct mr_engine *e, const struct mr_tagsrc *tags);

/* 1 when the projections are loaded (until then the engine cannot answer). */
int mr_engine_ready(struct mr_engine *e);

/*
 * Reads the content table (topic and product of each content id) on c:
 * at start and when content changed (the directory's listener does this
 * in a server). A store without the table is an empty catalogue.
 */
int mr_engine_load_content(struct mr_engine *e, struct mr_conn *c, struct mr_err *err);

/* Reloads the content catalogue whenever the directory's sync says content changed (or loaded all). */
void mr_engine_follow(struct mr_engine *e);

/* The resolver of the engine's names, for mr_expr_parse (editor checks with no plan). */
void mr_engine_resolver(struct mr_engine *e, struct mr_xresolver *out);

/*
 * Parses, checks and compiles src for evaluation at as_of (µs). The plan
 * lives in a. Errors: MR_EINVAL with *xe (column, message, expected), as
 * mr_expr_parse gives them, or for what the engine cannot evaluate (an
 * event field compared with another field).
 */
int mr_engine_compile(struct mr_engine *e, const char *src, size_t len, int64_t as_of, struct mr_arena *a,
		      struct mr_eplan **out, struct mr_xerr *xe, struct mr_err *err);
enum mr_xtype mr_eplan_type(const struct mr_eplan *p);
const struct mr_xnode *mr_eplan_tree(const struct mr_eplan *p);

/*
 * The doctors (live records) for whom boolean plan p is true, within scope
 * (scope[id] != 0 for the records the caller may see; NULL: all). count
 * gets how many; ids (when not NULL) up to max of them in ascending id
 * order, after record id after. Returns 0 or MR_E...
 */
int mr_engine_select(struct mr_engine *e, const struct mr_eplan *p, const unsigned char *scope,
		     uint32_t nscope, uint32_t after, uint32_t *ids, int max, int *nids, int64_t *count,
		     struct mr_err *err);

/*
 * The value of plan p for the doctors of ids (record ids; a merged record
 * is evaluated as its survivor), into out[i]. Text values point into the
 * engine's dictionaries or into a. until (when not NULL) gets, from the
 * same pass, each doctor's mr_engine_valid_until.
 */
int mr_engine_values(struct mr_engine *e, const struct mr_eplan *p, const uint32_t *ids, int n,
		     struct mr_arena *a, struct mr_xval *out, int64_t *until, struct mr_err *err);
/*
 * mr_engine_values for nplans plans at once, in one pass over the doctors
 * (each doctor's events read once for all of them): out[q] and until[q]
 * (each may be NULL in until) as mr_engine_values' for plans[q].
 */
int mr_engine_values_many(struct mr_engine *e, const struct mr_eplan *const *plans, int nplans,
			  const uint32_t *ids, int n, struct mr_arena *a, struct mr_xval *const *out,
			  int64_t *const *until, struct mr_err *err);

/*
 * The moment p's value may change for doctor id without a new event: the
 * earliest time after as_of at which one of the events its windows counted
 * leaves its window, a days_since() grows by a day, or an event dated after
 * as_of (stored ahead of its time) comes into a window (µs; INT64_MAX when
 * none). Tags schedule their expiry with it.
 */
int64_t mr_engine_valid_until(struct mr_engine *e, const struct mr_eplan *p, uint32_t id);

#endif
