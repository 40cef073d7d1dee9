/*
 * See openapi.h. Each route becomes an operation with its summary, tag,
 * path parameters, security (none for public routes), and the error
 * responses every route can give, sharing one Error schema.
 */
#include "http/openapi.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "auth/role.h"
#include "base/version.h"

static void mr_openapi_lower(char *s)
{
	for (; *s; s++) {
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
	}
}

static json_t *mr_openapi_params(const char *pattern)
{
	json_t *params = json_array();

	for (const char *p = strchr(pattern, '{'); p; p = strchr(p + 1, '{')) {
		const char *end = strchr(p, '}');
		json_t *param = json_object();
		size_t n = (size_t)(end - p - 1);
		if (n && p[n] == '*')
			n--;
		json_object_set_new(param, "name", json_stringn(p + 1, n));
		json_object_set_new(param, "in", json_string("path"));
		json_object_set_new(param, "required", json_true());
		json_object_set_new(param, "schema", json_pack("{s:s}", "type", "string"));
		json_array_append_new(params, param);
	}
	return params;
}

static json_t *mr_openapi_responses(const struct mr_route *rt)
{
	json_t *resp = json_object();
	json_t *err_ref = json_pack("{s:s,s:{s:{s:{s:s}}}}", "description", "error",
				    "content", "application/json", "schema", "$ref",
				    "#/components/schemas/Error");
	const char *ok = strcmp(rt->method, "POST") == 0 ? "201" : "200";

	if (strcmp(rt->method, "DELETE") == 0 || strstr(rt->pattern, "logout"))
		ok = "204";
	if (strstr(rt->pattern, "/login") || strstr(rt->pattern, "/verify"))
		ok = "200";
	if (rt->flags & MR_ROUTE_OK200)
		ok = "200";
	json_object_set_new(resp, ok, json_pack("{s:s}", "description", "success"));
	json_object_set(resp, "400", err_ref);
	if (!(rt->roles & MR_ROLES_PUBLIC)) {
		json_object_set(resp, "401", err_ref);
		json_object_set(resp, "403", err_ref);
	}
	json_object_set_new(resp, "default", err_ref);
	return resp;
}

static json_t *mr_openapi_operation(const struct mr_route *rt)
{
	json_t *op = json_object();
	char opid[160];
	char roles[200];
	char desc[260];
	json_t *params = mr_openapi_params(rt->pattern);

	snprintf(opid, sizeof(opid), "%s", rt->method);
	mr_openapi_lower(opid);
	for (const char *p = rt->pattern; *p && strlen(opid) + 2 < sizeof(opid); p++) {
		char c = *p;
		size_t n = strlen(opid);
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			opid[n] = c;
			opid[n + 1] = '\0';
		} else if (c == '/' || c == '_' || c == '{') {
			opid[n] = '_';
			opid[n + 1] = '\0';
		}
	}
	if (rt->roles & MR_ROLES_PUBLIC)
		snprintf(desc, sizeof(desc), "No login needed.");
	else {
		mr_roles_describe(rt->roles, roles, sizeof(roles));
		snprintf(desc, sizeof(desc), "Roles: %s.", roles);
	}
	json_object_set_new(op, "operationId", json_string(opid));
	json_object_set_new(op, "summary", json_string(rt->summary));
	json_object_set_new(op, "description", json_string(desc));
	json_object_set_new(op, "tags", json_pack("[s]", rt->tag ? rt->tag : "system"));
	if (json_array_size(params))
		json_object_set_new(op, "parameters", params);
	else
		json_decref(params);
	if (rt->flags & MR_ROUTE_BODY)
		json_object_set_new(op, "requestBody",
				    json_pack("{s:b,s:{s:{s:{s:s}}}}", "required", 1, "content",
					      "application/json", "schema", "type", "object"));
	if (rt->roles & MR_ROLES_PUBLIC)
		json_object_set_new(op, "security", json_array());
	json_object_set_new(op, "responses", mr_openapi_responses(rt));
	return op;
}

static json_t *mr_openapi_components(void)
{
	return json_pack(
		"{s:{s:{s:s,s:s},s:{s:s,s:s,s:s}},s:{s:{s:s,s:[s],s:{s:{s:s,s:[s,s],s:{s:{s:s},s:{s:s},s:{s:s}}}}}}}",
		"securitySchemes",
		"bearer", "type", "http", "scheme", "bearer",
		"session", "type", "apiKey", "in", "cookie", "name", "mr_session",
		"schemas",
		"Error", "type", "object", "required", "error", "properties",
		"error", "type", "object", "required", "code", "message", "properties",
		"code", "type", "string", "message", "type", "string", "detail", "type", "object");
}

char *mr_openapi_render(const struct mr_route *routes, size_t n, size_t *len)
{
	json_t *doc = json_object();
	json_t *paths = json_object();
	char *s;

	json_object_set_new(doc, "openapi", json_string("3.1.0"));
	json_object_set_new(doc, "info",
			    json_pack("{s:s,s:s,s:s}", "title", "medreach API", "version", MR_VERSION,
				      "description",
				      "Omnichannel HCP engagement. Errors are always"
				      " {\"error\":{\"code\",\"message\",\"detail\"}}; lists take limit and"
				      " cursor and return {\"items\",\"next_cursor\"}."));
	json_object_set_new(doc, "servers", json_pack("[{s:s}]", "url", "/"));
	for (size_t i = 0; i < n; i++) {
		char method[16];
		json_t *item;
		if (routes[i].flags & MR_ROUTE_HIDDEN)
			continue;
		item = json_object_get(paths, routes[i].pattern);
		if (!item) {
			item = json_object();
			json_object_set_new(paths, routes[i].pattern, item);
		}
		snprintf(method, sizeof(method), "%s", routes[i].method);
		mr_openapi_lower(method);
		json_object_set_new(item, method, mr_openapi_operation(&routes[i]));
	}
	json_object_set_new(doc, "paths", paths);
	json_object_set_new(doc, "components", mr_openapi_components());
	json_object_set_new(doc, "security", json_pack("[{s:[]},{s:[]}]", "bearer", "session"));
	s = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(doc);
	*len = s ? strlen(s) : 0;
	return s;
}
