import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { OrderStatus } from '../../lib/domain/order-status';
import { eventually } from '../support/services';
import {
  assertInvariants,
  placeOrder,
  startPipeline,
  startProcess,
  stopProcess,
  waitForTerminal,
  type Pipeline,
  type RunningProcess,
} from './harness';

const exec = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stack = (...args: string[]) => exec('bash', ['scripts/stack.sh', ...args], { timeout: 120_000 });

let pipeline: Pipeline;
beforeAll(async () => {
  // Stage work takes a little time, so kills land mid-batch.
  pipeline = await startPipeline({ workers: [[], []], env: { STAGE_LATENCY_MS: '5' } });
}, 60_000);
afterAll(() => pipeline.stop(), 60_000);

/** SIGKILL a process of the pipeline and start a fresh one of the same role in its place. */
async function crashAndReplace(p: RunningProcess, args: string[] = []) {
  p.child.kill('SIGKILL');
  await p.exited;
  const replacement = startProcess(p.role, args, { STAGE_LATENCY_MS: '5' });
  pipeline.processes.push(replacement);
  return replacement;
}

const byRole = (role: string) =>
  pipeline.processes.filter(
    (p) => p.role === role && p.child.exitCode === null && p.child.signalCode === null,
  );

describe('nothing is lost', () => {
  it('survives crashes of every process and restarts of both brokers under a stream of orders', async () => {
    const api = pipeline.api;
    const { merchantId, productIds } = await api.merchantWithProducts([
      { priceCents: 1000, stock: 5000 },
      { priceCents: 250, stock: 5000 },
      { priceCents: 4000, stock: 40 }, // runs out: some orders are rejected
    ]);
    const stockAtStart = new Map([
      [productIds[0]!, 5000],
      [productIds[1]!, 5000],
      [productIds[2]!, 40],
    ]);
    const customers = await Promise.all(Array.from({ length: 8 }, () => api.account('customer')));
    const ids: string[] = [];
    let streaming = true;
    let n = 0;
    const stream = (async () => {
      const lanes = customers.map(async (customer) => {
        while (streaming) {
          n += 1;
          const token = n % 10 === 0 ? 'tok_decline' : n % 17 === 0 ? 'tok_flaky' : 'tok_visa';
          const items = [{ productId: productIds[n % 3]!, quantity: 1 + (n % 2) }];
          ids.push(await placeOrder(api, customer.token, merchantId, items, token));
          await sleep(150);
        }
      });
      await Promise.all(lanes);
    })();

    await sleep(1500);
    // 1. A worker dies mid-batch.
    await crashAndReplace(byRole('worker')[0]!);
    await sleep(1500);

    // 2. The relay dies between publishing a batch to Kafka and deleting it from the outbox: a test
    //    trigger holds its DELETE, we wait until it is stuck there, then kill it.
    await api.db.query(`
      CREATE OR REPLACE FUNCTION test_hold_relay() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_sleep(5); RETURN NEW; END $$;
      CREATE TRIGGER test_hold_relay BEFORE DELETE ON outbox FOR EACH STATEMENT EXECUTE FUNCTION test_hold_relay();`);
    try {
      await eventually(
        async () =>
          (
            (await api.db.query(
              `SELECT 1 FROM pg_stat_activity WHERE application_name = 'orderflow-relay' AND query LIKE 'DELETE FROM outbox WHERE id = ANY%' AND state = 'active'`,
            )) as unknown[]
          ).length > 0,
        { intervalMs: 50, what: 'the relay to be between publish and delete' },
      );
      const relay = byRole('relay')[0]!;
      relay.child.kill('SIGKILL');
      await relay.exited;
    } finally {
      await api.db.query('DROP TRIGGER test_hold_relay ON outbox; DROP FUNCTION test_hold_relay();');
    }
    pipeline.processes.push(startProcess('relay', [], { STAGE_LATENCY_MS: '5' }));
    await sleep(1500);

    // 3. The dispatcher dies.
    await crashAndReplace(byRole('dispatcher')[0]!);
    await sleep(1500);

    // 4. RabbitMQ restarts.
    let t = Date.now();
    await stack('restart', 'rabbitmq');
    console.log(`rabbitmq restart ${Date.now() - t} ms`);
    await sleep(2000);

    // 5. The Kafka broker restarts.
    t = Date.now();
    await stack('restart', 'kafka');
    console.log(`kafka restart ${Date.now() - t} ms`);
    await sleep(2000);

    streaming = false;
    await stream;
    expect(ids.length).toBeGreaterThan(100);
    const t0 = Date.now();

    const watch = setInterval(() => {
      void api.db
        .query(
          `SELECT (SELECT count(*) FROM outbox WHERE published_at IS NULL)::int AS unpublished,
                  (SELECT json_object_agg(status, n) FROM (SELECT status, count(*) AS n FROM orders WHERE id = ANY($1) GROUP BY status) s) AS statuses`,
          [ids],
        )
        .then((r: unknown[]) => console.log(JSON.stringify(r[0])));
    }, 5000);
    const statuses = await waitForTerminal(api, ids, 180_000);
    clearInterval(watch);
    console.log(`orders ${ids.length}, drained ${Date.now() - t0} ms after the stream stopped`);
    const tally = new Map<OrderStatus, number>();
    for (const status of statuses.values()) tally.set(status, (tally.get(status) ?? 0) + 1);
    expect(tally.get('COMPLETED')).toBeGreaterThan(0);
    expect(tally.get('FAILED')).toBeGreaterThan(0); // the declined cards
    await eventually(
      async () => {
        const [row] = await api.db.query(
          `SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL AND aggregate_id = ANY($1)`,
          [ids],
        );
        return row.n === 0;
      },
      { what: 'outbox drained', timeoutMs: 30_000 },
    );
    await assertInvariants(api, ids, stockAtStart);

    // Every surviving process still answers and stops cleanly.
    for (const p of pipeline.processes.filter(
      (x) => x.child.exitCode === null && x.child.signalCode === null,
    )) {
      expect(await stopProcess(p)).toBe(0);
    }
  }, 420_000);
});
