/*
 * See ingest.h. Bytes go through zlib when gzip, then are cut into lines
 * in a buffer of at most one line (a longer line is skipped to its end and
 * reported); each line is parsed and resolved into the current batch,
 * whose arena holds its strings. A full batch is submitted; while the
 * store commits it the next one fills, and the feeding thread waits only
 * when the most batches allowed are in flight. Batches are reused.
 */
#include "event/ingest.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/json.h"
#include "base/mem.h"
#include "base/time.h"
#include "engine/hcpdir.h"

enum { MR_INGEST_ZBUF = 64 * 1024 };
#define MR_INGEST_MAX_INFLATED ((size_t)4 << 30)

struct mr_ingest {
	struct mr_ingest_opts o;
	z_stream z;
	int zinit;
	char *line;                  /* the line being assembled: at most MR_EVENT_LINE_MAX bytes */
	size_t len;
	int skipping;                /* the line is over the cap: drop to its end */
	int64_t lineno;              /* lines ended so far */
	int64_t now_us;
	struct mr_event_parser *parser;
	struct mr_ingest_batch *cur;
	struct mr_ingest_batch **spare;
	int nspare, capspare;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int inflight;                /* submitted, not done */
	struct mr_ingest_batch **done; /* done, not yet counted */
	int ndone, capdone;
	int failed;
	struct mr_err fail;
	struct mr_ingest_report rep;
	int64_t t0;
};

/* ------------------------------------------------------------ batches */

static struct mr_ingest_batch *mr_ingest_batch_new(struct mr_ingest *in)
{
	struct mr_ingest_batch *b;

	if (in->nspare > 0) {
		b = in->spare[--in->nspare];
	} else {
		b = mr_calloc(1, sizeof(*b));
		b->cap = in->o.batch;
		b->log.ev = mr_calloc((size_t)b->cap, sizeof(*b->log.ev));
		b->log.fate = mr_calloc((size_t)b->cap, 1);
		b->log.seq = mr_calloc((size_t)b->cap, sizeof(*b->log.seq));
		b->log.why = mr_calloc((size_t)b->cap, sizeof(*b->log.why));
		b->line = mr_calloc((size_t)b->cap, sizeof(*b->line));
		b->owner = in;
	}
	mr_arena_init(&b->arena);
	b->log.n = 0;
	b->rc = 0;
	mr_err_clear(&b->err);
	return b;
}

static void mr_ingest_batch_free(struct mr_ingest_batch *b)
{
	if (!b)
		return;
	mr_arena_release(&b->arena);
	free(b->log.ev);
	free(b->log.fate);
	free(b->log.seq);
	free(b->log.why);
	free(b->line);
	free(b);
}

static void mr_ingest_reject(struct mr_ingest *in, int64_t line, const struct mr_err *why)
{
	in->rep.rejected++;
	if ((int64_t)json_array_size(in->rep.rejected_list) < in->o.max_listed) {
		json_t *r = json_pack("{s:I}", "line", (json_int_t)line);

		/* safe: a message quoting the line may hold invalid UTF-8 or a character cut short */
		if (why->field[0])
			json_object_set_new(r, "field", mr_json_string_safe(why->field));
		if (why->column)
			json_object_set_new(r, "column", json_integer(why->column));
		json_object_set_new(r, "error", mr_json_string_safe(why->msg[0] ? why->msg : "rejected"));
		json_array_append_new(in->rep.rejected_list, r);
	}
}

/* Counts a finished batch and keeps it for reuse; called with mu held. */
static void mr_ingest_collect(struct mr_ingest *in, struct mr_ingest_batch *b)
{
	if (b->rc < 0 && !in->failed) {
		in->failed = 1;
		in->fail = b->err;
	}
	if (b->rc == 0) {
		in->rep.accepted += b->log.stored;
		in->rep.duplicates += b->log.duplicates;
		for (int i = 0; i < b->log.n; i++) {
			if (b->log.fate[i] == MR_EV_REJECTED)
				mr_ingest_reject(in, b->line[i], &b->log.why[i]);
		}
	}
	mr_arena_release(&b->arena);
	if (in->nspare == in->capspare) {
		in->capspare = in->capspare ? in->capspare * 2 : 4;
		in->spare = mr_realloc(in->spare, (size_t)in->capspare * sizeof(*in->spare));
	}
	in->spare[in->nspare++] = b;
}

/* Counts what finished; with wait, first waits until fewer than max are in flight. Called with mu held. */
static void mr_ingest_drain(struct mr_ingest *in, int max)
{
	while (in->inflight >= max && in->inflight > 0)
		pthread_cond_wait(&in->cv, &in->mu);
	for (int i = 0; i < in->ndone; i++)
		mr_ingest_collect(in, in->done[i]);
	in->ndone = 0;
}

void mr_ingest_batch_done(struct mr_ingest_batch *b, int rc, const struct mr_err *err)
{
	struct mr_ingest *in = b->owner;

	pthread_mutex_lock(&in->mu);
	b->rc = rc;
	if (rc < 0)
		b->err = *err;
	if (in->ndone == in->capdone) {
		in->capdone = in->capdone ? in->capdone * 2 : 8;
		in->done = mr_realloc(in->done, (size_t)in->capdone * sizeof(*in->done));
	}
	in->done[in->ndone++] = b;
	in->inflight--;
	pthread_cond_broadcast(&in->cv);
	pthread_mutex_unlock(&in->mu);
}

/* Hands the current batch on, first waiting for room. */
static int mr_ingest_submit(struct mr_ingest *in, struct mr_err *err)
{
	struct mr_ingest_batch *b = in->cur;
	int rc, failed;

	if (!b || b->log.n == 0)
		return 0;
	in->cur = NULL;
	pthread_mutex_lock(&in->mu);
	mr_ingest_drain(in, in->o.in_flight);
	failed = in->failed;
	if (!failed)
		in->inflight++;
	pthread_mutex_unlock(&in->mu);
	if (failed) {
		*err = in->fail;
		pthread_mutex_lock(&in->mu);
		mr_ingest_collect(in, b);
		pthread_mutex_unlock(&in->mu);
		return err->code ? err->code : MR_EDB;
	}
	mr_evlog_batch_reset(&b->log);
	rc = in->o.resolve ? in->o.resolve(in->o.arg, b, err) : 0;
	if (rc == 0)
		rc = in->o.submit(in->o.arg, b, err);
	if (rc < 0) {
		pthread_mutex_lock(&in->mu);
		in->inflight--;
		mr_ingest_collect(in, b);
		pthread_mutex_unlock(&in->mu);
	}
	if (in->o.progress)
		in->o.progress(in->o.progress_arg, in->rep.bytes_in, in->rep.lines);
	return rc;
}

/* ------------------------------------------------------------ lines */

static int mr_ingest_blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	}
	return 1;
}

/* One complete line (without its newline). */
static int mr_ingest_line(struct mr_ingest *in, const char *p, size_t n, struct mr_err *err)
{
	struct mr_ingest_batch *b;
	struct mr_event *ev;
	struct mr_err why;
	int rc;

	in->lineno++;
	if (n && p[n - 1] == '\r')
		n--;
	if (mr_ingest_blank(p, n))
		return 0;
	in->rep.lines++;
	if (!in->cur)
		in->cur = mr_ingest_batch_new(in);
	b = in->cur;
	ev = &b->log.ev[b->log.n];
	mr_err_clear(&why);
	rc = mr_event_parser_parse(in->parser, p, n, in->now_us, &b->arena, ev, &why);
	if (rc == MR_EINVAL || rc == MR_EUNPROC || rc == MR_ENOTFOUND) {
		pthread_mutex_lock(&in->mu);
		mr_ingest_reject(in, in->lineno, &why);
		pthread_mutex_unlock(&in->mu);
		return 0;
	}
	if (rc < 0) {
		*err = why;
		return rc;
	}
	b->line[b->log.n++] = in->lineno;
	return b->log.n == b->cap ? mr_ingest_submit(in, err) : 0;
}

/* Takes inflated (or plain) bytes: cuts lines, never holding more than one. */
static int mr_ingest_bytes(struct mr_ingest *in, const char *p, size_t n, struct mr_err *err)
{
	int rc = 0;

	while (rc == 0 && n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;

		if (in->skipping) {
			/* the rest of an over-long line */
		} else if (in->len == 0 && nl) {
			rc = mr_ingest_line(in, p, k, err); /* a whole line in the chunk: no copy */
		} else if (in->len + k > MR_EVENT_LINE_MAX) {
			struct mr_err why;

			mr_err_clear(&why);
			mr_err_set(&why, MR_EINVAL, "the line is over %d bytes", MR_EVENT_LINE_MAX);
			pthread_mutex_lock(&in->mu);
			mr_ingest_reject(in, in->lineno + 1, &why);
			in->rep.lines++;
			pthread_mutex_unlock(&in->mu);
			in->skipping = 1;
			in->len = 0;
		} else {
			memcpy(in->line + in->len, p, k);
			in->len += k;
			if (nl) {
				rc = mr_ingest_line(in, in->line, in->len, err);
				in->len = 0;
			}
		}
		if (nl && in->skipping) {
			in->skipping = 0;
			in->lineno++;
		}
		p += nl ? k + 1 : k;
		n -= nl ? k + 1 : k;
	}
	return rc;
}

/* Inflates n gzip bytes, passing what comes out on; MR_ETOOBIG past the cap. */
static int mr_ingest_inflate(struct mr_ingest *in, const unsigned char *p, size_t n,
			     struct mr_err *err)
{
	unsigned char out[MR_INGEST_ZBUF];
	int rc = 0;

	in->z.next_in = (unsigned char *)p;
	in->z.avail_in = (uInt)n;
	while (rc == 0 && in->z.avail_in > 0) {
		int zr;
		size_t got;

		in->z.next_out = out;
		in->z.avail_out = sizeof(out);
		zr = inflate(&in->z, Z_NO_FLUSH);
		got = sizeof(out) - in->z.avail_out;
		if (zr != Z_OK && zr != Z_STREAM_END && !(zr == Z_BUF_ERROR && got))
			return mr_err_set(err, MR_EINVAL, "the gzip body is corrupt at byte %lu: %s",
					  in->z.total_in, in->z.msg ? in->z.msg : "bad data");
		in->rep.bytes_inflated += (int64_t)got;
		if ((size_t)in->rep.bytes_inflated > in->o.max_inflated)
			return mr_err_set(err, MR_ETOOBIG,
					  "the gzip body inflates to more than %zu bytes; send it in parts",
					  in->o.max_inflated);
		rc = mr_ingest_bytes(in, (const char *)out, got, err);
		if (zr == Z_STREAM_END) {
			/* concatenated members are allowed, as gzip itself does */
			if (in->z.avail_in == 0)
				break;
			inflateReset(&in->z);
		}
	}
	return rc;
}

/* ------------------------------------------------------------ resolving */

int mr_ingest_resolve(struct mr_hcpdir *d, struct mr_store *store, struct mr_ingest_batch *b,
		      struct mr_err *err)
{
	unsigned char *miss = mr_malloc((size_t)b->log.n + 1);
	int misses = mr_hcpdir_resolve(d, b->log.ev, b->log.n, miss);
	int rc = 0;

	if (misses) {
		struct mr_conn *c = NULL;

		rc = mr_store_acquire(store, &c, err);
		if (rc == 0)
			rc = mr_hcpdir_sync(d, c, err);
		if (c)
			mr_store_release(store, c);
		if (rc == 0)
			misses = mr_hcpdir_resolve(d, b->log.ev, b->log.n, miss);
	}
	for (int i = 0; rc == 0 && misses && i < b->log.n; i++) {
		const struct mr_event *ev = &b->log.ev[i];

		if (!miss[i] || b->log.fate[i] != MR_EV_PENDING)
			continue;
		b->log.fate[i] = MR_EV_REJECTED;
		if (ev->hcp && !ev->hcp_id)
			mr_err_field(&b->log.why[i], MR_EINVAL, "hcp", "unknown HCP '%.64s'", ev->hcp);
		else
			mr_err_field(&b->log.why[i], MR_EINVAL, "rep", "unknown rep '%.64s'", ev->rep);
	}
	free(miss);
	return rc;
}

/* ------------------------------------------------------------ the API */

int mr_ingest_new(struct mr_ingest **out, const struct mr_ingest_opts *o, struct mr_err *err)
{
	struct mr_ingest *in = mr_calloc(1, sizeof(*in));

	in->o = *o;
	if (in->o.batch <= 0)
		in->o.batch = 4096;
	if (in->o.in_flight <= 0)
		in->o.in_flight = 2;
	if (in->o.max_listed <= 0)
		in->o.max_listed = 1000;
	if (!in->o.max_inflated)
		in->o.max_inflated = MR_INGEST_MAX_INFLATED;
	in->line = mr_malloc(MR_EVENT_LINE_MAX + 1);
	in->parser = mr_event_parser_new();
	if (in->o.source)
		mr_event_parser_set_source(in->parser, in->o.source);
	in->rep.rejected_list = json_array();
	in->now_us = mr_now_us();
	in->t0 = mr_mono_us();
	pthread_mutex_init(&in->mu, NULL);
	pthread_cond_init(&in->cv, NULL);
	if (o->gzip) {
		if (inflateInit2(&in->z, 16 + MAX_WBITS) != Z_OK) {
			mr_ingest_free(in);
			*out = NULL;
			return mr_err_set(err, MR_EINTERNAL, "cannot start zlib");
		}
		in->zinit = 1;
	}
	*out = in;
	return 0;
}

int mr_ingest_feed(struct mr_ingest *in, const void *data, size_t n, struct mr_err *err)
{
	int failed;

	pthread_mutex_lock(&in->mu);
	failed = in->failed;
	if (failed)
		*err = in->fail;
	pthread_mutex_unlock(&in->mu);
	if (failed)
		return err->code ? err->code : MR_EDB;
	in->rep.bytes_in += (int64_t)n;
	if (in->zinit)
		return mr_ingest_inflate(in, data, n, err);
	in->rep.bytes_inflated += (int64_t)n;
	return mr_ingest_bytes(in, data, n, err);
}

static int mr_ingest_cmp_line(const void *x, const void *y)
{
	json_int_t a = json_integer_value(json_object_get(*(json_t *const *)x, "line"));
	json_int_t b = json_integer_value(json_object_get(*(json_t *const *)y, "line"));

	return a < b ? -1 : a > b;
}

/* The rejected lines in line order (batches report theirs after the parser's). */
static void mr_ingest_sort_rejected(json_t *list)
{
	size_t n = json_array_size(list);
	json_t **v = mr_calloc(n + 1, sizeof(*v));

	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(list, i));
	qsort(v, n, sizeof(*v), mr_ingest_cmp_line);
	json_array_clear(list);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, v[i]);
	free(v);
}

int mr_ingest_finish(struct mr_ingest *in, struct mr_ingest_report *rep, struct mr_err *err)
{
	int rc = 0;

	memset(rep, 0, sizeof(*rep));
	if (in->zinit && in->rep.bytes_in > 0 && in->len == 0 && !in->skipping &&
	    in->z.avail_in == 0 && in->z.total_out == 0)
		rc = mr_err_set(err, MR_EINVAL, "the gzip body holds no data");
	if (rc == 0 && in->len > 0 && !in->skipping) /* a last line without a newline */
		rc = mr_ingest_line(in, in->line, in->len, err);
	in->len = 0;
	if (rc == 0)
		rc = mr_ingest_submit(in, err);
	pthread_mutex_lock(&in->mu);
	mr_ingest_drain(in, 1);
	if (rc == 0 && in->failed) {
		*err = in->fail;
		rc = err->code ? err->code : MR_EDB;
	}
	pthread_mutex_unlock(&in->mu);
	if (rc == 0 && in->rep.lines == 0)
		rc = mr_err_set(err, MR_EINVAL, "the body holds no events: send one JSON event a line (NDJSON)");
	mr_ingest_sort_rejected(in->rep.rejected_list);
	in->rep.took_us = mr_mono_us() - in->t0;
	*rep = in->rep;
	rep->rejected_list = json_incref(in->rep.rejected_list);
	return rc;
}

void mr_ingest_free(struct mr_ingest *in)
{
	if (!in)
		return;
	pthread_mutex_lock(&in->mu);
	mr_ingest_drain(in, 1);
	pthread_mutex_unlock(&in->mu);
	if (in->cur) {
		mr_arena_release(&in->cur->arena);
		mr_ingest_batch_free(in->cur);
	}
	for (int i = 0; i < in->nspare; i++)
		mr_ingest_batch_free(in->spare[i]);
	if (in->zinit)
		inflateEnd(&in->z);
	json_decref(in->rep.rejected_list);
	mr_event_parser_free(in->parser);
	free(in->spare);
	free(in->done);
	free(in->line);
	pthread_mutex_destroy(&in->mu);
	pthread_cond_destroy(&in->cv);
	free(in);
}

json_t *mr_ingest_report_json(const struct mr_ingest_report *rep)
{
	return json_pack("{s:I, s:I, s:o, s:I, s:I, s:I}", "accepted", (json_int_t)rep->accepted,
			 "duplicates", (json_int_t)rep->duplicates, "rejected",
			 rep->rejected_list ? json_incref(rep->rejected_list) : json_array(), "rejected_total",
			 (json_int_t)rep->rejected, "lines", (json_int_t)rep->lines, "took_ms",
			 (json_int_t)(rep->took_us / 1000));
}

void mr_ingest_report_release(struct mr_ingest_report *rep)
{
	json_decref(rep->rejected_list);
	rep->rejected_list = NULL;
}
