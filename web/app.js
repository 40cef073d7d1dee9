// The application shell: session state, the hash router (#/login, #/home, …),
// the top bar and the left navigation. Navigation comes from the NAV table:
// a feature adds one row {route, labelKey, descKey, icon, roles, load} and
// its page module in pages/. A page module exports render(ctx) → Element.
// A row with hidden: true is a route without a navigation item (a detail
// page such as #/hcp/D1); its parent's item is marked current. What follows
// the route in the hash reaches the page as ctx.params (path segments,
// decoded) and ctx.query (the URLSearchParams after '?'); ctx.setQuery
// rewrites the latter in place without re-rendering (filters survive Back).

import { api, configure, setCsrfToken } from './api.js';
import { apply, onLangChange } from './i18n.js';
import { h, tr, roleEl, icon } from './dom.js';
import { showError, clearError, showNotice } from './banner.js';
import { langSwitch, ROLES } from './widgets.js';
import * as loginPage from './pages/login.js';

const NAV = [
  { route: 'home', labelKey: 'nav.home', descKey: 'module.home', icon: 'home', roles: ROLES,
    load: () => import('./pages/home.js') },
  { route: 'today', labelKey: 'nav.today', descKey: 'module.today', icon: 'audit', roles: ['field_rep', 'inside_rep', 'msl', 'manager'],
    load: () => import('./pages/today.js') },
  { route: 'team', labelKey: 'nav.team', descKey: 'module.team', icon: 'chart',
    roles: ['manager', 'admin', 'marketing', 'analyst', 'compliance'], load: () => import('./pages/team.js') },
  { route: 'users', labelKey: 'nav.users', descKey: 'module.users', icon: 'users', roles: ['admin'],
    load: () => import('./pages/users.js') },
  { route: 'audit', labelKey: 'nav.audit', descKey: 'module.audit', icon: 'audit', roles: ['admin', 'compliance'],
    load: () => import('./pages/audit.js') },
  { route: 'hcps', labelKey: 'nav.hcps', descKey: 'module.hcps', icon: 'doctor', roles: ROLES,
    load: () => import('./pages/hcps.js') },
  { route: 'hcp', hidden: true, parent: 'hcps', roles: ROLES,
    load: () => import('./pages/hcp.js') },
  { route: 'hcos', labelKey: 'nav.hcos', descKey: 'module.hcos', icon: 'hospital', roles: ROLES,
    load: () => import('./pages/hcos.js') },
  { route: 'hco', hidden: true, parent: 'hcos', roles: ROLES,
    load: () => import('./pages/hcos.js') },
  { route: 'content', labelKey: 'nav.content', descKey: 'module.content', icon: 'file', roles: ROLES,
    load: () => import('./pages/content.js') },
  { route: 'segments', labelKey: 'nav.segments', descKey: 'module.segments', icon: 'filter', roles: ROLES,
    load: () => import('./pages/segments.js') },
  { route: 'tags', labelKey: 'nav.tags', descKey: 'module.tags', icon: 'tag', roles: ROLES,
    load: () => import('./pages/tags.js') },
  { route: 'reps', labelKey: 'nav.reps', descKey: 'module.reps', icon: 'tree', roles: ['admin', 'manager'],
    load: () => import('./pages/reps.js') },
  { route: 'import', labelKey: 'nav.import', descKey: 'module.import', icon: 'upload', roles: ['admin'],
    load: () => import('./pages/import.js') },
  { route: 'events', labelKey: 'nav.events', descKey: 'module.events', icon: 'pulse', roles: ['admin', 'marketing'],
    load: () => import('./pages/events.js') },
  { route: 'kpis', labelKey: 'nav.kpis', descKey: 'module.kpis', icon: 'chart', roles: ROLES,
    load: () => import('./pages/kpis.js') },
  { route: 'experiments', labelKey: 'nav.experiments', descKey: 'module.experiments', icon: 'chart',
    roles: ['admin', 'marketing', 'manager', 'analyst', 'compliance'], load: () => import('./pages/experiments.js') },
  { route: 'nba', labelKey: 'nav.nba', descKey: 'module.nba', icon: 'chart',
    roles: ['admin', 'marketing', 'manager', 'analyst', 'compliance'], load: () => import('./pages/nba.js') },
  { route: 'models', labelKey: 'nav.models', descKey: 'module.models', icon: 'chart',
    roles: ['admin', 'marketing', 'manager', 'analyst', 'compliance'], load: () => import('./pages/models.js') },
  { route: 'identity', labelKey: 'nav.identity', descKey: 'module.identity', icon: 'users', roles: ['admin'],
    load: () => import('./pages/identity.js') },
  { route: 'tokens', labelKey: 'nav.tokens', descKey: 'module.tokens', icon: 'key', roles: ROLES,
    load: () => import('./pages/tokens.js') },
];

const state = {
  user: null,        // GET /api/v1/me, or null when signed out
  frame: null,       // {nav, main} while signed in
  page: null,        // {abort, cleanups} of the mounted page
  mountSeq: 0,       // guards against a slow page load finishing after a newer route
  loginNoticeKey: null,
};

const appRoot = () => document.getElementById('app');

function navFor(role) {
  return NAV.filter((item) => !item.hidden && item.roles.includes(role));
}

function currentRoute() {
  const m = /^#\/([\w-]+)/.exec(location.hash);
  return m ? m[1] : '';
}

/** What follows the route in the hash: {params: [segments], query: URLSearchParams}. */
function routeArgs() {
  const m = /^#\/[\w-]+([^?]*)(?:\?(.*))?$/.exec(location.hash);
  const params = [];
  for (const seg of (m ? m[1] : '').split('/')) {
    if (!seg) continue;
    try {
      params.push(decodeURIComponent(seg));
    } catch {
      params.push(seg);
    }
  }
  return { params, query: new URLSearchParams(m && m[2] ? m[2] : '') };
}

/** Replaces the hash's query (a page's filters) without a re-render. */
function setQuery(values) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const base = location.hash.replace(/\?.*$/, '');
  const s = q.toString();
  history.replaceState(history.state, '', s ? `${base}?${s}` : base);
}

function go(route) {
  if (currentRoute() === route) renderRoute();
  else location.hash = `#/${route}`;
}

function setSession(me) {
  state.user = me;
  setCsrfToken(me ? me.csrf_token : null);
  state.frame = null;
}

/** Asks the server who we are; a 401 just means signed out. */
async function loadSession() {
  try {
    setSession(await api.get('/me', { quiet: true, allow401: true }));
  } catch (err) {
    setSession(null);
    if (err.status !== 401) showError(err);
  }
}

function onUnauthorized() {
  if (!state.user) return;
  setSession(null);
  state.loginNoticeKey = 'error.session_expired';
  go('login');
}

async function logout() {
  try {
    await api.post('/auth/logout');
  } catch (err) {
    if (err.status !== 401) return; // shown in the banner; still signed in
  }
  setSession(null);
  go('login');
}

function unmountPage() {
  state.mountSeq += 1;
  if (!state.page) return;
  state.page.abort.abort();
  for (const fn of state.page.cleanups) fn();
  state.page = null;
}

function buildFrame() {
  const user = state.user;
  const nav = h('nav', { class: 'sidenav', i18nAttr: { 'aria-label': 'nav.label' } },
    h('ul', {}, navFor(user.role).map((item) => h('li', {},
      h('a', { href: `#/${item.route}`, class: 'nav-item', dataset: { route: item.route } },
        item.icon ? icon(item.icon) : null, h('span', { class: 'nav-label', i18n: item.labelKey }))))));
  const topbar = h('header', { class: 'topbar' },
    h('a', { class: 'brand', href: '#/home' },
      h('span', { class: 'brand-name', i18n: 'app.name' }),
      h('span', { class: 'brand-tagline', i18n: 'app.tagline' })),
    h('div', { class: 'topbar-right' },
      h('span', { class: 'who' },
        h('span', { class: 'user-name', text: user.name || user.login }),
        h('span', { class: 'user-role badge' }, roleEl(user.role))),
      langSwitch(),
      h('button', { type: 'button', id: 'logout', class: 'btn btn-ghost', i18n: 'top.logout', on: { click: logout } })));
  const main = h('main', { id: 'main', class: 'main', tabindex: '-1' });
  appRoot().replaceChildren(h('div', { class: 'frame' }, topbar, h('div', { class: 'body' }, nav, main)));
  state.frame = { nav, main };
}

function markActive(item) {
  const route = item ? item.parent || item.route : '';
  for (const a of state.frame.nav.querySelectorAll('a.nav-item')) {
    if (a.dataset.route === route) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function noAccess() {
  return h('section', { class: 'card no-access', id: 'no-access' },
    h('h1', { i18n: 'noaccess.title' }),
    h('p', { i18nArgs: { role: { k: `role.${state.user.role}` } }, i18n: 'noaccess.text' }),
    h('p', {}, h('a', { href: '#/home', class: 'btn', i18n: 'noaccess.back' })));
}

function pageContext(signal, cleanups) {
  const { params, query } = routeArgs();
  return {
    user: state.user,
    params,
    query,
    setQuery,
    nav: navFor(state.user.role),
    signal,
    onCleanup: (fn) => cleanups.push(fn),
    onLang: (fn) => cleanups.push(onLangChange(fn)),
    notify: showNotice,
    go,
  };
}

async function mountPage(item) {
  const seq = state.mountSeq;
  const abort = new AbortController();
  const cleanups = [];
  state.page = { abort, cleanups };
  let mod;
  try {
    mod = await item.load();
  } catch (err) {
    showError({ status: 0, code: 'load_failed', message: String(err) });
    return;
  }
  if (seq !== state.mountSeq) return;
  state.frame.main.replaceChildren(mod.render(pageContext(abort.signal, cleanups)));
}

function renderLogin() {
  const noticeKey = state.loginNoticeKey;
  state.loginNoticeKey = null;
  appRoot().replaceChildren(loginPage.render({
    noticeKey,
    onLoggedIn: async () => {
      await loadSession();
      if (state.user) go('home');
    },
  }));
}

/** Shows what the hash asks for, within what the session allows. */
function renderRoute() {
  unmountPage();
  clearError();
  const route = currentRoute();
  if (!state.user) {
    if (route !== 'login') location.replace('#/login');
    else renderLogin();
    return;
  }
  const item = NAV.find((r) => r.route === route);
  if (!item) {
    location.replace('#/home');
    return;
  }
  if (!state.frame) buildFrame();
  markActive(item);
  if (!item.roles.includes(state.user.role)) {
    state.frame.main.replaceChildren(noAccess());
    return;
  }
  state.frame.main.replaceChildren(h('p', { class: 'loading' }, tr('common.loading')));
  mountPage(item);
}

async function boot() {
  configure({ onUnauthorized, onError: showError });
  apply(document);
  window.addEventListener('hashchange', renderRoute);
  await loadSession();
  renderRoute();
}

boot();
