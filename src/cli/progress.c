/*
 * The progress line (see progress.h). Redraws are throttled, so a command
 * can call mr_progress_update after every batch without slowing down.
 */
#include <stdio.h>
#include <unistd.h>

#include "base/time.h"
#include "cli/progress.h"

void mr_progress_init(struct mr_progress *p, const char *label, uint64_t total)
{
	p->label = label;
	p->total = total;
	p->tty = isatty(2);
	p->t0_us = mr_mono_us();
	p->last_us = 0;
}

void mr_progress_update(struct mr_progress *p, uint64_t done, int64_t rows)
{
	int64_t now = mr_mono_us();
	double secs = (double)(now - p->t0_us) / 1e6;
	double rate = secs > 0 ? (double)rows / secs : 0;

	if (!p->tty || now - p->last_us < 100000)
		return;
	p->last_us = now;
	if (p->total > 0 && done > 0) {
		double share = (double)done / (double)p->total;
		double left = share > 0 ? secs / share - secs : 0;
		int bars = (int)(share * 30);

		fprintf(stderr, "\r%s [%-30.*s] %5.1f%%  %lld rows  %.0f rows/s  %.0fs left ", p->label,
			bars, "##############################", share * 100, (long long)rows, rate, left);
	} else {
		fprintf(stderr, "\r%s %lld rows  %.0f rows/s ", p->label, (long long)rows, rate);
	}
	fflush(stderr);
}

void mr_progress_done(struct mr_progress *p)
{
	if (p->tty && p->last_us)
		fputc('\n', stderr);
}
