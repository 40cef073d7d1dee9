/*
 * The profile projection (profile.h). Every attribute is a column of
 * uint32 by HCP record id, the hospital's attributes copied into the
 * doctor's row (a hospital's change rewrites its doctors' rows; a segment
 * then reads one array per attribute it names). Hospitals are kept beside,
 * by hospital id, to make that copy.
 *
 * Consents in force: per (hcp, channel, purpose) the newest captured row;
 * a channel's bit is set when any purpose's newest row is an opt-in.
 */
#include "engine/profile.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/time.h"
#include "engine/dict.h"

enum { MR_PF_CHUNK = 500 };

static const char *const mr_pattr_names[MR_PA_COUNT] = {
	[MR_PA_SPECIALTY] = "specialty",
	[MR_PA_TITLE] = "title",
	[MR_PA_DEPARTMENT] = "department",
	[MR_PA_GENDER] = "gender",
	[MR_PA_STATUS] = "status",
	[MR_PA_HCO] = "hco",
	[MR_PA_HCO_GRADE] = "hco.grade",
	[MR_PA_HCO_TYPE] = "hco.type",
	[MR_PA_HCO_PROVINCE] = "hco.province",
	[MR_PA_HCO_CITY] = "hco.city",
	[MR_PA_REGION] = "region",
	[MR_PA_HCO_LEVEL] = "hco.level",
	[MR_PA_HCO_CITY_TIER] = "hco.city_tier",
};

/* The consent channels, in bit order: the event channels and the meeting invitation. */
static const char *const mr_pconsent_names[] = { "phone", "wechat", "wecom", "email", "sms", "meeting",
						 "visit", "content", "meeting_online", "meeting_offline" };
#define MR_PC_N ((int)(sizeof(mr_pconsent_names) / sizeof(mr_pconsent_names[0])))

/* The consent purposes, in MR_PP_ order: a block of MR_PC_MAX channel bits each in consent_p. */
static const char *const mr_ppurpose_names[MR_PP_COUNT] = { "promotional", "medical_info", "meeting_invite",
							     "survey" };

/* The hospital attributes copied into each doctor's row, in mr_pattr order. */
enum { MR_PF_HCO_FIRST = MR_PA_HCO, MR_PF_NHCO = 8 };
static const int mr_pf_hco_attrs[MR_PF_NHCO] = { MR_PA_HCO, MR_PA_HCO_GRADE, MR_PA_HCO_TYPE,
						 MR_PA_HCO_PROVINCE, MR_PA_HCO_CITY, MR_PA_REGION,
						 MR_PA_HCO_LEVEL, MR_PA_HCO_CITY_TIER };

struct mr_pf_hco {
	uint32_t v[MR_PF_NHCO]; /* by mr_pf_hco_attrs */
};

struct mr_profile {
	pthread_rwlock_t lock;
	atomic_int ready;
	atomic_int stale;              /* a reload failed: load whole at the next sync */
	struct mr_dict *dict;
	uint32_t *col[MR_PA_COUNT];    /* by record id */
	uint32_t *hco_id;              /* the doctor's hospital (internal id) */
	uint32_t *consent;             /* channel bits opted in to, any purpose */
	uint64_t *consent_p;           /* the same per purpose: bit purpose * MR_PC_MAX + channel */
	uint8_t *state;
	uint32_t *merged_into;
	uint32_t n, cap;               /* records: ids below n */
	struct mr_pf_hco *hco;         /* by hospital id */
	uint32_t nhco, caphco;
	struct mr_profile_stats stats;
	atomic_uint_fast64_t version;  /* bumped by every change (written under the write lock) */
};

int mr_profile_attr_of(const char *name)
{
	for (int i = 0; i < MR_PA_COUNT; i++) {
		if (strcmp(mr_pattr_names[i], name) == 0)
			return i;
	}
	return -1;
}

int mr_profile_attr_numeric(int attr)
{
	return attr == MR_PA_HCO_LEVEL || attr == MR_PA_HCO_CITY_TIER;
}

int mr_profile_consent_of(const char *channel)
{
	for (int i = 0; i < MR_PC_N; i++) {
		if (strcmp(mr_pconsent_names[i], channel) == 0)
			return i;
	}
	return -1;
}

/* ------------------------------------------------------------ columns */

static void mr_pf_grow(struct mr_profile *p, uint32_t id)
{
	uint32_t cap = p->cap ? p->cap : 1024;

	if (id < p->cap) {
		if (id >= p->n)
			p->n = id + 1;
		return;
	}
	while (cap <= id)
		cap *= 2;
	for (int a = 0; a < MR_PA_COUNT; a++) {
		p->col[a] = mr_realloc(p->col[a], (size_t)cap * sizeof(*p->col[a]));
		memset(p->col[a] + p->cap, 0, (size_t)(cap - p->cap) * sizeof(*p->col[a]));
	}
	p->hco_id = mr_realloc(p->hco_id, (size_t)cap * sizeof(*p->hco_id));
	p->consent = mr_realloc(p->consent, (size_t)cap * sizeof(*p->consent));
	p->consent_p = mr_realloc(p->consent_p, (size_t)cap * sizeof(*p->consent_p));
	p->state = mr_realloc(p->state, (size_t)cap * sizeof(*p->state));
	p->merged_into = mr_realloc(p->merged_into, (size_t)cap * sizeof(*p->merged_into));
	memset(p->hco_id + p->cap, 0, (size_t)(cap - p->cap) * sizeof(*p->hco_id));
	memset(p->consent + p->cap, 0, (size_t)(cap - p->cap) * sizeof(*p->consent));
	memset(p->consent_p + p->cap, 0, (size_t)(cap - p->cap) * sizeof(*p->consent_p));
	memset(p->state + p->cap, 0, (size_t)(cap - p->cap) * sizeof(*p->state));
	memset(p->merged_into + p->cap, 0, (size_t)(cap - p->cap) * sizeof(*p->merged_into));
	p->cap = cap;
	p->n = id + 1;
}

static struct mr_pf_hco *mr_pf_hco_slot(struct mr_profile *p, uint32_t id)
{
	if (id >= p->caphco) {
		uint32_t cap = p->caphco ? p->caphco : 256;

		while (cap <= id)
			cap *= 2;
		p->hco = mr_realloc(p->hco, (size_t)cap * sizeof(*p->hco));
		memset(p->hco + p->caphco, 0, (size_t)(cap - p->caphco) * sizeof(*p->hco));
		p->caphco = cap;
	}
	if (id >= p->nhco)
		p->nhco = id + 1;
	return &p->hco[id];
}

/* Copies hospital h's attributes into record id's row; called write-locked. */
static void mr_pf_copy_hco(struct mr_profile *p, uint32_t id)
{
	uint32_t h = p->hco_id[id];
	const struct mr_pf_hco *src = h && h < p->nhco ? &p->hco[h] : NULL;

	for (int i = 0; i < MR_PF_NHCO; i++)
		p->col[mr_pf_hco_attrs[i]][id] = src ? src->v[i] : 0;
}

/* ------------------------------------------------------------ reading the store */

#define MR_PF_HCO_SQL "SELECT id, ext_id, grade, type, province, city, region, level, city_tier FROM hcos"
#define MR_PF_HCP_SQL                                                                     \
	"SELECT id, specialty, title, department, gender, status, COALESCE(hco_id, 0),"   \
	" deleted_at IS NOT NULL, COALESCE(merged_into, 0), erased_at IS NOT NULL FROM hcps"
#define MR_PF_CONSENT_SQL                                                                 \
	"SELECT hcp_id, channel, purpose, status FROM consents"
#define MR_PF_CONSENT_ORDER " ORDER BY hcp_id, channel, purpose, captured_at, id"

static uint32_t mr_pf_text(struct mr_profile *p, struct mr_rows *r, int col)
{
	return mr_rows_isnull(r, col) ? 0 : mr_dict_add(p->dict, mr_rows_text(r, col));
}

static uint32_t mr_pf_small(struct mr_rows *r, int col)
{
	int64_t v = mr_rows_isnull(r, col) ? 0 : mr_rows_int(r, col);

	return v > 0 && v < 1000 ? (uint32_t)v : 0;
}

/* Reads hospital rows of sql into the hospital table; called write-locked. */
static int mr_pf_read_hcos(struct mr_profile *p, struct mr_conn *c, const char *sql,
			   const struct mr_val *args, int nargs, struct mr_err *err)
{
	struct mr_rows *r = NULL;
	int rc = mr_conn_query(c, sql, args, nargs, &r, err);

	while (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		int64_t id = mr_rows_int(r, 0);
		struct mr_pf_hco *h;

		rc = 0;
		if (id <= 0 || id >= UINT32_MAX)
			continue;
		h = mr_pf_hco_slot(p, (uint32_t)id);
		for (int i = 0; i < 6; i++)
			h->v[i] = mr_pf_text(p, r, 1 + i);
		h->v[6] = mr_pf_small(r, 7);
		h->v[7] = mr_pf_small(r, 8);
	}
	mr_rows_close(r);
	return rc < 0 ? rc : 0;
}

/* Reads HCP rows of sql into the columns; called write-locked. */
static int mr_pf_read_hcps(struct mr_profile *p, struct mr_conn *c, const char *sql,
			   const struct mr_val *args, int nargs, struct mr_err *err)
{
	struct mr_rows *r = NULL;
	int rc = mr_conn_query(c, sql, args, nargs, &r, err);

	while (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		int64_t id = mr_rows_int(r, 0), into = mr_rows_int(r, 8);
		uint32_t u;

		rc = 0;
		if (id <= 0 || id >= UINT32_MAX)
			continue;
		u = (uint32_t)id;
		mr_pf_grow(p, u);
		for (int a = MR_PA_SPECIALTY; a <= MR_PA_STATUS; a++)
			p->col[a][u] = mr_pf_text(p, r, 1 + a - MR_PA_SPECIALTY);
		p->hco_id[u] = (uint32_t)mr_rows_int(r, 6);
		p->merged_into[u] = into > 0 && into < UINT32_MAX ? (uint32_t)into : 0;
		p->state[u] = mr_rows_int(r, 7) || mr_rows_int(r, 9) ? MR_PS_DELETED :
			      p->merged_into[u] ? MR_PS_MERGED : MR_PS_LIVE;
		mr_pf_copy_hco(p, u);
	}
	mr_rows_close(r);
	return rc < 0 ? rc : 0;
}

/* The newest row of (hcp, channel bit, purpose pi) said in (opt_in): its bits. */
static void mr_pf_consent_set(struct mr_profile *p, int64_t hcp, int bit, int pi, int in)
{
	if (!in || bit < 0 || hcp <= 0 || (uint64_t)hcp >= p->n)
		return;
	p->consent[hcp] |= 1u << bit;
	if (pi >= 0)
		p->consent_p[hcp] |= UINT64_C(1) << (pi * MR_PC_MAX + bit);
}

/*
 * Reads consent rows of sql (ordered by hcp, channel, purpose, time) and
 * sets the bits of the doctors they name, whose bits were cleared first;
 * called write-locked.
 */
static int mr_pf_read_consents(struct mr_profile *p, struct mr_conn *c, const char *sql,
			       const struct mr_val *args, int nargs, struct mr_err *err)
{
	struct mr_rows *r = NULL;
	int rc = mr_conn_query(c, sql, args, nargs, &r, err);
	int64_t hcp = 0;
	int bit = -1, in = 0, pi = -1;
	char purpose[64] = "";

	while (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		int64_t h = mr_rows_int(r, 0);
		int b = mr_profile_consent_of(mr_rows_text(r, 1));
		const char *pu = mr_rows_text(r, 2);

		rc = 0;
		/* a new (hcp, channel, purpose): the one before ends with its newest row */
		if (h != hcp || b != bit || strncmp(pu, purpose, sizeof(purpose) - 1) != 0) {
			mr_pf_consent_set(p, hcp, bit, pi, in);
			hcp = h;
			bit = b;
			snprintf(purpose, sizeof(purpose), "%s", pu);
			pi = mr_profile_purpose_of(purpose);
		}
		in = strcmp(mr_rows_text(r, 3), "opt_in") == 0;
	}
	if (rc == 0)
		mr_pf_consent_set(p, hcp, bit, pi, in);
	mr_rows_close(r);
	return rc < 0 ? rc : 0;
}

/* Loads everything into p; called write-locked. */
static int mr_pf_load_all(struct mr_profile *p, struct mr_conn *c, struct mr_err *err)
{
	int rc;

	for (int a = 0; a < MR_PA_COUNT && p->cap; a++)
		memset(p->col[a], 0, (size_t)p->cap * sizeof(*p->col[a]));
	if (p->cap) {
		memset(p->state, 0, (size_t)p->cap * sizeof(*p->state));
		memset(p->consent, 0, (size_t)p->cap * sizeof(*p->consent));
		memset(p->consent_p, 0, (size_t)p->cap * sizeof(*p->consent_p));
	}
	rc = mr_pf_read_hcos(p, c, MR_PF_HCO_SQL, NULL, 0, err);
	if (rc == 0)
		rc = mr_pf_read_hcps(p, c, MR_PF_HCP_SQL, NULL, 0, err);
	if (rc == 0)
		rc = mr_pf_read_consents(p, c, MR_PF_CONSENT_SQL MR_PF_CONSENT_ORDER, NULL, 0, err);
	return rc;
}

int mr_profile_load(struct mr_profile *p, struct mr_conn *c, struct mr_err *err)
{
	int64_t t0 = mr_mono_us();
	int rc = mr_conn_begin_read(c, err);

	if (rc < 0)
		return rc;
	pthread_rwlock_wrlock(&p->lock);
	rc = mr_pf_load_all(p, c, err);
	atomic_fetch_add(&p->version, 1);
	p->stats.loads++;
	p->stats.load_us = mr_mono_us() - t0;
	pthread_rwlock_unlock(&p->lock);
	if (rc == 0)
		rc = mr_conn_commit(c, err);
	else
		mr_conn_rollback(c);
	if (rc == 0) {
		atomic_store(&p->stale, 0);
		atomic_store(&p->ready, 1);
		mr_log_info("event=profile_loaded hcps=%u hcos=%u took_ms=%lld", p->n ? p->n - 1 : 0,
			    p->nhco ? p->nhco - 1 : 0, (long long)(p->stats.load_us / 1000));
	}
	return rc;
}

/* Runs sql (ending in "WHERE <col> IN (") over ids, MR_PF_CHUNK at a time, with reader. */
static int mr_pf_by_ids(struct mr_profile *p, struct mr_conn *c, const char *sql, const char *tail,
			const int64_t *ids, uint32_t n,
			int (*reader)(struct mr_profile *, struct mr_conn *, const char *,
				      const struct mr_val *, int, struct mr_err *),
			struct mr_err *err)
{
	struct mr_val args[MR_PF_CHUNK];
	char q[512 + MR_PF_CHUNK * 3];
	int rc = 0;

	for (uint32_t at = 0; rc == 0 && at < n; at += MR_PF_CHUNK) {
		uint32_t k = n - at < MR_PF_CHUNK ? n - at : MR_PF_CHUNK;
		size_t len = (size_t)snprintf(q, sizeof(q), "%s", sql);

		for (uint32_t i = 0; i < k; i++) {
			args[i] = mr_v_int(ids[at + i]);
			len += (size_t)snprintf(q + len, sizeof(q) - len, i ? ", ?" : "?");
		}
		snprintf(q + len, sizeof(q) - len, ")%s", tail);
		rc = reader(p, c, q, args, (int)k, err);
	}
	return rc;
}

/* Reads the changed hospitals and doctors again; called write-locked. */
static int mr_pf_apply(struct mr_profile *p, struct mr_conn *c, const struct mr_hcpdir_change *ch,
		       struct mr_err *err)
{
	int rc = mr_pf_by_ids(p, c, MR_PF_HCO_SQL " WHERE id IN (", "", ch->hcos, ch->nhcos,
			      mr_pf_read_hcos, err);

	/* a hospital's change reaches its doctors' rows */
	for (uint32_t i = 0; rc == 0 && ch->nhcos && i < p->n; i++) {
		for (uint32_t k = 0; k < ch->nhcos; k++) {
			if (p->hco_id[i] && (int64_t)p->hco_id[i] == ch->hcos[k]) {
				mr_pf_copy_hco(p, i);
				break;
			}
		}
	}
	if (rc == 0)
		rc = mr_pf_by_ids(p, c, MR_PF_HCP_SQL " WHERE id IN (", "", ch->hcps, ch->nhcps,
				  mr_pf_read_hcps, err);
	for (uint32_t i = 0; rc == 0 && i < ch->nhcps; i++) {
		if (ch->hcps[i] > 0 && (uint64_t)ch->hcps[i] < p->n) {
			p->consent[ch->hcps[i]] = 0;
			p->consent_p[ch->hcps[i]] = 0;
		}
	}
	if (rc == 0)
		rc = mr_pf_by_ids(p, c, MR_PF_CONSENT_SQL " WHERE hcp_id IN (", MR_PF_CONSENT_ORDER,
				  ch->hcps, ch->nhcps, mr_pf_read_consents, err);
	p->stats.reloads += ch->nhcps;
	return rc;
}

static void mr_pf_listener(void *arg, struct mr_conn *c, const struct mr_hcpdir_change *ch)
{
	struct mr_profile *p = arg;
	struct mr_err err;
	int rc;

	mr_err_clear(&err);
	if (ch->all || atomic_load(&p->stale) || !atomic_load(&p->ready)) {
		rc = mr_profile_load(p, c, &err);
	} else if (ch->nhcps || ch->nhcos) {
		rc = mr_conn_begin_read(c, &err);
		if (rc == 0) {
			pthread_rwlock_wrlock(&p->lock);
			rc = mr_pf_apply(p, c, ch, &err);
			atomic_fetch_add(&p->version, 1);
			pthread_rwlock_unlock(&p->lock);
			if (rc == 0)
				rc = mr_conn_commit(c, &err);
			else
				mr_conn_rollback(c);
		}
	} else {
		return;
	}
	if (rc < 0) {
		atomic_store(&p->stale, 1);
		mr_log_warn("event=profile_sync_failed error=\"%s\"", err.msg);
	}
}

void mr_profile_follow(struct mr_profile *p, struct mr_hcpdir *d)
{
	mr_hcpdir_listen(d, mr_pf_listener, p);
}

/* ------------------------------------------------------------ reading */

void mr_profile_read_begin(struct mr_profile *p)
{
	pthread_rwlock_rdlock(&p->lock);
}

void mr_profile_read_end(struct mr_profile *p)
{
	pthread_rwlock_unlock(&p->lock);
}

uint32_t mr_profile_nhcps(const struct mr_profile *p)
{
	return p->n;
}

int mr_profile_state(const struct mr_profile *p, uint32_t id)
{
	return id < p->n ? p->state[id] : MR_PS_NONE;
}

uint32_t mr_profile_merged_into(const struct mr_profile *p, uint32_t id)
{
	return id < p->n ? p->merged_into[id] : 0;
}

uint32_t mr_profile_get(const struct mr_profile *p, uint32_t id, int attr)
{
	return id < p->n && attr >= 0 && attr < MR_PA_COUNT ? p->col[attr][id] : 0;
}

const uint32_t *mr_profile_column(const struct mr_profile *p, int attr)
{
	return p->col[attr];
}

uint32_t mr_profile_consents(const struct mr_profile *p, uint32_t id)
{
	return id < p->n ? p->consent[id] : 0;
}

uint32_t mr_profile_consents_for(const struct mr_profile *p, uint32_t id, int purpose)
{
	if (id >= p->n || purpose < 0 || purpose >= MR_PP_COUNT)
		return 0;
	return (uint32_t)(p->consent_p[id] >> (purpose * MR_PC_MAX)) & ((1u << MR_PC_MAX) - 1);
}

int mr_profile_purpose_of(const char *name)
{
	for (int i = 0; name && i < MR_PP_COUNT; i++) {
		if (strcmp(mr_ppurpose_names[i], name) == 0)
			return i;
	}
	return -1;
}

const char *mr_profile_purpose_name(int purpose)
{
	return purpose >= 0 && purpose < MR_PP_COUNT ? mr_ppurpose_names[purpose] : NULL;
}

struct mr_dict *mr_profile_dict(struct mr_profile *p)
{
	return p->dict;
}

uint64_t mr_profile_version(const struct mr_profile *p)
{
	return atomic_load(&((struct mr_profile *)p)->version);
}

int mr_profile_ready(struct mr_profile *p)
{
	return atomic_load(&p->ready);
}

void mr_profile_stats(struct mr_profile *p, struct mr_profile_stats *out)
{
	pthread_rwlock_rdlock(&p->lock);
	*out = p->stats;
	out->ready = atomic_load(&p->ready);
	out->hcps = p->n ? p->n - 1 : 0;
	out->hcos = p->nhco ? p->nhco - 1 : 0;
	out->bytes = (int64_t)p->cap * (int64_t)(MR_PA_COUNT * 4 + 4 + 4 + 8 + 1 + 4) +
		     (int64_t)p->caphco * (int64_t)sizeof(*p->hco);
	pthread_rwlock_unlock(&p->lock);
}

/* ------------------------------------------------------------ life */

struct mr_profile *mr_profile_new(void)
{
	struct mr_profile *p = mr_calloc(1, sizeof(*p));

	pthread_rwlock_init(&p->lock, NULL);
	p->dict = mr_dict_new();
	return p;
}

void mr_profile_free(struct mr_profile *p)
{
	if (!p)
		return;
	for (int a = 0; a < MR_PA_COUNT; a++)
		free(p->col[a]);
	free(p->hco_id);
	free(p->consent);
	free(p->consent_p);
	free(p->state);
	free(p->merged_into);
	free(p->hco);
	mr_dict_free(p->dict);
	pthread_rwlock_destroy(&p->lock);
	free(p);
}
