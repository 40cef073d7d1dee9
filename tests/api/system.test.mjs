// The routes that need no login: /healthz, /metrics (Prometheus text),
// /api/openapi.json (a valid OpenAPI 3.1 document listing every route) and
// the static UI (with its CSP, and no way out of the web root).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startServer, assertError, BACKEND } from './harness.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv?.stop(); });

test('GET /healthz: 200 with status, db and backend, no auth needed', async () => {
  const res = await srv.api('GET', '/healthz');
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers['content-type'], /^application\/json/);
  assert.equal(res.json.status, 'ok');
  assert.equal(res.json.db, 'ok');
  assert.equal(res.json.backend, BACKEND === 'pg' ? 'postgresql' : 'sqlite', res.text);
  assert.match(res.headers['x-request-id'], /^[A-Za-z0-9._-]{1,64}$/);
  // the in-memory indexes say whether they are loaded (a readiness probe waits for both)
  const deadline = Date.now() + 10000;
  let h = res.json;
  while ((h.indexes.hcps !== 'ready' || h.indexes.events !== 'ready') && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    h = (await srv.api('GET', '/healthz')).json;
  }
  assert.deepEqual(h.indexes, { hcps: 'ready', events: 'ready' });
});

test('a plain client X-Request-Id is echoed back, a hostile one is replaced', async () => {
  const mine = await srv.api('GET', '/healthz', { headers: { 'X-Request-Id': 'trace-abc.123_x' } });
  assert.equal(mine.headers['x-request-id'], 'trace-abc.123_x');
  const hostile = await srv.api('GET', '/api/v1/nope', { headers: { 'X-Request-Id': 'a b"<script>' } });
  const e = assertError(hostile, 404, 'not_found');
  assert.notEqual(e.detail.request_id, 'a b"<script>');
  assert.match(e.detail.request_id, /^[A-Za-z0-9._-]+$/);
});

/** Parses Prometheus text: {types: Map(family → type), samples: [{name, labels, value, family, line}]}. */
function parseProm(text) {
  const types = new Map();
  const samples = [];
  const lines = text.split('\n');
  assert.equal(lines.at(-1), '', 'the exposition ends with a newline');
  let family = null;
  for (const [i, line] of lines.entries()) {
    if (line === '') continue;
    let m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (m) {
      assert.ok(!types.has(m[1]), `# TYPE ${m[1]} appears twice`);
      types.set(m[1], m[2]);
      family = m[1];
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    assert.ok(!line.startsWith('#'), `unexpected comment line ${i + 1}: ${line}`);
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([^ ]+)$/.exec(line);
    assert.ok(m, `line ${i + 1} is not a sample: ${line}`);
    const labels = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
      let lm;
      let consumed = 0;
      while ((lm = re.exec(m[3])) !== null) {
        labels[lm[1]] = lm[2];
        consumed = re.lastIndex;
        if (lm[3] === '') break;
      }
      assert.equal(consumed, m[3].length, `labels of line ${i + 1} parse: ${line}`);
    }
    const value = Number(m[4] === '+Inf' ? Infinity : m[4]);
    assert.ok(!Number.isNaN(value), `value of line ${i + 1}: ${line}`);
    samples.push({ name: m[1], labels, value, family, line: i + 1 });
  }
  return { types, samples };
}

function familyOf(name, types) {
  if (types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      if (types.get(base) === 'histogram' || types.get(base) === 'summary') return base;
    }
  }
  return null;
}

test('GET /metrics: Prometheus text with request counts, a latency histogram, pool, writer and build info', async () => {
  // A known number of /api/v1/me calls (token auth, 200) and a few 401s.
  const N = 7;
  for (let i = 0; i < N; i++) assert.equal((await srv.api('GET', '/api/v1/me', { token: srv.adminToken })).status, 200);
  for (let i = 0; i < 3; i++) assert.equal((await srv.api('GET', '/api/v1/me')).status, 401);
  // One write, so the group-commit writer has committed at least one batch.
  assert.equal((await srv.api('POST', '/api/v1/tokens', { token: srv.adminToken, body: { name: 'metrics' } })).status, 201);

  // A request is counted when libmicrohttpd reports it complete, which can
  // trail the client's receipt of the answer by a moment: scrape until the
  // counts have caught up (they must then be exact).
  let res;
  let parsed;
  const meTotal = (p) => p.samples.filter((s) => s.name === 'medreach_http_request_duration_seconds_count'
    && s.labels.route === '/api/v1/me').reduce((a, s) => a + s.value, 0);
  let made = 0; // scrapes made so far
  for (const deadline = Date.now() + 3000; ;) {
    res = await srv.api('GET', '/metrics');
    made += 1;
    assert.equal(res.status, 200, res.text);
    parsed = parseProm(res.text);
    if (meTotal(parsed) >= N + 3 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const { types, samples } = parsed;

  // Every sample belongs to a declared family, and each family's samples are contiguous.
  const seenFamilies = new Set();
  let current = null;
  for (const s of samples) {
    const fam = familyOf(s.name, types);
    assert.ok(fam, `sample ${s.name} (line ${s.line}) has no # TYPE`);
    assert.equal(fam, s.family, `sample ${s.name} (line ${s.line}) sits under # TYPE ${s.family}, not its own family ${fam}`);
    if (fam !== current) {
      assert.ok(!seenFamilies.has(fam), `family ${fam} is split: its samples are not contiguous (line ${s.line})`);
      seenFamilies.add(fam);
      current = fam;
    }
  }

  const find = (name, labels) => samples.filter((s) => s.name === name
    && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.equal(types.get('medreach_http_requests_total'), 'counter');
  const me200 = find('medreach_http_requests_total', { route: '/api/v1/me', method: 'GET', status: '200' });
  assert.equal(me200.length, 1, res.text);
  assert.equal(me200[0].value, N);
  const me401 = find('medreach_http_requests_total', { route: '/api/v1/me', method: 'GET', status: '401' });
  assert.equal(me401.length, 1);
  assert.equal(me401[0].value, 3);

  assert.equal(types.get('medreach_http_request_duration_seconds'), 'histogram');
  const buckets = find('medreach_http_request_duration_seconds_bucket', { route: '/api/v1/me', method: 'GET' });
  assert.ok(buckets.length >= 2, 'several buckets');
  let prev = -1;
  let prevLe = -Infinity;
  for (const b of buckets) {
    const le = b.labels.le === '+Inf' ? Infinity : Number(b.labels.le);
    assert.ok(le > prevLe, `bucket bounds increase: ${b.labels.le}`);
    assert.ok(b.value >= prev, 'buckets are cumulative');
    prev = b.value;
    prevLe = le;
  }
  assert.equal(buckets.at(-1).labels.le, '+Inf');
  assert.equal(buckets.at(-1).value, N + 3);
  const count = find('medreach_http_request_duration_seconds_count', { route: '/api/v1/me', method: 'GET' });
  assert.equal(count.length, 1);
  assert.equal(count[0].value, N + 3);
  const sum = find('medreach_http_request_duration_seconds_sum', { route: '/api/v1/me', method: 'GET' });
  assert.equal(sum.length, 1);
  assert.ok(sum[0].value > 0 && sum[0].value < 60, `a plausible sum: ${sum[0].value}`);

  assert.equal(types.get('medreach_db_pool_size'), 'gauge');
  const pool = find('medreach_db_pool_size', {});
  assert.equal(pool.length, 1);
  assert.ok(pool[0].value >= 1);
  assert.equal(types.get('medreach_writer_batches_total'), 'counter');
  const batches = find('medreach_writer_batches_total', {});
  assert.equal(batches.length, 1);
  assert.ok(batches[0].value >= 1, 'the token create went through the writer');

  const build = find('medreach_build_info', {});
  assert.equal(build.length, 1);
  assert.equal(build[0].value, 1);
  assert.equal(build[0].labels.backend, BACKEND === 'pg' ? 'postgresql' : 'sqlite');
  assert.ok(build[0].labels.version, 'build_info has a version label');

  // Scrapes are counted too, once complete: a scrape sees at most the ones
  // made before it, and soon all of them.
  let counted = -1;
  for (let i = 0; i < 60; i++) {
    const again = parseProm((await srv.api('GET', '/metrics')).text);
    const rows = again.samples.filter((s) => s.name === 'medreach_http_requests_total' && s.labels.route === '/metrics');
    assert.ok(rows.length <= 1 && (!rows.length || rows[0].labels.status === '200'), JSON.stringify(rows));
    counted = rows.length ? rows[0].value : 0;
    assert.ok(counted <= made, `${counted} scrapes counted, only ${made} made before this one`);
    made += 1;
    if (counted === made - 1) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(counted, made - 1, 'every earlier scrape was counted');
});

const EXPECTED_ROUTES = {
  '/api/v1/auth/login': ['post'],
  '/api/v1/auth/logout': ['post'],
  '/api/v1/me': ['get'],
  '/api/v1/users': ['get', 'post'],
  '/api/v1/users/{id}': ['get', 'patch'],
  '/api/v1/tokens': ['get', 'post'],
  '/api/v1/tokens/{id}': ['delete'],
  '/api/v1/audit': ['get'],
  '/api/v1/audit/verify': ['get'],
  '/api/v1/audit/summary': ['get'],
  '/healthz': ['get'],
  '/metrics': ['get'],
  '/api/openapi.json': ['get'],
  '/api/v1/analytics/kpis': ['get'],
  '/api/v1/expressions/check': ['post'],
  '/api/v1/segments/count': ['post'],
  '/api/v1/segments/members': ['post'],
  '/api/v1/segments': ['get'],
  '/api/v1/segments/{name}': ['get', 'put', 'delete'],
};
const PUBLIC = new Set(['post /api/v1/auth/login', 'get /healthz', 'get /metrics', 'get /api/openapi.json',
  // channel callbacks: they authenticate by the channel's signature, not by a login
  'get /api/v1/channels/wecom/callback', 'post /api/v1/channels/wecom/callback',
  'get /api/v1/channels/tencent-meeting/callback', 'post /api/v1/channels/tencent-meeting/callback']);

test('GET /api/openapi.json: a valid OpenAPI 3.1 document listing every route', async () => {
  const res = await srv.api('GET', '/api/openapi.json');
  assert.equal(res.status, 200);
  assert.match(res.headers['content-type'], /^application\/json/);
  const doc = res.json;
  assert.match(doc.openapi, /^3\.1\.\d+$/);

  const validator = new Validator();
  const result = await validator.validate(structuredClone(doc));
  assert.equal(result.valid, true, `OpenAPI validation errors: ${JSON.stringify(result.errors, null, 1)}`);
  assert.equal(validator.version, '3.1');

  for (const [p, methods] of Object.entries(EXPECTED_ROUTES)) {
    assert.ok(doc.paths[p], `path ${p} is listed`);
    for (const m of methods) {
      const op = doc.paths[p][m];
      assert.ok(op, `${m.toUpperCase()} ${p} is listed`);
      assert.ok(op.summary, `${m} ${p} has a summary`);
      assert.ok(op.responses && Object.keys(op.responses).length, `${m} ${p} has responses`);
      if (PUBLIC.has(`${m} ${p}`)) {
        assert.deepEqual(op.security, [], `${m} ${p} is public: security []`);
      } else {
        assert.ok(op.security === undefined || op.security.length > 0, `${m} ${p} is not public`);
      }
    }
  }
  // The success status each operation declares is the one the server gives.
  const success = {
    'post /api/v1/auth/login': '200', 'post /api/v1/auth/logout': '204', 'post /api/v1/users': '201',
    'patch /api/v1/users/{id}': '200', 'post /api/v1/tokens': '201', 'delete /api/v1/tokens/{id}': '204',
    'post /api/v1/hcps': '201', 'post /api/v1/hcps/import': '200', 'post /api/v1/identity/run': '200',
    'post /api/v1/hcps/{id}/merge': '200', 'post /api/v1/merges/{id}/undo': '200', 'post /api/v1/fhir': '200',
    'delete /api/v1/alignments/{id}': '204', 'put /api/v1/hcps/{id}/affiliations/{hco}': '200',
  };
  const opIds = new Set();
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(item)) {
      const want = success[`${m} ${p}`];
      const ok = Object.keys(op.responses).filter((s) => /^2\d\d$/.test(s));
      assert.equal(ok.length, 1, `${m} ${p} declares one success status: ${ok}`);
      if (want) assert.ok(op.responses[want], `${m} ${p} declares ${want}: ${JSON.stringify(op.responses)}`);
      if (!PUBLIC.has(`${m} ${p}`)) {
        assert.ok(op.responses['401'] && op.responses['403'], `${m} ${p} declares 401 and 403`);
      }
      assert.ok(op.operationId && !opIds.has(op.operationId), `unique operationId ${op.operationId}`);
      opIds.add(op.operationId);
    }
  }
  assert.equal(doc.components.schemas.Error.required[0], 'error');
  // Protected routes inherit a global requirement that names real schemes.
  assert.ok(Array.isArray(doc.security) && doc.security.length > 0, 'a global security requirement');
  for (const req of doc.security) {
    for (const name of Object.keys(req)) assert.ok(doc.components.securitySchemes[name], `scheme ${name} is defined`);
  }
  // Path templates and their parameters agree.
  for (const [p, item] of Object.entries(doc.paths)) {
    const names = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const [m, op] of Object.entries(item)) {
      const params = (op.parameters || []).filter((x) => x.in === 'path').map((x) => x.name);
      assert.deepEqual(params.sort(), [...names].sort(), `${m} ${p} declares its path parameters`);
    }
  }
  // Nothing internal leaks into the description (the static catch-all is hidden).
  assert.ok(!Object.keys(doc.paths).some((p) => p.includes('*')), 'no catch-all pattern listed');
});

test('GET / serves the UI page with a Content-Security-Policy', async () => {
  const res = await srv.api('GET', '/');
  assert.equal(res.status, 200);
  assert.match(res.headers['content-type'], /^text\/html/);
  const csp = res.headers['content-security-policy'];
  assert.ok(csp, 'a CSP header');
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(res.text, /<html/i);
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
});

test('paths that climb out of the web root are 404 and never file content', async () => {
  for (const p of ['/../../etc/passwd', '/%2e%2e/etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc/passwd',
    '/pages/../../etc/passwd', '/%2E%2E/etc/hostname', '/.git/config', '/etc/passwd']) {
    const res = await srv.api('GET', p);
    assertError(res, 404, 'not_found', p);
    assert.doesNotMatch(res.text, /root:.*:0:0:/, `${p} leaked /etc/passwd`);
  }
});

test('unknown route, wrong method', async () => {
  assertError(await srv.api('GET', '/api/v1/nope', { token: srv.adminToken }), 404, 'not_found');
  assertError(await srv.api('GET', '/api/v1/nope'), 404, 'not_found');
  assertError(await srv.api('POST', '/api/v1/nope', { token: srv.adminToken, body: {} }), 404, 'not_found');
  const put = await srv.api('PUT', '/api/v1/me', { token: srv.adminToken, body: {} });
  assertError(put, 405, 'method_not_allowed');
  assert.equal(put.headers.allow, 'GET');
  const del = await srv.api('DELETE', '/api/v1/users');
  assertError(del, 405, 'method_not_allowed');
  assert.deepEqual(del.headers.allow.split(/,\s*/).sort(), ['GET', 'POST']);
});
