/*
 * Exporting master data to CSV or XLSX: the same columns the importer
 * reads (id, the entity's fields, then one column per custom attribute
 * seen), so an export can be edited and imported back. Rows are read page
 * by page, so memory stays flat whatever the size. HCP contact fields are
 * masked unless the caller asks for them in the clear (and may).
 */
#ifndef MR_MD_EXPORT_H
#define MR_MD_EXPORT_H

#include <stdint.h>

#include "base/csv.h"
#include "crypto/keys.h"
#include "md/md.h"

struct mr_export_opts {
	const struct mr_md_entity *e;
	const struct mr_scope *scope;
	const struct mr_md_query *query;   /* filters and search; limit and cursor are the exporter's */
	const struct mr_keys *keys;
	int unmask;                        /* HCPs: phone, email, license_no in the clear */
	void (*progress)(void *arg, int64_t rows);
	void *progress_arg;
};

/* Writes every row the query selects to t (header first); *rows gets the count. */
int mr_md_export(struct mr_conn *c, const struct mr_export_opts *o, struct mr_table *t,
		 int64_t *rows, struct mr_err *err);

#endif
