/**
 * The autoscaling decision, as a pure function: readings in, replicas out. No I/O, no clock of its
 * own; the reconciler feeds it the readings, the recent recommendations and the time.
 */

export interface TriggerReading {
  name: string;
  /** The measured backlog, or undefined when the metric source failed. */
  value: number | undefined;
  /** Backlog one replica is expected to handle (lagPerReplica / messagesPerReplica). */
  perReplica: number;
  /** Below or at this value the trigger does not ask for any replica. */
  activation: number;
  /** Kafka: more consumers than partitions would sit idle, so the trigger never asks for more. */
  cap?: number;
}

export interface Direction {
  /** The decision considers the recommendations of this many seconds (0: only the current one). */
  stabilizationWindowSeconds: number;
  /** Replicas added or removed in one step at most (undefined: no limit). */
  maxStep?: number;
}

export interface DecisionInput {
  now: number;
  minReplicas: number;
  maxReplicas: number;
  currentReplicas: number;
  triggers: TriggerReading[];
  /** Earlier recommendations (before stabilization), newest last. */
  history: { at: number; replicas: number }[];
  behavior: { scaleUp: Direction; scaleDown: Direction };
  fallback?: { replicas: number; afterFailures: number };
  /** Consecutive reconciles (including this one) in which some source failed. */
  consecutiveFailures: number;
  /**
   * Why more replicas would bring no capacity right now, if they would not: locally, a machine with
   * no idle CPU (a new process there only adds its own start-up to the backlog it was started for).
   * A scale-up is then held at the current replicas; scaling down is not affected.
   */
  growthHeld?: string;
}

export interface Decision {
  desiredReplicas: number;
  /** What the triggers ask for now, before stabilization and step limits (recorded in history). */
  recommendation: number;
  active: boolean;
  /** The result was cut by min/max or the step limit. */
  limited: boolean;
  fallback: boolean;
  reason: string;
}

const clamp = (n: number, min: number, max: number) => Math.min(max, Math.max(min, n));

/** Replicas one trigger asks for: ceil(backlog / per replica), capped; 0 while not active. */
export function triggerReplicas(t: TriggerReading & { value: number }): number {
  if (t.value <= t.activation) return 0;
  const wanted = Math.max(1, Math.ceil(t.value / t.perReplica));
  return t.cap === undefined ? wanted : Math.min(wanted, t.cap);
}

export function desiredReplicas(input: DecisionInput): Decision {
  const failed = input.triggers.filter((t) => t.value === undefined);
  if (failed.length > 0) {
    const names = failed.map((t) => t.name).join(', ');
    // An outage of a broker is not an empty backlog: never scale down because a source is silent.
    if (input.fallback && input.consecutiveFailures >= input.fallback.afterFailures) {
      const replicas = clamp(input.fallback.replicas, input.minReplicas, input.maxReplicas);
      return {
        desiredReplicas: replicas,
        recommendation: replicas,
        active: true,
        limited: false,
        fallback: true,
        reason: `fallback: ${names} failing`,
      };
    }
    return {
      desiredReplicas: input.currentReplicas,
      recommendation: input.currentReplicas,
      active: true,
      limited: false,
      fallback: false,
      reason: `keeping ${input.currentReplicas}: ${names} failing`,
    };
  }
  const readings = input.triggers as (TriggerReading & { value: number })[];
  const asked = readings.map(triggerReplicas);
  const active = asked.some((n) => n > 0);
  const raw = Math.max(0, ...asked);
  const recommendation = clamp(raw, input.minReplicas, input.maxReplicas);
  let limited = recommendation !== raw;

  // Stabilization: scaling down takes the highest recommendation of its window, scaling up the lowest.
  const inWindow = (seconds: number) => [
    ...input.history.filter((h) => h.at > input.now - seconds * 1000).map((h) => h.replicas),
    recommendation,
  ];
  let desired = recommendation;
  if (recommendation < input.currentReplicas) {
    desired = Math.min(
      input.currentReplicas,
      Math.max(...inWindow(input.behavior.scaleDown.stabilizationWindowSeconds)),
    );
  } else if (recommendation > input.currentReplicas) {
    desired = Math.max(
      input.currentReplicas,
      Math.min(...inWindow(input.behavior.scaleUp.stabilizationWindowSeconds)),
    );
  }
  const step =
    desired > input.currentReplicas ? input.behavior.scaleUp.maxStep : input.behavior.scaleDown.maxStep;
  if (step !== undefined && Math.abs(desired - input.currentReplicas) > step) {
    desired = input.currentReplicas + Math.sign(desired - input.currentReplicas) * step;
    limited = true;
  }
  const why = readings.map((t, i) => `${t.name}=${t.value}→${asked[i]}`).join(', ');
  if (desired > input.currentReplicas && input.growthHeld !== undefined) {
    return {
      desiredReplicas: input.currentReplicas,
      recommendation,
      active,
      limited: true,
      fallback: false,
      reason: `holding ${input.currentReplicas}: ${input.growthHeld} (${why})`,
    };
  }
  return { desiredReplicas: desired, recommendation, active, limited, fallback: false, reason: why };
}
