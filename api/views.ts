import type { Merchant, Product } from '../lib/store/catalog';
import { page } from '../lib/store/cursor';
import type { OrderView } from '../lib/store/orders';
import type { User } from '../lib/store/users';

/** Row -> response body: only the fields a client may see, timestamps as ISO strings. */

export const toUserView = (u: User) => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  createdAt: u.createdAt.toISOString(),
});

export const toMerchantView = (m: Merchant) => ({
  id: m.id,
  ownerId: m.ownerId,
  name: m.name,
  createdAt: m.createdAt.toISOString(),
});

export const toProductView = (p: Product) => ({
  id: p.id,
  merchantId: p.merchantId,
  name: p.name,
  description: p.description,
  priceCents: p.priceCents,
  stock: p.stock,
  active: p.active,
  createdAt: p.createdAt.toISOString(),
  updatedAt: p.updatedAt.toISOString(),
});

export const toOrderView = (o: OrderView) => ({
  id: o.id,
  status: o.status,
  customerId: o.customerId,
  merchantId: o.merchantId,
  totalCents: o.totalCents,
  items: o.items,
  deliveryAddress: o.deliveryAddress,
  payment: { method: o.paymentMethod },
  failureReason: o.failureReason,
  createdAt: o.createdAt.toISOString(),
  updatedAt: o.updatedAt.toISOString(),
  finishedAt: o.finishedAt ? o.finishedAt.toISOString() : null,
});

/** A page of rows as the API returns it: the items in their view, and the cursor of the next page. */
export function pageOf<Row extends { cursorCreatedAt: string; id: string }, View>(
  rows: Row[],
  limit: number,
  view: (row: Row) => View,
): { items: View[]; nextCursor: string | null } {
  const { items, nextCursor } = page(rows, limit);
  return { items: items.map(view), nextCursor };
}
