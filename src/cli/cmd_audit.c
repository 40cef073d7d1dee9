/*
 * medreach audit verify: walks the hash chain of the audit trail and says
 * OK, or names the first record that was altered, removed, inserted or
 * moved, and exits non-zero.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "cli/cli.h"

static const char mr_audit_help[] =
	"usage: medreach audit verify [options]\n\n"
	"Checks every audit record against the keyed hash chain and the sealed head.\n"
	"Prints OK and exits 0, or prints the first bad sequence number and exits 1.\n\n"
	"options:\n" MR_CLI_COMMON_HELP;

int mr_cmd_audit(int argc, char **argv)
{
	static const struct option opts[] = { MR_CLI_COMMON_LONGOPTS, { "help", no_argument, NULL, 'h' },
					       { 0 } };
	struct mr_audit_check check = { 0 };
	struct mr_store *s = NULL;
	struct mr_keys keys;
	struct mr_cli cli;
	struct mr_err err;
	int rc;

	mr_cli_init(&cli);
	mr_err_clear(&err);
	for (;;) {
		int opt = getopt_long(argc, argv, "h", opts, NULL);
		if (opt == -1)
			break;
		if (opt == 'h') {
			fputs(mr_audit_help, stdout);
			return 0;
		}
		if (!mr_cli_common_opt(&cli, opt, optarg)) {
			fputs(mr_audit_help, stderr);
			return 2;
		}
	}
	if (optind >= argc || strcmp(argv[optind], "verify") != 0) {
		fputs(mr_audit_help, stderr);
		return 2;
	}
	rc = mr_cli_open(&cli, 0, &s, &keys, &err);
	if (rc == 0)
		rc = mr_audit_verify(s, &keys, &check, &err);
	if (s) {
		mr_keys_wipe(&keys);
		mr_store_close(s);
	}
	if (rc < 0)
		return mr_cli_fail("audit", &err);
	if (!check.ok) {
		printf("BAD seq %lld: %s (%lld records verified before it)\n",
		       (long long)check.first_bad_seq, check.reason, (long long)check.records);
		return 1;
	}
	printf("OK %lld records\n", (long long)check.records);
	return 0;
}
