/*
 * What nba.c (the module, serving, the log) and run.c (the batch run)
 * share: the snapshot of rules, settings and content they read, the rules
 * compiled for one as_of, and the small helpers both use.
 */
#ifndef MR_NBA_NBA_INT_H
#define MR_NBA_NBA_INT_H

#include <pthread.h>

#include "engine/engine.h"
#include "models/models.h"
#include "nba/guard.h"
#include "nba/nba.h"
#include "nba/rules.h"

/* The rules, settings and content at one moment of the store; shared by reference count. */
struct mr_nba_snap {
	int refs;
	struct mr_arena a;
	struct mr_nba_rule *rules;   /* ordered: score (priority) first, then name */
	int nrules;
	struct mr_nba_settings set;
	struct mr_nba_catalog cat;
	int64_t rstamp, cstamp;
};

struct mr_nba {
	struct mr_nba_src src;
	pthread_mutex_t mu;
	struct mr_nba_snap *snap;    /* NULL: read at next use */
	int64_t snap_checked;        /* when the store last said snap is current (mono µs) */
	struct mr_nba_plans *plans;  /* the last rules compiled for now (serving), or NULL */
	/* the log rows served and not yet written */
	pthread_mutex_t qmu;
	pthread_mutex_t flush_mu;    /* one flush at a time: a reader's flush waits for the tick's in flight */
	struct mr_arena qa;
	struct mr_nba_logrow *q;
	int qn, qcap;
	char last_night[11];         /* the Asia/Shanghai day of the last nightly run */
	int64_t next_stamp_check;    /* the tick's next look at the settings (mono µs; under mu) */
	struct mr_models *models;    /* the learned policy's response models, or NULL (under mu) */
};

/* The response models set (or NULL). */
struct mr_models *mr_nba_models(struct mr_nba *n);

/* ------------------------------------------------------------ the learned policy */

/* The model channel (enum mr_model_channel) a rule's suggestions are scored on, or -1 (visits, SMS). */
int mr_nba_model_channel(const struct mr_nba_rule *rule);

/* The learned policy's choice among one doctor's candidates that passed the guards. */
struct mr_nba_mpick {
	int ok;                      /* 1: the models chose; 0: the rules rank (note says why) */
	int cand;                    /* the chosen candidate (the caller's index) */
	struct mr_choice ch;         /* channel, slot, the Thompson probability, the score */
	int64_t start, end;          /* the window moved into the chosen slot (or the rule's when it holds none) */
	int in_slot;                 /* 1 when the window was moved into the slot */
	int random;                  /* 1: drawn uniformly (an experiment's random arm), not by the models */
	char note[240];              /* without a choice: why the rules rank */
};

/* The records of one doctor (itself and those merged into it) the guards count contacts over, at most. */
enum { MR_NBA_CLUSTER_MAX = 16 };
/* Adds record id's outbound contacts in the 7 days before f->as_of to f (within the event index's read span). */
void mr_nba_facts_contacts(struct mr_evindex *ev, uint32_t id, struct mr_nba_facts *f);

/* f->consents from the profile (within its read span): per purpose, the channels record id opted in to. */
void mr_nba_facts_consents(const struct mr_profile *pf, uint32_t id, struct mr_nba_facts *f);

/* Who ranks a doctor's candidates: the rules, the learned policy, or a uniform draw (a random arm). */
enum { MR_NBA_BY_RULES, MR_NBA_BY_MODEL, MR_NBA_BY_RANDOM };
/* The ranking of experiment arm kind (enum mr_exp_kind): a holdout's and a custom arm's are the rules'. */
int mr_nba_by_arm(int arm_kind);

/*
 * The learned policy for doctor hcp_id at as_of over its passed
 * candidates (rules[i] with verdicts v[i], i < nc, in rule order): Thompson
 * sampling (mr_models_choose) over the candidates' model channels, and the
 * first candidate on the channel drawn, its window moved into the slot
 * drawn. Without models (m NULL, or none active for those channels) *out
 * has ok 0 and a note in words. Call outside the profile's and the event
 * index's read spans (the models take their own).
 */
void mr_nba_learned_choose(struct mr_models *m, int64_t hcp_id, int64_t as_of, int random,
			   const struct mr_nba_settings *s, const struct mr_nba_rule *const *rules,
			   const struct mr_nba_verdict *v, int nc, struct mr_nba_mpick *out);
/* The model channels of rules[0..nc) (a bit per enum mr_model_channel). */
unsigned mr_nba_learned_mask(const struct mr_nba_rule *const *rules, int nc);
/* What a draw came to. */
enum { MR_NBA_DRAW_OK, MR_NBA_DRAW_NO_CHANNEL, MR_NBA_DRAW_NO_MODELS, MR_NBA_DRAW_NO_ACTIVE, MR_NBA_DRAW_UNAVAILABLE };
/*
 * mr_models_choose over mask for the doctor (m NULL: none loaded) into *ch: MR_NBA_DRAW_.... With
 * random, a uniform draw over mask's channels × every slot instead (no models needed; ch->probability
 * 1 / choices, seeded per doctor and Beijing day like the models' draws). Thread-safe.
 */
int mr_nba_learned_draw(struct mr_models *m, int64_t hcp_id, int64_t as_of, unsigned mask, int random,
			struct mr_choice *ch);
/* The rest of mr_nba_learned_choose: the draw's (drawn, *ch) candidate among rules[0..nc) and its window. */
void mr_nba_learned_resolve(int drawn, const struct mr_choice *ch, unsigned mask, int random,
			    const struct mr_nba_settings *s, const struct mr_nba_rule *const *rules,
			    const struct mr_nba_verdict *v, int nc, struct mr_nba_mpick *out);
/* The reasons in words of a learned choice (the model, its words, the draw, the slot), appended to arr. */
void mr_nba_learned_reasons(const struct mr_nba_mpick *mp, json_t *arr);

/* The snapshot in force, read on c when the store changed; release it with mr_nba_snap_put. */
int mr_nba_snap_get(struct mr_nba *n, struct mr_conn *c, struct mr_nba_snap **out, struct mr_err *err);
void mr_nba_snap_put(struct mr_nba *n, struct mr_nba_snap *s);

/* The live rules of snapshot s at as_of with their conditions compiled (plans[i] for rules[i]; in a). */
struct mr_nba_compiled {
	const struct mr_nba_rule **rules;
	struct mr_eplan **plans;
	int n;
};

/*
 * The rules of a snapshot compiled for one as_of, with their tag-driven
 * topics' plans (tag[i], or NULL), shared by reference count: serving
 * without an as_of reuses the last for MR_NBA_PLAN_TTL_US, since compiling
 * costs more than evaluating.
 */
struct mr_nba_plans {
	int refs;
	struct mr_arena a;
	struct mr_nba_snap *snap;    /* a reference */
	int64_t as_of;
	int64_t made;                /* mr_mono_us */
	struct mr_nba_compiled cr;
	struct mr_eplan **tag;
};
#define MR_NBA_PLAN_TTL_US (INT64_C(1000000))
/* How long a snapshot serves before the store is asked whether rules, settings or content changed. */
#define MR_NBA_STAMP_US (INT64_C(200000))
void mr_nba_compile(struct mr_nba *n, const struct mr_nba_snap *s, int64_t as_of, struct mr_arena *a,
		    struct mr_nba_compiled *out);
/* The plan of a tag-driven topic ("tag.NAME") at as_of, or NULL when it does not compile to a text. */
struct mr_eplan *mr_nba_tag_plan(struct mr_nba *n, const char *tag, int64_t as_of, struct mr_arena *a);

/* The enum mr_nba_channel of an event channel (enum mr_channel); 0 for the rest. */
int mr_nba_event_channel(int channel);
/* The action (enum mr_nba_action) and channel of an open task of type (a name) and channel (or NULL). */
void mr_nba_task_kind(const char *type, const char *channel, int *action, int *nba_channel);

/* Runs fn in a write transaction: through the writer when there is one. */
int mr_nba_write(struct mr_nba *n, int (*fn)(struct mr_conn *c, void *arg, struct mr_err *err), void *arg,
		 struct mr_err *err);

#endif
