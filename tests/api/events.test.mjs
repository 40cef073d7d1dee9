// The event log through the API and the CLI, as ../shared/ARCHITECTURE.md §3
// "Events" promises it: NDJSON ingestion with a line-level report (good
// lines kept, every bad one named with its line, field and column), ids seen
// before counted as duplicates and stored once, gzip bodies (and gzip bombs
// refused), provisional HCPs for unknown identities; the change feed in seq
// order, resumable, scoped, as a long poll; an HCP's timeline newest first
// with its filters, cursor, visibility, live updates and merges; and
// `medreach import events` / `medreach export events` round trips.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { startServer, assertError, createUser, uniqueLogin, sleep } from './harness.mjs';

let srv;
let admin;
const tok = {};

const TS = '2024-03-05T09:12:00+08:00';
const TS_UTC = '2024-03-05T01:12:00Z';
const NDJSON = { 'Content-Type': 'application/x-ndjson' };
const REPORT_KEYS = ['accepted', 'duplicates', 'lines', 'rejected', 'rejected_total'];

const csv = (rows) => rows.map((r) => r.join(',')).join('\r\n') + '\r\n';
/** NDJSON from events (objects) and raw lines (strings), one a line. */
const nd = (lines) => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';
/** The same with raw lines as Buffers too (bytes that are not UTF-8). */
const ndBytes = (lines) => Buffer.concat(lines.map((l) => Buffer.concat([
  Buffer.isBuffer(l) ? l : Buffer.from(typeof l === 'string' ? l : JSON.stringify(l)), Buffer.from('\n')])));
/** A phone call by default; over replaces any field. */
const ev = (id, hcp, over = {}) => ({ id, ts: TS, hcp, channel: 'phone', outcome: 'answered', ...over });

async function importCsv(srvx, entity, rows) {
  const r = await srvx.api('POST', `/api/v1/${entity}/import`, {
    token: srvx.adminToken, body: csv(rows), headers: { 'Content-Type': 'text/csv' },
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.failed, 0, `${entity}: ${r.text}`);
  return r.json;
}

/** POST /api/v1/events: body is a list for nd(), a string or a Buffer. */
function ingest(body, { token = admin, headers = {}, chunked } = {}) {
  const payload = Array.isArray(body) ? nd(body) : body;
  return srv.api('POST', '/api/v1/events', { token, body: payload, headers: { ...NDJSON, ...headers }, chunked });
}

/** Asserts an ingest answer: 200, the contract's shape, and the counts in want. */
function assertReport(res, want) {
  assert.equal(res.status, 200, res.text);
  for (const k of REPORT_KEYS) assert.ok(k in res.json, `report has ${k}: ${res.text}`);
  assert.ok(Array.isArray(res.json.rejected), res.text);
  for (const r of res.json.rejected) {
    assert.ok(Number.isInteger(r.line) && r.line >= 1, `rejected line: ${JSON.stringify(r)}`);
    assert.equal(typeof r.error, 'string', `rejected error: ${JSON.stringify(r)}`);
    assert.ok(r.error.length > 0, JSON.stringify(r));
    for (const k of Object.keys(r)) assert.ok(['line', 'field', 'column', 'error'].includes(k), `rejected key ${k}: ${JSON.stringify(r)}`);
  }
  for (const [k, v] of Object.entries(want)) assert.deepEqual(res.json[k], v, `${k}: ${res.text}`);
  return res.json;
}

const timeline = (hcp, query = '', token = admin) => srv.api('GET', `/api/v1/hcps/${hcp}/timeline${query ? `?${query}` : ''}`, { token });
const ids = (res) => res.json.items.map((i) => i.id);

async function timelineIds(hcp, query = '', token = admin) {
  const r = await timeline(hcp, query, token);
  assert.equal(r.status, 200, r.text);
  return ids(r);
}

/** The largest seq stored, straight from the database. */
async function maxSeq(s = srv) {
  return Number(await s.sql('SELECT COALESCE(MAX(seq), 0) FROM events'));
}

async function feed(query, token = admin) {
  const r = await srv.api('GET', `/api/v1/events/feed?${query}`, { token });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

/** How many rows the events table holds for each of these ids. */
async function stored(eids) {
  const list = eids.map((e) => `'${e}'`).join(',');
  const rows = await srv.sql(`SELECT eid, COUNT(*) FROM events WHERE eid IN (${list}) GROUP BY eid ORDER BY eid`);
  return Object.fromEntries(rows.split('\n').filter(Boolean).map((l) => { const [e, n] = l.split('|'); return [e, Number(n)]; }));
}

before(async () => {
  srv = await startServer();
  admin = srv.adminToken;
  await importCsv(srv, 'reps', [['id', 'name', 'type'], ['R1', '张伟', 'field'], ['R2', '李娜', 'inside'], ['R3', '王强', 'field']]);
  const hcps = ['D1', 'D2', 'D3', 'DT', 'DP', 'DL', 'DM-A', 'DM-B', 'DG', 'DU', 'DBAD', 'DCLI', 'DRT', 'DPROPS', 'DF'];
  await importCsv(srv, 'hcps', [['id', 'name'], ...hcps.map((h, i) => [h, `医生${i}`])]);
  await importCsv(srv, 'identities', [['hcp', 'kind', 'value'], ['D2', 'wechat_unionid', 'oKnownDoctor2']]);
  await importCsv(srv, 'alignments', [['hcp', 'rep', 'role', 'product', 'valid_from'],
    ['D1', 'R1', 'field_owner', 'GLU', '2024-01-01'], ['D1', 'R2', 'inside_owner', 'GLU', '2024-01-01'],
    ['D2', 'R2', 'inside_owner', 'GLU', '2024-01-01'], ['D3', 'R3', 'field_owner', 'GLU', '2024-01-01'],
    ['DT', 'R1', 'field_owner', 'GLU', '2024-01-01'], ['DT', 'R2', 'inside_owner', 'GLU', '2024-01-01'],
    ['DL', 'R1', 'field_owner', 'GLU', '2024-01-01'], ['DM-A', 'R1', 'field_owner', 'GLU', '2024-01-01']]);
  for (const [name, role, rep] of [['r1', 'field_rep', 'R1'], ['r2', 'inside_rep', 'R2'], ['r3', 'field_rep', 'R3'],
    ['mkt', 'marketing', null], ['an', 'analyst', null]]) {
    const u = await createUser(srv, { login: uniqueLogin(name), role, rep_id: rep || undefined });
    tok[name] = await srv.token(u.login);
  }
});
after(async () => { await srv?.stop(); });

/* ------------------------------------------------------------ ingestion */

test('a good batch is accepted, and is on the timeline and in the feed by the time the answer comes', async () => {
  const base = await maxSeq();
  const res = await ingest([
    ev('ok-1', 'D1', { rep: 'R1', duration_s: 320, content: 'C00012', campaign: 'K01' }),
    ev('ok-2', 'D1', { channel: 'wechat', outcome: 'read', rep: 'R2', ts: '2024-03-05T10:00:00+08:00' }),
    ev('ok-3', 'D1', { channel: 'visit', outcome: 'completed', rep: 'R1', ts: '2024-03-05T11:00:00+08:00' }),
  ]);
  assertReport(res, { accepted: 3, duplicates: 0, rejected: [], rejected_total: 0, lines: 3 });
  // No wait of any kind: the answer leaves after the events are readable.
  const tl = await timeline('D1');
  assert.equal(tl.status, 200, tl.text);
  assert.deepEqual(ids(tl), ['ok-3', 'ok-2', 'ok-1']);
  const f = await feed(`after=${base}`);
  assert.deepEqual(f.items.map((i) => i.id), ['ok-1', 'ok-2', 'ok-3']);
  const one = f.items[0];
  assert.equal(one.ts, TS_UTC, 'stored as UTC');
  assert.deepEqual([one.hcp, one.channel, one.type, one.outcome, one.duration_s, one.content, one.campaign, one.meeting, one.source],
    ['D1', 'phone', 'call', 'answered', 320, 'C00012', 'K01', null, 'api']);
  assert.deepEqual(one.rep, { id: 'R1', name: '张伟', type: 'field' });
  assert.deepEqual(f.items.map((i) => i.type), ['call', 'message', 'visit'], "each channel's default type");
});

test('bad lines are each reported with their line, field and reason; the good lines around them are kept', async (t) => {
  const fine = (n) => ev(`bad-ok-${n}`, 'DBAD');
  const long = ev('bad-long', 'DBAD', { props: { pad: 'x'.repeat(70 * 1024) } });
  const badUtf8 = Buffer.concat([Buffer.from(`{"id":"bad-utf8","ts":"${TS}","hcp":"DBAD","channel":"phone","outcome":"answered","campaign":"K`),
    Buffer.from([0xff]), Buffer.from('"}')]);
  const overlong = Buffer.concat([Buffer.from(`{"id":"bad-utf8-props","ts":"${TS}","hcp":"DBAD","channel":"phone","outcome":"answered","props":{"k":"a`),
    Buffer.from([0xc0, 0xaf]), Buffer.from('"}}')]);
  const truncated = `{"id":"bad-trunc","ts":"${TS}"`;
  // [line, what, the line, what its report must say]
  const cases = [
    [1, 'good', fine(1)],
    [2, 'malformed JSON, with its column', '{"id":"bad-json",,}', (r) => {
      assert.match(r.error, /^malformed JSON/);
      assert.equal(r.column, 18, 'the column of the second comma');
    }],
    [3, 'missing channel', { id: 'bad-no-channel', ts: TS, hcp: 'DBAD', outcome: 'answered' }, (r) => {
      assert.equal(r.field, 'channel');
      assert.match(r.error, /'channel' is required/);
    }],
    [4, 'unknown channel', ev('bad-channel', 'DBAD', { channel: 'fax' }), (r) => {
      assert.equal(r.field, 'channel');
      assert.match(r.error, /unknown channel 'fax'/);
      assert.match(r.error, /phone, wechat, wecom, meeting_online, meeting_offline, visit, email, content or sms/);
    }],
    [5, 'missing outcome', { id: 'bad-no-outcome', ts: TS, hcp: 'DBAD', channel: 'phone' }, (r) => {
      assert.equal(r.field, 'outcome');
      assert.match(r.error, /'outcome' is required/);
    }],
    [6, "an outcome from another channel's ladder, the ladder named", ev('bad-ladder', 'DBAD', { outcome: 'read' }), (r) => {
      assert.equal(r.field, 'outcome');
      assert.match(r.error, /outcome 'read' is not on the phone ladder \(no_answer < answered < successful < effective\)/);
    }],
    [7, 'a blank line: skipped, yet counted in the line numbers', ''],
    [8, 'a timestamp without a zone', ev('bad-no-zone', 'DBAD', { ts: '2024-03-05T09:12:00' }), (r) => {
      assert.equal(r.field, 'ts');
      assert.match(r.error, /zone/);
    }],
    [9, 'a timestamp far in the future', ev('bad-future', 'DBAD', { ts: '2099-01-01T00:00:00Z' }), (r) => {
      assert.equal(r.field, 'ts');
      assert.match(r.error, /2099-01-01T00:00:00Z is more than a day in the future/);
    }],
    [10, 'an unknown HCP id', ev('bad-hcp', 'D404'), (r) => {
      assert.equal(r.field, 'hcp');
      assert.equal(r.error, "unknown HCP 'D404'");
    }],
    [11, 'an unknown rep', ev('bad-rep', 'DBAD', { rep: 'R404' }), (r) => {
      assert.equal(r.field, 'rep');
      assert.equal(r.error, "unknown rep 'R404'");
    }],
    [12, 'an unknown identity kind', { id: 'bad-kind', ts: TS, identity: { kind: 'qq', value: '12345678' }, channel: 'phone', outcome: 'answered' }, (r) => {
      assert.equal(r.field, 'identity.kind');
      assert.match(r.error, /unknown identity kind 'qq'/);
    }],
    [13, 'a line over the 64 KiB cap', long, (r) => {
      assert.deepEqual(Object.keys(r).sort(), ['error', 'line'], `no field or column to name: ${JSON.stringify(r)}`);
      assert.match(r.error, /65536/);
    }],
    [14, 'invalid UTF-8 in a string', badUtf8, (r) => {
      assert.match(r.error, /malformed JSON: .*UTF8/);
      assert.ok(Number.isInteger(r.column) && r.column > 90 && r.column <= badUtf8.length + 1, `the column of the bad byte: ${JSON.stringify(r)}`);
    }],
    [15, 'invalid UTF-8 (an overlong form) inside props', overlong, (r) => {
      assert.equal(r.field, 'props');
      assert.match(r.error, /not valid UTF-8/);
    }],
    [16, 'a key given twice', `{"id":"bad-twice","ts":"${TS}","hcp":"DBAD","channel":"phone","channel":"sms","outcome":"answered"}`, (r) => {
      assert.equal(r.field, 'channel');
      assert.match(r.error, /field 'channel' appears twice/);
    }],
    [17, 'a list, not an object', '[1,2,3]', (r) => assert.match(r.error, /an event must be a JSON object/)],
    [18, 'a string, not an object', '"an event"', (r) => assert.match(r.error, /an event must be a JSON object/)],
    [19, 'a number, not an object', '42', (r) => assert.match(r.error, /an event must be a JSON object/)],
    [20, 'a line that ends inside the event', truncated, (r) => {
      assert.match(r.error, /malformed JSON: the line ends before the event does/);
      assert.equal(r.column, truncated.length + 1);
    }],
    [21, 'a long non-ASCII channel: the message survives a character cut short', ev('bad-channel-zh', 'DBAD', { channel: '电话'.repeat(10) }), (r) => {
      assert.equal(r.field, 'channel');
      assert.match(r.error, /^unknown channel '电话电话/);
    }],
    [22, 'a NUL inside props', `{"id":"bad-nul","ts":"${TS}","hcp":"DBAD","channel":"phone","outcome":"answered","props":{"k":"a\\u0000b"}}`, (r) => {
      assert.equal(r.field, 'props');
      assert.match(r.error, /NUL/);
    }],
    [23, 'good', fine(2)],
  ];
  cases.forEach(([line], i) => assert.equal(line, i + 1));
  const res = await ingest(ndBytes(cases.map((c) => c[2])));
  const bad = cases.filter((c) => c[3]);
  const rep = assertReport(res, { accepted: 2, duplicates: 0, rejected_total: bad.length, lines: cases.length - 1 });
  assert.deepEqual(rep.rejected.map((r) => r.line), bad.map((c) => c[0]), 'each bad line reported once, in line order');
  for (const [line, what, , check] of bad) {
    await t.test(`line ${line}: ${what}`, () => {
      const r = rep.rejected.find((x) => x.line === line);
      assert.ok(r, `line ${line} is reported: ${JSON.stringify(rep.rejected)}`);
      check(r);
    });
  }
  assert.deepEqual(await timelineIds('DBAD'), ['bad-ok-2', 'bad-ok-1']);
  const got = await stored(['bad-ok-1', 'bad-ok-2', 'bad-json', 'bad-ladder', 'bad-future', 'bad-rep', 'bad-long', 'bad-utf8', 'bad-utf8-props', 'bad-twice', 'bad-nul']);
  assert.deepEqual(got, { 'bad-ok-1': 1, 'bad-ok-2': 1 }, 'nothing of a bad line is stored');
});

test('the report lists the first 1000 rejected lines; rejected_total counts them all', async () => {
  const lines = Array.from({ length: 1005 }, (_, i) => ev(`many-bad-${i}`, 'DBAD', { channel: 'pager' }));
  lines.push(ev('many-bad-ok', 'DBAD', { ts: '2024-01-01T09:00:00+08:00' }));
  const rep = assertReport(await ingest(lines), { accepted: 1, rejected_total: 1005, lines: 1006 });
  assert.equal(rep.rejected.length, 1000);
  assert.deepEqual([rep.rejected[0].line, rep.rejected[999].line], [1, 1000]);
});

test('an id seen before is a duplicate, stored once: within one body, across bodies, whatever else it says', async () => {
  let res = await ingest([ev('dup-1', 'DU'), ev('dup-2', 'DU'), ev('dup-1', 'DU', { outcome: 'effective' })]);
  assertReport(res, { accepted: 2, duplicates: 1, rejected: [], lines: 3 });
  res = await ingest([ev('dup-2', 'DU', { channel: 'sms', outcome: 'sent' }), ev('dup-1', 'DU'), ev('dup-3', 'DU')]);
  assertReport(res, { accepted: 1, duplicates: 2, rejected: [], lines: 3 });
  res = await ingest([ev('dup-1', 'DU'), ev('dup-2', 'DU'), ev('dup-3', 'DU')], { token: tok.mkt });
  assertReport(res, { accepted: 0, duplicates: 3, rejected: [], lines: 3 });
  assert.deepEqual(await stored(['dup-1', 'dup-2', 'dup-3']), { 'dup-1': 1, 'dup-2': 1, 'dup-3': 1 });
  const tl = await timeline('DU');
  assert.deepEqual(ids(tl).sort(), ['dup-1', 'dup-2', 'dup-3']);
  const first = tl.json.items.find((i) => i.id === 'dup-1');
  assert.equal(first.outcome, 'answered', 'the first copy is the one kept');
  assert.equal(tl.json.items.find((i) => i.id === 'dup-2').channel, 'phone');
  // in a body of several batches (4096 events each), a copy in a later batch
  const many = Array.from({ length: 5000 }, (_, i) => ev(`dupm-${i}`, 'DU', { ts: '2024-02-01T09:00:00+08:00' }));
  many.splice(4500, 0, ev('dupm-7', 'DU', { outcome: 'effective' }));
  res = await ingest(many);
  assertReport(res, { accepted: 5000, duplicates: 1, rejected: [], lines: 5001 });
  assert.equal(await srv.sql("SELECT COUNT(*) || '/' || COUNT(DISTINCT eid) FROM events WHERE eid LIKE 'dupm-%'"), '5000/5000');
  // a rejected line does not claim its id: the same id, fixed, is accepted later
  res = await ingest([ev('dup-4', 'DU', { outcome: 'maybe' })]);
  assertReport(res, { accepted: 0, duplicates: 0, rejected_total: 1 });
  res = await ingest([ev('dup-4', 'DU')]);
  assertReport(res, { accepted: 1, duplicates: 0, rejected: [] });
});

test('a gzip body is inflated as a stream; a corrupt one is a 400', async () => {
  const evs = Array.from({ length: 500 }, (_, i) => ev(`gz-${i}`, 'DG', { ts: `2024-03-0${1 + (i % 9)}T09:00:00+08:00` }));
  const res = await ingest(zlib.gzipSync(nd(evs)), { headers: { 'Content-Encoding': 'gzip' }, chunked: true });
  assertReport(res, { accepted: 500, duplicates: 0, rejected: [], lines: 500 });
  const tl = await timeline('DG', 'limit=200');
  assert.equal(tl.json.items.length, 200);
  assert.equal(Number(await srv.sql("SELECT COUNT(*) FROM events WHERE eid LIKE 'gz-%'")), 500);
  const corrupt = Buffer.concat([zlib.gzipSync(nd([ev('gz-corrupt', 'DG')])).subarray(0, 12), Buffer.from('not deflate at all, no')]);
  const bad = await ingest(corrupt, { headers: { 'Content-Encoding': 'gzip' } });
  const e = assertError(bad, 400, 'bad_request');
  assert.match(e.message, /gzip body is corrupt/);
});

test('an unknown identity gets a provisional HCP, the same identity again goes to it; a known one resolves to its doctor', async () => {
  const who = { kind: 'wechat_unionid', value: 'oNewcomer-0001' };
  let res = await ingest([
    { id: 'idn-1', ts: TS, identity: who, channel: 'wechat', outcome: 'sent' },
    { id: 'idn-2', ts: TS, identity: who, channel: 'wechat', outcome: 'read' },
    { id: 'idn-3', ts: TS, identity: { kind: 'wechat_unionid', value: 'oKnownDoctor2' }, channel: 'wechat', outcome: 'responded' },
  ]);
  assertReport(res, { accepted: 3, duplicates: 0, rejected: [] });
  const resolved = await srv.api('GET', `/api/v1/identities/resolve?kind=wechat_unionid&value=${who.value}`, { token: admin });
  assert.equal(resolved.status, 200, resolved.text);
  const prov = resolved.json.hcp;
  assert.match(prov, /^P-[0-9a-f]{24}$/, resolved.text);
  const p = await srv.api('GET', `/api/v1/hcps/${prov}`, { token: admin });
  assert.equal(p.status, 200, p.text);
  assert.equal(p.json.status, 'provisional');
  res = await ingest([{ id: 'idn-4', ts: TS, identity: who, channel: 'wechat', outcome: 'responded' }]);
  assertReport(res, { accepted: 1, rejected: [] });
  assert.deepEqual(await timelineIds(prov), ['idn-4', 'idn-2', 'idn-1'], 'one provisional HCP for the identity');
  assert.equal(await srv.sql("SELECT COUNT(*) FROM hcps WHERE status = 'provisional'"), '1');
  assert.ok((await timelineIds('D2')).includes('idn-3'), 'a known identity resolves to its doctor');
  const f = await feed(`after=${Number(await srv.sql("SELECT seq FROM events WHERE eid = 'idn-1'")) - 1}&limit=4`);
  assert.deepEqual(f.items.map((i) => [i.id, i.hcp]), [['idn-1', prov], ['idn-2', prov], ['idn-3', 'D2'], ['idn-4', prov]]);
});

test('props, nested JSON, come back on the timeline as sent (masked roles get none)', async () => {
  const props = { script: 'v2', answers: [1, { q: '剂量', a: true }, null], nested: { deep: { n: -12345678901, f: 0.25, s: 'é"\\/' } }, empty: {} };
  const res = await ingest([ev('props-1', 'DPROPS', { props }), ev('props-2', 'DPROPS', { ts: '2024-03-04T09:00:00+08:00' })]);
  assertReport(res, { accepted: 2, rejected: [] });
  const tl = await timeline('DPROPS');
  assert.deepEqual(tl.json.items.map((i) => i.props), [props, {}]);
  const masked = await timeline('DPROPS', '', tok.an);
  assert.equal(masked.status, 200, masked.text);
  assert.deepEqual(masked.json.items.map((i) => i.props), [{}, {}], 'an analyst sees events without props');
});

/** A raw HTTP/1.1 exchange: writes head and body, reads until the server closes or timeoutMs. */
function rawExchange(head, body, timeoutMs) {
  const u = new URL(srv.url);
  return new Promise((resolve) => {
    const t0 = Date.now();
    const s = net.connect(Number(u.port), u.hostname);
    let got = Buffer.alloc(0);
    const done = (why) => {
      s.destroy();
      const text = got.toString('utf8');
      const [h, ...rest] = text.split('\r\n\r\n');
      const lines = h.split('\r\n');
      const status = Number((/^HTTP\/1\.1 (\d{3})/.exec(lines[0]) || [])[1]);
      const headers = {};
      for (const l of lines.slice(1)) { const i = l.indexOf(':'); if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim(); }
      const bodyText = rest.join('\r\n\r\n');
      let json;
      try { json = JSON.parse(bodyText); } catch { json = undefined; }
      resolve({ status, headers, json, text: bodyText, why, ms: Date.now() - t0 });
    };
    s.setTimeout(timeoutMs, () => done('timeout'));
    s.on('data', (d) => {
      got = Buffer.concat([got, d]);
      const text = got.toString('utf8');
      const m = /content-length: *(\d+)/i.exec(text);
      const end = text.indexOf('\r\n\r\n');
      if (m && end >= 0 && Buffer.byteLength(text.slice(end + 4)) >= Number(m[1])) done('complete');
    });
    s.on('end', () => done('closed'));
    s.on('error', () => done('error'));
    s.write(head);
    s.write(body);
  });
}

test('whole-body refusals: empty, blank, 2 GB declared, wrong type or encoding, wrong role — nothing stored', async () => {
  let e = assertError(await ingest(''), 400, 'bad_request', 'empty body');
  assert.match(e.message, /no events/);
  e = assertError(await ingest('\n\n   \r\n\t\n'), 400, 'bad_request', 'blank lines only');
  assert.match(e.message, /no events/);

  const small = nd([ev('refused-1', 'D1')]);
  const big = await rawExchange(`POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${admin}\r\n`
    + 'Content-Type: application/x-ndjson\r\nContent-Length: 2147483648\r\n\r\n', small, 3000);
  e = assertError(big, 413, 'too_large', '2 GB declared');
  assert.match(e.message, /2147483648 bytes; at most 268435456/);
  assert.ok(big.ms < 2000, `answered at once, without reading the body: ${big.ms} ms (${big.why})`);

  e = assertError(await ingest(small, { headers: { 'Content-Type': 'text/csv' } }), 415, 'unsupported_media_type', 'text/csv');
  assert.match(e.message, /application\/x-ndjson/);
  e = assertError(await ingest(small, { headers: { 'Content-Encoding': 'br' } }), 415, 'unsupported_media_type', 'br');
  assert.match(e.message, /Content-Encoding 'br'/);
  e = assertError(await ingest(small, { token: tok.r1 }), 403, 'forbidden', 'a field rep');
  assert.match(e.message, /admin, marketing/);
  assertError(await ingest(small, { token: tok.an }), 403, 'forbidden', 'an analyst');
  assertError(await srv.api('POST', '/api/v1/events', { body: small, headers: NDJSON }), 401, 'unauthenticated', 'no token');
  assert.deepEqual(await stored(['refused-1']), {}, 'no refused body left an event');

  assertReport(await ingest(small, { token: tok.mkt }), { accepted: 1, rejected: [] });
  assertReport(await ingest(small, { headers: { 'Content-Type': 'application/json; charset=utf-8' } }), { accepted: 0, duplicates: 1 });
});

test('a gzip bomb (a body inflating past 1 GiB) is refused with 413 and nothing of it is kept', async () => {
  // One gzip stream of zeros, flushed fully after each MiB so that every MiB
  // after the first compresses to the same bytes: a single-member ~1 MB gzip
  // body that inflates to 1.1 GiB, built in milliseconds. It starts with a
  // real event, then the zeros make one endless line.
  const gz = zlib.createGzip({ level: 9 });
  const out = [];
  gz.on('data', (c) => out.push(c));
  const flushed = () => new Promise((r) => gz.flush(zlib.constants.Z_FULL_FLUSH, () => r(Buffer.concat(out.splice(0)))));
  gz.write(nd([ev('bomb-head', 'D1')]));
  gz.write(Buffer.alloc(1 << 20));
  const head = await flushed();
  gz.write(Buffer.alloc(1 << 20));
  const mib = await flushed();
  gz.close();
  const bomb = Buffer.concat([head, ...Array(1124).fill(mib)]);
  assert.ok(bomb.length < 2 << 20, `the bomb is small: ${bomb.length} bytes`);

  const t0 = Date.now();
  const res = await ingest(bomb, { headers: { 'Content-Encoding': 'gzip' } });
  const e = assertError(res, 413, 'too_large');
  assert.match(e.message, /inflates to more than 1073741824 bytes/);
  const ms = Date.now() - t0;
  assert.ok(ms < 30000, `refused in ${ms} ms`);
  assert.deepEqual(await stored(['bomb-head']), {}, 'a refused body commits nothing');
  const ok = await ingest([ev('after-bomb', 'D1')]);
  assertReport(ok, { accepted: 1 });
});

/* ------------------------------------------------------------ the change feed */

test('the feed gives events in seq order, resumable with after=, at most limit at a time, with last_seq', async () => {
  const base = await maxSeq();
  const sent = Array.from({ length: 7 }, (_, i) => ev(`feed-${i}`, 'DF', { ts: `2024-02-0${9 - i}T09:00:00+08:00` }));
  assertReport(await ingest(sent), { accepted: 7 });
  const walked = [];
  let after = base;
  const pages = [];
  for (let i = 0; i < 5; i++) {
    const page = await feed(`after=${after}&limit=3`);
    pages.push(page.items.length);
    if (page.items.length === 0) {
      assert.equal(page.last_seq, after, 'an empty page says where it stands');
      break;
    }
    assert.equal(page.last_seq, page.items.at(-1).seq);
    walked.push(...page.items);
    after = page.last_seq;
  }
  assert.deepEqual(pages, [3, 3, 1, 0]);
  assert.deepEqual(walked.map((i) => i.id), sent.map((e) => e.id), 'in the order they were stored, not by ts');
  const seqs = walked.map((i) => i.seq);
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], `seqs increase: ${seqs}`);
  assert.ok(seqs[0] > base);
  const mid = await feed(`after=${seqs[3]}&limit=2`);
  assert.deepEqual(mid.items.map((i) => i.id), ['feed-4', 'feed-5'], 'resumes after any seq');

  let e = assertError(await srv.api('GET', '/api/v1/events/feed?limit=0', { token: admin }), 400, 'bad_request');
  assert.equal(e.detail.field, 'limit');
  e = assertError(await srv.api('GET', '/api/v1/events/feed?limit=1001', { token: admin }), 400, 'bad_request');
  assert.equal(e.detail.field, 'limit');
  e = assertError(await srv.api('GET', '/api/v1/events/feed?after=-1', { token: admin }), 400, 'bad_request');
  assert.equal(e.detail.field, 'after');
  e = assertError(await srv.api('GET', '/api/v1/events/feed?wait=31', { token: admin }), 400, 'bad_request');
  assert.equal(e.detail.field, 'wait');
});

test('long poll: wait=5 answers as soon as an event is stored; with nothing new, empty after the wait', async () => {
  const base = await maxSeq();
  const t0 = Date.now();
  const poll = srv.api('GET', `/api/v1/events/feed?after=${base}&wait=5`, { token: admin });
  await sleep(300);
  assertReport(await ingest([ev('poll-1', 'DF')]), { accepted: 1 });
  const res = await poll;
  const ms = Date.now() - t0;
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json.items.map((i) => i.id), ['poll-1']);
  assert.ok(ms >= 250 && ms < 2500, `answered when the event came, not at the deadline: ${ms} ms`);

  const now = await maxSeq();
  const t1 = Date.now();
  const idle = await feed(`after=${now}&wait=1`);
  const idleMs = Date.now() - t1;
  assert.deepEqual(idle.items, []);
  assert.equal(idle.last_seq, now);
  assert.ok(idleMs >= 900 && idleMs < 3000, `waited about a second: ${idleMs} ms`);
});

test("scope: a rep's feed holds only events of their aligned doctors, and their long poll ignores the rest", async () => {
  const base = await maxSeq();
  assertReport(await ingest([ev('scope-d1', 'D1'), ev('scope-d2', 'D2'), ev('scope-d3', 'D3'), ev('scope-dg', 'DG')]), { accepted: 4 });
  const of = async (t) => (await feed(`after=${base}`, t)).items.map((i) => i.id);
  assert.deepEqual(await of(tok.r1), ['scope-d1']);
  assert.deepEqual(await of(tok.r2), ['scope-d1', 'scope-d2']);
  assert.deepEqual(await of(tok.r3), ['scope-d3']);
  assert.deepEqual(await of(admin), ['scope-d1', 'scope-d2', 'scope-d3', 'scope-dg']);
  assert.deepEqual(await of(tok.an), ['scope-d1', 'scope-d2', 'scope-d3', 'scope-dg'], 'an analyst reads everything (masked)');

  const now = await maxSeq();
  const t0 = Date.now();
  const poll = srv.api('GET', `/api/v1/events/feed?after=${now}&wait=1`, { token: tok.r3 });
  await sleep(200);
  assertReport(await ingest([ev('scope-other', 'D1')]), { accepted: 1 });
  const res = await poll;
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json.items, [], "another rep's doctor does not end R3's wait");
  assert.ok(Date.now() - t0 >= 900, 'it waited out its second');
});

/* ------------------------------------------------------------ the timeline */

const T = {
  t1: ev('tl-1', 'DT', { ts: '2024-03-01T09:00:00+08:00', rep: 'R1' }),
  t2: ev('tl-2', 'DT', { ts: '2024-03-02T09:00:00+08:00', rep: 'R2', channel: 'wechat', outcome: 'read' }),
  t3: ev('tl-3', 'DT', { ts: '2024-03-03T09:00:00+08:00', rep: 'R1', channel: 'visit', outcome: 'completed', duration_s: 1800 }),
  t4: ev('tl-4', 'DT', { ts: '2024-03-04T09:00:00+08:00', rep: 'R2', outcome: 'effective' }),
  t5: ev('tl-5', 'DT', { ts: '2024-03-05T09:00:00+08:00', channel: 'email', outcome: 'sent', campaign: 'K01' }),
  t6: ev('tl-6', 'DT', { ts: '2024-03-06T09:00:00+08:00', rep: 'R1', channel: 'meeting_online', type: 'webinar', outcome: 'attended', meeting: 'M77', content: 'C9' }),
};

test('the timeline is newest first; each item says who, what, when and with what outcome', async () => {
  // sent out of time order: the timeline orders by when it happened
  assertReport(await ingest([T.t3, T.t1, T.t6, T.t2, T.t5, T.t4]), { accepted: 6, rejected: [] });
  const tl = await timeline('DT');
  assert.equal(tl.status, 200, tl.text);
  assert.deepEqual(ids(tl), ['tl-6', 'tl-5', 'tl-4', 'tl-3', 'tl-2', 'tl-1']);
  assert.equal(tl.json.next_cursor, null);
  assert.ok(Number.isInteger(tl.json.last_seq) && tl.json.last_seq >= Math.max(...tl.json.items.map((i) => i.seq)));
  const [t6, t5, t4, t3, t2] = tl.json.items;
  assert.deepEqual([t6.rep, t6.channel, t6.type, t6.ts, t6.outcome, t6.meeting, t6.content],
    [{ id: 'R1', name: '张伟', type: 'field' }, 'meeting_online', 'webinar', '2024-03-06T01:00:00Z', 'attended', 'M77', 'C9']);
  assert.deepEqual([t5.rep, t5.channel, t5.type, t5.outcome, t5.campaign], [null, 'email', 'email', 'sent', 'K01']);
  assert.deepEqual([t4.rep, t4.outcome], [{ id: 'R2', name: '李娜', type: 'inside' }, 'effective']);
  assert.deepEqual([t3.channel, t3.type, t3.outcome, t3.duration_s], ['visit', 'visit', 'completed', 1800]);
  assert.deepEqual([t2.channel, t2.type, t2.outcome], ['wechat', 'message', 'read']);
  assertError(await timeline('D404'), 404, 'not_found');
});

test('timeline filters: channel=, rep_type=, from/to (from inclusive, to exclusive), combined', async () => {
  const q = (query) => timelineIds('DT', query);
  assert.deepEqual(await q('channel=phone'), ['tl-4', 'tl-1']);
  assert.deepEqual(await q('channel=phone,wechat'), ['tl-4', 'tl-2', 'tl-1']);
  assert.deepEqual(await q('rep_type=inside'), ['tl-4', 'tl-2']);
  assert.deepEqual(await q('rep_type=field'), ['tl-6', 'tl-3', 'tl-1']);
  assert.deepEqual(await q('rep_type=field,inside'), ['tl-6', 'tl-4', 'tl-3', 'tl-2', 'tl-1'], 'an event without a rep has no rep type');
  const from = encodeURIComponent('2024-03-02T09:00:00+08:00');
  const to = encodeURIComponent('2024-03-04T09:00:00+08:00');
  assert.deepEqual(await q(`from=${from}&to=${to}`), ['tl-3', 'tl-2']);
  assert.deepEqual(await q(`from=${from}`), ['tl-6', 'tl-5', 'tl-4', 'tl-3', 'tl-2']);
  assert.deepEqual(await q(`to=${to}`), ['tl-3', 'tl-2', 'tl-1']);
  assert.deepEqual(await q(`channel=phone&rep_type=inside&from=${from}`), ['tl-4']);
  assert.deepEqual(await q('channel=sms'), []);

  const bad = async (query, field) => {
    const e = assertError(await timeline('DT', query), 400, 'bad_request', query);
    assert.equal(e.detail.field, field, query);
    return e;
  };
  assert.match((await bad('channel=phone,fax', 'channel')).message, /unknown channel 'fax'/);
  assert.match((await bad('rep_type=boss', 'rep_type')).message, /field, inside, msl or kam/);
  await bad(`from=${to}&to=${from}`, 'to');
  await bad('from=2024-03-02T09:00:00', 'from');
  await bad('limit=0', 'limit');
  await bad('limit=201', 'limit');
});

test('cursor paging walks every event exactly once, in order, ties included', async () => {
  const sent = Array.from({ length: 25 }, (_, i) => ev(`pg-${String(i).padStart(2, '0')}`, 'DP', {
    ts: `2024-04-${String(1 + (i % 8)).padStart(2, '0')}T09:00:00+08:00`, // many events share a time
  }));
  assertReport(await ingest(sent), { accepted: 25 });
  const all = (await timeline('DP', 'limit=200')).json.items;
  assert.equal(all.length, 25);
  const want = [...all].sort((a, b) => (Date.parse(b.ts) - Date.parse(a.ts)) || (b.seq - a.seq));
  assert.deepEqual(all.map((i) => i.id), want.map((i) => i.id), 'newest first, then the later stored first');
  const walked = [];
  let cursor = null;
  let pages = 0;
  do {
    const r = await timeline('DP', `limit=7${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.items.length <= 7);
    walked.push(...ids(r));
    cursor = r.json.next_cursor;
    pages++;
    assert.ok(pages <= 5, 'the walk ends');
  } while (cursor);
  assert.equal(pages, 4);
  assert.deepEqual(walked, all.map((i) => i.id));
  const e = assertError(await timeline('DP', `cursor=${all[0].seq + 100000}`), 400, 'bad_request');
  assert.equal(e.detail.field, 'cursor');
  const foreign = (await timeline('DT')).json.items[0].seq;
  assertError(await timeline('DP', `cursor=${foreign}`), 400, 'bad_request', "another doctor's event is no cursor here");
});

test("visibility: the field owner sees the inside owner's calls and vice versa; a rep not aligned gets 403", async () => {
  const r1 = await timelineIds('DT', '', tok.r1);
  assert.deepEqual(r1, ['tl-6', 'tl-5', 'tl-4', 'tl-3', 'tl-2', 'tl-1'], 'R1 sees R2s too');
  assert.deepEqual(await timelineIds('DT', 'rep_type=inside', tok.r1), ['tl-4', 'tl-2']);
  assert.deepEqual(await timelineIds('DT', 'rep_type=field', tok.r2), ['tl-6', 'tl-3', 'tl-1']);
  const e = assertError(await timeline('DT', '', tok.r3), 403, 'forbidden');
  assert.match(e.message, /DT is not aligned to you/);
  assertError(await timeline('D2', '', tok.r1), 403, 'forbidden');
  assert.deepEqual(await timelineIds('DT', 'channel=phone', tok.an), ['tl-4', 'tl-1'], 'an analyst reads (masked)');
});

test('live: after_seq with wait answers as soon as an event of this doctor arrives, not for others', async () => {
  const last = (await timeline('DL')).json.last_seq;
  const t0 = Date.now();
  const poll = timeline('DL', `after_seq=${last}&wait=5`, tok.r1);
  await sleep(200);
  assertReport(await ingest([ev('live-other', 'D3')]), { accepted: 1 });
  await sleep(300);
  assertReport(await ingest([ev('live-1', 'DL', { rep: 'R1', ts: '2024-01-01T09:00:00+08:00' })]), { accepted: 1 });
  const res = await poll;
  const ms = Date.now() - t0;
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(ids(res), ['live-1'], 'only the new event, however old its time');
  assert.ok(ms >= 450 && ms < 3000, `answered when DL's event came: ${ms} ms`);

  const now = res.json.last_seq;
  const t1 = Date.now();
  const idle = await timeline('DL', `after_seq=${now}&wait=1`);
  assert.deepEqual(ids(idle), []);
  assert.ok(Date.now() - t1 >= 900, 'waited its second');
  assert.deepEqual(await timelineIds('DL', `after_seq=${now}`), [], 'without wait, at once');
});

test("events of a record merged into another doctor are on the survivor's timeline, and go back on unmerge", async () => {
  assertReport(await ingest([
    ev('mg-a1', 'DM-A', { ts: '2024-05-01T09:00:00+08:00', rep: 'R1' }),
    ev('mg-b1', 'DM-B', { ts: '2024-05-02T09:00:00+08:00', channel: 'wechat', outcome: 'sent' }),
    ev('mg-b2', 'DM-B', { ts: '2024-04-30T09:00:00+08:00', channel: 'wechat', outcome: 'read' }),
  ]), { accepted: 3 });
  assert.deepEqual(await timelineIds('DM-A'), ['mg-a1']);
  let r = await srv.api('POST', '/api/v1/hcps/DM-B/merge', { token: admin, body: { into: 'DM-A', reason: '同一医生' } });
  assert.equal(r.status, 200, r.text);
  const mergeId = r.json.merge;
  // at once: the merge was committed before its answer
  const merged = await timeline('DM-A');
  assert.deepEqual(ids(merged), ['mg-b1', 'mg-a1', 'mg-b2'], 'interleaved by time');
  assert.deepEqual(merged.json.items.map((i) => i.hcp), ['DM-B', 'DM-A', 'DM-B'], 'each says the record it came for');
  assert.deepEqual(await timelineIds('DM-A', 'channel=wechat', tok.r1), ['mg-b1', 'mg-b2'], "the survivor's rep sees them");
  const f = await feed(`after=${Number(await srv.sql("SELECT seq FROM events WHERE eid = 'mg-a1'")) - 1}&limit=3`, tok.r1);
  assert.deepEqual(f.items.map((i) => i.id), ['mg-a1', 'mg-b1', 'mg-b2'], "and so does the survivor's rep's feed");
  // a sender still using the merged record's id: taken (at once, not only once the directory catches up)
  assertReport(await ingest([ev('mg-b3', 'DM-B', { ts: '2024-05-03T09:00:00+08:00', channel: 'wechat', outcome: 'read' })]),
    { accepted: 1 });
  assert.deepEqual(await timelineIds('DM-A'), ['mg-b3', 'mg-b1', 'mg-a1', 'mg-b2'], "on the survivor's timeline");

  r = await srv.api('POST', `/api/v1/merges/${mergeId}/undo`, { token: admin });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(await timelineIds('DM-A'), ['mg-a1'], 'back at once');
  assert.deepEqual(await timelineIds('DM-B'), ['mg-b3', 'mg-b1', 'mg-b2']);
});

/* ------------------------------------------------------------ the CLI */

/** Polls until the running server's timeline of hcp holds n events (another process wrote them). */
async function awaitTimeline(hcp, n) {
  let got = [];
  for (let i = 0; i < 60; i++) {
    got = await timelineIds(hcp, 'limit=200');
    if (got.length >= n) return got;
    await sleep(100);
  }
  assert.fail(`the server did not pick up ${n} events of ${hcp}: ${got}`);
}

test('medreach import events: plain and gzip files; a second import stores nothing; bad lines on stderr, exit 1', async () => {
  const file = path.join(srv.dir, 'cli.ndjson');
  const evs = [ev('cli-1', 'DCLI'), ev('cli-2', 'DCLI', { channel: 'sms', outcome: 'delivered' }), ev('cli-3', 'DCLI', { ts: '2024-03-06T09:00:00+08:00' })];
  writeFileSync(file, nd(evs));
  let r = await srv.cli(['import', 'events', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /events: 3 lines: 3 stored, 0 duplicates, 0 rejected/);
  assert.deepEqual(await awaitTimeline('DCLI', 3), ['cli-3', 'cli-2', 'cli-1'], 'the running server follows the log');
  const src = await srv.sql("SELECT DISTINCT source FROM events WHERE eid LIKE 'cli-%'");
  assert.equal(src, 'import', 'events naming no source are marked as imported');

  r = await srv.cli(['import', 'events', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /events: 3 lines: 0 stored, 3 duplicates, 0 rejected/);
  // the server knows the ids another process stored
  assertReport(await ingest(evs), { accepted: 0, duplicates: 3 });

  const gz = path.join(srv.dir, 'cli.ndjson.gz');
  writeFileSync(gz, zlib.gzipSync(nd([ev('cli-3', 'DCLI'), ev('cli-4', 'DCLI', { ts: '2024-03-07T09:00:00+08:00' })])));
  r = await srv.cli(['import', 'events', gz]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /events: 2 lines: 1 stored, 1 duplicates, 0 rejected/);

  const badFile = path.join(srv.dir, 'bad.ndjson');
  writeFileSync(badFile, nd([ev('cli-5', 'DCLI'), ev('cli-6', 'DCLI', { channel: 'fax' }), ev('cli-7', 'DCLI'), ev('cli-8', 'D404')]));
  r = await srv.cli(['import', 'events', badFile]);
  assert.equal(r.code, 1, `bad lines make the exit status 1: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, /^line 2 \(channel\): unknown channel 'fax'/m);
  assert.match(r.stderr, /^line 4 \(hcp\): unknown HCP 'D404'$/m);
  assert.match(r.stdout, /events: 4 lines: 2 stored, 0 duplicates, 2 rejected/);
  assert.deepEqual(await stored(['cli-1', 'cli-2', 'cli-3', 'cli-4', 'cli-5', 'cli-6', 'cli-7', 'cli-8']),
    { 'cli-1': 1, 'cli-2': 1, 'cli-3': 1, 'cli-4': 1, 'cli-5': 1, 'cli-7': 1 });
  assert.deepEqual(await awaitTimeline('DCLI', 6), ['cli-4', 'cli-3', 'cli-7', 'cli-5', 'cli-2', 'cli-1']);

  r = await srv.cli(['import', 'events', path.join(srv.dir, 'missing.ndjson')]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /missing\.ndjson/);
});

test('medreach export events writes NDJSON that a fresh server imports as the same events, byte for byte', async () => {
  const base = await maxSeq();
  const sent = [
    ev('rt-1', 'DRT', { rep: 'R1', duration_s: 75, props: { script: 'A', tags: ['x', 'y'], n: { m: 1 } } }),
    ev('rt-2', 'DRT', { rep: 'R2', channel: 'wecom', outcome: 'responded', ts: '2024-03-06T23:59:59+08:00' }),
    ev('rt-3', 'DRT', { channel: 'content', type: 'download', outcome: 'completed', content: 'C00012', campaign: 'K01' }),
    ev('rt-4', 'DRT', { channel: 'meeting_offline', outcome: 'registered', meeting: 'M77', source: 'meeting', ts: '2023-12-31T16:00:00Z' }),
    ev('rt-5', 'DRT', { channel: 'sms', outcome: 'delivered', ts: '2024-03-05T09:12:00.123456+08:00' }),
  ];
  assertReport(await ingest(sent), { accepted: 5, rejected: [] });
  const out = path.join(srv.dir, 'export.ndjson');
  let r = await srv.cli(['export', 'events', '--after', String(base), '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /events: 5 exported/);
  const text = readFileSync(out, 'utf8');
  const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.id), ['rt-1', 'rt-2', 'rt-3', 'rt-4', 'rt-5']);
  assert.equal(lines[4].ts, '2024-03-05T01:12:00.123456Z', 'to the microsecond');
  assert.deepEqual(lines[0], { id: 'rt-1', ts: TS_UTC, hcp: 'DRT', channel: 'phone', type: 'call', outcome: 'answered', rep: 'R1',
    duration_s: 75, props: { script: 'A', tags: ['x', 'y'], n: { m: 1 } }, source: 'api' });
  assert.deepEqual(lines[3], { id: 'rt-4', ts: '2023-12-31T16:00:00Z', hcp: 'DRT', channel: 'meeting_offline', type: 'invitation',
    outcome: 'registered', meeting: 'M77', source: 'meeting' });
  r = await srv.cli(['export', 'events', '--after', String(base + 2)]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l).id), ['rt-3', 'rt-4', 'rt-5'], '--after SEQ; stdout by default');

  const fresh = await startServer();
  try {
    await importCsv(fresh, 'reps', [['id', 'name', 'type'], ['R1', '张伟', 'field'], ['R2', '李娜', 'inside']]);
    await importCsv(fresh, 'hcps', [['id', 'name'], ['DRT', '医生']]);
    r = await fresh.cli(['import', 'events', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /events: 5 lines: 5 stored, 0 duplicates, 0 rejected/);
    const again = path.join(fresh.dir, 'again.ndjson');
    r = await fresh.cli(['export', 'events', '--out', again]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(again, 'utf8'), text, 'the same events, field for field');
    r = await fresh.cli(['import', 'events', again]);
    assert.match(r.stdout, /events: 5 lines: 0 stored, 5 duplicates, 0 rejected/);
    assert.equal(await fresh.sql('SELECT COUNT(*) FROM events'), '5');
    // and the servers show the same events
    const strip = (items) => items.map(({ seq: _s, received_at: _r, ...rest }) => rest);
    const a = await srv.api('GET', '/api/v1/hcps/DRT/timeline', { token: admin });
    let b;
    for (let i = 0; i < 40; i++) { // the fresh server follows what its CLI wrote
      b = await fresh.api('GET', '/api/v1/hcps/DRT/timeline', { token: fresh.adminToken });
      if (b.json.items.length === 5) break;
      await sleep(100);
    }
    assert.deepEqual(strip(b.json.items), strip(a.json.items));
  } finally {
    await fresh.stop();
  }
});
