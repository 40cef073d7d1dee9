/*
 * Unit tests of the FHIR R4 mapping (md/fhir.c): each resource out of a
 * master-data row, each resource read back into a record with the FHIR
 * path of every value, the errors naming those paths, a row that survives
 * out-and-in unchanged, and a Bundle imported twice on both backends (the
 * second time all "200 OK" and no change history).
 */
#include "unit.h"

#include "base/time.h"
#include "md/fhir.h"

#define SD "https://medreach.dev/fhir/StructureDefinition/"

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);

	if (!v)
		fail_msg("bad test JSON at %d: %s", e.position, e.text);
	return v;
}

/* Asserts v equals the JSON text want (compared as values). */
static void assert_json(json_t *v, const char *want)
{
	json_t *w = J(want);

	if (!json_equal(v, w)) {
		char *got = json_dumps(v, JSON_COMPACT);

		fail_msg("got %s\nwant %s", got, want);
	}
	json_decref(w);
}

static const char *rec_val(const struct mr_md_rec *rec, const char *field)
{
	int i = mr_md_field_index(rec->e, field);

	assert_true(i >= 0);
	return rec->val[i];
}

static const char *path_of(const struct mr_fhir_in *in, const char *field)
{
	for (int i = 0; i < in->npaths; i++) {
		if (strcmp(in->field[i], field) == 0)
			return in->path[i];
	}
	return NULL;
}

static const char hco_row[] =
	"{\"id\":\"H1\",\"name\":\"上海市第一人民医院\",\"level\":3,\"grade\":\"甲\",\"type\":\"general\","
	"\"province\":\"上海\",\"city\":\"上海\",\"city_tier\":1,\"region\":\"east\","
	"\"address\":\"虹口区武进路85号\",\"departments\":[\"内分泌科\",\"心内科\"],\"attrs\":{},"
	"\"created_at\":1700000000000000,\"updated_at\":1700000000000000,\"deleted_at\":null}";

static const char hcp_row[] =
	"{\"id\":\"D1\",\"name\":\"王建国\",\"pinyin\":\"wang jian guo\",\"gender\":\"M\",\"title\":\"chief\","
	"\"specialty\":\"endocrinology\",\"department\":\"内分泌科\",\"hco\":\"H1\","
	"\"license_no\":\"110101199001011\",\"phone\":\"+8613812345678\",\"email\":\"wjg@example.com\","
	"\"status\":\"active\",\"updated_at\":1700000000000000}";

static void test_organization_out(void **state)
{
	json_t *row = J(hco_row), *res;

	(void)state;
	res = mr_fhir_organization(row);
	assert_json(res,
		    "{\"resourceType\":\"Organization\",\"id\":\"H1\",\"meta\":{\"lastUpdated\":\"2023-11-14T22:13:20Z\"},"
		    "\"extension\":[{\"url\":\"" SD "level\",\"valueInteger\":3},"
		    "{\"url\":\"" SD "grade\",\"valueString\":\"甲\"},"
		    "{\"url\":\"" SD "city-tier\",\"valueInteger\":1},"
		    "{\"url\":\"" SD "region\",\"valueString\":\"east\"},"
		    "{\"url\":\"" SD "departments\",\"valueString\":\"内分泌科\"},"
		    "{\"url\":\"" SD "departments\",\"valueString\":\"心内科\"}],"
		    "\"identifier\":[{\"system\":\"https://medreach.dev/fhir/sid/hco\",\"value\":\"H1\"}],"
		    "\"active\":true,"
		    "\"type\":[{\"coding\":[{\"system\":\"https://medreach.dev/fhir/CodeSystem/hco-type\",\"code\":\"general\"}]}],"
		    "\"name\":\"上海市第一人民医院\","
		    "\"address\":[{\"text\":\"虹口区武进路85号\",\"city\":\"上海\",\"state\":\"上海\",\"country\":\"CN\"}]}");
	json_decref(res);
	json_decref(row);
}

static void test_practitioner_out_with_and_without_contacts(void **state)
{
	json_t *row = J(hcp_row), *res;

	(void)state;
	res = mr_fhir_practitioner(row, 1);
	assert_json(res,
		    "{\"resourceType\":\"Practitioner\",\"id\":\"D1\",\"meta\":{\"lastUpdated\":\"2023-11-14T22:13:20Z\"},"
		    "\"identifier\":[{\"system\":\"https://medreach.dev/fhir/sid/hcp\",\"value\":\"D1\"},"
		    "{\"system\":\"https://medreach.dev/fhir/sid/cn-physician-license\",\"value\":\"110101199001011\"}],"
		    "\"active\":true,"
		    "\"name\":[{\"use\":\"official\",\"text\":\"王建国\"},{\"use\":\"usual\",\"text\":\"wang jian guo\"}],"
		    "\"telecom\":[{\"system\":\"phone\",\"value\":\"+8613812345678\"},"
		    "{\"system\":\"email\",\"value\":\"wjg@example.com\"}],"
		    "\"gender\":\"male\"}");
	json_decref(res);
	res = mr_fhir_practitioner(row, 0);
	assert_null(json_object_get(res, "telecom"));
	assert_int_equal(json_array_size(json_object_get(res, "identifier")), 1);
	json_decref(res);
	json_object_set_new(row, "gender", json_null());
	json_object_set_new(row, "status", json_string("inactive"));
	res = mr_fhir_practitioner(row, 0);
	assert_string_equal(json_string_value(json_object_get(res, "gender")), "unknown");
	assert_true(json_is_false(json_object_get(res, "active")));
	json_decref(res);
	json_decref(row);
}

static void test_role_out(void **state)
{
	json_t *row = J(hcp_row), *res;

	(void)state;
	res = mr_fhir_role(row);
	assert_json(res,
		    "{\"resourceType\":\"PractitionerRole\",\"id\":\"D1-role\",\"meta\":{\"lastUpdated\":\"2023-11-14T22:13:20Z\"},"
		    "\"extension\":[{\"url\":\"" SD "department\",\"valueString\":\"内分泌科\"}],"
		    "\"practitioner\":{\"reference\":\"Practitioner/D1\"},"
		    "\"organization\":{\"reference\":\"Organization/H1\"},"
		    "\"code\":[{\"coding\":[{\"system\":\"https://medreach.dev/fhir/CodeSystem/title\",\"code\":\"chief\",\"display\":\"主任医师\"}]}],"
		    "\"specialty\":[{\"coding\":[{\"system\":\"https://medreach.dev/fhir/CodeSystem/specialty\",\"code\":\"endocrinology\"}]}]}");
	json_decref(res);
	json_decref(row);
	row = J("{\"id\":\"D4\",\"name\":\"陈静\",\"hco\":null,\"title\":null,\"specialty\":null,\"department\":null}");
	assert_null(mr_fhir_role(row));
	json_decref(row);
}

static void test_consent_out(void **state)
{
	json_t *row = J("{\"channel\":\"meeting\",\"purpose\":\"meeting_invite\",\"status\":\"opt_out\","
			"\"captured_at\":1709600000000000,\"source\":\"paper\",\"evidence\":null,\"version\":\"v3\","
			"\"recorded_at\":1709600001000000}");
	json_t *res;

	(void)state;
	res = mr_fhir_consent("D_1", row, 0);
	assert_json(res,
		    "{\"resourceType\":\"Consent\",\"id\":\"D-1-meeting-meeting-invite-1709600000000000\","
		    "\"meta\":{\"lastUpdated\":\"2024-03-05T00:53:21Z\"},"
		    "\"extension\":[{\"url\":\"" SD "consent-channel\",\"valueCode\":\"meeting\"},"
		    "{\"url\":\"" SD "consent-source\",\"valueString\":\"paper\"},"
		    "{\"url\":\"" SD "consent-version\",\"valueString\":\"v3\"}],"
		    "\"status\":\"inactive\","
		    "\"scope\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/consentscope\",\"code\":\"patient-privacy\"}]},"
		    "\"category\":[{\"coding\":[{\"system\":\"https://medreach.dev/fhir/CodeSystem/consent-purpose\",\"code\":\"meeting_invite\"}]}],"
		    "\"performer\":[{\"reference\":\"Practitioner/D_1\"}],"
		    "\"dateTime\":\"2024-03-05T00:53:20Z\","
		    "\"policyRule\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"OPTOUT\"}]},"
		    "\"provision\":{\"type\":\"deny\"}}");
	json_decref(res);
	json_decref(row);
}

static void test_organization_in(void **state)
{
	json_t *res = J("{\"resourceType\":\"Organization\",\"id\":\"ignored-when-identifier\","
			"\"identifier\":[{\"system\":\"urn:other\",\"value\":\"x\"},"
			"{\"system\":\"https://medreach.dev/fhir/sid/hco\",\"value\":\"H1\"}],"
			"\"name\":\"一院\",\"active\":true,"
			"\"type\":[{\"coding\":[{\"system\":\"http://snomed.info/sct\",\"code\":\"22232009\"},"
			"{\"system\":\"https://medreach.dev/fhir/CodeSystem/hco-type\",\"code\":\"tcm\"}]}],"
			"\"address\":[{\"text\":\"路1号\",\"city\":\"杭州\",\"state\":\"浙江\",\"country\":\"CN\"}],"
			"\"extension\":[{\"url\":\"http://example.org/x\",\"valueBoolean\":true},"
			"{\"url\":\"" SD "departments\",\"valueString\":\"眼科\"},"
			"{\"url\":\"" SD "level\",\"valueInteger\":2},"
			"{\"url\":\"" SD "departments\",\"valueString\":\"儿科\"}]}");
	struct mr_fhir_in in;
	struct mr_arena a;
	struct mr_err err;

	(void)state;
	mr_arena_init(&a);
	mr_err_clear(&err);
	assert_int_equal(mr_fhir_read(res, NULL, &in, &a, &err), 0);
	assert_int_equal(in.type, MR_FHIR_ORGANIZATION);
	assert_ptr_equal(in.rec.e, &mr_md_hco);
	assert_string_equal(in.rec.ext_id, "H1");
	assert_string_equal(path_of(&in, "id"), "identifier[1].value");
	assert_string_equal(rec_val(&in.rec, "name"), "一院");
	assert_string_equal(rec_val(&in.rec, "type"), "tcm");
	assert_string_equal(path_of(&in, "type"), "type[0].coding[1].code");
	assert_string_equal(rec_val(&in.rec, "address"), "路1号");
	assert_string_equal(rec_val(&in.rec, "province"), "浙江");
	assert_string_equal(rec_val(&in.rec, "level"), "2");
	assert_string_equal(rec_val(&in.rec, "departments"), "眼科;儿科");
	assert_null(rec_val(&in.rec, "grade"));
	assert_false(in.inactive);
	assert_int_equal(mr_fhir_check(&in, mr_now_us(), &a, &err), 0);
	mr_arena_release(&a);
	json_decref(res);
}

/* Reads text as a resource and checks it; the error's FHIR path, or NULL when it passed. */
static const char *read_error(const char *text, struct mr_arena *a, struct mr_fhir_in *in,
			      struct mr_err *err)
{
	json_t *res = J(text);
	int rc;

	mr_err_clear(err);
	rc = mr_fhir_read(res, NULL, in, a, err);
	if (rc == 0)
		rc = mr_fhir_check(in, mr_now_us(), a, err);
	json_decref(res);
	return rc < 0 ? err->field : NULL;
}

static void test_errors_name_fhir_paths(void **state)
{
	struct mr_fhir_in in;
	struct mr_arena a;
	struct mr_err err;

	(void)state;
	mr_arena_init(&a);
	assert_string_equal(read_error("{\"resourceType\":\"Practitioner\",\"id\":\"D1\",\"name\":[{\"text\":\"王\"}],"
				       "\"gender\":\"x\"}", &a, &in, &err), "gender");
	assert_int_equal(err.code, MR_EINVAL);
	assert_string_equal(read_error("{\"resourceType\":\"Organization\",\"id\":\"H1\",\"name\":\"一院\","
				       "\"extension\":[{\"url\":\"" SD "region\",\"valueString\":\"e\"},"
				       "{\"url\":\"" SD "level\",\"valueInteger\":9}]}", &a, &in, &err),
			    "extension[1].valueInteger");
	assert_non_null(strstr(err.msg, "level"));
	assert_string_equal(read_error("{\"resourceType\":\"Organization\",\"id\":\"H1\",\"name\":\"一院\","
				       "\"extension\":[{\"url\":\"" SD "level\",\"valueString\":\"3\"}]}",
				       &a, &in, &err), "extension[0].valueInteger");
	assert_string_equal(read_error("{\"resourceType\":\"Practitioner\",\"id\":\"D1\",\"name\":[{\"text\":\"王\"}],"
				       "\"telecom\":[{\"system\":\"fax\",\"value\":\"1\"},{\"system\":\"email\",\"value\":\"no\"}]}",
				       &a, &in, &err), "telecom[1].value");
	assert_string_equal(read_error("{\"resourceType\":\"Practitioner\",\"id\":\"D1\"}", &a, &in, &err), "name");
	assert_string_equal(read_error("{\"resourceType\":\"Practitioner\",\"name\":[{\"text\":\"王\"}]}", &a, &in, &err),
			    "identifier");
	assert_string_equal(read_error("{\"resourceType\":\"Practitioner\",\"id\":\"D 1\",\"name\":[{\"text\":\"王\"}]}",
				       &a, &in, &err), "id");
	assert_string_equal(read_error("{\"resourceType\":\"Patient\"}", &a, &in, &err), "resourceType");
	assert_string_equal(err.msg, "resourceType Patient is not accepted here: Practitioner, Organization,"
			    " PractitionerRole or Consent");
	assert_string_equal(read_error("{\"resourceType\":\"Practitioner\",\"modifierExtension\":[]}", &a, &in, &err),
			    "modifierExtension");
	assert_string_equal(read_error("{\"resourceType\":\"PractitionerRole\","
				       "\"practitioner\":{\"reference\":\"Organization/H1\"}}", &a, &in, &err),
			    "practitioner.reference");
	assert_string_equal(read_error("{\"resourceType\":\"Consent\",\"status\":\"active\","
				       "\"performer\":[{\"reference\":\"Practitioner/D1\"}],"
				       "\"category\":[{\"coding\":[{\"system\":\"https://medreach.dev/fhir/CodeSystem/consent-purpose\",\"code\":\"survey\"}]}],"
				       "\"extension\":[{\"url\":\"" SD "consent-channel\",\"valueCode\":\"fax\"}],"
				       "\"dateTime\":\"2024-01-01\",\"provision\":{\"type\":\"permit\"}}", &a, &in, &err),
			    "extension[0].valueCode");
	assert_string_equal(read_error("{\"resourceType\":\"Consent\",\"status\":\"active\","
				       "\"performer\":[{\"reference\":\"Practitioner/D1\"}],"
				       "\"dateTime\":\"2024-01\",\"provision\":{\"type\":\"permit\"}}", &a, &in, &err),
			    "dateTime");
	mr_arena_release(&a);
}

static void test_practitioner_in_names_telecom_references(void **state)
{
	json_t *urls = J("{\"urn:uuid:1\":\"Practitioner/D7\"}");
	json_t *p = J("{\"resourceType\":\"Practitioner\",\"id\":\"D7\",\"active\":false,"
		      "\"identifier\":[{\"system\":\"https://medreach.dev/fhir/sid/cn-physician-license\",\"value\":\"110101199001012\"}],"
		      "\"name\":[{\"use\":\"usual\",\"text\":\"zhao min\"},{\"family\":\"赵\",\"given\":[\"敏\"]}],"
		      "\"telecom\":[{\"system\":\"phone\",\"value\":\"139 0000 2222\"},{\"system\":\"phone\",\"value\":\"13900003333\"}],"
		      "\"gender\":\"unknown\"}");
	json_t *role = J("{\"resourceType\":\"PractitionerRole\",\"practitioner\":{\"reference\":\"urn:uuid:1\"},"
			 "\"organization\":{\"reference\":\"https://x.example/fhir/Organization/H2/_history/3\"}}");
	struct mr_fhir_in in;
	struct mr_arena a;
	struct mr_err err;

	(void)state;
	mr_arena_init(&a);
	mr_err_clear(&err);
	assert_int_equal(mr_fhir_read(p, urls, &in, &a, &err), 0);
	assert_int_equal(mr_fhir_check(&in, mr_now_us(), &a, &err), 0);
	assert_string_equal(in.rec.ext_id, "D7");
	assert_string_equal(rec_val(&in.rec, "name"), "赵敏");
	assert_string_equal(path_of(&in, "name"), "name[1].family");
	assert_string_equal(rec_val(&in.rec, "pinyin"), "zhao min");
	assert_string_equal(rec_val(&in.rec, "phone"), "+8613900002222");
	assert_string_equal(rec_val(&in.rec, "license_no"), "110101199001012");
	assert_string_equal(rec_val(&in.rec, "status"), "inactive");
	assert_string_equal(rec_val(&in.rec, "gender"), "");
	assert_null(rec_val(&in.rec, "email"));
	assert_int_equal(mr_fhir_read(role, urls, &in, &a, &err), 0);
	assert_string_equal(in.rec.ext_id, "D7");
	assert_string_equal(rec_val(&in.rec, "hco"), "H2");
	assert_null(rec_val(&in.rec, "title"));
	mr_arena_release(&a);
	json_decref(role);
	json_decref(p);
	json_decref(urls);
}

/* An HCP row out as Practitioner and PractitionerRole, and in again: the same values. */
static void test_hcp_survives_out_and_in(void **state)
{
	static const char *const fields[] = { "name", "pinyin", "gender", "title", "specialty",
					      "department", "hco", "license_no", "phone", "email",
					      "status" };
	json_t *row = J(hcp_row), *p = mr_fhir_practitioner(row, 1), *r = mr_fhir_role(row);
	struct mr_fhir_in a_in, b_in;
	struct mr_arena a;
	struct mr_err err;

	(void)state;
	mr_arena_init(&a);
	mr_err_clear(&err);
	assert_int_equal(mr_fhir_read(p, NULL, &a_in, &a, &err), 0);
	assert_int_equal(mr_fhir_check(&a_in, mr_now_us(), &a, &err), 0);
	assert_int_equal(mr_fhir_read(r, NULL, &b_in, &a, &err), 0);
	assert_int_equal(mr_fhir_check(&b_in, mr_now_us(), &a, &err), 0);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const char *v = rec_val(&a_in.rec, fields[i]);

		if (!v)
			v = rec_val(&b_in.rec, fields[i]);
		assert_non_null(v);
		assert_string_equal(v, json_string_value(json_object_get(row, fields[i])));
	}
	mr_arena_release(&a);
	json_decref(r);
	json_decref(p);
	json_decref(row);
}

static void test_consent_in(void **state)
{
	json_t *row = J("{\"channel\":\"wechat\",\"purpose\":\"medical_info\",\"status\":\"opt_in\","
			"\"captured_at\":1709600000250000,\"source\":\"wecom\",\"evidence\":\"msg-9\",\"version\":\"v2\"}");
	json_t *res = mr_fhir_consent("D1", row, 1);
	struct mr_fhir_in in;
	struct mr_arena a;
	struct mr_err err;

	(void)state;
	mr_arena_init(&a);
	mr_err_clear(&err);
	assert_int_equal(mr_fhir_read(res, NULL, &in, &a, &err), 0);
	assert_int_equal(mr_fhir_check(&in, mr_now_us(), &a, &err), 0);
	assert_int_equal(in.type, MR_FHIR_CONSENT);
	assert_string_equal(in.cs.hcp, "D1");
	assert_string_equal(in.cs.channel, "wechat");
	assert_string_equal(in.cs.purpose, "medical_info");
	assert_string_equal(in.cs.status, "opt_in");
	assert_true(in.cs.captured_at == 1709600000250000);
	assert_string_equal(in.cs.source, "wecom");
	assert_string_equal(in.cs.evidence, "msg-9");
	assert_string_equal(in.cs.version, "v2");
	mr_arena_release(&a);
	json_decref(res);
	json_decref(row);
}

/* ---------- a Bundle through the store ---------- */

struct import_job {
	struct mr_keys keys;
	struct mr_fhir_import *im;
};

static int import_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct import_job *j = arg;
	struct mr_md_actor who = { "tester", "req-1", "fhir", mr_now_us() };

	return mr_fhir_import_apply(c, &j->keys, j->im, 0, mr_fhir_import_count(j->im), &who, err);
}

static const char bundle_text[] =
	"{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
	"{\"resource\":{\"resourceType\":\"Consent\",\"status\":\"active\","
	"\"performer\":[{\"reference\":\"Practitioner/D1\"}],"
	"\"category\":[{\"coding\":[{\"system\":\"https://medreach.dev/fhir/CodeSystem/consent-purpose\",\"code\":\"survey\"}]}],"
	"\"extension\":[{\"url\":\"" SD "consent-channel\",\"valueCode\":\"sms\"}],"
	"\"dateTime\":\"2024-01-01T08:00:00+08:00\",\"provision\":{\"type\":\"permit\"}}},"
	"{\"resource\":{\"resourceType\":\"PractitionerRole\",\"practitioner\":{\"reference\":\"Practitioner/D1\"},"
	"\"organization\":{\"reference\":\"Organization/H1\"}}},"
	"{\"resource\":{\"resourceType\":\"Practitioner\",\"id\":\"D1\",\"name\":[{\"text\":\"王建国\"}],"
	"\"telecom\":[{\"system\":\"phone\",\"value\":\"13812345678\"}],\"gender\":\"male\"}},"
	"{\"resource\":{\"resourceType\":\"Observation\"}},"
	"{\"resource\":{\"resourceType\":\"Organization\",\"id\":\"H1\",\"name\":\"一院\"}}]}";

/* Imports bundle_text; returns the response entries' statuses joined by ','. */
static void import_once(struct mr_test_db *db, char *statuses, size_t n)
{
	struct import_job j;
	json_t *body = J(bundle_text), *resp, *e;
	struct mr_err err;
	size_t i;
	int len = 0;

	mr_test_keys(&j.keys, 7);
	mr_err_clear(&err);
	assert_int_equal(mr_fhir_import_new(body, &j.im, &err), 0);
	assert_int_equal(mr_fhir_import_count(j.im), 4);
	if (mr_store_write(db->store, import_fn, &j, &err) < 0)
		fail_msg("import: %s", err.msg);
	resp = mr_fhir_import_response(j.im);
	assert_string_equal(json_string_value(json_object_get(resp, "type")), "transaction-response");
	json_array_foreach(json_object_get(resp, "entry"), i, e) {
		const char *s = json_string_value(json_object_get(json_object_get(e, "response"), "status"));

		len += snprintf(statuses + len, n - (size_t)len, "%s%.3s", i ? "," : "", s);
	}
	json_decref(resp);
	mr_fhir_import_free(j.im);
	json_decref(body);
}

static int64_t count_changes(struct mr_test_db *db)
{
	struct mr_conn *c = NULL;
	struct mr_err err;
	int64_t n = -1;

	mr_err_clear(&err);
	assert_int_equal(mr_store_acquire(db->store, &c, &err), 0);
	assert_int_equal(mr_conn_query_int(c, "SELECT COUNT(*) FROM md_changes", NULL, 0, &n, &err), 0);
	mr_store_release(db->store, c);
	return n;
}

static void test_bundle_import_is_ordered_and_idempotent(void **state)
{
	struct mr_test_db db;
	char statuses[128];
	int64_t changes;

	mr_test_db_open(&db, mr_test_backend(state));
	import_once(&db, statuses, sizeof(statuses));
	/* Organization, Practitioner, PractitionerRole, Consent applied in that order */
	assert_string_equal(statuses, "201,200,201,400,201");
	changes = count_changes(&db);
	import_once(&db, statuses, sizeof(statuses));
	assert_string_equal(statuses, "200,200,200,400,200");
	assert_true(count_changes(&db) == changes);
	mr_test_db_close(&db);
}

static void test_not_a_bundle(void **state)
{
	struct mr_fhir_import *im = NULL;
	struct mr_err err;
	json_t *v;

	(void)state;
	mr_err_clear(&err);
	v = J("{\"resourceType\":\"Practitioner\"}");
	assert_int_equal(mr_fhir_import_new(v, &im, &err), MR_EINVAL);
	assert_string_equal(err.field, "resourceType");
	assert_null(im);
	json_decref(v);
	v = J("{\"resourceType\":\"Bundle\",\"type\":\"document\"}");
	assert_int_equal(mr_fhir_import_new(v, &im, &err), MR_EINVAL);
	assert_string_equal(err.field, "type");
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_organization_out),
		cmocka_unit_test(test_practitioner_out_with_and_without_contacts),
		cmocka_unit_test(test_role_out),
		cmocka_unit_test(test_consent_out),
		cmocka_unit_test(test_organization_in),
		cmocka_unit_test(test_errors_name_fhir_paths),
		cmocka_unit_test(test_practitioner_in_names_telecom_references),
		cmocka_unit_test(test_hcp_survives_out_and_in),
		cmocka_unit_test(test_consent_in),
		cmocka_unit_test(test_not_a_bundle),
		MR_TEST_BOTH(test_bundle_import_is_ordered_and_idempotent),
	};

	return cmocka_run_group_tests_name("fhir", tests, NULL, NULL);
}
