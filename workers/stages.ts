import type { OrderStatus } from '../lib/domain/order-status';
import type { Stage } from '../lib/domain/pipeline';
import { allocateStock, validationOf, type OrderLine } from '../lib/domain/stock';
import { many, type Queryable } from '../lib/store/db';
import type { PaymentGateway } from './payment-gateway';

/** The order as a stage sees it: locked for the rest of the transaction. */
export interface LockedOrder {
  id: string;
  status: OrderStatus;
  merchantId: string;
  totalCents: number;
  paymentToken: string | null;
  createdAt: Date;
}

/** A batch of orders that are due for the stage, locked, in the order their tasks arrived. */
export interface StageBatch {
  tx: Queryable;
  orders: readonly LockedOrder[];
  /** The task's attempt number per order (the payment gateway's flaky test token reads it). */
  attempts: ReadonlyMap<string, number>;
  gateway: PaymentGateway;
}

/**
 * What a stage decided for one order: the status it moves to (and why, when it ends there), or an
 * attempt that failed and goes the retry path on its own, outside the batch.
 */
export type StageResult = { status: OrderStatus; reason?: string } | { error: unknown };

export type StageHandler = (batch: StageBatch) => Promise<Map<string, StageResult>>;

export const WORKER_SOURCE = '/orderflow/worker';

const ids = (orders: readonly LockedOrder[]) => orders.map((o) => o.id);

/** Each order's lines with the catalog's view of its products, in one query for the batch. */
async function orderLines(tx: Queryable, orders: readonly LockedOrder[], lock: boolean) {
  const rows = await many<{ orderId: string; productId: string; quantity: number; stock: number | null }>(
    tx,
    lock
      ? // Every product of the batch is locked at once, in id order, so two batches never deadlock.
        `WITH wanted AS (SELECT order_id, product_id, quantity FROM order_items WHERE order_id = ANY($1::uuid[])),
         locked AS (SELECT id, stock FROM products WHERE id IN (SELECT product_id FROM wanted) ORDER BY id FOR UPDATE)
         SELECT w.order_id AS "orderId", w.product_id AS "productId", w.quantity, l.stock
           FROM wanted w JOIN locked l ON l.id = w.product_id`
      : // stock is null where the product is not the merchant's, or no longer active
        `SELECT i.order_id AS "orderId", i.product_id AS "productId", i.quantity, p.stock
           FROM order_items i JOIN unnest($1::uuid[], $2::uuid[]) AS o(id, merchant_id) ON o.id = i.order_id
           LEFT JOIN products p ON p.id = i.product_id AND p.merchant_id = o.merchant_id AND p.active`,
    lock ? [ids(orders)] : [ids(orders), orders.map((o) => o.merchantId)],
  );
  const lines = new Map<string, (OrderLine & { orderId: string })[]>(orders.map((o) => [o.id, []]));
  for (const row of rows) lines.get(row.orderId)!.push(row);
  return lines;
}

/** The order still matches the catalog: the merchant exists, every product is theirs and active. */
const validate: StageHandler = async ({ tx, orders }) => {
  const lines = await orderLines(tx, orders, false);
  return new Map(
    orders.map((o) => {
      const verdict = validationOf(lines.get(o.id)!);
      return [o.id, verdict.ok ? { status: 'VALIDATED' } : { status: 'REJECTED', reason: verdict.reason }];
    }),
  );
};

/**
 * Every item's stock is taken at once or none is, per order, first come first served within the
 * batch; stock never goes below zero. A popular product's row is the hottest lock in the system, so
 * the whole batch takes three round trips under it: lock and read, then one write for every movement
 * and product (the transitions follow in the runner's statement).
 */
const reserve: StageHandler = async ({ tx, orders }) => {
  const lines = await orderLines(tx, orders, true);
  const allocation = allocateStock(
    orders.map((o) => ({ orderId: o.id, lines: lines.get(o.id)! })),
    new Map([...lines.values()].flat().map((l) => [l.productId, l.stock ?? 0])),
  );
  const taken = orders.flatMap((o) => (allocation.get(o.id)!.ok ? lines.get(o.id)! : []));
  if (taken.length > 0) {
    await tx.query(
      `WITH taken AS (
         INSERT INTO stock_movements (order_id, product_id, kind, quantity)
         SELECT order_id, product_id, 'RESERVE', quantity
           FROM unnest($1::uuid[], $2::uuid[], $3::int[]) AS t(order_id, product_id, quantity)
         RETURNING product_id, quantity),
       per_product AS (SELECT product_id, sum(quantity)::int AS quantity FROM taken GROUP BY product_id)
       UPDATE products p SET stock = p.stock - t.quantity, updated_at = now()
         FROM per_product t WHERE p.id = t.product_id`,
      [taken.map((l) => l.orderId), taken.map((l) => l.productId), taken.map((l) => l.quantity)],
    );
  }
  return new Map(
    orders.map((o) => {
      const result = allocation.get(o.id)!;
      return [
        o.id,
        result.ok
          ? { status: 'RESERVED' }
          : { status: 'REJECTED', reason: `out of stock: ${result.short.join(', ')}` },
      ];
    }),
  );
};

/**
 * Charges through the gateway with each order's idempotency key, all at once; one payment row per
 * order at most. Runs under the orders' locks, so a customer's cancel waits for the charge and then
 * finds the order PAID. A charge that fails transiently is that order's failed attempt alone.
 */
const pay: StageHandler = async ({ tx, orders, attempts, gateway }) => {
  const charges = await Promise.allSettled(
    orders.map((o) =>
      gateway.charge({
        idempotencyKey: `pay:${o.id}`,
        amountCents: o.totalCents,
        token: o.paymentToken,
        attempt: attempts.get(o.id)!,
      }),
    ),
  );
  const charged = orders.flatMap((o, i) => {
    const charge = charges[i]!;
    return charge.status === 'fulfilled' ? [{ order: o, result: charge.value }] : [];
  });
  if (charged.length > 0) {
    await tx.query(
      `INSERT INTO payments (id, order_id, idempotency_key, amount_cents, status, attempts)
       SELECT gen_random_uuid(), order_id, 'pay:' || order_id, amount_cents, status, attempts
         FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::int[]) AS c(order_id, amount_cents, status, attempts)`,
      [
        charged.map((c) => c.order.id),
        charged.map((c) => c.order.totalCents),
        charged.map((c) => c.result.status),
        charged.map((c) => attempts.get(c.order.id)!),
      ],
    );
  }
  return new Map(
    orders.map((o, i): [string, StageResult] => {
      const charge = charges[i]!;
      if (charge.status === 'rejected') return [o.id, { error: charge.reason }];
      if (charge.value.status === 'DECLINED')
        return [o.id, { status: 'FAILED', reason: `payment declined: ${charge.value.reason}` }];
      return [o.id, { status: 'PAID' }];
    }),
  );
};

const complete: StageHandler = async ({ orders }) =>
  new Map(orders.map((o) => [o.id, { status: 'COMPLETED' }]));

export const STAGE_HANDLERS: Record<Stage, StageHandler> = { validate, reserve, pay, complete };
