// Experiments (#/experiments, #/experiments/{name}): A/B tests of the
// next-best-action engine (docs/experiments.md). The list shows each
// experiment's status, unit, arms with their shares and primary metric
// (GET /api/v1/experiments). Admin and marketing open the editor: name,
// unit, metric, a population in the expression language (checked as they
// type, the error under its column), and the arms — a name, a kind and an
// allocation set by slider or number, with the sum shown live (it must be
// 100%) — and save with PUT /experiments/{name} (a draft). An experiment's
// page shows its definition, its actions (start, stop, archive; edit or
// delete a draft) and its results (GET …/results): per arm the rate as a
// bar with its 95% interval as whiskers, the figures, and each arm against
// the control — the difference with its interval, the p-value and the
// verdict in words ("not yet significant" until it is).

import { api, request } from '../api.js';
import { h, timeEl } from '../dom.js';
import { t } from '../i18n.js';
import { loadEcharts, mountChart } from '../chart.js';
import { field, dataTable, emptyRow } from '../widgets.js';
import { numEl, refreshNumbers, debounce, errorCard, formError, clearFormError, formErrorSlot, confirmButton, cardHead } from './md.js';

const WRITERS = ['admin', 'marketing'];
const METRICS = ['effective_rate', 'response_rate', 'participation_rate', 'effective_contact_rate'];
const KINDS = ['rules', 'learned', 'random', 'holdout', 'custom'];
const UNITS = ['hcp', 'rep'];
const STATUS_CLASS = { draft: 'cs-draft', running: 'badge-ok', stopped: 'cs-expired', archived: 'cs-withdrawn' };
const MIN_DEN = 30;
const CHECK_DELAY_MS = 250;
const MAX_ARMS = 10;
const enc = encodeURIComponent;

const mayWrite = (role) => WRITERS.includes(role);
const pct = (x) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`);
const pp = (x) => (x === null || x === undefined ? '—' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`);
const pval = (p) => (p === null || p === undefined ? '—' : p < 0.0001 ? '< 0.0001' : p.toFixed(4));
const pExpr = (p) => (p < 0.0001 ? 'p < 0.0001' : `p = ${p.toFixed(4)}`);
const fmtAlloc = (a) => `${Number.isInteger(a) ? a : a.toFixed(2)}%`;

function statusBadge(status) {
  return h('span', { class: `badge exp-status ${STATUS_CLASS[status] || ''}`, dataset: { status }, i18n: `exp.status.${status}` });
}

/** The verdict on comparison c (of results r) in the user's language, from the numbers. */
function verdictEl(r, c) {
  const arm = r.arms.find((a) => a.name === c.arm);
  const ctl = r.arms.find((a) => a.name === c.control);
  let key = 'exp.verdict.not_significant';
  let args = { p: c.p_value === null ? '' : pExpr(c.p_value) };
  if (c.p_value === null) key = 'exp.verdict.no_data';
  else if (c.significant) {
    key = c.difference > 0 ? 'exp.verdict.higher' : 'exp.verdict.lower';
    args = { arm: c.arm, control: c.control, p: pExpr(c.p_value) };
  } else if (arm.denominator < MIN_DEN || ctl.denominator < MIN_DEN) {
    key = 'exp.verdict.too_few';
    args = { min: MIN_DEN };
  }
  return h('span', { class: `exp-verdict ${c.significant ? 'ok' : 'muted'}`, dataset: { significant: String(c.significant) }, i18n: key, i18nArgs: args });
}

/* ---------- the chart: a bar per arm, its 95% interval as whiskers ---------- */

/** An echarts custom series drawing a whisker (vertical line with caps) from lo to hi at each category. */
function whiskers(data) {
  return {
    type: 'custom',
    name: '95% CI',
    z: 3,
    data,
    renderItem: (params, api) => {
      const x = api.value(0);
      const lo = api.coord([x, api.value(1)]);
      const hi = api.coord([x, api.value(2)]);
      const half = api.size([1, 0])[0] * 0.12;
      const style = { stroke: '#24292f', lineWidth: 1.5 };
      return {
        type: 'group',
        children: [
          { type: 'line', shape: { x1: lo[0], y1: lo[1], x2: hi[0], y2: hi[1] }, style },
          { type: 'line', shape: { x1: lo[0] - half, y1: lo[1], x2: lo[0] + half, y2: lo[1] }, style },
          { type: 'line', shape: { x1: hi[0] - half, y1: hi[1], x2: hi[0] + half, y2: hi[1] }, style },
        ],
      };
    },
  };
}

function chartOption(r) {
  return () => ({
    tooltip: {
      trigger: 'axis', axisPointer: { type: 'shadow' },
      formatter: (ps) => {
        const a = r.arms[ps[0].dataIndex];
        return `${a.name}: ${pct(a.rate)}${a.ci ? ` [${pct(a.ci[0])}, ${pct(a.ci[1])}]` : ''}<br>${a.numerator}/${a.denominator}`;
      },
    },
    grid: { left: 56, right: 16, top: 24, bottom: 32 },
    xAxis: { type: 'category', data: r.arms.map((a) => a.name) },
    yAxis: { type: 'value', name: t(`exp.metric.${r.metric}`), min: 0, axisLabel: { formatter: (v) => `${Math.round(v * 100)}%` } },
    series: [
      {
        type: 'bar', name: t(`exp.metric.${r.metric}`), barMaxWidth: 64,
        data: r.arms.map((a) => ({ value: a.rate, itemStyle: { color: a.kind === 'holdout' ? '#8c959f' : a.name === r.control ? '#57606a' : '#1f6feb' } })),
      },
      whiskers(r.arms.map((a, i) => (a.ci ? [i, a.ci[0], a.ci[1]] : [i, null, null])).filter((d) => d[1] !== null)),
    ],
  });
}

/* ---------- the editor ---------- */

/** One arm's row: name, kind, allocation (slider and number kept together). */
function armRow(arm, onChange, onRemove) {
  const name = h('input', { class: 'exp-arm-name', maxlength: '64', required: true, value: arm.name, i18nAttr: { 'aria-label': 'exp.arm.name' } });
  const kind = h('select', { class: 'exp-arm-kind', i18nAttr: { 'aria-label': 'exp.arm.kind' } }, KINDS.map((k) => h('option', { value: k, i18n: `exp.kind.${k}` })));
  kind.value = arm.kind;
  const slider = h('input', { type: 'range', class: 'exp-arm-slider', min: '0', max: '100', step: '1', value: String(arm.allocation), i18nAttr: { 'aria-label': 'exp.arm.allocation' } });
  const number = h('input', { type: 'number', class: 'exp-arm-alloc', min: '0', max: '100', step: '0.01', value: String(arm.allocation), i18nAttr: { 'aria-label': 'exp.arm.allocation' } });
  slider.addEventListener('input', () => { number.value = slider.value; onChange(); });
  number.addEventListener('input', () => { slider.value = number.value; onChange(); });
  name.addEventListener('input', onChange);
  const remove = h('button', { type: 'button', class: 'btn btn-small exp-arm-remove', i18n: 'exp.arm.remove', on: { click: () => onRemove(row) } });
  const row = h('div', { class: 'exp-arm', style: 'display:flex;gap:8px;align-items:center;margin:4px 0' },
    name, kind, slider, number, h('span', { text: '%' }), remove);
  row.read = () => ({ name: name.value.trim(), kind: kind.value, allocation: number.value === '' ? NaN : Number(number.value) });
  return row;
}

/** The create/edit form; exp: the draft to edit, or null. onDone(saved). */
function expForm(ctx, { exp = null, onDone, onCancel }) {
  const slot = formErrorSlot();
  const name = h('input', { name: 'name', id: 'exp-f-name', required: true, maxlength: '64', class: 'mono', autocomplete: 'off', spellcheck: 'false',
    pattern: '[a-z0-9][a-z0-9_-]{0,63}', value: exp ? exp.name : '', disabled: Boolean(exp) });
  const description = h('textarea', { name: 'description', id: 'exp-f-description', rows: '2' });
  description.value = exp && exp.description ? exp.description : '';
  const unit = h('select', { name: 'unit', id: 'exp-f-unit' }, UNITS.map((u) => h('option', { value: u, i18n: `exp.unit.${u}` })));
  unit.value = exp ? exp.unit : 'hcp';
  const metric = h('select', { name: 'metric', id: 'exp-f-metric' }, METRICS.map((m) => h('option', { value: m, i18n: `exp.metric.${m}` })));
  metric.value = exp ? exp.metric : 'effective_rate';
  const population = h('textarea', { name: 'population', id: 'exp-f-population', class: 'mono expr-editor', rows: '2', spellcheck: 'false', autocomplete: 'off',
    i18nAttr: { placeholder: 'exp.f.population_hint' } });
  population.value = exp && exp.population ? exp.population : '';
  const popStatus = h('div', { id: 'exp-f-pop-status', class: 'expr-status', role: 'status', 'aria-live': 'polite' });
  const arms = h('div', { id: 'exp-f-arms' });
  arms.setAttribute('name', 'arms');
  const sum = h('p', { id: 'exp-f-sum', class: 'exp-sum', role: 'status', 'aria-live': 'polite' });
  const add = h('button', { type: 'button', class: 'btn btn-small', id: 'exp-f-add-arm', i18n: 'exp.arm.add' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', id: 'exp-f-save', i18n: 'exp.f.save' });
  const st = { seq: 0 };

  function showSum() {
    const rows = [...arms.children].map((r) => r.read());
    const total = Math.round(rows.reduce((s, a) => s + (Number.isFinite(a.allocation) ? a.allocation : 0), 0) * 100) / 100;
    const ok = total === 100;
    sum.dataset.state = ok ? 'ok' : 'error';
    sum.dataset.total = String(total);
    sum.className = `exp-sum ${ok ? 'ok' : 'form-error'}`;
    sum.replaceChildren(h('span', { i18n: ok ? 'exp.f.sum_ok' : 'exp.f.sum_bad', i18nArgs: { sum: total } }));
    add.disabled = arms.children.length >= MAX_ARMS;
  }
  function addArm(arm) {
    arms.append(armRow(arm, showSum, (row) => { row.remove(); showSum(); }));
    showSum();
  }
  add.addEventListener('click', () => addArm({ name: `arm${arms.children.length + 1}`, kind: 'custom', allocation: 0 }));
  for (const a of exp ? exp.arms : [{ name: 'rules', kind: 'rules', allocation: 50 }, { name: 'holdout', kind: 'holdout', allocation: 50 }]) addArm(a);

  function popError(src, e) {
    popStatus.dataset.state = 'error';
    popStatus.replaceChildren(
      h('div', { class: 'expr-error-msg' }, h('strong', { i18n: 'tags.check.error_at', i18nArgs: { col: e.column } }), ' ', h('span', { class: 'server-message', text: e.message })),
      h('div', { class: 'muted' }, h('span', { i18n: 'tags.check.expected' }), ' ', h('span', { class: 'expected', text: e.expected || '' })));
  }
  async function check() {
    const seq = ++st.seq;
    const src = population.value;
    if (!src.trim()) {
      popStatus.dataset.state = 'empty';
      popStatus.replaceChildren(h('span', { class: 'muted', i18n: 'exp.f.population_all' }));
      return;
    }
    try {
      const c = await api.post('/expressions/check', { expr: src }, { signal: ctx.signal, quiet: true });
      if (seq !== st.seq) return;
      if (!c.valid) popError(src, c.error);
      else if (c.type !== 'boolean') {
        popStatus.dataset.state = 'error';
        popStatus.replaceChildren(h('span', { class: 'form-error', i18n: 'exp.f.population_not_bool' }));
      } else {
        popStatus.dataset.state = 'ok';
        popStatus.replaceChildren(h('span', { class: 'ok', i18n: 'exp.f.population_ok' }));
      }
    } catch (err) {
      if (err.code !== 'aborted' && seq === st.seq) formError(form, slot, err);
    }
  }
  const recheck = debounce(check, CHECK_DELAY_MS);
  population.addEventListener('input', recheck);
  ctx.onCleanup(() => recheck.cancel());

  const form = h('form', { class: 'form exp-form', id: 'exp-form', novalidate: true },
    h('h2', exp ? { i18n: 'exp.form.title_edit', i18nArgs: { name: exp.name } } : { i18n: 'exp.form.title_new' }),
    h('div', { class: 'form-grid' },
      field('exp.f.name', name, { hint: h('small', { class: 'muted', i18n: 'exp.f.name_hint' }) }),
      field('exp.f.unit', unit),
      field('exp.f.metric', metric)),
    field('exp.f.population', population, { optional: true }), popStatus,
    h('fieldset', { class: 'exp-arms' }, h('legend', { i18n: 'exp.f.arms' }), arms, h('div', {}, add), sum),
    field('exp.f.description', description, { optional: true }),
    slot,
    h('div', { class: 'form-actions' }, save,
      h('button', { type: 'button', class: 'btn', id: 'exp-f-cancel', i18n: 'exp.f.cancel', on: { click: () => onCancel() } })));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFormError(form, slot);
    recheck.cancel();
    const body = {
      description: description.value.trim() || null,
      unit: unit.value,
      metric: metric.value,
      population: population.value.trim() ? population.value : null,
      arms: [...arms.children].map((r) => r.read()),
    };
    const n = (exp ? exp.name : name.value).trim();
    save.disabled = true;
    try {
      onDone(await request('PUT', `/experiments/${enc(n)}`, { body, signal: ctx.signal, quiet: true }));
    } catch (err) {
      if (err.code === 'aborted') return;
      if (err.status === 400 && err.detail && err.detail.field === 'population' && err.detail.column) {
        popError(population.value, { column: err.detail.column, message: err.serverMessage || err.message, expected: err.detail.expected });
        population.setAttribute('aria-invalid', 'true');
        population.focus();
      } else if (err.detail && /^arms/.test(err.detail.field || '')) {
        messageInto(slot, err);
      } else {
        formError(form, slot, err);
      }
    } finally {
      save.disabled = false;
    }
  });
  function messageInto(el, err) {
    el.replaceChildren(h('span', { class: 'error-message', text: err.serverMessage || err.message }));
    el.hidden = false;
  }
  check();
  return { form, focus: () => (exp ? population : name).focus() };
}

/* ---------- the list ---------- */

function listView(ctx) {
  const { table, tbody } = dataTable('exp.col', ['name', 'status', 'unit', 'arms', 'metric', 'started']);
  table.id = 'exp-table';
  const formSlot = h('div', { id: 'exp-form-slot' });

  function openForm() {
    const f = expForm(ctx, {
      onDone: (saved) => { ctx.notify('exp.saved', { name: saved.name }); location.hash = `#/experiments/${enc(saved.name)}`; },
      onCancel: () => formSlot.replaceChildren(),
    });
    formSlot.replaceChildren(h('section', { class: 'card' }, f.form));
    f.focus();
  }

  async function load() {
    try {
      const res = await api.get('/experiments', { signal: ctx.signal, quiet: true });
      tbody.replaceChildren(...(res.items.length ? res.items.map((x) => h('tr', { dataset: { name: x.name } },
        h('td', { class: 'mono' }, h('a', { href: `#/experiments/${enc(x.name)}`, text: x.name })),
        h('td', {}, statusBadge(x.status)),
        h('td', { i18n: `exp.unit.${x.unit}` }),
        h('td', {}, x.arms.map((a, i) => [i ? ' · ' : '', h('span', { text: `${a.name} ${fmtAlloc(a.allocation)}` })])),
        h('td', { i18n: `exp.metric.${x.metric}` }),
        h('td', {}, x.started_at ? timeEl(x.started_at) : '—'))) : [emptyRow(6, 'exp.empty')]));
      table.dataset.state = 'ready';
    } catch (err) {
      if (err.code !== 'aborted') tbody.replaceChildren(h('tr', {}, h('td', { colspan: 6 }, errorCard('exp.failed', err))));
    }
  }
  const tools = mayWrite(ctx.user.role)
    ? [h('button', { type: 'button', class: 'btn btn-primary', id: 'exp-new', i18n: 'exp.new', on: { click: openForm } })] : [];
  load();
  return h('div', { class: 'page experiments' },
    h('div', { class: 'page-head' }, h('h1', { i18n: 'exp.title' }), h('div', { class: 'toolbar' }, ...tools)),
    h('p', { class: 'muted', i18n: 'exp.intro' }),
    formSlot,
    h('section', { class: 'card' }, h('div', { class: 'table-wrap' }, table)));
}

/* ---------- one experiment ---------- */

function resultsCard(ctx, r, charts) {
  const chartEl = h('div', { class: 'chart', id: 'exp-chart', style: 'height:280px' });
  const { table: armTable, tbody: armBody } = dataTable('exp.rcol', ['arm', 'kind', 'units', 'numerator', 'denominator', 'rate', 'ci']);
  armTable.id = 'exp-arms-table';
  armBody.replaceChildren(...r.arms.map((a) => h('tr', { dataset: { arm: a.name } },
    h('td', { class: 'mono' }, a.name, a.name === r.control ? [' ', h('small', { class: 'badge', i18n: 'exp.control' })] : null),
    h('td', { i18n: `exp.kind.${a.kind}` }),
    h('td', {}, numEl(a.units)), h('td', {}, numEl(a.numerator)), h('td', {}, numEl(a.denominator)),
    h('td', { class: 'exp-rate' }, pct(a.rate)),
    h('td', { class: 'exp-ci' }, a.ci ? `${pct(a.ci[0])} – ${pct(a.ci[1])}` : '—'))));
  const { table: cmpTable, tbody: cmpBody } = dataTable('exp.ccol', ['arm', 'difference', 'ci', 'p', 'verdict']);
  cmpTable.id = 'exp-cmp-table';
  cmpBody.replaceChildren(...(r.comparisons.length ? r.comparisons.map((c) => h('tr', { dataset: { arm: c.arm } },
    h('td', {}, h('span', { class: 'mono', text: c.arm }), ' ', h('span', { class: 'muted', i18n: 'exp.vs', i18nArgs: { control: c.control } })),
    h('td', { class: 'exp-diff' }, c.difference === null ? '—' : h('span', { i18n: 'exp.pp', i18nArgs: { v: pp(c.difference) } })),
    h('td', {}, c.ci ? `${pp(c.ci[0])} – ${pp(c.ci[1])}` : '—'),
    h('td', { class: 'exp-p' }, pval(c.p_value)),
    h('td', {}, verdictEl(r, c)))) : [emptyRow(5, 'exp.no_comparisons')]));
  const card = h('section', { class: 'card', id: 'exp-results', dataset: { state: 'ready' } },
    cardHead('exp.results'),
    h('p', { class: 'muted small' }, h('span', { i18n: `exp.metric_def.${r.metric}` }), ' · ',
      h('span', { i18n: 'exp.window' }), ' ', timeEl(r.from), ' – ', timeEl(r.to)),
    chartEl,
    h('div', { class: 'table-wrap' }, armTable),
    h('h3', { i18n: 'exp.comparisons' }),
    h('div', { class: 'table-wrap' }, cmpTable),
    h('p', { class: 'muted small', i18n: 'exp.trust', i18nArgs: { min: MIN_DEN } }));
  mountChart(ctx, chartEl, chartOption(r), charts);
  return card;
}

function detailView(ctx, name) {
  const head = h('div', { class: 'page-head' }, h('h1', { class: 'mono', text: name }));
  const body = h('div', {}, h('p', { class: 'loading', i18n: 'common.loading' }));
  const formSlot = h('div', { id: 'exp-form-slot' });
  const errorSlot = h('div', { id: 'exp-error' });
  let charts = null;

  async function act(path, okKey) {
    errorSlot.replaceChildren();
    try {
      await api.post(`/experiments/${enc(name)}/${path}`, {}, { signal: ctx.signal, quiet: true });
      ctx.notify(okKey, { name });
      load();
    } catch (err) {
      if (err.code !== 'aborted') errorSlot.replaceChildren(errorCard('exp.action_failed', err));
    }
  }

  function actions(x) {
    if (!mayWrite(ctx.user.role)) return [];
    const b = (id, key, onClick, cls = 'btn') => h('button', { type: 'button', class: cls, id, i18n: key, on: { click: onClick } });
    if (x.status === 'draft') {
      return [
        b('exp-start', 'exp.start', () => act('start', 'exp.started'), 'btn btn-primary'),
        b('exp-edit', 'exp.edit', () => {
          const f = expForm(ctx, { exp: x, onDone: () => { formSlot.replaceChildren(); ctx.notify('exp.saved', { name }); load(); }, onCancel: () => formSlot.replaceChildren() });
          formSlot.replaceChildren(h('section', { class: 'card' }, f.form));
          f.focus();
        }),
        confirmButton('exp.delete', 'exp.delete_confirm', async () => {
          try {
            await api.del(`/experiments/${enc(name)}`, { signal: ctx.signal, quiet: true });
            location.hash = '#/experiments';
          } catch (err) {
            if (err.code !== 'aborted') errorSlot.replaceChildren(errorCard('exp.action_failed', err));
          }
        }, { cls: 'btn btn-danger', attrs: { id: 'exp-delete' } }),
      ];
    }
    if (x.status === 'running') return [b('exp-stop', 'exp.stop', () => act('stop', 'exp.stopped'))];
    if (x.status === 'stopped') return [b('exp-archive', 'exp.archive', () => act('archive', 'exp.archived'))];
    return [];
  }

  async function load() {
    try {
      charts = charts || loadEcharts();
      const x = await api.get(`/experiments/${enc(name)}`, { signal: ctx.signal, quiet: true });
      head.replaceChildren(h('h1', { class: 'mono', text: x.name }), statusBadge(x.status), h('div', { class: 'toolbar' }, ...actions(x)));
      const def = h('section', { class: 'card', id: 'exp-definition' },
        cardHead('exp.definition'),
        x.description ? h('p', { text: x.description }) : null,
        h('p', {}, h('span', { class: 'field-label', i18n: 'exp.f.unit' }), ' ', h('span', { i18n: `exp.unit.${x.unit}` }), ' · ',
          h('span', { class: 'field-label', i18n: 'exp.f.metric' }), ' ', h('span', { i18n: `exp.metric.${x.metric}` })),
        h('div', {}, h('span', { class: 'field-label', i18n: 'exp.f.population' }), ' ',
          x.population ? h('pre', { class: 'mono expr-view', text: x.population }) : h('span', { class: 'muted', i18n: `exp.everyone.${x.unit}` })),
        h('p', {}, h('span', { class: 'field-label', i18n: 'exp.f.arms' }), ' ',
          x.arms.map((a, i) => [i ? ' · ' : '', h('span', { class: 'mono', text: a.name }), ' (', h('span', { i18n: `exp.kind.${a.kind}` }), ') ', fmtAlloc(a.allocation)])),
        h('p', { class: 'muted small' },
          x.started_at ? [h('span', { i18n: 'exp.started_at' }), ' ', timeEl(x.started_at)] : null,
          x.stopped_at ? [' · ', h('span', { i18n: 'exp.stopped_at' }), ' ', timeEl(x.stopped_at)] : null,
          ' · ', h('span', { i18n: 'exp.salt' }), ' ', h('code', { text: x.salt })));
      let results;
      if (x.status === 'draft') results = h('section', { class: 'card', id: 'exp-results', dataset: { state: 'draft' } }, h('p', { class: 'muted', i18n: 'exp.no_results' }));
      else {
        const r = await api.get(`/experiments/${enc(name)}/results`, { signal: ctx.signal, quiet: true });
        results = resultsCard(ctx, r, charts);
      }
      body.replaceChildren(def, results);
    } catch (err) {
      if (err.code !== 'aborted') body.replaceChildren(errorCard('exp.failed', err));
    }
  }
  load();
  const page = h('div', { class: 'page experiment' },
    h('p', {}, h('a', { href: '#/experiments', i18n: 'exp.back' })), head, errorSlot, formSlot, body);
  ctx.onLang(() => refreshNumbers(page));
  return page;
}

export function render(ctx) {
  return ctx.params.length ? detailView(ctx, ctx.params[0]) : listView(ctx);
}

