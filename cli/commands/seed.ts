import type { Command } from 'commander';
import { createDataSource } from '../../lib/adapters/postgres/data-source';
import { DEMO_CUSTOMER, DEMO_MERCHANT, DEMO_PASSWORD, seedDemoData } from '../demo-data';
import { configOrExit } from '../../lib/process';

export function registerSeed(program: Command): void {
  program
    .command('seed')
    .description('create the demo merchants, products and customer (safe to run again)')
    .action(async () => {
      const config = configOrExit();
      const db = createDataSource({
        url: config.database.url,
        poolSize: 2,
        applicationName: 'orderflow-seed',
      });
      await db.initialize();
      try {
        const { merchantIds } = await seedDemoData(db);
        process.stdout.write(
          `demo data ready: ${merchantIds.length} merchants\n` +
            `  customer ${DEMO_CUSTOMER} / ${DEMO_PASSWORD}\n  merchant ${DEMO_MERCHANT} / ${DEMO_PASSWORD}\n`,
        );
      } finally {
        await db.destroy();
      }
    });
}
