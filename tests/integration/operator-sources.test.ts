import { createKafkaEventLog } from '../../lib/adapters/kafka/kafkajs';
import type { EventAdmin, EventProducer } from '../../lib/adapters/kafka/types';
import { RabbitClient } from '../../lib/adapters/rabbitmq/client';
import { kafkaLagSource } from '../../operator/sources/kafka-lag';
import { rabbitDepthSource } from '../../operator/sources/rabbitmq-depth';
import { rabbitPublishRateSource } from '../../operator/sources/rabbitmq-rate';
import { rabbitBacklog } from '../support/backlog';
import { eventually, memoryLogger, testConfig, uniqueName } from '../support/services';

const config = testConfig();
const logger = memoryLogger('silent').logger;

describe('Kafka lag source', () => {
  const eventLog = createKafkaEventLog({ brokers: config.kafka.brokers, clientId: 'jest-operator', logger });
  let admin: EventAdmin;
  let producer: EventProducer;
  const topic = uniqueName('test.lag');

  beforeAll(async () => {
    admin = await eventLog.admin();
    producer = await eventLog.producer();
    await admin.ensureTopic(topic, 3);
  });
  afterAll(async () => {
    await admin.deleteTopic(topic).catch(() => undefined);
    await producer.disconnect();
    await admin.disconnect();
  });

  it('gives the exact lag: the whole log for a group that never committed, then what is left unconsumed', async () => {
    const group = uniqueName('group');
    const source = kafkaLagSource(async () => admin, { topic, consumerGroup: group });
    expect(await source.cap!()).toBe(3);
    await producer.send(
      topic,
      Array.from({ length: 7 }, (_, i) => ({ key: `a${i}`, value: 'x' })),
    );
    expect(await source.measure()).toBe(7);

    let seen = 0;
    const consumer = eventLog.consumer({ groupId: group, topics: [topic], handle: async () => void seen++ });
    await consumer.start();
    await eventually(async () => seen === 7 && (await source.measure()) === 0, {
      timeoutMs: 45_000,
      what: 'caught up',
    });
    await consumer.stop();

    await producer.send(
      topic,
      Array.from({ length: 23 }, (_, i) => ({ key: `b${i}`, value: 'y' })),
    );
    expect(await source.measure()).toBe(23);
  });
});

describe('RabbitMQ depth source', () => {
  it('counts ready and unacknowledged messages', async () => {
    const queue = uniqueName('test.depth');
    const exchange = `${queue}.x`;
    const rabbit = new RabbitClient({
      url: config.rabbitmq.url,
      topology: {
        exchanges: [{ name: exchange, type: 'direct' }],
        queues: [{ name: queue, type: 'quorum' }],
        bindings: [{ exchange, queue, routingKey: 'k' }],
      },
      logger,
      connectionName: uniqueName('jest-depth'),
      deadLetter: { exchange, routingKey: 'none' },
    });
    await rabbit.start();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    try {
      for (let i = 0; i < 10; i++) await rabbit.publish(exchange, 'k', Buffer.from(String(i)));
      // A busy consumer: takes 3 and works on them (never acks while we measure).
      let taken = 0;
      await rabbit.consume(
        queue,
        async () => {
          taken++;
          await held;
          return { action: 'ack' };
        },
        { prefetch: 3 },
      );
      await eventually(() => taken === 3, { what: 'three in flight' });
      const source = rabbitDepthSource({ managementUrl: config.rabbitmq.managementUrl, queue });
      // The management API refreshes queue statistics every few seconds.
      await eventually(async () => (await source.measure()) === 10, {
        timeoutMs: 30_000,
        what: '7 ready + 3 unacked',
      });
      await expect(
        rabbitDepthSource({
          managementUrl: config.rabbitmq.managementUrl,
          queue: uniqueName('missing'),
        }).measure(),
      ).rejects.toThrow(/answered 404/);
    } finally {
      release();
      await rabbit.close();
    }
  });
});

describe('RabbitMQ publish-rate source', () => {
  it('reports messages per second while they arrive, and zero once they stop', async () => {
    const queue = uniqueName('test.rate');
    const backlog = rabbitBacklog(config.rabbitmq.managementUrl, queue);
    await backlog.create();
    const source = rabbitPublishRateSource({ managementUrl: config.rabbitmq.managementUrl, queue });
    try {
      expect(source.name).toBe(`rabbitmq:${queue}/publish-rate`);
      expect(await source.measure()).toBe(0);
      let rate = 0;
      const deadline = Date.now() + 20_000;
      // A steady trickle of about 20 messages per second until the broker's rate shows it.
      while (rate === 0 && Date.now() < deadline) {
        await backlog.publish(10);
        await new Promise((r) => setTimeout(r, 250));
        rate = await source.measure();
      }
      expect(rate).toBeGreaterThan(0);
      await eventually(async () => (await source.measure()) === 0, {
        what: 'rate back to 0',
        timeoutMs: 30_000,
      });
    } finally {
      await backlog.remove();
    }
  });
});
