/*
 * See settings.h. The channels are one table: each row names the channel,
 * its keys, which of them are secret, and the check its settings must
 * pass (the protocol module's own). A row of channel_settings keeps the
 * secret keys sealed together (crypto/pii.h's secretbox under the PII key,
 * which caps them at MR_PII_MAX bytes: tokens are short) and the others as
 * plain JSON; loading joins them back into one object.
 *
 * The CDR import is a loop over the reader's records with a batch of
 * events filling up; a full batch has its reps resolved from the HCP
 * directory and goes to the caller's commit. Each record's line is kept
 * beside its event, so what the log rejects is reported where it was.
 */
#include "channels/settings.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/mem.h"
#include "base/time.h"
#include "crypto/pii.h"
#include "engine/hcpdir.h"

enum { MR_CHAN_KEYS_MAX = 5 };

struct mr_chan_def {
	const char *name;                    /* stored, and the audit login of its callbacks */
	const char *path;                    /* its spelling in URLs */
	const char *title;                   /* for people */
	const char *keys[MR_CHAN_KEYS_MAX];  /* the settings' keys, NULL-terminated */
	const char *secrets[MR_CHAN_KEYS_MAX];
	int (*check)(json_t *v, struct mr_err *err);
};

static int mr_chan_check_wecom(json_t *v, struct mr_err *err);
static int mr_chan_check_meeting(json_t *v, struct mr_err *err);
static int mr_chan_check_cdr(json_t *v, struct mr_err *err);

static const struct mr_chan_def mr_chan_defs[MR_CHAN_COUNT] = {
	[MR_CHAN_WECOM] = { "wecom", "wecom", "WeCom", { "token", "encoding_aes_key", "corp_id" },
			    { "token", "encoding_aes_key" }, mr_chan_check_wecom },
	[MR_CHAN_MEETING] = { "tencent_meeting", "tencent-meeting", "Tencent Meeting", { "token" },
			      { "token" }, mr_chan_check_meeting },
	[MR_CHAN_CDR] = { "cdr", "cdr", "call-centre CDR",
			  { "dispositions", "successful_s", "effective_s", "default_country" }, { NULL },
			  mr_chan_check_cdr },
};

int mr_chan_parse(const char *name)
{
	for (int ch = 0; name && ch < MR_CHAN_COUNT; ch++) {
		if (strcmp(name, mr_chan_defs[ch].name) == 0 || strcmp(name, mr_chan_defs[ch].path) == 0)
			return ch;
	}
	return -1;
}

const char *mr_chan_name(int ch)
{
	return ch >= 0 && ch < MR_CHAN_COUNT ? mr_chan_defs[ch].name : "unknown";
}

static int mr_chan_is_secret(const struct mr_chan_def *d, const char *key)
{
	for (int i = 0; d->secrets[i]; i++) {
		if (strcmp(d->secrets[i], key) == 0)
			return 1;
	}
	return 0;
}

/* ------------------------------------------------------------ checks */

/* obj[key] as a required string; the message says which channel wants it. */
static int mr_chan_need(json_t *v, const char *key, const char *title, const char **out,
			struct mr_err *err)
{
	*out = json_string_value(json_object_get(v, key));
	if (!*out || !**out)
		return mr_err_field(err, MR_EINVAL, key, "the %s settings need '%s'", title, key);
	return 0;
}

/* 1 when s is 1..max printable ASCII characters other than space and '*'. */
static int mr_chan_token_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		if (s[i] <= ' ' || s[i] > '~' || s[i] == '*')
			return 0;
	}
	return n >= 1 && n <= max;
}

static int mr_chan_check_wecom(json_t *v, struct mr_err *err)
{
	const char *title = mr_chan_defs[MR_CHAN_WECOM].title;
	struct mr_wecom_cfg cfg;
	int rc = mr_chan_need(v, "token", title, &cfg.token, err);

	if (rc == 0)
		rc = mr_chan_need(v, "encoding_aes_key", title, &cfg.aes_key, err);
	if (rc == 0)
		rc = mr_chan_need(v, "corp_id", title, &cfg.corp_id, err);
	if (rc == 0 && !mr_chan_token_ok(cfg.corp_id, MR_WECOM_ID_MAX - 1))
		rc = mr_err_field(err, MR_EINVAL, "corp_id",
				  "corp_id is the CorpID from the WeCom admin console (My Company > Company"
				  " Info), at most %d characters without spaces", MR_WECOM_ID_MAX - 1);
	if (rc == 0)
		rc = mr_wecom_cfg_check(&cfg, err);
	if (rc < 0 && strcmp(err->field, "aes_key") == 0) /* the module's name for it */
		snprintf(err->field, sizeof(err->field), "encoding_aes_key");
	return rc;
}

static int mr_chan_check_meeting(json_t *v, struct mr_err *err)
{
	const char *token;

	return mr_chan_need(v, "token", mr_chan_defs[MR_CHAN_MEETING].title, &token, err);
}

static int mr_chan_check_cdr(json_t *v, struct mr_err *err)
{
	struct mr_cdr_rules r;
	struct mr_arena a;
	int rc;

	mr_arena_init(&a);
	rc = mr_cdr_rules_from_json(v, &r, &a, err);
	mr_arena_release(&a);
	return rc;
}

int mr_chan_check(int ch, json_t *v, struct mr_err *err)
{
	if (ch < 0 || ch >= MR_CHAN_COUNT)
		return mr_err_set(err, MR_EINTERNAL, "no channel %d", ch);
	if (!json_is_object(v))
		return mr_err_set(err, MR_EINVAL, "the %s settings must be a JSON object",
				  mr_chan_defs[ch].title);
	return mr_chan_defs[ch].check(v, err);
}

/* ------------------------------------------------------------ masking and the view */

void mr_chan_mask(const char *secret, char out[MR_CHAN_MASK_MAX])
{
	if (secret && strlen(secret) >= 8)
		snprintf(out, MR_CHAN_MASK_MAX, "%.3s***", secret);
	else
		snprintf(out, MR_CHAN_MASK_MAX, "***");
}

/* The settings with every secret masked: a new object. */
static json_t *mr_chan_masked(const struct mr_chan_settings *s)
{
	const struct mr_chan_def *d = &mr_chan_defs[s->channel];
	json_t *o = json_deep_copy(s->v);

	for (int i = 0; d->secrets[i]; i++) {
		const char *secret = json_string_value(json_object_get(o, d->secrets[i]));
		char masked[MR_CHAN_MASK_MAX];

		if (!secret)
			continue;
		mr_chan_mask(secret, masked);
		json_object_set_new(o, d->secrets[i], json_string(masked));
	}
	return o;
}

/* The CDR rules r as the settings would state them all. */
static json_t *mr_chan_rules_json(const struct mr_cdr_rules *r)
{
	json_t *map = json_object();

	for (int i = 0; i < r->nmap; i++)
		json_object_set_new(map, r->map[i].disposition, json_string(r->map[i].outcome));
	return json_pack("{s:o, s:i, s:i, s:s}", "dispositions", map, "successful_s", r->successful_s,
			 "effective_s", r->effective_s, "default_country", r->default_country);
}

json_t *mr_chan_view(const struct mr_chan_settings *s)
{
	json_t *o = json_pack("{s:s, s:b, s:o}", "channel", mr_chan_name(s->channel), "configured",
			      s->configured, "settings", mr_chan_masked(s));

	mr_json_set_time(o, "updated_at", s->updated_at);
	mr_json_set_str(o, "updated_by", s->configured ? s->updated_by : NULL);
	if (s->channel == MR_CHAN_CDR) {
		struct mr_cdr_rules r;
		struct mr_arena a;
		struct mr_err ignored;

		mr_arena_init(&a);
		if (mr_chan_cdr_rules(s, &r, &a, &ignored) < 0)
			mr_cdr_rules_default(&r);
		json_object_set_new(o, "rules", mr_chan_rules_json(&r));
		mr_arena_release(&a);
	}
	return o;
}

/* ------------------------------------------------------------ changing */

/* Sets secret key of s to v: kept when v is the masked form of the stored value. */
static int mr_chan_change_secret(struct mr_chan_settings *s, const char *key, json_t *v,
				 struct mr_err *err)
{
	const char *now = json_string_value(json_object_get(s->v, key));
	const char *given = json_string_value(v);
	char masked[MR_CHAN_MASK_MAX];

	if (!given || strlen(given) != json_string_length(v))
		return mr_err_field(err, MR_EINVAL, key, "'%s' must be a string", key);
	mr_chan_mask(now, masked);
	if (now && strcmp(given, masked) == 0)
		return 0;
	if (!mr_chan_token_ok(given, MR_CHAN_SECRET_MAX))
		return mr_err_field(err, MR_EINVAL, key,
				    "'%s' must be 1 to %d printable ASCII characters without spaces or '*':"
				    " send the secret itself, or leave it out to keep the stored one",
				    key, MR_CHAN_SECRET_MAX);
	json_object_set(s->v, key, v);
	return 0;
}

int mr_chan_change(struct mr_chan_settings *s, json_t *change, struct mr_err *err)
{
	const struct mr_chan_def *d = &mr_chan_defs[s->channel];
	const char *key;
	json_t *v;
	int rc = 0;

	if (!json_is_object(change))
		return mr_err_set(err, MR_EINVAL, "send the %s settings as a JSON object", d->title);
	rc = mr_json_only(change, d->keys, err);
	json_object_foreach(change, key, v) {
		if (rc < 0)
			break;
		if (json_is_null(v))
			json_object_del(s->v, key);
		else if (mr_chan_is_secret(d, key))
			rc = mr_chan_change_secret(s, key, v, err);
		else
			json_object_set(s->v, key, v);
	}
	return rc < 0 ? rc : mr_chan_check(s->channel, s->v, err);
}

/* ------------------------------------------------------------ loading and saving */

/* Opens the sealed secrets of a row into s->v. */
static int mr_chan_open_secrets(const struct mr_keys *k, const void *sealed, size_t n,
				struct mr_chan_settings *s, struct mr_err *err)
{
	char plain[MR_PII_MAX + 1];
	json_t *secrets = NULL;
	int rc = mr_pii_open(k, sealed, n, plain, sizeof(plain), err);

	if (rc == 0)
		rc = mr_json_parse_object(plain, strlen(plain), &secrets, err);
	sodium_memzero(plain, sizeof(plain));
	if (rc < 0)
		return mr_err_set(err, MR_EINTERNAL, "the %s secrets do not open: is this the key file they"
				  " were saved with?", mr_chan_defs[s->channel].title);
	json_object_update(s->v, secrets);
	json_decref(secrets);
	return 0;
}

/* Reads the current row into s. */
static int mr_chan_read_row(struct mr_rows *rows, const struct mr_keys *k, struct mr_chan_settings *s,
			    struct mr_err *err)
{
	const char *config = mr_rows_text(rows, 0);
	const char *by = mr_rows_text(rows, 3);
	size_t n = 0;
	const void *sealed = mr_rows_blob(rows, 1, &n);
	int rc;

	json_decref(s->v);
	s->v = NULL;
	rc = mr_json_parse_object(config ? config : "", config ? strlen(config) : 0, &s->v, err);
	if (rc < 0) {
		s->v = json_object();
		return mr_err_set(err, MR_EINTERNAL, "the stored %s settings are not JSON",
				  mr_chan_defs[s->channel].title);
	}
	if (sealed && n > 0)
		rc = mr_chan_open_secrets(k, sealed, n, s, err);
	s->configured = 1;
	s->updated_at = mr_rows_int(rows, 2);
	snprintf(s->updated_by, sizeof(s->updated_by), "%s", by ? by : "");
	return rc;
}

int mr_chan_load(struct mr_conn *c, const struct mr_keys *k, int ch, struct mr_chan_settings *s,
		 struct mr_err *err)
{
	struct mr_val arg = mr_v_text(mr_chan_name(ch));
	struct mr_rows *rows = NULL;
	int rc;

	memset(s, 0, sizeof(*s));
	s->channel = ch;
	s->v = json_object();
	if (ch < 0 || ch >= MR_CHAN_COUNT)
		return mr_err_set(err, MR_EINTERNAL, "no channel %d", ch);
	rc = mr_conn_query(c, "SELECT config, secrets_enc, updated_at, updated_by FROM channel_settings"
			   " WHERE channel = ?", &arg, 1, &rows, err);
	if (rc == 0)
		rc = mr_rows_next(rows, err);
	if (rc == 1)
		rc = mr_chan_read_row(rows, k, s, err);
	mr_rows_close(rows);
	return rc < 0 ? rc : 0;
}

void mr_chan_release(struct mr_chan_settings *s)
{
	json_decref(s->v);
	s->v = NULL;
}

/* Splits s->v into its plain config (returned, malloc'd text) and its secrets (sealed into *sealed). */
static int mr_chan_split(const struct mr_keys *k, const struct mr_chan_settings *s, char **config,
			 unsigned char **sealed, size_t *nsealed, struct mr_err *err)
{
	const struct mr_chan_def *d = &mr_chan_defs[s->channel];
	json_t *plain = json_deep_copy(s->v), *secrets = json_object();
	char *text;
	size_t n;

	for (int i = 0; d->secrets[i]; i++) {
		json_t *v = json_object_get(plain, d->secrets[i]);

		if (v)
			json_object_set(secrets, d->secrets[i], v);
		json_object_del(plain, d->secrets[i]);
	}
	*config = json_dumps(plain, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(plain);
	*sealed = NULL;
	*nsealed = 0;
	text = json_object_size(secrets) ? json_dumps(secrets, JSON_COMPACT) : NULL;
	json_decref(secrets);
	if (!text)
		return 0;
	n = strlen(text);
	if (n <= MR_PII_MAX) {
		*nsealed = n + MR_PII_OVERHEAD;
		*sealed = mr_malloc(*nsealed);
		mr_pii_seal(k, text, n, *sealed);
	}
	sodium_memzero(text, n);
	free(text);
	if (!*sealed)
		return mr_err_set(err, MR_EINVAL, "the %s secrets are over %d bytes together", d->title,
				  MR_PII_MAX);
	return 0;
}

int mr_chan_save(struct mr_conn *c, const struct mr_keys *k, struct mr_chan_settings *s,
		 const char *login, int64_t now, struct mr_err *err)
{
	char *config = NULL;
	unsigned char *sealed = NULL;
	size_t nsealed = 0;
	struct mr_val args[5];
	int rc = mr_chan_split(k, s, &config, &sealed, &nsealed, err);

	args[0] = mr_v_text(mr_chan_name(s->channel));
	args[1] = mr_v_text(config);
	args[2] = mr_v_blob(sealed, nsealed);
	args[3] = mr_v_int(now);
	args[4] = mr_v_text(login);
	if (rc == 0)
		rc = mr_conn_exec(c, "INSERT INTO channel_settings (channel, config, secrets_enc, updated_at,"
				  " updated_by) VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel) DO UPDATE SET"
				  " config = excluded.config, secrets_enc = excluded.secrets_enc,"
				  " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
				  args, 5, NULL, err);
	if (rc == 0) {
		s->configured = 1;
		s->updated_at = now;
		snprintf(s->updated_by, sizeof(s->updated_by), "%s", login);
	}
	free(config);
	free(sealed);
	return rc;
}

/* ------------------------------------------------------------ typed settings */

/* MR_EUNAVAIL saying what an admin must set, when s is not configured. */
static int mr_chan_need_configured(const struct mr_chan_settings *s, struct mr_err *err)
{
	const struct mr_chan_def *d = &mr_chan_defs[s->channel];
	char keys[96] = "";

	if (s->configured)
		return 0;
	for (int i = 0; d->keys[i]; i++) {
		size_t used = strlen(keys);

		snprintf(keys + used, sizeof(keys) - used, "%s%s", i ? ", " : "", d->keys[i]);
	}
	mr_err_set(err, MR_EUNAVAIL, "the %s channel is not configured: an admin sets %s with"
		   " PUT /api/v1/channels/%s", d->title, keys, d->path);
	return mr_err_kind(err, "channel_not_configured");
}

int mr_chan_wecom_cfg(const struct mr_chan_settings *s, struct mr_wecom_cfg *cfg, struct mr_err *err)
{
	int rc = mr_chan_need_configured(s, err);

	cfg->token = json_string_value(json_object_get(s->v, "token"));
	cfg->aes_key = json_string_value(json_object_get(s->v, "encoding_aes_key"));
	cfg->corp_id = json_string_value(json_object_get(s->v, "corp_id"));
	return rc;
}

int mr_chan_meeting_cfg(const struct mr_chan_settings *s, struct mr_meeting_cfg *cfg,
			struct mr_err *err)
{
	int rc = mr_chan_need_configured(s, err);

	cfg->token = json_string_value(json_object_get(s->v, "token"));
	return rc;
}

int mr_chan_cdr_rules(const struct mr_chan_settings *s, struct mr_cdr_rules *r, struct mr_arena *a,
		      struct mr_err *err)
{
	if (!s || !s->configured) {
		mr_cdr_rules_default(r);
		return 0;
	}
	return mr_cdr_rules_from_json(s->v, r, a, err);
}

/* ------------------------------------------------------------ Tencent Meeting joins */

static void mr_chan_user_key(const struct mr_keys *k, const char *user, unsigned char out[MR_PII_BIDX])
{
	mr_pii_bidx(k, "meeting_user_id", "tencent_meeting", user, out);
}

int mr_chan_join_get(struct mr_conn *c, const struct mr_keys *k, const char *meeting,
		     const char *user, int64_t *at, struct mr_err *err)
{
	unsigned char bidx[MR_PII_BIDX];
	struct mr_val args[2];
	int rc;

	*at = 0;
	mr_chan_user_key(k, user, bidx);
	args[0] = mr_v_text(meeting);
	args[1] = mr_v_blob(bidx, sizeof(bidx));
	rc = mr_conn_query_int(c, "SELECT joined_at FROM meeting_joins WHERE meeting_id = ? AND user_bidx = ?",
			       args, 2, at, err);
	if (rc == MR_ENOTFOUND) {
		mr_err_clear(err);
		*at = 0;
		rc = 0;
	}
	return rc;
}

/* One stored meeting event's effect on the joins. */
static int mr_chan_join_one(struct mr_conn *c, const struct mr_keys *k, const struct mr_event *ev,
			    struct mr_err *err)
{
	unsigned char bidx[MR_PII_BIDX];
	struct mr_val args[3];
	int join = strcmp(ev->type, "join") == 0;

	mr_chan_user_key(k, ev->id_value, bidx);
	args[0] = mr_v_text(ev->meeting);
	args[1] = mr_v_blob(bidx, sizeof(bidx));
	args[2] = mr_v_int(ev->ts);
	if (join)
		return mr_conn_exec(c, "INSERT INTO meeting_joins (meeting_id, user_bidx, joined_at) VALUES (?, ?, ?)"
				    " ON CONFLICT (meeting_id, user_bidx) DO UPDATE SET joined_at = excluded.joined_at",
				    args, 3, NULL, err);
	return mr_conn_exec(c, "DELETE FROM meeting_joins WHERE meeting_id = ? AND user_bidx = ? AND joined_at <= ?",
			    args, 3, NULL, err);
}

int mr_chan_joins_apply(struct mr_conn *c, const struct mr_keys *k, const struct mr_evlog_batch *b,
			int64_t now, struct mr_err *err)
{
	struct mr_val cutoff = mr_v_int(now - (int64_t)MR_CHAN_JOIN_KEEP_S * MR_US_PER_S);
	int joins = 0, rc = 0;

	for (int i = 0; rc == 0 && i < b->n; i++) {
		const struct mr_event *ev = &b->ev[i];

		if (b->fate[i] != MR_EV_STORED || ev->channel != MR_CH_MEETING_ONLINE || !ev->meeting ||
		    !ev->id_value || (strcmp(ev->type, "join") != 0 && strcmp(ev->type, "leave") != 0))
			continue;
		joins += strcmp(ev->type, "join") == 0;
		rc = mr_chan_join_one(c, k, ev, err);
	}
	if (rc == 0 && joins)
		rc = mr_conn_exec(c, "DELETE FROM meeting_joins WHERE joined_at < ?", &cutoff, 1, NULL, err);
	return rc;
}

/* ------------------------------------------------------------ the CDR import */

/* The import's state: the header's columns and the batch filling up. */
struct mr_chan_cdr {
	const struct mr_chan_cdr_opts *o;
	struct mr_chan_cdr_report *rep;
	struct mr_cdr_cols cols;
	struct mr_evlog_batch b;
	int64_t *line;              /* the line of each event of b */
	int cap;
	struct mr_arena arena;      /* the batch's strings */
};

static void mr_chan_cdr_reject(struct mr_chan_cdr_report *rep, int64_t line, const struct mr_err *why)
{
	json_t *o;

	rep->rejected++;
	if ((int64_t)json_array_size(rep->rejected_list) >= MR_CHAN_LISTED_MAX)
		return;
	o = json_pack("{s:I}", "line", (json_int_t)(why->line ? why->line : line));
	json_object_set_new(o, "column", why->column ? json_integer(why->column) : json_null());
	json_object_set_new(o, "field", why->field[0] ? json_string(why->field) : json_null());
	json_object_set_new(o, "error", mr_json_string_safe(why->msg[0] ? why->msg : "rejected"));
	json_array_append_new(rep->rejected_list, o);
}

/* The batch's reps from the directory, synced once when some are missing; the rest rejected. */
static int mr_chan_cdr_reps(struct mr_chan_cdr *x, struct mr_err *err)
{
	struct mr_evlog_batch *b = &x->b;
	unsigned char *miss = mr_malloc((size_t)b->n + 1);
	int misses = mr_hcpdir_resolve(x->o->dir, b->ev, b->n, miss);
	int rc = 0;

	if (misses && x->o->store) {
		struct mr_conn *c = NULL;

		rc = mr_store_acquire(x->o->store, &c, err);
		if (rc == 0)
			rc = mr_hcpdir_sync(x->o->dir, c, err);
		if (c)
			mr_store_release(x->o->store, c);
		if (rc == 0)
			misses = mr_hcpdir_resolve(x->o->dir, b->ev, b->n, miss);
	}
	for (int i = 0; rc == 0 && misses && i < b->n; i++) {
		if (!miss[i])
			continue;
		b->fate[i] = MR_EV_REJECTED;
		mr_err_field(&b->why[i], MR_EINVAL, "agent", "unknown rep '%.64s': the agent column names"
			     " a rep by the rep's id in medreach", b->ev[i].rep);
		b->why[i].column = x->cols.at[MR_CDR_AGENT] + 1;
	}
	free(miss);
	return rc;
}

/* Resolves, commits and counts the batch, then empties it. */
static int mr_chan_cdr_flush(struct mr_chan_cdr *x, struct mr_err *err)
{
	struct mr_evlog_batch *b = &x->b;
	int rc = 0;

	if (b->n == 0)
		return 0;
	mr_evlog_batch_reset(b);
	rc = mr_chan_cdr_reps(x, err);
	if (rc == 0)
		rc = x->o->commit(x->o->arg, b, err);
	for (int i = 0; rc == 0 && i < b->n; i++) {
		if (b->fate[i] == MR_EV_REJECTED)
			mr_chan_cdr_reject(x->rep, x->line[i], &b->why[i]);
	}
	if (rc == 0) {
		x->rep->accepted += b->stored;
		x->rep->duplicates += b->duplicates;
	}
	b->n = 0;
	mr_arena_release(&x->arena);
	mr_arena_init(&x->arena);
	if (rc == 0 && x->o->progress)
		x->o->progress(x->o->progress_arg, x->rep->rows);
	return rc;
}

/* One record after the header: an event in the batch, or a reported row. */
static int mr_chan_cdr_record(struct mr_chan_cdr *x, const struct mr_csv_rec *rec, struct mr_err *err)
{
	struct mr_event *ev = &x->b.ev[x->b.n];
	struct mr_err why;
	int rc;

	mr_err_clear(&why);
	x->rep->rows++;
	rc = mr_cdr_row(x->o->rules, &x->cols, rec->nfields, (const char *const *)rec->fields, rec->line,
			&x->arena, ev, &why);
	if (rc == MR_EINVAL || rc == MR_EUNPROC) {
		mr_chan_cdr_reject(x->rep, rec->line, &why);
		return 0;
	}
	if (rc < 0) {
		*err = why;
		return rc;
	}
	x->line[x->b.n++] = rec->line;
	return x->b.n == x->cap ? mr_chan_cdr_flush(x, err) : 0;
}

/* The header record: where each column is. */
static int mr_chan_cdr_header(struct mr_chan_cdr *x, struct mr_csv *csv, struct mr_err *err)
{
	struct mr_csv_rec rec;
	int rc = mr_csv_next(csv, &rec, err);

	if (rc == 0)
		return mr_err_set(err, MR_EINVAL, "the file is empty: a CDR file starts with a header line"
				  " (caller, callee, start, billsec, disposition, ...)");
	if (rc < 0)
		return rc;
	rc = mr_cdr_header(rec.nfields, (const char *const *)rec.fields, &x->cols, err);
	if (rc < 0)
		err->line = rec.line;
	return rc;
}

/* Reads every record after the header into batches. */
static int mr_chan_cdr_records(struct mr_chan_cdr *x, struct mr_csv *csv, struct mr_err *err)
{
	struct mr_csv_rec rec;
	int rc = 0;

	for (;;) {
		struct mr_err why;

		mr_err_clear(&why);
		rc = mr_csv_next(csv, &rec, &why);
		if (rc == 0)
			break;
		if (rc == MR_EINVAL) { /* a bad record: reported, and the reader goes on */
			x->rep->rows++;
			mr_chan_cdr_reject(x->rep, why.line, &why);
			continue;
		}
		if (rc < 0) {
			*err = why;
			return rc;
		}
		rc = mr_chan_cdr_record(x, &rec, err);
		if (rc < 0)
			return rc;
	}
	return mr_chan_cdr_flush(x, err);
}

/* A rejected row on its way to being sorted. */
struct mr_chan_cdr_row {
	json_int_t line;
	json_t *o;
};

static int mr_chan_cdr_cmp_line(const void *p, const void *q)
{
	const struct mr_chan_cdr_row *a = p, *b = q;

	return a->line < b->line ? -1 : a->line > b->line;
}

/* The rejected rows in line order (a batch's rejections by the log come after the reader's). */
static void mr_chan_cdr_sort(json_t *list)
{
	size_t n = json_array_size(list);
	struct mr_chan_cdr_row *v = mr_calloc(n + 1, sizeof(*v));

	for (size_t i = 0; i < n; i++) {
		v[i].o = json_incref(json_array_get(list, i));
		v[i].line = json_integer_value(json_object_get(v[i].o, "line"));
	}
	qsort(v, n, sizeof(*v), mr_chan_cdr_cmp_line);
	json_array_clear(list);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, v[i].o);
	free(v);
}

int mr_chan_cdr_import(struct mr_csv *csv, const struct mr_chan_cdr_opts *o,
		       struct mr_chan_cdr_report *rep, struct mr_err *err)
{
	struct mr_chan_cdr x;
	int64_t t0 = mr_mono_us();
	int rc;

	memset(rep, 0, sizeof(*rep));
	memset(&x, 0, sizeof(x));
	rep->rejected_list = json_array();
	rep->encoding = mr_csv_encoding_name(csv);
	x.o = o;
	x.rep = rep;
	x.cap = o->batch > 0 ? o->batch : MR_CHAN_BATCH;
	x.b.ev = mr_calloc((size_t)x.cap, sizeof(*x.b.ev));
	x.b.fate = mr_calloc((size_t)x.cap, 1);
	x.b.seq = mr_calloc((size_t)x.cap, sizeof(*x.b.seq));
	x.b.why = mr_calloc((size_t)x.cap, sizeof(*x.b.why));
	x.line = mr_calloc((size_t)x.cap, sizeof(*x.line));
	mr_arena_init(&x.arena);
	rc = mr_chan_cdr_header(&x, csv, err);
	if (rc == 0)
		rc = mr_chan_cdr_records(&x, csv, err);
	mr_arena_release(&x.arena);
	free(x.b.ev);
	free(x.b.fate);
	free(x.b.seq);
	free(x.b.why);
	free(x.line);
	mr_chan_cdr_sort(rep->rejected_list);
	rep->took_us = mr_mono_us() - t0;
	return rc;
}

json_t *mr_chan_cdr_report_json(const struct mr_chan_cdr_report *rep)
{
	return json_pack("{s:I, s:I, s:I, s:O, s:I, s:s, s:I}", "rows", (json_int_t)rep->rows, "accepted",
			 (json_int_t)rep->accepted, "duplicates", (json_int_t)rep->duplicates, "rejected",
			 rep->rejected_list, "rejected_total", (json_int_t)rep->rejected, "encoding",
			 rep->encoding ? rep->encoding : "utf-8", "took_ms", (json_int_t)(rep->took_us / 1000));
}

void mr_chan_cdr_report_release(struct mr_chan_cdr_report *rep)
{
	json_decref(rep->rejected_list);
	rep->rejected_list = NULL;
}
