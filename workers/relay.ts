import { Counter, Gauge, Histogram } from 'prom-client';
import type { DataSource } from 'typeorm';
import { createKafkaEventLog } from '../lib/adapters/kafka/kafkajs';
import type { EventProducer } from '../lib/adapters/kafka/types';
import { Connection } from '../lib/adapters/postgres/connection';
import { createDataSource, pingDatabase } from '../lib/adapters/postgres/data-source';
import { CLOUDEVENTS_CONTENT_TYPE, EVENT_TYPE_HEADER } from '../lib/domain/events';
import { ensureOrderEventsTopic } from '../lib/brokers';
import { ORDER_EVENTS_TOPIC } from '../lib/messaging';
import { backoffDelay, sleep } from '../lib/backoff';
import { execute, many, one, type Queryable } from '../lib/store/db';
import { hasUnpublished, OUTBOX_CHANNEL } from '../lib/store/outbox';
import type { Logger } from '../lib/telemetry/logger';
import type { ProcessContext, RunningRole } from '../lib/process';

interface OutboxRow {
  id: string;
  aggregateId: string;
  eventType: string;
  /** The event as JSON text: read as text, it goes to Kafka without being parsed and serialized again. */
  payload: string;
  ageSeconds: number;
}

/**
 * Publishes one batch: claims unpublished rows (SKIP LOCKED, so replicas share the work without
 * blocking each other), sends them with the idempotent producer, and in the same transaction deletes
 * them, or with `keepPublished` marks them published (kept for the retention period). A crash between
 * send and commit publishes the batch again: consumers are idempotent. Deleting is the default: an
 * outbox row is written once and read once, and marking it rewrote the whole row (its event included),
 * which was a sixth of PostgreSQL's write-ahead log per order.
 */
export async function relayBatch(
  db: DataSource,
  producer: EventProducer,
  batchSize: number,
  keepPublished = false,
): Promise<OutboxRow[]> {
  return db.transaction(async (tx) => {
    const rows = await many<OutboxRow>(
      tx,
      `SELECT id, aggregate_id AS "aggregateId", event_type AS "eventType", payload::text AS payload, extract(epoch FROM now() - created_at)::float8 AS "ageSeconds"
         FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [batchSize],
    );
    if (rows.length === 0) return rows;
    await producer.send(
      ORDER_EVENTS_TOPIC,
      rows.map((r) => ({
        key: r.aggregateId,
        value: r.payload,
        headers: { 'content-type': CLOUDEVENTS_CONTENT_TYPE, [EVENT_TYPE_HEADER]: r.eventType },
      })),
    );
    await execute(
      tx,
      keepPublished
        ? `UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])`
        : `DELETE FROM outbox WHERE id = ANY($1::bigint[])`,
      [rows.map((r) => r.id)],
    );
    return rows;
  });
}

/**
 * Wakes the relay when a stage transaction commits status events (they notify); new orders do not
 * notify and are found by the poll. Reconnects on its own if the link drops. `probe()` is the same
 * connection while it is up, for the poll's look: a bare query on it costs a fraction of one through
 * the pool.
 */
function listenForOutbox(url: string, logger: Logger, wake: () => void) {
  let client: Connection | undefined;
  let stopped = false;
  const connect = async () => {
    if (stopped) return;
    const next = new Connection({ connectionString: url, application_name: 'orderflow-relay-listen' });
    next.on('notification', wake);
    next.on('error', (err) => {
      logger.warn({ err }, 'outbox listener lost, polling until it is back');
      void next.end().catch(() => undefined);
      if (client !== next) return;
      // The poll's look goes through the pool until the listener is back.
      client = undefined;
      setTimeout(() => void connect(), 1000);
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${OUTBOX_CHANNEL}`);
      client = next;
      wake();
    } catch (err) {
      logger.warn({ err }, 'outbox listener could not connect, retrying');
      setTimeout(() => void connect(), 1000);
    }
  };
  void connect();
  return {
    probe: (): Queryable | undefined => {
      const listening = client;
      return listening && { query: async (sql, params) => (await listening.query(sql, params)).rows };
    },
    stop: async () => {
      stopped = true;
      await client?.end().catch(() => undefined);
    },
  };
}

export async function startRelay({ config, logger, registry }: ProcessContext): Promise<RunningRole> {
  const db = createDataSource({ url: config.database.url, poolSize: 3, applicationName: 'orderflow-relay' });
  await db.initialize();
  const eventLog = createKafkaEventLog({
    brokers: config.kafka.brokers,
    clientId: `${config.kafka.clientId}-relay`,
    logger,
  });
  if (await ensureOrderEventsTopic(eventLog, config.pipeline.topicPartitions)) {
    logger.info({ topic: ORDER_EVENTS_TOPIC, partitions: config.pipeline.topicPartitions }, 'topic created');
  }
  const producer = await eventLog.producer();

  const published = new Counter({
    name: 'orderflow_outbox_published_total',
    help: 'Outbox events published to Kafka',
    registers: [registry],
  });
  const lag = new Histogram({
    name: 'orderflow_outbox_publish_lag_seconds',
    help: 'From outbox insert to publication',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  new Gauge({
    name: 'orderflow_outbox_backlog',
    help: 'Outbox events not yet published',
    registers: [registry],
    async collect() {
      const row = await one<{ n: number }>(
        db,
        `SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`,
      );
      this.set(row?.n ?? 0);
    },
  });

  // A notification that arrives while a batch is being published must not be lost: it is
  // remembered, and the next wait is skipped.
  let woken = false;
  let wakeUp: () => void = () => undefined;
  const wake = () => {
    woken = true;
    wakeUp();
  };
  const keepPublished = config.pipeline.outboxRetentionHours > 0;
  const listener = listenForOutbox(config.database.url, logger, wake);
  let running = true;
  const loop = (async () => {
    let failures = 0;
    // Set when the last wait ended on the poll timer: then one probe looks for rows before a
    // transaction is opened. After a notification or a full batch there is work, and no probe.
    let polled = false;
    while (running) {
      woken = false;
      const looked = polled;
      polled = false;
      try {
        const idle = looked && !(await hasUnpublished(listener.probe() ?? db));
        const rows = idle
          ? []
          : await relayBatch(db, producer, config.pipeline.relayBatchSize, keepPublished);
        failures = 0;
        published.inc(rows.length);
        for (const row of rows) lag.observe(row.ageSeconds);
        if (rows.length === config.pipeline.relayBatchSize) continue;
      } catch (err) {
        failures += 1;
        logger.warn({ err, failures }, 'relay batch failed, retrying');
      }
      if (woken && failures === 0) {
        // More commits are usually on their way: let them join the next batch.
        if (config.pipeline.batchLingerMs > 0) await sleep(config.pipeline.batchLingerMs);
        continue;
      }
      const waitMs = failures > 0 ? backoffDelay(failures, 200, 10_000) : config.pipeline.relayPollMs;
      polled = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(true), waitMs);
        wakeUp = () => {
          clearTimeout(timer);
          resolve(false);
        };
      });
      wakeUp = () => undefined;
    }
  })();

  const retention = setInterval(() => {
    db.query(
      `DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE published_at < now() - make_interval(hours => $1) LIMIT 5000)`,
      [config.pipeline.outboxRetentionHours],
    ).catch((err: unknown) => logger.warn({ err }, 'outbox clean-up failed'));
  }, 60_000);
  retention.unref();

  return {
    readiness: { database: () => pingDatabase(db) },
    shutdown: [
      {
        name: 'finish the current batch',
        run: async () => {
          running = false;
          clearInterval(retention);
          wake();
          await loop;
        },
      },
      { name: 'outbox listener', run: listener.stop },
      { name: 'kafka producer', run: () => producer.disconnect() },
      { name: 'database pool', run: () => db.destroy() },
    ],
  };
}
