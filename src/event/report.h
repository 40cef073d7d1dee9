/*
 * Reps' call and visit reports (table interactions): what was discussed
 * with a doctor, on which channel, with what outcome — the products, the
 * key messages delivered, the doctor's feedback and questions, the next
 * steps and an optional follow-up. A submitted report is locked; a
 * correction is an amendment that keeps the original. Each report puts an
 * event in the log ("report:<id>", source "report") in the same
 * transaction, so the inside rep sees the field rep's visit on the
 * timeline and the KPIs count it; an amendment corrects the report, not
 * the event already counted.
 */
#ifndef MR_EVENT_REPORT_H
#define MR_EVENT_REPORT_H

#include <jansson.h>
#include <stdint.h>

#include "crypto/keys.h"
#include "engine/evindex.h"
#include "event/log.h"
#include "md/md.h"
#include "store/store.h"

enum { MR_REPORT_TEXT_MAX = 4000, MR_REPORT_LIST_MAX = 20 };

struct mr_report {
	const char *id;            /* external id: the client's (a retry of the same id is refused) or made */
	const char *hcp;           /* the doctor's external id */
	int channel;               /* visit, phone, wechat, wecom, meeting_online, meeting_offline, email */
	int outcome;               /* rung on the channel's ladder; -1 until known */
	const char *outcome_name;  /* as given (an amendment's is read on the original's channel) */
	int64_t at;                /* when it happened (µs) */
	int64_t duration_min;      /* -1 when not given */
	const char *products;      /* ';'-joined */
	const char *messages;      /* key messages delivered, ';'-joined */
	const char *feedback;      /* the doctor's feedback, free text */
	const char *questions;     /* the doctor's questions */
	const char *next_steps;
	int64_t follow_up_at;      /* 0: none */
	int follow_up_channel;     /* MR_CH_NONE: the same channel */
	const char *amends;        /* an amendment: the report it corrects (external id) */
	const char *reason;        /* why the amendment */
	/*
	 * An amendment: the sealed notes of the version it amends, kept as they
	 * were when it gives none (a note it gives replaces that one; the others
	 * carry over).
	 */
	const unsigned char *carry_notes;
	size_t carry_len;
	/* resolved by the caller */
	int64_t hcp_id, rep_id;
	const char *rep;           /* the author's rep external id, or NULL */
};

/*
 * Reads a report from a JSON body into r (strings in a): hcp, channel,
 * outcome, at (RFC 3339), and optionally id, duration_min, products and
 * key_messages (lists of strings), feedback, questions, next_steps,
 * follow_up {"at","channel"}. amend: the body of an amendment, where hcp
 * is not given and reason is required. MR_EINVAL naming the field.
 */
int mr_report_from_json(struct mr_report *r, json_t *o, int amend, int64_t now_us,
			struct mr_arena *a, struct mr_err *err);

/*
 * Stores r in c's write transaction with its event (appended through
 * mr_evlog_append with ids, SQLite's id set or NULL); b gets the event's
 * batch of one, for mr_evindex_apply after the commit (or mr_evlog_undo
 * after a failure). An amendment takes hcp, rep, channel, outcome and time
 * from the report it amends unless given; MR_ECONFLICT when the id exists
 * or the amended report was amended already (amend the latest).
 */
struct mr_report_write {
	struct mr_evlog_batch b;
	struct mr_event ev;
	unsigned char fate;
	int64_t seq;
	struct mr_err why;
	char ext[40];              /* the report's external id */
};
int mr_report_store(struct mr_conn *c, const struct mr_keys *k, struct mr_evindex *ids,
		    struct mr_report *r, const struct mr_md_actor *who, struct mr_report_write *w,
		    struct mr_err *err);

/*
 * Appends an HCP's reports to items, newest first, each with its
 * amendments folded in ({"id",...,"versions":[...]}); notes opened when
 * unmask, else left out. One report by external id into *out.
 */
int mr_report_list(struct mr_conn *c, const struct mr_keys *k, int64_t hcp_id, int unmask,
		   int limit, json_t *items, struct mr_err *err);
int mr_report_get(struct mr_conn *c, const struct mr_keys *k, const char *ext, int unmask,
		  json_t **out, int64_t *hcp_id, struct mr_err *err);

#endif
