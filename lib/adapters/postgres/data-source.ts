import 'reflect-metadata';
import { DataSource, type EntitySchema, type MixedList } from 'typeorm';
import { Connection } from './connection';
import { migrations } from './migrations';

/** Options shared by every process; the schema only ever changes through migrations. */
export function createDataSource(options: {
  url: string;
  poolSize: number;
  applicationName: string;
  entities?: MixedList<string | EntitySchema | (new () => unknown)>;
}): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    entities: options.entities ?? [],
    migrations,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    extra: {
      Client: Connection,
      max: options.poolSize,
      application_name: options.applicationName,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30000,
      statement_timeout: 30000,
    },
  });
}

/** Readiness: the database answers a trivial query. */
export async function pingDatabase(dataSource: DataSource): Promise<void> {
  await dataSource.query('SELECT 1');
}
