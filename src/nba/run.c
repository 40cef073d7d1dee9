/*
 * The batch run (see nba.h's mr_nba_run): every live rule's condition is
 * one segment pass over all doctors (mr_engine_select), the facts the
 * guards need are gathered for all candidates at once — consents from the
 * profile, owners from the directory's alignments, identities, open tasks
 * and the rules' last tasks from one query each, the last 7 days' contacts
 * from the event index, holdouts from the running experiments' units —
 * and each doctor's candidates are judged in rule order, as serving does
 * (the learned policy's doctors with the models' pick first: their draws
 * are made beforehand, on two threads, outside the read spans), before the
 * tasks are created in one transaction.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/time.h"
#include "engine/evindex.h"
#include "engine/hcpdir.h"
#include "engine/profile.h"
#include "experiments/experiments.h"
#include "nba/nba_int.h"
#include "tasks/task.h"

/* A (doctor, rule) whose condition holds. */
struct mr_nba_cand {
	uint32_t hcp;
	int rule;                    /* index into the compiled rules */
	const char *tag_topic;
};

/* A rule's last task for a doctor. */
struct mr_nba_last {
	uint32_t hcp;
	const char *rule;
	int64_t at;
};

/* An accepted suggestion. */
struct mr_nba_pick {
	uint32_t hcp;
	const struct mr_nba_rule *rule;
	struct mr_nba_verdict v;
	const char *reason;
	const char *experiment, *arm;
	const char *model_version;   /* the learned policy's pick: its model (NULL: the rules'; "random": a random arm's) */
	double mscore, propensity;   /* its response probability, the Thompson probability */
	int random;                  /* drawn uniformly by a random arm */
};

/* Everything the run knows, by HCP record id (arrays of nh). */
struct mr_nba_world {
	uint32_t nh;
	int64_t as_of;
	uint32_t *owner[MR_NR_COUNT];
	uint8_t *ident;
	uint8_t *open_total;
	uint8_t (*open_action)[MR_NA_COUNT];
	uint8_t (*open_channel)[MR_NC_COUNT];
	struct mr_nba_last *last;
	size_t nlast;
	const char **holdout;        /* by doctor */
	const char **exp, **arm;     /* by doctor: the running experiment it is in */
	int8_t *kind;                /* by doctor: that arm's enum mr_exp_kind, -1: none */
	const char **rep_holdout;    /* by rep id (nreps) */
	int8_t *rep_kind;            /* by rep id: the arm kind of the rep's running experiment, -1: none */
	uint32_t *merged_head;       /* by doctor: the first record merged into it (directly or not), 0: none */
	uint32_t *merged_next;       /* by record: the next record merged into the same doctor, 0: none */
	uint32_t nreps;
	/* the doctor being judged, for the last-task callback */
	uint32_t cur;
	struct mr_nba_win *win;      /* each compiled rule's window at as_of */
};

static int mr_nba_last_cmp(const void *pa, const void *pb)
{
	const struct mr_nba_last *a = pa, *b = pb;

	return (a->hcp > b->hcp) - (a->hcp < b->hcp);
}

static int64_t mr_nba_world_last(void *arg, const char *rule)
{
	struct mr_nba_world *w = arg;
	size_t lo = 0, hi = w->nlast;
	int64_t at = 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (w->last[mid].hcp < w->cur)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < w->nlast && w->last[i].hcp == w->cur; i++) {
		if (strcmp(w->last[i].rule, rule) == 0 && w->last[i].at > at)
			at = w->last[i].at;
	}
	return at;
}

static void mr_nba_progress(const struct mr_nba_run_opts *o, const char *stage, int64_t done, int64_t total)
{
	if (o->progress)
		o->progress(o->progress_arg, stage, done, total);
}

/* Owners from the directory's alignments in force at as_of (the lowest alignment id of each role). */
static int mr_nba_world_owners(struct mr_nba *n, struct mr_nba_world *w, struct mr_err *err)
{
	struct mr_hcpdir_align *al = NULL;
	size_t nal = 0;

	for (int role = 1; role < MR_NR_COUNT; role++)
		w->owner[role] = mr_calloc(w->nh, sizeof(uint32_t));
	if (!mr_hcpdir_alignments(n->src.dir, w->as_of, &al, &nal)) {
		mr_err_set(err, MR_EUNAVAIL, "the server is still loading its indexes; try again shortly");
		err->retry_after_s = 1;
		return MR_EUNAVAIL;
	}
	for (size_t i = 0; i < nal; i++) {
		int role = al[i].role == MR_AL_FIELD_OWNER ? MR_NR_FIELD : al[i].role == MR_AL_INSIDE_OWNER ? MR_NR_INSIDE
									 : al[i].role == MR_AL_MSL ? MR_NR_MSL
												   : 0;

		if (role && al[i].hcp < w->nh && !w->owner[role][al[i].hcp])
			w->owner[role][al[i].hcp] = al[i].rep;
		if (al[i].rep >= w->nreps)
			w->nreps = al[i].rep + 1;
	}
	free(al);
	return 0;
}

/* The doctors' WeChat and WeCom identities, as bits by doctor. */
static int mr_nba_world_identities(struct mr_conn *c, struct mr_nba_world *w, struct mr_err *err)
{
	struct mr_rows *r = NULL;
	int rc = mr_conn_query(c, "SELECT hcp_id, kind FROM hcp_identities WHERE kind LIKE 'wechat%' OR kind LIKE 'wecom%'",
			       NULL, 0, &r, err);

	w->ident = mr_calloc(w->nh, 1);
	while (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		int64_t h = mr_rows_int(r, 0);
		int ch = strncmp(mr_rows_text(r, 1), "wecom", 5) == 0 ? MR_NC_WECOM : MR_NC_WECHAT;

		rc = 0;
		if (h > 0 && h < w->nh)
			w->ident[h] |= (uint8_t)(1u << ch);
	}
	mr_rows_close(r);
	return rc < 0 ? rc : 0;
}

/* The open tasks (open or in progress) counted by doctor: all, by action, by channel. */
static int mr_nba_world_open(struct mr_conn *c, struct mr_nba_world *w, struct mr_err *err)
{
	struct mr_rows *r = NULL;
	int rc = mr_conn_query(c, "SELECT hcp_id, type, channel FROM tasks WHERE status IN ('open', 'in_progress')",
			       NULL, 0, &r, err);

	w->open_total = mr_calloc(w->nh, 1);
	w->open_action = mr_calloc(w->nh, sizeof(*w->open_action));
	w->open_channel = mr_calloc(w->nh, sizeof(*w->open_channel));
	while (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		int64_t h = mr_rows_int(r, 0);
		int action, ch;

		rc = 0;
		if (h <= 0 || h >= w->nh)
			continue;
		mr_nba_task_kind(mr_rows_text(r, 1), mr_rows_isnull(r, 2) ? NULL : mr_rows_text(r, 2), &action, &ch);
		if (w->open_total[h] < 255)
			w->open_total[h]++;
		if (w->open_action[h][action] < 255)
			w->open_action[h][action]++;
		if (w->open_channel[h][ch] < 255)
			w->open_channel[h][ch]++;
	}
	mr_rows_close(r);
	return rc < 0 ? rc : 0;
}

/* Each rule's last task per doctor within the longest repeat frequency, sorted by doctor. */
static int mr_nba_world_last_tasks(struct mr_conn *c, struct mr_nba_world *w, struct mr_arena *a, struct mr_err *err)
{
	struct mr_val v = mr_v_int(w->as_of - MR_NBA_DAYS_MAX * MR_NBA_DAY_US);
	struct mr_rows *r = NULL;
	size_t cap = 1024;
	int rc = mr_conn_query(c, "SELECT hcp_id, source_ref, MAX(created_at) FROM tasks WHERE source IN"
			       " ('rule', 'model', 'experiment') AND source_ref IS NOT NULL AND created_at > ?"
			       " GROUP BY hcp_id, source_ref",
			       &v, 1, &r, err);

	w->last = mr_malloc(cap * sizeof(*w->last));
	while (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		rc = 0;
		if (w->nlast == cap) {
			cap *= 2;
			w->last = mr_realloc(w->last, cap * sizeof(*w->last));
		}
		w->last[w->nlast].hcp = (uint32_t)mr_rows_int(r, 0);
		w->last[w->nlast].rule = mr_arena_strdup(a, mr_rows_text(r, 1));
		w->last[w->nlast].at = mr_rows_int(r, 2);
		w->nlast++;
	}
	mr_rows_close(r);
	qsort(w->last, w->nlast, sizeof(*w->last), mr_nba_last_cmp);
	return rc < 0 ? rc : 0;
}

/* Owners, identities, open tasks and the rules' last tasks. */
/* The records merged into each live doctor (following chains of merges), as lists through merged_next. */
static void mr_nba_world_merged(struct mr_nba *n, struct mr_nba_world *w)
{
	w->merged_head = mr_calloc((size_t)w->nh + 1, sizeof(*w->merged_head));
	w->merged_next = mr_calloc((size_t)w->nh + 1, sizeof(*w->merged_next));
	mr_profile_read_begin(n->src.profile);
	for (uint32_t r = 1; r < w->nh; r++) {
		uint32_t root = r;

		for (int hop = 0; hop < 16 && mr_profile_state(n->src.profile, root) == MR_PS_MERGED; hop++)
			root = mr_profile_merged_into(n->src.profile, root);
		if (root == r || root == 0 || root >= w->nh || mr_profile_state(n->src.profile, root) != MR_PS_LIVE)
			continue;
		w->merged_next[r] = w->merged_head[root];
		w->merged_head[root] = r;
	}
	mr_profile_read_end(n->src.profile);
}

static int mr_nba_world_load(struct mr_nba *n, struct mr_conn *c, struct mr_nba_world *w, struct mr_arena *a,
			     struct mr_err *err)
{
	int rc = mr_nba_world_owners(n, w, err);

	w->holdout = mr_calloc(w->nh, sizeof(*w->holdout));
	w->exp = mr_calloc(w->nh, sizeof(*w->exp));
	w->arm = mr_calloc(w->nh, sizeof(*w->arm));
	w->kind = mr_malloc((size_t)w->nh + 1);
	memset(w->kind, -1, (size_t)w->nh + 1);
	mr_nba_world_merged(n, w);
	if (rc == 0)
		rc = mr_nba_world_identities(c, w, err);
	if (rc == 0)
		rc = mr_nba_world_open(c, w, err);
	if (rc == 0)
		rc = mr_nba_world_last_tasks(c, w, a, err);
	return rc;
}

/* The running experiments: their holdout units, and the experiment and arm of each doctor. */
static int mr_nba_world_experiments(struct mr_nba *n, struct mr_conn *c, struct mr_nba_world *w, struct mr_arena *a,
				    struct mr_err *err)
{
	struct mr_exp_src src = { n->src.store, n->src.engine, n->src.dir, n->src.ev };
	struct mr_experiment *xs = NULL;
	int nx = 0;
	int rc = mr_experiment_list(c, MR_EXP_RUNNING, a, &xs, &nx, err);

	w->rep_holdout = mr_calloc(w->nreps + 1, sizeof(*w->rep_holdout));
	w->rep_kind = mr_malloc((size_t)w->nreps + 1);
	memset(w->rep_kind, -1, (size_t)w->nreps + 1);
	for (int i = 0; rc == 0 && i < nx; i++) {
		const struct mr_experiment *x = &xs[i];
		struct mr_exp_units u;

		rc = mr_experiment_units(&src, c, x, mr_experiment_as_of(x, w->as_of), a, &u, err);
		if (rc == MR_EUNPROC) {
			rc = 0;
			continue;
		}
		for (int k = 0; rc == 0 && k < u.n; k++) {
			int holdout = x->arms[u.arm[k]].kind == MR_EXP_HOLDOUT;
			uint32_t id = u.ids[k];

			if (x->unit == MR_EXP_REP) {
				if (holdout && id < w->nreps)
					w->rep_holdout[id] = x->name;
				if (id < w->nreps && (w->rep_kind[id] < 0 || holdout))
					w->rep_kind[id] = (int8_t)x->arms[u.arm[k]].kind;
				continue;
			}
			if (id >= w->nh)
				continue;
			if (!w->exp[id] || holdout) {
				w->exp[id] = x->name;
				w->arm[id] = x->arms[u.arm[k]].name;
				w->kind[id] = (int8_t)x->arms[u.arm[k]].kind;
			}
			if (holdout)
				w->holdout[id] = x->name;
		}
	}
	return rc;
}

static void mr_nba_world_free(struct mr_nba_world *w)
{
	for (int role = 1; role < MR_NR_COUNT; role++)
		free(w->owner[role]);
	free(w->ident);
	free(w->open_total);
	free(w->open_action);
	free(w->open_channel);
	free(w->last);
	free(w->holdout);
	free(w->exp);
	free(w->arm);
	free(w->kind);
	free(w->rep_holdout);
	free(w->rep_kind);
	free(w->merged_head);
	free(w->merged_next);
}

/* ------------------------------------------------------------ candidates */

/*
 * cs[0..k) (appended rule by rule) grouped by doctor, keeping the rule
 * order within each: a counting sort over the record ids below nh. Frees
 * cs; returns the sorted copy.
 */
static struct mr_nba_cand *mr_nba_by_doctor(struct mr_nba_cand *cs, size_t k, uint32_t nh)
{
	size_t *start = mr_calloc((size_t)nh + 2, sizeof(*start));
	struct mr_nba_cand *out = mr_malloc((k + 1) * sizeof(*out));

	for (size_t i = 0; i < k; i++)
		start[cs[i].hcp + 1]++;
	for (uint32_t h = 0; h <= nh; h++)
		start[h + 1] += start[h];
	for (size_t i = 0; i < k; i++)
		out[start[cs[i].hcp]++] = cs[i];
	free(start);
	free(cs);
	return out;
}

/* Every (doctor, rule) whose condition holds within the segment, sorted by doctor then rule order. */
static int mr_nba_candidates(struct mr_nba *n, const struct mr_nba_compiled *cr, const unsigned char *scope,
			     uint32_t nscope, uint32_t nh, struct mr_nba_cand **out, size_t *nout, struct mr_err *err)
{
	uint32_t *ids = mr_malloc(((size_t)nh + 1) * sizeof(*ids));
	size_t cap = 1024, k = 0;
	struct mr_nba_cand *cs = mr_malloc(cap * sizeof(*cs));
	int rc = 0;

	for (int i = 0; rc == 0 && i < cr->n; i++) {
		int got = 0;
		int64_t count = 0;

		rc = mr_engine_select(n->src.engine, cr->plans[i], scope, nscope, 0, ids, (int)nh, &got, &count, err);
		for (int j = 0; rc == 0 && j < got; j++) {
			if (ids[j] >= nh)
				continue; /* a doctor added since the run began: the next run has it */
			if (k == cap) {
				cap *= 2;
				cs = mr_realloc(cs, cap * sizeof(*cs));
			}
			cs[k].hcp = ids[j];
			cs[k].rule = i;
			cs[k].tag_topic = NULL;
			k++;
		}
	}
	free(ids);
	if (rc < 0) {
		free(cs);
		return rc;
	}
	*out = mr_nba_by_doctor(cs, k, nh);
	*nout = k;
	return 0;
}

/* The topics of tag-driven rules: each such rule's candidates' values in one engine pass. */
static int mr_nba_tag_topics(struct mr_nba *n, const struct mr_nba_compiled *cr, struct mr_nba_cand *cs, size_t k,
			     int64_t as_of, struct mr_arena *a, struct mr_err *err)
{
	int rc = 0;

	for (int i = 0; rc == 0 && i < cr->n; i++) {
		struct mr_eplan *tp;
		uint32_t *ids;
		size_t *at;
		struct mr_xval *vals;
		int m = 0;

		if (!cr->rules[i]->content.topic_tag)
			continue;
		tp = mr_nba_tag_plan(n, cr->rules[i]->content.topic_tag, as_of, a);
		if (!tp)
			continue;
		ids = mr_malloc((k + 1) * sizeof(*ids));
		at = mr_malloc((k + 1) * sizeof(*at));
		for (size_t j = 0; j < k; j++) {
			if (cs[j].rule == i) {
				ids[m] = cs[j].hcp;
				at[m++] = j;
			}
		}
		vals = mr_malloc(((size_t)m + 1) * sizeof(*vals));
		rc = m ? mr_engine_values(n->src.engine, tp, ids, m, a, vals, NULL, err) : 0;
		for (int j = 0; rc == 0 && j < m; j++) {
			if (vals[j].kind == MR_XV_STR)
				cs[at[j]].tag_topic = mr_arena_strdup(a, vals[j].str);
		}
		free(ids);
		free(at);
		free(vals);
	}
	return rc;
}

/* ------------------------------------------------------------ judging */

struct mr_nba_tally {
	int64_t blocked[MR_NB_COUNT];
	int64_t recommended;
	int64_t learned;             /* doctors the learned policy ranked */
	int *per_rep;                /* by rep id */
	struct mr_nba_pick *picks;
	size_t npicks, cap;
};

/* The facts of doctor h from the world, the profile and the event index (the caller holds both read spans). */
static void mr_nba_world_facts(struct mr_nba *n, const struct mr_nba_world *w, uint32_t h, struct mr_nba_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->as_of = w->as_of;
	f->terse = 1;
	mr_nba_facts_consents(n->src.profile, h, f);
	f->identities = w->ident[h];
	for (int role = 1; role < MR_NR_COUNT; role++)
		f->owner[role] = w->owner[role][h];
	f->open_tasks = w->open_total[h];
	for (int i = 0; i < MR_NA_COUNT; i++)
		f->open_by_action[i] = w->open_action[h][i];
	for (int i = 0; i < MR_NC_COUNT; i++)
		f->open_by_channel[i] = w->open_channel[h][i];
	f->holdout = w->holdout[h];
	mr_nba_facts_contacts(n->src.ev, h, f);
	for (uint32_t m = w->merged_head[h]; m; m = w->merged_next[m]) /* merged records' contacts are the doctor's */
		mr_nba_facts_contacts(n->src.ev, m, f);
}

static void mr_nba_accept(struct mr_nba_tally *t, uint32_t h, const struct mr_nba_rule *r,
			  const struct mr_nba_verdict *v, const struct mr_nba_world *w)
{
	struct mr_nba_pick *p;

	if (t->npicks == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		t->picks = mr_realloc(t->picks, t->cap * sizeof(*t->picks));
	}
	p = &t->picks[t->npicks++];
	memset(p, 0, sizeof(*p));
	p->hcp = h;
	p->rule = r;
	p->v = *v;
	p->experiment = w->exp[h];
	p->arm = w->arm[h];
	p->mscore = v->score;
	p->propensity = 1.0;
	t->recommended++;
	t->per_rep[v->assignee]++;
}

/*
 * 1 when the learned policy ranks doctor h: the arm of the doctor's running
 * experiment (else of its owners' running experiment of unit rep, the
 * field owner's first), else the settings' policy.
 */
static int mr_nba_world_by(const struct mr_nba_world *w, const struct mr_nba_settings *set, uint32_t h)
{
	if (w->kind[h] >= 0)
		return mr_nba_by_arm(w->kind[h]);
	for (int role = 1; role < MR_NR_COUNT; role++) {
		uint32_t rep = w->owner[role][h];

		if (rep && rep < w->nreps && w->rep_kind[rep] >= 0)
			return mr_nba_by_arm(w->rep_kind[rep]);
	}
	return set->policy == MR_NP_LEARNED ? MR_NBA_BY_MODEL : MR_NBA_BY_RULES;
}

/* The run's own blocks of a verdict that passed the guards: a rep's holdout, an open task, a full list. */
static void mr_nba_run_blocks(const struct mr_nba_world *w, const struct mr_nba_facts *f, const struct mr_nba_rule *r,
			      int limit, const struct mr_nba_tally *t, struct mr_nba_verdict *v)
{
	if (v->block == MR_NB_OK && v->assignee < w->nreps && w->rep_holdout[v->assignee])
		v->block = MR_NB_HOLDOUT;
	else if (v->block == MR_NB_OK && f->open_by_action[r->action] > 0)
		v->block = MR_NB_OPEN_TASK;
	else if (v->block == MR_NB_OK && limit > 0 && t->per_rep[v->assignee] >= limit)
		v->block = MR_NB_REP_LIMIT;
}

/* Accepts r's verdict v for doctor h (mp: the learned policy's pick; note: why the rules rank instead). */
static void mr_nba_take(struct mr_nba_tally *t, uint32_t h, const struct mr_nba_rule *r,
			const struct mr_nba_verdict *v, const struct mr_nba_world *w, const struct mr_nba_settings *set,
			const struct mr_nba_mpick *mp, const char *note, int dry, struct mr_arena *a)
{
	struct mr_nba_pick *p;

	mr_nba_accept(t, h, r, v, w);
	p = &t->picks[t->npicks - 1];
	if (mp) {
		p->model_version = mr_arena_strdup(a, mp->ch.score.version);
		if (!mp->random)
			p->mscore = mp->ch.score.p;
		p->propensity = mp->ch.probability;
		p->random = mp->random;
	}
	if (!dry) { /* the task's reason: only a real run writes it */
		json_t *arr = json_array();
		struct mr_buf b;
		char *text;

		if (mp)
			mr_nba_learned_reasons(mp, arr);
		mr_nba_reasons(r, v, set, arr);
		if (!mp && note)
			json_array_append_new(arr, json_string(note));
		mr_buf_init(&b, 4096);
		for (size_t j = 0; j < json_array_size(arr); j++) {
			if (j)
				mr_buf_adds(&b, "; ");
			mr_buf_adds(&b, json_string_value(json_array_get(arr, j)));
		}
		text = mr_buf_detach(&b, NULL);
		p->reason = mr_arena_strdup(a, text);
		free(text);
		json_decref(arr);
	}
}

/*
 * Judges doctor h's candidates cs[0..m) in rule order: at most per_hcp
 * picks. chosen (an index into cs, -1: none) is the learned policy's pick
 * with its verdict cv and choice mp, taken first; note: why the rules rank
 * a learned doctor's candidates instead (or NULL).
 */
static void mr_nba_judge_one(struct mr_nba *n, const struct mr_nba_snap *s, const struct mr_nba_compiled *cr,
			     struct mr_nba_world *w, const struct mr_nba_cand *cs, size_t m, int per_hcp, int limit, int dry, struct mr_nba_tally *t, struct mr_arena *a, int chosen,
			     const struct mr_nba_verdict *cv, const struct mr_nba_mpick *mp, const char *note)
{
	struct mr_nba_facts f;
	int got = 0;

	mr_nba_world_facts(n, w, cs[0].hcp, &f);
	w->cur = cs[0].hcp;
	if (chosen >= 0) {
		const struct mr_nba_rule *r = cr->rules[cs[chosen].rule];
		struct mr_nba_verdict v = *cv;

		mr_nba_run_blocks(w, &f, r, limit, t, &v);
		if (v.block == MR_NB_OK) {
			mr_nba_take(t, cs[chosen].hcp, r, &v, w, &s->set, mp, NULL, dry, a);
			mr_nba_plan(&f, r);
			f.open_by_action[r->action]++;
			got++;
		} else {
			chosen = -1; /* the run's own blocks: the rules' order decides */
		}
	}
	for (size_t i = 0; i < m && got < per_hcp; i++) {
		const struct mr_nba_rule *r = cr->rules[cs[i].rule];
		struct mr_nba_verdict v;

		if ((int)i == chosen)
			continue;
		mr_nba_guard_win(r, &s->set, &f, &s->cat, cs[i].tag_topic, mr_nba_world_last, w, &w->win[cs[i].rule], &v);
		mr_nba_run_blocks(w, &f, r, limit, t, &v);
		if (v.block != MR_NB_OK) {
			t->blocked[v.block]++;
			continue;
		}
		mr_nba_take(t, cs[i].hcp, r, &v, w, &s->set, NULL, note, dry, a);
		mr_nba_plan(&f, r);
		f.open_by_action[r->action]++;
		got++;
	}
}

/*
 * Doctor cs[0].hcp's candidates cs[0..m) that pass the guards as they
 * stand (nothing planned yet): rules[], verdicts v[] and their indices
 * into cs idx[]; returns how many. The caller holds both read spans.
 */
static int mr_nba_passed(struct mr_nba *n, const struct mr_nba_snap *s, const struct mr_nba_compiled *cr,
			 struct mr_nba_world *w, const struct mr_nba_cand *cs, size_t m, const struct mr_nba_rule **rules, struct mr_nba_verdict *v, int *idx)
{
	struct mr_nba_facts f;
	int nc = 0;

	mr_nba_world_facts(n, w, cs[0].hcp, &f);
	w->cur = cs[0].hcp;
	for (size_t i = 0; i < m; i++) {
		const struct mr_nba_rule *r = cr->rules[cs[i].rule];

		mr_nba_guard_win(r, &s->set, &f, &s->cat, cs[i].tag_topic, mr_nba_world_last, w, &w->win[cs[i].rule],
				 &v[nc]);
		if (v[nc].block != MR_NB_OK)
			continue;
		rules[nc] = r;
		idx[nc++] = (int)i;
	}
	return nc;
}

/* A learned doctor's draw, made before the judging, on every core. */
struct mr_nba_ldraw {
	size_t at;                   /* the doctor's first candidate in cs */
	uint32_t hcp;
	unsigned mask;               /* the model channels of its passed candidates */
	int drawn;                   /* MR_NBA_DRAW_... */
	int random;                  /* a random arm's doctor: a uniform draw, not the models' */
	int mc, slot;
	double probability, p;
	int64_t model_id;
	const char *version, *reason; /* kept in the draws' arena */
};

enum { MR_NBA_DRAW_THREADS = 2, MR_NBA_DRAW_VERSIONS = 64 };

struct mr_nba_draws {
	struct mr_models *m;
	int64_t as_of;
	struct mr_nba_ldraw *d;
	size_t n, next;              /* next: the next to draw (atomic) */
	int reasons;                 /* keep the reasons (a real run writes them into the tasks) */
	pthread_mutex_t mu;          /* over a and the versions */
	struct mr_arena *a;
	const char *versions[MR_NBA_DRAW_VERSIONS];
	int nver;
};

static void *mr_nba_draws_work(void *arg)
{
	struct mr_nba_draws *ds = arg;
	size_t i;

	while ((i = __atomic_fetch_add(&ds->next, 1, __ATOMIC_RELAXED)) < ds->n) {
		struct mr_nba_ldraw *d = &ds->d[i];
		struct mr_choice ch;
		const char *version = NULL;

		d->drawn = mr_nba_learned_draw(ds->m, d->hcp, ds->as_of, d->mask, d->random, &ch);
		if (d->drawn != MR_NBA_DRAW_OK)
			continue;
		d->mc = ch.mc;
		d->slot = ch.slot;
		d->probability = ch.probability;
		d->p = ch.score.p;
		d->model_id = ch.score.model_id;
		pthread_mutex_lock(&ds->mu);
		for (int v = 0; v < ds->nver && !version; v++) {
			if (strcmp(ds->versions[v], ch.score.version) == 0)
				version = ds->versions[v];
		}
		if (!version) {
			version = mr_arena_strdup(ds->a, ch.score.version);
			if (ds->nver < MR_NBA_DRAW_VERSIONS)
				ds->versions[ds->nver++] = version;
		}
		d->version = version;
		d->reason = ds->reasons ? mr_arena_strdup(ds->a, ch.score.reason) : "";
		pthread_mutex_unlock(&ds->mu);
	}
	return NULL;
}

/* Draws for every learned doctor of ds, on MR_NBA_DRAW_THREADS threads (the caller's one of them). */
static void mr_nba_draws_run(struct mr_nba_draws *ds)
{
	pthread_t th[MR_NBA_DRAW_THREADS];
	int nth = 0;

	pthread_mutex_init(&ds->mu, NULL);
	for (int i = 1; ds->n > 1 && i < MR_NBA_DRAW_THREADS; i++) {
		if (pthread_create(&th[nth], NULL, mr_nba_draws_work, ds) == 0)
			nth++;
	}
	mr_nba_draws_work(ds);
	for (int i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&ds->mu);
}

/* The draw d as the choice mr_nba_learned_resolve takes. */
static void mr_nba_draw_choice(const struct mr_nba_ldraw *d, struct mr_choice *ch)
{
	memset(ch, 0, sizeof(*ch));
	if (d->drawn != MR_NBA_DRAW_OK)
		return;
	ch->mc = d->mc;
	ch->slot = d->slot;
	ch->probability = d->probability;
	ch->score.p = d->p;
	ch->score.model_id = d->model_id;
	snprintf(ch->score.version, sizeof(ch->score.version), "%s", d->version);
	snprintf(ch->score.reason, sizeof(ch->score.reason), "%s", d->reason);
}

/* ------------------------------------------------------------ writing */

struct mr_nba_run_job {
	struct mr_nba *n;
	const struct mr_nba_run_opts *o;
	struct mr_nba_tally *t;
	int64_t as_of, created;
	int (*in_tx)(struct mr_conn *c, void *arg, struct mr_err *err);
	void *in_tx_arg;
};

static int mr_nba_run_write(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_nba_run_job *j = arg;
	int64_t now = j->o->now ? j->o->now : mr_now_us();
	int n = (int)j->t->npicks, rc;
	struct mr_task_new *tn = mr_calloc((size_t)(n ? n : 1), sizeof(*tn));
	struct mr_nba_logrow *rows = mr_calloc((size_t)(n ? n : 1), sizeof(*rows));
	int64_t *ids = mr_calloc((size_t)(n ? n : 1), sizeof(*ids));

	j->created = 0;
	for (int i = 0; i < n; i++) {
		const struct mr_nba_pick *p = &j->t->picks[i];
		struct mr_nba_logrow *row = &rows[i];

		tn[i].type = mr_nba_task_type(p->rule->action);
		tn[i].hcp_id = p->hcp;
		tn[i].assignee_id = p->v.assignee;
		tn[i].due_from = p->v.start;
		tn[i].due_to = p->v.end;
		tn[i].priority = p->rule->priority;
		tn[i].source = p->random ? MR_TSRC_EXPERIMENT : p->model_version ? MR_TSRC_MODEL : MR_TSRC_RULE;
		tn[i].source_ref = p->rule->name;
		tn[i].reason = p->reason;
		tn[i].channel = mr_nba_channel_name(p->rule->channel);
		tn[i].content = p->v.content;
		tn[i].topic = p->v.topic;
		tn[i].by = j->o->by;
		tn[i].now = now;
		row->hcp_id = p->hcp;
		row->source = p->random ? "experiment" : p->model_version ? "model" : "rule";
		row->rule = p->rule->name;
		row->model_version = p->model_version;
		row->action = mr_nba_action_name(p->rule->action);
		row->channel = tn[i].channel;
		row->content = p->v.content;
		row->topic = p->v.topic;
		row->window_start = p->v.start;
		row->window_end = p->v.end;
		row->score = p->mscore;
		row->propensity = p->propensity;
		row->experiment = p->experiment;
		row->arm = p->arm;
		row->as_of = j->as_of;
		row->served_at = now;
		row->via = "run";
	}
	/* the tasks and their log rows in bulk: a run writes a hundred thousand of each */
	rc = mr_task_create_many(c, tn, n, ids, err);
	for (int i = 0; rc == 0 && i < n; i++)
		rows[i].task_id = ids[i];
	if (rc == 0)
		rc = mr_nba_log_add_many(c, rows, n, err);
	if (rc == 0)
		j->created = n;
	if (rc == 0 && j->in_tx)
		rc = j->in_tx(c, j->in_tx_arg, err);
	free(tn);
	free(rows);
	free(ids);
	return rc;
}

/* ------------------------------------------------------------ the run */

static json_t *mr_nba_run_json(struct mr_nba *n, const struct mr_nba_tally *t, const struct mr_nba_world *w,
			       int64_t considered, int64_t ncand, int64_t created, int dry)
{
	json_t *blocked = json_object(), *per_rep = json_array(), *o;
	int64_t by_model = 0, by_random = 0;

	for (size_t i = 0; i < t->npicks; i++) {
		by_model += t->picks[i].model_version != NULL && !t->picks[i].random;
		by_random += t->picks[i].random;
	}

	for (int b = 1; b < MR_NB_COUNT; b++) {
		if (t->blocked[b])
			json_object_set_new(blocked, mr_nba_block_code(b), json_integer(t->blocked[b]));
	}
	for (uint32_t r = 1; r < w->nreps; r++) {
		char buf[80];

		if (t->per_rep[r])
			json_array_append_new(per_rep, json_pack("{s:o, s:i}", "rep",
								 mr_hcpdir_rep_ext(n->src.dir, r, buf, sizeof(buf))
									 ? json_string(buf)
									 : json_null(),
								 "tasks", t->per_rep[r]));
	}
	o = json_pack("{s:I, s:I, s:I, s:o, s:I, s:o, s:b}", "considered", (json_int_t)considered, "candidates",
		      (json_int_t)ncand, "recommended", (json_int_t)t->recommended, "blocked", blocked, "tasks_created",
		      (json_int_t)created, "per_rep", per_rep, "dry_run", dry);
	mr_json_set_time(o, "as_of", w->as_of);
	json_object_set_new(o, "learned", json_integer(t->learned));
	json_object_set_new(o, "by_model", json_integer(by_model));
	json_object_set_new(o, "by_random", json_integer(by_random));
	return o;
}

/* The doctors of the segment (or every live doctor) as a scope map; *count how many. */
static int mr_nba_segment(struct mr_nba *n, const char *segment, int64_t as_of, uint32_t nh, struct mr_arena *a,
			  unsigned char **scope, int64_t *count, struct mr_err *err)
{
	const char *src = segment ? segment : "true";
	struct mr_eplan *plan = NULL;
	struct mr_xerr xe;
	uint32_t *ids;
	int got = 0;
	int rc;

	memset(&xe, 0, sizeof(xe));
	*scope = NULL;
	rc = mr_engine_compile(n->src.engine, src, strlen(src), as_of, a, &plan, &xe, err);
	if (rc == MR_EINVAL && xe.col > 0)
		return mr_err_field(err, MR_EUNPROC, "segment", "the segment does not parse: %s (column %d; expected %s)",
				    xe.msg, xe.col, xe.expected);
	if (rc == 0 && mr_eplan_type(plan) != MR_XT_BOOL)
		return mr_err_field(err, MR_EUNPROC, "segment", "a segment is a boolean expression; this one gives a %s",
				    mr_xtype_name(mr_eplan_type(plan)));
	if (rc < 0)
		return rc;
	if (!segment)
		return mr_engine_select(n->src.engine, plan, NULL, 0, 0, NULL, 0, &got, count, err);
	ids = mr_malloc(((size_t)nh + 1) * sizeof(*ids));
	rc = mr_engine_select(n->src.engine, plan, NULL, 0, 0, ids, (int)nh, &got, count, err);
	if (rc == 0) {
		*scope = mr_calloc(nh + 1, 1);
		for (int i = 0; i < got; i++)
			if (ids[i] < nh)
				(*scope)[ids[i]] = 1;
	}
	free(ids);
	return rc;
}

/*
 * The learned doctors among cs[0..k): their passed candidates' channels,
 * then the models' draws, on every core, into ds (ds->d: free it).
 */
static void mr_nba_run_draws(struct mr_nba *n, const struct mr_nba_snap *s, const struct mr_nba_compiled *cr,
			     struct mr_nba_world *w, const struct mr_nba_cand *cs, size_t k,
			     const struct mr_nba_run_opts *o, const struct mr_nba_rule **lrules, struct mr_nba_verdict *lv,
			     int *lidx, struct mr_nba_draws *ds, struct mr_arena *a)
{
	size_t cap = 0;

	mr_profile_read_begin(n->src.profile);
	mr_evindex_read_begin(n->src.ev);
	for (size_t i = 0; i < k;) {
		size_t j = i;

		while (j < k && cs[j].hcp == cs[i].hcp)
			j++;
		int by = mr_nba_world_by(w, &s->set, cs[i].hcp);

		if (by != MR_NBA_BY_RULES) {
			int nc = mr_nba_passed(n, s, cr, w, cs + i, j - i, lrules, lv, lidx);

			if (ds->n == cap) {
				cap = cap ? cap * 2 : 256;
				ds->d = mr_realloc(ds->d, cap * sizeof(*ds->d));
			}
			memset(&ds->d[ds->n], 0, sizeof(*ds->d));
			ds->d[ds->n].at = i;
			ds->d[ds->n].hcp = cs[i].hcp;
			ds->d[ds->n].random = by == MR_NBA_BY_RANDOM;
			ds->d[ds->n++].mask = mr_nba_learned_mask(lrules, nc); /* none passed: 0, no draw */
		}
		i = j;
	}
	mr_evindex_read_end(n->src.ev);
	mr_profile_read_end(n->src.profile);
	if (ds->n) {
		mr_nba_progress(o, "draws", 0, (int64_t)ds->n);
		ds->m = mr_nba_models(n);
		ds->as_of = w->as_of;
		ds->reasons = !o->dry_run;
		ds->a = a;
		mr_nba_draws_run(ds);
	}
}

static int mr_nba_run_judge(struct mr_nba *n, const struct mr_nba_snap *s, const struct mr_nba_compiled *cr,
			    struct mr_nba_world *w, struct mr_nba_cand *cs, size_t k, const struct mr_nba_run_opts *o,
			    struct mr_nba_tally *t, struct mr_arena *a)
{
	int per_hcp = o->per_hcp > 0 ? o->per_hcp : 1;
	int limit = o->limit_per_rep > 0 ? o->limit_per_rep : s->set.run_limit_per_rep;
	int64_t doctors = 0;
	/* a learned doctor's passed candidates (at most one per compiled rule) */
	const struct mr_nba_rule **lrules = mr_arena_alloc(a, (size_t)(cr->n + 1) * sizeof(const struct mr_nba_rule *));
	struct mr_nba_verdict *lv = mr_arena_alloc(a, (size_t)(cr->n + 1) * sizeof(*lv));
	int *lidx = mr_arena_alloc(a, (size_t)(cr->n + 1) * sizeof(*lidx));
	struct mr_nba_draws ds;
	size_t li = 0;
	struct mr_nba_mpick mp;
	struct mr_choice ch;

	memset(&mp, 0, sizeof(mp));
	memset(&ds, 0, sizeof(ds));
	t->per_rep = mr_calloc(w->nreps + 1, sizeof(*t->per_rep));
	w->win = mr_arena_alloc(a, (size_t)(cr->n + 1) * sizeof(*w->win));
	for (int i = 0; i < cr->n; i++)
		mr_nba_window_of(cr->rules[i], &s->set, &s->cat, w->as_of, &w->win[i]);
	mr_nba_run_draws(n, s, cr, w, cs, k, o, lrules, lv, lidx, &ds, a);
	mr_profile_read_begin(n->src.profile);
	mr_evindex_read_begin(n->src.ev);
	for (size_t i = 0; i < k;) {
		size_t j = i;
		int chosen = -1;
		const char *note = NULL;
		struct mr_nba_verdict cv;

		while (j < k && cs[j].hcp == cs[i].hcp)
			j++;
		if (li < ds.n && ds.d[li].at == i) {
			const struct mr_nba_ldraw *d = &ds.d[li++];
			int nc = mr_nba_passed(n, s, cr, w, cs + i, j - i, lrules, lv, lidx);

			mr_nba_draw_choice(d, &ch);
			mr_nba_learned_resolve(d->drawn, &ch, d->mask, d->random, &s->set, lrules, lv, nc, &mp);
			if (mp.ok) {
				chosen = lidx[mp.cand];
				cv = lv[mp.cand];
				cv.start = mp.start;
				cv.end = mp.end;
			} else if (mp.note[0]) {
				note = mr_arena_strdup(a, mp.note);
			}
		}
		mr_nba_judge_one(n, s, cr, w, cs + i, j - i, per_hcp, limit, o->dry_run, t, a, chosen, &cv, &mp,
				 note);
		i = j;
		if (++doctors % 8192 == 0) {
			/* let the writers that wait for these read spans in between */
			mr_evindex_read_end(n->src.ev);
			mr_profile_read_end(n->src.profile);
			mr_nba_progress(o, "judge", (int64_t)i, (int64_t)k);
			mr_profile_read_begin(n->src.profile);
			mr_evindex_read_begin(n->src.ev);
		}
	}
	mr_evindex_read_end(n->src.ev);
	mr_profile_read_end(n->src.profile);
	t->learned = (int64_t)ds.n;
	free(ds.d);
	return 0;
}

int mr_nba_run_tx(struct mr_nba *n, const struct mr_nba_run_opts *o,
		  int (*in_tx)(struct mr_conn *c, void *arg, struct mr_err *err), void *in_tx_arg, json_t **out,
		  struct mr_err *err)
{
	int64_t t0 = mr_mono_us(), considered = 0;
	struct mr_nba_world w;
	struct mr_nba_tally t;
	struct mr_nba_snap *s = NULL;
	struct mr_nba_compiled cr;
	struct mr_nba_cand *cs = NULL;
	struct mr_conn *c = NULL;
	unsigned char *scope = NULL;
	struct mr_arena a;
	size_t k = 0;
	int rc;

	*out = NULL;
	memset(&w, 0, sizeof(w));
	memset(&t, 0, sizeof(t));
	if (!mr_engine_ready(n->src.engine)) {
		mr_err_set(err, MR_EUNAVAIL, "the server is still loading its indexes; try again shortly");
		err->retry_after_s = 1;
		return MR_EUNAVAIL;
	}
	mr_arena_init(&a);
	w.as_of = o->as_of ? o->as_of : mr_now_us();
	mr_profile_read_begin(n->src.profile);
	w.nh = mr_profile_nhcps(n->src.profile);
	mr_profile_read_end(n->src.profile);
	rc = mr_store_acquire(n->src.store, &c, err);
	if (rc == 0)
		rc = mr_hcpdir_sync(n->src.dir, c, err);
	if (rc == 0)
		rc = mr_nba_snap_get(n, c, &s, err);
	if (rc == 0)
		rc = mr_nba_segment(n, o->segment, w.as_of, w.nh, &a, &scope, &considered, err);
	if (rc == 0) {
		mr_nba_progress(o, "rules", 0, s->nrules);
		mr_nba_compile(n, s, w.as_of, &a, &cr);
		rc = mr_nba_candidates(n, &cr, scope, scope ? w.nh + 1 : 0, w.nh, &cs, &k, err);
	}
	if (rc == 0)
		rc = mr_nba_tag_topics(n, &cr, cs, k, w.as_of, &a, err);
	if (rc == 0) {
		mr_nba_progress(o, "facts", 0, (int64_t)k);
		rc = mr_nba_world_load(n, c, &w, &a, err);
	}
	if (rc == 0)
		rc = mr_nba_world_experiments(n, c, &w, &a, err);
	if (c)
		mr_store_release(n->src.store, c);
	if (rc == 0)
		rc = mr_nba_run_judge(n, s, &cr, &w, cs, k, o, &t, &a);
	if (rc == 0 && !o->dry_run) {
		struct mr_nba_run_job j = { n, o, &t, w.as_of, 0, in_tx, in_tx_arg };

		mr_nba_progress(o, "tasks", 0, (int64_t)t.npicks);
		rc = mr_nba_write(n, mr_nba_run_write, &j, err);
		if (rc == 0)
			*out = mr_nba_run_json(n, &t, &w, considered, (int64_t)k, j.created, 0);
	} else if (rc == 0) {
		*out = mr_nba_run_json(n, &t, &w, considered, (int64_t)k, 0, 1);
	}
	if (*out)
		json_object_set_new(*out, "took_ms", json_real((double)(mr_mono_us() - t0) / 1000.0));
	if (s)
		mr_nba_snap_put(n, s);
	free(cs);
	free(scope);
	free(t.per_rep);
	free(t.picks);
	mr_nba_world_free(&w);
	mr_arena_release(&a);
	return rc;
}

int mr_nba_run(struct mr_nba *n, const struct mr_nba_run_opts *o, json_t **out, struct mr_err *err)
{
	return mr_nba_run_tx(n, o, NULL, NULL, out, err);
}
