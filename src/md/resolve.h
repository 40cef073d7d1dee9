/*
 * Identity resolution over the HCPs in the store: the probabilistic step
 * (Fellegi-Sunter, src/identity/) run over every live HCP record, with m/u
 * estimated by EM from the data itself. Pairs above the upper threshold
 * are merged (md/merge.h, rule "fellegi_sunter", lineage with the score
 * and per-field weights); pairs between the thresholds go to the review
 * queue, where a person accepts (merges) or rejects them with a reason; a
 * rejected pair is never proposed again. The deterministic step (licence
 * number, verified phone, WeChat unionid) is the unique identity index
 * (md/ident.h), consulted before any of this.
 */
#ifndef MR_MD_RESOLVE_H
#define MR_MD_RESOLVE_H

#include <jansson.h>
#include <stdint.h>

#include "crypto/keys.h"
#include "md/md.h"
#include "store/store.h"

struct mr_resolve_stats {
	int64_t hcps;        /* live records compared */
	int64_t candidates;  /* pairs compared after blocking */
	int64_t merged;      /* records merged into another */
	int64_t queued;      /* pairs added to the review queue */
	int64_t took_us;
	double upper, lower;
	json_t *model;       /* the trained model (m/u per field and level), owned */
};

/* Runs fn in one write transaction (the CLI's mr_store_write, or the server's writer). */
typedef int (*mr_resolve_commit_fn)(void *ctx, mr_write_fn fn, void *arg, struct mr_err *err);

/*
 * Loads every live HCP on the read connection rc, finds duplicates, and
 * writes merges and review items through commit. upper and lower (0: the
 * model's defaults) are match probabilities.
 */
int mr_resolve_run(struct mr_conn *rc, const struct mr_keys *k, double upper, double lower,
		   mr_resolve_commit_fn commit, void *ctx, const struct mr_md_actor *who,
		   struct mr_resolve_stats *st, struct mr_err *err);

/*
 * Upserts an arriving HCP record with the deterministic step first: a new
 * record whose licence number or phone is already another HCP's is stored
 * (without that identity, which stays with its holder) and merged at once
 * into that HCP, rule "deterministic:<kind>". *merged_into gets the
 * holder's internal id, or 0 when the record stands on its own. mode is
 * mr_md_upsert's (0 upsert, 1 must be new).
 */
int mr_resolve_arrival(struct mr_conn *c, const struct mr_keys *k, const struct mr_md_rec *rec,
		       int mode, const struct mr_md_actor *who, struct mr_md_result *res,
		       int64_t *merged_into, struct mr_err *err);

/* Appends review items of a status ("pending", "accepted", "rejected"), best score first. */
int mr_review_list(struct mr_conn *c, const char *status, int limit, int64_t cursor, json_t *items,
		   int64_t *next, struct mr_err *err);
/*
 * Decides review item id: accept merges the newer record into the older
 * one (rule "review"); reject keeps them apart for good. reason is required
 * for a rejection. MR_ECONFLICT when it was decided already.
 */
int mr_review_decide(struct mr_conn *c, int64_t id, int accept, const char *reason,
		     const struct mr_md_actor *who, int64_t *merge_id, struct mr_err *err);

#endif
