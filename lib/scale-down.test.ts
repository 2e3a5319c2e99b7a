import { removalCosts } from './scale-down';

describe('removalCosts', () => {
  it.each([
    // the idle instance is removed first; the busiest last
    ['all known', [5, 0, 12], [5, 0, 12]],
    // an unreadable instance may be mid-batch: it goes after every instance known to hold less
    ['one unknown', [3, undefined, 0], [3, 4, 0]],
    // nothing known: all equal, the caller's tie-break (newest first) decides
    ['none known', [undefined, undefined], [1, 1]],
    ['no instances', [], []],
  ])('%s', (_, held, costs) => {
    expect(removalCosts(held)).toEqual(costs);
  });
});
