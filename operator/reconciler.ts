import { desiredReplicas, triggerReplicas, type Decision, type TriggerReading } from './desired-replicas';
import type { MetricSource } from './sources/source';
import type { WorkerAutoscalerSpec } from './spec';
import { nextConditions, type AutoscalerStatus, type Outcome, type TriggerStatus } from './status';

/** What gets scaled: a Deployment through its scale subresource, or a role of the local supervisor. */
export interface ScaleTarget {
  readonly name: string;
  /** The replicas the target is set to; undefined when it does not exist. */
  replicas(): Promise<number | undefined>;
  /**
   * Scales to `replicas`; going down, the target removes the instances that hold the least work
   * first, where it can tell.
   */
  scale(replicas: number): Promise<void>;
  /** Tasks its instances hold right now (received, not yet settled), from their own metrics. */
  held?(): Promise<number>;
  /** Why more instances would bring no capacity right now (see DecisionInput.growthHeld). */
  growthHeld?(): Promise<string | undefined>;
}

/** One trigger of the spec with its metric source. */
export interface Trigger {
  type: 'kafka' | 'rabbitmq';
  source: MetricSource;
  perReplica: number;
  activation: number;
}

export interface ScaleChange {
  from: number;
  to: number;
  direction: 'up' | 'down';
  reason: string;
}

export interface ReconcileResult {
  status: AutoscalerStatus;
  /** The status of the reconcile before this one (or the one recorded before a restart). */
  previous: AutoscalerStatus | undefined;
  outcome: Outcome;
  /** Set when this reconcile changed the target's replicas. */
  scaled?: ScaleChange;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * The state one WorkerAutoscaler carries between polls (recent recommendations, consecutive source
 * failures, conditions) and one reconcile: read the target, measure every trigger, decide, scale.
 * Talking to Kubernetes or the supervisor happens behind ScaleTarget; writing status and events is the
 * caller's business, so this class works the same in both modes.
 */
export class Reconciler {
  private history: { at: number; replicas: number }[] = [];
  private consecutiveFailures = 0;
  private status: AutoscalerStatus | undefined;

  constructor(
    private spec: WorkerAutoscalerSpec,
    private triggers: Trigger[],
    private target: ScaleTarget,
    /** The status last written (Kubernetes), so conditions keep their transition times on restart. */
    initial?: AutoscalerStatus,
  ) {
    this.status = initial;
  }

  /** A new spec from the API server or a file; the recommendation history stays, it is about the load. */
  update(spec: WorkerAutoscalerSpec, triggers: Trigger[], target: ScaleTarget): void {
    if (target.name !== this.target.name) this.history = [];
    this.spec = spec;
    this.triggers = triggers;
    this.target = target;
  }

  get lastStatus(): AutoscalerStatus | undefined {
    return this.status;
  }

  async reconcile(now: Date, generation?: number): Promise<ReconcileResult> {
    const previous = this.status;
    const current = await this.target.replicas();
    if (current === undefined) {
      const outcome: Outcome = { kind: 'target-missing', message: `${this.target.name} does not exist` };
      return { outcome, previous, status: this.record(outcome, now, generation, 0, 0, []) };
    }
    const readings = await Promise.all(this.triggers.map((t) => this.read(t)));
    const failingSources = readings.filter((r) => r.error !== undefined).map((r) => r.reading.name);
    this.consecutiveFailures = failingSources.length > 0 ? this.consecutiveFailures + 1 : 0;
    const decision = desiredReplicas({
      now: now.getTime(),
      minReplicas: this.spec.minReplicas,
      maxReplicas: this.spec.maxReplicas,
      currentReplicas: current,
      triggers: readings.map((r) => r.reading),
      history: this.history,
      behavior: this.spec.behavior,
      fallback: this.spec.fallback,
      consecutiveFailures: this.consecutiveFailures,
      growthHeld: await this.target.growthHeld?.(),
    });
    this.remember(now.getTime(), decision);
    let scaled: ScaleChange | undefined;
    if (decision.desiredReplicas !== current) {
      await this.target.scale(decision.desiredReplicas);
      scaled = {
        from: current,
        to: decision.desiredReplicas,
        direction: decision.desiredReplicas > current ? 'up' : 'down',
        reason: decision.reason,
      };
    }
    const triggers = this.triggers.map((t, i): TriggerStatus => {
      const { reading, error, origin } = readings[i]!;
      return reading.value === undefined
        ? { name: reading.name, type: t.type, error }
        : {
            name: reading.name,
            type: t.type,
            value: reading.value,
            replicas: triggerReplicas({ ...reading, value: reading.value }),
            ...(origin ? { source: origin } : {}),
          };
    });
    const outcome: Outcome = { kind: 'decided', decision, failingSources };
    if (scaled) this.status = { ...(this.status ?? emptyStatus()), lastScaleTime: now.toISOString() };
    const status = this.record(outcome, now, generation, current, decision.desiredReplicas, triggers);
    return { outcome, previous, status, scaled };
  }

  private async read(
    trigger: Trigger,
  ): Promise<{ reading: TriggerReading; error?: string; origin?: string }> {
    const reading: TriggerReading = {
      name: trigger.source.name,
      value: undefined,
      perReplica: trigger.perReplica,
      activation: trigger.activation,
    };
    try {
      const value = await trigger.source.measure();
      const cap = await trigger.source.cap?.();
      return { reading: { ...reading, value, cap }, origin: trigger.source.origin?.() };
    } catch (err) {
      return { reading, error: message(err) };
    }
  }

  /** Keeps the recommendations the longer stabilization window can still look at. */
  private remember(at: number, decision: Decision): void {
    const { scaleUp, scaleDown } = this.spec.behavior;
    const keepMs = Math.max(scaleUp.stabilizationWindowSeconds, scaleDown.stabilizationWindowSeconds) * 1000;
    this.history = [
      ...this.history.filter((h) => h.at > at - keepMs),
      { at, replicas: decision.recommendation },
    ];
  }

  private record(
    outcome: Outcome,
    now: Date,
    generation: number | undefined,
    currentReplicas: number,
    desired: number,
    triggers: TriggerStatus[],
  ): AutoscalerStatus {
    const previous = this.status ?? emptyStatus();
    this.status = {
      currentReplicas: outcome.kind === 'decided' ? desired : currentReplicas,
      desiredReplicas: desired,
      triggers,
      ...(previous.lastScaleTime ? { lastScaleTime: previous.lastScaleTime } : {}),
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
      conditions: nextConditions(previous.conditions, outcome, now),
    };
    return this.status;
  }
}

function emptyStatus(): AutoscalerStatus {
  return { currentReplicas: 0, desiredReplicas: 0, triggers: [], conditions: [] };
}
