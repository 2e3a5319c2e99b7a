import { InvalidArgumentError, type Command } from 'commander';
import { createDataSource } from '../../lib/adapters/postgres/data-source';
import { DEMO_ADMIN, DEMO_CUSTOMER, DEMO_MERCHANT, DEMO_PASSWORD, seedDemoData } from '../demo-data';
import { configOrExit } from '../../lib/process';

export function registerSeed(program: Command): void {
  program
    .command('seed')
    .description('create the demo merchants, products and customer (safe to run again)')
    .option(
      '--restock [units]',
      'also give every demo product at least this many units (default: its seeded stock)',
      (value: string) => {
        const units = Number(value);
        if (!Number.isInteger(units) || units < 0 || units > 1_000_000_000)
          throw new InvalidArgumentError('units must be a whole number from 0 to 1000000000');
        return units;
      },
    )
    .action(async (options: { restock?: number | true }) => {
      const config = configOrExit();
      const db = createDataSource({
        url: config.database.url,
        poolSize: 2,
        applicationName: 'orderflow-seed',
      });
      await db.initialize();
      try {
        const restockTo = options.restock === true ? 0 : options.restock;
        const { merchantIds, restocked } = await seedDemoData(db, { restockTo });
        process.stdout.write(
          `demo data ready: ${merchantIds.length} merchants` +
            (restockTo === undefined ? '' : `, ${restocked} products restocked`) +
            `\n` +
            `  customer ${DEMO_CUSTOMER} / ${DEMO_PASSWORD}\n  merchant ${DEMO_MERCHANT} / ${DEMO_PASSWORD}\n  admin    ${DEMO_ADMIN} / ${DEMO_PASSWORD} (the console's operations view)\n`,
        );
      } finally {
        await db.destroy();
      }
    });
}
