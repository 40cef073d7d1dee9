/*
 * The demo's content library (see content.h): mr_hist_catalogue's items as
 * content rows. The expiries spread the items over the second year from
 * today, so the library has items due for review at different times, and
 * depend on the day of now only, so a second `medreach demo` the same day
 * changes nothing.
 */
#include "demo/content.h"

#include <stdio.h>
#include <string.h>

#include "base/time.h"
#include "demo/history.h"

static const char *const mr_dc_cols[] = { "id", "title", "topic", "product", "status", "expires_at" };
enum { MR_DC_NCOLS = 6, MR_DC_ZONE_S = 8 * 3600 };

/* The expiry of item i as a date in Asia/Shanghai: 365 to 730 days after now's day. */
static void mr_dc_expiry(int64_t now_us, size_t i, char *out, size_t n)
{
	int64_t day = (now_us / MR_US_PER_S + MR_DC_ZONE_S) / 86400;
	char t[40];

	day += 365 + (int64_t)((i * 53) % 366);
	mr_time_format(day * 86400 * MR_US_PER_S, t, sizeof(t));
	snprintf(out, n, "%.10s", t);
}

int mr_demo_content(uint64_t seed, int64_t now_us, const struct mr_demo_sink *sink, int64_t *rows,
		    struct mr_err *err)
{
	struct mr_hist_content cat[MR_HIST_CONTENT_MAX];
	size_t n = mr_hist_catalogue(seed, cat, MR_HIST_CONTENT_MAX);
	int64_t sent = 0;
	int rc = sink->begin(sink->arg, "content", MR_DC_NCOLS, mr_dc_cols, err);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		char expires[16];
		const char *vals[MR_DC_NCOLS] = { cat[i].id, cat[i].title, cat[i].topic, cat[i].product,
						  "approved", expires };

		mr_dc_expiry(now_us, i, expires, sizeof(expires));
		rc = sink->row(sink->arg, vals, err);
		sent += rc == 0;
	}
	if (rc == 0)
		rc = sink->end(sink->arg, "content", err);
	if (rows)
		*rows = sent;
	if (rc < 0 && err->code == 0)
		mr_err_set(err, rc, "the demo content's receiver failed");
	return rc;
}
