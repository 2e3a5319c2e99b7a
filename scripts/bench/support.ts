import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { createDataSource } from '../../lib/adapters/postgres/data-source';
import { managementQueue } from '../../lib/adapters/rabbitmq/management';
import { STAGES } from '../../lib/domain/pipeline';
import { DEAD_LETTER_QUEUE, stageQueue } from '../../lib/messaging';

export const ROOT = join(__dirname, '../..');
export const BENCH_DATABASE = 'orderflow_bench';
const BASE_URL = 'postgresql://orderflow:orderflow@127.0.0.1:5432';

export function ensureStack(): void {
  if (spawnSync('bash', [join(ROOT, 'scripts/stack.sh'), 'check'], { stdio: 'ignore' }).status === 0) return;
  if (spawnSync('bash', [join(ROOT, 'scripts/stack.sh'), 'up'], { stdio: 'inherit' }).status !== 0)
    throw new Error('stack did not come up');
}

export function buildDist(): void {
  if (spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' }).status !== 0)
    throw new Error('build failed');
}

/**
 * A database of its own, so benchmark rows never mix with the demo or the tests; `fresh` starts it
 * empty (the pipeline benchmark must not inherit another run's backlog).
 */
export async function benchDatabase(name = BENCH_DATABASE, fresh = false): Promise<string> {
  const admin = new Client({ connectionString: `${BASE_URL}/orderflow` });
  await admin.connect();
  if (fresh) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = `${BASE_URL}/${name}`;
  const db = createDataSource({ url, poolSize: 1, applicationName: 'bench-migrate' });
  await db.initialize();
  await db.runMigrations({ transaction: 'each' });
  await db.destroy();
  return url;
}

export { freePort } from '../../tests/support/services';

/** Runs `orderflow <role>` from dist/ as its own process, as in production. */
export function startRole(role: string, env: Record<string, string>, args: string[] = []): ChildProcess {
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  return spawn(process.execPath, [...profile, join(ROOT, 'dist/cli/main.js'), role, ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

export async function waitFor(probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('timed out');
}

export { percentile } from '../../lib/telemetry/percentiles';

/**
 * A benchmark owns the stage queues while it runs: tasks left by other runs (an interrupted one, say)
 * would only be noise, and their orders are in a database that is gone.
 */
export async function purgeStageQueues(): Promise<void> {
  for (const queue of [...STAGES.map(stageQueue), DEAD_LETTER_QUEUE]) {
    await managementQueue('http://orderflow:orderflow@127.0.0.1:15672', queue)('/contents', {
      method: 'DELETE',
    });
  }
}

/** One goal of the throughput issue, as a benchmark prints it: what was asked, what was measured. */
export interface Goal {
  goal: string;
  met: boolean;
  measured: string;
}

/** The `goals` lines of a benchmark: each goal, met or NOT met, with the number behind it. */
export function printGoals(goals: Goal[]): void {
  goals.forEach((g, i) =>
    console.log(
      `  ${i === 0 ? 'goals' : '     '}                 ${g.goal}: ${g.met ? 'met' : 'NOT met'} (${g.measured})`,
    ),
  );
}
