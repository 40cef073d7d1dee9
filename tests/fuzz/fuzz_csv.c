/*
 * Fuzzes the streaming CSV reader (src/base/csv.c) that every import goes
 * through, over the whole input as a memory block, read as auto-detected,
 * as declared UTF-8 and as declared GB18030, with small caps so the
 * over-the-cap paths run. Invariants:
 *   - mr_csv_next returns 1, 0 or MR_EINVAL only (memory input cannot fail
 *     to read), and ends within one call per input byte;
 *   - every record has 1..max_fields fields, each valid UTF-8 with no NUL
 *     inside (len == strlen), within max_field, the record within
 *     max_record; record lines never go backwards and index counts up;
 *   - a bad record has a message, a line within the input's lines and a
 *     column within 0..max_fields + 1;
 *   - mr_csv_offset never goes backwards and never passes the input;
 *   - on input with no quote, no NUL and valid UTF-8, the reader agrees
 *     with splitting at CR, LF or CRLF and at the delimiter, blank lines
 *     skipped: an independent model of the unquoted half of RFC 4180.
 */
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "base/csv.h"
#include "base/err.h"
#include "base/str.h"
#include "fuzz.h"

/* Line breaks in the input: a record's line is at most this plus one. */
static int64_t fuzz_csv_lines(const uint8_t *p, size_t n)
{
	int64_t lines = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n' || (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n')))
			lines++;
	}
	return lines;
}

/* Appends a record to a transcript: "line:field\x1ffield\x1e". */
static void fuzz_csv_tx(struct mr_buf *tx, int64_t line, int nf, char *const *f,
			const size_t *lens)
{
	mr_buf_addf(tx, "%lld:", (long long)line);
	for (int i = 0; i < nf; i++) {
		if (i)
			mr_buf_addc(tx, '\x1f');
		mr_buf_add(tx, f[i], lens[i]);
	}
	mr_buf_addc(tx, '\x1e');
}

static void fuzz_csv_check_rec(const struct mr_csv_rec *r, const struct mr_csv_opts *o,
			       int64_t last_line, int64_t index)
{
	size_t total = 0;

	FUZZ_CHECK(r->nfields >= 1 && r->nfields <= o->max_fields, "1..max_fields fields");
	FUZZ_CHECK(r->line >= last_line && r->line >= 1, "record lines never go backwards");
	FUZZ_CHECK(r->index == index, "index counts the records returned");
	for (int i = 0; i < r->nfields; i++) {
		FUZZ_CHECK(strlen(r->fields[i]) == r->lens[i], "a field has no NUL inside");
		FUZZ_CHECK(mr_utf8_check(r->fields[i], r->lens[i]) == 0, "a field is valid UTF-8");
		FUZZ_CHECK(r->lens[i] <= o->max_field, "a field is within max_field");
		total += r->lens[i];
	}
	FUZZ_CHECK(total <= o->max_record, "a record is within max_record");
}

/* Reads all of p with opts o; the transcript of the good records goes to tx when not NULL. */
static void fuzz_csv_run(const uint8_t *p, size_t n, const struct mr_csv_opts *o, struct mr_buf *tx)
{
	struct mr_csv *c = NULL;
	struct mr_csv_rec r;
	struct mr_err err;
	int64_t last_line = 1, index = 0, lines = fuzz_csv_lines(p, n);
	uint64_t off = 0;
	size_t calls = 0;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = mr_csv_open_mem(&c, p, n, o, &err);
	if (rc < 0) {
		FUZZ_CHECK(rc == MR_EINVAL && o->encoding == MR_CSV_UTF16 && c == NULL,
			   "only UTF-16 without a BOM is refused at open");
		return;
	}
	for (;;) {
		memset(&err, 0, sizeof(err));
		rc = mr_csv_next(c, &r, &err);
		FUZZ_CHECK(++calls <= n + 2, "the reader ends: at most one record per byte");
		FUZZ_CHECK(rc == 1 || rc == 0 || rc == MR_EINVAL, "memory input cannot fail to read");
		FUZZ_CHECK(mr_csv_offset(c) >= off && mr_csv_offset(c) <= n,
			   "the offset grows and stays within the input");
		off = mr_csv_offset(c);
		if (rc == 0)
			break;
		if (rc == MR_EINVAL) {
			FUZZ_CHECK(err.code == MR_EINVAL && err.msg[0] != '\0', "a bad record says why");
			FUZZ_CHECK(err.line >= 1 && err.line <= lines + 1, "at a line of the input");
			FUZZ_CHECK(err.column >= 0 && err.column <= o->max_fields + 1,
				   "and a column within the record");
			FUZZ_CHECK(mr_utf8_check(err.msg, strlen(err.msg)) == 0, "in UTF-8");
			continue;
		}
		fuzz_csv_check_rec(&r, o, last_line, ++index);
		FUZZ_CHECK(r.line <= lines + 1, "a record starts on a line of the input");
		last_line = r.line;
		if (tx)
			fuzz_csv_tx(tx, r.line, r.nfields, r.fields, r.lens);
	}
	FUZZ_CHECK(mr_csv_next(c, &r, &err) == 0, "the end is sticky");
	mr_csv_free(c);
}

/* The model: split at line breaks and at the delimiter, skipping blank lines. */
static void fuzz_csv_model(const uint8_t *p, size_t n, char delim, struct mr_buf *tx)
{
	int64_t line = 1;
	size_t i = 0;

	while (i < n) {
		size_t end = i;

		while (end < n && p[end] != '\r' && p[end] != '\n')
			end++;
		if (end > i) {
			mr_buf_addf(tx, "%lld:", (long long)line);
			for (size_t k = i; k < end; k++)
				mr_buf_addc(tx, p[k] == (uint8_t)delim ? '\x1f' : (char)p[k]);
			mr_buf_addc(tx, '\x1e');
		}
		if (end < n) {
			line++;
			end += p[end] == '\r' && end + 1 < n && p[end + 1] == '\n' ? 2 : 1;
		}
		i = end;
	}
}

/* 1 when the model applies: UTF-8 without a BOM, quotes, NULs or the transcript's separators. */
static int fuzz_csv_plain(const uint8_t *p, size_t n)
{
	if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\0' || p[i] == 0x1e || p[i] == 0x1f)
			return 0;
	}
	return mr_utf8_check((const char *)p, n) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum mr_csv_encoding encs[] = { MR_CSV_AUTO, MR_CSV_UTF8, MR_CSV_GB18030,
						     MR_CSV_UTF16 };
	struct mr_csv_opts small = { .max_field = 24, .max_record = 64, .max_fields = 6 };
	struct mr_csv_opts wide = { .encoding = MR_CSV_UTF8, .max_field = 1 << 16,
				    .max_record = 1 << 16, .max_fields = 1 << 13 };
	struct mr_buf got, want;

	for (size_t i = 0; i < sizeof(encs) / sizeof(encs[0]); i++) {
		small.encoding = encs[i];
		small.delimiter = i == 2 ? ';' : ',';
		fuzz_csv_run(data, size, &small, NULL);
	}
	if (!fuzz_csv_plain(data, size))
		return 0;
	mr_buf_init(&got, 1 << 20);
	mr_buf_init(&want, 1 << 20);
	fuzz_csv_run(data, size, &wide, &got);
	fuzz_csv_model(data, size, ',', &want);
	FUZZ_CHECK(got.len == want.len && memcmp(mr_buf_str(&got), mr_buf_str(&want), got.len) == 0,
		   "unquoted input reads as split lines and fields");
	mr_buf_release(&got);
	mr_buf_release(&want);
	return 0;
}
