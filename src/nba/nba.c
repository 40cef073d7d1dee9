/*
 * The next-best-action module (see nba.h): the snapshot of rules, settings
 * and content, one doctor's recommendations — in the rules' order, or,
 * under the learned policy, the response models' Thompson-sampled pick
 * first (docs/nba.md, "The learned policy") —, the recommendation log's
 * queue, and the follower's tick. The batch run is run.c.
 */
#include "nba/nba.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/time.h"
#include "engine/evindex.h"
#include "engine/hcpdir.h"
#include "engine/profile.h"
#include "engine/segments.h"
#include "event/event.h"
#include "experiments/experiments.h"
#include "nba/nba_int.h"
#include "store/writer.h"
#include "tasks/task.h"

static void mr_nba_plans_put(struct mr_nba *n, struct mr_nba_plans *p);

struct mr_nba *mr_nba_new(const struct mr_nba_src *src)
{
	struct mr_nba *n = mr_calloc(1, sizeof(*n));

	n->src = *src;
	pthread_mutex_init(&n->mu, NULL);
	pthread_mutex_init(&n->qmu, NULL);
	pthread_mutex_init(&n->flush_mu, NULL);
	mr_arena_init(&n->qa);
	return n;
}

void mr_nba_set_writer(struct mr_nba *n, struct mr_writer *w)
{
	n->src.writer = w;
}

void mr_nba_set_models(struct mr_nba *n, struct mr_models *m)
{
	pthread_mutex_lock(&n->mu);
	n->models = m;
	pthread_mutex_unlock(&n->mu);
}

struct mr_models *mr_nba_models(struct mr_nba *n)
{
	struct mr_models *m;

	pthread_mutex_lock(&n->mu);
	m = n->models;
	pthread_mutex_unlock(&n->mu);
	return m;
}

void mr_nba_free(struct mr_nba *n)
{
	struct mr_err err;

	if (!n)
		return;
	if (mr_nba_flush(n, &err) < 0)
		mr_log_warn("event=nba_log_lost error=\"%s\"", err.msg);
	mr_nba_plans_put(n, n->plans);
	if (n->snap)
		mr_nba_snap_put(n, n->snap);
	mr_arena_release(&n->qa);
	free(n->q);
	pthread_mutex_destroy(&n->mu);
	pthread_mutex_destroy(&n->qmu);
	pthread_mutex_destroy(&n->flush_mu);
	free(n);
}

int mr_nba_write(struct mr_nba *n, int (*fn)(struct mr_conn *c, void *arg, struct mr_err *err), void *arg,
		 struct mr_err *err)
{
	if (n->src.writer)
		return mr_writer_submit(n->src.writer, fn, arg, err);
	return mr_store_write(n->src.store, fn, arg, err);
}

/* ------------------------------------------------------------ the snapshot */

void mr_nba_snap_put(struct mr_nba *n, struct mr_nba_snap *s)
{
	int last;

	pthread_mutex_lock(&n->mu);
	last = --s->refs == 0;
	pthread_mutex_unlock(&n->mu);
	if (last) {
		mr_arena_release(&s->a);
		free(s);
	}
}

static int mr_nba_rule_order(const void *pa, const void *pb)
{
	const struct mr_nba_rule *a = pa, *b = pb;

	if (a->priority != b->priority)
		return a->priority < b->priority ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int mr_nba_snap_load(struct mr_conn *c, int64_t rstamp, int64_t cstamp, struct mr_nba_snap **out,
			    struct mr_err *err)
{
	struct mr_nba_snap *s = mr_calloc(1, sizeof(*s));
	int rc;

	s->refs = 1;
	s->rstamp = rstamp;
	s->cstamp = cstamp;
	mr_arena_init(&s->a);
	rc = mr_nba_rule_list(c, &s->a, &s->rules, &s->nrules, err);
	if (rc == 0)
		rc = mr_nba_settings_get(c, &s->set, err);
	if (rc == 0)
		rc = mr_nba_content_load(c, &s->a, &s->cat, err);
	if (rc < 0) {
		mr_arena_release(&s->a);
		free(s);
		return rc;
	}
	qsort(s->rules, (size_t)s->nrules, sizeof(*s->rules), mr_nba_rule_order);
	*out = s;
	return 0;
}

int mr_nba_snap_get(struct mr_nba *n, struct mr_conn *c, struct mr_nba_snap **out, struct mr_err *err)
{
	int64_t rstamp = 0, cstamp = 0, mono = mr_mono_us();
	struct mr_nba_snap *s = NULL, *old = NULL;
	int rc;

	/* this node's writes drop the snapshot at once; others' (and content) are seen within MR_NBA_STAMP_US */
	pthread_mutex_lock(&n->mu);
	if (n->snap && mono - n->snap_checked < MR_NBA_STAMP_US) {
		n->snap->refs++;
		*out = n->snap;
		pthread_mutex_unlock(&n->mu);
		return 0;
	}
	pthread_mutex_unlock(&n->mu);
	rc = mr_nba_rules_stamp(c, &rstamp, err);
	if (rc == 0)
		rc = mr_nba_content_stamp(c, &cstamp, err);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&n->mu);
	if (n->snap && n->snap->rstamp == rstamp && n->snap->cstamp == cstamp) {
		n->snap->refs++;
		n->snap_checked = mono;
		*out = n->snap;
		pthread_mutex_unlock(&n->mu);
		return 0;
	}
	pthread_mutex_unlock(&n->mu);
	rc = mr_nba_snap_load(c, rstamp, cstamp, &s, err);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&n->mu);
	old = n->snap;
	n->snap = s;
	n->snap_checked = mono;
	s->refs++;
	pthread_mutex_unlock(&n->mu);
	if (old)
		mr_nba_snap_put(n, old);
	*out = s;
	return 0;
}

void mr_nba_invalidate(struct mr_nba *n)
{
	struct mr_nba_snap *old;
	struct mr_nba_plans *plans;

	pthread_mutex_lock(&n->mu);
	old = n->snap;
	n->snap = NULL;
	plans = n->plans;
	n->plans = NULL;
	n->next_stamp_check = 0; /* the nightly run's settings may have changed: look at the next tick */
	pthread_mutex_unlock(&n->mu);
	mr_nba_plans_put(n, plans);
	if (old)
		mr_nba_snap_put(n, old);
}

/* ------------------------------------------------------------ compiling */

void mr_nba_compile(struct mr_nba *n, const struct mr_nba_snap *s, int64_t as_of, struct mr_arena *a,
		    struct mr_nba_compiled *out)
{
	out->rules = mr_arena_alloc(a, (size_t)(s->nrules + 1) * sizeof(const struct mr_nba_rule *));
	out->plans = mr_arena_alloc(a, (size_t)(s->nrules + 1) * sizeof(struct mr_eplan *));
	out->n = 0;
	for (int i = 0; i < s->nrules; i++) {
		const struct mr_nba_rule *r = &s->rules[i];
		struct mr_eplan *plan = NULL;
		struct mr_xerr xe;
		struct mr_err err;

		if (!mr_nba_rule_live(r, as_of))
			continue;
		memset(&xe, 0, sizeof(xe));
		if (mr_engine_compile(n->src.engine, r->condition, strlen(r->condition), as_of, a, &plan, &xe, &err) <
			    0 ||
		    mr_eplan_type(plan) != MR_XT_BOOL) {
			/* a tag it names was deleted since: the rule cannot run until it is fixed */
			mr_log_warn("event=nba_rule_skipped rule=%s error=\"%s\"", r->name, xe.col ? xe.msg : err.msg);
			continue;
		}
		out->rules[out->n] = r;
		out->plans[out->n] = plan;
		out->n++;
	}
}

struct mr_eplan *mr_nba_tag_plan(struct mr_nba *n, const char *tag, int64_t as_of, struct mr_arena *a)
{
	struct mr_eplan *plan = NULL;
	struct mr_xerr xe;
	struct mr_err err;

	memset(&xe, 0, sizeof(xe));
	if (mr_engine_compile(n->src.engine, tag, strlen(tag), as_of, a, &plan, &xe, &err) < 0)
		return NULL;
	return mr_eplan_type(plan) == MR_XT_STR ? plan : NULL;
}

/* Drops a reference to plans p (the last frees it, and its snapshot's reference). */
static void mr_nba_plans_put(struct mr_nba *n, struct mr_nba_plans *p)
{
	int last;

	if (!p)
		return;
	pthread_mutex_lock(&n->mu);
	last = --p->refs == 0;
	pthread_mutex_unlock(&n->mu);
	if (last) {
		mr_nba_snap_put(n, p->snap);
		mr_arena_release(&p->a);
		free(p);
	}
}

/*
 * The rules of snapshot s compiled at as_of (given) or now: the shared
 * ones when they were compiled for now less than MR_NBA_PLAN_TTL_US ago.
 * Release with mr_nba_plans_put.
 */
static struct mr_nba_plans *mr_nba_plans_get(struct mr_nba *n, struct mr_nba_snap *s, int64_t as_of)
{
	int64_t mono = mr_mono_us();
	struct mr_nba_plans *p = NULL, *old = NULL;

	pthread_mutex_lock(&n->mu);
	if (!as_of && n->plans && n->plans->snap == s && mono - n->plans->made < MR_NBA_PLAN_TTL_US) {
		p = n->plans;
		p->refs++;
	}
	else
		s->refs++; /* the new plans' reference */
	pthread_mutex_unlock(&n->mu);
	if (p)
		return p;
	p = mr_calloc(1, sizeof(*p));
	p->refs = 1;
	p->snap = s;
	p->as_of = as_of ? as_of : mr_now_us();
	p->made = mono;
	mr_arena_init(&p->a);
	mr_nba_compile(n, s, p->as_of, &p->a, &p->cr);
	p->tag = mr_arena_alloc(&p->a, (size_t)(p->cr.n + 1) * sizeof(struct mr_eplan *));
	for (int i = 0; i < p->cr.n; i++) {
		const char *tag = p->cr.rules[i]->content.topic_tag;

		p->tag[i] = tag ? mr_nba_tag_plan(n, tag, p->as_of, &p->a) : NULL;
	}
	if (as_of)
		return p;
	pthread_mutex_lock(&n->mu);
	old = n->plans;
	n->plans = p;
	p->refs++;
	pthread_mutex_unlock(&n->mu);
	mr_nba_plans_put(n, old);
	return p;
}

int mr_nba_event_channel(int channel)
{
	switch (channel) {
	case MR_CH_PHONE:
		return MR_NC_PHONE;
	case MR_CH_WECHAT:
		return MR_NC_WECHAT;
	case MR_CH_WECOM:
		return MR_NC_WECOM;
	case MR_CH_EMAIL:
		return MR_NC_EMAIL;
	case MR_CH_SMS:
		return MR_NC_SMS;
	case MR_CH_VISIT:
		return MR_NC_VISIT;
	default:
		return 0;
	}
}

void mr_nba_task_kind(const char *type, const char *channel, int *action, int *nba_channel)
{
	*action = mr_nba_action_parse(type);
	*nba_channel = channel ? mr_nba_channel_parse(channel) : 0;
	if (!*nba_channel)
		*nba_channel = mr_nba_default_channel(*action);
}

/* ------------------------------------------------------------ one doctor's facts */

/* The facts the guards need about doctor hcp_id at as_of, from the store and the projections. */
struct mr_nba_one {
	struct mr_nba_facts f;
	const char *ext;
	const char *experiment, *arm;  /* the running experiment (and arm) the doctor is in, if any */
	int arm_kind;                  /* that arm's enum mr_exp_kind */
	int by;                        /* who ranks the doctor's candidates: MR_NBA_BY_... */
	const char *note;              /* the learned policy fell back to the rules: why */
	/* the rules' last tasks for the doctor */
	const char **last_rule;
	int64_t *last_at;
	int nlast;
};

static int64_t mr_nba_one_last(void *arg, const char *rule)
{
	struct mr_nba_one *o = arg;

	for (int i = 0; i < o->nlast; i++) {
		if (strcmp(o->last_rule[i], rule) == 0)
			return o->last_at[i];
	}
	return 0;
}

static int mr_nba_one_sql(struct mr_conn *c, int64_t hcp_id, struct mr_arena *a, struct mr_nba_one *o,
			  struct mr_err *err)
{
	struct mr_val v[3] = { mr_v_int(hcp_id), mr_v_int(o->f.as_of), mr_v_int(o->f.as_of) };
	struct mr_rows *r = NULL;
	int rc = mr_conn_query(c, "SELECT a.role, a.rep_id FROM alignments a JOIN reps r ON r.id = a.rep_id"
			       " WHERE a.hcp_id = ? AND a.deleted_at IS NULL AND r.deleted_at IS NULL"
			       " AND a.valid_from <= ? AND (a.valid_to IS NULL OR a.valid_to > ?) ORDER BY a.id",
			       v, 3, &r, err);

	while (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		int role = mr_align_role_parse(mr_rows_text(r, 0));
		int nr = role == MR_AL_FIELD_OWNER ? MR_NR_FIELD : role == MR_AL_INSIDE_OWNER ? MR_NR_INSIDE
							: role == MR_AL_MSL	   ? MR_NR_MSL
										   : 0;

		rc = 0;
		if (nr && !o->f.owner[nr])
			o->f.owner[nr] = mr_rows_int(r, 1);
	}
	mr_rows_close(r);
	r = NULL;
	if (rc == 0)
		rc = mr_conn_query(c, "SELECT DISTINCT kind FROM hcp_identities WHERE hcp_id = ?", v, 1, &r, err);
	while (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		const char *kind = mr_rows_text(r, 0);

		rc = 0;
		if (strncmp(kind, "wechat_", 7) == 0)
			o->f.identities |= 1u << MR_NC_WECHAT;
		else if (strncmp(kind, "wecom_", 6) == 0)
			o->f.identities |= 1u << MR_NC_WECOM;
	}
	mr_rows_close(r);
	r = NULL;
	if (rc == 0)
		rc = mr_conn_query(c, "SELECT type, channel FROM tasks WHERE hcp_id = ? AND status IN ('open',"
				   " 'in_progress')", v, 1, &r, err);
	while (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		int action, ch;

		rc = 0;
		mr_nba_task_kind(mr_rows_text(r, 0), mr_rows_isnull(r, 1) ? NULL : mr_rows_text(r, 1), &action, &ch);
		o->f.open_tasks++;
		o->f.open_by_action[action]++;
		o->f.open_by_channel[ch]++;
	}
	mr_rows_close(r);
	r = NULL;
	if (rc == 0)
		rc = mr_conn_query(c, "SELECT source_ref, MAX(created_at) FROM tasks WHERE hcp_id = ? AND source"
				   " IN ('rule', 'model', 'experiment') AND source_ref IS NOT NULL GROUP BY source_ref", v, 1,
				   &r, err);
	o->last_rule = mr_arena_alloc(a, 64 * sizeof(*o->last_rule));
	o->last_at = mr_arena_alloc(a, 64 * sizeof(*o->last_at));
	while (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		rc = 0;
		if (o->nlast == 64)
			continue;
		o->last_rule[o->nlast] = mr_arena_strdup(a, mr_rows_text(r, 0));
		o->last_at[o->nlast++] = mr_rows_int(r, 1);
	}
	mr_rows_close(r);
	return rc < 0 ? rc : 0;
}

/* Consents from the profile, and the outbound contacts of the last 7 days from the event index. */
void mr_nba_facts_contacts(struct mr_evindex *ev, uint32_t id, struct mr_nba_facts *f)
{
	uint32_t cnt = 0;
	const struct mr_evitem *it = mr_evindex_items(ev, id, &cnt);
	int64_t from = f->as_of - 7 * MR_NBA_DAY_US;

	for (uint32_t i = cnt; i-- > 0;) {
		if (it[i].ts > f->as_of)
			continue;
		if (it[i].ts <= from)
			break;
		if (!it[i].rep || it[i].channel == MR_CH_CONTENT)
			continue;
		f->contacts_7d++;
		f->channel_7d[mr_nba_event_channel(it[i].channel)]++;
	}
}

static void mr_nba_one_projections(struct mr_nba *n, uint32_t id, struct mr_nba_facts *f)
{
	uint32_t ids[MR_NBA_CLUSTER_MAX];
	int nids = mr_hcpdir_cluster(n->src.dir, id, ids, MR_NBA_CLUSTER_MAX);

	mr_profile_read_begin(n->src.profile);
	mr_nba_facts_consents(n->src.profile, id, f);
	mr_profile_read_end(n->src.profile);
	mr_evindex_read_begin(n->src.ev);
	if (nids == 0)
		mr_nba_facts_contacts(n->src.ev, id, f);
	for (int k = 0; k < nids; k++) /* the doctor's merged records' contacts are the doctor's */
		mr_nba_facts_contacts(n->src.ev, ids[k], f);
	mr_evindex_read_end(n->src.ev);
}

/* The running experiments the doctor (or its owners, for unit rep) is in; a holdout arm blocks everything. */
static int mr_nba_one_experiments(struct mr_nba *n, struct mr_conn *c, struct mr_nba_one *o, struct mr_arena *a,
				  struct mr_err *err)
{
	struct mr_exp_src src = { n->src.store, n->src.engine, n->src.dir, n->src.ev };
	struct mr_experiment *xs = NULL;
	int nx = 0;
	int rc = mr_experiment_list(c, MR_EXP_RUNNING, a, &xs, &nx, err);

	for (int i = 0; rc == 0 && i < nx; i++) {
		const struct mr_experiment *x = &xs[i];

		for (int role = x->unit == MR_EXP_HCP ? 0 : 1; rc == 0 && role < MR_NR_COUNT; role++) {
			char buf[80];
			const char *ext = role == 0 ? o->ext
						    : o->f.owner[role] ? mr_hcpdir_rep_ext(n->src.dir, o->f.owner[role], buf,
											   sizeof(buf))
								       : NULL;
			uint32_t bucket = 0;
			int arm = 0, in_pop = 0;

			if (!ext)
				continue;
			rc = mr_experiment_assignment(&src, c, x, ext, o->f.as_of, a, &bucket, &arm, &in_pop, err);
			if (rc == MR_ENOTFOUND || rc == MR_EUNPROC)
				rc = 0;
			if (rc < 0 || !in_pop)
				continue;
			if (!o->experiment) {
				o->experiment = x->name;
				o->arm = x->arms[arm].name;
				o->arm_kind = x->arms[arm].kind;
			}
			if (x->arms[arm].kind == MR_EXP_HOLDOUT) {
				o->f.holdout = x->name;
				o->experiment = x->name;
				o->arm = x->arms[arm].name;
				o->arm_kind = MR_EXP_HOLDOUT;
			}
			if (x->unit == MR_EXP_HCP)
				break;
		}
	}
	return rc;
}

/* ------------------------------------------------------------ the learned policy */

int mr_nba_model_channel(const struct mr_nba_rule *rule)
{
	static const int by_channel[MR_NC_COUNT] = {
		[MR_NC_NONE] = -1, [MR_NC_PHONE] = MR_MC_PHONE, [MR_NC_WECHAT] = MR_MC_WECHAT,
		[MR_NC_WECOM] = MR_MC_WECOM, [MR_NC_EMAIL] = MR_MC_EMAIL, [MR_NC_SMS] = -1, [MR_NC_VISIT] = -1,
	};

	if (rule->action == MR_NA_MEETING_INVITE)
		return MR_MC_MEETING; /* invitations are answered by registering, whatever carries them */
	return rule->channel > 0 && rule->channel < MR_NC_COUNT ? by_channel[rule->channel] : -1;
}

/* The model channels of mask in words ("phone, wechat") into buf. */
static const char *mr_nba_mask_words(unsigned mask, char *buf, size_t cap)
{
	size_t len = 0;

	buf[0] = 0;
	for (int mc = 0; mc < MR_MC_COUNT && len < cap; mc++) {
		if (mask & (1u << mc))
			len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", mr_model_channel_name(mc));
	}
	return buf;
}

unsigned mr_nba_learned_mask(const struct mr_nba_rule *const *rules, int nc)
{
	unsigned mask = 0;

	for (int i = 0; i < nc; i++) {
		int mc = mr_nba_model_channel(rules[i]);

		if (mc >= 0)
			mask |= 1u << mc;
	}
	return mask;
}

void mr_nba_facts_consents(const struct mr_profile *pf, uint32_t id, struct mr_nba_facts *f)
{
	for (int pu = 0; pu < MR_PP_COUNT; pu++) {
		uint32_t bits = mr_profile_consents_for(pf, id, pu);

		f->consents[pu] = 0;
		for (int ch = 1; ch < MR_NC_COUNT; ch++) {
			int b = mr_profile_consent_of(mr_nba_channel_name(ch));

			if (b >= 0 && (bits & (1u << b)))
				f->consents[pu] |= 1u << ch;
		}
	}
}

int mr_nba_by_arm(int arm_kind)
{
	return arm_kind == MR_EXP_LEARNED ? MR_NBA_BY_MODEL : arm_kind == MR_EXP_RANDOM ? MR_NBA_BY_RANDOM : MR_NBA_BY_RULES;
}

/* A uniform draw over mask's channels × every slot: what a random arm does, and logs, instead of the models. */
static void mr_nba_random_draw(int64_t hcp_id, int64_t as_of, unsigned mask, struct mr_choice *ch)
{
	uint64_t z = mr_model_seed(hcp_id, as_of) + UINT64_C(0x9e3779b97f4a7c15);
	int nch = __builtin_popcount(mask), pick, mc = 0;

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	z ^= z >> 31;
	pick = (int)(z % (uint64_t)(nch * MR_MODEL_SLOTS));
	for (int k = pick / MR_MODEL_SLOTS;; mc++) {
		if ((mask & (1u << mc)) && k-- == 0)
			break;
	}
	ch->mc = mc;
	ch->slot = pick % MR_MODEL_SLOTS;
	ch->probability = 1.0 / (nch * MR_MODEL_SLOTS);
	ch->score.p = NAN;
	snprintf(ch->score.version, sizeof(ch->score.version), "random");
}

int mr_nba_learned_draw(struct mr_models *m, int64_t hcp_id, int64_t as_of, unsigned mask, int random,
			struct mr_choice *ch)
{
	struct mr_err err;

	memset(ch, 0, sizeof(*ch));
	if (!mask)
		return MR_NBA_DRAW_NO_CHANNEL;
	if (random) {
		mr_nba_random_draw(hcp_id, as_of, mask, ch);
		return MR_NBA_DRAW_OK;
	}
	if (!m)
		return MR_NBA_DRAW_NO_MODELS;
	mr_err_clear(&err);
	switch (mr_models_choose(m, hcp_id, as_of, mask, ch, &err)) {
	case 0:
		return MR_NBA_DRAW_OK;
	case MR_ENOTFOUND:
		return MR_NBA_DRAW_NO_ACTIVE;
	default:
		return MR_NBA_DRAW_UNAVAILABLE;
	}
}

void mr_nba_learned_resolve(int drawn, const struct mr_choice *ch, unsigned mask, int random,
			    const struct mr_nba_settings *s, const struct mr_nba_rule *const *rules,
			    const struct mr_nba_verdict *v, int nc, struct mr_nba_mpick *out)
{
	char words[120];

	memset(out, 0, sizeof(*out));
	out->cand = -1;
	out->random = random;
	if (!nc)
		return;
	switch (drawn) {
	case MR_NBA_DRAW_NO_CHANNEL:
		snprintf(out->note, sizeof(out->note), "learned policy: no response model covers %s; ranked by the rules",
			 mr_nba_channel_name(rules[0]->channel));
		return;
	case MR_NBA_DRAW_NO_MODELS:
		snprintf(out->note, sizeof(out->note), "learned policy: no response models are loaded here; ranked by"
			 " the rules");
		return;
	case MR_NBA_DRAW_NO_ACTIVE:
		snprintf(out->note, sizeof(out->note), "learned policy: no active response model for %s; ranked by the"
			 " rules", mr_nba_mask_words(mask, words, sizeof(words)));
		return;
	case MR_NBA_DRAW_UNAVAILABLE:
		snprintf(out->note, sizeof(out->note), "learned policy: the response models are not available yet;"
			 " ranked by the rules");
		return;
	default:
		break;
	}
	out->ch = *ch;
	for (int i = 0; i < nc && out->cand < 0; i++) {
		if (mr_nba_model_channel(rules[i]) == ch->mc)
			out->cand = i;
	}
	if (out->cand < 0) { /* the candidates changed since the draw (the run): the rules rank */
		snprintf(out->note, sizeof(out->note), "learned policy: no candidate is left on %s; ranked by the rules",
			 mr_model_channel_name(ch->mc));
		return;
	}
	out->ok = 1;
	out->start = v[out->cand].start;
	out->end = v[out->cand].end;
	out->in_slot = mr_nba_slot_window(rules[out->cand], s, v[out->cand].start, v[out->cand].end, mr_model_slot_of,
					  ch->slot, &out->start, &out->end);
}

void mr_nba_learned_choose(struct mr_models *m, int64_t hcp_id, int64_t as_of, int random,
			   const struct mr_nba_settings *s, const struct mr_nba_rule *const *rules,
			   const struct mr_nba_verdict *v, int nc, struct mr_nba_mpick *out)
{
	unsigned mask = mr_nba_learned_mask(rules, nc);
	struct mr_choice ch;
	int drawn = nc ? mr_nba_learned_draw(m, hcp_id, as_of, mask, random, &ch) : MR_NBA_DRAW_NO_CHANNEL;

	mr_nba_learned_resolve(drawn, &ch, mask, random, s, rules, v, nc, out);
}

void mr_nba_learned_reasons(const struct mr_nba_mpick *mp, json_t *arr)
{
	const char *wd = mr_model_weekday_name(mp->ch.slot / MR_MODEL_BANDS);
	const char *band = mr_model_band_name(mp->ch.slot % MR_MODEL_BANDS);
	char buf[600];

	if (mp->random) {
		snprintf(buf, sizeof(buf), "random arm: %s on %s %s drawn uniformly (probability %.3f)",
			 mr_model_channel_name(mp->ch.mc), wd, band, mp->ch.probability);
		json_array_append_new(arr, json_string(buf));
		if (!mp->in_slot) {
			snprintf(buf, sizeof(buf), "the rule's window holds no allowed hour on %s %s: the rule's window is"
				 " kept", wd, band);
			json_array_append_new(arr, json_string(buf));
		}
		return;
	}
	if (mp->ch.score.reason[0])
		snprintf(buf, sizeof(buf), "model %s: %s", mp->ch.score.version, mp->ch.score.reason);
	else
		snprintf(buf, sizeof(buf), "model %s: response probability %.2f", mp->ch.score.version, mp->ch.score.p);
	json_array_append_new(arr, mr_json_string_safe(buf));
	snprintf(buf, sizeof(buf), "learned policy: Thompson sampling chose %s on %s %s (response probability %.2f,"
		 " chosen with probability %.0f%%)", mr_model_channel_name(mp->ch.mc), wd, band, mp->ch.score.p,
		 mp->ch.probability * 100.0);
	json_array_append_new(arr, json_string(buf));
	if (!mp->in_slot) {
		snprintf(buf, sizeof(buf), "the rule's window holds no allowed hour on %s %s: the rule's window is kept",
			 wd, band);
		json_array_append_new(arr, json_string(buf));
	}
}

/* ------------------------------------------------------------ serving */

/* One served item; mp: the learned policy's choice (NULL: the rules'). */
static json_t *mr_nba_item_json(struct mr_nba *n, const struct mr_nba_rule *r, const struct mr_nba_verdict *v,
				const struct mr_nba_settings *s, const struct mr_nba_one *o,
				const struct mr_nba_mpick *mp)
{
	char start[40], end[40], rep[80];
	json_t *reasons = json_array(), *item;

	mr_time_format(v->start, start, sizeof(start));
	mr_time_format(v->end, end, sizeof(end));
	if (mp)
		mr_nba_learned_reasons(mp, reasons);
	mr_nba_reasons(r, v, s, reasons);
	if (!mp && o->note)
		json_array_append_new(reasons, mr_json_string_safe(o->note));
	if (o->experiment) {
		char buf[200];

		snprintf(buf, sizeof(buf), "experiment %s, arm %s", o->experiment, o->arm);
		json_array_append_new(reasons, mr_json_string_safe(buf));
	}
	item = json_pack("{s:s, s:s, s:o, s:o, s:{s:s, s:s}, s:f, s:s, s:n, s:s, s:s, s:o, s:o}", "action",
			 mr_nba_action_name(r->action), "channel", mr_nba_channel_name(r->channel), "content",
			 v->content ? json_string(v->content) : json_null(), "topic",
			 v->topic ? json_string(v->topic) : json_null(), "window", "start", start, "end", end, "score",
			 v->score, "source", "rule", "model_version", "rule", r->name, "owner_role",
			 mr_nba_role_name(v->role), "assignee",
			 mr_hcpdir_rep_ext(n->src.dir, v->assignee, rep, sizeof(rep))
				 ? json_string(rep)
				 : json_null(),
			 "reasons", reasons);
	json_object_set_new(item, "propensity", json_real(mp ? mp->ch.probability : 1.0));
	if (mp) {
		json_object_set_new(item, "source", json_string(mp->random ? "experiment" : "model"));
		json_object_set_new(item, "model_version", json_string(mp->ch.score.version));
		if (!mp->random)
			json_object_set_new(item, "score", json_real(mp->ch.score.p));
		json_object_set_new(item, "slot", json_pack("{s:i, s:s, s:s}", "slot", mp->ch.slot, "weekday",
							    mr_model_weekday_name(mp->ch.slot / MR_MODEL_BANDS), "band",
							    mr_model_band_name(mp->ch.slot % MR_MODEL_BANDS)));
	}
	json_object_set_new(item, "policy", json_string(o->by == MR_NBA_BY_MODEL ? "learned"
							: o->by == MR_NBA_BY_RANDOM ? "random" : "rules"));
	if (o->experiment)
		json_object_set_new(item, "experiment", json_pack("{s:s, s:s}", "name", o->experiment, "arm", o->arm));
	return item;
}

/* Queues a served suggestion for the recommendation log. */
static void mr_nba_queue(struct mr_nba *n, const struct mr_nba_logrow *row)
{
	struct mr_nba_logrow *q;

	pthread_mutex_lock(&n->qmu);
	if (n->qn == n->qcap) {
		n->qcap = n->qcap ? n->qcap * 2 : 64;
		n->q = mr_realloc(n->q, (size_t)n->qcap * sizeof(*n->q));
	}
	q = &n->q[n->qn++];
	*q = *row;
#define MR_NBA_DUP(f) q->f = q->f ? mr_arena_strdup(&n->qa, q->f) : NULL
	MR_NBA_DUP(source);
	MR_NBA_DUP(rule);
	MR_NBA_DUP(model_version);
	MR_NBA_DUP(action);
	MR_NBA_DUP(channel);
	MR_NBA_DUP(content);
	MR_NBA_DUP(topic);
	MR_NBA_DUP(experiment);
	MR_NBA_DUP(arm);
	MR_NBA_DUP(via);
#undef MR_NBA_DUP
	pthread_mutex_unlock(&n->qmu);
}

/* The doctor's value of rule i's topic tag (or NULL). */
static const char *mr_nba_tag_topic(struct mr_nba *n, const struct mr_nba_plans *p, int i, int64_t hcp_id,
				    struct mr_arena *a)
{
	struct mr_xval tv = { 0 };
	uint32_t id = (uint32_t)hcp_id;
	struct mr_err err;

	if (!p->tag[i])
		return NULL;
	if (mr_engine_values(n->src.engine, p->tag[i], &id, 1, a, &tv, NULL, &err) == 0 && tv.kind == MR_XV_STR)
		return tv.str;
	return NULL;
}

/* 1 when items already hold the same action, channel and content. */
static int mr_nba_dup(json_t *items, const struct mr_nba_rule *r, const struct mr_nba_verdict *v)
{
	int dup = 0;

	for (size_t j = 0; j < json_array_size(items); j++) {
		json_t *it = json_array_get(items, j);
		const char *ic = json_string_value(json_object_get(it, "content"));

		dup |= strcmp(json_string_value(json_object_get(it, "action")), mr_nba_action_name(r->action)) == 0 &&
		       strcmp(json_string_value(json_object_get(it, "channel")), mr_nba_channel_name(r->channel)) == 0 &&
		       ((!ic && !v->content) || (ic && v->content && strcmp(ic, v->content) == 0));
	}
	return dup;
}

/* Serves rule r's verdict v (mp: chosen by the learned policy): the item, the plan, the log row. */
static void mr_nba_serve(struct mr_nba *n, const struct mr_nba_plans *p, const struct mr_nba_rule *r,
			 const struct mr_nba_verdict *v, struct mr_nba_one *o, const struct mr_nba_ask *q,
			 const struct mr_nba_mpick *mp, json_t *items)
{
	mr_nba_plan(&o->f, r);
	json_array_append_new(items, mr_nba_item_json(n, r, v, &p->snap->set, o, mp));
	if (q->log) {
		struct mr_nba_logrow row = { 0 };

		row.hcp_id = q->hcp_id;
		row.source = mp ? (mp->random ? "experiment" : "model") : "rule";
		row.rule = r->name;
		row.model_version = mp ? mp->ch.score.version : NULL;
		row.action = mr_nba_action_name(r->action);
		row.channel = mr_nba_channel_name(r->channel);
		row.content = v->content;
		row.topic = v->topic;
		row.window_start = v->start;
		row.window_end = v->end;
		row.score = mp && !mp->random ? mp->ch.score.p : v->score;
		row.propensity = mp ? mp->ch.probability : 1.0;
		row.experiment = o->experiment;
		row.arm = o->arm;
		row.as_of = p->as_of;
		row.served_at = mr_now_us();
		row.via = "serve";
		mr_nba_queue(n, &row);
	}
}

/*
 * The learned policy's pick for the doctor: the candidates that pass the
 * guards as they stand (nothing planned yet), and Thompson sampling over
 * their channels. *chosen gets the compiled rule's index (-1: none; then
 * o->note says why the rules rank) and *cv its verdict, the window moved
 * into the slot drawn.
 */
static void mr_nba_learned_pick(struct mr_nba *n, const struct mr_nba_plans *p, const struct mr_xval *vals,
				struct mr_nba_one *o, const struct mr_nba_ask *q, struct mr_arena *a,
				struct mr_nba_mpick *mp, int *chosen, struct mr_nba_verdict *cv)
{
	const struct mr_nba_snap *s = p->snap;
	const struct mr_nba_compiled *cr = &p->cr;
	const struct mr_nba_rule **rules = mr_arena_alloc(a, (size_t)(cr->n + 1) * sizeof(const struct mr_nba_rule *));
	struct mr_nba_verdict *v = mr_arena_alloc(a, (size_t)(cr->n + 1) * sizeof(*v));
	int *idx = mr_arena_alloc(a, (size_t)(cr->n + 1) * sizeof(*idx));
	int nc = 0;

	*chosen = -1;
	for (int i = 0; i < cr->n; i++) {
		if (vals[i].kind != MR_XV_BOOL || vals[i].num == 0)
			continue;
		mr_nba_guard(cr->rules[i], &s->set, &o->f, &s->cat, mr_nba_tag_topic(n, p, i, q->hcp_id, a),
			     mr_nba_one_last, o, &v[nc]);
		if (v[nc].block != MR_NB_OK)
			continue;
		rules[nc] = cr->rules[i];
		idx[nc++] = i;
	}
	mr_nba_learned_choose(mr_nba_models(n), q->hcp_id, p->as_of, o->by == MR_NBA_BY_RANDOM, &s->set, rules, v, nc,
			      mp);
	if (!mp->ok) {
		o->note = mp->note[0] ? mr_arena_strdup(a, mp->note) : NULL;
		return;
	}
	*chosen = idx[mp->cand];
	*cv = v[mp->cand];
	cv->start = mp->start;
	cv->end = mp->end;
}

/*
 * The candidates of the rules whose condition holds for the doctor, judged
 * in order (see mr_nba_recommend). Under the learned policy the models'
 * pick comes first; the rest follow in the rules' order.
 */
static void mr_nba_judge(struct mr_nba *n, const struct mr_nba_plans *p, const struct mr_xval *vals,
			 struct mr_nba_one *o, const struct mr_nba_ask *q, struct mr_arena *a, json_t *items,
			 json_t *blocked)
{
	const struct mr_nba_snap *s = p->snap;
	const struct mr_nba_compiled *cr = &p->cr;
	int k = q->k > 0 ? q->k : s->set.k_default, got = 0, chosen = -1;
	struct mr_nba_mpick mp;

	if (o->by != MR_NBA_BY_RULES) {
		struct mr_nba_verdict cv;

		mr_nba_learned_pick(n, p, vals, o, q, a, &mp, &chosen, &cv);
		if (chosen >= 0) {
			mr_nba_serve(n, p, cr->rules[chosen], &cv, o, q, &mp, items);
			got++;
		}
	}
	for (int i = 0; i < cr->n && got < k; i++) {
		const struct mr_nba_rule *r = cr->rules[i];
		struct mr_nba_verdict v;

		if (i == chosen || vals[i].kind != MR_XV_BOOL || vals[i].num == 0)
			continue;
		mr_nba_guard(r, &s->set, &o->f, &s->cat, mr_nba_tag_topic(n, p, i, q->hcp_id, a), mr_nba_one_last, o,
			     &v);
		if (v.block != MR_NB_OK) {
			if (blocked)
				json_array_append_new(blocked, json_pack("{s:s, s:s, s:s, s:s, s:o}", "rule", r->name,
									  "action", mr_nba_action_name(r->action),
									  "channel", mr_nba_channel_name(r->channel),
									  "reason_code", mr_nba_block_code(v.block),
									  "reason", mr_json_string_safe(v.reason)));
			continue;
		}
		if (mr_nba_dup(items, r, &v))
			continue;
		mr_nba_serve(n, p, r, &v, o, q, NULL, items);
		got++;
	}
}

int mr_nba_recommend(struct mr_nba *n, struct mr_conn *c, const struct mr_nba_ask *q, struct mr_arena *a,
		     json_t **out, struct mr_err *err)
{
	struct mr_nba_snap *s = NULL;
	struct mr_nba_plans *p;
	struct mr_nba_one o;
	struct mr_xval *vals;
	uint32_t id = (uint32_t)q->hcp_id;
	json_t *items, *blocked;
	int rc;

	*out = NULL;
	if (!mr_engine_ready(n->src.engine)) {
		mr_err_set(err, MR_EUNAVAIL, "the server is still loading its indexes; try again shortly");
		err->retry_after_s = 1;
		return MR_EUNAVAIL;
	}
	memset(&o, 0, sizeof(o));
	rc = mr_nba_snap_get(n, c, &s, err);
	if (rc < 0)
		return rc;
	p = mr_nba_plans_get(n, s, q->as_of);
	mr_nba_snap_put(n, s); /* the plans hold theirs */
	o.f.as_of = p->as_of;
	{
		struct mr_val v = mr_v_int(q->hcp_id);
		struct mr_rows *r = NULL;

		rc = mr_conn_query(c, "SELECT ext_id FROM hcps WHERE id = ?", &v, 1, &r, err);
		if (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
			o.ext = mr_arena_strdup(a, mr_rows_text(r, 0));
			rc = 0;
		} else if (rc == 0) {
			rc = mr_err_set(err, MR_ENOTFOUND, "HCP %lld does not exist", (long long)q->hcp_id);
		}
		mr_rows_close(r);
	}
	if (rc == 0)
		rc = mr_nba_one_sql(c, q->hcp_id, a, &o, err);
	if (rc == 0)
		rc = mr_nba_one_experiments(n, c, &o, a, err);
	if (rc < 0) {
		mr_nba_plans_put(n, p);
		return rc;
	}
	o.by = o.experiment ? mr_nba_by_arm(o.arm_kind)
			    : p->snap->set.policy == MR_NP_LEARNED ? MR_NBA_BY_MODEL : MR_NBA_BY_RULES;
	mr_nba_one_projections(n, id, &o.f);
	vals = mr_arena_alloc(a, (size_t)(p->cr.n + 1) * sizeof(*vals));
	memset(vals, 0, (size_t)(p->cr.n + 1) * sizeof(*vals));
	if (p->cr.n) {
		struct mr_xval **outs = mr_arena_alloc(a, (size_t)p->cr.n * sizeof(struct mr_xval *));

		for (int i = 0; i < p->cr.n; i++)
			outs[i] = &vals[i];
		rc = mr_engine_values_many(n->src.engine, (const struct mr_eplan *const *)p->cr.plans, p->cr.n, &id, 1,
					   a, outs, NULL, err);
	}
	items = json_array();
	blocked = q->explain ? json_array() : NULL;
	if (rc == 0)
		mr_nba_judge(n, p, vals, &o, q, a, items, blocked);
	if (rc < 0) {
		mr_nba_plans_put(n, p);
		json_decref(items);
		json_decref(blocked);
		return rc;
	}
	*out = json_pack("{s:s, s:o}", "hcp", o.ext, "items", items);
	mr_json_set_time(*out, "as_of", p->as_of);
	mr_nba_plans_put(n, p);
	if (blocked)
		json_object_set_new(*out, "blocked", blocked);
	return 0;
}

/* ------------------------------------------------------------ the log and the tick */

struct mr_nba_flush_job {
	struct mr_nba_logrow *rows;
	int n;
};

static int mr_nba_flush_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_nba_flush_job *j = arg;

	return mr_nba_log_add_many(c, j->rows, j->n, err);
}

int mr_nba_flush(struct mr_nba *n, struct mr_err *err)
{
	struct mr_nba_flush_job j;
	struct mr_arena a;
	int rc;

	/*
	 * The whole flush under flush_mu: a log reader that flushes first must not find the queue emptied
	 * by the tick's flush whose rows are not committed yet, and read the log without them.
	 */
	pthread_mutex_lock(&n->flush_mu);
	pthread_mutex_lock(&n->qmu);
	j.rows = n->q;
	j.n = n->qn;
	a = n->qa;
	n->q = NULL;
	n->qn = n->qcap = 0;
	mr_arena_init(&n->qa);
	pthread_mutex_unlock(&n->qmu);
	rc = j.n ? mr_nba_write(n, mr_nba_flush_fn, &j, err) : 0;
	pthread_mutex_unlock(&n->flush_mu);
	free(j.rows);
	mr_arena_release(&a);
	return rc;
}

struct mr_nba_claim {
	const char *night;
	int mine;
};

static int mr_nba_claim_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_nba_claim *j = arg;

	return mr_nba_night_claim(c, j->night, mr_now_us(), &j->mine, err);
}

/* 1 when another node has claimed night's run (or the claim could not be written). */
static int mr_nba_night_claimed(struct mr_nba *n, const char *night)
{
	struct mr_nba_claim j = { night, 0 };
	struct mr_err err;

	mr_err_clear(&err);
	if (mr_nba_write(n, mr_nba_claim_fn, &j, &err) < 0) {
		mr_log_info("event=nba_nightly_skipped night=%s reason=\"%s\"", night, err.msg);
		return 1;
	}
	return !j.mine;
}

/* The nightly run, when the settings turn it on, once per Asia/Shanghai day at or after its hour. */
static void mr_nba_nightly(struct mr_nba *n)
{
	int64_t now = mr_now_us(), mono = mr_mono_us();
	int64_t local = now + 8 * MR_NBA_HOUR_US;
	int hour = (int)((local % MR_NBA_DAY_US) / MR_NBA_HOUR_US);
	struct mr_nba_snap *s = NULL;
	struct mr_nba_run_opts o;
	struct mr_conn *c = NULL;
	struct mr_err err;
	json_t *res = NULL;
	char day[11];
	int on = 0, at = 0;

	pthread_mutex_lock(&n->mu);
	on = mono >= n->next_stamp_check;
	if (on)
		n->next_stamp_check = mono + 60 * MR_US_PER_S;
	pthread_mutex_unlock(&n->mu);
	if (!on || !mr_engine_ready(n->src.engine))
		return;
	mr_segment_day(now, day);
	if (strcmp(day, n->last_night) == 0)
		return;
	mr_err_clear(&err);
	if (mr_store_acquire(n->src.store, &c, &err) < 0)
		return;
	if (mr_nba_snap_get(n, c, &s, &err) == 0) {
		on = s->set.nightly;
		at = s->set.nightly_hour;
		mr_nba_snap_put(n, s);
	}
	mr_store_release(n->src.store, c);
	if (!on || hour < at)
		return;
	snprintf(n->last_night, sizeof(n->last_night), "%s", day);
	if (mr_nba_night_claimed(n, day))
		return; /* another node runs it (or did) */
	memset(&o, 0, sizeof(o));
	if (mr_nba_run(n, &o, &res, &err) < 0) {
		mr_log_warn("event=nba_nightly_failed error=\"%s\"", err.msg);
		return;
	}
	mr_log_info("event=nba_nightly tasks=%lld took_ms=%.0f",
		    (long long)json_integer_value(json_object_get(res, "tasks_created")),
		    json_number_value(json_object_get(res, "took_ms")));
	json_decref(res);
}

void mr_nba_tick(struct mr_nba *n)
{
	struct mr_err err;

	mr_err_clear(&err);
	if (mr_nba_flush(n, &err) < 0)
		mr_log_warn("event=nba_log_failed error=\"%s\"", err.msg);
	mr_nba_nightly(n);
}
