/**
 * npm run bench:autoscaler -- --cluster [--orders N --rate R] — the in-cluster operator under a step of
 * load, on the kind cluster with the release deployed (`npm run cluster:up`, then `skaffold run`).
 * Every stage is slowed (STAGE_LATENCY_MS, WORKER_PREFETCH 1) so that its workers are the bottleneck,
 * `orderflow load`'s code places the orders through the node port, and the bench samples every 250 ms:
 * each stage queue's ready messages straight from RabbitMQ (AMQP, through a port-forward), the
 * WorkerAutoscalers' status and the worker pods. Per stage it prints when the live backlog first
 * crossed the per-replica target, when the operator scaled the Deployment up, and when the first new
 * pod was Ready: the operator's reaction and the pod's start time. Then the tasks each queue
 * redelivered (management API), and it puts the stages back as they were. Prints numbers; asserts
 * nothing.
 */
import { connect } from 'amqplib';
import { defaultKubeConfig, k8s } from '../../lib/adapters/kubernetes/client';
import { queueRedeliveries } from '../../lib/adapters/rabbitmq/management';
import { STAGES } from '../../lib/domain/pipeline';
import { stageQueue } from '../../lib/messaging';
import { DEMO_CUSTOMER, DEMO_PASSWORD } from '../../cli/demo-data';
import { runLoad } from '../../cli/load';
import {
  API_URL,
  CONTEXT,
  NAMESPACE,
  clusterTools,
  kubectl,
  kubectlJson,
  portForward,
} from '../../tests/support/cluster';

const SAMPLE_MS = 250;

interface Sample {
  t: number;
  ready: Record<string, number | undefined>;
  desired: Record<string, number | undefined>;
  scaled: Record<string, number | undefined>;
  readyPods: Record<string, number>;
  source: Record<string, string | undefined>;
}

export async function clusterBench(options: {
  orders: number;
  rate: number;
  stageLatencyMs: number;
}): Promise<void> {
  const { orders, rate, stageLatencyMs } = options;
  const tools = await clusterTools();
  const kc = defaultKubeConfig();
  kc.setCurrentContext(CONTEXT);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const deployments = STAGES.map((s) => `orderflow-worker-${s}`);

  console.log(
    `bench:autoscaler --cluster  ${orders} orders at ${rate}/s through ${API_URL}, STAGE_LATENCY_MS ${stageLatencyMs}, WORKER_PREFETCH 1`,
  );
  for (const d of deployments)
    await kubectl(tools, [
      'set',
      'env',
      `deployment/${d}`,
      `STAGE_LATENCY_MS=${stageLatencyMs}`,
      'WORKER_PREFETCH=1',
    ]);
  const restore = async () => {
    for (const d of deployments)
      await kubectl(tools, ['set', 'env', `deployment/${d}`, 'STAGE_LATENCY_MS-', 'WORKER_PREFETCH-']);
  };
  try {
    for (const d of deployments)
      await kubectl(tools, ['rollout', 'status', `deployment/${d}`, '--timeout=300s'], {
        timeoutMs: 320_000,
      });
    const atOne = async () => {
      for (const name of deployments) {
        const scale = await apps.readNamespacedDeploymentScale({ name, namespace: NAMESPACE });
        if ((scale.spec?.replicas ?? 0) !== 1) return false;
      }
      return true;
    };
    for (let i = 0; !(await atOne()); i++) {
      if (i > 240) throw new Error('the stages did not settle at one replica');
      await new Promise((r) => setTimeout(r, 1000));
    }

    const secret = await kubectlJson(tools, ['get', 'secret', 'orderflow-rabbitmq']);
    const decode = (key: string) => Buffer.from(secret.data[key], 'base64').toString();
    const [user, pass] = [decode('RABBITMQ_DEFAULT_USER'), decode('RABBITMQ_DEFAULT_PASS')];
    const amqpForward = await portForward(tools, 'service/orderflow-rabbitmq', 5672);
    const managementForward = await portForward(tools, 'service/orderflow-rabbitmq', 15672);
    const amqp = await connect(
      `amqp://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@127.0.0.1:${amqpForward.port}`,
    );
    const channel = await amqp.createChannel();
    const managementUrl = `http://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@127.0.0.1:${managementForward.port}`;
    const redelivered = async () => {
      const counts: Record<string, number> = {};
      for (const stage of STAGES) counts[stage] = await queueRedeliveries(managementUrl, stageQueue(stage));
      return counts;
    };
    const redeliveredBefore = await redelivered();
    const targets: Record<string, number> = {};

    const samples: Sample[] = [];
    const started = Date.now();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const at = Date.now();
        const [ready, autoscalers, pods, scales] = await Promise.all([
          Promise.all(STAGES.map((s) => channel.checkQueue(stageQueue(s)).then((q) => q.messageCount))),
          custom.listNamespacedCustomObject({
            group: 'orderflow.io',
            version: 'v1alpha1',
            namespace: NAMESPACE,
            plural: 'workerautoscalers',
          }) as Promise<{
            items: {
              metadata: { name: string };
              spec: { triggers: { type: string; metadata: { messagesPerReplica?: number } }[] };
              status?: { desiredReplicas?: number; triggers?: { name: string; source?: string }[] };
            }[];
          }>,
          core.listNamespacedPod({
            namespace: NAMESPACE,
            labelSelector: 'app.kubernetes.io/component=worker',
          }),
          Promise.all(
            deployments.map((name) => apps.readNamespacedDeploymentScale({ name, namespace: NAMESPACE })),
          ),
        ]).catch(() => [undefined, undefined, undefined, undefined] as const);
        if (ready && autoscalers && pods && scales) {
          const sample: Sample = {
            t: at - started,
            ready: {},
            desired: {},
            scaled: {},
            readyPods: {},
            source: {},
          };
          STAGES.forEach((stage, i) => {
            const wa = autoscalers.items.find((a) => a.metadata.name === `orderflow-worker-${stage}`);
            targets[stage] ??=
              wa?.spec.triggers.find((t) => t.type === 'rabbitmq')?.metadata.messagesPerReplica ?? 0;
            sample.ready[stage] = ready[i];
            sample.desired[stage] = wa?.status?.desiredReplicas;
            sample.source[stage] = wa?.status?.triggers?.find(
              (t) => t.name === `rabbitmq:${stageQueue(stage)}`,
            )?.source;
            sample.scaled[stage] = scales[i]!.spec?.replicas;
            sample.readyPods[stage] = pods.items.filter(
              (p) =>
                p.metadata?.labels?.['orderflow.io/stage'] === stage &&
                !p.metadata?.deletionTimestamp &&
                (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
            ).length;
          });
          samples.push(sample);
        }
        await new Promise((r) => setTimeout(r, Math.max(0, SAMPLE_MS - (Date.now() - at))));
      }
    })();

    const summary = await runLoad(
      {
        url: API_URL,
        email: DEMO_CUSTOMER,
        password: DEMO_PASSWORD,
        orders,
        rate,
        concurrency: 16,
        token: 'tok_visa',
        timeoutSeconds: 600,
      },
      () => undefined,
    );
    // Until every stage is back at one replica (the scale-down windows), then the counters settle.
    for (let i = 0; i < 600 && !(await atOne()); i++) await new Promise((r) => setTimeout(r, 1000));
    await new Promise((r) => setTimeout(r, 6000));
    sampling = false;
    await sampler;
    const redeliveredAfter = await redelivered();
    await amqp.close();
    amqpForward.stop();
    managementForward.stop();

    const s = (ms: number | undefined) =>
      ms === undefined ? '    -  ' : `${(ms / 1000).toFixed(1).padStart(5)} s`;
    console.log(
      `  orders: ${summary.accepted} accepted, ${JSON.stringify(summary.finished)}; end-to-end p50 ${summary.endToEndMs.p50} ms, p99 ${summary.endToEndMs.p99} ms`,
    );
    console.log(
      '  stage      target  live>target  scaled up   new pod Ready   reaction (scale-up - live)   pod start (Ready - scale-up)   peak Ready   live readings',
    );
    for (const stage of STAGES) {
      const crossed = samples.find((x) => (x.ready[stage] ?? 0) > targets[stage]!)?.t;
      const after = (t: number | undefined) => (t === undefined ? [] : samples.filter((x) => x.t >= t));
      const scaled = after(crossed).find((x) => (x.scaled[stage] ?? 0) > 1)?.t;
      const podReady = after(scaled).find((x) => x.readyPods[stage]! > 1)?.t;
      const sources = samples.map((x) => x.source[stage]).filter(Boolean);
      console.log(
        `  ${stage.padEnd(10)} ${String(targets[stage]).padStart(6)}  ${s(crossed)}      ${s(scaled)}     ${s(podReady)}         ` +
          `${s(scaled !== undefined && crossed !== undefined ? scaled - crossed : undefined)}                        ` +
          `${s(podReady !== undefined && scaled !== undefined ? podReady - scaled : undefined)}                  ` +
          `${String(Math.max(...samples.map((x) => x.readyPods[stage]!))).padStart(3)}        ` +
          `${sources.filter((x) => x === 'amqp+workers').length} of ${sources.length} amqp+workers`,
      );
    }
    console.log(
      `  tasks redelivered during the run (scale-ups and scale-downs included): ${STAGES.map((st) => `${st} ${redeliveredAfter[st]! - redeliveredBefore[st]!}`).join(', ')}`,
    );
    console.log(
      '  live: ready messages read over AMQP by this bench every 250 ms (with one task held per pod at WORKER_PREFETCH 1, within a',
    );
    console.log(
      "  task or two of what the operator reads); scaled up: the Deployment's scale; Ready: the pod's condition.",
    );
  } finally {
    await restore();
  }
}
