// The channels: settings (masked, sealed, admin only), the WeCom and Tencent
// Meeting callbacks driven with protocol vectors built here from the
// published algorithms (SHA-1 signatures over the sorted strings; WeCom's
// AES-256-CBC frame random(16) + length(4, big-endian) + msg + corp id,
// PKCS#7 to 32; Tencent's base64 JSON) — never made by medreach itself —
// and the call centre's CDR import through the API and the CLI.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startServer, assertError, createUser } from './harness.mjs';
import gbk from './gbk.mjs';

let srv;
let admin;
let rep;

const WECOM_TOKEN = 'QDG6eK7wHy2v';
const WECOM_AES = randomBytes(32).toString('base64').slice(0, 43);
const WECOM_CORP = 'ww1436e0e65a779aee';
const MEETING_TOKEN = 'tmTok3nF0rTests99';

const nowS = () => Math.floor(Date.now() / 1000);
const sha1Sorted = (...parts) => createHash('sha1').update(parts.sort().join('')).digest('hex');

/* ---------- WeCom vectors ---------- */

/** WeCom's encryption of msg: AES-256-CBC, key = base64(aes + '='), IV its first 16 bytes. */
function wecomEncrypt(msg, { corp = WECOM_CORP, aes = WECOM_AES } = {}) {
  const key = Buffer.from(`${aes}=`, 'base64');
  const body = Buffer.from(msg, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  let plain = Buffer.concat([randomBytes(16), len, body, Buffer.from(corp, 'utf8')]);
  const pad = 32 - (plain.length % 32);
  plain = Buffer.concat([plain, Buffer.alloc(pad, pad)]);
  const c = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  c.setAutoPadding(false);
  return Buffer.concat([c.update(plain), c.final()]).toString('base64');
}

/** The query string of a signed WeCom request over encrypt (plus echostr for the GET). */
function wecomQuery(encrypt, { token = WECOM_TOKEN, echo = false, signature } = {}) {
  const timestamp = String(nowS());
  const nonce = randomBytes(6).toString('hex');
  const sig = signature || sha1Sorted(token, timestamp, nonce, encrypt);
  let q = `msg_signature=${sig}&timestamp=${timestamp}&nonce=${nonce}`;
  if (echo) q += `&echostr=${encodeURIComponent(encrypt)}`;
  return q;
}

const wecomOuter = (encrypt) => `<xml><ToUserName><![CDATA[${WECOM_CORP}]]></ToUserName>`
  + `<Encrypt><![CDATA[${encrypt}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>`;

/** The decrypted XML of an external-contact change. */
function contactXml(externalUserId, { change = 'add_external_contact', createTime = nowS() } = {}) {
  return `<xml><ToUserName><![CDATA[${WECOM_CORP}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>`
    + `<CreateTime>${createTime}</CreateTime><MsgType><![CDATA[event]]></MsgType>`
    + '<Event><![CDATA[change_external_contact]]></Event>'
    + `<ChangeType><![CDATA[${change}]]></ChangeType><UserID><![CDATA[zhangwei]]></UserID>`
    + `<ExternalUserID><![CDATA[${externalUserId}]]></ExternalUserID><State><![CDATA[kol2024]]></State>`
    + '<WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode></xml>';
}

/** POSTs an encrypted callback: {res, query, body} so a test can send it again. */
async function wecomPost(inner, opts = {}) {
  const encrypt = opts.encrypt || wecomEncrypt(inner, opts);
  const query = opts.query || wecomQuery(encrypt, opts);
  const body = opts.body || wecomOuter(encrypt);
  const res = await srv.api('POST', `/api/v1/channels/wecom/callback?${query}`,
    { body, headers: { 'Content-Type': 'text/xml' } });
  return { res, query, body };
}

/* ---------- Tencent Meeting vectors ---------- */

function meetingHeaders(data, { token = MEETING_TOKEN, signature } = {}) {
  const timestamp = String(nowS());
  const nonce = String(Math.floor(Math.random() * 1e9));
  return { timestamp, nonce, signature: signature || sha1Sorted(token, timestamp, nonce, data) };
}

async function meetingPost(event, opts = {}) {
  const data = Buffer.from(JSON.stringify(event), 'utf8').toString('base64');
  return srv.api('POST', '/api/v1/channels/tencent-meeting/callback',
    { body: { data }, headers: meetingHeaders(data, opts) });
}

function participant(event, traceId, userid, meetingId, ms) {
  return {
    event,
    trace_id: traceId,
    payload: [{
      operate_time: ms,
      operator: { userid, uuid: `WM${userid}`, user_name: '周医生', ms_open_id: 'WMfg******36mc', instance_id: '1' },
      meeting_info: { meeting_id: meetingId, meeting_code: '445999969', subject: '糖尿病诊疗进展', creator: { userid: 'host1' } },
    }],
  };
}

/* ---------- the store ---------- */

const count = async (where) => Number(await srv.sql(`SELECT COUNT(*) FROM events WHERE ${where}`));
const eventsLike = (prefix) => count(`eid LIKE '${prefix}%'`);

/** Events of the feed whose id starts with prefix. */
async function feed(prefix) {
  const r = await srv.api('GET', '/api/v1/events/feed?after=0&limit=1000', { token: admin });
  assert.equal(r.status, 200, r.text);
  return r.json.items.filter((e) => e.id.startsWith(prefix));
}

const importCsv = (entity, rows) => srv.api('POST', `/api/v1/${entity}/import`, {
  token: admin, body: `${rows.map((r) => r.join(',')).join('\r\n')}\r\n`, headers: { 'Content-Type': 'text/csv' },
});

before(async () => {
  srv = await startServer();
  admin = srv.adminToken;
  for (const [entity, rows] of [
    ['hcos', [['id', 'name', 'city_tier'], ['H1', '华山医院', '1']]],
    ['reps', [['id', 'name', 'type'], ['R1', '张伟', 'inside']]],
    ['hcps', [['id', 'name', 'title', 'hco'], ['D1', '周杰', 'chief', 'H1'], ['D2', '吴敏', 'resident', 'H1']]],
  ]) {
    const r = await importCsv(entity, rows);
    assert.equal(r.status, 200, r.text);
  }
  const r = await srv.api('POST', '/api/v1/hcps/D1/identities',
    { token: admin, body: { kind: 'wecom_external_userid', value: 'wmKnownDoctor000001', verified: true } });
  assert.ok(r.status === 201 || r.status === 200, r.text);
  rep = await createUser(srv, { role: 'inside_rep', rep_id: 'R1' });
  rep.token = await srv.token(rep.login);
});
after(async () => { await srv?.stop(); });

/* ---------- tests ---------- */

test('a callback of a channel not configured yet is 503 with what to set, and stores nothing', async () => {
  const { res } = await wecomPost(contactXml('wmNotConfigured00001'));
  const e = assertError(res, 503, 'channel_not_configured');
  assert.match(e.message, /PUT \/api\/v1\/channels\/wecom/);
  assert.match(e.message, /encoding_aes_key/);
  const get = await srv.api('GET', '/api/v1/channels/tencent-meeting/callback?check_str=aGVsbG8',
    { headers: meetingHeaders('aGVsbG8') });
  assertError(get, 503, 'channel_not_configured');
  assert.equal(await eventsLike('wecom:'), 0);
});

test('settings: admin only; PUT validates and answers masked; GET never shows a secret; sealed at rest; audited', async () => {
  let r = await srv.api('PUT', '/api/v1/channels/wecom',
    { token: admin, body: { token: WECOM_TOKEN, encoding_aes_key: 'tooShort', corp_id: WECOM_CORP } });
  assert.equal(assertError(r, 400).detail.field, 'encoding_aes_key');
  r = await srv.api('PUT', '/api/v1/channels/wecom', { token: admin, body: { token: WECOM_TOKEN, encoding_aes_key: WECOM_AES } });
  assert.equal(assertError(r, 400).detail.field, 'corp_id');
  r = await srv.api('PUT', '/api/v1/channels/wecom', { token: admin, body: { token: WECOM_TOKEN, encoding_aes_key: WECOM_AES, corp_id: WECOM_CORP, extra: 1 } });
  assertError(r, 400);

  r = await srv.api('PUT', '/api/v1/channels/wecom',
    { token: admin, body: { token: WECOM_TOKEN, encoding_aes_key: WECOM_AES, corp_id: WECOM_CORP } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.settings, { token: 'QDG***', encoding_aes_key: `${WECOM_AES.slice(0, 3)}***`, corp_id: WECOM_CORP });
  assert.equal(r.json.configured, true);
  assert.equal(r.json.updated_by, srv.adminLogin);
  assert.ok(!r.text.includes(WECOM_TOKEN) && !r.text.includes(WECOM_AES));

  const get = await srv.api('GET', '/api/v1/channels/wecom', { token: admin });
  assert.equal(get.status, 200, get.text);
  assert.deepEqual(get.json.settings, r.json.settings);
  assert.ok(!get.text.includes(WECOM_TOKEN) && !get.text.includes(WECOM_AES), 'the secrets never leave');

  // sending the masked values back (an edit form) keeps the secrets
  r = await srv.api('PUT', '/api/v1/channels/wecom', { token: admin, body: get.json.settings });
  assert.equal(r.status, 200, r.text);
  r = await srv.api('PUT', '/api/v1/channels/wecom', { token: admin, body: { token: 'abc***' } });
  assert.equal(assertError(r, 400).detail.field, 'token', 'a masked value that is not the stored one is refused');

  r = await srv.api('PUT', '/api/v1/channels/tencent_meeting', { token: admin, body: { token: MEETING_TOKEN } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.settings, { token: 'tmT***' });

  // non-admins: 403 on read and write
  assertError(await srv.api('GET', '/api/v1/channels/wecom', { token: rep.token }), 403);
  assertError(await srv.api('PUT', '/api/v1/channels/wecom', { token: rep.token, body: { corp_id: 'x' } }), 403);
  assertError(await srv.api('GET', '/api/v1/channels/wecom'), 401);
  assertError(await srv.api('GET', '/api/v1/channels/telegram', { token: admin }), 404);

  const stored = await srv.sql("SELECT config, secrets_enc FROM channel_settings WHERE channel = 'wecom'");
  assert.ok(stored.includes(WECOM_CORP), 'the corp id is plain config');
  assert.ok(!stored.includes(WECOM_TOKEN) && !stored.includes(WECOM_AES), 'the secrets are sealed at rest');
  const hex = await srv.sql("SELECT hex(secrets_enc) FROM channel_settings WHERE channel = 'wecom'").catch(() => '');
  if (hex) assert.ok(!hex.toLowerCase().includes(Buffer.from(WECOM_TOKEN).toString('hex')));
  const audited = await srv.sql("SELECT login, entity_id, status FROM audit_log WHERE action = 'channel.update' ORDER BY seq");
  assert.match(audited, new RegExp(`^${srv.adminLogin}\\|wecom\\|200`, 'm'));
  assert.match(audited, new RegExp(`^${srv.adminLogin}\\|tencent_meeting\\|200`, 'm'));
  assert.ok(!srv.logs().includes(WECOM_TOKEN) && !srv.logs().includes(WECOM_AES), 'nor in the log');
});

test('WeCom URL verification answers the decrypted echostr as plain text', async () => {
  const echo = '1616140317555161061';
  const encrypt = wecomEncrypt(echo);
  const r = await srv.api('GET', `/api/v1/channels/wecom/callback?${wecomQuery(encrypt, { echo: true })}`);
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['content-type'], /^text\/plain/);
  assert.equal(r.text, echo);
  const bad = await srv.api('GET', `/api/v1/channels/wecom/callback?${wecomQuery(encrypt, { echo: true, token: 'wrong' })}`);
  assertError(bad, 401);
});

test('an add_external_contact callback makes an event for the external user id: a provisional HCP, then once on replay', async () => {
  const ext = 'wmUnknownDoctor00001';
  const ct = nowS() - 60;
  const { res, query, body } = await wecomPost(contactXml(ext, { createTime: ct }));
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers['content-type'], /^text\/plain/);
  assert.equal(res.text, 'success');
  const id = `wecom:change_external_contact:add_external_contact:${ext}:${ct}`;
  const [ev] = await feed(id);
  assert.ok(ev, 'the event is in the log');
  assert.equal(ev.channel, 'wecom');
  assert.equal(ev.type, 'contact_add');
  assert.equal(ev.outcome, 'delivered');
  assert.equal(ev.source, 'wecom');
  assert.equal(ev.props.wecom_user, 'zhangwei');
  assert.match(ev.hcp, /^P-/, 'an unknown contact gets a provisional HCP');
  const who = await srv.api('GET', `/api/v1/identities/resolve?kind=wecom_external_userid&value=${ext}`, { token: admin });
  assert.equal(who.status, 200, who.text);
  assert.equal(who.json.hcp, ev.hcp, 'which holds the external user id');

  // WeCom retries: the same request again is acknowledged and stored once
  const again = await srv.api('POST', `/api/v1/channels/wecom/callback?${query}`, { body, headers: { 'Content-Type': 'text/xml' } });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.text, 'success');
  assert.equal(await count(`eid = '${id}'`), 1);
  const audit = await srv.sql("SELECT login, role, entity_id, status FROM audit_log WHERE action = 'wecom.callback' AND status = 200");
  assert.match(audit, new RegExp(`^wecom\\|channel\\|${id}\\|200$`, 'm'), 'audited as the channel');
});

test('a callback about the external user id an HCP holds goes to that doctor', async () => {
  const ct = nowS() - 30;
  const { res } = await wecomPost(contactXml('wmKnownDoctor000001', { createTime: ct }));
  assert.equal(res.status, 200, res.text);
  const [ev] = await feed(`wecom:change_external_contact:add_external_contact:wmKnownDoctor000001:${ct}`);
  assert.equal(ev.hcp, 'D1');
  const tl = await srv.api('GET', '/api/v1/hcps/D1/timeline', { token: admin });
  assert.ok(tl.json.items.some((e) => e.id === ev.id), 'and onto its timeline before the answer');
});

test('WeCom refusals: bad signature 401, wrong corp id 401, truncated ciphertext 400, malformed XML 400; nothing stored', async () => {
  const before = await eventsLike('wecom:');
  const hcpsBefore = await srv.sql("SELECT COUNT(*) FROM hcps WHERE ext_id LIKE 'P-%'");

  let r = (await wecomPost(contactXml('wmBadSignature000001'), { token: 'not-the-token' })).res;
  assertError(r, 401);
  r = (await wecomPost(contactXml('wmWrongCorp000000001'), { corp: 'wwSomeOtherCorp00001' })).res;
  assertError(r, 401, 'wrong_receiver');

  const whole = Buffer.from(wecomEncrypt(contactXml('wmTruncated000000001')), 'base64');
  const cut = whole.subarray(0, 40).toString('base64'); // not a whole number of AES blocks, signed all the same
  r = (await wecomPost('', { encrypt: cut })).res;
  assertError(r, 400);
  r = (await wecomPost('', { encrypt: 'x', body: '<xml><Encrypt><![CDATA[abc' })).res;
  assertError(r, 400);
  const inner = '<xml><MsgType>event</MsgType><Event>change_external_contact';
  r = (await wecomPost(inner)).res;
  assertError(r, 400, undefined, 'malformed inner XML');

  assert.equal(await eventsLike('wecom:'), before);
  assert.equal(await srv.sql("SELECT COUNT(*) FROM hcps WHERE ext_id LIKE 'P-%'"), hcpsBefore, 'no provisional HCP either');
  const failed = await srv.sql("SELECT COUNT(*) FROM audit_log WHERE action = 'wecom.callback' AND status = 401 AND login = 'wecom'");
  assert.ok(Number(failed) >= 2, 'failed signatures are audited');
});

test('a WeCom callback not about a doctor is acknowledged and stores nothing', async () => {
  const before = await eventsLike('wecom:');
  const fromStaff = `<xml><ToUserName><![CDATA[${WECOM_CORP}]]></ToUserName><FromUserName><![CDATA[zhangwei]]></FromUserName>`
    + `<CreateTime>${nowS()}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[会议几点开始]]></Content>`
    + '<MsgId>7092038</MsgId><AgentID>1000002</AgentID></xml>';
  const { res } = await wecomPost(fromStaff);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.text, 'success');
  assert.equal(await eventsLike('wecom:'), before);
});

/**
 * A POST that declares length bytes and sends none of them: the answer to the
 * headers alone (a client still writing a large body could see its
 * connection closed under it once the server has answered).
 */
function declareOnly(urlPath, length) {
  const base = new URL(srv.url);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: base.hostname, port: base.port, method: 'POST', path: urlPath, agent: false,
      headers: { 'Content-Type': 'text/xml', 'Content-Length': String(length) },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode, headers: res.headers, text, json: JSON.parse(text) });
        req.destroy();
      });
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

test('a callback body over 1 MiB is 413', async () => {
  for (const p of ['/api/v1/channels/wecom/callback', '/api/v1/channels/tencent-meeting/callback']) {
    assertError(await declareOnly(`${p}?${wecomQuery('x')}`, (1 << 20) + 1), 413);
  }
});

test('Tencent Meeting: URL check echoes check_str; join then leave gives two events, the leave with duration_s', async () => {
  const check = Buffer.from('4c5b3b1d-check', 'utf8').toString('base64');
  let r = await srv.api('GET', `/api/v1/channels/tencent-meeting/callback?check_str=${encodeURIComponent(check)}`,
    { headers: meetingHeaders(check) });
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['content-type'], /^text\/plain/);
  assert.equal(r.text, '4c5b3b1d-check');
  r = await srv.api('GET', `/api/v1/channels/tencent-meeting/callback?check_str=${encodeURIComponent(check)}`,
    { headers: meetingHeaders(check, { token: 'wrong' }) });
  assertError(r, 401);

  const joined = Date.now() - 45 * 60 * 1000;
  const left = joined + 1500 * 1000;
  r = await meetingPost(participant('meeting.participant-joined', 'trace-join-1', 'doc-zhou', 'M1333945', joined));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text, 'successfully received callback');
  r = await meetingPost(participant('meeting.participant-left', 'trace-left-1', 'doc-zhou', 'M1333945', left));
  assert.equal(r.status, 200, r.text);

  const join = (await feed('tencent_meeting:trace-join-1'))[0];
  const leave = (await feed('tencent_meeting:trace-left-1'))[0];
  assert.equal(join.type, 'join');
  assert.equal(join.outcome, 'attended');
  assert.equal(join.meeting, 'M1333945');
  assert.equal(join.duration_s, null);
  assert.equal(leave.type, 'leave');
  assert.equal(leave.duration_s, 1500, 'attended time from the stored join');
  assert.equal(leave.hcp, join.hcp, 'one participant, one HCP');
  assert.equal(await srv.sql("SELECT COUNT(*) FROM meeting_joins WHERE meeting_id = 'M1333945'"), '0', 'the leave used up the join');

  // a redelivered leave is stored once; an event about no participant is acknowledged
  r = await meetingPost(participant('meeting.participant-left', 'trace-left-1', 'doc-zhou', 'M1333945', left));
  assert.equal(r.status, 200, r.text);
  assert.equal(await eventsLike('tencent_meeting:trace-left-1'), 1);
  r = await meetingPost({ event: 'meeting.updated', trace_id: 'trace-upd', payload: [] });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text, 'successfully received callback');

  // a bad signature is 401 and nothing is stored
  r = await meetingPost(participant('meeting.participant-joined', 'trace-bad', 'doc-wu', 'M1', joined), { token: 'wrong' });
  assertError(r, 401);
  assert.equal(await eventsLike('tencent_meeting:trace-bad'), 0);
  const audit = await srv.sql("SELECT COUNT(*) FROM audit_log WHERE login = 'tencent_meeting' AND action = 'tencent_meeting.callback' AND status = 200");
  assert.ok(Number(audit) >= 2);
});

/* ---------- CDRs ---------- */

const cdrCsv = (rows) => `${rows.map((r) => r.join(',')).join('\r\n')}\r\n`;
const CDR_HEADER = ['call_id', 'caller', 'callee', 'start', 'billsec', 'disposition', 'agent'];

const cdrImport = (body, { token = admin, headers = { 'Content-Type': 'text/csv' } } = {}) =>
  srv.api('POST', '/api/v1/channels/cdr/import', { token, body, headers });

test('CDR import: bad rows reported with line and column while good rows are kept; re-import = duplicates', async () => {
  const file = cdrCsv([
    CDR_HEADER,
    ['CDR-1', '4008001234', '13812345678', '2024-03-05 09:12:00', '320', 'ANSWERED', 'R1'],
    ['CDR-2', '4008001234', '13912345678', '2024-03-05 10:00:00', '-5', 'ANSWERED', 'R1'],
    ['CDR-3', '4008001234', '13712345678', '2024-03-05 11:00:00', '10', 'TELEPORTED', 'R1'],
    ['CDR-4', '4008001234', '13612345678', '2024-03-05 12:00:00', '0', 'NO ANSWER', ''],
    ['CDR-5', '4008001234', '13512345678', '2024-03-05 12:30:00', '40', 'ANSWERED', 'R404'],
  ]);
  let r = await cdrImport(file);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.rows, 5);
  assert.equal(r.json.accepted, 2);
  assert.equal(r.json.duplicates, 0);
  assert.deepEqual(r.json.rejected.map((x) => [x.line, x.column, x.field]),
    [[3, 5, 'duration'], [4, 6, 'disposition'], [6, 7, 'agent']]);
  assert.match(r.json.rejected[1].error, /ANSWERED/, 'the message lists the known dispositions');
  for (const x of r.json.rejected) assert.equal(typeof x.error, 'string');

  const [call] = await feed('cdr:CDR-1');
  assert.equal(call.channel, 'phone');
  assert.equal(call.outcome, 'effective', '320 s answered is effective by the default rules');
  assert.equal(call.duration_s, 320);
  assert.equal(call.rep.id, 'R1');
  assert.equal(call.source, 'cdr');
  const [missed] = await feed('cdr:CDR-4');
  assert.equal(missed.outcome, 'no_answer');
  const who = await srv.api('GET', '/api/v1/identities/resolve?kind=phone&value=13812345678', { token: admin });
  assert.equal(who.json.hcp, call.hcp, 'the doctor is named by the phone number called');

  r = await cdrImport(file);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.json.accepted, r.json.duplicates, r.json.rejected.length], [0, 2, 3]);
  assert.equal(await eventsLike('cdr:CDR-1'), 1);

  const audit = await srv.sql("SELECT COUNT(*) FROM audit_log WHERE action = 'cdr.import'");
  assert.ok(Number(audit) >= 1);
  assertError(await cdrImport(file, { token: rep.token }), 403);
  assertError(await cdrImport(cdrCsv([['caller', 'callee'], ['1', '2']])), 400);
  assertError(await cdrImport(file, { headers: { 'Content-Type': 'application/json' } }), 415);
});

test('CDR rules: stored for the channel and applied; a GBK file with Chinese headers', async () => {
  let r = await srv.api('PUT', '/api/v1/channels/cdr', { token: admin, body: { dispositions: { 已接通: 'answered', 未接通: 'no_answer', 忙: 'no_answer' }, successful_s: 20, effective_s: 60 } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.rules.effective_s, 60);
  r = await srv.api('PUT', '/api/v1/channels/cdr', { token: admin, body: { successful_s: 90 } });
  assert.equal(assertError(r, 400).detail.field, 'successful_s', 'successful_s above effective_s is refused');
  r = await srv.api('PUT', '/api/v1/channels/cdr', { token: admin, body: { dispositions: { 已接通: 'delighted' } } });
  assertError(r, 400);
  r = await srv.api('GET', '/api/v1/channels/cdr', { token: admin });
  assert.equal(r.json.settings.successful_s, 20, 'refused changes change nothing');

  const text = cdrCsv([
    ['通话ID', '主叫号码', '被叫号码', '开始时间', '通话时长', '呼叫结果', '坐席工号'],
    ['GBK-1', '4008001234', '13822223333', '2024-04-01 09:00:00', '75', '已接通', 'R1'],
    ['GBK-2', '4008001234', '13822224444', '2024-04-01 09:05:00', '0', '忙', 'R1'],
    ['GBK-3', '4008001234', '13822225555', '2024-04-01 09:07:00', '0', 'ANSWERED', 'R1'],
  ]);
  r = await cdrImport(gbk.encode(text), { headers: { 'Content-Type': 'text/csv; charset=gbk' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.encoding, 'gb18030');
  assert.equal(r.json.accepted, 2);
  assert.deepEqual(r.json.rejected.map((x) => [x.line, x.field]), [[4, 'disposition']], 'the defaults are replaced by the stored map');
  const [a] = await feed('cdr:GBK-1');
  assert.equal(a.outcome, 'effective', '75 s is effective under effective_s 60');
  assert.equal(a.props.disposition, '已接通');

  r = await srv.api('PUT', '/api/v1/channels/cdr', { token: admin, body: { dispositions: null, successful_s: null, effective_s: null } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.rules.dispositions.ANSWERED, 'answered', 'null puts the defaults back');
});

test('medreach import cdr FILE: the same import and report from the command line', async () => {
  const file = path.join(srv.dir, 'calls.csv');
  writeFileSync(file, cdrCsv([
    CDR_HEADER,
    ['CLI-1', '4008001234', '13866667777', '2024-05-01 09:00:00', '130', 'ANSWERED', 'R1'],
    ['CLI-2', '4008001234', '13866668888', '2024-05-01 09:10:00', '99999999', 'ANSWERED', 'R1'],
  ]));
  let r = await srv.cli(['import', 'cdr', file]);
  assert.equal(r.code, 1, `some rows were reported: ${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /cdr: 2 rows: 1 stored, 0 duplicates, 1 rejected/);
  assert.match(r.stderr, /line 3, column 5 \(duration\): /);
  r = await srv.cli(['import', 'cdr', file]);
  assert.match(r.stdout, /cdr: 2 rows: 0 stored, 1 duplicates, 1 rejected/);
  assert.equal(await eventsLike('cdr:CLI-'), 1);
  const [ev] = await feed('cdr:CLI-1');
  assert.equal(ev.outcome, 'effective', 'the server sees what the CLI stored');
  const audit = await srv.sql("SELECT COUNT(*) FROM audit_log WHERE action = 'cdr.import' AND login = 'cli'");
  assert.equal(audit, '2', 'each import audited once, with its first batch');
});

// Last: it leaves this address backing off, which would refuse later callbacks.
test('failed signatures from one address back off: 429 with Retry-After, before any check', async () => {
  let limited = null;
  for (let i = 0; i < 40 && !limited; i++) {
    const { res } = await wecomPost(contactXml('wmBackOff00000000001'), { token: 'not-the-token' });
    if (res.status === 429) limited = res;
    else assertError(res, 401);
  }
  assert.ok(limited, 'the back-off started within 40 failures');
  assertError(limited, 429);
  assert.ok(Number(limited.headers['retry-after']) >= 1);
  const good = await wecomPost(contactXml('wmBackOff00000000002'));
  assertError(good.res, 429, undefined, 'a good signature from the same address waits too');
  assert.equal(await eventsLike('wecom:change_external_contact:add_external_contact:wmBackOff'), 0);
});
