/*
 * The one growable byte buffer (struct mr_buf) and the one non-owning slice
 * (struct mr_slice). A buffer has a mandatory size cap: an append that would
 * pass it fails with MR_ETOOBIG and leaves the buffer as it was, so input a
 * client controls can never grow memory without bound. The content is always
 * NUL-terminated for convenience; len does not count the NUL.
 */
#ifndef MR_BASE_BUF_H
#define MR_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct mr_slice {
	const char *p;
	size_t n;
};

struct mr_buf {
	char *p;    /* content, NUL-terminated, or NULL before the first append */
	size_t len; /* bytes used, not counting the NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* the cap on len */
};

/* Prepares b to hold at most max bytes; allocates nothing. */
void mr_buf_init(struct mr_buf *b, size_t max);
/* Frees the content; b may be initialised again. */
void mr_buf_release(struct mr_buf *b);
/* Empties b, keeping its memory. */
void mr_buf_reset(struct mr_buf *b);
/* Appends n bytes; MR_ETOOBIG (b unchanged) when len would pass max. */
int mr_buf_add(struct mr_buf *b, const void *p, size_t n);
/* Appends a NUL-terminated string. */
int mr_buf_adds(struct mr_buf *b, const char *s);
/* Appends one byte. */
int mr_buf_addc(struct mr_buf *b, char c);
/* Appends printf-style formatted text. */
int mr_buf_addf(struct mr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* As mr_buf_addf with a va_list. */
int mr_buf_vaddf(struct mr_buf *b, const char *fmt, va_list ap);
/* Returns the content ("" when empty); valid until the next change to b. */
const char *mr_buf_str(const struct mr_buf *b);
/* Hands the malloc'd content to the caller (who frees it) and empties b. */
char *mr_buf_detach(struct mr_buf *b, size_t *len);

/* A slice of a NUL-terminated string. */
struct mr_slice mr_slice_of(const char *s);
/* 1 when the slice equals the NUL-terminated s. */
int mr_slice_eq(struct mr_slice a, const char *s);

#endif
