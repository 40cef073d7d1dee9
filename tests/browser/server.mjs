// A private medreach server for the browser tests: the API tests' harness
// (tests/api/harness.mjs — temp dir, key, database, admin account, free port,
// /healthz) with the shape login.test.mjs expects: {url, login, password, stop()}.

import { startServer as startApiServer } from '../api/harness.mjs';

export async function startServer({ login = 'admin' } = {}) {
  const srv = await startApiServer({ adminLogin: login });
  return { url: srv.url, login: srv.adminLogin, password: srv.adminPassword, stop: () => srv.stop() };
}
