// Tags (docs/tags.md) on the demo world, on SQLite and PostgreSQL: the demo's
// tag catalogue computed by the server; every value and distribution equal
// to the same question asked in SQL over the store's tables (windows at the
// moment of asking, merged records' events counted for their survivor); a
// tag current the moment the POST of an event answers, and its change in the
// tag feed (a long poll that wakes for it); a window closing without any
// event; manual tags set by reps within their alignments, with who and when;
// recompute; the caller's scope; and bad names, expressions, cycles and
// deletes of tags in use refused with the right status and detail.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createUser, assertError, sleep, BACKEND } from './harness.mjs';

const DAY_US = 86400n * 1000000n;
const CH = { phone: 1, wechat: 2, wecom: 3, meeting_online: 4, meeting_offline: 5, visit: 6, email: 7, content: 8, sms: 9 };
// weight: 1 for a ladder's lowest rung up to 3 for its top (4 rungs: 1 2 2 3; 3 rungs: 1 2 3; 2 rungs: 1 3)
const WEIGHT = `CASE WHEN e.channel IN (1, 2, 3, 7, 9) THEN (CASE e.outcome WHEN 0 THEN 1 WHEN 1 THEN 2 WHEN 2 THEN 2 ELSE 3 END)
  WHEN e.channel IN (4, 5) THEN e.outcome + 1 ELSE (CASE e.outcome WHEN 0 THEN 1 ELSE 3 END) END`;
const LIVE = 'h.deleted_at IS NULL AND h.merged_into IS NULL AND h.erased_at IS NULL';
const C = BACKEND === 'pg' ? ' COLLATE "C"' : '';

let srv;
let rep;       // a field rep: {login, token, ext}
let repDoc;    // a doctor aligned to rep
let otherDoc;  // a doctor not aligned to rep

const get = (path, token = srv.adminToken) => srv.api('GET', path, { token });
const put = (path, body, token = srv.adminToken) => srv.api('PUT', path, { token, body });
const post = (path, body, token = srv.adminToken) => srv.api('POST', path, { token, body });
const del = (path, token = srv.adminToken) => srv.api('DELETE', path, { token });
const nowUs = () => BigInt(Date.now()) * 1000n;

async function postEvents(lines) {
  const r = await srv.api('POST', '/api/v1/events', {
    token: srv.adminToken,
    headers: { 'content-type': 'application/x-ndjson' },
    body: lines.map((l) => JSON.stringify(l)).join('\n') + '\n',
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.accepted, lines.length, r.text);
  return r;
}

/** The doctors' (survivors') events matching cond in the window of days up to at (µs), per doctor. */
const perDoctor = (cond, days, at, agg) => `SELECT COALESCE(x.merged_into, x.id) AS d, ${agg} AS v FROM events e
  JOIN hcps x ON x.id = e.hcp_id WHERE ${cond} AND e.ts > ${at - BigInt(days) * DAY_US} AND e.ts <= ${at}
  GROUP BY COALESCE(x.merged_into, x.id)`;

/** SQL rows as arrays of strings. */
async function rows(q) {
  const out = await srv.sql(q);
  return out ? out.split('\n').map((l) => l.split('|')) : [];
}

/** Retries fn (which throws on a mismatch) a few times: a window may close between the two questions. */
async function settles(fn) {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= 3) throw err;
      await sleep(300);
    }
  }
}

before(async () => {
  srv = await startServer();
  const demo = await srv.cli(['demo', '--hcps', '3000', '--seed', '5']);
  assert.equal(demo.code, 0, `${demo.stdout}${demo.stderr}`);
  assert.match(demo.stdout, /tags: 5 defined/);
  // a merge, so that a survivor's values include its merged record's events
  const [dup, into] = (await srv.sql(`SELECT d.ext_id || '|' || p.ext_id FROM hcps d JOIN hcps p ON p.id <> d.id
    AND p.name = d.name WHERE d.ext_id LIKE 'WX-%' AND p.ext_id LIKE 'D%' ORDER BY d.id LIMIT 1`)).split('|');
  if (dup) {
    await postEvents([{ id: 'tag-merge-1', ts: new Date(Date.now() - 3 * 86400000).toISOString(), hcp: dup, channel: 'wechat', outcome: 'responded' }]);
    const m = await post(`/api/v1/hcps/${dup}/merge`, { into, reason: 'tag test' });
    assert.ok([200, 201].includes(m.status), `merge ${dup} into ${into}: ${m.status} ${m.text}`);
  }
  const repExt = await srv.sql(`SELECT r.ext_id FROM reps r JOIN alignments a ON a.rep_id = r.id
    WHERE r.type = 'field' AND a.deleted_at IS NULL GROUP BY r.ext_id ORDER BY COUNT(*) DESC, r.ext_id LIMIT 1`);
  const u = await createUser(srv, { role: 'field_rep', rep_id: repExt });
  rep = { login: u.login, ext: repExt, token: await srv.token(u.login) };
  repDoc = await srv.sql(`SELECT h.ext_id FROM hcps h JOIN alignments a ON a.hcp_id = h.id JOIN reps r ON r.id = a.rep_id
    WHERE r.ext_id = '${repExt}' AND a.deleted_at IS NULL AND ${LIVE} ORDER BY h.id LIMIT 1`);
  otherDoc = await srv.sql(`SELECT h.ext_id FROM hcps h WHERE ${LIVE} AND h.ext_id LIKE 'D%' AND NOT EXISTS
    (SELECT 1 FROM alignments a JOIN reps r ON r.id = a.rep_id WHERE a.hcp_id = h.id AND r.ext_id = '${repExt}')
    ORDER BY h.id LIMIT 1`);
  // the server picks up the demo's definitions and computes them
  for (let i = 0; i < 100; i++) {
    const r = await get('/api/v1/tags');
    if (r.status === 200 && r.json.items.length >= 5) break;
    await sleep(100);
  }
});

after(async () => {
  if (srv) await srv.stop();
});

test('the demo defines believable tags, and the server computes them', async () => {
  const r = await get('/api/v1/tags');
  assert.equal(r.status, 200, r.text);
  const by = Object.fromEntries(r.json.items.map((t) => [t.name, t]));
  assert.deepEqual(Object.keys(by).sort(), ['academic_need', 'answer_rate_90d', 'engagement_score', 'kol', 'wechat_engaged']);
  assert.equal(by.wechat_engaged.type, 'boolean');
  assert.equal(by.engagement_score.type, 'number');
  assert.equal(by.academic_need.type, 'text');
  assert.equal(by.kol.kind, 'manual');
  assert.equal(by.kol.expr, null);
  assert.match(by.wechat_engaged.expr, /count\(channel = "wechat"/);
  assert.ok(by.wechat_engaged.description, 'a description');
  const doctors = Number(await srv.sql(`SELECT COUNT(*) FROM hcps h WHERE ${LIVE}`));
  for (const t of r.json.items) {
    assert.equal(t.counts.doctors, doctors, t.name);
    assert.equal(t.error, null, t.name);
  }
  assert.equal(by.engagement_score.counts.with_value, doctors, 'a sum over nothing is 0, not null');
  assert.ok(by.academic_need.counts.with_value > 100 && by.academic_need.counts.with_value < doctors);
  assert.equal(r.json.next_cursor, null);
  const one = await get('/api/v1/tags/academic_need');
  assert.equal(one.status, 200);
  assert.equal(one.json.name, 'academic_need');
  assert.equal((await get('/api/v1/tags/nope')).status, 404);
});

test('values and distributions equal the same questions in SQL', async () => {
  await settles(async () => {
    const at = nowUs();
    // wechat_engaged: ≥ 3 WeChat responses in 90 days
    const engaged = await rows(`SELECT COUNT(*) FROM hcps h JOIN (${perDoctor(`e.channel = ${CH.wechat} AND e.outcome >= 3`, 90, at, 'COUNT(*)')}) c
      ON c.d = h.id WHERE ${LIVE} AND c.v >= 3`);
    const dist = await get('/api/v1/tags/wechat_engaged/distribution');
    assert.equal(dist.status, 200, dist.text);
    const yes = dist.json.values.find((v) => v.value === true);
    assert.equal(yes ? yes.count : 0, Number(engaged[0][0]), 'wechat_engaged true');
    assert.equal(dist.json.values.reduce((s, v) => s + v.count, 0), dist.json.doctors);
    assert.ok(Math.abs(dist.json.values.reduce((s, v) => s + v.share, 0) - 1) < 1e-9);
  });
  await settles(async () => {
    const at = nowUs();
    // engagement_score: the sum of the weights in 180 days (0 without events)
    const sums = await rows(`SELECT COUNT(*), MIN(COALESCE(c.v, 0)), MAX(COALESCE(c.v, 0)), AVG(COALESCE(c.v, 0))
      FROM hcps h LEFT JOIN (${perDoctor('1 = 1', 180, at, `SUM(${WEIGHT})`)}) c ON c.d = h.id WHERE ${LIVE}`);
    const d = (await get('/api/v1/tags/engagement_score/distribution')).json;
    assert.equal(d.type, 'number');
    assert.equal(d.count, Number(sums[0][0]));
    assert.equal(d.min, Number(sums[0][1]));
    assert.equal(d.max, Number(sums[0][2]));
    assert.ok(Math.abs(d.mean - Number(sums[0][3])) < 1e-6, `mean ${d.mean} vs ${sums[0][3]}`);
    assert.equal(d.bins.length, 10);
    assert.equal(d.bins.reduce((s, b) => s + b.count, 0), d.count);
    assert.equal(d.bins[0].from, d.min);
    assert.equal(d.bins[9].to, d.max);
  });
  await settles(async () => {
    const at = nowUs();
    // academic_need: the most viewed content topic in 180 days, ties to the smaller
    const want = await rows(`WITH t AS (SELECT COALESCE(x.merged_into, x.id) AS d, c.topic AS topic, COUNT(*) AS n
        FROM events e JOIN hcps x ON x.id = e.hcp_id JOIN content c ON c.ext_id = e.content AND c.deleted_at IS NULL
        WHERE e.channel = ${CH.content} AND c.topic IS NOT NULL AND e.ts > ${at - 180n * DAY_US} AND e.ts <= ${at}
        GROUP BY COALESCE(x.merged_into, x.id), c.topic),
      r AS (SELECT d, topic, ROW_NUMBER() OVER (PARTITION BY d ORDER BY n DESC, topic${C}) AS k FROM t)
      SELECT r.topic, COUNT(*) FROM r JOIN hcps h ON h.id = r.d WHERE r.k = 1 AND ${LIVE} GROUP BY r.topic`);
    const d = (await get('/api/v1/tags/academic_need/distribution?limit=50')).json;
    const got = Object.fromEntries(d.values.filter((v) => v.value !== null).map((v) => [v.value, v.count]));
    assert.deepEqual(got, Object.fromEntries(want.map(([topic, n]) => [topic, Number(n)])));
    // most frequent first
    const counts = d.values.filter((v) => v.value !== null).map((v) => v.count);
    assert.deepEqual(counts, [...counts].sort((a, b) => b - a));
    assert.ok(want.length >= 4, `topics: ${JSON.stringify(want)}`);
  });
  // per doctor: the rate and the score of a few doctors with phone calls, read one by one
  await settles(async () => {
    const at = nowUs();
    const sample = await rows(`SELECT h.ext_id, c.v FROM hcps h JOIN (${perDoctor(`e.channel = ${CH.phone}`, 90, at,
      'CAST(SUM(CASE WHEN e.outcome >= 1 THEN 1 ELSE 0 END) AS REAL) / COUNT(*)')}) c ON c.d = h.id
      WHERE ${LIVE} ORDER BY h.id LIMIT 12`);
    assert.ok(sample.length >= 10);
    for (const [ext, rate] of sample) {
      const r = await get(`/api/v1/hcps/${ext}/tags`);
      assert.equal(r.status, 200, r.text);
      const v = Object.fromEntries(r.json.items.map((i) => [i.name, i.value]));
      assert.ok(Math.abs(v.answer_rate_90d - Number(rate)) < 1e-6, `${ext}: ${v.answer_rate_90d} vs ${rate}`);
    }
  });
});

test('an event changes its doctor\'s tags before the POST answers; the change is in the feed', async () => {
  const doc = await srv.sql(`SELECT h.ext_id FROM hcps h WHERE ${LIVE} AND h.ext_id LIKE 'D%' AND NOT EXISTS
    (SELECT 1 FROM events e WHERE e.hcp_id = h.id AND e.channel = ${CH.wechat}) ORDER BY h.id LIMIT 1`);
  const before1 = await get(`/api/v1/hcps/${doc}/tags`);
  assert.equal(before1.json.items.find((i) => i.name === 'wechat_engaged').value, false);
  const head = (await get('/api/v1/tags/feed?limit=1')).json.head_seq;
  // a poll waiting for the change, started before the events
  const t0 = Date.now();
  const waiting = get(`/api/v1/tags/feed?after=${head}&wait=10`);
  await sleep(200);
  const ts = new Date().toISOString();
  await postEvents([1, 2, 3].map((i) => ({ id: `tag-live-${i}`, ts, hcp: doc, channel: 'wechat', outcome: 'responded' })));
  const now = await get(`/api/v1/hcps/${doc}/tags`);
  const v = Object.fromEntries(now.json.items.map((i) => [i.name, i.value]));
  assert.equal(v.wechat_engaged, true, 'current when the POST answered');
  const polled = await waiting;
  assert.equal(polled.status, 200, polled.text);
  assert.ok(Date.now() - t0 < 5000, `the poll woke for the change (${Date.now() - t0} ms)`);
  let items = polled.json.items;
  for (let i = 0; i < 20 && !items.some((c) => c.tag === 'wechat_engaged' && c.hcp === doc); i++) {
    await sleep(100);
    items = (await get(`/api/v1/tags/feed?after=${head}&limit=1000`)).json.items;
  }
  const ch = items.find((c) => c.tag === 'wechat_engaged' && c.hcp === doc);
  assert.ok(ch, JSON.stringify(items));
  assert.deepEqual([ch.old, ch.new, ch.cause, ch.type], [false, true, 'event', 'boolean']);
  assert.ok(items.every((c, i) => i === 0 || c.seq > items[i - 1].seq), 'in seq order');
  // resumable: after the last one there is nothing (without waiting)
  const rest = await get(`/api/v1/tags/feed?after=${polled.json.last_seq}&limit=1000`);
  assert.ok(rest.json.items.every((c) => c.seq > polled.json.last_seq));
  // the log is in the store
  assert.ok(Number(await srv.sql(`SELECT COUNT(*) FROM tag_changes WHERE tag = 'wechat_engaged' AND cause = 'event'
    AND hcp_id = (SELECT id FROM hcps WHERE ext_id = '${doc}')`)) >= 1);
});

test('a window closes without any event: the tag turns at that moment and the feed says expiry', async () => {
  const doc = await srv.sql(`SELECT h.ext_id FROM hcps h WHERE ${LIVE} AND h.ext_id LIKE 'D%' ORDER BY h.id DESC LIMIT 1`);
  const r = await put('/api/v1/tags/short_touch', { expr: 'exists(campaign = "TAG-EXP", 1h)', category: 'test' });
  assert.equal(r.status, 201, r.text);
  // an event that leaves the one-hour window in three seconds
  const leaves = Date.now() + 3000;
  await postEvents([{ id: 'tag-exp-1', ts: new Date(leaves - 3600 * 1000).toISOString(), hcp: doc, channel: 'email', outcome: 'sent', campaign: 'TAG-EXP' }]);
  const value = async () => (await get(`/api/v1/hcps/${doc}/tags`)).json.items.find((i) => i.name === 'short_touch').value;
  assert.equal(await value(), true);
  while (Date.now() < leaves - 300) await sleep(100);
  assert.equal(await value(), true, 'still in the window');
  await sleep(300);
  let closed = false;
  for (let i = 0; i < 50 && !closed; i++) {
    closed = (await value()) === false;
    if (!closed) await sleep(100);
  }
  assert.ok(closed, 'the window closed');
  assert.ok(Date.now() - leaves < 5000);
  // logged as of the moment it left (the thread wakes then; a busy machine may be a little late)
  let at = '';
  for (let i = 0; i < 20 && !at; i++) {
    at = await srv.sql(`SELECT at FROM tag_changes WHERE tag = 'short_touch' AND cause = 'expiry' AND new_value = 'false'`);
    if (!at) await sleep(100);
  }
  assert.ok(BigInt(at) >= BigInt(leaves) * 1000n && BigInt(at) < BigInt(leaves + 2000) * 1000n, `at ${at} vs ${leaves}`);
  assert.equal((await del('/api/v1/tags/short_touch')).status, 204);
});

test('define, replace, read and delete; tags naming tags; errors say what and where', async () => {
  let r = await put('/api/v1/tags/high_engagement', { expr: 'engagement_score >= 20 and wechat_engaged', description: '高互动', category: 'engagement' });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.type, 'boolean');
  assert.deepEqual(r.json.uses.sort(), ['engagement_score', 'wechat_engaged']);
  assert.equal(r.json.created_by, srv.adminLogin);
  const engaged = (await get('/api/v1/tags/wechat_engaged')).json;
  assert.deepEqual(engaged.used_by, ['high_engagement']);
  assert.ok(r.json.counts.true <= engaged.counts.true);
  r = await put('/api/v1/tags/high_engagement', { expr: 'engagement_score >= 30 and wechat_engaged' });
  assert.equal(r.status, 200, 'replaced');
  assert.equal(r.json.expr, 'engagement_score >= 30 and wechat_engaged');
  // an expression error: 400 with the column and what was expected
  r = await put('/api/v1/tags/bad_one', { expr: 'count(channel = "pigeon", 90d) > 1' });
  assertError(r, 400, 'invalid_expression');
  assert.equal(r.json.error.detail.field, 'expr');
  assert.equal(r.json.error.detail.column, 17);
  assert.match(r.json.error.detail.expected, /phone/);
  r = await put('/api/v1/tags/bad_one', { expr: 'specialty = "x" and (' });
  assertError(r, 400, 'invalid_expression');
  assert.ok(r.json.error.detail.column > 1);
  // names
  for (const name of ['specialty', 'channel', 'Kol', '1st', 'and', 'x'.repeat(64), 'a-b']) {
    r = await put(`/api/v1/tags/${encodeURIComponent(name)}`, { expr: 'true' });
    assertError(r, 400, 'bad_request', name);
    assert.equal(r.json.error.detail.field, 'name', name);
  }
  // a cycle
  r = await put('/api/v1/tags/wechat_engaged', { expr: 'high_engagement' });
  assertError(r, 400, 'bad_request');
  assert.match(r.json.error.message, /high_engagement/);
  // a manual tag needs its type; a wrong "type" for an expression
  assertError(await put('/api/v1/tags/m_tag', { description: 'x' }), 400, 'bad_request');
  assertError(await put('/api/v1/tags/m_tag', { expr: 'true', type: 'number' }), 400, 'bad_request');
  assertError(await put('/api/v1/tags/m_tag', { expr: 42 }), 400, 'bad_request');
  assertError(await put('/api/v1/tags/m_tag', { expr: 'true', colour: 'red' }), 400, 'bad_request');
  // a type change or delete while another tag uses it: 409 naming it
  r = await put('/api/v1/tags/wechat_engaged', { expr: 'count(channel = "wechat", 90d)' });
  assertError(r, 409, 'conflict');
  assert.match(r.json.error.message, /high_engagement/);
  r = await del('/api/v1/tags/wechat_engaged');
  assertError(r, 409, 'conflict');
  assert.match(r.json.error.message, /high_engagement/);
  // a saved segment naming a tag keeps it too
  const seg = await put('/api/v1/segments/tag_users', { expr: 'high_engagement and specialty = "endocrinology"' });
  if (seg.status !== 404 && seg.status !== 405) {
    assert.ok([200, 201].includes(seg.status), seg.text);
    r = await del('/api/v1/tags/high_engagement');
    assertError(r, 409, 'conflict');
    assert.match(r.json.error.message, /tag_users/);
    assert.equal((await del('/api/v1/segments/tag_users')).status, 204);
  }
  assert.equal((await del('/api/v1/tags/high_engagement')).status, 204);
  assert.equal((await get('/api/v1/tags/high_engagement')).status, 404);
  assert.equal((await del('/api/v1/tags/high_engagement')).status, 404);
  assert.equal(Number(await srv.sql("SELECT COUNT(*) FROM tags WHERE name = 'high_engagement' AND deleted_at IS NOT NULL")), 1);
  // roles: reps, analysts read but do not define
  assertError(await put('/api/v1/tags/rep_tag', { expr: 'true' }, rep.token), 403, 'forbidden');
  assert.equal((await get('/api/v1/tags', rep.token)).status, 200);
  const mk = await createUser(srv, { role: 'marketing' });
  const mkToken = await srv.token(mk.login);
  r = await put('/api/v1/tags/mk_tag', { expr: 'specialty = "endocrinology"', category: 'profile' }, mkToken);
  assert.equal(r.status, 201, r.text);
  assert.equal((await del('/api/v1/tags/mk_tag', mkToken)).status, 204);
  // every route is described
  const spec = (await srv.api('GET', '/api/openapi.json')).json;
  for (const p of ['/api/v1/tags', '/api/v1/tags/{name}', '/api/v1/tags/{name}/distribution', '/api/v1/tags/feed',
    '/api/v1/tags/recompute', '/api/v1/hcps/{id}/tags', '/api/v1/hcps/{id}/tags/{name}']) {
    assert.ok(spec.paths[p], `${p} in openapi.json`);
  }
});

test('manual tags: reps set them on their doctors, with who and when; history kept', async () => {
  let r = await put(`/api/v1/hcps/${repDoc}/tags/kol`, { value: true }, rep.token);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.json.value, r.json.old, r.json.set_by], [true, null, rep.login]);
  r = await get(`/api/v1/hcps/${repDoc}/tags`, rep.token);
  const kol = r.json.items.find((i) => i.name === 'kol');
  assert.deepEqual([kol.value, kol.kind, kol.set_by], [true, 'manual', rep.login]);
  assert.ok(kol.set_at);
  // outside the rep's alignments; a role that may not; a computed tag; a wrong value
  assertError(await put(`/api/v1/hcps/${otherDoc}/tags/kol`, { value: true }, rep.token), 403, 'forbidden');
  const an = await createUser(srv, { role: 'analyst' });
  assertError(await put(`/api/v1/hcps/${repDoc}/tags/kol`, { value: false }, await srv.token(an.login)), 403, 'forbidden');
  assertError(await put(`/api/v1/hcps/${repDoc}/tags/wechat_engaged`, { value: true }, rep.token), 409, 'conflict');
  assertError(await put(`/api/v1/hcps/${repDoc}/tags/kol`, { value: 'yes' }, rep.token), 400, 'bad_request');
  assertError(await put(`/api/v1/hcps/${repDoc}/tags/kol`, {}, rep.token), 400, 'bad_request');
  assertError(await put(`/api/v1/hcps/${repDoc}/tags/nope`, { value: true }, rep.token), 404, 'not_found');
  assertError(await put('/api/v1/hcps/NO-SUCH/tags/kol', { value: true }), 404, 'not_found');
  // the newest wins, null clears; the history stays
  assert.equal((await put(`/api/v1/hcps/${repDoc}/tags/kol`, { value: false }, rep.token)).status, 200);
  assert.equal((await put(`/api/v1/hcps/${repDoc}/tags/kol`, { value: null }, rep.token)).status, 200);
  r = await get(`/api/v1/hcps/${repDoc}/tags`);
  assert.equal(r.json.items.find((i) => i.name === 'kol').value, null);
  const id = `(SELECT id FROM hcps WHERE ext_id = '${repDoc}')`;
  assert.equal(Number(await srv.sql(`SELECT COUNT(*) FROM hcp_tags WHERE hcp_id = ${id}`)), 3);
  assert.equal(await srv.sql(`SELECT COALESCE(old_value, 'null') || '>' || COALESCE(new_value, 'null') FROM tag_changes WHERE hcp_id = ${id}
    AND tag = 'kol' AND cause = 'manual' ORDER BY seq`), 'null>true\ntrue>false\nfalse>null');
  assert.equal(Number(await srv.sql(`SELECT COUNT(*) FROM tag_changes WHERE hcp_id = ${id} AND tag = 'kol'`)), 3);
  // a number and a text tag; a tag naming a manual tag follows it
  assert.equal((await put('/api/v1/tags/potential', { type: 'number', category: 'profile' })).status, 201);
  assert.equal((await put('/api/v1/tags/kol_engaged', { expr: 'kol and engagement_score >= 0' })).status, 201);
  r = await put(`/api/v1/hcps/${repDoc}/tags/potential`, { value: 7.5 }, rep.token);
  assert.equal(r.json.value, 7.5);
  assert.equal((await put(`/api/v1/hcps/${repDoc}/tags/kol`, { value: true }, rep.token)).status, 200);
  r = await get(`/api/v1/hcps/${repDoc}/tags`);
  const v = Object.fromEntries(r.json.items.map((i) => [i.name, i.value]));
  assert.deepEqual([v.potential, v.kol, v.kol_engaged], [7.5, true, true]);
  assertError(await put(`/api/v1/hcps/${repDoc}/tags/potential`, { value: 'lots' }, rep.token), 400, 'bad_request');
  const dist = (await get('/api/v1/tags/kol/distribution')).json;
  assert.equal(dist.values.find((x) => x.value === true).count, 1);
  assert.equal((await del('/api/v1/tags/kol_engaged')).status, 204);
  assert.equal((await del('/api/v1/tags/potential')).status, 204);
  assert.equal(Number(await srv.sql("SELECT COUNT(*) FROM audit_log WHERE action = 'hcp.tag.set'")), 5);
});

test('counts and distributions cover the caller\'s doctors only', async () => {
  const mine = Number(await srv.sql(`SELECT COUNT(DISTINCT h.id) FROM hcps h JOIN alignments a ON a.hcp_id = h.id
    JOIN reps r ON r.id = a.rep_id WHERE r.ext_id = '${rep.ext}' AND a.deleted_at IS NULL AND ${LIVE}
    AND a.valid_from <= ${nowUs()} AND (a.valid_to IS NULL OR a.valid_to > ${nowUs()})`));
  const d = (await get('/api/v1/tags/academic_need/distribution', rep.token)).json;
  assert.equal(d.doctors, mine);
  assert.equal(d.values.reduce((s, v) => s + v.count, 0), mine);
  const all = (await get('/api/v1/tags/academic_need/distribution')).json;
  assert.ok(all.doctors > mine);
  const list = (await get('/api/v1/tags', rep.token)).json.items;
  assert.ok(list.every((t) => t.counts.doctors === mine));
  // the feed too: only changes of the rep's doctors
  const feed = (await get('/api/v1/tags/feed?after=0&limit=1000', rep.token)).json;
  const ids = new Set((await srv.sql(`SELECT DISTINCT h.ext_id FROM hcps h JOIN alignments a ON a.hcp_id = h.id
    JOIN reps r ON r.id = a.rep_id WHERE r.ext_id = '${rep.ext}' AND a.deleted_at IS NULL`)).split('\n'));
  assert.ok(feed.items.length > 0);
  assert.ok(feed.items.every((c) => ids.has(c.hcp)), 'the rep sees changes of their doctors only');
});

test('recompute rebuilds every tag and says how long it took', async () => {
  const r = await post('/api/v1/tags/recompute', {});
  assert.equal(r.status, 200, r.text);
  const doctors = Number(await srv.sql(`SELECT COUNT(*) FROM hcps h WHERE ${LIVE}`));
  assert.equal(r.json.tags, (await get('/api/v1/tags')).json.items.length);
  assert.equal(r.json.hcps, doctors);
  assert.equal(typeof r.json.took_ms, 'number');
  assertError(await post('/api/v1/tags/recompute', {}, rep.token), 403, 'forbidden');
  // nothing changed by recomputing what is current
  await sleep(300);
  assert.ok(Number(await srv.sql("SELECT COUNT(*) FROM tag_changes WHERE cause = 'recompute'")) <= 2);
  assert.equal((await srv.api('GET', '/api/v1/tags')).status, 401);
});
