import type { ScaleTarget } from '../reconciler';

/** Local names mirror the chart's Deployments: `orderflow-worker-pay` is the supervisor role `worker-pay`. */
export const roleOf = (deploymentName: string) => deploymentName.replace(/^orderflow-/, '');

/**
 * A role of `orderflow up`'s supervisor as a scale target, through its loopback control endpoint
 * (GET / PUT /v1/roles/<role>/replicas; GET /v1/roles/<role>/held for the tasks its instances hold).
 * The supervisor itself stops the instances holding the least work first.
 */
export function supervisorTarget(controlUrl: string, deploymentName: string): ScaleTarget {
  const role = roleOf(deploymentName);
  const url = `${controlUrl.replace(/\/$/, '')}/v1/roles/${encodeURIComponent(role)}/replicas`;
  const call = async (init: RequestInit = {}) => {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`supervisor answered ${res.status} for role ${role}: ${await res.text()}`);
    return ((await res.json()) as { replicas: number }).replicas;
  };
  return {
    name: `${deploymentName} (role ${role})`,
    replicas: () => call(),
    async scale(replicas) {
      const result = await call({
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ replicas }),
      });
      if (result === undefined) throw new Error(`the supervisor has no role ${role}`);
    },
    async held() {
      const res = await fetch(url.replace(/\/replicas$/, '/held'), { signal: AbortSignal.timeout(2000) });
      if (!res.ok) throw new Error(`supervisor answered ${res.status} for role ${role}: ${await res.text()}`);
      return ((await res.json()) as { held: number }).held;
    },
  };
}
