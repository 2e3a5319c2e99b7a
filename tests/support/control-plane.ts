import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';

/**
 * An envtest-style control plane: a real etcd and kube-apiserver (built by scripts/stack/kube.sh) on loopback,
 * with RBAC and static token users, and no controller-manager or scheduler, so objects are stored and served
 * but nothing reconciles them. One per test file; every start gets fresh ports and an empty etcd.
 */

export interface ControlPlaneUser {
  name: string;
  token: string;
  groups?: string[];
}

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  server: string;
  /** kubeconfig YAML for `user`: 'admin' (the default, group system:masters) or one of options.users. */
  kubeconfig(user?: string): string;
  kubeConfigFor(user?: string): KubeConfig;
  stop(): Promise<void>;
}

const ROOT_DIR = resolve(__dirname, '../..');
const ADMIN = 'admin';
const START_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 5_000;
const LOG_TAIL_LINES = 30;

const execFileAsync = promisify(execFile);

// A jest worker that dies without afterAll (a crash, a timeout, a kill) must not leave an apiserver and etcd
// running. Jest hands tests a copy of `process` whose 'exit' event never fires, so the hook below only helps
// outside jest; what holds inside it is the kernel's parent-death signal, set by setpriv before the exec.
const running = new Set<ChildProcess>();
const spawnErrors = new WeakMap<ChildProcess, Error>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  // Without a listener a failed spawn (a missing or non-executable binary) would crash the jest worker.
  child.on('error', (err) => {
    spawnErrors.set(child, err);
    running.delete(child);
  });
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
}

export async function startControlPlane(options: { users?: ControlPlaneUser[] } = {}): Promise<ControlPlane> {
  const started = Date.now();
  const bin = await binDir();
  const users = tokenUsers(options.users ?? []);
  const dir = join(ROOT_DIR, '.stack', `control-plane-${randomBytes(4).toString('hex')}`);
  await mkdir(join(dir, 'certs'), { recursive: true });
  const [etcdClientPort, etcdPeerPort, apiPort] = await freePorts(3);

  const processes: { child: ChildProcess; name: string; log: string }[] = [];
  const stop = async () => {
    // The apiserver first: stopping etcd under it only fills its log with reconnect errors.
    for (const p of [...processes].reverse()) await terminate(p.child);
    processes.length = 0;
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    const etcd = launch(join(bin, 'etcd'), join(dir, 'etcd.log'), [
      '--name=default',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
      // The data is thrown away after the file; fsync per write only slows every test down.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    processes.push({ child: etcd, name: 'etcd', log: join(dir, 'etcd.log') });
    await waitFor(
      processes,
      'etcd',
      async () => (await get(`${etcdUrl}/health`)).body.includes('"health":"true"'),
      started,
    );

    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    await writeFile(join(dir, 'sa.pub'), publicKey);
    await writeFile(join(dir, 'sa.key'), privateKey, { mode: 0o600 });
    await writeFile(join(dir, 'tokens.csv'), tokenFile(users), { mode: 0o600 });

    const apiserver = launch(join(bin, 'kube-apiserver'), join(dir, 'apiserver.log'), [
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--etcd-servers=${etcdUrl}`,
      // No --tls-cert-file: the apiserver writes a self-signed CA and serving cert for 127.0.0.1 here.
      `--cert-dir=${join(dir, 'certs')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--authorization-mode=RBAC',
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      // It would reject every pod for want of a service account token that no controller-manager creates.
      '--disable-admission-plugins=ServiceAccount',
      '--allow-privileged=true',
      '--profiling=false',
    ]);
    processes.push({ child: apiserver, name: 'kube-apiserver', log: join(dir, 'apiserver.log') });
    const server = `https://127.0.0.1:${apiPort}`;
    const adminToken = users.get(ADMIN)!.token;
    await waitFor(
      processes,
      'kube-apiserver',
      async () => (await get(`${server}/readyz`, adminToken)).status === 200,
      started,
    );

    const caData = (await readFile(join(dir, 'certs', 'apiserver.crt'))).toString('base64');
    const kubeconfig = (user = ADMIN) => {
      const entry = users.get(user);
      if (!entry)
        throw new Error(`no such control plane user: ${user} (known: ${[...users.keys()].join(', ')})`);
      return kubeconfigYaml(server, caData, entry);
    };
    return {
      server,
      kubeconfig,
      kubeConfigFor(user = ADMIN) {
        const kc = new KubeConfig();
        kc.loadFromString(kubeconfig(user));
        return kc;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function binDir(): Promise<string> {
  let dir: string;
  try {
    dir = (
      await execFileAsync('bash', ['scripts/stack/kube.sh', 'bin-dir'], { cwd: ROOT_DIR })
    ).stdout.trim();
  } catch (err) {
    throw new Error(
      `scripts/stack/kube.sh bin-dir failed: ${(err as { stderr?: string }).stderr ?? String(err)}`,
      { cause: err },
    );
  }
  for (const name of ['kube-apiserver', 'etcd']) {
    if (!existsSync(join(dir, name))) {
      throw new Error(
        `${join(dir, name)} is not built: run \`bash scripts/stack/kube.sh ensure\` (npm test does)`,
      );
    }
  }
  return dir;
}

function tokenUsers(extra: ControlPlaneUser[]): Map<string, ControlPlaneUser> {
  const users = new Map<string, ControlPlaneUser>([
    [ADMIN, { name: ADMIN, token: randomBytes(24).toString('hex'), groups: ['system:masters'] }],
  ]);
  for (const user of extra) {
    if (users.has(user.name)) throw new Error(`duplicate control plane user: ${user.name}`);
    // The token file is CSV without escapes, so these characters would silently split a field.
    for (const field of [user.name, user.token, ...(user.groups ?? [])]) {
      if (!field || /[",\s]/.test(field))
        throw new Error(`control plane user field not allowed: ${JSON.stringify(field)}`);
    }
    users.set(user.name, user);
  }
  return users;
}

function tokenFile(users: Map<string, ControlPlaneUser>): string {
  return [...users.values()]
    .map((u) => `${u.token},${u.name},${u.name},"${(u.groups ?? []).join(',')}"`)
    .join('\n')
    .concat('\n');
}

// JSON strings are YAML scalars, so names and tokens need no YAML quoting rules of their own.
function kubeconfigYaml(server: string, caData: string, user: ControlPlaneUser): string {
  const q = JSON.stringify;
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '  - name: control-plane',
    '    cluster:',
    `      server: ${q(server)}`,
    `      certificate-authority-data: ${q(caData)}`,
    'users:',
    `  - name: ${q(user.name)}`,
    '    user:',
    `      token: ${q(user.token)}`,
    'contexts:',
    `  - name: ${q(user.name)}`,
    '    context:',
    '      cluster: control-plane',
    `      user: ${q(user.name)}`,
    `current-context: ${q(user.name)}`,
    '',
  ].join('\n');
}

/** Ports free a moment ago; all are held open together so the kernel cannot hand out one of them twice. */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
    }
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  }
}

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path));

function launch(binary: string, logFile: string, args: string[]): ChildProcess {
  // File descriptors rather than pipes: the output keeps flowing to disk even while jest is busy, and a
  // chatty apiserver can never block on a full pipe.
  const fd = openSync(logFile, 'a');
  try {
    const argv = SETPRIV ? ['--pdeathsig', 'KILL', '--', binary, ...args] : args;
    const child = spawn(SETPRIV ?? binary, argv, {
      cwd: ROOT_DIR,
      detached: false,
      stdio: ['ignore', fd, fd],
    });
    track(child);
    return child;
  } finally {
    closeSync(fd);
  }
}

async function waitFor(
  processes: { child: ChildProcess; name: string; log: string }[],
  what: string,
  ready: () => Promise<boolean>,
  started: number,
): Promise<void> {
  const deadline = started + START_TIMEOUT_MS;
  for (;;) {
    const failed = processes.find((p) => spawnErrors.has(p.child));
    if (failed) throw new Error(`${failed.name} did not start: ${spawnErrors.get(failed.child)!.message}`);
    const dead = processes.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (dead) {
      const how = dead.child.exitCode !== null ? `code ${dead.child.exitCode}` : dead.child.signalCode;
      throw new Error(`${dead.name} exited (${how}) while waiting for ${what}:\n${await tail(dead.log)}`);
    }
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) {
      const log = processes.find((p) => p.name === what)?.log;
      throw new Error(
        `${what} not ready within ${START_TIMEOUT_MS / 1000}s:\n${log ? await tail(log) : '(no log)'}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function tail(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<'timeout'>((done) => (timer = setTimeout(() => done('timeout'), STOP_GRACE_MS)));
  if ((await Promise.race([exited, grace])) === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
  clearTimeout(timer);
}

/** A GET that never throws on a non-2xx status; readiness probing needs the status, not an exception. */
function get(url: string, token?: string): Promise<{ status: number; body: string }> {
  const secure = url.startsWith('https:');
  const request = secure ? httpsRequest : httpRequest;
  return new Promise((done, fail) => {
    const req = request(
      url,
      {
        method: 'GET',
        timeout: 2_000,
        headers: token ? { authorization: `Bearer ${token}` } : {},
        // Only while probing: the serving cert appears in cert-dir once the apiserver is already up, and the
        // clients the tests use (kubeconfig) do verify it.
        ...(secure ? { rejectUnauthorized: false } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => done({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', fail);
    req.end();
  });
}
