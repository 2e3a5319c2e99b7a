import { randomUUID } from 'node:crypto';
import type { CatalogProduct } from '../domain/pricing';
import { many, one, returning, type Queryable } from './db';
import type { Cursor } from './cursor';

export interface Merchant {
  id: string;
  ownerId: string;
  name: string;
  createdAt: Date;
}

export interface Product {
  id: string;
  merchantId: string;
  name: string;
  description: string;
  priceCents: number;
  stock: number;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

const MERCHANT = `id, owner_id AS "ownerId", name, created_at AS "createdAt", created_at::text AS "cursorCreatedAt"`;
const PRODUCT = `id, merchant_id AS "merchantId", name, description, price_cents AS "priceCents", stock, active,
  created_at AS "createdAt", updated_at AS "updatedAt", created_at::text AS "cursorCreatedAt"`;

export async function createMerchant(db: Queryable, ownerId: string, name: string) {
  return (await one<Merchant & { cursorCreatedAt: string }>(
    db,
    `INSERT INTO merchants (id, owner_id, name) VALUES ($1, $2, $3) RETURNING ${MERCHANT}`,
    [randomUUID(), ownerId, name],
  ))!;
}

export async function findMerchant(db: Queryable, id: string) {
  return one<Merchant & { cursorCreatedAt: string }>(db, `SELECT ${MERCHANT} FROM merchants WHERE id = $1`, [
    id,
  ]);
}

/** Oldest first, so a page never shifts when merchants are added. */
export async function listMerchants(db: Queryable, limit: number, after?: Cursor) {
  return many<Merchant & { cursorCreatedAt: string }>(
    db,
    `SELECT ${MERCHANT} FROM merchants
      WHERE $1::timestamptz IS NULL OR (created_at, id) > ($1::timestamptz, $2::uuid)
      ORDER BY created_at, id LIMIT $3`,
    [after?.createdAt ?? null, after?.id ?? null, limit + 1],
  );
}

export async function createProduct(
  db: Queryable,
  merchantId: string,
  input: { name: string; description: string; priceCents: number; stock: number; active: boolean },
) {
  return (await one<Product & { cursorCreatedAt: string }>(
    db,
    `INSERT INTO products (id, merchant_id, name, description, price_cents, stock, active)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${PRODUCT}`,
    [randomUUID(), merchantId, input.name, input.description, input.priceCents, input.stock, input.active],
  ))!;
}

export async function updateProduct(
  db: Queryable,
  merchantId: string,
  productId: string,
  patch: Partial<{ name: string; description: string; priceCents: number; stock: number; active: boolean }>,
) {
  const [row] = await returning<Product & { cursorCreatedAt: string }>(
    db,
    `UPDATE products SET
       name = coalesce($3, name),
       description = coalesce($4, description),
       price_cents = coalesce($5, price_cents),
       stock = coalesce($6, stock),
       active = coalesce($7, active),
       updated_at = now()
     WHERE id = $1 AND merchant_id = $2
     RETURNING ${PRODUCT}`,
    [
      productId,
      merchantId,
      patch.name ?? null,
      patch.description ?? null,
      patch.priceCents ?? null,
      patch.stock ?? null,
      patch.active ?? null,
    ],
  );
  return row;
}

export async function listProducts(db: Queryable, merchantId: string, limit: number, after?: Cursor) {
  return many<Product & { cursorCreatedAt: string }>(
    db,
    `SELECT ${PRODUCT} FROM products
      WHERE merchant_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
      ORDER BY created_at, id LIMIT $4`,
    [merchantId, after?.createdAt ?? null, after?.id ?? null, limit + 1],
  );
}

/** The catalog rows an order refers to, for pricing. */
export async function productsForPricing(db: Queryable, productIds: string[]): Promise<CatalogProduct[]> {
  return many<CatalogProduct>(
    db,
    `SELECT id, merchant_id AS "merchantId", price_cents AS "priceCents", active FROM products WHERE id = ANY($1::uuid[])`,
    [productIds],
  );
}
