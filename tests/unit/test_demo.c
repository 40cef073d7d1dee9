/*
 * Unit tests of src/demo: the demo world generator. A collecting sink keeps
 * every row of one world (5,000 doctors, 5 % duplicates), built once for
 * the group, and the tests check what the importer and the demo rely on:
 * entity order and columns exactly as world.h lists them, references that
 * resolve, unique ids and numbers, alignment rules (one owner per product,
 * reps inside the doctor's territory), valid values, the planted
 * duplicates, reproducibility by seed, scaling with the number of doctors,
 * and that a failing sink stops the generator with its error. Then the
 * demo's content library: the history's catalogue as approved content rows.
 */
#include "unit.h"

#include <ctype.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "demo/content.h"
#include "demo/history.h"
#include "demo/world.h"

#define NOW_US (INT64_C(1767225600) * MR_US_PER_S) /* 2026-01-01T00:00:00Z */
#define WORLD_HCPS 5000
#define WORLD_DUPS 0.05

enum { MAXCOLS = 16, MAXENTS = 8 };

struct ent {
	char name[32];
	int ncols;
	char *cols[MAXCOLS];
	char **cells;        /* nrows * ncols strings */
	int64_t nrows, cap;
};

struct world {
	struct ent ents[MAXENTS];
	int nents;
	int64_t rows_total, bad_utf8;
	int64_t fail_at;     /* >0: the row callback fails on this (1-based) row overall */
	int64_t calls_after_fail;
	int failed;
	int keep;            /* store rows (else only hash them) */
	uint64_t hash;
	struct mr_demo_stats stats;
};

/* A string -> row index map, open addressing. */
struct smap {
	const char **k;
	int64_t *v;
	size_t mask;
};

static struct world g_world;

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
	return fnv(h, s, strlen(s) + 1); /* the NUL separates values */
}

static int sink_begin(void *arg, const char *entity, int ncols, const char *const *cols,
		      struct mr_err *err)
{
	struct world *w = arg;
	struct ent *e;

	(void)err;
	if (w->failed)
		w->calls_after_fail++;
	assert_true(w->nents < MAXENTS);
	assert_true(ncols <= MAXCOLS);
	e = &w->ents[w->nents++];
	snprintf(e->name, sizeof(e->name), "%s", entity);
	e->ncols = ncols;
	w->hash = fnv_str(w->hash, entity);
	for (int i = 0; i < ncols; i++) {
		e->cols[i] = mr_strdup(cols[i]);
		w->hash = fnv_str(w->hash, cols[i]);
	}
	return 0;
}

static void keep_row(struct ent *e, const char *const *vals)
{
	if (e->nrows == e->cap) {
		e->cap = e->cap ? 2 * e->cap : 1024;
		e->cells = mr_realloc(e->cells, (size_t)(e->cap * e->ncols) * sizeof(char *));
	}
	for (int i = 0; i < e->ncols; i++)
		e->cells[e->nrows * e->ncols + i] = mr_strdup(vals[i]);
}

static int sink_row(void *arg, const char *const *vals, struct mr_err *err)
{
	struct world *w = arg;
	struct ent *e = &w->ents[w->nents - 1];

	if (w->failed) {
		w->calls_after_fail++;
		return 0;
	}
	if (w->fail_at && w->rows_total + 1 == w->fail_at) {
		w->failed = 1;
		return mr_err_set(err, MR_EIO, "disk full at row %lld", (long long)w->fail_at);
	}
	w->rows_total++;
	for (int i = 0; i < e->ncols; i++) {
		size_t n = strlen(vals[i]);

		w->bad_utf8 += mr_utf8_check(vals[i], n) != 0;
		w->hash = fnv(w->hash, vals[i], n + 1);
	}
	if (w->keep)
		keep_row(e, vals);
	e->nrows++;
	return 0;
}

static int sink_end(void *arg, const char *entity, struct mr_err *err)
{
	struct world *w = arg;

	(void)err;
	if (w->failed)
		w->calls_after_fail++;
	assert_string_equal(entity, w->ents[w->nents - 1].name);
	return 0;
}

static void world_free(struct world *w)
{
	for (int k = 0; k < w->nents; k++) {
		struct ent *e = &w->ents[k];

		for (int64_t i = 0; w->keep && i < e->nrows * e->ncols; i++)
			free(e->cells[i]);
		for (int i = 0; i < e->ncols; i++)
			free(e->cols[i]);
		free(e->cells);
	}
	memset(w, 0, sizeof(*w));
}

/* Generates a world into w; returns the generator's result. */
static int world_make(struct world *w, int64_t hcps, uint64_t seed, double dups, int keep,
		      struct mr_err *err)
{
	struct mr_demo_opts o = { hcps, seed, dups, NOW_US };
	struct mr_demo_sink sink = { w, sink_begin, sink_row, sink_end };

	memset(w, 0, sizeof(*w));
	w->keep = keep;
	w->hash = 0xcbf29ce484222325ULL;
	mr_err_clear(err);
	return mr_demo_world(&o, &sink, &w->stats, err);
}

static struct ent *ent(struct world *w, const char *name)
{
	for (int k = 0; k < w->nents; k++) {
		if (strcmp(w->ents[k].name, name) == 0)
			return &w->ents[k];
	}
	fail_msg("no entity %s", name);
	return NULL;
}

static int colno(const struct ent *e, const char *col)
{
	for (int i = 0; i < e->ncols; i++) {
		if (strcmp(e->cols[i], col) == 0)
			return i;
	}
	fail_msg("%s has no column %s", e->name, col);
	return -1;
}

static const char *cell(const struct ent *e, int64_t row, int col)
{
	return e->cells[row * e->ncols + col];
}

static void smap_init(struct smap *m, int64_t n)
{
	size_t cap = 64;

	while ((int64_t)cap < 2 * n + 64)
		cap <<= 1;
	m->k = mr_calloc(cap, sizeof(*m->k));
	m->v = mr_calloc(cap, sizeof(*m->v));
	m->mask = cap - 1;
}

static void smap_free(struct smap *m)
{
	free(m->k);
	free(m->v);
}

/* Adds k -> v; 0 when k was already there (v unchanged). */
static int smap_add(struct smap *m, const char *k, int64_t v)
{
	size_t i = (size_t)fnv_str(0xcbf29ce484222325ULL, k) & m->mask;

	while (m->k[i]) {
		if (strcmp(m->k[i], k) == 0)
			return 0;
		i = (i + 1) & m->mask;
	}
	m->k[i] = k;
	m->v[i] = v;
	return 1;
}

/* The value of k, or -1. */
static int64_t smap_get(const struct smap *m, const char *k)
{
	size_t i = (size_t)fnv_str(0xcbf29ce484222325ULL, k) & m->mask;

	while (m->k[i]) {
		if (strcmp(m->k[i], k) == 0)
			return m->v[i];
		i = (i + 1) & m->mask;
	}
	return -1;
}

/* Maps column col of every row of e to the row; fails on a repeated value. */
static void index_unique(struct smap *m, const struct ent *e, const char *col)
{
	int c = colno(e, col);

	smap_init(m, e->nrows);
	for (int64_t i = 0; i < e->nrows; i++) {
		if (!smap_add(m, cell(e, i, c), i))
			fail_msg("%s.%s '%s' repeats", e->name, col, cell(e, i, c));
	}
}

static int is_primary(const char *hcp_id)
{
	return hcp_id[0] == 'D';
}

static int64_t count_if(const struct ent *e, const char *col, const char *val)
{
	int c = colno(e, col);
	int64_t n = 0;

	for (int64_t i = 0; i < e->nrows; i++)
		n += strcmp(cell(e, i, c), val) == 0;
	return n;
}

static int group_setup(void **state)
{
	struct mr_err err;

	(void)state;
	if (world_make(&g_world, WORLD_HCPS, 7, WORLD_DUPS, 1, &err) != 0)
		fail_msg("demo world: %s", err.msg);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	world_free(&g_world);
	return 0;
}

static void test_entities_and_columns_in_order(void **state)
{
	static const char *const want[7][13] = {
		{ "territories", "id", "name", "parent" },
		{ "hcos", "id", "name", "level", "grade", "type", "province", "city", "city_tier",
		  "region", "address", "departments" },
		{ "reps", "id", "name", "type", "manager", "territory", "user" },
		{ "hcps", "id", "name", "pinyin", "gender", "title", "specialty", "department", "hco",
		  "license_no", "phone", "email", "status" },
		{ "identities", "hcp", "kind", "value", "app", "verified", "source" },
		{ "alignments", "hcp", "rep", "role", "product", "valid_from", "valid_to" },
		{ "consents", "hcp", "channel", "purpose", "status", "captured_at", "source", "evidence",
		  "version" },
	};

	(void)state;
	assert_int_equal(g_world.nents, 7);
	for (int k = 0; k < 7; k++) {
		const struct ent *e = &g_world.ents[k];
		int n = 0;

		assert_string_equal(e->name, want[k][0]);
		while (n + 1 < 13 && want[k][n + 1])
			n++;
		assert_int_equal(e->ncols, n);
		for (int i = 0; i < n; i++)
			assert_string_equal(e->cols[i], want[k][i + 1]);
		assert_true(e->nrows > 0);
	}
}

static void test_stats_match_rows(void **state)
{
	const struct mr_demo_stats *s = &g_world.stats;
	int64_t dups = 0;
	const struct ent *h = ent(&g_world, "hcps");

	(void)state;
	assert_int_equal(s->territories, ent(&g_world, "territories")->nrows);
	assert_int_equal(s->hcos, ent(&g_world, "hcos")->nrows);
	assert_int_equal(s->reps, ent(&g_world, "reps")->nrows);
	assert_int_equal(s->hcps, h->nrows);
	assert_int_equal(s->identities, ent(&g_world, "identities")->nrows);
	assert_int_equal(s->alignments, ent(&g_world, "alignments")->nrows);
	assert_int_equal(s->consents, ent(&g_world, "consents")->nrows);
	for (int64_t i = 0; i < h->nrows; i++)
		dups += !is_primary(cell(h, i, 0));
	assert_int_equal(s->duplicates, dups);
	assert_int_equal(s->hcps - s->duplicates, WORLD_HCPS);
	assert_int_equal(g_world.bad_utf8, 0);
}

static void test_same_seed_same_rows(void **state)
{
	struct world a, b, c;
	struct mr_err err;

	(void)state;
	assert_int_equal(world_make(&a, 3000, 99, 0.05, 0, &err), 0);
	assert_int_equal(world_make(&b, 3000, 99, 0.05, 0, &err), 0);
	assert_int_equal(world_make(&c, 3000, 100, 0.05, 0, &err), 0);
	assert_true(a.hash == b.hash);
	assert_int_equal(a.rows_total, b.rows_total);
	assert_memory_equal(&a.stats, &b.stats, sizeof(a.stats));
	assert_true(a.hash != c.hash);
	world_free(&a);
	world_free(&b);
	world_free(&c);
}

/* Every id unique; territory parents and rep managers come before their children. */
static void test_ids_unique_and_parents_first(void **state)
{
	struct smap terr, hco, rep, hcp, names;
	const struct ent *t = ent(&g_world, "territories"), *r = ent(&g_world, "reps");
	const struct ent *h = ent(&g_world, "hcos");

	(void)state;
	index_unique(&terr, t, "id");
	index_unique(&hco, h, "id");
	index_unique(&rep, r, "id");
	index_unique(&hcp, ent(&g_world, "hcps"), "id");
	index_unique(&names, h, "name");
	for (int64_t i = 0; i < t->nrows; i++) {
		const char *parent = cell(t, i, 2);

		assert_true(i == 0 ? !*parent : smap_get(&terr, parent) >= 0 && smap_get(&terr, parent) < i);
		assert_int_equal(strncmp(cell(t, i, 0), "T-", 2), 0);
	}
	assert_string_equal(cell(t, 0, 0), "T-CN");
	for (int64_t i = 0; i < r->nrows; i++) {
		const char *mgr = cell(r, i, 3), *user = cell(r, i, 5);
		char want[32];

		assert_true(!*mgr || (smap_get(&rep, mgr) >= 0 && smap_get(&rep, mgr) < i));
		assert_true(smap_get(&terr, cell(r, i, 4)) >= 0);
		snprintf(want, sizeof(want), "r%s", cell(r, i, 0) + 1);
		assert_true(strncmp(user, "rep.", 4) == 0 || strncmp(user, "mgr.", 4) == 0);
		assert_string_equal(user + 4, want);
	}
	smap_free(&terr);
	smap_free(&hco);
	smap_free(&rep);
	smap_free(&hcp);
	smap_free(&names);
}

static void test_references_resolve(void **state)
{
	static const char *const rel[3] = { "identities", "alignments", "consents" };
	struct smap hco, hcp, rep;
	const struct ent *d = ent(&g_world, "hcps"), *a = ent(&g_world, "alignments");
	int hc = colno(d, "hco");

	(void)state;
	index_unique(&hco, ent(&g_world, "hcos"), "id");
	index_unique(&hcp, d, "id");
	index_unique(&rep, ent(&g_world, "reps"), "id");
	for (int64_t i = 0; i < d->nrows; i++) {
		const char *h = cell(d, i, hc);

		if (is_primary(cell(d, i, 0)))
			assert_true(*h);
		assert_true(!*h || smap_get(&hco, h) >= 0);
	}
	for (int k = 0; k < 3; k++) {
		const struct ent *e = ent(&g_world, rel[k]);

		for (int64_t i = 0; i < e->nrows; i++)
			assert_true(smap_get(&hcp, cell(e, i, 0)) >= 0);
	}
	for (int64_t i = 0; i < a->nrows; i++)
		assert_true(smap_get(&rep, cell(a, i, 1)) >= 0);
	smap_free(&hco);
	smap_free(&hcp);
	smap_free(&rep);
}

/* The digits of a phone as typed, without a leading 86 country code. */
static void phone_digits(const char *p, char *out, size_t n)
{
	size_t k = 0;

	for (; *p && k + 1 < n; p++) {
		if (isdigit((unsigned char)*p))
			out[k++] = *p;
	}
	out[k] = '\0';
	if (k == 13 && strncmp(out, "86", 2) == 0)
		memmove(out, out + 2, 12);
}

static int is_e164_mobile(const char *p)
{
	if (strlen(p) != 14 || strncmp(p, "+861", 4) != 0 || p[4] < '3' || p[4] > '9')
		return 0;
	for (int i = 5; i < 14; i++) {
		if (!isdigit((unsigned char)p[i]))
			return 0;
	}
	return 1;
}

/* Phones, licence numbers and e-mails are identities in md: unique across every record. */
static void test_hcp_numbers_valid_and_unique(void **state)
{
	const struct ent *d = ent(&g_world, "hcps");
	int lic = colno(d, "license_no"), ph = colno(d, "phone"), em = colno(d, "email");
	struct smap lics, phones, emails;
	char (*digits)[24] = mr_calloc((size_t)d->nrows, sizeof(*digits));
	int64_t with_email = 0;

	(void)state;
	smap_init(&lics, d->nrows);
	smap_init(&phones, d->nrows);
	smap_init(&emails, d->nrows);
	for (int64_t i = 0; i < d->nrows; i++) {
		const char *l = cell(d, i, lic), *p = cell(d, i, ph), *e = cell(d, i, em);

		if (is_primary(cell(d, i, 0))) {
			assert_int_equal(strlen(l), 15);
			assert_true(mr_str_charset(l, ""));
			if (!is_e164_mobile(p))
				fail_msg("%s: phone '%s' is not +86 1[3-9]xxxxxxxxx", cell(d, i, 0), p);
		}
		assert_true(!*l || smap_add(&lics, l, i));
		phone_digits(p, digits[i], sizeof(digits[i]));
		assert_true(!*p || strlen(digits[i]) == 11);
		assert_true(!*p || smap_add(&phones, digits[i], i));
		assert_true(!*e || (strchr(e, '@') && smap_add(&emails, e, i)));
		with_email += *e != 0;
	}
	assert_true(with_email > d->nrows / 2); /* most have one; some have none */
	assert_true(with_email < d->nrows);
	free(digits);
	smap_free(&lics);
	smap_free(&phones);
	smap_free(&emails);
}

static int in_set(const char *s, const char *const *set)
{
	for (int i = 0; set[i]; i++) {
		if (strcmp(s, set[i]) == 0)
			return 1;
	}
	return 0;
}

static void check_column(const struct ent *e, const char *col, const char *const *set)
{
	int c = colno(e, col);

	for (int64_t i = 0; i < e->nrows; i++) {
		if (!in_set(cell(e, i, c), set))
			fail_msg("%s.%s: unexpected '%s'", e->name, col, cell(e, i, c));
	}
}

static void test_values_in_their_domains(void **state)
{
	static const char *const levels[] = { "1", "2", "3", NULL };
	static const char *const grades[] = { "甲", "乙", "丙", NULL };
	static const char *const tiers[] = { "1", "2", "3", "4", "5", NULL };
	static const char *const types[] = { "general", "specialty", "tcm", "maternal_child",
					     "community", NULL };
	static const char *const regions[] = { "华北", "东北", "华东", "华中", "华南", "西南", "西北", NULL };
	static const char *const rep_types[] = { "field", "inside", "msl", "kam", NULL };
	static const char *const genders[] = { "M", "F", "", NULL };
	static const char *const titles[] = { "resident", "attending", "assoc_chief", "chief", "", NULL };
	static const char *const statuses[] = { "active", "inactive", NULL };
	static const char *const kinds[] = { "wechat_unionid", "wechat_openid", "wecom_external_userid",
					     "meeting_user_id", NULL };
	static const char *const sources[] = { "wecom", "wechat_oa", "meeting", "crm", NULL };
	static const char *const bools[] = { "0", "1", NULL };
	static const char *const channels[] = { "phone", "wechat", "wecom", "email", "sms", "meeting",
						"visit", NULL };
	static const char *const purposes[] = { "promotional", "medical_info", "meeting_invite",
						"survey", NULL };
	static const char *const consent_status[] = { "opt_in", "opt_out", NULL };
	static const char *const versions[] = { "v1", "v2", NULL };
	const struct ent *h = ent(&g_world, "hcos"), *d = ent(&g_world, "hcps");
	const struct ent *id = ent(&g_world, "identities"), *c = ent(&g_world, "consents");

	(void)state;
	check_column(h, "level", levels);
	check_column(h, "grade", grades);
	check_column(h, "city_tier", tiers);
	check_column(h, "type", types);
	check_column(h, "region", regions);
	check_column(ent(&g_world, "reps"), "type", rep_types);
	check_column(d, "gender", genders);
	check_column(d, "title", titles);
	check_column(d, "status", statuses);
	check_column(id, "kind", kinds);
	check_column(id, "source", sources);
	check_column(id, "verified", bools);
	check_column(c, "channel", channels);
	check_column(c, "purpose", purposes);
	check_column(c, "status", consent_status);
	check_column(c, "version", versions);
	for (int tier = 1; tier <= 5; tier++) {
		char t[2] = { (char)('0' + tier), '\0' };

		assert_true(count_if(h, "city_tier", t) > 0);
	}
}

/* Identities: a channel id belongs to one record; openids carry their app. */
static void test_identities_unique(void **state)
{
	const struct ent *id = ent(&g_world, "identities");
	char (*key)[160] = mr_calloc((size_t)id->nrows, sizeof(*key));
	struct smap seen;

	(void)state;
	smap_init(&seen, id->nrows);
	for (int64_t i = 0; i < id->nrows; i++) {
		const char *kind = cell(id, i, 1), *value = cell(id, i, 2), *app = cell(id, i, 3);

		snprintf(key[i], sizeof(key[i]), "%s/%s/%s", kind, app, value);
		assert_true(smap_add(&seen, key[i], i));
		if (strcmp(kind, "wechat_openid") == 0)
			assert_string_equal(app, "wx_med_svc");
		else if (strcmp(kind, "meeting_user_id") == 0)
			assert_string_equal(app, "tencent_meeting");
		else
			assert_string_equal(app, "");
		if (strcmp(kind, "wechat_unionid") == 0 || strcmp(kind, "wechat_openid") == 0)
			assert_int_equal(strlen(value), 28);
		if (strcmp(kind, "wecom_external_userid") == 0)
			assert_int_equal(strlen(value), 32);
	}
	free(key);
	smap_free(&seen);
}

/* The territory (row of territories) of each hcos row, by the city's name. */
static int64_t *hco_territories(const struct ent *t, const struct ent *h)
{
	struct smap by_name;
	int64_t *out = mr_calloc((size_t)h->nrows, sizeof(int64_t));
	int city = colno(h, "city");

	smap_init(&by_name, t->nrows);
	for (int64_t i = 0; i < t->nrows; i++)
		assert_true(smap_add(&by_name, cell(t, i, 1), i));
	for (int64_t i = 0; i < h->nrows; i++) {
		out[i] = smap_get(&by_name, cell(h, i, city));
		if (out[i] < 0)
			fail_msg("no territory for city %s", cell(h, i, city));
	}
	smap_free(&by_name);
	return out;
}

/* 1 when territory row anc is row t or one of its ancestors. */
static int terr_contains(const struct ent *t, const struct smap *terr, int64_t anc, int64_t row)
{
	while (row >= 0) {
		if (row == anc)
			return 1;
		row = *cell(t, row, 2) ? smap_get(terr, cell(t, row, 2)) : -1;
	}
	return 0;
}

static void check_alignment_dates(const char *from, const char *to)
{
	int64_t f, u;

	assert_int_equal(mr_time_parse(from, 0, &f), 0);
	assert_true(f < NOW_US);
	if (*to) {
		assert_int_equal(mr_time_parse(to, 0, &u), 0);
		assert_true(u > f && u < NOW_US);
	}
}

static void test_alignment_rules(void **state)
{
	const struct ent *t = ent(&g_world, "territories"), *h = ent(&g_world, "hcos");
	const struct ent *r = ent(&g_world, "reps"), *d = ent(&g_world, "hcps");
	const struct ent *a = ent(&g_world, "alignments");
	struct smap terr, hco, rep, hcp, owner;
	int64_t *hco_terr = hco_territories(t, h), roles[3] = { 0 };
	char (*key)[96] = mr_calloc((size_t)a->nrows, sizeof(*key));

	(void)state;
	index_unique(&terr, t, "id");
	index_unique(&hco, h, "id");
	index_unique(&rep, r, "id");
	index_unique(&hcp, d, "id");
	smap_init(&owner, a->nrows);
	for (int64_t i = 0; i < a->nrows; i++) {
		const char *role = cell(a, i, 2);
		int64_t drow = smap_get(&hcp, cell(a, i, 0)), rrow = smap_get(&rep, cell(a, i, 1));
		int64_t hrow = smap_get(&hco, cell(d, drow, 7));
		const char *rtype = cell(r, rrow, 2);

		assert_true(is_primary(cell(a, i, 0))); /* duplicates have no alignments */
		int k = strcmp(role, "field_owner") == 0 ? 0 : (strcmp(role, "inside_owner") == 0 ? 1 : 2);
		static const char *const want_type[3] = { "field", "inside", "msl" };

		assert_string_equal(rtype, want_type[k]);
		roles[k]++;
		if (!terr_contains(t, &terr, smap_get(&terr, cell(r, rrow, 4)), hco_terr[hrow]))
			fail_msg("rep %s (%s) is outside HCP %s's territory", cell(a, i, 1),
				 cell(r, rrow, 4), cell(a, i, 0));
		assert_true(*cell(a, i, 3)); /* a product */
		check_alignment_dates(cell(a, i, 4), cell(a, i, 5));
		snprintf(key[i], sizeof(key[i]), "%s/%s/%s", cell(a, i, 0), role, cell(a, i, 3));
		if (strcmp(role, "msl") != 0 && !smap_add(&owner, key[i], i))
			fail_msg("two %s rows for %s", role, key[i]);
	}
	for (int k = 0; k < 3; k++)
		assert_true(roles[k] > 0);
	free(key);
	free(hco_terr);
	smap_free(&terr);
	smap_free(&hco);
	smap_free(&rep);
	smap_free(&hcp);
	smap_free(&owner);
}

/* Consents are dated before now; a withdrawn opt-in is a later opt_out row. */
static void test_consents_dated_and_ordered(void **state)
{
	const struct ent *c = ent(&g_world, "consents");
	int64_t withdrawn = 0, prev_at = 0;

	(void)state;
	for (int64_t i = 0; i < c->nrows; i++) {
		int64_t at;
		const char *ts = cell(c, i, 4);

		assert_int_equal(mr_time_parse(ts, 0, &at), 0);
		assert_string_equal(ts + strlen(ts) - 6, "+08:00");
		assert_true(at < NOW_US);
		assert_true(*cell(c, i, 5) && *cell(c, i, 6)); /* source and evidence */
		if (i > 0 && strcmp(cell(c, i, 0), cell(c, i - 1, 0)) == 0 &&
		    strcmp(cell(c, i, 1), cell(c, i - 1, 1)) == 0 &&
		    strcmp(cell(c, i, 2), cell(c, i - 1, 2)) == 0) {
			assert_string_equal(cell(c, i - 1, 3), "opt_in");
			assert_string_equal(cell(c, i, 3), "opt_out");
			assert_true(at > prev_at);
			withdrawn++;
		}
		prev_at = at;
	}
	assert_true(withdrawn > 0);
	assert_true(c->nrows > 2 * WORLD_HCPS);
}

static void test_duplicates_planted(void **state)
{
	const struct ent *d = ent(&g_world, "hcps");
	int64_t mtg = 0, wx = 0, with_key = 0;
	int lic = colno(d, "license_no"), ph = colno(d, "phone"), hco = colno(d, "hco");

	(void)state;
	for (int64_t i = 0; i < d->nrows; i++) {
		const char *id = cell(d, i, 0);

		if (is_primary(id)) {
			assert_int_equal(strlen(id), 8);
			continue;
		}
		mtg += strncmp(id, "MTG-", 4) == 0;
		wx += strncmp(id, "WX-", 3) == 0;
		assert_true(strncmp(id, "MTG-", 4) == 0 || strncmp(id, "WX-", 3) == 0);
		assert_string_equal(cell(d, i, colno(d, "status")), "active");
		assert_true(*cell(d, i, 1));
		with_key += *cell(d, i, lic) || *cell(d, i, ph) || *cell(d, i, hco);
	}
	assert_int_equal(mtg + wx, (int64_t)(WORLD_DUPS * WORLD_HCPS + 0.5));
	assert_int_equal(mtg + wx, g_world.stats.duplicates);
	assert_true(mtg > 0 && wx > 0);
	assert_true(with_key > (mtg + wx) * 3 / 4);
}

static void test_titles_form_a_pyramid(void **state)
{
	const struct ent *d = ent(&g_world, "hcps");
	int64_t res = count_if(d, "title", "resident"), att = count_if(d, "title", "attending");
	int64_t assoc = count_if(d, "title", "assoc_chief"), chief = count_if(d, "title", "chief");

	(void)state;
	assert_true(chief < assoc && assoc < att);
	assert_true(res > chief);
	assert_true(count_if(d, "gender", "F") > WORLD_HCPS / 3);
	assert_true(count_if(d, "gender", "M") > WORLD_HCPS / 3);
}

static int64_t field_reps(struct world *w)
{
	const struct ent *r = ent(w, "reps");
	int64_t n = 0;

	for (int64_t i = 0; i < r->nrows; i++)
		n += strcmp(cell(r, i, 2), "field") == 0 && strncmp(cell(r, i, 5), "rep.", 4) == 0;
	return n;
}

static void assert_ratio(int64_t small, int64_t big, const char *what)
{
	double q = (double)big / (double)small;

	if (q < 1.6 || q > 2.4)
		fail_msg("%s: %lld then %lld for twice the doctors", what, (long long)small, (long long)big);
}

/* Twice the doctors: about twice the hospitals, reps, identities, alignments and consents. */
static void test_counts_scale_with_hcps(void **state)
{
	struct world a, b;
	struct mr_err err;

	(void)state;
	assert_int_equal(world_make(&a, 10000, 3, 0.05, 1, &err), 0);
	assert_int_equal(world_make(&b, 20000, 3, 0.05, 1, &err), 0);
	assert_ratio(a.stats.hcos, b.stats.hcos, "hcos");
	assert_ratio(field_reps(&a), field_reps(&b), "field reps");
	assert_ratio(a.stats.identities, b.stats.identities, "identities");
	assert_ratio(a.stats.alignments, b.stats.alignments, "alignments");
	assert_ratio(a.stats.consents, b.stats.consents, "consents");
	assert_true(field_reps(&b) >= 20000 / 250 && field_reps(&b) <= 20000 / 150);
	assert_true(count_if(ent(&b, "reps"), "type", "inside") >= 20000 / 1000);
	assert_true(count_if(ent(&b, "reps"), "type", "msl") >= 7);
	assert_int_equal(b.stats.duplicates, 1000);
	world_free(&a);
	world_free(&b);
}

static void test_sink_error_stops_generation(void **state)
{
	struct world w;
	struct mr_demo_opts o = { 2000, 5, 0.05, NOW_US };
	struct mr_demo_sink sink = { &w, sink_begin, sink_row, sink_end };
	struct mr_demo_stats st;
	struct mr_err err;

	(void)state;
	memset(&w, 0, sizeof(w));
	w.fail_at = 500; /* among the doctors, well before the end */
	mr_err_clear(&err);
	assert_int_equal(mr_demo_world(&o, &sink, &st, &err), MR_EIO);
	assert_string_equal(err.msg, "disk full at row 500");
	assert_int_equal(w.calls_after_fail, 0);
	assert_int_equal(st.territories + st.hcos + st.reps + st.hcps + st.identities +
				 st.alignments + st.consents,
			 499);
	world_free(&w);
}

static void test_bad_options_refused(void **state)
{
	struct world w;
	struct mr_demo_opts o = { 0, 1, 0.05, NOW_US };
	struct mr_demo_sink sink = { &w, sink_begin, sink_row, sink_end };
	struct mr_demo_sink no_row = { &w, sink_begin, NULL, sink_end };
	struct mr_err err;

	(void)state;
	memset(&w, 0, sizeof(w));
	assert_int_equal(mr_demo_world(&o, &sink, NULL, &err), MR_EINVAL);
	assert_string_equal(err.field, "hcps");
	o.hcps = 10;
	o.dup_share = 1.5;
	assert_int_equal(mr_demo_world(&o, &sink, NULL, &err), MR_EINVAL);
	assert_string_equal(err.field, "dup_share");
	o.dup_share = -0.01;
	assert_int_equal(mr_demo_world(&o, &sink, NULL, &err), MR_EINVAL);
	o.dup_share = 0;
	o.now_us = 0; /* "today" must be a real date: licences and consents are dated from it */
	assert_int_equal(mr_demo_world(&o, &sink, NULL, &err), MR_EINVAL);
	assert_string_equal(err.field, "now_us");
	o.now_us = NOW_US;
	assert_int_equal(mr_demo_world(&o, &no_row, NULL, &err), MR_EINVAL);
	assert_int_equal(w.nents, 0); /* nothing was emitted */
	assert_int_equal(world_make(&w, 1, 1, 1.0, 1, &err), 0); /* the smallest world works */
	assert_int_equal(w.stats.hcps, 2);
	assert_int_equal(w.stats.duplicates, 1);
	world_free(&w);
}

/* The content library is the history's catalogue, every item approved, expiring in 1-2 years. */
static void test_content_is_the_catalogue(void **state)
{
	static const char *const cols[] = { "id", "title", "topic", "product", "status", "expires_at" };
	struct mr_hist_content cat[MR_HIST_CONTENT_MAX];
	size_t n = mr_hist_catalogue(3, cat, MR_HIST_CONTENT_MAX);
	struct world w;
	struct mr_demo_sink sink = { &w, sink_begin, sink_row, sink_end };
	struct mr_err err;
	const struct ent *e;
	int64_t rows = 0, lo, hi, at;

	(void)state;
	memset(&w, 0, sizeof(w));
	w.keep = 1;
	mr_err_clear(&err);
	assert_int_equal(mr_demo_content(3, NOW_US, &sink, &rows, &err), 0);
	assert_int_equal(w.nents, 1);
	e = ent(&w, "content");
	assert_int_equal(e->ncols, 6);
	for (int i = 0; i < 6; i++)
		assert_string_equal(e->cols[i], cols[i]);
	assert_int_equal(rows, (int64_t)n);
	assert_int_equal(e->nrows, (int64_t)n);
	assert_int_equal(mr_time_parse("2027-01-01", 8 * 3600, &lo), 0); /* NOW_US + 365 days */
	assert_int_equal(mr_time_parse("2028-01-01", 8 * 3600, &hi), 0);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(cell(e, (int64_t)i, 0), cat[i].id);
		assert_string_equal(cell(e, (int64_t)i, 1), cat[i].title);
		assert_string_equal(cell(e, (int64_t)i, 2), cat[i].topic);
		assert_string_equal(cell(e, (int64_t)i, 3), cat[i].product);
		assert_string_equal(cell(e, (int64_t)i, 4), "approved");
		assert_int_equal(strlen(cell(e, (int64_t)i, 5)), 10); /* a date */
		assert_int_equal(mr_time_parse(cell(e, (int64_t)i, 5), 8 * 3600, &at), 0);
		assert_true(at >= lo && at <= hi);
	}
	world_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entities_and_columns_in_order),
		cmocka_unit_test(test_stats_match_rows),
		cmocka_unit_test(test_same_seed_same_rows),
		cmocka_unit_test(test_ids_unique_and_parents_first),
		cmocka_unit_test(test_references_resolve),
		cmocka_unit_test(test_hcp_numbers_valid_and_unique),
		cmocka_unit_test(test_values_in_their_domains),
		cmocka_unit_test(test_identities_unique),
		cmocka_unit_test(test_alignment_rules),
		cmocka_unit_test(test_consents_dated_and_ordered),
		cmocka_unit_test(test_duplicates_planted),
		cmocka_unit_test(test_titles_form_a_pyramid),
		cmocka_unit_test(test_counts_scale_with_hcps),
		cmocka_unit_test(test_sink_error_stops_generation),
		cmocka_unit_test(test_bad_options_refused),
		cmocka_unit_test(test_content_is_the_catalogue),
	};
	return cmocka_run_group_tests_name("demo", tests, group_setup, group_teardown);
}
