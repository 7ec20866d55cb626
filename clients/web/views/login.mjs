// Log in or register (names: 3-24 letters, digits, _ . -; passwords: 8 characters or more).
import { clear, describeError, h } from '../dom.mjs';

export function loginView(app, main) {
  let mode = 'login';
  const name = h('input', { id: 'name', name: 'name', autocomplete: 'username', required: true, maxLength: 24 });
  const password = h('input', {
    id: 'password', name: 'password', type: 'password', required: true, maxLength: 128,
    autocomplete: 'current-password',
  });
  const message = h('p.error', { id: 'login-error', role: 'alert' });
  const submit = h('button.primary', { id: 'login-submit', type: 'submit' });
  const tabs = h('div.tabs');

  function draw() {
    submit.textContent = mode === 'login' ? 'Log in' : 'Create account';
    password.autocomplete = mode === 'login' ? 'current-password' : 'new-password';
    clear(
      tabs,
      h('button', { id: 'tab-login', type: 'button', className: mode === 'login' ? 'active' : '', onclick: () => switchTo('login') }, 'Log in'),
      h('button', { id: 'tab-register', type: 'button', className: mode === 'register' ? 'active' : '', onclick: () => switchTo('register') }, 'Register'),
    );
  }

  function switchTo(next) {
    mode = next;
    message.textContent = '';
    draw();
  }

  async function onsubmit(event) {
    event.preventDefault();
    submit.disabled = true;
    message.textContent = '';
    try {
      if (mode === 'login') await app.client.login(name.value.trim(), password.value);
      else await app.client.register(name.value.trim(), password.value);
      location.hash = '#/lobby';
      app.route();
    } catch (error) {
      message.textContent = describeError(error);
    } finally {
      submit.disabled = false;
    }
  }

  draw();
  clear(
    main,
    h(
      'section.card-panel.login',
      {},
      h('h1', {}, 'Tablium'),
      tabs,
      h(
        'form',
        { id: 'login-form', onsubmit },
        h('label', {}, 'Name', name),
        h('label', {}, 'Password', password),
        submit,
        message,
      ),
    ),
  );
  name.focus();
  return () => {};
}
