/*
 * Call-centre CDR rows to phone events (see cdr.h for the columns and the
 * mapping). The column names and the default dispositions are tables; a
 * row is read in steps (when, how long, how it ended, who), each of which
 * names its column when it fails, so an import report can point at the
 * cell. The finished event goes through the event contract's own check,
 * whose complaints are turned back into column names too.
 */
#include "channels/cdr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/str.h"
#include "base/time.h"
#include "md/norm.h"

enum { MR_CDR_SHANGHAI_S = 8 * 3600, MR_CDR_ALIASES = 6, MR_CDR_ID_PART = 40 };

/* The logical columns: the name errors use, whether a file must have it, its header names by priority. */
static const struct {
	const char *name;
	int required;
	const char *aliases[MR_CDR_ALIASES + 1];
} mr_cdr_columns[MR_CDR_NCOLS] = {
	[MR_CDR_CALL_ID] = { "call_id", 0, { "call_id", "uniqueid", "callid", "通话ID", "呼叫ID" } },
	[MR_CDR_CALLER] = { "caller", 1, { "caller", "src", "主叫", "主叫号码" } },
	[MR_CDR_CALLEE] = { "callee", 1, { "callee", "dst", "被叫", "被叫号码" } },
	[MR_CDR_START] = { "start", 1, { "start", "start_time", "calldate", "开始时间", "呼叫时间" } },
	[MR_CDR_DURATION] = { "duration", 1, { "billsec", "duration", "通话时长" } },
	[MR_CDR_DISPOSITION] = { "disposition", 1, { "disposition", "呼叫结果", "通话状态" } },
	[MR_CDR_AGENT] = { "agent", 0, { "agent", "rep", "坐席", "坐席工号" } },
	[MR_CDR_DIRECTION] = { "direction", 0, { "direction", "呼叫方向" } },
};

static const struct {
	const char *disposition;
	const char *outcome;
} mr_cdr_default_map[] = {
	{ "ANSWERED", "answered" }, { "NO ANSWER", "no_answer" }, { "NOANSWER", "no_answer" },
	{ "BUSY", "no_answer" },    { "FAILED", "no_answer" },    { "CONGESTION", "no_answer" },
	{ "CANCEL", "no_answer" },
};

/* Values of the direction column; outbound 1 means the doctor is the callee. */
static const struct {
	const char *value;
	int outbound;
} mr_cdr_directions[] = {
	{ "out", 1 }, { "outbound", 1 }, { "outgoing", 1 }, { "呼出", 1 },
	{ "in", 0 },  { "inbound", 0 },  { "incoming", 0 }, { "呼入", 0 },
};

/* Contract fields and the column each comes from (-1: the doctor's column, decided per row). */
static const struct {
	const char *contract;
	int col;
} mr_cdr_blames[] = {
	{ "id", MR_CDR_CALL_ID },     { "ts", MR_CDR_START },  { "identity.value", -1 },
	{ "identity", -1 },           { "rep", MR_CDR_AGENT }, { "duration_s", MR_CDR_DURATION },
};

/* ---- rules -------------------------------------------------------------- */

void mr_cdr_rules_default(struct mr_cdr_rules *r)
{
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < sizeof(mr_cdr_default_map) / sizeof(mr_cdr_default_map[0]); i++) {
		r->map[i].disposition = mr_cdr_default_map[i].disposition;
		r->map[i].outcome = mr_cdr_default_map[i].outcome;
		r->nmap++;
	}
	r->successful_s = 30;
	r->effective_s = 120;
	r->default_country = "86";
}

static char mr_cdr_lower(char c)
{
	if (c >= 'A' && c <= 'Z')
		c = (char)(c + 32);
	return c;
}

/* 1 when two names are equal ignoring ASCII case, and also spaces, '_' and '-' when loose. */
static int mr_cdr_name_eq(const char *a, const char *b, int loose)
{
	for (;;) {
		while (loose && (*a == ' ' || *a == '_' || *a == '-'))
			a++;
		while (loose && (*b == ' ' || *b == '_' || *b == '-'))
			b++;
		if (mr_cdr_lower(*a) != mr_cdr_lower(*b))
			return 0;
		if (!*a)
			return 1;
		a++;
		b++;
	}
}

/* The outcome the rules give disposition d, or NULL. */
static const char *mr_cdr_lookup(const struct mr_cdr_rules *r, const char *d)
{
	for (int i = 0; i < r->nmap; i++) {
		if (mr_cdr_name_eq(r->map[i].disposition, d, 1))
			return r->map[i].outcome;
	}
	return NULL;
}

/* Adds disposition d -> outcome o to r, refusing an outcome off the phone ladder or a contradiction. */
static int mr_cdr_rules_add(struct mr_cdr_rules *r, const char *d, json_t *o, struct mr_arena *a,
			    struct mr_err *err)
{
	char field[64];
	const char *name = json_string_value(o);
	const char *before = mr_cdr_lookup(r, d);

	snprintf(field, sizeof(field), "dispositions.%s", d);
	if (!*d || strlen(d) > MR_CDR_DISPOSITION_MAX)
		return mr_err_field(err, MR_EINVAL, "dispositions", "a disposition must be 1 to %d bytes",
				    MR_CDR_DISPOSITION_MAX);
	if (mr_outcome_parse(MR_CH_PHONE, name) < 0)
		return mr_err_field(err, MR_EINVAL, field,
				    "'%.40s' is not a phone outcome: use no_answer, answered, successful or"
				    " effective", name ? name : "(not a string)");
	if (before && strcmp(before, name) != 0)
		return mr_err_field(err, MR_EINVAL, field,
				    "'%.40s' is mapped twice (case, spaces, '_' and '-' do not count), to %s"
				    " and to %s", d, before, name);
	if (r->nmap == MR_CDR_MAP_MAX)
		return mr_err_field(err, MR_EINVAL, "dispositions", "at most %d dispositions may be mapped",
				    MR_CDR_MAP_MAX);
	r->map[r->nmap].disposition = mr_arena_strdup(a, d);
	r->map[r->nmap].outcome = mr_outcome_name(MR_CH_PHONE, mr_outcome_parse(MR_CH_PHONE, name));
	r->nmap++;
	return 0;
}

static int mr_cdr_rules_map(json_t *m, struct mr_cdr_rules *r, struct mr_arena *a, struct mr_err *err)
{
	const char *d;
	json_t *o;
	int rc = 0;

	if (!m || json_is_null(m))
		return 0;
	if (!json_is_object(m) || json_object_size(m) == 0)
		return mr_err_field(err, MR_EINVAL, "dispositions",
				    "dispositions must be an object of disposition -> outcome, not empty");
	r->nmap = 0;
	json_object_foreach(m, d, o) {
		rc = mr_cdr_rules_add(r, d, o, a, err);
		if (rc < 0)
			break;
	}
	return rc;
}

static int mr_cdr_rules_numbers(json_t *o, struct mr_cdr_rules *r, struct mr_err *err)
{
	int64_t v = 0;
	int present = 0;
	int rc = mr_json_int(o, "successful_s", 0, 1, MR_CDR_DURATION_MAX, &v, &present, err);

	if (rc < 0)
		return rc;
	if (present)
		r->successful_s = (int)v;
	rc = mr_json_int(o, "effective_s", 0, 1, MR_CDR_DURATION_MAX, &v, &present, err);
	if (rc < 0)
		return rc;
	if (present)
		r->effective_s = (int)v;
	if (r->successful_s > r->effective_s)
		return mr_err_field(err, MR_EINVAL, "successful_s",
				    "successful_s (%d) must not be more than effective_s (%d)", r->successful_s,
				    r->effective_s);
	return 0;
}

static int mr_cdr_rules_country(json_t *o, struct mr_cdr_rules *r, struct mr_arena *a, struct mr_err *err)
{
	const char *cc = NULL;
	int rc = mr_json_str(o, "default_country", 0, 4, &cc, err);

	if (rc < 0 || !cc)
		return rc;
	if (*cc == '+')
		cc++;
	if (strlen(cc) < 1 || strlen(cc) > 3 || *cc == '0' || strspn(cc, "0123456789") != strlen(cc))
		return mr_err_field(err, MR_EINVAL, "default_country",
				    "default_country must be a calling code of 1 to 3 digits, e.g. \"86\"");
	r->default_country = mr_arena_strdup(a, cc);
	return 0;
}

int mr_cdr_rules_from_json(json_t *o, struct mr_cdr_rules *r, struct mr_arena *a, struct mr_err *err)
{
	static const char *const keys[] = { "dispositions", "successful_s", "effective_s",
					    "default_country", NULL };
	int rc;

	mr_cdr_rules_default(r);
	if (!json_is_object(o))
		return mr_err_set(err, MR_EINVAL, "the CDR rules must be a JSON object");
	rc = mr_json_only(o, keys, err);
	if (rc == 0)
		rc = mr_cdr_rules_map(json_object_get(o, "dispositions"), r, a, err);
	if (rc == 0)
		rc = mr_cdr_rules_numbers(o, r, err);
	if (rc == 0)
		rc = mr_cdr_rules_country(o, r, a, err);
	return rc;
}

/* ---- header ------------------------------------------------------------- */

/* The index of the header name equal (ASCII case and surrounding blanks aside) to alias, or -1. */
static int mr_cdr_find(int n, const char *const *names, const char *alias)
{
	char name[128];

	for (int i = 0; i < n; i++) {
		const char *s = names[i];
		size_t len;

		while (*s == ' ' || *s == '\t')
			s++;
		len = strlen(s);
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len >= sizeof(name))
			continue;
		memcpy(name, s, len);
		name[len] = '\0';
		if (mr_cdr_name_eq(name, alias, 0))
			return i;
	}
	return -1;
}

/*
 * Appends ", item" (or item when first) to the list in buf of cap bytes,
 * whole or not at all (then "..." once), so a message never ends inside a
 * character. Returns 0 when the list is full.
 */
static int mr_cdr_list(char *buf, size_t cap, const char *item)
{
	size_t len = strlen(buf);
	size_t need = strlen(item) + (len ? 2 : 0);

	if (len + need + 4 >= cap) {
		if (len + 4 < cap)
			memcpy(buf + len, "...", 4);
		return 0;
	}
	snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", item);
	return 1;
}

/* Fails naming a required column that is missing and the names it may go by. */
static int mr_cdr_missing(int col, struct mr_err *err)
{
	char names[160];

	names[0] = '\0';
	for (int k = 0; k < MR_CDR_ALIASES && mr_cdr_columns[col].aliases[k]; k++)
		mr_cdr_list(names, sizeof(names), mr_cdr_columns[col].aliases[k]);
	return mr_err_field(err, MR_EINVAL, mr_cdr_columns[col].name,
			    "the header has no %s column: name one of %s", mr_cdr_columns[col].name, names);
}

int mr_cdr_header(int n, const char *const *names, struct mr_cdr_cols *cols, struct mr_err *err)
{
	for (int col = 0; col < MR_CDR_NCOLS; col++) {
		cols->at[col] = -1;
		for (int k = 0; k < MR_CDR_ALIASES && mr_cdr_columns[col].aliases[k] && cols->at[col] < 0; k++)
			cols->at[col] = mr_cdr_find(n, names, mr_cdr_columns[col].aliases[k]);
	}
	for (int col = 0; col < MR_CDR_NCOLS; col++) {
		if (mr_cdr_columns[col].required && cols->at[col] < 0)
			return mr_cdr_missing(col, err);
	}
	return 0;
}

/* ---- rows --------------------------------------------------------------- */

/* One row's values, trimmed ("" for a column the file lacks), and what was made of them. */
struct mr_cdr_call {
	const char *v[MR_CDR_NCOLS];
	int64_t ts, duration;
	int rung;
	int outbound;       /* 1: the doctor is the callee */
	int doctor_col;     /* MR_CDR_CALLEE or MR_CDR_CALLER */
	char phone[MR_NORM_MAX];
};

/* Points err at the cell of column col on line. Returns err->code. */
static int mr_cdr_at(struct mr_err *err, const struct mr_cdr_cols *cols, int col, int64_t line)
{
	snprintf(err->field, sizeof(err->field), "%s", mr_cdr_columns[col].name);
	err->line = line;
	err->column = cols->at[col] >= 0 ? cols->at[col] + 1 : 0;
	return err->code;
}

static void mr_cdr_values(const struct mr_cdr_cols *cols, int nfields, const char *const *fields,
			  struct mr_arena *a, struct mr_cdr_call *c)
{
	for (int col = 0; col < MR_CDR_NCOLS; col++) {
		int at = cols->at[col];
		const char *s = at >= 0 && at < nfields && fields[at] ? fields[at] : "";
		size_t len;

		while (*s == ' ' || *s == '\t')
			s++;
		len = strlen(s);
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		c->v[col] = mr_arena_strndup(a, s, len);
	}
}

/* start: "YYYY-MM-DD HH:MM:SS" ('/' allowed in the date, a fraction too) in Shanghai time, or RFC 3339. */
static int mr_cdr_start(const char *s, int64_t *us, struct mr_err *err)
{
	char buf[48];
	size_t n = strlen(s);
	const char *p;

	if (n < 19 || n > 40)
		goto bad;
	memcpy(buf, s, n + 1);
	if (buf[4] == '/' && buf[7] == '/') {
		buf[4] = '-';
		buf[7] = '-';
	}
	p = buf + 19;
	if (*p == '.')
		p += 1 + strspn(p + 1, "0123456789");
	if (*p == '\0' && (size_t)(p - buf) + 7 <= sizeof(buf))
		memcpy(buf + (p - buf), "+08:00", 7); /* no zone: the call centre's local time */
	if (mr_time_parse(buf, MR_CDR_SHANGHAI_S, us) == 0)
		return 0;
bad:
	return mr_err_set(err, MR_EINVAL,
			  "start '%.40s' is not a time: use 2024-03-05 09:12:00 (Asia/Shanghai) or RFC 3339",
			  s);
}

/* H:MM:SS or MM:SS into seconds; MR_EINVAL for anything else. */
static int mr_cdr_clock(const char *s, int64_t *out)
{
	int64_t parts[3];
	int np = 0;
	const char *p = s;

	while (np < 3) {
		int64_t v = 0;
		int digits = 0;

		for (; *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
			v = v * 10 + (*p - '0');
		if (digits == 0 || (np > 0 && (digits != 2 || v > 59)))
			return MR_EINVAL;
		parts[np++] = v;
		if (*p != ':')
			break;
		p++;
	}
	if (*p != '\0' || np < 2)
		return MR_EINVAL;
	*out = np == 3 ? parts[0] * 3600 + parts[1] * 60 + parts[2] : parts[0] * 60 + parts[1];
	return 0;
}

static int mr_cdr_duration(const char *s, int64_t *out, struct mr_err *err)
{
	int rc;

	if (!*s)
		return mr_err_set(err, MR_EINVAL, "duration is empty: give the seconds talked (0 for none)");
	rc = strchr(s, ':') ? mr_cdr_clock(s, out) : mr_parse_i64(s, INT64_MIN, INT64_MAX, out);
	if (rc < 0)
		return mr_err_set(err, MR_EINVAL,
				  "duration '%.20s' is not a number of seconds (or H:MM:SS)", s);
	if (*out < 0)
		return mr_err_set(err, MR_EINVAL, "duration %lld is negative", (long long)*out);
	if (*out > MR_CDR_DURATION_MAX)
		return mr_err_set(err, MR_EINVAL, "duration %lld s is over a day (%d s): not a real call",
				  (long long)*out, MR_CDR_DURATION_MAX);
	return 0;
}

/* Fails for a disposition the rules do not know, listing those they do. */
static int mr_cdr_unknown(const struct mr_cdr_rules *r, const char *d, struct mr_err *err)
{
	char known[200];

	known[0] = '\0';
	for (int i = 0; i < r->nmap; i++) {
		if (!mr_cdr_list(known, sizeof(known), r->map[i].disposition))
			break;
	}
	if (!*d)
		return mr_err_set(err, MR_EINVAL, "the disposition is empty; known: %s", known);
	return mr_err_set(err, MR_EINVAL,
			  "unknown disposition '%.40s'; known: %s (add it to the CDR rules' dispositions)",
			  d, known);
}

/* The outcome: the disposition's rung, raised by the talk time when the call was answered. */
static int mr_cdr_outcome(const struct mr_cdr_rules *r, struct mr_cdr_call *c, struct mr_err *err)
{
	const char *name = mr_cdr_lookup(r, c->v[MR_CDR_DISPOSITION]);
	int answered = mr_outcome_parse(MR_CH_PHONE, "answered");
	int earned = -1;

	if (!name || !*c->v[MR_CDR_DISPOSITION])
		return mr_cdr_unknown(r, c->v[MR_CDR_DISPOSITION], err);
	c->rung = mr_outcome_parse(MR_CH_PHONE, name);
	if (c->rung < 0)
		return mr_err_set(err, MR_EINVAL, "the rules map '%.40s' to '%.40s', not a phone outcome",
				  c->v[MR_CDR_DISPOSITION], name);
	if (c->duration >= r->effective_s)
		earned = mr_outcome_parse(MR_CH_PHONE, "effective");
	else if (c->duration >= r->successful_s)
		earned = mr_outcome_parse(MR_CH_PHONE, "successful");
	if (c->rung >= answered && earned > c->rung)
		c->rung = earned;
	return 0;
}

/* A number in E.164; national numbers take the rules' country code (mr_norm_phone knows 86). */
static int mr_cdr_phone(const struct mr_cdr_rules *r, const char *in, char out[MR_NORM_MAX],
			struct mr_err *err)
{
	const char *cc = r->default_country;
	char buf[64];

	if (!cc || !*cc || strcmp(cc, "86") == 0 || *in == '+' || (in[0] == '0' && in[1] == '0'))
		return mr_norm_phone(in, out, "phone", err);
	snprintf(buf, sizeof(buf), "+%s%s", cc, in[0] == '0' ? in + 1 : in);
	return mr_norm_phone(buf, out, "phone", err);
}

/* The direction column: 1 outbound, 0 inbound, -1 not given; MR_EINVAL when not understood. */
static int mr_cdr_direction(const char *s, int *outbound, struct mr_err *err)
{
	*outbound = -1;
	if (!*s)
		return 0;
	for (size_t i = 0; i < sizeof(mr_cdr_directions) / sizeof(mr_cdr_directions[0]); i++) {
		if (mr_cdr_name_eq(mr_cdr_directions[i].value, s, 0)) {
			*outbound = mr_cdr_directions[i].outbound;
			return 0;
		}
	}
	return mr_err_set(err, MR_EINVAL, "direction '%.20s' is neither in (inbound) nor out (outbound)", s);
}

/* The doctor's number: the callee of an outbound call, the caller of an inbound one. */
static int mr_cdr_doctor(const struct mr_cdr_rules *r, struct mr_cdr_call *c, struct mr_err *err)
{
	const char *callee = c->v[MR_CDR_CALLEE], *caller = c->v[MR_CDR_CALLER];
	struct mr_err scratch;
	int rc;

	rc = mr_cdr_direction(c->v[MR_CDR_DIRECTION], &c->outbound, err);
	if (rc < 0) {
		c->doctor_col = MR_CDR_DIRECTION;
		return rc;
	}
	if (c->outbound < 0) {
		mr_err_clear(&scratch);
		c->outbound = mr_cdr_phone(r, callee, c->phone, &scratch) == 0 ||
			      mr_cdr_phone(r, caller, c->phone, &scratch) < 0;
	}
	c->doctor_col = c->outbound ? MR_CDR_CALLEE : MR_CDR_CALLER;
	rc = mr_cdr_phone(r, c->outbound ? callee : caller, c->phone, err);
	if (rc < 0 && c->v[MR_CDR_DIRECTION][0] == '\0')
		return mr_err_set(err, MR_EINVAL, "neither the callee '%.30s' nor the caller '%.30s' is a"
				  " phone number", callee, caller);
	return rc;
}

/* One number of a fallback id: E.164 when it is a phone, else its printable bytes, capped. */
static void mr_cdr_id_part(const struct mr_cdr_rules *r, const char *v, char *out, size_t cap)
{
	char phone[MR_NORM_MAX];
	struct mr_err scratch;
	size_t n = 0;

	mr_err_clear(&scratch);
	if (mr_cdr_phone(r, v, phone, &scratch) == 0)
		v = phone;
	for (; *v && n + 1 < cap; v++) {
		unsigned char ch = (unsigned char)*v;

		if (ch > 0x20 && ch != 0x7f && ch != '"' && ch != '\\')
			out[n++] = *v;
	}
	out[n] = '\0';
}

/* The event id: "cdr:" + call_id, or built from the numbers and the start instant. */
static int mr_cdr_id(const struct mr_cdr_rules *r, const struct mr_cdr_call *c, struct mr_arena *a,
		     const char **id, struct mr_err *err)
{
	char buf[MR_EVENT_ID_MAX + 1], from[MR_CDR_ID_PART + 1], to[MR_CDR_ID_PART + 1], when[40];

	if (*c->v[MR_CDR_CALL_ID]) {
		if (strlen(c->v[MR_CDR_CALL_ID]) > MR_EVENT_ID_MAX - 4)
			return mr_err_set(err, MR_EINVAL, "call_id is over %d bytes", MR_EVENT_ID_MAX - 4);
		snprintf(buf, sizeof(buf), "cdr:%s", c->v[MR_CDR_CALL_ID]);
	} else {
		mr_cdr_id_part(r, c->v[MR_CDR_CALLER], from, sizeof(from));
		mr_cdr_id_part(r, c->v[MR_CDR_CALLEE], to, sizeof(to));
		mr_time_format(c->ts, when, sizeof(when));
		snprintf(buf, sizeof(buf), "cdr:%s:%s:%s", from, to, when);
	}
	*id = mr_arena_strdup(a, buf);
	return 0;
}

/* Reads when, how long, how it ended and who; on failure returns the column at fault in *col. */
static int mr_cdr_read(const struct mr_cdr_rules *r, struct mr_cdr_call *c, int *col, struct mr_err *err)
{
	int rc;

	*col = MR_CDR_START;
	rc = mr_cdr_start(c->v[MR_CDR_START], &c->ts, err);
	if (rc == 0) {
		*col = MR_CDR_DURATION;
		rc = mr_cdr_duration(c->v[MR_CDR_DURATION], &c->duration, err);
	}
	if (rc == 0) {
		*col = MR_CDR_DISPOSITION;
		rc = mr_cdr_outcome(r, c, err);
	}
	if (rc == 0) {
		rc = mr_cdr_doctor(r, c, err);
		*col = c->doctor_col;
	}
	return rc;
}

static const char *mr_cdr_props(const struct mr_cdr_call *c, struct mr_arena *a)
{
	json_t *props = json_pack("{s:s, s:s}", "disposition", c->v[MR_CDR_DISPOSITION], "direction",
				  c->outbound ? "outbound" : "inbound");
	char *text = json_dumps(props, JSON_COMPACT);
	const char *out = mr_arena_strdup(a, text);

	free(text);
	json_decref(props);
	return out;
}

/* The column an event-contract complaint is about, or -1 when none fits. */
static int mr_cdr_blame(const struct mr_err *err, const struct mr_cdr_call *c)
{
	for (size_t i = 0; i < sizeof(mr_cdr_blames) / sizeof(mr_cdr_blames[0]); i++) {
		if (strcmp(err->field, mr_cdr_blames[i].contract) == 0)
			return mr_cdr_blames[i].col >= 0 ? mr_cdr_blames[i].col : c->doctor_col;
	}
	return -1;
}

int mr_cdr_row(const struct mr_cdr_rules *r, const struct mr_cdr_cols *cols, int nfields,
	       const char *const *fields, int64_t line, struct mr_arena *a, struct mr_event *ev,
	       struct mr_err *err)
{
	struct mr_cdr_call c;
	int col = MR_CDR_CALL_ID;
	int rc;

	memset(&c, 0, sizeof(c));
	mr_event_init(ev);
	mr_cdr_values(cols, nfields, fields, a, &c);
	rc = mr_cdr_read(r, &c, &col, err);
	if (rc == 0) {
		col = MR_CDR_CALL_ID;
		rc = mr_cdr_id(r, &c, a, &ev->id, err);
	}
	if (rc < 0)
		return mr_cdr_at(err, cols, col, line);
	ev->ts = c.ts;
	ev->id_kind = "phone";
	ev->id_app = "";
	ev->id_value = mr_arena_strdup(a, c.phone);
	ev->channel = MR_CH_PHONE;
	ev->type = "call";
	ev->outcome = c.rung;
	ev->rep = *c.v[MR_CDR_AGENT] ? c.v[MR_CDR_AGENT] : NULL;
	ev->duration_s = c.duration;
	ev->props = mr_cdr_props(&c, a);
	ev->source = "cdr";
	rc = mr_event_check(ev, mr_now_us(), a, err);
	if (rc < 0) {
		col = mr_cdr_blame(err, &c);
		if (col >= 0)
			return mr_cdr_at(err, cols, col, line);
		err->line = line;
	}
	return rc;
}
