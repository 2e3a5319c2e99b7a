import { bearer, countRows, orderBody, startTestApi, type TestApi } from '../support/api';
import { freePort } from '../support/services';

/**
 * The operations view's data: admins only, read from the real RabbitMQ management API and the real
 * database. No operator answers on OPERATOR_URL here; the console's browser tests read the real
 * local operator's autoscalers through this endpoint under `orderflow up`.
 */
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ OPERATOR_URL: `http://127.0.0.1:${await freePort()}` });
});
afterAll(() => api.close());

describe('GET /v1/ops/overview', () => {
  it('is for admins: 401 without a token, 403 for customers and merchants', async () => {
    const customer = await api.account('customer');
    const merchant = await api.account('merchant');
    expect((await api.http().get('/v1/ops/overview')).status).toBe(401);
    for (const user of [customer, merchant]) {
      const res = await api.http().get('/v1/ops/overview').set(bearer(user.token));
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    }
  });

  it('gives each stage queue, the dead letters, the outbox backlog, and null autoscalers while no operator answers', async () => {
    const admin = await api.admin();
    const { merchantId, productIds } = await api.merchantWithProducts([{ priceCents: 500 }]);
    const customer = await api.account('customer');
    // No relay runs in these tests: the order's outbox event stays unpublished.
    const order = await api
      .http()
      .post('/v1/orders')
      .set(bearer(customer.token))
      .send(orderBody(merchantId, [{ productId: productIds[0]!, quantity: 1 }]));
    expect(order.status).toBe(202);
    const res = await api.http().get('/v1/ops/overview').set(bearer(admin.token));
    expect(res.status).toBe(200);
    expect(res.body.stages.map((s: { queue: string }) => s.queue)).toEqual([
      'orderflow.stage.validate',
      'orderflow.stage.reserve',
      'orderflow.stage.pay',
      'orderflow.stage.complete',
    ]);
    for (const stage of res.body.stages)
      for (const field of ['ready', 'unacked', 'consumers', 'publishRate', 'ackRate'])
        expect(typeof stage[field]).toBe('number');
    expect(typeof res.body.deadLetters.count).toBe('number');
    const unpublished = await countRows(
      api.db,
      'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL',
      [],
    );
    expect(res.body.outbox.backlog).toBeGreaterThanOrEqual(1);
    expect(res.body.outbox.backlog).toBeLessThanOrEqual(unpublished);
    expect(res.body.autoscalers).toBeNull();
    expect(res.body.kafka.lag).toBeNull();
  });
});
