/*
 * Tencent Meeting webhooks (see meeting.h for the protocol and the
 * mapping). Verification comes first and is all-or-nothing: the signature
 * is SHA-1 through OpenSSL's EVP interface, compared in constant time by
 * libsodium, and nothing the sender wrote is decoded before it matches.
 * The mapping is a table of Tencent event names; each payload entry of a
 * participant event becomes one row, built in small steps (who, when,
 * which meeting, what else) and checked against the event contract.
 */
#include "channels/meeting.h"

#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"

enum { MR_MEETING_SHANGHAI_S = 8 * 3600 };

/* What each Tencent event becomes: type NULL means recognised, but no doctor event. */
struct mr_meeting_kind {
	const char *event; /* Tencent's event name */
	const char *type;  /* the medreach event type */
	int leave;         /* 1: ask the caller for the join to fill duration_s */
};

static const struct mr_meeting_kind mr_meeting_kinds[] = {
	{ "meeting.participant-joined", "join", 0 },
	{ "meeting.participant-left", "leave", 1 },
	{ "meeting.started", NULL, 0 },
	{ "meeting.end", NULL, 0 },
};

/* Where an event-contract field came from in Tencent's payload, for error messages. */
static const struct {
	const char *contract;
	const char *tencent;
} mr_meeting_fields[] = {
	{ "id", "unique_sequence" },
	{ "ts", "operate_time" },
	{ "meeting", "meeting_info.meeting_id" },
};

/* ---- signature ---------------------------------------------------------- */

/* Sorts four strings bytewise (strcmp order), in place. */
static void mr_meeting_sort4(const char *v[4])
{
	for (int i = 1; i < 4; i++) {
		const char *s = v[i];
		int j = i;

		while (j > 0 && strcmp(v[j - 1], s) > 0) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = s;
	}
}

int mr_meeting_sign(const char *token, const char *timestamp, const char *nonce, const char *data,
		    char out[MR_MEETING_SIG_HEX + 1], struct mr_err *err)
{
	const char *parts[4] = { token, timestamp, nonce, data };
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	int ok;

	if (!token || !timestamp || !nonce || !data)
		return mr_err_set(err, MR_EINVAL, "the token, timestamp, nonce and data are all signed");
	ctx = EVP_MD_CTX_new();
	ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1;
	mr_meeting_sort4(parts);
	for (int i = 0; ok && i < 4; i++)
		ok = EVP_DigestUpdate(ctx, parts[i], strlen(parts[i])) == 1;
	ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == MR_MEETING_SIG_HEX / 2;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return mr_err_set(err, MR_EINTERNAL, "SHA-1 is not available from OpenSSL");
	sodium_bin2hex(out, MR_MEETING_SIG_HEX + 1, md, mdlen);
	return 0;
}

/* Checks that a token is configured and the three headers are there and of sane size. */
static int mr_meeting_headers(const struct mr_meeting_cfg *cfg, const char *timestamp,
			      const char *nonce, const char *signature, struct mr_err *err)
{
	const char *names[3] = { "timestamp", "nonce", "signature" };
	const char *values[3] = { timestamp, nonce, signature };

	if (!cfg || !cfg->token || !*cfg->token)
		return mr_err_set(err, MR_EINTERNAL,
				  "no Tencent Meeting token is configured; set the subscription's Token");
	for (int i = 0; i < 3; i++) {
		if (!values[i] || !*values[i])
			return mr_err_field(err, MR_EAUTH, names[i], "the %s header is missing", names[i]);
		if (strlen(values[i]) > MR_MEETING_HEADER_MAX)
			return mr_err_field(err, MR_EAUTH, names[i], "the %s header is over %d bytes",
					    names[i], MR_MEETING_HEADER_MAX);
	}
	return 0;
}

/* MR_EAUTH unless signature is the signature of data; the comparison takes constant time. */
static int mr_meeting_verify(const struct mr_meeting_cfg *cfg, const char *timestamp,
			     const char *nonce, const char *signature, const char *data,
			     struct mr_err *err)
{
	char want[MR_MEETING_SIG_HEX + 1], got[MR_MEETING_SIG_HEX + 1];
	int rc = mr_meeting_sign(cfg->token, timestamp, nonce, data, want, err);

	if (rc < 0)
		return rc;
	if (strlen(signature) != MR_MEETING_SIG_HEX)
		goto bad;
	for (int i = 0; i < MR_MEETING_SIG_HEX; i++) {
		got[i] = signature[i];
		if (got[i] >= 'A' && got[i] <= 'F')
			got[i] = (char)(got[i] + 32);
	}
	if (sodium_memcmp(want, got, MR_MEETING_SIG_HEX) == 0)
		return 0;
bad:
	mr_err_field(err, MR_EAUTH, "signature",
		     "the signature does not match: check that the Token configured here is the"
		     " subscription's Token");
	return mr_err_kind(err, "bad_signature");
}

/*
 * Decodes n bytes of standard base64, padded or not, into a malloc'd,
 * NUL-terminated *out of *len bytes. MR_EINVAL for anything else.
 */
static int mr_meeting_b64(const char *s, size_t n, char **out, size_t *len)
{
	int variant = n % 4 == 0 ? sodium_base64_VARIANT_ORIGINAL
				 : sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
	size_t cap = n / 4 * 3 + 3;
	unsigned char *bin = mr_malloc(cap + 1);

	*out = NULL;
	if (n == 0 || sodium_base642bin(bin, cap, s, n, NULL, len, NULL, variant) != 0) {
		free(bin);
		return MR_EINVAL;
	}
	bin[*len] = '\0';
	*out = (char *)bin;
	return 0;
}

int mr_meeting_verify_url(const struct mr_meeting_cfg *cfg, const char *timestamp, const char *nonce,
			  const char *signature, const char *check_str, char **plain, struct mr_err *err)
{
	size_t len = 0;
	int rc = mr_meeting_headers(cfg, timestamp, nonce, signature, err);

	*plain = NULL;
	if (rc < 0)
		return rc;
	if (!check_str || !*check_str)
		return mr_err_field(err, MR_EINVAL, "check_str", "the check_str parameter is missing");
	if (strlen(check_str) > MR_MEETING_CHECK_MAX)
		return mr_err_field(err, MR_EINVAL, "check_str", "check_str is over %d bytes",
				    MR_MEETING_CHECK_MAX);
	rc = mr_meeting_verify(cfg, timestamp, nonce, signature, check_str, err);
	if (rc < 0)
		return rc;
	if (mr_meeting_b64(check_str, strlen(check_str), plain, &len) < 0 || strlen(*plain) != len) {
		free(*plain);
		*plain = NULL;
		return mr_err_field(err, MR_EINVAL, "check_str",
				    "check_str is not base64 of text (was it URL-decoded?)");
	}
	return 0;
}

/* The "data" string of a POST body {"data": "..."}, borrowed from *body_json. */
static int mr_meeting_data(const char *body, size_t n, json_t **body_json, const char **data,
			   struct mr_err *err)
{
	json_t *v;
	int rc;

	if (n > MR_MEETING_BODY_MAX)
		return mr_err_set(err, MR_ETOOBIG, "the body is %zu bytes; at most %d are accepted", n,
				  MR_MEETING_BODY_MAX);
	rc = mr_json_parse_object(body, n, body_json, err);
	if (rc < 0)
		return rc;
	v = json_object_get(*body_json, "data");
	*data = json_string_value(v);
	if (!*data || json_string_length(v) == 0 || strlen(*data) != json_string_length(v))
		return mr_err_field(err, MR_EINVAL, "data",
				    "the body must be {\"data\": \"<base64 of the event>\"}");
	return 0;
}

int mr_meeting_open(const struct mr_meeting_cfg *cfg, const char *timestamp, const char *nonce,
		    const char *signature, const char *body, size_t n, json_t **event,
		    struct mr_err *err)
{
	json_t *outer = NULL;
	const char *data = "";
	char *plain = NULL;
	size_t len = 0;
	int rc = mr_meeting_headers(cfg, timestamp, nonce, signature, err);

	*event = NULL;
	if (rc == 0)
		rc = mr_meeting_data(body, n, &outer, &data, err);
	if (rc == 0)
		rc = mr_meeting_verify(cfg, timestamp, nonce, signature, data, err);
	if (rc == 0 && mr_meeting_b64(data, strlen(data), &plain, &len) < 0)
		rc = mr_err_field(err, MR_EINVAL, "data", "data is not valid base64");
	if (rc == 0) {
		rc = mr_json_parse(plain, len, MR_MEETING_DEPTH_MAX, event, err);
		if (rc == 0 && !json_is_object(*event)) {
			json_decref(*event);
			*event = NULL;
			rc = mr_err_set(err, MR_EINVAL, "the decoded data is not a JSON object");
		}
		if (rc < 0)
			snprintf(err->field, sizeof(err->field), "data");
	}
	free(plain);
	json_decref(outer);
	return rc;
}

/* ---- mapping ------------------------------------------------------------ */

static const struct mr_meeting_kind *mr_meeting_kind_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof(mr_meeting_kinds) / sizeof(mr_meeting_kinds[0]); i++) {
		if (strcmp(mr_meeting_kinds[i].event, name) == 0)
			return &mr_meeting_kinds[i];
	}
	return NULL;
}

/* A non-empty string member of o without NUL bytes, or NULL. */
static const char *mr_meeting_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	const char *s = json_string_value(v);

	return s && *s && strlen(s) == json_string_length(v) ? s : NULL;
}

/* Fills err for a bad member of payload entry i. */
static int mr_meeting_bad(struct mr_err *err, int i, const char *member, const char *what)
{
	char field[64];

	snprintf(field, sizeof(field), "payload[%d].%s", i, member);
	return mr_err_field(err, MR_EINVAL, field, "payload[%d].%s %s", i, member, what);
}

/* The delivery's unique id: unique_sequence, or trace_id in newer events. */
static int mr_meeting_seq(json_t *event, const char **seq, struct mr_err *err)
{
	*seq = mr_meeting_str(event, "unique_sequence");
	if (!*seq)
		*seq = mr_meeting_str(event, "trace_id");
	if (!*seq)
		return mr_err_field(err, MR_EINVAL, "unique_sequence",
				    "the event has neither unique_sequence nor trace_id");
	if (strlen(*seq) > MR_MEETING_SEQ_MAX)
		return mr_err_field(err, MR_EINVAL, "unique_sequence", "unique_sequence is over %d bytes",
				    MR_MEETING_SEQ_MAX);
	return 0;
}

/* operate_time: ms as a number or a string of digits, or "YYYY-MM-DD HH:MM:SS" in Shanghai time. */
static int mr_meeting_time(json_t *v, int64_t *us)
{
	const char *s = json_string_value(v);
	int64_t ms = 0;
	char buf[40];

	if (json_is_integer(v)) {
		ms = json_integer_value(v);
	} else if (!s || mr_parse_i64(s, 0, INT64_MAX / 1000, &ms) < 0) {
		if (!s || strlen(s) != 19)
			return MR_EINVAL;
		snprintf(buf, sizeof(buf), "%s+08:00", s);
		return mr_time_parse(buf, MR_MEETING_SHANGHAI_S, us);
	}
	if (ms < 0 || ms > INT64_MAX / 1000)
		return MR_EINVAL;
	*us = ms * 1000;
	return 0;
}

/* The participant's lasting id: operator.userid, else operator.uuid; NULL when neither is given. */
static const char *mr_meeting_who(json_t *op, const char **field)
{
	const char *id = mr_meeting_str(op, "userid");

	*field = "userid";
	if (!id) {
		id = mr_meeting_str(op, "uuid");
		*field = "uuid";
	}
	return id;
}

/* The props of a row as compact JSON in a: what the contract has no field for. */
static const char *mr_meeting_props(json_t *op, json_t *mi, const char *id_field, struct mr_arena *a)
{
	static const char *const copied[] = { "meeting_code", "sub_meeting_id", "subject" };
	json_t *props = json_object();
	json_t *inst = json_object_get(op, "instance_id");
	const char *text;
	char *dumped;

	for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++) {
		text = mr_meeting_str(mi, copied[i]);
		if (text && strlen(text) <= 256)
			json_object_set_new(props, copied[i], json_string(text));
	}
	if (json_is_string(inst) || json_is_integer(inst))
		json_object_set(props, "instance_id", inst);
	json_object_set_new(props, "id_field", json_string(id_field));
	dumped = json_dumps(props, JSON_COMPACT);
	text = mr_arena_strdup(a, dumped);
	free(dumped);
	json_decref(props);
	return text;
}

/* Seconds between the stored join and left_us, or -1 when the join is unknown or implausible. */
static int64_t mr_meeting_stay(const struct mr_meeting_opts *opts, const char *meeting,
			       const char *user, int64_t left_us)
{
	int64_t joined;

	if (!opts || !opts->joined_at)
		return -1;
	joined = opts->joined_at(opts->arg, meeting, user);
	if (joined <= 0 || joined > left_us || left_us - joined > MR_MEETING_DURATION_MAX * MR_US_PER_S)
		return -1;
	return (left_us - joined) / MR_US_PER_S;
}

/* Renames a contract field in err to the payload member it came from. */
static void mr_meeting_blame(struct mr_err *err, int i, const char *id_field)
{
	char field[64];
	const char *member = NULL;

	for (size_t k = 0; k < sizeof(mr_meeting_fields) / sizeof(mr_meeting_fields[0]); k++) {
		if (strcmp(err->field, mr_meeting_fields[k].contract) == 0)
			member = mr_meeting_fields[k].tencent;
	}
	if (strncmp(err->field, "identity", 8) == 0)
		member = strcmp(id_field, "uuid") == 0 ? "operator.uuid" : "operator.userid";
	if (!member)
		return;
	if (strcmp(member, "unique_sequence") == 0)
		snprintf(field, sizeof(field), "%s", member);
	else
		snprintf(field, sizeof(field), "payload[%d].%s", i, member);
	snprintf(err->field, sizeof(err->field), "%s", field);
}

/* The parts of one payload entry, each checked for presence and type. */
struct mr_meeting_entry {
	json_t *op, *mi;
	const char *user, *id_field, *meeting;
	int64_t ts;
};

static int mr_meeting_entry_read(json_t *entry, int i, struct mr_meeting_entry *e, struct mr_err *err)
{
	memset(e, 0, sizeof(*e));
	if (!json_is_object(entry))
		return mr_err_field(err, MR_EINVAL, "payload", "payload[%d] is not an object", i);
	e->op = json_object_get(entry, "operator");
	e->mi = json_object_get(entry, "meeting_info");
	if (!json_is_object(e->op))
		return mr_meeting_bad(err, i, "operator", "is missing or not an object");
	if (!json_is_object(e->mi))
		return mr_meeting_bad(err, i, "meeting_info", "is missing or not an object");
	e->meeting = mr_meeting_str(e->mi, "meeting_id");
	if (!e->meeting)
		return mr_meeting_bad(err, i, "meeting_info.meeting_id", "is missing or not a string");
	if (mr_meeting_time(json_object_get(entry, "operate_time"), &e->ts) < 0)
		return mr_meeting_bad(err, i, "operate_time",
				      "must be milliseconds since the epoch");
	e->user = mr_meeting_who(e->op, &e->id_field);
	return 0;
}

/*
 * Maps payload entry i to ev: 1 when it gave a row, 0 when it names no
 * lasting participant id (skipped), or a negative MR_E code.
 */
static int mr_meeting_entry(const struct mr_meeting_kind *k, const char *seq, int i, json_t *entry,
			    const struct mr_meeting_opts *opts, struct mr_arena *a,
			    struct mr_event *ev, struct mr_err *err)
{
	struct mr_meeting_entry e;
	char id[MR_EVENT_ID_MAX + 32];
	int rc = mr_meeting_entry_read(entry, i, &e, err);

	if (rc < 0)
		return rc;
	if (!e.user)
		return 0;
	snprintf(id, sizeof(id), "tencent_meeting:%s:%d", seq, i);
	mr_event_init(ev);
	ev->id = mr_arena_strdup(a, id);
	ev->ts = e.ts;
	ev->id_kind = "meeting_user_id";
	ev->id_app = "tencent_meeting";
	ev->id_value = mr_arena_strdup(a, e.user);
	ev->channel = MR_CH_MEETING_ONLINE;
	ev->type = k->type;
	ev->outcome = mr_outcome_parse(MR_CH_MEETING_ONLINE, "attended");
	ev->meeting = mr_arena_strdup(a, e.meeting);
	ev->props = mr_meeting_props(e.op, e.mi, e.id_field, a);
	ev->source = "meeting";
	rc = mr_event_check(ev, opts && opts->now_us ? opts->now_us : mr_now_us(), a, err);
	if (rc < 0) {
		mr_meeting_blame(err, i, e.id_field);
		return rc;
	}
	if (k->leave)
		ev->duration_s = mr_meeting_stay(opts, ev->meeting, ev->id_value, ev->ts);
	return 1;
}

/* Fails with MR_EUNPROC "ignored" for an event medreach has no use for. */
static int mr_meeting_ignored(const char *name, struct mr_err *err)
{
	mr_err_field(err, MR_EUNPROC, "event",
		     "Tencent Meeting event '%.60s' says nothing about a doctor's attendance; ignored",
		     name);
	return mr_err_kind(err, "ignored");
}

int mr_meeting_events(json_t *event, const struct mr_meeting_opts *opts, struct mr_arena *a,
		      struct mr_event *out, int max, int *n, struct mr_err *err)
{
	const char *name = mr_meeting_str(event, "event");
	const struct mr_meeting_kind *k = mr_meeting_kind_find(name);
	json_t *payload = json_object_get(event, "payload");
	const char *seq = NULL;
	int rc;

	*n = 0;
	if (!name)
		return mr_err_field(err, MR_EINVAL, "event", "the event has no \"event\" name");
	if (!k)
		return mr_meeting_ignored(name, err);
	if (!k->type)
		return 0;
	if (!json_is_array(payload))
		return mr_err_field(err, MR_EINVAL, "payload", "payload must be an array");
	if (json_array_size(payload) > (size_t)(max > 0 ? max : 0))
		return mr_err_field(err, MR_ETOOBIG, "payload", "payload has %zu entries; at most %d are accepted",
				    json_array_size(payload), max);
	rc = mr_meeting_seq(event, &seq, err);
	for (size_t i = 0; rc == 0 && i < json_array_size(payload); i++) {
		rc = mr_meeting_entry(k, seq, (int)i, json_array_get(payload, i), opts, a, &out[*n], err);
		if (rc > 0)
			++*n;
		rc = rc > 0 ? 0 : rc;
	}
	if (rc < 0)
		*n = 0;
	return rc;
}
