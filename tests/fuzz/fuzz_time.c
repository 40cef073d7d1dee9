/*
 * Fuzzes mr_time_parse (src/base/time.c), the reader of every time a client
 * sends (query filters, JSON fields). Invariants for an accepted string:
 *   - it has the RFC 3339 shape the contract promises (a date first);
 *   - mr_time_format of the result parses back to the same instant, under
 *     any default offset, so what the server echoes is what it read;
 *   - the default offset matters only for a bare date, and there it shifts
 *     the result by exactly the offset;
 * and a refused string leaves *us untouched.
 */
#include <stdint.h>
#include <string.h>

#include "base/err.h"
#include "base/time.h"
#include "fuzz.h"

enum { FUZZ_SHANGHAI_S = 8 * 3600, FUZZ_NEWFOUNDLAND_S = -(3 * 3600 + 30 * 60) };

static int fuzz_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void fuzz_time_check_accepted(const char *s, int64_t us_sh, int64_t us_nf)
{
	char out[64];
	int64_t back = INT64_MIN;
	size_t len = strlen(s);
	int bare_date = len == 10;

	FUZZ_CHECK(len >= 10 && fuzz_is_digit(s[0]) && fuzz_is_digit(s[3]) && s[4] == '-' &&
			   s[7] == '-',
		   "an accepted time starts with a YYYY-MM-DD date");
	if (bare_date)
		FUZZ_CHECK(us_nf - us_sh == (int64_t)(FUZZ_SHANGHAI_S - FUZZ_NEWFOUNDLAND_S) * MR_US_PER_S,
			   "a bare date is midnight at the default offset");
	else
		FUZZ_CHECK(us_sh == us_nf, "a time with a zone does not depend on the default offset");

	mr_time_format(us_sh, out, sizeof(out));
	FUZZ_CHECK(mr_time_parse(out, FUZZ_NEWFOUNDLAND_S, &back) == 0,
		   "mr_time_format's output is accepted by mr_time_parse");
	FUZZ_CHECK(back == us_sh, "format then parse gives back the same instant");
	FUZZ_CHECK(strlen(out) == 20 || strlen(out) == 27, "the format is the fixed-width RFC 3339 form");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	int64_t us_sh = INT64_MIN;
	int64_t us_nf = INT64_MIN;
	int rc_sh, rc_nf;

	if (size > 256)
		return 0; /* a time is short; long inputs only slow the search */
	s = fuzz_cstr(data, size);
	rc_sh = mr_time_parse(s, FUZZ_SHANGHAI_S, &us_sh);
	rc_nf = mr_time_parse(s, FUZZ_NEWFOUNDLAND_S, &us_nf);
	FUZZ_CHECK(rc_sh == rc_nf, "the default offset does not decide what is valid");
	FUZZ_CHECK(rc_sh == 0 || rc_sh == MR_EINVAL, "the result is 0 or MR_EINVAL");
	if (rc_sh == 0)
		fuzz_time_check_accepted(s, us_sh, us_nf);
	else
		FUZZ_CHECK(us_sh == INT64_MIN && us_nf == INT64_MIN, "a refusal leaves *us untouched");
	free(s);
	return 0;
}
