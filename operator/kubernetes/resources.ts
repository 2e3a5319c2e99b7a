import { apiStatus, k8s, mergePatch, type KubeConfig } from '../../lib/adapters/kubernetes/client';
import type { ScaleTarget } from '../reconciler';

export const GROUP = 'orderflow.io';
export const VERSION = 'v1alpha1';
export const PLURAL = 'workerautoscalers';
export const KIND = 'WorkerAutoscaler';
export const COMPONENT = 'orderflow-operator';

/** The API clients the operator uses, made once per KubeConfig. */
export function kubernetesApis(kc: KubeConfig) {
  return {
    custom: kc.makeApiClient(k8s.CustomObjectsApi),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    core: kc.makeApiClient(k8s.CoreV1Api),
    coordination: kc.makeApiClient(k8s.CoordinationV1Api),
  };
}

export type KubernetesApis = ReturnType<typeof kubernetesApis>;

/**
 * A Deployment through its scale subresource: the operator needs no read access to Deployments
 * themselves, and the scale subresource is what `kubectl scale` and the HPA use.
 */
export function deploymentScaleTarget(apis: KubernetesApis, namespace: string, name: string): ScaleTarget {
  return {
    name: `deployment/${name}`,
    async replicas() {
      try {
        const scale = await apis.apps.readNamespacedDeploymentScale({ name, namespace });
        return scale.spec?.replicas ?? 0;
      } catch (err) {
        if (apiStatus(err) === 404) return undefined;
        throw err;
      }
    },
    async scale(replicas) {
      await apis.apps.patchNamespacedDeploymentScale(
        { name, namespace, body: { spec: { replicas } }, fieldManager: COMPONENT },
        mergePatch(),
      );
    },
  };
}
