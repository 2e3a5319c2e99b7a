import type { Decision } from './desired-replicas';

/**
 * What a WorkerAutoscaler reports: the shape of `.status` in Kubernetes and of `orderflow status` in
 * local mode. Conditions follow the Kubernetes convention: a condition's lastTransitionTime moves only
 * when its status flips, so `kubectl describe` shows since when something has been true.
 */

export type ConditionType = 'Ready' | 'Active' | 'ScalingLimited' | 'Fallback';

export interface Condition {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export interface TriggerStatus {
  name: string;
  type: 'kafka' | 'rabbitmq';
  /** The last reading; absent when the source failed. */
  value?: number;
  /** Replicas this trigger alone asks for. */
  replicas?: number;
  /** Where the value was read, for a source with more than one way (`amqp+workers`, `management`). */
  source?: string;
  error?: string;
}

export interface AutoscalerStatus {
  currentReplicas: number;
  desiredReplicas: number;
  triggers: TriggerStatus[];
  lastScaleTime?: string;
  observedGeneration?: number;
  conditions: Condition[];
}

/** The outcome of one reconcile, before it is turned into conditions. */
export type Outcome =
  | { kind: 'decided'; decision: Decision; failingSources: string[] }
  | { kind: 'target-missing'; message: string };

type Wanted = Omit<Condition, 'lastTransitionTime'>;

function wantedConditions(outcome: Outcome): Wanted[] {
  if (outcome.kind === 'target-missing') {
    return [
      { type: 'Ready', status: 'False', reason: 'TargetNotFound', message: outcome.message },
      { type: 'Active', status: 'Unknown', reason: 'TargetNotFound', message: 'no target to scale' },
      { type: 'ScalingLimited', status: 'False', reason: 'TargetNotFound', message: 'no target to scale' },
      { type: 'Fallback', status: 'False', reason: 'TargetNotFound', message: 'no target to scale' },
    ];
  }
  const { decision, failingSources } = outcome;
  const failing = failingSources.length > 0;
  return [
    failing
      ? {
          type: 'Ready',
          status: 'False',
          reason: 'MetricSourceFailing',
          message: `failing: ${failingSources.join(', ')}`,
        }
      : { type: 'Ready', status: 'True', reason: 'Reconciled', message: decision.reason },
    decision.active
      ? { type: 'Active', status: 'True', reason: 'BacklogAboveActivation', message: decision.reason }
      : { type: 'Active', status: 'False', reason: 'BacklogAtOrBelowActivation', message: decision.reason },
    decision.limited
      ? {
          type: 'ScalingLimited',
          status: 'True',
          reason: 'LimitedByBoundsOrStep',
          message: `recommendation ${decision.recommendation}, desired ${decision.desiredReplicas}`,
        }
      : { type: 'ScalingLimited', status: 'False', reason: 'WithinLimits', message: 'not limited' },
    decision.fallback
      ? { type: 'Fallback', status: 'True', reason: 'FallbackReplicas', message: decision.reason }
      : { type: 'Fallback', status: 'False', reason: 'SourcesHealthy', message: 'not in fallback' },
  ];
}

/** The conditions after this reconcile, keeping each one's transition time while its status holds. */
export function nextConditions(previous: readonly Condition[], outcome: Outcome, now: Date): Condition[] {
  return wantedConditions(outcome).map((wanted) => {
    const before = previous.find((c) => c.type === wanted.type);
    const lastTransitionTime =
      before && before.status === wanted.status ? before.lastTransitionTime : now.toISOString();
    return { ...wanted, lastTransitionTime };
  });
}
