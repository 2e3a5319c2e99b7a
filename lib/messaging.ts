import type { Topology } from './adapters/rabbitmq/topology';

/** Names fixed by the design: the Kafka topic and group, and the RabbitMQ stage queues. */
export const ORDER_EVENTS_TOPIC = 'orderflow.order-events';
export const DISPATCHER_GROUP = 'orderflow-dispatcher';

export const STAGES = ['validate', 'reserve', 'pay', 'complete'] as const;
export type Stage = (typeof STAGES)[number];

export const TASK_EXCHANGE = 'orderflow.tasks';
export const DEAD_LETTER_EXCHANGE = 'orderflow.dead-letter';
export const DEAD_LETTER_QUEUE = 'orderflow.dead';

export const stageQueue = (stage: Stage) => `orderflow.stage.${stage}`;

/** Redeliveries after which a message that keeps crashing its consumer is dead-lettered by the broker. */
const DELIVERY_LIMIT = 20;

/** Stage queues on a direct exchange (routing key = stage), all dead-lettering into orderflow.dead. */
export const orderflowTopology: Topology = {
  exchanges: [
    { name: TASK_EXCHANGE, type: 'direct' },
    { name: DEAD_LETTER_EXCHANGE, type: 'fanout' },
  ],
  queues: [
    ...STAGES.map((stage) => ({
      name: stageQueue(stage),
      type: 'quorum' as const,
      deadLetterExchange: DEAD_LETTER_EXCHANGE,
      deliveryLimit: DELIVERY_LIMIT,
    })),
    { name: DEAD_LETTER_QUEUE, type: 'quorum' },
  ],
  bindings: [
    ...STAGES.map((stage) => ({ exchange: TASK_EXCHANGE, queue: stageQueue(stage), routingKey: stage })),
    { exchange: DEAD_LETTER_EXCHANGE, queue: DEAD_LETTER_QUEUE, routingKey: '' },
  ],
};
