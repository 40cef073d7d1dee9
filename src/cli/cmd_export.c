/*
 * medreach export ENTITY: writes territories, hcos, reps, hcps or content as
 * CSV or XLSX, in the columns the importer reads, with a progress line. HCP
 * contact data is masked unless --unmask is given; an unmasked export is
 * audited as such.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "base/csv.h"
#include "base/str.h"
#include "cli/cli.h"
#include "cli/events.h"
#include "cli/progress.h"
#include "md/export.h"

static const char mr_export_help[] =
	"usage: medreach export ENTITY [options]\n"
	"       medreach export events [--after SEQ] [--out FILE]\n\n"
	"ENTITY is territories, hcos, reps, hcps or content. Writes every live record in the\n"
	"columns `medreach import` reads, so the file can be edited and imported back.\n"
	"events: the event log as NDJSON (after seq SEQ), which `medreach import events` reads.\n\n"
	"options:\n"
	"  --format F        csv (default) or xlsx\n"
	"  --out FILE        where to write (default: standard output; xlsx needs a file)\n"
	"  --unmask          hcps: phones, emails and licence numbers in the clear (audited)\n"
	"  --after SEQ       events: only those with a larger seq (default 0: all)\n" MR_CLI_COMMON_HELP;

static void mr_export_progress(void *arg, int64_t rows)
{
	mr_progress_update(arg, 0, rows);
}

struct mr_export_audit {
	const struct mr_keys *keys;
	const char *action;
};

static int mr_export_audit_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_export_audit *a = arg;
	struct mr_audit_rec rec = { 0 };

	rec.login = "cli";
	rec.action = a->action;
	rec.entity = "hcp";
	return mr_audit_append(c, a->keys, &rec, NULL, err);
}

static int mr_export_run(struct mr_cli *cli, const struct mr_md_entity *e, const char *format,
			 const char *out, int unmask, struct mr_err *err)
{
	struct mr_scope all = { .kind = MR_SCOPE_ALL };
	struct mr_md_query q;
	struct mr_export_opts o = { .e = e, .scope = &all, .query = &q, .unmask = unmask };
	struct mr_export_audit a = { NULL, unmask ? "hcp.export.unmasked" : "hcp.export" };
	struct mr_progress bar;
	struct mr_store *s = NULL;
	struct mr_table *t = NULL;
	struct mr_conn *c = NULL;
	struct mr_keys keys;
	int64_t rows = 0;
	int rc;

	memset(&q, 0, sizeof(q));
	rc = mr_cli_open(cli, 0, &s, &keys, err);
	if (rc < 0)
		return rc;
	o.keys = &keys;
	a.keys = &keys;
	mr_progress_init(&bar, e->plural, 0);
	o.progress = mr_export_progress;
	o.progress_arg = &bar;
	if (e == &mr_md_hcp)
		rc = mr_store_write(s, mr_export_audit_fn, &a, err);
	if (rc == 0)
		rc = mr_table_open(&t, strcmp(format, "xlsx") == 0 ? MR_TABLE_XLSX : MR_TABLE_CSV,
				   out ? out : "-", e->plural, err);
	if (rc == 0)
		rc = mr_store_acquire(s, &c, err);
	if (rc == 0) {
		rc = mr_md_export(c, &o, t, &rows, err);
		mr_store_release(s, c);
	}
	if (t) {
		struct mr_err ignore;
		int crc = mr_table_close(t, rc == 0 ? err : &ignore);

		rc = rc == 0 ? crc : rc;
	}
	mr_progress_done(&bar);
	if (rc == 0)
		fprintf(stderr, "%s: %lld rows exported\n", e->plural, (long long)rows);
	mr_keys_wipe(&keys);
	mr_store_close(s);
	return rc;
}

int mr_cmd_export(int argc, char **argv)
{
	static const struct option opts[] = { MR_CLI_COMMON_LONGOPTS,
					       { "format", required_argument, NULL, 'f' },
					       { "out", required_argument, NULL, 'o' },
					       { "unmask", no_argument, NULL, 'u' },
					       { "after", required_argument, NULL, 'a' },
					       { "help", no_argument, NULL, 'h' },
					       { 0 } };
	const struct mr_md_entity *e;
	const char *format = "csv", *out = NULL;
	struct mr_cli cli;
	struct mr_err err;
	int64_t after = 0;
	int unmask = 0;

	mr_cli_init(&cli);
	mr_err_clear(&err);
	for (;;) {
		int opt = getopt_long(argc, argv, "h", opts, NULL);

		if (opt == -1)
			break;
		if (opt == 'h') {
			fputs(mr_export_help, stdout);
			return 0;
		}
		if (opt == 'f' && (strcmp(optarg, "csv") == 0 || strcmp(optarg, "xlsx") == 0)) {
			format = optarg;
			continue;
		}
		if (opt == 'o') {
			out = optarg;
			continue;
		}
		if (opt == 'u') {
			unmask = 1;
			continue;
		}
		if (opt == 'a' && mr_parse_i64(optarg, 0, INT64_MAX, &after) == 0)
			continue;
		if (!mr_cli_common_opt(&cli, opt, optarg)) {
			fputs(mr_export_help, stderr);
			return 2;
		}
	}
	if (argc - optind == 1 && strcmp(argv[optind], "events") == 0) {
		if (mr_cmd_export_events(&cli, out, after, &err) < 0)
			return mr_cli_fail("export", &err);
		return 0;
	}
	e = argc - optind == 1 ? mr_md_entity_find(argv[optind]) : NULL;
	if (!e || (strcmp(format, "xlsx") == 0 && !out)) {
		fputs(mr_export_help, stderr);
		return 2;
	}
	if (mr_export_run(&cli, e, format, out, unmask, &err) < 0)
		return mr_cli_fail("export", &err);
	return 0;
}
