/*
 * Tencent Meeting (腾讯会议) event subscriptions: the webhook that tells
 * medreach which doctors joined and left a company-hosted online meeting.
 * The HTTP layer hands each request here in three steps: verify and decode
 * (mr_meeting_verify_url for the GET that checks the URL when the
 * subscription is set up, mr_meeting_open for every POST), then map the
 * decoded event to struct mr_event rows (mr_meeting_events), which go to
 * the event log like any other channel's.
 *
 * The protocol (Tencent's "事件订阅" and "签名校验" pages). Every request
 * carries the headers timestamp, nonce and signature, where
 *
 *     signature = hex(SHA-1(the four strings token, timestamp, nonce and
 *                 data, sorted bytewise and concatenated))
 *
 * and data is the GET's check_str query parameter (already URL-decoded by
 * the caller) or the "data" member of the POST body {"data": "<base64>"}.
 * Both are base64 of the plain text: the GET answers 200 with the decoded
 * check_str as its body; a POST's data decodes to the event JSON. Padding
 * may be present or left off (Tencent's published example leaves it off).
 * Subscriptions with an EncodingAESKey (AES-encrypted data) are not
 * supported: configure the subscription without one.
 *
 * The mapping. An event is {"event": name, "unique_sequence" (older
 * documents) or "trace_id" (newer): the delivery's unique id, "payload":
 * [ {"operate_time": ms, "operator": {who}, "meeting_info": {...}}, ... ]}.
 * Each payload entry of a participant event gives one medreach event:
 *
 *   Tencent event               medreach event
 *   meeting.participant-joined  channel meeting_online, type "join",  outcome attended
 *   meeting.participant-left    channel meeting_online, type "leave", outcome attended,
 *                               duration_s = operate_time - the join time, when the
 *                               caller's joined_at lookup knows the join (the payload
 *                               does not carry it) and it lies within the day before
 *   meeting.started, meeting.end  recognised, no doctor event (*n = 0)
 *   anything else               MR_EUNPROC, err->kind "ignored": acknowledge and drop
 *
 * and for each row:
 *   id        "tencent_meeting:" + unique_sequence + ":" + index in payload (0-based),
 *             so a redelivered webhook yields the same ids and the log drops the repeat
 *   ts        operate_time (ms since the epoch; "YYYY-MM-DD HH:MM:SS" in Asia/Shanghai
 *             time and numeric strings, as older documents show them, are read too)
 *   identity  kind "meeting_user_id", app "tencent_meeting", value = operator.userid
 *             (the enterprise user id, or the openId for OAuth apps), else operator.uuid
 *             (the account's identity id, which Tencent gives for users outside the
 *             enterprise). operator.ms_open_id is a per-meeting temporary id and never
 *             names a doctor: an entry with nothing better (a phone dial-in) is skipped.
 *   meeting   meeting_info.meeting_id
 *   props     {"meeting_code", "sub_meeting_id" (recurring meetings), "subject",
 *             "instance_id" (the device type), "id_field": "userid" or "uuid"}
 *   source    "meeting"
 * The rows are checked against the event contract (mr_event_check) before
 * they are returned; an error names the payload field at fault.
 */
#ifndef MR_CHANNELS_MEETING_H
#define MR_CHANNELS_MEETING_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "event/event.h"

enum {
	MR_MEETING_SIG_HEX = 40,         /* hex digits of a signature */
	MR_MEETING_HEADER_MAX = 128,     /* bytes of the timestamp, nonce or signature header */
	MR_MEETING_CHECK_MAX = 4096,     /* bytes of check_str */
	MR_MEETING_BODY_MAX = 1 << 20,   /* bytes of a POST body */
	MR_MEETING_DEPTH_MAX = 16,       /* nesting of the event JSON */
	MR_MEETING_SEQ_MAX = 96,         /* bytes of unique_sequence / trace_id */
	MR_MEETING_DURATION_MAX = 86400, /* seconds; a longer "stay" means a stale join */
};

/* The subscription's settings, as configured on Tencent's side. */
struct mr_meeting_cfg {
	const char *token; /* the Token that signs every request */
};

/* What mr_meeting_events needs from its caller; all fields may be 0. */
struct mr_meeting_opts {
	/*
	 * The time (µs since the epoch) at which user_id last joined meeting_id,
	 * as the caller stored it from an earlier join event, or 0 when unknown.
	 * Called for each leave; may be NULL.
	 */
	int64_t (*joined_at)(void *arg, const char *meeting_id, const char *user_id);
	void *arg;
	int64_t now_us; /* "now" for the event contract's timestamp bounds; 0 for the clock */
};

/*
 * Writes the signature of (token, timestamp, nonce, data) as 40 lower-case
 * hex digits and a NUL into out. MR_EINVAL when a value is NULL,
 * MR_EINTERNAL when SHA-1 is unavailable.
 */
int mr_meeting_sign(const char *token, const char *timestamp, const char *nonce, const char *data,
		    char out[MR_MEETING_SIG_HEX + 1], struct mr_err *err);

/*
 * Answers the GET that verifies the callback URL: checks the signature over
 * check_str and sets *plain to the decoded check_str, NUL-terminated and
 * malloc'd (the caller frees it), to be sent back as the response body.
 * MR_EAUTH for a missing header or a wrong signature, MR_EINVAL for a
 * missing, oversized or malformed check_str, MR_EINTERNAL when no token is
 * configured.
 */
int mr_meeting_verify_url(const struct mr_meeting_cfg *cfg, const char *timestamp, const char *nonce,
			  const char *signature, const char *check_str, char **plain, struct mr_err *err);

/*
 * Verifies and decodes a POST of n bytes: sets *event to the event JSON (a
 * new reference the caller json_decrefs). MR_ETOOBIG past
 * MR_MEETING_BODY_MAX, MR_EINVAL when the body is not {"data": string} or
 * data is not base64 of a JSON object, MR_EAUTH for a missing header or a
 * wrong signature (checked before data is decoded), MR_EINTERNAL when no
 * token is configured.
 */
int mr_meeting_open(const struct mr_meeting_cfg *cfg, const char *timestamp, const char *nonce,
		    const char *signature, const char *body, size_t n, json_t **event,
		    struct mr_err *err);

/*
 * Maps a decoded event (see the table above) to at most max rows of out,
 * strings in a, and sets *n to their number. opts may be NULL. MR_EUNPROC
 * with err->kind "ignored" for an event that is not about participants;
 * MR_ETOOBIG when the payload has more than max entries; MR_EINVAL (field
 * named, e.g. "payload[1].operate_time") for a malformed event.
 */
int mr_meeting_events(json_t *event, const struct mr_meeting_opts *opts, struct mr_arena *a,
		      struct mr_event *out, int max, int *n, struct mr_err *err);

#endif
