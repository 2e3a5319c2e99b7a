import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { PROMTOOL_BIN } from '../support/prometheus';
import { helm, helmBinary, renderChart, CHART, type K8sObject } from '../support/helm';

/**
 * The chart's optional dev Prometheus (metrics.prometheus), checked by rendering with a real helm and
 * its configuration with a real promtool. Its local image is run with Docker by the cluster suite
 * (tests/cluster/prometheus-image.test.ts), where Docker's engine runs and the image is built.
 */

const exec = promisify(execFile);
let helmBin = '';
beforeAll(() => {
  helmBin = helmBinary();
}, 1_200_000);

const enabled = ['--set', 'metrics.prometheus.enabled=true'];
const ofKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
const named = (objects: K8sObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
const configOf = (objects: K8sObject[], name = 'orderflow-prometheus') =>
  parse(named(objects, 'ConfigMap', name).data['prometheus.yml']);

/** Pods the chart runs, with their labels and every container port's number and PORT variable. */
const podTemplates = (objects: K8sObject[]) =>
  objects
    .filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind))
    .map((o) => ({
      owner: o.metadata.name as string,
      labels: o.spec.template.metadata.labels as Record<string, string>,
      containers: o.spec.template.spec.containers as K8sObject[],
    }));

const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

describe('metrics.prometheus in the chart', () => {
  it('renders nothing unless enabled', () => {
    const objects = renderChart(helmBin);
    expect(objects.filter((o) => o.metadata.name.endsWith('-prometheus'))).toEqual([]);
    expect(named(objects, 'Service', 'orderflow-api-metrics')).toBeUndefined();
  });

  it('passes helm lint --strict when enabled', () => {
    const run = helm(helmBin, ['lint', '--strict', CHART, ...enabled]);
    expect(run.stdout).not.toContain('[WARNING]');
    expect(run.status).toBe(0);
  });

  it('runs one non-root Prometheus with a read-only root, its config mounted, and a Service on 9090', () => {
    const objects = renderChart(helmBin, {
      args: [
        ...enabled,
        '--set',
        'metrics.prometheus.retention=2h',
        '--set',
        'metrics.prometheus.image.tag=v2.42.1',
      ],
    });
    const deployment = named(objects, 'Deployment', 'orderflow-prometheus');
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    expect(deployment.spec.replicas).toBe(1);
    expect(container.image).toBe('prom/prometheus:v2.42.1');
    expect(container.args).toEqual([
      '--config.file=/etc/prometheus/config/prometheus.yml',
      '--storage.tsdb.path=/prometheus',
      '--storage.tsdb.retention.time=2h',
      '--web.listen-address=:9090',
    ]);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534 });
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
    expect(container.resources).toEqual({
      requests: { cpu: '100m', memory: '256Mi' },
      limits: { memory: '512Mi' },
    });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/-/ready', port: 'http' });
    const mounts = Object.fromEntries(container.volumeMounts.map((m: K8sObject) => [m.name, m.mountPath]));
    expect(mounts).toEqual({ config: '/etc/prometheus/config', data: '/prometheus' });
    expect(pod.volumes.find((v: K8sObject) => v.name === 'config').configMap.name).toBe(
      'orderflow-prometheus',
    );

    // It reads no Kubernetes API: no token, and no Role or binding of its own.
    expect(pod.serviceAccountName).toBe('orderflow-prometheus');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(named(objects, 'ServiceAccount', 'orderflow-prometheus').automountServiceAccountToken).toBe(false);
    const rbac = [...ofKind(objects, 'RoleBinding'), ...ofKind(objects, 'ClusterRoleBinding')];
    expect(rbac.filter((b) => b.subjects.some((s: K8sObject) => s.name === 'orderflow-prometheus'))).toEqual(
      [],
    );

    const service = named(objects, 'Service', 'orderflow-prometheus');
    expect(service.spec.ports).toEqual([{ name: 'http', port: 9090, targetPort: 'http', protocol: 'TCP' }]);
    expect(selects(service.spec.selector, deployment.spec.template.metadata.labels)).toBe(true);
  });

  it('writes a configuration promtool accepts, scraping at the configured interval', async () => {
    const objects = renderChart(helmBin, {
      args: [...enabled, '--set', 'metrics.prometheus.scrapeInterval=5s'],
    });
    const dir = mkdtempSync(join(tmpdir(), 'orderflow-prometheus-config-'));
    try {
      const file = join(dir, 'prometheus.yml');
      writeFileSync(file, named(objects, 'ConfigMap', 'orderflow-prometheus').data['prometheus.yml']);
      const { stdout } = await exec(PROMTOOL_BIN, ['check', 'config', file]);
      expect(stdout).toContain('SUCCESS');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(configOf(objects).global).toEqual({ scrape_interval: '5s', evaluation_interval: '5s' });
    // A changed configuration rolls the pod.
    const checksum = (o: K8sObject[]) =>
      named(o, 'Deployment', 'orderflow-prometheus').spec.template.metadata.annotations['checksum/config'];
    expect(checksum(objects)).not.toBe(checksum(renderChart(helmBin, { args: enabled })));
  });

  it.each([
    { release: 'orderflow', namespace: 'orderflow', extra: [] as string[] },
    { release: 'shop', namespace: 'team-a', extra: ['--set', 'operator.port=9500'] },
  ])(
    'scrapes every Orderflow process of release $release, and nothing else, on the port it serves /metrics on',
    ({ release, namespace, extra }) => {
      const objects = renderChart(helmBin, { release, namespace, args: [...enabled, ...extra] });
      const fullname = release === 'orderflow' ? 'orderflow' : `${release}-orderflow`;
      const pods = podTemplates(objects);
      const scraped = configOf(objects, `${fullname}-prometheus`).scrape_configs.flatMap((job: K8sObject) => {
        const [sd] = job.dns_sd_configs;
        // <service>.<namespace>.svc: a headless Service of this release, one A record per pod behind it.
        const [serviceName, ns, svc] = (sd.names[0] as string).split('.');
        expect({ job: job.job_name, ns, svc, type: sd.type }).toEqual({
          job: serviceName,
          ns: namespace,
          svc: 'svc',
          type: 'A',
        });
        expect(job.relabel_configs).toEqual([{ target_label: 'namespace', replacement: namespace }]);
        const service = named(objects, 'Service', serviceName!);
        expect(service.metadata.namespace).toBe(namespace);
        expect(service.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
        return pods
          .filter((p) => selects(service.spec.selector, p.labels))
          .map((p) => {
            const ports = p.containers.flatMap((c: K8sObject) =>
              (c.ports ?? []).map((port: K8sObject) => ({
                number: port.containerPort,
                // Each process serves /metrics on PORT (lib/config.ts).
                serves: c.env.find((e: K8sObject) => e.name === 'PORT')?.value,
              })),
            );
            return {
              owner: p.owner,
              listens: ports.some(
                (port: K8sObject) => port.number === sd.port && port.serves === String(sd.port),
              ),
            };
          });
      });
      const roles = [
        'api',
        'relay',
        'dispatcher',
        'worker-validate',
        'worker-reserve',
        'worker-pay',
        'worker-complete',
        'operator',
      ];
      expect(scraped.sort((a: K8sObject, b: K8sObject) => a.owner.localeCompare(b.owner))).toEqual(
        roles
          .map((r) => ({ owner: `${fullname}-${r}`, listens: true }))
          .sort((a, b) => a.owner.localeCompare(b.owner)),
      );
    },
  );

  it('leaves the operator out when the chart runs none', () => {
    const objects = renderChart(helmBin, { args: [...enabled, '--set', 'operator.enabled=false'] });
    expect(configOf(objects).scrape_configs.map((j: K8sObject) => j.job_name)).toEqual([
      'orderflow-api-metrics',
      'orderflow-metrics',
    ]);
  });

  it.each([
    ['an interval that is not a duration', 'metrics.prometheus.scrapeInterval=often'],
    ['an empty image tag', 'metrics.prometheus.image.tag='],
    ['an unknown key', 'metrics.prometheus.replicas=2'],
  ])('refuses %s', (_what, value) => {
    const run = helm(helmBin, ['template', 'orderflow', CHART, ...enabled, '--set', value]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/values don't meet the specifications of the schema/);
  });
});
