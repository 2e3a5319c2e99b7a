import { createKafkaEventLog } from './adapters/kafka/kafkajs';
import type { EventLog } from './adapters/kafka/types';
import type { Config } from './config';
import { ORDER_EVENTS_TOPIC, orderflowRabbit } from './messaging';
import type { Logger } from './telemetry/logger';

/**
 * Creates the order-events topic on the event log unless it exists; true when this call created it.
 * The relay calls it as it starts (any number of replicas may race: losing the race is not an error).
 */
export async function ensureOrderEventsTopic(eventLog: EventLog, partitions: number): Promise<boolean> {
  const admin = await eventLog.admin();
  try {
    return await admin.ensureTopic(ORDER_EVENTS_TOPIC, partitions);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Declares everything the roles expect on the brokers before any of them starts: the RabbitMQ
 * topology (exchanges, stage, retry and dead-letter queues, bindings) and the order-events topic.
 * Every role declares what it uses itself as well, idempotently; doing it once up front means that
 * on fresh brokers the operator's triggers find their queues and topic from its first poll, instead
 * of failing until the first worker has connected (and scaling every stage to its fallback).
 */
export async function declareBrokers(config: Config, logger: Logger): Promise<{ topicCreated: boolean }> {
  const rabbit = orderflowRabbit({ url: config.rabbitmq.url, logger, connectionName: 'orderflow-declare' });
  try {
    await rabbit.start();
  } finally {
    await rabbit.close();
  }
  const eventLog = createKafkaEventLog({
    brokers: config.kafka.brokers,
    clientId: `${config.kafka.clientId}-declare`,
    logger,
  });
  return { topicCreated: await ensureOrderEventsTopic(eventLog, config.pipeline.topicPartitions) };
}
