/*
 * The profile projection and its dictionary, on SQLite and PostgreSQL:
 * attributes as dictionary codes, the hospital's copied into its doctors'
 * rows, consents in force as bits (newest per channel and purpose), the
 * state of deleted and merged records; then following the directory: a
 * hospital's change reaches its doctors, a consent withdrawn clears the
 * bit, a deleted doctor is marked — without loading everything again.
 */
#include "unit.h"
#include "world.h"

#include <jansson.h>

#include "base/arena.h"
#include "base/time.h"
#include "engine/dict.h"
#include "engine/hcpdir.h"
#include "engine/profile.h"
#include "md/md.h"
#include "md/relate.h"

struct fixture {
	struct mr_test_db db;
	struct mr_keys keys;
};

/* Upserts the record obj (taken) of entity e; returns its internal id. */
static int64_t put(struct fixture *f, const struct mr_md_entity *e, json_t *obj)
{
	return mr_test_put(f->db.store, &f->keys, e, obj);
}

struct consent_job {
	struct mr_consent cs;
};

static int consent_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct consent_job *j = arg;
	struct mr_md_actor who = { .login = "test", .source = "test", .now = mr_now_us() };
	int added = 0;

	return mr_consent_add(c, &j->cs, &who, &added, err);
}

static void consent(struct fixture *f, const char *hcp, const char *channel, const char *purpose,
		    const char *status, int day)
{
	struct consent_job j = { { hcp, channel, purpose, status,
				   (INT64_C(1735689600) + day * 86400) * MR_US_PER_S, "web_form", "F1",
				   "v1" } };
	struct mr_err err;

	if (mr_store_write(f->db.store, consent_fn, &j, &err) < 0)
		fail_msg("consent: %s", err.msg);
}

struct delete_job {
	int64_t id;
};

static int delete_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct delete_job *j = arg;
	struct mr_md_actor who = { .login = "test", .source = "test", .now = mr_now_us() };

	return mr_md_delete(c, &mr_md_hcp, j->id, &who, err);
}

static const char *text(struct mr_profile *p, uint32_t id, int attr)
{
	return mr_dict_str(mr_profile_dict(p), mr_profile_get(p, id, attr));
}

static void test_dict(void **state)
{
	struct mr_dict *d = mr_dict_new();
	char many[32];

	(void)state;
	assert_int_equal(mr_dict_add(d, NULL), 0);
	assert_int_equal(mr_dict_add(d, "内分泌科"), 1);
	assert_int_equal(mr_dict_add(d, "cardiology"), 2);
	assert_int_equal(mr_dict_intern(d, "内分泌科xyz", strlen("内分泌科")), 1);
	assert_int_equal(mr_dict_find(d, "cardiology"), 2);
	assert_int_equal(mr_dict_find(d, "oncology"), 0);
	assert_string_equal(mr_dict_str(d, 1), "内分泌科");
	assert_null(mr_dict_str(d, 0));
	assert_null(mr_dict_str(d, 99));
	/* codes stay put while the table grows */
	for (int i = 0; i < 10000; i++) {
		snprintf(many, sizeof(many), "v%d", i);
		assert_int_equal(mr_dict_add(d, many), (uint32_t)i + 3);
	}
	assert_int_equal(mr_dict_size(d), 10002);
	assert_int_equal(mr_dict_find(d, "v9999"), 10002);
	assert_string_equal(mr_dict_str(d, 2), "cardiology");
	mr_dict_free(d);
}

static void test_profile_loads_and_follows(void **state)
{
	struct fixture f;
	struct mr_profile *p = mr_profile_new();
	struct mr_hcpdir *dir = mr_hcpdir_new();
	struct mr_conn *c = NULL;
	struct mr_err err;
	int64_t h1, d1, d2, d3;
	int wechat = mr_profile_consent_of("wechat"), phone = mr_profile_consent_of("phone");

	memset(&f, 0, sizeof(f));
	mr_test_db_open(&f.db, mr_test_backend(state));
	mr_test_keys(&f.keys, 5);
	h1 = put(&f, &mr_md_hco, json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:i, s:s}", "id", "H1", "name",
					   "中山大学附属第一医院", "level", 3, "grade", "甲", "province",
					   "广东", "city", "广州", "city_tier", 1, "region", "south"));
	d1 = put(&f, &mr_md_hcp, json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", "D1", "name", "王一",
					   "specialty", "endocrinology", "title", "chief", "hco", "H1"));
	d2 = put(&f, &mr_md_hcp, json_pack("{s:s, s:s, s:s}", "id", "D2", "name", "李二", "specialty",
					   "cardiology"));
	d3 = put(&f, &mr_md_hcp, json_pack("{s:s, s:s}", "id", "D3", "name", "张三"));
	/* D1: promotional in, medical_info out: in for wechat; D2: in, then out (newest wins) */
	consent(&f, "D1", "wechat", "promotional", "opt_in", 1);
	consent(&f, "D1", "wechat", "medical_info", "opt_out", 2);
	consent(&f, "D2", "wechat", "promotional", "opt_in", 1);
	consent(&f, "D2", "wechat", "promotional", "opt_out", 3);
	consent(&f, "D2", "phone", "survey", "opt_in", 2);

	assert_true(wechat >= 0 && phone >= 0 && wechat != phone);
	assert_int_equal(mr_profile_consent_of("pigeon"), -1);
	assert_int_equal(mr_profile_attr_of("hco.city_tier"), MR_PA_HCO_CITY_TIER);
	assert_int_equal(mr_profile_attr_of("hco.nonsense"), -1);
	assert_true(mr_profile_attr_numeric(MR_PA_HCO_LEVEL));
	assert_false(mr_profile_attr_numeric(MR_PA_SPECIALTY));

	mr_profile_follow(p, dir);
	assert_false(mr_profile_ready(p));
	assert_int_equal(mr_store_acquire(f.db.store, &c, &err), 0);
	assert_int_equal(mr_hcpdir_sync(dir, c, &err), 0); /* the first sync loads the profile too */
	assert_true(mr_profile_ready(p));

	mr_profile_read_begin(p);
	assert_true(mr_profile_nhcps(p) > (uint32_t)d3);
	assert_string_equal(text(p, (uint32_t)d1, MR_PA_SPECIALTY), "endocrinology");
	assert_string_equal(text(p, (uint32_t)d1, MR_PA_TITLE), "chief");
	assert_string_equal(text(p, (uint32_t)d1, MR_PA_HCO), "H1");
	assert_string_equal(text(p, (uint32_t)d1, MR_PA_HCO_GRADE), "甲");
	assert_string_equal(text(p, (uint32_t)d1, MR_PA_HCO_PROVINCE), "广东");
	assert_string_equal(text(p, (uint32_t)d1, MR_PA_REGION), "south");
	assert_int_equal(mr_profile_get(p, (uint32_t)d1, MR_PA_HCO_LEVEL), 3);
	assert_int_equal(mr_profile_get(p, (uint32_t)d1, MR_PA_HCO_CITY_TIER), 1);
	assert_int_equal(mr_profile_column(p, MR_PA_HCO_CITY_TIER)[d1], 1);
	/* no hospital: no hospital attributes */
	assert_int_equal(mr_profile_get(p, (uint32_t)d2, MR_PA_HCO_CITY_TIER), 0);
	assert_null(text(p, (uint32_t)d2, MR_PA_HCO));
	assert_null(text(p, (uint32_t)d3, MR_PA_SPECIALTY));
	/* the same string is one code in every column */
	assert_int_equal(mr_profile_get(p, (uint32_t)d1, MR_PA_SPECIALTY),
			 mr_dict_find(mr_profile_dict(p), "endocrinology"));
	assert_int_equal(mr_profile_consents(p, (uint32_t)d1), 1u << wechat);
	assert_int_equal(mr_profile_consents(p, (uint32_t)d2), 1u << phone);
	assert_int_equal(mr_profile_consents(p, (uint32_t)d3), 0);
	assert_int_equal(mr_profile_state(p, (uint32_t)d1), MR_PS_LIVE);
	assert_int_equal(mr_profile_merged_into(p, (uint32_t)d1), 0);
	mr_profile_read_end(p);

	/* changes follow: the hospital moves a tier, D1 withdraws, D3 is deleted */
	put(&f, &mr_md_hco, json_pack("{s:s, s:s, s:i}", "id", "H1", "name", "中山大学附属第一医院",
				       "city_tier", 2));
	consent(&f, "D1", "wechat", "promotional", "opt_out", 4);
	{
		struct delete_job j = { d3 };

		assert_int_equal(mr_store_write(f.db.store, delete_fn, &j, &err), 0);
	}
	put(&f, &mr_md_hcp, json_pack("{s:s, s:s, s:s}", "id", "D2", "name", "李二", "hco", "H1"));
	assert_int_equal(mr_hcpdir_sync(dir, c, &err), 0);
	{
		struct mr_profile_stats st;

		mr_profile_stats(p, &st);
		assert_int_equal(st.loads, 1); /* applied, not loaded again */
		assert_true(st.reloads >= 3);
	}
	mr_profile_read_begin(p);
	assert_int_equal(mr_profile_get(p, (uint32_t)d1, MR_PA_HCO_CITY_TIER), 2);
	assert_int_equal(mr_profile_get(p, (uint32_t)d1, MR_PA_HCO_LEVEL), 3);
	assert_int_equal(mr_profile_consents(p, (uint32_t)d1), 0);
	assert_int_equal(mr_profile_state(p, (uint32_t)d3), MR_PS_DELETED);
	assert_string_equal(text(p, (uint32_t)d2, MR_PA_HCO), "H1");
	assert_int_equal(mr_profile_get(p, (uint32_t)d2, MR_PA_HCO_CITY_TIER), 2);
	assert_string_equal(text(p, (uint32_t)d2, MR_PA_SPECIALTY), "cardiology");
	mr_profile_read_end(p);
	(void)h1;

	mr_store_release(f.db.store, c);
	mr_hcpdir_free(dir);
	mr_profile_free(p);
	mr_test_db_close(&f.db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dict),
		MR_TEST_BOTH(test_profile_loads_and_follows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
