import type { EventAdmin, EventLog } from '../../lib/adapters/kafka/types';
import type { Trigger } from '../reconciler';
import type { WorkerAutoscalerSpec } from '../spec';
import { kafkaLagSource } from './kafka-lag';
import { rabbitDepthSource } from './rabbitmq-depth';

export interface SourceDeps {
  /** Kafka admin client, shared by every Kafka trigger of the process. */
  kafkaAdmin: () => Promise<EventAdmin>;
  rabbitManagementUrl: string;
}

/** The triggers of a spec, each with its metric source. */
export function triggersFor(spec: WorkerAutoscalerSpec, deps: SourceDeps): Trigger[] {
  return spec.triggers.map((trigger): Trigger => {
    if (trigger.type === 'kafka') {
      const { topic, consumerGroup, lagPerReplica, activationLag } = trigger.metadata;
      return {
        type: 'kafka',
        source: kafkaLagSource(deps.kafkaAdmin, { topic, consumerGroup }),
        perReplica: lagPerReplica,
        activation: activationLag,
      };
    }
    const { queue, messagesPerReplica, activationMessages } = trigger.metadata;
    return {
      type: 'rabbitmq',
      source: rabbitDepthSource({ managementUrl: deps.rabbitManagementUrl, queue }),
      perReplica: messagesPerReplica,
      activation: activationMessages,
    };
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
