/*
 * Requests parked until events arrive: the long polls of the change feed
 * and of live timelines. A handler parks its request (mr_req_wait), which
 * suspends the connection in libmicrohttpd, so no thread is held; the
 * request is resumed, and its handler runs again, when the event index
 * applies an event above the seq it waits after (mr_waiters_wake, from
 * the index's watch) or when its deadline passes (a timer thread).
 */
#ifndef MR_HTTP_WAIT_H
#define MR_HTTP_WAIT_H

#include <stdint.h>

#include "http/http.h"

struct mr_waiters;

struct mr_waiters *mr_waiters_new(void);
/* Resumes every parked request and refuses new ones (before the server stops). */
void mr_waiters_close(struct mr_waiters *w);
void mr_waiters_free(struct mr_waiters *w);
/* Parks r (called from its handler); MR_EUNAVAIL once closed or when too many wait. */
int mr_waiters_park(struct mr_waiters *w, struct mr_req *r, struct mr_err *err);
/* Forgets r if it is parked (its connection ended). */
void mr_waiters_forget(struct mr_waiters *w, struct mr_req *r);
/* Resumes the requests waiting for a seq below last_seq. */
void mr_waiters_wake(struct mr_waiters *w, int64_t last_seq);
/* How many are parked. */
int mr_waiters_count(struct mr_waiters *w);

#endif
