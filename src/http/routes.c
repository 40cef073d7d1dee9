/*
 * Every resource's route table, in matching order. Adding a resource is
 * one api_<resource>.c with its table and one line here. The static
 * catch-all stays last.
 */
#include "http/router.h"

extern const struct mr_route mr_routes_system[];
extern const struct mr_route mr_routes_auth[];
extern const struct mr_route mr_routes_tokens[];
extern const struct mr_route mr_routes_users[];
extern const struct mr_route mr_routes_audit[];
extern const struct mr_route mr_routes_masterdata[];
extern const struct mr_route mr_routes_relations[];
extern const struct mr_route mr_routes_fhir[];
extern const struct mr_route mr_routes_identity[];
extern const struct mr_route mr_routes_events[];
extern const struct mr_route mr_routes_interactions[];
extern const struct mr_route mr_routes_tasks[];
extern const struct mr_route mr_routes_channels[];
extern const struct mr_route mr_routes_analytics[];
extern const struct mr_route mr_routes_engine[];
extern const struct mr_route mr_routes_tags[];
extern const struct mr_route mr_routes_experiments[];
extern const struct mr_route mr_routes_nba[];
extern const struct mr_route mr_routes_models[];
extern const struct mr_route mr_routes_static[];

const struct mr_route *const mr_route_tables[] = {
	mr_routes_system,
	mr_routes_auth,
	mr_routes_tokens,
	mr_routes_users,
	mr_routes_audit,
	mr_routes_masterdata,
	mr_routes_relations,
	mr_routes_fhir,
	mr_routes_identity,
	mr_routes_events,
	mr_routes_interactions,
	mr_routes_tasks,
	mr_routes_channels,
	mr_routes_analytics,
	mr_routes_engine,
	mr_routes_tags,
	mr_routes_experiments,
	mr_routes_nba,
	mr_routes_models,
	mr_routes_static,
	NULL,
};
