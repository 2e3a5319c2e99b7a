import type { Channel } from 'amqplib';

/** A declarative description of exchanges, queues and bindings, declared on every (re)connect. */
export interface Topology {
  exchanges: { name: string; type: 'direct' | 'fanout' | 'topic' | 'headers' }[];
  queues: {
    name: string;
    /** Quorum queues are replicated and durable; classic only where a feature needs it. */
    type: 'quorum' | 'classic';
    deadLetterExchange?: string;
    deadLetterRoutingKey?: string;
    /** Quorum queues only: deliveries after which a message that keeps failing is dead-lettered. */
    deliveryLimit?: number;
    /** Per-message TTL in ms (delay queues: expired messages dead-letter back to work). */
    messageTtlMs?: number;
    /**
     * Quorum queues only: dead-letter at-least-once (the broker keeps a message until the dead-letter
     * target confirms it), which needs overflow `reject-publish`.
     */
    safeDeadLettering?: boolean;
  }[];
  bindings: { exchange: string; queue: string; routingKey: string }[];
}

export function queueArguments(queue: Topology['queues'][number]): Record<string, unknown> {
  const args: Record<string, unknown> = { 'x-queue-type': queue.type };
  if (queue.deadLetterExchange !== undefined) args['x-dead-letter-exchange'] = queue.deadLetterExchange;
  if (queue.deadLetterRoutingKey !== undefined)
    args['x-dead-letter-routing-key'] = queue.deadLetterRoutingKey;
  if (queue.deliveryLimit !== undefined) args['x-delivery-limit'] = queue.deliveryLimit;
  if (queue.messageTtlMs !== undefined) args['x-message-ttl'] = queue.messageTtlMs;
  if (queue.safeDeadLettering) {
    args['x-dead-letter-strategy'] = 'at-least-once';
    args['x-overflow'] = 'reject-publish';
  }
  return args;
}

/** Idempotent: declaring what already exists with the same arguments is a no-op for the broker. */
export async function declareTopology(channel: Channel, topology: Topology): Promise<void> {
  for (const exchange of topology.exchanges) {
    await channel.assertExchange(exchange.name, exchange.type, { durable: true });
  }
  for (const queue of topology.queues) {
    await channel.assertQueue(queue.name, { durable: true, arguments: queueArguments(queue) });
  }
  for (const binding of topology.bindings) {
    await channel.bindQueue(binding.queue, binding.exchange, binding.routingKey);
  }
}
