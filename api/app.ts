import { METHODS } from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import type { Registry } from 'prom-client';
import type { ReadinessCheck } from '../lib/telemetry/ops-server';
import type { ApiDeps } from './deps';
import { jsonBody } from './middleware/body';
import { problemResponses } from './middleware/errors';
import { observe } from './middleware/observe';
import { openApiDocument } from './openapi/document';
import { mountRoutes } from './openapi/route';
import { authRoutes } from './routes/auth';
import { consoleRoutes } from './routes/console';
import { eventRoutes, type EventStreamOptions } from './routes/events';
import { merchantRoutes } from './routes/merchants';
import { opsRoutes } from './routes/ops';
import { orderRoutes } from './routes/orders';
import { systemRouter } from './routes/system';

export const API_VERSION = '1.0.0';

export interface ApiApp {
  app: Koa;
  /** From now on /readyz answers 503 so load balancers stop sending traffic. */
  drain(): void;
  /** Ends every open event stream (each would hold the server open); streams asked for later end at once. */
  closeStreams(): void;
}

export function createApp(
  deps: ApiDeps,
  options: { registry: Registry; readiness: Record<string, ReadinessCheck>; events?: EventStreamOptions },
): ApiApp {
  const app = new Koa({ proxy: false });
  const events = eventRoutes(deps, options.events);
  const routes = [
    ...authRoutes(deps),
    ...merchantRoutes(deps),
    ...orderRoutes(deps),
    ...opsRoutes(deps),
    ...events.routes,
  ];
  let draining = false;

  // Every method Node parses counts as implemented: one the path does not declare (TRACE, PUT) is then
  // 405 with Allow, as RFC 9110 says, instead of @koa/router's 501 for methods outside its short list.
  const v1 = new Router({ methods: METHODS });
  mountRoutes(v1, routes, deps.tokens.authenticate);
  const system = systemRouter({
    registry: options.registry,
    readiness: options.readiness,
    isDraining: () => draining,
    openApi: () => openApiDocument(routes, { version: API_VERSION }),
  });

  app.use(observe(deps.logger, options.registry));
  app.use(problemResponses(deps.logger));
  app.use(async (ctx, next) => {
    ctx.set('x-content-type-options', 'nosniff');
    ctx.set('cache-control', 'no-store');
    // While stopping, every answer closes its connection: a keep-alive client busy on it would
    // otherwise hold the server open until the shutdown timeout.
    if (draining) ctx.set('connection', 'close');
    await next();
  });
  app.use(jsonBody(deps.config.bodyLimitBytes));
  app.use(system.routes());
  app.use(system.allowedMethods());
  app.use(v1.routes());
  app.use(v1.allowedMethods());
  // Last: the web console answers only what no API route did.
  app.use(consoleRoutes());
  return {
    app,
    drain: () => {
      draining = true;
    },
    closeStreams: events.close,
  };
}
