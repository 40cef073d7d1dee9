// Reps and territories (admins and managers): the territory tree (each
// territory under its parent, with how many reps work in it and below it)
// and the reps of the selected territory — type, manager, account — each
// with a link to the HCPs aligned to them. A manager can narrow the table
// to their own team (the reps below them in the manager tree).

import { h } from '../dom.js';
import { field, dataTable, emptyRow } from '../widgets.js';
import {
  REP_TYPES, enumEl, enumOptions, textEl, dash, countEl, numEl, refreshNumbers, errorCard, loadAll, cardHead,
} from './md.js';

const COLUMNS = ['id', 'name', 'type', 'manager', 'territory', 'user', 'actions'];
const enc = encodeURIComponent;

/** children: parent id → [territory]; roots: territories without a known parent. */
function buildTree(territories) {
  const byId = new Map(territories.map((t) => [t.id, t]));
  const children = new Map();
  const roots = [];
  for (const t of territories) {
    if (t.parent && byId.has(t.parent) && t.parent !== t.id) {
      if (!children.has(t.parent)) children.set(t.parent, []);
      children.get(t.parent).push(t);
    } else {
      roots.push(t);
    }
  }
  const byName = (a, b) => String(a.name).localeCompare(String(b.name), 'zh-CN') || String(a.id).localeCompare(String(b.id));
  roots.sort(byName);
  for (const list of children.values()) list.sort(byName);
  return { byId, children, roots };
}

/** The ids of a territory and every territory below it. */
function subtree(tree, id, out = new Set()) {
  if (out.has(id)) return out;
  out.add(id);
  for (const c of tree.children.get(id) || []) subtree(tree, c.id, out);
  return out;
}

/** The reps managed, directly or not, by rep root (and root itself). */
function team(reps, root) {
  const under = new Map();
  for (const r of reps) {
    if (!r.manager) continue;
    if (!under.has(r.manager)) under.set(r.manager, []);
    under.get(r.manager).push(r.id);
  }
  const out = new Set([root]);
  const stack = [root];
  while (stack.length) {
    for (const id of under.get(stack.pop()) || []) {
      if (!out.has(id)) {
        out.add(id);
        stack.push(id);
      }
    }
  }
  return out;
}

export function render(ctx) {
  const st = {
    territories: [], reps: [], tree: null, repById: new Map(),
    selected: ctx.query.get('territory') || '', type: ctx.query.get('type') || '', q: '',
    below: ctx.query.get('below') !== '0', mine: ctx.user.role === 'manager' && !!ctx.user.rep_id,
  };
  const treeEl = h('ul', { class: 'tree', id: 'territory-tree', role: 'tree' });
  const { table, tbody } = dataTable('reps.col', COLUMNS);
  table.id = 'rep-table';
  const heading = h('h2', { id: 'rep-panel-title' });
  const count = h('span', { class: 'muted', id: 'rep-count' });
  const body = h('div', { class: 'reps-grid' }, h('p', { class: 'loading', i18n: 'common.loading' }));

  const filters = h('form', { class: 'toolbar', id: 'rep-filters' },
    field('reps.filter.q', h('input', { name: 'q', type: 'search', autocomplete: 'off', i18nAttr: { placeholder: 'reps.q_placeholder' } })),
    field('reps.filter.type', h('select', { name: 'type', value: st.type }, enumOptions('reptype', REP_TYPES, 'md.any'))),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'below', checked: st.below }), h('span', { i18n: 'reps.include_below' })),
    ctx.user.role === 'manager' && ctx.user.rep_id
      ? h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'mine', checked: st.mine }), h('span', { i18n: 'reps.only_my_team' }))
      : null);
  filters.addEventListener('submit', (e) => e.preventDefault());
  filters.addEventListener('input', () => {
    st.q = filters.elements.q.value.trim().toLowerCase();
    st.type = filters.elements.type.value;
    st.below = filters.elements.below.checked;
    st.mine = filters.elements.mine ? filters.elements.mine.checked : false;
    drawReps();
  });

  function repCount(ids) {
    let n = 0;
    for (const r of st.reps) if (r.territory && ids.has(r.territory)) n += 1;
    return n;
  }

  function node(t, depth) {
    const kids = st.tree.children.get(t.id) || [];
    const direct = repCount(new Set([t.id]));
    const total = repCount(subtree(st.tree, t.id));
    const btn = h('button', {
      type: 'button', class: 'tree-node', dataset: { id: t.id }, 'aria-current': st.selected === t.id ? 'true' : null,
      style: `padding-left: ${8 + depth * 18}px`,
      on: { click: () => select(t.id) },
    },
    h('span', { class: 'tree-name', text: t.name || t.id }),
    h('span', { class: 'tree-id muted mono', text: t.id }),
    h('span', { class: 'badge tree-count', title: String(direct), dataset: { direct: String(direct), total: String(total) } }, numEl(total)));
    return h('li', { role: 'treeitem', 'aria-expanded': kids.length ? 'true' : null }, btn,
      kids.length ? h('ul', { role: 'group' }, kids.map((c) => node(c, depth + 1))) : null);
  }

  function drawTree() {
    const all = h('li', { role: 'treeitem' }, h('button', {
      type: 'button', class: 'tree-node tree-all', dataset: { id: '' }, 'aria-current': st.selected === '' ? 'true' : null,
      on: { click: () => select('') },
    }, h('span', { class: 'tree-name', i18n: 'reps.all_territories' }), h('span', { class: 'badge tree-count' }, numEl(st.reps.length))));
    treeEl.replaceChildren(all, ...st.tree.roots.map((t) => node(t, 0)));
    if (st.territories.length === 0) treeEl.append(h('li', { class: 'muted empty-note', i18n: 'reps.no_territories' }));
  }

  function select(id) {
    st.selected = id;
    ctx.setQuery({ territory: id, type: st.type, below: st.below ? '' : '0' });
    for (const b of treeEl.querySelectorAll('.tree-node')) {
      if (b.dataset.id === id) b.setAttribute('aria-current', 'true');
      else b.removeAttribute('aria-current');
    }
    drawReps();
  }

  function repRow(r) {
    const mgr = r.manager ? st.repById.get(r.manager) : null;
    const terr = r.territory ? st.tree.byId.get(r.territory) : null;
    return h('tr', { dataset: { id: r.id, territory: r.territory || '' } },
      h('td', { class: 'mono', text: r.id }),
      h('td', { text: r.name || '' }),
      h('td', {}, h('span', { class: `badge rep-${r.type || 'none'}` }, enumEl('reptype', r.type))),
      h('td', {}, r.manager ? h('span', {}, mgr ? mgr.name : '', h('span', { class: 'muted mono', text: mgr ? ` (${r.manager})` : r.manager })) : dash()),
      h('td', {}, r.territory ? h('span', {}, terr ? terr.name : '', h('span', { class: 'muted mono', text: terr ? ` (${r.territory})` : r.territory })) : dash()),
      h('td', { class: 'mono' }, textEl(r.user)),
      h('td', { class: 'actions' }, h('a', { class: 'btn btn-small', href: `#/hcps?rep=${enc(r.id)}`, i18n: 'reps.their_hcps' })));
  }

  function drawReps() {
    let list = st.reps;
    if (st.selected) {
      const ids = st.below ? subtree(st.tree, st.selected) : new Set([st.selected]);
      list = list.filter((r) => r.territory && ids.has(r.territory));
    }
    if (st.mine && ctx.user.rep_id) {
      const mine = team(st.reps, ctx.user.rep_id);
      list = list.filter((r) => mine.has(r.id));
    }
    if (st.type) list = list.filter((r) => r.type === st.type);
    if (st.q) list = list.filter((r) => `${r.id} ${r.name || ''} ${r.user || ''}`.toLowerCase().includes(st.q));
    const t = st.selected ? st.tree.byId.get(st.selected) : null;
    heading.replaceChildren(t
      ? h('span', { i18n: 'reps.in_territory', i18nArgs: { name: t.name || t.id } })
      : h('span', { i18n: 'reps.all_reps' }));
    tbody.replaceChildren(...(list.length ? list.map(repRow) : [emptyRow(COLUMNS.length, 'reps.empty')]));
    count.replaceChildren(countEl('reps.count', list.length));
  }

  (async () => {
    try {
      const [territories, reps] = await Promise.all([
        loadAll('/territories', { signal: ctx.signal, quiet: true }),
        loadAll('/reps', { signal: ctx.signal, quiet: true }),
      ]);
      st.territories = territories;
      st.reps = reps;
      st.repById = new Map(reps.map((r) => [r.id, r]));
      st.tree = buildTree(territories);
    } catch (err) {
      if (err.code !== 'aborted') body.replaceChildren(errorCard('reps.load_failed', err));
      return;
    }
    if (st.selected && !st.tree.byId.has(st.selected)) st.selected = '';
    drawTree();
    drawReps();
    body.replaceChildren(
      h('section', { class: 'card tree-card' }, cardHead('reps.territories'), treeEl),
      h('section', { class: 'card', id: 'rep-panel' }, h('div', { class: 'card-head' }, heading, count), filters,
        h('div', { class: 'table-wrap' }, table)));
  })();

  const page = h('div', { class: 'page reps' }, h('div', { class: 'page-head' }, h('h1', { i18n: 'reps.title' })), body);
  ctx.onLang(() => refreshNumbers(page));
  return page;
}
