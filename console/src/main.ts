import './styles.css';
import { whenUnauthorized } from './api';
import { cartCount } from './cart';
import { fill, h } from './dom';
import { homeFor } from './home';
import type { Page, PageContext } from './page';
import { loginPage, signupPage } from './pages/auth';
import { merchantHomePage, merchantStorePage } from './pages/merchant';
import { opsPage } from './pages/ops';
import { orderHistoryPage, orderPage } from './pages/orders';
import { cartPage, storePage, storesPage } from './pages/shop';
import { matchRoute, startRouter, type Route } from './router';
import { session, type Me } from './session';
import { errorBox, link, pageTitle } from './ui';

interface Screen {
  page: Page;
  /** Pages anyone may open; every other one asks to log in first. */
  public?: boolean;
}

const routes: Route<Screen>[] = [
  { pattern: '/login', value: { page: loginPage, public: true } },
  { pattern: '/signup', value: { page: signupPage, public: true } },
  { pattern: '/stores', value: { page: storesPage } },
  { pattern: '/stores/:id', value: { page: storePage } },
  { pattern: '/cart', value: { page: cartPage } },
  { pattern: '/orders', value: { page: orderHistoryPage } },
  { pattern: '/orders/:id', value: { page: orderPage } },
  { pattern: '/merchant', value: { page: merchantHomePage } },
  { pattern: '/merchant/:id', value: { page: merchantStorePage } },
  // Any account may open it: the API decides, and the page says what it answered.
  { pattern: '/ops', value: { page: opsPage } },
];

const main = document.getElementById('main')!;
const nav = document.getElementById('nav')!;
let leave = new AbortController();

function navLinks(me: Me | null): [string, string][] {
  if (!me)
    return [
      ['/login', 'Log in'],
      ['/signup', 'Sign up'],
    ];
  const count = cartCount(session.cart());
  const byRole: Record<Me['role'], [string, string][]> = {
    customer: [
      ['/stores', 'Stores'],
      ['/cart', `Cart (${count})`],
      ['/orders', 'Orders'],
    ],
    merchant: [
      ['/merchant', 'My stores'],
      ['/stores', 'Browse'],
    ],
    admin: [
      ['/ops', 'Operations'],
      ['/stores', 'Stores'],
    ],
  };
  return byRole[me.role] ?? [];
}

function drawShell(): void {
  const me = session.me();
  const here = location.pathname;
  const logout = h('button', { type: 'button', class: 'link-button' }, 'Log out');
  logout.addEventListener('click', () => {
    session.clear();
    navigate('/login');
  });
  fill(
    nav,
    h(
      'ul',
      {},
      ...navLinks(me).map(([href, text]) =>
        h(
          'li',
          {},
          link(href, text, here === href || here.startsWith(`${href}/`) ? { 'aria-current': 'page' } : {}),
        ),
      ),
      me ? h('li', { class: 'who' }, h('span', { class: 'muted' }, `${me.name} (${me.role})`), logout) : null,
    ),
  );
}

function render(): void {
  leave.abort();
  leave = new AbortController();
  const me = session.me();
  if (location.pathname === '/') return navigate(homeFor(me), { replace: true });
  const match = matchRoute(routes, location.pathname);
  drawShell();
  fill(main);
  if (!match) {
    main.append(
      pageTitle('Page not found'),
      h('p', {}, 'There is no such page. ', link('/', 'Go to the start')),
    );
    return;
  }
  if (!match.value.public && !me) {
    return navigate(`/login?next=${encodeURIComponent(location.pathname)}`, { replace: true });
  }
  const ctx: PageContext = {
    main,
    params: match.params,
    query: new URLSearchParams(location.search),
    signal: leave.signal,
    me,
    navigate,
    refreshShell: drawShell,
  };
  Promise.resolve(match.value.page(ctx))
    .then(() => main.querySelector<HTMLElement>('h1')?.focus({ preventScroll: false }))
    .catch((err: unknown) => {
      if (!leave.signal.aborted) main.append(errorBox(err));
    });
  // Focus the heading at once too, so keyboard users start at the page, not at the old link.
  main.querySelector<HTMLElement>('h1')?.focus();
}

const navigate = startRouter(render);

whenUnauthorized(() => {
  session.clear();
  navigate(`/login?next=${encodeURIComponent(location.pathname)}`, { replace: true });
});

render();
