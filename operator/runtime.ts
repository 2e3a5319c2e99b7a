import type { ProcessContext } from '../lib/process';
import { createKafkaEventLog } from '../lib/adapters/kafka/kafkajs';
import { QueueProbe } from '../lib/adapters/rabbitmq/probe';
import { autoscalerMetrics } from './metrics';
import { AutoscalerRunner, type RunnerDeps } from './runner';
import { sharedKafkaAdmin, triggersFor } from './sources';

/**
 * What both modes share: the metrics, one Kafka admin client for every Kafka trigger, one AMQP
 * connection for every live queue reading, and the runner.
 */
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
  const probe = new QueueProbe(config.rabbitmq.url, `orderflow-operator-${process.pid}`);
  const runner = new AutoscalerRunner({
    ...edges,
    triggers: (spec, target) =>
      triggersFor(
        spec,
        {
          kafkaAdmin: kafka.get,
          rabbitManagementUrl: config.rabbitmq.managementUrl,
          rabbitReady: (queue) => probe.ready(queue),
        },
        target.held && (() => target.held!()),
      ),
    metrics,
    logger,
  });
  return {
    metrics,
    runner,
    closeBrokers: async () => {
      await Promise.all([kafka.close(), probe.close()]);
    },
  };
}
