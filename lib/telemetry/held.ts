/** The workers' own gauge of the tasks they hold: received from the queue, not yet settled. */
export const HELD_METRIC = 'orderflow_stage_in_flight';

/** The sum of every sample of the held gauge in a Prometheus text exposition. */
export function heldInExposition(text: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(HELD_METRIC)) continue;
    const rest = line.slice(HELD_METRIC.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

/**
 * What one worker holds, read from its /metrics (asking for the held gauge alone: this runs every
 * second for every worker); throws if it cannot be read within `timeoutMs`.
 */
export async function scrapeHeld(metricsUrl: string, timeoutMs = 800): Promise<number> {
  const url = `${metricsUrl}?${new URLSearchParams({ 'name[]': HELD_METRIC }).toString()}`;
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return heldInExposition(await res.text());
}
