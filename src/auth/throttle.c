/*
 * See throttle.h. An open-addressed table of fixed size under one mutex:
 * logins are rare next to other requests, so simplicity wins over
 * concurrency here. Entries quiet for the window expire lazily.
 */
#include "auth/throttle.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/time.h"

enum { MR_THROTTLE_SLOTS = 8192, MR_THROTTLE_KEY = 96, MR_THROTTLE_PROBE = 32 };

#define MR_THROTTLE_WINDOW_US (15 * 60 * MR_US_PER_S)
#define MR_THROTTLE_MAX_LOCK_S (15 * 60)

struct mr_throttle_entry {
	char key[MR_THROTTLE_KEY];
	int fails;
	int64_t last_fail_us;
	int64_t locked_until_us;
};

struct mr_throttle {
	pthread_mutex_t mu;
	struct mr_throttle_entry slots[MR_THROTTLE_SLOTS];
};

struct mr_throttle *mr_throttle_new(void)
{
	struct mr_throttle *t = mr_calloc(1, sizeof(*t));

	pthread_mutex_init(&t->mu, NULL);
	return t;
}

void mr_throttle_free(struct mr_throttle *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->mu);
	free(t);
}

static uint64_t mr_throttle_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* How willing we are to give up an entry's slot: free or expired first, locked ones last. */
static int64_t mr_throttle_keep(const struct mr_throttle_entry *e, int64_t now)
{
	if (!e->key[0] || now - e->last_fail_us > MR_THROTTLE_WINDOW_US)
		return INT64_MIN;
	if (e->locked_until_us > now)
		return INT64_MAX / 2 + e->last_fail_us / 2; /* a flood of new keys cannot unlock it */
	return e->last_fail_us;
}

/*
 * Finds key's entry; with create, takes the slot of its probe run that is
 * cheapest to give up: empty or expired, else the oldest unlocked one.
 */
static struct mr_throttle_entry *mr_throttle_find(struct mr_throttle *t, const char *key, int create,
						  int64_t now)
{
	uint64_t h = mr_throttle_hash(key);
	struct mr_throttle_entry *victim = NULL;
	int64_t victim_keep = INT64_MAX;

	for (int i = 0; i < MR_THROTTLE_PROBE; i++) {
		struct mr_throttle_entry *e = &t->slots[(h + (uint64_t)i) % MR_THROTTLE_SLOTS];
		int64_t keep;
		if (e->key[0] && strncmp(e->key, key, MR_THROTTLE_KEY - 1) == 0)
			return e;
		keep = mr_throttle_keep(e, now);
		if (!victim || keep < victim_keep) {
			victim = e;
			victim_keep = keep;
		}
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	snprintf(victim->key, sizeof(victim->key), "%s", key);
	return victim;
}

int mr_throttle_check(struct mr_throttle *t, const char *key, int64_t now_us, int64_t *retry_after_s)
{
	struct mr_throttle_entry *e;
	int rc = 0;

	pthread_mutex_lock(&t->mu);
	e = mr_throttle_find(t, key, 0, now_us);
	if (e && e->locked_until_us > now_us) {
		*retry_after_s = (e->locked_until_us - now_us + MR_US_PER_S - 1) / MR_US_PER_S;
		rc = MR_ELIMIT;
	}
	pthread_mutex_unlock(&t->mu);
	return rc;
}

void mr_throttle_fail(struct mr_throttle *t, const char *key, int free_fails, int64_t now_us)
{
	struct mr_throttle_entry *e;

	pthread_mutex_lock(&t->mu);
	e = mr_throttle_find(t, key, 1, now_us);
	if (now_us - e->last_fail_us > MR_THROTTLE_WINDOW_US)
		e->fails = 0;
	e->fails++;
	e->last_fail_us = now_us;
	if (e->fails >= free_fails) {
		int over = e->fails - free_fails;
		int64_t lock_s = over >= 10 ? MR_THROTTLE_MAX_LOCK_S : (int64_t)1 << over;
		if (lock_s > MR_THROTTLE_MAX_LOCK_S)
			lock_s = MR_THROTTLE_MAX_LOCK_S;
		e->locked_until_us = now_us + lock_s * MR_US_PER_S;
	}
	pthread_mutex_unlock(&t->mu);
}

void mr_throttle_reset(struct mr_throttle *t, const char *key)
{
	struct mr_throttle_entry *e;

	pthread_mutex_lock(&t->mu);
	e = mr_throttle_find(t, key, 0, 0);
	if (e)
		memset(e, 0, sizeof(*e));
	pthread_mutex_unlock(&t->mu);
}
