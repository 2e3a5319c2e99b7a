import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitForTargets } from '../support/prometheus';
import { eventually } from '../support/services';

/**
 * The chart's dev Prometheus image, built here by the cluster set-up (scripts/cluster/images.sh), run
 * with Docker the way the chart runs it.
 */

const exec = promisify(execFile);

/** The image scripts/cluster/images.sh builds (ORDERFLOW_LOCAL_IMAGES=1 ... dev prometheus). */
const IMAGE = 'orderflow.local/prometheus:2.42';

describe(`the ${IMAGE} image`, () => {
  const name = `orderflow-prometheus-test-${randomUUID().slice(0, 8)}`;
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'orderflow-prometheus-image-'));
  });
  afterAll(async () => {
    await exec('docker', ['rm', '--force', '--volumes', name]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs Debian’s Prometheus 2.42 as a non-root user', async () => {
    const { stdout } = await exec('docker', [
      'image',
      'inspect',
      '--format',
      '{{json .Config.User}} {{json .Config.Entrypoint}}',
      IMAGE,
    ]);
    expect(stdout.trim()).toBe('"999:999" ["/usr/bin/prometheus"]');
  });

  it('serves on 127.0.0.1:19090 as the chart runs it (uid 65534, read-only root, config mounted) and scrapes', async () => {
    // Like the pod's volumes: a configuration the uid can read, a data directory anyone can write (an emptyDir).
    const config = join(dir, 'config');
    const data = join(dir, 'data');
    mkdirSync(config, { mode: 0o755 });
    mkdirSync(data);
    chmodSync(data, 0o777);
    writeFileSync(
      join(config, 'prometheus.yml'),
      'global: { scrape_interval: 1s }\nscrape_configs: [{ job_name: self, static_configs: [{ targets: ["localhost:9090"] }] }]\n',
    );
    await exec('docker', [
      'run',
      '--detach',
      '--name',
      name,
      '--publish',
      '127.0.0.1:19090:9090',
      '--user',
      '65534:65534',
      '--read-only',
      '--volume',
      `${data}:/prometheus`,
      '--volume',
      `${config}:/etc/prometheus/config:ro`,
      IMAGE,
      '--config.file=/etc/prometheus/config/prometheus.yml',
      '--storage.tsdb.path=/prometheus',
      '--storage.tsdb.retention.time=1h',
      '--web.listen-address=:9090',
    ]);
    const url = 'http://127.0.0.1:19090';
    try {
      await eventually(async () => (await fetch(`${url}/-/ready`)).ok, {
        what: 'the container ready',
        timeoutMs: 60_000,
      });
    } catch (err) {
      const logs = await exec('docker', ['logs', name]).then(
        (r) => r.stdout + r.stderr,
        (e: Error) => e.message,
      );
      throw new Error(`${(err as Error).message}\n${logs}`, { cause: err });
    }
    const info = (await (await fetch(`${url}/api/v1/status/buildinfo`)).json()) as {
      data: { version: string };
    };
    expect(info.data.version).toMatch(/^2\.42\./);
    const [target] = await waitForTargets(url, { count: 1, timeoutMs: 60_000 });
    expect(target!.labels.job).toBe('self');
  }, 180_000);
});
