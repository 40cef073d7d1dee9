/*
 * The importer (see import.h). Rows are copied into a batch; a full batch
 * is written in one transaction. The fast path writes the batch straight;
 * if any row fails, the transaction is rolled back and the batch written
 * again carefully, one savepoint per row, so the bad rows are reported and
 * the good ones kept. Errors are rare in real files, so most batches pay
 * for one transaction and no savepoints.
 *
 * A reference to a row of the same file that comes later (a rep's manager,
 * a territory's parent) is set after the whole file, when that row exists.
 *
 * While a batch of records is written, a helper thread builds, checks and
 * prepares (mr_md_prepare: search keys, sealed identities) its rows just
 * ahead of the writer, on the other CPU; the writer waits for a row only if
 * it catches up. Without the helper (a small batch, the deferred pass, a
 * thread that could not start) the writer does the same work itself.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/mem.h"
#include "base/time.h"
#include "md/ident.h"
#include "md/import.h"
#include "md/norm.h"
#include "md/relate.h"

enum mr_imp_kind { MR_IMP_ENTITY, MR_IMP_ALIGN, MR_IMP_CONSENT, MR_IMP_IDENT };
enum { MR_IMP_MAXCOLS = 64 };

/* The columns of the relation imports; required ones first, marked with '*'. */
static const char *const mr_imp_align_cols[] = { "*hcp", "*rep", "*role", "product", "valid_from",
						 "valid_to", NULL };
static const char *const mr_imp_consent_cols[] = { "*hcp", "*channel", "*purpose", "*status",
						   "*captured_at", "source", "evidence", "version",
						   NULL };
static const char *const mr_imp_ident_cols[] = { "*hcp", "*kind", "*value", "app", "verified",
						 "source", NULL };

enum mr_imp_outcome { MR_IMP_NONE, MR_IMP_CREATED, MR_IMP_UPDATED, MR_IMP_UNCHANGED, MR_IMP_FAILED };

struct mr_imp_row {
	int64_t line;
	char **vals;             /* ncols values, in the batch arena */
	enum mr_imp_outcome outcome;
	struct mr_err err;       /* when FAILED */
	struct mr_md_rec *rec;   /* built, checked and prepared by the helper, or NULL */
	struct mr_err *rec_err;  /* the check's error, when it failed */
};

/*
 * The helper thread (see the top of the file). mu guards stop, posted and
 * n. next is read without the lock: the writer waits on cv only after
 * setting waiting, and the helper, having advanced next, signals only when
 * it sees waiting set (both sequentially consistent, so one of them sees
 * the other's write and no wakeup is lost).
 */
struct mr_imp_helper {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;       /* a batch posted, a row prepared, or stop */
	int stop;
	int posted;              /* a batch is being prepared */
	int n;                   /* its rows */
	atomic_int next;         /* rows prepared so far */
	atomic_int waiting;      /* the writer sleeps on cv for a row */
	struct mr_arena arena;   /* what the helper made for the batch; only it allocates */
};

enum { MR_IMP_HELPER_MIN = 64 }; /* smaller batches are prepared by the writer */

struct mr_imp_deferred {
	char *ext_id;
	int field;
	char *value;
	int64_t line;
};

struct mr_imp_seen {
	char *key;
	int64_t line;
};

struct mr_importer {
	struct mr_import_opts o;
	enum mr_imp_kind kind;
	const struct mr_md_entity *e;        /* MR_IMP_ENTITY */
	const char *const *rel_cols;          /* relation imports */
	int ncols;
	char *cols[MR_IMP_MAXCOLS];
	int map[MR_IMP_MAXCOLS];              /* entity: field index, -1 attr, -2 id; relation: column index */
	int header_done;
	struct mr_arena arena;                /* the batch */
	struct mr_imp_row *rows;
	int nrows;
	int careful;
	int deferring;                        /* writing the deferred references */
	struct mr_imp_deferred *deferred;
	size_t ndeferred, capdeferred;
	struct mr_imp_seen *seen;             /* open addressing, for duplicate ids */
	size_t nseen, capseen;
	struct mr_arena keep;                 /* strings that live for the whole import */
	struct mr_import_report rep;
	int64_t t0;
	struct mr_imp_helper *helper;        /* NULL until a batch wants one, or when none started */
	int helper_failed;
	int flushed;                          /* a batch was written */
	int indexes_deferred;                 /* the tables' indexes wait for the end (mr_imp_defer) */
};

int mr_import_known(const char *entity)
{
	return mr_md_entity_find(entity) || strcmp(entity, "alignments") == 0 ||
	       strcmp(entity, "consents") == 0 || strcmp(entity, "identities") == 0;
}

int mr_importer_new(struct mr_importer **out, const struct mr_import_opts *o, struct mr_err *err)
{
	struct mr_importer *im;

	*out = NULL;
	if (!mr_import_known(o->entity))
		return mr_err_set(err, MR_EINVAL,
				  "cannot import '%.40s': use territories, hcos, reps, hcps, content,"
				  " alignments, consents or identities", o->entity);
	im = mr_calloc(1, sizeof(*im));
	im->o = *o;
	if (im->o.batch <= 0)
		im->o.batch = 2000;
	if (im->o.max_errors <= 0)
		im->o.max_errors = 1000;
	im->e = mr_md_entity_find(o->entity);
	if (im->e)
		im->kind = MR_IMP_ENTITY;
	else if (strcmp(o->entity, "alignments") == 0)
		im->kind = MR_IMP_ALIGN, im->rel_cols = mr_imp_align_cols;
	else if (strcmp(o->entity, "consents") == 0)
		im->kind = MR_IMP_CONSENT, im->rel_cols = mr_imp_consent_cols;
	else
		im->kind = MR_IMP_IDENT, im->rel_cols = mr_imp_ident_cols;
	snprintf(im->rep.entity, sizeof(im->rep.entity), "%s", im->e ? im->e->plural : o->entity);
	im->rep.errors = json_array();
	mr_arena_init(&im->arena);
	mr_arena_init(&im->keep);
	im->rows = mr_calloc((size_t)im->o.batch, sizeof(*im->rows));
	im->t0 = mr_mono_us();
	*out = im;
	return 0;
}

static void mr_imp_helper_stop(struct mr_importer *im);
static int mr_imp_restore(struct mr_importer *im, struct mr_err *err);

void mr_importer_free(struct mr_importer *im)
{
	if (!im)
		return;
	mr_imp_helper_stop(im);
	if (im->indexes_deferred) {
		struct mr_err ignored; /* the next start builds them if this fails too */

		mr_err_clear(&ignored);
		mr_imp_restore(im, &ignored);
	}
	for (int i = 0; i < im->ncols; i++)
		free(im->cols[i]);
	mr_arena_release(&im->arena);
	mr_arena_release(&im->keep);
	free(im->rows);
	free(im->deferred);
	free(im->seen);
	json_decref(im->rep.errors);
	free(im);
}

/* Records an error of a row (line, column of field, reason). */
static void mr_imp_error(struct mr_importer *im, int64_t line, const char *field,
			 const struct mr_err *why)
{
	int64_t column = why->column;

	im->rep.errors_total++;
	im->rep.failed++;
	if (field && *field && !column) {
		for (int i = 0; i < im->ncols; i++) {
			if (strcmp(im->cols[i], field) == 0)
				column = i + 1;
		}
	}
	if (json_array_size(im->rep.errors) >= (size_t)im->o.max_errors)
		return;
	json_array_append_new(im->rep.errors,
			      json_pack("{s:I, s:I, s:s, s:s}", "line", (json_int_t)line,
					"column", (json_int_t)column, "field", field ? field : "",
					"message", why->msg));
}

void mr_importer_bad_row(struct mr_importer *im, const struct mr_err *why)
{
	im->rep.rows++;
	mr_imp_error(im, why->line, why->field, why);
}

static int mr_imp_rel_index(const char *const *cols, const char *name)
{
	for (int i = 0; cols[i]; i++) {
		const char *c = cols[i][0] == '*' ? cols[i] + 1 : cols[i];

		if (strcmp(c, name) == 0)
			return i;
	}
	return -1;
}

int mr_importer_header(struct mr_importer *im, int n, const char *const *cols, int64_t line,
		       struct mr_err *err)
{
	if (n > MR_IMP_MAXCOLS)
		return mr_err_set(err, MR_EINVAL, "line %lld: %d columns; at most %d", (long long)line,
				  n, MR_IMP_MAXCOLS);
	for (int i = 0; i < n; i++) {
		char name[80];

		snprintf(name, sizeof(name), "%s", cols[i]);
		for (char *p = name; *p; p++) {
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p + 32);
		}
		im->cols[i] = mr_strdup(name);
		im->ncols = i + 1;
		for (int j = 0; j < i; j++) {
			if (strcmp(im->cols[j], name) == 0) {
				err->line = line;
				err->column = i + 1;
				return mr_err_field(err, MR_EINVAL, name, "line %lld: column '%s' appears twice",
						    (long long)line, name);
			}
		}
		if (im->kind == MR_IMP_ENTITY) {
			im->map[i] = strcmp(name, "id") == 0 ? -2 : mr_md_field_index(im->e, name);
			continue;
		}
		im->map[i] = mr_imp_rel_index(im->rel_cols, name);
		if (im->map[i] < 0) {
			err->line = line;
			err->column = i + 1;
			return mr_err_field(err, MR_EINVAL, name, "line %lld, column %d: unknown column '%.40s' for %s",
					    (long long)line, i + 1, name, im->rep.entity);
		}
	}
	if (im->kind == MR_IMP_ENTITY) {
		int has_id = 0;

		for (int i = 0; i < n; i++)
			has_id |= im->map[i] == -2;
		if (!has_id)
			return mr_err_set(err, MR_EINVAL, "line %lld: the header has no 'id' column",
					  (long long)line);
	} else {
		for (int k = 0; im->rel_cols[k]; k++) {
			int found = 0;

			for (int i = 0; i < n; i++)
				found |= im->map[i] == k;
			if (im->rel_cols[k][0] == '*' && !found)
				return mr_err_set(err, MR_EINVAL, "line %lld: the header has no '%s' column",
						  (long long)line, im->rel_cols[k] + 1);
		}
	}
	im->header_done = 1;
	return 0;
}

static uint64_t mr_imp_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Remembers key at line; returns the earlier line when key was seen, else 0. */
static int64_t mr_imp_seen(struct mr_importer *im, const char *key, int64_t line)
{
	size_t i;

	if (im->nseen * 2 >= im->capseen) {
		struct mr_imp_seen *old = im->seen;
		size_t oldcap = im->capseen;

		im->capseen = oldcap ? oldcap * 2 : 4096;
		im->seen = mr_calloc(im->capseen, sizeof(*im->seen));
		for (size_t k = 0; k < oldcap; k++) {
			if (!old[k].key)
				continue;
			i = mr_imp_hash(old[k].key) & (im->capseen - 1);
			while (im->seen[i].key)
				i = (i + 1) & (im->capseen - 1);
			im->seen[i] = old[k];
		}
		free(old);
	}
	i = mr_imp_hash(key) & (im->capseen - 1);
	while (im->seen[i].key) {
		if (strcmp(im->seen[i].key, key) == 0)
			return im->seen[i].line;
		i = (i + 1) & (im->capseen - 1);
	}
	im->seen[i].key = mr_arena_strdup(&im->keep, key);
	im->seen[i].line = line;
	im->nseen++;
	return 0;
}

/* The value of relation column name in row, or NULL when absent or empty. */
static const char *mr_imp_rel(const struct mr_importer *im, const struct mr_imp_row *row,
			      const char *name)
{
	int k = mr_imp_rel_index(im->rel_cols, name);

	for (int i = 0; i < im->ncols; i++) {
		if (im->map[i] == k)
			return row->vals[i][0] ? row->vals[i] : NULL;
	}
	return NULL;
}

static int mr_imp_time(const char *s, const char *field, int64_t def, int64_t *out,
		       struct mr_err *err)
{
	if (!s) {
		*out = def;
		return 0;
	}
	if (mr_time_parse(s, 8 * 3600, out) < 0)
		return mr_err_field(err, MR_EINVAL, field,
				    "%s '%.40s' is not a date (2024-03-05) or time (2024-03-05T09:00:00+08:00)",
				    field, s);
	return 0;
}

static int mr_imp_apply_align(struct mr_conn *c, struct mr_importer *im, struct mr_imp_row *row,
			      struct mr_err *err)
{
	struct mr_alignment al = { mr_imp_rel(im, row, "hcp"), mr_imp_rel(im, row, "rep"),
				   mr_imp_rel(im, row, "role"), mr_imp_rel(im, row, "product"), 0, 0 };
	int64_t id;
	int changed = 0;
	int rc;

	if (!al.product)
		al.product = "";
	rc = mr_imp_time(mr_imp_rel(im, row, "valid_from"), "valid_from", im->o.who.now,
			 &al.valid_from, err);
	if (rc == 0)
		rc = mr_imp_time(mr_imp_rel(im, row, "valid_to"), "valid_to", 0, &al.valid_to, err);
	if (rc == 0)
		rc = mr_align_check(&al, err);
	if (rc == 0)
		rc = mr_align_upsert(c, &al, &im->o.who, &id, &changed, err);
	row->outcome = changed ? MR_IMP_CREATED : MR_IMP_UNCHANGED;
	return rc;
}

static int mr_imp_apply_consent(struct mr_conn *c, struct mr_importer *im, struct mr_imp_row *row,
				struct mr_err *err)
{
	struct mr_consent cs = { mr_imp_rel(im, row, "hcp"), mr_imp_rel(im, row, "channel"),
				 mr_imp_rel(im, row, "purpose"), mr_imp_rel(im, row, "status"), 0,
				 mr_imp_rel(im, row, "source"), mr_imp_rel(im, row, "evidence"),
				 mr_imp_rel(im, row, "version") };
	int added = 0;
	int rc = mr_imp_time(mr_imp_rel(im, row, "captured_at"), "captured_at", 0, &cs.captured_at, err);

	if (rc == 0)
		rc = mr_consent_check(&cs, im->o.who.now, err);
	if (rc == 0)
		rc = mr_consent_add(c, &cs, &im->o.who, &added, err);
	row->outcome = added ? MR_IMP_CREATED : MR_IMP_UNCHANGED;
	return rc;
}

static int mr_imp_apply_ident(struct mr_conn *c, struct mr_importer *im, struct mr_imp_row *row,
			      struct mr_err *err)
{
	const char *hcp = mr_imp_rel(im, row, "hcp"), *kind = mr_imp_rel(im, row, "kind");
	const char *value = mr_imp_rel(im, row, "value"), *verified = mr_imp_rel(im, row, "verified");
	char norm[MR_NORM_MAX];
	struct mr_ident id = { kind, mr_imp_rel(im, row, "app"), norm, 0, mr_imp_rel(im, row, "source") };
	int64_t hcp_id = 0;
	int rc;

	if (!hcp || !kind || !value)
		return mr_err_field(err, MR_EINVAL, !hcp ? "hcp" : !kind ? "kind" : "value", "%s is required",
				    !hcp ? "hcp" : !kind ? "kind" : "value");
	if (!id.app)
		id.app = "";
	id.verified = verified && (strcmp(verified, "1") == 0 || strcmp(verified, "true") == 0);
	rc = mr_norm_identity(kind, value, norm, "value", err);
	if (rc == 0 && (rc = mr_md_lookup(c, &mr_md_hcp, hcp, &hcp_id, err)) == MR_ENOTFOUND)
		rc = mr_err_field(err, MR_EINVAL, "hcp", "HCP '%.64s' does not exist", hcp);
	if (rc == 0)
		rc = mr_ident_add(c, im->o.keys, hcp_id, &id, &im->o.who, err);
	if (rc >= 0)
		row->outcome = rc == 1 ? MR_IMP_CREATED : MR_IMP_UNCHANGED;
	return rc < 0 ? rc : 0;
}

/* Fills rec from an entity row; values are the row's (already in the batch arena). */
static void mr_imp_rec(struct mr_importer *im, struct mr_imp_row *row, struct mr_md_rec *rec)
{
	mr_md_rec_init(rec, im->e);
	for (int i = 0; i < im->ncols; i++) {
		if (!row->vals[i])
			continue; /* a deferred reference: only id and that field */
		if (im->map[i] == -2) {
			rec->ext_id = row->vals[i];
		} else if (im->map[i] >= 0) {
			rec->val[im->map[i]] = row->vals[i];
		} else if (rec->nattrs < MR_MD_ATTRS_MAX) {
			if (rec->nattrs < 0)
				rec->nattrs = 0;
			rec->attr_key[rec->nattrs] = im->cols[i];
			rec->attr_val[rec->nattrs++] = row->vals[i];
		}
	}
}

static int mr_imp_self_ref(const struct mr_md_entity *e, const char *field)
{
	int i = mr_md_field_index(e, field);

	return i >= 0 && e->fields[i].kind == MR_MDK_REF && mr_md_entity_find(e->fields[i].ref) == e;
}

/* Builds, checks and prepares one row of the posted batch, into the helper's arena. */
static void mr_imp_prepare_row(struct mr_importer *im, struct mr_imp_row *row, struct mr_arena *a)
{
	struct mr_md_rec *rec = mr_arena_alloc(a, sizeof(*rec));
	struct mr_err why;

	mr_err_clear(&why);
	mr_imp_rec(im, row, rec);
	if (mr_md_rec_check(rec, 1, a, &why) < 0) {
		row->rec_err = mr_arena_alloc(a, sizeof(why));
		*row->rec_err = why;
	} else {
		mr_md_prepare(im->o.keys, rec, a);
	}
	row->rec = rec;
}

static void *mr_imp_helper_main(void *arg)
{
	struct mr_importer *im = arg;
	struct mr_imp_helper *h = im->helper;

	pthread_mutex_lock(&h->mu);
	for (;;) {
		int n;

		while (!h->stop && (!h->posted || atomic_load(&h->next) == h->n))
			pthread_cond_wait(&h->cv, &h->mu);
		if (h->stop)
			break;
		n = h->n;
		pthread_mutex_unlock(&h->mu);
		for (int i = atomic_load(&h->next); i < n; i++) {
			mr_imp_prepare_row(im, &im->rows[i], &h->arena);
			atomic_store(&h->next, i + 1);
			if (atomic_load(&h->waiting)) {
				pthread_mutex_lock(&h->mu);
				pthread_cond_broadcast(&h->cv);
				pthread_mutex_unlock(&h->mu);
			}
		}
		pthread_mutex_lock(&h->mu);
		pthread_cond_broadcast(&h->cv); /* the batch is done */
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

/* Hands the batch to the helper (started on first use); 0 when the writer prepares it itself. */
static int mr_imp_helper_post(struct mr_importer *im)
{
	struct mr_imp_helper *h = im->helper;

	if (im->kind != MR_IMP_ENTITY || im->deferring || im->nrows < MR_IMP_HELPER_MIN ||
	    im->helper_failed)
		return 0;
	if (!h) {
		h = mr_calloc(1, sizeof(*h));
		pthread_mutex_init(&h->mu, NULL);
		pthread_cond_init(&h->cv, NULL);
		mr_arena_init(&h->arena);
		im->helper = h;
		if (pthread_create(&h->thread, NULL, mr_imp_helper_main, im) != 0) {
			im->helper = NULL;
			im->helper_failed = 1;
			pthread_mutex_destroy(&h->mu);
			pthread_cond_destroy(&h->cv);
			free(h);
			return 0;
		}
	}
	pthread_mutex_lock(&h->mu);
	h->n = im->nrows;
	atomic_store(&h->next, 0);
	h->posted = 1;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	return 1;
}

/* 1 once row is prepared (waiting for the helper if needed); 0 when the batch is not the helper's. */
static int mr_imp_helper_wait(struct mr_importer *im, const struct mr_imp_row *row)
{
	struct mr_imp_helper *h = im->helper;
	int i = (int)(row - im->rows);

	/* posted and n change only between batches, on this thread */
	if (!h || !h->posted || i < 0 || i >= h->n)
		return 0;
	if (atomic_load(&h->next) > i)
		return 1;
	pthread_mutex_lock(&h->mu);
	atomic_store(&h->waiting, 1);
	while (atomic_load(&h->next) <= i)
		pthread_cond_wait(&h->cv, &h->mu);
	atomic_store(&h->waiting, 0);
	pthread_mutex_unlock(&h->mu);
	return 1;
}

/* Waits until the helper is done with the batch, then frees what it made for it. */
static void mr_imp_helper_done(struct mr_importer *im)
{
	struct mr_imp_helper *h = im->helper;

	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	atomic_store(&h->waiting, 1);
	while (h->posted && atomic_load(&h->next) < h->n)
		pthread_cond_wait(&h->cv, &h->mu);
	atomic_store(&h->waiting, 0);
	h->posted = 0;
	pthread_mutex_unlock(&h->mu);
	mr_arena_release(&h->arena);
	mr_arena_init(&h->arena);
}

static void mr_imp_helper_stop(struct mr_importer *im)
{
	struct mr_imp_helper *h = im->helper;

	if (!h)
		return;
	mr_imp_helper_done(im);
	pthread_mutex_lock(&h->mu);
	h->stop = 1;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->thread, NULL);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	free(h);
	im->helper = NULL;
}

static int mr_imp_apply_entity(struct mr_conn *c, struct mr_importer *im, struct mr_imp_row *row,
			       struct mr_err *err)
{
	struct mr_md_rec rec;
	struct mr_md_result res;
	int rc = 0;

	if (mr_imp_helper_wait(im, row)) {
		rec = *row->rec;
		if (row->rec_err)
			rc = (*err = *row->rec_err).code;
	} else {
		mr_imp_rec(im, row, &rec);
		rc = mr_md_rec_check(&rec, !im->deferring, &im->arena, err);
	}
	if (rc == 0)
		rc = mr_md_upsert(c, im->o.keys, &rec, im->deferring ? 2 : 0, &im->o.who, &res, err);
	if (rc == MR_EINVAL && err->kind && strcmp(err->kind, "unknown_reference") == 0 &&
	    mr_imp_self_ref(im->e, err->field) && !im->deferring) {
		/* a row later in the file: write without it now, set it at the end */
		int f = mr_md_field_index(im->e, err->field);
		struct mr_imp_deferred *d;

		if (im->ndeferred == im->capdeferred) {
			im->capdeferred = im->capdeferred ? im->capdeferred * 2 : 64;
			im->deferred = mr_realloc(im->deferred, im->capdeferred * sizeof(*im->deferred));
		}
		d = &im->deferred[im->ndeferred++];
		d->ext_id = mr_arena_strdup(&im->keep, rec.ext_id);
		d->field = f;
		d->value = mr_arena_strdup(&im->keep, rec.val[f]);
		d->line = row->line;
		rec.val[f] = NULL;
		mr_err_clear(err);
		rc = mr_md_upsert(c, im->o.keys, &rec, 0, &im->o.who, &res, err);
	}
	if (rc == 0)
		row->outcome = res.created ? MR_IMP_CREATED : res.changed ? MR_IMP_UPDATED : MR_IMP_UNCHANGED;
	return rc;
}

static int mr_imp_apply(struct mr_conn *c, struct mr_importer *im, struct mr_imp_row *row,
			struct mr_err *err)
{
	switch (im->kind) {
	case MR_IMP_ENTITY:
		return mr_imp_apply_entity(c, im, row, err);
	case MR_IMP_ALIGN:
		return mr_imp_apply_align(c, im, row, err);
	case MR_IMP_CONSENT:
		return mr_imp_apply_consent(c, im, row, err);
	case MR_IMP_IDENT:
		return mr_imp_apply_ident(c, im, row, err);
	}
	return 0;
}

/* A row error that is the row's fault (not the database's or ours). */
static int mr_imp_row_fault(int code)
{
	return code == MR_EINVAL || code == MR_ECONFLICT || code == MR_EUNPROC ||
	       code == MR_ENOTFOUND || code == MR_ETOOBIG;
}

static int mr_imp_batch_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_importer *im = arg;
	size_t deferred_at = im->ndeferred;

	for (int i = 0; i < im->nrows; i++) {
		struct mr_imp_row *row = &im->rows[i];
		int rc;

		if (row->outcome == MR_IMP_FAILED)
			continue;
		if (im->careful && (rc = mr_conn_savepoint(c, "imp_row", err)) < 0)
			return rc;
		mr_err_clear(&row->err);
		rc = mr_imp_apply(c, im, row, &row->err);
		if (rc < 0 && (!im->careful || !mr_imp_row_fault(rc))) {
			*err = row->err;
			im->ndeferred = deferred_at; /* the batch will be written again */
			return rc;
		}
		if (rc < 0) {
			row->outcome = MR_IMP_FAILED;
			if ((rc = mr_conn_rollback_to(c, "imp_row", err)) < 0)
				return rc;
		}
		if (im->careful && (rc = mr_conn_release_savepoint(c, "imp_row", err)) < 0)
			return rc;
	}
	return 0;
}

static void mr_imp_tally(struct mr_importer *im)
{
	for (int i = 0; i < im->nrows; i++) {
		struct mr_imp_row *row = &im->rows[i];

		switch (row->outcome) {
		case MR_IMP_CREATED:
			im->rep.created++;
			break;
		case MR_IMP_UPDATED:
			im->rep.updated++;
			break;
		case MR_IMP_UNCHANGED:
			im->rep.unchanged++;
			break;
		case MR_IMP_FAILED:
			mr_imp_error(im, row->line, row->err.field, &row->err);
			break;
		case MR_IMP_NONE:
			break;
		}
	}
}

/*
 * A large load into an empty table: the first batch is full and the tables
 * it writes hold no rows yet. Their non-unique indexes are dropped for the
 * load and built once at its end, sorted, which is several times cheaper
 * than keeping them through hundreds of thousands of scattered inserts.
 * The unique ones stay: they enforce the ids and identities as rows arrive.
 */
enum { MR_IMP_DEFER_MIN = 10000 };

static int mr_imp_defer_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_importer *im = arg;
	const char *tables[] = { im->e->table, im->e == &mr_md_hcp ? "hcp_identities" : NULL };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < sizeof(tables) / sizeof(tables[0]) && tables[i]; i++) {
		char sql[96];
		int64_t any = 0;
		int n = 0;

		snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM (SELECT 1 FROM %s LIMIT 1) AS t", tables[i]);
		rc = mr_conn_query_int(c, sql, NULL, 0, &any, err);
		if (rc == 0 && any == 0)
			rc = mr_conn_defer_indexes(c, tables[i], &n, err);
		if (n > 0)
			im->indexes_deferred = 1;
	}
	return rc;
}

static int mr_imp_restore_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	(void)arg;
	return mr_conn_restore_indexes(c, err);
}

/* Builds the indexes mr_imp_defer_fn dropped (also after a failed load). */
static int mr_imp_restore(struct mr_importer *im, struct mr_err *err)
{
	int rc;

	if (!im->indexes_deferred)
		return 0;
	rc = im->o.commit(im->o.commit_ctx, mr_imp_restore_fn, im, err);
	if (rc == 0)
		im->indexes_deferred = 0;
	return rc;
}

static int mr_imp_flush(struct mr_importer *im, struct mr_err *err)
{
	int rc;

	if (im->nrows == 0)
		return 0;
	if (!im->flushed && im->kind == MR_IMP_ENTITY && im->nrows >= MR_IMP_DEFER_MIN &&
	    im->nrows == im->o.batch) {
		rc = im->o.commit(im->o.commit_ctx, mr_imp_defer_fn, im, err);
		if (rc < 0)
			return rc;
	}
	im->flushed = 1;
	im->o.who.now = mr_now_us();
	im->careful = 0;
	mr_imp_helper_post(im);
	rc = im->o.commit(im->o.commit_ctx, mr_imp_batch_fn, im, err);
	if (rc < 0 && mr_imp_row_fault(rc)) {
		im->careful = 1;
		mr_err_clear(err);
		rc = im->o.commit(im->o.commit_ctx, mr_imp_batch_fn, im, err);
	}
	mr_imp_helper_done(im);
	if (rc == 0)
		mr_imp_tally(im);
	if (im->o.progress)
		im->o.progress(im->o.progress_arg, im->rep.rows);
	im->nrows = 0;
	mr_arena_release(&im->arena);
	mr_arena_init(&im->arena);
	return rc;
}

/*
 * A cell as it was before medreach's own CSV export defused it: the export
 * (src/base/table.c) puts a ' before a value a spreadsheet would take for a
 * formula (+8613812345678, =..., -..., @...), and importing that file again
 * must take it off.
 */
static const char *mr_imp_undefuse(const char *v)
{
	if (v[0] == '\'' && v[1] != '\0' && strchr("=+-@\t\r", v[1]))
		return v + 1;
	return v;
}

int mr_importer_row(struct mr_importer *im, int n, const char *const *vals, int64_t line,
		    struct mr_err *err)
{
	struct mr_imp_row *row;
	struct mr_err why;

	im->rep.rows++;
	mr_err_clear(&why);
	if (n != im->ncols) {
		why.column = n > im->ncols ? im->ncols + 1 : n + 1;
		mr_err_set(&why, MR_EINVAL, "line %lld has %d fields; the header has %d", (long long)line,
			   n, im->ncols);
		mr_imp_error(im, line, "", &why);
		return 0;
	}
	if (im->kind == MR_IMP_ENTITY) {
		for (int i = 0; i < n; i++) {
			int64_t first;

			if (im->map[i] != -2 || !vals[i][0])
				continue;
			first = mr_imp_seen(im, vals[i], line);
			if (first) {
				mr_err_field(&why, MR_EINVAL, "id", "duplicate id '%.64s' in this file (first on line %lld)",
					     vals[i], (long long)first);
				mr_imp_error(im, line, "id", &why);
				return 0;
			}
		}
	}
	row = &im->rows[im->nrows++];
	memset(row, 0, sizeof(*row));
	row->line = line;
	row->vals = mr_arena_alloc(&im->arena, (size_t)n * sizeof(char *));
	for (int i = 0; i < n; i++)
		row->vals[i] = mr_arena_strdup(&im->arena, mr_imp_undefuse(vals[i]));
	if (im->nrows == im->o.batch)
		return mr_imp_flush(im, err);
	return 0;
}

/* Sets the references that pointed forward in the file, now that every row is in. */
static int mr_imp_deferred(struct mr_importer *im, struct mr_err *err)
{
	size_t at = 0;
	int rc = 0;

	im->deferring = 1;
	while (rc == 0 && at < im->ndeferred) {
		size_t end = at + (size_t)im->o.batch < im->ndeferred ? at + (size_t)im->o.batch : im->ndeferred;

		im->nrows = 0;
		for (size_t i = at; i < end; i++) {
			struct mr_imp_row *row = &im->rows[im->nrows++];
			struct mr_imp_deferred *d = &im->deferred[i];

			memset(row, 0, sizeof(*row));
			row->line = d->line;
			row->vals = mr_arena_alloc(&im->arena, (size_t)im->ncols * sizeof(char *));
			for (int k = 0; k < im->ncols; k++)
				row->vals[k] = im->map[k] == -2 ? d->ext_id : im->map[k] == d->field ? d->value : NULL;
		}
		im->o.who.now = mr_now_us();
		im->careful = 1;
		rc = im->o.commit(im->o.commit_ctx, mr_imp_batch_fn, im, err);
		for (int i = 0; rc == 0 && i < im->nrows; i++) {
			if (im->rows[i].outcome == MR_IMP_FAILED) {
				im->rep.failed--; /* the row was counted once already */
				mr_imp_error(im, im->rows[i].line, im->rows[i].err.field, &im->rows[i].err);
			}
		}
		im->nrows = 0;
		at = end;
	}
	return rc;
}

int mr_importer_finish(struct mr_importer *im, struct mr_import_report *rep, struct mr_err *err)
{
	int rc = mr_imp_flush(im, err);

	if (rc == 0)
		rc = mr_imp_deferred(im, err);
	if (rc == 0)
		rc = mr_imp_restore(im, err);
	im->rep.took_us = mr_mono_us() - im->t0;
	*rep = im->rep;
	rep->errors = json_incref(im->rep.errors);
	return rc;
}

int mr_import_csv(struct mr_csv *csv, const struct mr_import_opts *o,
		  struct mr_import_report *rep, struct mr_err *err)
{
	struct mr_importer *im = NULL;
	struct mr_csv_rec r;
	int rc = mr_importer_new(&im, o, err);

	memset(rep, 0, sizeof(*rep));
	if (rc < 0)
		return rc;
	while (rc == 0) {
		struct mr_err why;

		mr_err_clear(&why);
		rc = mr_csv_next(csv, &r, &why);
		if (rc == 0)
			break;
		if (rc == MR_EINVAL && im->header_done) {
			mr_importer_bad_row(im, &why);
			rc = 0;
			continue;
		}
		if (rc < 0) {
			*err = why;
			break;
		}
		if (!im->header_done)
			rc = mr_importer_header(im, r.nfields, (const char *const *)r.fields, r.line, err);
		else
			rc = mr_importer_row(im, r.nfields, (const char *const *)r.fields, r.line, err);
	}
	if (rc == 0 && !im->header_done)
		rc = mr_err_set(err, MR_EINVAL, "the file is empty: expected a header row naming the columns");
	if (rc == 0)
		rc = mr_importer_finish(im, rep, err);
	mr_importer_free(im);
	return rc;
}

json_t *mr_import_report_json(const struct mr_import_report *rep)
{
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:O, s:I}", "entity", rep->entity,
			 "rows", (json_int_t)rep->rows, "created", (json_int_t)rep->created,
			 "updated", (json_int_t)rep->updated, "unchanged", (json_int_t)rep->unchanged,
			 "failed", (json_int_t)rep->failed, "errors_total", (json_int_t)rep->errors_total,
			 "errors", rep->errors ? rep->errors : json_array(),
			 "took_ms", (json_int_t)(rep->took_us / 1000));
}

void mr_import_report_release(struct mr_import_report *rep)
{
	json_decref(rep->errors);
	rep->errors = NULL;
}
