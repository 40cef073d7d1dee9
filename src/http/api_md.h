/*
 * Helpers shared by the master-data API files (api_masterdata.c,
 * api_relations.c): the caller's scope, HCP references checked against it,
 * and times rendered for people.
 */
#ifndef MR_HTTP_API_MD_H
#define MR_HTTP_API_MD_H

#include <jansson.h>

#include "http/http.h"
#include "md/md.h"

/* Replaces µs integers under the known time keys (created_at, valid_from, ...) with RFC 3339 text. */
void mr_api_times(json_t *v);
/* The caller's scope over HCPs. */
int mr_api_scope(struct mr_req *r, struct mr_conn *c, struct mr_scope *s, struct mr_err *err);
/*
 * The doctors the caller may see (at now) as a map by HCP record id from the
 * HCP directory, synced first: *map NULL for everyone (free it otherwise).
 * MR_EUNAVAIL (retry in a second) while the directory loads.
 */
int mr_api_scope_map(struct mr_req *r, unsigned char **map, uint32_t *n, struct mr_err *err);
/*
 * For routes that compile expressions against the engine (segments,
 * experiments, rules): 503 (retry in a second) until the engine and the HCP
 * directory have loaded; then the directory brought up to date, so a doctor
 * created a moment ago counts (read-your-writes).
 */
int mr_api_engine_ready(struct mr_req *r, struct mr_err *err);
/* The entity a master-data route serves (its tag). */
const struct mr_md_entity *mr_api_entity(struct mr_req *r);
/* The request as a change-history actor. */
void mr_api_actor(struct mr_req *r, struct mr_md_actor *who);
/*
 * Resolves an HCP's external id to its internal id, checking the caller may
 * see it (and, with write, change it): 404 when it does not exist, 403 when
 * it lies outside the caller's alignments.
 */
int mr_api_hcp_ref(struct mr_req *r, struct mr_conn *c, const char *ext, int write,
		   int64_t *id, struct mr_err *err);
/* The consents in force of an HCP, and its live alignments (first page), for the profile. */
int mr_api_consents(struct mr_conn *c, int64_t hcp_id, json_t *items, struct mr_err *err);
int mr_api_alignments(struct mr_conn *c, const struct mr_scope *s, int64_t hcp_id, json_t *items,
		      int64_t *next, struct mr_err *err);

#endif
