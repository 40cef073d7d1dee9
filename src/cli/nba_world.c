/*
 * See nba_world.h. The order is the server's (src/http/app.c): the
 * directory, then the event index the engine and the tags follow, then
 * the tags' stored definitions and values.
 */
#include "cli/nba_world.h"

#include <string.h>

#include "cli/progress.h"

int mr_nba_cli_world_load(struct mr_store *s, struct mr_nba_cli_world *w, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	struct mr_progress p;
	int rc;

	w->dir = mr_hcpdir_new();
	w->ix = mr_evindex_new(0);
	w->pf = mr_profile_new();
	w->e = mr_engine_new(w->dir, w->ix, w->pf);
	w->t = mr_tags_new(w->e, w->dir, w->ix, w->pf);
	mr_tags_source(w->t, &w->tsrc);
	mr_engine_set_tags(w->e, &w->tsrc);
	mr_profile_follow(w->pf, w->dir);
	mr_engine_follow(w->e);
	mr_tags_follow(w->t);
	mr_progress_init(&p, "loading", 3);
	rc = mr_store_acquire(s, &c, err);
	if (rc == 0)
		rc = mr_hcpdir_sync(w->dir, c, err);
	mr_progress_update(&p, 1, 0);
	if (rc == 0)
		rc = mr_evindex_sync(w->ix, c, err);
	mr_progress_update(&p, 2, 0);
	if (rc == 0)
		rc = mr_tags_load(w->t, c, err);
	mr_progress_update(&p, 3, 0);
	mr_progress_done(&p);
	if (c)
		mr_store_release(s, c);
	return rc;
}

void mr_nba_cli_world_free(struct mr_nba_cli_world *w)
{
	if (!w->e)
		return;
	mr_tags_free(w->t);
	mr_engine_free(w->e);
	mr_evindex_free(w->ix);
	mr_hcpdir_free(w->dir);
	mr_profile_free(w->pf);
	memset(w, 0, sizeof(*w));
}
