/*
 * What ties master data together: alignments (which rep owns which HCP,
 * for which product, when), consents (what an HCP agreed to, on which
 * channel, for which purpose, with what evidence) and the PIPL erasure of
 * an HCP's personal data.
 */
#ifndef MR_MD_RELATE_H
#define MR_MD_RELATE_H

#include <jansson.h>
#include <stdint.h>

#include "md/md.h"

struct mr_alignment {
	const char *hcp;        /* external ids */
	const char *rep;
	const char *role;       /* field_owner, inside_owner, msl */
	const char *product;    /* "" for every product */
	int64_t valid_from;     /* µs; 0: now */
	int64_t valid_to;       /* µs; 0: open-ended */
};

/* Checks an alignment's role, product and dates; MR_EINVAL naming the field. */
int mr_align_check(const struct mr_alignment *al, struct mr_err *err);
/*
 * Adds the alignment, or updates the dates of the live one with the same
 * hcp, rep, role and product. A second field or inside owner of the HCP for
 * the product in an overlapping period is MR_ECONFLICT naming the existing
 * alignment. *id gets the alignment's id; *changed 0 when nothing changed.
 */
int mr_align_upsert(struct mr_conn *c, const struct mr_alignment *al, const struct mr_md_actor *who,
		    int64_t *id, int *changed, struct mr_err *err);
/* Ends alignment id (soft delete). */
int mr_align_delete(struct mr_conn *c, int64_t id, const struct mr_md_actor *who, struct mr_err *err);
/* The HCP of alignment id (to check the caller's scope); MR_ENOTFOUND when none. */
int mr_align_hcp(struct mr_conn *c, int64_t id, int64_t *hcp_id, struct mr_err *err);
/*
 * Appends live alignments to items: of one HCP (hcp_id > 0), of one rep
 * (rep_id > 0), or all within scope; paged by id.
 */
int mr_align_list(struct mr_conn *c, const struct mr_scope *scope, int64_t hcp_id, int64_t rep_id,
		  int limit, int64_t cursor, json_t *items, int64_t *next, struct mr_err *err);

struct mr_consent {
	const char *hcp;
	const char *channel;    /* phone, wechat, wecom, email, sms, meeting, visit */
	const char *purpose;    /* promotional, medical_info, meeting_invite, survey */
	const char *status;     /* opt_in, opt_out */
	int64_t captured_at;    /* µs */
	const char *source;     /* web_form, wecom, paper, rep, ... */
	const char *evidence;   /* form id, message id, ... */
	const char *version;    /* the wording's version */
};

/* Checks a consent's channel, purpose, status and time. */
int mr_consent_check(const struct mr_consent *cs, int64_t now, struct mr_err *err);
/*
 * Records a consent. The same (hcp, channel, purpose, captured_at) again is
 * accepted when identical (*added = 0) and MR_ECONFLICT when it differs.
 */
int mr_consent_add(struct mr_conn *c, const struct mr_consent *cs, const struct mr_md_actor *who,
		   int *added, struct mr_err *err);
/* Appends the consents in force of HCP hcp_id (newest per channel and purpose) or, with history, all. */
int mr_consent_list(struct mr_conn *c, int64_t hcp_id, int history, json_t *items,
		    struct mr_err *err);

/*
 * Further affiliations of an HCP besides its primary hospital: the HCO,
 * the department there and a role (e.g. "visiting", "expert_clinic").
 * Setting one that exists updates it; *changed 0 when nothing changed.
 */
int mr_affil_set(struct mr_conn *c, int64_t hcp_id, const char *hco, const char *department,
		 const char *role, const struct mr_md_actor *who, int *changed, struct mr_err *err);
/* Removes the affiliation with hco; MR_ENOTFOUND when there is none. */
int mr_affil_remove(struct mr_conn *c, int64_t hcp_id, const char *hco,
		    const struct mr_md_actor *who, struct mr_err *err);
/* Appends the HCP's further affiliations: {hco, hco_name, department, role}. */
int mr_affil_list(struct mr_conn *c, int64_t hcp_id, json_t *items, struct mr_err *err);

/*
 * Erases an HCP's personal data (PIPL): identities deleted; name, pinyin,
 * gender and custom attributes blanked; consent evidence and the change
 * history's values cleared; alignments ended. The row stays (erased_at,
 * deleted_at set) with its hospital, specialty and title, so interaction
 * facts still count in aggregate KPIs without saying who it was.
 */
int mr_hcp_erase(struct mr_conn *c, int64_t hcp_id, const struct mr_md_actor *who,
		 struct mr_err *err);

#endif
