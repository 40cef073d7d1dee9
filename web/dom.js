// DOM building helpers. Everything the server sends is inserted as text
// (textContent, attributes), never parsed as HTML. Translatable strings are
// tagged so i18n.apply() can re-translate them after a language switch.

import { t, roleName, formatTime, formatRelative } from './i18n.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Creates an element. props:
 *   class, text            className / textContent
 *   i18n, i18nArgs         translated text, re-translated on language switch
 *   i18nAttr               {attribute: key} translated attributes (placeholder, aria-label…)
 *   on                     {event: handler}
 *   dataset                data-* values
 *   value                  set after the children (so a <select> can pick an option)
 *   anything else          an attribute; true means present, false/null/undefined absent
 * children: nodes, strings (as text), arrays, or null/false (skipped).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    setProp(el, k, v);
  }
  append(el, children);
  if (props.value !== undefined && props.value !== null) el.value = props.value;
  return el;
}

function setProp(el, k, v) {
  if (v === undefined || v === null || v === false) return;
  switch (k) {
    case 'class': el.className = v; break;
    case 'text': el.textContent = v; break;
    case 'value': break;
    case 'i18n':
      el.dataset.i18n = v;
      el.textContent = t(v, el.dataset.i18nArgs ? JSON.parse(el.dataset.i18nArgs) : undefined);
      break;
    case 'i18nArgs':
      el.dataset.i18nArgs = JSON.stringify(v);
      if (el.dataset.i18n) el.textContent = t(el.dataset.i18n, v);
      break;
    case 'i18nAttr':
      el.dataset.i18nAttr = JSON.stringify(v);
      for (const [attr, key] of Object.entries(v)) el.setAttribute(attr, t(key));
      break;
    case 'on':
      for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      break;
    case 'dataset': Object.assign(el.dataset, v); break;
    default: el.setAttribute(k, v === true ? '' : String(v));
  }
}

/** Appends children (see h) to el. */
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** A <span> holding the translation of key, kept current across switches. */
export function tr(key, args) {
  return args ? h('span', { i18nArgs: args, i18n: key }) : h('span', { i18n: key });
}

/** A <span> with the translated name of a role code. */
export function roleEl(role) {
  return h('span', { class: 'role-name', dataset: { roleName: role }, text: roleName(role) });
}

/** A <time> for an RFC 3339 timestamp in the browser's zone, or fallbackKey
 *  translated (e.g. "never") when iso is empty. */
export function timeEl(iso, style = 'minutes', fallbackKey = null) {
  if (!iso) return fallbackKey ? tr(fallbackKey) : h('span', { text: '—' });
  return h('time', { datetime: iso, dataset: { ts: style }, title: iso, text: formatTime(iso, style) });
}

/** A <time> telling how long ago (or how soon) iso is, e.g. "3 小时前" / "3 hours ago",
 *  with the exact time as its tooltip; kept current across language switches
 *  and by refreshRelative(). */
export function relTimeEl(iso) {
  if (!iso) return h('span', { text: '—' });
  return h('time', { datetime: iso, class: 'rel-time', dataset: { rel: '1' }, title: formatTime(iso, 'seconds'), text: formatRelative(iso) });
}

const ICONS = {
  home: ['M3 11 12 3l9 8', 'M5 10v10h5v-6h4v6h5V10'],
  users: ['M16 20v-1a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v1', 'M13 7a4 4 0 1 1-8 0 4 4 0 0 1 8 0z',
    'M22 20v-1a4 4 0 0 0-3-3.9', 'M16 3.1a4 4 0 0 1 0 7.8'],
  audit: ['M12 2 4 5v6c0 5 3.4 9.4 8 11 4.6-1.6 8-6 8-11V5z', 'm9 12 2 2 4-4'],
  key: ['M12 15.5a4.5 4.5 0 1 1-9 0 4.5 4.5 0 0 1 9 0z', 'M10.7 12.3 21 2', 'm16 7 3 3', 'm18.5 4.5 2 2'],
  doctor: ['M16 7a4 4 0 1 1-8 0 4 4 0 0 1 8 0z', 'M4 21v-1a6 6 0 0 1 6-6h4a6 6 0 0 1 6 6v1', 'M12 15v4', 'M10 17h4'],
  hospital: ['M4 21V5a1 1 0 0 1 1-1h14a1 1 0 0 1 1 1v16', 'M2 21h20', 'M12 7v6', 'M9 10h6', 'M10 21v-4h4v4'],
  tree: ['M12 3v4', 'M5 11V9h14v2', 'M9 3h6v4H9z', 'M2 11h6v4H2z', 'M16 11h6v4h-6z', 'M12 7v12', 'M9 19h6v3H9z'],
  upload: ['M12 16V4', 'm7 9 5-5 5 5', 'M4 16v3a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-3'],
  pulse: ['M3 12h4l3-8 4 16 3-8h4'],
  chart: ['M3 3v18h18', 'M7 14l4-4 3 3 5-6'],
  phone: ['M22 16.9v3a2 2 0 0 1-2.2 2 19.8 19.8 0 0 1-8.6-3.1 19.5 19.5 0 0 1-6-6A19.8 19.8 0 0 1 2.1 4.2 2 2 0 0 1 4.1 2h3a2 2 0 0 1 2 1.7c.1 1 .4 1.9.7 2.8a2 2 0 0 1-.5 2.1L8 9.9a16 16 0 0 0 6 6l1.3-1.3a2 2 0 0 1 2.1-.4c.9.3 1.8.6 2.8.7a2 2 0 0 1 1.7 2z'],
  chat: ['M21 11.5a8.4 8.4 0 0 1-9 8.4 9 9 0 0 1-3.8-.9L3 21l1.9-5.2A8.4 8.4 0 0 1 12 3a8.4 8.4 0 0 1 9 8.5z', 'M8 11h.01', 'M12 11h.01', 'M16 11h.01'],
  sms: ['M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z', 'M7 9h10', 'M7 13h6'],
  mail: ['M4 4h16a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z', 'm22 6-10 7L2 6'],
  video: ['M15 10l5-3v10l-5-3z', 'M3 6h12v12H3z'],
  meeting: ['M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2', 'M13 7a4 4 0 1 1-8 0 4 4 0 0 1 8 0z', 'M23 21v-2a4 4 0 0 0-3-3.9', 'M16 3.1a4 4 0 0 1 0 7.8'],
  visit: ['M20 10c0 6-8 12-8 12s-8-6-8-12a8 8 0 0 1 16 0z', 'M15 10a3 3 0 1 1-6 0 3 3 0 0 1 6 0z'],
  filter: ['M3 4h18l-7 8.5V19l-4 2v-8.5z'],
  file: ['M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z', 'M14 2v6h6', 'M8 13h8', 'M8 17h8'],
  tag: ['M20.6 13.4 13.4 20.6a2 2 0 0 1-2.8 0L3 13V3h10l7.6 7.6a2 2 0 0 1 0 2.8z', 'M7.5 7.5h.01'],
};

/** A small stroke icon by name (see ICONS); decorative, hidden from screen readers. */
export function icon(name) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  for (const d of ICONS[name] || []) {
    const p = document.createElementNS(SVG_NS, 'path');
    p.setAttribute('d', d);
    svg.append(p);
  }
  return svg;
}
