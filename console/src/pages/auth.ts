import { api, logIn } from '../api';
import { field, h, selectField } from '../dom';
import type { PageContext } from '../page';
import { homeFor } from '../home';
import { errorSlot, link, onSubmit, pageTitle } from '../ui';

export function loginPage(ctx: PageContext): void {
  const error = errorSlot();
  const email = field('Email', { name: 'email', type: 'email', autocomplete: 'username', required: true });
  const password = field('Password', {
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const submit = h('button', { type: 'submit' }, 'Log in');
  const form = h(
    'form',
    { class: 'card narrow', 'aria-labelledby': 'login-title' },
    error.el,
    email.wrapper,
    password.wrapper,
    submit,
  );
  onSubmit(form, submit, error, 'Could not log in:', async () => {
    const me = await logIn(email.input.value.trim(), password.input.value);
    ctx.refreshShell();
    ctx.navigate(ctx.query.get('next') ?? homeFor(me), { replace: true });
  });
  const title = pageTitle('Log in');
  title.id = 'login-title';
  ctx.main.append(title, form, h('p', {}, 'New here? ', link('/signup', 'Create an account')));
}

export function signupPage(ctx: PageContext): void {
  const error = errorSlot();
  const name = field('Name', { name: 'name', autocomplete: 'name', required: true, maxlength: 100 });
  const email = field('Email', { name: 'email', type: 'email', autocomplete: 'email', required: true });
  const password = field(
    'Password',
    { name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 10 },
    'At least 10 characters.',
  );
  const role = selectField('Account type', 'role', [
    { value: 'customer', label: 'Customer: I order food' },
    { value: 'merchant', label: 'Merchant: I run a store' },
  ]);
  const submit = h('button', { type: 'submit' }, 'Create account');
  const form = h(
    'form',
    { class: 'card narrow', 'aria-labelledby': 'signup-title' },
    error.el,
    name.wrapper,
    email.wrapper,
    password.wrapper,
    role.wrapper,
    submit,
  );
  onSubmit(form, submit, error, 'Could not create the account:', async () => {
    await api('POST', '/v1/auth/register', {
      body: {
        name: name.input.value,
        email: email.input.value.trim(),
        password: password.input.value,
        role: role.select.value,
      },
    });
    const me = await logIn(email.input.value.trim(), password.input.value);
    ctx.refreshShell();
    ctx.navigate(homeFor(me), { replace: true });
  });
  const title = pageTitle('Create an account');
  title.id = 'signup-title';
  ctx.main.append(title, form, h('p', {}, 'Already have an account? ', link('/login', 'Log in')));
}
