/*
 * Unit tests of src/base/csv.c and src/base/table.c: the streaming CSV
 * reader (quoting, line numbers, encodings, per-record recovery, caps,
 * chunk boundaries) and the CSV/XLSX table writer.
 *
 * Most reader tests compare a transcript of everything the reader said:
 * "L<line>:<field>|<field>" per record (CR and LF shown as \r and \n) and
 * "E<line>,<column>" per bad record, so a test reads as input -> output.
 */
#include "unit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "base/buf.h"
#include "base/csv.h"
#include "base/err.h"
#include "base/str.h"

#define CHUNK (64 * 1024)

/* Appends field p to b with CR and LF made visible. */
static void tx_field(struct mr_buf *b, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r')
			mr_buf_adds(b, "\\r");
		else if (p[i] == '\n')
			mr_buf_adds(b, "\\n");
		else
			mr_buf_addc(b, p[i]);
	}
}

/* Reads c to its end into b; checks every record on the way. Returns the last error message. */
static void tx(struct mr_csv *c, struct mr_buf *b, char *lastmsg, size_t msgn)
{
	struct mr_csv_rec r;
	struct mr_err err;
	int64_t index = 0;
	int rc;

	for (;;) {
		mr_err_clear(&err);
		rc = mr_csv_next(c, &r, &err);
		if (rc == 0)
			break;
		if (rc == MR_EINVAL) {
			mr_buf_addf(b, "E%lld,%lld\n", (long long)err.line, (long long)err.column);
			if (lastmsg)
				snprintf(lastmsg, msgn, "%s", err.msg);
			continue;
		}
		if (rc < 0) {
			mr_buf_addf(b, "X%d\n", rc);
			break;
		}
		assert_int_equal(rc, 1);
		assert_true(r.nfields >= 1);
		assert_int_equal(r.index, ++index);
		mr_buf_addf(b, "L%lld:", (long long)r.line);
		for (int i = 0; i < r.nfields; i++) {
			assert_int_equal(strlen(r.fields[i]), r.lens[i]);
			assert_int_equal(mr_utf8_check(r.fields[i], r.lens[i]), 0);
			if (i)
				mr_buf_addc(b, '|');
			tx_field(b, r.fields[i], r.lens[i]);
		}
		mr_buf_addc(b, '\n');
	}
	/* The end is sticky. */
	assert_int_equal(mr_csv_next(c, &r, &err), 0);
}

/* The transcript of reading n bytes at p from memory with opts o. */
static void tx_mem(const void *p, size_t n, const struct mr_csv_opts *o, struct mr_buf *b)
{
	struct mr_csv *c = NULL;
	struct mr_err err;

	mr_err_clear(&err);
	mr_buf_reset(b);
	if (mr_csv_open_mem(&c, p, n, o, &err) < 0)
		fail_msg("open: %s", err.msg);
	tx(c, b, NULL, 0);
	mr_csv_free(c);
}

/* Asserts the transcript of the n bytes at s (read from memory with opts o) is want. */
static void expect_n(const char *s, size_t n, const struct mr_csv_opts *o, const char *want)
{
	struct mr_buf b;

	mr_buf_init(&b, 1 << 26);
	tx_mem(s, n, o, &b);
	assert_string_equal(mr_buf_str(&b), want);
	mr_buf_release(&b);
}

/* As expect_n for a NUL-terminated s. */
static void expect(const char *s, const struct mr_csv_opts *o, const char *want)
{
	expect_n(s, strlen(s), o, want);
}

/* A temp file holding n bytes at p, open for reading at offset 0 (already unlinked). */
static int tmp_fd(const void *p, size_t n)
{
	char path[] = "/tmp/mr-unit-csv-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* The transcript of reading fd with opts o; *enc gets the encoding name when not NULL. */
static void tx_fd(int fd, const struct mr_csv_opts *o, struct mr_buf *b, const char **enc,
		  char *lastmsg, size_t msgn)
{
	struct mr_csv *c = NULL;
	struct mr_err err;

	mr_err_clear(&err);
	mr_buf_reset(b);
	if (mr_csv_open_fd(&c, fd, o, &err) < 0)
		fail_msg("open: %s", err.msg);
	if (enc)
		*enc = mr_csv_encoding_name(c);
	tx(c, b, lastmsg, msgn);
	mr_csv_free(c);
}

/* ---- RFC 4180 ---- */

static void test_csv_quotes_and_escapes(void **state)
{
	(void)state;
	expect("a,\"b,c\",\"say \"\"hi\"\"\"\r\n1,,3\n", NULL,
	       "L1:a|b,c|say \"hi\"\nL2:1||3\n");
	expect("\"\",x,\"\"\"\"\n,\n", NULL, "L1:|x|\"\nL2:|\n");
	expect("last,record,no newline", NULL, "L1:last|record|no newline\n");
	expect("trailing,empty,\n", NULL, "L1:trailing|empty|\n");
	/* Spaces are data. */
	expect(" a , b \n", NULL, "L1: a | b \n");
}

static void test_csv_embedded_newlines_keep_line_numbers(void **state)
{
	(void)state;
	expect("id,note\r\n"
	       "1,\"two\r\nlines\"\r\n"
	       "2,\"lf\nand\rcr\"\n"
	       "3,x\r\n"
	       "4,\"a,\"\"b\"\"\r\n\r\nc\"\r\n"
	       "5,end",
	       NULL,
	       "L1:id|note\n"
	       "L2:1|two\\r\\nlines\n"
	       "L4:2|lf\\nand\\rcr\n"
	       "L7:3|x\n"
	       "L8:4|a,\"b\"\\r\\n\\r\\nc\n"
	       "L11:5|end\n");
	/* A lone CR ends a record too (old Mac files). */
	expect("a\rb\r\rc", NULL, "L1:a\nL2:b\nL4:c\n");
}

static void test_csv_blank_lines_and_empty_input(void **state)
{
	(void)state;
	expect("", NULL, "");
	expect("\n\n\r\n\r", NULL, "");
	expect("a\n\n\nb\r\n\r\nc", NULL, "L1:a\nL4:b\nL6:c\n");
	/* An explicitly quoted empty field is data, not a blank line. */
	expect("\"\"\n", NULL, "L1:\n");
	expect("\xef\xbb\xbf", NULL, "");
}

static void test_csv_delimiter_option(void **state)
{
	struct mr_csv_opts o = { .delimiter = ';' };
	struct mr_csv_opts tab = { .delimiter = '\t' };
	struct mr_csv_opts bad = { .delimiter = '"' };
	struct mr_csv *c = NULL;
	struct mr_err err;

	(void)state;
	expect("a;\"b;c\";d,e\n", &o, "L1:a|b;c|d,e\n");
	expect("a\tb c\t\"x\ty\"\n", &tab, "L1:a|b c|x\ty\n");
	mr_err_clear(&err);
	assert_int_equal(mr_csv_open_mem(&c, "a", 1, &bad, &err), MR_EINVAL);
	assert_null(c);
	assert_non_null(strstr(err.msg, "delimiter"));
}

/* ---- bad records and recovery ---- */

static void test_csv_invalid_utf8_reported_and_skipped(void **state)
{
	struct mr_csv_opts o = { .encoding = MR_CSV_UTF8 };
	const char in[] = "a,b\nc,\"x\xff\xfey\"\nd,e\n";
	struct mr_csv *c = NULL;
	struct mr_csv_rec r;
	struct mr_err err;

	(void)state;
	mr_err_clear(&err);
	assert_int_equal(mr_csv_open_mem(&c, in, sizeof(in) - 1, &o, &err), 0);
	assert_int_equal(mr_csv_next(c, &r, &err), 1);
	assert_string_equal(r.fields[1], "b");
	assert_int_equal(mr_csv_next(c, &r, &err), MR_EINVAL);
	assert_int_equal(err.code, MR_EINVAL);
	assert_int_equal(err.line, 2);
	assert_int_equal(err.column, 2);
	assert_string_equal(err.msg,
			    "line 2, column 2: invalid UTF-8 (declare the file's encoding, e.g. GB18030)");
	mr_err_clear(&err);
	assert_int_equal(mr_csv_next(c, &r, &err), 1);
	assert_int_equal(r.line, 3);
	assert_int_equal(r.index, 2);
	assert_string_equal(r.fields[0], "d");
	assert_int_equal(mr_csv_next(c, &r, &err), 0);
	mr_csv_free(c);

	/* Overlongs and surrogates are not UTF-8 either; NUL bytes are refused. */
	expect("ok\n\xc0\xaf\n\xed\xa0\x80,x\nz,\xe5\xbc\n", &o, "L1:ok\nE2,1\nE3,1\nE4,2\n");
	expect_n("a,b\x00" "c\n\"q\x00\"\nok\n", 13, &o, "E1,2\nE2,1\nL3:ok\n");
}

static void test_csv_stray_quotes(void **state)
{
	struct mr_buf b;
	char msg[320];
	const char in[] = "a\"b,c\n\"x\"y,z\nok,\"fine\"\"\"\n\"x\"\"\n,\"nl\nnext\n";
	int fd = tmp_fd(in, sizeof(in) - 1);

	(void)state;
	mr_buf_init(&b, 1 << 20);
	tx_fd(fd, NULL, &b, NULL, msg, sizeof(msg));
	/*
	 * Line 4 opens a quote that goes on over the line break ("" is an
	 * escaped quote); the quote on line 5 closes it and "nl" follows: one
	 * bad record over lines 4-5, and line 6 is read normally.
	 */
	assert_string_equal(mr_buf_str(&b), "E1,1\nE2,1\nL3:ok|fine\"\nE4,1\nL6:next\n");
	mr_buf_release(&b);
	close(fd);
	expect("a\"b\n", NULL, "E1,1\n");
	expect("x,\"ab\"c\n", NULL, "E1,2\n");
}

static void test_csv_error_messages(void **state)
{
	static const struct {
		const char *in;
		const char *msg;
	} cases[] = {
		{ "a\"b\n", "line 1, column 1: a quote inside an unquoted field" },
		{ "x\n\"ab\"c\n", "line 2, column 1: text after the closing quote" },
		{ "x\ny,\"open\nmore\n", "line 2, column 2: a quoted field is never closed" },
		{ "a,b,c,d\n", "line 1: more than 3 fields" },
		{ "0123456789abcdefX\n", "line 1, column 1: field longer than 16 bytes" },
		{ "0123456789,0123456789,0123456789\n", "line 1, column 3: record longer than 24 bytes" },
	};
	struct mr_csv_opts o = { .max_fields = 3, .max_field = 16, .max_record = 24 };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mr_csv *c = NULL;
		struct mr_csv_rec r;
		struct mr_err err;
		int rc;

		mr_err_clear(&err);
		assert_int_equal(mr_csv_open_mem(&c, cases[i].in, strlen(cases[i].in), &o, &err), 0);
		do {
			rc = mr_csv_next(c, &r, &err);
		} while (rc == 1);
		assert_int_equal(rc, MR_EINVAL);
		if (strncmp(err.msg, cases[i].msg, strlen(cases[i].msg)) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s...\"", i, err.msg, cases[i].msg);
		assert_int_equal(mr_csv_next(c, &r, &err), 0);
		mr_csv_free(c);
	}
}

static void test_csv_unterminated_quote_at_eof(void **state)
{
	(void)state;
	expect("a,b\nc,\"open\nmore,\"\"x\"\"\n\n", NULL, "L1:a|b\nE2,2\n");
	expect("\"", NULL, "E1,1\n");
	/* Even when the record was already bad, the open quote is what is reported. */
	expect("ok\nbad\"q,\"open\n", NULL, "L1:ok\nE2,2\n");
}

static void test_csv_too_many_fields(void **state)
{
	struct mr_csv_opts o = { .max_fields = 3 };
	struct mr_csv_opts many = { .max_fields = 100 };
	struct mr_buf b, want;

	(void)state;
	expect("a,b,c\na,b,c,d\nx\n,,\n,,,\n", &o, "L1:a|b|c\nE2,4\nL3:x\nL4:||\nE5,4\n");
	/* The field arrays grow past their first size. */
	mr_buf_init(&b, 1 << 20);
	mr_buf_init(&want, 1 << 20);
	mr_buf_adds(&want, "L1:");
	for (int i = 0; i < 100; i++) {
		mr_buf_addf(&b, "%s%d", i ? "," : "", i);
		mr_buf_addf(&want, "%s%d", i ? "|" : "", i);
	}
	mr_buf_adds(&b, "\n");
	mr_buf_adds(&want, "\n");
	{
		struct mr_buf got;

		mr_buf_init(&got, 1 << 20);
		tx_mem(b.p, b.len, &many, &got);
		assert_string_equal(mr_buf_str(&got), mr_buf_str(&want));
		mr_buf_reset(&got);
		mr_buf_adds(&b, "0,1\n");
		mr_buf_adds(&want, "L2:0|1\n");
		many.max_fields = 99;
		tx_mem(b.p, b.len, &many, &got);
		assert_string_equal(mr_buf_str(&got), "E1,100\nL2:0|1\n");
		mr_buf_release(&got);
	}
	mr_buf_release(&b);
	mr_buf_release(&want);
}

/* Writes n bytes of filler c to fd in pieces. */
static void write_fill(int fd, char c, size_t n)
{
	static char piece[CHUNK];

	memset(piece, c, sizeof(piece));
	while (n > 0) {
		size_t k = n < sizeof(piece) ? n : sizeof(piece);

		assert_int_equal(write(fd, piece, k), (ssize_t)k);
		n -= k;
	}
}

static void test_csv_oversize_field_is_skipped_from_a_file(void **state)
{
	struct mr_csv_opts o = { .max_field = 16 };
	char path[] = "/tmp/mr-unit-csv-XXXXXX";
	char msg[320];
	const char *enc = NULL;
	struct mr_buf b;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	unlink(path);
	/* 10 MB unquoted, then 3 MB quoted with line breaks and "" inside, then good rows. */
	assert_int_equal(write(fd, "id,v\n1,", 7), 7);
	write_fill(fd, 'x', 10u << 20);
	assert_int_equal(write(fd, "\n2,\"", 4), 4);
	for (int i = 0; i < 3 * 16; i++) {
		write_fill(fd, 'y', 65000);
		assert_int_equal(write(fd, "\r\n\"\",", 5), 5);
	}
	assert_int_equal(write(fd, "\"\n3,ok\n", 7), 7);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	mr_buf_init(&b, 1 << 20);
	tx_fd(fd, &o, &b, &enc, msg, sizeof(msg));
	assert_string_equal(mr_buf_str(&b), "L1:id|v\nE2,2\nE3,2\nL52:3|ok\n");
	assert_string_equal(msg, "line 3, column 2: field longer than 16 bytes");
	assert_string_equal(enc, "utf-8");
	mr_buf_release(&b);
	close(fd);
}

static void test_csv_oversize_record_through_a_pipe(void **state)
{
	struct mr_csv_opts o = { .max_field = 16, .max_record = 40 };
	struct mr_buf b;
	int p[2];
	pid_t pid;
	int status = 0;

	(void)state;
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		if (write(p[1], "a,b\n", 4) != 4)
			_exit(1);
		for (int i = 0; i < 1000000; i++) {
			if (write(p[1], "0123456789,", 11) != 11)
				_exit(1);
		}
		if (write(p[1], "\nlast,1\n", 8) != 8)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	mr_buf_init(&b, 1 << 20);
	tx_fd(p[0], &o, &b, NULL, NULL, 0);
	assert_string_equal(mr_buf_str(&b), "L1:a|b\nE2,5\nL3:last|1\n");
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(p[0]);
	mr_buf_release(&b);
}

/* ---- encodings ---- */

static void test_csv_bom_is_stripped(void **state)
{
	struct mr_csv_opts gb = { .encoding = MR_CSV_GB18030 };
	const char in[] = "\xef\xbb\xbfname,\xe5\xbc\xa0\xe4\xb8\x89\n";
	struct mr_csv *c = NULL;
	struct mr_csv_rec r;
	struct mr_err err;

	(void)state;
	mr_err_clear(&err);
	assert_int_equal(mr_csv_open_mem(&c, in, sizeof(in) - 1, NULL, &err), 0);
	assert_int_equal(mr_csv_next(c, &r, &err), 1);
	assert_string_equal(r.fields[0], "name");
	assert_string_equal(r.fields[1], "张三");
	assert_string_equal(mr_csv_encoding_name(c), "utf-8");
	mr_csv_free(c);
	/* A BOM outweighs a wrong declaration. */
	expect(in, &gb, "L1:name|张三\n");
}

static void test_csv_gbk_detected_and_converted(void **state)
{
	struct mr_csv_opts gb = { .encoding = MR_CSV_GB18030 };
	const char in[] = "name,city\n\xd5\xc5\xc8\xfd,\xb1\xb1\xbe\xa9\n\"\xd2\xbd,\xc9\xfa\",\x94\x39\xfc\x36\n";
	struct mr_csv *c = NULL;
	struct mr_csv_rec r;
	struct mr_err err;

	(void)state;
	mr_err_clear(&err);
	assert_int_equal(mr_csv_open_mem(&c, in, sizeof(in) - 1, NULL, &err), 0);
	assert_string_equal(mr_csv_encoding_name(c), "gb18030");
	assert_int_equal(mr_csv_next(c, &r, &err), 1);
	assert_int_equal(mr_csv_next(c, &r, &err), 1);
	assert_string_equal(r.fields[0], "张三");
	assert_string_equal(r.fields[1], "北京");
	assert_int_equal(r.line, 2);
	mr_csv_free(c);
	expect(in, NULL, "L1:name|city\nL2:张三|北京\nL3:医,生|😀\n");
	/* Declared: even an all-ASCII start is read as GB18030. */
	expect("a,b\n\xd5\xc5,\xa2\xe3\n", &gb, "L1:a|b\nL2:张|€\n");
	/* The names callers use. */
	assert_int_equal(mr_csv_encoding_parse("GBK"), MR_CSV_GB18030);
	assert_int_equal(mr_csv_encoding_parse("gb2312"), MR_CSV_GB18030);
	assert_int_equal(mr_csv_encoding_parse("GB18030"), MR_CSV_GB18030);
	assert_int_equal(mr_csv_encoding_parse("UTF-8"), MR_CSV_UTF8);
	assert_int_equal(mr_csv_encoding_parse("utf-16"), MR_CSV_UTF16);
	assert_int_equal(mr_csv_encoding_parse("auto"), MR_CSV_AUTO);
	assert_int_equal(mr_csv_encoding_parse("latin1"), -1);
	assert_int_equal(mr_csv_encoding_parse(NULL), -1);
}

static void test_csv_gbk_after_an_ascii_probe_says_declare(void **state)
{
	struct mr_buf in, b;
	char msg[320];
	int fd;

	(void)state;
	/* 70 KB of ASCII rows, then a GBK name: detected as UTF-8, so that row is refused. */
	mr_buf_init(&in, 1 << 20);
	mr_buf_init(&b, 1 << 20);
	mr_buf_adds(&in, "name,n\n");
	for (int i = 0; i < 7000; i++)
		mr_buf_adds(&in, "abcdefg,1\n");
	mr_buf_adds(&in, "x,\xd5\xc5\xc8\xfd\nlast,2\n");
	fd = tmp_fd(in.p, in.len);
	tx_fd(fd, NULL, &b, NULL, msg, sizeof(msg));
	assert_non_null(strstr(b.p, "E7002,2\nL7003:last|2\n"));
	assert_string_equal(msg, "line 7002, column 2: invalid UTF-8 (declare the file's encoding, "
			    "e.g. GB18030)");
	close(fd);
	mr_buf_release(&in);
	mr_buf_release(&b);
}

/* Appends s (ASCII or UTF-8 text) to b as UTF-16 (big- or little-endian), with a BOM when bom. */
static void utf16(struct mr_buf *b, const char *s, int be, int bom)
{
	const unsigned char *u = (const unsigned char *)s;

	if (bom)
		mr_buf_add(b, be ? "\xfe\xff" : "\xff\xfe", 2);
	while (*u) {
		unsigned cp;
		unsigned char pair[2];

		if (*u < 0x80) {
			cp = *u++;
		} else { /* three-byte sequences only, which is all the tests use */
			cp = ((u[0] & 0x0fu) << 12) | ((u[1] & 0x3fu) << 6) | (u[2] & 0x3fu);
			u += 3;
		}
		pair[be ? 0 : 1] = (unsigned char)(cp >> 8);
		pair[be ? 1 : 0] = (unsigned char)(cp & 0xff);
		mr_buf_add(b, pair, 2);
	}
}

static void test_csv_utf16_with_bom(void **state)
{
	struct mr_csv_opts o16 = { .encoding = MR_CSV_UTF16 };
	struct mr_buf in, b;
	struct mr_csv *c = NULL;
	struct mr_err err;

	(void)state;
	mr_buf_init(&in, 1 << 20);
	mr_buf_init(&b, 1 << 20);
	utf16(&in, "名字,城市\r\n张三,\"北京\r\n朝阳\"\r\n", 0, 1);
	tx_mem(in.p, in.len, NULL, &b);
	assert_string_equal(b.p, "L1:名字|城市\nL2:张三|北京\\r\\n朝阳\n");
	mr_buf_reset(&in);
	utf16(&in, "a,医生\nb,c", 1, 1);
	tx_mem(in.p, in.len, &o16, &b);
	assert_string_equal(b.p, "L1:a|医生\nL2:b|c\n");
	/* Declared UTF-16 needs its BOM. */
	mr_buf_reset(&in);
	utf16(&in, "a,b\n", 0, 0);
	mr_err_clear(&err);
	assert_int_equal(mr_csv_open_mem(&c, in.p, in.len, &o16, &err), MR_EINVAL);
	assert_null(c);
	assert_non_null(strstr(err.msg, "byte-order mark"));
	/* Undeclared, it reads as UTF-8 with NUL bytes, and says so. */
	tx_mem(in.p, in.len, NULL, &b);
	assert_string_equal(b.p, "E1,1\nE2,1\n"); /* the LF's NUL starts a second "record" */
	mr_buf_release(&in);
	mr_buf_release(&b);
}

static void test_csv_bytes_invalid_in_the_encoding(void **state)
{
	struct mr_csv_opts gb = { .encoding = MR_CSV_GB18030 };
	struct mr_csv *c = NULL;
	struct mr_csv_rec r;
	struct mr_err err;
	const char in[] = "a,b\n\xd5\xc5,\x80\xff\n\xc8\xfd,x\ncut,\xd5";

	(void)state;
	/* Not silently U+FFFD: the record is reported, with its column. */
	expect(in, &gb, "L1:a|b\nE2,2\nL3:三|x\nE4,2\n");
	mr_err_clear(&err);
	assert_int_equal(mr_csv_open_mem(&c, in, sizeof(in) - 1, &gb, &err), 0);
	assert_int_equal(mr_csv_next(c, &r, &err), 1);
	assert_int_equal(mr_csv_next(c, &r, &err), MR_EINVAL);
	assert_string_equal(err.msg, "line 2, column 2: bytes that are not valid GB18030 (is the "
			    "file in another encoding?)");
	mr_csv_free(c);
	/* UTF-16: an unpaired surrogate, then a pair, then an odd byte at the end. */
	expect_n("\xff\xfe" "a\0,\0\x00\xd8\n\0" "\x3d\xd8\x00\xde\n\0" "x", 17, NULL,
		 "E1,2\nL2:😀\nE3,1\n");
}

/* ---- chunk boundaries (64 KiB reads) ---- */

/*
 * A file of a header row, filler rows and then tail at byte offset at (so a
 * chunk boundary falls inside tail); *line gets the line tail starts on.
 */
static int file_with_tail_at(const char *head, size_t at, const char *tail, size_t tailn,
			     struct mr_buf *in, int64_t *line)
{
	mr_buf_reset(in);
	mr_buf_adds(in, head);
	*line = 2;
	while (in->len < at) {
		size_t k = at - in->len - 1;

		for (size_t i = 0; i < k && i < 100; i++)
			mr_buf_addc(in, 'p');
		mr_buf_addc(in, '\n');
		(*line)++;
	}
	assert_int_equal(in->len, at);
	mr_buf_add(in, tail, tailn);
	return tmp_fd(in->p, in->len);
}

static void test_csv_multibyte_utf8_across_chunks(void **state)
{
	struct mr_buf in, b;
	const char *enc = NULL;
	char want[64];
	int64_t line;
	int fd;

	(void)state;
	mr_buf_init(&in, 1 << 20);
	mr_buf_init(&b, 1 << 20);
	/* 张 is E5 BC A0: its first byte is the last of the first chunk (and of the probe). */
	fd = file_with_tail_at("h\n", CHUNK - 1, "\xe5\xbc\xa0\xe4\xb8\x89,x\n", 9, &in, &line);
	tx_fd(fd, NULL, &b, &enc, NULL, 0);
	assert_string_equal(enc, "utf-8");
	snprintf(want, sizeof(want), "\nL%lld:张三|x\n", (long long)line);
	assert_non_null(strstr(b.p, want));
	assert_null(strchr(b.p, 'E'));
	close(fd);
	/* A 4-byte character cut after two bytes. */
	fd = file_with_tail_at("h\n", CHUNK - 2, "\xf0\x9f\x98\x80\n", 5, &in, &line);
	tx_fd(fd, NULL, &b, &enc, NULL, 0);
	assert_string_equal(enc, "utf-8");
	snprintf(want, sizeof(want), "\nL%lld:😀\n", (long long)line);
	assert_non_null(strstr(b.p, want));
	close(fd);
	mr_buf_release(&in);
	mr_buf_release(&b);
}

static void test_csv_gbk_across_chunks(void **state)
{
	struct mr_buf in, b;
	const char *enc = NULL;
	char want[64];
	int64_t line;
	int fd;

	(void)state;
	mr_buf_init(&in, 1 << 20);
	mr_buf_init(&b, 1 << 20);
	/*
	 * A GBK header (医生 is D2 BD C9 FA; D2 BD alone would pass as UTF-8)
	 * makes the probe invalid UTF-8; 张 (D5 C5) is cut between the first
	 * chunk and the second.
	 */
	fd = file_with_tail_at("\xd2\xbd\xc9\xfa\n", CHUNK - 1, "\xd5\xc5\xc8\xfd,\xb1\xb1\n", 7, &in, &line);
	assert_int_equal((unsigned char)in.p[CHUNK - 1], 0xd5);
	tx_fd(fd, NULL, &b, &enc, NULL, 0);
	assert_string_equal(enc, "gb18030");
	assert_true(strncmp(b.p, "L1:医生\n", strlen("L1:医生\n")) == 0);
	snprintf(want, sizeof(want), "\nL%lld:张三|北\n", (long long)line);
	assert_non_null(strstr(b.p, want));
	assert_null(strchr(b.p, 'E'));
	close(fd);
	mr_buf_release(&in);
	mr_buf_release(&b);
}

static void test_csv_gbk_larger_than_a_conversion_step(void **state)
{
	struct mr_buf in, b;
	size_t rows = 0;

	(void)state;
	/* 300 KB of GBK becomes 450 KB of UTF-8: several conversion steps, from memory. */
	mr_buf_init(&in, 1 << 22);
	mr_buf_init(&b, 1 << 24);
	while (in.len < 300000) {
		mr_buf_adds(&in, "\xd5\xc5\xc8\xfd,\"\xb1\xb1\r\n\xbe\xa9\"\n");
		rows++;
	}
	tx_mem(in.p, in.len, NULL, &b);
	{
		size_t n = 0;

		for (const char *s = b.p; (s = strstr(s, "张三|北\\r\\n京\n")) != NULL; s++)
			n++;
		assert_int_equal(n, rows);
	}
	assert_non_null(strstr(b.p, "L3:"));  /* two lines per record */
	mr_buf_release(&in);
	mr_buf_release(&b);
}

static void test_csv_crlf_across_chunks(void **state)
{
	struct mr_buf in, b;
	char want[64];
	int64_t line;
	int fd;

	(void)state;
	mr_buf_init(&in, 1 << 20);
	mr_buf_init(&b, 1 << 20);
	/* "a,b\r" ends the first chunk, "\n" starts the second: one line break, not two. */
	fd = file_with_tail_at("h\n", CHUNK - 4, "a,b\r\nc,d\r\n", 10, &in, &line);
	tx_fd(fd, NULL, &b, NULL, NULL, 0);
	snprintf(want, sizeof(want), "\nL%lld:a|b\nL%lld:c|d\n", (long long)line,
		 (long long)line + 1);
	assert_non_null(strstr(b.p, want));
	assert_null(strchr(b.p, 'E'));
	close(fd);
	/* The same inside quotes: the field keeps its CRLF and the next line number is right. */
	fd = file_with_tail_at("h\n", CHUNK - 3, "\"a\r\nb\"\nc\n", 9, &in, &line);
	tx_fd(fd, NULL, &b, NULL, NULL, 0);
	snprintf(want, sizeof(want), "\nL%lld:a\\r\\nb\nL%lld:c\n", (long long)line,
		 (long long)line + 2);
	assert_non_null(strstr(b.p, want));
	close(fd);
	mr_buf_release(&in);
	mr_buf_release(&b);
}

static void test_csv_offset_grows(void **state)
{
	struct mr_buf in;
	struct mr_csv *c = NULL;
	struct mr_csv_rec r;
	struct mr_err err;
	uint64_t last = 0;
	int n = 0;
	int fd;

	(void)state;
	mr_buf_init(&in, 1 << 22);
	for (n = 0; in.len < 300000; n++)
		mr_buf_addf(&in, "%d,some text,%d\n", n, n * 7);
	fd = tmp_fd(in.p, in.len);
	mr_err_clear(&err);
	assert_int_equal(mr_csv_open_fd(&c, fd, NULL, &err), 0);
	assert_true(mr_csv_offset(c) <= CHUNK);
	n = 0;
	while (mr_csv_next(c, &r, &err) == 1) {
		uint64_t off = mr_csv_offset(c);

		assert_true(off >= last);
		assert_true(off <= in.len);
		last = off;
		n++;
	}
	assert_true(n > 10000);
	assert_int_equal(mr_csv_offset(c), in.len);
	mr_csv_free(c);
	close(fd);
	/* From memory, GB18030: the raw offset too. */
	assert_int_equal(mr_csv_open_mem(&c, "\xd5\xc5\n\xc8\xfd\n", 6, NULL, &err), 0);
	assert_int_equal(mr_csv_next(c, &r, &err), 1);
	assert_int_equal(mr_csv_next(c, &r, &err), 1);
	assert_int_equal(mr_csv_next(c, &r, &err), 0);
	assert_int_equal(mr_csv_offset(c), 6);
	mr_csv_free(c);
	mr_buf_release(&in);
}

static void test_csv_read_error_ends_the_stream(void **state)
{
	struct mr_csv *c = NULL;
	struct mr_err err;
	int fd = open("/tmp", O_RDONLY | O_DIRECTORY);

	(void)state;
	assert_true(fd >= 0);
	mr_err_clear(&err);
	assert_int_equal(mr_csv_open_fd(&c, fd, NULL, &err), MR_EIO);
	assert_null(c);
	assert_non_null(strstr(err.msg, "cannot read"));
	close(fd);
}

/* ---- the table writer ---- */

/* The whole content of path; the caller frees it. */
static char *slurp(const char *path, size_t *n)
{
	struct stat st;
	char *p;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size + 1);
	assert_non_null(p);
	assert_int_equal(read(fd, p, (size_t)st.st_size), st.st_size);
	p[st.st_size] = '\0';
	*n = (size_t)st.st_size;
	close(fd);
	return p;
}

static void test_table_csv_bytes(void **state)
{
	static const char *const head[] = { "name", "note", "n", "-flag" };
	static const enum mr_cell_kind kinds[] = { MR_CELL_TEXT, MR_CELL_TEXT, MR_CELL_NUMBER,
						   MR_CELL_TEXT };
	static const char *const r1[] = { "Zhang, San", "say \"hi\"", "-12.5", "张三" };
	static const char *const r2[] = { "=cmd", "line1\r\nline2", "=1+2", "@SUM(A1)" };
	static const char *const r3[] = { NULL, "+x", "3", "" };
	static const char *const r4[] = { "=a,b", "-", "1e3" };
	static const char want[] = "\xef\xbb\xbf"
				   "name,note,n,'-flag\r\n"
				   "\"Zhang, San\",\"say \"\"hi\"\"\",-12.5,张三\r\n"
				   "'=cmd,\"line1\r\nline2\",'=1+2,'@SUM(A1)\r\n"
				   ",'+x,3,\r\n"
				   "\"'=a,b\",'-,1e3\r\n";
	char dir[] = "/tmp/mr-unit-table-XXXXXX";
	char path[300];
	struct mr_table *t = NULL;
	struct mr_err err;
	size_t n;
	char *got;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out.csv", dir);
	mr_err_clear(&err);
	assert_int_equal(mr_table_open(&t, MR_TABLE_CSV, path, "ignored", &err), 0);
	assert_int_equal(mr_table_header(t, 4, head, kinds, &err), 0);
	assert_int_equal(mr_table_row(t, 4, r1, &err), 0);
	assert_int_equal(mr_table_row(t, 4, r2, &err), 0);
	assert_int_equal(mr_table_row(t, 4, r3, &err), 0);
	assert_int_equal(mr_table_row(t, 3, r4, &err), 0);
	assert_int_equal(mr_table_header(t, 4, head, kinds, &err), MR_EINTERNAL);
	assert_int_equal(mr_table_close(t, &err), 0);
	got = slurp(path, &n);
	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(got, want, n);
	free(got);
	unlink(path);
	rmdir(dir);
}

static void test_table_csv_round_trips_through_the_reader(void **state)
{
	static const char *const head[] = { "a", "b" };
	static const char *const r1[] = { "x\"\"y,\n", "\r" };
	char dir[] = "/tmp/mr-unit-table-XXXXXX";
	char path[300];
	struct mr_table *t = NULL;
	struct mr_err err;
	struct mr_buf b;
	size_t n;
	char *got;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/rt.csv", dir);
	mr_err_clear(&err);
	assert_int_equal(mr_table_open(&t, MR_TABLE_CSV, path, NULL, &err), 0);
	assert_int_equal(mr_table_header(t, 2, head, NULL, &err), 0);
	assert_int_equal(mr_table_row(t, 2, r1, &err), 0);
	assert_int_equal(mr_table_close(t, &err), 0);
	got = slurp(path, &n);
	mr_buf_init(&b, 1 << 20);
	tx_mem(got, n, NULL, &b);
	assert_string_equal(b.p, "L1:a|b\nL2:x\"\"y,\\n|'\\r\n");
	mr_buf_release(&b);
	free(got);
	unlink(path);
	rmdir(dir);
}

static void test_table_csv_to_stdout(void **state)
{
	static const char *const head[] = { "k" };
	static const char *const r1[] = { "v" };
	char path[] = "/tmp/mr-unit-table-XXXXXX";
	int fd = mkstemp(path);
	int saved = dup(STDOUT_FILENO);
	struct mr_table *t = NULL;
	struct mr_err err;
	char got[64];
	ssize_t k;

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	mr_err_clear(&err);
	assert_int_equal(mr_table_open(&t, MR_TABLE_CSV, "-", NULL, &err), 0);
	assert_int_equal(mr_table_header(t, 1, head, NULL, &err), 0);
	assert_int_equal(mr_table_row(t, 1, r1, &err), 0);
	assert_int_equal(mr_table_close(t, &err), 0);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	k = pread(fd, got, sizeof(got) - 1, 0);
	assert_int_equal(k, 9);
	got[k] = '\0';
	assert_string_equal(got, "\xef\xbb\xbfk\r\nv\r\n");
	close(fd);
	unlink(path);
}

static void test_table_xlsx_is_a_workbook(void **state)
{
	static const char *const head[] = { "name", "visits", "score" };
	static const enum mr_cell_kind kinds[] = { MR_CELL_TEXT, MR_CELL_NUMBER, MR_CELL_NUMBER };
	char dir[] = "/tmp/mr-unit-table-XXXXXX";
	char path[300];
	struct mr_table *t = NULL;
	struct mr_err err;
	size_t n;
	char *got;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out.xlsx", dir);
	mr_err_clear(&err);
	assert_int_equal(mr_table_open(&t, MR_TABLE_XLSX, path, "HCPs [2024]: list/all of them here", &err), 0);
	assert_int_equal(mr_table_header(t, 3, head, kinds, &err), 0);
	for (int i = 0; i < 2000; i++) {
		char num[32];
		const char *row[3] = { i % 2 ? "张三" : "=cmd", num, i % 3 ? "n/a" : "-1.5e2" };

		snprintf(num, sizeof(num), "%d", i);
		assert_int_equal(mr_table_row(t, 3, row, &err), 0);
	}
	{
		const char *bad[] = { "\xff" };

		assert_int_equal(mr_table_row(t, 1, bad, &err), MR_EINVAL);
		assert_non_null(strstr(err.msg, "not UTF-8"));
	}
	assert_int_equal(mr_table_close(t, &err), 0);
	got = slurp(path, &n);
	assert_memory_equal(got, "PK\x03\x04", 4);
	assert_true(n > 5000 && n < 1000000);
	assert_non_null(memmem(got, n, "xl/worksheets/sheet1.xml", 24));
	free(got);
	unlink(path);
	rmdir(dir);
}

static void test_table_close_frees_on_errors(void **state)
{
	static const char *const head[] = { "a" };
	struct mr_table *t = NULL;
	struct mr_err err;

	(void)state;
	mr_err_clear(&err);
	/* XLSX is written at close: an unwritable path fails there, and t is freed. */
	assert_int_equal(mr_table_open(&t, MR_TABLE_XLSX, "/nonexistent-dir/x.xlsx", "s", &err), 0);
	assert_int_equal(mr_table_header(t, 1, head, NULL, &err), 0);
	assert_int_equal(mr_table_row(t, 1, head, &err), 0);
	{
		/* libxlsxwriter also prints the failure to stderr: keep the test output clean. */
		int saved = dup(STDERR_FILENO);
		int null = open("/dev/null", O_WRONLY);

		dup2(null, STDERR_FILENO);
		assert_int_equal(mr_table_close(t, &err), MR_EIO);
		dup2(saved, STDERR_FILENO);
		close(saved);
		close(null);
	}
	assert_non_null(strstr(err.msg, "/nonexistent-dir/x.xlsx"));
	/* A full disk shows when the CSV is flushed. */
	mr_err_clear(&err);
	assert_int_equal(mr_table_open(&t, MR_TABLE_CSV, "/dev/full", NULL, &err), 0);
	assert_int_equal(mr_table_header(t, 1, head, NULL, &err), 0);
	assert_int_equal(mr_table_close(t, &err), MR_EIO);
	/* Failures at open leave nothing to close. */
	assert_int_equal(mr_table_open(&t, MR_TABLE_CSV, "/nonexistent-dir/x.csv", NULL, &err), MR_EIO);
	assert_null(t);
	assert_int_equal(mr_table_open(&t, MR_TABLE_XLSX, "-", NULL, &err), MR_EINVAL);
	assert_null(t);
	assert_int_equal(mr_table_close(NULL, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_quotes_and_escapes),
		cmocka_unit_test(test_csv_embedded_newlines_keep_line_numbers),
		cmocka_unit_test(test_csv_blank_lines_and_empty_input),
		cmocka_unit_test(test_csv_delimiter_option),
		cmocka_unit_test(test_csv_invalid_utf8_reported_and_skipped),
		cmocka_unit_test(test_csv_stray_quotes),
		cmocka_unit_test(test_csv_error_messages),
		cmocka_unit_test(test_csv_unterminated_quote_at_eof),
		cmocka_unit_test(test_csv_too_many_fields),
		cmocka_unit_test(test_csv_oversize_field_is_skipped_from_a_file),
		cmocka_unit_test(test_csv_oversize_record_through_a_pipe),
		cmocka_unit_test(test_csv_bom_is_stripped),
		cmocka_unit_test(test_csv_gbk_detected_and_converted),
		cmocka_unit_test(test_csv_gbk_after_an_ascii_probe_says_declare),
		cmocka_unit_test(test_csv_utf16_with_bom),
		cmocka_unit_test(test_csv_bytes_invalid_in_the_encoding),
		cmocka_unit_test(test_csv_multibyte_utf8_across_chunks),
		cmocka_unit_test(test_csv_gbk_across_chunks),
		cmocka_unit_test(test_csv_gbk_larger_than_a_conversion_step),
		cmocka_unit_test(test_csv_crlf_across_chunks),
		cmocka_unit_test(test_csv_offset_grows),
		cmocka_unit_test(test_csv_read_error_ends_the_stream),
		cmocka_unit_test(test_table_csv_bytes),
		cmocka_unit_test(test_table_csv_round_trips_through_the_reader),
		cmocka_unit_test(test_table_csv_to_stdout),
		cmocka_unit_test(test_table_xlsx_is_a_workbook),
		cmocka_unit_test(test_table_close_frees_on_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
