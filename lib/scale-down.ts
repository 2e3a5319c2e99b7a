/**
 * The cost of removing each instance of a scaled role: the tasks it holds. An instance whose holding
 * could not be read counts as busier than any that could, so instances known to be idle go first.
 * Kubernetes takes these as pods' deletion costs; the local supervisor stops the cheapest first.
 */
export function removalCosts(held: readonly (number | undefined)[]): number[] {
  const known = held.filter((h): h is number => h !== undefined);
  const unknown = (known.length > 0 ? Math.max(...known) : 0) + 1;
  return held.map((h) => h ?? unknown);
}
