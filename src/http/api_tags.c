/*
 * The tag API (docs/tags.md): the catalogue — define, read, delete tags
 * (PUT/GET/DELETE /api/v1/tags/{name}, GET /api/v1/tags), a tag's values
 * over the caller's doctors (/distribution), recompute — a doctor's tags
 * (GET /api/v1/hcps/{id}/tags) and manual values set by hand
 * (PUT /api/v1/hcps/{id}/tags/{name}), and the tag-change feed
 * (GET /api/v1/tags/feed, a resumable long poll like the event feed).
 * A tag that other tags or saved segments name cannot be deleted (409
 * naming them).
 *
 * Admin and marketing define tags and recompute; reps, managers and MSLs
 * set manual tags on the doctors in their scope; everyone reads, counts
 * and distributions covering only the doctors they may see. An
 * expression's error is a 400 whose detail says the column and what was
 * expected there, as the segment API's.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/role.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/time.h"
#include "engine/engine.h"
#include "engine/hcpdir.h"
#include "engine/tagdb.h"
#include "engine/tags.h"
#include "http/api_md.h"
#include "http/http.h"
#include "md/md.h"

enum {
	MR_TAGS_BODY_MAX = 128 << 10,
	MR_TAGS_LIST_MAX = 500,
	MR_TAGS_FEED_MAX = 1000,
	MR_TAGS_WAIT_MAX_S = 30,
	MR_TAGS_VALUES_MAX = 200,
};

/* ------------------------------------------------------------ helpers */

/* The tags are computed once the projections load: a request right after the start waits a little. */
static int mr_api_tags_ready(struct mr_req *r, struct mr_err *err)
{
	if (!mr_tags_wait_ready(r->app->tags, mr_mono_us() + 5 * MR_US_PER_S))
		return mr_err_set(err, MR_EUNAVAIL, "the server is still computing its tags; try again shortly");
	return 0;
}

static json_t *mr_api_names(const char *const *names, int n)
{
	json_t *a = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_string(names[i]));
	return a;
}

/* A tag as the catalogue shows it. */
static json_t *mr_api_tag_json(const struct mr_tag_info *g)
{
	json_t *o = json_object(), *counts = json_object();

	mr_json_set_str(o, "name", g->def.name);
	mr_json_set_str(o, "kind", g->def.kind == MR_TAG_MANUAL ? "manual" : "computed");
	mr_json_set_str(o, "type", mr_tagdb_type_name(g->def.type));
	mr_json_set_str(o, "expr", g->def.expr);
	mr_json_set_str(o, "description", g->def.description);
	mr_json_set_str(o, "category", g->def.category);
	mr_json_set_str(o, "created_by", g->def.created_by);
	mr_json_set_time(o, "created_at", g->def.created_at);
	mr_json_set_str(o, "updated_by", g->def.updated_by);
	mr_json_set_time(o, "updated_at", g->def.updated_at);
	json_object_set_new(o, "uses", mr_api_names(g->uses, g->nuses));
	json_object_set_new(o, "used_by", mr_api_names(g->used_by, g->nused_by));
	mr_json_set_str(o, "error", g->error);
	json_object_set_new(counts, "doctors", json_integer(g->total));
	json_object_set_new(counts, "with_value", json_integer(g->with_value));
	if (g->def.type == MR_XT_BOOL)
		json_object_set_new(counts, "true", json_integer(g->n_true));
	json_object_set_new(o, "counts", counts);
	return o;
}

/* The 400 of an expression that does not parse or check (as the segment API's). */
static int mr_api_tags_expr_error(struct mr_req *r, const struct mr_xerr *xe, const struct mr_err *err)
{
	json_t *body = json_pack("{s:{s:s, s:s, s:{s:s, s:i, s:s, s:s}}}", "error", "code", "invalid_expression",
				 "message", err->msg, "detail", "field", "expr", "column", xe->col, "expected",
				 xe->expected, "request_id", r->request_id);

	return mr_reply_json(r, 400, body);
}

/* ------------------------------------------------------------ the catalogue */

static int mr_api_tags_list(struct mr_req *r, struct mr_err *err)
{
	struct mr_tag_info *tags = NULL;
	unsigned char *scope = NULL;
	uint32_t nscope = 0;
	int64_t cursor = 0;
	json_t *items;
	int limit = 100, n = 0;
	int rc = mr_req_paging(r, &limit, &cursor, err);

	if (rc == 0)
		rc = mr_api_tags_ready(r, err);
	if (rc == 0)
		rc = mr_api_scope_map(r, &scope, &nscope, err);
	if (rc == 0)
		rc = mr_tags_list(r->app->tags, cursor, limit + 1, scope, nscope, &r->arena, &tags, &n);
	free(scope);
	if (rc < 0)
		return rc;
	items = json_array();
	for (int i = 0; i < n && i < limit; i++)
		json_array_append_new(items, mr_api_tag_json(&tags[i]));
	return mr_reply_json(r, 200, mr_page(items, n > limit && tags ? tags[limit - 1].def.id : 0));
}

static int mr_api_tags_get(struct mr_req *r, struct mr_err *err)
{
	struct mr_tag_info g;
	unsigned char *scope = NULL;
	uint32_t nscope = 0;
	int rc = mr_api_tags_ready(r, err);

	memset(&g, 0, sizeof(g));
	if (rc == 0)
		rc = mr_api_scope_map(r, &scope, &nscope, err);
	if (rc == 0)
		rc = mr_tags_get(r->app->tags, mr_req_param(r, "name"), scope, nscope, &r->arena, &g, err);
	free(scope);
	if (rc < 0)
		return rc;
	return mr_reply_json(r, 200, mr_api_tag_json(&g));
}

/* A definition being stored, through the writer. */
struct mr_tag_job {
	struct mr_req *r;
	struct mr_tagdef def;
	int created;
};

static int mr_api_tag_put_write(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_tag_job *j = arg;
	struct mr_val name = mr_v_text(j->def.name);
	int64_t live = 0;
	int rc = mr_conn_query_int(c, "SELECT COUNT(*) FROM tags WHERE name = ? AND deleted_at IS NULL", &name, 1,
				   &live, err);

	j->created = live == 0;
	j->def.id = 0;
	if (rc == 0)
		rc = mr_tagdb_put(c, &j->def, err);
	if (rc == 0)
		rc = mr_req_audit(j->r, c, "tag.define", "tag", j->def.name, j->created ? 201 : 200, NULL, NULL, err);
	return rc;
}

/* The body of a PUT: expr (absent or null: a manual tag of "type"), description, category. */
static int mr_api_tag_body(struct mr_req *r, json_t *body, struct mr_tagdef *def, enum mr_xtype *want,
			   struct mr_err *err)
{
	static const char *const allowed[] = { "expr", "description", "category", "type", NULL };
	const char *type = NULL;
	json_t *expr;
	int rc = mr_json_only(body, allowed, err);

	*want = MR_XT_NONE;
	if (rc == 0)
		rc = mr_json_str(body, "description", 0, MR_TAG_DESC_MAX, &def->description, err);
	if (rc == 0)
		rc = mr_json_str(body, "category", 0, MR_TAG_CATEGORY_MAX, &def->category, err);
	if (rc == 0)
		rc = mr_json_str(body, "type", 0, 16, &type, err);
	if (rc == 0 && type && (*want = mr_tagdb_type_parse(type)) == MR_XT_NONE)
		rc = mr_err_field(err, MR_EINVAL, "type", "\"type\" is boolean, number or text");
	expr = json_object_get(body, "expr");
	if (rc == 0 && expr && !json_is_null(expr) && !json_is_string(expr))
		rc = mr_err_field(err, MR_EINVAL, "expr", "\"expr\" must be a string holding the expression, or null"
				  " for a manual tag");
	if (rc == 0 && json_is_string(expr) && json_string_length(expr) > MR_EXPR_MAX_BYTES)
		rc = mr_err_field(err, MR_ETOOBIG, "expr", "the expression is longer than %d bytes",
				  MR_EXPR_MAX_BYTES);
	def->name = mr_req_param(r, "name");
	def->expr = json_is_string(expr) ? json_string_value(expr) : NULL;
	def->kind = def->expr ? MR_TAG_COMPUTED : MR_TAG_MANUAL;
	def->type = def->kind == MR_TAG_MANUAL ? *want : MR_XT_NONE;
	def->created_by = def->updated_by = r->who.user.login;
	def->created_at = def->updated_at = mr_now_us();
	return rc;
}

static int mr_api_tags_put(struct mr_req *r, struct mr_err *err)
{
	struct mr_tag_job j = { .r = r };
	struct mr_tag_info g = { 0 };
	struct mr_xerr xe;
	enum mr_xtype want = MR_XT_NONE;
	json_t *body = NULL;
	int rc = mr_api_tags_ready(r, err);

	memset(&xe, 0, sizeof(xe));
	if (rc == 0)
		rc = mr_req_json(r, &body, err);
	if (rc == 0)
		rc = mr_api_tag_body(r, body, &j.def, &want, err);
	if (rc < 0) {
		json_decref(body);
		return rc;
	}
	mr_tags_define_begin(r->app->tags);
	rc = mr_tags_check(r->app->tags, &j.def, &xe, err);
	if (rc == 0 && want && j.def.type != want)
		rc = mr_err_field(err, MR_EINVAL, "type", "the expression gives a %s, not a %s",
				  mr_xtype_name(j.def.type), mr_xtype_name(want));
	if (rc == 0)
		rc = mr_req_write(r, mr_api_tag_put_write, &j, err);
	if (rc == 0)
		mr_tags_apply_def(r->app->tags, &j.def);
	mr_tags_define_end(r->app->tags);
	json_decref(body);
	if (rc == MR_EINVAL && xe.col > 0)
		return mr_api_tags_expr_error(r, &xe, err);
	if (rc == 0)
		rc = mr_tags_get(r->app->tags, j.def.name, NULL, 0, &r->arena, &g, err);
	if (rc < 0)
		return rc;
	return mr_reply_json(r, j.created ? 201 : 200, mr_api_tag_json(&g));
}

struct mr_tag_del_job {
	struct mr_req *r;
	int64_t id;
};

static int mr_api_tag_delete_write(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_tag_del_job *j = arg;
	int rc = mr_tagdb_delete(c, j->id, j->r->who.user.login, mr_now_us(), err);

	if (rc == 0)
		rc = mr_req_audit(j->r, c, "tag.delete", "tag", mr_req_param(j->r, "name"), 204, NULL, NULL, err);
	return rc;
}

/* Whether tree x names tag name (as name or tag.name). */
static int mr_api_names_tag(const struct mr_xnode *x, const char *name)
{
	if (x->op == MR_XO_NAME && x->scope == MR_XS_PROFILE && x->text)
		return strcmp(x->text, name) == 0 || (strncmp(x->text, "tag.", 4) == 0 && strcmp(x->text + 4, name) == 0);
	for (int i = 0; i < x->n; i++) {
		if (mr_api_names_tag(x->kids[i], name))
			return 1;
	}
	return 0;
}

/* MR_ECONFLICT naming the saved segments whose expression names tag name. */
static int mr_api_tag_segments(struct mr_req *r, const char *name, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	struct mr_rows *rows = NULL;
	char users[400] = "";
	size_t used = 0;
	int rc = mr_req_conn(r, &c, err);

	if (rc == 0)
		rc = mr_conn_query(c, "SELECT name, expr FROM segments WHERE deleted_at IS NULL ORDER BY name", NULL, 0,
				   &rows, err);
	while (rc == 0 && (rc = mr_rows_next(rows, err)) == 1) {
		const char *expr = mr_rows_text(rows, 1);
		struct mr_eplan *plan = NULL;
		struct mr_xerr xe;
		struct mr_err ignored;

		rc = 0;
		if (mr_engine_compile(r->app->engine, expr, strlen(expr), mr_now_us(), &r->arena, &plan, &xe, &ignored) == 0 &&
		    mr_api_names_tag(mr_eplan_tree(plan), name) && used + 1 < sizeof(users)) {
			int w = snprintf(users + used, sizeof(users) - used, "%s%s", used ? ", " : "", mr_rows_text(rows, 0));

			used += w > 0 ? (size_t)w : 0;
		}
	}
	mr_rows_close(rows);
	if (c)
		mr_req_done_conn(r, c);
	if (rc == 0 && *users)
		rc = mr_err_set(err, MR_ECONFLICT, "tag %s is used by the saved segment %s; change or delete it first", name,
				users);
	return rc;
}

static int mr_api_tags_delete(struct mr_req *r, struct mr_err *err)
{
	struct mr_tag_del_job j = { r, 0 };
	int rc = mr_api_tags_ready(r, err);

	if (rc < 0)
		return rc;
	mr_tags_define_begin(r->app->tags);
	rc = mr_tags_check_delete(r->app->tags, mr_req_param(r, "name"), &j.id, err);
	if (rc == 0)
		rc = mr_api_tag_segments(r, mr_req_param(r, "name"), err);
	if (rc == 0)
		rc = mr_req_write(r, mr_api_tag_delete_write, &j, err);
	if (rc == 0)
		mr_tags_apply_delete(r->app->tags, j.id);
	mr_tags_define_end(r->app->tags);
	if (rc < 0)
		return rc;
	return mr_reply_empty(r, 204);
}

/* {"value", "count", "share"} of a value over total. */
static json_t *mr_api_share(json_t *value, int64_t count, int64_t total)
{
	return json_pack("{s:o, s:I, s:f}", "value", value, "count", (json_int_t)count, "share",
			 total ? (double)count / (double)total : 0.0);
}

static json_t *mr_api_dist_json(const char *name, const struct mr_tag_dist *d)
{
	json_t *o = json_object();

	mr_json_set_str(o, "tag", name);
	mr_json_set_str(o, "type", mr_tagdb_type_name(d->type));
	json_object_set_new(o, "doctors", json_integer(d->total));
	json_object_set_new(o, "nulls", json_integer(d->nulls));
	if (d->type == MR_XT_NUM) {
		json_t *bins = json_array();

		json_object_set_new(o, "count", json_integer(d->count));
		json_object_set_new(o, "min", d->count ? json_real(d->min) : json_null());
		json_object_set_new(o, "max", d->count ? json_real(d->max) : json_null());
		json_object_set_new(o, "mean", d->count ? json_real(d->mean) : json_null());
		for (int b = 0; b < d->nbins; b++)
			json_array_append_new(bins, json_pack("{s:f, s:f, s:I}", "from", d->bin_from[b], "to",
							      d->bin_to[b], "count", (json_int_t)d->bin_count[b]));
		json_object_set_new(o, "bins", bins);
	} else {
		json_t *values = json_array();

		for (int i = 0; i < d->nvalues; i++)
			json_array_append_new(values, mr_api_share(mr_tagdb_value_json(d->type, d->values[i]),
								   d->counts[i], d->total));
		json_array_append_new(values, mr_api_share(json_null(), d->nulls, d->total));
		json_object_set_new(o, "values", values);
		json_object_set_new(o, "other", json_integer(d->other));
	}
	return o;
}

static int mr_api_tags_distribution(struct mr_req *r, struct mr_err *err)
{
	const char *name = mr_req_param(r, "name");
	struct mr_tag_dist d;
	unsigned char *scope = NULL;
	uint32_t nscope = 0;
	int64_t limit = 20;
	int rc = mr_req_query_int(r, "limit", 1, MR_TAGS_VALUES_MAX, 20, &limit, err);

	memset(&d, 0, sizeof(d));
	if (rc == 0)
		rc = mr_api_tags_ready(r, err);
	if (rc == 0)
		rc = mr_api_scope_map(r, &scope, &nscope, err);
	if (rc == 0)
		rc = mr_tags_distribution(r->app->tags, name, scope, nscope, (int)limit, &r->arena, &d, err);
	free(scope);
	if (rc < 0)
		return rc;
	return mr_reply_json(r, 200, mr_api_dist_json(name, &d));
}

static int mr_api_recompute_write(struct mr_conn *c, void *arg, struct mr_err *err)
{
	return mr_req_audit(arg, c, "tags.recompute", "tag", NULL, 200, NULL, NULL, err);
}

static int mr_api_tags_recompute(struct mr_req *r, struct mr_err *err)
{
	int64_t hcps = 0, took = 0;
	int ntags = 0;
	int rc = mr_api_tags_ready(r, err);

	if (rc == 0)
		rc = mr_tags_recompute(r->app->tags, &ntags, &hcps, &took, err);
	if (rc == 0)
		rc = mr_req_write(r, mr_api_recompute_write, r, err);
	if (rc < 0)
		return rc;
	{
		char at[40];

		mr_time_format(mr_tags_recomputed_at(r->app->tags), at, sizeof(at));
		return mr_reply_json(r, 200, json_pack("{s:i, s:I, s:f, s:s}", "tags", ntags, "hcps", (json_int_t)hcps,
						       "took_ms", (double)took / 1000.0, "as_of", at));
	}
}

/* ------------------------------------------------------------ a doctor's tags */

static int mr_api_hcp_tags(struct mr_req *r, struct mr_err *err)
{
	const char *ext = mr_req_param(r, "id");
	struct mr_tag_value *v = NULL;
	struct mr_conn *c = NULL;
	json_t *meta = json_object(), *items;
	int64_t id = 0;
	int n = 0, rc = mr_api_tags_ready(r, err);

	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		rc = mr_api_hcp_ref(r, c, ext, 0, &id, err);
		if (rc == 0)
			n = mr_tags_of_hcp(r->app->tags, (uint32_t)id, &r->arena, &v);
		if (rc == 0)
			rc = mr_tagdb_manual_meta(c, mr_tags_doctor(r->app->tags, (uint32_t)id), meta, err);
		mr_req_done_conn(r, c);
	}
	if (rc < 0) {
		json_decref(meta);
		return rc;
	}
	items = json_array();
	for (int i = 0; i < n; i++) {
		char buf[48], key[24];
		json_t *o = json_object(), *m;

		mr_json_set_str(o, "name", v[i].name);
		mr_json_set_str(o, "kind", v[i].kind == MR_TAG_MANUAL ? "manual" : "computed");
		mr_json_set_str(o, "type", mr_tagdb_type_name(v[i].type));
		json_object_set_new(o, "value", mr_tagdb_value_json(v[i].type, mr_tag_value_text(&v[i].v, buf,
												  sizeof(buf))));
		snprintf(key, sizeof(key), "%lld", (long long)v[i].id);
		m = json_object_get(meta, key);
		if (v[i].kind == MR_TAG_MANUAL) {
			json_object_set(o, "set_by", m ? json_object_get(m, "set_by") : json_null());
			json_object_set(o, "set_at", m ? json_object_get(m, "set_at") : json_null());
		}
		json_array_append_new(items, o);
	}
	json_decref(meta);
	return mr_reply_json(r, 200, json_pack("{s:s, s:o}", "hcp", ext, "items", items));
}

/* A manual value on its way through the writer. */
struct mr_manual_job {
	struct mr_req *r;
	struct mr_tagdb_set set;
};

static int mr_api_manual_write(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_manual_job *j = arg;
	int rc = mr_tagdb_set_manual(c, &j->set, err);

	if (rc == 0)
		rc = mr_req_audit(j->r, c, "hcp.tag.set", "hcp", mr_req_param(j->r, "id"), 200, NULL, NULL, err);
	return rc;
}

/* The body's "value" as a manual value's text (NULL: clear it). */
static int mr_api_manual_value(struct mr_req *r, json_t *body, const char **text, struct mr_err *err)
{
	static const char *const allowed[] = { "value", NULL };
	json_t *v = json_object_get(body, "value");
	int rc = mr_json_only(body, allowed, err);

	*text = NULL;
	if (rc < 0)
		return rc;
	if (!v)
		return mr_err_field(err, MR_EINVAL, "value", "give \"value\": true or false, a number, a text, or"
				    " null to clear it");
	if (json_is_boolean(v)) {
		*text = json_is_true(v) ? "true" : "false";
	} else if (json_is_number(v)) {
		char buf[40];

		snprintf(buf, sizeof(buf), "%.17g", json_number_value(v));
		*text = mr_arena_strdup(&r->arena, buf);
	} else if (json_is_string(v)) {
		*text = json_string_value(v);
	} else if (!json_is_null(v)) {
		return mr_err_field(err, MR_EINVAL, "value", "\"value\" is true or false, a number, a text, or null");
	}
	return 0;
}

static int mr_api_hcp_tag_set(struct mr_req *r, struct mr_err *err)
{
	const char *ext = mr_req_param(r, "id"), *text = NULL, *canon = NULL;
	struct mr_manual_job j = { .r = r };
	struct mr_tag_value old;
	struct mr_conn *c = NULL;
	json_t *body = NULL, *o;
	int64_t id = 0;
	uint32_t hcp;
	int rc = mr_api_tags_ready(r, err);

	if (rc == 0)
		rc = mr_req_json(r, &body, err);
	if (rc == 0)
		rc = mr_api_manual_value(r, body, &text, err);
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		rc = mr_api_hcp_ref(r, c, ext, 1, &id, err);
		mr_req_done_conn(r, c);
	}
	if (rc < 0) {
		json_decref(body);
		return rc;
	}
	hcp = (uint32_t)id;
	mr_tags_manual_begin(r->app->tags);
	rc = mr_tags_manual_check(r->app->tags, mr_req_param(r, "name"), &hcp, text, &r->arena, &old, &canon, err);
	j.set = (struct mr_tagdb_set){ hcp, old.id, old.name, canon, old.v.str, old.type, r->who.user.login,
				       r->request_id, mr_now_us() };
	if (rc == 0)
		rc = mr_req_write(r, mr_api_manual_write, &j, err);
	if (rc == 0)
		mr_tags_apply_manual(r->app->tags, hcp, old.id, canon);
	mr_tags_manual_end(r->app->tags);
	json_decref(body);
	if (rc < 0)
		return rc;
	o = json_object();
	mr_json_set_str(o, "hcp", ext);
	mr_json_set_str(o, "tag", old.name);
	mr_json_set_str(o, "type", mr_tagdb_type_name(old.type));
	json_object_set_new(o, "value", mr_tagdb_value_json(old.type, canon));
	json_object_set_new(o, "old", mr_tagdb_value_json(old.type, old.v.str));
	mr_json_set_str(o, "set_by", r->who.user.login);
	mr_json_set_time(o, "set_at", j.set.now);
	return mr_reply_json(r, 200, o);
}

/* ------------------------------------------------------------ the feed */

/* The wait= parameter as a deadline kept across the request's parkings; 0: do not wait. */
static int mr_api_tags_deadline(struct mr_req *r, int64_t *deadline, struct mr_err *err)
{
	int64_t wait_s = 0;
	int rc = mr_req_query_int(r, "wait", 0, MR_TAGS_WAIT_MAX_S, 0, &wait_s, err);

	if (rc < 0)
		return rc;
	if (r->wait_count == 0)
		r->wait_deadline_us = wait_s ? r->t0_us + wait_s * MR_US_PER_S : 0;
	*deadline = r->wait_deadline_us;
	return 0;
}

static int mr_api_tags_feed(struct mr_req *r, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	struct mr_scope s;
	json_t *items = json_array();
	int64_t after = 0, limit = 100, deadline = 0, last = 0, head = 0;
	int rc = mr_req_query_int(r, "after", 0, INT64_MAX, 0, &after, err);

	if (rc == 0)
		rc = mr_req_query_int(r, "limit", 1, MR_TAGS_FEED_MAX, 100, &limit, err);
	if (rc == 0)
		rc = mr_api_tags_deadline(r, &deadline, err);
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc == 0) {
		rc = mr_api_scope(r, c, &s, err);
		if (rc == 0)
			rc = mr_tagdb_changes(c, after, (int)limit, s.kind == MR_SCOPE_ALL ? NULL : &s, items, &last, err);
		if (rc == 0)
			rc = mr_tagdb_head(c, &head, err);
		mr_req_done_conn(r, c);
	}
	/* nothing new yet: park until the log moves (the tag store wakes every poll) or the deadline */
	if (rc == 0 && json_array_size(items) == 0 && deadline && mr_mono_us() < deadline) {
		rc = mr_req_wait(r, INT64_MAX - 1, deadline, err);
		if (rc == 0) {
			json_decref(items);
			return 0;
		}
	}
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	return mr_reply_json(r, 200, json_pack("{s:o, s:I, s:I}", "items", items, "last_seq", (json_int_t)last,
					       "head_seq", (json_int_t)head));
}

#define MR_R_DEFINE (MR_ROLE_BIT(MR_ROLE_ADMIN) | MR_ROLE_BIT(MR_ROLE_MARKETING))
#define MR_R_MANUAL                                                                                          \
	(MR_ROLE_BIT(MR_ROLE_ADMIN) | MR_ROLE_BIT(MR_ROLE_MANAGER) | MR_ROLE_BIT(MR_ROLE_FIELD_REP) |            \
	 MR_ROLE_BIT(MR_ROLE_INSIDE_REP) | MR_ROLE_BIT(MR_ROLE_MSL))

const struct mr_route mr_routes_tags[] = {
	{ "GET", "/api/v1/tags", mr_api_tags_list, MR_ROLES_ALL, 0,
	  "The tag catalogue: each tag's definition, type and counts over your doctors (limit, cursor)", "tags", 0 },
	{ "GET", "/api/v1/tags/feed", mr_api_tags_feed, MR_ROLES_ALL, 0,
	  "The tag-change feed: changes (hcp, tag, old, new, cause) after seq 'after' in order (limit; wait up"
	  " to 30 s for new ones)", "tags", 0 },
	{ "POST", "/api/v1/tags/recompute", mr_api_tags_recompute, MR_R_DEFINE, MR_ROUTE_OK200,
	  "Computes every tag for every doctor again: {tags, hcps, took_ms}", "tags", 0 },
	{ "GET", "/api/v1/tags/{name}", mr_api_tags_get, MR_ROLES_ALL, 0,
	  "A tag: definition, type, the tags it uses and is used by, counts over your doctors", "tags", 0 },
	{ "PUT", "/api/v1/tags/{name}", mr_api_tags_put, MR_R_DEFINE, MR_ROUTE_BODY,
	  "Defines or replaces a tag: {expr, description, category}; expr null or absent: a manual tag of"
	  " \"type\" (boolean, number, text)", "tags", MR_TAGS_BODY_MAX },
	{ "DELETE", "/api/v1/tags/{name}", mr_api_tags_delete, MR_R_DEFINE, 0,
	  "Deletes a tag (409 while other tags use it)", "tags", 0 },
	{ "GET", "/api/v1/tags/{name}/distribution", mr_api_tags_distribution, MR_ROLES_ALL, 0,
	  "A tag's values over your doctors: value shares (booleans, texts; limit), or a histogram with min,"
	  " max and mean (numbers)", "tags", 0 },
	{ "GET", "/api/v1/hcps/{id}/tags", mr_api_hcp_tags, MR_ROLES_ALL, 0,
	  "Every tag's value for an HCP; manual ones with who set them and when", "tags", 0 },
	{ "PUT", "/api/v1/hcps/{id}/tags/{name}", mr_api_hcp_tag_set, MR_R_MANUAL, MR_ROUTE_BODY | MR_ROUTE_OK200,
	  "Sets a manual tag of an HCP in your scope: {value} (null clears it)", "tags", 4096 },
	{ 0 },
};
