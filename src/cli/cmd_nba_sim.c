/*
 * medreach nba simulate: the uplift experiment of docs/nba-simulate.md. On a
 * demo world made with `medreach demo --as-of T` (its history ends at T),
 * it plays the weeks after T: an experiment over every doctor with a
 * rules-only arm, a learned arm and a random arm (or the arms asked for) is
 * started at T, and each simulated week
 *   1. the response models are trained on the events before the week
 *      (as the daily retrain would),
 *   2. the next-best-action run decides for every doctor at the week's
 *      start — each arm ranking the same rules' candidates its own way —
 *      and creates the tasks,
 *   3. every task is done by its rep at a working moment of its due window,
 *      and the demo world answers it: the outcome is drawn from the
 *      doctor's hidden preferences (best channel, weekday and hour band,
 *      favourite topics; mr_hist_world_rung), the same outcome model that
 *      made the history. The event goes into the event log and fulfils the
 *      task, and the projections read it before the next week.
 * At the end the experiment is stopped and its results read exactly as
 * GET /api/v1/experiments/{name}/results reads them: per arm the primary
 * metric (the effective contact rate by default; the effective-communication
 * and response rates beside it) with its Wilson
 * interval, each arm against the control (the first arm) with a
 * two-proportion test, and the learned arm against the random one.
 *
 * Nothing in the engine sees the preferences: only the events do. The
 * world's thresholds are calibrated on the history's own touches over the
 * year before T (mr_hist_world_new), so a touch like the history's lands
 * on the history's rates.
 */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "cli/cli.h"
#include "cli/nba_world.h"
#include "cli/progress.h"
#include "demo/history.h"
#include "demo/history_load.h"
#include "event/log.h"
#include "experiments/experiments.h"
#include "experiments/stats.h"
#include "models/models.h"
#include "nba/guard.h"
#include "nba/nba.h"
#include "nba/rules.h"
#include "tasks/task.h"

#define MR_SIM_DAY_US (INT64_C(86400) * MR_US_PER_S)
#define MR_SIM_HOUR_US (INT64_C(3600) * MR_US_PER_S)
#define MR_SIM_TZ_US (8 * MR_SIM_HOUR_US) /* Asia/Shanghai */

enum { MR_SIM_BATCH = 4096, MR_SIM_MAX_WEEKS = 52, MR_SIM_TRIES = 400 };

static const char mr_sim_help[] =
	"usage: medreach nba simulate [--weeks N] [--seed S] [--rules FILE] [--arms LIST] [--name NAME]\n"
	"                             [--metric M] [--window-days D] [--json]\n\n"
	"Plays simulated weeks on a demo world made with `medreach demo --as-of T`: an experiment (rules-only,\n"
	"learned and random arms by default) starts at T; each week the models retrain, the next-best-action\n"
	"run makes the tasks, and the reps do them, the demo world's hidden preferences deciding the outcomes.\n"
	"Prints each arm's rate with its 95% interval and the tests between arms. See docs/nba-simulate.md.\n\n"
	"options:\n"
	"  --weeks N         weeks to play (default 8, at most 52)\n"
	"  --seed S          the demo world's seed (default 1, as `medreach demo`)\n"
	"  --rules FILE      JSON {\"settings\": {...}, \"rules\": {\"name\": {...}}} put before the start\n"
	"                    (as PUT /api/v1/nba/settings and /api/v1/rules/{name}); default: the store's rules\n"
	"  --arms LIST       arm kinds in order, the first the control (default rules,learned,random)\n"
	"  --name NAME       the experiment's name (default uplift)\n"
	"  --metric M        the primary metric: effective_contact_rate (default), effective_rate,\n"
	"                    response_rate or participation_rate (the first three are all reported)\n"
	"  --window-days D   the models' training window (default 180)\n"
	"  --json            print the results as JSON\n" MR_CLI_COMMON_HELP;

struct mr_sim_opts {
	int weeks, window_days, json;
	uint64_t seed;
	const char *rules, *arms, *name, *metric;
};

/* An open task of the week's run, as the rep finds it. */
struct mr_sim_task {
	int64_t id, hcp_id, rep_id, due_from, due_to;
	char type[16], channel[16], topic[48], content[64];
};

/* What the simulation holds. */
struct mr_sim {
	const struct mr_sim_opts *o;
	struct mr_store *s;
	struct mr_keys keys;
	struct mr_nba_cli_world w;
	struct mr_models *m;
	struct mr_nba *n;
	struct mr_evindex *ids;        /* SQLite: the id set the appends claim in */
	struct mr_hist_roster r;
	struct mr_hist_world *world;
	struct mr_hist_prefs *prefs;   /* by roster index */
	int64_t *by_id;                /* (hcp_id << 24 | roster index), sorted, for the tasks' doctors */
	char **rep_ext;                /* by rep id */
	int64_t nrep;
	int64_t start;
	int64_t tasks, done, skipped;
	struct mr_evlog_batch b;
	struct mr_arena a;
};

/* Puts where in front of err's message (the code stays); returns the code. */
static int mr_sim_where(struct mr_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int mr_sim_where(struct mr_err *err, const char *fmt, ...)
{
	char where[160], msg[sizeof(where) + sizeof(err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(where, sizeof(where), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "%s%s", where, err->msg);
	snprintf(err->msg, sizeof(err->msg), "%.*s", (int)sizeof(err->msg) - 1, msg);
	return err->code ? err->code : MR_EINTERNAL;
}

/* ------------------------------------------------------------ options */

static int mr_sim_opts(int argc, char **argv, struct mr_cli *cli, struct mr_sim_opts *o)
{
	static const struct option opts[] = { MR_CLI_COMMON_LONGOPTS,
					       { "weeks", required_argument, NULL, 'w' },
					       { "seed", required_argument, NULL, 's' },
					       { "rules", required_argument, NULL, 'r' },
					       { "arms", required_argument, NULL, 'a' },
					       { "name", required_argument, NULL, 'n' },
					       { "metric", required_argument, NULL, 'm' },
					       { "window-days", required_argument, NULL, 'd' },
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
			fputs(mr_sim_help, stdout);
			return -1;
		}
		if (opt == 'w' && mr_parse_i64(optarg, 1, MR_SIM_MAX_WEEKS, &v) == 0)
			o->weeks = (int)v;
		else if (opt == 's' && mr_parse_i64(optarg, 0, INT64_MAX, &v) == 0)
			o->seed = (uint64_t)v;
		else if (opt == 'd' && mr_parse_i64(optarg, 1, MR_MODEL_WINDOW_MAX, &v) == 0)
			o->window_days = (int)v;
		else if (opt == 'r')
			o->rules = optarg;
		else if (opt == 'a')
			o->arms = optarg;
		else if (opt == 'n' && mr_experiment_name_ok(optarg))
			o->name = optarg;
		else if (opt == 'm' && mr_experiments_metric_parse(optarg) >= 0)
			o->metric = optarg;
		else if (opt == 'j')
			o->json = 1;
		else if (!mr_cli_common_opt(cli, opt, optarg)) {
			fprintf(stderr, "medreach nba simulate: bad option or value%s%s\n\n", optarg ? ": " : "",
				optarg ? optarg : "");
			fputs(mr_sim_help, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "medreach nba simulate: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	return 0;
}

/* ------------------------------------------------------------ the setup */

/* The moment the world's history ends: the day after its last event, at Beijing midnight. */
static int mr_sim_start(struct mr_conn *c, int64_t *start, struct mr_err *err)
{
	struct mr_rows *r = NULL;
	int rc = mr_conn_query(c, "SELECT MAX(ts) FROM events", NULL, 0, &r, err);

	if (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		if (mr_rows_isnull(r, 0)) {
			rc = mr_err_set(err, MR_EINVAL, "the store has no events: make the world with"
					" `medreach demo --as-of TIME` first");
		} else {
			int64_t last = mr_rows_int(r, 0) + MR_SIM_TZ_US;

			*start = (last / MR_SIM_DAY_US + 1) * MR_SIM_DAY_US - MR_SIM_TZ_US;
			rc = 0;
		}
	}
	mr_rows_close(r);
	return rc;
}

static int mr_sim_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The roster at the start, each doctor's hidden preferences, and the world's outcome model. */
static int mr_sim_roster(struct mr_sim *sm, struct mr_conn *c, struct mr_err *err)
{
	struct mr_hist_opts ho;
	int rc;

	mr_hist_roster_init(&sm->r, sm->start);
	rc = mr_hist_roster_load(&sm->r, c, err);
	if (rc < 0)
		return rc;
	if (sm->r.n == 0)
		return mr_err_set(err, MR_EINVAL, "the store has no demo doctors (D0000001…): make the world with"
				  " `medreach demo --as-of TIME` first");
	sm->prefs = mr_calloc(sm->r.n, sizeof(*sm->prefs));
	sm->by_id = mr_calloc(sm->r.n, sizeof(*sm->by_id));
	for (size_t i = 0; i < sm->r.n; i++) {
		mr_hist_prefs(sm->o->seed, &sm->r.h[i], &sm->prefs[i]);
		sm->by_id[i] = sm->r.hcp_id[i] << 24 | (int64_t)i;
	}
	qsort(sm->by_id, sm->r.n, sizeof(*sm->by_id), mr_sim_cmp_i64);
	memset(&ho, 0, sizeof(ho));
	ho.seed = sm->o->seed;
	ho.to_us = sm->start;
	ho.from_us = sm->start - 365 * MR_SIM_DAY_US;
	return mr_hist_world_new(&ho, sm->r.h, sm->r.n, &sm->world, err);
}

/* The roster index of HCP record hcp_id, or -1 (a planted duplicate, a doctor outside the roster). */
static long mr_sim_doctor(const struct mr_sim *sm, int64_t hcp_id)
{
	size_t lo = 0, hi = sm->r.n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int64_t id = sm->by_id[mid] >> 24;

		if (id == hcp_id)
			return (long)(sm->by_id[mid] & 0xffffff);
		if (id < hcp_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The reps' external ids by internal id. */
static int mr_sim_reps(struct mr_sim *sm, struct mr_conn *c, struct mr_err *err)
{
	struct mr_rows *r = NULL;
	int rc = mr_conn_query(c, "SELECT COALESCE(MAX(id), 0) FROM reps", NULL, 0, &r, err);

	if (rc == 0 && (rc = mr_rows_next(r, err)) == 1)
		sm->nrep = mr_rows_int(r, 0) + 1;
	mr_rows_close(r);
	if (rc < 0)
		return rc;
	sm->rep_ext = mr_calloc((size_t)sm->nrep, sizeof(*sm->rep_ext));
	r = NULL;
	rc = mr_conn_query(c, "SELECT id, ext_id FROM reps", NULL, 0, &r, err);
	while (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		int64_t id = mr_rows_int(r, 0);

		if (id > 0 && id < sm->nrep)
			sm->rep_ext[id] = mr_strdup(mr_rows_text(r, 1));
		rc = 0;
	}
	mr_rows_close(r);
	return rc;
}

/* --rules FILE: the settings and rules, put in one transaction. */
struct mr_sim_rules {
	json_t *doc;
	struct mr_arena a;
};

static int mr_sim_rules_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_sim_rules *j = arg;
	json_t *settings = json_object_get(j->doc, "settings"), *rules = json_object_get(j->doc, "rules"), *body;
	const char *name;
	int rc = 0, created = 0;

	if (settings) {
		struct mr_nba_settings s;

		rc = mr_nba_settings_get(c, &s, err);
		if (rc == 0)
			rc = mr_nba_settings_from_json(settings, &s, err);
		if (rc == 0)
			rc = mr_nba_settings_put(c, &s, "simulate", mr_now_us(), err);
		if (rc < 0)
			return mr_sim_where(err, "settings: ");
	}
	json_object_foreach(rules, name, body) {
		struct mr_nba_rule rule;

		rc = mr_nba_rule_from_json(body, &j->a, &rule, err);
		rule.name = name;
		if (rc == 0)
			rc = mr_nba_rule_put(c, &rule, "simulate", mr_now_us(), &created, err);
		if (rc < 0)
			return mr_sim_where(err, "rule %s: ", name);
	}
	return 0;
}

static int mr_sim_put_rules(struct mr_sim *sm, struct mr_err *err)
{
	struct mr_sim_rules j;
	json_error_t je;
	int rc;

	j.doc = json_load_file(sm->o->rules, 0, &je);
	if (!j.doc)
		return mr_err_set(err, MR_EINVAL, "%s:%d:%d: %s", sm->o->rules, je.line, je.column, je.text);
	if (!json_is_object(json_object_get(j.doc, "rules"))) {
		json_decref(j.doc);
		return mr_err_set(err, MR_EINVAL, "%s: \"rules\" must be an object of rules by name", sm->o->rules);
	}
	mr_arena_init(&j.a);
	rc = mr_store_write(sm->s, mr_sim_rules_fn, &j, err);
	mr_arena_release(&j.a);
	json_decref(j.doc);
	return rc;
}

/* The experiment over every doctor, the arms split evenly (to the hundredth), running from the start. */
struct mr_sim_exp {
	struct mr_experiment x;
	int64_t at;
};

static int mr_sim_exp_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_sim_exp *j = arg;
	int created = 0;
	int rc = mr_experiment_put(c, &j->x, "simulate", j->at, &created, err);

	if (rc == 0 && !created)
		rc = mr_err_set(err, MR_ECONFLICT, "experiment %s exists already: simulate on a fresh demo world, or"
				" pass --name", j->x.name);
	if (rc == 0)
		rc = mr_experiment_set_status(c, j->x.name, MR_EXP_RUNNING, "simulate", j->at, err);
	return rc;
}

static int mr_sim_experiment(struct mr_sim *sm, struct mr_arena *a, struct mr_err *err)
{
	struct mr_sim_exp j;
	json_t *body = json_pack("{s:s, s:s, s:s, s:[]}", "unit", "hcp", "metric", sm->o->metric, "description",
				 "nba simulate: the uplift experiment over simulated weeks", "arms");
	json_t *arms = json_object_get(body, "arms");
	char *list = mr_strdup(sm->o->arms), *save = NULL;
	int narms = 0, rc;

	for (char *k = strtok_r(list, ",", &save); k; k = strtok_r(NULL, ",", &save))
		json_array_append_new(arms, json_pack("{s:s, s:s}", "name", k, "kind", k));
	narms = (int)json_array_size(arms);
	for (int i = 0; i < narms; i++) { /* 10,000 buckets: the first arms take the remainder */
		int buckets = 10000 / (narms ? narms : 1) + (i < 10000 % (narms ? narms : 1));

		json_object_set_new(json_array_get(arms, (size_t)i), "allocation", json_real(buckets / 100.0));
	}
	memset(&j, 0, sizeof(j));
	rc = mr_experiment_from_json(body, a, &j.x, err);
	if (rc == 0) {
		j.x.name = sm->o->name;
		j.at = sm->start;
		rc = mr_store_write(sm->s, mr_sim_exp_fn, &j, err);
	}
	free(list);
	json_decref(body);
	return rc < 0 ? mr_sim_where(err, "--arms %s: ", sm->o->arms) : 0;
}

/* ------------------------------------------------------------ a week */

/* Trains every channel's models on the window before t, saves them and serves them. */
static int mr_sim_train_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	return mr_models_save(c, arg, err);
}

static int mr_sim_train(struct mr_sim *sm, int64_t t, struct mr_err *err)
{
	struct mr_models_train_req q = { sm->o->window_days, t, NULL, 0, 0, "simulate" };
	struct mr_models_run *run = NULL;
	struct mr_conn *c = NULL;
	int rc = mr_store_acquire(sm->s, &c, err);

	if (rc == 0)
		rc = mr_models_train(sm->m, c, &q, &run, err);
	if (c)
		mr_store_release(sm->s, c);
	if (rc == 0)
		rc = mr_store_write(sm->s, mr_sim_train_fn, run, err);
	if (rc < 0) {
		mr_models_run_free(run);
		return mr_sim_where(err, "training: ");
	}
	mr_models_adopt(sm->m, run);
	return 0;
}

/* The run's open tasks (ids above after), into *out (*n). */
static int mr_sim_tasks(struct mr_sim *sm, int64_t after, struct mr_sim_task **out, size_t *n, struct mr_err *err)
{
	struct mr_val v = mr_v_int(after);
	struct mr_rows *r = NULL;
	struct mr_conn *c = NULL;
	size_t cap = 0;
	int rc = mr_store_acquire(sm->s, &c, err);

	*out = NULL;
	*n = 0;
	if (rc == 0)
		rc = mr_conn_query(c, "SELECT id, hcp_id, assignee_id, due_from, due_to, type, COALESCE(channel, ''),"
				   " COALESCE(topic, ''), COALESCE(content, '') FROM tasks WHERE id > ? AND status = 'open'"
				   " ORDER BY id", &v, 1, &r, err);
	while (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		struct mr_sim_task *t;

		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			*out = mr_realloc(*out, cap * sizeof(**out));
		}
		t = &(*out)[(*n)++];
		t->id = mr_rows_int(r, 0);
		t->hcp_id = mr_rows_int(r, 1);
		t->rep_id = mr_rows_int(r, 2);
		t->due_from = mr_rows_int(r, 3);
		t->due_to = mr_rows_int(r, 4);
		snprintf(t->type, sizeof(t->type), "%s", mr_rows_text(r, 5));
		snprintf(t->channel, sizeof(t->channel), "%s", mr_rows_text(r, 6));
		snprintf(t->topic, sizeof(t->topic), "%s", mr_rows_text(r, 7));
		snprintf(t->content, sizeof(t->content), "%s", mr_rows_text(r, 8));
		rc = 0;
	}
	mr_rows_close(r);
	if (c)
		mr_store_release(sm->s, c);
	return rc;
}

static int64_t mr_sim_max_task(struct mr_sim *sm, struct mr_err *err)
{
	struct mr_rows *r = NULL;
	struct mr_conn *c = NULL;
	int64_t max = -1;
	int rc = mr_store_acquire(sm->s, &c, err);

	if (rc == 0)
		rc = mr_conn_query(c, "SELECT COALESCE(MAX(id), 0) FROM tasks", NULL, 0, &r, err);
	if (rc == 0 && mr_rows_next(r, err) == 1)
		max = mr_rows_int(r, 0);
	mr_rows_close(r);
	if (c)
		mr_store_release(sm->s, c);
	return max;
}

static uint64_t mr_sim_mix(uint64_t z)
{
	z += UINT64_C(0x9e3779b97f4a7c15);
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/*
 * When the rep does task t: a uniform moment of its due window in working
 * hours (Beijing 08–21), on a weekday unless the window lies within one
 * day (a slot the learned or random policy chose may be a Saturday).
 */
static int64_t mr_sim_moment(const struct mr_sim_task *t, uint64_t key)
{
	int64_t span = t->due_to - t->due_from;
	int one_day = span <= MR_SIM_DAY_US;

	if (span <= 0)
		return t->due_from;
	for (int k = 0; k < MR_SIM_TRIES; k++) {
		int64_t ts = t->due_from + (int64_t)(mr_sim_mix(key + (uint64_t)k) % (uint64_t)span);
		int64_t local = ts + MR_SIM_TZ_US;
		int hour = (int)((local % MR_SIM_DAY_US) / MR_SIM_HOUR_US);
		int wday = (int)((local / MR_SIM_DAY_US + 3) % 7); /* 0 Monday: 1970-01-01 was a Thursday */

		if (hour >= 8 && hour < 21 && (one_day || wday < 5))
			return ts;
	}
	return t->due_from;
}

/* The event type a task's channel records. */
static const char *mr_sim_type(int ch)
{
	switch (ch) {
	case MR_CH_PHONE:
		return "call";
	case MR_CH_WECHAT:
	case MR_CH_WECOM:
		return "message";
	case MR_CH_VISIT:
		return "visit";
	case MR_CH_EMAIL:
		return "email";
	default:
		return NULL;
	}
}

static int mr_sim_append_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_sim *sm = arg;
	struct mr_md_actor who = { "simulate", NULL, "demo", mr_now_us() };
	int rc = mr_evlog_append(c, sm->ids, &sm->keys, &who, &sm->b, err);

	for (int i = 0; rc == 0 && i < sm->b.n; i++) {
		int64_t task = 0;
		int done = 0;

		if (sm->b.fate[i] != MR_EV_STORED)
			continue;
		task = strtoll(strrchr(sm->b.ev[i].id, '-') + 1, NULL, 10);
		rc = mr_task_fulfil(c, task, sm->b.ev[i].id, sm->b.seq[i], sm->b.ev[i].ts, &done, err);
	}
	return rc;
}

static int mr_sim_flush(struct mr_sim *sm, struct mr_err *err)
{
	int rc;

	if (sm->b.n == 0)
		return 0;
	mr_evlog_batch_reset(&sm->b);
	rc = mr_store_write(sm->s, mr_sim_append_fn, sm, err);
	if (rc < 0) {
		mr_evlog_undo(sm->ids, &sm->b);
		return rc;
	}
	for (int i = 0; i < sm->b.n; i++) {
		if (sm->b.fate[i] == MR_EV_REJECTED)
			return mr_err_set(err, MR_EINTERNAL, "the event log rejected simulated event %s: %s",
					  sm->b.ev[i].id, sm->b.why[i].msg);
	}
	sm->done += sm->b.stored;
	sm->b.n = 0;
	mr_arena_release(&sm->a);
	return 0;
}

/* The rep does task t and the world answers: one event into the batch (0), or the task is left (1). */
static int mr_sim_do(struct mr_sim *sm, const struct mr_sim_task *t, struct mr_err *err)
{
	long i = mr_sim_doctor(sm, t->hcp_id);
	int ch = mr_channel_parse(t->channel);
	struct mr_event *e;
	char id[64];
	uint64_t key;

	if (i < 0 || !mr_sim_type(ch) || strcmp(t->type, "meeting_invite") == 0 || t->rep_id <= 0 ||
	    t->rep_id >= sm->nrep || !sm->rep_ext[t->rep_id])
		return 1;
	key = mr_sim_mix(sm->o->seed ^ mr_sim_mix((uint64_t)t->id));
	e = &sm->b.ev[sm->b.n];
	mr_event_init(e);
	snprintf(id, sizeof(id), "sim%llu-%s-%lld", (unsigned long long)sm->o->seed, sm->o->name, (long long)t->id);
	e->id = mr_arena_strdup(&sm->a, id);
	e->ts = mr_sim_moment(t, key);
	e->hcp = sm->r.h[i].id;
	e->hcp_id = t->hcp_id;
	e->channel = ch;
	e->type = mr_sim_type(ch);
	e->outcome = mr_hist_world_rung(sm->world, &sm->prefs[i], ch, e->ts, mr_hist_topic_index(t->topic), key);
	e->rep = sm->rep_ext[t->rep_id];
	e->rep_id = t->rep_id;
	e->content = t->content[0] ? mr_arena_strdup(&sm->a, t->content) : NULL;
	e->source = "demo";
	if (mr_event_check(e, mr_now_us(), &sm->a, err) < 0)
		return mr_sim_where(err, "task %lld: ", (long long)t->id);
	if (sm->ids)
		mr_evindex_id_key(sm->ids, e->id, e->id_key);
	return ++sm->b.n == MR_SIM_BATCH ? mr_sim_flush(sm, err) : 0;
}

/* One week from t: train, run, do every task, read the events back into the projections. */
static int mr_sim_week(struct mr_sim *sm, int week, int64_t t, json_t *weeks, struct mr_err *err)
{
	struct mr_nba_run_opts ro;
	struct mr_sim_task *tasks = NULL;
	struct mr_conn *c = NULL;
	json_t *run = NULL;
	size_t n = 0;
	int64_t after, left = 0;
	int rc = mr_sim_train(sm, t, err);

	after = rc == 0 ? mr_sim_max_task(sm, err) : -1;
	if (rc == 0 && after < 0)
		rc = MR_EINTERNAL;
	memset(&ro, 0, sizeof(ro));
	ro.as_of = t;
	ro.now = t; /* the run happens at the week's start: the rules' repeat counts from then */
	ro.by = "simulate";
	if (rc == 0)
		rc = mr_nba_run(sm->n, &ro, &run, err);
	if (rc == 0)
		rc = mr_sim_tasks(sm, after, &tasks, &n, err);
	for (size_t k = 0; rc == 0 && k < n; k++) {
		rc = mr_sim_do(sm, &tasks[k], err);
		if (rc == 1) {
			left++;
			rc = 0;
		}
	}
	if (rc == 0)
		rc = mr_sim_flush(sm, err);
	if (rc == 0)
		rc = mr_store_acquire(sm->s, &c, err);
	if (rc == 0) {
		rc = mr_evindex_sync(sm->w.ix, c, err);
		mr_store_release(sm->s, c);
	}
	if (rc == 0) {
		json_t *wk = json_pack("{s:i, s:I, s:I, s:I, s:O, s:O}", "week", week + 1, "tasks", (json_int_t)n,
				       "done", (json_int_t)((int64_t)n - left), "left", (json_int_t)left, "learned",
				       json_object_get(run, "learned"), "blocked", json_object_get(run, "blocked"));

		mr_json_set_time(wk, "as_of", t);
		json_array_append_new(weeks, wk);
		sm->tasks += (int64_t)n;
		sm->skipped += left;
	}
	json_decref(run);
	free(tasks);
	return rc;
}

/* ------------------------------------------------------------ the results */

struct mr_sim_stop {
	const char *name;
	int64_t at;
};

static int mr_sim_stop_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_sim_stop *j = arg;

	return mr_experiment_set_status(c, j->name, MR_EXP_STOPPED, "simulate", j->at, err);
}

/* The arm of kind among x's arms, or -1. */
static int mr_sim_arm(const struct mr_experiment *x, int kind)
{
	for (int i = 0; i < x->narms; i++) {
		if (x->arms[i].kind == kind)
			return i;
	}
	return -1;
}

static json_t *mr_sim_cmp_json(const struct mr_prop_diff *d)
{
	return json_pack("{s:f, s:[f, f], s:f, s:f, s:b}", "difference", d->diff, "ci", d->lo, d->hi, "z", d->z,
			 "p_value", d->p, "significant", d->significant);
}

/* The other KPI rates of the same arms, under "also": {metric: the results as the API gives them}. */
static int mr_sim_also(struct mr_sim *sm, const struct mr_exp_src *src, const struct mr_experiment *x, int64_t end,
		       struct mr_arena *a, json_t *out, struct mr_err *err)
{
	static const int others[] = { MR_EXP_EFFECTIVE_CONTACT, MR_EXP_EFFECTIVE, MR_EXP_RESPONSE };
	json_t *also = json_object();
	struct mr_conn *c = NULL;
	int rc = mr_store_acquire(sm->s, &c, err);

	for (size_t i = 0; rc == 0 && i < sizeof(others) / sizeof(others[0]); i++) {
		struct mr_experiment y = *x;
		struct mr_exp_results res;

		if (others[i] == x->metric)
			continue;
		y.metric = others[i];
		rc = mr_experiment_results(src, c, &y, end, a, &res, err);
		if (rc == 0)
			json_object_set_new(also, mr_experiments_metric(others[i])->name, mr_experiment_results_json(&y, &res));
	}
	if (c)
		mr_store_release(sm->s, c);
	json_object_set_new(out, "also", also);
	return rc;
}

static int mr_sim_results(struct mr_sim *sm, int64_t end, struct mr_arena *a, json_t **out, struct mr_err *err)
{
	struct mr_exp_src src = { sm->s, sm->w.e, sm->w.dir, sm->w.ix };
	struct mr_sim_stop stop = { sm->o->name, end };
	struct mr_exp_results res;
	struct mr_experiment x;
	struct mr_conn *c = NULL;
	int rc = mr_store_write(sm->s, mr_sim_stop_fn, &stop, err);

	if (rc == 0)
		rc = mr_store_acquire(sm->s, &c, err);
	if (rc == 0)
		rc = mr_experiment_get(c, sm->o->name, a, &x, err);
	if (rc == 0)
		rc = mr_experiment_results(&src, c, &x, end, a, &res, err);
	if (c)
		mr_store_release(sm->s, c);
	if (rc < 0)
		return rc;
	*out = mr_experiment_results_json(&x, &res);
	rc = mr_sim_also(sm, &src, &x, end, a, *out, err);
	if (rc == 0) {
		int l = mr_sim_arm(&x, MR_EXP_LEARNED), r = mr_sim_arm(&x, MR_EXP_RANDOM);

		if (l >= 0 && r >= 0) {
			struct mr_prop_diff d = mr_stats_compare(res.arm[l].num, res.arm[l].den, res.arm[r].num,
								 res.arm[r].den, 30);

			json_object_set_new(*out, "learned_vs_random", mr_sim_cmp_json(&d));
		}
	}
	return rc;
}

static void mr_sim_print(const struct mr_sim *sm, json_t *o)
{
	json_t *arm, *lr = json_object_get(o, "learned_vs_random");
	size_t i;

	printf("experiment %s: %d weeks from %s, metric %s\n", sm->o->name, sm->o->weeks,
	       json_string_value(json_object_get(o, "from")), sm->o->metric);
	mr_cli_experiment_print(o);
	{
		const char *metric;
		json_t *r;

		json_object_foreach(json_object_get(o, "also"), metric, r) {
			printf("  %s:", metric);
			json_array_foreach(json_object_get(r, "arms"), i, arm)
				printf("  %s %.2f%% (%lld/%lld)", json_string_value(json_object_get(arm, "name")),
				       100 * json_number_value(json_object_get(arm, "rate")),
				       (long long)json_integer_value(json_object_get(arm, "numerator")),
				       (long long)json_integer_value(json_object_get(arm, "denominator")));
			printf("\n");
		}
	}
	if (lr)
		printf("learned vs random: %+.2f pp [%+.2f, %+.2f], p = %.2g%s\n",
		       100 * json_number_value(json_object_get(lr, "difference")),
		       100 * json_number_value(json_array_get(json_object_get(lr, "ci"), 0)),
		       100 * json_number_value(json_array_get(json_object_get(lr, "ci"), 1)),
		       json_number_value(json_object_get(lr, "p_value")),
		       json_is_true(json_object_get(lr, "significant")) ? " (significant)" : " (not significant)");
	printf("tasks %lld, done %lld, left undone %lld (meeting invitations, doctors outside the roster)\n",
	       (long long)sm->tasks, (long long)sm->done, (long long)sm->skipped);
}

/* ------------------------------------------------------------ the command */

static int mr_sim_open(struct mr_sim *sm, struct mr_cli *cli, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	int rc = mr_cli_open(cli, 0, &sm->s, &sm->keys, err);

	if (rc == 0)
		rc = mr_store_acquire(sm->s, &c, err);
	if (rc == 0)
		rc = mr_sim_start(c, &sm->start, err);
	if (rc == 0)
		rc = mr_sim_roster(sm, c, err);
	if (rc == 0)
		rc = mr_sim_reps(sm, c, err);
	if (c)
		mr_store_release(sm->s, c);
	if (rc == 0 && sm->start + sm->o->weeks * 7 * MR_SIM_DAY_US > mr_now_us())
		rc = mr_err_set(err, MR_EINVAL, "the world's history ends too late for %d weeks before now: make it with"
				" `medreach demo --as-of` at least %d weeks ago", sm->o->weeks, sm->o->weeks);
	if (rc == 0 && sm->o->rules)
		rc = mr_sim_put_rules(sm, err);
	if (rc == 0)
		rc = mr_nba_cli_world_load(sm->s, &sm->w, err);
	if (rc == 0 && mr_store_kind(sm->s) == MR_STORE_SQLITE) {
		sm->ids = mr_evindex_new(1);
		rc = mr_store_acquire(sm->s, &c, err);
		if (rc == 0) {
			rc = mr_evindex_sync(sm->ids, c, err);
			mr_store_release(sm->s, c);
		}
	}
	if (rc == 0) {
		struct mr_models_src ms = { sm->s, sm->w.dir, sm->w.ix, sm->w.pf, &sm->w.tsrc };
		struct mr_nba_src ns = { sm->s, NULL, sm->w.e, sm->w.dir, sm->w.ix, sm->w.pf };

		sm->m = mr_models_new(&ms);
		sm->n = mr_nba_new(&ns);
		mr_nba_set_models(sm->n, sm->m);
	}
	return rc;
}

static void mr_sim_close(struct mr_sim *sm)
{
	mr_nba_free(sm->n);
	mr_models_free(sm->m);
	mr_nba_cli_world_free(&sm->w);
	mr_evindex_free(sm->ids);
	for (int64_t i = 0; sm->rep_ext && i < sm->nrep; i++)
		free(sm->rep_ext[i]);
	free(sm->rep_ext);
	free(sm->prefs);
	free(sm->by_id);
	mr_hist_world_free(sm->world);
	mr_hist_roster_release(&sm->r);
	free(sm->b.ev);
	free(sm->b.fate);
	free(sm->b.seq);
	free(sm->b.why);
	mr_arena_release(&sm->a);
	if (sm->s)
		mr_store_close(sm->s);
	mr_keys_wipe(&sm->keys);
}

int mr_cmd_nba_simulate(int argc, char **argv)
{
	struct mr_sim_opts o = { 8, 180, 0, 1, NULL, "rules,learned,random", "uplift", "effective_contact_rate" };
	struct mr_sim sm;
	struct mr_progress p;
	struct mr_arena a;
	struct mr_cli cli;
	struct mr_err err;
	json_t *weeks = json_array(), *out = NULL;
	int rc;

	mr_cli_init(&cli);
	mr_err_clear(&err);
	rc = mr_sim_opts(argc, argv, &cli, &o);
	if (rc != 0) {
		json_decref(weeks);
		return rc < 0 ? 0 : rc;
	}
	memset(&sm, 0, sizeof(sm));
	sm.o = &o;
	sm.b.ev = mr_malloc(MR_SIM_BATCH * sizeof(*sm.b.ev));
	sm.b.fate = mr_malloc(MR_SIM_BATCH);
	sm.b.seq = mr_malloc(MR_SIM_BATCH * sizeof(*sm.b.seq));
	sm.b.why = mr_malloc(MR_SIM_BATCH * sizeof(*sm.b.why));
	mr_arena_init(&sm.a);
	mr_arena_init(&a);
	rc = mr_sim_open(&sm, &cli, &err);
	if (rc == 0)
		rc = mr_sim_experiment(&sm, &a, &err);
	mr_progress_init(&p, "weeks", (uint64_t)o.weeks);
	for (int w = 0; rc == 0 && w < o.weeks; w++) {
		rc = mr_sim_week(&sm, w, sm.start + w * 7 * MR_SIM_DAY_US, weeks, &err);
		mr_progress_update(&p, (uint64_t)w + 1, sm.done);
	}
	mr_progress_done(&p);
	if (rc == 0)
		rc = mr_sim_results(&sm, sm.start + o.weeks * 7 * MR_SIM_DAY_US, &a, &out, &err);
	if (rc == 0) {
		json_object_set_new(out, "weeks", weeks);
		json_object_set_new(out, "tasks", json_integer(sm.tasks));
		json_object_set_new(out, "done", json_integer(sm.done));
		weeks = NULL;
		if (o.json) {
			char *text = json_dumps(out, JSON_COMPACT);

			puts(text);
			free(text);
		} else {
			mr_sim_print(&sm, out);
		}
	}
	json_decref(out);
	json_decref(weeks);
	mr_arena_release(&a);
	mr_sim_close(&sm);
	return rc < 0 ? mr_cli_fail("nba simulate", &err) : 0;
}
