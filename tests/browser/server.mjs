// A private medreach server for the browser tests: the API tests' harness
// (tests/api/harness.mjs — temp dir, key, database, admin account, free port,
// /healthz) with the shape login.test.mjs expects: {url, login, password, stop()},
// plus what a test needs to seed data through the API: api(method, path,
// {token, body, headers}) → {status, json, text}, the admin's API token
// (token), and createUser({login, name, role, rep_id}) → the user and its
// password.

import { startServer as startApiServer, createUser as createApiUser } from '../api/harness.mjs';

export async function startServer({ login = 'admin' } = {}) {
  const srv = await startApiServer({ adminLogin: login });
  return {
    url: srv.url,
    login: srv.adminLogin,
    password: srv.adminPassword,
    token: srv.adminToken,
    api: (method, path, opts) => srv.api(method, path, opts),
    createUser: (fields) => createApiUser(srv, fields),
    stop: () => srv.stop(),
  };
}
