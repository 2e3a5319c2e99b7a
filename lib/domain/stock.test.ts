import { allocateStock, validationOf, type OrderLine } from './stock';

const line = (productId: string, quantity: number, stock: number | null = 10): OrderLine => ({
  productId,
  quantity,
  stock,
});

describe('validationOf', () => {
  it.each([
    // each case: the order's lines, and the verdict
    ['no lines', [], { ok: false, reason: 'the order has no items' }],
    ['every product offered', [line('a', 1), line('b', 2)], { ok: true }],
    [
      'products gone, named in id order',
      [line('c', 1, null), line('a', 1), line('b', 1, null)],
      { ok: false, reason: 'no longer available: b, c' },
    ],
    ['zero stock is still offered (reserve decides)', [line('a', 5, 0)], { ok: true }],
  ])('%s', (_case, lines, verdict) => {
    expect(validationOf(lines)).toEqual(verdict);
  });
});

describe('allocateStock', () => {
  const order = (orderId: string, ...lines: [string, number][]) => ({
    orderId,
    lines: lines.map(([productId, quantity]) => ({ productId, quantity })),
  });

  it.each([
    // each case: stock before the batch, the orders in arrival order, and who gets stock
    ['one order that fits', { a: 3 }, [order('o1', ['a', 3])], { o1: true }],
    [
      'first come first served on the last units',
      { a: 3 },
      [order('o1', ['a', 2]), order('o2', ['a', 2])],
      { o1: true, o2: false },
    ],
    [
      'all lines or none: a short line leaves the other product for later orders',
      { a: 5, b: 1 },
      [order('o1', ['a', 4], ['b', 2]), order('o2', ['a', 5])],
      { o1: false, o2: true },
    ],
    [
      'a smaller later order still fits',
      { a: 3 },
      [order('o1', ['a', 4]), order('o2', ['a', 3])],
      { o1: false, o2: true },
    ],
    ['a product with no stock row has none', {}, [order('o1', ['x', 1])], { o1: false }],
    ['an order without lines takes nothing and passes', { a: 0 }, [order('o1')], { o1: true }],
  ])('%s', (_case, stock, orders, expected) => {
    const result = allocateStock(orders, new Map(Object.entries(stock)));
    expect(Object.fromEntries([...result].map(([id, a]) => [id, a.ok]))).toEqual(expected);
  });

  it('names the short products in id order and leaves the given stock untouched', () => {
    const stock = new Map([
      ['b', 0],
      ['a', 1],
      ['c', 9],
    ]);
    const result = allocateStock([order('o1', ['c', 1], ['b', 1], ['a', 2])], stock);
    expect(result.get('o1')).toEqual({ ok: false, short: ['a', 'b'] });
    expect(stock.get('a')).toBe(1);
  });

  it('never lets stock go below zero over many orders', () => {
    const orders = Array.from({ length: 50 }, (_, i) => order(`o${i}`, ['a', (i % 3) + 1], ['b', 1]));
    const result = allocateStock(
      orders,
      new Map([
        ['a', 40],
        ['b', 30],
      ]),
    );
    const taken = orders.filter((o) => result.get(o.orderId)!.ok);
    const sum = (product: string) =>
      taken
        .flatMap((o) => o.lines)
        .filter((l) => l.productId === product)
        .reduce((n, l) => n + l.quantity, 0);
    expect(sum('a')).toBeLessThanOrEqual(40);
    expect(sum('b')).toBeLessThanOrEqual(30);
    // orders need 1, 2, 3, 1, 2, 3... of a: the first 20 take 39, the 21st (3) does not fit, the
    // 22nd (1) takes the last unit, and every later one finds a empty
    expect(taken.map((o) => o.orderId)).toEqual([...Array.from({ length: 20 }, (_, i) => `o${i}`), 'o21']);
  });
});
