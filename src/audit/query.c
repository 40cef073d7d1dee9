/*
 * Reading the audit trail back for people: filtered, newest-first pages for
 * the compliance officer's search, and per-day counts for the home chart.
 * Every filter is a bound parameter; only fixed SQL fragments are joined.
 */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/time.h"

enum { MR_AUDIT_MAX_ARGS = 10 };

static void mr_audit_where(struct mr_buf *sql, const char *frag, struct mr_val *args, int *n,
			   struct mr_val v)
{
	mr_buf_adds(sql, *n ? " AND " : " WHERE ");
	mr_buf_adds(sql, frag);
	args[(*n)++] = v;
}

static json_t *mr_audit_item(struct mr_rows *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "seq", json_integer(mr_rows_int(r, 0)));
	mr_json_set_time(o, "ts", mr_rows_int(r, 1));
	if (mr_rows_isnull(r, 2))
		json_object_set_new(o, "user_id", json_null());
	else
		json_object_set_new(o, "user_id", json_integer(mr_rows_int(r, 2)));
	mr_json_set_str(o, "user", mr_rows_text(r, 3));
	mr_json_set_str(o, "role", mr_rows_text(r, 4));
	mr_json_set_str(o, "action", mr_rows_text(r, 5));
	mr_json_set_str(o, "entity", mr_rows_text(r, 6));
	mr_json_set_str(o, "entity_id", mr_rows_text(r, 7));
	mr_json_set_str(o, "request_id", mr_rows_text(r, 8));
	mr_json_set_str(o, "ip", mr_rows_text(r, 9));
	json_object_set_new(o, "status", json_integer(mr_rows_int(r, 10)));
	return o;
}

int mr_audit_list(struct mr_conn *c, const struct mr_audit_filter *f, json_t *items,
		  int64_t *next_cursor, struct mr_err *err)
{
	struct mr_val args[MR_AUDIT_MAX_ARGS];
	struct mr_buf sql;
	struct mr_rows *r = NULL;
	char prefix[80];
	int n = 0;
	int count = 0;
	int64_t last = 0;
	int rc;

	*next_cursor = 0;
	mr_buf_init(&sql, 4096);
	mr_buf_adds(&sql, "SELECT seq, ts, user_id, login, role, action, entity, entity_id, request_id,"
			  " ip, status FROM audit_log");
	if (f->login)
		mr_audit_where(&sql, "login = ?", args, &n, mr_v_text(f->login));
	if (f->entity)
		mr_audit_where(&sql, "entity = ?", args, &n, mr_v_text(f->entity));
	if (f->entity_id)
		mr_audit_where(&sql, "entity_id = ?", args, &n, mr_v_text(f->entity_id));
	if (f->action && f->action[0] && f->action[strlen(f->action) - 1] == '.') {
		/* a prefix: "user." matches user.create, user.update, ... (range, so the index serves it) */
		snprintf(prefix, sizeof(prefix), "%.*s/", (int)strlen(f->action) - 1, f->action);
		mr_audit_where(&sql, "action > ?", args, &n, mr_v_text(f->action));
		mr_audit_where(&sql, "action < ?", args, &n, mr_v_text(prefix));
	} else if (f->action) {
		mr_audit_where(&sql, "action = ?", args, &n, mr_v_text(f->action));
	}
	if (f->from_us)
		mr_audit_where(&sql, "ts >= ?", args, &n, mr_v_int(f->from_us));
	if (f->to_us)
		mr_audit_where(&sql, "ts < ?", args, &n, mr_v_int(f->to_us));
	if (f->before_seq)
		mr_audit_where(&sql, "seq < ?", args, &n, mr_v_int(f->before_seq));
	mr_buf_adds(&sql, " ORDER BY seq DESC LIMIT ?");
	args[n++] = mr_v_int(f->limit + 1);
	rc = mr_conn_query(c, mr_buf_str(&sql), args, n, &r, err);
	mr_buf_release(&sql);
	if (rc < 0)
		return rc;
	while ((rc = mr_rows_next(r, err)) == 1) {
		if (count == f->limit) {
			*next_cursor = last;
			break;
		}
		last = mr_rows_int(r, 0);
		json_array_append_new(items, mr_audit_item(r));
		count++;
	}
	mr_rows_close(r);
	return rc < 0 ? rc : 0;
}

int mr_audit_summary(struct mr_conn *c, int64_t now_us, int days_back, int offset_s, json_t *days,
		     struct mr_err *err)
{
	const int64_t day_us = 86400 * MR_US_PER_S;
	int64_t off_us = (int64_t)offset_s * MR_US_PER_S;
	int64_t today = (now_us + off_us) / day_us;
	int64_t first = today - days_back + 1;
	struct mr_val args[3] = { mr_v_int(off_us), mr_v_int(day_us), mr_v_int(first * day_us - off_us) };
	struct mr_rows *r = NULL;
	int rc;

	for (int64_t d = first; d <= today; d++) {
		json_t *o = json_object();
		char date[40];
		mr_time_format(d * day_us, date, sizeof(date));
		date[10] = '\0';
		json_object_set_new(o, "date", json_string(date));
		json_object_set_new(o, "total", json_integer(0));
		json_object_set_new(o, "by_action", json_object());
		json_array_append_new(days, o);
	}
	rc = mr_conn_query(c,
			   "SELECT (ts + ?) / ? AS day, action, COUNT(*) FROM audit_log WHERE ts >= ?"
			   " GROUP BY day, action",
			   args, 3, &r, err);
	if (rc < 0)
		return rc;
	while ((rc = mr_rows_next(r, err)) == 1) {
		int64_t d = mr_rows_int(r, 0);
		json_t *o;
		int64_t cnt = mr_rows_int(r, 2);
		if (d < first || d > today)
			continue;
		o = json_array_get(days, (size_t)(d - first));
		json_object_set_new(o, "total",
				    json_integer(json_integer_value(json_object_get(o, "total")) + cnt));
		json_object_set_new(json_object_get(o, "by_action"), mr_rows_text(r, 1), json_integer(cnt));
	}
	mr_rows_close(r);
	return rc < 0 ? rc : 0;
}
