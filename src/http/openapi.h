/*
 * The OpenAPI 3.1 description of the API, generated from the route table
 * at start, so it cannot drift from what the server really routes.
 */
#ifndef MR_HTTP_OPENAPI_H
#define MR_HTTP_OPENAPI_H

#include <stddef.h>

#include "http/http.h"

/* Renders the document for routes; the caller frees the string. */
char *mr_openapi_render(const struct mr_route *routes, size_t n, size_t *len);

#endif
