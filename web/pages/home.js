// The home page: a welcome card (name, role, sign-in time), the modules the
// role may use, and for admin and compliance a chart of the audit trail's
// activity over the last 14 days (GET /api/v1/audit/summary?days=14).

import { api } from '../api.js';
import { h, roleEl, timeEl } from '../dom.js';
import { loadEcharts, mountChart } from '../chart.js';
import { t, formatDay } from '../i18n.js';

const CHART_ROLES = ['admin', 'compliance'];
const CHART_DAYS = 14;
const MAX_SERIES = 6; // the busiest actions get their own colour; the rest are "other"

function welcomeCard(user) {
  const rows = [
    ['home.account', h('span', { text: user.login })],
    ['home.role', roleEl(user.role)],
    user.rep_id ? ['home.rep_id', h('span', { text: user.rep_id })] : null,
    ['home.login_at', timeEl(user.login_at, 'minutes')],
  ].filter(Boolean);
  return h('section', { class: 'card welcome', id: 'welcome' },
    h('h1', { i18nArgs: { name: user.name || user.login }, i18n: 'home.welcome' }),
    h('dl', { class: 'facts' }, rows.map(([key, value]) => [h('dt', { i18n: key }), h('dd', {}, value)])));
}

function modulesCard(nav) {
  return h('section', { class: 'card modules' },
    h('h2', { i18n: 'home.modules' }),
    h('ul', { class: 'module-list' }, nav.filter((item) => item.route !== 'home').map((item) => h('li', {},
      h('a', { href: `#/${item.route}`, class: 'module', dataset: { route: item.route } },
        h('strong', { i18n: item.labelKey }),
        h('span', { class: 'muted', i18n: item.descKey }))))));
}

/** Turns the summary into stacked series: the busiest actions by name, then "other". */
function chartOption(days) {
  const totals = new Map();
  for (const d of days) {
    for (const [action, n] of Object.entries(d.by_action || {})) totals.set(action, (totals.get(action) || 0) + n);
  }
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([a]) => a);
  const named = ranked.slice(0, MAX_SERIES);
  const series = named.map((action) => ({
    name: action, type: 'bar', stack: 'all', emphasis: { focus: 'series' },
    data: days.map((d) => (d.by_action && d.by_action[action]) || 0),
  }));
  const other = days.map((d) => d.total - named.reduce((s, a) => s + ((d.by_action && d.by_action[a]) || 0), 0));
  if (series.length === 0 || other.some((n) => n > 0)) {
    series.push({ name: t(series.length ? 'home.chart_other' : 'home.activity'), type: 'bar', stack: 'all', data: other });
  }
  return {
    color: ['#1f6feb', '#2da44e', '#bf8700', '#8250df', '#cf222e', '#0a7f86', '#8c959f'],
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { type: 'scroll', bottom: 0 },
    grid: { left: 40, right: 16, top: 16, bottom: 56 },
    xAxis: { type: 'category', data: days.map((d) => formatDay(d.date)) },
    yAxis: { type: 'value', minInterval: 1 },
    series,
  };
}

function activityCard(ctx) {
  const chartEl = h('div', { id: 'activity-chart', class: 'chart', role: 'img', i18nAttr: { 'aria-label': 'home.activity' } });
  const note = h('p', { class: 'muted', hidden: true, i18n: 'home.activity_empty' });
  const card = h('section', { class: 'card activity' }, h('h2', { i18n: 'home.activity' }), note, chartEl);
  drawActivity(ctx, chartEl, note);
  return card;
}

async function drawActivity(ctx, chartEl, note) {
  const charts = loadEcharts();
  charts.catch(() => {}); // reported by mountChart, once the data is in
  let summary;
  try {
    summary = await api.get('/audit/summary', { query: { days: CHART_DAYS }, signal: ctx.signal });
  } catch {
    return; // shown in the banner by api.js
  }
  const days = (summary && summary.days) || [];
  note.hidden = days.some((d) => d.total > 0);
  await mountChart(ctx, chartEl, () => chartOption(days), charts);
}

export function render(ctx) {
  const page = h('div', { class: 'page home' },
    h('div', { class: 'grid-2' }, welcomeCard(ctx.user), modulesCard(ctx.nav)));
  if (CHART_ROLES.includes(ctx.user.role)) page.append(activityCard(ctx));
  return page;
}
