/*
 * Unit tests of src/models: time slots (weekday × hour band in Beijing
 * time, across the UTC day line), labels by channel, feature extraction
 * without leakage (an example's features ignore its own event, events at
 * the same moment and everything later; the 90-day counts expire), AUC
 * and log loss against hand computations, a planted preference (doctors
 * who answer only in the afternoon) learned, category models that beat the
 * global one where their category differs and are not trained where it is
 * thin (the fallback), Thompson sampling (probabilities sum to 1, the
 * same seed gives the same answer), and the versions in the store on both
 * backends (save, list, activate, read back).
 */
#include "unit.h"

#include <jansson.h>
#include <math.h>

#include "base/time.h"
#include "event/event.h"
#include "models/models_int.h"

#define assert_double_equal(a, b, eps) assert_near((a), (b), (eps), #a, __LINE__)

static void assert_near(double got, double want, double eps, const char *what, int line)
{
	if (!(fabs(got - want) <= eps))
		fail_msg("line %d: %s is %.17g, not %.17g", line, what, got, want);
}

static int64_t T(const char *s)
{
	int64_t us = 0;

	assert_int_equal(mr_time_parse(s, 0, &us), 0);
	return us;
}

static const int64_t DAY = INT64_C(86400000000);

/* ------------------------------------------------------------ slots and labels */

static void test_slots(void **state)
{
	(void)state;
	/* 2024-03-05 is a Tuesday (weekday 1) */
	assert_int_equal(mr_model_slot_of(T("2024-03-05T09:12:00+08:00")), 1 * 4 + 0);
	assert_int_equal(mr_model_slot_of(T("2024-03-05T12:00:00+08:00")), 1 * 4 + 1);
	assert_int_equal(mr_model_slot_of(T("2024-03-05T15:00:00+08:00")), 1 * 4 + 2);
	assert_int_equal(mr_model_slot_of(T("2024-03-05T17:59:59+08:00")), 1 * 4 + 2);
	assert_int_equal(mr_model_slot_of(T("2024-03-05T18:00:00+08:00")), 1 * 4 + 3);
	assert_int_equal(mr_model_slot_of(T("2024-03-05T07:00:00+08:00")), 1 * 4 + 0); /* early folds into 08-12 */
	assert_int_equal(mr_model_slot_of(T("2024-03-05T23:30:00+08:00")), 1 * 4 + 3); /* late into 18-21 */
	/* 17:00 UTC on Tuesday is 01:00 on Wednesday in Beijing */
	assert_int_equal(mr_model_slot_of(T("2024-03-05T17:00:00Z")), 2 * 4 + 0);
	/* Sunday afternoon: the last weekday */
	assert_int_equal(mr_model_slot_of(T("2024-03-10T15:00:00+08:00")), 6 * 4 + 2);
	assert_string_equal(mr_model_weekday_name(1), "Tuesday");
	assert_string_equal(mr_model_band_name(2), "14-18");
}

static void test_labels(void **state)
{
	(void)state;
	assert_int_equal(mr_model_channel_of(MR_CH_PHONE), MR_MC_PHONE);
	assert_int_equal(mr_model_channel_of(MR_CH_MEETING_ONLINE), MR_MC_MEETING);
	assert_int_equal(mr_model_channel_of(MR_CH_VISIT), -1);
	assert_int_equal(mr_model_channel_of(MR_CH_CONTENT), -1);
	/* phone: no_answer < answered < successful < effective; answered or better responds */
	assert_false(mr_model_label(MR_MC_PHONE, mr_outcome_parse(MR_CH_PHONE, "no_answer")));
	assert_true(mr_model_label(MR_MC_PHONE, mr_outcome_parse(MR_CH_PHONE, "answered")));
	assert_true(mr_model_label(MR_MC_PHONE, mr_outcome_parse(MR_CH_PHONE, "effective")));
	/* messages: only responded */
	assert_false(mr_model_label(MR_MC_WECHAT, mr_outcome_parse(MR_CH_WECHAT, "read")));
	assert_true(mr_model_label(MR_MC_WECHAT, mr_outcome_parse(MR_CH_WECHAT, "responded")));
	assert_false(mr_model_label(MR_MC_EMAIL, mr_outcome_parse(MR_CH_EMAIL, "delivered")));
	assert_true(mr_model_label(MR_MC_WECOM, mr_outcome_parse(MR_CH_WECOM, "responded")));
	/* invitations: registered or attended */
	assert_false(mr_model_label(MR_MC_MEETING, mr_outcome_parse(MR_CH_MEETING_ONLINE, "invited")));
	assert_true(mr_model_label(MR_MC_MEETING, mr_outcome_parse(MR_CH_MEETING_ONLINE, "registered")));
	assert_int_equal(mr_model_channel_parse("wechat"), MR_MC_WECHAT);
	assert_int_equal(mr_model_channel_parse("fax"), -1);
}

/* ------------------------------------------------------------ features */

static struct mr_evitem item(int64_t seq, int64_t ts, int channel, const char *outcome)
{
	struct mr_evitem e;

	memset(&e, 0, sizeof(e));
	e.seq = seq;
	e.ts = ts;
	e.channel = (uint8_t)channel;
	e.outcome = (uint8_t)mr_outcome_parse(channel, outcome);
	return e;
}

/* The features of attempt k of items (at its time, in its slot). */
static void features_at(const struct mr_evitem *items, uint32_t n, uint32_t k, double *x)
{
	struct mr_model_walk w;
	struct mr_model_attrs a = { 2, -1, 2 };

	mr_model_walk_init(&w, items, n);
	mr_model_walk_to(&w, items[k].ts);
	mr_model_features(&w.s, items[k].ts, mr_model_channel_of(items[k].channel), mr_model_slot_of(items[k].ts), &a, x);
}

static void test_no_leakage(void **state)
{
	int64_t d0 = T("2024-03-04T09:00:00+08:00"); /* a Monday morning */
	struct mr_evitem it[6] = {
		item(1, d0, MR_CH_PHONE, "answered"),
		item(2, d0 + DAY + 6 * 3600 * INT64_C(1000000), MR_CH_PHONE, "no_answer"),  /* Tue 15:00 */
		item(3, d0 + 2 * DAY + 6 * 3600 * INT64_C(1000000), MR_CH_PHONE, "answered"), /* Wed 15:00: the example */
		item(4, d0 + 2 * DAY + 6 * 3600 * INT64_C(1000000), MR_CH_PHONE, "answered"), /* the same moment */
		item(5, d0 + 3 * DAY, MR_CH_WECHAT, "responded"),
		item(6, d0 + 4 * DAY, MR_CH_VISIT, "completed"),
	};
	double x[MR_MF_NFEAT], x2[MR_MF_NFEAT];

	(void)state;
	features_at(it, 6, 2, x);
	/* two earlier calls, one answered: (1 + 1) / (2 + 2) */
	assert_double_equal(x[MR_MF_CH + 3 * MR_MC_PHONE], log1p(2), 1e-12);
	assert_double_equal(x[MR_MF_CH + 3 * MR_MC_PHONE + 1], 0.5, 1e-12);
	/* the last call a day before: e^(−1/30) */
	assert_double_equal(x[MR_MF_CH + 3 * MR_MC_PHONE + 2], exp(-1.0 / 30), 1e-12);
	/* in the 14-18 band: one earlier call, not answered: (0 + 1) / (1 + 2) */
	assert_double_equal(x[MR_MF_BANDRATE], 1.0 / 3, 1e-12);
	/* nothing on WeChat yet (the later response is not seen) */
	assert_double_equal(x[MR_MF_CH + 3 * MR_MC_WECHAT], 0, 0);
	assert_double_equal(x[MR_MF_CH + 3 * MR_MC_WECHAT + 1], 0.5, 0);
	assert_double_equal(x[MR_MF_CH + 3 * MR_MC_WECHAT + 2], 0, 0);
	assert_double_equal(x[MR_MF_OTHER], 0, 0);
	assert_double_equal(x[MR_MF_WEEKDAY + 2], 1, 0);
	assert_double_equal(x[MR_MF_BAND + 2], 1, 0);
	assert_double_equal(x[MR_MF_SPEC + 2], 1, 0);
	assert_double_equal(x[MR_MF_LEVEL + 2], 1, 0);
	/* the example's own outcome, the same-moment event's and every later one change nothing */
	it[2].outcome = (uint8_t)mr_outcome_parse(MR_CH_PHONE, "no_answer");
	it[3].outcome = (uint8_t)mr_outcome_parse(MR_CH_PHONE, "no_answer");
	it[4].outcome = (uint8_t)mr_outcome_parse(MR_CH_WECHAT, "sent");
	it[5].channel = MR_CH_PHONE;
	features_at(it, 6, 2, x2);
	assert_memory_equal(x, x2, sizeof(x));
}

static void test_window_expiry(void **state)
{
	int64_t d0 = T("2024-01-01T10:00:00+08:00");
	struct mr_evitem it[3] = {
		item(1, d0, MR_CH_PHONE, "answered"),
		item(2, d0 + 10 * DAY, MR_CH_CONTENT, "viewed"),
		item(3, d0 + 95 * DAY, MR_CH_PHONE, "answered"),
	};
	struct mr_model_walk w;

	(void)state;
	mr_model_walk_init(&w, it, 3);
	mr_model_walk_to(&w, d0 + 89 * DAY);
	assert_int_equal(w.s.att90[MR_MC_PHONE], 1);
	assert_int_equal(w.s.other90, 1);
	mr_model_walk_to(&w, d0 + 95 * DAY);
	/* the first call left the 90 days; it still counts in the all-time rate */
	assert_int_equal(w.s.att90[MR_MC_PHONE], 0);
	assert_int_equal(w.s.att[MR_MC_PHONE], 1);
	assert_int_equal(w.s.pos[MR_MC_PHONE], 1);
	assert_int_equal(w.s.other90, 1);
	mr_model_walk_to(&w, d0 + 101 * DAY);
	assert_int_equal(w.s.other90, 0);
	assert_int_equal(w.s.att[MR_MC_PHONE], 2);
}

/* ------------------------------------------------------------ metrics */

static void test_metrics(void **state)
{
	double p[4] = { 0.1, 0.4, 0.35, 0.8 }, y[4] = { 0, 0, 1, 1 };
	double tp[2] = { 0.5, 0.5 }, ty[2] = { 0, 1 }, one[2] = { 1, 1 };
	struct mr_model_metrics m;

	(void)state;
	mr_model_metrics(p, y, 4, &m);
	/* pairs (pos, neg): (.35,.1) ✓ (.35,.4) ✗ (.8,.1) ✓ (.8,.4) ✓ → 3/4 */
	assert_double_equal(m.auc, 0.75, 1e-12);
	/* −(ln .9 + ln .6 + ln .35 + ln .8) / 4 = (0.1053605 + 0.5108256 + 1.0498221 + 0.2231436) / 4 */
	assert_double_equal(m.log_loss, 0.4722879, 1e-6);
	/* (.01 + .16 + .4225 + .04) / 4 */
	assert_double_equal(m.brier, 0.158125, 1e-12);
	assert_int_equal(m.positives, 2);
	assert_int_equal(m.nbins, 4);
	assert_double_equal(m.bin_pred[0], 0.1, 1e-12);
	assert_double_equal(m.bin_obs[3], 1, 0);
	mr_model_metrics(tp, ty, 2, &m);
	assert_double_equal(m.auc, 0.5, 1e-12); /* a tie is half a win */
	mr_model_metrics(tp, one, 2, &m);
	assert_true(isnan(m.auc));
}

/* ------------------------------------------------------------ training */

/*
 * ndoc doctors of category cat, each called 40 times over 80 days from
 * `from`, cycling the four bands; a call is answered iff it falls in band
 * `good` (with no history features: each example's state is empty, so
 * only the slot and the category can explain the outcome).
 */
static void add_doctors(struct mr_model_set *s, int ndoc, int cat, int good, int64_t from)
{
	static const int hours[4] = { 9, 13, 15, 19 };
	struct mr_model_state empty;
	double x[MR_MF_NFEAT];

	memset(&empty, 0, sizeof(empty));
	for (int d = 0; d < ndoc; d++) {
		for (int k = 0; k < 40; k++) {
			int band = (k + d) % 4;
			int64_t ts = from + (int64_t)(k * 2) * DAY + (int64_t)hours[band] * 3600 * INT64_C(1000000);
			struct mr_model_attrs a = { -1, -1, -1 };
			int slot = mr_model_slot_of(ts);

			mr_model_features(&empty, ts, MR_MC_PHONE, slot, &a, x);
			mr_model_set_add(s, x, slot % 4 == good, ts, cat);
		}
	}
}

static double p_at(const struct mr_model *m, int slot)
{
	struct mr_model_state empty;
	double x[MR_MF_NFEAT];

	memset(&empty, 0, sizeof(empty));
	mr_model_features(&empty, 0, MR_MC_PHONE, slot, NULL, x);
	return mr_model_predict(m, x);
}

static void free_models(struct mr_model **ms, int n)
{
	for (int i = 0; i < n; i++)
		mr_model_free(ms[i]);
	free(ms);
}

static void test_planted(void **state)
{
	int64_t from = T("2024-01-01T00:00:00+08:00");
	struct mr_model_set s;
	struct mr_model_train_opts o;
	struct mr_model **ms = NULL;
	const char *why = NULL;
	struct mr_err err;
	int n = 0;

	(void)state;
	mr_err_clear(&err);
	mr_model_set_init(&s);
	add_doctors(&s, 50, -1, 2, from); /* afternoon people */
	memset(&o, 0, sizeof(o));
	o.from = from;
	o.to = from + 80 * DAY;
	o.run = 7;
	assert_int_equal(mr_model_train_channel(MR_MC_PHONE, &s, &o, &ms, &n, &why, &err), 0);
	assert_null(why);
	assert_int_equal(n, 1);
	assert_string_equal(ms[0]->version, "phone/global/v7");
	/* the afternoon slot ≫ the morning one, on any weekday */
	assert_true(p_at(ms[0], 1 * 4 + 2) > 0.8);
	assert_true(p_at(ms[0], 1 * 4 + 0) < 0.2);
	assert_true(p_at(ms[0], 5 * 4 + 2) > 4 * p_at(ms[0], 5 * 4 + 3));
	/* trained on the first 80% of the window, measured on the last 20% */
	assert_int_equal(ms[0]->examples + ms[0]->holdout.n, s.n);
	assert_true(ms[0]->holdout.auc > 0.95);
	free_models(ms, n);
	mr_model_set_release(&s);
}

static void test_categories(void **state)
{
	int64_t from = T("2024-01-01T00:00:00+08:00");
	const char *cats[3] = { "cardiology", "endocrinology", "oncology" };
	struct mr_model_set s;
	struct mr_model_train_opts o;
	struct mr_model **ms = NULL;
	struct mr_err err;
	int n = 0;

	(void)state;
	mr_err_clear(&err);
	mr_model_set_init(&s);
	add_doctors(&s, 30, 0, 2, from); /* cardiologists answer in the afternoon */
	add_doctors(&s, 30, 1, 0, from); /* endocrinologists in the morning */
	add_doctors(&s, 2, 2, 3, from);  /* two oncologists: 80 calls, too few */
	memset(&o, 0, sizeof(o));
	o.from = from;
	o.to = from + 80 * DAY;
	o.run = 1;
	o.split_by = "specialty";
	o.cats = cats;
	o.ncats = 3;
	o.min_examples = 500;
	o.min_positives = 50;
	assert_int_equal(mr_model_train_channel(MR_MC_PHONE, &s, &o, &ms, &n, NULL, &err), 0);
	assert_int_equal(n, 3); /* global, cardiology, endocrinology; oncology falls back */
	assert_null(ms[0]->category);
	assert_string_equal(ms[1]->category, "cardiology");
	assert_string_equal(ms[1]->version, "phone/specialty=cardiology/v1");
	assert_string_equal(ms[2]->category, "endocrinology");
	for (int i = 1; i < 3; i++) {
		assert_true(ms[i]->beats_global);
		assert_true(ms[i]->holdout.log_loss < ms[i]->global_log_loss);
	}
	/* the category models learned their own slot; the global one cannot tell them apart */
	assert_true(p_at(ms[1], 2) > 0.8 && p_at(ms[1], 0) < 0.2);
	assert_true(p_at(ms[2], 0) > 0.8 && p_at(ms[2], 2) < 0.2);
	assert_true(fabs(p_at(ms[0], 0) - p_at(ms[0], 2)) < 0.3);
	free_models(ms, n);
	mr_model_set_release(&s);
}

static void test_too_thin(void **state)
{
	int64_t from = T("2024-01-01T00:00:00+08:00");
	struct mr_model_set s;
	struct mr_model_train_opts o;
	struct mr_model **ms = NULL;
	const char *why = NULL;
	struct mr_err err;
	int n = 0;

	(void)state;
	mr_err_clear(&err);
	mr_model_set_init(&s);
	memset(&o, 0, sizeof(o));
	o.from = from;
	o.to = from + 80 * DAY;
	assert_int_equal(mr_model_train_channel(MR_MC_EMAIL, &s, &o, &ms, &n, &why, &err), 0);
	assert_int_equal(n, 0);
	assert_non_null(strstr(why, "too few"));
	mr_model_set_release(&s);
}

/* ------------------------------------------------------------ exploration */

static void test_thompson(void **state)
{
	double p[5] = { 0.1, 0.5, 0.45, 0.2, 0.9 }, pos[5] = { 0, 2, 1, 0, 8 }, neg[5] = { 3, 2, 1, 0, 1 };
	double prob[5], prob2[5], sum = 0;
	int a, b;

	(void)state;
	a = mr_model_thompson(p, pos, neg, 5, 10, mr_model_seed(42, T("2024-03-05T10:00:00+08:00")), prob);
	for (int i = 0; i < 5; i++)
		sum += prob[i];
	assert_double_equal(sum, 1, 1e-9);
	assert_true(prob[a] > 0);
	assert_true(prob[4] > 0.8); /* the clear favourite wins most draws */
	/* the same doctor later the same day: the same draws */
	b = mr_model_thompson(p, pos, neg, 5, 10, mr_model_seed(42, T("2024-03-05T21:00:00+08:00")), prob2);
	assert_int_equal(a, b);
	assert_memory_equal(prob, prob2, sizeof(prob));
	/* another day draws again */
	assert_true(mr_model_seed(42, T("2024-03-06T10:00:00+08:00")) != mr_model_seed(42, T("2024-03-05T10:00:00+08:00")));
	assert_true(mr_model_seed(43, T("2024-03-05T10:00:00+08:00")) != mr_model_seed(42, T("2024-03-05T10:00:00+08:00")));
	/* equal arms share the draws */
	{
		double q[2] = { 0.5, 0.5 }, pr[2];

		mr_model_thompson(q, NULL, NULL, 2, 10, 7, pr);
		assert_double_equal(pr[0], 0.5, 1e-9);
		assert_double_equal(pr[1], 0.5, 1e-9);
	}
	/*
	 * the probabilities are the posteriors': p 0.2 and 0.5 at strength 10 are Beta(3, 9) and Beta(6, 6),
	 * and P(Beta(3, 9) > Beta(6, 6)) = 0.0913 (numerical integration of f_X(x) F_Y(x) on 200,000
	 * points); with the doctor's 4 responses in 4 on the first arm it is Beta(7, 9) against Beta(6, 6):
	 * P = 0.3681 (the same integration)
	 */
	{
		double q[2] = { 0.2, 0.5 }, pr[2], won = 0, pos1[2] = { 4, 0 };
		int n = 4000;

		mr_model_thompson(q, NULL, NULL, 2, 10, 11, pr);
		assert_double_equal(pr[0], 0.0913, 0.0005);
		mr_model_thompson(q, pos1, NULL, 2, 10, 11, pr);
		assert_double_equal(pr[0], 0.3681, 0.0005);
		/* and the choices follow them: over 4,000 seeds the first arm is chosen 36.81% ± 0.76% (1 sd) */
		for (int i = 0; i < n; i++)
			won += mr_model_thompson(q, pos1, NULL, 2, 10, (uint64_t)i * 7919, pr) == 0;
		assert_double_equal(won / n, 0.3681, 0.03);
	}
}

/* ------------------------------------------------------------ the store */

static int save_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	return mr_models_save(c, arg, err);
}

static int activate_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	return mr_models_activate(c, *(int64_t *)arg, err);
}

static void test_rows(void **state)
{
	int pg = mr_test_backend(state);
	int64_t from = T("2024-01-01T00:00:00+08:00");
	const char *cats[1] = { "cardiology" };
	struct mr_test_db db;
	struct mr_model_set s;
	struct mr_model_train_opts o;
	struct mr_models_run run;
	struct mr_model **act = NULL;
	struct mr_conn *c = NULL;
	struct mr_err err;
	json_t *items = json_array(), *one = NULL;
	int nact = 0;
	int64_t first_id;

	mr_err_clear(&err);
	mr_test_db_open(&db, pg);
	mr_model_set_init(&s);
	add_doctors(&s, 30, 0, 2, from);
	memset(&o, 0, sizeof(o));
	o.from = from;
	o.to = from + 80 * DAY;
	o.split_by = "specialty";
	o.cats = cats;
	o.ncats = 1;
	memset(&run, 0, sizeof(run));
	for (int r = 1; r <= 2; r++) {
		o.run = r;
		run.n = 0;
		run.models = NULL;
		assert_int_equal(mr_model_train_channel(MR_MC_PHONE, &s, &o, &run.models, &run.n, NULL, &err), 0);
		assert_int_equal(run.n, 2);
		assert_int_equal(mr_store_write(db.store, save_fn, &run, &err), 0);
		assert_true(run.models[0]->id > 0);
		if (r == 1)
			first_id = run.models[0]->id;
		free_models(run.models, run.n);
	}
	assert_int_equal(mr_store_acquire(db.store, &c, &err), 0);
	{
		int64_t next = 0;
		json_t *page = json_array();

		assert_int_equal(mr_models_list(c, 50, 0, items, &next, &err), 0);
		assert_int_equal(json_array_size(items), 4);
		assert_int_equal(next, 0);
		/* pages of three, newest first, then the last one */
		assert_int_equal(mr_models_list(c, 3, 0, page, &next, &err), 0);
		assert_int_equal(json_array_size(page), 3);
		assert_int_equal(next, json_integer_value(json_object_get(json_array_get(page, 2), "id")));
		json_array_clear(page);
		assert_int_equal(mr_models_list(c, 3, next, page, &next, &err), 0);
		assert_int_equal(json_array_size(page), 1);
		assert_int_equal(next, 0);
		json_decref(page);
	}
	/* the newer run replaced the older family */
	assert_int_equal(mr_models_read_active(c, &act, &nact, &err), 0);
	assert_int_equal(nact, 2);
	assert_string_equal(act[0]->version, "phone/global/v2");
	assert_true(act[0]->lm.w != NULL);
	free_models(act, nact);
	mr_store_release(db.store, c);
	assert_int_equal(mr_store_write(db.store, activate_fn, &first_id, &err), 0);
	assert_int_equal(mr_store_acquire(db.store, &c, &err), 0);
	assert_int_equal(mr_models_read_active(c, &act, &nact, &err), 0);
	assert_int_equal(nact, 2); /* v1's global, v2's cardiology model */
	assert_string_equal(act[0]->version, "phone/global/v1");
	free_models(act, nact);
	assert_int_equal(mr_models_get(c, first_id, &one, &err), 0);
	assert_int_equal(json_array_size(json_object_get(one, "calibration")), 10);
	assert_int_equal(json_array_size(json_object_get(one, "coefficients")), MR_MF_NFEAT + 1);
	json_decref(one);
	assert_int_equal(mr_models_get(c, 999999, &one, &err), MR_ENOTFOUND);
	mr_store_release(db.store, c);
	first_id = 999999;
	assert_int_equal(mr_store_write(db.store, activate_fn, &first_id, &err), MR_ENOTFOUND);
	json_decref(items);
	mr_model_set_release(&s);
	mr_test_db_close(&db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_no_leakage),
		cmocka_unit_test(test_window_expiry),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_planted),
		cmocka_unit_test(test_categories),
		cmocka_unit_test(test_too_thin),
		cmocka_unit_test(test_thompson),
		MR_TEST_BOTH(test_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
