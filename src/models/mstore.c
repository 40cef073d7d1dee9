/*
 * The response models in the store (016_models.sql): the settings row,
 * saving a training run's versions (which replaces the active family of
 * each channel it trained), the list of versions, one version with its
 * calibration and coefficients, activation, and reading the active
 * versions back into memory.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/mem.h"
#include "base/time.h"
#include "engine/profile.h"
#include "models/models_int.h"

json_t *mr_models_num(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

/* ------------------------------------------------------------ settings */

static void mr_models_settings_defaults(struct mr_models_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->hour = 2;
	s->window_days = 180;
	snprintf(s->split_by, sizeof(s->split_by), "specialty");
	s->min_examples = 500;
	s->min_positives = 50;
}

/* A profile attribute (not the hospital's id), or what a tag's name looks like ([a-z][a-z0-9_]*). */
static int mr_models_split_name(const char *s)
{
	int attr = mr_profile_attr_of(s);

	if (attr >= 0)
		return attr != MR_PA_HCO;
	if (*s < 'a' || *s > 'z')
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return 1;
}

int mr_models_settings_from_json(json_t *body, struct mr_models_settings *s, struct mr_err *err)
{
	static const char *const allowed[] = { "schedule", "hour", "window_days", "split_by", "min_examples",
					       "min_positives", NULL };
	const char *schedule = NULL, *split = NULL;
	int64_t v = 0;
	int present = 0;
	int rc = mr_json_only(body, allowed, err);

	if (rc == 0)
		rc = mr_json_str(body, "schedule", 0, 16, &schedule, err);
	if (rc == 0 && schedule && strcmp(schedule, "off") != 0 && strcmp(schedule, "daily") != 0)
		rc = mr_err_field(err, MR_EINVAL, "schedule", "schedule is \"off\" or \"daily\"");
	if (rc == 0 && schedule)
		s->schedule_daily = strcmp(schedule, "daily") == 0;
	if (rc == 0)
		rc = mr_json_int(body, "hour", 0, 0, 23, &v, &present, err);
	if (rc == 0 && present)
		s->hour = (int)v;
	if (rc == 0)
		rc = mr_json_int(body, "window_days", 0, 1, MR_MODEL_WINDOW_MAX, &v, &present, err);
	if (rc == 0 && present)
		s->window_days = (int)v;
	if (rc == 0)
		rc = mr_json_int(body, "min_examples", 0, 10, 100000000, &v, &present, err);
	if (rc == 0 && present)
		s->min_examples = v;
	if (rc == 0)
		rc = mr_json_int(body, "min_positives", 0, 1, 100000000, &v, &present, err);
	if (rc == 0 && present)
		s->min_positives = v;
	if (rc == 0)
		rc = mr_json_str(body, "split_by", 0, 31, &split, err);
	if (rc == 0 && split && *split && !mr_models_split_name(split))
		rc = mr_err_field(err, MR_EINVAL, "split_by", "split_by is a profile attribute (specialty, title,"
				  " department, gender, hco.grade, hco.level, hco.city_tier, region, ...), a boolean or text"
				  " tag, or \"\" for none, not '%.40s'", split);
	if (rc == 0 && split)
		snprintf(s->split_by, sizeof(s->split_by), "%s", split);
	return rc;
}

json_t *mr_models_settings_json(const struct mr_models_settings *s)
{
	return json_pack("{s:s, s:i, s:i, s:s, s:I, s:I}", "schedule", s->schedule_daily ? "daily" : "off", "hour",
			 s->hour, "window_days", s->window_days, "split_by", s->split_by, "min_examples",
			 (json_int_t)s->min_examples, "min_positives", (json_int_t)s->min_positives);
}

int mr_models_settings_get(struct mr_conn *c, struct mr_models_settings *s, struct mr_err *err)
{
	struct mr_rows *r = NULL;
	int rc = mr_conn_query(c, "SELECT body FROM nba_model_settings WHERE id = 1", NULL, 0, &r, err);

	mr_models_settings_defaults(s);
	if (rc == 0)
		rc = mr_rows_next(r, err);
	if (rc == 1) {
		json_t *body = json_loads(mr_rows_text(r, 0), 0, NULL);

		rc = body ? mr_models_settings_from_json(body, s, err) : 0;
		json_decref(body);
	}
	mr_rows_close(r);
	return rc < 0 ? rc : 0;
}

int mr_models_settings_put(struct mr_conn *c, const struct mr_models_settings *s, const char *by, int64_t now,
			   struct mr_err *err)
{
	json_t *o = mr_models_settings_json(s);
	char *body = json_dumps(o, JSON_COMPACT);
	struct mr_val v[3] = { mr_v_text(body), mr_v_text(by), mr_v_int(now) };
	int rc = mr_conn_exec(c, "DELETE FROM nba_model_settings WHERE id = 1", NULL, 0, NULL, err);

	if (rc == 0)
		rc = mr_conn_exec(c, "INSERT INTO nba_model_settings (id, body, updated_by, updated_at) VALUES (1, ?, ?, ?)",
				  v, 3, NULL, err);
	free(body);
	json_decref(o);
	return rc;
}

/* ------------------------------------------------------------ bodies */

static json_t *mr_models_doubles(const double *x, int n)
{
	json_t *a = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(a, mr_models_num(x[i]));
	return a;
}

static json_t *mr_models_strings(char *const *s, int max)
{
	json_t *a = json_array();

	for (int i = 0; i < max && s[i]; i++)
		json_array_append_new(a, json_string(s[i]));
	return a;
}

static char *mr_models_body(const struct mr_model *m)
{
	json_t *names = json_array(), *o;
	char name[64], *text;

	for (int f = 0; f < MR_MF_NFEAT; f++)
		json_array_append_new(names, json_string(mr_model_feature_name(f, name, sizeof(name))));
	o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:i}", "features", names, "w", mr_models_doubles(m->lm.w, MR_MF_NFEAT + 1),
		      "mean", mr_models_doubles(m->mean, MR_MF_NFEAT), "spec_vocab",
		      mr_models_strings(m->spec_vocab, MR_MODEL_SPEC_MAX), "title_vocab",
		      mr_models_strings(m->title_vocab, MR_MODEL_TITLE_MAX), "iterations", m->lm.iterations);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

int mr_models_body_parse(const char *text, struct mr_model *m, struct mr_err *err)
{
	json_t *o = json_loads(text, 0, NULL), *w, *mean, *sv, *tv;

	w = json_object_get(o, "w");
	mean = json_object_get(o, "mean");
	if (!o || json_array_size(w) != MR_MF_NFEAT + 1 || json_array_size(mean) != MR_MF_NFEAT) {
		json_decref(o);
		return mr_err_set(err, MR_EDB, "model %s: its stored body does not fit this build's %d features",
				  m->version, MR_MF_NFEAT);
	}
	m->lm.kind = MR_LM_LOGISTIC;
	m->lm.nfeat = MR_MF_NFEAT;
	m->lm.w = mr_calloc(MR_MF_NFEAT + 1, sizeof(double));
	for (int i = 0; i <= MR_MF_NFEAT; i++)
		m->lm.w[i] = json_number_value(json_array_get(w, (size_t)i));
	for (int i = 0; i < MR_MF_NFEAT; i++)
		m->mean[i] = json_number_value(json_array_get(mean, (size_t)i));
	sv = json_object_get(o, "spec_vocab");
	tv = json_object_get(o, "title_vocab");
	for (size_t i = 0; i < json_array_size(sv) && i < MR_MODEL_SPEC_MAX; i++)
		m->spec_vocab[i] = mr_strdup(json_string_value(json_array_get(sv, i)) ?: "");
	for (size_t i = 0; i < json_array_size(tv) && i < MR_MODEL_TITLE_MAX; i++)
		m->title_vocab[i] = mr_strdup(json_string_value(json_array_get(tv, i)) ?: "");
	json_decref(o);
	return 0;
}

static char *mr_models_calibration(const struct mr_model_metrics *mm)
{
	json_t *a = json_array();
	char *text;

	for (int b = 0; b < mm->nbins; b++)
		json_array_append_new(a, json_pack("{s:o, s:o, s:I}", "pred", mr_models_num(mm->bin_pred[b]), "obs",
						   mr_models_num(mm->bin_obs[b]), "n", (json_int_t)mm->bin_n[b]));
	text = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return text;
}

/* ------------------------------------------------------------ saving */

static struct mr_val mr_models_real(double x)
{
	return isfinite(x) ? mr_v_real(x) : mr_v_null();
}

static int mr_models_insert(struct mr_conn *c, struct mr_model *m, struct mr_err *err)
{
	char *body = mr_models_body(m), *cal = mr_models_calibration(&m->holdout);
	struct mr_val v[21] = {
		mr_v_text(mr_model_channel_name(m->mc)), mr_v_text(m->split_by), mr_v_text(m->category),
		mr_v_int(m->run), mr_v_text(m->version), mr_v_int(m->trained_at), mr_v_text(m->trained_by),
		mr_v_int(m->from), mr_v_int(m->to), mr_v_int((int64_t)m->examples), mr_v_int((int64_t)m->positives),
		mr_v_real(m->sampled), mr_v_int((int64_t)m->holdout.n), mr_models_real(m->holdout.auc),
		mr_models_real(m->holdout.log_loss), mr_models_real(m->holdout.brier), mr_v_text(cal),
		mr_models_real(m->global_log_loss), mr_v_int(m->beats_global), mr_v_text(body), mr_v_int(m->active),
	};
	int rc = mr_conn_exec(c, "INSERT INTO nba_models (channel, split_by, category, run, version, trained_at,"
			      " trained_by, window_from, window_to, examples, positives, sampled, holdout_n, auc, log_loss,"
			      " brier, calibration, global_log_loss, beats_global, body, active) VALUES (?, ?, ?, ?, ?, ?,"
			      " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", v, 21, NULL, err);

	if (rc == 0)
		rc = mr_conn_query_int(c, "SELECT MAX(id) FROM nba_models WHERE version = ?", &v[4], 1, &m->id, err);
	free(body);
	free(cal);
	return rc;
}

int mr_models_save(struct mr_conn *c, struct mr_models_run *run, struct mr_err *err)
{
	int rc = 0;

	for (int i = 0; rc == 0 && i < run->n; i++) {
		struct mr_val ch = mr_v_text(mr_model_channel_name(run->models[i]->mc));

		if (!run->models[i]->category) /* a new global model replaces its channel's whole family */
			rc = mr_conn_exec(c, "UPDATE nba_models SET active = 0 WHERE channel = ? AND active = 1", &ch, 1,
					  NULL, err);
	}
	for (int i = 0; rc == 0 && i < run->n; i++)
		rc = mr_models_insert(c, run->models[i], err);
	return rc;
}

/* ------------------------------------------------------------ reading */

#define MR_MODELS_COLS                                                                                      \
	"id, channel, split_by, category, run, version, trained_at, trained_by, window_from, window_to, examples," \
	" positives, sampled, holdout_n, auc, log_loss, brier, calibration, global_log_loss, beats_global, active"

static json_t *mr_models_row_json(struct mr_rows *r)
{
	json_t *o = json_object();
	char t[40];

	json_object_set_new(o, "id", json_integer(mr_rows_int(r, 0)));
	mr_json_set_str(o, "channel", mr_rows_text(r, 1));
	mr_json_set_str(o, "split_by", mr_rows_text(r, 2));
	mr_json_set_str(o, "category", mr_rows_text(r, 3));
	json_object_set_new(o, "run", json_integer(mr_rows_int(r, 4)));
	mr_json_set_str(o, "version", mr_rows_text(r, 5));
	mr_json_set_time(o, "trained_at", mr_rows_int(r, 6));
	mr_json_set_str(o, "trained_by", mr_rows_text(r, 7));
	mr_time_format(mr_rows_int(r, 8), t, sizeof(t));
	json_object_set_new(o, "window", json_pack("{s:s}", "from", t));
	mr_time_format(mr_rows_int(r, 9), t, sizeof(t));
	json_object_set_new(json_object_get(o, "window"), "to", json_string(t));
	json_object_set_new(o, "examples", json_integer(mr_rows_int(r, 10)));
	json_object_set_new(o, "positives", json_integer(mr_rows_int(r, 11)));
	json_object_set_new(o, "sampled", json_real(mr_rows_real(r, 12)));
	json_object_set_new(o, "metrics",
			    json_pack("{s:I, s:o, s:o, s:o}", "holdout_n", (json_int_t)mr_rows_int(r, 13), "auc",
				      mr_rows_isnull(r, 14) ? json_null() : json_real(mr_rows_real(r, 14)), "log_loss",
				      mr_rows_isnull(r, 15) ? json_null() : json_real(mr_rows_real(r, 15)), "brier",
				      mr_rows_isnull(r, 16) ? json_null() : json_real(mr_rows_real(r, 16))));
	json_object_set_new(o, "calibration", json_loads(mr_rows_text(r, 17), 0, NULL) ?: json_array());
	json_object_set_new(o, "global_log_loss", mr_rows_isnull(r, 18) ? json_null() : json_real(mr_rows_real(r, 18)));
	json_object_set_new(o, "beats_global", json_boolean(mr_rows_int(r, 19)));
	json_object_set_new(o, "active", json_boolean(mr_rows_int(r, 20)));
	/* a category model serves only when it beat the global one */
	json_object_set_new(o, "serving", json_boolean(mr_rows_int(r, 20) && (mr_rows_isnull(r, 3) || mr_rows_int(r, 19))));
	return o;
}

int mr_models_list(struct mr_conn *c, int limit, int64_t cursor, json_t *items, int64_t *next, struct mr_err *err)
{
	struct mr_val v[2] = { mr_v_int(cursor > 0 ? cursor : INT64_MAX), mr_v_int(limit + 1) };
	struct mr_rows *r = NULL;
	int n = 0;
	int rc = mr_conn_query(c, "SELECT " MR_MODELS_COLS " FROM nba_models WHERE id < ? ORDER BY id DESC LIMIT ?", v, 2,
			       &r, err);

	*next = 0;
	while (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		rc = 0;
		if (n++ == limit) {
			*next = json_integer_value(json_object_get(json_array_get(items, (size_t)limit - 1), "id"));
			break;
		}
		json_array_append_new(items, mr_models_row_json(r));
	}
	mr_rows_close(r);
	return rc < 0 ? rc : 0;
}

/* The coefficients in words-ready form: [{feature, weight}] from the stored body. */
static json_t *mr_models_coefficients(const char *body)
{
	json_t *o = json_loads(body, 0, NULL), *names = json_object_get(o, "features"), *w = json_object_get(o, "w");
	json_t *out = json_array();

	json_array_append_new(out, json_pack("{s:s, s:O}", "feature", "intercept", "weight", json_array_get(w, 0)));
	for (size_t i = 0; i < json_array_size(names); i++) {
		const char *name = json_string_value(json_array_get(names, i));
		const char *value = NULL;
		char buf[200];

		/* one-hots of a vocabulary read as their value: "specialty[2]" → "specialty=cardiology" */
		if (i >= MR_MF_SPEC && i < MR_MF_TITLE)
			value = json_string_value(json_array_get(json_object_get(o, "spec_vocab"), i - MR_MF_SPEC));
		else if (i >= MR_MF_TITLE && i < MR_MF_LEVEL)
			value = json_string_value(json_array_get(json_object_get(o, "title_vocab"), i - MR_MF_TITLE));
		if (value)
			snprintf(buf, sizeof(buf), "%s=%s", i < MR_MF_TITLE ? "specialty" : "title", value);
		json_array_append_new(out, json_pack("{s:s, s:O}", "feature", value ? buf : name ?: "?", "weight",
						     json_array_get(w, i + 1) ?: json_null()));
	}
	json_decref(o);
	return out;
}

int mr_models_get(struct mr_conn *c, int64_t id, json_t **out, struct mr_err *err)
{
	struct mr_val v = mr_v_int(id);
	struct mr_rows *r = NULL;
	int rc = mr_conn_query(c, "SELECT " MR_MODELS_COLS ", body FROM nba_models WHERE id = ?", &v, 1, &r, err);

	*out = NULL;
	if (rc == 0)
		rc = mr_rows_next(r, err);
	if (rc == 1) {
		*out = mr_models_row_json(r);
		json_object_set_new(*out, "coefficients", mr_models_coefficients(mr_rows_text(r, 21)));
		rc = 0;
	} else if (rc == 0) {
		rc = mr_err_field(err, MR_ENOTFOUND, "id", "no model version %lld", (long long)id);
	}
	mr_rows_close(r);
	return rc;
}

int mr_models_activate(struct mr_conn *c, int64_t id, struct mr_err *err)
{
	struct mr_val v = mr_v_int(id);
	struct mr_rows *r = NULL;
	char *channel = NULL, *category = NULL;
	int rc = mr_conn_query(c, "SELECT channel, category FROM nba_models WHERE id = ?", &v, 1, &r, err);

	if (rc == 0)
		rc = mr_rows_next(r, err);
	if (rc == 1) {
		channel = mr_strdup(mr_rows_text(r, 0));
		category = mr_rows_text(r, 1) ? mr_strdup(mr_rows_text(r, 1)) : NULL;
		rc = 0;
	} else if (rc == 0) {
		rc = mr_err_field(err, MR_ENOTFOUND, "id", "no model version %lld", (long long)id);
	}
	mr_rows_close(r);
	if (rc == 0) {
		struct mr_val a[2] = { mr_v_text(channel), mr_v_text(category) };

		rc = category ? mr_conn_exec(c, "UPDATE nba_models SET active = 0 WHERE channel = ? AND category = ?", a, 2,
					     NULL, err)
			      : mr_conn_exec(c, "UPDATE nba_models SET active = 0 WHERE channel = ? AND category IS NULL", a,
					     1, NULL, err);
	}
	if (rc == 0)
		rc = mr_conn_exec(c, "UPDATE nba_models SET active = 1 WHERE id = ?", &v, 1, NULL, err);
	free(channel);
	free(category);
	return rc;
}

int mr_models_read_active(struct mr_conn *c, struct mr_model ***out, int *nout, struct mr_err *err)
{
	struct mr_rows *r = NULL;
	int rc = mr_conn_query(c, "SELECT id, channel, split_by, category, run, version, trained_at, window_from,"
			       " window_to, examples, positives, auc, log_loss, global_log_loss, beats_global, body"
			       " FROM nba_models WHERE active = 1 ORDER BY id", NULL, 0, &r, err);

	*out = NULL;
	*nout = 0;
	while (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		struct mr_model *m = mr_calloc(1, sizeof(*m));

		m->id = mr_rows_int(r, 0);
		m->mc = mr_model_channel_parse(mr_rows_text(r, 1));
		m->split_by = mr_rows_text(r, 2) ? mr_strdup(mr_rows_text(r, 2)) : NULL;
		m->category = mr_rows_text(r, 3) ? mr_strdup(mr_rows_text(r, 3)) : NULL;
		m->run = (int)mr_rows_int(r, 4);
		snprintf(m->version, sizeof(m->version), "%s", mr_rows_text(r, 5));
		m->trained_at = mr_rows_int(r, 6);
		m->from = mr_rows_int(r, 7);
		m->to = mr_rows_int(r, 8);
		m->examples = (size_t)mr_rows_int(r, 9);
		m->positives = (size_t)mr_rows_int(r, 10);
		m->holdout.auc = mr_rows_isnull(r, 11) ? NAN : mr_rows_real(r, 11);
		m->holdout.log_loss = mr_rows_isnull(r, 12) ? NAN : mr_rows_real(r, 12);
		m->global_log_loss = mr_rows_isnull(r, 13) ? NAN : mr_rows_real(r, 13);
		m->beats_global = (int)mr_rows_int(r, 14);
		m->active = 1;
		rc = m->mc < 0 ? 0 : mr_models_body_parse(mr_rows_text(r, 15), m, err);
		if (rc < 0 || m->mc < 0) {
			mr_model_free(m);
			continue;
		}
		*out = mr_realloc(*out, (size_t)(*nout + 1) * sizeof(struct mr_model *));
		(*out)[(*nout)++] = m;
	}
	mr_rows_close(r);
	return rc < 0 ? rc : 0;
}
