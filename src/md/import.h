/*
 * Importing master data from rows: CSV files (CLI and API), and the demo
 * world, which emits the same rows. An importer maps a header to an
 * entity's fields (unknown columns become custom attributes), checks each
 * row, and writes rows in batches, one transaction per batch through the
 * caller's commit function (mr_store_write for the CLI, the group-commit
 * writer in the server). A bad row is reported with its line, column and
 * reason and skipped; the good rows of the batch are kept. Rows keyed by
 * external id are upserted, so importing the same file twice changes
 * nothing the second time.
 */
#ifndef MR_MD_IMPORT_H
#define MR_MD_IMPORT_H

#include <jansson.h>
#include <stdint.h>

#include "base/csv.h"
#include "crypto/keys.h"
#include "md/md.h"

/* Runs fn(arg) in one write transaction, as mr_store_write does. */
typedef int (*mr_import_commit_fn)(void *ctx, mr_write_fn fn, void *arg, struct mr_err *err);

struct mr_import_opts {
	const char *entity;          /* territories, hcos, reps, hcps, content, alignments, consents, identities */
	const struct mr_keys *keys;
	struct mr_md_actor who;      /* who.now is refreshed per batch */
	mr_import_commit_fn commit;
	void *commit_ctx;
	int batch;                   /* rows per transaction (default 2000) */
	int max_errors;              /* errors listed in the report (default 1000; all are counted) */
	void (*progress)(void *arg, int64_t rows);
	void *progress_arg;
};

struct mr_import_report {
	char entity[16];
	int64_t rows;        /* data rows seen */
	int64_t created, updated, unchanged, failed;
	int64_t errors_total;
	json_t *errors;      /* [{line, column, field, message}], owned by the report */
	int64_t took_us;
};

struct mr_importer;

/* 1 when entity names something importable. */
int mr_import_known(const char *entity);
int mr_importer_new(struct mr_importer **out, const struct mr_import_opts *o, struct mr_err *err);
/* Maps the header row; MR_EINVAL when a required column is missing or a name repeats. */
int mr_importer_header(struct mr_importer *im, int n, const char *const *cols, int64_t line,
		       struct mr_err *err);
/* Takes one data row (copied); writes a batch when it is full. Errors are only I/O or database. */
int mr_importer_row(struct mr_importer *im, int n, const char *const *vals, int64_t line,
		    struct mr_err *err);
/* Records a row the reader could not parse. */
void mr_importer_bad_row(struct mr_importer *im, const struct mr_err *why);
/* Writes what is left and fills rep (its errors array is the caller's to free). */
int mr_importer_finish(struct mr_importer *im, struct mr_import_report *rep, struct mr_err *err);
void mr_importer_free(struct mr_importer *im);

/* Imports a whole CSV stream: header, rows, bad records reported. */
int mr_import_csv(struct mr_csv *csv, const struct mr_import_opts *o,
		  struct mr_import_report *rep, struct mr_err *err);
/* The report as JSON (takes nothing; the errors array is copied). */
json_t *mr_import_report_json(const struct mr_import_report *rep);
void mr_import_report_release(struct mr_import_report *rep);

#endif
