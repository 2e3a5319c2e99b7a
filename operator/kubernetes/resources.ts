import { apiStatus, k8s, mergePatch, type KubeConfig } from '../../lib/adapters/kubernetes/client';
import { removalCosts } from '../../lib/scale-down';
import { scrapeHeld } from '../../lib/telemetry/held';
import type { Logger } from '../../lib/telemetry/logger';
import type { ScaleTarget } from '../reconciler';

export const GROUP = 'orderflow.io';
export const VERSION = 'v1alpha1';
export const PLURAL = 'workerautoscalers';
export const KIND = 'WorkerAutoscaler';
export const COMPONENT = 'orderflow-operator';

/** The API clients the operator uses, made once per KubeConfig. */
export function kubernetesApis(kc: KubeConfig) {
  return {
    custom: kc.makeApiClient(k8s.CustomObjectsApi),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    core: kc.makeApiClient(k8s.CoreV1Api),
    coordination: kc.makeApiClient(k8s.CoordinationV1Api),
  };
}

export type KubernetesApis = ReturnType<typeof kubernetesApis>;

/** The annotation the ReplicaSet controller reads to choose which pods to delete first (lowest first). */
export const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

/** The port a worker pod serves /metrics on: its container port named `metrics`. */
function metricsPort(pod: k8s.V1Pod): number | undefined {
  for (const container of pod.spec?.containers ?? [])
    for (const port of container.ports ?? []) if (port.name === 'metrics') return port.containerPort;
  return undefined;
}

const isReady = (pod: k8s.V1Pod) =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/**
 * A Deployment through its scale subresource: the operator needs no read access to Deployments
 * themselves, and the scale subresource is what `kubectl scale` and the HPA use. Its pods (found by
 * the selector the scale subresource reports) are read for the tasks they hold, from their own
 * /metrics; before a scale-down each pod is marked with a deletion cost equal to that, so the
 * ReplicaSet removes idle pods first.
 */
export function deploymentScaleTarget(
  apis: KubernetesApis,
  namespace: string,
  name: string,
  logger: Logger,
): ScaleTarget {
  const readScale = async () => {
    try {
      return await apis.apps.readNamespacedDeploymentScale({ name, namespace });
    } catch (err) {
      if (apiStatus(err) === 404) return undefined;
      throw err;
    }
  };
  /** Each running pod with what it holds: undefined for a Ready pod whose metrics cannot be read. */
  const heldByPod = async (selector: string | undefined) => {
    if (!selector) return [];
    const pods = await apis.core.listNamespacedPod({ namespace, labelSelector: selector });
    const running = pods.items.filter((p) => p.status?.phase === 'Running' && p.status.podIP);
    return Promise.all(
      running.map(async (pod) => {
        const port = metricsPort(pod);
        const held = await (
          port
            ? scrapeHeld(`http://${pod.status!.podIP}:${port}/metrics`)
            : Promise.reject(new Error('no metrics port'))
        ).catch(() => (isReady(pod) ? undefined : 0));
        return { pod, held };
      }),
    );
  };
  const markDeletionCosts = async (selector: string | undefined) => {
    const pods = await heldByPod(selector);
    const costs = removalCosts(pods.map((p) => p.held));
    await Promise.all(
      pods.map(({ pod }, i) => {
        const cost = String(costs[i]);
        if (pod.metadata?.annotations?.[POD_DELETION_COST] === cost) return undefined;
        return apis.core.patchNamespacedPod(
          {
            name: pod.metadata!.name!,
            namespace,
            body: { metadata: { annotations: { [POD_DELETION_COST]: cost } } },
            fieldManager: COMPONENT,
          },
          mergePatch(),
        );
      }),
    );
  };
  return {
    name: `deployment/${name}`,
    async replicas() {
      const scale = await readScale();
      return scale ? (scale.spec?.replicas ?? 0) : undefined;
    },
    async scale(replicas) {
      const current = await readScale();
      if (replicas < (current?.spec?.replicas ?? 0)) {
        // Best effort: without the costs (say, no pod access in that namespace) the ReplicaSet
        // chooses alone, as it would without this operator.
        await markDeletionCosts(current?.status?.selector).catch((err: unknown) =>
          logger.warn({ err, deployment: name, namespace }, 'could not mark pod deletion costs'),
        );
      }
      await apis.apps.patchNamespacedDeploymentScale(
        { name, namespace, body: { spec: { replicas } }, fieldManager: COMPONENT },
        mergePatch(),
      );
    },
    async held() {
      const pods = await heldByPod((await readScale())?.status?.selector);
      const unreadable = pods.filter((p) => p.held === undefined).map((p) => p.pod.metadata?.name);
      if (unreadable.length > 0) throw new Error(`metrics not readable: ${unreadable.join(', ')}`);
      return pods.reduce((sum, p) => sum + (p.held ?? 0), 0);
    },
  };
}
