import { sleep } from '../lib/backoff';
import { createDataSource, pingDatabase } from '../lib/adapters/postgres/data-source';
import { RabbitClient, type Delivery, type Disposition } from '../lib/adapters/rabbitmq/client';
import { parseTask, type Stage, type StageTask } from '../lib/domain/pipeline';
import { orderflowRabbit, publishStageTask, retryDelay, retryExchange, stageQueue } from '../lib/messaging';
import type { ProcessContext, RunningRole } from '../lib/process';
import { stageMetrics, type StageMetrics } from './metrics';
import { Semaphore } from './semaphore';
import { simulatedGateway, type PaymentGateway } from './payment-gateway';
import { failOrder, isTransient, runStageBatch, settlementOf, type RunOutcome } from './stage-runner';
import type { DataSource } from 'typeorm';
import type { Logger } from '../lib/telemetry/logger';

interface WorkerDeps {
  db: DataSource;
  rabbit: RabbitClient;
  gateway: PaymentGateway;
  metrics: StageMetrics;
  logger: Logger;
  maxAttempts: number;
  stageLatencyMs: number;
  /** Bounds the batches using the database at once to the pool size, so none waits for a connection. */
  slots: Semaphore;
}

async function settle(deps: WorkerDeps, task: StageTask, outcome: RunOutcome): Promise<Disposition> {
  if (outcome.kind === 'failed-attempt') return onFailure(deps, task, outcome.error);
  const settlement = settlementOf(task, outcome);
  if (settlement.publish) {
    try {
      await publishStageTask(deps.rabbit, settlement.publish);
    } catch (err) {
      // The state change is committed; the redelivered task finds it in the inbox and publishes again.
      deps.logger.warn(
        { err, orderId: task.orderId, stage: task.stage },
        'next task not published, the delivery goes back to the queue',
      );
      return { action: 'requeue' };
    }
  }
  if (outcome.kind === 'finished' && !outcome.duplicate && outcome.createdAt) {
    deps.metrics.endToEnd.observe(
      { status: outcome.status },
      (Date.now() - outcome.createdAt.getTime()) / 1000,
    );
    // Completions are the normal case and are counted, not logged one by one; the other endings
    // are what a person looks for.
    const level = outcome.status === 'COMPLETED' ? 'debug' : 'info';
    deps.logger[level](
      { orderId: task.orderId, stage: task.stage, status: outcome.status, reason: outcome.reason },
      'order finished',
    );
  }
  const duplicate = 'duplicate' in outcome && outcome.duplicate;
  if (outcome.kind !== 'missing')
    deps.metrics.processed.inc({ stage: task.stage, outcome: duplicate ? 'duplicate' : outcome.kind });
  return settlement.disposition;
}

/** A failed attempt: another later through a delay queue if it may pass, else the order is FAILED. */
async function onFailure(deps: WorkerDeps, task: StageTask, err: unknown): Promise<Disposition> {
  const log = deps.logger.child({ orderId: task.orderId, stage: task.stage, attempt: task.attempt });
  const reason = err instanceof Error ? err.message : String(err);
  try {
    if (isTransient(err) && task.attempt < deps.maxAttempts) {
      const delayMs = retryDelay(task.attempt);
      await publishStageTask(deps.rabbit, { ...task, attempt: task.attempt + 1 }, retryExchange(delayMs));
      deps.metrics.retries.inc({ stage: task.stage });
      deps.metrics.processed.inc({ stage: task.stage, outcome: 'retried' });
      log.warn({ reason, delayMs }, 'transient failure, retrying later');
      return { action: 'ack' };
    }
    const why = isTransient(err)
      ? `retries exhausted after ${task.attempt} attempts: ${reason}`
      : `failed: ${reason}`;
    const failed = await deps.slots.run(() => failOrder(deps.db, task, why));
    if (failed.createdAt)
      deps.metrics.endToEnd.observe({ status: 'FAILED' }, (Date.now() - failed.createdAt.getTime()) / 1000);
    deps.metrics.deadLettered.inc({ stage: task.stage });
    deps.metrics.processed.inc({ stage: task.stage, outcome: 'dead_lettered' });
    log.error({ err }, 'order failed, task dead-lettered');
    return { action: 'dead-letter', reason: why };
  } catch (secondErr) {
    log.error(
      { err: secondErr, cause: reason },
      'could not record the failure, the delivery goes back to the queue',
    );
    return { action: 'requeue' };
  }
}

/**
 * Runs the tasks as one batch; if the batch fails as a whole, each task runs alone, so one bad order
 * takes its own retry or dead-letter path and the others go through.
 */
async function runIsolated(deps: WorkerDeps, stage: Stage, tasks: StageTask[]): Promise<RunOutcome[]> {
  try {
    return await deps.slots.run(() => runStageBatch(deps.db, stage, tasks, deps.gateway));
  } catch (err) {
    if (tasks.length === 1) return [{ kind: 'failed-attempt', error: err }];
    deps.logger.warn({ err, stage, tasks: tasks.length }, 'batch failed, running its tasks one at a time');
    const alone: RunOutcome[] = [];
    for (const task of tasks) alone.push(...(await runIsolated(deps, stage, [task])));
    return alone;
  }
}

function malformed(deps: WorkerDeps, stage: Stage, delivery: Delivery, reason: string): Disposition {
  deps.metrics.deadLettered.inc({ stage });
  deps.logger.warn({ stage, messageId: delivery.messageId, reason }, 'malformed task dead-lettered');
  return { action: 'dead-letter', reason: `malformed task: ${reason}` };
}

/** Runs a batch of one stage's tasks and settles each; the next tasks' confirms are awaited together. */
async function runAndSettle(deps: WorkerDeps, stage: Stage, tasks: StageTask[]): Promise<Disposition[]> {
  deps.metrics.batchSize.observe({ stage }, tasks.length);
  const end = deps.metrics.duration.startTimer({ stage });
  try {
    if (deps.stageLatencyMs > 0) await sleep(deps.stageLatencyMs);
    const outcomes = await runIsolated(deps, stage, tasks);
    return await Promise.all(tasks.map((task, i) => settle(deps, task, outcomes[i]!)));
  } finally {
    end();
  }
}

function handler(deps: WorkerDeps, stage: Stage) {
  return async (deliveries: Delivery[]): Promise<Disposition[]> => {
    const parsed = deliveries.map((delivery) => parseTask(delivery.body, stage));
    const tasks = parsed.flatMap((p) => (p.ok ? [p.task] : []));
    const settled = tasks.length > 0 ? await runAndSettle(deps, stage, tasks) : [];
    let next = 0;
    return parsed.map((p, i) => (p.ok ? settled[next++]! : malformed(deps, stage, deliveries[i]!, p.reason)));
  };
}

/**
 * A worker process: consumes the given stage queues, any number of them, taking up to
 * `workerBatchSize` tasks of a stage at a time (what arrived together) into one transaction.
 */
export function workerRole(stages: Stage[]) {
  return async ({ config, logger, registry }: ProcessContext): Promise<RunningRole> => {
    const db = createDataSource({
      url: config.database.url,
      poolSize: config.database.poolSize,
      applicationName: 'orderflow-worker',
    });
    await db.initialize();
    const rabbit = orderflowRabbit({
      url: config.rabbitmq.url,
      logger,
      connectionName: `orderflow-worker-${process.pid}`,
    });
    await rabbit.start();
    const deps: WorkerDeps = {
      db,
      rabbit,
      gateway: simulatedGateway(config.payment),
      metrics: stageMetrics(registry, stages, (stage) => rabbit.held(stageQueue(stage))),
      logger,
      maxAttempts: config.pipeline.maxAttempts,
      stageLatencyMs: config.pipeline.stageLatencyMs,
      slots: new Semaphore(config.database.poolSize),
    };
    const { workerPrefetch: prefetch, workerBatchSize: maxBatch, batchLingerMs: lingerMs } = config.pipeline;
    for (const stage of stages) {
      await rabbit.consumeBatches(stageQueue(stage), handler(deps, stage), { prefetch, maxBatch, lingerMs });
    }
    logger.info({ stages, prefetch, maxBatch, lingerMs }, 'consuming');
    return {
      readiness: {
        database: () => pingDatabase(db),
        rabbitmq: async () => {
          if (!rabbit.isConnected) throw new Error('not connected');
        },
      },
      shutdown: [
        { name: 'stop consuming and finish in-flight tasks', run: () => rabbit.stopConsuming() },
        { name: 'rabbitmq', run: () => rabbit.close() },
        { name: 'database pool', run: () => db.destroy() },
      ],
    };
  };
}
