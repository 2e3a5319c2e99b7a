import { Option, type Command } from 'commander';
import { startApi } from '../../api/server';
import { STAGES, type Stage } from '../../lib/domain/pipeline';
import { startDispatcher } from '../../workers/dispatcher';
import { startRelay } from '../../workers/relay';
import { workerRole } from '../../workers/worker';
import { runRole } from '../../lib/process';

function parseStages(value: string): Stage[] {
  const stages = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = stages.filter((s) => !STAGES.includes(s as Stage));
  if (unknown.length > 0 || stages.length === 0)
    throw new Error(`--stages takes a list of ${STAGES.join(', ')}`);
  return stages as Stage[];
}

/** The long-running roles, one subcommand each. */
export function registerRoles(program: Command): void {
  program
    .command('api')
    .description('serve the HTTP API (PORT, default 8080)')
    .action(() => runRole('api', startApi));
  program
    .command('relay')
    .description('publish outbox events to Kafka (safe with any number of replicas)')
    .action(() => runRole('relay', startRelay));
  program
    .command('dispatcher')
    .description('turn order.created events from Kafka into validate tasks on RabbitMQ')
    .action(() => runRole('dispatcher', startDispatcher));
  program
    .command('worker')
    .description('run stage tasks from RabbitMQ (WORKER_PREFETCH tasks at a time per stage)')
    .addOption(
      new Option('--stages <list>', `stages to consume, comma-separated`)
        .default(STAGES.join(','))
        .argParser(parseStages),
    )
    .action((options: { stages: Stage[] | string }) => {
      const stages = typeof options.stages === 'string' ? parseStages(options.stages) : options.stages;
      return runRole(`worker`, workerRole(stages));
    });
}
