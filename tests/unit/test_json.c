/*
 * Unit tests of src/base/json: what a server must refuse before trusting a
 * body, and the field getters' errors naming the field.
 */
#include "unit.h"

#include "base/json.h"

static int parse(const char *s, json_t **v, struct mr_err *err)
{
	mr_err_clear(err);
	return mr_json_parse(s, strlen(s), MR_JSON_MAX_DEPTH, v, err);
}

static void test_parse_reports_line_and_column(void **state)
{
	struct mr_err err;
	json_t *v = NULL;

	(void)state;
	assert_int_equal(parse("{\n  \"a\": 1,\n  \"b\": }", &v, &err), MR_EINVAL);
	assert_null(v);
	assert_int_equal(err.line, 3);
	assert_true(err.column >= 8);
	assert_non_null(strstr(err.msg, "malformed JSON"));
	assert_int_equal(parse("", &v, &err), MR_EINVAL);
	assert_non_null(strstr(err.msg, "empty"));
}

static void test_parse_caps_depth(void **state)
{
	char deep[200];
	struct mr_err err;
	json_t *v = NULL;

	(void)state;
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	assert_int_equal(mr_json_parse(deep, sizeof(deep), MR_JSON_MAX_DEPTH, &v, &err), MR_EINVAL);
	assert_non_null(strstr(err.msg, "deeper than 32"));
	assert_int_equal(err.column, MR_JSON_MAX_DEPTH + 1);
	/* brackets inside strings do not count */
	assert_int_equal(parse("{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}", &v, &err), 0);
	json_decref(v);
	/* exactly at the cap is fine */
	memset(deep, '[', 32);
	memset(deep + 32, ']', 32);
	assert_int_equal(mr_json_parse(deep, 64, MR_JSON_MAX_DEPTH, &v, &err), 0);
	json_decref(v);
}

static void test_parse_refuses_bad_utf8_and_duplicates(void **state)
{
	struct mr_err err;
	json_t *v = NULL;

	(void)state;
	assert_int_equal(parse("{\"name\":\"\xb0\xa1\"}", &v, &err), MR_EINVAL);
	assert_int_equal(parse("{\"a\":1,\"a\":2}", &v, &err), MR_EINVAL);
	assert_int_equal(parse("{\"a\":\"\\u0000\"}", &v, &err), MR_EINVAL);
	assert_int_equal(parse("{\"name\":\"王医生\"}", &v, &err), 0);
	json_decref(v);
	assert_int_equal(mr_json_parse_object("[1]", 3, &v, &err), MR_EINVAL);
	assert_non_null(strstr(err.msg, "object"));
}

static void test_getters_name_the_field(void **state)
{
	const char *allowed[] = { "login", "age", NULL };
	struct mr_err err;
	json_t *v = NULL;
	const char *s = NULL;
	int64_t i = 0;
	int present = 0;

	(void)state;
	assert_int_equal(parse("{\"login\":5,\"age\":\"x\",\"extra\":true}", &v, &err), 0);
	assert_int_equal(mr_json_str(v, "login", 1, 10, &s, &err), MR_EINVAL);
	assert_string_equal(err.field, "login");
	assert_non_null(strstr(err.msg, "must be a string"));
	assert_int_equal(mr_json_int(v, "age", 1, 0, 150, &i, &present, &err), MR_EINVAL);
	assert_string_equal(err.field, "age");
	assert_int_equal(mr_json_str(v, "missing", 1, 10, &s, &err), MR_EINVAL);
	assert_non_null(strstr(err.msg, "required"));
	assert_int_equal(mr_json_str(v, "missing", 0, 10, &s, &err), 0);
	assert_null(s);
	assert_int_equal(mr_json_only(v, allowed, &err), MR_EINVAL);
	assert_string_equal(err.field, "extra");
	json_decref(v);

	assert_int_equal(parse("{\"name\":\"一二三四五六\",\"n\":200}", &v, &err), 0);
	assert_int_equal(mr_json_str(v, "name", 1, 6, &s, &err), 0); /* 6 code points, 18 bytes */
	assert_int_equal(mr_json_str(v, "name", 1, 5, &s, &err), MR_EINVAL);
	assert_non_null(strstr(err.msg, "at most 5"));
	assert_int_equal(mr_json_int(v, "n", 1, 0, 150, &i, &present, &err), MR_EINVAL);
	assert_int_equal(mr_json_int(v, "n", 1, 0, 300, &i, &present, &err), 0);
	assert_int_equal(i, 200);
	assert_true(present);
	json_decref(v);
}

static void test_string_safe_replaces_bad_bytes(void **state)
{
	json_t *v = mr_json_string_safe("ok \xff\xfe done");

	(void)state;
	assert_non_null(v);
	assert_string_equal(json_string_value(v), "ok ?? done");
	json_decref(v);
}

static void test_render_matches_jansson(void **state)
{
	const char *docs[] = {
		"{\"a\":1,\"b\":[true,false,null],\"c\":\"王医生\",\"d\":{\"e\":-9223372036854775807}}",
		"[1e-7,\"quote \\\" backslash \\\\ tab \\t nl \\n ctl \\u0001 \\u001f del \\u007f\",0.5,1e300,-0.0,3.0]",
		"\"just a string\"", "42", "[]", "{}", "[[[[{}]]]]",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		json_error_t je;
		json_t *v = json_loads(docs[i], JSON_DECODE_ANY, &je);
		char *ref;
		struct mr_buf b;
		assert_non_null(v);
		ref = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		mr_buf_init(&b, 1 << 16);
		assert_int_equal(mr_json_render(v, &b), 0);
		assert_string_equal(mr_buf_str(&b), ref);
		free(ref);
		mr_buf_release(&b);
		/* a cap too small fails cleanly */
		mr_buf_init(&b, 3);
		if (strlen(docs[i]) > 3)
			assert_int_equal(mr_json_render(v, &b), MR_ETOOBIG);
		mr_buf_release(&b);
		json_decref(v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_reports_line_and_column),
		cmocka_unit_test(test_parse_caps_depth),
		cmocka_unit_test(test_parse_refuses_bad_utf8_and_duplicates),
		cmocka_unit_test(test_getters_name_the_field),
		cmocka_unit_test(test_string_safe_replaces_bad_bytes),
		cmocka_unit_test(test_render_matches_jansson),
	};
	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
