import type { ProcessContext } from '../lib/process';
import { createKafkaEventLog } from '../lib/adapters/kafka/kafkajs';
import { autoscalerMetrics } from './metrics';
import { AutoscalerRunner, type RunnerDeps } from './runner';
import { sharedKafkaAdmin, triggersFor } from './sources';

/** What both modes share: the metrics, one Kafka admin client for every Kafka trigger, and the runner. */
export function autoscalerRuntime(
  { config, logger, registry }: ProcessContext,
  edges: Pick<RunnerDeps, 'target' | 'report'>,
) {
  const metrics = autoscalerMetrics(registry);
  const kafka = sharedKafkaAdmin(
    createKafkaEventLog({
      brokers: config.kafka.brokers,
      clientId: `${config.kafka.clientId}-operator`,
      logger,
    }),
  );
  const runner = new AutoscalerRunner({
    ...edges,
    triggers: (spec) =>
      triggersFor(spec, { kafkaAdmin: kafka.get, rabbitManagementUrl: config.rabbitmq.managementUrl }),
    metrics,
    logger,
  });
  return { metrics, runner, closeKafka: kafka.close };
}
