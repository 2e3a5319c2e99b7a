import { describe, expect, it } from 'vitest';
import { matchRoute } from './router';

const routes = [
  { pattern: '/', value: 'home' },
  { pattern: '/orders', value: 'orders' },
  { pattern: '/orders/:id', value: 'order' },
  { pattern: '/merchant/:id', value: 'store' },
];

describe('matchRoute', () => {
  it.each([
    ['/', 'home', {}],
    ['/orders/', 'orders', {}],
    ['/orders/abc', 'order', { id: 'abc' }],
    ['/merchant/a%20b', 'store', { id: 'a b' }],
  ])('%s -> %s', (path, value, params) => {
    expect(matchRoute(routes, path)).toEqual({ value, params });
  });

  it('matches nothing for an unknown path', () => {
    expect(matchRoute(routes, '/orders/abc/extra')).toBeUndefined();
  });
});
