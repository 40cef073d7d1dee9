/*
 * The audit trail for compliance officers and admins: search, a chain
 * check, and daily counts. Searching the trail is itself audited, since
 * it shows who did what to whom.
 */
#include <string.h>

#include "audit/audit.h"
#include "auth/role.h"
#include "base/json.h"
#include "base/time.h"
#include "http/http.h"
#include "store/store.h"
#include "store/writer.h"

#define MR_AUDITORS (MR_ROLE_BIT(MR_ROLE_ADMIN) | MR_ROLE_BIT(MR_ROLE_COMPLIANCE))

static int mr_api_audit_list(struct mr_req *r, struct mr_err *err)
{
	struct mr_audit_filter f;
	struct mr_conn *c = NULL;
	json_t *items;
	int64_t next = 0;
	int rc;

	memset(&f, 0, sizeof(f));
	rc = mr_req_paging(r, &f.limit, &f.before_seq, err);
	if (rc == 0)
		rc = mr_req_query(r, "user", &f.login, err);
	if (rc == 0)
		rc = mr_req_query(r, "entity", &f.entity, err);
	if (rc == 0)
		rc = mr_req_query(r, "entity_id", &f.entity_id, err);
	if (rc == 0)
		rc = mr_req_query(r, "action", &f.action, err);
	if (rc == 0)
		rc = mr_req_query_time(r, "from", &f.from_us, err);
	if (rc == 0)
		rc = mr_req_query_time(r, "to", &f.to_us, err);
	if (rc == 0 && f.from_us && f.to_us && f.to_us <= f.from_us)
		rc = mr_err_field(err, MR_EINVAL, "to", "'to' must be later than 'from'");
	if (rc == 0) /* the records of reads still lingering in the writer belong in the answer */
		rc = mr_writer_flush(r->app->writer, err);
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc < 0)
		return rc;
	items = json_array();
	rc = mr_audit_list(c, &f, items, &next, err);
	mr_req_done_conn(r, c);
	if (rc == 0)
		rc = mr_req_audit_read(r, "audit.search", "audit", NULL, err);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	return mr_reply_json(r, 200, mr_page(items, next));
}

static int mr_api_audit_verify(struct mr_req *r, struct mr_err *err)
{
	struct mr_audit_check check;
	json_t *o;
	int rc = mr_writer_flush(r->app->writer, err);

	if (rc == 0)
		rc = mr_audit_verify(r->app->store, &r->app->keys, &check, err);
	if (rc < 0)
		return rc;
	o = json_object();
	json_object_set_new(o, "ok", json_boolean(check.ok));
	json_object_set_new(o, "records", json_integer(check.records));
	if (!check.ok) {
		json_object_set_new(o, "first_bad_seq", json_integer(check.first_bad_seq));
		json_object_set_new(o, "reason", json_string(check.reason));
	}
	return mr_reply_json(r, 200, o);
}

static int mr_api_audit_summary(struct mr_req *r, struct mr_err *err)
{
	struct mr_conn *c = NULL;
	json_t *days, *o;
	int64_t n = 14;
	int rc = mr_req_query_int(r, "days", 1, 366, 14, &n, err);

	if (rc == 0)
		rc = mr_writer_flush(r->app->writer, err);
	if (rc == 0)
		rc = mr_req_conn(r, &c, err);
	if (rc < 0)
		return rc;
	days = json_array();
	rc = mr_audit_summary(c, mr_now_us(), (int)n, 8 * 3600, days, err);
	mr_req_done_conn(r, c);
	if (rc < 0) {
		json_decref(days);
		return rc;
	}
	o = json_object();
	json_object_set_new(o, "days", days);
	json_object_set_new(o, "zone", json_string("+08:00"));
	return mr_reply_json(r, 200, o);
}

const struct mr_route mr_routes_audit[] = {
	{ "GET", "/api/v1/audit", mr_api_audit_list, MR_AUDITORS, 0,
	  "Search the audit trail by user, entity, entity_id, action (or prefix ending in '.'), from, to",
	  "audit", 0 },
	{ "GET", "/api/v1/audit/verify", mr_api_audit_verify, MR_AUDITORS, 0,
	  "Check the audit hash chain; names the first bad record", "audit", 0 },
	{ "GET", "/api/v1/audit/summary", mr_api_audit_summary, MR_AUDITORS, 0,
	  "Audit records per day and action (days, default 14)", "audit", 0 },
	{ 0 },
};
