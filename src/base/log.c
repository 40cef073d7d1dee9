/*
 * The line is built in a stack buffer and written with one write(2), so
 * lines from concurrent threads never interleave. When buffering is on
 * (mr_log_buffer_start), info lines are appended to a shared block under a
 * mutex instead, which a flusher thread writes out every 200 ms.
 */
#include "base/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/time.h"

static atomic_int mr_log_level = MR_LOG_INFO;

enum { MR_LOG_BLOCK = 64 * 1024, MR_LOG_FLUSH_MS = 200 };

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t flusher;
	int on;
	int stop;
	size_t len;
	char block[MR_LOG_BLOCK];
} mr_log_buf = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void mr_log_write(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(STDERR_FILENO, p, n);
		if (k <= 0)
			return; /* nowhere to report a failing log */
		p += k;
		n -= (size_t)k;
	}
}

/* Writes out the block; the caller holds the mutex. */
static void mr_log_flush_locked(void)
{
	mr_log_write(mr_log_buf.block, mr_log_buf.len);
	mr_log_buf.len = 0;
}

static void *mr_log_flusher(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mr_log_buf.mu);
	while (!mr_log_buf.stop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += MR_LOG_FLUSH_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&mr_log_buf.cv, &mr_log_buf.mu, &until);
		mr_log_flush_locked();
	}
	pthread_mutex_unlock(&mr_log_buf.mu);
	return NULL;
}

void mr_log_buffer_start(void)
{
	pthread_mutex_lock(&mr_log_buf.mu);
	if (!mr_log_buf.on) {
		mr_log_buf.stop = 0;
		mr_log_buf.on = pthread_create(&mr_log_buf.flusher, NULL, mr_log_flusher, NULL) == 0;
	}
	pthread_mutex_unlock(&mr_log_buf.mu);
}

void mr_log_buffer_stop(void)
{
	int on;

	pthread_mutex_lock(&mr_log_buf.mu);
	on = mr_log_buf.on;
	mr_log_buf.stop = 1;
	mr_log_buf.on = 0;
	pthread_cond_signal(&mr_log_buf.cv);
	pthread_mutex_unlock(&mr_log_buf.mu);
	if (on)
		pthread_join(mr_log_buf.flusher, NULL);
	pthread_mutex_lock(&mr_log_buf.mu);
	mr_log_flush_locked();
	pthread_mutex_unlock(&mr_log_buf.mu);
}

/* Emits one finished line: buffered when buffering is on and the line is not urgent. */
static void mr_log_emit(enum mr_log_level level, const char *line, size_t n)
{
	pthread_mutex_lock(&mr_log_buf.mu);
	if (!mr_log_buf.on && mr_log_buf.len == 0) {
		pthread_mutex_unlock(&mr_log_buf.mu);
		mr_log_write(line, n);
		return;
	}
	if (level >= MR_LOG_WARN || !mr_log_buf.on || mr_log_buf.len + n > sizeof(mr_log_buf.block)) {
		mr_log_flush_locked();
		if (level >= MR_LOG_WARN || !mr_log_buf.on) {
			mr_log_write(line, n);
			pthread_mutex_unlock(&mr_log_buf.mu);
			return;
		}
	}
	memcpy(mr_log_buf.block + mr_log_buf.len, line, n);
	mr_log_buf.len += n;
	pthread_mutex_unlock(&mr_log_buf.mu);
}

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
	mr_log_emit(level, line, n);
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
