import { managementQueue } from '../../lib/adapters/rabbitmq/management';
import { maskSecrets } from '../../lib/mask';
import type { RabbitDepthConfig } from './rabbitmq-depth';
import type { MetricSource } from './source';

/** The window the publish rate is averaged over, in seconds, and the broker's sample spacing. */
const RATE_WINDOW_SECONDS = 15;
const SAMPLE_SECONDS = 5;

/**
 * How fast work arrives: messages per second published into a queue. Unlike depth, it does not fall to
 * zero when the workers catch up, so it holds the replicas a steady stream needs. The broker refreshes
 * its counters in bursts, so its instant rate flickers between the real value and zero; the average
 * over the last 15 s of its samples is what a replica count can follow.
 */
export function rabbitPublishRateSource(config: RabbitDepthConfig): MetricSource {
  const queue = managementQueue(config.managementUrl, config.queue, config.vhost);
  return {
    name: `rabbitmq:${config.queue}/publish-rate`,
    async measure() {
      const res = await queue(
        `?msg_rates_age=${RATE_WINDOW_SECONDS}&msg_rates_incr=${SAMPLE_SECONDS}&columns=message_stats.publish_details`,
      );
      if (!res.ok)
        throw new Error(`${maskSecrets(config.managementUrl)}: queue ${config.queue} answered ${res.status}`);
      const body = (await res.json()) as { message_stats?: { publish_details?: { avg_rate?: number } } };
      return Math.round((body.message_stats?.publish_details?.avg_rate ?? 0) * 10) / 10;
    },
  };
}
