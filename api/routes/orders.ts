import { createHash, randomUUID } from 'node:crypto';
import type { Context } from 'koa';
import { CANCELLABLE_STATUSES } from '../../lib/domain/order-status';
import { priceOrder } from '../../lib/domain/pricing';
import { productsForPricing } from '../../lib/store/catalog';
import { storedResponse, type StoredResponse } from '../../lib/store/idempotency';
import {
  EVENT_SOURCE_API,
  findOrderForViewer,
  insertOrder,
  listOrders,
  orderHistory,
  type NewOrder,
} from '../../lib/store/orders';
import { applyTransition } from '../../lib/store/transitions';
import type { ApiDeps } from '../deps';
import { defineRoute, idParams } from '../openapi/route';
import { problems } from '../problem';
import { createOrderBody, historyView, listQuery, orderPage, orderView } from '../schemas';
import { pageOf, toOrderView } from '../views';
import { cursorOrThrow } from './merchants';

/** Key order does not change what a request means, so it must not change its hash either. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function send(ctx: Context, response: StoredResponse) {
  ctx.status = response.status;
  for (const [name, value] of Object.entries(response.headers)) ctx.set(name, value);
  ctx.body = response.body;
}

export function orderRoutes(deps: ApiDeps) {
  /** The 202 for a new order; `createdAt` and `updatedAt` are the order's own (set by the insert). */
  const accepted = (order: NewOrder, createdAt = ''): StoredResponse => ({
    status: 202,
    headers: { location: `/v1/orders/${order.id}` },
    body: {
      id: order.id,
      status: 'PENDING',
      customerId: order.customerId,
      merchantId: order.merchantId,
      totalCents: order.totalCents,
      items: order.items,
      deliveryAddress: order.deliveryAddress,
      payment: { method: order.payment.method },
      failureReason: null,
      createdAt,
      updatedAt: createdAt,
      finishedAt: null,
    },
  });

  /** The order if the caller is its customer or merchant (logged with its id); 404 for anyone else. */
  const visibleOrder = async (ctx: Context, orderId: string, viewerId: string) => {
    ctx.state.orderId = orderId;
    const order = await findOrderForViewer(deps.db, orderId, viewerId);
    if (!order) throw problems.notFound('The order');
    return order;
  };

  return [
    defineRoute({
      method: 'post',
      path: '/v1/orders',
      operationId: 'createOrder',
      summary: 'Place an order; it is processed asynchronously',
      tag: 'orders',
      auth: ['customer'],
      body: createOrderBody,
      headers: [
        {
          name: 'Idempotency-Key',
          required: false,
          description: 'Retry-safe key: the same key and body replay the first response for 24 hours',
        },
      ],
      responses: {
        202: {
          description: 'Accepted; follow the Location for its status',
          schema: orderView,
          headers: { Location: 'the order', 'Idempotent-Replayed': 'true when this is a replay' },
        },
      },
      errors: [400, 401, 403, 409, 413, 415, 422],
      async handle(ctx, { body, user }) {
        const key = ctx.get('idempotency-key');
        const catalog = await productsForPricing(
          deps.db,
          body.items.map((i) => i.productId),
        );
        const priced = priceOrder(body.merchantId, body.items, catalog);
        if (!priced.ok) {
          deps.metrics.ordersCreated.inc({ outcome: 'invalid' });
          throw problems.validation(
            priced.problems.map((p) => ({ field: `items.${p.index}.productId`, message: p.reason })),
            422,
          );
        }
        const order: NewOrder = {
          id: randomUUID(),
          customerId: user.sub,
          merchantId: body.merchantId,
          items: priced.items,
          totalCents: priced.totalCents,
          deliveryAddress: body.deliveryAddress,
          payment: body.payment,
        };
        ctx.state.orderId = order.id;
        const requestHash = key && createHash('sha256').update(canonicalJson(body)).digest('hex');
        const insert = await insertOrder(
          deps.db,
          order,
          key ? { userId: user.sub, key, requestHash, response: accepted(order) } : undefined,
        );
        if (insert.state === 'inserted') {
          deps.metrics.ordersCreated.inc({ outcome: 'accepted' });
          return send(ctx, accepted(order, insert.createdAt));
        }
        const stored = insert.state === 'key-used' && (await storedResponse(deps.db, user.sub, key));
        if (!stored) {
          throw problems.conflict(
            'idempotency-key-in-use',
            'Request in progress',
            'A request with this Idempotency-Key is still being processed',
          );
        }
        if (stored.requestHash !== requestHash) {
          throw problems.unprocessable(
            'idempotency-key-reused',
            'Idempotency-Key reused',
            'This Idempotency-Key was used with a different request body',
          );
        }
        deps.metrics.ordersCreated.inc({ outcome: 'replayed' });
        send(ctx, { ...stored, headers: { ...stored.headers, 'idempotent-replayed': 'true' } });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/orders',
      operationId: 'listOrders',
      summary: 'Your orders, newest first',
      tag: 'orders',
      auth: ['customer'],
      query: listQuery,
      responses: { 200: { description: 'A page of orders', schema: orderPage } },
      errors: [400, 401, 403],
      async handle(ctx, { query, user }) {
        const rows = await listOrders(
          deps.db,
          { customerId: user.sub },
          query.limit,
          cursorOrThrow(query.cursor),
        );
        ctx.body = pageOf(rows, query.limit, toOrderView);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/orders/:orderId',
      operationId: 'getOrder',
      summary: 'One order, for its customer or its merchant',
      tag: 'orders',
      auth: [],
      params: idParams('orderId'),
      responses: { 200: { description: 'The order', schema: orderView } },
      errors: [401, 404],
      async handle(ctx, { params, user }) {
        ctx.body = toOrderView(await visibleOrder(ctx, params.orderId, user.sub));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/orders/:orderId/history',
      operationId: 'getOrderHistory',
      summary: 'Every status the order went through, oldest first',
      tag: 'orders',
      auth: [],
      params: idParams('orderId'),
      responses: { 200: { description: 'The history', schema: historyView } },
      errors: [401, 404],
      async handle(ctx, { params, user }) {
        await visibleOrder(ctx, params.orderId, user.sub);
        const entries = await orderHistory(deps.db, params.orderId);
        ctx.body = {
          orderId: params.orderId,
          entries: entries.map((e) => ({ ...e, at: e.at.toISOString() })),
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/orders/:orderId/cancel',
      operationId: 'cancelOrder',
      summary: 'Cancel your order before it is paid',
      tag: 'orders',
      auth: ['customer'],
      params: idParams('orderId'),
      responses: { 200: { description: 'Cancelled (or already cancelled)', schema: orderView } },
      errors: [401, 403, 404, 409],
      async handle(ctx, { params, user }) {
        const order = await visibleOrder(ctx, params.orderId, user.sub);
        if (order.customerId !== user.sub) throw problems.notFound('The order');
        await deps.db.transaction((tx) =>
          applyTransition(tx, {
            orderId: params.orderId,
            from: CANCELLABLE_STATUSES,
            to: 'CANCELLED',
            reason: 'cancelled by the customer',
            source: EVENT_SOURCE_API,
          }),
        );
        const now = (await findOrderForViewer(deps.db, params.orderId, user.sub))!;
        if (now.status !== 'CANCELLED') {
          throw problems.conflict(
            'too-late-to-cancel',
            'Too late to cancel',
            `The order is already ${now.status}`,
            {
              orderStatus: now.status,
            },
          );
        }
        ctx.body = toOrderView(now);
      },
    }),
  ];
}
