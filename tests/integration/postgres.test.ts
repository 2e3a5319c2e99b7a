import { Client } from 'pg';
import { createDataSource } from '../../lib/adapters/postgres/data-source';
import { migrations } from '../../lib/adapters/postgres/migrations';
import { testConfig, uniqueName } from '../support/services';

/** Migrations run against a database created for this test alone, so it starts truly empty. */
describe('PostgreSQL migrations', () => {
  const base = testConfig().database.url;
  const dbName = uniqueName('migrations').replace(/-/g, '_');
  const url = Object.assign(new URL(base), { pathname: `/${dbName}` }).toString();
  const admin = new Client({ connectionString: base });

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
  });
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  });

  const tables = async (ds: ReturnType<typeof createDataSource>) =>
    (
      (await ds.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)) as {
        tablename: string;
      }[]
    ).map((r) => r.tablename);

  it('runs every migration up and back down on an empty database', async () => {
    const ds = createDataSource({ url, poolSize: 1, applicationName: 'test-migrations' });
    await ds.initialize();
    try {
      expect(await tables(ds)).toEqual([]);
      const applied = await ds.runMigrations({ transaction: 'each' });
      expect(applied.map((m) => m.name)).toEqual(migrations.map((m) => m.name));
      expect(await tables(ds)).toEqual(
        expect.arrayContaining([
          'orders',
          'order_items',
          'order_history',
          'outbox',
          'inbox',
          'payments',
          'users',
        ]),
      );
      expect(await ds.runMigrations()).toEqual([]); // idempotent

      for (let i = 0; i < migrations.length; i++) await ds.undoLastMigration({ transaction: 'each' });
      expect(await tables(ds)).toEqual(['schema_migrations']);
      const functions = await ds.query(`SELECT 1 FROM pg_proc WHERE proname = 'notify_outbox'`);
      expect(functions).toHaveLength(0);

      // And up again after down: the down migration left nothing behind that blocks a re-run.
      expect((await ds.runMigrations()).length).toBe(migrations.length);
    } finally {
      await ds.destroy();
    }
  });
});
