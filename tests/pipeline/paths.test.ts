import { randomUUID } from 'node:crypto';
import { insertOrder } from '../../lib/store/orders';
import { address, bearer } from '../support/api';
import { eventually } from '../support/services';
import {
  assertInvariants,
  placeOrder,
  startPipeline,
  statusOf,
  waitForTerminal,
  type Pipeline,
} from './harness';

let pipeline: Pipeline;
beforeAll(async () => {
  pipeline = await startPipeline({ workers: [[], ['--stages', 'reserve,pay']] });
}, 60_000);
afterAll(() => pipeline.stop(), 60_000);

async function shop(stock = 10) {
  const { merchantId, productIds } = await pipeline.api.merchantWithProducts([
    { priceCents: 1500, stock },
    { priceCents: 500, stock },
  ]);
  const customer = await pipeline.api.account('customer');
  const stockAtStart = new Map(productIds.map((id) => [id, stock]));
  return { merchantId, productIds, customer, stockAtStart };
}

const historyOf = async (orderId: string) =>
  (
    (await pipeline.api.db.query('SELECT to_status FROM order_history WHERE order_id = $1 ORDER BY id', [
      orderId,
    ])) as { to_status: string }[]
  ).map((r) => r.to_status);

describe('every path ends right', () => {
  it('happy path: COMPLETED, stock taken, one approved payment', async () => {
    const s = await shop();
    const id = await placeOrder(pipeline.api, s.customer.token, s.merchantId, [
      { productId: s.productIds[0]!, quantity: 2 },
      { productId: s.productIds[1]!, quantity: 1 },
    ]);
    const statuses = await waitForTerminal(pipeline.api, [id]);
    expect(statuses.get(id)).toBe('COMPLETED');
    expect(await historyOf(id)).toEqual(['PENDING', 'VALIDATED', 'RESERVED', 'PAID', 'COMPLETED']);
    const [payment] = await pipeline.api.db.query(
      'SELECT status, amount_cents::int AS amount FROM payments WHERE order_id = $1',
      [id],
    );
    expect(payment).toEqual({ status: 'APPROVED', amount: 3500 });
    const stock = await pipeline.api.db.query(
      'SELECT stock FROM products WHERE id = ANY($1) ORDER BY price_cents DESC',
      [s.productIds],
    );
    expect(stock.map((r: { stock: number }) => r.stock)).toEqual([8, 9]);
    // The customer sees it through the API too.
    const seen = await pipeline.api.http().get(`/v1/orders/${id}`).set(bearer(s.customer.token));
    expect(seen.body).toMatchObject({ status: 'COMPLETED', failureReason: null });
    expect(seen.body.finishedAt).not.toBeNull();
    await assertInvariants(pipeline.api, [id], s.stockAtStart);
    // Its five events (created and four status changes) leave the outbox as the relay publishes them.
    await eventually(
      async () => {
        const [row] = await pipeline.api.db.query(
          'SELECT count(*)::int AS n FROM outbox WHERE aggregate_id = $1',
          [id],
        );
        return (row as { n: number }).n === 0;
      },
      { what: "the order's outbox rows to be published and deleted" },
    );
  });

  it('tok_decline: FAILED with the reason, stock restored', async () => {
    const s = await shop();
    const id = await placeOrder(
      pipeline.api,
      s.customer.token,
      s.merchantId,
      [{ productId: s.productIds[0]!, quantity: 3 }],
      'tok_decline',
    );
    expect((await waitForTerminal(pipeline.api, [id])).get(id)).toBe('FAILED');
    expect(await historyOf(id)).toEqual(['PENDING', 'VALIDATED', 'RESERVED', 'FAILED']);
    const [order] = await pipeline.api.db.query('SELECT failure_reason FROM orders WHERE id = $1', [id]);
    expect(order.failure_reason).toMatch(/payment declined/);
    const [product] = await pipeline.api.db.query('SELECT stock FROM products WHERE id = $1', [
      s.productIds[0],
    ]);
    expect(product.stock).toBe(10);
    await assertInvariants(pipeline.api, [id], s.stockAtStart);
  });

  it('tok_flaky: COMPLETED after two retries through the delay queues', async () => {
    const s = await shop();
    const id = await placeOrder(
      pipeline.api,
      s.customer.token,
      s.merchantId,
      [{ productId: s.productIds[1]!, quantity: 1 }],
      'tok_flaky',
    );
    expect((await waitForTerminal(pipeline.api, [id])).get(id)).toBe('COMPLETED');
    const [payment] = await pipeline.api.db.query(
      'SELECT status, attempts FROM payments WHERE order_id = $1',
      [id],
    );
    expect(payment).toEqual({ status: 'APPROVED', attempts: 3 });
    await assertInvariants(pipeline.api, [id], s.stockAtStart);
  });

  it('out of stock: REJECTED, nothing taken', async () => {
    const s = await shop(2);
    const id = await placeOrder(pipeline.api, s.customer.token, s.merchantId, [
      { productId: s.productIds[0]!, quantity: 1 },
      { productId: s.productIds[1]!, quantity: 3 },
    ]);
    expect((await waitForTerminal(pipeline.api, [id])).get(id)).toBe('REJECTED');
    const [order] = await pipeline.api.db.query('SELECT failure_reason FROM orders WHERE id = $1', [id]);
    expect(order.failure_reason).toMatch(/out of stock/);
    const stock = await pipeline.api.db.query('SELECT stock FROM products WHERE id = ANY($1)', [
      s.productIds,
    ]);
    expect(stock.map((r: { stock: number }) => r.stock)).toEqual([2, 2]);
    await assertInvariants(pipeline.api, [id], s.stockAtStart);
  });

  it('a product withdrawn after ordering: REJECTED at validation', async () => {
    const s = await shop();
    // The order and the withdrawal commit together, so validation surely sees the product inactive.
    const id = randomUUID();
    await pipeline.api.db.transaction(async (tx) => {
      await insertOrder(tx, {
        id,
        customerId: s.customer.id,
        merchantId: s.merchantId,
        items: [{ productId: s.productIds[0]!, quantity: 1, unitPriceCents: 1500 }],
        totalCents: 1500,
        deliveryAddress: address,
        payment: { method: 'card', token: 'tok_visa' },
      });
      await tx.query('UPDATE products SET active = false WHERE id = $1', [s.productIds[0]]);
    });
    expect((await waitForTerminal(pipeline.api, [id])).get(id)).toBe('REJECTED');
    expect(await historyOf(id)).toEqual(['PENDING', 'REJECTED']);
    const [order] = await pipeline.api.db.query('SELECT failure_reason FROM orders WHERE id = $1', [id]);
    expect(order.failure_reason).toContain(s.productIds[0]);
  });

  it('cancel before payment: CANCELLED with stock restored, and the pending payment never happens', async () => {
    const s = await shop();
    // tok_flaky holds the order in RESERVED for the retry delays, a window to cancel in.
    const id = await placeOrder(
      pipeline.api,
      s.customer.token,
      s.merchantId,
      [{ productId: s.productIds[0]!, quantity: 4 }],
      'tok_flaky',
    );
    await eventually(async () => (await statusOf(pipeline.api, id)) === 'RESERVED', {
      intervalMs: 20,
      what: 'RESERVED',
    });
    const cancel = await pipeline.api.http().post(`/v1/orders/${id}/cancel`).set(bearer(s.customer.token));
    expect(cancel.status).toBe(200);
    // Let the delayed payment retry come and find the order cancelled.
    await new Promise((r) => setTimeout(r, 3500));
    expect(await statusOf(pipeline.api, id)).toBe('CANCELLED');
    expect(await historyOf(id)).toEqual(['PENDING', 'VALIDATED', 'RESERVED', 'CANCELLED']);
    expect(await pipeline.api.db.query('SELECT 1 FROM payments WHERE order_id = $1', [id])).toEqual([]);
    const [product] = await pipeline.api.db.query('SELECT stock FROM products WHERE id = $1', [
      s.productIds[0],
    ]);
    expect(product.stock).toBe(10);
    await assertInvariants(pipeline.api, [id], s.stockAtStart);
  });

  it('10 concurrent orders for the last 3 units: exactly 3 COMPLETED', async () => {
    const s = await shop(3);
    const customers = await Promise.all(Array.from({ length: 10 }, () => pipeline.api.account('customer')));
    const ids = await Promise.all(
      customers.map((c) =>
        placeOrder(pipeline.api, c.token, s.merchantId, [{ productId: s.productIds[0]!, quantity: 1 }]),
      ),
    );
    const statuses = [...(await waitForTerminal(pipeline.api, ids)).values()];
    expect(statuses.filter((x) => x === 'COMPLETED')).toHaveLength(3);
    expect(statuses.filter((x) => x === 'REJECTED')).toHaveLength(7);
    const [product] = await pipeline.api.db.query('SELECT stock FROM products WHERE id = $1', [
      s.productIds[0],
    ]);
    expect(product.stock).toBe(0);
    await assertInvariants(pipeline.api, ids, s.stockAtStart);
  });

  it('customers cancelling while the workers run: each order ends in exactly one terminal status, stock right', async () => {
    const s = await shop(50);
    const ids = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        placeOrder(
          pipeline.api,
          s.customer.token,
          s.merchantId,
          [{ productId: s.productIds[i % 2]!, quantity: 1 }],
          i % 3 ? 'tok_visa' : 'tok_flaky',
        ),
      ),
    );
    // Cancels land at every moment of processing: some win, some are too late (409).
    const answers = await Promise.all(
      ids.map(async (id, i) => {
        await new Promise((r) => setTimeout(r, (i % 10) * 15));
        return (await pipeline.api.http().post(`/v1/orders/${id}/cancel`).set(bearer(s.customer.token)))
          .status;
      }),
    );
    expect(answers.every((status) => status === 200 || status === 409)).toBe(true);
    const statuses = await waitForTerminal(pipeline.api, ids);
    ids.forEach((id, i) => expect(statuses.get(id) === 'CANCELLED').toBe(answers[i] === 200));
    const terminalRows = await pipeline.api.db.query(
      `SELECT order_id, count(*)::int AS n FROM order_history
        WHERE order_id = ANY($1) AND to_status IN ('COMPLETED','REJECTED','FAILED','CANCELLED') GROUP BY order_id`,
      [ids],
    );
    expect(terminalRows.map((r: { n: number }) => r.n)).toEqual(Array(30).fill(1));
    await assertInvariants(pipeline.api, ids, s.stockAtStart);
  });

  it('the relay loses its LISTEN connection: orders still complete while it reconnects', async () => {
    const s = await shop();
    const terminated = await pipeline.api.db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'orderflow-relay-listen'`,
    );
    expect(terminated).toHaveLength(1);
    const id = await placeOrder(pipeline.api, s.customer.token, s.merchantId, [
      { productId: s.productIds[0]!, quantity: 1 },
    ]);
    expect((await waitForTerminal(pipeline.api, [id])).get(id)).toBe('COMPLETED');
    await eventually(
      async () =>
        (
          (await pipeline.api.db.query(
            `SELECT 1 FROM pg_stat_activity WHERE application_name = 'orderflow-relay-listen'`,
          )) as unknown[]
        ).length === 1,
      { what: 'the relay to listen again' },
    );
  });
});
