// The sign-in page: login and password, the language switch, and the
// server's error (wrong password, too many attempts…) inside the form.

import { api, setCsrfToken } from '../api.js';
import { h, tr } from '../dom.js';
import { t } from '../i18n.js';
import { describeError } from '../banner.js';
import { field, langSwitch } from '../widgets.js';

function setLabel(el, key) {
  el.dataset.i18n = key;
  el.textContent = t(key);
}

/** ctx: {noticeKey (a message to show first, e.g. session ended), onLoggedIn()}. */
export function render(ctx) {
  const alert = h('p', { class: 'form-error', role: 'alert', id: 'login-error', hidden: !ctx.noticeKey });
  if (ctx.noticeKey) alert.append(tr(ctx.noticeKey));
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', i18n: 'login.submit' });
  const form = h('form', { class: 'login-form', id: 'login-form', novalidate: true },
    field('login.login', h('input', {
      name: 'login', id: 'login-name', autocomplete: 'username', required: true,
      autocapitalize: 'none', spellcheck: 'false',
    })),
    field('login.password', h('input', {
      name: 'password', id: 'login-password', type: 'password', autocomplete: 'current-password', required: true,
    })),
    alert,
    submit);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const login = form.elements.login.value.trim();
    const password = form.elements.password.value;
    if (!login || !password) {
      (login ? form.elements.password : form.elements.login).focus();
      return;
    }
    submit.disabled = true;
    setLabel(submit, 'login.busy');
    try {
      const res = await api.post('/auth/login', { login, password }, { quiet: true, allow401: true });
      setCsrfToken(res && res.csrf_token);
      await ctx.onLoggedIn();
    } catch (err) {
      describeError(alert, err);
      alert.hidden = false;
      form.elements.password.select();
    } finally {
      submit.disabled = false;
      setLabel(submit, 'login.submit');
    }
  });

  setTimeout(() => form.elements.login.focus(), 0);
  return h('div', { class: 'login-page' },
    h('section', { class: 'login-card card' },
      h('div', { class: 'login-head' },
        h('div', { class: 'brand brand-large' },
          h('span', { class: 'brand-name', i18n: 'app.name' }),
          h('span', { class: 'brand-tagline', i18n: 'app.tagline' })),
        langSwitch()),
      h('h1', { i18n: 'login.title' }),
      h('p', { class: 'muted', i18n: 'login.subtitle' }),
      form));
}
