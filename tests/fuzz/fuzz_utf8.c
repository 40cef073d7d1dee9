/*
 * Fuzzes the string gates of src/base/str.c that every client string passes:
 *   - mr_utf8_check agrees with two independent validators (a decoder here
 *     that computes each code point and checks its range, and jansson's
 *     json_stringn) on whether the bytes are UTF-8 and, when not, on the
 *     offset of the first bad sequence; the bytes before it check clean;
 *   - mr_utf8_len counts the decoded code points and never exceeds n;
 *   - mr_json_string_safe always yields a JSON string of the same length
 *     that differs from the input only where the input was not UTF-8;
 *   - mr_parse_i64 never accepts what strtoll would reject, returns
 *     strtoll's value within [min, max], and accepts every canonical
 *     decimal ("-?[0-9]+") strtoll accepts in range.
 */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "base/str.h"
#include "fuzz.h"

/*
 * The reference validator: decodes each sequence to its code point and
 * refuses overlongs, surrogates and anything past U+10FFFF by value, unlike
 * mr_utf8_check, which follows the standard's table of byte ranges.
 * Returns 0 or the 1-based offset of the first bad sequence; *count gets
 * the code points read.
 */
static size_t fuzz_ref_utf8(const unsigned char *s, size_t n, size_t *count)
{
	size_t i = 0;

	*count = 0;
	while (i < n) {
		unsigned char c = s[i];
		uint32_t cp, min;
		size_t len;

		if (c < 0x80) {
			len = 1;
			cp = c;
			min = 0;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2;
			cp = c & 0x1fu;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3;
			cp = c & 0x0fu;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4;
			cp = c & 0x07u;
			min = 0x10000;
		} else {
			return i + 1;
		}
		if (len > n - i)
			return i + 1;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i + 1;
			cp = (cp << 6) | (s[i + k] & 0x3fu);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i + 1;
		i += len;
		(*count)++;
	}
	return 0;
}

static void fuzz_check_utf8(const char *p, size_t n)
{
	size_t count = 0;
	size_t ref = fuzz_ref_utf8((const unsigned char *)p, n, &count);
	size_t bad = mr_utf8_check(p, n);
	json_t *js = json_stringn(p, n);

	FUZZ_CHECK(bad == ref, "mr_utf8_check agrees with the decoding validator, offset included");
	FUZZ_CHECK((bad == 0) == (js != NULL), "mr_utf8_check agrees with jansson");
	FUZZ_CHECK(bad <= n, "the offset is inside the input");
	if (bad) {
		FUZZ_CHECK(mr_utf8_check(p, bad - 1) == 0, "everything before the bad byte is valid");
	} else {
		FUZZ_CHECK(mr_utf8_len(p, n) == count, "mr_utf8_len counts code points");
	}
	FUZZ_CHECK(mr_utf8_len(p, n) <= n, "never more code points than bytes");
	json_decref(js);
}

static void fuzz_check_string_safe(const char *s)
{
	size_t n = strlen(s);
	json_t *v = mr_json_string_safe(s);
	const char *out;

	FUZZ_CHECK(v != NULL && json_is_string(v), "mr_json_string_safe always gives a string");
	FUZZ_CHECK(json_string_length(v) == n, "of the same length");
	out = json_string_value(v);
	FUZZ_CHECK(mr_utf8_check(out, n) == 0, "that is valid UTF-8");
	if (mr_utf8_check(s, n) == 0) {
		FUZZ_CHECK(memcmp(out, s, n) == 0, "valid input is kept as it is");
	} else {
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK(out[i] == s[i] || out[i] == '?', "only bad bytes become '?'");
	}
	json_decref(v);
}

/* "-?[0-9]+" */
static int fuzz_is_canonical_decimal(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '\0')
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
	}
	return 1;
}

static void fuzz_check_i64(const char *s, int64_t min, int64_t max)
{
	int64_t got = 0x5a5a5a5a;
	int rc = mr_parse_i64(s, min, max, &got);
	char *end = NULL;
	long long ref;
	int ref_ok;

	errno = 0;
	ref = strtoll(s, &end, 10);
	ref_ok = errno == 0 && end != s && *end == '\0';

	FUZZ_CHECK(rc == 0 || rc == MR_EINVAL, "the result is 0 or MR_EINVAL");
	if (rc == 0) {
		FUZZ_CHECK(ref_ok, "mr_parse_i64 accepts nothing strtoll rejects");
		FUZZ_CHECK(got == ref, "and returns strtoll's value");
		FUZZ_CHECK(got >= min && got <= max, "within [min, max]");
		FUZZ_CHECK(fuzz_is_canonical_decimal(s),
			   "mr_parse_i64 accepts only -?[0-9]+");
	} else {
		FUZZ_CHECK(got == 0x5a5a5a5a, "a refusal leaves *out untouched");
		FUZZ_CHECK(!(ref_ok && ref >= min && ref <= max && fuzz_is_canonical_decimal(s)),
			   "mr_parse_i64 accepts every in-range decimal");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	fuzz_check_utf8((const char *)data, size);

	s = fuzz_cstr(data, size);
	fuzz_check_string_safe(s);
	if (size <= 64) {
		fuzz_check_i64(s, INT64_MIN, INT64_MAX);
		fuzz_check_i64(s, 1, INT64_MAX);
		fuzz_check_i64(s, -1000, 1000);
	}
	free(s);
	return 0;
}
