/*
 * The tag tables (store/schema/009_tags.sql) as the tag store and the tag
 * API read and write them: definitions, manual values (history, newest
 * wins), and the tag-change log with its feed. SQL only; what the values
 * are is engine/tags.h's business.
 */
#ifndef MR_ENGINE_TAGDB_H
#define MR_ENGINE_TAGDB_H

#include <jansson.h>
#include <stdint.h>

#include "engine/tags.h"
#include "md/md.h"
#include "store/store.h"

/* The type as stored and shown: "boolean", "number", "text"; parse gives MR_XT_NONE for others. */
const char *mr_tagdb_type_name(enum mr_xtype t);
enum mr_xtype mr_tagdb_type_parse(const char *s);

/* Calls fn for every live definition, in id order (strings valid during the call). */
int mr_tagdb_defs(struct mr_conn *c, void (*fn)(void *arg, const struct mr_tagdef *d), void *arg,
		  struct mr_err *err);
/* A fingerprint of the definitions that changes whenever one is added, changed or deleted. */
int mr_tagdb_defs_version(struct mr_conn *c, int64_t *version, struct mr_err *err);
/*
 * Stores def in c's write transaction: the live tag of that name is
 * updated in place when it keeps its kind and (for a manual tag) its
 * type, else deleted and a new row made, so old manual values never
 * reappear under another type. def->id gets the row's id, created_* keep
 * the old row's.
 */
int mr_tagdb_put(struct mr_conn *c, struct mr_tagdef *def, struct mr_err *err);
/* Marks tag id deleted (by login, at now). */
int mr_tagdb_delete(struct mr_conn *c, int64_t id, const char *login, int64_t now, struct mr_err *err);

/*
 * The manual values stored after row id after, in id order: fn(hcp, tag
 * id, value) for each (value NULL: cleared); *last gets the last row's id.
 */
int mr_tagdb_manual(struct mr_conn *c, int64_t after,
		    void (*fn)(void *arg, int64_t hcp, int64_t tag, const char *value), void *arg,
		    int64_t *last, struct mr_err *err);
/*
 * Sets doctor hcp's manual tag (id, name, type) to value (NULL clears),
 * by login, in c's write transaction, with the change (from old) in the
 * change log.
 */
struct mr_tagdb_set {
	int64_t hcp;
	int64_t tag_id;
	const char *tag, *value, *old;
	enum mr_xtype type;
	const char *login, *request_id;
	int64_t now;
};
int mr_tagdb_set_manual(struct mr_conn *c, const struct mr_tagdb_set *s, struct mr_err *err);
/* Who set each of doctor hcp's manual tags last, and when: {"<tag id>": {"set_by", "set_at"}} into meta. */
int mr_tagdb_manual_meta(struct mr_conn *c, int64_t hcp, json_t *meta, struct mr_err *err);

/* One change of a value, as the log stores it. */
struct mr_tagdb_change {
	int64_t at;
	int64_t hcp;
	const char *tag;
	enum mr_xtype type;
	const char *old, *new_value;
	int cause;                   /* enum mr_tag_cause */
};
/* Appends n changes to the log (one bulk insert), in c's write transaction. */
int mr_tagdb_log(struct mr_conn *c, const struct mr_tagdb_change *ch, int n, struct mr_err *err);
/*
 * The feed: changes after seq after (at most limit) of the doctors in
 * scope (NULL: all), in seq order, as JSON {seq, at, hcp, tag, type, old,
 * new, cause} appended to items; *last gets the last one's seq (after
 * when none).
 */
int mr_tagdb_changes(struct mr_conn *c, int64_t after, int limit, const struct mr_scope *scope, json_t *items,
		     int64_t *last, struct mr_err *err);
/* The newest seq of the log (0 when empty). */
int mr_tagdb_head(struct mr_conn *c, int64_t *head, struct mr_err *err);

/* A stored value's text as JSON of its type (true, 12.5, "text"; null). */
json_t *mr_tagdb_value_json(enum mr_xtype type, const char *text);

#endif
