import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import type { V1Pod } from '@kubernetes/client-node';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { eventually, freePort } from './services';

const exec = promisify(execFile);
const ROOT = join(__dirname, '../..');

/** The kind cluster `npm run cluster:up` creates (kind-config.yaml) and the namespace skaffold deploys to. */
export const CONTEXT = 'kind-orderflow';
export const NAMESPACE = 'orderflow';
/** kind-config.yaml publishes the API's node port 30080 here. */
export const API_URL = 'http://127.0.0.1:8080';

async function scriptOutput(script: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec('bash', [join(ROOT, script), ...args], { cwd: ROOT });
  return stdout.trim();
}

/** Paths of the cached tools (scripts/cluster/tools.sh, scripts/stack/helm.sh); nothing is built here. */
export async function clusterTools() {
  const [kind, kubectl, skaffold, helm] = await Promise.all([
    scriptOutput('scripts/cluster/tools.sh', 'kind'),
    scriptOutput('scripts/cluster/tools.sh', 'kubectl'),
    scriptOutput('scripts/cluster/tools.sh', 'skaffold'),
    scriptOutput('scripts/stack/helm.sh', 'path'),
  ]);
  // skaffold calls kind, helm, kubectl and docker by name; Debian's docker client drives the 20.10 engine.
  const path = ['/usr/bin', ...[kind, kubectl, skaffold, helm].map((p) => dirname(p)), process.env.PATH].join(
    ':',
  );
  return { kind, kubectl, skaffold, helm, env: { ...process.env, PATH: path } };
}

export type ClusterTools = Awaited<ReturnType<typeof clusterTools>>;

/** Runs a command to completion; the error carries its output. */
export async function run(
  tools: ClusterTools,
  command: string,
  args: string[],
  options: { timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: tools.env,
      // No stdin: these commands read none, and a pipe a command never read broke (EPIPE) when it exited first.
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else
        reject(
          new Error(
            `${command} ${args.join(' ')} exited ${code ?? signal}:\n${err.slice(-4000)}${out.slice(-2000)}`,
          ),
        );
    });
  });
}

export function kubectl(tools: ClusterTools, args: string[], options: { timeoutMs?: number } = {}) {
  return run(tools, tools.kubectl, ['--context', CONTEXT, '-n', NAMESPACE, ...args], options);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any kind of object; callers read the fields they need
export async function kubectlJson<T = any>(tools: ClusterTools, args: string[]): Promise<T> {
  return JSON.parse(await kubectl(tools, [...args, '-o', 'json'])) as T;
}

export interface PodCost {
  name: string;
  /** Its controller.kubernetes.io/pod-deletion-cost annotation, if any. */
  cost?: string;
  deleting: boolean;
}

/**
 * `kubectl get pods -w` on a selector: each pod's deletion cost and whether it is being deleted, as
 * the API server reports every change (a pod removed a moment after being marked is still seen).
 */
export function watchPodCosts(tools: ClusterTools, selector: string) {
  const template =
    '{.metadata.name}{" "}{.metadata.annotations.controller\\.kubernetes\\.io/pod-deletion-cost}{" "}{.metadata.deletionTimestamp}{"\\n"}';
  const child = spawn(
    tools.kubectl,
    [
      '--context',
      CONTEXT,
      '-n',
      NAMESPACE,
      'get',
      'pods',
      '-l',
      selector,
      '-w',
      '-o',
      `jsonpath=${template}`,
    ],
    { env: tools.env, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const seen: PodCost[] = [];
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
      const [name, cost, deletion] = buffer.slice(0, end).split(' ');
      buffer = buffer.slice(end + 1);
      if (name) seen.push({ name, cost: cost || undefined, deleting: Boolean(deletion) });
    }
  });
  return {
    /** The last thing seen of each pod. */
    latest: () => new Map(seen.map((p) => [p.name, p])),
    stop: () => void child.kill(),
  };
}

export interface PodSummary {
  name: string;
  component: string;
  phase: string;
  ready: boolean;
  restarts: number;
  deleting: boolean;
  /** The pod's IP, once it has one. */
  ip?: string;
}

export async function pods(
  tools: ClusterTools,
  selector = 'app.kubernetes.io/instance=orderflow',
): Promise<PodSummary[]> {
  const list = await kubectlJson<{ items: V1Pod[] }>(tools, ['get', 'pods', '-l', selector]);
  return list.items.map((p) => ({
    name: p.metadata!.name!,
    // Worker pods read `worker-<stage>`, like their Deployments.
    component: [
      p.metadata!.labels?.['app.kubernetes.io/component'],
      p.metadata!.labels?.['orderflow.io/stage'],
    ]
      .filter(Boolean)
      .join('-'),
    phase: p.status?.phase ?? '',
    ready: (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    restarts: (p.status?.containerStatuses ?? []).reduce((n, c) => n + c.restartCount, 0),
    deleting: Boolean(p.metadata!.deletionTimestamp),
    ip: p.status?.podIP,
  }));
}

export async function deploymentReplicas(tools: ClusterTools, name: string) {
  const d = await kubectlJson(tools, ['get', 'deployment', name]);
  return { spec: d.spec.replicas ?? 0, ready: d.status.readyReplicas ?? 0 };
}

/**
 * kubectl port-forward to a Service on a free loopback port, restarted whenever it dies (a pod
 * behind it may be deleted on purpose). Returns the port and a stop function.
 */
export async function portForward(tools: ClusterTools, target: string, remotePort: number) {
  const port = await freePort();
  let child: ChildProcess | undefined;
  let stopped = false;
  const start = () => {
    child = spawn(
      tools.kubectl,
      ['--context', CONTEXT, '-n', NAMESPACE, 'port-forward', target, `${port}:${remotePort}`],
      {
        env: tools.env,
        stdio: 'ignore',
      },
    );
    child.on('exit', () => {
      if (!stopped) setTimeout(start, 500);
    });
  };
  start();
  await eventually(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        socket.on('connect', () => (socket.destroy(), resolve(true)));
        socket.on('error', () => resolve(false));
      }),
    { timeoutMs: 30_000, intervalMs: 300, what: `port-forward to ${target}` },
  );
  return {
    port,
    stop: () => {
      stopped = true;
      child?.kill();
    },
  };
}
