// The manager's team view (#/team): per rep the caller may see
// (GET /api/v1/tasks/summary), open tasks, due today, overdue and done this
// week (Asia/Shanghai), as a grouped bar chart and a table; below, the team's
// open and started tasks (GET /tasks, overdue first) with a reassignment
// control per task (PATCH /tasks/{id} {assignee}; "force" for a rep not
// aligned to the doctor, which the server refuses otherwise and says why).
// Admin, marketing, analysts and compliance see everyone's, read-only except
// the admin.

import { api, request } from '../api.js';
import { h, timeEl } from '../dom.js';
import { t } from '../i18n.js';
import { loadEcharts, mountChart } from '../chart.js';
import { dataTable, emptyRow } from '../widgets.js';
import { cardHead, errorCard, hcpHref, numEl, refreshNumbers, loadAll } from './md.js';
import { typeBadge, statusEl } from './today.js';

const COUNTS = ['open', 'due_today', 'overdue', 'done_week'];
const COLORS = { open: '#1f6feb', due_today: '#bf8700', overdue: '#cf222e', done_week: '#2da44e' };
const REASSIGNERS = ['admin', 'manager'];

function chartOption(items) {
  return () => ({
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { bottom: 0, data: COUNTS.map((k) => t(`team.col.${k}`)) },
    grid: { left: 48, right: 16, top: 16, bottom: 56 },
    xAxis: { type: 'category', data: items.map((x) => `${x.name} (${x.assignee})`), axisLabel: { interval: 0, rotate: items.length > 6 ? 30 : 0 } },
    yAxis: { type: 'value', minInterval: 1, name: t('team.chart.tasks') },
    series: COUNTS.map((k) => ({ type: 'bar', name: t(`team.col.${k}`), itemStyle: { color: COLORS[k] }, data: items.map((x) => x[k]) })),
  });
}

/** The reassignment control of one task: a rep id (from the list), force, and a button. */
function reassignCell(ctx, task, reps, reload) {
  const input = h('input', { class: 'task-reassign-rep mono', list: 'team-reps', size: '8', value: task.assignee,
    i18nAttr: { 'aria-label': 'team.reassign.rep' } });
  const force = h('input', { type: 'checkbox', class: 'task-reassign-force' });
  const err = h('span', { class: 'field-error', role: 'alert', hidden: true });
  const btn = h('button', { type: 'button', class: 'btn btn-small task-reassign', i18n: 'team.reassign.go' });
  btn.addEventListener('click', async () => {
    const rep = input.value.trim();
    err.hidden = true;
    if (!rep || rep === task.assignee) return;
    btn.disabled = true;
    try {
      await request('PATCH', `/tasks/${task.id}`, { body: { assignee: rep, force: force.checked }, signal: ctx.signal, quiet: true });
      ctx.notify('team.reassigned', { id: task.id, rep });
      reload();
    } catch (x) {
      if (x.code === 'aborted') return;
      err.textContent = x.serverMessage || x.message;
      err.hidden = false;
    } finally {
      btn.disabled = false;
    }
  });
  return h('td', { class: 'task-reassign-cell' }, input, ' ', h('label', { class: 'small' }, force, ' ', h('span', { i18n: 'team.reassign.force' })),
    ' ', btn, ' ', err);
}

export function render(ctx) {
  const { table: sumTable, tbody: sumBody } = dataTable('team.col', ['rep', ...COUNTS]);
  sumTable.id = 'team-summary';
  const chartEl = h('div', { class: 'chart', id: 'team-chart' });
  const mayReassign = REASSIGNERS.includes(ctx.user.role);
  const cols = ['task', 'hcp', 'type', 'status', 'due', 'assignee'];
  const { table: taskTable, tbody: taskBody } = dataTable('team.tcol', mayReassign ? [...cols, 'reassign'] : cols);
  taskTable.id = 'team-tasks';
  const reps = h('datalist', { id: 'team-reps' });
  let charts = null;
  let chart = null;

  async function loadSummary() {
    try {
      charts = charts || loadEcharts();
      const s = await api.get('/tasks/summary', { signal: ctx.signal, quiet: true });
      sumBody.replaceChildren(...(s.items.length ? s.items.map((x) => h('tr', { dataset: { rep: x.assignee } },
        h('td', {}, h('span', { text: x.name }), ' ', h('span', { class: 'muted mono', text: x.assignee })),
        ...COUNTS.map((k) => h('td', { class: `num-cell team-${k}` }, numEl(x[k])))))
        : [emptyRow(COUNTS.length + 1, 'team.none')]));
      reps.replaceChildren(...s.items.map((x) => h('option', { value: x.assignee, text: x.name })));
      sumTable.dataset.state = 'ready';
      if (chartEl.dispose) chartEl.dispose();
      chart = await mountChart(ctx, chartEl, chartOption(s.items), charts);
      chartEl.dataset.state = chart ? 'ready' : 'none';
    } catch (err) {
      if (err.code !== 'aborted') sumBody.replaceChildren(h('tr', {}, h('td', { colspan: COUNTS.length + 1 }, errorCard('team.failed', err))));
    }
  }

  async function loadTasks() {
    try {
      const items = await loadAll('/tasks', { query: { status: 'open,in_progress' }, signal: ctx.signal, quiet: true });
      items.sort((a, b) => Number(b.overdue) - Number(a.overdue) || Date.parse(a.due_to) - Date.parse(b.due_to));
      taskBody.replaceChildren(...(items.length ? items.map((x) => h('tr', { dataset: { task: String(x.id) }, class: x.overdue ? 'task-overdue' : '' },
        h('td', { class: 'mono', text: String(x.id) }),
        h('td', {}, h('a', { href: hcpHref(x.hcp), text: x.hcp_name || x.hcp })),
        h('td', {}, typeBadge(x.type)),
        h('td', {}, statusEl(x.status), x.overdue ? [' ', h('span', { class: 'badge task-overdue-badge', i18n: 'team.overdue' })] : null),
        h('td', {}, timeEl(x.due_to)),
        h('td', { class: 'task-assignee' }, h('span', { text: x.assignee_name }), ' ', h('span', { class: 'muted mono', text: x.assignee })),
        mayReassign ? reassignCell(ctx, x, reps, reload) : null))
        : [emptyRow(mayReassign ? cols.length + 1 : cols.length, 'team.no_tasks')]));
      taskTable.dataset.state = 'ready';
    } catch (err) {
      if (err.code !== 'aborted') taskBody.replaceChildren(h('tr', {}, h('td', { colspan: cols.length + 1 }, errorCard('team.failed', err))));
    }
  }

  function reload() {
    loadSummary();
    loadTasks();
  }

  const page = h('div', { class: 'page team' },
    h('div', { class: 'page-head' }, h('h1', { i18n: 'team.title' }),
      h('div', { class: 'toolbar' }, h('button', { type: 'button', class: 'btn', id: 'team-reload', i18n: 'today.reload', on: { click: reload } }))),
    h('p', { class: 'muted', i18n: 'team.intro' }),
    h('section', { class: 'card' }, cardHead('team.summary'), chartEl, h('div', { class: 'table-wrap' }, sumTable)),
    h('section', { class: 'card' }, cardHead('team.tasks'), h('div', { class: 'table-wrap' }, taskTable), reps));
  ctx.onLang(() => refreshNumbers(page));
  reload();
  return page;
}
