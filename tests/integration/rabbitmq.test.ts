import { randomUUID } from 'node:crypto';
import {
  RabbitClient,
  UnroutableError,
  DEAD_LETTER_REASON_HEADER,
  type Delivery,
} from '../../lib/adapters/rabbitmq/client';
import type { Topology } from '../../lib/adapters/rabbitmq/topology';
import { rabbitDepthSource } from '../../operator/sources/rabbitmq-depth';
import { eventually, memoryLogger, rabbitmqctl, testConfig, uniqueName } from '../support/services';

/** Each test declares its own exchange and queues, so tests never see each other's messages. */
function isolatedTopology() {
  const prefix = uniqueName('test');
  const names = {
    exchange: `${prefix}.tasks`,
    queue: `${prefix}.work`,
    dlx: `${prefix}.dlx`,
    dead: `${prefix}.dead`,
  };
  const topology: Topology = {
    exchanges: [
      { name: names.exchange, type: 'direct' },
      { name: names.dlx, type: 'fanout' },
    ],
    queues: [
      { name: names.queue, type: 'quorum', deadLetterExchange: names.dlx, deliveryLimit: 5 },
      { name: names.dead, type: 'quorum' },
    ],
    bindings: [
      { exchange: names.exchange, queue: names.queue, routingKey: 'work' },
      { exchange: names.dlx, queue: names.dead, routingKey: '' },
    ],
  };
  return { names, topology };
}

const config = testConfig();
const clients: RabbitClient[] = [];

function client(topology: Topology, dlx: string) {
  const c = new RabbitClient({
    url: config.rabbitmq.url,
    topology,
    logger: memoryLogger('silent').logger,
    connectionName: uniqueName('jest'),
    deadLetter: { exchange: dlx, routingKey: '' },
    reconnect: { initialDelayMs: 100, maxDelayMs: 1000 },
  });
  clients.push(c);
  return c;
}

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

const body = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('RabbitMQ adapter', () => {
  it('publishes with a confirm, consumes, and acks', async () => {
    const { names, topology } = isolatedTopology();
    const rabbit = client(topology, names.dlx);
    await rabbit.start();
    const received: Delivery[] = [];
    await rabbit.consume(
      names.queue,
      async (d) => {
        received.push(d);
        return { action: 'ack' };
      },
      { prefetch: 10 },
    );
    await rabbit.publish(names.exchange, 'work', body({ n: 1 }), {
      messageId: 'm-1',
      headers: { trace: 't' },
    });
    await eventually(() => received.length === 1, { what: 'delivery' });
    expect(JSON.parse(received[0]!.body.toString())).toEqual({ n: 1 });
    expect(received[0]!.messageId).toBe('m-1');
    expect(received[0]!.headers.trace).toBe('t');
    // Acked: nothing is left ready or unacknowledged.
    await eventually(async () => (await queueDepth(names.queue)) === 0, { what: 'empty queue' });
  });

  it('dead-letters a rejected message with its reason', async () => {
    const { names, topology } = isolatedTopology();
    const rabbit = client(topology, names.dlx);
    await rabbit.start();
    await rabbit.consume(
      names.queue,
      async () => ({ action: 'dead-letter', reason: 'items: must not be empty' }),
      {
        prefetch: 1,
      },
    );
    const dead: Delivery[] = [];
    await rabbit.consume(
      names.dead,
      async (d) => {
        dead.push(d);
        return { action: 'ack' };
      },
      { prefetch: 1 },
    );
    await rabbit.publish(names.exchange, 'work', body({ broken: true }), { messageId: 'poison-1' });
    await eventually(() => dead.length === 1, { what: 'dead letter' });
    expect(dead[0]!.messageId).toBe('poison-1');
    expect(dead[0]!.headers[DEAD_LETTER_REASON_HEADER]).toBe('items: must not be empty');
    expect(dead[0]!.headers['x-orderflow-original-queue']).toBe(names.queue);
    expect(JSON.parse(dead[0]!.body.toString())).toEqual({ broken: true });
  });

  it('counts what it holds, and on stop handles every delivery it has rather than handing one back', async () => {
    const { names, topology } = isolatedTopology();
    const rabbit = client(topology, names.dlx);
    await rabbit.start();
    const handled: Delivery[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // Batches of 2 with room for 10: the first batch waits at the gate, the rest wait for a turn.
    await rabbit.consumeBatches(
      names.queue,
      async (deliveries) => {
        await gate;
        handled.push(...deliveries);
        return deliveries.map(() => ({ action: 'ack' }));
      },
      { prefetch: 10, maxBatch: 2, lingerMs: 0 },
    );
    for (let n = 0; n < 10; n++) await rabbit.publish(names.exchange, 'work', body({ n }));
    await eventually(() => rabbit.held(names.queue) === 10, { what: 'ten deliveries held' });
    const stopping = rabbit.stopConsuming();
    release();
    await stopping;
    expect(rabbit.held(names.queue)).toBe(0);
    // Each handled once, none flagged as redelivered, nothing left in the queue for another worker.
    expect(handled.map((d) => JSON.parse(d.body.toString()).n).sort((a, b) => a - b)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    expect(handled.every((d) => !d.redelivered)).toBe(true);
    await eventually(async () => (await queueDepth(names.queue)) === 0, { what: 'empty queue' });
  });

  it('fails a publish that no queue can receive', async () => {
    const { names, topology } = isolatedTopology();
    const rabbit = client(topology, names.dlx);
    await rabbit.start();
    await expect(rabbit.publish(names.exchange, 'nobody-listens', body({}))).rejects.toBeInstanceOf(
      UnroutableError,
    );
    // The channel stays usable after a return.
    await expect(rabbit.publish(names.exchange, 'work', body({}))).resolves.toBeUndefined();
  });

  it('reconnects after the broker closes every connection and consumes each confirmed message', async () => {
    const { names, topology } = isolatedTopology();
    const publisher = client(topology, names.dlx);
    const consumer = client(topology, names.dlx);
    await publisher.start();
    await consumer.start();
    const seen = new Map<string, number>();
    const redeliveredIds = new Set<string>();
    await consumer.consume(
      names.queue,
      async (d) => {
        await new Promise((r) => setTimeout(r, 2)); // slow enough to be mid-stream when the connection dies
        seen.set(d.messageId!, (seen.get(d.messageId!) ?? 0) + 1);
        if (d.redelivered) redeliveredIds.add(d.messageId!);
        return { action: 'ack' };
      },
      { prefetch: 20 },
    );

    const total = 600;
    const ids = Array.from({ length: total }, () => randomUUID());
    const republished = new Set<string>();
    let killed = false;
    for (const [i, id] of ids.entries()) {
      if (i === total / 3) {
        await rabbitmqctl('close_all_connections', 'test: connection killed');
        killed = true;
      }
      // At-least-once publishing: a publish that was not confirmed is sent again with the same id.
      for (;;) {
        try {
          await publisher.publish(names.exchange, 'work', body({ i }), { messageId: id, timeoutMs: 10_000 });
          break;
        } catch {
          republished.add(id);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }
    expect(killed).toBe(true);
    await eventually(() => ids.every((id) => seen.has(id)), {
      timeoutMs: 60_000,
      what: 'every message consumed',
    });
    await eventually(async () => (await queueDepth(names.queue)) === 0, { what: 'queue drained' });

    expect(publisher.connects).toBeGreaterThanOrEqual(2);
    expect(consumer.connects).toBeGreaterThanOrEqual(2);
    expect(new Set(seen.keys())).toEqual(new Set(ids));
    // A message is seen twice only when the broker redelivered it (unacked when the connection died)
    // or the publisher sent it again (its confirm was lost): at-least-once, never a phantom copy.
    const duplicates = [...seen.entries()].filter(([, n]) => n > 1).map(([id]) => id);
    for (const id of duplicates) expect(redeliveredIds.has(id) || republished.has(id)).toBe(true);
  });
});

const queueDepth = (queue: string) =>
  rabbitDepthSource({ managementUrl: config.rabbitmq.managementUrl, queue }).measure();
