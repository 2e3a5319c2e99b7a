import { collectDefaultMetrics, Registry } from 'prom-client';

export const METRIC_PREFIX = 'orderflow_';

/** One registry per process, with the default process metrics under our prefix and the role as a label. */
export function createRegistry(role: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ role });
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return registry;
}
