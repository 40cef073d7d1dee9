// The demo history that `medreach demo` writes next to its world: a year of
// interaction events of the world's live primary doctors, up to now. The
// KPIs are computed here with SQL straight over the events table, as
// ARCHITECTURE.md §3 defines them and independently of medreach's code, and
// must land on the industry's rates. Every event names a live primary
// doctor (never a planted duplicate) and, when a rep did it, a rep aligned
// to that doctor in the role the channel calls for; ids are unique; times
// lie in the window and not in the future; the timeline API shows a
// doctor's events newest first. --if-empty and a second run add no second
// history, and --csv writes an events.ndjson that `medreach import events`
// takes whole.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { startServer, sleep } from './harness.mjs';

const DAY_MS = 86400 * 1000;
const DAYS = 365; // the default --history-days
const SEED = 7;   // event ids are "h" + the seed in base 36 + "-" + ten digits

// The channels as the event contract lists them and the store keeps them: the code is the position
// in this list (1-based), an outcome's code its rung on the channel's ladder (0 = lowest), as
// src/event/event.c's channel table has them.
const CHANNELS = [
  ['phone', ['no_answer', 'answered', 'successful', 'effective']],
  ['wechat', ['sent', 'delivered', 'read', 'responded']],
  ['wecom', ['sent', 'delivered', 'read', 'responded']],
  ['meeting_online', ['invited', 'registered', 'attended']],
  ['meeting_offline', ['invited', 'registered', 'attended']],
  ['visit', ['planned', 'completed']],
  ['email', ['sent', 'delivered', 'read', 'responded']],
  ['content', ['viewed', 'completed']],
  ['sms', ['sent', 'delivered', 'read', 'responded']],
];
const CH = Object.fromEntries(CHANNELS.map(([name], i) => [name, i + 1]));
const rung = (channel, outcome) => {
  const r = CHANNELS[CH[channel] - 1][1].indexOf(outcome);
  assert.ok(r >= 0, `${outcome} is on the ${channel} ladder`);
  return r;
};
const at = (channel, outcome) => `channel = ${CH[channel]} AND outcome >= ${rung(channel, outcome)}`;

// ARCHITECTURE.md §3's KPIs, each a share of one set of events in another, and the industry's rates.
const KPIS = [
  { name: 'answer rate', num: at('phone', 'answered'), den: at('phone', 'no_answer'), want: 60 },
  { name: 'successful communication rate', num: at('phone', 'successful'), den: at('phone', 'answered'), want: 80 },
  { name: 'effective communication rate', num: at('phone', 'effective'), den: at('phone', 'successful'), want: 85 },
  { name: 'WeChat response rate', num: at('wechat', 'responded'), den: at('wechat', 'sent'), want: 27 },
  { name: 'online-meeting participation', num: at('meeting_online', 'attended'), den: at('meeting_online', 'invited'), want: 30 },
];

// Which alignment role may do which channel's touches (docs/demo-history.md); marketing's have no rep.
const ROLES = [
  [['phone', 'wechat', 'wecom', 'meeting_online'], ['inside_owner']],
  [['meeting_offline'], ['field_owner']],
  [['visit'], ['field_owner', 'msl']],
];

// Live primary doctors: the world's D… records, not deleted, merged or inactive (MTG-/WX- are the planted duplicates).
const LIVE_PRIMARY = "h.ext_id LIKE 'D%' AND h.status = 'active' AND h.deleted_at IS NULL AND h.merged_into IS NULL";

let srv;
let windowFrom; // the earliest the window may start: DAYS before the demo began
let demoEnd;    // the latest an event may be: when the demo ended
let demo;

const nums = (row) => row.split('|').map(Number);

before(async () => {
  srv = await startServer();
  windowFrom = Date.now() - DAYS * DAY_MS;
  demo = await srv.cli(['demo', '--hcps', '3000', '--seed', String(SEED)]);
  demoEnd = Date.now();
  assert.equal(demo.code, 0, `${demo.stdout}${demo.stderr}`);
});

after(async () => {
  if (srv) await srv.stop();
});

test('demo reports the history it stored, and every event is in the log', async () => {
  const m = demo.stdout.match(/^history: (\d+) events \((\d+) stored, 0 already there\), \d+ meetings, (\d+) doctors, 365 days/m);
  assert.ok(m, demo.stdout);
  const [events, stored, doctors] = m.slice(1).map(Number);
  assert.equal(stored, events);
  // 28 touches per doctor per year on average (the generator's default)
  assert.ok(events > doctors * 24 && events < doctors * 32, `${events} events for ${doctors} doctors`);
  assert.equal(Number(await srv.sql("SELECT COUNT(*) FROM events WHERE source = 'demo'")), events);
  assert.equal(Number(await srv.sql('SELECT COUNT(*) FROM events')), events);
  const primaries = Number(await srv.sql(`SELECT COUNT(*) FROM hcps h WHERE ${LIVE_PRIMARY}`));
  assert.equal(doctors, primaries, 'the history is of every live primary doctor');
});

test('the KPIs computed with SQL land on the industry rates (±2 points)', async (t) => {
  const cols = KPIS.map((k) => `SUM(CASE WHEN ${k.num} THEN 1 ELSE 0 END), SUM(CASE WHEN ${k.den} THEN 1 ELSE 0 END)`);
  const v = nums(await srv.sql(`SELECT ${cols.join(', ')} FROM events WHERE source = 'demo'`));
  const got = {};
  KPIS.forEach((k, i) => {
    const [num, den] = [v[2 * i], v[2 * i + 1]];
    assert.ok(den > 1000, `${k.name}: ${den} events to count is too few`);
    const rate = (100 * num) / den;
    got[k.name] = `${rate.toFixed(2)} % (${num}/${den})`;
    assert.ok(Math.abs(rate - k.want) <= 2, `${k.name} = ${rate.toFixed(2)} %, want ${k.want} ± 2`);
  });
  t.diagnostic(`${srv.backend} KPIs: ${JSON.stringify(got)}`);
});

test('every event is of a live primary doctor, and the planted duplicates have none', async () => {
  const bad = await srv.sql(`SELECT COUNT(*) FROM events e LEFT JOIN hcps h ON h.id = e.hcp_id
    WHERE h.id IS NULL OR NOT (${LIVE_PRIMARY})`);
  assert.equal(bad, '0');
  const dups = Number(await srv.sql("SELECT COUNT(*) FROM hcps WHERE ext_id LIKE 'MTG-%' OR ext_id LIKE 'WX-%'"));
  assert.ok(dups > 100, `the world planted ${dups} duplicates`);
  const inactive = Number(await srv.sql("SELECT COUNT(*) FROM hcps WHERE ext_id LIKE 'D%' AND status <> 'active'"));
  assert.ok(inactive > 0, 'the world has inactive doctors, whom the history leaves out');
  const [reached, primaries] = nums(await srv.sql(`SELECT (SELECT COUNT(DISTINCT hcp_id) FROM events),
    (SELECT COUNT(*) FROM hcps h WHERE ${LIVE_PRIMARY})`));
  assert.ok(reached >= primaries * 0.95, `${reached} of ${primaries} doctors have a history`);
});

test("reps are aligned to the doctor in the channel's role; marketing's touches carry a campaign instead", async () => {
  const allowed = ROLES.map(([chs, roles]) => `(e.channel IN (${chs.map((c) => CH[c]).join(', ')})
    AND a.role IN (${roles.map((r) => `'${r}'`).join(', ')}))`).join(' OR ');
  const unaligned = await srv.sql(`SELECT COUNT(*) FROM events e WHERE e.rep_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM alignments a WHERE a.hcp_id = e.hcp_id AND a.rep_id = e.rep_id AND a.deleted_at IS NULL
      AND a.valid_from <= e.received_at AND (a.valid_to IS NULL OR a.valid_to > e.received_at) AND (${allowed}))`);
  assert.equal(unaligned, '0', 'events by a rep not aligned to the doctor in that role');
  const [withRep, noCampaign, both] = nums(await srv.sql(`SELECT
    SUM(CASE WHEN rep_id IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN rep_id IS NULL AND campaign IS NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN rep_id IS NOT NULL AND campaign IS NOT NULL THEN 1 ELSE 0 END) FROM events`));
  assert.ok(withRep > 10000, `${withRep} events by reps`);
  assert.deepEqual([noCampaign, both], [0, 0], 'a campaign exactly when no rep');
  const repOnMarketing = await srv.sql(`SELECT COUNT(*) FROM events WHERE rep_id IS NOT NULL
    AND channel IN (${CH.email}, ${CH.content}, ${CH.sms})`);
  assert.equal(repOnMarketing, '0');
});

test('event ids are unique and the seed names them', async () => {
  const [n, distinct, other] = nums(await srv.sql(`SELECT COUNT(*), COUNT(DISTINCT eid),
    SUM(CASE WHEN eid LIKE 'h${SEED.toString(36)}-__________' THEN 0 ELSE 1 END) FROM events`));
  assert.ok(n > 0);
  assert.equal(distinct, n, 'ids are unique');
  assert.equal(other, 0, `ids are h${SEED.toString(36)}- and ten digits`);
});

test('timestamps lie within the last history-days days and not in the future', async () => {
  const [min, max, afterReceipt] = nums(await srv.sql(`SELECT MIN(ts), MAX(ts),
    SUM(CASE WHEN ts > received_at THEN 1 ELSE 0 END) FROM events`));
  assert.ok(min >= windowFrom * 1000, `earliest ${new Date(min / 1000).toISOString()} is before the window`);
  assert.ok(max <= demoEnd * 1000, `latest ${new Date(max / 1000).toISOString()} is in the future`);
  assert.equal(afterReceipt, 0, 'no event happened after it was received');
  // and the year is covered: the first events in its first days, the last in its last
  assert.ok(min <= (windowFrom + 7 * DAY_MS) * 1000, `earliest ${new Date(min / 1000).toISOString()}`);
  assert.ok(max >= (demoEnd - 7 * DAY_MS) * 1000, `latest ${new Date(max / 1000).toISOString()}`);
});

test("the timeline shows a doctor's demo events newest first, as the log holds them", async () => {
  const [ext] = (await srv.sql(`SELECT h.ext_id, COUNT(*) FROM events e JOIN hcps h ON h.id = e.hcp_id
    GROUP BY h.ext_id ORDER BY COUNT(*) DESC, h.ext_id LIMIT 1`)).split('|');
  const want = (await srv.sql(`SELECT e.eid, e.ts, e.channel, e.outcome, COALESCE(r.ext_id, '') FROM events e
    JOIN hcps h ON h.id = e.hcp_id LEFT JOIN reps r ON r.id = e.rep_id
    WHERE h.ext_id = '${ext}' ORDER BY e.ts DESC, e.seq DESC`)).split('\n').map((l) => l.split('|'));
  assert.ok(want.length >= 20, `${ext} has ${want.length} events`);

  // the server follows the log written by another process within a moment
  let page;
  for (let tries = 0; ; tries++) {
    page = await srv.api('GET', `/api/v1/hcps/${ext}/timeline?limit=100`, { token: srv.adminToken });
    assert.equal(page.status, 200, page.text);
    if (page.json.items.length > 0 || tries >= 100) break;
    await sleep(100);
  }
  const items = [...page.json.items];
  while (page.json.next_cursor) {
    page = await srv.api('GET', `/api/v1/hcps/${ext}/timeline?limit=100&cursor=${page.json.next_cursor}`, { token: srv.adminToken });
    assert.equal(page.status, 200, page.text);
    items.push(...page.json.items);
  }
  assert.deepEqual(items.map((e) => e.id), want.map((w) => w[0]), 'the same events, newest first');
  for (let i = 0; i < items.length; i++) {
    const e = items[i];
    const [, ts, ch, outcome, rep] = want[i];
    assert.equal(Date.parse(e.ts), Math.floor(Number(ts) / 1000), `ts of ${e.id}`);
    if (i > 0) assert.ok(Date.parse(e.ts) <= Date.parse(items[i - 1].ts), `${e.id} is not older than the one before`);
    assert.equal(e.hcp, ext);
    assert.equal(e.source, 'demo');
    assert.equal(e.channel, CHANNELS[Number(ch) - 1][0], `channel code ${ch} of ${e.id}`);
    assert.equal(e.outcome, CHANNELS[Number(ch) - 1][1][Number(outcome)], `outcome code ${outcome} of ${e.id}`);
    assert.equal(e.rep ? e.rep.id : '', rep, `rep of ${e.id}`);
  }
});

test('--if-empty and a second demo on the same database add no second history', async () => {
  const before1 = await srv.sql('SELECT COUNT(*) FROM events');
  let r = await srv.cli(['demo', '--if-empty', '--hcps', '3000', '--seed', String(SEED)]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /already has HCPs; nothing to do/);
  assert.doesNotMatch(r.stdout, /^history:/m);
  assert.equal(await srv.sql('SELECT COUNT(*) FROM events'), before1);

  r = await srv.cli(['demo', '--hcps', '3000', '--seed', String(SEED)]);
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  const m = r.stdout.match(/^history: (\d+) events \((\d+) stored, (\d+) already there\)/m);
  assert.ok(m, r.stdout);
  assert.equal(Number(m[2]), 0, r.stdout);
  assert.equal(Number(m[3]), Number(m[1]), 'every event id is one stored before');
  assert.equal(await srv.sql('SELECT COUNT(*) FROM events'), before1);
});

test('--csv writes events.ndjson (with --history-days and --touches) that import events takes whole', async () => {
  const dir = path.join(srv.dir, 'csv');
  const days = 30;
  const t0 = Date.now();
  let r = await srv.cli(['demo', '--csv', dir, '--hcps', '400', '--seed', '9', '--history-days', String(days), '--touches', '60'], { db: false });
  const t1 = Date.now();
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  const lines = readFileSync(path.join(dir, 'events.ndjson'), 'utf8').split('\n').filter(Boolean);
  const events = lines.map((l) => JSON.parse(l));
  const doctors = new Set(events.map((e) => e.hcp));
  // 60 touches a year for 30 days: about 5 per doctor
  assert.ok(events.length > doctors.size * 3 && events.length < doctors.size * 8, `${events.length} events, ${doctors.size} doctors`);
  assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'ids are unique');
  for (const e of events) {
    const ts = Date.parse(e.ts);
    assert.ok(ts >= t0 - days * DAY_MS - 1000 && ts <= t1, `${e.id} at ${e.ts}`);
    assert.match(e.hcp, /^D\d+$/);
    assert.equal(e.source, 'demo');
    assert.ok(CH[e.channel], e.channel);
  }

  // into a database of its own: the world's CSV files, then the events
  const db = `sqlite:${path.join(dir, 'own.sqlite')}`;
  for (const entity of ['territories', 'hcos', 'reps', 'hcps', 'identities', 'alignments']) {
    r = await srv.cli(['import', entity, path.join(dir, `${entity}.csv`), '--db', db], { db: false });
    assert.equal(r.code, 0, `${entity}: ${r.stdout}${r.stderr}`);
  }
  r = await srv.cli(['import', 'events', path.join(dir, 'events.ndjson'), '--db', db], { db: false });
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, new RegExp(`events: ${events.length} lines: ${events.length} stored, 0 duplicates, 0 rejected`));

  // --history-days 0: no history
  const none = path.join(srv.dir, 'csv0');
  r = await srv.cli(['demo', '--csv', none, '--hcps', '50', '--history-days', '0'], { db: false });
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  assert.ok(existsSync(path.join(none, 'hcps.csv')));
  assert.ok(!existsSync(path.join(none, 'events.ndjson')));
});
