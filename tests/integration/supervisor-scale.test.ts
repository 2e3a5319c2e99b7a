import { existsSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { BACKGROUND_NICE } from '../../cli/supervisor/priority';
import { Supervisor } from '../../cli/supervisor/supervisor';
import { eventually } from '../support/services';

const alive = (pid: number | undefined) => {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('supervisor scaling', () => {
  it('starts and stops extra instances of a role at run time, newest first', async () => {
    const lines: string[] = [];
    const output = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const supervisor = new Supervisor({ output, colour: false, stopTimeoutMs: 5000 });
    supervisor.add({
      role: 'worker',
      command: process.execPath,
      args: [join(__dirname, '../fixtures/child.js')],
      replicas: 1,
      env: (index) => ({ INSTANCE: String(index) }),
    });
    try {
      await supervisor.scale('worker', 3);
      expect(supervisor.replicas('worker')).toBe(3);
      const three = supervisor.list();
      expect(three.map((i) => i.name)).toEqual(['worker#1', 'worker#2', 'worker#3']);
      await eventually(() => three.every((i) => alive(i.pid)), { what: 'three running' });
      await eventually(() => lines.some((l) => l.startsWith('worker#3') && l.includes('child up')), {
        what: 'worker#3 output',
      });

      await supervisor.scale('worker', 1);
      expect(supervisor.list().map((i) => i.name)).toEqual(['worker#1']);
      expect(alive(three[0]!.pid)).toBe(true);
      expect(alive(three[1]!.pid)).toBe(false);
      expect(alive(three[2]!.pid)).toBe(false);
      expect(() => supervisor.scale('nobody', 1)).toThrow(/unknown role/);
    } finally {
      await supervisor.stop();
    }
    expect(supervisor.list().every((i) => i.state === 'stopped')).toBe(true);
  });

  it('runs background roles below the CPU priority of the others, restarts included', async () => {
    const output = new Writable({ write: (_c, _e, done) => done() });
    const supervisor = new Supervisor({ output, colour: false, stopTimeoutMs: 5000 });
    const child = { command: process.execPath, args: [join(__dirname, '../fixtures/child.js')] };
    supervisor.add({ role: 'api', ...child });
    supervisor.add({ role: 'worker', ...child, background: true });
    /** The nice value of a process (field 19 of /proc/<pid>/stat), and its session's where the kernel has one. */
    const niceOf = (pid: number) => ({
      process: Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]),
      session: existsSync(`/proc/${pid}/autogroup`)
        ? Number(/nice (-?\d+)/.exec(readFileSync(`/proc/${pid}/autogroup`, 'utf8'))![1])
        : undefined,
    });
    const pidOf = (role: string) => supervisor.list().find((i) => i.role === role)!.pid!;
    try {
      await eventually(() => alive(pidOf('api')) && alive(pidOf('worker')), { what: 'both running' });
      const own = getPriority();
      const autogroup = existsSync(`/proc/${process.pid}/autogroup`);
      expect(niceOf(pidOf('api'))).toEqual({ process: own, session: autogroup ? 0 : undefined });
      expect(niceOf(pidOf('worker'))).toEqual({
        process: BACKGROUND_NICE,
        session: autogroup ? BACKGROUND_NICE : undefined,
      });

      const first = pidOf('worker');
      process.kill(first, 'SIGKILL');
      const restarted = await eventually(
        () => (alive(pidOf('worker')) && pidOf('worker') !== first ? pidOf('worker') : undefined),
        {
          what: 'the worker restarted',
        },
      );
      expect(niceOf(restarted).process).toBe(BACKGROUND_NICE);
    } finally {
      await supervisor.stop();
    }
  });

  it('stops the instances holding the least work first, and reuses the freed numbers', async () => {
    const output = new Writable({ write: (_c, _e, done) => done() });
    const supervisor = new Supervisor({ output, colour: false, stopTimeoutMs: 5000 });
    // What each instance holds, as its metrics would say: #1 is mid-batch, #2 idle, #3 finishing.
    const holding: Record<number, number> = { 1: 5, 2: 0, 3: 2 };
    supervisor.add({
      role: 'worker',
      command: process.execPath,
      args: [join(__dirname, '../fixtures/child.js')],
      replicas: 3,
      held: (index) => Promise.resolve(holding[index] ?? 0),
    });
    try {
      const before = supervisor.list();
      await eventually(() => before.every((i) => alive(i.pid)), { what: 'three running' });
      await supervisor.scale('worker', 1);
      expect(supervisor.list().map((i) => i.name)).toEqual(['worker#1']);
      expect(alive(before[0]!.pid)).toBe(true);
      expect(alive(before[1]!.pid)).toBe(false);
      expect(alive(before[2]!.pid)).toBe(false);
      // The next instance takes the lowest free number, so it gets #2's port, not a new one.
      await supervisor.scale('worker', 2);
      expect(supervisor.list().map((i) => i.name)).toEqual(['worker#1', 'worker#2']);
      expect(await supervisor.heldByEach('worker')).toEqual([
        { name: 'worker#1', held: 5 },
        { name: 'worker#2', held: 0 },
      ]);
    } finally {
      await supervisor.stop();
    }
  });
});
