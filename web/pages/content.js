// The content library (every role reads it; admins and marketing change it):
// the articles, videos and leaflets that reps and campaigns send and that
// events name — title, topic, product, approval status and expiry. A search
// by title (prefix) as you type, filters for topic, product and status (kept
// in the hash, so Back returns to the same list), "more" paging. Admins and
// marketing add an item or change one in the form above the table; other
// roles see the list read-only. Topics the demo uses are shown translated,
// others as they were typed.

import { api } from '../api.js';
import { h, timeEl } from '../dom.js';
import { field, dataTable, emptyRow } from '../widgets.js';
import {
  CONTENT_STATUSES, CONTENT_TOPICS, may, enumEl, enumOptions, textEl, dash, countEl, refreshNumbers, debounce,
  errorCard, formError, clearFormError, formErrorSlot, toRfc3339,
} from './md.js';

const PAGE_SIZE = 50;
const SEARCH_DELAY_MS = 200;
const FILTERS = ['q', 'topic', 'product', 'status'];
const FIELDS = ['title', 'topic', 'product', 'status', 'expires_at'];
const enc = encodeURIComponent;

/** The calendar day of an RFC 3339 time in the browser's zone, as an <input type=date> value. */
function localDay(iso) {
  const d = iso ? new Date(iso) : null;
  if (!d || Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** A date input's value as the start of that day in the browser's zone (RFC 3339), or null. */
const dayToIso = (day) => (day ? toRfc3339(`${day}T00:00`) || day : null);

function statusBadge(status) {
  if (!status) return dash();
  return h('span', { class: `badge content-status cs-${status}`, dataset: { status }, i18n: `contentstatus.${status}` });
}

function expiresEl(item) {
  if (!item.expires_at) return dash();
  const past = Date.parse(item.expires_at) <= Date.now();
  return h('span', { class: past ? 'expires past' : 'expires' }, timeEl(item.expires_at, 'date'),
    past && item.status === 'approved' ? [' ', h('span', { class: 'badge cs-expired', i18n: 'content.past_expiry' })] : null);
}

/* ---------- the create / edit form ---------- */

function contentForm(ctx, { products, onSaved }) {
  const st = { item: null }; // null: a new item
  const heading = h('h2', { id: 'content-form-title' });
  const slot = formErrorSlot();
  const topics = h('datalist', { id: 'content-topic-list' },
    CONTENT_TOPICS.map((t) => h('option', { value: t, i18n: `content.topic.${t}` })));
  const save = h('button', { type: 'submit', class: 'btn btn-primary', id: 'content-save', i18n: 'common.save' });
  const form = h('form', { class: 'form-grid', id: 'content-form', novalidate: true },
    field('content.f.id', h('input', { name: 'id', class: 'mono', autocomplete: 'off', spellcheck: 'false', required: true, maxlength: 64 })),
    h('div', { class: 'span-2' }, field('content.f.title', h('input', { name: 'title', autocomplete: 'off', required: true, maxlength: 200 }))),
    field('content.f.topic', h('input', { name: 'topic', autocomplete: 'off', list: 'content-topic-list', maxlength: 60 }), { optional: true }),
    field('content.f.product', h('input', { name: 'product', autocomplete: 'off', list: products.id, maxlength: 60 }), { optional: true }),
    field('content.f.status', h('select', { name: 'status' }, enumOptions('contentstatus', CONTENT_STATUSES))),
    field('content.f.expires_at', h('input', { name: 'expires_at', type: 'date' }), { optional: true }),
    topics, slot,
    h('div', { class: 'form-actions' },
      h('button', { type: 'button', class: 'btn', id: 'content-cancel', i18n: 'common.cancel', on: { click: () => close() } }),
      save));
  const card = h('section', { class: 'card', id: 'content-form-card', hidden: true },
    h('div', { class: 'card-head' }, heading), form);

  function open(item) {
    st.item = item || null;
    clearFormError(form, slot);
    form.reset();
    heading.replaceChildren(h('span', item
      ? { i18n: 'content.form.edit_title', i18nArgs: { id: item.id } }
      : { i18n: 'content.form.create_title' }));
    const el = form.elements;
    el.id.value = item ? item.id : '';
    el.id.readOnly = !!item;
    for (const f of ['title', 'topic', 'product']) el[f].value = item && item[f] ? item[f] : '';
    el.status.value = item && item.status ? item.status : 'draft';
    el.expires_at.value = item ? localDay(item.expires_at) : '';
    card.hidden = false;
    card.dataset.mode = item ? 'edit' : 'create';
    card.scrollIntoView({ block: 'nearest' });
    (item ? el.title : el.id).focus();
  }

  function close() {
    clearFormError(form, slot);
    card.hidden = true;
  }

  /** The form's values as the API's fields: empty is null (clears). */
  function values() {
    const el = form.elements;
    const out = {};
    for (const f of ['title', 'topic', 'product', 'status']) {
      const v = el[f].value.trim();
      out[f] = v === '' ? null : v;
    }
    out.expires_at = dayToIso(el.expires_at.value);
    return out;
  }

  /** What differs from the item being edited. */
  function changes(item, now) {
    const patch = {};
    for (const f of FIELDS) {
      const was = f === 'expires_at' ? dayToIso(localDay(item.expires_at)) : item[f] ?? null;
      if ((now[f] ?? null) !== (was ?? null)) patch[f] = now[f];
    }
    return patch;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const now = values();
    const item = st.item;
    save.disabled = true;
    try {
      let saved;
      if (item) {
        const patch = changes(item, now);
        saved = Object.keys(patch).length
          ? await api.patch(`/content/${enc(item.id)}`, patch, { signal: ctx.signal, quiet: true })
          : item;
      } else {
        const body = { id: form.elements.id.value.trim() };
        for (const f of FIELDS) if (now[f] !== null) body[f] = now[f];
        saved = await api.post('/content', body, { signal: ctx.signal, quiet: true });
      }
      close();
      ctx.notify(item ? 'content.saved' : 'content.created', { title: saved.title || saved.id });
      onSaved(saved);
    } catch (err) {
      formError(form, slot, err);
    } finally {
      save.disabled = false;
    }
  });

  return { el: card, open };
}

/** Offers the products seen so far (in list) in the product fields' datalist. */
function knowProducts(datalist, list) {
  const have = new Set([...datalist.options].map((o) => o.value));
  for (const p of list) {
    if (p && !have.has(p)) {
      datalist.append(h('option', { value: p }));
      have.add(p);
    }
  }
}

/* ---------- the list ---------- */

export function render(ctx) {
  const writer = may.content(ctx.user.role);
  const columns = writer ? [...FIELDS, 'actions'] : FIELDS;
  const st = { filters: {}, cursor: null, shown: 0, seq: 0, abort: null };
  for (const k of FILTERS) {
    const v = ctx.query.get(k);
    if (v) st.filters[k] = v;
  }
  const { table, tbody } = dataTable('content.col', columns);
  table.id = 'content-table';
  const count = h('span', { class: 'muted', id: 'content-count' });
  const more = h('button', { type: 'button', class: 'btn', id: 'content-more', i18n: 'md.load_more', hidden: true });
  const errorSlot = h('div', {});
  const products = h('datalist', { id: 'content-product-list' });
  const editor = writer ? contentForm(ctx, { products, onSaved: () => reload() }) : null;

  const q = h('input', {
    name: 'q', id: 'content-q', type: 'search', autocomplete: 'off', value: st.filters.q || '',
    i18nAttr: { placeholder: 'content.q_placeholder', 'aria-label': 'content.q' },
  });
  const filterTopics = h('datalist', { id: 'content-filter-topics' },
    CONTENT_TOPICS.map((t) => h('option', { value: t, i18n: `content.topic.${t}` })));
  const form = h('form', { class: 'toolbar filters', id: 'content-filters', role: 'search' },
    h('label', { class: 'field search-field' }, h('span', { class: 'field-label', i18n: 'content.q' }), q),
    field('content.filter.topic', h('input', { name: 'topic', autocomplete: 'off', list: 'content-filter-topics', value: st.filters.topic || '' })),
    field('content.filter.product', h('input', { name: 'product', autocomplete: 'off', list: products.id, value: st.filters.product || '' })),
    field('content.filter.status', h('select', { name: 'status', value: st.filters.status || '' },
      enumOptions('contentstatus', CONTENT_STATUSES, 'md.any'))),
    filterTopics, products,
    h('button', { type: 'reset', class: 'btn btn-ghost', i18n: 'md.reset' }));

  function row(item) {
    const cells = [
      h('td', { class: 'content-title' }, h('span', { text: item.title || item.id }), h('div', { class: 'sub muted mono', text: item.id })),
      h('td', { class: 'content-topic' }, enumEl('content.topic', item.topic)),
      h('td', { class: 'content-product' }, item.product ? textEl(item.product) : h('span', { class: 'muted', i18n: 'content.general' })),
      h('td', {}, statusBadge(item.status)),
      h('td', {}, expiresEl(item)),
    ];
    if (writer) {
      cells.push(h('td', { class: 'actions' }, h('button', {
        type: 'button', class: 'btn btn-small content-edit', i18n: 'content.edit', on: { click: () => editor.open(item) },
      })));
    }
    return h('tr', { dataset: { id: item.id, status: item.status || '' } }, cells);
  }

  async function load(append) {
    if (st.abort) st.abort.abort();
    const abort = new AbortController();
    st.abort = abort;
    ctx.signal.addEventListener('abort', () => abort.abort(), { once: true });
    const seq = ++st.seq;
    try {
      const res = await api.get('/content', {
        query: { ...st.filters, limit: PAGE_SIZE, cursor: append ? st.cursor : null }, signal: abort.signal, quiet: true,
      });
      if (seq !== st.seq) return;
      errorSlot.replaceChildren();
      const items = (res && res.items) || [];
      if (!append) {
        tbody.replaceChildren();
        st.shown = 0;
      }
      tbody.append(...items.map(row));
      st.shown += items.length;
      if (st.shown === 0) tbody.replaceChildren(emptyRow(columns.length, 'content.empty'));
      knowProducts(products, items.map((x) => x.product));
      st.cursor = (res && res.next_cursor) || null;
      more.hidden = !st.cursor;
      count.replaceChildren(countEl(st.cursor ? 'content.count_more' : 'content.count', st.shown));
      table.dataset.state = 'ready';
    } catch (err) {
      if (err.code === 'aborted' || seq !== st.seq) return;
      tbody.replaceChildren();
      table.dataset.state = 'error';
      errorSlot.replaceChildren(errorCard('content.load_failed', err));
    }
  }

  function readForm() {
    const next = {};
    for (const k of FILTERS) {
      const v = form.elements[k].value.trim();
      if (v) next[k] = v;
    }
    st.filters = next;
  }
  function reload() {
    table.dataset.state = 'loading';
    ctx.setQuery(st.filters);
    load(false);
  }
  const search = debounce(() => { readForm(); reload(); }, SEARCH_DELAY_MS);
  form.addEventListener('input', (e) => { if (e.target.tagName === 'INPUT') search(); });
  form.addEventListener('change', (e) => { if (e.target.tagName === 'SELECT') { search.cancel(); readForm(); reload(); } });
  form.addEventListener('submit', (e) => { e.preventDefault(); search.cancel(); readForm(); reload(); });
  form.addEventListener('reset', () => { search.cancel(); setTimeout(() => { readForm(); reload(); }, 0); });
  more.addEventListener('click', () => load(true));
  ctx.onCleanup(() => search.cancel());

  const page = h('div', { class: 'page content' },
    h('div', { class: 'page-head' }, h('h1', { i18n: 'content.title' }),
      writer
        ? h('button', { type: 'button', class: 'btn btn-primary', id: 'content-new', i18n: 'content.new', on: { click: () => editor.open(null) } })
        : h('p', { class: 'muted', id: 'content-read-only', i18n: 'content.read_only' })),
    editor ? editor.el : null,
    h('section', { class: 'card' }, form, errorSlot,
      h('div', { class: 'table-wrap' }, table),
      h('div', { class: 'pager' }, count, more)));
  ctx.onLang(() => refreshNumbers(page));
  reload();
  return page;
}
