/*
 * The projections the next-best-action engine reads (the HCP directory,
 * the profile, the event index, the engine and the tags), loaded from the
 * store for a command that runs without a server: `medreach nba run` and
 * `medreach nba simulate`. Progress goes to stderr.
 */
#ifndef MR_CLI_NBA_WORLD_H
#define MR_CLI_NBA_WORLD_H

#include "base/err.h"
#include "engine/engine.h"
#include "engine/evindex.h"
#include "engine/hcpdir.h"
#include "engine/profile.h"
#include "engine/tags.h"
#include "store/store.h"

struct mr_nba_cli_world {
	struct mr_hcpdir *dir;
	struct mr_evindex *ix;
	struct mr_profile *pf;
	struct mr_engine *e;
	struct mr_tags *t;
	struct mr_tagsrc tsrc;       /* the tags as the engine and the models read them */
};

/* Builds w and loads it from s; the index and tags follow what is appended later (mr_evindex_sync). */
int mr_nba_cli_world_load(struct mr_store *s, struct mr_nba_cli_world *w, struct mr_err *err);
/* Frees what w holds (a zeroed w: nothing). */
void mr_nba_cli_world_free(struct mr_nba_cli_world *w);

#endif
