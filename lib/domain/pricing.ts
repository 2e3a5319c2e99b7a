/** Prices come from the catalog, never from the client. */

export interface CatalogProduct {
  id: string;
  merchantId: string;
  priceCents: number;
  active: boolean;
}

export interface RequestedItem {
  productId: string;
  quantity: number;
}

export interface PricedItem extends RequestedItem {
  unitPriceCents: number;
}

export type PricingResult =
  | { ok: true; items: PricedItem[]; totalCents: number }
  | { ok: false; problems: { index: number; productId: string; reason: string }[] };

export function priceOrder(
  merchantId: string,
  requested: RequestedItem[],
  catalog: CatalogProduct[],
): PricingResult {
  const byId = new Map(catalog.map((p) => [p.id, p]));
  const problems: { index: number; productId: string; reason: string }[] = [];
  const seen = new Set<string>();
  const items: PricedItem[] = [];
  requested.forEach((item, index) => {
    const product = byId.get(item.productId);
    if (seen.has(item.productId))
      problems.push({ index, productId: item.productId, reason: 'listed more than once' });
    else if (!product || product.merchantId !== merchantId)
      problems.push({ index, productId: item.productId, reason: 'not sold by this merchant' });
    else if (!product.active) problems.push({ index, productId: item.productId, reason: 'not available' });
    else items.push({ ...item, unitPriceCents: product.priceCents });
    seen.add(item.productId);
  });
  if (problems.length > 0) return { ok: false, problems };
  const totalCents = items.reduce((sum, i) => sum + i.unitPriceCents * i.quantity, 0);
  return { ok: true, items, totalCents };
}
