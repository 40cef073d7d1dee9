/*
 * The UI's static files, served from the web root (--web) with the right
 * type, a strict Content-Security-Policy on pages, and no way out of the
 * root: names are restricted to a plain character set without "..".
 * Anything under /api/ that reaches here is an unknown API route.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/role.h"
#include "base/str.h"
#include "http/http.h"

enum { MR_STATIC_PATH_MAX = 200 };

static const struct {
	const char *ext;
	const char *type;
} mr_static_types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".json", "application/json; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".woff2", "font/woff2" },
	{ ".txt", "text/plain; charset=utf-8" },
};

static const char mr_csp[] = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
			     " img-src 'self' data:; connect-src 'self'; frame-ancestors 'none';"
			     " base-uri 'none'; form-action 'self'";

static const char *mr_static_type(const char *path)
{
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof(mr_static_types) / sizeof(mr_static_types[0]); i++) {
		if (strcmp(dot, mr_static_types[i].ext) == 0)
			return mr_static_types[i].type;
	}
	return NULL;
}

static int mr_static_safe(const char *p)
{
	size_t n = strlen(p);

	if (n == 0 || n > MR_STATIC_PATH_MAX || p[0] == '/' || p[0] == '.')
		return 0;
	if (strstr(p, "..") || strstr(p, "//") || strstr(p, "/."))
		return 0;
	return mr_str_charset(p, "._/-");
}

static int mr_api_static(struct mr_req *r, struct mr_err *err)
{
	const char *path = mr_req_param(r, "path");
	char file[4096];
	const char *type;
	struct stat st;
	int fd;

	if (!path || !*path)
		path = "index.html";
	if (strncmp(path, "api/", 4) == 0 || strcmp(path, "api") == 0)
		return mr_err_set(err, MR_ENOTFOUND, "there is no %s %s", r->method, r->path);
	type = mr_static_type(path);
	if (!mr_static_safe(path) || !type)
		return mr_err_set(err, MR_ENOTFOUND, "there is no page %s", r->path);
	snprintf(file, sizeof(file), "%s/%s", r->app->opts.web_root, path);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mr_err_set(err, MR_ENOTFOUND, "there is no page %s", r->path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return mr_err_set(err, MR_ENOTFOUND, "there is no page %s", r->path);
	}
	r->resp_fd = fd;
	r->resp_fd_size = (size_t)st.st_size;
	r->resp_len = (size_t)st.st_size;
	r->status = 200;
	r->content_type = type;
	r->replied = 1;
	mr_reply_header(r, "Cache-Control", "no-cache");
	if (strncmp(type, "text/html", 9) == 0)
		mr_reply_header(r, "Content-Security-Policy", mr_csp);
	return 0;
}

const struct mr_route mr_routes_static[] = {
	{ "GET", "/{path*}", mr_api_static, MR_ROLES_PUBLIC, MR_ROUTE_HIDDEN, "The web UI", "ui", 0 },
	{ 0 },
};
