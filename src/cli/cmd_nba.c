/*
 * medreach nba evaluate|replay: off-policy evaluation of a learned
 * next-best-action policy on any CSV log of past decisions, before a team
 * switches policies. The log is read into a design matrix (engine/nba/
 * logcsv.c), a reward model per action is fitted with 2-fold cross-fitting
 * and the policy takes the action with the best predicted reward
 * (engine/nba/ope.c); evaluate estimates its value with IPS, SNIPS, DR and
 * DM from the logger's propensities, replay with Li et al.'s replay on a
 * uniformly random log. The report goes to stdout (text, or --json);
 * progress and warnings to stderr. Exit status: 0, 1 for a problem with the
 * data, 2 for a usage error.
 */
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "base/csv.h"
#include "base/mem.h"
#include "cli/cli.h"
#include "cli/progress.h"
#include "engine/nba/logcsv.h"
#include "engine/nba/ope.h"

static const char mr_nba_help[] =
	"usage: medreach nba evaluate --log FILE.csv --action COL --reward COL --propensity COL\n"
	"                             --features COLS [options]\n"
	"       medreach nba replay --log FILE.csv --action COL --reward COL --features COLS [options]\n"
	"       medreach nba run [--dry-run] (the rules into rep tasks: medreach nba run --help)\n"
	"       medreach nba simulate [--weeks N] (the uplift experiment on a demo world: medreach nba simulate --help)\n"
	"       medreach nba train [--window-days D] (the response models: medreach nba train --help)\n\n"
	"Off-policy evaluation: how a learned policy would have done, from a log of another\n"
	"policy's decisions. A reward model per action (logistic regression for 0/1 rewards,\n"
	"ridge otherwise) is fitted on the features with 2-fold cross-fitting; the policy picks\n"
	"the action with the best predicted reward.\n\n"
	"evaluate  estimates its value with IPS, self-normalised IPS, doubly robust and the direct\n"
	"          method, with 95% confidence intervals, from the logger's propensities\n"
	"replay    the mean reward over the rows where the policy agrees with the logged action;\n"
	"          unbiased only when the log's actions were chosen uniformly at random\n\n"
	"options:\n"
	"  --log FILE          the CSV log, one decision per row with a header (- for stdin)\n"
	"  --action COL        the column of the action taken\n"
	"  --reward COL        the column of the reward that followed (a number; 0/1 or real)\n"
	"  --propensity COL    evaluate: the logging policy's probability of that action, in (0, 1]\n"
	"  --features COLS     feature columns, comma-separated; prefix_* takes every column starting\n"
	"                      with prefix_. Numeric columns are standardised, others one-hot encoded\n"
	"  --lambda L          the reward models' L2 penalty (default 1)\n"
	"  --json              print the report as a JSON object\n"
	"  --encoding E        auto (default), utf-8, gb18030, utf-16\n"
	"  --quiet             no progress or warnings on stderr\n"
	"See docs/nba-evaluate.md.\n";

struct mr_nba_cli {
	const char *sub;     /* "evaluate" or "replay" */
	const char *file;
	struct mr_logcsv_spec spec;
	double lambda;
	int json, quiet;
	struct mr_csv_opts csv;
	const char *encoding;   /* as the reader found it */
	struct mr_progress bar;
};

/* Results of either subcommand, for the report. */
struct mr_nba_run {
	struct mr_logcsv log;
	enum mr_lm_kind kind;
	double *q;
	int *pi;
	struct mr_ope_result ope;
	struct mr_ope_replay replay;
};

/* --- options ----------------------------------------------------------- */

static int mr_nba_cli_lambda(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (*s == '\0' || *end != '\0' || !(v >= 0) || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* Parses the subcommand's options into c; returns 0, 1 when --help was printed, or 2 (usage). */
static int mr_nba_cli_parse(struct mr_nba_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "log", required_argument, NULL, 'l' },      { "action", required_argument, NULL, 'a' },
		{ "reward", required_argument, NULL, 'r' },   { "propensity", required_argument, NULL, 'p' },
		{ "features", required_argument, NULL, 'f' }, { "lambda", required_argument, NULL, 'L' },
		{ "encoding", required_argument, NULL, 'e' }, { "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },          { "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char **strs[128] = { ['l'] = &c->file,          ['a'] = &c->spec.action,
				   ['r'] = &c->spec.reward,   ['p'] = &c->spec.propensity,
				   ['f'] = &c->spec.features };
	int bad = 0, evaluate = strcmp(c->sub, "evaluate") == 0;

	while (!bad) {
		int opt = getopt_long(argc, argv, "hq", opts, NULL);
		int enc;
		if (opt == -1)
			break;
		if (opt == 'h') {
			fputs(mr_nba_help, stdout);
			return 1;
		}
		if (opt > 0 && opt < 128 && strs[opt]) {
			*strs[opt] = optarg;
		} else if (opt == 'j' || opt == 'q') {
			*(opt == 'j' ? &c->json : &c->quiet) = 1;
		} else if (opt == 'L') {
			bad = mr_nba_cli_lambda(optarg, &c->lambda) < 0;
		} else if (opt == 'e') {
			enc = mr_csv_encoding_parse(optarg);
			bad = enc < 0;
			c->csv.encoding = bad ? MR_CSV_AUTO : (enum mr_csv_encoding)enc;
		} else {
			bad = 1;
		}
	}
	if (bad || optind != argc || !c->file || !c->spec.action || !c->spec.reward || !c->spec.features ||
	    (evaluate && !c->spec.propensity) || (!evaluate && c->spec.propensity)) {
		fputs(mr_nba_help, stderr);
		return 2;
	}
	return 0;
}

/* --- reading and fitting -------------------------------------------------- */

static void mr_nba_cli_progress(void *arg, uint64_t offset, size_t rows)
{
	struct mr_nba_cli *c = arg;

	mr_progress_update(&c->bar, offset, (int64_t)rows);
}

/* Reads the log at c->file; the error message starts with the file's name. */
static int mr_nba_cli_read(struct mr_nba_cli *c, struct mr_logcsv *log, struct mr_err *err)
{
	int fd = strcmp(c->file, "-") == 0 ? 0 : open(c->file, O_RDONLY | O_CLOEXEC);
	struct mr_csv *csv = NULL;
	struct stat st;
	int rc;

	if (fd < 0)
		return mr_err_set(err, MR_EIO, "cannot open %s: %m", c->file);
	mr_progress_init(&c->bar, "reading", fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0);
	c->bar.tty = c->bar.tty && !c->quiet;
	c->spec.progress = mr_nba_cli_progress;
	c->spec.progress_arg = c;
	rc = mr_csv_open_fd(&csv, fd, &c->csv, err);
	if (rc == 0) {
		c->encoding = mr_csv_encoding_name(csv);
		rc = mr_logcsv_read(log, csv, &c->spec, err);
	}
	mr_progress_done(&c->bar);
	mr_csv_free(csv);
	if (fd > 0)
		close(fd);
	if (rc < 0) {
		struct mr_err why = *err;
		mr_err_field(err, rc, why.field, "%s: %s", c->file, why.msg);
		err->line = why.line;
		err->column = why.column;
	}
	return rc;
}

/* Reads the log, fits the reward models, picks the policy and runs the subcommand's estimator. */
static int mr_nba_cli_run(struct mr_nba_cli *c, struct mr_nba_run *r, struct mr_err *err)
{
	struct mr_ope_log ol;
	int rc = mr_nba_cli_read(c, &r->log, err);

	if (rc < 0)
		return rc;
	r->kind = mr_ope_binary(r->log.reward, r->log.n) ? MR_LM_LOGISTIC : MR_LM_RIDGE;
	r->q = mr_malloc(r->log.n * (size_t)r->log.nactions * sizeof(*r->q));
	r->pi = mr_malloc(r->log.n * sizeof(*r->pi));
	ol = (struct mr_ope_log){ r->log.n, r->log.nactions, r->log.action, r->log.reward, r->log.prop };
	rc = mr_ope_crossfit(&ol, r->log.x, r->log.nfeat, r->kind, c->lambda, r->q, r->pi, err);
	if (rc == 0 && r->log.prop)
		rc = mr_ope_estimate(&ol, r->pi, r->q, &r->ope, err);
	else if (rc == 0)
		rc = mr_ope_replay(&ol, r->pi, &r->replay, err);
	return rc;
}

/* --- the text report ------------------------------------------------------- */

static void mr_nba_cli_row(const char *name, const struct mr_ope_est *e, const char *note)
{
	char ci[64];

	if (isnan(e->value)) {
		printf("%-10s %8s   %-20s %8zu  %s\n", name, "n/a", "", e->n, note);
		return;
	}
	snprintf(ci, sizeof(ci), "[%.4f, %.4f]", e->lo, e->hi);
	printf("%-10s %8.4f   %-20s %8zu  %s\n", name, e->value, ci, e->n, note);
}

static void mr_nba_cli_head(const struct mr_nba_cli *c, const struct mr_nba_run *r)
{
	const struct mr_logcsv *log = &r->log;
	size_t *picks = mr_calloc((size_t)log->nactions, sizeof(*picks));

	printf("log          %s (%s): %zu rows, %d actions, %d features from %d columns\n", c->file,
	       c->encoding ? c->encoding : "?", log->n, log->nactions, log->nfeat, log->ncols);
	printf("reward model %s per action (L2, lambda %g), 2-fold cross-fitted\n",
	       r->kind == MR_LM_LOGISTIC ? "logistic regression (0/1 rewards)" : "ridge regression", c->lambda);
	for (size_t i = 0; i < log->n; i++)
		picks[r->pi[i]]++;
	printf("policy picks");
	for (int a = 0; a < log->nactions; a++)
		printf("%s %s %.1f%%", a ? "," : "", log->actions[a], 100.0 * (double)picks[a] / (double)log->n);
	printf("\n");
	free(picks);
}

static void mr_nba_cli_print_evaluate(const struct mr_nba_cli *c, const struct mr_nba_run *r)
{
	const struct mr_ope_result *o = &r->ope;

	mr_nba_cli_head(c, r);
	printf("matched      %zu of %zu rows (the policy's action = the logged one); effective sample size "
	       "%.1f, largest weight %.2f\n\n", o->matched, o->n, o->ess, o->max_weight);
	printf("%-10s %8s   %-20s %8s\n", "estimator", "value", "95% CI", "n");
	mr_nba_cli_row("logged", &o->logged, "the logging policy's own mean reward");
	mr_nba_cli_row("IPS", &o->ips, "inverse propensity scoring");
	mr_nba_cli_row("SNIPS", &o->snips, "self-normalised IPS (n: matched rows)");
	mr_nba_cli_row("DR", &o->dr, "doubly robust");
	mr_nba_cli_row("DM", &o->dm, "direct method (the reward model alone)");
}

static void mr_nba_cli_print_replay(const struct mr_nba_cli *c, const struct mr_nba_run *r)
{
	const struct mr_ope_replay *o = &r->replay;

	mr_nba_cli_head(c, r);
	printf("matched      %zu of %zu rows (the policy's action = the logged one)\n", o->matched, o->n);
	printf("uniformity   chi-square %.2f, df %d, p %.4g\n\n", o->chi2, o->df, o->chi2_p);
	printf("%-10s %8s   %-20s %8s\n", "estimator", "value", "95% CI", "n");
	mr_nba_cli_row("logged", &o->logged, "the logging policy's own mean reward");
	mr_nba_cli_row("replay", &o->value, "the policy's mean reward over the matched rows");
}

/* --- the JSON report -------------------------------------------------------- */

static json_t *mr_nba_cli_num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *mr_nba_cli_est(const struct mr_ope_est *e)
{
	json_t *o = json_object();

	json_object_set_new(o, "value", mr_nba_cli_num(e->value));
	json_object_set_new(o, "se", mr_nba_cli_num(e->se));
	json_object_set_new(o, "ci", json_pack("[oo]", mr_nba_cli_num(e->lo), mr_nba_cli_num(e->hi)));
	json_object_set_new(o, "n", json_integer((json_int_t)e->n));
	return o;
}

/* What both subcommands report: the log, the model and the policy's choices. */
static json_t *mr_nba_cli_json_head(const struct mr_nba_cli *c, const struct mr_nba_run *r)
{
	const struct mr_logcsv *log = &r->log;
	json_t *o = json_object(), *actions = json_array(), *features = json_array(), *picks = json_object();
	size_t *count = mr_calloc((size_t)log->nactions, sizeof(*count));

	for (size_t i = 0; i < log->n; i++)
		count[r->pi[i]]++;
	for (int a = 0; a < log->nactions; a++) {
		json_array_append_new(actions, json_string(log->actions[a]));
		json_object_set_new(picks, log->actions[a], json_real((double)count[a] / (double)log->n));
	}
	for (int f = 0; f < log->nfeat; f++)
		json_array_append_new(features, json_string(log->feat_names[f]));
	json_object_set_new(o, "log", json_string(c->file));
	json_object_set_new(o, "encoding", json_string(c->encoding ? c->encoding : "?"));
	json_object_set_new(o, "rows", json_integer((json_int_t)log->n));
	json_object_set_new(o, "actions", actions);
	json_object_set_new(o, "features", features);
	json_object_set_new(o, "reward_model", json_pack("{s:s,s:f,s:i}", "kind",
			    r->kind == MR_LM_LOGISTIC ? "logistic" : "ridge", "lambda", c->lambda, "folds", 2));
	json_object_set_new(o, "policy", picks);
	free(count);
	return o;
}

static json_t *mr_nba_cli_json(const struct mr_nba_cli *c, const struct mr_nba_run *r)
{
	json_t *o = mr_nba_cli_json_head(c, r), *est = json_object();

	if (r->log.prop) {
		json_object_set_new(o, "matched", json_integer((json_int_t)r->ope.matched));
		json_object_set_new(o, "ess", json_real(r->ope.ess));
		json_object_set_new(o, "max_weight", json_real(r->ope.max_weight));
		json_object_set_new(est, "logged", mr_nba_cli_est(&r->ope.logged));
		json_object_set_new(est, "ips", mr_nba_cli_est(&r->ope.ips));
		json_object_set_new(est, "snips", mr_nba_cli_est(&r->ope.snips));
		json_object_set_new(est, "dr", mr_nba_cli_est(&r->ope.dr));
		json_object_set_new(est, "dm", mr_nba_cli_est(&r->ope.dm));
	} else {
		json_object_set_new(o, "matched", json_integer((json_int_t)r->replay.matched));
		json_object_set_new(est, "logged", mr_nba_cli_est(&r->replay.logged));
		json_object_set_new(est, "replay", mr_nba_cli_est(&r->replay.value));
		json_object_set_new(o, "uniformity", json_pack("{s:f,s:i,s:f,s:b}", "chi2", r->replay.chi2, "df",
				    r->replay.df, "p", r->replay.chi2_p, "warning", r->replay.chi2_p < 0.001));
	}
	json_object_set_new(o, "estimates", est);
	return o;
}

/* --- the command ----------------------------------------------------------- */

static void mr_nba_cli_warn(const struct mr_nba_cli *c, const struct mr_nba_run *r)
{
	if (c->quiet)
		return;
	if (!r->log.prop && r->replay.chi2_p < 0.001)
		fprintf(stderr, "medreach nba: warning: the logged actions are far from uniform (chi-square "
			"%.1f, df %d, p < 0.001): replay is unbiased only for a uniformly random logger; use "
			"nba evaluate with the logger's propensities\n", r->replay.chi2, r->replay.df);
	if (r->log.prop && r->ope.matched == 0)
		fprintf(stderr, "medreach nba: warning: the policy never agrees with the logged action, so "
			"IPS is 0 and SNIPS undefined; only DM and DR say anything\n");
}

static int mr_nba_sub(const char *sub, int argc, char **argv)
{
	struct mr_nba_cli c;
	struct mr_nba_run r;
	struct mr_err err;
	int rc;

	memset(&c, 0, sizeof(c));
	memset(&r, 0, sizeof(r));
	mr_err_clear(&err);
	c.sub = sub;
	c.lambda = 1.0;
	rc = mr_nba_cli_parse(&c, argc, argv);
	if (rc)
		return rc == 1 ? 0 : rc;
	rc = mr_nba_cli_run(&c, &r, &err);
	if (rc == 0) {
		mr_nba_cli_warn(&c, &r);
		if (c.json) {
			json_t *j = mr_nba_cli_json(&c, &r);
			json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
			fputc('\n', stdout);
			json_decref(j);
		} else if (r.log.prop) {
			mr_nba_cli_print_evaluate(&c, &r);
		} else {
			mr_nba_cli_print_replay(&c, &r);
		}
	}
	mr_logcsv_release(&r.log);
	free(r.q);
	free(r.pi);
	return rc < 0 ? mr_cli_fail("nba", &err) : 0;
}

int mr_cmd_nba(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (sub && (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0)) {
		fputs(mr_nba_help, stdout);
		return 0;
	}
	if (sub && (strcmp(sub, "evaluate") == 0 || strcmp(sub, "replay") == 0))
		return mr_nba_sub(sub, argc - 1, argv + 1);
	if (sub && strcmp(sub, "run") == 0)
		return mr_cmd_nba_run(argc - 1, argv + 1);
	if (sub && strcmp(sub, "simulate") == 0)
		return mr_cmd_nba_simulate(argc - 1, argv + 1);
	if (sub && strcmp(sub, "train") == 0)
		return mr_cmd_nba_train(argc - 1, argv + 1);
	if (sub)
		fprintf(stderr, "medreach nba: unknown subcommand '%s' (evaluate, replay, run, simulate or train)\n\n", sub);
	fputs(mr_nba_help, stderr);
	return 2;
}
