// Starts a private medreach server for the browser tests: a temp directory
// with a fresh SQLite database and key file, an admin account made with
// `medreach user add`, and `medreach serve` on a free loopback port, polled
// on /healthz until it answers. stop() kills it and removes the directory.

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'build', 'medreach');
const START_TIMEOUT_MS = 20000;
const STOP_TIMEOUT_MS = 5000;

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

/** Runs the binary to completion with input on stdin; rejects on a non-zero exit. */
function run(args, input, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`medreach ${args.join(' ')} exited with ${code}:\n${out}`));
    });
    child.stdin.end(input);
  });
}

async function waitHealthy(url, child, logs) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`medreach serve exited with ${child.exitCode}:\n${logs()}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`medreach serve did not answer /healthz within ${START_TIMEOUT_MS} ms:\n${logs()}`);
}

/**
 * Starts the server with one admin account. Resolves with
 * {url, login, password, stop()}; stop() always resolves.
 */
export async function startServer({ login = 'admin' } = {}) {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run make first`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'medreach-browser-'));
  const db = `sqlite:${path.join(dir, 'db.sqlite')}`;
  const env = { ...process.env, MEDREACH_KEY_FILE: path.join(dir, 'key') };
  delete env.MEDREACH_DB;
  delete env.MEDREACH_LISTEN;
  const password = `Browser-${randomBytes(9).toString('base64url')}-7`;
  await run(['user', 'add', login, '--role', 'admin', '--db', db], `${password}\n`, env);

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(BIN, ['serve', '--db', db, '--listen', `127.0.0.1:${port}`, '--web', path.join(ROOT, 'web')],
    { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d) => { output = (output + d).slice(-20000); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let stopping = false;
  child.on('exit', (code, signal) => {
    if (stopping) return;
    keep(`\n[medreach serve exited unexpectedly: code ${code}, signal ${signal}]\n`);
    process.stderr.write(`medreach serve exited unexpectedly (code ${code}, signal ${signal}); its last output:\n${output}\n`);
  });
  const killNow = () => child.kill('SIGKILL');
  process.on('exit', killNow);

  async function stop() {
    stopping = true;
    process.off('exit', killNow);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  }

  try {
    await waitHealthy(url, child, () => output);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, login, password, stop, logs: () => output };
}
