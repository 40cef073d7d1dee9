/*
 * The event log's commands (cmd_events.c, cmd_cdr.c), reached through
 * `medreach import events|cdr` and `medreach export events`.
 */
#ifndef MR_CLI_EVENTS_H
#define MR_CLI_EVENTS_H

#include <stdint.h>

#include <jansson.h>

#include "base/err.h"
#include "cli/cli.h"

struct mr_hcpdir;
struct mr_evindex;

/* What a command writing the event log holds: the store, the key, the HCP
 * directory the rows resolve against and (SQLite) the ids stored. */
struct mr_evcli_log {
	struct mr_store *store;
	struct mr_keys keys;
	struct mr_hcpdir *dir;
	struct mr_evindex *ids;
};

/* Opens all of it (bulk: the store in bulk-load mode); close even after a failure. */
int mr_evcli_log_open(struct mr_cli *cli, struct mr_evcli_log *l, int bulk, struct mr_err *err);
void mr_evcli_log_close(struct mr_evcli_log *l);
/* Prints the first 50 rejections of a report ({line, column?, field?, error}) on stderr. */
void mr_evcli_print_rejected(json_t *list, int64_t total, const char *what);

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
