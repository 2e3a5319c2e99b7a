import { Counter } from 'prom-client';
import { createKafkaEventLog } from '../lib/adapters/kafka/kafkajs';
import type { IncomingRecord } from '../lib/adapters/kafka/types';
import { EVENT_TYPE_HEADER, EVENT_TYPES } from '../lib/domain/events';
import { FIRST_STAGE } from '../lib/domain/pipeline';
import { isUuid } from '../lib/domain/ids';
import { DISPATCHER_GROUP, ORDER_EVENTS_TOPIC, orderflowRabbit, publishStageTask } from '../lib/messaging';
import type { ProcessContext, RunningRole } from '../lib/process';

/** What to do with one record off orderflow.order-events. */
export type Dispatch =
  { action: 'task'; orderId: string } | { action: 'ignore' } | { action: 'dead-letter'; reason: string };

export function dispatchFor(record: Pick<IncomingRecord, 'value' | 'headers'>): Dispatch {
  // Status changes outnumber new orders four to one; their header says so without a parse.
  if (record.headers[EVENT_TYPE_HEADER] === EVENT_TYPES.orderStatusChanged) return { action: 'ignore' };
  let event: { type?: unknown; data?: { orderId?: unknown } };
  try {
    event = JSON.parse(record.value?.toString('utf8') ?? '') as typeof event;
  } catch {
    return { action: 'dead-letter', reason: 'not a JSON CloudEvent' };
  }
  if (typeof event !== 'object' || event === null)
    return { action: 'dead-letter', reason: 'not a JSON CloudEvent' };
  if (event.type === EVENT_TYPES.orderStatusChanged) return { action: 'ignore' };
  if (event.type !== EVENT_TYPES.orderCreated)
    return { action: 'dead-letter', reason: `unknown event type ${JSON.stringify(event.type)}` };
  const orderId = event.data?.orderId;
  if (!isUuid(orderId))
    return { action: 'dead-letter', reason: 'order.created without a valid data.orderId' };
  return { action: 'task', orderId };
}

/**
 * The Kafka -> task-queue bridge: each `order.created` becomes the first stage's task, confirmed by
 * RabbitMQ before the Kafka offset is committed. Anything unreadable goes to orderflow.dead with its
 * reason and the partition moves on.
 */
export async function startDispatcher({ config, logger, registry }: ProcessContext): Promise<RunningRole> {
  const rabbit = orderflowRabbit({
    url: config.rabbitmq.url,
    logger,
    connectionName: `orderflow-dispatcher-${process.pid}`,
  });
  await rabbit.start();
  const eventLog = createKafkaEventLog({
    brokers: config.kafka.brokers,
    clientId: `${config.kafka.clientId}-dispatcher`,
    logger,
  });
  const admin = await eventLog.admin();
  await admin.ensureTopic(ORDER_EVENTS_TOPIC, config.pipeline.topicPartitions);
  await admin.disconnect();

  const dispatched = new Counter({
    name: 'orderflow_dispatcher_events_total',
    help: 'Events read from Kafka, by what the dispatcher did (task, ignore, dead-letter)',
    labelNames: ['action'],
    registers: [registry],
  });

  const consumer = eventLog.consumer({
    groupId: DISPATCHER_GROUP,
    topics: [ORDER_EVENTS_TOPIC],
    partitionsConcurrently: config.pipeline.dispatcherConcurrency,
    handleBatch: async (records) => {
      // The batch's tasks and dead letters are published together and their confirms awaited together.
      await Promise.all(
        records.map(async (record) => {
          const decision = dispatchFor(record);
          if (decision.action === 'task') {
            await publishStageTask(rabbit, { orderId: decision.orderId, stage: FIRST_STAGE, attempt: 1 });
          } else if (decision.action === 'dead-letter') {
            logger.warn(
              { partition: record.partition, offset: record.offset, reason: decision.reason },
              'event dead-lettered',
            );
            await rabbit.deadLetter(record.value ?? Buffer.alloc(0), decision.reason, {
              source: `${record.topic}/${record.partition}/${record.offset}`,
            });
          }
          dispatched.inc({ action: decision.action });
        }),
      );
    },
  });
  await consumer.start();
  logger.info({ group: DISPATCHER_GROUP, topic: ORDER_EVENTS_TOPIC }, 'dispatching');

  return {
    readiness: {
      rabbitmq: async () => {
        if (!rabbit.isConnected) throw new Error('not connected');
      },
    },
    shutdown: [
      { name: 'leave the consumer group', run: () => consumer.stop() },
      { name: 'rabbitmq', run: () => rabbit.close() },
    ],
  };
}
