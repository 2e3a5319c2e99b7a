import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { createDataSource } from '../../lib/adapters/postgres/data-source';
import { canTransition, isTerminal, type OrderStatus } from '../../lib/domain/order-status';
import { bearer, orderBody, startTestApi, type TestApi } from '../support/api';
import { eventually, testConfig } from '../support/services';

/** The pipeline tests run the real processes on a database of their own. */
const BASE = new URL(testConfig().database.url);
export const PIPELINE_DATABASE_URL = Object.assign(new URL(BASE.toString()), {
  pathname: '/orderflow_pipeline',
}).toString();
const MAIN = join(__dirname, '../../dist/cli/main.js');
const LOG_DIR = join(__dirname, '../../.stack/pipeline-logs');

export async function pipelineDatabase(): Promise<void> {
  const admin = new Client({ connectionString: BASE.toString() });
  await admin.connect();
  const exists = await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'orderflow_pipeline'`);
  if (exists.rowCount === 0) await admin.query('CREATE DATABASE orderflow_pipeline');
  await admin.end();
  const db = createDataSource({
    url: PIPELINE_DATABASE_URL,
    poolSize: 1,
    applicationName: 'jest-pipeline-migrate',
  });
  await db.initialize();
  await db.runMigrations({ transaction: 'each' });
  await db.destroy();
}

export interface RunningProcess {
  role: string;
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

/** `orderflow <role>` from dist/, as a real process. */
export function startProcess(
  role: string,
  args: string[] = [],
  env: Record<string, string> = {},
): RunningProcess {
  const child = spawn(process.execPath, [MAIN, role, ...args], {
    env: {
      ...process.env,
      DATABASE_URL: PIPELINE_DATABASE_URL,
      PORT: '0',
      LOG_LEVEL: 'info',
      RELAY_POLL_MS: '100',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      // Kept for post-mortems: .stack/pipeline-logs/<role>-<pid>.log
      mkdirSync(LOG_DIR, { recursive: true });
      writeFileSync(join(LOG_DIR, `${role}-${child.pid}.log`), output.join(''));
      resolve(code);
    }),
  );
  return { role, child, output, exited };
}

export async function stopProcess(
  p: RunningProcess,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<number | null> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return p.child.exitCode;
  p.child.kill(signal);
  return p.exited;
}

/** A whole pipeline: relay, dispatcher and workers, plus the API in-process on the same database. */
export async function startPipeline(
  options: { workers?: string[][]; relays?: number; env?: Record<string, string> } = {},
) {
  await pipelineDatabase();
  const api = await startTestApi({ DATABASE_URL: PIPELINE_DATABASE_URL });
  const processes: RunningProcess[] = [
    ...Array.from({ length: options.relays ?? 1 }, () => startProcess('relay', [], options.env)),
    startProcess('dispatcher', [], options.env),
    ...(options.workers ?? [[]]).map((args) => startProcess('worker', args, options.env)),
  ];
  return {
    api,
    processes,
    async stop() {
      await Promise.all(processes.map((p) => stopProcess(p)));
      await api.close();
    },
  };
}

export type Pipeline = Awaited<ReturnType<typeof startPipeline>>;

export async function placeOrder(
  api: TestApi,
  token: string,
  merchantId: string,
  items: { productId: string; quantity: number }[],
  paymentToken = 'tok_visa',
) {
  const res = await api
    .http()
    .post('/v1/orders')
    .set(bearer(token))
    .send(orderBody(merchantId, items, { payment: { method: 'card', token: paymentToken } }));
  if (res.status !== 202) throw new Error(`order not accepted: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

export async function statusOf(api: TestApi, orderId: string): Promise<OrderStatus> {
  const [row] = await api.db.query('SELECT status FROM orders WHERE id = $1', [orderId]);
  return row.status;
}

export async function waitForTerminal(
  api: TestApi,
  orderIds: string[],
  timeoutMs = 60_000,
): Promise<Map<string, OrderStatus>> {
  return eventually(
    async () => {
      const rows: { id: string; status: OrderStatus }[] = await api.db.query(
        'SELECT id, status FROM orders WHERE id = ANY($1)',
        [orderIds],
      );
      return rows.length === orderIds.length && rows.every((r) => isTerminal(r.status))
        ? new Map(rows.map((r) => [r.id, r.status]))
        : undefined;
    },
    { timeoutMs, intervalMs: 200, what: `${orderIds.length} orders to reach a terminal status` },
  );
}

/**
 * What must hold for any set of orders, however the run went: one payment at most, exactly one
 * history row per status reached, each step a legal transition, one reserve and at most one release
 * per product, and stock conserved (start - reserved + released = now).
 */
export async function assertInvariants(api: TestApi, orderIds: string[], stockAtStart: Map<string, number>) {
  const payments: { orderId: string; n: number }[] = await api.db.query(
    `SELECT order_id AS "orderId", count(*)::int AS n FROM payments WHERE order_id = ANY($1) GROUP BY order_id`,
    [orderIds],
  );
  expect(payments.filter((p) => p.n > 1)).toEqual([]);

  const history: { orderId: string; from: OrderStatus | null; to: OrderStatus }[] = await api.db.query(
    `SELECT order_id AS "orderId", from_status AS from, to_status AS to FROM order_history WHERE order_id = ANY($1) ORDER BY order_id, id`,
    [orderIds],
  );
  const byOrder = new Map<string, typeof history>();
  for (const h of history) byOrder.set(h.orderId, [...(byOrder.get(h.orderId) ?? []), h]);
  for (const id of orderIds) {
    const steps = byOrder.get(id) ?? [];
    expect(steps[0]).toMatchObject({ from: null, to: 'PENDING' });
    for (let i = 1; i < steps.length; i++) {
      expect(steps[i]!.from).toBe(steps[i - 1]!.to);
      expect(canTransition(steps[i]!.from!, steps[i]!.to)).toBe(true);
    }
    expect(isTerminal(steps[steps.length - 1]!.to)).toBe(true);
  }

  const movements: { productId: string; kind: string; quantity: number }[] = await api.db.query(
    `SELECT product_id AS "productId", kind, sum(quantity)::int AS quantity FROM stock_movements
      WHERE order_id = ANY($1) GROUP BY product_id, kind`,
    [orderIds],
  );
  const products: { id: string; stock: number }[] = await api.db.query(
    'SELECT id, stock FROM products WHERE id = ANY($1)',
    [[...stockAtStart.keys()]],
  );
  for (const product of products) {
    const moved = (kind: string) =>
      movements.find((m) => m.productId === product.id && m.kind === kind)?.quantity ?? 0;
    expect({ product: product.id, stock: product.stock }).toEqual({
      product: product.id,
      stock: stockAtStart.get(product.id)! - moved('RESERVE') + moved('RELEASE'),
    });
  }
  // Released stock belongs to orders that ended without completing; completed orders keep theirs.
  const leaks: unknown[] = await api.db.query(
    `SELECT o.id FROM orders o WHERE o.id = ANY($1) AND (
       (o.status = 'COMPLETED' AND EXISTS (SELECT 1 FROM stock_movements m WHERE m.order_id = o.id AND m.kind = 'RELEASE'))
       OR (o.status IN ('FAILED', 'CANCELLED') AND
           (SELECT count(*) FROM stock_movements m WHERE m.order_id = o.id AND m.kind = 'RESERVE') <>
           (SELECT count(*) FROM stock_movements m WHERE m.order_id = o.id AND m.kind = 'RELEASE')))`,
    [orderIds],
  );
  expect(leaks).toEqual([]);
}
