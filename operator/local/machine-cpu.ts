import { readFileSync } from 'node:fs';

/** Below this share of idle CPU the machine counts as saturated. */
export const SATURATED_IDLE_SHARE = 0.1;

/** Readings closer together than this share one interval: the autoscalers polling in one tick agree. */
const MIN_INTERVAL_MS = 500;

interface Sample {
  at: number;
  idle: number;
  total: number;
}

function sample(): Sample | undefined {
  try {
    // cpu  user nice system idle iowait irq softirq steal ...: idle time is idle + iowait.
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n', 1)[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    return { at: Date.now(), idle: fields[3]! + (fields[4] ?? 0), total: fields.reduce((a, b) => a + b, 0) };
  } catch {
    return undefined;
  }
}

/**
 * The machine's share of idle CPU since the previous reading, from `/proc/stat`; undefined where there
 * is no such file, or on the first reading.
 */
export function idleShare(): () => number | undefined {
  let last = sample();
  let share: number | undefined;
  return () => {
    const now = sample();
    if (!now || !last) return undefined;
    if (now.at - last.at < MIN_INTERVAL_MS) return share;
    share = now.total > last.total ? (now.idle - last.idle) / (now.total - last.total) : share;
    last = now;
    return share;
  };
}

/**
 * For a scale target on this machine: a reason to hold a scale-up while the CPU is saturated. New
 * local processes bring no CPU of their own; on a saturated machine they start cold and slow down what
 * already runs.
 */
export function saturatedMachine(
  idle: () => number | undefined = idleShare(),
): () => Promise<string | undefined> {
  return async () => {
    const share = idle();
    return share !== undefined && share < SATURATED_IDLE_SHARE
      ? `this machine has no idle CPU (${Math.round(share * 100)}% idle), a new process would bring none`
      : undefined;
  };
}
