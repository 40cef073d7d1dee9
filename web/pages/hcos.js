// HCOs (hospitals), every role. #/hcos is the list: search by name as you
// type, filters for province, city, city tier, level, grade and type, "more"
// paging. #/hco/{id} is one hospital: its facts, its departments and its
// doctors (GET /hcps?hco=…, which the server limits to a rep's aligned ones).

import { api } from '../api.js';
import { h, timeEl } from '../dom.js';
import { field, dataTable, emptyRow } from '../widgets.js';
import {
  CITY_TIERS, HCO_LEVELS, HCO_GRADES, HCO_TYPES, enumEl, enumOptions, textEl, dash, levelGradeEl, countEl,
  refreshNumbers, debounce, errorCard, hcoHref, hcpHref, cardHead,
} from './md.js';

const PAGE_SIZE = 50;
const DOCTORS_PAGE = 20;
const SEARCH_DELAY_MS = 200;
const COLUMNS = ['name', 'level', 'type', 'location', 'city_tier', 'region'];
const FILTERS = ['q', 'province', 'city', 'city_tier', 'level', 'grade', 'type'];
const enc = encodeURIComponent;

function place(hco) {
  const parts = [hco.province, hco.city].filter((x, i, a) => x && a.indexOf(x) === i);
  return parts.length ? h('span', { text: parts.join(' · ') }) : dash();
}

/* ---------- the list ---------- */

function listPage(ctx) {
  const st = { filters: {}, cursor: null, shown: 0, seq: 0, abort: null };
  for (const k of FILTERS) {
    const v = ctx.query.get(k);
    if (v) st.filters[k] = v;
  }
  const { table, tbody } = dataTable('hcos.col', COLUMNS);
  table.id = 'hco-table';
  const count = h('span', { class: 'muted', id: 'hco-count' });
  const more = h('button', { type: 'button', class: 'btn', id: 'hco-more', i18n: 'md.load_more', hidden: true });
  const errorSlot = h('div', {});
  const q = h('input', {
    name: 'q', id: 'hco-q', type: 'search', autocomplete: 'off', value: st.filters.q || '',
    i18nAttr: { placeholder: 'hcos.q_placeholder', 'aria-label': 'hcos.q' },
  });
  const form = h('form', { class: 'toolbar filters', id: 'hco-filters', role: 'search' },
    h('label', { class: 'field search-field' }, h('span', { class: 'field-label', i18n: 'hcos.q' }), q),
    field('hcos.filter.province', h('input', { name: 'province', autocomplete: 'off', value: st.filters.province || '' })),
    field('hcos.filter.city', h('input', { name: 'city', autocomplete: 'off', value: st.filters.city || '' })),
    field('hcos.filter.city_tier', h('select', { name: 'city_tier', value: st.filters.city_tier || '' }, enumOptions('tier', CITY_TIERS, 'md.any'))),
    field('hcos.filter.level', h('select', { name: 'level', value: st.filters.level || '' }, enumOptions('level', HCO_LEVELS, 'md.any'))),
    field('hcos.filter.grade', h('select', { name: 'grade', value: st.filters.grade || '' }, enumOptions('grade', HCO_GRADES, 'md.any'))),
    field('hcos.filter.type', h('select', { name: 'type', value: st.filters.type || '' }, enumOptions('hcotype', HCO_TYPES, 'md.any'))),
    h('button', { type: 'reset', class: 'btn btn-ghost', i18n: 'md.reset' }));

  function row(hco) {
    return h('tr', {
      class: 'clickable', dataset: { id: hco.id },
      on: { click: (e) => { if (!e.target.closest('a')) location.hash = hcoHref(hco.id); } },
    },
    h('td', {}, h('a', { href: hcoHref(hco.id), text: hco.name || hco.id }), h('div', { class: 'sub muted mono', text: hco.id })),
    h('td', {}, levelGradeEl(hco)),
    h('td', {}, enumEl('hcotype', hco.type)),
    h('td', {}, place(hco)),
    h('td', {}, enumEl('tier', hco.city_tier)),
    h('td', {}, textEl(hco.region)));
  }

  async function load(append) {
    if (st.abort) st.abort.abort();
    const abort = new AbortController();
    st.abort = abort;
    ctx.signal.addEventListener('abort', () => abort.abort(), { once: true });
    const seq = ++st.seq;
    try {
      const res = await api.get('/hcos', {
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
      if (st.shown === 0) tbody.replaceChildren(emptyRow(COLUMNS.length, 'hcos.empty'));
      st.cursor = (res && res.next_cursor) || null;
      more.hidden = !st.cursor;
      count.replaceChildren(countEl(st.cursor ? 'hcos.count_more' : 'hcos.count', st.shown));
      table.dataset.state = 'ready';
    } catch (err) {
      if (err.code === 'aborted' || seq !== st.seq) return;
      tbody.replaceChildren();
      errorSlot.replaceChildren(errorCard('hcos.load_failed', err));
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

  const page = h('div', { class: 'page hcos' },
    h('div', { class: 'page-head' }, h('h1', { i18n: 'hcos.title' })),
    h('section', { class: 'card' }, form, errorSlot,
      h('div', { class: 'table-wrap' }, table),
      h('div', { class: 'pager' }, count, more)));
  ctx.onLang(() => refreshNumbers(page));
  reload();
  return page;
}

/* ---------- one HCO ---------- */

function doctorsCard(ctx, hco) {
  const cols = ['name', 'title', 'department', 'specialty', 'status'];
  const { table, tbody } = dataTable('hco.doc', cols);
  table.id = 'hco-doctors';
  const more = h('button', { type: 'button', class: 'btn', id: 'hco-doctors-more', i18n: 'md.load_more', hidden: true });
  const count = h('span', { class: 'muted' });
  let cursor = null;
  let shown = 0;

  function row(d) {
    return h('tr', { class: 'clickable', dataset: { id: d.id }, on: { click: (e) => { if (!e.target.closest('a')) location.hash = hcpHref(d.id); } } },
      h('td', {}, h('a', { href: hcpHref(d.id), text: d.name || d.id }), d.pinyin ? h('div', { class: 'sub muted', text: d.pinyin }) : null),
      h('td', {}, enumEl('title', d.title)),
      h('td', {}, textEl(d.department)),
      h('td', {}, textEl(d.specialty)),
      h('td', {}, d.status ? h('span', { class: `badge status-${d.status === 'active' ? 'active' : 'disabled'}`, i18n: `hcpstatus.${d.status}` }) : dash()));
  }

  async function load(append) {
    try {
      const res = await api.get('/hcps', { query: { hco: hco.id, limit: DOCTORS_PAGE, cursor: append ? cursor : null }, signal: ctx.signal });
      const items = (res && res.items) || [];
      if (!append) {
        tbody.replaceChildren();
        shown = 0;
      }
      tbody.append(...items.map(row));
      shown += items.length;
      if (shown === 0) tbody.replaceChildren(emptyRow(cols.length, 'hco.doc_empty'));
      cursor = (res && res.next_cursor) || null;
      more.hidden = !cursor;
      count.replaceChildren(countEl(cursor ? 'hcps.count_more' : 'hcps.count', shown));
    } catch { /* shown in the banner by api.js */ }
  }
  more.addEventListener('click', () => load(true));
  load(false);
  return h('section', { class: 'card', id: 'hco-doctors-card' },
    cardHead('hco.doctors', h('a', { href: `#/hcps?hco=${enc(hco.id)}`, class: 'btn btn-small', i18n: 'hco.doctors_in_list' })),
    h('p', { class: 'muted small', i18n: 'hco.doctors_scope' }),
    h('div', { class: 'table-wrap' }, table),
    h('div', { class: 'pager' }, count, more));
}

function detailPage(ctx, id) {
  const body = h('div', {}, h('p', { class: 'loading', i18n: 'common.loading' }));
  const page = h('div', { class: 'page hco-detail', dataset: { hco: id } },
    h('a', { href: '#/hcos', class: 'back-link', i18n: 'hco.back' }), body);
  ctx.onLang(() => refreshNumbers(page));

  (async () => {
    let hco;
    try {
      hco = await api.get(`/hcos/${enc(id)}`, { signal: ctx.signal, quiet: true });
    } catch (err) {
      if (err.code !== 'aborted') body.replaceChildren(errorCard('hco.load_failed', err));
      return;
    }
    const facts = [
      ['level', levelGradeEl(hco)],
      ['type', enumEl('hcotype', hco.type)],
      ['province', textEl(hco.province)],
      ['city', textEl(hco.city)],
      ['city_tier', enumEl('tier', hco.city_tier)],
      ['region', textEl(hco.region)],
      ['address', textEl(hco.address)],
      ['id', h('span', { class: 'mono', text: hco.id })],
      ['updated_at', timeEl(hco.updated_at)],
    ];
    const depts = Array.isArray(hco.departments) ? hco.departments : [];
    const attrs = Object.entries(hco.attrs || {});
    body.replaceChildren(
      h('section', { class: 'card profile-head', id: 'hco-head' },
        h('div', { class: 'avatar avatar-hco', 'aria-hidden': 'true', text: (hco.name || '?').charAt(0) }),
        h('div', { class: 'profile-main' },
          h('h1', { id: 'hco-name', text: hco.name || hco.id }),
          h('div', { class: 'badges' },
            hco.level || hco.grade ? h('span', { class: 'badge badge-title' }, levelGradeEl(hco)) : null,
            hco.type ? h('span', { class: 'badge' }, enumEl('hcotype', hco.type)) : null,
            hco.city_tier ? h('span', { class: 'badge' }, enumEl('tier', hco.city_tier)) : null),
          h('div', { class: 'meta' }, place(hco), hco.address ? [h('span', { class: 'sep', text: '·' }), h('span', { text: hco.address })] : null))),
      h('div', { class: 'profile-grid' },
        h('div', { class: 'col-main' }, doctorsCard(ctx, hco)),
        h('div', { class: 'col-side' },
          h('section', { class: 'card', id: 'hco-facts' }, cardHead('hco.facts'),
            h('dl', { class: 'attr-grid one-col' }, facts.map(([k, v]) => h('div', { class: 'attr', dataset: { field: k } },
              h('dt', { i18n: `hcof.${k}` }), h('dd', {}, v))),
            attrs.map(([k, v]) => h('div', { class: 'attr', dataset: { attr: k } }, h('dt', { text: k }), h('dd', { text: String(v) }))))),
          h('section', { class: 'card', id: 'hco-departments' }, cardHead('hco.departments'),
            depts.length ? h('ul', { class: 'chip-list' }, depts.map((d) => h('li', { class: 'chip', text: d })))
              : h('p', { class: 'muted', i18n: 'hco.no_departments' })))));
  })();
  return page;
}

export function render(ctx) {
  const id = ctx.params[0];
  return id ? detailPage(ctx, id) : listPage(ctx);
}

