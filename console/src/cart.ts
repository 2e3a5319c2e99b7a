/** The cart: one store at a time (an order belongs to one merchant), quantities bounded by stock. */

export const MAX_QUANTITY = 100;

export interface CartLine {
  productId: string;
  name: string;
  unitPriceCents: number;
  quantity: number;
  stock: number;
}

export interface Cart {
  merchantId: string | null;
  merchantName: string;
  lines: CartLine[];
}

export const emptyCart = (): Cart => ({ merchantId: null, merchantName: '', lines: [] });

export interface ProductForCart {
  id: string;
  name: string;
  priceCents: number;
  stock: number;
}

const clamp = (quantity: number, stock: number) =>
  Math.max(0, Math.min(Math.floor(quantity), stock, MAX_QUANTITY));

/** Adds to the line of that product; a product of another store starts a new cart (`replaced`). */
export function addToCart(
  cart: Cart,
  merchant: { id: string; name: string },
  product: ProductForCart,
  quantity = 1,
): { cart: Cart; replaced: boolean } {
  const replaced = cart.merchantId !== null && cart.merchantId !== merchant.id && cart.lines.length > 0;
  const base = replaced || cart.merchantId !== merchant.id ? emptyCart() : cart;
  const existing = base.lines.find((l) => l.productId === product.id);
  const wanted = clamp((existing?.quantity ?? 0) + quantity, product.stock);
  const line: CartLine = {
    productId: product.id,
    name: product.name,
    unitPriceCents: product.priceCents,
    stock: product.stock,
    quantity: wanted,
  };
  const lines = existing
    ? base.lines.map((l) => (l.productId === product.id ? line : l))
    : [...base.lines, line];
  return {
    cart: {
      merchantId: merchant.id,
      merchantName: merchant.name,
      lines: lines.filter((l) => l.quantity > 0),
    },
    replaced,
  };
}

export function setQuantity(cart: Cart, productId: string, quantity: number): Cart {
  const lines = cart.lines
    .map((l) => (l.productId === productId ? { ...l, quantity: clamp(quantity, l.stock) } : l))
    .filter((l) => l.quantity > 0);
  return lines.length ? { ...cart, lines } : emptyCart();
}

export const lineTotal = (line: CartLine) => line.unitPriceCents * line.quantity;

/** What the cart shows; the API prices the order again from the catalog, and its total is the one charged. */
export const cartTotal = (cart: Cart) => cart.lines.reduce((sum, l) => sum + lineTotal(l), 0);

export const cartCount = (cart: Cart) => cart.lines.reduce((sum, l) => sum + l.quantity, 0);

export const orderItems = (cart: Cart) =>
  cart.lines.map((l) => ({ productId: l.productId, quantity: l.quantity }));
