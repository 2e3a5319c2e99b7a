/**
 * CPU accounting from /proc, stable where rates are not on a shared machine: CPU milliseconds spent
 * by the whole machine and by each kind of process over a phase of a benchmark.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { sleep } from '../../lib/backoff';

/** Linux reports CPU time in clock ticks of 1/100 s (USER_HZ) on every platform Node runs on. */
const TICK_MS = 10;

/** CPU milliseconds the machine has spent busy (everything but idle and iowait) since boot. */
export function machineBusyMs(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = fields as number[];
  return (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) * TICK_MS;
}

/** What a process is, for the report: an Orderflow role, one of the services, or anything else. */
export function roleOf(comm: string, cmdline: string): string {
  const role = /dist\/cli\/main\.js\s+(\S+)/.exec(cmdline)?.[1];
  if (role) return role;
  if (comm === 'postgres') return 'postgresql';
  if (comm === 'beam.smp' || comm.startsWith('erl_child') || comm === 'epmd') return 'rabbitmq';
  if (comm === 'java' && cmdline.includes('kafka')) return 'kafka';
  if (cmdline.includes('scripts/bench/')) return 'benchmark';
  return 'other';
}

/** CPU milliseconds per process (user + system), keyed by pid, with the role each one plays. */
export function processCpu(): Map<number, { role: string; ms: number }> {
  const out = new Map<number, { role: string; ms: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const rest = stat.slice(close + 2).split(' ');
      // fields 14 and 15 of stat (utime, stime) are 12 and 13 after the ")"
      const ms = (Number(rest[11]) + Number(rest[12])) * TICK_MS;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      out.set(Number(entry), { role: roleOf(comm, cmdline), ms });
    } catch {
      // the process ended while we read
    }
  }
  return out;
}

export interface CpuSnapshot {
  machineMs: number;
  processes: Map<number, { role: string; ms: number }>;
  at: number;
}

export const cpuSnapshot = (): CpuSnapshot => ({
  machineMs: machineBusyMs(),
  processes: processCpu(),
  at: Date.now(),
});

/**
 * CPU spent between two snapshots: the machine's, and per role (processes that ended in between
 * are missing from the roles, so the roles may add up to less than the machine).
 */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot) {
  const roles = new Map<string, number>();
  for (const [pid, now] of after.processes) {
    const then = before.processes.get(pid)?.ms ?? 0;
    roles.set(now.role, (roles.get(now.role) ?? 0) + Math.max(0, now.ms - then));
  }
  return { machineMs: after.machineMs - before.machineMs, wallMs: after.at - before.at, roles };
}

/** "relay 0.21, dispatcher 0.30, ..." in ms per unit, biggest first. */
export function formatPerUnit(roles: Map<string, number>, units: number): string {
  return [...roles]
    .filter(([, ms]) => ms > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([role, ms]) => `${role} ${(ms / units).toFixed(2)}`)
    .join(', ');
}

/**
 * CPU over `seconds` of doing nothing: the machine's per second (the reference a benchmark prints
 * beside its own numbers on a shared machine), and each role's milliseconds per second.
 */
export async function idleCpu(seconds: number): Promise<{ msPerSecond: number; roles: string }> {
  const before = cpuSnapshot();
  await sleep(seconds * 1000);
  const idle = cpuBetween(before, cpuSnapshot());
  return {
    msPerSecond: (idle.machineMs * 1000) / idle.wallMs,
    roles: formatPerUnit(idle.roles, idle.wallMs / 1000),
  };
}
