/* medreach version: what is running, for bug reports. */
#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <libpq-fe.h>

#include "base/version.h"
#include "cli/cli.h"

int mr_cmd_version(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		printf("usage: medreach version\n\nPrints the version, commit and library versions.\n");
		return 0;
	}
	(void)argv;
	printf("medreach %s (commit %s)\n", MR_VERSION, MR_COMMIT);
	printf("libmicrohttpd %s, SQLite %s, libpq %d, jansson %s, libsodium %s\n", MHD_get_version(),
	       sqlite3_libversion(), PQlibVersion(), JANSSON_VERSION, sodium_version_string());
	return 0;
}
