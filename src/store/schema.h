/*
 * The numbered migrations, embedded into the binary at build time from
 * src/store/schema/NNN_<name>.sql by scripts/embed-sql.sh.
 */
#ifndef MR_STORE_SCHEMA_H
#define MR_STORE_SCHEMA_H

#include <stddef.h>

struct mr_migration {
	int version;
	const char *name;
	const char *sql; /* with @ID@ and @BLOB@ still to substitute per dialect */
};

extern const struct mr_migration mr_migrations[];
extern const size_t mr_migrations_count;

#endif
