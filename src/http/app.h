/*
 * Assembling the server-wide state (struct mr_app) from an open store and
 * keys: the checked route table, the OpenAPI document, metrics and the
 * login throttle. Lifecycle: mr_app_init → (writer, server) → mr_app_release.
 */
#ifndef MR_HTTP_APP_H
#define MR_HTTP_APP_H

#include "http/http.h"

/* Sets opts' unset fields to their defaults. */
void mr_server_opts_defaults(struct mr_server_opts *o);
/* Fills app; fails when the route table is invalid (a route without roles, ...). */
int mr_app_init(struct mr_app *app, struct mr_store *store, const struct mr_keys *keys,
		const struct mr_server_opts *opts, struct mr_err *err);
/*
 * Starts what a serving process runs beside its requests: the in-memory
 * indexes' first loads, and the follower, which every quarter second reads
 * what other processes or nodes appended to the event log and master data
 * (and so wakes the long polls waiting for it). mr_app_release stops it.
 */
void mr_app_start(struct mr_app *app);
/*
 * Stops the follower (it reads other nodes' writes and measures the saved
 * segments through the writer once a day): call it before the writer
 * stops. mr_app_release does it too, when it was not done.
 */
void mr_app_stop(struct mr_app *app);
void mr_app_release(struct mr_app *app);

#endif
