import type request from 'supertest';
import { bearer, countRows, orderBody, startTestApi, type TestApi } from '../support/api';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

describe('placing an order', () => {
  it('answers 202 with Location, prices from the catalog, and writes items, history and outbox event', async () => {
    const { merchantId, productIds } = await api.merchantWithProducts([
      { priceCents: 1250 },
      { priceCents: 399 },
    ]);
    const customer = await api.account('customer');
    const res = await api
      .http()
      .post('/v1/orders')
      .set(bearer(customer.token))
      .send(
        orderBody(merchantId, [
          { productId: productIds[0]!, quantity: 2 },
          { productId: productIds[1]!, quantity: 3 },
        ]),
      );
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(`/v1/orders/${res.body.id}`);
    expect(res.body).toMatchObject({
      status: 'PENDING',
      totalCents: 2 * 1250 + 3 * 399,
      customerId: customer.id,
      merchantId,
    });
    expect(res.body.payment).toEqual({ method: 'card' }); // the token is never echoed

    const [order] = await api.db.query('SELECT status, total_cents::int AS total FROM orders WHERE id = $1', [
      res.body.id,
    ]);
    expect(order).toEqual({ status: 'PENDING', total: 3697 });
    const outbox = await api.db.query('SELECT event_type, payload FROM outbox WHERE aggregate_id = $1', [
      res.body.id,
    ]);
    expect(outbox).toHaveLength(1);
    expect(outbox[0].event_type).toBe('orderflow.order.created');
    expect(outbox[0].payload).toMatchObject({
      specversion: '1.0',
      type: 'orderflow.order.created',
      subject: res.body.id,
      data: { orderId: res.body.id, totalCents: 3697 },
    });
    const history = await api.http().get(`${res.headers.location}/history`).set(bearer(customer.token));
    expect(history.body.entries).toEqual([
      expect.objectContaining({ fromStatus: null, toStatus: 'PENDING' }),
    ]);
    const fetched = await api.http().get(res.headers.location!).set(bearer(customer.token));
    expect(fetched.status).toBe(200);
    expect(fetched.body.items).toHaveLength(2);
  });

  it('never trusts a client-supplied status or total', async () => {
    const { merchantId, productIds } = await api.merchantWithProducts([{ priceCents: 5000 }]);
    const customer = await api.account('customer');
    const items = [{ productId: productIds[0]!, quantity: 1 }];
    for (const extra of [{ status: 'COMPLETED' }, { totalCents: 1 }]) {
      const res = await api
        .http()
        .post('/v1/orders')
        .set(bearer(customer.token))
        .send(orderBody(merchantId, items, extra));
      expect(res.status).toBe(400);
      expect(res.body.errors[0].message).toMatch(/unknown field/);
    }
    const priced = await api
      .http()
      .post('/v1/orders')
      .set(bearer(customer.token))
      .send(orderBody(merchantId, [{ ...items[0]!, unitPriceCents: 1 } as (typeof items)[number]]));
    expect(priced.status).toBe(400);
    expect(
      await countRows(api.db, 'SELECT count(*)::int AS n FROM orders WHERE customer_id = $1', [customer.id]),
    ).toBe(0);
  });

  it.each([
    ['no items', (_p: string[]) => [], 'items'],
    [
      '51 items',
      (p: string[]) => Array.from({ length: 51 }, () => ({ productId: p[0]!, quantity: 1 })),
      'items',
    ],
    ['quantity 0', (p: string[]) => [{ productId: p[0]!, quantity: 0 }], 'items.0.quantity'],
    ['quantity 101', (p: string[]) => [{ productId: p[0]!, quantity: 101 }], 'items.0.quantity'],
    ['fractional quantity', (p: string[]) => [{ productId: p[0]!, quantity: 1.5 }], 'items.0.quantity'],
    ['product id not a uuid', (_p: string[]) => [{ productId: 'abc', quantity: 1 }], 'items.0.productId'],
  ])('rejects %s with 400 naming the field', async (_name, items, field) => {
    const { merchantId, productIds } = await api.merchantWithProducts([{ priceCents: 100 }]);
    const customer = await api.account('customer');
    const res = await api
      .http()
      .post('/v1/orders')
      .set(bearer(customer.token))
      .send(orderBody(merchantId, items(productIds)));
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('rejects products of another merchant, inactive products and duplicates with 422', async () => {
    const mine = await api.merchantWithProducts([{ priceCents: 100 }, { priceCents: 100, active: false }]);
    const theirs = await api.merchantWithProducts([{ priceCents: 100 }]);
    const customer = await api.account('customer');
    const cases = [
      [{ productId: theirs.productIds[0]!, quantity: 1 }],
      [{ productId: mine.productIds[1]!, quantity: 1 }],
      [
        { productId: mine.productIds[0]!, quantity: 1 },
        { productId: mine.productIds[0]!, quantity: 2 },
      ],
    ];
    for (const items of cases) {
      const res = await api
        .http()
        .post('/v1/orders')
        .set(bearer(customer.token))
        .send(orderBody(mine.merchantId, items));
      expect(res.status).toBe(422);
      expect(res.body.errors[0].field).toMatch(/^items\.\d\.productId$/);
    }
  });

  it.each(['street', 'city', 'notes'])(
    'rejects NUL in deliveryAddress.%s with 400 naming it, before pricing or storing anything',
    async (field) => {
      const { merchantId, productIds } = await api.merchantWithProducts([{ priceCents: 100 }]);
      const customer = await api.account('customer');
      const body = orderBody(merchantId, [{ productId: productIds[0]!, quantity: 1 }]);
      const res = await api
        .http()
        .post('/v1/orders')
        .set(bearer(customer.token))
        .send({ ...body, deliveryAddress: { ...body.deliveryAddress, [field]: 'Rua\u0000' } });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([
        { field: `deliveryAddress.${field}`, message: expect.stringContaining('NUL') },
      ]);
      expect(
        await countRows(api.db, 'SELECT count(*)::int AS n FROM orders WHERE customer_id = $1', [
          customer.id,
        ]),
      ).toBe(0);
    },
  );

  it('is for customers only', async () => {
    const { owner, merchantId, productIds } = await api.merchantWithProducts([{ priceCents: 100 }]);
    const res = await api
      .http()
      .post('/v1/orders')
      .set(bearer(owner.token))
      .send(orderBody(merchantId, [{ productId: productIds[0]!, quantity: 1 }]));
    expect(res.status).toBe(403);
  });

  it('commits the order and its outbox event together or not at all', async () => {
    const { merchantId, productIds } = await api.merchantWithProducts([{ priceCents: 100 }]);
    const customer = await api.account('customer');
    // Make the outbox refuse this merchant's events only, so other tests are unaffected.
    await api.db.query(`
      CREATE OR REPLACE FUNCTION test_fail_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'outbox unavailable'; END $$;
      CREATE TRIGGER test_fail_outbox BEFORE INSERT ON outbox FOR EACH ROW
        WHEN (NEW.payload->'data'->>'merchantId' = '${merchantId}') EXECUTE FUNCTION test_fail_outbox();`);
    try {
      const res = await api
        .http()
        .post('/v1/orders')
        .set(bearer(customer.token))
        .send(orderBody(merchantId, [{ productId: productIds[0]!, quantity: 1 }]));
      expect(res.status).toBe(500);
      expect(res.type).toBe('application/problem+json');
      expect(JSON.stringify(res.body)).not.toMatch(/outbox unavailable|INSERT|at .*\.ts/);
    } finally {
      await api.db.query('DROP TRIGGER test_fail_outbox ON outbox; DROP FUNCTION test_fail_outbox();');
    }
    expect(
      await countRows(api.db, 'SELECT count(*)::int AS n FROM orders WHERE merchant_id = $1', [merchantId]),
    ).toBe(0);
    // And with the outbox back, the same request succeeds.
    const ok = await api
      .http()
      .post('/v1/orders')
      .set(bearer(customer.token))
      .send(orderBody(merchantId, [{ productId: productIds[0]!, quantity: 1 }]));
    expect(ok.status).toBe(202);
  });
});

describe('reading orders', () => {
  it('shows an order to its customer and its merchant, and 404 to anyone else', async () => {
    const { owner, merchantId, productIds } = await api.merchantWithProducts([{ priceCents: 100 }]);
    const customerA = await api.account('customer');
    const customerB = await api.account('customer');
    const otherMerchant = await api.account('merchant');
    const placed = await api
      .http()
      .post('/v1/orders')
      .set(bearer(customerA.token))
      .send(orderBody(merchantId, [{ productId: productIds[0]!, quantity: 1 }]));
    const url = `/v1/orders/${placed.body.id}`;
    expect((await api.http().get(url).set(bearer(customerA.token))).status).toBe(200);
    expect((await api.http().get(url).set(bearer(owner.token))).status).toBe(200);
    for (const stranger of [customerB, otherMerchant]) {
      expect((await api.http().get(url).set(bearer(stranger.token))).status).toBe(404);
      expect((await api.http().get(`${url}/history`).set(bearer(stranger.token))).status).toBe(404);
    }
    const merchantList = await api.http().get(`/v1/merchants/${merchantId}/orders`).set(bearer(owner.token));
    expect(merchantList.body.items.map((o: { id: string }) => o.id)).toEqual([placed.body.id]);
    const missing = await api
      .http()
      .get('/v1/orders/00000000-0000-4000-8000-000000000000')
      .set(bearer(customerA.token));
    expect(missing.status).toBe(404);
  });

  it("pages a customer's orders newest first without repeats or gaps while orders are being inserted", async () => {
    const { merchantId, productIds } = await api.merchantWithProducts([{ priceCents: 100 }]);
    const customer = await api.account('customer');
    const place = () =>
      api
        .http()
        .post('/v1/orders')
        .set(bearer(customer.token))
        .send(orderBody(merchantId, [{ productId: productIds[0]!, quantity: 1 }]));
    const existing: string[] = [];
    for (let i = 0; i < 25; i++) existing.push((await place()).body.id);

    const seen: string[] = [];
    const createdAt: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const [res]: [request.Response, unknown] = await Promise.all([
        api
          .http()
          .get(`/v1/orders?limit=4${cursor ? `&cursor=${cursor}` : ''}`)
          .set(bearer(customer.token)),
        place(), // a new order lands while we page
      ]);
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((o: { id: string }) => o.id));
      createdAt.push(...res.body.items.map((o: { createdAt: string }) => o.createdAt));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 50);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(existing));
    expect([...createdAt].sort().reverse()).toEqual(createdAt);
  });

  it('caps the page size at 100 and rejects a forged cursor', async () => {
    const customer = await api.account('customer');
    const { merchantId } = await api.merchantWithProducts([]);
    await api.db.query(
      `INSERT INTO orders (id, customer_id, merchant_id, status, total_cents, delivery_address, payment_method)
       SELECT gen_random_uuid(), $1, $2, 'PENDING', 0, '{}', 'card' FROM generate_series(1, 105)`,
      [customer.id, merchantId],
    );
    const big = await api.http().get('/v1/orders?limit=1000').set(bearer(customer.token));
    expect(big.status).toBe(200);
    expect(big.body.items).toHaveLength(100);
    expect(big.body.nextCursor).not.toBeNull();
    const forged = await api.http().get('/v1/orders?cursor=bm90LWEtY3Vyc29y').set(bearer(customer.token));
    expect(forged.status).toBe(400);
    expect(forged.body.errors[0].field).toBe('cursor');
    const injected = Buffer.from(JSON.stringify(["2020-01-01' OR 1=1 --", 'x'])).toString('base64url');
    expect((await api.http().get(`/v1/orders?cursor=${injected}`).set(bearer(customer.token))).status).toBe(
      400,
    );
    // The old format let an impossible timestamp through to PostgreSQL: 500.
    const impossible = Buffer.from(
      JSON.stringify(['2026-13-45 99:99:99+00', '6d86b618-4824-4b7c-ba9f-8a2fafa67bbf']),
    ).toString('base64url');
    expect((await api.http().get(`/v1/orders?cursor=${impossible}`).set(bearer(customer.token))).status).toBe(
      400,
    );
  });

  it('pages from any cursor of the documented shape, which is a position and not a row', async () => {
    const customer = await api.account('customer');
    const { merchantId, productIds } = await api.merchantWithProducts([{ priceCents: 100 }]);
    await api
      .http()
      .post('/v1/orders')
      .set(bearer(customer.token))
      .send(orderBody(merchantId, [{ productId: productIds[0]!, quantity: 1 }]));
    const list = (cursor: string) =>
      api.http().get(`/v1/orders?cursor=${cursor}`).set(bearer(customer.token));
    // Newest first: everything is before the year 2286, nothing before 1970.
    const future = await list('9999999999999999.ffffffff-ffff-ffff-ffff-ffffffffffff');
    expect(future.status).toBe(200);
    expect(future.body.items).toHaveLength(1);
    const past = await list('0.00000000-0000-0000-0000-000000000000');
    expect(past.status).toBe(200);
    expect(past.body.items).toEqual([]);
    const document = (await api.http().get('/openapi.json')).body;
    const cursor = document.paths['/v1/orders'].get.parameters.find(
      (p: { name: string }) => p.name === 'cursor',
    );
    expect(
      new RegExp(cursor.schema.pattern).test('9999999999999999.ffffffff-ffff-ffff-ffff-ffffffffffff'),
    ).toBe(true);
  });
});

describe('cancelling', () => {
  async function placed() {
    const shop = await api.merchantWithProducts([{ priceCents: 700, stock: 10 }]);
    const customer = await api.account('customer');
    const res = await api
      .http()
      .post('/v1/orders')
      .set(bearer(customer.token))
      .send(orderBody(shop.merchantId, [{ productId: shop.productIds[0]!, quantity: 4 }]));
    return { ...shop, customer, orderId: res.body.id as string };
  }

  it('cancels a pending order, records it, and is idempotent', async () => {
    const { customer, orderId } = await placed();
    const res = await api.http().post(`/v1/orders/${orderId}/cancel`).set(bearer(customer.token));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'CANCELLED', failureReason: 'cancelled by the customer' });
    expect(res.body.finishedAt).not.toBeNull();
    const again = await api.http().post(`/v1/orders/${orderId}/cancel`).set(bearer(customer.token));
    expect(again.status).toBe(200);
    const history = await api.http().get(`/v1/orders/${orderId}/history`).set(bearer(customer.token));
    expect(history.body.entries.map((e: { toStatus: string }) => e.toStatus)).toEqual([
      'PENDING',
      'CANCELLED',
    ]);
    const events = await api.db.query(
      `SELECT payload FROM outbox WHERE aggregate_id = $1 AND event_type = 'orderflow.order.status_changed'`,
      [orderId],
    );
    expect(events).toHaveLength(1);
    expect(events[0].payload.data).toMatchObject({ from: 'PENDING', to: 'CANCELLED' });
  });

  it('releases reserved stock exactly once when a reserved order is cancelled', async () => {
    const { customer, orderId, productIds } = await placed();
    // Stand in for the reserve stage: 4 units taken from stock 10.
    await api.db.query(
      `
      WITH m AS (INSERT INTO stock_movements (order_id, product_id, kind, quantity) VALUES ($1, $2, 'RESERVE', 4))
      UPDATE products SET stock = stock - 4 WHERE id = $2`,
      [orderId, productIds[0]],
    );
    await api.db.query(`UPDATE orders SET status = 'RESERVED' WHERE id = $1`, [orderId]);
    const res = await api.http().post(`/v1/orders/${orderId}/cancel`).set(bearer(customer.token));
    expect(res.status).toBe(200);
    await api.http().post(`/v1/orders/${orderId}/cancel`).set(bearer(customer.token));
    const [product] = await api.db.query('SELECT stock FROM products WHERE id = $1', [productIds[0]]);
    expect(product.stock).toBe(10);
  });

  it('answers 409 once the order is paid, 404 to another customer, 403 to a merchant', async () => {
    const { customer, orderId, owner } = await placed();
    const other = await api.account('customer');
    expect((await api.http().post(`/v1/orders/${orderId}/cancel`).set(bearer(other.token))).status).toBe(404);
    expect((await api.http().post(`/v1/orders/${orderId}/cancel`).set(bearer(owner.token))).status).toBe(403);
    await api.db.query(`UPDATE orders SET status = 'PAID' WHERE id = $1`, [orderId]);
    const late = await api.http().post(`/v1/orders/${orderId}/cancel`).set(bearer(customer.token));
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ orderStatus: 'PAID' });
    const [row] = await api.db.query('SELECT status FROM orders WHERE id = $1', [orderId]);
    expect(row.status).toBe('PAID');
  });
});
