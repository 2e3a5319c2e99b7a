import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { k8s } from '../../lib/adapters/kubernetes/client';
import { kubernetesApis } from '../../operator/kubernetes/resources';
import { watchAutoscalers, type CustomObject } from '../../operator/kubernetes/watch';
import { startControlPlane, type ControlPlane } from '../support/control-plane';
import { eventually, memoryLogger } from '../support/services';

/**
 * The WorkerAutoscaler list+watch against a real kube-apiserver. The server is told to end every
 * watch after a second, so the test also proves that resuming from the last resourceVersion loses
 * no change made between two watches.
 */

let cp: ControlPlane;
let objects: InstanceType<typeof k8s.KubernetesObjectApi>;

const wa = (namespace: string, name: string, maxReplicas: number) => ({
  apiVersion: 'orderflow.io/v1alpha1',
  kind: 'WorkerAutoscaler',
  metadata: { name, namespace },
  spec: {
    scaleTargetRef: { name: 'orderflow-worker-pay' },
    maxReplicas,
    triggers: [{ type: 'rabbitmq', metadata: { queue: 'q', messagesPerReplica: 10 } }],
  },
});

beforeAll(async () => {
  cp = await startControlPlane();
  const kc = cp.kubeConfigFor();
  objects = k8s.KubernetesObjectApi.makeApiClient(kc);
  const crd = k8s.loadAllYaml(readFileSync(join(__dirname, '../../k8s/crd-workerautoscaler.yaml'), 'utf8'));
  for (const object of crd) await objects.create(object as k8s.KubernetesObject);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  for (const name of ['team-a', 'team-b']) await core.createNamespace({ body: { metadata: { name } } });
  await eventually(
    async () => {
      await objects.create(wa('team-a', 'before-start', 2));
      return true;
    },
    { what: 'CRD served' },
  );
}, 120_000);

afterAll(async () => {
  await cp?.stop();
}, 30_000);

it('lists, then follows adds, changes and deletes across many short watches', async () => {
  const state = new Map<string, CustomObject>();
  const deleted: string[] = [];
  const kc = cp.kubeConfigFor();
  const watch = watchAutoscalers({
    kc,
    apis: kubernetesApis(kc),
    namespace: undefined,
    onApply: (o) => state.set(`${o.metadata.namespace}/${o.metadata.name}`, o),
    onDelete: (ref) => {
      state.delete(`${ref.namespace}/${ref.name}`);
      deleted.push(`${ref.namespace}/${ref.name}`);
    },
    logger: memoryLogger('silent').logger,
    timeoutSeconds: 1,
  });
  try {
    await eventually(() => state.has('team-a/before-start'), { what: 'initial list' });

    for (let i = 0; i < 5; i++) {
      await objects.create(wa('team-b', `added-${i}`, 3));
      await new Promise((r) => setTimeout(r, 400));
    }
    await objects.patch(
      { ...wa('team-a', 'before-start', 7) },
      undefined,
      undefined,
      undefined,
      undefined,
      k8s.PatchStrategy.MergePatch,
    );
    await objects.delete(wa('team-b', 'added-0', 3));

    await eventually(
      () =>
        (state.get('team-a/before-start')?.spec as { maxReplicas?: number } | undefined)?.maxReplicas === 7 &&
        state.size === 5,
      { what: 'every change seen', timeoutMs: 20_000 },
    );
    expect([...state.keys()].sort()).toEqual([
      'team-a/before-start',
      'team-b/added-1',
      'team-b/added-2',
      'team-b/added-3',
      'team-b/added-4',
    ]);
    expect(state.get('team-a/before-start')?.metadata.generation).toBe(2);
    expect(deleted).toEqual(['team-b/added-0']);
  } finally {
    watch.stop();
  }
}, 60_000);

it('watches one namespace only when told to', async () => {
  const seen = new Set<string>();
  const kc = cp.kubeConfigFor();
  const watch = watchAutoscalers({
    kc,
    apis: kubernetesApis(kc),
    namespace: 'team-a',
    onApply: (o) => seen.add(`${o.metadata.namespace}/${o.metadata.name}`),
    onDelete: () => undefined,
    logger: memoryLogger('silent').logger,
  });
  try {
    await objects.create(wa('team-b', 'elsewhere', 2));
    await objects.create(wa('team-a', 'here', 2));
    await eventually(() => seen.has('team-a/here'), { what: 'team-a object' });
    expect([...seen].every((k) => k.startsWith('team-a/'))).toBe(true);
  } finally {
    watch.stop();
  }
}, 30_000);
