/*
 * Merging two HCP records that are one doctor, and undoing it exactly.
 *
 * A merge keeps both rows: the merged one points at the survivor
 * (merged_into) and drops out of lists and searches; its identities,
 * alignments and consents move to the survivor; the survivor takes field
 * values from it by the survivorship rules. hcp_merges keeps the lineage
 * (the rule or score that decided it, which fields came from where) and
 * everything the merge moved or changed, so that unmerge puts every row
 * back as it was. A field of the survivor that someone changed after the
 * merge keeps that later value; unmerge says which.
 */
#ifndef MR_MD_MERGE_H
#define MR_MD_MERGE_H

#include <jansson.h>
#include <stdint.h>

#include "md/md.h"

/*
 * Survivorship per field: which value the survivor keeps.
 *   recent   (default) the merged record's value when the survivor has none, or
 *            when the merged record is newer and holds a verified identity
 *   survivor the survivor's value always
 *   merged   the merged record's value whenever it has one
 *   fill     the merged record's value only where the survivor has none
 */
enum mr_survive { MR_SURVIVE_RECENT, MR_SURVIVE_SURVIVOR, MR_SURVIVE_MERGED, MR_SURVIVE_FILL };

struct mr_merge_opts {
	const char *rule;        /* "manual", "deterministic:phone", "fellegi_sunter", "review" */
	double score;            /* the match probability, or -1 when a rule decided */
	json_t *detail;          /* per-field comparison, kept in the lineage (borrowed; may be NULL) */
	const char *reason;      /* a person's words, or NULL */
	const char *survive[MR_MD_MAXF]; /* per field of mr_md_hcp: NULL for the default */
};

/* Parses a survivorship rule name; -1 when unknown. */
int mr_survive_parse(const char *s);
/*
 * Merges HCP merged_id into survivor_id. MR_EUNPROC for a merge into
 * itself, MR_ECONFLICT when either was already merged (naming where) or is
 * deleted. *merge_id gets the hcp_merges row.
 */
int mr_hcp_merge(struct mr_conn *c, int64_t survivor_id, int64_t merged_id,
		 const struct mr_merge_opts *o, const struct mr_md_actor *who, int64_t *merge_id,
		 struct mr_err *err);
/*
 * Undoes merge merge_id. MR_ECONFLICT when it was undone already, or when a
 * later merge into the same survivor still stands (undo that first).
 * *kept (may be NULL) gets the fields left at a value set after the merge.
 */
int mr_hcp_unmerge(struct mr_conn *c, int64_t merge_id, const struct mr_md_actor *who,
		   json_t **kept, struct mr_err *err);
/* Appends merges involving HCP hcp_id (or all when 0), newest first. */
int mr_merge_list(struct mr_conn *c, int64_t hcp_id, int limit, int64_t cursor, json_t *items,
		  int64_t *next, struct mr_err *err);

#endif
