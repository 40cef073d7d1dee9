// The one way the UI talks to the server: fetch with same-origin cookies, JSON
// in and out, the X-CSRF-Token header on every write, and every failure turned
// into an ApiError carrying the server's {"error":{code,message,detail}}.
// A 401 sends the user to the login page (through the onUnauthorized hook);
// other failures are shown in the error banner (onError) unless quiet.

const BASE = '/api/v1';

let csrfToken = null;
const hooks = {
  onUnauthorized: () => {},
  onError: () => {},
};

/** A failed API call: HTTP status (0 when the server was not reached), the
 *  server's error code, message and detail, or messageKey for our own text. */
export class ApiError extends Error {
  constructor({ status, code, message = '', detail = {}, messageKey = null }) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.serverMessage = message;
    this.detail = detail || {};
    this.messageKey = messageKey;
  }
}

/** Installs the app's handlers for 401 and for failures to show. */
export function configure({ onUnauthorized, onError }) {
  if (onUnauthorized) hooks.onUnauthorized = onUnauthorized;
  if (onError) hooks.onError = onError;
}

/** Remembers the CSRF token of the session (from login or GET /me). */
export function setCsrfToken(token) {
  csrfToken = token || null;
}

function queryString(query) {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

async function readBody(res) {
  if (res.status === 204) return null;
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function errorFrom(res, body) {
  const e = body && typeof body === 'object' ? body.error : null;
  if (e && typeof e === 'object') {
    return new ApiError({ status: res.status, code: e.code || `http_${res.status}`, message: e.message || '', detail: e.detail });
  }
  return new ApiError({ status: res.status, code: `http_${res.status}`, messageKey: 'error.generic' });
}

function report(err, quiet) {
  if (!quiet) hooks.onError(err);
  throw err;
}

/**
 * Sends one request and resolves with the parsed JSON body (null for 204).
 * opts: body (sent as JSON), raw ({body, type}: bytes sent as they are, e.g. a
 *       File as text/csv), query (object; empty values dropped), signal,
 *       quiet (do not show failures in the banner; the caller shows them),
 *       allow401 (a 401 is an ordinary failure, e.g. wrong password).
 * Rejects with ApiError; an aborted request rejects with code 'aborted'.
 */
export async function request(method, path, opts = {}) {
  const { body, raw, query, signal, quiet = false, allow401 = false } = opts;
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (raw) headers['Content-Type'] = raw.type;
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  let data;
  try {
    res = await fetch(BASE + path + queryString(query), {
      method,
      headers,
      body: raw ? raw.body : body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      signal,
    });
    data = await readBody(res);
  } catch (e) {
    if (e.name === 'AbortError') throw new ApiError({ status: 0, code: 'aborted' });
    return report(new ApiError({ status: 0, code: 'network_error', messageKey: 'error.network' }), quiet);
  }
  if (res.ok) return data;
  const err = errorFrom(res, data);
  if (res.status === 401 && !allow401) {
    hooks.onUnauthorized(err);
    throw err;
  }
  return report(err, quiet);
}

/**
 * POSTs data (a File or Blob) as it is, reporting the upload's progress,
 * which fetch() cannot: XMLHttpRequest with the same cookies, CSRF header
 * and error handling as request(). opts: type (Content-Type), encoding
 * (Content-Encoding, e.g. 'gzip'), query, signal, quiet, and
 * onProgress({phase: 'upload', loaded, total} | {phase: 'processing'}),
 * 'processing' once the body is sent and the server is working on it.
 */
export function uploadWithProgress(path, data, opts = {}) {
  const { type, encoding, query, signal, quiet = false, onProgress = () => {} } = opts;
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) {
      reject(new ApiError({ status: 0, code: 'aborted' }));
      return;
    }
    const xhr = new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    xhr.open('POST', BASE + path + queryString(query));
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    if (type) xhr.setRequestHeader('Content-Type', type);
    if (encoding) xhr.setRequestHeader('Content-Encoding', encoding);
    if (csrfToken) xhr.setRequestHeader('X-CSRF-Token', csrfToken);
    xhr.upload.addEventListener('progress', (e) => {
      onProgress({ phase: 'upload', loaded: e.loaded, total: e.lengthComputable ? e.total : (data.size || 0) });
    });
    xhr.upload.addEventListener('load', () => onProgress({ phase: 'processing' }));
    const finish = () => { if (signal) signal.removeEventListener('abort', onAbort); };
    xhr.addEventListener('abort', () => {
      finish();
      reject(new ApiError({ status: 0, code: 'aborted' }));
    });
    xhr.addEventListener('error', () => {
      finish();
      try {
        report(new ApiError({ status: 0, code: 'network_error', messageKey: 'error.network' }), quiet);
      } catch (err) {
        reject(err);
      }
    });
    xhr.addEventListener('load', () => {
      finish();
      let body = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(body);
        return;
      }
      const err = errorFrom(xhr, body);
      if (xhr.status === 401) {
        hooks.onUnauthorized(err);
        reject(err);
        return;
      }
      try {
        report(err, quiet);
      } catch (e) {
        reject(e);
      }
    });
    if (signal) signal.addEventListener('abort', onAbort);
    xhr.send(data);
  });
}

export const api = {
  get: (path, opts) => request('GET', path, opts),
  post: (path, body, opts = {}) => request('POST', path, { ...opts, body }),
  patch: (path, body, opts = {}) => request('PATCH', path, { ...opts, body }),
  del: (path, opts) => request('DELETE', path, opts),
  /** POSTs data (a File, Blob or string) as it is, with Content-Type type. */
  upload: (path, data, type, opts = {}) => request('POST', path, { ...opts, raw: { body: data, type } }),
};
