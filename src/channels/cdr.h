/*
 * Call-centre CDRs (call detail records): the CSV a call centre exports,
 * one row per call, turned into phone events. The importer reads the file
 * with the streaming reader (base/csv.h), hands the header to
 * mr_cdr_header once, then each record to mr_cdr_row; a bad row is
 * reported with its line and column and the import goes on.
 *
 * Columns are found by header name, case-insensitively, each under
 * several names (the first name present wins):
 *
 *   call_id      call_id, uniqueid, callid, 通话ID, 呼叫ID       optional
 *   caller       caller, src, 主叫, 主叫号码                     required
 *   callee       callee, dst, 被叫, 被叫号码                     required
 *   start        start, start_time, calldate, 开始时间, 呼叫时间  required
 *   duration     billsec, duration, 通话时长 (seconds talked)    required
 *   disposition  disposition, 呼叫结果, 通话状态                 required
 *   agent        agent, rep, 坐席, 坐席工号 (the rep's medreach id) optional
 *   direction    direction, 呼叫方向 (in / out)                 optional
 *
 * billsec is preferred to duration when a file has both, as Asterisk's
 * do: there duration includes ringing and billsec is the talk time.
 *
 * Each row becomes one event:
 *   id        "cdr:" + call_id, or "cdr:" + caller + ":" + callee + ":" + start
 *             (numbers in E.164 where they are phones, start in RFC 3339 UTC) when
 *             the file has no call ids, so a re-import gives the same ids
 *   identity  kind "phone", the doctor's number in E.164: the callee (an outbound
 *             call), or the caller when the callee is not a phone number (an inbound
 *             call to an extension or a 400 number); a direction column settles it
 *   channel   phone, type "call", source "cdr"
 *   outcome   the disposition through the rules' map; an outcome of answered or
 *             above is raised to "successful" when the call lasted successful_s,
 *             and to "effective" at effective_s (never lowered)
 *   ts        start: "YYYY-MM-DD HH:MM:SS" (or with '/') in Asia/Shanghai time, or RFC 3339
 *   duration_s  the duration column: seconds, or H:MM:SS / MM:SS
 *   rep       the agent column, when not empty
 *   props     {"disposition": as written, "direction": "outbound" or "inbound"}
 */
#ifndef MR_CHANNELS_CDR_H
#define MR_CHANNELS_CDR_H

#include <jansson.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "event/event.h"

enum {
	MR_CDR_MAP_MAX = 32,          /* dispositions in a rule set */
	MR_CDR_DURATION_MAX = 86400,  /* seconds: a longer call is a broken record */
	MR_CDR_DISPOSITION_MAX = 64,  /* bytes of a disposition name */
};

/* The logical columns, in the order of the table above. */
enum mr_cdr_col {
	MR_CDR_CALL_ID,
	MR_CDR_CALLER,
	MR_CDR_CALLEE,
	MR_CDR_START,
	MR_CDR_DURATION,
	MR_CDR_DISPOSITION,
	MR_CDR_AGENT,
	MR_CDR_DIRECTION,
	MR_CDR_NCOLS
};

/* Where each logical column sits in a record: a 0-based field index, or -1 when absent. */
struct mr_cdr_cols {
	int at[MR_CDR_NCOLS];
};

/*
 * How dispositions become outcomes, and when an answered call counts as
 * successful or effective. Dispositions match ignoring ASCII case, spaces,
 * '_' and '-' ("NO ANSWER" = "no_answer" = "NoAnswer"). The strings are
 * borrowed (literals, or the arena given to mr_cdr_rules_from_json).
 */
struct mr_cdr_rules {
	struct {
		const char *disposition;
		const char *outcome;  /* a rung of the phone ladder */
	} map[MR_CDR_MAP_MAX];
	int nmap;
	int successful_s;             /* answered and at least this long: successful */
	int effective_s;              /* answered and at least this long: effective */
	const char *default_country;  /* calling code for numbers without one: "86" */
};

/*
 * The default rules: ANSWERED -> answered; NO ANSWER, NOANSWER, BUSY,
 * FAILED, CONGESTION, CANCEL -> no_answer; successful at 30 s, effective
 * at 120 s; numbers without a country code are Chinese.
 */
void mr_cdr_rules_default(struct mr_cdr_rules *r);

/*
 * Sets r to the default rules changed by the JSON object o:
 * {"dispositions": {"ANSWERED": "answered", ...}, "successful_s": 30,
 *  "effective_s": 120, "default_country": "86"}, every key optional.
 * "dispositions" replaces the whole map (so a disposition can be dropped);
 * strings are copied into a. MR_EINVAL (field named) for an unknown key, an
 * outcome not on the phone ladder, more than MR_CDR_MAP_MAX dispositions,
 * thresholds outside 1..86400 or successful_s > effective_s, or a country
 * code that is not 1 to 3 digits.
 */
int mr_cdr_rules_from_json(json_t *o, struct mr_cdr_rules *r, struct mr_arena *a, struct mr_err *err);

/*
 * Finds the columns in a header record of n names. MR_EINVAL naming the
 * first required column that is missing, with the names it may have (the
 * caller, who knows on which line the header was, sets err->line).
 */
int mr_cdr_header(int n, const char *const *names, struct mr_cdr_cols *cols, struct mr_err *err);

/*
 * Maps one record (nfields fields, starting on physical line `line`) to ev,
 * strings in a, and checks it against the event contract. MR_EINVAL with
 * err->field the logical column, err->line the line and err->column the
 * column (1-based) for: an unparseable start, a duration that is negative,
 * not a number or over a day, a disposition the rules do not know (the
 * message lists the known ones), no valid phone number, an unknown
 * direction, a call id too long for an event id.
 */
int mr_cdr_row(const struct mr_cdr_rules *r, const struct mr_cdr_cols *cols, int nfields,
	       const char *const *fields, int64_t line, struct mr_arena *a, struct mr_event *ev,
	       struct mr_err *err);

#endif
