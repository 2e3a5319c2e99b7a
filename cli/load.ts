import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { isTerminal, type OrderStatus } from '../lib/domain/order-status';
import { percentile } from '../lib/telemetry/percentiles';

/** A load generator against a live platform: places orders at a rate, follows each to its end. */

export interface LoadOptions {
  url: string;
  email: string;
  password: string;
  orders: number;
  rate: number;
  concurrency: number;
  token: string;
  timeoutSeconds: number;
  /** The store to order from; by default the one best stocked for the run. */
  merchant?: string;
}

export interface LoadSummary {
  orders: number;
  accepted: number;
  refused: number;
  finished: Record<string, number>;
  unfinished: number;
  seconds: number;
  /** Accepted orders over the time it took to place them all. */
  acceptedPerSecond: number;
  /** COMPLETED orders over the time from the first order placed to the last one finished. */
  completedPerSecond: number;
  acceptLatencyMs: { p50: number; p95: number; p99: number };
  endToEndMs: { p50: number; p95: number; p99: number };
}

const percentiles = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: Math.round(percentile(sorted, 50) || 0),
    p95: Math.round(percentile(sorted, 95) || 0),
    p99: Math.round(percentile(sorted, 99) || 0),
  };
};

/**
 * Node's own HTTP client on kept-alive sockets: the load generator shares the machine with what it
 * measures, and this costs about half the CPU per request of `fetch`.
 */
const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

function call(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      target,
      {
        method: init.method ?? 'GET',
        agent: agents[target.protocol as keyof typeof agents],
        headers: { 'content-type': 'application/json', ...init.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          try {
            const text = Buffer.concat(chunks).toString();
            resolve({
              status: res.statusCode ?? 0,
              body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
            });
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

async function prepare(options: LoadOptions) {
  const login = await call(`${options.url}/v1/auth/login`, {
    method: 'POST',
    body: JSON.stringify({ email: options.email, password: options.password }),
  });
  if (login.status !== 200)
    throw new Error(
      `login as ${options.email} failed (${login.status}); run \`orderflow seed\` or pass --email/--password`,
    );
  const auth = { authorization: `Bearer ${String(login.body.accessToken)}` };
  const merchants = options.merchant
    ? [{ id: options.merchant }]
    : (((await call(`${options.url}/v1/merchants?limit=100`, { headers: auth })).body.items as {
        id: string;
      }[]) ?? []);
  // The store with the most products that could take every order alone, so stock never runs out mid-run.
  let best: { merchantId: string; productIds: string[] } | undefined;
  for (const merchant of merchants) {
    const products = await call(`${options.url}/v1/merchants/${merchant.id}/products?limit=100`, {
      headers: auth,
    });
    const usable = ((products.body.items as { id: string; active: boolean; stock: number }[]) ?? []).filter(
      (p) => p.active && p.stock >= options.orders,
    );
    if (usable.length > (best?.productIds.length ?? 0))
      best = { merchantId: merchant.id, productIds: usable.map((p) => p.id) };
  }
  if (!best)
    throw new Error(
      `no merchant has a product with ${options.orders} units in stock; run \`orderflow seed --restock ${options.orders}\``,
    );
  return { auth, ...best };
}

/** Where a load stands, for a caller that follows it (the progress line says the same in words). */
export interface LoadCounts {
  /** Orders due by now: order i is due i / rate seconds after the first. */
  due: number;
  accepted: number;
  refused: number;
  finished: Record<string, number>;
}

/** Told every 500 ms and at the end: the progress line, whether the load is over, and its counts. */
export type LoadProgress = (line: string, done: boolean, counts: LoadCounts) => void;

export async function runLoad(options: LoadOptions, onProgress: LoadProgress): Promise<LoadSummary> {
  const { auth, merchantId, productIds } = await prepare(options);
  const started = Date.now();
  const acceptMs: number[] = [];
  const endToEndMs: number[] = [];
  const pending = new Map<string, number>();
  const finished: Record<string, number> = {};
  let lastFinishedAt = started;
  let accepted = 0;
  let refused = 0;
  let issued = 0;

  /** Order number `i`, due at `due` (performance.now() time): its latency counts from when it was due. */
  const place = async (i: number, due: number) => {
    const t0 = Math.min(due, performance.now());
    const res = await call(`${options.url}/v1/orders`, {
      method: 'POST',
      headers: { ...auth, 'idempotency-key': randomUUID() },
      body: JSON.stringify({
        merchantId,
        items: [{ productId: productIds[i % productIds.length], quantity: 1 }],
        deliveryAddress: {
          street: 'Rua da Carga',
          number: String(i),
          city: 'Belo Horizonte',
          postalCode: '30110-000',
          country: 'BR',
        },
        payment: { method: 'card', token: options.token },
      }),
    }).catch(() => ({ status: 0, body: {} as Record<string, unknown> }));
    acceptMs.push(performance.now() - t0);
    if (res.status === 202) {
      accepted += 1;
      pending.set(String(res.body.id), Date.parse(String(res.body.createdAt)));
    } else refused += 1;
  };

  /**
   * Learns which orders ended from the customer's own order list, newest first, 100 a page, down to
   * the oldest order still pending: a few requests per poll however many orders are in flight,
   * instead of one per order.
   */
  const follow = async () => {
    if (pending.size === 0) return;
    const oldest = Math.min(...pending.values());
    let cursor: string | null = null;
    do {
      const page: { status: number; body: Record<string, unknown> } | undefined = await call(
        `${options.url}/v1/orders?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { headers: auth },
      ).catch(() => undefined);
      if (page?.status !== 200) return;
      const items = (page.body.items ?? []) as {
        id: string;
        status: OrderStatus;
        createdAt: string;
        finishedAt: string | null;
      }[];
      for (const order of items) {
        const createdAt = pending.get(order.id);
        if (createdAt === undefined || !isTerminal(order.status)) continue;
        const finishedAt = Date.parse(String(order.finishedAt));
        finished[order.status] = (finished[order.status] ?? 0) + 1;
        lastFinishedAt = Math.max(lastFinishedAt, finishedAt);
        endToEndMs.push(finishedAt - createdAt);
        pending.delete(order.id);
      }
      const last = items[items.length - 1];
      cursor = last && Date.parse(last.createdAt) >= oldest ? (page.body.nextCursor as string | null) : null;
    } while (cursor && pending.size > 0);
  };

  const line = () => {
    const done = Object.values(finished).reduce((a, b) => a + b, 0);
    const width = 24;
    const filled = Math.round((done / options.orders) * width);
    const e2e = percentiles(endToEndMs);
    const acc = percentiles(acceptMs);
    const statuses = Object.entries(finished)
      .map(([s, n]) => `${s.toLowerCase()} ${n}`)
      .join(' ');
    return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${options.orders} | accepted ${accepted} refused ${refused} | ${statuses || 'none finished'} | accept p50 ${acc.p50} ms p99 ${acc.p99} ms | end-to-end p50 ${e2e.p50} ms p99 ${e2e.p99} ms`;
  };

  const intervalMs = 1000 / options.rate;
  const startedAt = performance.now();
  const counts = (): LoadCounts => ({
    due: Math.min(options.orders, Math.floor((performance.now() - startedAt) / intervalMs) + 1),
    accepted,
    refused,
    finished: { ...finished },
  });
  const ticker = setInterval(() => onProgress(line(), false, counts()), 500);
  let placing = true;
  let deadline = Infinity;
  const following = (async () => {
    while (placing || (pending.size > 0 && Date.now() < deadline)) {
      await follow();
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  // Open loop: order i is due at i / rate seconds, whatever happened to the ones before. Each lane
  // claims its order's slot before it waits, so idle lanes never fire together in a burst, and a lane
  // that starts an order late (every lane was busy) counts the delay in its latency.
  const lanes = Array.from({ length: options.concurrency }, async () => {
    for (let i = issued++; i < options.orders; i = issued++) {
      const due = startedAt + i * intervalMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await place(i, due);
    }
  });
  await Promise.all(lanes);
  const placedSeconds = (Date.now() - started) / 1000;
  deadline = Date.now() + options.timeoutSeconds * 1000;
  placing = false;
  await following;
  clearInterval(ticker);
  onProgress(line(), true, counts());
  const seconds = (Date.now() - started) / 1000;
  return {
    orders: options.orders,
    accepted,
    refused,
    finished,
    unfinished: pending.size,
    seconds: Math.round(seconds * 10) / 10,
    acceptedPerSecond: Math.round((accepted / placedSeconds) * 10) / 10,
    completedPerSecond:
      Math.round((((finished.COMPLETED ?? 0) * 1000) / Math.max(1, lastFinishedAt - started)) * 10) / 10,
    acceptLatencyMs: percentiles(acceptMs),
    endToEndMs: percentiles(endToEndMs),
  };
}
