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
	struct mr_evcli_log log;
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
	int rc = mr_evlog_append(c, j->x->log.ids, &j->x->log.keys, &who, j->b, err);

	if (rc < 0 || !j->audit)
		return rc;
	rec.login = "cli";
	rec.action = "cdr.import";
	rec.entity = "events";
	return mr_audit_append(c, &j->x->log.keys, &rec, NULL, err);
}

/* One batch, one transaction, here and now; the import is audited with its first. */
static int mr_cdrcli_commit(void *arg, struct mr_evlog_batch *b, struct mr_err *err)
{
	struct mr_cdrcli_job j = { arg, b, 0 };
	int rc;

	j.audit = !j.x->audited;
	rc = mr_store_write(j.x->log.store, mr_cdrcli_append, &j, err);
	if (rc < 0)
		mr_evlog_undo(j.x->log.ids, b);
	else
		j.x->audited = 1;
	return rc;
}

static void mr_cdrcli_progress(void *arg, int64_t rows)
{
	struct mr_cdrcli *x = arg;

	mr_progress_update(&x->bar, mr_csv_offset(x->csv), rows);
}

/* The rules stored for the cdr channel, or the defaults (strings in a). */
static int mr_cdrcli_rules(struct mr_cdrcli *x, struct mr_cdr_rules *r, struct mr_arena *a,
			   struct mr_err *err)
{
	struct mr_chan_settings s;
	struct mr_conn *c = NULL;
	int rc = mr_store_acquire(x->log.store, &c, err);

	if (rc < 0)
		return rc;
	rc = mr_chan_load(c, &x->log.keys, MR_CHAN_CDR, &s, err);
	mr_store_release(x->log.store, c);
	if (rc == 0)
		rc = mr_chan_cdr_rules(&s, r, a, err);
	mr_chan_release(&s);
	return rc;
}

/* The report: bad rows on stderr (the first 50), the counts on stdout. */
static void mr_cdrcli_print(const struct mr_chan_cdr_report *rep)
{
	double secs = (double)rep->took_us / 1e6;

	mr_evcli_print_rejected(rep->rejected_list, rep->rejected, "rows");
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
	rc = mr_evcli_log_open(cli, &x.log, 0, err);
	if (rc == 0)
		rc = mr_cdrcli_rules(&x, &rules, &a, err);
	if (rc == 0)
		rc = mr_csv_open_fd(&x.csv, fd, copts, err);
	if (rc == 0) {
		o.dir = x.log.dir;
		o.store = x.log.store;
		mr_progress_init(&x.bar, "cdr", fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0);
		rc = mr_chan_cdr_import(x.csv, &o, &rep, err);
		mr_progress_done(&x.bar);
	}
	if (rc == 0)
		mr_cdrcli_print(&rep);
	mr_csv_free(x.csv);
	mr_evcli_log_close(&x.log);
	mr_arena_release(&a);
	if (fd > 0)
		close(fd);
	if (rc == 0 && rep.rejected > 0)
		rc = 1;
	mr_chan_cdr_report_release(&rep);
	return rc;
}
