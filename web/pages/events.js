// Events (admin, marketing): upload a file of interaction events — NDJSON,
// one JSON event a line, plain or gzip — to POST /api/v1/events with the
// upload's progress, then the server's line-level report: lines, accepted,
// duplicates (an event id seen before) and rejected, with a chart and a
// table of the rejected lines (line, field, column, reason), like the
// master-data import. Below, the change feed live: the latest events
// (GET /events/feed), then each new one as it is written (a long poll with
// wait=25), until the page is left or paused.

import { api, uploadWithProgress } from '../api.js';
import { h, tr, timeEl } from '../dom.js';
import { t } from '../i18n.js';
import { mountChart } from '../chart.js';
import { field, dataTable, emptyRow } from '../widgets.js';
import { numEl, countEl, refreshNumbers, errorCard, cardHead, hcpHref, textEl } from './md.js';
import { channelTag, outcomeBadge, typeEl, whoEl, sourceEl, liveBadge, sleep, backoffMs, gone } from './ev.js';

const MAX_BYTES = 256 * 1024 * 1024;
const STATS = ['lines', 'accepted', 'duplicates', 'rejected'];
const COLORS = { accepted: '#1a7f37', duplicates: '#8c959f', rejected: '#c62828' };
const REJECT_COLUMNS = ['line', 'field', 'column', 'error'];
const FEED_COLUMNS = ['seq', 'ts', 'hcp', 'channel', 'type', 'outcome', 'who', 'source'];
const FEED_SHOWN = 50;
const FEED_LIMIT = 200;
const FEED_WAIT_S = 25;
const HIGHLIGHT_MS = 4000;
const EXAMPLE = '{"id":"ev-123","ts":"2024-03-05T09:12:00+08:00","hcp":"D0000123","channel":"phone","type":"call","outcome":"effective","rep":"R0042","duration_s":320}';

/* ---------- upload and its report ---------- */

const statValue = (report, k) => (k === 'rejected' ? report.rejected_total || 0 : report[k] || 0);

function chartOption(report) {
  const data = ['accepted', 'duplicates', 'rejected'].map((k) => ({
    name: t(`events.stat.${k}`), value: statValue(report, k), itemStyle: { color: COLORS[k] },
  }));
  return {
    tooltip: { trigger: 'item', formatter: '{b}: {c} ({d}%)' },
    legend: { bottom: 0 },
    series: [{
      type: 'pie', radius: ['45%', '72%'], center: ['50%', '45%'], avoidLabelOverlap: true,
      label: { formatter: '{b}\n{c}' },
      data: data.filter((d) => d.value > 0),
    }],
  };
}

function drawChart(ctx, el, report) {
  return mountChart(ctx, el, () => chartOption(report));
}

function resultCard(ctx, fileName, report) {
  const stats = STATS.map((k) => h('div', { class: `stat stat-${k}`, dataset: { stat: k } },
    h('div', { class: 'stat-value' }, numEl(statValue(report, k))),
    h('div', { class: 'stat-label', i18n: `events.stat.${k}` })));
  const chartEl = h('div', { class: 'chart chart-small', id: 'events-chart', role: 'img', i18nAttr: { 'aria-label': 'events.chart' } });
  const { table, tbody } = dataTable('events.rej', REJECT_COLUMNS);
  table.id = 'events-rejected';
  const rejected = report.rejected || [];
  tbody.replaceChildren(...(rejected.length ? rejected.map((r) => h('tr', { dataset: { line: r.line } },
    h('td', { class: 'num-cell' }, numEl(r.line)),
    h('td', {}, r.field ? h('code', { text: r.field }) : ''),
    h('td', { class: 'num-cell' }, r.column ? numEl(r.column) : ''),
    h('td', { class: 'error-message', text: r.error || '' }))) : [emptyRow(REJECT_COLUMNS.length, 'events.no_rejected')]));
  const total = report.rejected_total || 0;
  const truncated = total > rejected.length
    ? h('p', { class: 'note' }, countEl('events.rejected_truncated', total, { shown: rejected.length }))
    : null;
  const card = h('section', { class: 'card', id: 'events-result' },
    cardHead('events.result', h('span', { class: 'muted', text: fileName })),
    h('p', { class: total > 0 ? 'note note-warn' : 'note note-ok', id: 'events-outcome' },
      h('span', { i18n: total > 0 ? 'events.outcome_partial' : 'events.outcome_ok' }), ' ',
      countEl('events.took', report.took_ms || 0)),
    h('div', { class: 'import-summary' }, h('div', { class: 'stats' }, stats), report.lines > 0 ? chartEl : null),
    h('h3', {}, tr('events.rejected_title'), ' ', h('span', { class: 'badge' }, numEl(total))),
    truncated,
    h('div', { class: 'table-wrap' }, table));
  if (report.lines > 0) setTimeout(() => drawChart(ctx, chartEl, report), 0);
  return card;
}

/** gzip starts with 1f 8b, whatever the file is called. */
async function isGzip(file) {
  try {
    const b = new Uint8Array(await file.slice(0, 2).arrayBuffer());
    return b.length === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } catch {
    return /\.gz$/i.test(file.name);
  }
}

function uploadCard(ctx) {
  const resultSlot = h('div', { id: 'events-result-slot' });
  const file = h('input', {
    type: 'file', name: 'file', id: 'events-file', required: true,
    accept: '.ndjson,.jsonl,.json,.txt,.gz,application/x-ndjson,application/gzip',
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'events-submit', i18n: 'events.submit' });
  const bar = h('progress', { id: 'events-progress', max: '100' });
  const barText = h('span', { class: 'muted', id: 'events-progress-text' });
  const progress = h('div', { class: 'upload-progress', id: 'events-busy', hidden: true }, bar, barText);
  const form = h('form', { class: 'form-grid', id: 'events-form' },
    field('events.file', file, { hint: h('small', { class: 'muted', i18n: 'events.file_hint' }) }),
    h('div', { class: 'form-actions' }, submit));
  let previous = null;

  function setProgress(p, name) {
    if (p.phase === 'upload' && p.total > 0) {
      const pct = Math.min(100, Math.round((p.loaded / p.total) * 100));
      bar.value = pct;
      barText.replaceChildren(tr('events.uploading', { name, pct }));
    } else if (p.phase === 'processing') {
      bar.removeAttribute('value'); // indeterminate while the server works
      barText.replaceChildren(tr('events.processing', { name }));
    }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = file.files && file.files[0];
    if (!f) {
      resultSlot.replaceChildren(h('p', { class: 'form-error', role: 'alert', i18n: 'events.choose_file' }));
      return;
    }
    if (f.size > MAX_BYTES) {
      resultSlot.replaceChildren(h('p', { class: 'form-error', role: 'alert', i18n: 'events.too_big' }));
      return;
    }
    submit.disabled = true;
    submit.dataset.i18n = 'events.busy';
    submit.textContent = t('events.busy');
    if (previous && previous.dispose) previous.dispose();
    resultSlot.replaceChildren();
    bar.value = 0;
    setProgress({ phase: 'upload', loaded: 0, total: f.size || 1 }, f.name);
    progress.hidden = false;
    try {
      const gz = await isGzip(f);
      const report = await uploadWithProgress('/events', f, {
        type: 'application/x-ndjson', encoding: gz ? 'gzip' : null, signal: ctx.signal, quiet: true,
        onProgress: (p) => setProgress(p, f.name),
      });
      const card = resultCard(ctx, f.name, report || {});
      previous = card.querySelector('#events-chart');
      resultSlot.replaceChildren(card);
      ctx.notify('events.done', { n: (report && report.accepted) || 0 });
    } catch (err) {
      if (err.code !== 'aborted') resultSlot.replaceChildren(errorCard('events.failed', err));
    } finally {
      progress.hidden = true;
      submit.disabled = false;
      submit.dataset.i18n = 'events.submit';
      submit.textContent = t('events.submit');
    }
  });

  const card = h('section', { class: 'card', id: 'events-upload' },
    h('p', { class: 'muted', i18n: 'events.intro' }),
    form, progress,
    h('details', { class: 'subform' }, h('summary', { i18n: 'events.format_title' }),
      h('p', { class: 'muted small', i18n: 'events.format' }),
      h('pre', { class: 'example' }, h('code', { text: EXAMPLE }))));
  return { card, resultSlot };
}

/* ---------- the change feed, live ---------- */

/** The newest seq in the feed: every feed answer carries it as head_seq. */
async function feedHead(signal) {
  const res = await api.get('/events/feed', { query: { after: 0, limit: 1 }, signal, quiet: true });
  return (res && res.head_seq) || 0;
}

function feedRow(ev) {
  return h('tr', { dataset: { seq: String(ev.seq), id: ev.id || '' } },
    h('td', { class: 'num-cell' }, numEl(ev.seq)),
    h('td', {}, timeEl(ev.ts, 'seconds')),
    h('td', {}, ev.hcp ? h('a', { href: hcpHref(ev.hcp), text: ev.hcp }) : textEl(null)),
    h('td', {}, channelTag(ev.channel)),
    h('td', {}, typeEl(ev.type)),
    h('td', {}, outcomeBadge(ev.channel, ev.outcome)),
    h('td', {}, whoEl(ev)),
    h('td', {}, sourceEl(ev.source)));
}

function feedCard(ctx) {
  const live = liveBadge('feed-live');
  const { table, tbody } = dataTable('events.feed', FEED_COLUMNS);
  table.id = 'feed-table';
  const count = h('span', { class: 'muted', id: 'feed-count' });
  const pause = h('button', { type: 'button', class: 'btn btn-small', id: 'feed-pause', i18n: 'events.feed_pause' });
  const card = h('section', { class: 'card', id: 'events-feed' },
    cardHead('events.feed_title', h('div', { class: 'card-tools' }, live.el, pause)),
    h('p', { class: 'muted small', i18n: 'events.feed_intro' }),
    h('div', { class: 'table-wrap' }, table),
    h('div', { class: 'pager' }, count));
  const s = { after: 0, shown: 0, paused: false, poll: null, started: false };

  function prepend(items, highlight) {
    if (!items.length) return;
    if (!s.shown) tbody.replaceChildren();
    const rows = items.slice().sort((a, b) => b.seq - a.seq).map(feedRow);
    if (highlight) {
      for (const tr2 of rows) {
        tr2.classList.add('row-new');
        setTimeout(() => tr2.classList.remove('row-new'), HIGHLIGHT_MS);
      }
    }
    tbody.prepend(...rows);
    while (tbody.children.length > FEED_SHOWN) tbody.lastElementChild.remove();
    s.shown = tbody.querySelectorAll('tr[data-seq]').length;
    count.replaceChildren(countEl('events.feed_count', s.shown));
  }

  async function loop(signal) {
    let failures = 0;
    while (!signal.aborted) {
      const t0 = Date.now();
      live.set('live'); // listening (again); 'retry' while waiting out a failure
      try {
        const res = await api.get('/events/feed', {
          query: { after: s.after, limit: FEED_LIMIT, wait: FEED_WAIT_S }, signal, quiet: true,
        });
        failures = 0;
        const items = (res && res.items) || [];
        if (res && res.last_seq > s.after) s.after = res.last_seq;
        // a burst bigger than the table shows: only its tail is worth drawing
        prepend(items.slice(-FEED_SHOWN), true);
        if (items.length === FEED_LIMIT) { // far behind (a big upload): skip to the newest
          const head = await feedHead(signal);
          s.after = Math.max(s.after, head - FEED_SHOWN);
        }
        if (!items.length && Date.now() - t0 < 1000) await sleep(5000, signal);
      } catch (err) {
        if (err.code === 'aborted' || signal.aborted) return;
        if (err.status === 401) return;
        if (gone(err)) {
          live.set('off');
          return;
        }
        failures += 1;
        const ms = backoffMs(failures);
        live.set('retry', Math.round(ms / 1000));
        await sleep(ms, signal);
      }
    }
  }

  function run() {
    if (s.poll) s.poll.abort();
    s.poll = new AbortController();
    loop(s.poll.signal);
  }

  async function start() {
    try {
      const head = await feedHead(ctx.signal);
      const from = Math.max(0, head - FEED_SHOWN);
      const res = await api.get('/events/feed', { query: { after: from, limit: FEED_LIMIT }, signal: ctx.signal, quiet: true });
      const items = (res && res.items) || [];
      s.after = Math.max(head, (res && res.last_seq) || 0);
      if (items.length) prepend(items, false);
      else {
        tbody.replaceChildren(emptyRow(FEED_COLUMNS.length, 'events.feed_empty'));
        count.replaceChildren(countEl('events.feed_count', 0));
      }
    } catch (err) {
      if (err.code !== 'aborted') tbody.replaceChildren(h('tr', {}, h('td', { colspan: FEED_COLUMNS.length }, errorCard('events.feed_failed', err))));
      return;
    }
    s.started = true;
    if (!s.paused) run();
  }

  pause.addEventListener('click', () => {
    s.paused = !s.paused;
    pause.dataset.i18n = s.paused ? 'events.feed_resume' : 'events.feed_pause';
    pause.textContent = t(pause.dataset.i18n);
    if (s.paused) {
      if (s.poll) s.poll.abort();
      live.set('paused');
    } else if (s.started) run();
  });
  ctx.onCleanup(() => { if (s.poll) s.poll.abort(); });

  return { card, start };
}

export function render(ctx) {
  const feed = feedCard(ctx);
  const upload = uploadCard(ctx);
  const page = h('div', { class: 'page events' },
    h('div', { class: 'page-head' }, h('h1', { i18n: 'events.title' })),
    upload.card,
    upload.resultSlot,
    feed.card);
  ctx.onLang(() => refreshNumbers(page));
  feed.start();
  return page;
}
