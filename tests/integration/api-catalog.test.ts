import type request from 'supertest';
import { bearer, startTestApi, type TestApi } from '../support/api';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

describe('catalog', () => {
  it('lets a merchant open a store, add and update products, and anyone signed in read them', async () => {
    const { owner, merchantId, productIds } = await api.merchantWithProducts([
      { priceCents: 1990, stock: 5 },
    ]);
    const customer = await api.account('customer');

    const list = await api.http().get(`/v1/merchants/${merchantId}/products`).set(bearer(customer.token));
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([
      expect.objectContaining({ id: productIds[0], priceCents: 1990, stock: 5, active: true }),
    ]);

    const patched = await api
      .http()
      .patch(`/v1/merchants/${merchantId}/products/${productIds[0]}`)
      .set(bearer(owner.token))
      .send({ priceCents: 2490, active: false });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ priceCents: 2490, active: false, stock: 5 });

    const merchants = await api.http().get('/v1/merchants?limit=100').set(bearer(customer.token));
    expect(merchants.status).toBe(200);
    expect(Array.isArray(merchants.body.items)).toBe(true);
  });

  it('pages merchants without repeats', async () => {
    const owner = await api.account('merchant');
    const mine: string[] = [];
    for (let i = 0; i < 3; i++) {
      mine.push(
        (
          await api
            .http()
            .post('/v1/merchants')
            .set(bearer(owner.token))
            .send({ name: `M${i}` })
        ).body.id,
      );
    }
    const before: { id: string }[] = await api.db.query('SELECT id FROM merchants');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: request.Response = await api
        .http()
        .get(`/v1/merchants?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        .set(bearer(owner.token));
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((m: { id: string }) => m.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    // Every merchant that existed when paging began is on some page (other tests may add more meanwhile).
    expect(seen).toEqual(expect.arrayContaining([...mine, ...before.map((m) => m.id)]));
  });

  it('forbids customers on merchant routes (403) and merchants on stores they do not own (403)', async () => {
    const { merchantId, productIds } = await api.merchantWithProducts([{ priceCents: 100 }]);
    const customer = await api.account('customer');
    const stranger = await api.account('merchant');
    const asCustomer = await api
      .http()
      .post('/v1/merchants')
      .set(bearer(customer.token))
      .send({ name: 'Mine' });
    expect(asCustomer.status).toBe(403);
    expect(asCustomer.type).toBe('application/problem+json');
    const others = [
      api
        .http()
        .post(`/v1/merchants/${merchantId}/products`)
        .set(bearer(stranger.token))
        .send({ name: 'x', priceCents: 1, stock: 1 }),
      api
        .http()
        .patch(`/v1/merchants/${merchantId}/products/${productIds[0]}`)
        .set(bearer(stranger.token))
        .send({ stock: 0 }),
      api.http().get(`/v1/merchants/${merchantId}/orders`).set(bearer(stranger.token)),
      api.http().get(`/v1/merchants/${merchantId}/orders`).set(bearer(customer.token)),
    ];
    for (const res of await Promise.all(others)) expect(res.status).toBe(403);
  });

  it('answers 404 for a merchant or product that does not exist', async () => {
    const owner = await api.account('merchant');
    const missing = '00000000-0000-4000-8000-000000000000';
    expect((await api.http().get(`/v1/merchants/${missing}/products`).set(bearer(owner.token))).status).toBe(
      404,
    );
    expect((await api.http().get(`/v1/merchants/not-a-uuid/products`).set(bearer(owner.token))).status).toBe(
      404,
    );
    const { owner: o, merchantId } = await api.merchantWithProducts([]);
    const res = await api
      .http()
      .patch(`/v1/merchants/${merchantId}/products/${missing}`)
      .set(bearer(o.token))
      .send({ stock: 1 });
    expect(res.status).toBe(404);
  });

  it.each([
    [{ name: 'x', priceCents: -1, stock: 1 }, 'priceCents'],
    [{ name: 'x', priceCents: 1.5, stock: 1 }, 'priceCents'],
    [{ name: 'x', priceCents: 1, stock: -3 }, 'stock'],
    [{ priceCents: 1, stock: 1 }, 'name'],
    // NUL, which PostgreSQL text cannot hold: a 400, not the 500 of a failed insert
    [{ name: 'Pão\u0000', priceCents: 1, stock: 1 }, 'name'],
    [{ name: 'x', description: '\u0000', priceCents: 1, stock: 1 }, 'description'],
    // blank once trimmed, as the document's pattern says
    [{ name: '\u3000\t', priceCents: 1, stock: 1 }, 'name'],
  ])('rejects product %j naming %s', async (body, field) => {
    const { owner, merchantId } = await api.merchantWithProducts([]);
    const res = await api
      .http()
      .post(`/v1/merchants/${merchantId}/products`)
      .set(bearer(owner.token))
      .send(body);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('rejects a merchant name or a product change with NUL with 400 naming the field', async () => {
    const { owner, merchantId, productIds } = await api.merchantWithProducts([{ priceCents: 100 }]);
    const merchant = await api
      .http()
      .post('/v1/merchants')
      .set(bearer(owner.token))
      .send({ name: 'Padaria\u0000' });
    expect(merchant.status).toBe(400);
    expect(merchant.body.errors).toEqual([{ field: 'name', message: expect.stringContaining('NUL') }]);
    const patch = await api
      .http()
      .patch(`/v1/merchants/${merchantId}/products/${productIds[0]}`)
      .set(bearer(owner.token))
      .send({ description: 'warm\u0000' });
    expect(patch.status).toBe(400);
    expect(patch.body.errors).toEqual([{ field: 'description', message: expect.stringContaining('NUL') }]);
  });

  it('refuses an empty product change with 400, as the document says (minProperties: 1)', async () => {
    const { owner, merchantId, productIds } = await api.merchantWithProducts([{ priceCents: 100 }]);
    const res = await api
      .http()
      .patch(`/v1/merchants/${merchantId}/products/${productIds[0]}`)
      .set(bearer(owner.token))
      .send({});
    expect(res.status).toBe(400);
    const document = (await api.http().get('/openapi.json')).body;
    const patch = document.paths['/v1/merchants/{merchantId}/products/{productId}'].patch;
    expect(patch.requestBody.content['application/json'].schema.minProperties).toBe(1);
  });

  it('stores SQL-looking and unicode strings verbatim', async () => {
    const owner = await api.account('merchant');
    const name = "Robert'); DROP TABLE orders;-- 🍕 Pão de Queijo ñ 寿司";
    const created = await api.http().post('/v1/merchants').set(bearer(owner.token)).send({ name });
    expect(created.status).toBe(201);
    const product = await api
      .http()
      .post(`/v1/merchants/${created.body.id}/products`)
      .set(bearer(owner.token))
      .send({ name, description: "1' OR '1'='1", priceCents: 100, stock: 1 });
    expect(product.body).toMatchObject({ name, description: "1' OR '1'='1" });
    const [row] = await api.db.query('SELECT name FROM merchants WHERE id = $1', [created.body.id]);
    expect(row.name).toBe(name);
    const [tables] = await api.db.query(
      `SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'orders'`,
    );
    expect(tables.n).toBe(1);
  });
});
