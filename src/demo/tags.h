/*
 * The demo's tag catalogue: a few believable tags (the examples of the
 * query language: WeChat engagement, an engagement score, the academic
 * need, the phone answer rate, and a manual KOL flag), defined by
 * `medreach demo` with the world, so that the tag catalogue, segments
 * over tags and a doctor's tags show something on the first start.
 */
#ifndef MR_DEMO_TAGS_H
#define MR_DEMO_TAGS_H

#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

/* Stores the demo's tag definitions that s has no live tag of that name for; *created counts them. */
int mr_demo_tags(struct mr_store *s, int64_t now_us, int64_t *created, struct mr_err *err);

#endif
