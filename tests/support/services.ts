import { randomUUID } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { Client } from 'pg';
import { createDataSource } from '../../lib/adapters/postgres/data-source';
import { loadConfig, type Config } from '../../lib/config';
import { createLogger, type Logger } from '../../lib/telemetry/logger';

/** The built CLI: `npm test` builds dist/ before any test runs. */
export const MAIN = join(__dirname, '../../dist/cli/main.js');

/** `orderflow <args>` as a real process, with its stdout and stderr collected as it runs. */
export function runOrderflow(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => (output += chunk.toString());
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, output: () => output, exited };
}

/** Test configuration: the local stack, with the test database instead of the demo one. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_URL:
      process.env.TEST_DATABASE_URL ?? 'postgresql://orderflow:orderflow@127.0.0.1:5432/orderflow_test',
    KAFKA_BROKERS: process.env.KAFKA_BROKERS,
    RABBITMQ_URL: process.env.RABBITMQ_URL,
    RABBITMQ_MANAGEMENT_URL: process.env.RABBITMQ_MANAGEMENT_URL,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...overrides,
  });
}

/** A logger that keeps its lines in memory, so tests can assert on what was logged. */
export function memoryLogger(level = 'info'): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const logger = createLogger({ role: 'test', level, destination });
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** Unique names keep tests independent of each other and of earlier runs. */
export const uniqueName = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

const exec = promisify(execFile);

/** rabbitmqctl against the local stack's node. */
export async function rabbitmqctl(...args: string[]): Promise<string> {
  const { stdout } = await exec('bash', ['scripts/stack.sh', 'rabbitmqctl', ...args], { timeout: 60_000 });
  return stdout;
}

export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
  throw new Error(`timed out waiting for ${options.what ?? 'condition'}${last ? `: ${String(last)}` : ''}`);
}

/** A TCP port that was free a moment ago on loopback. */
export const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/**
 * An empty, migrated database of its own, dropped first if an earlier run left it: for a test whose
 * rows must neither mix with other tests' nor depend on what a previous run left. Returns its URL.
 */
export async function freshDatabase(name: string): Promise<string> {
  const base = testConfig().database.url;
  const admin = new Client({ connectionString: base });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = Object.assign(new URL(base), { pathname: `/${name}` }).toString();
  const db = createDataSource({ url, poolSize: 1, applicationName: 'jest-migrate' });
  await db.initialize();
  await db.runMigrations({ transaction: 'each' });
  await db.destroy();
  return url;
}

/** A fetch that must succeed: the response, or an error naming `what` with the status and body. */
export async function okResponse(res: Promise<Response>, what: string): Promise<Response> {
  const r = await res;
  if (!r.ok) throw new Error(`${what}: ${r.status} ${await r.text()}`);
  return r;
}
