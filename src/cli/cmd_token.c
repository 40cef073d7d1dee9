/*
 * medreach token create|list|revoke: API tokens for integrations. The
 * secret is printed once, on create, and cannot be shown again.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/token.h"
#include "base/str.h"
#include "base/time.h"
#include "cli/cli.h"

static const char mr_token_help[] =
	"usage: medreach token create LOGIN [--name NAME] [--ttl-days N] [options]\n"
	"       medreach token list LOGIN [options]\n"
	"       medreach token revoke TOKEN_ID [options]\n\n"
	"create  prints a new API token for LOGIN, once; send it as 'Authorization: Bearer <token>'\n"
	"list    shows LOGIN's tokens (never their secrets)\n"
	"revoke  revokes a token by id\n\n"
	"options:\n" MR_CLI_COMMON_HELP;

struct mr_token_cli_job {
	const struct mr_keys *keys;
	const char *login;
	const char *name;
	int64_t ttl_days;
	int64_t id;
	int revoke;
	char secret[MR_SECRET_MAX + 1];
};

static int mr_token_cli_write(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_token_cli_job *j = arg;
	struct mr_audit_rec rec;
	struct mr_user u;
	int64_t now = mr_now_us();
	char id[24];
	int rc;

	if (j->revoke) {
		rc = mr_token_revoke(c, j->id, 0, now, err);
	} else {
		rc = mr_user_by_login(c, j->login, &u, NULL, err);
		if (rc == MR_ENOTFOUND)
			return mr_err_set(err, MR_ENOTFOUND, "there is no account '%s'", j->login);
		if (rc == 0)
			rc = mr_token_create(c, u.id, j->name,
					     j->ttl_days ? now + j->ttl_days * 86400 * MR_US_PER_S : 0,
					     j->secret, &j->id, err);
	}
	if (rc < 0)
		return rc;
	memset(&rec, 0, sizeof(rec));
	snprintf(id, sizeof(id), "%lld", (long long)j->id);
	rec.login = "cli";
	rec.action = j->revoke ? "token.revoke" : "token.create";
	rec.entity = "token";
	rec.entity_id = id;
	return mr_audit_append(c, j->keys, &rec, NULL, err);
}

static int mr_token_cli_list(struct mr_store *s, const char *login, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	struct mr_user u;
	json_t *items = json_array();
	json_t *t;
	size_t i;
	int rc = mr_store_acquire(s, &c, err);

	if (rc == 0) {
		rc = mr_user_by_login(c, login, &u, NULL, err);
		if (rc == 0)
			rc = mr_token_list(c, u.id, items, err);
		mr_store_release(s, c);
	}
	if (rc == 0)
		printf("%-6s %-28s %-22s %-22s %s\n", "ID", "NAME", "CREATED", "EXPIRES", "REVOKED");
	json_array_foreach(items, i, t) {
		json_t *exp = json_object_get(t, "expires_at");
		json_t *rev = json_object_get(t, "revoked_at");
		printf("%-6lld %-28s %-22s %-22s %s\n", (long long)json_integer_value(json_object_get(t, "id")),
		       json_string_value(json_object_get(t, "name")),
		       json_string_value(json_object_get(t, "created_at")),
		       json_is_string(exp) ? json_string_value(exp) : "never",
		       json_is_string(rev) ? json_string_value(rev) : "-");
	}
	json_decref(items);
	return rc;
}

/* Parses the options into j and cli; returns -1 to go on, else the exit status. */
static int mr_token_parse(int argc, char **argv, struct mr_cli *cli, struct mr_token_cli_job *j,
			  const char **sub, const char **arg, struct mr_err *err)
{
	static const struct option opts[] = { MR_CLI_COMMON_LONGOPTS,
					       { "name", required_argument, NULL, 'n' },
					       { "ttl-days", required_argument, NULL, 't' },
					       { "help", no_argument, NULL, 'h' },
					       { 0 } };

	for (;;) {
		int opt = getopt_long(argc, argv, "h", opts, NULL);
		if (opt == -1)
			break;
		if (opt == 'h') {
			fputs(mr_token_help, stdout);
			return 0;
		} else if (opt == 'n') {
			j->name = optarg;
		} else if (opt == 't') {
			if (mr_parse_i64(optarg, 1, 3650, &j->ttl_days) < 0)
				mr_err_set(err, MR_EINVAL, "--ttl-days must be a number of days, 1 to 3650");
		} else if (!mr_cli_common_opt(cli, opt, optarg)) {
			fputs(mr_token_help, stderr);
			return 2;
		}
	}
	*sub = optind < argc ? argv[optind] : NULL;
	*arg = optind + 1 < argc ? argv[optind + 1] : NULL;
	if (!*sub || !*arg ||
	    (strcmp(*sub, "create") != 0 && strcmp(*sub, "list") != 0 && strcmp(*sub, "revoke") != 0)) {
		fputs(mr_token_help, stderr);
		return 2;
	}
	return -1;
}

int mr_cmd_token(int argc, char **argv)
{
	struct mr_token_cli_job j;
	struct mr_store *s = NULL;
	struct mr_keys keys;
	struct mr_cli cli;
	struct mr_err err;
	char login[MR_LOGIN_MAX + 1];
	const char *sub = NULL, *arg = NULL;
	int rc;

	mr_cli_init(&cli);
	mr_err_clear(&err);
	memset(&j, 0, sizeof(j));
	j.name = "cli";
	rc = mr_token_parse(argc, argv, &cli, &j, &sub, &arg, &err);
	if (rc >= 0)
		return rc;
	rc = err.code;
	if (rc == 0 && strcmp(sub, "revoke") == 0) {
		j.revoke = 1;
		if (mr_parse_i64(arg, 1, INT64_MAX, &j.id) < 0)
			rc = mr_err_set(&err, MR_EINVAL, "'%s' is not a token id", arg);
	} else if (rc == 0) {
		snprintf(login, sizeof(login), "%s", arg);
		rc = mr_user_check_login(login, &err);
		j.login = login;
	}
	if (rc == 0)
		rc = mr_cli_open(&cli, 1, &s, &keys, &err);
	if (rc == 0 && strcmp(sub, "list") == 0) {
		rc = mr_token_cli_list(s, login, &err);
	} else if (rc == 0) {
		j.keys = &keys;
		rc = mr_store_write(s, mr_token_cli_write, &j, &err);
		if (rc == 0 && j.revoke)
			printf("revoked token %lld\n", (long long)j.id);
		else if (rc == 0)
			printf("%s\n", j.secret);
	}
	if (s) {
		mr_keys_wipe(&keys);
		mr_store_close(s);
	}
	return rc < 0 ? mr_cli_fail("token", &err) : 0;
}
