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

/** An Idempotency-Key claimed by the same statement that writes the order; see `insertOrder`. */
export interface KeyClaim {
  userId: string;
  key: string;
  requestHash: string;
  /** The 202 to replay; its `createdAt` and `updatedAt` are filled in with the order's own time. */
  response: { status: number; body: unknown; headers: Record<string, string> };
}

export type OrderInsert =
  | { state: 'inserted'; createdAt: string }
  /** Another request holds the key's lock: it is still in flight. */
  | { state: 'key-in-flight' }
  /** The key was used before; its stored response decides what to answer. */
  | { state: 'key-used' };

/**
 * The order, its items, its first history row and its `order.created` outbox event, in one statement:
 * one round trip, and atomic, since a statement commits or fails as a whole. With a key claim, the same
 * statement takes the key's transaction-scoped advisory lock (a concurrent duplicate is told apart
 * from a finished one, and nothing stays locked if the process dies) and stores the response to replay;
 * the order is written only if the key was new. The time is PostgreSQL's, to the millisecond, so the
 * stored response and the order row agree.
 */
export async function insertOrder(db: Queryable, order: NewOrder, claim?: KeyClaim): Promise<OrderInsert> {
  const event = cloudEvent(EVENT_TYPES.orderCreated, EVENT_SOURCE_API, order.id, {
    orderId: order.id,
    customerId: order.customerId,
    merchantId: order.merchantId,
    totalCents: order.totalCents,
    items: order.items,
  });
  const params: unknown[] = [
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
  ];
  const gate = claim
    ? `lock AS (
         SELECT pg_try_advisory_xact_lock(hashtextextended($13::text || ':' || $14::text, 0)) AS held
       ), k AS (
         INSERT INTO idempotency_keys (user_id, key, request_hash, response_status, response_body, response_headers, completed_at)
         SELECT $13::uuid, $14::text, $15::text, $16::int, $17::jsonb || jsonb_build_object('createdAt', t.iso, 'updatedAt', t.iso), $18::jsonb, now()
           FROM t, lock WHERE lock.held
         ON CONFLICT (user_id, key) DO NOTHING
         RETURNING 1
       ), go AS (SELECT EXISTS (SELECT 1 FROM k) AS open, (SELECT held FROM lock) AS held)`
    : `go AS (SELECT true AS open, true AS held)`;
  if (claim)
    params.push(
      claim.userId,
      claim.key,
      claim.requestHash,
      claim.response.status,
      JSON.stringify(claim.response.body),
      JSON.stringify(claim.response.headers),
    );
  const row = await one<{ open: boolean; held: boolean; createdAt: string }>(
    db,
    `WITH t AS (
       SELECT ts, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS iso
         FROM (SELECT date_trunc('milliseconds', clock_timestamp()) AS ts) now
     ), ${gate}, o AS (
       INSERT INTO orders (id, customer_id, merchant_id, status, total_cents, delivery_address, payment_method,
                           payment_token, created_at, updated_at)
       SELECT $1, $2, $3, 'PENDING', $4, $5, $6, $7, t.ts, t.ts FROM t, go WHERE go.open
     ), i AS (
       INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents)
       SELECT $1, x.product_id, x.quantity, x.unit_price FROM unnest($8::uuid[], $9::int[], $10::int[])
         AS x(product_id, quantity, unit_price), go WHERE go.open
     ), h AS (
       INSERT INTO order_history (order_id, from_status, to_status) SELECT $1, NULL, 'PENDING' FROM go WHERE go.open
     ), e AS (
       INSERT INTO outbox (aggregate_id, event_type, payload) SELECT $1, $11, $12 FROM go WHERE go.open
     )
     SELECT go.open, go.held, t.iso AS "createdAt" FROM t, go`,
    params,
  );
  if (row!.open) return { state: 'inserted', createdAt: row!.createdAt };
  return row!.held ? { state: 'key-used' } : { state: 'key-in-flight' };
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
