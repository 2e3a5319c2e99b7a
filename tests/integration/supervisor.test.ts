import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { eventually } from '../support/services';

interface Spawned {
  name: string;
  pid: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts the supervisor fixture as a real process and records its spawn events and output. */
function startSupervisor(replicas: number) {
  const proc: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(__dirname, '../fixtures/supervise.ts'), String(replicas)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const spawns: Spawned[] = [];
  const output: string[] = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    output.push(line);
    if (line.startsWith('{"event":"spawn"')) spawns.push(JSON.parse(line) as Spawned);
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, spawns, output, exited };
}

const grandchildren = (output: string[]) =>
  output.flatMap((line) => {
    const match = /grandchild=(\d+)/.exec(line);
    return match ? [Number(match[1])] : [];
  });

describe('supervisor', () => {
  it('restarts a child killed with SIGKILL, and SIGTERM stops every child and grandchild', async () => {
    const run = startSupervisor(2);
    await eventually(() => run.spawns.length >= 2 && grandchildren(run.output).length >= 2, {
      what: 'two children',
    });
    const victim = run.spawns[0]!;
    process.kill(victim.pid, 'SIGKILL');

    const replacement = await eventually(
      () => run.spawns.find((s) => s.name === victim.name && s.pid !== victim.pid),
      { what: 'the killed child to be restarted' },
    );
    expect(alive(replacement.pid)).toBe(true);
    expect(run.output.some((line) => line.includes(`${victim.name}`) && line.includes('restarting'))).toBe(
      true,
    );
    // Child JSON logs are reformatted with the instance name as prefix.
    expect(run.output.some((line) => line.startsWith('child#2') && line.includes('child up'))).toBe(true);
    await eventually(() => grandchildren(run.output).length >= 3, {
      what: 'the replacement to start its grandchild',
    });

    run.proc.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const everyPid = [...run.spawns.map((s) => s.pid), ...grandchildren(run.output)];
    await eventually(() => everyPid.every((pid) => !alive(pid)), {
      timeoutMs: 5000,
      what: 'no process left',
    });
  });
});
