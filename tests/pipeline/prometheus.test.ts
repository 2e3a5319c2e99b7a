import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import { parse, stringify } from 'yaml';
import { startControlServer } from '../../cli/supervisor/control';
import { Supervisor } from '../../cli/supervisor/supervisor';
import {
  checkMetrics,
  dashboardQueries,
  evaluateDashboard,
  startPrometheus,
  staticJob,
  waitForTargets,
  type PrometheusServer,
  type QueryResult,
} from '../support/prometheus';
import { eventually, MAIN } from '../support/services';
import {
  PIPELINE_DATABASE_URL,
  pipelineDatabase,
  startProcess,
  stopProcess,
  type RunningProcess,
} from './harness';

const exec = promisify(execFile);
const ROOT = join(__dirname, '../..');
const DASHBOARD = JSON.parse(readFileSync(join(ROOT, 'charts/orderflow/dashboards/orderflow.json'), 'utf8'));
const PORTS = {
  prometheus: 19091,
  api: 19092,
  relay: 19093,
  dispatcher: 19094,
  worker: 19095,
  operator: 19096,
  supervisor: 19097,
} as const;
const API = `http://127.0.0.1:${PORTS.api}`;
const env = { JWT_SECRET: 'prometheus-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz' };

/** What each process must expose beyond the default metrics, so an empty or wrong /metrics cannot pass. */
const ROLES = [
  { role: 'api', port: PORTS.api, metric: 'orderflow_orders_created_total' },
  { role: 'relay', port: PORTS.relay, metric: 'orderflow_outbox_published_total' },
  { role: 'dispatcher', port: PORTS.dispatcher, metric: 'orderflow_dispatcher_events_total' },
  { role: 'worker', port: PORTS.worker, metric: 'orderflow_stage_processed_total' },
  { role: 'operator', port: PORTS.operator, metric: 'orderflow_autoscaler_trigger_value' },
] as const;

/**
 * The example WorkerAutoscalers polling every second, so the operator's series move within a few of
 * Prometheus's one-second scrapes. Their triggers read the real topic and queues the pipeline uses.
 */
function autoscalerDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'orderflow-prometheus-autoscalers-'));
  const examples = join(ROOT, 'k8s/examples');
  for (const file of readdirSync(examples)) {
    const resource = parse(readFileSync(join(examples, file), 'utf8'));
    resource.spec.pollingIntervalSeconds = 1;
    writeFileSync(join(dir, file), stringify(resource));
  }
  return dir;
}

async function load(orders: number, rate: number) {
  const { stdout } = await exec(
    process.execPath,
    [
      MAIN,
      'load',
      '--orders',
      String(orders),
      '--rate',
      String(rate),
      '--concurrency',
      '4',
      '--url',
      API,
      '--json',
    ],
    { timeout: 120_000 },
  );
  return JSON.parse(stdout.trim()) as {
    accepted: number;
    unfinished: number;
    finished: Record<string, number>;
  };
}

/**
 * The platform as Prometheus sees it: the real api, relay, dispatcher, worker (every stage) and
 * local-mode operator on the pipeline database, scraped by a real Prometheus on loopback. The
 * operator measures the real backlog; what it scales are stand-in roles of an in-process supervisor,
 * because its metrics come from its readings, not from what it scales.
 */
describe('the platform under a real Prometheus', () => {
  const dir = autoscalerDir();
  const supervisor = new Supervisor({
    output: new Writable({ write: (_chunk, _enc, done) => done() }),
    colour: false,
    stopTimeoutMs: 5000,
  });
  let control: Awaited<ReturnType<typeof startControlServer>>;
  let processes: RunningProcess[] = [];
  let prometheus: PrometheusServer;

  beforeAll(async () => {
    await pipelineDatabase();
    await exec(process.execPath, [MAIN, 'seed'], {
      env: { ...process.env, DATABASE_URL: PIPELINE_DATABASE_URL },
    });
    for (const file of readdirSync(dir)) {
      const target = parse(readFileSync(join(dir, file), 'utf8')).spec.scaleTargetRef.name as string;
      supervisor.add({
        role: target.replace(/^orderflow-/, ''),
        command: process.execPath,
        args: [join(__dirname, '../fixtures/child.js')],
      });
    }
    control = await startControlServer(supervisor, { host: '127.0.0.1', port: PORTS.supervisor });
    const args: Record<string, string[]> = {
      operator: ['--local', dir, '--supervisor', `http://127.0.0.1:${control.port}`],
    };
    processes = ROLES.map(({ role, port }) =>
      startProcess(role, args[role] ?? [], { ...env, PORT: String(port) }),
    );
    for (const { role, port } of ROLES) {
      await eventually(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, {
        what: `${role} ready on ${port}`,
      });
    }
    prometheus = await startPrometheus({
      port: PORTS.prometheus,
      scrapeIntervalSeconds: 1,
      scrapeConfigs: [
        staticJob(
          'orderflow',
          ROLES.map(({ role, port }) => ({ address: `127.0.0.1:${port}`, labels: { component: role } })),
        ),
      ],
    });
    await waitForTargets(prometheus.url, { count: ROLES.length });
    // Orders have flowed through every stage before anything is looked at.
    expect(await load(10, 20)).toMatchObject({ accepted: 10, unfinished: 0 });
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
    await Promise.all(processes.map((p) => stopProcess(p)));
    await control?.close();
    await supervisor.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('serves /metrics on every process that `promtool check metrics` accepts without a warning', async () => {
    const checked = await Promise.all(
      ROLES.map(async ({ role, port, metric }) => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return {
          role,
          hasOwnMetrics: text.includes(`# TYPE ${metric} `),
          problems: await checkMetrics(text),
        };
      }),
    );
    expect(checked).toEqual(ROLES.map(({ role }) => ({ role, hasOwnMetrics: true, problems: [] })));
  });

  it('answers every query of every panel of the shipped dashboard with data while orders flow', async () => {
    const queries = dashboardQueries(DASHBOARD);
    expect(queries.length).toBeGreaterThanOrEqual(20);
    const running = load(150, 10);
    // Rates need two scrapes inside $__rate_interval (4 s at a 1 s scrape), quantiles fresh
    // observations: evaluate every second while the orders flow, until each query has answered with data.
    const key = (r: QueryResult) => `${r.panelId}/${r.refId}`;
    const answered = new Set<string>();
    let last: QueryResult[] = [];
    const deadline = Date.now() + 60_000;
    while (answered.size < queries.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      last = await evaluateDashboard(prometheus.url, DASHBOARD, { scrapeIntervalSeconds: 1 });
      for (const r of last) if (r.hasData) answered.add(key(r));
    }
    const summary = await running;

    const withoutData = last
      .filter((r) => !answered.has(key(r)))
      .map(({ panel, refId, sent, series, error }) => ({ panel, refId, sent, series, error }));
    expect(withoutData).toEqual([]);
    expect(last).toHaveLength(queries.length);
    expect(summary).toMatchObject({ accepted: 150, unfinished: 0 });
  }, 150_000);
});
