// bench/gen-events.mjs — events for the ingest benchmark, the same rows twice: NDJSON for
// medreach (POST /api/v1/events) and CSV for the peer (PostgreSQL COPY into a plain table).
//
//   node bench/gen-events.mjs WORLD_DIR N SEED OUT_PREFIX
//
// WORLD_DIR holds a demo world's CSV files (medreach demo --csv): doctors come from
// hcps.csv, reps from reps.csv. Writes OUT_PREFIX.ndjson and OUT_PREFIX.csv. Deterministic
// for a seed. Channels, outcomes and timing are plausible, not calibrated: the demo's own
// history generator (src/demo/history.c) is the calibrated one; here only volume matters.
import fs from 'node:fs';
import readline from 'node:readline';

const [dir, nArg, seedArg, out] = process.argv.slice(2);
if (!dir || !nArg || !out) {
  console.error('usage: node bench/gen-events.mjs WORLD_DIR N SEED OUT_PREFIX');
  process.exit(2);
}
const N = Number(nArg);
let s = BigInt(seedArg || 1) * 0x9e3779b97f4a7c15n;
function rnd() { // splitmix64 → [0, 1)
  s = (s + 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn;
  let z = s;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & 0xffffffffffffffffn;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & 0xffffffffffffffffn;
  z ^= z >> 31n;
  return Number(z >> 11n) / 2 ** 53;
}

async function column(file, name) {
  const rl = readline.createInterface({ input: fs.createReadStream(file) });
  const vals = [];
  let idx = -1;
  for await (const line of rl) {
    const f = line.replace(/^\ufeff/, '').split(',');
    if (idx < 0) { idx = f.indexOf(name); continue; }
    vals.push(f[idx]);
  }
  return vals;
}

const hcps = (await column(`${dir}/hcps.csv`, 'id')).filter((id) => id.startsWith('D'));
const reps = await column(`${dir}/reps.csv`, 'id');
const ladders = {
  phone: ['no_answer', 'answered', 'successful', 'effective'],
  wechat: ['sent', 'delivered', 'read', 'responded'],
  wecom: ['sent', 'delivered', 'read', 'responded'],
  meeting_online: ['invited', 'registered', 'attended'],
  visit: ['planned', 'completed'],
  email: ['sent', 'delivered', 'read', 'responded'],
  content: ['viewed', 'completed'],
};
const mix = [['phone', 0.3], ['wechat', 0.25], ['wecom', 0.1], ['meeting_online', 0.08], ['visit', 0.12],
  ['email', 0.1], ['content', 0.05]];
const t0 = Date.parse('2025-12-01T00:00:00Z');
const span = 365 * 86400e3;
const nd = fs.createWriteStream(`${out}.ndjson`);
const csv = fs.createWriteStream(`${out}.csv`);
csv.write('seq,eid,ts,hcp,channel,type,outcome,rep,content,duration_s\n');
for (let i = 1; i <= N; i++) {
  let r = rnd(), ch = mix[0][0];
  for (const [c, p] of mix) { if (r < p) { ch = c; break; } r -= p; }
  const ladder = ladders[ch];
  const outcome = ladder[Math.floor(rnd() * ladder.length)];
  const ts = new Date(t0 + Math.floor(rnd() * span)).toISOString().replace(/\.\d+Z$/, 'Z');
  const ev = { id: `b-${seedArg}-${i}`, ts, hcp: hcps[Math.floor(rnd() * hcps.length)], channel: ch, outcome };
  if (ch !== 'email' && ch !== 'content') ev.rep = reps[Math.floor(rnd() * reps.length)];
  if (ch === 'phone' && outcome !== 'no_answer') ev.duration_s = 30 + Math.floor(rnd() * 600);
  if (ch === 'wechat' || ch === 'content' || ch === 'email') ev.content = `C${String(1 + Math.floor(rnd() * 500)).padStart(5, '0')}`;
  const line = JSON.stringify(ev) + '\n';
  if (!nd.write(line)) await new Promise((ok) => nd.once('drain', ok));
  const row = [i, ev.id, ts, ev.hcp, ch, ch === 'phone' ? 'call' : 'message', outcome, ev.rep ?? '', ev.content ?? '', ev.duration_s ?? ''];
  if (!csv.write(row.join(',') + '\n')) await new Promise((ok) => csv.once('drain', ok));
}
nd.end();
csv.end();
await Promise.all([new Promise((ok) => nd.on('finish', ok)), new Promise((ok) => csv.on('finish', ok))]);
