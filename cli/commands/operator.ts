import { join } from 'node:path';
import type { Command } from 'commander';
import { defaultKubeConfig, k8s } from '../../lib/adapters/kubernetes/client';
import { kubernetesOperator } from '../../operator/kubernetes/mode';
import { GROUP, PLURAL, VERSION } from '../../operator/kubernetes/resources';
import { localOperator } from '../../operator/local/mode';
import type { AutoscalerView } from '../../operator/runner';
import { formatStatusTable } from '../../operator/status-table';
import { projectRoot } from '../paths';
import { configOrExit, runRole } from '../../lib/process';

export const defaultAutoscalerPath = () => join(projectRoot(), 'k8s', 'examples');

export function registerOperator(program: Command): void {
  program
    .command('operator')
    .description(
      'scale workers from Kafka consumer lag and RabbitMQ queue depth (WorkerAutoscaler): Deployments ' +
        'through the Kubernetes API, or with --local the roles of `orderflow up`',
    )
    .option(
      '--local [path]',
      'local mode: WorkerAutoscaler YAML from a folder or file (default: k8s/examples)',
    )
    .option(
      '--supervisor <url>',
      'local mode: the control endpoint of `orderflow up` (default: SUPERVISOR_PORT)',
    )
    .action((options: { local?: string | true; supervisor?: string }) => {
      if (!options.local) return runRole('operator', kubernetesOperator());
      const path = options.local === true ? defaultAutoscalerPath() : options.local;
      const supervisor = options.supervisor ?? `http://127.0.0.1:${configOrExit().supervisorPort}`;
      return runRole('operator', localOperator(path, supervisor));
    });

  program
    .command('status')
    .description("each autoscaler's triggers, current and desired replicas")
    .option('--url <url>', 'the local operator (default: http://127.0.0.1:OPERATOR_PORT)')
    .option('--kubernetes', 'read the WorkerAutoscalers of the current kubectl context instead')
    .option('-n, --namespace <ns>', 'with --kubernetes: one namespace (default: all)')
    .option('--json', 'print JSON for scripts')
    .action(async (options: { url?: string; kubernetes?: boolean; namespace?: string; json?: boolean }) => {
      const url = options.url ?? `http://127.0.0.1:${configOrExit().operator.localPort}`;
      const views = options.kubernetes ? await clusterViews(options.namespace) : await localViews(url);
      process.stdout.write(options.json ? JSON.stringify(views, null, 2) + '\n' : formatStatusTable(views));
    });
}

async function localViews(url: string): Promise<AutoscalerView[]> {
  let res: Response;
  try {
    res = await fetch(`${url.replace(/\/$/, '')}/v1/autoscalers`, { signal: AbortSignal.timeout(5000) });
  } catch {
    throw new Error(`no operator answers at ${url} (is \`npm start\` running?)`);
  }
  if (!res.ok) throw new Error(`the operator at ${url} answered ${res.status}`);
  return ((await res.json()) as { autoscalers: AutoscalerView[] }).autoscalers;
}

async function clusterViews(namespace: string | undefined): Promise<AutoscalerView[]> {
  const custom = defaultKubeConfig().makeApiClient(k8s.CustomObjectsApi);
  const list = (await (namespace
    ? custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL })
    : custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL }))) as {
    items: {
      metadata: { name: string; namespace: string };
      spec: { scaleTargetRef: { name: string }; minReplicas?: number; maxReplicas: number };
      status?: AutoscalerView['status'];
    }[];
  };
  return list.items.map((item) => ({
    namespace: item.metadata.namespace,
    name: item.metadata.name,
    target: item.spec.scaleTargetRef.name,
    minReplicas: item.spec.minReplicas ?? 0,
    maxReplicas: item.spec.maxReplicas,
    status: item.status,
  }));
}
