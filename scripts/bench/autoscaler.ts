/**
 * npm run bench:autoscaler [-- --orders N --rate R ...] — the local operator under a step of load.
 * Runs `orderflow up --no-stack` on a database of its own, with simulated stage latency and a small
 * prefetch so that the workers are the bottleneck, and WorkerAutoscalers copied from k8s/examples with a
 * 1 s polling interval and small per-replica targets. Then `orderflow load` places a step of orders
 * while the bench samples, every 250 ms, the operator's /v1/autoscalers and the supervisor's /v1/roles.
 * Prints the reaction time, the time to drain and to scale back to minReplicas, direction changes of
 * the desired replicas while the load is steady, and a timeline. Prints numbers; asserts nothing.
 * The defaults (1200 orders at 15/s, 100 ms per stage, prefetch 1, 30 messages per replica) take about
 * 3.5 minutes on a 2-core machine; the examples' 60 s scale-down windows are most of the tail. Stage
 * queues and the dispatcher's consumer group are shared with anything else on the same brokers: the
 * bench warns when it finds consumers or messages there before it starts. With --cluster, the same step
 * runs against the kind cluster's release instead (scripts/bench/autoscaler-cluster.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect, type Channel, type ChannelModel } from 'amqplib';
import { Client } from 'pg';
import { parseDocument } from 'yaml';
import { managementQueue, queueRedeliveries } from '../../lib/adapters/rabbitmq/management';
import { loadConfig } from '../../lib/config';
import { STAGES } from '../../lib/domain/pipeline';
import { stageQueue } from '../../lib/messaging';
import type { AutoscalerView } from '../../operator/runner';
import { clusterBench } from './autoscaler-cluster';
import { buildDist, ensureStack, freePort, ROOT } from './support';

const DATABASE = 'orderflow_bench_autoscaler';
const MAIN = join(ROOT, 'dist/cli/main.js');
const SAMPLE_MS = 250;
const TIMELINE_STEP_S = 5;

const { values: flags } = parseArgs({
  options: {
    orders: { type: 'string', default: '1200' },
    rate: { type: 'string', default: '15' },
    concurrency: { type: 'string', default: '16' },
    'stage-latency-ms': { type: 'string', default: '100' },
    prefetch: { type: 'string', default: '1' },
    'messages-per-replica': { type: 'string', default: '30' },
    'lag-per-replica': { type: 'string', default: '100' },
    'publish-rate-per-replica': { type: 'string' },
    'polling-interval': { type: 'string', default: '1' },
    'scale-down-window': { type: 'string' },
    timeout: { type: 'string', default: '360' },
    cluster: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (flags.help) {
  console.log(`npm run bench:autoscaler -- [flags]
  --orders N                 orders in the step (default 1200)
  --rate R                   orders per second while the step lasts (default 15)
  --concurrency C            requests in flight of the load generator (default 16)
  --stage-latency-ms MS      STAGE_LATENCY_MS of every worker (default 100)
  --prefetch P               WORKER_PREFETCH of every worker (default 1)
  --messages-per-replica M   messagesPerReplica of the stage autoscalers (default 30; examples: 100)
  --lag-per-replica L        lagPerReplica of the dispatcher autoscaler (default 100; examples: 500)
  --publish-rate-per-replica R  publishRatePerReplica of the stage autoscalers (default: as in the
                             examples, 50; 0 scales on depth alone)
  --polling-interval S       pollingIntervalSeconds (default 1; examples: 5)
  --scale-down-window S      override scaleDown.stabilizationWindowSeconds (default: as in the examples)
  --timeout S                overall bound of the run (default 360)
  --cluster                  the same step against the kind cluster's release instead (npm run cluster:up,
                             then skaffold run, first): --orders, --rate and --stage-latency-ms apply`);
  process.exit(0);
}

const num = (name: keyof typeof flags): number => {
  const n = Number(flags[name]);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number`);
  return n;
};
const ORDERS = Math.floor(num('orders'));
const RATE = num('rate');
const CONCURRENCY = Math.floor(num('concurrency'));
const STAGE_LATENCY_MS = Math.floor(num('stage-latency-ms'));
const PREFETCH = Math.floor(num('prefetch'));
const MESSAGES_PER_REPLICA = Math.floor(num('messages-per-replica'));
const LAG_PER_REPLICA = Math.floor(num('lag-per-replica'));
const POLLING_SECONDS = Math.floor(num('polling-interval'));
const PUBLISH_RATE_PER_REPLICA =
  flags['publish-rate-per-replica'] === undefined ? undefined : Math.floor(num('publish-rate-per-replica'));
const SCALE_DOWN_WINDOW = flags['scale-down-window'] === undefined ? undefined : num('scale-down-window');
const TIMEOUT_MS = num('timeout') * 1000;

const benchStarted = Date.now();
const deadline = benchStarted + TIMEOUT_MS;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const left = () => deadline - Date.now();

interface RoleView {
  role: string;
  replicas: number;
  instances: { state: string; pid?: number }[];
}
interface Scaler {
  name: string;
  role: string;
  queue?: string;
  perReplica: number;
  /** publishRatePerReplica of a stage autoscaler, when it also follows the publish rate. */
  publishRate?: number;
  minReplicas: number;
  maxReplicas: number;
  scaleDownWindow: number;
  maxStepUp?: number;
  maxStepDown?: number;
}
interface Sample {
  at: number;
  running: Record<string, number>;
  value: Record<string, number | undefined>;
  desired: Record<string, number | undefined>;
  /**
   * The live backlog: ready messages straight from the broker (AMQP passive declare) plus the tasks the
   * role's workers hold (the supervisor's /v1/roles/<role>/held), no management-statistics delay.
   */
  live: Record<string, number | undefined>;
}

async function getJson<T>(url: string): Promise<T | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return res.ok ? ((await res.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
      .once('error', () => resolve(true))
      .listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
}

/** The examples, with the bench's polling interval and per-replica targets. */
function writeAutoscalers(dir: string): Scaler[] {
  const examples = join(ROOT, 'k8s/examples');
  const scalers: Scaler[] = [];
  for (const file of readdirSync(examples).filter((f) => f.endsWith('.yaml'))) {
    const doc = parseDocument(readFileSync(join(examples, file), 'utf8'));
    doc.setIn(['spec', 'pollingIntervalSeconds'], POLLING_SECONDS);
    if (SCALE_DOWN_WINDOW !== undefined)
      doc.setIn(['spec', 'behavior', 'scaleDown', 'stabilizationWindowSeconds'], SCALE_DOWN_WINDOW);
    const spec = doc.toJS().spec as {
      scaleTargetRef: { name: string };
      minReplicas?: number;
      maxReplicas: number;
      triggers: { type: string; metadata: { queue?: string } }[];
      behavior?: {
        scaleUp?: { maxStep?: number };
        scaleDown?: { stabilizationWindowSeconds?: number; maxStep?: number };
      };
    };
    const trigger = spec.triggers[0]!;
    const perReplica = trigger.type === 'kafka' ? LAG_PER_REPLICA : MESSAGES_PER_REPLICA;
    doc.setIn(
      ['spec', 'triggers', 0, 'metadata', trigger.type === 'kafka' ? 'lagPerReplica' : 'messagesPerReplica'],
      perReplica,
    );
    if (trigger.type === 'rabbitmq' && PUBLISH_RATE_PER_REPLICA !== undefined) {
      const path = ['spec', 'triggers', 0, 'metadata', 'publishRatePerReplica'];
      if (PUBLISH_RATE_PER_REPLICA === 0) doc.deleteIn(path);
      else doc.setIn(path, PUBLISH_RATE_PER_REPLICA);
    }
    const publishRate = doc.getIn(['spec', 'triggers', 0, 'metadata', 'publishRatePerReplica']) as
      number | undefined;
    writeFileSync(join(dir, file), doc.toString());
    scalers.push({
      name: String(doc.getIn(['metadata', 'name'])),
      role: spec.scaleTargetRef.name.replace(/^orderflow-/, ''),
      queue: trigger.metadata.queue,
      perReplica,
      publishRate,
      minReplicas: spec.minReplicas ?? 0,
      maxReplicas: spec.maxReplicas,
      scaleDownWindow: spec.behavior?.scaleDown?.stabilizationWindowSeconds ?? 60,
      maxStepUp: spec.behavior?.scaleUp?.maxStep,
      maxStepDown: spec.behavior?.scaleDown?.maxStep,
    });
  }
  const order = ['dispatcher', ...STAGES.map((s) => `worker-${s}`)];
  return scalers.sort((a, b) => order.indexOf(a.role) - order.indexOf(b.role));
}

/** CPU time (clock ticks) a process has used so far, from /proc (Linux); undefined once it is gone. */
function processTicks(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** Busy and total clock ticks of the whole machine. */
function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const n = values.map(Number);
    const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - n[3]! - n[4]!, total };
  } catch {
    return undefined;
  }
}

/** Processes the bench started, stopped by pid in `finally` whatever happened. */
const cleanups: (() => Promise<void>)[] = [];

async function main() {
  ensureStack();
  buildDist();
  const base = new URL(loadConfig().database.url);
  const benchUrl = Object.assign(new URL(base.toString()), { pathname: `/${DATABASE}` }).toString();
  const managementUrl = loadConfig().rabbitmq.managementUrl;

  // Other runs on the same brokers share the stage queues and the dispatcher's consumer group.
  const foreign: string[] = [];
  for (const stage of STAGES) {
    const res = await managementQueue(
      managementUrl,
      stageQueue(stage),
    )('?columns=consumers,messages').catch(() => undefined);
    if (!res?.ok) continue;
    const q = (await res.json()) as { consumers?: number; messages?: number };
    if ((q.consumers ?? 0) > 0 || (q.messages ?? 0) > 0)
      foreign.push(`${stageQueue(stage)}: ${q.consumers ?? 0} consumers, ${q.messages ?? 0} messages`);
  }
  const busyPorts: number[] = [];
  for (const port of [9101, 9120, 9140, 9160, 9180, 9200]) if (await portInUse(port)) busyPorts.push(port);

  const admin = new Client({ connectionString: base.toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${DATABASE}`);
  cleanups.push(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`).catch((err: unknown) => {
      console.error(`could not drop ${DATABASE}:`, err);
    });
    await admin.end();
  });

  const dir = mkdtempSync(join(tmpdir(), 'orderflow-bench-autoscalers-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const scalers = writeAutoscalers(dir);

  const ports = new Set<number>();
  while (ports.size < 3) ports.add(await freePort());
  const [port, supervisorPort, operatorPort] = [...ports] as [number, number, number];
  const apiUrl = `http://127.0.0.1:${port}`;
  const supervisorUrl = `http://127.0.0.1:${supervisorPort}`;
  const operatorUrl = `http://127.0.0.1:${operatorPort}`;

  console.log(
    `bench:autoscaler  ${ORDERS} orders at ${RATE}/s (${(ORDERS / RATE).toFixed(0)} s of load, concurrency ${CONCURRENCY}), ` +
      `STAGE_LATENCY_MS ${STAGE_LATENCY_MS}, WORKER_PREFETCH ${PREFETCH}, ${cpus().length} CPUs, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );
  console.log('  autoscalers: copies of k8s/examples/*.yaml with');
  for (const s of scalers)
    console.log(
      `    ${s.name.padEnd(16)} ${s.queue ? 'messagesPerReplica' : 'lagPerReplica     '} ${String(s.perReplica).padStart(4)}  ` +
        `${s.publishRate ? `publishRatePerReplica ${s.publishRate}  ` : ''}` +
        `pollingIntervalSeconds ${POLLING_SECONDS}  min ${s.minReplicas} max ${s.maxReplicas}  ` +
        `scaleUp maxStep ${s.maxStepUp ?? '-'}  scaleDown window ${s.scaleDownWindow} s maxStep ${s.maxStepDown ?? '-'}`,
    );
  for (const f of foreign) console.log(`  WARNING before start (another run?): ${f}`);
  if (busyPorts.length)
    console.log(
      `  WARNING ops ports ${busyPorts.join(', ')} already in use: another \`orderflow up\`? its roles may clash`,
    );

  // ---- orderflow up ----
  const up = spawn(process.execPath, [MAIN, 'up', '--no-stack', '--autoscalers', dir], {
    env: {
      ...process.env,
      DATABASE_URL: benchUrl,
      PORT: String(port),
      SUPERVISOR_PORT: String(supervisorPort),
      OPERATOR_PORT: String(operatorPort),
      STAGE_LATENCY_MS: String(STAGE_LATENCY_MS),
      WORKER_PREFETCH: String(PREFETCH),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const upLines: string[] = [];
  let upText = '';
  const keep = (chunk: Buffer) => {
    upText += chunk.toString();
    const lines = upText.split('\n');
    upText = lines.pop() ?? '';
    upLines.push(...lines);
  };
  up.stdout.on('data', keep);
  up.stderr.on('data', keep);
  const upExited = new Promise<number | null>((resolve) => up.once('exit', resolve));
  const pids = new Set<number>();
  /** CPU ticks by pid and its role, read on every sample. */
  const pidRole = new Map<number, string>();
  const ticks = new Map<number, number>();
  const readTicks = () => {
    for (const [pid] of pidRole) {
      const t = processTicks(pid);
      if (t !== undefined) ticks.set(pid, t);
    }
  };
  cleanups.unshift(async () => {
    if (up.exitCode === null && up.signalCode === null) {
      up.kill('SIGTERM');
      const code = await Promise.race([upExited, sleep(40_000).then(() => 'timeout' as const)]);
      if (code === 'timeout') up.kill('SIGKILL');
    }
    await sleep(500);
    // The supervisor stops its children; any it left behind (it was killed) are stopped by pid.
    for (const pid of pids) {
      try {
        process.kill(pid, 0);
        process.kill(pid, 'SIGKILL');
        console.log(`  stopped a leftover child, pid ${pid}`);
      } catch {
        /* gone, as it should be */
      }
    }
  });

  const waitUntil = async (what: string, probe: () => Promise<boolean> | boolean, ms: number) => {
    const until = Math.min(Date.now() + ms, deadline);
    while (Date.now() < until) {
      if (up.exitCode !== null) throw new Error(`orderflow up exited:\n${upLines.slice(-30).join('\n')}`);
      if (await Promise.resolve(probe()).catch(() => false)) return;
      await sleep(250);
    }
    throw new Error(`timed out waiting for ${what}:\n${upLines.slice(-30).join('\n')}`);
  };
  await waitUntil('orderflow up', () => upLines.some((l) => l.includes('Orderflow is running')), 90_000);
  await waitUntil('the API', async () => (await fetch(`${apiUrl}/readyz`)).ok, 60_000);
  const listAutoscalers = () =>
    getJson<{ autoscalers: AutoscalerView[] }>(`${operatorUrl}/v1/autoscalers`).then((r) => r?.autoscalers);
  await waitUntil(
    'the autoscalers',
    async () => {
      const list = await listAutoscalers();
      return (
        list?.length === scalers.length &&
        list.every((a) => a.status?.triggers.every((t) => t.value !== undefined))
      );
    },
    60_000,
  );
  const upReadyAt = Date.now();

  // The demo stock would limit the load to one product: plenty of stock, in this bench's own database.
  const db = new Client({ connectionString: benchUrl });
  await db.connect();
  cleanups.unshift(() => db.end());
  await db.query('UPDATE products SET stock = greatest(stock, $1)', [ORDERS * 2]);

  // Live ready counts (AMQP passive declare) beside the management API's sampled statistics.
  let amqp: ChannelModel | undefined;
  let channel: Channel | undefined;
  try {
    amqp = await connect(loadConfig().rabbitmq.url);
    channel = await amqp.createChannel();
    channel.on('error', () => (channel = undefined));
    cleanups.unshift(async () => {
      await amqp?.close().catch(() => undefined);
    });
  } catch {
    amqp = undefined;
  }

  // ---- sampling ----
  const samples: Sample[] = [];
  const orders: { at: number; accepted: number; done: number }[] = [];
  const waits = new Map<string, number>();
  let waitSamples = 0;
  let loadStartedAt = Infinity;
  let loadExitAt: number | undefined;
  let sampling = true;
  const sampleOnce = async () => {
    const [roles, autoscalers, live] = await Promise.all([
      getJson<RoleView[]>(`${supervisorUrl}/v1/roles`),
      listAutoscalers(),
      Promise.all(
        scalers.map(async (s) => {
          if (!s.queue || !channel) return undefined;
          const [ready, held] = await Promise.all([
            channel.checkQueue(s.queue).catch(() => undefined),
            getJson<{ held: number }>(`${supervisorUrl}/v1/roles/${s.role}/held`),
          ]);
          return ready === undefined ? undefined : ready.messageCount + (held?.held ?? 0);
        }),
      ),
    ]);
    const sample: Sample = { at: Date.now(), running: {}, value: {}, desired: {}, live: {} };
    for (const r of roles ?? []) {
      sample.running[r.role] = r.instances.filter((i) => i.state === 'running').length;
      for (const i of r.instances) {
        if (!i.pid) continue;
        pids.add(i.pid);
        pidRole.set(i.pid, r.role);
      }
    }
    scalers.forEach((s, i) => {
      const a = autoscalers?.find((x) => x.name === s.name);
      const values = (a?.status?.triggers ?? []).map((t) => t.value);
      sample.value[s.name] = values.some((v) => v === undefined)
        ? undefined
        : Math.max(0, ...values.map(Number));
      sample.desired[s.name] = a?.status?.desiredReplicas;
      sample.live[s.name] = live[i];
    });
    if (roles && autoscalers) samples.push(sample);
    readTicks();
  };
  const sampler = (async () => {
    while (sampling) {
      const started = Date.now();
      await sampleOnce();
      await sleep(Math.max(0, SAMPLE_MS - (Date.now() - started)));
    }
  })();
  const counter = (async () => {
    while (sampling) {
      const r = await db
        .query(
          `SELECT count(*)::int AS accepted,
                  count(*) FILTER (WHERE status IN ('COMPLETED','REJECTED','FAILED','CANCELLED'))::int AS done
             FROM orders`,
        )
        .catch(() => undefined);
      if (r) orders.push({ at: Date.now(), ...(r.rows[0] as { accepted: number; done: number }) });
      // What the database's active sessions wait for while the load runs: is the database the limit?
      const w = await db
        .query(
          `SELECT coalesce(wait_event_type || ':' || wait_event, 'on CPU') AS wait, count(*)::int AS n
             FROM pg_stat_activity
            WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()
            GROUP BY 1`,
        )
        .catch(() => undefined);
      if (w && loadExitAt === undefined && Date.now() > loadStartedAt) {
        waitSamples += 1;
        for (const { wait, n } of w.rows as { wait: string; n: number }[])
          waits.set(wait, (waits.get(wait) ?? 0) + n);
      }
      await sleep(1000);
    }
  })();
  cleanups.unshift(async () => {
    sampling = false;
    await Promise.all([sampler, counter]);
  });

  await sleep(3000);
  const baseline = samples.at(-1)!;
  pidRole.set(up.pid!, 'supervisor (up)');
  readTicks();
  const ticksAtStart = new Map(ticks);
  const machineAtStart = machineTicks();
  const benchCpuAtStart = process.cpuUsage();
  const redeliveredBefore = await redeliveries(managementUrl);

  // ---- the step of load ----
  const loadStart = Date.now();
  loadStartedAt = loadStart;
  const load: ChildProcess = spawn(
    process.execPath,
    [
      MAIN,
      'load',
      '--orders',
      String(ORDERS),
      '--rate',
      String(RATE),
      '--concurrency',
      String(CONCURRENCY),
      '--url',
      apiUrl,
      '--timeout',
      String(Math.max(30, Math.floor(left() / 1000) - 60)),
      '--json',
    ],
    { env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let loadOut = '';
  if (load.pid) pidRole.set(load.pid, 'load generator');
  load.stdout!.on('data', (c: Buffer) => (loadOut += c.toString()));
  load.stderr!.on('data', (c: Buffer) => (loadOut += c.toString()));
  const loadExited = new Promise<number | null>((resolve) =>
    load.once('exit', (code) => {
      loadExitAt = Date.now();
      resolve(code);
    }),
  );
  cleanups.unshift(async () => {
    if (load.exitCode === null && load.signalCode === null) {
      load.kill('SIGTERM');
      await loadExited;
    }
  });

  // Until the load has ended, the backlog is gone and every role is back at minReplicas.
  const settled = (s: Sample) =>
    scalers.every(
      (sc) =>
        s.value[sc.name] === 0 &&
        s.desired[sc.name] === sc.minReplicas &&
        s.running[sc.role] === sc.minReplicas,
    );
  let timedOut = false;
  for (;;) {
    if (left() <= 40_000) {
      timedOut = true;
      break;
    }
    if (up.exitCode !== null) throw new Error(`orderflow up exited:\n${upLines.slice(-30).join('\n')}`);
    const last = samples.at(-1);
    if (loadExitAt !== undefined && last && last.at > loadExitAt && settled(last)) break;
    await sleep(SAMPLE_MS);
  }
  await sleep(1000);
  sampling = false;
  await Promise.all([sampler, counter]);
  readTicks();
  const machineAtEnd = machineTicks();
  const benchCpu = process.cpuUsage(benchCpuAtStart);
  const cpuSeconds = new Map<string, { seconds: number; processes: number }>();
  for (const [pid, role] of pidRole) {
    const used = ((ticks.get(pid) ?? 0) - (ticksAtStart.get(pid) ?? 0)) / 100;
    const entry = cpuSeconds.get(role) ?? { seconds: 0, processes: 0 };
    cpuSeconds.set(role, { seconds: entry.seconds + used, processes: entry.processes + 1 });
  }
  cpuSeconds.set('bench (sampling)', { seconds: (benchCpu.user + benchCpu.system) / 1e6, processes: 1 });
  const cpuWindow = (Date.now() - loadStart) / 1000;
  const loadCode = loadExitAt === undefined ? undefined : await loadExited;

  const last = await db.query(
    `SELECT count(*)::int AS n, max(created_at) AS last,
            count(*) FILTER (WHERE status = 'COMPLETED')::int AS completed,
            count(*) FILTER (WHERE status NOT IN ('COMPLETED','REJECTED','FAILED','CANCELLED'))::int AS open
       FROM orders`,
  );
  const row = last.rows[0] as { n: number; last: Date | null; completed: number; open: number };
  const loadEnd = row.last?.getTime() ?? loadExitAt ?? Date.now();

  report({ scalers, samples, orders, baseline, loadStart, loadEnd, loadExitAt, upReadyAt, timedOut });
  // The management API's counters lag by up to its 5 s statistics interval.
  await sleep(6000);
  const redeliveredAfter = await redeliveries(managementUrl);
  console.log('');
  console.log(
    `  (e) tasks redelivered during the run (scale-downs included; a stopping worker finishes what it holds): ` +
      STAGES.map((stage) => {
        const [a, b] = [redeliveredBefore[stage], redeliveredAfter[stage]];
        return `${stage} ${a === undefined || b === undefined ? '?' : b - a}`;
      }).join(', '),
  );

  let summary: Record<string, unknown> | undefined;
  try {
    summary = JSON.parse(loadOut.trim().split('\n').pop() ?? '') as Record<string, unknown>;
  } catch {
    summary = undefined;
  }
  console.log('');
  console.log(
    `  orders: ${row.n} accepted, ${row.completed} completed, ${row.open} not finished at the end; ` +
      `load exit code ${loadCode ?? 'still running'}`,
  );
  if (summary)
    console.log(
      `  load summary: ${summary.accepted}/${summary.orders} accepted in ${summary.seconds} s (${summary.acceptedPerSecond}/s), ` +
        `finished ${JSON.stringify(summary.finished)}, accept ms ${JSON.stringify(summary.acceptLatencyMs)}, ` +
        `end-to-end ms ${JSON.stringify(summary.endToEndMs)}`,
    );
  else if (loadOut.trim()) console.log(`  load output: ${loadOut.trim().slice(-500)}`);
  const noisy = upLines.filter((l) => /warn|error|fatal|restart|exited/i.test(l));
  const topWaits = [...waits.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([wait, n]) => `${wait} ${(n / Math.max(1, waitSamples)).toFixed(1)}`);
  console.log(
    `  PostgreSQL active sessions of this database while the load ran, average per second by wait: ${topWaits.join(', ') || '-'}`,
  );
  console.log(`  orderflow up: ${noisy.length} lines at warn or above / restarts during the run`);
  for (const l of noisy.slice(-8)) console.log(`    ${l.slice(0, 200)}`);
  if (machineAtStart && machineAtEnd) {
    const busy = (machineAtEnd.busy - machineAtStart.busy) / 100;
    const total = (machineAtEnd.total - machineAtStart.total) / 100;
    const ours = [...cpuSeconds.values()].reduce((a, b) => a + b.seconds, 0);
    console.log(
      `  CPU from the start of the load to the end of sampling (${cpuWindow.toFixed(0)} s): machine ${((100 * busy) / total).toFixed(0)}% busy ` +
        `(${busy.toFixed(0)} of ${total.toFixed(0)} CPU-seconds); CPU-seconds by role (processes):`,
    );
    const rows = [...cpuSeconds.entries()]
      .sort((a, b) => b[1].seconds - a[1].seconds)
      .map(([role, c]) => `${role} ${c.seconds.toFixed(1)} (${c.processes})`);
    rows.push(
      `everything else (PostgreSQL, RabbitMQ, Kafka, other users) ${Math.max(0, busy - ours).toFixed(1)}`,
    );
    console.log(`    ${rows.join(', ')}`);
  }
  console.log(
    `  load average at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
}

/**
 * Deliveries each stage queue has handed out again (the AMQP redelivered flag): a task a stopped
 * worker gave back, or one a crash left unacknowledged; undefined where the statistics did not answer.
 */
async function redeliveries(managementUrl: string): Promise<Record<string, number | undefined>> {
  const counts: Record<string, number | undefined> = {};
  for (const stage of STAGES)
    counts[stage] = await queueRedeliveries(managementUrl, stageQueue(stage)).catch(() => undefined);
  return counts;
}

const fmt = (ms: number | undefined) =>
  ms === undefined ? '   -  ' : `${(ms / 1000).toFixed(1).padStart(5)} s`;
const tOf = (at: number | undefined, origin: number) => (at === undefined ? undefined : at - origin);

function report(r: {
  scalers: Scaler[];
  samples: Sample[];
  orders: { at: number; accepted: number; done: number }[];
  baseline: Sample;
  loadStart: number;
  loadEnd: number;
  loadExitAt: number | undefined;
  upReadyAt: number;
  timedOut: boolean;
}) {
  const { scalers, samples, loadStart, loadEnd, baseline } = r;
  const after = (t: number) => samples.filter((s) => s.at >= t);
  const first = (list: Sample[], pred: (s: Sample) => boolean) => list.find(pred)?.at;
  /** First sample from which the predicate holds until the end of the run. */
  const stays = (list: Sample[], pred: (s: Sample) => boolean) => {
    let at: number | undefined;
    for (const s of list) at = pred(s) ? (at ?? s.at) : undefined;
    return at;
  };

  console.log('');
  console.log(
    `  times in seconds from the start of the load; load ended (last order accepted) at ${fmt(loadEnd - loadStart)}` +
      (r.loadExitAt ? `, load process exited at ${fmt(r.loadExitAt - loadStart)}` : '') +
      `; ${samples.length} samples every ${SAMPLE_MS} ms` +
      (r.timedOut ? '; STOPPED BY THE OVERALL TIMEOUT' : ''),
  );

  console.log('');
  console.log(
    '  (a) reaction: backlog first above the per-replica target -> more running instances than before',
  );
  console.log(
    '      role              base   live>target    trigger>target  desired>base  running>base   reaction   reaction',
  );
  console.log(
    '                                               (operator)                                  (trigger)  (live)',
  );
  for (const s of scalers) {
    const base = baseline.running[s.role] ?? 0;
    const from = after(loadStart);
    const crossed = first(from, (x) => (x.value[s.name] ?? 0) > s.perReplica);
    const liveCrossed = first(from, (x) => (x.live[s.name] ?? 0) > s.perReplica);
    const decided =
      crossed === undefined ? undefined : first(after(crossed), (x) => (x.desired[s.name] ?? 0) > base);
    const runningAfter = (from: number | undefined) =>
      from === undefined ? undefined : first(after(from), (x) => (x.running[s.role] ?? 0) > base);
    const running = runningAfter(crossed);
    const since = (from: number | undefined) => {
      const more = runningAfter(from);
      return from === undefined || more === undefined ? '   -   ' : fmt(more - from);
    };
    console.log(
      `      ${s.role.padEnd(17)} ${String(base).padStart(4)}   ${fmt(tOf(liveCrossed, loadStart))}        ` +
        `${fmt(tOf(crossed, loadStart))}         ${fmt(tOf(decided, loadStart))}       ${fmt(tOf(running, loadStart))}      ` +
        `${crossed === undefined ? 'never' : since(crossed)}    ${since(liveCrossed)}`,
    );
  }
  console.log(
    "      trigger: the value in the operator's status, which it records in the same reconcile that scales;",
  );
  console.log(
    "      live: ready messages read straight from RabbitMQ plus the tasks the role's workers hold (what the",
  );
  console.log(
    '      operator reads too), sampled by this bench; its reaction includes the wait for the next poll.',
  );

  console.log('');
  console.log(
    '  (b) drain, from the end of the load: backlog at 0 (and staying there), replicas back at minReplicas',
  );
  const end = after(loadEnd);
  const allZero = stays(end, (x) => scalers.every((s) => x.value[s.name] === 0));
  const allMin = stays(end, (x) => scalers.every((s) => x.running[s.role] === s.minReplicas));
  console.log(`      all triggers at 0       ${fmt(tOf(allZero, loadEnd))}`);
  console.log(`      every role at min       ${fmt(tOf(allMin, loadEnd))}`);
  for (const s of scalers) {
    const zero = stays(end, (x) => x.value[s.name] === 0);
    const min = stays(end, (x) => x.running[s.role] === s.minReplicas && x.desired[s.name] === s.minReplicas);
    console.log(
      `      ${s.role.padEnd(17)} backlog 0 ${fmt(tOf(zero, loadEnd))}   at min ${s.minReplicas} ${fmt(tOf(min, loadEnd))}`,
    );
  }

  console.log('');
  console.log('  (c) direction changes of desired replicas (up->down or down->up)');
  console.log(
    '      role              first peak  at        max  flips first peak..load end  flips whole run  desired over the run',
  );
  const flips = (values: number[]) => {
    let count = 0;
    let direction = 0;
    for (let i = 1; i < values.length; i++) {
      const d = Math.sign(values[i]! - values[i - 1]!);
      if (d === 0) continue;
      if (direction !== 0 && d !== direction) count += 1;
      direction = d;
    }
    return count;
  };
  for (const s of scalers) {
    // The changes of desired replicas from the start of the load, with their times.
    const steps: { at: number; value: number }[] = [];
    for (const x of after(loadStart)) {
      const value = x.desired[s.name];
      if (value !== undefined && value !== steps.at(-1)?.value) steps.push({ at: x.at, value });
    }
    // The first peak: the end of the first scale-up, where desired stops rising.
    const peak = steps.find(
      (st, i) => i > 0 && st.value > steps[i - 1]!.value && (steps[i + 1]?.value ?? 0) < st.value,
    );
    const steady = peak ? steps.filter((st) => st.at >= peak.at && st.at <= loadEnd) : [];
    const max = Math.max(0, ...steps.filter((st) => st.at <= loadEnd).map((st) => st.value));
    const shown =
      steps.length > 16 ? [...steps.slice(0, 15).map((st) => st.value), '…'] : steps.map((st) => st.value);
    console.log(
      `      ${s.role.padEnd(17)} ${String(peak?.value ?? '-').padStart(10)}  ${fmt(tOf(peak?.at, loadStart))}  ${String(max).padStart(4)}` +
        `  ${String(peak ? flips(steady.map((st) => st.value)) : '-').padStart(25)}  ${String(flips(steps.map((st) => st.value))).padStart(15)}  ${shown.join('→')}`,
    );
  }

  console.log('');
  console.log(`  (d) timeline every ${TIMELINE_STEP_S} s: backlog (trigger value) / desired / running`);
  const header = scalers.map((s) => s.role.replace(/^worker-/, '').padStart(15)).join('');
  console.log(`       t   accepted  finished${header}`);
  const firstAt = samples[0]?.at ?? loadStart;
  const lastAt = samples.at(-1)?.at ?? loadStart;
  const endRow = Math.ceil((loadEnd - loadStart) / 1000 / TIMELINE_STEP_S) * TIMELINE_STEP_S;
  for (
    let t = Math.ceil((firstAt - loadStart) / 1000 / TIMELINE_STEP_S) * TIMELINE_STEP_S;
    ;
    t += TIMELINE_STEP_S
  ) {
    const at = loadStart + t * 1000;
    if (at > lastAt + SAMPLE_MS) break;
    const s = [...samples].reverse().find((x) => x.at <= at) ?? samples[0]!;
    const o = [...r.orders].reverse().find((x) => x.at <= at);
    const cells = scalers
      .map((sc) =>
        `${s.value[sc.name] ?? '?'}/${s.desired[sc.name] ?? '?'}/${s.running[sc.role] ?? '?'}`.padStart(15),
      )
      .join('');
    const mark = t === endRow ? '  <- first row after the load ended' : '';
    console.log(
      `    ${String(t).padStart(4)}  ${String(o?.accepted ?? '-').padStart(8)}  ${String(o?.done ?? '-').padStart(8)}${cells}${mark}`,
    );
  }

  console.log('');
  console.log(
    `  for reference: KEDA polls every 30 s by default and the HPA syncs every 15 s, with a 300 s scale-down ` +
      `stabilization window; the same reaction with KEDA takes up to ~45 s, and the scale-down at least 300 s.`,
  );
}

const hardStop = setTimeout(() => {
  console.error('bench:autoscaler: cleanup did not finish in time, exiting');
  process.exit(1);
}, TIMEOUT_MS + 90_000);
hardStop.unref();

let exitCode = 0;
const interrupted = new Promise<never>((_, reject) =>
  process.once('SIGINT', () => reject(new Error('interrupted: cleaning up'))),
);
Promise.race([
  flags.cluster ? clusterBench({ orders: ORDERS, rate: RATE, stageLatencyMs: STAGE_LATENCY_MS }) : main(),
  interrupted,
])
  .catch((err: unknown) => {
    console.error(err);
    exitCode = 1;
  })
  .finally(async () => {
    for (const cleanup of cleanups) await cleanup().catch((err: unknown) => console.error(err));
    process.exit(exitCode);
  });
