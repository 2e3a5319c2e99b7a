import type { DataSource } from 'typeorm';
import type { Counter } from 'prom-client';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/telemetry/logger';
import type { TokenService } from './auth/tokens';

/** Everything a route needs, handed in once when the app is built. */
export interface ApiDeps {
  config: Config;
  db: DataSource;
  tokens: TokenService;
  logger: Logger;
  metrics: { ordersCreated: Counter<'outcome'> };
}
