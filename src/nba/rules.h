/*
 * The next-best-action rules, contact policy and recommendation log in the
 * store (schema 015_nba.sql, docs/nba.md): each call runs on the caller's
 * connection, inside its transaction where it writes (the writer's for the
 * server). The formats are nba/guard.h's.
 */
#ifndef MR_NBA_RULES_H
#define MR_NBA_RULES_H

#include <jansson.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "nba/guard.h"
#include "store/store.h"

/* Creates or replaces rule->name; *created 1 when new. */
int mr_nba_rule_put(struct mr_conn *c, const struct mr_nba_rule *rule, const char *who, int64_t now, int *created,
		    struct mr_err *err);
/* Rule name into *rule (strings in a); MR_ENOTFOUND when there is none. */
int mr_nba_rule_get(struct mr_conn *c, const char *name, struct mr_arena *a, struct mr_nba_rule *rule,
		    struct mr_err *err);
/* Every rule by name into *rules (in a) and *n. */
int mr_nba_rule_list(struct mr_conn *c, struct mr_arena *a, struct mr_nba_rule **rules, int *n, struct mr_err *err);
/* Deletes rule name; MR_ENOTFOUND when there is none. */
int mr_nba_rule_delete(struct mr_conn *c, const char *name, struct mr_err *err);
/* A number that changes whenever a rule or the settings change (count, newest update). */
int mr_nba_rules_stamp(struct mr_conn *c, int64_t *stamp, struct mr_err *err);

/* The settings in force (the defaults where none were saved). */
int mr_nba_settings_get(struct mr_conn *c, struct mr_nba_settings *s, struct mr_err *err);
int mr_nba_settings_put(struct mr_conn *c, const struct mr_nba_settings *s, const char *who, int64_t now,
			struct mr_err *err);

/* One row of the recommendation log. Strings are borrowed. */
struct mr_nba_logrow {
	int64_t hcp_id;
	const char *source, *rule, *model_version, *action, *channel, *content, *topic, *experiment, *arm, *via;
	int64_t window_start, window_end, as_of, served_at, task_id;
	double score, propensity;
};
/* Appends rows[0..n) to the log in bulk (mr_conn_copy): a run's, or the served rows a flush writes. */
int mr_nba_log_add_many(struct mr_conn *c, const struct mr_nba_logrow *rows, int n, struct mr_err *err);
/* The newest rows (of one doctor when hcp_id > 0), at most limit, as JSON into items. */
int mr_nba_log_list(struct mr_conn *c, int64_t hcp_id, int limit, json_t *items, struct mr_err *err);

/*
 * Claims the nightly run of night (an Asia/Shanghai day) in c's write
 * transaction: *mine 1 when no node had (PostgreSQL: the primary key makes
 * a second node's insert fail, and its transaction with it).
 */
int mr_nba_night_claim(struct mr_conn *c, const char *night, int64_t now, int *mine, struct mr_err *err);

/* The content catalogue as the guards see it (strings in a); *stamp changes whenever content does. */
int mr_nba_content_load(struct mr_conn *c, struct mr_arena *a, struct mr_nba_catalog *cat, struct mr_err *err);
int mr_nba_content_stamp(struct mr_conn *c, int64_t *stamp, struct mr_err *err);
/* 1 in *yes when content id ext exists (not deleted). */
int mr_nba_content_exists(struct mr_conn *c, const char *ext, int *yes, struct mr_err *err);

#endif
