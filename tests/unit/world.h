/*
 * Building a small world in a test's store: a master-data record from a
 * JSON object (checked and upserted as the API would), in its own write
 * transaction. Shared by the engine's tests (profile, eval, kpi).
 */
#ifndef MR_TESTS_WORLD_H
#define MR_TESTS_WORLD_H

#include <jansson.h>

#include "base/arena.h"
#include "base/time.h"
#include "md/md.h"
#include "md/relate.h"
#include "unit.h"

struct mr_test_put {
	const struct mr_keys *keys;
	const struct mr_md_entity *e;
	json_t *obj;
	int64_t id;
};

static inline int mr_test_put_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_test_put *j = arg;
	struct mr_md_actor who = { .login = "test", .source = "test", .now = mr_now_us() };
	struct mr_arena a;
	struct mr_md_rec rec;
	struct mr_md_result res;
	int rc;

	memset(&res, 0, sizeof(res));
	mr_arena_init(&a);
	mr_md_rec_init(&rec, j->e);
	rc = mr_md_rec_from_json(&rec, j->obj, &a, err);
	if (rc == 0)
		rc = mr_md_rec_check(&rec, 1, &a, err);
	if (rc == 0)
		rc = mr_md_upsert(c, j->keys, &rec, 0, &who, &res, err);
	j->id = res.id;
	mr_arena_release(&a);
	return rc;
}

/* Upserts the record obj (its reference is taken) of entity e; returns its internal id. */
static inline int64_t mr_test_put(struct mr_store *st, const struct mr_keys *keys, const struct mr_md_entity *e,
				  json_t *obj)
{
	struct mr_test_put j = { keys, e, obj, 0 };
	struct mr_err err;

	if (mr_store_write(st, mr_test_put_fn, &j, &err) < 0)
		fail_msg("put: %s", err.msg);
	json_decref(obj);
	return j.id;
}

struct mr_test_align {
	struct mr_alignment al;
};

static inline int mr_test_align_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_test_align *j = arg;
	struct mr_md_actor who = { .login = "test", .source = "test", .now = mr_now_us() };
	int64_t id = 0;
	int changed = 0;

	return mr_align_upsert(c, &j->al, &who, &id, &changed, err);
}

/* Aligns HCP hcp to rep (external ids) in role, valid from from to to (µs; to 0: open). */
static inline void mr_test_align(struct mr_store *st, const char *hcp, const char *rep, const char *role,
				 int64_t from, int64_t to)
{
	struct mr_test_align j = { { hcp, rep, role, "", from, to } };
	struct mr_err err;

	if (mr_store_write(st, mr_test_align_fn, &j, &err) < 0)
		fail_msg("align %s to %s: %s", hcp, rep, err.msg);
}

#endif
