// Next best action (#/nba): the expert rules of the next-best-action engine
// (docs/nba.md) and the contact policy they all obey. The rules list shows
// each rule's condition, action, priority and owner (GET /api/v1/rules);
// admin and marketing open the editor: a condition in the expression
// language, checked as they type through POST /expressions/check (the error
// under its column, or "not boolean"), the action template (action, channel,
// content by id / product / topic / tag, window days, weekdays and hours,
// repeat frequency), priority, validity and owner role, saved with
// PUT /rules/{name} (a 422 from the server lands on the field it names).
// The contact policy (GET/PUT /nba/settings; admins change it): the weekly
// budget, the per-channel caps, quiet hours and the nightly run. "Dry run"
// then "Run now" (POST /nba/run) show what a run decides: counts, tasks per
// rep and blocked by reason, as charts.
//
// recommendationsCard is the panel on the HCP page: what is suggested now
// for the doctor and, expanded, what was blocked and why.

import { api, request } from '../api.js';
import { h, timeEl } from '../dom.js';
import { t, has } from '../i18n.js';
import { loadEcharts, mountChart } from '../chart.js';
import { field, dataTable, emptyRow } from '../widgets.js';
import { numEl, refreshNumbers, debounce, errorCard, formError, clearFormError, formErrorSlot, confirmButton, cardHead } from './md.js';

const WRITERS = ['admin', 'marketing'];
const ACTIONS = ['call', 'wechat', 'visit', 'meeting_invite', 'send_content'];
const CHANNELS = ['phone', 'wechat', 'wecom', 'email', 'sms', 'visit'];
const FITS = {
  call: ['phone'], wechat: ['wechat', 'wecom'], visit: ['visit'],
  meeting_invite: ['wechat', 'wecom', 'email', 'sms', 'phone'], send_content: ['wechat', 'wecom', 'email', 'sms'],
};
const SELECTORS = ['none', 'id', 'product', 'topic', 'tag'];
const ROLES = ['', 'field', 'inside', 'msl'];
const PURPOSES = ['promotional', 'medical_info', 'meeting_invite', 'survey'];
const CHECK_DELAY_MS = 250;
const enc = encodeURIComponent;

const mayWrite = (role) => WRITERS.includes(role);
const blockLabel = (code) => (has(`nba.block.${code}`) ? t(`nba.block.${code}`) : code);

/* ---------- the rule editor ---------- */

function selectEl(id, values, labelPrefix, value) {
  const s = h('select', { id, name: id }, values.map((v) => h('option', { value: v, i18n: `${labelPrefix}.${v || 'auto'}` })));
  s.value = value;
  return s;
}

/** The selector of a rule's content as {kind, value}. */
function selectorOf(content) {
  if (!content) return { kind: 'none', value: '' };
  if (content.id) return { kind: 'id', value: content.id };
  if (content.product) return { kind: 'product', value: content.product };
  if (content.topic && content.topic.startsWith('tag.')) return { kind: 'tag', value: content.topic.slice(4) };
  if (content.topic) return { kind: 'topic', value: content.topic };
  return { kind: 'none', value: '' };
}

/** The create/edit form; rule: the rule to edit, or null. onDone(saved). */
function ruleForm(ctx, { rule = null, onDone, onCancel }) {
  const slot = formErrorSlot();
  const a = rule ? rule.action : { action: 'call', channel: 'phone', content: {}, window: { days: 7, weekdays: [1, 2, 3, 4, 5, 6, 7], hours: [0, 24] }, repeat_days: 0 };
  const input = (id, attrs = {}) => h('input', { id, name: id, autocomplete: 'off', ...attrs });
  const name = input('nba-f-name', { required: true, maxlength: '64', class: 'mono', spellcheck: 'false', pattern: '[a-z0-9][a-z0-9_-]{0,63}', value: rule ? rule.name : '', disabled: Boolean(rule) });
  const description = h('textarea', { id: 'nba-f-description', name: 'description', rows: '2' });
  description.value = rule && rule.description ? rule.description : '';
  const condition = h('textarea', { id: 'nba-f-condition', name: 'condition', class: 'mono expr-editor', rows: '3', spellcheck: 'false', autocomplete: 'off', i18nAttr: { placeholder: 'nba.f.condition_hint' } });
  condition.value = rule ? rule.condition : '';
  const condStatus = h('div', { id: 'nba-f-cond-status', class: 'expr-status', role: 'status', 'aria-live': 'polite' });
  const action = selectEl('nba-f-action', ACTIONS, 'nba.action', a.action);
  const channel = selectEl('nba-f-channel', CHANNELS, 'nba.channel', a.channel);
  const sel = selectorOf(a.content);
  const selKind = selectEl('nba-f-content-kind', SELECTORS, 'nba.sel', sel.kind);
  const selValue = input('nba-f-content', { class: 'mono', value: sel.value, maxlength: '200' });
  const days = input('nba-f-days', { type: 'number', min: '1', max: '365', value: String(a.window.days) });
  const weekdays = h('span', { id: 'nba-f-weekdays', class: 'nba-weekdays' }, [1, 2, 3, 4, 5, 6, 7].map((d) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', value: String(d), checked: a.window.weekdays.includes(d) }), h('span', { i18n: `nba.wd.${d}` }))));
  const hourFrom = input('nba-f-hour-from', { type: 'number', min: '0', max: '24', value: String(a.window.hours[0]) });
  const hourTo = input('nba-f-hour-to', { type: 'number', min: '0', max: '24', value: String(a.window.hours[1]) });
  const repeat = input('nba-f-repeat', { type: 'number', min: '0', max: '365', value: String(a.repeat_days) });
  const purpose = selectEl('nba-f-purpose', PURPOSES, 'nba.purpose', a.purpose || 'promotional');
  const priority = selectEl('nba-f-priority', ['1', '2', '3', '4', '5'], 'nba.priority', String(rule ? rule.priority : 3));
  const owner = selectEl('nba-f-owner', ROLES, 'nba.role', rule && rule.owner_role ? rule.owner_role : '');
  const from = input('nba-f-valid-from', { type: 'date', value: rule && rule.valid_from ? rule.valid_from.slice(0, 10) : '' });
  const to = input('nba-f-valid-to', { type: 'date', value: rule && rule.valid_to ? rule.valid_to.slice(0, 10) : '' });
  const enabled = h('input', { type: 'checkbox', id: 'nba-f-enabled', checked: rule ? rule.enabled : true });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', id: 'nba-f-save', i18n: 'nba.f.save' });
  const st = { seq: 0 };

  function fitChannels() {
    const ok = FITS[action.value];
    for (const o of channel.options) o.disabled = !ok.includes(o.value);
    if (!ok.includes(channel.value)) channel.value = ok[0];
  }
  action.addEventListener('change', fitChannels);
  fitChannels();
  const syncSel = () => { selValue.disabled = selKind.value === 'none'; };
  selKind.addEventListener('change', syncSel);
  syncSel();

  function condError(e) {
    condStatus.dataset.state = 'error';
    condStatus.replaceChildren(
      h('div', { class: 'expr-error-msg' }, h('strong', { i18n: 'tags.check.error_at', i18nArgs: { col: e.column } }), ' ', h('span', { class: 'server-message', text: e.message })),
      e.expected ? h('div', { class: 'muted' }, h('span', { i18n: 'tags.check.expected' }), ' ', h('span', { class: 'expected', text: e.expected })) : null);
  }
  function condBad(key, args) {
    condStatus.dataset.state = 'error';
    condStatus.replaceChildren(h('span', { class: 'form-error', i18n: key, i18nArgs: args }));
  }
  async function check() {
    const seq = ++st.seq;
    const src = condition.value;
    if (!src.trim()) {
      condStatus.dataset.state = 'empty';
      condStatus.replaceChildren();
      return;
    }
    try {
      const c = await api.post('/expressions/check', { expr: src }, { signal: ctx.signal, quiet: true });
      if (seq !== st.seq) return;
      if (!c.valid) condError(c.error);
      else if (c.type !== 'boolean') condBad('nba.f.not_boolean', { type: c.type });
      else {
        condStatus.dataset.state = 'ok';
        condStatus.replaceChildren(h('span', { class: 'ok', i18n: 'nba.f.condition_ok' }));
      }
    } catch (err) {
      if (err.code !== 'aborted' && seq === st.seq) formError(form, slot, err);
    }
  }
  const recheck = debounce(check, CHECK_DELAY_MS);
  condition.addEventListener('input', recheck);
  ctx.onCleanup(() => recheck.cancel());

  function body() {
    const content = {};
    const v = selValue.value.trim();
    if (selKind.value === 'id') content.id = v;
    else if (selKind.value === 'product') content.product = v;
    else if (selKind.value === 'topic') content.topic = v;
    else if (selKind.value === 'tag') content.topic = `tag.${v}`;
    const num = (el) => (el.value === '' ? null : Number(el.value));
    return {
      description: description.value.trim() || null,
      condition: condition.value,
      action: {
        action: action.value, channel: channel.value, content: selKind.value === 'none' ? null : content,
        window: { days: num(days), weekdays: [...weekdays.querySelectorAll('input:checked')].map((c) => Number(c.value)), hours: [num(hourFrom), num(hourTo)] },
        repeat_days: num(repeat),
        purpose: purpose.value,
      },
      priority: Number(priority.value),
      owner_role: owner.value || null,
      valid_from: from.value || null,
      valid_to: to.value || null,
      enabled: enabled.checked,
    };
  }

  const form = h('form', { class: 'form nba-form', id: 'nba-rule-form', novalidate: true },
    h('h2', rule ? { i18n: 'nba.form.title_edit', i18nArgs: { name: rule.name } } : { i18n: 'nba.form.title_new' }),
    h('div', { class: 'form-grid' },
      field('nba.f.name', name, { hint: h('small', { class: 'muted', i18n: 'nba.f.name_hint' }) }),
      field('nba.f.priority', priority),
      field('nba.f.owner', owner)),
    field('nba.f.condition', condition), condStatus,
    h('fieldset', { class: 'nba-action' }, h('legend', { i18n: 'nba.f.action_legend' }),
      h('div', { class: 'form-grid' },
        field('nba.f.action', action), field('nba.f.channel', channel), field('nba.f.purpose', purpose),
        field('nba.f.content_kind', selKind), field('nba.f.content', selValue, { optional: true })),
      h('div', { class: 'form-grid' },
        field('nba.f.days', days), field('nba.f.hour_from', hourFrom), field('nba.f.hour_to', hourTo), field('nba.f.repeat', repeat)),
      h('div', {}, h('span', { class: 'field-label', i18n: 'nba.f.weekdays' }), ' ', weekdays)),
    h('div', { class: 'form-grid' },
      field('nba.f.valid_from', from, { optional: true }), field('nba.f.valid_to', to, { optional: true }),
      h('label', { class: 'check' }, enabled, h('span', { i18n: 'nba.f.enabled' }))),
    field('nba.f.description', description, { optional: true }),
    slot,
    h('div', { class: 'form-actions' }, save,
      h('button', { type: 'button', class: 'btn', id: 'nba-f-cancel', i18n: 'nba.f.cancel', on: { click: () => onCancel() } })));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFormError(form, slot);
    recheck.cancel();
    const n = (rule ? rule.name : name.value).trim();
    save.disabled = true;
    try {
      onDone(await request('PUT', `/rules/${enc(n)}`, { body: body(), signal: ctx.signal, quiet: true }));
    } catch (err) {
      if (err.code === 'aborted') return;
      if (err.status === 422 && err.detail && err.detail.field === 'condition') {
        if (err.detail.column) condError({ column: err.detail.column, message: err.serverMessage || err.message, expected: err.detail.expected });
        else condBad('nba.f.server_says', { msg: err.serverMessage || err.message });
        condition.setAttribute('aria-invalid', 'true');
        condition.focus();
      } else {
        formError(form, slot, err);
      }
    } finally {
      save.disabled = false;
    }
  });
  if (rule) check();
  return { form, focus: () => (rule ? condition : name).focus() };
}

/* ---------- the rules ---------- */

function actionText(a) {
  const c = a.content || {};
  const what = c.id || c.product || c.topic;
  return [h('span', { i18n: `nba.action.${a.action}` }), ' · ', h('span', { i18n: `nba.channel.${a.channel}` }),
    what ? [' · ', h('span', { class: 'mono', text: what })] : null,
    h('small', { class: 'muted' }, ' ', h('span', { i18n: 'nba.window_days', i18nArgs: { n: a.window.days } }),
      a.repeat_days ? [' · ', h('span', { i18n: 'nba.repeat_days', i18nArgs: { n: a.repeat_days } })] : null)];
}

function rulesCard(ctx) {
  const { table, tbody } = dataTable('nba.col', ['name', 'condition', 'action', 'priority', 'owner', 'enabled', 'tools']);
  table.id = 'nba-rules-table';
  const formSlot = h('div', { id: 'nba-form-slot' });
  const writer = mayWrite(ctx.user.role);

  function openForm(rule) {
    const f = ruleForm(ctx, {
      rule,
      onDone: (saved) => { formSlot.replaceChildren(); ctx.notify('nba.saved', { name: saved.name }); load(); },
      onCancel: () => formSlot.replaceChildren(),
    });
    formSlot.replaceChildren(h('section', { class: 'card' }, f.form));
    f.focus();
  }

  function row(r) {
    const tools = writer ? [
      h('button', { type: 'button', class: 'btn btn-small nba-edit', i18n: 'nba.edit', on: { click: () => openForm(r) } }), ' ',
      confirmButton('nba.delete', 'nba.delete_confirm', async () => {
        try {
          await api.del(`/rules/${enc(r.name)}`, { signal: ctx.signal, quiet: true });
          load();
        } catch (err) {
          if (err.code !== 'aborted') formSlot.replaceChildren(errorCard('nba.failed', err));
        }
      }, { cls: 'btn btn-small btn-danger' }),
    ] : [];
    return h('tr', { dataset: { rule: r.name } },
      h('td', { class: 'mono' }, r.name, r.description ? h('div', { class: 'muted small', text: r.description }) : null),
      h('td', {}, h('code', { class: 'expr-view', text: r.condition })),
      h('td', {}, actionText(r.action)),
      h('td', {}, numEl(r.priority)),
      h('td', { i18n: `nba.role.${r.owner_role}` }),
      h('td', { i18n: r.enabled ? 'nba.yes' : 'nba.no' }),
      h('td', {}, tools));
  }

  async function load() {
    try {
      const res = await api.get('/rules', { signal: ctx.signal, quiet: true });
      tbody.replaceChildren(...(res.items.length ? res.items.map(row) : [emptyRow(7, 'nba.empty')]));
      table.dataset.state = 'ready';
    } catch (err) {
      if (err.code !== 'aborted') tbody.replaceChildren(h('tr', {}, h('td', { colspan: 7 }, errorCard('nba.failed', err))));
    }
  }
  load();
  const add = writer ? h('button', { type: 'button', class: 'btn btn-primary', id: 'nba-new', i18n: 'nba.new', on: { click: () => openForm(null) } }) : null;
  return h('section', { class: 'card', id: 'nba-rules' }, cardHead('nba.rules', add), formSlot, h('div', { class: 'table-wrap' }, table));
}

/* ---------- the contact policy ---------- */

function settingsCard(ctx) {
  const admin = ctx.user.role === 'admin';
  const body = h('div', {}, h('p', { class: 'loading', i18n: 'common.loading' }));
  const slot = formErrorSlot();
  const card = h('section', { class: 'card', id: 'nba-settings' }, cardHead('nba.settings'), body);

  function draw(s) {
    const num = (id, v, max) => h('input', { id, name: id, type: 'number', min: '0', max: String(max), value: String(v), disabled: !admin });
    const budget = num('nba-s-budget', s.weekly_budget, 100);
    const caps = CHANNELS.map((c) => [c, num(`nba-s-cap-${c}`, s.channel_caps[c] ?? 0, 100)]);
    const qFrom = num('nba-s-quiet-from', s.quiet_hours.from, 23);
    const qTo = num('nba-s-quiet-to', s.quiet_hours.to, 23);
    const limit = num('nba-s-limit', s.run_limit_per_rep, 10000);
    const nightly = h('input', { type: 'checkbox', id: 'nba-s-nightly', checked: s.nightly, disabled: !admin });
    const hour = num('nba-s-nightly-hour', s.nightly_hour, 23);
    const save = admin ? h('button', { type: 'submit', class: 'btn btn-primary', id: 'nba-s-save', i18n: 'nba.s.save' }) : null;
    const form = h('form', { class: 'form', id: 'nba-settings-form', novalidate: true },
      h('div', { class: 'form-grid' }, field('nba.s.budget', budget), field('nba.s.quiet_from', qFrom), field('nba.s.quiet_to', qTo),
        field('nba.s.limit', limit)),
      h('fieldset', {}, h('legend', { i18n: 'nba.s.caps' }), h('div', { class: 'form-grid' }, caps.map(([c, el]) => field(`nba.channel.${c}`, el)))),
      h('div', { class: 'form-grid' }, h('label', { class: 'check' }, nightly, h('span', { i18n: 'nba.s.nightly' })), field('nba.s.nightly_hour', hour)),
      h('p', { class: 'muted small', i18n: 'nba.s.consent', i18nArgs: { channels: s.consent_channels.join(', ') } }),
      slot, save ? h('div', { class: 'form-actions' }, save) : null);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearFormError(form, slot);
      try {
        const saved = await request('PUT', '/nba/settings', {
          body: {
            weekly_budget: Number(budget.value), channel_caps: Object.fromEntries(caps.map(([c, el]) => [c, Number(el.value)])),
            quiet_hours: { from: Number(qFrom.value), to: Number(qTo.value) }, run_limit_per_rep: Number(limit.value),
            nightly: nightly.checked, nightly_hour: Number(hour.value),
          },
          signal: ctx.signal, quiet: true,
        });
        ctx.notify('nba.s.saved');
        draw(saved);
      } catch (err) {
        formError(form, slot, err);
      }
    });
    body.replaceChildren(form);
  }
  (async () => {
    try {
      draw(await api.get('/nba/settings', { signal: ctx.signal, quiet: true }));
    } catch (err) {
      if (err.code !== 'aborted') body.replaceChildren(errorCard('nba.failed', err));
    }
  })();
  return card;
}

/* ---------- run now ---------- */

function barOption(labels, values, nameKey, color) {
  return () => ({
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 48, right: 16, top: 24, bottom: 56 },
    xAxis: { type: 'category', data: labels(), axisLabel: { rotate: 30 } },
    yAxis: { type: 'value', minInterval: 1 },
    series: [{ type: 'bar', name: t(nameKey), data: values, barMaxWidth: 48, itemStyle: { color } }],
  });
}

function runCard(ctx) {
  const result = h('div', { id: 'nba-run-result' });
  const err = h('div', { id: 'nba-run-error' });
  const dry = h('button', { type: 'button', class: 'btn', id: 'nba-dry-run', i18n: 'nba.run.dry' });
  const now = h('button', { type: 'button', class: 'btn btn-primary', id: 'nba-run-now', i18n: 'nba.run.now', disabled: true });
  let charts = null;

  async function run(dryRun) {
    err.replaceChildren();
    dry.disabled = true;
    now.disabled = true;
    try {
      charts = charts || loadEcharts();
      const r = await api.post('/nba/run', { dry_run: dryRun }, { signal: ctx.signal, quiet: true });
      show(r);
      if (!dryRun) ctx.notify('nba.run.done', { n: r.tasks_created });
      now.disabled = !dryRun;
    } catch (e) {
      if (e.code !== 'aborted') err.replaceChildren(errorCard('nba.run.failed', e));
    } finally {
      dry.disabled = false;
    }
  }
  function show(r) {
    const reps = r.per_rep.map((p) => p.rep || '?');
    const codes = Object.keys(r.blocked);
    const repChart = h('div', { class: 'chart', id: 'nba-chart-reps', style: 'height:240px' });
    const blockChart = h('div', { class: 'chart', id: 'nba-chart-blocked', style: 'height:240px' });
    result.dataset.state = r.dry_run ? 'dry' : 'done';
    result.replaceChildren(
      h('p', { class: 'nba-run-summary', i18n: r.dry_run ? 'nba.run.summary_dry' : 'nba.run.summary',
        i18nArgs: { considered: r.considered, recommended: r.recommended, created: r.tasks_created, ms: Math.round(r.took_ms) } }),
      h('div', { class: 'grid-2', style: 'display:grid;grid-template-columns:1fr 1fr;gap:16px' },
        h('div', {}, h('h3', { i18n: 'nba.run.per_rep' }), repChart),
        h('div', {}, h('h3', { i18n: 'nba.run.blocked' }), blockChart)));
    mountChart(ctx, repChart, barOption(() => reps, r.per_rep.map((p) => p.tasks), 'nba.run.tasks', '#1f6feb'), charts);
    mountChart(ctx, blockChart, barOption(() => codes.map(blockLabel), codes.map((c) => r.blocked[c]), 'nba.run.blocked', '#8c959f'), charts);
  }
  dry.addEventListener('click', () => run(true));
  now.addEventListener('click', () => run(false));
  return h('section', { class: 'card', id: 'nba-run' }, cardHead('nba.run.title'),
    h('p', { class: 'muted', i18n: 'nba.run.intro' }), h('div', { class: 'toolbar' }, dry, ' ', now), err, result);
}

export function render(ctx) {
  const writer = mayWrite(ctx.user.role);
  const page = h('div', { class: 'page nba' },
    h('div', { class: 'page-head' }, h('h1', { i18n: 'nba.title' })),
    h('p', { class: 'muted', i18n: 'nba.intro' }),
    rulesCard(ctx),
    writer ? settingsCard(ctx) : null,
    writer ? runCard(ctx) : null);
  ctx.onLang(() => refreshNumbers(page));
  return page;
}

/* ---------- the panel on the HCP page ---------- */

/** What is suggested for the doctor of st.hcp now, and (expanded) what was blocked and why. */
export function recommendationsCard(ctx, st) {
  const list = h('ol', { class: 'nba-recs', id: 'hcp-recs-list' });
  const blocked = h('tbody');
  const details = h('details', { id: 'hcp-recs-blocked' },
    h('summary', {}, h('span', { class: 'nba-blocked-count', i18n: 'nba.hcp.blocked', i18nArgs: { n: 0 } })),
    h('table', { class: 'data' }, h('thead', {}, h('tr', {}, ['rule', 'action', 'reason'].map((c) => h('th', { scope: 'col', i18n: `nba.hcp.col.${c}` })))), blocked));
  const el = h('section', { class: 'card', id: 'hcp-recs' }, cardHead('nba.hcp.title'), list, details);

  function item(r) {
    return h('li', { class: 'nba-rec', dataset: { action: r.action, rule: r.rule, source: r.source } },
      h('strong', { i18n: `nba.action.${r.action}` }), ' · ', h('span', { i18n: `nba.channel.${r.channel}` }),
      ' ', h('span', { class: 'badge', i18n: `task.source.${r.source}` }),
      r.content ? [' · ', h('span', { class: 'mono', text: r.content })] : null,
      ' ', h('small', { class: 'muted' }, timeEl(r.window.start), ' – ', timeEl(r.window.end)),
      h('ul', { class: 'nba-reasons' }, r.reasons.map((x) => h('li', { text: x }))));
  }
  async function load() {
    try {
      const r = await api.get(`/hcps/${enc(st.hcp.id)}/recommendations?explain=true`, { signal: ctx.signal, quiet: true });
      list.replaceChildren(...(r.items.length ? r.items.map(item) : [h('li', { class: 'muted empty', i18n: 'nba.hcp.none' })]));
      blocked.replaceChildren(...r.blocked.map((b) => h('tr', { dataset: { code: b.reason_code } },
        h('td', { class: 'mono', text: b.rule }),
        h('td', {}, h('span', { i18n: `nba.action.${b.action}` })),
        h('td', {}, h('span', { class: 'badge', i18n: `nba.block.${b.reason_code}` }), ' ', h('span', { text: b.reason })))));
      details.querySelector('.nba-blocked-count').replaceWith(h('span', { class: 'nba-blocked-count', i18n: 'nba.hcp.blocked', i18nArgs: { n: r.blocked.length } }));
      el.dataset.state = 'ready';
    } catch (err) {
      if (err.code !== 'aborted') list.replaceChildren(h('li', {}, errorCard('nba.failed', err)));
    }
  }
  return { el, load };
}
