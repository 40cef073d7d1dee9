/*
 * Growable, capped buffer. Growth doubles, so appends are amortised O(1);
 * the cap is checked before any allocation.
 */
#include "base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"

void mr_buf_init(struct mr_buf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void mr_buf_release(struct mr_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}

void mr_buf_reset(struct mr_buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

/* Makes room for n more bytes plus the NUL. */
static int mr_buf_grow(struct mr_buf *b, size_t n)
{
	size_t need;
	size_t cap;

	if (n > b->max || b->len > b->max - n)
		return MR_ETOOBIG;
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->p = mr_realloc(b->p, cap);
	b->cap = cap;
	return 0;
}

int mr_buf_add(struct mr_buf *b, const void *p, size_t n)
{
	int rc = mr_buf_grow(b, n);

	if (rc < 0)
		return rc;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int mr_buf_adds(struct mr_buf *b, const char *s)
{
	return mr_buf_add(b, s, strlen(s));
}

int mr_buf_addc(struct mr_buf *b, char c)
{
	return mr_buf_add(b, &c, 1);
}

int mr_buf_vaddf(struct mr_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	int rc;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return MR_EINVAL;
	rc = mr_buf_grow(b, (size_t)n);
	if (rc < 0)
		return rc;
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int mr_buf_addf(struct mr_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = mr_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return rc;
}

const char *mr_buf_str(const struct mr_buf *b)
{
	return b->p ? b->p : "";
}

char *mr_buf_detach(struct mr_buf *b, size_t *len)
{
	char *p = b->p ? b->p : mr_strdup("");

	if (len)
		*len = b->len;
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

struct mr_slice mr_slice_of(const char *s)
{
	struct mr_slice sl = { s, s ? strlen(s) : 0 };
	return sl;
}

int mr_slice_eq(struct mr_slice a, const char *s)
{
	size_t n = strlen(s);
	return a.n == n && memcmp(a.p, s, n) == 0;
}
