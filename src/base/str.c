/*
 * See str.h. The UTF-8 check follows the Unicode "well-formed" table
 * (Table 3-7 of the standard): it is the gate every client string passes.
 */
#include "base/str.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

int mr_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end = NULL;
	long long v;

	if (!s || !((*s >= '0' && *s <= '9') || (*s == '-' && s[1] >= '0' && s[1] <= '9')))
		return MR_EINVAL; /* no leading space, tab or '+', which strtoll would skip */
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return MR_EINVAL;
	*out = (int64_t)v;
	return 0;
}

size_t mr_utf8_check(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t len;
		unsigned char lo = 0x80, hi = 0xbf;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			if (c == 0xe0)
				lo = 0xa0;
			if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			if (c == 0xf0)
				lo = 0x90;
			if (c == 0xf4)
				hi = 0x8f;
		} else {
			return i + 1;
		}
		if (i + len > n)
			return i + 1;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return i + 1;
		for (size_t k = 2; k < len; k++) {
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return i + 1;
		}
		i += len;
	}
	return 0;
}

size_t mr_utf8_len(const char *p, size_t n)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++) {
		if (((unsigned char)p[i] & 0xc0) != 0x80)
			count++;
	}
	return count;
}

void mr_ascii_lower(char *s)
{
	for (; *s; s++) {
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
	}
}

int mr_str_charset(const char *s, const char *extra)
{
	if (!*s)
		return 0;
	for (; *s; s++) {
		char c = *s;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 (c != '\0' && strchr(extra, c) != NULL);
		if (!ok)
			return 0;
	}
	return 1;
}

int mr_str_slug_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || (i > 0 && (ch == '_' || ch == '-'));

		if (!ok)
			return 0;
	}
	return 1;
}
