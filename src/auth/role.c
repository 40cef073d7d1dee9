/* Role names, in one table. */
#include "auth/role.h"

#include <stdio.h>
#include <string.h>

static const char *const mr_role_names[MR_ROLE_COUNT] = {
	[MR_ROLE_ADMIN] = "admin",
	[MR_ROLE_MANAGER] = "manager",
	[MR_ROLE_FIELD_REP] = "field_rep",
	[MR_ROLE_INSIDE_REP] = "inside_rep",
	[MR_ROLE_MSL] = "msl",
	[MR_ROLE_MARKETING] = "marketing",
	[MR_ROLE_COMPLIANCE] = "compliance",
	[MR_ROLE_ANALYST] = "analyst",
};

const char *mr_role_name(int role)
{
	if (role < 0 || role >= MR_ROLE_COUNT)
		return "unknown";
	return mr_role_names[role];
}

int mr_role_parse(const char *s)
{
	for (int i = 0; i < MR_ROLE_COUNT; i++) {
		if (strcmp(s, mr_role_names[i]) == 0)
			return i;
	}
	return -1;
}

void mr_roles_describe(unsigned mask, char *out, unsigned long n)
{
	size_t o = 0;

	if (n)
		out[0] = '\0';
	for (int i = 0; i < MR_ROLE_COUNT && o < n; i++) {
		int k;
		if (!(mask & MR_ROLE_BIT(i)))
			continue;
		k = snprintf(out + o, n - o, "%s%s", o ? ", " : "", mr_role_names[i]);
		if (k < 0)
			break;
		o += (size_t)k;
	}
}
