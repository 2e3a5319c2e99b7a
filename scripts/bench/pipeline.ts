/**
 * npm run bench:pipeline — N orders (default 20,000; BENCH_ORDERS) through relay -> Kafka ->
 * dispatcher -> RabbitMQ -> stage workers, no simulated latency. Orders are written with the API's
 * own insert at full speed; prints completed orders/s and created -> COMPLETED latency percentiles,
 * and, for context, the Kafka broker's own produce rate from kafka-producer-perf-test.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Pool } from 'pg';
import { createKafkaEventLog } from '../../lib/adapters/kafka/kafkajs';
import { createLogger } from '../../lib/telemetry/logger';
import { managementQueue } from '../../lib/adapters/rabbitmq/management';
import { STAGES } from '../../lib/domain/pipeline';
import { DEAD_LETTER_QUEUE, stageQueue } from '../../lib/messaging';
import { insertOrder } from '../../lib/store/orders';
import type { Queryable } from '../../lib/store/db';
import { benchDatabase, buildDist, ensureStack, percentile, ROOT, startRole } from './support';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 20_000);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const INSERT_CONCURRENCY = 16;
/** Orders spread over this many products; 1 shows the cost of a single hot product row. */
const PRODUCTS = Number(process.env.BENCH_PRODUCTS ?? 100);

async function seedShop(db: Queryable) {
  const userId = randomUUID();
  const merchantId = randomUUID();
  const productIds = Array.from({ length: PRODUCTS }, () => randomUUID());
  await db.query(
    `INSERT INTO users (id, email, password_hash, name, role) VALUES ($1, $2, 'x', 'bench', 'customer')`,
    [userId, `${userId}@bench.test`],
  );
  await db.query(`INSERT INTO merchants (id, owner_id, name) VALUES ($1, $2, 'bench')`, [merchantId, userId]);
  await db.query(
    `INSERT INTO products (id, merchant_id, name, price_cents, stock) SELECT id, $2, 'p', 100, $3 FROM unnest($1::uuid[]) AS id`,
    [productIds, merchantId, ORDERS * 2],
  );
  return { userId, merchantId, productIds };
}

function kafkaPerfTest(records: number): string {
  const out = execFileSync(
    'bash',
    [
      join(ROOT, 'scripts/stack/kafka.sh'),
      'perf-test',
      '--topic',
      'orderflow.bench-perf',
      '--num-records',
      String(records),
      '--record-size',
      '600',
      '--throughput',
      '-1',
      '--producer-props',
      'bootstrap.servers=127.0.0.1:9092',
      'acks=all',
      'enable.idempotence=true',
      'linger.ms=5',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return out.trim().split('\n').pop() ?? '';
}

/** The benchmark owns the stage queues while it runs: tasks left by other runs would only be noise. */
async function purgeStageQueues() {
  for (const queue of [...STAGES.map(stageQueue), DEAD_LETTER_QUEUE]) {
    await managementQueue('http://orderflow:orderflow@127.0.0.1:15672', queue)('/contents', {
      method: 'DELETE',
    });
  }
}

async function main() {
  ensureStack();
  buildDist();
  const url = await benchDatabase('orderflow_bench_pipeline', true);
  const pool = new Pool({ connectionString: url, max: INSERT_CONCURRENCY });
  const db: Queryable = {
    query: (sql: string, params?: unknown[]) => pool.query(sql, params).then((r) => r.rows),
  };
  const shop = await seedShop(db);
  await purgeStageQueues();
  const env = {
    DATABASE_URL: url,
    PORT: '0',
    DATABASE_POOL_SIZE: '16',
    PAYMENT_LATENCY_MS: '0',
    STAGE_LATENCY_MS: '0',
  };
  const processes = [
    startRole('relay', env),
    startRole('dispatcher', env),
    ...Array.from({ length: WORKERS }, () => startRole('worker', env)),
  ];
  for (const p of processes) {
    p.once('exit', (code) => {
      if (code !== 0 && code !== null) {
        console.error(`a pipeline process exited with code ${code}`);
        process.exit(1);
      }
    });
  }
  try {
    await new Promise((r) => setTimeout(r, 3000));
    console.log(
      `bench:pipeline  ${ORDERS} orders over ${PRODUCTS} products, ${WORKERS} worker processes (all stages each), no simulated latency`,
    );
    const ids: string[] = [];
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: INSERT_CONCURRENCY }, async () => {
        while (next < ORDERS) {
          next += 1;
          const id = randomUUID();
          ids.push(id);
          await insertOrder(db, {
            id,
            customerId: shop.userId,
            merchantId: shop.merchantId,
            items: [{ productId: shop.productIds[next % PRODUCTS]!, quantity: 1, unitPriceCents: 100 }],
            totalCents: 100,
            deliveryAddress: { street: 'a', city: 'b', postalCode: 'c', country: 'BR' },
            payment: { method: 'card', token: 'tok_visa' },
          });
        }
      }),
    );
    const inserted = Date.now();
    console.log(`  orders written        ${((ORDERS * 1000) / (inserted - started)).toFixed(0)} orders/s`);
    let done = 0;
    let lastReport = 0;
    while (done < ORDERS) {
      await new Promise((r) => setTimeout(r, 1000));
      const [row] = (await db.query(
        `SELECT count(*)::int AS n FROM orders WHERE merchant_id = $1 AND status IN ('COMPLETED','REJECTED','FAILED','CANCELLED')`,
        [shop.merchantId],
      )) as { n: number }[];
      done = row!.n;
      if (Date.now() - lastReport > 5000) {
        lastReport = Date.now();
        console.log(`  ... ${done}/${ORDERS} terminal after ${((Date.now() - started) / 1000).toFixed(0)} s`);
      }
    }
    const rows = (await db.query(
      `SELECT status, extract(epoch FROM finished_at - created_at)::float8 AS seconds, finished_at AS finished FROM orders WHERE merchant_id = $1`,
      [shop.merchantId],
    )) as { status: string; seconds: number; finished: Date }[];
    const completed = rows.filter((r) => r.status === 'COMPLETED');
    const lastFinished = Math.max(...rows.map((r) => r.finished.getTime()));
    const latencies = completed.map((r) => r.seconds * 1000).sort((a, b) => a - b);
    console.log(`  completed             ${completed.length} of ${ORDERS}`);
    console.log(
      `  throughput            ${((completed.length * 1000) / (lastFinished - started)).toFixed(0)} completed orders/s (first write to last completion)`,
    );
    console.log(
      `  created -> COMPLETED  p50 ${percentile(latencies, 50).toFixed(0)} ms, p95 ${percentile(latencies, 95).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms`,
    );
  } finally {
    for (const p of processes) p.kill('SIGTERM');
    await pool.end();
  }
  const logger = createLogger({ role: 'bench', level: 'silent' });
  const admin = await createKafkaEventLog({ brokers: ['127.0.0.1:9092'], clientId: 'bench', logger }).admin();
  await admin.ensureTopic('orderflow.bench-perf', 12);
  await admin.disconnect();
  console.log(`  kafka-producer-perf-test (600 B, acks=all, idempotent): ${kafkaPerfTest(200_000)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
