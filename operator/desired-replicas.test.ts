import { desiredReplicas, type DecisionInput, type TriggerReading } from './desired-replicas';

const kafka = (value: number | undefined, extra: Partial<TriggerReading> = {}): TriggerReading => ({
  name: 'kafka',
  value,
  perReplica: 10,
  activation: 0,
  cap: 12,
  ...extra,
});
const rabbit = (value: number | undefined, extra: Partial<TriggerReading> = {}): TriggerReading => ({
  name: 'rabbitmq',
  value,
  perReplica: 10,
  activation: 0,
  ...extra,
});

const input = (over: Partial<DecisionInput>): DecisionInput => ({
  now: 1_000_000,
  minReplicas: 0,
  maxReplicas: 20,
  currentReplicas: 1,
  triggers: [],
  history: [],
  behavior: { scaleUp: { stabilizationWindowSeconds: 0 }, scaleDown: { stabilizationWindowSeconds: 0 } },
  consecutiveFailures: 0,
  ...over,
});

describe('desiredReplicas', () => {
  it.each<[string, Partial<DecisionInput>, number]>([
    // the largest any trigger asks for wins
    ['largest trigger wins', { triggers: [kafka(35), rabbit(71)] }, 8],
    // KEDA #4483 gives partitions + 1; the cap here is exactly the partition count
    ['kafka capped at the partition count', { triggers: [kafka(1000)] }, 12],
    // KEDA #2908: the HPA's 10% tolerance stalls at 11 of 12 (115 / (11 x 10) = 1.045); no tolerance here
    ['no tolerance stall one short of the cap', { currentReplicas: 11, triggers: [kafka(115)] }, 12],
    // KEDA #638/#5050: in-flight (unacked) work counts, so busy workers are not scaled away
    ['unacked messages keep busy workers', { currentReplicas: 4, triggers: [rabbit(0 + 40)] }, 4],
    [
      '0 when every trigger is at or below activation',
      { currentReplicas: 3, triggers: [kafka(5, { activation: 5 }), rabbit(0)] },
      0,
    ],
    [
      'one replica as soon as one trigger is active',
      { currentReplicas: 0, triggers: [kafka(6, { activation: 5 }), rabbit(0)] },
      1,
    ],
    ['minReplicas holds even when idle', { minReplicas: 2, currentReplicas: 2, triggers: [rabbit(0)] }, 2],
    ['maxReplicas caps', { maxReplicas: 5, triggers: [rabbit(500)] }, 5],
    // KEDA #4098: a failing source keeps what runs instead of scaling to zero
    [
      'a failing source keeps the current replicas',
      { currentReplicas: 3, triggers: [kafka(undefined), rabbit(0)], consecutiveFailures: 1 },
      3,
    ],
    [
      'fallback after the given failures',
      {
        currentReplicas: 3,
        triggers: [kafka(undefined)],
        consecutiveFailures: 3,
        fallback: { replicas: 6, afterFailures: 3 },
      },
      6,
    ],
    [
      'no fallback before the given failures',
      {
        currentReplicas: 3,
        triggers: [kafka(undefined)],
        consecutiveFailures: 2,
        fallback: { replicas: 6, afterFailures: 3 },
      },
      3,
    ],
    ['scale-up reacts at once', { currentReplicas: 1, triggers: [rabbit(90)] }, 9],
    // locally, a machine with no idle CPU: a new process would only add its own start-up
    [
      'a held growth keeps the current replicas',
      { currentReplicas: 2, triggers: [rabbit(90)], growthHeld: 'no idle CPU' },
      2,
    ],
    [
      'a held growth does not stop a scale-down',
      { currentReplicas: 6, triggers: [rabbit(20)], growthHeld: 'no idle CPU' },
      2,
    ],
    [
      'scale-up limited by its step',
      {
        currentReplicas: 1,
        triggers: [rabbit(90)],
        behavior: {
          scaleUp: { stabilizationWindowSeconds: 0, maxStep: 2 },
          scaleDown: { stabilizationWindowSeconds: 0 },
        },
      },
      3,
    ],
    [
      'scale-down limited by its step',
      {
        currentReplicas: 9,
        triggers: [rabbit(0)],
        behavior: {
          scaleUp: { stabilizationWindowSeconds: 0 },
          scaleDown: { stabilizationWindowSeconds: 0, maxStep: 4 },
        },
      },
      5,
    ],
    [
      'scale-down waits for the highest recommendation in its window',
      {
        currentReplicas: 8,
        triggers: [rabbit(20)],
        history: [
          { at: 1_000_000 - 50_000, replicas: 8 }, // outside the 30 s window
          { at: 1_000_000 - 20_000, replicas: 6 },
          { at: 1_000_000 - 5_000, replicas: 3 },
        ],
        behavior: {
          scaleUp: { stabilizationWindowSeconds: 0 },
          scaleDown: { stabilizationWindowSeconds: 30 },
        },
      },
      6,
    ],
  ])('%s', (_name, over, expected) => {
    expect(desiredReplicas(input(over)).desiredReplicas).toBe(expected);
  });

  it('reports why, whether it was limited, and what the triggers asked for', () => {
    const decision = desiredReplicas(input({ maxReplicas: 5, triggers: [rabbit(500)] }));
    expect(decision).toMatchObject({
      desiredReplicas: 5,
      recommendation: 5,
      active: true,
      limited: true,
      fallback: false,
    });
    expect(decision.reason).toBe('rabbitmq=500→50');
  });

  it('does not flap under steady, noisy load', () => {
    const behavior = {
      scaleUp: { stabilizationWindowSeconds: 0 },
      scaleDown: { stabilizationWindowSeconds: 30 },
    };
    let current = 1;
    const history: { at: number; replicas: number }[] = [];
    const seen: number[] = [];
    for (let t = 0; t < 300; t += 5) {
      const noisy = 100 + (t % 10 === 0 ? -6 : 6); // 94 / 106 messages: 10 or 11 replicas
      const d = desiredReplicas(
        input({ now: t * 1000, currentReplicas: current, triggers: [rabbit(noisy)], history, behavior }),
      );
      history.push({ at: t * 1000, replicas: d.recommendation });
      current = d.desiredReplicas;
      seen.push(current);
    }
    const changes = seen.slice(1).filter((n, i) => n !== seen[i]).length;
    expect(changes).toBe(1); // 1 -> 11 once, then steady
    expect(seen[seen.length - 1]).toBe(11);
  });
});
