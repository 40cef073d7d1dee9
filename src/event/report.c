/* See report.h. */
#include "event/report.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "crypto/pii.h"

/* The channels a rep reports on. */
static int mr_report_channel_ok(int ch)
{
	return ch == MR_CH_VISIT || ch == MR_CH_PHONE || ch == MR_CH_WECHAT || ch == MR_CH_WECOM ||
	       ch == MR_CH_MEETING_ONLINE || ch == MR_CH_MEETING_OFFLINE || ch == MR_CH_EMAIL;
}

/* A list of short strings, joined with ';' into the arena; NULL when absent or empty. */
static int mr_report_list_field(json_t *o, const char *key, struct mr_arena *a, const char **out,
				struct mr_err *err)
{
	json_t *v = json_object_get(o, key), *it;
	struct mr_buf b;
	size_t i;

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v) || json_array_size(v) > 20)
		return mr_err_field(err, MR_EINVAL, key, "%s must be a list of at most 20 strings", key);
	mr_buf_init(&b, 4096);
	json_array_foreach(v, i, it) {
		const char *s = json_string_value(it);

		if (!s || !*s || strlen(s) > 200 || strchr(s, ';')) {
			mr_buf_release(&b);
			return mr_err_field(err, MR_EINVAL, key, "%s[%zu] must be 1 to 200 bytes of text"
					    " without ';'", key, i);
		}
		mr_buf_addf(&b, "%s%s", i ? ";" : "", s);
	}
	if (b.len)
		*out = mr_arena_strdup(a, mr_buf_str(&b));
	mr_buf_release(&b);
	return 0;
}

static int mr_report_text(json_t *o, const char *key, const char **out, struct mr_err *err)
{
	return mr_json_str(o, key, 0, MR_REPORT_TEXT_MAX, out, err);
}

static int mr_report_time(json_t *o, const char *key, int required, int64_t *out, struct mr_err *err)
{
	const char *s = NULL;
	int rc = mr_json_str(o, key, required, 40, &s, err);

	*out = 0;
	if (rc == 0 && s && (!strchr(s, 'T') || mr_time_parse(s, 0, out) < 0))
		rc = mr_err_field(err, MR_EINVAL, key, "%s must be RFC 3339 with a time and a zone", key);
	return rc;
}

static int mr_report_follow_up(json_t *o, struct mr_report *r, int64_t now_us, struct mr_err *err)
{
	static const char *const keys[] = { "at", "channel", NULL };
	json_t *f = json_object_get(o, "follow_up");
	const char *ch = NULL;
	int rc;

	if (!f || json_is_null(f))
		return 0;
	if (!json_is_object(f))
		return mr_err_field(err, MR_EINVAL, "follow_up", "follow_up must be {\"at\", \"channel\"}");
	rc = mr_json_only(f, keys, err);
	if (rc == 0)
		rc = mr_report_time(f, "at", 1, &r->follow_up_at, err);
	if (rc == 0 && r->follow_up_at <= now_us - 86400 * MR_US_PER_S)
		rc = mr_err_field(err, MR_EINVAL, "follow_up.at", "a follow-up is due in the future");
	if (rc == 0)
		rc = mr_json_str(f, "channel", 0, 32, &ch, err);
	if (rc == 0 && ch && !mr_report_channel_ok(r->follow_up_channel = mr_channel_parse(ch)))
		rc = mr_err_field(err, MR_EINVAL, "follow_up.channel", "a follow-up is a visit, phone,"
				  " wechat, wecom, meeting_online, meeting_offline or email");
	if (rc < 0 && strncmp(err->field, "follow_up", 9) != 0) {
		char f2[sizeof(err->field) + 16];

		snprintf(f2, sizeof(f2), "follow_up.%s", err->field);
		snprintf(err->field, sizeof(err->field), "%.63s", f2);
	}
	return rc;
}

static int mr_report_what(json_t *o, struct mr_report *r, int amend, int64_t now_us,
			  struct mr_err *err)
{
	const char *ch = NULL, *out = NULL;
	int rc = mr_json_str(o, "channel", !amend, 32, &ch, err);

	if (rc == 0 && ch && !mr_report_channel_ok(r->channel = mr_channel_parse(ch)))
		rc = mr_err_field(err, MR_EINVAL, "channel", "a report is of a visit, phone, wechat, wecom,"
				  " meeting_online, meeting_offline or email");
	if (rc == 0)
		rc = mr_json_str(o, "outcome", !amend, 32, &out, err);
	if (rc == 0 && out) {
		r->outcome_name = out;
		r->outcome = r->channel ? mr_outcome_parse(r->channel, out) : -1;
		if (r->channel && r->outcome < 0)
			rc = mr_err_field(err, MR_EINVAL, "outcome", "outcome '%.40s' is not on the %s ladder",
					  out, mr_channel_name(r->channel));
	}
	if (rc == 0)
		rc = mr_report_time(o, "at", !amend, &r->at, err);
	if (rc == 0 && r->at && (r->at > now_us + 3600 * MR_US_PER_S || r->at < MR_EVENT_TS_MIN))
		rc = mr_err_field(err, MR_EINVAL, "at", "a report is of something that happened: 'at' is in"
				  " the future or before 2000");
	return rc;
}

int mr_report_from_json(struct mr_report *r, json_t *o, int amend, int64_t now_us,
			struct mr_arena *a, struct mr_err *err)
{
	static const char *const keys[] = { "id", "hcp", "channel", "outcome", "at", "duration_min",
					    "products", "key_messages", "feedback", "questions",
					    "next_steps", "follow_up", "reason", NULL };
	int64_t dur = 0;
	int present = 0;
	int rc = mr_json_only(o, keys, err);

	memset(r, 0, sizeof(*r));
	r->duration_min = -1;
	r->outcome = -1;
	if (rc == 0)
		rc = mr_json_str(o, "id", 0, 32, &r->id, err);
	if (rc == 0 && r->id && !mr_str_charset(r->id, "-_."))
		rc = mr_err_field(err, MR_EINVAL, "id", "id must be A-Z a-z 0-9 - _ . only");
	if (rc == 0 && amend && json_object_get(o, "hcp"))
		rc = mr_err_field(err, MR_EINVAL, "hcp", "an amendment keeps the report's doctor");
	if (rc == 0 && !amend)
		rc = mr_json_str(o, "hcp", 1, 64, &r->hcp, err);
	if (rc == 0)
		rc = mr_report_what(o, r, amend, now_us, err);
	if (rc == 0)
		rc = mr_json_int(o, "duration_min", 0, 0, 24 * 60, &dur, &present, err);
	if (present)
		r->duration_min = dur;
	if (rc == 0)
		rc = mr_report_list_field(o, "products", a, &r->products, err);
	if (rc == 0)
		rc = mr_report_list_field(o, "key_messages", a, &r->messages, err);
	if (rc == 0)
		rc = mr_report_text(o, "feedback", &r->feedback, err);
	if (rc == 0)
		rc = mr_report_text(o, "questions", &r->questions, err);
	if (rc == 0)
		rc = mr_report_text(o, "next_steps", &r->next_steps, err);
	if (rc == 0)
		rc = mr_report_follow_up(o, r, now_us, err);
	if (rc == 0)
		rc = mr_json_str(o, "reason", amend, 500, &r->reason, err);
	return rc;
}

/* ------------------------------------------------------------ storing */

/* The notes as one sealed JSON object {feedback, questions, next_steps}; *n 0 when there are none. */
static unsigned char *mr_report_seal(const struct mr_keys *k, const struct mr_report *r, size_t *n)
{
	json_t *o = json_object();
	unsigned char *out = NULL;
	char *text;

	*n = 0;
	if (r->feedback)
		json_object_set_new(o, "feedback", json_string(r->feedback));
	if (r->questions)
		json_object_set_new(o, "questions", json_string(r->questions));
	if (r->next_steps)
		json_object_set_new(o, "next_steps", json_string(r->next_steps));
	if (json_object_size(o) > 0) {
		text = json_dumps(o, JSON_COMPACT);
		*n = strlen(text) + MR_PII_OVERHEAD;
		out = mr_malloc(*n);
		mr_pii_seal(k, text, strlen(text), out);
		sodium_memzero(text, strlen(text));
		free(text);
	}
	json_decref(o);
	return out;
}

/* The notes of the version amended, opened: each note the amendment leaves out is carried over. */
static int mr_report_carry_notes(const struct mr_keys *k, struct mr_report *r,
				 const unsigned char *sealed, size_t n, struct mr_arena *a,
				 struct mr_err *err)
{
	char *plain = mr_malloc(n + 1);
	json_t *o = NULL;
	int rc = mr_pii_open(k, sealed, n, plain, n + 1, err);

	if (rc == 0)
		o = json_loads(plain, 0, NULL);
	if (o && !r->feedback)
		r->feedback = mr_arena_strdup(a, json_string_value(json_object_get(o, "feedback")));
	if (o && !r->questions)
		r->questions = mr_arena_strdup(a, json_string_value(json_object_get(o, "questions")));
	if (o && !r->next_steps)
		r->next_steps = mr_arena_strdup(a, json_string_value(json_object_get(o, "next_steps")));
	json_decref(o);
	sodium_memzero(plain, n);
	free(plain);
	return rc;
}

/* What an amendment leaves out and the version it amends had: lists, duration, follow-up, notes. */
static int mr_report_carry(const struct mr_keys *k, struct mr_report *r, struct mr_rows *rows,
			   struct mr_arena *a, struct mr_err *err)
{
	size_t n = 0;
	const unsigned char *notes = mr_rows_blob(rows, 11, &n);

	if (!r->products)
		r->products = mr_arena_strdup(a, mr_rows_text(rows, 7));
	if (!r->messages)
		r->messages = mr_arena_strdup(a, mr_rows_text(rows, 8));
	if (r->duration_min < 0 && !mr_rows_isnull(rows, 9))
		r->duration_min = mr_rows_int(rows, 9);
	if (!r->follow_up_at && !mr_rows_isnull(rows, 10)) {
		r->follow_up_at = mr_rows_int(rows, 10);
		r->follow_up_channel = mr_channel_parse(mr_rows_text(rows, 12));
	}
	if (!r->feedback && !r->questions && !r->next_steps && notes && n) {
		unsigned char *copy = mr_arena_alloc(a, n); /* all three kept: the sealed value as it was */

		memcpy(copy, notes, n);
		r->carry_notes = copy;
		r->carry_len = n;
	} else if (notes && n && (!r->feedback || !r->questions || !r->next_steps)) {
		return mr_report_carry_notes(k, r, notes, n, a, err);
	}
	return 0;
}

/* An amendment: what it leaves out comes from the report it amends (the latest of its chain). */
static int mr_report_original(struct mr_conn *c, const struct mr_keys *k, struct mr_report *r,
			      int64_t *amends_id, struct mr_arena *a, struct mr_err *err)
{
	struct mr_val arg = mr_v_text(r->amends);
	struct mr_rows *rows = NULL;
	int64_t later = 0;
	int rc = mr_conn_query(c, "SELECT id, hcp_id, rep_id, channel, outcome, happened_at,"
			       " (SELECT ext_id FROM interactions x WHERE x.amends_id = i.id),"
			       " products, messages, duration_min, follow_up_at, notes_enc, follow_up_channel"
			       " FROM interactions i WHERE ext_id = ?", &arg, 1, &rows, err);

	if (rc == 0)
		rc = mr_rows_next(rows, err);
	if (rc == 0)
		rc = mr_err_set(err, MR_ENOTFOUND, "report %.40s does not exist", r->amends);
	if (rc == 1) {
		rc = 0;
		*amends_id = mr_rows_int(rows, 0);
		r->hcp_id = mr_rows_int(rows, 1);
		if (!r->rep_id)
			r->rep_id = mr_rows_int(rows, 2);
		if (!r->channel)
			r->channel = mr_channel_parse(mr_rows_text(rows, 3));
		if (r->outcome < 0)
			r->outcome = mr_outcome_parse(r->channel, r->outcome_name ? r->outcome_name :
									mr_rows_text(rows, 4));
		if (!r->at)
			r->at = mr_rows_int(rows, 5);
		rc = mr_report_carry(k, r, rows, a, err);
		later = mr_rows_text(rows, 6) != NULL;
		if (rc == 0 && later)
			rc = mr_err_set(err, MR_ECONFLICT, "report %.40s was amended already by %.40s; amend"
					" that one", r->amends, mr_rows_text(rows, 6));
	}
	mr_rows_close(rows);
	return rc;
}

/* The event a report puts in the log. */
static void mr_report_event(const struct mr_report *r, const char *ext, const char *author,
			    struct mr_arena *a, struct mr_event *ev)
{
	/* the author too: an admin or manager filing for a doctor may have no rep record */
	json_t *props = json_pack("{s:s, s:s?}", "report", ext, "author", author);
	char *text, id[64];

	mr_event_init(ev);
	snprintf(id, sizeof(id), "report:%s", ext);
	ev->id = mr_arena_strdup(a, id);
	ev->ts = r->at;
	ev->hcp_id = r->hcp_id;
	ev->rep_id = r->rep_id;
	ev->hcp = r->hcp;
	ev->channel = r->channel;
	ev->outcome = r->outcome;
	ev->type = mr_channel_def(r->channel)->default_type;
	ev->duration_s = r->duration_min >= 0 ? r->duration_min * 60 : -1;
	ev->source = "report";
	if (r->products)
		json_object_set_new(props, "products", json_string(r->products));
	text = json_dumps(props, JSON_COMPACT);
	ev->props = mr_arena_strdup(a, text);
	free(text);
	json_decref(props);
}

int mr_report_store(struct mr_conn *c, const struct mr_keys *k, struct mr_evindex *ids,
		    struct mr_report *r, const struct mr_md_actor *who, struct mr_report_write *w,
		    struct mr_err *err)
{
	struct mr_arena a;
	unsigned char *notes = NULL;
	size_t nnotes = 0;
	int64_t amends_id = 0;
	int rc = 0;

	memset(w, 0, sizeof(*w));
	mr_arena_init(&a);
	if (r->amends)
		rc = mr_report_original(c, k, r, &amends_id, &a, err);
	if (rc == 0 && r->outcome < 0)
		rc = mr_err_field(err, MR_EINVAL, "outcome", "outcome '%.40s' is not on the %s ladder",
				  r->outcome_name ? r->outcome_name : "", mr_channel_name(r->channel));
	if (r->id) {
		snprintf(w->ext, sizeof(w->ext), "%s", r->id);
	} else {
		unsigned char rnd[6];

		randombytes_buf(rnd, sizeof(rnd));
		snprintf(w->ext, sizeof(w->ext), "IR-%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3],
			 rnd[4], rnd[5]);
	}
	if (rc == 0) {
		struct mr_val args[17];

		notes = r->carry_notes ? NULL : mr_report_seal(k, r, &nnotes);
		args[0] = mr_v_text(w->ext);
		args[1] = mr_v_int(r->hcp_id);
		args[2] = r->rep_id ? mr_v_int(r->rep_id) : mr_v_null();
		args[3] = mr_v_text(who->login);
		args[4] = mr_v_text(mr_channel_name(r->channel));
		args[5] = mr_v_text(mr_outcome_name(r->channel, r->outcome));
		args[6] = mr_v_int(r->at);
		args[7] = r->duration_min >= 0 ? mr_v_int(r->duration_min) : mr_v_null();
		args[8] = mr_v_text(r->products);
		args[9] = mr_v_text(r->messages);
		args[10] = notes ? mr_v_blob(notes, nnotes) :
			   r->carry_notes ? mr_v_blob(r->carry_notes, r->carry_len) : mr_v_null();
		args[11] = r->follow_up_at ? mr_v_int(r->follow_up_at) : mr_v_null();
		args[12] = mr_v_text(r->follow_up_at ? mr_channel_name(r->follow_up_channel ? r->follow_up_channel :
									       r->channel) : NULL);
		args[13] = amends_id ? mr_v_int(amends_id) : mr_v_null();
		args[14] = mr_v_text(r->reason);
		args[15] = mr_v_null(); /* an amendment corrects the report, not the event counted */
		args[16] = mr_v_int(who->now);
		if (!r->amends) {
			char id[64];

			snprintf(id, sizeof(id), "report:%s", w->ext);
			args[15] = mr_v_text(mr_arena_strdup(&a, id));
		}
		rc = mr_conn_exec(c, "INSERT INTO interactions (ext_id, hcp_id, rep_id, author, channel, outcome,"
				  " happened_at, duration_min, products, messages, notes_enc, follow_up_at,"
				  " follow_up_channel, amends_id, reason, event_id, created_at)"
				  " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				  args, 17, NULL, err);
		if (rc == MR_ECONFLICT)
			rc = mr_err_set(err, MR_ECONFLICT, "report %.40s exists already", w->ext);
	}
	if (rc == 0 && !r->amends) { /* the event in the log, in the same transaction */
		mr_report_event(r, w->ext, who->login, &a, &w->ev);
		w->b.ev = &w->ev;
		w->b.n = 1;
		w->b.fate = &w->fate;
		w->b.seq = &w->seq;
		w->b.why = &w->why;
		mr_evlog_batch_reset(&w->b);
		rc = mr_evlog_append(c, ids, k, who, &w->b, err);
		if (rc == 0 && w->fate != MR_EV_STORED)
			rc = mr_err_set(err, MR_ECONFLICT, "the event of report %s is in the log already", w->ext);
		w->ev.id = NULL; /* the arena goes; the refs need only numbers */
		w->ev.hcp = NULL;
		w->ev.props = NULL;
		w->ev.type = NULL;
	}
	free(notes);
	mr_arena_release(&a);
	return rc;
}

/* ------------------------------------------------------------ reading */

#define MR_REPORT_SELECT                                                                          \
	"SELECT i.id, i.ext_id, h.ext_id, r.ext_id, i.author, i.channel, i.outcome, i.happened_at,"  \
	" i.duration_min, i.products, i.messages, i.notes_enc, i.follow_up_at, i.follow_up_channel," \
	" a.ext_id, i.reason, i.event_id, i.created_at, i.amends_id, i.hcp_id"                     \
	" FROM interactions i JOIN hcps h ON h.id = i.hcp_id LEFT JOIN reps r ON r.id = i.rep_id"    \
	" LEFT JOIN interactions a ON a.id = i.amends_id"

static json_t *mr_report_split(const char *s)
{
	json_t *v = json_array();

	while (s && *s) {
		const char *semi = strchr(s, ';');
		size_t n = semi ? (size_t)(semi - s) : strlen(s);

		json_array_append_new(v, json_stringn(s, n));
		s += n + (semi ? 1 : 0);
	}
	return v;
}

/* The notes opened into o (feedback, questions, next_steps). */
static int mr_report_notes(const struct mr_keys *k, struct mr_rows *rows, json_t *o,
			   struct mr_err *err)
{
	size_t n = 0;
	const unsigned char *sealed = mr_rows_blob(rows, 11, &n);
	char *plain;
	json_t *notes;
	int rc;

	if (!sealed || n == 0)
		return 0;
	plain = mr_malloc(n + 1);
	rc = mr_pii_open(k, sealed, n, plain, n + 1, err);
	if (rc == 0 && (notes = json_loads(plain, 0, NULL)) != NULL) {
		json_object_update(o, notes);
		json_decref(notes);
	}
	sodium_memzero(plain, n);
	free(plain);
	return rc;
}

static json_t *mr_report_row(const struct mr_keys *k, struct mr_rows *rows, int unmask,
			     struct mr_err *err)
{
	json_t *o = json_object();

	mr_json_set_str(o, "id", mr_rows_text(rows, 1));
	mr_json_set_str(o, "hcp", mr_rows_text(rows, 2));
	mr_json_set_str(o, "rep", mr_rows_text(rows, 3));
	mr_json_set_str(o, "author", mr_rows_text(rows, 4));
	mr_json_set_str(o, "channel", mr_rows_text(rows, 5));
	mr_json_set_str(o, "outcome", mr_rows_text(rows, 6));
	mr_json_set_time(o, "at", mr_rows_int(rows, 7));
	json_object_set_new(o, "duration_min", mr_rows_isnull(rows, 8) ? json_null() :
					       json_integer(mr_rows_int(rows, 8)));
	json_object_set_new(o, "products", mr_report_split(mr_rows_text(rows, 9)));
	json_object_set_new(o, "key_messages", mr_report_split(mr_rows_text(rows, 10)));
	if (unmask && mr_report_notes(k, rows, o, err) < 0) {
		json_decref(o);
		return NULL;
	}
	if (!mr_rows_isnull(rows, 12)) {
		json_t *f = json_object();

		mr_json_set_time(f, "at", mr_rows_int(rows, 12));
		mr_json_set_str(f, "channel", mr_rows_text(rows, 13));
		json_object_set_new(o, "follow_up", f);
	} else {
		json_object_set_new(o, "follow_up", json_null());
	}
	mr_json_set_str(o, "amends", mr_rows_text(rows, 14));
	mr_json_set_str(o, "reason", mr_rows_text(rows, 15));
	mr_json_set_str(o, "event", mr_rows_text(rows, 16));
	mr_json_set_time(o, "created_at", mr_rows_int(rows, 17));
	return o;
}

/* Reads rows of sql (with one int arg) into an array of {row id, amends id, json}. */
struct mr_report_rowv {
	int64_t id, amends;
	json_t *o;
};

static int mr_report_read(struct mr_conn *c, const struct mr_keys *k, const char *sql,
			  struct mr_val arg, int unmask, struct mr_report_rowv **out, int *n,
			  int64_t *hcp_id, struct mr_err *err)
{
	struct mr_rows *rows = NULL;
	int cap = 0, rc = mr_conn_query(c, sql, &arg, 1, &rows, err);

	*out = NULL;
	*n = 0;
	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		json_t *o = mr_report_row(k, rows, unmask, err);

		rc = o ? 0 : MR_EINTERNAL;
		if (!o)
			break;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = mr_realloc(*out, (size_t)cap * sizeof(**out));
		}
		(*out)[*n].id = mr_rows_int(rows, 0);
		(*out)[*n].amends = mr_rows_isnull(rows, 18) ? 0 : mr_rows_int(rows, 18);
		(*out)[*n].o = o;
		if (hcp_id)
			*hcp_id = mr_rows_int(rows, 19);
		(*n)++;
	}
	mr_rows_close(rows);
	return rc < 0 ? rc : 0;
}

/*
 * One report as shown: the latest version of its chain, with the chain's
 * versions (oldest first) under "versions". v holds the rows, root the
 * index of the chain's first report. Takes the rows' references it uses.
 */
static json_t *mr_report_chain(struct mr_report_rowv *v, int n, int root)
{
	json_t *versions = json_array();
	int at = root;

	for (;;) {
		int next = -1;

		json_array_append_new(versions, json_pack("{s:O, s:O, s:O, s:O}", "id",
							  json_object_get(v[at].o, "id"), "author",
							  json_object_get(v[at].o, "author"), "created_at",
							  json_object_get(v[at].o, "created_at"), "reason",
							  json_object_get(v[at].o, "reason")));
		for (int i = 0; i < n; i++) {
			if (v[i].amends == v[at].id)
				next = i;
		}
		if (next < 0)
			break;
		at = next;
	}
	json_object_set_new(v[at].o, "versions", versions);
	json_object_set_new(v[at].o, "amended", json_boolean(at != root));
	return json_incref(v[at].o);
}

int mr_report_list(struct mr_conn *c, const struct mr_keys *k, int64_t hcp_id, int unmask,
		   int limit, json_t *items, struct mr_err *err)
{
	struct mr_report_rowv *v = NULL;
	int n = 0, shown = 0;
	int rc = mr_report_read(c, k, MR_REPORT_SELECT " WHERE i.hcp_id = ?"
				" ORDER BY i.happened_at DESC, i.id DESC", mr_v_int(hcp_id), unmask, &v, &n,
				NULL, err);

	for (int i = 0; rc == 0 && i < n && shown < limit; i++) {
		if (v[i].amends)
			continue; /* folded into its chain */
		json_array_append_new(items, mr_report_chain(v, n, i));
		shown++;
	}
	for (int i = 0; i < n; i++)
		json_decref(v[i].o);
	free(v);
	return rc;
}

int mr_report_get(struct mr_conn *c, const struct mr_keys *k, const char *ext, int unmask,
		  json_t **out, int64_t *hcp_id, struct mr_err *err)
{
	struct mr_report_rowv *v = NULL;
	int n = 0, root = -1;
	int64_t hcp = 0;
	struct mr_val arg = mr_v_text(ext);
	/* the report and every other report of its doctor: the chain is among them */
	int rc = mr_report_read(c, k, MR_REPORT_SELECT " WHERE i.hcp_id = (SELECT hcp_id FROM interactions"
				" WHERE ext_id = ?) ORDER BY i.id", arg, unmask, &v, &n, &hcp, err);

	*out = NULL;
	for (int i = 0; rc == 0 && i < n && root < 0; i++) {
		if (strcmp(json_string_value(json_object_get(v[i].o, "id")), ext) == 0)
			root = i;
	}
	while (rc == 0 && root >= 0 && v[root].amends) { /* the chain's first report */
		int up = -1;

		for (int i = 0; i < n; i++) {
			if (v[i].id == v[root].amends)
				up = i;
		}
		if (up < 0)
			break;
		root = up;
	}
	if (rc == 0 && root < 0)
		rc = mr_err_set(err, MR_ENOTFOUND, "report %.40s does not exist", ext);
	if (rc == 0) {
		*out = mr_report_chain(v, n, root);
		*hcp_id = hcp;
	}
	for (int i = 0; i < n; i++)
		json_decref(v[i].o);
	free(v);
	return rc;
}
