/*
 * The next-best-action engine's stage 1, its pure core (docs/nba.md): what
 * a rule proposes (struct mr_nba_rule), the contact policy
 * (struct mr_nba_settings), and the guards every candidate passes, the
 * same for every rule: consent for the channel, the doctor's weekly
 * contact budget and the channel's cap, approved and unexpired content,
 * quiet hours (the window moves out of them or the candidate is blocked),
 * the rule's repeat frequency, whether the doctor can be reached on the
 * channel (an owner of the needed role, a WeChat / WeCom identity), and a
 * running experiment's holdout arm.
 *
 * Nothing here reads the store or the projections: the caller gathers a
 * doctor's facts (struct mr_nba_facts) — from the engine and the store for
 * one doctor (nba/nba.c) or for all at once (the run) — and this decides.
 * Each block has a code and a reason in words. Rules, settings and facts
 * are plain data; strings are borrowed.
 */
#ifndef MR_NBA_GUARD_H
#define MR_NBA_GUARD_H

#include <jansson.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "engine/profile.h"

/* What a rule may suggest (the task types of the same names). */
enum mr_nba_action { MR_NA_NONE, MR_NA_CALL, MR_NA_WECHAT, MR_NA_VISIT, MR_NA_MEETING_INVITE, MR_NA_SEND_CONTENT,
		     MR_NA_COUNT };

/* The channels a suggestion uses: consent, caps and reachability are per channel. */
enum mr_nba_channel { MR_NC_NONE, MR_NC_PHONE, MR_NC_WECHAT, MR_NC_WECOM, MR_NC_EMAIL, MR_NC_SMS, MR_NC_VISIT,
		      MR_NC_COUNT };

/* The owner a suggestion goes to. */
enum mr_nba_role { MR_NR_NONE, MR_NR_FIELD, MR_NR_INSIDE, MR_NR_MSL, MR_NR_COUNT };

/* Why a candidate was blocked. */
enum mr_nba_block {
	MR_NB_OK,
	MR_NB_HOLDOUT,
	MR_NB_CONSENT,
	MR_NB_UNREACHABLE,
	MR_NB_NO_OWNER,
	MR_NB_BUDGET,
	MR_NB_CHANNEL_CAP,
	MR_NB_REPEAT,
	MR_NB_NO_CONTENT,
	MR_NB_CONTENT_UNAPPROVED,
	MR_NB_CONTENT_EXPIRED,
	MR_NB_QUIET_HOURS,
	MR_NB_NO_WINDOW,
	MR_NB_OPEN_TASK,     /* the run: an open task of that type exists for the doctor */
	MR_NB_REP_LIMIT,     /* the run: the rep's list is full for this run */
	MR_NB_COUNT
};

enum {
	MR_NBA_NAME_MAX = 64,
	MR_NBA_COND_MAX = 4000,
	MR_NBA_TEXT_MAX = 200,
	MR_NBA_DESC_MAX = 1000,
	MR_NBA_DAYS_MAX = 365,
	MR_NBA_K_MAX = 20,
};

#define MR_NBA_DAY_US (INT64_C(86400) * 1000000)
#define MR_NBA_HOUR_US (INT64_C(3600) * 1000000)

/* How the content of a suggestion is chosen; all NULL: no content. */
struct mr_nba_selector {
	const char *id;          /* one content item */
	const char *product;     /* the first approved, unexpired item of a product */
	const char *topic;       /* ... of a topic */
	const char *topic_tag;   /* ... of the topic that is the doctor's value of this tag ("tag.academic_need") */
};

struct mr_nba_rule {
	int64_t id;
	const char *name;
	const char *description;
	const char *condition;
	int action;              /* enum mr_nba_action */
	int channel;             /* enum mr_nba_channel (the action's default when not given) */
	struct mr_nba_selector content;
	int window_days;         /* within N days of as_of (1..365) */
	unsigned weekdays;       /* bit d for weekday d (0 Monday .. 6 Sunday); 0x7f: every day */
	int hour_from, hour_to;  /* the hour band [from, to), Asia/Shanghai, 0..24 */
	int repeat_days;         /* not again for the same doctor within N days; 0: no limit */
	int purpose;             /* the consent purpose the contact is for (MR_PP_...; promotional by default) */
	int priority;            /* 1 (first) .. 5 */
	int64_t valid_from, valid_to; /* µs; 0: open */
	int owner_role;          /* enum mr_nba_role; 0: by channel */
	int enabled;
	const char *created_by, *updated_by;
	int64_t created_at, updated_at;
};

/* The contact policy. */
struct mr_nba_settings {
	int weekly_budget;                 /* outbound contacts per doctor per 7 days, all channels */
	int cap[MR_NC_COUNT];              /* per channel per 7 days; 0: no cap beyond the budget */
	int quiet_from, quiet_to;          /* quiet hours [from, to) Asia/Shanghai; equal: none */
	unsigned consent_channels;         /* bit per enum mr_nba_channel that needs an opt-in */
	int nightly;                       /* the server runs nba/run once a day */
	int nightly_hour;                  /* at this hour, Asia/Shanghai */
	int run_limit_per_rep;             /* tasks per rep per run; 0: no limit */
	int k_default;                     /* recommendations per doctor when k is not given */
	int policy;                        /* enum mr_nba_policy: for doctors in no running experiment */
};

/* Who ranks a doctor's candidates: the rules' order, or the learned response models (docs/nba.md). */
enum mr_nba_policy { MR_NP_RULES, MR_NP_LEARNED, MR_NP_COUNT };
const char *mr_nba_policy_name(int policy);
/* The policy named, or -1. */
int mr_nba_policy_parse(const char *s);

/* What one doctor's guards need to know. */
struct mr_nba_facts {
	int64_t as_of;
	unsigned consents[MR_PP_COUNT];    /* per consent purpose: bit per enum mr_nba_channel opted in to */
	unsigned identities;               /* bit per enum mr_nba_channel with the identity it needs (wechat, wecom) */
	int64_t owner[MR_NR_COUNT];        /* the rep of each role at as_of (internal id; 0: none) */
	int contacts_7d;                   /* outbound interactions in the 7 days before as_of */
	int channel_7d[MR_NC_COUNT];       /* of those, per channel */
	int open_tasks;                    /* open tasks already planned (any type) */
	int open_by_action[MR_NA_COUNT];   /* of those, per action */
	int open_by_channel[MR_NC_COUNT];
	const char *holdout;               /* the experiment whose holdout arm holds the doctor (or its rep), or NULL */
	int terse;                         /* the verdicts need no reasons in words (the run) */
	/* the run's and serving's own plan, counted as suggestions are accepted */
	int planned;
	int planned_by_channel[MR_NC_COUNT];
};

/* The last time rule_name made a task for the doctor (µs; 0: never), for repeat frequency. */
typedef int64_t (*mr_nba_last_fn)(void *arg, const char *rule_name);

/* A content item, as the guards see it. */
struct mr_nba_content {
	const char *id, *topic, *product, *status;
	int64_t expires_at;                /* 0: never */
};
struct mr_nba_catalog {
	const struct mr_nba_content *items;
	int n;
};

/* A candidate's verdict. */
struct mr_nba_verdict {
	int block;                         /* enum mr_nba_block; MR_NB_OK: suggested */
	char reason[320];                  /* a block's reason in words */
	const char *content;               /* the chosen content id (or NULL) */
	const char *topic;
	int64_t start, end;                /* the window */
	int moved;                         /* the start moved out of quiet hours */
	int role;                          /* the owner role it goes to */
	int64_t assignee;                  /* that owner's rep id */
	double score;
	int terse;                         /* blocks get no reason in words (the run counts them only) */
};

/* Names of the enums, and back (0 / MR_.._NONE when unknown). */
const char *mr_nba_action_name(int action);
int mr_nba_action_parse(const char *s);
const char *mr_nba_channel_name(int channel);
int mr_nba_channel_parse(const char *s);
const char *mr_nba_role_name(int role);
int mr_nba_role_parse(const char *s);
const char *mr_nba_block_code(int block);
/* The task type (tasks/task.h) of an action. */
int mr_nba_task_type(int action);
/* The channel an action uses when the rule names none. */
int mr_nba_default_channel(int action);
/* 1 when action may use channel. */
int mr_nba_channel_fits(int action, int channel);
/* The owner role a rule's suggestions go to: its own, else the field owner for visits and the inside owner for the rest. */
int mr_nba_rule_role(const struct mr_nba_rule *rule);
/* 1 when name is a rule name: [a-z0-9_-], 1..64, starting with a letter or digit. */
int mr_nba_rule_name_ok(const char *name);

/* The defaults: budget 3, caps phone 2 wechat 2 wecom 2 email 2 sms 1 visit 1, quiet 21–8, consent for phone, wechat, wecom, email, sms. */
void mr_nba_settings_defaults(struct mr_nba_settings *s);
/* Reads a settings body (every field optional: the defaults fill in) into s; MR_EINVAL naming the field. */
int mr_nba_settings_from_json(json_t *body, struct mr_nba_settings *s, struct mr_err *err);
/* s as the API shows it. A new reference. */
json_t *mr_nba_settings_json(const struct mr_nba_settings *s);

/*
 * Reads a rule from a PUT body into *rule (strings borrowed from body or
 * in a): MR_EINVAL naming the field. The condition is not compiled (the
 * engine's work) and content ids are not looked up (the caller's).
 */
int mr_nba_rule_from_json(json_t *body, struct mr_arena *a, struct mr_nba_rule *rule, struct mr_err *err);
/* The rule's action template as JSON (what nba_rules.action holds). A new reference. */
json_t *mr_nba_action_json(const struct mr_nba_rule *rule);
/* Reads an action template (nba_rules.action's JSON) into rule; MR_EINVAL naming the field. */
int mr_nba_action_from_json(json_t *o, struct mr_arena *a, struct mr_nba_rule *rule, struct mr_err *err);
/* The rule as the API shows it. A new reference. */
json_t *mr_nba_rule_json(const struct mr_nba_rule *rule);
/* 1 when rule applies at as_of: enabled and as_of within its validity. */
int mr_nba_rule_live(const struct mr_nba_rule *rule, int64_t as_of);
/* The score of a rule's suggestion: (6 - priority) / 5, so priority 1 scores 1.0 and 5 scores 0.2. */
double mr_nba_score(const struct mr_nba_rule *rule);

/*
 * The window of a rule at as_of under the quiet hours: the first and last
 * moments within [as_of, as_of + window_days) that lie in the rule's
 * weekdays and hour band and outside quiet hours (whole minutes; a window
 * ends at the end of its last allowed stretch). MR_NB_OK with *moved set
 * when quiet hours pushed the start later; MR_NB_QUIET_HOURS when only
 * quiet hours leave no moment; MR_NB_NO_WINDOW when the band itself has
 * none in the days.
 */
int mr_nba_window(const struct mr_nba_rule *rule, const struct mr_nba_settings *s, int64_t as_of, int64_t *start,
		  int64_t *end, int *moved);

/*
 * Runs every guard for rule's candidate for a doctor with facts f, the
 * content catalogue cat, the doctor's value of the rule's topic tag
 * (tag_topic, or NULL), and last (the rule's last task for the doctor).
 * Fills *v: MR_NB_OK with the content, window, owner and score, or the
 * first block with its reason in words. The order: holdout, consent,
 * reachability, owner, content, repeat, window (quiet hours), budget, channel cap.
 */
void mr_nba_guard(const struct mr_nba_rule *rule, const struct mr_nba_settings *s, const struct mr_nba_facts *f,
		  const struct mr_nba_catalog *cat, const char *tag_topic, mr_nba_last_fn last, void *last_arg,
		  struct mr_nba_verdict *v);
/*
 * What of a rule's verdict does not depend on the doctor, at one as_of:
 * its window (mr_nba_window's answer) and, unless a tag chooses the topic,
 * its content (the verdict of the content guard).
 */
struct mr_nba_win {
	int block;                         /* MR_NB_OK, MR_NB_QUIET_HOURS or MR_NB_NO_WINDOW */
	int64_t start, end;
	int moved;
	int content_known;                 /* the content below is the rule's for every doctor */
	struct mr_nba_verdict content;     /* its block (and reason), or content and topic */
};
void mr_nba_window_of(const struct mr_nba_rule *rule, const struct mr_nba_settings *s,
		      const struct mr_nba_catalog *cat, int64_t as_of, struct mr_nba_win *w);
/* mr_nba_guard with the rule's window worked out beforehand for f->as_of (win; NULL: work it out). */
void mr_nba_guard_win(const struct mr_nba_rule *rule, const struct mr_nba_settings *s,
		      const struct mr_nba_facts *f, const struct mr_nba_catalog *cat, const char *tag_topic,
		      mr_nba_last_fn last, void *last_arg, const struct mr_nba_win *win, struct mr_nba_verdict *v);

/*
 * The first stretch of whole hours in [from, to) that the rule allows
 * (its weekdays and hour band, outside s's quiet hours) and whose slot
 * (slot_of: the learned models' weekday × hour band of a moment) is slot:
 * 1 with *start and *end, or 0 when the window holds none.
 */
int mr_nba_slot_window(const struct mr_nba_rule *rule, const struct mr_nba_settings *s, int64_t from, int64_t to,
		       int (*slot_of)(int64_t ts), int slot, int64_t *start, int64_t *end);

/* Counts an accepted suggestion into f's plan (budget and caps of later candidates). */
void mr_nba_plan(struct mr_nba_facts *f, const struct mr_nba_rule *rule);
/* The reasons in words of an accepted suggestion, appended to arr. */
void mr_nba_reasons(const struct mr_nba_rule *rule, const struct mr_nba_verdict *v, const struct mr_nba_settings *s,
		    json_t *arr);

#endif
