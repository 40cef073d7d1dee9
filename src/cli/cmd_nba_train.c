/*
 * medreach nba train: the response models' training from the command line
 * (docs/models.md), for a cron job or an operator, without a server. It
 * loads the projections the models read (cli/nba_world.h), trains every
 * channel's models (and the per-category ones of the settings' split) on
 * the window before --as-of, saves them as the active versions with an
 * audit record ("models.train", login "cli"), and prints what it trained.
 * A running server takes the new versions within five seconds (its models'
 * tick compares the store's stamp), as after POST /api/v1/nba/models/train.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/str.h"
#include "base/time.h"
#include "cli/cli.h"
#include "cli/nba_world.h"
#include "models/models.h"

static const char mr_nba_train_help[] =
	"usage: medreach nba train [--window-days D] [--as-of TIME] [--split-by ATTR] [--json]\n\n"
	"Trains the response models on the events of the D days before TIME and makes them the\n"
	"active versions, as POST /api/v1/nba/models/train does. See docs/models.md.\n\n"
	"options:\n"
	"  --window-days D   the training window (default: the settings', 180)\n"
	"  --as-of TIME      the window's end (RFC 3339; default now)\n"
	"  --split-by ATTR   the per-category models' attribute or tag (default: the settings'; \"\" none)\n"
	"  --json            print the run as JSON\n" MR_CLI_COMMON_HELP;

struct mr_nba_train_job {
	struct mr_models_run *run;
	const struct mr_keys *keys;
	json_t *what;
};

static int mr_nba_train_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_nba_train_job *j = arg;
	unsigned char after[MR_AUDIT_DIGEST];
	struct mr_audit_rec rec = { 0 };
	int rc = mr_models_save(c, j->run, err);

	if (rc < 0)
		return rc;
	mr_audit_digest(j->keys, j->what, after);
	rec.login = "cli";
	rec.action = "models.train";
	rec.entity = "nba_models";
	rec.entity_id = "run";
	rec.after = after;
	return mr_audit_append(c, j->keys, &rec, NULL, err);
}

/* Reads the options; 0, or the exit status of a usage error (-1 for help: exit 0). */
static int mr_nba_train_opts(int argc, char **argv, struct mr_cli *cli, struct mr_models_train_req *q, int *json)
{
	static const struct option opts[] = { MR_CLI_COMMON_LONGOPTS,
					       { "window-days", required_argument, NULL, 'w' },
					       { "as-of", required_argument, NULL, 'a' },
					       { "split-by", required_argument, NULL, 's' },
					       { "json", no_argument, NULL, 'j' },
					       { "help", no_argument, NULL, 'h' },
					       { 0 } };

	optind = 1;
	for (;;) {
		int opt = getopt_long(argc, argv, "h", opts, NULL);
		int64_t v = 0;

		if (opt == -1)
			break;
		if (opt == 'h') {
			fputs(mr_nba_train_help, stdout);
			return -1;
		}
		if (opt == 'w' && mr_parse_i64(optarg, 1, MR_MODEL_WINDOW_MAX, &v) == 0) {
			q->window_days = (int)v;
		} else if (opt == 'a' && mr_time_parse(optarg, 8 * 3600, &q->as_of) == 0) {
			continue;
		} else if (opt == 's') {
			q->split_by = optarg;
		} else if (opt == 'j') {
			*json = 1;
		} else if (!mr_cli_common_opt(cli, opt, optarg)) {
			fprintf(stderr, "medreach nba train: bad option or value%s%s\n\n", optarg ? ": " : "",
				optarg ? optarg : "");
			fputs(mr_nba_train_help, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "medreach nba train: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	return 0;
}

static void mr_nba_train_print(json_t *o)
{
	const char *key;
	json_t *v;
	size_t i;

	printf("trained run %lld in %.0f ms: %zu versions\n", (long long)json_integer_value(json_object_get(o, "run")),
	       json_number_value(json_object_get(o, "took_ms")), json_array_size(json_object_get(o, "versions")));
	json_array_foreach(json_object_get(o, "versions"), i, v) {
		json_t *auc = json_object_get(json_object_get(v, "metrics"), "auc");
		char a[16] = "—";

		if (json_is_number(auc))
			snprintf(a, sizeof(a), "%.3f", json_number_value(auc));
		printf("  %-40s %8lld examples  held-out AUC %s\n", json_string_value(json_object_get(v, "version")),
		       (long long)json_integer_value(json_object_get(v, "examples")), a);
	}
	json_object_foreach(json_object_get(o, "skipped"), key, v)
		printf("  %s skipped: %s\n", key, json_is_string(v) ? json_string_value(v) : "");
}

int mr_cmd_nba_train(int argc, char **argv)
{
	struct mr_models_train_req q = { 0 };
	struct mr_nba_cli_world w;
	struct mr_nba_train_job j = { NULL, NULL, NULL };
	struct mr_models *m = NULL;
	struct mr_models_settings st;
	struct mr_store *s = NULL;
	struct mr_conn *c = NULL;
	struct mr_keys keys;
	struct mr_cli cli;
	struct mr_err err;
	json_t *out = NULL;
	int json = 0, rc;

	memset(&w, 0, sizeof(w));
	memset(&keys, 0, sizeof(keys));
	mr_cli_init(&cli);
	mr_err_clear(&err);
	rc = mr_nba_train_opts(argc, argv, &cli, &q, &json);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	q.by = "cli";
	rc = mr_cli_open(&cli, 0, &s, &keys, &err);
	if (rc == 0)
		rc = mr_nba_cli_world_load(s, &w, &err);
	if (rc == 0)
		rc = mr_store_acquire(s, &c, &err);
	if (rc == 0 && !q.window_days) {
		rc = mr_models_settings_get(c, &st, &err);
		q.window_days = st.window_days;
	}
	if (rc == 0) {
		struct mr_models_src ms = { s, w.dir, w.ix, w.pf, &w.tsrc };

		m = mr_models_new(&ms);
		rc = mr_models_train(m, c, &q, &j.run, &err);
	}
	if (c)
		mr_store_release(s, c);
	if (rc == 0) {
		out = mr_models_run_json(j.run);
		j.keys = &keys;
		j.what = out;
		rc = mr_store_write(s, mr_nba_train_fn, &j, &err);
	}
	if (rc == 0) { /* the ids the save gave */
		json_decref(out);
		out = mr_models_run_json(j.run);
	}
	mr_models_run_free(j.run);
	mr_models_free(m);
	mr_nba_cli_world_free(&w);
	if (s)
		mr_store_close(s);
	mr_keys_wipe(&keys);
	if (rc < 0) {
		json_decref(out);
		return mr_cli_fail("nba train", &err);
	}
	if (json) {
		char *text = json_dumps(out, JSON_COMPACT);

		puts(text);
		free(text);
	} else {
		mr_nba_train_print(out);
	}
	json_decref(out);
	return 0;
}
