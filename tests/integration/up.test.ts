import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Client } from 'pg';
import { eventually, freePort, MAIN, runOrderflow, testConfig } from '../support/services';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * `npm test` builds dist/ first; `orderflow up` is exercised as a user runs it, on a database of its
 * own (its relay and workers would otherwise process the orders other tests are inspecting).
 */
const base = testConfig().database.url;
const UP_DATABASE = 'orderflow_up_test';
const upDatabaseUrl = Object.assign(new URL(base), { pathname: `/${UP_DATABASE}` }).toString();

beforeAll(async () => {
  const admin = new Client({ connectionString: base });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${UP_DATABASE} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${UP_DATABASE}`);
  await admin.end();
});

describe('orderflow up', () => {
  it('migrates, seeds, runs every role under the supervisor, restarts it when killed, and stops cleanly', async () => {
    expect(existsSync(MAIN)).toBe(true);
    const port = await freePort();
    const controlPort = await freePort();
    const operatorPort = await freePort();
    const run = runOrderflow(['up', '--no-stack'], {
      DATABASE_URL: upDatabaseUrl,
      PORT: String(port),
      SUPERVISOR_PORT: String(controlPort),
      OPERATOR_PORT: String(operatorPort),
      LOG_LEVEL: 'info',
    });
    const { child: up, exited } = run;
    try {
      await eventually(() => run.output().includes('Orderflow is running'), {
        what: 'start-up table',
        timeoutMs: 30_000,
      }).catch((err: Error) => {
        throw new Error(`${err.message}; orderflow up printed:\n${run.output().slice(-4000)}`);
      });
      expect(run.output()).toContain('demo customer');
      const apiPid = Number(/api#1\s+pid (\d+)/.exec(run.output())?.[1]);
      await eventually(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, {
        what: 'API ready',
      });

      const roles = async () =>
        (await (await fetch(`http://127.0.0.1:${controlPort}/v1/roles`)).json()) as {
          role: string;
          replicas: number;
        }[];
      expect((await roles()).map((r) => r.role)).toEqual([
        'api',
        'relay',
        'dispatcher',
        'worker-validate',
        'worker-reserve',
        'worker-pay',
        'worker-complete',
        'operator',
      ]);

      // The local operator runs the example autoscalers against this supervisor; `orderflow status` shows them.
      await eventually(
        () => {
          const status = execFileSync(process.execPath, [MAIN, 'status', '--json'], {
            env: { ...process.env, OPERATOR_PORT: String(operatorPort) },
          }).toString();
          const views = JSON.parse(status) as {
            name: string;
            status?: { conditions: { type: string; status: string }[] };
          }[];
          return (
            views.length === 5 &&
            views.every((v) => v.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True'))
          );
        },
        { what: 'five autoscalers reconciled and Ready', timeoutMs: 30_000 },
      );

      process.kill(apiPid, 'SIGKILL');
      await eventually(() => /api#1.*restarting/.test(run.output()), { what: 'restart notice' });
      await eventually(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, {
        what: 'API back',
      });

      const childPids = execFileSync('ps', ['-o', 'pid=', '--ppid', String(up.pid)])
        .toString()
        .split('\n')
        .filter((line) => line.trim())
        .map(Number);
      const running = (await roles()).reduce((sum, r) => sum + r.replicas, 0);
      expect(childPids).toHaveLength(running);
      expect(running).toBeGreaterThanOrEqual(8);
      expect(childPids).not.toContain(apiPid);

      up.kill('SIGTERM');
      expect(await exited).toBe(0);
      await eventually(() => childPids.every((pid) => !alive(pid)), {
        what: 'every child gone',
        timeoutMs: 5000,
      });
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    } finally {
      // SIGTERM first, so that a failed run does not leave the supervisor's children behind.
      if (up.exitCode === null) {
        up.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      }
      up.kill('SIGKILL');
    }
  }, 180_000);

  it('when the supervisor itself is killed (kill -9), every process it started stops on its own and frees its port', async () => {
    const port = await freePort();
    const run = runOrderflow(['up', '--no-stack'], {
      DATABASE_URL: upDatabaseUrl,
      PORT: String(port),
      SUPERVISOR_PORT: String(await freePort()),
      OPERATOR_PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
    });
    const { child: up } = run;
    let childPids: number[] = [];
    try {
      await eventually(() => run.output().includes('Orderflow is running'), {
        what: 'start-up table',
        timeoutMs: 30_000,
      });
      await eventually(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, {
        what: 'API ready',
      });
      childPids = execFileSync('ps', ['-o', 'pid=', '--ppid', String(up.pid)])
        .toString()
        .split('\n')
        .filter((line) => line.trim())
        .map(Number);
      expect(childPids.length).toBeGreaterThanOrEqual(8);

      // Each child leads a session of its own, so nothing else reaches it once its parent is gone.
      up.kill('SIGKILL');
      await eventually(() => childPids.every((pid) => !alive(pid)), {
        what: 'every orphaned child gone',
        timeoutMs: 30_000,
      }).catch((err: Error) => {
        throw new Error(`${err.message}; still running: ${childPids.filter(alive).join(' ')}`);
      });
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    } finally {
      up.kill('SIGKILL');
      for (const pid of childPids.filter(alive)) process.kill(pid, 'SIGKILL');
    }
  }, 120_000);

  it('refuses to start with an invalid setting and names it', async () => {
    const run = spawn(process.execPath, [MAIN, 'up', '--no-stack'], {
      env: { ...process.env, PORT: 'eighty' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    run.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => run.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/PORT: /);
  });
});
