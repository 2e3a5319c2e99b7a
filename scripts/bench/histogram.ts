/** Cumulative bucket counts of one Prometheus histogram series, read from a /metrics exposition. */
export type Buckets = Map<number, number>;

export function histogramBuckets(
  exposition: string,
  metric: string,
  labels: Record<string, string>,
): Buckets {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const buckets: Buckets = new Map();
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${metric}_bucket{`) || !wanted.every((w) => line.includes(w))) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le !== undefined)
      buckets.set(le === '+Inf' ? Infinity : Number(le), Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return buckets;
}

/**
 * The observations made between two readings of a histogram, and for each quantile the upper bound of
 * the bucket it falls in (what PromQL's histogram_quantile would interpolate within).
 */
export function quantileBounds(before: Buckets, after: Buckets, quantiles: readonly number[]) {
  const buckets = [...after]
    .map(([le, count]) => ({ le, count: count - (before.get(le) ?? 0) }))
    .sort((a, b) => a.le - b.le);
  const count = buckets.at(-1)?.count ?? 0;
  return { count, bounds: quantiles.map((q) => buckets.find((b) => b.count >= q * count)?.le ?? NaN) };
}
