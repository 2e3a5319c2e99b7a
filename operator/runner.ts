import type { Logger } from '../lib/telemetry/logger';
import type { AutoscalerMetrics } from './metrics';
import { Reconciler, type ReconcileResult, type ScaleTarget, type Trigger } from './reconciler';
import type { WorkerAutoscalerSpec } from './spec';
import type { AutoscalerStatus } from './status';

/** One WorkerAutoscaler as the runner is given it: from the API server or from a YAML file. */
export interface ObservedAutoscaler {
  namespace: string;
  name: string;
  /** Kubernetes: the object's uid, for the Events that refer to it. */
  uid?: string;
  generation?: number;
  spec: WorkerAutoscalerSpec;
  /** The status already recorded, so conditions keep their transition times across restarts. */
  status?: AutoscalerStatus;
}

export interface RunnerDeps {
  /** The spec's triggers; the target is given so a depth trigger can count what its workers hold. */
  triggers(spec: WorkerAutoscalerSpec, target: ScaleTarget): Trigger[];
  target(namespace: string, spec: WorkerAutoscalerSpec): ScaleTarget;
  /** Called after every reconcile: write /status and Events (Kubernetes), nothing (local). */
  report?(autoscaler: ObservedAutoscaler, result: ReconcileResult): Promise<void>;
  metrics: AutoscalerMetrics;
  logger: Logger;
  now?: () => Date;
}

export interface AutoscalerView {
  namespace: string;
  name: string;
  target: string;
  minReplicas: number;
  maxReplicas: number;
  status: AutoscalerStatus | undefined;
}

interface Entry {
  observed: ObservedAutoscaler;
  reconciler: Reconciler;
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
  removed: boolean;
}

const keyOf = (a: { namespace: string; name: string }) => `${a.namespace}/${a.name}`;

/**
 * Runs one poll loop per WorkerAutoscaler: reconcile, report, wait pollingIntervalSeconds, again.
 * Loops of different autoscalers are independent, so one slow broker delays only its own triggers.
 * A changed spec is reconciled at once; a removed autoscaler stops after its in-flight reconcile.
 */
export class AutoscalerRunner {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => Date;

  constructor(private readonly deps: RunnerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  upsert(observed: ObservedAutoscaler): void {
    const key = keyOf(observed);
    const existing = this.entries.get(key);
    const edges = () => {
      const target = this.deps.target(observed.namespace, observed.spec);
      return [this.deps.triggers(observed.spec, target), target] as const;
    };
    if (!existing) {
      const [triggers, target] = edges();
      const reconciler = new Reconciler(observed.spec, triggers, target, observed.status);
      const entry: Entry = { observed, reconciler, removed: false };
      this.entries.set(key, entry);
      this.zeroCounters(observed);
      this.deps.logger.info({ autoscaler: key, target: target.name }, 'autoscaler added');
      this.schedule(entry, 0);
      return;
    }
    const changed =
      observed.generation !== existing.observed.generation ||
      JSON.stringify(observed.spec) !== JSON.stringify(existing.observed.spec);
    existing.observed = observed;
    if (!changed) return;
    existing.reconciler.update(observed.spec, ...edges());
    this.deps.logger.info({ autoscaler: key, generation: observed.generation }, 'autoscaler updated');
    if (!existing.running) this.schedule(existing, 0);
  }

  remove(ref: { namespace: string; name: string }): void {
    const key = keyOf(ref);
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.removed = true;
    clearTimeout(entry.timer);
    this.entries.delete(key);
    this.forgetMetrics(
      entry.observed,
      (entry.reconciler.lastStatus?.triggers ?? []).map((t) => t.name),
    );
    this.deps.logger.info({ autoscaler: key }, 'autoscaler removed');
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  list(): AutoscalerView[] {
    return [...this.entries.values()].map(({ observed, reconciler }) => ({
      namespace: observed.namespace,
      name: observed.name,
      target: observed.spec.scaleTargetRef.name,
      minReplicas: observed.spec.minReplicas,
      maxReplicas: observed.spec.maxReplicas,
      status: reconciler.lastStatus,
    }));
  }

  /** Stops every loop and waits for the reconciles in flight. */
  async stop(): Promise<void> {
    const entries = [...this.entries.values()];
    for (const entry of entries) this.remove(entry.observed);
    await Promise.all(entries.map((e) => e.running));
  }

  private schedule(entry: Entry, delayMs: number): void {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      entry.running = this.tick(entry).finally(() => {
        entry.running = undefined;
        if (!entry.removed) this.schedule(entry, entry.observed.spec.pollingIntervalSeconds * 1000);
      });
    }, delayMs);
  }

  private async tick(entry: Entry): Promise<void> {
    const { observed } = entry;
    const labels = { namespace: observed.namespace, autoscaler: observed.name };
    const log = this.deps.logger.child({ autoscaler: keyOf(observed) });
    const end = this.deps.metrics.reconcileDuration.startTimer(labels);
    try {
      const result = await entry.reconciler.reconcile(this.now(), observed.generation);
      if (entry.removed) return;
      this.observe(labels, result);
      if (result.scaled) {
        const { from, to, reason } = result.scaled;
        log.info({ from, to, reason, target: observed.spec.scaleTargetRef.name }, `scaled ${from} -> ${to}`);
      }
      await this.deps.report?.(entry.observed, result);
    } catch (err) {
      this.deps.metrics.reconcileErrors.inc(labels);
      log.warn({ err }, 'reconcile failed; retrying at the next poll');
    } finally {
      end();
    }
  }

  private observe(labels: { namespace: string; autoscaler: string }, result: ReconcileResult): void {
    const m = this.deps.metrics;
    m.desired.set(labels, result.status.desiredReplicas);
    m.current.set(labels, result.status.currentReplicas);
    for (const t of result.status.triggers) {
      const trigger = { ...labels, trigger: t.name };
      if (t.value === undefined) m.sourceErrors.inc(trigger);
      else {
        m.triggerValue.set(trigger, t.value);
        m.sourceErrors.inc(trigger, 0);
      }
    }
    if (result.scaled) m.scaleEvents.inc({ ...labels, direction: result.scaled.direction });
  }

  /**
   * Counters of rare events exist from the start at zero, so Prometheus reads "no scale event, no
   * error" rather than no series at all (rate() over a missing series is no data, not zero). A
   * trigger's error counter is zeroed at its first good reading, when its name is known.
   */
  private zeroCounters(observed: ObservedAutoscaler): void {
    const labels = { namespace: observed.namespace, autoscaler: observed.name };
    const m = this.deps.metrics;
    m.reconcileErrors.inc(labels, 0);
    for (const direction of ['up', 'down']) m.scaleEvents.inc({ ...labels, direction }, 0);
  }

  private forgetMetrics(observed: ObservedAutoscaler, triggerNames: string[]): void {
    const labels = { namespace: observed.namespace, autoscaler: observed.name };
    const m = this.deps.metrics;
    for (const metric of [m.desired, m.current, m.reconcileDuration, m.reconcileErrors])
      metric.remove(labels);
    for (const direction of ['up', 'down']) m.scaleEvents.remove({ ...labels, direction });
    for (const trigger of triggerNames) {
      m.triggerValue.remove({ ...labels, trigger });
      m.sourceErrors.remove({ ...labels, trigger });
    }
  }
}
