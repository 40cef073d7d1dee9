/*
 * Bump allocator over a list of chunks. The first chunk is 4 KiB and each
 * new one twice the last, up to 64 KiB, so a request's arena stays small
 * and a bulk import's takes a few mallocs per megabyte instead of hundreds;
 * an allocation bigger than that gets a chunk of its own.
 */
#include "base/arena.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

struct mr_arena_chunk {
	struct mr_arena_chunk *next;
	size_t used;
	size_t size;
	alignas(max_align_t) unsigned char data[];
};

enum { MR_ARENA_CHUNK = 4096, MR_ARENA_CHUNK_MAX = 65536 };

void mr_arena_init(struct mr_arena *a)
{
	a->head = NULL;
}

void mr_arena_release(struct mr_arena *a)
{
	struct mr_arena_chunk *c = a->head;

	while (c) {
		struct mr_arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
}

void *mr_arena_alloc(struct mr_arena *a, size_t n)
{
	size_t align = alignof(max_align_t);
	size_t need = (n + align - 1) & ~(align - 1);
	struct mr_arena_chunk *c = a->head;
	void *p;

	if (!c || c->size - c->used < need) {
		size_t grow = c ? (c->size * 2 < MR_ARENA_CHUNK_MAX ? c->size * 2 : MR_ARENA_CHUNK_MAX) :
				  MR_ARENA_CHUNK;
		size_t size = need > grow ? need : grow;
		c = mr_malloc(sizeof(*c) + size);
		c->used = 0;
		c->size = size;
		c->next = a->head;
		a->head = c;
	}
	p = c->data + c->used;
	c->used += need;
	return p;
}

char *mr_arena_strndup(struct mr_arena *a, const char *s, size_t n)
{
	char *p = mr_arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *mr_arena_strdup(struct mr_arena *a, const char *s)
{
	if (!s)
		return NULL;
	return mr_arena_strndup(a, s, strlen(s));
}
