import { spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import { createDataSource } from '../../lib/adapters/postgres/data-source';
import { maskSecrets } from '../../lib/mask';
import { configOrExit } from '../process';
import { stackScript } from '../paths';
import { localRoles } from '../roles';
import { Supervisor } from '../supervisor/supervisor';

function stack(command: 'up' | 'down' | 'status'): boolean {
  return (
    spawnSync('bash', [stackScript(), command], { stdio: command === 'status' ? 'ignore' : 'inherit' })
      .status === 0
  );
}

function stackRunning(): boolean {
  return spawnSync('bash', [stackScript(), 'check'], { stdio: 'ignore' }).status === 0;
}

export function registerUp(program: Command): void {
  program
    .command('up')
    .description(
      'bring up PostgreSQL, RabbitMQ and Kafka, migrate, and run every Orderflow process under a supervisor',
    )
    .option('--no-stack', 'use services that are already running (DATABASE_URL, KAFKA_BROKERS, RABBITMQ_URL)')
    .option('--keep-stack', 'leave the local services running on exit')
    .action(async (options: { stack: boolean; keepStack?: boolean }) => {
      const config = configOrExit();
      let startedStack = false;
      if (options.stack) {
        startedStack = !stackRunning();
        if (!stack('up')) throw new Error('the local stack did not come up (see the messages above)');
      }
      const dataSource = createDataSource({
        url: config.database.url,
        poolSize: 1,
        applicationName: 'orderflow-up',
      });
      await dataSource.initialize();
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      await dataSource.destroy();
      process.stdout.write(
        `migrations: ${applied.length ? applied.map((m) => m.name).join(', ') : 'up to date'}\n`,
      );

      const supervisor = new Supervisor();
      for (const role of localRoles(config, [process.execPath, process.argv[1] ?? ''])) supervisor.add(role);
      printTable(
        supervisor,
        config.database.url,
        config.rabbitmq.managementUrl,
        config.kafka.brokers.join(','),
      );

      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stdout.write(`\n${signal}: stopping every process...\n`);
        await supervisor.stop();
        if (startedStack && !options.keepStack) stack('down');
        process.stdout.write('stopped.\n');
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    });
}

function printTable(supervisor: Supervisor, databaseUrl: string, rabbitUi: string, kafka: string): void {
  const rows = supervisor
    .list()
    .map((i) => `  ${i.name.padEnd(16)} pid ${String(i.pid ?? '-').padEnd(8)} ${i.description}`);
  process.stdout.write(
    [
      '',
      'Orderflow is running:',
      ...rows,
      '',
      `  PostgreSQL        ${maskSecrets(databaseUrl)}`,
      `  Kafka             ${kafka}`,
      `  RabbitMQ UI       ${maskSecrets(rabbitUi)}`,
      '',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}
