import { z } from 'zod';
import { UUID_PATTERN } from './ids';
import { isTerminal, type OrderStatus } from './order-status';

/**
 * The order pipeline, defined once: the stages in the order an order passes them and the status each
 * one moves it to. Everything else is derived from these two lines: where each stage starts, what
 * follows it, the happy path, the RabbitMQ queues (lib/messaging.ts), the worker roles (cli/roles.ts)
 * and the task a stage queue carries. What a stage does is its handler (workers/stages.ts, one per
 * stage, checked by the type of STAGE_HANDLERS).
 */
export const STAGES = ['validate', 'reserve', 'pay', 'complete'] as const;
export type Stage = (typeof STAGES)[number];

/** Where an accepted order starts, and the status each stage moves it to when it succeeds. */
export const ENTRY_STATUS: OrderStatus = 'PENDING';
const REACHES: Record<Stage, OrderStatus> = {
  validate: 'VALIDATED',
  reserve: 'RESERVED',
  pay: 'PAID',
  complete: 'COMPLETED',
};

export interface StageDefinition {
  stage: Stage;
  /** The status an order must be in for the stage to apply. */
  from: OrderStatus;
  /** Where success takes it. */
  to: OrderStatus;
  /** The stage whose task is published when this one succeeds; none after the last. */
  next: Stage | undefined;
}

export const PIPELINE: Readonly<Record<Stage, StageDefinition>> = Object.fromEntries(
  STAGES.map((stage, i) => [
    stage,
    {
      stage,
      from: i === 0 ? ENTRY_STATUS : REACHES[STAGES[i - 1]!],
      to: REACHES[stage],
      next: STAGES[i + 1],
    },
  ]),
) as Record<Stage, StageDefinition>;

/** The first stage: the dispatcher publishes its task for each new order. */
export const FIRST_STAGE: Stage = STAGES[0];

/** PENDING -> VALIDATED -> RESERVED -> PAID -> COMPLETED. */
export const HAPPY_PATH: readonly OrderStatus[] = [ENTRY_STATUS, ...STAGES.map((s) => REACHES[s])];

/** The order has not reached `due` yet (as opposed to having passed it, or ended). */
export const notYetDue = (status: OrderStatus, due: OrderStatus) =>
  !isTerminal(status) && HAPPY_PATH.indexOf(status) < HAPPY_PATH.indexOf(due);

/** One unit of work on a stage queue: "run <stage> for <order>", attempt n. */
export interface StageTask {
  orderId: string;
  stage: Stage;
  attempt: number;
}

const attemptError = 'attempt must be a positive integer';

/** The wire form of a task; each refusal reads as the reason a dead-lettered task carries. */
export const stageTaskSchema = z.object(
  {
    orderId: z
      .string({ error: 'orderId is not a UUID' })
      .regex(UUID_PATTERN, { error: 'orderId is not a UUID' }),
    stage: z.enum(STAGES, { error: (issue) => `unknown stage ${JSON.stringify(issue.input)}` }),
    attempt: z.number({ error: attemptError }).int({ error: attemptError }).min(1, { error: attemptError }),
  },
  { error: 'body is not an object' },
);

/** Same id for every copy of a task, so duplicates are recognisable in logs and the broker. */
export const taskMessageId = (task: Pick<StageTask, 'orderId' | 'stage'>) => `${task.orderId}:${task.stage}`;

export const encodeTask = (task: StageTask) => Buffer.from(JSON.stringify(task));

/** The task that follows a successful one: the next stage's first attempt, if there is a next stage. */
export function nextTask(task: Pick<StageTask, 'orderId' | 'stage'>): StageTask | undefined {
  const next = PIPELINE[task.stage].next;
  return next ? { orderId: task.orderId, stage: next, attempt: 1 } : undefined;
}

export type ParsedTask = { ok: true; task: StageTask } | { ok: false; reason: string };

/** A task off the wire, or why it is not one (such a message is dead-lettered, never retried). */
export function parseTask(body: Buffer, expectedStage: Stage): ParsedTask {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  const parsed = stageTaskSchema.safeParse(value);
  if (!parsed.success) return { ok: false, reason: parsed.error.issues[0]?.message ?? 'not a task' };
  const task = parsed.data;
  if (task.stage !== expectedStage)
    return { ok: false, reason: `a ${task.stage} task on the ${expectedStage} queue` };
  return { ok: true, task };
}
