import { RabbitClient } from './adapters/rabbitmq/client';
import type { Topology } from './adapters/rabbitmq/topology';
import { encodeTask, STAGES, taskMessageId, type Stage, type StageTask } from './domain/pipeline';
import type { Logger } from './telemetry/logger';

/** Names fixed by the design: the Kafka topic and group, and the RabbitMQ stage queues. */
export const ORDER_EVENTS_TOPIC = 'orderflow.order-events';
export const DISPATCHER_GROUP = 'orderflow-dispatcher';

export const TASK_EXCHANGE = 'orderflow.tasks';
export const DEAD_LETTER_EXCHANGE = 'orderflow.dead-letter';
export const DEAD_LETTER_QUEUE = 'orderflow.dead';

export const stageQueue = (stage: Stage) => `orderflow.stage.${stage}`;

/** Redeliveries after which a message that keeps crashing its consumer is dead-lettered by the broker. */
const DELIVERY_LIMIT = 20;

/**
 * Retry delays: a failed attempt n waits RETRY_DELAYS_MS[n-1] (the last one repeats). Each delay is
 * a fanout exchange and a queue whose TTL expires messages back into the task exchange, where their
 * original routing key (the stage) routes them home. One queue per delay, so a long wait never holds
 * up a short one.
 */
export const RETRY_DELAYS_MS = [500, 2_000, 10_000, 30_000] as const;
export const retryExchange = (delayMs: number) => `orderflow.retry.${delayMs}ms`;
export const retryDelay = (failedAttempt: number) =>
  RETRY_DELAYS_MS[Math.min(failedAttempt, RETRY_DELAYS_MS.length) - 1] ?? RETRY_DELAYS_MS[0];

/** Stage queues on a direct exchange (routing key = stage), all dead-lettering into orderflow.dead. */
export const orderflowTopology: Topology = {
  exchanges: [
    { name: TASK_EXCHANGE, type: 'direct' },
    { name: DEAD_LETTER_EXCHANGE, type: 'fanout' },
    ...RETRY_DELAYS_MS.map((ms) => ({ name: retryExchange(ms), type: 'fanout' as const })),
  ],
  queues: [
    ...STAGES.map((stage) => ({
      name: stageQueue(stage),
      type: 'quorum' as const,
      deadLetterExchange: DEAD_LETTER_EXCHANGE,
      deliveryLimit: DELIVERY_LIMIT,
    })),
    { name: DEAD_LETTER_QUEUE, type: 'quorum' },
    ...RETRY_DELAYS_MS.map((ms) => ({
      name: retryExchange(ms),
      type: 'quorum' as const,
      messageTtlMs: ms,
      deadLetterExchange: TASK_EXCHANGE,
      safeDeadLettering: true,
    })),
  ],
  bindings: [
    ...STAGES.map((stage) => ({ exchange: TASK_EXCHANGE, queue: stageQueue(stage), routingKey: stage })),
    { exchange: DEAD_LETTER_EXCHANGE, queue: DEAD_LETTER_QUEUE, routingKey: '' },
    ...RETRY_DELAYS_MS.map((ms) => ({
      exchange: retryExchange(ms),
      queue: retryExchange(ms),
      routingKey: '',
    })),
  ],
};

/** A RabbitMQ client with Orderflow's topology, dead-lettering into orderflow.dead. */
export function orderflowRabbit(options: {
  url: string;
  logger: Logger;
  connectionName: string;
}): RabbitClient {
  return new RabbitClient({
    ...options,
    topology: orderflowTopology,
    deadLetter: { exchange: DEAD_LETTER_EXCHANGE, routingKey: '' },
  });
}

export const ATTEMPT_HEADER = 'x-orderflow-attempt';

/**
 * Publishes a stage task, confirmed: to the task exchange (routed by stage to its queue), or to a
 * retry delay's exchange, whose queue expires it back into the task exchange. The dispatcher and the
 * workers publish every task through this.
 */
export const publishStageTask = (rabbit: RabbitClient, task: StageTask, exchange: string = TASK_EXCHANGE) =>
  rabbit.publish(exchange, task.stage, encodeTask(task), {
    messageId: taskMessageId(task),
    headers: { [ATTEMPT_HEADER]: task.attempt },
  });
