import { EVENT_TYPES, cloudEvent } from '../domain/events';
import type { OrderStatus } from '../domain/order-status';
import type { PricedItem } from '../domain/pricing';
import type { Cursor } from './cursor';
import { many, one, type Queryable } from './db';

export interface DeliveryAddress {
  street: string;
  number?: string;
  complement?: string;
  city: string;
  postalCode: string;
  country: string;
  notes?: string;
}

export interface OrderItemView {
  productId: string;
  quantity: number;
  unitPriceCents: number;
}

export interface OrderView {
  id: string;
  customerId: string;
  merchantId: string;
  status: OrderStatus;
  totalCents: number;
  items: OrderItemView[];
  deliveryAddress: DeliveryAddress;
  paymentMethod: string;
  failureReason: string | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  cursorCreatedAt: string;
}

export interface NewOrder {
  id: string;
  customerId: string;
  merchantId: string;
  items: PricedItem[];
  totalCents: number;
  deliveryAddress: DeliveryAddress;
  payment: { method: string; token?: string };
}

export const EVENT_SOURCE_API = '/orderflow/api';

/**
 * The order, its items, its first history row and its `order.created` outbox event, in one statement:
 * one round trip, and atomic, since a statement commits or fails as a whole.
 */
export async function insertOrder(db: Queryable, order: NewOrder): Promise<{ createdAt: Date }> {
  const event = cloudEvent(EVENT_TYPES.orderCreated, EVENT_SOURCE_API, order.id, {
    orderId: order.id,
    customerId: order.customerId,
    merchantId: order.merchantId,
    totalCents: order.totalCents,
    items: order.items,
  });
  const row = await one<{ createdAt: Date }>(
    db,
    `WITH o AS (
       INSERT INTO orders (id, customer_id, merchant_id, status, total_cents, delivery_address, payment_method,
                           payment_token, created_at, updated_at)
       VALUES ($1, $2, $3, 'PENDING', $4, $5, $6, $7, clock_timestamp(), clock_timestamp())
       RETURNING id, created_at
     ), i AS (
       INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents)
       SELECT $1, t.product_id, t.quantity, t.unit_price FROM unnest($8::uuid[], $9::int[], $10::int[])
         AS t(product_id, quantity, unit_price)
     ), h AS (
       INSERT INTO order_history (order_id, from_status, to_status) VALUES ($1, NULL, 'PENDING')
     ), e AS (
       INSERT INTO outbox (aggregate_id, event_type, payload) VALUES ($1, $11, $12)
     )
     SELECT created_at AS "createdAt" FROM o`,
    [
      order.id,
      order.customerId,
      order.merchantId,
      order.totalCents,
      JSON.stringify(order.deliveryAddress),
      order.payment.method,
      order.payment.token ?? null,
      order.items.map((i) => i.productId),
      order.items.map((i) => i.quantity),
      order.items.map((i) => i.unitPriceCents),
      event.type,
      JSON.stringify(event),
    ],
  );
  return row!;
}

const ORDER_VIEW = `o.id, o.customer_id AS "customerId", o.merchant_id AS "merchantId", o.status,
  o.total_cents::float8 AS "totalCents", o.delivery_address AS "deliveryAddress", o.payment_method AS "paymentMethod",
  o.failure_reason AS "failureReason", o.created_at AS "createdAt", o.updated_at AS "updatedAt",
  o.finished_at AS "finishedAt", o.created_at::text AS "cursorCreatedAt",
  (SELECT coalesce(json_agg(json_build_object('productId', i.product_id, 'quantity', i.quantity,
          'unitPriceCents', i.unit_price_cents) ORDER BY i.product_id), '[]')
     FROM order_items i WHERE i.order_id = o.id) AS items`;

/** The order if the viewer is its customer or owns its merchant; otherwise nothing (a 404, not a 403). */
export async function findOrderForViewer(db: Queryable, orderId: string, viewerId: string) {
  return one<OrderView>(
    db,
    `SELECT ${ORDER_VIEW} FROM orders o JOIN merchants m ON m.id = o.merchant_id
      WHERE o.id = $1 AND (o.customer_id = $2 OR m.owner_id = $2)`,
    [orderId, viewerId],
  );
}

export interface HistoryEntry {
  fromStatus: OrderStatus | null;
  toStatus: OrderStatus;
  reason: string | null;
  at: Date;
}

export async function orderHistory(db: Queryable, orderId: string): Promise<HistoryEntry[]> {
  return many<HistoryEntry>(
    db,
    `SELECT from_status AS "fromStatus", to_status AS "toStatus", reason, created_at AS at
       FROM order_history WHERE order_id = $1 ORDER BY id`,
    [orderId],
  );
}

/** Newest first; `before` is the cursor of the last row of the previous page. */
export async function listOrders(
  db: Queryable,
  owner: { customerId: string } | { merchantId: string },
  limit: number,
  before?: Cursor,
): Promise<OrderView[]> {
  const [column, id] =
    'customerId' in owner ? ['customer_id', owner.customerId] : ['merchant_id', owner.merchantId];
  return many<OrderView>(
    db,
    `SELECT ${ORDER_VIEW} FROM orders o
      WHERE o.${column} = $1 AND ($2::timestamptz IS NULL OR (o.created_at, o.id) < ($2::timestamptz, $3::uuid))
      ORDER BY o.created_at DESC, o.id DESC LIMIT $4`,
    [id, before?.createdAt ?? null, before?.id ?? null, limit + 1],
  );
}
