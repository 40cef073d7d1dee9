/*
 * The event API: ingestion (POST /api/v1/events, NDJSON streamed through
 * event/ingest.h into the group-commit writer), the change feed
 * (GET /api/v1/events/feed, a resumable long poll over the log in seq
 * order) and an HCP's timeline (GET /api/v1/hcps/{id}/timeline, from the
 * event index, live with after_seq and wait).
 *
 * An ingest answers only after every batch of its body is committed; the
 * events are on the timeline and in the feed before the answer leaves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit/audit.h"
#include "auth/role.h"
#include "auth/user.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "engine/evindex.h"
#include "engine/hcpdir.h"
#include "event/ingest.h"
#include "event/log.h"
#include "http/api_md.h"
#include "http/http.h"
#include "md/scope.h"
#include "store/writer.h"

enum {
	MR_EVENTS_MAX_BODY = 256 << 20,    /* raw bytes of one POST */
	MR_EVENTS_WAIT_MAX_S = 30,         /* the longest a poll may wait */
	MR_FEED_MAX = 1000,
	MR_TIMELINE_MAX = 200,
	MR_CLUSTER_MAX = 64,
};
#define MR_EVENTS_MAX_INFLATED ((size_t)1 << 30)

/* ------------------------------------------------------------ ingestion */

struct mr_api_ingest {
	struct mr_app *app;
	struct mr_req *r;
	struct mr_ingest *in;
	int audited;                /* the request's audit record is in a batch already */
	struct mr_md_actor who;
	char login[MR_LOGIN_MAX + 1];
	char request_id[MR_REQ_ID_LEN + 1];
};

/* A batch on its way through the writer. */
struct mr_api_ingest_job {
	struct mr_api_ingest *ctx;
	struct mr_ingest_batch *b;
	int audit;                  /* this batch's transaction records the request in the audit trail */
};

static int mr_api_events_resolve(void *arg, struct mr_ingest_batch *b, struct mr_err *err)
{
	struct mr_api_ingest *x = arg;

	if (mr_store_kind(x->app->store) == MR_STORE_SQLITE) { /* the ids' hashing, off the writer */
		for (int i = 0; i < b->log.n; i++)
			mr_evindex_id_key(x->app->evindex, b->log.ev[i].id, b->log.ev[i].id_key);
	}
	mr_evlog_encode(x->app->evindex, b->log.ev, b->log.n); /* and the projection's codes */
	return mr_ingest_resolve(x->app->hcpdir, x->app->store, b, err);
}

static int mr_api_events_append(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_api_ingest_job *j = arg;
	struct mr_app *app = j->ctx->app;
	struct mr_evindex *ids = mr_store_kind(app->store) == MR_STORE_SQLITE ? app->evindex : NULL;

	int rc;

	j->ctx->who.now = mr_now_us();
	rc = mr_evlog_append(c, ids, &app->keys, &j->ctx->who, &j->b->log, err);
	if (rc == 0 && j->audit) /* the ingest is audited with its first batch, in its transaction */
		rc = mr_req_audit(j->ctx->r, c, "events.ingest", "events", NULL, 200, NULL, NULL, err);
	return rc;
}

/* After the commit (or its failure), on the writer thread: the index, then the ingest. */
static void mr_api_events_done(void *arg, int rc, const struct mr_err *err)
{
	struct mr_api_ingest_job *j = arg;
	struct mr_app *app = j->ctx->app;
	struct mr_ingest_batch *b = j->b;

	if (rc < 0) {
		mr_evlog_undo(mr_store_kind(app->store) == MR_STORE_SQLITE ? app->evindex : NULL, &b->log);
	} else if (b->log.stored > 0) {
		struct mr_evref *refs = mr_malloc((size_t)b->log.stored * sizeof(*refs));
		int n = mr_evlog_refs(app->evindex, &b->log, refs);

		mr_evindex_queue(app->evindex, refs, n); /* applied by the request before it answers */
		free(refs);
	}
	free(j);
	mr_ingest_batch_done(b, rc, err);
}

static int mr_api_events_submit(void *arg, struct mr_ingest_batch *b, struct mr_err *err)
{
	struct mr_api_ingest_job *j = mr_calloc(1, sizeof(*j));

	(void)err;
	j->ctx = arg;
	j->b = b;
	j->audit = !j->ctx->audited;
	j->ctx->audited = 1;
	mr_writer_post(j->ctx->app->writer, mr_api_events_append, j, mr_api_events_done, 0);
	return 0;
}

static void mr_api_ingest_free(void *p)
{
	struct mr_api_ingest *x = p;

	mr_ingest_free(x->in);
	free(x);
}

/* The body's kind, from its headers: NDJSON (or JSON, or text), plain or gzip. */
static int mr_api_events_kind(struct mr_req *r, int *gzip, struct mr_err *err)
{
	static const char *const types[] = { "application/x-ndjson", "application/ndjson",
					     "application/jsonl", "application/json", "text/plain", NULL };
	const char *type = mr_req_header(r, "Content-Type");
	const char *enc = mr_req_header(r, "Content-Encoding");
	int ok = !type;

	for (int i = 0; type && types[i] && !ok; i++)
		ok = strncasecmp(type, types[i], strlen(types[i])) == 0;
	if (!ok)
		return mr_err_set(err, MR_EMEDIA, "send events as NDJSON, one JSON object a line, with"
				  " 'Content-Type: application/x-ndjson'");
	*gzip = enc && strcasecmp(enc, "gzip") == 0;
	if (enc && !*gzip && strcasecmp(enc, "identity") != 0)
		return mr_err_set(err, MR_EMEDIA, "Content-Encoding '%.20s' is not accepted; use gzip or none",
				  enc);
	return 0;
}

/* The first chunk: checks the headers, waits (briefly) for the event index, starts the ingest. */
static int mr_api_events_start(struct mr_req *r, struct mr_api_ingest **out, struct mr_err *err)
{
	struct mr_api_ingest *x;
	struct mr_ingest_opts o = { .max_inflated = MR_EVENTS_MAX_INFLATED, .source = "api", .in_flight = 8,
				    .resolve = mr_api_events_resolve, .submit = mr_api_events_submit };
	int rc = mr_api_events_kind(r, &o.gzip, err);

	if (rc < 0)
		return rc;
	if (!mr_evindex_wait_ready(r->app->evindex, mr_mono_us() + 20 * MR_US_PER_S) ||
	    !mr_hcpdir_wait_ready(r->app->hcpdir, mr_mono_us() + 20 * MR_US_PER_S))
		return mr_err_set(err, MR_EUNAVAIL, "the server is still loading its indexes; try again shortly");
	x = mr_calloc(1, sizeof(*x));
	x->app = r->app;
	x->r = r;
	snprintf(x->login, sizeof(x->login), "%s", r->who.user.login);
	snprintf(x->request_id, sizeof(x->request_id), "%s", r->request_id);
	x->who.login = x->login;
	x->who.request_id = x->request_id;
	x->who.source = "events";
	o.arg = x;
	rc = mr_ingest_new(&x->in, &o, err);
	if (rc < 0) {
		free(x);
		return rc;
	}
	r->stream = x;
	r->stream_free = mr_api_ingest_free;
	*out = x;
	return 0;
}

static int mr_api_events_post(struct mr_req *r, struct mr_err *err)
{
	struct mr_api_ingest *x = r->stream;
	struct mr_ingest_report rep;
	json_t *o;
	int rc;

	if (r->chunk) {
		if (!x && (rc = mr_api_events_start(r, &x, err)) < 0)
			return rc;
		return mr_ingest_feed(x->in, r->chunk, r->chunk_len, err);
	}
	if (!x)
		return mr_err_set(err, MR_EINVAL, "the body holds no events: send one JSON event a line (NDJSON)");
	rc = mr_ingest_finish(x->in, &rep, err);
	if (rc == 0) /* this body's events onto the timeline and into the feed's wake-ups, before the answer */
		rc = mr_evindex_drain(r->app->evindex, r->app->store, err);
	if (rc < 0) {
		mr_ingest_report_release(&rep);
		return rc;
	}
	o = mr_ingest_report_json(&rep);
	mr_ingest_report_release(&rep);
	return mr_reply_json(r, 200, o);
}

/* ------------------------------------------------------------ polls */

/* The wait= parameter as a deadline kept across the request's parkings; 0: do not wait. */
static int mr_api_wait_deadline(struct mr_req *r, int64_t *deadline, struct mr_err *err)
{
	int64_t wait_s = 0;
	int rc = mr_req_query_int(r, "wait", 0, MR_EVENTS_WAIT_MAX_S, 0, &wait_s, err);

	if (rc < 0)
		return rc;
	if (r->wait_count == 0)
		r->wait_deadline_us = wait_s ? r->t0_us + wait_s * MR_US_PER_S : 0;
	*deadline = r->wait_deadline_us;
	return 0;
}

/* Parks r for events after after_seq when it may still wait; 1 when parked. */
static int mr_api_park(struct mr_req *r, int64_t after_seq, int64_t deadline, struct mr_err *err)
{
	int64_t last = mr_evindex_last(r->app->evindex);

	if (!deadline || mr_mono_us() >= deadline)
		return 0;
	/* not before events the caller has not been shown yet, or it would wake at once */
	if (last < after_seq)
		last = after_seq;
	return mr_req_wait(r, last, deadline, err) < 0 ? -1 : 1;
}

static int mr_api_events_feed(struct mr_req *r, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	struct mr_scope s;
	json_t *items = json_array(), *o;
	int64_t after = 0, limit = 100, deadline = 0, last = 0;
	int rc = mr_req_query_int(r, "after", 0, INT64_MAX, 0, &after, err);

	if (rc == 0)
		rc = mr_req_query_int(r, "limit", 1, MR_FEED_MAX, 100, &limit, err);
	if (rc == 0)
		rc = mr_api_wait_deadline(r, &deadline, err);
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		rc = mr_api_scope(r, c, &s, err);
		if (rc == 0)
			rc = mr_evlog_range(c, after, (int)limit, s.kind == MR_SCOPE_ALL ? NULL : &s, !s.masked,
					    items, &last, err);
		mr_req_done_conn(r, c);
	}
	if (rc == 0 && json_array_size(items) == 0) {
		rc = mr_api_park(r, after, deadline, err);
		if (rc == 1) {
			json_decref(items);
			return 0;
		}
	}
	if (rc == 0)
		rc = mr_req_audit_read(r, "events.feed", "events", NULL, err);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	/* head_seq: the newest seq now, so a reader can start from the tail (after = head_seq - N) */
	o = json_pack("{s:o, s:I, s:I}", "items", items, "last_seq", (json_int_t)last, "head_seq",
		      (json_int_t)mr_evindex_last(r->app->evindex));
	return mr_reply_json(r, 200, o);
}

/* ------------------------------------------------------------ timeline */

/* channel=phone,wechat → a bit per channel; 0 for none given. */
static int mr_api_channels(struct mr_req *r, unsigned *mask, struct mr_err *err)
{
	const char *v = NULL;
	int rc = mr_req_query(r, "channel", &v, err);

	*mask = 0;
	while (rc == 0 && v && *v) {
		const char *comma = strchr(v, ',');
		size_t n = comma ? (size_t)(comma - v) : strlen(v);
		char name[32];
		int ch;

		snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n : sizeof(name) - 1), v);
		ch = mr_channel_parse(name);
		if (!ch)
			return mr_err_field(err, MR_EINVAL, "channel", "unknown channel '%s'", name);
		*mask |= 1u << ch;
		v += n + (comma ? 1 : 0);
	}
	return rc;
}

/* rep_type=field,inside → a bit per rep type; 0 for none given. */
static int mr_api_rep_types(struct mr_req *r, unsigned *mask, struct mr_err *err)
{
	const char *v = NULL;
	int rc = mr_req_query(r, "rep_type", &v, err);

	*mask = 0;
	while (rc == 0 && v && *v) {
		const char *comma = strchr(v, ',');
		size_t n = comma ? (size_t)(comma - v) : strlen(v);
		char name[32];
		int t;

		snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n : sizeof(name) - 1), v);
		t = mr_rep_type_parse(name);
		if (!t)
			return mr_err_field(err, MR_EINVAL, "rep_type", "unknown rep type '%s': use field,"
					    " inside, msl or kam", name);
		*mask |= 1u << t;
		v += n + (comma ? 1 : 0);
	}
	return rc;
}

/* The timeline's query parameters into q (reps: a malloc'd map the caller frees). */
static int mr_api_timeline_q(struct mr_req *r, struct mr_timeline_q *q, unsigned char **reps,
			     struct mr_err *err)
{
	unsigned types = 0;
	int64_t limit = 50;
	int rc = mr_api_channels(r, &q->channels, err);

	if (rc == 0)
		rc = mr_api_rep_types(r, &types, err);
	if (rc == 0)
		rc = mr_req_query_time(r, "from", &q->from, err);
	if (rc == 0)
		rc = mr_req_query_time(r, "to", &q->to, err);
	if (rc == 0 && q->from && q->to && q->to <= q->from)
		rc = mr_err_field(err, MR_EINVAL, "to", "'to' must be later than 'from'");
	if (rc == 0)
		rc = mr_req_query_int(r, "limit", 1, MR_TIMELINE_MAX, 50, &limit, err);
	if (rc == 0)
		rc = mr_req_query_int(r, "cursor", 1, INT64_MAX, 0, &q->before_seq, err);
	if (rc == 0)
		rc = mr_req_query_int(r, "after_seq", -1, INT64_MAX, -1, &q->after_seq, err);
	q->limit = (int)limit;
	if (rc == 0 && types && !mr_hcpdir_reps_of(r->app->hcpdir, types, reps, &q->nreps))
		rc = mr_err_set(err, MR_EUNAVAIL, "the server is still loading its indexes; try again shortly");
	q->reps = *reps;
	return rc;
}

static int mr_api_timeline(struct mr_req *r, struct mr_err *err)
{
	const char *ext = mr_req_param(r, "id");
	uint32_t cluster[MR_CLUSTER_MAX];
	struct mr_timeline_q q;
	struct mr_evref refs[MR_TIMELINE_MAX + 1];
	int64_t seqs[MR_TIMELINE_MAX + 1], id = 0, deadline = 0;
	unsigned char *reps = NULL;
	struct mr_conn *c = NULL;
	struct mr_scope s;
	json_t *items = json_array();
	int n = 0, live, rc;

	memset(&q, 0, sizeof(q));
	rc = mr_api_timeline_q(r, &q, &reps, err);
	live = q.after_seq >= 0; /* after_seq given: a live poll, even from 0 (an empty log) */
	if (q.after_seq < 0)
		q.after_seq = 0;
	if (rc == 0)
		rc = mr_api_wait_deadline(r, &deadline, err);
	if (rc == 0 && !mr_evindex_wait_ready(r->app->evindex, mr_mono_us() + 5 * MR_US_PER_S))
		rc = mr_err_set(err, MR_EUNAVAIL, "the server is still loading its indexes; try again shortly");
	if (rc == 0)
		rc = mr_evindex_drain(r->app->evindex, r->app->store, err);
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc < 0) {
		free(reps);
		json_decref(items);
		return rc;
	}
	rc = mr_api_hcp_ref(r, c, ext, 0, &id, err);
	if (rc == 0)
		rc = mr_api_scope(r, c, &s, err);
	/* the records merged into this one as of now: a merge (or unmerge) just made shows at once */
	if (rc == 0 && mr_hcpdir_ready(r->app->hcpdir))
		rc = mr_hcpdir_sync(r->app->hcpdir, c, err);
	if (rc == 0) {
		q.hcps = cluster;
		q.nhcps = mr_hcpdir_cluster(r->app->hcpdir, id, cluster, MR_CLUSTER_MAX);
		if (q.nhcps == 0) { /* the directory does not know it yet */
			cluster[0] = (uint32_t)id;
			q.nhcps = 1;
		}
		n = mr_evindex_timeline(r->app->evindex, &q, refs);
		if (n < 0)
			rc = mr_err_field(err, MR_EINVAL, "cursor",
					  "the cursor is not one this timeline issued; start again without it");
	}
	for (int i = 0; i < n && i < q.limit; i++)
		seqs[i] = refs[i].seq;
	if (rc == 0)
		rc = mr_evlog_by_seqs(c, seqs, n < q.limit ? n : q.limit, !s.masked, items, err);
	mr_req_done_conn(r, c);
	free(reps);
	if (rc == 0 && n == 0 && live) {
		rc = mr_api_park(r, q.after_seq, deadline, err);
		if (rc == 1) {
			json_decref(items);
			return 0;
		}
	}
	if (rc == 0)
		rc = mr_req_audit_read(r, "hcp.timeline", "hcp", ext, err);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	return mr_reply_json(r, 200, json_pack("{s:o, s:o, s:I}", "items", items, "next_cursor",
					       n > q.limit ? json_sprintf("%lld", (long long)refs[q.limit - 1].seq) :
							    json_null(),
					       "last_seq", (json_int_t)mr_evindex_last(r->app->evindex)));
}

#define MR_R_INGEST (MR_ROLE_BIT(MR_ROLE_ADMIN) | MR_ROLE_BIT(MR_ROLE_MARKETING))

const struct mr_route mr_routes_events[] = {
	{ "POST", "/api/v1/events", mr_api_events_post, MR_R_INGEST, MR_ROUTE_STREAM | MR_ROUTE_OK200,
	  "Ingest events as NDJSON (gzip allowed): {accepted, duplicates, rejected:[{line, error}]}",
	  "events", MR_EVENTS_MAX_BODY },
	{ "GET", "/api/v1/events/feed", mr_api_events_feed, MR_ROLES_ALL, 0,
	  "The change feed: events after seq 'after' in order (limit; wait up to 30 s for new ones)",
	  "events", 0 },
	{ "GET", "/api/v1/hcps/{id}/timeline", mr_api_timeline, MR_ROLES_ALL, 0,
	  "An HCP's interactions on every channel, newest first (channel, rep_type, from, to, limit,"
	  " cursor; after_seq and wait for live updates)", "events", 0 },
	{ 0 },
};
