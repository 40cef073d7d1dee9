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

#include "base/arena.h"
#include "crypto/keys.h"
#include "crypto/pii.h"
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
enum { MR_IDENT_NEW_MAX = 4 };

/* A primary identity value sealed, blind-indexed and masked ahead of its insert. */
struct mr_ident_prep {
	const char *kind;
	const char *value;             /* the value it was made from */
	const unsigned char *sealed;   /* sealed_len bytes */
	size_t sealed_len;
	unsigned char bidx[MR_PII_BIDX];
	const char *masked;
};

/*
 * Fills p for the primary value of kind (normalised, non-empty), its
 * strings in a; 0 when the value is too long to seal (the insert reports
 * it). Needs no database and is thread-safe.
 */
int mr_ident_prepare(const struct mr_keys *k, const char *kind, const char *value,
		     struct mr_arena *a, struct mr_ident_prep *p);

/*
 * The primary identities of an HCP inserted in this transaction (so it has
 * none yet), with fewer statements: n <= MR_IDENT_NEW_MAX pairs of kind and
 * normalised, non-empty value; prep[i], when not NULL, is value i prepared
 * by mr_ident_prepare. masked[i] gets value i masked, for the change
 * history, which the caller writes. MR_ECONFLICT naming the HCP that holds
 * a value (the caller rolls back what was inserted).
 */
int mr_ident_set_primaries_new(struct mr_conn *c, const struct mr_keys *k, int64_t hcp_id,
			       int n, const char *const *kinds, const char *const *values,
			       const struct mr_ident_prep *const *prep, int64_t now,
			       char (*masked)[MR_PII_MASK_MAX], struct mr_err *err);
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
