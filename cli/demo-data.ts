import type { DataSource } from 'typeorm';
import { hashPassword } from '../api/auth/passwords';
import { createMerchant, createProduct } from '../lib/store/catalog';
import { one, returning } from '../lib/store/db';
import { createUser, type Role } from '../lib/store/users';

export const DEMO_PASSWORD = 'orderflow-demo';
export const DEMO_CUSTOMER = 'customer@orderflow.test';
export const DEMO_MERCHANT = 'merchant@orderflow.test';
export const DEMO_ADMIN = 'admin@orderflow.test';

const STORES: { name: string; products: [string, number, number][] }[] = [
  {
    name: 'Pizzaria Bella Napoli',
    products: [
      ['Margherita', 4490, 500],
      ['Calabresa', 4790, 500],
      ['Quatro Queijos', 5290, 300],
      ['Guaraná 2L', 1290, 1000],
    ],
  },
  {
    name: 'Sushi Kaiten',
    products: [
      ['Combo 20 peças', 8990, 200],
      ['Temaki Salmão', 3290, 400],
      ['Missoshiru', 1290, 400],
    ],
  },
  {
    name: 'Padaria Pão Quente',
    products: [
      ['Pão de Queijo (6)', 1500, 2000],
      ['Café Coado', 690, 5000],
      ['Bolo de Cenoura', 2500, 150],
    ],
  },
];

async function ensureUser(db: DataSource, email: string, name: string, role: Role): Promise<string> {
  const existing = await one<{ id: string }>(db, 'SELECT id FROM users WHERE lower(email) = lower($1)', [
    email,
  ]);
  if (existing) return existing.id;
  const created = await createUser(db, {
    email,
    name,
    role,
    passwordHash: await hashPassword(DEMO_PASSWORD),
  });
  return created!.id;
}

/**
 * Demo merchants, products, a demo customer and the admin account; running it again changes nothing, unless `restockTo`
 * is given: then every demo product has at least that many units (or its seeded stock, if more).
 */
export async function seedDemoData(
  db: DataSource,
  options: { restockTo?: number } = {},
): Promise<{ customerId: string; merchantIds: string[]; restocked: number }> {
  let restocked = 0;
  const customerId = await ensureUser(db, DEMO_CUSTOMER, 'Demo Customer', 'customer');
  const ownerId = await ensureUser(db, DEMO_MERCHANT, 'Demo Merchant', 'merchant');
  await ensureUser(db, DEMO_ADMIN, 'Demo Operator', 'admin');
  const merchantIds: string[] = [];
  for (const store of STORES) {
    const existing = await one<{ id: string }>(
      db,
      'SELECT id FROM merchants WHERE owner_id = $1 AND name = $2',
      [ownerId, store.name],
    );
    const merchantId = existing?.id ?? (await createMerchant(db, ownerId, store.name)).id;
    merchantIds.push(merchantId);
    for (const [name, priceCents, stock] of store.products) {
      const product = await one<{ id: string }>(
        db,
        'SELECT id FROM products WHERE merchant_id = $1 AND name = $2',
        [merchantId, name],
      );
      if (!product)
        await createProduct(db, merchantId, { name, description: '', priceCents, stock, active: true });
      else if (options.restockTo !== undefined) {
        const updated = await returning(
          db,
          'UPDATE products SET stock = $2, updated_at = now() WHERE id = $1 AND stock < $2 RETURNING id',
          [product.id, Math.max(stock, options.restockTo)],
        );
        restocked += updated.length;
      }
    }
  }
  return { customerId, merchantIds, restocked };
}
