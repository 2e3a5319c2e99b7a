import { createDataSource, pingDatabase } from '../lib/adapters/postgres/data-source';
import { RabbitClient, type Delivery, type Disposition } from '../lib/adapters/rabbitmq/client';
import { parseTask, type Stage, type StageTask } from '../lib/domain/pipeline';
import { orderflowRabbit, publishStageTask, retryDelay, retryExchange, stageQueue } from '../lib/messaging';
import type { ProcessContext, RunningRole } from '../lib/process';
import { stageMetrics, type StageMetrics } from './metrics';
import { Semaphore } from './semaphore';
import { simulatedGateway, type PaymentGateway } from './payment-gateway';
import { failOrder, isTransient, runStage, settlementOf, type RunOutcome } from './stage-runner';
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
  /** Bounds the tasks using the database at once to the pool size, so none times out waiting for a connection. */
  slots: Semaphore;
}

async function settle(deps: WorkerDeps, task: StageTask, outcome: RunOutcome): Promise<Disposition> {
  const log = deps.logger.child({ orderId: task.orderId, stage: task.stage });
  const settlement = settlementOf(task, outcome);
  if (settlement.publish) {
    try {
      await publishStageTask(deps.rabbit, settlement.publish);
    } catch (err) {
      // The state change is committed; the redelivered task finds it in the inbox and publishes again.
      log.warn({ err }, 'next task not published, the delivery goes back to the queue');
      return { action: 'requeue' };
    }
  }
  if (outcome.kind === 'finished' && !outcome.duplicate && outcome.createdAt) {
    deps.metrics.endToEnd.observe(
      { status: outcome.status },
      (Date.now() - outcome.createdAt.getTime()) / 1000,
    );
    log.info({ status: outcome.status, reason: outcome.reason }, 'order finished');
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
    const failed = await failOrder(deps.db, task, why);
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

function handler(deps: WorkerDeps, stage: Stage) {
  return async (delivery: Delivery): Promise<Disposition> => {
    const parsed = parseTask(delivery.body, stage);
    if (!parsed.ok) {
      deps.metrics.deadLettered.inc({ stage });
      deps.logger.warn(
        { stage, messageId: delivery.messageId, reason: parsed.reason },
        'malformed task dead-lettered',
      );
      return { action: 'dead-letter', reason: `malformed task: ${parsed.reason}` };
    }
    const task = parsed.task;
    const end = deps.metrics.duration.startTimer({ stage });
    deps.metrics.inFlight.inc({ stage });
    try {
      if (deps.stageLatencyMs > 0) await new Promise((r) => setTimeout(r, deps.stageLatencyMs));
      let outcome: RunOutcome;
      try {
        outcome = await deps.slots.run(() => runStage(deps.db, task, deps.gateway));
      } catch (err) {
        return await deps.slots.run(() => onFailure(deps, task, err));
      }
      return await settle(deps, task, outcome);
    } finally {
      deps.metrics.inFlight.dec({ stage });
      end();
    }
  };
}

/** A worker process: consumes the given stage queues, any number of them, with bounded concurrency. */
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
      metrics: stageMetrics(registry, stages),
      logger,
      maxAttempts: config.pipeline.maxAttempts,
      stageLatencyMs: config.pipeline.stageLatencyMs,
      slots: new Semaphore(config.database.poolSize),
    };
    for (const stage of stages) {
      await rabbit.consume(stageQueue(stage), handler(deps, stage), {
        prefetch: config.pipeline.workerPrefetch,
      });
    }
    logger.info({ stages, prefetch: config.pipeline.workerPrefetch }, 'consuming');
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
