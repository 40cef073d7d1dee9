// Small UI pieces shared by the frame and the pages: the language switch,
// labelled form fields, the role picker and a data table skeleton.

import { h, tr } from './dom.js';
import { LANGS, getLang, setLang, roleName } from './i18n.js';

export const ROLES = ['admin', 'manager', 'field_rep', 'inside_rep', 'msl', 'marketing', 'compliance', 'analyst'];

/** The language picker (id lang-switch); the choice is remembered. */
export function langSwitch() {
  const select = h('select', {
    id: 'lang-switch', class: 'lang-switch', i18nAttr: { 'aria-label': 'lang.label', title: 'lang.label' },
    on: { change: (e) => setLang(e.target.value) },
    value: getLang(),
  }, LANGS.map((l) => h('option', { value: l.code, lang: l.htmlLang, text: l.label })));
  return select;
}

/** A label wrapping its control, so the label names the control. */
export function field(labelKey, control, { optional = false, hint = null } = {}) {
  return h('label', { class: 'field' },
    h('span', { class: 'field-label' }, tr(labelKey), optional ? [' ', h('small', { i18n: 'common.optional' })] : null),
    control,
    hint);
}

/** A <select> of the roles; allKey adds a first "any role" option with value "". */
export function roleSelect({ name = 'role', value = '', allKey = null, required = false } = {}) {
  const options = ROLES.map((r) => h('option', { value: r, dataset: { roleName: r }, text: roleName(r) }));
  if (allKey) options.unshift(h('option', { value: '', i18n: allKey }));
  return h('select', { name, required, value }, options);
}

/** A table with translated column headers; returns {table, tbody}. */
export function dataTable(prefix, columns) {
  const tbody = h('tbody');
  const table = h('table', { class: 'data' },
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', i18n: `${prefix}.${c}` })))),
    tbody);
  return { table, tbody };
}

/** A table row telling that there is nothing to show. */
export function emptyRow(colspan, key) {
  return h('tr', { class: 'empty' }, h('td', { colspan, i18n: key }));
}

/** Marks the form control named by an error's detail.field, if any, and
 *  focuses it; clears earlier marks. */
export function markField(form, err) {
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const name = err && err.detail && err.detail.field;
  if (!name) return;
  const el = form.elements.namedItem(name);
  if (el && el.setAttribute) {
    el.setAttribute('aria-invalid', 'true');
    el.focus();
  }
}
