// The segment builder: "which doctors…?" asked in the expression language
// (docs/expressions.md) and answered from the in-memory engine as you type.
// The editor checks the expression after each pause (POST
// /expressions/check) and shows an error under the column it points at,
// with what was expected there; a boolean expression gets its live count
// (POST /segments/count, within the caller's scope) and, on request, its
// members (POST /segments/members, paged) and a CSV export. as_of (optional)
// fixes the windows, so an answer can be reproduced later. Examples insert
// a ready expression; the expression stays in the hash, so Back returns to it.

import { api, request } from '../api.js';
import { h } from '../dom.js';
import { dataTable, emptyRow } from '../widgets.js';
import { t } from '../i18n.js';
import { mountChart } from '../chart.js';
import { countEl, numEl, refreshNumbers, debounce, errorCard, enumEl, textEl, hcpHref } from './md.js';

const SAVERS = ['admin', 'marketing', 'manager'];

const CHECK_DELAY_MS = 250;
const PAGE_SIZE = 50;

const EXAMPLES = [
  'specialty = "endocrinology"\n  and count(channel = "wechat" and outcome >= "responded", 365d) >= 2\n  and not exists(channel = "visit", 90d)',
  'hco.city_tier in (3, 4, 5) and title in ("assoc_chief", "chief")',
  'days_since(channel = "phone" and outcome >= "successful") > 30',
  'consent.wechat and sum(weight, 180d) >= 10',
  'top(content.topic, channel = "content", 180d) = "patient_data"',
];

/** The line of src holding column col (1-based, in characters) and the column within it. */
function lineAt(src, col) {
  const chars = Array.from(src);
  let start = 0;
  for (let i = 0; i < Math.min(col - 1, chars.length); i++) if (chars[i] === '\n') start = i + 1;
  let end = start;
  while (end < chars.length && chars[end] !== '\n') end++;
  return { text: chars.slice(start, end).join(''), at: col - 1 - start };
}

/** Local datetime-local value → RFC 3339 in the browser's zone, or null. */
function localToIso(v) {
  if (!v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

export function render(ctx) {
  const st = { expr: ctx.query.get('expr') || '', asOf: ctx.query.get('as_of') || '', seq: 0, cursor: null, shown: 0, checked: '' };
  const editor = h('textarea', {
    id: 'seg-expr', class: 'mono expr-editor', rows: 5, spellcheck: 'false', autocomplete: 'off',
    'aria-describedby': 'seg-status', value: st.expr,
  });
  editor.value = st.expr;
  const asOf = h('input', { id: 'seg-asof', type: 'datetime-local', step: 1, value: st.asOf });
  const status = h('div', { id: 'seg-status', class: 'expr-status', role: 'status', 'aria-live': 'polite' });
  const countBox = h('div', { id: 'seg-count', class: 'big-number', hidden: true });
  const membersBtn = h('button', { type: 'button', class: 'btn', id: 'seg-members', i18n: 'seg.show_members', disabled: true });
  const exportBtn = h('button', { type: 'button', class: 'btn', id: 'seg-export', i18n: 'seg.export_csv', disabled: true });
  const columns = ['id', 'name', 'specialty', 'title', 'hco'];
  const { table, tbody } = dataTable('seg.col', columns);
  table.id = 'seg-table';
  const more = h('button', { type: 'button', class: 'btn', id: 'seg-more', i18n: 'md.load_more', hidden: true });
  const shownEl = h('span', { class: 'muted', id: 'seg-shown' });
  const membersCard = h('section', { class: 'card', id: 'seg-members-card', hidden: true },
    h('div', { class: 'card-head' }, h('h2', { i18n: 'seg.members' }), shownEl),
    h('div', { class: 'table-wrap' }, table), h('div', { class: 'pager' }, more));
  const errorSlot = h('div');

  /** The request for expression src (the one checked, not whatever is typed meanwhile). */
  function body(extra = {}, src = st.checked) {
    const b = { expr: src };
    const iso = localToIso(asOf.value);
    if (iso) b.as_of = iso;
    return { ...b, ...extra };
  }

  function showError(src, e) {
    const { text, at } = lineAt(src, e.column);
    status.dataset.state = 'error';
    status.replaceChildren(
      h('div', { class: 'expr-error-msg' },
        h('strong', { i18n: 'seg.error_at', i18nArgs: { col: e.column } }), ' ', h('span', { class: 'server-message', text: e.message })),
      h('pre', { class: 'expr-caret mono', 'aria-hidden': 'true' }, `${text}\n${' '.repeat(Math.max(0, at))}^`),
      h('div', { class: 'muted' }, h('span', { i18n: 'seg.expected' }), ' ', h('span', { class: 'expected', text: e.expected })));
    countBox.hidden = true;
    membersBtn.disabled = true;
    exportBtn.disabled = true;
  }

  async function check() {
    const seq = ++st.seq;
    const src = editor.value;
    ctx.setQuery(src ? { expr: src, ...(asOf.value ? { as_of: asOf.value } : {}) } : {});
    membersCard.hidden = true;
    if (!src.trim()) {
      status.dataset.state = 'empty';
      status.replaceChildren(h('span', { class: 'muted', i18n: 'seg.hint' }));
      countBox.hidden = true;
      membersBtn.disabled = true;
      exportBtn.disabled = true;
      return;
    }
    try {
      const c = await api.post('/expressions/check', { expr: src }, { signal: ctx.signal, quiet: true });
      if (seq !== st.seq) return;
      if (!c.valid) return showError(src, c.error);
      if (c.type !== 'boolean') {
        status.dataset.state = 'error';
        status.replaceChildren(h('span', { i18n: 'seg.not_boolean', i18nArgs: { type: c.type } }));
        countBox.hidden = true;
        membersBtn.disabled = true;
        exportBtn.disabled = true;
        return;
      }
      st.checked = src;
      const r = await api.post('/segments/count', body({}, src), { signal: ctx.signal, quiet: true });
      if (seq !== st.seq) return;
      errorSlot.replaceChildren();
      status.dataset.state = 'ok';
      status.replaceChildren(h('span', { class: 'ok', i18n: 'seg.valid' }), ' ',
        h('span', { class: 'muted', i18n: 'seg.took', i18nArgs: { ms: r.took_ms.toFixed(1) } }));
      countBox.hidden = false;
      countBox.dataset.count = String(r.count);
      countBox.replaceChildren(numEl(r.count, 'num big'), ' ', h('span', { i18n: 'seg.doctors' }));
      membersBtn.disabled = r.count === 0;
      exportBtn.disabled = r.count === 0;
    } catch (err) {
      if (err.code === 'aborted' || seq !== st.seq) return;
      if (err.status === 400 && err.detail && err.detail.column) {
        return showError(src, { column: err.detail.column, message: err.serverMessage || err.message, expected: err.detail.expected || '' });
      }
      status.dataset.state = 'error';
      errorSlot.replaceChildren(errorCard('seg.failed', err));
    }
  }

  function row(it) {
    return h('tr', { dataset: { id: it.id } },
      h('td', { class: 'mono' }, h('a', { href: hcpHref(it.id), text: it.id })),
      h('td', {}, textEl(it.name)),
      h('td', {}, enumEl('specialty', it.specialty)),
      h('td', {}, enumEl('title', it.title)),
      h('td', {}, textEl(it.hco)));
  }

  async function loadMembers(append) {
    const seq = st.seq;
    try {
      const r = await api.post('/segments/members', body({ limit: PAGE_SIZE, cursor: append ? st.cursor : null }),
        { signal: ctx.signal, quiet: true });
      if (seq !== st.seq) return;
      if (!append) {
        tbody.replaceChildren();
        st.shown = 0;
      }
      tbody.append(...r.items.map(row));
      st.shown += r.items.length;
      if (!st.shown) tbody.replaceChildren(emptyRow(columns.length, 'seg.none'));
      st.cursor = r.next_cursor;
      more.hidden = !st.cursor;
      shownEl.replaceChildren(countEl('seg.shown', st.shown));
      membersCard.hidden = false;
      table.dataset.state = 'ready';
    } catch (err) {
      if (err.code === 'aborted') return;
      errorSlot.replaceChildren(errorCard('seg.failed', err));
    }
  }

  async function exportCsv() {
    exportBtn.disabled = true;
    try {
      const text = await api.post('/segments/members', body(), { query: { format: 'csv' }, signal: ctx.signal, quiet: true });
      const blob = new Blob([typeof text === 'string' ? text : ''], { type: 'text/csv;charset=utf-8' });
      const a = h('a', { href: URL.createObjectURL(blob), download: 'segment.csv' });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    } catch (err) {
      if (err.code !== 'aborted') errorSlot.replaceChildren(errorCard('seg.failed', err));
    } finally {
      exportBtn.disabled = false;
    }
  }

  /* ---------- saved segments ---------- */
  const saver = SAVERS.includes(ctx.user.role);
  const nameIn = h('input', { id: 'seg-name', name: 'name', class: 'mono', maxlength: 64, placeholder: 'endo-wechat', autocomplete: 'off' });
  const descIn = h('input', { id: 'seg-desc', name: 'description', maxlength: 1000, autocomplete: 'off' });
  const saveMsg = h('span', { id: 'seg-save-msg', class: 'muted', role: 'status' });
  const saveForm = saver ? h('form', { class: 'toolbar', id: 'seg-save-form' },
    h('label', { class: 'field' }, h('span', { class: 'field-label', i18n: 'seg.name' }), nameIn),
    h('label', { class: 'field grow' }, h('span', { class: 'field-label', i18n: 'seg.description' }), descIn),
    h('button', { type: 'submit', class: 'btn btn-primary', id: 'seg-save', i18n: 'seg.save' }), saveMsg) : null;
  const saved = dataTable('seg.saved', ['name', 'description', 'count', 'updated', 'actions']);
  saved.table.id = 'seg-saved';
  const sizesChart = h('div', { class: 'chart', id: 'seg-sizes-chart', style: 'height: 220px', hidden: true });
  const savedCard = h('section', { class: 'card', id: 'seg-saved-card' },
    h('div', { class: 'card-head' }, h('h2', { i18n: 'seg.saved_title' })),
    h('div', { class: 'table-wrap' }, saved.table), sizesChart);

  async function showSizes(name) {
    const seg = await api.get(`/segments/${encodeURIComponent(name)}`, { signal: ctx.signal, quiet: true });
    sizesChart.hidden = false;
    sizesChart.dataset.segment = name;
    if (sizesChart.dispose) sizesChart.dispose();
    const days = seg.sizes.map((x) => x.day);
    const sizes = seg.sizes.map((x) => x.size);
    await mountChart(ctx, sizesChart, () => ({
      title: { text: t('seg.sizes_title', { name }), textStyle: { fontSize: 13 } },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'category', data: days },
      yAxis: { type: 'value', minInterval: 1 },
      series: [{ type: 'line', name: t('seg.doctors'), data: sizes, showSymbol: true, areaStyle: { opacity: 0.1 } }],
      grid: { left: 50, right: 20, top: 40, bottom: 30 },
    }));
  }

  function savedRow(seg) {
    const open = h('button', { type: 'button', class: 'btn btn-small seg-open', i18n: 'seg.open' });
    open.addEventListener('click', () => {
      editor.value = seg.expr;
      if (saver) {
        nameIn.value = seg.name;
        descIn.value = seg.description || '';
      }
      recheck.cancel();
      check();
      showSizes(seg.name).catch((err) => { if (err.code !== 'aborted') errorSlot.replaceChildren(errorCard('seg.failed', err)); });
    });
    const actions = [open];
    if (saver) {
      const del = h('button', { type: 'button', class: 'btn btn-small btn-ghost seg-delete', i18n: 'seg.delete' });
      del.addEventListener('click', async () => {
        try {
          await api.del(`/segments/${encodeURIComponent(seg.name)}`, { signal: ctx.signal });
          loadSaved();
        } catch { /* shown in the banner */ }
      });
      actions.push(' ', del);
    }
    return h('tr', { dataset: { name: seg.name } },
      h('td', { class: 'mono' }, seg.name),
      h('td', {}, textEl(seg.description)),
      h('td', { class: 'num' }, seg.count === null ? textEl(null) : numEl(seg.count)),
      h('td', {}, textEl(seg.updated_by)),
      h('td', { class: 'actions' }, actions));
  }

  async function loadSaved() {
    try {
      const r = await api.get('/segments', { signal: ctx.signal, quiet: true });
      saved.tbody.replaceChildren(...(r.items.length ? r.items.map(savedRow) : [emptyRow(5, 'seg.saved_none')]));
      saved.table.dataset.state = 'ready';
    } catch (err) {
      if (err.code !== 'aborted') errorSlot.replaceChildren(errorCard('seg.failed', err));
    }
  }

  if (saveForm) {
    saveForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      saveMsg.replaceChildren();
      const name = nameIn.value.trim();
      try {
        const seg = await request('PUT', `/segments/${encodeURIComponent(name)}`,
          { body: { expr: editor.value, description: descIn.value.trim() || null }, signal: ctx.signal, quiet: true });
        saveMsg.replaceChildren(h('span', { class: 'ok', i18n: 'seg.saved_ok', i18nArgs: { name: seg.name } }));
        loadSaved();
      } catch (err) {
        if (err.code === 'aborted') return;
        saveMsg.replaceChildren(h('span', { class: 'error-message', text: err.serverMessage || err.message || String(err) }));
      }
    });
  }

  const recheck = debounce(check, CHECK_DELAY_MS);
  editor.addEventListener('input', recheck);
  asOf.addEventListener('change', () => { recheck.cancel(); check(); });
  membersBtn.addEventListener('click', () => loadMembers(false));
  more.addEventListener('click', () => loadMembers(true));
  exportBtn.addEventListener('click', exportCsv);
  ctx.onCleanup(() => recheck.cancel());

  const examples = h('div', { class: 'chips', id: 'seg-examples' },
    h('span', { class: 'muted', i18n: 'seg.examples' }),
    EXAMPLES.map((ex, i) => h('button', {
      type: 'button', class: 'chip', dataset: { example: String(i) }, i18n: `seg.example.${i}`,
      on: { click: () => { editor.value = ex; recheck.cancel(); check(); editor.focus(); } },
    })));

  const page = h('div', { class: 'page segments' },
    h('div', { class: 'page-head' }, h('h1', { i18n: 'seg.title' }),
      h('a', { class: 'muted', href: '#/segments', i18n: 'seg.clear', on: { click: () => { editor.value = ''; check(); } } })),
    h('section', { class: 'card' },
      h('label', { class: 'field', for: 'seg-expr' }, h('span', { class: 'field-label', i18n: 'seg.expr' })),
      editor, examples,
      h('div', { class: 'toolbar' },
        h('label', { class: 'field' }, h('span', { class: 'field-label', i18n: 'seg.as_of' }), asOf),
        countBox, membersBtn, exportBtn),
      status, saveForm),
    errorSlot, membersCard, savedCard);
  ctx.onLang(() => refreshNumbers(page));
  check();
  loadSaved();
  return page;
}
