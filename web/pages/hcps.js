// The HCP list (every role; the server shows a rep only their aligned
// doctors): a search box that queries as you type — name, pinyin or
// initials prefix — filters for title, city tier, specialty and status,
// and, from links elsewhere, hospital, rep or territory. A table of
// doctors with "more" paging (next_cursor); a row opens the profile.
// The filters live in the hash (#/hcps?q=王&title=chief), so Back from a
// profile returns to the same search.

import { api } from '../api.js';
import { h } from '../dom.js';
import { field, dataTable, emptyRow } from '../widgets.js';
import {
  TITLES, CITY_TIERS, HCP_STATUSES, enumEl, enumOptions, textEl, dash, countEl, refreshNumbers, debounce,
  errorCard, hcpHref, hcoHref, hcosById,
} from './md.js';

const PAGE_SIZE = 50;
const SEARCH_DELAY_MS = 200;
const COLUMNS = ['name', 'title', 'specialty', 'hco', 'city_tier', 'phone'];
const FILTERS = ['q', 'title', 'city_tier', 'specialty', 'status'];
const LINK_FILTERS = ['hco', 'rep', 'territory']; // set by links from other pages, shown as chips

function hcpRow(hcp, tiers) {
  const open = () => { location.hash = hcpHref(hcp.id); };
  const tier = h('td', { class: 'tier', dataset: { hco: hcp.hco || '' } }, tierCell(tiers.get(hcp.hco)));
  const row = h('tr', { class: 'clickable', dataset: { id: hcp.id }, on: { click: (e) => { if (!e.target.closest('a')) open(); } } },
    h('td', { class: 'hcp-name' },
      h('a', { href: hcpHref(hcp.id), text: hcp.name || hcp.id }),
      hcp.pinyin ? h('div', { class: 'sub muted', text: hcp.pinyin }) : null),
    h('td', {}, enumEl('title', hcp.title)),
    h('td', {}, textEl(hcp.specialty), hcp.department ? h('div', { class: 'sub muted', text: hcp.department }) : null),
    h('td', {}, hcp.hco ? h('a', { href: hcoHref(hcp.hco), text: hcp.hco_name || hcp.hco }) : dash()),
    tier,
    h('td', { class: 'mono' }, textEl(hcp.phone)));
  return row;
}

function tierCell(hco) {
  if (!hco || !hco.city_tier) return dash();
  return h('span', {}, enumEl('tier', hco.city_tier), hco.city ? h('span', { class: 'muted', text: ` · ${hco.city}` }) : null);
}

export function render(ctx) {
  const st = { filters: {}, cursor: null, shown: 0, seq: 0, abort: null };
  for (const k of [...FILTERS, ...LINK_FILTERS]) {
    const v = ctx.query.get(k);
    if (v) st.filters[k] = v;
  }

  const { table, tbody } = dataTable('hcps.col', COLUMNS);
  table.id = 'hcp-table';
  const count = h('span', { class: 'muted', id: 'hcp-count' });
  const more = h('button', { type: 'button', class: 'btn', id: 'hcp-more', i18n: 'md.load_more', hidden: true });
  const chips = h('div', { class: 'chips', id: 'hcp-chips' });
  const errorSlot = h('div', {});

  const q = h('input', {
    name: 'q', id: 'hcp-q', type: 'search', autocomplete: 'off', spellcheck: 'false', value: st.filters.q || '',
    i18nAttr: { placeholder: 'hcps.q_placeholder', 'aria-label': 'hcps.q' },
  });
  const form = h('form', { class: 'toolbar filters', id: 'hcp-filters', role: 'search' },
    h('label', { class: 'field search-field' }, h('span', { class: 'field-label', i18n: 'hcps.q' }), q),
    field('hcps.filter.title', h('select', { name: 'title', value: st.filters.title || '' }, enumOptions('title', TITLES, 'md.any'))),
    field('hcps.filter.city_tier', h('select', { name: 'city_tier', value: st.filters.city_tier || '' }, enumOptions('tier', CITY_TIERS, 'md.any'))),
    field('hcps.filter.specialty', h('input', { name: 'specialty', autocomplete: 'off', value: st.filters.specialty || '', i18nAttr: { placeholder: 'hcps.specialty_placeholder' } })),
    field('hcps.filter.status', h('select', { name: 'status', value: st.filters.status || '' }, enumOptions('hcpstatus', HCP_STATUSES, 'md.any'))),
    h('button', { type: 'reset', class: 'btn btn-ghost', i18n: 'md.reset' }));

  function drawChips() {
    chips.replaceChildren(...LINK_FILTERS.filter((k) => st.filters[k]).map((k) => h('span', { class: 'chip', dataset: { filter: k } },
      h('span', { i18n: `hcps.chip.${k}`, i18nArgs: { v: st.filters[k] } }),
      h('button', {
        type: 'button', class: 'chip-x', i18nAttr: { 'aria-label': 'md.remove_filter', title: 'md.remove_filter' },
        on: { click: () => { delete st.filters[k]; drawChips(); reload(); } },
      }, '×'))));
    chips.hidden = chips.children.length === 0;
  }

  async function load(append) {
    if (st.abort) st.abort.abort();
    const abort = new AbortController();
    st.abort = abort;
    ctx.signal.addEventListener('abort', () => abort.abort(), { once: true });
    const seq = ++st.seq;
    more.disabled = true;
    try {
      const res = await api.get('/hcps', {
        query: { ...st.filters, limit: PAGE_SIZE, cursor: append ? st.cursor : null }, signal: abort.signal, quiet: true,
      });
      if (seq !== st.seq) return;
      errorSlot.replaceChildren();
      const items = (res && res.items) || [];
      const tiers = await hcosById(items.map((x) => x.hco), abort.signal).catch(() => new Map());
      if (seq !== st.seq) return;
      if (!append) {
        tbody.replaceChildren();
        st.shown = 0;
      }
      tbody.append(...items.map((x) => hcpRow(x, tiers)));
      st.shown += items.length;
      if (st.shown === 0) tbody.replaceChildren(emptyRow(COLUMNS.length, hasFilters() ? 'hcps.empty_filtered' : 'hcps.empty'));
      st.cursor = (res && res.next_cursor) || null;
      more.hidden = !st.cursor;
      count.replaceChildren(countEl(st.cursor ? 'hcps.count_more' : 'hcps.count', st.shown));
      table.dataset.state = 'ready';
    } catch (err) {
      if (err.code === 'aborted' || seq !== st.seq) return;
      tbody.replaceChildren();
      errorSlot.replaceChildren(errorCard('hcps.load_failed', err));
    } finally {
      more.disabled = false;
    }
  }

  function hasFilters() {
    return Object.keys(st.filters).length > 0;
  }

  function reload() {
    table.dataset.state = 'loading';
    ctx.setQuery(st.filters);
    try {
      sessionStorage.setItem('medreach.hcps.hash', location.hash);
    } catch { /* private mode: the back link goes to the plain list */ }
    load(false);
  }

  function readForm() {
    const next = {};
    for (const k of LINK_FILTERS) if (st.filters[k]) next[k] = st.filters[k];
    for (const k of FILTERS) {
      const v = form.elements[k].value.trim();
      if (v) next[k] = v;
    }
    st.filters = next;
  }

  const search = debounce(() => { readForm(); reload(); }, SEARCH_DELAY_MS);
  form.addEventListener('input', (e) => { if (e.target.tagName === 'INPUT') search(); });
  form.addEventListener('change', (e) => { if (e.target.tagName === 'SELECT') { search.cancel(); readForm(); reload(); } });
  form.addEventListener('submit', (e) => { e.preventDefault(); search.cancel(); readForm(); reload(); });
  form.addEventListener('reset', () => {
    search.cancel();
    setTimeout(() => { st.filters = {}; drawChips(); reload(); }, 0);
  });
  more.addEventListener('click', () => load(true));
  ctx.onCleanup(() => search.cancel());

  const page = h('div', { class: 'page hcps' },
    h('div', { class: 'page-head' }, h('h1', { i18n: 'hcps.title' }), h('p', { class: 'muted page-sub', i18n: 'hcps.scope_note' })),
    h('section', { class: 'card' }, form, chips,
      errorSlot,
      h('div', { class: 'table-wrap' }, table),
      h('div', { class: 'pager' }, count, more)));
  ctx.onLang(() => refreshNumbers(page));
  drawChips();
  reload();
  setTimeout(() => q.focus(), 0);
  return page;
}
