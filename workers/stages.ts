import type { OrderStatus } from '../lib/domain/order-status';
import type { Stage } from '../lib/domain/pipeline';
import { allocateStock, validationOf, type OrderLine } from '../lib/domain/stock';
import { execute, many, type Queryable } from '../lib/store/db';
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

/**
 * Each order's lines with the catalog's view of its products, in one query for the batch; with `lock`,
 * every product of the batch is locked at once, in id order, so two batches never deadlock. The lock
 * is FOR NO KEY UPDATE, what the stock UPDATE takes anyway: it excludes other reservations and
 * releases but not the FOR KEY SHARE that every new order's foreign-key check takes on its products
 * (FOR UPDATE made reservations and order inserts wait for each other). Rows are
 * found by primary key (= ANY): a join with a list of ids would be planned as a scan of the table.
 */
async function orderLines(tx: Queryable, orders: readonly LockedOrder[], lock: boolean) {
  const rows = await many<{
    orderId: string;
    productId: string;
    quantity: number;
    stock: number | null;
    merchantId: string | null;
    active: boolean | null;
  }>(
    tx,
    lock
      ? `WITH wanted AS (SELECT order_id, product_id, quantity FROM order_items WHERE order_id = ANY($1::uuid[])),
         locked AS (
           SELECT id, stock, merchant_id, active FROM products
            WHERE id = ANY(ARRAY(SELECT product_id FROM wanted)) ORDER BY id FOR NO KEY UPDATE)
         SELECT w.order_id AS "orderId", w.product_id AS "productId", w.quantity, l.stock,
                l.merchant_id AS "merchantId", l.active
           FROM wanted w JOIN locked l ON l.id = w.product_id`
      : `SELECT i.order_id AS "orderId", i.product_id AS "productId", i.quantity, p.stock,
                p.merchant_id AS "merchantId", p.active
           FROM order_items i LEFT JOIN products p ON p.id = i.product_id
          WHERE i.order_id = ANY($1::uuid[])`,
    [ids(orders)],
  );
  const merchantOf = new Map(orders.map((o) => [o.id, o.merchantId]));
  const lines = new Map<string, (OrderLine & { orderId: string })[]>(orders.map((o) => [o.id, []]));
  for (const { merchantId, active, ...row } of rows) {
    // A product the order's merchant does not offer (any more) has no stock for it.
    const offered = merchantId === merchantOf.get(row.orderId) && active === true;
    lines.get(row.orderId)!.push({ ...row, stock: offered ? row.stock : null });
  }
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
    const perProduct = new Map<string, number>();
    for (const l of taken) perProduct.set(l.productId, (perProduct.get(l.productId) ?? 0) + l.quantity);
    await execute(
      tx,
      `WITH taken AS (
         INSERT INTO stock_movements (order_id, product_id, kind, quantity)
         SELECT order_id, product_id, 'RESERVE', quantity
           FROM unnest($1::uuid[], $2::uuid[], $3::int[]) AS t(order_id, product_id, quantity))
       UPDATE products p SET stock = p.stock - t.quantity, updated_at = now()
         FROM unnest($4::uuid[], $5::int[]) AS t(id, quantity) WHERE p.id = ANY($4::uuid[]) AND p.id = t.id`,
      [
        taken.map((l) => l.orderId),
        taken.map((l) => l.productId),
        taken.map((l) => l.quantity),
        [...perProduct.keys()],
        [...perProduct.values()],
      ],
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
    await execute(
      tx,
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
