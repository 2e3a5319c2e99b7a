import {
  Kafka,
  logLevel as KafkaLogLevel,
  Partitioners,
  type Consumer,
  type IHeaders,
  type LogEntry,
} from 'kafkajs';
import type { Logger } from '../../telemetry/logger';
import type {
  ConsumerOptions,
  EventAdmin,
  EventConsumer,
  EventLog,
  EventProducer,
  IncomingRecord,
  PartitionOffset,
} from './types';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

/**
 * Warnings kafkajs prints on every start that say nothing about this deployment: we choose the
 * partitioner explicitly, and the relay bounds producer retries on purpose (it retries whole batches).
 */
const QUIET = ['switched default partitioner', 'Limiting retries for the idempotent producer'];

/**
 * The messages of the protocol errors Kafka marks retriable, from kafkajs's own table of error codes
 * (its source; the package declares no types for it).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { errorCodes } = require('kafkajs/src/protocol/error') as {
  errorCodes: { message: string; retriable: boolean }[];
};
const RETRIABLE = new Set(errorCodes.filter((e) => e.retriable).map((e) => e.message));

/**
 * The level a kafkajs log entry is written at. Its info lines are chatty: debug. It logs every error
 * response as an error before its retry layer has seen it, so a fresh broker (coordinators loading,
 * a topic's leader not elected yet) printed red lines for what kafkajs then retried and got past;
 * retriable error responses are debug too, and what still fails after the retries reaches the
 * caller as an exception, which the caller logs.
 */
export function kafkaLogLevel(
  level: number,
  message: string,
  error?: unknown,
): 'error' | 'warn' | 'info' | 'debug' {
  const mapped = LEVELS[level] ?? 'debug';
  if (mapped === 'info' || QUIET.some((text) => message.includes(text))) return 'debug';
  if (message.startsWith('Response ') && typeof error === 'string' && RETRIABLE.has(error)) return 'debug';
  return mapped;
}

/** kafkajs logs through our pino logger, at the level `kafkaLogLevel` gives. */
function kafkaLogCreator(logger: Logger) {
  const child = logger.child({ component: 'kafka' });
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      child[kafkaLogLevel(level, message, extra.error)](extra, message);
    };
}

function headersOf(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? String(value[value.length - 1]) : String(value);
  }
  return out;
}

export function createKafkaEventLog(options: {
  brokers: readonly string[];
  clientId: string;
  logger: Logger;
}): EventLog {
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    logLevel: KafkaLogLevel.INFO,
    logCreator: kafkaLogCreator(options.logger),
    retry: { initialRetryTime: 300, retries: 10, maxRetryTime: 10_000 },
  });

  return {
    async producer(): Promise<EventProducer> {
      const producer = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        // Java-compatible murmur2: a key lands on the same partition whichever client wrote it.
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      return {
        async send(topic, records) {
          if (records.length === 0) return;
          await producer.send({
            topic,
            acks: -1,
            messages: records.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
          });
        },
        disconnect: () => producer.disconnect(),
      };
    },

    consumer(consumerOptions: ConsumerOptions): EventConsumer {
      return new KafkajsConsumer(kafka, consumerOptions, options.logger.child({ component: 'kafka' }));
    },

    async admin(): Promise<EventAdmin> {
      const admin = kafka.admin();
      await admin.connect();
      const toOffsets = (rows: { partition: number; offset: string }[]): PartitionOffset[] =>
        rows
          .map((r) => ({ partition: r.partition, offset: BigInt(r.offset) }))
          .sort((a, b) => a.partition - b.partition);
      return {
        async ensureTopic(topic, partitions) {
          const existing = await admin.listTopics();
          if (existing.includes(topic)) return false;
          try {
            return await admin.createTopics({
              topics: [{ topic, numPartitions: partitions }],
              waitForLeaders: true,
            });
          } catch (err) {
            // Another replica created it between our list and create.
            if ((err as { type?: string }).type === 'TOPIC_ALREADY_EXISTS') return false;
            throw err;
          }
        },
        async logEndOffsets(topic) {
          return toOffsets(
            (await retriable(() => admin.fetchTopicOffsets(topic))).map((p) => ({
              partition: p.partition,
              offset: p.high,
            })),
          );
        },
        async logStartOffsets(topic) {
          return toOffsets(
            (await retriable(() => admin.fetchTopicOffsets(topic))).map((p) => ({
              partition: p.partition,
              offset: p.low,
            })),
          );
        },
        async committedOffsets(groupId, topic) {
          const [entry] = await retriable(() => admin.fetchOffsets({ groupId, topics: [topic] }));
          return toOffsets(entry?.partitions ?? []);
        },
        async deleteTopic(topic) {
          await admin.deleteTopics({ topics: [topic] });
        },
        disconnect: () => admin.disconnect(),
      };
    },
  };
}

/**
 * Admin reads right after a broker (re)start can meet "not the coordinator" or "coordinator loading":
 * errors Kafka marks retriable. kafkajs' admin passes some of them straight up; we try again briefly.
 */
async function retriable<T>(call: () => Promise<T>, attempts = 6): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable || attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
    }
  }
}

/** Inside a long batch, handled offsets are committed at most this often. */
const COMMIT_INTERVAL_MS = 1000;

class KafkajsConsumer implements EventConsumer {
  private readonly consumer: Consumer;
  private readonly handleBatch: (records: IncomingRecord[]) => Promise<void>;
  private readonly maxBatch: number;
  private stopped = false;

  constructor(
    kafka: Kafka,
    private readonly options: ConsumerOptions,
    private readonly logger: Logger,
  ) {
    if ('handleBatch' in options) {
      this.handleBatch = (records) => options.handleBatch(records);
      this.maxBatch = options.maxBatch ?? 500;
    } else {
      this.handleBatch = async (records) => {
        for (const record of records) await options.handle(record);
      };
      this.maxBatch = 1;
    }
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      // A member that dies without leaving holds its partitions until this passes: keep it short.
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      // How long the broker holds a fetch that finds nothing new. Leaving the group waits for the
      // fetch in flight, so kafkajs' 5 s default made every stop take 5 s.
      maxWaitTimeInMs: 500,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
    // kafkajs gives up on errors it deems non-retriable (e.g. "the coordinator is not aware of this
    // member" after a broker restart) and leaves the process alive but idle. We never give up.
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || this.stopped) return;
      this.logger.error(
        { err: payload.error, groupId: options.groupId },
        'Kafka consumer crashed, rejoining',
      );
      setTimeout(() => void this.rejoin(), 1000);
    });
  }

  private async rejoin(attempt = 1): Promise<void> {
    if (this.stopped) return;
    try {
      await this.consumer.disconnect();
      await this.start();
      this.logger.info({ groupId: this.options.groupId }, 'Kafka consumer rejoined');
    } catch (err) {
      this.logger.warn({ err, attempt }, 'Kafka consumer could not rejoin yet');
      setTimeout(() => void this.rejoin(attempt + 1), Math.min(10_000, 500 * 2 ** attempt));
    }
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: this.options.topics,
      fromBeginning: this.options.fromBeginning ?? true,
    });
    await this.consumer.run({
      // kafkajs commits the resolved offsets (records handled) after every batch, when a handler
      // fails, and before a rebalance; inside a long batch at most once a COMMIT_INTERVAL_MS. A
      // record is resolved only after its handler resolved: a crash before that delivers it again.
      autoCommit: true,
      autoCommitInterval: COMMIT_INTERVAL_MS,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConcurrently ?? 1,
      eachBatch: async ({
        batch,
        heartbeat,
        isRunning,
        isStale,
        resolveOffset,
        commitOffsetsIfNecessary,
      }) => {
        const records = batch.messages.map((message): IncomingRecord => ({
          topic: batch.topic,
          partition: batch.partition,
          offset: message.offset,
          key: message.key ? message.key.toString() : null,
          value: message.value,
          headers: headersOf(message.headers),
          timestamp: Number(message.timestamp),
        }));
        for (let i = 0; i < records.length; i += this.maxBatch) {
          if (!isRunning() || isStale()) break;
          const chunk = records.slice(i, i + this.maxBatch);
          // A slow handler (say, waiting for RabbitMQ to come back) must not cost us the group membership.
          const beat = setInterval(() => void heartbeat().catch(() => undefined), 1000);
          try {
            await this.handleBatch(chunk);
          } finally {
            clearInterval(beat);
          }
          // A failed chunk is not resolved: the records from it on are read again.
          resolveOffset(chunk[chunk.length - 1]!.offset);
          await commitOffsetsIfNecessary();
          await heartbeat();
        }
      },
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer.disconnect();
  }
}
