/*
 * The string dictionary (dict.h): an open-addressing hash table of codes,
 * keyed by the strings they stand for, beside an array from code to
 * string. Strings live in an arena, so neither growing the table nor the
 * array moves them.
 */
#include "engine/dict.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/mem.h"

struct mr_dict {
	pthread_rwlock_t lock;
	struct mr_arena pool;
	const char **str;       /* by code; str[0] unused */
	uint32_t *len;
	uint32_t n, cap;        /* codes 1..n */
	uint32_t *slot;         /* codes by hash; 0: empty */
	uint32_t nslot;         /* a power of two, at least twice n */
};

/* FNV-1a: dictionary strings are short (ids, names) and come from our own store. */
static uint32_t mr_dict_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

/* The slot holding s, or the empty slot where it would go. */
static uint32_t mr_dict_probe(const struct mr_dict *d, const char *s, size_t n)
{
	uint32_t mask = d->nslot - 1, i = mr_dict_hash(s, n) & mask;

	for (;;) {
		uint32_t code = d->slot[i];

		if (!code || (d->len[code] == n && memcmp(d->str[code], s, n) == 0))
			return i;
		i = (i + 1) & mask;
	}
}

static void mr_dict_rehash(struct mr_dict *d)
{
	free(d->slot);
	d->nslot = d->nslot ? d->nslot * 2 : 64;
	d->slot = mr_calloc(d->nslot, sizeof(*d->slot));
	for (uint32_t code = 1; code <= d->n; code++)
		d->slot[mr_dict_probe(d, d->str[code], d->len[code])] = code;
}

struct mr_dict *mr_dict_new(void)
{
	struct mr_dict *d = mr_calloc(1, sizeof(*d));

	pthread_rwlock_init(&d->lock, NULL);
	mr_arena_init(&d->pool);
	mr_dict_rehash(d);
	return d;
}

void mr_dict_free(struct mr_dict *d)
{
	if (!d)
		return;
	mr_arena_release(&d->pool);
	free(d->str);
	free(d->len);
	free(d->slot);
	pthread_rwlock_destroy(&d->lock);
	free(d);
}

uint32_t mr_dict_intern(struct mr_dict *d, const char *s, size_t n)
{
	uint32_t code, i;

	if (!s)
		return 0;
	pthread_rwlock_rdlock(&d->lock);
	code = d->slot[mr_dict_probe(d, s, n)];
	pthread_rwlock_unlock(&d->lock);
	if (code)
		return code;
	pthread_rwlock_wrlock(&d->lock);
	i = mr_dict_probe(d, s, n);
	code = d->slot[i];
	if (!code) {
		if (d->n + 1 >= d->cap) {
			d->cap = d->cap ? d->cap * 2 : 64;
			d->str = mr_realloc(d->str, (size_t)d->cap * sizeof(*d->str));
			d->len = mr_realloc(d->len, (size_t)d->cap * sizeof(*d->len));
		}
		code = ++d->n;
		d->str[code] = mr_arena_strndup(&d->pool, s, n);
		d->len[code] = (uint32_t)n;
		d->slot[i] = code;
		if ((uint64_t)d->n * 2 > d->nslot)
			mr_dict_rehash(d);
	}
	pthread_rwlock_unlock(&d->lock);
	return code;
}

uint32_t mr_dict_add(struct mr_dict *d, const char *s)
{
	return s ? mr_dict_intern(d, s, strlen(s)) : 0;
}

uint32_t mr_dict_find(struct mr_dict *d, const char *s)
{
	uint32_t code;

	if (!s)
		return 0;
	pthread_rwlock_rdlock(&d->lock);
	code = d->slot[mr_dict_probe(d, s, strlen(s))];
	pthread_rwlock_unlock(&d->lock);
	return code;
}

const char *mr_dict_str(struct mr_dict *d, uint32_t code)
{
	const char *s = NULL;

	pthread_rwlock_rdlock(&d->lock);
	if (code && code <= d->n)
		s = d->str[code];
	pthread_rwlock_unlock(&d->lock);
	return s;
}

uint32_t mr_dict_size(struct mr_dict *d)
{
	uint32_t n;

	pthread_rwlock_rdlock(&d->lock);
	n = d->n;
	pthread_rwlock_unlock(&d->lock);
	return n;
}
