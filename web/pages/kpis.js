// The KPI dashboard (every role; a rep sees their own doctors' numbers):
// for a period (the last 30, 90 or 365 days, this year, or from/to dates),
// from GET /api/v1/analytics/kpis — the phone funnel (calls → answered →
// successful → effective), the monthly trends of the rates, a breakdown by
// city tier, region or specialty (bars, then a table of every figure), and
// field versus inside reps side by side (group_by=rep.type). Charts first;
// the numbers on hover and in the tables. The period and the breakdown live
// in the URL (#/kpis?from=…&to=…&by=…), so a view can be shared.

import { api } from '../api.js';
import { h } from '../dom.js';
import { t, getLang } from '../i18n.js';
import { loadEcharts, mountChart } from '../chart.js';
import { field, dataTable, emptyRow } from '../widgets.js';

const DAY_MS = 86400000;
const PRESETS = ['30', '90', '365', 'year', 'custom'];
const BREAKDOWNS = ['hco.city_tier', 'region', 'specialty'];
const FUNNEL = ['calls', 'answered', 'successful', 'effective'];
const PHONE_RATES = ['answer_rate', 'successful_rate', 'effective_rate'];
// The rates drawn as trends and compared between rep types: [section, rate, label key].
const RATES = [
  ['phone', 'answer_rate', 'kpis.rate.answer'],
  ['phone', 'successful_rate', 'kpis.rate.successful'],
  ['phone', 'effective_rate', 'kpis.rate.effective'],
  ['wechat', 'response_rate', 'kpis.rate.wechat_response'],
  ['meeting_online', 'participation_rate', 'kpis.rate.meeting_participation'],
];
const REP_TYPES = ['field', 'inside'];
const TABLE_COLUMNS = ['group', 'calls', 'answered', 'successful', 'effective', 'answer_rate', 'successful_rate',
  'effective_rate', 'wechat_response', 'meeting_participation', 'visits', 'targeted', 'reached', 'coverage', 'frequency'];
const COLORS = ['#1f6feb', '#2da44e', '#bf8700', '#8250df', '#cf222e', '#0a7f86'];

/* ---------- numbers ---------- */

const nf = () => new Intl.NumberFormat(getLang() === 'zh' ? 'zh-CN' : 'en-US');
const num = (n) => (n === null || n === undefined ? '—' : nf().format(n));
const pct = (x) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`);
const pctValue = (x) => (x === null || x === undefined ? null : Math.round(x * 1000) / 10);
const freq = (x) => (x === null || x === undefined ? '—' : x.toFixed(2));

/** The local date "YYYY-MM-DD" of a time (ms), in Shanghai (the server's calendar). */
const ymd = (ms) => new Date(ms + 8 * 3600 * 1000).toISOString().slice(0, 10);

/** from/to dates of a preset; 'custom' keeps the given ones. */
function presetRange(preset, now = Date.now()) {
  const to = ymd(now);
  if (preset === 'year') return { from: `${to.slice(0, 4)}-01-01`, to };
  const days = Number(preset) || 365;
  return { from: ymd(now - (days - 1) * DAY_MS), to };
}

/** The label of a group key of dimension dim (translated when it is one of ours). */
function keyLabel(dim, value) {
  if (value === null || value === undefined) return t(dim === 'rep.type' ? 'kpis.no_rep' : 'kpis.none');
  if (dim === 'hco.city_tier') return t('kpis.tier', { n: value });
  if (dim === 'rep.type') return t(`kpis.rep_type.${value}`);
  if (dim === 'month') {
    const [y, m] = value.split('-').map(Number);
    return new Intl.DateTimeFormat(getLang() === 'zh' ? 'zh-CN' : 'en-US', { year: 'numeric', month: 'short' })
      .format(new Date(y, m - 1, 1));
  }
  return value;
}

/* ---------- charts ---------- */

function funnelOption(total) {
  const phone = total.phone || {};
  const data = FUNNEL.map((k) => ({ name: t(`kpis.funnel.${k}`), value: phone[k] || 0 }));
  return {
    color: COLORS,
    tooltip: {
      trigger: 'item',
      formatter: (p) => {
        const i = FUNNEL.indexOf(FUNNEL[p.dataIndex]);
        const rate = i > 0 ? phone[PHONE_RATES[i - 1]] : null;
        return `${p.name}: ${num(p.value)}${i > 0 ? ` (${t(`kpis.rate.${['answer', 'successful', 'effective'][i - 1]}`)} ${pct(rate)})` : ''}`;
      },
    },
    series: [{
      type: 'funnel', left: '10%', width: '80%', top: 8, bottom: 8, minSize: '20%', sort: 'none', gap: 2,
      label: { show: true, position: 'inside', formatter: (p) => `${p.name}\n${num(p.value)}` },
      data,
    }],
  };
}

function trendOption(groups) {
  const months = groups.map((g) => keyLabel('month', g.key.month));
  return {
    color: COLORS,
    tooltip: { trigger: 'axis', valueFormatter: (v) => (v === null || v === undefined ? '—' : `${v}%`) },
    legend: { type: 'scroll', bottom: 0 },
    grid: { left: 48, right: 16, top: 16, bottom: 56 },
    xAxis: { type: 'category', data: months },
    yAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
    series: RATES.map(([sec, rate, label]) => ({
      name: t(label), type: 'line', connectNulls: false, showSymbol: true,
      data: groups.map((g) => pctValue(g[sec] && g[sec][rate])),
    })),
  };
}

function breakdownOption(dim, groups) {
  return {
    color: COLORS,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v) => (v === null || v === undefined ? '—' : `${v}%`) },
    legend: { type: 'scroll', bottom: 0 },
    grid: { left: 48, right: 16, top: 16, bottom: 72 },
    xAxis: { type: 'category', data: groups.map((g) => keyLabel(dim, g.key[dim])), axisLabel: { interval: 0, rotate: groups.length > 8 ? 30 : 0 } },
    yAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
    series: [
      ...PHONE_RATES.map((rate, i) => ({
        name: t(RATES[i][2]), type: 'bar', data: groups.map((g) => pctValue(g.phone && g.phone[rate])),
      })),
      { name: t('kpis.col.coverage'), type: 'bar', data: groups.map((g) => pctValue(g.reach.coverage)) },
    ],
  };
}

function repTypeOption(groups) {
  const byType = Object.fromEntries(groups.map((g) => [g.key['rep.type'], g]));
  const metrics = [...RATES.map(([sec, rate, label]) => [label, (g) => g[sec] && g[sec][rate]]),
    ['kpis.rate.offline_participation', (g) => g.meeting_offline && g.meeting_offline.participation_rate],
    ['kpis.col.coverage', (g) => g.reach.coverage]];
  return {
    color: ['#1f6feb', '#2da44e'],
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v) => (v === null || v === undefined ? '—' : `${v}%`) },
    legend: { bottom: 0 },
    grid: { left: 48, right: 16, top: 16, bottom: 72 },
    xAxis: { type: 'category', data: metrics.map(([label]) => t(label)), axisLabel: { interval: 0, rotate: 20 } },
    yAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
    series: REP_TYPES.map((type) => ({
      name: t(`kpis.rep_type.${type}`), type: 'bar',
      data: metrics.map(([, get]) => (byType[type] ? pctValue(get(byType[type])) : null)),
    })),
  };
}

/** Draws option() into el, replacing what was drawn there before. */
function redraw(ctx, el, option, charts) {
  if (el.dispose) el.dispose();
  return mountChart(ctx, el, option, charts);
}

/* ---------- tables ---------- */

/** One row of figures: the group's label cell, then its numbers. */
function figuresRow(labelCell, g) {
  const p = g.phone || {};
  const cells = [
    num(p.calls), num(p.answered), num(p.successful), num(p.effective),
    pct(p.answer_rate), pct(p.successful_rate), pct(p.effective_rate),
    pct(g.wechat && g.wechat.response_rate), pct(g.meeting_online && g.meeting_online.participation_rate),
    num(g.visits && g.visits.completed),
    num(g.reach.hcps_targeted), num(g.reach.hcps_reached), pct(g.reach.coverage), freq(g.reach.frequency),
  ];
  return h('tr', {}, labelCell, cells.map((c) => h('td', { class: 'num', text: c })));
}

/** A label cell that re-translates itself: a translated key, or a value shown as it is. */
function labelCell(dim, value) {
  if (value === null || value === undefined) return h('th', { scope: 'row', i18n: dim === 'rep.type' ? 'kpis.no_rep' : 'kpis.none' });
  if (dim === 'hco.city_tier') return h('th', { scope: 'row', i18n: 'kpis.tier', i18nArgs: { n: value } });
  if (dim === 'rep.type') return h('th', { scope: 'row', i18n: `kpis.rep_type.${value}` });
  return h('th', { scope: 'row', text: value });
}

/** The groups' rows, and (withTotal) the total's. */
function fillTable(tbody, dim, data, withTotal = true) {
  const rows = data.groups.map((g) => figuresRow(labelCell(dim, g.key[dim]), g));
  if (!rows.length) {
    tbody.replaceChildren(emptyRow(TABLE_COLUMNS.length, 'kpis.empty'));
    return;
  }
  if (withTotal) {
    rows.push(figuresRow(h('th', { scope: 'row', i18n: 'kpis.total' }), data.total));
    rows.at(-1).classList.add('total');
  }
  tbody.replaceChildren(...rows);
}

/* ---------- the page ---------- */

function card(titleKey, id, ...body) {
  return h('section', { class: 'card kpi-card', id }, h('h2', { i18n: titleKey }), ...body);
}

function chartEl(id, labelKey, extra = '') {
  return h('div', { id, class: `chart ${extra}`.trim(), role: 'img', i18nAttr: { 'aria-label': labelKey } });
}

export function render(ctx) {
  const q = ctx.query;
  const initialPreset = PRESETS.includes(q.get('period')) ? q.get('period') : (q.get('from') ? 'custom' : '365');
  const range = initialPreset === 'custom' ? { from: q.get('from') || presetRange('365').from, to: q.get('to') || ymd(Date.now()) } : presetRange(initialPreset);
  const by = BREAKDOWNS.includes(q.get('by')) ? q.get('by') : BREAKDOWNS[0];

  const preset = h('select', { id: 'kpi-period', name: 'period', value: initialPreset },
    PRESETS.map((p) => h('option', { value: p, i18n: `kpis.period.${p}` })));
  const from = h('input', { type: 'date', id: 'kpi-from', name: 'from', value: range.from });
  const to = h('input', { type: 'date', id: 'kpi-to', name: 'to', value: range.to });
  const breakdown = h('select', { id: 'kpi-by', name: 'by', value: by },
    BREAKDOWNS.map((d) => h('option', { value: d, i18n: `kpis.dim.${d}` })));
  const status = h('p', { class: 'muted', id: 'kpi-status' });

  const funnelEl = chartEl('kpi-funnel', 'kpis.funnel_title');
  const trendEl = chartEl('kpi-trend', 'kpis.trend_title');
  const breakdownEl = chartEl('kpi-breakdown', 'kpis.breakdown_title');
  const repTypeEl = chartEl('kpi-reptype', 'kpis.reptype_title');
  const { table, tbody } = dataTable('kpis.col', TABLE_COLUMNS);
  table.id = 'kpi-table';
  const repTable = dataTable('kpis.col', TABLE_COLUMNS);
  repTable.table.id = 'kpi-reptype-table';

  const page = h('div', { class: 'page kpis' },
    h('h1', { i18n: 'kpis.title' }),
    h('p', { class: 'muted', i18n: 'kpis.intro' }),
    h('form', { class: 'toolbar', id: 'kpi-controls', on: { submit: (e) => e.preventDefault() } },
      field('kpis.period_label', preset), field('kpis.from', from), field('kpis.to', to),
      field('kpis.breakdown_label', breakdown)),
    status,
    h('div', { class: 'grid-2' },
      card('kpis.funnel_title', 'kpi-funnel-card', funnelEl),
      card('kpis.trend_title', 'kpi-trend-card', trendEl)),
    card('kpis.breakdown_title', 'kpi-breakdown-card', breakdownEl, h('div', { class: 'table-wrap' }, table)),
    card('kpis.reptype_title', 'kpi-reptype-card', h('p', { class: 'muted', i18n: 'kpis.reptype_intro' }), repTypeEl,
      h('div', { class: 'table-wrap' }, repTable.table)));

  let seq = 0;
  const window = () => ({ from: from.value, to: to.value });

  async function loadBreakdown(charts, mySeq) {
    const data = await api.get('/analytics/kpis', { query: { ...window(), group_by: breakdown.value }, signal: ctx.signal });
    if (mySeq !== seq) return null;
    const dim = breakdown.value;
    fillTable(tbody, dim, data);
    redraw(ctx, breakdownEl, () => breakdownOption(dim, data.groups), charts);
    redraw(ctx, funnelEl, () => funnelOption(data.total), charts);
    return data;
  }

  async function load() {
    seq += 1;
    const mySeq = seq;
    ctx.setQuery({ period: preset.value, from: from.value, to: to.value, by: breakdown.value });
    status.dataset.i18n = 'common.loading';
    status.textContent = t('common.loading');
    const charts = loadEcharts();
    charts.catch(() => {});
    try {
      const [main, trend, reps] = await Promise.all([
        loadBreakdown(charts, mySeq),
        api.get('/analytics/kpis', { query: { ...window(), group_by: 'month' }, signal: ctx.signal }),
        api.get('/analytics/kpis', { query: { ...window(), group_by: 'rep.type' }, signal: ctx.signal }),
      ]);
      if (mySeq !== seq || !main) return;
      redraw(ctx, trendEl, () => trendOption(trend.groups), charts);
      const shown = { ...reps, groups: reps.groups.filter((g) => REP_TYPES.includes(g.key['rep.type'])) };
      fillTable(repTable.tbody, 'rep.type', shown, false);
      redraw(ctx, repTypeEl, () => repTypeOption(shown.groups), charts);
      status.dataset.i18n = 'kpis.took';
      status.dataset.i18nArgs = JSON.stringify({ ms: main.took_ms.toFixed(1) });
      status.textContent = t('kpis.took', { ms: main.took_ms.toFixed(1) });
    } catch (err) {
      if (err.code === 'aborted' || mySeq !== seq) return;
      status.dataset.i18n = 'kpis.failed';
      delete status.dataset.i18nArgs;
      status.textContent = t('kpis.failed');
    }
  }

  preset.addEventListener('change', () => {
    if (preset.value !== 'custom') {
      const r = presetRange(preset.value);
      from.value = r.from;
      to.value = r.to;
    }
    load();
  });
  for (const input of [from, to]) {
    input.addEventListener('change', () => {
      preset.value = 'custom';
      if (from.value && to.value && from.value <= to.value) load();
    });
  }
  breakdown.addEventListener('change', async () => {
    seq += 1;
    const mySeq = seq;
    ctx.setQuery({ period: preset.value, from: from.value, to: to.value, by: breakdown.value });
    try {
      await loadBreakdown(loadEcharts(), mySeq);
    } catch {
      /* shown in the banner by api.js */
    }
  });
  load();
  return page;
}
