/*
 * bench/md_search_peer.c — the peer of the HCP search benchmark: the same
 * prefix queries straight against the database, through the bare driver
 * (the sqlite3 C API or libpq), with no HTTP, authentication, JSON or audit.
 * bench/masterdata.sh builds and runs it beside wrk.
 *
 * It runs the SQL medreach's src/md/query.c runs for GET /api/v1/hcps?q=
 * (the same select list, the same capped count deciding between walking ids
 * and collecting them from the key indexes, the same page of limit + 1
 * rows), written out here so that the database's share can be timed alone.
 * --check prints each prefix's page of ids, which masterdata.sh compares
 * with the API's answers, so the two cannot drift apart unnoticed.
 *
 * usage: md_search_peer DB PREFIXES [--threads N] [--seconds S] [--rep ID] [--check]
 *   DB        sqlite:PATH or a postgresql:// URL
 *   PREFIXES  one query per line, already normalised (lower-case, no spaces)
 *   --rep ID  the internal id of a rep: the field rep's scoped query
 * Prints: MRPEER queries=N seconds=S qps=Q p50_us=.. p90_us=.. p99_us=.. p999_us=.. max_us=..
 */
#include <libpq-fe.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { PEER_LIMIT = 20, PEER_MAX_PREFIXES = 100000, PEER_MAX_ARGS = 16, PEER_STMTS = 16, PEER_EXT = 72 };

/* the select list; then come the conditions medreach always adds (with "+" hints on SQLite, as query.c) */
static const char peer_select[] =
	"SELECT t.id, t.ext_id, t.name, t.pinyin, t.gender, t.title, t.specialty, t.department,"
	" (SELECT ext_id FROM hcos WHERE id = t.hco_id),"
	" (SELECT masked FROM hcp_identities WHERE hcp_id = t.id AND kind = 'license_no' AND is_primary = 1),"
	" (SELECT masked FROM hcp_identities WHERE hcp_id = t.id AND kind = 'phone' AND is_primary = 1),"
	" (SELECT masked FROM hcp_identities WHERE hcp_id = t.id AND kind = 'email' AND is_primary = 1),"
	" t.status, t.attrs, t.created_at, t.updated_at, t.deleted_at,"
	" (SELECT ext_id FROM hcps WHERE id = t.merged_into), t.erased_at,"
	" (SELECT name FROM hcos WHERE id = t.hco_id)"
	" FROM hcps t WHERE 1 = 1";

struct peer_opts {
	const char *db;
	char **prefixes;
	int nprefixes;
	int threads;
	double seconds;
	int64_t rep;
	int check;
};

/* One statement argument: text or integer. */
struct peer_arg {
	const char *s;
	int64_t i;
};

/* One connection and its prepared statements, keyed by SQL text. */
struct peer_conn {
	sqlite3 *lite;
	PGconn *pg;
	char *sql[PEER_STMTS];
	sqlite3_stmt *st[PEER_STMTS];
	int nst;
};

struct peer_thread {
	const struct peer_opts *o;
	int index;
	int64_t *lat_us;
	size_t nlat, caplat;
	int failed;
};

static double peer_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void peer_die(const char *what, const char *why)
{
	fprintf(stderr, "md_search_peer: %s: %s\n", what, why);
	exit(1);
}

static void *peer_xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		peer_die("malloc", "out of memory");
	return p;
}

static int peer_connect(const struct peer_opts *o, struct peer_conn *c)
{
	memset(c, 0, sizeof(*c));
	if (strncmp(o->db, "sqlite:", 7) == 0) {
		if (sqlite3_open_v2(o->db + 7, &c->lite, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
			peer_die("sqlite open", sqlite3_errmsg(c->lite));
		/* the pragmas of medreach's read connections (src/store/sqlite.c) */
		sqlite3_exec(c->lite, "PRAGMA cache_size=-16000; PRAGMA temp_store=MEMORY;", NULL, NULL, NULL);
		sqlite3_busy_timeout(c->lite, 10000);
		return 0;
	}
	c->pg = PQconnectdb(o->db);
	if (PQstatus(c->pg) != CONNECTION_OK)
		peer_die("postgresql connect", PQerrorMessage(c->pg));
	return 0;
}

/* The index of sql among c's prepared statements, preparing it when new. */
static int peer_prepare(struct peer_conn *c, const char *sql)
{
	char name[16];
	int k;

	for (k = 0; k < c->nst; k++) {
		if (strcmp(c->sql[k], sql) == 0)
			return k;
	}
	if (k == PEER_STMTS)
		peer_die("prepare", "too many distinct statements");
	c->sql[k] = strdup(sql);
	if (c->lite) {
		if (sqlite3_prepare_v3(c->lite, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->st[k], NULL) != SQLITE_OK)
			peer_die("sqlite prepare", sqlite3_errmsg(c->lite));
	} else {
		char numbered[8192];
		size_t o = 0;
		int n = 0;

		for (const char *p = sql; *p && o + 8 < sizeof(numbered); p++) {
			if (*p == '?')
				o += (size_t)snprintf(numbered + o, sizeof(numbered) - o, "$%d", ++n);
			else
				numbered[o++] = *p;
		}
		numbered[o] = '\0';
		snprintf(name, sizeof(name), "p%d", k);
		PGresult *r = PQprepare(c->pg, name, numbered, 0, NULL);

		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			peer_die("postgresql prepare", PQresultErrorMessage(r));
		PQclear(r);
	}
	c->nst = k + 1;
	return k;
}

/*
 * Runs sql with args and reads every column of every row; the external ids
 * (column 1) go to ext when given. Returns the number of rows, or the first
 * column of the first row when first is set.
 */
static int64_t peer_run(struct peer_conn *c, const char *sql, const struct peer_arg *args, int nargs,
			int first, char (*ext)[PEER_EXT])
{
	int k = peer_prepare(c, sql);
	int64_t rows = 0, value = 0;

	if (c->lite) {
		sqlite3_stmt *st = c->st[k];
		int rc;

		for (int i = 0; i < nargs; i++) {
			if (args[i].s)
				sqlite3_bind_text(st, i + 1, args[i].s, -1, SQLITE_STATIC);
			else
				sqlite3_bind_int64(st, i + 1, args[i].i);
		}
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			for (int col = 0; col < sqlite3_column_count(st); col++)
				(void)sqlite3_column_text(st, col);
			if (rows == 0)
				value = sqlite3_column_int64(st, 0);
			if (ext)
				snprintf(ext[rows], PEER_EXT, "%s", (const char *)sqlite3_column_text(st, 1));
			rows++;
		}
		if (rc != SQLITE_DONE)
			peer_die("sqlite step", sqlite3_errmsg(c->lite));
		sqlite3_reset(st);
	} else {
		const char *values[PEER_MAX_ARGS];
		char ints[PEER_MAX_ARGS][24], name[16];
		PGresult *r;

		for (int i = 0; i < nargs; i++) {
			if (!args[i].s)
				snprintf(ints[i], sizeof(ints[i]), "%lld", (long long)args[i].i);
			values[i] = args[i].s ? args[i].s : ints[i];
		}
		snprintf(name, sizeof(name), "p%d", k);
		r = PQexecPrepared(c->pg, name, nargs, values, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			peer_die("postgresql exec", PQresultErrorMessage(r));
		rows = PQntuples(r);
		for (int row = 0; row < rows; row++) {
			for (int col = 0; col < PQnfields(r); col++)
				(void)PQgetvalue(r, row, col);
			if (ext)
				snprintf(ext[row], PEER_EXT, "%s", PQgetvalue(r, row, 1));
		}
		if (rows > 0)
			value = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
	}
	return first ? value : rows;
}

/*
 * The smallest string above every string starting with p, as src/md/norm.c's
 * mr_norm_prefix_end: the last character goes up by one (the bench's
 * prefixes are valid UTF-8 and never end in U+10FFFF).
 */
static void peer_prefix_end(const char *p, char *out, size_t cap)
{
	size_t n = strlen(p), k = 1;
	uint32_t cp;

	if (n + 2 > cap)
		peer_die("prefix", "too long");
	memcpy(out, p, n + 1);
	while (k < n && k < 4 && ((unsigned char)out[n - k] & 0xc0) == 0x80)
		k++;
	cp = k == 1 ? (unsigned char)out[n - 1] : (uint32_t)((unsigned char)out[n - k] & (0xff >> (k + 1)));
	for (size_t i = n - k + 1; i < n; i++)
		cp = (cp << 6) | ((unsigned char)out[i] & 0x3f);
	cp = cp == 0xd7ff ? 0xe000 : cp + 1;
	n -= k;
	if (cp < 0x80) {
		out[n++] = (char)cp;
	} else if (cp < 0x800) {
		out[n++] = (char)(0xc0 | (cp >> 6));
		out[n++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[n++] = (char)(0xe0 | (cp >> 12));
		out[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[n++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[n++] = (char)(0xf0 | (cp >> 18));
		out[n++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[n++] = (char)(0x80 | (cp & 0x3f));
	}
	out[n] = '\0';
}

/* One search: the page of limit + 1 rows medreach reads; ext gets their external ids (if given). */
static int64_t peer_search(struct peer_conn *c, const struct peer_opts *o, const char *q, int64_t now,
			   char (*ext)[PEER_EXT])
{
	static const char *const cols[] = { "name_key", "pinyin_key", "initials" };
	char letters[256], ends[3][260], sql[8192], probe[2048];
	const char *from[3];
	struct peer_arg args[PEER_MAX_ARGS];
	size_t nl = 0, len;
	int nr, nargs = 0, narrow = 0;

	for (const char *p = q; *p && nl + 1 < sizeof(letters); p++) {
		if (*p >= 'a' && *p <= 'z')
			letters[nl++] = *p;
	}
	letters[nl] = '\0';
	nr = nl > 0 ? 3 : 1;
	for (int i = 0; i < nr; i++) {
		from[i] = i == 0 ? q : letters;
		peer_prefix_end(from[i], ends[i], sizeof(ends[i]));
	}
	if (!o->rep) {
		int64_t rows = peer_run(c, "SELECT COALESCE(MAX(id), 0) FROM hcps", NULL, 0, 1, NULL);
		int64_t cap = (int64_t)sqrt((double)(PEER_LIMIT + 1) * (double)rows) * 2 / 3 + 64;

		len = (size_t)snprintf(probe, sizeof(probe), "SELECT ");
		for (int i = 0; i < nr; i++) {
			len += (size_t)snprintf(probe + len, sizeof(probe) - len,
						"%s(SELECT COUNT(*) FROM (SELECT 1 FROM hcps WHERE %s >= ? AND %s < ? LIMIT ?) AS m%d)",
						i ? " + " : "", cols[i], cols[i], i);
			args[nargs++] = (struct peer_arg){ from[i], 0 };
			args[nargs++] = (struct peer_arg){ ends[i], 0 };
			args[nargs++] = (struct peer_arg){ NULL, cap };
		}
		narrow = peer_run(c, probe, args, nargs, 1, NULL) < cap;
		nargs = 0;
	}
	const char *hint = c->pg ? "" : "+";

	int ids = narrow && !c->pg; /* SQLite reads few matches by id; PostgreSQL sorts them */
	/* the key columns as a filter the indexes stay out of, but where PostgreSQL sorts few matches */
	const char *pre = c->pg ? (narrow ? "" : "(") : "+", *post = c->pg && !narrow ? " || '')" : "";

	len = (size_t)snprintf(sql, sizeof(sql), "%s AND %st.deleted_at IS NULL AND %st.merged_into IS NULL AND %s",
			       peer_select, hint, hint, ids ? "t.id IN (" : "(");
	for (int i = 0; i < nr; i++) {
		if (ids)
			len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%sSELECT id FROM hcps WHERE %s >= ? AND %s < ?",
						i ? " UNION ALL " : "", cols[i], cols[i]);
		else
			len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s(%st.%s%s >= ? AND %st.%s%s < ?)",
						i ? " OR " : "", pre, cols[i], post, pre, cols[i], post);
		args[nargs++] = (struct peer_arg){ from[i], 0 };
		args[nargs++] = (struct peer_arg){ ends[i], 0 };
	}
	len += (size_t)snprintf(sql + len, sizeof(sql) - len, ")");
	if (o->rep) {
		len += (size_t)snprintf(sql + len, sizeof(sql) - len,
					" AND t.id IN (SELECT a.hcp_id FROM alignments a WHERE a.rep_id = ?"
					" AND a.deleted_at IS NULL AND a.valid_from <= ? AND (a.valid_to IS NULL OR a.valid_to > ?))");
		args[nargs++] = (struct peer_arg){ NULL, o->rep };
		args[nargs++] = (struct peer_arg){ NULL, now };
		args[nargs++] = (struct peer_arg){ NULL, now };
	}
	snprintf(sql + len, sizeof(sql) - len, narrow && c->pg ? " AND t.id + 0 > ? ORDER BY t.id + 0 LIMIT %d" :
		 " AND t.id > ? ORDER BY t.id LIMIT %d", PEER_LIMIT + 1);
	args[nargs++] = (struct peer_arg){ NULL, 0 };
	return peer_run(c, sql, args, nargs, 0, ext);
}

static int64_t peer_now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static void *peer_thread_main(void *arg)
{
	struct peer_thread *t = arg;
	const struct peer_opts *o = t->o;
	struct peer_conn c;
	double end;
	int at = (int)(((int64_t)t->index * o->nprefixes) / o->threads);

	peer_connect(o, &c);
	end = peer_now() + o->seconds;
	while (peer_now() < end) {
		double t0 = peer_now();

		peer_search(&c, o, o->prefixes[at], peer_now_us(), NULL);
		if (t->nlat == t->caplat) {
			t->caplat = t->caplat ? t->caplat * 2 : 65536;
			t->lat_us = realloc(t->lat_us, t->caplat * sizeof(*t->lat_us));
			if (!t->lat_us)
				peer_die("realloc", "out of memory");
		}
		t->lat_us[t->nlat++] = (int64_t)((peer_now() - t0) * 1e6);
		at = (at + 1) % o->nprefixes;
	}
	if (c.pg)
		PQfinish(c.pg);
	else
		sqlite3_close_v2(c.lite);
	return NULL;
}

static int peer_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void peer_read_prefixes(struct peer_opts *o, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];

	if (!f)
		peer_die(path, "cannot open");
	o->prefixes = peer_xmalloc(PEER_MAX_PREFIXES * sizeof(char *));
	while (o->nprefixes < PEER_MAX_PREFIXES && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0])
			o->prefixes[o->nprefixes++] = strdup(line);
	}
	fclose(f);
	if (o->nprefixes == 0)
		peer_die(path, "no prefixes");
}

/* --check: each prefix and the external ids of its page, for comparison with the API. */
static void peer_check(const struct peer_opts *o)
{
	struct peer_conn c;
	char ext[PEER_LIMIT + 1][PEER_EXT];

	peer_connect(o, &c);
	for (int i = 0; i < o->nprefixes; i++) {
		double t0 = peer_now();
		int64_t n = peer_search(&c, o, o->prefixes[i], peer_now_us(), ext);

		fprintf(stderr, "%s\t%.0f us\n", o->prefixes[i], (peer_now() - t0) * 1e6);
		printf("%s", o->prefixes[i]);
		for (int64_t k = 0; k < n && k < PEER_LIMIT; k++)
			printf("%c%s", k ? ',' : '\t', ext[k]);
		printf("\n");
	}
}

static void peer_report(const struct peer_opts *o, struct peer_thread *t, double secs)
{
	size_t n = 0, at = 0;
	int64_t *all;

	for (int i = 0; i < o->threads; i++)
		n += t[i].nlat;
	if (n == 0)
		peer_die("run", "no query finished");
	all = peer_xmalloc(n * sizeof(*all));
	for (int i = 0; i < o->threads; i++) {
		memcpy(all + at, t[i].lat_us, t[i].nlat * sizeof(*all));
		at += t[i].nlat;
	}
	qsort(all, n, sizeof(*all), peer_cmp);
	printf("MRPEER queries=%zu seconds=%.2f qps=%.0f p50_us=%lld p90_us=%lld p99_us=%lld p999_us=%lld max_us=%lld\n",
	       n, secs, (double)n / secs, (long long)all[n / 2], (long long)all[n * 9 / 10],
	       (long long)all[n * 99 / 100], (long long)all[n * 999 / 1000], (long long)all[n - 1]);
	free(all);
}

int main(int argc, char **argv)
{
	struct peer_opts o = { .threads = 1, .seconds = 10 };
	struct peer_thread *t;
	pthread_t *tids;
	double t0;

	if (argc < 3)
		peer_die("usage", "md_search_peer DB PREFIXES [--threads N] [--seconds S] [--rep ID] [--check]");
	o.db = argv[1];
	peer_read_prefixes(&o, argv[2]);
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--check") == 0)
			o.check = 1;
		else if (i + 1 < argc && strcmp(argv[i], "--threads") == 0)
			o.threads = (int)strtol(argv[++i], NULL, 10);
		else if (i + 1 < argc && strcmp(argv[i], "--seconds") == 0)
			o.seconds = strtod(argv[++i], NULL);
		else if (i + 1 < argc && strcmp(argv[i], "--rep") == 0)
			o.rep = strtoll(argv[++i], NULL, 10);
		else
			peer_die("usage", argv[i]);
	}
	if (o.check) {
		peer_check(&o);
		return 0;
	}
	if (o.threads < 1 || o.threads > 1024)
		peer_die("--threads", "1 to 1024");
	t = calloc((size_t)o.threads, sizeof(*t));
	tids = calloc((size_t)o.threads, sizeof(*tids));
	if (!t || !tids)
		peer_die("calloc", "out of memory");
	t0 = peer_now();
	for (int i = 0; i < o.threads; i++) {
		t[i].o = &o;
		t[i].index = i;
		pthread_create(&tids[i], NULL, peer_thread_main, &t[i]);
	}
	for (int i = 0; i < o.threads; i++)
		pthread_join(tids[i], NULL);
	peer_report(&o, t, peer_now() - t0);
	return 0;
}
