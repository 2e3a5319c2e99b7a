import type { Command } from 'commander';
import { startApi } from '../../api/server';
import { runRole } from '../process';

/** The long-running roles, one subcommand each. */
export function registerRoles(program: Command): void {
  program
    .command('api')
    .description('serve the HTTP API (PORT, default 8080)')
    .action(() => runRole('api', startApi));
}
