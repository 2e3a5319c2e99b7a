import { Gauge } from 'prom-client';
import { heldInExposition, HELD_METRIC, scrapeHeld } from './held';
import { createRegistry } from './metrics';
import { startOpsServer, type OpsServer } from './ops-server';

describe('the ops server', () => {
  let server: OpsServer;
  let base: string;

  beforeAll(async () => {
    const registry = createRegistry('worker');
    const held = new Gauge({ name: HELD_METRIC, help: 'held', labelNames: ['stage'], registers: [registry] });
    held.set({ stage: 'pay' }, 3);
    held.set({ stage: 'reserve' }, 4);
    server = await startOpsServer({ host: '127.0.0.1', port: 0, registry, readiness: {} });
    base = `http://127.0.0.1:${server.port}`;
  });

  afterAll(() => server.close());

  it('serves every metric on /metrics, and only the named ones with name[]', async () => {
    const all = await (await fetch(`${base}/metrics`)).text();
    expect(all).toContain('orderflow_process_cpu_seconds_total');
    expect(heldInExposition(all)).toBe(7);

    const res = await fetch(`${base}/metrics?name[]=${HELD_METRIC}&name[]=no_such_metric`);
    expect(res.status).toBe(200);
    const named = await res.text();
    expect(named).not.toContain('orderflow_process_cpu_seconds_total');
    expect(named).toContain(`# TYPE ${HELD_METRIC} gauge`);
    expect(heldInExposition(named)).toBe(7);
  });

  it('scrapeHeld reads a worker through the named exposition', async () => {
    expect(await scrapeHeld(`${base}/metrics`)).toBe(7);
  });
});
