/*
 * The one place that decides what happens when memory runs out: print and
 * abort. Everything else allocates through these and never checks for NULL.
 */
#include "base/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static void mr_oom(size_t n)
{
	fprintf(stderr, "medreach: out of memory allocating %zu bytes\n", n);
	abort();
}

void *mr_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		mr_oom(n);
	return p;
}

void *mr_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		mr_oom(n * size);
	return p;
}

void *mr_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		mr_oom(n);
	return q;
}

char *mr_strndup(const char *s, size_t n)
{
	char *p = mr_malloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *mr_strdup(const char *s)
{
	if (!s)
		return NULL;
	return mr_strndup(s, strlen(s));
}

#define MR_BIG ((size_t)2 << 20)

void *mr_big_alloc(size_t n)
{
	void *p;

	if (n < MR_BIG)
		return mr_calloc(1, n);
	n = (n + MR_BIG - 1) & ~(MR_BIG - 1);
	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		mr_oom(n);
	madvise(p, n, MADV_HUGEPAGE); /* a hint: where it is refused, 4 KiB pages serve */
	return p;
}

void mr_big_free(void *p, size_t n)
{
	if (!p)
		return;
	if (n < MR_BIG)
		free(p);
	else
		munmap(p, (n + MR_BIG - 1) & ~(MR_BIG - 1));
}
