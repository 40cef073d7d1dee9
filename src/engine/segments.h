/*
 * Saved segments (store/schema/010_segments.sql): a name for a boolean
 * expression, its description and who changed it, and its size per day.
 * The expression is checked by the caller (the engine) before it is saved;
 * here the rows are kept. Sizes are measured by mr_segments_measure, once a
 * day (the server's follower) and when a segment is saved.
 */
#ifndef MR_ENGINE_SEGMENTS_H
#define MR_ENGINE_SEGMENTS_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "engine/engine.h"
#include "store/store.h"

enum { MR_SEGMENT_NAME_MAX = 64, MR_SEGMENT_DESC_MAX = 1000, MR_SEGMENT_SIZES_MAX = 400 };

/* 1 when name is a segment name: [a-z0-9_-], 1..64, starting with a letter or digit. */
int mr_segment_name_ok(const char *name);

/* Creates or replaces (reviving a deleted one) segment name; *created 1 when it is new. */
int mr_segment_put(struct mr_conn *c, const char *name, const char *expr, const char *description,
		   const char *who, int64_t now, int *created, struct mr_err *err);
/* Soft-deletes segment name; MR_ENOTFOUND when there is none. */
int mr_segment_delete(struct mr_conn *c, const char *name, int64_t now, struct mr_err *err);
/*
 * The live segment name as {"name","expr","description","created_by","created_at","updated_by",
 * "updated_at"} (*out; NULL and MR_ENOTFOUND when none), with "sizes":[{"day","size"}] oldest first
 * (the last MR_SEGMENT_SIZES_MAX days) when sizes is set.
 */
int mr_segment_get(struct mr_conn *c, const char *name, int sizes, json_t **out, struct mr_err *err);
/* Appends every live segment (as mr_segment_get without sizes, plus "last_size") to items, by name. */
int mr_segment_list(struct mr_conn *c, json_t *items, struct mr_err *err);

/* The Asia/Shanghai day of a time (µs) as YYYY-MM-DD into day (11 bytes). */
void mr_segment_day(int64_t us, char day[11]);

/*
 * Measures the size of every live segment (all doctors, no scope) at now
 * on engine e and records it for now's day unless that day has one (or,
 * with name given, only that segment, replacing the day's size). Runs in
 * c's write transaction. *measured gets how many were recorded.
 */
int mr_segments_measure(struct mr_conn *c, struct mr_engine *e, const char *name, int64_t now, int *measured,
			struct mr_err *err);

#endif
