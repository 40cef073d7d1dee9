/*
 * A per-request arena: many small allocations, freed together in one call
 * when the request ends, so handlers never free piece by piece.
 */
#ifndef MR_BASE_ARENA_H
#define MR_BASE_ARENA_H

#include <stddef.h>

struct mr_arena_chunk;

struct mr_arena {
	struct mr_arena_chunk *head; /* newest chunk first */
};

/* Prepares an empty arena; allocates nothing. */
void mr_arena_init(struct mr_arena *a);
/* Frees everything allocated from a; a may be used again. */
void mr_arena_release(struct mr_arena *a);
/* Returns n bytes aligned for any type, valid until mr_arena_release. */
void *mr_arena_alloc(struct mr_arena *a, size_t n);
/* Copies the first n bytes of s into the arena, NUL-terminated. */
char *mr_arena_strndup(struct mr_arena *a, const char *s, size_t n);
/* Copies a NUL-terminated string into the arena (NULL stays NULL). */
char *mr_arena_strdup(struct mr_arena *a, const char *s);

#endif
