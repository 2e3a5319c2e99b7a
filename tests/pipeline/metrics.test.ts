import { eventually } from '../support/services';
import {
  placeOrder,
  startPipeline,
  stopProcess,
  waitForTerminal,
  type Pipeline,
  type RunningProcess,
} from './harness';

let pipeline: Pipeline;
beforeAll(async () => {
  pipeline = await startPipeline({ env: { LOG_LEVEL: 'info' } });
}, 60_000);
afterAll(() => pipeline.stop(), 60_000);

/** Each role logs the port of its ops server when it has started. */
const opsPort = (p: RunningProcess) =>
  eventually(
    () => {
      const match = /"port":(\d+),"msg":"\w+ started"/.exec(p.output.join(''));
      return match ? Number(match[1]) : undefined;
    },
    { what: `${p.role} to report its port` },
  );

const metricsOf = async (p: RunningProcess) =>
  (await fetch(`http://127.0.0.1:${await opsPort(p)}/metrics`)).text();

describe('every process is observable and stops cleanly', () => {
  it('serves probes and its own metrics, then exits 0 on SIGTERM', async () => {
    const { merchantId, productIds } = await pipeline.api.merchantWithProducts([
      { priceCents: 100, stock: 10 },
    ]);
    const customer = await pipeline.api.account('customer');
    const id = await placeOrder(pipeline.api, customer.token, merchantId, [
      { productId: productIds[0]!, quantity: 1 },
    ]);
    await waitForTerminal(pipeline.api, [id]);

    const [relay, dispatcher, worker] = pipeline.processes as [
      RunningProcess,
      RunningProcess,
      RunningProcess,
    ];
    for (const p of [relay, dispatcher, worker]) {
      const port = await opsPort(p);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    }
    expect(await metricsOf(relay)).toMatch(/orderflow_outbox_published_total\{role="relay"\} [1-9]/);
    expect(await metricsOf(relay)).toMatch(/orderflow_outbox_backlog\{role="relay"\} \d+/);
    expect(await metricsOf(dispatcher)).toMatch(
      /orderflow_dispatcher_events_total\{action="task",role="dispatcher"\} [1-9]/,
    );
    const workerMetrics = await metricsOf(worker);
    for (const stage of ['validate', 'reserve', 'pay']) {
      expect(workerMetrics).toMatch(
        new RegExp(
          `orderflow_stage_processed_total\\{stage="${stage}",outcome="advanced",role="worker"\\} [1-9]`,
        ),
      );
    }
    expect(workerMetrics).toMatch(
      /orderflow_order_end_to_end_seconds_count\{role="worker",status="COMPLETED"\} [1-9]/,
    );
    expect(workerMetrics).toMatch(/orderflow_stage_duration_seconds_bucket/);
    expect(workerMetrics).toMatch(/orderflow_process_cpu_user_seconds_total/);

    for (const p of [relay, dispatcher, worker]) expect(await stopProcess(p)).toBe(0);
    expect(worker.output.join('')).toMatch(/"msg":"stopped"/);
  });
});
