/*
 * The analytics API: KPIs over the in-memory projection
 * (GET /api/v1/analytics/kpis, analytics/kpi.h), for the window from..to,
 * grouped by up to two dimensions, within the caller's scope (a rep sees
 * their aligned doctors' numbers, a manager their team's). Every role may
 * read them; nothing personal is shown, so nothing is audited.
 *
 * `from` and `to` are RFC 3339 times or dates (a date is its day in
 * Asia/Shanghai; `to` as a date includes that day); the default is the 365
 * days up to now.
 */
#include <stdio.h>
#include <string.h>

#include "analytics/kpi.h"
#include "auth/role.h"
#include "base/time.h"
#include "engine/evindex.h"
#include "engine/hcpdir.h"
#include "engine/profile.h"
#include "http/api_md.h"
#include "http/http.h"

enum { MR_KPI_NAME_MAX = 32, MR_KPI_LOAD_WAIT_MS = 1000, MR_KPI_RETRY_S = 2 };
#define MR_KPI_DEFAULT_DAYS 365

/* Splits v at commas into names of at most MR_KPI_NAME_MAX bytes; calls fn on each. */
static int mr_api_kpi_list(const char *v, const char *param, int (*fn)(void *, const char *, struct mr_err *),
			   void *arg, struct mr_err *err)
{
	while (v && *v) {
		const char *comma = strchr(v, ',');
		size_t n = comma ? (size_t)(comma - v) : strlen(v);
		char name[MR_KPI_NAME_MAX + 1];
		int rc;

		if (n == 0 || n > MR_KPI_NAME_MAX)
			return mr_err_field(err, MR_EINVAL, param, "'%s' takes names separated by commas", param);
		snprintf(name, sizeof(name), "%.*s", (int)n, v);
		rc = fn(arg, name, err);
		if (rc < 0)
			return rc;
		v += n + (comma ? 1 : 0);
	}
	return 0;
}

static int mr_api_kpi_dim(void *arg, const char *name, struct mr_err *err)
{
	struct mr_kpi_query *q = arg;
	int d = mr_kpi_dim_parse(name);
	int time = d == MR_KD_MONTH || d == MR_KD_WEEK;

	if (d < 0)
		return mr_err_field(err, MR_EINVAL, "group_by", "unknown dimension '%s' in group_by: use"
				    " hco.city_tier, hco.level, region, hco.province, specialty, title, rep.type,"
				    " rep, month or week", name);
	if (q->ndims == MR_KPI_MAX_DIMS)
		return mr_err_field(err, MR_EINVAL, "group_by", "group_by takes at most %d dimensions",
				    MR_KPI_MAX_DIMS);
	for (int i = 0; i < q->ndims; i++) {
		int other = q->dims[i];

		if (other == d)
			return mr_err_field(err, MR_EINVAL, "group_by", "'%s' is named twice in group_by", name);
		if (time && (other == MR_KD_MONTH || other == MR_KD_WEEK))
			return mr_err_field(err, MR_EINVAL, "group_by", "group_by takes one of month and week");
		if ((d == MR_KD_REP || d == MR_KD_REP_TYPE) && (other == MR_KD_REP || other == MR_KD_REP_TYPE))
			return mr_err_field(err, MR_EINVAL, "group_by", "group_by takes one of rep and rep.type");
	}
	q->dims[q->ndims++] = d;
	return 0;
}

static int mr_api_kpi_channel(void *arg, const char *name, struct mr_err *err)
{
	struct mr_kpi_query *q = arg;
	int ch = mr_channel_parse(name);

	if (!ch)
		return mr_err_field(err, MR_EINVAL, "channels", "unknown channel '%s' in channels", name);
	q->channels |= 1u << ch;
	return 0;
}

/* from and to: given, or the 365 days up to now; to as a bare date includes that day. */
static int mr_api_kpi_window(struct mr_req *r, struct mr_kpi_query *q, struct mr_err *err)
{
	const char *from_text = NULL, *to_text = NULL;
	int rc = mr_req_query_time(r, "from", &q->from, err);

	if (rc == 0)
		rc = mr_req_query_time(r, "to", &q->to, err);
	if (rc == 0)
		rc = mr_req_query(r, "from", &from_text, err);
	if (rc == 0)
		rc = mr_req_query(r, "to", &to_text, err);
	if (rc < 0)
		return rc;
	if (!to_text)
		q->to = mr_now_us();
	else if (strlen(to_text) == 10) /* "2026-03-31": through the end of that day */
		q->to += 86400 * MR_US_PER_S;
	if (!from_text)
		q->from = q->to - MR_KPI_DEFAULT_DAYS * 86400 * MR_US_PER_S;
	if (q->from >= q->to)
		return mr_err_field(err, MR_EINVAL, "from", "'from' must be before 'to'");
	if (q->to - q->from > (int64_t)MR_KPI_MAX_WINDOW_DAYS * 86400 * MR_US_PER_S)
		return mr_err_field(err, MR_EINVAL, "from", "the window from 'from' to 'to' may span at most"
				    " ten years");
	return 0;
}

static int mr_api_kpi_query(struct mr_req *r, struct mr_kpi_query *q, struct mr_err *err)
{
	const char *v = NULL;
	int rc = mr_api_kpi_window(r, q, err);

	if (rc == 0)
		rc = mr_req_query(r, "group_by", &v, err);
	if (rc == 0)
		rc = mr_api_kpi_list(v, "group_by", mr_api_kpi_dim, q, err);
	if (rc == 0)
		rc = mr_req_query(r, "channels", &v, err);
	if (rc == 0)
		rc = mr_api_kpi_list(v, "channels", mr_api_kpi_channel, q, err);
	return rc;
}

/* 503 "loading" with Retry-After, until the projection is in. */
static int mr_api_kpi_loading(struct mr_err *err)
{
	mr_err_set(err, MR_EUNAVAIL, "the in-memory projection is still loading; try again in a few seconds");
	err->retry_after_s = MR_KPI_RETRY_S;
	return mr_err_kind(err, "loading");
}

/* The caller's scope, with the directory brought up to date (read-your-writes) and the events applied. */
static int mr_api_kpi_scope(struct mr_req *r, struct mr_scope *s, struct mr_err *err)
{
	struct mr_app *app = r->app;
	int64_t deadline = mr_mono_us() + MR_KPI_LOAD_WAIT_MS * 1000;
	struct mr_conn *c = NULL;
	int rc;

	if (!mr_hcpdir_wait_ready(app->hcpdir, deadline) || !mr_evindex_wait_ready(app->evindex, deadline) ||
	    !mr_profile_ready(app->profile))
		return mr_api_kpi_loading(err);
	rc = mr_evindex_drain(app->evindex, app->store, err);
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc < 0)
		return rc;
	rc = mr_api_scope(r, c, s, err);
	if (rc == 0)
		rc = mr_hcpdir_sync(app->hcpdir, c, err);
	mr_req_done_conn(r, c);
	return rc;
}

static int mr_api_kpis(struct mr_req *r, struct mr_err *err)
{
	struct mr_kpi_src src = { r->app->hcpdir, r->app->evindex, r->app->profile, r->app->kpistore };
	struct mr_kpi_query q;
	struct mr_kpi_result res;
	struct mr_scope s;
	char from[40], to[40];
	json_t *o, *body;
	int rc;

	memset(&q, 0, sizeof(q));
	memset(&res, 0, sizeof(res));
	rc = mr_api_kpi_query(r, &q, err);
	if (rc == 0)
		rc = mr_api_kpi_scope(r, &s, err);
	if (rc == 0)
		rc = mr_kpi_compute(&src, &q, &s, &res, err);
	if (rc == MR_EUNAVAIL)
		rc = mr_api_kpi_loading(err);
	if (rc < 0) {
		mr_kpi_result_release(&res);
		return rc;
	}
	mr_time_format(q.from, from, sizeof(from));
	mr_time_format(q.to, to, sizeof(to));
	o = json_pack("{s:s, s:s}", "from", from, "to", to);
	body = mr_kpi_result_json(&res);
	json_object_update(o, body);
	json_decref(body);
	json_object_set_new(o, "took_ms", json_real((double)res.took_us / 1000.0));
	mr_kpi_result_release(&res);
	return mr_reply_json(r, 200, o);
}

const struct mr_route mr_routes_analytics[] = {
	{ "GET", "/api/v1/analytics/kpis", mr_api_kpis, MR_ROLES_ALL, 0,
	  "KPIs over the window from..to (default the last 365 days): each channel's funnel and rates and"
	  " reach, in total and grouped by up to two of hco.city_tier, hco.level, region, hco.province,"
	  " specialty, title, rep.type, rep, month, week (group_by=a,b; channels=phone,...); within your"
	  " scope", "analytics", 0 },
	{ 0 },
};
