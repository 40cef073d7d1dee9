// Personal API tokens (every role): list your tokens, create one with a name
// and an optional lifetime — its value is shown once, with a copy button —
// and revoke one (a second click confirms).

import { api } from '../api.js';
import { h, timeEl } from '../dom.js';
import { t } from '../i18n.js';
import { field, dataTable, emptyRow, markField } from '../widgets.js';

const COLUMNS = ['name', 'created', 'expires', 'status', 'actions'];
const CONFIRM_MS = 4000;

function tokenStatus(tok) {
  if (tok.revoked_at) return 'revoked';
  if (tok.expires_at && new Date(tok.expires_at) <= new Date()) return 'expired';
  return 'active';
}

function setLabel(el, key) {
  el.dataset.i18n = key;
  el.textContent = t(key);
}

/** A revoke button that asks for a second click within a few seconds. */
function revokeButton(onConfirm) {
  let armed = null;
  const btn = h('button', { type: 'button', class: 'btn btn-small btn-danger', i18n: 'tokens.revoke' });
  btn.addEventListener('click', () => {
    if (armed) {
      clearTimeout(armed);
      armed = null;
      btn.disabled = true;
      onConfirm();
      return;
    }
    setLabel(btn, 'tokens.confirm_revoke');
    armed = setTimeout(() => {
      armed = null;
      setLabel(btn, 'tokens.revoke');
    }, CONFIRM_MS);
  });
  return btn;
}

/** Shows a new token's value once, with a copy button. */
function secretPanel(created, onDone) {
  const value = h('input', { class: 'secret mono', id: 'new-token-value', readonly: true, value: created.token, 'aria-label': created.name });
  const copy = h('button', { type: 'button', class: 'btn', id: 'copy-token', i18n: 'tokens.copy' });
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(created.token);
    } catch {
      value.select(); // clipboard refused (not a secure context): let the user copy
      return;
    }
    setLabel(copy, 'tokens.copied');
  });
  return h('div', { class: 'secret-panel', id: 'new-token', role: 'status' },
    h('p', { class: 'warning', i18n: 'tokens.once' }),
    h('div', { class: 'secret-row' }, value, copy,
      h('button', { type: 'button', class: 'btn btn-ghost', i18n: 'tokens.done', on: { click: onDone } })));
}

export function render(ctx) {
  const { table, tbody } = dataTable('tokens.col', COLUMNS);
  const more = h('button', { type: 'button', class: 'btn', i18n: 'tokens.load_more', hidden: true });
  const secretSlot = h('div', {});
  let cursor = null;

  function row(tok) {
    const status = tokenStatus(tok);
    return h('tr', { class: status === 'active' ? null : 'inactive', dataset: { id: tok.id } },
      h('td', { text: tok.name || '' }),
      h('td', {}, timeEl(tok.created_at)),
      h('td', {}, timeEl(tok.expires_at, 'minutes', 'tokens.no_expiry')),
      h('td', {}, h('span', { class: `badge token-${status}`, i18n: `tokens.status.${status}` })),
      h('td', { class: 'actions' }, status === 'revoked' ? null : revokeButton(() => revoke(tok))));
  }

  async function load(append) {
    try {
      const res = await api.get('/tokens', { query: { cursor: append ? cursor : null }, signal: ctx.signal });
      const items = res.items || [];
      if (!append) tbody.replaceChildren();
      tbody.append(...items.map(row));
      if (!tbody.children.length) tbody.append(emptyRow(COLUMNS.length, 'tokens.empty'));
      cursor = res.next_cursor || null;
      more.hidden = !cursor;
    } catch {
      /* shown in the banner by api.js */
    }
  }

  async function revoke(tok) {
    try {
      await api.del(`/tokens/${encodeURIComponent(tok.id)}`, { signal: ctx.signal });
      ctx.notify('tokens.revoked', { name: tok.name });
    } catch {
      /* shown in the banner by api.js */
    }
    load(false);
  }

  const form = h('form', { class: 'toolbar', id: 'create-token' },
    field('tokens.name', h('input', { name: 'name', required: true, autocomplete: 'off', maxlength: '100' })),
    field('tokens.ttl', h('input', { name: 'ttl_days', type: 'number', min: '1', step: '1', inputmode: 'numeric' }), { optional: true }),
    h('button', { type: 'submit', class: 'btn btn-primary', i18n: 'tokens.create' }));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { name: form.elements.name.value.trim() };
    const ttl = form.elements.ttl_days.value.trim();
    if (ttl) body.ttl_days = Number(ttl);
    try {
      const created = await api.post('/tokens', body, { signal: ctx.signal });
      markField(form, null);
      form.reset();
      secretSlot.replaceChildren(secretPanel(created, () => secretSlot.replaceChildren()));
      load(false);
    } catch (err) {
      markField(form, err);
    }
  });
  more.addEventListener('click', () => load(true));
  load(false);

  return h('div', { class: 'page tokens' },
    h('h1', { i18n: 'tokens.title' }),
    h('p', { class: 'muted', i18n: 'tokens.intro' }),
    h('section', { class: 'card' }, form, secretSlot),
    h('section', { class: 'card' }, h('div', { class: 'table-wrap' }, table), h('div', { class: 'pager' }, more)));
}
