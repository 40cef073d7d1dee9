// The API tests' harness: starts a private `medreach serve` on a free
// loopback port over a fresh database — SQLite in a temp dir, or a fresh
// PostgreSQL database (MEDREACH_TEST_BACKEND=pg) on the server named by
// MEDREACH_TEST_PG_URL, or on a private server this harness starts when that
// is unset — with one admin account made by `medreach user add`, and gives
// the tests helpers to call the CLI, the HTTP API and the database directly.
//
//   const srv = await startServer();
//   const { status, json } = await srv.api('GET', '/api/v1/me', { token: srv.adminToken });
//   await srv.stop();
//
// Every request goes through node:http (not fetch) so that paths are sent
// exactly as written (no dot-segment normalisation), bodies may be any
// bytes, and headers may be as large as a test wants.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// MEDREACH_BIN runs another build (e.g. `make B=/tmp/other build` of a parallel work tree).
export const BIN = process.env.MEDREACH_BIN || path.join(ROOT, 'build', 'medreach');
export const BACKEND = process.env.MEDREACH_TEST_BACKEND || 'sqlite';
export const ROLES = ['admin', 'manager', 'field_rep', 'inside_rep', 'msl', 'marketing', 'compliance', 'analyst'];

const START_TIMEOUT_MS = 30000;
const STOP_TIMEOUT_MS = 8000;

if (BACKEND !== 'sqlite' && BACKEND !== 'pg') throw new Error(`MEDREACH_TEST_BACKEND must be sqlite or pg, not '${BACKEND}'`);

/** A TCP port that was free a moment ago (bound to 0, then released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Runs a program to completion: {code, signal, stdout, stderr}. */
export function run(cmd, args, { input, env = process.env, timeoutMs = 60000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
    child.stdin.on('error', () => { /* the program may exit before reading stdin */ });
    child.stdin.end(input ?? '');
  });
}

/* ---------- PostgreSQL: a shared server (given, or private to this process) ---------- */

let privatePg = null; // {dir, url}

function pgBaseUrl() {
  if (process.env.MEDREACH_TEST_PG_URL) return process.env.MEDREACH_TEST_PG_URL;
  if (!privatePg) {
    // Not under the harness's own dir: the script chowns it to postgres, whose
    // server must be able to reach it (a mkdtemp dir in /tmp is 0700 otherwise).
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mr-api-pg-'));
    const r = spawnSync(path.join(ROOT, 'scripts', 'pg-private.sh'), ['start', dir], { encoding: 'utf8' });
    if (r.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`cannot start a private PostgreSQL:\n${r.stderr}`);
    }
    privatePg = { dir, url: r.stdout.trim() };
    process.on('exit', () => {
      spawnSync(path.join(ROOT, 'scripts', 'pg-private.sh'), ['stop', privatePg.dir]);
    });
  }
  return privatePg.url;
}

function pgUrlFor(base, dbname) {
  const u = new URL(base);
  u.pathname = `/${dbname}`;
  return u.toString();
}

async function psql(url, query) {
  const r = await run('psql', [url, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', query]);
  if (r.code !== 0) throw new Error(`psql failed (${r.code}) on: ${query}\n${r.stderr}`);
  return r.stdout;
}

/* ---------- HTTP ---------- */

/**
 * One HTTP request with node:http. body: an object (sent as JSON), a string
 * or a Buffer (sent as is, Content-Type application/json unless headers say
 * otherwise). Resolves {status, headers, json, text}; json is the parsed body
 * when it is JSON, else undefined.
 */
export function request(baseUrl, method, urlPath, { headers = {}, body, chunked = false, timeoutMs = 20000 } = {}) {
  const base = new URL(baseUrl);
  const h = { ...headers };
  let payload;
  if (body !== undefined) {
    payload = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
    if (!chunked) h['Content-Length'] = String(payload.length);
  }
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: base.hostname, port: base.port, method, path: urlPath, headers: h, agent: false,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        if (/json/.test(res.headers['content-type'] || '') && text.length) {
          try { json = JSON.parse(text); } catch { json = undefined; }
        }
        resolve({ status: res.statusCode, headers: res.headers, json, text });
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${urlPath}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    if (payload && chunked) {
      // Several chunks with Transfer-Encoding: chunked (no Content-Length to check up front).
      for (let i = 0; i < payload.length; i += 4096) req.write(payload.subarray(i, i + 4096));
    } else if (payload) {
      req.write(payload);
    }
    req.end();
  });
}

/* ---------- assertions shared by the tests ---------- */

/**
 * Asserts res is an error in the one shape, with this status and code:
 * {"error":{"code","message","detail":{...,"request_id"}}}, request_id equal
 * to the X-Request-Id header. Returns the error object.
 */
export function assertError(res, status, code, what = '') {
  const where = `${what ? `${what}: ` : ''}${res.status} ${res.text}`;
  assert.equal(res.status, status, `status, ${where}`);
  assert.match(res.headers['content-type'] || '', /^application\/json/, `content type, ${where}`);
  assert.ok(res.json && typeof res.json === 'object' && !Array.isArray(res.json), `JSON object body, ${where}`);
  assert.deepEqual(Object.keys(res.json), ['error'], `only "error" at the top, ${where}`);
  const e = res.json.error;
  assert.equal(typeof e, 'object', where);
  assert.deepEqual(Object.keys(e).sort(), ['code', 'detail', 'message'], `error keys, ${where}`);
  assert.match(e.code, /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/, `snake_case code, ${where}`);
  if (code !== undefined) assert.equal(e.code, code, `error code, ${where}`);
  assert.equal(typeof e.message, 'string', where);
  assert.ok(e.message.length > 0, `non-empty message, ${where}`);
  assert.ok(e.detail && typeof e.detail === 'object' && !Array.isArray(e.detail), `detail object, ${where}`);
  assert.ok(res.headers['x-request-id'], `X-Request-Id header, ${where}`);
  assert.equal(e.detail.request_id, res.headers['x-request-id'], `detail.request_id = X-Request-Id, ${where}`);
  return e;
}

/** A password that passes the policy, different each call. */
export function newPassword() {
  return `Pw-${randomBytes(9).toString('base64url')}-9`;
}

let uniq = 0;
/** A login name unique within this process. */
export function uniqueLogin(prefix = 'u') {
  uniq += 1;
  return `${prefix}${uniq}-${randomBytes(3).toString('hex')}`.toLowerCase();
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A change made outside the server (CLI, SQL, another node) reaches a credential the server has
// just seen within its auth cache's lifetime (MR_AUTHCACHE_TTL_MS, src/auth/authcache.h).
export const AUTH_CACHE_MS = 1000;
export const pastAuthCache = () => sleep(AUTH_CACHE_MS + 150);

/* ---------- the server ---------- */

/**
 * Starts medreach serve over a fresh database with one admin account.
 * options: {adminLogin = 'admin', adminPassword, serveArgs = []}.
 * Resolves with {url, backend, db, dir, adminLogin, adminPassword, adminToken,
 * cli, api, token, login, sql, stop, logs, pid, kill, restart}: kill(signal)
 * kills the running server (SIGKILL by default) and waits for it to exit;
 * restart() starts it again on the same database and key (url may change).
 */
export async function startServer(options = {}) {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run make build/medreach first`);
  const adminLogin = options.adminLogin || 'admin';
  const adminPassword = options.adminPassword || newPassword();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mr-api-'));
  const env = { ...process.env, MEDREACH_KEY_FILE: path.join(dir, 'key'), MEDREACH_LOG_LEVEL: 'info' };
  delete env.MEDREACH_DB;
  delete env.MEDREACH_LISTEN;
  delete env.MEDREACH_WEB;

  let db;
  let pgBase = null;
  let pgName = null;
  const sqlitePath = path.join(dir, 'db.sqlite');
  if (BACKEND === 'sqlite') {
    db = `sqlite:${sqlitePath}`;
  } else {
    pgBase = pgBaseUrl();
    pgName = `mr_api_${process.pid}_${randomBytes(5).toString('hex')}`;
    await psql(pgBase, `CREATE DATABASE ${pgName}`);
    db = pgUrlFor(pgBase, pgName);
  }

  let child = null;
  let output = '';
  let stopped = false;
  const keep = (d) => { output = (output + d).slice(-40000); };
  const killNow = () => { if (child && child.exitCode === null) child.kill('SIGKILL'); };

  async function stop() {
    if (stopped) return;
    stopped = true;
    process.off('exit', killNow);
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
    if (pgName) {
      try { await psql(pgBase, `DROP DATABASE IF EXISTS ${pgName} WITH (FORCE)`); } catch { /* best effort */ }
    }
  }

  /** Runs medreach with args (plus --db) and the key env; {code, stdout, stderr}. */
  async function cli(args, { input, db: withDb = true } = {}) {
    const full = withDb ? [...args, '--db', db] : [...args];
    return run(BIN, full, { input, env });
  }

  /**
   * Raw SQL on the test database; resolves with stdout (rows '|'-separated, one a line).
   * A query of the audit trail first has the server commit the records of reads it holds
   * for up to --read-audit-ms (the audit API does that; the summary writes no record itself).
   */
  const handle = {};
  async function sql(query) {
    if (/audit_log/.test(query) && handle.adminToken) {
      const f = await handle.api('GET', '/api/v1/audit/summary?days=1', { token: handle.adminToken });
      if (f.status !== 200) throw new Error(`flushing the audit trail failed: ${f.status} ${f.text}`);
    }
    if (BACKEND === 'sqlite') {
      const r = await run('sqlite3', ['-batch', '-bail', '-cmd', '.timeout 10000', sqlitePath, query]);
      if (r.code !== 0) throw new Error(`sqlite3 failed (${r.code}) on: ${query}\n${r.stderr}`);
      return r.stdout.trim();
    }
    return (await psql(db, query)).trim();
  }

  /**
   * Starts medreach serve on the database (again, after kill()) and waits until
   * it answers /healthz; resolves with its URL. A server killed on purpose
   * (kill()) exits quietly; any other exit is reported on stderr.
   */
  let url;
  async function launch() {
    // The port was free a moment ago; if someone took it meanwhile, serve
    // says it cannot listen and exits, and we try another. Until serve has
    // printed its "serving" line, /healthz might reach someone else's server.
    let at;
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      at = `http://127.0.0.1:${port}`;
      output = '';
      const proc = spawn(BIN, ['serve', '--db', db, '--listen', `127.0.0.1:${port}`, '--web', path.join(ROOT, 'web'),
        ...(options.serveArgs || [])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      proc.stdout.setEncoding('utf8');
      proc.stderr.setEncoding('utf8');
      proc.stdout.on('data', keep);
      proc.stderr.on('data', keep);
      process.off('exit', killNow);
      process.on('exit', killNow);
      const exited = new Promise((r) => proc.once('exit', () => r('exit')));
      const listening = new Promise((r) => {
        const check = () => { if (/medreach: serving http:\/\//.test(output)) r('listening'); };
        proc.stdout.on('data', check);
        check();
      });
      let timeout;
      const timer = new Promise((r) => { timeout = setTimeout(() => r('timeout'), START_TIMEOUT_MS); });
      const state = await Promise.race([listening, exited, timer]);
      clearTimeout(timeout);
      if (state === 'listening') break;
      process.off('exit', killNow);
      if (state === 'timeout') {
        proc.kill('SIGKILL');
        throw new Error(`medreach serve did not start in ${START_TIMEOUT_MS} ms:\n${output}`);
      }
      if (attempt < 4 && /cannot listen/.test(output)) continue;
      throw new Error(`medreach serve died (code ${proc.exitCode}, signal ${proc.signalCode}):\n${output}`);
    }
    const proc = child;
    proc.on('exit', (code, signal) => {
      if (stopped || proc.killedOnPurpose) return;
      keep(`\n[medreach serve exited unexpectedly: code ${code}, signal ${signal}]\n`);
      process.stderr.write(`medreach serve exited unexpectedly (code ${code}, signal ${signal}); its last output:\n${output}\n`);
    });

    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`medreach serve died (code ${proc.exitCode}, signal ${proc.signalCode}):\n${output}`);
      }
      try {
        const res = await request(at, 'GET', '/healthz', { timeoutMs: 2000 });
        if (res.status === 200) break;
      } catch { /* not answering yet */ }
      if (Date.now() > deadline) throw new Error(`medreach serve did not answer /healthz in ${START_TIMEOUT_MS} ms:\n${output}`);
      await sleep(50);
    }
    return at;
  }

  /**
   * Kills the running server with signal (SIGKILL: no shutdown of any kind)
   * and waits until it has exited; resolves with {code, signal}.
   */
  async function kill(signal = 'SIGKILL') {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) throw new Error('medreach serve is not running');
    proc.killedOnPurpose = true;
    const exited = new Promise((r) => proc.once('exit', (code, sig) => r({ code, signal: sig })));
    process.kill(proc.pid, signal);
    return exited;
  }

  /** Starts the server again on the same database and key, after kill(); resolves with its (new) URL. */
  async function restart() {
    if (stopped) throw new Error('the server was stopped');
    if (child && child.exitCode === null && child.signalCode === null) throw new Error('medreach serve is still running: kill() it first');
    url = await launch();
    return url;
  }

  try {
    const added = await cli(['user', 'add', adminLogin, '--role', 'admin'], { input: `${adminPassword}\n` });
    if (added.code !== 0) throw new Error(`medreach user add failed (${added.code}):\n${added.stdout}${added.stderr}`);

    url = await launch();

    /** An API token for login, made with `medreach token create`. */
    async function token(login, extra = []) {
      const r = await cli(['token', 'create', login, ...extra]);
      if (r.code !== 0) throw new Error(`medreach token create ${login} failed (${r.code}): ${r.stderr}`);
      const t = r.stdout.trim();
      assert.match(t, /^mrt_[A-Za-z0-9_-]+$/, `token create prints one token: ${r.stdout}`);
      return t;
    }

    /**
     * A request. token: sent as Bearer; session: {cookie, csrf} sends the
     * cookie, and its CSRF header too when csrf is true (or csrf is a string).
     */
    function api(method, urlPath, { token: tok, session, csrf, body, headers = {}, chunked } = {}) {
      const h = { ...headers };
      if (tok !== undefined) h.Authorization = `Bearer ${tok}`;
      if (session) {
        h.Cookie = session.cookie;
        if (csrf === true) h['X-CSRF-Token'] = session.csrf;
      }
      if (typeof csrf === 'string') h['X-CSRF-Token'] = csrf;
      return request(url, method, urlPath, { headers: h, body, chunked });
    }

    /** Logs in: {cookie: 'mr_session=…', csrf, res}; throws unless 200. */
    async function login(loginName, password) {
      const res = await api('POST', '/api/v1/auth/login', { body: { login: loginName, password } });
      if (res.status !== 200) throw new Error(`login ${loginName} failed: ${res.status} ${res.text}`);
      const setCookie = [].concat(res.headers['set-cookie'] || []);
      const c = setCookie.find((s) => s.startsWith('mr_session='));
      if (!c) throw new Error(`login ${loginName}: no mr_session cookie in ${JSON.stringify(setCookie)}`);
      return { cookie: c.split(';')[0], csrf: res.json.csrf_token, res };
    }

    handle.api = api;
    handle.adminToken = await token(adminLogin);
    return {
      get url() { return url; }, backend: BACKEND, db, dir, adminLogin, adminPassword, adminToken: handle.adminToken,
      cli, api, token, login, sql, stop, logs: () => output,
      pid: () => child.pid, kill, restart,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Creates a user through POST /api/v1/users with the admin's token; returns
 * the created user (201 asserted) plus its password.
 */
export async function createUser(srv, { login = uniqueLogin(), name, role = 'field_rep', password = newPassword(), rep_id } = {}) {
  const body = { login, name: name || `User ${login}`, role, password };
  if (rep_id) body.rep_id = rep_id;
  const res = await srv.api('POST', '/api/v1/users', { token: srv.adminToken, body });
  assert.equal(res.status, 201, `create user ${login}: ${res.text}`);
  return { ...res.json, password };
}
