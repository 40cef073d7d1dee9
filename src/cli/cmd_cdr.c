/*
 * medreach import cdr FILE.csv: a call centre's CDR export as phone
 * events, through the same import as POST /api/v1/channels/cdr/import
 * (channels/settings.h): the disposition rules stored for the cdr channel
 * (or the defaults), one transaction a batch, bad rows reported with line,
 * column and field while the good ones are kept, calls seen before counted
 * as duplicates. Reached through cmd_import.c; exits 0 when every row was
 * good, 1 when some were reported.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "base/time.h"
#include "channels/settings.h"
#include "cli/cli.h"
#include "cli/events.h"
#include "cli/progress.h"
#include "engine/evindex.h"
#include "engine/hcpdir.h"
#include "event/log.h"


struct mr_cdrcli {
	struct mr_store *store;
	struct mr_keys keys;
	struct mr_hcpdir *dir;
	struct mr_evindex *ids;     /* SQLite: the id set */
	struct mr_csv *csv;
	struct mr_progress bar;
	int audited;                /* the import's audit record went with a batch already */
};

struct mr_cdrcli_job {
	struct mr_cdrcli *x;
	struct mr_evlog_batch *b;
	int audit;
};

static int mr_cdrcli_append(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_cdrcli_job *j = arg;
	struct mr_md_actor who = { "cli", NULL, "cdr", mr_now_us() };
	struct mr_audit_rec rec = { 0 };
	int rc = mr_evlog_append(c, j->x->ids, &j->x->keys, &who, j->b, err);

	if (rc < 0 || !j->audit)
		return rc;
	rec.login = "cli";
	rec.action = "cdr.import";
	rec.entity = "events";
	return mr_audit_append(c, &j->x->keys, &rec, NULL, err);
}

/* One batch, one transaction, here and now; the import is audited with its first. */
static int mr_cdrcli_commit(void *arg, struct mr_evlog_batch *b, struct mr_err *err)
{
	struct mr_cdrcli_job j = { arg, b, 0 };
	int rc;

	j.audit = !j.x->audited;
	rc = mr_store_write(j.x->store, mr_cdrcli_append, &j, err);
	if (rc < 0)
		mr_evlog_undo(j.x->ids, b);
	else
		j.x->audited = 1;
	return rc;
}

static void mr_cdrcli_progress(void *arg, int64_t rows)
{
	struct mr_cdrcli *x = arg;

	mr_progress_update(&x->bar, mr_csv_offset(x->csv), rows);
}

/* Opens the store, the key, the HCP directory (for reps) and, on SQLite, the ids stored. */
static int mr_cdrcli_open(struct mr_cli *cli, struct mr_cdrcli *x, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	int rc = mr_cli_open(cli, 1, &x->store, &x->keys, err);

	if (rc < 0)
		return rc;
	x->dir = mr_hcpdir_new();
	if (mr_store_kind(x->store) == MR_STORE_SQLITE)
		x->ids = mr_evindex_new(1);
	rc = mr_store_acquire(x->store, &c, err);
	if (rc == 0)
		rc = mr_hcpdir_sync(x->dir, c, err);
	if (rc == 0 && x->ids)
		rc = mr_evindex_sync(x->ids, c, err);
	if (c)
		mr_store_release(x->store, c);
	return rc;
}

static void mr_cdrcli_close(struct mr_cdrcli *x)
{
	mr_hcpdir_free(x->dir);
	mr_evindex_free(x->ids);
	if (x->store) {
		mr_keys_wipe(&x->keys);
		mr_store_close(x->store);
	}
}

/* The rules stored for the cdr channel, or the defaults (strings in a). */
static int mr_cdrcli_rules(struct mr_cdrcli *x, struct mr_cdr_rules *r, struct mr_arena *a,
			   struct mr_err *err)
{
	struct mr_chan_settings s;
	struct mr_conn *c = NULL;
	int rc = mr_store_acquire(x->store, &c, err);

	if (rc < 0)
		return rc;
	rc = mr_chan_load(c, &x->keys, MR_CHAN_CDR, &s, err);
	mr_store_release(x->store, c);
	if (rc == 0)
		rc = mr_chan_cdr_rules(&s, r, a, err);
	mr_chan_release(&s);
	return rc;
}

/* The report: bad rows on stderr (the first 50), the counts on stdout. */
static void mr_cdrcli_print(const struct mr_chan_cdr_report *rep)
{
	double secs = (double)rep->took_us / 1e6;
	size_t i;
	json_t *e;

	json_array_foreach(rep->rejected_list, i, e) {
		json_t *col = json_object_get(e, "column");
		const char *field = json_string_value(json_object_get(e, "field"));

		if (i >= 50)
			break;
		fprintf(stderr, "line %lld", (long long)json_integer_value(json_object_get(e, "line")));
		if (json_is_integer(col))
			fprintf(stderr, ", column %lld", (long long)json_integer_value(col));
		fprintf(stderr, "%s%s%s: %s\n", field ? " (" : "", field ? field : "", field ? ")" : "",
			json_string_value(json_object_get(e, "error")));
	}
	if (rep->rejected > 50)
		fprintf(stderr, "... and %lld more bad rows\n", (long long)(rep->rejected - 50));
	printf("cdr: %lld rows: %lld stored, %lld duplicates, %lld rejected in %.1f s (%s)\n",
	       (long long)rep->rows, (long long)rep->accepted, (long long)rep->duplicates,
	       (long long)rep->rejected, secs, rep->encoding ? rep->encoding : "utf-8");
}

int mr_cmd_import_cdr(struct mr_cli *cli, const char *path, const struct mr_csv_opts *copts, int batch,
		      struct mr_err *err)
{
	struct mr_cdrcli x = { 0 };
	struct mr_cdr_rules rules;
	struct mr_chan_cdr_opts o = { .rules = &rules, .batch = batch, .commit = mr_cdrcli_commit, .arg = &x,
				      .progress = mr_cdrcli_progress, .progress_arg = &x };
	struct mr_chan_cdr_report rep = { 0 };
	struct mr_arena a;
	struct stat st;
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return mr_err_set(err, MR_EIO, "cannot open %s: %m", path);
	mr_arena_init(&a);
	rc = mr_cdrcli_open(cli, &x, err);
	if (rc == 0)
		rc = mr_cdrcli_rules(&x, &rules, &a, err);
	if (rc == 0)
		rc = mr_csv_open_fd(&x.csv, fd, copts, err);
	if (rc == 0) {
		o.dir = x.dir;
		o.store = x.store;
		mr_progress_init(&x.bar, "cdr", fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0);
		rc = mr_chan_cdr_import(x.csv, &o, &rep, err);
		mr_progress_done(&x.bar);
	}
	if (rc == 0)
		mr_cdrcli_print(&rep);
	mr_csv_free(x.csv);
	mr_cdrcli_close(&x);
	mr_arena_release(&a);
	if (fd > 0)
		close(fd);
	if (rc == 0 && rep.rejected > 0)
		rc = 1;
	mr_chan_cdr_report_release(&rep);
	return rc;
}
