/*
 * Table output for exports (the mr_table_* half of csv.h): one header row
 * and rows of text cells, written as CSV or as an XLSX workbook.
 *
 * CSV is what Excel opens by double-click, so it carries a UTF-8 BOM and
 * CRLF line ends, quotes only the cells that need it, and defuses cells a
 * spreadsheet would evaluate as a formula ("CSV injection") by prefixing a
 * '. A numeric column's cells that are plain numbers are left alone, so
 * "-12.5" stays a number.
 *
 * XLSX goes through libxlsxwriter in constant-memory mode: each row is
 * flushed to a temporary file as the next one starts, so an export of a
 * million rows needs no more memory than one. Cells are written as strings
 * (never formulas, so there is nothing to defuse) or, in numeric columns,
 * as numbers when they parse as finite numbers.
 */
#include "base/csv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xlsxwriter.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/str.h"

#define MR_TABLE_MAX_LINE ((size_t)256 << 20) /* a CSV row, quoted */
#define MR_TABLE_XLSX_CHARS 32767             /* characters Excel holds in a cell */

struct mr_table {
	enum mr_table_format fmt;
	char *path;
	FILE *f;                 /* CSV */
	lxw_workbook *wb;        /* XLSX */
	lxw_worksheet *ws;
	lxw_format *bold;
	enum mr_cell_kind *kinds;
	int nkinds;
	int ncols;               /* the header's width, 0 before (or without) a header */
	int64_t row;             /* the next row to write, 0-based */
	struct mr_buf scratch;   /* CSV: the row being formatted; XLSX: a shortened cell */
};

/* 1 when s is a plain decimal number (no hex, inf or nan) that fits a double; *v gets it. */
static int mr_table_number(const char *s, double *v)
{
	char *end = NULL;
	unsigned char c0 = (unsigned char)s[0];
	int lead = (c0 >= '0' && c0 <= '9') || ((c0 == '-' || c0 == '+' || c0 == '.') && s[1]);

	if (!lead || strpbrk(s, "xXpP"))
		return 0;
	errno = 0;
	*v = strtod(s, &end);
	return *end == '\0' && errno == 0 && isfinite(*v);
}

/* The kind of column i: text unless the header said otherwise. */
static enum mr_cell_kind mr_table_kind(const struct mr_table *t, int i)
{
	return i < t->nkinds ? t->kinds[i] : MR_CELL_TEXT;
}

/* ---- CSV ---- */

/* Appends one cell to the row in t->scratch, quoted and defused as needed. */
static int mr_table_csv_cell(struct mr_table *t, const char *s, int numeric)
{
	struct mr_buf *b = &t->scratch;
	double v;
	int quote = strpbrk(s, ",\"\r\n") != NULL;
	int defuse = s[0] != '\0' && strchr("=+-@\t\r", s[0]) && !(numeric && mr_table_number(s, &v));
	int rc = 0;

	if (quote)
		rc = mr_buf_addc(b, '"');
	if (rc == 0 && defuse)
		rc = mr_buf_addc(b, '\'');
	if (rc == 0 && !quote)
		return mr_buf_adds(b, s);
	for (const char *q = strchr(s, '"'); rc == 0 && q; q = strchr(s, '"')) {
		rc = mr_buf_add(b, s, (size_t)(q - s) + 1); /* up to and with the quote... */
		if (rc == 0)
			rc = mr_buf_addc(b, '"');          /* ...which is doubled */
		s = q + 1;
	}
	if (rc == 0)
		rc = mr_buf_adds(b, s);
	return rc == 0 ? mr_buf_addc(b, '"') : rc;
}

/* Writes one CSV row of n cells; header cells are all text (a column named "-x" is defused too). */
static int mr_table_csv_row(struct mr_table *t, int n, const char *const *cells, int header,
			    struct mr_err *err)
{
	int rc = 0;

	mr_buf_reset(&t->scratch);
	for (int i = 0; rc == 0 && i < n; i++) {
		if (i > 0)
			rc = mr_buf_addc(&t->scratch, ',');
		if (rc == 0)
			rc = mr_table_csv_cell(t, cells[i] ? cells[i] : "",
					       !header && mr_table_kind(t, i) == MR_CELL_NUMBER);
	}
	if (rc == 0)
		rc = mr_buf_add(&t->scratch, "\r\n", 2);
	if (rc < 0)
		return mr_err_set(err, MR_ETOOBIG, "row %lld is longer than %zu bytes",
				  (long long)t->row + 1, MR_TABLE_MAX_LINE);
	if (fwrite(t->scratch.p, 1, t->scratch.len, t->f) != t->scratch.len)
		return mr_err_set(err, MR_EIO, "cannot write %s: %s", t->path, strerror(errno));
	t->row++;
	return 0;
}

/* Opens the file (or takes stdout) and writes the BOM. */
static int mr_table_csv_open(struct mr_table *t, struct mr_err *err)
{
	if (strcmp(t->path, "-") == 0) {
		t->f = stdout;
	} else {
		t->f = fopen(t->path, "wbe");
		if (!t->f)
			return mr_err_set(err, MR_EIO, "cannot create %s: %s", t->path, strerror(errno));
	}
	if (fwrite("\xef\xbb\xbf", 1, 3, t->f) != 3)
		return mr_err_set(err, MR_EIO, "cannot write %s: %s", t->path, strerror(errno));
	return 0;
}

/* Flushes and closes the CSV file (not stdout). */
static int mr_table_csv_close(struct mr_table *t, struct mr_err *err)
{
	int bad;

	if (!t->f)
		return 0;
	bad = fflush(t->f) != 0 || ferror(t->f);
	if (t->f != stdout)
		bad |= fclose(t->f) != 0;
	t->f = NULL;
	if (bad)
		return mr_err_set(err, MR_EIO, "cannot write %s: %s", t->path, strerror(errno));
	return 0;
}

/* ---- XLSX ---- */

/* A worksheet name Excel accepts: at most 31 characters, none of []:*?/\, no ' at either end. */
static void mr_table_sheet_name(const char *sheet, char *out, size_t n)
{
	size_t o = 0;

	if (!sheet || !*sheet || mr_utf8_check(sheet, strlen(sheet)) != 0 || n < 4 * 31 + 1) {
		snprintf(out, n, "Sheet1");
		return;
	}
	for (int chars = 0; *sheet && chars < LXW_SHEETNAME_MAX; chars++) {
		unsigned char c = (unsigned char)*sheet;
		size_t len = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;

		if (len == 1 && strchr("[]:*?/\\", *sheet))
			out[o] = '_';
		else
			memcpy(out + o, sheet, len);
		o += len;
		sheet += len;
	}
	out[o] = '\0';
	if (out[0] == '\'')
		out[0] = '_';
	if (out[o - 1] == '\'')
		out[o - 1] = '_';
}

/* Starts the workbook (written only at close), its one worksheet and the bold header format. */
static int mr_table_xlsx_open(struct mr_table *t, const char *sheet, struct mr_err *err)
{
	lxw_workbook_options opts = { .constant_memory = 1 };
	char name[4 * 31 + 1];

	if (strcmp(t->path, "-") == 0)
		return mr_err_set(err, MR_EINVAL, "an XLSX export needs a file name, not stdout");
	t->wb = workbook_new_opt(t->path, &opts);
	if (!t->wb)
		return mr_err_set(err, MR_EIO, "cannot create the workbook %s", t->path);
	mr_table_sheet_name(sheet, name, sizeof(name));
	t->ws = workbook_add_worksheet(t->wb, name);
	if (!t->ws)
		return mr_err_set(err, MR_EIO, "cannot add the worksheet '%s' (is the temp "
				  "directory writable?)", name);
	t->bold = workbook_add_format(t->wb);
	format_set_bold(t->bold);
	return 0;
}

/* The text of a cell as Excel can hold it: UTF-8, at most 32767 characters. */
static int mr_table_xlsx_text(struct mr_table *t, const char *s, int col, const char **out,
			      struct mr_err *err)
{
	size_t n = strlen(s);
	size_t i = 0;

	*out = s;
	if (mr_utf8_check(s, n) != 0)
		return mr_err_set(err, MR_EINVAL, "row %lld, column %d: the text is not UTF-8",
				  (long long)t->row + 1, col + 1);
	if (n <= MR_TABLE_XLSX_CHARS)
		return 0;
	for (int chars = 0; i < n && chars < MR_TABLE_XLSX_CHARS; i++)
		chars += ((unsigned char)s[i] & 0xc0) != 0x80;
	while (i < n && ((unsigned char)s[i] & 0xc0) == 0x80)
		i++;
	mr_buf_reset(&t->scratch);
	if (mr_buf_add(&t->scratch, s, i) == 0)
		*out = mr_buf_str(&t->scratch);
	return 0;
}

/* Writes cell s at (t->row, col) in the format fmt (NULL for plain). */
static int mr_table_xlsx_cell(struct mr_table *t, int col, const char *s, lxw_format *fmt,
			      struct mr_err *err)
{
	lxw_row_t r = (lxw_row_t)t->row;
	lxw_col_t c = (lxw_col_t)col;
	lxw_error e;
	double v;
	int rc;

	if (!s || !*s)
		return 0;
	if (!fmt && mr_table_kind(t, col) == MR_CELL_NUMBER && mr_table_number(s, &v)) {
		e = worksheet_write_number(t->ws, r, c, v, NULL);
	} else {
		rc = mr_table_xlsx_text(t, s, col, &s, err);
		if (rc < 0)
			return rc;
		e = worksheet_write_string(t->ws, r, c, s, fmt);
	}
	if (e != LXW_NO_ERROR)
		return mr_err_set(err, MR_EIO, "row %lld, column %d: %s", (long long)t->row + 1,
				  col + 1, lxw_strerror(e));
	return 0;
}

/* Writes one row of n cells at t->row, in the format fmt (the header's bold) or as the columns say. */
static int mr_table_xlsx_row(struct mr_table *t, int n, const char *const *cells, lxw_format *fmt,
			     struct mr_err *err)
{
	int rc = 0;

	if (t->row >= LXW_ROW_MAX)
		return mr_err_set(err, MR_ETOOBIG, "an XLSX sheet holds at most %d rows; export "
				  "as CSV instead", LXW_ROW_MAX);
	if (n > LXW_COL_MAX)
		return mr_err_set(err, MR_ETOOBIG, "an XLSX sheet holds at most %d columns", LXW_COL_MAX);
	for (int i = 0; rc == 0 && i < n; i++)
		rc = mr_table_xlsx_cell(t, i, cells[i], fmt, err);
	if (rc == 0)
		t->row++;
	return rc;
}

/* Writes the workbook: the header's freeze pane and filter, then the zip. */
static int mr_table_xlsx_close(struct mr_table *t, struct mr_err *err)
{
	lxw_error e;

	if (!t->wb)
		return 0;
	if (t->ncols > 0) {
		worksheet_freeze_panes(t->ws, 1, 0);
		worksheet_autofilter(t->ws, 0, 0, (lxw_row_t)(t->row > 1 ? t->row - 1 : 0),
				     (lxw_col_t)(t->ncols - 1));
	}
	e = workbook_close(t->wb);
	t->wb = NULL;
	if (e != LXW_NO_ERROR)
		return mr_err_set(err, MR_EIO, "cannot write the workbook %s: %s", t->path,
				  lxw_strerror(e));
	return 0;
}

/* ---- the API ---- */

int mr_table_open(struct mr_table **out, enum mr_table_format fmt, const char *path,
		  const char *sheet, struct mr_err *err)
{
	struct mr_table *t;
	int rc;

	*out = NULL;
	if (!path || !*path)
		return mr_err_set(err, MR_EINVAL, "an export needs a file name (or - for stdout)");
	t = mr_calloc(1, sizeof(*t));
	t->fmt = fmt;
	t->path = mr_strdup(path);
	mr_buf_init(&t->scratch, MR_TABLE_MAX_LINE);
	if (fmt == MR_TABLE_XLSX)
		rc = mr_table_xlsx_open(t, sheet, err);
	else
		rc = mr_table_csv_open(t, err);
	if (rc < 0) {
		/* Nothing was written: drop the workbook without creating its file. */
		if (t->wb)
			lxw_workbook_free(t->wb);
		t->wb = NULL;
		if (t->f && t->f != stdout)
			(void)fclose(t->f);
		t->f = NULL;
		(void)mr_table_close(t, err);
		t = NULL;
	}
	*out = t;
	return rc;
}

int mr_table_header(struct mr_table *t, int n, const char *const *names,
		    const enum mr_cell_kind *kinds, struct mr_err *err)
{
	if (n < 1 || t->row != 0 || t->ncols != 0)
		return mr_err_set(err, MR_EINTERNAL, "a table header comes first, once, with at "
				  "least one column");
	t->kinds = mr_calloc((size_t)n, sizeof(*t->kinds));
	t->nkinds = n;
	if (kinds)
		memcpy(t->kinds, kinds, (size_t)n * sizeof(*kinds));
	t->ncols = n;
	if (t->fmt == MR_TABLE_XLSX)
		return mr_table_xlsx_row(t, n, names, t->bold, err);
	return mr_table_csv_row(t, n, names, 1, err);
}

int mr_table_row(struct mr_table *t, int n, const char *const *cells, struct mr_err *err)
{
	if (n < 0)
		return mr_err_set(err, MR_EINTERNAL, "a table row cannot have %d cells", n);
	if (t->fmt == MR_TABLE_XLSX)
		return mr_table_xlsx_row(t, n, cells, NULL, err);
	return mr_table_csv_row(t, n, cells, 0, err);
}

int mr_table_close(struct mr_table *t, struct mr_err *err)
{
	int rc;

	if (!t)
		return 0;
	if (t->fmt == MR_TABLE_XLSX)
		rc = mr_table_xlsx_close(t, err);
	else
		rc = mr_table_csv_close(t, err);
	mr_buf_release(&t->scratch);
	free(t->kinds);
	free(t->path);
	free(t);
	return rc;
}
