/*
 * medreach tasks list: the tasks in the store, oldest first, as a table a
 * person reads (id, type, doctor, assignee, status, priority, due window,
 * reason), filtered by assignee (a rep's external id) and status (one or
 * several, comma separated). Reads only; tasks are made and changed
 * through the API, where roles and scopes apply.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "base/time.h"
#include "cli/cli.h"
#include "tasks/task.h"

static const char mr_tasks_help[] =
	"usage: medreach tasks list [--assignee REP] [--status S[,S...]] [options]\n\n"
	"Lists tasks (work orders), oldest first: id, type, doctor, assignee, status,\n"
	"priority, due window and reason.\n\n"
	"options:\n"
	"  --assignee REP    only the tasks of this rep (external id)\n"
	"  --status S        open, in_progress, done, cancelled or expired (comma separated)\n" MR_CLI_COMMON_HELP;

/* The --status list as a bit per status; -1 when a word is not a status. */
static int mr_tasks_statuses(const char *list)
{
	int bits = 0;

	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char word[24];
		int s;

		if (n >= sizeof(word))
			return -1;
		memcpy(word, p, n);
		word[n] = '\0';
		s = mr_task_status_parse(word);
		if (!s)
			return -1;
		bits |= 1 << s;
		p = end ? end + 1 : p + n;
	}
	return bits;
}

static const char *mr_tasks_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

static void mr_tasks_print(json_t *t)
{
	printf("%-6lld %-15s %-10s %-8s %-12s %-3lld %s .. %s  %s\n", (long long)json_integer_value(json_object_get(t, "id")),
	       mr_tasks_str(t, "type"), mr_tasks_str(t, "hcp"), mr_tasks_str(t, "assignee"), mr_tasks_str(t, "status"),
	       (long long)json_integer_value(json_object_get(t, "priority")), mr_tasks_str(t, "due_from"),
	       mr_tasks_str(t, "due_to"), mr_tasks_str(t, "reason"));
}

/* Prints every page of q. */
static int mr_tasks_list(struct mr_store *s, struct mr_task_query *q, const char *assignee, struct mr_err *err)
{
	struct mr_task_scope all = { MR_SCOPE_ALL, 0, q->now };
	struct mr_conn *c = NULL;
	int64_t next = 0;
	int rc = mr_store_acquire(s, &c, err);

	if (rc == 0 && assignee)
		rc = mr_task_rep_id(c, assignee, &q->assignee_id, err);
	if (rc == 0)
		printf("%-6s %-15s %-10s %-8s %-12s %-3s %s\n", "id", "type", "hcp", "assignee", "status", "pri",
		       "due  reason");
	do {
		json_t *items = json_array();
		size_t i;
		json_t *t;

		if (rc == 0)
			rc = mr_task_list(c, &all, q, items, &next, err);
		json_array_foreach(items, i, t)
			mr_tasks_print(t);
		json_decref(items);
		q->cursor = next;
	} while (rc == 0 && next);
	if (c)
		mr_store_release(s, c);
	return rc;
}

int mr_cmd_tasks(int argc, char **argv)
{
	static const struct option opts[] = { MR_CLI_COMMON_LONGOPTS, { "assignee", required_argument, NULL, 'a' },
					       { "status", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' },
					       { 0 } };
	const char *assignee = NULL;
	struct mr_task_query q;
	struct mr_store *s = NULL;
	struct mr_keys keys;
	struct mr_cli cli;
	struct mr_err err;
	int rc;

	memset(&q, 0, sizeof(q));
	mr_cli_init(&cli);
	mr_err_clear(&err);
	for (;;) {
		int opt = getopt_long(argc, argv, "a:s:h", opts, NULL);

		if (opt == -1)
			break;
		if (opt == 'h') {
			fputs(mr_tasks_help, stdout);
			return 0;
		}
		if (opt == 'a') {
			assignee = optarg;
		} else if (opt == 's') {
			q.statuses = mr_tasks_statuses(optarg);
			if (q.statuses < 0) {
				fprintf(stderr, "medreach tasks: --status is open, in_progress, done, cancelled or expired,"
						" not '%s'\n", optarg);
				return 2;
			}
		} else if (!mr_cli_common_opt(&cli, opt, optarg)) {
			fputs(mr_tasks_help, stderr);
			return 2;
		}
	}
	if (optind >= argc || strcmp(argv[optind], "list") != 0) {
		fputs(mr_tasks_help, stderr);
		return 2;
	}
	q.now = mr_now_us();
	q.limit = 500;
	rc = mr_cli_open(&cli, 0, &s, &keys, &err);
	if (rc == 0)
		rc = mr_tasks_list(s, &q, assignee, &err);
	if (s) {
		mr_keys_wipe(&keys);
		mr_store_close(s);
	}
	if (rc < 0)
		return mr_cli_fail("tasks", &err);
	return 0;
}
