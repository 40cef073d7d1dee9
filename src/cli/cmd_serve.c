/*
 * medreach serve: opens the store (migrating it), makes the first admin
 * account on an empty database (printing its password once), starts the
 * group-commit writer and the HTTP server, and runs until SIGINT/SIGTERM,
 * then finishes requests in flight and queued writes before exiting.
 */
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/role.h"
#include "auth/user.h"
#include "base/log.h"
#include "base/str.h"
#include "base/time.h"
#include "cli/cli.h"
#include "http/app.h"
#include "http/server.h"
#include "engine/evindex.h"
#include "engine/hcpdir.h"
#include "engine/tags.h"
#include "store/writer.h"

static const char mr_serve_help[] =
	"usage: medreach serve [options]\n\n"
	"Serves the web UI and the JSON API (base path /api/v1).\n"
	"On an empty database it creates the account 'admin' and prints its password once.\n\n"
	"options:\n"
	"  --listen HOST:PORT  where to listen (env MEDREACH_LISTEN; default 127.0.0.1:8080)\n"
	"  --web DIR           the UI's static files (env MEDREACH_WEB; default web)\n"
	"  --threads N         HTTP worker threads (default 8)\n"
	"  --session-hours N   how long a login lasts (default 12)\n"
	"  --secure-cookies    mark cookies Secure (when served over HTTPS)\n"
	"  --read-audit-ms N   commit the audit records of reads within N ms, together\n"
	"                      (default 20); 0 commits each before the data is sent\n"
	"  --snapshot FILE     where the event index's snapshot goes, so that a restart\n"
	"                      reads it instead of the whole event log; 'off': none\n"
	"                      (env MEDREACH_SNAPSHOT; default: beside a SQLite database,\n"
	"                      DB.snapshot; for PostgreSQL, in the key file's directory)\n" MR_CLI_COMMON_HELP;

struct mr_bootstrap_job {
	struct mr_user user;
	const struct mr_keys *keys;
	char password[24];
	char hash[MR_PASSWORD_HASH_MAX];
	int created;
};

static int mr_bootstrap_write(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_bootstrap_job *j = arg;
	struct mr_audit_rec rec;
	int64_t n = 0, id = 0;
	char ids[24];
	int rc = mr_user_count(c, &n, err);

	if (rc < 0 || n > 0)
		return rc;
	snprintf(j->user.login, sizeof(j->user.login), "admin");
	snprintf(j->user.name, sizeof(j->user.name), "Administrator");
	j->user.role = MR_ROLE_ADMIN;
	rc = mr_user_create(c, &j->user, j->hash, &id, err);
	if (rc < 0)
		return rc;
	memset(&rec, 0, sizeof(rec));
	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	rec.login = "serve";
	rec.action = "user.create";
	rec.entity = "user";
	rec.entity_id = ids;
	j->created = 1;
	return mr_audit_append(c, j->keys, &rec, NULL, err);
}

/* Creates the first admin when there is no account at all. */
static int mr_serve_bootstrap(struct mr_store *s, const struct mr_keys *keys, struct mr_err *err)
{
	struct mr_bootstrap_job j;
	struct mr_conn *c = NULL;
	int64_t users = 0;
	int rc;

	memset(&j, 0, sizeof(j));
	j.keys = keys;
	rc = mr_store_acquire(s, &c, err);
	if (rc == 0) {
		rc = mr_user_count(c, &users, err);
		mr_store_release(s, c);
	}
	if (rc < 0 || users > 0)
		return rc;
	mr_password_generate(j.password, sizeof(j.password));
	rc = mr_password_hash(j.password, j.hash, err);
	if (rc == 0)
		rc = mr_store_write(s, mr_bootstrap_write, &j, err); /* counts again, inside the transaction */
	if (rc == 0 && j.created) {
		printf("medreach: created the first account\n"
		       "  login:    admin\n"
		       "  password: %s\n"
		       "  (shown once; change it under Users after logging in)\n",
		       j.password);
		fflush(stdout);
	}
	memset(j.password, 0, sizeof(j.password));
	return rc;
}

static int mr_serve_parse(int argc, char **argv, struct mr_cli *cli, struct mr_server_opts *o,
			  struct mr_err *err)
{
	static const struct option opts[] = { MR_CLI_COMMON_LONGOPTS,
					       { "listen", required_argument, NULL, 'l' },
					       { "web", required_argument, NULL, 'w' },
					       { "threads", required_argument, NULL, 't' },
					       { "session-hours", required_argument, NULL, 's' },
					       { "secure-cookies", no_argument, NULL, 'S' },
					       { "read-audit-ms", required_argument, NULL, 'R' },
					       { "snapshot", required_argument, NULL, 'P' },
					       { "help", no_argument, NULL, 'h' },
					       { 0 } };
	int64_t v;

	o->listen = getenv("MEDREACH_LISTEN");
	o->web_root = getenv("MEDREACH_WEB");
	o->snapshot = getenv("MEDREACH_SNAPSHOT");
	for (;;) {
		int opt = getopt_long(argc, argv, "h", opts, NULL);
		if (opt == -1)
			break;
		switch (opt) {
		case 'h':
			fputs(mr_serve_help, stdout);
			return 1;
		case 'l':
			o->listen = optarg;
			break;
		case 'w':
			o->web_root = optarg;
			break;
		case 't':
			if (mr_parse_i64(optarg, 1, 256, &v) < 0)
				return mr_err_set(err, MR_EINVAL, "--threads must be 1 to 256");
			o->threads = (int)v;
			break;
		case 's':
			if (mr_parse_i64(optarg, 1, 24 * 30, &v) < 0)
				return mr_err_set(err, MR_EINVAL, "--session-hours must be 1 to 720");
			o->session_ttl_us = v * 3600 * MR_US_PER_S;
			break;
		case 'S':
			o->secure_cookies = 1;
			break;
		case 'P':
			o->snapshot = optarg;
			break;
		case 'R':
			if (mr_parse_i64(optarg, 0, 1000, &v) < 0)
				return mr_err_set(err, MR_EINVAL, "--read-audit-ms must be 0 to 1000");
			o->read_audit_us = v * 1000;
			o->read_audit_set = 1;
			break;
		default:
			if (!mr_cli_common_opt(cli, opt, optarg))
				return mr_err_set(err, MR_EINVAL, "unknown option; see medreach serve --help");
		}
	}
	if (o->listen && !*o->listen)
		o->listen = NULL;
	if (o->web_root && !*o->web_root)
		o->web_root = NULL;
	return 0;
}

/*
 * Where the snapshot goes unless --snapshot says: beside a SQLite file
 * (path.snapshot); for PostgreSQL in the key file's directory, named by a
 * hash of the URL (so several databases served from one directory keep
 * their own). Into buf; NULL for 'off'.
 */
static const char *mr_serve_snapshot_path(const struct mr_cli *cli, const char *given, char *buf,
					  size_t size)
{
	unsigned char h[8];
	const char *slash;

	if (given && *given)
		return strcmp(given, "off") == 0 ? NULL : given;
	if (strncmp(cli->db, "sqlite:", 7) == 0) {
		snprintf(buf, size, "%s.snapshot", cli->db + 7);
		return buf;
	}
	crypto_generichash(h, sizeof(h), (const unsigned char *)cli->db, strlen(cli->db), NULL, 0);
	slash = strrchr(cli->key_file, '/');
	snprintf(buf, size, "%.*s%smedreach-%02x%02x%02x%02x%02x%02x%02x%02x.snapshot",
		 slash ? (int)(slash - cli->key_file) : 0, cli->key_file, slash ? "/" : "", h[0], h[1], h[2],
		 h[3], h[4], h[5], h[6], h[7]);
	return buf;
}

/*
 * A serving process allocates and frees large arrays over and over (a
 * full tag round: a value and a due time per doctor and tag, on worker
 * threads; a segment's member list). glibc would raise its mmap threshold
 * to the largest block freed and then keep such blocks in its heaps and
 * per-thread arenas, where freeing them returns nothing to the system:
 * resident memory grew by ~300 MB over a few recomputes. A fixed
 * threshold maps every block from 1 MiB up on its own (freed, it is
 * unmapped), and two arenas per core bound the rest.
 */
static void mr_serve_malloc_policy(void)
{
	mallopt(M_ARENA_MAX, 2);
}

/* The last snapshot, once the writer has stopped (every claim settled). */
static void mr_serve_save_snapshot(struct mr_app *app)
{
	struct mr_err err;

	mr_err_clear(&err);
	if (mr_evindex_save(app->evindex, app->store, &err) < 0)
		mr_log_warn("event=snapshot_not_saved error=\"%s\"", err.msg);
}

/* Serves until SIGINT or SIGTERM arrives; the signals are blocked in every thread. */
static int mr_serve_run(struct mr_app *app, struct mr_err *err)
{
	struct mr_server *server = NULL;
	sigset_t set;
	int sig = 0;
	int rc = mr_writer_start(&app->writer, app->store, err);

	if (rc < 0)
		return rc;
	mr_writer_set_linger(app->writer, app->opts.read_audit_us);
	mr_app_start(app);
	rc = mr_server_start(&server, app, err);
	if (rc < 0) {
		mr_app_stop(app);         /* the follower writes through the writer */
		mr_tags_stop(app->tags); /* it logs through the writer */
		mr_writer_stop(app->writer);
		return rc;
	}
	printf("medreach: serving http://%s (%s) — Ctrl-C stops\n", app->opts.listen,
	       mr_store_kind_name(app->store));
	fflush(stdout);
	mr_log_info("event=listen addr=%s port=%d backend=%s threads=%d", app->opts.listen,
		    mr_server_port(server), mr_store_kind_name(app->store), app->opts.threads);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	mr_log_buffer_start();
	sigwait(&set, &sig);
	mr_log_info("event=shutdown signal=%d", sig);
	mr_server_stop(server);
	mr_app_stop(app);         /* the follower writes through the writer */
	mr_tags_stop(app->tags); /* it logs through the writer */
	mr_writer_stop(app->writer);
	app->writer = NULL;
	mr_serve_save_snapshot(app);
	mr_log_buffer_stop();
	return 0;
}

int mr_cmd_serve(int argc, char **argv)
{
	struct mr_server_opts opts;
	char snapshot[4096];
	struct mr_store *s = NULL;
	struct mr_keys keys;
	struct mr_app app;
	struct mr_cli cli;
	struct mr_err err;
	sigset_t set;
	int rc;

	mr_cli_init(&cli);
	mr_err_clear(&err);
	memset(&opts, 0, sizeof(opts));
	memset(&app, 0, sizeof(app));
	rc = mr_serve_parse(argc, argv, &cli, &opts, &err);
	if (rc > 0)
		return 0;
	if (rc < 0)
		return mr_cli_fail("serve", &err);
	opts.snapshot = mr_serve_snapshot_path(&cli, opts.snapshot, snapshot, sizeof(snapshot));
	mr_serve_malloc_policy();
	/* Block the stop signals before any thread starts, so only sigwait sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	cli.store.background_checkpoint = 1;
	rc = mr_cli_open(&cli, 1, &s, &keys, &err);
	if (rc == 0)
		rc = mr_serve_bootstrap(s, &keys, &err);
	if (rc == 0)
		rc = mr_app_init(&app, s, &keys, &opts, &err);
	mr_keys_wipe(&keys);
	if (rc == 0)
		rc = mr_serve_run(&app, &err);
	mr_app_release(&app);
	mr_store_close(s);
	return rc < 0 ? mr_cli_fail("serve", &err) : 0;
}
