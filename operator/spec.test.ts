import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { workerAutoscaler, workerAutoscalerSpec } from './spec';

const base = {
  scaleTargetRef: { name: 'orderflow-worker-pay' },
  maxReplicas: 10,
  triggers: [{ type: 'rabbitmq', metadata: { queue: 'orderflow.stage.pay', messagesPerReplica: 20 } }],
};

describe('WorkerAutoscaler spec', () => {
  it('fills the documented defaults', () => {
    const spec = workerAutoscalerSpec.parse(base);
    expect(spec).toMatchObject({
      minReplicas: 0,
      pollingIntervalSeconds: 5,
      scaleTargetRef: { kind: 'Deployment', apiVersion: 'apps/v1' },
      behavior: { scaleUp: { stabilizationWindowSeconds: 0 }, scaleDown: { stabilizationWindowSeconds: 60 } },
    });
    expect(spec.triggers[0]!.metadata).toMatchObject({ activationMessages: 0 });
  });

  it.each([
    // spec change, the field the error names
    [{ minReplicas: 11 }, 'minReplicas'],
    [{ triggers: [{ type: 'prometheus', metadata: {} }] }, 'triggers.0.type'],
    [
      { triggers: [{ type: 'kafka', metadata: { topic: 't', consumerGroup: 'g', lagPerReplica: -5 } }] },
      'triggers.0.metadata.lagPerReplica',
    ],
    [
      {
        triggers: [
          { type: 'rabbitmq', metadata: { queue: 'q', messagesPerReplica: 10, activationMessages: -1 } },
        ],
      },
      'triggers.0.metadata.activationMessages',
    ],
    [
      {
        triggers: [
          { type: 'rabbitmq', metadata: { queue: 'q', messagesPerReplica: 10, publishRatePerReplica: 0 } },
        ],
      },
      'triggers.0.metadata.publishRatePerReplica',
    ],
    [{ triggers: [] }, 'triggers'],
    [{ maxReplicas: 0 }, 'maxReplicas'],
    [{ pollingIntervalSeconds: 0 }, 'pollingIntervalSeconds'],
    [{ surprise: true }, ''],
  ])('rejects %j', (change, field) => {
    const result = workerAutoscalerSpec.safeParse({ ...base, ...change });
    expect(result.success).toBe(false);
    if (!result.success) expect(result.error.issues.map((i) => i.path.join('.'))).toContain(field);
  });

  it('accepts every example in k8s/examples', () => {
    const dir = join(__dirname, '../k8s/examples');
    const docs = readdirSync(dir).flatMap((f) =>
      parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS()),
    );
    expect(docs.length).toBeGreaterThanOrEqual(5);
    for (const doc of docs) expect(workerAutoscaler.safeParse(doc).error).toBeUndefined();
    const triggers = docs.flatMap((d) => d.spec.triggers.map((t: { type: string }) => t.type));
    expect(new Set(triggers)).toEqual(new Set(['kafka', 'rabbitmq']));
  });
});
