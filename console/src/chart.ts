/** Small live line charts: a time window of samples scaled into an SVG path. */

export interface Point {
  /** Milliseconds since the epoch. */
  t: number;
  v: number;
}

export const WINDOW_MS = 2 * 60_000;

/** Appends a sample and drops what fell out of the window (the newest sample's time is "now"). */
export function pushPoint(points: readonly Point[], point: Point, windowMs = WINDOW_MS): Point[] {
  return [...points, point].filter((p) => p.t >= point.t - windowMs);
}

/** 0 -> 1, 7 -> 10, 12 -> 20, 230 -> 250: a round top for the y axis, never below 1. */
export function niceMax(value: number): number {
  if (!(value > 1)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((s) => s * magnitude >= value)!;
  return step * magnitude;
}

export interface ChartBox {
  width: number;
  height: number;
  windowMs?: number;
  /** The right edge's time; the newest sample when not given. */
  now?: number;
}

/** SVG path data for each series in one box, sharing one y scale; plus that scale's top. */
export function chartPaths(
  series: readonly (readonly Point[])[],
  box: ChartBox,
): { max: number; paths: string[] } {
  const windowMs = box.windowMs ?? WINDOW_MS;
  const all = series.flat();
  const now = box.now ?? Math.max(0, ...all.map((p) => p.t));
  const max = niceMax(Math.max(0, ...all.map((p) => p.v)));
  const x = (t: number) => box.width - ((now - t) / windowMs) * box.width;
  const y = (v: number) => box.height - (Math.max(0, v) / max) * box.height;
  const round = (n: number) => Math.round(n * 10) / 10;
  const paths = series.map((points) =>
    points
      .filter((p) => p.t >= now - windowMs && p.t <= now)
      .map((p, i) => `${i === 0 ? 'M' : 'L'}${round(x(p.t))},${round(y(p.v))}`)
      .join(' '),
  );
  return { max, paths };
}
