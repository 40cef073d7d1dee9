/*
 * medreach demo: creates the demo world (src/demo/world.h) and its content
 * library (src/demo/content.h, the catalogue the history names) and loads
 * them through the same importer a customer's CSV goes through, or, with
 * --csv DIR, writes them out as one CSV file per entity. It also creates an
 * account for every rep and manager of the world, plus admin, compliance,
 * analyst and marketing, all with one demo password, so each role can be
 * tried in the UI. --if-empty makes it do nothing on a database that
 * already has HCPs (what `make run` uses on every start).
 *
 * Then the history (src/demo/history.h, docs/demo-history.md): the
 * interaction events of the world's live primary doctors over the last
 * --history-days days, read back from the store once the world is in and
 * appended to the event log a batch a transaction (demo/history_load.h);
 * with --csv, written to DIR/events.ndjson for `medreach import events`.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit/audit.h"
#include "auth/password.h"
#include "auth/role.h"
#include "auth/user.h"
#include "base/csv.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "cli/cli.h"
#include "cli/progress.h"
#include "demo/content.h"
#include "demo/tags.h"
#include "demo/history.h"
#include "demo/history_load.h"
#include "demo/world.h"
#include "md/import.h"

static const char mr_demo_help[] =
	"usage: medreach demo [options]\n\n"
	"Creates a believable demo world: provinces, cities and hospitals of China, doctors,\n"
	"field and inside reps with territories and alignments, consents, and planted\n"
	"duplicate identities; the content library (approved items); plus an account per\n"
	"rep and manager; then a history of interaction events of its doctors up to now,\n"
	"and a few tags (wechat_engaged, engagement_score, academic_need, answer_rate_90d, kol).\n"
	"Same seed, same world, content and history.\n\n"
	"options:\n"
	"  --hcps N          doctors (default 35000)\n"
	"  --seed S          the world's and the history's seed (default 1)\n"
	"  --dup-share X     share of doctors with a second record from another source (default 0.05)\n"
	"  --history-days D  days of event history up to now (default 365; 0: none)\n"
	"  --touches N       touches per doctor per year in the history (default 28)\n"
	"  --as-of TIME      the world's today (RFC 3339; default now): the history ends there, so that\n"
	"                    `medreach nba simulate` can play the weeks after it\n"
	"  --csv DIR         write one CSV file per entity (and events.ndjson) to DIR instead of loading them\n"
	"  --if-empty        do nothing when the database already has HCPs\n"
	"  --password P      the demo accounts' password (default medreach-demo)\n" MR_CLI_COMMON_HELP;

struct mr_demo_user {
	char login[MR_LOGIN_MAX + 1];
	char name[MR_NAME_MAX * 4 + 1];
	char rep[MR_REP_ID_MAX + 1];
	int role;
};

struct mr_demo_cli {
	struct mr_store *store;
	struct mr_keys keys;
	const char *csv_dir;
	struct mr_importer *im;
	struct mr_table *table;
	const char *entity;
	int ncols;
	int col_id, col_name, col_type, col_user;
	int64_t line;
	int64_t failed;
	struct mr_demo_user *users;
	size_t nusers, capusers;
	struct mr_progress bar;
	int64_t rows;
	struct mr_hist_roster *roster; /* --csv: the history's doctors, collected from the rows */
};

static int mr_demo_commit(void *ctx, mr_write_fn fn, void *arg, struct mr_err *err)
{
	struct mr_demo_cli *d = ctx;

	return mr_store_write(d->store, fn, arg, err);
}

static int mr_demo_col(int n, const char *const *cols, const char *name)
{
	for (int i = 0; i < n; i++) {
		if (strcmp(cols[i], name) == 0)
			return i;
	}
	return -1;
}

static int mr_demo_begin(void *arg, const char *entity, int ncols, const char *const *cols,
			 struct mr_err *err)
{
	struct mr_demo_cli *d = arg;
	struct mr_import_opts o = { .entity = entity, .keys = &d->keys, .commit = mr_demo_commit,
				    .commit_ctx = d, .batch = 5000 };
	char path[4096];
	int rc;

	d->entity = entity;
	d->ncols = ncols;
	d->line = 1;
	d->col_id = mr_demo_col(ncols, cols, "id");
	d->col_name = mr_demo_col(ncols, cols, "name");
	d->col_type = mr_demo_col(ncols, cols, "type");
	d->col_user = mr_demo_col(ncols, cols, "user");
	if (d->roster)
		mr_hist_roster_begin(d->roster, entity, ncols, cols);
	if (d->csv_dir) {
		snprintf(path, sizeof(path), "%s/%s.csv", d->csv_dir, entity);
		rc = mr_table_open(&d->table, MR_TABLE_CSV, path, entity, err);
		return rc == 0 ? mr_table_header(d->table, ncols, cols, NULL, err) : rc;
	}
	o.who.login = "demo";
	o.who.source = "demo";
	rc = mr_importer_new(&d->im, &o, err);
	return rc == 0 ? mr_importer_header(d->im, ncols, cols, 1, err) : rc;
}

/* Remembers a rep's account to create: managers (mgr.*) get the manager role. */
static void mr_demo_user_of(struct mr_demo_cli *d, const char *const *vals)
{
	struct mr_demo_user *u;
	const char *type = d->col_type >= 0 ? vals[d->col_type] : "";
	const char *login = vals[d->col_user];

	if (!*login)
		return;
	if (d->nusers == d->capusers) {
		d->capusers = d->capusers ? d->capusers * 2 : 256;
		d->users = mr_realloc(d->users, d->capusers * sizeof(*d->users));
	}
	u = &d->users[d->nusers++];
	snprintf(u->login, sizeof(u->login), "%s", login);
	snprintf(u->name, sizeof(u->name), "%s", d->col_name >= 0 ? vals[d->col_name] : login);
	snprintf(u->rep, sizeof(u->rep), "%s", vals[d->col_id]);
	u->role = strncmp(login, "mgr.", 4) == 0 ? MR_ROLE_MANAGER :
		  strcmp(type, "inside") == 0 ? MR_ROLE_INSIDE_REP :
		  strcmp(type, "msl") == 0 ? MR_ROLE_MSL : MR_ROLE_FIELD_REP;
}

static int mr_demo_row(void *arg, const char *const *vals, struct mr_err *err)
{
	struct mr_demo_cli *d = arg;

	d->line++;
	d->rows++;
	if (strcmp(d->entity, "reps") == 0 && d->col_user >= 0 && d->col_id >= 0)
		mr_demo_user_of(d, vals);
	if (d->roster)
		mr_hist_roster_row(d->roster, vals);
	if (d->table)
		return mr_table_row(d->table, d->ncols, vals, err);
	mr_progress_update(&d->bar, 0, d->rows);
	return mr_importer_row(d->im, d->ncols, vals, d->line, err);
}

static int mr_demo_end(void *arg, const char *entity, struct mr_err *err)
{
	struct mr_demo_cli *d = arg;
	struct mr_import_report rep;
	size_t i;
	json_t *e;
	int rc;

	if (d->table) {
		rc = mr_table_close(d->table, err);
		d->table = NULL;
		return rc;
	}
	rc = mr_importer_finish(d->im, &rep, err);
	mr_importer_free(d->im);
	d->im = NULL;
	if (rc < 0)
		return rc;
	if (d->bar.tty)
		fputc('\n', stderr);
	printf("%-12s %8lld rows  %8lld created  %6lld failed  %6.1f s\n", entity,
	       (long long)rep.rows, (long long)rep.created, (long long)rep.failed,
	       (double)rep.took_us / 1e6);
	json_array_foreach(rep.errors, i, e) {
		if (i >= 5)
			break;
		fprintf(stderr, "  line %lld: %s\n", (long long)json_integer_value(json_object_get(e, "line")),
			json_string_value(json_object_get(e, "message")));
	}
	d->failed += rep.failed;
	mr_import_report_release(&rep);
	return 0;
}

struct mr_demo_accounts {
	struct mr_demo_cli *d;
	const char *hash;
	int64_t created;
};

static int mr_demo_accounts_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	static const struct { const char *login, *name; int role; } staff[] = {
		{ "admin", "管理员 Admin", MR_ROLE_ADMIN },
		{ "compliance", "合规 Compliance", MR_ROLE_COMPLIANCE },
		{ "analyst", "分析 Analyst", MR_ROLE_ANALYST },
		{ "marketing", "市场 Marketing", MR_ROLE_MARKETING },
	};
	struct mr_demo_accounts *a = arg;
	struct mr_user u;
	char hash[MR_PASSWORD_HASH_MAX];
	int64_t id;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < sizeof(staff) / sizeof(staff[0]) + a->d->nusers; i++) {
		memset(&u, 0, sizeof(u));
		if (i < sizeof(staff) / sizeof(staff[0])) {
			snprintf(u.login, sizeof(u.login), "%s", staff[i].login);
			snprintf(u.name, sizeof(u.name), "%s", staff[i].name);
			u.role = staff[i].role;
		} else {
			const struct mr_demo_user *du = &a->d->users[i - sizeof(staff) / sizeof(staff[0])];

			snprintf(u.login, sizeof(u.login), "%s", du->login);
			snprintf(u.name, sizeof(u.name), "%s", du->name);
			snprintf(u.rep_id, sizeof(u.rep_id), "%s", du->rep);
			u.role = du->role;
		}
		if (mr_user_by_login(c, u.login, &u, hash, err) == 0)
			continue; /* kept as it is: the demo never changes an existing account */
		mr_err_clear(err);
		rc = mr_user_create(c, &u, a->hash, &id, err);
		a->created += rc == 0;
	}
	return rc;
}

static int mr_demo_has_hcps(struct mr_store *s, int *yes, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	int64_t n = 0;
	int rc = mr_store_acquire(s, &c, err);

	if (rc == 0) {
		rc = mr_conn_query_int(c, "SELECT COUNT(*) FROM (SELECT 1 FROM hcps LIMIT 1) x", NULL, 0,
				       &n, err);
		mr_store_release(s, c);
	}
	*yes = n > 0;
	return rc;
}

struct mr_demo_args {
	struct mr_demo_opts world;
	const char *password;
	int if_empty;
	int64_t history_days;  /* 0: no history */
	double touches;        /* per doctor per year; 0: the generator's default */
};

/* The history's window: --history-days days up to the world's now, seeded by --seed. */
static void mr_demo_hist_opts(const struct mr_demo_args *a, struct mr_hist_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->seed = a->world.seed;
	o->to_us = a->world.now_us;
	o->from_us = o->to_us - a->history_days * 86400 * MR_US_PER_S;
	o->touches_per_year = a->touches;
}

static void mr_demo_hist_progress(void *arg, int64_t events)
{
	mr_progress_update(arg, 0, events);
}

/* The audit record of the history: its counts, kept as the digest of what it did. */
struct mr_demo_hist_audit {
	const struct mr_keys *keys;
	json_t *what;
};

static int mr_demo_hist_audit_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_demo_hist_audit *a = arg;
	unsigned char after[MR_AUDIT_DIGEST];
	struct mr_audit_rec rec = { 0 };

	mr_audit_digest(a->keys, a->what, after);
	rec.login = "demo";
	rec.action = "events.import";
	rec.entity = "events";
	rec.after = after;
	return mr_audit_append(c, a->keys, &rec, NULL, err);
}

static void mr_demo_hist_print(const struct mr_hist_roster *r, const struct mr_demo_args *a,
			       const struct mr_hist_load_report *rep, int64_t roster_us)
{
	double secs = (double)rep->took_us / 1e6, write = (double)rep->write_us / 1e6;

	printf("history: %lld events (%lld stored, %lld already there), %lld meetings, %zu doctors,"
	       " %lld days: doctors read in %.1f s, generated in %.1f s, stored in %.1f s"
	       " (%.0f events/s overall)\n",
	       (long long)rep->events, (long long)rep->stored, (long long)rep->duplicates,
	       (long long)rep->meetings, r->n, (long long)a->history_days, (double)roster_us / 1e6,
	       secs - write, write, secs > 0 ? (double)rep->events / secs : 0);
}

/* Reads the world's doctors back from the store and appends their history to the event log. */
static int mr_demo_history(struct mr_demo_cli *d, const struct mr_demo_args *a, struct mr_err *err)
{
	struct mr_progress bar;
	struct mr_hist_load_opts lo = { d->store, &d->keys, 20000, mr_now_us(), mr_demo_hist_progress, &bar };
	struct mr_hist_load_report rep = { 0 };
	struct mr_demo_hist_audit au = { &d->keys, NULL };
	struct mr_hist_roster r;
	struct mr_hist_opts o;
	struct mr_conn *c = NULL;
	int64_t t0 = mr_mono_us(), roster_us;
	int rc;

	mr_demo_hist_opts(a, &o);
	mr_hist_roster_init(&r, a->world.now_us);
	rc = mr_store_acquire(d->store, &c, err);
	if (rc == 0) {
		rc = mr_hist_roster_load(&r, c, err);
		mr_store_release(d->store, c);
	}
	roster_us = mr_mono_us() - t0;
	mr_progress_init(&bar, "history", 0);
	if (rc == 0)
		rc = mr_hist_store(&o, &r, &lo, &rep, err);
	mr_progress_done(&bar);
	if (rc == 0) {
		au.what = json_pack("{s:s, s:I, s:I, s:I, s:I}", "source", "demo", "days",
				    (json_int_t)a->history_days, "events", (json_int_t)rep.events,
				    "stored", (json_int_t)rep.stored, "duplicates", (json_int_t)rep.duplicates);
		rc = mr_store_write(d->store, mr_demo_hist_audit_fn, &au, err);
		json_decref(au.what);
	}
	if (rc == 0)
		mr_demo_hist_print(&r, a, &rep, roster_us);
	mr_hist_roster_release(&r);
	return rc;
}

/* --csv: the history of the doctors collected from the world's rows, as DIR/events.ndjson. */
static int mr_demo_history_csv(struct mr_demo_cli *d, const struct mr_demo_args *a, struct mr_err *err)
{
	struct mr_hist_load_report rep = { 0 };
	struct mr_hist_opts o;
	char path[4096];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/events.ndjson", d->csv_dir);
	f = fopen(path, "w");
	if (!f)
		return mr_err_set(err, MR_EIO, "cannot write %s: %m", path);
	(void)setvbuf(f, NULL, _IOFBF, 1 << 20);
	mr_demo_hist_opts(a, &o);
	rc = mr_hist_write_ndjson(&o, d->roster, f, &rep, err);
	if (fclose(f) != 0 && rc == 0)
		rc = mr_err_set(err, MR_EIO, "cannot write %s: %m", path);
	if (rc == 0)
		printf("history: %lld events, %lld meetings, %zu doctors, %lld days in %s (%.1f s)\n",
		       (long long)rep.events, (long long)rep.meetings, d->roster->n,
		       (long long)a->history_days, path, (double)rep.took_us / 1e6);
	return rc;
}

/* Opens the store; 1 when --if-empty finds HCPs there already (nothing to do). */
static int mr_demo_open(struct mr_cli *cli, struct mr_demo_cli *d, const struct mr_demo_args *a,
			struct mr_err *err)
{
	int has = 0;
	int rc;

	if (d->csv_dir) {
		if (mkdir(d->csv_dir, 0755) < 0 && errno != EEXIST)
			return mr_err_set(err, MR_EIO, "cannot create %s: %m", d->csv_dir);
		return 0;
	}
	cli->store.bulk_load = 1;
	rc = mr_cli_open(cli, 1, &d->store, &d->keys, err);
	if (rc == 0 && a->if_empty)
		rc = mr_demo_has_hcps(d->store, &has, err);
	if (rc == 0 && has) {
		printf("demo: the database already has HCPs; nothing to do\n");
		return 1;
	}
	return rc;
}

static int mr_demo_run(struct mr_cli *cli, struct mr_demo_cli *d, const struct mr_demo_args *a,
		       struct mr_err *err)
{
	struct mr_demo_sink sink = { d, mr_demo_begin, mr_demo_row, mr_demo_end };
	struct mr_demo_stats stats = { 0 };
	struct mr_demo_accounts acc = { d, NULL, 0 };
	char hash[MR_PASSWORD_HASH_MAX];
	int64_t t0 = mr_mono_us(), ncontent = 0;
	int rc = mr_demo_open(cli, d, a, err);

	if (rc != 0)
		return rc < 0 ? rc : 0;
	mr_progress_init(&d->bar, "demo", 0);
	rc = mr_demo_world(&a->world, &sink, &stats, err);
	if (rc == 0)
		rc = mr_demo_content(a->world.seed, a->world.now_us, &sink, &ncontent, err);
	if (rc == 0 && d->csv_dir && a->history_days > 0)
		rc = mr_demo_history_csv(d, a, err);
	if (rc < 0 || d->csv_dir)
		return rc;
	rc = mr_password_hash(a->password, hash, err);
	acc.hash = hash;
	if (rc == 0)
		rc = mr_store_write(d->store, mr_demo_accounts_fn, &acc, err);
	if (rc == 0)
		printf("demo: %lld HCPs (%lld planted duplicates), %lld reps, %lld content items;"
		       " %lld accounts created, password '%s' (admin, compliance, analyst, marketing,"
		       " mgr.*, rep.*); %.1f s\n",
		       (long long)stats.hcps, (long long)stats.duplicates, (long long)stats.reps,
		       (long long)ncontent, (long long)acc.created, a->password,
		       (double)(mr_mono_us() - t0) / 1e6);
	if (rc == 0 && a->history_days > 0)
		rc = mr_demo_history(d, a, err);
	if (rc == 0) {
		int64_t ntags = 0;

		rc = mr_demo_tags(d->store, mr_now_us(), &ntags, err);
		if (rc == 0 && ntags)
			printf("tags: %lld defined (the server computes them)\n", (long long)ntags);
	}
	return rc;
}

/* --history-days (d) or --touches (t); 1 when arg is a value it takes. */
static int mr_demo_hist_opt(int opt, const char *arg, struct mr_demo_args *a)
{
	char *end = NULL;

	if (opt == 'd')
		return mr_parse_i64(arg, 0, MR_HIST_MAX_DAYS, &a->history_days) == 0;
	a->touches = strtod(arg, &end);
	return end && !*end && a->touches > 0 && a->touches <= MR_HIST_MAX_TOUCHES;
}

int mr_cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = { MR_CLI_COMMON_LONGOPTS,
					       { "hcps", required_argument, NULL, 'n' },
					       { "seed", required_argument, NULL, 's' },
					       { "dup-share", required_argument, NULL, 'u' },
					       { "csv", required_argument, NULL, 'c' },
					       { "if-empty", no_argument, NULL, 'i' },
					       { "password", required_argument, NULL, 'p' },
					       { "history-days", required_argument, NULL, 'd' },
					       { "touches", required_argument, NULL, 't' },
					       { "as-of", required_argument, NULL, 'a' },
					       { "help", no_argument, NULL, 'h' },
					       { 0 } };
	struct mr_demo_args a = { { 35000, 1, 0.05, 0 }, "medreach-demo", 0, 365, 0 };
	struct mr_hist_roster roster;
	struct mr_demo_cli d;
	struct mr_cli cli;
	struct mr_err err;
	int64_t n;
	int rc;

	a.world.now_us = mr_now_us();
	memset(&d, 0, sizeof(d));
	mr_cli_init(&cli);
	mr_err_clear(&err);
	for (;;) {
		int opt = getopt_long(argc, argv, "h", opts, NULL);
		char *end = NULL;

		if (opt == -1)
			break;
		if (opt == 'h') {
			fputs(mr_demo_help, stdout);
			return 0;
		}
		if (opt == 'n' && mr_parse_i64(optarg, 1, 10000000, &a.world.hcps) == 0)
			continue;
		if (opt == 's' && mr_parse_i64(optarg, 0, INT64_MAX, &n) == 0) {
			a.world.seed = (uint64_t)n;
			continue;
		}
		if (opt == 'u') {
			a.world.dup_share = strtod(optarg, &end);
			if (end && !*end && a.world.dup_share >= 0 && a.world.dup_share <= 0.5)
				continue;
		}
		if (opt == 'c') {
			d.csv_dir = optarg;
			continue;
		}
		if (opt == 'i') {
			a.if_empty = 1;
			continue;
		}
		if (opt == 'p' && strlen(optarg) >= MR_PASSWORD_MIN) {
			a.password = optarg;
			continue;
		}
		if ((opt == 'd' || opt == 't') && mr_demo_hist_opt(opt, optarg, &a))
			continue;
		if (opt == 'a' && mr_time_parse(optarg, 8 * 3600, &a.world.now_us) == 0 && a.world.now_us <= mr_now_us())
			continue;
		if (!mr_cli_common_opt(&cli, opt, optarg)) {
			fputs(mr_demo_help, stderr);
			return 2;
		}
	}
	mr_hist_roster_init(&roster, a.world.now_us);
	if (d.csv_dir && a.history_days > 0)
		d.roster = &roster;
	rc = mr_demo_run(&cli, &d, &a, &err);
	mr_hist_roster_release(&roster);
	mr_importer_free(d.im);
	free(d.users);
	if (d.store) {
		mr_keys_wipe(&d.keys);
		mr_store_close(d.store);
	}
	if (rc < 0)
		return mr_cli_fail("demo", &err);
	return d.failed > 0 ? 1 : 0;
}
