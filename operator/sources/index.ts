import type { EventAdmin, EventLog } from '../../lib/adapters/kafka/types';
import type { Trigger } from '../reconciler';
import type { WorkerAutoscalerSpec } from '../spec';
import { kafkaLagSource } from './kafka-lag';
import { rabbitDepthSource } from './rabbitmq-depth';
import { rabbitLiveDepthSource } from './rabbitmq-live-depth';
import { rabbitPublishRateSource } from './rabbitmq-rate';

export interface SourceDeps {
  /** Kafka admin client, shared by every Kafka trigger of the process. */
  kafkaAdmin: () => Promise<EventAdmin>;
  rabbitManagementUrl: string;
  /** A queue's ready messages over AMQP; without it, depth comes from the management API alone. */
  rabbitReady?: (queue: string) => Promise<number>;
}

/**
 * The triggers of a spec, each with its metric source. A RabbitMQ trigger with publishRatePerReplica
 * reads two metrics (depth and publish rate); the decision takes whichever asks for more. `held` is
 * what the scale target's workers hold, when the target can tell: with it, depth is read live.
 */
export function triggersFor(
  spec: WorkerAutoscalerSpec,
  deps: SourceDeps,
  held?: () => Promise<number>,
): Trigger[] {
  return spec.triggers.flatMap((trigger): Trigger[] => {
    if (trigger.type === 'kafka') {
      const { topic, consumerGroup, lagPerReplica, activationLag } = trigger.metadata;
      return [
        {
          type: 'kafka',
          source: kafkaLagSource(deps.kafkaAdmin, { topic, consumerGroup }),
          perReplica: lagPerReplica,
          activation: activationLag,
        },
      ];
    }
    const { queue, messagesPerReplica, activationMessages, publishRatePerReplica } = trigger.metadata;
    const managementUrl = deps.rabbitManagementUrl;
    const managementDepth = rabbitDepthSource({ managementUrl, queue });
    const depth: Trigger = {
      type: 'rabbitmq',
      source: deps.rabbitReady
        ? rabbitLiveDepthSource({ queue, ready: deps.rabbitReady, held, fallback: managementDepth })
        : managementDepth,
      perReplica: messagesPerReplica,
      activation: activationMessages,
    };
    if (publishRatePerReplica === undefined) return [depth];
    // Any arrival activates: work is coming, whatever the depth is right now.
    const rate: Trigger = {
      type: 'rabbitmq',
      source: rabbitPublishRateSource({ managementUrl, queue }),
      perReplica: publishRatePerReplica,
      activation: 0,
    };
    return [depth, rate];
  });
}

/** Connects the admin client once, and again after a failed attempt. */
export function sharedKafkaAdmin(eventLog: EventLog): {
  get: () => Promise<EventAdmin>;
  close: () => Promise<void>;
} {
  let connecting: Promise<EventAdmin> | undefined;
  return {
    get: () => {
      connecting ??= eventLog.admin().catch((err: unknown) => {
        connecting = undefined;
        throw err;
      });
      return connecting;
    },
    close: async () => {
      const admin = await connecting?.catch(() => undefined);
      await admin?.disconnect();
    },
  };
}
