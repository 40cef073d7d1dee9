/*
 * FHIR R4 over the API: Practitioner and Organization reads, a Bundle
 * export paged within the caller's scope, and a Bundle import (admins)
 * that upserts Organizations, Practitioners, PractitionerRoles and Consents
 * with batch semantics. The mapping itself is md/fhir.c; this file parses
 * the request, applies the same scope and masking rules as the JSON
 * master-data routes, audits, and answers application/fhir+json.
 */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/role.h"
#include "base/json.h"
#include "base/str.h"
#include "base/time.h"
#include "http/api_md.h"
#include "http/http.h"
#include "md/fhir.h"

#define MR_FHIR_TYPE "application/fhir+json; charset=utf-8"

enum {
	MR_FHIR_PAGE_DEFAULT = 50,
	MR_FHIR_PAGE_MAX = 500,
	MR_FHIR_CHUNK = 500,        /* entries of an import per write transaction */
	MR_FHIR_RESPONSE_MAX = 256 << 20,
};

/* Answers v (taken) as application/fhir+json. */
static int mr_fhir_reply(struct mr_req *r, int status, json_t *v, struct mr_err *err)
{
	struct mr_buf b;
	char *body;
	size_t len;
	int rc;

	mr_buf_init(&b, MR_FHIR_RESPONSE_MAX);
	rc = mr_json_render(v, &b);
	json_decref(v);
	if (rc < 0) {
		mr_buf_release(&b);
		return mr_err_set(err, MR_EINTERNAL, "the FHIR response is larger than %d MiB",
				  MR_FHIR_RESPONSE_MAX >> 20);
	}
	body = mr_buf_detach(&b, &len);
	return mr_reply_raw(r, status, MR_FHIR_TYPE, body, len);
}

static int mr_api_fhir_practitioner(struct mr_req *r, struct mr_err *err)
{
	const char *ext = mr_req_param(r, "id");
	struct mr_conn *c = NULL;
	struct mr_scope s = { .kind = MR_SCOPE_NONE, .masked = 1 };
	json_t *res = NULL;
	int64_t id = 0;
	int rc = mr_req_conn(r, &c, err);

	if (rc < 0)
		return rc;
	rc = mr_api_hcp_ref(r, c, ext, 0, &id, err);
	if (rc == 0)
		rc = mr_api_scope(r, c, &s, err);
	if (rc == 0)
		rc = mr_fhir_get(c, &r->app->keys, MR_FHIR_PRACTITIONER, id, !s.masked, &res, err);
	mr_req_done_conn(r, c);
	if (rc == 0)
		rc = mr_req_audit_read(r, s.masked ? "fhir.export" : "fhir.export.unmasked", "hcp", ext,
				       err);
	if (rc < 0) {
		json_decref(res);
		return rc;
	}
	return mr_fhir_reply(r, 200, res, err);
}

static int mr_api_fhir_organization(struct mr_req *r, struct mr_err *err)
{
	const char *ext = mr_req_param(r, "id");
	struct mr_conn *c = NULL;
	json_t *res = NULL;
	int64_t id = 0;
	int rc = mr_req_conn(r, &c, err);

	if (rc < 0)
		return rc;
	rc = mr_md_lookup(c, &mr_md_hco, ext, &id, err);
	if (rc == MR_ENOTFOUND)
		rc = mr_err_set(err, MR_ENOTFOUND, "Organization %.64s does not exist", ext);
	if (rc == 0)
		rc = mr_fhir_get(c, &r->app->keys, MR_FHIR_ORGANIZATION, id, 0, &res, err);
	mr_req_done_conn(r, c);
	if (rc < 0)
		return rc;
	return mr_fhir_reply(r, 200, res, err);
}

/* The export's query string: type, hcp, hco, limit, cursor. */
static int mr_api_fhir_query(struct mr_req *r, struct mr_fhir_query *q, struct mr_err *err)
{
	const char *type = NULL;
	int64_t limit = 0;
	int t, rc = mr_req_query(r, "type", &type, err);

	memset(q, 0, sizeof(*q));
	if (rc == 0 && type) {
		t = mr_fhir_type_parse(type);
		if (t < 0)
			return mr_err_field(err, MR_EINVAL, "type",
					    "type must be Practitioner, Organization, PractitionerRole or Consent");
		q->types = 1u << t;
	}
	if (rc == 0)
		rc = mr_req_query(r, "hcp", &q->hcp, err);
	if (rc == 0)
		rc = mr_req_query(r, "hco", &q->hco, err);
	if (rc == 0)
		rc = mr_req_query(r, "cursor", &q->cursor, err);
	if (rc == 0)
		rc = mr_req_query_int(r, "limit", 1, MR_FHIR_PAGE_MAX, MR_FHIR_PAGE_DEFAULT, &limit, err);
	q->limit = (int)limit;
	return rc;
}

/* Checks the hcp= and hco= filters name rows the caller may see: 404, or 403 outside alignment. */
static int mr_api_fhir_filters(struct mr_req *r, struct mr_conn *c, const struct mr_fhir_query *q,
			       struct mr_err *err)
{
	int64_t id = 0;
	int rc = 0;

	if (q->hcp)
		rc = mr_api_hcp_ref(r, c, q->hcp, 0, &id, err);
	if (rc == 0 && q->hco && (rc = mr_md_lookup(c, &mr_md_hco, q->hco, &id, err)) == MR_ENOTFOUND)
		rc = mr_err_set(err, MR_ENOTFOUND, "Organization %.64s does not exist", q->hco);
	return rc;
}

/* The relative link to the page after this one, repeating the query's filters. */
static json_t *mr_api_fhir_next(const struct mr_fhir_query *q, const char *next)
{
	struct mr_buf b;
	json_t *link;

	mr_buf_init(&b, 1024);
	mr_buf_addf(&b, "/api/v1/fhir/Bundle?limit=%d&cursor=%s", q->limit, next);
	for (int t = 0; t < MR_FHIR_NTYPES; t++) {
		if (q->types == 1u << t)
			mr_buf_addf(&b, "&type=%s", mr_fhir_type_name((enum mr_fhir_type)t));
	}
	if (q->hcp)
		mr_buf_addf(&b, "&hcp=%s", q->hcp);  /* ids are [A-Za-z0-9_.:-]: nothing to escape */
	if (q->hco)
		mr_buf_addf(&b, "&hco=%s", q->hco);
	link = json_pack("[{s:s, s:s}]", "relation", "next", "url", mr_buf_str(&b));
	mr_buf_release(&b);
	return link;
}

static int mr_api_fhir_bundle(struct mr_req *r, struct mr_err *err)
{
	struct mr_fhir_query q;
	struct mr_conn *c = NULL;
	struct mr_scope s = { .kind = MR_SCOPE_NONE, .masked = 1 };
	char next[MR_FHIR_CURSOR] = "", now[40];
	json_t *entries = json_array(), *bundle;
	unsigned pii = (1u << MR_FHIR_PRACTITIONER) | (1u << MR_FHIR_ROLE) | (1u << MR_FHIR_CONSENT);
	int rc = mr_api_fhir_query(r, &q, err);

	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc < 0) {
		json_decref(entries);
		return rc;
	}
	rc = mr_api_fhir_filters(r, c, &q, err);
	if (rc == 0)
		rc = mr_api_scope(r, c, &s, err);
	q.contacts = rc == 0 && !s.masked && (!q.types || (q.types & (1u << MR_FHIR_PRACTITIONER)));
	if (rc == 0)
		rc = mr_fhir_page(c, &r->app->keys, &s, &q, entries, next, err);
	mr_req_done_conn(r, c);
	if (rc == 0 && (!q.types || (q.types & pii)))
		rc = mr_req_audit_read(r, q.contacts ? "fhir.export.unmasked" : "fhir.export", "hcp",
				       q.hcp, err);
	if (rc < 0) {
		json_decref(entries);
		return rc;
	}
	mr_time_format(mr_now_us(), now, sizeof(now));
	bundle = json_pack("{s:s, s:{s:s}, s:s, s:o}", "resourceType", "Bundle", "meta", "lastUpdated",
			   now, "type", "collection", "entry", entries);
	if (next[0])
		json_object_set_new(bundle, "link", mr_api_fhir_next(&q, next));
	return mr_fhir_reply(r, 200, bundle, err);
}

struct mr_fhir_job {
	struct mr_req *r;
	struct mr_fhir_import *im;
	int from;
	json_t *summary;     /* for the audit record */
};

static int mr_fhir_import_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_fhir_job *j = arg;
	struct mr_md_actor who;

	mr_api_actor(j->r, &who);
	who.source = "fhir";
	return mr_fhir_import_apply(c, &j->r->app->keys, j->im, j->from, MR_FHIR_CHUNK, &who, err);
}

static int mr_fhir_audit_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_fhir_job *j = arg;
	unsigned char after[MR_AUDIT_DIGEST];

	mr_audit_digest(&j->r->app->keys, j->summary, after);
	return mr_req_audit(j->r, c, "fhir.import", "bundle", NULL, 200, NULL, after, err);
}

static int mr_api_fhir_import(struct mr_req *r, struct mr_err *err)
{
	struct mr_fhir_job j = { r, NULL, 0, NULL };
	json_t *body = NULL, *resp = NULL;
	int rc = mr_req_json(r, &body, err);

	if (rc == 0)
		rc = mr_fhir_import_new(body, &j.im, err);
	for (; rc == 0 && j.from < mr_fhir_import_count(j.im); j.from += MR_FHIR_CHUNK)
		rc = mr_req_write(r, mr_fhir_import_fn, &j, err);
	if (rc == 0) {
		j.summary = mr_fhir_import_summary(j.im);
		rc = mr_req_write(r, mr_fhir_audit_fn, &j, err);
	}
	if (rc == 0)
		resp = mr_fhir_import_response(j.im);
	json_decref(j.summary);
	mr_fhir_import_free(j.im);
	json_decref(body); /* last: the import borrowed from it */
	return rc < 0 ? rc : mr_fhir_reply(r, 200, resp, err);
}

#define MR_FHIR_IMPORT_MAX ((size_t)16 << 20)

const struct mr_route mr_routes_fhir[] = {
	{ "GET", "/api/v1/fhir/Practitioner/{id}", mr_api_fhir_practitioner, MR_ROLES_ALL, 0,
	  "An HCP as a FHIR R4 Practitioner (telecom and licence only for roles that see them)",
	  "fhir", 0 },
	{ "GET", "/api/v1/fhir/Organization/{id}", mr_api_fhir_organization, MR_ROLES_ALL, 0,
	  "An HCO as a FHIR R4 Organization", "fhir", 0 },
	{ "GET", "/api/v1/fhir/Bundle", mr_api_fhir_bundle, MR_ROLES_ALL, 0,
	  "A collection Bundle of your scope (type, hcp, hco, limit, cursor; next link)", "fhir", 0 },
	{ "POST", "/api/v1/fhir", mr_api_fhir_import, MR_ROLE_BIT(MR_ROLE_ADMIN), MR_ROUTE_FHIR | MR_ROUTE_OK200,
	  "Import a FHIR R4 Bundle (batch semantics); a batch-response Bundle", "fhir",
	  MR_FHIR_IMPORT_MAX },
	{ 0 },
};
