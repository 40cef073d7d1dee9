/*
 * See history_load.h. The roster is built in three steps whichever way it
 * is read: the doctors (with their hospital's level and tier), then their
 * current alignments, then the kinds of identity they hold; an alignment or
 * identity of a doctor not on the roster (a duplicate, an inactive doctor)
 * is skipped. The store sink copies each event the generator hands it into
 * a batch (its strings into the batch's arena, the doctor's and rep's
 * internal ids from the roster, the id's key hashed for SQLite's id set)
 * and commits the batch in one transaction when it is full.
 */
#include "demo/history_load.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "engine/evindex.h"
#include "event/log.h"

enum { MR_HL_BATCH = 20000, MR_HL_BATCH_MAX = 100000 };

/* A hospital as the rows give it: external id, level and city tier. */
struct mr_hist_hco {
	const char *id;
	int level, tier;
};

static const char *const mr_hl_roles[MR_HIST_ROLES] = { "field_owner", "inside_owner", "msl" };

void mr_hist_roster_init(struct mr_hist_roster *r, int64_t now_us)
{
	memset(r, 0, sizeof(*r));
	r->now_us = now_us;
	mr_arena_init(&r->strs);
}

void mr_hist_roster_release(struct mr_hist_roster *r)
{
	free(r->h);
	free(r->hcp_id);
	free(r->rep_id);
	free(r->hcos);
	mr_arena_release(&r->strs);
	memset(r, 0, sizeof(*r));
}

/* The primary doctors of a demo world are D0000001…; its planted duplicates MTG-… and WX-…. */
static int mr_hl_primary(const char *ext)
{
	if (!ext || ext[0] != 'D' || !ext[1])
		return 0;
	for (const char *p = ext + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
	}
	return 1;
}

/* A copy of s in the roster's arena; NULL and "" become NULL (unknown). */
static const char *mr_hl_str(struct mr_hist_roster *r, const char *s)
{
	return s && *s ? mr_arena_strdup(&r->strs, s) : NULL;
}

/* Appends a doctor (no reps, no identities yet) and returns it. */
static struct mr_hist_hcp *mr_hl_add(struct mr_hist_roster *r, int64_t id, const char *ext,
				     const char *specialty, const char *title, int level, int tier)
{
	struct mr_hist_hcp *h;

	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 4096;
		r->h = mr_realloc(r->h, r->cap * sizeof(*r->h));
		r->hcp_id = mr_realloc(r->hcp_id, r->cap * sizeof(*r->hcp_id));
		r->rep_id = mr_realloc(r->rep_id, r->cap * sizeof(*r->rep_id));
	}
	h = &r->h[r->n];
	memset(h, 0, sizeof(*h));
	memset(r->rep_id[r->n], 0, sizeof(r->rep_id[r->n]));
	r->hcp_id[r->n++] = id;
	h->id = mr_arena_strdup(&r->strs, ext);
	h->specialty = mr_hl_str(r, specialty);
	h->title = mr_hl_str(r, title);
	h->hco_level = level >= 1 && level <= 3 ? level : 0;
	h->city_tier = tier >= 1 && tier <= 5 ? tier : 0;
	return h;
}

/* Sets doctor i's rep of role (the first current alignment of that role wins). */
static void mr_hl_align(struct mr_hist_roster *r, size_t i, const char *role, int64_t rep_id,
			const char *rep_ext)
{
	const char **slot[MR_HIST_ROLES] = { &r->h[i].field_rep, &r->h[i].inside_rep, &r->h[i].msl };

	for (int k = 0; k < MR_HIST_ROLES; k++) {
		if (strcmp(role, mr_hl_roles[k]) != 0 || *slot[k])
			continue;
		*slot[k] = mr_arena_strdup(&r->strs, rep_ext);
		r->rep_id[i][k] = rep_id;
	}
}

/* Notes that doctor i has an identity of kind. */
static void mr_hl_ident(struct mr_hist_roster *r, size_t i, const char *kind)
{
	struct mr_hist_hcp *h = &r->h[i];

	h->has_wechat |= strcmp(kind, "wechat_unionid") == 0 || strcmp(kind, "wechat_openid") == 0;
	h->has_wecom |= strcmp(kind, "wecom_external_userid") == 0;
	h->has_email |= strcmp(kind, "email") == 0;
}

/* ------------------------------------------------------------ from the store */

/* Doctor index by internal id: the roster is in external-id order, so a sorted copy of the ids. */
struct mr_hl_byid {
	int64_t id;
	size_t i;
};

static int mr_hl_cmp_byid(const void *a, const void *b)
{
	const struct mr_hl_byid *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static long mr_hl_find_id(const struct mr_hl_byid *by, size_t n, int64_t id)
{
	struct mr_hl_byid key = { id, 0 };
	const struct mr_hl_byid *hit = bsearch(&key, by, n, sizeof(*by), mr_hl_cmp_byid);

	return hit ? (long)hit->i : -1;
}

static int mr_hl_load_hcps(struct mr_hist_roster *r, struct mr_conn *c, struct mr_err *err)
{
	struct mr_rows *rows = NULL;
	int rc = mr_conn_query(c,
			       "SELECT h.id, h.ext_id, h.specialty, h.title, o.level, o.city_tier"
			       " FROM hcps h LEFT JOIN hcos o ON o.id = h.hco_id"
			       " WHERE h.ext_id >= 'D' AND h.ext_id < 'E' AND h.status = 'active'"
			       " AND h.deleted_at IS NULL AND h.merged_into IS NULL AND h.erased_at IS NULL"
			       " ORDER BY h.ext_id",
			       NULL, 0, &rows, err);

	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		rc = 0;
		if (!mr_hl_primary(mr_rows_text(rows, 1)))
			continue;
		mr_hl_add(r, mr_rows_int(rows, 0), mr_rows_text(rows, 1), mr_rows_text(rows, 2),
			  mr_rows_text(rows, 3), (int)mr_rows_int(rows, 4), (int)mr_rows_int(rows, 5));
	}
	mr_rows_close(rows);
	return rc < 0 ? rc : 0;
}

static int mr_hl_load_aligns(struct mr_hist_roster *r, struct mr_conn *c,
			     const struct mr_hl_byid *by, struct mr_err *err)
{
	struct mr_val args[2] = { mr_v_int(r->now_us), mr_v_int(r->now_us) };
	struct mr_rows *rows = NULL;
	int rc = mr_conn_query(c,
			       "SELECT a.hcp_id, a.role, a.rep_id, p.ext_id FROM alignments a"
			       " JOIN reps p ON p.id = a.rep_id"
			       " WHERE a.deleted_at IS NULL AND p.deleted_at IS NULL AND a.valid_from <= ?"
			       " AND (a.valid_to IS NULL OR a.valid_to > ?)"
			       " AND a.role IN ('field_owner', 'inside_owner', 'msl') ORDER BY a.id",
			       args, 2, &rows, err);

	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		long i = mr_hl_find_id(by, r->n, mr_rows_int(rows, 0));

		rc = 0;
		if (i >= 0)
			mr_hl_align(r, (size_t)i, mr_rows_text(rows, 1), mr_rows_int(rows, 2),
				    mr_rows_text(rows, 3));
	}
	mr_rows_close(rows);
	return rc < 0 ? rc : 0;
}

static int mr_hl_load_idents(struct mr_hist_roster *r, struct mr_conn *c,
			     const struct mr_hl_byid *by, struct mr_err *err)
{
	struct mr_rows *rows = NULL;
	int rc = mr_conn_query(c,
			       "SELECT DISTINCT hcp_id, kind FROM hcp_identities WHERE kind IN"
			       " ('wechat_unionid', 'wechat_openid', 'wecom_external_userid', 'email')",
			       NULL, 0, &rows, err);

	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		long i = mr_hl_find_id(by, r->n, mr_rows_int(rows, 0));

		rc = 0;
		if (i >= 0)
			mr_hl_ident(r, (size_t)i, mr_rows_text(rows, 1));
	}
	mr_rows_close(rows);
	return rc < 0 ? rc : 0;
}

int mr_hist_roster_load(struct mr_hist_roster *r, struct mr_conn *c, struct mr_err *err)
{
	struct mr_hl_byid *by = NULL;
	int rc = mr_conn_begin_read(c, err); /* one snapshot: doctors, alignments and identities agree */

	if (rc == 0)
		rc = mr_hl_load_hcps(r, c, err);
	if (rc == 0) {
		by = mr_malloc((r->n + 1) * sizeof(*by));
		for (size_t i = 0; i < r->n; i++) {
			by[i].id = r->hcp_id[i];
			by[i].i = i;
		}
		qsort(by, r->n, sizeof(*by), mr_hl_cmp_byid);
		rc = mr_hl_load_aligns(r, c, by, err);
	}
	if (rc == 0)
		rc = mr_hl_load_idents(r, c, by, err);
	if (rc == 0)
		rc = mr_conn_commit(c, err);
	else
		mr_conn_rollback(c);
	free(by);
	return rc;
}

/* ------------------------------------------------------------ from the world's rows */

/* The columns each entity's rows are read by, in the order of r->col. */
static const struct {
	const char *entity;
	const char *cols[7];
} mr_hl_cols[] = {
	{ "hcos", { "id", "level", "city_tier", NULL } },
	{ "hcps", { "id", "specialty", "title", "hco", "email", "status", NULL } },
	{ "identities", { "hcp", "kind", NULL } },
	{ "alignments", { "hcp", "role", "rep", "valid_from", "valid_to", NULL } },
};

static int mr_hl_cmp_hco(const void *a, const void *b)
{
	return strcmp(((const struct mr_hist_hco *)a)->id, ((const struct mr_hist_hco *)b)->id);
}

static int mr_hl_cmp_hcp(const void *a, const void *b)
{
	return strcmp(((const struct mr_hist_hcp *)a)->id, ((const struct mr_hist_hcp *)b)->id);
}

void mr_hist_roster_begin(struct mr_hist_roster *r, const char *entity, int ncols,
			  const char *const *cols)
{
	r->entity = NULL;
	for (size_t e = 0; e < sizeof(mr_hl_cols) / sizeof(mr_hl_cols[0]); e++) {
		if (strcmp(entity, mr_hl_cols[e].entity) != 0)
			continue;
		r->entity = mr_hl_cols[e].entity;
		for (int k = 0; mr_hl_cols[e].cols[k]; k++) {
			r->col[k] = -1;
			for (int j = 0; j < ncols; j++) {
				if (strcmp(cols[j], mr_hl_cols[e].cols[k]) == 0)
					r->col[k] = j;
			}
		}
	}
	if (r->entity && strcmp(r->entity, "hcps") == 0) /* the hospitals are all in: sort them once */
		qsort(r->hcos, r->nhcos, sizeof(*r->hcos), mr_hl_cmp_hco);
	if (r->entity && !r->sorted && (strcmp(r->entity, "identities") == 0 ||
					 strcmp(r->entity, "alignments") == 0)) {
		/*
		 * The world gives doctors in id order; sort anyway, so a lookup is
		 * always right (hcp_id and rep_id are all 0 here, so they need not follow).
		 */
		qsort(r->h, r->n, sizeof(*r->h), mr_hl_cmp_hcp);
		r->sorted = 1;
	}
}

/* Value k of the current entity's columns, or "" when the rows lack that column. */
static const char *mr_hl_val(const struct mr_hist_roster *r, const char *const *vals, int k)
{
	return r->col[k] >= 0 ? vals[r->col[k]] : "";
}

static int64_t mr_hl_int(const char *s, int64_t min, int64_t max)
{
	int64_t v = 0;

	return mr_parse_i64(s, min, max, &v) == 0 ? v : 0;
}

static void mr_hl_row_hco(struct mr_hist_roster *r, const char *const *vals)
{
	struct mr_hist_hco *o;

	if (r->nhcos == r->caphcos) {
		r->caphcos = r->caphcos ? 2 * r->caphcos : 1024;
		r->hcos = mr_realloc(r->hcos, r->caphcos * sizeof(*r->hcos));
	}
	o = &r->hcos[r->nhcos++];
	o->id = mr_arena_strdup(&r->strs, mr_hl_val(r, vals, 0));
	o->level = (int)mr_hl_int(mr_hl_val(r, vals, 1), 1, 3);
	o->tier = (int)mr_hl_int(mr_hl_val(r, vals, 2), 1, 5);
}

static void mr_hl_row_hcp(struct mr_hist_roster *r, const char *const *vals)
{
	struct mr_hist_hco key = { mr_hl_val(r, vals, 3), 0, 0 }, *o = NULL;
	struct mr_hist_hcp *h;

	if (!mr_hl_primary(mr_hl_val(r, vals, 0)) || strcmp(mr_hl_val(r, vals, 5), "active") != 0)
		return;
	if (*key.id)
		o = bsearch(&key, r->hcos, r->nhcos, sizeof(*r->hcos), mr_hl_cmp_hco);
	h = mr_hl_add(r, 0, mr_hl_val(r, vals, 0), mr_hl_val(r, vals, 1), mr_hl_val(r, vals, 2),
		      o ? o->level : 0, o ? o->tier : 0);
	h->has_email = *mr_hl_val(r, vals, 4) != '\0';
}

/* The roster's index of the doctor with external id ext, or -1 (not a roster doctor). */
static long mr_hl_find_ext(const struct mr_hist_roster *r, const char *ext)
{
	struct mr_hist_hcp key = { .id = ext };
	const struct mr_hist_hcp *hit = bsearch(&key, r->h, r->n, sizeof(*r->h), mr_hl_cmp_hcp);

	return hit ? (long)(hit - r->h) : -1;
}

/* An alignment row is current when it started by now and has not ended by then. */
static int mr_hl_current(const struct mr_hist_roster *r, const char *from, const char *to)
{
	int64_t f = 0, t = 0;

	if (*from && (mr_time_parse(from, 8 * 3600, &f) < 0 || f > r->now_us))
		return 0;
	return !*to || (mr_time_parse(to, 8 * 3600, &t) == 0 && t > r->now_us);
}

void mr_hist_roster_row(struct mr_hist_roster *r, const char *const *vals)
{
	long i;

	if (!r->entity)
		return;
	if (strcmp(r->entity, "hcos") == 0) {
		mr_hl_row_hco(r, vals);
		return;
	}
	if (strcmp(r->entity, "hcps") == 0) {
		mr_hl_row_hcp(r, vals);
		return;
	}
	i = mr_hl_find_ext(r, mr_hl_val(r, vals, 0));
	if (i < 0)
		return;
	if (strcmp(r->entity, "identities") == 0)
		mr_hl_ident(r, (size_t)i, mr_hl_val(r, vals, 1));
	else if (mr_hl_current(r, mr_hl_val(r, vals, 3), mr_hl_val(r, vals, 4)))
		mr_hl_align(r, (size_t)i, mr_hl_val(r, vals, 1), 0, mr_hl_val(r, vals, 2));
}

/* ------------------------------------------------------------ into the event log */

struct mr_hl_sink {
	const struct mr_hist_roster *r;
	const struct mr_hist_load_opts *lo;
	struct mr_evindex *ids;      /* SQLite: the id set; NULL on PostgreSQL */
	struct mr_md_actor who;
	struct mr_hist_load_report *rep;
	size_t cur;                  /* the doctor events are arriving for */
	struct mr_evlog_batch b;
	int cap;
	struct mr_arena arena;       /* the batch's strings */
};

static int mr_hl_append(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_hl_sink *s = arg;

	return mr_evlog_append(c, s->ids, s->lo->keys, &s->who, &s->b, err);
}

/* Commits the batch in one transaction and starts the next. */
static int mr_hl_flush(struct mr_hl_sink *s, struct mr_err *err)
{
	int64_t t0 = mr_mono_us();
	int rc;

	if (s->b.n == 0)
		return 0;
	mr_evlog_batch_reset(&s->b);
	rc = mr_store_write(s->lo->store, mr_hl_append, s, err);
	if (rc < 0) {
		mr_evlog_undo(s->ids, &s->b);
		return rc;
	}
	s->rep->stored += s->b.stored;
	s->rep->duplicates += s->b.duplicates;
	s->rep->write_us += mr_mono_us() - t0;
	for (int i = 0; i < s->b.n; i++) {
		if (s->b.fate[i] == MR_EV_REJECTED) /* cannot happen: every event names its doctor by id */
			return mr_err_set(err, MR_EINTERNAL, "the event log rejected demo event %s: %s",
					  s->b.ev[i].id, s->b.why[i].msg);
	}
	s->b.n = 0;
	mr_arena_release(&s->arena);
	if (s->lo->progress)
		s->lo->progress(s->lo->progress_arg, s->rep->stored + s->rep->duplicates);
	return 0;
}

/* The roster index of ev's doctor: events come doctor by doctor in roster order. */
static int mr_hl_doctor(struct mr_hl_sink *s, const char *hcp, struct mr_err *err)
{
	while (s->cur < s->r->n && strcmp(s->r->h[s->cur].id, hcp) != 0)
		s->cur++;
	if (s->cur == s->r->n)
		return mr_err_set(err, MR_EINTERNAL, "the history named doctor %s out of the roster's order", hcp);
	return 0;
}

/* The rep of ev among the doctor's: its internal id and the roster's copy of its external id. */
static int mr_hl_rep(const struct mr_hl_sink *s, struct mr_event *e, struct mr_err *err)
{
	const struct mr_hist_hcp *h = &s->r->h[s->cur];
	const char *mine[MR_HIST_ROLES] = { h->field_rep, h->inside_rep, h->msl };

	if (!e->rep)
		return 0;
	for (int k = 0; k < MR_HIST_ROLES; k++) {
		if (mine[k] && strcmp(mine[k], e->rep) == 0) {
			e->rep = mine[k];
			e->rep_id = s->r->rep_id[s->cur][k];
			return 0;
		}
	}
	return mr_err_set(err, MR_EINTERNAL, "the history gave doctor %s rep %s, not aligned to them",
			  h->id, e->rep);
}

static int mr_hl_event(void *arg, const struct mr_event *ev, struct mr_err *err)
{
	struct mr_hl_sink *s = arg;
	struct mr_event *e = &s->b.ev[s->b.n];
	int rc = mr_hl_doctor(s, ev->hcp, err);

	if (rc < 0)
		return rc;
	*e = *ev;
	e->id = mr_arena_strdup(&s->arena, ev->id);
	e->hcp = s->r->h[s->cur].id;
	e->hcp_id = s->r->hcp_id[s->cur];
	e->type = mr_arena_strdup(&s->arena, ev->type);
	e->content = mr_arena_strdup(&s->arena, ev->content);
	e->campaign = mr_arena_strdup(&s->arena, ev->campaign);
	e->meeting = mr_arena_strdup(&s->arena, ev->meeting);
	e->props = mr_arena_strdup(&s->arena, ev->props);
	e->source = "demo";
	e->rep_id = 0;
	e->id_key[0] = e->id_key[1] = 0;
	rc = mr_hl_rep(s, e, err);
	if (rc == 0)
		rc = mr_event_check(e, s->lo->now_us, &s->arena, err);
	if (rc < 0)
		return rc;
	if (s->ids)
		mr_evindex_id_key(s->ids, e->id, e->id_key);
	s->rep->events++;
	return ++s->b.n == s->cap ? mr_hl_flush(s, err) : 0;
}

/* SQLite's id set, loaded with the ids already stored, so a second run stores nothing twice. */
static int mr_hl_ids(struct mr_hl_sink *s, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	int rc;

	if (mr_store_kind(s->lo->store) != MR_STORE_SQLITE)
		return 0;
	s->ids = mr_evindex_new(1);
	rc = mr_store_acquire(s->lo->store, &c, err);
	if (rc == 0) {
		rc = mr_evindex_sync(s->ids, c, err);
		mr_store_release(s->lo->store, c);
	}
	return rc;
}

static void mr_hl_sink_init(struct mr_hl_sink *s, const struct mr_hist_roster *r,
			    const struct mr_hist_load_opts *lo, struct mr_hist_load_report *rep)
{
	memset(s, 0, sizeof(*s));
	s->r = r;
	s->lo = lo;
	s->rep = rep;
	s->cap = lo->batch > 0 && lo->batch <= MR_HL_BATCH_MAX ? lo->batch : MR_HL_BATCH;
	s->b.ev = mr_malloc((size_t)s->cap * sizeof(*s->b.ev));
	s->b.fate = mr_malloc((size_t)s->cap);
	s->b.seq = mr_malloc((size_t)s->cap * sizeof(*s->b.seq));
	s->b.why = mr_malloc((size_t)s->cap * sizeof(*s->b.why));
	s->who.login = "demo";
	s->who.source = "demo";
	s->who.now = lo->now_us;
	mr_arena_init(&s->arena);
}

static void mr_hl_sink_release(struct mr_hl_sink *s)
{
	free(s->b.ev);
	free(s->b.fate);
	free(s->b.seq);
	free(s->b.why);
	mr_evindex_free(s->ids);
	mr_arena_release(&s->arena);
}

int mr_hist_store(const struct mr_hist_opts *o, const struct mr_hist_roster *r,
		  const struct mr_hist_load_opts *lo, struct mr_hist_load_report *rep,
		  struct mr_err *err)
{
	struct mr_hl_sink s;
	struct mr_hist_sink sink = { &s, NULL, mr_hl_event };
	struct mr_hist_stats st;
	int64_t t0 = mr_mono_us();
	int rc;

	memset(rep, 0, sizeof(*rep));
	memset(&st, 0, sizeof(st));
	mr_hl_sink_init(&s, r, lo, rep);
	rc = mr_hl_ids(&s, err);
	if (rc == 0)
		rc = mr_hist_generate(o, r->h, r->n, &sink, &st, err);
	if (rc == 0)
		rc = mr_hl_flush(&s, err);
	rep->meetings = st.meetings;
	mr_hl_sink_release(&s);
	rep->took_us = mr_mono_us() - t0;
	return rc;
}

/* ------------------------------------------------------------ into an NDJSON file */

/*
 * Lines are formatted by hand, in mr_event_json's shape and field order: a
 * tenth of the cost of a jansson object per event, which matters for the
 * ten million events of a 400,000-doctor world. Every string is one that
 * mr_event_check passed (a reference of UTF-8 without quotes, backslashes
 * or controls, or a token), so none needs escaping; an event with props
 * (the history sets none) goes through mr_event_json.
 */
struct mr_hl_file {
	FILE *f;
	int64_t now_us;
	struct mr_buf line;
	struct mr_arena arena;
	struct mr_hist_load_report *rep;
};

static void mr_hl_field(struct mr_buf *b, const char *name, const char *v)
{
	if (v)
		mr_buf_addf(b, ",\"%s\":\"%s\"", name, v);
}

static void mr_hl_format(struct mr_buf *b, const struct mr_event *ev)
{
	char ts[40];

	mr_time_format(ev->ts, ts, sizeof(ts));
	mr_buf_reset(b);
	mr_buf_addf(b, "{\"id\":\"%s\",\"ts\":\"%s\",\"hcp\":\"%s\",\"channel\":\"%s\",\"type\":\"%s\","
		    "\"outcome\":\"%s\"", ev->id, ts, ev->hcp, mr_channel_name(ev->channel), ev->type,
		    mr_outcome_name(ev->channel, ev->outcome));
	mr_hl_field(b, "rep", ev->rep);
	mr_hl_field(b, "content", ev->content);
	mr_hl_field(b, "campaign", ev->campaign);
	mr_hl_field(b, "meeting", ev->meeting);
	if (ev->duration_s >= 0)
		mr_buf_addf(b, ",\"duration_s\":%lld", (long long)ev->duration_s);
	mr_buf_addf(b, ",\"source\":\"%s\"}\n", ev->source);
}

static int mr_hl_line(void *arg, const struct mr_event *ev, struct mr_err *err)
{
	struct mr_hl_file *x = arg;
	struct mr_event e = *ev;
	int rc = mr_event_check(&e, x->now_us, &x->arena, err);
	json_t *j;
	int ok;

	if (rc < 0)
		return rc;
	if (e.props) {
		j = mr_event_json(&e);
		ok = json_dumpf(j, x->f, JSON_COMPACT) == 0 && fputc('\n', x->f) != EOF;
		json_decref(j);
	} else {
		mr_hl_format(&x->line, &e);
		ok = fwrite(x->line.p, 1, x->line.len, x->f) == x->line.len;
	}
	if (!ok)
		return mr_err_set(err, MR_EIO, "cannot write the events: %m");
	x->rep->events++;
	return 0;
}

int mr_hist_write_ndjson(const struct mr_hist_opts *o, const struct mr_hist_roster *r, FILE *f,
			 struct mr_hist_load_report *rep, struct mr_err *err)
{
	struct mr_hl_file x = { f, o->to_us, { 0 }, { 0 }, rep };
	struct mr_hist_sink sink = { &x, NULL, mr_hl_line };
	struct mr_hist_stats st;
	int64_t t0 = mr_mono_us();
	int rc;

	memset(rep, 0, sizeof(*rep));
	mr_buf_init(&x.line, MR_EVENT_LINE_MAX);
	mr_arena_init(&x.arena);
	rc = mr_hist_generate(o, r->h, r->n, &sink, &st, err);
	rep->meetings = st.meetings;
	rep->took_us = mr_mono_us() - t0;
	mr_buf_release(&x.line);
	mr_arena_release(&x.arena);
	return rc;
}
