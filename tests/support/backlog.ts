import { createKafkaEventLog } from '../../lib/adapters/kafka/kafkajs';
import { managementApi, managementQueue } from '../../lib/adapters/rabbitmq/management';
import type { Config } from '../../lib/config';
import { rabbitDepthSource } from '../../operator/sources/rabbitmq-depth';
import { eventually, memoryLogger, okResponse } from './services';

/**
 * A backlog the operator can see: a RabbitMQ queue that nobody consumes, filled and emptied through the
 * management API, so tests control the depth exactly.
 */
export function rabbitBacklog(managementUrl: string, queue: string) {
  const call = managementQueue(managementUrl, queue);
  const depth = rabbitDepthSource({ managementUrl, queue });
  const api = managementApi(managementUrl);
  const ok = async (res: Promise<Response>, what: string) => void (await okResponse(res, what));
  return {
    create: () =>
      ok(
        call('', {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ durable: false, auto_delete: false }),
        }),
        'create queue',
      ),
    async publish(count: number) {
      for (let i = 0; i < count; i++) {
        await ok(
          api('/api/exchanges/%2F/amq.default/publish', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              routing_key: queue,
              payload: String(i),
              payload_encoding: 'string',
              properties: {},
            }),
          }),
          'publish',
        );
      }
    },
    /** The management API refreshes its statistics every few seconds: wait until it shows `count`. */
    settled: (count: number) =>
      eventually(async () => (await depth.measure()) === count, {
        what: `${queue} at depth ${count}`,
        timeoutMs: 30_000,
      }),
    purge: () => ok(call('/contents', { method: 'DELETE' }), 'purge queue'),
    remove: () => ok(call('', { method: 'DELETE' }), 'delete queue'),
  };
}

/** A Kafka topic with records that a consumer group has never read: its lag is every record. */
export async function kafkaBacklog(config: Config, topic: string, partitions: number, records: number) {
  const eventLog = createKafkaEventLog({
    brokers: config.kafka.brokers,
    clientId: 'jest-backlog',
    logger: memoryLogger('silent').logger,
  });
  const admin = await eventLog.admin();
  await admin.ensureTopic(topic, partitions);
  const producer = await eventLog.producer();
  await producer.send(
    topic,
    Array.from({ length: records }, (_, i) => ({ key: `k${i}`, value: 'x' })),
  );
  await producer.disconnect();
  return {
    remove: async () => {
      await admin.deleteTopic(topic).catch(() => undefined);
      await admin.disconnect();
    },
  };
}
