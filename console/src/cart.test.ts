import { describe, expect, it } from 'vitest';
import { addToCart, cartCount, cartTotal, emptyCart, orderItems, setQuantity } from './cart';

const store = { id: 'm1', name: 'Pizzaria' };
const margherita = { id: 'p1', name: 'Margherita', priceCents: 4490, stock: 3 };
const guarana = { id: 'p2', name: 'Guaraná', priceCents: 1290, stock: 100 };

describe('cart', () => {
  it('adds lines, sums quantities of one product and totals in cents', () => {
    let { cart } = addToCart(emptyCart(), store, margherita);
    ({ cart } = addToCart(cart, store, margherita));
    ({ cart } = addToCart(cart, store, guarana, 3));
    expect(cartCount(cart)).toBe(5);
    expect(cartTotal(cart)).toBe(2 * 4490 + 3 * 1290);
    expect(orderItems(cart)).toEqual([
      { productId: 'p1', quantity: 2 },
      { productId: 'p2', quantity: 3 },
    ]);
  });

  it('never asks for more than the stock, nor more than 100 of one product', () => {
    const { cart } = addToCart(emptyCart(), store, margherita, 10);
    expect(cart.lines[0]!.quantity).toBe(3);
    const big = addToCart(emptyCart(), store, { ...guarana, stock: 5000 }, 500).cart;
    expect(big.lines[0]!.quantity).toBe(100);
  });

  it('starts a new cart when a product of another store is added', () => {
    const first = addToCart(emptyCart(), store, margherita).cart;
    const { cart, replaced } = addToCart(first, { id: 'm2', name: 'Sushi' }, guarana);
    expect(replaced).toBe(true);
    expect(cart.merchantId).toBe('m2');
    expect(cart.lines.map((l) => l.productId)).toEqual(['p2']);
  });

  it('removes a line set to zero, and empties the cart with its last line', () => {
    let { cart } = addToCart(emptyCart(), store, margherita);
    ({ cart } = addToCart(cart, store, guarana));
    cart = setQuantity(cart, 'p1', 0);
    expect(cart.lines.map((l) => l.productId)).toEqual(['p2']);
    cart = setQuantity(cart, 'p2', 0);
    expect(cart).toEqual(emptyCart());
  });
});
