import { hostname } from 'node:os';
import type { ProcessContext, RunningRole } from '../../lib/process';
import { defaultKubeConfig, k8s, type KubeConfig } from '../../lib/adapters/kubernetes/client';
import type { ObservedAutoscaler } from '../runner';
import { autoscalerRuntime } from '../runtime';
import { workerAutoscalerSpec } from '../spec';
import type { AutoscalerStatus } from '../status';
import { LeaderElector } from './leader';
import { labelLeader } from './leader-label';
import { kubernetesReporter } from './report';
import { deploymentScaleTarget, kubernetesApis } from './resources';
import { watchAutoscalers, type CustomObject } from './watch';

/**
 * `orderflow operator`: watches WorkerAutoscalers and scales Deployments, but only while this
 * instance holds the leader Lease; standbys only take part in the election.
 */
export function kubernetesOperator(kc: KubeConfig = defaultKubeConfig()) {
  return async (ctx: ProcessContext): Promise<RunningRole> => {
    const { config, logger } = ctx;
    const apis = kubernetesApis(kc);
    const identity = config.operator.identity ?? `${hostname()}-${process.pid}`;
    const { metrics, runner, closeBrokers } = autoscalerRuntime(ctx, {
      target: (namespace, spec) => deploymentScaleTarget(apis, namespace, spec.scaleTargetRef.name, logger),
      report: kubernetesReporter(apis, identity, logger),
    });
    const apply = (object: CustomObject) => {
      const parsed = workerAutoscalerSpec.safeParse(object.spec);
      const ref = { namespace: object.metadata.namespace, name: object.metadata.name };
      if (!parsed.success) {
        // The CRD schema should have refused it; an older stored version may still be invalid.
        logger.error(
          { autoscaler: `${ref.namespace}/${ref.name}`, issues: parsed.error.issues },
          'invalid spec',
        );
        runner.remove(ref);
        return;
      }
      const observed: ObservedAutoscaler = {
        ...ref,
        uid: object.metadata.uid,
        generation: object.metadata.generation,
        spec: parsed.data,
        status: recordedStatus(object.status),
      };
      runner.upsert(observed);
    };
    let watch: { stop(): void } | undefined;
    // The pod this process runs in (the chart passes its name and namespace), labelled while it leads.
    const pod = { name: config.operator.identity, namespace: config.operator.lease.namespace };
    const elector = new LeaderElector({
      apis,
      name: config.operator.lease.name,
      namespace: config.operator.lease.namespace,
      identity,
      leaseDurationSeconds: config.operator.lease.durationSeconds,
      renewSeconds: config.operator.lease.renewSeconds,
      logger,
      onStartedLeading: () => {
        metrics.leader.set(1);
        void labelLeader(apis, pod, true, logger);
        watch = watchAutoscalers({
          kc,
          apis,
          namespace: config.operator.namespace,
          onApply: apply,
          onDelete: (ref) => runner.remove(ref),
          logger,
        });
      },
      onStoppedLeading: () => {
        metrics.leader.set(0);
        void labelLeader(apis, pod, false, logger);
        watch?.stop();
        watch = undefined;
        void runner.stop();
      },
    });
    metrics.leader.set(0);
    // A restarted container keeps its pod's labels: it leads nothing until it wins the Lease again.
    await labelLeader(apis, pod, false, logger);
    elector.start();
    logger.info(
      { identity, namespace: config.operator.namespace ?? '(all)', lease: config.operator.lease },
      'operator in Kubernetes mode; electing a leader',
    );
    return {
      readiness: {
        kubernetes: async () => {
          await kc.makeApiClient(k8s.VersionApi).getCode();
        },
      },
      routes: {
        '/v1/autoscalers': () => ({
          mode: 'kubernetes',
          identity,
          leader: elector.isLeader,
          autoscalers: runner.list(),
        }),
      },
      shutdown: [
        {
          name: 'autoscalers',
          run: async () => {
            watch?.stop();
            await runner.stop();
          },
        },
        { name: 'leader lease', run: () => elector.stop() },
        { name: 'leader label', run: () => labelLeader(apis, pod, false, logger) },
        { name: 'kafka admin and amqp probe', run: closeBrokers },
      ],
    };
  };
}

/** The status already on the object, when it has the shape we write. */
function recordedStatus(status: unknown): AutoscalerStatus | undefined {
  const s = status as Partial<AutoscalerStatus> | undefined;
  return s && Array.isArray(s.conditions) && Array.isArray(s.triggers) ? (s as AutoscalerStatus) : undefined;
}
