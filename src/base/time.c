/*
 * Formatting and parsing of RFC 3339 times. Parsing is strict on purpose:
 * a time without a zone is ambiguous for users in Asia/Shanghai and is refused.
 */
#include "base/time.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/err.h"

#define MR_TIME_MIN_S INT64_C(-62167219200) /* 0000-01-01T00:00:00Z */
#define MR_TIME_MAX_S INT64_C(253402300800) /* 10000-01-01T00:00:00Z */

int64_t mr_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * MR_US_PER_S + ts.tv_nsec / 1000;
}

int64_t mr_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * MR_US_PER_S + ts.tv_nsec / 1000;
}

/* The civil date of day z since 1970-01-01 (H. Hinnant's days-to-civil, proleptic Gregorian). */
static void mr_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era;
	int64_t doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* Writes v as exactly w digits at p. */
static void mr_put_digits(char *p, int64_t v, int w)
{
	for (int i = w - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

void mr_time_format(int64_t us, char *out, size_t n)
{
	char buf[32];
	int64_t secs = us / MR_US_PER_S;
	int64_t frac = us % MR_US_PER_S;
	int64_t days, sod, y;
	int m, d;
	size_t len = 20;

	if (frac < 0) {
		frac += MR_US_PER_S;
		secs -= 1;
	}
	days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
	sod = secs - days * 86400;
	mr_civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) {
		/* outside what RFC 3339 can say; never produced from parsed input */
		snprintf(out, n, "%lld-%02d-%02dT00:00:00Z", (long long)y, m, d);
		return;
	}
	/* hot in every JSON answer: digits by hand rather than through printf */
	memcpy(buf, "0000-00-00T00:00:00", 20);
	mr_put_digits(buf, y, 4);
	mr_put_digits(buf + 5, m, 2);
	mr_put_digits(buf + 8, d, 2);
	mr_put_digits(buf + 11, sod / 3600, 2);
	mr_put_digits(buf + 14, sod / 60 % 60, 2);
	mr_put_digits(buf + 17, sod % 60, 2);
	if (frac) {
		buf[19] = '.';
		mr_put_digits(buf + 20, frac, 6);
		len = 27;
	}
	buf[len - 1] = 'Z';
	if (n == 0)
		return;
	if (len > n - 1)
		len = n - 1;
	memcpy(out, buf, len);
	out[len] = '\0';
}

/* Reads exactly w decimal digits from *p, advancing it; -1 if they are not there. */
static int mr_digits(const char **p, int w)
{
	int v = 0;

	for (int i = 0; i < w; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += w;
	return v;
}

static int mr_days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* Parses "+08:00", "-0530" or "Z" at *p into seconds east of UTC. */
static int mr_parse_zone(const char *p, int *offset_s)
{
	int sign, hh, mm;

	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		*offset_s = 0;
		return 0;
	}
	if (*p != '+' && *p != '-')
		return MR_EINVAL;
	sign = *p == '-' ? -1 : 1;
	p++;
	hh = mr_digits(&p, 2);
	if (*p == ':')
		p++;
	mm = mr_digits(&p, 2);
	if (hh < 0 || mm < 0 || hh > 23 || mm > 59 || *p != '\0')
		return MR_EINVAL;
	*offset_s = sign * (hh * 3600 + mm * 60);
	return 0;
}

/*
 * Days from 1970-01-01 to the proleptic Gregorian date y-m-d (the standard
 * civil-to-days count over 400-year eras). timegm gives the same, but through
 * glibc's mktime normalisation, which was a tenth of parsing an event.
 */
static int64_t mr_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int mr_time_parse(const char *s, int default_offset_s, int64_t *us)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, offset = default_offset_s;
	int64_t frac = 0;
	int64_t secs;

	y = mr_digits(&p, 4);
	if (y < 0 || *p++ != '-')
		return MR_EINVAL;
	mo = mr_digits(&p, 2);
	if (mo < 1 || mo > 12 || *p++ != '-')
		return MR_EINVAL;
	d = mr_digits(&p, 2);
	if (d < 1 || d > mr_days_in_month(y, mo))
		return MR_EINVAL;
	if (*p == '\0' && (y < 1 || y > 9998))
		return MR_EINVAL; /* a bare date must stay in 0000..9999 whatever the default zone */
	if (*p != '\0') {
		if (*p != 'T' && *p != 't' && *p != ' ')
			return MR_EINVAL;
		p++;
		h = mr_digits(&p, 2);
		if (h < 0 || h > 23 || *p++ != ':')
			return MR_EINVAL;
		mi = mr_digits(&p, 2);
		if (mi < 0 || mi > 59 || *p++ != ':')
			return MR_EINVAL;
		sec = mr_digits(&p, 2);
		if (sec < 0 || sec > 60)
			return MR_EINVAL;
		if (*p == '.') {
			int64_t scale = 100000;
			p++;
			if (*p < '0' || *p > '9')
				return MR_EINVAL;
			for (; *p >= '0' && *p <= '9'; p++) {
				frac += (*p - '0') * scale;
				scale /= 10;
			}
		}
		if (mr_parse_zone(p, &offset) < 0)
			return MR_EINVAL;
	}
	secs = mr_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
	/* an instant outside 0000..9999 UTC could not be written back as RFC 3339 */
	if (secs < MR_TIME_MIN_S || secs >= MR_TIME_MAX_S)
		return MR_EINVAL;
	*us = secs * MR_US_PER_S + frac;
	return 0;
}
