import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../../lib/telemetry/logger';

const REQUEST_ID = /^[\w.-]{1,128}$/;
/** A successful request slower than this is logged at info, like a refusal. */
const SLOW_SECONDS = 1;

/**
 * Request id, access log and HTTP metrics by route template (never the raw path, which would explode
 * the label set with ids).
 */
export function observe(logger: Logger, registry: Registry): Middleware {
  const requests = new Counter({
    name: 'orderflow_http_requests_total',
    help: 'HTTP requests by method, route template and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'orderflow_http_request_duration_seconds',
    help: 'HTTP request duration by method, route template and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    const incoming = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('x-request-id', requestId);
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = typeof ctx._matchedRoute === 'string' ? ctx._matchedRoute : 'unmatched';
      const labels = { method: ctx.method, route, status: String(ctx.status) };
      requests.inc(labels);
      duration.observe(labels, seconds);
      // Every request is counted and timed in the metrics; the log keeps what a person looks for
      // (refusals, failures, slow answers) and leaves routine successes to debug, since on a busy API
      // one line per request costs more CPU than the request's own logic.
      const level =
        ctx.status >= 500 ? 'error' : ctx.status >= 400 || seconds >= SLOW_SECONDS ? 'info' : 'debug';
      logger[level](
        {
          reqId: requestId,
          method: ctx.method,
          route,
          path: ctx.path,
          status: ctx.status,
          ms: Math.round(seconds * 10_000) / 10,
          userId: (ctx.state.user as { sub?: string } | undefined)?.sub,
          ...(ctx.state.orderId ? { orderId: ctx.state.orderId } : {}),
        },
        'request',
      );
    }
  };
}
