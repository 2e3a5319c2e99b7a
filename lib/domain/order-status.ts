/** The order state machine: which status may follow which, and which statuses end an order. */

export const ORDER_STATUSES = [
  'PENDING',
  'VALIDATED',
  'RESERVED',
  'PAID',
  'COMPLETED',
  'REJECTED',
  'FAILED',
  'CANCELLED',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<OrderStatus> = new Set([
  'COMPLETED',
  'REJECTED',
  'FAILED',
  'CANCELLED',
]);

const NEXT: Record<OrderStatus, readonly OrderStatus[]> = {
  PENDING: ['VALIDATED', 'REJECTED', 'FAILED', 'CANCELLED'],
  VALIDATED: ['RESERVED', 'REJECTED', 'FAILED', 'CANCELLED'],
  RESERVED: ['PAID', 'FAILED', 'CANCELLED'],
  PAID: ['COMPLETED', 'FAILED'],
  COMPLETED: [],
  REJECTED: [],
  FAILED: [],
  CANCELLED: [],
};

export const isTerminal = (status: OrderStatus) => TERMINAL_STATUSES.has(status);

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return NEXT[from].includes(to);
}

/** A customer may cancel until the payment is taken. */
export const CANCELLABLE_STATUSES: readonly OrderStatus[] = ORDER_STATUSES.filter((s) =>
  canTransition(s, 'CANCELLED'),
);

/** Stock was decremented for the order in these statuses, so leaving them for a failure releases it. */
export const HOLDS_STOCK: ReadonlySet<OrderStatus> = new Set(['RESERVED', 'PAID']);
