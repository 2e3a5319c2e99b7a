import { backoffDelay } from './backoff';

describe('backoffDelay', () => {
  it.each([
    // attempt, random draw, expected delay with initial 100 ms and ceiling 1000 ms
    [1, 0, 50],
    [1, 1, 100],
    [2, 1, 200],
    [4, 1, 800],
    [5, 1, 1000], // capped
    [30, 0.5, 750], // never above the ceiling however many attempts
  ])('attempt %d with draw %d waits %d ms', (attempt, draw, expected) => {
    expect(backoffDelay(attempt, 100, 1000, () => draw)).toBe(expected);
  });
});
