import {
  CANCELLABLE_STATUSES,
  canTransition,
  isTerminal,
  ORDER_STATUSES,
  type OrderStatus,
} from './order-status';

describe('order state machine', () => {
  it.each<[OrderStatus, OrderStatus, boolean]>([
    // the happy path, one step at a time
    ['PENDING', 'VALIDATED', true],
    ['VALIDATED', 'RESERVED', true],
    ['RESERVED', 'PAID', true],
    ['PAID', 'COMPLETED', true],
    // no skipping and no going back
    ['PENDING', 'PAID', false],
    ['RESERVED', 'VALIDATED', false],
    // failures
    ['PENDING', 'REJECTED', true],
    ['VALIDATED', 'REJECTED', true], // out of stock at reservation
    ['RESERVED', 'FAILED', true], // payment declined
    ['PAID', 'REJECTED', false],
    // cancellation only before payment
    ['RESERVED', 'CANCELLED', true],
    ['PAID', 'CANCELLED', false],
    // terminal statuses never move
    ['COMPLETED', 'FAILED', false],
    ['CANCELLED', 'PENDING', false],
  ])('%s -> %s allowed: %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed);
  });

  it('knows the terminal statuses and what may be cancelled', () => {
    expect(ORDER_STATUSES.filter(isTerminal)).toEqual(['COMPLETED', 'REJECTED', 'FAILED', 'CANCELLED']);
    expect(CANCELLABLE_STATUSES).toEqual(['PENDING', 'VALIDATED', 'RESERVED']);
  });
});
