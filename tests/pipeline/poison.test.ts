import { randomUUID } from 'node:crypto';
import { createKafkaEventLog } from '../../lib/adapters/kafka/kafkajs';
import type { EventProducer } from '../../lib/adapters/kafka/types';
import { DEAD_LETTER_REASON_HEADER, RabbitClient, type Delivery } from '../../lib/adapters/rabbitmq/client';
import { DEAD_LETTER_QUEUE, ORDER_EVENTS_TOPIC, orderflowRabbit, TASK_EXCHANGE } from '../../lib/messaging';
import { insertOrder } from '../../lib/store/orders';
import { eventually, memoryLogger, testConfig, uniqueName } from '../support/services';
import { placeOrder, startPipeline, waitForTerminal, type Pipeline } from './harness';

const config = testConfig();
const logger = memoryLogger('silent').logger;
let pipeline: Pipeline;
let rabbit: RabbitClient;
let producer: EventProducer;
const dead: Delivery[] = [];

beforeAll(async () => {
  // Two attempts per stage, so a flaky payment exhausts its retries.
  pipeline = await startPipeline({ env: { WORKER_MAX_ATTEMPTS: '2' } });
  rabbit = orderflowRabbit({ url: config.rabbitmq.url, logger, connectionName: uniqueName('jest-poison') });
  await rabbit.start();
  // Watch the dead-letter queue (other runs' dead letters are read and dropped here too).
  await rabbit.consume(
    DEAD_LETTER_QUEUE,
    async (d) => {
      dead.push(d);
      return { action: 'ack' };
    },
    { prefetch: 50 },
  );
  producer = await createKafkaEventLog({
    brokers: config.kafka.brokers,
    clientId: 'jest-poison',
    logger,
  }).producer();
}, 60_000);

afterAll(async () => {
  await rabbit.close();
  await producer.disconnect();
  await pipeline.stop();
}, 60_000);

const reasonOf = (d: Delivery) => String(d.headers[DEAD_LETTER_REASON_HEADER] ?? '');

describe('retries exhausted', () => {
  it('ends the order FAILED with the reason, releases its stock, and dead-letters the task', async () => {
    const { merchantId, productIds } = await pipeline.api.merchantWithProducts([
      { priceCents: 100, stock: 10 },
    ]);
    const customer = await pipeline.api.account('customer');
    const id = await placeOrder(
      pipeline.api,
      customer.token,
      merchantId,
      [{ productId: productIds[0]!, quantity: 4 }],
      'tok_flaky',
    );
    expect((await waitForTerminal(pipeline.api, [id])).get(id)).toBe('FAILED');
    const [order] = await pipeline.api.db.query('SELECT failure_reason FROM orders WHERE id = $1', [id]);
    expect(order.failure_reason).toBe('retries exhausted after 2 attempts: gateway timeout (attempt 2)');
    const [product] = await pipeline.api.db.query('SELECT stock FROM products WHERE id = $1', [
      productIds[0],
    ]);
    expect(product.stock).toBe(10);
    expect(await pipeline.api.db.query('SELECT 1 FROM payments WHERE order_id = $1', [id])).toEqual([]);
    await eventually(() => dead.find((d) => d.messageId === `${id}:pay`), {
      what: 'the pay task in orderflow.dead',
    });
    expect(reasonOf(dead.find((d) => d.messageId === `${id}:pay`)!)).toBe(order.failure_reason);
  });
});

describe('a batch with one order that cannot be handled', () => {
  it('fails that order alone with its reason, and the rest of its batch completes', async () => {
    const { merchantId, productIds } = await pipeline.api.merchantWithProducts([
      { priceCents: 250, stock: 100 },
    ]);
    const customer = await pipeline.api.account('customer');
    const ids = Array.from({ length: 12 }, () => randomUUID());
    const bad = ids[5]!;
    // Committed together, so their tasks travel close together and usually share a stage batch
    // (how they are cut into batches depends on arrival times, so it is not asserted). The bad order
    // already has a VALIDATED history row, so its validate transition cannot be written.
    await pipeline.api.db.transaction(async (tx) => {
      for (const id of ids) {
        await insertOrder(tx, {
          id,
          customerId: customer.id,
          merchantId,
          items: [{ productId: productIds[0]!, quantity: 1, unitPriceCents: 250 }],
          totalCents: 250,
          deliveryAddress: { street: 'Rua A', city: 'Recife', postalCode: '50000-000', country: 'BR' },
          payment: { method: 'card', token: 'tok_visa' },
        });
      }
      await tx.query(
        `INSERT INTO order_history (order_id, from_status, to_status) VALUES ($1, 'PENDING', 'VALIDATED')`,
        [bad],
      );
    });
    const statuses = await waitForTerminal(pipeline.api, ids);
    expect(ids.filter((id) => statuses.get(id) === 'COMPLETED')).toEqual(ids.filter((id) => id !== bad));
    expect(statuses.get(bad)).toBe('FAILED');
    const [order] = await pipeline.api.db.query('SELECT failure_reason FROM orders WHERE id = $1', [bad]);
    expect(order.failure_reason).toMatch(/^failed: duplicate key value violates unique constraint/);
    await eventually(() => dead.find((d) => d.messageId === `${bad}:validate`), {
      what: "the bad order's validate task in orderflow.dead",
    });
    expect(reasonOf(dead.find((d) => d.messageId === `${bad}:validate`)!)).toBe(order.failure_reason);
    const [product] = await pipeline.api.db.query('SELECT stock FROM products WHERE id = $1', [
      productIds[0],
    ]);
    expect(product.stock).toBe(100 - 11);
  });
});

describe('poison messages', () => {
  it('are dead-lettered with their reason while good orders keep flowing', async () => {
    const marker = randomUUID();
    // Broken stage tasks, straight onto the queues.
    await rabbit.publish(TASK_EXCHANGE, 'validate', Buffer.from(`not json ${marker}`), {
      messageId: `poison-1-${marker}`,
    });
    await rabbit.publish(
      TASK_EXCHANGE,
      'pay',
      Buffer.from(JSON.stringify({ orderId: 'nope', stage: 'pay', attempt: 1 })),
      {
        messageId: `poison-2-${marker}`,
      },
    );
    await rabbit.publish(
      TASK_EXCHANGE,
      'reserve',
      Buffer.from(JSON.stringify({ orderId: randomUUID(), stage: 'reserve', attempt: 1 })),
      {
        messageId: `poison-3-${marker}`,
      },
    );
    // Broken events on Kafka: not JSON, and an event type nobody knows.
    await producer.send(ORDER_EVENTS_TOPIC, [
      { key: marker, value: `garbage ${marker}` },
      {
        key: marker,
        value: JSON.stringify({
          specversion: '1.0',
          type: 'orderflow.order.teleported',
          id: marker,
          data: {},
        }),
      },
    ]);

    // Meanwhile, real orders.
    const { merchantId, productIds } = await pipeline.api.merchantWithProducts([
      { priceCents: 100, stock: 100 },
    ]);
    const customer = await pipeline.api.account('customer');
    const ids = await Promise.all(
      Array.from({ length: 10 }, () =>
        placeOrder(pipeline.api, customer.token, merchantId, [{ productId: productIds[0]!, quantity: 1 }]),
      ),
    );
    const statuses = await waitForTerminal(pipeline.api, ids);
    expect([...statuses.values()]).toEqual(Array(10).fill('COMPLETED'));

    const mine = () =>
      dead.filter((d) => d.messageId?.endsWith(marker) || d.body.toString().includes(marker));
    await eventually(() => mine().length === 5, { timeoutMs: 30_000, what: 'five dead letters' });
    const reasons = mine().map(reasonOf).sort();
    expect(reasons).toEqual([
      'malformed task: body is not JSON',
      'malformed task: orderId is not a UUID',
      'not a JSON CloudEvent',
      'the order does not exist',
      'unknown event type "orderflow.order.teleported"',
    ]);
    const fromKafka = mine().find((d) => reasonOf(d) === 'not a JSON CloudEvent')!;
    expect(String(fromKafka.headers['x-orderflow-source'])).toMatch(/^orderflow\.order-events\/\d+\/\d+$/);
    expect(fromKafka.body.toString()).toBe(`garbage ${marker}`);
  });
});
