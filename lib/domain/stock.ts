/**
 * Stock decisions for a batch of orders, pure: the stage handlers load the lines and the stock under
 * lock, these decide, and the handlers write the result in one statement.
 */

/** An order's line with its product's stock; null stock means the merchant does not offer it (now). */
export interface OrderLine {
  productId: string;
  quantity: number;
  stock: number | null;
}

const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** An order can go ahead when it has items and every product is still the merchant's and active. */
export function validationOf(lines: readonly OrderLine[]): { ok: true } | { ok: false; reason: string } {
  if (lines.length === 0) return { ok: false, reason: 'the order has no items' };
  const unavailable = lines.filter((l) => l.stock === null).map((l) => l.productId);
  if (unavailable.length > 0)
    return { ok: false, reason: `no longer available: ${unavailable.sort(byId).join(', ')}` };
  return { ok: true };
}

export type Allocation = { ok: true } | { ok: false; short: string[] };

/**
 * Reserves all of an order's lines or none, order after order in the given sequence (first come,
 * first served), from `stock` (units per product before the batch). An order that does not fit takes
 * nothing, so a later, smaller order may still fit. `stock` is not modified.
 */
export function allocateStock(
  orders: readonly { orderId: string; lines: readonly Pick<OrderLine, 'productId' | 'quantity'>[] }[],
  stock: ReadonlyMap<string, number>,
): Map<string, Allocation> {
  const left = new Map(stock);
  const result = new Map<string, Allocation>();
  for (const { orderId, lines } of orders) {
    const short = lines.filter((l) => (left.get(l.productId) ?? 0) < l.quantity).map((l) => l.productId);
    if (short.length > 0) {
      result.set(orderId, { ok: false, short: short.sort(byId) });
      continue;
    }
    for (const l of lines) left.set(l.productId, left.get(l.productId)! - l.quantity);
    result.set(orderId, { ok: true });
  }
  return result;
}
