import { spawnSync } from 'node:child_process';
import { createDataSource } from '../../lib/adapters/postgres/data-source';
import { testConfig } from './services';

/** The suite needs the real services (`npm test` starts them; this catches a bare `npx jest`) and a migrated test database. */
export default async function globalSetup(): Promise<void> {
  if (
    process.env.ORDERFLOW_STACK !== 'external' &&
    spawnSync('bash', ['scripts/stack.sh', 'check'], { stdio: 'ignore' }).status !== 0
  ) {
    const up = spawnSync('bash', ['scripts/stack.sh', 'up'], { stdio: 'inherit' });
    if (up.status !== 0) throw new Error('the local stack did not come up; see above');
  }
  const db = createDataSource({ url: testConfig().database.url, poolSize: 1, applicationName: 'jest-setup' });
  await db.initialize();
  await db.runMigrations({ transaction: 'each' });
  await db.destroy();
}
