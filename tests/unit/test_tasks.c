/*
 * Tasks (src/tasks/task.c): the words, the state machine against a table
 * written out by hand, which event fulfils which task (channel, outcome,
 * rep, content and meeting, the window's edges to the microsecond), what
 * chains a visit, the Asia/Shanghai day and week, and the store side on
 * both backends: create, change with its history, a forbidden move's 409,
 * fulfilment only once, expiry past the grace, scope and the summary.
 */
#include <jansson.h>

#include "base/time.h"
#include "event/event.h"
#include "md/md.h"
#include "tasks/task.h"
#include "unit.h"
#include "world.h"

static int64_t T(const char *s)
{
	int64_t us = 0;

	assert_int_equal(mr_time_parse(s, 0, &us), 0);
	return us;
}

static void test_words(void **state)
{
	(void)state;
	assert_int_equal(mr_task_type_parse("meeting_invite"), MR_TT_MEETING_INVITE);
	assert_int_equal(mr_task_type_parse("fax"), MR_TT_NONE);
	assert_int_equal(mr_task_type_parse(NULL), MR_TT_NONE);
	for (int t = 1; t < MR_TT_COUNT; t++)
		assert_int_equal(mr_task_type_parse(mr_task_type_name(t)), t);
	for (int s = 1; s < MR_TS_COUNT; s++)
		assert_int_equal(mr_task_status_parse(mr_task_status_name(s)), s);
	for (int s = 1; s < MR_TSRC_COUNT; s++)
		assert_int_equal(mr_task_source_parse(mr_task_source_name(s)), s);
	assert_null(mr_task_status_name(0));
	assert_null(mr_task_status_name(MR_TS_COUNT));
	assert_string_equal(mr_task_status_name(MR_TS_IN_PROGRESS), "in_progress");
}

static void test_state_machine(void **state)
{
	/* rows: from; columns: to (open, in_progress, done, cancelled, expired) */
	static const char *const allowed[MR_TS_COUNT] = {
		[MR_TS_OPEN] = "01111",
		[MR_TS_IN_PROGRESS] = "00111",
		[MR_TS_DONE] = "00000",
		[MR_TS_CANCELLED] = "00000",
		[MR_TS_EXPIRED] = "00000",
	};

	(void)state;
	for (int from = 1; from < MR_TS_COUNT; from++) {
		for (int to = 1; to < MR_TS_COUNT; to++) {
			int want = allowed[from][to - 1] == '1';

			if (mr_task_transition_ok(from, to) != want)
				fail_msg("%s -> %s: %d", mr_task_status_name(from), mr_task_status_name(to), !want);
		}
	}
	assert_false(mr_task_transition_ok(0, MR_TS_DONE));
	assert_false(mr_task_transition_ok(MR_TS_OPEN, MR_TS_COUNT));
	assert_true(mr_task_active(MR_TS_OPEN));
	assert_true(mr_task_active(MR_TS_IN_PROGRESS));
	assert_false(mr_task_active(MR_TS_DONE));
	assert_false(mr_task_active(MR_TS_EXPIRED));
}

enum { REP = 7, OTHER = 8 };
#define FROM INT64_C(1000000000000000)
#define TO (FROM + INT64_C(86400000000))

struct mcase {
	int type;
	const char *channel, *outcome;
	int64_t rep;
	const char *content, *meeting;
	const char *task_content;
	int want;
};

static void test_matching(void **state)
{
	static const struct mcase cases[] = {
		/* call: a phone call answered or better, by the assignee or no rep */
		{ MR_TT_CALL, "phone", "answered", REP, NULL, NULL, NULL, 1 },
		{ MR_TT_CALL, "phone", "effective", 0, NULL, NULL, NULL, 1 },
		{ MR_TT_CALL, "phone", "no_answer", REP, NULL, NULL, NULL, 0 },
		{ MR_TT_CALL, "phone", "answered", OTHER, NULL, NULL, NULL, 0 },
		{ MR_TT_CALL, "wechat", "responded", REP, NULL, NULL, NULL, 0 },
		/* wechat: wechat or wecom, any rung */
		{ MR_TT_WECHAT, "wechat", "sent", REP, NULL, NULL, NULL, 1 },
		{ MR_TT_WECHAT, "wecom", "read", REP, NULL, NULL, NULL, 1 },
		{ MR_TT_WECHAT, "sms", "read", REP, NULL, NULL, NULL, 0 },
		/* visit: a completed visit, not a planned one */
		{ MR_TT_VISIT, "visit", "completed", REP, NULL, NULL, NULL, 1 },
		{ MR_TT_VISIT, "visit", "planned", REP, NULL, NULL, NULL, 0 },
		{ MR_TT_VISIT, "meeting_offline", "attended", REP, NULL, NULL, NULL, 0 },
		/* meeting_invite: a meeting invitation, or a message naming a meeting */
		{ MR_TT_MEETING_INVITE, "meeting_online", "invited", REP, NULL, NULL, NULL, 1 },
		{ MR_TT_MEETING_INVITE, "meeting_offline", "registered", 0, NULL, NULL, NULL, 1 },
		{ MR_TT_MEETING_INVITE, "wecom", "sent", REP, NULL, "M77", NULL, 1 },
		{ MR_TT_MEETING_INVITE, "wechat", "sent", REP, NULL, NULL, NULL, 0 },
		{ MR_TT_MEETING_INVITE, "phone", "effective", REP, NULL, "M77", NULL, 0 },
		/* send_content: a share, e-mail or message naming content (the task's own, when it names one) */
		{ MR_TT_SEND_CONTENT, "email", "sent", REP, "C1", NULL, NULL, 1 },
		{ MR_TT_SEND_CONTENT, "content", "viewed", 0, "C1", NULL, "C1", 1 },
		{ MR_TT_SEND_CONTENT, "wechat", "delivered", REP, "C2", NULL, "C1", 0 },
		{ MR_TT_SEND_CONTENT, "wechat", "delivered", REP, NULL, NULL, NULL, 0 },
		{ MR_TT_SEND_CONTENT, "phone", "effective", REP, "C1", NULL, NULL, 0 },
		/* follow_up: anything, but only the assignee's own */
		{ MR_TT_FOLLOW_UP, "sms", "sent", REP, NULL, NULL, NULL, 1 },
		{ MR_TT_FOLLOW_UP, "visit", "planned", REP, NULL, NULL, NULL, 1 },
		{ MR_TT_FOLLOW_UP, "content", "viewed", 0, "C1", NULL, NULL, 0 },
		{ MR_TT_FOLLOW_UP, "phone", "effective", OTHER, NULL, NULL, NULL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct mcase *c = &cases[i];
		int ch = mr_channel_parse(c->channel);
		struct mr_task_want w = { c->type, REP, FROM, TO, c->task_content };
		struct mr_task_ev ev = { ch, mr_outcome_parse(ch, c->outcome), c->rep, FROM + 5, c->content, c->meeting };

		assert_true(ev.outcome >= 0);
		if (mr_task_matches(&w, &ev) != c->want)
			fail_msg("case %zu: %s task, %s %s by %lld: want %d", i, mr_task_type_name(c->type), c->channel,
				 c->outcome, (long long)c->rep, c->want);
	}
}

static void test_window_edges(void **state)
{
	struct mr_task_want w = { MR_TT_CALL, REP, FROM, TO, NULL };
	struct mr_task_ev ev = { MR_CH_PHONE, 1, REP, FROM, NULL, NULL };
	int need = -1;

	(void)state;
	assert_true(mr_task_matches(&w, &ev));          /* the first microsecond counts */
	ev.ts = FROM - 1;
	assert_false(mr_task_matches(&w, &ev));         /* events before due_from do not */
	ev.ts = TO;
	assert_true(mr_task_matches(&w, &ev));          /* the last one does */
	ev.ts = TO + 1;
	assert_false(mr_task_matches(&w, &ev));
	/* the pre-check says when only the event's texts can tell */
	w.type = MR_TT_SEND_CONTENT;
	ev.channel = MR_CH_EMAIL;
	ev.ts = FROM;
	assert_true(mr_task_may_match(&w, &ev, &need));
	assert_int_equal(need, 1);
	w.type = MR_TT_CALL;
	ev.channel = MR_CH_PHONE;
	assert_true(mr_task_may_match(&w, &ev, &need));
	assert_int_equal(need, 0);
}

static void test_chains(void **state)
{
	struct mr_task_ev reg = { MR_CH_MEETING_ONLINE, mr_outcome_parse(MR_CH_MEETING_ONLINE, "registered"), REP, FROM,
				  NULL, "M1" };
	struct mr_task_ev inv = reg, resp = reg, read = reg;

	(void)state;
	inv.outcome = mr_outcome_parse(MR_CH_MEETING_ONLINE, "invited");
	resp.channel = read.channel = MR_CH_WECHAT;
	resp.outcome = mr_outcome_parse(MR_CH_WECHAT, "responded");
	read.outcome = mr_outcome_parse(MR_CH_WECHAT, "read");
	assert_true(mr_task_chains(MR_TT_MEETING_INVITE, &reg));
	assert_false(mr_task_chains(MR_TT_MEETING_INVITE, &inv));
	assert_true(mr_task_chains(MR_TT_WECHAT, &resp));
	assert_false(mr_task_chains(MR_TT_WECHAT, &read));
	assert_false(mr_task_chains(MR_TT_CALL, &resp));
	assert_false(mr_task_chains(MR_TT_SEND_CONTENT, &reg));
}

static void test_day_week(void **state)
{
	(void)state;
	/* Sunday 2026-12-06 22:00 in Shanghai: the day began 2026-12-06 00:00 +08, the week Monday 11-30 */
	assert_int_equal(mr_task_day_start(T("2026-12-06T14:00:00Z")), T("2026-12-05T16:00:00Z"));
	assert_int_equal(mr_task_week_start(T("2026-12-06T14:00:00Z")), T("2026-11-29T16:00:00Z"));
	/* an hour into Monday 12-07 in Shanghai, still Sunday in UTC: a new day and a new week */
	assert_int_equal(mr_task_day_start(T("2026-12-06T17:00:00Z")), T("2026-12-06T16:00:00Z"));
	assert_int_equal(mr_task_week_start(T("2026-12-06T17:00:00Z")), T("2026-12-06T16:00:00Z"));
	/* the exact first microsecond of a day belongs to it */
	assert_int_equal(mr_task_day_start(T("2026-12-06T16:00:00Z")), T("2026-12-06T16:00:00Z"));
	assert_int_equal(mr_task_day_start(T("2026-12-06T16:00:00Z") - 1), T("2026-12-05T16:00:00Z"));
}

static void test_check(void **state)
{
	struct mr_task_new t = { MR_TT_CALL, 1, 2, FROM, TO, 0, 0, NULL, "ok", NULL, NULL, NULL, "u", NULL, FROM };
	struct mr_err err;

	(void)state;
	assert_int_equal(mr_task_check(&t, &err), 0);
	t.due_to = FROM - 1;
	assert_int_equal(mr_task_check(&t, &err), MR_EINVAL);
	assert_string_equal(err.field, "due_to");
	t.due_to = TO;
	t.priority = 6;
	assert_int_equal(mr_task_check(&t, &err), MR_EINVAL);
	assert_string_equal(err.field, "priority");
	t.priority = 1;
	t.reason = "\xff\xfe";
	assert_int_equal(mr_task_check(&t, &err), MR_EINVAL);
	assert_string_equal(err.field, "reason");
	t.reason = "a\x01";
	assert_int_equal(mr_task_check(&t, &err), MR_EINVAL);
	t.reason = NULL;
	t.type = 0;
	assert_int_equal(mr_task_check(&t, &err), MR_EINVAL);
	assert_string_equal(err.field, "type");
}

/* ------------------------------------------------------------ the store */

struct job {
	struct mr_task_new t;
	struct mr_task_patch p;
	int64_t id;
	int done, changed, n;
	int64_t ids[8];
};

static int create_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct job *j = arg;

	return mr_task_create(c, &j->t, &j->id, err);
}

static int update_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct job *j = arg;

	return mr_task_update(c, j->id, &j->p, &j->changed, err);
}

static int fulfil_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct job *j = arg;

	return mr_task_fulfil(c, j->id, "ev-1", 42, j->p.now, &j->done, err);
}

static int expire_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct job *j = arg;

	return mr_task_expire(c, j->p.now, j->ids, 8, &j->n, err);
}

static int64_t count(struct mr_store *s, const char *sql)
{
	struct mr_conn *c = NULL;
	struct mr_err err;
	int64_t n = -1;

	assert_int_equal(mr_store_acquire(s, &c, &err), 0);
	if (mr_conn_query_int(c, sql, NULL, 0, &n, &err) < 0)
		fail_msg("%s: %s", sql, err.msg);
	mr_store_release(s, c);
	return n;
}

static int64_t new_task(struct mr_store *s, int type, int64_t hcp, int64_t rep, int64_t from, int64_t to)
{
	struct job j;
	struct mr_err err;

	memset(&j, 0, sizeof(j));
	j.t = (struct mr_task_new){ type, hcp, rep, from, to, 0, 0, NULL, "because", NULL, NULL, NULL, "tester", NULL,
				    mr_now_us() };
	if (mr_store_write(s, create_fn, &j, &err) < 0)
		fail_msg("create: %s", err.msg);
	return j.id;
}

static void test_store(void **state)
{
	int pg = mr_test_backend(state);
	struct mr_test_db db;
	struct mr_keys keys;
	struct mr_task_row row;
	struct mr_conn *c = NULL;
	struct mr_err err;
	struct job j;
	int64_t d1, r1, r2, id, now = mr_now_us(), owner = 0;
	int yes = 0;

	mr_test_db_open(&db, pg);
	mr_test_keys(&keys, 3);
	mr_test_put(db.store, &keys, &mr_md_rep, json_pack("{s:s, s:s, s:s}", "id", "R1", "name", "张伟", "type", "field"));
	mr_test_put(db.store, &keys, &mr_md_rep, json_pack("{s:s, s:s, s:s}", "id", "R2", "name", "李娜", "type", "inside"));
	d1 = mr_test_put(db.store, &keys, &mr_md_hcp, json_pack("{s:s, s:s}", "id", "D1", "name", "王建国"));
	mr_test_align(db.store, "D1", "R1", "field_owner", now - 86400 * MR_US_PER_S, 0);
	assert_int_equal(mr_store_acquire(db.store, &c, &err), 0);
	assert_int_equal(mr_task_rep_id(c, "R1", &r1, &err), 0);
	assert_int_equal(mr_task_rep_id(c, "R2", &r2, &err), 0);
	assert_int_equal(mr_task_rep_id(c, "R404", &id, &err), MR_ENOTFOUND);
	assert_int_equal(mr_task_aligned(c, d1, r1, now, &yes, &err), 0);
	assert_true(yes);
	assert_int_equal(mr_task_aligned(c, d1, r2, now, &yes, &err), 0);
	assert_false(yes);
	assert_int_equal(mr_task_field_owner(c, d1, now, &owner, &err), 0);
	assert_int_equal(owner, r1);
	mr_store_release(db.store, c);

	/* create, then move it along; the history has one row per change */
	id = new_task(db.store, MR_TT_CALL, d1, r1, now - MR_US_PER_S, now + 86400 * MR_US_PER_S);
	memset(&j, 0, sizeof(j));
	j.id = id;
	j.p = (struct mr_task_patch){ .status = MR_TS_IN_PROGRESS, .priority = 1, .by = "tester", .now = now };
	assert_int_equal(mr_store_write(db.store, update_fn, &j, &err), 0);
	assert_true(j.changed);
	assert_int_equal(count(db.store, "SELECT COUNT(*) FROM task_changes"), 3); /* created, status, priority */
	j.p = (struct mr_task_patch){ .status = MR_TS_OPEN, .by = "tester", .now = now };
	assert_int_equal(mr_store_write(db.store, update_fn, &j, &err), MR_ECONFLICT);
	assert_string_equal(err.msg, "task 1 cannot go from in_progress to open");
	j.p = (struct mr_task_patch){ .due_from = now + 10, .due_to = now, .now = now };
	assert_int_equal(mr_store_write(db.store, update_fn, &j, &err), MR_EINVAL);
	j.id = 99;
	j.p = (struct mr_task_patch){ .status = MR_TS_DONE, .now = now };
	assert_int_equal(mr_store_write(db.store, update_fn, &j, &err), MR_ENOTFOUND);

	/* fulfilment happens once: the second node to try finds it done */
	j.id = id;
	j.p.now = now;
	assert_int_equal(mr_store_write(db.store, fulfil_fn, &j, &err), 0);
	assert_true(j.done);
	assert_int_equal(mr_store_write(db.store, fulfil_fn, &j, &err), 0);
	assert_false(j.done);
	assert_int_equal(count(db.store, "SELECT COUNT(*) FROM tasks WHERE status = 'done' AND fulfilled_seq = 42"
				       " AND fulfilled_event = 'ev-1' AND closed_at IS NOT NULL"), 1);
	assert_int_equal(count(db.store, "SELECT COUNT(*) FROM task_changes WHERE action = 'fulfilled'"), 1);

	/* expiry: past the grace only */
	{
		int64_t old = new_task(db.store, MR_TT_VISIT, d1, r1, now - 10 * 86400 * MR_US_PER_S,
				       now - MR_TASK_GRACE_US - 1);
		int64_t recent = new_task(db.store, MR_TT_VISIT, d1, r1, now - 10 * 86400 * MR_US_PER_S,
					  now - MR_TASK_GRACE_US + 1000 * MR_US_PER_S);

		j.p.now = now;
		assert_int_equal(mr_store_write(db.store, expire_fn, &j, &err), 0);
		assert_int_equal(j.n, 1);
		assert_int_equal(j.ids[0], old);
		assert_int_equal(mr_store_write(db.store, expire_fn, &j, &err), 0);
		assert_int_equal(j.n, 0);
		assert_int_equal(mr_store_acquire(db.store, &c, &err), 0);
		assert_int_equal(mr_task_read(c, recent, &row, &err), 0);
		assert_int_equal(row.status, MR_TS_OPEN);
		assert_int_equal(mr_task_read(c, old, &row, &err), 0);
		assert_int_equal(row.status, MR_TS_EXPIRED);

		/* scope: R2 sees none of R1's; the list and the summary agree */
		{
			struct mr_task_scope mine = { MR_SCOPE_REP, r1, now }, theirs = { MR_SCOPE_REP, r2, now };
			struct mr_task_query q = { .now = now, .limit = 10 };
			json_t *items = json_array(), *sum = json_array();
			int64_t next = 0;

			assert_int_equal(mr_task_list(c, &theirs, &q, items, &next, &err), 0);
			assert_int_equal(json_array_size(items), 0);
			assert_int_equal(mr_task_list(c, &mine, &q, items, &next, &err), 0);
			assert_int_equal(json_array_size(items), 3);
			json_array_clear(items);
			q.limit = 2;
			assert_int_equal(mr_task_list(c, &mine, &q, items, &next, &err), 0);
			assert_int_equal(json_array_size(items), 2);
			assert_int_equal(next, 2);
			assert_int_equal(mr_task_in_scope(c, &theirs, &row, &yes, &err), 0);
			assert_false(yes);
			/* R1: open 1 (recent), due today 0 (its window ended days ago), overdue 1, done this week 1 */
			assert_int_equal(mr_task_summary(c, &mine, now, sum, &err), 0);
			assert_int_equal(json_array_size(sum), 1);
			assert_int_equal(json_integer_value(json_object_get(json_array_get(sum, 0), "open")), 1);
			assert_int_equal(json_integer_value(json_object_get(json_array_get(sum, 0), "due_today")), 0);
			assert_int_equal(json_integer_value(json_object_get(json_array_get(sum, 0), "overdue")), 1);
			assert_int_equal(json_integer_value(json_object_get(json_array_get(sum, 0), "done_week")), 1);
			json_decref(items);
			json_decref(sum);
		}
		mr_store_release(db.store, c);
	}
	mr_test_db_close(&db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),	   cmocka_unit_test(test_state_machine), cmocka_unit_test(test_matching),
		cmocka_unit_test(test_window_edges), cmocka_unit_test(test_chains),	 cmocka_unit_test(test_day_week),
		cmocka_unit_test(test_check),	   MR_TEST_BOTH(test_store),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
