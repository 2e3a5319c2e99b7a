import type { Config } from '../lib/config';
import { STAGES } from '../lib/domain/pipeline';
import { scrapeHeld } from '../lib/telemetry/held';
import type { RoleSpec } from './supervisor/supervisor';

/**
 * Ports of the metrics/health servers of the local roles (the API has its own on PORT). Each role
 * that the operator scales gets a block of 20, one port per instance.
 */
const OPS_PORTS = { relay: 9101, dispatcher: 9120, firstWorker: 9140, block: 20 } as const;

export interface LocalRoleOptions {
  /** `node dist/cli/main.js` (or the equivalent) that runs a subcommand. */
  entry: string[];
  env?: Record<string, string>;
  /** Run the operator in local mode against this supervisor control URL. */
  operator?: { supervisorUrl: string; autoscalers?: string };
}

/**
 * The long-running roles `orderflow up` supervises, each run as `orderflow <role>`. Workers run one
 * role per stage, named like the chart's Deployments (`worker-pay` ~ `orderflow-worker-pay`), so the
 * same WorkerAutoscalers scale them locally and on Kubernetes. The pipeline's roles (relay, dispatcher,
 * workers) run in the background, below the API's CPU priority: on one machine the API answers first.
 */
export function localRoles(config: Config, options: LocalRoleOptions): RoleSpec[] {
  const command = options.entry[0] ?? process.execPath;
  const base = options.entry.slice(1);
  const role = (name: string, port: (index: number) => number, args: string[] = []): RoleSpec => ({
    role: name,
    command,
    args: [...base, ...args],
    env: (index) => ({ ...options.env, PORT: String(port(index)) }),
    describe: (index) => `http://${config.http.host}:${port(index)}${name === 'api' ? '' : '/metrics'}`,
  });
  const block = (first: number) => (index: number) => first + ((index - 1) % OPS_PORTS.block);
  return [
    role('api', () => config.http.port, ['api']),
    { ...role('relay', (index) => OPS_PORTS.relay + index - 1, ['relay']), background: true },
    { ...role('dispatcher', block(OPS_PORTS.dispatcher), ['dispatcher']), background: true },
    ...STAGES.map((stage, i) => {
      const port = block(OPS_PORTS.firstWorker + i * OPS_PORTS.block);
      return {
        ...role(`worker-${stage}`, port, ['worker', '--stages', stage]),
        background: true,
        held: (index: number) => scrapeHeld(`http://${config.http.host}:${port(index)}/metrics`),
      };
    }),
    ...(options.operator
      ? [
          role('operator', () => config.operator.localPort, [
            'operator',
            '--local',
            ...(options.operator.autoscalers ? [options.operator.autoscalers] : []),
            '--supervisor',
            options.operator.supervisorUrl,
          ]),
        ]
      : []),
  ];
}
