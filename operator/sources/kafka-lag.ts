import type { EventAdmin } from '../../lib/adapters/kafka/types';
import type { MetricSource } from './source';

export interface KafkaLagConfig {
  topic: string;
  consumerGroup: string;
}

/**
 * Consumer lag of a group on a topic: the sum over partitions of (log-end - committed). A partition
 * the group never committed counts as its whole retained backlog (log-end - log-start), not as zero.
 * The admin client comes from a function so that a broker down at start-up makes a failing reading
 * (replicas kept, then the fallback), not an operator that cannot start.
 */
export function kafkaLagSource(admin: () => Promise<EventAdmin>, config: KafkaLagConfig): MetricSource {
  // The partition count comes with every measurement; cap() asks the broker only before the first one.
  let partitions: number | undefined;
  return {
    name: `kafka:${config.topic}/${config.consumerGroup}`,
    async measure() {
      const client = await admin();
      const [ends, starts, committed] = await Promise.all([
        client.logEndOffsets(config.topic),
        client.logStartOffsets(config.topic),
        client.committedOffsets(config.consumerGroup, config.topic),
      ]);
      partitions = ends.length;
      let lag = 0n;
      for (const end of ends) {
        const done = committed.find((c) => c.partition === end.partition)?.offset ?? -1n;
        const from = done >= 0n ? done : (starts.find((s) => s.partition === end.partition)?.offset ?? 0n);
        if (end.offset > from) lag += end.offset - from;
      }
      return Number(lag);
    },
    async cap() {
      return partitions ?? (await (await admin()).logEndOffsets(config.topic)).length;
    },
  };
}
