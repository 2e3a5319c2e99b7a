import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Counter, Registry } from 'prom-client';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { createApp } from '../../api/app';
import { createHttpServer } from '../../api/http-server';
import { hashPassword } from '../../api/auth/passwords';
import { createTokenService } from '../../api/auth/tokens';
import { createDataSource, pingDatabase } from '../../lib/adapters/postgres/data-source';
import { createUser } from '../../lib/store/users';
import { testConfig, memoryLogger } from './services';

export const TEST_JWT_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

/** The real Koa app on the real test database, driven through HTTP with supertest. */
export async function startTestApi(overrides: Record<string, string> = {}) {
  const config = testConfig({ JWT_SECRET: TEST_JWT_SECRET, ...overrides });
  const db = createDataSource({ url: config.database.url, poolSize: 10, applicationName: 'jest-api' });
  await db.initialize();
  const registry = new Registry();
  const ordersCreated = new Counter({
    name: 'orderflow_orders_created_total',
    help: 'x',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const { app } = createApp(
    {
      config,
      db,
      logger: memoryLogger('silent').logger,
      tokens: createTokenService(config.jwt),
      metrics: { ordersCreated },
    },
    { registry, readiness: { database: () => pingDatabase(db) } },
  );
  const server = app.callback();
  const http = () => request(server);
  /** The same app on a loopback port the kernel picks, for a client outside this process. */
  const listen = async () => {
    const listener = createHttpServer(server);
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const { port } = listener.address() as AddressInfo;
    const stop = () => {
      listener.closeAllConnections();
      return new Promise<void>((resolve) => listener.close(() => resolve()));
    };
    return { url: `http://127.0.0.1:${port}`, stop };
  };
  /** An admin: no one can register as one, so the account is written to the database as the seed does. */
  const admin = async () => {
    const email = `admin-${randomUUID()}@example.test`;
    const password = 'correct horse battery staple';
    await createUser(db, {
      email,
      name: 'Test admin',
      role: 'admin',
      passwordHash: await hashPassword(password),
    });
    const login = await http().post('/v1/auth/login').send({ email, password });
    if (login.status !== 200) throw new Error(`admin login failed: ${login.status}`);
    return { email, password, token: login.body.accessToken as string };
  };
  return { config, db, http, listen, registry, admin, close: () => db.destroy(), ...actors(http) };
}

export type TestApi = Awaited<ReturnType<typeof startTestApi>>;

export const address = {
  street: 'Rua das Flores',
  number: '42',
  city: 'Belo Horizonte',
  postalCode: '30110-000',
  country: 'BR',
};

/** Accounts and stores created through any running API (`request(baseUrl)` for a deployed one). */
export function actors(http: () => request.Agent) {
  async function account(role: 'customer' | 'merchant') {
    const email = `${role}-${randomUUID()}@example.test`;
    const password = 'correct horse battery staple';
    const registered = await http()
      .post('/v1/auth/register')
      .send({ email, password, name: `Test ${role}`, role });
    if (registered.status !== 201)
      throw new Error(`register failed: ${registered.status} ${JSON.stringify(registered.body)}`);
    const login = await http().post('/v1/auth/login').send({ email, password });
    if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
    return { id: registered.body.id as string, email, password, token: login.body.accessToken as string };
  }

  /** A merchant with one store and `products` products (stock 100 unless given). */
  async function merchantWithProducts(products: { priceCents: number; stock?: number; active?: boolean }[]) {
    const owner = await account('merchant');
    const auth = { authorization: `Bearer ${owner.token}` };
    const merchant = await http()
      .post('/v1/merchants')
      .set(auth)
      .send({ name: `Store ${randomUUID().slice(0, 6)}` });
    const ids: string[] = [];
    for (const [i, p] of products.entries()) {
      const created = await http()
        .post(`/v1/merchants/${merchant.body.id}/products`)
        .set(auth)
        .send({
          name: `Product ${i}`,
          priceCents: p.priceCents,
          stock: p.stock ?? 100,
          active: p.active ?? true,
        });
      if (created.status !== 201) throw new Error(`product failed: ${JSON.stringify(created.body)}`);
      ids.push(created.body.id);
    }
    return { owner, merchantId: merchant.body.id as string, productIds: ids };
  }

  return { account, merchantWithProducts };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export function orderBody(
  merchantId: string,
  items: { productId: string; quantity: number }[],
  extra: Record<string, unknown> = {},
) {
  return {
    merchantId,
    items,
    deliveryAddress: address,
    payment: { method: 'card', token: 'tok_visa' },
    ...extra,
  };
}

export async function countRows(db: DataSource, sql: string, params: unknown[]): Promise<number> {
  const [row] = (await db.query(sql, params)) as { n: number }[];
  return Number(row?.n ?? 0);
}
