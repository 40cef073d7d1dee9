// Call reports on the HCP profile (a section of hcp.js): the doctor's reports
// (GET /hcps/{id}/interactions: each at its latest version, with an
// "amended" mark and its versions), a form for reps to file one
// (POST /interactions: channel, an outcome from that channel's ladder, when,
// duration, products and key messages as chips, the doctor's feedback and
// questions, next steps, an optional follow-up), and for the author or an
// admin, an amendment with a reason (POST /interactions/{id}/amend). The
// form checks what it can before sending and shows each problem next to its
// field; the server's own errors land next to the field its
// error.detail.field names. A filed report's event reaches the timeline
// through its long poll.

import { api } from '../api.js';
import { h, tr, timeEl, relTimeEl } from '../dom.js';
import { field, chipsField } from '../widgets.js';
import { cardHead, countEl, errorCard, enumOptions, formError, clearFormError, formErrorSlot, toRfc3339, textEl } from './md.js';
import { LADDERS, REPORT_CHANNELS, outcomeBadge, channelTag, durationEl } from './ev.js';

const REPORTERS = ['admin', 'manager', 'field_rep', 'inside_rep', 'msl'];
const LIST_LIMIT = 50;
const TEXT_MAX = 4000;   // bytes, as the server counts
const CHIP_MAX = 200;    // bytes of one product or key message
const CHIPS_MAX = 20;
const REASON_MAX = 500;
const NOTES = ['feedback', 'questions', 'next_steps'];

const enc = encodeURIComponent;
const bytes = (s) => new TextEncoder().encode(s).length;

/** May this role file reports (the server decides; this only hides what it would refuse)? */
export const mayReport = (role) => REPORTERS.includes(role);

/** An RFC 3339 time as a datetime-local value in the browser's zone. */
function toLocalInput(iso) {
  const d = iso ? new Date(iso) : new Date();
  if (Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** An error of our own, shown like the server's: next to field, in the user's language. */
const localError = (fieldName, messageKey) => ({ detail: { field: fieldName }, messageKey });

/* ---------- the form (filing and amending) ---------- */

/**
 * A report form. report: the report to amend (its values prefilled, a
 * reason asked for), or null for a new one. Returns {form, focus()}.
 * onDone(result) after the server took it.
 */
function reportForm(ctx, st, { report = null, onDone, onCancel = null }) {
  const amend = Boolean(report);
  const slot = formErrorSlot();
  const channel = h('select', { name: 'channel', required: true }, enumOptions('evchannel', REPORT_CHANNELS));
  const outcome = h('select', { name: 'outcome', required: true });
  const at = h('input', { name: 'at', type: 'datetime-local', required: true });
  const duration = h('input', { name: 'duration_min', type: 'number', min: '0', max: '1440', step: '1', inputmode: 'numeric' });
  const products = chipsField('report.f.products', { name: 'products', optional: true, hintKey: 'report.chips_hint' });
  const messages = chipsField('report.f.key_messages', { name: 'key_messages', optional: true, hintKey: 'report.chips_hint' });
  const notes = Object.fromEntries(NOTES.map((n) => [n, h('textarea', { name: n, rows: '2' })]));
  const fuAt = h('input', { name: 'follow_up.at', type: 'datetime-local' });
  const fuChannel = h('select', { name: 'follow_up.channel' }, enumOptions('evchannel', REPORT_CHANNELS, 'report.same_channel'));
  const reason = amend ? h('textarea', { name: 'reason', rows: '2', required: true }) : null;
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', i18n: amend ? 'report.amend_submit' : 'report.submit' });

  function fillOutcomes(keep) {
    const ladder = LADDERS[channel.value] || [];
    outcome.replaceChildren(h('option', { value: '', i18n: 'report.choose_outcome' }), ...enumOptions('outcome', ladder));
    outcome.value = ladder.includes(keep) ? keep : '';
  }
  channel.addEventListener('change', () => fillOutcomes(outcome.value));

  function reset() {
    channel.value = report ? report.channel : 'visit';
    fillOutcomes(report ? report.outcome : '');
    at.value = toLocalInput(report ? report.at : null);
    duration.value = report && report.duration_min !== null && report.duration_min !== undefined ? String(report.duration_min) : '';
    products.set(report ? report.products : []);
    messages.set(report ? report.key_messages : []);
    for (const n of NOTES) notes[n].value = (report && report[n]) || '';
    fuAt.value = report && report.follow_up ? toLocalInput(report.follow_up.at) : '';
    fuChannel.value = report && report.follow_up && report.follow_up.channel !== report.channel ? report.follow_up.channel : '';
    if (reason) reason.value = '';
  }

  const form = h('form', { class: 'form-grid report-form', id: amend ? `amend-form-${report.id}` : 'report-form', novalidate: true },
    field('report.f.channel', channel),
    field('report.f.outcome', outcome),
    field('report.f.at', at),
    field('report.f.duration_min', duration, { optional: true }),
    h('div', { class: 'span-2' }, products.el),
    h('div', { class: 'span-2' }, messages.el),
    NOTES.map((n) => h('div', { class: 'span-full' }, field(`report.f.${n}`, notes[n], { optional: true }))),
    h('fieldset', { class: 'span-full follow-up' },
      h('legend', { class: 'field-label' }, tr('report.f.follow_up'), ' ', h('small', { i18n: 'common.optional' })),
      h('div', { class: 'form-grid' },
        field('report.f.follow_up_at', fuAt),
        field('report.f.follow_up_channel', fuChannel))),
    reason ? h('div', { class: 'span-full' }, field('report.f.reason', reason)) : null,
    slot,
    h('div', { class: 'form-actions' },
      onCancel ? h('button', { type: 'button', class: 'btn', i18n: 'common.cancel', on: { click: onCancel } }) : null,
      submit));

  /** The form's values as a report body, or a local error naming the field at fault. */
  function read() {
    const now = Date.now();
    const body = { channel: channel.value };
    if (!outcome.value) return { error: localError('outcome', 'report.err.outcome') };
    body.outcome = outcome.value;
    if (!at.value) return { error: localError('at', 'report.err.at_missing') };
    const when = new Date(at.value).getTime();
    if (Number.isNaN(when)) return { error: localError('at', 'report.err.at_missing') };
    if (when > now + 60000) return { error: localError('at', 'report.err.at_future') };
    if (when < Date.UTC(2000, 0, 1)) return { error: localError('at', 'report.err.at_old') };
    body.at = toRfc3339(at.value);
    const d = duration.value.trim();
    if (d !== '') {
      const n = Number(d);
      if (!Number.isInteger(n) || n < 0 || n > 1440) return { error: localError('duration_min', 'report.err.duration') };
      body.duration_min = n;
    }
    for (const [name, chips] of [['products', products], ['key_messages', messages]]) {
      const list = chips.values();
      if (list.length > CHIPS_MAX) return { error: localError(name, 'report.err.chips_max') };
      if (list.some((v) => bytes(v) > CHIP_MAX)) return { error: localError(name, 'report.err.chip_long') };
      if (list.length) body[name] = list;
    }
    for (const n of NOTES) {
      const v = notes[n].value.trim();
      if (bytes(v) > TEXT_MAX) return { error: localError(n, 'report.err.text_long') };
      if (v) body[n] = v;
    }
    if (fuAt.value || fuChannel.value) {
      if (!fuAt.value) return { error: localError('follow_up.at', 'report.err.fu_at_missing') };
      const due = new Date(fuAt.value).getTime();
      if (Number.isNaN(due)) return { error: localError('follow_up.at', 'report.err.fu_at_missing') };
      const kept = amend && report.follow_up && toLocalInput(report.follow_up.at) === fuAt.value;
      if (due <= now && !kept) return { error: localError('follow_up.at', 'report.err.fu_past') };
      body.follow_up = { at: toRfc3339(fuAt.value) };
      if (fuChannel.value) body.follow_up.channel = fuChannel.value;
    }
    if (reason) {
      const r = reason.value.trim();
      if (!r) return { error: localError('reason', 'report.err.reason') };
      if (bytes(r) > REASON_MAX) return { error: localError('reason', 'report.err.reason_long') };
      body.reason = r;
    }
    return { body };
  }

  /** An amendment sends what changed (and the reason); the server keeps the rest. */
  function changes(body) {
    const out = { reason: body.reason };
    const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
    if (body.channel !== report.channel) out.channel = body.channel;
    if (body.outcome !== report.outcome || out.channel) out.outcome = body.outcome;
    if (toLocalInput(report.at) !== at.value) out.at = body.at;
    if (!same(body.duration_min, report.duration_min)) out.duration_min = body.duration_min;
    if (!same(body.products || [], report.products || [])) out.products = body.products || [];
    if (!same(body.key_messages || [], report.key_messages || [])) out.key_messages = body.key_messages || [];
    // the notes go together: an amendment that gives any of them replaces all three
    if (NOTES.some((n) => (body[n] || '') !== (report[n] || ''))) for (const n of NOTES) if (body[n]) out[n] = body[n];
    const fu = report.follow_up;
    if (body.follow_up && (!fu || toLocalInput(fu.at) !== fuAt.value || (body.follow_up.channel || report.channel) !== fu.channel)) {
      out.follow_up = body.follow_up;
    }
    return out;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFormError(form, slot);
    const { body, error } = read();
    if (error) {
      formError(form, slot, error);
      return;
    }
    let path = '/interactions';
    let send = { hcp: st.hcp.id, ...body };
    if (amend) {
      path = `/interactions/${enc(report.id)}/amend`;
      send = changes(body);
      if (Object.keys(send).length === 1) {
        formError(form, slot, { messageKey: 'report.err.nothing' });
        return;
      }
    }
    submit.disabled = true;
    try {
      const res = await api.post(path, send, { signal: ctx.signal, quiet: true });
      clearFormError(form, slot);
      if (!amend) reset();
      onDone(res);
    } catch (err) {
      formError(form, slot, err);
    } finally {
      submit.disabled = false;
    }
  });

  reset();
  return { form, focus: () => channel.focus() };
}

/* ---------- the list ---------- */

function chipList(values, cls) {
  if (!values || !values.length) return textEl(null);
  return h('ul', { class: `chip-list ${cls}` }, values.map((v) => h('li', { class: 'chip', text: v })));
}

function versionsEl(report) {
  const versions = report.versions || [];
  if (versions.length < 2) return null;
  return h('details', { class: 'report-versions' },
    h('summary', {}, countEl('report.versions', versions.length)),
    h('ol', { class: 'versions' }, versions.map((v, i) => h('li', { dataset: { id: v.id } },
      h('code', { text: v.id }), ' · ',
      h('span', { text: v.author || '' }), ' · ',
      timeEl(v.created_at, 'minutes'), ' · ',
      i === 0 ? h('span', { class: 'muted', i18n: 'report.version_original' }) : h('span', { class: 'version-reason', text: v.reason || '' })))));
}

function reportEl(ctx, st, report, { onAmended }) {
  const mayAmend = mayReport(ctx.user.role) && (ctx.user.role === 'admin' || report.author === ctx.user.login);
  const amendSlot = h('div', { class: 'amend-slot' });
  const hasNotes = NOTES.some((n) => report[n]);
  const rows = [];
  if (report.products && report.products.length) rows.push(['products', chipList(report.products, 'report-products')]);
  if (report.key_messages && report.key_messages.length) rows.push(['key_messages', chipList(report.key_messages, 'report-messages')]);
  for (const n of NOTES) if (report[n]) rows.push([n, h('span', { class: 'report-text', text: report[n] })]);
  if (report.follow_up) {
    rows.push(['follow_up', h('span', { class: 'follow-up-v' }, timeEl(report.follow_up.at, 'minutes'), ' · ', channelTag(report.follow_up.channel))]);
  }
  let amendBtn = null;
  if (mayAmend) {
    amendBtn = h('button', {
      type: 'button', class: 'btn btn-small report-amend', i18n: 'report.amend',
      on: {
        click: () => {
          if (amendSlot.firstChild) {
            amendSlot.replaceChildren();
            return;
          }
          const f = reportForm(ctx, st, {
            report,
            onCancel: () => amendSlot.replaceChildren(),
            onDone: () => {
              ctx.notify('report.amended_ok');
              onAmended(report.id);
            },
          });
          amendSlot.replaceChildren(h('h3', { i18n: 'report.amend_title' }), f.form);
          f.focus();
        },
      },
    });
  }
  const masked = !hasNotes && st.hcp.masked === true;
  return h('article', { class: 'report', id: `report-${report.id}`, dataset: { id: report.id, amended: report.amended ? 'true' : 'false', event: report.event || '' } },
    h('div', { class: 'report-head' },
      channelTag(report.channel),
      outcomeBadge(report.channel, report.outcome),
      h('span', { class: 'report-when' }, relTimeEl(report.at), ' ', h('span', { class: 'muted' }, timeEl(report.at, 'minutes'))),
      report.duration_min !== null && report.duration_min !== undefined ? h('span', { class: 'muted' }, durationEl(report.duration_min * 60)) : null,
      report.amended ? h('span', { class: 'badge badge-amended', i18n: 'report.amended' }) : null,
      h('span', { class: 'spacer' }),
      amendBtn),
    h('div', { class: 'report-by muted' },
      h('span', { i18n: 'report.by', i18nArgs: { author: report.author || '—' } }),
      report.rep ? [' · ', h('span', { i18n: 'report.rep', i18nArgs: { rep: report.rep } })] : null,
      ' · ', h('code', { text: report.id })),
    rows.length ? h('dl', { class: 'attr-grid one-col report-fields' }, rows.map(([name, value]) => h('div', { class: 'attr', dataset: { field: name } },
      h('dt', { i18n: `report.f.${name}` }), h('dd', {}, value)))) : null,
    masked ? h('p', { class: 'note', i18n: 'report.notes_masked' }) : null,
    versionsEl(report),
    amendSlot);
}

/** The reports section for the doctor st.hcp. Returns {el, load}. */
export function reportsCard(ctx, st) {
  const listEl = h('div', { class: 'report-list', id: 'report-list' });
  const count = h('span', { class: 'muted', id: 'report-count' });
  const note = h('p', { class: 'muted small', hidden: true, id: 'report-limit-note' });
  const card = h('section', { class: 'card', id: 'hcp-reports' }, cardHead('report.title', count));
  let highlight = null;

  async function load() {
    try {
      const res = await api.get(`/hcps/${enc(st.hcp.id)}/interactions`, { query: { limit: LIST_LIMIT }, signal: ctx.signal, quiet: true });
      const items = (res && res.items) || [];
      listEl.replaceChildren(...(items.length
        ? items.map((r) => reportEl(ctx, st, r, { onAmended: (id) => { highlight = id; load(); } }))
        : [h('p', { class: 'muted report-empty', i18n: 'report.empty' })]));
      count.replaceChildren(countEl('report.count', items.length));
      note.hidden = items.length < LIST_LIMIT;
      if (!note.hidden) note.replaceChildren(countEl('report.latest_only', LIST_LIMIT));
      if (highlight) {
        const el = document.getElementById(`report-${highlight}`);
        if (el) el.classList.add('flash');
        highlight = null;
      }
    } catch (err) {
      if (err.code !== 'aborted') listEl.replaceChildren(errorCard('report.load_failed', err));
    }
  }

  if (mayReport(ctx.user.role)) {
    const details = h('details', { class: 'subform', id: 'report-new' }, h('summary', { i18n: 'report.file' }));
    const f = reportForm(ctx, st, {
      onDone: (res) => {
        ctx.notify('report.filed');
        details.open = false;
        highlight = res && res.id;
        load();
      },
    });
    details.append(f.form);
    card.append(details);
  }
  card.append(listEl, note);
  return { el: card, load };
}
