/**
 * npm run bench:api — authenticated POST /v1/orders at 64 connections for 20 s against a real API
 * process, then the same database work driven straight through pg at the same concurrency, and the
 * ratio of the two. Prints numbers; asserts nothing.
 */
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { Pool } from 'pg';
import { priceOrder } from '../../lib/domain/pricing';
import { productsForPricing } from '../../lib/store/catalog';
import { insertOrder } from '../../lib/store/orders';
import type { Queryable } from '../../lib/store/db';
import { benchDatabase, buildDist, ensureStack, freePort, percentile, startRole, waitFor } from './support';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const POOL_SIZE = Number(process.env.BENCH_POOL_SIZE ?? 16);
const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

async function json(url: string, init: RequestInit & { body?: string }) {
  const res = await fetch(url, {
    ...init,
    headers: { 'content-type': 'application/json', ...(init.headers ?? {}) },
  });
  if (!res.ok) throw new Error(`${init.method} ${url}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<Record<string, string>>;
}

async function setUp(base: string) {
  const password = 'bench password 123';
  const merchantEmail = `bench-merchant-${randomUUID()}@bench.test`;
  const customerEmail = `bench-customer-${randomUUID()}@bench.test`;
  await json(`${base}/v1/auth/register`, {
    method: 'POST',
    body: JSON.stringify({ email: merchantEmail, password, name: 'M', role: 'merchant' }),
  });
  await json(`${base}/v1/auth/register`, {
    method: 'POST',
    body: JSON.stringify({ email: customerEmail, password, name: 'C' }),
  });
  const merchantToken = (
    await json(`${base}/v1/auth/login`, {
      method: 'POST',
      body: JSON.stringify({ email: merchantEmail, password }),
    })
  ).accessToken;
  const customer = await json(`${base}/v1/auth/login`, {
    method: 'POST',
    body: JSON.stringify({ email: customerEmail, password }),
  });
  const auth = { authorization: `Bearer ${merchantToken}` };
  const merchant = await json(`${base}/v1/merchants`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ name: 'Bench Store' }),
  });
  const products = [];
  for (let i = 0; i < 3; i++) {
    products.push(
      await json(`${base}/v1/merchants/${merchant.id}/products`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ name: `P${i}`, priceCents: 1000 + i, stock: 1_000_000 }),
      }),
    );
  }
  const me = await json(`${base}/v1/me`, {
    method: 'GET',
    headers: { authorization: `Bearer ${customer.accessToken}` },
  });
  const body = {
    merchantId: merchant.id!,
    items: products.map((p) => ({ productId: p.id!, quantity: 2 })),
    deliveryAddress: { street: 'Rua A', number: '1', city: 'BH', postalCode: '30000-000', country: 'BR' },
    payment: { method: 'card', token: 'tok_visa' },
  };
  return { token: customer.accessToken!, customerId: me.id!, body };
}

async function benchApi(base: string, token: string, body: object) {
  const result = await autocannon({
    url: `${base}/v1/orders`,
    method: 'POST',
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const non202 = result.non2xx + result.errors;
  return {
    rate: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    non202,
  };
}

/** The API's database work for one order (price lookup, then the one-statement insert) straight through pg. */
async function benchDatabaseLimit(
  url: string,
  customerId: string,
  body: { merchantId: string; items: { productId: string; quantity: number }[] },
) {
  const pool = new Pool({ connectionString: url, max: POOL_SIZE });
  const db: Queryable = {
    query: (sql: string, params?: unknown[]) => pool.query(sql, params).then((r) => r.rows),
  };
  const latencies: number[] = [];
  const deadline = Date.now() + SECONDS * 1000;
  const worker = async () => {
    while (Date.now() < deadline) {
      const started = performance.now();
      const priced = priceOrder(
        body.merchantId,
        body.items,
        await productsForPricing(
          db,
          body.items.map((i) => i.productId),
        ),
      );
      if (!priced.ok) throw new Error('pricing failed');
      await insertOrder(db, {
        id: randomUUID(),
        customerId,
        merchantId: body.merchantId,
        items: priced.items,
        totalCents: priced.totalCents,
        deliveryAddress: { street: 'Rua A', city: 'BH', postalCode: '30000-000', country: 'BR' },
        payment: { method: 'card', token: 'tok_visa' },
      });
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  await pool.end();
  latencies.sort((a, b) => a - b);
  return {
    rate: latencies.length / SECONDS,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    total: latencies.length,
  };
}

async function main() {
  ensureStack();
  buildDist();
  const url = await benchDatabase();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const api = startRole('api', {
    DATABASE_URL: url,
    PORT: String(port),
    JWT_SECRET: SECRET,
    DATABASE_POOL_SIZE: String(POOL_SIZE),
  });
  try {
    await waitFor(async () => (await fetch(`${base}/readyz`)).ok);
    const { token, customerId, body } = await setUp(base);
    console.log(
      `bench:api  ${CONNECTIONS} connections, ${SECONDS} s each, pool ${POOL_SIZE}, ${body.items.length} items per order`,
    );
    const viaApi = await benchApi(base, token, body);
    const direct = await benchDatabaseLimit(url, customerId, body);
    const ratio = viaApi.rate / direct.rate;
    console.log('');
    console.log('                      orders/s     p50 ms    p99 ms    orders');
    console.log(
      `  API (HTTP)          ${viaApi.rate.toFixed(0).padStart(8)}  ${viaApi.p50.toFixed(1).padStart(9)} ${viaApi.p99.toFixed(1).padStart(9)} ${String(viaApi.total).padStart(9)}`,
    );
    console.log(
      `  database via pg     ${direct.rate.toFixed(0).padStart(8)}  ${direct.p50.toFixed(1).padStart(9)} ${direct.p99.toFixed(1).padStart(9)} ${String(direct.total).padStart(9)}`,
    );
    console.log(`  ratio API/database  ${ratio.toFixed(2)}      non-202 responses: ${viaApi.non202}`);
  } finally {
    api.kill('SIGTERM');
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
