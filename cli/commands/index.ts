import type { Command } from 'commander';
import { registerLoad } from './load';
import { registerMigrate } from './migrate';
import { registerOperator } from './operator';
import { registerRoles } from './roles';
import { registerSeed } from './seed';
import { registerUp } from './up';

/** Every subcommand of `orderflow`; each module adds one command with its own --help. */
export function registerCommands(program: Command): void {
  registerUp(program);
  registerMigrate(program);
  registerRoles(program);
  registerSeed(program);
  registerLoad(program);
  registerOperator(program);
}
