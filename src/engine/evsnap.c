/*
 * The event index's snapshot file (see evindex.h): the index as it stood
 * at one seq, written so that a restart reads one file instead of the
 * whole event log — about a second instead of fifteen for ten million
 * events — and then reads only what was stored after it.
 *
 * The file, in this machine's byte order (the header says which):
 *
 *   header      struct mr_snap_head: what it holds and of which store
 *   dictionaries the strings of type, content, campaign, meeting, code by
 *               code: u32 length, bytes
 *   attrs       nattrs × struct mr_evattr
 *   lists       nlists × u32: how many events each HCP record has
 *   items       events × struct mr_evitem, record after record
 *   ids         (SQLite) idcap × 12 bytes: the id set's table as it is
 *   trailer     BLAKE2b-256 of everything before it
 *
 * A snapshot is used only when everything about it holds: the format and
 * item size are this build's, the checksum matches (a torn or flipped
 * file), the store is the one it was taken of (store_instance's random
 * id, and the schema version), and the store still holds the snapshot's
 * last event under the same id (a database restored from an older backup,
 * or a log that was cut, no longer does). Anything else and the index
 * loads from the store as if there were no file, and says why in the log.
 *
 * The id set goes into the file only when it holds no id of an event not
 * committed (the writer's claims all settled): otherwise a restart would
 * believe an event stored that never was, and refuse its retry.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/time.h"
#include "engine/dict.h"
#include "engine/evindex_int.h"

#define MR_SNAP_MAGIC "MRSNAPX\n"
enum {
	MR_SNAP_VERSION = 2,            /* 2: 12-byte id keys */
	MR_SNAP_ORDER = 0x01020304,
	MR_SNAP_HAS_IDS = 1,
	MR_SNAP_SUM = 32,
	MR_SNAP_FP = 16,
	MR_SNAP_IOBUF = 1 << 20,
	MR_SNAP_GAIN = 50000,           /* a file is worth (re)writing once it saves reading this many events */
	MR_SNAP_TRIES = 100,            /* waits of 20 ms for the writer's claims to settle */
};
#define MR_SNAP_EVERY_US (10LL * 60 * 1000000) /* at most one periodic save per ten minutes */

struct mr_snap_head {
	char magic[8];
	uint32_t version, order, item_size, flags;
	char store_id[64];              /* store_instance.id, NUL-padded */
	int64_t schema;                 /* the store's schema version */
	int64_t last_seq, ids_last, events;
	uint64_t idcap, nids;
	uint32_t nlists, nattrs;
	uint32_t ndict[4];
	unsigned char hash_key[crypto_shorthash_siphashx24_KEYBYTES];
	unsigned char last_fp[MR_SNAP_FP]; /* BLAKE2b-128 of the last event's id */
	int64_t taken_at;               /* µs since the epoch */
};

/* ------------------------------------------------------------ what the store says */

/* The store's id, schema version, and (seq > 0) the fingerprint of event seq's id; 0 when it has none. */
static int mr_snap_store_facts(struct mr_store *s, int64_t seq, char id[64], int64_t *schema,
			       unsigned char fp[MR_SNAP_FP], int *found, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	struct mr_rows *rows = NULL;
	struct mr_val arg = mr_v_int(seq);
	int rc = mr_store_schema_version(s, schema, err);

	memset(id, 0, 64);
	*found = 0;
	if (rc == 0)
		rc = mr_store_acquire(s, &c, err);
	if (rc < 0)
		return rc;
	rc = mr_conn_query(c, "SELECT id FROM store_instance", NULL, 0, &rows, err);
	if (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		rc = 0;
		snprintf(id, 64, "%s", mr_rows_text(rows, 0));
	}
	mr_rows_close(rows);
	rows = NULL;
	if (rc == 0)
		rc = mr_conn_query(c, "SELECT eid FROM events WHERE seq = ?", &arg, 1, &rows, err);
	if (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		const char *eid = mr_rows_text(rows, 0);

		rc = 0;
		crypto_generichash(fp, MR_SNAP_FP, (const unsigned char *)eid, strlen(eid), NULL, 0);
		*found = 1;
	}
	mr_rows_close(rows);
	mr_store_release(s, c);
	return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------ writing */

struct mr_snap_w {
	FILE *f;
	crypto_generichash_state sum;
	int failed;
};

static void mr_snap_put(struct mr_snap_w *w, const void *p, size_t n)
{
	if (w->failed || !n)
		return;
	crypto_generichash_update(&w->sum, p, n);
	if (fwrite(p, 1, n, w->f) != n)
		w->failed = errno ? errno : EIO;
}

static void mr_snap_put_u32(struct mr_snap_w *w, uint32_t v)
{
	mr_snap_put(w, &v, sizeof(v));
}

/* The body after the header; called with x's locks held for reading. */
static void mr_snap_put_body(struct mr_snap_w *w, struct mr_evindex *x, const struct mr_snap_head *h)
{
	struct mr_dict *d[4] = { x->dicts.type, x->dicts.content, x->dicts.campaign, x->dicts.meeting };

	for (int k = 0; k < 4; k++) {
		for (uint32_t code = 1; code <= h->ndict[k]; code++) {
			const char *s = mr_dict_str(d[k], code);
			uint32_t len = (uint32_t)strlen(s);

			mr_snap_put_u32(w, len);
			mr_snap_put(w, s, len);
		}
	}
	mr_snap_put(w, x->attrs, (size_t)h->nattrs * sizeof(*x->attrs));
	for (uint32_t i = 0; i < h->nlists; i++)
		mr_snap_put_u32(w, x->lists[i].n);
	for (uint32_t i = 0; i < h->nlists; i++)
		mr_snap_put(w, x->lists[i].v, (size_t)x->lists[i].n * sizeof(struct mr_evitem));
	if (h->flags & MR_SNAP_HAS_IDS)
		mr_snap_put(w, x->ids, (size_t)h->idcap * sizeof(*x->ids));
}

/* Opens path's temp file, 0600 (the file holds the id set's hash key). */
static FILE *mr_snap_create(const char *tmp, struct mr_err *err)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f;

	if (fd < 0) {
		mr_err_set(err, MR_EIO, "cannot write the snapshot %s: %s", tmp, strerror(errno));
		return NULL;
	}
	f = fdopen(fd, "wb");
	if (!f) {
		close(fd);
		mr_err_set(err, MR_EIO, "cannot write the snapshot %s: %s", tmp, strerror(errno));
		return NULL;
	}
	setvbuf(f, NULL, _IOFBF, MR_SNAP_IOBUF);
	return f;
}

/* Writes the file; called with sync_mu held and x's read locks taken. */
static int mr_snap_write(struct mr_evindex *x, const struct mr_snap_head *h, struct mr_err *err)
{
	size_t plen = strlen(x->snap_path);
	char *tmp = mr_malloc(plen + 32);
	unsigned char sum[MR_SNAP_SUM];
	struct mr_snap_w w = { 0 };
	int rc = 0;

	snprintf(tmp, plen + 32, "%s.tmp%ld", x->snap_path, (long)getpid());
	w.f = mr_snap_create(tmp, err);
	if (!w.f) {
		free(tmp);
		return MR_EIO;
	}
	crypto_generichash_init(&w.sum, NULL, 0, MR_SNAP_SUM);
	mr_snap_put(&w, h, sizeof(*h));
	mr_snap_put_body(&w, x, h);
	crypto_generichash_final(&w.sum, sum, sizeof(sum));
	if (!w.failed && fwrite(sum, 1, sizeof(sum), w.f) != sizeof(sum))
		w.failed = errno ? errno : EIO;
	if (!w.failed && (fflush(w.f) != 0 || fsync(fileno(w.f)) != 0))
		w.failed = errno ? errno : EIO;
	if (fclose(w.f) != 0 && !w.failed)
		w.failed = errno ? errno : EIO;
	if (!w.failed && rename(tmp, x->snap_path) != 0)
		w.failed = errno ? errno : EIO;
	if (w.failed) {
		rc = mr_err_set(err, MR_EIO, "cannot write the snapshot %s: %s", x->snap_path,
				strerror(w.failed));
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

/* 1 when the id set holds only ids of committed events the header can vouch for. */
static int mr_snap_ids_settled(const struct mr_evindex *x)
{
	return x->claims_open == 0 && x->ids_last <= atomic_load(&x->last);
}

/* Fills the header's counts from x; called with x's read locks taken. */
static void mr_snap_head_fill(struct mr_evindex *x, struct mr_snap_head *h)
{
	memcpy(h->magic, MR_SNAP_MAGIC, sizeof(h->magic));
	h->version = MR_SNAP_VERSION;
	h->order = MR_SNAP_ORDER;
	h->item_size = sizeof(struct mr_evitem);
	h->flags = x->keep_ids ? MR_SNAP_HAS_IDS : 0;
	h->last_seq = atomic_load(&x->last);
	h->ids_last = x->keep_ids ? x->ids_last : 0;
	h->events = x->events;
	h->idcap = x->keep_ids ? x->idcap : 0;
	h->nids = x->keep_ids ? x->nids : 0;
	h->nlists = x->nlists;
	h->nattrs = x->nattrs;
	h->ndict[0] = mr_dict_size(x->dicts.type);
	h->ndict[1] = mr_dict_size(x->dicts.content);
	h->ndict[2] = mr_dict_size(x->dicts.campaign);
	h->ndict[3] = mr_dict_size(x->dicts.meeting);
	memcpy(h->hash_key, x->hash_key, sizeof(h->hash_key));
	h->taken_at = mr_now_us();
}

int mr_evindex_save(struct mr_evindex *x, struct mr_store *s, struct mr_err *err)
{
	struct mr_snap_head h;
	int64_t t0 = mr_mono_us();
	int found = 0, rc = 0;

	if (!x->snap_path)
		return 0;
	memset(&h, 0, sizeof(h));
	pthread_mutex_lock(&x->sync_mu);
	if (!atomic_load(&x->ready) || atomic_load(&x->last) == 0 || atomic_load(&x->last) == x->saved_last)
		goto out;
	rc = mr_snap_store_facts(s, atomic_load(&x->last), h.store_id, &h.schema, h.last_fp, &found, err);
	if (rc == 0 && !found)
		rc = mr_err_set(err, MR_ECONFLICT, "the store no longer holds event %lld",
				(long long)atomic_load(&x->last));
	if (rc < 0)
		goto out;
	mr_evindex_read_begin(x);
	if (x->keep_ids && !mr_snap_ids_settled(x)) {
		mr_evindex_read_end(x);
		rc = mr_err_set(err, MR_EUNAVAIL, "events are being written; the id set is not settled");
		goto out;
	}
	mr_snap_head_fill(x, &h);
	rc = mr_snap_write(x, &h, err);
	mr_evindex_read_end(x);
	if (rc == 0) {
		x->saved_last = h.last_seq;
		x->saved_events = h.events;
		x->saved_at = mr_mono_us();
		x->save_us = x->saved_at - t0;
		rc = 1;
		mr_log_info("event=snapshot_saved path=\"%s\" events=%lld last_seq=%lld took_ms=%lld",
			    x->snap_path, (long long)h.events, (long long)h.last_seq,
			    (long long)(x->save_us / 1000));
	}
out:
	pthread_mutex_unlock(&x->sync_mu);
	return rc;
}

/* ------------------------------------------------------------ reading */

struct mr_snap_r {
	FILE *f;
	uint64_t left;                  /* bytes before the trailer */
	crypto_generichash_state sum;
};

/* Reads n bytes of the body into p; 0 when the file has them. */
static int mr_snap_get(struct mr_snap_r *r, void *p, size_t n)
{
	if (n > r->left || fread(p, 1, n, r->f) != n)
		return -1;
	r->left -= n;
	crypto_generichash_update(&r->sum, p, n);
	return 0;
}

/* What a snapshot's body holds, read aside before any of it goes into the index. */
struct mr_snap_body {
	char *strings;                  /* the dictionaries' strings, each NUL-terminated */
	uint32_t *lens;
	struct mr_evattr *attrs;
	uint32_t *counts;
	struct mr_evitem *items;
	struct mr_evx_key *ids;
};

static void mr_snap_body_free(struct mr_snap_body *b, const struct mr_snap_head *h)
{
	free(b->strings);
	free(b->lens);
	free(b->attrs);
	free(b->counts);
	mr_big_free(b->items, ((size_t)h->events + 1) * sizeof(*b->items));
	mr_big_free(b->ids, h->idcap * sizeof(*b->ids));
	memset(b, 0, sizeof(*b));
}

/* Why h cannot be this build's, or NULL. */
static const char *mr_snap_head_bad(const struct mr_snap_head *h, int keep_ids)
{
	if (memcmp(h->magic, MR_SNAP_MAGIC, sizeof(h->magic)) != 0)
		return "not a medreach snapshot";
	if (h->version != MR_SNAP_VERSION || h->order != MR_SNAP_ORDER ||
	    h->item_size != sizeof(struct mr_evitem))
		return "written by another version or machine";
	if (keep_ids && !(h->flags & MR_SNAP_HAS_IDS))
		return "it has no id set";
	if (h->nattrs < 1 || h->events < 0 || h->last_seq <= 0 || h->nids > h->idcap)
		return "its header is damaged";
	return NULL;
}

/* Reads the dictionaries' strings (sizes checked against what is left). */
static int mr_snap_get_strings(struct mr_snap_r *r, const struct mr_snap_head *h, struct mr_snap_body *b)
{
	uint64_t nstr = (uint64_t)h->ndict[0] + h->ndict[1] + h->ndict[2] + h->ndict[3];
	size_t cap = 4096, used = 0;

	if (nstr * 4 > r->left)
		return -1;
	b->lens = mr_malloc((nstr + 1) * sizeof(*b->lens));
	b->strings = mr_malloc(cap);
	for (uint64_t i = 0; i < nstr; i++) {
		uint32_t len;

		if (mr_snap_get(r, &len, sizeof(len)) < 0 || len > r->left)
			return -1;
		while (used + len + 1 > cap)
			cap *= 2;
		b->strings = mr_realloc(b->strings, cap);
		if (mr_snap_get(r, b->strings + used, len) < 0)
			return -1;
		b->strings[used + len] = '\0';
		b->lens[i] = len;
		used += len + 1;
	}
	return 0;
}

/* Reads the body and checks the trailer; 0 when whole. */
static int mr_snap_get_body(struct mr_snap_r *r, const struct mr_snap_head *h, struct mr_snap_body *b)
{
	unsigned char want[MR_SNAP_SUM], got[MR_SNAP_SUM];
	uint64_t total = 0;

	if (mr_snap_get_strings(r, h, b) < 0)
		return -1;
	if ((uint64_t)h->nattrs * sizeof(*b->attrs) > r->left ||
	    (uint64_t)h->nlists * 4 > r->left || (uint64_t)h->events * sizeof(*b->items) > r->left ||
	    h->idcap * sizeof(*b->ids) > r->left)
		return -1;
	b->attrs = mr_malloc((size_t)h->nattrs * sizeof(*b->attrs));
	b->counts = mr_malloc(((size_t)h->nlists + 1) * sizeof(*b->counts));
	b->items = mr_big_alloc(((size_t)h->events + 1) * sizeof(*b->items));
	if (mr_snap_get(r, b->attrs, (size_t)h->nattrs * sizeof(*b->attrs)) < 0 ||
	    mr_snap_get(r, b->counts, (size_t)h->nlists * sizeof(*b->counts)) < 0)
		return -1;
	for (uint32_t i = 0; i < h->nlists; i++)
		total += b->counts[i];
	if (total != (uint64_t)h->events ||
	    mr_snap_get(r, b->items, (size_t)h->events * sizeof(*b->items)) < 0)
		return -1;
	if (h->flags & MR_SNAP_HAS_IDS) {
		b->ids = mr_big_alloc(h->idcap * sizeof(*b->ids));
		if (mr_snap_get(r, b->ids, h->idcap * sizeof(*b->ids)) < 0)
			return -1;
	}
	if (r->left != 0 || fread(want, 1, sizeof(want), r->f) != sizeof(want))
		return -1;
	crypto_generichash_final(&r->sum, got, sizeof(got));
	return sodium_memcmp(want, got, sizeof(got)) == 0 ? 0 : -1;
}

/* Why the items cannot be the lists of h (codes out of range, a seq past the last), or NULL. */
static const char *mr_snap_items_bad(const struct mr_snap_head *h, const struct mr_snap_body *b)
{
	for (int64_t i = 0; i < h->events; i++) {
		if (b->items[i].attr >= h->nattrs || b->items[i].seq > h->last_seq || b->items[i].seq <= 0)
			return "an event in it is damaged";
	}
	for (uint32_t a = 1; a < h->nattrs; a++) {
		const struct mr_evattr *at = &b->attrs[a];

		if (at->type > h->ndict[0] || at->content > h->ndict[1] || at->campaign > h->ndict[2] ||
		    at->meeting > h->ndict[3])
			return "an event attribute in it is damaged";
	}
	return NULL;
}

/* Puts the body into x (empty, nothing else running); 0, or -1 when x was not empty. */
static int mr_snap_install(struct mr_evindex *x, const struct mr_snap_head *h, struct mr_snap_body *b)
{
	struct mr_dict *d[4] = { x->dicts.type, x->dicts.content, x->dicts.campaign, x->dicts.meeting };
	const char *s = b->strings;
	size_t at = 0;
	uint64_t i = 0;

	for (int k = 0; k < 4; k++) {
		if (mr_dict_size(d[k]) != 0)
			return -1;
	}
	if (x->events || x->nids || x->nattrs != 1 || atomic_load(&x->last))
		return -1;
	for (int k = 0; k < 4; k++) {
		for (uint32_t code = 1; code <= h->ndict[k]; code++, i++) {
			if (mr_dict_intern(d[k], s, b->lens[i]) != code)
				return -1; /* the same string twice: not a dictionary this index wrote */
			s += b->lens[i] + 1;
		}
	}
	free(x->attrs);
	x->attrs = b->attrs;
	x->nattrs = x->capattrs = h->nattrs;
	b->attrs = NULL;
	mr_evx_attr_rehash(x);
	free(x->lists);
	x->nlists = h->nlists;
	x->lists = mr_calloc(h->nlists ? h->nlists : 1, sizeof(*x->lists));
	for (uint32_t r = 0; r < h->nlists; r++) {
		x->lists[r].v = b->items + at;
		x->lists[r].n = b->counts[r];
		x->lists[r].cap = b->counts[r] | MR_EVX_PACKED;
		at += b->counts[r];
	}
	x->packed = b->items;
	x->npacked = (size_t)h->events + 1; /* as allocated */
	b->items = NULL;
	x->events = h->events;
	if (h->flags & MR_SNAP_HAS_IDS) {
		mr_big_free(x->ids, x->idcap * sizeof(*x->ids));
		x->ids = b->ids;
		x->idcap = h->idcap;
		x->nids = h->nids;
		x->ids_last = h->ids_last;
		b->ids = NULL;
	}
	memcpy(x->hash_key, h->hash_key, sizeof(x->hash_key));
	atomic_store(&x->last, h->last_seq);
	return 0;
}

/* Reads and checks path's header; the reason it cannot serve, or NULL. */
static const char *mr_snap_open(struct mr_snap_r *r, const char *path, struct mr_snap_head *h, int keep_ids,
				int *missing)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*missing = 0;
	if (fd < 0) {
		*missing = errno == ENOENT;
		return strerror(errno);
	}
	r->f = fdopen(fd, "rb");
	if (!r->f) {
		close(fd);
		return strerror(errno);
	}
	setvbuf(r->f, NULL, _IOFBF, MR_SNAP_IOBUF);
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size < sizeof(*h) + MR_SNAP_SUM ||
	    fread(h, 1, sizeof(*h), r->f) != sizeof(*h))
		return "it is cut short";
	r->left = (uint64_t)st.st_size - sizeof(*h) - MR_SNAP_SUM;
	crypto_generichash_init(&r->sum, NULL, 0, MR_SNAP_SUM);
	crypto_generichash_update(&r->sum, (const unsigned char *)h, sizeof(*h));
	return mr_snap_head_bad(h, keep_ids);
}

/* Why the store says h is not a snapshot of it (as it is now), or NULL; an error of the store: rc < 0. */
static const char *mr_snap_check_store(struct mr_store *s, const struct mr_snap_head *h, int *rc,
				       struct mr_err *err)
{
	char id[64];
	unsigned char fp[MR_SNAP_FP];
	int64_t schema = 0;
	int found = 0;

	*rc = mr_snap_store_facts(s, h->last_seq, id, &schema, fp, &found, err);
	if (*rc < 0)
		return err->msg;
	if (strncmp(id, h->store_id, sizeof(id)) != 0)
		return "it was taken of another database";
	if (schema != h->schema)
		return "the database schema changed since";
	if (!found || sodium_memcmp(fp, h->last_fp, sizeof(fp)) != 0)
		return "the database no longer holds the events it was taken of";
	return NULL;
}

/* The restore's steps; the reason it cannot serve, or NULL once installed. */
static const char *mr_snap_restore(struct mr_evindex *x, struct mr_store *s, int *missing, int *rc,
				   struct mr_err *err)
{
	struct mr_snap_r r = { 0 };
	struct mr_snap_head h;
	struct mr_snap_body b = { 0 };
	const char *why;

	memset(&h, 0, sizeof(h));
	why = mr_snap_open(&r, x->snap_path, &h, x->keep_ids, missing);
	if (!why)
		why = mr_snap_check_store(s, &h, rc, err);
	if (!why && mr_snap_get_body(&r, &h, &b) < 0)
		why = "its checksum does not match (damaged or cut short)";
	if (!why)
		why = mr_snap_items_bad(&h, &b);
	if (!why) {
		pthread_rwlock_wrlock(&x->lock);
		pthread_rwlock_wrlock(&x->attr_lock);
		if (mr_snap_install(x, &h, &b) < 0)
			why = "the index was not empty";
		pthread_rwlock_unlock(&x->attr_lock);
		pthread_rwlock_unlock(&x->lock);
	}
	if (r.f)
		fclose(r.f);
	mr_snap_body_free(&b, &h);
	return why;
}

int mr_evindex_restore(struct mr_evindex *x, struct mr_store *s, struct mr_err *err)
{
	int64_t t0 = mr_mono_us();
	int missing = 0, rc = 0;
	const char *why;

	if (!x->snap_path)
		return 0;
	pthread_mutex_lock(&x->sync_mu);
	why = mr_snap_restore(x, s, &missing, &rc, err);
	if (!why) {
		x->restored = x->events;
		x->saved_last = atomic_load(&x->last);
		x->saved_events = x->events;
		x->saved_at = mr_mono_us();
		x->restore_us = mr_mono_us() - t0;
		mr_log_info("event=snapshot_restored path=\"%s\" events=%lld last_seq=%lld took_ms=%lld",
			    x->snap_path, (long long)x->events, (long long)atomic_load(&x->last),
			    (long long)(x->restore_us / 1000));
	} else if (!missing) {
		x->snap_ignored = rc < 0 ? "the database could not be read" : why;
		mr_log_warn("event=snapshot_ignored path=\"%s\" reason=\"%s\"", x->snap_path, why);
	}
	pthread_mutex_unlock(&x->sync_mu);
	if (rc < 0)
		return rc;
	return why ? 0 : 1;
}

int mr_evindex_save_due(struct mr_evindex *x, struct mr_store *s, struct mr_err *err)
{
	int64_t events, saved, at;
	int rc;

	if (!x->snap_path || !atomic_load(&x->ready))
		return 0;
	pthread_mutex_lock(&x->sync_mu);
	events = x->events;
	saved = x->saved_events;
	at = x->saved_at;
	pthread_mutex_unlock(&x->sync_mu);
	if (events - saved < MR_SNAP_GAIN || events - saved < saved / 10 ||
	    (at && mr_mono_us() - at < MR_SNAP_EVERY_US && saved))
		return 0;
	for (int i = 0;; i++) {
		rc = mr_evindex_save(x, s, err);
		if (rc != MR_EUNAVAIL || i == MR_SNAP_TRIES)
			return rc;
		nanosleep(&(struct timespec){ .tv_nsec = 20000000L }, NULL);
	}
}

void mr_evindex_snapshot_at(struct mr_evindex *x, const char *path)
{
	free(x->snap_path);
	x->snap_path = path && *path ? mr_strdup(path) : NULL;
}
