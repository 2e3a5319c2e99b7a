import type { MetricSource } from './source';

/** Where a backlog reading came from, as the status shows it. */
export type DepthOrigin = 'amqp+workers' | 'management';

export interface LiveDepthConfig {
  queue: string;
  /** Ready messages as the broker counts them now (a passive queue.declare). */
  ready: (queue: string) => Promise<number>;
  /** What the target's workers hold (received, not yet settled), from their own metrics. */
  held?: () => Promise<number>;
  /** The management API's depth: used when the live reading cannot be had. */
  fallback: MetricSource;
}

/**
 * Work waiting for a stage, as it is now: the queue's ready messages from the broker over AMQP plus
 * the tasks its workers hold, from the workers themselves. The management API counts the same two
 * things (ready + unacknowledged) but its statistics are about 5 s old; it stays as the fallback when
 * either live part cannot be read (the broker's AMQP port, or a worker's metrics), and the status
 * says which one a reading came from.
 */
export function rabbitLiveDepthSource(config: LiveDepthConfig): MetricSource {
  let origin: DepthOrigin = 'amqp+workers';
  const { held } = config;
  return {
    name: config.fallback.name,
    async measure() {
      if (held) {
        try {
          const [ready, holding] = await Promise.all([config.ready(config.queue), held()]);
          origin = 'amqp+workers';
          return ready + holding;
        } catch {
          // The management API below answers for both parts; its error, if any, is the one reported.
        }
      }
      origin = 'management';
      return config.fallback.measure();
    },
    origin: () => origin,
  };
}
