import type { DataSource } from 'typeorm';
import type { Disposition } from '../lib/adapters/rabbitmq/client';
import { isTerminal, type OrderStatus } from '../lib/domain/order-status';
import { nextTask, notYetDue, PIPELINE, type Stage, type StageTask } from '../lib/domain/pipeline';
import { one, type Queryable } from '../lib/store/db';
import { applyTransition } from '../lib/store/transitions';
import type { PaymentGateway } from './payment-gateway';
import { STAGE_HANDLERS, WORKER_SOURCE, type LockedOrder } from './stages';

/**
 * What handling a task came to. `advanced` means the next stage's task must be published (again, if
 * this was a duplicate whose first run crashed before publishing).
 */
export type RunOutcome =
  | { kind: 'advanced'; status: OrderStatus; duplicate: boolean }
  | { kind: 'finished'; status: OrderStatus; duplicate: boolean; createdAt?: Date; reason?: string }
  | { kind: 'skipped'; status: string; duplicate: boolean }
  /** A replayed task that arrived before its stage was due: the real one follows the previous stage. */
  | { kind: 'premature'; status: OrderStatus }
  | { kind: 'missing' };

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
 * acked.
 */
export function settlementOf(
  task: StageTask,
  outcome: RunOutcome,
): { publish?: StageTask; disposition: Disposition } {
  if (outcome.kind === 'missing')
    return { disposition: { action: 'dead-letter', reason: 'the order does not exist' } };
  if (outcome.kind === 'advanced') return { publish: nextTask(task), disposition: { action: 'ack' } };
  return { disposition: { action: 'ack' } };
}

async function recordedOutcome(db: Queryable, task: StageTask): Promise<string | undefined> {
  const row = await one<{ outcome: string }>(
    db,
    `SELECT outcome FROM inbox WHERE order_id = $1 AND stage = $2`,
    [task.orderId, task.stage],
  );
  return row?.outcome;
}

/** Locks the order and reads, in the same round trip, what the inbox says about this stage. */
async function lockOrder(tx: Queryable, task: Pick<StageTask, 'orderId' | 'stage'>) {
  return one<LockedOrder & { recorded: string | null }>(
    tx,
    `SELECT id, status, merchant_id AS "merchantId", total_cents::float8 AS "totalCents",
            payment_token AS "paymentToken", created_at AS "createdAt",
            (SELECT outcome FROM inbox WHERE order_id = $1 AND stage = $2) AS recorded
       FROM orders WHERE id = $1 FOR UPDATE`,
    [task.orderId, task.stage],
  );
}

/** The inbox row is the proof a (order, stage) was handled; a concurrent duplicate loses on its key. */
async function recordInbox(tx: Queryable, task: StageTask, outcome: string): Promise<boolean> {
  const rows = (await tx.query(
    `INSERT INTO inbox (order_id, stage, outcome) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1`,
    [task.orderId, task.stage, outcome],
  )) as unknown[];
  return rows.length === 1;
}

class ConcurrentDuplicate extends Error {}

/**
 * Handles one task exactly once in effect: the inbox row, the state change, its history row and its
 * outbox event commit together, or nothing does.
 */
export async function runStage(
  db: DataSource,
  task: StageTask,
  gateway: PaymentGateway,
): Promise<RunOutcome> {
  try {
    return await db.transaction(async (tx) => {
      const order = await lockOrder(tx, task);
      if (!order) return { kind: 'missing' } as const;
      if (order.recorded) return outcomeOf(task.stage, order.recorded, true);
      if (order.status !== PIPELINE[task.stage].from) {
        if (notYetDue(order.status, PIPELINE[task.stage].from))
          return { kind: 'premature', status: order.status } as const;
        if (!(await recordInbox(tx, task, SKIPPED + order.status))) throw new ConcurrentDuplicate();
        return { kind: 'skipped', status: order.status, duplicate: false } as const;
      }
      const result = await STAGE_HANDLERS[task.stage]({ tx, order, attempt: task.attempt, gateway });
      if (!(await recordInbox(tx, task, result.status))) throw new ConcurrentDuplicate();
      const outcome = outcomeOf(task.stage, result.status, false);
      return outcome.kind === 'finished'
        ? { ...outcome, createdAt: order.createdAt, reason: result.reason }
        : outcome;
    });
  } catch (err) {
    if (!(err instanceof ConcurrentDuplicate)) throw err;
    return outcomeOf(task.stage, (await recordedOutcome(db, task))!, true);
  }
}

/** Ends an order as FAILED (releasing any reserved stock) after its retries ran out or it cannot be handled. */
export async function failOrder(
  db: DataSource,
  task: StageTask,
  reason: string,
): Promise<{ failed: boolean; createdAt?: Date }> {
  return db.transaction(async (tx) => {
    const order = await lockOrder(tx, task);
    if (!order || isTerminal(order.status)) return { failed: false };
    await applyTransition(tx, {
      orderId: task.orderId,
      from: [order.status],
      to: 'FAILED',
      reason,
      source: WORKER_SOURCE,
    });
    await recordInbox(tx, task, 'FAILED');
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
