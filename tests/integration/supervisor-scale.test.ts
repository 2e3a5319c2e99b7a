import { join } from 'node:path';
import { Writable } from 'node:stream';
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
});
