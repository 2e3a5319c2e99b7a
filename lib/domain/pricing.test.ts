import { priceOrder, type CatalogProduct } from './pricing';

const M = 'merchant-1';
const catalog: CatalogProduct[] = [
  { id: 'p1', merchantId: M, priceCents: 1250, active: true },
  { id: 'p2', merchantId: M, priceCents: 399, active: true },
  { id: 'off', merchantId: M, priceCents: 100, active: false },
  { id: 'other', merchantId: 'merchant-2', priceCents: 1, active: true },
];

describe('priceOrder', () => {
  it('takes unit prices from the catalog and sums quantities', () => {
    expect(
      priceOrder(
        M,
        [
          { productId: 'p1', quantity: 2 },
          { productId: 'p2', quantity: 3 },
        ],
        catalog,
      ),
    ).toEqual({
      ok: true,
      totalCents: 3697,
      items: [
        { productId: 'p1', quantity: 2, unitPriceCents: 1250 },
        { productId: 'p2', quantity: 3, unitPriceCents: 399 },
      ],
    });
  });

  it.each([
    // item list, index of the bad line, reason
    [[{ productId: 'missing', quantity: 1 }], 0, 'not sold by this merchant'],
    [[{ productId: 'other', quantity: 1 }], 0, 'not sold by this merchant'],
    [
      [
        { productId: 'p1', quantity: 1 },
        { productId: 'off', quantity: 1 },
      ],
      1,
      'not available',
    ],
    [
      [
        { productId: 'p1', quantity: 1 },
        { productId: 'p1', quantity: 1 },
      ],
      1,
      'listed more than once',
    ],
  ])('rejects %j at line %d: %s', (items, index, reason) => {
    const result = priceOrder(M, items, catalog);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems).toEqual([expect.objectContaining({ index, reason })]);
  });
});
