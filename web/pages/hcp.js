// The HCP profile (#/hcp/{id}): a header card (name, pinyin, title, hospital,
// status), the attributes with an edit mode (PATCH of the changed fields, the
// server's message next to the field it names), channel identities, consents
// in force or their whole history with a form to record an opt-in / opt-out,
// the reps aligned to the doctor (field vs inside owner, MSL) and the change
// history: who changed what, from what, to what. Personal data comes masked
// or in the clear as the server decides for the role; a view in the clear
// says that it was audited. Admins and compliance officers may erase the
// doctor's personal data (PIPL), behind a dialog. A record merged into
// another says so in a banner linking to the survivor; admins (the data
// stewards) may merge the doctor into another record ("merge into…", with
// survivorship per field) and see and undo its merges (identity.js). The
// doctor's interactions on every channel, live, with a chart by month
// (timeline.js), and the reps' call reports with their form (reports.js).
// The next best actions suggested for the doctor, and what was blocked and
// why (nba.js).

import { api } from '../api.js';
import { h, tr, timeEl } from '../dom.js';
import { has } from '../i18n.js';
import { field, dataTable, emptyRow } from '../widgets.js';
import {
  TITLES, GENDERS, HCP_STATUSES, ALIGN_ROLES, CONSENT_CHANNELS, CONSENT_PURPOSES, CONSENT_STATUSES, IDENTITY_KINDS,
  may, enumEl, enumOptions, textEl, dash, statusBadge, errorCard, formError, clearFormError, formErrorSlot,
  confirmButton, toRfc3339, hcoHref, cardHead, countEl, refreshNumbers, loadAll,
} from './md.js';
import { mayMerge, mergedBanner, mergeDialog, mergeHistoryCard } from './identity.js';
import { timelineCard } from './timeline.js';
import { reportsCard } from './reports.js';
import { tagsCard } from './tags.js';
import { recommendationsCard } from './nba.js';

const EDIT_FIELDS = [
  { name: 'name', required: true },
  { name: 'pinyin' },
  { name: 'gender', options: ['gender', GENDERS] },
  { name: 'title', options: ['title', TITLES] },
  { name: 'specialty' },
  { name: 'department' },
  { name: 'hco', mono: true },
  { name: 'license_no', mono: true, inputmode: 'numeric' },
  { name: 'phone', mono: true, type: 'tel' },
  { name: 'email', mono: true, type: 'email' },
  { name: 'status', options: ['hcpstatus', HCP_STATUSES], required: true },
];
const ENUM_FIELDS = { title: 'title', gender: 'gender', status: 'hcpstatus' };
const CHANGES_PAGE = 20;

const enc = encodeURIComponent;

/* ---------- header ---------- */

function header(ctx, hcp, { onEdit, onErase, onMerge }) {
  const initial = (hcp.name || hcp.id || '?').trim().charAt(0);
  const actions = [];
  if (onEdit) actions.push(h('button', { type: 'button', class: 'btn', id: 'hcp-edit', i18n: 'hcp.edit', on: { click: onEdit } }));
  if (onMerge) actions.push(h('button', { type: 'button', class: 'btn', id: 'hcp-merge', i18n: 'identity.merge_into', on: { click: onMerge } }));
  if (onErase) actions.push(h('button', { type: 'button', class: 'btn btn-danger', id: 'hcp-erase', i18n: 'hcp.erase', on: { click: onErase } }));
  const meta = [
    hcp.hco ? h('a', { href: hcoHref(hcp.hco), id: 'hcp-hco', text: hcp.hco_name || hcp.hco }) : null,
    hcp.department ? h('span', { text: hcp.department }) : null,
    hcp.specialty ? h('span', { text: hcp.specialty }) : null,
    h('span', { class: 'muted' }, tr('hcp.id_label', { id: hcp.id })),
  ].filter(Boolean);
  return h('section', { class: 'card profile-head', id: 'hcp-head' },
    h('div', { class: 'avatar', 'aria-hidden': 'true', text: initial }),
    h('div', { class: 'profile-main' },
      h('h1', {}, h('span', { id: 'hcp-name', text: hcp.name || hcp.id }),
        hcp.pinyin ? h('span', { class: 'pinyin', id: 'hcp-pinyin', text: hcp.pinyin }) : null),
      h('div', { class: 'badges' },
        hcp.title ? h('span', { class: 'badge badge-title', id: 'hcp-title' }, enumEl('title', hcp.title)) : null,
        statusBadge(hcp.status),
        hcp.gender ? h('span', { class: 'badge' }, enumEl('gender', hcp.gender)) : null),
      h('div', { class: 'meta' }, meta.flatMap((m, i) => (i ? [h('span', { class: 'sep', text: '·' }), m] : [m])))),
    h('div', { class: 'profile-actions' }, actions));
}

function maskNote(hcp) {
  if (hcp.masked === false) {
    return h('p', { class: 'note note-audit', id: 'hcp-mask-note', role: 'note', dataset: { masked: 'false' } }, tr('hcp.unmasked_note'));
  }
  return h('p', { class: 'note', id: 'hcp-mask-note', role: 'note', dataset: { masked: 'true' } }, tr('hcp.masked_note'));
}

/* ---------- attributes and edit mode ---------- */

function attrValue(hcp, name) {
  const v = hcp[name];
  if (ENUM_FIELDS[name]) return enumEl(ENUM_FIELDS[name], v);
  if (name === 'hco') return v ? h('a', { href: hcoHref(v) }, hcp.hco_name || v, hcp.hco_name ? h('span', { class: 'muted', text: ` (${v})` }) : null) : dash();
  const el = textEl(v);
  if (['license_no', 'phone', 'email'].includes(name) && v) el.classList.add('mono');
  return el;
}

function attributesCard(ctx, st) {
  const body = h('div', {});
  const card = h('section', { class: 'card', id: 'hcp-attrs' }, cardHead('hcp.attrs'), body);

  function view() {
    const hcp = st.hcp;
    const rows = EDIT_FIELDS.map((f) => [f.name, attrValue(hcp, f.name)]);
    rows.push(['created_at', timeEl(hcp.created_at)], ['updated_at', timeEl(hcp.updated_at)]);
    const attrs = Object.entries(hcp.attrs || {});
    body.replaceChildren(
      h('dl', { class: 'attr-grid' }, rows.map(([name, value]) => h('div', { class: 'attr', dataset: { field: name } },
        h('dt', { i18n: `hcpf.${name}` }), h('dd', {}, value)))),
      attrs.length ? h('div', { class: 'custom-attrs' }, h('h3', { i18n: 'hcp.custom_attrs' }),
        h('dl', { class: 'attr-grid' }, attrs.map(([k, v]) => h('div', { class: 'attr', dataset: { attr: k } },
          h('dt', { text: k }), h('dd', { text: String(v) }))))) : '');
  }

  function edit() {
    const hcp = st.hcp;
    const slot = formErrorSlot();
    const controls = EDIT_FIELDS.map((f) => {
      const value = hcp[f.name] === null || hcp[f.name] === undefined ? '' : String(hcp[f.name]);
      const control = f.options
        ? h('select', { name: f.name, value }, f.required ? null : h('option', { value: '', i18n: 'md.none' }), enumOptions(f.options[0], f.options[1]))
        : h('input', {
          name: f.name, value, type: f.type || 'text', class: f.mono ? 'mono' : null, required: f.required,
          inputmode: f.inputmode || null, autocomplete: 'off', spellcheck: 'false',
        });
      return field(`hcpf.${f.name}`, control, { hint: f.name === 'hco' && hcp.hco_name ? h('small', { class: 'muted', text: hcp.hco_name }) : null });
    });
    const save = h('button', { type: 'submit', class: 'btn btn-primary', id: 'hcp-save', i18n: 'common.save' });
    const form = h('form', { class: 'form-grid', id: 'hcp-edit-form', novalidate: true }, controls, slot,
      h('div', { class: 'form-actions' },
        h('button', { type: 'button', class: 'btn', id: 'hcp-cancel', i18n: 'common.cancel', on: { click: () => { st.editing = false; view(); } } }),
        save));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const patch = {};
      for (const f of EDIT_FIELDS) {
        const now = form.elements[f.name].value.trim();
        const was = hcp[f.name] === null || hcp[f.name] === undefined ? '' : String(hcp[f.name]);
        if (now !== was) patch[f.name] = now === '' ? null : now;
      }
      if (Object.keys(patch).length === 0) {
        st.editing = false;
        view();
        return;
      }
      save.disabled = true;
      try {
        await api.patch(`/hcps/${enc(hcp.id)}`, patch, { signal: ctx.signal, quiet: true });
        clearFormError(form, slot);
        st.editing = false;
        ctx.notify('hcp.saved', { name: hcp.name });
        await st.refresh();
      } catch (err) {
        formError(form, slot, err);
      } finally {
        save.disabled = false;
      }
    });
    body.replaceChildren(form);
    form.elements.name.focus();
  }

  return {
    el: card,
    update() { if (st.editing) edit(); else view(); },
    edit() { st.editing = true; edit(); card.scrollIntoView({ block: 'start' }); },
  };
}

/* ---------- identities ---------- */

function identitiesCard(ctx, st) {
  const cols = ['kind', 'value', 'app', 'primary', 'verified', 'source', 'actions'];
  const { table, tbody } = dataTable('hcp.ident', cols);
  table.id = 'identity-table';
  const canEdit = may.identities(ctx.user.role);
  const card = h('section', { class: 'card', id: 'hcp-identities' }, cardHead('hcp.identities'),
    h('div', { class: 'table-wrap' }, table));

  function row(x) {
    return h('tr', { dataset: { id: x.id, kind: x.kind } },
      h('td', {}, enumEl('idkind', x.kind)),
      h('td', { class: 'mono ident-value', text: x.value || '' }),
      h('td', {}, textEl(x.app)),
      h('td', {}, x.primary ? h('span', { class: 'badge badge-ok', i18n: 'hcp.primary' }) : null),
      h('td', {}, h('span', { class: x.verified ? 'badge badge-ok' : 'badge', i18n: x.verified ? 'hcp.verified' : 'hcp.unverified' })),
      h('td', {}, textEl(x.source)),
      h('td', { class: 'actions' }, canEdit ? confirmButton('hcp.ident_remove', 'hcp.confirm', async () => {
        try {
          await api.del(`/hcps/${enc(st.hcp.id)}/identities/${enc(x.id)}`, { signal: ctx.signal });
          ctx.notify('hcp.ident_removed');
          await st.refresh();
        } catch { /* shown in the banner by api.js */ }
      }) : null));
  }

  if (canEdit) {
    const slot = formErrorSlot();
    const form = h('form', { class: 'form-grid', id: 'identity-form' },
      field('hcp.ident.kind', h('select', { name: 'kind', required: true }, enumOptions('idkind', IDENTITY_KINDS))),
      field('hcp.ident.value', h('input', { name: 'value', required: true, autocomplete: 'off', spellcheck: 'false', class: 'mono' })),
      field('hcp.ident.app', h('input', { name: 'app', autocomplete: 'off', i18nAttr: { placeholder: 'hcp.ident_app_hint' } }), { optional: true }),
      field('hcp.ident.source', h('input', { name: 'source', autocomplete: 'off' }), { optional: true }),
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'verified' }), tr('hcp.ident_verified')),
      slot,
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary', i18n: 'hcp.ident_add' })));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const v = (n) => form.elements[n].value.trim();
      const body = { kind: v('kind'), value: v('value'), verified: form.elements.verified.checked };
      if (v('app')) body.app = v('app');
      if (v('source')) body.source = v('source');
      try {
        const res = await api.post(`/hcps/${enc(st.hcp.id)}/identities`, body, { signal: ctx.signal, quiet: true });
        clearFormError(form, slot);
        form.reset();
        ctx.notify(res && res.added === false ? 'hcp.ident_exists' : 'hcp.ident_added');
        await st.refresh();
      } catch (err) {
        // the server names the identity's kind ("phone") as the field: that is the value here
        if (err.detail && IDENTITY_KINDS.includes(err.detail.field)) err.detail = { ...err.detail, field: 'value' };
        formError(form, slot, err);
      }
    });
    card.append(h('details', { class: 'subform' }, h('summary', { i18n: 'hcp.ident_add_title' }), form));
  }

  return {
    el: card,
    update() {
      const items = st.hcp.identities || [];
      tbody.replaceChildren(...(items.length ? items.map(row) : [emptyRow(cols.length, 'hcp.ident_empty')]));
    },
  };
}

/* ---------- consents ---------- */

function consentsCard(ctx, st) {
  const cols = ['channel', 'purpose', 'status', 'captured_at', 'source', 'evidence', 'version', 'recorded_by'];
  const { table, tbody } = dataTable('hcp.consent', cols);
  table.id = 'consent-table';
  const history = h('input', { type: 'checkbox', id: 'consent-history' });
  const card = h('section', { class: 'card', id: 'hcp-consents' },
    cardHead('hcp.consents', h('label', { class: 'check toggle' }, history, tr('hcp.consent_history'))),
    h('div', { class: 'table-wrap' }, table));

  function row(c) {
    return h('tr', { dataset: { channel: c.channel, purpose: c.purpose, status: c.status } },
      h('td', {}, enumEl('channel', c.channel)),
      h('td', {}, enumEl('purpose', c.purpose)),
      h('td', {}, h('span', { class: `badge consent-${c.status}`, i18n: `consent.${c.status}` })),
      h('td', {}, timeEl(c.captured_at)),
      h('td', {}, textEl(c.source)),
      h('td', {}, textEl(c.evidence)),
      h('td', {}, textEl(c.version)),
      h('td', {}, textEl(c.recorded_by)));
  }

  function draw(items) {
    tbody.replaceChildren(...(items.length ? items.map(row) : [emptyRow(cols.length, 'hcp.consent_empty')]));
  }

  async function update() {
    if (!history.checked) {
      table.dataset.mode = 'current';
      draw(st.hcp.consents || []);
      return;
    }
    try {
      const res = await api.get(`/hcps/${enc(st.hcp.id)}/consents`, { query: { history: 'true' }, signal: ctx.signal });
      table.dataset.mode = 'history';
      draw((res && res.items) || []);
    } catch { /* shown in the banner by api.js */ }
  }
  history.addEventListener('change', update);

  if (may.consent(ctx.user.role)) {
    const slot = formErrorSlot();
    const form = h('form', { class: 'form-grid', id: 'consent-form' },
      field('hcp.consent.channel', h('select', { name: 'channel', required: true }, enumOptions('channel', CONSENT_CHANNELS))),
      field('hcp.consent.purpose', h('select', { name: 'purpose', required: true }, enumOptions('purpose', CONSENT_PURPOSES))),
      field('hcp.consent.status', h('select', { name: 'status', required: true }, enumOptions('consent', CONSENT_STATUSES))),
      field('hcp.consent.captured_at', h('input', { name: 'captured_at', type: 'datetime-local' }), { optional: true, hint: h('small', { class: 'muted', i18n: 'hcp.consent_now_hint' }) }),
      field('hcp.consent.source', h('input', { name: 'source', autocomplete: 'off', value: 'medreach_ui' })),
      field('hcp.consent.evidence', h('input', { name: 'evidence', autocomplete: 'off', i18nAttr: { placeholder: 'hcp.consent_evidence_hint' } })),
      field('hcp.consent.version', h('input', { name: 'version', autocomplete: 'off' }), { optional: true }),
      slot,
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary', i18n: 'hcp.consent_record' })));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const v = (n) => form.elements[n].value.trim();
      const body = { hcp: st.hcp.id, channel: v('channel'), purpose: v('purpose'), status: v('status') };
      for (const k of ['source', 'evidence', 'version']) if (v(k)) body[k] = v(k);
      const at = toRfc3339(v('captured_at'));
      if (at) body.captured_at = at;
      try {
        const res = await api.post('/consents', body, { signal: ctx.signal, quiet: true });
        clearFormError(form, slot);
        form.elements.evidence.value = '';
        form.elements.captured_at.value = '';
        ctx.notify(res && res.recorded === false ? 'hcp.consent_same' : 'hcp.consent_recorded');
        await st.refresh();
      } catch (err) {
        formError(form, slot, err);
      }
    });
    card.append(h('details', { class: 'subform' }, h('summary', { i18n: 'hcp.consent_record_title' }), form));
  }
  return { el: card, update };
}

/* ---------- alignments ---------- */

function alignmentsCard(ctx, st) {
  const cols = ['role', 'rep', 'rep_type', 'product', 'valid_from', 'valid_to', 'actions'];
  const { table, tbody } = dataTable('hcp.align', cols);
  table.id = 'alignment-table';
  const canEdit = may.align(ctx.user.role);
  const card = h('section', { class: 'card', id: 'hcp-alignments' }, cardHead('hcp.alignments'),
    h('div', { class: 'table-wrap' }, table));

  function row(a) {
    return h('tr', { dataset: { id: a.id, role: a.role, rep: a.rep } },
      h('td', {}, h('span', { class: `badge align-${a.role}`, i18n: `alignrole.${a.role}` })),
      h('td', {}, h('span', { text: a.rep_name || a.rep }), h('span', { class: 'muted', text: ` (${a.rep})` })),
      h('td', {}, enumEl('reptype', a.rep_type)),
      h('td', {}, a.product ? h('code', { text: a.product }) : h('span', { class: 'muted', i18n: 'hcp.all_products' })),
      h('td', {}, timeEl(a.valid_from, 'date')),
      h('td', {}, timeEl(a.valid_to, 'date', 'hcp.open_ended')),
      h('td', { class: 'actions' }, canEdit ? confirmButton('hcp.align_end', 'hcp.confirm', async () => {
        try {
          await api.del(`/alignments/${enc(a.id)}`, { signal: ctx.signal });
          ctx.notify('hcp.align_ended');
          await st.refresh();
        } catch { /* shown in the banner by api.js */ }
      }) : null));
  }

  if (canEdit) {
    const slot = formErrorSlot();
    const reps = h('datalist', { id: 'rep-options' });
    const form = h('form', { class: 'form-grid', id: 'alignment-form' },
      field('hcp.align.rep', h('input', { name: 'rep', required: true, list: 'rep-options', autocomplete: 'off', class: 'mono', i18nAttr: { placeholder: 'hcp.align_rep_hint' } })),
      field('hcp.align.role', h('select', { name: 'role', required: true }, enumOptions('alignrole', ALIGN_ROLES))),
      field('hcp.align.product', h('input', { name: 'product', autocomplete: 'off', class: 'mono' }), { optional: true }),
      field('hcp.align.valid_from', h('input', { name: 'valid_from', type: 'date' }), { optional: true }),
      field('hcp.align.valid_to', h('input', { name: 'valid_to', type: 'date' }), { optional: true }),
      reps, slot,
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary', i18n: 'hcp.align_add' })));
    let repsLoaded = false;
    form.addEventListener('focusin', async () => {
      if (repsLoaded) return;
      repsLoaded = true;
      try {
        const items = await loadAll('/reps', { signal: ctx.signal, maxPages: 4 });
        reps.replaceChildren(...items.map((r) => h('option', { value: r.id, label: `${r.name} · ${r.id}` })));
      } catch { repsLoaded = false; }
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const v = (n) => form.elements[n].value.trim();
      const body = { hcp: st.hcp.id, rep: v('rep'), role: v('role'), product: v('product') };
      if (v('valid_from')) body.valid_from = v('valid_from');
      if (v('valid_to')) body.valid_to = v('valid_to');
      try {
        const res = await api.post('/alignments', body, { signal: ctx.signal, quiet: true });
        clearFormError(form, slot);
        form.reset();
        ctx.notify('hcp.align_added', { rep: (res && res.rep) || body.rep });
        await st.refresh();
      } catch (err) {
        formError(form, slot, err);
      }
    });
    card.append(h('details', { class: 'subform' }, h('summary', { i18n: 'hcp.align_add_title' }), form));
  }

  return {
    el: card,
    update() {
      const items = st.hcp.alignments || [];
      tbody.replaceChildren(...(items.length ? items.map(row) : [emptyRow(cols.length, 'hcp.align_empty')]));
    },
  };
}

/* ---------- change history ---------- */

function changeField(name) {
  if (!name) return dash();
  if (name === '*') return h('span', { i18n: 'hcp.change_record' });
  const m = /^consent\.(\w+)\.(\w+)$/.exec(name);
  if (m) {
    return h('span', { i18n: 'hcp.change_consent', i18nArgs: { channel: { k: `channel.${m[1]}` }, purpose: { k: `purpose.${m[2]}` } } });
  }
  if (has(`hcpf.${name}`)) return h('span', { i18n: `hcpf.${name}` });
  if (has(`idkind.${name}`)) return h('span', { i18n: `idkind.${name}` });
  return h('code', { text: name });
}

function changeValue(fieldName, v) {
  if (v === undefined || v === null || v === '') return dash();
  if (ENUM_FIELDS[fieldName]) return enumEl(ENUM_FIELDS[fieldName], v);
  if (/^consent\./.test(fieldName)) return enumEl('consent', v);
  if (fieldName === '*' || (fieldName === 'alignment' && v === 'ended')) return enumEl('changeval', v);
  const m = fieldName === 'alignment' ? /^(field_owner|inside_owner|msl) (\S+)(?: \/ (\S+))?$/.exec(v) : null;
  if (m) return h('span', {}, h('span', { i18n: `alignrole.${m[1]}` }), ` ${m[2]}`, m[3] ? h('span', { class: 'muted', text: ` / ${m[3]}` }) : null);
  return h('span', { text: String(v) });
}

function changesCard(ctx, st) {
  const cols = ['at', 'by', 'source', 'field', 'old', 'new'];
  const { table, tbody } = dataTable('hcp.change', cols);
  table.id = 'change-table';
  const more = h('button', { type: 'button', class: 'btn', id: 'change-more', i18n: 'md.load_more', hidden: true });
  const count = h('span', { class: 'muted' });
  let cursor = null;
  let shown = 0;

  function row(c) {
    return h('tr', { dataset: { seq: c.seq, field: c.field || '' } },
      h('td', {}, timeEl(c.at, 'seconds')),
      h('td', {}, c.by ? h('span', { text: c.by }) : h('span', { class: 'muted', i18n: 'hcp.by_system' })),
      h('td', {}, enumEl('changesrc', c.source)),
      h('td', { class: 'change-field' }, changeField(c.field)),
      h('td', { class: 'change-old' }, changeValue(c.field, c.old)),
      h('td', { class: 'change-new' }, changeValue(c.field, c.new)));
  }

  async function load(append) {
    try {
      const res = await api.get(`/hcps/${enc(st.hcp.id)}/changes`, {
        query: { limit: CHANGES_PAGE, cursor: append ? cursor : null }, signal: ctx.signal,
      });
      const items = (res && res.items) || [];
      if (!append) {
        tbody.replaceChildren();
        shown = 0;
      }
      tbody.append(...items.map(row));
      shown += items.length;
      if (shown === 0) tbody.replaceChildren(emptyRow(cols.length, 'hcp.change_empty'));
      cursor = (res && res.next_cursor) || null;
      more.hidden = !cursor;
      count.replaceChildren(countEl('hcp.change_count', shown));
    } catch { /* shown in the banner by api.js */ }
  }
  more.addEventListener('click', () => load(true));

  return {
    el: h('section', { class: 'card', id: 'hcp-changes' }, cardHead('hcp.changes'),
      h('div', { class: 'table-wrap' }, table), h('div', { class: 'pager' }, count, more)),
    update: () => load(false),
  };
}

/* ---------- PIPL erasure ---------- */

function eraseDialog(ctx, st) {
  const input = h('input', { name: 'confirm_id', id: 'erase-id', autocomplete: 'off', spellcheck: 'false', class: 'mono' });
  const confirm = h('button', { type: 'submit', class: 'btn btn-danger', id: 'erase-confirm', i18n: 'hcp.erase_confirm', disabled: true });
  const slot = formErrorSlot();
  const text = h('p', {});
  const form = h('form', { method: 'dialog', class: 'erase-form' },
    text,
    h('ul', { class: 'erase-list' }, ['hcp.erase_item1', 'hcp.erase_item2', 'hcp.erase_item3'].map((k) => h('li', { i18n: k }))),
    field('hcp.erase_type_id', input),
    slot,
    h('div', { class: 'form-actions' },
      h('button', { type: 'button', class: 'btn', i18n: 'common.cancel', on: { click: () => dialog.close() } }),
      confirm));
  const dialog = h('dialog', { class: 'dialog', id: 'erase-dialog', 'aria-labelledby': 'erase-title' },
    h('h2', { id: 'erase-title', i18n: 'hcp.erase_title' }), form);
  input.addEventListener('input', () => { confirm.disabled = input.value.trim() !== st.hcp.id; });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (input.value.trim() !== st.hcp.id) return;
    confirm.disabled = true;
    try {
      await api.del(`/hcps/${enc(st.hcp.id)}`, { query: { erase: 'true' }, signal: ctx.signal, quiet: true });
      dialog.close();
      ctx.notify('hcp.erased', { id: st.hcp.id });
      location.hash = '#/hcps';
    } catch (err) {
      formError(form, slot, err);
      confirm.disabled = false;
    }
  });
  return {
    el: dialog,
    open() {
      text.replaceChildren(tr('hcp.erase_text', { name: st.hcp.name, id: st.hcp.id }));
      input.value = '';
      confirm.disabled = true;
      clearFormError(form, slot);
      dialog.showModal();
      input.focus();
    },
  };
}

/* ---------- the page ---------- */

/** The HCP list as the user left it (hcps.js remembers its filters). */
function lastListHash() {
  try {
    const v = sessionStorage.getItem('medreach.hcps.hash');
    return v && v.startsWith('#/hcps') ? v : '#/hcps';
  } catch {
    return '#/hcps';
  }
}

export function render(ctx) {
  const id = ctx.params[0];
  const back = h('a', { href: lastListHash(), class: 'back-link', id: 'hcp-back', i18n: 'hcp.back' });
  const body = h('div', { class: 'profile-body' }, h('p', { class: 'loading', i18n: 'common.loading' }));
  const page = h('div', { class: 'page hcp-profile', dataset: { hcp: id || '' } }, back, body);
  if (!id) {
    location.replace('#/hcps');
    return page;
  }
  ctx.onLang(() => refreshNumbers(page));

  const st = { hcp: null, editing: false, refresh: null, sections: null };

  async function fetchHcp() {
    return api.get(`/hcps/${enc(id)}`, { signal: ctx.signal, quiet: true });
  }

  function build() {
    const attrs = attributesCard(ctx, st);
    const sections = {
      attrs,
      identities: identitiesCard(ctx, st),
      consents: consentsCard(ctx, st),
      alignments: alignmentsCard(ctx, st),
      changes: changesCard(ctx, st),
    };
    const erase = may.erase(ctx.user.role) ? eraseDialog(ctx, st) : null;
    const steward = mayMerge(ctx.user.role);
    const merge = steward ? mergeDialog(ctx, () => st.hcp, () => st.refresh()) : null;
    if (steward) sections.merges = mergeHistoryCard(ctx, () => st.hcp, () => st.refresh());
    const timeline = timelineCard(ctx, st);
    const reports = reportsCard(ctx, st);
    const tags = tagsCard(ctx, st);
    const recs = recommendationsCard(ctx, st);
    const headSlot = h('div', {});
    const drawHead = () => headSlot.replaceChildren(
      ...[mergedBanner(st.hcp)].filter(Boolean),
      header(ctx, st.hcp, {
        onEdit: may.editHcp(ctx.user.role) ? () => attrs.edit() : null,
        onErase: erase ? () => erase.open() : null,
        onMerge: merge && !st.hcp.merged_into ? () => merge.open() : null,
      }),
      maskNote(st.hcp));
    st.sections = { ...sections, drawHead };
    body.replaceChildren(headSlot, sections.attrs.el, recs.el, tags.el, timeline.el, reports.el, sections.alignments.el, sections.consents.el,
      sections.identities.el, sections.merges ? sections.merges.el : null, sections.changes.el,
      erase ? erase.el : null, merge ? merge.el : null);
    // loaded once: they keep themselves current (the timeline's long poll, the reports after a filing)
    timeline.start();
    reports.load();
    tags.load();
    recs.load();
  }

  function drawAll() {
    const s = st.sections;
    s.drawHead();
    s.attrs.update();
    s.identities.update();
    s.consents.update();
    s.alignments.update();
    s.changes.update();
    if (s.merges) s.merges.update();
  }

  st.refresh = async () => {
    try {
      st.hcp = await fetchHcp();
      drawAll();
    } catch (err) {
      if (err.code !== 'aborted') body.replaceChildren(errorCard('hcp.load_failed', err));
    }
  };

  (async () => {
    try {
      st.hcp = await fetchHcp();
    } catch (err) {
      if (err.code !== 'aborted') body.replaceChildren(errorCard('hcp.load_failed', err));
      return;
    }
    build();
    drawAll();
  })();
  return page;
}
