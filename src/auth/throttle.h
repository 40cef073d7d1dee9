/*
 * Login back-off. Failures are counted per key ("u:<login>" for an account,
 * "a:<address>" for a client address); past a free allowance each further
 * failure doubles a lock-out (1 s, 2 s, 4 s, ... up to 15 min) during which
 * attempts are refused with 429 before any password is checked. Unknown
 * logins are counted like real ones, so the back-off reveals nothing about
 * which logins exist. The table is bounded; the oldest entry makes room.
 */
#ifndef MR_AUTH_THROTTLE_H
#define MR_AUTH_THROTTLE_H

#include <stdint.h>

struct mr_throttle;

struct mr_throttle *mr_throttle_new(void);
void mr_throttle_free(struct mr_throttle *t);
/* 0 when key may try now; else MR_ELIMIT with *retry_after_s set. */
int mr_throttle_check(struct mr_throttle *t, const char *key, int64_t now_us, int64_t *retry_after_s);
/* Records a failure of key; free_fails failures are allowed before lock-outs begin. */
void mr_throttle_fail(struct mr_throttle *t, const char *key, int free_fails, int64_t now_us);
/* Forgets key's failures (after a good login). */
void mr_throttle_reset(struct mr_throttle *t, const char *key);

#endif
