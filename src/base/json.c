/*
 * jansson does the parsing (it validates UTF-8 and rejects duplicate keys
 * when asked); what it lacks is a depth cap below its compile-time 2048,
 * so a quick pre-scan counts nesting before jansson sees the bytes.
 */
#include "base/json.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"

/* Returns the 1-based offset of the first bracket past max_depth, or 0. */
static size_t mr_json_depth_scan(const char *p, size_t n, int max_depth)
{
	int depth = 0;
	int in_str = 0;

	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"') {
			in_str = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > max_depth)
				return i + 1;
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
	return 0;
}

/* Turns a byte offset into a 1-based line and column (column counts code points). */
static void mr_json_locate(const char *p, size_t off, struct mr_err *err)
{
	int64_t line = 1;
	size_t line_start = 0;

	for (size_t i = 0; i + 1 < off; i++) {
		if (p[i] == '\n') {
			line++;
			line_start = i + 1;
		}
	}
	err->line = line;
	err->column = (int64_t)mr_utf8_len(p + line_start, off - line_start);
}

int mr_json_parse(const char *p, size_t n, int max_depth, json_t **out, struct mr_err *err)
{
	json_error_t je;
	size_t bad;
	json_t *v;

	*out = NULL;
	if (n == 0)
		return mr_err_set(err, MR_EINVAL, "the request body is empty; a JSON value was expected");
	bad = mr_json_depth_scan(p, n, max_depth);
	if (bad) {
		mr_err_set(err, MR_EINVAL, "JSON nested deeper than %d levels", max_depth);
		mr_json_locate(p, bad, err);
		return MR_EINVAL;
	}
	v = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
	if (!v) {
		mr_err_set(err, MR_EINVAL, "malformed JSON: %s", je.text);
		err->line = je.line > 0 ? je.line : 1;
		err->column = je.column > 0 ? je.column : 1;
		return MR_EINVAL;
	}
	*out = v;
	return 0;
}

int mr_json_parse_object(const char *p, size_t n, json_t **out, struct mr_err *err)
{
	int rc = mr_json_parse(p, n, MR_JSON_MAX_DEPTH, out, err);

	if (rc < 0)
		return rc;
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return mr_err_set(err, MR_EINVAL, "the request body must be a JSON object");
	}
	return 0;
}

int mr_json_str(json_t *obj, const char *key, int required, size_t max_len, const char **out,
		struct mr_err *err)
{
	json_t *v = json_object_get(obj, key);
	size_t len;

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return mr_err_field(err, MR_EINVAL, key, "field '%s' is required", key);
		return 0;
	}
	if (!json_is_string(v))
		return mr_err_field(err, MR_EINVAL, key, "field '%s' must be a string", key);
	len = mr_utf8_len(json_string_value(v), json_string_length(v));
	if (len == 0 && required)
		return mr_err_field(err, MR_EINVAL, key, "field '%s' must not be empty", key);
	if (len > max_len)
		return mr_err_field(err, MR_EINVAL, key,
				    "field '%s' is %zu characters long; at most %zu are allowed", key, len,
				    max_len);
	*out = json_string_value(v);
	return 0;
}

int mr_json_int(json_t *obj, const char *key, int required, int64_t min, int64_t max, int64_t *out,
		int *present, struct mr_err *err)
{
	json_t *v = json_object_get(obj, key);
	json_int_t i;

	if (present)
		*present = 0;
	if (!v || json_is_null(v)) {
		if (required)
			return mr_err_field(err, MR_EINVAL, key, "field '%s' is required", key);
		return 0;
	}
	if (!json_is_integer(v))
		return mr_err_field(err, MR_EINVAL, key, "field '%s' must be an integer", key);
	i = json_integer_value(v);
	if (i < min || i > max)
		return mr_err_field(err, MR_EINVAL, key, "field '%s' must be between %lld and %lld", key,
				    (long long)min, (long long)max);
	*out = (int64_t)i;
	if (present)
		*present = 1;
	return 0;
}

int mr_json_only(json_t *obj, const char *const *allowed, struct mr_err *err)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		int known = 0;
		for (const char *const *a = allowed; *a; a++) {
			if (strcmp(*a, key) == 0) {
				known = 1;
				break;
			}
		}
		if (!known)
			return mr_err_field(err, MR_EINVAL, key, "unknown field '%s'", key);
	}
	return 0;
}

void mr_json_set_str(json_t *obj, const char *key, const char *s)
{
	json_object_set_new(obj, key, s ? json_string(s) : json_null());
}

void mr_json_set_time(json_t *obj, const char *key, int64_t us)
{
	char buf[40];

	if (!us) {
		json_object_set_new(obj, key, json_null());
		return;
	}
	mr_time_format(us, buf, sizeof(buf));
	json_object_set_new(obj, key, json_string(buf));
}

json_t *mr_json_string_safe(const char *s)
{
	size_t n = strlen(s);
	char *copy;
	json_t *v;
	size_t bad;

	if (mr_utf8_check(s, n) == 0)
		return json_stringn(s, n);
	copy = mr_strndup(s, n);
	while ((bad = mr_utf8_check(copy, n)) != 0)
		copy[bad - 1] = '?';
	v = json_stringn(copy, n);
	free(copy);
	return v;
}

/* Appends s as a JSON string literal: quotes, and escapes for '"', '\\' and control bytes. */
static int mr_json_render_string(const char *s, size_t n, struct mr_buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t run = 0;
	int rc = mr_buf_addc(out, '"');

	for (size_t i = 0; i < n && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7] = { '\\', 0, 0, 0, 0, 0, 0 };
		size_t elen = 2;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		rc = mr_buf_add(out, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		if (rc == 0)
			rc = mr_buf_add(out, esc, elen);
	}
	if (rc == 0)
		rc = mr_buf_add(out, s + run, n - run);
	if (rc == 0)
		rc = mr_buf_addc(out, '"');
	return rc;
}

static int mr_json_render_real(double d, struct mr_buf *out)
{
	char num[40];
	int n = snprintf(num, sizeof(num), "%.17g", d);

	if (n <= 0 || (size_t)n >= sizeof(num))
		return MR_EINVAL;
	char *e = strchr(num, 'e');

	/* like jansson: "1e300", not "1e+300" or "1e-07" */
	if (e) {
		char *dst = e + 1;
		char *src = e + 1;
		if (*src == '+')
			src++;
		else if (*src == '-')
			*dst++ = *src++;
		while (*src == '0' && src[1] != '\0')
			src++;
		memmove(dst, src, strlen(src) + 1);
		n = (int)strlen(num);
	}
	/* like jansson: a real always shows it is one */
	if (!strpbrk(num, ".eE") && (size_t)n + 2 < sizeof(num)) {
		num[n++] = '.';
		num[n++] = '0';
		num[n] = '\0';
	}
	return mr_buf_add(out, num, (size_t)n);
}

int mr_json_render(json_t *v, struct mr_buf *out)
{
	char num[24];
	const char *key;
	json_t *item;
	size_t i;
	int rc = 0;
	int first = 1;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		rc = mr_buf_addc(out, '{');
		json_object_foreach(v, key, item) {
			if (rc == 0 && !first)
				rc = mr_buf_addc(out, ',');
			first = 0;
			if (rc == 0)
				rc = mr_json_render_string(key, strlen(key), out);
			if (rc == 0)
				rc = mr_buf_addc(out, ':');
			if (rc == 0)
				rc = mr_json_render(item, out);
		}
		return rc ? rc : mr_buf_addc(out, '}');
	case JSON_ARRAY:
		rc = mr_buf_addc(out, '[');
		json_array_foreach(v, i, item) {
			if (rc == 0 && i)
				rc = mr_buf_addc(out, ',');
			if (rc == 0)
				rc = mr_json_render(item, out);
		}
		return rc ? rc : mr_buf_addc(out, ']');
	case JSON_STRING:
		return mr_json_render_string(json_string_value(v), json_string_length(v), out);
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return mr_buf_adds(out, num);
	case JSON_REAL:
		return mr_json_render_real(json_real_value(v), out);
	case JSON_TRUE:
		return mr_buf_adds(out, "true");
	case JSON_FALSE:
		return mr_buf_adds(out, "false");
	default:
		return mr_buf_adds(out, "null");
	}
}
