/*
 * The one place that decides what happens when memory runs out: print and
 * abort. Everything else allocates through these and never checks for NULL.
 */
#include "base/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
