/*
 * The learned response models' API (models/models.h, docs/models.md): the
 * versions with their held-out metrics (GET /api/v1/nba/models, /{id} with
 * calibration and coefficients), training on demand (POST .../train),
 * activation (POST .../{id}/activate), the settings (schedule, window,
 * split), one doctor's response propensity per channel and time slot with
 * reasons and the Thompson-sampled arm (GET /api/v1/hcps/{id}/propensity,
 * scoped like the doctor's other routes) and off-policy evaluation of the
 * active models' greedy policy on the platform's own log (POST
 * /api/v1/nba/evaluate). Every write is audited in its transaction.
 */
#include <stdio.h>
#include <string.h>

#include "auth/role.h"
#include "base/json.h"
#include "base/time.h"
#include "http/api_md.h"
#include "http/http.h"
#include "models/models.h"

#define MR_R_MODELS_READ                                                                                   \
	(MR_ROLE_BIT(MR_ROLE_ADMIN) | MR_ROLE_BIT(MR_ROLE_MARKETING) | MR_ROLE_BIT(MR_ROLE_MANAGER) |      \
	 MR_ROLE_BIT(MR_ROLE_ANALYST) | MR_ROLE_BIT(MR_ROLE_COMPLIANCE))
#define MR_R_MODELS_WRITE (MR_ROLE_BIT(MR_ROLE_ADMIN) | MR_ROLE_BIT(MR_ROLE_MARKETING))
#define MR_R_MODELS_EVAL (MR_ROLE_BIT(MR_ROLE_ADMIN) | MR_ROLE_BIT(MR_ROLE_MARKETING) | MR_ROLE_BIT(MR_ROLE_ANALYST))

/* ------------------------------------------------------------ versions */

static int mr_api_models_list(struct mr_req *r, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	json_t *items = json_array();
	int64_t cursor = 0, next = 0;
	int limit = 0;
	int rc = mr_req_paging(r, &limit, &cursor, err);

	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		rc = mr_models_list(c, limit, cursor, items, &next, err);
		mr_req_done_conn(r, c);
	}
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	return mr_reply_json(r, 200, mr_page(items, next));
}

static int mr_api_models_get(struct mr_req *r, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	json_t *out = NULL;
	int64_t id = 0;
	int rc = mr_req_param_id(r, "id", &id, err);

	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		rc = mr_models_get(c, id, &out, err);
		mr_req_done_conn(r, c);
	}
	if (rc < 0)
		return rc;
	return mr_reply_json(r, 200, out);
}

/* ------------------------------------------------------------ training */

struct mr_api_models_train {
	struct mr_req *r;
	struct mr_models_run *run;
};

static int mr_api_models_train_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_api_models_train *j = arg;
	int rc = mr_models_save(c, j->run, err);

	if (rc == 0)
		rc = mr_req_audit(j->r, c, "models.train", "nba_models", "run", 200, NULL, NULL, err);
	return rc;
}

static int mr_api_models_train_req(struct mr_req *r, json_t *body, struct mr_models_train_req *q, struct mr_err *err)
{
	static const char *const allowed[] = { "window_days", "as_of", "split_by", "min_examples", "min_positives",
					       NULL };
	struct mr_models_settings st;
	struct mr_conn *c = NULL;
	const char *as_of = NULL;
	int64_t v = 0;
	int present = 0;
	int rc = mr_json_only(body, allowed, err);

	memset(q, 0, sizeof(*q));
	if (rc == 0)
		rc = mr_json_int(body, "window_days", 0, 1, MR_MODEL_WINDOW_MAX, &v, &present, err);
	q->window_days = (int)v;
	if (rc == 0)
		rc = mr_json_str(body, "as_of", 0, 64, &as_of, err);
	if (rc == 0 && as_of && mr_time_parse(as_of, 8 * 3600, &q->as_of) < 0)
		rc = mr_err_field(err, MR_EINVAL, "as_of", "as_of is an RFC 3339 time");
	if (rc == 0)
		rc = mr_json_int(body, "min_examples", 0, 10, 100000000, &q->min_examples, &present, err);
	if (rc == 0)
		rc = mr_json_int(body, "min_positives", 0, 1, 100000000, &q->min_positives, &present, err);
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		rc = mr_models_settings_get(c, &st, err);
		mr_req_done_conn(r, c);
	}
	if (rc == 0 && !q->window_days)
		q->window_days = st.window_days;
	q->by = r->who.user.login;
	return rc;
}

static int mr_api_models_train(struct mr_req *r, struct mr_err *err)
{
	struct mr_api_models_train j = { r, NULL };
	struct mr_models_train_req q;
	struct mr_models_settings split;
	struct mr_conn *c = NULL;
	json_t *body = NULL, *out = NULL, *sb;
	int rc = r->body.len ? mr_req_json(r, &body, err) : 0;

	if (!body)
		body = json_object();
	sb = json_object_get(body, "split_by");
	memset(&split, 0, sizeof(split));
	if (rc == 0 && sb) { /* checked like the setting */
		json_t *only = json_pack("{s:O}", "split_by", sb);

		rc = mr_models_settings_from_json(only, &split, err);
		json_decref(only);
	}
	if (rc == 0 && sb && !mr_models_split_ok(r->app->models, split.split_by))
		rc = mr_err_field(err, MR_EINVAL, "split_by", "split_by names no profile attribute and no boolean or"
				  " text tag: '%.40s'", split.split_by);
	if (rc == 0) {
		json_object_del(body, "split_by");
		rc = mr_api_models_train_req(r, body, &q, err);
		q.split_by = sb ? split.split_by : NULL;
	}
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		rc = mr_models_train(r->app->models, c, &q, &j.run, err);
		mr_req_done_conn(r, c);
	}
	if (rc == 0)
		rc = mr_req_write(r, mr_api_models_train_fn, &j, err);
	json_decref(body);
	if (rc < 0) {
		mr_models_run_free(j.run);
		return rc;
	}
	out = mr_models_run_json(j.run);
	mr_models_adopt(r->app->models, j.run);
	return mr_reply_json(r, 200, out);
}

/* ------------------------------------------------------------ activation */

struct mr_api_models_act {
	struct mr_req *r;
	int64_t id;
	char ids[24];
};

static int mr_api_models_activate_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_api_models_act *j = arg;
	int rc = mr_models_activate(c, j->id, err);

	if (rc == 0)
		rc = mr_req_audit(j->r, c, "models.activate", "nba_models", j->ids, 200, NULL, NULL, err);
	return rc;
}

static int mr_api_models_activate(struct mr_req *r, struct mr_err *err)
{
	struct mr_api_models_act j = { r, 0, "" };
	struct mr_conn *c = NULL;
	json_t *out = NULL;
	int rc = mr_req_param_id(r, "id", &j.id, err);

	snprintf(j.ids, sizeof(j.ids), "%lld", (long long)j.id);
	if (rc == 0)
		rc = mr_req_write(r, mr_api_models_activate_fn, &j, err);
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		rc = mr_models_load(r->app->models, c, err);
		if (rc == 0)
			rc = mr_models_get(c, j.id, &out, err);
		mr_req_done_conn(r, c);
	}
	if (rc < 0)
		return rc;
	return mr_reply_json(r, 200, out);
}

/* ------------------------------------------------------------ settings */

static int mr_api_models_settings_read(struct mr_req *r, struct mr_models_settings *s, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	int rc = mr_req_conn(r, &c, err);

	if (rc == 0) {
		rc = mr_models_settings_get(c, s, err);
		mr_req_done_conn(r, c);
	}
	return rc;
}

static int mr_api_models_settings_get(struct mr_req *r, struct mr_err *err)
{
	struct mr_models_settings s;
	int rc = mr_api_models_settings_read(r, &s, err);

	return rc < 0 ? rc : mr_reply_json(r, 200, mr_models_settings_json(&s));
}

struct mr_api_models_set {
	struct mr_req *r;
	struct mr_models_settings s;
};

static int mr_api_models_settings_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_api_models_set *j = arg;
	int rc = mr_models_settings_put(c, &j->s, j->r->who.user.login, mr_now_us(), err);

	if (rc == 0)
		rc = mr_req_audit(j->r, c, "models.settings", "nba_model_settings", "1", 200, NULL, NULL, err);
	return rc;
}

static int mr_api_models_settings_put(struct mr_req *r, struct mr_err *err)
{
	struct mr_api_models_set j;
	json_t *body = NULL;
	int rc;

	j.r = r;
	rc = mr_api_models_settings_read(r, &j.s, err);
	if (rc == 0)
		rc = mr_req_json(r, &body, err);
	if (rc == 0)
		rc = mr_models_settings_from_json(body, &j.s, err);
	json_decref(body);
	if (rc == 0 && !mr_models_split_ok(r->app->models, j.s.split_by))
		rc = mr_err_field(err, MR_EINVAL, "split_by", "split_by names no profile attribute and no boolean or"
				  " text tag: '%.40s'", j.s.split_by);
	if (rc == 0)
		rc = mr_req_write(r, mr_api_models_settings_fn, &j, err);
	if (rc < 0)
		return rc;
	mr_models_settings_changed(r->app->models);
	return mr_reply_json(r, 200, mr_models_settings_json(&j.s));
}

/* ------------------------------------------------------------ propensity and evaluation */

/* ?channels=phone,wechat as a mask of model channels (0: all). */
static int mr_api_models_channels(struct mr_req *r, unsigned *mask, struct mr_err *err)
{
	const char *list = NULL;
	int rc = mr_req_query(r, "channels", &list, err);

	*mask = 0;
	while (rc == 0 && list && *list) {
		const char *comma = strchr(list, ',');
		size_t len = comma ? (size_t)(comma - list) : strlen(list);
		char name[32];
		int mc;

		snprintf(name, sizeof(name), "%.*s", (int)(len < sizeof(name) ? len : sizeof(name) - 1), list);
		mc = mr_model_channel_parse(name);
		if (mc < 0)
			return mr_err_field(err, MR_EINVAL, "channels", "channels lists phone, wechat, wecom, email or"
					    " meeting_online, not '%.31s'", name);
		*mask |= 1u << mc;
		list = comma ? comma + 1 : list + len;
	}
	return rc;
}

/* The Thompson-sampled arm (what serving would log) as JSON, or null when no channel asked has a model. */
static json_t *mr_api_models_choice(struct mr_req *r, int64_t id, int64_t as_of, unsigned mask)
{
	struct mr_choice ch;
	struct mr_err e;

	mr_err_clear(&e);
	if (mr_models_choose(r->app->models, id, as_of, mask, &ch, &e) < 0)
		return json_null();
	return json_pack("{s:s, s:i, s:s, s:s, s:f, s:f, s:s, s:s, s:i, s:s}", "channel", mr_model_channel_name(ch.mc),
			 "slot", ch.slot, "weekday", mr_model_weekday_name(ch.slot / MR_MODEL_BANDS), "band",
			 mr_model_band_name(ch.slot % MR_MODEL_BANDS), "p", ch.score.p, "probability", ch.probability,
			 "model_version", ch.score.version, "reason", ch.score.reason, "draws", 200, "method",
			 "Thompson sampling: Beta(1 + 10p + responses, 1 + 10(1 - p) + non-responses) per arm,"
			 " seeded per doctor and day");
}

static int mr_api_models_propensity(struct mr_req *r, struct mr_err *err)
{
	const char *ext = mr_req_param(r, "id");
	struct mr_conn *c = NULL;
	int64_t as_of = 0, id = 0;
	unsigned mask = 0;
	json_t *out = NULL;
	int rc = mr_req_query_time(r, "as_of", &as_of, err);

	if (rc == 0)
		rc = mr_api_models_channels(r, &mask, err);
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		rc = mr_api_hcp_ref(r, c, ext, 0, &id, err);
		mr_req_done_conn(r, c);
	}
	if (!as_of)
		as_of = mr_now_us();
	if (rc == 0)
		rc = mr_models_propensity(r->app->models, id, as_of, &out, err);
	if (rc < 0)
		return rc;
	json_object_set_new(out, "hcp", json_string(ext));
	json_object_set_new(out, "thompson", mr_api_models_choice(r, id, as_of, mask));
	return mr_reply_json(r, 200, out);
}

static int mr_api_models_evaluate(struct mr_req *r, struct mr_err *err)
{
	static const char *const allowed[] = { "window_days", "as_of", NULL };
	const char *as_of_s = NULL;
	int64_t days = 0, as_of = 0;
	int present = 0;
	json_t *body = NULL, *out = NULL;
	int rc = r->body.len ? mr_req_json(r, &body, err) : 0;

	if (!body)
		body = json_object();
	if (rc == 0)
		rc = mr_json_only(body, allowed, err);
	if (rc == 0)
		rc = mr_json_int(body, "window_days", 0, 1, MR_MODEL_WINDOW_MAX, &days, &present, err);
	if (rc == 0)
		rc = mr_json_str(body, "as_of", 0, 64, &as_of_s, err);
	if (rc == 0 && as_of_s && mr_time_parse(as_of_s, 8 * 3600, &as_of) < 0)
		rc = mr_err_field(err, MR_EINVAL, "as_of", "as_of is an RFC 3339 time");
	if (rc == 0)
		rc = mr_models_evaluate(r->app->models, present ? (int)days : 30, as_of ? as_of : mr_now_us(), &out, err);
	json_decref(body);
	if (rc < 0)
		return rc;
	return mr_reply_json(r, 200, out);
}

const struct mr_route mr_routes_models[] = {
	{ "GET", "/api/v1/nba/models", mr_api_models_list, MR_R_MODELS_READ, 0,
	  "Response-model versions per channel and category, newest first, with held-out metrics (?limit=&cursor=)",
	  "models", 0 },
	{ "GET", "/api/v1/nba/models/settings", mr_api_models_settings_get, MR_R_MODELS_READ, 0,
	  "The models' settings: scheduled retrain, window, split attribute, category thresholds", "models", 0 },
	{ "PUT", "/api/v1/nba/models/settings", mr_api_models_settings_put, MR_R_MODELS_WRITE,
	  MR_ROUTE_BODY | MR_ROUTE_OK200,
	  "Changes the models' settings {schedule: off|daily, hour, window_days, split_by, min_examples,"
	  " min_positives}", "models", 4096 },
	{ "POST", "/api/v1/nba/models/train", mr_api_models_train, MR_R_MODELS_WRITE, MR_ROUTE_BODY | MR_ROUTE_OK200,
	  "Trains every channel's models on the event log {window_days, as_of, split_by, min_examples,"
	  " min_positives}; the new versions become active; returns them and took_ms", "models", 4096 },
	{ "GET", "/api/v1/nba/models/{id}", mr_api_models_get, MR_R_MODELS_READ, 0,
	  "A model version with its calibration by decile and its coefficients", "models", 0 },
	{ "POST", "/api/v1/nba/models/{id}/activate", mr_api_models_activate, MR_R_MODELS_WRITE, MR_ROUTE_OK200,
	  "Makes a version the active one of its channel and category", "models", 0 },
	{ "GET", "/api/v1/hcps/{id}/propensity", mr_api_models_propensity, MR_ROLES_ALL, 0,
	  "An HCP's response probability per channel and time slot (?as_of=), the model version, reasons in"
	  " words and the Thompson-sampled arm with its probability (over ?channels=phone,wechat,...)", "models", 0 },
	{ "POST", "/api/v1/nba/evaluate", mr_api_models_evaluate, MR_R_MODELS_EVAL, MR_ROUTE_BODY | MR_ROUTE_OK200,
	  "Off-policy estimates (IPS, SNIPS, DR with 95% intervals) of the active models' greedy policy on the"
	  " logged attempts {window_days, as_of}", "models", 4096 },
	{ 0 },
};
