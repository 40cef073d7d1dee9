/*
 * The event model (src/event/event.c): the channel table and its outcome
 * ladders as the contract states them, the engagement weights, and the
 * NDJSON line parser — every field read, each kind of bad line refused
 * with the field and a message a sender can act on, and a parser reused
 * across lines unaffected by a bad one before it.
 */
#include "unit.h"

#include "base/arena.h"
#include "base/time.h"
#include "event/event.h"

#define NOW (INT64_C(1764979200) * MR_US_PER_S) /* 2025-12-06T00:00:00Z */

static void test_channels_and_ladders(void **state)
{
	(void)state;
	assert_int_equal(mr_channel_parse("phone"), MR_CH_PHONE);
	assert_int_equal(mr_channel_parse("meeting_offline"), MR_CH_MEETING_OFFLINE);
	assert_int_equal(mr_channel_parse("fax"), MR_CH_NONE);
	assert_int_equal(mr_channel_parse(NULL), MR_CH_NONE);
	assert_string_equal(mr_channel_name(MR_CH_SMS), "sms");
	assert_null(mr_channel_name(MR_CH_COUNT));
	assert_int_equal(mr_outcome_count(MR_CH_PHONE), 4);
	assert_int_equal(mr_outcome_parse(MR_CH_PHONE, "answered"), 1);
	assert_int_equal(mr_outcome_parse(MR_CH_PHONE, "responded"), -1); /* another channel's rung */
	assert_int_equal(mr_outcome_parse(MR_CH_WECHAT, "responded"), 3);
	assert_int_equal(mr_outcome_count(MR_CH_MEETING_ONLINE), 3);
	assert_string_equal(mr_outcome_name(MR_CH_VISIT, 1), "completed");
	assert_null(mr_outcome_name(MR_CH_VISIT, 2));
	/* weights: 1 for the lowest rung, 3 for the top, between by position */
	assert_int_equal(mr_outcome_weight(MR_CH_PHONE, 0), 1);
	assert_int_equal(mr_outcome_weight(MR_CH_PHONE, 1), 2);
	assert_int_equal(mr_outcome_weight(MR_CH_PHONE, 2), 2);
	assert_int_equal(mr_outcome_weight(MR_CH_PHONE, 3), 3);
	assert_int_equal(mr_outcome_weight(MR_CH_MEETING_ONLINE, 1), 2);
	assert_int_equal(mr_outcome_weight(MR_CH_VISIT, 0), 1);
	assert_int_equal(mr_outcome_weight(MR_CH_VISIT, 1), 3);
}

static int parse(const char *line, struct mr_arena *a, struct mr_event *ev, struct mr_err *err)
{
	mr_err_clear(err);
	return mr_event_parse(line, strlen(line), NOW, a, ev, err);
}

static void test_parse_full_event(void **state)
{
	struct mr_arena a;
	struct mr_event ev;
	struct mr_err err;
	json_t *back;
	char *text;

	(void)state;
	mr_arena_init(&a);
	assert_int_equal(parse("{\"id\":\"ev-123\",\"ts\":\"2024-03-05T09:12:00+08:00\",\"hcp\":\"D0000123\","
			       "\"channel\":\"phone\",\"type\":\"call\",\"outcome\":\"effective\",\"rep\":\"R0042\","
			       "\"content\":\"C00012\",\"campaign\":\"K01\",\"meeting\":\"M77\",\"duration_s\":320,"
			       "\"props\":{\"a\":[1,2.5,{\"b\":null}],\"c\":\"中文\",\"d\":true}}",
			       &a, &ev, &err),
			 0);
	assert_string_equal(ev.id, "ev-123");
	assert_true(ev.ts == INT64_C(1709601120) * MR_US_PER_S); /* 01:12 UTC */
	assert_string_equal(ev.hcp, "D0000123");
	assert_int_equal(ev.channel, MR_CH_PHONE);
	assert_string_equal(ev.type, "call");
	assert_int_equal(ev.outcome, 3);
	assert_string_equal(ev.rep, "R0042");
	assert_string_equal(ev.content, "C00012");
	assert_string_equal(ev.campaign, "K01");
	assert_string_equal(ev.meeting, "M77");
	assert_int_equal(ev.duration_s, 320);
	assert_string_equal(ev.props, "{\"a\":[1,2.5,{\"b\":null}],\"c\":\"中文\",\"d\":true}");
	assert_string_equal(ev.source, "api");
	/* and back out in the contract's shape */
	back = mr_event_json(&ev);
	text = json_dumps(back, JSON_COMPACT | JSON_SORT_KEYS);
	assert_non_null(strstr(text, "\"ts\":\"2024-03-05T01:12:00Z\""));
	assert_non_null(strstr(text, "\"outcome\":\"effective\""));
	free(text);
	json_decref(back);

	/* an identity instead of hcp, normalised; the channel's default type */
	assert_int_equal(parse("{\"id\":\"e2\",\"ts\":\"2024-03-05T09:12:00Z\",\"identity\":{\"kind\":\"phone\","
			       "\"value\":\"138 1234 5678\"},\"channel\":\"wechat\",\"outcome\":\"read\"}",
			       &a, &ev, &err),
			 0);
	assert_null(ev.hcp);
	assert_string_equal(ev.id_kind, "phone");
	assert_string_equal(ev.id_value, "+8613812345678");
	assert_string_equal(ev.id_app, "");
	assert_string_equal(ev.type, "message");
	assert_int_equal(ev.duration_s, -1);
	assert_null(ev.props);
	mr_arena_release(&a);
}

/* One bad line: the field named (or "" for the line as a whole) and a word of the message. */
struct bad {
	const char *line, *field, *says;
};

static void test_parse_refuses_bad_lines(void **state)
{
	static const struct bad bad[] = {
		{ "garbage", "", "malformed JSON" },
		{ "[1,2]", "", "must be a JSON object" },
		{ "123", "", "must be a JSON object" },
		{ "{\"id\":\"e\",\"ts\":\"2024-03-05T09:12:00Z\",\"hcp\":\"D1\",\"channel\":\"phone\"", "", "malformed" },
		{ "{\"id\":\"e\",\"id\":\"f\"}", "id", "appears twice" },
		{ "{\"id\":\"e\",\"extra\":1}", "extra", "unknown field 'extra'" },
		{ "{\"ts\":\"2024-03-05T09:12:00Z\",\"hcp\":\"D1\",\"channel\":\"phone\",\"outcome\":\"answered\"}", "id",
		  "required" },
		{ "{\"id\":\"e\",\"hcp\":\"D1\",\"channel\":\"phone\",\"outcome\":\"answered\"}", "ts", "required" },
		{ "{\"id\":\"e\",\"ts\":\"2024-03-05T09:12:00\",\"hcp\":\"D1\",\"channel\":\"phone\",\"outcome\":\"answered\"}",
		  "ts", "zone" },
		{ "{\"id\":\"e\",\"ts\":\"2024-03-05\",\"hcp\":\"D1\",\"channel\":\"phone\",\"outcome\":\"answered\"}", "ts",
		  "zone" },
		{ "{\"id\":\"e\",\"ts\":\"2099-03-05T09:12:00Z\",\"hcp\":\"D1\",\"channel\":\"phone\",\"outcome\":\"answered\"}",
		  "ts", "future" },
		{ "{\"id\":\"e\",\"ts\":\"1999-03-05T09:12:00Z\",\"hcp\":\"D1\",\"channel\":\"phone\",\"outcome\":\"answered\"}",
		  "ts", "before 2000" },
		{ "{\"id\":\"e\",\"ts\":\"2024-03-05T09:12:00Z\",\"hcp\":\"D1\",\"outcome\":\"answered\"}", "channel", "required" },
		{ "{\"id\":\"e\",\"ts\":\"2024-03-05T09:12:00Z\",\"hcp\":\"D1\",\"channel\":\"fax\",\"outcome\":\"answered\"}",
		  "channel", "unknown channel 'fax'" },
		{ "{\"id\":\"e\",\"ts\":\"2024-03-05T09:12:00Z\",\"hcp\":\"D1\",\"channel\":\"phone\"}", "outcome", "required" },
		{ "{\"id\":\"e\",\"ts\":\"2024-03-05T09:12:00Z\",\"hcp\":\"D1\",\"channel\":\"phone\",\"outcome\":\"read\"}",
		  "outcome", "no_answer < answered < successful < effective" },
		{ "{\"id\":\"e\",\"ts\":\"2024-03-05T09:12:00Z\",\"channel\":\"phone\",\"outcome\":\"answered\"}", "hcp",
		  "name the doctor" },
		{ "{\"id\":\"e\",\"ts\":\"2024-03-05T09:12:00Z\",\"hcp\":\"D1\",\"identity\":{\"kind\":\"phone\",\"value\":"
		  "\"13812345678\"},\"channel\":\"phone\",\"outcome\":\"answered\"}", "identity", "not both" },
		{ "{\"id\":\"e\",\"ts\":\"2024-03-05T09:12:00Z\",\"identity\":{\"kind\":\"fax\",\"value\":\"1\"},"
		  "\"channel\":\"phone\",\"outcome\":\"answered\"}", "identity.kind", "unknown identity kind" },
		{ "{\"id\":\"e\",\"ts\":\"2024-03-05T09:12:00Z\",\"identity\":{\"kind\":\"phone\",\"value\":\"12\"},"
		  "\"channel\":\"phone\",\"outcome\":\"answered\"}", "identity.value", "" },
		{ "{\"id\":\"e\",\"ts\":\"2024-03-05T09:12:00Z\",\"identity\":{\"kind\":\"phone\",\"nope\":\"1\"},"
		  "\"channel\":\"phone\",\"outcome\":\"answered\"}", "nope", "in identity" },
		{ "{\"id\":\"e\",\"ts\":\"2024-03-05T09:12:00Z\",\"hcp\":\"D1\",\"channel\":\"phone\",\"outcome\":\"answered\","
		  "\"duration_s\":1.5}", "duration_s", "whole number" },
		{ "{\"id\":\"e\",\"ts\":\"2024-03-05T09:12:00Z\",\"hcp\":\"D1\",\"channel\":\"phone\",\"outcome\":\"answered\","
		  "\"duration_s\":-1}", "duration_s", "0 to 604800" },
		{ "{\"id\":\"e\",\"ts\":\"2024-03-05T09:12:00Z\",\"hcp\":\"D1\",\"channel\":\"phone\",\"outcome\":\"answered\","
		  "\"duration_s\":\"5\"}", "duration_s", "" },
		{ "{\"id\":5,\"ts\":\"2024-03-05T09:12:00Z\",\"hcp\":\"D1\",\"channel\":\"phone\",\"outcome\":\"answered\"}",
		  "id", "string" },
		{ "{\"id\":\"e f\",\"ts\":\"2024-03-05T09:12:00Z\",\"hcp\":\"D1\",\"channel\":\"phone\",\"outcome\":\"answered\"}",
		  "id", "without spaces" },
		{ "{\"id\":\"e\",\"ts\":\"2024-03-05T09:12:00Z\",\"hcp\":\"D1\",\"channel\":\"phone\",\"outcome\":\"answered\","
		  "\"type\":\"Bad Type\"}", "type", "a-z 0-9 _" },
		{ "{\"id\":\"e\",\"ts\":\"2024-03-05T09:12:00Z\",\"hcp\":\"D1\",\"channel\":\"phone\",\"outcome\":\"answered\","
		  "\"props\":[1]}", "props", "must not be a list" },
		{ "{\"id\":\"e\",\"ts\":\"2024-03-05T09:12:00Z\",\"hcp\":\"D1\",\"channel\":\"phone\",\"outcome\":\"answered\","
		  "\"props\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{}}}}}}}}}}", "props", "deeper" },
		{ "{\"id\":\"e\",\"ts\":\"2024-03-05T09:12:00Z\",\"hcp\":\"D\xff\",\"channel\":\"phone\",\"outcome\":\"answered\"}",
		  "", "UTF8" },
		{ "{\"id\":\"e\",\"ts\":\"2024-03-05T09:12:00Z\",\"hcp\":\"D\\u0000x\",\"channel\":\"phone\",\"outcome\":"
		  "\"answered\"}", "hcp", "NUL" },
	};
	struct mr_arena a;
	struct mr_event ev;
	struct mr_err err;

	(void)state;
	mr_arena_init(&a);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i].line, &a, &ev, &err) != MR_EINVAL)
			fail_msg("line %zu was taken: %s", i, bad[i].line);
		if (strcmp(err.field, bad[i].field) != 0 || !strstr(err.msg, bad[i].says))
			fail_msg("line %zu: field '%s' message '%s'; want field '%s' saying '%s'", i, err.field,
				 err.msg, bad[i].field, bad[i].says);
	}
	/* a syntax error says where */
	assert_int_equal(parse("{\"id\": x}", &a, &ev, &err), MR_EINVAL);
	assert_int_equal(err.column, 8);
	mr_arena_release(&a);
}

/* A parser reused across lines: a bad line, even one cut in the middle of a value, spoils nothing after it. */
static void test_parser_survives_bad_lines(void **state)
{
	static const char *const lines[] = {
		"{\"id\":\"a\",\"ts\":\"2024-03-05T09:12:00Z\",\"hcp\":\"D1\",\"channel\":\"phone\",\"outcome\":\"answered\"}",
		"{\"id\":\"b\",\"ts\":\"2024-03-05T09:12:",
		"123",
		"{\"id\":\"c\",\"ts\":\"2024-03-05T09:12:00Z\",\"hcp\":\"D1\",\"channel\":\"sms\",\"outcome\":\"sent\"}",
		"[",
		"{\"id\":\"d\",\"ts\":\"2024-03-05T09:12:00Z\",\"hcp\":\"D1\",\"channel\":\"visit\",\"outcome\":\"planned\"}",
	};
	static const int ok[] = { 1, 0, 0, 1, 0, 1 };
	struct mr_event_parser *p = mr_event_parser_new();
	struct mr_arena a;
	struct mr_event ev;
	struct mr_err err;

	(void)state;
	mr_arena_init(&a);
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
			int rc;

			mr_err_clear(&err);
			rc = mr_event_parser_parse(p, lines[i], strlen(lines[i]), NOW, &a, &ev, &err);
			if ((rc == 0) != ok[i])
				fail_msg("round %d line %zu: rc %d (%s)", round, i, rc, err.msg);
			if (ok[i])
				assert_int_equal(ev.id[0], "a?" "?c?d"[i]);
		}
	}
	mr_event_parser_free(p);
	mr_arena_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_channels_and_ladders),
		cmocka_unit_test(test_parse_full_event),
		cmocka_unit_test(test_parse_refuses_bad_lines),
		cmocka_unit_test(test_parser_survives_bad_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
