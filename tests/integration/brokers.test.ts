import { createKafkaEventLog } from '../../lib/adapters/kafka/kafkajs';
import { managementApi } from '../../lib/adapters/rabbitmq/management';
import { declareBrokers } from '../../lib/brokers';
import { ORDER_EVENTS_TOPIC, orderflowTopology, stageQueue } from '../../lib/messaging';
import { STAGES } from '../../lib/domain/pipeline';
import { memoryLogger, okResponse, testConfig, uniqueName } from '../support/services';

/**
 * `orderflow up` declares the brokers' side before any role starts. Fresh brokers are a fresh
 * RabbitMQ virtual host here (the shared one already holds every queue); the topic's name is fixed,
 * so on the shared Kafka broker it is found, not created.
 */
const base = testConfig();
const api = managementApi(base.rabbitmq.managementUrl);
const vhost = uniqueName('declare');
const user = decodeURIComponent(new URL(base.rabbitmq.url).username);

const json = { 'content-type': 'application/json' };

beforeAll(async () => {
  await okResponse(
    api(`/api/vhosts/${encodeURIComponent(vhost)}`, { method: 'PUT', headers: json, body: '{}' }),
    'vhost',
  );
  await okResponse(
    api(`/api/permissions/${encodeURIComponent(vhost)}/${encodeURIComponent(user)}`, {
      method: 'PUT',
      headers: json,
      body: JSON.stringify({ configure: '.*', write: '.*', read: '.*' }),
    }),
    'permissions',
  );
});

afterAll(async () => {
  await api(`/api/vhosts/${encodeURIComponent(vhost)}`, { method: 'DELETE' });
});

describe('declareBrokers', () => {
  it('declares every queue, exchange and binding of the topology on fresh brokers, and the order-events topic', async () => {
    const url = Object.assign(new URL(base.rabbitmq.url), { pathname: `/${encodeURIComponent(vhost)}` });
    const config = testConfig({ RABBITMQ_URL: url.toString() });
    const queues = async () =>
      (await (await okResponse(api(`/api/queues/${encodeURIComponent(vhost)}`), 'queues')).json()) as {
        name: string;
        type: string;
        arguments: Record<string, unknown>;
      }[];
    expect(await queues()).toEqual([]);

    const { logger } = memoryLogger();
    await declareBrokers(config, logger);

    const declared = await queues();
    expect(declared.map((q) => q.name).sort()).toEqual(orderflowTopology.queues.map((q) => q.name).sort());
    for (const stage of STAGES) {
      const queue = declared.find((q) => q.name === stageQueue(stage));
      expect(queue).toMatchObject({
        type: 'quorum',
        arguments: expect.objectContaining({ 'x-delivery-limit': 20 }),
      });
    }
    const exchanges = (await (
      await okResponse(api(`/api/exchanges/${encodeURIComponent(vhost)}`), 'exchanges')
    ).json()) as {
      name: string;
    }[];
    expect(exchanges.map((e) => e.name)).toEqual(
      expect.arrayContaining(orderflowTopology.exchanges.map((e) => e.name)),
    );
    const bindings = (await (
      await okResponse(api(`/api/bindings/${encodeURIComponent(vhost)}`), 'bindings')
    ).json()) as {
      source: string;
      destination: string;
      routing_key: string;
    }[];
    for (const b of orderflowTopology.bindings) {
      expect(bindings).toContainEqual(
        expect.objectContaining({ source: b.exchange, destination: b.queue, routing_key: b.routingKey }),
      );
    }

    const admin = await createKafkaEventLog({
      brokers: config.kafka.brokers,
      clientId: 'test-declare',
      logger,
    }).admin();
    try {
      expect((await admin.logEndOffsets(ORDER_EVENTS_TOPIC)).length).toBeGreaterThan(0);
    } finally {
      await admin.disconnect();
    }
    // Idempotent: a second start (or a role declaring its own part) changes nothing.
    const second = await declareBrokers(config, logger);
    expect(second.topicCreated).toBe(false);
    expect((await queues()).length).toBe(declared.length);
  });
});
