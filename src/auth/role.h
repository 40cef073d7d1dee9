/*
 * The roles of ARCHITECTURE.md and the bit sets routes declare. A route's
 * role set is a mask of MR_ROLE_BIT(role); MR_ROLES_PUBLIC marks the few
 * routes that need no login (health, metrics, the API description, login).
 */
#ifndef MR_AUTH_ROLE_H
#define MR_AUTH_ROLE_H

enum mr_role {
	MR_ROLE_ADMIN,
	MR_ROLE_MANAGER,
	MR_ROLE_FIELD_REP,
	MR_ROLE_INSIDE_REP,
	MR_ROLE_MSL,
	MR_ROLE_MARKETING,
	MR_ROLE_COMPLIANCE,
	MR_ROLE_ANALYST,
	MR_ROLE_COUNT
};

#define MR_ROLE_BIT(r) (1u << (r))
#define MR_ROLES_ALL ((1u << MR_ROLE_COUNT) - 1u)
#define MR_ROLES_PUBLIC (1u << 30)

/* "admin", "field_rep", ...; "unknown" for an out-of-range value. */
const char *mr_role_name(int role);
/* The role named s, or -1. */
int mr_role_parse(const char *s);
/* Writes the names in mask as "admin, compliance" into out. */
void mr_roles_describe(unsigned mask, char *out, unsigned long n);

#endif
