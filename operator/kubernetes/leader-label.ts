import { mergePatch } from '../../lib/adapters/kubernetes/client';
import type { Logger } from '../../lib/telemetry/logger';
import { COMPONENT, type KubernetesApis } from './resources';

/**
 * The label that says which operator pod holds the Lease. The chart's `<operator>-leader` Service
 * selects it, so the API (and a person with port-forward) reaches the instance that measures: a
 * standby answers /v1/autoscalers with an empty list.
 */
export const LEADER_LABEL = 'orderflow.io/operator-leader';

/** Best effort: a failure is logged and the next change of leadership writes the label again. */
export async function labelLeader(
  apis: KubernetesApis,
  pod: { name: string | undefined; namespace: string },
  leader: boolean,
  logger: Logger,
): Promise<void> {
  if (!pod.name) return;
  try {
    await apis.core.patchNamespacedPod(
      {
        name: pod.name,
        namespace: pod.namespace,
        body: { metadata: { labels: { [LEADER_LABEL]: String(leader) } } },
        fieldManager: COMPONENT,
      },
      mergePatch(),
    );
  } catch (err) {
    logger.warn({ err, pod: pod.name, leader }, 'could not label the operator pod');
  }
}
