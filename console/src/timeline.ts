/** An order's timeline: the happy path as steps, each done, current or still ahead, and how it ended. */

export const HAPPY_PATH = ['PENDING', 'VALIDATED', 'RESERVED', 'PAID', 'COMPLETED'] as const;
export const FAILURES = ['REJECTED', 'FAILED', 'CANCELLED'] as const;
export type OrderStatus = (typeof HAPPY_PATH)[number] | (typeof FAILURES)[number];

const TERMINAL = new Set<string>(['COMPLETED', ...FAILURES]);
/** Cancelling is allowed until the payment is taken (the API answers 409 after that). */
const CANCELLABLE = new Set<string>(['PENDING', 'VALIDATED', 'RESERVED']);

export const isTerminal = (status: string) => TERMINAL.has(status);
export const canCancel = (status: string) => CANCELLABLE.has(status);

export interface StatusChange {
  status: string;
  fromStatus: string | null;
  reason: string | null;
  at: string;
}

export interface TimelineStep {
  status: string;
  state: 'done' | 'current' | 'ahead' | 'failed';
  at: string | null;
  reason: string | null;
}

const LABELS: Record<string, string> = {
  PENDING: 'Received',
  VALIDATED: 'Validated',
  RESERVED: 'Stock reserved',
  PAID: 'Paid',
  COMPLETED: 'Completed',
  REJECTED: 'Rejected',
  FAILED: 'Failed',
  CANCELLED: 'Cancelled',
};
export const statusLabel = (status: string) => LABELS[status] ?? status;

/**
 * Each status appears at most once in an order's life (the state machine has no cycles), so the
 * history and the live stream are merged by status: a change seen twice (the stream replays the
 * history it starts with, a reconnect may overlap) counts once.
 */
export function mergeChanges(
  known: readonly StatusChange[],
  incoming: readonly StatusChange[],
): StatusChange[] {
  const byStatus = new Map(known.map((c) => [c.status, c]));
  for (const change of incoming) if (!byStatus.has(change.status)) byStatus.set(change.status, change);
  return [...byStatus.values()].sort((a, b) => a.at.localeCompare(b.at));
}

/** The steps to draw: the happy path up to where the order stopped, then its terminal failure. */
export function timelineSteps(changes: readonly StatusChange[]): TimelineStep[] {
  const seen = new Map(changes.map((c) => [c.status, c]));
  const failure = FAILURES.map((s) => seen.get(s)).find(Boolean);
  const reached = HAPPY_PATH.filter((s) => seen.has(s));
  const last = reached[reached.length - 1];
  const steps: TimelineStep[] = [];
  for (const status of HAPPY_PATH) {
    const change = seen.get(status);
    if (failure && !change) break;
    steps.push({
      status,
      state: change ? (status === last && !failure && status !== 'COMPLETED' ? 'current' : 'done') : 'ahead',
      at: change?.at ?? null,
      reason: change?.reason ?? null,
    });
  }
  if (failure)
    steps.push({ status: failure.status, state: 'failed', at: failure.at, reason: failure.reason });
  return steps;
}

export function currentStatus(changes: readonly StatusChange[]): string | undefined {
  return changes[changes.length - 1]?.status;
}
