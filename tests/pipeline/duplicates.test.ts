import { createKafkaEventLog } from '../../lib/adapters/kafka/kafkajs';
import type { EventAdmin, EventProducer } from '../../lib/adapters/kafka/types';
import type { RabbitClient } from '../../lib/adapters/rabbitmq/client';
import { encodeTask, STAGES, taskMessageId } from '../../lib/domain/pipeline';
import {
  DISPATCHER_GROUP,
  ORDER_EVENTS_TOPIC,
  orderflowRabbit,
  stageQueue,
  TASK_EXCHANGE,
} from '../../lib/messaging';
import { rabbitDepthSource } from '../../operator/sources/rabbitmq-depth';
import { eventually, memoryLogger, testConfig, uniqueName } from '../support/services';
import { assertInvariants, placeOrder, startPipeline, waitForTerminal, type Pipeline } from './harness';

const config = testConfig();
const logger = memoryLogger('silent').logger;
let pipeline: Pipeline;
let rabbit: RabbitClient;
let producer: EventProducer;
let admin: EventAdmin;

beforeAll(async () => {
  // Two relays and two workers: replicas share the work without doing anything twice. Published
  // outbox rows are kept (OUTBOX_RETENTION_HOURS), so every event an order caused can be counted.
  pipeline = await startPipeline({ workers: [[], []], relays: 2, env: { OUTBOX_RETENTION_HOURS: '1' } });
  rabbit = orderflowRabbit({
    url: config.rabbitmq.url,
    logger,
    connectionName: uniqueName('jest-duplicates'),
  });
  await rabbit.start();
  const eventLog = createKafkaEventLog({
    brokers: config.kafka.brokers,
    clientId: 'jest-duplicates',
    logger,
  });
  producer = await eventLog.producer();
  admin = await eventLog.admin();
}, 60_000);

afterAll(async () => {
  await rabbit.close();
  await producer.disconnect();
  await admin.disconnect();
  await pipeline.stop();
}, 60_000);

async function queuesIdle(): Promise<boolean> {
  for (const stage of STAGES) {
    const depth = rabbitDepthSource({
      managementUrl: config.rabbitmq.managementUrl,
      queue: stageQueue(stage),
    });
    if ((await depth.measure()) !== 0) return false;
  }
  const [committed, ends] = await Promise.all([
    admin.committedOffsets(DISPATCHER_GROUP, ORDER_EVENTS_TOPIC),
    admin.logEndOffsets(ORDER_EVENTS_TOPIC),
  ]);
  return ends.every((e) => committed.find((c) => c.partition === e.partition)?.offset === e.offset);
}

async function counts(orderId: string) {
  const [row] = await pipeline.api.db.query(
    `SELECT (SELECT count(*) FROM payments WHERE order_id = $1)::int AS payments,
            (SELECT count(*) FROM stock_movements WHERE order_id = $1)::int AS movements,
            (SELECT count(*) FROM order_history WHERE order_id = $1)::int AS history,
            (SELECT count(*) FROM inbox WHERE order_id = $1)::int AS inbox,
            (SELECT count(*) FROM outbox WHERE aggregate_id = $1)::int AS events`,
    [orderId],
  );
  return row as Record<string, number>;
}

async function replayEverything(orderId: string, copies: number) {
  const [created] = await pipeline.api.db.query(
    `SELECT payload FROM outbox WHERE aggregate_id = $1 AND event_type = 'orderflow.order.created'`,
    [orderId],
  );
  const event = JSON.stringify(created.payload);
  await producer.send(
    ORDER_EVENTS_TOPIC,
    Array.from({ length: copies }, () => ({ key: orderId, value: event })),
  );
  await Promise.all(
    STAGES.flatMap((stage) =>
      Array.from({ length: copies }, () =>
        rabbit.publish(TASK_EXCHANGE, stage, encodeTask({ orderId, stage, attempt: 1 }), {
          messageId: taskMessageId({ orderId, stage }),
        }),
      ),
    ),
  );
}

describe('duplicate deliveries change nothing', () => {
  it('the same Kafka event and every stage task, many times after completion', async () => {
    const { merchantId, productIds } = await pipeline.api.merchantWithProducts([
      { priceCents: 990, stock: 20 },
    ]);
    const customer = await pipeline.api.account('customer');
    const id = await placeOrder(pipeline.api, customer.token, merchantId, [
      { productId: productIds[0]!, quantity: 2 },
    ]);
    expect((await waitForTerminal(pipeline.api, [id])).get(id)).toBe('COMPLETED');
    const before = await counts(id);
    expect(before).toEqual({ payments: 1, movements: 1, history: 5, inbox: 4, events: 5 });

    await replayEverything(id, 5);
    await eventually(queuesIdle, { timeoutMs: 30_000, intervalMs: 500, what: 'duplicates consumed' });
    expect(await counts(id)).toEqual(before);
    await assertInvariants(pipeline.api, [id], new Map([[productIds[0]!, 20]]));
  });

  it('duplicates racing the first delivery, on two workers', async () => {
    const { merchantId, productIds } = await pipeline.api.merchantWithProducts([
      { priceCents: 990, stock: 20 },
    ]);
    const customer = await pipeline.api.account('customer');
    const ids = await Promise.all(
      Array.from({ length: 5 }, () =>
        placeOrder(pipeline.api, customer.token, merchantId, [{ productId: productIds[0]!, quantity: 1 }]),
      ),
    );
    await Promise.all(ids.map((id) => replayEverything(id, 4)));
    const statuses = await waitForTerminal(pipeline.api, ids);
    expect([...statuses.values()]).toEqual(Array(5).fill('COMPLETED'));
    await eventually(queuesIdle, { timeoutMs: 30_000, intervalMs: 500, what: 'duplicates consumed' });
    for (const id of ids)
      expect(await counts(id)).toEqual({ payments: 1, movements: 1, history: 5, inbox: 4, events: 5 });
    await assertInvariants(pipeline.api, ids, new Map([[productIds[0]!, 20]]));
  });
});
