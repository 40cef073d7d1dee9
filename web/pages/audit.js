// The audit trail (admin and compliance): filter by user, entity, action and
// time window, read records newest first with "load more" (next_cursor), and
// verify the hash chain (GET /api/v1/audit/verify).

import { api } from '../api.js';
import { h, tr, roleEl, timeEl } from '../dom.js';
import { field, dataTable, emptyRow } from '../widgets.js';

const PAGE_SIZE = 50;
const COLUMNS = ['seq', 'ts', 'user', 'role', 'action', 'entity', 'entity_id', 'status', 'ip', 'request_id'];

/** A datetime-local value (browser's zone) as an RFC 3339 UTC timestamp. */
function toRfc3339(local) {
  if (!local) return '';
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function row(r) {
  const text = (v) => h('td', { text: v === undefined || v === null ? '' : String(v) });
  const failed = Number(r.status) >= 400;
  return h('tr', { class: failed ? 'failed' : null, dataset: { seq: r.seq } },
    text(r.seq), h('td', {}, timeEl(r.ts, 'seconds')), text(r.user), h('td', {}, r.role ? roleEl(r.role) : null),
    h('td', {}, h('code', { text: r.action || '' })), text(r.entity), text(r.entity_id), text(r.status),
    text(r.ip), h('td', { class: 'mono' }, r.request_id || ''));
}

function verifyPanel(ctx) {
  const result = h('span', { class: 'verify-result', id: 'verify-result', role: 'status' });
  const btn = h('button', { type: 'button', class: 'btn', id: 'verify-chain', i18n: 'audit.verify' });
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    result.className = 'verify-result';
    result.replaceChildren(tr('audit.verifying'));
    try {
      const res = await api.get('/audit/verify', { signal: ctx.signal });
      result.classList.add(res.ok ? 'ok' : 'bad');
      result.replaceChildren(res.ok
        ? tr('audit.verify_ok', { n: res.records })
        : tr('audit.verify_bad', { seq: res.first_bad_seq, reason: res.reason || '' }));
    } catch {
      result.replaceChildren();
    } finally {
      btn.disabled = false;
    }
  });
  return h('div', { class: 'verify' }, btn, result);
}

export function render(ctx) {
  let filters = {};
  let cursor = null;
  let shown = 0;
  const { table, tbody } = dataTable('audit.col', COLUMNS);
  const count = h('span', { class: 'muted' });
  const more = h('button', { type: 'button', class: 'btn', id: 'audit-more', i18n: 'audit.load_more', hidden: true });

  const form = h('form', { class: 'toolbar', id: 'audit-filters' },
    field('audit.user', h('input', { name: 'user', autocomplete: 'off' })),
    field('audit.entity', h('input', { name: 'entity', autocomplete: 'off' })),
    field('audit.action', h('input', { name: 'action', autocomplete: 'off' })),
    field('audit.from', h('input', { name: 'from', type: 'datetime-local' })),
    field('audit.to', h('input', { name: 'to', type: 'datetime-local' })),
    h('button', { type: 'submit', class: 'btn btn-primary', i18n: 'audit.apply' }),
    h('button', { type: 'reset', class: 'btn btn-ghost', i18n: 'audit.reset' }));

  async function load(append) {
    try {
      const res = await api.get('/audit', {
        query: { ...filters, limit: PAGE_SIZE, cursor: append ? cursor : null }, signal: ctx.signal,
      });
      const items = res.items || [];
      if (!append) {
        tbody.replaceChildren();
        shown = 0;
      }
      tbody.append(...items.map(row));
      shown += items.length;
      if (shown === 0) tbody.replaceChildren(emptyRow(COLUMNS.length, 'audit.empty'));
      cursor = res.next_cursor || null;
      more.hidden = !cursor;
      count.replaceChildren(tr('audit.count', { n: shown }));
    } catch {
      /* shown in the banner by api.js */
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = (name) => form.elements[name].value.trim();
    filters = { user: v('user'), entity: v('entity'), action: v('action'), from: toRfc3339(v('from')), to: toRfc3339(v('to')) };
    load(false);
  });
  form.addEventListener('reset', () => {
    filters = {};
    setTimeout(() => load(false), 0);
  });
  more.addEventListener('click', () => load(true));
  load(false);

  return h('div', { class: 'page audit' },
    h('div', { class: 'page-head' }, h('h1', { i18n: 'audit.title' }), verifyPanel(ctx)),
    h('section', { class: 'card' }, form,
      h('div', { class: 'table-wrap' }, table),
      h('div', { class: 'pager' }, count, more)));
}
