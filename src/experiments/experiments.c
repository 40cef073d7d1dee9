/*
 * See experiments.h. This file holds the tables (metrics, units, kinds,
 * statuses), the assignment hash, a definition read from JSON, and the
 * rows of experiments and experiment_arms; results.c counts the events.
 */
#include "experiments/experiments.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/str.h"
#include "event/event.h"

/* ------------------------------------------------------------ tables */

#define MR_CHB(ch) (1u << (ch))

/* The KPI rates of ARCHITECTURE.md, with the rungs analytics/kpi.c counts them by. */
static const struct mr_exp_metric_def mr_exp_metrics[] = {
	[MR_EXP_EFFECTIVE] = { "effective_rate", MR_CHB(MR_CH_PHONE), 3, 2, "phone calls effective",
			       "phone calls successful or better" },
	[MR_EXP_RESPONSE] = { "response_rate", MR_CHB(MR_CH_WECHAT) | MR_CHB(MR_CH_WECOM), 3, 0,
			      "WeChat and WeCom messages responded", "WeChat and WeCom messages sent" },
	[MR_EXP_PARTICIPATION] = { "participation_rate",
				   MR_CHB(MR_CH_MEETING_ONLINE) | MR_CHB(MR_CH_MEETING_OFFLINE), 2, 0,
				   "meeting invitations attended", "meeting invitations" },
	/* a policy's value per contact: the top rung of the remote channels (effective, responded) */
	[MR_EXP_EFFECTIVE_CONTACT] = { "effective_contact_rate",
				       MR_CHB(MR_CH_PHONE) | MR_CHB(MR_CH_WECHAT) | MR_CHB(MR_CH_WECOM), 3, 0,
				       "calls effective and WeChat / WeCom messages responded",
				       "calls placed and WeChat / WeCom messages sent" },
};
#define MR_EXP_NMETRICS ((int)(sizeof(mr_exp_metrics) / sizeof(mr_exp_metrics[0])))

static const char *const mr_exp_units[] = { "hcp", "rep" };
static const char *const mr_exp_kinds[] = { "rules", "learned", "holdout", "custom", "random" };
static const char *const mr_exp_statuses[] = { "draft", "running", "stopped", "archived" };
#define MR_NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

static int mr_exp_find(const char *const *names, int n, const char *name)
{
	for (int i = 0; name && i < n; i++) {
		if (strcmp(names[i], name) == 0)
			return i;
	}
	return -1;
}

const struct mr_exp_metric_def *mr_experiments_metric(int m)
{
	return m >= 0 && m < MR_EXP_NMETRICS ? &mr_exp_metrics[m] : NULL;
}

int mr_experiments_metric_parse(const char *name)
{
	for (int i = 0; name && i < MR_EXP_NMETRICS; i++) {
		if (strcmp(mr_exp_metrics[i].name, name) == 0)
			return i;
	}
	return -1;
}

const char *mr_experiments_unit_name(int unit)
{
	return unit >= 0 && unit < MR_NELEM(mr_exp_units) ? mr_exp_units[unit] : NULL;
}

int mr_experiments_unit_parse(const char *name)
{
	return mr_exp_find(mr_exp_units, MR_NELEM(mr_exp_units), name);
}

const char *mr_experiments_kind_name(int kind)
{
	return kind >= 0 && kind < MR_NELEM(mr_exp_kinds) ? mr_exp_kinds[kind] : NULL;
}

int mr_experiments_kind_parse(const char *name)
{
	return mr_exp_find(mr_exp_kinds, MR_NELEM(mr_exp_kinds), name);
}

const char *mr_experiments_status_name(int status)
{
	return status >= 0 && status < MR_NELEM(mr_exp_statuses) ? mr_exp_statuses[status] : NULL;
}

int mr_experiment_name_ok(const char *name)
{
	return mr_str_slug_ok(name, MR_EXP_NAME_MAX);
}

/* ------------------------------------------------------------ assignment */

uint32_t mr_experiments_bucket(const unsigned char salt[MR_EXP_SALT_BYTES], const char *unit_id)
{
	crypto_generichash_state st;
	unsigned char h[crypto_generichash_BYTES_MAX]; /* 64: BLAKE2b-512 */
	uint64_t v = 0;

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, salt, MR_EXP_SALT_BYTES);
	crypto_generichash_update(&st, (const unsigned char *)unit_id, strlen(unit_id));
	crypto_generichash_final(&st, h, sizeof(h));
	for (int i = 0; i < 8; i++)
		v = v << 8 | h[i];
	return (uint32_t)(v % MR_EXP_BUCKETS);
}

int mr_experiments_arm_of_bucket(const struct mr_experiment *x, uint32_t bucket)
{
	uint32_t end = 0;

	for (int i = 0; i < x->narms; i++) {
		end += (uint32_t)x->arms[i].buckets;
		if (bucket < end)
			return i;
	}
	return x->narms - 1; /* the allocations sum to MR_EXP_BUCKETS: not reached */
}

int mr_experiments_arm(const struct mr_experiment *x, const char *unit_id)
{
	return mr_experiments_arm_of_bucket(x, mr_experiments_bucket(x->salt, unit_id));
}

double mr_experiments_percent(int buckets)
{
	return buckets * 100.0 / MR_EXP_BUCKETS;
}

/* ------------------------------------------------------------ a definition from JSON */

/* One arm of the body's "arms"; *bp its allocation in buckets. */
static int mr_exp_arm_json(json_t *o, int i, struct mr_exp_arm *arm, struct mr_err *err)
{
	static const char *const allowed[] = { "name", "kind", "allocation", NULL };
	char field[48];
	json_t *v;
	double pct, b;

	if (!json_is_object(o))
		return mr_err_field(err, MR_EINVAL, "arms", "arms[%d] must be an object {name, kind, allocation}", i);
	if (mr_json_only(o, allowed, err) < 0) {
		snprintf(field, sizeof(field), "arms[%d]", i);
		return mr_err_field(err, MR_EINVAL, field, "arms[%d]: %s", i, err->msg);
	}
	snprintf(field, sizeof(field), "arms[%d].name", i);
	v = json_object_get(o, "name");
	if (!json_is_string(v) || mr_utf8_len(json_string_value(v), json_string_length(v)) == 0 ||
	    mr_utf8_len(json_string_value(v), json_string_length(v)) > MR_EXP_NAME_MAX ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return mr_err_field(err, MR_EINVAL, field, "%s must be a name of 1 to %d characters", field,
				    MR_EXP_NAME_MAX);
	arm->name = json_string_value(v);
	snprintf(field, sizeof(field), "arms[%d].kind", i);
	v = json_object_get(o, "kind");
	arm->kind = json_is_string(v) ? mr_experiments_kind_parse(json_string_value(v)) : -1;
	if (arm->kind < 0)
		return mr_err_field(err, MR_EINVAL, field, "%s must be one of rules, learned, holdout, custom", field);
	snprintf(field, sizeof(field), "arms[%d].allocation", i);
	v = json_object_get(o, "allocation");
	if (!json_is_number(v))
		return mr_err_field(err, MR_EINVAL, field, "%s must be a percentage (a number above 0 up to 100)",
				    field);
	pct = json_number_value(v);
	b = pct * MR_EXP_BUCKETS / 100.0;
	if (!(pct > 0) || pct > 100 || fabs(b - round(b)) > 1e-6 || round(b) < 1)
		return mr_err_field(err, MR_EINVAL, field, "%s is %g: it must be above 0 and at most 100, in steps"
				    " of 0.01", field, pct);
	arm->buckets = (int)round(b);
	return 0;
}

static int mr_exp_arms_json(json_t *arms, struct mr_experiment *x, struct mr_err *err)
{
	int total = 0, holdouts = 0;
	size_t n = json_array_size(arms);

	if (!json_is_array(arms))
		return mr_err_field(err, MR_EINVAL, "arms", "arms must be a list of {name, kind, allocation}");
	if (n < MR_EXP_ARMS_MIN || n > MR_EXP_ARMS_MAX)
		return mr_err_field(err, MR_EINVAL, "arms", "an experiment has %d to %d arms; this one has %zu",
				    MR_EXP_ARMS_MIN, MR_EXP_ARMS_MAX, n);
	x->narms = (int)n;
	for (int i = 0; i < x->narms; i++) {
		int rc = mr_exp_arm_json(json_array_get(arms, (size_t)i), i, &x->arms[i], err);

		if (rc < 0)
			return rc;
		for (int k = 0; k < i; k++) {
			if (strcmp(x->arms[k].name, x->arms[i].name) == 0) {
				char field[48];

				snprintf(field, sizeof(field), "arms[%d].name", i);
				return mr_err_field(err, MR_EINVAL, field, "two arms are named '%s' (arms[%d] and"
						    " arms[%d]); arm names must differ", x->arms[i].name, k, i);
			}
		}
		holdouts += x->arms[i].kind == MR_EXP_HOLDOUT;
		total += x->arms[i].buckets;
	}
	if (holdouts > 1)
		return mr_err_field(err, MR_EINVAL, "arms", "an experiment has at most one holdout arm; this one"
				    " has %d", holdouts);
	if (total != MR_EXP_BUCKETS)
		return mr_err_field(err, MR_EINVAL, "arms", "the arms' allocations sum to %g%%; they must sum to"
				    " 100%%", mr_experiments_percent(total));
	return 0;
}

int mr_experiment_from_json(json_t *body, struct mr_arena *a, struct mr_experiment *x, struct mr_err *err)
{
	static const char *const allowed[] = { "description", "unit", "population", "metric", "arms", NULL };
	const char *unit = NULL, *metric = NULL, *pop = NULL;
	int rc;

	(void)a;
	if (!json_is_object(body))
		return mr_err_set(err, MR_EINVAL, "the body must be a JSON object {description, unit, population,"
				  " metric, arms}");
	rc = mr_json_only(body, allowed, err);
	if (rc == 0)
		rc = mr_json_str(body, "description", 0, MR_EXP_DESC_MAX, &x->description, err);
	if (rc == 0)
		rc = mr_json_str(body, "unit", 0, 16, &unit, err);
	if (rc == 0) {
		x->unit = unit ? mr_experiments_unit_parse(unit) : MR_EXP_HCP;
		if (x->unit < 0)
			rc = mr_err_field(err, MR_EINVAL, "unit", "unit must be hcp or rep, not '%s'", unit);
	}
	if (rc == 0)
		rc = mr_json_str(body, "metric", 1, 64, &metric, err);
	if (rc == 0) {
		x->metric = mr_experiments_metric_parse(metric);
		if (x->metric < 0)
			rc = mr_err_field(err, MR_EINVAL, "metric", "unknown metric '%s': use effective_rate,"
					  " response_rate or participation_rate", metric);
	}
	if (rc == 0)
		rc = mr_json_str(body, "population", 0, MR_EXP_POP_MAX, &pop, err);
	if (rc == 0 && pop && strlen(pop) != json_string_length(json_object_get(body, "population")))
		rc = mr_err_field(err, MR_EINVAL, "population", "the population holds a NUL character");
	if (rc == 0) {
		size_t i = 0;

		while (pop && (pop[i] == ' ' || pop[i] == '\t' || pop[i] == '\r' || pop[i] == '\n'))
			i++;
		x->population = pop && pop[i] ? pop : NULL; /* blank: everyone */
	}
	if (rc == 0)
		rc = mr_exp_arms_json(json_object_get(body, "arms"), x, err);
	return rc;
}

/* ------------------------------------------------------------ rows */

#define MR_EXP_COLS                                                                                       \
	"id, name, description, unit, population, metric, salt, status, COALESCE(started_at, 0),"         \
	" COALESCE(stopped_at, 0), COALESCE(archived_at, 0), created_by, created_at, updated_by, updated_at"

static const char *mr_exp_text(struct mr_rows *r, int col, struct mr_arena *a)
{
	return mr_rows_isnull(r, col) ? NULL : mr_arena_strdup(a, mr_rows_text(r, col));
}

static void mr_exp_row(struct mr_rows *r, struct mr_arena *a, struct mr_experiment *x)
{
	const char *salt = mr_rows_text(r, 6);

	memset(x, 0, sizeof(*x));
	x->id = mr_rows_int(r, 0);
	x->name = mr_exp_text(r, 1, a);
	x->description = mr_exp_text(r, 2, a);
	x->unit = mr_experiments_unit_parse(mr_rows_text(r, 3));
	x->population = mr_exp_text(r, 4, a);
	x->metric = mr_experiments_metric_parse(mr_rows_text(r, 5));
	sodium_hex2bin(x->salt, sizeof(x->salt), salt, strlen(salt), NULL, NULL, NULL);
	x->status = mr_exp_find(mr_exp_statuses, MR_NELEM(mr_exp_statuses), mr_rows_text(r, 7));
	x->started_at = mr_rows_int(r, 8);
	x->stopped_at = mr_rows_int(r, 9);
	x->archived_at = mr_rows_int(r, 10);
	x->created_by = mr_exp_text(r, 11, a);
	x->created_at = mr_rows_int(r, 12);
	x->updated_by = mr_exp_text(r, 13, a);
	x->updated_at = mr_rows_int(r, 14);
}

static int mr_exp_read_arms(struct mr_conn *c, struct mr_arena *a, struct mr_experiment *x, struct mr_err *err)
{
	struct mr_val arg = mr_v_int(x->id);
	struct mr_rows *r = NULL;
	int rc = mr_conn_query(c, "SELECT name, kind, buckets FROM experiment_arms WHERE experiment_id = ?"
			       " ORDER BY pos", &arg, 1, &r, err);

	x->narms = 0;
	while (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		rc = 0;
		if (x->narms == MR_EXP_ARMS_MAX)
			continue;
		x->arms[x->narms].name = mr_exp_text(r, 0, a);
		x->arms[x->narms].kind = mr_experiments_kind_parse(mr_rows_text(r, 1));
		x->arms[x->narms].buckets = (int)mr_rows_int(r, 2);
		x->narms++;
	}
	mr_rows_close(r);
	return rc < 0 ? rc : 0;
}

int mr_experiment_get(struct mr_conn *c, const char *name, struct mr_arena *a, struct mr_experiment *x,
		      struct mr_err *err)
{
	struct mr_val arg = mr_v_text(name);
	struct mr_rows *r = NULL;
	int rc = mr_conn_query(c, "SELECT " MR_EXP_COLS " FROM experiments WHERE name = ?", &arg, 1, &r, err);

	if (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		mr_exp_row(r, a, x);
		rc = 0;
	} else if (rc == 0) {
		rc = mr_err_field(err, MR_ENOTFOUND, "name", "no experiment '%s'", name);
	}
	mr_rows_close(r);
	if (rc == 0)
		rc = mr_exp_read_arms(c, a, x, err);
	return rc;
}

int mr_experiment_list(struct mr_conn *c, int status, struct mr_arena *a, struct mr_experiment **xs, int *n,
		       struct mr_err *err)
{
	struct mr_val arg = mr_v_text(mr_experiments_status_name(status));
	struct mr_rows *r = NULL;
	int cap = 0, rc;

	*xs = NULL;
	*n = 0;
	rc = mr_conn_query(c, status < 0 ? "SELECT " MR_EXP_COLS " FROM experiments ORDER BY created_at DESC, id DESC" :
			   "SELECT " MR_EXP_COLS " FROM experiments WHERE status = ? ORDER BY created_at DESC, id DESC",
			   &arg, status < 0 ? 0 : 1, &r, err);
	while (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		rc = 0;
		if (*n == cap) {
			struct mr_experiment *grown;

			cap = cap ? cap * 2 : 16;
			grown = mr_arena_alloc(a, (size_t)cap * sizeof(*grown));
			if (*n)
				memcpy(grown, *xs, (size_t)*n * sizeof(*grown));
			*xs = grown;
		}
		mr_exp_row(r, a, &(*xs)[(*n)++]);
	}
	mr_rows_close(r);
	for (int i = 0; rc == 0 && i < *n; i++)
		rc = mr_exp_read_arms(c, a, &(*xs)[i], err);
	return rc < 0 ? rc : 0;
}

static int mr_exp_write_arms(struct mr_conn *c, int64_t id, const struct mr_experiment *x, struct mr_err *err)
{
	struct mr_val del = mr_v_int(id);
	int rc = mr_conn_exec(c, "DELETE FROM experiment_arms WHERE experiment_id = ?", &del, 1, NULL, err);

	for (int i = 0; rc == 0 && i < x->narms; i++) {
		struct mr_val args[] = { mr_v_int(id), mr_v_int(i), mr_v_text(x->arms[i].name),
					 mr_v_text(mr_experiments_kind_name(x->arms[i].kind)),
					 mr_v_int(x->arms[i].buckets) };

		rc = mr_conn_exec(c, "INSERT INTO experiment_arms (experiment_id, pos, name, kind, buckets)"
				  " VALUES (?, ?, ?, ?, ?)", args, 5, NULL, err);
	}
	return rc;
}

/* The id and status of experiment name; *id 0 when there is none. */
static int mr_exp_status_of(struct mr_conn *c, const char *name, int64_t *id, int *status, struct mr_err *err)
{
	struct mr_val arg = mr_v_text(name);
	struct mr_rows *r = NULL;
	int rc = mr_conn_query(c, "SELECT id, status FROM experiments WHERE name = ?", &arg, 1, &r, err);

	*id = 0;
	*status = -1;
	if (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		*id = mr_rows_int(r, 0);
		*status = mr_exp_find(mr_exp_statuses, MR_NELEM(mr_exp_statuses), mr_rows_text(r, 1));
		rc = 0;
	}
	mr_rows_close(r);
	return rc;
}

/* A new draft row for x with a fresh salt. */
static int mr_exp_insert(struct mr_conn *c, const struct mr_experiment *x, const char *who, int64_t now,
			 struct mr_err *err)
{
	unsigned char salt[MR_EXP_SALT_BYTES];
	char hex[2 * MR_EXP_SALT_BYTES + 1];

	randombytes_buf(salt, sizeof(salt));
	sodium_bin2hex(hex, sizeof(hex), salt, sizeof(salt));
	{
		struct mr_val args[] = { mr_v_text(x->name), mr_v_text(x->description),
					 mr_v_text(mr_experiments_unit_name(x->unit)), mr_v_text(x->population),
					 mr_v_text(mr_experiments_metric(x->metric)->name), mr_v_text(hex),
					 mr_v_text(mr_experiments_status_name(MR_EXP_DRAFT)), mr_v_text(who),
					 mr_v_int(now), mr_v_text(who), mr_v_int(now) };

		return mr_conn_exec(c, "INSERT INTO experiments (name, description, unit, population, metric, salt,"
				    " status, created_by, created_at, updated_by, updated_at)"
				    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", args, 11, NULL, err);
	}
}

int mr_experiment_put(struct mr_conn *c, const struct mr_experiment *x, const char *who, int64_t now,
		      int *created, struct mr_err *err)
{
	int64_t id = 0;
	int status = -1;
	int rc = mr_exp_status_of(c, x->name, &id, &status, err);
	const char *unit = mr_experiments_unit_name(x->unit), *metric = mr_experiments_metric(x->metric)->name;

	*created = 0;
	if (rc < 0)
		return rc;
	if (id && status != MR_EXP_DRAFT) {
		mr_err_field(err, MR_ECONFLICT, "name", "experiment '%s' is %s: only a draft can be edited (its"
			     " definition is fixed once it starts)", x->name, mr_experiments_status_name(status));
		return mr_err_kind(err, "experiment_not_draft");
	}
	if (id) {
		struct mr_val args[] = { mr_v_text(x->description), mr_v_text(unit), mr_v_text(x->population),
					 mr_v_text(metric), mr_v_text(who), mr_v_int(now), mr_v_int(id) };

		rc = mr_conn_exec(c, "UPDATE experiments SET description = ?, unit = ?, population = ?, metric = ?,"
				  " updated_by = ?, updated_at = ? WHERE id = ?", args, 7, NULL, err);
	} else {
		*created = 1;
		rc = mr_exp_insert(c, x, who, now, err);
		if (rc == 0)
			rc = mr_exp_status_of(c, x->name, &id, &status, err);
	}
	if (rc == 0)
		rc = mr_exp_write_arms(c, id, x, err);
	return rc;
}

int mr_experiment_set_status(struct mr_conn *c, const char *name, int to, const char *who, int64_t now,
			     struct mr_err *err)
{
	static const char *const at_col[] = { NULL, "started_at", "stopped_at", "archived_at" };
	static const char *const verb[] = { NULL, "started", "stopped", "archived" };
	int64_t id = 0;
	int status = -1;
	int rc = mr_exp_status_of(c, name, &id, &status, err);
	char sql[160];

	if (rc < 0)
		return rc;
	if (!id)
		return mr_err_field(err, MR_ENOTFOUND, "name", "no experiment '%s'", name);
	if (to <= MR_EXP_DRAFT || to > MR_EXP_ARCHIVED)
		return mr_err_set(err, MR_EINTERNAL, "no such status change");
	if (status != to - 1) {
		mr_err_field(err, MR_ECONFLICT, "status", "experiment '%s' is %s; only a %s experiment can be %s",
			     name, mr_experiments_status_name(status), mr_experiments_status_name(to - 1), verb[to]);
		return mr_err_kind(err, "wrong_status");
	}
	snprintf(sql, sizeof(sql), "UPDATE experiments SET status = ?, %s = ?, updated_by = ?, updated_at = ?"
		 " WHERE id = ?", at_col[to]);
	{
		struct mr_val args[] = { mr_v_text(mr_experiments_status_name(to)), mr_v_int(now), mr_v_text(who),
					 mr_v_int(now), mr_v_int(id) };

		return mr_conn_exec(c, sql, args, 5, NULL, err);
	}
}

int mr_experiment_delete(struct mr_conn *c, const char *name, struct mr_err *err)
{
	int64_t id = 0;
	int status = -1;
	int rc = mr_exp_status_of(c, name, &id, &status, err);
	struct mr_val arg = mr_v_int(id);

	if (rc < 0)
		return rc;
	if (!id)
		return mr_err_field(err, MR_ENOTFOUND, "name", "no experiment '%s'", name);
	if (status != MR_EXP_DRAFT) {
		mr_err_field(err, MR_ECONFLICT, "status", "experiment '%s' is %s: only a draft can be deleted (stop"
			     " and archive it instead)", name, mr_experiments_status_name(status));
		return mr_err_kind(err, "experiment_not_draft");
	}
	rc = mr_conn_exec(c, "DELETE FROM experiment_arms WHERE experiment_id = ?", &arg, 1, NULL, err);
	if (rc == 0)
		rc = mr_conn_exec(c, "DELETE FROM experiments WHERE id = ?", &arg, 1, NULL, err);
	return rc;
}

json_t *mr_experiment_json(const struct mr_experiment *x)
{
	json_t *o = json_object(), *arms = json_array();
	char salt[2 * MR_EXP_SALT_BYTES + 1];
	const struct mr_exp_metric_def *m = mr_experiments_metric(x->metric);

	sodium_bin2hex(salt, sizeof(salt), x->salt, sizeof(x->salt));
	mr_json_set_str(o, "name", x->name);
	mr_json_set_str(o, "description", x->description);
	mr_json_set_str(o, "unit", mr_experiments_unit_name(x->unit));
	mr_json_set_str(o, "population", x->population);
	mr_json_set_str(o, "metric", m ? m->name : NULL);
	if (m)
		json_object_set_new(o, "metric_definition", json_pack("{s:s, s:s}", "numerator", m->numerator,
								      "denominator", m->denominator));
	for (int i = 0; i < x->narms; i++) {
		json_t *arm = json_object();

		mr_json_set_str(arm, "name", x->arms[i].name);
		mr_json_set_str(arm, "kind", mr_experiments_kind_name(x->arms[i].kind));
		json_object_set_new(arm, "allocation", json_real(mr_experiments_percent(x->arms[i].buckets)));
		json_array_append_new(arms, arm);
	}
	json_object_set_new(o, "arms", arms);
	mr_json_set_str(o, "control", x->narms ? x->arms[mr_experiment_control(x)].name : NULL);
	mr_json_set_str(o, "status", mr_experiments_status_name(x->status));
	mr_json_set_str(o, "salt", salt);
	mr_json_set_time(o, "started_at", x->started_at);
	mr_json_set_time(o, "stopped_at", x->stopped_at);
	mr_json_set_time(o, "archived_at", x->archived_at);
	mr_json_set_str(o, "created_by", x->created_by);
	mr_json_set_time(o, "created_at", x->created_at);
	mr_json_set_str(o, "updated_by", x->updated_by);
	mr_json_set_time(o, "updated_at", x->updated_at);
	return o;
}

int mr_experiment_control(const struct mr_experiment *x)
{
	for (int i = 0; i < x->narms; i++) {
		if (x->arms[i].kind == MR_EXP_HOLDOUT)
			return i;
	}
	return 0;
}

int64_t mr_experiment_as_of(const struct mr_experiment *x, int64_t now)
{
	return x->started_at ? x->started_at : now;
}
