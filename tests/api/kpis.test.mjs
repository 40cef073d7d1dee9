// KPIs (GET /api/v1/analytics/kpis) on the demo world: every count, rate and
// reach figure the API computes from its in-memory projection equals the
// same figure computed here with SQL straight over the store's tables, as
// docs/kpis.md defines them — in total, by city tier, and by rep type and
// month; a rep's numbers cover only their aligned doctors; every role may
// read them; bad parameters are 400s naming the parameter.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertError, sleep, BACKEND } from './harness.mjs';

const DAY_MS = 86400 * 1000;

// The channel codes and ladders (src/event/event.c); a section's counts are "at this rung or above".
const SECTIONS = [
  ['phone', 1, ['calls', 'answered', 'successful', 'effective'],
    [['answer_rate', 1, 0], ['successful_rate', 2, 1], ['effective_rate', 3, 2]], 1],
  ['wechat', 2, ['sent', 'delivered', 'read', 'responded'], [['response_rate', 3, 0]], 1],
  ['wecom', 3, ['sent', 'delivered', 'read', 'responded'], [['response_rate', 3, 0]], 1],
  ['meeting_online', 4, ['invited', 'registered', 'attended'], [['participation_rate', 2, 0]], 2],
  ['meeting_offline', 5, ['invited', 'registered', 'attended'], [['participation_rate', 2, 0]], 2],
  ['visits', 6, ['planned', 'completed'], [], 1],
  ['content', 8, ['views', 'completed'], [], 0],
  ['email', 7, ['sent', 'delivered', 'read', 'responded'], [['response_rate', 3, 0]], 1],
  ['sms', 9, ['sent', 'delivered', 'read', 'responded'], [['response_rate', 3, 0]], 1],
];
// An event reached the doctor at its channel's reach rung or above.
const REACHING = SECTIONS.map(([, ch, , , r]) => `(e.channel = ${ch} AND e.outcome >= ${r})`).join(' OR ');

let srv;
let from;
let to;
const q = (s) => `'${s.replace(/'/g, "''")}'`;

// A month in Shanghai of a µs column, as the API keys it ("2026-03").
const monthOf = (col) => (BACKEND === 'pg'
  ? `to_char(to_timestamp(${col} / 1000000.0 + 28800) AT TIME ZONE 'UTC', 'YYYY-MM')`
  : `strftime('%Y-%m', ${col} / 1000000 + 28800, 'unixepoch')`);

// The dimensions as SQL over the event's survivor s (its hospital hc) and its rep r;
// targets: over the aligned doctor s, its hospital hc and the aligned rep r.
const DIMS = {
  'hco.city_tier': { ev: 'CAST(hc.city_tier AS TEXT)', tg: 'CAST(hc.city_tier AS TEXT)' },
  'rep.type': { ev: 'r.type', tg: 'r.type' },
  month: { ev: monthOf('e.ts'), tg: null }, // targets: the same list in every month
};

/** The months (in Shanghai) that the window [f, t) (ms) touches: ["2026-03", ...]. */
function monthsOf(f, t) {
  const out = [];
  const local = (ms) => new Date(ms + 8 * 3600 * 1000);
  for (let d = local(f); d.getTime() < local(t).getTime(); d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1))) {
    out.push(d.toISOString().slice(0, 7));
  }
  return out;
}

/** Rows of SQL output (one line each, '|'-separated), '' for NULL kept as null. */
async function rows(sql) {
  const out = await srv.sql(sql);
  return out ? out.split('\n').map((l) => l.split('|').map((v) => (v === '' ? null : v))) : [];
}

/** The SQL that computes what the API should say, as {key → {ev:{ch:{rung:n}}, targeted, reached, covered}}. */
async function expected(dims, scopeSql = 'TRUE') {
  const T = to * 1000;
  const F = from * 1000;
  const keyEv = dims.map((d) => DIMS[d].ev);
  const evFrom = `FROM events e JOIN hcps h ON h.id = e.hcp_id
    JOIN hcps s ON s.id = COALESCE(h.merged_into, h.id)
    LEFT JOIN hcos hc ON hc.id = s.hco_id LEFT JOIN reps r ON r.id = e.rep_id
    WHERE s.deleted_at IS NULL AND s.merged_into IS NULL AND e.ts >= ${F} AND e.ts < ${T} AND ${scopeSql}`;
  const targetsFrom = `FROM alignments a JOIN hcps s ON s.id = a.hcp_id LEFT JOIN hcos hc ON hc.id = s.hco_id
    JOIN reps r ON r.id = a.rep_id
    WHERE a.deleted_at IS NULL AND a.valid_from <= ${T} AND (a.valid_to IS NULL OR a.valid_to > ${T})
      AND s.deleted_at IS NULL AND s.merged_into IS NULL AND ${scopeSql}`;
  const sel = (ks) => (ks.length ? `${ks.join(', ')}, ` : '');
  const grp = (ks, more) => `GROUP BY ${[...ks.map((_, i) => i + 1), ...more].join(', ')}`;
  const groups = new Map();
  const at = (key) => {
    const k = JSON.stringify(key);
    if (!groups.has(k)) groups.set(k, { key, ev: {}, targeted: 0, reached: 0, covered: 0 });
    return groups.get(k);
  };
  const n = dims.length;

  for (const r of await rows(`SELECT ${sel(keyEv)}e.channel, e.outcome, COUNT(*) ${evFrom}
      ${grp(keyEv, [n + 1, n + 2])}`)) {
    const g = at(r.slice(0, n));
    const [ch, rung, count] = r.slice(n).map(Number);
    g.ev[ch] = g.ev[ch] || {};
    g.ev[ch][rung] = count;
  }
  for (const r of await rows(`SELECT ${sel(keyEv)}COUNT(DISTINCT s.id) ${evFrom} AND (${REACHING})
      ${keyEv.length ? grp(keyEv, []) : ''}`)) at(r.slice(0, n)).reached = Number(r[n]);
  // targets, per key without the month (every month of the window has the same list)
  const keyTg = dims.map((d) => DIMS[d].tg).filter(Boolean);
  const targeted = [];
  for (const r of await rows(`SELECT ${sel(keyTg)}COUNT(DISTINCT s.id) ${targetsFrom}
      ${keyTg.length ? grp(keyTg, []) : ''}`)) targeted.push([r.slice(0, keyTg.length), Number(r[keyTg.length])]);
  // covered: reached in the group, and a target there (by rep.type: aligned to a rep of the event's rep's type)
  const sameType = dims.includes('rep.type') ? 'AND rt.type = r.type' : '';
  for (const r of await rows(`SELECT ${sel(keyEv)}COUNT(DISTINCT s.id) ${evFrom} AND (${REACHING}) AND EXISTS (
      SELECT 1 FROM alignments a JOIN reps rt ON rt.id = a.rep_id
      WHERE a.hcp_id = s.id AND a.deleted_at IS NULL AND a.valid_from <= ${T}
        AND (a.valid_to IS NULL OR a.valid_to > ${T}) ${sameType})
      ${keyEv.length ? grp(keyEv, []) : ''}`)) at(r.slice(0, n)).covered = Number(r[n]);
  const months = dims.includes('month') ? monthsOf(from, to) : [null];
  for (const [tk, count] of targeted) {
    for (const m of months) {
      const it = tk[Symbol.iterator]();
      at(dims.map((d) => (d === 'month' ? m : it.next().value))).targeted = count;
    }
  }
  return groups;
}

const atLeast = (ev, ch, rung) => Object.entries(ev[ch] || {}).reduce((s, [r, c]) => s + (Number(r) >= rung ? c : 0), 0);

/** Asserts the API's KPIs of one group equal the SQL's. */
function assertGroup(got, want, what) {
  for (const [name, ch, counts, rates] of SECTIONS) {
    counts.forEach((c, rung) => assert.equal(got[name][c], atLeast(want.ev, ch, rung), `${what} ${name}.${c}`));
    for (const [rate, num, den] of rates) {
      const d = atLeast(want.ev, ch, den);
      if (d === 0) assert.equal(got[name][rate], null, `${what} ${name}.${rate}`);
      else assert.ok(Math.abs(got[name][rate] - atLeast(want.ev, ch, num) / d) < 1e-9, `${what} ${name}.${rate}: ${got[name][rate]}`);
    }
  }
  const interactions = SECTIONS.reduce((s, [, ch, , , r]) => s + atLeast(want.ev, ch, r), 0);
  assert.deepEqual(
    { t: got.reach.hcps_targeted, r: got.reach.hcps_reached, c: got.reach.hcps_covered, i: got.reach.interactions },
    { t: want.targeted, r: want.reached, c: want.covered, i: interactions }, `${what} reach`);
  if (want.targeted) assert.ok(Math.abs(got.reach.coverage - want.covered / want.targeted) < 1e-9, `${what} coverage`);
  else assert.equal(got.reach.coverage, null, `${what} coverage`);
  if (want.reached) assert.ok(Math.abs(got.reach.frequency - interactions / want.reached) < 1e-9, `${what} frequency`);
  else assert.equal(got.reach.frequency, null, `${what} frequency`);
}

async function kpis(query, token = srv.adminToken) {
  const res = await srv.api('GET', `/api/v1/analytics/kpis?${query}`, { token });
  assert.equal(res.status, 200, res.text);
  return res.json;
}

const window = () => `from=${encodeURIComponent(new Date(from).toISOString())}&to=${encodeURIComponent(new Date(to).toISOString())}`;

before(async () => {
  srv = await startServer();
  const demo = await srv.cli(['demo', '--hcps', '3000', '--seed', '11']);
  assert.equal(demo.code, 0, `${demo.stdout}${demo.stderr}`);
  to = Math.floor(Date.now() / 1000) * 1000 + 1000;
  from = to - 200 * DAY_MS; // cuts the year of history: events before it are left out
  // the server follows the log another process wrote: wait until the projection holds it all
  const calls = Number(await srv.sql('SELECT COUNT(*) FROM events WHERE channel = 1'));
  const year = `from=${new Date(to - 400 * DAY_MS).toISOString()}`;
  for (let i = 0; ; i++) {
    const res = await srv.api('GET', `/api/v1/analytics/kpis?${year}`, { token: srv.adminToken });
    if (res.status === 200 && res.json.total.phone.calls === calls) break;
    assert.ok(i < 200, `the projection did not catch up: ${res.status} ${res.text.slice(0, 300)}`);
    await sleep(100);
  }
});

after(async () => { await srv?.stop(); });

test('in total: every count, rate and reach figure equals SQL over the store', async () => {
  const got = await kpis(window());
  assert.equal(got.from, new Date(from).toISOString().replace('.000Z', 'Z'));
  assert.deepEqual(got.group_by, []);
  assert.equal(got.groups.length, 1);
  assert.equal(typeof got.took_ms, 'number');
  const want = [...(await expected([])).values()][0];
  assert.ok(want.ev[1][0] > 1000, 'a busy world');
  assertGroup(got.total, want, 'total');
  assertGroup(got.groups[0], want, 'the one group');
  assert.deepEqual(got.groups[0].key, {});
});

test('by city tier: each tier (and doctors without one) equals SQL, and the total is all of them', async () => {
  const got = await kpis(`${window()}&group_by=hco.city_tier`);
  const want = await expected(['hco.city_tier']);
  assert.deepEqual(got.group_by, ['hco.city_tier']);
  assert.deepEqual(got.groups.map((g) => g.key['hco.city_tier']).sort(), [...want.keys()].map((k) => JSON.parse(k)[0]).sort());
  for (const g of got.groups) assertGroup(g, want.get(JSON.stringify([g.key['hco.city_tier']])), `tier ${g.key['hco.city_tier']}`);
  const tiers = got.groups.map((g) => g.key['hco.city_tier']).filter((t) => t !== null).map(Number);
  assert.deepEqual(tiers, [...tiers].sort((a, b) => a - b), 'tiers in order');
  const total = await kpis(window());
  assert.deepEqual(got.total, total.total);
  assert.equal(got.groups.reduce((s, g) => s + g.phone.calls, 0), total.total.phone.calls);
});

test('field versus inside by month (group_by=rep.type,month) equals SQL', async () => {
  const got = await kpis(`${window()}&group_by=rep.type,month`);
  const want = await expected(['rep.type', 'month']);
  assert.deepEqual(got.group_by, ['rep.type', 'month']);
  const types = new Set(got.groups.map((g) => g.key['rep.type']));
  assert.ok(types.has('field') && types.has('inside') && types.has(null), [...types].join());
  for (const g of got.groups) {
    const k = [g.key['rep.type'], g.key.month];
    const w = want.get(JSON.stringify(k)) || { ev: {}, targeted: 0, reached: 0, covered: 0 };
    assertGroup(g, w, `group ${k}`);
  }
  for (const [k, w] of want) {
    if (Object.keys(w.ev).length) assert.ok(got.groups.some((g) => JSON.stringify([g.key['rep.type'], g.key.month]) === k), `group ${k} is there`);
  }
  // months run in order within a type, and cover the window
  const months = got.groups.filter((g) => g.key['rep.type'] === 'inside').map((g) => g.key.month);
  assert.deepEqual(months, [...months].sort());
  assert.ok(months.length >= 7 && months.length <= 8, months.join());
});

test("a rep's numbers cover only the doctors aligned to them", async () => {
  const [login, rep] = (await srv.sql("SELECT u.login, u.rep_id FROM users u JOIN reps r ON r.ext_id = u.rep_id WHERE u.role = 'inside_rep' ORDER BY u.login LIMIT 1")).split('|');
  assert.ok(login, 'the demo has an inside rep account');
  const token = await srv.token(login);
  const now = Date.now() * 1000;
  const scope = `s.id IN (SELECT hcp_id FROM alignments WHERE rep_id = (SELECT id FROM reps WHERE ext_id = ${q(rep)})
    AND deleted_at IS NULL AND valid_from <= ${now} AND (valid_to IS NULL OR valid_to > ${now}))`;
  const got = await kpis(window(), token);
  const want = [...(await expected([], scope)).values()][0];
  assertGroup(got.total, want, `rep ${rep}`);
  const all = await kpis(window());
  assert.ok(got.total.phone.calls > 0 && got.total.phone.calls < all.total.phone.calls / 5, `${got.total.phone.calls} of ${all.total.phone.calls}`);
  assert.ok(got.total.reach.hcps_targeted <= 200, `${got.total.reach.hcps_targeted} targets`);
});

test('every role may read KPIs', async () => {
  for (const login of ['analyst', 'marketing', 'compliance']) {
    const res = await srv.api('GET', '/api/v1/analytics/kpis?group_by=region', { token: await srv.token(login) });
    assert.equal(res.status, 200, `${login}: ${res.text}`);
    assert.ok(res.json.groups.length > 1);
  }
  assertError(await srv.api('GET', '/api/v1/analytics/kpis'), 401);
});

test('bad parameters are 400s naming the parameter', async () => {
  const cases = [
    ['group_by=city', 'group_by', /unknown dimension 'city'/],
    ['group_by=region,specialty,title', 'group_by', /at most 2/],
    ['group_by=month,week', 'group_by', /one of month and week/],
    ['group_by=region,region', 'group_by', /twice/],
    ['group_by=,', 'group_by', /names separated by commas/],
    ['from=2026-05-01&to=2026-04-01', 'from', /before 'to'/],
    ['from=yesterday', 'from', /RFC 3339/],
    ['to=2026-13-01', 'to', /RFC 3339/],
    ['from=2000-01-01&to=2015-01-01', 'from', /ten years/],
    ['channels=pigeon', 'channels', /unknown channel 'pigeon'/],
  ];
  for (const [query, field, message] of cases) {
    const e = assertError(await srv.api('GET', `/api/v1/analytics/kpis?${query}`, { token: srv.adminToken }), 400, 'bad_request', query);
    assert.equal(e.detail.field, field, query);
    assert.match(e.message, message, query);
  }
});

test('channels= limits the sections and what reach counts; a date "to" includes its day', async () => {
  const got = await kpis(`${window()}&channels=phone,wechat`);
  assert.deepEqual(Object.keys(got.total), ['phone', 'wechat', 'reach']);
  const phoneOnly = await kpis(`${window()}&channels=phone`);
  assert.equal(phoneOnly.total.reach.interactions, phoneOnly.total.phone.answered);
  const day = await kpis('from=2026-03-01&to=2026-03-31');
  assert.equal(day.from, '2026-02-28T16:00:00Z');
  assert.equal(day.to, '2026-03-31T16:00:00Z');
});
