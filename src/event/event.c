/*
 * See event.h. The channel table below is the event contract of
 * ../shared/ARCHITECTURE.md; KPIs, expressions and the UI read their
 * ladders from it.
 */
#include "event/event.h"

#include <stdio.h>
#include <string.h>

#include "base/json.h"
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

static const char *const mr_event_fields[] = { "id", "ts", "hcp", "identity", "channel", "type",
					       "outcome", "rep", "content", "campaign", "meeting",
					       "duration_s", "props", "source", NULL };

/* A string field of o (or NULL when absent or null), copied into a; MR_EINVAL when not a string. */
static int mr_event_str(json_t *o, const char *key, struct mr_arena *a, const char **out,
			struct mr_err *err)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return mr_err_field(err, MR_EINVAL, key, "%s must be a string", key);
	*out = mr_arena_strndup(a, json_string_value(v), json_string_length(v));
	if (strlen(*out) != json_string_length(v))
		return mr_err_field(err, MR_EINVAL, key, "%s holds a NUL character", key);
	return 0;
}

static int mr_event_ts(json_t *o, struct mr_event *ev, struct mr_err *err)
{
	json_t *v = json_object_get(o, "ts");
	const char *s = json_string_value(v);

	if (!v || json_is_null(v))
		return mr_err_field(err, MR_EINVAL, "ts", "field 'ts' is required: when it happened, RFC 3339 with a zone");
	if (!s || !strchr(s, 'T') || mr_time_parse(s, 0, &ev->ts) < 0)
		return mr_err_field(err, MR_EINVAL, "ts",
				    "ts must be RFC 3339 with a time and a zone, e.g. 2024-03-05T09:12:00+08:00");
	return 0;
}

static int mr_event_identity(json_t *o, struct mr_event *ev, struct mr_arena *a, struct mr_err *err)
{
	static const char *const keys[] = { "kind", "value", "app", NULL };
	json_t *id = json_object_get(o, "identity");
	int rc;

	if (!id || json_is_null(id))
		return 0;
	if (!json_is_object(id))
		return mr_err_field(err, MR_EINVAL, "identity", "identity must be an object {\"kind\",\"value\"}");
	rc = mr_json_only(id, keys, err);
	if (rc < 0) {
		snprintf(err->field, sizeof(err->field), "identity");
		return rc;
	}
	rc = mr_event_str(id, "kind", a, &ev->id_kind, err);
	if (rc == 0)
		rc = mr_event_str(id, "value", a, &ev->id_value, err);
	if (rc == 0)
		rc = mr_event_str(id, "app", a, &ev->id_app, err);
	if (rc == 0 && !ev->id_kind)
		rc = mr_err_field(err, MR_EINVAL, "identity.kind", "identity.kind is required");
	if (rc < 0 && strncmp(err->field, "identity", 8) != 0) {
		char f[sizeof(err->field) + 16];

		snprintf(f, sizeof(f), "identity.%s", err->field);
		snprintf(err->field, sizeof(err->field), "%.63s", f);
	}
	return rc;
}

static int mr_event_channel(json_t *o, struct mr_event *ev, struct mr_err *err)
{
	json_t *ch = json_object_get(o, "channel"), *out = json_object_get(o, "outcome");
	const char *name = json_string_value(ch), *oname = json_string_value(out);

	if (!ch || json_is_null(ch))
		return mr_err_field(err, MR_EINVAL, "channel", "field 'channel' is required");
	ev->channel = mr_channel_parse(name);
	if (!ev->channel)
		return mr_err_field(err, MR_EINVAL, "channel",
				    "unknown channel '%.40s': use phone, wechat, wecom, meeting_online,"
				    " meeting_offline, visit, email, content or sms", name ? name : "(not a string)");
	if (!out || json_is_null(out))
		return mr_err_field(err, MR_EINVAL, "outcome", "field 'outcome' is required");
	ev->outcome = mr_outcome_parse(ev->channel, oname);
	if (ev->outcome < 0) {
		const struct mr_channel_def *d = mr_channel_def(ev->channel);
		char ladder[160];
		size_t len = 0;

		ladder[0] = '\0';
		for (int i = 0; i < mr_outcome_count(ev->channel); i++)
			len += (size_t)snprintf(ladder + len, sizeof(ladder) - len, "%s%s", i ? " < " : "",
						d->ladder[i]);
		return mr_err_field(err, MR_EINVAL, "outcome", "outcome '%.40s' is not on the %s ladder (%s)",
				    oname ? oname : "(not a string)", d->name, ladder);
	}
	return 0;
}

static int mr_event_numbers(json_t *o, struct mr_event *ev, struct mr_arena *a, struct mr_err *err)
{
	json_t *props = json_object_get(o, "props");
	int64_t d = 0;
	int present = 0;
	int rc = mr_json_int(o, "duration_s", 0, 0, 7 * 86400, &d, &present, err);

	if (rc < 0)
		return rc;
	ev->duration_s = present ? d : -1;
	if (!props || json_is_null(props))
		return 0;
	if (!json_is_object(props))
		return mr_err_field(err, MR_EINVAL, "props", "props must be an object");
	if (json_object_size(props) > 0) {
		char *text = json_dumps(props, JSON_COMPACT);

		ev->props = mr_arena_strdup(a, text);
		free(text);
	}
	return 0;
}

int mr_event_parse(const char *line, size_t n, int64_t now_us, struct mr_arena *a,
		   struct mr_event *ev, struct mr_err *err)
{
	json_t *o = NULL;
	int rc;

	mr_event_init(ev);
	if (n > MR_EVENT_LINE_MAX)
		return mr_err_set(err, MR_EINVAL, "the line is %zu bytes; at most %d are accepted", n,
				  MR_EVENT_LINE_MAX);
	rc = mr_json_parse(line, n, 8, &o, err);
	if (rc == 0 && !json_is_object(o))
		rc = mr_err_set(err, MR_EINVAL, "an event must be a JSON object");
	if (rc == 0)
		rc = mr_json_only(o, mr_event_fields, err);
	if (rc == 0)
		rc = mr_event_str(o, "id", a, &ev->id, err);
	if (rc == 0)
		rc = mr_event_ts(o, ev, err);
	if (rc == 0)
		rc = mr_event_channel(o, ev, err);
	if (rc == 0)
		rc = mr_event_str(o, "hcp", a, &ev->hcp, err);
	if (rc == 0)
		rc = mr_event_identity(o, ev, a, err);
	if (rc == 0)
		rc = mr_event_str(o, "type", a, &ev->type, err);
	if (rc == 0)
		rc = mr_event_str(o, "rep", a, &ev->rep, err);
	if (rc == 0)
		rc = mr_event_str(o, "content", a, &ev->content, err);
	if (rc == 0)
		rc = mr_event_str(o, "campaign", a, &ev->campaign, err);
	if (rc == 0)
		rc = mr_event_str(o, "meeting", a, &ev->meeting, err);
	if (rc == 0) {
		const char *src = NULL;

		rc = mr_event_str(o, "source", a, &src, err);
		if (src)
			ev->source = src;
	}
	if (rc == 0)
		rc = mr_event_numbers(o, ev, a, err);
	json_decref(o);
	if (rc == 0)
		rc = mr_event_check(ev, now_us, a, err);
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
