/*
 * FHIR R4 in and out: master data as Organization (an HCO), Practitioner
 * (an HCP), PractitionerRole (the HCP's hospital, specialty, department
 * and title) and Consent (one consent row), in JSON. docs/fhir.md is the
 * mapping element by element; this file and that page change together.
 *
 * Out: mr_fhir_organization and its siblings turn the JSON rows of the md
 * API (mr_md_get, mr_md_list, mr_consent_list) into resources, and
 * mr_fhir_page assembles one page of a collection Bundle within a scope.
 *
 * In: mr_fhir_read maps one resource onto a record (struct mr_fhir_in) and
 * remembers which FHIR element each value came from, so a bad value is
 * reported by its FHIR path ("gender", "telecom[1].value"), not by the
 * medreach field it was meant for. An import (mr_fhir_import_*) reads a
 * whole Bundle, applies its Organizations, then Practitioners, then
 * PractitionerRoles, then Consents, each entry under its own savepoint so
 * a bad entry costs only itself, and answers a response Bundle whose
 * entries follow the request's order.
 *
 * Ownership: functions returning json_t* return a new reference. Strings
 * in a struct mr_fhir_in are borrowed from the resource read or from the
 * arena passed; the resource must outlive the record.
 */
#ifndef MR_MD_FHIR_H
#define MR_MD_FHIR_H

#include <jansson.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "crypto/keys.h"
#include "md/md.h"
#include "md/relate.h"

/* The fullUrl of an exported resource is MR_FHIR_BASE "/<type>/<id>", the same on every server. */
#define MR_FHIR_BASE "https://medreach.dev/fhir"

enum mr_fhir_type {
	MR_FHIR_ORGANIZATION,
	MR_FHIR_PRACTITIONER,
	MR_FHIR_ROLE,          /* PractitionerRole */
	MR_FHIR_CONSENT,
	MR_FHIR_NTYPES
};

enum {
	MR_FHIR_MAXP = 24,              /* field-to-path notes per resource */
	MR_FHIR_CURSOR = 32,            /* bytes of a Bundle page cursor, with its NUL */
	MR_FHIR_MAX_ENTRIES = 100000,   /* entries of one imported Bundle */
};

/* "Organization", "Practitioner", "PractitionerRole" or "Consent". */
const char *mr_fhir_type_name(enum mr_fhir_type t);
/* The type called s, or -1 when it is none of the four. */
int mr_fhir_type_parse(const char *s);

/* ---------- out ---------- */

/* The Organization of an HCO row (the JSON of mr_md_get / mr_md_list). */
json_t *mr_fhir_organization(json_t *hco);
/*
 * The Practitioner of an HCP row. With contacts, the row's phone, email and
 * license_no (which the caller has put there in the clear) become telecom
 * and a licence identifier; without, the resource carries neither.
 */
json_t *mr_fhir_practitioner(json_t *hcp, int contacts);
/* The PractitionerRole of an HCP row, or NULL when it has no hospital, specialty, department or title. */
json_t *mr_fhir_role(json_t *hcp);
/*
 * The Consent of one consent row (mr_consent_list's JSON) of HCP hcp;
 * in_force says it is the newest of its channel and purpose (status
 * active; older rows are inactive).
 */
json_t *mr_fhir_consent(const char *hcp, json_t *row, int in_force);
/* A Bundle entry {fullUrl, resource} holding resource (its reference is taken). */
json_t *mr_fhir_entry(json_t *resource);

/*
 * One resource from the store by internal id: an Organization (hco id) or
 * a Practitioner (hcp id; with contacts, telecom and licence unsealed).
 */
int mr_fhir_get(struct mr_conn *c, const struct mr_keys *k, enum mr_fhir_type t, int64_t id,
		int contacts, json_t **out, struct mr_err *err);

/* What one page of an exported Bundle holds. */
struct mr_fhir_query {
	unsigned types;        /* a mask of 1u << enum mr_fhir_type; 0 means all four */
	const char *hcp;       /* only this HCP (external id; the caller has checked its scope) */
	const char *hco;       /* only this HCO and the HCPs whose hospital it is */
	int limit;             /* HCOs plus HCPs per page */
	const char *cursor;    /* where the previous page stopped, or NULL for the first */
	int contacts;          /* Practitioners carry telecom and licence */
};

/*
 * Appends one page of entries: Organizations first, then each HCP's
 * Practitioner, PractitionerRole and Consents, HCPs limited to scope s.
 * next gets the cursor of the following page, or "" after the last.
 * MR_EINVAL (field cursor) for a cursor this function did not issue.
 */
int mr_fhir_page(struct mr_conn *c, const struct mr_keys *k, const struct mr_scope *s,
		 const struct mr_fhir_query *q, json_t *entries, char next[MR_FHIR_CURSOR],
		 struct mr_err *err);

/* ---------- in ---------- */

/* One resource read in medreach terms, and where each value came from. */
struct mr_fhir_in {
	enum mr_fhir_type type;
	struct mr_md_rec rec;     /* Organization: an HCO; Practitioner and PractitionerRole: an HCP */
	struct mr_consent cs;     /* Consent */
	int inactive;             /* Organization.active is false: the HCO is to be deleted */
	int npaths;
	const char *field[MR_FHIR_MAXP]; /* a medreach field name ... */
	const char *path[MR_FHIR_MAXP];  /* ... and the FHIR path it was read from */
};

/*
 * Reads resource res into in. urls maps the fullUrls of the Bundle's
 * entries to "Type/id" so references may name entries by fullUrl (NULL:
 * none). Errors are MR_EINVAL with err->field the FHIR path, relative to
 * the resource, of the element at fault.
 */
int mr_fhir_read(json_t *res, json_t *urls, struct mr_fhir_in *in, struct mr_arena *a,
		 struct mr_err *err);
/* Checks and normalises what was read (as mr_md_rec_check, mr_consent_check), naming FHIR paths. */
int mr_fhir_check(struct mr_fhir_in *in, int64_t now, struct mr_arena *a, struct mr_err *err);
/*
 * Writes one checked resource: *status gets 201 when it created the HCO,
 * HCP or consent, else 200 (changed or already so). Errors name FHIR paths.
 */
int mr_fhir_apply(struct mr_conn *c, const struct mr_keys *k, struct mr_fhir_in *in,
		  const struct mr_md_actor *who, int *status, struct mr_err *err);

/* A Bundle being imported. */
struct mr_fhir_import;

/*
 * Takes a Bundle of type transaction, batch or collection (a reference is
 * kept) and sorts its entries into the order they are applied; an entry
 * that cannot be (no resource, a type not accepted) gets its 400 now.
 * MR_EINVAL when body is not such a Bundle; MR_ETOOBIG past
 * MR_FHIR_MAX_ENTRIES entries.
 */
int mr_fhir_import_new(json_t *body, struct mr_fhir_import **out, struct mr_err *err);
/* How many entries are to be applied. */
int mr_fhir_import_count(const struct mr_fhir_import *im);
/*
 * Reads, checks and writes entries [from, from + n) of the apply order,
 * each under its own savepoint; an entry's own fault becomes its outcome.
 * Only database faults are returned (the caller's transaction then fails).
 */
int mr_fhir_import_apply(struct mr_conn *c, const struct mr_keys *k, struct mr_fhir_import *im,
			 int from, int n, const struct mr_md_actor *who, struct mr_err *err);
/* The response Bundle: transaction-response or batch-response, one entry per request entry. */
json_t *mr_fhir_import_response(const struct mr_fhir_import *im);
/* {"entries","created","ok","failed"}: the counts, for the audit record. */
json_t *mr_fhir_import_summary(const struct mr_fhir_import *im);
void mr_fhir_import_free(struct mr_fhir_import *im);

#endif
