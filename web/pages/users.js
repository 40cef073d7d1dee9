// User administration (admin only): a paged table of users filtered by role
// or text, a form to add a user, and an edit dialog (name, role, rep id,
// status, password reset) that PATCHes only what changed.

import { api } from '../api.js';
import { h, tr, roleEl, timeEl } from '../dom.js';
import { field, roleSelect, dataTable, emptyRow, markField } from '../widgets.js';

const PAGE_SIZE = 20;
const COLUMNS = ['login', 'name', 'role', 'rep_id', 'status', 'last_login', 'created', 'actions'];

function statusBadge(status) {
  return h('span', { class: `badge status-${status}`, i18n: `users.status.${status}` });
}

function button(key, onClick, cls = 'btn btn-small') {
  return h('button', { type: 'button', class: cls, i18n: key, on: { click: onClick } });
}

/** The paged list: filters, table and pager. load() shows the current page. */
function userList(ctx, openEdit) {
  const st = { cursors: [null], page: 0, role: '', q: '' };
  const { table, tbody } = dataTable('users.col', COLUMNS);
  const pageLabel = h('span', { class: 'pager-label' });
  const prev = button('pager.prev', () => { st.page -= 1; load(); }, 'btn btn-small');
  const next = button('pager.next', () => { st.page += 1; load(); }, 'btn btn-small');
  const filters = h('form', { class: 'toolbar', id: 'user-filters' },
    field('users.filter_role', roleSelect({ allKey: 'users.all_roles' })),
    field('users.q', h('input', { name: 'q', type: 'search', i18nAttr: { placeholder: 'users.q_placeholder' } })),
    h('button', { type: 'submit', class: 'btn', i18n: 'users.search' }));
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    Object.assign(st, { cursors: [null], page: 0, role: filters.elements.role.value, q: filters.elements.q.value.trim() });
    load();
  });

  function row(user) {
    const toggle = user.status === 'disabled'
      ? button('users.enable', () => setStatus(user, 'active'))
      : button('users.disable', () => setStatus(user, 'disabled'));
    return h('tr', { dataset: { id: user.id, login: user.login } },
      h('td', { text: user.login }),
      h('td', { text: user.name || '' }),
      h('td', {}, roleEl(user.role)),
      h('td', { text: user.rep_id || '' }),
      h('td', {}, statusBadge(user.status)),
      h('td', {}, timeEl(user.last_login_at, 'minutes', 'common.never')),
      h('td', {}, timeEl(user.created_at)),
      h('td', { class: 'actions' }, button('users.edit', () => openEdit(user)), toggle));
  }

  async function setStatus(user, status) {
    try {
      await api.patch(`/users/${encodeURIComponent(user.id)}`, { status }, { signal: ctx.signal });
      ctx.notify('users.saved', { login: user.login });
      load();
    } catch {
      /* shown in the banner by api.js */
    }
  }

  async function load() {
    try {
      const res = await api.get('/users', {
        query: { limit: PAGE_SIZE, cursor: st.cursors[st.page], role: st.role, q: st.q }, signal: ctx.signal,
      });
      const items = res.items || [];
      st.cursors[st.page + 1] = res.next_cursor || null;
      tbody.replaceChildren(...(items.length ? items.map(row) : [emptyRow(COLUMNS.length, 'users.empty')]));
      prev.disabled = st.page === 0;
      next.disabled = !res.next_cursor;
      pageLabel.replaceChildren(tr('pager.page', { n: st.page + 1 }));
    } catch {
      /* shown in the banner by api.js */
    }
  }

  const el = h('section', { class: 'card' }, filters,
    h('div', { class: 'table-wrap' }, table),
    h('div', { class: 'pager' }, prev, pageLabel, next));
  return { el, load };
}

/** The "add user" form; calls onCreated(user) after a 201. */
function addUserForm(ctx, onCreated) {
  const form = h('form', { class: 'form-grid', id: 'add-user' },
    field('users.col.login', h('input', { name: 'login', required: true, autocomplete: 'off', spellcheck: 'false' })),
    field('users.col.name', h('input', { name: 'name', required: true, autocomplete: 'off' })),
    field('users.col.role', roleSelect({ required: true, value: 'field_rep' })),
    field('users.col.rep_id', h('input', { name: 'rep_id', autocomplete: 'off' }), { optional: true }),
    field('users.password', h('input', { name: 'password', type: 'password', required: true, autocomplete: 'new-password' })),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary', i18n: 'users.add_submit' })));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = (name) => form.elements[name].value.trim();
    const body = { login: v('login'), name: v('name'), role: v('role'), password: form.elements.password.value };
    if (v('rep_id')) body.rep_id = v('rep_id');
    try {
      const user = await api.post('/users', body, { signal: ctx.signal });
      markField(form, null);
      form.reset();
      ctx.notify('users.created', { login: user.login });
      onCreated(user);
    } catch (err) {
      markField(form, err);
    }
  });
  return h('details', { class: 'card add-user' }, h('summary', { i18n: 'users.add_title' }), form);
}

/** The edit dialog; open(user) shows it, onSaved(user) runs after a 200. */
function editDialog(ctx, onSaved) {
  let current = null;
  const title = h('h2', {});
  const form = h('form', { class: 'form-grid', id: 'edit-user' },
    field('users.col.name', h('input', { name: 'name', required: true })),
    field('users.col.role', roleSelect({ required: true })),
    field('users.col.rep_id', h('input', { name: 'rep_id' }), { optional: true }),
    field('users.col.status', h('select', { name: 'status' },
      h('option', { value: 'active', i18n: 'users.status.active' }),
      h('option', { value: 'disabled', i18n: 'users.status.disabled' }))),
    field('users.new_password', h('input', { name: 'password', type: 'password', autocomplete: 'new-password' })),
    h('div', { class: 'form-actions' },
      h('button', { type: 'button', class: 'btn', i18n: 'common.cancel', on: { click: () => dialog.close() } }),
      h('button', { type: 'submit', class: 'btn btn-primary', i18n: 'common.save' })));
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'edit-user-title' }, title, form);
  title.id = 'edit-user-title';

  function changes() {
    const body = {};
    for (const name of ['name', 'role', 'rep_id', 'status']) {
      const value = form.elements[name].value.trim();
      if (value !== (current[name] || '')) body[name] = value;
    }
    if (form.elements.password.value) body.password = form.elements.password.value;
    return body;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = changes();
    if (Object.keys(body).length === 0) {
      dialog.close();
      return;
    }
    try {
      const user = await api.patch(`/users/${encodeURIComponent(current.id)}`, body, { signal: ctx.signal });
      dialog.close();
      ctx.notify('users.saved', { login: (user && user.login) || current.login });
      onSaved(user);
    } catch (err) {
      markField(form, err);
    }
  });

  function open(user) {
    current = user;
    title.replaceChildren(tr('users.edit_title', { login: user.login }));
    markField(form, null);
    for (const name of ['name', 'role', 'rep_id', 'status']) form.elements[name].value = user[name] || '';
    form.elements.password.value = '';
    dialog.showModal();
  }
  return { el: dialog, open };
}

export function render(ctx) {
  const dialog = editDialog(ctx, () => list.load());
  const list = userList(ctx, (user) => dialog.open(user));
  const add = addUserForm(ctx, () => list.load());
  list.load();
  return h('div', { class: 'page users' },
    h('h1', { i18n: 'users.title' }),
    add, list.el, dialog.el);
}
