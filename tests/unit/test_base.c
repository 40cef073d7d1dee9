/*
 * Unit tests of src/base: the capped buffer, the arena, UTF-8 checks,
 * integer parsing, RFC 3339 times and errors.
 */
#include "unit.h"

#include <time.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "base/str.h"
#include "base/time.h"

static void test_buf_cap_refuses_and_keeps_content(void **state)
{
	struct mr_buf b;

	(void)state;
	mr_buf_init(&b, 8);
	assert_int_equal(mr_buf_adds(&b, "hello"), 0);
	assert_int_equal(mr_buf_adds(&b, "world"), MR_ETOOBIG);
	assert_string_equal(mr_buf_str(&b), "hello");
	assert_int_equal(b.len, 5);
	assert_int_equal(mr_buf_addf(&b, "%d", 123), 0);
	assert_string_equal(mr_buf_str(&b), "hello123");
	assert_int_equal(mr_buf_addc(&b, 'x'), MR_ETOOBIG);
	mr_buf_reset(&b);
	assert_string_equal(mr_buf_str(&b), "");
	mr_buf_release(&b);
}

static void test_buf_grows_and_detaches(void **state)
{
	struct mr_buf b;
	size_t len;
	char *s;

	(void)state;
	mr_buf_init(&b, 1 << 20);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(mr_buf_addf(&b, "%04d", i % 10000), 0);
	assert_int_equal(b.len, 40000);
	assert_memory_equal(b.p + 39996, "9999", 4);
	s = mr_buf_detach(&b, &len);
	assert_int_equal(len, 40000);
	assert_null(b.p);
	free(s);
	mr_buf_release(&b);
}

static void test_arena_aligns_and_copies(void **state)
{
	struct mr_arena a;
	char *big;

	(void)state;
	mr_arena_init(&a);
	for (int i = 0; i < 1000; i++) {
		void *p = mr_arena_alloc(&a, (size_t)(i % 37) + 1);
		assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
	}
	big = mr_arena_alloc(&a, 100000);
	memset(big, 'x', 100000);
	assert_string_equal(mr_arena_strdup(&a, "医生"), "医生");
	assert_string_equal(mr_arena_strndup(&a, "abcdef", 3), "abc");
	assert_null(mr_arena_strdup(&a, NULL));
	mr_arena_release(&a);
}

static void test_utf8_check(void **state)
{
	(void)state;
	assert_int_equal(mr_utf8_check("plain", 5), 0);
	assert_int_equal(mr_utf8_check("王医生", strlen("王医生")), 0);
	assert_int_equal(mr_utf8_check("\xf0\x9f\x98\x80", 4), 0);     /* emoji */
	assert_int_equal(mr_utf8_check("ab\xff", 3), 3);              /* invalid byte */
	assert_int_equal(mr_utf8_check("\xc0\xaf", 2), 1);            /* overlong '/' */
	assert_int_equal(mr_utf8_check("\xed\xa0\x80", 3), 1);        /* UTF-16 surrogate */
	assert_int_equal(mr_utf8_check("x\xe7\x8e", 3), 2);           /* truncated */
	assert_int_equal(mr_utf8_check("\xf4\x90\x80\x80", 4), 1);    /* past U+10FFFF */
	assert_int_equal(mr_utf8_check("\xb0\xa1", 2), 1);            /* GBK bytes of 啊 */
	assert_int_equal(mr_utf8_len("王医生", strlen("王医生")), 3);
}

static void test_parse_i64(void **state)
{
	int64_t v = 0;

	(void)state;
	assert_int_equal(mr_parse_i64("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(mr_parse_i64("-5", -10, 10, &v), 0);
	assert_int_equal(v, -5);
	assert_int_equal(mr_parse_i64("101", 0, 100, &v), MR_EINVAL);
	assert_int_equal(mr_parse_i64("", 0, 100, &v), MR_EINVAL);
	assert_int_equal(mr_parse_i64("12abc", 0, 100, &v), MR_EINVAL);
	assert_int_equal(mr_parse_i64(" 1", 0, 100, &v), MR_EINVAL);
	assert_int_equal(mr_parse_i64("+1", 0, 100, &v), MR_EINVAL);
	assert_int_equal(mr_parse_i64("\t5", 0, 100, &v), MR_EINVAL);
	assert_int_equal(mr_parse_i64("-", -10, 100, &v), MR_EINVAL);
	assert_int_equal(mr_parse_i64("99999999999999999999", 0, INT64_MAX, &v), MR_EINVAL);
}

static void test_time_parse_and_format(void **state)
{
	int64_t us = 0;
	char out[40];

	(void)state;
	assert_int_equal(mr_time_parse("2024-03-05T09:12:00+08:00", 0, &us), 0);
	mr_time_format(us, out, sizeof(out));
	assert_string_equal(out, "2024-03-05T01:12:00Z");
	assert_int_equal(mr_time_parse("2024-03-05T01:12:00.25Z", 0, &us), 0);
	mr_time_format(us, out, sizeof(out));
	assert_string_equal(out, "2024-03-05T01:12:00.250000Z");
	assert_int_equal(mr_time_parse("2024-02-29", 8 * 3600, &us), 0);
	mr_time_format(us, out, sizeof(out));
	assert_string_equal(out, "2024-02-28T16:00:00Z"); /* midnight in Shanghai */
	assert_int_equal(mr_time_parse("2023-02-29", 0, &us), MR_EINVAL);
	assert_int_equal(mr_time_parse("2024-03-05T09:12:00", 0, &us), MR_EINVAL); /* no zone */
	assert_int_equal(mr_time_parse("2024-13-01", 0, &us), MR_EINVAL);
	assert_int_equal(mr_time_parse("2024-03-05T25:00:00Z", 0, &us), MR_EINVAL);
	assert_int_equal(mr_time_parse("yesterday", 0, &us), MR_EINVAL);
	assert_int_equal(mr_time_parse("0000-01-01", 8 * 3600, &us), MR_EINVAL);
	assert_int_equal(mr_time_parse("9999-12-31T23:59:59-00:01", 0, &us), MR_EINVAL);
	/* formatting agrees with gmtime_r across centuries, leap days and negative times */
	for (int64_t t = INT64_C(-62135596800); t < INT64_C(253402300800); t += INT64_C(86400) * 97 + 3671) {
		char ref[40];
		time_t tt = (time_t)t;
		struct tm tm;
		gmtime_r(&tt, &tm);
		snprintf(ref, sizeof(ref), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		mr_time_format(t * MR_US_PER_S, out, sizeof(out));
		assert_string_equal(out, ref);
		/* and parsing it back gives the same instant */
		assert_int_equal(mr_time_parse(ref, 0, &us), 0);
		assert_int_equal(us, t * MR_US_PER_S);
	}
	mr_time_format(-1, out, sizeof(out));
	assert_string_equal(out, "1969-12-31T23:59:59.999999Z");
	assert_int_equal(mr_time_parse("2024-03-05T09:12:00+0530", 0, &us), 0);
	mr_time_format(us, out, sizeof(out));
	assert_string_equal(out, "2024-03-05T03:42:00Z");
}

static void test_err_fill_and_names(void **state)
{
	struct mr_err err;

	(void)state;
	mr_err_clear(&err);
	assert_int_equal(mr_err_field(&err, MR_EINVAL, "login", "bad %s", "thing"), MR_EINVAL);
	assert_string_equal(err.msg, "bad thing");
	assert_string_equal(err.field, "login");
	assert_string_equal(mr_err_name(MR_ECONFLICT), "conflict");
	assert_string_equal(mr_err_name(MR_ETOOBIG), "too_large");
	assert_int_equal(mr_err_kind(&err, "invalid_credentials"), MR_EINVAL);
	assert_string_equal(err.kind, "invalid_credentials");
	/* a field name or message cut at the buffer's end never ends in half a character */
	{
		char longname[81];
		for (int i = 0; i < 40; i++)
			memcpy(longname + 2 * i, "é", 2);
		longname[80] = '\0';
		mr_err_field(&err, MR_EINVAL, longname, "field '%s' is unknown", longname);
		assert_int_equal(mr_utf8_check(err.field, strlen(err.field)), 0);
		assert_int_equal(strlen(err.field), 62);
		assert_int_equal(mr_utf8_check(err.msg, strlen(err.msg)), 0);
	}
	mr_err_set(&err, MR_EAUTH, "x");
	assert_null(err.kind);
	assert_string_equal(err.field, "");
}

/* Reads what fd holds from the start. */
static void read_all(int fd, char *out, size_t n)
{
	ssize_t k = pread(fd, out, n - 1, 0);
	out[k > 0 ? k : 0] = '\0';
}

static void test_log_buffering_keeps_order_and_flushes(void **state)
{
	char path[] = "/tmp/mr-unit-log-XXXXXX";
	char got[4096];
	int fd = mkstemp(path);
	int saved = dup(STDERR_FILENO);

	(void)state;
	assert_true(fd >= 0);
	dup2(fd, STDERR_FILENO);
	mr_log_set_level(MR_LOG_INFO);
	mr_log_info("event=direct n=1");
	mr_log_buffer_start();
	mr_log_info("event=buffered n=2");
	read_all(fd, got, sizeof(got));
	assert_non_null(strstr(got, "event=direct n=1"));
	assert_null(strstr(got, "event=buffered")); /* held back... */
	mr_log_warn("event=urgent n=3");
	read_all(fd, got, sizeof(got));
	/* ...until a warning, which goes out at once, after what was held */
	assert_non_null(strstr(got, "event=buffered n=2"));
	assert_true(strstr(got, "event=buffered n=2") < strstr(got, "event=urgent n=3"));
	mr_log_info("event=later n=4");
	usleep(400 * 1000); /* the flusher writes within 200 ms */
	read_all(fd, got, sizeof(got));
	assert_non_null(strstr(got, "event=later n=4"));
	mr_log_info("event=last n=5");
	mr_log_buffer_stop();
	read_all(fd, got, sizeof(got));
	assert_non_null(strstr(got, "level=info event=last n=5\n"));
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	unlink(path);
}

/* Slugs (saved segments, experiments, rules): a-z 0-9 first, then _ and - too, 1 to max bytes. */
static void test_str_slug(void **state)
{
	char long_name[70];

	(void)state;
	assert_true(mr_str_slug_ok("a", 64));
	assert_true(mr_str_slug_ok("q3-endo_push", 64));
	assert_true(mr_str_slug_ok("2026", 64));
	assert_false(mr_str_slug_ok("", 64));
	assert_false(mr_str_slug_ok(NULL, 64));
	assert_false(mr_str_slug_ok("-a", 64));
	assert_false(mr_str_slug_ok("_a", 64));
	assert_false(mr_str_slug_ok("Endo", 64));
	assert_false(mr_str_slug_ok("a b", 64));
	assert_false(mr_str_slug_ok("内分泌", 64));
	memset(long_name, 'a', 64);
	long_name[64] = '\0';
	assert_true(mr_str_slug_ok(long_name, 64));
	long_name[64] = 'a';
	long_name[65] = '\0';
	assert_false(mr_str_slug_ok(long_name, 64));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_str_slug),
		cmocka_unit_test(test_buf_cap_refuses_and_keeps_content),
		cmocka_unit_test(test_buf_grows_and_detaches),
		cmocka_unit_test(test_arena_aligns_and_copies),
		cmocka_unit_test(test_utf8_check),
		cmocka_unit_test(test_parse_i64),
		cmocka_unit_test(test_time_parse_and_format),
		cmocka_unit_test(test_err_fill_and_names),
		cmocka_unit_test(test_log_buffering_keeps_order_and_flushes),
	};
	return cmocka_run_group_tests_name("base", tests, NULL, NULL);
}
