import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { apiStatus, k8s, type KubeConfig } from '../../lib/adapters/kubernetes/client';
import { createLogger } from '../../lib/telemetry/logger';
import {
  deploymentScaleTarget,
  kubernetesApis,
  POD_DELETION_COST,
} from '../../operator/kubernetes/resources';
import { rabbitBacklog } from '../support/backlog';
import { startControlPlane, type ControlPlane } from '../support/control-plane';
import { eventually, freePort, MAIN, runOrderflow, testConfig, uniqueName } from '../support/services';

/**
 * Kubernetes mode end to end: a real kube-apiserver and etcd, the CRD and the RBAC exactly as shipped in
 * k8s/, two real operator processes authenticated as the operator's service account, and a real
 * RabbitMQ backlog. No controller-manager runs, so a Deployment's replicas are what the scale
 * subresource says; that is what the operator sets.
 */

const ROOT = join(__dirname, '../..');
const config = testConfig();
const OPERATOR_NS = 'orderflow';
const APPS_NS = 'shop';
// A static token whose user is the operator's ServiceAccount, so the shipped RBAC applies as in a pod.
const OPERATOR_USER = {
  name: `system:serviceaccount:${OPERATOR_NS}:orderflow-operator`,
  token: randomBytes(16).toString('hex'),
  groups: ['system:serviceaccounts', `system:serviceaccounts:${OPERATOR_NS}`],
};

// client-node's own loader: it maps `default` and `x-kubernetes-validations` onto its typed models,
// which plain YAML objects would lose on the way through its serializer.
const manifests = (file: string) =>
  k8s.loadAllYaml(readFileSync(join(ROOT, file), 'utf8')) as k8s.KubernetesObject[];

const workerAutoscaler = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'orderflow.io/v1alpha1',
  kind: 'WorkerAutoscaler',
  metadata: { name, namespace: APPS_NS },
  spec,
});

interface Operator {
  name: string;
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

let cp: ControlPlane;
let admin: KubeConfig;
let apps: InstanceType<typeof k8s.AppsV1Api>;
let core: InstanceType<typeof k8s.CoreV1Api>;
let custom: InstanceType<typeof k8s.CustomObjectsApi>;
let objects: InstanceType<typeof k8s.KubernetesObjectApi>;
const operators: Operator[] = [];
const queue = uniqueName('test.k8s-autoscale');
const backlog = rabbitBacklog(config.rabbitmq.managementUrl, queue);

async function startOperator(name: string, kubeconfigPath: string): Promise<Operator> {
  const port = await freePort();
  const { child, exited } = runOrderflow(['operator'], {
    KUBECONFIG: kubeconfigPath,
    PORT: String(port),
    POD_NAME: name,
    OPERATOR_LEASE_NAMESPACE: OPERATOR_NS,
    OPERATOR_LEASE_DURATION_SECONDS: '4',
    OPERATOR_LEASE_RENEW_SECONDS: '1',
    LOG_LEVEL: 'info',
  });
  const operator = { name, child, url: `http://127.0.0.1:${port}`, exited };
  operators.push(operator);
  return operator;
}

const isLeader = async (op: Operator) => {
  const res = await fetch(`${op.url}/v1/autoscalers`).catch(() => undefined);
  return res?.ok ? ((await res.json()) as { leader: boolean }).leader : undefined;
};

const replicas = async (name: string, namespace = APPS_NS) =>
  (await apps.readNamespacedDeploymentScale({ name, namespace })).spec?.replicas;

const readAutoscaler = async (name: string) =>
  (await custom.getNamespacedCustomObject({
    group: 'orderflow.io',
    version: 'v1alpha1',
    namespace: APPS_NS,
    plural: 'workerautoscalers',
    name,
  })) as {
    metadata: { generation: number };
    status?: {
      desiredReplicas: number;
      currentReplicas: number;
      observedGeneration?: number;
      lastScaleTime?: string;
      triggers: { name: string; value?: number }[];
      conditions: { type: string; status: string; reason: string }[];
    };
  };

const events = async (involved: string) =>
  (await core.listNamespacedEvent({ namespace: APPS_NS })).items.filter(
    (e) => e.involvedObject.name === involved,
  );

beforeAll(async () => {
  cp = await startControlPlane({ users: [OPERATOR_USER] });
  admin = cp.kubeConfigFor();
  apps = admin.makeApiClient(k8s.AppsV1Api);
  core = admin.makeApiClient(k8s.CoreV1Api);
  custom = admin.makeApiClient(k8s.CustomObjectsApi);
  objects = k8s.KubernetesObjectApi.makeApiClient(admin);
  for (const ns of [OPERATOR_NS, APPS_NS]) await core.createNamespace({ body: { metadata: { name: ns } } });
  for (const object of [
    ...manifests('k8s/crd-workerautoscaler.yaml'),
    ...manifests('k8s/operator-rbac.yaml'),
  ])
    await objects.create(object);
  const extensions = admin.makeApiClient(k8s.ApiextensionsV1Api);
  await eventually(
    async () =>
      (
        await extensions.readCustomResourceDefinition({ name: 'workerautoscalers.orderflow.io' })
      ).status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'),
    { what: 'CRD established' },
  );
  await apps.createNamespacedDeployment({
    namespace: APPS_NS,
    body: {
      metadata: { name: 'orderflow-worker-pay' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'worker-pay' } },
        template: {
          metadata: { labels: { app: 'worker-pay' } },
          spec: {
            containers: [{ name: 'worker', image: 'orderflow:test', args: ['worker', '--stages', 'pay'] }],
          },
        },
      },
    },
  });
  await backlog.create();
}, 180_000);

afterAll(async () => {
  for (const op of operators) if (op.child.exitCode === null) op.child.kill('SIGKILL');
  await backlog.remove().catch(() => undefined);
  await cp?.stop();
}, 60_000);

describe('the WorkerAutoscaler schema', () => {
  it.each([
    ['minReplicas above maxReplicas', { minReplicas: 5, maxReplicas: 2 }, /minReplicas/],
    ['an unknown trigger type', { triggers: [{ type: 'redis', metadata: { list: 'x' } }] }, /redis/],
    [
      'a negative target',
      { triggers: [{ type: 'rabbitmq', metadata: { queue: 'q', messagesPerReplica: -1 } }] },
      /messagesPerReplica/,
    ],
  ])('rejects %s with 422', async (_, change, message) => {
    const spec = {
      scaleTargetRef: { name: 'orderflow-worker-pay' },
      maxReplicas: 3,
      triggers: [{ type: 'rabbitmq', metadata: { queue: 'q', messagesPerReplica: 10 } }],
      ...change,
    };
    const created = objects.create(workerAutoscaler(uniqueName('invalid'), spec));
    const err = await created.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(apiStatus(err)).toBe(422);
    expect(String((err as { body?: unknown }).body)).toMatch(message);
  });
});

describe('orderflow operator on Kubernetes', () => {
  it('elects one leader, scales the Deployment from queue depth, writes status and Events', async () => {
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'orderflow-kube-')), 'config');
    writeFileSync(kubeconfig, cp.kubeconfig(OPERATOR_USER.name), { mode: 0o600 });
    // The pods the two operators would run in (no kubelet here): each labels its own while it leads.
    for (const name of ['operator-a', 'operator-b'])
      await core.createNamespacedPod({
        namespace: OPERATOR_NS,
        body: { metadata: { name }, spec: { containers: [{ name: 'operator', image: 'orderflow:test' }] } },
      });
    const leaderLabels = async () =>
      Object.fromEntries(
        await Promise.all(
          ['operator-a', 'operator-b'].map(async (name) => [
            name,
            (await core.readNamespacedPod({ name, namespace: OPERATOR_NS })).metadata?.labels?.[
              'orderflow.io/operator-leader'
            ],
          ]),
        ),
      );
    const [a, b] = [
      await startOperator('operator-a', kubeconfig),
      await startOperator('operator-b', kubeconfig),
    ];
    await eventually(async () => (await isLeader(a)) !== undefined && (await isLeader(b)) !== undefined, {
      what: 'both operators serving',
    });
    await eventually(async () => [await isLeader(a), await isLeader(b)].filter(Boolean).length === 1, {
      what: 'exactly one leader',
    });
    const leading = (await isLeader(a)) ? a : b;
    await eventually(
      async () =>
        JSON.stringify(await leaderLabels()) ===
        JSON.stringify({
          'operator-a': String(leading === a),
          'operator-b': String(leading === b),
        }),
      { what: 'the leader pod labelled true, the standby false' },
    );

    // The whole backlog is in place before the autoscaler exists, so it scales in one step.
    await backlog.publish(45);
    await backlog.settled(45);
    await objects.create(
      workerAutoscaler('worker-pay', {
        scaleTargetRef: { name: 'orderflow-worker-pay' },
        minReplicas: 1,
        maxReplicas: 6,
        pollingIntervalSeconds: 1,
        triggers: [{ type: 'rabbitmq', metadata: { queue, messagesPerReplica: 10 } }],
        behavior: { scaleDown: { stabilizationWindowSeconds: 3 } },
      }),
    );
    await objects.create(
      workerAutoscaler('no-target', {
        scaleTargetRef: { name: 'orderflow-missing' },
        maxReplicas: 2,
        triggers: [{ type: 'rabbitmq', metadata: { queue, messagesPerReplica: 10 } }],
      }),
    );
    await eventually(async () => (await replicas('orderflow-worker-pay')) === 5, {
      what: 'the Deployment at 5 replicas',
      timeoutMs: 30_000,
    });

    const leader = (await isLeader(a)) ? a : b;
    const follower = leader === a ? b : a;
    const view = await eventually(
      async () => {
        const wa = await readAutoscaler('worker-pay');
        return wa.status?.desiredReplicas === 5 ? wa : undefined;
      },
      { what: 'status written' },
    );
    expect(view.status).toEqual(
      expect.objectContaining({
        currentReplicas: 5,
        observedGeneration: view.metadata.generation,
        triggers: [expect.objectContaining({ name: `rabbitmq:${queue}`, value: 45 })],
      }),
    );
    expect(view.status?.lastScaleTime).toEqual(expect.any(String));
    expect(view.status?.conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'Ready', status: 'True' }),
        expect.objectContaining({ type: 'Active', status: 'True' }),
        expect.objectContaining({ type: 'ScalingLimited', status: 'False' }),
        expect.objectContaining({ type: 'Fallback', status: 'False' }),
      ]),
    );
    const scaledUp = (await events('worker-pay')).filter((e) => e.reason === 'ScaledUp');
    expect(scaledUp).toHaveLength(1);
    expect(scaledUp[0]).toEqual(
      expect.objectContaining({
        type: 'Normal',
        reportingInstance: leader.name,
        message: expect.stringMatching(/1 -> 5/),
      }),
    );

    // `orderflow status --kubernetes` shows what the operator wrote, to a person and to a script.
    const adminConfig = join(mkdtempSync(join(tmpdir(), 'orderflow-kube-')), 'config');
    writeFileSync(adminConfig, cp.kubeconfig(), { mode: 0o600 });
    const status = (...args: string[]) =>
      execFileSync(process.execPath, [MAIN, 'status', '--kubernetes', '-n', APPS_NS, ...args], {
        env: { ...process.env, KUBECONFIG: adminConfig },
      }).toString();
    const views = JSON.parse(status('--json')) as { name: string; status?: { desiredReplicas: number } }[];
    expect(views.find((v) => v.name === 'worker-pay')?.status?.desiredReplicas).toBe(5);
    expect(status()).toMatch(
      new RegExp(
        `shop/worker-pay\\s+orderflow-worker-pay\\s+1\\s+6\\s+5\\s+5\\s+True\\s+True\\s+rabbitmq:${queue}=45→5`,
      ),
    );

    // A target that does not exist: not Ready, one Warning, nothing scaled.
    await eventually(
      async () =>
        (await readAutoscaler('no-target')).status?.conditions.some(
          (c) => c.type === 'Ready' && c.status === 'False' && c.reason === 'TargetNotFound',
        ),
      { what: 'no-target not Ready' },
    );
    expect((await events('no-target')).map((e) => `${e.type}/${e.reason}`)).toEqual([
      'Warning/TargetNotFound',
    ]);

    // Only the leader acts: the follower has no autoscalers loaded and counted no scale event.
    const followerView = (await (await fetch(`${follower.url}/v1/autoscalers`)).json()) as {
      autoscalers: unknown[];
    };
    expect(followerView.autoscalers).toEqual([]);
    const followerMetrics = await (await fetch(`${follower.url}/metrics`)).text();
    expect(followerMetrics).toMatch(/orderflow_autoscaler_leader\{[^}]*\} 0/);
    expect(followerMetrics).not.toMatch(/orderflow_autoscaler_scale_events_total\{/);
    const leaderMetrics = await (await fetch(`${leader.url}/metrics`)).text();
    expect(leaderMetrics).toMatch(/orderflow_autoscaler_leader\{[^}]*\} 1/);
    expect(leaderMetrics).toMatch(/orderflow_autoscaler_scale_events_total\{[^}]*direction="up"[^}]*\} 1/);

    // The leader dies without a word; the other takes over once the Lease expires and scales down.
    leader.child.kill('SIGKILL');
    await eventually(async () => (await isLeader(follower)) === true, {
      what: 'the follower takes over',
      timeoutMs: 20_000,
    });
    await eventually(async () => (await leaderLabels())[follower.name] === 'true', {
      what: "the new leader's pod labelled",
    });
    await backlog.purge();
    await eventually(async () => (await replicas('orderflow-worker-pay')) === 1, {
      what: 'scaled back to 1 by the new leader',
      timeoutMs: 30_000,
    });
    const scaledDown = (await events('worker-pay')).filter((e) => e.reason === 'ScaledDown');
    expect(scaledDown).toEqual([expect.objectContaining({ reportingInstance: follower.name })]);
    expect((await readAutoscaler('worker-pay')).status?.conditions).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'Active', status: 'False' })]),
    );

    // A clean stop hands the Lease back at once.
    follower.child.kill('SIGTERM');
    expect(await follower.exited).toBe(0);
    const lease = await admin
      .makeApiClient(k8s.CoordinationV1Api)
      .readNamespacedLease({ name: 'orderflow-operator', namespace: OPERATOR_NS });
    expect(lease.spec?.holderIdentity ?? '').toBe('');
    expect(lease.spec?.leaseTransitions).toBeGreaterThanOrEqual(1);
  }, 180_000);
});

describe('a Deployment as the operator scales it', () => {
  /** A worker's /metrics as it would read while holding `held` tasks; undefined: not answering. */
  async function workerMetrics(held: number | undefined): Promise<{ port: number; server?: Server }> {
    if (held === undefined) return { port: await freePort() };
    const server = createServer((_req, res) =>
      res.end(`# TYPE orderflow_stage_in_flight gauge\norderflow_stage_in_flight{stage="reserve"} ${held}\n`),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as AddressInfo).port, server };
  }

  it('reads what each pod holds and marks their deletion costs before a scale-down, with the shipped RBAC', async () => {
    // No kubelet runs here: each pod's status is written as a kubelet would, its address is this
    // machine, and its metrics port a server that answers as a worker holding that many tasks.
    const name = 'orderflow-worker-reserve';
    const labels = { app: 'worker-reserve' };
    await apps.createNamespacedDeployment({
      namespace: OPERATOR_NS,
      body: {
        metadata: { name },
        spec: {
          replicas: 3,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: 'worker', image: 'orderflow:test' }] },
          },
        },
      },
    });
    // busy: mid-batch; idle: nothing; silent: Ready but its metrics do not answer.
    const pods = {
      busy: await workerMetrics(7),
      idle: await workerMetrics(0),
      silent: await workerMetrics(undefined),
    };
    try {
      for (const [pod, { port }] of Object.entries(pods)) {
        await core.createNamespacedPod({
          namespace: OPERATOR_NS,
          body: {
            metadata: { name: `reserve-${pod}`, labels },
            spec: {
              containers: [
                {
                  name: 'worker',
                  image: 'orderflow:test',
                  ports: [{ name: 'metrics', containerPort: port }],
                },
              ],
            },
          },
        });
        await core.patchNamespacedPodStatus(
          {
            name: `reserve-${pod}`,
            namespace: OPERATOR_NS,
            body: {
              status: {
                phase: 'Running',
                podIP: '127.0.0.1',
                conditions: [{ type: 'Ready', status: 'True' }],
              },
            },
          },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        );
      }
      const kc = new k8s.KubeConfig();
      kc.loadFromString(cp.kubeconfig(OPERATOR_USER.name));
      const logger = createLogger({ role: 'test', level: 'silent' });
      const target = deploymentScaleTarget(kubernetesApis(kc), OPERATOR_NS, name, logger);

      // A Ready pod that cannot tell what it holds makes the live reading fail (the management API answers).
      await expect(target.held!()).rejects.toThrow(/reserve-silent/);
      await target.scale(1);
      expect(await replicas(name, OPERATOR_NS)).toBe(1);
      const costs = Object.fromEntries(
        (
          await core.listNamespacedPod({ namespace: OPERATOR_NS, labelSelector: 'app=worker-reserve' })
        ).items.map((p) => [p.metadata!.name, p.metadata!.annotations?.[POD_DELETION_COST]]),
      );
      // The ReplicaSet deletes the lowest cost first: the idle pod, then the busy one; the silent one
      // counts as busier than any that answered.
      expect(costs).toEqual({ 'reserve-busy': '7', 'reserve-idle': '0', 'reserve-silent': '8' });

      // Outside its own namespace it has no pod access: no live reading there (nor costs).
      const elsewhere = deploymentScaleTarget(kubernetesApis(kc), APPS_NS, 'orderflow-worker-pay', logger);
      await expect(elsewhere.held!()).rejects.toThrow();
    } finally {
      for (const { server } of Object.values(pods)) server?.close();
    }
  });
});
