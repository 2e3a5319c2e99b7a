#!/usr/bin/env node
import { Command } from 'commander';
import { registerCommands } from './commands';

const program = new Command()
  .name('orderflow')
  .description('Orderflow: asynchronous order processing on PostgreSQL, Kafka and RabbitMQ')
  .showHelpAfterError()
  .enablePositionalOptions();

registerCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`orderflow: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
