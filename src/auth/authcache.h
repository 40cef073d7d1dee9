/*
 * A short-lived cache of authenticated principals, keyed by the hash of
 * the bearer secret, so a busy client does not cost a database lookup per
 * request (on SQLite each lookup also takes file locks: ~5 µs).
 *
 * Correctness: an entry lives at most MR_AUTHCACHE_TTL_MS and never past
 * its credential's own expiry. Every change this process makes that can
 * take access away (logout, token revocation, a user disabled, demoted or
 * given a new password) empties the cache before it is acknowledged. A
 * change made elsewhere (the CLI, another node) takes effect within the TTL.
 */
#ifndef MR_AUTH_AUTHCACHE_H
#define MR_AUTH_AUTHCACHE_H

#include <stdint.h>

#include "auth/token.h"

enum { MR_AUTHCACHE_TTL_MS = 1000 };

struct mr_authcache;

struct mr_authcache *mr_authcache_new(void);
void mr_authcache_free(struct mr_authcache *c);
/* Copies the principal cached for secret, presented as via, into *p; 1 on a hit, 0 otherwise. */
int mr_authcache_get(struct mr_authcache *c, enum mr_auth_via via, const char *secret,
		     int64_t now_us, struct mr_principal *p);
/* The current generation: take it before looking a secret up in the database. */
uint64_t mr_authcache_generation(struct mr_authcache *c);
/*
 * Remembers p for secret until now + TTL, or p->expires_at when sooner.
 * generation is what mr_authcache_generation said before p was read, so an
 * entry read before a concurrent clear is born stale and never served.
 */
void mr_authcache_put(struct mr_authcache *c, enum mr_auth_via via, const char *secret,
		      const struct mr_principal *p, int64_t now_us, uint64_t generation);
/* Forgets everything: call after any change that can take access away. */
void mr_authcache_clear(struct mr_authcache *c);

#endif
