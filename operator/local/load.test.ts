import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoscalerFileError, loadAutoscalers } from './load';
import { roleOf } from './supervisor-target';

const folder = (files: Record<string, string>) => {
  const dir = mkdtempSync(join(tmpdir(), 'orderflow-wa-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
};

const wa = (name: string, extra = '') => `apiVersion: orderflow.io/v1alpha1
kind: WorkerAutoscaler
metadata:
  name: ${name}
spec:
  scaleTargetRef:
    name: orderflow-worker-pay
  maxReplicas: 4
  triggers:
    - type: rabbitmq
      metadata:
        queue: orderflow.stage.pay
        messagesPerReplica: 10
${extra}`;

describe('loadAutoscalers', () => {
  it('loads every example the project ships, with defaults applied', () => {
    const all = loadAutoscalers(join(__dirname, '../../k8s/examples'));
    expect(all.map((a) => a.metadata.name).sort()).toEqual([
      'dispatcher',
      'worker-complete',
      'worker-pay',
      'worker-reserve',
      'worker-validate',
    ]);
    // Stages read their backlog live and poll every second; the dispatcher's Kafka lag every 5 s.
    expect(all.map((a) => [a.metadata.name, a.spec.pollingIntervalSeconds]).sort()).toEqual([
      ['dispatcher', 5],
      ['worker-complete', 1],
      ['worker-pay', 1],
      ['worker-reserve', 1],
      ['worker-validate', 1],
    ]);
  });

  it('reads several documents, skips other kinds and non-YAML files', () => {
    const dir = folder({
      'a.yaml': `${wa('one')}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n---\n${wa('two')}`,
      'notes.txt': 'not yaml: [',
    });
    expect(loadAutoscalers(dir).map((a) => a.metadata.name)).toEqual(['one', 'two']);
  });

  it.each([
    // min above max, the CRD's CEL rule
    [
      'minReplicas above maxReplicas',
      '  minReplicas: 9\n',
      /spec.minReplicas: minReplicas must not exceed maxReplicas/,
    ],
    // a typo in a field name is an error, not a silently ignored setting
    ['unknown field', '  pollingIntervalSecond: 5\n', /pollingIntervalSecond/],
  ])('names the file and the field: %s', (_, extra, message) => {
    const dir = folder({ 'bad.yaml': wa('bad', extra) });
    expect(() => loadAutoscalers(dir)).toThrow(AutoscalerFileError);
    expect(() => loadAutoscalers(dir)).toThrow(message);
    expect(() => loadAutoscalers(dir)).toThrow(/bad\.yaml/);
  });

  it('refuses the same autoscaler twice', () => {
    const dir = folder({ 'a.yaml': wa('same'), 'b.yaml': wa('same') });
    expect(() => loadAutoscalers(dir)).toThrow(/default\/same is defined twice/);
  });
});

describe('roleOf', () => {
  it('maps the chart Deployment names to the roles of orderflow up', () => {
    expect(roleOf('orderflow-worker-pay')).toBe('worker-pay');
    expect(roleOf('orderflow-dispatcher')).toBe('dispatcher');
  });
});
