import { emptyCart, type Cart } from './cart';

/**
 * The bearer token lives in sessionStorage: it dies with the tab, and the API's tokens are short-lived
 * (15 minutes by default), so a stale one only means logging in again.
 */

export type Role = 'customer' | 'merchant' | 'admin';

export interface Me {
  id: string;
  email: string;
  name: string;
  role: Role;
}

const TOKEN = 'orderflow.token';
const ME = 'orderflow.me';
const CART = 'orderflow.cart';

export const session = {
  token: () => sessionStorage.getItem(TOKEN),
  me(): Me | null {
    const text = sessionStorage.getItem(ME);
    return text ? (JSON.parse(text) as Me) : null;
  },
  save(token: string, me: Me): void {
    sessionStorage.setItem(TOKEN, token);
    sessionStorage.setItem(ME, JSON.stringify(me));
  },
  clear(): void {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(ME);
    sessionStorage.removeItem(CART);
  },
  cart(): Cart {
    const text = sessionStorage.getItem(CART);
    return text ? (JSON.parse(text) as Cart) : emptyCart();
  },
  saveCart(cart: Cart): void {
    sessionStorage.setItem(CART, JSON.stringify(cart));
  },
};
