import { join } from 'node:path';
import { Writable } from 'node:stream';
import { localRoles } from '../../cli/roles';
import { Supervisor } from '../../cli/supervisor/supervisor';
import { queueRedeliveries } from '../../lib/adapters/rabbitmq/management';
import { eventually, testConfig } from '../support/services';
import {
  PIPELINE_DATABASE_URL,
  placeOrder,
  startPipeline,
  statusOf,
  waitForTerminal,
  type Pipeline,
} from './harness';

/**
 * Local mode's scale-down with real workers: the pay stage's workers run under the supervisor as
 * `orderflow up` runs them (the same role spec, ports and held-task scraping), each payment held for
 * seconds, one task per worker. Asked to shrink while one worker holds a payment, the supervisor
 * stops the idle ones; the payment finishes where it started and is never handed back.
 */

const PAY_QUEUE = 'orderflow.stage.pay';
/** Longer than a scale-down takes, and than a stopping worker's drain, so a busy worker stopped would give its task back. */
const PAYMENT_MS = 15_000;

let pipeline: Pipeline;
let supervisor: Supervisor;
const config = testConfig({ DATABASE_URL: PIPELINE_DATABASE_URL });

beforeAll(async () => {
  pipeline = await startPipeline({ workers: [['--stages', 'validate,reserve,complete']] });
  supervisor = new Supervisor({ output: new Writable({ write: (_c, _e, done) => done() }), colour: false });
  const pay = localRoles(config, {
    entry: [process.execPath, join(__dirname, '../../dist/cli/main.js')],
    env: {
      DATABASE_URL: PIPELINE_DATABASE_URL,
      LOG_LEVEL: 'info',
      STAGE_LATENCY_MS: String(PAYMENT_MS),
      WORKER_PREFETCH: '1',
    },
  }).find((role) => role.role === 'worker-pay')!;
  supervisor.add({ ...pay, replicas: 3 });
}, 60_000);

afterAll(async () => {
  await supervisor?.stop();
  await pipeline?.stop();
}, 60_000);

const redelivered = () => queueRedeliveries(config.rabbitmq.managementUrl, PAY_QUEUE);

it('stops the idle pay workers and keeps the one holding a payment, which finishes without a redelivery', async () => {
  const { merchantId, productIds } = await pipeline.api.merchantWithProducts([{ priceCents: 900, stock: 5 }]);
  const customer = await pipeline.api.account('customer');
  await eventually(async () => (await supervisor.heldByEach('worker-pay')).every((i) => i.held === 0), {
    what: 'three pay workers answering',
    timeoutMs: 30_000,
  });
  const redeliveredBefore = await redelivered();

  const orderId = await placeOrder(pipeline.api, customer.token, merchantId, [
    { productId: productIds[0]!, quantity: 1 },
  ]);
  const holding = await eventually(
    async () => {
      const each = await supervisor.heldByEach('worker-pay');
      return each.filter((i) => (i.held ?? 0) > 0).length === 1 ? each : undefined;
    },
    // The order gets there through the relay, Kafka and the dispatcher first, whose consumer group
    // can take a while to form right after the broker started.
    { what: 'one pay worker holding the payment', timeoutMs: 90_000, intervalMs: 100 },
  );
  const busy = holding.find((i) => (i.held ?? 0) > 0)!.name;

  await supervisor.scale('worker-pay', 1);
  expect(supervisor.list().map((i) => i.name)).toEqual([busy]);
  // The scale-down came while the payment was held: the order is still RESERVED.
  expect(await statusOf(pipeline.api, orderId)).toBe('RESERVED');

  const statuses = await waitForTerminal(pipeline.api, [orderId], PAYMENT_MS + 30_000);
  expect(statuses.get(orderId)).toBe('COMPLETED');
  // The management API's statistics lag by up to 5 s.
  await new Promise((resolve) => setTimeout(resolve, 6000));
  expect((await redelivered()) - redeliveredBefore).toBe(0);
}, 180_000);
