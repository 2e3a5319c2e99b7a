import type { Config } from '../lib/config';
import type { RoleSpec } from './supervisor/supervisor';

/** The long-running roles `orderflow up` supervises, each run as `orderflow <role>`. */
export function localRoles(config: Config, entry: string[], env: Record<string, string> = {}): RoleSpec[] {
  const run = (role: string, args: string[] = []) => ({
    command: entry[0] ?? process.execPath,
    args: [...entry.slice(1), role, ...args],
  });
  const api: RoleSpec = {
    role: 'api',
    ...run('api'),
    env: () => ({ ...env, PORT: String(config.http.port) }),
    describe: () => `http://${config.http.host}:${config.http.port}`,
  };
  return [api];
}
