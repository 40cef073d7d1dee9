/*
 * The streaming CSV reader of csv.h. Input flows through three stages:
 *
 *   raw bytes  -> (ICU, for GB18030 and UTF-16) -> a window of UTF-8 -> records
 *
 * A file descriptor is read 64 KiB at a time; a memory block is parsed in
 * place when it is UTF-8 and converted piecewise otherwise. The parser is a
 * four-state RFC 4180 machine (field start, unquoted, quoted, just after a
 * quote inside quotes) whose state survives the end of a window, so a field,
 * a CRLF or a multi-byte character may straddle any chunk boundary.
 *
 * Each state scans ahead with a byte-class table and copies whole runs into
 * the record buffer, so the hot loop makes no call per byte. A field is
 * checked as UTF-8 once it is complete, word by word while it is ASCII.
 *
 * A bad record is never fatal: the first fault is remembered, the parser
 * switches to skipping (it keeps following quotes and line breaks, so it
 * finds where the record ends, but stores nothing), and the record is then
 * reported as MR_EINVAL. This is what keeps memory at one chunk plus one
 * capped record even for a 100 MB line.
 */
#include "base/csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <unicode/ucnv.h>
#include <unicode/ucnv_cb.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/str.h"

#define MR_CSV_CHUNK (64 * 1024)     /* raw bytes per read, and the detection probe */
#define MR_CSV_CONV (128 * 1024)     /* UTF-8 produced per conversion step */
#define MR_CSV_PIVOT 1024            /* UTF-16 units between the two ICU converters */

/* Byte classes: which bytes stop a scan in each state. */
#define MR_CSV_STOP_PLAIN 1u  /* unquoted: the delimiter, '"', CR, LF, NUL */
#define MR_CSV_STOP_QUOTED 2u /* quoted: '"', CR, LF, NUL */

enum mr_csv_state {
	MR_CSV_START,    /* before the first byte of a field */
	MR_CSV_UNQUOTED, /* inside a field that did not start with a quote */
	MR_CSV_QUOTED,   /* inside quotes */
	MR_CSV_QUOTE,    /* just after a quote inside quotes: "" or the closing one */
};

/* Why a record is bad; the first fault in a record is the one reported. */
enum mr_csv_fault {
	MR_CSV_FINE,
	MR_CSV_BAD_UTF8,
	MR_CSV_NUL,
	MR_CSV_FIELD_BIG,
	MR_CSV_RECORD_BIG,
	MR_CSV_TOO_MANY,
	MR_CSV_STRAY_QUOTE,
	MR_CSV_AFTER_QUOTE,
	MR_CSV_UNCLOSED,
};

struct mr_csv {
	struct mr_csv_opts o;
	enum mr_csv_encoding enc;  /* as detected: never MR_CSV_AUTO */
	unsigned char delim;
	unsigned char cls[256];    /* MR_CSV_STOP_* bits per byte */

	/* Raw input: a file descriptor or a borrowed memory block. */
	int fd;                    /* -1 for memory input */
	unsigned char *chunk;      /* fd input, MR_CSV_CHUNK bytes */
	int raw_eof;               /* no raw bytes left to hand out */
	uint64_t raw_off;          /* raw bytes handed out so far */

	/* Conversion to UTF-8 (GB18030, UTF-16); from is NULL for UTF-8 input. */
	UConverter *from;
	UConverter *to;
	const char *src;           /* raw bytes not yet converted */
	const char *src_end;
	UChar pivot[MR_CSV_PIVOT];
	UChar *pivot_src;
	UChar *pivot_dst;
	char *conv;                /* MR_CSV_CONV bytes of converted UTF-8 */
	int reset;                 /* the first conversion step resets the converters */
	int flushed;               /* the converters have emitted everything */

	/* The window of UTF-8 the parser works on. */
	const unsigned char *win;
	size_t win_len;
	size_t pos;
	uint64_t win_off;          /* UTF-8 input: raw offset of win[0] */

	/* Parse state, kept across windows. */
	enum mr_csv_state state;
	int cr_pending;            /* a CR ended the last window: a leading LF belongs to it */
	int64_t line;              /* physical line of the next byte */
	int64_t rec_line;          /* line on which the current record started */
	int64_t index;             /* records returned */
	int failed;                /* an I/O error ended the stream */

	/* The current record: fields back to back, each NUL-terminated. */
	struct mr_buf data;
	size_t rec_bytes;          /* field bytes, without the NULs */
	int nf;                    /* fields completed; the current one is fields[nf] */
	int cap;                   /* entries in offs, lens and fields */
	size_t *offs;
	size_t *lens;
	char **fields;
	int dirty;                 /* a record was returned or reported: clear it first */

	/* Faults of the current record. */
	int skip;                  /* store nothing until the record ends */
	enum mr_csv_fault fault;
	int fault_col;
	int quote_col;             /* field whose opening quote is still open */
};

int mr_csv_encoding_parse(const char *s)
{
	static const struct {
		const char *name;
		enum mr_csv_encoding enc;
	} names[] = {
		{ "auto", MR_CSV_AUTO },       { "utf-8", MR_CSV_UTF8 },       { "utf8", MR_CSV_UTF8 },
		{ "gb18030", MR_CSV_GB18030 }, { "gbk", MR_CSV_GB18030 },      { "gb2312", MR_CSV_GB18030 },
		{ "cp936", MR_CSV_GB18030 },   { "utf-16", MR_CSV_UTF16 },     { "utf16", MR_CSV_UTF16 },
	};

	for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(s, names[i].name) == 0)
			return (int)names[i].enc;
	}
	return -1;
}

const char *mr_csv_encoding_name(const struct mr_csv *c)
{
	switch (c->enc) {
	case MR_CSV_GB18030:
		return "gb18030";
	case MR_CSV_UTF16:
		return "utf-16";
	default:
		return "utf-8";
	}
}

uint64_t mr_csv_offset(const struct mr_csv *c)
{
	if (c->from)
		return c->raw_off - (uint64_t)(c->src_end - c->src);
	return c->win_off + c->pos;
}

/* ---- UTF-8 checks ---- */

/* 1 when the n bytes at p are UTF-8; ASCII runs are checked eight bytes at a time. */
static int mr_csv_utf8_ok(const char *p, size_t n)
{
	size_t i = 0;
	uint64_t w;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		if (w & 0x8080808080808080ull)
			break;
	}
	while (i < n && !((unsigned char)p[i] & 0x80))
		i++;
	return i == n || mr_utf8_check(p + i, n - i) == 0;
}

/*
 * 1 when the probe at p looks like UTF-8. Unless the probe is all the input
 * (whole), a character cut by its end counts as valid: the rest of it is in
 * the next chunk.
 */
static int mr_csv_utf8_probe(const unsigned char *p, size_t n, int whole)
{
	size_t bad = mr_utf8_check((const char *)p, n);
	unsigned char tail[4];
	size_t at, have;

	if (bad == 0)
		return 1;
	at = bad - 1;
	have = n - at;
	if (whole || have >= 4)
		return 0;
	/* Complete the cut character both ways any lead byte allows, and check again. */
	for (int k = 0; k < 2; k++) {
		memset(tail, k ? 0xa0 : 0x80, sizeof(tail));
		memcpy(tail, p + at, have);
		for (size_t len = have + 1; len <= 4; len++) {
			if (mr_utf8_check((const char *)tail, len) == 0)
				return 1;
		}
	}
	return 0;
}

/* ---- the record being built ---- */

/* Marks the current record bad (the first fault wins) and stops storing it. */
static void mr_csv_fault(struct mr_csv *c, enum mr_csv_fault f, int col)
{
	if (c->fault == MR_CSV_FINE) {
		c->fault = f;
		c->fault_col = col;
	}
	c->skip = 1;
}

/* Appends n bytes to the current field, within the field and record caps. */
static void mr_csv_add(struct mr_csv *c, const unsigned char *p, size_t n)
{
	size_t flen;

	if (c->skip || n == 0)
		return;
	flen = c->data.len - c->offs[c->nf];
	if (n > c->o.max_field - flen) {
		mr_csv_fault(c, MR_CSV_FIELD_BIG, c->nf + 1);
		return;
	}
	if (n > c->o.max_record - c->rec_bytes) {
		mr_csv_fault(c, MR_CSV_RECORD_BIG, c->nf + 1);
		return;
	}
	if (mr_buf_add(&c->data, p, n) < 0) /* cannot happen: the caps are below data.max */
		mr_csv_fault(c, MR_CSV_RECORD_BIG, c->nf + 1);
	c->rec_bytes += n;
}

/* Completes the current field: checks it is UTF-8 and terminates it. */
static void mr_csv_field_end(struct mr_csv *c)
{
	if (!c->skip) {
		size_t off = c->offs[c->nf];
		size_t len = c->data.len - off;

		if (len && !mr_csv_utf8_ok(c->data.p + off, len)) {
			mr_csv_fault(c, MR_CSV_BAD_UTF8, c->nf + 1);
		} else {
			c->lens[c->nf] = len;
			(void)mr_buf_addc(&c->data, '\0');
		}
	}
	c->nf++;
}

/* Completes the current field at a delimiter and starts the next one. */
static void mr_csv_field_next(struct mr_csv *c)
{
	mr_csv_field_end(c);
	if (c->skip)
		return;
	if (c->nf >= c->o.max_fields) {
		mr_csv_fault(c, MR_CSV_TOO_MANY, c->o.max_fields + 1);
		return;
	}
	if (c->nf == c->cap) {
		c->cap = c->cap > c->o.max_fields / 2 ? c->o.max_fields : c->cap * 2;
		c->offs = mr_realloc(c->offs, (size_t)c->cap * sizeof(*c->offs));
		c->lens = mr_realloc(c->lens, (size_t)c->cap * sizeof(*c->lens));
		c->fields = mr_realloc(c->fields, (size_t)c->cap * sizeof(*c->fields));
	}
	c->offs[c->nf] = c->data.len;
}

/* Forgets the record last returned or reported. */
static void mr_csv_clear(struct mr_csv *c)
{
	mr_buf_reset(&c->data);
	c->rec_bytes = 0;
	c->nf = 0;
	c->offs[0] = 0;
	c->skip = 0;
	c->fault = MR_CSV_FINE;
	c->fault_col = 0;
	c->dirty = 0;
}

/* ---- the state machine ---- */

/* Steps over the line break at s (CR, LF or CRLF) and counts the line. */
static const unsigned char *mr_csv_eol(struct mr_csv *c, const unsigned char *s,
				       const unsigned char *end)
{
	c->line++;
	if (*s++ == '\r') {
		if (s == end)
			c->cr_pending = 1;
		else if (*s == '\n')
			s++;
	}
	return s;
}

/* The first byte of a field: a quote, an empty field, a line break or text. */
static const unsigned char *mr_csv_start(struct mr_csv *c, const unsigned char *s,
					 const unsigned char *end, int *done)
{
	unsigned char ch = *s;

	if (ch == '"') {
		c->state = MR_CSV_QUOTED;
		/* Past max_fields (while skipping), the column is the first extra one. */
		c->quote_col = c->nf < c->o.max_fields ? c->nf + 1 : c->o.max_fields + 1;
		return s + 1;
	}
	if (ch == c->delim) {
		mr_csv_field_next(c);
		return s + 1;
	}
	if (ch == '\r' || ch == '\n') {
		s = mr_csv_eol(c, s, end);
		if (c->nf == 0) { /* an empty line between records */
			c->rec_line = c->line;
			return s;
		}
		mr_csv_field_end(c);
		*done = 1;
		return s;
	}
	c->state = MR_CSV_UNQUOTED;
	return s;
}

/* Inside an unquoted field: copies up to the next special byte and acts on it. */
static const unsigned char *mr_csv_unquoted(struct mr_csv *c, const unsigned char *s,
					    const unsigned char *end, int *done)
{
	const unsigned char *t = s;

	while (t < end && !(c->cls[*t] & MR_CSV_STOP_PLAIN))
		t++;
	mr_csv_add(c, s, (size_t)(t - s));
	if (t == end)
		return t;
	if (*t == c->delim) {
		mr_csv_field_next(c);
		c->state = MR_CSV_START;
		return t + 1;
	}
	if (*t == '"') { /* while skipping, a stray quote is just a byte */
		mr_csv_fault(c, MR_CSV_STRAY_QUOTE, c->nf + 1);
		return t + 1;
	}
	if (*t == '\0') {
		mr_csv_fault(c, MR_CSV_NUL, c->nf + 1);
		return t + 1;
	}
	s = mr_csv_eol(c, t, end);
	mr_csv_field_end(c);
	c->state = MR_CSV_START;
	*done = 1;
	return s;
}

/* Inside quotes: copies up to the next quote, keeping line breaks and counting them. */
static const unsigned char *mr_csv_quoted(struct mr_csv *c, const unsigned char *s,
					  const unsigned char *end)
{
	const unsigned char *t = s;

	while (t < end && !(c->cls[*t] & MR_CSV_STOP_QUOTED))
		t++;
	mr_csv_add(c, s, (size_t)(t - s));
	if (t == end)
		return t;
	if (*t == '"') {
		c->state = MR_CSV_QUOTE;
		return t + 1;
	}
	if (*t == '\0') {
		mr_csv_fault(c, MR_CSV_NUL, c->nf + 1);
		return t + 1;
	}
	s = mr_csv_eol(c, t, end);
	mr_csv_add(c, t, (size_t)(s - t));
	return s;
}

/* After a quote inside quotes: an escaped quote, the end of the field, or a fault. */
static const unsigned char *mr_csv_quote(struct mr_csv *c, const unsigned char *s,
					 const unsigned char *end, int *done)
{
	unsigned char ch = *s;

	if (ch == '"') {
		mr_csv_add(c, s, 1);
		c->state = MR_CSV_QUOTED;
		return s + 1;
	}
	if (ch == c->delim) {
		mr_csv_field_next(c);
		c->state = MR_CSV_START;
		return s + 1;
	}
	if (ch == '\r' || ch == '\n') {
		s = mr_csv_eol(c, s, end);
		mr_csv_field_end(c);
		c->state = MR_CSV_START;
		*done = 1;
		return s;
	}
	/* "ab"cd: the rest of the field is read as unquoted text and skipped. */
	mr_csv_fault(c, MR_CSV_AFTER_QUOTE, c->nf + 1);
	c->state = MR_CSV_UNQUOTED;
	return s;
}

/* Runs the machine over the window; 1 when a record ended, 0 when the window ran out. */
static int mr_csv_scan(struct mr_csv *c)
{
	const unsigned char *s = c->win + c->pos;
	const unsigned char *end = c->win + c->win_len;
	int done = 0;

	if (c->cr_pending && s < end) {
		c->cr_pending = 0;
		if (*s == '\n') {
			if (c->state == MR_CSV_QUOTED)
				mr_csv_add(c, s, 1);
			s++;
		}
	}
	while (s < end && !done) {
		switch (c->state) {
		case MR_CSV_START:
			s = mr_csv_start(c, s, end, &done);
			break;
		case MR_CSV_UNQUOTED:
			s = mr_csv_unquoted(c, s, end, &done);
			break;
		case MR_CSV_QUOTED:
			s = mr_csv_quoted(c, s, end);
			break;
		case MR_CSV_QUOTE:
			s = mr_csv_quote(c, s, end, &done);
			break;
		}
	}
	c->pos = (size_t)(s - c->win);
	return done;
}

/* ---- input ---- */

/* Reads up to n raw bytes into buf; *got is 0 at the end of input. */
static int mr_csv_read(struct mr_csv *c, unsigned char *buf, size_t n, size_t *got,
		       struct mr_err *err)
{
	ssize_t r;

	do {
		r = read(c->fd, buf, n);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		c->failed = 1;
		return mr_err_set(err, MR_EIO, "cannot read the CSV input: %s", strerror(errno));
	}
	*got = (size_t)r;
	c->raw_off += (uint64_t)r;
	if (r == 0)
		c->raw_eof = 1;
	return 0;
}

/* The next window of UTF-8 input: 1, or 0 at the end of input. */
static int mr_csv_fill_utf8(struct mr_csv *c, struct mr_err *err)
{
	size_t got = 0;
	int rc;

	if (c->raw_eof)
		return 0;
	rc = mr_csv_read(c, c->chunk, MR_CSV_CHUNK, &got, err);
	if (rc < 0)
		return rc;
	c->win_off = c->raw_off - got;
	c->win = c->chunk;
	c->win_len = got;
	c->pos = 0;
	return got > 0;
}

/* The next window of converted input: 1, or 0 once the converters are drained. */
static int mr_csv_fill_conv(struct mr_csv *c, struct mr_err *err)
{
	while (!c->flushed) {
		char *t = c->conv;
		UErrorCode st = U_ZERO_ERROR;

		if (c->src == c->src_end && !c->raw_eof) {
			size_t got = 0;
			int rc = mr_csv_read(c, c->chunk, MR_CSV_CHUNK, &got, err);

			if (rc < 0)
				return rc;
			c->src = (const char *)c->chunk;
			c->src_end = c->src + got;
		}
		ucnv_convertEx(c->to, c->from, &t, c->conv + MR_CSV_CONV, &c->src, c->src_end,
			       c->pivot, &c->pivot_src, &c->pivot_dst, c->pivot + MR_CSV_PIVOT,
			       (UBool)c->reset, (UBool)c->raw_eof, &st);
		c->reset = 0;
		if (st == U_BUFFER_OVERFLOW_ERROR) {
			st = U_ZERO_ERROR;
		} else if (U_SUCCESS(st) && c->raw_eof) {
			c->flushed = 1;
		}
		if (U_FAILURE(st)) {
			c->failed = 1;
			return mr_err_set(err, MR_EIO, "cannot convert the input from %s: %s",
					  mr_csv_encoding_name(c), u_errorName(st));
		}
		if (t > c->conv) {
			c->win = (const unsigned char *)c->conv;
			c->win_len = (size_t)(t - c->conv);
			c->pos = 0;
			return 1;
		}
	}
	return 0;
}

/* ---- opening ---- */

/*
 * ICU's to-Unicode callback for bytes that are not valid in the input's
 * encoding: it writes an unpaired surrogate, which the UTF-8 side turns
 * into the byte 0xFF (see mr_csv_converters), so the field fails its UTF-8
 * check and the record is reported instead of silently holding U+FFFD.
 */
static void mr_csv_mark_bad(const void *ctx, UConverterToUnicodeArgs *args, const char *bytes,
			    int32_t n, UConverterCallbackReason reason, UErrorCode *st)
{
	static const UChar mark = 0xdc00;

	(void)ctx;
	(void)bytes;
	(void)n;
	if (reason > UCNV_IRREGULAR) /* reset, close, clone: nothing to write */
		return;
	*st = U_ZERO_ERROR;
	ucnv_cbToUWriteUChars(args, &mark, 1, 0, st);
}

/* Opens the converters from icu to UTF-8, with bad input marked as invalid UTF-8. */
static int mr_csv_converters(struct mr_csv *c, const char *icu, struct mr_err *err)
{
	UErrorCode st = U_ZERO_ERROR;

	c->from = ucnv_open(icu, &st);
	if (U_SUCCESS(st))
		c->to = ucnv_open("UTF-8", &st);
	if (U_SUCCESS(st))
		ucnv_setToUCallBack(c->from, mr_csv_mark_bad, NULL, NULL, NULL, &st);
	if (U_SUCCESS(st))
		ucnv_setSubstChars(c->to, "\xff", 1, &st);
	if (U_FAILURE(st))
		return mr_err_set(err, MR_EINTERNAL, "cannot open the %s converter: %s", icu,
				  u_errorName(st));
	c->conv = mr_malloc(MR_CSV_CONV);
	c->pivot_src = c->pivot;
	c->pivot_dst = c->pivot;
	c->reset = 1;
	return 0;
}

/* Checks opts and fills in the defaults; MR_EINVAL for a delimiter that cannot work. */
static int mr_csv_opts_set(struct mr_csv_opts *o, const struct mr_csv_opts *in, struct mr_err *err)
{
	unsigned char d;

	if (in)
		*o = *in;
	else
		memset(o, 0, sizeof(*o));
	if (o->delimiter == 0)
		o->delimiter = ',';
	d = (unsigned char)o->delimiter;
	if (d == '"' || d == '\r' || d == '\n' || d >= 0x80)
		return mr_err_set(err, MR_EINVAL, "the CSV delimiter cannot be a quote, a line break "
				  "or a non-ASCII byte");
	if (o->max_field == 0)
		o->max_field = (size_t)1 << 20;
	if (o->max_record == 0)
		o->max_record = (size_t)4 << 20;
	if (o->max_record > SIZE_MAX / 4)
		o->max_record = SIZE_MAX / 4;
	if (o->max_fields <= 0)
		o->max_fields = 1024;
	if (o->max_fields > (1 << 24))
		o->max_fields = 1 << 24;
	if ((int)o->encoding < MR_CSV_AUTO || o->encoding > MR_CSV_UTF16)
		return mr_err_set(err, MR_EINVAL, "unknown CSV encoding %d", (int)o->encoding);
	return 0;
}

/* Marks the bytes that end a scan: quote, CR, LF and NUL everywhere, the delimiter outside quotes. */
static void mr_csv_init_classes(struct mr_csv *c)
{
	static const unsigned char both[] = { '"', '\r', '\n', '\0' };

	for (size_t i = 0; i < sizeof(both); i++)
		c->cls[both[i]] = MR_CSV_STOP_PLAIN | MR_CSV_STOP_QUOTED;
	c->cls[c->delim] |= MR_CSV_STOP_PLAIN;
}

/* A reader with no input yet. */
static int mr_csv_new(struct mr_csv **out, const struct mr_csv_opts *opts, struct mr_err *err)
{
	struct mr_csv_opts o;
	struct mr_csv *c;
	int rc = mr_csv_opts_set(&o, opts, err);

	*out = NULL;
	if (rc < 0)
		return rc;
	c = mr_calloc(1, sizeof(*c));
	c->o = o;
	c->fd = -1;
	c->delim = (unsigned char)o.delimiter;
	mr_csv_init_classes(c);
	c->line = 1;
	c->rec_line = 1;
	c->cap = o.max_fields < 16 ? o.max_fields : 16;
	c->offs = mr_malloc((size_t)c->cap * sizeof(*c->offs));
	c->lens = mr_malloc((size_t)c->cap * sizeof(*c->lens));
	c->fields = mr_malloc((size_t)c->cap * sizeof(*c->fields));
	c->offs[0] = 0;
	mr_buf_init(&c->data, o.max_record + (size_t)o.max_fields + 1);
	*out = c;
	return 0;
}

/* The length of a byte-order mark at p and the encoding it announces; 0 when none. */
static size_t mr_csv_bom(const unsigned char *p, size_t n, enum mr_csv_encoding *enc,
			 const char **icu)
{
	if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
		*enc = MR_CSV_UTF8;
		return 3;
	}
	if (n >= 2 && ((p[0] == 0xff && p[1] == 0xfe) || (p[0] == 0xfe && p[1] == 0xff))) {
		*enc = MR_CSV_UTF16;
		*icu = p[0] == 0xff ? "UTF-16LE" : "UTF-16BE";
		return 2;
	}
	return 0;
}

/*
 * Settles the encoding from the probe (the first bytes of input; whole when
 * it is all of it) and the caller's choice: a byte-order mark always wins,
 * since no GB18030 text starts with one. Returns the bytes to skip, or a
 * negative code.
 */
static int mr_csv_detect(struct mr_csv *c, const unsigned char *probe, size_t n, int whole,
			 struct mr_err *err)
{
	const char *icu = "GB18030";
	enum mr_csv_encoding enc = c->o.encoding;
	size_t skip = mr_csv_bom(probe, n, &enc, &icu);
	int rc;

	if (skip == 0 && enc == MR_CSV_UTF16)
		return mr_err_set(err, MR_EINVAL, "UTF-16 input must start with a byte-order mark "
				  "(FF FE or FE FF); save the file as UTF-8 or with a BOM");
	if (enc == MR_CSV_AUTO)
		enc = mr_csv_utf8_probe(probe, n, whole) ? MR_CSV_UTF8 : MR_CSV_GB18030;
	c->enc = enc;
	if (enc == MR_CSV_UTF8)
		return (int)skip;
	rc = mr_csv_converters(c, icu, err);
	return rc < 0 ? rc : (int)skip;
}

int mr_csv_open_fd(struct mr_csv **out, int fd, const struct mr_csv_opts *opts, struct mr_err *err)
{
	struct mr_csv *c = NULL;
	size_t n = 0;
	int rc = mr_csv_new(&c, opts, err);

	if (rc < 0)
		goto out;
	c->fd = fd;
	c->chunk = mr_malloc(MR_CSV_CHUNK);
	/* The probe: a full chunk unless the input is shorter (reads may come short). */
	while (rc == 0 && n < MR_CSV_CHUNK && !c->raw_eof) {
		size_t got = 0;

		rc = mr_csv_read(c, c->chunk + n, MR_CSV_CHUNK - n, &got, err);
		n += got;
	}
	if (rc == 0)
		rc = mr_csv_detect(c, c->chunk, n, c->raw_eof, err);
	if (rc < 0)
		goto out;
	if (c->from) {
		c->src = (const char *)c->chunk + rc;
		c->src_end = (const char *)c->chunk + n;
	} else {
		c->win = c->chunk;
		c->pos = (size_t)rc;
		c->win_len = n;
	}
	rc = 0;
out:
	if (rc < 0) {
		mr_csv_free(c);
		c = NULL;
	}
	*out = c;
	return rc;
}

int mr_csv_open_mem(struct mr_csv **out, const void *p, size_t n, const struct mr_csv_opts *opts,
		    struct mr_err *err)
{
	struct mr_csv *c = NULL;
	const unsigned char *m = n ? p : (const unsigned char *)"";
	int rc = mr_csv_new(&c, opts, err);

	if (rc < 0)
		goto out;
	c->raw_eof = 1;
	c->raw_off = n;
	rc = mr_csv_detect(c, m, n < MR_CSV_CHUNK ? n : MR_CSV_CHUNK, n <= MR_CSV_CHUNK, err);
	if (rc < 0)
		goto out;
	if (c->from) {
		c->src = (const char *)m + rc;
		c->src_end = (const char *)m + n;
	} else {
		c->win = m;
		c->pos = (size_t)rc;
		c->win_len = n;
	}
	rc = 0;
out:
	if (rc < 0) {
		mr_csv_free(c);
		c = NULL;
	}
	*out = c;
	return rc;
}

void mr_csv_free(struct mr_csv *c)
{
	if (!c)
		return;
	if (c->from)
		ucnv_close(c->from);
	if (c->to)
		ucnv_close(c->to);
	free(c->chunk);
	free(c->conv);
	free(c->offs);
	free(c->lens);
	free(c->fields);
	mr_buf_release(&c->data);
	free(c);
}

/* ---- records ---- */

/* Fills err with what is wrong with the record that started on line; returns MR_EINVAL. */
static int mr_csv_report(const struct mr_csv *c, int64_t line, struct mr_err *err)
{
	long long ln = (long long)line;
	int col = c->fault_col;

	switch (c->fault) {
	case MR_CSV_BAD_UTF8:
		if (c->enc == MR_CSV_UTF8)
			mr_err_set(err, MR_EINVAL, "line %lld, column %d: invalid UTF-8 (declare the "
				   "file's encoding, e.g. GB18030)", ln, col);
		else
			mr_err_set(err, MR_EINVAL, "line %lld, column %d: bytes that are not valid "
				   "%s (is the file in another encoding?)", ln, col,
				   c->enc == MR_CSV_UTF16 ? "UTF-16" : "GB18030");
		break;
	case MR_CSV_NUL:
		mr_err_set(err, MR_EINVAL, "line %lld, column %d: a NUL byte (is the file UTF-16 "
			   "without a byte-order mark?)", ln, col);
		break;
	case MR_CSV_FIELD_BIG:
		mr_err_set(err, MR_EINVAL, "line %lld, column %d: field longer than %zu bytes", ln,
			   col, c->o.max_field);
		break;
	case MR_CSV_RECORD_BIG:
		mr_err_set(err, MR_EINVAL, "line %lld, column %d: record longer than %zu bytes", ln,
			   col, c->o.max_record);
		break;
	case MR_CSV_TOO_MANY:
		mr_err_set(err, MR_EINVAL, "line %lld: more than %d fields", ln, c->o.max_fields);
		break;
	case MR_CSV_STRAY_QUOTE:
		mr_err_set(err, MR_EINVAL, "line %lld, column %d: a quote inside an unquoted field "
			   "(quote the whole field and double the quote: \"a\"\"b\")", ln, col);
		break;
	case MR_CSV_AFTER_QUOTE:
		mr_err_set(err, MR_EINVAL, "line %lld, column %d: text after the closing quote "
			   "(a quote inside a quoted field is written \"\")", ln, col);
		break;
	default:
		mr_err_set(err, MR_EINVAL, "line %lld, column %d: a quoted field is never closed "
			   "(the rest of the input was read as part of it)", ln, col);
		break;
	}
	err->line = line;
	err->column = col;
	return MR_EINVAL;
}

/* Hands out the record just completed, or reports it when it is bad. */
static int mr_csv_emit(struct mr_csv *c, struct mr_csv_rec *rec, struct mr_err *err)
{
	int64_t line = c->rec_line;

	c->rec_line = c->line;
	c->state = MR_CSV_START;
	c->dirty = 1;
	if (c->fault != MR_CSV_FINE)
		return mr_csv_report(c, line, err);
	for (int i = 0; i < c->nf; i++)
		c->fields[i] = c->data.p + c->offs[i];
	c->index++;
	rec->nfields = c->nf;
	rec->fields = c->fields;
	rec->lens = c->lens;
	rec->line = line;
	rec->index = c->index;
	return 1;
}

/* At the end of input: the last record, unless there is none. */
static int mr_csv_finish(struct mr_csv *c, struct mr_csv_rec *rec, struct mr_err *err)
{
	if (c->state == MR_CSV_START && c->nf == 0)
		return 0;
	if (c->state == MR_CSV_QUOTED) {
		/* Overrides an earlier fault: it explains why the rest of the input is gone. */
		c->fault = MR_CSV_UNCLOSED;
		c->fault_col = c->quote_col;
		c->skip = 1;
	} else {
		mr_csv_field_end(c);
	}
	return mr_csv_emit(c, rec, err);
}

int mr_csv_next(struct mr_csv *c, struct mr_csv_rec *rec, struct mr_err *err)
{
	int rc;

	if (c->failed)
		return mr_err_set(err, MR_EIO, "the CSV input could not be read");
	if (c->dirty)
		mr_csv_clear(c);
	for (;;) {
		if (c->pos == c->win_len) {
			rc = c->from ? mr_csv_fill_conv(c, err) : mr_csv_fill_utf8(c, err);
			if (rc < 0)
				return rc;
			if (rc == 0)
				return mr_csv_finish(c, rec, err);
		}
		if (mr_csv_scan(c))
			return mr_csv_emit(c, rec, err);
	}
}
