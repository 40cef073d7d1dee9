/*
 * The FHIR R4 mapping of master data, both ways (see fhir.h and, for the
 * element-by-element table, docs/fhir.md). The extension tables below are
 * read by the export and the import alike, so a field cannot be written
 * one way and read another.
 *
 * An import sets what a resource carries and leaves what it omits as it
 * is, as the JSON API's PATCH does: a partial source never wipes a phone
 * number. Consents are history: a Consent already recorded is accepted
 * again without a change (mr_consent_add), which is what makes importing
 * the same Bundle twice change nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "md/fhir.h"
#include "md/ident.h"

#define MR_FHIR_SD MR_FHIR_BASE "/StructureDefinition/"
#define MR_SYS_HCO MR_FHIR_BASE "/sid/hco"
#define MR_SYS_HCP MR_FHIR_BASE "/sid/hcp"
#define MR_SYS_LICENSE MR_FHIR_BASE "/sid/cn-physician-license"
#define MR_SYS_HCO_TYPE MR_FHIR_BASE "/CodeSystem/hco-type"
#define MR_SYS_TITLE MR_FHIR_BASE "/CodeSystem/title"
#define MR_SYS_SPECIALTY MR_FHIR_BASE "/CodeSystem/specialty"
#define MR_SYS_PURPOSE MR_FHIR_BASE "/CodeSystem/consent-purpose"
#define MR_SYS_SCOPE "http://terminology.hl7.org/CodeSystem/consentscope"
#define MR_SYS_ACTCODE "http://terminology.hl7.org/CodeSystem/v3-ActCode"

#define MR_NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *const mr_fhir_names[MR_FHIR_NTYPES] = { "Organization", "Practitioner",
							   "PractitionerRole", "Consent" };

/* An extension of ours: https://medreach.dev/fhir/StructureDefinition/<name>. */
struct mr_fhir_ext {
	const char *name;   /* the URL's last segment */
	const char *field;  /* the medreach field it carries */
	const char *value;  /* its value[x]: valueInteger, valueString or valueCode */
};

static const struct mr_fhir_ext mr_hco_exts[] = {
	{ "level", "level", "valueInteger" },
	{ "grade", "grade", "valueString" },
	{ "city-tier", "city_tier", "valueInteger" },
	{ "region", "region", "valueString" },
	{ "departments", "departments", "valueString" }, /* one extension per department */
};

static const struct mr_fhir_ext mr_role_exts[] = {
	{ "department", "department", "valueString" },
};

static const struct mr_fhir_ext mr_consent_exts[] = {
	{ "consent-channel", "channel", "valueCode" },
	{ "consent-source", "source", "valueString" },
	{ "consent-evidence", "evidence", "valueString" },
	{ "consent-version", "version", "valueString" },
};

/* The titles' display names, for the PractitionerRole.code coding. */
static const char *const mr_title_display[][2] = {
	{ "resident", "住院医师" },
	{ "attending", "主治医师" },
	{ "assoc_chief", "副主任医师" },
	{ "chief", "主任医师" },
};

const char *mr_fhir_type_name(enum mr_fhir_type t)
{
	return t < MR_FHIR_NTYPES ? mr_fhir_names[t] : "unknown";
}

int mr_fhir_type_parse(const char *s)
{
	for (int i = 0; i < MR_FHIR_NTYPES; i++) {
		if (strcmp(s, mr_fhir_names[i]) == 0)
			return i;
	}
	return -1;
}

/* ---------- out ---------- */

/* row[key] when it is a non-empty string, else NULL. */
static const char *mr_fhir_s(json_t *row, const char *key)
{
	const char *s = json_string_value(json_object_get(row, key));

	return s && *s ? s : NULL;
}

static json_t *mr_fhir_cc(const char *system, const char *code)
{
	return json_pack("{s:[{s:s, s:s}]}", "coding", "system", system, "code", code);
}

static json_t *mr_fhir_ref_to(const char *type, const char *id)
{
	char ref[MR_MD_EXT_MAX + 32];

	snprintf(ref, sizeof(ref), "%s/%s", type, id);
	return json_pack("{s:s}", "reference", ref);
}

/* Sets res.meta.lastUpdated from the µs time row[key], when there is one. */
static void mr_fhir_meta(json_t *res, json_t *row, const char *key)
{
	json_t *t = json_object_get(row, key);
	char buf[40];

	if (!json_is_integer(t))
		return;
	mr_time_format(json_integer_value(t), buf, sizeof(buf));
	json_object_set_new(res, "meta", json_pack("{s:s}", "lastUpdated", buf));
}

static void mr_fhir_ext_out(json_t *exts, const struct mr_fhir_ext *x, json_t *v)
{
	char url[160];

	snprintf(url, sizeof(url), MR_FHIR_SD "%s", x->name);
	json_array_append_new(exts, json_pack("{s:s, s:O}", "url", url, x->value, v));
}

/* Sets res.extension from row's fields in table t, in table order; a list repeats its extension. */
static void mr_fhir_exts_out(json_t *res, json_t *row, const struct mr_fhir_ext *t, int n)
{
	json_t *exts = json_array();

	for (int i = 0; i < n; i++) {
		json_t *v = json_object_get(row, t[i].field), *item;
		size_t j;

		if (json_is_array(v)) {
			json_array_foreach(v, j, item)
				mr_fhir_ext_out(exts, &t[i], item);
		} else if (json_is_integer(v) || (json_is_string(v) && *json_string_value(v))) {
			mr_fhir_ext_out(exts, &t[i], v);
		}
	}
	if (json_array_size(exts) > 0)
		json_object_set_new(res, "extension", exts);
	else
		json_decref(exts);
}

static json_t *mr_fhir_address(json_t *hco)
{
	const char *text = mr_fhir_s(hco, "address"), *city = mr_fhir_s(hco, "city");
	const char *state = mr_fhir_s(hco, "province");
	json_t *ad;

	if (!text && !city && !state)
		return NULL;
	ad = json_object();
	if (text)
		json_object_set_new(ad, "text", json_string(text));
	if (city)
		json_object_set_new(ad, "city", json_string(city));
	if (state)
		json_object_set_new(ad, "state", json_string(state));
	json_object_set_new(ad, "country", json_string("CN"));
	return json_pack("[o]", ad);
}

json_t *mr_fhir_organization(json_t *hco)
{
	const char *id = mr_fhir_s(hco, "id"), *type = mr_fhir_s(hco, "type");
	const char *name = mr_fhir_s(hco, "name");
	json_t *res = json_pack("{s:s, s:s}", "resourceType", "Organization", "id", id ? id : "");
	json_t *address = mr_fhir_address(hco);

	mr_fhir_meta(res, hco, "updated_at");
	mr_fhir_exts_out(res, hco, mr_hco_exts, MR_NELEM(mr_hco_exts));
	json_object_set_new(res, "identifier",
			    json_pack("[{s:s, s:s}]", "system", MR_SYS_HCO, "value", id ? id : ""));
	json_object_set_new(res, "active", json_boolean(!json_is_integer(json_object_get(hco, "deleted_at"))));
	if (type)
		json_object_set_new(res, "type", json_pack("[o]", mr_fhir_cc(MR_SYS_HCO_TYPE, type)));
	if (name)
		json_object_set_new(res, "name", json_string(name));
	if (address)
		json_object_set_new(res, "address", address);
	return res;
}

static json_t *mr_fhir_names_out(json_t *hcp)
{
	const char *name = mr_fhir_s(hcp, "name"), *pinyin = mr_fhir_s(hcp, "pinyin");
	json_t *names = json_array();

	if (name)
		json_array_append_new(names, json_pack("{s:s, s:s}", "use", "official", "text", name));
	if (pinyin)
		json_array_append_new(names, json_pack("{s:s, s:s}", "use", "usual", "text", pinyin));
	return names;
}

json_t *mr_fhir_practitioner(json_t *hcp, int contacts)
{
	const char *id = mr_fhir_s(hcp, "id"), *status = mr_fhir_s(hcp, "status");
	const char *gender = mr_fhir_s(hcp, "gender"), *license = mr_fhir_s(hcp, "license_no");
	const char *phone = mr_fhir_s(hcp, "phone"), *email = mr_fhir_s(hcp, "email");
	json_t *res = json_pack("{s:s, s:s}", "resourceType", "Practitioner", "id", id ? id : "");
	json_t *ids = json_pack("[{s:s, s:s}]", "system", MR_SYS_HCP, "value", id ? id : "");
	json_t *names = mr_fhir_names_out(hcp), *telecom = json_array();

	mr_fhir_meta(res, hcp, "updated_at");
	if (contacts && license)
		json_array_append_new(ids, json_pack("{s:s, s:s}", "system", MR_SYS_LICENSE, "value", license));
	json_object_set_new(res, "identifier", ids);
	json_object_set_new(res, "active", json_boolean(!status || strcmp(status, "active") == 0));
	if (json_array_size(names) > 0)
		json_object_set(res, "name", names);
	json_decref(names);
	if (contacts && phone)
		json_array_append_new(telecom, json_pack("{s:s, s:s}", "system", "phone", "value", phone));
	if (contacts && email)
		json_array_append_new(telecom, json_pack("{s:s, s:s}", "system", "email", "value", email));
	if (json_array_size(telecom) > 0)
		json_object_set(res, "telecom", telecom);
	json_decref(telecom);
	json_object_set_new(res, "gender", json_string(!gender ? "unknown" :
						       strcmp(gender, "M") == 0 ? "male" :
						       strcmp(gender, "F") == 0 ? "female" : "unknown"));
	return res;
}

static json_t *mr_fhir_title_cc(const char *title)
{
	json_t *cc = mr_fhir_cc(MR_SYS_TITLE, title);

	for (int i = 0; i < MR_NELEM(mr_title_display); i++) {
		if (strcmp(title, mr_title_display[i][0]) == 0)
			json_object_set_new(json_array_get(json_object_get(cc, "coding"), 0), "display",
					    json_string(mr_title_display[i][1]));
	}
	return cc;
}

json_t *mr_fhir_role(json_t *hcp)
{
	const char *id = mr_fhir_s(hcp, "id"), *hco = mr_fhir_s(hcp, "hco");
	const char *title = mr_fhir_s(hcp, "title"), *specialty = mr_fhir_s(hcp, "specialty");
	char rid[MR_MD_EXT_MAX + 8];
	json_t *res;

	if (!id || (!hco && !title && !specialty && !mr_fhir_s(hcp, "department")))
		return NULL;
	snprintf(rid, sizeof(rid), "%s-role", id);
	res = json_pack("{s:s, s:s}", "resourceType", "PractitionerRole", "id", rid);
	mr_fhir_meta(res, hcp, "updated_at");
	mr_fhir_exts_out(res, hcp, mr_role_exts, MR_NELEM(mr_role_exts));
	json_object_set_new(res, "practitioner", mr_fhir_ref_to("Practitioner", id));
	if (hco)
		json_object_set_new(res, "organization", mr_fhir_ref_to("Organization", hco));
	if (title)
		json_object_set_new(res, "code", json_pack("[o]", mr_fhir_title_cc(title)));
	if (specialty)
		json_object_set_new(res, "specialty", json_pack("[o]", mr_fhir_cc(MR_SYS_SPECIALTY, specialty)));
	return res;
}

/* The id of a Consent: "<hcp>-<channel>-<purpose>-<captured µs>", other characters than FHIR's made '-'. */
static void mr_fhir_consent_id(const char *hcp, const char *channel, const char *purpose,
			       int64_t captured_at, char *out, size_t n)
{
	snprintf(out, n, "%s-%s-%s-%lld", hcp, channel, purpose, (long long)captured_at);
	for (char *p = out; *p; p++) {
		int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			 *p == '.';

		if (!ok)
			*p = '-';
	}
}

json_t *mr_fhir_consent(const char *hcp, json_t *row, int in_force)
{
	const char *channel = mr_fhir_s(row, "channel"), *purpose = mr_fhir_s(row, "purpose");
	const char *status = mr_fhir_s(row, "status");
	int64_t at = json_integer_value(json_object_get(row, "captured_at"));
	int permit = status && strcmp(status, "opt_in") == 0;
	char id[MR_MD_EXT_MAX + 96], when[40];
	json_t *res;

	if (!channel || !purpose)
		return NULL;
	mr_fhir_consent_id(hcp, channel, purpose, at, id, sizeof(id));
	mr_time_format(at, when, sizeof(when));
	res = json_pack("{s:s, s:s}", "resourceType", "Consent", "id", id);
	mr_fhir_meta(res, row, "recorded_at");
	mr_fhir_exts_out(res, row, mr_consent_exts, MR_NELEM(mr_consent_exts));
	json_object_set_new(res, "status", json_string(in_force ? "active" : "inactive"));
	json_object_set_new(res, "scope", mr_fhir_cc(MR_SYS_SCOPE, "patient-privacy"));
	json_object_set_new(res, "category", json_pack("[o]", mr_fhir_cc(MR_SYS_PURPOSE, purpose)));
	json_object_set_new(res, "performer", json_pack("[o]", mr_fhir_ref_to("Practitioner", hcp)));
	json_object_set_new(res, "dateTime", json_string(when));
	json_object_set_new(res, "policyRule", mr_fhir_cc(MR_SYS_ACTCODE, permit ? "OPTIN" : "OPTOUT"));
	json_object_set_new(res, "provision", json_pack("{s:s}", "type", permit ? "permit" : "deny"));
	return res;
}

json_t *mr_fhir_entry(json_t *resource)
{
	const char *type = json_string_value(json_object_get(resource, "resourceType"));
	const char *id = json_string_value(json_object_get(resource, "id"));
	char url[256];

	snprintf(url, sizeof(url), MR_FHIR_BASE "/%s/%s", type ? type : "", id ? id : "");
	return json_pack("{s:s, s:o}", "fullUrl", url, "resource", resource);
}

/* Puts the HCP's primary phone, email and licence number, unsealed, into its row. */
static int mr_fhir_contacts(struct mr_conn *c, const struct mr_keys *k, int64_t hcp_id, json_t *row,
			    struct mr_err *err)
{
	static const char *const kinds[] = { "phone", "email", "license_no" };
	json_t *ids = json_array(), *x;
	size_t i;
	int rc = mr_ident_list(c, k, hcp_id, 1, ids, err);

	for (int j = 0; j < MR_NELEM(kinds); j++)
		json_object_set_new(row, kinds[j], json_null());
	json_array_foreach(ids, i, x) {
		const char *kind = json_string_value(json_object_get(x, "kind"));
		const char *value = json_string_value(json_object_get(x, "value"));

		for (int j = 0; rc == 0 && kind && value && *value && j < MR_NELEM(kinds); j++) {
			if (strcmp(kind, kinds[j]) == 0 && json_is_true(json_object_get(x, "primary")))
				json_object_set_new(row, kinds[j], json_string(value));
		}
	}
	json_decref(ids);
	return rc;
}

int mr_fhir_get(struct mr_conn *c, const struct mr_keys *k, enum mr_fhir_type t, int64_t id,
		int contacts, json_t **out, struct mr_err *err)
{
	json_t *row = NULL;
	int rc;

	*out = NULL;
	if (t != MR_FHIR_ORGANIZATION && t != MR_FHIR_PRACTITIONER)
		return mr_err_set(err, MR_EINTERNAL, "mr_fhir_get reads Organizations and Practitioners");
	rc = mr_md_get(c, t == MR_FHIR_ORGANIZATION ? &mr_md_hco : &mr_md_hcp, id, &row, err);
	if (rc == 0 && t == MR_FHIR_PRACTITIONER && contacts)
		rc = mr_fhir_contacts(c, k, id, row, err);
	if (rc == 0)
		*out = t == MR_FHIR_ORGANIZATION ? mr_fhir_organization(row) :
		       mr_fhir_practitioner(row, contacts);
	json_decref(row);
	return rc;
}

/* ---------- a page of an exported Bundle ---------- */

/* An export walks HCOs, then HCPs; a cursor is the phase's letter and the last internal id done. */
enum mr_fhir_phase { MR_PH_HCO, MR_PH_HCP, MR_PH_DONE };

#define MR_FHIR_BIT(t) (1u << (t))
#define MR_FHIR_HCP_TYPES (MR_FHIR_BIT(MR_FHIR_PRACTITIONER) | MR_FHIR_BIT(MR_FHIR_ROLE) | \
			   MR_FHIR_BIT(MR_FHIR_CONSENT))

struct mr_fhir_pager {
	struct mr_conn *c;
	const struct mr_keys *k;
	const struct mr_scope *s;
	const struct mr_fhir_query *q;
	unsigned types;
	json_t *entries;
	int room;                    /* HCOs and HCPs this page may still take */
};

static int mr_fhir_cursor_parse(const char *s, enum mr_fhir_phase *phase, int64_t *after,
				struct mr_err *err)
{
	*phase = MR_PH_HCO;
	*after = 0;
	if (!s)
		return 0;
	if ((s[0] == 'O' || s[0] == 'H') && mr_parse_i64(s + 1, 0, INT64_MAX, after) == 0) {
		*phase = s[0] == 'O' ? MR_PH_HCO : MR_PH_HCP;
		return 0;
	}
	return mr_err_field(err, MR_EINVAL, "cursor",
			    "the cursor is not one this server issued; start again without it");
}

static void mr_fhir_add(struct mr_fhir_pager *p, json_t *res)
{
	if (res)
		json_array_append_new(p->entries, mr_fhir_entry(res));
}

/* A consent row being ordered for export. */
struct mr_fhir_crow {
	json_t *row;
};

/* newest first; then by channel and purpose, so an export does not depend on insertion order */
static int mr_fhir_consent_cmp(const void *x, const void *y)
{
	json_t *a = ((const struct mr_fhir_crow *)x)->row, *b = ((const struct mr_fhir_crow *)y)->row;
	int64_t ta = json_integer_value(json_object_get(a, "captured_at"));
	int64_t tb = json_integer_value(json_object_get(b, "captured_at"));
	const char *ca = mr_fhir_s(a, "channel"), *cb = mr_fhir_s(b, "channel");
	const char *pa = mr_fhir_s(a, "purpose"), *pb = mr_fhir_s(b, "purpose");
	int d;

	if (ta != tb)
		return ta < tb ? 1 : -1;
	d = strcmp(ca ? ca : "", cb ? cb : "");
	return d ? d : strcmp(pa ? pa : "", pb ? pb : "");
}

/* 1 when no row before row i (newer) has its channel and purpose. */
static int mr_fhir_in_force(const struct mr_fhir_crow *rows, size_t i)
{
	for (size_t j = 0; j < i; j++) {
		if (json_equal(json_object_get(rows[j].row, "channel"), json_object_get(rows[i].row, "channel")) &&
		    json_equal(json_object_get(rows[j].row, "purpose"), json_object_get(rows[i].row, "purpose")))
			return 0;
	}
	return 1;
}

static int mr_fhir_add_consents(struct mr_fhir_pager *p, const char *ext, int64_t id,
				struct mr_err *err)
{
	json_t *items = json_array();
	struct mr_fhir_crow *rows;
	size_t n;
	int rc = mr_consent_list(p->c, id, 1, items, err);

	n = json_array_size(items);
	rows = mr_calloc(n ? n : 1, sizeof(struct mr_fhir_crow));
	for (size_t i = 0; i < n; i++)
		rows[i].row = json_array_get(items, i);
	qsort(rows, n, sizeof(struct mr_fhir_crow), mr_fhir_consent_cmp);
	for (size_t i = 0; rc == 0 && i < n; i++)
		mr_fhir_add(p, mr_fhir_consent(ext, rows[i].row, mr_fhir_in_force(rows, i)));
	free(rows);
	json_decref(items);
	return rc;
}

/* Adds what the page's types ask of one HCP row. */
static int mr_fhir_add_hcp(struct mr_fhir_pager *p, json_t *row, struct mr_err *err)
{
	const char *ext = mr_fhir_s(row, "id");
	int64_t id = 0;
	int rc = mr_md_lookup(p->c, &mr_md_hcp, ext ? ext : "", &id, err);

	if (rc == 0 && (p->types & MR_FHIR_BIT(MR_FHIR_PRACTITIONER)) && p->q->contacts)
		rc = mr_fhir_contacts(p->c, p->k, id, row, err);
	if (rc == 0 && (p->types & MR_FHIR_BIT(MR_FHIR_PRACTITIONER)))
		mr_fhir_add(p, mr_fhir_practitioner(row, p->q->contacts));
	if (rc == 0 && (p->types & MR_FHIR_BIT(MR_FHIR_ROLE)))
		mr_fhir_add(p, mr_fhir_role(row));
	if (rc == 0 && (p->types & MR_FHIR_BIT(MR_FHIR_CONSENT)))
		rc = mr_fhir_add_consents(p, ext, id, err);
	p->room--;
	return rc;
}

/* The one row of e with external id ext (NULL when it does not exist or was deleted). */
static int mr_fhir_row(struct mr_conn *c, const struct mr_md_entity *e, const char *ext, json_t **row,
		       struct mr_err *err)
{
	int64_t id = 0;
	int rc = mr_md_lookup(c, e, ext, &id, err);

	*row = NULL;
	if (rc == MR_ENOTFOUND) {
		mr_err_clear(err);
		return 0;
	}
	return rc < 0 ? rc : mr_md_get(c, e, id, row, err);
}

/* The HCO a filtered export is about: the hco= one, or the hospital of the hcp= one. */
static int mr_fhir_hco_of_query(struct mr_fhir_pager *p, const char **hco, json_t **hold,
				struct mr_err *err)
{
	int rc = 0;

	*hco = p->q->hco;
	*hold = NULL;
	if (!*hco && p->q->hcp) {
		rc = mr_fhir_row(p->c, &mr_md_hcp, p->q->hcp, hold, err);
		*hco = rc == 0 && *hold ? mr_fhir_s(*hold, "hco") : NULL;
	}
	return rc;
}

static int mr_fhir_page_hcos(struct mr_fhir_pager *p, int64_t after, int64_t *more,
			     struct mr_err *err)
{
	struct mr_md_query mq;
	json_t *items, *row, *hold = NULL;
	const char *hco = NULL;
	size_t i;
	int rc;

	*more = 0;
	if (p->q->hco || p->q->hcp) {
		rc = mr_fhir_hco_of_query(p, &hco, &hold, err);
		if (rc == 0 && hco && after == 0)
			rc = mr_fhir_row(p->c, &mr_md_hco, hco, &row, err);
		else
			row = NULL;
		if (rc == 0 && row) {
			mr_fhir_add(p, mr_fhir_organization(row));
			p->room--;
		}
		json_decref(row);
		json_decref(hold);
		return rc;
	}
	memset(&mq, 0, sizeof(mq));
	mq.limit = p->room;
	mq.cursor = after;
	items = json_array();
	rc = mr_md_list(p->c, &mr_md_hco, p->s, &mq, items, more, err);
	json_array_foreach(items, i, row) {
		mr_fhir_add(p, mr_fhir_organization(row));
		p->room--;
	}
	json_decref(items);
	return rc;
}

static int mr_fhir_page_hcps(struct mr_fhir_pager *p, int64_t after, int64_t *more,
			     struct mr_err *err)
{
	struct mr_md_query mq;
	json_t *items, *row = NULL;
	size_t i;
	int rc = 0;

	*more = 0;
	if (p->q->hcp) {
		if (after == 0)
			rc = mr_fhir_row(p->c, &mr_md_hcp, p->q->hcp, &row, err);
		if (rc == 0 && row && (!p->q->hco || (mr_fhir_s(row, "hco") &&
						      strcmp(mr_fhir_s(row, "hco"), p->q->hco) == 0)))
			rc = mr_fhir_add_hcp(p, row, err);
		json_decref(row);
		return rc;
	}
	memset(&mq, 0, sizeof(mq));
	mq.limit = p->room;
	mq.cursor = after;
	if (p->q->hco) {
		mq.filter_name[0] = "hco";
		mq.filter_val[0] = p->q->hco;
		mq.nfilters = 1;
	}
	items = json_array();
	rc = mr_md_list(p->c, &mr_md_hcp, p->s, &mq, items, more, err);
	json_array_foreach(items, i, row) {
		if (rc == 0)
			rc = mr_fhir_add_hcp(p, row, err);
	}
	json_decref(items);
	return rc;
}

/* The phase after ph that the page's types need. */
static enum mr_fhir_phase mr_fhir_next_phase(enum mr_fhir_phase ph, unsigned types)
{
	if (ph == MR_PH_HCO && (types & MR_FHIR_HCP_TYPES))
		return MR_PH_HCP;
	return MR_PH_DONE;
}

int mr_fhir_page(struct mr_conn *c, const struct mr_keys *k, const struct mr_scope *s,
		 const struct mr_fhir_query *q, json_t *entries, char next[MR_FHIR_CURSOR],
		 struct mr_err *err)
{
	struct mr_fhir_pager p = { c, k, s, q, q->types ? q->types : (1u << MR_FHIR_NTYPES) - 1u,
				   entries, q->limit };
	enum mr_fhir_phase ph;
	int64_t after = 0, more = 0;
	int rc = mr_fhir_cursor_parse(q->cursor, &ph, &after, err);

	next[0] = '\0';
	if (rc == 0 && ph == MR_PH_HCO && !(p.types & MR_FHIR_BIT(MR_FHIR_ORGANIZATION)))
		ph = mr_fhir_next_phase(ph, p.types);
	while (rc == 0 && ph != MR_PH_DONE && p.room > 0) {
		rc = ph == MR_PH_HCO ? mr_fhir_page_hcos(&p, after, &more, err) :
		     mr_fhir_page_hcps(&p, after, &more, err);
		if (rc == 0 && more) {
			after = more;
			break;
		}
		ph = mr_fhir_next_phase(ph, p.types);
		after = 0;
	}
	if (rc == 0 && ph != MR_PH_DONE)
		snprintf(next, MR_FHIR_CURSOR, "%c%lld", ph == MR_PH_HCO ? 'O' : 'H', (long long)after);
	return rc;
}

/* ---------- in: reading one resource ---------- */

struct mr_fhir_rd {
	struct mr_fhir_in *in;
	json_t *urls;            /* fullUrl -> "Type/id", or NULL */
	struct mr_arena *a;
	struct mr_err *err;
};

/* A FHIR path made with printf, in the arena. */
static const char *mr_fhir_path(struct mr_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static const char *mr_fhir_path(struct mr_arena *a, const char *fmt, ...)
{
	char buf[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return mr_arena_strdup(a, buf);
}

/* Remembers that medreach field came from FHIR path (a later note replaces an earlier one). */
static void mr_fhir_note(struct mr_fhir_in *in, const char *field, const char *path)
{
	for (int i = 0; i < in->npaths; i++) {
		if (strcmp(in->field[i], field) == 0) {
			in->path[i] = path;
			return;
		}
	}
	if (in->npaths < MR_FHIR_MAXP) {
		in->field[in->npaths] = field;
		in->path[in->npaths++] = path;
	}
}

/* Rewrites err->field, a medreach field, as the FHIR path it was read from ("" for the resource). */
static void mr_fhir_blame(const struct mr_fhir_in *in, struct mr_err *err)
{
	const char *path = "";

	for (int i = 0; i < in->npaths; i++) {
		if (strcmp(in->field[i], err->field) == 0)
			path = in->path[i];
	}
	snprintf(err->field, sizeof(err->field), "%s", path);
}

static int mr_fhir_set_consent(struct mr_consent *cs, const char *field, const char *value)
{
	if (strcmp(field, "hcp") == 0)
		cs->hcp = value;
	else if (strcmp(field, "channel") == 0)
		cs->channel = value;
	else if (strcmp(field, "purpose") == 0)
		cs->purpose = value;
	else if (strcmp(field, "status") == 0)
		cs->status = value;
	else if (strcmp(field, "source") == 0)
		cs->source = value;
	else if (strcmp(field, "evidence") == 0)
		cs->evidence = value;
	else if (strcmp(field, "version") == 0)
		cs->version = value;
	return 0;
}

/* Sets medreach field (of the record, or of the consent) to value, read at path. */
static int mr_fhir_set(struct mr_fhir_rd *rd, const char *field, const char *value,
		       const char *path)
{
	struct mr_md_rec *rec = &rd->in->rec;
	int i;

	mr_fhir_note(rd->in, field, path);
	if (rd->in->type == MR_FHIR_CONSENT)
		return mr_fhir_set_consent(&rd->in->cs, field, value);
	i = mr_md_field_index(rec->e, field);
	if (i < 0) {
		rec->ext_id = value;
		return 0;
	}
	if (rec->e->fields[i].kind == MR_MDK_LIST && strchr(value, ';'))
		return mr_err_field(rd->err, MR_EINVAL, path, "%s cannot contain ';'", path);
	if (rec->e->fields[i].kind == MR_MDK_LIST && rec->val[i] && *rec->val[i]) {
		size_t n1 = strlen(rec->val[i]), n2 = strlen(value);
		char *s = mr_arena_alloc(rd->a, n1 + n2 + 2);

		memcpy(s, rec->val[i], n1);
		s[n1] = ';';
		memcpy(s + n1 + 1, value, n2 + 1);
		value = s;
	}
	rec->val[i] = value;
	return 0;
}

/* obj[key] as a string: absent or null leaves *out NULL; another type, or "", is an error at path. */
static int mr_fhir_str(struct mr_fhir_rd *rd, json_t *obj, const char *key, const char *path,
		       const char **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || !*json_string_value(v))
		return mr_err_field(rd->err, MR_EINVAL, path, "%s must be a non-empty string", path);
	*out = json_string_value(v);
	return 0;
}

/* obj[key] as an array of objects (NULL when absent); anything else is an error at path. */
static int mr_fhir_arr(struct mr_fhir_rd *rd, json_t *obj, const char *key, const char *path,
		       json_t **out)
{
	json_t *v = json_object_get(obj, key), *x;
	size_t i;

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return mr_err_field(rd->err, MR_EINVAL, path, "%s must be an array", path);
	json_array_foreach(v, i, x) {
		if (!json_is_object(x))
			return mr_err_field(rd->err, MR_EINVAL, mr_fhir_path(rd->a, "%s[%zu]", path, i),
					    "%s[%zu] must be an object", path, i);
	}
	*out = v;
	return 0;
}

/* The code of the first coding of system in the CodeableConcept array obj[key], set as field. */
static int mr_fhir_read_cc(struct mr_fhir_rd *rd, json_t *obj, const char *key, const char *system,
			   const char *field)
{
	json_t *ccs = NULL, *cc, *codings, *coding;
	size_t i, j;
	int rc = mr_fhir_arr(rd, obj, key, key, &ccs);

	json_array_foreach(ccs, i, cc) {
		const char *path = mr_fhir_path(rd->a, "%s[%zu].coding", key, i);

		rc = mr_fhir_arr(rd, cc, "coding", path, &codings);
		json_array_foreach(codings, j, coding) {
			const char *sys = NULL, *code = NULL;
			const char *cpath = mr_fhir_path(rd->a, "%s[%zu].code", path, j);

			if (rc == 0)
				rc = mr_fhir_str(rd, coding, "system", cpath, &sys);
			if (rc == 0 && sys && strcmp(sys, system) == 0) {
				rc = mr_fhir_str(rd, coding, "code", cpath, &code);
				if (rc == 0 && code)
					return mr_fhir_set(rd, field, code, cpath);
			}
		}
		if (rc < 0)
			return rc;
	}
	return rc;
}

static int mr_fhir_ext_value(struct mr_fhir_rd *rd, json_t *x, const struct mr_fhir_ext *e, size_t i)
{
	json_t *v = json_object_get(x, e->value);
	const char *path = mr_fhir_path(rd->a, "extension[%zu].%s", i, e->value);
	char num[32];

	if (strcmp(e->value, "valueInteger") == 0) {
		if (!json_is_integer(v))
			return mr_err_field(rd->err, MR_EINVAL, path, "the %s extension takes a valueInteger",
					    e->name);
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		return mr_fhir_set(rd, e->field, mr_arena_strdup(rd->a, num), path);
	}
	if (!json_is_string(v) || !*json_string_value(v))
		return mr_err_field(rd->err, MR_EINVAL, path, "the %s extension takes a non-empty %s",
				    e->name, e->value);
	return mr_fhir_set(rd, e->field, json_string_value(v), path);
}

/* Reads our extensions of table t; extensions of other URLs are ignored, as FHIR allows. */
static int mr_fhir_read_exts(struct mr_fhir_rd *rd, json_t *res, const struct mr_fhir_ext *t, int n)
{
	size_t len = strlen(MR_FHIR_SD), i;
	json_t *exts = NULL, *x;
	int rc = mr_fhir_arr(rd, res, "extension", "extension", &exts);

	json_array_foreach(exts, i, x) {
		const char *url = NULL;

		if (rc == 0)
			rc = mr_fhir_str(rd, x, "url", mr_fhir_path(rd->a, "extension[%zu].url", i), &url);
		if (rc < 0)
			return rc;
		if (!url)
			return mr_err_field(rd->err, MR_EINVAL, mr_fhir_path(rd->a, "extension[%zu].url", i),
					    "an extension needs its url");
		for (int k = 0; strncmp(url, MR_FHIR_SD, len) == 0 && k < n; k++) {
			if (strcmp(url + len, t[k].name) == 0 && (rc = mr_fhir_ext_value(rd, x, &t[k], i)) < 0)
				return rc;
		}
	}
	return rc;
}

/* The identifiers of systems[] set their fields (the first of each system wins); then the resource id. */
static int mr_fhir_read_ids(struct mr_fhir_rd *rd, json_t *res, const char *const *systems,
			    const char *const *fields, int n)
{
	json_t *ids = NULL, *x;
	const char *id = NULL;
	int seen[4] = { 0, 0, 0, 0 };
	size_t i;
	int rc = mr_fhir_str(rd, res, "id", "id", &id);

	mr_fhir_note(rd->in, "id", "identifier");
	if (rc == 0 && id)
		rc = mr_fhir_set(rd, "id", id, "id");
	if (rc == 0)
		rc = mr_fhir_arr(rd, res, "identifier", "identifier", &ids);
	json_array_foreach(ids, i, x) {
		const char *sys = NULL, *value = NULL;
		const char *path = mr_fhir_path(rd->a, "identifier[%zu].value", i);

		if (rc == 0)
			rc = mr_fhir_str(rd, x, "system", mr_fhir_path(rd->a, "identifier[%zu].system", i), &sys);
		if (rc == 0)
			rc = mr_fhir_str(rd, x, "value", path, &value);
		for (int k = 0; rc == 0 && sys && value && k < n; k++) {
			if (!seen[k] && strcmp(sys, systems[k]) == 0) {
				seen[k] = 1;
				rc = mr_fhir_set(rd, fields[k], value, path);
			}
		}
	}
	return rc;
}

static int mr_fhir_read_address(struct mr_fhir_rd *rd, json_t *res)
{
	static const char *const keys[] = { "text", "city", "state" };
	static const char *const fields[] = { "address", "city", "province" };
	json_t *ads = NULL, *ad;
	int rc = mr_fhir_arr(rd, res, "address", "address", &ads);

	ad = json_array_get(ads, 0);
	for (int i = 0; rc == 0 && ad && i < MR_NELEM(keys); i++) {
		const char *v = NULL, *path = mr_fhir_path(rd->a, "address[0].%s", keys[i]);

		rc = mr_fhir_str(rd, ad, keys[i], path, &v);
		if (rc == 0 && v)
			rc = mr_fhir_set(rd, fields[i], v, path);
	}
	return rc;
}

/* obj[key] as a boolean; *out -1 when absent. */
static int mr_fhir_bool(struct mr_fhir_rd *rd, json_t *obj, const char *key, int *out)
{
	json_t *v = json_object_get(obj, key);

	*out = -1;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return mr_err_field(rd->err, MR_EINVAL, key, "%s must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

static int mr_fhir_read_org(struct mr_fhir_rd *rd, json_t *res)
{
	static const char *const systems[] = { MR_SYS_HCO };
	static const char *const fields[] = { "id" };
	const char *name = NULL;
	int active = -1;
	int rc = mr_fhir_read_ids(rd, res, systems, fields, 1);

	mr_fhir_note(rd->in, "name", "name");
	if (rc == 0)
		rc = mr_fhir_str(rd, res, "name", "name", &name);
	if (rc == 0 && name)
		rc = mr_fhir_set(rd, "name", name, "name");
	if (rc == 0)
		rc = mr_fhir_bool(rd, res, "active", &active);
	rd->in->inactive = active == 0;
	if (rc == 0)
		rc = mr_fhir_read_cc(rd, res, "type", MR_SYS_HCO_TYPE, "type");
	if (rc == 0)
		rc = mr_fhir_read_address(rd, res);
	if (rc == 0)
		rc = mr_fhir_read_exts(rd, res, mr_hco_exts, MR_NELEM(mr_hco_exts));
	return rc;
}

/* A HumanName's text, or its family and given names joined (Chinese names without a space). */
static int mr_fhir_name_text(struct mr_fhir_rd *rd, json_t *hn, size_t i, const char **out,
			     const char **path)
{
	const char *family = NULL;
	json_t *given = json_object_get(hn, "given"), *g;
	struct mr_buf b;
	size_t j;
	int rc;

	*path = mr_fhir_path(rd->a, "name[%zu].text", i);
	rc = mr_fhir_str(rd, hn, "text", *path, out);
	if (rc < 0 || *out)
		return rc;
	*path = mr_fhir_path(rd->a, "name[%zu].family", i);
	rc = mr_fhir_str(rd, hn, "family", *path, &family);
	if (rc < 0)
		return rc;
	mr_buf_init(&b, 1024);
	if (family && (unsigned char)family[0] >= 0x80)
		mr_buf_adds(&b, family);
	json_array_foreach(given, j, g) {
		if (!json_is_string(g))
			continue;
		if (b.len > 0 && (unsigned char)json_string_value(g)[0] < 0x80)
			mr_buf_addc(&b, ' ');
		mr_buf_adds(&b, json_string_value(g));
	}
	if (family && (unsigned char)family[0] < 0x80)
		mr_buf_addf(&b, "%s%s", b.len ? " " : "", family);
	*out = b.len ? mr_arena_strdup(rd->a, mr_buf_str(&b)) : NULL;
	mr_buf_release(&b);
	return 0;
}

/* The official (or first not "usual") name is the name; the "usual" one, the pinyin. */
static int mr_fhir_read_names(struct mr_fhir_rd *rd, json_t *res)
{
	json_t *names = NULL, *hn;
	int have_name = 0, have_pinyin = 0;
	size_t i;
	int rc = mr_fhir_arr(rd, res, "name", "name", &names);

	json_array_foreach(names, i, hn) {
		const char *use = NULL, *text = NULL, *path = NULL;
		int usual;

		if (rc == 0)
			rc = mr_fhir_str(rd, hn, "use", mr_fhir_path(rd->a, "name[%zu].use", i), &use);
		if (rc == 0)
			rc = mr_fhir_name_text(rd, hn, i, &text, &path);
		if (rc < 0)
			return rc;
		usual = use && strcmp(use, "usual") == 0;
		if (text && usual && !have_pinyin) {
			have_pinyin = 1;
			rc = mr_fhir_set(rd, "pinyin", text, path);
		} else if (text && !usual && !have_name) {
			have_name = 1;
			rc = mr_fhir_set(rd, "name", text, path);
		}
	}
	return rc;
}

/* The first phone and the first email of telecom; other systems are not stored. */
static int mr_fhir_read_telecom(struct mr_fhir_rd *rd, json_t *res)
{
	json_t *tel = NULL, *cp;
	int have_phone = 0, have_email = 0;
	size_t i;
	int rc = mr_fhir_arr(rd, res, "telecom", "telecom", &tel);

	json_array_foreach(tel, i, cp) {
		const char *sys = NULL, *value = NULL, *path = mr_fhir_path(rd->a, "telecom[%zu].value", i);

		if (rc == 0)
			rc = mr_fhir_str(rd, cp, "system", mr_fhir_path(rd->a, "telecom[%zu].system", i), &sys);
		if (rc == 0)
			rc = mr_fhir_str(rd, cp, "value", path, &value);
		if (rc < 0)
			return rc;
		if (!sys || !value)
			continue;
		if (strcmp(sys, "phone") == 0 && !have_phone) {
			have_phone = 1;
			rc = mr_fhir_set(rd, "phone", value, path);
		} else if (strcmp(sys, "email") == 0 && !have_email) {
			have_email = 1;
			rc = mr_fhir_set(rd, "email", value, path);
		}
	}
	return rc;
}

static int mr_fhir_read_gender(struct mr_fhir_rd *rd, json_t *res)
{
	const char *g = NULL;
	int rc = mr_fhir_str(rd, res, "gender", "gender", &g);

	if (rc < 0 || !g)
		return rc;
	if (strcmp(g, "male") == 0)
		return mr_fhir_set(rd, "gender", "M", "gender");
	if (strcmp(g, "female") == 0)
		return mr_fhir_set(rd, "gender", "F", "gender");
	if (strcmp(g, "unknown") == 0)
		return mr_fhir_set(rd, "gender", "", "gender");
	return mr_err_field(rd->err, MR_EINVAL, "gender",
			    "gender '%.40s' is not one medreach records: male, female or unknown", g);
}

static int mr_fhir_read_practitioner(struct mr_fhir_rd *rd, json_t *res)
{
	static const char *const systems[] = { MR_SYS_HCP, MR_SYS_LICENSE };
	static const char *const fields[] = { "id", "license_no" };
	int active = -1;
	int rc = mr_fhir_read_ids(rd, res, systems, fields, 2);

	mr_fhir_note(rd->in, "name", "name");
	if (rc == 0)
		rc = mr_fhir_bool(rd, res, "active", &active);
	if (rc == 0 && active >= 0)
		rc = mr_fhir_set(rd, "status", active ? "active" : "inactive", "active");
	if (rc == 0)
		rc = mr_fhir_read_names(rd, res);
	if (rc == 0)
		rc = mr_fhir_read_telecom(rd, res);
	if (rc == 0)
		rc = mr_fhir_read_gender(rd, res);
	return rc;
}

/*
 * The id reference s names when it is to a resource of type want: "Type/id",
 * an absolute URL ending so (a "/_history/n" suffix dropped), or the
 * fullUrl of an entry of the Bundle. NULL when it is to something else.
 */
static const char *mr_fhir_ref_parse(struct mr_fhir_rd *rd, const char *s, const char *want)
{
	const char *hist, *slash, *type;
	size_t n = strlen(want), len;
	char *copy;

	if (rd->urls && json_is_string(json_object_get(rd->urls, s)))
		s = json_string_value(json_object_get(rd->urls, s));
	hist = strstr(s, "/_history/");
	len = hist ? (size_t)(hist - s) : strlen(s);
	copy = mr_arena_strndup(rd->a, s, len);
	slash = strrchr(copy, '/');
	if (!slash || slash[1] == '\0' || (size_t)(slash - copy) < n)
		return NULL;
	type = slash - n;
	if (strncmp(type, want, n) != 0 || (type > copy && type[-1] != '/'))
		return NULL;
	return slash + 1;
}

/* The id that the Reference obj[key] names, a resource of type want; *path is its FHIR path. */
static int mr_fhir_read_ref(struct mr_fhir_rd *rd, json_t *obj, const char *key, const char *want,
			    const char **id, const char **path)
{
	json_t *ref = json_object_get(obj, key);
	const char *s = NULL;
	int rc;

	*id = NULL;
	*path = mr_fhir_path(rd->a, "%s.reference", key);
	if (!ref || json_is_null(ref))
		return 0;
	if (!json_is_object(ref))
		return mr_err_field(rd->err, MR_EINVAL, key, "%s must be a Reference object", key);
	rc = mr_fhir_str(rd, ref, "reference", *path, &s);
	if (rc < 0 || !s)
		return rc;
	*id = mr_fhir_ref_parse(rd, s, want);
	if (!*id)
		return mr_err_field(rd->err, MR_EINVAL, *path, "%s must refer to a %s: %s/<id>", *path,
				    want, want);
	return 0;
}

static int mr_fhir_read_role(struct mr_fhir_rd *rd, json_t *res)
{
	const char *hcp = NULL, *hco = NULL, *path = NULL;
	int rc = mr_fhir_read_ref(rd, res, "practitioner", "Practitioner", &hcp, &path);

	mr_fhir_note(rd->in, "id", path);
	if (rc == 0 && !hcp)
		return mr_err_field(rd->err, MR_EINVAL, "practitioner",
				    "a PractitionerRole needs its practitioner: {\"reference\":\"Practitioner/<id>\"}");
	if (rc == 0)
		rc = mr_fhir_set(rd, "id", hcp, path);
	if (rc == 0)
		rc = mr_fhir_read_ref(rd, res, "organization", "Organization", &hco, &path);
	if (rc == 0 && hco)
		rc = mr_fhir_set(rd, "hco", hco, path);
	if (rc == 0)
		rc = mr_fhir_read_cc(rd, res, "code", MR_SYS_TITLE, "title");
	if (rc == 0)
		rc = mr_fhir_read_cc(rd, res, "specialty", MR_SYS_SPECIALTY, "specialty");
	if (rc == 0)
		rc = mr_fhir_read_exts(rd, res, mr_role_exts, MR_NELEM(mr_role_exts));
	return rc;
}

/* The doctor of a Consent: the first performer that is a Practitioner. */
static int mr_fhir_read_performer(struct mr_fhir_rd *rd, json_t *res)
{
	json_t *perf = NULL, *x;
	size_t i;
	int rc = mr_fhir_arr(rd, res, "performer", "performer", &perf);

	json_array_foreach(perf, i, x) {
		const char *ref = NULL, *id = NULL, *path = mr_fhir_path(rd->a, "performer[%zu].reference", i);

		if (rc == 0)
			rc = mr_fhir_str(rd, x, "reference", path, &ref);
		if (rc < 0)
			return rc;
		id = ref ? mr_fhir_ref_parse(rd, ref, "Practitioner") : NULL;
		if (id)
			return mr_fhir_set(rd, "hcp", id, path);
	}
	return rc < 0 ? rc : mr_err_field(rd->err, MR_EINVAL, "performer",
					  "a Consent names the doctor who consents in performer:"
					  " [{\"reference\":\"Practitioner/<id>\"}]");
}

static int mr_fhir_read_consent_status(struct mr_fhir_rd *rd, json_t *res)
{
	const char *status = NULL, *type = NULL;
	json_t *prov = json_object_get(res, "provision");
	int rc = mr_fhir_str(rd, res, "status", "status", &status);

	if (rc == 0 && (!status || (strcmp(status, "active") != 0 && strcmp(status, "inactive") != 0)))
		return mr_err_field(rd->err, MR_EINVAL, "status",
				    "status '%.20s' is not recorded: only active or inactive consents are",
				    status ? status : "");
	if (rc == 0 && !json_is_object(prov))
		return mr_err_field(rd->err, MR_EINVAL, "provision",
				    "provision is required: {\"type\":\"permit\"} (opt-in) or {\"type\":\"deny\"} (opt-out)");
	if (rc == 0)
		rc = mr_fhir_str(rd, prov, "type", "provision.type", &type);
	if (rc == 0 && type && strcmp(type, "permit") == 0)
		return mr_fhir_set(rd, "status", "opt_in", "provision.type");
	if (rc == 0 && type && strcmp(type, "deny") == 0)
		return mr_fhir_set(rd, "status", "opt_out", "provision.type");
	return rc < 0 ? rc : mr_err_field(rd->err, MR_EINVAL, "provision.type",
					  "provision.type must be permit (opt-in) or deny (opt-out)");
}

static int mr_fhir_read_consent(struct mr_fhir_rd *rd, json_t *res)
{
	struct mr_fhir_in *in = rd->in;
	const char *when = NULL;
	int rc;

	mr_fhir_note(in, "hcp", "performer");
	mr_fhir_note(in, "channel", "extension");
	mr_fhir_note(in, "purpose", "category");
	mr_fhir_note(in, "captured_at", "dateTime");
	rc = mr_fhir_read_consent_status(rd, res);
	if (rc == 0)
		rc = mr_fhir_read_performer(rd, res);
	if (rc == 0)
		rc = mr_fhir_read_cc(rd, res, "category", MR_SYS_PURPOSE, "purpose");
	if (rc == 0)
		rc = mr_fhir_read_exts(rd, res, mr_consent_exts, MR_NELEM(mr_consent_exts));
	if (rc == 0)
		rc = mr_fhir_str(rd, res, "dateTime", "dateTime", &when);
	if (rc == 0 && (!when || mr_time_parse(when, 8 * 3600, &in->cs.captured_at) < 0))
		return mr_err_field(rd->err, MR_EINVAL, "dateTime",
				    "dateTime, when the consent was captured, must be a date (2024-03-05)"
				    " or a date and time with its zone (2024-03-05T09:00:00+08:00)");
	return rc;
}

/* The error of an entry whose resource is of a type not taken here. */
static int mr_fhir_bad_type(const char *type, struct mr_err *err)
{
	return mr_err_field(err, MR_EINVAL, "resourceType",
			    "resourceType %.40s is not accepted here: Practitioner, Organization,"
			    " PractitionerRole or Consent", type);
}

int mr_fhir_read(json_t *res, json_t *urls, struct mr_fhir_in *in, struct mr_arena *a,
		 struct mr_err *err)
{
	struct mr_fhir_rd rd = { in, urls, a, err };
	const char *rt = json_string_value(json_object_get(res, "resourceType"));
	int t = rt ? mr_fhir_type_parse(rt) : -1;

	memset(in, 0, sizeof(*in));
	mr_md_rec_init(&in->rec, &mr_md_hcp);
	if (!json_is_object(res))
		return mr_err_field(err, MR_EINVAL, "", "the resource must be a JSON object");
	if (!rt)
		return mr_err_field(err, MR_EINVAL, "resourceType", "resourceType is required");
	if (t < 0)
		return mr_fhir_bad_type(rt, err);
	if (json_object_get(res, "modifierExtension"))
		return mr_err_field(err, MR_EINVAL, "modifierExtension",
				    "modifierExtension is not understood here, so the resource cannot be"
				    " stored safely");
	in->type = (enum mr_fhir_type)t;
	switch (in->type) {
	case MR_FHIR_ORGANIZATION:
		mr_md_rec_init(&in->rec, &mr_md_hco);
		return mr_fhir_read_org(&rd, res);
	case MR_FHIR_PRACTITIONER:
		return mr_fhir_read_practitioner(&rd, res);
	case MR_FHIR_ROLE:
		return mr_fhir_read_role(&rd, res);
	case MR_FHIR_CONSENT:
		return mr_fhir_read_consent(&rd, res);
	case MR_FHIR_NTYPES:
		break;
	}
	return mr_fhir_bad_type(rt, err);
}

int mr_fhir_check(struct mr_fhir_in *in, int64_t now, struct mr_arena *a, struct mr_err *err)
{
	int rc;

	if (in->type == MR_FHIR_CONSENT)
		rc = mr_consent_check(&in->cs, now, err);
	else
		rc = mr_md_rec_check(&in->rec, in->type != MR_FHIR_ROLE, a, err);
	if (rc < 0)
		mr_fhir_blame(in, err);
	return rc;
}

/* ---------- in: writing one resource ---------- */

/* An Organization that is not active is deleted (soft), when there is a live one to delete. */
static int mr_fhir_apply_org(struct mr_conn *c, const struct mr_keys *k, struct mr_fhir_in *in,
			     const struct mr_md_actor *who, int *status, struct mr_err *err)
{
	struct mr_md_result res;
	int64_t id = 0;
	int rc;

	if (!in->inactive) {
		rc = mr_md_upsert(c, k, &in->rec, 0, who, &res, err);
		*status = rc == 0 && res.created ? 201 : 200;
		return rc;
	}
	rc = mr_md_lookup(c, &mr_md_hco, in->rec.ext_id, &id, err);
	if (rc == MR_ENOTFOUND) {
		mr_err_clear(err);
		return 0;
	}
	if (rc == 0)
		rc = mr_md_upsert(c, k, &in->rec, 2, who, &res, err);
	if (rc == 0)
		rc = mr_md_delete(c, &mr_md_hco, id, who, err);
	return rc;
}

static int mr_fhir_apply_role(struct mr_conn *c, const struct mr_keys *k, struct mr_fhir_in *in,
			      const struct mr_md_actor *who, struct mr_err *err)
{
	struct mr_md_result res;
	int64_t id = 0;
	int rc = mr_md_lookup(c, &mr_md_hcp, in->rec.ext_id, &id, err);

	if (rc == MR_ENOTFOUND)
		return mr_err_field(err, MR_EINVAL, "id",
				    "Practitioner %.64s does not exist: send it in the same Bundle or"
				    " create it first", in->rec.ext_id);
	if (rc == 0)
		rc = mr_md_upsert(c, k, &in->rec, 2, who, &res, err);
	return rc;
}

int mr_fhir_apply(struct mr_conn *c, const struct mr_keys *k, struct mr_fhir_in *in,
		  const struct mr_md_actor *who, int *status, struct mr_err *err)
{
	struct mr_md_result res;
	int added = 0, rc = 0;

	*status = 200;
	switch (in->type) {
	case MR_FHIR_ORGANIZATION:
		rc = mr_fhir_apply_org(c, k, in, who, status, err);
		break;
	case MR_FHIR_PRACTITIONER:
		rc = mr_md_upsert(c, k, &in->rec, 0, who, &res, err);
		*status = rc == 0 && res.created ? 201 : 200;
		break;
	case MR_FHIR_ROLE:
		rc = mr_fhir_apply_role(c, k, in, who, err);
		break;
	case MR_FHIR_CONSENT:
		rc = mr_consent_add(c, &in->cs, who, &added, err);
		*status = added ? 201 : 200;
		break;
	case MR_FHIR_NTYPES:
		rc = mr_err_set(err, MR_EINTERNAL, "no resource to apply");
		break;
	}
	if (rc < 0)
		mr_fhir_blame(in, err);
	return rc;
}

/* ---------- in: a whole Bundle ---------- */

struct mr_fhir_outcome {
	json_t *res;            /* borrowed from the Bundle */
	int type;               /* enum mr_fhir_type, or -1 */
	int status;             /* 0 until decided */
	const char *location;   /* "Practitioner/D1" */
	const char *path;       /* the FHIR path at fault, from "Bundle" */
	const char *msg;
	const char *issue;      /* the OperationOutcome issue code */
};

struct mr_fhir_import {
	json_t *bundle;
	const char *type;                /* the request Bundle's type */
	int n;
	struct mr_fhir_outcome *out;     /* one per request entry */
	int *order;                      /* the entries to apply, in apply order */
	int norder;
	json_t *urls;                    /* fullUrl -> "Type/id" */
	struct mr_arena arena;           /* outcome strings */
};

static const char *mr_fhir_issue(int code)
{
	switch (code) {
	case MR_ECONFLICT: return "conflict";
	case MR_ENOTFOUND: return "not-found";
	case MR_ETOOBIG: return "too-long";
	case MR_EUNPROC: return "business-rule";
	case MR_EFORBIDDEN: return "forbidden";
	default: return "invalid";
	}
}

static int mr_fhir_status_of(int code)
{
	switch (code) {
	case MR_ECONFLICT: return 409;
	case MR_ENOTFOUND: return 404;
	case MR_EUNPROC: return 422;
	case MR_EFORBIDDEN: return 403;
	default: return 400;
	}
}

/* A fault of the entry itself (its outcome), not of the database or of ours. */
static int mr_fhir_entry_fault(int code)
{
	return code == MR_EINVAL || code == MR_ECONFLICT || code == MR_ENOTFOUND ||
	       code == MR_ETOOBIG || code == MR_EUNPROC || code == MR_EFORBIDDEN;
}

/* Records entry i's failure; e->field is a path relative to the entry's resource unless whole. */
static void mr_fhir_fail(struct mr_fhir_import *im, int i, const struct mr_err *e, int whole)
{
	struct mr_fhir_outcome *o = &im->out[i];

	o->status = mr_fhir_status_of(e->code);
	o->issue = mr_fhir_issue(e->code);
	o->msg = mr_arena_strdup(&im->arena, e->msg);
	if (whole)
		o->path = mr_fhir_path(&im->arena, "Bundle.entry[%d]%s%s", i, e->field[0] ? "." : "",
				       e->field);
	else
		o->path = mr_fhir_path(&im->arena, "Bundle.entry[%d].resource%s%s", i,
				       e->field[0] ? "." : "", e->field);
}

/* The external id a resource of ours is known by: our identifier, else its id. */
static const char *mr_fhir_quick_id(json_t *res, const char *system)
{
	json_t *ids = json_object_get(res, "identifier"), *x;
	size_t i;

	json_array_foreach(ids, i, x) {
		const char *sys = json_string_value(json_object_get(x, "system"));

		if (sys && strcmp(sys, system) == 0 && json_is_string(json_object_get(x, "value")))
			return json_string_value(json_object_get(x, "value"));
	}
	return json_string_value(json_object_get(res, "id"));
}

/* Notes an entry's fullUrl, so references to it resolve. */
static void mr_fhir_note_url(struct mr_fhir_import *im, json_t *entry, json_t *res, int type)
{
	const char *url = json_string_value(json_object_get(entry, "fullUrl"));
	const char *id = NULL;
	char ref[MR_MD_EXT_MAX + 32];

	if (type == MR_FHIR_ORGANIZATION)
		id = mr_fhir_quick_id(res, MR_SYS_HCO);
	else if (type == MR_FHIR_PRACTITIONER)
		id = mr_fhir_quick_id(res, MR_SYS_HCP);
	if (!url || !id || strlen(id) > MR_MD_EXT_MAX)
		return;
	snprintf(ref, sizeof(ref), "%s/%s", mr_fhir_type_name((enum mr_fhir_type)type), id);
	json_object_set_new(im->urls, url, json_string(ref));
}

/* Sorts entry i: its type, or its 400 when it cannot be applied at all. */
static void mr_fhir_triage(struct mr_fhir_import *im, int i, json_t *entry)
{
	json_t *res = json_object_get(entry, "resource");
	json_t *req = json_object_get(entry, "request");
	const char *rt = json_string_value(json_object_get(res, "resourceType"));
	const char *method = json_string_value(json_object_get(req, "method"));
	struct mr_err e;

	mr_err_clear(&e);
	im->out[i].type = -1;
	im->out[i].res = res;
	if (!json_is_object(entry))
		mr_err_field(&e, MR_EINVAL, "", "a Bundle entry must be an object");
	else if (!json_is_object(res))
		mr_err_field(&e, MR_EINVAL, "resource", "the entry has no resource");
	else if (method && strcmp(method, "POST") != 0 && strcmp(method, "PUT") != 0)
		mr_err_field(&e, MR_EINVAL, "request.method",
			     "request.method %.10s is not supported here: POST or PUT", method);
	else if (!rt)
		mr_err_field(&e, MR_EINVAL, "resource.resourceType", "resourceType is required");
	else if ((im->out[i].type = mr_fhir_type_parse(rt)) < 0) {
		mr_fhir_bad_type(rt, &e);
		snprintf(e.field, sizeof(e.field), "resource.resourceType");
	}
	if (e.code) {
		mr_fhir_fail(im, i, &e, 1);
		im->out[i].type = -1;
		return;
	}
	mr_fhir_note_url(im, entry, res, im->out[i].type);
}

int mr_fhir_import_new(json_t *body, struct mr_fhir_import **out, struct mr_err *err)
{
	const char *rt = json_string_value(json_object_get(body, "resourceType"));
	const char *type = json_string_value(json_object_get(body, "type"));
	json_t *entries = json_object_get(body, "entry"), *entry;
	struct mr_fhir_import *im;
	size_t i;

	*out = NULL;
	if (!rt || strcmp(rt, "Bundle") != 0)
		return mr_err_field(err, MR_EINVAL, "resourceType",
				    "the body must be a FHIR Bundle (resourceType \"Bundle\"), not %.40s",
				    rt ? rt : "a JSON object without resourceType");
	if (!type || (strcmp(type, "transaction") != 0 && strcmp(type, "batch") != 0 &&
		      strcmp(type, "collection") != 0))
		return mr_err_field(err, MR_EINVAL, "type",
				    "Bundle.type must be transaction, batch or collection");
	if (entries && !json_is_array(entries) && !json_is_null(entries))
		return mr_err_field(err, MR_EINVAL, "entry", "Bundle.entry must be an array");
	if (json_array_size(entries) > MR_FHIR_MAX_ENTRIES)
		return mr_err_field(err, MR_ETOOBIG, "entry", "a Bundle may hold at most %d entries; split it",
				    MR_FHIR_MAX_ENTRIES);
	im = mr_calloc(1, sizeof(*im));
	im->bundle = json_incref(body);
	im->type = type;
	im->n = (int)json_array_size(entries);
	im->out = mr_calloc((size_t)im->n + 1, sizeof(*im->out));
	im->order = mr_calloc((size_t)im->n + 1, sizeof(*im->order));
	im->urls = json_object();
	mr_arena_init(&im->arena);
	json_array_foreach(entries, i, entry)
		mr_fhir_triage(im, (int)i, entry);
	for (int t = 0; t < MR_FHIR_NTYPES; t++) {
		for (int j = 0; j < im->n; j++) {
			if (im->out[j].type == t)
				im->order[im->norder++] = j;
		}
	}
	*out = im;
	return 0;
}

int mr_fhir_import_count(const struct mr_fhir_import *im)
{
	return im->norder;
}

/* Where an applied resource now lives: "Practitioner/D1", "Consent/<id>". */
static const char *mr_fhir_location(struct mr_arena *a, const struct mr_fhir_in *in)
{
	char id[MR_MD_EXT_MAX + 96];

	if (in->type == MR_FHIR_CONSENT)
		mr_fhir_consent_id(in->cs.hcp ? in->cs.hcp : "", in->cs.channel ? in->cs.channel : "",
				   in->cs.purpose ? in->cs.purpose : "", in->cs.captured_at, id, sizeof(id));
	else
		snprintf(id, sizeof(id), "%s%s", in->rec.ext_id ? in->rec.ext_id : "",
			 in->type == MR_FHIR_ROLE ? "-role" : "");
	return mr_fhir_path(a, "%s/%s", mr_fhir_type_name(in->type), id);
}

static int mr_fhir_import_one(struct mr_conn *c, const struct mr_keys *k, struct mr_fhir_import *im,
			      int i, const struct mr_md_actor *who, struct mr_err *err)
{
	struct mr_fhir_outcome *o = &im->out[i];
	struct mr_fhir_in in;
	struct mr_arena a;
	struct mr_err e;
	int status = 0;
	int rc = mr_conn_savepoint(c, "fhir_entry", err);

	if (rc < 0)
		return rc;
	mr_arena_init(&a);
	mr_err_clear(&e);
	rc = mr_fhir_read(o->res, im->urls, &in, &a, &e);
	if (rc == 0)
		rc = mr_fhir_check(&in, who->now, &a, &e);
	if (rc == 0)
		rc = mr_fhir_apply(c, k, &in, who, &status, &e);
	if (rc == 0) {
		o->status = status;
		o->location = mr_fhir_location(&im->arena, &in);
	} else if (mr_fhir_entry_fault(rc)) {
		mr_fhir_fail(im, i, &e, 0);
		rc = mr_conn_rollback_to(c, "fhir_entry", err);
	} else {
		*err = e; /* the database's fault: the caller's transaction fails */
	}
	if (rc == 0)
		rc = mr_conn_release_savepoint(c, "fhir_entry", err);
	mr_arena_release(&a);
	return rc;
}

int mr_fhir_import_apply(struct mr_conn *c, const struct mr_keys *k, struct mr_fhir_import *im,
			 int from, int n, const struct mr_md_actor *who, struct mr_err *err)
{
	for (int j = from; j < from + n && j < im->norder; j++) {
		int rc = mr_fhir_import_one(c, k, im, im->order[j], who, err);

		if (rc < 0)
			return rc;
	}
	return 0;
}

static const char *mr_fhir_status_text(int status)
{
	switch (status) {
	case 200: return "200 OK";
	case 201: return "201 Created";
	case 403: return "403 Forbidden";
	case 404: return "404 Not Found";
	case 409: return "409 Conflict";
	case 422: return "422 Unprocessable Entity";
	case 400: return "400 Bad Request";
	default: return "500 Internal Server Error";
	}
}

static json_t *mr_fhir_outcome_json(const struct mr_fhir_outcome *o)
{
	struct mr_buf b;
	json_t *issue;

	mr_buf_init(&b, 1024);
	mr_buf_addf(&b, "%s: %s", o->path ? o->path : "Bundle", o->msg ? o->msg : "not stored");
	issue = json_pack("{s:s, s:s, s:s, s:[s]}", "severity", "error", "code",
			  o->issue ? o->issue : "exception", "diagnostics", mr_buf_str(&b), "expression",
			  o->path ? o->path : "Bundle");
	mr_buf_release(&b);
	return json_pack("{s:s, s:[o]}", "resourceType", "OperationOutcome", "issue", issue);
}

json_t *mr_fhir_import_response(const struct mr_fhir_import *im)
{
	json_t *entries = json_array();

	for (int i = 0; i < im->n; i++) {
		const struct mr_fhir_outcome *o = &im->out[i];
		json_t *resp = json_pack("{s:s}", "status", mr_fhir_status_text(o->status));

		if (o->location && o->status < 300)
			json_object_set_new(resp, "location", json_string(o->location));
		if (o->status >= 300 || o->status == 0)
			json_object_set_new(resp, "outcome", mr_fhir_outcome_json(o));
		json_array_append_new(entries, json_pack("{s:o}", "response", resp));
	}
	return json_pack("{s:s, s:s, s:o}", "resourceType", "Bundle", "type",
			 strcmp(im->type, "transaction") == 0 ? "transaction-response" : "batch-response",
			 "entry", entries);
}

json_t *mr_fhir_import_summary(const struct mr_fhir_import *im)
{
	int created = 0, ok = 0, failed = 0;

	for (int i = 0; i < im->n; i++) {
		if (im->out[i].status == 201)
			created++;
		else if (im->out[i].status == 200)
			ok++;
		else
			failed++;
	}
	return json_pack("{s:i, s:i, s:i, s:i}", "entries", im->n, "created", created, "ok", ok,
			 "failed", failed);
}

void mr_fhir_import_free(struct mr_fhir_import *im)
{
	if (!im)
		return;
	json_decref(im->urls);
	json_decref(im->bundle);
	mr_arena_release(&im->arena);
	free(im->out);
	free(im->order);
	free(im);
}
