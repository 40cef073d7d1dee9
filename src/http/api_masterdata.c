/*
 * The master-data resources: territories, hcos, reps, hcps and content
 * share one set of handlers, driven by the entity's field table (md/md.h).
 * A route's tag names its entity; its roles say who writes it. Lists
 * filter, search and page; writes are audited with digests of the record
 * before and after, and leave one change-history row per changed field;
 * HCP reads are audited and scoped by alignment.
 * CSV imports of every entity come in through POST .../import.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "auth/role.h"
#include "base/csv.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/time.h"
#include "http/api_md.h"
#include "engine/hcpdir.h"
#include "http/http.h"
#include "md/export.h"
#include "md/ident.h"
#include "md/import.h"
#include "md/md.h"
#include "md/relate.h"
#include "md/resolve.h"
#include "md/scope.h"

static const char *const mr_time_keys[] = { "created_at", "updated_at", "deleted_at", "erased_at",
					    "valid_from", "valid_to", "captured_at", "recorded_at",
					    "at", "merged_at", "undone_at", "decided_at", "expires_at", NULL };

void mr_api_times(json_t *v)
{
	const char *key;
	json_t *x;
	size_t i;

	if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			mr_api_times(x);
		return;
	}
	if (!json_is_object(v))
		return;
	json_object_foreach(v, key, x) {
		if (json_is_integer(x)) {
			for (int k = 0; mr_time_keys[k]; k++) {
				if (strcmp(key, mr_time_keys[k]) == 0) {
					char t[40];

					mr_time_format(json_integer_value(x), t, sizeof(t));
					json_object_set_new(v, key, json_string(t));
					break;
				}
			}
		} else if (json_is_array(x) || json_is_object(x)) {
			mr_api_times(x);
		}
	}
}

int mr_api_scope(struct mr_req *r, struct mr_conn *c, struct mr_scope *s, struct mr_err *err)
{
	return mr_scope_for(c, &r->who, mr_now_us(), s, err);
}

int mr_api_scope_map(struct mr_req *r, unsigned char **map, uint32_t *n, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	struct mr_scope s;
	int rc = mr_req_conn(r, &c, err);

	*map = NULL;
	*n = 0;
	if (rc < 0)
		return rc;
	rc = mr_api_scope(r, c, &s, err);
	if (rc == 0 && mr_hcpdir_ready(r->app->hcpdir))
		rc = mr_hcpdir_sync(r->app->hcpdir, c, err);
	mr_req_done_conn(r, c);
	if (rc < 0 || s.kind == MR_SCOPE_ALL)
		return rc;
	if (s.kind == MR_SCOPE_NONE) {
		*map = mr_calloc(1, 1);
		return 0;
	}
	if (!mr_hcpdir_scope_map(r->app->hcpdir, &s, map, n)) {
		mr_err_set(err, MR_EUNAVAIL, "the server is still loading its indexes; try again shortly");
		err->retry_after_s = 1;
		return MR_EUNAVAIL;
	}
	return 0;
}

const struct mr_md_entity *mr_api_entity(struct mr_req *r)
{
	return mr_md_entity_find(r->route->tag);
}

void mr_api_actor(struct mr_req *r, struct mr_md_actor *who)
{
	who->login = r->who.user.login;
	who->request_id = r->request_id;
	who->source = "api";
	who->now = mr_now_us();
}

int mr_api_hcp_ref(struct mr_req *r, struct mr_conn *c, const char *ext, int write,
		   int64_t *id, struct mr_err *err)
{
	struct mr_scope s;
	int yes = 0;
	int rc = mr_md_lookup(c, &mr_md_hcp, ext, id, err);

	if (rc == MR_ENOTFOUND)
		return mr_err_set(err, MR_ENOTFOUND, "HCP %.64s does not exist", ext);
	if (rc == 0)
		rc = mr_api_scope(r, c, &s, err);
	if (rc == 0 && write && s.read_only)
		return mr_err_set(err, MR_EFORBIDDEN, "your role may read HCPs but not change them");
	if (rc == 0)
		rc = mr_scope_has_hcp(c, &s, *id, &yes, err);
	if (rc == 0 && !yes)
		return mr_err_set(err, MR_EFORBIDDEN,
				  "HCP %.64s is not aligned to you or your team", ext);
	return rc;
}

/* Reads the list filters the entity allows from the query string. */
static int mr_api_md_query(struct mr_req *r, const struct mr_md_entity *e, struct mr_md_query *q,
			   struct mr_err *err)
{
	static const char *const hco_filters[] = { "city_tier", "city", "province", "region",
						   "level", "grade", NULL };
	const char *v = NULL, *deleted = NULL;
	int rc = mr_req_paging(r, &q->limit, &q->cursor, err);

	if (rc == 0)
		rc = mr_req_query(r, "q", &q->q, err);
	for (int i = 0; rc == 0 && i < e->nfields; i++) {
		if (!(e->fields[i].flags & MR_MDF_FILTER))
			continue;
		rc = mr_req_query(r, e->fields[i].name, &v, err);
		if (rc == 0 && v) {
			q->filter_name[q->nfilters] = e->fields[i].name;
			q->filter_val[q->nfilters++] = v;
		}
	}
	for (int i = 0; rc == 0 && e == &mr_md_hcp && hco_filters[i]; i++) {
		rc = mr_req_query(r, hco_filters[i], &v, err);
		if (rc == 0 && v && q->nfilters < MR_MD_MAXF) {
			q->filter_name[q->nfilters] = hco_filters[i];
			q->filter_val[q->nfilters++] = v;
		}
	}
	if (rc == 0 && e == &mr_md_hcp)
		rc = mr_req_query(r, "territory", &q->territory, err);
	if (rc == 0 && e == &mr_md_hcp)
		rc = mr_req_query(r, "rep", &q->rep, err);
	if (rc == 0)
		rc = mr_req_query(r, "include_deleted", &deleted, err);
	q->include_deleted = deleted && strcmp(deleted, "true") == 0 &&
			     r->who.user.role == MR_ROLE_ADMIN;
	return rc;
}

/*
 * A search the HCP directory (engine/hcpdir.h) can answer: it finds the
 * page's ids in memory and the store reads those rows. 1 when it did.
 */
static int mr_api_hcp_search(struct mr_req *r, struct mr_conn *c, const struct mr_md_query *q,
			     const struct mr_scope *s, json_t *items, int64_t *next, int *done,
			     struct mr_err *err)
{
	int64_t ids[MR_MD_PAGE_IDS];
	int n = 0, rc;

	*done = 0;
	if (!r->app->hcpdir || !mr_hcpdir_ready(r->app->hcpdir))
		return 0;
	rc = mr_hcpdir_sync(r->app->hcpdir, c, err);
	if (rc < 0 || !mr_hcpdir_page(r->app->hcpdir, q, s, ids, &n))
		return rc;
	*done = 1;
	return mr_md_list_ids(c, &mr_md_hcp, ids, n, q->limit, items, next, err);
}

static int mr_api_md_list(struct mr_req *r, struct mr_err *err)
{
	const struct mr_md_entity *e = mr_api_entity(r);
	struct mr_md_query q;
	struct mr_scope s;
	struct mr_conn *c = NULL;
	json_t *items = json_array();
	int64_t next = 0;
	int rc;

	memset(&q, 0, sizeof(q));
	rc = mr_api_md_query(r, e, &q, err);
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		int done = 0;

		rc = mr_api_scope(r, c, &s, err);
		if (rc == 0 && e == &mr_md_hcp)
			rc = mr_api_hcp_search(r, c, &q, &s, items, &next, &done, err);
		if (rc == 0 && !done)
			rc = mr_md_list(c, e, &s, &q, items, &next, err);
		mr_req_done_conn(r, c);
	}
	if (rc == 0 && e == &mr_md_hcp)
		rc = mr_req_audit_read(r, "hcp.list", "hcp", NULL, err);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	mr_api_times(items);
	return mr_reply_json(r, 200, mr_page(items, next));
}

/* Adds what the HCP profile shows besides its fields: identities, consents, alignments. */
static int mr_api_hcp_detail(struct mr_req *r, struct mr_conn *c, int64_t id, int unmask,
			     json_t *o, struct mr_err *err)
{
	json_t *ids = json_array(), *consents = json_array(), *aligns = json_array();
	json_t *affils = json_array();
	struct mr_scope all = { .kind = MR_SCOPE_ALL, .at = mr_now_us() };
	int64_t next = 0;
	int rc = mr_ident_list(c, &r->app->keys, id, unmask, ids, err);

	if (rc == 0)
		rc = mr_api_consents(c, id, consents, err);
	if (rc == 0)
		rc = mr_api_alignments(c, &all, id, aligns, &next, err);
	if (rc == 0)
		rc = mr_affil_list(c, id, affils, err);
	json_object_set_new(o, "affiliations", affils);
	json_object_set_new(o, "identities", ids);
	json_object_set_new(o, "consents", consents);
	json_object_set_new(o, "alignments", aligns);
	if (unmask) {
		size_t i;
		json_t *x;

		/* the primary phone, email and licence number shown in the clear too */
		json_array_foreach(ids, i, x) {
			const char *kind = json_string_value(json_object_get(x, "kind"));

			if (json_is_true(json_object_get(x, "primary")) && kind &&
			    json_object_get(o, kind))
				json_object_set(o, kind, json_object_get(x, "value"));
		}
	}
	json_object_set_new(o, "masked", json_boolean(!unmask));
	return rc;
}

static int mr_api_md_get(struct mr_req *r, struct mr_err *err)
{
	const struct mr_md_entity *e = mr_api_entity(r);
	const char *ext = mr_req_param(r, "id");
	struct mr_conn *c = NULL;
	struct mr_scope s;
	json_t *o = NULL;
	int64_t id = 0;
	int unmask = 0;
	int rc = mr_req_conn(r, &c, err);

	if (rc < 0)
		return rc;
	if (e == &mr_md_hcp) {
		rc = mr_api_hcp_ref(r, c, ext, 0, &id, err);
		if (rc == 0)
			rc = mr_api_scope(r, c, &s, err);
		unmask = rc == 0 && !s.masked;
	} else {
		rc = mr_md_lookup(c, e, ext, &id, err);
		if (rc == MR_ENOTFOUND)
			rc = mr_err_set(err, MR_ENOTFOUND, "%s %.64s does not exist", e->name, ext);
	}
	if (rc == 0)
		rc = mr_md_get(c, e, id, &o, err);
	if (rc == 0 && e == &mr_md_hcp)
		rc = mr_api_hcp_detail(r, c, id, unmask, o, err);
	mr_req_done_conn(r, c);
	if (rc == 0 && e == &mr_md_hcp)
		rc = mr_req_audit_read(r, unmask ? "hcp.read.unmasked" : "hcp.read", "hcp", ext, err);
	if (rc < 0) {
		json_decref(o);
		return rc;
	}
	mr_api_times(o);
	return mr_reply_json(r, 200, o);
}

struct mr_md_job {
	struct mr_req *r;
	const struct mr_md_entity *e;
	struct mr_md_rec rec;
	int mode;            /* as mr_md_upsert */
	int erase;           /* DELETE ?erase=true */
	json_t *out;         /* the record after the write */
	int created;
};

static void mr_md_digest(struct mr_req *r, json_t *v, unsigned char *out)
{
	mr_audit_digest(&r->app->keys, v, out);
}

static int mr_md_write_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_md_job *j = arg;
	struct mr_md_actor who;
	struct mr_md_result res;
	unsigned char before[MR_AUDIT_DIGEST], after[MR_AUDIT_DIGEST];
	json_t *old = NULL;
	char action[40];
	int64_t id = 0, merged = 0;
	int rc = 0;

	mr_api_actor(j->r, &who);
	if (j->mode == 2 && j->e == &mr_md_hcp)
		rc = mr_api_hcp_ref(j->r, c, j->rec.ext_id, 1, &id, err);
	else if (j->mode == 2 && (rc = mr_md_lookup(c, j->e, j->rec.ext_id, &id, err)) == MR_ENOTFOUND)
		rc = mr_err_set(err, MR_ENOTFOUND, "%s %.64s does not exist", j->e->name, j->rec.ext_id);
	if (rc == 0 && id)
		rc = mr_md_get(c, j->e, id, &old, err);
	if (rc == 0 && j->e == &mr_md_hcp && j->mode == 1)
		rc = mr_resolve_arrival(c, &j->r->app->keys, &j->rec, 1, &who, &res, &merged, err);
	else if (rc == 0)
		rc = mr_md_upsert(c, &j->r->app->keys, &j->rec, j->mode, &who, &res, err);
	if (rc == 0)
		rc = mr_md_get(c, j->e, res.id, &j->out, err);
	if (rc == 0) {
		if (old)
			mr_md_digest(j->r, old, before);
		mr_md_digest(j->r, j->out, after);
		snprintf(action, sizeof(action), "%s.%s", j->e->name, j->mode == 1 ? "create" : "update");
		rc = mr_req_audit(j->r, c, action, j->e->name, j->rec.ext_id, j->mode == 1 ? 201 : 200,
				  old ? before : NULL, after, err);
	}
	j->created = rc == 0 && res.created;
	json_decref(old);
	return rc;
}

static int mr_api_md_write(struct mr_req *r, int mode, struct mr_err *err)
{
	struct mr_md_job j;
	json_t *body = NULL;
	const char *path_id = mr_req_param(r, "id");
	int rc;

	memset(&j, 0, sizeof(j));
	j.r = r;
	j.e = mr_api_entity(r);
	j.mode = mode;
	mr_md_rec_init(&j.rec, j.e);
	rc = mr_req_json(r, &body, err);
	if (rc == 0)
		rc = mr_md_rec_from_json(&j.rec, body, &r->arena, err);
	if (rc == 0 && path_id) {
		if (j.rec.ext_id && strcmp(j.rec.ext_id, path_id) != 0)
			rc = mr_err_field(err, MR_EINVAL, "id", "the id in the body differs from the path's;"
					  " ids cannot be changed");
		j.rec.ext_id = path_id;
	}
	if (rc == 0)
		rc = mr_md_rec_check(&j.rec, mode == 1, &r->arena, err);
	if (rc == 0)
		rc = mr_req_write(r, mr_md_write_fn, &j, err);
	json_decref(body);
	if (rc < 0)
		return rc;
	mr_api_times(j.out);
	return mr_reply_json(r, mode == 1 ? 201 : 200, j.out);
}

static int mr_api_md_create(struct mr_req *r, struct mr_err *err)
{
	if (mr_api_entity(r) == &mr_md_hcp && r->who.user.role != MR_ROLE_ADMIN &&
	    r->who.user.role != MR_ROLE_MANAGER)
		return mr_err_set(err, MR_EFORBIDDEN, "only admins and managers add HCPs");
	return mr_api_md_write(r, 1, err);
}

static int mr_api_md_update(struct mr_req *r, struct mr_err *err)
{
	return mr_api_md_write(r, 2, err);
}

static int mr_md_delete_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_md_job *j = arg;
	struct mr_md_actor who;
	unsigned char before[MR_AUDIT_DIGEST];
	json_t *old = NULL;
	int64_t id = 0;
	int rc = mr_md_lookup(c, j->e, j->rec.ext_id, &id, err);

	mr_api_actor(j->r, &who);
	who.source = j->erase ? "erase" : "api";
	if (rc == MR_ENOTFOUND)
		return mr_err_set(err, MR_ENOTFOUND, "%s %.64s does not exist", j->e->name, j->rec.ext_id);
	if (rc == 0)
		rc = mr_md_get(c, j->e, id, &old, err);
	if (rc == 0)
		rc = j->erase ? mr_hcp_erase(c, id, &who, err) : mr_md_delete(c, j->e, id, &who, err);
	if (rc == 0) {
		char action[40];

		mr_md_digest(j->r, old, before);
		snprintf(action, sizeof(action), "%s.%s", j->e->name, j->erase ? "erase" : "delete");
		rc = mr_req_audit(j->r, c, action, j->e->name, j->rec.ext_id, 204, before, NULL, err);
	}
	json_decref(old);
	return rc;
}

static int mr_api_md_delete(struct mr_req *r, struct mr_err *err)
{
	struct mr_md_job j;
	const char *erase = NULL;
	int rc = mr_req_query(r, "erase", &erase, err);

	memset(&j, 0, sizeof(j));
	j.r = r;
	j.e = mr_api_entity(r);
	j.rec.ext_id = mr_req_param(r, "id");
	j.erase = erase && strcmp(erase, "true") == 0;
	if (rc == 0 && j.erase && j.e != &mr_md_hcp)
		return mr_err_set(err, MR_EINVAL, "erase applies to HCPs only");
	if (rc == 0 && j.erase && r->who.user.role != MR_ROLE_ADMIN &&
	    r->who.user.role != MR_ROLE_COMPLIANCE)
		return mr_err_set(err, MR_EFORBIDDEN, "only admins and compliance officers erase personal data");
	/* the route's roles decide for the other entities; HCPs' include reps, who may not delete */
	if (rc == 0 && !j.erase && j.e == &mr_md_hcp && r->who.user.role != MR_ROLE_ADMIN)
		return mr_err_set(err, MR_EFORBIDDEN, "only admins delete master data");
	if (rc == 0)
		rc = mr_req_write(r, mr_md_delete_fn, &j, err);
	return rc < 0 ? rc : mr_reply_empty(r, 204);
}

static int mr_api_md_changes(struct mr_req *r, struct mr_err *err)
{
	const struct mr_md_entity *e = mr_api_entity(r);
	const char *ext = mr_req_param(r, "id");
	struct mr_conn *c = NULL;
	json_t *items = json_array();
	int64_t id = 0, cursor = 0, next = 0;
	int limit = 0;
	int rc = mr_req_paging(r, &limit, &cursor, err);

	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	if (e == &mr_md_hcp)
		rc = mr_api_hcp_ref(r, c, ext, 0, &id, err);
	else if ((rc = mr_md_lookup(c, e, ext, &id, err)) == MR_ENOTFOUND)
		rc = mr_err_set(err, MR_ENOTFOUND, "%s %.64s does not exist", e->name, ext);
	if (rc == 0)
		rc = mr_md_changes(c, e->name, id, limit, cursor, items, &next, err);
	mr_req_done_conn(r, c);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	mr_api_times(items);
	return mr_reply_json(r, 200, mr_page(items, next));
}

/* The writer as the importer's commit function. */
static int mr_api_import_commit(void *ctx, mr_write_fn fn, void *arg, struct mr_err *err)
{
	return mr_req_write(ctx, fn, arg, err);
}

struct mr_import_audit {
	struct mr_req *r;
	const char *entity;
	json_t *report;
};

static int mr_import_audit_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_import_audit *a = arg;
	unsigned char after[MR_AUDIT_DIGEST];
	char action[40];

	mr_audit_digest(&a->r->app->keys, a->report, after);
	snprintf(action, sizeof(action), "%s.import", a->entity);
	return mr_req_audit(a->r, c, action, a->entity, NULL, 200, NULL, after, err);
}

static int mr_api_md_import(struct mr_req *r, struct mr_err *err)
{
	const char *entity = r->route->tag, *enc = NULL;
	struct mr_csv_opts copts = { .encoding = MR_CSV_AUTO };
	struct mr_import_opts o = { .entity = entity, .keys = &r->app->keys,
				    .commit = mr_api_import_commit, .commit_ctx = r };
	struct mr_import_report rep;
	struct mr_csv *csv = NULL;
	struct mr_import_audit a = { r, entity, NULL };
	const char *type = mr_req_header(r, "Content-Type");
	int rc = mr_req_query(r, "encoding", &enc, err);

	mr_api_actor(r, &o.who);
	o.who.source = "import";
	if (rc == 0 && !enc && type && strstr(type, "charset="))
		enc = strstr(type, "charset=") + 8;
	if (rc == 0 && enc && (int)(copts.encoding = mr_csv_encoding_parse(enc)) < 0)
		return mr_err_field(err, MR_EINVAL, "encoding",
				    "unknown encoding '%.20s': use utf-8, gb18030 (GBK) or utf-16", enc);
	if (rc == 0)
		rc = mr_csv_open_mem(&csv, r->body.p ? r->body.p : "", r->body.len, &copts, err);
	if (rc == 0)
		rc = mr_import_csv(csv, &o, &rep, err);
	mr_csv_free(csv);
	if (rc < 0)
		return rc;
	a.report = mr_import_report_json(&rep);
	mr_import_report_release(&rep);
	rc = mr_req_write(r, mr_import_audit_fn, &a, err);
	if (rc < 0) {
		json_decref(a.report);
		return rc;
	}
	return mr_reply_json(r, 200, a.report);
}

/* Writes the export to an unlinked temporary file and sends that. */
static int mr_api_md_export_file(struct mr_req *r, struct mr_export_opts *o, int xlsx,
				 struct mr_err *err)
{
	char path[] = "/tmp/medreach-export-XXXXXX";
	struct mr_table *t = NULL;
	struct mr_conn *c = NULL;
	struct stat st = { 0 };
	int64_t rows = 0;
	int fd = mkstemp(path);
	int rc;

	if (fd < 0)
		return mr_err_set(err, MR_EIO, "cannot create a temporary file for the export: %m");
	close(fd);
	rc = mr_table_open(&t, xlsx ? MR_TABLE_XLSX : MR_TABLE_CSV, path, o->e->plural, err);
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		rc = mr_md_export(c, o, t, &rows, err);
		mr_req_done_conn(r, c);
	}
	if (t) {
		int crc = mr_table_close(t, rc == 0 ? err : &(struct mr_err){ 0 });

		rc = rc == 0 ? crc : rc;
	}
	fd = rc == 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	unlink(path);
	if (rc == 0 && (fd < 0 || fstat(fd, &st) < 0))
		rc = mr_err_set(err, MR_EIO, "cannot read the export back: %m");
	if (rc < 0) {
		if (fd >= 0)
			close(fd);
		return rc;
	}
	r->resp_fd = fd;
	r->resp_fd_size = (size_t)st.st_size;
	r->status = 200;
	r->content_type = xlsx ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" :
				 "text/csv; charset=utf-8";
	r->replied = 1;
	mr_reply_header(r, "Content-Disposition", xlsx ? "attachment; filename=\"export.xlsx\"" :
			"attachment; filename=\"export.csv\"");
	return 0;
}

/* GET /api/v1/{plural}/export?format=csv|xlsx&unmask=true and the list's filters. */
static int mr_api_md_export(struct mr_req *r, struct mr_err *err)
{
	const struct mr_md_entity *e = mr_api_entity(r);
	struct mr_export_opts o = { .e = e, .keys = &r->app->keys };
	struct mr_md_query q;
	struct mr_scope s;
	struct mr_conn *c = NULL;
	const char *format = NULL, *unmask = NULL;
	int rc;

	memset(&q, 0, sizeof(q));
	rc = mr_api_md_query(r, e, &q, err);
	if (rc == 0)
		rc = mr_req_query(r, "format", &format, err);
	if (rc == 0)
		rc = mr_req_query(r, "unmask", &unmask, err);
	if (rc == 0 && format && strcmp(format, "csv") != 0 && strcmp(format, "xlsx") != 0)
		rc = mr_err_field(err, MR_EINVAL, "format", "format is csv or xlsx");
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc < 0)
		return rc;
	rc = mr_api_scope(r, c, &s, err);
	mr_req_done_conn(r, c);
	o.unmask = unmask && strcmp(unmask, "true") == 0 && e == &mr_md_hcp;
	if (rc == 0 && o.unmask && r->who.user.role != MR_ROLE_ADMIN &&
	    r->who.user.role != MR_ROLE_COMPLIANCE)
		return mr_err_set(err, MR_EFORBIDDEN, "only admins and compliance export contact data in the clear");
	o.scope = &s;
	o.query = &q;
	if (rc == 0 && e == &mr_md_hcp)
		rc = mr_req_audit_read(r, o.unmask ? "hcp.export.unmasked" : "hcp.export", "hcp", NULL, err);
	if (rc == 0)
		rc = mr_api_md_export_file(r, &o, format && strcmp(format, "xlsx") == 0, err);
	return rc;
}

#define MR_R_ALL MR_ROLES_ALL
#define MR_R_ADMIN MR_ROLE_BIT(MR_ROLE_ADMIN)
#define MR_R_CONTENT (MR_ROLE_BIT(MR_ROLE_ADMIN) | MR_ROLE_BIT(MR_ROLE_MARKETING))
#define MR_R_HCP_WRITE (MR_ROLE_BIT(MR_ROLE_ADMIN) | MR_ROLE_BIT(MR_ROLE_MANAGER) |       \
			MR_ROLE_BIT(MR_ROLE_FIELD_REP) | MR_ROLE_BIT(MR_ROLE_INSIDE_REP) | \
			MR_ROLE_BIT(MR_ROLE_MSL))
#define MR_IMPORT_MAX ((size_t)64 << 20)

/* The routes of one entity: import first, so "import" is not taken for an id. */
#define MR_MD_ROUTES(plural, name, import_roles, write_roles, create_roles)                      \
	{ "POST", "/api/v1/" plural "/import", mr_api_md_import, import_roles, MR_ROUTE_CSV | MR_ROUTE_OK200,        \
	  "Import " name "s from CSV (UTF-8 or GB18030); a row-level report", plural, MR_IMPORT_MAX }, \
	{ "GET", "/api/v1/" plural "/export", mr_api_md_export, MR_R_ALL, 0,                         \
	  "Export " name "s as CSV or XLSX (the list's filters; format=csv|xlsx)", plural, 0 },      \
	{ "GET", "/api/v1/" plural, mr_api_md_list, MR_R_ALL, 0,                                     \
	  "List and search " name "s (filters, cursor paging)", plural, 0 },                         \
	{ "POST", "/api/v1/" plural, mr_api_md_create, create_roles, MR_ROUTE_BODY,                  \
	  "Create a " name, plural, 64 * 1024 },                                                     \
	{ "GET", "/api/v1/" plural "/{id}", mr_api_md_get, MR_R_ALL, 0, "Read a " name, plural, 0 }, \
	{ "PATCH", "/api/v1/" plural "/{id}", mr_api_md_update, write_roles, MR_ROUTE_BODY,          \
	  "Change fields of a " name " (null clears)", plural, 64 * 1024 },                          \
	{ "DELETE", "/api/v1/" plural "/{id}", mr_api_md_delete, write_roles, 0,                     \
	  "Delete a " name " (soft); HCPs: ?erase=true erases personal data (PIPL)", plural, 0 },    \
	{ "GET", "/api/v1/" plural "/{id}/changes", mr_api_md_changes, MR_R_ALL, 0,                  \
	  "The change history of a " name ", newest first", plural, 0 }

const struct mr_route mr_routes_masterdata[] = {
	MR_MD_ROUTES("territories", "territory", MR_R_ADMIN, MR_R_ADMIN, MR_R_ADMIN),
	MR_MD_ROUTES("hcos", "hco", MR_R_ADMIN, MR_R_ADMIN, MR_R_ADMIN),
	MR_MD_ROUTES("reps", "rep", MR_R_ADMIN, MR_R_ADMIN, MR_R_ADMIN),
	MR_MD_ROUTES("hcps", "hcp", MR_R_ADMIN, MR_R_HCP_WRITE | MR_ROLE_BIT(MR_ROLE_COMPLIANCE),
		     MR_ROLE_BIT(MR_ROLE_ADMIN) | MR_ROLE_BIT(MR_ROLE_MANAGER)),
	MR_MD_ROUTES("content", "content item", MR_R_CONTENT, MR_R_CONTENT, MR_R_CONTENT),
	{ "POST", "/api/v1/alignments/import", mr_api_md_import, MR_R_ADMIN, MR_ROUTE_CSV | MR_ROUTE_OK200,
	  "Import alignments from CSV; a row-level report", "alignments", MR_IMPORT_MAX },
	{ "POST", "/api/v1/consents/import", mr_api_md_import, MR_R_ADMIN, MR_ROUTE_CSV | MR_ROUTE_OK200,
	  "Import consents from CSV; a row-level report", "consents", MR_IMPORT_MAX },
	{ "POST", "/api/v1/identities/import", mr_api_md_import, MR_R_ADMIN, MR_ROUTE_CSV | MR_ROUTE_OK200,
	  "Import HCP channel identities from CSV; a row-level report", "identities", MR_IMPORT_MAX },
	{ 0 },
};
