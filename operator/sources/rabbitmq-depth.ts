import { managementQueue } from '../../lib/adapters/rabbitmq/management';
import { maskSecrets } from '../../lib/mask';
import type { MetricSource } from './source';

export interface RabbitDepthConfig {
  /** Management API base URL with credentials, e.g. http://user:pass@host:15672 */
  managementUrl: string;
  queue: string;
  vhost?: string;
}

/**
 * Work waiting in a queue: ready AND unacknowledged messages, from the management HTTP API. Counting
 * only ready messages (what AMQP's queue.declare reports) would make busy workers look idle.
 */
export function rabbitDepthSource(config: RabbitDepthConfig): MetricSource {
  const queue = managementQueue(config.managementUrl, config.queue, config.vhost);
  return {
    name: `rabbitmq:${config.queue}`,
    async measure() {
      const res = await queue('?columns=messages_ready,messages_unacknowledged');
      if (!res.ok)
        throw new Error(`${maskSecrets(config.managementUrl)}: queue ${config.queue} answered ${res.status}`);
      const body = (await res.json()) as { messages_ready?: number; messages_unacknowledged?: number };
      return (body.messages_ready ?? 0) + (body.messages_unacknowledged ?? 0);
    },
  };
}
