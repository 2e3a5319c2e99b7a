import type { Logger } from '../../lib/telemetry/logger';
import { mergePatch } from '../../lib/adapters/kubernetes/client';
import type { ReconcileResult } from '../reconciler';
import type { ObservedAutoscaler } from '../runner';
import type { AutoscalerStatus, Condition } from '../status';
import { COMPONENT, GROUP, KIND, PLURAL, VERSION, type KubernetesApis } from './resources';

/**
 * Writes what a reconcile found back to Kubernetes: the status through the /status subresource (only
 * when it changed, so steady state costs no writes), a Normal Event for every scale change, and a
 * Warning Event when the autoscaler stops being Ready or enters fallback.
 */
export function kubernetesReporter(apis: KubernetesApis, identity: string, logger: Logger) {
  const written = new Map<string, string>();
  const event = async (
    wa: ObservedAutoscaler,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ) => {
    const now = new Date();
    try {
      await apis.core.createNamespacedEvent({
        namespace: wa.namespace,
        body: {
          metadata: { generateName: `${wa.name}.`, namespace: wa.namespace },
          involvedObject: {
            apiVersion: `${GROUP}/${VERSION}`,
            kind: KIND,
            name: wa.name,
            namespace: wa.namespace,
            uid: wa.uid,
          },
          type,
          reason,
          message,
          source: { component: COMPONENT },
          reportingComponent: COMPONENT,
          reportingInstance: identity,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    } catch (err) {
      logger.warn({ err, autoscaler: `${wa.namespace}/${wa.name}`, reason }, 'could not record an Event');
    }
  };

  return async (wa: ObservedAutoscaler, result: ReconcileResult): Promise<void> => {
    // By uid: a deleted and re-created autoscaler of the same name starts with no status written.
    const key = wa.uid ?? `${wa.namespace}/${wa.name}`;
    if (result.scaled) {
      const { from, to, direction, reason } = result.scaled;
      const target = wa.spec.scaleTargetRef.name;
      await event(
        wa,
        'Normal',
        direction === 'up' ? 'ScaledUp' : 'ScaledDown',
        `${target}: ${from} -> ${to} (${reason})`,
      );
    }
    for (const type of ['Ready', 'Fallback'] as const) {
      const now = find(result.status, type);
      const bad = type === 'Ready' ? 'False' : 'True';
      if (now?.status === bad && find(result.previous, type)?.status !== bad)
        await event(wa, 'Warning', now.reason, now.message);
    }
    const body = JSON.stringify(result.status);
    if (written.get(key) === body) return;
    await apis.custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        namespace: wa.namespace,
        plural: PLURAL,
        name: wa.name,
        body: { status: result.status },
        fieldManager: COMPONENT,
      },
      mergePatch(),
    );
    written.set(key, body);
  };
}

const find = (status: AutoscalerStatus | undefined, type: Condition['type']) =>
  status?.conditions.find((c) => c.type === type);
