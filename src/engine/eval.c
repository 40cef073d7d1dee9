/*
 * The engine (engine.h): names, compiling an expression tree into a plan,
 * and evaluating plans over the projections.
 *
 * A plan is a tree of nodes of two kinds. Profile nodes (struct mr_pn)
 * give a doctor's value: an attribute, a consent, a tag, a comparison, an
 * event function. Filter nodes (struct mr_fn) say whether one event
 * matches: a comparison of an event field with literals compiles into a
 * table — over (channel, outcome) for channel, outcome and weight; over
 * the event's (type, content, campaign, meeting) code for those and the
 * content's topic and product; over reps for rep and rep.type — and and /
 * or / not of (channel, outcome) tables fold into one table.
 */
#include "engine/engine.h"

#include <math.h>
#include <pthread.h>
#include <roaring/roaring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/time.h"
#include "engine/dict.h"
#include "event/event.h"

/* ------------------------------------------------------------ names */

/* What a name is (struct mr_xname's kind). */
enum {
	/* profile */
	MR_N_ATTR = 1,   /* id: enum mr_pattr */
	MR_N_CONSENT,    /* id: the consent bit */
	MR_N_OWNER,      /* id: enum mr_align_role */
	MR_N_TAG,        /* id: the tag source's */
	/* event */
	MR_N_CHANNEL,
	MR_N_TYPE,
	MR_N_OUTCOME,
	MR_N_REP,
	MR_N_REP_TYPE,
	MR_N_CONTENT,
	MR_N_TOPIC,
	MR_N_PRODUCT,
	MR_N_CAMPAIGN,
	MR_N_MEETING,
	MR_N_DURATION,
	MR_N_WEIGHT,
};

static const struct {
	const char *name;
	int kind;
	enum mr_xtype type;
	unsigned flags;
} mr_event_names[] = {
	{ "channel", MR_N_CHANNEL, MR_XT_STR, MR_XN_CATEGORICAL },
	{ "type", MR_N_TYPE, MR_XT_STR, MR_XN_CATEGORICAL },
	{ "outcome", MR_N_OUTCOME, MR_XT_STR, MR_XN_LADDER | MR_XN_CATEGORICAL },
	{ "rep", MR_N_REP, MR_XT_STR, MR_XN_CATEGORICAL },
	{ "rep.type", MR_N_REP_TYPE, MR_XT_STR, MR_XN_CATEGORICAL },
	{ "content", MR_N_CONTENT, MR_XT_STR, MR_XN_CATEGORICAL },
	{ "content.topic", MR_N_TOPIC, MR_XT_STR, MR_XN_CATEGORICAL },
	{ "content.product", MR_N_PRODUCT, MR_XT_STR, MR_XN_CATEGORICAL },
	{ "campaign", MR_N_CAMPAIGN, MR_XT_STR, MR_XN_CATEGORICAL },
	{ "meeting", MR_N_MEETING, MR_XT_STR, MR_XN_CATEGORICAL },
	{ "duration_s", MR_N_DURATION, MR_XT_NUM, MR_XN_SUMMABLE },
	{ "weight", MR_N_WEIGHT, MR_XT_NUM, MR_XN_SUMMABLE },
};
#define MR_N_EVENT_NAMES ((int)(sizeof(mr_event_names) / sizeof(mr_event_names[0])))

struct mr_engine {
	struct mr_hcpdir *dir;
	struct mr_evindex *events;
	struct mr_profile *profile;
	struct mr_tagsrc tags;
	int have_tags;
	/* the content catalogue: by content code (the event index's content dictionary) */
	pthread_rwlock_t content_lock;
	struct mr_dict *cdict;        /* topics and products */
	uint32_t *topic, *product;    /* by content code */
	uint32_t ncontent;
	char hint[160];               /* the resolver's last hint (one caller at a time per engine) */
	pthread_mutex_t kids_mu;
	struct mr_kids *kids;         /* the newest, shared (mr_kids_get) */
	char why[320];
	pthread_mutex_t hint_mu;
};

static int mr_event_name(const char *name)
{
	for (int i = 0; i < MR_N_EVENT_NAMES; i++) {
		if (strcmp(mr_event_names[i].name, name) == 0)
			return i;
	}
	return -1;
}

/* The edit distance of a and b (short names: at most 63 bytes each count), for "did you mean". */
static int mr_edit_distance(const char *a, const char *b)
{
	int la = (int)strnlen(a, 63), lb = (int)strnlen(b, 63), row[64];

	for (int j = 0; j <= lb; j++)
		row[j] = j;
	for (int i = 1; i <= la; i++) {
		int diag = row[0];

		row[0] = i;
		for (int j = 1; j <= lb; j++) {
			int up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/* "did you mean 'specialty'?" when a known name of scope is within two edits of name; NULL if none. */
static const char *mr_eng_suggest(struct mr_engine *e, enum mr_xscope scope, const char *name)
{
	static const char *const profile[] = { "specialty", "title", "department", "gender", "status", "hco",
					       "hco.grade", "hco.type", "hco.province", "hco.city", "region",
					       "hco.level", "hco.city_tier", "owner.field", "owner.inside",
					       "owner.msl", "consent.phone", "consent.wechat", "consent.wecom",
					       "consent.email", "consent.sms", "consent.meeting", "consent.visit" };
	const char *best = NULL;
	int bestd = 3;

	if (scope == MR_XS_EVENT) {
		for (int i = 0; i < MR_N_EVENT_NAMES; i++) {
			int d = mr_edit_distance(name, mr_event_names[i].name);

			if (d < bestd) {
				bestd = d;
				best = mr_event_names[i].name;
			}
		}
	} else {
		for (size_t i = 0; i < sizeof(profile) / sizeof(profile[0]); i++) {
			int d = mr_edit_distance(name, profile[i]);

			if (d < bestd) {
				bestd = d;
				best = profile[i];
			}
		}
	}
	if (!best)
		return NULL;
	snprintf(e->hint, sizeof(e->hint), "did you mean '%s'?", best);
	return e->hint;
}

static int mr_eng_resolve(void *arg, enum mr_xscope scope, const char *name, struct mr_xname *out,
			  const char **hint)
{
	struct mr_engine *e = arg;
	int ev = mr_event_name(name), a;

	memset(out, 0, sizeof(*out));
	if (scope == MR_XS_EVENT) {
		if (ev < 0) {
			if (mr_profile_attr_of(name) >= 0 || strncmp(name, "consent.", 8) == 0 ||
			    strncmp(name, "owner.", 6) == 0 || strncmp(name, "hco.", 4) == 0) {
				snprintf(e->hint, sizeof(e->hint),
					 "%s is about the doctor, not one event: use it outside the event function",
					 name);
				*hint = e->hint;
			} else if (!(*hint = mr_eng_suggest(e, scope, name))) {
				*hint = "an event field: channel, type, outcome, rep, rep.type, content, content.topic,"
					" content.product, campaign, meeting, duration_s or weight";
			}
			return 0;
		}
		out->kind = mr_event_names[ev].kind;
		out->type = mr_event_names[ev].type;
		out->flags = mr_event_names[ev].flags;
		return 1;
	}
	if ((a = mr_profile_attr_of(name)) >= 0) {
		out->kind = MR_N_ATTR;
		out->id = a;
		out->type = mr_profile_attr_numeric(a) ? MR_XT_NUM : MR_XT_STR;
		return 1;
	}
	if (strncmp(name, "consent.", 8) == 0) {
		int bit = mr_profile_consent_of(name + 8);

		if (bit < 0) {
			*hint = "consent.<channel>: phone, wechat, wecom, email, sms, meeting, visit";
			return 0;
		}
		out->kind = MR_N_CONSENT;
		out->id = bit;
		out->type = MR_XT_BOOL;
		return 1;
	}
	if (strcmp(name, "owner.field") == 0 || strcmp(name, "owner.inside") == 0 ||
	    strcmp(name, "owner.msl") == 0) {
		out->kind = MR_N_OWNER;
		out->id = name[6] == 'f' ? MR_AL_FIELD_OWNER : name[6] == 'i' ? MR_AL_INSIDE_OWNER : MR_AL_MSL;
		out->type = MR_XT_STR;
		out->flags = MR_XN_LIST;
		return 1;
	}
	if (e->have_tags) {
		const char *tag = strncmp(name, "tag.", 4) == 0 ? name + 4 : name;
		int id = 0;
		enum mr_xtype t = MR_XT_NONE;

		if (e->tags.find(e->tags.arg, tag, &id, &t)) {
			out->kind = MR_N_TAG;
			out->id = id;
			out->type = t;
			return 1;
		}
	}
	if (ev >= 0) {
		snprintf(e->hint, sizeof(e->hint),
			 "%s is a field of an event: use it inside count(...), exists(...)", name);
		*hint = e->hint;
	} else {
		*hint = mr_eng_suggest(e, scope, name);
	}
	return 0;
}

static const char *const mr_rep_type_names[] = { "field", "inside", "msl", "kam" };

static int mr_eng_check_value(void *arg, const struct mr_xname *n, const char *value, const char **why)
{
	struct mr_engine *e = arg;

	switch (n->kind) {
	case MR_N_CHANNEL:
		if (mr_channel_parse(value) != MR_CH_NONE)
			return 0;
		*why = "a channel: phone, wechat, wecom, meeting_online, meeting_offline, visit, email, content, sms";
		return -1;
	case MR_N_OUTCOME:
		for (int ch = 1; ch < MR_CH_COUNT; ch++) {
			if (mr_outcome_parse(ch, value) >= 0)
				return 0;
		}
		*why = "an outcome: no_answer, answered, successful, effective; sent, delivered, read, responded;"
		       " invited, registered, attended; planned, completed; viewed";
		return -1;
	case MR_N_REP_TYPE:
		for (size_t i = 0; i < sizeof(mr_rep_type_names) / sizeof(mr_rep_type_names[0]); i++) {
			if (strcmp(mr_rep_type_names[i], value) == 0)
				return 0;
		}
		*why = "a rep type: field, inside, msl or kam";
		return -1;
	default:
		(void)e;
		return 0;
	}
}

void mr_engine_resolver(struct mr_engine *e, struct mr_xresolver *out)
{
	out->resolve = mr_eng_resolve;
	out->check_value = mr_eng_check_value;
	out->arg = e;
}

/* ------------------------------------------------------------ the engine */

struct mr_engine *mr_engine_new(struct mr_hcpdir *dir, struct mr_evindex *events, struct mr_profile *profile)
{
	struct mr_engine *e = mr_calloc(1, sizeof(*e));

	e->dir = dir;
	e->events = events;
	e->profile = profile;
	e->cdict = mr_dict_new();
	pthread_rwlock_init(&e->content_lock, NULL);
	pthread_mutex_init(&e->hint_mu, NULL);
	pthread_mutex_init(&e->kids_mu, NULL);
	return e;
}

struct mr_kids;
static void mr_kids_free(struct mr_kids *k);

void mr_engine_free(struct mr_engine *e)
{
	if (!e)
		return;
	free(e->topic);
	free(e->product);
	if (e->kids)
		mr_kids_free(e->kids);
	pthread_mutex_destroy(&e->kids_mu);
	mr_dict_free(e->cdict);
	pthread_rwlock_destroy(&e->content_lock);
	pthread_mutex_destroy(&e->hint_mu);
	free(e);
}

void mr_engine_set_tags(struct mr_engine *e, const struct mr_tagsrc *tags)
{
	e->tags = *tags;
	e->have_tags = tags->find != NULL;
}

int mr_engine_ready(struct mr_engine *e)
{
	return mr_profile_ready(e->profile) && mr_evindex_ready(e->events) && mr_hcpdir_ready(e->dir);
}

int mr_engine_load_content(struct mr_engine *e, struct mr_conn *c, struct mr_err *err)
{
	struct mr_evindex_dicts d;
	struct mr_rows *rows = NULL;
	uint32_t *topic = NULL, *product = NULL, n = 0, cap = 0;
	int exists = 0, rc;

	{
		int64_t k = 0;

		rc = mr_conn_query_int(c,
				       mr_conn_kind(c) == MR_STORE_SQLITE ?
				       "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'content'" :
				       "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'content'",
				       NULL, 0, &k, err);
		if (rc < 0)
			return rc;
		exists = k > 0;
	}
	mr_evindex_dicts(e->events, &d);
	if (exists)
		rc = mr_conn_query(c, "SELECT ext_id, topic, product FROM content WHERE deleted_at IS NULL", NULL, 0,
				   &rows, err);
	while (exists && rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		uint32_t code = mr_dict_add(d.content, mr_rows_text(rows, 0));

		rc = 0;
		if (code >= cap) {
			uint32_t nc = cap ? cap : 256;

			while (nc <= code)
				nc *= 2;
			topic = mr_realloc(topic, (size_t)nc * sizeof(*topic));
			product = mr_realloc(product, (size_t)nc * sizeof(*product));
			memset(topic + cap, 0, (size_t)(nc - cap) * sizeof(*topic));
			memset(product + cap, 0, (size_t)(nc - cap) * sizeof(*product));
			cap = nc;
		}
		if (code >= n)
			n = code + 1;
		topic[code] = mr_rows_isnull(rows, 1) ? 0 : mr_dict_add(e->cdict, mr_rows_text(rows, 1));
		product[code] = mr_rows_isnull(rows, 2) ? 0 : mr_dict_add(e->cdict, mr_rows_text(rows, 2));
	}
	mr_rows_close(rows);
	if (rc < 0) {
		free(topic);
		free(product);
		return rc;
	}
	pthread_rwlock_wrlock(&e->content_lock);
	free(e->topic);
	free(e->product);
	e->topic = topic;
	e->product = product;
	e->ncontent = n;
	pthread_rwlock_unlock(&e->content_lock);
	return 0;
}

static void mr_eng_dir_changed(void *arg, struct mr_conn *c, const struct mr_hcpdir_change *ch)
{
	struct mr_engine *e = arg;
	struct mr_err err;

	if (!ch->all && !ch->content)
		return;
	mr_err_clear(&err);
	if (mr_engine_load_content(e, c, &err) < 0)
		mr_log_warn("event=content_load_failed error=\"%s\"", err.msg);
}

void mr_engine_follow(struct mr_engine *e)
{
	mr_hcpdir_listen(e->dir, mr_eng_dir_changed, e);
}

/* ------------------------------------------------------------ plans */

/* Event filter nodes. */
enum { MR_F_CONST = 1, MR_F_CO, MR_F_ATTR, MR_F_REP, MR_F_DUR, MR_F_AND, MR_F_OR, MR_F_NOT };

struct mr_fn {
	int op;
	int n;
	struct mr_fn **kids;
	int konst;                                   /* CONST */
	uint8_t co[MR_CH_COUNT][MR_EVENT_RUNGS_MAX]; /* CO: by (channel, outcome) */
	uint8_t *ok;                                 /* ATTR: by attr code; REP: by rep id */
	uint32_t nok;
	int cmp;                                     /* DUR: MR_XO_EQ ... */
	double num;
};

/* Profile nodes. */
enum {
	MR_P_CONST = 1,
	MR_P_ATTR,      /* a text attribute's value */
	MR_P_NUMATTR,   /* a numeric attribute's value (0: null) */
	MR_P_TXT_IN,    /* attr's code is one of codes (neg: none of them; null: false either way) */
	MR_P_NUM_CMP,   /* numeric attr cmp num */
	MR_P_CONSENT,
	MR_P_MAP,       /* map[id] (owner in a set of reps) */
	MR_P_TAG,
	MR_P_CMP,       /* kids[0] cmp kids[1], generic */
	MR_P_IN,        /* kids[0] in kids[1..] */
	MR_P_AND,
	MR_P_OR,
	MR_P_NOT,
	MR_P_COUNT,
	MR_P_EXISTS,
	MR_P_SUM,
	MR_P_RATE,
	MR_P_TOP,
	MR_P_DAYS,
};

struct mr_pn {
	int op;
	int n;
	struct mr_pn **kids;
	struct mr_xval v;              /* CONST */
	int attr;                      /* ATTR, NUMATTR, TXT_IN, NUM_CMP; CONSENT: the bit; TAG: the id */
	uint32_t *codes;               /* TXT_IN */
	int ncodes, neg;
	int cmp;                       /* NUM_CMP, CMP */
	double num;
	uint8_t *map;                  /* MAP */
	uint32_t nmap;
	struct mr_hcpdir_turn *turns;  /* MAP: when doctors' alignments of the role next change */
	size_t nturns;
	/* event functions */
	struct mr_fn *filter, *den;    /* RATE: filter / den */
	int field;                     /* SUM, TOP: MR_N_... */
	int64_t window_us;             /* 0: all (DAYS) */
};

struct mr_eplan {
	struct mr_pn *root;
	const struct mr_xnode *tree;
	enum mr_xtype type;
	int64_t as_of;
	double weight[MR_CH_COUNT][MR_EVENT_RUNGS_MAX];
	int events;                    /* it has event functions */
	int timed;                     /* its value may change with time alone (events, owners) */
	int events_first;              /* every doctor's evaluation reads events (prefetch them) */
	/* reps by id, their types and external ids at compile time (top(rep...)) */
	uint8_t *rep_type;
	uint32_t nrep;
	struct mr_evindex_dicts dicts;
};

struct mr_compile {
	struct mr_engine *e;
	struct mr_arena *a;
	struct mr_eplan *p;
	struct mr_xerr *xe;
	struct mr_err *err;
	struct mr_hcpdir_align *al;    /* alignments in force at as_of, once asked */
	size_t nal;
	int have_al;
};

static int mr_cc_fail(struct mr_compile *cc, const struct mr_xnode *x, const char *msg, const char *expected)
{
	cc->xe->col = x->col;
	snprintf(cc->xe->msg, sizeof(cc->xe->msg), "%s", msg);
	snprintf(cc->xe->expected, sizeof(cc->xe->expected), "%s", expected);
	mr_err_field(cc->err, MR_EINVAL, "expr", "%s at column %d (expected %s)", msg, x->col, expected);
	cc->err->column = x->col;
	return MR_EINVAL;
}

static int mr_cmp_num(int cmp, double a, double b)
{
	switch (cmp) {
	case MR_XO_EQ: return a == b;
	case MR_XO_NE: return a != b;
	case MR_XO_LT: return a < b;
	case MR_XO_LE: return a <= b;
	case MR_XO_GT: return a > b;
	case MR_XO_GE: return a >= b;
	default: return 0;
	}
}

/* The comparison with its sides swapped: 3 < x is x > 3. */
static int mr_cmp_flip(int cmp)
{
	switch (cmp) {
	case MR_XO_LT: return MR_XO_GT;
	case MR_XO_LE: return MR_XO_GE;
	case MR_XO_GT: return MR_XO_LT;
	case MR_XO_GE: return MR_XO_LE;
	default: return cmp;
	}
}

static int mr_is_literal(const struct mr_xnode *x)
{
	return x->op == MR_XO_NUM || x->op == MR_XO_STR || x->op == MR_XO_BOOL;
}

/*
 * A comparison (or in) of an event field with literals, as (field, cmp,
 * literals): the name on the left. 0 when the node has another shape.
 */
struct mr_atom {
	const struct mr_xnode *name;
	int cmp;                        /* MR_XO_EQ...GE, or MR_XO_IN */
	const struct mr_xnode *const *lits;
	int nlits;
};

static int mr_atom_of(const struct mr_xnode *x, struct mr_atom *at)
{
	if (x->op == MR_XO_IN) {
		if (x->kids[0]->op != MR_XO_NAME)
			return 0;
		for (int i = 1; i < x->n; i++) {
			if (!mr_is_literal(x->kids[i]))
				return 0;
		}
		*at = (struct mr_atom){ x->kids[0], MR_XO_IN, (const struct mr_xnode *const *)x->kids + 1, x->n - 1 };
		return 1;
	}
	if (x->op < MR_XO_EQ || x->op > MR_XO_GE)
		return 0;
	if (x->kids[0]->op == MR_XO_NAME && mr_is_literal(x->kids[1])) {
		*at = (struct mr_atom){ x->kids[0], x->op, (const struct mr_xnode *const *)x->kids + 1, 1 };
		return 1;
	}
	if (x->kids[1]->op == MR_XO_NAME && mr_is_literal(x->kids[0])) {
		*at = (struct mr_atom){ x->kids[1], mr_cmp_flip(x->op), (const struct mr_xnode *const *)x->kids, 1 };
		return 1;
	}
	return 0;
}

/* Whether text value v (NULL: null) satisfies the atom (strings; ordered comparisons are not for text). */
static int mr_atom_text(const struct mr_atom *at, const char *v)
{
	if (!v)
		return 0;
	if (at->cmp == MR_XO_IN) {
		for (int i = 0; i < at->nlits; i++) {
			if (at->lits[i]->op == MR_XO_STR && strcmp(at->lits[i]->str, v) == 0)
				return 1;
		}
		return 0;
	}
	if (at->lits[0]->op != MR_XO_STR)
		return 0;
	if (at->cmp == MR_XO_EQ)
		return strcmp(at->lits[0]->str, v) == 0;
	if (at->cmp == MR_XO_NE)
		return strcmp(at->lits[0]->str, v) != 0;
	return 0;
}

static int mr_atom_num(const struct mr_atom *at, double v)
{
	if (at->cmp == MR_XO_IN) {
		for (int i = 0; i < at->nlits; i++) {
			if (at->lits[i]->op != MR_XO_STR && at->lits[i]->num == v)
				return 1;
		}
		return 0;
	}
	return at->lits[0]->op != MR_XO_STR && mr_cmp_num(at->cmp, v, at->lits[0]->num);
}

/* outcome (rung r of channel ch) against the atom: along the channel's ladder for <, >=, ... */
static int mr_atom_outcome(const struct mr_atom *at, int ch, int r)
{
	const char *name = mr_outcome_name(ch, r);

	if (!name)
		return 0;
	if (at->cmp == MR_XO_IN || at->cmp == MR_XO_EQ || at->cmp == MR_XO_NE)
		return mr_atom_text(at, name);
	if (at->lits[0]->op != MR_XO_STR)
		return 0;
	{
		int lr = mr_outcome_parse(ch, at->lits[0]->str);

		return lr >= 0 && mr_cmp_num(at->cmp, r, lr);
	}
}

static struct mr_fn *mr_fn_new(struct mr_compile *cc, int op)
{
	struct mr_fn *f = mr_arena_alloc(cc->a, sizeof(*f));

	memset(f, 0, sizeof(*f));
	f->op = op;
	return f;
}

/* The string of attr component kind (MR_N_TYPE ...) of attr code a, or NULL. */
static const char *mr_attr_text(struct mr_compile *cc, int kind, uint32_t a)
{
	const struct mr_evattr *at = mr_evindex_attr_of(cc->e->events, a);
	struct mr_evindex_dicts *d = &cc->p->dicts;
	uint32_t content;

	if (!at)
		return NULL;
	switch (kind) {
	case MR_N_TYPE: return mr_dict_str(d->type, at->type);
	case MR_N_CONTENT: return mr_dict_str(d->content, at->content);
	case MR_N_CAMPAIGN: return mr_dict_str(d->campaign, at->campaign);
	case MR_N_MEETING: return mr_dict_str(d->meeting, at->meeting);
	case MR_N_TOPIC:
	case MR_N_PRODUCT:
		content = at->content;
		if (!content || content >= cc->e->ncontent)
			return NULL;
		return mr_dict_str(cc->e->cdict, kind == MR_N_TOPIC ? cc->e->topic[content] : cc->e->product[content]);
	default: return NULL;
	}
}

/* Compiles event filter x (boolean, event scope). */
static int mr_cc_filter(struct mr_compile *cc, const struct mr_xnode *x, struct mr_fn **out)
{
	struct mr_atom at;
	struct mr_fn *f;
	int rc;

	switch (x->op) {
	case MR_XO_BOOL:
		f = mr_fn_new(cc, MR_F_CONST);
		f->konst = x->num != 0;
		*out = f;
		return 0;
	case MR_XO_AND:
	case MR_XO_OR: {
		int all_co = 1;

		f = mr_fn_new(cc, x->op == MR_XO_AND ? MR_F_AND : MR_F_OR);
		f->n = x->n;
		f->kids = mr_arena_alloc(cc->a, (size_t)x->n * sizeof(*f->kids));
		for (int i = 0; i < x->n; i++) {
			if ((rc = mr_cc_filter(cc, x->kids[i], &f->kids[i])) < 0)
				return rc;
			all_co &= f->kids[i]->op == MR_F_CO;
		}
		if (all_co) { /* one table */
			struct mr_fn *t = mr_fn_new(cc, MR_F_CO);

			for (int ch = 0; ch < MR_CH_COUNT; ch++) {
				for (int r = 0; r < MR_EVENT_RUNGS_MAX; r++) {
					int v = f->op == MR_F_AND;

					for (int i = 0; i < f->n; i++)
						v = f->op == MR_F_AND ? v && f->kids[i]->co[ch][r] :
									v || f->kids[i]->co[ch][r];
					t->co[ch][r] = (uint8_t)v;
				}
			}
			f = t;
		}
		*out = f;
		return 0;
	}
	case MR_XO_NOT:
		if ((rc = mr_cc_filter(cc, x->kids[0], &f)) < 0)
			return rc;
		if (f->op == MR_F_CO) {
			for (int ch = 1; ch < MR_CH_COUNT; ch++) {
				for (int r = 0; r < mr_outcome_count(ch); r++)
					f->co[ch][r] = !f->co[ch][r];
			}
			*out = f;
			return 0;
		}
		*out = mr_fn_new(cc, MR_F_NOT);
		(*out)->n = 1;
		(*out)->kids = mr_arena_alloc(cc->a, sizeof(*(*out)->kids));
		(*out)->kids[0] = f;
		return 0;
	default:
		break;
	}
	if (!mr_atom_of(x, &at))
		return mr_cc_fail(cc, x, "an event field can only be compared with values here",
				  "a comparison such as channel = \"phone\" or outcome >= \"answered\"");
	switch (at.name->name.kind) {
	case MR_N_CHANNEL:
	case MR_N_OUTCOME:
	case MR_N_WEIGHT:
		f = mr_fn_new(cc, MR_F_CO);
		for (int ch = 1; ch < MR_CH_COUNT; ch++) {
			for (int r = 0; r < mr_outcome_count(ch); r++) {
				int v = at.name->name.kind == MR_N_CHANNEL ? mr_atom_text(&at, mr_channel_name(ch)) :
					at.name->name.kind == MR_N_OUTCOME ? mr_atom_outcome(&at, ch, r) :
					mr_atom_num(&at, cc->p->weight[ch][r]);

				f->co[ch][r] = (uint8_t)v;
			}
		}
		break;
	case MR_N_TYPE:
	case MR_N_CONTENT:
	case MR_N_TOPIC:
	case MR_N_PRODUCT:
	case MR_N_CAMPAIGN:
	case MR_N_MEETING: {
		struct mr_evindex_stats st;

		mr_evindex_stats(cc->e->events, &st);
		f = mr_fn_new(cc, MR_F_ATTR);
		/* attr codes run 1..attrs; later ones are not matched (compile again to see them) */
		f->nok = (uint32_t)st.attrs + 1;
		f->ok = mr_arena_alloc(cc->a, f->nok);
		f->ok[0] = 0;
		pthread_rwlock_rdlock(&cc->e->content_lock);
		for (uint32_t a = 1; a < f->nok; a++)
			f->ok[a] = (uint8_t)mr_atom_text(&at, mr_attr_text(cc, at.name->name.kind, a));
		pthread_rwlock_unlock(&cc->e->content_lock);
		break;
	}
	case MR_N_REP:
	case MR_N_REP_TYPE:
		f = mr_fn_new(cc, MR_F_REP);
		f->nok = cc->p->nrep;
		f->ok = mr_arena_alloc(cc->a, f->nok + 1);
		memset(f->ok, 0, f->nok + 1);
		if (at.name->name.kind == MR_N_REP_TYPE) {
			for (uint32_t id = 1; id < f->nok; id++) {
				int t = cc->p->rep_type[id];

				f->ok[id] = t > 0 && (uint8_t)mr_atom_text(&at, mr_rep_type_name(t));
			}
		} else if (at.cmp == MR_XO_EQ || at.cmp == MR_XO_IN || at.cmp == MR_XO_NE) {
			/* the reps named, by external id */
			for (int i = 0; i < at.nlits; i++) {
				int64_t id = at.lits[i]->op == MR_XO_STR ? mr_hcpdir_rep(cc->e->dir, at.lits[i]->str, NULL) : 0;

				if (id > 0 && (uint64_t)id < f->nok)
					f->ok[id] = 1;
			}
			if (at.cmp == MR_XO_NE) {
				for (uint32_t id = 1; id < f->nok; id++)
					f->ok[id] = !f->ok[id];
			}
		} else {
			return mr_cc_fail(cc, x, "a rep compares with =, != or in", "=, != or in");
		}
		break;
	case MR_N_DURATION:
		if (at.cmp == MR_XO_IN) {
			f = mr_fn_new(cc, MR_F_OR);
			f->n = at.nlits;
			f->kids = mr_arena_alloc(cc->a, (size_t)at.nlits * sizeof(*f->kids));
			for (int i = 0; i < at.nlits; i++) {
				f->kids[i] = mr_fn_new(cc, MR_F_DUR);
				f->kids[i]->cmp = MR_XO_EQ;
				f->kids[i]->num = at.lits[i]->num;
			}
		} else {
			f = mr_fn_new(cc, MR_F_DUR);
			f->cmp = at.cmp;
			f->num = at.lits[0]->num;
		}
		break;
	default:
		return mr_cc_fail(cc, at.name, "not an event field", "an event field such as channel or outcome");
	}
	*out = f;
	return 0;
}

static struct mr_pn *mr_pn_new(struct mr_compile *cc, int op)
{
	struct mr_pn *p = mr_arena_alloc(cc->a, sizeof(*p));

	memset(p, 0, sizeof(*p));
	p->op = op;
	return p;
}

/* The owners (role) of every doctor as a map: 1 where one of the reps named by the atom is one. */
static int mr_cc_owner(struct mr_compile *cc, const struct mr_atom *at, struct mr_pn **out)
{
	struct mr_pn *p = mr_pn_new(cc, MR_P_MAP);
	int role = at->name->name.id;
	int64_t reps[MR_EXPR_MAX_IN];
	int nreps = 0;

	if (!cc->have_al) {
		if (!mr_hcpdir_alignments(cc->e->dir, cc->p->as_of, &cc->al, &cc->nal))
			return mr_err_set(cc->err, MR_EUNAVAIL, "the alignments are still loading");
		cc->have_al = 1;
	}
	for (int i = 0; i < at->nlits && nreps < MR_EXPR_MAX_IN; i++)
		reps[nreps++] = at->lits[i]->op == MR_XO_STR ? mr_hcpdir_rep(cc->e->dir, at->lits[i]->str, NULL) : 0;
	p->nmap = mr_profile_nhcps(cc->e->profile);
	for (size_t i = 0; i < cc->nal; i++) {
		if (cc->al[i].hcp >= p->nmap)
			p->nmap = cc->al[i].hcp + 1;
	}
	p->map = mr_arena_alloc(cc->a, p->nmap + 1);
	memset(p->map, 0, p->nmap + 1);
	{
		struct mr_hcpdir_turn *turns = NULL;

		if (mr_hcpdir_align_turns(cc->e->dir, cc->p->as_of, role, &turns, &p->nturns) && p->nturns) {
			p->turns = mr_arena_alloc(cc->a, p->nturns * sizeof(*p->turns));
			memcpy(p->turns, turns, p->nturns * sizeof(*p->turns));
			cc->p->timed = 1;
		}
		free(turns);
	}
	for (size_t i = 0; i < cc->nal; i++) {
		if (cc->al[i].role != role)
			continue;
		for (int k = 0; k < nreps; k++) {
			if (reps[k] > 0 && (int64_t)cc->al[i].rep == reps[k])
				p->map[cc->al[i].hcp] = 1;
		}
	}
	*out = p;
	return 0;
}

static int mr_cc_profile(struct mr_compile *cc, const struct mr_xnode *x, struct mr_pn **out);

static int mr_cc_kids(struct mr_compile *cc, const struct mr_xnode *x, struct mr_pn *p)
{
	p->n = x->n;
	p->kids = mr_arena_alloc(cc->a, (size_t)(x->n ? x->n : 1) * sizeof(*p->kids));
	for (int i = 0; i < x->n; i++) {
		int rc = mr_cc_profile(cc, x->kids[i], &p->kids[i]);

		if (rc < 0)
			return rc;
	}
	return 0;
}

static int mr_cc_profile(struct mr_compile *cc, const struct mr_xnode *x, struct mr_pn **out)
{
	struct mr_atom at;
	struct mr_pn *p;
	int rc;

	switch (x->op) {
	case MR_XO_NUM:
	case MR_XO_BOOL:
		p = mr_pn_new(cc, MR_P_CONST);
		p->v.kind = x->op == MR_XO_NUM ? MR_XV_NUM : MR_XV_BOOL;
		p->v.num = x->num;
		*out = p;
		return 0;
	case MR_XO_STR:
		p = mr_pn_new(cc, MR_P_CONST);
		p->v.kind = MR_XV_STR;
		p->v.str = x->str;
		*out = p;
		return 0;
	case MR_XO_NAME:
		switch (x->name.kind) {
		case MR_N_ATTR:
			p = mr_pn_new(cc, mr_profile_attr_numeric(x->name.id) ? MR_P_NUMATTR : MR_P_ATTR);
			p->attr = x->name.id;
			break;
		case MR_N_CONSENT:
			p = mr_pn_new(cc, MR_P_CONSENT);
			p->attr = x->name.id;
			break;
		case MR_N_TAG:
			p = mr_pn_new(cc, MR_P_TAG);
			p->attr = x->name.id;
			break;
		case MR_N_OWNER:
			return mr_cc_fail(cc, x, "owner names a list of reps", "owner.field = \"R0042\" or owner.field in (...)");
		default:
			return mr_cc_fail(cc, x, "not a profile name", "a profile name, a tag or a function");
		}
		*out = p;
		return 0;
	case MR_XO_AND:
	case MR_XO_OR:
	case MR_XO_NOT:
		p = mr_pn_new(cc, x->op == MR_XO_AND ? MR_P_AND : x->op == MR_XO_OR ? MR_P_OR : MR_P_NOT);
		if ((rc = mr_cc_kids(cc, x, p)) < 0)
			return rc;
		/* cheap tests first: an and stops at its first false */
		if (p->op != MR_P_NOT) {
			for (int i = 1; i < p->n; i++) {
				for (int k = i; k > 0 && p->kids[k - 1]->op >= MR_P_COUNT && p->kids[k]->op < MR_P_COUNT; k--) {
					struct mr_pn *t = p->kids[k];

					p->kids[k] = p->kids[k - 1];
					p->kids[k - 1] = t;
				}
			}
		}
		*out = p;
		return 0;
	case MR_XO_COUNT:
	case MR_XO_EXISTS:
	case MR_XO_DAYS_SINCE:
		p = mr_pn_new(cc, x->op == MR_XO_COUNT ? MR_P_COUNT : x->op == MR_XO_EXISTS ? MR_P_EXISTS : MR_P_DAYS);
		if ((rc = mr_cc_filter(cc, x->kids[0], &p->filter)) < 0)
			return rc;
		p->window_us = x->op == MR_XO_DAYS_SINCE ? 0 : x->window_s * MR_US_PER_S;
		cc->p->events = cc->p->timed = 1;
		*out = p;
		return 0;
	case MR_XO_SUM:
	case MR_XO_TOP:
		p = mr_pn_new(cc, x->op == MR_XO_SUM ? MR_P_SUM : MR_P_TOP);
		p->field = x->kids[0]->name.kind;
		if (x->n > 1) {
			if ((rc = mr_cc_filter(cc, x->kids[1], &p->filter)) < 0)
				return rc;
		} else {
			p->filter = mr_fn_new(cc, MR_F_CONST);
			p->filter->konst = 1;
		}
		p->window_us = x->window_s * MR_US_PER_S;
		cc->p->events = cc->p->timed = 1;
		*out = p;
		return 0;
	case MR_XO_RATE:
		p = mr_pn_new(cc, MR_P_RATE);
		if ((rc = mr_cc_filter(cc, x->kids[0], &p->filter)) < 0 ||
		    (rc = mr_cc_filter(cc, x->kids[1], &p->den)) < 0)
			return rc;
		p->window_us = x->window_s * MR_US_PER_S;
		cc->p->events = cc->p->timed = 1;
		*out = p;
		return 0;
	default:
		break;
	}
	/* comparisons: attribute against literals take the fast way */
	if (mr_atom_of(x, &at) && at.name->name.kind == MR_N_OWNER) {
		if (at.cmp != MR_XO_EQ && at.cmp != MR_XO_IN)
			return mr_cc_fail(cc, x, "owner names a list of reps: compare it with = or in",
					  "owner.field = \"R0042\" or owner.field in (...)");
		return mr_cc_owner(cc, &at, out);
	}
	if (mr_atom_of(x, &at) && at.name->name.kind == MR_N_ATTR && !mr_profile_attr_numeric(at.name->name.id) &&
	    (at.cmp == MR_XO_EQ || at.cmp == MR_XO_NE || at.cmp == MR_XO_IN)) {
		struct mr_dict *d = mr_profile_dict(cc->e->profile);

		p = mr_pn_new(cc, MR_P_TXT_IN);
		p->attr = at.name->name.id;
		p->neg = at.cmp == MR_XO_NE;
		p->codes = mr_arena_alloc(cc->a, (size_t)at.nlits * sizeof(*p->codes));
		for (int i = 0; i < at.nlits; i++) {
			/* a value no doctor has (yet) is code 0, which no doctor's value is */
			uint32_t code = at.lits[i]->op == MR_XO_STR ? mr_dict_find(d, at.lits[i]->str) : 0;

			if (code)
				p->codes[p->ncodes++] = code;
		}
		*out = p;
		return 0;
	}
	if (mr_atom_of(x, &at) && at.name->name.kind == MR_N_ATTR && mr_profile_attr_numeric(at.name->name.id) &&
	    at.cmp == MR_XO_IN) {
		/* numeric attributes are small whole numbers: an in-list is a set of codes */
		p = mr_pn_new(cc, MR_P_TXT_IN);
		p->attr = at.name->name.id;
		p->codes = mr_arena_alloc(cc->a, (size_t)at.nlits * sizeof(*p->codes));
		for (int i = 0; i < at.nlits; i++) {
			double v = at.lits[i]->num;

			if (at.lits[i]->op == MR_XO_NUM && v >= 1 && v < 1000 && v == floor(v))
				p->codes[p->ncodes++] = (uint32_t)v;
		}
		*out = p;
		return 0;
	}
	if (mr_atom_of(x, &at) && at.name->name.kind == MR_N_ATTR && mr_profile_attr_numeric(at.name->name.id) &&
	    at.cmp != MR_XO_IN && at.lits[0]->op == MR_XO_NUM) {
		p = mr_pn_new(cc, MR_P_NUM_CMP);
		p->attr = at.name->name.id;
		p->cmp = at.cmp;
		p->num = at.lits[0]->num;
		*out = p;
		return 0;
	}
	p = mr_pn_new(cc, x->op == MR_XO_IN ? MR_P_IN : MR_P_CMP);
	p->cmp = x->op;
	if ((rc = mr_cc_kids(cc, x, p)) < 0)
		return rc;
	*out = p;
	return 0;
}

/* Whether evaluating p reads events before anything can cut it short (its first test reads them). */
static int mr_pn_events_first(const struct mr_pn *p)
{
	switch (p->op) {
	case MR_P_AND:
	case MR_P_OR:
	case MR_P_NOT:
		return mr_pn_events_first(p->kids[0]);
	case MR_P_CMP:
	case MR_P_IN:
		for (int i = 0; i < p->n; i++) {
			if (mr_pn_events_first(p->kids[i]))
				return 1;
		}
		return 0;
	default:
		return p->op >= MR_P_COUNT;
	}
}

int mr_engine_compile(struct mr_engine *e, const char *src, size_t len, int64_t as_of, struct mr_arena *a,
		      struct mr_eplan **out, struct mr_xerr *xe, struct mr_err *err)
{
	struct mr_xresolver r;
	struct mr_xnode *tree = NULL;
	struct mr_compile cc = { .e = e, .a = a, .xe = xe, .err = err };
	struct mr_eplan *p;
	unsigned char *bits = NULL;
	uint32_t nbits = 0;
	int rc;

	memset(xe, 0, sizeof(*xe));
	mr_engine_resolver(e, &r);
	pthread_mutex_lock(&e->hint_mu); /* the resolver's hints live in the engine */
	if (e->have_tags && e->tags.read_begin)
		e->tags.read_begin(e->tags.arg);
	rc = mr_expr_parse(src, len, &r, a, &tree, xe, err);
	if (e->have_tags && e->tags.read_end)
		e->tags.read_end(e->tags.arg);
	pthread_mutex_unlock(&e->hint_mu);
	if (rc < 0)
		return rc;
	p = mr_arena_alloc(a, sizeof(*p));
	memset(p, 0, sizeof(*p));
	p->tree = tree;
	p->type = tree->type;
	p->as_of = as_of;
	mr_evindex_dicts(e->events, &p->dicts);
	for (int ch = 1; ch < MR_CH_COUNT; ch++) {
		for (int rung = 0; rung < mr_outcome_count(ch); rung++)
			p->weight[ch][rung] = mr_outcome_weight(ch, rung);
	}
	/* the reps' types, by id */
	if (mr_hcpdir_reps_of(e->dir, ~0u, &bits, &nbits)) {
		p->nrep = nbits;
		p->rep_type = mr_arena_alloc(a, nbits + 1);
		memset(p->rep_type, 0, nbits + 1);
		for (uint32_t id = 1; id < nbits; id++)
			p->rep_type[id] = bits[id] ? (uint8_t)mr_hcpdir_rep_type(e->dir, id) : 0;
		free(bits);
	}
	cc.p = p;
	mr_profile_read_begin(e->profile);
	rc = mr_cc_profile(&cc, tree, &p->root);
	mr_profile_read_end(e->profile);
	free(cc.al);
	if (rc < 0)
		return rc;
	p->events_first = mr_pn_events_first(p->root);
	*out = p;
	return 0;
}

enum mr_xtype mr_eplan_type(const struct mr_eplan *p)
{
	return p->type;
}

const struct mr_xnode *mr_eplan_tree(const struct mr_eplan *p)
{
	return p->tree;
}

/* ------------------------------------------------------------ evaluating */

enum { MR_CLUSTER_MAX = 64, MR_TOP_INLINE = 64, MR_PREFETCH_AHEAD = 8 };

/* One evaluation's state: a thread's. */
struct mr_ev {
	struct mr_engine *e;
	const struct mr_eplan *p;
	const struct mr_evindex *x;
	const struct mr_profile *pf;
	uint32_t lists[MR_CLUSTER_MAX];  /* the doctor's record and those merged into it */
	int nlists;
	/* children of merged records: sorted (root, child) pairs, and which roots have any */
	const uint64_t *kids;
	uint32_t nkids;
	const uint8_t *has_kids;
	uint32_t nhas;
	char scratch[128];               /* a text value made up here (a rep's id) */
	char best[128];                  /* top()'s answer when it is made up here */
	int64_t valid_until;             /* mr_engine_valid_until's answer */
};

static int mr_fn_match(const struct mr_ev *v, const struct mr_fn *f, const struct mr_evitem *it)
{
	switch (f->op) {
	case MR_F_CONST: return f->konst;
	case MR_F_CO: return it->channel < MR_CH_COUNT && it->outcome < MR_EVENT_RUNGS_MAX && f->co[it->channel][it->outcome];
	case MR_F_ATTR: return it->attr < f->nok && f->ok[it->attr];
	case MR_F_REP: return it->rep < f->nok && f->ok[it->rep];
	case MR_F_DUR: return it->dur > 0 && mr_cmp_num(f->cmp, (double)(it->dur - 1), f->num);
	case MR_F_AND:
		for (int i = 0; i < f->n; i++) {
			if (!mr_fn_match(v, f->kids[i], it))
				return 0;
		}
		return 1;
	case MR_F_OR:
		for (int i = 0; i < f->n; i++) {
			if (mr_fn_match(v, f->kids[i], it))
				return 1;
		}
		return 0;
	case MR_F_NOT: return !mr_fn_match(v, f->kids[0], it);
	default: return 0;
	}
}


/*
 * The items of a list in (lo, hi]: [*a, *b). Found by walking back from
 * the newest, which reads the list's memory in order (the windows are
 * recent; a binary search's jumps each waited for memory).
 */
static void mr_window(const struct mr_evitem *it, uint32_t n, int64_t lo, int64_t hi, uint32_t *a, uint32_t *b)
{
	uint32_t j = n;

	while (j > 0 && it[j - 1].ts > hi)
		j--;
	*b = j;
	while (j > 0 && it[j - 1].ts > lo)
		j--;
	*a = j;
}

/* Asks for the newest items of record id's list ahead of their use (a segment walks ids in order). */
static void mr_ev_prefetch(const struct mr_ev *v, uint32_t id)
{
	uint32_t n = 0;
	const struct mr_evitem *it = mr_evindex_items(v->x, id, &n);

	for (uint32_t k = n, lines = 0; it && k > 0 && lines < 6; k = k > 2 ? k - 2 : 0, lines++)
		__builtin_prefetch(&it[k - 1]);
}

/* The doctor's lists: record id and the records merged into it (through others too). */
static void mr_ev_cluster(struct mr_ev *v, uint32_t id)
{
	v->nlists = 0;
	v->lists[v->nlists++] = id;
	if (!v->has_kids || id >= v->nhas || !v->has_kids[id])
		return;
	for (int k = 0; k < v->nlists && v->nlists < MR_CLUSTER_MAX; k++) {
		uint32_t root = v->lists[k];
		uint32_t a = 0, b = v->nkids;

		while (a < b) { /* the first pair of root */
			uint32_t m = a + (b - a) / 2;

			if ((uint32_t)(v->kids[m] >> 32) < root)
				a = m + 1;
			else
				b = m;
		}
		for (; a < v->nkids && (uint32_t)(v->kids[a] >> 32) == root && v->nlists < MR_CLUSTER_MAX; a++)
			v->lists[v->nlists++] = (uint32_t)v->kids[a];
	}
}

/* An event dated after as_of (it[b], the first past the window) comes into the window at its time. */
static void mr_ev_future(struct mr_ev *v, const struct mr_evitem *it, uint32_t cnt, uint32_t b)
{
	if (b < cnt && it[b].ts < v->valid_until)
		v->valid_until = it[b].ts;
}

/* Counts the doctor's events in (as_of - w, as_of] matching f; *oldest gets the oldest one's time. */
static int64_t mr_ev_count(struct mr_ev *v, const struct mr_fn *f, int64_t window_us, int stop_at_one,
			   int64_t *oldest)
{
	int64_t lo = v->p->as_of - window_us, hi = v->p->as_of, n = 0;

	*oldest = INT64_MAX;
	for (int l = 0; l < v->nlists; l++) {
		uint32_t cnt = 0;
		const struct mr_evitem *it = mr_evindex_items(v->x, v->lists[l], &cnt);
		uint32_t a = 0, b = 0;
		int first = 1;

		if (it) {
			mr_window(it, cnt, lo, hi, &a, &b);
			mr_ev_future(v, it, cnt, b);
		}
		for (uint32_t i = a; i < b; i++) {
			if (!mr_fn_match(v, f, &it[i]))
				continue;
			n++;
			if (first && it[i].ts < *oldest)
				*oldest = it[i].ts; /* each list is oldest first */
			first = 0;
			if (stop_at_one)
				return n;
		}
	}
	return n;
}

/* The window's end for a doctor: when its oldest counted event leaves it. */
static void mr_ev_expires(struct mr_ev *v, int64_t oldest, int64_t window_us)
{
	if (oldest != INT64_MAX && oldest + window_us < v->valid_until)
		v->valid_until = oldest + window_us;
}

static double mr_ev_sum(struct mr_ev *v, const struct mr_pn *p)
{
	int64_t lo = v->p->as_of - p->window_us, hi = v->p->as_of, oldest = INT64_MAX;
	double s = 0;

	for (int l = 0; l < v->nlists; l++) {
		uint32_t cnt = 0;
		const struct mr_evitem *it = mr_evindex_items(v->x, v->lists[l], &cnt);
		uint32_t a = 0, b = 0;

		if (it) {
			mr_window(it, cnt, lo, hi, &a, &b);
			mr_ev_future(v, it, cnt, b);
		}
		for (uint32_t i = a; i < b; i++) {
			if (!mr_fn_match(v, p->filter, &it[i]))
				continue;
			if (p->field == MR_N_WEIGHT) {
				if (it[i].channel < MR_CH_COUNT && it[i].outcome < MR_EVENT_RUNGS_MAX)
					s += v->p->weight[it[i].channel][it[i].outcome];
			} else if (it[i].dur) {
				s += it[i].dur - 1;
			}
			if (it[i].ts < oldest)
				oldest = it[i].ts;
		}
	}
	mr_ev_expires(v, oldest, p->window_us);
	return s;
}

/* The key of field of item it for top(): a code in the field's own space (0: null). */
static uint32_t mr_top_key(const struct mr_ev *v, int field, const struct mr_evitem *it)
{
	const struct mr_evattr *at;

	switch (field) {
	case MR_N_CHANNEL: return it->channel;
	case MR_N_OUTCOME: return it->channel < MR_CH_COUNT ? (uint32_t)it->channel << 8 | (it->outcome + 1u) : 0;
	case MR_N_REP: return it->rep;
	case MR_N_REP_TYPE: return it->rep < v->p->nrep ? v->p->rep_type[it->rep] : 0;
	default: break;
	}
	at = mr_evindex_attr_of(v->x, it->attr);
	if (!at)
		return 0;
	switch (field) {
	case MR_N_TYPE: return at->type;
	case MR_N_CONTENT: return at->content;
	case MR_N_CAMPAIGN: return at->campaign;
	case MR_N_MEETING: return at->meeting;
	case MR_N_TOPIC: return at->content && at->content < v->e->ncontent ? v->e->topic[at->content] : 0;
	case MR_N_PRODUCT: return at->content && at->content < v->e->ncontent ? v->e->product[at->content] : 0;
	default: return 0;
	}
}

/* The text of top()'s key. */
static const char *mr_top_text(struct mr_ev *v, int field, uint32_t key)
{
	const struct mr_evindex_dicts *d = &v->p->dicts;

	switch (field) {
	case MR_N_CHANNEL: return mr_channel_name((int)key);
	case MR_N_OUTCOME: return mr_outcome_name((int)(key >> 8), (int)(key & 0xff) - 1);
	case MR_N_REP: return mr_hcpdir_rep_ext(v->e->dir, key, v->scratch, sizeof(v->scratch));
	case MR_N_REP_TYPE: return mr_rep_type_name((int)key);
	case MR_N_TYPE: return mr_dict_str(d->type, key);
	case MR_N_CONTENT: return mr_dict_str(d->content, key);
	case MR_N_CAMPAIGN: return mr_dict_str(d->campaign, key);
	case MR_N_MEETING: return mr_dict_str(d->meeting, key);
	case MR_N_TOPIC:
	case MR_N_PRODUCT: return mr_dict_str(v->e->cdict, key);
	default: return NULL;
	}
}

static void mr_ev_top(struct mr_ev *v, const struct mr_pn *p, struct mr_xval *out)
{
	int64_t lo = v->p->as_of - p->window_us, hi = v->p->as_of, oldest = INT64_MAX;
	uint32_t keys[MR_TOP_INLINE], counts[MR_TOP_INLINE];
	uint32_t *k = keys, *c = counts;
	uint32_t n = 0, cap = MR_TOP_INLINE, best = UINT32_MAX;
	const char *best_text = NULL;

	for (int l = 0; l < v->nlists; l++) {
		uint32_t cnt = 0;
		const struct mr_evitem *it = mr_evindex_items(v->x, v->lists[l], &cnt);
		uint32_t a = 0, b = 0;

		if (it) {
			mr_window(it, cnt, lo, hi, &a, &b);
			mr_ev_future(v, it, cnt, b);
		}
		for (uint32_t i = a; i < b; i++) {
			uint32_t key, j;

			if (!mr_fn_match(v, p->filter, &it[i]) || !(key = mr_top_key(v, p->field, &it[i])))
				continue;
			if (it[i].ts < oldest)
				oldest = it[i].ts;
			for (j = 0; j < n && k[j] != key; j++)
				;
			if (j == n) {
				if (n == cap) {
					uint32_t *nk = mr_calloc((size_t)cap * 2, sizeof(*nk)), *ncnt = mr_calloc((size_t)cap * 2, sizeof(*ncnt));

					memcpy(nk, k, n * sizeof(*k));
					memcpy(ncnt, c, n * sizeof(*c));
					if (k != keys) {
						free(k);
						free(c);
					}
					k = nk;
					c = ncnt;
					cap *= 2;
				}
				k[n] = key;
				c[n++] = 0;
			}
			c[j]++;
		}
	}
	/* the most frequent; a tie goes to the smaller text */
	for (uint32_t j = 0; j < n; j++) {
		const char *t;

		if (best != UINT32_MAX && c[j] < c[best])
			continue;
		t = mr_top_text(v, p->field, k[j]);
		if (!t)
			continue;
		if (best == UINT32_MAX || c[j] > c[best] || strcmp(t, best_text) < 0) {
			best = j;
			/* a rep's id is written into the scratch buffer, which the next one reuses */
			snprintf(v->best, sizeof(v->best), "%s", t);
			best_text = p->field == MR_N_REP ? v->best : t;
		}
	}
	if (best != UINT32_MAX) {
		out->kind = MR_XV_STR;
		out->str = best_text;
	} else {
		out->kind = MR_XV_NULL;
	}
	if (k != keys) {
		free(k);
		free(c);
	}
	mr_ev_expires(v, oldest, p->window_us);
}

static void mr_ev_days(struct mr_ev *v, const struct mr_pn *p, struct mr_xval *out)
{
	int64_t hi = v->p->as_of, newest = INT64_MIN;

	for (int l = 0; l < v->nlists; l++) {
		uint32_t cnt = 0;
		const struct mr_evitem *it = mr_evindex_items(v->x, v->lists[l], &cnt);
		/* from the newest at or before as_of backwards: the first match is the newest */
		int64_t i = it ? (int64_t)cnt - 1 : -1;

		while (i >= 0 && it[i].ts > hi)
			i--;
		if (it)
			mr_ev_future(v, it, cnt, (uint32_t)(i + 1));

		for (; i >= 0 && it[i].ts > newest; i--) {
			if (mr_fn_match(v, p->filter, &it[i])) {
				newest = it[i].ts;
				break;
			}
		}
	}
	if (newest == INT64_MIN) {
		out->kind = MR_XV_NULL;
		return;
	}
	out->kind = MR_XV_NUM;
	{
		int64_t days = (hi - newest) / (86400 * MR_US_PER_S); /* whole days */
		/* it grows by one at the next whole day */
		int64_t next = newest + (days + 1) * 86400 * MR_US_PER_S;

		out->num = (double)days;
		if (next < v->valid_until)
			v->valid_until = next;
	}
}

/* An owner's value changes when one of the doctor's alignments of that role starts or ends. */
static void mr_ev_turn(struct mr_ev *v, const struct mr_pn *p, uint32_t id)
{
	size_t lo = 0, hi = p->nturns;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->turns[mid].hcp < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < p->nturns && p->turns[lo].hcp == id && p->turns[lo].at < v->valid_until)
		v->valid_until = p->turns[lo].at;
}

static int mr_xval_truthy(const struct mr_xval *x)
{
	return x->kind == MR_XV_BOOL && x->num != 0;
}

static void mr_pn_eval(struct mr_ev *v, const struct mr_pn *p, uint32_t id, struct mr_xval *out);

/* Whether values a and b compare by cmp (null: false). */
static int mr_xval_cmp(int cmp, const struct mr_xval *a, const struct mr_xval *b)
{
	if (a->kind == MR_XV_NULL || b->kind == MR_XV_NULL)
		return 0;
	if (a->kind == MR_XV_STR && b->kind == MR_XV_STR) {
		int c = strcmp(a->str, b->str);

		return cmp == MR_XO_EQ ? c == 0 : cmp == MR_XO_NE ? c != 0 : mr_cmp_num(cmp, c, 0);
	}
	if (a->kind == MR_XV_STR || b->kind == MR_XV_STR)
		return 0;
	return mr_cmp_num(cmp, a->num, b->num);
}

static void mr_pn_eval(struct mr_ev *v, const struct mr_pn *p, uint32_t id, struct mr_xval *out)
{
	struct mr_xval a, b;
	int64_t oldest;
	uint32_t code;

	switch (p->op) {
	case MR_P_CONST:
		*out = p->v;
		return;
	case MR_P_ATTR:
		code = mr_profile_get(v->pf, id, p->attr);
		out->kind = code ? MR_XV_STR : MR_XV_NULL;
		out->str = code ? mr_dict_str(mr_profile_dict((struct mr_profile *)v->pf), code) : NULL;
		return;
	case MR_P_NUMATTR:
		code = mr_profile_get(v->pf, id, p->attr);
		out->kind = code ? MR_XV_NUM : MR_XV_NULL;
		out->num = code;
		return;
	case MR_P_TXT_IN: {
		int hit = 0;

		code = mr_profile_get(v->pf, id, p->attr);
		out->kind = MR_XV_BOOL;
		for (int i = 0; code && i < p->ncodes && !hit; i++)
			hit = p->codes[i] == code;
		out->num = code && (p->neg ? !hit : hit);
		return;
	}
	case MR_P_NUM_CMP:
		code = mr_profile_get(v->pf, id, p->attr);
		out->kind = MR_XV_BOOL;
		out->num = code && mr_cmp_num(p->cmp, code, p->num);
		return;
	case MR_P_CONSENT:
		out->kind = MR_XV_BOOL;
		out->num = (mr_profile_consents(v->pf, id) >> p->attr) & 1;
		return;
	case MR_P_MAP:
		out->kind = MR_XV_BOOL;
		out->num = id < p->nmap && p->map[id];
		mr_ev_turn(v, p, id);
		return;
	case MR_P_TAG:
		v->e->tags.value(v->e->tags.arg, p->attr, id, out);
		return;
	case MR_P_CMP:
		mr_pn_eval(v, p->kids[0], id, &a);
		mr_pn_eval(v, p->kids[1], id, &b);
		out->kind = MR_XV_BOOL;
		out->num = mr_xval_cmp(p->cmp, &a, &b);
		return;
	case MR_P_IN:
		mr_pn_eval(v, p->kids[0], id, &a);
		out->kind = MR_XV_BOOL;
		out->num = 0;
		for (int i = 1; i < p->n && !out->num; i++) {
			mr_pn_eval(v, p->kids[i], id, &b);
			out->num = mr_xval_cmp(MR_XO_EQ, &a, &b);
		}
		return;
	case MR_P_AND:
	case MR_P_OR:
		out->kind = MR_XV_BOOL;
		for (int i = 0; i < p->n; i++) {
			mr_pn_eval(v, p->kids[i], id, &a);
			if (mr_xval_truthy(&a) != (p->op == MR_P_AND)) {
				out->num = p->op == MR_P_OR;
				return;
			}
		}
		out->num = p->op == MR_P_AND;
		return;
	case MR_P_NOT:
		mr_pn_eval(v, p->kids[0], id, &a);
		out->kind = MR_XV_BOOL;
		out->num = !mr_xval_truthy(&a);
		return;
	case MR_P_COUNT:
		out->kind = MR_XV_NUM;
		out->num = (double)mr_ev_count(v, p->filter, p->window_us, 0, &oldest);
		mr_ev_expires(v, oldest, p->window_us);
		return;
	case MR_P_EXISTS:
		out->kind = MR_XV_BOOL;
		out->num = mr_ev_count(v, p->filter, p->window_us, 0, &oldest) > 0;
		mr_ev_expires(v, oldest, p->window_us);
		return;
	case MR_P_SUM:
		out->kind = MR_XV_NUM;
		out->num = mr_ev_sum(v, p);
		return;
	case MR_P_RATE: {
		int64_t num = mr_ev_count(v, p->filter, p->window_us, 0, &oldest), den;

		mr_ev_expires(v, oldest, p->window_us);
		den = mr_ev_count(v, p->den, p->window_us, 0, &oldest);
		mr_ev_expires(v, oldest, p->window_us);
		out->kind = den ? MR_XV_NUM : MR_XV_NULL;
		out->num = den ? (double)num / (double)den : 0;
		return;
	}
	case MR_P_TOP:
		mr_ev_top(v, p, out);
		return;
	case MR_P_DAYS:
		mr_ev_days(v, p, out);
		return;
	default:
		out->kind = MR_XV_NULL;
		return;
	}
}

/*
 * The merged records' survivors: sorted (root << 32 | child) pairs and a
 * map of roots with any. Built from the profile once per version of it and
 * shared (mr_kids_get / mr_kids_put): a tag update for one event then does
 * not walk every record.
 */
struct mr_kids {
	uint64_t *pairs;
	uint32_t n;
	uint8_t *has;
	uint32_t nhas;
	uint64_t version;
	int refs;
	roaring_bitmap_t *live;        /* the live records (doctors), for bitmap algebra */
};

static int mr_u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

static void mr_kids_build(const struct mr_profile *pf, struct mr_kids *k)
{
	uint32_t n = mr_profile_nhcps(pf), cap = 0;

	memset(k, 0, sizeof(*k));
	for (uint32_t id = 1; id < n; id++) {
		uint32_t into;

		if (mr_profile_state(pf, id) != MR_PS_MERGED || !(into = mr_profile_merged_into(pf, id)))
			continue;
		if (k->n == cap) {
			cap = cap ? cap * 2 : 256;
			k->pairs = mr_realloc(k->pairs, (size_t)cap * sizeof(*k->pairs));
		}
		k->pairs[k->n++] = (uint64_t)into << 32 | id;
	}
	if (!k->n)
		return;
	qsort(k->pairs, k->n, sizeof(*k->pairs), mr_u64_cmp);
	k->nhas = n;
	k->has = mr_calloc(n + 1, 1);
	/* a root has kids when any record below it in the chain does */
	for (uint32_t i = 0; i < k->n; i++) {
		uint32_t root = (uint32_t)(k->pairs[i] >> 32);

		for (int hops = 0; root && root < n && hops < 16; hops++) {
			k->has[root] = 1;
			if (mr_profile_state(pf, root) != MR_PS_MERGED)
				break;
			root = mr_profile_merged_into(pf, root);
		}
	}
}

static void mr_kids_free(struct mr_kids *k)
{
	free(k->pairs);
	free(k->has);
	if (k->live)
		roaring_bitmap_free(k->live);
	free(k);
}

/* The merged-record map of the profile as it is now; call within its read span, give back with mr_kids_put. */
static struct mr_kids *mr_kids_get(struct mr_engine *e)
{
	uint64_t version = mr_profile_version(e->profile);
	struct mr_kids *k;

	pthread_mutex_lock(&e->kids_mu);
	if (!e->kids || e->kids->version != version) {
		uint32_t n = mr_profile_nhcps(e->profile);

		k = mr_calloc(1, sizeof(*k));
		mr_kids_build(e->profile, k);
		k->version = version;
		k->live = roaring_bitmap_create();
		for (uint32_t id = 1; id < n; id++) {
			if (mr_profile_state(e->profile, id) == MR_PS_LIVE)
				roaring_bitmap_add(k->live, id);
		}
		roaring_bitmap_run_optimize(k->live);
		k->refs = 1; /* the engine's */
		if (e->kids && --e->kids->refs == 0)
			mr_kids_free(e->kids);
		e->kids = k;
	}
	k = e->kids;
	k->refs++;
	pthread_mutex_unlock(&e->kids_mu);
	return k;
}

static void mr_kids_put(struct mr_engine *e, struct mr_kids *k)
{
	pthread_mutex_lock(&e->kids_mu);
	if (--k->refs == 0)
		mr_kids_free(k);
	pthread_mutex_unlock(&e->kids_mu);
}

static void mr_ev_init(struct mr_ev *v, struct mr_engine *e, const struct mr_eplan *p, const struct mr_kids *k)
{
	memset(v, 0, sizeof(*v));
	v->e = e;
	v->p = p;
	v->x = e->events;
	v->pf = e->profile;
	v->kids = k->pairs;
	v->nkids = k->n;
	v->has_kids = k->has;
	v->nhas = k->nhas;
	v->valid_until = INT64_MAX;
}

/* The read spans an evaluation holds: profile, events, content, tags (in this order). */
static void mr_eng_read_begin(struct mr_engine *e)
{
	mr_profile_read_begin(e->profile);
	mr_evindex_read_begin(e->events);
	pthread_rwlock_rdlock(&e->content_lock);
	if (e->have_tags && e->tags.read_begin)
		e->tags.read_begin(e->tags.arg);
}

static void mr_eng_read_end(struct mr_engine *e)
{
	if (e->have_tags && e->tags.read_end)
		e->tags.read_end(e->tags.arg);
	pthread_rwlock_unlock(&e->content_lock);
	mr_evindex_read_end(e->events);
	mr_profile_read_end(e->profile);
}

struct mr_sel {
	struct mr_engine *e;
	const struct mr_eplan *p;
	const struct mr_kids *k;
	const unsigned char *scope;
	uint32_t nscope;
	uint32_t from, to;          /* record ids [from, to) */
	uint32_t *ids;              /* NULL: count only */
	int max, nids;
	int64_t count;
	pthread_t thread;
};

static void *mr_sel_run(void *arg)
{
	struct mr_sel *s = arg;
	struct mr_ev v;

	mr_ev_init(&v, s->e, s->p, s->k);
	for (uint32_t id = s->from; id < s->to; id++) {
		struct mr_xval r;

		if (s->p->events_first && id + MR_PREFETCH_AHEAD < s->to)
			mr_ev_prefetch(&v, id + MR_PREFETCH_AHEAD);
		if (s->scope && (id >= s->nscope || !s->scope[id]))
			continue;
		if (mr_profile_state(v.pf, id) != MR_PS_LIVE)
			continue;
		mr_ev_cluster(&v, id);
		mr_pn_eval(&v, s->p->root, id, &r);
		if (!mr_xval_truthy(&r))
			continue;
		s->count++;
		if (s->ids && s->nids < s->max)
			s->ids[s->nids++] = id;
	}
	return NULL;
}

/*
 * Bitmap algebra: a plan made only of boolean tags, text tags compared
 * with = or in, and and / or / not of those, is answered from the tags'
 * value bitmaps (struct mr_tagsrc's bitmap) without visiting doctors.
 * NULL when p is not of that shape (the caller evaluates per doctor).
 * Called within the read span; the caller frees the result.
 */
static roaring_bitmap_t *mr_bm_eval(struct mr_engine *e, const struct mr_pn *p, const roaring_bitmap_t *live)
{
	const void *bm;
	roaring_bitmap_t *r = NULL, *k;

	switch (p->op) {
	case MR_P_TAG: /* a boolean tag standing alone: true */
		bm = e->tags.bitmap(e->tags.arg, p->attr, "true");
		return bm ? roaring_bitmap_copy(bm) : NULL;
	case MR_P_CMP:
	case MR_P_IN:
		if ((p->op == MR_P_CMP && p->cmp != MR_XO_EQ) || p->kids[0]->op != MR_P_TAG)
			return NULL;
		for (int i = 1; i < p->n; i++) {
			if (p->kids[i]->op != MR_P_CONST || p->kids[i]->v.kind != MR_XV_STR ||
			    !(bm = e->tags.bitmap(e->tags.arg, p->kids[0]->attr, p->kids[i]->v.str))) {
				if (r)
					roaring_bitmap_free(r);
				return NULL;
			}
			if (r)
				roaring_bitmap_or_inplace(r, bm);
			else
				r = roaring_bitmap_copy(bm);
		}
		return r;
	case MR_P_NOT:
		if (!(k = mr_bm_eval(e, p->kids[0], live)))
			return NULL;
		r = roaring_bitmap_andnot(live, k); /* not true: false or null */
		roaring_bitmap_free(k);
		return r;
	case MR_P_AND:
	case MR_P_OR:
		for (int i = 0; i < p->n; i++) {
			if (!(k = mr_bm_eval(e, p->kids[i], live))) {
				if (r)
					roaring_bitmap_free(r);
				return NULL;
			}
			if (!r) {
				r = k;
				continue;
			}
			if (p->op == MR_P_AND)
				roaring_bitmap_and_inplace(r, k);
			else
				roaring_bitmap_or_inplace(r, k);
			roaring_bitmap_free(k);
		}
		return r;
	default:
		return NULL;
	}
}

enum { MR_SEL_SPLIT = 50000, MR_SEL_THREADS = 2 };

int mr_engine_select(struct mr_engine *e, const struct mr_eplan *p, const unsigned char *scope,
		     uint32_t nscope, uint32_t after, uint32_t *ids, int max, int *nids, int64_t *count,
		     struct mr_err *err)
{
	struct mr_kids *k;
	uint32_t n;

	if (p->type != MR_XT_BOOL)
		return mr_err_field(err, MR_EINVAL, "expr", "a segment is a boolean expression; this one is a %s",
				    mr_xtype_name(p->type));
	if (!mr_engine_ready(e))
		return mr_err_set(err, MR_EUNAVAIL, "the engine is still loading; try again in a moment");
	mr_eng_read_begin(e);
	k = mr_kids_get(e);
	n = mr_profile_nhcps(e->profile);
	*count = 0;
	if (nids)
		*nids = 0;
	if (!ids && !scope && e->have_tags && e->tags.bitmap) {
		roaring_bitmap_t *bm = mr_bm_eval(e, p->root, k->live);

		if (bm) {
			*count = (int64_t)roaring_bitmap_and_cardinality(bm, k->live);
			roaring_bitmap_free(bm);
			mr_kids_put(e, k);
			mr_eng_read_end(e);
			return 0;
		}
	}
	if (ids) {
		/* a page: in id order, one thread, stop when full (the count is then of the page) */
		struct mr_sel s = { e, p, k, scope, nscope, after + 1, n, ids, max, 0, 0, 0 };

		mr_sel_run(&s);
		if (nids)
			*nids = s.nids;
		*count = s.count;
	} else if (n < MR_SEL_SPLIT) {
		struct mr_sel s = { e, p, k, scope, nscope, 1, n, NULL, 0, 0, 0, 0 };

		mr_sel_run(&s);
		*count = s.count;
	} else {
		struct mr_sel s[MR_SEL_THREADS];
		uint32_t step = n / MR_SEL_THREADS;

		for (int i = 0; i < MR_SEL_THREADS; i++) {
			s[i] = (struct mr_sel){ e, p, k, scope, nscope, i == 0 ? 1 : (uint32_t)i * step,
						i == MR_SEL_THREADS - 1 ? n : (uint32_t)(i + 1) * step, NULL, 0, 0, 0, 0 };
		}
		for (int i = 1; i < MR_SEL_THREADS; i++) {
			if (pthread_create(&s[i].thread, NULL, mr_sel_run, &s[i]) != 0)
				s[i].thread = 0;
		}
		mr_sel_run(&s[0]);
		for (int i = 1; i < MR_SEL_THREADS; i++) {
			if (s[i].thread)
				pthread_join(s[i].thread, NULL);
			else
				mr_sel_run(&s[i]);
		}
		for (int i = 0; i < MR_SEL_THREADS; i++)
			*count += s[i].count;
	}
	mr_kids_put(e, k);
	mr_eng_read_end(e);
	return 0;
}

int mr_engine_values_many(struct mr_engine *e, const struct mr_eplan *const *plans, int nplans,
			  const uint32_t *ids, int n, struct mr_arena *a, struct mr_xval *const *out,
			  int64_t *const *until, struct mr_err *err)
{
	struct mr_kids *k;
	struct mr_ev *v;
	int events = 0;

	if (!mr_engine_ready(e))
		return mr_err_set(err, MR_EUNAVAIL, "the engine is still loading; try again in a moment");
	v = mr_malloc((size_t)(nplans > 0 ? nplans : 1) * sizeof(*v));
	mr_eng_read_begin(e);
	k = mr_kids_get(e);
	for (int q = 0; q < nplans; q++) {
		mr_ev_init(&v[q], e, plans[q], k);
		events |= plans[q]->events;
	}
	for (int i = 0; i < n && nplans > 0; i++) {
		uint32_t id = ids[i];

		for (int hops = 0; hops < 16 && mr_profile_state(v[0].pf, id) == MR_PS_MERGED &&
				   mr_profile_merged_into(v[0].pf, id); hops++)
			id = mr_profile_merged_into(v[0].pf, id);
		if (events && i + MR_PREFETCH_AHEAD < n)
			mr_ev_prefetch(&v[0], ids[i + MR_PREFETCH_AHEAD]);
		/* every plan for this doctor while its events are in the cache */
		for (int q = 0; q < nplans; q++) {
			struct mr_ev *w = &v[q];

			mr_ev_cluster(w, id);
			w->valid_until = INT64_MAX;
			mr_pn_eval(w, plans[q]->root, id, &out[q][i]);
			if (out[q][i].kind == MR_XV_STR && out[q][i].str == w->best)
				out[q][i].str = mr_arena_strdup(a, w->best);
			if (until && until[q])
				until[q][i] = plans[q]->timed ? w->valid_until : INT64_MAX;
		}
	}
	mr_kids_put(e, k);
	mr_eng_read_end(e);
	free(v);
	return 0;
}

int mr_engine_values(struct mr_engine *e, const struct mr_eplan *p, const uint32_t *ids, int n,
		     struct mr_arena *a, struct mr_xval *out, int64_t *until, struct mr_err *err)
{
	return mr_engine_values_many(e, &p, 1, ids, n, a, &out, &until, err);
}

int64_t mr_engine_valid_until(struct mr_engine *e, const struct mr_eplan *p, uint32_t id)
{
	struct mr_kids *k;
	struct mr_ev v;
	struct mr_xval r;

	if (!p->timed)
		return INT64_MAX;
	mr_eng_read_begin(e);
	k = mr_kids_get(e);
	mr_ev_init(&v, e, p, k);
	mr_ev_cluster(&v, id);
	mr_pn_eval(&v, p->root, id, &r);
	mr_kids_put(e, k);
	mr_eng_read_end(e);
	return v.valid_until;
}
