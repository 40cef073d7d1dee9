/*
 * Errors as values. A fallible function returns 0 or a negative MR_E code and
 * fills the struct mr_err its caller passed last: a code, a message a user can
 * act on, and where the problem is (field, line, column). The HTTP layer maps
 * the code to a status and the rest to the error body; the CLI prints it.
 */
#ifndef MR_BASE_ERR_H
#define MR_BASE_ERR_H

#include <stdint.h>

enum mr_code {
	MR_OK = 0,
	MR_EINVAL = -1,     /* malformed input: 400 */
	MR_EAUTH = -2,      /* not authenticated: 401 */
	MR_EFORBIDDEN = -3, /* authenticated, not allowed: 403 */
	MR_ENOTFOUND = -4,  /* 404 */
	MR_EMETHOD = -5,    /* 405 */
	MR_ETIMEOUT = -6,   /* 408 */
	MR_ECONFLICT = -7,  /* 409 */
	MR_ETOOBIG = -8,    /* 413 */
	MR_EUNPROC = -9,    /* well-formed but semantically wrong: 422 */
	MR_ELIMIT = -10,    /* rate limited: 429 */
	MR_EDB = -11,       /* database failure: 500 */
	MR_EIO = -12,       /* file or network I/O: 500 */
	MR_EINTERNAL = -13, /* a bug: 500 */
	MR_EHEADERS = -14,  /* request headers too large: 431 */
	MR_EMEDIA = -15,    /* unsupported media type: 415 */
	MR_EUNAVAIL = -16,  /* shutting down or overloaded: 503 */
};

struct mr_err {
	int code;              /* an enum mr_code, 0 when unset */
	char msg[320];         /* what went wrong, for a person */
	char field[64];        /* the input field at fault, or "" */
	int64_t line;          /* 1-based line in the input, 0 when unknown */
	int64_t column;        /* 1-based column, 0 when unknown */
	int64_t retry_after_s; /* for MR_ELIMIT: seconds until a retry may work */
	const char *kind;      /* a specific snake_case code (string literal) or NULL */
};

/* Sets code and a printf-style message; returns code, so `return mr_err_set(...)` reads well. */
int mr_err_set(struct mr_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* As mr_err_set, also naming the input field at fault. */
int mr_err_field(struct mr_err *err, int code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Names the error more precisely than its code ("invalid_credentials"); returns err->code. */
int mr_err_kind(struct mr_err *err, const char *kind);
/* Clears err to "no error". */
void mr_err_clear(struct mr_err *err);
/* The snake_case name of a code, as used in API error bodies ("bad_request", ...). */
const char *mr_err_name(int code);

#endif
