/*
 * Numbered migrations, applied at start in one transaction and recorded in
 * schema_migrations. On PostgreSQL an advisory lock keeps two nodes that
 * start together from applying the same migration twice. A database newer
 * than the binary is refused rather than half-understood.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/time.h"
#include "store/schema.h"
#include "store/store_int.h"

enum { MR_MIGRATE_LOCK = 726173 };

/*
 * Returns sql with @ID@, @SEQ@, @BLOB@ and @KEY@ replaced for the backend,
 * and a line that starts with @PG@ or @SQLITE@ kept (without the marker)
 * only on that backend; the caller frees it.
 */
static char *mr_migrate_dialect(const struct mr_backend *be, const char *sql)
{
	struct mr_buf b;
	int pg = be->kind == MR_STORE_PG;

	mr_buf_init(&b, (size_t)1 << 26);
	for (const char *p = sql; *p;) {
		int line_start = p == sql || p[-1] == '\n';

		if (line_start && (strncmp(p, "@PG@ ", 5) == 0 || strncmp(p, "@SQLITE@ ", 9) == 0)) {
			int mine = (p[1] == 'P') == pg;
			const char *nl = strchr(p, '\n');

			if (mine) {
				p += p[1] == 'P' ? 5 : 9;
				continue;
			}
			p = nl ? nl + 1 : p + strlen(p);
			continue;
		}
		if (strncmp(p, "@SEQ@", 5) == 0) {
			mr_buf_adds(&b, be->seq_type);
			p += 5;
		} else if (strncmp(p, "@ID@", 4) == 0) {
			mr_buf_adds(&b, be->id_type);
			p += 4;
		} else if (strncmp(p, "@BLOB@", 6) == 0) {
			mr_buf_adds(&b, be->blob_type);
			p += 6;
		} else if (strncmp(p, "@KEY@", 5) == 0) {
			mr_buf_adds(&b, be->key_type);
			p += 5;
		} else {
			mr_buf_addc(&b, *p++);
		}
	}
	return mr_buf_detach(&b, NULL);
}

static int mr_migrate_apply(struct mr_conn *c, const struct mr_migration *m, struct mr_err *err)
{
	char *sql = mr_migrate_dialect(c->be, m->sql);
	struct mr_val args[3];
	int rc = mr_conn_script(c, sql, err);

	free(sql);
	if (rc < 0) {
		char inner[sizeof(err->msg)];
		snprintf(inner, sizeof(inner), "%s", err->msg);
		return mr_err_set(err, MR_EDB, "migration %03d_%s failed: %s", m->version, m->name, inner);
	}
	args[0] = mr_v_int(m->version);
	args[1] = mr_v_text(m->name);
	args[2] = mr_v_int(mr_now_us());
	return mr_conn_exec(c, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
			    args, 3, NULL, err);
}

static int mr_migrate_all(struct mr_conn *c, void *arg, struct mr_err *err)
{
	int64_t have = 0;
	int known = 0;
	int rc;

	(void)arg;
	if (c->be->kind == MR_STORE_PG) {
		char lock[64];
		snprintf(lock, sizeof(lock), "SELECT pg_advisory_xact_lock(%d)", MR_MIGRATE_LOCK);
		rc = mr_conn_script(c, lock, err);
		if (rc < 0)
			return rc;
	}
	rc = mr_conn_script(c,
			    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
			    " name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
			    err);
	if (rc < 0)
		return rc;
	rc = mr_conn_query_int(c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", NULL, 0,
			       &have, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < mr_migrations_count; i++) {
		if (mr_migrations[i].version > known)
			known = mr_migrations[i].version;
	}
	if (have > known)
		return mr_err_set(err, MR_EUNPROC,
				  "the database is at schema version %lld, newer than this medreach"
				  " (which knows up to %d): upgrade medreach",
				  (long long)have, known);
	for (size_t i = 0; i < mr_migrations_count; i++) {
		if (mr_migrations[i].version <= have)
			continue;
		rc = mr_migrate_apply(c, &mr_migrations[i], err);
		if (rc < 0)
			return rc;
	}
	/* indexes a bulk load dropped and did not live to build again */
	return mr_conn_restore_indexes(c, err);
}

int mr_store_migrate(struct mr_store *s, struct mr_err *err)
{
	return mr_store_write(s, mr_migrate_all, NULL, err);
}

int mr_store_schema_version(struct mr_store *s, int64_t *version, struct mr_err *err)
{
	struct mr_conn *c;
	int rc = mr_store_acquire(s, &c, err);

	if (rc < 0)
		return rc;
	rc = mr_conn_query_int(c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", NULL, 0,
			       version, err);
	mr_store_release(s, c);
	return rc;
}
