/*
 * A progress line for long commands (import, export, demo): on a terminal,
 * one line redrawn at most ten times a second with the share done, the
 * rate and the time left; elsewhere (a pipe, CI) nothing until the end.
 */
#ifndef MR_CLI_PROGRESS_H
#define MR_CLI_PROGRESS_H

#include <stdint.h>

struct mr_progress {
	const char *label;
	uint64_t total;     /* bytes (or units) to go through; 0 when unknown */
	int tty;
	int64_t t0_us;
	int64_t last_us;
};

/* Starts a progress line on stderr. */
void mr_progress_init(struct mr_progress *p, const char *label, uint64_t total);
/* Shows done of total, and rows processed so far. */
void mr_progress_update(struct mr_progress *p, uint64_t done, int64_t rows);
/* Ends the line. */
void mr_progress_done(struct mr_progress *p);

#endif
