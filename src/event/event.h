/*
 * The interaction event: one touch of one doctor on one channel, as
 * ../shared/ARCHITECTURE.md's event contract defines it — a call, a WeChat
 * or WeCom message, a meeting invitation, a visit, a content view, an
 * e-mail, an SMS. Every channel adapter (WeCom, Tencent Meeting, the call
 * centre's CDRs), the reps' call reports, the NDJSON API and the demo
 * history produce struct mr_event; the event log (event/log.h) stores it.
 *
 * The channels and their outcome ladders are one table (event.c): an
 * outcome is a rung of its channel's ladder, and "outcome >= answered"
 * means that rung or a higher one. Each rung has an engagement weight
 * (1 for the lowest rung up to 3 for the top) for scores.
 */
#ifndef MR_EVENT_EVENT_H
#define MR_EVENT_EVENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"

enum mr_channel {
	MR_CH_NONE = 0,
	MR_CH_PHONE,
	MR_CH_WECHAT,
	MR_CH_WECOM,
	MR_CH_MEETING_ONLINE,
	MR_CH_MEETING_OFFLINE,
	MR_CH_VISIT,
	MR_CH_EMAIL,
	MR_CH_CONTENT,
	MR_CH_SMS,
	MR_CH_COUNT
};

enum {
	MR_EVENT_ID_MAX = 128,        /* bytes of an event id */
	MR_EVENT_REF_MAX = 64,        /* bytes of hcp, rep, content, campaign, meeting */
	MR_EVENT_TYPE_MAX = 32,
	MR_EVENT_PROPS_MAX = 8192,    /* bytes of props as compact JSON */
	MR_EVENT_LINE_MAX = 65536,    /* bytes of one NDJSON line */
	MR_EVENT_RUNGS_MAX = 4,
	MR_EVENT_FUTURE_S = 86400,    /* how far ahead of now a timestamp may be */
};

/* The earliest timestamp accepted: 2000-01-01T00:00:00Z. */
#define MR_EVENT_TS_MIN (INT64_C(946684800) * 1000000)

struct mr_channel_def {
	const char *name;                           /* "phone" */
	const char *ladder[MR_EVENT_RUNGS_MAX + 1]; /* outcomes, lowest first, NULL-terminated */
	const char *default_type;                   /* "call" */
};

/* The channel's definition (ch in 1..MR_CH_COUNT-1), or NULL. */
const struct mr_channel_def *mr_channel_def(int ch);
/* The channel named name, or MR_CH_NONE. */
int mr_channel_parse(const char *name);
const char *mr_channel_name(int ch);
/* The rung of outcome name on ch's ladder (0 = lowest), or -1. */
int mr_outcome_parse(int ch, const char *name);
/* The name of rung on ch's ladder, or NULL. */
const char *mr_outcome_name(int ch, int rung);
/* Rungs on ch's ladder. */
int mr_outcome_count(int ch);
/* The engagement weight of a rung: 1 for the lowest, 3 for the top, in between by position. */
int mr_outcome_weight(int ch, int rung);

/*
 * One event. Strings are borrowed (from a parsed line's arena, an adapter's
 * buffer). hcp or the identity names the doctor; hcp_id and rep_id are the
 * internal ids once resolved (0 before).
 */
struct mr_event {
	const char *id;          /* the sender's id, unique across all events */
	int64_t ts;              /* when it happened: µs since the epoch, UTC */
	const char *hcp;         /* the doctor's external id, or NULL */
	const char *id_kind;     /* else an identity: kind (wechat_unionid, phone, ...), */
	const char *id_app;      /*   app ("" when the kind has none), */
	const char *id_value;    /*   value, normalised */
	int channel;             /* enum mr_channel */
	const char *type;        /* call, message, invite, ...; the channel's default when absent */
	int outcome;             /* rung on the channel's ladder */
	const char *rep;         /* the rep's external id, or NULL */
	const char *content;     /* content item id, or NULL */
	const char *campaign;
	const char *meeting;
	int64_t duration_s;      /* -1 when absent */
	const char *props;       /* a JSON object as compact text, or NULL */
	const char *source;      /* api, import, wecom, meeting, cdr, report, demo */
	int64_t hcp_id;          /* resolved */
	int64_t rep_id;
	uint64_t id_key[2];      /* the id's keyed hash (engine/evindex.h), when computed; {0, 0} before */
	uint32_t attr;           /* its (type, content, campaign, meeting) code (mr_evindex_attr); 0 before */
};

/* Sets ev to an empty event (no duration, no outcome, source "api"). */
void mr_event_init(struct mr_event *ev);

/*
 * Parses one NDJSON line (n bytes, not NUL-terminated) into ev, strings in a,
 * and checks it (mr_event_check). MR_EINVAL with err->field naming the
 * field and a message a sender can act on: malformed JSON (with its
 * column), a missing or unknown field, a channel or outcome not in the
 * contract, an outcome from another channel's ladder, a timestamp without
 * a zone, before 2000 or more than a day after now_us, an unknown identity
 * kind, an oversized value.
 */
int mr_event_parse(const char *line, size_t n, int64_t now_us, struct mr_arena *a,
		   struct mr_event *ev, struct mr_err *err);

/*
 * A parser to reuse across many lines (an import): the same checks as
 * mr_event_parse without an allocation per line. One thread at a time.
 */
struct mr_event_parser;
struct mr_event_parser *mr_event_parser_new(void);
void mr_event_parser_free(struct mr_event_parser *ep);
/*
 * The source of the events whose line names none (default "api"; an import
 * says "import"). A line's own "source" is kept, so an exported log imports
 * as it was. source is borrowed: it must outlive the parser.
 */
void mr_event_parser_set_source(struct mr_event_parser *ep, const char *source);
int mr_event_parser_parse(struct mr_event_parser *ep, const char *line, size_t n, int64_t now_us,
			  struct mr_arena *a, struct mr_event *ev, struct mr_err *err);

/*
 * Checks (and normalises into a) an event built in code: id, channel and
 * outcome, type, timestamp within bounds, the doctor named by hcp or by a
 * known identity kind (value normalised as md/norm.h does), sizes.
 */
int mr_event_check(struct mr_event *ev, int64_t now_us, struct mr_arena *a, struct mr_err *err);

/*
 * The event as JSON, in the contract's field names (ts as RFC 3339 UTC,
 * outcome by name, props parsed). A new reference.
 */
json_t *mr_event_json(const struct mr_event *ev);

#endif
