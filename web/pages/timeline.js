// An HCP's interaction timeline (a section of the profile, hcp.js): every
// interaction on every channel, newest first (GET /hcps/{id}/timeline) —
// who (the rep and their type, or the source), what (channel and type),
// when (relative and exact, in the browser's zone), the outcome as a badge
// coloured by the rung reached, duration, content / meeting / campaign —
// with filters by channel and rep type (kept in the address), "load more"
// through next_cursor, and live updates: after loading, a long poll with
// after_seq and wait=25 brings new events in place, briefly highlighted,
// until the page is left (backing off after errors). Above it, a chart of
// the doctor's interactions per month by channel over the last 12 months,
// counted from the same timeline (its own, unfiltered pages).

import { api } from '../api.js';
import { h, timeEl, relTimeEl } from '../dom.js';
import { t, formatMonth, refreshRelative } from '../i18n.js';
import { showError } from '../banner.js';
import { loadEcharts, mountChart } from '../chart.js';
import { REP_TYPES, cardHead, countEl, errorCard, enumEl } from './md.js';
import {
  CHANNELS, CHANNEL_COLORS, outcomeBadge, channelIcon, durationEl, whoEl, typeEl,
  liveBadge, sleep, backoffMs, gone,
} from './ev.js';

const PAGE = 25;
const POLL_LIMIT = 50;
const POLL_WAIT_S = 25;
const CHART_MONTHS = 12;
const CHART_PAGE = 200;
const CHART_MAX_PAGES = 10; // at most 2,000 events counted
const HIGHLIGHT_MS = 4000;

const enc = encodeURIComponent;

/** (ts, seq) order, newest first, as the server sorts the timeline. */
function newerFirst(a, b) {
  const ta = Date.parse(a.ts);
  const tb = Date.parse(b.ts);
  if (ta !== tb) return tb - ta;
  return b.seq - a.seq;
}

function extras(ev) {
  const out = [];
  if (ev.content) out.push(h('span', { class: 'tl-ref', dataset: { ref: 'content' }, i18n: 'tl.content', i18nArgs: { id: ev.content } }));
  if (ev.meeting) out.push(h('span', { class: 'tl-ref', dataset: { ref: 'meeting' }, i18n: 'tl.meeting', i18nArgs: { id: ev.meeting } }));
  if (ev.campaign) out.push(h('span', { class: 'tl-ref', dataset: { ref: 'campaign' }, i18n: 'tl.campaign', i18nArgs: { id: ev.campaign } }));
  const report = ev.props && typeof ev.props.report === 'string' ? ev.props.report : null;
  if (report) {
    out.push(h('button', {
      type: 'button', class: 'link-btn tl-ref', dataset: { ref: 'report', report }, i18n: 'tl.report', i18nArgs: { id: report },
      on: {
        click: () => {
          const el = document.getElementById(`report-${report}`);
          if (el) {
            el.scrollIntoView({ block: 'center' });
            el.classList.remove('flash');
            void el.offsetWidth; // restart the highlight
            el.classList.add('flash');
          }
        },
      },
    }));
  }
  return out;
}

/** One event of the timeline. */
function eventItem(ev) {
  const meta = [whoEl(ev), ...extras(ev)];
  return h('li', {
    class: 'tl-item',
    dataset: { seq: String(ev.seq), id: ev.id || '', channel: ev.channel || '', outcome: ev.outcome || '', ts: ev.ts || '' },
  },
  channelIcon(ev.channel),
  h('div', { class: 'tl-body' },
    h('div', { class: 'tl-what' },
      h('strong', { class: 'tl-channel' }, enumEl('evchannel', ev.channel)),
      ev.type && ev.type !== ev.channel ? h('span', { class: 'tl-type muted' }, typeEl(ev.type)) : null, // not "visit · visit"
      outcomeBadge(ev.channel, ev.outcome),
      ev.duration_s !== null && ev.duration_s !== undefined ? h('span', { class: 'tl-duration muted' }, durationEl(ev.duration_s)) : null),
    h('div', { class: 'tl-meta' }, meta.flatMap((m, i) => (i ? [h('span', { class: 'sep', text: '·' }), m] : [m])))),
  h('div', { class: 'tl-when' }, relTimeEl(ev.ts), timeEl(ev.ts, 'minutes')));
}

/* ---------- the chart: interactions per month by channel ---------- */

/** The first instant of the month 11 months before now's, in the browser's zone. */
function windowStart(now = new Date()) {
  return new Date(now.getFullYear(), now.getMonth() - (CHART_MONTHS - 1), 1);
}

function monthKeys(now = new Date()) {
  const start = windowStart(now);
  const keys = [];
  for (let i = 0; i < CHART_MONTHS; i++) {
    const d = new Date(start.getFullYear(), start.getMonth() + i, 1);
    keys.push({ key: `${d.getFullYear()}-${d.getMonth() + 1}`, y: d.getFullYear(), m: d.getMonth() + 1 });
  }
  return keys;
}

function monthOf(iso) {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth() + 1}`;
}

function chartCard(ctx, hcpId) {
  const chartEl = h('div', { class: 'chart chart-small', id: 'timeline-chart', role: 'img', i18nAttr: { 'aria-label': 'tl.chart_title' } });
  const empty = h('p', { class: 'muted', id: 'timeline-chart-empty', hidden: true, i18n: 'tl.chart_empty' });
  const capped = h('p', { class: 'muted small', id: 'timeline-chart-note', hidden: true });
  const el = h('div', { class: 'tl-chart' }, h('h3', { i18n: 'tl.chart_title' }), empty, chartEl, capped);
  const counts = new Map(); // "2025-3" → {channel: n}
  const seen = new Set();   // seqs counted
  let chart = null;
  let start = windowStart();

  function add(ev) {
    if (seen.has(ev.seq)) return false;
    const ts = Date.parse(ev.ts);
    if (!(ts >= start.getTime()) || ts > Date.now() + 86400000) return false;
    seen.add(ev.seq);
    const key = monthOf(ev.ts);
    const m = counts.get(key) || {};
    m[ev.channel] = (m[ev.channel] || 0) + 1;
    counts.set(key, m);
    return true;
  }

  function option() {
    const months = monthKeys();
    const used = CHANNELS.filter((ch) => months.some((mk) => (counts.get(mk.key) || {})[ch]));
    return {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      legend: { type: 'scroll', bottom: 0 },
      grid: { left: 36, right: 12, top: 12, bottom: 52 },
      xAxis: { type: 'category', data: months.map((mk) => formatMonth(mk.y, mk.m)) },
      yAxis: { type: 'value', minInterval: 1 },
      series: used.map((ch) => ({
        name: t(`evchannel.${ch}`), type: 'bar', stack: 'all', emphasis: { focus: 'series' },
        itemStyle: { color: CHANNEL_COLORS[ch] },
        data: months.map((mk) => (counts.get(mk.key) || {})[ch] || 0),
      })),
    };
  }

  function draw() {
    const any = seen.size > 0;
    empty.hidden = any;
    chartEl.hidden = !any;
    if (chart && !chart.isDisposed()) {
      chart.setOption(option(), { notMerge: true });
      if (any) chart.resize();
    }
  }

  async function load() {
    const charts = loadEcharts();
    charts.catch(() => {}); // reported by mountChart, once the data is in
    start = windowStart();
    let cursor = null;
    let pages = 0;
    try {
      do {
        const res = await api.get(`/hcps/${enc(hcpId)}/timeline`, {
          query: { from: start.toISOString(), limit: CHART_PAGE, cursor }, signal: ctx.signal, quiet: true,
        });
        for (const ev of (res && res.items) || []) add(ev);
        cursor = res && res.next_cursor;
        pages += 1;
      } while (cursor && pages < CHART_MAX_PAGES);
    } catch (err) {
      if (err.code !== 'aborted') el.replaceChildren(h('h3', { i18n: 'tl.chart_title' }), errorCard('tl.load_failed', err));
      return;
    }
    if (cursor) {
      capped.replaceChildren(countEl('tl.chart_capped', seen.size));
      capped.hidden = false;
    }
    chart = await mountChart(ctx, chartEl, option, charts);
    draw();
  }

  return {
    el,
    load,
    /** Counts events that arrived live; redraws when any was new. */
    addLive(items) {
      let changed = false;
      for (const ev of items) changed = add(ev) || changed;
      if (changed) draw();
    },
  };
}

/* ---------- the timeline ---------- */

function checkGroup(legendKey, name, values, prefix, chosen) {
  return h('fieldset', { class: 'check-group', dataset: { group: name } },
    h('legend', { class: 'field-label', i18n: legendKey }),
    values.map((v) => h('label', { class: 'check chip-check', dataset: { value: v } },
      h('input', { type: 'checkbox', name, value: v, checked: chosen.includes(v) }),
      h('span', { i18n: `${prefix}.${v}` }))));
}

function listParam(query, name, allowed) {
  const v = query.get(name);
  return v ? v.split(',').filter((x) => allowed.includes(x)) : [];
}

/**
 * The timeline section for the doctor st.hcp (hcp.js). Returns {el, start}:
 * start() loads the chart and the first page, then keeps the list live.
 */
export function timelineCard(ctx, st) {
  const live = liveBadge('timeline-live');
  const chart = chartCard(ctx, st.hcp.id);
  const list = h('ol', { class: 'timeline', id: 'timeline-list' });
  const more = h('button', { type: 'button', class: 'btn', id: 'timeline-more', i18n: 'md.load_more', hidden: true });
  const count = h('span', { class: 'muted', id: 'timeline-count' });
  const chosen = {
    channel: listParam(ctx.query, 'channel', CHANNELS),
    rep_type: listParam(ctx.query, 'rep_type', REP_TYPES),
  };
  const clear = h('button', { type: 'button', class: 'btn btn-small btn-ghost', id: 'timeline-clear', i18n: 'tl.filter_clear' });
  const filters = h('form', { class: 'tl-filters', id: 'timeline-filters' },
    checkGroup('tl.filter_channel', 'channel', CHANNELS, 'evchannel', chosen.channel),
    checkGroup('tl.filter_rep_type', 'rep_type', REP_TYPES, 'reptype', chosen.rep_type),
    h('div', { class: 'tl-filter-actions' }, clear));
  const body = h('div', { class: 'tl-list-wrap' }, list, h('div', { class: 'pager' }, count, more));
  const el = h('section', { class: 'card', id: 'hcp-timeline' },
    cardHead('tl.title', live.el),
    chart.el, filters, body);

  const s = {
    items: [],      // shown, newest first
    cursor: null,   // next page, or null
    after: 0,       // the seq the long poll waits past
    gen: 0,         // bumped by a reload: answers of an older one are dropped
    poll: null,     // AbortController of the running long poll
  };

  function query() {
    return {
      channel: chosen.channel.join(','),
      rep_type: chosen.rep_type.join(','),
    };
  }
  const filtered = () => chosen.channel.length > 0 || chosen.rep_type.length > 0;

  function drawCount() {
    count.replaceChildren(countEl('tl.count', s.items.length));
    more.hidden = !s.cursor;
    clear.hidden = !filtered();
  }

  function drawAll() {
    if (!s.items.length) {
      list.replaceChildren(h('li', { class: 'tl-empty muted', i18n: filtered() ? 'tl.empty_filtered' : 'tl.empty' }));
    } else {
      list.replaceChildren(...s.items.map(eventItem));
    }
    drawCount();
  }

  /** Puts items that arrived live in their place, highlighted. */
  function insertLive(items) {
    const fresh = items.filter((ev) => !s.items.some((x) => x.seq === ev.seq)).sort(newerFirst);
    if (!fresh.length) return;
    if (!s.items.length) list.replaceChildren();
    for (const ev of fresh) {
      let at = s.items.findIndex((x) => newerFirst(ev, x) < 0);
      if (at < 0) {
        if (s.cursor) continue; // older than all shown: "load more" brings it
        at = s.items.length;
      }
      const li = eventItem(ev);
      li.classList.add('tl-new');
      setTimeout(() => li.classList.remove('tl-new'), HIGHLIGHT_MS);
      if (at < s.items.length) list.children[at].before(li);
      else list.append(li);
      s.items.splice(at, 0, ev);
    }
    drawCount();
  }

  async function pollLoop(gen, signal) {
    let failures = 0;
    while (!signal.aborted && gen === s.gen) {
      const t0 = Date.now();
      live.set('live'); // listening (again); 'retry' while waiting out a failure
      try {
        const res = await api.get(`/hcps/${enc(st.hcp.id)}/timeline`, {
          query: { ...query(), after_seq: s.after, wait: POLL_WAIT_S, limit: POLL_LIMIT }, signal, quiet: true,
        });
        if (gen !== s.gen) return;
        failures = 0;
        const items = (res && res.items) || [];
        if (res && res.next_cursor) { // more arrived than one answer holds: start again
          load();
          return;
        }
        for (const ev of items) if (ev.seq > s.after) s.after = ev.seq;
        if (items.length) {
          insertLive(items);
          chart.addLive(items);
        } else if (Date.now() - t0 < 1000) {
          // an answer that did not wait: after_seq=0 (an empty event log) cannot be waited on,
          // so ask again shortly; anything else odd, less often; never spin
          await sleep(s.after ? 5000 : 2000, signal);
        }
      } catch (err) {
        if (err.code === 'aborted' || gen !== s.gen || signal.aborted) return;
        if (err.status === 401) return; // the app signs the user out
        if (gone(err)) { // e.g. the doctor is no longer ours to see: trying again will not help
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

  function startPoll(gen) {
    if (s.poll) s.poll.abort();
    s.poll = new AbortController();
    pollLoop(gen, s.poll.signal);
  }

  async function load(append = false) {
    if (!append) {
      s.gen += 1;
      if (s.poll) s.poll.abort();
      list.dataset.state = 'loading';
    }
    const gen = s.gen;
    more.disabled = true;
    try {
      const res = await api.get(`/hcps/${enc(st.hcp.id)}/timeline`, {
        query: { ...query(), limit: PAGE, cursor: append ? s.cursor : null }, signal: ctx.signal, quiet: true,
      });
      if (gen !== s.gen) return;
      const items = (res && res.items) || [];
      if (append) {
        const fresh = items.filter((ev) => !s.items.some((x) => x.seq === ev.seq));
        s.items.push(...fresh);
        list.querySelector('.tl-empty')?.remove();
        list.append(...fresh.map(eventItem));
        s.cursor = (res && res.next_cursor) || null;
        drawCount();
        return;
      }
      s.items = items;
      s.cursor = (res && res.next_cursor) || null;
      s.after = (res && res.last_seq) || 0;
      for (const ev of items) if (ev.seq > s.after) s.after = ev.seq;
      drawAll();
      startPoll(gen);
    } catch (err) {
      if (err.code === 'aborted' || gen !== s.gen) return;
      if (append) showError(err);
      else list.replaceChildren(h('li', { class: 'tl-error' }, errorCard('tl.load_failed', err)));
    } finally {
      more.disabled = false;
      if (gen === s.gen) delete list.dataset.state;
    }
  }

  more.addEventListener('click', () => load(true));
  filters.addEventListener('change', () => {
    chosen.channel = [...filters.querySelectorAll('input[name="channel"]:checked')].map((i) => i.value);
    chosen.rep_type = [...filters.querySelectorAll('input[name="rep_type"]:checked')].map((i) => i.value);
    ctx.setQuery(query());
    load();
  });
  clear.addEventListener('click', () => {
    for (const input of filters.querySelectorAll('input[type="checkbox"]')) input.checked = false;
    filters.dispatchEvent(new Event('change'));
  });
  filters.addEventListener('submit', (e) => e.preventDefault());

  // relative times (here and in the rest of the profile) move on while the page stays open
  const tick = setInterval(() => refreshRelative(el.closest('.page') || el), 30000);
  ctx.onCleanup(() => {
    clearInterval(tick);
    s.gen += 1;
    if (s.poll) s.poll.abort();
  });

  return {
    el,
    start() {
      drawCount();
      chart.load();
      load();
    },
  };
}
