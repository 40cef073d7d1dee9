/*
 * medreach import events FILE.ndjson[.gz] and medreach export events: the
 * event log from and to NDJSON files, through the same ingestion as
 * POST /api/v1/events (event/ingest.h): streamed, bad lines reported with
 * their line and reason while the good ones are kept, ids seen before
 * counted as duplicates, so importing a file twice stores it once. A gzip
 * file is recognised by its magic bytes. The import shows a progress line
 * and commits a batch a transaction; the export writes one event a line
 * in the import's own format.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "base/json.h"
#include "base/time.h"
#include "cli/cli.h"
#include "cli/events.h"
#include "cli/progress.h"
#include "engine/evindex.h"
#include "engine/hcpdir.h"
#include "event/ingest.h"
#include "event/log.h"

struct mr_evcli {
	struct mr_evcli_log log;
	struct mr_md_actor who;
	struct mr_progress bar;
};

static int mr_evcli_resolve(void *arg, struct mr_ingest_batch *b, struct mr_err *err)
{
	struct mr_evcli *x = arg;

	for (int i = 0; x->log.ids && i < b->log.n; i++)
		mr_evindex_id_key(x->log.ids, b->log.ev[i].id, b->log.ev[i].id_key);
	return mr_ingest_resolve(x->log.dir, x->log.store, b, err);
}

struct mr_evcli_job {
	struct mr_evcli *x;
	struct mr_ingest_batch *b;
};

static int mr_evcli_append(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_evcli_job *j = arg;

	j->x->who.now = mr_now_us();
	return mr_evlog_append(c, j->x->log.ids, &j->x->log.keys, &j->x->who, &j->b->log, err);
}

/* One batch, one transaction, here and now. */
static int mr_evcli_submit(void *arg, struct mr_ingest_batch *b, struct mr_err *err)
{
	struct mr_evcli_job j = { arg, b };
	int rc = mr_store_write(j.x->log.store, mr_evcli_append, &j, err);

	if (rc < 0)
		mr_evlog_undo(j.x->log.ids, &b->log);
	mr_ingest_batch_done(b, rc, err);
	return 0;
}

static void mr_evcli_progress(void *arg, int64_t bytes, int64_t events)
{
	struct mr_evcli *x = arg;

	mr_progress_update(&x->bar, (uint64_t)bytes, events);
}

int mr_evcli_log_open(struct mr_cli *cli, struct mr_evcli_log *l, int bulk, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	int rc;

	cli->store.bulk_load = bulk;
	rc = mr_cli_open(cli, 1, &l->store, &l->keys, err);
	if (rc < 0)
		return rc;
	l->dir = mr_hcpdir_new();
	if (mr_store_kind(l->store) == MR_STORE_SQLITE)
		l->ids = mr_evindex_new(1);
	rc = mr_store_acquire(l->store, &c, err);
	if (rc == 0)
		rc = mr_hcpdir_sync(l->dir, c, err);
	if (rc == 0 && l->ids)
		rc = mr_evindex_sync(l->ids, c, err);
	if (c)
		mr_store_release(l->store, c);
	return rc;
}

void mr_evcli_log_close(struct mr_evcli_log *l)
{
	mr_hcpdir_free(l->dir);
	mr_evindex_free(l->ids);
	if (l->store) {
		mr_keys_wipe(&l->keys);
		mr_store_close(l->store);
	}
}

void mr_evcli_print_rejected(json_t *list, int64_t total, const char *what)
{
	size_t i;
	json_t *e;

	json_array_foreach(list, i, e) {
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
	if (total > 50)
		fprintf(stderr, "... and %lld more bad %s\n", (long long)(total - 50), what);
}

/* The audit record of an import or export: its counts, kept as the digest of what it did. */
struct mr_evcli_audit {
	const struct mr_keys *keys;
	const char *action;
	json_t *what;
};

static int mr_evcli_audit_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_evcli_audit *a = arg;
	unsigned char after[MR_AUDIT_DIGEST];
	struct mr_audit_rec rec = { 0 };

	mr_audit_digest(a->keys, a->what, after);
	rec.login = "cli";
	rec.action = a->action;
	rec.entity = "events";
	rec.after = after;
	return mr_audit_append(c, a->keys, &rec, NULL, err);
}

static void mr_evcli_print(const struct mr_ingest_report *rep)
{
	double secs = (double)rep->took_us / 1e6;

	mr_evcli_print_rejected(rep->rejected_list, rep->rejected, "lines");
	printf("events: %lld lines: %lld stored, %lld duplicates, %lld rejected in %.1f s (%.0f events/s)\n",
	       (long long)rep->lines, (long long)rep->accepted, (long long)rep->duplicates,
	       (long long)rep->rejected, secs, secs > 0 ? (double)rep->lines / secs : 0);
}

/* Feeds the file to the ingest, sniffing gzip from its first bytes. */
static int mr_evcli_feed(struct mr_evcli *x, int fd, struct mr_ingest_report *rep,
			 struct mr_err *err)
{
	static char buf[1 << 20];
	struct mr_ingest *in = NULL;
	struct mr_ingest_opts o = { .source = "import", .batch = 20000, .resolve = mr_evcli_resolve,
				    .submit = mr_evcli_submit, .arg = x, .progress = mr_evcli_progress,
				    .progress_arg = x };
	ssize_t n = read(fd, buf, sizeof(buf));
	int rc = 0;

	if (n < 0)
		return mr_err_set(err, MR_EIO, "cannot read the file: %m");
	o.gzip = n >= 2 && (unsigned char)buf[0] == 0x1f && (unsigned char)buf[1] == 0x8b;
	rc = mr_ingest_new(&in, &o, err);
	while (rc == 0 && n > 0) {
		rc = mr_ingest_feed(in, buf, (size_t)n, err);
		if (rc == 0 && (n = read(fd, buf, sizeof(buf))) < 0)
			rc = mr_err_set(err, MR_EIO, "cannot read the file: %m");
	}
	if (rc == 0)
		rc = mr_ingest_finish(in, rep, err);
	mr_ingest_free(in);
	return rc;
}

int mr_cmd_import_events(struct mr_cli *cli, const char *path, struct mr_err *err)
{
	struct mr_evcli x = { 0 };
	struct mr_ingest_report rep = { 0 };
	struct mr_evcli_audit a = { 0 };
	struct stat st;
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return mr_err_set(err, MR_EIO, "cannot open %s: %m", path);
	x.who.login = "cli";
	x.who.source = "import";
	rc = mr_evcli_log_open(cli, &x.log, 1, err);
	if (rc == 0) {
		mr_progress_init(&x.bar, "events", fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0);
		rc = mr_evcli_feed(&x, fd, &rep, err);
		mr_progress_done(&x.bar);
	}
	if (rc == 0 || rep.accepted > 0) {
		struct mr_err ignored;

		a.keys = &x.log.keys;
		a.action = "events.import";
		a.what = mr_ingest_report_json(&rep);
		mr_err_clear(&ignored);
		mr_store_write(x.log.store, mr_evcli_audit_fn, &a, rc == 0 ? err : &ignored);
		json_decref(a.what);
	}
	if (rc == 0)
		mr_evcli_print(&rep);
	mr_evcli_log_close(&x.log);
	if (fd > 0)
		close(fd);
	if (rc == 0 && rep.rejected > 0)
		rc = 1;
	mr_ingest_report_release(&rep);
	return rc;
}

struct mr_evcli_out {
	FILE *f;
	int64_t n;
	struct mr_progress *bar;
};

static int mr_evcli_write(void *arg, json_t *ev, struct mr_err *err)
{
	struct mr_evcli_out *o = arg;
	char *line = json_dumps(ev, JSON_COMPACT);
	int ok = line && fputs(line, o->f) >= 0 && fputc('\n', o->f) != EOF;

	free(line);
	if (!ok)
		return mr_err_set(err, MR_EIO, "cannot write the events: %m");
	if (++o->n % 10000 == 0)
		mr_progress_update(o->bar, 0, o->n);
	return 0;
}

int mr_cmd_export_events(struct mr_cli *cli, const char *out_path, int64_t after,
			 struct mr_err *err)
{
	struct mr_evcli_out o = { stdout, 0, NULL };
	struct mr_progress bar;
	struct mr_evcli_audit a = { 0 };
	struct mr_store *s = NULL;
	struct mr_keys keys;
	struct mr_conn *c = NULL;
	int rc = mr_cli_open(cli, 0, &s, &keys, err);

	if (rc == 0 && out_path && strcmp(out_path, "-") != 0 && !(o.f = fopen(out_path, "w")))
		rc = mr_err_set(err, MR_EIO, "cannot write %s: %m", out_path);
	if (rc == 0)
		rc = mr_store_acquire(s, &c, err);
	mr_progress_init(&bar, "events", 0);
	o.bar = &bar;
	if (rc == 0)
		rc = mr_conn_begin_read(c, err); /* one snapshot for the whole export */
	if (rc == 0) {
		rc = mr_evlog_export(c, after, mr_evcli_write, &o, err);
		if (rc == 0)
			rc = mr_conn_commit(c, err);
		else
			mr_conn_rollback(c);
	}
	mr_progress_done(&bar);
	if (c)
		mr_store_release(s, c);
	if (o.f && o.f != stdout && fclose(o.f) != 0 && rc == 0)
		rc = mr_err_set(err, MR_EIO, "cannot write %s: %m", out_path);
	if (rc == 0) {
		a.keys = &keys;
		a.action = "events.export";
		a.what = json_pack("{s:I, s:I}", "events", (json_int_t)o.n, "after", (json_int_t)after);
		rc = mr_store_write(s, mr_evcli_audit_fn, &a, err);
		json_decref(a.what);
		fprintf(stderr, "events: %lld exported\n", (long long)o.n);
	}
	if (s) {
		mr_keys_wipe(&keys);
		mr_store_close(s);
	}
	return rc;
}
