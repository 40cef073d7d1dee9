// The tag catalogue (#/tags): every tag (GET /api/v1/tags) as a card with its
// name, category, type, definition and how many of the caller's doctors have
// a value, and its distribution as a chart (GET /tags/{name}/distribution:
// a pie for booleans, bars for texts, a histogram for numbers). Admin and
// marketing define or edit a tag in a form whose expression is checked as
// they type (POST /expressions/check), the error shown under the column it
// points at with what was expected there; they save with PUT /tags/{name},
// delete, and recompute every tag. The HCP profile shows a doctor's tags
// with tagsCard (GET /hcps/{id}/tags), where reps, managers and MSLs set
// the manual ones (PUT /hcps/{id}/tags/{name}).

import { api, request } from '../api.js';
import { h, timeEl } from '../dom.js';
import { t, has } from '../i18n.js';
import { loadEcharts, mountChart } from '../chart.js';
import { field, dataTable, emptyRow } from '../widgets.js';
import {
  cardHead, countEl, numEl, fmtNumber, refreshNumbers, debounce, errorCard, formError, clearFormError,
  formErrorSlot, confirmButton,
} from './md.js';

const DEFINERS = ['admin', 'marketing'];
const SETTERS = ['admin', 'manager', 'field_rep', 'inside_rep', 'msl'];
const TYPES = ['boolean', 'number', 'text'];
const CHECK_DELAY_MS = 250;
const COLORS = ['#1f6feb', '#2da44e', '#bf8700', '#8250df', '#cf222e', '#0a7f86', '#57606a', '#e16f24'];
const enc = encodeURIComponent;

export const mayDefine = (role) => DEFINERS.includes(role);
export const maySet = (role) => SETTERS.includes(role);

/** A value's label: booleans and null in words, known topics translated, numbers formatted. */
function valueLabel(v) {
  if (v === null || v === undefined) return t('tags.value.null');
  if (v === true || v === false) return t(`tags.value.${v}`);
  if (typeof v === 'number') return fmtNumber(v);
  return has(`content.topic.${v}`) ? t(`content.topic.${v}`) : String(v);
}

/** The line of src holding column col (1-based, in characters) and the column within it. */
function lineAt(src, col) {
  const chars = Array.from(src);
  let start = 0;
  for (let i = 0; i < Math.min(col - 1, chars.length); i++) if (chars[i] === '\n') start = i + 1;
  let end = start;
  while (end < chars.length && chars[end] !== '\n') end++;
  return { text: chars.slice(start, end).join(''), at: col - 1 - start };
}

/** An expression error under its column: "column N: message", the line with a caret, what was expected. */
function exprErrorEl(src, e) {
  const { text, at } = lineAt(src, e.column);
  return [
    h('div', { class: 'expr-error-msg' },
      h('strong', { i18n: 'tags.check.error_at', i18nArgs: { col: e.column } }), ' ',
      h('span', { class: 'server-message', text: e.message })),
    h('pre', { class: 'expr-caret mono', 'aria-hidden': 'true' }, `${text}\n${' '.repeat(Math.max(0, at))}^`),
    h('div', { class: 'muted' }, h('span', { i18n: 'tags.check.expected' }), ' ', h('span', { class: 'expected', text: e.expected })),
  ];
}

/* ---------- charts ---------- */

function chartOption(d) {
  if (d.type === 'number') {
    const whole = d.bins.every((b) => b.from === b.to);
    const labels = () => d.bins.map((b) => (whole ? fmtNumber(b.from)
      : `${fmtNumber(Math.round(b.from * 100) / 100)}–${fmtNumber(Math.round(b.to * 100) / 100)}`));
    return () => ({
      color: COLORS,
      tooltip: { trigger: 'axis' },
      grid: { left: 48, right: 16, top: 16, bottom: 48 },
      xAxis: { type: 'category', data: labels(), axisLabel: { rotate: whole ? 0 : 30 } },
      yAxis: { type: 'value', name: t('tags.chart.doctors') },
      series: [{ type: 'bar', name: t('tags.chart.doctors'), data: d.bins.map((b) => b.count), barCategoryGap: '4%' }],
    });
  }
  const values = d.values.filter((v) => v.count > 0);
  if (d.type === 'boolean') {
    const color = (v) => (v === true ? '#2da44e' : v === false ? '#8c959f' : '#d0d7de');
    return () => ({
      tooltip: { trigger: 'item', formatter: (p) => `${p.name}: ${fmtNumber(p.value)} (${p.percent}%)` },
      legend: { bottom: 0 },
      series: [{
        type: 'pie', radius: ['35%', '65%'], top: 0, bottom: 24,
        data: values.map((v) => ({ name: valueLabel(v.value), value: v.count, itemStyle: { color: color(v.value) } })),
      }],
    });
  }
  return () => ({
    color: COLORS,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 110, right: 48, top: 8, bottom: 24 },
    xAxis: { type: 'value' },
    yAxis: { type: 'category', inverse: true, data: values.map((v) => valueLabel(v.value)) },
    series: [{
      type: 'bar', name: t('tags.chart.doctors'), data: values.map((v) => v.count),
      label: { show: true, position: 'right', formatter: (p) => `${(values[p.dataIndex].share * 100).toFixed(1)}%` },
    }],
  });
}

/** The distribution of tag name in box: a chart and a line of figures. */
async function drawDistribution(ctx, box, name, charts) {
  const chartEl = h('div', { class: 'chart chart-small tag-chart', id: `tag-chart-${name}` });
  const figures = h('p', { class: 'muted small tag-figures' });
  box.replaceChildren(chartEl, figures);
  try {
    const d = await api.get(`/tags/${enc(name)}/distribution`, { signal: ctx.signal, quiet: true });
    box.dataset.doctors = String(d.doctors);
    if (d.type === 'number') {
      figures.replaceChildren(d.count
        ? h('span', { i18n: 'tags.stats', i18nArgs: { min: fmtNumber(d.min), max: fmtNumber(d.max), mean: fmtNumber(Math.round(d.mean * 100) / 100) } })
        : h('span', { i18n: 'tags.no_values' }));
    } else {
      const top = d.values.filter((v) => v.value !== null && v.count > 0);
      figures.replaceChildren(top.length
        ? h('span', {}, ...top.slice(0, 4).map((v, i) => h('span', { class: 'tag-share' }, i ? ' · ' : '',
          h('span', { text: valueLabel(v.value) }), ' ', h('span', { class: 'num', text: `${(v.share * 100).toFixed(1)}%` }))))
        : h('span', { i18n: 'tags.no_values' }));
    }
    await mountChart(ctx, chartEl, chartOption(d), charts);
    box.dataset.state = 'ready';
  } catch (err) {
    if (err.code !== 'aborted') box.replaceChildren(errorCard('tags.dist_failed', err));
  }
}

/* ---------- the form ---------- */

/** The define/edit form. tag: the tag to edit (its values prefilled), or null. onDone(saved). */
function tagForm(ctx, { tag = null, onDone, onCancel }) {
  const slot = formErrorSlot();
  const name = h('input', { name: 'name', id: 'tag-f-name', required: true, maxlength: '63', autocomplete: 'off', spellcheck: 'false',
    pattern: '[a-z][a-z0-9_]{0,62}', class: 'mono', value: tag ? tag.name : '', disabled: Boolean(tag) });
  const kind = h('select', { name: 'kind', id: 'tag-f-kind' },
    h('option', { value: 'computed', i18n: 'tags.kind.computed' }), h('option', { value: 'manual', i18n: 'tags.kind.manual' }));
  kind.value = tag ? tag.kind : 'computed';
  const expr = h('textarea', { name: 'expr', id: 'tag-f-expr', class: 'mono expr-editor', rows: '3', spellcheck: 'false', autocomplete: 'off' });
  expr.value = tag && tag.expr ? tag.expr : '';
  const type = h('select', { name: 'type', id: 'tag-f-type' }, TYPES.map((x) => h('option', { value: x, i18n: `tags.type.${x}` })));
  type.value = tag ? tag.type : 'boolean';
  const category = h('input', { name: 'category', id: 'tag-f-category', maxlength: '64', value: tag && tag.category ? tag.category : '' });
  const description = h('textarea', { name: 'description', id: 'tag-f-description', rows: '2' });
  description.value = tag && tag.description ? tag.description : '';
  const status = h('div', { id: 'tag-f-status', class: 'expr-status', role: 'status', 'aria-live': 'polite' });
  const exprField = field('tags.f.expr', expr);
  const typeField = field('tags.f.type', type);
  const save = h('button', { type: 'submit', class: 'btn btn-primary', id: 'tag-f-save', i18n: 'tags.f.save' });
  const st = { seq: 0 };

  function showKind() {
    const manual = kind.value === 'manual';
    exprField.hidden = manual;
    status.hidden = manual;
    typeField.hidden = !manual;
  }

  async function check() {
    const seq = ++st.seq;
    const src = expr.value;
    if (!src.trim()) {
      status.dataset.state = 'empty';
      status.replaceChildren(h('span', { class: 'muted', i18n: 'tags.check.hint' }));
      return;
    }
    try {
      const c = await api.post('/expressions/check', { expr: src }, { signal: ctx.signal, quiet: true });
      if (seq !== st.seq) return;
      if (!c.valid) {
        status.dataset.state = 'error';
        status.replaceChildren(...exprErrorEl(src, c.error));
        return;
      }
      status.dataset.state = 'ok';
      status.replaceChildren(h('span', { class: 'ok', i18n: 'tags.check.valid', i18nArgs: { type: { k: `tags.type.${c.type}` } } }));
    } catch (err) {
      if (err.code !== 'aborted' && seq === st.seq) formError(form, slot, err);
    }
  }
  const recheck = debounce(check, CHECK_DELAY_MS);
  expr.addEventListener('input', recheck);
  kind.addEventListener('change', showKind);
  ctx.onCleanup(() => recheck.cancel());

  const form = h('form', { class: 'form tag-form', id: 'tag-form', novalidate: true },
    h('h2', tag ? { i18n: 'tags.form.title_edit', i18nArgs: { name: tag.name } } : { i18n: 'tags.form.title_new' }),
    h('div', { class: 'form-grid' },
      field('tags.f.name', name, { hint: h('small', { class: 'muted', i18n: 'tags.f.name_hint' }) }),
      field('tags.f.kind', kind),
      field('tags.f.category', category, { optional: true })),
    exprField, status, typeField,
    field('tags.f.description', description, { optional: true }),
    slot,
    h('div', { class: 'form-actions' }, save,
      h('button', { type: 'button', class: 'btn', id: 'tag-f-cancel', i18n: 'tags.f.cancel', on: { click: () => onCancel() } })));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFormError(form, slot);
    recheck.cancel();
    const manual = kind.value === 'manual';
    const body = { description: description.value.trim() || null, category: category.value.trim() || null };
    if (manual) {
      body.expr = null;
      body.type = type.value;
    } else {
      body.expr = expr.value;
    }
    const n = (tag ? tag.name : name.value).trim();
    save.disabled = true;
    try {
      const res = await request('PUT', `/tags/${enc(n)}`, { body, signal: ctx.signal, quiet: true });
      onDone(res);
    } catch (err) {
      if (err.code === 'aborted') return;
      if (err.status === 400 && err.detail && err.detail.field === 'expr' && err.detail.column) {
        status.hidden = false;
        status.dataset.state = 'error';
        status.replaceChildren(...exprErrorEl(expr.value, { column: err.detail.column, message: err.serverMessage || err.message, expected: err.detail.expected || '' }));
        expr.setAttribute('aria-invalid', 'true');
        expr.focus();
      } else {
        formError(form, slot, err);
      }
    } finally {
      save.disabled = false;
    }
  });
  showKind();
  if (!manualOnly(tag)) check();
  return { form, focus: () => (tag ? (kind.value === 'manual' ? description : expr) : name).focus() };
}

const manualOnly = (tag) => tag && tag.kind === 'manual';

/* ---------- the catalogue ---------- */

function tagCard(ctx, tag, { charts, onEdit, onDeleted }) {
  const dist = h('div', { class: 'tag-dist', dataset: { state: 'loading' } }, h('p', { class: 'loading', i18n: 'common.loading' }));
  const badges = h('div', { class: 'badges' },
    h('span', { class: `badge tag-type type-${tag.type}`, i18n: `tags.type.${tag.type}` }),
    h('span', { class: `badge tag-kind kind-${tag.kind}`, i18n: `tags.kind.${tag.kind}` }),
    h('span', { class: 'badge tag-category' }, tag.category ? h('span', { text: tag.category }) : h('span', { i18n: 'tags.no_category' })));
  const actions = mayDefine(ctx.user.role) ? h('div', { class: 'tag-actions' },
    h('button', { type: 'button', class: 'btn btn-small tag-edit', i18n: 'tags.edit', on: { click: () => onEdit(tag) } }),
    confirmButton('tags.delete', 'tags.delete_confirm', async () => {
      try {
        await api.del(`/tags/${enc(tag.name)}`, { signal: ctx.signal, quiet: true });
        onDeleted(tag);
      } catch (err) {
        if (err.code !== 'aborted') card.append(errorCard('tags.delete_failed', err));
      }
    }, { cls: 'btn btn-small btn-danger tag-delete' })) : null;
  const definition = tag.kind === 'manual'
    ? h('p', { class: 'muted tag-def', i18n: 'tags.manual_def' })
    : h('pre', { class: 'mono tag-def expr-view', text: tag.expr });
  const card = h('section', { class: 'card tag-card', id: `tag-${tag.name}`, dataset: { tag: tag.name, type: tag.type } },
    h('div', { class: 'card-head' }, h('h2', { class: 'mono tag-name', text: tag.name }), actions),
    badges,
    tag.description ? h('p', { class: 'tag-desc', text: tag.description }) : null,
    h('div', { class: 'tag-def-row' }, h('span', { class: 'field-label', i18n: 'tags.definition' }), definition),
    tag.error ? h('p', { class: 'form-error tag-error', role: 'alert' }, h('span', { i18n: 'tags.error' }), ' ', h('span', { text: tag.error })) : null,
    h('p', { class: 'muted small tag-counts' }, countEl('tags.with_value', tag.counts.with_value),
      ' / ', countEl('tags.doctors_total', tag.counts.doctors)),
    tag.uses.length ? h('p', { class: 'muted small' }, h('span', { i18n: 'tags.uses' }), ' ', h('span', { class: 'mono', text: tag.uses.join(', ') })) : null,
    tag.used_by.length ? h('p', { class: 'muted small' }, h('span', { i18n: 'tags.used_by' }), ' ', h('span', { class: 'mono', text: tag.used_by.join(', ') })) : null,
    dist);
  drawDistribution(ctx, dist, tag.name, charts);
  return card;
}

export function render(ctx) {
  const list = h('div', { class: 'tag-grid', id: 'tag-list' }, h('p', { class: 'loading', i18n: 'common.loading' }));
  const formSlot = h('div', { id: 'tag-form-slot' });
  const status = h('p', { class: 'muted', id: 'tag-status', role: 'status' });
  const category = h('select', { id: 'tag-category' }, h('option', { value: '', i18n: 'tags.cat_all' }));
  const errorSlot = h('div');
  const st = { tags: [], category: ctx.query.get('category') || '' };
  let charts = null;

  function openForm(tag) {
    const f = tagForm(ctx, {
      tag,
      onDone: (saved) => {
        formSlot.replaceChildren();
        ctx.notify('tags.saved', { name: saved.name });
        load();
      },
      onCancel: () => formSlot.replaceChildren(),
    });
    formSlot.replaceChildren(h('section', { class: 'card' }, f.form));
    f.focus();
  }

  function draw() {
    const shown = st.tags.filter((x) => !st.category || (x.category || '') === st.category);
    list.replaceChildren(...(shown.length
      ? shown.map((tag) => tagCard(ctx, tag, { charts, onEdit: openForm, onDeleted: (g) => { ctx.notify('tags.deleted', { name: g.name }); load(); } }))
      : [h('p', { class: 'muted', id: 'tag-empty', i18n: 'tags.empty' })]));
    list.dataset.state = 'ready';
  }

  async function load() {
    try {
      charts = charts || loadEcharts();
      const res = await api.get('/tags', { query: { limit: 500 }, signal: ctx.signal, quiet: true });
      st.tags = res.items;
      const cats = [...new Set(st.tags.map((x) => x.category).filter(Boolean))].sort();
      category.replaceChildren(h('option', { value: '', i18n: 'tags.cat_all' }), ...cats.map((c) => h('option', { value: c, text: c })));
      category.value = cats.includes(st.category) ? st.category : '';
      draw();
    } catch (err) {
      if (err.code !== 'aborted') list.replaceChildren(errorCard('tags.failed', err));
    }
  }

  category.addEventListener('change', () => {
    st.category = category.value;
    ctx.setQuery(st.category ? { category: st.category } : {});
    draw();
  });

  async function recompute(btn) {
    btn.disabled = true;
    try {
      const r = await api.post('/tags/recompute', {}, { signal: ctx.signal, quiet: true });
      status.replaceChildren(h('span', { i18n: 'tags.recomputed', i18nArgs: { tags: fmtNumber(r.tags), hcps: fmtNumber(r.hcps), ms: r.took_ms.toFixed(1) } }));
      load();
    } catch (err) {
      if (err.code !== 'aborted') errorSlot.replaceChildren(errorCard('tags.failed', err));
    } finally {
      btn.disabled = false;
    }
  }

  const tools = mayDefine(ctx.user.role) ? [
    h('button', { type: 'button', class: 'btn btn-primary', id: 'tag-new', i18n: 'tags.new', on: { click: () => openForm(null) } }),
    h('button', { type: 'button', class: 'btn', id: 'tag-recompute', i18n: 'tags.recompute', on: { click: (e) => recompute(e.currentTarget) } }),
  ] : [];
  const page = h('div', { class: 'page tags' },
    h('div', { class: 'page-head' }, h('h1', { i18n: 'tags.title' }), h('div', { class: 'toolbar' }, field('tags.category', category), ...tools)),
    h('p', { class: 'muted', i18n: 'tags.intro' }),
    status, errorSlot, formSlot, list);
  ctx.onLang(() => refreshNumbers(page));
  load();
  return page;
}

/* ---------- a doctor's tags (the HCP profile) ---------- */

/** The control that sets a manual tag's value: a select for booleans, an input otherwise. */
function valueControl(item) {
  if (item.type === 'boolean') {
    const s = h('select', { class: 'tag-value-input' },
      h('option', { value: '', i18n: 'tags.value.null' }),
      h('option', { value: 'true', i18n: 'tags.value.true' }),
      h('option', { value: 'false', i18n: 'tags.value.false' }));
    s.value = item.value === null ? '' : String(item.value);
    return { el: s, read: () => (s.value === '' ? null : s.value === 'true') };
  }
  const input = h('input', { class: 'tag-value-input', type: item.type === 'number' ? 'number' : 'text', step: 'any',
    maxlength: '200', value: item.value === null ? '' : String(item.value) });
  return { el: input, read: () => (input.value.trim() === '' ? null : item.type === 'number' ? Number(input.value) : input.value.trim()) };
}

/** The tags section of an HCP's profile: {el, load}. st.hcp is the doctor. */
export function tagsCard(ctx, st) {
  const { table, tbody } = dataTable('tags.hcp.col', ['name', 'value', 'source']);
  table.id = 'hcp-tags-table';
  const card = h('section', { class: 'card', id: 'hcp-tags' }, cardHead('tags.hcp.title'), h('div', { class: 'table-wrap' }, table));
  const setter = maySet(ctx.user.role);

  function valueCell(item) {
    if (item.value === null) return h('span', { class: 'muted', i18n: 'tags.value.null' });
    if (item.type === 'number') return numEl(Math.round(item.value * 1000) / 1000);
    return h('span', { text: valueLabel(item.value) });
  }

  function row(item) {
    const source = item.kind === 'manual'
      ? h('span', {}, h('span', { i18n: 'tags.kind.manual' }), item.set_by ? [' · ', h('span', { class: 'mono', text: item.set_by }), ' ', timeEl(item.set_at)] : null)
      : h('span', { class: 'muted', i18n: 'tags.kind.computed' });
    const tr = h('tr', { dataset: { tag: item.name } },
      h('td', { class: 'mono' }, h('a', { href: '#/tags', text: item.name })),
      h('td', { class: 'tag-value' }, valueCell(item)),
      h('td', {}, source));
    if (item.kind === 'manual' && setter) {
      const c = valueControl(item);
      const err = h('span', { class: 'field-error', hidden: true });
      const save = h('button', { type: 'button', class: 'btn btn-small tag-set', i18n: 'tags.hcp.save' });
      save.addEventListener('click', async () => {
        save.disabled = true;
        err.hidden = true;
        try {
          await request('PUT', `/hcps/${enc(st.hcp.id)}/tags/${enc(item.name)}`, { body: { value: c.read() }, signal: ctx.signal, quiet: true });
          ctx.notify('tags.hcp.saved', { name: item.name });
          load();
        } catch (e) {
          if (e.code === 'aborted') return;
          err.textContent = e.serverMessage || e.message;
          err.hidden = false;
        } finally {
          save.disabled = false;
        }
      });
      tr.children[1].append(h('span', { class: 'tag-setter' }, ' ', c.el, ' ', save, err));
    }
    return tr;
  }

  async function load() {
    try {
      const res = await api.get(`/hcps/${enc(st.hcp.id)}/tags`, { signal: ctx.signal, quiet: true });
      tbody.replaceChildren(...(res.items.length ? res.items.map(row) : [emptyRow(3, 'tags.hcp.none')]));
      table.dataset.state = 'ready';
    } catch (err) {
      if (err.code !== 'aborted') tbody.replaceChildren(h('tr', {}, h('td', { colspan: 3 }, errorCard('tags.hcp.failed', err))));
    }
  }
  return { el: card, load };
}

