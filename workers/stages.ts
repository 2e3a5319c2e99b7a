import type { OrderStatus } from '../lib/domain/order-status';
import { PIPELINE, type Stage } from '../lib/domain/pipeline';
import { one, type Queryable } from '../lib/store/db';
import { applyTransition } from '../lib/store/transitions';
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

export interface StageContext {
  tx: Queryable;
  order: LockedOrder;
  attempt: number;
  gateway: PaymentGateway;
}

/** What a stage did: moved the order on, or ended it. */
export type StageResult = { status: OrderStatus; reason?: string };

export const WORKER_SOURCE = '/orderflow/worker';

async function transition(
  ctx: StageContext,
  stage: Stage,
  to: OrderStatus,
  reason?: string,
): Promise<StageResult> {
  const applied = await applyTransition(ctx.tx, {
    orderId: ctx.order.id,
    from: [PIPELINE[stage].from],
    to,
    reason,
    source: WORKER_SOURCE,
  });
  // The row is locked and its status checked, so the guard cannot miss here.
  if (!applied) throw new Error(`order ${ctx.order.id} left ${PIPELINE[stage].from} under a lock`);
  return { status: to, reason };
}

/** The order still matches the catalog: the merchant exists, every product is theirs and active. */
async function validate(ctx: StageContext): Promise<StageResult> {
  const check = await one<{ items: number; unavailable: string[] }>(
    ctx.tx,
    `SELECT (SELECT count(*) FROM order_items WHERE order_id = $1)::int AS items,
            coalesce((SELECT array_agg(i.product_id ORDER BY i.product_id) FROM order_items i
                        LEFT JOIN products p ON p.id = i.product_id AND p.merchant_id = $2 AND p.active
                       WHERE i.order_id = $1 AND p.id IS NULL), '{}') AS unavailable`,
    [ctx.order.id, ctx.order.merchantId],
  );
  if (!check?.items) return transition(ctx, 'validate', 'REJECTED', 'the order has no items');
  if (check.unavailable.length > 0) {
    return transition(ctx, 'validate', 'REJECTED', `no longer available: ${check.unavailable.join(', ')}`);
  }
  return transition(ctx, 'validate', 'VALIDATED');
}

/**
 * Every item's stock is taken at once or none is, in one statement: the product rows are locked in id
 * order (concurrent reservations never deadlock), checked, and decremented only if all suffice, so
 * stock never goes below zero. A popular product's row is the hottest lock in the system, so this
 * transaction is kept to two round trips.
 */
async function reserve(ctx: StageContext): Promise<StageResult> {
  const result = await one<{ short: string[] }>(
    ctx.tx,
    `WITH locked AS (
       SELECT p.id, p.stock, i.quantity FROM order_items i JOIN products p ON p.id = i.product_id
        WHERE i.order_id = $1 ORDER BY p.id FOR UPDATE OF p),
     short AS (SELECT coalesce(array_agg(id ORDER BY id) FILTER (WHERE stock < quantity), '{}') AS ids FROM locked),
     taken AS (
       INSERT INTO stock_movements (order_id, product_id, kind, quantity)
       SELECT $1, l.id, 'RESERVE', l.quantity FROM locked l, short WHERE cardinality(short.ids) = 0
       RETURNING product_id, quantity),
     updated AS (
       UPDATE products p SET stock = p.stock - t.quantity, updated_at = now() FROM taken t WHERE p.id = t.product_id
       RETURNING p.id)
     SELECT short.ids AS short, (SELECT count(*) FROM updated) AS n FROM short`,
    [ctx.order.id],
  );
  if (result && result.short.length > 0) {
    return transition(ctx, 'reserve', 'REJECTED', `out of stock: ${result.short.join(', ')}`);
  }
  return transition(ctx, 'reserve', 'RESERVED');
}

/**
 * Charges through the gateway with the order's idempotency key; one payment row per order at most.
 * Runs under the order's lock, so a customer's cancel waits for the charge and then finds it PAID.
 */
async function pay(ctx: StageContext): Promise<StageResult> {
  const key = `pay:${ctx.order.id}`;
  const result = await ctx.gateway.charge({
    idempotencyKey: key,
    amountCents: ctx.order.totalCents,
    token: ctx.order.paymentToken,
    attempt: ctx.attempt,
  });
  await ctx.tx.query(
    `INSERT INTO payments (id, order_id, idempotency_key, amount_cents, status, attempts)
     VALUES (gen_random_uuid(), $1, $2, $3, $4, $5)`,
    [ctx.order.id, key, ctx.order.totalCents, result.status, ctx.attempt],
  );
  if (result.status === 'DECLINED')
    return transition(ctx, 'pay', 'FAILED', `payment declined: ${result.reason}`);
  return transition(ctx, 'pay', 'PAID');
}

async function complete(ctx: StageContext): Promise<StageResult> {
  return transition(ctx, 'complete', 'COMPLETED');
}

export const STAGE_HANDLERS: Record<Stage, (ctx: StageContext) => Promise<StageResult>> = {
  validate,
  reserve,
  pay,
  complete,
};
