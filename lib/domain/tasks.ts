import type { OrderStatus } from './order-status';
import { STAGES, type Stage } from '../messaging';

/** One unit of work on a stage queue: "run <stage> for <order>", attempt n. */
export interface StageTask {
  orderId: string;
  stage: Stage;
  attempt: number;
}

/** The status an order must be in for the stage to apply, and where success takes it. */
export const STAGE_TRANSITIONS: Record<
  Stage,
  { from: OrderStatus; to: OrderStatus; next: Stage | undefined }
> = {
  validate: { from: 'PENDING', to: 'VALIDATED', next: 'reserve' },
  reserve: { from: 'VALIDATED', to: 'RESERVED', next: 'pay' },
  pay: { from: 'RESERVED', to: 'PAID', next: 'complete' },
  complete: { from: 'PAID', to: 'COMPLETED', next: undefined },
};

/** Same id for every copy of a task, so duplicates are recognisable in logs and the broker. */
export const taskMessageId = (task: Pick<StageTask, 'orderId' | 'stage'>) => `${task.orderId}:${task.stage}`;

export const encodeTask = (task: StageTask) => Buffer.from(JSON.stringify(task));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type ParsedTask = { ok: true; task: StageTask } | { ok: false; reason: string };

/** A task off the wire, or why it is not one (such a message is dead-lettered, never retried). */
export function parseTask(body: Buffer, expectedStage: Stage): ParsedTask {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  if (typeof value !== 'object' || value === null) return { ok: false, reason: 'body is not an object' };
  const { orderId, stage, attempt } = value as Record<string, unknown>;
  if (typeof orderId !== 'string' || !UUID.test(orderId))
    return { ok: false, reason: 'orderId is not a UUID' };
  if (!STAGES.includes(stage as Stage))
    return { ok: false, reason: `unknown stage ${JSON.stringify(stage)}` };
  if (stage !== expectedStage)
    return { ok: false, reason: `a ${String(stage)} task on the ${expectedStage} queue` };
  if (typeof attempt !== 'number' || !Number.isInteger(attempt) || attempt < 1) {
    return { ok: false, reason: 'attempt must be a positive integer' };
  }
  return { ok: true, task: { orderId, stage: stage as Stage, attempt } };
}
