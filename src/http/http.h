/*
 * What a request handler sees. A handler gets a struct mr_req (the parsed
 * request, its arena, the authenticated principal) and answers with one of
 * the mr_reply_* calls, or returns a negative MR_E code with err filled,
 * which the server renders in the one error shape:
 *   {"error":{"code":"snake_case","message":"...","detail":{...}}}
 *
 * Routes are rows in tables (one table per api_<resource>.c), each naming
 * its method, path pattern, handler and the roles that may call it. Memory
 * of a request lives in r->arena and is freed when the response is sent.
 */
#ifndef MR_HTTP_HTTP_H
#define MR_HTTP_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/token.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "crypto/keys.h"

struct MHD_Connection;
struct mr_store;
struct mr_writer;
struct mr_throttle;
struct mr_authcache;
struct mr_hcpdir;
struct mr_evindex;
struct mr_kpistore;
struct mr_tags;
struct mr_tasks;
struct mr_nba;
struct mr_models;
struct mr_waiters;
struct mr_follower;
struct mr_metrics;
struct mr_route;

struct mr_server_opts {
	const char *listen;     /* "127.0.0.1:8080" */
	const char *web_root;   /* directory of the UI's static files */
	int threads;            /* HTTP worker threads */
	size_t max_body;        /* default cap on a request body */
	int64_t session_ttl_us; /* how long a login lasts */
	int secure_cookies;     /* add Secure to cookies (behind TLS) */
	int request_timeout_s;  /* cap on receiving one request */
	int login_free_fails;   /* failures per account before back-off */
	int addr_free_fails;    /* failures per client address before back-off */
	/*
	 * Reads of personal data are audited. 0: each record is committed before
	 * the data is sent. N: records are committed together within N µs, after
	 * the data is sent (a crash can lose the last N µs of read records, never
	 * a write's); every commit empties the readers' page caches (SQLite), so
	 * one per request costs reads dearly.
	 */
	int64_t read_audit_us;
	int read_audit_set;     /* read_audit_us was given (0 included) */
	/* the event index's snapshot file (engine/evindex.h), or NULL: none */
	const char *snapshot;
};

/* Server-wide state every handler can reach through r->app. */
struct mr_app {
	struct mr_store *store;
	struct mr_writer *writer;
	struct mr_keys keys;
	struct mr_throttle *throttle;
	struct mr_authcache *authcache;
	struct mr_hcpdir *hcpdir;      /* the in-memory HCP directory (engine/hcpdir.h) */
	struct mr_evindex *evindex;    /* the event projection (engine/evindex.h) */
	struct mr_profile *profile;    /* the HCP attributes projection (engine/profile.h) */
	struct mr_kpistore *kpistore;  /* the events in columns, for KPIs (analytics/kpistore.h) */
	struct mr_engine *engine;      /* expressions over the projections (engine/engine.h) */
	struct mr_tags *tags;          /* tag definitions and values, kept current (engine/tags.h) */
	struct mr_tasks *tasks;        /* open tasks, their fulfilment and expiry (tasks/tasks.h) */
	struct mr_nba *nba;            /* next-best-action rules, serving and runs (nba/nba.h) */
	struct mr_models *models;      /* the learned response models, active versions (models/models.h) */
	struct mr_waiters *waiters;    /* requests waiting for events (long polls, http/wait.c) */
	struct mr_follower *follower;  /* the thread that reads other nodes' writes (app.c) */
	struct mr_metrics *metrics;
	struct mr_server_opts opts;
	const struct mr_route *routes; /* the flat, validated table */
	size_t nroutes;
	char *openapi;                 /* rendered once at start */
	size_t openapi_len;
	int64_t started_at;
	char request_prefix[8];        /* 6 random hex digits that start this process's request ids */
	_Atomic uint64_t next_request;
};

enum { MR_REQ_MAX_PARAMS = 4, MR_REQ_MAX_HEADERS = 12, MR_REQ_ID_LEN = 64 };

struct mr_req {
	struct mr_app *app;
	struct MHD_Connection *conn;
	const struct mr_route *route;
	int route_index;              /* -1 when no route matched */
	const char *method;
	const char *path;
	struct mr_slice params[MR_REQ_MAX_PARAMS];
	const char *param_names[MR_REQ_MAX_PARAMS];
	int nparams;
	struct mr_buf body;
	struct mr_arena arena;
	char request_id[MR_REQ_ID_LEN + 1];
	char ip[64];
	struct mr_principal who;      /* valid when who.via != MR_AUTH_NONE */
	int64_t t0_us;
	/* the response being built */
	int status;
	char *resp;                   /* malloc'd body */
	size_t resp_len;
	const char *content_type;
	int resp_fd;                  /* a file to send instead of resp, or -1 */
	size_t resp_fd_size;
	const char *hdr_name[MR_REQ_MAX_HEADERS];
	const char *hdr_value[MR_REQ_MAX_HEADERS];
	int nhdr;
	int replied;
	/* state while the request arrives */
	int failed;                   /* an error response is queued or due */
	struct mr_err fail;
	size_t bytes_in;
	/* a streamed body (MR_ROUTE_STREAM): the chunk being handed over, and the route's own state */
	const char *chunk;
	size_t chunk_len;
	void *stream;
	void (*stream_free)(void *stream);
	/* a long poll (mr_req_wait): parked until events arrive or the deadline */
	int suspended;
	int64_t wait_deadline_us;     /* mr_mono_us() time; 0 when not waiting */
	int64_t wait_after_seq;
	int wait_count;               /* times the handler parked this request */
};

typedef int (*mr_handler_fn)(struct mr_req *r, struct mr_err *err);

enum mr_route_flags {
	MR_ROUTE_NO_CSRF = 1u << 0, /* a cookie-less entry point (login) */
	MR_ROUTE_HIDDEN = 1u << 1,  /* not listed in openapi.json (static files) */
	MR_ROUTE_BODY = 1u << 2,    /* takes a JSON body */
	MR_ROUTE_CSV = 1u << 3,     /* takes a text/csv body (an import) */
	MR_ROUTE_FHIR = 1u << 4,    /* takes a JSON body as application/fhir+json or application/json */
	MR_ROUTE_OK200 = 1u << 5,   /* succeeds with 200 even as a POST (an action, not a creation) */
	/*
	 * The body is not buffered: the handler is called once per chunk as it
	 * arrives (after authentication and the role check), with r->chunk and
	 * r->chunk_len set, and once more after the last with r->chunk NULL, to
	 * answer. A negative return for a chunk fails the request with err (the
	 * rest of the body is read and dropped).
	 */
	MR_ROUTE_STREAM = 1u << 6,
};

struct mr_route {
	const char *method;
	const char *pattern;   /* "/api/v1/users/{id}"; a last segment "{path*}" takes the rest */
	mr_handler_fn handler;
	unsigned roles;        /* a mask of MR_ROLE_BIT(...) or MR_ROLES_PUBLIC; 0 is a bug */
	unsigned flags;
	const char *summary;   /* one line for openapi.json */
	const char *tag;       /* openapi group */
	size_t max_body;       /* 0: the server default */
};

/* Answers with v (its reference is taken) as JSON. */
int mr_reply_json(struct mr_req *r, int status, json_t *v);
/* Answers with no body (204, or a status with an empty body). */
int mr_reply_empty(struct mr_req *r, int status);
/* Answers with a malloc'd body (taken) of the given content type. */
int mr_reply_raw(struct mr_req *r, int status, const char *content_type, char *body, size_t len);
/* Adds a response header; name and value are copied into the arena. */
void mr_reply_header(struct mr_req *r, const char *name, const char *value);
/* Renders err in the error shape (also used by the server itself). */
void mr_reply_error(struct mr_req *r, const struct mr_err *err);

/* The path parameter called name, or NULL. */
const char *mr_req_param(struct mr_req *r, const char *name);
/* A path parameter that must be a positive integer id. */
int mr_req_param_id(struct mr_req *r, const char *name, int64_t *id, struct mr_err *err);
/* The query parameter key (valid UTF-8, at most 512 bytes) or NULL when absent. */
int mr_req_query(struct mr_req *r, const char *key, const char **out, struct mr_err *err);
/* A query parameter as an integer in [min, max]; def when absent. */
int mr_req_query_int(struct mr_req *r, const char *key, int64_t min, int64_t max, int64_t def,
		     int64_t *out, struct mr_err *err);
/* A query parameter as an RFC 3339 time; 0 when absent. */
int mr_req_query_time(struct mr_req *r, const char *key, int64_t *out, struct mr_err *err);
/* limit (1..500, default 50) and an opaque numeric cursor (0 when absent). */
int mr_req_paging(struct mr_req *r, int *limit, int64_t *cursor, struct mr_err *err);
/* Parses the body as a JSON object (new reference in *out). */
int mr_req_json(struct mr_req *r, json_t **out, struct mr_err *err);
/* A request header, or NULL. */
const char *mr_req_header(struct mr_req *r, const char *name);
/* Wraps items (taken) and a cursor (0: none) as {"items":[...],"next_cursor":...}. */
json_t *mr_page(json_t *items, int64_t next_cursor);

/* Appends an audit record for this request on c (inside a write transaction). */
int mr_req_audit(struct mr_req *r, struct mr_conn *c, const char *action, const char *entity,
		 const char *entity_id, int status, const unsigned char *before,
		 const unsigned char *after, struct mr_err *err);
/* Records a read of personal data: an audit record committed before the data is sent. */
int mr_req_audit_read(struct mr_req *r, const char *action, const char *entity,
		      const char *entity_id, struct mr_err *err);
/* Runs fn through the group-commit writer (see store/writer.h). */
int mr_req_write(struct mr_req *r, int (*fn)(struct mr_conn *c, void *arg, struct mr_err *err),
		 void *arg, struct mr_err *err);
/*
 * Parks the request until an event with a seq above after_seq is applied
 * or until deadline_us (mr_mono_us time), then runs its handler again
 * (which answers or parks again). The handler returns 0 right after,
 * without replying. MR_EUNAVAIL when the server cannot park requests.
 */
int mr_req_wait(struct mr_req *r, int64_t after_seq, int64_t deadline_us, struct mr_err *err);
/* A pooled read connection for the request; released with mr_req_done_conn. */
int mr_req_conn(struct mr_req *r, struct mr_conn **c, struct mr_err *err);
void mr_req_done_conn(struct mr_req *r, struct mr_conn *c);

#endif
