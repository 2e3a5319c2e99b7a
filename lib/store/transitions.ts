import { EVENT_TYPES, cloudEvent } from '../domain/events';
import { HOLDS_STOCK, isTerminal, type OrderStatus } from '../domain/order-status';
import { returning, type Queryable } from './db';

export interface Transition {
  orderId: string;
  /** The statuses the order may be in for this transition to apply. */
  from: readonly OrderStatus[];
  to: OrderStatus;
  reason?: string;
  /** CloudEvents `source` of the status_changed event. */
  source: string;
}

export interface AppliedTransition {
  fromStatus: OrderStatus;
  customerId: string;
  merchantId: string;
}

/**
 * A guarded status change: applies only if the order is still in one of `from` (so of two racing
 * writers exactly one wins), and records the history row and the `status_changed` outbox event in the
 * same transaction. Leaving a stock-holding status for a terminal one releases the reserved stock.
 * Returns undefined when the guard did not match. Must run inside a transaction.
 */
export async function applyTransition(tx: Queryable, t: Transition): Promise<AppliedTransition | undefined> {
  const event = cloudEvent(EVENT_TYPES.orderStatusChanged, t.source, t.orderId, {});
  const reason = t.reason ?? null;
  // One round trip: the guarded update, its history row and its event. Status-changing transactions
  // hold locks (stock rows in reserve), so every round trip saved shortens them.
  const [row] = await returning<AppliedTransition>(
    tx,
    `WITH old AS (SELECT id, status FROM orders WHERE id = $1 AND status = ANY($2::text[]) FOR UPDATE),
     upd AS (
       UPDATE orders o SET status = $3, updated_at = now(),
              finished_at = CASE WHEN $4 THEN now() ELSE o.finished_at END,
              failure_reason = coalesce($5, o.failure_reason)
         FROM old WHERE o.id = old.id
       RETURNING old.status AS from_status, o.customer_id, o.merchant_id),
     h AS (INSERT INTO order_history (order_id, from_status, to_status, reason) SELECT $1, from_status, $3, $6 FROM upd),
     e AS (
       INSERT INTO outbox (aggregate_id, event_type, payload)
       SELECT $1, $7, $8::jsonb || jsonb_build_object('data', jsonb_build_object(
         'orderId', $1::text, 'customerId', customer_id, 'merchantId', merchant_id,
         'from', from_status, 'to', $3::text, 'reason', $6::text))
       FROM upd)
     SELECT from_status AS "fromStatus", customer_id AS "customerId", merchant_id AS "merchantId" FROM upd`,
    [
      t.orderId,
      t.from,
      t.to,
      isTerminal(t.to),
      isTerminal(t.to) && t.to !== 'COMPLETED' ? reason : null,
      reason,
      event.type,
      JSON.stringify(event),
    ],
  );
  if (!row) return undefined;
  if (HOLDS_STOCK.has(row.fromStatus) && isTerminal(t.to) && t.to !== 'COMPLETED') {
    await releaseStock(tx, t.orderId);
  }
  return row;
}

/**
 * Gives back every unit reserved for the order, once: the RELEASE movement is unique per order and
 * product, so a second call changes nothing.
 */
export async function releaseStock(tx: Queryable, orderId: string): Promise<void> {
  await tx.query(
    `WITH released AS (
       INSERT INTO stock_movements (order_id, product_id, kind, quantity)
       SELECT order_id, product_id, 'RELEASE', quantity FROM stock_movements
        WHERE order_id = $1 AND kind = 'RESERVE'
       ON CONFLICT (order_id, product_id, kind) DO NOTHING
       RETURNING product_id, quantity
     )
     UPDATE products p SET stock = p.stock + r.quantity, updated_at = now()
       FROM released r WHERE p.id = r.product_id`,
    [orderId],
  );
}
