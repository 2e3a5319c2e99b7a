import { managementQueue } from '../../lib/adapters/rabbitmq/management';
import { maskSecrets } from '../../lib/mask';
import type { RabbitDepthConfig } from './rabbitmq-depth';
import type { MetricSource } from './source';

/**
 * How fast work arrives: messages per second published into a queue, as the management API averages
 * it over its last statistics samples. Unlike depth, it does not fall to zero when the workers catch
 * up, so it holds the replicas a steady stream needs.
 */
export function rabbitPublishRateSource(config: RabbitDepthConfig): MetricSource {
  const queue = managementQueue(config.managementUrl, config.queue, config.vhost);
  return {
    name: `rabbitmq:${config.queue}/publish-rate`,
    async measure() {
      const res = await queue('?columns=message_stats.publish_details');
      if (!res.ok)
        throw new Error(`${maskSecrets(config.managementUrl)}: queue ${config.queue} answered ${res.status}`);
      const body = (await res.json()) as { message_stats?: { publish_details?: { rate?: number } } };
      return Math.round((body.message_stats?.publish_details?.rate ?? 0) * 10) / 10;
    },
  };
}
