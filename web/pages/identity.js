// Identity resolution (#/identity, admins: the data stewards). Four tabs:
//   queue    the probable duplicates the matcher could not decide, each as
//            two records side by side, field by field, with the agreement
//            level and weight the model gave each compared field and the
//            match probability; accept (B is merged into A) or reject with
//            a reason (the server insists on one and says so by the box);
//   decided  the accepted and rejected pairs, with who decided, when, why;
//   merges   every merge with its lineage (source records, rule, score,
//            fields taken, reason) and an exact undo;
//   run      runs the Fellegi-Sunter matcher over every HCP and shows what
//            it did (counts) and what it learned: m and u per field and
//            agreement level as grouped bars, and a table of the weights
//            log2(m/u).
// The tab and its filters live in the hash (#/identity?tab=merges&hcp=D1).
// The HCP profile (hcp.js) uses the exported pieces: the "merged into"
// banner, the "merge into…" dialog and the merge history with undo.

import { api } from '../api.js';
import { h, tr, timeEl } from '../dom.js';
import { t } from '../i18n.js';
import { mountChart } from '../chart.js';
import { field, dataTable, emptyRow } from '../widgets.js';
import {
  enumEl, textEl, dash, hcpHref, hcoHref, numEl, countEl, refreshNumbers, errorCard, formError, clearFormError,
  formErrorSlot, confirmButton, cardHead, messageInto, statusBadge,
} from './md.js';

const enc = encodeURIComponent;
const TABS = ['queue', 'decided', 'merges', 'run'];
const DECIDED = ['accepted', 'rejected'];
/** The fields the matcher compares, in the order of its detail. */
const COMPARED = ['name', 'pinyin', 'hco', 'specialty', 'phone', 'license_no', 'email'];
/** Shown beside them to help a person decide; not compared. */
const CONTEXT = ['gender', 'title', 'department', 'status'];
const ENUMS = { gender: 'gender', title: 'title' };
const MONO = ['phone', 'license_no', 'email'];
/** The fields a merge's survivorship rules apply to, and the rules. */
export const SURVIVE_FIELDS = ['name', 'pinyin', 'gender', 'title', 'specialty', 'department', 'hco'];
const SURVIVE_RULES = ['survivor', 'merged', 'recent', 'fill'];
const REVIEW_PAGE = 10;
const DECIDED_PAGE = 25;
const MERGE_PAGE = 25;
const RUN_STORE = 'medreach.identity.run';
const RUN_STATS = ['hcps', 'candidates', 'merged', 'queued'];
const COLORS = { m: '#1a7f37', u: '#8c959f' };

/** Who may merge, undo and work the queue (the server decides; this hides what it would refuse). */
export const mayMerge = (role) => role === 'admin';

/* ---------- small pieces ---------- */

/** An API time as RFC 3339. The server sends RFC 3339, but accepts microseconds
 *  since the epoch as well so that an integer time still shows as a time. */
export function isoTime(v) {
  if (v === null || v === undefined || v === '') return '';
  if (typeof v === 'number' && Number.isFinite(v)) return new Date(Math.floor(v / 1000)).toISOString();
  return String(v);
}

/** A match probability (0..1) as a percentage, rounded down so a doubt never reads as 100 %. */
export function pct(score) {
  const x = Number(score);
  if (!Number.isFinite(x)) return '—';
  return `${(Math.floor(x * 1000) / 10).toFixed(1)}%`;
}

/** A weight (log2 of a likelihood ratio) with its sign. */
function fmtWeight(w) {
  const x = Number(w);
  if (!Number.isFinite(x)) return '—';
  const s = x.toFixed(1);
  return x > 0 && s !== '0.0' ? `+${s}` : s === '-0.0' ? '0.0' : s;
}

/** A probability from the model: three decimals, or an exponent when tiny. */
function fmtProb(p) {
  const x = Number(p);
  if (!Number.isFinite(x)) return '—';
  return x >= 0.001 || x === 0 ? x.toFixed(3) : x.toExponential(1);
}

/** agree / partial / disagree / missing for an agreement level of the matcher. */
export function agreement(level) {
  if (!level || level === 'missing') return 'missing';
  if (level === 'exact' || level === 'equal') return 'agree';
  if (level === 'different' || level === 'far') return 'disagree';
  return 'partial';
}

function levelEl(level) {
  return h('span', { class: `lvl lvl-${agreement(level)}`, dataset: { level: level || '' } }, enumEl('idlevel', level));
}

function weightEl(w) {
  const x = Number(w);
  const cls = !Number.isFinite(x) || Math.abs(x) < 0.05 ? 'weight' : x > 0 ? 'weight weight-pos' : 'weight weight-neg';
  return h('span', { class: cls, text: fmtWeight(w) });
}

function scoreEl(score) {
  const x = Math.max(0, Math.min(1, Number(score) || 0));
  return h('span', { class: 'score', dataset: { score: String(score) } },
    h('span', { class: 'score-bar', 'aria-hidden': 'true' }, h('span', { style: `width:${(x * 100).toFixed(1)}%` })),
    h('span', { class: 'score-value', text: pct(score) }));
}

function hcpLink(id) {
  return id ? h('a', { href: hcpHref(id), class: 'mono', text: id }) : dash();
}

function ruleEl(rule) {
  return h('span', { class: `badge rule-${rule || 'unknown'}` }, enumEl('mergerule', rule));
}

/** One field of an HCP as the comparison shows it. */
function valueEl(hcp, name) {
  const v = hcp ? hcp[name] : null;
  if (v === undefined || v === null || v === '') return dash();
  if (ENUMS[name]) return enumEl(ENUMS[name], v);
  if (name === 'status') return statusBadge(v);
  if (name === 'hco') {
    return h('span', {}, h('a', { href: hcoHref(v) }, hcp.hco_name || v), hcp.hco_name ? h('span', { class: 'muted mono', text: ` ${v}` }) : null);
  }
  return h('span', { class: MONO.includes(name) ? 'mono' : null, text: String(v) });
}

/** The two records of a pair side by side, with the model's verdict per compared field. */
export function compareTable(a, b, detail, { headA = null, headB = null } = {}) {
  const byField = new Map((detail || []).map((d) => [d.field, d]));
  const fields = [...COMPARED, ...[...byField.keys()].filter((f) => !COMPARED.includes(f)), ...CONTEXT];
  const rows = fields.map((f) => {
    const d = byField.get(f);
    const compared = Boolean(d);
    return h('tr', {
      class: compared ? `cmp-${agreement(d.level)}` : 'cmp-context',
      dataset: { field: f, level: compared ? d.level : '', agreement: compared ? agreement(d.level) : '' },
    },
    h('th', { scope: 'row', i18n: `hcpf.${f}` }),
    h('td', { class: 'side side-a' }, valueEl(a, f)),
    h('td', { class: 'side side-b' }, valueEl(b, f)),
    h('td', { class: 'verdict' }, compared ? [levelEl(d.level), ' ', weightEl(d.weight)] : h('span', { class: 'muted', i18n: 'identity.not_compared' })));
  });
  const side = (hcp, key, head) => h('th', { scope: 'col', class: 'side-head' },
    head || h('span', { i18n: key }), ' ', hcp ? hcpLink(hcp.id) : h('span', { class: 'muted', i18n: 'identity.record_gone' }),
    hcp && hcp.merged_into ? h('span', { class: 'badge badge-merged', i18n: 'identity.merged_into_short', i18nArgs: { id: hcp.merged_into } }) : null);
  return h('table', { class: 'data compare' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', class: 'col-field', i18n: 'identity.col.field' }),
      side(a, 'identity.side_a', headA),
      side(b, 'identity.side_b', headB),
      h('th', { scope: 'col', class: 'col-verdict', i18n: 'identity.col.verdict' }))),
    h('tbody', {}, rows));
}

function legend() {
  return h('p', { class: 'cmp-legend muted small' },
    ['agree', 'partial', 'disagree', 'missing'].map((k) => h('span', { class: `lvl lvl-${k}`, i18n: `identity.legend.${k}` })),
    h('span', { i18n: 'identity.legend.weight' }));
}

/* ---------- the review queue ---------- */

function reviewCard(ctx, item, onDecided) {
  const slot = formErrorSlot();
  const reason = h('input', {
    name: 'reason', autocomplete: 'off', maxlength: '400', class: 'reason-input',
    i18nAttr: { placeholder: 'identity.reason_hint' },
  });
  const accept = h('button', { type: 'submit', class: 'btn btn-primary review-accept', value: 'accept', i18n: 'identity.accept' });
  const reject = h('button', { type: 'submit', class: 'btn btn-danger review-reject', value: 'reject', i18n: 'identity.reject' });
  const form = h('form', { class: 'review-decision', novalidate: true },
    field('identity.reason', reason, { optional: true }),
    slot,
    h('div', { class: 'form-actions' }, reject, accept));
  const a = item.a || null;
  const b = item.b || null;
  const card = h('article', { class: 'card review', dataset: { id: String(item.id), a: a ? a.id : '', b: b ? b.id : '' } },
    h('div', { class: 'review-head' },
      h('h3', {}, h('span', { i18n: 'identity.pair', i18nArgs: { id: item.id } })),
      h('span', { class: 'review-score' }, h('span', { class: 'muted', i18n: 'identity.score' }), ' ', scoreEl(item.score)),
      h('span', { class: 'muted small' }, tr('identity.queued_at'), ' ', timeEl(isoTime(item.created_at)))),
    h('div', { class: 'table-wrap' }, compareTable(a, b, item.detail)),
    a && b ? h('p', { class: 'muted small review-effect', i18n: 'identity.accept_effect', i18nArgs: { a: a.id, b: b.id } }) : null,
    form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const decision = e.submitter && e.submitter.value === 'accept' ? 'accept' : 'reject';
    const body = { decision };
    const why = reason.value.trim();
    if (why) body.reason = why;
    accept.disabled = true;
    reject.disabled = true;
    try {
      const res = await api.post(`/identity/reviews/${enc(item.id)}`, body, { signal: ctx.signal, quiet: true });
      clearFormError(form, slot);
      card.dataset.status = res.status;
      if (decision === 'accept') ctx.notify('identity.accepted', { a: a ? a.id : '', b: b ? b.id : '' });
      else ctx.notify('identity.rejected', { id: item.id });
      onDecided(card, res);
    } catch (err) {
      formError(form, slot, err);
    } finally {
      accept.disabled = false;
      reject.disabled = false;
    }
  });
  return card;
}

function queuePanel(ctx) {
  const list = h('div', { class: 'review-list', id: 'review-list' });
  const count = h('span', { class: 'badge', id: 'queue-count' });
  const more = h('button', { type: 'button', class: 'btn', id: 'queue-more', i18n: 'md.load_more', hidden: true });
  const empty = h('p', { class: 'card empty-note', id: 'queue-empty', hidden: true },
    tr('identity.queue_empty'), ' ', h('a', { href: '#/identity?tab=run', i18n: 'identity.go_run' }));
  const el = h('section', { class: 'tab-panel', id: 'identity-queue' },
    h('div', { class: 'card-head' }, h('h2', {}, tr('identity.queue_title'), ' ', count), legend()),
    empty, list, h('div', { class: 'pager' }, more));
  let cursor = null;
  let shown = 0;
  let hasMore = false;

  function drawCount() {
    count.replaceChildren(hasMore ? countEl('identity.count_more', shown) : numEl(shown));
    empty.hidden = shown > 0;
  }

  function decided(card) {
    card.remove();
    shown -= 1;
    if (shown === 0 && hasMore) load(false); // the page is done; the next ones move up
    else drawCount();
  }

  async function load(append) {
    more.disabled = true;
    try {
      const res = await api.get('/identity/reviews', {
        query: { status: 'pending', limit: REVIEW_PAGE, cursor: append ? cursor : null }, signal: ctx.signal, quiet: true,
      });
      const items = (res && res.items) || [];
      if (!append) {
        list.replaceChildren();
        shown = 0;
      }
      list.append(...items.map((x) => reviewCard(ctx, x, decided)));
      shown += items.length;
      cursor = (res && res.next_cursor) || null;
      hasMore = Boolean(cursor);
      more.hidden = !cursor;
      list.dataset.state = 'ready';
      drawCount();
    } catch (err) {
      if (err.code !== 'aborted') list.replaceChildren(errorCard('identity.load_failed', err));
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener('click', () => load(true));
  return { el, show: () => load(false) };
}

/* ---------- decided pairs ---------- */

function decidedPanel(ctx, state, setQuery) {
  const cols = ['id', 'score', 'a', 'b', 'status', 'reason', 'decided_at', 'decided_by', 'compare'];
  const { table, tbody } = dataTable('identity.dcol', cols);
  table.id = 'decided-table';
  const status = h('select', { id: 'decided-status', name: 'status', value: state.status },
    DECIDED.map((s) => h('option', { value: s, i18n: `reviewstatus.${s}` })));
  const count = h('span', { class: 'muted', id: 'decided-count' });
  const more = h('button', { type: 'button', class: 'btn', id: 'decided-more', i18n: 'md.load_more', hidden: true });
  const errorSlot = h('div', {});
  const el = h('section', { class: 'card tab-panel', id: 'identity-decided' },
    cardHead('identity.decided_title', field('identity.status_filter', status)),
    errorSlot, h('div', { class: 'table-wrap' }, table), h('div', { class: 'pager' }, count, more));
  let cursor = null;
  let shown = 0;

  function row(x) {
    const detailRow = h('tr', { class: 'detail-row', hidden: true },
      h('td', { colspan: cols.length }, h('div', { class: 'table-wrap' }, compareTable(x.a, x.b, x.detail))));
    const toggle = h('button', {
      type: 'button', class: 'btn btn-small', 'aria-expanded': 'false', i18n: 'identity.show_compare',
      on: {
        click: () => {
          detailRow.hidden = !detailRow.hidden;
          toggle.setAttribute('aria-expanded', String(!detailRow.hidden));
        },
      },
    });
    return [h('tr', { dataset: { id: String(x.id), status: x.status } },
      h('td', { class: 'num-cell' }, String(x.id)),
      h('td', {}, scoreEl(x.score)),
      h('td', {}, x.a ? h('span', {}, hcpLink(x.a.id), ' ', h('span', { text: x.a.name || '' })) : dash()),
      h('td', {}, x.b ? h('span', {}, hcpLink(x.b.id), ' ', h('span', { text: x.b.name || '' })) : dash()),
      h('td', {}, h('span', { class: `badge review-${x.status}`, i18n: `reviewstatus.${x.status}` })),
      h('td', { class: 'reason-cell' }, textEl(x.reason)),
      h('td', {}, timeEl(isoTime(x.decided_at))),
      h('td', {}, textEl(x.decided_by)),
      h('td', { class: 'actions' }, toggle)), detailRow];
  }

  async function load(append) {
    more.disabled = true;
    try {
      const res = await api.get('/identity/reviews', {
        query: { status: state.status, limit: DECIDED_PAGE, cursor: append ? cursor : null }, signal: ctx.signal, quiet: true,
      });
      errorSlot.replaceChildren();
      const items = (res && res.items) || [];
      if (!append) {
        tbody.replaceChildren();
        shown = 0;
      }
      tbody.append(...items.flatMap(row));
      shown += items.length;
      if (shown === 0) tbody.replaceChildren(emptyRow(cols.length, `identity.decided_empty.${state.status}`));
      cursor = (res && res.next_cursor) || null;
      more.hidden = !cursor;
      count.replaceChildren(countEl(cursor ? 'identity.shown_more' : 'identity.shown', shown));
      table.dataset.state = 'ready';
    } catch (err) {
      if (err.code === 'aborted') return;
      tbody.replaceChildren();
      errorSlot.replaceChildren(errorCard('identity.load_failed', err));
    } finally {
      more.disabled = false;
    }
  }
  status.addEventListener('change', () => {
    state.status = status.value;
    setQuery();
    table.dataset.state = 'loading';
    load(false);
  });
  more.addEventListener('click', () => load(true));
  return { el, show: () => load(false) };
}

/* ---------- merges ---------- */

function takenEl(taken) {
  const entries = Object.entries(taken || {});
  if (!entries.length) return h('span', { class: 'muted', i18n: 'identity.none_taken' });
  return h('span', { class: 'taken' }, entries.map(([f, from]) => h('span', { class: 'chip', dataset: { field: f } },
    h('span', { i18n: `hcpf.${f}` }), h('span', { class: 'muted mono', text: ` ← ${from}` }))));
}

function lineageEl(m) {
  const l = m.lineage || {};
  const facts = [
    ['identity.lin.source_records', h('span', {}, (l.source_records || []).map((id, i) => [i ? ', ' : '', hcpLink(id)]))],
    ['identity.lin.rule', ruleEl(l.rule || m.rule)],
    ['identity.lin.score', l.score === null || l.score === undefined ? dash() : h('span', { text: pct(l.score) })],
    ['identity.lin.fields_taken', takenEl(l.fields_taken)],
    ['identity.lin.reason', textEl(l.reason)],
  ];
  const detail = Array.isArray(l.detail) && l.detail.length
    ? h('table', { class: 'data lineage-detail' },
      h('thead', {}, h('tr', {}, ['field', 'level', 'weight'].map((k) => h('th', { scope: 'col', i18n: `identity.lcol.${k}` })))),
      h('tbody', {}, l.detail.map((d) => h('tr', { class: `cmp-${agreement(d.level)}`, dataset: { field: d.field, level: d.level } },
        h('td', { i18n: `hcpf.${d.field}` }), h('td', {}, levelEl(d.level)), h('td', {}, weightEl(d.weight))))))
    : null;
  return h('div', { class: 'lineage' },
    h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', { i18n: k }), h('dd', {}, v)])),
    detail);
}

/**
 * The table of merges with lineage and undo. opts: hcp (only that HCP's merges),
 * id (the table's id), onUndone (after an undo: e.g. reload the profile).
 * Returns {el, load(hcp?)}.
 */
export function mergesTable(ctx, { hcp = null, id = 'merge-table', onUndone = null } = {}) {
  const cols = ['id', 'survivor', 'merged', 'rule', 'score', 'fields_taken', 'reason', 'merged_at', 'status', 'actions'];
  const { table, tbody } = dataTable('identity.mcol', cols);
  table.id = id;
  table.classList.add('merges');
  const count = h('span', { class: 'muted merge-count' });
  const more = h('button', { type: 'button', class: 'btn merge-more', i18n: 'md.load_more', hidden: true });
  const errorSlot = h('div', {});
  const st = { hcp, cursor: null, shown: 0 };
  const canUndo = mayMerge(ctx.user.role);

  function statusEl(m) {
    if (m.undone_at) {
      return h('span', {}, h('span', { class: 'badge merge-undone', i18n: 'identity.mstatus.undone' }),
        h('div', { class: 'sub muted' }, timeEl(isoTime(m.undone_at)), m.undone_by ? ` · ${m.undone_by}` : ''));
    }
    return h('span', { class: 'badge merge-active', i18n: 'identity.mstatus.active' });
  }

  function row(m) {
    const msg = h('div', { class: 'row-error field-error', role: 'alert', hidden: true });
    const detailRow = h('tr', { class: 'detail-row', hidden: true }, h('td', { colspan: cols.length }, lineageEl(m)));
    const toggle = h('button', {
      type: 'button', class: 'btn btn-small lineage-toggle', 'aria-expanded': 'false', i18n: 'identity.lineage',
      on: {
        click: () => {
          detailRow.hidden = !detailRow.hidden;
          toggle.setAttribute('aria-expanded', String(!detailRow.hidden));
        },
      },
    });
    const undo = canUndo && !m.undone_at ? confirmButton('identity.undo', 'identity.undo_confirm', async () => {
      msg.hidden = true;
      try {
        const res = await api.post(`/merges/${enc(m.id)}/undo`, undefined, { signal: ctx.signal, quiet: true });
        const kept = (res && res.kept) || [];
        if (kept.length) ctx.notify('identity.undone_kept', { id: m.id, fields: kept.map((f) => t(`hcpf.${f}`)).join('、') });
        else ctx.notify('identity.undone', { id: m.id });
        if (onUndone) await onUndone(m, res); // the owner redraws, this table included
        else await load(false);
      } catch (err) {
        if (err.code === 'aborted') return;
        messageInto(msg, err);
        msg.hidden = false;
      }
    }, { cls: 'btn btn-small btn-danger merge-undo' }) : null;
    const cur = (x) => (st.hcp && x === st.hcp ? h('strong', { class: 'mono', text: x }) : hcpLink(x));
    return [h('tr', { dataset: { id: String(m.id), survivor: m.survivor, merged: m.merged, undone: m.undone_at ? 'true' : 'false' }, class: m.undone_at ? 'inactive' : null },
      h('td', { class: 'num-cell' }, String(m.id)),
      h('td', {}, cur(m.survivor)),
      h('td', {}, cur(m.merged)),
      h('td', {}, ruleEl(m.rule)),
      h('td', {}, m.score === null || m.score === undefined ? dash() : h('span', { text: pct(m.score) })),
      h('td', {}, takenEl(m.lineage && m.lineage.fields_taken)),
      h('td', { class: 'reason-cell' }, textEl(m.lineage && m.lineage.reason)),
      h('td', {}, timeEl(isoTime(m.merged_at)), m.merged_by ? h('div', { class: 'sub muted', text: m.merged_by }) : null),
      h('td', { class: 'merge-status' }, statusEl(m)),
      h('td', { class: 'actions' }, toggle, undo, msg)), detailRow];
  }

  async function load(append) {
    more.disabled = true;
    try {
      const res = await api.get('/merges', {
        query: { hcp: st.hcp, limit: MERGE_PAGE, cursor: append ? st.cursor : null }, signal: ctx.signal, quiet: true,
      });
      errorSlot.replaceChildren();
      const items = (res && res.items) || [];
      if (!append) {
        tbody.replaceChildren();
        st.shown = 0;
      }
      tbody.append(...items.flatMap(row));
      st.shown += items.length;
      if (st.shown === 0) tbody.replaceChildren(emptyRow(cols.length, st.hcp ? 'identity.merges_empty_hcp' : 'identity.merges_empty'));
      st.cursor = (res && res.next_cursor) || null;
      more.hidden = !st.cursor;
      count.replaceChildren(countEl(st.cursor ? 'identity.shown_more' : 'identity.shown', st.shown));
      table.dataset.state = 'ready';
    } catch (err) {
      if (err.code === 'aborted') return;
      tbody.replaceChildren();
      count.replaceChildren();
      errorSlot.replaceChildren(errorCard('identity.merges_failed', err));
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener('click', () => load(true));
  return {
    el: h('div', { class: 'merges-wrap' }, errorSlot, h('div', { class: 'table-wrap' }, table), h('div', { class: 'pager' }, count, more)),
    load: (nextHcp) => {
      if (nextHcp !== undefined) st.hcp = nextHcp || null;
      table.dataset.state = 'loading';
      return load(false);
    },
  };
}

function mergesPanel(ctx, state, setQuery) {
  const merges = mergesTable(ctx, { hcp: state.hcp });
  const input = h('input', {
    name: 'hcp', id: 'merge-hcp', class: 'mono', autocomplete: 'off', spellcheck: 'false', value: state.hcp || '',
    i18nAttr: { placeholder: 'identity.hcp_filter_hint' },
  });
  const form = h('form', { class: 'toolbar', id: 'merge-filter', role: 'search' },
    field('identity.hcp_filter', input),
    h('button', { type: 'submit', class: 'btn', i18n: 'identity.filter' }),
    h('button', { type: 'reset', class: 'btn btn-ghost', i18n: 'md.reset' }));
  const apply = () => {
    state.hcp = input.value.trim();
    setQuery();
    merges.load(state.hcp);
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); apply(); });
  form.addEventListener('reset', () => setTimeout(apply, 0));
  const el = h('section', { class: 'card tab-panel', id: 'identity-merges' },
    cardHead('identity.merges_title'), h('p', { class: 'muted', i18n: 'identity.merges_intro' }), form, merges.el);
  return { el, show: () => merges.load() };
}

/* ---------- run the matcher ---------- */

function modelRows(model) {
  const rows = [];
  for (const f of (model && model.fields) || []) {
    (f.levels || []).forEach((level, i) => {
      const m = Number(f.m[i]);
      const u = Number(f.u[i]);
      rows.push({ field: f.column, kind: f.kind, level, m, u, weight: m > 0 && u > 0 ? Math.log2(m / u) : NaN });
    });
  }
  return rows;
}

// The bars stand on a logarithmic scale from 10^-CHART_DECADES to 1: value
// CHART_DECADES + log10(p), so that a likely level has a tall bar (ECharts'
// own log axis hangs bars from 1 down) and the floor of 1e-5 still shows.
const CHART_DECADES = 6;
const logBar = (p) => Math.max(0, CHART_DECADES + Math.log10(Math.max(Number(p) || 0, 10 ** -CHART_DECADES)));
const decadeLabel = (v) => (v >= CHART_DECADES - 2 ? String(10 ** (v - CHART_DECADES)) : `1e-${CHART_DECADES - v}`);

function chartOption(rows) {
  const label = (r) => `${t(`hcpf.${r.field}`)} · ${t(`idlevel.${r.level}`)}`;
  const bar = (key) => ({
    name: t(`identity.series.${key}`), type: 'bar', barGap: '10%', itemStyle: { color: COLORS[key] },
    data: rows.map((r) => logBar(r[key])),
  });
  return {
    tooltip: {
      trigger: 'axis', axisPointer: { type: 'shadow' },
      formatter: (ps) => {
        const r = rows[ps[0].dataIndex];
        return `${label(r)}<br>m = ${fmtProb(r.m)}<br>u = ${fmtProb(r.u)}<br>${t('identity.mtcol.weight')} = ${fmtWeight(r.weight)}`;
      },
    },
    legend: { top: 0 },
    grid: { left: 56, right: 16, top: 36, bottom: 110 },
    xAxis: { type: 'category', data: rows.map(label), axisLabel: { rotate: 50, interval: 0, fontSize: 11 } },
    yAxis: { type: 'value', min: 0, max: CHART_DECADES, interval: 1, name: t('identity.chart_axis'), axisLabel: { formatter: decadeLabel } },
    series: [bar('m'), bar('u')],
  };
}

function drawChart(ctx, el, rows) {
  return mountChart(ctx, el, () => chartOption(rows));
}

function runResult(ctx, res, at) {
  const model = res.model || null;
  const stats = [...RUN_STATS, 'took_ms'].map((k) => h('div', { class: `stat stat-${k}`, dataset: { stat: k } },
    h('div', { class: 'stat-value' }, numEl(res[k] ?? 0)),
    h('div', { class: 'stat-label', i18n: `identity.stat.${k}` })));
  const rows = modelRows(model);
  const facts = model ? h('dl', { class: 'facts model-facts', id: 'identity-model-facts' },
    h('dt', { i18n: 'identity.model.lambda' }), h('dd', { text: pct(model.lambda) }),
    h('dt', { i18n: 'identity.model.iterations' }), h('dd', {}, numEl(model.iterations)),
    h('dt', { i18n: 'identity.model.converged' }), h('dd', { i18n: model.converged ? 'identity.yes' : 'identity.no' }),
    h('dt', { i18n: 'identity.model.thresholds' }),
    h('dd', { i18n: 'identity.model.thresholds_v', i18nArgs: { upper: String(res.upper), lower: String(res.lower) } })) : null;
  const chartEl = h('div', { class: 'chart chart-model', id: 'identity-model-chart', role: 'img', i18nAttr: { 'aria-label': 'identity.chart' } });
  const { table, tbody } = dataTable('identity.mtcol', ['field', 'kind', 'level', 'm', 'u', 'weight']);
  table.id = 'identity-model-table';
  let lastField = null;
  tbody.replaceChildren(...rows.map((r) => {
    const first = r.field !== lastField;
    lastField = r.field;
    return h('tr', { class: first ? 'field-first' : null, dataset: { field: r.field, level: r.level } },
      h('td', {}, first ? h('strong', { i18n: `hcpf.${r.field}` }) : null),
      h('td', {}, first ? enumEl('cmpkind', r.kind) : null),
      h('td', {}, levelEl(r.level)),
      h('td', { class: 'num-cell mono', text: fmtProb(r.m) }),
      h('td', { class: 'num-cell mono', text: fmtProb(r.u) }),
      h('td', { class: 'num-cell' }, weightEl(r.weight)));
  }));
  const outcome = h('p', { class: 'note note-ok', id: 'identity-run-outcome' },
    h('span', { i18n: 'identity.run_outcome', i18nArgs: { merged: res.merged ?? 0, queued: res.queued ?? 0 } }), ' ',
    res.queued > 0 ? h('a', { href: '#/identity?tab=queue', i18n: 'identity.go_queue' }) : null);
  const card = h('section', { class: 'card', id: 'identity-run-result' },
    cardHead('identity.run_result', at ? h('span', { class: 'muted' }, tr('identity.run_at'), ' ', timeEl(at, 'seconds')) : null),
    outcome,
    h('div', { class: 'stats' }, stats),
    model ? [h('h3', { i18n: 'identity.model_title' }), h('p', { class: 'muted small', i18n: 'identity.model_intro' }), facts, chartEl,
      h('div', { class: 'table-wrap' }, table)] : h('p', { class: 'muted', i18n: 'identity.no_model' }));
  if (model && rows.length) setTimeout(() => drawChart(ctx, chartEl, rows), 0);
  return card;
}

function readLastRun() {
  try {
    const v = JSON.parse(sessionStorage.getItem(RUN_STORE) || 'null');
    return v && v.res ? v : null;
  } catch {
    return null;
  }
}

function runPanel(ctx) {
  const upper = h('input', { name: 'upper', type: 'number', min: '0', max: '1', step: 'any', inputmode: 'decimal', placeholder: '0.9' });
  const lower = h('input', { name: 'lower', type: 'number', min: '0', max: '1', step: 'any', inputmode: 'decimal', placeholder: '0.3' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'identity-run', i18n: 'identity.run' });
  const slot = formErrorSlot();
  const result = h('div', { id: 'identity-run-slot' });
  const form = h('form', { class: 'form-grid', id: 'identity-run-form', novalidate: true },
    field('identity.upper', upper, { optional: true, hint: h('small', { class: 'muted', i18n: 'identity.upper_hint' }) }),
    field('identity.lower', lower, { optional: true, hint: h('small', { class: 'muted', i18n: 'identity.lower_hint' }) }),
    slot,
    h('div', { class: 'form-actions' }, submit));
  let previous = null;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {};
    for (const input of [upper, lower]) {
      if (input.value.trim() !== '') body[input.name] = Number(input.value);
    }
    submit.disabled = true;
    submit.dataset.i18n = 'identity.running';
    submit.textContent = t('identity.running');
    try {
      const res = await api.post('/identity/run', Object.keys(body).length ? body : undefined, { signal: ctx.signal, quiet: true });
      clearFormError(form, slot);
      const at = new Date().toISOString();
      try {
        sessionStorage.setItem(RUN_STORE, JSON.stringify({ res, at }));
      } catch { /* private mode: shown now, not kept */ }
      if (previous && previous.dispose) previous.dispose();
      const card = runResult(ctx, res, at);
      previous = card.querySelector('#identity-model-chart');
      result.replaceChildren(card);
      ctx.notify('identity.run_done', { merged: res.merged, queued: res.queued });
    } catch (err) {
      formError(form, slot, err);
    } finally {
      submit.disabled = false;
      submit.dataset.i18n = 'identity.run';
      submit.textContent = t('identity.run');
    }
  });
  const el = h('section', { class: 'tab-panel', id: 'identity-run-panel' },
    h('section', { class: 'card' }, cardHead('identity.run_title'), h('p', { class: 'muted', i18n: 'identity.run_intro' }), form),
    result);
  return {
    el,
    show: () => {
      if (result.childElementCount) return;
      const last = readLastRun();
      if (last) {
        const card = runResult(ctx, last.res, last.at);
        previous = card.querySelector('#identity-model-chart');
        result.replaceChildren(card);
      }
    },
  };
}

/* ---------- the page ---------- */

export function render(ctx) {
  const state = {
    tab: TABS.includes(ctx.query.get('tab')) ? ctx.query.get('tab') : 'queue',
    status: DECIDED.includes(ctx.query.get('status')) ? ctx.query.get('status') : 'rejected',
    hcp: ctx.query.get('hcp') || '',
  };
  const setQuery = () => ctx.setQuery({
    tab: state.tab === 'queue' ? null : state.tab,
    status: state.tab === 'decided' ? state.status : null,
    hcp: state.tab === 'merges' ? state.hcp : null,
  });
  const makers = {
    queue: () => queuePanel(ctx),
    decided: () => decidedPanel(ctx, state, setQuery),
    merges: () => mergesPanel(ctx, state, setQuery),
    run: () => runPanel(ctx),
  };
  const panels = {};
  const holder = h('div', { class: 'tab-panels' });
  const buttons = TABS.map((k) => h('button', {
    type: 'button', role: 'tab', class: 'tab', id: `identity-tab-${k}`, dataset: { tab: k },
    'aria-controls': `identity-${k === 'run' ? 'run-panel' : k}`, i18n: `identity.tab.${k}`,
    on: { click: () => select(k) },
  }));
  const tablist = h('div', { class: 'tabs', role: 'tablist', i18nAttr: { 'aria-label': 'identity.tabs' } }, buttons);
  tablist.addEventListener('keydown', (e) => {
    const i = TABS.indexOf(state.tab);
    const next = e.key === 'ArrowRight' ? TABS[(i + 1) % TABS.length] : e.key === 'ArrowLeft' ? TABS[(i + TABS.length - 1) % TABS.length] : null;
    if (!next) return;
    e.preventDefault();
    select(next);
    buttons[TABS.indexOf(next)].focus();
  });

  function select(k) {
    state.tab = k;
    setQuery();
    for (const b of buttons) {
      const on = b.dataset.tab === k;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
    }
    if (!panels[k]) panels[k] = makers[k]();
    panels[k].el.setAttribute('role', 'tabpanel');
    panels[k].el.setAttribute('aria-labelledby', `identity-tab-${k}`);
    holder.replaceChildren(panels[k].el);
    panels[k].show();
  }

  // a link inside the page to another tab (#/identity?tab=…) changes the hash: the
  // router re-renders the page with that tab, so nothing else is needed here.
  const page = h('div', { class: 'page identity' },
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', { i18n: 'identity.title' }), h('p', { class: 'muted page-sub', i18n: 'identity.intro' }))),
    tablist, holder);
  ctx.onLang(() => refreshNumbers(page));
  select(state.tab);
  return page;
}

/* ---------- for the HCP profile ---------- */

/** "This record was merged into D1" with a link, for a merged record; null otherwise. */
export function mergedBanner(hcp) {
  if (!hcp || !hcp.merged_into) return null;
  return h('p', { class: 'note note-merged', id: 'hcp-merged-banner', role: 'status', dataset: { into: hcp.merged_into } },
    h('span', { i18n: 'identity.banner' }), ' ',
    h('a', { href: hcpHref(hcp.merged_into), class: 'mono', id: 'hcp-merged-link', text: hcp.merged_into }),
    h('span', { i18n: 'identity.banner_after' }));
}

/**
 * The "merge into…" dialog of the profile: the target's id (previewed), a reason
 * and, optionally, a survivorship rule per field. current() is the HCP shown;
 * onMerged(res) runs after a 200. Returns {el, open()}.
 */
export function mergeDialog(ctx, current, onMerged) {
  const into = h('input', { name: 'into', id: 'merge-into', required: true, autocomplete: 'off', spellcheck: 'false', class: 'mono', i18nAttr: { placeholder: 'identity.into_hint' } });
  const preview = h('small', { class: 'muted merge-preview', id: 'merge-preview' });
  const reason = h('input', { name: 'reason', id: 'merge-reason', autocomplete: 'off', maxlength: '400' });
  const rules = SURVIVE_FIELDS.map((f) => field(`hcpf.${f}`, h('select', { name: `survive.${f}`, dataset: { field: f } },
    h('option', { value: '', i18n: 'identity.survive.default' }),
    SURVIVE_RULES.map((r) => h('option', { value: r, i18n: `identity.survive.${r}` })))));
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'merge-confirm', i18n: 'identity.merge_confirm' });
  const slot = formErrorSlot();
  const text = h('p', {});
  const form = h('form', { method: 'dialog', class: 'merge-form', novalidate: true },
    text,
    field('identity.into', into, { hint: preview }),
    field('identity.merge_reason', reason, { optional: true }),
    h('details', { class: 'subform', id: 'merge-survivorship' },
      h('summary', { i18n: 'identity.survivorship' }),
      h('p', { class: 'muted small', i18n: 'identity.survivorship_intro' }),
      h('div', { class: 'form-grid' }, rules)),
    slot,
    h('div', { class: 'form-actions' },
      h('button', { type: 'button', class: 'btn', i18n: 'common.cancel', on: { click: () => dialog.close() } }),
      submit));
  const dialog = h('dialog', { class: 'dialog', id: 'merge-dialog', 'aria-labelledby': 'merge-title' },
    h('h2', { id: 'merge-title', i18n: 'identity.merge_title' }), form);

  let seq = 0;
  into.addEventListener('change', async () => {
    const id = into.value.trim();
    const mine = ++seq;
    preview.replaceChildren();
    if (!id || id === current().id) return;
    try {
      const x = await api.get(`/hcps/${enc(id)}`, { signal: ctx.signal, quiet: true });
      if (mine !== seq) return;
      preview.replaceChildren(h('span', { text: [x.name, x.hco_name, x.specialty].filter(Boolean).join(' · ') }),
        x.merged_into ? h('span', { class: 'field-error', i18n: 'identity.merged_into_short', i18nArgs: { id: x.merged_into } }) : '');
    } catch (err) {
      if (mine === seq && err.code !== 'aborted') messageInto(preview, err);
    }
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const hcp = current();
    const body = { into: into.value.trim() };
    if (reason.value.trim()) body.reason = reason.value.trim();
    const survivorship = {};
    for (const sel of form.querySelectorAll('select[data-field]')) if (sel.value) survivorship[sel.dataset.field] = sel.value;
    if (Object.keys(survivorship).length) body.survivorship = survivorship;
    submit.disabled = true;
    try {
      const res = await api.post(`/hcps/${enc(hcp.id)}/merge`, body, { signal: ctx.signal, quiet: true });
      clearFormError(form, slot);
      dialog.close();
      ctx.notify('identity.merged', { merged: res.merged, survivor: res.survivor });
      await onMerged(res);
    } catch (err) {
      formError(form, slot, err);
    } finally {
      submit.disabled = false;
    }
  });
  return {
    el: dialog,
    open() {
      const hcp = current();
      text.replaceChildren(tr('identity.merge_text', { name: hcp.name || hcp.id, id: hcp.id }));
      form.reset();
      preview.replaceChildren();
      clearFormError(form, slot);
      dialog.showModal();
      into.focus();
    },
  };
}

/** The merge history card of an HCP (admins), with undo. Returns {el, update()}. */
export function mergeHistoryCard(ctx, current, onUndone) {
  const merges = mergesTable(ctx, { id: 'hcp-merge-table', onUndone });
  return {
    el: h('section', { class: 'card', id: 'hcp-merges' }, cardHead('identity.history',
      h('a', { href: '#/identity?tab=merges', class: 'small', i18n: 'identity.all_merges' })), merges.el),
    update: () => merges.load(current().id),
  };
}
