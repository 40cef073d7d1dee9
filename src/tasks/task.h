/*
 * Tasks (work orders, docs/tasks.md): what a rep should do for one doctor
 * within a due window, and what became of it. This file is the service
 * layer over the tasks and task_changes tables (schema 014_tasks.sql): the words of
 * types, statuses and sources; the state machine; the rules that say
 * which event fulfils which task; and the reads and writes, each inside
 * the caller's transaction (the writer's for the server). Rules, models
 * and experiments create tasks the way the API does: fill a struct
 * mr_task_new and call mr_task_create.
 *
 * The in-memory side (open tasks per doctor, automatic fulfilment, chaining
 * and expiry) is tasks/tasks.h.
 */
#ifndef MR_TASKS_TASK_H
#define MR_TASKS_TASK_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "md/md.h"
#include "store/store.h"

enum mr_task_type {
	MR_TT_NONE,
	MR_TT_CALL,
	MR_TT_WECHAT,
	MR_TT_VISIT,
	MR_TT_MEETING_INVITE,
	MR_TT_SEND_CONTENT,
	MR_TT_FOLLOW_UP,
	MR_TT_COUNT
};

enum mr_task_status {
	MR_TS_NONE,
	MR_TS_OPEN,
	MR_TS_IN_PROGRESS,
	MR_TS_DONE,
	MR_TS_CANCELLED,
	MR_TS_EXPIRED,
	MR_TS_COUNT
};

enum mr_task_source { MR_TSRC_NONE, MR_TSRC_PERSON, MR_TSRC_RULE, MR_TSRC_MODEL, MR_TSRC_EXPERIMENT, MR_TSRC_COUNT };

enum {
	MR_TASK_REF_MAX = 200,      /* code points of source_ref, channel, content, topic */
	MR_TASK_REASON_MAX = 1000,  /* code points of a reason or a dismissal's reason */
	MR_TASK_PRIORITY_DEFAULT = 3,
	MR_TASK_CHAIN_DAYS = 7,     /* a chained visit is due within this many days */
};

/* An active task whose due window ended this long ago expires (it is overdue until then). */
#define MR_TASK_GRACE_US (INT64_C(3) * 86400 * 1000000)

/* The enum of a name ("call", "in_progress", "rule"), or 0 (…_NONE) when unknown. */
int mr_task_type_parse(const char *s);
int mr_task_status_parse(const char *s);
int mr_task_source_parse(const char *s);
/* The name of an enum value; NULL when out of range. */
const char *mr_task_type_name(int type);
const char *mr_task_status_name(int status);
const char *mr_task_source_name(int source);
/* 1 when a task in status may still be worked on (open, in_progress). */
int mr_task_active(int status);
/* 1 when status from may become to: open → in_progress | done | cancelled | expired; in_progress → done | cancelled | expired. */
int mr_task_transition_ok(int from, int to);

/* An event, as far as matching it to a task needs. */
struct mr_task_ev {
	int channel;           /* enum mr_channel */
	int outcome;           /* rung on the channel's ladder */
	int64_t rep_id;        /* 0: no rep on the event */
	int64_t ts;            /* µs */
	const char *content;   /* NULL: none */
	const char *meeting;   /* NULL: none */
};

/* A task, as far as matching an event to it needs. */
struct mr_task_want {
	int type;
	int64_t assignee_id;
	int64_t due_from, due_to;
	const char *content;   /* NULL: any content (send_content) */
};

/*
 * 1 when event ev fulfils task w (docs/tasks.md): its channel fits the type
 * (call: a phone call answered or better; wechat: wechat or wecom; visit:
 * a completed visit; meeting_invite: a meeting invitation, or a wechat /
 * wecom message naming a meeting; send_content: a content share, e-mail or
 * wechat / wecom message naming content — the task's own, when it names
 * one; follow_up: any interaction), its time lies in [due_from, due_to],
 * and it was made by the assignee — or by no rep, except for follow_up,
 * which only the assignee's own interaction fulfils.
 */
int mr_task_matches(const struct mr_task_want *w, const struct mr_task_ev *ev);
/*
 * The part of mr_task_matches that needs no text of the event (channel,
 * outcome, rep, time): 0 rules the event out; 1 says it may fit, and when
 * *need_text is set, only the event's content and meeting can tell.
 */
int mr_task_may_match(const struct mr_task_want *w, const struct mr_task_ev *ev, int *need_text);
/*
 * 1 when an event that fulfilled a task of type shows interest that
 * chains a field visit: a meeting_invite or wechat task, and an outcome of
 * registered, attended or responded.
 */
int mr_task_chains(int type, const struct mr_task_ev *ev);

/* A new task. Strings are borrowed for the call. */
struct mr_task_new {
	int type;                /* enum mr_task_type */
	int64_t hcp_id;          /* internal id */
	int64_t assignee_id;     /* a rep's internal id */
	int64_t due_from, due_to;
	int priority;            /* 1 (highest) .. 5; 0: 3 */
	int source;              /* enum mr_task_source; 0: person */
	const char *source_ref;  /* which rule, model version, experiment arm, or "chain:<task id>" */
	const char *reason;      /* why, in words, shown to the rep */
	const char *channel;     /* optional */
	const char *content;     /* optional content id */
	const char *topic;       /* optional */
	const char *by;          /* login of who creates it; NULL: the server */
	const char *request_id;  /* or NULL */
	int64_t now;
};

/* Checks t's values (type, window, priority, source, texts): MR_EINVAL naming the field. */
int mr_task_check(const struct mr_task_new *t, struct mr_err *err);
/* Checks t and inserts it with its "created" change; *id gets the new task's id. */
int mr_task_create(struct mr_conn *c, const struct mr_task_new *t, int64_t *id, struct mr_err *err);
/*
 * mr_task_create for t[0..n) at once, as a run makes them: every task checked first (nothing written
 * when one fails: MR_EINVAL naming the field, with "tasks[i]." in front), their ids reserved from the
 * table's sequence into ids[0..n) in order, then the tasks and their "created" changes written in
 * bulk (mr_conn_copy). In c's write transaction.
 */
int mr_task_create_many(struct mr_conn *c, const struct mr_task_new *t, int n, int64_t *ids, struct mr_err *err);

/* What a task row says, for the checks of a change. */
struct mr_task_row {
	int64_t id, hcp_id, assignee_id, due_from, due_to;
	int type, status, priority;
};
/* Reads task id's row; MR_ENOTFOUND when there is none. */
int mr_task_read(struct mr_conn *c, int64_t id, struct mr_task_row *row, struct mr_err *err);

/* A change of a task; zero fields are left as they are. */
struct mr_task_patch {
	int status;                 /* enum mr_task_status */
	int64_t assignee_id;
	int64_t due_from, due_to;   /* both, or neither */
	int priority;
	const char *dismiss_reason; /* with status cancelled: a dismissal */
	const char *fulfilled_event;/* with status done: the event that did it (by hand or matched) */
	int64_t fulfilled_seq;
	const char *by;             /* login; NULL: the server */
	const char *request_id;
	int64_t now;
};

/*
 * Applies p to task id: MR_ENOTFOUND when there is no such task,
 * MR_ECONFLICT ("task 7 cannot go from done to open") for a transition
 * the state machine forbids, MR_EINVAL for a due window that ends before
 * it starts. Each changed field gets its row in task_changes; *changed
 * (if given) is 0 when nothing differed.
 */
int mr_task_update(struct mr_conn *c, int64_t id, const struct mr_task_patch *p, int *changed,
		   struct mr_err *err);

/*
 * The automatic fulfilment's write: task id becomes done by event eid
 * (seq) only while it is still active (another node may have been
 * first); *done is 1 when this call did it.
 */
int mr_task_fulfil(struct mr_conn *c, int64_t id, const char *eid, int64_t seq, int64_t now, int *done,
		   struct mr_err *err);

/*
 * Expires at most max active tasks whose due window ended before
 * now - MR_TASK_GRACE_US; their ids go to ids (room for max), *n how many.
 */
int mr_task_expire(struct mr_conn *c, int64_t now, int64_t *ids, int max, int *n, struct mr_err *err);

/* 1 in *yes when rep_id is aligned to hcp_id at time at as field or inside owner. */
int mr_task_aligned(struct mr_conn *c, int64_t hcp_id, int64_t rep_id, int64_t at, int *yes,
		    struct mr_err *err);
/* The HCP's field owner at time at (the lowest alignment id), or 0 in *rep_id when none. */
int mr_task_field_owner(struct mr_conn *c, int64_t hcp_id, int64_t at, int64_t *rep_id, struct mr_err *err);

/* 1 in *yes when manager_id leads rep_id: themselves, below them in the manager tree, or in their territory or one under it. */
int mr_task_in_team(struct mr_conn *c, int64_t manager_id, int64_t rep_id, int *yes, struct mr_err *err);
/* The internal id of the live rep with external id ext; MR_ENOTFOUND when there is none. */
int mr_task_rep_id(struct mr_conn *c, const char *ext, int64_t *id, struct mr_err *err);

/* Which tasks a caller may see: everyone's, one rep's, a manager's (the reps they lead, see mr_task_in_team, and their team's doctors), none. */
struct mr_task_scope {
	enum mr_scope_kind kind;
	int64_t rep_id;      /* REP: the caller's rep; TEAM: the manager's rep */
	int64_t at;
};

/* A list query; zero fields do not filter. */
enum mr_task_due { MR_TDUE_ANY, MR_TDUE_TODAY, MR_TDUE_OVERDUE, MR_TDUE_WEEK };
struct mr_task_query {
	int64_t assignee_id;
	int statuses;        /* a bit (1 << status) per status wanted; 0: any */
	int64_t hcp_id;
	int due;             /* enum mr_task_due */
	int source;
	int64_t now;
	int limit;
	int64_t cursor;      /* ids after this one (the list runs by id) */
};

/*
 * Appends one page of the tasks q selects within s, as JSON, to items;
 * *next is the cursor of the next page (0: none). Today view order is the
 * caller's: the page runs by id.
 */
int mr_task_list(struct mr_conn *c, const struct mr_task_scope *s, const struct mr_task_query *q,
		 json_t *items, int64_t *next, struct mr_err *err);
/* Task id as JSON (with its history when history is set), or MR_ENOTFOUND. */
int mr_task_get(struct mr_conn *c, int64_t id, int history, json_t **out, struct mr_err *err);
/* 1 in *yes when task row lies within s. */
int mr_task_in_scope(struct mr_conn *c, const struct mr_task_scope *s, const struct mr_task_row *row, int *yes,
		     struct mr_err *err);
/*
 * Per assignee within s: open (open or in progress), due today, overdue,
 * done this week (Asia/Shanghai days, weeks from Monday), appended to
 * items as {"assignee","name","open","due_today","overdue","done_week"}.
 */
int mr_task_summary(struct mr_conn *c, const struct mr_task_scope *s, int64_t now, json_t *items,
		    struct mr_err *err);
/* The start (µs) of the Asia/Shanghai day, and week (from Monday), holding now. */
int64_t mr_task_day_start(int64_t now);
int64_t mr_task_week_start(int64_t now);

#endif
