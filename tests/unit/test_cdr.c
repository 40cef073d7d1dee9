/*
 * Unit tests of src/channels/cdr.c: call-centre CDR files, read through
 * the real CSV reader (base/csv.h), mapped to phone events.
 *
 * Most tests compare a transcript of a whole file: per good row
 * "L<line> <id> <phone> <outcome> <duration_s> <ts> <rep or ->", per bad
 * row "E<line>,<column> <field>" (the reader's own complaints have the
 * field "csv"), so a test reads as file -> import report.
 */
#include "unit.h"

#include "base/arena.h"
#include "base/buf.h"
#include "base/csv.h"
#include "base/err.h"
#include "base/time.h"
#include "channels/cdr.h"
#include "event/event.h"

/* Appends the transcript line of one mapped row. */
static void tx_event(struct mr_buf *b, int64_t line, const struct mr_event *ev)
{
	char when[40];

	mr_time_format(ev->ts, when, sizeof(when));
	mr_buf_addf(b, "L%lld %s %s %s %lld %s %s\n", (long long)line, ev->id, ev->id_value,
		    mr_outcome_name(ev->channel, ev->outcome), (long long)ev->duration_s, when,
		    ev->rep ? ev->rep : "-");
	assert_int_equal(ev->channel, MR_CH_PHONE);
	assert_string_equal(ev->type, "call");
	assert_string_equal(ev->source, "cdr");
	assert_string_equal(ev->id_kind, "phone");
}

/* Reads the n bytes of a CDR file with rules r into transcript b; the last error message into msg. */
static void tx_cdr(const char *p, size_t n, const struct mr_cdr_rules *r, struct mr_buf *b, char *msg,
		   size_t msgn)
{
	struct mr_csv *c = NULL;
	struct mr_csv_rec rec;
	struct mr_cdr_cols cols;
	struct mr_event ev;
	struct mr_arena a;
	struct mr_err err;
	int rc;

	mr_err_clear(&err);
	mr_arena_init(&a);
	assert_int_equal(mr_csv_open_mem(&c, p, n, NULL, &err), 0);
	assert_int_equal(mr_csv_next(c, &rec, &err), 1);
	if (mr_cdr_header(rec.nfields, (const char *const *)rec.fields, &cols, &err) < 0) {
		mr_buf_addf(b, "H %s\n", err.field);
		snprintf(msg, msgn, "%s", err.msg);
		goto out;
	}
	for (;;) {
		mr_err_clear(&err);
		rc = mr_csv_next(c, &rec, &err);
		if (rc == 0)
			break;
		if (rc == MR_EINVAL) {
			mr_buf_addf(b, "E%lld,%lld csv\n", (long long)err.line, (long long)err.column);
			continue;
		}
		assert_int_equal(rc, 1);
		rc = mr_cdr_row(r, &cols, rec.nfields, (const char *const *)rec.fields, rec.line, &a, &ev, &err);
		if (rc == 0) {
			tx_event(b, rec.line, &ev);
		} else {
			assert_int_equal(rc, MR_EINVAL);
			mr_buf_addf(b, "E%lld,%lld %s\n", (long long)err.line, (long long)err.column, err.field);
			snprintf(msg, msgn, "%s", err.msg);
		}
	}
out:
	mr_csv_free(c);
	mr_arena_release(&a);
}

/* Asserts the transcript of CSV text s under rules r (NULL: the defaults) is want; returns the last message. */
static void expect_cdr(const char *s, const struct mr_cdr_rules *r, const char *want, char *msg, size_t msgn)
{
	struct mr_cdr_rules defaults;
	char scratch[320];
	struct mr_buf b;

	mr_cdr_rules_default(&defaults);
	mr_buf_init(&b, 1 << 20);
	if (!msg) {
		msg = scratch;
		msgn = sizeof(scratch);
	}
	msg[0] = '\0';
	tx_cdr(s, strlen(s), r ? r : &defaults, &b, msg, msgn);
	assert_string_equal(mr_buf_str(&b), want);
	mr_buf_release(&b);
}

/* Rules from JSON text, asserting they load; strings in a. */
static void rules_of(const char *text, struct mr_cdr_rules *r, struct mr_arena *a)
{
	json_t *o = json_loads(text, 0, NULL);
	struct mr_err err;

	assert_non_null(o);
	mr_err_clear(&err);
	if (mr_cdr_rules_from_json(o, r, a, &err) < 0)
		fail_msg("rules: %s [%s]", err.msg, err.field);
	json_decref(o);
}

/* Asserts rules JSON text is refused with MR_EINVAL naming field. */
static void rules_refused(const char *text, const char *field)
{
	json_t *o = json_loads(text, 0, NULL);
	struct mr_cdr_rules r;
	struct mr_arena a;
	struct mr_err err;

	assert_non_null(o);
	mr_arena_init(&a);
	mr_err_clear(&err);
	assert_int_equal(mr_cdr_rules_from_json(o, &r, &a, &err), MR_EINVAL);
	assert_string_equal(err.field, field);
	json_decref(o);
	mr_arena_release(&a);
}

/* ---- mapping ---- */

static void test_cdr_asterisk_export_and_thresholds(void **state)
{
	(void)state;
	/* Asterisk's columns: duration includes ringing, billsec is the talk time (used) */
	expect_cdr("accountcode,src,dst,dcontext,start,answer,end,duration,billsec,disposition,uniqueid\n"
		   "x,8001,13812345678,out,2024-03-05 09:12:00,,,40,29,ANSWERED,1709601120.1\n"
		   "x,8001,13812345678,out,2024-03-05 09:20:00,,,45,30,ANSWERED,1709601120.2\n"
		   "x,8001,13812345678,out,2024-03-05 09:30:00,,,130,119,answered,1709601120.3\n"
		   "x,8001,13812345678,out,2024-03-05 09:40:00,,,125,120,ANSWERED,1709601120.4\n"
		   "x,8001,13812345678,out,2024-03-05 09:50:00,,,20,0,NO ANSWER,1709601120.5\n"
		   "x,8001,13812345678,out,2024-03-05 09:55:00,,,3,0,BUSY,1709601120.6\n"
		   "x,13912345678,8002,in,2024-03-05T10:00:00+08:00,,,300,290,ANSWERED,1709601120.7\n",
		   NULL,
		   "L2 cdr:1709601120.1 +8613812345678 answered 29 2024-03-05T01:12:00Z -\n"
		   "L3 cdr:1709601120.2 +8613812345678 successful 30 2024-03-05T01:20:00Z -\n"
		   "L4 cdr:1709601120.3 +8613812345678 successful 119 2024-03-05T01:30:00Z -\n"
		   "L5 cdr:1709601120.4 +8613812345678 effective 120 2024-03-05T01:40:00Z -\n"
		   "L6 cdr:1709601120.5 +8613812345678 no_answer 0 2024-03-05T01:50:00Z -\n"
		   "L7 cdr:1709601120.6 +8613812345678 no_answer 0 2024-03-05T01:55:00Z -\n"
		   "L8 cdr:1709601120.7 +8613912345678 effective 290 2024-03-05T02:00:00Z -\n",
		   NULL, 0);
}

static void test_cdr_bad_rows_are_reported_and_good_rows_kept(void **state)
{
	(void)state;
	expect_cdr("call_id,caller,callee,start,duration,disposition,agent\n"
		   "c1,8001,13812345678,2024-03-05 09:12:00,35,ANSWERED,rep_li\n"
		   "c2,8001,13812345678,2024-03-05 09:13:00,-5,ANSWERED,rep_li\n"
		   "c3,8001,13812345678,2024-03-05 09:14:00,abc,ANSWERED,rep_li\n"
		   "c4,8001,13812345678,2024-03-05 09:15:00,90000,ANSWERED,rep_li\n"
		   "c5,8001,13812345678,yesterday,35,ANSWERED,rep_li\n"
		   "c6,8001,13812345678,2024-03-05,35,ANSWERED,rep_li\n"
		   "c7,8001,13812345678,2024-03-05 09:18:00,35,VOICEMAIL,rep_li\n"
		   "c8,8001,8002,2024-03-05 09:19:00,35,ANSWERED,rep_li\n"
		   "c9,8001,13812345678,2024-03-05 09:20:00,35,ANSWERED,rep \"li\"\n"
		   "c10,8001,13812345678,2024-03-05 09:21:00,35,,rep_li\n"
		   "c 11,8001,13812345678,2024-03-05 09:22:00,35,ANSWERED,rep_li\n"
		   "c12,8001,13812345678,2024-03-05 09:23:00,35,ANSWERED,rep li\n"
		   "c13,8001,13812345678,2024-03-05 09:24:00,35,ANSWERED\n",
		   NULL,
		   "L2 cdr:c1 +8613812345678 successful 35 2024-03-05T01:12:00Z rep_li\n"
		   "E3,5 duration\n"
		   "E4,5 duration\n"
		   "E5,5 duration\n"
		   "E6,4 start\n"
		   "E7,4 start\n"
		   "E8,6 disposition\n"
		   "E9,3 callee\n"
		   "E10,7 csv\n"
		   "E11,6 disposition\n"
		   "E12,1 call_id\n"
		   "E13,7 agent\n"
		   "L14 cdr:c13 +8613812345678 successful 35 2024-03-05T01:24:00Z -\n",
		   NULL, 0);
}

static void test_cdr_error_messages_say_what_to_fix(void **state)
{
	char msg[320];

	(void)state;
	expect_cdr("caller,callee,start,duration,disposition\n"
		   "8001,13812345678,2024-03-05 09:12:00,35,VOICEMAIL\n",
		   NULL, "E2,5 disposition\n", msg, sizeof(msg));
	assert_non_null(strstr(msg, "unknown disposition 'VOICEMAIL'"));
	assert_non_null(strstr(msg, "ANSWERED, NO ANSWER, NOANSWER, BUSY, FAILED, CONGESTION, CANCEL"));
	expect_cdr("caller,callee,start,duration,disposition\n"
		   "8001,13812345678,2024-03-05 09:12:00,35,\n",
		   NULL, "E2,5 disposition\n", msg, sizeof(msg));
	assert_non_null(strstr(msg, "the disposition is empty; known: ANSWERED"));
	expect_cdr("caller,callee,start,duration,disposition\n"
		   "8001,13812345678,2024-03-05 09:12:00,-5,ANSWERED\n",
		   NULL, "E2,4 duration\n", msg, sizeof(msg));
	assert_non_null(strstr(msg, "negative"));
	expect_cdr("caller,callee,start,duration,disposition\n"
		   "8001,13812345678,2024-03-05 09:12:00,86401,ANSWERED\n",
		   NULL, "E2,4 duration\n", msg, sizeof(msg));
	assert_non_null(strstr(msg, "over a day"));
	expect_cdr("caller,callee,start,duration,disposition\n"
		   "8001,8002,2024-03-05 09:12:00,5,ANSWERED\n",
		   NULL, "E2,2 callee\n", msg, sizeof(msg));
	assert_non_null(strstr(msg, "neither the callee '8002' nor the caller '8001'"));
	expect_cdr("caller,callee,start,duration,disposition\n"
		   "8001,13812345678,05/03/2024 09:12,5,ANSWERED\n",
		   NULL, "E2,3 start\n", msg, sizeof(msg));
	assert_non_null(strstr(msg, "Asia/Shanghai"));
}

static void test_cdr_inbound_outbound_and_direction(void **state)
{
	(void)state;
	expect_cdr("caller,callee,start,duration,disposition,direction\n"
		   /* outbound: the callee; inbound to an extension or a 400 number: the caller */
		   "8001,138-1234-5678,2024-03-05 09:00:00,10,ANSWERED,\n"
		   "+86 139 1234 5678,8001,2024-03-05 09:01:00,10,ANSWERED,\n"
		   "13712345678,4008001234,2024-03-05 09:02:00,10,ANSWERED,\n"
		   /* both are phones: outbound unless the direction says otherwise */
		   "021-12345678,13612345678,2024-03-05 09:03:00,10,ANSWERED,\n"
		   "13512345678,021-12345678,2024-03-05 09:04:00,10,ANSWERED,inbound\n"
		   "13512345678,021-12345678,2024-03-05 09:05:00,10,ANSWERED,呼入\n"
		   "13512345678,8001,2024-03-05 09:06:00,10,ANSWERED,OUT\n"
		   "13512345678,8001,2024-03-05 09:07:00,10,ANSWERED,sideways\n",
		   NULL,
		   "L2 cdr:8001:+8613812345678:2024-03-05T01:00:00Z +8613812345678 answered 10 2024-03-05T01:00:00Z -\n"
		   "L3 cdr:+8613912345678:8001:2024-03-05T01:01:00Z +8613912345678 answered 10 2024-03-05T01:01:00Z -\n"
		   "L4 cdr:+8613712345678:4008001234:2024-03-05T01:02:00Z +8613712345678 answered 10 2024-03-05T01:02:00Z -\n"
		   "L5 cdr:+862112345678:+8613612345678:2024-03-05T01:03:00Z +8613612345678 answered 10 2024-03-05T01:03:00Z -\n"
		   "L6 cdr:+8613512345678:+862112345678:2024-03-05T01:04:00Z +8613512345678 answered 10 2024-03-05T01:04:00Z -\n"
		   "L7 cdr:+8613512345678:+862112345678:2024-03-05T01:05:00Z +8613512345678 answered 10 2024-03-05T01:05:00Z -\n"
		   "E8,2 callee\n"
		   "E9,6 direction\n",
		   NULL, 0);
}

static void test_cdr_fallback_ids_are_stable_across_formats(void **state)
{
	(void)state;
	/* the same call written in local time and in RFC 3339, with different number formats */
	expect_cdr("src,dst,calldate,duration,disposition\n"
		   "8001,13812345678,2024-03-05 09:12:00,35,ANSWERED\n"
		   "8001,+86 138 1234 5678,2024-03-05T01:12:00Z,35,ANSWERED\n",
		   NULL,
		   "L2 cdr:8001:+8613812345678:2024-03-05T01:12:00Z +8613812345678 successful 35 2024-03-05T01:12:00Z -\n"
		   "L3 cdr:8001:+8613812345678:2024-03-05T01:12:00Z +8613812345678 successful 35 2024-03-05T01:12:00Z -\n",
		   NULL, 0);
}

static void test_cdr_durations_and_times(void **state)
{
	(void)state;
	expect_cdr("uniqueid,caller,callee,start_time,duration,disposition\n"
		   "a,8001,13812345678,2024/03/05 09:12:00,00:02:05,ANSWERED\n"
		   "b,8001,13812345678,2024-03-05 09:12:00.5,1:00:00,ANSWERED\n"
		   "c,8001,13812345678,2024-03-05 09:12:00,0:59,ANSWERED\n"
		   "d,8001,13812345678,2024-03-05 09:12:00,1:5,ANSWERED\n"
		   "e,8001,13812345678,2024-03-05 09:12:00,00:61,ANSWERED\n"
		   "f,8001,13812345678,2024-03-05 09:12:00,25:00:00,ANSWERED\n",
		   NULL,
		   "L2 cdr:a +8613812345678 effective 125 2024-03-05T01:12:00Z -\n"
		   "L3 cdr:b +8613812345678 effective 3600 2024-03-05T01:12:00.500000Z -\n"
		   "L4 cdr:c +8613812345678 successful 59 2024-03-05T01:12:00Z -\n"
		   "E5,5 duration\n"
		   "E6,5 duration\n"
		   "E7,5 duration\n",
		   NULL, 0);
}

static void test_cdr_gbk_file_with_chinese_headers(void **state)
{
	/* GBK, as Chinese Excel saves it (made with iconv -t GBK); in UTF-8 it reads:
	 *   通话ID,主叫号码,被叫号码,开始时间,通话时长,呼叫结果,坐席
	 *   c-1,8001,13812345678,2024-03-05 09:12:00,00:02:05,已接听,rep_li
	 *   c-2,8002,139 1234 5678,2024/03/05 10:00:00,0,未接听,rep_li
	 *   c-3,8003,13712345678,2024-03-05 11:00:00,45,语音信箱,rep_zhang */
	static const char gbk[] =
		"\xcd\xa8\xbb\xb0ID,\xd6\xf7\xbd\xd0\xba\xc5\xc2\xeb,\xb1\xbb\xbd\xd0\xba\xc5\xc2\xeb,"
		"\xbf\xaa\xca\xbc\xca\xb1\xbc\xe4,\xcd\xa8\xbb\xb0\xca\xb1\xb3\xa4,\xba\xf4\xbd\xd0\xbd\xe1"
		"\xb9\xfb,\xd7\xf8\xcf\xaf\r\n"
		"c-1,8001,13812345678,2024-03-05 09:12:00,00:02:05,\xd2\xd1\xbd\xd3\xcc\xfd,rep_li\r\n"
		"c-2,8002,139 1234 5678,2024/03/05 10:00:00,0,\xce\xb4\xbd\xd3\xcc\xfd,rep_li\r\n"
		"c-3,8003,13712345678,2024-03-05 11:00:00,45,\xd3\xef\xd2\xf4\xd0\xc5\xcf\xe4,rep_zhang\r\n";
	struct mr_cdr_rules r;
	struct mr_arena a;
	char msg[320];

	(void)state;
	mr_arena_init(&a);
	rules_of("{\"dispositions\":{\"已接听\":\"answered\",\"未接听\":\"no_answer\"}}", &r, &a);
	expect_cdr(gbk, &r,
		   "L2 cdr:c-1 +8613812345678 effective 125 2024-03-05T01:12:00Z rep_li\n"
		   "L3 cdr:c-2 +8613912345678 no_answer 0 2024-03-05T02:00:00Z rep_li\n"
		   "E4,6 disposition\n",
		   msg, sizeof(msg));
	/* the message quotes the cell and the known dispositions in UTF-8 */
	assert_non_null(strstr(msg, "unknown disposition '语音信箱'; known: 已接听, 未接听"));
	mr_arena_release(&a);
}

/* ---- header ---- */

static void test_cdr_header_names_and_missing_columns(void **state)
{
	static const char *const mixed[] = { " CALLER", "Callee ", "START_TIME", "Duration", "Disposition",
					     "Rep" };
	static const char *const both[] = { "caller", "callee", "start", "duration", "billsec",
					    "disposition", "uniqueid", "call_id" };
	static const char *const no_callee[] = { "src", "start", "duration", "disposition" };
	struct mr_cdr_cols cols;
	struct mr_err err;
	char msg[320];

	(void)state;
	mr_err_clear(&err);
	assert_int_equal(mr_cdr_header(6, mixed, &cols, &err), 0);
	assert_int_equal(cols.at[MR_CDR_CALLER], 0);
	assert_int_equal(cols.at[MR_CDR_CALLEE], 1);
	assert_int_equal(cols.at[MR_CDR_START], 2);
	assert_int_equal(cols.at[MR_CDR_AGENT], 5);
	assert_int_equal(cols.at[MR_CDR_CALL_ID], -1);
	assert_int_equal(cols.at[MR_CDR_DIRECTION], -1);
	/* billsec wins over duration, call_id over uniqueid, whatever their order */
	assert_int_equal(mr_cdr_header(8, both, &cols, &err), 0);
	assert_int_equal(cols.at[MR_CDR_DURATION], 4);
	assert_int_equal(cols.at[MR_CDR_CALL_ID], 7);
	assert_int_equal(mr_cdr_header(4, no_callee, &cols, &err), MR_EINVAL);
	assert_string_equal(err.field, "callee");
	assert_non_null(strstr(err.msg, "callee, dst, 被叫, 被叫号码"));
	/* through the reader as well */
	expect_cdr("caller,callee,duration,disposition\n1,2,3,4\n", NULL, "H start\n", msg, sizeof(msg));
	assert_non_null(strstr(msg, "start, start_time, calldate"));
}

/* ---- rules ---- */

static void test_cdr_custom_rules_from_json(void **state)
{
	struct mr_cdr_rules r;
	struct mr_arena a;

	(void)state;
	mr_arena_init(&a);
	rules_of("{\"dispositions\":{\"ANSWERED\":\"answered\",\"VOICEMAIL\":\"no_answer\","
		 "\"SALE\":\"effective\",\"no-answer\":\"no_answer\"},\"successful_s\":10,\"effective_s\":60}",
		 &r, &a);
	assert_int_equal(r.nmap, 4);
	assert_int_equal(r.successful_s, 10);
	assert_int_equal(r.effective_s, 60);
	expect_cdr("call_id,caller,callee,start,duration,disposition\n"
		   "1,8001,13812345678,2024-03-05 09:00:00,9,ANSWERED\n"
		   "2,8001,13812345678,2024-03-05 09:00:00,10,ANSWERED\n"
		   "3,8001,13812345678,2024-03-05 09:00:00,60,answered\n"
		   "4,8001,13812345678,2024-03-05 09:00:00,0,voicemail\n"
		   "5,8001,13812345678,2024-03-05 09:00:00,5,SALE\n"
		   "6,8001,13812345678,2024-03-05 09:00:00,0,NO ANSWER\n"
		   "7,8001,13812345678,2024-03-05 09:00:00,0,BUSY\n",
		   &r,
		   "L2 cdr:1 +8613812345678 answered 9 2024-03-05T01:00:00Z -\n"
		   "L3 cdr:2 +8613812345678 successful 10 2024-03-05T01:00:00Z -\n"
		   "L4 cdr:3 +8613812345678 effective 60 2024-03-05T01:00:00Z -\n"
		   "L5 cdr:4 +8613812345678 no_answer 0 2024-03-05T01:00:00Z -\n"
		   "L6 cdr:5 +8613812345678 effective 5 2024-03-05T01:00:00Z -\n"
		   "L7 cdr:6 +8613812345678 no_answer 0 2024-03-05T01:00:00Z -\n"
		   "E8,6 disposition\n", /* the map was replaced: BUSY is no longer known */
		   NULL, 0);
	/* only thresholds: the default map stays */
	rules_of("{\"effective_s\":300}", &r, &a);
	assert_int_equal(r.nmap, 7);
	assert_int_equal(r.successful_s, 30);
	assert_int_equal(r.effective_s, 300);
	mr_arena_release(&a);
}

static void test_cdr_default_country(void **state)
{
	struct mr_cdr_rules r;
	struct mr_arena a;

	(void)state;
	mr_arena_init(&a);
	rules_of("{\"default_country\":\"+44\"}", &r, &a);
	assert_string_equal(r.default_country, "44");
	expect_cdr("call_id,caller,callee,start,duration,disposition\n"
		   "1,8001,07911 123456,2024-03-05 09:00:00,5,ANSWERED\n"
		   "2,8001,+8613812345678,2024-03-05 09:00:00,5,ANSWERED\n"
		   "3,8001,0086 13812345678,2024-03-05 09:00:00,5,ANSWERED\n",
		   &r,
		   "L2 cdr:1 +447911123456 answered 5 2024-03-05T01:00:00Z -\n"
		   "L3 cdr:2 +8613812345678 answered 5 2024-03-05T01:00:00Z -\n"
		   "L4 cdr:3 +8613812345678 answered 5 2024-03-05T01:00:00Z -\n",
		   NULL, 0);
	mr_arena_release(&a);
}

static void test_cdr_rules_validation(void **state)
{
	char many[4096];
	size_t len;

	(void)state;
	rules_refused("{\"dispositions\":{\"ANSWERED\":\"read\"}}", "dispositions.ANSWERED");
	rules_refused("{\"dispositions\":{\"ANSWERED\":7}}", "dispositions.ANSWERED");
	rules_refused("{\"dispositions\":{}}", "dispositions");
	rules_refused("{\"dispositions\":[\"ANSWERED\"]}", "dispositions");
	rules_refused("{\"dispositions\":{\"NO ANSWER\":\"no_answer\",\"no_answer\":\"answered\"}}",
		      "dispositions.no_answer");
	rules_refused("{\"dispositions\":{\"\":\"answered\"}}", "dispositions");
	rules_refused("{\"successful_s\":200,\"effective_s\":120}", "successful_s");
	rules_refused("{\"successful_s\":0}", "successful_s");
	rules_refused("{\"effective_s\":86401}", "effective_s");
	rules_refused("{\"effective_s\":\"120\"}", "effective_s");
	rules_refused("{\"default_country\":\"0x\"}", "default_country");
	rules_refused("{\"default_country\":\"8612\"}", "default_country");
	rules_refused("{\"dispositon\":{}}", "dispositon");
	/* 33 dispositions: one too many */
	len = (size_t)snprintf(many, sizeof(many), "{\"dispositions\":{");
	for (int i = 0; i < 33; i++)
		len += (size_t)snprintf(many + len, sizeof(many) - len, "%s\"D%d\":\"answered\"", i ? "," : "", i);
	snprintf(many + len, sizeof(many) - len, "}}");
	rules_refused(many, "dispositions");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cdr_asterisk_export_and_thresholds),
		cmocka_unit_test(test_cdr_bad_rows_are_reported_and_good_rows_kept),
		cmocka_unit_test(test_cdr_error_messages_say_what_to_fix),
		cmocka_unit_test(test_cdr_inbound_outbound_and_direction),
		cmocka_unit_test(test_cdr_fallback_ids_are_stable_across_formats),
		cmocka_unit_test(test_cdr_durations_and_times),
		cmocka_unit_test(test_cdr_gbk_file_with_chinese_headers),
		cmocka_unit_test(test_cdr_header_names_and_missing_columns),
		cmocka_unit_test(test_cdr_custom_rules_from_json),
		cmocka_unit_test(test_cdr_default_country),
		cmocka_unit_test(test_cdr_rules_validation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
