const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'BRL' });

export const formatCents = (cents: number) => money.format(cents / 100);

export const formatTime = (iso: string) => {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
};

/** Compact numbers for chart labels: 1234 -> 1.2k. */
export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1_000_000) return `${(value / 1_000_000).toFixed(1)}M`;
  if (abs >= 10_000) return `${Math.round(value / 1000)}k`;
  if (abs >= 1000) return `${(value / 1000).toFixed(1)}k`;
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(abs < 10 ? 1 : 0);
}

/** Reais typed by a person ("12,90", "12.9", "R$ 12") -> cents; undefined when it is not a price. */
export function parsePrice(text: string): number | undefined {
  const cleaned = text.replace(/R\$|\s/g, '').replace(',', '.');
  if (!/^\d+(\.\d{1,2})?$/.test(cleaned)) return undefined;
  return Math.round(Number(cleaned) * 100);
}
