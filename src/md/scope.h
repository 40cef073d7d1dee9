/*
 * The caller's scope over HCPs, from their role and their rep record
 * (see scope.c; struct mr_scope is declared in md.h).
 */
#ifndef MR_MD_SCOPE_H
#define MR_MD_SCOPE_H

#include "auth/token.h"
#include "md/md.h"

/* Works out what principal p may see and change at time now. */
int mr_scope_for(struct mr_conn *c, const struct mr_principal *p, int64_t now,
		 struct mr_scope *s, struct mr_err *err);

#endif
