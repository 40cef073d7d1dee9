/*
 * Master data: normal forms (phones, emails, licence numbers, name keys),
 * sealed PII with its blind index and masks, the generic upsert with its
 * change history, content items (a time field, a title search), the
 * one-owner rule, and merge -> unmerge restoring the exact rows, on SQLite
 * and PostgreSQL.
 */
#include "unit.h"

#include "base/buf.h"
#include "base/time.h"
#include "crypto/pii.h"
#include "md/ident.h"
#include "md/md.h"
#include "md/merge.h"
#include "md/norm.h"
#include "md/relate.h"

#include <unicode/ustring.h>
#include <unicode/utrans.h>

static void test_phone_normal_forms(void **state)
{
	static const struct { const char *in, *out; } ok[] = {
		{ "13812345678", "+8613812345678" },
		{ "138-1234-5678", "+8613812345678" },
		{ "+86 138 1234 5678", "+8613812345678" },
		{ "0086 13812345678", "+8613812345678" },
		{ "(010) 6512-3456", "+861065123456" },
		{ "+1 415 555 0100", "+14155550100" },
	};
	static const char *const bad[] = { "12345", "12812345678", "138123456789", "phone", "+86 138",
					   "+8613812345", "" };
	char out[MR_NORM_MAX];
	struct mr_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(mr_norm_phone(ok[i].in, out, "phone", &err), 0);
		assert_string_equal(out, ok[i].out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mr_err_clear(&err);
		assert_int_equal(mr_norm_phone(bad[i], out, "phone", &err), MR_EINVAL);
		assert_string_equal(err.field, "phone");
	}
}

static void test_email_license_and_ids(void **state)
{
	char out[MR_NORM_MAX];
	struct mr_err err;

	(void)state;
	assert_int_equal(mr_norm_email(" Wang.JG@Example.COM ", out, "email", &err), 0);
	assert_string_equal(out, "wang.jg@example.com");
	assert_int_equal(mr_norm_email("wang@", out, "email", &err), MR_EINVAL);
	assert_int_equal(mr_norm_email("a@b@c.com", out, "email", &err), MR_EINVAL);
	assert_int_equal(mr_norm_license("110101 199001 011", out, "license_no", &err), 0);
	assert_string_equal(out, "110101199001011");
	assert_int_equal(mr_norm_license("11010119900101X", out, "license_no", &err), MR_EINVAL);
	assert_int_equal(mr_norm_identity("wechat_unionid", " oUNION_123abc ", out, "value", &err), 0);
	assert_string_equal(out, "oUNION_123abc");
	assert_int_equal(mr_norm_identity("wechat_unionid", "o<script>", out, "value", &err), MR_EINVAL);
	assert_int_equal(mr_norm_identity("fax", "123", out, "value", &err), MR_EINVAL);
	assert_string_equal(err.field, "kind");
}

static void test_name_keys_from_icu_pinyin(void **state)
{
	struct mr_name_keys k;
	char end[MR_NORM_MAX + 1];

	(void)state;
	mr_name_keys("王建国", NULL, &k);
	assert_string_equal(k.name, "王建国");
	assert_string_equal(k.pinyin, "wang jian guo");
	assert_string_equal(k.pinyin_key, "wangjianguo");
	assert_string_equal(k.initials, "wjg");
	mr_name_keys("  欧阳  修 ", "Ouyang Xiu", &k);
	assert_string_equal(k.name, "欧阳 修");
	assert_string_equal(k.pinyin, "ouyang xiu");
	assert_string_equal(k.pinyin_key, "ouyangxiu");
	assert_string_equal(k.initials, "oyx");
	mr_name_keys("John SMITH", NULL, &k);
	assert_string_equal(k.name, "john smith");
	assert_string_equal(k.initials, "js");
	mr_norm_prefix_end("wang", end);
	assert_string_equal(end, "wanh");
	mr_norm_prefix_end("\xe7\x8e\x8b", end); /* 王: the last character goes up by one */
	assert_string_equal(end, "\xe7\x8e\x8c");
	mr_norm_prefix_end("\xe5\xbe\x90\xe9\xb8\xbf", end); /* 徐鸿: still UTF-8, not ...b8 c0 */
	assert_string_equal(end, "\xe5\xbe\x90\xe9\xb9\x80");
	mr_norm_prefix_end("\x7f", end); /* the last one-byte character: the first two-byte one */
	assert_string_equal(end, "\xc2\x80");
}

/* The pinyin ICU alone gives for s ("Han-Latin; Latin-ASCII; Lower"), the reference of the short cut. */
static void icu_pinyin(UTransliterator *t, const char *s, char *out, size_t cap)
{
	UChar buf[256];
	int32_t len = 0, limit;
	UErrorCode st = U_ZERO_ERROR;

	u_strFromUTF8(buf, 128, &len, s, -1, &st);
	limit = len;
	utrans_transUChars(t, buf, &len, 256, 0, &limit, &st);
	u_strToUTF8(out, (int32_t)cap - 1, NULL, buf, len, &st);
	assert_false(U_FAILURE(st));
}

static void put_cp(char *out, uint32_t cp)
{
	out[0] = (char)(0xe0 | (cp >> 12));
	out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[2] = (char)(0x80 | (cp & 0x3f));
	out[3] = '\0';
}

/*
 * The per-character pinyin table is a short cut past ICU: for every
 * ideograph on its own, for names read in context (沈阳, 单于, 尉迟) and for
 * 20,000 random three-character names it must give what ICU gives.
 */
static void test_pinyin_short_cut_equals_icu(void **state)
{
	static const char *const context[] = { "沈阳", "沈 阳", "阳沈", "单于", "尉迟恭", "万俟",
					       "长孙", "解放", "曾国藩", "朴" };
	UChar id[64];
	UErrorCode st = U_ZERO_ERROR;
	UTransliterator *t;
	struct mr_name_keys k;
	char name[16], want[MR_NORM_MAX];
	uint64_t seed = 42;
	int bad = 0;

	(void)state;
	u_uastrcpy(id, "Han-Latin; Latin-ASCII; Lower");
	t = utrans_openU(id, -1, UTRANS_FORWARD, NULL, 0, NULL, &st);
	assert_false(U_FAILURE(st));
	for (uint32_t cp = 0x3400; cp <= 0x9fff; cp++) {
		if (cp > 0x4dbf && cp < 0x4e00)
			continue;
		put_cp(name, cp);
		mr_name_keys(name, NULL, &k);
		icu_pinyin(t, name, want, sizeof(want));
		bad += strcmp(k.pinyin, want) != 0;
	}
	for (size_t i = 0; i < sizeof(context) / sizeof(context[0]); i++) {
		mr_name_keys(context[i], NULL, &k);
		icu_pinyin(t, k.name, want, sizeof(want));
		assert_string_equal(k.pinyin, want);
	}
	mr_name_keys("沈阳", NULL, &k);
	assert_string_equal(k.pinyin, "shen yang"); /* ICU reads 沈 before 阳 as shěn */
	for (int i = 0; i < 20000; i++) {
		for (int j = 0; j < 3; j++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			put_cp(name + 3 * j, 0x4e00 + (uint32_t)((seed >> 33) % (0x9fff - 0x4e00 + 1)));
		}
		mr_name_keys(name, NULL, &k);
		icu_pinyin(t, name, want, sizeof(want));
		bad += strcmp(k.pinyin, want) != 0;
	}
	utrans_close(t);
	assert_int_equal(bad, 0);
}

static void test_pii_seal_index_mask(void **state)
{
	struct mr_keys k, other;
	unsigned char a[64], b[64], ia[MR_PII_BIDX], ib[MR_PII_BIDX];
	char plain[MR_PII_MAX + 1], masked[MR_PII_MASK_MAX];
	struct mr_err err;
	const char *v = "+8613812345678";
	size_t n = strlen(v);

	(void)state;
	mr_test_keys(&k, 1);
	mr_test_keys(&other, 9);
	mr_pii_seal(&k, v, n, a);
	mr_pii_seal(&k, v, n, b);
	assert_memory_not_equal(a, b, n + MR_PII_OVERHEAD); /* a fresh nonce per value */
	assert_null(memmem(a, n + MR_PII_OVERHEAD, "13812345678", 11));
	assert_int_equal(mr_pii_open(&k, a, n + MR_PII_OVERHEAD, plain, sizeof(plain), &err), 0);
	assert_string_equal(plain, v);
	assert_int_equal(mr_pii_open(&other, a, n + MR_PII_OVERHEAD, plain, sizeof(plain), &err), MR_EINTERNAL);
	a[30] ^= 1;
	assert_int_equal(mr_pii_open(&k, a, n + MR_PII_OVERHEAD, plain, sizeof(plain), &err), MR_EINTERNAL);
	mr_pii_bidx(&k, "phone", "", v, ia);
	mr_pii_bidx(&k, "phone", "", v, ib);
	assert_memory_equal(ia, ib, MR_PII_BIDX);
	mr_pii_bidx(&k, "license_no", "", v, ib);
	assert_memory_not_equal(ia, ib, MR_PII_BIDX);
	mr_pii_bidx(&other, "phone", "", v, ib);
	assert_memory_not_equal(ia, ib, MR_PII_BIDX);
	mr_pii_mask("phone", v, masked);
	assert_string_equal(masked, "138****5678");
	mr_pii_mask("email", "wang.jg@163.com", masked);
	assert_string_equal(masked, "w***@163.com");
	mr_pii_mask("license_no", "110101199001011", masked);
	assert_string_equal(masked, "1101****011");
	mr_pii_mask("wechat_unionid", "oUNION_123abc", masked);
	assert_string_equal(masked, "oUNI****3abc");
}

struct mr_md_fixture {
	struct mr_test_db db;
	struct mr_keys keys;
	struct mr_md_actor who;
};

static void mr_md_fixture_open(struct mr_md_fixture *f, void **state)
{
	mr_test_db_open(&f->db, mr_test_backend(state));
	mr_test_keys(&f->keys, 3);
	f->who = (struct mr_md_actor){ "tester", "req-1", "api", mr_now_us() };
}

struct mr_md_upsert_job {
	struct mr_md_fixture *f;
	struct mr_md_rec rec;
	int mode;
	struct mr_md_result res;
};

static int mr_md_upsert_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_md_upsert_job *j = arg;

	return mr_md_upsert(c, &j->f->keys, &j->rec, j->mode, &j->f->who, &j->res, err);
}

/* Upserts ext_id of e with name=value pairs (NULL-terminated); returns the code. */
static int mr_md_put(struct mr_md_fixture *f, const struct mr_md_entity *e, const char *ext,
		     const char *const *kv, struct mr_md_result *res, struct mr_err *err)
{
	struct mr_md_upsert_job j = { .f = f };
	struct mr_arena a;
	int rc;

	mr_arena_init(&a);
	mr_md_rec_init(&j.rec, e);
	j.rec.ext_id = ext;
	for (int i = 0; kv[i]; i += 2)
		j.rec.val[mr_md_field_index(e, kv[i])] = kv[i + 1];
	rc = mr_md_rec_check(&j.rec, 1, &a, err);
	if (rc == 0)
		rc = mr_store_write(f->db.store, mr_md_upsert_fn, &j, err);
	if (res)
		*res = j.res;
	mr_arena_release(&a);
	return rc;
}

static int64_t mr_md_count(struct mr_md_fixture *f, const char *sql)
{
	struct mr_conn *c = NULL;
	struct mr_err err;
	int64_t n = -1;

	assert_int_equal(mr_store_acquire(f->db.store, &c, &err), 0);
	assert_int_equal(mr_conn_query_int(c, sql, NULL, 0, &n, &err), 0);
	mr_store_release(f->db.store, c);
	return n;
}

static void test_upsert_history_and_idempotence(void **state)
{
	struct mr_md_fixture f;
	struct mr_md_result res;
	struct mr_err err;
	static const char *const hco[] = { "name", "华山医院", "level", "3", "grade", "甲", NULL };
	static const char *const hcp[] = { "name", "王建国", "title", "主任医师", "hco", "H1",
					   "phone", "138-1234-5678", NULL };
	static const char *const hcp2[] = { "name", "王建国", "title", "attending", "hco", "H1",
					    "phone", "13812345678", NULL };

	mr_md_fixture_open(&f, state);
	assert_int_equal(mr_md_put(&f, &mr_md_hco, "H1", hco, &res, &err), 0);
	assert_int_equal(mr_md_put(&f, &mr_md_hcp, "D1", hcp, &res, &err), 0);
	assert_true(res.created);
	assert_int_equal(mr_md_put(&f, &mr_md_hcp, "D1", hcp, &res, &err), 0);
	assert_false(res.created);
	assert_int_equal(res.changed, 0); /* the same record again changes nothing */
	assert_int_equal(mr_md_put(&f, &mr_md_hcp, "D1", hcp2, &res, &err), 0);
	assert_int_equal(res.changed, 1); /* the title; the phone is the same number */
	assert_int_equal(mr_md_count(&f, "SELECT COUNT(*) FROM md_changes WHERE field = 'title'"
				     " AND old_value = 'chief' AND new_value = 'attending' AND login = 'tester'"), 1);
	assert_int_equal(mr_md_count(&f, "SELECT COUNT(*) FROM hcps WHERE pinyin_key = 'wangjianguo'"
				     " AND initials = 'wjg' AND status = 'active'"), 1);
	static const char *const bad[] = { "name", "李四", "hco", "H404", NULL };
	assert_int_equal(mr_md_put(&f, &mr_md_hcp, "D2", bad, &res, &err), MR_EINVAL);
	assert_string_equal(err.field, "hco");
	static const char *const taken[] = { "name", "李四", "phone", "+8613812345678", NULL };
	assert_int_equal(mr_md_put(&f, &mr_md_hcp, "D2", taken, &res, &err), MR_ECONFLICT);
	assert_string_equal(err.kind, "identity_taken");
	mr_test_db_close(&f.db);
}

/* A time field: a date or an RFC 3339 time, kept as µs, shown and historied as RFC 3339. */
static void test_content_time_field_and_title_search(void **state)
{
	struct mr_md_fixture f;
	struct mr_md_result res;
	struct mr_md_rec rec;
	struct mr_md_query q = { .q = "达格", .limit = 10 };
	struct mr_scope all = { .kind = MR_SCOPE_ALL };
	struct mr_conn *c = NULL;
	struct mr_arena a;
	struct mr_err err;
	json_t *items = json_array();
	int64_t next = 0;
	int ie = mr_md_field_index(&mr_md_content, "expires_at");
	static const char *const item[] = { "title", "达格列净指南解读", "topic", "guidelines",
					    "expires_at", "2027-03-31", NULL };
	static const char *const later[] = { "title", "达格列净指南解读", "topic", "guidelines",
					     "expires_at", "2028-01-01T08:00:00+08:00", NULL };

	mr_arena_init(&a);
	mr_md_rec_init(&rec, &mr_md_content);
	rec.ext_id = "C1";
	rec.val[mr_md_field_index(&mr_md_content, "title")] = "x";
	rec.val[ie] = "2027/03/31";
	assert_int_equal(mr_md_rec_check(&rec, 1, &a, &err), MR_EINVAL);
	assert_string_equal(err.field, "expires_at");
	assert_string_equal(err.msg, "expires_at: expected an ISO 8601 date such as 2027-03-31");
	rec.val[ie] = " 2027-03-31 ";
	assert_int_equal(mr_md_rec_check(&rec, 1, &a, &err), 0);
	assert_string_equal(rec.val[ie], "2027-03-30T16:00:00Z"); /* midnight in Shanghai */
	assert_int_equal(mr_md_rec_check(&rec, 1, &a, &err), 0);
	assert_string_equal(rec.val[ie], "2027-03-30T16:00:00Z"); /* checking again keeps it */
	mr_arena_release(&a);

	mr_md_fixture_open(&f, state);
	assert_int_equal(mr_md_put(&f, &mr_md_content, "C1", item, &res, &err), 0);
	assert_true(res.created);
	assert_int_equal(mr_md_count(&f, "SELECT COUNT(*) FROM content WHERE status = 'draft'"
				     " AND expires_at = 1806422400000000"), 1);
	assert_int_equal(mr_md_put(&f, &mr_md_content, "C1", item, &res, &err), 0);
	assert_int_equal(res.changed, 0);
	assert_int_equal(mr_md_put(&f, &mr_md_content, "C1", later, &res, &err), 0);
	assert_int_equal(res.changed, 1);
	assert_int_equal(mr_md_count(&f, "SELECT COUNT(*) FROM md_changes WHERE entity = 'content'"
				     " AND field = 'expires_at' AND old_value = '2027-03-30T16:00:00Z'"
				     " AND new_value = '2028-01-01T00:00:00Z'"), 1);
	assert_int_equal(mr_store_acquire(f.db.store, &c, &err), 0);
	assert_int_equal(mr_md_list(c, &mr_md_content, &all, &q, items, &next, &err), 0);
	mr_store_release(f.db.store, c);
	assert_int_equal(json_array_size(items), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "id")), "C1");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "expires_at")),
			 INT64_C(1830297600000000));
	json_decref(items);

	/* a title longer than the key column holds is found by its start */
	struct mr_buf title;
	const char *long_item[] = { "title", NULL, NULL };

	mr_buf_init(&title, 1024);
	for (int i = 0; i < 100; i++)
		mr_buf_adds(&title, i ? "长" : "糖");
	long_item[1] = mr_buf_str(&title);
	assert_int_equal(mr_md_put(&f, &mr_md_content, "C2", long_item, &res, &err), 0);
	mr_buf_release(&title);
	items = json_array();
	q.q = "糖长长";
	assert_int_equal(mr_store_acquire(f.db.store, &c, &err), 0);
	assert_int_equal(mr_md_list(c, &mr_md_content, &all, &q, items, &next, &err), 0);
	mr_store_release(f.db.store, c);
	assert_int_equal(json_array_size(items), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "id")), "C2");
	json_decref(items);
	mr_test_db_close(&f.db);
}

struct mr_md_align_job {
	struct mr_md_fixture *f;
	struct mr_alignment al;
	int64_t id;
	int changed;
};

static int mr_md_align_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_md_align_job *j = arg;

	return mr_align_upsert(c, &j->al, &j->f->who, &j->id, &j->changed, err);
}

static void test_one_owner_per_product(void **state)
{
	struct mr_md_fixture f;
	struct mr_err err;
	static const char *const rep[] = { "name", "张伟", "type", "field", NULL };
	static const char *const hcp[] = { "name", "王丽", NULL };
	struct mr_md_align_job j = { .f = &f };
	int64_t day = 86400LL * 1000000;

	mr_md_fixture_open(&f, state);
	assert_int_equal(mr_md_put(&f, &mr_md_rep, "R1", rep, NULL, &err), 0);
	assert_int_equal(mr_md_put(&f, &mr_md_rep, "R2", rep, NULL, &err), 0);
	assert_int_equal(mr_md_put(&f, &mr_md_hcp, "D1", hcp, NULL, &err), 0);
	j.al = (struct mr_alignment){ "D1", "R1", "field_owner", "GLU", 10 * day, 20 * day };
	assert_int_equal(mr_store_write(f.db.store, mr_md_align_fn, &j, &err), 0);
	j.al = (struct mr_alignment){ "D1", "R2", "field_owner", "GLU", 15 * day, 0 };
	assert_int_equal(mr_store_write(f.db.store, mr_md_align_fn, &j, &err), MR_ECONFLICT);
	assert_non_null(strstr(err.msg, "R1"));
	j.al.valid_from = 20 * day; /* after R1's ends: no overlap */
	assert_int_equal(mr_store_write(f.db.store, mr_md_align_fn, &j, &err), 0);
	j.al = (struct mr_alignment){ "D1", "R2", "field_owner", "CARDIO", 10 * day, 0 };
	assert_int_equal(mr_store_write(f.db.store, mr_md_align_fn, &j, &err), 0);
	j.al = (struct mr_alignment){ "D1", "R2", "inside_owner", "GLU", 10 * day, 0 };
	assert_int_equal(mr_store_write(f.db.store, mr_md_align_fn, &j, &err), 0);
	assert_int_equal(mr_md_count(&f, "SELECT COUNT(*) FROM alignments"), 4);
	mr_test_db_close(&f.db);
}

struct mr_md_merge_job {
	struct mr_md_fixture *f;
	int64_t s, m, merge_id;
	json_t *kept;
	int undo;
};

static int mr_md_merge_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_md_merge_job *j = arg;
	struct mr_merge_opts o = { .rule = "manual", .score = -1 };

	if (j->undo)
		return mr_hcp_unmerge(c, j->merge_id, &j->f->who, &j->kept, err);
	return mr_hcp_merge(c, j->s, j->m, &o, &j->f->who, &j->merge_id, err);
}

/* A text dump of every row the merge may touch. */
static char *mr_md_dump(struct mr_md_fixture *f)
{
	static const char *const q[] = {
		"SELECT id, ext_id, name, title, specialty, hco_id, merged_into, updated_at, name_key FROM hcps ORDER BY id",
		"SELECT id, hcp_id, kind, is_primary, verified FROM hcp_identities ORDER BY id",
		"SELECT id, hcp_id, rep_id, role, product, deleted_at FROM alignments ORDER BY id",
		"SELECT id, hcp_id, channel, purpose, status FROM consents ORDER BY id",
	};
	struct mr_conn *c = NULL;
	struct mr_buf b;
	struct mr_err err;

	mr_buf_init(&b, 1 << 20);
	assert_int_equal(mr_store_acquire(f->db.store, &c, &err), 0);
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		struct mr_rows *rows = NULL;

		assert_int_equal(mr_conn_query(c, q[i], NULL, 0, &rows, &err), 0);
		while (mr_rows_next(rows, &err) == 1) {
			for (int k = 0; k < 9; k++) {
				const char *s = mr_rows_text(rows, k);

				mr_buf_addf(&b, "%s|", s ? s : "NULL");
			}
			mr_buf_addc(&b, '\n');
		}
		mr_rows_close(rows);
	}
	mr_store_release(f->db.store, c);
	return mr_buf_detach(&b, NULL);
}

static void test_merge_then_unmerge_restores_exactly(void **state)
{
	struct mr_md_fixture f;
	struct mr_err err;
	struct mr_md_result a, b;
	static const char *const rep[] = { "name", "张伟", "type", "field", NULL };
	static const char *const d1[] = { "name", "周杰", "title", "chief", "phone", "13812345678", NULL };
	static const char *const d2[] = { "name", "周洁", "specialty", "cardiology", "email", "zj@example.com", NULL };
	struct mr_md_align_job al = { .f = &f };
	struct mr_md_merge_job j = { .f = &f };
	char *before, *merged, *after;

	mr_md_fixture_open(&f, state);
	assert_int_equal(mr_md_put(&f, &mr_md_rep, "R1", rep, NULL, &err), 0);
	assert_int_equal(mr_md_put(&f, &mr_md_rep, "R2", rep, NULL, &err), 0);
	assert_int_equal(mr_md_put(&f, &mr_md_hcp, "D1", d1, &a, &err), 0);
	assert_int_equal(mr_md_put(&f, &mr_md_hcp, "D2", d2, &b, &err), 0);
	al.al = (struct mr_alignment){ "D1", "R1", "field_owner", "GLU", 1, 0 };
	assert_int_equal(mr_store_write(f.db.store, mr_md_align_fn, &al, &err), 0);
	al.al = (struct mr_alignment){ "D2", "R2", "field_owner", "GLU", 1, 0 };
	assert_int_equal(mr_store_write(f.db.store, mr_md_align_fn, &al, &err), 0);
	before = mr_md_dump(&f);

	j.s = a.id;
	j.m = a.id;
	assert_int_equal(mr_store_write(f.db.store, mr_md_merge_fn, &j, &err), MR_EUNPROC);
	j.m = b.id;
	assert_int_equal(mr_store_write(f.db.store, mr_md_merge_fn, &j, &err), 0);
	merged = mr_md_dump(&f);
	assert_string_not_equal(merged, before);
	assert_int_equal(mr_md_count(&f, "SELECT COUNT(*) FROM hcps WHERE ext_id = 'D1' AND specialty = 'cardiology'"), 1);
	assert_int_equal(mr_md_count(&f, "SELECT COUNT(*) FROM hcp_identities i JOIN hcps h ON h.id = i.hcp_id"
				     " WHERE h.ext_id = 'D1'"), 2);
	assert_int_equal(mr_md_count(&f, "SELECT COUNT(*) FROM alignments WHERE deleted_at IS NULL"), 1);
	assert_int_equal(mr_store_write(f.db.store, mr_md_merge_fn, &j, &err), MR_ECONFLICT);

	j.undo = 1;
	assert_int_equal(mr_store_write(f.db.store, mr_md_merge_fn, &j, &err), 0);
	assert_int_equal(json_array_size(j.kept), 0);
	json_decref(j.kept);
	after = mr_md_dump(&f);
	assert_string_equal(after, before);
	j.kept = NULL;
	assert_int_equal(mr_store_write(f.db.store, mr_md_merge_fn, &j, &err), MR_ECONFLICT);
	free(before);
	free(merged);
	free(after);
	mr_test_db_close(&f.db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phone_normal_forms),
		cmocka_unit_test(test_email_license_and_ids),
		cmocka_unit_test(test_name_keys_from_icu_pinyin),
		cmocka_unit_test(test_pinyin_short_cut_equals_icu),
		cmocka_unit_test(test_pii_seal_index_mask),
		MR_TEST_BOTH(test_upsert_history_and_idempotence),
		MR_TEST_BOTH(test_content_time_field_and_title_search),
		MR_TEST_BOTH(test_one_owner_per_product),
		MR_TEST_BOTH(test_merge_then_unmerge_restores_exactly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
