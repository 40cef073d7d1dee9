// Helpers shared by the master-data pages (HCPs, HCOs, reps and territories,
// content, import): the code lists and their translated labels, numbers in the
// user's locale, errors shown where they belong (next to the field the
// server names, or in the page with the server's own message), debouncing,
// paging through a whole list, and a cache of HCOs for the HCP tables.

import { api } from '../api.js';
import { h } from '../dom.js';
import { t, has, getLang, LANGS } from '../i18n.js';
import { describeError } from '../banner.js';

export const TITLES = ['resident', 'attending', 'assoc_chief', 'chief'];
export const GENDERS = ['M', 'F'];
export const HCP_STATUSES = ['active', 'inactive'];
export const CITY_TIERS = [1, 2, 3, 4, 5];
export const HCO_LEVELS = [1, 2, 3];
export const HCO_GRADES = ['甲', '乙', '丙'];
export const HCO_TYPES = ['general', 'specialty', 'tcm', 'maternal_child', 'community', 'clinic', 'other'];
export const REP_TYPES = ['field', 'inside', 'msl', 'kam'];
export const ALIGN_ROLES = ['field_owner', 'inside_owner', 'msl'];
export const CONSENT_CHANNELS = ['phone', 'wechat', 'wecom', 'email', 'sms', 'meeting', 'visit'];
export const CONSENT_PURPOSES = ['promotional', 'medical_info', 'meeting_invite', 'survey'];
export const CONSENT_STATUSES = ['opt_in', 'opt_out'];
export const IDENTITY_KINDS = ['phone', 'email', 'license_no', 'wechat_unionid', 'wechat_openid',
  'wecom_external_userid', 'meeting_user_id'];
export const CONTENT_STATUSES = ['draft', 'in_review', 'approved', 'expired', 'withdrawn'];
/** The topics the demo's content uses (translated); a library may have others, shown as typed. */
export const CONTENT_TOPICS = ['patient_data', 'guidelines', 'clinical_trial', 'product_info', 'case_study',
  'dosing', 'safety', 'conference'];

/** What a role may do with master data (the server decides; this only hides what would be refused). */
export const may = {
  editHcp: (role) => ['admin', 'manager', 'field_rep', 'inside_rep', 'msl'].includes(role),
  identities: (role) => ['admin', 'manager', 'field_rep', 'inside_rep', 'msl'].includes(role),
  consent: (role) => ['admin', 'manager', 'field_rep', 'inside_rep', 'msl', 'compliance'].includes(role),
  align: (role) => ['admin', 'manager'].includes(role),
  erase: (role) => ['admin', 'compliance'].includes(role),
  content: (role) => ['admin', 'marketing'].includes(role),
};

export const hcpHref = (id) => `#/hcp/${encodeURIComponent(id)}`;
export const hcoHref = (id) => `#/hco/${encodeURIComponent(id)}`;

function locale() {
  const l = LANGS.find((x) => x.code === getLang());
  return l ? l.locale : 'zh-CN';
}

/** n formatted for the current language (grouping, decimals). */
export function fmtNumber(n) {
  const x = Number(n);
  return Number.isFinite(x) ? new Intl.NumberFormat(locale()).format(x) : String(n ?? '');
}

/** A number that refreshNumbers() re-formats after a language switch. */
export function numEl(n, cls = 'num') {
  return h('span', { class: cls, dataset: { num: String(n ?? '') }, text: fmtNumber(n) });
}

/** A translated text with its {n} formatted as a number, e.g. "已显示 1,234 位医生". */
export function countEl(key, n, args = {}) {
  return h('span', { dataset: { countN: String(n) }, i18nArgs: { ...args, n: fmtNumber(n) }, i18n: key });
}

/** Re-formats the numbers of numEl and countEl under root (after a language switch). */
export function refreshNumbers(root) {
  for (const el of root.querySelectorAll('[data-num]')) el.textContent = fmtNumber(el.dataset.num);
  for (const el of root.querySelectorAll('[data-count-n]')) {
    const args = { ...JSON.parse(el.dataset.i18nArgs || '{}'), n: fmtNumber(el.dataset.countN) };
    el.dataset.i18nArgs = JSON.stringify(args);
    el.textContent = t(el.dataset.i18n, args);
  }
}

/** A muted dash for an empty value. */
export function dash() {
  return h('span', { class: 'muted', text: '—' });
}

/** The label of a code (prefix.value), re-translated on a switch; unknown codes as they are. */
export function enumEl(prefix, value) {
  if (value === undefined || value === null || value === '') return dash();
  const key = `${prefix}.${value}`;
  return has(key) ? h('span', { i18n: key }) : h('span', { text: String(value) });
}

/** <option>s of codes with translated labels; allKey adds a first "any" option. */
export function enumOptions(prefix, values, allKey = null) {
  const opts = values.map((v) => h('option', { value: String(v), i18n: `${prefix}.${v}` }));
  if (allKey) opts.unshift(h('option', { value: '', i18n: allKey }));
  return opts;
}

/** Plain text, or a dash when empty. */
export function textEl(v) {
  return v === undefined || v === null || v === '' ? dash() : h('span', { text: String(v) });
}

/** "三级甲等" / "Level 3 · Grade A" for an HCO. */
export function levelGradeEl(hco) {
  if (!hco || (!hco.level && !hco.grade)) return dash();
  if (!hco.grade) return h('span', { i18n: `level.${hco.level}` });
  if (!hco.level) return h('span', { i18n: `grade.${hco.grade}` });
  return h('span', { i18n: 'md.level_grade', i18nArgs: { level: { k: `level.${hco.level}` }, grade: { k: `grade.${hco.grade}` } } });
}

/** A status badge for an HCP. */
export function statusBadge(status) {
  if (!status) return dash();
  return h('span', { class: `badge status-${status === 'active' ? 'active' : 'disabled'}`, i18n: `hcpstatus.${status}` });
}

/** Calls fn(...args) once the calls have stopped for ms; .cancel() drops a pending call. */
export function debounce(fn, ms) {
  let timer = null;
  const d = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      fn(...args);
    }, ms);
  };
  d.cancel = () => clearTimeout(timer);
  return d;
}

/** Fills el with the server's own message for err (it names the record or field at
 *  fault), or our translation when the server said nothing readable. */
export function messageInto(el, err) {
  if (err && err.serverMessage) el.replaceChildren(h('span', { class: 'error-message', text: err.serverMessage }));
  else describeError(el, err || {});
  return el;
}

/** A card telling that a page could not be shown, with the server's message. */
export function errorCard(titleKey, err) {
  const code = err && err.status ? h('code', { class: 'error-code', text: `${err.status} ${err.code || ''}` }) : null;
  return h('section', { class: 'card error-card', role: 'alert' },
    h('h2', { i18n: titleKey }),
    messageInto(h('p', { class: 'server-message' }), err),
    code);
}

/** Removes the marks formError left on form (and empties slot). */
export function clearFormError(form, slot) {
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  for (const el of form.querySelectorAll('.field-error')) el.remove();
  if (slot) {
    slot.replaceChildren();
    slot.hidden = true;
  }
}

/** Shows err's message next to the control the server names (detail.field),
 *  marks and focuses it; otherwise in slot. */
export function formError(form, slot, err) {
  clearFormError(form, slot);
  if (!err || err.code === 'aborted') return;
  const name = err.detail && err.detail.field;
  const control = name ? form.elements.namedItem(name) : null;
  if (control && control.setAttribute) {
    control.setAttribute('aria-invalid', 'true');
    const msg = messageInto(h('span', { class: 'field-error', role: 'alert', dataset: { field: name } }), err);
    (control.closest('.field') || control.parentElement).append(msg);
    control.focus();
    return;
  }
  if (slot) {
    messageInto(slot, err);
    slot.hidden = false;
  }
}

/** An element to show a form's errors that name no field. */
export function formErrorSlot() {
  return h('p', { class: 'form-error', role: 'alert', hidden: true });
}

/** Every item of a list endpoint, page by page (at most maxPages pages of 500). */
export async function loadAll(path, { query = {}, signal, quiet = false, maxPages = 40 } = {}) {
  const items = [];
  let cursor = null;
  for (let i = 0; i < maxPages; i++) {
    const res = await api.get(path, { query: { ...query, limit: 500, cursor }, signal, quiet });
    items.push(...((res && res.items) || []));
    cursor = res && res.next_cursor;
    if (!cursor) break;
  }
  return items;
}

// HCOs by id, kept for the session: the HCP tables show each doctor's city
// tier, which lives on the hospital.
const hcoCache = new Map();

/** The HCOs of ids (fetched once each); ids that cannot be read are left out. */
export async function hcosById(ids, signal) {
  const want = [...new Set(ids.filter((id) => id && !hcoCache.has(id)))];
  await Promise.all(want.map(async (id) => {
    const p = api.get(`/hcos/${encodeURIComponent(id)}`, { signal, quiet: true }).catch(() => null);
    hcoCache.set(id, p);
    const hco = await p;
    if (hco) hcoCache.set(id, hco);
    else hcoCache.delete(id);
  }));
  const out = new Map();
  for (const id of ids) {
    const v = hcoCache.get(id);
    if (v && !(v instanceof Promise)) out.set(id, v);
    else if (v) {
      const hco = await v;
      if (hco) out.set(id, hco);
    }
  }
  return out;
}

/** A datetime-local value (browser's zone) as RFC 3339 UTC, or '' when empty. */
export function toRfc3339(local) {
  if (!local) return '';
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A button that asks for a second click within a few seconds before onConfirm. */
export function confirmButton(key, confirmKey, onConfirm, { cls = 'btn btn-small btn-danger', attrs = {} } = {}) {
  let armed = null;
  const btn = h('button', { type: 'button', class: cls, i18n: key, ...attrs });
  const label = (k) => { btn.dataset.i18n = k; btn.textContent = t(k); };
  btn.addEventListener('click', async () => {
    if (!armed) {
      label(confirmKey);
      btn.classList.add('armed');
      armed = setTimeout(() => { armed = null; label(key); btn.classList.remove('armed'); }, 4000);
      return;
    }
    clearTimeout(armed);
    armed = null;
    btn.disabled = true;
    try {
      await onConfirm();
    } finally {
      btn.disabled = false;
      label(key);
      btn.classList.remove('armed');
    }
  });
  return btn;
}

/** A translated section heading with an optional count badge. */
export function cardHead(key, ...extra) {
  return h('div', { class: 'card-head' }, h('h2', { i18n: key }), ...extra);
}

