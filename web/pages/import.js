// CSV import of master data (admin): choose what the file holds, the file and
// (for a file Excel saved as GBK) its encoding; the file goes to
// POST /api/v1/{entity}/import as it is (Content-Type: text/csv). The answer
// is a row-level report: rows created, updated, unchanged and failed (numbers
// and a chart) and a table of the bad rows — line, column, field, reason —
// so the file can be fixed and imported again (re-importing changes nothing
// that is already there).

import { api } from '../api.js';
import { h, tr } from '../dom.js';
import { t } from '../i18n.js';
import { mountChart } from '../chart.js';
import { field, dataTable, emptyRow } from '../widgets.js';
import { numEl, countEl, refreshNumbers, errorCard, cardHead, enumOptions } from './md.js';

const ENTITIES = ['territories', 'hcos', 'reps', 'hcps', 'content', 'alignments', 'consents', 'identities'];
const COLUMNS = {
  territories: ['id', 'name', 'parent'],
  hcos: ['id', 'name', 'level', 'grade', 'type', 'province', 'city', 'city_tier', 'region', 'address', 'departments'],
  reps: ['id', 'name', 'type', 'manager', 'territory', 'user'],
  hcps: ['id', 'name', 'pinyin', 'gender', 'title', 'specialty', 'department', 'hco', 'license_no', 'phone', 'email', 'status'],
  content: ['id', 'title', 'topic', 'product', 'status', 'expires_at'],
  alignments: ['hcp', 'rep', 'role', 'product', 'valid_from', 'valid_to'],
  consents: ['hcp', 'channel', 'purpose', 'status', 'captured_at', 'source', 'evidence', 'version'],
  identities: ['hcp', 'kind', 'value', 'app', 'verified', 'source'],
};
const CUSTOM_ATTRS = ['hcos', 'reps', 'hcps', 'territories', 'content']; // extra columns kept as custom attributes
const ENCODINGS = ['utf-8', 'gb18030', 'utf-16'];
const MAX_BYTES = 64 * 1024 * 1024;
const OUTCOMES = ['created', 'updated', 'unchanged', 'failed'];
const COLORS = { created: '#1a7f37', updated: '#0b5cab', unchanged: '#8c959f', failed: '#c62828' };
const ERROR_COLUMNS = ['line', 'column', 'field', 'message'];

function chartOption(report) {
  const data = OUTCOMES.map((k) => ({ name: t(`import.stat.${k}`), value: report[k] || 0, itemStyle: { color: COLORS[k] } }));
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
  const stats = ['rows', ...OUTCOMES].map((k) => h('div', { class: `stat stat-${k}`, dataset: { stat: k } },
    h('div', { class: 'stat-value' }, numEl(report[k] || 0)),
    h('div', { class: 'stat-label', i18n: `import.stat.${k}` })));
  const chartEl = h('div', { class: 'chart chart-small', id: 'import-chart', role: 'img', i18nAttr: { 'aria-label': 'import.chart' } });
  const { table, tbody } = dataTable('import.err', ERROR_COLUMNS);
  table.id = 'import-errors';
  const errors = report.errors || [];
  tbody.replaceChildren(...(errors.length ? errors.map((e) => h('tr', { dataset: { line: e.line } },
    h('td', { class: 'num-cell' }, numEl(e.line)),
    h('td', { class: 'num-cell' }, e.column ? numEl(e.column) : ''),
    h('td', {}, e.field ? h('code', { text: e.field }) : ''),
    h('td', { class: 'error-message', text: e.message || '' }))) : [emptyRow(ERROR_COLUMNS.length, 'import.no_errors')]));
  const truncated = report.errors_total > errors.length
    ? h('p', { class: 'note' }, countEl('import.errors_truncated', report.errors_total, { shown: errors.length }))
    : null;
  const outcome = report.failed > 0 ? 'import.outcome_partial' : 'import.outcome_ok';
  const card = h('section', { class: 'card', id: 'import-result', dataset: { entity: report.entity || '' } },
    cardHead('import.result', h('span', { class: 'muted', text: fileName })),
    h('p', { class: report.failed > 0 ? 'note note-warn' : 'note note-ok', id: 'import-outcome' },
      h('span', { i18n: outcome, i18nArgs: { entity: { k: `import.entity.${report.entity}` } } }), ' ',
      countEl('import.took', report.took_ms || 0)),
    h('div', { class: 'import-summary' }, h('div', { class: 'stats' }, stats), report.rows > 0 ? chartEl : null),
    h('h3', {}, tr('import.errors_title'), ' ', h('span', { class: 'badge' }, numEl(report.errors_total || 0))),
    truncated,
    h('div', { class: 'table-wrap' }, table));
  if (report.rows > 0) setTimeout(() => drawChart(ctx, chartEl, report), 0);
  return card;
}

export function render(ctx) {
  const resultSlot = h('div', { id: 'import-result-slot' });
  const columnsHint = h('div', { class: 'columns-hint', id: 'import-columns' });
  const entity = h('select', { name: 'entity', id: 'import-entity', required: true, value: ctx.query.get('entity') || 'hcps' },
    enumOptions('import.entity', ENTITIES));
  const file = h('input', { type: 'file', name: 'file', id: 'import-file', accept: '.csv,text/csv', required: true });
  const encoding = h('select', { name: 'encoding', id: 'import-encoding' }, enumOptions('import.enc', ENCODINGS, 'import.enc.auto'));
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'import-submit', i18n: 'import.submit' });
  const form = h('form', { class: 'form-grid', id: 'import-form' },
    field('import.entity_label', entity),
    field('import.file', file),
    field('import.encoding', encoding, { hint: h('small', { class: 'muted', i18n: 'import.encoding_hint' }) }),
    h('div', { class: 'form-actions' }, submit));

  function drawHint() {
    const e = entity.value;
    columnsHint.replaceChildren(
      h('span', { class: 'muted', i18n: 'import.columns' }), ' ',
      h('code', { text: COLUMNS[e].join(',') }),
      CUSTOM_ATTRS.includes(e) ? h('span', { class: 'muted', i18n: 'import.custom_attrs' }) : null);
  }
  entity.addEventListener('change', () => { drawHint(); ctx.setQuery({ entity: entity.value }); });

  let previous = null;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = file.files && file.files[0];
    if (!f) {
      resultSlot.replaceChildren(h('p', { class: 'form-error', role: 'alert', i18n: 'import.choose_file' }));
      return;
    }
    if (f.size > MAX_BYTES) {
      resultSlot.replaceChildren(h('p', { class: 'form-error', role: 'alert', i18n: 'import.too_big' }));
      return;
    }
    submit.disabled = true;
    submit.dataset.i18n = 'import.busy';
    submit.textContent = t('import.busy');
    if (previous && previous.dispose) previous.dispose();
    resultSlot.replaceChildren(h('p', { class: 'loading', id: 'import-busy' }, tr('import.busy_text', { name: f.name })));
    try {
      const report = await api.upload(`/${entity.value}/import`, f, 'text/csv', {
        query: { encoding: encoding.value }, signal: ctx.signal, quiet: true,
      });
      const card = resultCard(ctx, f.name, report);
      previous = card.querySelector('#import-chart');
      resultSlot.replaceChildren(card);
      ctx.notify('import.done', { n: report.rows });
    } catch (err) {
      if (err.code !== 'aborted') resultSlot.replaceChildren(errorCard('import.failed', err));
    } finally {
      submit.disabled = false;
      submit.dataset.i18n = 'import.submit';
      submit.textContent = t('import.submit');
    }
  });
  drawHint();

  const page = h('div', { class: 'page import' },
    h('div', { class: 'page-head' }, h('h1', { i18n: 'import.title' })),
    h('section', { class: 'card' },
      h('p', { class: 'muted', i18n: 'import.intro' }),
      form, columnsHint,
      h('p', { class: 'muted small', i18n: 'import.order' })),
    resultSlot);
  ctx.onLang(() => refreshNumbers(page));
  return page;
}
