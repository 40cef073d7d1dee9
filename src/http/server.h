/*
 * The HTTP server: libmicrohttpd with a pool of threads on epoll, feeding
 * each request through caps (headers, body, time), routing, authentication,
 * the role check and CSRF check, then the route's handler; and after the
 * response, metrics and one access-log line.
 *
 * Lifecycle: mr_server_start → (serve until a signal) → mr_server_stop.
 */
#ifndef MR_HTTP_SERVER_H
#define MR_HTTP_SERVER_H

#include "http/http.h"

struct mr_server;

/* Listens on app->opts.listen; app must outlive the server. */
int mr_server_start(struct mr_server **out, struct mr_app *app, struct mr_err *err);
/* The port actually bound (useful with port 0). */
int mr_server_port(struct mr_server *s);
/* Stops accepting, finishes requests in flight, frees s (NULL is fine). */
void mr_server_stop(struct mr_server *s);

#endif
