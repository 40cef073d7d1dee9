/*
 * The channels' API: an admin's settings for each channel
 * (GET/PUT /api/v1/channels/{name}), the two callbacks the platforms call
 * (WeCom and Tencent Meeting: a GET that verifies the URL, a POST per
 * event) and the call centre's CDR import. The protocol work is in
 * channels/wecom.c, meeting.c and cdr.c; the store's side in
 * channels/settings.c; this file reads requests and answers them.
 *
 * The callbacks are public: the platforms cannot log in, they prove
 * themselves by signing each request with the channel's token. So before
 * anything is verified a callback passes a rate cap per channel (a token
 * bucket) and the back-off per client address that logins use
 * (auth/throttle.h), fed by every failed signature; bodies are capped at
 * 1 MiB. A callback's events go to the log through the group-commit writer
 * with their audit record in the same transaction, the acting login being
 * the channel ("wecom", "tencent_meeting", role "channel"); a failed
 * signature is audited too, like a failed login. A redelivered callback
 * maps to the same event ids, so the log counts it once and the answer is
 * the same success.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/role.h"
#include "auth/throttle.h"
#include "base/csv.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/time.h"
#include "channels/settings.h"
#include "engine/evindex.h"
#include "engine/hcpdir.h"
#include "event/log.h"
#include "http/api_md.h"
#include "http/http.h"

enum {
	MR_CB_BODY_MAX = 1 << 20,      /* bytes of a callback */
	MR_CB_RATE = 500,              /* callbacks a second per channel, sustained */
	MR_CB_BURST = 1000,            /* and in a burst */
	MR_CB_FREE_FAILS = 20,         /* failed signatures per address before the back-off */
	MR_CB_MEETING_ROWS = 200,      /* participant entries in one Tencent delivery */
	MR_CB_READY_S = 20,            /* how long a request waits for the indexes' first load */
};
#define MR_CDR_IMPORT_MAX ((size_t)64 << 20)

static const char mr_cb_wecom_ok[] = "success";
static const char mr_cb_meeting_ok[] = "successfully received callback";

/* ------------------------------------------------------------ caps on public callbacks */

/* A token bucket per channel: the callbacks' cost to the server is bounded whoever sends them. */
struct mr_cb_bucket {
	pthread_mutex_t mu;
	double tokens;
	int64_t at_us;
};

static struct mr_cb_bucket mr_cb_buckets[MR_CHAN_COUNT] = {
	{ PTHREAD_MUTEX_INITIALIZER, 0, 0 },
	{ PTHREAD_MUTEX_INITIALIZER, 0, 0 },
	{ PTHREAD_MUTEX_INITIALIZER, 0, 0 },
};

static int mr_cb_rate(int ch, struct mr_err *err)
{
	struct mr_cb_bucket *b = &mr_cb_buckets[ch];
	int64_t now = mr_mono_us();
	int ok;

	pthread_mutex_lock(&b->mu);
	b->tokens += (double)(now - b->at_us) * MR_CB_RATE / (double)MR_US_PER_S;
	if (b->tokens > MR_CB_BURST)
		b->tokens = MR_CB_BURST;
	b->at_us = now;
	ok = b->tokens >= 1;
	if (ok)
		b->tokens -= 1;
	pthread_mutex_unlock(&b->mu);
	if (ok)
		return 0;
	mr_err_set(err, MR_ELIMIT, "more than %d %s callbacks a second; try again shortly", MR_CB_RATE,
		   mr_chan_name(ch));
	err->retry_after_s = 1;
	return MR_ELIMIT;
}

static void mr_cb_throttle_key(struct mr_req *r, char key[96])
{
	snprintf(key, 96, "cb:%s", r->ip);
}

/* MR_ELIMIT while the client's address is backing off after failed signatures. */
static int mr_cb_allowed(struct mr_req *r, struct mr_err *err)
{
	char key[96];
	int64_t retry = 0;

	mr_cb_throttle_key(r, key);
	if (mr_throttle_check(r->app->throttle, key, mr_now_us(), &retry) == 0)
		return 0;
	mr_err_set(err, MR_ELIMIT, "too many callbacks with a bad signature from this address; try again"
		   " in %lld s", (long long)retry);
	err->retry_after_s = retry;
	return MR_ELIMIT;
}

/* ------------------------------------------------------------ writing events */

/* A write of a channel's events (or of only an audit record), with its audit record. */
struct mr_cb_job {
	struct mr_req *r;
	int channel;
	struct mr_evlog_batch *b;   /* NULL: only the audit record */
	int joins;                  /* Tencent Meeting: record the joins and leaves stored */
	int audit;                  /* write the audit record in this transaction */
	int by_channel;             /* acting and audited as the channel, not the user */
	const char *action, *entity, *entity_id;
	int status;
};

static int mr_cb_audit(struct mr_conn *c, struct mr_cb_job *j, struct mr_err *err)
{
	struct mr_audit_rec rec;

	if (!j->by_channel)
		return mr_req_audit(j->r, c, j->action, j->entity, j->entity_id, j->status, NULL, NULL, err);
	memset(&rec, 0, sizeof(rec));
	rec.login = mr_chan_name(j->channel);
	rec.role = "channel";
	rec.action = j->action;
	rec.entity = j->entity;
	rec.entity_id = j->entity_id;
	rec.request_id = j->r->request_id;
	rec.ip = j->r->ip;
	rec.status = j->status;
	return mr_audit_append(c, &j->r->app->keys, &rec, NULL, err);
}

static int mr_cb_write_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_cb_job *j = arg;
	struct mr_app *app = j->r->app;
	struct mr_evindex *ids = mr_store_kind(app->store) == MR_STORE_SQLITE ? app->evindex : NULL;
	struct mr_md_actor who;
	int rc = 0;

	mr_api_actor(j->r, &who);
	who.source = mr_chan_name(j->channel);
	if (j->by_channel)
		who.login = mr_chan_name(j->channel);
	if (j->b)
		rc = mr_evlog_append(c, ids, &app->keys, &who, j->b, err);
	if (rc == 0 && j->b && j->joins)
		rc = mr_chan_joins_apply(c, &app->keys, j->b, who.now, err);
	if (rc == 0 && j->audit)
		rc = mr_cb_audit(c, j, err);
	return rc;
}

/* Runs j through the writer; after the commit its events go on the timeline, after a failure the ids are given back. */
static int mr_cb_commit(struct mr_cb_job *j, struct mr_err *err)
{
	struct mr_app *app = j->r->app;
	struct mr_evindex *ids = mr_store_kind(app->store) == MR_STORE_SQLITE ? app->evindex : NULL;
	struct mr_evref *refs;
	struct mr_err ignored;
	int rc = mr_req_write(j->r, mr_cb_write_fn, j, err);
	int n;

	if (rc < 0) {
		if (j->b)
			mr_evlog_undo(ids, j->b);
		return rc;
	}
	if (!j->b || j->b->stored == 0)
		return 0;
	refs = mr_malloc((size_t)j->b->stored * sizeof(*refs));
	n = mr_evlog_refs(app->evindex, j->b, refs);
	mr_err_clear(&ignored); /* committed: a lagging index catches up from the store later */
	mr_evindex_apply(app->evindex, refs, n, app->store, &ignored);
	free(refs);
	return 0;
}

/* Appends a callback's n events (checked) as the channel. */
static int mr_cb_store(struct mr_req *r, int ch, struct mr_event *ev, int n, struct mr_err *err)
{
	struct mr_evlog_batch b;
	unsigned char *fate = mr_arena_alloc(&r->arena, (size_t)n);
	int64_t *seq = mr_arena_alloc(&r->arena, (size_t)n * sizeof(*seq));
	struct mr_err *why = mr_arena_alloc(&r->arena, (size_t)n * sizeof(*why));
	struct mr_cb_job j = { .r = r, .channel = ch, .b = &b, .joins = ch == MR_CHAN_MEETING, .audit = 1,
			       .by_channel = 1, .entity = "event", .entity_id = ev[0].id, .status = 200 };
	char action[48];

	if (!mr_evindex_wait_ready(r->app->evindex, mr_mono_us() + MR_CB_READY_S * MR_US_PER_S))
		return mr_err_set(err, MR_EUNAVAIL, "the server is still loading its indexes; try again shortly");
	memset(&b, 0, sizeof(b));
	b.ev = ev;
	b.n = n;
	b.fate = fate;
	b.seq = seq;
	b.why = why;
	mr_evlog_batch_reset(&b);
	snprintf(action, sizeof(action), "%s.callback", mr_chan_name(ch));
	j.action = action;
	return mr_cb_commit(&j, err);
}

/*
 * A callback failed with rc: a failed signature counts toward the address's
 * back-off and is audited, as a failed login is. Returns rc.
 */
static int mr_cb_failed(struct mr_req *r, int ch, int rc)
{
	struct mr_cb_job j = { .r = r, .channel = ch, .audit = 1, .by_channel = 1, .entity = "channel",
			       .entity_id = mr_chan_name(ch), .status = 401 };
	struct mr_err ignored;
	char key[96], action[48];

	if (rc != MR_EAUTH)
		return rc;
	mr_cb_throttle_key(r, key);
	mr_throttle_fail(r->app->throttle, key, MR_CB_FREE_FAILS, mr_now_us());
	snprintf(action, sizeof(action), "%s.callback", mr_chan_name(ch));
	j.action = action;
	mr_err_clear(&ignored);
	mr_req_write(r, mr_cb_write_fn, &j, &ignored);
	return rc;
}

/* Answers a callback with the malloc'd plain text (taken), as the platforms expect. */
static int mr_cb_reply_owned(struct mr_req *r, char *text)
{
	return mr_reply_raw(r, 200, "text/plain; charset=utf-8", text, text ? strlen(text) : 0);
}

static int mr_cb_reply_text(struct mr_req *r, const char *text)
{
	return mr_cb_reply_owned(r, mr_strdup(text));
}

/* ------------------------------------------------------------ settings */

/* Loads channel ch's settings on a pooled connection (s is set in every case). */
static int mr_api_chan_load(struct mr_req *r, int ch, struct mr_chan_settings *s, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	int rc = mr_req_conn(r, &c, err);

	if (rc < 0) {
		memset(s, 0, sizeof(*s));
		s->channel = ch;
		return rc;
	}
	rc = mr_chan_load(c, &r->app->keys, ch, s, err);
	mr_req_done_conn(r, c);
	return rc;
}

/* The checks every callback passes first, then its channel's settings. */
static int mr_cb_begin(struct mr_req *r, int ch, struct mr_chan_settings *s, struct mr_err *err)
{
	int rc = mr_cb_rate(ch, err);

	if (rc == 0)
		rc = mr_cb_allowed(r, err);
	if (rc == 0)
		return mr_api_chan_load(r, ch, s, err);
	memset(s, 0, sizeof(*s));
	s->channel = ch;
	return rc;
}

/* The {name} of the route: a channel, or 404. */
static int mr_api_chan_param(struct mr_req *r, int *ch, struct mr_err *err)
{
	const char *name = mr_req_param(r, "name");

	*ch = mr_chan_parse(name);
	if (*ch < 0)
		return mr_err_field(err, MR_ENOTFOUND, "name", "there is no channel '%.40s': use wecom,"
				    " tencent_meeting or cdr", name ? name : "");
	return 0;
}

static int mr_api_chan_get(struct mr_req *r, struct mr_err *err)
{
	struct mr_chan_settings s;
	int ch = 0;
	int rc = mr_api_chan_param(r, &ch, err);

	if (rc < 0)
		return rc;
	rc = mr_api_chan_load(r, ch, &s, err);
	if (rc == 0)
		rc = mr_req_audit_read(r, "channel.read", "channel", mr_chan_name(ch), err);
	if (rc == 0)
		rc = mr_reply_json(r, 200, mr_chan_view(&s));
	mr_chan_release(&s);
	return rc;
}

struct mr_chan_put {
	struct mr_req *r;
	int ch;
	json_t *change;
	struct mr_chan_settings s;
};

/* Load, change, check and save in one transaction, so two admins' changes do not cross. */
static int mr_chan_put_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_chan_put *j = arg;
	const struct mr_keys *k = &j->r->app->keys;
	unsigned char before[MR_AUDIT_DIGEST], after[MR_AUDIT_DIGEST];
	int had, rc;

	mr_chan_release(&j->s);
	rc = mr_chan_load(c, k, j->ch, &j->s, err);
	had = j->s.configured;
	if (rc == 0)
		mr_audit_digest(k, j->s.v, before);
	if (rc == 0)
		rc = mr_chan_change(&j->s, j->change, err);
	if (rc == 0)
		rc = mr_chan_save(c, k, &j->s, j->r->who.user.login, mr_now_us(), err);
	if (rc == 0) {
		mr_audit_digest(k, j->s.v, after);
		rc = mr_req_audit(j->r, c, "channel.update", "channel", mr_chan_name(j->ch), 200,
				  had ? before : NULL, after, err);
	}
	return rc;
}

static int mr_api_chan_put(struct mr_req *r, struct mr_err *err)
{
	struct mr_chan_put j;
	int rc;

	memset(&j, 0, sizeof(j));
	j.r = r;
	rc = mr_api_chan_param(r, &j.ch, err);
	if (rc == 0)
		rc = mr_req_json(r, &j.change, err);
	if (rc == 0)
		rc = mr_req_write(r, mr_chan_put_fn, &j, err);
	if (rc == 0)
		rc = mr_reply_json(r, 200, mr_chan_view(&j.s));
	mr_chan_release(&j.s);
	json_decref(j.change);
	return rc;
}

/* ------------------------------------------------------------ WeCom */

/*
 * A base64 query parameter: a '+' sent unescaped arrives as a space (form
 * decoding), and base64 has no spaces, so they are turned back. A copy in
 * the request's arena, or NULL when absent.
 */
static int mr_cb_query_b64(struct mr_req *r, const char *key, const char **out, struct mr_err *err)
{
	char *copy;
	int rc = mr_req_query(r, key, out, err);

	if (rc < 0 || !*out)
		return rc;
	copy = mr_arena_strdup(&r->arena, *out);
	for (char *p = copy; *p; p++) {
		if (*p == ' ')
			*p = '+';
	}
	*out = copy;
	return 0;
}

/* The signed query parameters of a WeCom callback. */
struct mr_wecom_q {
	const char *msg_signature, *timestamp, *nonce, *echostr;
};

static int mr_wecom_query(struct mr_req *r, struct mr_wecom_q *q, struct mr_err *err)
{
	int rc = mr_req_query(r, "msg_signature", &q->msg_signature, err);

	if (rc == 0)
		rc = mr_req_query(r, "timestamp", &q->timestamp, err);
	if (rc == 0)
		rc = mr_req_query(r, "nonce", &q->nonce, err);
	if (rc == 0)
		rc = mr_cb_query_b64(r, "echostr", &q->echostr, err);
	return rc;
}

/* GET: the URL verification WeCom runs when the callback URL is saved. */
static int mr_api_wecom_verify(struct mr_req *r, struct mr_err *err)
{
	struct mr_chan_settings s;
	struct mr_wecom_cfg cfg;
	struct mr_wecom_q q = { 0 };
	char *plain = NULL;
	int rc = mr_cb_begin(r, MR_CHAN_WECOM, &s, err);

	if (rc == 0)
		rc = mr_chan_wecom_cfg(&s, &cfg, err);
	if (rc == 0)
		rc = mr_wecom_query(r, &q, err);
	if (rc == 0)
		rc = mr_wecom_verify_url(&cfg, q.msg_signature, q.timestamp, q.nonce, q.echostr, &plain, err);
	mr_chan_release(&s);
	if (rc < 0)
		return mr_cb_failed(r, MR_CHAN_WECOM, rc);
	return mr_cb_reply_owned(r, plain);
}

/* Opens a WeCom POST into ev; MR_EUNPROC "ignored" for a callback that is not about a doctor. */
static int mr_wecom_event(struct mr_req *r, const struct mr_chan_settings *s, struct mr_event *ev,
			  struct mr_err *err)
{
	struct mr_wecom_msg *m = mr_arena_alloc(&r->arena, sizeof(*m));
	struct mr_wecom_cfg cfg;
	struct mr_wecom_q q = { 0 };
	int rc = mr_chan_wecom_cfg(s, &cfg, err);

	if (rc == 0)
		rc = mr_wecom_query(r, &q, err);
	if (rc == 0)
		rc = mr_wecom_open(&cfg, q.msg_signature, q.timestamp, q.nonce, r->body.p ? r->body.p : "",
				   r->body.len, m, err);
	if (rc == 0)
		rc = mr_wecom_to_event(m, &r->arena, ev, err);
	sodium_memzero(m, sizeof(*m)); /* the message text is the doctor's; the event keeps its length only */
	if (rc == 0)
		rc = mr_event_check(ev, mr_now_us(), &r->arena, err);
	return rc;
}

/* POST: one encrypted callback → at most one event. */
static int mr_api_wecom_callback(struct mr_req *r, struct mr_err *err)
{
	struct mr_chan_settings s;
	struct mr_event ev;
	int rc = mr_cb_begin(r, MR_CHAN_WECOM, &s, err);

	if (rc == 0)
		rc = mr_wecom_event(r, &s, &ev, err);
	mr_chan_release(&s);
	if (rc == MR_EUNPROC && err->kind && strcmp(err->kind, "ignored") == 0)
		return mr_cb_reply_text(r, mr_cb_wecom_ok); /* acknowledged, nothing to store */
	if (rc == 0)
		rc = mr_cb_store(r, MR_CHAN_WECOM, &ev, 1, err);
	if (rc < 0)
		return mr_cb_failed(r, MR_CHAN_WECOM, rc);
	return mr_cb_reply_text(r, mr_cb_wecom_ok);
}

/* ------------------------------------------------------------ Tencent Meeting */

/* The signed headers of a Tencent Meeting request. */
struct mr_meeting_h {
	const char *timestamp, *nonce, *signature;
};

static void mr_meeting_headers_get(struct mr_req *r, struct mr_meeting_h *h)
{
	h->timestamp = mr_req_header(r, "timestamp");
	h->nonce = mr_req_header(r, "nonce");
	h->signature = mr_req_header(r, "signature");
}

/* GET: the URL check Tencent runs when the subscription is saved (and as a heartbeat). */
static int mr_api_meeting_verify(struct mr_req *r, struct mr_err *err)
{
	struct mr_chan_settings s;
	struct mr_meeting_cfg cfg;
	struct mr_meeting_h h;
	const char *check = NULL;
	char *plain = NULL;
	int rc = mr_cb_begin(r, MR_CHAN_MEETING, &s, err);

	mr_meeting_headers_get(r, &h);
	if (rc == 0)
		rc = mr_chan_meeting_cfg(&s, &cfg, err);
	if (rc == 0)
		rc = mr_cb_query_b64(r, "check_str", &check, err);
	if (rc == 0)
		rc = mr_meeting_verify_url(&cfg, h.timestamp, h.nonce, h.signature, check, &plain, err);
	mr_chan_release(&s);
	if (rc < 0)
		return mr_cb_failed(r, MR_CHAN_MEETING, rc);
	return mr_cb_reply_owned(r, plain);
}

/* What the joined_at callback reads the stored joins with. */
struct mr_meeting_joins {
	struct mr_req *r;
	struct mr_conn *c;
};

/*
 * The join a leave ends, as stored when the join arrived. (A delivery
 * carries one event name, so a join is never in the same delivery as its
 * leave.)
 */
static int64_t mr_meeting_joined_at(void *arg, const char *meeting, const char *user)
{
	struct mr_meeting_joins *x = arg;
	struct mr_err ignored;
	int64_t at = 0;

	mr_err_clear(&ignored);
	if (mr_chan_join_get(x->c, &x->r->app->keys, meeting, user, &at, &ignored) < 0)
		return 0; /* unknown: the leave is stored without a duration */
	return at;
}

/* Verifies, decodes and maps a POST into rows (in the request's arena); *n may be 0. */
static int mr_meeting_rows(struct mr_req *r, const struct mr_chan_settings *s, struct mr_event **rows,
			   int *n, struct mr_err *err)
{
	struct mr_meeting_joins x = { r, NULL };
	struct mr_meeting_opts o = { mr_meeting_joined_at, &x, 0 };
	struct mr_meeting_cfg cfg;
	struct mr_meeting_h h;
	json_t *event = NULL;
	int rc = mr_chan_meeting_cfg(s, &cfg, err);

	*n = 0;
	*rows = mr_arena_alloc(&r->arena, MR_CB_MEETING_ROWS * sizeof(**rows));
	mr_meeting_headers_get(r, &h);
	if (rc == 0)
		rc = mr_meeting_open(&cfg, h.timestamp, h.nonce, h.signature, r->body.p ? r->body.p : "",
				     r->body.len, &event, err);
	if (rc == 0)
		rc = mr_req_conn(r, &x.c, err);
	if (rc == 0) {
		rc = mr_meeting_events(event, &o, &r->arena, *rows, MR_CB_MEETING_ROWS, n, err);
		mr_req_done_conn(r, x.c);
	}
	json_decref(event);
	return rc;
}

/* POST: a participant event → one event per payload entry that names a lasting user. */
static int mr_api_meeting_callback(struct mr_req *r, struct mr_err *err)
{
	struct mr_chan_settings s;
	struct mr_event *rows = NULL;
	int n = 0;
	int rc = mr_cb_begin(r, MR_CHAN_MEETING, &s, err);

	if (rc == 0)
		rc = mr_meeting_rows(r, &s, &rows, &n, err);
	mr_chan_release(&s);
	if (rc == MR_EUNPROC && err->kind && strcmp(err->kind, "ignored") == 0)
		return mr_cb_reply_text(r, mr_cb_meeting_ok);
	if (rc == 0 && n > 0)
		rc = mr_cb_store(r, MR_CHAN_MEETING, rows, n, err);
	if (rc < 0)
		return mr_cb_failed(r, MR_CHAN_MEETING, rc);
	return mr_cb_reply_text(r, mr_cb_meeting_ok);
}

/* ------------------------------------------------------------ the CDR import */

struct mr_api_cdr {
	struct mr_req *r;
	int audited;                /* the import's audit record went with a batch already */
};

/* One batch through the writer: the import is audited with its first batch, in its transaction. */
static int mr_api_cdr_commit(void *arg, struct mr_evlog_batch *b, struct mr_err *err)
{
	struct mr_api_cdr *x = arg;
	struct mr_cb_job j = { .r = x->r, .channel = MR_CHAN_CDR, .b = b, .audit = !x->audited,
			       .action = "cdr.import", .entity = "events", .status = 200 };

	x->audited = 1;
	return mr_cb_commit(&j, err);
}

/* The reader's options: the encoding from ?encoding= or the Content-Type's charset. */
static int mr_api_cdr_csv_opts(struct mr_req *r, struct mr_csv_opts *o, struct mr_err *err)
{
	const char *type = mr_req_header(r, "Content-Type");
	const char *enc = NULL;
	int rc = mr_req_query(r, "encoding", &enc, err);

	memset(o, 0, sizeof(*o));
	o->encoding = MR_CSV_AUTO;
	if (rc == 0 && !enc && type && strstr(type, "charset="))
		enc = strstr(type, "charset=") + 8;
	if (rc == 0 && enc && (int)(o->encoding = mr_csv_encoding_parse(enc)) < 0)
		rc = mr_err_field(err, MR_EINVAL, "encoding",
				  "unknown encoding '%.20s': use utf-8, gb18030 (GBK) or utf-16", enc);
	return rc;
}

/* The rules in force: the stored ones, or the defaults. */
static int mr_api_cdr_rules(struct mr_req *r, struct mr_cdr_rules *rules, struct mr_err *err)
{
	struct mr_chan_settings s;
	int rc = mr_api_chan_load(r, MR_CHAN_CDR, &s, err);

	if (rc == 0)
		rc = mr_chan_cdr_rules(&s, rules, &r->arena, err);
	mr_chan_release(&s);
	return rc;
}

static int mr_api_cdr_import(struct mr_req *r, struct mr_err *err)
{
	struct mr_api_cdr x = { r, 0 };
	struct mr_cdr_rules rules;
	struct mr_chan_cdr_opts o = { .rules = &rules, .dir = r->app->hcpdir, .store = r->app->store,
				      .commit = mr_api_cdr_commit, .arg = &x };
	struct mr_chan_cdr_report rep = { 0 };
	struct mr_csv_opts copts;
	struct mr_csv *csv = NULL;
	int64_t deadline = mr_mono_us() + MR_CB_READY_S * MR_US_PER_S;
	int rc = mr_api_cdr_csv_opts(r, &copts, err);

	if (rc == 0 && (!mr_evindex_wait_ready(r->app->evindex, deadline) ||
			!mr_hcpdir_wait_ready(r->app->hcpdir, deadline)))
		rc = mr_err_set(err, MR_EUNAVAIL, "the server is still loading its indexes; try again shortly");
	if (rc == 0)
		rc = mr_api_cdr_rules(r, &rules, err);
	if (rc == 0)
		rc = mr_csv_open_mem(&csv, r->body.p ? r->body.p : "", r->body.len, &copts, err);
	if (rc == 0)
		rc = mr_chan_cdr_import(csv, &o, &rep, err);
	mr_csv_free(csv);
	if (rc == 0)
		rc = mr_reply_json(r, 200, mr_chan_cdr_report_json(&rep));
	mr_chan_cdr_report_release(&rep);
	return rc;
}

#define MR_R_ADMIN MR_ROLE_BIT(MR_ROLE_ADMIN)

const struct mr_route mr_routes_channels[] = {
	{ "GET", "/api/v1/channels/wecom/callback", mr_api_wecom_verify, MR_ROLES_PUBLIC, 0,
	  "WeCom URL verification: the decrypted echostr (msg_signature, timestamp, nonce, echostr)",
	  "channels", MR_CB_BODY_MAX },
	{ "POST", "/api/v1/channels/wecom/callback", mr_api_wecom_callback, MR_ROLES_PUBLIC, MR_ROUTE_OK200,
	  "WeCom encrypted callback (signed): its event goes to the log; answers 'success'", "channels",
	  MR_CB_BODY_MAX },
	{ "GET", "/api/v1/channels/tencent-meeting/callback", mr_api_meeting_verify, MR_ROLES_PUBLIC, 0,
	  "Tencent Meeting URL check: the decoded check_str (headers timestamp, nonce, signature)",
	  "channels", MR_CB_BODY_MAX },
	{ "POST", "/api/v1/channels/tencent-meeting/callback", mr_api_meeting_callback, MR_ROLES_PUBLIC,
	  MR_ROUTE_OK200, "Tencent Meeting event (signed): joins and leaves go to the log with attended"
	  " time", "channels", MR_CB_BODY_MAX },
	{ "POST", "/api/v1/channels/cdr/import", mr_api_cdr_import, MR_R_ADMIN, MR_ROUTE_CSV | MR_ROUTE_OK200,
	  "Import call-centre CDRs from CSV (UTF-8 or GB18030) as phone events: {rows, accepted,"
	  " duplicates, rejected:[{line, column, field, error}]}", "channels", MR_CDR_IMPORT_MAX },
	{ "GET", "/api/v1/channels/{name}", mr_api_chan_get, MR_R_ADMIN, 0,
	  "A channel's settings (wecom, tencent_meeting, cdr), secrets masked", "channels", 0 },
	{ "PUT", "/api/v1/channels/{name}", mr_api_chan_put, MR_R_ADMIN, MR_ROUTE_BODY,
	  "Change a channel's settings (secrets left out or sent masked are kept); answers them masked",
	  "channels", 16 * 1024 },
	{ 0 },
};
