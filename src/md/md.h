/*
 * Master data: territories, HCOs (hospitals), reps, HCPs (doctors) and the
 * content library's items, described once as tables of fields, so the JSON API, the CSV importer,
 * the change history and the exports all read the same description.
 *
 * A record (struct mr_md_rec) is a set of field values as strings, each
 * either absent (not given: left as it is), empty (cleared) or a value.
 * mr_md_rec_check validates and normalises every given value in place;
 * mr_md_upsert then inserts the record or changes the fields that differ,
 * keyed by the customer's external id, and writes one md_changes row per
 * changed field: who, when, from what, to what. Re-applying the same
 * record changes nothing, which is what makes re-imports idempotent.
 *
 * Contact fields of an HCP (phone, email, license_no) are identities
 * (identity.c): sealed at rest, unique across HCPs, masked when shown.
 * Strings in a record are borrowed from the caller or from the arena it
 * passed; nothing is freed piecemeal.
 */
#ifndef MR_MD_MD_H
#define MR_MD_MD_H

#include <jansson.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "crypto/keys.h"
#include "store/store.h"

enum { MR_MD_MAXF = 16, MR_MD_EXT_MAX = 64, MR_MD_ATTRS_MAX = 32 };

enum mr_md_kind {
	MR_MDK_TEXT,  /* UTF-8 up to max code points */
	MR_MDK_INT,   /* an integer in [min, max] */
	MR_MDK_ENUM,  /* one of values ("canonical|alias|alias") */
	MR_MDK_REF,   /* the external id of a row of ref (an entity name) */
	MR_MDK_LIST,  /* ';'-separated text in CSV, an array in JSON */
	MR_MDK_IDENT, /* an HCP identity of the field's own name (phone, email, license_no) */
	MR_MDK_TIME,  /* an ISO 8601 date or date-time; stored as µs since the epoch (UTC) */
};

/* A date (or a time without a zone) in master data is read in Asia/Shanghai, as imports read it. */
enum { MR_MD_ZONE_S = 8 * 3600 };

enum mr_md_flags {
	MR_MDF_REQUIRED = 1u << 0, /* must be given when the record is created */
	MR_MDF_FILTER = 1u << 1,   /* usable as ?name=value on lists */
};

struct mr_md_field {
	const char *name;           /* JSON key and CSV header */
	const char *column;         /* SQL column (refs: the id column) */
	enum mr_md_kind kind;
	unsigned flags;
	int64_t min, max;           /* INT range; TEXT/LIST length in code points */
	const char *const *values;  /* ENUM values, NULL-terminated */
	const char *ref;            /* REF: the entity referred to */
	const char *def;            /* the value on creation when not given, or NULL */
};

struct mr_md_entity {
	const char *name;           /* "hcp" */
	const char *plural;         /* "hcps": the API path and the import name */
	const char *table;
	const struct mr_md_field *fields;
	int nfields;
	const char *key_field;      /* the field name_key is derived from (q= searches it by
				       prefix; HCPs also by pinyin), or NULL: not searchable */
};

extern const struct mr_md_entity mr_md_territory, mr_md_hco, mr_md_rep, mr_md_hcp, mr_md_content;

/* The entity of a singular or plural name, or NULL. */
const struct mr_md_entity *mr_md_entity_find(const char *name);
/* The index of field name in e, or -1. */
int mr_md_field_index(const struct mr_md_entity *e, const char *name);

struct mr_md_prep;

struct mr_md_rec {
	const struct mr_md_entity *e;
	const char *ext_id;
	const char *val[MR_MD_MAXF]; /* NULL: absent; "": clear */
	int nattrs;                  /* custom attributes; -1: absent */
	const char *attr_key[MR_MD_ATTRS_MAX];
	const char *attr_val[MR_MD_ATTRS_MAX];
	const struct mr_md_prep *prep; /* derived ahead by mr_md_prepare, or NULL */
};

/* Who is writing, for the change history. */
struct mr_md_actor {
	const char *login;       /* NULL for the system */
	const char *request_id;  /* NULL outside a request */
	const char *source;      /* "api", "import", "demo", "merge", "erase" */
	int64_t now;
};

/* Empties rec for entity e (every field absent, attributes absent). */
void mr_md_rec_init(struct mr_md_rec *rec, const struct mr_md_entity *e);
/*
 * Fills rec from a JSON object: "id" and the entity's fields; "attrs" an
 * object of custom attributes. An unknown key is an error naming it.
 * Strings stay borrowed from obj or are put in a.
 */
int mr_md_rec_from_json(struct mr_md_rec *rec, json_t *obj, struct mr_arena *a,
			struct mr_err *err);
/*
 * Checks and normalises every given value in place (into a): lengths,
 * ranges, enums (aliases such as 主任医师 become their canonical value),
 * phones to E.164. creating says whether required fields must be there.
 */
int mr_md_rec_check(struct mr_md_rec *rec, int creating, struct mr_arena *a, struct mr_err *err);

/*
 * Derives ahead what an upsert of the checked rec computes from the record
 * alone: the search keys when rec carries a name, and each identity value
 * sealed, blind-indexed and masked. It needs no database and is thread-safe,
 * so an importer runs it on another thread while it writes. Everything goes
 * in a; rec->prep points to it, and must not outlive a or rec's values.
 */
void mr_md_prepare(const struct mr_keys *k, struct mr_md_rec *rec, struct mr_arena *a);

struct mr_md_result {
	int64_t id;     /* the internal id */
	int created;    /* 1 when inserted */
	int changed;    /* fields changed (0 for an unchanged re-import) */
};

/*
 * Inserts rec, or updates the fields that differ from the stored row with
 * the same ext_id; references resolve to rows that exist and are not
 * deleted (MR_EINVAL naming the field otherwise). mode: 0 upsert, 1 must be
 * new (MR_ECONFLICT when it exists), 2 must exist (MR_ENOTFOUND).
 */
int mr_md_upsert(struct mr_conn *c, const struct mr_keys *k, const struct mr_md_rec *rec, int mode,
		 const struct mr_md_actor *who, struct mr_md_result *res, struct mr_err *err);
/* The internal id of the live (not deleted) row of e with ext_id; MR_ENOTFOUND if none. */
int mr_md_lookup(struct mr_conn *c, const struct mr_md_entity *e, const char *ext_id, int64_t *id,
		 struct mr_err *err);
/* Soft-deletes the row (deleted_at set), recorded in the change history. */
int mr_md_delete(struct mr_conn *c, const struct mr_md_entity *e, int64_t id,
		 const struct mr_md_actor *who, struct mr_err *err);
/* Appends one change-history row. */
int mr_md_change(struct mr_conn *c, const char *entity, int64_t id, const char *field,
		 const char *old_value, const char *new_value, const struct mr_md_actor *who,
		 struct mr_err *err);

/* Which rows a caller may see, by role and alignment (scope.c). */
enum mr_scope_kind { MR_SCOPE_ALL, MR_SCOPE_REP, MR_SCOPE_TEAM, MR_SCOPE_NONE };
struct mr_scope {
	enum mr_scope_kind kind;
	int64_t rep_id;      /* REP and TEAM: the caller's rep (TEAM: the root of the team) */
	int64_t at;          /* alignments in force at this time */
	int masked;          /* PII is shown masked whatever the field */
	int read_only;       /* may not write master data */
};

/* The list and search filters of a GET on an entity. */
struct mr_md_query {
	const char *q;                 /* name / pinyin / initials prefix */
	const char *filter_name[MR_MD_MAXF];
	const char *filter_val[MR_MD_MAXF];
	int nfilters;
	const char *territory;         /* HCPs aligned to reps of this territory (and below) */
	const char *rep;               /* HCPs aligned to this rep */
	int include_deleted;
	int limit;
	int64_t cursor;                /* internal id to continue after */
};

/*
 * A search as prefix ranges over key columns: name_key, and for HCPs also
 * pinyin_key and initials. A row matches when any of its keys k has
 * from <= k < to, compared bytewise (as the store's key columns sort).
 */
struct mr_md_ranges {
	const char *col[3];
	const char *from[3];
	const char *to[3];
	int n;
};

/* The ranges of search q (normalised as names are); strings in a. */
void mr_md_ranges(const struct mr_md_entity *e, const char *q, struct mr_arena *a,
		  struct mr_md_ranges *r);

/* Appends one page of rows of e as JSON objects to items; *next gets the cursor (0: done). */
int mr_md_list(struct mr_conn *c, const struct mr_md_entity *e, const struct mr_scope *scope,
	       const struct mr_md_query *q, json_t *items, int64_t *next, struct mr_err *err);
/*
 * The page of rows with the given internal ids (ascending; at most limit + 1,
 * as an index such as engine/hcpdir.h found them), live ones only, as
 * mr_md_list renders them; *next is the limit-th id when there are more.
 */
enum { MR_MD_PAGE_IDS = 501 };
int mr_md_list_ids(struct mr_conn *c, const struct mr_md_entity *e, const int64_t *ids, int n,
		   int limit, json_t *items, int64_t *next, struct mr_err *err);
/* The JSON of one row (by internal id), including deleted rows. */
int mr_md_get(struct mr_conn *c, const struct mr_md_entity *e, int64_t id, json_t **out,
	      struct mr_err *err);
/* 1 when an HCP (internal id) is within scope, else 0. */
int mr_scope_has_hcp(struct mr_conn *c, const struct mr_scope *scope, int64_t hcp_id, int *yes,
		     struct mr_err *err);
/* Appends the scope's SQL condition on column col (an HCP id) to b, with its arguments. */
struct mr_buf;
void mr_scope_sql(const struct mr_scope *scope, const char *col, struct mr_buf *b,
		  struct mr_val *args, int *nargs);

/* The change history of one row, newest first. */
int mr_md_changes(struct mr_conn *c, const char *entity, int64_t id, int limit, int64_t cursor,
		  json_t *items, int64_t *next, struct mr_err *err);

#endif
