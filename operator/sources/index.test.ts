import { desiredReplicas } from '../desired-replicas';
import { workerAutoscalerSpec } from '../spec';
import { triggersFor } from './index';

const deps = {
  kafkaAdmin: () => Promise.reject(new Error('not used: no source is measured here')),
  rabbitManagementUrl: 'http://u:p@127.0.0.1:15672',
};

const spec = (metadata: Record<string, unknown>) =>
  workerAutoscalerSpec.parse({
    scaleTargetRef: { name: 'orderflow-worker-pay' },
    minReplicas: 1,
    maxReplicas: 10,
    triggers: [{ type: 'rabbitmq', metadata: { queue: 'orderflow.stage.pay', ...metadata } }],
  });

describe('triggersFor', () => {
  it('reads depth alone by default', () => {
    const triggers = triggersFor(spec({ messagesPerReplica: 100 }), deps);
    expect(triggers.map((t) => [t.source.name, t.perReplica, t.activation])).toEqual([
      ['rabbitmq:orderflow.stage.pay', 100, 0],
    ]);
  });

  it('adds the publish rate when publishRatePerReplica is set, activated by any arrival', () => {
    const triggers = triggersFor(
      spec({ messagesPerReplica: 100, publishRatePerReplica: 40, activationMessages: 5 }),
      deps,
    );
    expect(triggers.map((t) => [t.source.name, t.perReplica, t.activation])).toEqual([
      ['rabbitmq:orderflow.stage.pay', 100, 5],
      ['rabbitmq:orderflow.stage.pay/publish-rate', 40, 0],
    ]);
  });

  it.each([
    // caught up under a steady 130 msg/s: depth asks for 1, the rate keeps 4 (no scale-down, no flapping)
    ['steady stream, empty queue', 0, 130, 4],
    // a backlog builds faster than the rate explains: depth wins
    ['backlog', 750, 130, 8],
    // nothing arrives and nothing waits: min replicas
    ['idle', 0, 0, 1],
  ])('with both readings, the larger wins: %s', (_, depth, rate, expected) => {
    const [d, r] = triggersFor(spec({ messagesPerReplica: 100, publishRatePerReplica: 40 }), deps);
    const decision = desiredReplicas({
      now: 0,
      minReplicas: 1,
      maxReplicas: 10,
      currentReplicas: 4,
      triggers: [
        { name: d!.source.name, value: depth, perReplica: d!.perReplica, activation: d!.activation },
        { name: r!.source.name, value: rate, perReplica: r!.perReplica, activation: r!.activation },
      ],
      history: [],
      behavior: { scaleUp: { stabilizationWindowSeconds: 0 }, scaleDown: { stabilizationWindowSeconds: 0 } },
      consecutiveFailures: 0,
    });
    expect(decision.desiredReplicas).toBe(expected);
  });
});
