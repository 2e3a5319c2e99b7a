import { writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';

/** The nice value of background roles: about a tenth of the CPU weight of a normal one when both want it. */
export const BACKGROUND_NICE = 10;

/**
 * Runs a process below normal CPU priority. Each instance leads a session of its own (a process group
 * is how the supervisor stops an instance's whole tree, and Node makes one only with a session), and
 * where the kernel shares CPU time between sessions first (Linux's autogroup,
 * `/proc/sys/kernel/sched_autogroup_enabled`), a process's nice value only ranks it inside its own
 * session: the session's value, in `/proc/<pid>/autogroup`, is what ranks it against the API. Both are
 * set; raising either needs no privilege. Best effort: a process already gone, or a system without
 * autogroup, keeps what it has.
 */
export function lowerPriority(pid: number, nice = BACKGROUND_NICE): void {
  try {
    setPriority(pid, nice);
  } catch {
    // The process has exited already; its restart gets the same treatment.
  }
  try {
    writeFileSync(`/proc/${pid}/autogroup`, String(nice));
  } catch {
    // No autogroup on this system: the process's own nice value is what counts.
  }
}
