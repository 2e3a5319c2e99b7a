import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

/**
 * The Helm chart, the plain manifests in k8s/, kind-config.yaml and skaffold.yaml, checked by rendering
 * with a real helm (built once by scripts/stack/helm.sh) and reading what a cluster would receive.
 */

const ROOT = join(__dirname, '../..');
const CHART = join(ROOT, 'charts/orderflow');
const CI_DIR = join(CHART, 'ci');
const CI_FILES = readdirSync(CI_DIR)
  .filter((f) => f.endsWith('-values.yaml'))
  .sort();
const STAGES = ['validate', 'reserve', 'pay', 'complete'];

// Loosely typed on purpose: these are arbitrary Kubernetes objects, read field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type K8sObject = any;

let helmBin = '';

function helm(args: string[]) {
  const run = spawnSync(helmBin, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (run.error) throw run.error;
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function render(...extra: string[]): K8sObject[] {
  const run = helm(['template', 'orderflow', CHART, '--namespace', 'orderflow', ...extra]);
  if (run.status !== 0) throw new Error(`helm template ${extra.join(' ')} failed:\n${run.stderr}`);
  return parseAllDocuments(run.stdout)
    .map((doc) => doc.toJS())
    .filter((obj) => obj);
}

const renderCi = (file: string) => render('-f', join(CI_DIR, file));
// ci/local-images-values.yaml is an overlay: skaffold's local-images profile adds it after the kind values.
const KIND_LOCAL = ['-f', join(CI_DIR, 'kind-values.yaml'), '-f', join(CI_DIR, 'local-images-values.yaml')];
const KRAFT = ['--set', 'kafka.strimzi.enabled=false', '--set', 'kafka.kraft.enabled=true'];

const readYaml = (path: string) => parse(readFileSync(join(ROOT, path), 'utf8'));
const readYamlDocs = (path: string): K8sObject[] =>
  parseAllDocuments(readFileSync(join(ROOT, path), 'utf8'))
    .map((d) => d.toJS())
    .filter((o) => o);

const ofKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
/** The Deployments that run Orderflow's own image (not the development Prometheus beside them). */
const orderflowDeployments = (objects: K8sObject[]) =>
  ofKind(objects, 'Deployment').filter(
    (o) => o.metadata.labels?.['app.kubernetes.io/component'] !== 'prometheus',
  );
const named = (objects: K8sObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
const podTemplates = (objects: K8sObject[]) =>
  objects
    .filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind))
    .map((o) => ({ owner: `${o.kind}/${o.metadata.name}`, spec: o.spec.template.spec }));
const envOf = (container: K8sObject) =>
  Object.fromEntries(
    (container.env as K8sObject[]).map((e) => [e.name, e.value ?? e.valueFrom] as [string, unknown]),
  );

const examples = readdirSync(join(ROOT, 'k8s/examples'))
  .sort()
  .map((f) => readYaml(`k8s/examples/${f}`));

beforeAll(() => {
  helmBin = spawnSync('bash', ['scripts/stack/helm.sh', 'path'], {
    cwd: ROOT,
    encoding: 'utf8',
  }).stdout.trim();
  if (!existsSync(helmBin)) {
    // npm test builds it first; a bare `npx jest` on a fresh machine builds it here (minutes, once).
    const ensure = spawnSync('bash', ['scripts/stack/helm.sh', 'ensure'], { cwd: ROOT, encoding: 'utf8' });
    if (ensure.status !== 0) throw new Error(`helm.sh ensure failed:\n${ensure.stderr}`);
    helmBin = ensure.stdout.trim();
  }
}, 1_200_000);

describe('helm lint', () => {
  it('passes on the chart with its defaults', () => {
    const run = helm(['lint', CHART]);
    expect(run.stderr + run.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(run.status).toBe(0);
  });

  it.each(CI_FILES)('passes --strict with ci/%s', (file) => {
    const run = helm(['lint', '--strict', CHART, '-f', join(CI_DIR, file)]);
    expect(run.stdout).not.toContain('[WARNING]');
    expect(run.status).toBe(0);
  });

  it('has the scenarios the chart promises', () => {
    expect(CI_FILES).toEqual(
      expect.arrayContaining([
        'default-values.yaml',
        'kind-values.yaml',
        'strimzi-values.yaml',
        'external-services-values.yaml',
        'operator-disabled-values.yaml',
        'local-images-values.yaml',
      ]),
    );
  });

  it('passes --strict with the local images over the kind values, as skaffold deploys them', () => {
    const run = helm(['lint', '--strict', CHART, ...KIND_LOCAL]);
    expect(run.stdout).not.toContain('[WARNING]');
    expect(run.status).toBe(0);
  });
});

describe.each(CI_FILES)('helm template with ci/%s', (file) => {
  let objects: K8sObject[] = [];
  let deployments: K8sObject[] = [];
  beforeAll(() => {
    objects = renderCi(file);
    deployments = orderflowDeployments(objects);
  });

  it('names one worker Deployment per stage exactly as k8s/examples targets them, each on its own stage', () => {
    const targets = examples.map((e) => e.spec.scaleTargetRef.name as string);
    for (const target of targets) expect(named(objects, 'Deployment', target)).toBeDefined();
    for (const stage of STAGES) {
      const worker = named(objects, 'Deployment', `orderflow-worker-${stage}`);
      const [container] = worker.spec.template.spec.containers;
      expect(container.args).toEqual(['worker', '--stages', stage]);
    }
    const workers = deployments.filter((d) => d.metadata.name.startsWith('orderflow-worker-'));
    expect(workers).toHaveLength(STAGES.length);
  });

  it('runs no container as root and drops every capability', () => {
    for (const { owner, spec } of podTemplates(objects)) {
      for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
        const runAsNonRoot = container.securityContext?.runAsNonRoot ?? spec.securityContext?.runAsNonRoot;
        const runAsUser = container.securityContext?.runAsUser ?? spec.securityContext?.runAsUser;
        expect({ owner, runAsNonRoot }).toEqual({ owner, runAsNonRoot: true });
        expect({ owner, rootUser: runAsUser === 0 }).toEqual({ owner, rootUser: false });
        expect({ owner, drop: container.securityContext?.capabilities?.drop }).toEqual({
          owner,
          drop: ['ALL'],
        });
        expect({ owner, escalation: container.securityContext?.allowPrivilegeEscalation }).toEqual({
          owner,
          escalation: false,
        });
      }
    }
  });

  it('gives every Deployment liveness and readiness probes on /healthz and /readyz', () => {
    expect(deployments.length).toBeGreaterThan(0);
    for (const deployment of deployments) {
      for (const container of deployment.spec.template.spec.containers) {
        expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
        expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
      }
    }
  });

  it('binds every Orderflow process to 0.0.0.0 on its PORT, read-only, from the one image', () => {
    for (const deployment of deployments) {
      const [container] = deployment.spec.template.spec.containers;
      const env = envOf(container);
      expect(env.HOST).toBe('0.0.0.0');
      expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
      const port = container.ports.find((p: K8sObject) => p.containerPort === Number(env.PORT));
      expect(port).toBeDefined();
      const component = deployment.metadata.labels['app.kubernetes.io/component'];
      const expected = component === 'api' ? 8080 : component === 'operator' ? 9400 : 9100;
      expect({ component, port: Number(env.PORT) }).toEqual({ component, port: expected });
      if (component !== 'api') expect(port.name).toBe('metrics');
      for (const key of ['DATABASE_URL', 'RABBITMQ_URL', 'RABBITMQ_MANAGEMENT_URL', 'JWT_SECRET']) {
        expect(env[key]).toEqual({ secretKeyRef: expect.objectContaining({ key }) });
      }
      expect(env.KAFKA_BROKERS).toMatch(/^[^:,\s]+:\d+(,[^:,\s]+:\d+)*$/);
    }
  });

  it('migrates with a hook Job whose first step is `orderflow migrate`', () => {
    const job = named(objects, 'Job', 'orderflow-migrate');
    // With migrations.seedDemoData (kind) `orderflow seed` follows it, and migrate is an init container.
    const { initContainers = [], containers } = job.spec.template.spec;
    expect([...initContainers, ...containers][0].args).toEqual(['migrate']);
    expect(job.metadata.annotations['helm.sh/hook']).toMatch(/(pre|post)-install,pre-upgrade/);
  });
});

describe('the default install', () => {
  let objects: K8sObject[] = [];
  beforeAll(() => {
    objects = render();
  });

  it('renders a WorkerAutoscaler per example in k8s/examples, with the same spec', () => {
    const autoscalers = ofKind(objects, 'WorkerAutoscaler');
    expect(autoscalers).toHaveLength(examples.length);
    for (const example of examples) {
      const rendered = named(objects, 'WorkerAutoscaler', `orderflow-${example.metadata.name}`);
      expect(rendered.apiVersion).toBe(example.apiVersion);
      expect(rendered.spec).toEqual(example.spec);
    }
  });

  it('leaves replicas of the autoscaled Deployments to the operator', () => {
    for (const name of ['orderflow-dispatcher', ...STAGES.map((s) => `orderflow-worker-${s}`)]) {
      expect(named(objects, 'Deployment', name).spec).not.toHaveProperty('replicas');
    }
    expect(named(objects, 'Deployment', 'orderflow-api').spec.replicas).toBe(2);
    expect(named(objects, 'Deployment', 'orderflow-relay').spec.replicas).toBe(1);
  });

  it('grants the operator exactly the rules of k8s/operator-rbac.yaml', () => {
    const plain = readYamlDocs('k8s/operator-rbac.yaml');
    const clusterRole = ofKind(objects, 'ClusterRole');
    const role = ofKind(objects, 'Role');
    expect(clusterRole).toHaveLength(1);
    expect(role).toHaveLength(2);
    expect(clusterRole[0].rules).toEqual(named(plain, 'ClusterRole', 'orderflow-operator').rules);
    for (const name of ['orderflow-operator-leader-election', 'orderflow-operator-pods'])
      expect(named(objects, 'Role', name).rules).toEqual(named(plain, 'Role', name).rules);
    // In its own namespace, pods: read what each holds, mark deletion costs; nothing more.
    expect(named(objects, 'Role', 'orderflow-operator-pods').rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['list', 'patch'] },
    ]);
    expect(clusterRole[0].rules).toEqual([
      { apiGroups: ['orderflow.io'], resources: ['workerautoscalers'], verbs: ['get', 'list', 'watch'] },
      {
        apiGroups: ['orderflow.io'],
        resources: ['workerautoscalers/status'],
        verbs: ['get', 'update', 'patch'],
      },
      { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['get', 'update', 'patch'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
    ]);
    const binding = ofKind(objects, 'ClusterRoleBinding')[0];
    expect(binding.roleRef.name).toBe(clusterRole[0].metadata.name);
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'orderflow-operator', namespace: 'orderflow' },
    ]);
  });

  it('runs two operator replicas with leader election in the release namespace', () => {
    const operator = named(objects, 'Deployment', 'orderflow-operator');
    expect(operator.spec.replicas).toBe(2);
    expect(operator.spec.template.spec.serviceAccountName).toBe('orderflow-operator');
    const [container] = operator.spec.template.spec.containers;
    expect(container.args).toEqual(['operator']);
    const env = envOf(container);
    expect(env).toMatchObject({
      OPERATOR_NAMESPACE: 'orderflow',
      OPERATOR_LEASE_NAMESPACE: { fieldRef: { fieldPath: 'metadata.namespace' } },
      OPERATOR_LEASE_NAME: 'orderflow-operator',
      POD_NAME: { fieldRef: { fieldPath: 'metadata.name' } },
      PORT: '9400',
    });
  });

  it('lets the API read the autoscalers from the operator that leads, through a Service of its own', () => {
    const leader = named(objects, 'Service', 'orderflow-operator-leader');
    expect(leader.spec.selector).toMatchObject({ 'orderflow.io/operator-leader': 'true' });
    expect(leader.spec.ports).toEqual([expect.objectContaining({ port: 9400, targetPort: 'metrics' })]);
    const [api] = named(objects, 'Deployment', 'orderflow-api').spec.template.spec.containers;
    expect(envOf(api).OPERATOR_URL).toBe('http://orderflow-operator-leader:9400');
  });

  it('gives the application pods no Kubernetes API token', () => {
    for (const d of ofKind(objects, 'Deployment').filter((o) => o.metadata.name !== 'orderflow-operator')) {
      expect(d.spec.template.spec.automountServiceAccountToken).toBe(false);
    }
  });

  it('gives the migration hook the same secrets as the release, and runs it after the in-chart database exists', () => {
    const main = named(objects, 'Secret', 'orderflow');
    const hook = named(objects, 'Secret', 'orderflow-migrate');
    expect(hook.data).toEqual(main.data);
    expect(hook.metadata.annotations['helm.sh/hook-delete-policy']).toContain('hook-succeeded');
    const jwt = Buffer.from(main.data.JWT_SECRET, 'base64').toString();
    expect(jwt.length).toBeGreaterThanOrEqual(32);
    expect(Buffer.from(main.data.DATABASE_URL, 'base64').toString()).toBe(
      'postgresql://orderflow:orderflow@orderflow-postgresql:5432/orderflow',
    );
    const job = named(objects, 'Job', 'orderflow-migrate');
    expect(job.metadata.annotations['helm.sh/hook']).toBe('post-install,pre-upgrade');
  });

  it('runs PostgreSQL 15 and RabbitMQ 3.13 with management for development', () => {
    const images = ofKind(objects, 'StatefulSet').map((s) => s.spec.template.spec.containers[0].image);
    expect(images.sort()).toEqual(['postgres:15', 'rabbitmq:3.13-management']);
    expect(named(objects, 'Service', 'orderflow-rabbitmq').spec.ports.map((p: K8sObject) => p.port)).toEqual([
      5672, 15672,
    ]);
  });

  it('pulls the development services as their imagePullPolicy values say', () => {
    const policies = (objs: K8sObject[]) =>
      ofKind(objs, 'StatefulSet').map((s) => s.spec.template.spec.containers[0].imagePullPolicy);
    expect(policies(objects)).toEqual(['IfNotPresent', 'IfNotPresent']);
    const always = render(
      '--set',
      'postgresql.imagePullPolicy=Always',
      '--set',
      'rabbitmq.imagePullPolicy=Always',
    );
    expect(policies(always)).toEqual(['Always', 'Always']);
  });

  it('asks Strimzi 1.x (kafka.strimzi.io/v1) for a KRaft Kafka with a node pool and the order-events topic', () => {
    const kafka = ofKind(objects, 'Kafka')[0];
    const pool = ofKind(objects, 'KafkaNodePool')[0];
    const topic = ofKind(objects, 'KafkaTopic')[0];
    for (const o of [kafka, pool, topic]) expect(o.apiVersion).toBe('kafka.strimzi.io/v1');
    // v1 knows no ZooKeeper and no Kafka-level replicas, storage or resources: the node pool has them.
    expect(kafka.metadata.annotations ?? {}).toEqual({});
    for (const removed of ['zookeeper', 'jmxTrans']) expect(kafka.spec).not.toHaveProperty(removed);
    for (const moved of ['replicas', 'storage', 'resources'])
      expect(kafka.spec.kafka).not.toHaveProperty(moved);
    expect(kafka.spec.entityOperator.topicOperator).toEqual({});
    expect(pool.metadata.labels['strimzi.io/cluster']).toBe(kafka.metadata.name);
    expect(pool.spec.roles).toEqual(['controller', 'broker']);
    expect(pool.spec.storage).toEqual({
      type: 'jbod',
      volumes: [{ id: 0, type: 'ephemeral', kraftMetadata: 'shared' }],
    });
    expect(topic.spec.topicName).toBe('orderflow.order-events');
    expect(topic.metadata.labels['strimzi.io/cluster']).toBe(kafka.metadata.name);
    const env = envOf(named(objects, 'Deployment', 'orderflow-relay').spec.template.spec.containers[0]);
    expect(env.KAFKA_BROKERS).toBe(`${kafka.metadata.name}-kafka-bootstrap:9092`);
    expect(env.KAFKA_TOPIC_PARTITIONS).toBe(String(topic.spec.partitions));
    expect(ofKind(objects, 'StatefulSet').map((s) => s.metadata.name)).not.toContain('orderflow-kafka');
  });

  it('ships the Grafana dashboard with the API, order, stage, backlog and autoscaler panels', () => {
    const configMap = named(objects, 'ConfigMap', 'orderflow-dashboard');
    expect(configMap.metadata.labels.grafana_dashboard).toBe('1');
    const dashboard = JSON.parse(configMap.data['orderflow.json']);
    const exprs = JSON.stringify(dashboard.panels.flatMap((p: K8sObject) => p.targets ?? []));
    for (const metric of [
      'orderflow_http_requests_total',
      'orderflow_http_request_duration_seconds_bucket',
      'orderflow_orders_created_total',
      'orderflow_order_end_to_end_seconds',
      'orderflow_stage_processed_total',
      'orderflow_stage_duration_seconds_bucket',
      'orderflow_autoscaler_trigger_value',
      'orderflow_autoscaler_desired_replicas',
      'orderflow_autoscaler_current_replicas',
      'orderflow_autoscaler_scale_events_total',
      'orderflow_autoscaler_reconcile_duration_seconds_bucket',
      'orderflow_autoscaler_source_errors_total',
      'orderflow_autoscaler_leader',
    ]) {
      expect(exprs).toContain(metric);
    }
    expect(configMap.data['orderflow.json']).toBe(
      readFileSync(join(CHART, 'dashboards/orderflow.json'), 'utf8').trimEnd(),
    );
  });

  it('renders no ServiceMonitor unless asked, and one covering the API and the other roles when asked', () => {
    expect(ofKind(objects, 'ServiceMonitor')).toEqual([]);
    const monitored = render('--set', 'metrics.serviceMonitor.enabled=true');
    const [monitor] = ofKind(monitored, 'ServiceMonitor');
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(monitor.spec.endpoints.map((e: K8sObject) => e.port).sort()).toEqual(['http', 'metrics']);
    const selected = ofKind(monitored, 'Service').filter((s) =>
      Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels[k] === v),
    );
    expect(selected.map((s) => s.metadata.name).sort()).toEqual([
      'orderflow-api',
      'orderflow-metrics',
      'orderflow-operator-metrics',
    ]);
  });
});

describe('scenarios', () => {
  it('operator-disabled renders no operator objects and fixed replica counts', () => {
    const objects = renderCi('operator-disabled-values.yaml');
    const operatorObjects = objects.filter(
      (o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'operator',
    );
    expect(operatorObjects).toEqual([]);
    for (const kind of ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'WorkerAutoscaler']) {
      expect(ofKind(objects, kind)).toEqual([]);
    }
    expect(named(objects, 'Deployment', 'orderflow-dispatcher').spec.replicas).toBe(2);
    for (const stage of STAGES) {
      expect(named(objects, 'Deployment', `orderflow-worker-${stage}`).spec.replicas).toBe(3);
    }
  });

  it('external-services reads every connection from the existing Secret and runs nothing stateful', () => {
    const objects = renderCi('external-services-values.yaml');
    expect(ofKind(objects, 'Secret')).toEqual([]);
    expect(ofKind(objects, 'StatefulSet')).toEqual([]);
    expect(objects.filter((o) => o.apiVersion.startsWith('kafka.strimzi.io/'))).toEqual([]);
    const job = named(objects, 'Job', 'orderflow-migrate');
    expect(job.metadata.annotations['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    for (const { spec } of podTemplates(objects)) {
      const env = envOf(spec.containers[0]);
      expect(env.DATABASE_URL).toEqual({
        secretKeyRef: { name: 'orderflow-connections', key: 'DATABASE_URL' },
      });
      expect(env.KAFKA_BROKERS).toBe('kafka-0.kafka.messaging.svc:9092,kafka-1.kafka.messaging.svc:9092');
    }
    expect(
      ofKind(objects, 'PodDisruptionBudget')
        .map((p) => p.metadata.name)
        .sort(),
    ).toEqual(['orderflow-api', 'orderflow-operator']);
  });

  it('kind keeps PostgreSQL, RabbitMQ and Kafka (the in-chart KRaft node) on volumes of the default StorageClass', () => {
    const objects = renderCi('kind-values.yaml');
    expect(objects.filter((o) => o.apiVersion.startsWith('kafka.strimzi.io/'))).toEqual([]);
    const statefulSets = ofKind(objects, 'StatefulSet');
    expect(statefulSets.map((s) => s.metadata.name).sort()).toEqual([
      'orderflow-kafka',
      'orderflow-postgresql',
      'orderflow-rabbitmq',
    ]);
    for (const set of statefulSets) {
      const [claim] = set.spec.volumeClaimTemplates;
      expect({
        set: set.metadata.name,
        claim: claim.metadata.name,
        class: claim.spec.storageClassName,
      }).toEqual({
        set: set.metadata.name,
        claim: 'data',
        class: undefined,
      });
      expect((set.spec.template.spec.volumes ?? []).map((v: K8sObject) => v.name)).not.toContain('data');
    }
    const env = envOf(named(objects, 'Deployment', 'orderflow-dispatcher').spec.template.spec.containers[0]);
    expect(env.KAFKA_BROKERS).toBe('orderflow-kafka:9092');
  });

  it('local-images runs the development services from the orderflow.local images without pulling them', () => {
    for (const objects of [renderCi('local-images-values.yaml'), render(...KIND_LOCAL)]) {
      const containers = Object.fromEntries(
        ofKind(objects, 'StatefulSet').map((s) => [s.metadata.name, s.spec.template.spec.containers[0]]),
      );
      expect(Object.keys(containers).sort()).toEqual([
        'orderflow-kafka',
        'orderflow-postgresql',
        'orderflow-rabbitmq',
      ]);
      expect(containers['orderflow-postgresql'].image).toBe('orderflow.local/postgresql:15');
      expect(containers['orderflow-rabbitmq'].image).toBe('orderflow.local/rabbitmq:3.10');
      expect(containers['orderflow-kafka'].image).toBe('orderflow.local/kafka:4.4.0');
      for (const container of Object.values(containers) as { imagePullPolicy: string }[])
        expect(container.imagePullPolicy).toBe('IfNotPresent');
      expect(named(objects, 'StatefulSet', 'orderflow-kafka').spec.volumeClaimTemplates).toHaveLength(1);
      expect(objects.filter((o) => o.apiVersion.startsWith('kafka.strimzi.io/'))).toEqual([]);
    }
  });

  it('kind exposes the API on node port 30080 and never pulls the locally loaded image', () => {
    const objects = renderCi('kind-values.yaml');
    const service = named(objects, 'Service', 'orderflow-api');
    expect(service.spec.type).toBe('NodePort');
    expect(service.spec.ports[0].nodePort).toBe(30080);
    for (const d of orderflowDeployments(objects)) {
      const [container] = d.spec.template.spec.containers;
      expect(container.image).toBe('orderflow:dev');
      expect(container.imagePullPolicy).toBe('IfNotPresent');
    }
    // The development Prometheus runs beside them, also never pulled once present.
    const prometheus = named(objects, 'Deployment', 'orderflow-prometheus').spec.template.spec.containers[0];
    expect(prometheus.imagePullPolicy).toBe('IfNotPresent');
    const kind = readYaml('kind-config.yaml');
    expect(kind.nodes).toHaveLength(1);
    expect(kind.nodes[0].extraPortMappings).toEqual([
      { containerPort: 30080, hostPort: 8080, listenAddress: '127.0.0.1', protocol: 'TCP' },
    ]);
  });

  it('strimzi replicates the topic across three persistent dual-role nodes', () => {
    const objects = renderCi('strimzi-values.yaml');
    const pool = ofKind(objects, 'KafkaNodePool')[0];
    expect(pool.spec.replicas).toBe(3);
    expect(pool.spec.storage.volumes[0]).toMatchObject({ type: 'persistent-claim', size: '20Gi' });
    expect(ofKind(objects, 'KafkaTopic')[0].spec).toMatchObject({ partitions: 24, replicas: 3 });
    // A Kafka version Strimzi 1.2.0 runs (4.2.0 to 4.3.1).
    expect(ofKind(objects, 'Kafka')[0].spec.kafka.version).toMatch(/^4\.[23]\.\d+$/);
    const env = envOf(named(objects, 'Deployment', 'orderflow-dispatcher').spec.template.spec.containers[0]);
    expect(env.KAFKA_BROKERS).toBe('orderflow-events-kafka-bootstrap:9092');
    expect(env.KAFKA_TOPIC_PARTITIONS).toBe('24');
  });
});

describe('the in-chart KRaft Kafka (kafka.kraft)', () => {
  let objects: K8sObject[] = [];
  beforeAll(() => {
    objects = render(...KRAFT, '--set', 'kafka.kraft.topic.partitions=6');
  });
  const broker = () => named(objects, 'StatefulSet', 'orderflow-kafka');

  it('runs one broker+controller from the kraft image, behind a Service the roles bootstrap from', () => {
    expect(objects.filter((o) => o.apiVersion.startsWith('kafka.strimzi.io/'))).toEqual([]);
    expect(broker().spec.replicas).toBe(1);
    expect(broker().spec.serviceName).toBe('orderflow-kafka');
    const [container] = broker().spec.template.spec.containers;
    expect(container.image).toBe('orderflow.local/kafka:4.4.0');
    const service = named(objects, 'Service', 'orderflow-kafka');
    expect(service.spec.ports).toEqual([{ name: 'kafka', port: 9092, targetPort: 'kafka' }]);
    expect(service.spec.selector).toEqual(broker().spec.template.metadata.labels);
    for (const d of orderflowDeployments(objects)) {
      expect(envOf(d.spec.template.spec.containers[0]).KAFKA_BROKERS).toBe('orderflow-kafka:9092');
    }
  });

  it('advertises the Service, creates the topic with its partitions, and tells the relay the same count', () => {
    const [container] = broker().spec.template.spec.containers;
    expect(envOf(container)).toEqual({
      KAFKA_ADVERTISED_HOST: 'orderflow-kafka.orderflow.svc',
      KAFKA_HEAP_OPTS: '-Xms256m -Xmx512m',
      KAFKA_CREATE_TOPICS: 'orderflow.order-events:6',
    });
    const relay = envOf(named(objects, 'Deployment', 'orderflow-relay').spec.template.spec.containers[0]);
    expect(relay.KAFKA_TOPIC_PARTITIONS).toBe('6');
  });

  it('probes the broker port, runs as the image user with a read-only root and a writable /tmp', () => {
    const spec = broker().spec.template.spec;
    const [container] = spec.containers;
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      expect(container[probe].tcpSocket).toEqual({ port: 'kafka' });
    }
    expect(container.ports).toEqual([{ name: 'kafka', containerPort: 9092 }]);
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1001, fsGroup: 1001 });
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(spec.automountServiceAccountToken).toBe(false);
    const mounts = Object.fromEntries(container.volumeMounts.map((m: K8sObject) => [m.mountPath, m.name]));
    expect(mounts).toEqual({ '/var/lib/kafka/data': 'data', '/tmp': 'tmp' });
  });

  it('keeps its data in a claim by default, and in an emptyDir when persistence is off', () => {
    const [claim] = broker().spec.volumeClaimTemplates;
    expect(claim.spec.resources.requests.storage).toBe('5Gi');
    const ephemeral = named(
      render(...KRAFT, '--set', 'kafka.kraft.persistence.enabled=false'),
      'StatefulSet',
      'orderflow-kafka',
    );
    expect(ephemeral.spec).not.toHaveProperty('volumeClaimTemplates');
    expect(ephemeral.spec.template.spec.volumes).toContainEqual({ name: 'data', emptyDir: {} });
  });

  it.each([
    ['Strimzi and the KRaft node', ['--set', 'kafka.kraft.enabled=true']],
    ['Strimzi and bootstrap servers', ['--set', 'kafka.bootstrapServers=kafka:9092']],
    ['the KRaft node and bootstrap servers', [...KRAFT, '--set', 'kafka.bootstrapServers=kafka:9092']],
    ['no Kafka at all', ['--set', 'kafka.strimzi.enabled=false']],
  ])('stops a render with %s', (_what, args) => {
    const run = helm(['template', 'orderflow', CHART, ...args]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(
      'set exactly one of kafka.bootstrapServers, kafka.strimzi.enabled=true and kafka.kraft.enabled=true',
    );
  });
});

describe('values.schema.json', () => {
  it.each([
    ['a negative replica count', ['--set', 'api.replicas=-1']],
    ['a string where a number is expected', ['--set-string', 'api.replicas=two']],
    ['an unknown stage', ['--set', 'workers.stages={shipping}']],
    ['an unknown key', ['--set', 'api.replica=2']],
    ['a short JWT secret', ['--set', 'secrets.jwtSecret=too-short']],
    ['an unknown pull policy for a development service', ['--set', 'postgresql.imagePullPolicy=Sometimes']],
    ['Kafka heap flags without a maximum', ['--set', 'kafka.kraft.heapOpts=-Xms512m']],
  ])('rejects %s', (_what, args) => {
    const run = helm(['template', 'orderflow', CHART, ...args]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/values don't meet the specifications of the schema/);
  });

  it('stops a render that has no database to connect to', () => {
    const run = helm(['template', 'orderflow', CHART, '--set', 'postgresql.enabled=false']);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(
      'set secrets.databaseUrl, secrets.existingSecret or postgresql.enabled=true',
    );
  });
});

describe('NOTES.txt', () => {
  /**
   * `helm install --dry-run=client` still needs a reachable cluster, and `helm template` drops the notes.
   * So a throwaway copy of the chart renders NOTES.txt through the same engine with `tpl`, with the
   * chart's own helpers and values, as a ConfigMap the test reads back.
   */
  const notes = (...extra: string[]): string => {
    const dir = mkdtempSync(join(tmpdir(), 'orderflow-notes-'));
    try {
      const chart = join(dir, 'orderflow');
      cpSync(CHART, chart, { recursive: true });
      copyFileSync(join(chart, 'templates/NOTES.txt'), join(chart, 'notes-under-test.txt'));
      writeFileSync(
        join(chart, 'templates/notes-under-test.yaml'),
        [
          'apiVersion: v1',
          'kind: ConfigMap',
          'metadata:',
          '  name: notes-under-test',
          'data:',
          '  notes: {{ tpl (.Files.Get "notes-under-test.txt") . | toJson }}',
        ].join('\n'),
      );
      const run = helm([
        'template',
        'orderflow',
        chart,
        '--namespace',
        'orderflow',
        '--show-only',
        'templates/notes-under-test.yaml',
        ...extra,
      ]);
      if (run.status !== 0) throw new Error(run.stderr);
      return parse(run.stdout).data.notes;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('tells how to reach a ClusterIP API through a port-forward', () => {
    expect(notes()).toContain('kubectl port-forward svc/orderflow-api -n orderflow 8080:8080');
  });

  it('prints the node port on kind, and where kind-config.yaml publishes it', () => {
    const text = notes('-f', join(CI_DIR, 'kind-values.yaml'));
    expect(text).toContain('NODE_PORT=30080');
    expect(text).toContain('http://127.0.0.1:8080');
  });

  it('names the in-chart KRaft Kafka and how to wait for it', () => {
    const text = notes('-f', join(CI_DIR, 'kind-values.yaml'));
    expect(text).toContain('Kafka: one KRaft node in the release, orderflow-kafka:9092');
    expect(text).toContain('kubectl rollout status statefulset/orderflow-kafka -n orderflow');
    expect(text).toContain('(PostgreSQL, RabbitMQ, Kafka)');
    expect(text).not.toContain('Strimzi');
  });

  it('waits for the load balancer address when the Service is a LoadBalancer', () => {
    const text = notes('-f', join(CI_DIR, 'external-services-values.yaml'));
    expect(text).toContain('kubectl get svc orderflow-api -n orderflow -w');
    expect(text).not.toContain('port-forward');
  });
});

describe('files next to the chart', () => {
  it('keeps the chart CRD identical to k8s/crd-workerautoscaler.yaml', () => {
    expect(readFileSync(join(CHART, 'crds/crd-workerautoscaler.yaml'), 'utf8')).toBe(
      readFileSync(join(ROOT, 'k8s/crd-workerautoscaler.yaml'), 'utf8'),
    );
  });

  it('documents every key of values.yaml with a comment above it', () => {
    // Children of these are one documented value (a securityContext, resources, ...), not settings of their own.
    const valueBlocks = new Set([
      'liveness',
      'readiness',
      'podSecurityContext',
      'securityContext',
      'resources',
      'behavior',
      'fallback',
      'labels',
    ]);
    const lines = readFileSync(join(CHART, 'values.yaml'), 'utf8').split('\n');
    const parents: { indent: number; key: string }[] = [];
    const undocumented: string[] = [];
    lines.forEach((line, i) => {
      const match = /^(\s*)([A-Za-z_][\w.-]*):/.exec(line);
      if (!match) return;
      const indent = match[1]!.length;
      while (parents.length > 0 && parents[parents.length - 1]!.indent >= indent) parents.pop();
      const insideValue = parents.some((p) => valueBlocks.has(p.key));
      parents.push({ indent, key: match[2]! });
      if (!insideValue && !lines[i - 1]?.trim().startsWith('#')) undocumented.push(line.trim());
    });
    expect(undocumented).toEqual([]);
  });

  it('versions the app as package.json does', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(readYaml('charts/orderflow/Chart.yaml').appVersion).toBe(pkg.version);
  });

  it('parses every manifest in k8s/, kind-config.yaml and skaffold.yaml', () => {
    const files = [
      ...readdirSync(join(ROOT, 'k8s'))
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => `k8s/${f}`),
      ...readdirSync(join(ROOT, 'k8s/examples')).map((f) => `k8s/examples/${f}`),
      'kind-config.yaml',
      'skaffold.yaml',
    ];
    for (const file of files) {
      const docs = parseAllDocuments(readFileSync(join(ROOT, file), 'utf8'));
      for (const doc of docs) expect({ file, errors: doc.errors }).toEqual({ file, errors: [] });
      expect(docs.length).toBeGreaterThan(0);
    }
  });

  it('gives the plain operator manifest the same environment and account as the chart', () => {
    const [deployment] = readYamlDocs('k8s/operator.yaml');
    const [container] = deployment.spec.template.spec.containers;
    expect(container.image).toBe('orderflow:dev');
    expect(deployment.spec.template.spec.serviceAccountName).toBe('orderflow-operator');
    const chartOperator = named(render(), 'Deployment', 'orderflow-operator').spec.template.spec
      .containers[0];
    const names = (c: K8sObject) => c.env.map((e: K8sObject) => e.name).sort();
    expect(names(container)).toEqual(expect.arrayContaining(names(chartOperator).filter(isRequiredEnv)));
    const rbac = readYamlDocs('k8s/operator-rbac.yaml');
    expect(rbac.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ServiceAccount/orderflow-operator',
      'ClusterRole/orderflow-operator',
      'ClusterRoleBinding/orderflow-operator',
      'Role/orderflow-operator-leader-election',
      'RoleBinding/orderflow-operator-leader-election',
      'Role/orderflow-operator-pods',
      'RoleBinding/orderflow-operator-pods',
    ]);
  });

  it('builds the image and deploys the chart with the kind values from skaffold.yaml', () => {
    const skaffold = readYaml('skaffold.yaml');
    expect(skaffold.apiVersion).toMatch(/^skaffold\/v4beta\d+$/);
    expect(skaffold.build.artifacts[0]).toMatchObject({
      image: 'orderflow',
      docker: { dockerfile: 'Dockerfile' },
    });
    const [release] = skaffold.deploy.helm.releases;
    expect(release.chartPath).toBe('charts/orderflow');
    expect(release.valuesFiles).toEqual(['charts/orderflow/ci/kind-values.yaml']);
    expect(Object.keys(release.setValueTemplates).sort()).toEqual(['image.repository', 'image.tag']);
    for (const path of [release.chartPath, ...release.valuesFiles, 'Dockerfile']) {
      expect(existsSync(join(ROOT, path))).toBe(true);
    }
    expect(skaffold.portForward[0]).toMatchObject({
      resourceType: 'service',
      resourceName: 'orderflow-api',
      port: 8080,
    });
  });
});

/** The tuning knobs (pool sizes, batch sizes, ...) may differ; the connection and identity ones may not. */
function isRequiredEnv(name: string): boolean {
  return (
    ['HOST', 'PORT', 'KAFKA_BROKERS', 'DATABASE_URL', 'RABBITMQ_URL', 'RABBITMQ_MANAGEMENT_URL'].includes(
      name,
    ) ||
    name.startsWith('OPERATOR_') ||
    name === 'POD_NAME' ||
    name === 'JWT_SECRET'
  );
}
