import { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import { isTerminal } from '../../lib/domain/order-status';
import { findMerchant } from '../../lib/store/catalog';
import {
  OrderFeed,
  latestHistoryId,
  merchantBacklogPage,
  orderBacklog,
  type FeedTopic,
  type HistoryRow,
} from '../../lib/store/order-feed';
import { findOrderForViewer } from '../../lib/store/orders';
import type { ApiDeps } from '../deps';
import { defineRoute, idParams } from '../openapi/route';
import { problems } from '../problem';
import { lastEventId, merchantStatusEvent, orderStatusEvent } from '../schemas';

/** How long a browser's EventSource waits before it reconnects with Last-Event-ID. */
const RETRY_MS = 2000;

export interface EventStreamOptions {
  /** Interval of the `: heartbeat` comment that keeps proxies from closing an idle stream (default 15 s). */
  heartbeatMs?: number;
  /** How long a missing history id holds back later events (default 2000 ms; see lib/store/order-feed.ts). */
  gapTimeoutMs?: number;
}

const streamHeaders = {
  'Cache-Control': 'no-store',
  'X-Accel-Buffering': 'no (proxies must pass events on at once)',
};

const lastEventIdHeader = {
  name: 'Last-Event-ID',
  required: false,
  schema: lastEventId,
  description:
    'The id of the last event received: the stream resumes after it, with nothing lost or repeated',
};

/** One open response: events in id order, none at or below what the client already has. */
class EventStream {
  readonly body = new PassThrough();
  private pending: HistoryRow[] | undefined = [];
  private ended = false;

  constructor(
    private lastId: number,
    private readonly format: (row: HistoryRow) => object,
    private readonly endsAtTerminal: boolean,
    private readonly onEnd: () => void,
  ) {
    this.body.write(`retry: ${RETRY_MS}\n\n`);
  }

  /** A row from the feed: held until the backlog is out, then sent. */
  push(row: HistoryRow): void {
    if (this.pending) this.pending.push(row);
    else this.send(row);
  }

  /** The backlog, then whatever the feed delivered meanwhile (above `skipTo`); from now on rows go straight out. */
  catchUp(backlog: readonly HistoryRow[], skipTo = 0): void {
    const pending = this.pending ?? [];
    this.lastId = Math.max(this.lastId, skipTo);
    this.pending = undefined;
    for (const row of [...backlog, ...pending]) this.send(row);
  }

  heartbeat(): void {
    if (!this.ended) this.body.write(': heartbeat\n\n');
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.body.end();
    this.onEnd();
  }

  private send(row: HistoryRow): void {
    if (this.ended || row.id <= this.lastId) return;
    this.lastId = row.id;
    this.body.write(`id: ${row.id}\nevent: status\ndata: ${JSON.stringify(this.format(row))}\n\n`);
    if (this.endsAtTerminal && isTerminal(row.toStatus)) this.end();
  }
}

const statusData = (row: HistoryRow) => ({
  orderId: row.orderId,
  status: row.toStatus,
  fromStatus: row.fromStatus,
  reason: row.reason,
  at: row.at.toISOString(),
});

const merchantData = (row: HistoryRow) => ({
  ...statusData(row),
  customerId: row.customerId,
  totalCents: row.totalCents,
});

/**
 * Server-Sent Events of order status: every open stream of this process shares one feed (one LISTEN
 * connection) and one heartbeat timer, so an idle stream costs memory and nothing else.
 */
export function eventRoutes(deps: ApiDeps, options: EventStreamOptions = {}) {
  const feed = new OrderFeed({
    url: deps.config.database.url,
    db: deps.db,
    logger: deps.logger,
    gapTimeoutMs: options.gapTimeoutMs,
  });
  const open = new Set<EventStream>();
  let heartbeat: NodeJS.Timeout | undefined;
  let closed = false;

  /**
   * Subscribes to the feed first, then reads the backlog up to the feed's watermark, so every row
   * comes exactly once: from the database at or below it, from the feed above it.
   */
  async function openStream(
    ctx: Context,
    stream: { topic: FeedTopic; after: number; format: (row: HistoryRow) => object; endsAtTerminal: boolean },
    backlog: (upTo: number) => Promise<{ rows: HistoryRow[]; ended?: boolean; skipTo?: number }>,
  ): Promise<void> {
    let unsubscribe: () => void = () => undefined;
    const events = new EventStream(stream.after, stream.format, stream.endsAtTerminal, () => {
      open.delete(events);
      unsubscribe();
      if (open.size === 0) clearInterval(heartbeat);
    });
    ctx.res.once('close', () => events.end());
    if (!closed) {
      open.add(events);
      if (open.size === 1) {
        heartbeat = setInterval(() => open.forEach((s) => s.heartbeat()), options.heartbeatMs ?? 15_000);
        heartbeat.unref();
      }
      const subscription = feed.subscribe(stream.topic, (row) => events.push(row));
      unsubscribe = subscription.unsubscribe;
      try {
        const { rows, ended, skipTo } = await backlog(await subscription.ready);
        events.catchUp(rows, skipTo);
        if (ended) events.end();
      } catch (err) {
        events.end();
        throw err;
      }
    } else {
      // Shutting down: the client comes back (to another replica) after `retry`, with its Last-Event-ID.
      events.end();
    }
    // Written straight to the socket rather than through Koa's body pipeline, which reports every
    // client that goes away as an error.
    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setNoDelay(true);
    ctx.req.socket.setKeepAlive(true);
    ctx.status = 200;
    ctx.type = 'text/event-stream';
    ctx.set('cache-control', 'no-store');
    ctx.set('x-accel-buffering', 'no');
    ctx.respond = false;
    ctx.res.on('error', () => undefined);
    events.body.pipe(ctx.res);
  }

  const afterHeader = (ctx: Context) => Number(ctx.get('last-event-id') || 0);

  const routes = [
    defineRoute({
      method: 'get',
      path: '/v1/orders/:orderId/events',
      operationId: 'streamOrderEvents',
      summary: 'Live status of one order (Server-Sent Events), for its customer or its merchant',
      tag: 'orders',
      auth: [],
      params: idParams('orderId'),
      headers: [lastEventIdHeader],
      responses: {
        200: {
          description:
            'Every status change of the order after Last-Event-ID (all of them without it, starting with ' +
            'PENDING), then each new one as it commits; the stream ends after a terminal status ' +
            '(COMPLETED, REJECTED, FAILED, CANCELLED).',
          schema: orderStatusEvent,
          eventStream: true,
          headers: streamHeaders,
        },
      },
      errors: [400, 401, 404],
      async handle(ctx, { params, user }) {
        ctx.state.orderId = params.orderId;
        if (!(await findOrderForViewer(deps.db, params.orderId, user.sub)))
          throw problems.notFound('The order');
        const after = afterHeader(ctx);
        await openStream(
          ctx,
          { topic: { orderId: params.orderId }, after, format: statusData, endsAtTerminal: true },
          async (upTo) => {
            const backlog = await orderBacklog(deps.db, params.orderId, after, upTo);
            return { rows: backlog.rows, ended: backlog.endedBefore };
          },
        );
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/merchants/:merchantId/orders/events',
      operationId: 'streamMerchantOrderEvents',
      summary: 'Live new orders and status changes of your store (Server-Sent Events)',
      tag: 'orders',
      auth: ['merchant'],
      params: idParams('merchantId'),
      headers: [lastEventIdHeader],
      responses: {
        200: {
          description:
            "Every status change of the store's orders as it commits (a new order arrives as PENDING with " +
            'fromStatus null); with Last-Event-ID, the changes after it first. Never ends by itself.',
          schema: merchantStatusEvent,
          eventStream: true,
          headers: streamHeaders,
        },
      },
      errors: [400, 401, 403, 404],
      async handle(ctx, { params, user }) {
        const merchant = await findMerchant(deps.db, params.merchantId);
        if (!merchant) throw problems.notFound('The merchant');
        if (merchant.ownerId !== user.sub)
          throw problems.forbidden('Only the owner of this merchant may do this');
        const resume = ctx.get('last-event-id') !== '';
        const after = afterHeader(ctx);
        await openStream(
          ctx,
          { topic: { merchantId: params.merchantId }, after, format: merchantData, endsAtTerminal: false },
          async (upTo) => {
            const rows: HistoryRow[] = [];
            // The feed may start a little behind (see START_LOOKBACK): live means committed from now on.
            if (!resume) return { rows, skipTo: await latestHistoryId(deps.db) };
            for (let from = after; ;) {
              const page = await merchantBacklogPage(deps.db, params.merchantId, from, upTo);
              rows.push(...page.rows);
              if (!page.more) return { rows };
              from = page.rows.at(-1)!.id;
            }
          },
        );
      },
    }),
  ];

  return {
    routes,
    /** Ends every open stream and the feed; streams asked for from now on end at once. */
    close(): void {
      closed = true;
      for (const stream of [...open]) stream.end();
      feed.stop();
    },
  };
}
