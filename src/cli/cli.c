/* See cli.h. */
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"

void mr_cli_init(struct mr_cli *c)
{
	const char *v;

	memset(c, 0, sizeof(*c));
	c->db = "sqlite:var/medreach.db";
	c->key_file = "var/medreach.key";
	c->log_level = "info";
	v = getenv("MEDREACH_DB");
	if (v && *v)
		c->db = v;
	v = getenv("MEDREACH_KEY_FILE");
	if (v && *v)
		c->key_file = v;
	v = getenv("MEDREACH_LOG_LEVEL");
	if (v && *v)
		c->log_level = v;
}

int mr_cli_common_opt(struct mr_cli *c, int opt, const char *arg)
{
	switch (opt) {
	case 1001:
		c->db = arg;
		return 1;
	case 1002:
		c->key_file = arg;
		return 1;
	case 1003:
		c->log_level = arg;
		return 1;
	default:
		return 0;
	}
}

/* Makes the directory that will hold path (one level), for the default var/ layout. */
static void mr_cli_mkdir_for(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');

	if (!slash || slash == path || (size_t)(slash - path) >= sizeof(dir))
		return;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	mkdir(dir, 0700);
}

int mr_cli_open(struct mr_cli *c, int create_key, struct mr_store **s, struct mr_keys *k,
		struct mr_err *err)
{
	int level = mr_log_parse_level(c->log_level);
	int rc;

	*s = NULL;
	if (level < 0)
		return mr_err_set(err, MR_EINVAL, "--log-level '%s': use debug, info, warn, error or off",
				  c->log_level);
	mr_log_set_level((enum mr_log_level)level);
	rc = mr_crypto_init(err);
	if (rc < 0)
		return rc;
	if (create_key)
		mr_cli_mkdir_for(c->key_file);
	rc = mr_keys_load(c->key_file, create_key, k, err);
	if (rc < 0)
		return rc;
	rc = mr_store_open(s, c->db, &c->store, err);
	if (rc < 0)
		return rc;
	rc = mr_store_migrate(*s, err);
	if (rc < 0) {
		mr_store_close(*s);
		*s = NULL;
	}
	return rc;
}

int mr_cli_fail(const char *cmd, const struct mr_err *err)
{
	fprintf(stderr, "medreach %s: %s\n", cmd, err->msg[0] ? err->msg : "failed");
	return 1;
}

int mr_cli_read_secret(char *out, size_t n, struct mr_err *err)
{
	size_t len;

	if (!fgets(out, (int)n, stdin))
		return mr_err_set(err, MR_EINVAL, "expected the password on standard input");
	len = strlen(out);
	if (len == n - 1 && out[len - 1] != '\n')
		return mr_err_set(err, MR_ETOOBIG, "the password on standard input is too long");
	while (len && (out[len - 1] == '\n' || out[len - 1] == '\r'))
		out[--len] = '\0';
	return 0;
}
