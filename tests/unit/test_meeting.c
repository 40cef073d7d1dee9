/*
 * Unit tests of src/channels/meeting.c: Tencent Meeting webhook signatures,
 * decoding and the mapping of participant events to medreach events.
 *
 * The signature vectors were computed outside this code, with the shell:
 *     printf '%s\n' TOKEN TIMESTAMP NONCE DATA | LC_ALL=C sort | tr -d '\n' | sha1sum
 * and one is the worked example of Tencent's "签名校验" page (token
 * bVPU6F8Htxl5XkAbp3jGV2xWp, signature b11e5078...), whose data has its
 * base64 padding left off.
 */
#include "unit.h"

#include "base/arena.h"
#include "base/err.h"
#include "channels/meeting.h"
#include "event/event.h"

#define TOKEN "s3cr3tT0kenForMedreach25x"

/* Tencent's published example: a meeting.created event, unpadded base64. */
#define DOC_TOKEN "bVPU6F8Htxl5XkAbp3jGV2xWp"
#define DOC_TS "1609239040864"
#define DOC_NONCE "14964161"
#define DOC_SIG "b11e507817336a91d7df0c8536ee2aca18bbbae8"
#define DOC_DATA                                                                                   \
	"eyJldmVudCI6Im1lZXRpbmcuY3JlYXRlZCIsInVuaXF1ZV9zZXF1ZW5jZSI6ImYyMDA5NmVlLThhYzgtNGRmMi1h" \
	"N2RlLTA1NzQ2NDlmMjExYiIsInBheWxvYWQiOlt7Im9wZXJhdGVfdGltZSI6IjIwMjAtMTItMjkgMTc6NDE6MDYi" \
	"LCJvcGVyYXRvciI6eyJ1c2VyaWQiOiJ0ZXN0ZXIwMDAwNmJhNWJhYjMzOTg1OGMxM2M5MzBjY2E5NTY4NCJ9LCJt" \
	"ZWV0aW5nX2luZm8iOnsibWVldGluZ19pZCI6IjYwNTg4OTAzODU0ODA5MjEwNTIiLCJtZWV0aW5nX2NvZGUiOiI1" \
	"MzA4MTI0NTIiLCJzdWJqZWN0IjoibWVkaWEgdGVzdGVyIG1lZXRpbmciLCJjcmVhdG9yX2lkIjoidGVzdGVyMDAw" \
	"MDZiYTViYWIzMzk4NThjMTNjOTMwY2NhOTU2ODQiLCJob3N0cyI6WyJ0ZXN0ZXIwMDAwNmJhNWJhYjMzOTg1OGMx" \
	"M2M5MzBjY2E5NTY4NCJdLCJtZWV0aW5nX3R5cGUiOjAsInN0YXJ0X3RpbWUiOiIyMDIwLTEyLTI5IDE3OjQxOjA0" \
	"IiwiZW5kX3RpbWUiOiIyMDIwLTEyLTI5IDE4OjAxOjA0In19XX0"

/* The URL check: check_str is base64 of "medreach?check>>42" (has '+' and '/'). */
#define URL_TS "1700000000123"
#define URL_NONCE "839201"
#define URL_CHECK "bWVkcmVhY2g/Y2hlY2s+PjQy"
#define URL_SIG "9925cc9c71dea8398ae14d650f4186644c30e648"
#define URL_BAD_CHECK "not*base64!"
#define URL_BAD_SIG "698d1c9ec584df2186e21c530ae63269bb830d36"

/*
 * A POST: data is base64 (padded) of
 * {"event":"meeting.participant-joined","trace_id":"7f1c2a9e-0d4b-4a51-9a77-3c2e8b1d6f00",
 *  "payload":[{"operate_time":1709800000123,"operator":{"userid":"doc_wang01","uuid":"WMabc123",
 *  "user_name":"Wang","instance_id":"1","ms_open_id":"EO9RLy5w+abc/def=="},"meeting_info":{
 *  "meeting_id":"13339451618278424869","meeting_code":"445999969","subject":"oncology case review",
 *  "meeting_type":0,"start_time":1709799000,"end_time":1709806200}}]}
 */
#define POST_TS "1709800000456"
#define POST_NONCE "1234567"
#define POST_SIG "1bfcdaeef2f3e1ef17fa6adc9cc58c97e25b2c91"
#define POST_DATA                                                                                  \
	"eyJldmVudCI6Im1lZXRpbmcucGFydGljaXBhbnQtam9pbmVkIiwidHJhY2VfaWQiOiI3ZjFjMmE5ZS0wZDRiLTRh" \
	"NTEtOWE3Ny0zYzJlOGIxZDZmMDAiLCJwYXlsb2FkIjpbeyJvcGVyYXRlX3RpbWUiOjE3MDk4MDAwMDAxMjMsIm9w" \
	"ZXJhdG9yIjp7InVzZXJpZCI6ImRvY193YW5nMDEiLCJ1dWlkIjoiV01hYmMxMjMiLCJ1c2VyX25hbWUiOiJXYW5n" \
	"IiwiaW5zdGFuY2VfaWQiOiIxIiwibXNfb3Blbl9pZCI6IkVPOVJMeTV3K2FiYy9kZWY9PSJ9LCJtZWV0aW5nX2lu" \
	"Zm8iOnsibWVldGluZ19pZCI6IjEzMzM5NDUxNjE4Mjc4NDI0ODY5IiwibWVldGluZ19jb2RlIjoiNDQ1OTk5OTY5" \
	"Iiwic3ViamVjdCI6Im9uY29sb2d5IGNhc2UgcmV2aWV3IiwibWVldGluZ190eXBlIjowLCJzdGFydF90aW1lIjox" \
	"NzA5Nzk5MDAwLCJlbmRfdGltZSI6MTcwOTgwNjIwMH19XX0="
/* The same data signed with token "zzToken" and nonce "A-nonce": the sorted order changes. */
#define POST_SIG_ORDER "e21cbb2a9d1ef5fd331aab719be8f6679247bc03"

/* Signed bodies whose data is not what it should be (same token, timestamp, nonce as POST). */
#define PCT_DATA "%%%%"
#define PCT_SIG "7b81c33af459fe2139e97656517a701d1a468be9"
#define NOTJSON_DATA "bm90IGpzb24="
#define NOTJSON_SIG "019907ca12c86f98838b71b8b38294796d4fb906"
#define ARRAY_DATA "WzEsMl0="
#define ARRAY_SIG "42492be5fe778e74dd16c1b6d5aaaf23a0efc077"

/* 2024-06-01T00:00:00Z: "now" for the contract's timestamp bounds. */
#define NOW_US (INT64_C(1717200000) * 1000000)

static const struct mr_meeting_cfg cfg = { TOKEN };

/* {"data": data} as a body. */
static void body_of(const char *data, char *out, size_t n)
{
	snprintf(out, n, "{\"data\":\"%s\"}", data);
}

/* Opens a POST signed with POST_TS / POST_NONCE; returns the code. */
static int open_post(const char *data, const char *sig, json_t **ev, struct mr_err *err)
{
	char body[2048];

	body_of(data, body, sizeof(body));
	mr_err_clear(err);
	return mr_meeting_open(&cfg, POST_TS, POST_NONCE, sig, body, strlen(body), ev, err);
}

/* Maps the event JSON text with opts, asserting success; returns the row count. */
static int map_text(const char *text, const struct mr_meeting_opts *opts, struct mr_arena *a,
		    struct mr_event *out, int max)
{
	json_t *ev = json_loads(text, 0, NULL);
	struct mr_err err;
	int n = -1;
	int rc;

	assert_non_null(ev);
	mr_err_clear(&err);
	rc = mr_meeting_events(ev, opts, a, out, max, &n, &err);
	json_decref(ev);
	if (rc < 0)
		fail_msg("mr_meeting_events: %d %s [%s]", rc, err.msg, err.field);
	return n;
}

/* Maps the event JSON text expecting failure with code; returns err for further checks. */
static struct mr_err map_fail(const char *text, int code)
{
	struct mr_meeting_opts opts = { .now_us = NOW_US };
	json_t *ev = json_loads(text, 0, NULL);
	struct mr_event out[4];
	struct mr_arena a;
	struct mr_err err;
	int n = -1;

	assert_non_null(ev);
	mr_arena_init(&a);
	mr_err_clear(&err);
	assert_int_equal(mr_meeting_events(ev, &opts, &a, out, 4, &n, &err), code);
	assert_int_equal(n, 0);
	json_decref(ev);
	mr_arena_release(&a);
	return err;
}

/* ev as the contract's JSON with sorted keys, compared with want. */
static void assert_event(const struct mr_event *ev, const char *want)
{
	json_t *j = mr_event_json(ev);
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);

	assert_string_equal(text, want);
	free(text);
	json_decref(j);
}

/* ---- signatures ---- */

static void test_sign_matches_independent_vectors(void **state)
{
	char sig[MR_MEETING_SIG_HEX + 1];
	struct mr_err err;

	(void)state;
	mr_err_clear(&err);
	assert_int_equal(mr_meeting_sign(DOC_TOKEN, DOC_TS, DOC_NONCE, DOC_DATA, sig, &err), 0);
	assert_string_equal(sig, DOC_SIG);
	assert_int_equal(mr_meeting_sign(TOKEN, URL_TS, URL_NONCE, URL_CHECK, sig, &err), 0);
	assert_string_equal(sig, URL_SIG);
	assert_int_equal(mr_meeting_sign(TOKEN, POST_TS, POST_NONCE, POST_DATA, sig, &err), 0);
	assert_string_equal(sig, POST_SIG);
	/* nonce sorts first and the token last here: the order is by value, not by name */
	assert_int_equal(mr_meeting_sign("zzToken", POST_TS, "A-nonce", POST_DATA, sig, &err), 0);
	assert_string_equal(sig, POST_SIG_ORDER);
}

static void test_verify_url_echoes_the_decoded_check_str(void **state)
{
	struct mr_err err;
	char *plain = NULL;

	(void)state;
	mr_err_clear(&err);
	assert_int_equal(mr_meeting_verify_url(&cfg, URL_TS, URL_NONCE, URL_SIG, URL_CHECK, &plain, &err), 0);
	assert_string_equal(plain, "medreach?check>>42");
	free(plain);
	/* hex digits in upper case are the same signature */
	assert_int_equal(mr_meeting_verify_url(&cfg, URL_TS, URL_NONCE,
					       "9925CC9C71DEA8398AE14D650F4186644C30E648", URL_CHECK,
					       &plain, &err), 0);
	assert_string_equal(plain, "medreach?check>>42");
	free(plain);
}

static void test_verify_url_refuses_bad_signatures(void **state)
{
	struct mr_meeting_cfg other = { "another-token-entirely-25" };
	struct mr_meeting_cfg none = { NULL };
	struct mr_err err;
	char *plain = (char *)"untouched";

	(void)state;
	mr_err_clear(&err);
	/* one digit off */
	assert_int_equal(mr_meeting_verify_url(&cfg, URL_TS, URL_NONCE,
					       "9925cc9c71dea8398ae14d650f4186644c30e649", URL_CHECK,
					       &plain, &err), MR_EAUTH);
	assert_null(plain);
	assert_string_equal(err.field, "signature");
	assert_string_equal(err.kind, "bad_signature");
	/* the wrong token, a changed timestamp, a truncated signature */
	assert_int_equal(mr_meeting_verify_url(&other, URL_TS, URL_NONCE, URL_SIG, URL_CHECK, &plain, &err),
			 MR_EAUTH);
	assert_int_equal(mr_meeting_verify_url(&cfg, "1700000000124", URL_NONCE, URL_SIG, URL_CHECK, &plain,
					       &err), MR_EAUTH);
	assert_int_equal(mr_meeting_verify_url(&cfg, URL_TS, URL_NONCE, "9925cc9c", URL_CHECK, &plain, &err),
			 MR_EAUTH);
	/* missing headers name themselves */
	assert_int_equal(mr_meeting_verify_url(&cfg, URL_TS, NULL, URL_SIG, URL_CHECK, &plain, &err), MR_EAUTH);
	assert_string_equal(err.field, "nonce");
	assert_int_equal(mr_meeting_verify_url(&cfg, "", URL_NONCE, URL_SIG, URL_CHECK, &plain, &err), MR_EAUTH);
	assert_string_equal(err.field, "timestamp");
	/* no token configured is the server's fault, not the sender's */
	assert_int_equal(mr_meeting_verify_url(&none, URL_TS, URL_NONCE, URL_SIG, URL_CHECK, &plain, &err),
			 MR_EINTERNAL);
	assert_null(plain);
}

static void test_verify_url_refuses_malformed_check_str(void **state)
{
	char big[MR_MEETING_CHECK_MAX + 2];
	struct mr_err err;
	char *plain = NULL;

	(void)state;
	mr_err_clear(&err);
	/* correctly signed, but not base64 */
	assert_int_equal(mr_meeting_verify_url(&cfg, URL_TS, URL_NONCE, URL_BAD_SIG, URL_BAD_CHECK, &plain,
					       &err), MR_EINVAL);
	assert_string_equal(err.field, "check_str");
	assert_null(plain);
	assert_int_equal(mr_meeting_verify_url(&cfg, URL_TS, URL_NONCE, URL_SIG, NULL, &plain, &err), MR_EINVAL);
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(mr_meeting_verify_url(&cfg, URL_TS, URL_NONCE, URL_SIG, big, &plain, &err), MR_EINVAL);
	assert_null(plain);
}

/* ---- POST bodies ---- */

static void test_open_decodes_tencents_published_example(void **state)
{
	struct mr_meeting_cfg doc = { DOC_TOKEN };
	const char *body = "{\"data\":\"" DOC_DATA "\"}";
	struct mr_meeting_opts opts = { .now_us = NOW_US };
	struct mr_event out[2];
	struct mr_arena a;
	struct mr_err err;
	json_t *ev = NULL;
	int n = -1;

	(void)state;
	mr_err_clear(&err);
	assert_int_equal(mr_meeting_open(&doc, DOC_TS, DOC_NONCE, DOC_SIG, body, strlen(body), &ev, &err), 0);
	assert_string_equal(json_string_value(json_object_get(ev, "event")), "meeting.created");
	assert_string_equal(json_string_value(json_object_get(ev, "unique_sequence")),
			    "f20096ee-8ac8-4df2-a7de-0574649f211b");
	/* meeting.created says nothing about attendance: acknowledged and dropped */
	mr_arena_init(&a);
	assert_int_equal(mr_meeting_events(ev, &opts, &a, out, 2, &n, &err), MR_EUNPROC);
	assert_string_equal(err.kind, "ignored");
	assert_int_equal(n, 0);
	mr_arena_release(&a);
	json_decref(ev);
}

static void test_open_and_map_a_join(void **state)
{
	struct mr_meeting_opts opts = { .now_us = NOW_US };
	struct mr_event out[2];
	struct mr_arena a;
	struct mr_err err;
	json_t *ev = NULL;
	int n = -1;

	(void)state;
	assert_int_equal(open_post(POST_DATA, POST_SIG, &ev, &err), 0);
	mr_arena_init(&a);
	assert_int_equal(mr_meeting_events(ev, &opts, &a, out, 2, &n, &err), 0);
	json_decref(ev); /* the rows own their strings (in the arena) */
	assert_int_equal(n, 1);
	assert_event(&out[0],
		     "{\"channel\":\"meeting_online\",\"id\":\"tencent_meeting:7f1c2a9e-0d4b-4a51-9a77-"
		     "3c2e8b1d6f00:0\",\"identity\":{\"app\":\"tencent_meeting\",\"kind\":\"meeting_user_id\","
		     "\"value\":\"doc_wang01\"},\"meeting\":\"13339451618278424869\",\"outcome\":\"attended\","
		     "\"props\":{\"id_field\":\"userid\",\"instance_id\":\"1\",\"meeting_code\":\"445999969\","
		     "\"subject\":\"oncology case review\"},\"source\":\"meeting\",\"ts\":"
		     "\"2024-03-07T08:26:40.123000Z\",\"type\":\"join\"}");
	assert_int_equal(out[0].duration_s, -1);
	mr_arena_release(&a);
}

static void test_open_refuses_tampering_and_malformed_bodies(void **state)
{
	struct mr_meeting_cfg none = { "" };
	char tampered[sizeof(POST_DATA)] = POST_DATA;
	struct mr_err err;
	json_t *ev = NULL;
	char *big;

	(void)state;
	/* one byte of data changed ("eyJ" -> "fyJ"): the signature no longer matches */
	tampered[0] = 'f';
	assert_int_equal(open_post(tampered, POST_SIG, &ev, &err), MR_EAUTH);
	assert_null(ev);
	assert_int_equal(open_post(POST_DATA, "1bfcdaeef2f3e1ef17fa6adc9cc58c97e25b2c92", &ev, &err), MR_EAUTH);
	/* correctly signed data that is not base64, not JSON, not an object */
	assert_int_equal(open_post(PCT_DATA, PCT_SIG, &ev, &err), MR_EINVAL);
	assert_string_equal(err.field, "data");
	assert_int_equal(open_post(NOTJSON_DATA, NOTJSON_SIG, &ev, &err), MR_EINVAL);
	assert_string_equal(err.field, "data");
	assert_int_equal(open_post(ARRAY_DATA, ARRAY_SIG, &ev, &err), MR_EINVAL);
	assert_null(ev);
	/* bodies that are not {"data": string} */
	mr_err_clear(&err);
	assert_int_equal(mr_meeting_open(&cfg, POST_TS, POST_NONCE, POST_SIG, "{\"data\":", 8, &ev, &err),
			 MR_EINVAL);
	assert_int_equal(mr_meeting_open(&cfg, POST_TS, POST_NONCE, POST_SIG, "{\"data\":7}", 10, &ev, &err),
			 MR_EINVAL);
	assert_string_equal(err.field, "data");
	assert_int_equal(mr_meeting_open(&cfg, POST_TS, POST_NONCE, POST_SIG, "[]", 2, &ev, &err), MR_EINVAL);
	/* size cap, missing header, no token */
	big = calloc(1, MR_MEETING_BODY_MAX + 2);
	memset(big, ' ', MR_MEETING_BODY_MAX + 1);
	assert_int_equal(mr_meeting_open(&cfg, POST_TS, POST_NONCE, POST_SIG, big, MR_MEETING_BODY_MAX + 1, &ev,
					 &err), MR_ETOOBIG);
	free(big);
	assert_int_equal(mr_meeting_open(&cfg, POST_TS, POST_NONCE, NULL, "{}", 2, &ev, &err), MR_EAUTH);
	assert_string_equal(err.field, "signature");
	assert_int_equal(mr_meeting_open(&none, POST_TS, POST_NONCE, POST_SIG, "{}", 2, &ev, &err),
			 MR_EINTERNAL);
	assert_null(ev);
}

/* ---- mapping ---- */

#define LEFT_EVENT                                                                                 \
	"{\"event\":\"meeting.participant-left\",\"unique_sequence\":\"seq-left-1\",\"payload\":["   \
	"{\"operate_time\":1709800900000,\"operator\":{\"userid\":\"doc_wang01\",\"instance_id\":2},"  \
	"\"meeting_info\":{\"meeting_id\":\"13339451618278424869\",\"meeting_code\":\"445999969\"}}]}"

/* A joined_at lookup that knows one join: doc_wang01 at 2024-03-07T08:26:40Z. */
static int64_t known_join(void *arg, const char *meeting_id, const char *user_id)
{
	int *calls = arg;

	++*calls;
	if (strcmp(meeting_id, "13339451618278424869") == 0 && strcmp(user_id, "doc_wang01") == 0)
		return INT64_C(1709800000) * 1000000;
	return 0;
}

/* A lookup that returns a join a day and a half before the leave: a stale record. */
static int64_t stale_join(void *arg, const char *meeting_id, const char *user_id)
{
	(void)arg;
	(void)meeting_id;
	(void)user_id;
	return (INT64_C(1709800900) - 129600) * 1000000;
}

static void test_leave_takes_its_duration_from_the_stored_join(void **state)
{
	int calls = 0;
	struct mr_meeting_opts opts = { known_join, &calls, NOW_US };
	struct mr_event out[2];
	struct mr_arena a;

	(void)state;
	mr_arena_init(&a);
	assert_int_equal(map_text(LEFT_EVENT, &opts, &a, out, 2), 1);
	assert_int_equal(calls, 1);
	assert_event(&out[0],
		     "{\"channel\":\"meeting_online\",\"duration_s\":900,\"id\":\"tencent_meeting:seq-left-1:0\","
		     "\"identity\":{\"app\":\"tencent_meeting\",\"kind\":\"meeting_user_id\",\"value\":"
		     "\"doc_wang01\"},\"meeting\":\"13339451618278424869\",\"outcome\":\"attended\",\"props\":"
		     "{\"id_field\":\"userid\",\"instance_id\":2,\"meeting_code\":\"445999969\"},\"source\":"
		     "\"meeting\",\"ts\":\"2024-03-07T08:41:40Z\",\"type\":\"leave\"}");
	mr_arena_release(&a);
}

static void test_leave_without_a_known_join_has_no_duration(void **state)
{
	int calls = 0;
	struct mr_meeting_opts no_lookup = { .now_us = NOW_US };
	struct mr_meeting_opts stale = { stale_join, &calls, NOW_US };
	struct mr_event out[2];
	struct mr_arena a;

	(void)state;
	mr_arena_init(&a);
	assert_int_equal(map_text(LEFT_EVENT, &no_lookup, &a, out, 2), 1);
	assert_string_equal(out[0].type, "leave");
	assert_int_equal(out[0].duration_s, -1);
	assert_int_equal(map_text(LEFT_EVENT, &stale, &a, out, 2), 1);
	assert_int_equal(out[0].duration_s, -1);
	/* a lookup that does not know this participant */
	assert_int_equal(map_text("{\"event\":\"meeting.participant-left\",\"trace_id\":\"t\",\"payload\":["
				  "{\"operate_time\":1709800900000,\"operator\":{\"userid\":\"someone_else\"},"
				  "\"meeting_info\":{\"meeting_id\":\"13339451618278424869\"}}]}",
				  &(struct mr_meeting_opts){ known_join, &calls, NOW_US }, &a, out, 2), 1);
	assert_int_equal(out[0].duration_s, -1);
	mr_arena_release(&a);
}

static void test_participant_ids_userid_then_uuid_never_ms_open_id(void **state)
{
	struct mr_meeting_opts opts = { .now_us = NOW_US };
	struct mr_event out[4];
	struct mr_arena a;
	const char *ev = "{\"event\":\"meeting.participant-joined\",\"trace_id\":\"abc\",\"payload\":["
			 "{\"operate_time\":1709800000000,\"operator\":{\"uuid\":\"WMfgHRYj6m36mcDGtK\","
			 "\"ms_open_id\":\"EO9R+x/y==\"},\"meeting_info\":{\"meeting_id\":\"m1\"}},"
			 "{\"operate_time\":1709800001000,\"operator\":{\"ms_open_id\":\"EO9R+x/y==\","
			 "\"user_name\":\"dial-in\",\"instance_id\":\"5\"},\"meeting_info\":{\"meeting_id\":\"m1\"}},"
			 "{\"operate_time\":1709800002000,\"operator\":{\"userid\":\"\",\"uuid\":\"WMzz\"},"
			 "\"meeting_info\":{\"meeting_id\":\"m1\"}}]}";

	(void)state;
	mr_arena_init(&a);
	/* the dial-in with only a per-meeting ms_open_id is skipped; indices stay those of the payload */
	assert_int_equal(map_text(ev, &opts, &a, out, 4), 2);
	assert_string_equal(out[0].id, "tencent_meeting:abc:0");
	assert_string_equal(out[0].id_value, "WMfgHRYj6m36mcDGtK");
	assert_string_equal(out[0].props, "{\"id_field\":\"uuid\"}");
	assert_string_equal(out[1].id, "tencent_meeting:abc:2");
	assert_string_equal(out[1].id_value, "WMzz");
	mr_arena_release(&a);
}

static void test_replay_gives_identical_ids(void **state)
{
	struct mr_meeting_opts opts = { .now_us = NOW_US };
	struct mr_event first[3], again[3];
	struct mr_arena a, b;
	const char *ev = "{\"event\":\"meeting.participant-joined\",\"unique_sequence\":\"u-77\",\"payload\":["
			 "{\"operate_time\":1709800000000,\"operator\":{\"userid\":\"d1\"},\"meeting_info\":"
			 "{\"meeting_id\":\"m9\"}},"
			 "{\"operate_time\":1709800000000,\"operator\":{\"userid\":\"d2\"},\"meeting_info\":"
			 "{\"meeting_id\":\"m9\"}}]}";

	(void)state;
	mr_arena_init(&a);
	mr_arena_init(&b);
	assert_int_equal(map_text(ev, &opts, &a, first, 3), 2);
	assert_int_equal(map_text(ev, &opts, &b, again, 3), 2);
	for (int i = 0; i < 2; i++) {
		assert_string_equal(first[i].id, again[i].id);
		assert_int_equal(first[i].ts, again[i].ts);
	}
	assert_string_equal(first[0].id, "tencent_meeting:u-77:0");
	assert_string_equal(first[1].id, "tencent_meeting:u-77:1");
	/* unique_sequence wins over trace_id when both are there */
	assert_int_equal(map_text("{\"event\":\"meeting.participant-joined\",\"unique_sequence\":\"u\","
				  "\"trace_id\":\"t\",\"payload\":[{\"operate_time\":1709800000000,"
				  "\"operator\":{\"userid\":\"d1\"},\"meeting_info\":{\"meeting_id\":\"m9\"}}]}",
				  &opts, &a, first, 3), 1);
	assert_string_equal(first[0].id, "tencent_meeting:u:0");
	mr_arena_release(&a);
	mr_arena_release(&b);
}

static void test_meeting_started_and_end_give_no_rows(void **state)
{
	static const char *const names[] = { "meeting.started", "meeting.end" };
	struct mr_meeting_opts opts = { .now_us = NOW_US };
	struct mr_event out[2];
	struct mr_arena a;
	char ev[512];

	(void)state;
	mr_arena_init(&a);
	for (int i = 0; i < 2; i++) {
		snprintf(ev, sizeof(ev),
			 "{\"event\":\"%s\",\"trace_id\":\"t1\",\"payload\":[{\"operate_time\":1709800000000,"
			 "\"operator\":{\"userid\":\"host1\"},\"meeting_info\":{\"meeting_id\":\"m1\"},"
			 "\"meeting_end_type\":0}]}", names[i]);
		assert_int_equal(map_text(ev, &opts, &a, out, 2), 0);
	}
	mr_arena_release(&a);
}

static void test_old_style_operate_time_is_shanghai_local(void **state)
{
	struct mr_meeting_opts opts = { .now_us = NOW_US };
	struct mr_event out[2];
	struct mr_arena a;

	(void)state;
	mr_arena_init(&a);
	assert_int_equal(map_text("{\"event\":\"meeting.participant-joined\",\"unique_sequence\":\"s\","
				  "\"payload\":[{\"operate_time\":\"2020-12-29 17:41:06\",\"operator\":"
				  "{\"userid\":\"d\"},\"meeting_info\":{\"meeting_id\":\"m\"}},"
				  "{\"operate_time\":\"1609234866000\",\"operator\":{\"userid\":\"d\"},"
				  "\"meeting_info\":{\"meeting_id\":\"m\"}}]}",
				  &opts, &a, out, 2), 2);
	/* 17:41:06 at +08:00 is 09:41:06Z; the numeric string is the same instant in ms */
	assert_int_equal(out[0].ts, INT64_C(1609234866) * 1000000);
	assert_int_equal(out[1].ts, INT64_C(1609234866) * 1000000);
	mr_arena_release(&a);
}

static void test_unknown_and_malformed_events(void **state)
{
	struct mr_err err;
	struct mr_meeting_opts opts = { .now_us = NOW_US };
	struct mr_event out[1];
	struct mr_arena a;
	json_t *ev;
	int n = -1;

	(void)state;
	err = map_fail("{\"event\":\"recording.completed\",\"trace_id\":\"t\",\"payload\":[]}", MR_EUNPROC);
	assert_string_equal(err.kind, "ignored");
	err = map_fail("{\"trace_id\":\"t\",\"payload\":[]}", MR_EINVAL);
	assert_string_equal(err.field, "event");
	err = map_fail("{\"event\":\"meeting.participant-joined\",\"trace_id\":\"t\",\"payload\":{}}", MR_EINVAL);
	assert_string_equal(err.field, "payload");
	err = map_fail("{\"event\":\"meeting.participant-joined\",\"payload\":[{\"operate_time\":1709800000000,"
		       "\"operator\":{\"userid\":\"d\"},\"meeting_info\":{\"meeting_id\":\"m\"}}]}", MR_EINVAL);
	assert_string_equal(err.field, "unique_sequence");
	err = map_fail("{\"event\":\"meeting.participant-joined\",\"trace_id\":\"t\",\"payload\":["
		       "{\"operate_time\":1709800000000,\"operator\":{\"userid\":\"d\"},\"meeting_info\":{}}]}",
		       MR_EINVAL);
	assert_string_equal(err.field, "payload[0].meeting_info.meeting_id");
	err = map_fail("{\"event\":\"meeting.participant-joined\",\"trace_id\":\"t\",\"payload\":["
		       "{\"operate_time\":\"soon\",\"operator\":{\"userid\":\"d\"},\"meeting_info\":"
		       "{\"meeting_id\":\"m\"}}]}", MR_EINVAL);
	assert_string_equal(err.field, "payload[0].operate_time");
	err = map_fail("{\"event\":\"meeting.participant-joined\",\"trace_id\":\"t\",\"payload\":["
		       "{\"operate_time\":1709800000000,\"meeting_info\":{\"meeting_id\":\"m\"}}]}", MR_EINVAL);
	assert_string_equal(err.field, "payload[0].operator");
	/* seconds where milliseconds belong land in 1970: the contract refuses, naming the member */
	err = map_fail("{\"event\":\"meeting.participant-joined\",\"trace_id\":\"t\",\"payload\":["
		       "{\"operate_time\":1709800000,\"operator\":{\"userid\":\"d\"},\"meeting_info\":"
		       "{\"meeting_id\":\"m\"}}]}", MR_EINVAL);
	assert_string_equal(err.field, "payload[0].operate_time");
	/* a user id the identity contract refuses */
	err = map_fail("{\"event\":\"meeting.participant-joined\",\"trace_id\":\"t\",\"payload\":["
		       "{\"operate_time\":1709800000000,\"operator\":{\"userid\":\"has space\"},"
		       "\"meeting_info\":{\"meeting_id\":\"m\"}}]}", MR_EINVAL);
	assert_string_equal(err.field, "payload[0].operator.userid");
	/* more entries than room */
	ev = json_loads("{\"event\":\"meeting.participant-joined\",\"trace_id\":\"t\",\"payload\":[{},{}]}", 0,
			NULL);
	mr_arena_init(&a);
	mr_err_clear(&err);
	assert_int_equal(mr_meeting_events(ev, &opts, &a, out, 1, &n, &err), MR_ETOOBIG);
	assert_int_equal(n, 0);
	mr_arena_release(&a);
	json_decref(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_matches_independent_vectors),
		cmocka_unit_test(test_verify_url_echoes_the_decoded_check_str),
		cmocka_unit_test(test_verify_url_refuses_bad_signatures),
		cmocka_unit_test(test_verify_url_refuses_malformed_check_str),
		cmocka_unit_test(test_open_decodes_tencents_published_example),
		cmocka_unit_test(test_open_and_map_a_join),
		cmocka_unit_test(test_open_refuses_tampering_and_malformed_bodies),
		cmocka_unit_test(test_leave_takes_its_duration_from_the_stored_join),
		cmocka_unit_test(test_leave_without_a_known_join_has_no_duration),
		cmocka_unit_test(test_participant_ids_userid_then_uuid_never_ms_open_id),
		cmocka_unit_test(test_replay_gives_identical_ids),
		cmocka_unit_test(test_meeting_started_and_end_give_no_rows),
		cmocka_unit_test(test_old_style_operate_time_is_shanghai_local),
		cmocka_unit_test(test_unknown_and_malformed_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
