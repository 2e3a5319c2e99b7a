import { closeServer } from '../lib/http-close';
import { Counter } from 'prom-client';
import { createDataSource, pingDatabase } from '../lib/adapters/postgres/data-source';
import { purgeIdempotencyKeys } from '../lib/store/idempotency';
import type { ProcessContext, RunningRole } from '../lib/process';
import { createApp } from './app';
import { createHttpServer } from './http-server';
import { createTokenService } from './auth/tokens';

/** Idempotency keys are kept at least this long. */
const IDEMPOTENCY_RETENTION_HOURS = 24;
const PURGE_EVERY_MS = 10 * 60_000;

/** The API process: Koa on PORT, PostgreSQL pool, and a periodic purge of expired idempotency keys. */
export async function startApi({ config, logger, registry }: ProcessContext): Promise<RunningRole> {
  const db = createDataSource({
    url: config.database.url,
    poolSize: config.database.poolSize,
    applicationName: 'orderflow-api',
  });
  await db.initialize();
  if (config.jwt.algorithm === 'HS256' && !config.jwt.secret) {
    logger.warn('JWT_SECRET is not set: using a random secret for this process (tokens die with it)');
  }
  const ordersCreated = new Counter({
    name: 'orderflow_orders_created_total',
    help: 'POST /v1/orders outcomes: accepted, replayed (idempotency key) or invalid',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const { app, drain, closeStreams } = createApp(
    { config, db, logger, tokens: createTokenService(config.jwt), metrics: { ordersCreated } },
    { registry, readiness: { database: () => pingDatabase(db) } },
  );
  const server = createHttpServer(app.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.http.port, config.http.host, resolve);
  });
  const purge = setInterval(() => {
    purgeIdempotencyKeys(db, IDEMPOTENCY_RETENTION_HOURS).then(
      (n) => n > 0 && logger.info({ purged: n }, 'expired idempotency keys removed'),
      (err: unknown) => logger.warn({ err }, 'idempotency key purge failed'),
    );
  }, PURGE_EVERY_MS);
  purge.unref();
  logger.info({ url: `http://${config.http.host}:${config.http.port}` }, 'API listening');

  return {
    servesOwnProbes: true,
    readiness: {},
    shutdown: [
      { name: 'drain readiness', run: drain },
      // Before closing the server: an open event stream is a request that never finishes by itself.
      { name: 'end event streams', run: closeStreams },
      {
        name: 'stop accepting and finish in-flight requests',
        run: () => {
          clearInterval(purge);
          return closeServer(server);
        },
      },
      { name: 'database pool', run: () => db.destroy() },
    ],
  };
}
