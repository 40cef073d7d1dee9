// Helpers shared by the event pages (an HCP's timeline and call reports, the
// Events page): the channels and their outcome ladders as the event contract
// defines them (ARCHITECTURE.md §3), a colour and an icon per channel (the
// same colour in the lists and the charts), outcome badges coloured by the
// rung reached, durations, who did it (the rep, else the source), a live
// status badge and an abortable sleep for the long polls.

import { h, tr, icon } from '../dom.js';
import { has } from '../i18n.js';
import { enumEl, fmtNumber } from './md.js';

export const CHANNELS = ['phone', 'wechat', 'wecom', 'meeting_online', 'meeting_offline', 'visit', 'email', 'content', 'sms'];

const MESSAGE_LADDER = ['sent', 'delivered', 'read', 'responded'];
const MEETING_LADDER = ['invited', 'registered', 'attended'];

/** Each channel's outcomes, lowest rung first. */
export const LADDERS = {
  phone: ['no_answer', 'answered', 'successful', 'effective'],
  wechat: MESSAGE_LADDER,
  wecom: MESSAGE_LADDER,
  email: MESSAGE_LADDER,
  sms: MESSAGE_LADDER,
  meeting_online: MEETING_LADDER,
  meeting_offline: MEETING_LADDER,
  visit: ['planned', 'completed'],
  content: ['viewed', 'completed'],
};

/** The channels a rep files a call report on. */
export const REPORT_CHANNELS = ['visit', 'phone', 'wechat', 'wecom', 'meeting_online', 'meeting_offline', 'email'];

export const CHANNEL_COLORS = {
  phone: '#1f6feb',
  wechat: '#2da44e',
  wecom: '#0a7f86',
  meeting_online: '#8250df',
  meeting_offline: '#bf3989',
  visit: '#bc4c00',
  email: '#9a6700',
  content: '#57606a',
  sms: '#6e7781',
};

const CHANNEL_ICONS = {
  phone: 'phone', wechat: 'chat', wecom: 'chat', meeting_online: 'video', meeting_offline: 'meeting',
  visit: 'visit', email: 'mail', content: 'file', sms: 'sms',
};

/** The rung of outcome on channel's ladder (0 = lowest) and its level 0–3
 *  (0 the lowest rung, 3 the top; ladders of 2 or 3 rungs spread over it). */
export function rungOf(channel, outcome) {
  const ladder = LADDERS[channel] || [];
  const rung = ladder.indexOf(outcome);
  if (rung < 0) return { rung: -1, level: 0, of: ladder.length };
  const level = ladder.length <= 1 ? 3 : Math.round((rung * 3) / (ladder.length - 1));
  return { rung, level, of: ladder.length };
}

/** An outcome as a badge coloured by the rung it reached. */
export function outcomeBadge(channel, outcome) {
  if (!outcome) return h('span', { class: 'muted', text: '—' });
  const { rung, level } = rungOf(channel, outcome);
  const key = `outcome.${outcome}`;
  const attrs = { class: `badge outcome rung-${level}`, dataset: { outcome, rung: String(rung) } };
  return has(key) ? h('span', { ...attrs, i18n: key }) : h('span', { ...attrs, text: outcome });
}

/** A channel's round coloured icon (decorative). */
export function channelIcon(channel) {
  return h('span', { class: 'ch-icon', style: `--ch: ${CHANNEL_COLORS[channel] || '#57606a'}`, 'aria-hidden': 'true' },
    icon(CHANNEL_ICONS[channel] || 'pulse'));
}

/** A channel's name with a dot of its colour. */
export function channelTag(channel) {
  return h('span', { class: 'ch-tag', style: `--ch: ${CHANNEL_COLORS[channel] || '#57606a'}`, dataset: { channel } },
    h('span', { class: 'ch-dot', 'aria-hidden': 'true' }), enumEl('evchannel', channel));
}

/** "5 分 20 秒" / "5 min 20 s" for a number of seconds. */
export function durationEl(seconds) {
  if (seconds === null || seconds === undefined || seconds === '') return null;
  const s = Math.max(0, Math.round(Number(seconds)));
  let el;
  if (s < 60) el = tr('ev.dur_s', { s: fmtNumber(s) });
  else if (s < 3600) el = s % 60 ? tr('ev.dur_ms', { m: fmtNumber(Math.floor(s / 60)), s: s % 60 }) : tr('ev.dur_m', { m: fmtNumber(s / 60) });
  else el = tr('ev.dur_hm', { h: fmtNumber(Math.floor(s / 3600)), m: Math.floor((s % 3600) / 60) });
  el.classList.add('duration');
  return el;
}

/** A source of events (api, import, wecom, meeting, cdr, report, demo) by name. */
export function sourceEl(source) {
  return enumEl('evsource', source);
}

/** Who: the rep's name and type, or the source when no rep is known. */
export function whoEl(ev) {
  if (ev.rep && (ev.rep.name || ev.rep.id)) {
    return h('span', { class: 'who-rep', dataset: { rep: ev.rep.id || '' } },
      h('span', { class: 'rep-name', text: ev.rep.name || ev.rep.id }),
      ev.rep.type ? [' ', h('span', { class: `badge rep-${ev.rep.type}` }, enumEl('reptype', ev.rep.type))] : null);
  }
  const source = ev.source || '';
  return h('span', { class: 'who-source', dataset: { source } },
    h('span', { i18n: 'tl.via', i18nArgs: { source: has(`evsource.${source}`) ? { k: `evsource.${source}` } : source } }));
}

/** The event's type (call, message, invitation…) by name; unknown types as sent. */
export function typeEl(type) {
  return enumEl('evtype', type);
}

/**
 * A small badge telling whether a long poll is live: state 'live', 'retry'
 * (with the seconds until the next try), 'paused' or 'off'.
 */
export function liveBadge(id) {
  const el = h('span', { class: 'live', id, dataset: { state: 'off' }, role: 'status' });
  return {
    el,
    set(state, seconds) {
      if (el.dataset.state === state && state !== 'retry') return;
      el.dataset.state = state;
      if (state === 'live') el.replaceChildren(h('span', { class: 'live-dot', 'aria-hidden': 'true' }), tr('live.on'));
      else if (state === 'retry') el.replaceChildren(h('span', { class: 'live-dot', 'aria-hidden': 'true' }), tr('live.retry', { s: seconds }));
      else if (state === 'paused') el.replaceChildren(tr('live.paused'));
      else el.replaceChildren();
    },
  };
}

/** Resolves after ms, or at once when signal aborts. */
export function sleep(ms, signal) {
  return new Promise((resolve) => {
    if (signal && signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      if (signal) signal.removeEventListener('abort', done);
      resolve();
    }
    if (signal) signal.addEventListener('abort', done);
  });
}

/** The delay before the n-th retry after a failure: 1, 2, 4 … 30 s. */
export function backoffMs(failures) {
  return Math.min(30000, 1000 * 2 ** Math.max(0, Math.min(failures - 1, 5)));
}

/** A failure that trying again will not mend (a 4xx other than 408 and 429):
 *  a long poll stops on it. */
export function gone(err) {
  return err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429;
}
