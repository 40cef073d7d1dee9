// The rep's "Today" (#/today): their open and started tasks (GET /api/v1/tasks
// ?assignee=me), overdue ones first, then those due today (an Asia/Shanghai
// day), then what is coming; each with the doctor (a link to the profile),
// what to do, why (the task's reason), when it is due and its priority, and
// buttons to start it, mark it done (PATCH /tasks/{id}) or dismiss it with a
// reason picked from a list or written (POST /tasks/{id}/dismiss: the
// feedback the next-best-action engine learns from). A task the server
// fulfilled from a call or message that just arrived drops off on the next
// load; the page reloads every minute.

import { request } from '../api.js';
import { h, timeEl } from '../dom.js';
import { t } from '../i18n.js';
import { countEl, errorCard, hcpHref, refreshNumbers, loadAll } from './md.js';

export const TASK_TYPES = ['call', 'wechat', 'visit', 'meeting_invite', 'send_content', 'follow_up'];
export const DISMISS_REASONS = ['not_reachable', 'not_relevant', 'already_done', 'doctor_declined', 'no_consent', 'other'];
const RELOAD_MS = 60000;
const DAY_MS = 86400000;
const EAST_MS = 8 * 3600000;

/** The start and end (ms) of the Asia/Shanghai day holding now. */
export function shanghaiDay(now = Date.now()) {
  const start = Math.floor((now + EAST_MS) / DAY_MS) * DAY_MS - EAST_MS;
  return { start, end: start + DAY_MS };
}

/** Which section a task goes in: overdue, today or later. */
export function bucketOf(task, day = shanghaiDay()) {
  const from = Date.parse(task.due_from);
  const to = Date.parse(task.due_to);
  if (to < Date.now()) return 'overdue';
  if (from < day.end && to >= day.start) return 'today';
  return 'later';
}

/** A task's type as a translated badge. */
export function typeBadge(type) {
  return h('span', { class: `badge task-type task-type-${type}`, i18n: `task.type.${type}` });
}

/** A task's status as a translated badge. */
export function statusEl(status) {
  return h('span', { class: `badge task-status task-status-${status}`, i18n: `task.status.${status}` });
}

/** The dismissal form under a task: a reason from the list, or written. onDone() after the POST. */
function dismissForm(ctx, task, onDone, onCancel) {
  const pick = h('select', { class: 'task-dismiss-reason', name: 'reason', i18nAttr: { 'aria-label': 'today.dismiss.reason' } },
    DISMISS_REASONS.map((r) => h('option', { value: r, i18n: `task.dismiss.${r}` })));
  const other = h('input', { class: 'task-dismiss-other', name: 'other', maxlength: '500', hidden: true,
    i18nAttr: { placeholder: 'today.dismiss.other_ph' } });
  const err = h('span', { class: 'field-error', role: 'alert', hidden: true });
  const ok = h('button', { type: 'submit', class: 'btn btn-small btn-danger task-dismiss-ok', i18n: 'today.dismiss.confirm' });
  pick.addEventListener('change', () => { other.hidden = pick.value !== 'other'; });
  const form = h('form', { class: 'task-dismiss' }, pick, ' ', other, ' ', ok, ' ',
    h('button', { type: 'button', class: 'btn btn-small', i18n: 'common.cancel', on: { click: onCancel } }), ' ', err);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const reason = pick.value === 'other' ? other.value.trim() : pick.value;
    if (!reason) {
      err.textContent = t('today.dismiss.need_reason');
      err.hidden = false;
      return;
    }
    ok.disabled = true;
    try {
      await request('POST', `/tasks/${task.id}/dismiss`, { body: { reason }, signal: ctx.signal, quiet: true });
      ctx.notify('today.dismissed');
      onDone();
    } catch (x) {
      if (x.code === 'aborted') return;
      err.textContent = x.serverMessage || x.message;
      err.hidden = false;
    } finally {
      ok.disabled = false;
    }
  });
  return form;
}

/** One task as a card with its actions; reload() after a change. */
function taskCard(ctx, task, reload) {
  const err = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const slot = h('div', { class: 'task-form-slot' });
  async function move(status) {
    err.hidden = true;
    try {
      await request('PATCH', `/tasks/${task.id}`, { body: { status }, signal: ctx.signal, quiet: true });
      ctx.notify(status === 'done' ? 'today.marked_done' : 'today.started');
      reload();
    } catch (x) {
      if (x.code === 'aborted') return;
      err.textContent = x.serverMessage || x.message;
      err.hidden = false;
    }
  }
  const actions = h('div', { class: 'task-actions' },
    task.status === 'open'
      ? h('button', { type: 'button', class: 'btn btn-small task-start', i18n: 'today.start', on: { click: () => move('in_progress') } })
      : null,
    h('button', { type: 'button', class: 'btn btn-small btn-primary task-done', i18n: 'today.done', on: { click: () => move('done') } }),
    h('button', { type: 'button', class: 'btn btn-small task-dismiss-open', i18n: 'today.dismiss.open',
      on: { click: () => slot.replaceChildren(dismissForm(ctx, task, reload, () => slot.replaceChildren())) } }));
  return h('li', { class: `card task-card${task.overdue ? ' task-overdue' : ''}`, dataset: { task: String(task.id), status: task.status } },
    h('div', { class: 'task-head' },
      typeBadge(task.type), ' ',
      h('a', { class: 'task-hcp', href: hcpHref(task.hcp), text: task.hcp_name || task.hcp }), ' ',
      h('span', { class: 'muted mono', text: task.hcp }), ' ',
      statusEl(task.status), ' ',
      h('span', { class: `badge task-priority priority-${task.priority}`, i18n: 'task.priority', i18nArgs: { p: task.priority } })),
    task.reason ? h('p', { class: 'task-reason', text: task.reason }) : h('p', { class: 'task-reason muted', i18n: 'today.no_reason' }),
    h('p', { class: 'task-due small' },
      h('span', { i18n: 'today.due' }), ' ', timeEl(task.due_from), ' – ', timeEl(task.due_to),
      task.source !== 'person' ? [' · ', h('span', { i18n: `task.source.${task.source}` })] : null),
    actions, err, slot);
}

export function render(ctx) {
  const summary = h('p', { class: 'today-summary', id: 'today-summary', role: 'status' });
  const lists = h('div', { id: 'today-lists', class: 'today-lists' });
  let timer = null;

  function section(key, tasks, id) {
    return h('section', { class: 'today-section', id },
      h('h2', {}, h('span', { i18n: key }), ' ', h('span', { class: 'badge count', text: String(tasks.length) })),
      tasks.length ? h('ul', { class: 'task-list' }, tasks.map((x) => taskCard(ctx, x, load)))
        : h('p', { class: 'muted', i18n: 'today.none' }));
  }

  async function load() {
    clearTimeout(timer);
    try {
      const tasks = await loadAll('/tasks', { query: { assignee: 'me', status: 'open,in_progress' }, signal: ctx.signal, quiet: true });
      const day = shanghaiDay();
      const by = { overdue: [], today: [], later: [] };
      for (const x of tasks) by[bucketOf(x, day)].push(x);
      by.overdue.sort((a, b) => Date.parse(a.due_to) - Date.parse(b.due_to) || a.priority - b.priority);
      by.today.sort((a, b) => a.priority - b.priority || Date.parse(a.due_to) - Date.parse(b.due_to));
      by.later.sort((a, b) => Date.parse(a.due_from) - Date.parse(b.due_from) || a.priority - b.priority);
      summary.replaceChildren(countEl('today.summary', by.overdue.length + by.today.length,
        { overdue: by.overdue.length, today: by.today.length }));
      lists.replaceChildren(section('today.overdue', by.overdue, 'today-overdue'), section('today.today', by.today, 'today-today'),
        section('today.later', by.later, 'today-later'));
      lists.dataset.state = 'ready';
    } catch (err) {
      if (err.code === 'aborted') return;
      lists.replaceChildren(errorCard('today.failed', err));
      lists.dataset.state = 'error';
    }
    timer = setTimeout(load, RELOAD_MS);
  }

  ctx.onCleanup(() => clearTimeout(timer));
  const page = h('div', { class: 'page today' },
    h('div', { class: 'page-head' }, h('h1', { i18n: 'today.title' }),
      h('div', { class: 'toolbar' }, h('button', { type: 'button', class: 'btn', id: 'today-reload', i18n: 'today.reload', on: { click: load } }))),
    h('p', { class: 'muted', i18n: 'today.intro' }),
    summary, lists);
  ctx.onLang(() => refreshNumbers(page));
  load();
  return page;
}
