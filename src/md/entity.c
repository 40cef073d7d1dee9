/*
 * The master-data entities as tables of fields, and the generic record
 * operations over them: read from JSON, check and normalise, upsert with a
 * change history, soft delete. Adding a field is adding a row below (and a
 * column in a migration); the API, the importer and the exports follow.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"
#include "base/time.h"
#include "md/ident.h"
#include "md/md.h"
#include "md/norm.h"

static const char *const mr_grades[] = { "甲|a", "乙|b", "丙|c", NULL };
static const char *const mr_rep_types[] = { "field", "inside", "msl", "kam", NULL };
static const char *const mr_genders[] = { "M|男|m|male", "F|女|f|female", NULL };
static const char *const mr_titles[] = { "resident|住院医师", "attending|主治医师",
					 "assoc_chief|副主任医师", "chief|主任医师", NULL };
static const char *const mr_hcp_statuses[] = { "active", "inactive", "provisional", NULL };
static const char *const mr_hco_types[] = { "general", "specialty", "tcm", "maternal_child",
					    "community", "clinic", "other", NULL };
static const char *const mr_content_statuses[] = { "draft|草稿", "in_review|审核中", "approved|已批准",
						   "expired|已过期", "withdrawn|已撤回", NULL };

static const struct mr_md_field mr_territory_fields[] = {
	{ "name", "name", MR_MDK_TEXT, MR_MDF_REQUIRED, 1, 200, NULL, NULL, NULL },
	{ "parent", "parent_id", MR_MDK_REF, MR_MDF_FILTER, 0, 0, NULL, "territory", NULL },
};

static const struct mr_md_field mr_hco_fields[] = {
	{ "name", "name", MR_MDK_TEXT, MR_MDF_REQUIRED, 1, 200, NULL, NULL, NULL },
	{ "level", "level", MR_MDK_INT, MR_MDF_FILTER, 1, 3, NULL, NULL, NULL },
	{ "grade", "grade", MR_MDK_ENUM, MR_MDF_FILTER, 0, 0, mr_grades, NULL, NULL },
	{ "type", "type", MR_MDK_ENUM, MR_MDF_FILTER, 0, 0, mr_hco_types, NULL, NULL },
	{ "province", "province", MR_MDK_TEXT, MR_MDF_FILTER, 1, 40, NULL, NULL, NULL },
	{ "city", "city", MR_MDK_TEXT, MR_MDF_FILTER, 1, 40, NULL, NULL, NULL },
	{ "city_tier", "city_tier", MR_MDK_INT, MR_MDF_FILTER, 1, 5, NULL, NULL, NULL },
	{ "region", "region", MR_MDK_TEXT, MR_MDF_FILTER, 1, 40, NULL, NULL, NULL },
	{ "address", "address", MR_MDK_TEXT, 0, 1, 400, NULL, NULL, NULL },
	{ "departments", "departments", MR_MDK_LIST, 0, 0, 2000, NULL, NULL, NULL },
};

static const struct mr_md_field mr_rep_fields[] = {
	{ "name", "name", MR_MDK_TEXT, MR_MDF_REQUIRED, 1, 100, NULL, NULL, NULL },
	{ "type", "type", MR_MDK_ENUM, MR_MDF_REQUIRED | MR_MDF_FILTER, 0, 0, mr_rep_types, NULL, NULL },
	{ "manager", "manager_id", MR_MDK_REF, MR_MDF_FILTER, 0, 0, NULL, "rep", NULL },
	{ "territory", "territory_id", MR_MDK_REF, MR_MDF_FILTER, 0, 0, NULL, "territory", NULL },
	{ "user", "user_login", MR_MDK_TEXT, MR_MDF_FILTER, 1, 64, NULL, NULL, NULL },
};

static const struct mr_md_field mr_hcp_fields[] = {
	{ "name", "name", MR_MDK_TEXT, MR_MDF_REQUIRED, 1, 100, NULL, NULL, NULL },
	{ "pinyin", "pinyin", MR_MDK_TEXT, 0, 1, 200, NULL, NULL, NULL },
	{ "gender", "gender", MR_MDK_ENUM, MR_MDF_FILTER, 0, 0, mr_genders, NULL, NULL },
	{ "title", "title", MR_MDK_ENUM, MR_MDF_FILTER, 0, 0, mr_titles, NULL, NULL },
	{ "specialty", "specialty", MR_MDK_TEXT, MR_MDF_FILTER, 1, 60, NULL, NULL, NULL },
	{ "department", "department", MR_MDK_TEXT, MR_MDF_FILTER, 1, 60, NULL, NULL, NULL },
	{ "hco", "hco_id", MR_MDK_REF, MR_MDF_FILTER, 0, 0, NULL, "hco", NULL },
	{ "license_no", NULL, MR_MDK_IDENT, 0, 0, 0, NULL, NULL, NULL },
	{ "phone", NULL, MR_MDK_IDENT, 0, 0, 0, NULL, NULL, NULL },
	{ "email", NULL, MR_MDK_IDENT, 0, 0, 0, NULL, NULL, NULL },
	{ "status", "status", MR_MDK_ENUM, MR_MDF_FILTER, 0, 0, mr_hcp_statuses, NULL, "active" },
};

/* An item of the content library (an article, a video, a leaflet) that events name. */
static const struct mr_md_field mr_content_fields[] = {
	{ "title", "title", MR_MDK_TEXT, MR_MDF_REQUIRED, 1, 200, NULL, NULL, NULL },
	{ "topic", "topic", MR_MDK_TEXT, MR_MDF_FILTER, 1, 60, NULL, NULL, NULL },
	{ "product", "product", MR_MDK_TEXT, MR_MDF_FILTER, 1, 60, NULL, NULL, NULL },
	{ "status", "status", MR_MDK_ENUM, MR_MDF_FILTER, 0, 0, mr_content_statuses, NULL, "draft" },
	{ "expires_at", "expires_at", MR_MDK_TIME, 0, 0, 0, NULL, NULL, NULL },
};

#define MR_NFIELDS(a) ((int)(sizeof(a) / sizeof((a)[0])))

const struct mr_md_entity mr_md_territory = { "territory", "territories", "territories",
					      mr_territory_fields, MR_NFIELDS(mr_territory_fields), NULL };
const struct mr_md_entity mr_md_hco = { "hco", "hcos", "hcos", mr_hco_fields,
					MR_NFIELDS(mr_hco_fields), "name" };
const struct mr_md_entity mr_md_rep = { "rep", "reps", "reps", mr_rep_fields,
					MR_NFIELDS(mr_rep_fields), NULL };
const struct mr_md_entity mr_md_hcp = { "hcp", "hcps", "hcps", mr_hcp_fields,
					MR_NFIELDS(mr_hcp_fields), "name" };
/* "content" is a mass noun: the API path and the import name are the same as the entity's */
const struct mr_md_entity mr_md_content = { "content", "content", "content", mr_content_fields,
					    MR_NFIELDS(mr_content_fields), "title" };

static const struct mr_md_entity *const mr_md_entities[] = { &mr_md_territory, &mr_md_hco,
							     &mr_md_rep, &mr_md_hcp, &mr_md_content };

const struct mr_md_entity *mr_md_entity_find(const char *name)
{
	for (size_t i = 0; i < sizeof(mr_md_entities) / sizeof(mr_md_entities[0]); i++) {
		if (strcmp(mr_md_entities[i]->name, name) == 0 ||
		    strcmp(mr_md_entities[i]->plural, name) == 0)
			return mr_md_entities[i];
	}
	return NULL;
}

int mr_md_field_index(const struct mr_md_entity *e, const char *name)
{
	for (int i = 0; i < e->nfields; i++) {
		if (strcmp(e->fields[i].name, name) == 0)
			return i;
	}
	return -1;
}

void mr_md_rec_init(struct mr_md_rec *rec, const struct mr_md_entity *e)
{
	memset(rec, 0, sizeof(*rec));
	rec->e = e;
	rec->nattrs = -1;
}

/* One JSON value as the string a CSV cell would hold (LIST: ';'-joined). */
static int mr_md_json_cell(const struct mr_md_field *f, json_t *v, struct mr_arena *a,
			   const char **out, struct mr_err *err)
{
	char num[32];

	if (json_is_null(v)) {
		*out = "";
	} else if (json_is_string(v)) {
		*out = json_string_value(v);
	} else if (json_is_integer(v) && f->kind == MR_MDK_INT) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		*out = mr_arena_strdup(a, num);
	} else if (json_is_array(v) && f->kind == MR_MDK_LIST) {
		struct mr_buf b;
		size_t i;
		json_t *item;

		mr_buf_init(&b, 64 * 1024);
		json_array_foreach(v, i, item) {
			if (!json_is_string(item) || strchr(json_string_value(item), ';')) {
				mr_buf_release(&b);
				return mr_err_field(err, MR_EINVAL, f->name,
						    "%s is a list of strings without ';'", f->name);
			}
			if ((i > 0 && mr_buf_addc(&b, ';') < 0) ||
			    mr_buf_adds(&b, json_string_value(item)) < 0) {
				mr_buf_release(&b);
				return mr_err_field(err, MR_ETOOBIG, f->name, "%s is too long", f->name);
			}
		}
		*out = mr_arena_strdup(a, mr_buf_str(&b));
		mr_buf_release(&b);
	} else {
		return mr_err_field(err, MR_EINVAL, f->name, "%s must be %s", f->name,
				    f->kind == MR_MDK_INT ? "an integer" :
				    f->kind == MR_MDK_LIST ? "an array of strings" : "a string");
	}
	return 0;
}

static int mr_md_attrs_from_json(struct mr_md_rec *rec, json_t *attrs, struct mr_arena *a,
				 struct mr_err *err)
{
	const char *key;
	json_t *v;

	if (!json_is_object(attrs))
		return mr_err_field(err, MR_EINVAL, "attrs", "attrs must be an object of strings");
	rec->nattrs = 0;
	json_object_foreach(attrs, key, v) {
		char num[32];

		if (rec->nattrs >= MR_MD_ATTRS_MAX)
			return mr_err_field(err, MR_ETOOBIG, "attrs", "at most %d custom attributes",
					    MR_MD_ATTRS_MAX);
		if (json_is_integer(v)) {
			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
			rec->attr_val[rec->nattrs] = mr_arena_strdup(a, num);
		} else if (json_is_string(v)) {
			rec->attr_val[rec->nattrs] = json_string_value(v);
		} else {
			return mr_err_field(err, MR_EINVAL, "attrs",
					    "custom attribute '%.40s' must be a string or an integer", key);
		}
		rec->attr_key[rec->nattrs++] = key;
	}
	return 0;
}

int mr_md_rec_from_json(struct mr_md_rec *rec, json_t *obj, struct mr_arena *a,
			struct mr_err *err)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		int i = mr_md_field_index(rec->e, key);
		int rc = 0;

		if (strcmp(key, "id") == 0) {
			if (!json_is_string(v))
				return mr_err_field(err, MR_EINVAL, "id", "id must be a string");
			rec->ext_id = json_string_value(v);
		} else if (strcmp(key, "attrs") == 0) {
			rc = mr_md_attrs_from_json(rec, v, a, err);
		} else if (i < 0) {
			return mr_err_field(err, MR_EINVAL, key,
					    "unknown field '%.40s' of %s; put custom values in \"attrs\"",
					    key, rec->e->name);
		} else {
			rc = mr_md_json_cell(&rec->e->fields[i], v, a, &rec->val[i], err);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Matches s against "canonical|alias|..." entries; returns the canonical value or NULL. */
static const char *mr_md_enum_match(const char *const *values, const char *s, struct mr_arena *a)
{
	for (int i = 0; values[i]; i++) {
		const char *p = values[i];

		while (*p) {
			const char *bar = strchr(p, '|');
			size_t n = bar ? (size_t)(bar - p) : strlen(p);

			if (strlen(s) == n && strncmp(p, s, n) == 0) {
				const char *c = strchr(values[i], '|');

				return c ? mr_arena_strndup(a, values[i], (size_t)(c - values[i])) : values[i];
			}
			p += n + (bar ? 1 : 0);
		}
	}
	return NULL;
}

/* The canonical values of an enum, for an error message. */
static void mr_md_enum_list(const char *const *values, char *out, size_t n)
{
	struct mr_buf b;

	mr_buf_init(&b, n - 1);
	for (int i = 0; values[i]; i++) {
		const char *bar = strchr(values[i], '|');
		size_t len = bar ? (size_t)(bar - values[i]) : strlen(values[i]);

		if ((i > 0 && mr_buf_adds(&b, ", ") < 0) || mr_buf_add(&b, values[i], len) < 0)
			break;
	}
	snprintf(out, n, "%s", mr_buf_str(&b));
	mr_buf_release(&b);
}

/* Trims spaces of s (a copy in a when needed). */
static const char *mr_md_trim(const char *s, struct mr_arena *a)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	if (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) {
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		return mr_arena_strndup(a, s, n);
	}
	return s;
}

/* Parses a time field's value (a date is midnight in Asia/Shanghai) into *us. */
static int mr_md_parse_time(const struct mr_md_field *f, const char *s, int64_t *us,
			    struct mr_err *err)
{
	if (mr_time_parse(s, MR_MD_ZONE_S, us) < 0)
		return mr_err_field(err, MR_EINVAL, f->name,
				    "%s: expected an ISO 8601 date such as 2027-03-31", f->name);
	return 0;
}

static int mr_md_check_value(const struct mr_md_field *f, const char **v, struct mr_arena *a,
			     struct mr_err *err)
{
	const char *s = mr_md_trim(*v, a);
	char norm[MR_NORM_MAX], list[200];
	int64_t n;

	*v = s;
	if (!*s)
		return 0;
	if (mr_utf8_check(s, strlen(s)) != 0)
		return mr_err_field(err, MR_EINVAL, f->name, "%s is not valid UTF-8", f->name);
	switch (f->kind) {
	case MR_MDK_TEXT:
	case MR_MDK_LIST:
	case MR_MDK_REF:
		if ((int64_t)mr_utf8_len(s, strlen(s)) > (f->max ? f->max : MR_MD_EXT_MAX))
			return mr_err_field(err, MR_EINVAL, f->name, "%s is longer than %lld characters",
					    f->name, (long long)(f->max ? f->max : MR_MD_EXT_MAX));
		return 0;
	case MR_MDK_INT:
		if (mr_parse_i64(s, f->min, f->max, &n) < 0)
			return mr_err_field(err, MR_EINVAL, f->name, "%s must be a whole number from %lld to %lld, not '%.20s'",
					    f->name, (long long)f->min, (long long)f->max, s);
		return 0;
	case MR_MDK_ENUM:
		*v = mr_md_enum_match(f->values, s, a);
		if (*v)
			return 0;
		mr_md_enum_list(f->values, list, sizeof(list));
		return mr_err_field(err, MR_EINVAL, f->name, "%s '%.40s' is not one of: %s", f->name, s, list);
	case MR_MDK_IDENT:
		if (mr_norm_identity(f->name, s, norm, f->name, err) < 0)
			return err->code;
		*v = mr_arena_strdup(a, norm);
		return 0;
	case MR_MDK_TIME:
		/* kept as RFC 3339 in UTC, which checks again to itself; the upsert stores µs */
		if (mr_md_parse_time(f, s, &n, err) < 0)
			return err->code;
		mr_time_format(n, norm, sizeof(norm));
		*v = mr_arena_strdup(a, norm);
		return 0;
	}
	return 0;
}

int mr_md_rec_check(struct mr_md_rec *rec, int creating, struct mr_arena *a, struct mr_err *err)
{
	if (!rec->ext_id || !*rec->ext_id)
		return mr_err_field(err, MR_EINVAL, "id", "id is required (your system's id of this %s)",
				    rec->e->name);
	if (strlen(rec->ext_id) > MR_MD_EXT_MAX || !mr_str_charset(rec->ext_id, "_-.:"))
		return mr_err_field(err, MR_EINVAL, "id",
				    "id '%.70s' must be 1 to %d characters of A-Z a-z 0-9 _ - . :",
				    rec->ext_id, MR_MD_EXT_MAX);
	for (int i = 0; i < rec->e->nfields; i++) {
		const struct mr_md_field *f = &rec->e->fields[i];

		if (rec->val[i] && mr_md_check_value(f, &rec->val[i], a, err) < 0)
			return err->code;
		if (rec->val[i] && !*rec->val[i] && f->def)
			rec->val[i] = f->def; /* clearing a field with a default sets the default */
		if ((f->flags & MR_MDF_REQUIRED) && ((creating && !rec->val[i]) ||
						    (rec->val[i] && !*rec->val[i])))
			return mr_err_field(err, MR_EINVAL, f->name, "%s is required", f->name);
	}
	for (int i = 0; i < rec->nattrs; i++) {
		size_t kn = strlen(rec->attr_key[i]), vn = strlen(rec->attr_val[i]);

		if (kn == 0 || kn > 64 || vn > 1000 || mr_utf8_check(rec->attr_key[i], kn) != 0 ||
		    mr_utf8_check(rec->attr_val[i], vn) != 0)
			return mr_err_field(err, MR_EINVAL, "attrs",
					    "custom attribute '%.40s': names of 1-64 bytes, values up to 1000, UTF-8",
					    rec->attr_key[i]);
	}
	return 0;
}

int mr_md_lookup(struct mr_conn *c, const struct mr_md_entity *e, const char *ext_id, int64_t *id,
		 struct mr_err *err)
{
	char sql[160];
	struct mr_val arg = mr_v_text(ext_id);

	snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE ext_id = ? AND deleted_at IS NULL",
		 e->table);
	return mr_conn_query_int(c, sql, &arg, 1, id, err);
}

/* The change-history rows of one upsert, written in one statement (mr_md_hist_write). */
struct mr_md_hist {
	const char *field[MR_MD_MAXF + 8];
	const char *old_value[MR_MD_MAXF + 8];
	const char *new_value[MR_MD_MAXF + 8];
	int n;
};

static void mr_md_hist_add(struct mr_md_hist *h, const char *field, const char *old_value,
			   const char *new_value)
{
	assert(h->n < (int)(sizeof(h->field) / sizeof(h->field[0])));
	h->field[h->n] = field;
	h->old_value[h->n] = old_value;
	h->new_value[h->n] = new_value;
	h->n++;
}

#define MR_MD_CHANGE_COLS                                                                  \
	"INSERT INTO md_changes (entity, entity_id, at, login, request_id, source, field,"  \
	" old_value, new_value) VALUES "
#define MR_MD_CHANGE_ROW "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
/* rows per statement: 9 parameters each, and the PostgreSQL backend takes 64 */
enum { MR_MD_CHANGE_ARGS = 9, MR_MD_CHANGE_CHUNK = 7 };

/* Appends h's rows, in order, in as few statements as the parameter limit allows. */
static int mr_md_hist_write(struct mr_conn *c, const char *entity, int64_t id,
			    const struct mr_md_hist *h, const struct mr_md_actor *who,
			    struct mr_err *err)
{
	char sql[sizeof(MR_MD_CHANGE_COLS) + MR_MD_CHANGE_CHUNK * (sizeof(MR_MD_CHANGE_ROW) + 2)];
	struct mr_val args[MR_MD_CHANGE_CHUNK * MR_MD_CHANGE_ARGS];
	int rc = 0;

	for (int at = 0; rc == 0 && at < h->n; at += MR_MD_CHANGE_CHUNK) {
		int rows = h->n - at < MR_MD_CHANGE_CHUNK ? h->n - at : MR_MD_CHANGE_CHUNK;
		size_t len = 0;

		for (int i = 0; i < rows; i++) {
			struct mr_val *v = args + i * MR_MD_CHANGE_ARGS;

			v[0] = mr_v_text(entity);
			v[1] = mr_v_int(id);
			v[2] = mr_v_int(who->now);
			v[3] = mr_v_text(who->login);
			v[4] = mr_v_text(who->request_id);
			v[5] = mr_v_text(who->source);
			v[6] = mr_v_text(h->field[at + i]);
			v[7] = mr_v_text(h->old_value[at + i]);
			v[8] = mr_v_text(h->new_value[at + i]);
			len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s%s",
						i ? ", " : MR_MD_CHANGE_COLS, MR_MD_CHANGE_ROW);
		}
		rc = mr_conn_exec(c, sql, args, rows * MR_MD_CHANGE_ARGS, NULL, err);
	}
	return rc;
}

int mr_md_change(struct mr_conn *c, const char *entity, int64_t id, const char *field,
		 const char *old_value, const char *new_value, const struct mr_md_actor *who,
		 struct mr_err *err)
{
	struct mr_val args[] = {
		mr_v_text(entity), mr_v_int(id), mr_v_int(who->now), mr_v_text(who->login),
		mr_v_text(who->request_id), mr_v_text(who->source), mr_v_text(field),
		mr_v_text(old_value), mr_v_text(new_value),
	};

	return mr_conn_exec(c, MR_MD_CHANGE_COLS MR_MD_CHANGE_ROW, args, 9, NULL, err);
}

/* The columns an upsert writes: parallel arrays, with the old value for the history. */
struct mr_md_write {
	const char *col[MR_MD_MAXF + 8];
	struct mr_val val[MR_MD_MAXF + 8];
	int n;
};

static void mr_md_write_add(struct mr_md_write *w, const char *col, struct mr_val v)
{
	for (int i = 0; i < w->n; i++) {
		if (strcmp(w->col[i], col) == 0) {
			w->val[i] = v; /* a derived value replaces a given empty one */
			return;
		}
	}
	w->col[w->n] = col;
	w->val[w->n] = v;
	w->n++;
}

/* The stored row of rec's ext_id, as text per field column, or found = 0. */
struct mr_md_old {
	int found;
	int64_t id;
	int deleted;
	int erased;
	char *val[MR_MD_MAXF];   /* arena strings; NULL for SQL NULL */
	char *attrs;
};

static int mr_md_load_old(struct mr_conn *c, const struct mr_md_rec *rec, struct mr_arena *a,
			  struct mr_md_old *old, struct mr_err *err)
{
	const struct mr_md_entity *e = rec->e;
	struct mr_buf sql;
	struct mr_rows *rows = NULL;
	struct mr_val arg = mr_v_text(rec->ext_id);
	int rc, col = 4;

	memset(old, 0, sizeof(*old));
	mr_buf_init(&sql, 4096);
	/* built with plain appends: this runs once per imported row */
	mr_buf_adds(&sql, e == &mr_md_hcp ? "SELECT id, deleted_at, erased_at, attrs" :
		    "SELECT id, deleted_at, NULL, attrs");
	for (int i = 0; i < e->nfields; i++) {
		if (!e->fields[i].column)
			continue;
		mr_buf_adds(&sql, ", ");
		mr_buf_adds(&sql, e->fields[i].column);
	}
	mr_buf_adds(&sql, " FROM ");
	mr_buf_adds(&sql, e->table);
	mr_buf_adds(&sql, " WHERE ext_id = ?");
	rc = mr_conn_query(c, mr_buf_str(&sql), &arg, 1, &rows, err);
	if (rc == 0)
		rc = mr_rows_next(rows, err);
	if (rc == 1) {
		old->found = 1;
		old->id = mr_rows_int(rows, 0);
		old->deleted = !mr_rows_isnull(rows, 1);
		old->erased = !mr_rows_isnull(rows, 2);
		if (!mr_rows_isnull(rows, 3))
			old->attrs = mr_arena_strdup(a, mr_rows_text(rows, 3));
		for (int i = 0; i < e->nfields; i++) {
			if (!e->fields[i].column)
				continue;
			if (!mr_rows_isnull(rows, col))
				old->val[i] = mr_arena_strdup(a, mr_rows_text(rows, col));
			col++;
		}
		rc = 0;
	}
	mr_rows_close(rows);
	mr_buf_release(&sql);
	return rc;
}

/* The ext_id of row id of entity ref (for the change history), or NULL. */
static char *mr_md_ext_of(struct mr_conn *c, const struct mr_md_entity *ref, const char *id,
			  struct mr_arena *a)
{
	char sql[128];
	struct mr_rows *rows = NULL;
	struct mr_val arg;
	struct mr_err e2;
	char *out = NULL;
	int64_t n;

	if (!id || mr_parse_i64(id, 1, INT64_MAX, &n) < 0)
		return NULL;
	arg = mr_v_int(n);
	snprintf(sql, sizeof(sql), "SELECT ext_id FROM %s WHERE id = ?", ref->table);
	if (mr_conn_query(c, sql, &arg, 1, &rows, &e2) == 0 && mr_rows_next(rows, &e2) == 1)
		out = mr_arena_strdup(a, mr_rows_text(rows, 0));
	mr_rows_close(rows);
	return out;
}

/* The custom attributes as canonical JSON text (sorted keys), or NULL when none. */
static char *mr_md_attrs_text(const struct mr_md_rec *rec, struct mr_arena *a)
{
	json_t *o = json_object();
	char *s, *out = NULL;

	for (int i = 0; i < rec->nattrs; i++) {
		if (*rec->attr_val[i])
			json_object_set_new(o, rec->attr_key[i], json_string(rec->attr_val[i]));
	}
	if (json_object_size(o) > 0) {
		s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
		out = mr_arena_strdup(a, s);
		free(s);
	}
	json_decref(o);
	return out;
}

static int mr_md_same(const char *a, const char *b)
{
	if (!a || !*a)
		return !b || !*b;
	return b && strcmp(a, b) == 0;
}

/* A stored time (µs as text) as RFC 3339, for the change history; NULL stays NULL. */
static const char *mr_md_time_text(const char *us, struct mr_arena *a)
{
	char t[40];
	int64_t n;

	if (!us || mr_parse_i64(us, INT64_MIN, INT64_MAX, &n) < 0)
		return us;
	mr_time_format(n, t, sizeof(t));
	return mr_arena_strdup(a, t);
}

/* The checked RFC 3339 value of a time field as the µs text it is stored as. */
static const char *mr_md_time_us(const struct mr_md_field *f, const char *v, struct mr_arena *a,
				 struct mr_err *err)
{
	char num[24];
	int64_t us;

	if (mr_md_parse_time(f, v, &us, err) < 0)
		return NULL;
	snprintf(num, sizeof(num), "%lld", (long long)us);
	return mr_arena_strdup(a, num);
}

/* Adds field i's new value to w (refs resolved), noting the change for the history. */
static int mr_md_stage_field(struct mr_conn *c, const struct mr_md_rec *rec, int i,
			     const struct mr_md_old *old, struct mr_arena *a, struct mr_md_write *w,
			     const char **hist_old, const char **hist_new, struct mr_err *err)
{
	const struct mr_md_field *f = &rec->e->fields[i];
	const char *v = rec->val[i];
	const char *stored = v && *v ? v : NULL;
	int64_t n = 0;

	if (f->kind == MR_MDK_TIME && stored && !(stored = mr_md_time_us(f, v, a, err)))
		return err->code;
	if (f->kind == MR_MDK_REF && stored) {
		const struct mr_md_entity *ref = mr_md_entity_find(f->ref);
		char num[24];

		if (mr_md_lookup(c, ref, v, &n, err) < 0) {
			if (err->code != MR_ENOTFOUND)
				return err->code;
			mr_err_field(err, MR_EINVAL, f->name, "%s '%.64s' does not exist", f->name, v);
			return mr_err_kind(err, "unknown_reference");
		}
		if (ref == rec->e && old->found && n == old->id)
			return mr_err_field(err, MR_EINVAL, f->name, "a %s cannot be its own %s",
					    rec->e->name, f->name);
		snprintf(num, sizeof(num), "%lld", (long long)n);
		stored = mr_arena_strdup(a, num);
	}
	if (old->found && mr_md_same(stored, old->val[i]))
		return 0;
	*hist_new = f->kind == MR_MDK_REF ? v :
		    f->kind == MR_MDK_TIME ? mr_md_time_text(stored, a) : stored;
	*hist_old = f->kind == MR_MDK_REF ? mr_md_ext_of(c, mr_md_entity_find(f->ref), old->val[i], a) :
		    f->kind == MR_MDK_TIME ? mr_md_time_text(old->val[i], a) : old->val[i];
	if (!stored)
		mr_md_write_add(w, f->column, mr_v_null());
	else if (f->kind == MR_MDK_INT || f->kind == MR_MDK_REF || f->kind == MR_MDK_TIME)
		mr_md_write_add(w, f->column, mr_v_int(mr_parse_i64(stored, INT64_MIN, INT64_MAX, &n) == 0 ? n : 0));
	else
		mr_md_write_add(w, f->column, mr_v_text(stored));
	return 1;
}

/* What mr_md_prepare derived ahead (see md.h); strings in the caller's arena. */
struct mr_md_prep {
	const char *name_key, *pinyin, *pinyin_key, *initials; /* name_key NULL: not derived */
	struct mr_ident_prep ident[MR_IDENT_NEW_MAX];
	int nident;
};

void mr_md_prepare(const struct mr_keys *k, struct mr_md_rec *rec, struct mr_arena *a)
{
	struct mr_md_prep *p = mr_arena_alloc(a, sizeof(*p));
	int in = rec->e->key_field ? mr_md_field_index(rec->e, rec->e->key_field) : -1;
	int ip = mr_md_field_index(rec->e, "pinyin");

	memset(p, 0, sizeof(*p));
	if (in >= 0 && rec->val[in]) {
		struct mr_name_keys nk;

		mr_name_keys(rec->val[in], ip < 0 ? NULL : rec->val[ip], &nk);
		p->name_key = mr_arena_strdup(a, nk.name);
		p->pinyin = mr_arena_strdup(a, nk.pinyin);
		p->pinyin_key = mr_arena_strdup(a, nk.pinyin_key);
		p->initials = mr_arena_strdup(a, nk.initials);
	}
	for (int i = 0; i < rec->e->nfields && p->nident < MR_IDENT_NEW_MAX; i++) {
		if (rec->e->fields[i].kind != MR_MDK_IDENT || !rec->val[i] || !*rec->val[i])
			continue;
		p->nident += mr_ident_prepare(k, rec->e->fields[i].name, rec->val[i], a,
					      &p->ident[p->nident]);
	}
	rec->prep = p;
}

/* Adds the derived search keys when the key field (name, title) or the pinyin changes. */
static void mr_md_stage_keys(const struct mr_md_rec *rec, const struct mr_md_old *old,
			     struct mr_arena *a, struct mr_md_write *w)
{
	int in = rec->e->key_field ? mr_md_field_index(rec->e, rec->e->key_field) : -1;
	int ip = mr_md_field_index(rec->e, "pinyin");
	const char *name, *pinyin;
	struct mr_md_prep keys;

	if (in < 0 || (!rec->val[in] && (ip < 0 || !rec->val[ip])))
		return;
	name = rec->val[in] ? rec->val[in] : old->val[in];
	/* a new name without a new pinyin gets its pinyin transliterated again */
	pinyin = ip < 0 ? NULL : rec->val[ip];
	if (rec->prep && rec->prep->name_key && rec->val[in]) {
		keys = *rec->prep; /* derived from this same name and pinyin */
	} else {
		struct mr_name_keys *k = mr_arena_alloc(a, sizeof(*k));

		mr_name_keys(name ? name : "", pinyin, k);
		keys.name_key = k->name;
		keys.pinyin = k->pinyin;
		keys.pinyin_key = k->pinyin_key;
		keys.initials = k->initials;
	}
	mr_md_write_add(w, "name_key", mr_v_text(keys.name_key));
	if (ip < 0)
		return;
	if (!pinyin || !*pinyin) {
		/* the pinyin shown is the transliteration; a given pinyin was staged as a field */
		mr_md_write_add(w, "pinyin", mr_v_text(keys.pinyin));
	}
	mr_md_write_add(w, "pinyin_key", mr_v_text(keys.pinyin_key));
	mr_md_write_add(w, "initials", mr_v_text(keys.initials));
}

/*
 * Inserts the new row and gets its id: RETURNING on PostgreSQL (one round
 * trip), last_insert_rowid() on SQLite, where RETURNING costs more than a
 * second, trivial statement on the same connection.
 */
static int mr_md_insert(struct mr_conn *c, const struct mr_md_rec *rec, struct mr_md_write *w,
			struct mr_buf *sql, int64_t *id, struct mr_err *err)
{
	int pg = mr_conn_kind(c) == MR_STORE_PG;
	int rc;

	mr_buf_adds(sql, "INSERT INTO ");
	mr_buf_adds(sql, rec->e->table);
	for (int i = 0; i < w->n; i++) {
		mr_buf_adds(sql, i ? ", " : " (");
		mr_buf_adds(sql, w->col[i]);
	}
	mr_buf_adds(sql, ") VALUES (");
	for (int i = 0; i < w->n; i++)
		mr_buf_adds(sql, i ? ", ?" : "?");
	mr_buf_adds(sql, pg ? ") RETURNING id" : ")");
	if (pg)
		return mr_conn_query_int(c, mr_buf_str(sql), w->val, w->n, id, err);
	rc = mr_conn_exec(c, mr_buf_str(sql), w->val, w->n, NULL, err);
	if (rc == 0)
		rc = mr_conn_query_int(c, "SELECT last_insert_rowid()", NULL, 0, id, err);
	return rc;
}

static int mr_md_exec_write(struct mr_conn *c, const struct mr_md_rec *rec,
			    const struct mr_md_old *old, struct mr_md_write *w,
			    const struct mr_md_actor *who, int64_t *id, struct mr_err *err)
{
	struct mr_buf sql;
	int rc;

	mr_buf_init(&sql, 8192);
	if (!old->found) {
		mr_md_write_add(w, "ext_id", mr_v_text(rec->ext_id));
		mr_md_write_add(w, "created_at", mr_v_int(who->now));
		mr_md_write_add(w, "updated_at", mr_v_int(who->now));
		rc = mr_md_insert(c, rec, w, &sql, id, err);
	} else {
		mr_md_write_add(w, "updated_at", mr_v_int(who->now));
		mr_buf_adds(&sql, "UPDATE ");
		mr_buf_adds(&sql, rec->e->table);
		mr_buf_adds(&sql, " SET deleted_at = NULL");
		for (int i = 0; i < w->n; i++) {
			mr_buf_adds(&sql, ", ");
			mr_buf_adds(&sql, w->col[i]);
			mr_buf_adds(&sql, " = ?");
		}
		mr_buf_adds(&sql, " WHERE id = ?");
		mr_md_write_add(w, "id", mr_v_int(old->id));
		rc = mr_conn_exec(c, mr_buf_str(&sql), w->val, w->n, NULL, err);
		*id = old->id;
	}
	mr_buf_release(&sql);
	return rc;
}

/* Applies the identity fields (phone, email, license_no) of a stored HCP record. */
static int mr_md_stage_idents(struct mr_conn *c, const struct mr_keys *k,
			      const struct mr_md_rec *rec, int64_t id, const struct mr_md_actor *who,
			      int *changed, struct mr_err *err)
{
	for (int i = 0; i < rec->e->nfields; i++) {
		const struct mr_md_field *f = &rec->e->fields[i];
		int rc;

		if (f->kind != MR_MDK_IDENT || !rec->val[i])
			continue;
		rc = mr_ident_set_primary(c, k, id, f->name, rec->val[i], who, err);
		if (rc < 0)
			return rc;
		*changed += rc;
	}
	return 0;
}

/*
 * The identity fields of an HCP inserted just now, which has no identities
 * yet: all in one statement, their history rows added to h.
 */
static int mr_md_new_idents(struct mr_conn *c, const struct mr_keys *k,
			    const struct mr_md_rec *rec, int64_t id, const struct mr_md_actor *who,
			    struct mr_arena *a, struct mr_md_hist *h, int *changed,
			    struct mr_err *err)
{
	const char *kinds[MR_IDENT_NEW_MAX], *values[MR_IDENT_NEW_MAX];
	const struct mr_ident_prep *prep[MR_IDENT_NEW_MAX];
	char masked[MR_IDENT_NEW_MAX][MR_PII_MASK_MAX];
	int n = 0, rc;

	for (int i = 0; i < rec->e->nfields; i++) {
		if (rec->e->fields[i].kind != MR_MDK_IDENT || !rec->val[i] || !*rec->val[i])
			continue;
		assert(n < MR_IDENT_NEW_MAX);
		kinds[n] = rec->e->fields[i].name;
		values[n] = rec->val[i];
		prep[n] = NULL;
		for (int j = 0; rec->prep && j < rec->prep->nident; j++) {
			if (strcmp(rec->prep->ident[j].kind, kinds[n]) == 0)
				prep[n] = &rec->prep->ident[j];
		}
		n++;
	}
	rc = mr_ident_set_primaries_new(c, k, id, n, kinds, values, prep, who->now, masked, err);
	for (int i = 0; rc == 0 && i < n; i++)
		mr_md_hist_add(h, kinds[i], NULL, mr_arena_strdup(a, masked[i]));
	if (rc == 0)
		*changed += n;
	return rc;
}

static int mr_md_check_mode(const struct mr_md_rec *rec, const struct mr_md_old *old, int mode,
			    struct mr_err *err)
{
	if (old->erased)
		return mr_err_field(err, MR_ECONFLICT, "id",
				    "%s %s was erased at the doctor's request (PIPL); give a new id",
				    rec->e->name, rec->ext_id);
	if (mode == 1 && old->found && !old->deleted)
		return mr_err_field(err, MR_ECONFLICT, "id", "%s %s already exists", rec->e->name,
				    rec->ext_id);
	if (mode == 2 && (!old->found || old->deleted))
		return mr_err_set(err, MR_ENOTFOUND, "%s %s does not exist", rec->e->name, rec->ext_id);
	return 0;
}

/* Stages every given field and the attributes into w; the changed ones go to h when the row exists. */
static int mr_md_stage_all(struct mr_conn *c, const struct mr_md_rec *rec,
			   const struct mr_md_old *old, struct mr_arena *a, struct mr_md_write *w,
			   struct mr_md_hist *h, int *nchanged, struct mr_err *err)
{
	struct mr_md_hist fields = { .n = 0 };
	int rc = 0;

	for (int i = 0; rc == 0 && i < rec->e->nfields; i++) {
		const struct mr_md_field *f = &rec->e->fields[i];
		struct mr_md_rec *mut = (struct mr_md_rec *)rec;
		const char *given = rec->val[i];

		if (f->kind == MR_MDK_IDENT)
			continue;
		if (!given && !old->found && f->def)
			mut->val[i] = f->def;
		if (!rec->val[i])
			continue;
		fields.field[fields.n] = f->name;
		rc = mr_md_stage_field(c, rec, i, old, a, w, &fields.old_value[fields.n],
				       &fields.new_value[fields.n], err);
		mut->val[i] = given;
		if (rc == 1) {
			fields.n++;
			rc = 0;
		}
	}
	if (rc == 0 && rec->nattrs >= 0) {
		char *attrs = mr_md_attrs_text(rec, a);

		if (!old->found || !mr_md_same(attrs, old->attrs)) {
			mr_md_write_add(w, "attrs", mr_v_text(attrs));
			mr_md_hist_add(&fields, "attrs", old->attrs, attrs);
		}
	}
	*nchanged = fields.n;
	/* the history of a new row is its creation; of a restored one, "restored" first */
	if (!old->found)
		mr_md_hist_add(h, "*", NULL, "created");
	else if (old->deleted)
		mr_md_hist_add(h, "*", "deleted", "restored");
	for (int i = 0; old->found && i < fields.n; i++)
		mr_md_hist_add(h, fields.field[i], fields.old_value[i], fields.new_value[i]);
	return rc;
}

int mr_md_upsert(struct mr_conn *c, const struct mr_keys *k, const struct mr_md_rec *rec, int mode,
		 const struct mr_md_actor *who, struct mr_md_result *res, struct mr_err *err)
{
	struct mr_arena a;
	struct mr_md_old old;
	struct mr_md_write w = { .n = 0 };
	struct mr_md_hist h = { .n = 0 };
	int nchanged = 0, rc;

	memset(res, 0, sizeof(*res));
	mr_arena_init(&a);
	rc = mr_md_load_old(c, rec, &a, &old, err);
	if (rc == 0)
		rc = mr_md_check_mode(rec, &old, mode, err);
	if (rc == 0)
		rc = mr_md_stage_all(c, rec, &old, &a, &w, &h, &nchanged, err);
	if (rc < 0)
		goto out;
	if (nchanged > 0 || !old.found || old.deleted) {
		mr_md_stage_keys(rec, &old, &a, &w);
		rc = mr_md_exec_write(c, rec, &old, &w, who, &res->id, err);
	} else {
		res->id = old.id;
	}
	res->created = !old.found;
	res->changed = nchanged + (old.deleted ? 1 : 0);
	if (rc == 0 && rec->e == &mr_md_hcp && res->created)
		rc = mr_md_new_idents(c, k, rec, res->id, who, &a, &h, &res->changed, err);
	if (rc == 0)
		rc = mr_md_hist_write(c, rec->e->name, res->id, &h, who, err);
	if (rc == 0 && rec->e == &mr_md_hcp && !res->created)
		rc = mr_md_stage_idents(c, k, rec, res->id, who, &res->changed, err);
out:
	mr_arena_release(&a);
	return rc;
}

int mr_md_delete(struct mr_conn *c, const struct mr_md_entity *e, int64_t id,
		 const struct mr_md_actor *who, struct mr_err *err)
{
	char sql[128];
	struct mr_val args[] = { mr_v_int(who->now), mr_v_int(who->now), mr_v_int(id) };
	int rc;

	snprintf(sql, sizeof(sql),
		 "UPDATE %s SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL",
		 e->table);
	rc = mr_conn_exec(c, sql, args, 3, NULL, err);
	if (rc == 0)
		rc = mr_md_change(c, e->name, id, "*", NULL, "deleted", who, err);
	return rc;
}
