import type { Command } from 'commander';
import { createDataSource } from '../../lib/adapters/postgres/data-source';
import { createLogger } from '../../lib/telemetry/logger';
import { configOrExit } from '../../lib/process';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations (or revert the last ones with --down)')
    .option('--down [count]', 'revert the last COUNT migrations (default 1)')
    .action(async (options: { down?: string | boolean }) => {
      const config = configOrExit();
      const logger = createLogger({ role: 'migrate', level: config.logLevel });
      const dataSource = createDataSource({
        url: config.database.url,
        poolSize: 1,
        applicationName: 'orderflow-migrate',
      });
      await dataSource.initialize();
      try {
        if (options.down !== undefined) {
          const count = options.down === true ? 1 : Number(options.down);
          if (!Number.isInteger(count) || count < 1) throw new Error('--down takes a positive integer');
          for (let i = 0; i < count; i++) await dataSource.undoLastMigration({ transaction: 'each' });
          logger.info({ count }, 'migrations reverted');
        } else {
          const applied = await dataSource.runMigrations({ transaction: 'each' });
          logger.info(
            { applied: applied.map((m) => m.name) },
            applied.length ? 'migrations applied' : 'schema up to date',
          );
        }
      } finally {
        await dataSource.destroy();
      }
    });
}
