/*
 * medreach experiments list | results NAME: the A/B experiments
 * (docs/experiments.md) from the command line, read only. list shows each
 * experiment with its status, unit, metric and arms; results loads the
 * projections an experiment's population is evaluated over
 * (cli/nba_world.h) and prints its results exactly as
 * GET /api/v1/experiments/{name}/results computes them: per arm the rate
 * with its 95% Wilson interval, each arm against the control with the
 * difference, its interval, the p-value and the verdict in words.
 * Experiments are defined, started and stopped through the API and the UI,
 * where roles apply.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/time.h"
#include "cli/cli.h"
#include "cli/nba_world.h"
#include "experiments/experiments.h"

static const char mr_exp_cli_help[] =
	"usage: medreach experiments list [--json] [options]\n"
	"       medreach experiments results NAME [--json] [options]\n\n"
	"list     every experiment: name, status, unit, metric, arms (name, kind, allocation), start\n"
	"results  an experiment's results as the API computes them (rates with 95% intervals, each arm\n"
	"         against the control with its p-value and verdict). See docs/experiments.md.\n\n"
	"options:\n"
	"  --json            print JSON (the API's shape)\n" MR_CLI_COMMON_HELP;

/* The comparison of arm against the control in results o, or NULL. */
static json_t *mr_exp_cli_comparison(json_t *o, const char *arm)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(o, "comparisons"), i, c) {
		if (arm && strcmp(json_string_value(json_object_get(c, "arm")), arm) == 0)
			return c;
	}
	return NULL;
}

void mr_cli_experiment_print(json_t *o)
{
	json_t *arm;
	size_t i;

	printf("%-10s %8s %9s %9s %8s %17s %9s %16s %9s\n", "arm", "units", "numer", "denom", "rate", "95% CI",
	       "vs ctrl", "95% CI", "p");
	json_array_foreach(json_object_get(o, "arms"), i, arm) {
		json_t *ci = json_object_get(arm, "ci");
		json_t *cmp = mr_exp_cli_comparison(o, json_string_value(json_object_get(arm, "name")));

		printf("%-10s %8lld %9lld %9lld", json_string_value(json_object_get(arm, "name")),
		       (long long)json_integer_value(json_object_get(arm, "units")),
		       (long long)json_integer_value(json_object_get(arm, "numerator")),
		       (long long)json_integer_value(json_object_get(arm, "denominator")));
		if (json_is_number(json_object_get(arm, "rate")))
			printf(" %7.2f%% [%6.2f%%, %6.2f%%]", 100 * json_number_value(json_object_get(arm, "rate")),
			       100 * json_number_value(json_array_get(ci, 0)), 100 * json_number_value(json_array_get(ci, 1)));
		else
			printf(" %8s %17s", "—", "");
		if (cmp && json_is_number(json_object_get(cmp, "difference"))) {
			json_t *dci = json_object_get(cmp, "ci");

			printf(" %+6.2f pp [%+6.2f, %+6.2f] %9.2g", 100 * json_number_value(json_object_get(cmp, "difference")),
			       100 * json_number_value(json_array_get(dci, 0)),
			       100 * json_number_value(json_array_get(dci, 1)),
			       json_number_value(json_object_get(cmp, "p_value")));
		}
		printf("\n");
		if (cmp && json_is_string(json_object_get(cmp, "verdict")))
			printf("           %s\n", json_string_value(json_object_get(cmp, "verdict")));
	}
}

static void mr_exp_cli_list_print(json_t *items)
{
	json_t *x, *arm;
	size_t i, k;

	printf("%-24s %-9s %-5s %-22s %-20s %s\n", "name", "status", "unit", "metric", "started", "arms");
	json_array_foreach(items, i, x) {
		json_t *st = json_object_get(x, "started_at");

		printf("%-24s %-9s %-5s %-22s %-20s", json_string_value(json_object_get(x, "name")),
		       json_string_value(json_object_get(x, "status")), json_string_value(json_object_get(x, "unit")),
		       json_string_value(json_object_get(x, "metric")), json_is_string(st) ? json_string_value(st) : "-");
		json_array_foreach(json_object_get(x, "arms"), k, arm)
			printf(" %s:%s:%g%%", json_string_value(json_object_get(arm, "name")),
			       json_string_value(json_object_get(arm, "kind")),
			       json_number_value(json_object_get(arm, "allocation")));
		printf("\n");
	}
}

static int mr_exp_cli_list(struct mr_store *s, json_t **out, struct mr_err *err)
{
	struct mr_experiment *xs = NULL;
	struct mr_conn *c = NULL;
	struct mr_arena a;
	int n = 0, rc;

	mr_arena_init(&a);
	*out = json_array();
	rc = mr_store_acquire(s, &c, err);
	if (rc == 0) {
		rc = mr_experiment_list(c, -1, &a, &xs, &n, err);
		mr_store_release(s, c);
	}
	for (int i = 0; rc == 0 && i < n; i++)
		json_array_append_new(*out, mr_experiment_json(&xs[i]));
	mr_arena_release(&a);
	return rc;
}

static int mr_exp_cli_results(struct mr_store *s, const char *name, json_t **out, struct mr_err *err)
{
	struct mr_nba_cli_world w;
	struct mr_exp_results res;
	struct mr_experiment x;
	struct mr_conn *c = NULL;
	struct mr_arena a;
	int rc;

	memset(&w, 0, sizeof(w));
	mr_arena_init(&a);
	*out = NULL;
	rc = mr_store_acquire(s, &c, err);
	if (rc == 0)
		rc = mr_experiment_get(c, name, &a, &x, err);
	if (c)
		mr_store_release(s, c);
	c = NULL;
	if (rc == 0 && x.status == MR_EXP_DRAFT)
		rc = mr_err_set(err, MR_ECONFLICT, "experiment %s is a draft: it has no results until it starts", name);
	if (rc == 0)
		rc = mr_nba_cli_world_load(s, &w, err);
	if (rc == 0)
		rc = mr_store_acquire(s, &c, err);
	if (rc == 0) {
		struct mr_exp_src src = { s, w.e, w.dir, w.ix };

		rc = mr_experiment_results(&src, c, &x, mr_now_us(), &a, &res, err);
		if (rc == 0)
			*out = mr_experiment_results_json(&x, &res);
		mr_store_release(s, c);
	}
	mr_nba_cli_world_free(&w);
	mr_arena_release(&a);
	return rc;
}

int mr_cmd_experiments(int argc, char **argv)
{
	static const struct option opts[] = { MR_CLI_COMMON_LONGOPTS,
					       { "json", no_argument, NULL, 'j' },
					       { "help", no_argument, NULL, 'h' },
					       { 0 } };
	const char *sub = argc > 1 ? argv[1] : NULL, *name = NULL;
	struct mr_store *s = NULL;
	struct mr_keys keys;
	struct mr_cli cli;
	struct mr_err err;
	json_t *out = NULL;
	int json = 0, rc;

	if (!sub || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
		fputs(mr_exp_cli_help, sub ? stdout : stderr);
		return sub ? 0 : 2;
	}
	if (strcmp(sub, "list") != 0 && strcmp(sub, "results") != 0) {
		fprintf(stderr, "medreach experiments: unknown subcommand '%s' (list or results)\n\n", sub);
		fputs(mr_exp_cli_help, stderr);
		return 2;
	}
	mr_cli_init(&cli);
	mr_err_clear(&err);
	memset(&keys, 0, sizeof(keys));
	optind = 1;
	argc--;
	argv++;
	for (;;) {
		int opt = getopt_long(argc, argv, "h", opts, NULL);

		if (opt == -1)
			break;
		if (opt == 'h') {
			fputs(mr_exp_cli_help, stdout);
			return 0;
		}
		if (opt == 'j') {
			json = 1;
		} else if (!mr_cli_common_opt(&cli, opt, optarg)) {
			fputs(mr_exp_cli_help, stderr);
			return 2;
		}
	}
	if (strcmp(sub, "results") == 0) {
		if (optind >= argc) {
			fprintf(stderr, "medreach experiments results: which experiment? (medreach experiments list)\n");
			return 2;
		}
		name = argv[optind++];
	}
	if (optind < argc) {
		fprintf(stderr, "medreach experiments: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	rc = mr_cli_open(&cli, 0, &s, &keys, &err);
	if (rc == 0)
		rc = name ? mr_exp_cli_results(s, name, &out, &err) : mr_exp_cli_list(s, &out, &err);
	if (s)
		mr_store_close(s);
	mr_keys_wipe(&keys);
	if (rc < 0)
		return mr_cli_fail(name ? "experiments results" : "experiments list", &err);
	if (json) {
		char *text = json_dumps(out, JSON_COMPACT);

		puts(text);
		free(text);
	} else if (name) {
		printf("experiment %s (%s), metric %s, from %s to %s\n", name,
		       json_string_value(json_object_get(out, "status")), json_string_value(json_object_get(out, "metric")),
		       json_string_value(json_object_get(out, "from")), json_string_value(json_object_get(out, "to")));
		mr_cli_experiment_print(out);
	} else {
		mr_exp_cli_list_print(out);
	}
	json_decref(out);
	return 0;
}
