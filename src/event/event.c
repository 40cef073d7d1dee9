/*
 * See event.h. The channel table below is the event contract of
 * ../shared/ARCHITECTURE.md; KPIs, expressions and the UI read their
 * ladders from it.
 */
#include "event/event.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "md/norm.h"

static const struct mr_channel_def mr_channels[MR_CH_COUNT] = {
	[MR_CH_PHONE] = { "phone", { "no_answer", "answered", "successful", "effective" }, "call" },
	[MR_CH_WECHAT] = { "wechat", { "sent", "delivered", "read", "responded" }, "message" },
	[MR_CH_WECOM] = { "wecom", { "sent", "delivered", "read", "responded" }, "message" },
	[MR_CH_MEETING_ONLINE] = { "meeting_online", { "invited", "registered", "attended" }, "invitation" },
	[MR_CH_MEETING_OFFLINE] = { "meeting_offline", { "invited", "registered", "attended" }, "invitation" },
	[MR_CH_VISIT] = { "visit", { "planned", "completed" }, "visit" },
	[MR_CH_EMAIL] = { "email", { "sent", "delivered", "read", "responded" }, "email" },
	[MR_CH_CONTENT] = { "content", { "viewed", "completed" }, "view" },
	[MR_CH_SMS] = { "sms", { "sent", "delivered", "read", "responded" }, "sms" },
};

const struct mr_channel_def *mr_channel_def(int ch)
{
	return ch > MR_CH_NONE && ch < MR_CH_COUNT ? &mr_channels[ch] : NULL;
}

int mr_channel_parse(const char *name)
{
	for (int ch = 1; name && ch < MR_CH_COUNT; ch++) {
		if (strcmp(mr_channels[ch].name, name) == 0)
			return ch;
	}
	return MR_CH_NONE;
}

const char *mr_channel_name(int ch)
{
	const struct mr_channel_def *d = mr_channel_def(ch);

	return d ? d->name : NULL;
}

int mr_outcome_count(int ch)
{
	const struct mr_channel_def *d = mr_channel_def(ch);
	int n = 0;

	while (d && n < MR_EVENT_RUNGS_MAX && d->ladder[n])
		n++;
	return n;
}

int mr_outcome_parse(int ch, const char *name)
{
	const struct mr_channel_def *d = mr_channel_def(ch);

	for (int i = 0; d && name && i < MR_EVENT_RUNGS_MAX && d->ladder[i]; i++) {
		if (strcmp(d->ladder[i], name) == 0)
			return i;
	}
	return -1;
}

const char *mr_outcome_name(int ch, int rung)
{
	const struct mr_channel_def *d = mr_channel_def(ch);

	return d && rung >= 0 && rung < mr_outcome_count(ch) ? d->ladder[rung] : NULL;
}

int mr_outcome_weight(int ch, int rung)
{
	int n = mr_outcome_count(ch);

	if (n <= 1 || rung <= 0)
		return 1;
	if (rung >= n - 1)
		return 3;
	return 1 + (2 * rung + (n - 1) / 2) / (n - 1); /* rounded: 4 rungs give 1 2 2 3 */
}

void mr_event_init(struct mr_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->outcome = -1;
	ev->duration_s = -1;
	ev->source = "api";
}

/* A plain token: [a-z0-9_], 1..max bytes. */
static int mr_event_token(const char *s, size_t max)
{
	size_t n = 0;

	for (; s[n]; n++) {
		char c = s[n];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return n > 0 && n <= max;
}

/* A reference or id: 1..max bytes of printable ASCII other than space and quotes, or any UTF-8 above. */
static int mr_event_ref_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || mr_utf8_check(s, n) != 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x21 || c == 0x7f || c == '"' || c == '\\')
			return 0;
	}
	return 1;
}

static int mr_event_check_ref(const char *v, const char *field, size_t max, struct mr_err *err)
{
	if (v && !mr_event_ref_ok(v, max))
		return mr_err_field(err, MR_EINVAL, field,
				    "%s must be 1 to %zu bytes of UTF-8 without spaces, quotes or backslashes",
				    field, max);
	return 0;
}

static int mr_event_check_time(const struct mr_event *ev, int64_t now_us, struct mr_err *err)
{
	char when[40];

	if (ev->ts < MR_EVENT_TS_MIN)
		return mr_err_field(err, MR_EINVAL, "ts", "ts is before 2000-01-01; check the clock or the unit");
	if (ev->ts > now_us + (int64_t)MR_EVENT_FUTURE_S * MR_US_PER_S) {
		mr_time_format(ev->ts, when, sizeof(when));
		return mr_err_field(err, MR_EINVAL, "ts",
				    "ts %s is more than a day in the future; events record what happened", when);
	}
	return 0;
}

/* The doctor: an external id, or an identity of a known kind, normalised into a. */
static int mr_event_check_who(struct mr_event *ev, struct mr_arena *a, struct mr_err *err)
{
	char norm[MR_NORM_MAX];
	int rc;

	if (ev->hcp && ev->id_kind)
		return mr_err_field(err, MR_EINVAL, "identity", "give hcp or identity, not both");
	if (ev->hcp)
		return mr_event_check_ref(ev->hcp, "hcp", MR_EVENT_REF_MAX, err);
	if (!ev->id_kind)
		return mr_err_field(err, MR_EINVAL, "hcp",
				    "name the doctor: \"hcp\" (an HCP id) or \"identity\" {\"kind\",\"value\"}");
	if (!mr_norm_identity_kind(ev->id_kind))
		return mr_err_field(err, MR_EINVAL, "identity.kind",
				    "unknown identity kind '%.40s': use wechat_unionid, wechat_openid,"
				    " wecom_external_userid, phone, email, meeting_user_id or license_no",
				    ev->id_kind);
	if (!ev->id_value)
		return mr_err_field(err, MR_EINVAL, "identity.value", "identity.value is required");
	rc = mr_norm_identity(ev->id_kind, ev->id_value, norm, "identity.value", err);
	if (rc < 0)
		return rc;
	ev->id_value = mr_arena_strdup(a, norm);
	if (!ev->id_app)
		ev->id_app = "";
	return mr_event_check_ref(*ev->id_app ? ev->id_app : NULL, "identity.app", MR_EVENT_REF_MAX, err);
}

int mr_event_check(struct mr_event *ev, int64_t now_us, struct mr_arena *a, struct mr_err *err)
{
	const struct mr_channel_def *d = mr_channel_def(ev->channel);
	int rc;

	if (!ev->id)
		return mr_err_field(err, MR_EINVAL, "id", "field 'id' is required: the sender's unique event id");
	rc = mr_event_check_ref(ev->id, "id", MR_EVENT_ID_MAX, err);
	if (rc < 0)
		return rc;
	if (!d)
		return mr_err_field(err, MR_EINVAL, "channel",
				    "channel must be one of phone, wechat, wecom, meeting_online,"
				    " meeting_offline, visit, email, content, sms");
	if (ev->outcome < 0 || ev->outcome >= mr_outcome_count(ev->channel))
		return mr_err_field(err, MR_EINVAL, "outcome", "outcome is required for %s", d->name);
	if (!ev->type)
		ev->type = d->default_type;
	if (!mr_event_token(ev->type, MR_EVENT_TYPE_MAX))
		return mr_err_field(err, MR_EINVAL, "type", "type must be 1 to %d of a-z 0-9 _",
				    MR_EVENT_TYPE_MAX);
	rc = mr_event_check_time(ev, now_us, err);
	if (rc == 0)
		rc = mr_event_check_who(ev, a, err);
	if (rc == 0)
		rc = mr_event_check_ref(ev->rep, "rep", MR_EVENT_REF_MAX, err);
	if (rc == 0)
		rc = mr_event_check_ref(ev->content, "content", MR_EVENT_REF_MAX, err);
	if (rc == 0)
		rc = mr_event_check_ref(ev->campaign, "campaign", MR_EVENT_REF_MAX, err);
	if (rc == 0)
		rc = mr_event_check_ref(ev->meeting, "meeting", MR_EVENT_REF_MAX, err);
	if (rc == 0 && ev->duration_s > 7 * 86400)
		rc = mr_err_field(err, MR_EINVAL, "duration_s", "duration_s must be 0 to 604800 (a week)");
	if (rc == 0 && (!ev->source || !mr_event_token(ev->source, MR_EVENT_TYPE_MAX)))
		rc = mr_err_field(err, MR_EINVAL, "source", "source must be 1 to %d of a-z 0-9 _",
				  MR_EVENT_TYPE_MAX);
	if (rc == 0 && ev->props && strlen(ev->props) > MR_EVENT_PROPS_MAX)
		rc = mr_err_field(err, MR_EINVAL, "props", "props is over %d bytes as JSON", MR_EVENT_PROPS_MAX);
	return rc;
}

/*
 * Parsing a line. Events arrive by the hundred thousand a second, so a
 * line is read with yajl's event (SAX) parser straight into the struct,
 * with no tree in between: a tenth of the cost of building and reading a
 * jansson tree. props, the one free-form part, is written back out as
 * compact JSON by yajl's generator as it is read.
 */
enum mr_evf {
	MR_EVF_ID, MR_EVF_TS, MR_EVF_HCP, MR_EVF_IDENTITY, MR_EVF_CHANNEL, MR_EVF_TYPE,
	MR_EVF_OUTCOME, MR_EVF_REP, MR_EVF_CONTENT, MR_EVF_CAMPAIGN, MR_EVF_MEETING,
	MR_EVF_DURATION, MR_EVF_PROPS, MR_EVF_SOURCE, MR_EVF_COUNT,
	MR_EVF_KIND = MR_EVF_COUNT, MR_EVF_VALUE, MR_EVF_APP, /* inside identity */
	MR_EVF_NONE = -1,
};

static const char *const mr_evf_names[] = { "id", "ts", "hcp", "identity", "channel", "type",
					    "outcome", "rep", "content", "campaign", "meeting",
					    "duration_s", "props", "source", "kind", "value", "app" };

enum { MR_EVP_PROPS_DEPTH = 8 };

struct mr_evp {
	struct mr_event *ev;
	struct mr_arena *a;
	struct mr_err *err;
	int depth;                 /* 1: the event, 2: inside identity or props, ... */
	int field;                 /* the key just read (enum mr_evf), at depth 1 or in identity */
	int in_identity;
	unsigned seen, id_seen;    /* fields given, to refuse a repeat */
	const char *ts, *channel, *outcome;
	yajl_gen props;            /* while inside props */
	int props_depth;
};

/* Records the first refusal (the parse stops: yajl sees 0, "cancelled"). */
static int mr_evp_fail(struct mr_evp *p, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int mr_evp_fail(struct mr_evp *p, const char *field, const char *fmt, ...)
{
	char msg[sizeof(p->err->msg)];
	va_list ap;

	if (!p->err->code) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		mr_err_field(p->err, MR_EINVAL, field, "%s", msg);
	}
	return 0;
}

/* The current field's name, for messages ("" before the first key). */
static const char *mr_evp_name(const struct mr_evp *p)
{
	return p->field >= 0 ? mr_evf_names[p->field] : "";
}

/* A value where no field can be: the line is not an object. */
static int mr_evp_toplevel(struct mr_evp *p)
{
	return p->depth == 0 ? mr_evp_fail(p, "", "an event must be a JSON object") : 1;
}

/* The string value of the current field. */
/*
 * A string or key inside props, before it is written back out: yajl lets
 * overlong forms, surrogates and code points past U+10FFFF through, and a
 * NUL comes from \u0000; props with them could not be read back (and
 * PostgreSQL would refuse the whole batch).
 */
static int mr_evp_props_text(struct mr_evp *p, const unsigned char *s, size_t n)
{
	if (mr_utf8_check((const char *)s, n) != 0)
		return mr_evp_fail(p, "props", "props holds a string that is not valid UTF-8");
	if (memchr(s, '\0', n))
		return mr_evp_fail(p, "props", "props holds a NUL character");
	return yajl_gen_string(p->props, s, n) == yajl_gen_status_ok;
}

static int mr_evp_string(void *ctx, const unsigned char *s, size_t n)
{
	struct mr_evp *p = ctx;
	const char *v;

	if (p->props)
		return mr_evp_props_text(p, s, n);
	if (!mr_evp_toplevel(p))
		return 0;
	if (memchr(s, '\0', n))
		return mr_evp_fail(p, mr_evp_name(p), "%s holds a NUL character", mr_evp_name(p));
	v = mr_arena_strndup(p->a, (const char *)s, n);
	switch (p->field) {
	case MR_EVF_ID: p->ev->id = v; break;
	case MR_EVF_TS: p->ts = v; break;
	case MR_EVF_HCP: p->ev->hcp = v; break;
	case MR_EVF_CHANNEL: p->channel = v; break;
	case MR_EVF_TYPE: p->ev->type = v; break;
	case MR_EVF_OUTCOME: p->outcome = v; break;
	case MR_EVF_REP: p->ev->rep = v; break;
	case MR_EVF_CONTENT: p->ev->content = v; break;
	case MR_EVF_CAMPAIGN: p->ev->campaign = v; break;
	case MR_EVF_MEETING: p->ev->meeting = v; break;
	case MR_EVF_SOURCE: p->ev->source = v; break;
	case MR_EVF_KIND: p->ev->id_kind = v; break;
	case MR_EVF_VALUE: p->ev->id_value = v; break;
	case MR_EVF_APP: p->ev->id_app = v; break;
	default:
		return mr_evp_fail(p, mr_evp_name(p), "%s must not be a string", mr_evp_name(p));
	}
	return 1;
}

static int mr_evp_null(void *ctx)
{
	struct mr_evp *p = ctx;

	if (p->props)
		return yajl_gen_null(p->props) == yajl_gen_status_ok;
	return mr_evp_toplevel(p); /* null: as if absent */
}

static int mr_evp_bool(void *ctx, int b)
{
	struct mr_evp *p = ctx;

	if (p->props)
		return yajl_gen_bool(p->props, b) == yajl_gen_status_ok;
	if (!mr_evp_toplevel(p))
		return 0;
	return mr_evp_fail(p, mr_evp_name(p), "%s must not be true or false", mr_evp_name(p));
}

static int mr_evp_integer(void *ctx, long long v)
{
	struct mr_evp *p = ctx;

	if (p->props)
		return yajl_gen_integer(p->props, v) == yajl_gen_status_ok;
	if (!mr_evp_toplevel(p))
		return 0;
	if (p->field != MR_EVF_DURATION)
		return mr_evp_fail(p, mr_evp_name(p), "%s must be a string", mr_evp_name(p));
	if (v < 0 || v > 7 * 86400)
		return mr_evp_fail(p, "duration_s", "duration_s must be 0 to 604800 seconds");
	p->ev->duration_s = v;
	return 1;
}

static int mr_evp_double(void *ctx, double v)
{
	struct mr_evp *p = ctx;

	if (p->props)
		return yajl_gen_double(p->props, v) == yajl_gen_status_ok;
	if (!mr_evp_toplevel(p))
		return 0;
	return mr_evp_fail(p, mr_evp_name(p), "%s must be a whole number or a string",
			   mr_evp_name(p));
}

static int mr_evp_start_map(void *ctx)
{
	struct mr_evp *p = ctx;

	p->depth++;
	if (p->props) {
		if (++p->props_depth > MR_EVP_PROPS_DEPTH)
			return mr_evp_fail(p, "props", "props is nested deeper than %d levels", MR_EVP_PROPS_DEPTH);
		return yajl_gen_map_open(p->props) == yajl_gen_status_ok;
	}
	if (p->depth == 1)
		return 1;
	if (p->depth == 2 && p->field == MR_EVF_IDENTITY) {
		p->in_identity = 1;
		return 1;
	}
	if (p->depth == 2 && p->field == MR_EVF_PROPS) {
		p->props = yajl_gen_alloc(NULL);
		p->props_depth = 1;
		return yajl_gen_map_open(p->props) == yajl_gen_status_ok;
	}
	return mr_evp_fail(p, mr_evp_name(p), "%s must not be an object", mr_evp_name(p));
}

/* Takes props' text from the generator into the arena; NULL for an empty object. */
static void mr_evp_props_done(struct mr_evp *p)
{
	const unsigned char *buf;
	size_t n;

	yajl_gen_get_buf(p->props, &buf, &n);
	if (n > 2)
		p->ev->props = mr_arena_strndup(p->a, (const char *)buf, n);
	yajl_gen_free(p->props);
	p->props = NULL;
}

static int mr_evp_end_map(void *ctx)
{
	struct mr_evp *p = ctx;

	p->depth--;
	if (p->props) {
		int ok = yajl_gen_map_close(p->props) == yajl_gen_status_ok;

		if (--p->props_depth == 0)
			mr_evp_props_done(p);
		return ok;
	}
	if (p->in_identity && p->depth == 1)
		p->in_identity = 0;
	return 1;
}

static int mr_evp_start_array(void *ctx)
{
	struct mr_evp *p = ctx;

	if (p->props) {
		if (++p->props_depth > MR_EVP_PROPS_DEPTH)
			return mr_evp_fail(p, "props", "props is nested deeper than %d levels", MR_EVP_PROPS_DEPTH);
		return yajl_gen_array_open(p->props) == yajl_gen_status_ok;
	}
	if (p->depth == 0)
		return mr_evp_fail(p, "", "an event must be a JSON object");
	return mr_evp_fail(p, mr_evp_name(p), "%s must not be a list", mr_evp_name(p));
}

static int mr_evp_end_array(void *ctx)
{
	struct mr_evp *p = ctx;

	p->props_depth--;
	return yajl_gen_array_close(p->props) == yajl_gen_status_ok;
}

static int mr_evp_key(void *ctx, const unsigned char *s, size_t n)
{
	struct mr_evp *p = ctx;
	int first = p->in_identity ? MR_EVF_KIND : 0, last = p->in_identity ? MR_EVF_APP + 1 : MR_EVF_COUNT;
	unsigned *seen = p->in_identity ? &p->id_seen : &p->seen;
	char name[48];

	if (p->props)
		return mr_evp_props_text(p, s, n);
	p->field = MR_EVF_NONE;
	for (int f = first; f < last; f++) {
		if (strlen(mr_evf_names[f]) == n && memcmp(mr_evf_names[f], s, n) == 0) {
			p->field = f;
			break;
		}
	}
	if (p->field != MR_EVF_NONE && !(*seen & (1u << (p->field - first)))) {
		*seen |= 1u << (p->field - first);
		return 1;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(n < 40 ? n : 40), (const char *)s);
	if (p->field == MR_EVF_NONE)
		return p->in_identity ?
		       mr_evp_fail(p, name, "unknown field '%s' in identity: use kind, value and app", name) :
		       mr_evp_fail(p, name, "unknown field '%s'; put custom values in \"props\"", name);
	return mr_evp_fail(p, name, "field '%s' appears twice", name);
}

static const yajl_callbacks mr_evp_callbacks = {
	mr_evp_null, mr_evp_bool, mr_evp_integer, mr_evp_double, NULL, mr_evp_string,
	mr_evp_start_map, mr_evp_key, mr_evp_end_map, mr_evp_start_array, mr_evp_end_array,
};

/* A yajl syntax error as a message with its column. */
static int mr_evp_syntax(yajl_handle h, const char *line, size_t n, struct mr_err *err)
{
	unsigned char *msg = yajl_get_error(h, 0, (const unsigned char *)line, n);
	size_t at = yajl_get_bytes_consumed(h);
	size_t len = msg ? strlen((const char *)msg) : 0;

	while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' ' || msg[len - 1] == '.'))
		msg[--len] = '\0';
	mr_err_set(err, MR_EINVAL, "malformed JSON: %s", msg ? (const char *)msg : "syntax error");
	err->line = 1;
	/* yajl counts the offending byte as consumed: that byte's 1-based column */
	err->column = (int64_t)(at == 0 ? 1 : at <= n ? at : n + 1);
	if (msg)
		yajl_free_error(h, msg);
	return MR_EINVAL;
}

/* A line that ended inside its value. */
static int mr_evp_syntax_eof(const char *line, size_t n, struct mr_err *err)
{
	(void)line;
	mr_err_set(err, MR_EINVAL, "malformed JSON: the line ends before the event does");
	err->line = 1;
	err->column = (int64_t)n + 1;
	return MR_EINVAL;
}

/* What the callbacks left as text: time, channel and outcome. */
static int mr_evp_finish(struct mr_evp *p, struct mr_err *err)
{
	struct mr_event *ev = p->ev;

	if (!p->ts)
		return mr_err_field(err, MR_EINVAL, "ts", "field 'ts' is required: when it happened, RFC 3339 with a zone");
	if (!strchr(p->ts, 'T') || mr_time_parse(p->ts, 0, &ev->ts) < 0)
		return mr_err_field(err, MR_EINVAL, "ts",
				    "ts must be RFC 3339 with a time and a zone, e.g. 2024-03-05T09:12:00+08:00");
	if (!p->channel)
		return mr_err_field(err, MR_EINVAL, "channel", "field 'channel' is required");
	ev->channel = mr_channel_parse(p->channel);
	if (!ev->channel)
		return mr_err_field(err, MR_EINVAL, "channel",
				    "unknown channel '%.40s': use phone, wechat, wecom, meeting_online,"
				    " meeting_offline, visit, email, content or sms", p->channel);
	if (!p->outcome)
		return mr_err_field(err, MR_EINVAL, "outcome", "field 'outcome' is required");
	ev->outcome = mr_outcome_parse(ev->channel, p->outcome);
	if (ev->outcome < 0) {
		const struct mr_channel_def *d = mr_channel_def(ev->channel);
		char ladder[160];
		size_t len = 0;

		ladder[0] = '\0';
		for (int i = 0; i < mr_outcome_count(ev->channel); i++)
			len += (size_t)snprintf(ladder + len, sizeof(ladder) - len, "%s%s", i ? " < " : "",
						d->ladder[i]);
		return mr_err_field(err, MR_EINVAL, "outcome", "outcome '%.40s' is not on the %s ladder (%s)",
				    p->outcome, d->name, ladder);
	}
	if (ev->id_kind == NULL && (p->seen & (1u << MR_EVF_IDENTITY)) && !ev->hcp)
		return mr_err_field(err, MR_EINVAL, "identity.kind", "identity.kind is required");
	return 0;
}

/*
 * A parser for many lines: one yajl handle in its many-values mode, fed a
 * line at a time, so that a line costs no allocation of its own. After a
 * line that did not end cleanly (an error, an unfinished value, not an
 * object) the handle, which may hold part of it, is made afresh.
 */
struct mr_event_parser {
	yajl_handle h;
	struct mr_evp p;
	const char *source;        /* for lines that name none; NULL: "api" */
};

static void mr_event_parser_reset(struct mr_event_parser *ep)
{
	if (ep->h)
		yajl_free(ep->h);
	ep->h = yajl_alloc(&mr_evp_callbacks, NULL, &ep->p);
	yajl_config(ep->h, yajl_allow_multiple_values, 1);
}

struct mr_event_parser *mr_event_parser_new(void)
{
	struct mr_event_parser *ep = mr_calloc(1, sizeof(*ep));

	mr_event_parser_reset(ep);
	return ep;
}

void mr_event_parser_set_source(struct mr_event_parser *ep, const char *source)
{
	ep->source = source;
}

void mr_event_parser_free(struct mr_event_parser *ep)
{
	if (!ep)
		return;
	yajl_free(ep->h);
	free(ep);
}

int mr_event_parser_parse(struct mr_event_parser *ep, const char *line, size_t n, int64_t now_us,
			  struct mr_arena *a, struct mr_event *ev, struct mr_err *err)
{
	struct mr_evp *p = &ep->p;
	yajl_status st;
	int rc = 0, clean;

	mr_event_init(ev);
	if (ep->source)
		ev->source = ep->source;
	if (n > MR_EVENT_LINE_MAX)
		return mr_err_set(err, MR_EINVAL, "the line is %zu bytes; at most %d are accepted", n,
				  MR_EVENT_LINE_MAX);
	memset(p, 0, sizeof(*p));
	p->ev = ev;
	p->a = a;
	p->err = err;
	p->field = MR_EVF_NONE;
	st = yajl_parse(ep->h, (const unsigned char *)line, n);
	clean = st == yajl_status_ok && !err->code && p->depth == 0 && p->seen;
	if (err->code)
		rc = err->code; /* a callback refused a value */
	else if (st != yajl_status_ok)
		rc = mr_evp_syntax(ep->h, line, n, err);
	else if (p->depth != 0)
		rc = mr_evp_syntax_eof(line, n, err);
	else if (!p->seen)
		rc = mr_err_set(err, MR_EINVAL, "an event must be a JSON object");
	if (p->props) {
		yajl_gen_free(p->props);
		p->props = NULL;
	}
	if (!clean)
		mr_event_parser_reset(ep);
	if (rc == 0)
		rc = mr_evp_finish(p, err);
	if (rc == 0)
		rc = mr_event_check(ev, now_us, a, err);
	return rc;
}

int mr_event_parse(const char *line, size_t n, int64_t now_us, struct mr_arena *a,
		   struct mr_event *ev, struct mr_err *err)
{
	struct mr_event_parser *ep = mr_event_parser_new();
	int rc = mr_event_parser_parse(ep, line, n, now_us, a, ev, err);

	mr_event_parser_free(ep);
	return rc;
}

json_t *mr_event_json(const struct mr_event *ev)
{
	json_t *o = json_object();

	mr_json_set_str(o, "id", ev->id);
	mr_json_set_time(o, "ts", ev->ts);
	if (ev->hcp) {
		mr_json_set_str(o, "hcp", ev->hcp);
	} else if (ev->id_kind) {
		json_t *id = json_pack("{s:s, s:s}", "kind", ev->id_kind, "value", ev->id_value ? ev->id_value : "");

		if (ev->id_app && *ev->id_app)
			json_object_set_new(id, "app", json_string(ev->id_app));
		json_object_set_new(o, "identity", id);
	}
	mr_json_set_str(o, "channel", mr_channel_name(ev->channel));
	mr_json_set_str(o, "type", ev->type);
	mr_json_set_str(o, "outcome", mr_outcome_name(ev->channel, ev->outcome));
	if (ev->rep)
		mr_json_set_str(o, "rep", ev->rep);
	if (ev->content)
		mr_json_set_str(o, "content", ev->content);
	if (ev->campaign)
		mr_json_set_str(o, "campaign", ev->campaign);
	if (ev->meeting)
		mr_json_set_str(o, "meeting", ev->meeting);
	if (ev->duration_s >= 0)
		json_object_set_new(o, "duration_s", json_integer(ev->duration_s));
	if (ev->props) {
		json_t *p = json_loads(ev->props, 0, NULL);

		if (p)
			json_object_set_new(o, "props", p);
	}
	mr_json_set_str(o, "source", ev->source);
	return o;
}
