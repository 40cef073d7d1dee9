/*
 * Unit tests of src/identity: the comparators (Jaro-Winkler's published
 * values, Chinese names, phones, dates, Chinese addresses), EM recovering
 * known m/u, blocking staying near-linear on one giant block, clustering,
 * the model's JSON round trip, and the whole pipeline on a synthetic table
 * with a known truth.
 */
#include "unit.h"

#include "identity/block.h"
#include "identity/cluster.h"
#include "identity/compare.h"
#include "identity/dedupe.h"
#include "identity/fs.h"

/* Code points of an ASCII string, for the Jaro-Winkler tests. */
static size_t ascii_cp(const char *s, uint32_t *out)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)s[i];
	return n;
}

static double jw(const char *a, const char *b)
{
	uint32_t ua[64], ub[64];
	size_t na = ascii_cp(a, ua), nb = ascii_cp(b, ub);

	return mr_cmp_jaro_winkler(ua, na, ub, nb);
}

static void test_jaro_winkler_known_values(void **state)
{
	uint32_t a[3] = { 0x5f20, 0x6653, 0x660e }, b[3] = { 0x5f20, 0x5c0f, 0x660e }; /* 张晓明, 张小明 */

	(void)state;
	assert_float_equal(jw("MARTHA", "MARHTA"), 0.961, 0.0005);
	assert_float_equal(jw("DWAYNE", "DUANE"), 0.840, 0.0005);
	assert_float_equal(jw("DIXON", "DICKSONX"), 0.813, 0.0005);
	assert_float_equal(jw("SAME", "SAME"), 1.0, 1e-12);
	assert_float_equal(jw("ABC", "XYZ"), 0.0, 1e-12);
	/* Over code points, not bytes: two of three characters match, prefix 1. */
	assert_float_equal(mr_cmp_jaro_winkler(a, 3, b, 3), 0.8, 1e-9);
}

static void test_name_levels_cjk_and_pinyin(void **state)
{
	(void)state;
	assert_int_equal(mr_cmp_nlevels(MR_CMP_NAME), 6);
	assert_int_equal(mr_cmp_strings(MR_CMP_NAME, "王伟", "王伟"), 1);
	assert_int_equal(mr_cmp_strings(MR_CMP_NAME, "王 伟", "王伟"), 1);
	assert_int_equal(mr_cmp_strings(MR_CMP_NAME, " 王伟\u3000", "王伟"), 1);
	assert_int_equal(mr_cmp_strings(MR_CMP_NAME, "张晓明", "张小明"), 3); /* JW 0.80 */
	assert_int_equal(mr_cmp_strings(MR_CMP_NAME, "王伟", "王芳"), 4);     /* JW 0.67 */
	assert_int_equal(mr_cmp_strings(MR_CMP_NAME, "王伟", "李娜"), 5);
	/* pinyin: case, spaces, full width, word order, u-umlaut typed as v */
	assert_int_equal(mr_cmp_strings(MR_CMP_NAME, "Wang Xiaoming", "WANGXIAOMING"), 1);
	assert_int_equal(mr_cmp_strings(MR_CMP_NAME, "Ｗａｎｇ　Ｗｅｉ", "wang wei"), 1);
	assert_int_equal(mr_cmp_strings(MR_CMP_NAME, "Wei Wang", "wangwei"), 1);
	assert_int_equal(mr_cmp_strings(MR_CMP_NAME, "Lü Wei", "LV WEI"), 1);
	assert_int_equal(mr_cmp_strings(MR_CMP_NAME, "wangxiaoming", "wangxiaomin"), 2);
	assert_int_equal(mr_cmp_strings(MR_CMP_NAME, "", "wang"), 0);
	assert_int_equal(mr_cmp_strings(MR_CMP_NAME, "--", "wang"), 0);
	assert_string_equal(mr_cmp_level_name(MR_CMP_NAME, 3), "similar");
}

static void test_phone_normalisation_and_levels(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(mr_cmp_phone_norm("+86 138-1234-5678", out, sizeof(out)), 11);
	assert_string_equal(out, "13812345678");
	mr_cmp_phone_norm("0086 13812345678", out, sizeof(out));
	assert_string_equal(out, "13812345678");
	mr_cmp_phone_norm("8613812345678", out, sizeof(out));
	assert_string_equal(out, "13812345678");
	mr_cmp_phone_norm("１３８ １２３４ ５６７８", out, sizeof(out));
	assert_string_equal(out, "13812345678");
	mr_cmp_phone_norm("(010) 6234-5678", out, sizeof(out));
	assert_string_equal(out, "01062345678");
	assert_int_equal(mr_cmp_strings(MR_CMP_PHONE, "13812345678", "+86 138 1234 5678"), 1);
	assert_int_equal(mr_cmp_strings(MR_CMP_PHONE, "13812345678", "13912345678"), 2);
	assert_int_equal(mr_cmp_strings(MR_CMP_PHONE, "13812345678", "13812345687"), 3);
	assert_int_equal(mr_cmp_strings(MR_CMP_PHONE, "13812345678", "15000000000"), 4);
	assert_int_equal(mr_cmp_strings(MR_CMP_PHONE, "13812345678", "12345"), 0);
	assert_int_equal(mr_cmp_strings(MR_CMP_PHONE, NULL, "13812345678"), 0);
}

static void test_date_parse_and_levels(void **state)
{
	int32_t ymd = 0;

	(void)state;
	assert_int_equal(mr_cmp_date_parse("1980/3/5", 8, &ymd), 0);
	assert_int_equal(ymd, 19800305);
	assert_int_equal(mr_cmp_date_parse("1980-02-30", 10, &ymd), MR_EINVAL);
	assert_int_equal(mr_cmp_date_parse("1981-02-29", 10, &ymd), MR_EINVAL);
	assert_int_equal(mr_cmp_date_parse("1980-3/5", 8, &ymd), MR_EINVAL);
	assert_int_equal(mr_cmp_date_days(19700101), 0);
	assert_int_equal(mr_cmp_date_days(20000301), 11017);
	assert_int_equal(mr_cmp_strings(MR_CMP_DATE, "1980-03-05", "1980/3/5"), 1);
	assert_int_equal(mr_cmp_strings(MR_CMP_DATE, "1980-03-05", "19800305"), 1);
	assert_int_equal(mr_cmp_strings(MR_CMP_DATE, "1980-03-05", "1980年3月5日"), 1);
	assert_int_equal(mr_cmp_strings(MR_CMP_DATE, "1980-03-05", "1980.03.05 00:00:00"), 1);
	assert_int_equal(mr_cmp_strings(MR_CMP_DATE, "1980-03-05", "1980-05-03"), 2);
	assert_int_equal(mr_cmp_strings(MR_CMP_DATE, "1980-03-05", "1980-03-20"), 3);
	assert_int_equal(mr_cmp_strings(MR_CMP_DATE, "1980-12-30", "1981-01-02"), 3);
	assert_int_equal(mr_cmp_strings(MR_CMP_DATE, "1980-03-05", "1989-03-05"), 4);
	assert_int_equal(mr_cmp_strings(MR_CMP_DATE, "1980-03-05", "1975-11-30"), 5);
	assert_int_equal(mr_cmp_strings(MR_CMP_DATE, "1980-03-05", "not a date"), 0);
}

static void test_tokens_on_chinese_addresses(void **state)
{
	struct mr_arena a;
	struct mr_cmp_val v;

	(void)state;
	mr_arena_init(&a);
	mr_cmp_prepare(MR_CMP_ADDRESS, "上海市 徐汇区", strlen("上海市 徐汇区"), &a, &v);
	assert_int_equal(v.n, 4); /* 上海 海市 徐汇 汇区 */
	mr_cmp_prepare(MR_CMP_TEXT, "Room 301, 上海", strlen("Room 301, 上海"), &a, &v);
	assert_int_equal(v.n, 3); /* room 301 上海 */
	mr_cmp_prepare(MR_CMP_TEXT, "院", strlen("院"), &a, &v);
	assert_int_equal(v.n, 1);
	mr_arena_release(&a);
	/* 协和医院 is all of 北京协和医院's last three bigrams: contained, Jaccard 3/5 */
	assert_int_equal(mr_cmp_strings(MR_CMP_ADDRESS, "北京协和医院", "协和医院"), 2);
	assert_int_equal(mr_cmp_strings(MR_CMP_TEXT, "北京协和医院", "协和医院"), 3);
	assert_int_equal(mr_cmp_strings(MR_CMP_ADDRESS, "北京协和医院", "北京天坛医院"), 4);
	assert_int_equal(mr_cmp_strings(MR_CMP_ADDRESS, "北京 协和医院", "北京协和医院"), 1);
	assert_int_equal(mr_cmp_strings(MR_CMP_TEXT, "Peking Union Hospital", "peking union medical hospital"), 2);
}

static void test_id_exact_number_levels(void **state)
{
	(void)state;
	assert_int_equal(mr_cmp_strings(MR_CMP_ID, "AB-12 34", "ab1234"), 1);
	assert_int_equal(mr_cmp_strings(MR_CMP_ID, "110100201012345", "110100201012354"), 2);
	assert_int_equal(mr_cmp_strings(MR_CMP_ID, "110100201012345", "11010020101234"), 2);
	assert_int_equal(mr_cmp_strings(MR_CMP_ID, "110100201012345", "999"), 3);
	assert_int_equal(mr_cmp_strings(MR_CMP_EXACT, "M", " M "), 1);
	assert_int_equal(mr_cmp_strings(MR_CMP_EXACT, "M", "m"), 2);
	assert_int_equal(mr_cmp_strings(MR_CMP_NUMBER, "1,000", "1000"), 1);
	assert_int_equal(mr_cmp_strings(MR_CMP_NUMBER, "100", "100.5"), 2);
	assert_int_equal(mr_cmp_strings(MR_CMP_NUMBER, "100", "109"), 3);
	assert_int_equal(mr_cmp_strings(MR_CMP_NUMBER, "100", "150"), 4);
	assert_int_equal(mr_cmp_strings(MR_CMP_NUMBER, "100", "abc"), 0);
	assert_int_equal(mr_cmp_kind_parse("address"), MR_CMP_ADDRESS);
	assert_int_equal(mr_cmp_kind_parse("zodiac"), -1);
}

/* splitmix64: the tests' deterministic random numbers. */
static uint64_t test_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double test_unit(uint64_t *s)
{
	return (double)(test_rand(s) >> 11) / 9007199254740992.0;
}

/* Draws a level from probabilities p[1..n-1]. */
static int test_draw(uint64_t *s, const double *p, int n)
{
	double r = test_unit(s);

	for (int l = 1; l < n - 1; l++) {
		if (r < p[l])
			return l;
		r -= p[l];
	}
	return n - 1;
}

static void test_em_recovers_known_m_u(void **state)
{
	static const double m[5][4] = { { 0, .95, .05 }, { 0, .90, .10 }, { 0, .85, .15 },
					{ 0, .80, .20 }, { 0, .85, .10, .05 } };
	static const double u[5][4] = { { 0, .10, .90 }, { 0, .20, .80 }, { 0, .05, .95 },
					{ 0, .30, .70 }, { 0, .01, .04, .95 } };
	const enum mr_cmp_kind kinds[5] = { MR_CMP_EXACT, MR_CMP_EXACT, MR_CMP_EXACT, MR_CMP_EXACT, MR_CMP_ID };
	const char *cols[5] = { "a", "b", "c", "d", "e" };
	struct mr_fs_em_opts em = { .lambda0 = 0.05 };
	struct mr_fs_patterns p;
	struct mr_fs_model model;
	uint64_t seed = 7;

	(void)state;
	mr_fs_patterns_init(&p);
	for (int i = 0; i < 200000; i++) {
		int match = test_unit(&seed) < 0.1;
		uint64_t code = 0;
		for (int f = 0; f < 5; f++) {
			int n = f == 4 ? 4 : 3;
			int l = test_draw(&seed, match ? m[f] : u[f], n);
			if (test_unit(&seed) < 0.05)
				l = 0; /* missing */
			code = mr_fs_code_with(code, f, l);
		}
		mr_fs_patterns_add(&p, code, 1.0);
	}
	assert_true(p.n <= 3 * 3 * 3 * 3 * 4);
	mr_fs_init(&model, 5, cols, kinds);
	mr_fs_set_u(&model, &p);
	mr_fs_train(&model, &p, &em);
	assert_true(model.converged);
	assert_float_equal(model.lambda, 0.1, 0.01);
	for (int f = 0; f < 5; f++) {
		for (int l = 1; l < model.f[f].nlevels; l++) {
			assert_float_equal(model.f[f].m[l], m[f][l], 0.015);
			assert_float_equal(model.f[f].u[l], u[f][l], 0.015);
		}
	}
	/* Agreement on the id is strong evidence, disagreement against. */
	assert_true(mr_fs_weight(&model, mr_fs_code_with(0, 4, 1)) > 6.0);
	assert_true(mr_fs_weight(&model, mr_fs_code_with(0, 4, 3)) < -3.0);
	mr_fs_patterns_release(&p);
}

static int test_has_pair(const struct mr_block *b, uint32_t x, uint32_t y)
{
	uint64_t want = ((uint64_t)x << 32) | y;
	size_t lo = 0, hi = b->npairs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (b->pairs[mid] == want)
			return 1;
		if (b->pairs[mid] < want)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static void test_blocking_caps_giant_block(void **state)
{
	enum { N = 10000 };
	const enum mr_cmp_kind kinds[2] = { MR_CMP_NAME, MR_CMP_PHONE };
	const char *cols[2] = { "name", "phone" };
	struct mr_cmp_val *vals = calloc(2 * N, sizeof(*vals));
	struct mr_block_opts o = { .cap = 50, .window = 10 };
	struct mr_arena a;
	struct mr_block b;
	char phone[32];

	(void)state;
	mr_arena_init(&a);
	for (uint32_t r = 0; r < N; r++) {
		/* Everybody is 王伟; rows 2k and 2k+1 (k < 100) share the last 8 phone digits. */
		uint32_t last8 = r < 200 ? (r / 2) * 7919u : r * 7919u;
		snprintf(phone, sizeof(phone), "%s%08u", r < 200 && r % 2 ? "158" : "139", last8 % 100000000u);
		mr_cmp_prepare(MR_CMP_NAME, "王伟", strlen("王伟"), &a, &vals[2 * r]);
		mr_cmp_prepare(MR_CMP_PHONE, phone, strlen(phone), &a, &vals[2 * r + 1]);
	}
	mr_block_plan(&b, 2, kinds, cols);
	assert_int_equal(b.npasses, 3);
	assert_string_equal(b.pass[0].name, "name:value");
	assert_string_equal(b.pass[1].name, "phone:last8");
	assert_string_equal(b.pass[2].name, "phone:typo");
	mr_block_run(&b, vals, N, 2, kinds, &o);
	assert_int_equal(b.pass[0].blocks, 1);
	assert_int_equal(b.pass[0].windowed, 1);
	assert_int_equal(b.pass[0].pairs, 9 * N - 45); /* each row meets its next 9 */
	assert_int_equal(b.pass[1].blocks, 100);
	assert_int_equal(b.pass[1].pairs, 100);
	assert_true(b.npairs <= 10 * (size_t)N);
	for (uint32_t k = 0; k < 100; k++)
		assert_true(test_has_pair(&b, 2 * k, 2 * k + 1));
	for (size_t i = 1; i < b.npairs; i++)
		assert_true(b.pairs[i - 1] < b.pairs[i]); /* sorted and distinct */
	mr_block_release(&b);
	mr_arena_release(&a);
	free(vals);
}

/* The keys of one value of kind in a pass of key over a single field; returns how many. */
static size_t test_keys(enum mr_block_key key, enum mr_cmp_kind kind, const char *s, struct mr_arena *a,
			uint64_t *out)
{
	struct mr_block_pass p = { .field = 0, .field2 = -1, .key = key };
	struct mr_cmp_val v;

	mr_cmp_prepare(kind, s, strlen(s), a, &v);
	return mr_block_keys_of(&p, &kind, &v, out);
}

/* 1 when the two key sets share a key. */
static int test_share(const uint64_t *x, size_t nx, const uint64_t *y, size_t ny)
{
	for (size_t i = 0; i < nx; i++) {
		for (size_t j = 0; j < ny; j++) {
			if (x[i] == y[j])
				return 1;
		}
	}
	return 0;
}

static void test_block_keys_forgive_noise(void **state)
{
	const enum mr_cmp_kind kinds[2] = { MR_CMP_DATE, MR_CMP_NAME };
	struct mr_block_pass date = { .field = 0, .field2 = 1, .key = MR_BLOCK_DATE };
	uint64_t x[MR_BLOCK_MAX_KEYS], y[MR_BLOCK_MAX_KEYS];
	struct mr_cmp_val r1[2], r2[2], r3[2];
	struct mr_arena a;
	size_t nx, ny;

	(void)state;
	mr_arena_init(&a);
	/* date: a day/month swap keeps the key, so does the surname; another surname does not */
	assert_int_equal(test_keys(MR_BLOCK_DATE, MR_CMP_DATE, "1980-03-05", &a, x), 1);
	assert_int_equal(x[0], 19800305);
	assert_int_equal(test_keys(MR_BLOCK_DATE, MR_CMP_DATE, "1980/5/3", &a, y), 1);
	assert_int_equal(y[0], 19800305);
	mr_cmp_prepare(MR_CMP_DATE, "1980-03-05", 10, &a, &r1[0]);
	mr_cmp_prepare(MR_CMP_NAME, "王伟", strlen("王伟"), &a, &r1[1]);
	mr_cmp_prepare(MR_CMP_DATE, "1980-05-03", 10, &a, &r2[0]);
	mr_cmp_prepare(MR_CMP_NAME, "王玮", strlen("王玮"), &a, &r2[1]);
	mr_cmp_prepare(MR_CMP_DATE, "1980-03-05", 10, &a, &r3[0]);
	mr_cmp_prepare(MR_CMP_NAME, "李伟", strlen("李伟"), &a, &r3[1]);
	assert_int_equal(mr_block_keys_of(&date, kinds, r1, x), 1);
	assert_int_equal(mr_block_keys_of(&date, kinds, r2, y), 1);
	assert_true(x[0] == y[0]);
	assert_int_equal(mr_block_keys_of(&date, kinds, r3, y), 1);
	assert_true(x[0] != y[0]);
	/* id: one swap key per adjacent pair of differing characters; a transposition shares one */
	nx = test_keys(MR_BLOCK_TYPO, MR_CMP_ID, "110100201012345", &a, x);
	assert_int_equal(nx, 12); /* 14 adjacent pairs, 2 of them equal (11, 00) */
	ny = test_keys(MR_BLOCK_TYPO, MR_CMP_ID, "110100201012354", &a, y);
	assert_true(test_share(x, nx, y, ny));
	ny = test_keys(MR_BLOCK_TYPO, MR_CMP_ID, "110100201019345", &a, y); /* a substitution: not these keys */
	assert_false(test_share(x, nx, y, ny));
	assert_int_equal(test_keys(MR_BLOCK_TYPO, MR_CMP_ID, "123", &a, y), 0);
	/* phone: on the last 11 digits, whatever the format */
	nx = test_keys(MR_BLOCK_TYPO, MR_CMP_PHONE, "+86 138 1234 5678", &a, x);
	assert_int_equal(nx, 10);
	ny = test_keys(MR_BLOCK_TYPO, MR_CMP_PHONE, "13812345687", &a, y);
	assert_true(test_share(x, nx, y, ny));
	assert_int_equal(test_keys(MR_BLOCK_LAST8, MR_CMP_PHONE, "", &a, x), 0);
	/* names: the value key ignores word order and spacing; no typo keys */
	test_keys(MR_BLOCK_VALUE, MR_CMP_NAME, "Xiaoming Wang", &a, x);
	test_keys(MR_BLOCK_VALUE, MR_CMP_NAME, "WANGXIAOMING", &a, y);
	assert_true(x[0] == y[0]);
	test_keys(MR_BLOCK_VALUE, MR_CMP_NAME, "王 伟", &a, x);
	test_keys(MR_BLOCK_VALUE, MR_CMP_NAME, "王伟", &a, y);
	assert_true(x[0] == y[0]);
	mr_arena_release(&a);
}

static void test_cluster_is_transitive(void **state)
{
	struct mr_cluster c;
	struct mr_cluster_quality q;
	uint32_t label[6];
	const uint32_t truth[6] = { 0, 0, 2, 3, 4, 4 };

	(void)state;
	mr_cluster_init(&c, 6);
	assert_int_equal(mr_cluster_union(&c, 2, 1), 1);
	assert_int_equal(mr_cluster_union(&c, 1, 0), 1);
	assert_int_equal(mr_cluster_union(&c, 0, 2), 0); /* already one cluster */
	assert_int_equal(mr_cluster_union(&c, 5, 4), 1);
	assert_int_equal(mr_cluster_labels(&c, label), 3);
	assert_int_equal(label[0], 0);
	assert_int_equal(label[1], 0);
	assert_int_equal(label[2], 0); /* 2 met 0 only through 1 */
	assert_int_equal(label[3], 3);
	assert_int_equal(label[4], 4);
	assert_int_equal(label[5], 4);
	mr_cluster_quality(label, truth, 6, &q);
	assert_int_equal(q.predicted, 4); /* 3 in {0,1,2}, 1 in {4,5} */
	assert_int_equal(q.actual, 2);
	assert_int_equal(q.correct, 2);
	assert_float_equal(q.precision, 0.5, 1e-12);
	assert_float_equal(q.recall, 1.0, 1e-12);
	assert_float_equal(q.f1, 2.0 / 3.0, 1e-12);
	mr_cluster_release(&c);
}

static void test_model_json_round_trip(void **state)
{
	const enum mr_cmp_kind kinds[2] = { MR_CMP_NAME, MR_CMP_PHONE };
	const char *cols[2] = { "姓名", "phone" };
	struct mr_fs_model m, back;
	struct mr_err err;
	json_t *j, *loaded;
	char *text;

	(void)state;
	mr_fs_init(&m, 2, cols, kinds);
	m.f[0].m[1] = 0.123456789012345;
	m.f[1].u[2] = 1.0 / 3.0;
	m.lambda = 0.0291;
	m.iterations = 8;
	m.converged = 1;
	j = mr_fs_to_json(&m);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	loaded = json_loads(text, 0, NULL);
	assert_int_equal(mr_fs_from_json(loaded, &back, &err), 0);
	assert_int_equal(back.nfields, 2);
	assert_string_equal(back.f[0].column, "姓名");
	assert_int_equal(back.f[1].kind, MR_CMP_PHONE);
	assert_int_equal(back.f[1].nlevels, 5);
	assert_memory_equal(back.f, m.f, sizeof(m.f[0]) * 2);
	assert_true(back.lambda == m.lambda && back.upper == m.upper && back.lower == m.lower);
	assert_int_equal(back.iterations, 8);
	assert_int_equal(back.converged, 1);
	/* a wrong number of probabilities names the field */
	json_array_remove(json_object_get(json_array_get(json_object_get(loaded, "fields"), 1), "m"), 0);
	assert_int_equal(mr_fs_from_json(loaded, &back, &err), MR_EINVAL);
	assert_string_equal(err.field, "m");
	json_object_set_new(json_array_get(json_object_get(loaded, "fields"), 0), "kind", json_string("zodiac"));
	assert_int_equal(mr_fs_from_json(loaded, &back, &err), MR_EINVAL);
	assert_string_equal(err.field, "kind");
	json_decref(loaded);
	free(text);
}

static void test_score_values_explains_each_field(void **state)
{
	const enum mr_cmp_kind kinds[2] = { MR_CMP_NAME, MR_CMP_PHONE };
	const char *cols[2] = { "name", "phone" };
	const char *a[2] = { "王伟", "13812345678" }, *b[2] = { "王 伟", NULL };
	struct mr_fs_model m;
	struct mr_fs_score s;

	(void)state;
	mr_fs_init(&m, 2, cols, kinds);
	m.f[0].m[1] = 0.8;
	m.f[0].u[1] = 0.01;
	m.lambda = 0.5;
	mr_fs_score_values(&m, a, b, &s);
	assert_int_equal(s.nfields, 2);
	assert_int_equal(s.term[0].level, 1);
	assert_float_equal(s.term[0].weight, 6.321928094887363, 1e-9);
	assert_int_equal(s.term[1].level, 0); /* missing: no evidence either way */
	assert_float_equal(s.term[1].weight, 0.0, 1e-12);
	assert_float_equal(s.weight, 6.321928094887363, 1e-9);
	assert_float_equal(s.prob, 80.0 / 81.0, 1e-9);
	assert_int_equal(s.decision, MR_FS_MATCH);
	assert_string_equal(mr_fs_decision_name(s.decision), "match");
	m.upper = 0.99;
	assert_int_equal(mr_fs_decide(&m, s.prob), MR_FS_REVIEW);
	assert_int_equal(mr_fs_decide(&m, 0.1), MR_FS_NEW);
}

/*
 * A synthetic table: 2,000 people, 30 % with one noisy duplicate (a
 * homophone in the name, a reformatted or missing phone, a reformatted
 * date, licences often missing); column 0 is the truth. Names come from 8
 * surnames and 16 given characters, one or two of them: 2,176 names.
 */
static void test_fill_people(struct mr_dedupe_table *t)
{
	static const char *const sur[] = { "王", "李", "张", "刘", "陈", "杨", "黄", "赵" };
	static const char *const giv[][2] = { { "伟", "玮" }, { "芳", "方" }, { "敏", "民" }, { "静", "晶" },
					      { "丽", "莉" }, { "强", "蔷" }, { "磊", "蕾" }, { "军", "君" },
					      { "华", "桦" }, { "明", "铭" }, { "杰", "洁" }, { "勇", "永" },
					      { "涛", "韬" }, { "平", "萍" }, { "辉", "晖" }, { "林", "琳" } };
	const char *names[5] = { "truth", "name", "phone", "birth", "licence" };
	uint64_t seed = 11;
	char truth[16], name[32], phone[32], birth[32], lic[32];
	const char *row[5] = { truth, name, phone, birth, lic };

	mr_dedupe_table_init(t, 5, names);
	for (int e = 0; e < 2000; e++) {
		unsigned s = (unsigned)(test_rand(&seed) % 8), g = (unsigned)(test_rand(&seed) % 16);
		unsigned g2 = (unsigned)(test_rand(&seed) % 17); /* 16: a one-character given name */
		unsigned long long ph = 13000000000ull + (unsigned long long)e * 104729ull;
		int y = 1950 + (int)(test_rand(&seed) % 50), mo = 1 + (int)(test_rand(&seed) % 12);
		int d = 1 + (int)(test_rand(&seed) % 28);
		int dup = test_unit(&seed) < 0.3;
		snprintf(truth, sizeof(truth), "E%d", e);
		for (int k = 0; k <= dup; k++) {
			int homophone = k && test_unit(&seed) < 0.2;
			snprintf(name, sizeof(name), "%s%s%s", sur[s], giv[g][homophone], g2 < 16 ? giv[g2][0] : "");
			if (k && test_unit(&seed) < 0.5)
				snprintf(phone, sizeof(phone), "+86 %llu-%04llu-%04llu", ph / 100000000ull,
					 ph / 10000ull % 10000ull, ph % 10000ull);
			else
				snprintf(phone, sizeof(phone), "%llu", ph);
			if (k && test_unit(&seed) < 0.2)
				phone[0] = '\0';
			snprintf(birth, sizeof(birth), k && test_unit(&seed) < 0.5 ? "%d/%d/%d" : "%d-%02d-%02d",
				 y, mo, d);
			snprintf(lic, sizeof(lic), "%015lld", 110000000000LL + e * 7919LL);
			if (test_unit(&seed) < 0.3)
				lic[0] = '\0';
			mr_dedupe_table_add(t, row, NULL);
		}
	}
}

static void test_dedupe_pipeline_finds_duplicates(void **state)
{
	struct mr_dedupe_table t;
	struct mr_dedupe_opts o;
	struct mr_dedupe_result r;
	struct mr_cluster_quality q;
	struct mr_err err;
	uint32_t *truth, *base;

	(void)state;
	test_fill_people(&t);
	memset(&o, 0, sizeof(o));
	o.nfields = 4;
	o.field[0] = (struct mr_dedupe_field){ 1, MR_CMP_NAME };
	o.field[1] = (struct mr_dedupe_field){ 2, MR_CMP_PHONE };
	o.field[2] = (struct mr_dedupe_field){ 3, MR_CMP_DATE };
	o.field[3] = (struct mr_dedupe_field){ 4, MR_CMP_ID };
	o.threads = 2;
	assert_int_equal(mr_dedupe_run(&t, &o, &r, &err), 0);
	assert_int_equal(r.stats.rows, t.nrows);
	assert_true(r.stats.candidates < 20 * t.nrows);
	assert_true(r.model.f[1].m[1] > 0.8); /* phones agree among matches */
	assert_true(r.model.f[1].u[1] < 0.01);
	assert_true(r.model.f[2].m[1] > 0.8);
	truth = malloc(t.nrows * sizeof(*truth));
	mr_dedupe_labels(&t, 0, truth);
	mr_cluster_quality(r.cluster, truth, t.nrows, &q);
	print_message("P %f R %f F1 %f cand %lu m %f %f it %d lambda %f\n", q.precision, q.recall, q.f1, (unsigned long)r.stats.candidates, r.model.f[1].m[1], r.model.f[2].m[1], r.model.iterations, r.model.lambda);
	assert_true(q.precision >= 0.97);
	assert_true(q.recall >= 0.95);
	assert_true(r.stats.clusters + r.stats.matches >= t.nrows); /* a merge joins two clusters at most */
	assert_true(r.stats.multi_clusters > 500);
	assert_true(r.model.converged);
	for (size_t i = 1; i < r.nreview; i++)
		assert_true(r.review[i - 1].prob >= r.review[i].prob);
	/* Phone or licence equality alone: exact, but it misses reformatted-away and missing values. */
	base = malloc(t.nrows * sizeof(*base));
	mr_dedupe_baseline_exact(&t, &o.field[1], 1, base);
	mr_cluster_quality(base, truth, t.nrows, &q);
	assert_float_equal(q.precision, 1.0, 1e-12);
	assert_true(q.recall < 0.9);
	/* A model that does not fit the fields is refused. */
	o.model = &r.model;
	o.field[3].kind = MR_CMP_TEXT;
	mr_dedupe_result_release(&r);
	assert_int_equal(mr_dedupe_run(&t, &o, &r, &err), MR_EINVAL);
	mr_dedupe_result_release(&r);
	free(truth);
	free(base);
	mr_dedupe_table_release(&t);
}

/* A record with only a name would chain two namesakes who clearly differ; the merge is refused. */
static void test_merge_refuses_chaining_namesakes(void **state)
{
	const char *names[4] = { "id", "name", "phone", "birth" };
	const char *rows[3][4] = { { "A", "王伟", "13800000001", "1980-01-01" },
				   { "B", "王伟", "", "" },
				   { "C", "王伟", "13900000002", "1990-05-05" } };
	const enum mr_cmp_kind kinds[3] = { MR_CMP_NAME, MR_CMP_PHONE, MR_CMP_DATE };
	const char *cols[3] = { "name", "phone", "birth" };
	struct mr_dedupe_table t;
	struct mr_dedupe_opts o;
	struct mr_dedupe_result r;
	struct mr_fs_model m;
	struct mr_err err;

	(void)state;
	mr_dedupe_table_init(&t, 4, names);
	for (int i = 0; i < 3; i++)
		mr_dedupe_table_add(&t, rows[i], NULL);
	mr_fs_init(&m, 3, cols, kinds);
	m.lambda = 0.5;
	m.f[0].m[1] = 0.99;     /* name exact: +8 bits */
	m.f[0].u[1] = 0.99 / 256;
	m.f[1].m[4] = 0.01;     /* phone different: about -6.6 bits */
	m.f[1].u[4] = 0.97;
	m.f[2].m[5] = 0.001;    /* birth date different: about -10 bits */
	m.f[2].u[5] = 0.97;
	memset(&o, 0, sizeof(o));
	o.nfields = 3;
	for (int f = 0; f < 3; f++)
		o.field[f] = (struct mr_dedupe_field){ f + 1, kinds[f] };
	o.model = &m;
	assert_int_equal(mr_dedupe_run(&t, &o, &r, &err), 0);
	assert_int_equal(r.stats.candidates, 3);
	assert_int_equal(r.stats.matches, 1);
	assert_int_equal(r.stats.refused, 1);
	assert_int_equal(r.cluster[0], 0);
	assert_int_equal(r.cluster[1], 0); /* A~B first (tie, lower pair), then B~C is refused */
	assert_int_equal(r.cluster[2], 2);
	assert_int_equal(r.nreview, 1);
	assert_int_equal(r.review[0].a, 1);
	assert_int_equal(r.review[0].b, 2);
	mr_dedupe_result_release(&r);
	o.conflict = -1; /* plain transitive closure */
	assert_int_equal(mr_dedupe_run(&t, &o, &r, &err), 0);
	assert_int_equal(r.stats.refused, 0);
	assert_int_equal(r.cluster[2], 0);
	assert_int_equal(r.stats.clusters, 1);
	mr_dedupe_result_release(&r);
	mr_dedupe_table_release(&t);
}

static void test_labels_group_equal_values(void **state)
{
	const char *names[1] = { "truth" };
	const char *vals[6] = { "a", "b", "a", "", NULL, "b" };
	struct mr_dedupe_table t;
	uint32_t label[6];

	(void)state;
	mr_dedupe_table_init(&t, 1, names);
	for (int i = 0; i < 6; i++)
		mr_dedupe_table_add(&t, &vals[i], NULL);
	assert_int_equal(mr_dedupe_table_column(&t, "truth"), 0);
	assert_int_equal(mr_dedupe_table_column(&t, "nope"), -1);
	assert_string_equal(mr_dedupe_cell(&t, 4, 0), "");
	mr_dedupe_labels(&t, 0, label);
	assert_int_equal(label[0], 0);
	assert_int_equal(label[1], 1);
	assert_int_equal(label[2], 0);
	assert_int_equal(label[3], 3); /* empty cells are each their own entity */
	assert_int_equal(label[4], 4);
	assert_int_equal(label[5], 1);
	mr_dedupe_table_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jaro_winkler_known_values),
		cmocka_unit_test(test_name_levels_cjk_and_pinyin),
		cmocka_unit_test(test_phone_normalisation_and_levels),
		cmocka_unit_test(test_date_parse_and_levels),
		cmocka_unit_test(test_tokens_on_chinese_addresses),
		cmocka_unit_test(test_id_exact_number_levels),
		cmocka_unit_test(test_em_recovers_known_m_u),
		cmocka_unit_test(test_blocking_caps_giant_block),
		cmocka_unit_test(test_block_keys_forgive_noise),
		cmocka_unit_test(test_cluster_is_transitive),
		cmocka_unit_test(test_model_json_round_trip),
		cmocka_unit_test(test_score_values_explains_each_field),
		cmocka_unit_test(test_dedupe_pipeline_finds_duplicates),
		cmocka_unit_test(test_merge_refuses_chaining_namesakes),
		cmocka_unit_test(test_labels_group_equal_values),
	};
	return cmocka_run_group_tests_name("identity", tests, NULL, NULL);
}
