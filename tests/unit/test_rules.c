/*
 * Unit tests of src/nba's guards (nba/guard.h): each guard blocks with its
 * code and a reason in words — consent, the weekly budget, a channel cap,
 * unapproved content, expired content, quiet hours moving and blocking the
 * window, repeat frequency, no owner for the role, no WeChat identity,
 * holdout — and a doctor who passes them all gets the window, content,
 * owner and score worked out by hand below. Then the rule and settings
 * formats (every bad input names its field) and their rows on both
 * backends.
 *
 * The clock: Wednesday 2026-03-04 10:00 Asia/Shanghai (02:00Z).
 */
#include "unit.h"

#include <jansson.h>

#include "base/arena.h"
#include "base/time.h"
#include "nba/guard.h"
#include "nba/rules.h"
#include "models/models.h"

#define HOUR MR_NBA_HOUR_US
#define DAY MR_NBA_DAY_US

static int64_t at(const char *s)
{
	int64_t us = 0;

	assert_int_equal(mr_time_parse(s, 8 * 3600, &us), 0);
	return us;
}

static const struct mr_nba_content catalog_items[] = {
	{ "C1", "guidelines", "GLU", "approved", 0 },
	{ "C2", "guidelines", "GLU", "draft", 0 },
	{ "C3", "safety", "CARD", "approved", 1 }, /* expires_at set in setup: before the clock */
	{ "C4", "patient_data", "GLU", "in_review", 0 },
};

struct world {
	struct mr_nba_rule rule;
	struct mr_nba_settings s;
	struct mr_nba_facts f;
	struct mr_nba_content items[4];
	struct mr_nba_catalog cat;
	int64_t last;                /* the rule's last task for the doctor */
};

static int64_t last_fn(void *arg, const char *rule)
{
	struct world *w = arg;

	assert_string_equal(rule, "wx");
	return w->last;
}

/* A doctor who passes every guard of a wechat send_content rule with content C1. */
static void setup_world(struct world *w)
{
	memset(w, 0, sizeof(*w));
	w->rule.name = "wx";
	w->rule.condition = "true";
	w->rule.description = "推送指南";
	w->rule.action = MR_NA_SEND_CONTENT;
	w->rule.channel = MR_NC_WECHAT;
	w->rule.content.id = "C1";
	w->rule.window_days = 7;
	w->rule.weekdays = 0x7f;
	w->rule.hour_from = 0;
	w->rule.hour_to = 24;
	w->rule.priority = 2;
	w->rule.enabled = 1;
	mr_nba_settings_defaults(&w->s);
	w->f.as_of = at("2026-03-04T10:00:00+08:00");
	w->f.consents[MR_PP_PROMOTIONAL] = (1u << MR_NC_WECHAT) | (1u << MR_NC_PHONE);
	w->f.identities = 1u << MR_NC_WECHAT;
	w->f.owner[MR_NR_FIELD] = 11;
	w->f.owner[MR_NR_INSIDE] = 22;
	memcpy(w->items, catalog_items, sizeof(w->items));
	w->items[2].expires_at = w->f.as_of - DAY;
	w->cat.items = w->items;
	w->cat.n = 4;
}

static void judge(struct world *w, const char *tag_topic, struct mr_nba_verdict *v)
{
	mr_nba_guard(&w->rule, &w->s, &w->f, &w->cat, tag_topic, last_fn, w, v);
}

static void expect_block(struct world *w, int code, const char *words)
{
	struct mr_nba_verdict v;

	judge(w, NULL, &v);
	assert_string_equal(mr_nba_block_code(v.block), mr_nba_block_code(code));
	if (!strstr(v.reason, words))
		fail_msg("reason '%s' does not say '%s'", v.reason, words);
}

static void test_passes(void **state)
{
	struct world w;
	struct mr_nba_verdict v;

	(void)state;
	setup_world(&w);
	judge(&w, NULL, &v);
	assert_int_equal(v.block, MR_NB_OK);
	assert_string_equal(v.content, "C1");
	assert_string_equal(v.topic, "guidelines");
	/* priority 2: (6 - 2) / 5 */
	assert_true(v.score > 0.79 && v.score < 0.81);
	assert_int_equal(v.role, MR_NR_INSIDE);
	assert_int_equal(v.assignee, 22);
	/* 10:00 is outside quiet hours (21–8): the window starts at once and ends 7 days later, also at 10:00 */
	assert_int_equal(v.start, w.f.as_of);
	assert_int_equal(v.end, at("2026-03-11T10:00:00+08:00")); /* as_of + 7 days */
	assert_int_equal(v.moved, 0);
	/* a visit goes to the field owner */
	w.rule.action = MR_NA_VISIT;
	w.rule.channel = MR_NC_VISIT;
	w.rule.content.id = NULL;
	judge(&w, NULL, &v);
	assert_int_equal(v.block, MR_NB_OK);
	assert_int_equal(v.assignee, 11);
	assert_null(v.content);
}

static void test_consent(void **state)
{
	struct world w;

	(void)state;
	setup_world(&w);
	w.f.consents[MR_PP_PROMOTIONAL] = 1u << MR_NC_PHONE;
	expect_block(&w, MR_NB_CONSENT, "not opted in to wechat for promotional");
	/* consent is per purpose: an opt-in for medical information does not cover a promotional message */
	w.f.consents[MR_PP_MEDICAL_INFO] = 1u << MR_NC_WECHAT;
	expect_block(&w, MR_NB_CONSENT, "not opted in to wechat for promotional");
	/* a rule for medical information is covered by it */
	w.rule.purpose = MR_PP_MEDICAL_INFO;
	struct mr_nba_verdict v;
	judge(&w, NULL, &v);
	assert_int_equal(v.block, MR_NB_OK);
	/* and not by a survey opt-in */
	w.rule.purpose = MR_PP_SURVEY;
	expect_block(&w, MR_NB_CONSENT, "not opted in to wechat for survey");
	w.rule.purpose = MR_PP_PROMOTIONAL;
	/* a channel the policy does not ask consent for passes without it */
	w.s.consent_channels &= ~(1u << MR_NC_WECHAT);
	judge(&w, NULL, &v);
	assert_int_equal(v.block, MR_NB_OK);
}

static void test_budget_and_cap(void **state)
{
	struct world w;
	struct mr_nba_verdict v;

	(void)state;
	setup_world(&w);
	/* budget 3: 2 contacts + 1 open task use it up */
	w.f.contacts_7d = 2;
	w.f.channel_7d[MR_NC_PHONE] = 2;
	w.f.open_tasks = 1;
	w.f.open_by_channel[MR_NC_VISIT] = 1;
	expect_block(&w, MR_NB_BUDGET, "3 of 3");
	/* with room in the budget, the wechat cap (2) still holds: one message and one planned */
	w.f.open_tasks = 0;
	w.f.open_by_channel[MR_NC_VISIT] = 0;
	w.f.contacts_7d = 1;
	w.f.channel_7d[MR_NC_PHONE] = 0;
	w.f.channel_7d[MR_NC_WECHAT] = 1;
	judge(&w, NULL, &v);
	assert_int_equal(v.block, MR_NB_OK);
	mr_nba_plan(&w.f, &w.rule); /* accepted: the next wechat candidate counts it */
	w.s.weekly_budget = 10;
	expect_block(&w, MR_NB_CHANNEL_CAP, "wechat cap is reached: 2 of 2");
	/* a cap of 0 is no cap */
	w.s.cap[MR_NC_WECHAT] = 0;
	judge(&w, NULL, &v);
	assert_int_equal(v.block, MR_NB_OK);
	/* the planned suggestions count against the budget too */
	w.s.weekly_budget = 2;
	expect_block(&w, MR_NB_BUDGET, "1 suggested now");
}

static void test_content(void **state)
{
	struct world w;
	struct mr_nba_verdict v;

	(void)state;
	setup_world(&w);
	w.rule.content.id = "C2";
	expect_block(&w, MR_NB_CONTENT_UNAPPROVED, "C2 is draft");
	w.rule.content.id = "C3";
	expect_block(&w, MR_NB_CONTENT_EXPIRED, "C3 has expired");
	w.rule.content.id = "C9";
	expect_block(&w, MR_NB_NO_CONTENT, "C9");
	/* by product: the first approved, unexpired item */
	w.rule.content.id = NULL;
	w.rule.content.product = "GLU";
	judge(&w, NULL, &v);
	assert_int_equal(v.block, MR_NB_OK);
	assert_string_equal(v.content, "C1");
	w.rule.content.product = "CARD";
	expect_block(&w, MR_NB_CONTENT_EXPIRED, "C3");
	/* by topic: patient_data has only an item in review */
	w.rule.content.product = NULL;
	w.rule.content.topic = "patient_data";
	expect_block(&w, MR_NB_CONTENT_UNAPPROVED, "C4 is in_review");
	/* tag-driven: the doctor's value of the tag chooses the topic */
	w.rule.content.topic = NULL;
	w.rule.content.topic_tag = "tag.academic_need";
	judge(&w, "guidelines", &v);
	assert_int_equal(v.block, MR_NB_OK);
	assert_string_equal(v.content, "C1");
	judge(&w, NULL, &v);
	assert_int_equal(v.block, MR_NB_NO_CONTENT);
	assert_non_null(strstr(v.reason, "tag.academic_need"));
	/* an item that expires one microsecond after as_of is still usable */
	w.rule.content.topic_tag = NULL;
	w.rule.content.id = "C1";
	w.items[0].expires_at = w.f.as_of + 1;
	judge(&w, NULL, &v);
	assert_int_equal(v.block, MR_NB_OK);
	w.items[0].expires_at = w.f.as_of;
	expect_block(&w, MR_NB_CONTENT_EXPIRED, "C1 has expired");
}

static void test_quiet_hours(void **state)
{
	struct world w;
	struct mr_nba_verdict v;

	(void)state;
	setup_world(&w);
	/* asked at 23:30: the window moves to 08:00 the next day */
	w.f.as_of = at("2026-03-04T23:30:00+08:00");
	judge(&w, NULL, &v);
	assert_int_equal(v.block, MR_NB_OK);
	assert_int_equal(v.start, at("2026-03-05T08:00:00+08:00"));
	assert_int_equal(v.moved, 1);
	/* the limit is 7 days after 23:30, i.e. 03-11 23:30: the last allowed moment is 21:00 that day */
	assert_int_equal(v.end, at("2026-03-11T21:00:00+08:00"));
	/* the run works a rule's window out once for every doctor: the same verdict */
	{
		struct mr_nba_win win;
		struct mr_nba_verdict v2;

		mr_nba_window_of(&w.rule, &w.s, &w.cat, w.f.as_of, &win);
		mr_nba_guard_win(&w.rule, &w.s, &w.f, &w.cat, NULL, last_fn, &w, &win, &v2);
		assert_int_equal(v2.block, MR_NB_OK);
		assert_int_equal(v2.start, v.start);
		assert_int_equal(v2.end, v.end);
		assert_int_equal(v2.moved, 1);
		assert_string_equal(v2.content, "C1");
		/* and the content's block, the same for every doctor, with its reason; terse: the code alone */
		w.rule.content.id = "C2";
		mr_nba_window_of(&w.rule, &w.s, &w.cat, w.f.as_of, &win);
		mr_nba_guard_win(&w.rule, &w.s, &w.f, &w.cat, NULL, last_fn, &w, &win, &v2);
		assert_int_equal(v2.block, MR_NB_CONTENT_UNAPPROVED);
		assert_non_null(strstr(v2.reason, "C2 is draft"));
		w.f.terse = 1;
		w.f.consents[MR_PP_PROMOTIONAL] = 0;
		mr_nba_guard_win(&w.rule, &w.s, &w.f, &w.cat, NULL, last_fn, &w, &win, &v2);
		assert_int_equal(v2.block, MR_NB_CONSENT);
		assert_string_equal(v2.reason, "");
		w.f.terse = 0;
		w.f.consents[MR_PP_PROMOTIONAL] = (1u << MR_NC_WECHAT) | (1u << MR_NC_PHONE);
		w.rule.content.id = "C1";
	}
	/* a band of 22–24 lies wholly in quiet hours: blocked */
	w.rule.hour_from = 22;
	w.rule.hour_to = 24;
	expect_block(&w, MR_NB_QUIET_HOURS, "quiet hours");
	/* a band 7–9 keeps 8–9: asked at 10:00 on Wednesday, the window is Thursday 08:00 .. next Wednesday 09:00 */
	w.f.as_of = at("2026-03-04T10:00:00+08:00");
	w.rule.hour_from = 7;
	w.rule.hour_to = 9;
	judge(&w, NULL, &v);
	assert_int_equal(v.block, MR_NB_OK);
	assert_int_equal(v.start, at("2026-03-05T08:00:00+08:00"));
	assert_int_equal(v.end, at("2026-03-11T09:00:00+08:00"));
	assert_int_equal(v.moved, 1); /* without quiet hours it would start at 07:00 */
	/* weekdays: Saturday only, within 2 days of Wednesday: no moment at all */
	w.rule.hour_from = 9;
	w.rule.hour_to = 17;
	w.rule.weekdays = 1u << 5;
	w.rule.window_days = 2;
	expect_block(&w, MR_NB_NO_WINDOW, "no moment");
	/* within 4 days it is Saturday 09:00–17:00 */
	w.rule.window_days = 4;
	judge(&w, NULL, &v);
	assert_int_equal(v.block, MR_NB_OK);
	assert_int_equal(v.start, at("2026-03-07T09:00:00+08:00"));
	assert_int_equal(v.end, at("2026-03-07T17:00:00+08:00"));
	assert_int_equal(v.moved, 0);
	/* no quiet hours at all: from equals to */
	w.rule.weekdays = 0x7f;
	w.rule.hour_from = 22;
	w.rule.hour_to = 24;
	w.s.quiet_from = w.s.quiet_to = 0;
	judge(&w, NULL, &v);
	assert_int_equal(v.block, MR_NB_OK);
	assert_int_equal(v.start, at("2026-03-04T22:00:00+08:00"));
}

static void test_repeat(void **state)
{
	struct world w;
	struct mr_nba_verdict v;

	(void)state;
	setup_world(&w);
	w.rule.repeat_days = 14;
	w.last = w.f.as_of - 13 * DAY;
	expect_block(&w, MR_NB_REPEAT, "on 2026-02-19 10:00: not again within 14 days"); /* Shanghai time */
	w.last = w.f.as_of - 14 * DAY; /* exactly 14 days ago: allowed again */
	judge(&w, NULL, &v);
	assert_int_equal(v.block, MR_NB_OK);
	w.last = w.f.as_of - DAY;
	w.rule.repeat_days = 0; /* no limit */
	judge(&w, NULL, &v);
	assert_int_equal(v.block, MR_NB_OK);
}

static void test_reach(void **state)
{
	struct world w;

	(void)state;
	setup_world(&w);
	w.f.owner[MR_NR_INSIDE] = 0;
	expect_block(&w, MR_NB_NO_OWNER, "no inside owner");
	setup_world(&w);
	w.rule.owner_role = MR_NR_MSL;
	expect_block(&w, MR_NB_NO_OWNER, "no MSL");
	setup_world(&w);
	w.f.identities = 0;
	expect_block(&w, MR_NB_UNREACHABLE, "no WeChat identity");
	setup_world(&w);
	w.rule.channel = MR_NC_WECOM;
	w.f.consents[MR_PP_PROMOTIONAL] |= 1u << MR_NC_WECOM;
	expect_block(&w, MR_NB_UNREACHABLE, "no WeCom identity");
}

static void test_holdout(void **state)
{
	struct world w;

	(void)state;
	setup_world(&w);
	w.f.holdout = "q1-uplift";
	expect_block(&w, MR_NB_HOLDOUT, "holdout arm of experiment q1-uplift");
}

static void test_tables(void **state)
{
	struct mr_nba_rule r;

	(void)state;
	for (int a = 1; a < MR_NA_COUNT; a++) {
		assert_int_equal(mr_nba_action_parse(mr_nba_action_name(a)), a);
		assert_true(mr_nba_channel_fits(a, mr_nba_default_channel(a)));
	}
	for (int c = 1; c < MR_NC_COUNT; c++)
		assert_int_equal(mr_nba_channel_parse(mr_nba_channel_name(c)), c);
	assert_false(mr_nba_channel_fits(MR_NA_VISIT, MR_NC_WECHAT));
	assert_false(mr_nba_channel_fits(MR_NA_CALL, MR_NC_EMAIL));
	assert_true(mr_nba_rule_name_ok("q1-wechat_push"));
	assert_false(mr_nba_rule_name_ok("-x"));
	assert_false(mr_nba_rule_name_ok("Big"));
	memset(&r, 0, sizeof(r));
	for (int p = 1; p <= 5; p++) {
		r.priority = p;
		assert_true(mr_nba_score(&r) > (5.0 - p) / 5.0 + 0.19 && mr_nba_score(&r) < (6.0 - p) / 5.0 + 0.01);
	}
	/* validity */
	r.enabled = 1;
	r.valid_from = 100;
	r.valid_to = 200;
	assert_false(mr_nba_rule_live(&r, 99));
	assert_true(mr_nba_rule_live(&r, 100));
	assert_false(mr_nba_rule_live(&r, 200));
	r.enabled = 0;
	assert_false(mr_nba_rule_live(&r, 150));
}

/* field of the error a body gives (it must fail). */
static void bad_rule(const char *json, const char *field)
{
	struct mr_nba_rule r;
	struct mr_arena a;
	struct mr_err err;
	json_t *body = json_loads(json, 0, NULL);

	assert_non_null(body);
	memset(&r, 0, sizeof(r));
	mr_arena_init(&a);
	mr_err_clear(&err);
	if (mr_nba_rule_from_json(body, &a, &r, &err) != MR_EINVAL)
		fail_msg("accepted %s", json);
	if (strcmp(err.field, field) != 0)
		fail_msg("%s: field '%s', not '%s' (%s)", json, err.field, field, err.msg);
	json_decref(body);
	mr_arena_release(&a);
}

static void test_formats(void **state)
{
	struct mr_nba_rule r;
	struct mr_nba_settings s;
	struct mr_arena a;
	struct mr_err err;
	json_t *body, *back;

	(void)state;
	bad_rule("{\"action\":{\"action\":\"call\"}}", "condition");
	bad_rule("{\"condition\":\"true\"}", "action");
	bad_rule("{\"condition\":\"true\",\"action\":{\"action\":\"fax\"}}", "action.action");
	bad_rule("{\"condition\":\"true\",\"action\":{\"action\":\"call\",\"channel\":\"wechat\"}}", "action.channel");
	bad_rule("{\"condition\":\"true\",\"action\":{\"action\":\"call\",\"channel\":\"pigeon\"}}", "action.channel");
	bad_rule("{\"condition\":\"true\",\"action\":{\"action\":\"send_content\"}}", "action.content");
	bad_rule("{\"condition\":\"true\",\"action\":{\"action\":\"send_content\",\"content\":{\"id\":\"C1\","
		 "\"topic\":\"x\"}}}", "action.content");
	bad_rule("{\"condition\":\"true\",\"action\":{\"action\":\"call\",\"window\":{\"days\":0}}}", "action.window.days");
	bad_rule("{\"condition\":\"true\",\"action\":{\"action\":\"call\",\"window\":{\"weekdays\":[8]}}}",
		 "action.window.weekdays");
	bad_rule("{\"condition\":\"true\",\"action\":{\"action\":\"call\",\"window\":{\"hours\":[9,9]}}}",
		 "action.window.hours");
	bad_rule("{\"condition\":\"true\",\"action\":{\"action\":\"call\",\"repeat_days\":-1}}", "action.repeat_days");
	bad_rule("{\"condition\":\"true\",\"action\":{\"action\":\"call\",\"purpose\":\"marketing\"}}", "action.purpose");
	bad_rule("{\"condition\":\"true\",\"action\":{\"action\":\"call\",\"purpose\":7}}", "action.purpose");
	bad_rule("{\"condition\":\"true\",\"action\":{\"action\":\"call\"},\"priority\":0}", "priority");
	bad_rule("{\"condition\":\"true\",\"action\":{\"action\":\"call\"},\"owner_role\":\"kam\"}", "owner_role");
	bad_rule("{\"condition\":\"true\",\"action\":{\"action\":\"call\"},\"valid_from\":\"2026-02-01\","
		 "\"valid_to\":\"2026-01-01\"}", "valid_to");
	bad_rule("{\"condition\":\"true\",\"action\":{\"action\":\"call\"},\"colour\":1}", "colour");
	/* a good one, through its JSON and back */
	body = json_loads("{\"condition\":\"true\",\"action\":{\"action\":\"send_content\",\"channel\":\"wecom\","
			  "\"content\":{\"topic\":\"tag.academic_need\"},\"window\":{\"days\":3,\"weekdays\":[1,2],"
			  "\"hours\":[9,12]},\"repeat_days\":14,\"purpose\":\"medical_info\"},\"priority\":1,"
			  "\"owner_role\":\"msl\"}",
			  0, NULL);
	memset(&r, 0, sizeof(r));
	mr_arena_init(&a);
	assert_int_equal(mr_nba_rule_from_json(body, &a, &r, &err), 0);
	assert_int_equal(r.action, MR_NA_SEND_CONTENT);
	assert_int_equal(r.channel, MR_NC_WECOM);
	assert_string_equal(r.content.topic_tag, "tag.academic_need");
	assert_null(r.content.topic);
	assert_int_equal(r.weekdays, 3);
	assert_int_equal(r.hour_from, 9);
	assert_int_equal(r.hour_to, 12);
	assert_int_equal(r.repeat_days, 14);
	assert_int_equal(mr_nba_rule_role(&r), MR_NR_MSL);
	assert_int_equal(r.purpose, MR_PP_MEDICAL_INFO);
	back = mr_nba_action_json(&r);
	assert_true(json_equal(back, json_object_get(body, "action")));
	json_decref(back);
	json_decref(body);
	mr_arena_release(&a);
	/* settings: defaults, a change, and bad fields */
	mr_nba_settings_defaults(&s);
	body = json_loads("{\"weekly_budget\":5,\"channel_caps\":{\"visit\":2},\"quiet_hours\":{\"from\":22,\"to\":7},"
			  "\"consent_channels\":[\"wechat\"],\"nightly\":true}", 0, NULL);
	assert_int_equal(mr_nba_settings_from_json(body, &s, &err), 0);
	assert_int_equal(s.weekly_budget, 5);
	assert_int_equal(s.cap[MR_NC_VISIT], 2);
	assert_int_equal(s.cap[MR_NC_PHONE], 2);
	assert_int_equal(s.quiet_from, 22);
	assert_int_equal(s.consent_channels, 1u << MR_NC_WECHAT);
	assert_int_equal(s.nightly, 1);
	json_decref(body);
	body = json_loads("{\"channel_caps\":{\"fax\":1}}", 0, NULL);
	assert_int_equal(mr_nba_settings_from_json(body, &s, &err), MR_EINVAL);
	assert_string_equal(err.field, "channel_caps.fax");
	json_decref(body);
	body = json_loads("{\"weekly_budget\":-1}", 0, NULL);
	assert_int_equal(mr_nba_settings_from_json(body, &s, &err), MR_EINVAL);
	assert_string_equal(err.field, "weekly_budget");
	json_decref(body);
}

/* The rows, inside one write transaction of the store. */
static int rows_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_nba_rule r, got, *all = NULL;
	struct mr_nba_settings s;
	struct mr_arena a;
	int created = 0, n = 0;
	int64_t stamp1 = 0, stamp2 = 0;

	(void)arg;
	mr_arena_init(&a);
	memset(&r, 0, sizeof(r));
	r.name = "wx";
	r.condition = "specialty = \"endocrinology\"";
	r.action = MR_NA_SEND_CONTENT;
	r.channel = MR_NC_WECHAT;
	r.content.product = "GLU";
	r.window_days = 5;
	r.weekdays = 0x1f;
	r.hour_from = 9;
	r.hour_to = 18;
	r.repeat_days = 7;
	r.priority = 2;
	r.enabled = 1;
	r.valid_to = 123456789;
	assert_int_equal(mr_nba_rules_stamp(c, &stamp1, err), 0);
	assert_int_equal(mr_nba_rule_put(c, &r, "alice", 1000, &created, err), 0);
	assert_int_equal(created, 1);
	r.priority = 4;
	assert_int_equal(mr_nba_rule_put(c, &r, "bob", 2000, &created, err), 0);
	assert_int_equal(created, 0);
	assert_int_equal(mr_nba_rules_stamp(c, &stamp2, err), 0);
	assert_true(stamp1 != stamp2);
	assert_int_equal(mr_nba_rule_get(c, "wx", &a, &got, err), 0);
	assert_string_equal(got.condition, r.condition);
	assert_string_equal(got.content.product, "GLU");
	assert_int_equal(got.priority, 4);
	assert_int_equal(got.weekdays, 0x1f);
	assert_int_equal(got.hour_to, 18);
	assert_int_equal(got.repeat_days, 7);
	assert_int_equal(got.valid_to, 123456789);
	assert_int_equal(got.valid_from, 0);
	assert_string_equal(got.created_by, "alice");
	assert_string_equal(got.updated_by, "bob");
	assert_int_equal(got.created_at, 1000);
	assert_int_equal(got.updated_at, 2000);
	assert_int_equal(mr_nba_rule_list(c, &a, &all, &n, err), 0);
	assert_int_equal(n, 1);
	/* settings: the defaults until saved */
	assert_int_equal(mr_nba_settings_get(c, &s, err), 0);
	assert_int_equal(s.weekly_budget, 3);
	s.weekly_budget = 6;
	s.quiet_from = 20;
	assert_int_equal(mr_nba_settings_put(c, &s, "alice", 3000, err), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(mr_nba_settings_get(c, &s, err), 0);
	assert_int_equal(s.weekly_budget, 6);
	assert_int_equal(s.quiet_from, 20);
	assert_int_equal(mr_nba_rule_delete(c, "wx", err), 0);
	assert_int_equal(mr_nba_rule_delete(c, "wx", err), MR_ENOTFOUND);
	assert_int_equal(mr_nba_rule_get(c, "wx", &a, &got, err), MR_ENOTFOUND);
	mr_arena_release(&a);
	return 0;
}

/*
 * The learned policy's window (mr_nba_slot_window): the first stretch of
 * the rule's window inside the slot drawn, slots as the models count them
 * (mr_model_slot_of: weekday Monday first × band 08–12, 12–14, 14–18,
 * 18–21), and the policy setting.
 */
static void test_learned_window(void **state)
{
	struct world w;
	int64_t from, to, start = 0, end = 0;
	struct mr_err err;
	json_t *body, *o;

	(void)state;
	setup_world(&w);
	w.rule.hour_from = 9;
	w.rule.hour_to = 18;
	from = w.f.as_of; /* Wednesday 10:00 */
	to = from + 7 * DAY;
	/* Thursday 14–18 (slot 3 * 4 + 2): the next day, 14:00 to 18:00 */
	assert_int_equal(mr_nba_slot_window(&w.rule, &w.s, from, to, mr_model_slot_of, 14, &start, &end), 1);
	assert_int_equal(start, at("2026-03-05T14:00:00+08:00"));
	assert_int_equal(end, at("2026-03-05T18:00:00+08:00"));
	/* Wednesday 08–12 (slot 8): from the moment asked, 10:00, to 12:00 the same day */
	assert_int_equal(mr_nba_slot_window(&w.rule, &w.s, from, to, mr_model_slot_of, 8, &start, &end), 1);
	assert_int_equal(start, from);
	assert_int_equal(end, at("2026-03-04T12:00:00+08:00"));
	/* Wednesday 12–14 once more: today's, not next week's */
	assert_int_equal(mr_nba_slot_window(&w.rule, &w.s, from, to, mr_model_slot_of, 9, &start, &end), 1);
	assert_int_equal(start, at("2026-03-04T12:00:00+08:00"));
	/* Thursday 18–21 (slot 15): the rule's hours end at 18, so no hour */
	assert_int_equal(mr_nba_slot_window(&w.rule, &w.s, from, to, mr_model_slot_of, 15, &start, &end), 0);
	/* quiet hours 12–14: Friday 12–14 (slot 17) has none either */
	w.s.quiet_from = 12;
	w.s.quiet_to = 14;
	assert_int_equal(mr_nba_slot_window(&w.rule, &w.s, from, to, mr_model_slot_of, 17, &start, &end), 0);
	/* the policy: "rules" by default, "learned", anything else names the field */
	mr_nba_settings_defaults(&w.s);
	assert_int_equal(w.s.policy, MR_NP_RULES);
	body = json_loads("{\"policy\":\"learned\"}", 0, NULL);
	assert_int_equal(mr_nba_settings_from_json(body, &w.s, &err), 0);
	assert_int_equal(w.s.policy, MR_NP_LEARNED);
	json_decref(body);
	o = mr_nba_settings_json(&w.s);
	assert_string_equal(json_string_value(json_object_get(o, "policy")), "learned");
	json_decref(o);
	body = json_loads("{\"policy\":\"bandit\"}", 0, NULL);
	assert_int_equal(mr_nba_settings_from_json(body, &w.s, &err), MR_EINVAL);
	assert_string_equal(err.field, "policy");
	json_decref(body);
}

static void test_rows(void **state)
{
	struct mr_test_db db;
	struct mr_err err;

	mr_test_db_open(&db, mr_test_backend(state));
	if (mr_store_write(db.store, rows_fn, NULL, &err) < 0)
		fail_msg("%s", err.msg);
	mr_test_db_close(&db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passes),
		cmocka_unit_test(test_consent),
		cmocka_unit_test(test_budget_and_cap),
		cmocka_unit_test(test_content),
		cmocka_unit_test(test_quiet_hours),
		cmocka_unit_test(test_repeat),
		cmocka_unit_test(test_reach),
		cmocka_unit_test(test_holdout),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_learned_window),
		MR_TEST_BOTH(test_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
