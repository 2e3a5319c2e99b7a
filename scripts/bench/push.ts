/**
 * npm run bench:push — the live status push (Server-Sent Events) of a real API process on a fresh
 * database: (a) latency from a transition's COMMIT returning in this process to its event arriving on
 * an open stream, over some hundreds of transitions written the way the workers write them, read by
 * a Node client and by a page in headless Chromium (the console's way: fetch with a streaming body);
 * (b) the
 * API's request throughput (GET /v1/orders/{id}) with no stream open and with 1,000 idle streams open,
 * and the API process's resident memory with them. Prints numbers; asserts nothing.
 */
import { readFileSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { get, type ClientRequest } from 'node:http';
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { Pool } from 'pg';
import { sleep } from '../../lib/backoff';
import type { OrderStatus } from '../../lib/domain/order-status';
import type { Queryable } from '../../lib/store/db';
import { applyTransition } from '../../lib/store/transitions';
import { chromiumPath } from '../../tests/console/support';
import { benchDatabase, buildDist, ensureStack, freePort, percentile, startRole, waitFor } from './support';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 100);
const STREAMS = Number(process.env.BENCH_STREAMS ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const HAPPY_PATH: OrderStatus[] = ['PENDING', 'VALIDATED', 'RESERVED', 'PAID', 'COMPLETED'];

async function json(url: string, init: { method: string; body?: object; token?: string }) {
  const res = await fetch(url, {
    method: init.method,
    headers: {
      'content-type': 'application/json',
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
    },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  if (!res.ok) throw new Error(`${init.method} ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, string>;
}

async function account(base: string, role: 'customer' | 'merchant') {
  const email = `bench-${role}-${randomUUID()}@bench.test`;
  const password = 'bench password 123';
  await json(`${base}/v1/auth/register`, { method: 'POST', body: { email, password, name: role, role } });
  return (await json(`${base}/v1/auth/login`, { method: 'POST', body: { email, password } })).accessToken!;
}

async function setUp(base: string) {
  const merchantToken = await account(base, 'merchant');
  const customerToken = await account(base, 'customer');
  const merchant = await json(`${base}/v1/merchants`, {
    method: 'POST',
    token: merchantToken,
    body: { name: 'Bench Store' },
  });
  const product = await json(`${base}/v1/merchants/${merchant.id}/products`, {
    method: 'POST',
    token: merchantToken,
    body: { name: 'P', priceCents: 1000, stock: 1_000_000 },
  });
  const order = {
    merchantId: merchant.id!,
    items: [{ productId: product.id!, quantity: 1 }],
    deliveryAddress: { street: 'Rua A', number: '1', city: 'BH', postalCode: '30000-000', country: 'BR' },
    payment: { method: 'card', token: 'tok_visa' },
  };
  const placeOrder = async () =>
    (await json(`${base}/v1/orders`, { method: 'POST', token: customerToken, body: order })).id!;
  return { merchantId: merchant.id!, merchantToken, customerToken, placeOrder };
}

/** An SSE stream read with node:http (one socket each, no pool); `onEvent` gets each event's data. */
function openStream(url: string, token: string, onEvent: (data: Record<string, string>) => void = () => {}) {
  return new Promise<ClientRequest>((resolve, reject) => {
    const req = get(url, { agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`stream ${url}: ${res.statusCode}`));
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const data = /^data: (.*)$/m.exec(buffer.slice(0, end))?.[1];
          buffer = buffer.slice(end + 2);
          if (data) onEvent(JSON.parse(data) as Record<string, string>);
        }
      });
      resolve(req);
    });
    req.on('error', reject);
  });
}

/** Now, in milliseconds since the epoch with sub-millisecond precision: comparable across processes. */
const now = () => performance.timeOrigin + performance.now();

/** Where the store's events are read: each arrival's time (`now()` there) by `orderId/status`. */
interface Reader {
  arrivals(): Promise<Map<string, number>>;
  close(): Promise<void>;
}

async function nodeReader(streamUrl: string, token: string): Promise<Reader> {
  const arrived = new Map<string, number>();
  const req = await openStream(streamUrl, token, (e) => arrived.set(`${e.orderId}/${e.status}`, now()));
  return { arrivals: async () => arrived, close: async () => void req.destroy() };
}

/**
 * The same stream read in a page of the API's own origin, as the console reads it (fetch with a
 * streaming body; an EventSource cannot send the bearer token). Arrival times stay in the page until
 * asked for, so no call back to this process delays what is measured.
 */
async function browserReader(
  browser: Browser,
  base: string,
  streamUrl: string,
  token: string,
): Promise<Reader> {
  const page = await browser.newPage();
  await page.goto(`${base}/`);
  await page.evaluate(
    async ({ streamUrl, token }) => {
      const arrived: Record<string, number> = {};
      (globalThis as unknown as { arrived: typeof arrived }).arrived = arrived;
      const res = await fetch(streamUrl, { headers: { authorization: `Bearer ${token}` } });
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      void (async () => {
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += value;
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            const data = /^data: (.*)$/m.exec(buffer.slice(0, end))?.[1];
            buffer = buffer.slice(end + 2);
            if (data) {
              const e = JSON.parse(data) as { orderId: string; status: string };
              arrived[`${e.orderId}/${e.status}`] = performance.timeOrigin + performance.now();
            }
          }
        }
      })();
    },
    { streamUrl, token },
  );
  return {
    arrivals: async () =>
      new Map(
        Object.entries(
          await page.evaluate(() => (globalThis as unknown as { arrived: Record<string, number> }).arrived),
        ),
      ),
    close: () => page.close(),
  };
}

/** (a) COMMIT returned here -> event arrived at the reader, for every transition of every order, one at a time. */
async function pushLatency(url: string, setup: Awaited<ReturnType<typeof setUp>>, reader: Reader) {
  const orderIds: string[] = [];
  for (let i = 0; i < ORDERS; i++) orderIds.push(await setup.placeOrder());
  const pool = new Pool({ connectionString: url, max: 1 });
  const committed = new Map<string, number>();
  for (const orderId of orderIds) {
    for (let i = 1; i < HAPPY_PATH.length; i++) {
      const client = await pool.connect();
      const tx: Queryable = { query: (sql, params) => client.query(sql, params).then((r) => r.rows) };
      await client.query('BEGIN');
      await applyTransition(tx, { orderId, from: [HAPPY_PATH[i - 1]!], to: HAPPY_PATH[i]!, source: 'bench' });
      await client.query('COMMIT');
      committed.set(`${orderId}/${HAPPY_PATH[i]}`, now());
      client.release();
      await sleep(5);
    }
  }
  let arrived = new Map<string, number>();
  await waitFor(async () => {
    arrived = await reader.arrivals();
    return [...committed.keys()].every((k) => arrived.has(k));
  }, 10_000).catch(() => undefined);
  await reader.close();
  await pool.end();
  const latencies = [...committed].flatMap(([key, at]) => (arrived.has(key) ? [arrived.get(key)! - at] : []));
  latencies.sort((a, b) => a - b);
  return { latencies, missing: committed.size - latencies.length };
}

async function throughput(base: string, token: string, orderId: string, seconds = SECONDS) {
  const result = await autocannon({
    url: `${base}/v1/orders/${orderId}`,
    connections: CONNECTIONS,
    duration: seconds,
    headers: { authorization: `Bearer ${token}` },
  });
  return {
    rate: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors,
  };
}

const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

async function main() {
  ensureStack();
  buildDist();
  const url = await benchDatabase('orderflow_bench_push', true);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const api = startRole('api', { DATABASE_URL: url, PORT: String(port), JWT_SECRET: SECRET });
  try {
    await waitFor(async () => (await fetch(`${base}/readyz`)).ok);
    const setup = await setUp(base);
    console.log(
      `bench:push  ${ORDERS} orders x ${HAPPY_PATH.length - 1} transitions; ${STREAMS} idle streams; GET /v1/orders/{id} at ${CONNECTIONS} connections for ${SECONDS} s`,
    );

    const storeStream = `${base}/v1/merchants/${setup.merchantId}/orders/events`;
    const latency = async (label: string, reader: Reader) => {
      const { latencies, missing } = await pushLatency(url, setup, reader);
      console.log(
        `  ${label.padEnd(26)} ${[50, 95, 99].map((p) => percentile(latencies, p).toFixed(2).padStart(8)).join(' ')} ${latencies.at(-1)!.toFixed(2).padStart(8)} ${String(latencies.length).padStart(7)} ${String(missing).padStart(8)}`,
      );
    };
    // Streams of orders still PENDING: each sends its first event, then stays idle.
    const idleOrders: string[] = [];
    for (let i = 0; i < 20; i++) idleOrders.push(await setup.placeOrder());
    let ended = 0;
    const openIdleStreams = async () => {
      const streams: ClientRequest[] = [];
      for (let i = 0; i < STREAMS; i += 50) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(50, STREAMS - i) }, (_, j) =>
            openStream(
              `${base}/v1/orders/${idleOrders[(i + j) % idleOrders.length]}/events`,
              setup.customerToken,
            ),
          ),
        );
        for (const req of batch) req.on('close', () => (ended += 1));
        streams.push(...batch);
      }
      await sleep(2000);
      return {
        close: async () => {
          const endedEarly = ended;
          for (const req of streams) req.destroy();
          await sleep(2000);
          ended = 0;
          return endedEarly;
        },
      };
    };

    console.log('');
    console.log('  push latency, COMMIT -> event at the client (ms)');
    console.log('                                  p50      p95      p99      max  events  missing');
    await latency('no other stream open', await nodeReader(storeStream, setup.merchantToken));
    let idle = await openIdleStreams();
    await latency(`${STREAMS} idle streams open`, await nodeReader(storeStream, setup.merchantToken));
    await idle.close();
    // Debian's chromium, as the console's browser tests use it (installed if missing).
    const browser = await chromium.launch({
      executablePath: chromiumPath(),
      headless: true,
      args: ['--no-sandbox'],
    });
    try {
      await latency(
        'to Chromium, no other',
        await browserReader(browser, base, storeStream, setup.merchantToken),
      );
    } finally {
      await browser.close();
    }

    // The two conditions alternate, twice, so that drift of a shared machine falls on both alike.
    const probe = await setup.placeOrder();
    await throughput(base, setup.customerToken, probe, 3); // warm-up
    const rates: [string, Awaited<ReturnType<typeof throughput>>, number][] = [];
    const rate = async (label: string) =>
      rates.push([label, await throughput(base, setup.customerToken, probe), rssMb(api.pid!)]);
    let rssBefore = NaN;
    let rssStreams = NaN;
    let endedEarly = 0;
    for (let round = 1; round <= 2; round++) {
      await rate('no stream open');
      // Memory is measured in the first round: later ones reuse what the first one's streams freed.
      if (round === 1) rssBefore = rssMb(api.pid!);
      idle = await openIdleStreams();
      if (round === 1) rssStreams = rssMb(api.pid!);
      await rate(`${STREAMS} idle streams open`);
      endedEarly += await idle.close();
    }

    console.log('');
    console.log(`  GET /v1/orders/{id}, ${CONNECTIONS} connections, ${SECONDS} s`);
    console.log('                                req/s   p50 ms   p99 ms   errors  API RSS MB after');
    for (const [label, r, rss] of rates) {
      console.log(
        `  ${label.padEnd(26)} ${r.rate.toFixed(0).padStart(7)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)} ${String(r.errors).padStart(8)} ${rss.toFixed(0).padStart(10)}`,
      );
    }
    const mean = (label: string) => {
      const of = rates.filter(([l]) => l === label).map(([, r]) => r.rate);
      return of.reduce((a, b) => a + b, 0) / of.length;
    };
    console.log(
      `  mean req/s: ${mean('no stream open').toFixed(0)} without streams, ${mean(`${STREAMS} idle streams open`).toFixed(0)} with ${STREAMS} open`,
    );
    console.log(
      `  API RSS ${rssBefore.toFixed(0)} MB before the streams, ${rssStreams.toFixed(0)} MB with ${STREAMS} open ` +
        `(${(((rssStreams - rssBefore) * 1024) / STREAMS).toFixed(1)} KB each); streams the server ended early: ${endedEarly}`,
    );
  } finally {
    api.kill('SIGTERM');
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
