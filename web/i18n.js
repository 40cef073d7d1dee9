// Translations for the UI (简体中文 and English), the current language, and the
// formatting of times in the browser's zone. Translatable text in the DOM is
// tagged with data-i18n (see dom.js), so switching language re-translates the
// page in place: forms keep what was typed and a token shown once stays shown.

const STORAGE_KEY = 'medreach.lang';
export const LANGS = [
  { code: 'zh', label: '简体中文', locale: 'zh-CN', htmlLang: 'zh-CN' },
  { code: 'en', label: 'English', locale: 'en-US', htmlLang: 'en' },
];

const zh = {
  'app.name': 'medreach',
  'app.tagline': '医药全渠道客户互动平台',
  'app.title': 'medreach · 医药全渠道客户互动平台',
  'lang.label': '语言',
  'top.logout': '退出登录',
  'top.user': '当前用户',
  'nav.label': '主导航',
  'nav.home': '首页',
  'nav.users': '用户管理',
  'nav.audit': '审计追踪',
  'nav.tokens': 'API 令牌',
  'module.home': '个人概览与近期活动',
  'module.users': '创建和管理账户、角色与密码',
  'module.audit': '查询全部操作记录并校验审计链',
  'module.tokens': '为脚本和系统集成创建个人访问令牌',
  'role.admin': '管理员',
  'role.manager': '经理',
  'role.field_rep': '医药代表(线下)',
  'role.inside_rep': '线上代表',
  'role.msl': '医学联络官',
  'role.marketing': '市场',
  'role.compliance': '合规',
  'role.analyst': '分析师',
  'noaccess.title': '无权访问',
  'noaccess.text': '您的角色（{role}）无权查看此页面。如需访问，请联系管理员。',
  'noaccess.back': '返回首页',
  'banner.close': '关闭',
  'code.invalid_credentials': '登录名或密码错误。',
  'code.too_many_attempts': '登录失败次数过多。',
  'code.csrf_required': '页面已过期，请刷新后重试。',
  'code.unauthenticated': '请先登录。',
  'code.invalid_token': 'API 令牌无效、已过期或已撤销。',
  'code.session_expired': '会话已结束，请重新登录。',
  'code.forbidden': '您的角色无权执行此操作。',
  'code.internal_error': '服务器内部错误，请将请求 ID 提供给管理员。',
  'code.unavailable': '服务暂时不可用，请稍后重试。',
  'code.request_timeout': '请求超时，请重试。',
  'code.too_large': '提交的内容过大。',
  'error.network': '无法连接服务器，请检查网络后重试。',
  'error.retry_after': '请在 {s} 秒后重试。',
  'error.session_expired': '会话已结束，请重新登录。',
  'error.generic': '请求失败（HTTP {status}）。',
  'common.loading': '加载中…',
  'common.optional': '（可选）',
  'common.save': '保存',
  'common.cancel': '取消',
  'common.never': '从未',
  'pager.prev': '上一页',
  'pager.next': '下一页',
  'pager.page': '第 {n} 页',
  'login.title': '登录',
  'login.subtitle': '请使用公司账号登录',
  'login.login': '用户名',
  'login.password': '密码',
  'login.submit': '登录',
  'login.busy': '正在登录…',
  'home.welcome': '欢迎，{name}',
  'home.role': '角色',
  'home.account': '账号',
  'home.rep_id': '代表编号',
  'home.login_at': '登录时间',
  'home.modules': '我的功能模块',
  'home.activity': '近 14 天活动',
  'home.activity_empty': '近 14 天没有活动记录。',
  'home.chart_other': '其他',
  'users.title': '用户管理',
  'users.filter_role': '角色',
  'users.all_roles': '全部角色',
  'users.q': '搜索',
  'users.q_placeholder': '账号或姓名',
  'users.search': '查询',
  'users.col.login': '账号',
  'users.col.name': '姓名',
  'users.col.role': '角色',
  'users.col.rep_id': '代表编号',
  'users.col.status': '状态',
  'users.col.last_login': '最近登录',
  'users.col.created': '创建时间',
  'users.col.actions': '操作',
  'users.status.active': '启用',
  'users.status.disabled': '已停用',
  'users.edit': '编辑',
  'users.disable': '停用',
  'users.enable': '启用',
  'users.empty': '没有符合条件的用户。',
  'users.add_title': '新增用户',
  'users.password': '初始密码',
  'users.add_submit': '创建用户',
  'users.created': '已创建用户 {login}。',
  'users.saved': '已保存用户 {login}。',
  'users.edit_title': '编辑用户 {login}',
  'users.new_password': '重置密码（留空则不修改）',
  'audit.title': '审计追踪',
  'audit.user': '用户',
  'audit.entity': '对象类型',
  'audit.action': '操作',
  'audit.from': '开始时间',
  'audit.to': '结束时间',
  'audit.apply': '筛选',
  'audit.reset': '重置',
  'audit.col.seq': '序号',
  'audit.col.ts': '时间',
  'audit.col.user': '用户',
  'audit.col.role': '角色',
  'audit.col.action': '操作',
  'audit.col.entity': '对象类型',
  'audit.col.entity_id': '对象 ID',
  'audit.col.status': '状态码',
  'audit.col.ip': 'IP',
  'audit.col.request_id': '请求 ID',
  'audit.load_more': '加载更多',
  'audit.count': '已显示 {n} 条记录',
  'audit.empty': '没有符合条件的记录。',
  'audit.verify': '校验审计链',
  'audit.verifying': '正在校验…',
  'audit.verify_ok': '审计链完整：共 {n} 条记录，校验通过。',
  'audit.verify_bad': '审计链在第 {seq} 条记录处校验失败：{reason}',
  'tokens.title': 'API 令牌',
  'tokens.intro': '令牌用于脚本和系统集成，请求时放在 Authorization: Bearer 头中。令牌拥有与您相同的权限。',
  'tokens.name': '名称',
  'tokens.ttl': '有效天数',
  'tokens.create': '创建令牌',
  'tokens.once': '请立即复制此令牌，它只显示这一次。',
  'tokens.copy': '复制',
  'tokens.copied': '已复制',
  'tokens.done': '我已保存',
  'tokens.col.name': '名称',
  'tokens.col.created': '创建时间',
  'tokens.col.expires': '过期时间',
  'tokens.col.status': '状态',
  'tokens.col.actions': '操作',
  'tokens.no_expiry': '永不过期',
  'tokens.status.active': '有效',
  'tokens.status.expired': '已过期',
  'tokens.status.revoked': '已撤销',
  'tokens.revoke': '撤销',
  'tokens.confirm_revoke': '确认撤销？',
  'tokens.revoked': '令牌“{name}”已撤销。',
  'tokens.empty': '您还没有创建令牌。',
  'tokens.load_more': '加载更多',
};

const en = {
  'app.name': 'medreach',
  'app.tagline': 'Omnichannel HCP engagement',
  'app.title': 'medreach · Omnichannel HCP engagement',
  'lang.label': 'Language',
  'top.logout': 'Sign out',
  'top.user': 'Signed in as',
  'nav.label': 'Main navigation',
  'nav.home': 'Home',
  'nav.users': 'Users',
  'nav.audit': 'Audit trail',
  'nav.tokens': 'API tokens',
  'module.home': 'Your overview and recent activity',
  'module.users': 'Create and manage accounts, roles and passwords',
  'module.audit': 'Search every recorded action and verify the audit chain',
  'module.tokens': 'Personal access tokens for scripts and integrations',
  'role.admin': 'Administrator',
  'role.manager': 'Manager',
  'role.field_rep': 'Field rep',
  'role.inside_rep': 'Inside rep',
  'role.msl': 'MSL',
  'role.marketing': 'Marketing',
  'role.compliance': 'Compliance',
  'role.analyst': 'Analyst',
  'noaccess.title': 'No access',
  'noaccess.text': 'Your role ({role}) may not see this page. Ask an administrator if you need it.',
  'noaccess.back': 'Back to home',
  'banner.close': 'Dismiss',
  'code.invalid_credentials': 'The login or the password is wrong.',
  'code.too_many_attempts': 'Too many failed sign-ins.',
  'code.csrf_required': 'This page is out of date; reload it and try again.',
  'code.unauthenticated': 'Please sign in first.',
  'code.invalid_token': 'The API token is invalid, expired or revoked.',
  'code.session_expired': 'Your session has ended. Please sign in again.',
  'code.forbidden': 'Your role may not do this.',
  'code.internal_error': 'Internal error; quote the request id to your administrator.',
  'code.unavailable': 'The service is unavailable for a moment; try again shortly.',
  'code.request_timeout': 'The request timed out; try again.',
  'code.too_large': 'What you sent is too large.',
  'error.network': 'Cannot reach the server. Check your connection and try again.',
  'error.retry_after': 'Try again in {s} s.',
  'error.session_expired': 'Your session has ended. Please sign in again.',
  'error.generic': 'The request failed (HTTP {status}).',
  'common.loading': 'Loading…',
  'common.optional': '(optional)',
  'common.save': 'Save',
  'common.cancel': 'Cancel',
  'common.never': 'Never',
  'pager.prev': 'Previous',
  'pager.next': 'Next',
  'pager.page': 'Page {n}',
  'login.title': 'Sign in',
  'login.subtitle': 'Use your company account',
  'login.login': 'Login',
  'login.password': 'Password',
  'login.submit': 'Sign in',
  'login.busy': 'Signing in…',
  'home.welcome': 'Welcome, {name}',
  'home.role': 'Role',
  'home.account': 'Login',
  'home.rep_id': 'Rep ID',
  'home.login_at': 'Signed in at',
  'home.modules': 'Your modules',
  'home.activity': 'Activity, last 14 days',
  'home.activity_empty': 'No activity in the last 14 days.',
  'home.chart_other': 'Other',
  'users.title': 'Users',
  'users.filter_role': 'Role',
  'users.all_roles': 'All roles',
  'users.q': 'Search',
  'users.q_placeholder': 'Login or name',
  'users.search': 'Search',
  'users.col.login': 'Login',
  'users.col.name': 'Name',
  'users.col.role': 'Role',
  'users.col.rep_id': 'Rep ID',
  'users.col.status': 'Status',
  'users.col.last_login': 'Last sign-in',
  'users.col.created': 'Created',
  'users.col.actions': 'Actions',
  'users.status.active': 'Active',
  'users.status.disabled': 'Disabled',
  'users.edit': 'Edit',
  'users.disable': 'Disable',
  'users.enable': 'Enable',
  'users.empty': 'No users match.',
  'users.add_title': 'Add user',
  'users.password': 'Initial password',
  'users.add_submit': 'Create user',
  'users.created': 'User {login} created.',
  'users.saved': 'User {login} saved.',
  'users.edit_title': 'Edit user {login}',
  'users.new_password': 'Reset password (leave empty to keep)',
  'audit.title': 'Audit trail',
  'audit.user': 'User',
  'audit.entity': 'Entity',
  'audit.action': 'Action',
  'audit.from': 'From',
  'audit.to': 'To',
  'audit.apply': 'Filter',
  'audit.reset': 'Reset',
  'audit.col.seq': 'Seq',
  'audit.col.ts': 'Time',
  'audit.col.user': 'User',
  'audit.col.role': 'Role',
  'audit.col.action': 'Action',
  'audit.col.entity': 'Entity',
  'audit.col.entity_id': 'Entity ID',
  'audit.col.status': 'Status',
  'audit.col.ip': 'IP',
  'audit.col.request_id': 'Request ID',
  'audit.load_more': 'Load more',
  'audit.count': '{n} records shown',
  'audit.empty': 'No records match.',
  'audit.verify': 'Verify chain',
  'audit.verifying': 'Verifying…',
  'audit.verify_ok': 'Chain OK: all {n} records verified.',
  'audit.verify_bad': 'Chain broken at seq {seq}: {reason}',
  'tokens.title': 'API tokens',
  'tokens.intro': 'Tokens let scripts and integrations call the API with an Authorization: Bearer header. A token has the same rights as you.',
  'tokens.name': 'Name',
  'tokens.ttl': 'Valid for (days)',
  'tokens.create': 'Create token',
  'tokens.once': 'Copy this token now: it is shown only once.',
  'tokens.copy': 'Copy',
  'tokens.copied': 'Copied',
  'tokens.done': 'I have saved it',
  'tokens.col.name': 'Name',
  'tokens.col.created': 'Created',
  'tokens.col.expires': 'Expires',
  'tokens.col.status': 'Status',
  'tokens.col.actions': 'Actions',
  'tokens.no_expiry': 'Never',
  'tokens.status.active': 'Active',
  'tokens.status.expired': 'Expired',
  'tokens.status.revoked': 'Revoked',
  'tokens.revoke': 'Revoke',
  'tokens.confirm_revoke': 'Confirm revoke?',
  'tokens.revoked': 'Token “{name}” revoked.',
  'tokens.empty': 'You have no tokens yet.',
  'tokens.load_more': 'Load more',
};

const DICTS = { zh, en };
const listeners = new Set();
let lang = readStoredLang();

function readStoredLang() {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    return v && DICTS[v] ? v : 'zh';
  } catch {
    return 'zh';
  }
}

export function getLang() {
  return lang;
}

function langInfo() {
  return LANGS.find((l) => l.code === lang);
}

/** The translation of key in the current language, with {name} placeholders
 *  filled from args. An arg given as {k: 'other.key'} is itself translated. */
export function t(key, args) {
  let s = DICTS[lang][key] ?? zh[key];
  if (s === undefined) {
    console.warn(`i18n: missing key ${key}`);
    return key;
  }
  if (args) {
    s = s.replace(/\{(\w+)\}/g, (m, name) => {
      const v = args[name];
      if (v === undefined || v === null) return m;
      return typeof v === 'object' && v.k ? t(v.k) : String(v);
    });
  }
  return s;
}

/** 1 when key has a translation (in either language). */
export function has(key) {
  return DICTS[lang][key] !== undefined || zh[key] !== undefined;
}

/** The translated name of a role code; unknown roles are shown as they are. */
export function roleName(role) {
  return DICTS[lang][`role.${role}`] ?? role;
}

/** Switches language, remembers it, re-translates the document and tells
 *  the listeners (charts and other things drawn outside the DOM). */
export function setLang(code) {
  if (!DICTS[code] || code === lang) return;
  lang = code;
  try {
    localStorage.setItem(STORAGE_KEY, code);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  apply(document);
  for (const fn of listeners) fn(code);
}

/** Registers fn to run after each language switch; returns an unsubscribe. */
export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Re-translates every tagged element under root (see dom.js for the tags). */
export function apply(root) {
  if (root === document) {
    document.documentElement.lang = langInfo().htmlLang;
    document.title = t('app.title');
  }
  for (const el of root.querySelectorAll('[data-i18n]')) {
    const args = el.dataset.i18nArgs ? JSON.parse(el.dataset.i18nArgs) : undefined;
    el.textContent = t(el.dataset.i18n, args);
  }
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const [attr, key] of Object.entries(JSON.parse(el.dataset.i18nAttr))) {
      el.setAttribute(attr, t(key));
    }
  }
  for (const el of root.querySelectorAll('[data-role-name]')) {
    el.textContent = roleName(el.dataset.roleName);
  }
  for (const el of root.querySelectorAll('time[data-ts]')) {
    el.textContent = formatTime(el.dateTime, el.dataset.ts);
  }
}

const TIME_STYLES = {
  minutes: { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false },
  seconds: {
    year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  },
};

/** An RFC 3339 timestamp shown in the browser's zone, formatted for the
 *  current language; style is 'minutes' or 'seconds'. */
export function formatTime(iso, style = 'minutes') {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return new Intl.DateTimeFormat(langInfo().locale, TIME_STYLES[style] || TIME_STYLES.minutes).format(d);
}

/** A calendar date "YYYY-MM-DD" as a short month/day label (no zone shift). */
export function formatDay(ymd) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd);
  if (!m) return ymd;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Intl.DateTimeFormat(langInfo().locale, { month: 'short', day: 'numeric' }).format(d);
}
