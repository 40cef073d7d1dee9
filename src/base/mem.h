/*
 * Allocation that cannot fail. Out of memory is not an error a caller can
 * handle usefully here, so these wrappers abort with a message instead, and
 * the rest of the code carries no scattered NULL checks.
 */
#ifndef MR_BASE_MEM_H
#define MR_BASE_MEM_H

#include <stddef.h>

/* Returns n bytes of uninitialised memory; aborts when none is left. */
void *mr_malloc(size_t n);
/* Returns n*size zeroed bytes; aborts on overflow or when none is left. */
void *mr_calloc(size_t n, size_t size);
/* Resizes p to n bytes; the old pointer is invalid after this call. */
void *mr_realloc(void *p, size_t n);
/* Returns a malloc'd copy of the NUL-terminated s (NULL stays NULL). */
char *mr_strdup(const char *s);
/* Returns a malloc'd, NUL-terminated copy of the first n bytes of s. */
char *mr_strndup(const char *s, size_t n);

/*
 * A large block of n zeroed bytes, for the projections' arrays of
 * millions of items: from 2 MiB up mapped on its own and asked for huge
 * pages, since a pass over it would otherwise pay a TLB miss (in a VM, a
 * nested page walk) per 4 KiB, and filling it a page fault per 4 KiB.
 * Free with mr_big_free and the same n; aborts when memory is out.
 */
void *mr_big_alloc(size_t n);
void mr_big_free(void *p, size_t n);

#endif
