/*
 * What every libFuzzer harness here shares: FUZZ_CHECK, which turns a broken
 * invariant into a crash libFuzzer saves as a reproducer (an abort with the
 * file, line and condition, so the report says what was wrong and not only
 * where), and a reader that hands out the fuzzer's bytes piece by piece.
 *
 * A harness asserts what a caller relies on (round trips, agreement with an
 * independent implementation, buffers left unchanged on failure); surviving
 * the input is the least of it. Reproduce a saved crash with
 * `build/fuzz/fuzz_<name> build/fuzz/crashes/<file>`.
 */
#ifndef MR_TESTS_FUZZ_H
#define MR_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with where and what when cond is false; an assert that survives NDEBUG. */
#define FUZZ_CHECK(cond, what)                                                                     \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fuzz_fail(__FILE__, __LINE__, #cond, (what));                              \
	} while (0)

static inline void fuzz_fail(const char *file, int line, const char *cond, const char *what)
{
	fprintf(stderr, "\n%s:%d: invariant broken: %s\n  check: %s\n", file, line, what, cond);
	abort();
}

/* The fuzzer's input, consumed from the front. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

/* One byte, or 0 when the input is used up. */
static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	uint8_t b;

	if (in->n == 0)
		return 0;
	b = in->p[0];
	in->p++;
	in->n--;
	return b;
}

/* Up to want bytes (fewer at the end of the input); *got says how many. */
static inline const uint8_t *fuzz_bytes(struct fuzz_in *in, size_t want, size_t *got)
{
	const uint8_t *p = in->p;

	*got = want < in->n ? want : in->n;
	in->p += *got;
	in->n -= *got;
	return p;
}

/*
 * A malloc'd, NUL-terminated copy of n bytes, sized exactly, so AddressSanitizer
 * catches a parser that reads past the terminator. The caller frees it.
 */
static inline char *fuzz_cstr(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		abort();
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

#endif
