/*
 * The tamper-evident audit trail. Every write, every login (good or bad)
 * and every read of personal data appends one record in the same
 * transaction as the act itself, so there is no act without its record.
 *
 * Records form a hash chain: record n carries hash_n = BLAKE2b-256 keyed
 * with the audit key over (hash_{n-1}, every field of record n). The head
 * (last seq and hash) is kept in audit_head under a MAC, so cutting records
 * off the end is caught as well as any edit, deletion, insertion or
 * reordering. Before/after states are kept only as keyed digests: the trail
 * proves what changed without copying personal data into it.
 */
#ifndef MR_AUDIT_AUDIT_H
#define MR_AUDIT_AUDIT_H

#include <jansson.h>
#include <stdint.h>

#include "crypto/keys.h"
#include "store/store.h"

enum { MR_AUDIT_DIGEST = 32 };

struct mr_audit_rec {
	int64_t ts;             /* microseconds; 0 means now */
	int64_t user_id;        /* 0 when no user is known */
	const char *login;      /* the acting (or, for a failed login, the attempted) login */
	const char *role;
	const char *action;     /* "auth.login", "user.create", "hcp.read", ... */
	const char *entity;     /* "user", "token", ... or NULL */
	const char *entity_id;
	const char *request_id;
	const char *ip;
	int status;             /* the outcome as an HTTP status (0 from the CLI) */
	const unsigned char *before; /* MR_AUDIT_DIGEST bytes or NULL */
	const unsigned char *after;
};

struct mr_audit_check {
	int ok;
	int64_t records;
	int64_t first_bad_seq; /* 0 when ok */
	char reason[200];
};

struct mr_audit_filter {
	const char *login;
	const char *entity;
	const char *entity_id;
	const char *action;   /* exact, or a prefix when it ends in '.' ("user.") */
	int64_t from_us;      /* 0: unbounded */
	int64_t to_us;        /* 0: unbounded; exclusive */
	int64_t before_seq;   /* cursor: only records with seq below this; 0 for the newest */
	int limit;
};

/* Appends rec to the chain on c, which must be inside a write transaction. */
int mr_audit_append(struct mr_conn *c, const struct mr_keys *k, const struct mr_audit_rec *rec,
		    int64_t *seq, struct mr_err *err);
/* Appends n records in that order with one read and one update of the head and one bulk
 * insert (PostgreSQL: COPY): the audit records of many reads in one group commit. */
int mr_audit_append_many(struct mr_conn *c, const struct mr_keys *k,
			 const struct mr_audit_rec *const *recs, int n, struct mr_err *err);
/* A keyed digest of v's canonical JSON (sorted keys, compact), for before/after. */
void mr_audit_digest(const struct mr_keys *k, json_t *v, unsigned char out[MR_AUDIT_DIGEST]);
/* Walks the whole chain and the head; *out says OK or the first bad seq and why. */
int mr_audit_verify(struct mr_store *s, const struct mr_keys *k, struct mr_audit_check *out,
		    struct mr_err *err);
/* Lists records matching f, newest first, as JSON objects; *next_cursor is 0 at the end. */
int mr_audit_list(struct mr_conn *c, const struct mr_audit_filter *f, json_t *items,
		  int64_t *next_cursor, struct mr_err *err);
/*
 * Counts records per day and action over the days_back days up to now_us,
 * days cut at midnight offset_s east of UTC: [{"date","total","by_action":{}}], oldest first.
 */
int mr_audit_summary(struct mr_conn *c, int64_t now_us, int days_back, int offset_s, json_t *days,
		     struct mr_err *err);

#endif
