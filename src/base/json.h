/*
 * JSON in and out through jansson, with the checks a server needs before it
 * trusts a body: a size cap, a nesting-depth cap, valid UTF-8, no duplicate
 * keys. Field getters turn "wrong type" and "missing" into errors that name
 * the field. Ownership follows jansson: a returned json_t* is a new
 * reference the caller must json_decref; a borrowed one says so.
 */
#ifndef MR_BASE_JSON_H
#define MR_BASE_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

enum { MR_JSON_MAX_DEPTH = 32 };

/*
 * Parses n bytes as one JSON value nested at most max_depth deep. On error
 * fills err (MR_EINVAL) with what was wrong and its line and column.
 */
int mr_json_parse(const char *p, size_t n, int max_depth, json_t **out, struct mr_err *err);
/* As mr_json_parse, and the value must be an object. */
int mr_json_parse_object(const char *p, size_t n, json_t **out, struct mr_err *err);

/*
 * Reads obj[key] as a string of 1..max_len code points into *out (borrowed
 * from obj). A missing or null key leaves *out NULL and is an error only
 * when required.
 */
int mr_json_str(json_t *obj, const char *key, int required, size_t max_len, const char **out,
		struct mr_err *err);
/* Reads obj[key] as an integer within [min, max]; *present says whether it was there. */
int mr_json_int(json_t *obj, const char *key, int required, int64_t min, int64_t max, int64_t *out,
		int *present, struct mr_err *err);
/* Fails with MR_EINVAL naming the first key of obj that is not in the NULL-terminated allowed list. */
int mr_json_only(json_t *obj, const char *const *allowed, struct mr_err *err);

/*
 * Appends v as compact JSON to out (keys in insertion order). It writes the
 * same text as json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) at a fraction
 * of the cost: jansson's dumper spends ~4 µs on a small object, which on the
 * hottest routes was a tenth of the request. MR_ETOOBIG when out's cap is hit.
 */
int mr_json_render(json_t *v, struct mr_buf *out);
/* A JSON string of s with any invalid UTF-8 byte replaced by '?' (messages may quote input). */
json_t *mr_json_string_safe(const char *s);
/* Sets obj[key] to the string s, or to null when s is NULL. */
void mr_json_set_str(json_t *obj, const char *key, const char *s);
/* Sets obj[key] to the RFC 3339 form of us, or to null when us is 0. */
void mr_json_set_time(json_t *obj, const char *key, int64_t us);

#endif
