// The page-wide messages: the error banner (#error-banner, role="alert") that
// shows the server's message when a call fails, and a short-lived notice
// (#notice, role="status") for successes. Both live in index.html, outside
// the re-rendered parts of the page.

import { h, tr } from './dom.js';
import { has } from './i18n.js';

let noticeTimer = null;

/** Fills el with a readable description of an ApiError: our translation of
 *  a generic error code (the server's English message then stays as a
 *  tooltip for support), else the server's own message, which names the
 *  field or record at fault; and, for 429, when to retry. */
export function describeError(el, err) {
  const parts = [];
  if (err.code && has(`code.${err.code}`)) {
    const msg = tr(`code.${err.code}`);
    if (err.serverMessage) msg.title = err.serverMessage;
    parts.push(msg);
  } else if (err.serverMessage) parts.push(h('span', { class: 'error-message', text: err.serverMessage }));
  else if (err.messageKey) parts.push(tr(err.messageKey, { status: err.status }));
  else parts.push(h('span', { class: 'error-message', text: String(err.message || err) }));
  const retry = err.detail && err.detail.retry_after_s;
  if (err.status === 429 && retry !== undefined) {
    parts.push(' ', tr('error.retry_after', { s: Math.ceil(Number(retry)) }));
  }
  el.replaceChildren(...parts);
  return el;
}

/** Shows err in the error banner until dismissed or the next page change. */
export function showError(err) {
  const banner = document.getElementById('error-banner');
  if (!banner) return;
  const close = h('button', {
    type: 'button', class: 'banner-close', i18nAttr: { 'aria-label': 'banner.close', title: 'banner.close' },
    on: { click: clearError },
  }, '×');
  const code = err.code && err.status ? h('code', { class: 'error-code', text: `${err.status} ${err.code}` }) : null;
  banner.replaceChildren(describeError(h('span', { class: 'banner-text' }), err), code, close);
  banner.hidden = false;
}

/** Hides the error banner. */
export function clearError() {
  const banner = document.getElementById('error-banner');
  if (!banner) return;
  banner.hidden = true;
  banner.replaceChildren();
}

/** Shows a translated success message for a few seconds. */
export function showNotice(key, args) {
  const el = document.getElementById('notice');
  if (!el) return;
  el.replaceChildren(tr(key, args));
  el.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    el.hidden = true;
    el.replaceChildren();
  }, 4000);
}
