import { collectDefaultMetrics, Registry } from 'prom-client';

export const METRIC_PREFIX = 'orderflow_';

/**
 * prom-client's default metrics include these three gauges, whose `_total` suffix says "counter" to
 * Prometheus and its linter (`promtool check metrics`). Their values are the sums of the per-type
 * gauges that stay (`orderflow_nodejs_active_handles{type}` and so on).
 */
const MISNAMED_DEFAULT_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** One registry per process, with the default process metrics under our prefix and the role as a label. */
export function createRegistry(role: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ role });
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(`${METRIC_PREFIX}${name}`);
  return registry;
}
