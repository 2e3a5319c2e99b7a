import type { DataSource } from 'typeorm';
import type { Disposition } from '../lib/adapters/rabbitmq/client';
import { isTerminal, type OrderStatus } from '../lib/domain/order-status';
import { nextTask, notYetDue, PIPELINE, type Stage, type StageTask } from '../lib/domain/pipeline';
import { many, type Queryable } from '../lib/store/db';
import { applyTransition, applyTransitions } from '../lib/store/transitions';
import type { PaymentGateway } from './payment-gateway';
import { STAGE_HANDLERS, WORKER_SOURCE, type LockedOrder } from './stages';

/**
 * What handling a task came to. `advanced` means the next stage's task must be published (again, if
 * this was a duplicate whose first run crashed before publishing); `failed-attempt` means this
 * attempt failed on its own (a flaky gateway) and goes the retry path.
 */
export type RunOutcome =
  | { kind: 'advanced'; status: OrderStatus; duplicate: boolean }
  | { kind: 'finished'; status: OrderStatus; duplicate: boolean; createdAt?: Date; reason?: string }
  | { kind: 'skipped'; status: string; duplicate: boolean }
  /** A replayed task that arrived before its stage was due: the real one follows the previous stage. */
  | { kind: 'premature'; status: OrderStatus }
  | { kind: 'missing' }
  | { kind: 'failed-attempt'; error: unknown };

const SKIPPED = 'SKIPPED:';

function outcomeOf(stage: Stage, recorded: string, duplicate: boolean): RunOutcome {
  if (recorded.startsWith(SKIPPED))
    return { kind: 'skipped', status: recorded.slice(SKIPPED.length), duplicate };
  const status = recorded as OrderStatus;
  if (status === PIPELINE[stage].to && PIPELINE[stage].next) return { kind: 'advanced', status, duplicate };
  return { kind: 'finished', status, duplicate };
}

/**
 * What the queue does with a task once its outcome is known, the one mapping for every stage: an
 * advanced order's next task is published (confirmed) before the delivery is acked; an order that does
 * not exist is dead-lettered; everything else (finished, skipped, a duplicate, a premature replay) is
 * acked. A failed attempt is settled by the retry path, not here.
 */
export function settlementOf(
  task: StageTask,
  outcome: Exclude<RunOutcome, { kind: 'failed-attempt' }>,
): { publish?: StageTask; disposition: Disposition } {
  if (outcome.kind === 'missing')
    return { disposition: { action: 'dead-letter', reason: 'the order does not exist' } };
  if (outcome.kind === 'advanced') return { publish: nextTask(task), disposition: { action: 'ack' } };
  return { disposition: { action: 'ack' } };
}

type Locked = LockedOrder & { recorded: string | null };

/**
 * Locks the orders in id order (two batches never deadlock on them) and reads, in the same round
 * trip, what the inbox says about this stage for each.
 */
async function lockOrders(tx: Queryable, stage: Stage, orderIds: readonly string[]) {
  const rows = await many<Locked>(
    tx,
    `SELECT o.id, o.status, o.merchant_id AS "merchantId", o.total_cents::float8 AS "totalCents",
            o.payment_token AS "paymentToken", o.created_at AS "createdAt", i.outcome AS recorded
       FROM orders o LEFT JOIN inbox i ON i.order_id = o.id AND i.stage = $2
      WHERE o.id = ANY($1::uuid[]) ORDER BY o.id FOR UPDATE OF o`,
    [orderIds, stage],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * The inbox rows are the proof an (order, stage) was handled; returns the orders whose row a
 * concurrent duplicate had already written.
 */
async function recordInbox(tx: Queryable, stage: Stage, entries: readonly [string, string][]) {
  if (entries.length === 0) return new Set<string>();
  const written = await many<{ orderId: string }>(
    tx,
    `INSERT INTO inbox (order_id, stage, outcome)
     SELECT order_id, $2, outcome FROM unnest($1::uuid[], $3::text[]) AS e(order_id, outcome)
     ON CONFLICT DO NOTHING RETURNING order_id AS "orderId"`,
    [entries.map(([id]) => id), stage, entries.map(([, outcome]) => outcome)],
  );
  const done = new Set(written.map((w) => w.orderId));
  return new Set(entries.map(([id]) => id).filter((id) => !done.has(id)));
}

/** Recorded outcomes by order; in a transaction this statement sees rows committed since it began. */
async function recordedOutcomes(db: Queryable, stage: Stage, orderIds: readonly string[]) {
  const rows = await many<{ orderId: string; outcome: string }>(
    db,
    `SELECT order_id AS "orderId", outcome FROM inbox WHERE order_id = ANY($1::uuid[]) AND stage = $2`,
    [orderIds, stage],
  );
  return new Map(rows.map((r) => [r.orderId, r.outcome]));
}

class ConcurrentDuplicate extends Error {}

/**
 * Handles a batch of one stage's tasks in one transaction, each exactly once in effect: every order's
 * inbox row, state change, history row and outbox event commit together with the others', or nothing
 * does. Set-based: a fixed number of round trips whatever the batch size. Returns one outcome per task,
 * in order; a second task for the same order in the batch is its first one's duplicate. Throws when the
 * batch as a whole failed (the caller isolates the culprit by running the tasks one at a time).
 */
export async function runStageBatch(
  db: DataSource,
  stage: Stage,
  tasks: readonly StageTask[],
  gateway: PaymentGateway,
): Promise<RunOutcome[]> {
  const first = new Map<string, StageTask>();
  for (const task of tasks) if (!first.has(task.orderId)) first.set(task.orderId, task);
  const outcomes = await db.transaction((tx) => runInTransaction(tx, stage, [...first.values()], gateway));
  return tasks.map((task) => {
    const outcome = outcomes.get(task.orderId)!;
    if (first.get(task.orderId) === task || !('duplicate' in outcome)) return outcome;
    return { ...outcome, duplicate: true };
  });
}

async function runInTransaction(
  tx: Queryable,
  stage: Stage,
  tasks: readonly StageTask[],
  gateway: PaymentGateway,
): Promise<Map<string, RunOutcome>> {
  const { from } = PIPELINE[stage];
  const orders = await lockOrders(
    tx,
    stage,
    tasks.map((t) => t.orderId),
  );
  const outcomes = new Map<string, RunOutcome>();
  const due: LockedOrder[] = [];
  const skipped: [string, string][] = [];
  for (const task of tasks) {
    const order = orders.get(task.orderId);
    if (!order) outcomes.set(task.orderId, { kind: 'missing' });
    else if (order.recorded) outcomes.set(task.orderId, outcomeOf(stage, order.recorded, true));
    else if (order.status === from) due.push(order);
    else if (notYetDue(order.status, from))
      outcomes.set(task.orderId, { kind: 'premature', status: order.status });
    else skipped.push([order.id, SKIPPED + order.status]);
  }

  const results =
    due.length > 0
      ? await STAGE_HANDLERS[stage]({
          tx,
          orders: due,
          attempts: new Map(tasks.map((t) => [t.orderId, t.attempt])),
          gateway,
        })
      : new Map();
  const decided = due.flatMap((order) => {
    const result = results.get(order.id)!;
    if ('error' in result) {
      outcomes.set(order.id, { kind: 'failed-attempt', error: result.error });
      return [];
    }
    return [{ order, ...result }];
  });
  const applied = await applyTransitions(
    tx,
    decided.map((d) => ({
      orderId: d.order.id,
      from: [from],
      to: d.status,
      reason: d.reason,
      source: WORKER_SOURCE,
    })),
  );
  // The rows are locked and their status checked, so no guard can miss here.
  if (applied.length !== decided.length) throw new Error(`an order left ${from} under a lock`);

  const conflicts = await recordInbox(tx, stage, [
    ...skipped,
    ...decided.map((d): [string, string] => [d.order.id, d.status]),
  ]);
  if (decided.some((d) => conflicts.has(d.order.id))) throw new ConcurrentDuplicate();
  // A skip that lost to a concurrent duplicate reports what the duplicate recorded.
  const recorded = conflicts.size > 0 ? await recordedOutcomes(tx, stage, [...conflicts]) : new Map();
  for (const [orderId, outcome] of skipped) {
    outcomes.set(orderId, outcomeOf(stage, recorded.get(orderId) ?? outcome, recorded.has(orderId)));
  }
  for (const d of decided) {
    const outcome = outcomeOf(stage, d.status, false);
    outcomes.set(
      d.order.id,
      outcome.kind === 'finished' ? { ...outcome, createdAt: d.order.createdAt, reason: d.reason } : outcome,
    );
  }
  return outcomes;
}

/** Ends an order as FAILED (releasing any reserved stock) after its retries ran out or it cannot be handled. */
export async function failOrder(
  db: DataSource,
  task: StageTask,
  reason: string,
): Promise<{ failed: boolean; createdAt?: Date }> {
  return db.transaction(async (tx) => {
    const order = (await lockOrders(tx, task.stage, [task.orderId])).get(task.orderId);
    if (!order || isTerminal(order.status)) return { failed: false };
    await applyTransition(tx, {
      orderId: task.orderId,
      from: [order.status],
      to: 'FAILED',
      reason,
      source: WORKER_SOURCE,
    });
    await recordInbox(tx, task.stage, [[task.orderId, 'FAILED']]);
    return { failed: true, createdAt: order.createdAt };
  });
}

const TRANSIENT_PG_CODES = new Set(['40001', '40P01', '55P03', '57P01', '57P02', '57P03', '53300']);
const TRANSIENT_NET =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Connection terminated|connection timeout|timeout exceeded/i;

/** Worth another try later: lock conflicts, a database going away, a flaky gateway. */
export function isTransient(err: unknown): boolean {
  if ((err as { transient?: boolean }).transient) return true;
  const code =
    (err as { code?: string; driverError?: { code?: string } }).driverError?.code ??
    (err as { code?: string }).code;
  if (code && (TRANSIENT_PG_CODES.has(code) || code.startsWith('08'))) return true;
  return TRANSIENT_NET.test(String((err as Error).message ?? err));
}
