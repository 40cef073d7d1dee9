/*
 * See authcache.h. A fixed table of slots in shards, each shard under its
 * own mutex; clearing bumps a generation number instead of touching every
 * slot, so it is O(1), and an entry read from the database before a clear
 * carries the generation of its read, so it is stale the moment it lands.
 */
#include "auth/authcache.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/time.h"

enum { MR_AC_SHARDS = 16, MR_AC_SLOTS = 256, MR_AC_KEY = 32 };

struct mr_ac_slot {
	unsigned char key[MR_AC_KEY];
	uint64_t generation;
	int64_t expires_us;
	struct mr_principal p;
};

struct mr_ac_shard {
	pthread_mutex_t mu;
	struct mr_ac_slot slots[MR_AC_SLOTS];
};

struct mr_authcache {
	_Atomic uint64_t generation;
	struct mr_ac_shard shards[MR_AC_SHARDS];
};

struct mr_authcache *mr_authcache_new(void)
{
	struct mr_authcache *c = mr_calloc(1, sizeof(*c));

	atomic_init(&c->generation, 1);
	for (int i = 0; i < MR_AC_SHARDS; i++)
		pthread_mutex_init(&c->shards[i].mu, NULL);
	return c;
}

void mr_authcache_free(struct mr_authcache *c)
{
	if (!c)
		return;
	for (int i = 0; i < MR_AC_SHARDS; i++)
		pthread_mutex_destroy(&c->shards[i].mu);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

/* The slot for a secret and how it was presented: their hash picks the shard and the slot. */
static struct mr_ac_slot *mr_ac_slot(struct mr_authcache *c, enum mr_auth_via via, const char *secret,
				     unsigned char key[MR_AC_KEY], struct mr_ac_shard **shard)
{
	crypto_generichash_state st;
	unsigned char kind = (unsigned char)via;
	uint32_t h;

	crypto_generichash_init(&st, NULL, 0, MR_AC_KEY);
	crypto_generichash_update(&st, &kind, 1);
	crypto_generichash_update(&st, (const unsigned char *)secret, strlen(secret));
	crypto_generichash_final(&st, key, MR_AC_KEY);
	memcpy(&h, key, sizeof(h));
	*shard = &c->shards[h % MR_AC_SHARDS];
	return &(*shard)->slots[(h / MR_AC_SHARDS) % MR_AC_SLOTS];
}

int mr_authcache_get(struct mr_authcache *c, enum mr_auth_via via, const char *secret,
		     int64_t now_us, struct mr_principal *p)
{
	unsigned char key[MR_AC_KEY];
	struct mr_ac_shard *shard;
	struct mr_ac_slot *s = mr_ac_slot(c, via, secret, key, &shard);
	uint64_t gen = atomic_load(&c->generation);
	int hit = 0;

	pthread_mutex_lock(&shard->mu);
	if (s->generation == gen && s->expires_us > now_us && sodium_memcmp(s->key, key, MR_AC_KEY) == 0) {
		*p = s->p;
		hit = 1;
	}
	pthread_mutex_unlock(&shard->mu);
	return hit;
}

uint64_t mr_authcache_generation(struct mr_authcache *c)
{
	return atomic_load(&c->generation);
}

void mr_authcache_put(struct mr_authcache *c, enum mr_auth_via via, const char *secret,
		      const struct mr_principal *p, int64_t now_us, uint64_t generation)
{
	unsigned char key[MR_AC_KEY];
	struct mr_ac_shard *shard;
	struct mr_ac_slot *s = mr_ac_slot(c, via, secret, key, &shard);
	int64_t until = now_us + (int64_t)MR_AUTHCACHE_TTL_MS * 1000;

	if (p->expires_at && p->expires_at < until)
		until = p->expires_at;
	pthread_mutex_lock(&shard->mu);
	memcpy(s->key, key, MR_AC_KEY);
	s->generation = generation;
	s->expires_us = until;
	s->p = *p;
	pthread_mutex_unlock(&shard->mu);
}

void mr_authcache_clear(struct mr_authcache *c)
{
	atomic_fetch_add(&c->generation, 1);
}
