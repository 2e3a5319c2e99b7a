import { EVENT_TYPES, cloudEvent } from '../domain/events';
import { HOLDS_STOCK, isTerminal, type OrderStatus } from '../domain/order-status';
import { execute, returning, type Queryable } from './db';
import { notifyOutbox } from './outbox';

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
  orderId: string;
  fromStatus: OrderStatus;
  customerId: string;
  merchantId: string;
}

/** An order leaving a stock-holding status for a failure gives its reserved stock back. */
const releasesStock = (from: OrderStatus, to: OrderStatus) =>
  HOLDS_STOCK.has(from) && isTerminal(to) && to !== 'COMPLETED';

/**
 * Guarded status changes, any number in one statement: each applies only if its order is still in one
 * of its `from` statuses (so of two racing writers exactly one wins), and records its history row and
 * its `status_changed` outbox event in the same statement, and notifies the outbox's listeners at
 * commit. Orders leaving a stock-holding status for a failure release their reserved stock. Returns
 * the transitions that applied; the others' guards did not match. Must run inside a transaction; at
 * most one transition per order.
 */
export async function applyTransitions(
  tx: Queryable,
  transitions: readonly Transition[],
): Promise<AppliedTransition[]> {
  if (transitions.length === 0) return [];
  const input = transitions.map((t) => {
    // The envelope; its data is filled in by the statement from the order row.
    const envelope = cloudEvent(EVENT_TYPES.orderStatusChanged, t.source, t.orderId, {});
    return {
      order_id: t.orderId,
      from_statuses: t.from,
      to_status: t.to,
      terminal: isTerminal(t.to),
      reason: t.reason ?? null,
      failure_reason: isTerminal(t.to) && t.to !== 'COMPLETED' ? (t.reason ?? null) : null,
      envelope,
    };
  });
  // Status-changing transactions hold locks (stock rows in reserve), so this is one round trip for
  // the guarded updates, their history rows and their events, whatever the batch size.
  const applied = await returning<AppliedTransition>(
    tx,
    `WITH t AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS t(order_id uuid, from_statuses text[], to_status text,
         terminal boolean, reason text, failure_reason text, envelope jsonb)),
     old AS (
       -- by primary key (= ANY): a join with the record set would be planned as a scan of every order
       SELECT o.id, o.status FROM orders o JOIN t ON t.order_id = o.id
        WHERE o.id = ANY($2::uuid[]) AND o.status = ANY(t.from_statuses)
        ORDER BY o.id FOR UPDATE OF o),
     upd AS (
       UPDATE orders o SET status = t.to_status, updated_at = now(),
              finished_at = CASE WHEN t.terminal THEN now() ELSE o.finished_at END,
              failure_reason = coalesce(t.failure_reason, o.failure_reason)
         FROM old JOIN t ON t.order_id = old.id WHERE o.id = old.id
       RETURNING o.id, old.status AS from_status, o.customer_id, o.merchant_id, t.to_status, t.reason, t.envelope),
     h AS (
       INSERT INTO order_history (order_id, from_status, to_status, reason)
       SELECT id, from_status, to_status, reason FROM upd ORDER BY id),
     e AS (
       INSERT INTO outbox (aggregate_id, event_type, payload)
       SELECT id, envelope->>'type', envelope || jsonb_build_object('data', jsonb_build_object(
         'orderId', id::text, 'customerId', customer_id, 'merchantId', merchant_id,
         'from', from_status, 'to', to_status, 'reason', reason))
       FROM upd ORDER BY id)
     SELECT id AS "orderId", from_status AS "fromStatus", customer_id AS "customerId",
            merchant_id AS "merchantId" FROM upd`,
    [JSON.stringify(input), transitions.map((t) => t.orderId)],
  );
  if (applied.length > 0) await notifyOutbox(tx);
  const target = new Map(transitions.map((t) => [t.orderId, t.to]));
  await releaseStock(
    tx,
    applied.filter((a) => releasesStock(a.fromStatus, target.get(a.orderId)!)).map((a) => a.orderId),
  );
  return applied;
}

/** One guarded status change (see applyTransitions); undefined when its guard did not match. */
export async function applyTransition(tx: Queryable, t: Transition): Promise<AppliedTransition | undefined> {
  const [applied] = await applyTransitions(tx, [t]);
  return applied;
}

/**
 * Gives back every unit reserved for these orders, once: the RELEASE movement is unique per order and
 * product, so a second call changes nothing. Product rows are locked in id order and in the same mode
 * (FOR NO KEY UPDATE) as reserve locks them.
 */
export async function releaseStock(tx: Queryable, orderIds: readonly string[]): Promise<void> {
  if (orderIds.length === 0) return;
  await execute(
    tx,
    `WITH released AS (
       INSERT INTO stock_movements (order_id, product_id, kind, quantity)
       SELECT order_id, product_id, 'RELEASE', quantity FROM stock_movements
        WHERE order_id = ANY($1::uuid[]) AND kind = 'RESERVE'
       ON CONFLICT (order_id, product_id, kind) DO NOTHING
       RETURNING product_id, quantity),
     per_product AS (SELECT product_id, sum(quantity)::int AS quantity FROM released GROUP BY product_id),
     locked AS (
       SELECT id FROM products WHERE id = ANY(ARRAY(SELECT product_id FROM per_product)) ORDER BY id FOR NO KEY UPDATE)
     UPDATE products p SET stock = p.stock + r.quantity, updated_at = now()
       FROM per_product r
      WHERE p.id = ANY(ARRAY(SELECT id FROM locked)) AND p.id = r.product_id`,
    [orderIds],
  );
}
