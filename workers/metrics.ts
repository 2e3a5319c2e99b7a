import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Stage } from '../lib/domain/pipeline';

/**
 * The stage workers' metrics: per stage, by outcome; and created -> terminal latency per order. The
 * failure counters of the worker's stages start at zero, so a healthy pipeline reads "0 retries" in
 * Prometheus instead of no series at all (rate() over a missing series is no data, not zero).
 */
export function stageMetrics(
  registry: Registry,
  stages: readonly Stage[],
  /** The stage's tasks this worker holds: received and not yet settled. */
  held: (stage: Stage) => number,
) {
  const metrics = {
    processed: new Counter({
      name: 'orderflow_stage_processed_total',
      help: 'Stage tasks handled, by stage and outcome (advanced, finished, skipped, premature, duplicate, retried, dead_lettered)',
      labelNames: ['stage', 'outcome'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'orderflow_stage_duration_seconds',
      help: 'Time to handle a stage task (the batch it was handled in)',
      labelNames: ['stage'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'orderflow_stage_batch_size',
      help: 'Stage tasks handled together in one transaction',
      labelNames: ['stage'],
      buckets: [1, 2, 5, 10, 20, 50, 100, 200],
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'orderflow_stage_in_flight',
      help: "Stage tasks this worker holds: received and not yet settled, waiting for a batch or in one (its share of the queue's unacknowledged messages; the operator reads it)",
      labelNames: ['stage'],
      registers: [registry],
      collect() {
        for (const stage of stages) this.set({ stage }, held(stage));
      },
    }),
    retries: new Counter({
      name: 'orderflow_stage_retries_total',
      help: 'Stage tasks sent to a delay queue after a transient failure',
      labelNames: ['stage'],
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: 'orderflow_stage_dead_lettered_total',
      help: 'Stage tasks dead-lettered (malformed, unknown order, or retries exhausted)',
      labelNames: ['stage'],
      registers: [registry],
    }),
    endToEnd: new Histogram({
      name: 'orderflow_order_end_to_end_seconds',
      help: 'From order creation to its terminal status, by that status',
      labelNames: ['status'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
  };
  for (const stage of stages) {
    metrics.retries.inc({ stage }, 0);
    metrics.deadLettered.inc({ stage }, 0);
  }
  return metrics;
}

export type StageMetrics = ReturnType<typeof stageMetrics>;
