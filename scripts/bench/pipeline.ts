/**
 * npm run bench:pipeline — N orders (default 20,000; BENCH_ORDERS) through relay -> Kafka ->
 * dispatcher -> RabbitMQ -> stage workers, no simulated latency, written with the API's own insert.
 * Two modes:
 * - burst (default): every order is written first and committed at once, then the pipeline works
 *   through the backlog; prints completed orders/s.
 * - rate (BENCH_RATE=orders/s): orders are written at that rate while the pipeline runs; prints
 *   created -> COMPLETED latency, which is what a customer sees.
 * Both print the machine's CPU per completed order from /proc/stat over the processing phase and
 * per process role, against the idle machine's CPU measured in the same run, and, for context, the
 * Kafka broker's own produce rate from kafka-producer-perf-test (BENCH_KAFKA_PERF=0 skips it).
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { createKafkaEventLog } from '../../lib/adapters/kafka/kafkajs';
import { createLogger } from '../../lib/telemetry/logger';
import { insertOrder } from '../../lib/store/orders';
import type { Queryable } from '../../lib/store/db';
import { cpuBetween, cpuSnapshot, formatPerUnit, idleCpu } from './cpu';
import {
  benchDatabase,
  buildDist,
  ensureStack,
  percentile,
  printGoals,
  purgeStageQueues,
  ROOT,
  startRole,
} from './support';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 20_000);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
/** Orders per second written while the pipeline runs; 0 writes them all first (burst). */
const RATE = Number(process.env.BENCH_RATE ?? 0);
const INSERT_CONCURRENCY = 16;
/** Orders spread over this many products; 1 shows the cost of a single hot product row. */
const PRODUCTS = Number(process.env.BENCH_PRODUCTS ?? 100);

async function seedShop(db: Queryable): Promise<Shop> {
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

interface Shop {
  userId: string;
  merchantId: string;
  productIds: string[];
}

const orderFor = (shop: Shop, n: number) => ({
  id: randomUUID(),
  customerId: shop.userId,
  merchantId: shop.merchantId,
  items: [{ productId: shop.productIds[n % PRODUCTS]!, quantity: 1, unitPriceCents: 100 }],
  totalCents: 100,
  deliveryAddress: { street: 'a', city: 'b', postalCode: 'c', country: 'BR' },
  payment: { method: 'card', token: 'tok_visa' },
});

/**
 * Writes every order first, in INSERT_CONCURRENCY transactions committed together at the end;
 * `committing` is called just before the commits, when the pipeline's work begins.
 */
async function writeBacklog(pool: Pool, shop: Shop, committing: () => void): Promise<number> {
  const clients = await Promise.all(Array.from({ length: INSERT_CONCURRENCY }, () => pool.connect()));
  try {
    await Promise.all(clients.map((c) => c.query('BEGIN')));
    let next = 0;
    await Promise.all(
      clients.map(async (client) => {
        const tx: Queryable = {
          query: (sql: string, params?: unknown[]) => client.query(sql, params).then((r) => r.rows),
        };
        while (next < ORDERS) await insertOrder(tx, orderFor(shop, next++));
      }),
    );
    committing();
    const committedAt = Date.now();
    await Promise.all(clients.map((c) => c.query('COMMIT')));
    return committedAt;
  } finally {
    for (const c of clients) c.release();
  }
}

/** Writes the orders at RATE per second, each in its own transaction, as the API would. */
async function writeAtRate(db: Queryable, shop: Shop): Promise<number> {
  const started = Date.now();
  let next = 0;
  const inFlight = new Set<Promise<void>>();
  while (next < ORDERS) {
    const due = Math.min(ORDERS, Math.floor(((Date.now() - started) * RATE) / 1000) + 1);
    while (next < due) {
      const write = insertOrder(db, orderFor(shop, next++)).then(() => undefined);
      inFlight.add(write);
      void write.finally(() => inFlight.delete(write));
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.all(inFlight);
  return started;
}

async function waitUntilTerminal(db: Queryable, shop: Shop, started: number) {
  let done = 0;
  let lastReport = Date.now();
  while (done < ORDERS) {
    await new Promise((r) => setTimeout(r, 200));
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
}

async function main() {
  ensureStack();
  buildDist();
  const url = await benchDatabase('orderflow_bench_pipeline', true);
  const pool = new Pool({ connectionString: url, max: INSERT_CONCURRENCY + 2 });
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
    const mode = RATE > 0 ? `${RATE} orders/s offered` : 'burst: every order written first';
    console.log(
      `bench:pipeline  ${ORDERS} orders over ${PRODUCTS} products, ${WORKERS} worker processes (all stages each), ${mode}, ${cpus().length} CPUs`,
    );
    const idleMsPerS = (await idleCpu(3)).msPerSecond;
    // Rate mode measures from the first write (the writes are part of it); burst mode from the
    // commit of the backlog, so only the pipeline's work is counted.
    let before = cpuSnapshot();
    const started =
      RATE > 0 ? await writeAtRate(db, shop) : await writeBacklog(pool, shop, () => (before = cpuSnapshot()));
    await waitUntilTerminal(db, shop, started);
    const cpu = cpuBetween(before, cpuSnapshot());
    const rows = (await db.query(
      `SELECT status, extract(epoch FROM finished_at - created_at)::float8 AS seconds, finished_at AS finished FROM orders WHERE merchant_id = $1`,
      [shop.merchantId],
    )) as { status: string; seconds: number; finished: Date }[];
    const completed = rows.filter((r) => r.status === 'COMPLETED');
    const lastFinished = Math.max(...rows.map((r) => r.finished.getTime()));
    const latencies = completed.map((r) => r.seconds * 1000).sort((a, b) => a - b);
    const n = completed.length;
    console.log(`  completed             ${n} of ${ORDERS}`);
    console.log(
      `  throughput            ${((n * 1000) / (lastFinished - started)).toFixed(0)} completed orders/s (${RATE > 0 ? 'first write' : 'commit of the backlog'} to last completion)`,
    );
    console.log(
      `  created -> COMPLETED  p50 ${percentile(latencies, 50).toFixed(0)} ms, p95 ${percentile(latencies, 95).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms`,
    );
    const backgroundMs = (idleMsPerS * cpu.wallMs) / 1000;
    console.log(
      `  machine CPU           ${(cpu.machineMs / n).toFixed(2)} ms per completed order over ${(cpu.wallMs / 1000).toFixed(1)} s ` +
        `(reference: the idle machine used ${idleMsPerS.toFixed(0)} ms/s just before, ${(backgroundMs / n).toFixed(2)} ms per order of this)`,
    );
    console.log(`  CPU by process role   ${formatPerUnit(cpu.roles, n)} (ms per completed order)`);
    const perSecond = (n * 1000) / (lastFinished - started);
    const msPerOrder = cpu.machineMs / n;
    const p99 = percentile(latencies, 99);
    printGoals(
      RATE > 0
        ? [
            {
              goal: 'created -> COMPLETED p99 under 1 s at 300 orders/s',
              met: RATE >= 300 && n === ORDERS && p99 < 1000,
              measured: `${p99.toFixed(0)} ms at ${RATE}/s offered, ${n} of ${ORDERS} completed`,
            },
          ]
        : [
            {
              goal: 'at least 600 completed orders/s',
              met: perSecond >= 600,
              measured: `${perSecond.toFixed(0)}/s`,
            },
            {
              goal: 'at most 3 ms of machine CPU per completed order',
              met: msPerOrder <= 3,
              measured: `${msPerOrder.toFixed(2)} ms`,
            },
          ],
    );
  } finally {
    for (const p of processes) p.kill('SIGTERM');
    await pool.end();
  }
  if (process.env.BENCH_KAFKA_PERF === '0') return;
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
