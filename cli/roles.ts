import type { Config } from '../lib/config';
import type { RoleSpec } from './supervisor/supervisor';

/** Ports of the metrics/health servers of the local roles (the API has its own on PORT). */
const OPS_PORTS = { relay: 9101, dispatcher: 9102, worker: 9110 } as const;

/** The long-running roles `orderflow up` supervises, each run as `orderflow <role>`. */
export function localRoles(config: Config, entry: string[], env: Record<string, string> = {}): RoleSpec[] {
  const command = entry[0] ?? process.execPath;
  const base = entry.slice(1);
  const role = (name: string, port: (index: number) => number, args: string[] = []): RoleSpec => ({
    role: name,
    command,
    args: [...base, name, ...args],
    env: (index) => ({ ...env, PORT: String(port(index)) }),
    describe: (index) => `http://${config.http.host}:${port(index)}${name === 'api' ? '' : '/metrics'}`,
  });
  return [
    role('api', () => config.http.port),
    role('relay', () => OPS_PORTS.relay),
    role('dispatcher', () => OPS_PORTS.dispatcher),
    role('worker', (index) => OPS_PORTS.worker + index - 1),
  ];
}
