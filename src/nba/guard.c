/*
 * The guards and the rule and settings formats (see guard.h): tables of
 * names, JSON in and out, the window under quiet hours, and the verdict on
 * one candidate. Pure: everything it knows comes in as arguments.
 */
#include "nba/guard.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/str.h"
#include "base/time.h"

static const char *const mr_nba_actions[MR_NA_COUNT] = { NULL, "call", "wechat", "visit", "meeting_invite",
							 "send_content" };
static const char *const mr_nba_channels[MR_NC_COUNT] = { NULL, "phone", "wechat", "wecom", "email", "sms",
							  "visit" };
static const char *const mr_nba_roles[MR_NR_COUNT] = { NULL, "field", "inside", "msl" };
static const char *const mr_nba_role_words[MR_NR_COUNT] = { NULL, "field owner", "inside owner", "MSL" };
static const char *const mr_nba_blocks[MR_NB_COUNT] = {
	"ok", "holdout", "consent", "unreachable", "no_owner", "budget", "channel_cap", "repeat", "no_content",
	"content_unapproved", "content_expired", "quiet_hours", "no_window", "open_task", "rep_limit",
};
/* The task type of each action: tasks/task.h's MR_TT_CALL .. MR_TT_SEND_CONTENT share the order. */
static const int mr_nba_task_types[MR_NA_COUNT] = { 0, 1, 2, 3, 4, 5 };
/* Which channels each action may use (a bit per enum mr_nba_channel), and its default. */
#define MR_NCB(c) (1u << (c))
static const unsigned mr_nba_fits[MR_NA_COUNT] = {
	0,
	MR_NCB(MR_NC_PHONE),
	MR_NCB(MR_NC_WECHAT) | MR_NCB(MR_NC_WECOM),
	MR_NCB(MR_NC_VISIT),
	MR_NCB(MR_NC_WECHAT) | MR_NCB(MR_NC_WECOM) | MR_NCB(MR_NC_EMAIL) | MR_NCB(MR_NC_SMS) | MR_NCB(MR_NC_PHONE),
	MR_NCB(MR_NC_WECHAT) | MR_NCB(MR_NC_WECOM) | MR_NCB(MR_NC_EMAIL) | MR_NCB(MR_NC_SMS),
};
static const int mr_nba_defaults[MR_NA_COUNT] = { 0, MR_NC_PHONE, MR_NC_WECHAT, MR_NC_VISIT, MR_NC_WECHAT,
						  MR_NC_WECHAT };

static int mr_nba_find(const char *const *names, int n, const char *s)
{
	for (int i = 1; s && i < n; i++) {
		if (strcmp(names[i], s) == 0)
			return i;
	}
	return 0;
}

const char *mr_nba_action_name(int action)
{
	return action > 0 && action < MR_NA_COUNT ? mr_nba_actions[action] : NULL;
}

int mr_nba_action_parse(const char *s)
{
	return mr_nba_find(mr_nba_actions, MR_NA_COUNT, s);
}

const char *mr_nba_channel_name(int channel)
{
	return channel > 0 && channel < MR_NC_COUNT ? mr_nba_channels[channel] : NULL;
}

int mr_nba_channel_parse(const char *s)
{
	return mr_nba_find(mr_nba_channels, MR_NC_COUNT, s);
}

const char *mr_nba_role_name(int role)
{
	return role > 0 && role < MR_NR_COUNT ? mr_nba_roles[role] : NULL;
}

int mr_nba_role_parse(const char *s)
{
	return mr_nba_find(mr_nba_roles, MR_NR_COUNT, s);
}

const char *mr_nba_block_code(int block)
{
	return block >= 0 && block < MR_NB_COUNT ? mr_nba_blocks[block] : "unknown";
}

int mr_nba_task_type(int action)
{
	return action > 0 && action < MR_NA_COUNT ? mr_nba_task_types[action] : 0;
}

int mr_nba_default_channel(int action)
{
	return action > 0 && action < MR_NA_COUNT ? mr_nba_defaults[action] : 0;
}

int mr_nba_channel_fits(int action, int channel)
{
	return action > 0 && action < MR_NA_COUNT && channel > 0 && channel < MR_NC_COUNT &&
	       (mr_nba_fits[action] & MR_NCB(channel));
}

int mr_nba_rule_role(const struct mr_nba_rule *rule)
{
	if (rule->owner_role)
		return rule->owner_role;
	return rule->action == MR_NA_VISIT ? MR_NR_FIELD : MR_NR_INSIDE;
}

int mr_nba_rule_name_ok(const char *name)
{
	return mr_str_slug_ok(name, MR_NBA_NAME_MAX);
}

/* ------------------------------------------------------------ settings */

void mr_nba_settings_defaults(struct mr_nba_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->weekly_budget = 3;
	s->cap[MR_NC_PHONE] = 2;
	s->cap[MR_NC_WECHAT] = 2;
	s->cap[MR_NC_WECOM] = 2;
	s->cap[MR_NC_EMAIL] = 2;
	s->cap[MR_NC_SMS] = 1;
	s->cap[MR_NC_VISIT] = 1;
	s->quiet_from = 21;
	s->quiet_to = 8;
	s->consent_channels = MR_NCB(MR_NC_PHONE) | MR_NCB(MR_NC_WECHAT) | MR_NCB(MR_NC_WECOM) | MR_NCB(MR_NC_EMAIL) |
			      MR_NCB(MR_NC_SMS);
	s->nightly = 0;
	s->nightly_hour = 2;
	s->run_limit_per_rep = 0;
	s->k_default = 3;
	s->policy = MR_NP_RULES;
}

static const char *const mr_nba_policies[MR_NP_COUNT] = { "rules", "learned" };

const char *mr_nba_policy_name(int policy)
{
	return policy >= 0 && policy < MR_NP_COUNT ? mr_nba_policies[policy] : "rules";
}

int mr_nba_policy_parse(const char *s)
{
	for (int i = 0; s && i < MR_NP_COUNT; i++) {
		if (strcmp(s, mr_nba_policies[i]) == 0)
			return i;
	}
	return -1;
}

static int mr_nba_bool(json_t *o, const char *key, int *out, struct mr_err *err)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return mr_err_field(err, MR_EINVAL, key, "%s is true or false", key);
	*out = json_is_true(v);
	return 0;
}

static int mr_nba_int(json_t *o, const char *key, int64_t min, int64_t max, int *out, struct mr_err *err)
{
	int64_t v = 0;
	int present = 0;
	int rc = mr_json_int(o, key, 0, min, max, &v, &present, err);

	if (rc == 0 && present)
		*out = (int)v;
	return rc;
}

static int mr_nba_caps_from_json(json_t *caps, struct mr_nba_settings *s, struct mr_err *err)
{
	const char *key;
	json_t *v;

	if (!caps || json_is_null(caps))
		return 0;
	if (!json_is_object(caps))
		return mr_err_field(err, MR_EINVAL, "channel_caps", "channel_caps is an object of channel: weekly cap");
	json_object_foreach(caps, key, v) {
		int ch = mr_nba_channel_parse(key);
		char field[64];

		snprintf(field, sizeof(field), "channel_caps.%.40s", key);
		if (!ch)
			return mr_err_field(err, MR_EINVAL, field, "unknown channel '%.40s': use phone, wechat, wecom,"
					    " email, sms or visit", key);
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 100)
			return mr_err_field(err, MR_EINVAL, field, "a channel cap is a whole number 0..100 (0: none)");
		s->cap[ch] = (int)json_integer_value(v);
	}
	return 0;
}

static int mr_nba_consent_from_json(json_t *arr, struct mr_nba_settings *s, struct mr_err *err)
{
	size_t i;
	json_t *v;

	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return mr_err_field(err, MR_EINVAL, "consent_channels", "consent_channels is a list of channels");
	s->consent_channels = 0;
	json_array_foreach(arr, i, v) {
		int ch = json_is_string(v) ? mr_nba_channel_parse(json_string_value(v)) : 0;

		if (!ch)
			return mr_err_field(err, MR_EINVAL, "consent_channels", "consent_channels[%zu] is not a channel:"
					    " use phone, wechat, wecom, email, sms or visit", i);
		s->consent_channels |= MR_NCB(ch);
	}
	return 0;
}

int mr_nba_settings_from_json(json_t *body, struct mr_nba_settings *s, struct mr_err *err)
{
	static const char *const allowed[] = { "weekly_budget", "channel_caps", "quiet_hours", "consent_channels",
					       "nightly", "nightly_hour", "run_limit_per_rep", "k", "policy", NULL };
	json_t *q = json_object_get(body, "quiet_hours"), *pol = json_object_get(body, "policy");
	int rc = mr_json_only(body, allowed, err);

	if (rc == 0)
		rc = mr_nba_int(body, "weekly_budget", 0, 100, &s->weekly_budget, err);
	if (rc == 0)
		rc = mr_nba_caps_from_json(json_object_get(body, "channel_caps"), s, err);
	if (rc == 0 && q && !json_is_null(q)) {
		if (!json_is_object(q))
			return mr_err_field(err, MR_EINVAL, "quiet_hours", "quiet_hours is {\"from\": hour, \"to\": hour}");
		rc = mr_nba_int(q, "from", 0, 23, &s->quiet_from, err);
		if (rc == 0)
			rc = mr_nba_int(q, "to", 0, 23, &s->quiet_to, err);
		if (rc < 0)
			return mr_err_field(err, MR_EINVAL, "quiet_hours", "quiet hours are whole hours 0..23"
					    " (Asia/Shanghai): {\"from\": 21, \"to\": 8}");
	}
	if (rc == 0)
		rc = mr_nba_consent_from_json(json_object_get(body, "consent_channels"), s, err);
	if (rc == 0)
		rc = mr_nba_bool(body, "nightly", &s->nightly, err);
	if (rc == 0)
		rc = mr_nba_int(body, "nightly_hour", 0, 23, &s->nightly_hour, err);
	if (rc == 0)
		rc = mr_nba_int(body, "run_limit_per_rep", 0, 10000, &s->run_limit_per_rep, err);
	if (rc == 0)
		rc = mr_nba_int(body, "k", 1, MR_NBA_K_MAX, &s->k_default, err);
	if (rc == 0 && pol && !json_is_null(pol)) {
		int p = json_is_string(pol) ? mr_nba_policy_parse(json_string_value(pol)) : -1;

		if (p < 0)
			return mr_err_field(err, MR_EINVAL, "policy", "policy is \"rules\" (the rules' order) or"
					    " \"learned\" (the response models choose, by Thompson sampling)");
		s->policy = p;
	}
	return rc;
}

json_t *mr_nba_settings_json(const struct mr_nba_settings *s)
{
	json_t *caps = json_object(), *consent = json_array(), *o;

	for (int ch = 1; ch < MR_NC_COUNT; ch++) {
		json_object_set_new(caps, mr_nba_channels[ch], json_integer(s->cap[ch]));
		if (s->consent_channels & MR_NCB(ch))
			json_array_append_new(consent, json_string(mr_nba_channels[ch]));
	}
	o = json_pack("{s:i, s:o, s:{s:i, s:i, s:s}, s:o, s:b, s:i, s:i, s:i}", "weekly_budget", s->weekly_budget,
		      "channel_caps", caps, "quiet_hours", "from", s->quiet_from, "to", s->quiet_to, "zone",
		      "Asia/Shanghai", "consent_channels", consent, "nightly", s->nightly, "nightly_hour",
		      s->nightly_hour, "run_limit_per_rep", s->run_limit_per_rep, "k", s->k_default);
	json_object_set_new(o, "policy", json_string(mr_nba_policy_name(s->policy)));
	return o;
}

/* ------------------------------------------------------------ rules */

static int mr_nba_selector_from_json(json_t *o, struct mr_nba_selector *sel, struct mr_err *err)
{
	static const char *const allowed[] = { "id", "product", "topic", NULL };
	int rc, given;

	memset(sel, 0, sizeof(*sel));
	if (!o || json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return mr_err_field(err, MR_EINVAL, "action.content", "the content selector is an object: {\"id\"},"
				    " {\"product\"}, {\"topic\"} or {\"topic\": \"tag.NAME\"}");
	rc = mr_json_only(o, allowed, err);
	if (rc == 0)
		rc = mr_json_str(o, "id", 0, MR_NBA_TEXT_MAX, &sel->id, err);
	if (rc == 0)
		rc = mr_json_str(o, "product", 0, MR_NBA_TEXT_MAX, &sel->product, err);
	if (rc == 0)
		rc = mr_json_str(o, "topic", 0, MR_NBA_TEXT_MAX, &sel->topic, err);
	if (rc < 0) {
		char msg[sizeof(err->msg)];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		return mr_err_field(err, MR_EINVAL, "action.content", "%s", msg);
	}
	if (sel->topic && strncmp(sel->topic, "tag.", 4) == 0) {
		sel->topic_tag = sel->topic;
		sel->topic = NULL;
		if (strlen(sel->topic_tag) < 5)
			return mr_err_field(err, MR_EINVAL, "action.content.topic", "a tag-driven topic names the tag:"
					    " \"tag.academic_need\"");
	}
	given = !!sel->id + !!sel->product + !!sel->topic + !!sel->topic_tag;
	if (given > 1)
		return mr_err_field(err, MR_EINVAL, "action.content", "a content selector names one of id, product or"
				    " topic");
	return 0;
}

static int mr_nba_window_from_json(json_t *o, struct mr_nba_rule *rule, struct mr_err *err)
{
	json_t *wd, *hours;
	size_t i;
	json_t *v;
	int rc;

	rule->window_days = 7;
	rule->weekdays = 0x7f;
	rule->hour_from = 0;
	rule->hour_to = 24;
	if (!o || json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return mr_err_field(err, MR_EINVAL, "action.window", "the window is {\"days\", \"weekdays\", \"hours\"}");
	rc = mr_nba_int(o, "days", 1, MR_NBA_DAYS_MAX, &rule->window_days, err);
	if (rc < 0)
		return mr_err_field(err, MR_EINVAL, "action.window.days", "window.days is a whole number of days,"
				    " 1..%d", MR_NBA_DAYS_MAX);
	wd = json_object_get(o, "weekdays");
	if (wd && !json_is_null(wd)) {
		if (!json_is_array(wd) || json_array_size(wd) == 0)
			return mr_err_field(err, MR_EINVAL, "action.window.weekdays", "weekdays is a list of 1 (Monday)"
					    " .. 7 (Sunday)");
		rule->weekdays = 0;
		json_array_foreach(wd, i, v) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 7)
				return mr_err_field(err, MR_EINVAL, "action.window.weekdays", "weekdays[%zu] is not 1"
						    " (Monday) .. 7 (Sunday)", i);
			rule->weekdays |= 1u << (json_integer_value(v) - 1);
		}
	}
	hours = json_object_get(o, "hours");
	if (hours && !json_is_null(hours)) {
		json_t *a = json_array_get(hours, 0), *b = json_array_get(hours, 1);

		if (!json_is_array(hours) || json_array_size(hours) != 2 || !json_is_integer(a) ||
		    !json_is_integer(b) || json_integer_value(a) < 0 || json_integer_value(b) > 24 ||
		    json_integer_value(a) >= json_integer_value(b))
			return mr_err_field(err, MR_EINVAL, "action.window.hours", "hours is [from, to): whole hours"
					    " 0..24 (Asia/Shanghai), from before to, e.g. [9, 17]");
		rule->hour_from = (int)json_integer_value(a);
		rule->hour_to = (int)json_integer_value(b);
	}
	return 0;
}

int mr_nba_action_from_json(json_t *o, struct mr_arena *a, struct mr_nba_rule *rule, struct mr_err *err)
{
	static const char *const allowed[] = { "action", "channel", "content", "window", "repeat_days", "purpose",
					       NULL };
	const char *action = NULL, *channel = NULL, *purpose = NULL;
	int rc;

	(void)a;
	if (!o || !json_is_object(o))
		return mr_err_field(err, MR_EINVAL, "action", "action is the template {action, channel, content,"
				    " window, repeat_days}");
	rc = mr_json_only(o, allowed, err);
	if (rc < 0) {
		char msg[sizeof(err->msg)];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		return mr_err_field(err, MR_EINVAL, "action", "in action: %.200s", msg);
	}
	rc = mr_json_str(o, "action", 1, 40, &action, err);
	rule->action = rc == 0 ? mr_nba_action_parse(action) : 0;
	if (!rule->action)
		return mr_err_field(err, MR_EINVAL, "action.action", "action.action is call, wechat, visit,"
				    " meeting_invite or send_content");
	if (mr_json_str(o, "channel", 0, 40, &channel, err) < 0)
		return mr_err_field(err, MR_EINVAL, "action.channel", "action.channel is a channel name");
	rule->channel = channel ? mr_nba_channel_parse(channel) : mr_nba_default_channel(rule->action);
	if (!rule->channel)
		return mr_err_field(err, MR_EINVAL, "action.channel", "unknown channel '%.40s': use phone, wechat,"
				    " wecom, email, sms or visit", channel);
	if (!mr_nba_channel_fits(rule->action, rule->channel))
		return mr_err_field(err, MR_EINVAL, "action.channel", "a %s cannot go by %s", action,
				    mr_nba_channel_name(rule->channel));
	rc = mr_nba_selector_from_json(json_object_get(o, "content"), &rule->content, err);
	if (rc == 0 && rule->action == MR_NA_SEND_CONTENT && !rule->content.id && !rule->content.product &&
	    !rule->content.topic && !rule->content.topic_tag)
		rc = mr_err_field(err, MR_EINVAL, "action.content", "send_content needs a content selector: {\"id\"},"
				  " {\"product\"}, {\"topic\"} or {\"topic\": \"tag.NAME\"}");
	if (rc == 0)
		rc = mr_nba_window_from_json(json_object_get(o, "window"), rule, err);
	if (rc == 0 && mr_nba_int(o, "repeat_days", 0, MR_NBA_DAYS_MAX, &rule->repeat_days, err) < 0)
		rc = mr_err_field(err, MR_EINVAL, "action.repeat_days", "repeat_days is a whole number of days,"
				  " 0..%d (0: no limit)", MR_NBA_DAYS_MAX);
	if (rc == 0 && mr_json_str(o, "purpose", 0, 40, &purpose, err) < 0)
		rc = mr_err_field(err, MR_EINVAL, "action.purpose", "action.purpose is a consent purpose's name");
	rule->purpose = purpose ? mr_profile_purpose_of(purpose) : MR_PP_PROMOTIONAL;
	if (rc == 0 && rule->purpose < 0)
		rc = mr_err_field(err, MR_EINVAL, "action.purpose", "unknown purpose '%.40s': use promotional,"
				  " medical_info, meeting_invite or survey", purpose);
	return rc;
}

static int mr_nba_time_field(json_t *body, const char *key, int64_t *out, struct mr_err *err)
{
	json_t *v = json_object_get(body, key);

	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || mr_time_parse(json_string_value(v), 8 * 3600, out) < 0)
		return mr_err_field(err, MR_EINVAL, key, "%s is an RFC 3339 time or a date (2026-01-31)", key);
	return 0;
}

int mr_nba_rule_from_json(json_t *body, struct mr_arena *a, struct mr_nba_rule *rule, struct mr_err *err)
{
	static const char *const allowed[] = { "name", "description", "condition", "action", "priority",
					       "valid_from", "valid_to", "owner_role", "enabled", NULL };
	const char *role = NULL;
	int rc = mr_json_only(body, allowed, err);

	rule->priority = 3;
	rule->enabled = 1;
	if (rc == 0)
		rc = mr_json_str(body, "description", 0, MR_NBA_DESC_MAX, &rule->description, err);
	if (rc == 0)
		rc = mr_json_str(body, "condition", 1, MR_NBA_COND_MAX, &rule->condition, err);
	if (rc == 0)
		rc = mr_nba_action_from_json(json_object_get(body, "action"), a, rule, err);
	if (rc == 0 && mr_nba_int(body, "priority", 1, 5, &rule->priority, err) < 0)
		rc = mr_err_field(err, MR_EINVAL, "priority", "priority is 1 (first) .. 5");
	if (rc == 0)
		rc = mr_nba_time_field(body, "valid_from", &rule->valid_from, err);
	if (rc == 0)
		rc = mr_nba_time_field(body, "valid_to", &rule->valid_to, err);
	if (rc == 0 && rule->valid_from && rule->valid_to && rule->valid_to <= rule->valid_from)
		rc = mr_err_field(err, MR_EINVAL, "valid_to", "valid_to comes after valid_from");
	if (rc == 0)
		rc = mr_json_str(body, "owner_role", 0, 20, &role, err);
	if (rc == 0 && role) {
		rule->owner_role = mr_nba_role_parse(role);
		if (!rule->owner_role)
			rc = mr_err_field(err, MR_EINVAL, "owner_role", "owner_role is field, inside or msl");
	}
	if (rc == 0)
		rc = mr_nba_bool(body, "enabled", &rule->enabled, err);
	return rc;
}

json_t *mr_nba_action_json(const struct mr_nba_rule *rule)
{
	json_t *content = json_object(), *wd = json_array();

	if (rule->content.id)
		mr_json_set_str(content, "id", rule->content.id);
	if (rule->content.product)
		mr_json_set_str(content, "product", rule->content.product);
	if (rule->content.topic)
		mr_json_set_str(content, "topic", rule->content.topic);
	if (rule->content.topic_tag)
		mr_json_set_str(content, "topic", rule->content.topic_tag);
	for (int d = 0; d < 7; d++) {
		if (rule->weekdays & (1u << d))
			json_array_append_new(wd, json_integer(d + 1));
	}
	return json_pack("{s:s, s:s, s:o, s:{s:i, s:o, s:[i, i]}, s:i, s:s}", "action",
			 mr_nba_action_name(rule->action), "channel", mr_nba_channel_name(rule->channel), "content",
			 content, "window", "days", rule->window_days, "weekdays", wd, "hours", rule->hour_from,
			 rule->hour_to, "repeat_days", rule->repeat_days, "purpose",
			 mr_profile_purpose_name(rule->purpose) ? mr_profile_purpose_name(rule->purpose) : "promotional");
}

json_t *mr_nba_rule_json(const struct mr_nba_rule *rule)
{
	json_t *o = json_object();

	mr_json_set_str(o, "name", rule->name);
	mr_json_set_str(o, "description", rule->description);
	mr_json_set_str(o, "condition", rule->condition);
	json_object_set_new(o, "action", mr_nba_action_json(rule));
	json_object_set_new(o, "priority", json_integer(rule->priority));
	mr_json_set_time(o, "valid_from", rule->valid_from);
	mr_json_set_time(o, "valid_to", rule->valid_to);
	mr_json_set_str(o, "owner_role", mr_nba_role_name(mr_nba_rule_role(rule)));
	json_object_set_new(o, "enabled", json_boolean(rule->enabled));
	mr_json_set_str(o, "created_by", rule->created_by);
	mr_json_set_time(o, "created_at", rule->created_at);
	mr_json_set_str(o, "updated_by", rule->updated_by);
	mr_json_set_time(o, "updated_at", rule->updated_at);
	return o;
}

int mr_nba_rule_live(const struct mr_nba_rule *rule, int64_t as_of)
{
	return rule->enabled && (!rule->valid_from || as_of >= rule->valid_from) &&
	       (!rule->valid_to || as_of < rule->valid_to);
}

double mr_nba_score(const struct mr_nba_rule *rule)
{
	return (double)(6 - rule->priority) / 5.0;
}

/* ------------------------------------------------------------ window */

/* The local (Asia/Shanghai) hour and weekday (0 Monday) of t. */
static void mr_nba_local(int64_t t, int *hour, int *wday)
{
	int64_t local = t + 8 * MR_NBA_HOUR_US;
	int64_t days = local >= 0 ? local / MR_NBA_DAY_US : (local - MR_NBA_DAY_US + 1) / MR_NBA_DAY_US;
	int64_t in_day = local - days * MR_NBA_DAY_US;

	*hour = (int)(in_day / MR_NBA_HOUR_US);
	*wday = (int)(((days + 3) % 7 + 7) % 7);
}

/* t as "2026-03-05 08:00" in Asia/Shanghai, for reasons people read. */
static void mr_nba_local_text(int64_t t, char *buf, size_t n)
{
	char utc[40];

	mr_time_format(t + 8 * MR_NBA_HOUR_US, utc, sizeof(utc));
	snprintf(buf, n, "%.10s %.5s", utc, utc + 11);
}

static int mr_nba_quiet(const struct mr_nba_settings *s, int hour)
{
	if (!s || s->quiet_from == s->quiet_to)
		return 0;
	if (s->quiet_from < s->quiet_to)
		return hour >= s->quiet_from && hour < s->quiet_to;
	return hour >= s->quiet_from || hour < s->quiet_to;
}

/* 1 when the hour holding t is allowed by the rule's weekdays and band, and (with s) outside quiet hours. */
static int mr_nba_allowed(const struct mr_nba_rule *rule, const struct mr_nba_settings *s, int64_t t)
{
	int hour, wday;

	mr_nba_local(t, &hour, &wday);
	return (rule->weekdays & (1u << wday)) && hour >= rule->hour_from && hour < rule->hour_to &&
	       !mr_nba_quiet(s, hour);
}

/* The first and last allowed moments in [as_of, limit); 0 when there are none. */
static int mr_nba_span(const struct mr_nba_rule *rule, const struct mr_nba_settings *s, int64_t as_of,
		       int64_t limit, int64_t *start, int64_t *end)
{
	/* the hour boundaries (every allowed stretch begins and ends on one; the zone has no DST) */
	int64_t first_hour = as_of - (((as_of % MR_NBA_HOUR_US) + MR_NBA_HOUR_US) % MR_NBA_HOUR_US);
	int found = 0;

	for (int64_t h = first_hour; h < limit; h += MR_NBA_HOUR_US) {
		if (!mr_nba_allowed(rule, s, h))
			continue;
		if (!found)
			*start = h < as_of ? as_of : h;
		found = 1;
		*end = h + MR_NBA_HOUR_US < limit ? h + MR_NBA_HOUR_US : limit;
	}
	return found;
}

int mr_nba_window(const struct mr_nba_rule *rule, const struct mr_nba_settings *s, int64_t as_of, int64_t *start,
		  int64_t *end, int *moved)
{
	int64_t limit = as_of + (int64_t)(rule->window_days > 0 ? rule->window_days : 7) * MR_NBA_DAY_US;
	int64_t s0 = 0, e0 = 0;

	*moved = 0;
	if (!mr_nba_span(rule, NULL, as_of, limit, &s0, &e0))
		return MR_NB_NO_WINDOW;
	if (!mr_nba_span(rule, s, as_of, limit, start, end))
		return MR_NB_QUIET_HOURS;
	*moved = *start > s0;
	return MR_NB_OK;
}

int mr_nba_slot_window(const struct mr_nba_rule *rule, const struct mr_nba_settings *s, int64_t from, int64_t to,
		       int (*slot_of)(int64_t ts), int slot, int64_t *start, int64_t *end)
{
	int64_t first_hour = from - (((from % MR_NBA_HOUR_US) + MR_NBA_HOUR_US) % MR_NBA_HOUR_US);
	int found = 0;

	for (int64_t h = first_hour; h < to; h += MR_NBA_HOUR_US) {
		int in = mr_nba_allowed(rule, s, h) && slot_of(h) == slot;

		if (!in && found)
			break;
		if (!in)
			continue;
		if (!found)
			*start = h < from ? from : h;
		found = 1;
		*end = h + MR_NBA_HOUR_US < to ? h + MR_NBA_HOUR_US : to;
	}
	return found;
}

/* ------------------------------------------------------------ the guards */

static int mr_nba_block(struct mr_nba_verdict *v, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int mr_nba_block(struct mr_nba_verdict *v, int code, const char *fmt, ...)
{
	va_list ap;

	v->block = code;
	if (v->terse)
		return code;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
	return code;
}

static int mr_nba_usable(const struct mr_nba_content *c, int64_t as_of)
{
	return strcmp(c->status, "approved") == 0 && (!c->expires_at || c->expires_at > as_of);
}

static int mr_nba_expired(const struct mr_nba_content *c, int64_t as_of)
{
	return strcmp(c->status, "expired") == 0 || (c->expires_at && c->expires_at <= as_of);
}

/* The content of rule's selector for a doctor: its verdict's content and topic, or a block. */
static int mr_nba_pick_content(const struct mr_nba_rule *rule, const struct mr_nba_catalog *cat, int64_t as_of,
			       const char *tag_topic, struct mr_nba_verdict *v)
{
	const struct mr_nba_selector *sel = &rule->content;
	const char *topic = sel->topic;
	const struct mr_nba_content *expired = NULL, *unapproved = NULL;
	const char *what;

	if (sel->topic_tag) {
		if (!tag_topic)
			return mr_nba_block(v, MR_NB_NO_CONTENT, "the doctor has no value of %s, which chooses the topic",
					    sel->topic_tag);
		topic = tag_topic;
	}
	if (!sel->id && !sel->product && !topic)
		return MR_NB_OK;
	for (int i = 0; i < cat->n; i++) {
		const struct mr_nba_content *c = &cat->items[i];
		int match = sel->id ? strcmp(c->id, sel->id) == 0
				    : sel->product ? c->product && strcmp(c->product, sel->product) == 0
						   : c->topic && strcmp(c->topic, topic) == 0;

		if (!match)
			continue;
		if (mr_nba_usable(c, as_of)) {
			v->content = c->id;
			v->topic = c->topic;
			return MR_NB_OK;
		}
		if (mr_nba_expired(c, as_of))
			expired = expired ? expired : c;
		else
			unapproved = unapproved ? unapproved : c;
	}
	what = sel->id ? "content" : sel->product ? "product" : "topic";
	if (sel->id && expired)
		return mr_nba_block(v, MR_NB_CONTENT_EXPIRED, "content %s has expired", sel->id);
	if (sel->id && unapproved)
		return mr_nba_block(v, MR_NB_CONTENT_UNAPPROVED, "content %s is %s, not approved", sel->id,
				    unapproved->status);
	if (expired)
		return mr_nba_block(v, MR_NB_CONTENT_EXPIRED, "the approved content of %s %s has expired (%s)", what,
				    sel->product ? sel->product : topic, expired->id);
	if (unapproved)
		return mr_nba_block(v, MR_NB_CONTENT_UNAPPROVED, "no content of %s %s is approved (%s is %s)", what,
				    sel->product ? sel->product : topic, unapproved->id, unapproved->status);
	return mr_nba_block(v, MR_NB_NO_CONTENT, "there is no content of %s %s", what,
			    sel->id ? sel->id : sel->product ? sel->product : topic);
}

static int mr_nba_check_budget(const struct mr_nba_rule *rule, const struct mr_nba_settings *s,
			       const struct mr_nba_facts *f, struct mr_nba_verdict *v)
{
	int used = f->contacts_7d + f->open_tasks + f->planned;
	int ch = rule->channel;
	int ch_used = f->channel_7d[ch] + f->open_by_channel[ch] + f->planned_by_channel[ch];

	if (used >= s->weekly_budget)
		return mr_nba_block(v, MR_NB_BUDGET, "the weekly contact budget is used up: %d of %d (%d contacts in"
				    " the last 7 days, %d open tasks, %d suggested now)", used, s->weekly_budget,
				    f->contacts_7d, f->open_tasks, f->planned);
	if (s->cap[ch] > 0 && ch_used >= s->cap[ch])
		return mr_nba_block(v, MR_NB_CHANNEL_CAP, "the %s cap is reached: %d of %d a week (%d contacts, %d"
				    " open tasks, %d suggested now)", mr_nba_channel_name(ch), ch_used, s->cap[ch],
				    f->channel_7d[ch], f->open_by_channel[ch], f->planned_by_channel[ch]);
	return MR_NB_OK;
}

static int mr_nba_check_repeat(const struct mr_nba_rule *rule, const struct mr_nba_facts *f, mr_nba_last_fn last,
			       void *last_arg, struct mr_nba_verdict *v)
{
	int64_t at = rule->repeat_days > 0 && last ? last(last_arg, rule->name) : 0;
	char when[40];

	if (!at || f->as_of - at >= (int64_t)rule->repeat_days * MR_NBA_DAY_US)
		return MR_NB_OK;
	mr_nba_local_text(at, when, sizeof(when));
	return mr_nba_block(v, MR_NB_REPEAT, "rule %s already made a task for this doctor on %s: not again within"
			    " %d days", rule->name, when, rule->repeat_days);
}

/* The rule's consent purpose, promotional when out of range. */
static int mr_nba_rule_purpose(const struct mr_nba_rule *rule)
{
	return rule->purpose > 0 && rule->purpose < MR_PP_COUNT ? rule->purpose : MR_PP_PROMOTIONAL;
}

static int mr_nba_check_reach(const struct mr_nba_rule *rule, const struct mr_nba_settings *s,
			      const struct mr_nba_facts *f, struct mr_nba_verdict *v)
{
	int ch = rule->channel;

	if ((s->consent_channels & MR_NCB(ch)) && !(f->consents[mr_nba_rule_purpose(rule)] & MR_NCB(ch)))
		return mr_nba_block(v, MR_NB_CONSENT, "the doctor has not opted in to %s for %s", mr_nba_channel_name(ch),
				    mr_profile_purpose_name(mr_nba_rule_purpose(rule)));
	if ((ch == MR_NC_WECHAT || ch == MR_NC_WECOM) && !(f->identities & MR_NCB(ch)))
		return mr_nba_block(v, MR_NB_UNREACHABLE, "the doctor cannot be reached on %s: no %s identity is"
				    " known", mr_nba_channel_name(ch), ch == MR_NC_WECHAT ? "WeChat" : "WeCom");
	v->role = mr_nba_rule_role(rule);
	v->assignee = f->owner[v->role];
	if (!v->assignee)
		return mr_nba_block(v, MR_NB_NO_OWNER, "no %s is aligned to the doctor to %s", mr_nba_role_words[v->role],
				    rule->action == MR_NA_VISIT ? "visit" : "make the contact");
	return MR_NB_OK;
}

void mr_nba_window_of(const struct mr_nba_rule *rule, const struct mr_nba_settings *s,
		      const struct mr_nba_catalog *cat, int64_t as_of, struct mr_nba_win *w)
{
	memset(w, 0, sizeof(*w));
	w->block = mr_nba_window(rule, s, as_of, &w->start, &w->end, &w->moved);
	w->content_known = !rule->content.topic_tag;
	if (w->content_known)
		mr_nba_pick_content(rule, cat, as_of, NULL, &w->content);
}

void mr_nba_guard(const struct mr_nba_rule *rule, const struct mr_nba_settings *s, const struct mr_nba_facts *f,
		  const struct mr_nba_catalog *cat, const char *tag_topic, mr_nba_last_fn last, void *last_arg,
		  struct mr_nba_verdict *v)
{
	mr_nba_guard_win(rule, s, f, cat, tag_topic, last, last_arg, NULL, v);
}

void mr_nba_guard_win(const struct mr_nba_rule *rule, const struct mr_nba_settings *s,
		      const struct mr_nba_facts *f, const struct mr_nba_catalog *cat, const char *tag_topic,
		      mr_nba_last_fn last, void *last_arg, const struct mr_nba_win *win, struct mr_nba_verdict *v)
{
	int rc;

	memset(v, 0, sizeof(*v));
	v->terse = f->terse;
	v->score = mr_nba_score(rule);
	if (f->holdout) {
		mr_nba_block(v, MR_NB_HOLDOUT, "the doctor is in the holdout arm of experiment %s: no suggestions",
			     f->holdout);
		return;
	}
	if (mr_nba_check_reach(rule, s, f, v) != MR_NB_OK)
		return;
	if (win && win->content_known) {
		v->content = win->content.content;
		v->topic = win->content.topic;
		if (win->content.block != MR_NB_OK) {
			v->block = win->content.block;
			memcpy(v->reason, win->content.reason, sizeof(v->reason));
			return;
		}
	} else if (mr_nba_pick_content(rule, cat, f->as_of, tag_topic, v) != MR_NB_OK) {
		return;
	}
	if (mr_nba_check_repeat(rule, f, last, last_arg, v) != MR_NB_OK)
		return;
	if (win) {
		rc = win->block;
		v->start = win->start;
		v->end = win->end;
		v->moved = win->moved;
	} else {
		rc = mr_nba_window(rule, s, f->as_of, &v->start, &v->end, &v->moved);
	}
	if (rc == MR_NB_QUIET_HOURS) {
		mr_nba_block(v, rc, "every moment of the rule's window (%d days, hours %d–%d) falls in quiet hours"
			     " (%02d:00–%02d:00 Asia/Shanghai)", rule->window_days, rule->hour_from, rule->hour_to,
			     s->quiet_from, s->quiet_to);
		return;
	}
	if (rc == MR_NB_NO_WINDOW) {
		mr_nba_block(v, rc, "the rule's weekdays and hours (%d–%d) leave no moment within %d days",
			     rule->hour_from, rule->hour_to, rule->window_days);
		return;
	}
	mr_nba_check_budget(rule, s, f, v);
}

void mr_nba_plan(struct mr_nba_facts *f, const struct mr_nba_rule *rule)
{
	f->planned++;
	f->planned_by_channel[rule->channel]++;
}

void mr_nba_reasons(const struct mr_nba_rule *rule, const struct mr_nba_verdict *v, const struct mr_nba_settings *s,
		    json_t *arr)
{
	char buf[400];

	snprintf(buf, sizeof(buf), "rule %s: %s", rule->name, rule->description ? rule->description : rule->condition);
	json_array_append_new(arr, mr_json_string_safe(buf));
	if (v->content) {
		snprintf(buf, sizeof(buf), "content %s%s%s: approved and not expired", v->content,
			 v->topic ? " on " : "", v->topic ? v->topic : "");
		json_array_append_new(arr, mr_json_string_safe(buf));
	}
	if (v->moved) {
		char when[40];

		mr_nba_local_text(v->start, when, sizeof(when));
		snprintf(buf, sizeof(buf), "the window starts at %s Asia/Shanghai, moved out of quiet hours"
			 " (%02d:00–%02d:00)", when, s->quiet_from, s->quiet_to);
		json_array_append_new(arr, json_string(buf));
	}
	snprintf(buf, sizeof(buf), "goes to the doctor's %s", mr_nba_role_words[v->role]);
	json_array_append_new(arr, json_string(buf));
}
