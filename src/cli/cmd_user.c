/*
 * medreach user add|list|passwd: accounts from the command line, for the
 * first admin and for scripts. Passwords come on stdin, never as
 * arguments (which other users can see in the process list). Changes are
 * audited like those made through the API, as the "cli" actor.
 */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/role.h"
#include "auth/user.h"
#include "base/time.h"
#include "cli/cli.h"

static const char mr_user_help[] =
	"usage: medreach user add LOGIN --role ROLE [--rep REP_ID] [--name NAME] [options]\n"
	"       medreach user list [options]\n"
	"       medreach user passwd LOGIN [options]\n\n"
	"add     creates an account; the password is read from standard input.\n"
	"        ROLE: admin, manager, field_rep, inside_rep, msl, marketing, compliance, analyst\n"
	"list    prints every account\n"
	"passwd  sets a new password, read from standard input, and ends the account's sessions\n\n"
	"options:\n" MR_CLI_COMMON_HELP;

struct mr_user_cli_job {
	struct mr_user user;
	const struct mr_keys *keys;
	char hash[MR_PASSWORD_HASH_MAX];
	int64_t id;
	int passwd; /* 1: change the password of user.login */
};

static int mr_user_cli_write(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_user_cli_job *j = arg;
	struct mr_audit_rec rec;
	struct mr_user_patch patch = { NULL, -1, NULL, -1, j->hash };
	struct mr_val id_arg;
	char id[24];
	int rc;

	if (j->passwd) {
		rc = mr_user_by_login(c, j->user.login, &j->user, NULL, err);
		if (rc == MR_ENOTFOUND)
			return mr_err_set(err, MR_ENOTFOUND, "there is no account '%s'", j->user.login);
		if (rc == 0)
			rc = mr_user_update(c, j->user.id, &patch, mr_now_us(), err);
		id_arg = mr_v_int(j->user.id);
		if (rc == 0)
			rc = mr_conn_exec(c, "DELETE FROM sessions WHERE user_id = ?", &id_arg, 1, NULL, err);
		j->id = j->user.id;
	} else {
		rc = mr_user_create(c, &j->user, j->hash, &j->id, err);
	}
	if (rc < 0)
		return rc;
	memset(&rec, 0, sizeof(rec));
	snprintf(id, sizeof(id), "%lld", (long long)j->id);
	rec.login = "cli";
	rec.action = j->passwd ? "user.password" : "user.create";
	rec.entity = "user";
	rec.entity_id = id;
	return mr_audit_append(c, j->keys, &rec, NULL, err);
}

static int mr_user_list_all(struct mr_store *s, struct mr_err *err)
{
	struct mr_user_filter f = { -1, NULL, 0, 500 };
	struct mr_conn *c = NULL;
	int rc = mr_store_acquire(s, &c, err);

	if (rc < 0)
		return rc;
	printf("%-6s %-24s %-12s %-10s %-9s %s\n", "ID", "LOGIN", "ROLE", "REP", "STATUS", "NAME");
	do {
		json_t *items = json_array();
		size_t i;
		json_t *u;
		int64_t next = 0;
		rc = mr_user_list(c, &f, items, &next, err);
		json_array_foreach(items, i, u) {
			json_t *rep = json_object_get(u, "rep_id");
			printf("%-6lld %-24s %-12s %-10s %-9s %s\n",
			       (long long)json_integer_value(json_object_get(u, "id")),
			       json_string_value(json_object_get(u, "login")),
			       json_string_value(json_object_get(u, "role")),
			       json_is_string(rep) ? json_string_value(rep) : "-",
			       json_string_value(json_object_get(u, "status")),
			       json_string_value(json_object_get(u, "name")));
		}
		json_decref(items);
		f.after_id = next;
	} while (rc == 0 && f.after_id);
	mr_store_release(s, c);
	return rc;
}

/* Checks what `user add` was given; fills j->user. */
static int mr_user_add_prepare(struct mr_user_cli_job *j, const char *login, const char *role,
			       const char *rep, const char *name, struct mr_err *err)
{
	int rc;

	snprintf(j->user.login, sizeof(j->user.login), "%s", login);
	rc = mr_user_check_login(j->user.login, err);
	if (rc < 0)
		return rc;
	if (!role)
		return mr_err_set(err, MR_EINVAL, "--role is required");
	j->user.role = mr_role_parse(role);
	if (j->user.role < 0)
		return mr_err_set(err, MR_EINVAL, "unknown role '%s'", role);
	if (rep) {
		rc = mr_user_check_rep_id(rep, err);
		if (rc < 0)
			return rc;
		snprintf(j->user.rep_id, sizeof(j->user.rep_id), "%s", rep);
	}
	snprintf(j->user.name, sizeof(j->user.name), "%s", name ? name : j->user.login);
	return mr_user_check_name(j->user.name, err);
}

struct mr_user_args {
	const char *sub, *login, *role, *rep, *name;
};

/* Parses the options into *a and cli; returns -1 to go on, else the exit status. */
static int mr_user_parse(int argc, char **argv, struct mr_cli *cli, struct mr_user_args *a)
{
	static const struct option opts[] = { MR_CLI_COMMON_LONGOPTS,
					       { "role", required_argument, NULL, 'r' },
					       { "rep", required_argument, NULL, 'p' },
					       { "name", required_argument, NULL, 'n' },
					       { "help", no_argument, NULL, 'h' },
					       { 0 } };

	for (;;) {
		int opt = getopt_long(argc, argv, "h", opts, NULL);
		if (opt == -1)
			break;
		if (opt == 'h') {
			fputs(mr_user_help, stdout);
			return 0;
		} else if (opt == 'r') {
			a->role = optarg;
		} else if (opt == 'p') {
			a->rep = optarg;
		} else if (opt == 'n') {
			a->name = optarg;
		} else if (!mr_cli_common_opt(cli, opt, optarg)) {
			fputs(mr_user_help, stderr);
			return 2;
		}
	}
	a->sub = optind < argc ? argv[optind] : NULL;
	a->login = optind + 1 < argc ? argv[optind + 1] : NULL;
	if (!a->sub || (strcmp(a->sub, "list") != 0 && !a->login) ||
	    (strcmp(a->sub, "add") != 0 && strcmp(a->sub, "list") != 0 && strcmp(a->sub, "passwd") != 0)) {
		fputs(mr_user_help, stderr);
		return 2;
	}
	return -1;
}

/* Everything `add` and `passwd` need before the database: the account and the hashed password. */
static int mr_user_prepare(struct mr_user_cli_job *j, const struct mr_user_args *a, struct mr_err *err)
{
	char password[MR_PASSWORD_MAX + 2];
	int rc = 0;

	if (strcmp(a->sub, "add") == 0) {
		rc = mr_user_add_prepare(j, a->login, a->role, a->rep, a->name, err);
	} else {
		snprintf(j->user.login, sizeof(j->user.login), "%s", a->login);
		rc = mr_user_check_login(j->user.login, err);
		j->passwd = 1;
	}
	if (rc == 0)
		rc = mr_cli_read_secret(password, sizeof(password), err);
	if (rc == 0)
		rc = mr_password_policy(password, err);
	if (rc == 0)
		rc = mr_password_hash(password, j->hash, err);
	sodium_memzero(password, sizeof(password));
	return rc;
}

int mr_cmd_user(int argc, char **argv)
{
	struct mr_user_args a = { NULL, NULL, NULL, NULL, NULL };
	struct mr_user_cli_job j;
	struct mr_store *s = NULL;
	struct mr_keys keys;
	struct mr_cli cli;
	struct mr_err err;
	int list;
	int rc;

	mr_cli_init(&cli);
	mr_err_clear(&err);
	memset(&j, 0, sizeof(j));
	rc = mr_user_parse(argc, argv, &cli, &a);
	if (rc >= 0)
		return rc;
	list = strcmp(a.sub, "list") == 0;
	rc = list ? 0 : mr_user_prepare(&j, &a, &err);
	if (rc == 0)
		rc = mr_cli_open(&cli, 1, &s, &keys, &err);
	if (rc == 0 && list) {
		rc = mr_user_list_all(s, &err);
	} else if (rc == 0) {
		j.keys = &keys;
		rc = mr_store_write(s, mr_user_cli_write, &j, &err);
		if (rc == 0)
			printf("%s %s (id %lld)\n", j.passwd ? "password changed for" : "created",
			       j.user.login, (long long)j.id);
	}
	if (s) {
		mr_keys_wipe(&keys);
		mr_store_close(s);
	}
	return rc < 0 ? mr_cli_fail("user", &err) : 0;
}
