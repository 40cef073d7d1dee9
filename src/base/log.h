/*
 * Logging as one key=value line per event on stderr, so lines can be grepped
 * and shipped as they are: `ts=... level=info event=listen addr=...`.
 * Values that may hold spaces or quotes go through mr_log_quote. Secrets
 * (passwords, tokens, PII) are never passed here.
 */
#ifndef MR_BASE_LOG_H
#define MR_BASE_LOG_H

#include <stddef.h>

enum mr_log_level { MR_LOG_DEBUG, MR_LOG_INFO, MR_LOG_WARN, MR_LOG_ERROR, MR_LOG_OFF };

/* Sets the lowest level written (default MR_LOG_INFO). */
void mr_log_set_level(enum mr_log_level level);
/* Parses "debug", "info", "warn", "error" or "off"; -1 when unknown. */
int mr_log_parse_level(const char *s);
/* 1 when level would be written. */
int mr_log_enabled(enum mr_log_level level);
/* Writes `ts=... level=... ` followed by the formatted key=value pairs and a newline. */
void mr_log(enum mr_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Buffers debug and info lines (the access log) in memory and writes them
 * in blocks: when 64 KiB have gathered, every 200 ms, and at
 * mr_log_buffer_stop. Warnings and errors flush the buffer and go out at
 * once, so order is kept and nothing important waits. For `serve`: one
 * write(2) per request line was an eighth of the server's CPU.
 */
void mr_log_buffer_start(void);
/* Flushes and stops buffering (call before exit). */
void mr_log_buffer_stop(void);
/* Writes s into out (size n) as a log value: bare when safe, else quoted with escapes. */
void mr_log_quote(char *out, size_t n, const char *s);

#define mr_log_info(...) mr_log(MR_LOG_INFO, __VA_ARGS__)
#define mr_log_warn(...) mr_log(MR_LOG_WARN, __VA_ARGS__)
#define mr_log_error(...) mr_log(MR_LOG_ERROR, __VA_ARGS__)
#define mr_log_debug(...) mr_log(MR_LOG_DEBUG, __VA_ARGS__)

#endif
