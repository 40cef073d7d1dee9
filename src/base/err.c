/*
 * Filling and naming errors. Kept tiny on purpose: errors are plain values,
 * with no hidden global state and nothing to free.
 */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Drops a multi-byte character that snprintf cut in two at the end of s. */
static void mr_err_trim_utf8(char *s)
{
	size_t n = strlen(s);
	size_t start = n;
	size_t need;
	unsigned char lead;

	while (start > 0 && ((unsigned char)s[start - 1] & 0xc0) == 0x80 && n - start < 3)
		start--;
	if (start == 0)
		return;
	lead = (unsigned char)s[start - 1];
	if (lead < 0xc0)
		return;
	need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
	if (n - (start - 1) < need)
		s[start - 1] = '\0';
}

void mr_err_clear(struct mr_err *err)
{
	/* field by field: it is cleared once per line of a bulk import */
	err->code = 0;
	err->msg[0] = '\0';
	err->field[0] = '\0';
	err->line = 0;
	err->column = 0;
	err->retry_after_s = 0;
	err->kind = NULL;
}

static int mr_err_vset(struct mr_err *err, int code, const char *fmt, va_list ap)
{
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	mr_err_trim_utf8(err->msg);
	return code;
}

int mr_err_set(struct mr_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mr_err_vset(err, code, fmt, ap);
	va_end(ap);
	err->field[0] = '\0';
	err->kind = NULL;
	return code;
}

int mr_err_field(struct mr_err *err, int code, const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mr_err_vset(err, code, fmt, ap);
	va_end(ap);
	snprintf(err->field, sizeof(err->field), "%s", field);
	mr_err_trim_utf8(err->field);
	err->kind = NULL;
	return code;
}

int mr_err_kind(struct mr_err *err, const char *kind)
{
	err->kind = kind;
	return err->code;
}

static const struct {
	int code;
	const char *name;
} mr_err_names[] = {
	{ MR_OK, "ok" },
	{ MR_EINVAL, "bad_request" },
	{ MR_EAUTH, "unauthenticated" },
	{ MR_EFORBIDDEN, "forbidden" },
	{ MR_ENOTFOUND, "not_found" },
	{ MR_EMETHOD, "method_not_allowed" },
	{ MR_ETIMEOUT, "request_timeout" },
	{ MR_ECONFLICT, "conflict" },
	{ MR_ETOOBIG, "too_large" },
	{ MR_EUNPROC, "unprocessable" },
	{ MR_ELIMIT, "too_many_requests" },
	{ MR_EDB, "database_error" },
	{ MR_EIO, "io_error" },
	{ MR_EINTERNAL, "internal_error" },
	{ MR_EHEADERS, "headers_too_large" },
	{ MR_EMEDIA, "unsupported_media_type" },
	{ MR_EUNAVAIL, "unavailable" },
};

const char *mr_err_name(int code)
{
	for (size_t i = 0; i < sizeof(mr_err_names) / sizeof(mr_err_names[0]); i++) {
		if (mr_err_names[i].code == code)
			return mr_err_names[i].name;
	}
	return "internal_error";
}
