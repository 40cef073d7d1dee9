/*
 * See task.h. The words of a task are tables (types, statuses, sources);
 * the state machine is one table of allowed moves; the matching rules are
 * one function per question (does the channel fit the type, is it the
 * right person, is it in time). Every write records what changed in
 * task_changes, so a task's history is the table's rows in id order.
 */
#include "tasks/task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "event/event.h"

static const char *const mr_task_types[MR_TT_COUNT] = {
	[MR_TT_CALL] = "call",
	[MR_TT_WECHAT] = "wechat",
	[MR_TT_VISIT] = "visit",
	[MR_TT_MEETING_INVITE] = "meeting_invite",
	[MR_TT_SEND_CONTENT] = "send_content",
	[MR_TT_FOLLOW_UP] = "follow_up",
};

static const char *const mr_task_statuses[MR_TS_COUNT] = {
	[MR_TS_OPEN] = "open",
	[MR_TS_IN_PROGRESS] = "in_progress",
	[MR_TS_DONE] = "done",
	[MR_TS_CANCELLED] = "cancelled",
	[MR_TS_EXPIRED] = "expired",
};

static const char *const mr_task_sources[MR_TSRC_COUNT] = {
	[MR_TSRC_PERSON] = "person",
	[MR_TSRC_RULE] = "rule",
	[MR_TSRC_MODEL] = "model",
	[MR_TSRC_EXPERIMENT] = "experiment",
};

/* The state machine: may a task in status [from] become [to]? */
static const unsigned char mr_task_moves[MR_TS_COUNT][MR_TS_COUNT] = {
	[MR_TS_OPEN] = { [MR_TS_IN_PROGRESS] = 1, [MR_TS_DONE] = 1, [MR_TS_CANCELLED] = 1, [MR_TS_EXPIRED] = 1 },
	[MR_TS_IN_PROGRESS] = { [MR_TS_DONE] = 1, [MR_TS_CANCELLED] = 1, [MR_TS_EXPIRED] = 1 },
};

static int mr_task_word(const char *const *words, int n, const char *s)
{
	for (int i = 1; s && i < n; i++) {
		if (strcmp(words[i], s) == 0)
			return i;
	}
	return 0;
}

int mr_task_type_parse(const char *s)
{
	return mr_task_word(mr_task_types, MR_TT_COUNT, s);
}

int mr_task_status_parse(const char *s)
{
	return mr_task_word(mr_task_statuses, MR_TS_COUNT, s);
}

int mr_task_source_parse(const char *s)
{
	return mr_task_word(mr_task_sources, MR_TSRC_COUNT, s);
}

const char *mr_task_type_name(int type)
{
	return type > 0 && type < MR_TT_COUNT ? mr_task_types[type] : NULL;
}

const char *mr_task_status_name(int status)
{
	return status > 0 && status < MR_TS_COUNT ? mr_task_statuses[status] : NULL;
}

const char *mr_task_source_name(int source)
{
	return source > 0 && source < MR_TSRC_COUNT ? mr_task_sources[source] : NULL;
}

int mr_task_active(int status)
{
	return status == MR_TS_OPEN || status == MR_TS_IN_PROGRESS;
}

int mr_task_transition_ok(int from, int to)
{
	if (from <= 0 || from >= MR_TS_COUNT || to <= 0 || to >= MR_TS_COUNT)
		return 0;
	return mr_task_moves[from][to];
}

/* ------------------------------------------------------------ matching */

static int mr_task_messaging(int ch)
{
	return ch == MR_CH_WECHAT || ch == MR_CH_WECOM;
}

static int mr_task_rung_is(int ch, int rung, const char *name)
{
	const char *s = mr_outcome_name(ch, rung);

	return s && strcmp(s, name) == 0;
}

/* Whether the channel (and outcome) can fulfil type; *need_text: only the event's content or meeting can tell. */
static int mr_task_channel_fits(int type, const struct mr_task_ev *ev, int *need_text)
{
	int ch = ev->channel;

	*need_text = 0;
	switch (type) {
	case MR_TT_CALL:
		return ch == MR_CH_PHONE && !mr_task_rung_is(ch, ev->outcome, "no_answer");
	case MR_TT_WECHAT:
		return mr_task_messaging(ch);
	case MR_TT_VISIT:
		return ch == MR_CH_VISIT && mr_task_rung_is(ch, ev->outcome, "completed");
	case MR_TT_MEETING_INVITE:
		*need_text = mr_task_messaging(ch);
		return ch == MR_CH_MEETING_ONLINE || ch == MR_CH_MEETING_OFFLINE || mr_task_messaging(ch);
	case MR_TT_SEND_CONTENT:
		*need_text = 1;
		return ch == MR_CH_CONTENT || ch == MR_CH_EMAIL || mr_task_messaging(ch);
	case MR_TT_FOLLOW_UP:
		return ch > MR_CH_NONE && ch < MR_CH_COUNT;
	default:
		return 0;
	}
}

int mr_task_may_match(const struct mr_task_want *w, const struct mr_task_ev *ev, int *need_text)
{
	if (!mr_task_channel_fits(w->type, ev, need_text))
		return 0;
	if (ev->ts < w->due_from || ev->ts > w->due_to)
		return 0;
	if (w->type == MR_TT_FOLLOW_UP)
		return ev->rep_id != 0 && ev->rep_id == w->assignee_id;
	return ev->rep_id == 0 || ev->rep_id == w->assignee_id;
}

int mr_task_matches(const struct mr_task_want *w, const struct mr_task_ev *ev)
{
	int need_text = 0;

	if (!mr_task_may_match(w, ev, &need_text))
		return 0;
	if (!need_text)
		return 1;
	if (w->type == MR_TT_MEETING_INVITE)
		return ev->meeting && *ev->meeting;
	/* send_content: the event names content, the task's own when it names one */
	if (!ev->content || !*ev->content)
		return 0;
	return !w->content || !*w->content || strcmp(w->content, ev->content) == 0;
}

int mr_task_chains(int type, const struct mr_task_ev *ev)
{
	if (type != MR_TT_MEETING_INVITE && type != MR_TT_WECHAT)
		return 0;
	return mr_task_rung_is(ev->channel, ev->outcome, "registered") ||
	       mr_task_rung_is(ev->channel, ev->outcome, "attended") ||
	       mr_task_rung_is(ev->channel, ev->outcome, "responded");
}

/* ------------------------------------------------------------ checks */

/* A text field of at most max code points, valid UTF-8 without control characters (NULL is fine). */
static int mr_task_text(const char *s, const char *field, size_t max, struct mr_err *err)
{
	size_t n;

	if (!s)
		return 0;
	n = strlen(s);
	if (mr_utf8_check(s, n) != 0)
		return mr_err_field(err, MR_EINVAL, field, "\"%s\" is not valid UTF-8", field);
	if (mr_utf8_len(s, n) > max)
		return mr_err_field(err, MR_EINVAL, field, "\"%s\" is longer than %zu characters", field, max);
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 && s[i] != '\n' && s[i] != '\t')
			return mr_err_field(err, MR_EINVAL, field, "\"%s\" holds a control character", field);
	}
	return 0;
}

int mr_task_check(const struct mr_task_new *t, struct mr_err *err)
{
	int rc = 0;

	if (!mr_task_type_name(t->type))
		return mr_err_field(err, MR_EINVAL, "type", "\"type\" is one of call, wechat, visit, meeting_invite,"
				    " send_content, follow_up");
	if (t->hcp_id <= 0)
		return mr_err_field(err, MR_EINVAL, "hcp", "a task needs its doctor (\"hcp\")");
	if (t->assignee_id <= 0)
		return mr_err_field(err, MR_EINVAL, "assignee", "a task needs a rep (\"assignee\")");
	if (t->due_from <= 0 || t->due_to <= 0)
		return mr_err_field(err, MR_EINVAL, t->due_from <= 0 ? "due_from" : "due_to",
				    "a task needs its due window (\"due_from\", \"due_to\")");
	if (t->due_to < t->due_from)
		return mr_err_field(err, MR_EINVAL, "due_to", "\"due_to\" lies before \"due_from\"");
	if (t->priority < 0 || t->priority > 5)
		return mr_err_field(err, MR_EINVAL, "priority", "\"priority\" runs from 1 (highest) to 5");
	if (t->source < 0 || t->source >= MR_TSRC_COUNT)
		return mr_err_field(err, MR_EINVAL, "source", "\"source\" is person, rule, model or experiment");
	rc = mr_task_text(t->source_ref, "source_ref", MR_TASK_REF_MAX, err);
	if (rc == 0)
		rc = mr_task_text(t->reason, "reason", MR_TASK_REASON_MAX, err);
	if (rc == 0)
		rc = mr_task_text(t->channel, "channel", MR_TASK_REF_MAX, err);
	if (rc == 0)
		rc = mr_task_text(t->content, "content", MR_TASK_REF_MAX, err);
	if (rc == 0)
		rc = mr_task_text(t->topic, "topic", MR_TASK_REF_MAX, err);
	return rc;
}

/* ------------------------------------------------------------ writes */

static const char *mr_task_who(const char *by)
{
	return by ? by : "system";
}

/* Appends one row of a task's history. */
static int mr_task_log(struct mr_conn *c, int64_t id, int64_t at, const char *by, const char *action,
		       const char *from, const char *to, const char *note, const char *request_id,
		       struct mr_err *err)
{
	struct mr_val args[8] = { mr_v_int(id),	    mr_v_int(at),      mr_v_text(by),   mr_v_text(action),
				  mr_v_text(from), mr_v_text(to), mr_v_text(note), mr_v_text(request_id) };

	return mr_conn_exec(c,
			    "INSERT INTO task_changes (task_id, at, by_login, action, from_value, to_value, note,"
			    " request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			    args, 8, NULL, err);
}

/* n fresh ids of the tasks table, ascending, into ids: the sequence moves past them. */
static int mr_task_reserve(struct mr_conn *c, int n, int64_t *ids, struct mr_err *err)
{
	struct mr_rows *r = NULL;
	int64_t base = 0;
	int rc, k = 0;

	if (mr_conn_kind(c) == MR_STORE_PG) {
		struct mr_val v = mr_v_int(n);

		rc = mr_conn_query(c, "SELECT nextval(pg_get_serial_sequence('tasks', 'id')) FROM generate_series(1, ?)"
				   " ORDER BY 1", &v, 1, &r, err);
		while (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
			if (k < n)
				ids[k++] = mr_rows_int(r, 0);
			rc = 0;
		}
		mr_rows_close(r);
		return rc < 0 ? rc : k == n ? 0 : mr_err_set(err, MR_EINTERNAL, "tasks: %d ids reserved of %d", k, n);
	}
	/* SQLite's AUTOINCREMENT: past the largest id ever given; explicit ids move sqlite_sequence on */
	rc = mr_conn_query_int(c, "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'tasks'), 0),"
			       " COALESCE((SELECT MAX(id) FROM tasks), 0))", NULL, 0, &base, err);
	for (k = 0; rc == 0 && k < n; k++)
		ids[k] = base + 1 + k;
	return rc;
}

int mr_task_create_many(struct mr_conn *c, const struct mr_task_new *t, int n, int64_t *ids, struct mr_err *err)
{
	static const char *const cols[] = { "id", "type", "hcp_id", "assignee_id", "due_from", "due_to", "priority",
					    "status", "source", "source_ref", "reason", "channel", "content", "topic",
					    "created_by", "created_at", "updated_by", "updated_at" };
	static const char *const lcols[] = { "task_id", "at", "by_login", "action", "from_value", "to_value", "note",
					     "request_id" };
	enum { NC = sizeof(cols) / sizeof(cols[0]), NL = sizeof(lcols) / sizeof(lcols[0]) };
	struct mr_val *v, *l;
	int rc = 0;

	for (int i = 0; rc == 0 && i < n; i++) {
		rc = mr_task_check(&t[i], err);
		if (rc < 0 && err->field[0]) {
			char field[sizeof(err->field)];

			snprintf(field, sizeof(field), "tasks[%d].%.40s", i, err->field);
			memcpy(err->field, field, sizeof(field));
		}
	}
	if (rc < 0 || n <= 0)
		return rc;
	rc = mr_task_reserve(c, n, ids, err);
	if (rc < 0)
		return rc;
	v = mr_malloc((size_t)n * NC * sizeof(*v));
	l = mr_malloc((size_t)n * NL * sizeof(*l));
	for (int i = 0; i < n; i++) {
		const struct mr_task_new *x = &t[i];
		const char *who = mr_task_who(x->by);
		struct mr_val *r = v + (size_t)i * NC, *g = l + (size_t)i * NL;

		r[0] = mr_v_int(ids[i]);
		r[1] = mr_v_text(mr_task_type_name(x->type));
		r[2] = mr_v_int(x->hcp_id);
		r[3] = mr_v_int(x->assignee_id);
		r[4] = mr_v_int(x->due_from);
		r[5] = mr_v_int(x->due_to);
		r[6] = mr_v_int(x->priority ? x->priority : MR_TASK_PRIORITY_DEFAULT);
		r[7] = mr_v_text("open");
		r[8] = mr_v_text(mr_task_source_name(x->source ? x->source : MR_TSRC_PERSON));
		r[9] = mr_v_text(x->source_ref);
		r[10] = mr_v_text(x->reason);
		r[11] = mr_v_text(x->channel);
		r[12] = mr_v_text(x->content);
		r[13] = mr_v_text(x->topic);
		r[14] = mr_v_text(who);
		r[15] = mr_v_int(x->now);
		r[16] = mr_v_text(who);
		r[17] = mr_v_int(x->now);
		g[0] = mr_v_int(ids[i]);
		g[1] = mr_v_int(x->now);
		g[2] = mr_v_text(x->by);
		g[3] = mr_v_text("created");
		g[4] = mr_v_null();
		g[5] = mr_v_text("open");
		g[6] = mr_v_text(x->reason);
		g[7] = mr_v_text(x->request_id);
	}
	rc = mr_conn_copy(c, "tasks", cols, NC, v, n, err);
	if (rc == 0)
		rc = mr_conn_copy(c, "task_changes", lcols, NL, l, n, err);
	free(v);
	free(l);
	return rc;
}

int mr_task_create(struct mr_conn *c, const struct mr_task_new *t, int64_t *id, struct mr_err *err)
{
	int pg = mr_conn_kind(c) == MR_STORE_PG;
	const char *who = mr_task_who(t->by);
	struct mr_val args[17] = {
		mr_v_text(mr_task_type_name(t->type)), mr_v_int(t->hcp_id), mr_v_int(t->assignee_id),
		mr_v_int(t->due_from), mr_v_int(t->due_to),
		mr_v_int(t->priority ? t->priority : MR_TASK_PRIORITY_DEFAULT),
		mr_v_text(mr_task_source_name(t->source ? t->source : MR_TSRC_PERSON)), mr_v_text(t->source_ref),
		mr_v_text(t->reason), mr_v_text(t->channel), mr_v_text(t->content), mr_v_text(t->topic),
		mr_v_text(who), mr_v_int(t->now), mr_v_text(who), mr_v_int(t->now),
	};
	const char *sql = "INSERT INTO tasks (type, hcp_id, assignee_id, due_from, due_to, priority, status, source,"
			  " source_ref, reason, channel, content, topic, created_by, created_at, updated_by, updated_at)"
			  " VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	int rc = mr_task_check(t, err);

	if (rc < 0)
		return rc;
	if (pg) {
		char q[600];

		snprintf(q, sizeof(q), "%s RETURNING id", sql);
		rc = mr_conn_query_int(c, q, args, 16, id, err);
	} else {
		rc = mr_conn_exec(c, sql, args, 16, NULL, err);
		if (rc == 0)
			rc = mr_conn_query_int(c, "SELECT last_insert_rowid()", NULL, 0, id, err);
	}
	if (rc == 0)
		rc = mr_task_log(c, *id, t->now, t->by, "created", NULL, "open", t->reason, t->request_id, err);
	return rc;
}

int mr_task_read(struct mr_conn *c, int64_t id, struct mr_task_row *row, struct mr_err *err)
{
	struct mr_val arg = mr_v_int(id);
	struct mr_rows *rows = NULL;
	int rc = mr_conn_query(c,
			       "SELECT id, hcp_id, assignee_id, due_from, due_to, type, status, priority FROM tasks"
			       " WHERE id = ?",
			       &arg, 1, &rows, err);

	memset(row, 0, sizeof(*row));
	if (rc == 0)
		rc = mr_rows_next(rows, err);
	if (rc == 1) {
		row->id = mr_rows_int(rows, 0);
		row->hcp_id = mr_rows_int(rows, 1);
		row->assignee_id = mr_rows_int(rows, 2);
		row->due_from = mr_rows_int(rows, 3);
		row->due_to = mr_rows_int(rows, 4);
		row->type = mr_task_type_parse(mr_rows_text(rows, 5));
		row->status = mr_task_status_parse(mr_rows_text(rows, 6));
		row->priority = (int)mr_rows_int(rows, 7);
		rc = 0;
	} else if (rc == 0) {
		rc = mr_err_set(err, MR_ENOTFOUND, "task %lld does not exist", (long long)id);
	}
	mr_rows_close(rows);
	return rc;
}

static int mr_task_rep_ext(struct mr_conn *c, int64_t rep_id, char *out, size_t cap, struct mr_err *err)
{
	struct mr_val arg = mr_v_int(rep_id);
	struct mr_rows *rows = NULL;
	int rc = mr_conn_query(c, "SELECT ext_id FROM reps WHERE id = ?", &arg, 1, &rows, err);

	snprintf(out, cap, "%lld", (long long)rep_id);
	if (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		snprintf(out, cap, "%s", mr_rows_text(rows, 0));
		rc = 0;
	}
	mr_rows_close(rows);
	return rc < 0 ? rc : 0;
}

static void mr_task_window_text(int64_t from, int64_t to, char *out, size_t cap)
{
	char a[40], b[40];

	mr_time_format(from, a, sizeof(a));
	mr_time_format(to, b, sizeof(b));
	snprintf(out, cap, "%s/%s", a, b);
}

/* The checks of a patch against the row it changes. */
static int mr_task_patch_check(const struct mr_task_row *row, const struct mr_task_patch *p, struct mr_err *err)
{
	int moves = p->status && p->status != row->status;

	if ((moves && !mr_task_transition_ok(row->status, p->status)) || (p->dismiss_reason && !mr_task_active(row->status))) {
		mr_err_set(err, MR_ECONFLICT, "task %lld cannot go from %s to %s", (long long)row->id,
			   mr_task_status_name(row->status), mr_task_status_name(p->status));
		return mr_err_kind(err, "invalid_transition");
	}
	if (!mr_task_active(row->status) && (p->assignee_id || p->due_from || p->priority)) {
		mr_err_set(err, MR_ECONFLICT, "task %lld is %s: it can no longer be reassigned, rescheduled or"
			   " reprioritised", (long long)row->id, mr_task_status_name(row->status));
		return mr_err_kind(err, "task_closed");
	}
	if ((p->due_from || p->due_to) && p->due_to < p->due_from)
		return mr_err_field(err, MR_EINVAL, "due_to", "\"due_to\" lies before \"due_from\"");
	if (p->priority < 0 || p->priority > 5)
		return mr_err_field(err, MR_EINVAL, "priority", "\"priority\" runs from 1 (highest) to 5");
	if (p->dismiss_reason && p->status != MR_TS_CANCELLED)
		return mr_err_field(err, MR_EINVAL, "reason", "a dismissal cancels the task");
	return 0;
}

/* Appends "col = ?" to the SET list in b. */
static void mr_task_set(struct mr_buf *b, const char *col, struct mr_val v, struct mr_val *args, int *n)
{
	mr_buf_addf(b, ", %s = ?", col);
	args[(*n)++] = v;
}

/* The history rows of a patch (after its UPDATE). */
static int mr_task_patch_log(struct mr_conn *c, const struct mr_task_row *row, const struct mr_task_patch *p,
			     struct mr_err *err)
{
	char a[80], b[80];
	int rc = 0;

	if (p->status && p->status != row->status) {
		const char *action = p->dismiss_reason ? "dismissed" : p->fulfilled_event ? "fulfilled" : "status";

		rc = mr_task_log(c, row->id, p->now, p->by, action, mr_task_status_name(row->status),
				 mr_task_status_name(p->status), p->dismiss_reason ? p->dismiss_reason : p->fulfilled_event,
				 p->request_id, err);
	}
	if (rc == 0 && p->assignee_id && p->assignee_id != row->assignee_id) {
		rc = mr_task_rep_ext(c, row->assignee_id, a, sizeof(a), err);
		if (rc == 0)
			rc = mr_task_rep_ext(c, p->assignee_id, b, sizeof(b), err);
		if (rc == 0)
			rc = mr_task_log(c, row->id, p->now, p->by, "assignee", a, b, NULL, p->request_id, err);
	}
	if (rc == 0 && p->due_from && (p->due_from != row->due_from || p->due_to != row->due_to)) {
		mr_task_window_text(row->due_from, row->due_to, a, sizeof(a));
		mr_task_window_text(p->due_from, p->due_to, b, sizeof(b));
		rc = mr_task_log(c, row->id, p->now, p->by, "due", a, b, NULL, p->request_id, err);
	}
	if (rc == 0 && p->priority && p->priority != row->priority) {
		snprintf(a, sizeof(a), "%d", row->priority);
		snprintf(b, sizeof(b), "%d", p->priority);
		rc = mr_task_log(c, row->id, p->now, p->by, "priority", a, b, NULL, p->request_id, err);
	}
	return rc;
}

int mr_task_update(struct mr_conn *c, int64_t id, const struct mr_task_patch *p, int *changed,
		   struct mr_err *err)
{
	struct mr_task_row row;
	struct mr_val args[12];
	struct mr_buf sql;
	int n = 0, any = 0;
	int rc = mr_task_read(c, id, &row, err);

	if (changed)
		*changed = 0;
	if (rc == 0)
		rc = mr_task_patch_check(&row, p, err);
	if (rc < 0)
		return rc;
	mr_buf_init(&sql, 4096);
	mr_buf_adds(&sql, "UPDATE tasks SET updated_at = ?");
	args[n++] = mr_v_int(p->now);
	mr_task_set(&sql, "updated_by", mr_v_text(mr_task_who(p->by)), args, &n);
	if (p->status && p->status != row.status) {
		any = 1;
		mr_task_set(&sql, "status", mr_v_text(mr_task_status_name(p->status)), args, &n);
		if (!mr_task_active(p->status))
			mr_task_set(&sql, "closed_at", mr_v_int(p->now), args, &n);
		if (p->dismiss_reason)
			mr_task_set(&sql, "dismiss_reason", mr_v_text(p->dismiss_reason), args, &n);
		if (p->fulfilled_event) {
			mr_task_set(&sql, "fulfilled_event", mr_v_text(p->fulfilled_event), args, &n);
			mr_task_set(&sql, "fulfilled_seq", p->fulfilled_seq ? mr_v_int(p->fulfilled_seq) : mr_v_null(), args,
				    &n);
		}
	}
	if (p->assignee_id && p->assignee_id != row.assignee_id) {
		any = 1;
		mr_task_set(&sql, "assignee_id", mr_v_int(p->assignee_id), args, &n);
	}
	if (p->due_from && (p->due_from != row.due_from || p->due_to != row.due_to)) {
		any = 1;
		mr_task_set(&sql, "due_from", mr_v_int(p->due_from), args, &n);
		mr_task_set(&sql, "due_to", mr_v_int(p->due_to), args, &n);
	}
	if (p->priority && p->priority != row.priority) {
		any = 1;
		mr_task_set(&sql, "priority", mr_v_int(p->priority), args, &n);
	}
	mr_buf_adds(&sql, " WHERE id = ?");
	args[n++] = mr_v_int(id);
	if (any)
		rc = mr_conn_exec(c, mr_buf_str(&sql), args, n, NULL, err);
	mr_buf_release(&sql);
	if (rc == 0 && any)
		rc = mr_task_patch_log(c, &row, p, err);
	if (changed)
		*changed = any;
	return rc;
}

int mr_task_fulfil(struct mr_conn *c, int64_t id, const char *eid, int64_t seq, int64_t now, int *done,
		   struct mr_err *err)
{
	struct mr_val args[5] = { mr_v_text(eid), mr_v_int(seq), mr_v_int(now), mr_v_int(now), mr_v_int(id) };
	const char *from = NULL;
	struct mr_rows *rows = NULL;
	int64_t n = 0;
	int rc;

	*done = 0;
	{
		struct mr_val arg = mr_v_int(id);

		rc = mr_conn_query(c, "SELECT status FROM tasks WHERE id = ?", &arg, 1, &rows, err);
		if (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
			from = mr_task_status_name(mr_task_status_parse(mr_rows_text(rows, 0)));
			rc = 0;
		}
		mr_rows_close(rows);
	}
	if (rc < 0 || !from || !mr_task_active(mr_task_status_parse(from)))
		return rc < 0 ? rc : 0;
	rc = mr_conn_exec(c,
			  "UPDATE tasks SET status = 'done', fulfilled_event = ?, fulfilled_seq = ?, updated_by = 'system',"
			  " updated_at = ?, closed_at = ? WHERE id = ? AND status IN ('open', 'in_progress')",
			  args, 5, &n, err);
	if (rc == 0 && n == 1) {
		*done = 1;
		rc = mr_task_log(c, id, now, NULL, "fulfilled", from, "done", eid, NULL, err);
	}
	return rc;
}

int mr_task_expire(struct mr_conn *c, int64_t now, int64_t *ids, int max, int *n, struct mr_err *err)
{
	struct mr_val args[2] = { mr_v_int(now - MR_TASK_GRACE_US), mr_v_int(max) };
	char (*from)[16] = NULL;
	struct mr_rows *rows = NULL;
	int rc = mr_conn_query(c,
			       "SELECT id, status FROM tasks WHERE status IN ('open', 'in_progress') AND due_to < ?"
			       " ORDER BY due_to, id LIMIT ?",
			       args, 2, &rows, err);

	*n = 0;
	from = max > 0 ? mr_calloc((size_t)max, sizeof(*from)) : NULL;
	while (rc == 0 && from && (rc = mr_rows_next(rows, err)) == 1) {
		rc = 0;
		ids[*n] = mr_rows_int(rows, 0);
		snprintf(from[*n], sizeof(from[*n]), "%s", mr_rows_text(rows, 1));
		(*n)++;
	}
	mr_rows_close(rows);
	for (int i = 0; rc == 0 && i < *n; i++) {
		struct mr_val up[3] = { mr_v_int(now), mr_v_int(now), mr_v_int(ids[i]) };

		rc = mr_conn_exec(c,
				  "UPDATE tasks SET status = 'expired', updated_by = 'system', updated_at = ?, closed_at = ?"
				  " WHERE id = ?",
				  up, 3, NULL, err);
		if (rc == 0)
			rc = mr_task_log(c, ids[i], now, NULL, "expired", from[i], "expired", NULL, NULL, err);
	}
	free(from);
	return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------ alignments */

int mr_task_aligned(struct mr_conn *c, int64_t hcp_id, int64_t rep_id, int64_t at, int *yes, struct mr_err *err)
{
	struct mr_val args[4] = { mr_v_int(hcp_id), mr_v_int(rep_id), mr_v_int(at), mr_v_int(at) };
	int64_t n = 0;
	int rc = mr_conn_query_int(c,
				   "SELECT COUNT(*) FROM alignments WHERE hcp_id = ? AND rep_id = ? AND deleted_at IS NULL"
				   " AND role IN ('field_owner', 'inside_owner') AND valid_from <= ?"
				   " AND (valid_to IS NULL OR valid_to > ?)",
				   args, 4, &n, err);

	*yes = n > 0;
	return rc;
}

int mr_task_field_owner(struct mr_conn *c, int64_t hcp_id, int64_t at, int64_t *rep_id, struct mr_err *err)
{
	struct mr_val args[3] = { mr_v_int(hcp_id), mr_v_int(at), mr_v_int(at) };
	int rc = mr_conn_query_int(c,
				   "SELECT a.rep_id FROM alignments a JOIN reps r ON r.id = a.rep_id WHERE a.hcp_id = ?"
				   " AND a.role = 'field_owner' AND a.deleted_at IS NULL AND r.deleted_at IS NULL"
				   " AND a.valid_from <= ? AND (a.valid_to IS NULL OR a.valid_to > ?) ORDER BY a.id LIMIT 1",
				   args, 3, rep_id, err);

	if (rc == MR_ENOTFOUND) {
		*rep_id = 0;
		mr_err_clear(err);
		return 0;
	}
	return rc;
}

/*
 * The reps a manager (rep id, given twice) leads: those below them in the
 * manager tree, and those of their territory and the territories under it.
 */
#define MR_TASK_LED_REPS                                                                                     \
	"(WITH RECURSIVE team(id) AS (SELECT CAST(? AS BIGINT) UNION SELECT r.id FROM reps r"                   \
	" JOIN team m ON r.manager_id = m.id WHERE r.deleted_at IS NULL),"                                       \
	" terr(id) AS (SELECT m2.territory_id FROM reps m2 WHERE m2.id = CAST(? AS BIGINT)"                      \
	" AND m2.territory_id IS NOT NULL UNION SELECT tt.id FROM territories tt JOIN terr ON tt.parent_id = terr.id" \
	" WHERE tt.deleted_at IS NULL)"                                                                          \
	" SELECT id FROM team UNION SELECT r2.id FROM reps r2 WHERE r2.deleted_at IS NULL"                       \
	" AND r2.territory_id IN (SELECT id FROM terr))"

int mr_task_in_team(struct mr_conn *c, int64_t manager_id, int64_t rep_id, int *yes, struct mr_err *err)
{
	struct mr_val args[3] = { mr_v_int(rep_id), mr_v_int(manager_id), mr_v_int(manager_id) };
	int64_t n = 0;
	int rc = mr_conn_query_int(c, "SELECT COUNT(*) FROM reps WHERE id = ? AND id IN " MR_TASK_LED_REPS, args, 3, &n,
				   err);

	*yes = n > 0;
	return rc;
}

int mr_task_rep_id(struct mr_conn *c, const char *ext, int64_t *id, struct mr_err *err)
{
	struct mr_val arg = mr_v_text(ext);
	int rc = mr_conn_query_int(c, "SELECT id FROM reps WHERE ext_id = ? AND deleted_at IS NULL", &arg, 1, id, err);

	if (rc == MR_ENOTFOUND)
		return mr_err_set(err, MR_ENOTFOUND, "rep %.64s does not exist", ext);
	return rc;
}

/* ------------------------------------------------------------ reads */

int64_t mr_task_day_start(int64_t now)
{
	const int64_t day = INT64_C(86400) * MR_US_PER_S, east = INT64_C(8) * 3600 * MR_US_PER_S;
	int64_t local = now + east;
	int64_t start = local - ((local % day) + day) % day;

	return start - east;
}

int64_t mr_task_week_start(int64_t now)
{
	const int64_t day = INT64_C(86400) * MR_US_PER_S, east = INT64_C(8) * 3600 * MR_US_PER_S;
	int64_t today = mr_task_day_start(now);
	int64_t days = (today + east) / day;          /* days since 1970-01-01 (a Thursday) */
	int64_t since_monday = ((days + 3) % 7 + 7) % 7;

	return today - since_monday * day;
}

/* The scope's condition on tasks tk, with its arguments: a manager's are the reps they lead and their doctors'. */
static void mr_task_scope_sql(const struct mr_task_scope *s, struct mr_buf *b, struct mr_val *args, int *n)
{
	static const char team[] = "(WITH RECURSIVE team(id) AS (SELECT CAST(? AS BIGINT) UNION SELECT r.id FROM reps r"
				   " JOIN team m ON r.manager_id = m.id WHERE r.deleted_at IS NULL) SELECT id FROM team)";

	switch (s->kind) {
	case MR_SCOPE_ALL:
		return;
	case MR_SCOPE_NONE:
		mr_buf_adds(b, " AND 1 = 0");
		return;
	case MR_SCOPE_REP:
		mr_buf_adds(b, " AND tk.assignee_id = ?");
		args[(*n)++] = mr_v_int(s->rep_id);
		return;
	case MR_SCOPE_TEAM:
		mr_buf_addf(b, " AND (tk.assignee_id IN %s OR tk.hcp_id IN (SELECT a.hcp_id FROM alignments a"
			    " WHERE a.rep_id IN %s AND a.deleted_at IS NULL AND a.valid_from <= ?"
			    " AND (a.valid_to IS NULL OR a.valid_to > ?)))", MR_TASK_LED_REPS, team);
		args[(*n)++] = mr_v_int(s->rep_id);
		args[(*n)++] = mr_v_int(s->rep_id);
		args[(*n)++] = mr_v_int(s->rep_id);
		args[(*n)++] = mr_v_int(s->at);
		args[(*n)++] = mr_v_int(s->at);
		return;
	}
}

#define MR_TASK_COLS                                                                                         \
	"tk.id, tk.type, h.ext_id, h.name, r.ext_id, r.name, tk.due_from, tk.due_to, tk.priority, tk.status,"    \
	" tk.source, tk.source_ref, tk.reason, tk.channel, tk.content, tk.topic, tk.fulfilled_event,"          \
	" tk.fulfilled_seq, tk.dismiss_reason, tk.created_by, tk.created_at, tk.updated_by, tk.updated_at,"    \
	" tk.closed_at FROM tasks tk JOIN hcps h ON h.id = tk.hcp_id JOIN reps r ON r.id = tk.assignee_id"

static json_t *mr_task_row_json(struct mr_rows *rows, int64_t now)
{
	static const char *const texts[] = { NULL, "type", "hcp", "hcp_name", "assignee", "assignee_name" };
	static const char *const more[] = { "status", "source", "source_ref", "reason", "channel", "content", "topic",
					    "fulfilled_event" };
	json_t *o = json_object();
	int status;

	json_object_set_new(o, "id", json_integer(mr_rows_int(rows, 0)));
	for (int i = 1; i <= 5; i++)
		mr_json_set_str(o, texts[i], mr_rows_text(rows, i));
	mr_json_set_time(o, "due_from", mr_rows_int(rows, 6));
	mr_json_set_time(o, "due_to", mr_rows_int(rows, 7));
	json_object_set_new(o, "priority", json_integer(mr_rows_int(rows, 8)));
	for (int i = 0; i < 8; i++)
		mr_json_set_str(o, more[i], mr_rows_text(rows, 9 + i));
	json_object_set_new(o, "fulfilled_seq", mr_rows_isnull(rows, 17) ? json_null() : json_integer(mr_rows_int(rows, 17)));
	mr_json_set_str(o, "dismiss_reason", mr_rows_text(rows, 18));
	mr_json_set_str(o, "created_by", mr_rows_text(rows, 19));
	mr_json_set_time(o, "created_at", mr_rows_int(rows, 20));
	mr_json_set_str(o, "updated_by", mr_rows_text(rows, 21));
	mr_json_set_time(o, "updated_at", mr_rows_int(rows, 22));
	mr_json_set_time(o, "closed_at", mr_rows_isnull(rows, 23) ? 0 : mr_rows_int(rows, 23));
	status = mr_task_status_parse(mr_rows_text(rows, 9));
	json_object_set_new(o, "overdue", json_boolean(mr_task_active(status) && mr_rows_int(rows, 7) < now));
	return o;
}

/* The list's filters as SQL conditions on tk. */
static void mr_task_filter_sql(const struct mr_task_query *q, struct mr_buf *b, struct mr_val *args, int *n)
{
	int64_t today = mr_task_day_start(q->now), day = INT64_C(86400) * MR_US_PER_S;

	if (q->assignee_id) {
		mr_buf_adds(b, " AND tk.assignee_id = ?");
		args[(*n)++] = mr_v_int(q->assignee_id);
	}
	if (q->hcp_id) {
		mr_buf_adds(b, " AND tk.hcp_id = ?");
		args[(*n)++] = mr_v_int(q->hcp_id);
	}
	if (q->source) {
		mr_buf_adds(b, " AND tk.source = ?");
		args[(*n)++] = mr_v_text(mr_task_source_name(q->source));
	}
	if (q->statuses) {
		const char *sep = "";

		mr_buf_adds(b, " AND tk.status IN (");
		for (int s = 1; s < MR_TS_COUNT; s++) {
			if (q->statuses & (1 << s)) {
				mr_buf_addf(b, "%s'%s'", sep, mr_task_status_name(s));
				sep = ", ";
			}
		}
		mr_buf_adds(b, ")");
	}
	if (q->due == MR_TDUE_TODAY || q->due == MR_TDUE_WEEK) {
		mr_buf_adds(b, " AND tk.due_from < ? AND tk.due_to >= ?");
		args[(*n)++] = mr_v_int(today + (q->due == MR_TDUE_TODAY ? 1 : 7) * day);
		args[(*n)++] = mr_v_int(today);
	} else if (q->due == MR_TDUE_OVERDUE) {
		mr_buf_adds(b, " AND tk.status IN ('open', 'in_progress') AND tk.due_to < ?");
		args[(*n)++] = mr_v_int(q->now);
	}
}

int mr_task_list(struct mr_conn *c, const struct mr_task_scope *s, const struct mr_task_query *q,
		 json_t *items, int64_t *next, struct mr_err *err)
{
	struct mr_val args[16];
	struct mr_rows *rows = NULL;
	struct mr_buf sql;
	int n = 0, got = 0, rc;

	*next = 0;
	mr_buf_init(&sql, 8192);
	mr_buf_adds(&sql, "SELECT " MR_TASK_COLS " WHERE tk.id > ?");
	args[n++] = mr_v_int(q->cursor);
	mr_task_filter_sql(q, &sql, args, &n);
	mr_task_scope_sql(s, &sql, args, &n);
	mr_buf_adds(&sql, " ORDER BY tk.id LIMIT ?");
	args[n++] = mr_v_int(q->limit + 1);
	rc = mr_conn_query(c, mr_buf_str(&sql), args, n, &rows, err);
	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		rc = 0;
		if (got++ == q->limit) {
			*next = json_integer_value(json_object_get(json_array_get(items, json_array_size(items) - 1), "id"));
			break;
		}
		json_array_append_new(items, mr_task_row_json(rows, q->now));
	}
	mr_rows_close(rows);
	mr_buf_release(&sql);
	return rc < 0 ? rc : 0;
}

static int mr_task_history(struct mr_conn *c, int64_t id, json_t *items, struct mr_err *err)
{
	struct mr_val arg = mr_v_int(id);
	struct mr_rows *rows = NULL;
	int rc = mr_conn_query(c,
			       "SELECT at, by_login, action, from_value, to_value, note FROM task_changes WHERE task_id = ?"
			       " ORDER BY id",
			       &arg, 1, &rows, err);

	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		json_t *o = json_object();

		rc = 0;
		mr_json_set_time(o, "at", mr_rows_int(rows, 0));
		mr_json_set_str(o, "by", mr_rows_text(rows, 1));
		mr_json_set_str(o, "action", mr_rows_text(rows, 2));
		mr_json_set_str(o, "from", mr_rows_text(rows, 3));
		mr_json_set_str(o, "to", mr_rows_text(rows, 4));
		mr_json_set_str(o, "note", mr_rows_text(rows, 5));
		json_array_append_new(items, o);
	}
	mr_rows_close(rows);
	return rc < 0 ? rc : 0;
}

int mr_task_get(struct mr_conn *c, int64_t id, int history, json_t **out, struct mr_err *err)
{
	struct mr_val arg = mr_v_int(id);
	struct mr_rows *rows = NULL;
	int rc = mr_conn_query(c, "SELECT " MR_TASK_COLS " WHERE tk.id = ?", &arg, 1, &rows, err);

	*out = NULL;
	if (rc == 0)
		rc = mr_rows_next(rows, err);
	if (rc == 1) {
		*out = mr_task_row_json(rows, mr_now_us());
		rc = 0;
	} else if (rc == 0) {
		rc = mr_err_set(err, MR_ENOTFOUND, "task %lld does not exist", (long long)id);
	}
	mr_rows_close(rows);
	if (rc == 0 && history) {
		json_t *h = json_array();

		json_object_set_new(*out, "history", h);
		rc = mr_task_history(c, id, h, err);
	}
	if (rc < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

int mr_task_in_scope(struct mr_conn *c, const struct mr_task_scope *s, const struct mr_task_row *row, int *yes,
		     struct mr_err *err)
{
	struct mr_val args[8];
	struct mr_buf sql;
	int64_t n = 0;
	int nargs = 0, rc;

	*yes = s->kind == MR_SCOPE_ALL || (s->kind == MR_SCOPE_REP && row->assignee_id == s->rep_id);
	if (s->kind != MR_SCOPE_TEAM)
		return 0;
	mr_buf_init(&sql, 4096);
	mr_buf_adds(&sql, "SELECT COUNT(*) FROM tasks tk WHERE tk.id = ?");
	args[nargs++] = mr_v_int(row->id);
	mr_task_scope_sql(s, &sql, args, &nargs);
	rc = mr_conn_query_int(c, mr_buf_str(&sql), args, nargs, &n, err);
	mr_buf_release(&sql);
	*yes = n > 0;
	return rc;
}

int mr_task_summary(struct mr_conn *c, const struct mr_task_scope *s, int64_t now, json_t *items,
		    struct mr_err *err)
{
	int64_t today = mr_task_day_start(now), day = INT64_C(86400) * MR_US_PER_S;
	struct mr_val args[12] = { mr_v_int(today + day), mr_v_int(today), mr_v_int(now), mr_v_int(mr_task_week_start(now)) };
	struct mr_rows *rows = NULL;
	struct mr_buf sql;
	int n = 4, rc;

	mr_buf_init(&sql, 8192);
	mr_buf_adds(&sql,
		    "SELECT r.ext_id, r.name,"
		    " SUM(CASE WHEN tk.status IN ('open', 'in_progress') THEN 1 ELSE 0 END),"
		    " SUM(CASE WHEN tk.status IN ('open', 'in_progress') AND tk.due_from < ? AND tk.due_to >= ?"
		    " THEN 1 ELSE 0 END),"
		    " SUM(CASE WHEN tk.status IN ('open', 'in_progress') AND tk.due_to < ? THEN 1 ELSE 0 END),"
		    " SUM(CASE WHEN tk.status = 'done' AND tk.closed_at >= ? THEN 1 ELSE 0 END)"
		    " FROM tasks tk JOIN reps r ON r.id = tk.assignee_id WHERE 1 = 1");
	mr_task_scope_sql(s, &sql, args, &n);
	mr_buf_adds(&sql, " GROUP BY r.ext_id, r.name ORDER BY r.ext_id");
	rc = mr_conn_query(c, mr_buf_str(&sql), args, n, &rows, err);
	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		rc = 0;
		json_array_append_new(items, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "assignee", mr_rows_text(rows, 0),
						       "name", mr_rows_text(rows, 1), "open", (json_int_t)mr_rows_int(rows, 2),
						       "due_today", (json_int_t)mr_rows_int(rows, 3), "overdue",
						       (json_int_t)mr_rows_int(rows, 4), "done_week",
						       (json_int_t)mr_rows_int(rows, 5)));
	}
	mr_rows_close(rows);
	mr_buf_release(&sql);
	return rc < 0 ? rc : 0;
}
