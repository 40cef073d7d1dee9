/*
 * The rules, the contact policy and the recommendation log in the store
 * (see rules.h). Parameterised SQL that both SQLite and PostgreSQL take.
 */
#include "nba/rules.h"

#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/mem.h"

#define MR_NBA_RULE_COLS                                                                                 \
	"id, name, description, condition, action, priority, valid_from, valid_to, owner_role, enabled," \
	" created_by, created_at, updated_by, updated_at"

static char *mr_nba_dump(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT);

	json_decref(v);
	return s;
}

static struct mr_val mr_nba_opt_int(int64_t v)
{
	return v ? mr_v_int(v) : mr_v_null();
}

int mr_nba_rule_put(struct mr_conn *c, const struct mr_nba_rule *rule, const char *who, int64_t now, int *created,
		    struct mr_err *err)
{
	char *action = mr_nba_dump(mr_nba_action_json(rule));
	int64_t id = 0;
	struct mr_val k = mr_v_text(rule->name);
	int rc = mr_conn_query_int(c, "SELECT id FROM nba_rules WHERE name = ?", &k, 1, &id, err);
	struct mr_val v[10] = {
		rule->description ? mr_v_text(rule->description) : mr_v_null(),
		mr_v_text(rule->condition),
		mr_v_text(action),
		mr_v_int(rule->priority),
		mr_nba_opt_int(rule->valid_from),
		mr_nba_opt_int(rule->valid_to),
		rule->owner_role ? mr_v_text(mr_nba_role_name(rule->owner_role)) : mr_v_null(),
		mr_v_int(rule->enabled),
		mr_v_text(who),
		mr_v_int(now),
	};

	*created = rc == MR_ENOTFOUND;
	if (rc == MR_ENOTFOUND) {
		struct mr_val ins[13];

		ins[0] = k;
		memcpy(ins + 1, v, sizeof(v));
		ins[11] = mr_v_text(who);
		ins[12] = mr_v_int(now);
		rc = mr_conn_exec(c, "INSERT INTO nba_rules (name, description, condition, action, priority,"
				  " valid_from, valid_to, owner_role, enabled, updated_by, updated_at, created_by,"
				  " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				  ins, 13, NULL, err);
	} else if (rc == 0) {
		struct mr_val up[11];

		memcpy(up, v, sizeof(v));
		up[10] = mr_v_int(id);
		rc = mr_conn_exec(c, "UPDATE nba_rules SET description = ?, condition = ?, action = ?, priority = ?,"
				  " valid_from = ?, valid_to = ?, owner_role = ?, enabled = ?, updated_by = ?,"
				  " updated_at = ? WHERE id = ?",
				  up, 11, NULL, err);
	}
	free(action);
	return rc;
}

static const char *mr_nba_text(struct mr_rows *r, int col, struct mr_arena *a)
{
	return mr_rows_isnull(r, col) ? NULL : mr_arena_strdup(a, mr_rows_text(r, col));
}

/* A row of MR_NBA_RULE_COLS into *rule. */
static int mr_nba_rule_row(struct mr_rows *r, struct mr_arena *a, struct mr_nba_rule *rule, struct mr_err *err)
{
	json_t *action;
	int rc;

	memset(rule, 0, sizeof(*rule));
	rule->id = mr_rows_int(r, 0);
	rule->name = mr_nba_text(r, 1, a);
	rule->description = mr_nba_text(r, 2, a);
	rule->condition = mr_nba_text(r, 3, a);
	rule->priority = (int)mr_rows_int(r, 5);
	rule->valid_from = mr_rows_isnull(r, 6) ? 0 : mr_rows_int(r, 6);
	rule->valid_to = mr_rows_isnull(r, 7) ? 0 : mr_rows_int(r, 7);
	rule->owner_role = mr_rows_isnull(r, 8) ? 0 : mr_nba_role_parse(mr_rows_text(r, 8));
	rule->enabled = (int)mr_rows_int(r, 9);
	rule->created_by = mr_nba_text(r, 10, a);
	rule->created_at = mr_rows_int(r, 11);
	rule->updated_by = mr_nba_text(r, 12, a);
	rule->updated_at = mr_rows_int(r, 13);
	action = json_loads(mr_rows_text(r, 4), 0, NULL);
	rc = mr_nba_action_from_json(action, a, rule, err);
	/* the selector's strings were action's: copy them before it goes */
	rule->content.id = rule->content.id ? mr_arena_strdup(a, rule->content.id) : NULL;
	rule->content.product = rule->content.product ? mr_arena_strdup(a, rule->content.product) : NULL;
	rule->content.topic = rule->content.topic ? mr_arena_strdup(a, rule->content.topic) : NULL;
	rule->content.topic_tag = rule->content.topic_tag ? mr_arena_strdup(a, rule->content.topic_tag) : NULL;
	json_decref(action);
	return rc;
}

int mr_nba_rule_get(struct mr_conn *c, const char *name, struct mr_arena *a, struct mr_nba_rule *rule,
		    struct mr_err *err)
{
	struct mr_val k = mr_v_text(name);
	struct mr_rows *r = NULL;
	int rc = mr_conn_query(c, "SELECT " MR_NBA_RULE_COLS " FROM nba_rules WHERE name = ?", &k, 1, &r, err);

	if (rc == 0)
		rc = mr_rows_next(r, err);
	if (rc == 1)
		rc = mr_nba_rule_row(r, a, rule, err);
	else if (rc == 0)
		rc = mr_err_set(err, MR_ENOTFOUND, "there is no rule '%.64s'", name);
	mr_rows_close(r);
	return rc;
}

int mr_nba_rule_list(struct mr_conn *c, struct mr_arena *a, struct mr_nba_rule **rules, int *n, struct mr_err *err)
{
	struct mr_rows *r = NULL;
	int rc = mr_conn_query(c, "SELECT " MR_NBA_RULE_COLS " FROM nba_rules ORDER BY name", NULL, 0, &r, err);
	int cap = 16;

	*n = 0;
	*rules = mr_arena_alloc(a, (size_t)cap * sizeof(**rules));
	while (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		if (*n == cap) {
			struct mr_nba_rule *more = mr_arena_alloc(a, (size_t)cap * 2 * sizeof(*more));

			memcpy(more, *rules, (size_t)cap * sizeof(*more));
			*rules = more;
			cap *= 2;
		}
		rc = mr_nba_rule_row(r, a, &(*rules)[*n], err);
		if (rc == 0)
			(*n)++;
	}
	mr_rows_close(r);
	return rc < 0 ? rc : 0;
}

int mr_nba_rule_delete(struct mr_conn *c, const char *name, struct mr_err *err)
{
	struct mr_val k = mr_v_text(name);
	int64_t changed = 0;
	int rc = mr_conn_exec(c, "DELETE FROM nba_rules WHERE name = ?", &k, 1, &changed, err);

	if (rc == 0 && changed == 0)
		return mr_err_set(err, MR_ENOTFOUND, "there is no rule '%.64s'", name);
	return rc;
}

int mr_nba_rules_stamp(struct mr_conn *c, int64_t *stamp, struct mr_err *err)
{
	int64_t n = 0, newest = 0, settings = 0;
	int rc = mr_conn_query_int(c, "SELECT COUNT(*) FROM nba_rules", NULL, 0, &n, err);

	if (rc == 0)
		rc = mr_conn_query_int(c, "SELECT COALESCE(MAX(updated_at), 0) FROM nba_rules", NULL, 0, &newest, err);
	if (rc == 0)
		rc = mr_conn_query_int(c, "SELECT COALESCE(MAX(updated_at), 0) FROM nba_settings", NULL, 0, &settings,
				       err);
	*stamp = newest * 31 + n * 1000003 + settings * 7;
	return rc;
}

/* ------------------------------------------------------------ settings */

int mr_nba_settings_get(struct mr_conn *c, struct mr_nba_settings *s, struct mr_err *err)
{
	struct mr_rows *r = NULL;
	int rc = mr_conn_query(c, "SELECT body FROM nba_settings WHERE id = 1", NULL, 0, &r, err);

	mr_nba_settings_defaults(s);
	if (rc == 0)
		rc = mr_rows_next(r, err);
	if (rc == 1) {
		json_t *body = json_loads(mr_rows_text(r, 0), 0, NULL);

		rc = body ? mr_nba_settings_from_json(body, s, err) : 0;
		json_decref(body);
	}
	mr_rows_close(r);
	return rc < 0 ? rc : 0;
}

int mr_nba_settings_put(struct mr_conn *c, const struct mr_nba_settings *s, const char *who, int64_t now,
			struct mr_err *err)
{
	json_t *o = mr_nba_settings_json(s);
	char *body;
	struct mr_val v[3];
	int rc;

	json_object_del(json_object_get(o, "quiet_hours"), "zone");
	body = mr_nba_dump(o);
	v[0] = mr_v_text(body);
	v[1] = mr_v_text(who);
	v[2] = mr_v_int(now);
	rc = mr_conn_exec(c, "DELETE FROM nba_settings WHERE id = 1", NULL, 0, NULL, err);
	if (rc == 0)
		rc = mr_conn_exec(c, "INSERT INTO nba_settings (id, body, updated_by, updated_at) VALUES (1, ?, ?, ?)",
				  v, 3, NULL, err);
	free(body);
	return rc;
}

/* ------------------------------------------------------------ the log */

static struct mr_val mr_nba_opt_text(const char *s)
{
	return s ? mr_v_text(s) : mr_v_null();
}

int mr_nba_log_add_many(struct mr_conn *c, const struct mr_nba_logrow *rows, int n, struct mr_err *err)
{
	static const char *const cols[] = { "hcp_id", "source", "rule", "model_version", "action", "channel", "content",
					    "topic", "window_start", "window_end", "score", "propensity", "experiment",
					    "arm", "as_of", "served_at", "via", "task_id" };
	enum { NC = sizeof(cols) / sizeof(cols[0]) };
	struct mr_val *v;
	int rc;

	if (n <= 0)
		return 0;
	v = mr_malloc((size_t)n * NC * sizeof(*v));
	for (int i = 0; i < n; i++) {
		const struct mr_nba_logrow *row = &rows[i];
		struct mr_val *r = v + (size_t)i * NC;

		r[0] = mr_v_int(row->hcp_id);
		r[1] = mr_v_text(row->source);
		r[2] = mr_nba_opt_text(row->rule);
		r[3] = mr_nba_opt_text(row->model_version);
		r[4] = mr_v_text(row->action);
		r[5] = mr_nba_opt_text(row->channel);
		r[6] = mr_nba_opt_text(row->content);
		r[7] = mr_nba_opt_text(row->topic);
		r[8] = mr_v_int(row->window_start);
		r[9] = mr_v_int(row->window_end);
		r[10] = mr_v_real(row->score);
		r[11] = mr_v_real(row->propensity);
		r[12] = mr_nba_opt_text(row->experiment);
		r[13] = mr_nba_opt_text(row->arm);
		r[14] = mr_v_int(row->as_of);
		r[15] = mr_v_int(row->served_at);
		r[16] = mr_v_text(row->via);
		r[17] = mr_nba_opt_int(row->task_id);
	}
	rc = mr_conn_copy(c, "nba_recommendations", cols, NC, v, n, err);
	free(v);
	return rc;
}

int mr_nba_log_list(struct mr_conn *c, int64_t hcp_id, int limit, json_t *items, struct mr_err *err)
{
	static const char *const names[] = { "id", "hcp", "source", "rule", "model_version", "action", "channel",
					     "content", "topic", "window_start", "window_end", "score", "propensity",
					     "experiment", "arm", "as_of", "served_at", "via", "task_id", "outcome" };
	struct mr_val v[2] = { mr_v_int(hcp_id), mr_v_int(limit) };
	struct mr_rows *r = NULL;
	int rc = mr_conn_query(c, hcp_id > 0
					  ? "SELECT l.id, h.ext_id, l.source, l.rule, l.model_version, l.action, l.channel,"
					    " l.content, l.topic, l.window_start, l.window_end, l.score, l.propensity,"
					    " l.experiment, l.arm, l.as_of, l.served_at, l.via, l.task_id, COALESCE(l.outcome, t.status) FROM"
					    " nba_recommendations l JOIN hcps h ON h.id = l.hcp_id LEFT JOIN tasks t ON"
					    " t.id = l.task_id WHERE l.hcp_id = ?"
					    " ORDER BY l.id DESC LIMIT ?"
					  : "SELECT l.id, h.ext_id, l.source, l.rule, l.model_version, l.action, l.channel,"
					    " l.content, l.topic, l.window_start, l.window_end, l.score, l.propensity,"
					    " l.experiment, l.arm, l.as_of, l.served_at, l.via, l.task_id, COALESCE(l.outcome, t.status) FROM"
					    " nba_recommendations l JOIN hcps h ON h.id = l.hcp_id LEFT JOIN tasks t ON"
					    " t.id = l.task_id WHERE ? = 0"
					    " ORDER BY l.id DESC LIMIT ?",
			       v, 2, &r, err);

	while (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		json_t *o = json_object();

		rc = 0;
		for (int i = 0; i < 20; i++) {
			json_t *x;

			if (mr_rows_isnull(r, i))
				x = json_null();
			else if (i == 0 || i == 18)
				x = json_integer(mr_rows_int(r, i));
			else if (i == 11 || i == 12)
				x = json_real(mr_rows_real(r, i));
			else if (i == 9 || i == 10 || i == 15 || i == 16) {
				mr_json_set_time(o, names[i], mr_rows_int(r, i));
				continue;
			} else
				x = json_string(mr_rows_text(r, i));
			json_object_set_new(o, names[i], x);
		}
		json_array_append_new(items, o);
	}
	mr_rows_close(r);
	return rc < 0 ? rc : 0;
}

int mr_nba_night_claim(struct mr_conn *c, const char *night, int64_t now, int *mine, struct mr_err *err)
{
	struct mr_val v[2] = { mr_v_text(night), mr_v_int(now) };
	int64_t n = 0;
	int rc = mr_conn_query_int(c, "SELECT COUNT(*) FROM nba_nights WHERE night = ?", v, 1, &n, err);

	*mine = 0;
	if (rc == 0 && n == 0)
		rc = mr_conn_exec(c, "INSERT INTO nba_nights (night, started_at) VALUES (?, ?)", v, 2, NULL, err);
	if (rc == 0 && n == 0)
		*mine = 1;
	return rc;
}

/* ------------------------------------------------------------ content */

int mr_nba_content_load(struct mr_conn *c, struct mr_arena *a, struct mr_nba_catalog *cat, struct mr_err *err)
{
	struct mr_rows *r = NULL;
	int rc = mr_conn_query(c, "SELECT ext_id, topic, product, status, expires_at FROM content"
			       " WHERE deleted_at IS NULL ORDER BY ext_id", NULL, 0, &r, err);
	int cap = 64;
	struct mr_nba_content *items = mr_arena_alloc(a, (size_t)cap * sizeof(*items));

	cat->n = 0;
	while (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		struct mr_nba_content *it;

		rc = 0;
		if (cat->n == cap) {
			struct mr_nba_content *more = mr_arena_alloc(a, (size_t)cap * 2 * sizeof(*more));

			memcpy(more, items, (size_t)cap * sizeof(*more));
			items = more;
			cap *= 2;
		}
		it = &items[cat->n++];
		it->id = mr_arena_strdup(a, mr_rows_text(r, 0));
		it->topic = mr_nba_text(r, 1, a);
		it->product = mr_nba_text(r, 2, a);
		it->status = mr_arena_strdup(a, mr_rows_text(r, 3));
		it->expires_at = mr_rows_isnull(r, 4) ? 0 : mr_rows_int(r, 4);
	}
	mr_rows_close(r);
	cat->items = items;
	return rc < 0 ? rc : 0;
}

int mr_nba_content_stamp(struct mr_conn *c, int64_t *stamp, struct mr_err *err)
{
	int64_t n = 0, newest = 0;
	int rc = mr_conn_query_int(c, "SELECT COUNT(*) FROM content", NULL, 0, &n, err);

	if (rc == 0)
		rc = mr_conn_query_int(c, "SELECT COALESCE(MAX(updated_at), 0) FROM content", NULL, 0, &newest, err);
	*stamp = newest * 31 + n;
	return rc;
}

int mr_nba_content_exists(struct mr_conn *c, const char *ext, int *yes, struct mr_err *err)
{
	struct mr_val k = mr_v_text(ext);
	int64_t n = 0;
	int rc = mr_conn_query_int(c, "SELECT COUNT(*) FROM content WHERE ext_id = ? AND deleted_at IS NULL", &k, 1,
				   &n, err);

	*yes = n > 0;
	return rc;
}
