/*
 * Time as int64 microseconds since the Unix epoch, UTC, everywhere: stored,
 * compared and passed that way; turned into RFC 3339 text only at the edges.
 */
#ifndef MR_BASE_TIME_H
#define MR_BASE_TIME_H

#include <stddef.h>
#include <stdint.h>

#define MR_US_PER_S INT64_C(1000000)

/* Wall-clock now, in microseconds since the epoch. */
int64_t mr_now_us(void);
/* A monotonic clock in microseconds, for durations. */
int64_t mr_mono_us(void);
/* Writes us as "2026-11-23T08:00:00Z" (or with ".123456" when it has a fraction). */
void mr_time_format(int64_t us, char *out, size_t n);
/*
 * Parses RFC 3339 ("2024-03-05T09:12:00+08:00", "...Z", fractions allowed) or a
 * bare date "2024-03-05", read as midnight in default_offset_s east of UTC.
 * The instant must lie in years 0000..9999 UTC (a bare date in 0001..9998).
 * Returns 0, or MR_EINVAL for anything else (a time without a zone included).
 */
int mr_time_parse(const char *s, int default_offset_s, int64_t *us);

#endif
