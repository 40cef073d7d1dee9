/*
 * What the commands share: the configuration every command reads (flags
 * with environment fallbacks, per ARCHITECTURE.md), opening the store and
 * keys, reading a password from stdin, and printing errors. Each command
 * lives in cmd_<name>.c and is a row in main.c's table.
 */
#ifndef MR_CLI_CLI_H
#define MR_CLI_CLI_H

#include <jansson.h>
#include <stddef.h>

#include "base/err.h"
#include "crypto/keys.h"
#include "store/store.h"

struct mr_cli {
	const char *db;        /* --db / MEDREACH_DB */
	const char *key_file;  /* --key-file / MEDREACH_KEY_FILE */
	const char *log_level; /* --log-level / MEDREACH_LOG_LEVEL */
	struct mr_store_opts store; /* how mr_cli_open opens the store (a server's, a bulk load's) */
};

typedef int (*mr_cmd_fn)(int argc, char **argv);

struct mr_cmd {
	const char *name;
	mr_cmd_fn run;
	const char *summary;
};

/* Fills c from the environment and the defaults. */
void mr_cli_init(struct mr_cli *c);
/*
 * Handles one of the shared options (--db, --key-file, --log-level) as
 * getopt_long reported it; returns 1 when it was one of them.
 */
int mr_cli_common_opt(struct mr_cli *c, int opt, const char *arg);
/* The long options shared by every command, to splice into a command's table. */
#define MR_CLI_COMMON_LONGOPTS                                        \
	{ "db", required_argument, NULL, 1001 },                     \
	{ "key-file", required_argument, NULL, 1002 },               \
	{ "log-level", required_argument, NULL, 1003 }
#define MR_CLI_COMMON_HELP                                                                       \
	"  --db URL          sqlite:PATH or postgresql://... (env MEDREACH_DB; default sqlite:var/medreach.db)\n" \
	"  --key-file PATH   the PII / audit key (env MEDREACH_KEY_FILE; default var/medreach.key)\n"          \
	"  --log-level L     debug, info, warn, error or off (env MEDREACH_LOG_LEVEL; default info)\n"

/* Starts crypto, loads (or with create, makes) the key, opens and migrates the store. */
int mr_cli_open(struct mr_cli *c, int create_key, struct mr_store **s, struct mr_keys *k,
		struct mr_err *err);
/* Prints "medreach <cmd>: <message>" to stderr; returns the exit status 1. */
int mr_cli_fail(const char *cmd, const struct mr_err *err);
/* Reads one line (the password) from stdin into out, without the newline. */
int mr_cli_read_secret(char *out, size_t n, struct mr_err *err);

int mr_cmd_serve(int argc, char **argv);
int mr_cmd_import(int argc, char **argv);
int mr_cmd_demo(int argc, char **argv);
int mr_cmd_export(int argc, char **argv);
int mr_cmd_dedupe(int argc, char **argv);
int mr_cmd_nba(int argc, char **argv);
/* medreach nba run: the next-best-action run (cmd_nba_run.c). */
int mr_cmd_nba_run(int argc, char **argv);
int mr_cmd_nba_simulate(int argc, char **argv);
int mr_cmd_nba_train(int argc, char **argv);
int mr_cmd_experiments(int argc, char **argv);
/* Prints an experiment's results (as GET /api/v1/experiments/{name}/results gives them) as a table. */
void mr_cli_experiment_print(json_t *results);
int mr_cmd_migrate(int argc, char **argv);
int mr_cmd_user(int argc, char **argv);
int mr_cmd_token(int argc, char **argv);
int mr_cmd_audit(int argc, char **argv);
int mr_cmd_tasks(int argc, char **argv);
int mr_cmd_version(int argc, char **argv);

#endif
