/*
 * medreach import ENTITY FILE: loads a CSV file of territories, hcos, reps,
 * hcps, content, alignments, consents or identities (or call-centre CDRs, cdr:
 * cmd_cdr.c; or NDJSON events: cmd_events.c), streamed (the file is never
 * held in memory), in batches of one transaction each, with a progress
 * line. Prints the row-level report: every bad row with its line, column
 * and reason; the good rows are kept. Exits 0 when every row was good, 1
 * when some were reported, 2 on bad usage.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "base/csv.h"
#include "base/str.h"
#include "cli/cli.h"
#include "cli/events.h"
#include "cli/progress.h"
#include "md/import.h"


static const char mr_import_help[] =
	"usage: medreach import ENTITY FILE.csv [options]\n"
	"       medreach import events FILE.ndjson[.gz]\n"
	"       medreach import cdr FILE.csv\n\n"
	"ENTITY is territories, hcos, reps, hcps, content, alignments, consents or identities.\n"
	"Rows are upserted by id, so importing a file again changes nothing. Bad rows\n"
	"are reported with line, column and reason, and the good rows are kept.\n"
	"events: one JSON event a line (plain or gzip); ids seen before are duplicates.\n"
	"cdr: a call centre's CDR export as phone events, with the cdr channel's rules;\n"
	"calls seen before are duplicates.\n"
	"FILE may be - for standard input.\n\n"
	"options:\n"
	"  --encoding E      auto (default: BOM, else UTF-8 if valid, else GB18030), utf-8, gb18030, utf-16\n"
	"  --batch N         rows per transaction (default 50000)\n" MR_CLI_COMMON_HELP;

struct mr_import_cli {
	struct mr_store *store;
	struct mr_csv *csv;
	struct mr_progress bar;
};

static int mr_import_cli_commit(void *ctx, mr_write_fn fn, void *arg, struct mr_err *err)
{
	struct mr_import_cli *ic = ctx;

	return mr_store_write(ic->store, fn, arg, err);
}

static void mr_import_cli_progress(void *arg, int64_t rows)
{
	struct mr_import_cli *ic = arg;

	mr_progress_update(&ic->bar, mr_csv_offset(ic->csv), rows);
}

struct mr_import_audit_job {
	const struct mr_keys *keys;
	const char *entity;
	json_t *report;
};

static int mr_import_cli_audit(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_import_audit_job *j = arg;
	unsigned char after[MR_AUDIT_DIGEST];
	char action[40];
	struct mr_audit_rec rec = { 0 };

	mr_audit_digest(j->keys, j->report, after);
	snprintf(action, sizeof(action), "%s.import", j->entity);
	rec.login = "cli";
	rec.action = action;
	rec.entity = j->entity;
	rec.after = after;
	return mr_audit_append(c, j->keys, &rec, NULL, err);
}

static void mr_import_print(const struct mr_import_report *rep)
{
	size_t i;
	json_t *e;
	double secs = (double)rep->took_us / 1e6;

	json_array_foreach(rep->errors, i, e) {
		const char *msg = json_string_value(json_object_get(e, "message"));

		if (i >= 50)
			break;
		if (strncmp(msg, "line ", 5) == 0) {
			fprintf(stderr, "%s\n", msg); /* the reader's messages say where already */
			continue;
		}
		fprintf(stderr, "line %lld, column %lld%s%s%s: %s\n",
			(long long)json_integer_value(json_object_get(e, "line")),
			(long long)json_integer_value(json_object_get(e, "column")),
			*json_string_value(json_object_get(e, "field")) ? " (" : "",
			json_string_value(json_object_get(e, "field")),
			*json_string_value(json_object_get(e, "field")) ? ")" : "",
			json_string_value(json_object_get(e, "message")));
	}
	if (rep->errors_total > 50)
		fprintf(stderr, "... and %lld more bad rows\n", (long long)(rep->errors_total - 50));
	printf("%s: %lld rows: %lld created, %lld updated, %lld unchanged, %lld failed in %.1f s"
	       " (%.0f rows/s)\n", rep->entity, (long long)rep->rows, (long long)rep->created,
	       (long long)rep->updated, (long long)rep->unchanged, (long long)rep->failed, secs,
	       secs > 0 ? (double)rep->rows / secs : 0);
}

static int mr_import_run(struct mr_cli *cli, const char *entity, const char *path,
			 struct mr_csv_opts *copts, int batch, struct mr_err *err)
{
	struct mr_import_cli ic = { 0 };
	struct mr_import_opts o = { .entity = entity, .batch = batch };
	struct mr_import_report rep = { 0 };
	struct mr_import_audit_job aj;
	struct mr_keys keys;
	struct stat st;
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return mr_err_set(err, MR_EIO, "cannot open %s: %m", path);
	cli->store.bulk_load = 1;
	rc = mr_cli_open(cli, 1, &ic.store, &keys, err);
	if (rc == 0)
		rc = mr_csv_open_fd(&ic.csv, fd, copts, err);
	if (rc == 0) {
		mr_progress_init(&ic.bar, entity, fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0);
		o.keys = &keys;
		o.who.login = "cli";
		o.who.source = "import";
		o.commit = mr_import_cli_commit;
		o.commit_ctx = &ic;
		o.progress = mr_import_cli_progress;
		o.progress_arg = &ic;
		rc = mr_import_csv(ic.csv, &o, &rep, err);
		mr_progress_done(&ic.bar);
	}
	if (rc == 0) {
		aj.keys = &keys;
		aj.entity = rep.entity;
		aj.report = mr_import_report_json(&rep);
		rc = mr_store_write(ic.store, mr_import_cli_audit, &aj, err);
		json_decref(aj.report);
		mr_import_print(&rep);
	}
	mr_csv_free(ic.csv);
	if (ic.store) {
		mr_keys_wipe(&keys);
		mr_store_close(ic.store);
	}
	if (fd > 0)
		close(fd);
	if (rc == 0 && rep.failed > 0)
		rc = 1;
	mr_import_report_release(&rep);
	return rc;
}

int mr_cmd_import(int argc, char **argv)
{
	static const struct option opts[] = { MR_CLI_COMMON_LONGOPTS,
					       { "encoding", required_argument, NULL, 'e' },
					       { "batch", required_argument, NULL, 'b' },
					       { "help", no_argument, NULL, 'h' },
					       { 0 } };
	struct mr_csv_opts copts = { .encoding = MR_CSV_AUTO };
	struct mr_cli cli;
	struct mr_err err;
	int64_t batch = 50000;
	int rc;

	mr_cli_init(&cli);
	mr_err_clear(&err);
	for (;;) {
		int opt = getopt_long(argc, argv, "h", opts, NULL);

		if (opt == -1)
			break;
		if (opt == 'h') {
			fputs(mr_import_help, stdout);
			return 0;
		}
		if (opt == 'e' && (int)(copts.encoding = mr_csv_encoding_parse(optarg)) >= 0)
			continue;
		if (opt == 'b' && mr_parse_i64(optarg, 1, 100000, &batch) == 0)
			continue;
		if (!mr_cli_common_opt(&cli, opt, optarg)) {
			fputs(mr_import_help, stderr);
			return 2;
		}
	}
	if (argc - optind == 2 && strcmp(argv[optind], "events") == 0) {
		rc = mr_cmd_import_events(&cli, argv[optind + 1], &err);
		return rc < 0 ? mr_cli_fail("import", &err) : rc;
	}
	if (argc - optind == 2 && strcmp(argv[optind], "cdr") == 0) {
		rc = mr_cmd_import_cdr(&cli, argv[optind + 1], &copts, (int)batch, &err);
		return rc < 0 ? mr_cli_fail("import", &err) : rc;
	}
	if (argc - optind != 2 || !mr_import_known(argv[optind])) {
		fputs(mr_import_help, stderr);
		return 2;
	}
	rc = mr_import_run(&cli, argv[optind], argv[optind + 1], &copts, (int)batch, &err);
	if (rc < 0)
		return mr_cli_fail("import", &err);
	return rc;
}
