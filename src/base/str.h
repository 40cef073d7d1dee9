/*
 * Small string checks and conversions that libc gets wrong or unsafe:
 * number parsing with full error checking (instead of atoi), UTF-8
 * validation, ASCII case folding.
 */
#ifndef MR_BASE_STR_H
#define MR_BASE_STR_H

#include <stddef.h>
#include <stdint.h>

/* Parses all of s as a decimal int64 within [min, max]; MR_EINVAL otherwise. */
int mr_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Returns 0 when the n bytes at p are valid UTF-8 (no overlongs, no surrogates), else the 1-based offset of the first bad byte. */
size_t mr_utf8_check(const char *p, size_t n);
/* Number of code points in valid UTF-8. */
size_t mr_utf8_len(const char *p, size_t n);
/* Lower-cases ASCII letters of s in place. */
void mr_ascii_lower(char *s);
/* 1 when s is non-empty and every byte is in [A-Za-z0-9] or in extra. */
int mr_str_charset(const char *s, const char *extra);
/*
 * 1 when s is a slug of 1 to max bytes: a-z and 0-9, then also _ and -
 * (the names of saved segments, experiments and rules).
 */
int mr_str_slug_ok(const char *s, size_t max);

#endif
