/**
 * npm run bench:platform — what a user gets from `npm start` and `orderflow load`: `orderflow up`
 * (every role under the supervisor, the local operator, default settings and logging) on a database
 * of its own, then `orderflow load --concurrency 64`'s own code in this process at a rate (BENCH_RATE,
 * default 300/s, the goal): first BENCH_WARMUP orders (default 3,000) on the cold platform, reported on
 * their own line, then BENCH_ORDERS orders (default 6,000) measured. Prints orders accepted and
 * completed per second, accept latency as the client sees it (from when each order was due, so a late
 * start counts) and as the API's own histogram sees it, end-to-end latency, the machine's CPU per
 * completed order against the idle platform's in the same run, and CPU per order by process role
 * (from /proc).
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { DEMO_CUSTOMER, DEMO_PASSWORD } from '../../cli/demo-data';
import { runLoad, type LoadCounts, type LoadProgress } from '../../cli/load';
import { sleep } from '../../lib/backoff';
import { histogramBuckets, quantileBounds } from './histogram';
import { cpuBetween, cpuSnapshot, formatPerUnit, idleCpu } from './cpu';
import {
  benchDatabase,
  buildDist,
  ensureStack,
  freePort,
  printGoals,
  purgeStageQueues,
  ROOT,
} from './support';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 6000);
const RATE = Number(process.env.BENCH_RATE ?? 300);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3000);
const MAIN = join(ROOT, 'dist/cli/main.js');

/**
 * Each second of a load (counted from the call, its sign-in included): how far acceptance is behind
 * the orders due (both as of the load's last report, every 500 ms), the machine's CPU and its four
 * busiest roles, to see where a cold start falls behind and how long it takes to catch up.
 */
function timeline() {
  let reported: LoadCounts | undefined;
  let snapshot = cpuSnapshot();
  const rows: string[] = [];
  const timer = setInterval(() => {
    const now = cpuSnapshot();
    const cpu = cpuBetween(snapshot, now);
    snapshot = now;
    const perSecond = (ms: number) => Math.round((ms * 1000) / cpu.wallMs);
    const busiest = [...cpu.roles]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([role, ms]) => `${role} ${perSecond(ms)}`)
      .join(', ');
    const { due, accepted } = reported ?? { due: 0, accepted: 0 };
    rows.push(
      `${String(rows.length + 1).padStart(3)} s  due ${String(due).padStart(5)}, accepted ${String(accepted).padStart(5)}, behind ${String(due - accepted).padStart(4)}  machine ${perSecond(cpu.machineMs)} ms/s: ${busiest}`,
    );
  }, 1000);
  return {
    onProgress: ((_line, _done, counts) => (reported = counts)) satisfies LoadProgress,
    stop: () => {
      clearInterval(timer);
      return rows;
    },
  };
}

async function main() {
  ensureStack();
  buildDist();
  const url = await benchDatabase('orderflow_bench_platform', true);
  await purgeStageQueues();
  const [port, supervisorPort, operatorPort] = [await freePort(), await freePort(), await freePort()];
  const env = {
    ...process.env,
    DATABASE_URL: url,
    PORT: String(port),
    SUPERVISOR_PORT: String(supervisorPort),
    OPERATOR_PORT: String(operatorPort),
  };
  // What the terminal shows is read and counted, as a terminal would take it.
  const up = spawn(process.execPath, [MAIN, 'up', '--no-stack'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let lines = 0;
  /** While set, the lines orderflow up prints (the first ten), to show them after the load. */
  let printed: string[] | undefined;
  const read = (chunk: Buffer) => {
    const text = chunk.toString();
    lines += text.split('\n').length - 1;
    if (printed && printed.length < 10)
      printed.push(
        ...text
          .split('\n')
          .filter(Boolean)
          .slice(0, 10 - printed.length),
      );
    output = (output + text).slice(-20_000);
  };
  up.stdout.on('data', read);
  up.stderr.on('data', read);
  const exited = new Promise<number | null>((resolve) => up.once('exit', resolve));
  try {
    const deadline = Date.now() + 120_000;
    while (!output.includes('Orderflow is running')) {
      if (up.exitCode !== null || Date.now() > deadline)
        throw new Error(`orderflow up did not start:\n${output}`);
      await sleep(200);
    }
    await sleep(3000);
    // Stock for the warm-up, the measured run and the Ctrl-C run.
    const stock = WARMUP + ORDERS + RATE * 10;
    const seed = spawnSync(process.execPath, [MAIN, 'seed', '--restock', String(stock)], {
      env,
      encoding: 'utf8',
    });
    if (seed.status !== 0) throw new Error(`seed --restock failed: ${seed.stderr}`);
    console.log(
      `bench:platform  orderflow up + orderflow load: ${ORDERS} orders at ${RATE}/s offered, concurrency ${CONCURRENCY}, ${cpus().length} CPUs`,
    );
    // orderflow load's own code, run in this process: its CPU is the "benchmark" role.
    const load = (orders: number, timeoutSeconds: number, onProgress: LoadProgress = () => undefined) =>
      runLoad(
        {
          url: `http://127.0.0.1:${port}`,
          email: DEMO_CUSTOMER,
          password: DEMO_PASSWORD,
          orders,
          rate: RATE,
          concurrency: CONCURRENCY,
          token: 'tok_visa',
          timeoutSeconds,
        },
        onProgress,
      );
    let coldP99: number | undefined;
    if (WARMUP > 0) {
      const coldBefore = cpuSnapshot();
      const seconds = timeline();
      const cold = await load(WARMUP, 120, seconds.onProgress);
      const coldCpu = cpuBetween(coldBefore, cpuSnapshot());
      const rows = seconds.stop();
      const coldCompleted = cold.finished.COMPLETED ?? 0;
      coldP99 = cold.acceptLatencyMs.p99;
      console.log(
        `  warm-up (cold start)  ${WARMUP} orders: accept p50 ${cold.acceptLatencyMs.p50} ms, p99 ${cold.acceptLatencyMs.p99} ms; created -> terminal p99 ${cold.endToEndMs.p99} ms; ` +
          `${(coldCpu.machineMs / coldCompleted).toFixed(2)} ms CPU per order: ${formatPerUnit(coldCpu.roles, coldCompleted)} (not in the numbers below)`,
      );
      console.log(
        '  ... second by second  orders due and accepted (as the load last reported them), the machine, its busiest roles',
      );
      for (const row of rows) console.log(`    ${row}`);
    }
    const { msPerSecond: idleMsPerS, roles: idleRoles } = await idleCpu(5);
    console.log(
      `  idle platform         ${idleMsPerS.toFixed(0)} ms of CPU per second: ${idleRoles} (ms per second, the reference for what follows)`,
    );

    const linesBefore = lines;
    printed = [];
    const orderRequests = async () =>
      histogramBuckets(
        await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()),
        'orderflow_http_request_duration_seconds',
        { method: 'POST', route: '/v1/orders', status: '202' },
      );
    const requestsBefore = await orderRequests();
    const before = cpuSnapshot();
    const summary = await load(ORDERS, 120);
    const loadLines = lines - linesBefore;
    const loadOutput = printed;
    printed = undefined;
    const cpu = cpuBetween(before, cpuSnapshot());
    const requestsAfter = await orderRequests();
    const completed = summary.finished.COMPLETED ?? 0;
    console.log(
      `  accepted              ${summary.accepted} of ${ORDERS}, ${summary.acceptedPerSecond}/s; refused ${summary.refused}`,
    );
    console.log(
      `  completed             ${completed}, ${summary.completedPerSecond}/s; unfinished ${summary.unfinished}; ${JSON.stringify(summary.finished)}`,
    );
    console.log(
      `  accept latency        p50 ${summary.acceptLatencyMs.p50} ms, p95 ${summary.acceptLatencyMs.p95} ms, p99 ${summary.acceptLatencyMs.p99} ms`,
    );
    const {
      count: served,
      bounds: [serverP50 = NaN, serverP99 = NaN],
    } = quantileBounds(requestsBefore, requestsAfter, [0.5, 0.99]);
    console.log(
      `  ... inside the API    p50 <= ${serverP50 * 1000} ms, p99 <= ${serverP99 * 1000} ms (its request histogram's buckets, ${served} requests; the rest is waiting for a socket and the CPU)`,
    );
    console.log(
      `  created -> terminal   p50 ${summary.endToEndMs.p50} ms, p95 ${summary.endToEndMs.p95} ms, p99 ${summary.endToEndMs.p99} ms`,
    );
    console.log(
      `  machine CPU           ${(cpu.machineMs / completed).toFixed(2)} ms per completed order over ${(cpu.wallMs / 1000).toFixed(1)} s ` +
        `(reference: the idle platform used ${idleMsPerS.toFixed(0)} ms/s just before, ${((idleMsPerS * cpu.wallMs) / 1000 / completed).toFixed(2)} ms per order of this)`,
    );
    console.log(
      `  CPU by process role   ${formatPerUnit(cpu.roles, completed)} (ms per completed order; benchmark is the load generator)`,
    );
    // The completed rate spans the first order placed to the last one finished, so at an offered rate
    // it stays a little under it; keeping up is every order accepted at that rate and completed,
    // end to end within a second.
    const p99s = [summary.acceptLatencyMs.p99, ...(coldP99 === undefined ? [] : [coldP99])];
    printGoals([
      {
        goal: 'at least 300 orders/s accepted and completed',
        met:
          RATE >= 300 &&
          summary.acceptedPerSecond >= RATE * 0.99 &&
          completed === ORDERS &&
          summary.endToEndMs.p99 < 1000,
        measured: `${summary.accepted} of ${ORDERS} accepted at ${summary.acceptedPerSecond}/s with ${RATE}/s offered, ${completed} completed (${summary.completedPerSecond}/s to the last one's end), created -> terminal p99 ${summary.endToEndMs.p99} ms`,
      },
      {
        goal: 'accept p99 under 150 ms',
        met: p99s.every((p) => p < 150),
        measured: `${summary.acceptLatencyMs.p99} ms${coldP99 === undefined ? '' : `; the first ${WARMUP} orders after start: ${coldP99} ms`}`,
      },
    ]);
    // Ctrl-C in the middle of a load: every process must finish its in-flight work and stop.
    const interrupted = load(RATE * 10, 1).catch(() => undefined);
    await sleep(3000);
    const stopping = Date.now();
    up.kill('SIGINT');
    const code = await Promise.race([exited, sleep(30_000).then(() => 'timeout' as const)]);
    console.log(
      `  Ctrl-C under load     orderflow up exited ${String(code)} in ${((Date.now() - stopping) / 1000).toFixed(1)} s`,
    );
    await interrupted;
    console.log(`  terminal output       ${loadLines} lines from orderflow up during the load`);
    for (const line of loadOutput) console.log(`    ${line.slice(0, 200)}`);
  } finally {
    if (up.exitCode === null && up.signalCode === null) {
      up.kill('SIGINT');
      if ((await Promise.race([exited, sleep(30_000).then(() => 'timeout')])) === 'timeout')
        up.kill('SIGKILL');
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
