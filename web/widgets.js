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

let chipsSeq = 0;

/**
 * A tags input: what is typed becomes a chip on Enter, comma or semicolon
 * (Chinese punctuation too) or when the input loses focus; Backspace in the
 * empty input takes the last chip back; × removes one. The text input
 * carries name, so a form error naming the field lands next to it. Not
 * wrapped in a <label> (the chips' buttons would steal its clicks): the
 * label names the input through aria-labelledby.
 * Returns {el, input, values(), set(list), onChange(fn)}.
 */
export function chipsField(labelKey, { name, optional = false, hintKey = null } = {}) {
  chipsSeq += 1;
  const labelId = `chips-label-${chipsSeq}`;
  const list = h('ul', { class: 'chip-list chips-values' });
  const input = h('input', {
    name, type: 'text', class: 'chips-input', autocomplete: 'off', 'aria-labelledby': labelId,
    i18nAttr: hintKey ? { placeholder: hintKey } : null,
  });
  const box = h('div', { class: 'chips-box', dataset: { chips: name } }, list, input);
  const el = h('div', { class: 'field chips-field' },
    h('span', { class: 'field-label', id: labelId }, tr(labelKey), optional ? [' ', h('small', { i18n: 'common.optional' })] : null),
    box);
  let values = [];
  const listeners = [];

  function draw() {
    list.replaceChildren(...values.map((v, i) => h('li', { class: 'chip', dataset: { value: v } },
      h('span', { class: 'chip-text', text: v }),
      h('button', {
        type: 'button', class: 'chip-x', i18nAttr: { 'aria-label': 'common.remove', title: 'common.remove' },
        on: { click: () => { values.splice(i, 1); draw(); input.focus(); } },
      }, '×'))));
    for (const fn of listeners) fn(values.slice());
  }

  /** Adds what is typed (split at separators), each distinct value once. */
  function commit() {
    const parts = input.value.split(/[,，;；、\n]/).map((s) => s.trim()).filter(Boolean);
    if (!parts.length) {
      input.value = '';
      return;
    }
    for (const p of parts) {
      if (!values.includes(p)) values.push(p);
    }
    input.value = '';
    draw();
  }

  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || (e.key === ',' && !e.isComposing)) {
      e.preventDefault();
      commit();
    } else if (e.key === 'Backspace' && input.value === '' && values.length) {
      e.preventDefault();
      input.value = values.pop();
      draw();
    }
  });
  input.addEventListener('input', () => { if (/[,，;；、]/.test(input.value)) commit(); });
  input.addEventListener('blur', commit);
  box.addEventListener('click', (e) => { if (e.target === box || e.target === list) input.focus(); });

  return {
    el,
    input,
    /** The chips, and what is still typed in the input. */
    values() {
      const pending = input.value.split(/[,，;；、\n]/).map((s) => s.trim()).filter(Boolean);
      return [...values, ...pending.filter((p) => !values.includes(p))];
    },
    set(list2) {
      values = [...(list2 || [])];
      input.value = '';
      draw();
    },
    onChange(fn) { listeners.push(fn); },
  };
}
