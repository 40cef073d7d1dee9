/*
 * The WeCom (企业微信) callback protocol: how WeCom proves a callback came
 * from it, how it encrypts the body, and what the body says, turned into
 * medreach events. The module is pure: no sockets, no database, no clock;
 * the HTTP handler passes in the query parameters and the body and gets
 * back the plaintext to echo (URL verification), a parsed message, or an
 * event for the event log (event/event.h).
 *
 * The protocol, as WeCom publishes it ("加解密方案说明"):
 *   - msg_signature = hex SHA-1 of token, timestamp, nonce and the
 *     base64 ciphertext, sorted bytewise and concatenated;
 *   - the AES-256 key is base64_decode(EncodingAESKey + "="), the IV its
 *     first 16 bytes, CBC mode, PKCS#7 padding to a 32-byte block;
 *   - the plaintext is random(16) + msg_len (4 bytes, big-endian) + msg +
 *     receive id, where the receive id is the CorpID for a company's own
 *     app (the suite id or corp id for third-party and agency apps).
 * The signature is checked before anything is decrypted, so bad padding
 * can only be reported for a ciphertext that WeCom (or a holder of the
 * token) signed: there is no padding oracle for a stranger. The timestamp
 * is signed but not compared with a clock (the module has none): a replayed
 * callback maps to the same event id, and the event log counts it once.
 *
 * Errors: MR_EAUTH for a missing or wrong msg_signature ("the msg_signature
 * does not match") and for a plaintext addressed to another receive id
 * (err->kind "wrong_receiver"); MR_EINVAL for malformed XML, base64,
 * ciphertext, padding or length field; MR_ETOOBIG past MR_WECOM_BODY_MAX.
 * No input makes these functions crash or read out of bounds.
 */
#ifndef MR_CHANNELS_WECOM_H
#define MR_CHANNELS_WECOM_H

#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "event/event.h"

enum {
	MR_WECOM_KEY_LEN = 43,          /* characters of an EncodingAESKey */
	MR_WECOM_BODY_MAX = 1 << 20,    /* bytes of a callback body, echostr or sealed message */
	MR_WECOM_CONTENT_MAX = 2048,    /* bytes of Content kept (with its NUL); longer is cut */
	MR_WECOM_ID_MAX = 128,          /* bytes of a user id, corp id, state (with the NUL) */
	MR_WECOM_NAME_MAX = 64,         /* bytes of MsgType, Event, ChangeType, MsgId, AgentID */
	MR_WECOM_SIG_HEX = 40,          /* hex digits of a msg_signature */
};

/* One WeCom app's callback settings, as entered in the WeCom admin console. Borrowed strings. */
struct mr_wecom_cfg {
	const char *token;   /* Token: any string, signs every callback */
	const char *aes_key; /* EncodingAESKey: 43 base64 characters, 32 bytes decoded */
	const char *corp_id; /* the receive id (ReceiveId / CorpID) the plaintext must end with */
};

/*
 * A decrypted callback: the elements of the inner XML that message and
 * external-contact callbacks carry. Every string is NUL-terminated and ""
 * when the element was absent. content holds at most MR_WECOM_CONTENT_MAX-1
 * bytes (cut on a UTF-8 boundary); content_len is the full length sent.
 */
struct mr_wecom_msg {
	char to_user[MR_WECOM_ID_MAX];          /* ToUserName: the CorpID */
	char from_user[MR_WECOM_ID_MAX];        /* FromUserName: "sys" for events, else the sender */
	int64_t create_time;                    /* CreateTime: seconds since the epoch, 0 when absent */
	char msg_type[MR_WECOM_NAME_MAX];       /* MsgType: text, image, voice, ..., event */
	char event[MR_WECOM_NAME_MAX];          /* Event: change_external_contact, ... */
	char change_type[MR_WECOM_NAME_MAX];    /* ChangeType: add_external_contact, ... */
	char user_id[MR_WECOM_ID_MAX];          /* UserID: the rep's WeCom account */
	char external_user_id[MR_WECOM_ID_MAX]; /* ExternalUserID: the external contact (the doctor) */
	char state[MR_WECOM_ID_MAX];            /* State: the "contact me" channel parameter */
	char welcome_code[256];                 /* WelcomeCode: lets the rep send a welcome message */
	char msg_id[MR_WECOM_NAME_MAX];         /* MsgId: the message id, for deduplication */
	char agent_id[MR_WECOM_NAME_MAX];       /* AgentID: the WeCom app */
	char content[MR_WECOM_CONTENT_MAX];     /* Content: the text of a text message (personal data) */
	size_t content_len;                     /* bytes of Content as sent, before any cut */
};

/* Checks cfg: a non-empty token and corp id, an aes_key of 43 base64 characters decoding to 32 bytes. */
int mr_wecom_cfg_check(const struct mr_wecom_cfg *cfg, struct mr_err *err);

/*
 * Writes the msg_signature of (token, timestamp, nonce, encrypt), none NULL,
 * as 40 lower-case hex digits; out is "" when libcrypto fails (out of
 * memory), which matches no signature, so a check fails closed.
 */
void mr_wecom_sign(const char *token, const char *timestamp, const char *nonce, const char *encrypt,
		   char out[MR_WECOM_SIG_HEX + 1]);

/*
 * The URL-verification handshake (the GET WeCom sends when the callback URL
 * is saved): checks msg_signature over echostr (already URL-decoded),
 * decrypts it and checks the receive id. On success *plain is the malloc'd
 * text to answer with, verbatim; the caller frees it. *plain is NULL on error.
 */
int mr_wecom_verify_url(const struct mr_wecom_cfg *cfg, const char *msg_signature,
			const char *timestamp, const char *nonce, const char *echostr, char **plain,
			struct mr_err *err);

/*
 * Opens an encrypted callback (the POST): parses the outer XML of n bytes
 * of body (at most MR_WECOM_BODY_MAX), checks msg_signature over its
 * <Encrypt>, decrypts, checks the receive id and parses the inner XML into
 * *out. XML with a DOCTYPE (and so any entity declaration) is refused.
 */
int mr_wecom_open(const struct mr_wecom_cfg *cfg, const char *msg_signature, const char *timestamp,
		  const char *nonce, const char *body, size_t n, struct mr_wecom_msg *out,
		  struct mr_err *err);

/*
 * The inverse of opening: encrypts plain (fresh random prefix, cfg->corp_id
 * as receive id) and signs it with timestamp and nonce. On success
 * *encrypt_b64 is the malloc'd base64 ciphertext (the caller frees it) and
 * signature its msg_signature; a passive reply wraps both in WeCom's
 * <xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>.
 */
int mr_wecom_seal(const struct mr_wecom_cfg *cfg, const char *plain, const char *timestamp,
		  const char *nonce, char **encrypt_b64, char signature[MR_WECOM_SIG_HEX + 1],
		  struct mr_err *err);

/*
 * Maps a callback to one interaction event on channel wecom, source "wecom",
 * strings copied into a. The doctor is named by identity
 * {kind "wecom_external_userid", value the external user id}; the rep's
 * WeCom account goes to props {"wecom_user": UserID}, not to rep, because
 * rep ids are medreach's and WeCom accounts are mapped to them later.
 *
 *   change_external_contact / add_external_contact       contact_add     delivered
 *   change_external_contact / add_half_external_contact  contact_add     delivered
 *   change_external_contact / edit_external_contact      contact_edit    delivered
 *   change_external_contact / del_external_contact       contact_delete  sent
 *   change_external_contact / del_follow_user            contact_delete  sent
 *   any non-event MsgType from an external user          message         responded
 *
 * An external user is told from staff by WeCom's id format: external
 * user ids start with "wo" or "wm" and are 16 to 64 of A-Z a-z 0-9 _ -;
 * a message from any other FromUserName is a member writing to the app.
 *
 * Why those rungs: an added (or still edited) contact means the rep can now
 * reach the doctor in WeCom, a channel that is open and working, hence
 * "delivered"; a deleted contact is still a touch worth recording, but the
 * lowest one, "sent", so it weighs least in scores; a message the doctor
 * wrote is the top rung, "responded". Change events carry props
 * {"wecom_user", "change_type", "state" when present}; messages carry
 * {"msg_type", "length"} (bytes of Content) and never the text itself.
 *
 * The event id is "wecom:" + MsgId when there is one, else "wecom:" +
 * Event + ":" + ChangeType + ":" + ExternalUserID + ":" + CreateTime
 * (MsgType and FromUserName for a message without MsgId), so a callback
 * WeCom retries maps to the same id and the event log counts it once.
 *
 * MR_EUNPROC with err->kind "ignored" for callbacks that are not about a
 * doctor (other events, other change types, messages from staff), which the
 * caller acknowledges and skips; MR_EINVAL when a mapped callback lacks
 * ExternalUserID or CreateTime. The caller still runs mr_event_check.
 */
int mr_wecom_to_event(const struct mr_wecom_msg *m, struct mr_arena *a, struct mr_event *ev,
		      struct mr_err *err);

#endif
