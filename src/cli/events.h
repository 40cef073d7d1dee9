/*
 * The event log's commands (cmd_events.c, cmd_cdr.c), reached through
 * `medreach import events|cdr` and `medreach export events`.
 */
#ifndef MR_CLI_EVENTS_H
#define MR_CLI_EVENTS_H

#include <stdint.h>

#include "base/err.h"
#include "cli/cli.h"

/* Imports an NDJSON file (plain or gzip; "-" for stdin); 1 when some lines were rejected. */
int mr_cmd_import_events(struct mr_cli *cli, const char *path, struct mr_err *err);
/* A call centre's CDR export (cmd_cdr.c): phone events; 1 when some rows were reported. */
struct mr_csv_opts;
int mr_cmd_import_cdr(struct mr_cli *cli, const char *path, const struct mr_csv_opts *copts, int batch,
		      struct mr_err *err);
/* Writes the events after seq after as NDJSON to out_path (NULL or "-": stdout). */
int mr_cmd_export_events(struct mr_cli *cli, const char *out_path, int64_t after,
			 struct mr_err *err);

#endif
