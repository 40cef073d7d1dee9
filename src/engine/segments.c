/*
 * Saved segments (segments.h): rows in segments and segment_sizes.
 */
#include "engine/segments.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/json.h"
#include "base/str.h"
#include "base/time.h"

#define MR_SEGMENT_COLS "name, expr, description, created_by, created_at, updated_by, updated_at"

int mr_segment_name_ok(const char *name)
{
	return mr_str_slug_ok(name, MR_SEGMENT_NAME_MAX);
}

void mr_segment_day(int64_t us, char day[11])
{
	char buf[40];

	mr_time_format(us + INT64_C(8) * 3600 * MR_US_PER_S, buf, sizeof(buf)); /* China has no DST */
	memcpy(day, buf, 10);
	day[10] = '\0';
}

int mr_segment_put(struct mr_conn *c, const char *name, const char *expr, const char *description,
		   const char *who, int64_t now, int *created, struct mr_err *err)
{
	struct mr_val args[] = { mr_v_text(expr), mr_v_text(description), mr_v_text(who), mr_v_int(now),
				 mr_v_text(name) };
	int64_t changed = 0;
	int rc = mr_conn_exec(c, "UPDATE segments SET expr = ?, description = ?, updated_by = ?, updated_at = ?,"
			      " deleted_at = NULL WHERE name = ?", args, 5, &changed, err);

	*created = 0;
	if (rc < 0 || changed)
		return rc;
	{
		struct mr_val ins[] = { mr_v_text(name), mr_v_text(expr), mr_v_text(description), mr_v_text(who),
					mr_v_int(now), mr_v_text(who), mr_v_int(now) };

		*created = 1;
		return mr_conn_exec(c, "INSERT INTO segments (" MR_SEGMENT_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?)", ins,
				    7, NULL, err);
	}
}

int mr_segment_delete(struct mr_conn *c, const char *name, int64_t now, struct mr_err *err)
{
	struct mr_val args[] = { mr_v_int(now), mr_v_text(name) };
	int64_t changed = 0;
	int rc = mr_conn_exec(c, "UPDATE segments SET deleted_at = ? WHERE name = ? AND deleted_at IS NULL", args, 2,
			      &changed, err);

	if (rc == 0 && !changed)
		return mr_err_field(err, MR_ENOTFOUND, "name", "no saved segment '%s'", name);
	return rc;
}

static json_t *mr_segment_row(struct mr_rows *r)
{
	char at[40], up[40];

	mr_time_format(mr_rows_int(r, 4), at, sizeof(at));
	mr_time_format(mr_rows_int(r, 6), up, sizeof(up));
	return json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:s}", "name", mr_rows_text(r, 0), "expr", mr_rows_text(r, 1),
			 "description", mr_rows_isnull(r, 2) ? json_null() : json_string(mr_rows_text(r, 2)),
			 "created_by", mr_rows_text(r, 3), "created_at", at, "updated_by", mr_rows_text(r, 5),
			 "updated_at", up);
}

int mr_segment_get(struct mr_conn *c, const char *name, int sizes, json_t **out, struct mr_err *err)
{
	struct mr_val arg = mr_v_text(name);
	struct mr_rows *r = NULL;
	int64_t id = 0;
	int rc = mr_conn_query(c, "SELECT " MR_SEGMENT_COLS ", id FROM segments WHERE name = ? AND deleted_at IS NULL",
			       &arg, 1, &r, err);

	*out = NULL;
	if (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		*out = mr_segment_row(r);
		id = mr_rows_int(r, 7);
		rc = 0;
	} else if (rc == 0) {
		rc = mr_err_field(err, MR_ENOTFOUND, "name", "no saved segment '%s'", name);
	}
	mr_rows_close(r);
	if (rc == 0 && sizes) {
		struct mr_val a2[] = { mr_v_int(id), mr_v_int(MR_SEGMENT_SIZES_MAX) };
		json_t *list = json_array();

		r = NULL;
		rc = mr_conn_query(c, "SELECT day, size FROM (SELECT day, size FROM segment_sizes WHERE segment_id = ?"
				   " ORDER BY day DESC LIMIT ?) s ORDER BY day", a2, 2, &r, err);
		while (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
			rc = 0;
			json_array_append_new(list, json_pack("{s:s, s:I}", "day", mr_rows_text(r, 0), "size",
							      (json_int_t)mr_rows_int(r, 1)));
		}
		mr_rows_close(r);
		json_object_set_new(*out, "sizes", list);
	}
	if (rc < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return rc < 0 ? rc : 0;
}

int mr_segment_list(struct mr_conn *c, json_t *items, struct mr_err *err)
{
	struct mr_rows *r = NULL;
	int rc = mr_conn_query(c, "SELECT " MR_SEGMENT_COLS ", (SELECT z.size FROM segment_sizes z WHERE"
			       " z.segment_id = s.id ORDER BY z.day DESC LIMIT 1) FROM segments s"
			       " WHERE s.deleted_at IS NULL ORDER BY s.name", NULL, 0, &r, err);

	while (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		json_t *o = mr_segment_row(r);

		rc = 0;
		json_object_set_new(o, "last_size", mr_rows_isnull(r, 7) ? json_null() :
						    json_integer(mr_rows_int(r, 7)));
		json_array_append_new(items, o);
	}
	mr_rows_close(r);
	return rc < 0 ? rc : 0;
}

int mr_segments_measure(struct mr_conn *c, struct mr_engine *e, const char *name, int64_t now, int *measured,
			struct mr_err *err)
{
	struct mr_rows *r = NULL;
	char day[11];
	struct mr_val arg, byname = mr_v_text(name);
	int rc;
	struct todo {
		int64_t id;
		char *expr;
	} *todo = NULL;
	size_t n = 0, cap = 0;

	*measured = 0;
	mr_segment_day(now, day);
	arg = mr_v_text(day);
	if (name)
		rc = mr_conn_query(c, "SELECT id, expr FROM segments WHERE name = ? AND deleted_at IS NULL", &byname, 1,
				   &r, err);
	else
		rc = mr_conn_query(c, "SELECT s.id, s.expr FROM segments s WHERE s.deleted_at IS NULL AND NOT EXISTS"
				   " (SELECT 1 FROM segment_sizes z WHERE z.segment_id = s.id AND z.day = ?)",
				   &arg, 1, &r, err);
	while (rc == 0 && (rc = mr_rows_next(r, err)) == 1) {
		rc = 0;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			todo = realloc(todo, cap * sizeof(*todo));
			if (!todo)
				abort();
		}
		todo[n].id = mr_rows_int(r, 0);
		todo[n].expr = strdup(mr_rows_text(r, 1));
		if (!todo[n].expr)
			abort();
		n++;
	}
	mr_rows_close(r);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct mr_arena a;
		struct mr_eplan *p = NULL;
		struct mr_xerr xe;
		struct mr_err why;
		int64_t size = 0;

		mr_arena_init(&a);
		/* a segment that no longer compiles (a tag it names was deleted) is skipped, not fatal */
		if (mr_engine_compile(e, todo[i].expr, strlen(todo[i].expr), now, &a, &p, &xe, &why) == 0 &&
		    mr_engine_select(e, p, NULL, 0, 0, NULL, 0, NULL, &size, &why) == 0) {
			struct mr_val ins[] = { mr_v_int(todo[i].id), mr_v_text(day), mr_v_int(size), mr_v_int(now) };

			rc = mr_conn_exec(c, name ? "INSERT INTO segment_sizes (segment_id, day, size, measured_at)"
					  " VALUES (?, ?, ?, ?) ON CONFLICT (segment_id, day) DO UPDATE SET"
					  " size = excluded.size, measured_at = excluded.measured_at" :
					  "INSERT INTO segment_sizes (segment_id, day, size, measured_at)"
					  " VALUES (?, ?, ?, ?) ON CONFLICT (segment_id, day) DO NOTHING",
					  ins, 4, NULL, err);
			*measured += rc == 0;
		}
		mr_arena_release(&a);
	}
	for (size_t i = 0; i < n; i++)
		free(todo[i].expr);
	free(todo);
	return rc;
}
