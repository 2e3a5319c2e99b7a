import { Reconciler, type ScaleTarget, type Trigger } from './reconciler';
import { workerAutoscalerSpec } from './spec';

/** An in-memory target: what the supervisor or the scale subresource would hold. */
function memoryTarget(initial: number | undefined): ScaleTarget & { calls: number[] } {
  let replicas = initial;
  const calls: number[] = [];
  return {
    name: 'deployment/orderflow-worker-pay',
    calls,
    replicas: async () => replicas,
    scale: async (n) => {
      calls.push(n);
      replicas = n;
    },
  };
}

/** A source whose next readings are scripted; an Error in the script is a failed reading. */
function scripted(name: string, readings: (number | Error)[]): Trigger {
  return {
    type: 'rabbitmq',
    perReplica: 10,
    activation: 0,
    source: {
      name,
      measure: async () => {
        const next = readings.length > 1 ? readings.shift()! : readings[0]!;
        if (next instanceof Error) throw next;
        return next;
      },
    },
  };
}

const spec = workerAutoscalerSpec.parse({
  scaleTargetRef: { name: 'orderflow-worker-pay' },
  minReplicas: 1,
  maxReplicas: 5,
  triggers: [{ type: 'rabbitmq', metadata: { queue: 'q', messagesPerReplica: 10 } }],
  behavior: { scaleDown: { stabilizationWindowSeconds: 30 } },
  fallback: { replicas: 3, afterFailures: 2 },
});
const at = (seconds: number) => new Date(Date.UTC(2026, 10, 30, 12, 0, seconds));

describe('Reconciler', () => {
  it('scales up at once, waits out the scale-down window, and records every change', async () => {
    const target = memoryTarget(1);
    const reconciler = new Reconciler(spec, [scripted('rabbitmq:q', [42, 0])], target);

    const up = await reconciler.reconcile(at(0), 7);
    expect(up.scaled).toEqual(expect.objectContaining({ from: 1, to: 5, direction: 'up' }));
    expect(up.status).toEqual(
      expect.objectContaining({ currentReplicas: 5, desiredReplicas: 5, observedGeneration: 7 }),
    );
    expect(up.status.lastScaleTime).toBe(at(0).toISOString());
    // 42 messages ask for 5 replicas: exactly what the trigger's status says
    expect(up.status.triggers).toEqual([{ name: 'rabbitmq:q', type: 'rabbitmq', value: 42, replicas: 5 }]);

    const held = await reconciler.reconcile(at(20));
    expect(held.scaled).toBeUndefined();
    expect(held.status.desiredReplicas).toBe(5);

    const down = await reconciler.reconcile(at(31));
    expect(down.scaled).toEqual(expect.objectContaining({ from: 5, to: 1, direction: 'down' }));
    expect(target.calls).toEqual([5, 1]);
    expect(down.status.lastScaleTime).toBe(at(31).toISOString());
  });

  it('keeps the replicas while a source fails, then goes to the fallback, and says so in conditions', async () => {
    const target = memoryTarget(2);
    const down = new Error('connect ECONNREFUSED');
    const reconciler = new Reconciler(spec, [scripted('rabbitmq:q', [down, down, 8])], target);

    const first = await reconciler.reconcile(at(0));
    expect(first.scaled).toBeUndefined();
    const ready = first.status.conditions.find((c) => c.type === 'Ready');
    expect(ready).toEqual(expect.objectContaining({ status: 'False', reason: 'MetricSourceFailing' }));
    expect(first.status.triggers[0]).toEqual(
      expect.objectContaining({ name: 'rabbitmq:q', error: 'connect ECONNREFUSED' }),
    );

    const second = await reconciler.reconcile(at(5));
    expect(second.scaled).toEqual(expect.objectContaining({ from: 2, to: 3 }));
    expect(second.status.conditions.find((c) => c.type === 'Fallback')?.status).toBe('True');
    // Ready stayed False since the first failure: its transition time did not move
    expect(second.status.conditions.find((c) => c.type === 'Ready')?.lastTransitionTime).toBe(
      at(0).toISOString(),
    );

    const healed = await reconciler.reconcile(at(10));
    expect(healed.status.conditions.find((c) => c.type === 'Ready')).toEqual(
      expect.objectContaining({ status: 'True', lastTransitionTime: at(10).toISOString() }),
    );
    expect(healed.status.conditions.find((c) => c.type === 'Fallback')?.status).toBe('False');
  });

  it('reports a missing target as not Ready and scales nothing', async () => {
    const target = memoryTarget(undefined);
    const reconciler = new Reconciler(spec, [scripted('rabbitmq:q', [100])], target);
    const result = await reconciler.reconcile(at(0));
    expect(result.scaled).toBeUndefined();
    expect(target.calls).toEqual([]);
    expect(result.status.conditions.find((c) => c.type === 'Ready')).toEqual(
      expect.objectContaining({ status: 'False', reason: 'TargetNotFound' }),
    );
  });

  it('marks ScalingLimited when the backlog asks for more than maxReplicas', async () => {
    const reconciler = new Reconciler(spec, [scripted('rabbitmq:q', [1000])], memoryTarget(1));
    const result = await reconciler.reconcile(at(0));
    expect(result.status.desiredReplicas).toBe(5);
    expect(result.status.conditions.find((c) => c.type === 'ScalingLimited')?.status).toBe('True');
    expect(result.status.conditions.find((c) => c.type === 'Active')?.status).toBe('True');
  });

  it('keeps conditions from a status written before a restart', async () => {
    const before = new Reconciler(spec, [scripted('rabbitmq:q', [5])], memoryTarget(1));
    const written = (await before.reconcile(at(0))).status;
    const after = new Reconciler(spec, [scripted('rabbitmq:q', [5])], memoryTarget(1), written);
    const result = await after.reconcile(at(50));
    expect(result.status.conditions.find((c) => c.type === 'Ready')?.lastTransitionTime).toBe(
      at(0).toISOString(),
    );
  });
});
