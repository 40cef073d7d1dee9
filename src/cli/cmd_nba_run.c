/*
 * medreach nba run [--dry-run]: the next-best-action run from the command
 * line (docs/nba.md), without a server: it loads the projections the
 * engine reads (the HCP directory, the profile, the event index, the tags)
 * and the active response models (for the doctors the learned policy or an
 * experiment's learned arm ranks) from the store, runs every rule over
 * every doctor (or a segment's), and
 * (unless --dry-run) creates the tasks in one transaction, exactly as
 * POST /api/v1/nba/run does. Progress goes to stderr; the counts to stdout
 * (text, or --json). A running server picks the new tasks up from the store
 * within a second.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "base/time.h"
#include "cli/cli.h"
#include "cli/nba_world.h"
#include "cli/progress.h"
#include "models/models.h"
#include "nba/nba.h"

static const char mr_nba_run_help[] =
	"usage: medreach nba run [--dry-run] [--as-of TIME] [--segment EXPR] [--limit-per-rep N] [--json]\n\n"
	"Runs the next-best-action rules over every doctor and turns the best recommendation of each,\n"
	"after the guards (consent, budget, channel caps, content, quiet hours, repeat, owner, holdout),\n"
	"into a task in the right rep's list. See docs/nba.md.\n\n"
	"options:\n"
	"  --dry-run           decide and count, create nothing\n"
	"  --as-of TIME        the moment to decide for (RFC 3339; default now)\n"
	"  --segment EXPR      only the doctors of this boolean expression\n"
	"  --limit-per-rep N   at most N tasks per rep (default: the settings')\n"
	"  --json              print the result as JSON\n" MR_CLI_COMMON_HELP;

static void mr_nba_cli_progress(void *arg, const char *stage, int64_t done, int64_t total)
{
	struct mr_progress *p = arg;

	p->label = stage;
	p->total = total > 0 ? (uint64_t)total : 0;
	mr_progress_update(p, (uint64_t)done, done);
}

static void mr_nba_cli_print(json_t *o)
{
	const char *key;
	json_t *v;
	size_t i;

	printf("%s: %lld doctors considered, %lld candidates, %lld recommended, %lld tasks created (%.0f ms)\n",
	       json_is_true(json_object_get(o, "dry_run")) ? "dry run" : "run",
	       (long long)json_integer_value(json_object_get(o, "considered")),
	       (long long)json_integer_value(json_object_get(o, "candidates")),
	       (long long)json_integer_value(json_object_get(o, "recommended")),
	       (long long)json_integer_value(json_object_get(o, "tasks_created")),
	       json_number_value(json_object_get(o, "took_ms")));
	json_object_foreach(json_object_get(o, "blocked"), key, v)
		printf("  blocked %-20s %lld\n", key, (long long)json_integer_value(v));
	json_array_foreach(json_object_get(o, "per_rep"), i, v)
		printf("  rep %-24s %lld tasks\n", json_string_value(json_object_get(v, "rep")),
		       (long long)json_integer_value(json_object_get(v, "tasks")));
}

/* Reads the options into o and *json; 0, or the exit status of a usage error (or 1 for help: exit 0). */
static int mr_nba_cli_opts(int argc, char **argv, struct mr_cli *cli, struct mr_nba_run_opts *o, int *json)
{
	static const struct option opts[] = { MR_CLI_COMMON_LONGOPTS,
					       { "dry-run", no_argument, NULL, 'n' },
					       { "as-of", required_argument, NULL, 'a' },
					       { "segment", required_argument, NULL, 's' },
					       { "limit-per-rep", required_argument, NULL, 'l' },
					       { "json", no_argument, NULL, 'j' },
					       { "help", no_argument, NULL, 'h' },
					       { 0 } };

	optind = 1;
	for (;;) {
		int opt = getopt_long(argc, argv, "na:s:l:jh", opts, NULL);
		int64_t v = 0;

		if (opt == -1)
			break;
		if (opt == 'h') {
			fputs(mr_nba_run_help, stdout);
			return -1;
		}
		if (opt == 'n') {
			o->dry_run = 1;
		} else if (opt == 'j') {
			*json = 1;
		} else if (opt == 's') {
			o->segment = optarg;
		} else if (opt == 'a') {
			if (mr_time_parse(optarg, 8 * 3600, &o->as_of) < 0) {
				fprintf(stderr, "medreach nba run: --as-of is an RFC 3339 time, not '%s'\n", optarg);
				return 2;
			}
		} else if (opt == 'l') {
			if (mr_parse_i64(optarg, 0, 100000, &v) < 0) {
				fprintf(stderr, "medreach nba run: --limit-per-rep is a number 0..100000, not '%s'\n", optarg);
				return 2;
			}
			o->limit_per_rep = (int)v;
		} else if (!mr_cli_common_opt(cli, opt, optarg)) {
			fputs(mr_nba_run_help, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "medreach nba run: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	return 0;
}

int mr_cmd_nba_run(int argc, char **argv)
{
	struct mr_nba_run_opts o;
	struct mr_nba_cli_world w;
	struct mr_nba *n = NULL;
	struct mr_models *m = NULL;
	struct mr_progress p;
	struct mr_store *s = NULL;
	struct mr_keys keys;
	struct mr_cli cli;
	struct mr_err err;
	json_t *out = NULL;
	int json = 0, rc;

	memset(&o, 0, sizeof(o));
	memset(&w, 0, sizeof(w));
	mr_cli_init(&cli);
	mr_err_clear(&err);
	rc = mr_nba_cli_opts(argc, argv, &cli, &o, &json);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	rc = mr_cli_open(&cli, 0, &s, &keys, &err);
	if (rc == 0)
		rc = mr_nba_cli_world_load(s, &w, &err);
	if (rc == 0) { /* the active response models, for the doctors the learned policy ranks */
		struct mr_models_src ms = { s, w.dir, w.ix, w.pf, &w.tsrc };
		struct mr_conn *c = NULL;

		m = mr_models_new(&ms);
		rc = mr_store_acquire(s, &c, &err);
		if (rc == 0) {
			rc = mr_models_load(m, c, &err);
			mr_store_release(s, c);
		}
	}
	if (rc == 0) {
		struct mr_nba_src src = { s, NULL, w.e, w.dir, w.ix, w.pf };

		n = mr_nba_new(&src);
		mr_nba_set_models(n, m);
		mr_progress_init(&p, "rules", 0);
		o.progress = mr_nba_cli_progress;
		o.progress_arg = &p;
		o.by = "cli";
		rc = mr_nba_run(n, &o, &out, &err);
		mr_progress_done(&p);
	}
	mr_nba_free(n);
	mr_models_free(m);
	mr_nba_cli_world_free(&w);
	if (s)
		mr_store_close(s);
	mr_keys_wipe(&keys);
	if (rc < 0)
		return mr_cli_fail("nba run", &err);
	if (json) {
		char *text = json_dumps(out, JSON_COMPACT);

		puts(text);
		free(text);
	} else {
		mr_nba_cli_print(out);
	}
	json_decref(out);
	return 0;
}
