/*
 * Where the channel adapters meet the store. The protocol modules
 * (wecom.h, meeting.h, cdr.h) are pure; what they need from the database
 * lives here:
 *
 *   - each channel's settings (table channel_settings): loaded, changed by
 *     an admin, validated with the protocol module's own checks, saved.
 *     Secrets (WeCom's Token and EncodingAESKey, Tencent Meeting's Token)
 *     are sealed at rest under the PII key and never shown: the API view
 *     masks them ("abc***"). Which keys a channel has and which are secret
 *     is one table (settings.c);
 *   - the Tencent Meeting join times (table meeting_joins) that give a
 *     leave its duration: written when a join is stored, read by the
 *     mr_meeting_opts joined_at callback, removed by the leave;
 *   - the CDR import: a CSV file through mr_cdr_row with the stored rules,
 *     appended in batches, with a row-level report; the HTTP route and the
 *     CLI run the same code and differ only in how a batch is committed.
 *
 * Settings are a JSON object per channel with the secrets in the clear in
 * memory only: a struct mr_chan_settings owns its object and wipes nothing
 * else; never log it, render it with mr_chan_view.
 */
#ifndef MR_CHANNELS_SETTINGS_H
#define MR_CHANNELS_SETTINGS_H

#include <jansson.h>
#include <stdint.h>

#include "auth/user.h"
#include "base/arena.h"
#include "base/csv.h"
#include "base/err.h"
#include "channels/cdr.h"
#include "channels/meeting.h"
#include "channels/wecom.h"
#include "crypto/keys.h"
#include "event/log.h"
#include "store/store.h"

/* The configurable channels, in the order of the table in settings.c. */
enum mr_chan {
	MR_CHAN_WECOM,
	MR_CHAN_MEETING,
	MR_CHAN_CDR,
	MR_CHAN_COUNT
};

enum {
	MR_CHAN_SECRET_MAX = 64,        /* characters of a token */
	MR_CHAN_MASK_MAX = 8,           /* bytes of a masked secret, with its NUL: "abc***" */
	MR_CHAN_BATCH = 2000,           /* CDR rows per transaction, unless told */
	MR_CHAN_LISTED_MAX = 1000,      /* rejected rows listed in a report */
	MR_CHAN_JOIN_KEEP_S = 2 * 86400 /* how long an unmatched join is kept */
};

/* The channel named name ("wecom", "tencent_meeting" or "tencent-meeting", "cdr"), or -1. */
int mr_chan_parse(const char *name);
/* The channel's name as stored and as the audit trail's login: "wecom", "tencent_meeting", "cdr". */
const char *mr_chan_name(int ch);

/* One channel's settings as loaded. */
struct mr_chan_settings {
	int channel;                          /* enum mr_chan */
	json_t *v;                            /* owned; secrets in the clear; {} when not configured */
	int configured;                       /* a row exists */
	int64_t updated_at;                   /* µs; 0 when not configured */
	char updated_by[MR_LOGIN_MAX + 1];
};

/*
 * Loads channel ch's settings on c into s, opening the sealed secrets with
 * k. Not configured is not an error (s->configured 0). MR_EINTERNAL when
 * the secrets do not open (another key file) or the row is corrupt.
 * Release s with mr_chan_release in every case.
 */
int mr_chan_load(struct mr_conn *c, const struct mr_keys *k, int ch, struct mr_chan_settings *s,
		 struct mr_err *err);
void mr_chan_release(struct mr_chan_settings *s);

/*
 * Applies an admin's change (a JSON object of the channel's keys) to s->v
 * and checks the result as mr_chan_check does. A key set to null is
 * removed (for the CDR rules: back to its default); a secret left out, or
 * sent back exactly as mr_chan_view masked it, keeps its stored value.
 * MR_EINVAL naming the field: an unknown key, a secret that is not 1 to
 * MR_CHAN_SECRET_MAX printable ASCII characters without '*', or whatever
 * the check refuses. s->v may be half-changed after an error.
 */
int mr_chan_change(struct mr_chan_settings *s, json_t *change, struct mr_err *err);

/*
 * Checks a complete settings object of channel ch: WeCom's with
 * mr_wecom_cfg_check (token, encoding_aes_key, corp_id all required),
 * Tencent Meeting's token, the CDR rules with mr_cdr_rules_from_json.
 */
int mr_chan_check(int ch, json_t *v, struct mr_err *err);

/*
 * Saves s->v in c's write transaction (secrets sealed with k), as login at
 * now (µs), and sets s's configured, updated_at and updated_by.
 */
int mr_chan_save(struct mr_conn *c, const struct mr_keys *k, struct mr_chan_settings *s,
		 const char *login, int64_t now, struct mr_err *err);

/*
 * What the API shows (a new reference): {"channel", "configured",
 * "settings": {secrets masked}, "updated_at", "updated_by"}, and for the
 * CDR channel "rules": the rules in force (the defaults changed by the
 * settings).
 */
json_t *mr_chan_view(const struct mr_chan_settings *s);

/* Writes secret masked: its first 3 characters and "***", or only "***" when it is shorter than 8. */
void mr_chan_mask(const char *secret, char out[MR_CHAN_MASK_MAX]);

/*
 * The settings as the protocol modules take them, strings borrowed from s.
 * MR_EUNAVAIL (kind "channel_not_configured") with a message saying what
 * an admin must set, when the channel is not configured.
 */
int mr_chan_wecom_cfg(const struct mr_chan_settings *s, struct mr_wecom_cfg *cfg, struct mr_err *err);
int mr_chan_meeting_cfg(const struct mr_chan_settings *s, struct mr_meeting_cfg *cfg,
			struct mr_err *err);
/* The CDR rules in force: the defaults, changed by the settings when configured (strings in a). */
int mr_chan_cdr_rules(const struct mr_chan_settings *s, struct mr_cdr_rules *r, struct mr_arena *a,
		      struct mr_err *err);

/* ---- Tencent Meeting joins ---- */

/*
 * The time (µs) user last joined meeting as stored by mr_chan_joins_apply,
 * or 0 in *at when no join is known. user is the event's normalised
 * identity value (meeting_user_id); it is looked up by its blind index.
 */
int mr_chan_join_get(struct mr_conn *c, const struct mr_keys *k, const char *meeting,
		     const char *user, int64_t *at, struct mr_err *err);

/*
 * Records, in c's write transaction, what the stored events of b (after
 * mr_evlog_append) mean for the joins: a stored "join" on meeting_online
 * sets the participant's join time, a stored "leave" removes a join made
 * before it. Joins older than MR_CHAN_JOIN_KEEP_S before now go too.
 */
int mr_chan_joins_apply(struct mr_conn *c, const struct mr_keys *k, const struct mr_evlog_batch *b,
			int64_t now, struct mr_err *err);

/* ---- the CDR import ---- */

struct mr_hcpdir;
struct mr_store;

struct mr_chan_cdr_opts {
	const struct mr_cdr_rules *rules;
	struct mr_hcpdir *dir;      /* resolves the agent column to reps */
	struct mr_store *store;     /* dir is synced from it when a batch names a rep it lacks */
	int batch;                  /* rows per transaction; MR_CHAN_BATCH when 0 */
	/*
	 * Appends b in one transaction (mr_evlog_append: the doctors by their
	 * phone identity, reps resolved already, some events maybe rejected
	 * before) and, after the commit, puts what was stored in the event
	 * index; after a failure gives the id claims back (mr_evlog_undo). A
	 * negative return stops the import with that error; batches committed
	 * before it stay, and importing the file again is safe.
	 */
	int (*commit)(void *arg, struct mr_evlog_batch *b, struct mr_err *err);
	void *arg;
	void (*progress)(void *arg, int64_t rows); /* may be NULL */
	void *progress_arg;
};

struct mr_chan_cdr_report {
	int64_t rows;               /* records after the header, bad ones included */
	int64_t accepted, duplicates, rejected;
	json_t *rejected_list;      /* [{"line","column","field","error"}] in line order; owned */
	const char *encoding;       /* as the reader settled it */
	int64_t took_us;
};

/*
 * Imports the CDR file csv: its header (MR_EINVAL with err->line when a
 * required column is missing, or the file is empty), then every record
 * through mr_cdr_row with o->rules, in batches committed by o->commit. A
 * bad record (the reader's complaint, a value mr_cdr_row refuses, an agent
 * that is no rep, an identity the log refuses) is reported with its line,
 * column and field, and the import goes on; at most MR_CHAN_LISTED_MAX are
 * listed. Fills rep in every case; release it with mr_chan_cdr_report_release.
 */
int mr_chan_cdr_import(struct mr_csv *csv, const struct mr_chan_cdr_opts *o,
		       struct mr_chan_cdr_report *rep, struct mr_err *err);
/* The report as the API answers: {"rows","accepted","duplicates","rejected":[...],"rejected_total",...}. */
json_t *mr_chan_cdr_report_json(const struct mr_chan_cdr_report *rep);
void mr_chan_cdr_report_release(struct mr_chan_cdr_report *rep);

#endif
