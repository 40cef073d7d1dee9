/*
 * The line is built in a stack buffer and written with one write(2), so
 * lines from concurrent threads never interleave and no lock is needed.
 */
#include "base/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/time.h"

static atomic_int mr_log_level = MR_LOG_INFO;

static const char *const mr_log_names[] = { "debug", "info", "warn", "error", "off" };

void mr_log_set_level(enum mr_log_level level)
{
	atomic_store(&mr_log_level, (int)level);
}

int mr_log_parse_level(const char *s)
{
	for (int i = 0; i <= MR_LOG_OFF; i++) {
		if (strcmp(s, mr_log_names[i]) == 0)
			return i;
	}
	return -1;
}

int mr_log_enabled(enum mr_log_level level)
{
	return (int)level >= atomic_load(&mr_log_level) && level != MR_LOG_OFF;
}

void mr_log(enum mr_log_level level, const char *fmt, ...)
{
	char line[2048];
	char ts[40];
	size_t n;
	int k;
	va_list ap;

	if (!mr_log_enabled(level))
		return;
	mr_time_format(mr_now_us(), ts, sizeof(ts));
	k = snprintf(line, sizeof(line), "ts=%s level=%s ", ts, mr_log_names[level]);
	n = k > 0 ? (size_t)k : 0;
	va_start(ap, fmt);
	k = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (k > 0)
		n += (size_t)k < sizeof(line) - n - 1 ? (size_t)k : sizeof(line) - n - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

void mr_log_quote(char *out, size_t n, const char *s)
{
	size_t o = 0;
	int bare = *s != '\0';

	for (const char *p = s; *p && bare; p++) {
		if (*p == ' ' || *p == '"' || *p == '=' || *p == '\\' || (unsigned char)*p < 0x20)
			bare = 0;
	}
	if (bare) {
		snprintf(out, n, "%s", s);
		return;
	}
	if (n < 3) {
		if (n)
			out[0] = '\0';
		return;
	}
	out[o++] = '"';
	for (const char *p = s; *p && o + 3 < n; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20) {
			out[o++] = '?';
		} else {
			out[o++] = (char)c;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
}
