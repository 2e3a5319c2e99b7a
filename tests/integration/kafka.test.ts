import { createKafkaEventLog } from '../../lib/adapters/kafka/kafkajs';
import type {
  EventAdmin,
  EventConsumer,
  EventProducer,
  IncomingRecord,
} from '../../lib/adapters/kafka/types';
import { eventually, memoryLogger, testConfig, uniqueName } from '../support/services';

const config = testConfig();
const eventLog = createKafkaEventLog({
  brokers: config.kafka.brokers,
  clientId: 'orderflow-test',
  logger: memoryLogger('silent').logger,
});

let admin: EventAdmin;
let producer: EventProducer;
const consumers: EventConsumer[] = [];
const topics: string[] = [];

beforeAll(async () => {
  admin = await eventLog.admin();
  producer = await eventLog.producer();
});

afterAll(async () => {
  await Promise.all(consumers.map((c) => c.stop()));
  for (const topic of topics) await admin.deleteTopic(topic).catch(() => undefined);
  await producer.disconnect();
  await admin.disconnect();
});

async function freshTopic(partitions: number): Promise<string> {
  const topic = uniqueName('test.events');
  topics.push(topic);
  expect(await admin.ensureTopic(topic, partitions)).toBe(true);
  expect(await admin.ensureTopic(topic, partitions)).toBe(false); // already there
  return topic;
}

const lagOf = async (group: string, topic: string) => {
  const [committed, ends] = await Promise.all([
    admin.committedOffsets(group, topic),
    admin.logEndOffsets(topic),
  ]);
  return ends.reduce((sum, end) => {
    const done = committed.find((c) => c.partition === end.partition)?.offset ?? -1n;
    return sum + (end.offset - (done < 0n ? 0n : done));
  }, 0n);
};

describe('Kafka adapter', () => {
  it('round-trips keyed records through a consumer group and commits what it handled', async () => {
    const topic = await freshTopic(3);
    const group = uniqueName('group');
    const received: IncomingRecord[] = [];
    const consumer = eventLog.consumer({
      groupId: group,
      topics: [topic],
      handle: async (record) => {
        received.push(record);
      },
    });
    consumers.push(consumer);
    await consumer.start();
    const records = Array.from({ length: 30 }, (_, i) => ({
      key: `order-${i % 5}`,
      value: JSON.stringify({ i }),
      headers: { 'ce-type': 'orderflow.test' },
    }));
    await producer.send(topic, records);

    await eventually(() => received.length === 30, { what: '30 records', timeoutMs: 45_000 });
    expect(received.map((r) => JSON.parse(r.value!.toString()).i).sort((a, b) => a - b)).toEqual(
      records.map((_, i) => i),
    );
    expect(received[0]!.headers['ce-type']).toBe('orderflow.test');
    // Same key, same partition: per-order ordering holds.
    const partitionsByKey = new Map<string, Set<number>>();
    for (const r of received)
      partitionsByKey.set(r.key!, (partitionsByKey.get(r.key!) ?? new Set()).add(r.partition));
    for (const partitions of partitionsByKey.values()) expect(partitions.size).toBe(1);
    for (const key of partitionsByKey.keys()) {
      const order = received
        .filter((r) => r.key === key)
        .map((r) => JSON.parse(r.value!.toString()).i as number);
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
    await eventually(async () => (await lagOf(group, topic)) === 0n, { what: 'zero lag after commit' });
  });

  it('reports the exact lag from committed and log-end offsets', async () => {
    const topic = await freshTopic(4);
    const group = uniqueName('group');
    // Nothing committed yet: every partition shows -1 and the lag is the whole log.
    await producer.send(
      topic,
      Array.from({ length: 7 }, (_, i) => ({ key: `k${i}`, value: 'x' })),
    );
    const committed = await admin.committedOffsets(group, topic);
    expect(committed.map((c) => c.offset)).toEqual([-1n, -1n, -1n, -1n]);
    expect(await lagOf(group, topic)).toBe(7n);

    // Consume everything, stop, then produce N more that nobody consumes.
    let seen = 0;
    const consumer = eventLog.consumer({ groupId: group, topics: [topic], handle: async () => void seen++ });
    await consumer.start();
    await eventually(() => seen === 7, { what: 'first 7 consumed', timeoutMs: 45_000 });
    await eventually(async () => (await lagOf(group, topic)) === 0n, { what: 'committed' });
    await consumer.stop();

    const unconsumed = 23;
    await producer.send(
      topic,
      Array.from({ length: unconsumed }, (_, i) => ({ key: `later-${i}`, value: 'y' })),
    );
    const ends = await admin.logEndOffsets(topic);
    expect(ends.reduce((s, p) => s + p.offset, 0n)).toBe(30n);
    expect(await lagOf(group, topic)).toBe(BigInt(unconsumed));
  });
});
