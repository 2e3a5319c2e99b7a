import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  RbacAuthorizationV1Api,
  type V1Deployment,
} from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../support/control-plane';
import { eventually, uniqueName } from '../support/services';

/**
 * The control plane the operator's tests run against: a real kube-apiserver and etcd. These pin down the
 * behaviour the operator depends on: the Deployment scale subresource, optimistic concurrency on it, and
 * RBAC actually refusing a user who was granted nothing.
 */

const VIEWER = { name: 'orderflow-viewer', token: 'viewer-token-for-tests', groups: ['orderflow:testers'] };

let cp: ControlPlane;
let apps: AppsV1Api;
let namespace: string;

beforeAll(async () => {
  cp = await startControlPlane({ users: [VIEWER] });
  const kc = cp.kubeConfigFor();
  apps = kc.makeApiClient(AppsV1Api);
  namespace = uniqueName('orderflow');
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
}, 120_000);

afterAll(async () => {
  await cp?.stop();
}, 30_000);

function deployment(name: string): V1Deployment {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'worker', image: 'orderflow:test' }] },
      },
    },
  };
}

async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
}

test('serves over TLS that the kubeconfig verifies, on loopback', () => {
  expect(cp.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  expect(cp.kubeconfig()).toContain('certificate-authority-data:');
  expect(cp.kubeconfig()).not.toContain('insecure-skip-tls-verify');
});

test('a Deployment scales through its scale subresource', async () => {
  const name = uniqueName('worker');
  await apps.createNamespacedDeployment({ namespace, body: deployment(name) });

  const scale = await apps.readNamespacedDeploymentScale({ name, namespace });
  expect(scale.spec?.replicas).toBe(1);

  const replaced = await apps.replaceNamespacedDeploymentScale({
    name,
    namespace,
    body: { ...scale, spec: { replicas: 3 } },
  });
  expect(replaced.spec?.replicas).toBe(3);

  const read = await apps.readNamespacedDeployment({ name, namespace });
  expect(read.spec?.replicas).toBe(3);
  expect(read.metadata?.generation).toBe(2);
});

test('a scale written against a stale resourceVersion is refused with 409', async () => {
  const name = uniqueName('worker');
  await apps.createNamespacedDeployment({ namespace, body: deployment(name) });
  const stale = await apps.readNamespacedDeploymentScale({ name, namespace });
  await apps.replaceNamespacedDeploymentScale({ name, namespace, body: { ...stale, spec: { replicas: 2 } } });

  const status = await statusOf(
    apps.replaceNamespacedDeploymentScale({ name, namespace, body: { ...stale, spec: { replicas: 5 } } }),
  );

  expect(status).toBe(409);
  expect((await apps.readNamespacedDeployment({ name, namespace })).spec?.replicas).toBe(2);
});

test('RBAC refuses an authenticated user until a role grants the verb', async () => {
  const viewerApps = cp.kubeConfigFor(VIEWER.name).makeApiClient(AppsV1Api);

  // 403, not 401: the token authenticated the user, and the authorizer said no.
  expect(await statusOf(viewerApps.listNamespacedDeployment({ namespace }))).toBe(403);

  const rbac = cp.kubeConfigFor().makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name: 'deployment-reader' },
      rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list'] }],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'testers-read-deployments' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'deployment-reader' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: VIEWER.groups[0]! }],
    },
  });

  // The RBAC authorizer reads roles from an informer cache, so the grant lands a moment later.
  await eventually(async () => (await statusOf(viewerApps.listNamespacedDeployment({ namespace }))) === 200, {
    what: 'the role binding to take effect',
  });
  expect(await statusOf(viewerApps.deleteNamespacedDeployment({ name: 'any', namespace }))).toBe(403);
  expect(
    await statusOf(cp.kubeConfigFor().makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace })),
  ).toBe(200);
});
