// The response models page (docs/models.md): every model version per channel
// and category with its held-out metrics (AUC, log loss, examples), and for
// the selected version a calibration chart (predicted versus observed by
// decile) and a coefficient chart; train (window in days) and activate
// buttons for admin and marketing; the off-policy evaluation of the active
// models' greedy policy (IPS, SNIPS, DR with their 95% intervals) for admin,
// marketing and analysts. The selected version lives in the URL
// (#/models?id=…).

import { api, request } from '../api.js';
import { h } from '../dom.js';
import { t, getLang } from '../i18n.js';
import { loadEcharts, mountChart } from '../chart.js';
import { field, dataTable, emptyRow, markField } from '../widgets.js';

const COLUMNS = ['version', 'channel', 'category', 'examples', 'positives', 'auc', 'log_loss', 'vs_global', 'status', 'actions'];
const WRITERS = ['admin', 'marketing'];
const EVALUATORS = ['admin', 'marketing', 'analyst'];
const ESTIMATES = ['logged', 'ips', 'snips', 'dr'];
const COLORS = ['#1f6feb', '#2da44e', '#bf8700', '#8250df', '#cf222e'];

const fixed = (x, d = 3) => (x === null || x === undefined ? '—' : Number(x).toFixed(d));
const pct = (x) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`);
const num = (n) => new Intl.NumberFormat(getLang() === 'zh' ? 'zh-CN' : 'en-US').format(n);

function card(titleKey, id, ...body) {
  return h('section', { class: 'card', id }, h('h2', { i18n: titleKey }), ...body);
}

function chartEl(id, labelKey) {
  return h('div', { id, class: 'chart', role: 'img', i18nAttr: { 'aria-label': labelKey } });
}

function calibrationOption(model) {
  const bins = model.calibration || [];
  const max = Math.min(1, Math.ceil(Math.max(0.05, ...bins.map((b) => Math.max(b.pred ?? 0, b.obs ?? 0))) * 10) / 10);
  const label = { formatter: (v) => v.toFixed(2) };
  return {
    color: COLORS,
    tooltip: { trigger: 'axis' },
    legend: { data: [t('models.cal.observed'), t('models.cal.ideal')] },
    xAxis: { type: 'value', name: t('models.cal.predicted'), min: 0, max, axisLabel: label },
    yAxis: { type: 'value', name: t('models.cal.observed'), min: 0, max, axisLabel: label },
    series: [
      { name: t('models.cal.observed'), type: 'line', symbolSize: 8, data: bins.map((b) => [b.pred, b.obs]) },
      { name: t('models.cal.ideal'), type: 'line', symbol: 'none', lineStyle: { type: 'dashed' }, data: [[0, 0], [1, 1]] },
    ],
  };
}

function coefficientOption(model) {
  const rows = (model.coefficients || []).filter((c) => c.feature !== 'intercept' && c.weight !== null && Math.abs(c.weight) > 1e-6)
    .sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight)).slice(0, 12).reverse();
  return {
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 200 },
    xAxis: { type: 'value', name: t('models.coef.weight') },
    yAxis: { type: 'category', data: rows.map((c) => c.feature), axisLabel: { interval: 0 } },
    series: [{ type: 'bar', data: rows.map((c) => ({ value: c.weight, itemStyle: { color: c.weight >= 0 ? COLORS[1] : COLORS[4] } })) }],
  };
}

function evaluationOption(res) {
  const names = ESTIMATES.map((k) => t(`models.eval.${k}`));
  return {
    color: COLORS,
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', data: names },
    yAxis: { type: 'value', name: t('models.eval.value') },
    series: [
      { type: 'bar', data: ESTIMATES.map((k) => res[k].value) },
      { type: 'custom', renderItem: (params, api2) => {
        const x = api2.value(0); const lo = api2.coord([x, api2.value(1)]); const hi = api2.coord([x, api2.value(2)]);
        return { type: 'line', shape: { x1: lo[0], y1: lo[1], x2: hi[0], y2: hi[1] }, style: { stroke: '#333', lineWidth: 2 } };
      }, data: ESTIMATES.map((k, i) => [i, res[k].ci_low, res[k].ci_high]) },
    ],
  };
}

export function render(ctx) {
  const role = ctx.user.role;
  const canWrite = WRITERS.includes(role);
  const canEval = EVALUATORS.includes(role);
  const status = h('p', { class: 'muted', id: 'models-status' });
  const { table, tbody } = dataTable('models.col', COLUMNS);
  table.id = 'models-table';
  const detailTitle = h('p', { id: 'models-selected', class: 'muted', i18n: 'models.pick' });
  const calEl = chartEl('models-calibration', 'models.calibration_title');
  const coefEl = chartEl('models-coefficients', 'models.coefficients_title');
  const windowDays = h('input', { type: 'number', id: 'models-window', name: 'window_days', min: '1', max: '3650', value: '180' });
  const trainBtn = h('button', { type: 'submit', id: 'models-train', class: 'primary', i18n: 'models.train' });
  const evalDays = h('input', { type: 'number', id: 'models-eval-window', name: 'eval_window_days', min: '1', max: '3650', value: '30' });
  const evalBtn = h('button', { type: 'submit', id: 'models-evaluate', i18n: 'models.evaluate' });
  const evalEl = chartEl('models-eval-chart', 'models.eval_title');
  const evalTable = dataTable('models.ecol', ['estimator', 'value', 'ci', 'n']);
  evalTable.table.id = 'models-eval-table';
  const evalNote = h('p', { class: 'muted', id: 'models-eval-note' });
  const schedule = h('select', { id: 'models-schedule', name: 'schedule' },
    ['off', 'daily'].map((v) => h('option', { value: v, i18n: `models.schedule.${v}` })));
  const hour = h('input', { type: 'number', id: 'models-hour', name: 'hour', min: '0', max: '23', value: '2' });
  const setWindow = h('input', { type: 'number', id: 'models-set-window', name: 'window_days', min: '1', max: '3650', value: '180' });
  const splitBy = h('input', { type: 'text', id: 'models-split', name: 'split_by', value: 'specialty' });
  const setStatusEl = h('p', { class: 'muted', id: 'models-settings-status' });
  const settingsForm = h('form', { class: 'toolbar', id: 'models-settings', on: { submit: (e) => { e.preventDefault(); saveSettings(); } } },
    field('models.schedule', schedule), field('models.hour', hour), field('models.window_days', setWindow),
    field('models.split_by', splitBy), h('button', { type: 'submit', id: 'models-settings-save', i18n: 'models.save' }));

  const page = h('div', { class: 'page models' },
    h('h1', { i18n: 'models.title' }),
    h('p', { class: 'muted', i18n: 'models.intro' }),
    canWrite ? h('form', { class: 'toolbar', id: 'models-train-form', on: { submit: (e) => { e.preventDefault(); train(); } } },
      field('models.window_days', windowDays), trainBtn) : null,
    status,
    card('models.versions_title', 'models-versions-card', h('div', { class: 'table-wrap' }, table)),
    detailTitle,
    h('div', { class: 'grid-2' },
      card('models.calibration_title', 'models-calibration-card', calEl),
      card('models.coefficients_title', 'models-coefficients-card', coefEl)),
    canWrite ? card('models.settings_title', 'models-settings-card', h('p', { class: 'muted', i18n: 'models.settings_intro' }),
      settingsForm, setStatusEl) : null,
    canEval ? card('models.eval_title', 'models-eval-card',
      h('p', { class: 'muted', i18n: 'models.eval_intro' }),
      h('form', { class: 'toolbar', on: { submit: (e) => { e.preventDefault(); evaluate(); } } },
        field('models.window_days', evalDays), evalBtn),
      evalNote, evalEl, h('div', { class: 'table-wrap' }, evalTable.table)) : null);

  let selected = Number(ctx.query.get('id')) || null;
  const charts = loadEcharts();
  charts.catch(() => {});

  function setStatus(key, args) {
    status.dataset.i18n = key;
    if (args) status.dataset.i18nArgs = JSON.stringify(args); else delete status.dataset.i18nArgs;
    status.textContent = t(key, args);
  }

  function row(v) {
    const vsGlobal = v.category ? { i18n: v.beats_global ? 'models.beats' : 'models.falls_back' } : { text: '—' };
    const state = v.serving ? 'models.serving' : (v.active ? 'models.active_not_serving' : 'models.inactive');
    const actions = [];
    actions.push(h('button', { type: 'button', class: 'link', 'data-id': String(v.id), i18n: 'models.show', on: { click: () => select(v.id) } }));
    if (canWrite && !v.active) {
      actions.push(h('button', { type: 'button', class: 'link models-activate', 'data-id': String(v.id), i18n: 'models.activate',
        on: { click: () => activate(v.id) } }));
    }
    return h('tr', { 'data-id': String(v.id), class: v.id === selected ? 'selected' : '' },
      h('td', {}, v.version), h('td', { i18n: `models.channel.${v.channel}` }),
      h('td', v.category ? { text: v.category } : { i18n: 'models.global' }),
      h('td', {}, num(v.examples)), h('td', {}, num(v.positives)), h('td', {}, fixed(v.metrics.auc)),
      h('td', {}, fixed(v.metrics.log_loss)), h('td', vsGlobal), h('td', { i18n: state }), h('td', {}, ...actions));
  }

  async function loadList() {
    const data = await api.get('/nba/models', { query: { limit: 500 }, signal: ctx.signal });
    tbody.replaceChildren(...(data.items.length ? data.items.map(row) : [emptyRow(COLUMNS.length, 'models.none')]));
    table.dataset.state = 'ready';
    const globals = data.items.filter((v) => v.active && !v.category);
    if (!selected && data.items.length) selected = (globals.find((v) => v.channel === 'phone') || globals[0] || data.items[0]).id;
    if (selected) await select(selected);
  }

  async function select(id) {
    selected = id;
    ctx.setQuery({ id });
    for (const tr of tbody.querySelectorAll('tr')) tr.classList.toggle('selected', tr.dataset.id === String(id));
    const model = await api.get(`/nba/models/${id}`, { signal: ctx.signal });
    detailTitle.dataset.i18n = 'models.selected';
    detailTitle.dataset.i18nArgs = JSON.stringify({ version: model.version, n: model.metrics.holdout_n });
    detailTitle.textContent = t('models.selected', { version: model.version, n: model.metrics.holdout_n });
    calEl.dispose?.();
    coefEl.dispose?.();
    await Promise.all([mountChart(ctx, calEl, () => calibrationOption(model), charts),
      mountChart(ctx, coefEl, () => coefficientOption(model), charts)]);
    calEl.dataset.model = String(id);
  }

  async function train() {
    trainBtn.disabled = true;
    setStatus('models.training');
    try {
      const res = await api.post('/nba/models/train', { window_days: Number(windowDays.value) }, { signal: ctx.signal });
      setStatus('models.trained', { n: res.versions.length, ms: res.took_ms, run: res.run });
      selected = (res.versions.find((v) => !v.category) || res.versions[0] || {}).id || null;
      await loadList();
    } catch (err) {
      if (err.code !== 'aborted') setStatus('models.failed');
    } finally {
      trainBtn.disabled = false;
    }
  }

  async function activate(id) {
    await api.post(`/nba/models/${id}/activate`, {}, { signal: ctx.signal });
    setStatus('models.activated');
    await loadList();
  }

  async function evaluate() {
    evalBtn.disabled = true;
    try {
      const res = await api.post('/nba/evaluate', { window_days: Number(evalDays.value) }, { signal: ctx.signal });
      const args = { n: num(res.n), matched: num(res.matched), ess: res.ess.toFixed(1) };
      evalNote.dataset.i18n = 'models.eval_note';
      evalNote.dataset.i18nArgs = JSON.stringify(args);
      evalNote.textContent = t('models.eval_note', args);
      evalTable.tbody.replaceChildren(...ESTIMATES.map((k) => h('tr', { 'data-estimator': k },
        h('td', { i18n: `models.eval.${k}` }), h('td', {}, pct(res[k].value)),
        h('td', {}, `${pct(res[k].ci_low)} – ${pct(res[k].ci_high)}`), h('td', {}, num(res[k].n)))));
      evalEl.dispose?.();
      await mountChart(ctx, evalEl, () => evaluationOption(res), charts);
      evalEl.dataset.state = 'ready';
    } finally {
      evalBtn.disabled = false;
    }
  }

  async function loadSettings() {
    const s = await api.get('/nba/models/settings', { signal: ctx.signal });
    schedule.value = s.schedule;
    hour.value = String(s.hour);
    setWindow.value = String(s.window_days);
    splitBy.value = s.split_by;
  }

  async function saveSettings() {
    try {
      markField(settingsForm, null);
      await request('PUT', '/nba/models/settings', { body: { schedule: schedule.value, hour: Number(hour.value),
        window_days: Number(setWindow.value), split_by: splitBy.value }, signal: ctx.signal, quiet: true });
      setStatusEl.dataset.i18n = 'models.saved';
      setStatusEl.textContent = t('models.saved');
    } catch (err) {
      if (err.code === 'aborted') return;
      markField(settingsForm, err);
      delete setStatusEl.dataset.i18n;
      setStatusEl.textContent = err.message;
    }
  }

  if (canWrite) loadSettings().catch(() => {});
  setStatus('common.loading');
  // the first load's charts may still be drawing when a quick training has finished: "loaded" must not
  // overwrite what the training said
  const firstLoad = () => status.dataset.i18n === 'common.loading';
  loadList().then(() => { if (firstLoad()) setStatus('models.loaded'); })
    .catch((err) => { if (err.code !== 'aborted' && firstLoad()) setStatus('models.failed'); });
  return page;
}
