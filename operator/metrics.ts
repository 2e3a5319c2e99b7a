import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The operator's metrics; every series is labelled by the autoscaler's namespace and name. */
export function autoscalerMetrics(registry: Registry) {
  const labels = ['namespace', 'autoscaler'] as const;
  return {
    desired: new Gauge({
      name: 'orderflow_autoscaler_desired_replicas',
      help: 'Replicas the autoscaler last asked for',
      labelNames: labels,
      registers: [registry],
    }),
    current: new Gauge({
      name: 'orderflow_autoscaler_current_replicas',
      help: 'Replicas the target was set to at the last reconcile',
      labelNames: labels,
      registers: [registry],
    }),
    triggerValue: new Gauge({
      name: 'orderflow_autoscaler_trigger_value',
      help: 'Last reading of each trigger (Kafka lag in records, RabbitMQ ready + unacked messages)',
      labelNames: [...labels, 'trigger'],
      registers: [registry],
    }),
    scaleEvents: new Counter({
      name: 'orderflow_autoscaler_scale_events_total',
      help: 'Changes of the target replicas, by direction',
      labelNames: [...labels, 'direction'],
      registers: [registry],
    }),
    reconcileDuration: new Histogram({
      name: 'orderflow_autoscaler_reconcile_duration_seconds',
      help: 'Time for one reconcile: read the target, measure every trigger, decide, scale',
      labelNames: labels,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    sourceErrors: new Counter({
      name: 'orderflow_autoscaler_source_errors_total',
      help: 'Failed readings of a metric source',
      labelNames: [...labels, 'trigger'],
      registers: [registry],
    }),
    reconcileErrors: new Counter({
      name: 'orderflow_autoscaler_reconcile_errors_total',
      help: 'Reconciles that failed outright (target unreachable, scale or status write refused)',
      labelNames: labels,
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'orderflow_autoscaler_leader',
      help: '1 while this operator instance holds the leader Lease (always 1 in local mode)',
      registers: [registry],
    }),
  };
}

export type AutoscalerMetrics = ReturnType<typeof autoscalerMetrics>;
