// client-node 1.x ships only as an ES module: Node 20.19+ require()s it, and jest compiles it (jest.config.js).
import * as k8s from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';

export { k8s };
export type { KubeConfig };

/** In a pod: the service account; elsewhere: $KUBECONFIG or ~/.kube/config. */
export function defaultKubeConfig(): KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  return kc;
}

/** The HTTP status of a failed API call (client-node's ApiException), or undefined for other errors. */
export function apiStatus(err: unknown): number | undefined {
  return err instanceof k8s.ApiException ? err.code : undefined;
}

/** Request options that send a JSON merge patch (client-node defaults to a JSON patch). */
export const mergePatch = () => k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
