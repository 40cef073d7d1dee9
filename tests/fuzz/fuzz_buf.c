/*
 * Fuzzes struct mr_buf (src/base/buf.c), the one growable buffer, which
 * holds request bodies and everything rendered from client input. The input
 * picks a cap and then a sequence of operations (add, adds, addc, addf,
 * reset, detach, release) with their bytes; a plain model array tracks what
 * the buffer must hold. After every operation:
 *   - an append fails with MR_ETOOBIG exactly when it would pass the cap, and
 *     a failed append leaves p, len, cap and the content unchanged;
 *   - len never exceeds max, the content equals the model and is
 *     NUL-terminated, and cap leaves room for that NUL;
 *   - mr_buf_str and mr_buf_detach hand out exactly the content.
 */
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "fuzz.h"

enum { FUZZ_MODEL_MAX = 1 << 16 };

struct fuzz_model {
	char bytes[FUZZ_MODEL_MAX];
	size_t len;
};

static struct fuzz_model fuzz_model;

/* The cap, from one byte: tiny and small caps hit the limit; SIZE_MAX tests its arithmetic. */
static size_t fuzz_pick_max(struct fuzz_in *in)
{
	uint8_t b = fuzz_u8(in);

	if (b == 0xff)
		return SIZE_MAX;
	if (b >= 0xc0)
		return (size_t)(b - 0xc0) * 1024;
	return b;
}

static void fuzz_check_state(const struct mr_buf *b)
{
	FUZZ_CHECK(b->len <= b->max, "len never exceeds max");
	FUZZ_CHECK(b->len == fuzz_model.len, "len is what was appended");
	if (b->p) {
		FUZZ_CHECK(b->len < b->cap, "cap leaves room for the NUL");
		FUZZ_CHECK(b->p[b->len] == '\0', "the content is NUL-terminated");
		FUZZ_CHECK(memcmp(b->p, fuzz_model.bytes, b->len) == 0, "the content is what was appended");
		FUZZ_CHECK(mr_buf_str(b) == b->p, "mr_buf_str is the content");
	} else {
		FUZZ_CHECK(b->len == 0 && b->cap == 0, "no memory means no content");
		FUZZ_CHECK(strcmp(mr_buf_str(b), "") == 0, "mr_buf_str of nothing is \"\"");
	}
}

/* Checks the outcome of appending want bytes (the model's new bytes at model.len). */
static void fuzz_check_append(const struct mr_buf *b, const struct mr_buf *old, int rc, size_t want,
			      const char *added)
{
	int fits = want <= old->max && old->len <= old->max - want;

	if (!fits) {
		FUZZ_CHECK(rc == MR_ETOOBIG, "an append past the cap fails with MR_ETOOBIG");
		FUZZ_CHECK(b->p == old->p && b->len == old->len && b->cap == old->cap &&
				   b->max == old->max,
			   "a failed append leaves the buffer as it was");
		return;
	}
	FUZZ_CHECK(rc == 0, "an append within the cap succeeds");
	FUZZ_CHECK(fuzz_model.len + want <= FUZZ_MODEL_MAX, "the model is large enough");
	memcpy(fuzz_model.bytes + fuzz_model.len, added, want);
	fuzz_model.len += want;
}

/* One printf-style append with a fixed format and fuzzed arguments. */
static int fuzz_addf(struct mr_buf *b, struct fuzz_in *in, char *expect, size_t expect_n, int *n)
{
	uint8_t kind = fuzz_u8(in);
	size_t got;
	const uint8_t *raw = fuzz_bytes(in, fuzz_u8(in), &got);
	char *arg = fuzz_cstr(raw, got);
	int num = (int)((uint32_t)fuzz_u8(in) << 24 | (uint32_t)fuzz_u8(in) << 8 | fuzz_u8(in));
	int rc;

	switch (kind % 4) {
	case 0:
		*n = snprintf(expect, expect_n, "%s", arg);
		rc = mr_buf_addf(b, "%s", arg);
		break;
	case 1:
		*n = snprintf(expect, expect_n, "%d:%s;", num, arg);
		rc = mr_buf_addf(b, "%d:%s;", num, arg);
		break;
	case 2:
		*n = snprintf(expect, expect_n, "%.*s", num & 0x3f, arg);
		rc = mr_buf_addf(b, "%.*s", num & 0x3f, arg);
		break;
	default:
		/* %c of a NUL appends one byte that is '\0': len counts it. */
		*n = snprintf(expect, expect_n, "%c%c", arg[0], (char)num);
		rc = mr_buf_addf(b, "%c%c", arg[0], (char)num);
		break;
	}
	free(arg);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct mr_buf b;
	size_t max = fuzz_pick_max(&in);
	static char expect[1024];

	if (size > 16384)
		return 0; /* keeps the model (about 2.2 bytes per input byte) inside its array */
	mr_buf_init(&b, max);
	fuzz_model.len = 0;
	fuzz_check_state(&b);
	while (in.n > 0) {
		struct mr_buf old = b;
		uint8_t op = fuzz_u8(&in);
		const uint8_t *raw;
		size_t got;
		int n = 0;
		int rc;

		switch (op % 8) {
		case 0:
		case 1:
			raw = fuzz_bytes(&in, fuzz_u8(&in), &got);
			rc = mr_buf_add(&b, raw, got);
			fuzz_check_append(&b, &old, rc, got, (const char *)raw);
			break;
		case 2: {
			char *s;
			raw = fuzz_bytes(&in, fuzz_u8(&in), &got);
			s = fuzz_cstr(raw, got);
			rc = mr_buf_adds(&b, s);
			fuzz_check_append(&b, &old, rc, strlen(s), s);
			free(s);
			break;
		}
		case 3: {
			char c = (char)fuzz_u8(&in);
			rc = mr_buf_addc(&b, c);
			fuzz_check_append(&b, &old, rc, 1, &c);
			break;
		}
		case 4:
			rc = fuzz_addf(&b, &in, expect, sizeof(expect), &n);
			FUZZ_CHECK(n >= 0 && (size_t)n < sizeof(expect), "the expectation fits");
			fuzz_check_append(&b, &old, rc, (size_t)n, expect);
			break;
		case 5:
			mr_buf_reset(&b);
			FUZZ_CHECK(b.p == old.p && b.cap == old.cap, "reset keeps the memory");
			fuzz_model.len = 0;
			break;
		case 6: {
			size_t len = 12345;
			char *p = mr_buf_detach(&b, &len);
			FUZZ_CHECK(p != NULL && len == fuzz_model.len, "detach hands out the length");
			FUZZ_CHECK(memcmp(p, fuzz_model.bytes, len) == 0 && p[len] == '\0',
				   "and the NUL-terminated content");
			free(p);
			FUZZ_CHECK(b.p == NULL && b.len == 0 && b.cap == 0, "and leaves the buffer empty");
			fuzz_model.len = 0;
			break;
		}
		default:
			mr_buf_release(&b);
			FUZZ_CHECK(b.max == max, "release keeps the cap for reuse");
			fuzz_model.len = 0;
			break;
		}
		fuzz_check_state(&b);
	}
	mr_buf_release(&b);
	return 0;
}
