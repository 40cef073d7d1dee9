/* medreach migrate: apply the schema migrations the database has not seen. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char mr_migrate_help[] =
	"usage: medreach migrate [options]\n\n"
	"Applies the numbered schema migrations the database has not seen, in order.\n"
	"(serve also does this at start.)\n\n" MR_CLI_COMMON_HELP;

int mr_cmd_migrate(int argc, char **argv)
{
	static const struct option opts[] = { MR_CLI_COMMON_LONGOPTS, { "help", no_argument, NULL, 'h' },
					       { 0 } };
	struct mr_cli cli;
	struct mr_store *s = NULL;
	struct mr_keys keys;
	struct mr_err err;
	int64_t version = 0;
	int opt;

	mr_cli_init(&cli);
	mr_err_clear(&err);
	for (;;) {
		opt = getopt_long(argc, argv, "h", opts, NULL);
		if (opt == -1)
			break;
		if (opt == 'h') {
			fputs(mr_migrate_help, stdout);
			return 0;
		}
		if (!mr_cli_common_opt(&cli, opt, optarg)) {
			fputs(mr_migrate_help, stderr);
			return 2;
		}
	}
	if (mr_cli_open(&cli, 1, &s, &keys, &err) < 0 || mr_store_schema_version(s, &version, &err) < 0) {
		mr_store_close(s);
		return mr_cli_fail("migrate", &err);
	}
	printf("schema version %lld (%s)\n", (long long)version, mr_store_kind_name(s));
	mr_keys_wipe(&keys);
	mr_store_close(s);
	return 0;
}
