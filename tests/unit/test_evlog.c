/*
 * The event log and its index, on SQLite and PostgreSQL: a batch stored in
 * order with its seqs, duplicates (in the batch, across batches, across
 * two processes' id sets on SQLite) stored once, provisional HCPs for
 * unknown identities, a failed transaction leaving no claim behind, and
 * the in-memory timeline — newest first, filters, cursor paging, merged
 * records read as their survivor's, gaps read from the store.
 */
#include "unit.h"

#include <sys/stat.h>

#include "base/arena.h"
#include "base/mem.h"
#include "base/time.h"
#include "engine/dict.h"
#include "engine/evindex.h"
#include "event/log.h"
#include "md/md.h"

struct fixture {
	struct mr_test_db db;
	struct mr_keys keys;
	struct mr_evindex *ids; /* SQLite only */
	int64_t hcp[3], rep;
};

struct put_job {
	struct fixture *f;
	const struct mr_md_entity *e;
	const char *ext, *name, *type;
	int64_t id;
};

static int put_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct put_job *j = arg;
	struct mr_md_actor who = { .login = "test", .source = "test", .now = mr_now_us() };
	struct mr_arena a;
	struct mr_md_rec rec;
	struct mr_md_result res;
	int rc;

	mr_arena_init(&a);
	mr_md_rec_init(&rec, j->e);
	rec.ext_id = j->ext;
	rec.val[mr_md_field_index(j->e, "name")] = j->name;
	if (j->type)
		rec.val[mr_md_field_index(j->e, "type")] = j->type;
	rc = mr_md_rec_check(&rec, 1, &a, err);
	if (rc == 0)
		rc = mr_md_upsert(c, &j->f->keys, &rec, 0, &who, &res, err);
	j->id = res.id;
	mr_arena_release(&a);
	return rc;
}

static int64_t put(struct fixture *f, const struct mr_md_entity *e, const char *ext, const char *name,
		   const char *type)
{
	struct put_job j = { f, e, ext, name, type, 0 };
	struct mr_err err;

	if (mr_store_write(f->db.store, put_fn, &j, &err) < 0)
		fail_msg("put %s: %s", ext, err.msg);
	return j.id;
}

static void open_fixture(struct fixture *f, void **state)
{
	int pg = mr_test_backend(state);

	memset(f, 0, sizeof(*f));
	mr_test_db_open(&f->db, pg);
	mr_test_keys(&f->keys, 3);
	f->hcp[0] = put(f, &mr_md_hcp, "D1", "王一", NULL);
	f->hcp[1] = put(f, &mr_md_hcp, "D2", "李二", NULL);
	f->hcp[2] = put(f, &mr_md_hcp, "D3", "张三", NULL);
	f->rep = put(f, &mr_md_rep, "R1", "赵代表", "inside");
	f->ids = pg ? NULL : mr_evindex_new(1);
}

static void close_fixture(struct fixture *f)
{
	mr_evindex_free(f->ids);
	mr_test_db_close(&f->db);
}

/* A batch of events on doctor hcp_id at hour h of 2025-06-01, ids as given. */
struct batch {
	struct mr_evlog_batch b;
	struct mr_event ev[16];
	unsigned char fate[16];
	int64_t seq[16];
	struct mr_err why[16];
};

static void event_at(struct batch *x, int i, const char *id, int64_t hcp_id, int ch, int outcome, int h)
{
	struct mr_event *ev = &x->ev[i];

	mr_event_init(ev);
	ev->id = id;
	ev->ts = (INT64_C(1748736000) + h * 3600) * MR_US_PER_S;
	ev->hcp_id = hcp_id;
	ev->channel = ch;
	ev->type = mr_channel_def(ch)->default_type;
	ev->outcome = outcome;
}

static void batch_init(struct batch *x, int n)
{
	memset(x, 0, sizeof(*x));
	x->b.ev = x->ev;
	x->b.n = n;
	x->b.fate = x->fate;
	x->b.seq = x->seq;
	x->b.why = x->why;
}

struct append_job {
	struct fixture *f;
	struct batch *x;
	int fail_after; /* make the transaction fail after the append */
};

static int append_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct append_job *j = arg;
	struct mr_md_actor who = { .login = "test", .source = "test", .now = mr_now_us() };
	int rc;

	mr_evlog_batch_reset(&j->x->b);
	rc = mr_evlog_append(c, j->f->ids, &j->f->keys, &who, &j->x->b, err);
	if (rc == 0 && j->fail_after)
		rc = mr_err_set(err, MR_EIO, "the disk filled up");
	return rc;
}

static int append(struct fixture *f, struct batch *x, int fail_after)
{
	struct append_job j = { f, x, fail_after };
	struct mr_err err;
	int rc = mr_store_write(f->db.store, append_fn, &j, &err);

	if (rc < 0)
		mr_evlog_undo(f->ids, &x->b);
	return rc;
}

static void sync_ids(struct fixture *f)
{
	struct mr_conn *c = NULL;
	struct mr_err err;

	if (!f->ids)
		return;
	assert_int_equal(mr_store_acquire(f->db.store, &c, &err), 0);
	assert_int_equal(mr_evindex_sync(f->ids, c, &err), 0);
	mr_store_release(f->db.store, c);
}

static int64_t count(struct fixture *f, const char *sql)
{
	struct mr_conn *c = NULL;
	struct mr_err err;
	int64_t n = -1;

	assert_int_equal(mr_store_acquire(f->db.store, &c, &err), 0);
	if (mr_conn_query_int(c, sql, NULL, 0, &n, &err) < 0)
		fail_msg("%s: %s", sql, err.msg);
	mr_store_release(f->db.store, c);
	return n;
}

static void test_append_dedupes_and_orders(void **state)
{
	struct fixture f;
	struct batch x;

	open_fixture(&f, state);
	sync_ids(&f);
	batch_init(&x, 5);
	event_at(&x, 0, "e1", f.hcp[0], MR_CH_PHONE, 3, 1);
	event_at(&x, 1, "e2", f.hcp[0], MR_CH_WECHAT, 2, 2);
	event_at(&x, 2, "e1", f.hcp[1], MR_CH_PHONE, 0, 3); /* the same id again, in the batch */
	event_at(&x, 3, "e3", f.hcp[1], MR_CH_VISIT, 1, 4);
	event_at(&x, 4, "e4", f.hcp[2], MR_CH_SMS, 0, 5);
	x.ev[4].rep_id = f.rep;
	assert_int_equal(append(&f, &x, 0), 0);
	assert_int_equal(x.b.stored, 4);
	assert_int_equal(x.b.duplicates, 1);
	assert_int_equal(x.fate[2], MR_EV_DUPLICATE);
	assert_true(x.seq[1] > x.seq[0] && x.seq[3] > x.seq[1] && x.seq[4] > x.seq[3]);
	assert_true(x.b.first_seq == x.seq[0] && x.b.last_seq == x.seq[4]);

	/* across batches; and a failed transaction leaves no claim: its ids are new again */
	batch_init(&x, 2);
	event_at(&x, 0, "e3", f.hcp[0], MR_CH_PHONE, 1, 6);
	event_at(&x, 1, "e5", f.hcp[0], MR_CH_PHONE, 1, 7);
	assert_int_equal(append(&f, &x, 1), MR_EIO);
	assert_int_equal(append(&f, &x, 0), 0);
	assert_int_equal(x.b.stored, 1);
	assert_int_equal(x.fate[0], MR_EV_DUPLICATE);
	assert_int_equal(x.fate[1], MR_EV_STORED);
	assert_int_equal(count(&f, "SELECT COUNT(*) FROM events"), 5);
	assert_int_equal(count(&f, "SELECT COUNT(DISTINCT eid) FROM events"), 5);
	assert_int_equal(count(&f, "SELECT COUNT(*) FROM events WHERE eid = 'e4' AND rep_id IS NOT NULL"), 1);

	/* SQLite: a second process's id set, which has not seen those, finds them stored */
	if (f.ids) {
		struct mr_evindex *mine = f.ids;

		f.ids = mr_evindex_new(1);
		batch_init(&x, 2);
		event_at(&x, 0, "e5", f.hcp[0], MR_CH_PHONE, 1, 8);
		event_at(&x, 1, "e6", f.hcp[0], MR_CH_PHONE, 1, 9);
		assert_int_equal(append(&f, &x, 0), 0);
		assert_int_equal(x.fate[0], MR_EV_DUPLICATE);
		assert_int_equal(x.fate[1], MR_EV_STORED);
		mr_evindex_free(f.ids);
		f.ids = mine;
		/* and the first, in turn, catches up with what the second stored */
		batch_init(&x, 1);
		event_at(&x, 0, "e6", f.hcp[0], MR_CH_PHONE, 1, 8);
		assert_int_equal(append(&f, &x, 0), 0);
		assert_int_equal(x.fate[0], MR_EV_DUPLICATE);
	}
	close_fixture(&f);
}

static void test_identity_gets_a_provisional_hcp(void **state)
{
	struct fixture f;
	struct batch x;

	open_fixture(&f, state);
	sync_ids(&f);
	batch_init(&x, 2);
	event_at(&x, 0, "w1", 0, MR_CH_WECOM, 3, 1);
	event_at(&x, 1, "w2", 0, MR_CH_WECOM, 2, 2);
	for (int i = 0; i < 2; i++) {
		x.ev[i].id_kind = "wecom_external_userid";
		x.ev[i].id_app = "";
		x.ev[i].id_value = "wmABCDEF123456";
	}
	assert_int_equal(append(&f, &x, 0), 0);
	assert_int_equal(x.b.stored, 2);
	assert_true(x.ev[0].hcp_id > 0 && x.ev[0].hcp_id == x.ev[1].hcp_id);
	assert_int_equal(count(&f, "SELECT COUNT(*) FROM hcps WHERE status = 'provisional' AND ext_id LIKE 'P-%'"), 1);
	/* the next event with that identity finds the same doctor */
	batch_init(&x, 1);
	event_at(&x, 0, "w3", 0, MR_CH_WECOM, 0, 3);
	x.ev[0].id_kind = "wecom_external_userid";
	x.ev[0].id_app = "";
	x.ev[0].id_value = "wmABCDEF123456";
	assert_int_equal(append(&f, &x, 0), 0);
	assert_int_equal(count(&f, "SELECT COUNT(DISTINCT hcp_id) FROM events"), 1);
	assert_int_equal(count(&f, "SELECT COUNT(*) FROM hcps WHERE status = 'provisional'"), 1);
	close_fixture(&f);
}

static void count_applied(void *arg, const struct mr_evref *refs, int n)
{
	(void)refs;
	*(int *)arg += n;
}

/* What record hcp's item holding seq says it was: type and content, and its duration + 1. */
static void item_says(struct mr_evindex *ix, uint32_t hcp, int64_t seq, const char *type,
		      const char *content, uint32_t dur)
{
	struct mr_evindex_dicts d;
	const struct mr_evitem *it;
	const struct mr_evattr *at;
	uint32_t n = 0, i;

	mr_evindex_dicts(ix, &d);
	mr_evindex_read_begin(ix);
	it = mr_evindex_items(ix, hcp, &n);
	for (i = 0; i < n && it[i].seq != seq; i++)
		;
	assert_true(i < n);
	for (uint32_t k = 1; k < n; k++) /* oldest first */
		assert_true(it[k - 1].ts < it[k].ts || (it[k - 1].ts == it[k].ts && it[k - 1].seq < it[k].seq));
	at = mr_evindex_attr_of(ix, it[i].attr);
	assert_non_null(at);
	assert_int_equal(it[i].dur, dur);
	mr_evindex_read_end(ix);
	assert_string_equal(mr_dict_str(d.type, at->type), type);
	if (content)
		assert_string_equal(mr_dict_str(d.content, at->content), content);
	else
		assert_int_equal(at->content, 0);
}

/* The timeline from the index: newest first, filtered, paged, merged records included. */
static void test_timeline(void **state)
{
	struct fixture f;
	struct batch x;
	struct mr_evindex *ix = mr_evindex_new(0);
	struct mr_evref out[16];
	struct mr_conn *c = NULL;
	struct mr_err err;
	uint32_t both[2];
	int applied = 0;
	struct mr_timeline_q q = { .nhcps = 1, .limit = 2 };
	int n;

	open_fixture(&f, state);
	sync_ids(&f);
	mr_evindex_listen(ix, count_applied, &applied);
	assert_int_equal(mr_store_acquire(f.db.store, &c, &err), 0);
	assert_int_equal(mr_evindex_sync(ix, c, &err), 0); /* loaded, empty */
	batch_init(&x, 6);
	event_at(&x, 0, "t1", f.hcp[0], MR_CH_PHONE, 1, 10);
	event_at(&x, 1, "t2", f.hcp[0], MR_CH_WECHAT, 3, 30); /* out of time order: newest */
	event_at(&x, 2, "t3", f.hcp[0], MR_CH_PHONE, 2, 20);
	event_at(&x, 3, "t4", f.hcp[1], MR_CH_VISIT, 1, 25);
	event_at(&x, 4, "t5", f.hcp[0], MR_CH_PHONE, 0, 20); /* same time as t3: by seq */
	event_at(&x, 5, "t6", f.hcp[0], MR_CH_SMS, 0, 5);
	x.ev[2].rep_id = f.rep;
	x.ev[1].content = "C7";
	x.ev[3].duration_s = 300;
	assert_int_equal(append(&f, &x, 0), 0);
	/* applied by the writer's way: queued, then drained */
	{
		struct mr_evref refs[6];
		int k = mr_evlog_refs(ix, &x.b, refs);

		mr_evindex_queue(ix, refs, k);
		assert_int_equal(mr_evindex_drain(ix, f.db.store, &err), 0);
	}
	assert_int_equal(mr_evindex_last(ix), x.b.last_seq);
	assert_int_equal(applied, 6); /* the listener saw each event once */
	/* what each item was, applied and (another index) loaded from the store */
	item_says(ix, (uint32_t)f.hcp[0], x.seq[1], mr_channel_def(MR_CH_WECHAT)->default_type, "C7", 0);
	item_says(ix, (uint32_t)f.hcp[1], x.seq[3], mr_channel_def(MR_CH_VISIT)->default_type, NULL, 301);
	{
		struct mr_evindex *again = mr_evindex_new(0);

		assert_int_equal(mr_evindex_sync(again, c, &err), 0);
		item_says(again, (uint32_t)f.hcp[0], x.seq[1], mr_channel_def(MR_CH_WECHAT)->default_type,
			  "C7", 0);
		item_says(again, (uint32_t)f.hcp[1], x.seq[3], mr_channel_def(MR_CH_VISIT)->default_type,
			  NULL, 301);
		mr_evindex_free(again);
	}
	both[0] = (uint32_t)f.hcp[0];
	q.hcps = both;
	n = mr_evindex_timeline(ix, &q, out);
	assert_int_equal(n, 3); /* limit + 1: there is more */
	assert_true(out[0].seq == x.seq[1] && out[1].seq == x.seq[4] && out[2].seq == x.seq[2]);
	q.before_seq = out[1].seq; /* the next page */
	n = mr_evindex_timeline(ix, &q, out);
	assert_int_equal(n, 3);
	assert_true(out[0].seq == x.seq[2] && out[1].seq == x.seq[0] && out[2].seq == x.seq[5]);
	q.before_seq = 999999; /* not this doctor's event */
	assert_int_equal(mr_evindex_timeline(ix, &q, out), -1);
	q.before_seq = 0;
	q.limit = 10;
	q.channels = 1u << MR_CH_PHONE;
	assert_int_equal(mr_evindex_timeline(ix, &q, out), 3);
	q.channels = 0;
	{
		unsigned char reps[64] = { 0 };

		reps[f.rep] = 1;
		q.reps = reps;
		q.nreps = sizeof(reps);
		assert_int_equal(mr_evindex_timeline(ix, &q, out), 1);
		assert_true(out[0].seq == x.seq[2] && out[0].rep == (uint32_t)f.rep);
		q.reps = NULL;
	}
	q.after_seq = x.seq[3];
	assert_int_equal(mr_evindex_timeline(ix, &q, out), 2); /* t5 and t6 came after t4 */
	q.after_seq = 0;
	/* a doctor and the record merged into it: one timeline, in time order */
	both[1] = (uint32_t)f.hcp[1];
	q.nhcps = 2;
	n = mr_evindex_timeline(ix, &q, out);
	assert_int_equal(n, 6);
	assert_true(out[1].seq == x.seq[3] && out[1].hcp == (uint32_t)f.hcp[1]);

	/* events appended elsewhere (another node): the index reads the gap before applying its own */
	{
		struct batch y;
		struct mr_evref ref;

		batch_init(&y, 1);
		event_at(&y, 0, "t7", f.hcp[0], MR_CH_PHONE, 3, 40);
		assert_int_equal(append(&f, &y, 0), 0); /* not applied to ix */
		batch_init(&x, 1);
		event_at(&x, 0, "t8", f.hcp[0], MR_CH_PHONE, 3, 41);
		assert_int_equal(append(&f, &x, 0), 0);
		mr_evlog_refs(ix, &x.b, &ref);
		assert_int_equal(mr_evindex_apply(ix, &ref, 1, f.db.store, &err), 0);
		q.nhcps = 1;
		assert_int_equal(mr_evindex_timeline(ix, &q, out), 7); /* the five before, t7 and t8 */
		assert_true(out[0].seq == x.seq[0] && out[1].seq == y.seq[0]);
	}
	mr_store_release(f.db.store, c);
	mr_evindex_free(ix);
	close_fixture(&f);
}


/* Every HCP record's list in a and b the same, item for item. */
static void same_lists(struct mr_evindex *a, struct mr_evindex *b)
{
	mr_evindex_read_begin(a);
	mr_evindex_read_begin(b);
	for (uint32_t r = 0; r < mr_evindex_nhcps(a) || r < mr_evindex_nhcps(b); r++) {
		uint32_t na = 0, nb = 0;
		const struct mr_evitem *va = mr_evindex_items(a, r, &na), *vb = mr_evindex_items(b, r, &nb);

		assert_int_equal(na, nb);
		for (uint32_t i = 0; i < na; i++) {
			assert_int_equal(va[i].seq, vb[i].seq);
			assert_int_equal(va[i].ts, vb[i].ts);
			assert_int_equal(va[i].channel, vb[i].channel);
			assert_int_equal(va[i].dur, vb[i].dur);
			assert_string_equal(mr_evindex_attr_of(a, va[i].attr)->type ? "t" : "-",
					    mr_evindex_attr_of(b, vb[i].attr)->type ? "t" : "-");
		}
	}
	mr_evindex_read_end(b);
	mr_evindex_read_end(a);
}

/* A new index that restores from path: what restore said, and the stats after its load. */
static int restored(struct fixture *f, const char *path, int keep_ids, struct mr_evindex **out,
		    struct mr_evindex_stats *st)
{
	struct mr_evindex *x = mr_evindex_new(keep_ids);
	struct mr_conn *c = NULL;
	struct mr_err err;
	int rc;

	mr_evindex_snapshot_at(x, path);
	rc = mr_evindex_restore(x, f->db.store, &err);
	assert_int_equal(mr_store_acquire(f->db.store, &c, &err), 0);
	assert_int_equal(mr_evindex_sync(x, c, &err), 0);
	mr_store_release(f->db.store, c);
	mr_evindex_stats(x, st);
	*out = x;
	return rc;
}

/* Deletes the snapshot's last event (s5, the newest of the first batch): a log cut short. */
static int delete_last_fn(struct mr_conn *c, void *arg, struct mr_err *err)
{
	(void)arg;
	return mr_conn_exec(c, "DELETE FROM events WHERE eid = 's5'", NULL, 0, NULL, err);
}

/* Overwrites one byte of path at off (negative: from the end) with its complement. */
static void flip_byte(const char *path, long off)
{
	FILE *fp = fopen(path, "r+b");
	int ch;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, off, off < 0 ? SEEK_END : SEEK_SET), 0);
	ch = fgetc(fp);
	assert_int_equal(fseek(fp, -1, SEEK_CUR), 0);
	fputc(~ch & 0xff, fp);
	fclose(fp);
}

static void copy_file(const char *from, const char *to)
{
	FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
	char buf[65536];
	size_t n;

	assert_true(a && b);
	while ((n = fread(buf, 1, sizeof(buf), a)) > 0)
		assert_int_equal(fwrite(buf, 1, n, b), n);
	fclose(a);
	fclose(b);
}

/*
 * The snapshot file: a restart restores the index as it was and reads only
 * what was stored after; duplicate detection survives it (SQLite); a file
 * flipped, cut short, of another database or past the store's log is
 * ignored (the load then reads the store) with the reason in the stats; no
 * snapshot is taken while the writer holds ids of events not committed.
 */
static void test_snapshot(void **state)
{
	struct fixture f;
	struct batch x;
	struct mr_evindex *ix, *full, *b;
	struct mr_evindex_stats st;
	struct mr_conn *c = NULL;
	struct mr_err err;
	char dir[] = "/tmp/mr-snap-XXXXXX", path[128], copy[160];
	int keep;

	open_fixture(&f, state);
	keep = f.ids != NULL;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/index.snapshot", dir);
	snprintf(copy, sizeof(copy), "%s/copy", dir);
	sync_ids(&f);
	batch_init(&x, 6);
	for (int i = 0; i < 6; i++) {
		char id[16];

		snprintf(id, sizeof(id), "s%d", i);
		event_at(&x, i, mr_strdup(id), f.hcp[i % 3], i % 2 ? MR_CH_PHONE : MR_CH_WECHAT, 1, 6 - i);
	}
	x.ev[1].content = "C9";
	x.ev[2].duration_s = 60;
	assert_int_equal(append(&f, &x, 0), 0);
	for (int i = 0; i < 6; i++)
		free((char *)x.ev[i].id);

	/* no file yet: nothing restored, nothing said against it */
	assert_int_equal(restored(&f, path, keep, &ix, &st), 0);
	/* many event kinds (a world of thousands of meetings): the attr table is rebuilt at their size */
	for (int i = 0; i < 5000; i++) {
		char meeting[32];

		snprintf(meeting, sizeof(meeting), "M%d", i);
		assert_int_not_equal(mr_evindex_attr(ix, "meeting_invite", NULL, NULL, meeting), 0);
	}
	assert_null(st.snapshot_ignored);
	assert_int_equal(st.from_store, 6);
	assert_int_equal(mr_evindex_save(ix, f.db.store, &err), 1);
	assert_int_equal(mr_evindex_save(ix, f.db.store, &err), 0); /* nothing new */

	/* a restart: everything from the file, nothing from the store, the same lists */
	assert_int_equal(restored(&f, path, keep, &b, &st), 1);
	assert_int_equal(st.restored, 6);
	assert_int_equal(st.from_store, 0);
	same_lists(ix, b);
	assert_int_equal(mr_evindex_attr(b, "meeting_invite", NULL, NULL, "M4321"),
			 mr_evindex_attr(ix, "meeting_invite", NULL, NULL, "M4321"));
	if (keep) {
		assert_int_equal(mr_evindex_claim(b, "s3"), 0); /* stored before: a duplicate */
		assert_int_equal(mr_evindex_claim(b, "s-new"), 1);
		mr_evindex_unclaim(b, "s-new");
	}
	mr_evindex_free(b);

	/* two more events stored after the snapshot: restored, then read */
	batch_init(&x, 2);
	event_at(&x, 0, "s6", f.hcp[0], MR_CH_PHONE, 2, 1);
	event_at(&x, 1, "s7", f.hcp[1], MR_CH_VISIT, 1, 9);
	assert_int_equal(append(&f, &x, 0), 0);
	assert_int_equal(mr_store_acquire(f.db.store, &c, &err), 0);
	full = mr_evindex_new(keep);
	assert_int_equal(mr_evindex_sync(full, c, &err), 0);
	mr_store_release(f.db.store, c);
	assert_int_equal(restored(&f, path, keep, &b, &st), 1);
	assert_int_equal(st.restored, 6);
	assert_int_equal(st.from_store, 2);
	same_lists(full, b);
	if (keep)
		assert_int_equal(mr_evindex_claim(b, "s7"), 0);
	mr_evindex_free(b);

	/* damaged files are ignored, and the load reads everything from the store */
	copy_file(path, copy);
	flip_byte(path, 300);
	assert_int_equal(restored(&f, path, keep, &b, &st), 0);
	assert_non_null(st.snapshot_ignored);
	assert_non_null(strstr(st.snapshot_ignored, "checksum"));
	assert_int_equal(st.restored, 0);
	assert_int_equal(st.from_store, 8);
	same_lists(full, b);
	mr_evindex_free(b);
	copy_file(copy, path);
	assert_int_equal(truncate(path, 200), 0); /* not even a header */
	assert_int_equal(restored(&f, path, keep, &b, &st), 0);
	assert_string_equal(st.snapshot_ignored, "it is cut short");
	mr_evindex_free(b);
	{
		struct stat sb;

		copy_file(copy, path);
		assert_int_equal(stat(path, &sb), 0);
		assert_int_equal(truncate(path, sb.st_size - 1), 0); /* the trailer cut */
		assert_int_equal(restored(&f, path, keep, &b, &st), 0);
		assert_non_null(strstr(st.snapshot_ignored, "checksum"));
		mr_evindex_free(b);
	}
	copy_file(copy, path);
	flip_byte(path, 24); /* the store's id in the header */
	assert_int_equal(restored(&f, path, keep, &b, &st), 0);
	assert_string_equal(st.snapshot_ignored, "it was taken of another database");
	mr_evindex_free(b);
	copy_file(copy, path);
	flip_byte(path, 0);
	assert_int_equal(restored(&f, path, keep, &b, &st), 0);
	assert_string_equal(st.snapshot_ignored, "not a medreach snapshot");
	mr_evindex_free(b);

	/* the store no longer holds the snapshot's last event (an older backup restored) */
	copy_file(copy, path);
	if (mr_store_write(f.db.store, delete_last_fn, NULL, &err) < 0)
		fail_msg("delete: %s", err.msg);
	assert_int_equal(restored(&f, path, keep, &b, &st), 0);
	assert_string_equal(st.snapshot_ignored, "the database no longer holds the events it was taken of");
	assert_int_equal(st.from_store, 7);
	mr_evindex_free(b);

	/* an id claimed for an event not yet committed: no snapshot until the claim settles */
	assert_int_equal(mr_store_acquire(f.db.store, &c, &err), 0);
	assert_int_equal(mr_evindex_sync(ix, c, &err), 0);
	mr_store_release(f.db.store, c);
	if (keep) {
		assert_int_equal(mr_evindex_claim(ix, "in-flight"), 1);
		assert_int_equal(mr_evindex_save(ix, f.db.store, &err), MR_EUNAVAIL);
		mr_evindex_unclaim(ix, "in-flight");
	}
	assert_int_equal(mr_evindex_save(ix, f.db.store, &err), 1);

	unlink(path);
	unlink(copy);
	rmdir(dir);
	mr_evindex_free(full);
	mr_evindex_free(ix);
	close_fixture(&f);
}

/*
 * The id set alone, through growth (by half, any size) and deletions that
 * shift probe runs back across the table's end: after claiming 300,000
 * ids and giving back every third, exactly those are new again.
 */
static void test_id_set(void **state)
{
	struct mr_evindex *x = mr_evindex_new(1);
	struct mr_evindex_stats st;
	char id[32];
	int n = 300000;

	(void)state;
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "id-%d", i);
		assert_int_equal(mr_evindex_claim(x, id), 1);
	}
	for (int i = 0; i < n; i += 3) {
		snprintf(id, sizeof(id), "id-%d", i);
		mr_evindex_unclaim(x, id);
	}
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "id-%d", i);
		if (mr_evindex_claim(x, id) != (i % 3 == 0))
			fail_msg("%s: claimed %s", id, i % 3 == 0 ? "as seen" : "as new");
	}
	mr_evindex_stats(x, &st);
	assert_int_equal(st.ids, n);
	assert_true(st.bytes < (int64_t)n * 24); /* 12 bytes a slot, the table at most ~55 % empty */
	mr_evindex_free(x);
}

/*
 * Lists that grew out of the packed block go back into it once they hold
 * a tenth of the events (at least 100,000): the upkeep packs them, and
 * every list reads the same after.
 */
static void test_repack(void **state)
{
	struct fixture f;
	struct mr_evindex *x = mr_evindex_new(0);
	struct mr_evindex_stats st;
	struct mr_conn *c = NULL;
	struct mr_err err;
	enum { N = 120000, HCPS = 1000 };
	struct mr_evref *refs = mr_calloc(N, sizeof(*refs));
	uint32_t n = 0;
	const struct mr_evitem *it;

	open_fixture(&f, state);
	assert_int_equal(mr_store_acquire(f.db.store, &c, &err), 0);
	assert_int_equal(mr_evindex_sync(x, c, &err), 0); /* loaded: empty */
	mr_store_release(f.db.store, c);
	for (int i = 0; i < N; i++) /* out of time order within each doctor: later seqs, earlier times */
		refs[i] = (struct mr_evref){ .seq = i + 1, .ts = (int64_t)(N - i) * MR_US_PER_S,
					     .hcp = (uint32_t)(1 + i % HCPS), .channel = MR_CH_PHONE };
	assert_int_equal(mr_evindex_apply(x, refs, N, f.db.store, &err), 0);
	mr_evindex_stats(x, &st);
	assert_int_equal(st.scattered, N);
	assert_int_equal(mr_evindex_maintain(x, f.db.store, &err), 0);
	mr_evindex_stats(x, &st);
	assert_int_equal(st.scattered, 0);
	assert_int_equal(st.events, N);
	mr_evindex_read_begin(x);
	it = mr_evindex_items(x, 7, &n);
	assert_int_equal(n, N / HCPS);
	for (uint32_t i = 1; i < n; i++)
		assert_true(it[i - 1].ts < it[i].ts);
	assert_int_equal(it[n - 1].seq, 7 - 1 + 1); /* the first applied for record 7 is its newest */
	mr_evindex_read_end(x);
	free(refs);
	mr_evindex_free(x);
	close_fixture(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		MR_TEST_BOTH(test_append_dedupes_and_orders),
		MR_TEST_BOTH(test_identity_gets_a_provisional_hcp),
		MR_TEST_BOTH(test_timeline),
		MR_TEST_BOTH(test_snapshot),
		cmocka_unit_test(test_id_set),
		MR_TEST_BOTH(test_repack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
