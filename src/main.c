/*
 * medreach: one binary, many commands. The table below is the whole list;
 * each command is a file in src/cli/ and takes --help.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct mr_cmd mr_cmds[] = {
	{ "serve", mr_cmd_serve, "serve the web UI and the JSON API" },
	{ "migrate", mr_cmd_migrate, "bring the database schema up to date" },
	{ "demo", mr_cmd_demo, "create the demo world (doctors, hospitals, reps, alignments, consents)" },
	{ "export", mr_cmd_export, "write master data as CSV or XLSX: hcos, hcps, reps, territories" },
	{ "import", mr_cmd_import, "load master data from CSV: hcos, hcps, reps, alignments, ..." },
	{ "dedupe", mr_cmd_dedupe, "find duplicate records in a CSV (Fellegi-Sunter)" },
	{ "nba", mr_cmd_nba, "next best action: run, train, simulate; evaluate / replay a policy on a CSV log" },
	{ "experiments", mr_cmd_experiments, "A/B experiments: list, results NAME" },
	{ "user", mr_cmd_user, "manage accounts: add, list, passwd" },
	{ "token", mr_cmd_token, "manage API tokens: create, list, revoke" },
	{ "audit", mr_cmd_audit, "check the audit trail: verify" },
	{ "tasks", mr_cmd_tasks, "list tasks (work orders): list [--assignee R] [--status S]" },
	{ "version", mr_cmd_version, "print the version" },
};

static void mr_usage(FILE *f)
{
	fprintf(f, "usage: medreach <command> [options]   (medreach <command> --help for more)\n\n");
	for (size_t i = 0; i < sizeof(mr_cmds) / sizeof(mr_cmds[0]); i++)
		fprintf(f, "  %-12s %s\n", mr_cmds[i].name, mr_cmds[i].summary);
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		mr_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "--version") == 0)
		return mr_cmd_version(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof(mr_cmds) / sizeof(mr_cmds[0]); i++) {
		if (strcmp(argv[1], mr_cmds[i].name) == 0)
			return mr_cmds[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "medreach: unknown command '%s'\n\n", argv[1]);
	mr_usage(stderr);
	return 2;
}
