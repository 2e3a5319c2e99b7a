import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const ROOT = join(__dirname, '../..');
export const CHART = join(ROOT, 'charts/orderflow');

// Loosely typed on purpose: arbitrary Kubernetes objects, read field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type K8sObject = any;

/**
 * The helm that scripts/stack/helm.sh builds from its Go module. `npm test` builds it first; on a
 * fresh machine a bare `npx jest` builds it here (minutes, once).
 */
export function helmBinary(): string {
  const path = spawnSync('bash', ['scripts/stack/helm.sh', 'path'], {
    cwd: ROOT,
    encoding: 'utf8',
  }).stdout.trim();
  if (existsSync(path)) return path;
  const ensure = spawnSync('bash', ['scripts/stack/helm.sh', 'ensure'], { cwd: ROOT, encoding: 'utf8' });
  if (ensure.status !== 0) throw new Error(`helm.sh ensure failed:\n${ensure.stderr}`);
  return ensure.stdout.trim();
}

export function helm(binary: string, args: string[]) {
  const run = spawnSync(binary, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (run.error) throw run.error;
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** `helm template <release> charts/orderflow -n <namespace> ...` as objects. */
export function renderChart(
  binary: string,
  options: { release?: string; namespace?: string; args?: string[] } = {},
): K8sObject[] {
  const args = [
    'template',
    options.release ?? 'orderflow',
    CHART,
    '--namespace',
    options.namespace ?? 'orderflow',
  ];
  const run = helm(binary, [...args, ...(options.args ?? [])]);
  if (run.status !== 0) throw new Error(`helm ${args.join(' ')} failed:\n${run.stderr}`);
  return parseAllDocuments(run.stdout)
    .map((doc) => doc.toJS())
    .filter((obj) => obj);
}
