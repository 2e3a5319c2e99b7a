import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Registry } from 'prom-client';
import { createApp, type ApiApp } from '../../api/app';
import { createTokenService } from '../../api/auth/tokens';
import { startApi } from '../../api/server';
import type { OrderStatus } from '../../lib/domain/order-status';
import { applyTransition } from '../../lib/store/transitions';
import { TEST_JWT_SECRET, bearer, orderBody, startTestApi, type TestApi } from '../support/api';
import { freePort, memoryLogger, testConfig } from '../support/services';

/**
 * Server-Sent Events of order status (GET /v1/orders/{id}/events, GET /v1/merchants/{id}/orders/events)
 * on a real port, fed by the real database: transitions are written with the store functions the
 * workers use, and the tests read the streams as a browser's EventSource would.
 */

/**
 * Short enough that a test waiting for a rolled-back id to be given up takes a second, long enough
 * that a held transaction committed right after a later one is still waited for on a busy machine.
 */
const GAP_TIMEOUT_MS = 1000;

let api: TestApi;
let events: { base: string; app: ApiApp; stop: () => Promise<void> };

beforeAll(async () => {
  api = await startTestApi();
  const app = createApp(
    {
      config: api.config,
      db: api.db,
      logger: memoryLogger('silent').logger,
      tokens: createTokenService(api.config.jwt),
      metrics: {
        ordersCreated: new Counter({
          name: 'orders_created',
          help: 'x',
          labelNames: ['outcome'],
          registers: [],
        }),
      },
    },
    { registry: new Registry(), readiness: {}, events: { heartbeatMs: 200, gapTimeoutMs: GAP_TIMEOUT_MS } },
  );
  const server = createServer(app.app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  events = {
    base: `http://127.0.0.1:${port}`,
    app,
    stop: () => {
      app.closeStreams();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
});
afterAll(async () => {
  await events?.stop();
  await api?.close();
});

interface StatusEvent {
  id: number;
  event: string;
  data: Record<string, unknown> & { status: OrderStatus; orderId: string };
}

/** A minimal EventSource: fetch with a streaming body, parsed into events and comments. */
async function openStream(path: string, headers: Record<string, string> = {}, base = events.base) {
  const controller = new AbortController();
  const res = await fetch(base + path, { headers, signal: controller.signal });
  const queue: (StatusEvent | 'end')[] = [];
  const comments: string[] = [];
  let retry: number | undefined;
  let wake = () => undefined as void;
  if (res.ok) {
    void (async () => {
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            const fields: Record<string, string> = {};
            for (const line of buffer.slice(0, end).split('\n')) {
              if (line.startsWith(':')) comments.push(line.slice(1).trim());
              else fields[line.slice(0, line.indexOf(':'))] = line.slice(line.indexOf(':') + 1).trimStart();
            }
            buffer = buffer.slice(end + 2);
            if (fields.retry) retry = Number(fields.retry);
            if (fields.data !== undefined) {
              queue.push({ id: Number(fields.id), event: fields.event!, data: JSON.parse(fields.data) });
            }
            wake();
          }
        }
      } catch {
        // aborted by the test
      }
      queue.push('end');
      wake();
    })();
  }
  /** The next event, or 'end' when the server ended the stream. */
  const next = async (): Promise<StatusEvent | 'end'> => {
    while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    return queue[0] === 'end' ? 'end' : queue.shift()!;
  };
  const take = async (n: number) => {
    const out: StatusEvent[] = [];
    while (out.length < n) {
      const event = await next();
      if (event === 'end') throw new Error(`stream ended after ${out.length} of ${n} events`);
      out.push(event);
    }
    return out;
  };
  return {
    res,
    next,
    take,
    comments,
    retry: () => retry,
    close: () => controller.abort(),
    problem: async () => (res.ok ? undefined : ((await res.json()) as { status: number; type: string })),
  };
}

async function placeOrder(customerToken: string, merchantId: string, productId: string) {
  const res = await api
    .http()
    .post('/v1/orders')
    .set(bearer(customerToken))
    .send(orderBody(merchantId, [{ productId, quantity: 1 }]));
  if (res.status !== 202) throw new Error(`order failed: ${res.status}`);
  return res.body as { id: string; totalCents: number };
}

/** One guarded transition in its own transaction, as a worker writes it. */
const move = (orderId: string, from: OrderStatus, to: OrderStatus, reason?: string) =>
  api.db.transaction((tx) => applyTransition(tx, { orderId, from: [from], to, reason, source: 'test' }));

async function shopWithOrder() {
  const shop = await api.merchantWithProducts([{ priceCents: 1500 }]);
  const customer = await api.account('customer');
  const order = await placeOrder(customer.token, shop.merchantId, shop.productIds[0]!);
  return { shop, customer, order };
}

const statuses = (list: StatusEvent[]) => list.map((e) => e.data.status);

describe('GET /v1/orders/{id}/events', () => {
  it('starts with PENDING, follows each transition in order, and ends after the terminal status', async () => {
    const { customer, order } = await shopWithOrder();
    const stream = await openStream(`/v1/orders/${order.id}/events`, bearer(customer.token));
    expect(stream.res.status).toBe(200);
    expect(stream.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.res.headers.get('cache-control')).toBe('no-store');
    expect(stream.res.headers.get('x-accel-buffering')).toBe('no');

    const [pending] = await stream.take(1);
    expect(pending).toMatchObject({
      event: 'status',
      data: { orderId: order.id, status: 'PENDING', fromStatus: null, reason: null },
    });
    expect(new Date(pending!.data.at as string).toISOString()).toBe(pending!.data.at);
    expect(stream.retry()).toBe(2000);

    await move(order.id, 'PENDING', 'VALIDATED');
    await move(order.id, 'VALIDATED', 'RESERVED');
    await move(order.id, 'RESERVED', 'PAID');
    await move(order.id, 'PAID', 'COMPLETED');
    const rest = await stream.take(4);
    expect(statuses(rest)).toEqual(['VALIDATED', 'RESERVED', 'PAID', 'COMPLETED']);
    expect(rest.map((e) => e.data.fromStatus)).toEqual(['PENDING', 'VALIDATED', 'RESERVED', 'PAID']);
    const ids = [pending!, ...rest].map((e) => e.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(await stream.next()).toBe('end');
  });

  it('opened on an order that has moved on, sends its whole history at once, with the reason of a failure', async () => {
    const { shop, order } = await shopWithOrder();
    await move(order.id, 'PENDING', 'REJECTED', 'out of stock');
    const stream = await openStream(`/v1/orders/${order.id}/events`, bearer(shop.owner.token));
    const all = await stream.take(2);
    expect(statuses(all)).toEqual(['PENDING', 'REJECTED']);
    expect(all[1]!.data.reason).toBe('out of stock');
    expect(await stream.next()).toBe('end');
  });

  it('resumes after Last-Event-ID with nothing lost and nothing repeated', async () => {
    const { customer, order } = await shopWithOrder();
    const path = `/v1/orders/${order.id}/events`;
    const first = await openStream(path, bearer(customer.token));
    await first.take(1);
    await move(order.id, 'PENDING', 'VALIDATED');
    const [validated] = await first.take(1);
    first.close();

    // Changes while the client is away arrive when it comes back, after the last one it had.
    await move(order.id, 'VALIDATED', 'RESERVED');
    const second = await openStream(path, {
      ...bearer(customer.token),
      'last-event-id': String(validated!.id),
    });
    const [reserved] = await second.take(1);
    expect(reserved!.data).toMatchObject({ status: 'RESERVED', fromStatus: 'VALIDATED' });
    await move(order.id, 'RESERVED', 'CANCELLED', 'cancelled by the customer');
    expect(statuses(await second.take(1))).toEqual(['CANCELLED']);
    expect(await second.next()).toBe('end');

    // A client that already has the terminal event gets nothing more: the stream ends at once.
    const [, , , cancelled] = await (await openStream(path, bearer(customer.token))).take(4);
    const done = await openStream(path, {
      ...bearer(customer.token),
      'last-event-id': String(cancelled!.id),
    });
    expect(done.res.status).toBe(200);
    expect(await done.next()).toBe('end');
  });

  it('is 404 for another customer and another merchant, 401 without a token, 400 for a malformed Last-Event-ID', async () => {
    const { customer, order } = await shopWithOrder();
    const stranger = await api.account('customer');
    const otherShop = await api.merchantWithProducts([{ priceCents: 100 }]);
    const path = `/v1/orders/${order.id}/events`;
    for (const token of [stranger.token, otherShop.owner.token]) {
      const refused = await openStream(path, bearer(token));
      expect(refused.res.status).toBe(404);
      expect(refused.res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    expect((await openStream(path)).res.status).toBe(401);
    const malformed = await openStream(path, { ...bearer(customer.token), 'last-event-id': 'abc' });
    expect(malformed.res.status).toBe(400);
  });

  it('sends a heartbeat comment while nothing happens', async () => {
    const { customer, order } = await shopWithOrder();
    const stream = await openStream(`/v1/orders/${order.id}/events`, bearer(customer.token));
    await stream.take(1);
    while (!stream.comments.includes('heartbeat')) await new Promise((r) => setTimeout(r, 50));
    stream.close();
  });
});

describe('GET /v1/merchants/{id}/orders/events', () => {
  it("streams the store's new orders and their changes live, and resumes after Last-Event-ID", async () => {
    const shop = await api.merchantWithProducts([{ priceCents: 2500 }]);
    const customer = await api.account('customer');
    const path = `/v1/merchants/${shop.merchantId}/orders/events`;
    const stream = await openStream(path, bearer(shop.owner.token));
    expect(stream.res.status).toBe(200);

    const order = await placeOrder(customer.token, shop.merchantId, shop.productIds[0]!);
    const [created] = await stream.take(1);
    expect(created!.data).toEqual({
      orderId: order.id,
      status: 'PENDING',
      fromStatus: null,
      reason: null,
      at: expect.any(String),
      customerId: customer.id,
      totalCents: 2500,
    });
    await move(order.id, 'PENDING', 'VALIDATED');
    await move(order.id, 'VALIDATED', 'RESERVED');
    expect(statuses(await stream.take(2))).toEqual(['VALIDATED', 'RESERVED']);
    stream.close();

    const resumed = await openStream(path, {
      ...bearer(shop.owner.token),
      'last-event-id': String(created!.id),
    });
    expect(statuses(await resumed.take(2))).toEqual(['VALIDATED', 'RESERVED']);
    await move(order.id, 'RESERVED', 'PAID');
    await move(order.id, 'PAID', 'COMPLETED');
    // It never ends by itself: the next order of the store comes on the same stream.
    const second = await placeOrder(customer.token, shop.merchantId, shop.productIds[0]!);
    const next = await resumed.take(3);
    expect(statuses(next)).toEqual(['PAID', 'COMPLETED', 'PENDING']);
    expect(next[2]!.data.orderId).toBe(second.id);
    resumed.close();
  });

  it('is 403 for another merchant and for a customer, 404 for a store that does not exist', async () => {
    const shop = await api.merchantWithProducts([{ priceCents: 100 }]);
    const other = await api.merchantWithProducts([{ priceCents: 100 }]);
    const customer = await api.account('customer');
    const path = `/v1/merchants/${shop.merchantId}/orders/events`;
    expect((await openStream(path, bearer(other.owner.token))).res.status).toBe(403);
    expect((await openStream(path, bearer(customer.token))).res.status).toBe(403);
    expect((await openStream(path)).res.status).toBe(401);
    const missing = await openStream(
      '/v1/merchants/00000000-0000-4000-8000-000000000000/orders/events',
      bearer(shop.owner.token),
    );
    expect(missing.res.status).toBe(404);
  });
});

describe('ordering across transactions', () => {
  /** Store with two orders, a stream of it open, and a transaction holding a transition of the first. */
  async function heldTransition() {
    const shop = await api.merchantWithProducts([{ priceCents: 100 }]);
    const customer = await api.account('customer');
    const held = await placeOrder(customer.token, shop.merchantId, shop.productIds[0]!);
    const other = await placeOrder(customer.token, shop.merchantId, shop.productIds[0]!);
    const stream = await openStream(
      `/v1/merchants/${shop.merchantId}/orders/events`,
      bearer(shop.owner.token),
    );
    const tx = api.db.createQueryRunner();
    await tx.startTransaction();
    // Takes a history id now and commits (or not) later.
    await applyTransition(tx.manager, {
      orderId: held.id,
      from: ['PENDING'],
      to: 'VALIDATED',
      source: 'test',
    });
    await move(other.id, 'PENDING', 'VALIDATED');
    return { held, other, stream, tx };
  }

  it('delivers in id order even when a lower id commits after a higher one', async () => {
    const { held, other, stream, tx } = await heldTransition();
    await tx.commitTransaction();
    await tx.release();
    const got = await stream.take(2);
    expect(got.map((e) => e.data.orderId)).toEqual([held.id, other.id]);
    expect(got[0]!.id).toBeLessThan(got[1]!.id);
    stream.close();
  });

  it("does not stall behind a rolled-back transaction's id: later events come after the give-up delay", async () => {
    const { held, other, stream, tx } = await heldTransition();
    await tx.rollbackTransaction();
    await tx.release();
    const [event] = await stream.take(1);
    expect(event!.data).toMatchObject({ orderId: other.id, status: 'VALIDATED' });
    // The rolled-back change never happened; the held order's next real change still arrives.
    await move(held.id, 'PENDING', 'REJECTED', 'invalid');
    expect((await stream.take(1))[0]!.data).toMatchObject({ orderId: held.id, status: 'REJECTED' });
    stream.close();
  });
});

/** A real API process's role (its own pool and LISTEN connection, its shutdown steps) on a port of its own. */
async function apiProcess(port: number) {
  const config = testConfig({ JWT_SECRET: TEST_JWT_SECRET, PORT: String(port) });
  const role = await startApi({ config, logger: memoryLogger('silent').logger, registry: new Registry() });
  const stop = async () => {
    for (const step of role.shutdown) await step.run();
  };
  return { base: `http://127.0.0.1:${port}`, stop };
}

describe('shutdown', () => {
  it('ends open streams on SIGTERM so the API stops without waiting for them', async () => {
    const { base, stop } = await apiProcess(await freePort());
    const { shop, customer, order } = await shopWithOrder();
    const orderStream = await openStream(`/v1/orders/${order.id}/events`, bearer(customer.token), base);
    const storeStream = await openStream(
      `/v1/merchants/${shop.merchantId}/orders/events`,
      bearer(shop.owner.token),
      base,
    );
    await orderStream.take(1);
    expect(storeStream.res.status).toBe(200);

    await stop();
    expect(await orderStream.next()).toBe('end');
    expect(await storeStream.next()).toBe('end');
  });
});

describe('several API processes, and one restarted', () => {
  it('every replica streams each change with the same id, and a client that moves to another replica or to the restarted one resumes exactly', async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const a = await apiProcess(portA);
    const b = await apiProcess(portB);
    let restarted: Awaited<ReturnType<typeof apiProcess>> | undefined;
    try {
      const { customer, order } = await shopWithOrder();
      const path = `/v1/orders/${order.id}/events`;
      const onA = await openStream(path, bearer(customer.token), a.base);
      const onB = await openStream(path, bearer(customer.token), b.base);
      expect(await onA.take(1)).toEqual(await onB.take(1));
      await move(order.id, 'PENDING', 'VALIDATED');
      const [validated] = await onA.take(1);
      expect(await onB.take(1)).toEqual([validated]);

      // A goes away (its pod deleted): its stream ends, and a change commits while the client is away.
      await a.stop();
      expect(await onA.next()).toBe('end');
      await move(order.id, 'VALIDATED', 'RESERVED');
      const lastSeen = { ...bearer(customer.token), 'last-event-id': String(validated!.id) };
      const movedToB = await openStream(path, lastSeen, b.base);
      expect(statuses(await movedToB.take(1))).toEqual(['RESERVED']);

      // A comes back on its port with nothing in memory: the same resume gives the same events.
      restarted = await apiProcess(portA);
      const onRestarted = await openStream(path, lastSeen, restarted.base);
      const [reserved] = await onRestarted.take(1);
      await move(order.id, 'RESERVED', 'PAID');
      await move(order.id, 'PAID', 'COMPLETED');
      const rest = [reserved!, ...(await onRestarted.take(2))];
      expect(statuses(rest)).toEqual(['RESERVED', 'PAID', 'COMPLETED']);
      expect(await onRestarted.next()).toBe('end');
      // Every client sees the same ids for the same changes, wherever it reads them.
      expect(await movedToB.take(2)).toEqual(rest.slice(1));
      expect(await movedToB.next()).toBe('end');
      expect(await onB.take(3)).toEqual(rest);
      expect(await onB.next()).toBe('end');
    } finally {
      await restarted?.stop();
      await b.stop();
    }
  });
});
