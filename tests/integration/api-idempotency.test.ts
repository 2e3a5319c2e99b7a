import { Client } from 'pg';
import { bearer, countRows, orderBody, startTestApi, type TestApi } from '../support/api';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

async function shop() {
  const { merchantId, productIds } = await api.merchantWithProducts([
    { priceCents: 1000 },
    { priceCents: 250 },
  ]);
  const customer = await api.account('customer');
  const body = orderBody(merchantId, [{ productId: productIds[0]!, quantity: 1 }]);
  const post = (key: string, payload: object = body) =>
    api.http().post('/v1/orders').set(bearer(customer.token)).set('Idempotency-Key', key).send(payload);
  const orders = () =>
    countRows(api.db, 'SELECT count(*)::int AS n FROM orders WHERE customer_id = $1', [customer.id]);
  return { customer, body, post, orders, productIds, merchantId };
}

describe('Idempotency-Key', () => {
  it('replays the first response for the same key and body, creating one order', async () => {
    const { post, orders, body } = await shop();
    const first = await post('key-1');
    // Same meaning, different key order: still the same request.
    const reordered = {
      payment: body.payment,
      items: body.items,
      deliveryAddress: body.deliveryAddress,
      merchantId: body.merchantId,
    };
    const second = await post('key-1', reordered);
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body).toEqual(first.body);
    expect(second.headers.location).toBe(first.headers.location);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(await orders()).toBe(1);
    expect(
      await countRows(api.db, 'SELECT count(*)::int AS n FROM outbox WHERE aggregate_id = $1', [
        first.body.id,
      ]),
    ).toBe(1);
  });

  it('answers 422 for the same key with another body', async () => {
    const { post, orders, body, productIds } = await shop();
    expect((await post('key-2')).status).toBe(202);
    const other = await post('key-2', { ...body, items: [{ productId: productIds[1], quantity: 2 }] });
    expect(other.status).toBe(422);
    expect(other.body.type).toMatch(/idempotency-key-reused$/);
    expect(await orders()).toBe(1);
  });

  it('answers 409 while the first request with the key is still in flight', async () => {
    const { post, customer, orders } = await shop();
    // Hold the key's lock the way an in-flight request does.
    const holder = new Client({ connectionString: api.config.database.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0))`, [
        customer.id,
        'key-3',
      ]);
      const blocked = await post('key-3');
      expect(blocked.status).toBe(409);
      expect(blocked.body.type).toMatch(/idempotency-key-in-use$/);
      await holder.query('ROLLBACK');
    } finally {
      await holder.end();
    }
    expect((await post('key-3')).status).toBe(202);
    expect(await orders()).toBe(1);
  });

  it('creates exactly one order when many requests with one key race', async () => {
    const { post, orders } = await shop();
    const responses = await Promise.all(Array.from({ length: 12 }, () => post('key-race')));
    const statuses = responses.map((r) => r.status);
    expect(statuses.every((s) => s === 202 || s === 409)).toBe(true);
    const ids = new Set(responses.filter((r) => r.status === 202).map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(await orders()).toBe(1);
    // Once settled, the key replays.
    const later = await post('key-race');
    expect(later.status).toBe(202);
    expect(ids.has(later.body.id)).toBe(true);
  });

  it('keys are per user: another customer may use the same key', async () => {
    const a = await shop();
    const b = await shop();
    const first = await a.post('shared-key');
    const second = await b.post('shared-key');
    expect(second.status).toBe(202);
    expect(second.body.id).not.toBe(first.body.id);
  });

  it.each([
    ['with spaces', 'has spaces in it'],
    ['with non-ASCII', 'cl\u00e9'],
    ['that is empty', ''],
  ])('rejects a key %s with 400 naming the header', async (_, key) => {
    const { post, orders } = await shop();
    const res = await post(key);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('Idempotency-Key');
    expect(await orders()).toBe(0);
  });

  it('documents the key format it enforces', async () => {
    const document = (await api.http().get('/openapi.json')).body;
    const header = document.paths['/v1/orders'].post.parameters.find(
      (p: { name: string }) => p.name === 'Idempotency-Key',
    );
    expect(header).toMatchObject({ in: 'header', required: false });
    const pattern = new RegExp(header.schema.pattern);
    expect(pattern.test('order-2026-12-03#1')).toBe(true);
    expect(pattern.test('has spaces in it')).toBe(false);
    expect(pattern.test('')).toBe(false);
  });
});
