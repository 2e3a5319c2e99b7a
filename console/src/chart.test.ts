import { describe, expect, it } from 'vitest';
import { chartPaths, niceMax, pushPoint, WINDOW_MS } from './chart';

describe('charts', () => {
  it.each([
    [0, 1],
    [1, 1],
    [7, 10],
    [12, 20],
    [230, 250],
    [4100, 5000],
  ])('niceMax(%i) = %i', (value, max) => {
    expect(niceMax(value)).toBe(max);
  });

  it('keeps only the last two minutes of samples', () => {
    let points = [{ t: 0, v: 1 }];
    points = pushPoint(points, { t: WINDOW_MS, v: 2 });
    points = pushPoint(points, { t: WINDOW_MS + 1, v: 3 });
    expect(points.map((p) => p.v)).toEqual([2, 3]);
  });

  it('scales every series to one y axis, newest sample at the right edge', () => {
    const { max, paths } = chartPaths(
      [
        [
          { t: 0, v: 0 },
          { t: 60_000, v: 5 },
          { t: 120_000, v: 10 },
        ],
        [{ t: 120_000, v: 2 }],
      ],
      { width: 100, height: 50 },
    );
    expect(max).toBe(10);
    expect(paths).toEqual(['M0,50 L50,25 L100,0', 'M100,40']);
  });
});
