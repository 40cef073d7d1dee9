/*
 * Streaming CSV reading (RFC 4180) for every importer, and table writing
 * (CSV and XLSX) for every export.
 *
 * The reader pulls one record at a time from a file descriptor or a memory
 * block, so a 1 GB file never sits in memory: it holds one input chunk and
 * the current record, each capped. Input may be UTF-8 (with or without a
 * BOM), UTF-16 with a BOM, or GB18030/GBK as Chinese Excel writes it,
 * declared or detected (a byte-order mark wins over a declaration); everything
 * the caller sees is valid UTF-8 without NUL bytes.
 *
 * Errors say where: the physical line on which the record starts and, for
 * a bad field, its 1-based column (the field's index in the record). A bad
 * record (bytes invalid in the encoding, a NUL, a field or record over the
 * cap, too many fields, a stray quote, a quote never closed) is reported and
 * skipped without being held in memory; the reader goes on with the next
 * record, so the good part of a file is kept. Only a failure to read the
 * input at all ends the stream.
 *
 * Why not libcsv: it cannot say on which line a record started, and a
 * field over the cap leaves its parser in a state it cannot recover from;
 * both are what an import report needs.
 */
#ifndef MR_BASE_CSV_H
#define MR_BASE_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

enum mr_csv_encoding {
	MR_CSV_AUTO,    /* BOM, else UTF-8 when the first 64 KiB are valid UTF-8, else GB18030 */
	MR_CSV_UTF8,
	MR_CSV_GB18030, /* a superset of GBK and GB2312 */
	MR_CSV_UTF16,   /* only with a BOM (LE or BE) */
};

struct mr_csv_opts {
	enum mr_csv_encoding encoding;
	char delimiter;     /* ',' when 0 */
	size_t max_field;   /* bytes per field (UTF-8); 1 MiB when 0 */
	size_t max_record;  /* bytes per record; 4 MiB when 0 */
	int max_fields;     /* fields per record; 1024 when 0 */
};

/* One record; the strings are the reader's, valid until the next mr_csv_next. */
struct mr_csv_rec {
	int nfields;
	char **fields;      /* NUL-terminated UTF-8 */
	size_t *lens;
	int64_t line;       /* physical line (1-based) on which the record starts */
	int64_t index;      /* 1-based count of records returned so far, header included */
};

struct mr_csv;

/* Parses "auto", "utf-8", "gb18030" / "gbk" / "gb2312" / "cp936", "utf-16" (any case); -1 when unknown. */
int mr_csv_encoding_parse(const char *s);
/* The encoding in use ("utf-8", "gb18030", "utf-16"), settled when the reader was opened. */
const char *mr_csv_encoding_name(const struct mr_csv *c);

/*
 * A reader over fd (not closed by the reader). opts may be NULL. Reads the
 * first 64 KiB to settle the encoding: MR_EIO when fd cannot be read,
 * MR_EINVAL for a bad delimiter or declared UTF-16 without a BOM.
 */
int mr_csv_open_fd(struct mr_csv **out, int fd, const struct mr_csv_opts *opts, struct mr_err *err);
/* A reader over n bytes at p, borrowed until mr_csv_free. */
int mr_csv_open_mem(struct mr_csv **out, const void *p, size_t n, const struct mr_csv_opts *opts,
		    struct mr_err *err);
void mr_csv_free(struct mr_csv *c);

/*
 * The next record: 1 when *rec holds one, 0 at the end of input.
 * MR_EINVAL when this record is bad: err has the line, the column (when one
 * field is to blame) and the reason; call again to go on with the next one.
 * Any other negative code (MR_EIO) ends the stream. Empty lines between
 * records are skipped; a record of one empty field on an otherwise empty
 * line is not returned.
 */
int mr_csv_next(struct mr_csv *c, struct mr_csv_rec *rec, struct mr_err *err);
/* Bytes of input consumed so far (for progress bars). */
uint64_t mr_csv_offset(const struct mr_csv *c);

/*
 * Table output for exports: a header row, then rows of text cells.
 * MR_TABLE_CSV writes UTF-8 CSV with a BOM (so Excel opens Chinese text
 * correctly) and CRLF line ends, quoting as RFC 4180 needs, and neutralises
 * cells that a spreadsheet would run as a formula (a leading = + - @, tab or
 * CR gets a '; a plain number in an MR_CELL_NUMBER column is left alone).
 * MR_TABLE_XLSX writes an Excel workbook through libxlsxwriter in its
 * constant-memory mode: a bold, frozen header row with a filter, text cells
 * as strings (never formulas), and cells of MR_CELL_NUMBER columns that
 * parse as finite decimal numbers as numbers.
 */
enum mr_table_format { MR_TABLE_CSV, MR_TABLE_XLSX };
enum mr_cell_kind { MR_CELL_TEXT, MR_CELL_NUMBER };

struct mr_table;

/* Writes to path ("-" for stdout, CSV only); sheet names the XLSX worksheet (made valid for Excel). */
int mr_table_open(struct mr_table **out, enum mr_table_format fmt, const char *path,
		  const char *sheet, struct mr_err *err);
/* Sets the header, once, before any row; kinds (may be NULL: all text) says which columns are numeric. */
int mr_table_header(struct mr_table *t, int n, const char *const *names,
		    const enum mr_cell_kind *kinds, struct mr_err *err);
/* Appends a row of n cells (NULL cells are empty). */
int mr_table_row(struct mr_table *t, int n, const char *const *cells, struct mr_err *err);
/* Finishes the file (XLSX is written here); frees t in every case. */
int mr_table_close(struct mr_table *t, struct mr_err *err);

#endif
