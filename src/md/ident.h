/*
 * The channel identities of an HCP: WeChat unionid / openid (per app),
 * WeCom external userid, phones, emails, meeting user ids and the licence
 * number. Each is normalised (md/norm.h), sealed at rest and found through
 * its blind index (crypto/pii.h); one identity belongs to one HCP, which is
 * what makes deterministic identity resolution one index lookup. The
 * primary phone, email and licence number are also the HCP's fields of
 * those names.
 */
#ifndef MR_MD_IDENT_H
#define MR_MD_IDENT_H

#include <jansson.h>
#include <stdint.h>

#include "crypto/keys.h"
#include "md/md.h"
#include "store/store.h"

struct mr_ident {
	const char *kind;
	const char *app;       /* "" when the kind has no app (all but wechat_openid) */
	const char *value;     /* normalised */
	int verified;
	const char *source;    /* NULL or where it came from: wecom, crm, import, ... */
};

/*
 * Makes value (normalised; "" to clear) the HCP's primary identity of kind.
 * Returns 1 when something changed, 0 when it was already so, or
 * MR_ECONFLICT naming the HCP the value belongs to.
 */
int mr_ident_set_primary(struct mr_conn *c, const struct mr_keys *k, int64_t hcp_id,
			 const char *kind, const char *value, const struct mr_md_actor *who,
			 struct mr_err *err);
/* Adds (or re-verifies) an identity of hcp_id; 1 when added, 0 when it was there; MR_ECONFLICT when another HCP has it. */
int mr_ident_add(struct mr_conn *c, const struct mr_keys *k, int64_t hcp_id,
		 const struct mr_ident *id, const struct mr_md_actor *who, struct mr_err *err);
/* Removes identity row ident_id of hcp_id. */
int mr_ident_remove(struct mr_conn *c, int64_t hcp_id, int64_t ident_id,
		    const struct mr_md_actor *who, struct mr_err *err);
/* The HCP holding an identity; MR_ENOTFOUND when none. Merged HCPs lead to their survivor. */
int mr_ident_find(struct mr_conn *c, const struct mr_keys *k, const char *kind, const char *app,
		  const char *value, int64_t *hcp_id, struct mr_err *err);
/*
 * Appends hcp_id's identities to items: {id, kind, app, value, primary,
 * verified, source}; value masked unless unmask (then opened).
 */
int mr_ident_list(struct mr_conn *c, const struct mr_keys *k, int64_t hcp_id, int unmask,
		  json_t *items, struct mr_err *err);

#endif
