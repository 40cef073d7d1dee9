/*
 * Fuzzes the JSON gate every request body passes (src/base/json.c):
 * mr_json_parse, mr_json_parse_object and the field readers handlers use on
 * the parsed object. Invariants:
 *   - mr_json_parse accepts exactly what jansson accepts (duplicates
 *     rejected) when it nests at most MR_JSON_MAX_DEPTH deep: the depth
 *     pre-scan neither lets deeper input through nor refuses valid input;
 *   - an accepted value round-trips through json_dumps/json_loads, and what
 *     the server would send back is accepted again;
 *   - a refusal is MR_EINVAL with a message and a line/column inside the input;
 *   - mr_json_parse_object succeeds exactly on objects;
 *   - mr_json_str, mr_json_int and mr_json_only agree with the object's content,
 *     and an error names its field as valid UTF-8 (it is rendered in JSON).
 */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "base/str.h"
#include "fuzz.h"

/* Containers nested in v: 0 for a scalar, 1 for [] or {}, ... */
static int fuzz_json_depth(json_t *v)
{
	int max = 0;

	if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			int d = fuzz_json_depth(json_array_get(v, i));
			if (d > max)
				max = d;
		}
		return max + 1;
	}
	if (json_is_object(v)) {
		const char *key;
		json_t *child;
		json_object_foreach(v, key, child) {
			int d = fuzz_json_depth(child);
			if (d > max)
				max = d;
		}
		return max + 1;
	}
	return 0;
}

static void fuzz_json_check_error(int rc, const struct mr_err *err, const char *p, size_t n)
{
	int64_t lines = 1;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n')
			lines++;
	}
	FUZZ_CHECK(rc == MR_EINVAL, "a refused body is MR_EINVAL");
	FUZZ_CHECK(err->code == MR_EINVAL, "err.code is set to MR_EINVAL");
	FUZZ_CHECK(err->msg[0] != '\0', "err.msg says what was wrong");
	FUZZ_CHECK(memchr(err->msg, '\0', sizeof(err->msg)) != NULL, "err.msg is terminated");
	if (n > 0) {
		FUZZ_CHECK(err->line >= 1 && err->line <= lines, "err.line is a line of the input");
		FUZZ_CHECK(err->column >= 1 && (size_t)err->column <= n + 1,
			   "err.column is a column of the input");
	}
}

static void fuzz_json_check_roundtrip(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_error_t je;
	json_t *back;
	json_t *again = NULL;
	struct mr_err err;

	FUZZ_CHECK(s != NULL, "an accepted value can be encoded");
	back = json_loads(s, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
	FUZZ_CHECK(back != NULL, "the encoded value decodes again");
	FUZZ_CHECK(json_equal(v, back), "the value survives json_dumps/json_loads unchanged");
	memset(&err, 0, sizeof(err));
	FUZZ_CHECK(mr_json_parse(s, strlen(s), MR_JSON_MAX_DEPTH, &again, &err) == 0,
		   "what the server encodes, it accepts again");
	FUZZ_CHECK(json_equal(v, again), "and reads the same value");
	json_decref(again);
	json_decref(back);
	free(s);
}

/* The error names key: all of it, or as much as fits, cut at a character boundary. */
static int fuzz_json_names(const char *field, const char *key)
{
	size_t n = strlen(field);

	return strncmp(field, key, n) == 0 && (key[n] == '\0' || n + 4 >= 64);
}

/* The field named in an error must be valid UTF-8, or the error body would lose it. */
static int fuzz_json_field_ok(const char *field)
{
	return mr_utf8_check(field, strlen(field)) == 0;
}

/* The field readers on every key of an accepted object. */
static void fuzz_json_check_fields(json_t *obj)
{
	static const char *const allowed[] = { "name", "email", "role", NULL };
	const char *key;
	json_t *val;
	int all_known = 1;
	struct mr_err err;
	int rc;

	json_object_foreach(obj, key, val) {
		const char *s = NULL;
		int64_t i = 0;
		int present = -1;
		int known = 0;

		for (const char *const *a = allowed; *a; a++)
			known |= strcmp(*a, key) == 0;
		all_known &= known;

		memset(&err, 0, sizeof(err));
		rc = mr_json_str(obj, key, 1, 8, &s, &err);
		if (json_is_string(val) && json_string_length(val) > 0 &&
		    mr_utf8_len(json_string_value(val), json_string_length(val)) <= 8) {
			FUZZ_CHECK(rc == 0 && s == json_string_value(val),
				   "mr_json_str returns a short enough string");
		} else {
			FUZZ_CHECK(rc == MR_EINVAL && s == NULL, "mr_json_str refuses anything else");
			FUZZ_CHECK(fuzz_json_names(err.field, key),
				   "mr_json_str's error names the field");
			FUZZ_CHECK(fuzz_json_field_ok(err.field),
				   "the field named in an error is valid UTF-8");
		}

		memset(&err, 0, sizeof(err));
		rc = mr_json_int(obj, key, 1, -100, 100, &i, &present, &err);
		if (json_is_integer(val) && json_integer_value(val) >= -100 &&
		    json_integer_value(val) <= 100) {
			FUZZ_CHECK(rc == 0 && present == 1 && i == json_integer_value(val),
				   "mr_json_int returns an in-range integer");
		} else {
			FUZZ_CHECK(rc == MR_EINVAL && present == 0, "mr_json_int refuses anything else");
		}
	}

	memset(&err, 0, sizeof(err));
	rc = mr_json_only(obj, allowed, &err);
	FUZZ_CHECK((rc == 0) == all_known, "mr_json_only refuses exactly the unknown keys");
	if (rc < 0) {
		int named = 0;
		json_object_foreach(obj, key, val) {
			named |= fuzz_json_names(err.field, key);
		}
		FUZZ_CHECK(err.code == MR_EINVAL && err.msg[0] != '\0' && named, "and names one");
		FUZZ_CHECK(fuzz_json_field_ok(err.field), "the field named in an error is valid UTF-8");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct mr_err err;
	json_error_t je;
	json_t *v = NULL;
	json_t *obj = NULL;
	json_t *ref;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = mr_json_parse(p, size, MR_JSON_MAX_DEPTH, &v, &err);

	/* The reference: jansson alone, with no depth cap below its own. */
	ref = size ? json_loadb(p, size, JSON_REJECT_DUPLICATES, &je) : NULL;
	FUZZ_CHECK((rc == 0) == (ref != NULL && fuzz_json_depth(ref) <= MR_JSON_MAX_DEPTH),
		   "mr_json_parse accepts exactly jansson's valid JSON within the depth cap");
	json_decref(ref);

	if (rc == 0) {
		FUZZ_CHECK(v != NULL, "success returns a value");
		FUZZ_CHECK(err.code == 0, "success leaves err unset");
		FUZZ_CHECK(fuzz_json_depth(v) <= MR_JSON_MAX_DEPTH, "the depth cap holds");
		fuzz_json_check_roundtrip(v);
	} else {
		FUZZ_CHECK(v == NULL, "failure returns no value");
		fuzz_json_check_error(rc, &err, p, size);
	}

	memset(&err, 0, sizeof(err));
	rc = mr_json_parse_object(p, size, &obj, &err);
	FUZZ_CHECK((rc == 0) == (v != NULL && json_is_object(v)),
		   "mr_json_parse_object accepts exactly the objects");
	if (rc == 0) {
		FUZZ_CHECK(json_equal(v, obj), "and reads the same object");
		fuzz_json_check_fields(obj);
	} else {
		FUZZ_CHECK(obj == NULL, "a refused body returns no object");
		FUZZ_CHECK(err.code == MR_EINVAL && err.msg[0] != '\0', "with a message");
	}
	json_decref(obj);
	json_decref(v);
	return 0;
}
