import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import { backoffDelay } from '../../lib/backoff';
import { formatLine } from './format';

/** How to run one instance of a role; `index` numbers the instances of the role from 1. */
export interface RoleSpec {
  role: string;
  command: string;
  args: string[];
  env?: (index: number) => Record<string, string>;
  /** Instances to run at start (default 1). */
  replicas?: number;
  /** What to print for the instance in the start-up table, e.g. its URL. */
  describe?: (index: number) => string;
}

export type InstanceState = 'starting' | 'running' | 'backoff' | 'stopping' | 'stopped';

export interface InstanceInfo {
  name: string;
  role: string;
  index: number;
  pid: number | undefined;
  state: InstanceState;
  restarts: number;
  startedAt: string | undefined;
  description: string;
}

export interface SupervisorOptions {
  output?: NodeJS.WritableStream;
  colour?: boolean;
  /** Restart backoff: first delay and ceiling in ms. */
  restartDelayMs?: { initial: number; max: number };
  /** An instance up this long has its restart backoff reset. */
  stableAfterMs?: number;
  /** Grace period between SIGTERM and SIGKILL. */
  stopTimeoutMs?: number;
}

class Instance {
  child: ChildProcess | undefined;
  state: InstanceState = 'starting';
  restarts = 0;
  startedAt: Date | undefined;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private exited: Promise<void> = Promise.resolve();
  private wanted = true;

  constructor(
    readonly spec: RoleSpec,
    readonly index: number,
    private readonly supervisor: Supervisor,
    private readonly options: Required<SupervisorOptions>,
  ) {}

  get name() {
    return `${this.spec.role}#${this.index}`;
  }

  start(): void {
    const child = spawn(this.spec.command, this.spec.args, {
      env: { ...process.env, ...this.spec.env?.(this.index) },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: Ctrl-C reaches only us, and we can stop the child's whole tree.
      detached: true,
    });
    this.child = child;
    this.state = 'running';
    this.startedAt = new Date();
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) =>
        this.options.output.write(formatLine(this.name, line, this.options.colour) + '\n'),
      );
    }
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        resolve();
        this.onExit(code, signal);
      });
    });
    child.once('error', (err) => this.supervisor.note(this.name, `failed to spawn: ${err.message}`));
    this.supervisor.emit('spawn', this.info());
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    const uptime = this.startedAt ? Date.now() - this.startedAt.getTime() : 0;
    // A crashed child's own children would outlive it; its process group goes with it.
    if (this.child?.pid) signalGroup(this.child.pid, 'SIGKILL');
    this.child = undefined;
    this.supervisor.emit('exit', { ...this.info(), code, signal });
    if (!this.wanted) {
      this.state = 'stopped';
      return;
    }
    this.failures = uptime >= this.options.stableAfterMs ? 1 : this.failures + 1;
    const delay = backoffDelay(
      this.failures,
      this.options.restartDelayMs.initial,
      this.options.restartDelayMs.max,
    );
    this.state = 'backoff';
    this.supervisor.note(this.name, `exited (${signal ?? `code ${code}`}), restarting in ${delay} ms`);
    this.restartTimer = setTimeout(() => {
      if (!this.wanted) return;
      this.restarts += 1;
      this.start();
    }, delay);
  }

  async stop(): Promise<void> {
    this.wanted = false;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child?.pid) {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    signalGroup(child.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      this.supervisor.note(this.name, `did not stop within ${this.options.stopTimeoutMs} ms, killing`);
      if (child.pid) signalGroup(child.pid, 'SIGKILL');
    }, this.options.stopTimeoutMs);
    await this.exited;
    clearTimeout(timer);
    this.state = 'stopped';
  }

  info(): InstanceInfo {
    return {
      name: this.name,
      role: this.spec.role,
      index: this.index,
      pid: this.child?.pid,
      state: this.state,
      restarts: this.restarts,
      startedAt: this.startedAt?.toISOString(),
      description: this.spec.describe?.(this.index) ?? '',
    };
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Runs each role's instances as child processes, restarts crashed ones with backoff, scales roles at
 * run time, and stops everything gracefully.
 */
export class Supervisor extends EventEmitter {
  private readonly roles = new Map<string, RoleSpec>();
  private readonly instances = new Map<string, Instance[]>();
  private readonly options: Required<SupervisorOptions>;
  private stopping = false;

  constructor(options: SupervisorOptions = {}) {
    super();
    this.options = {
      output: options.output ?? process.stdout,
      colour:
        options.colour ??
        Boolean((options.output ?? process.stdout) === process.stdout && process.stdout.isTTY),
      restartDelayMs: options.restartDelayMs ?? { initial: 500, max: 30_000 },
      stableAfterMs: options.stableAfterMs ?? 30_000,
      stopTimeoutMs: options.stopTimeoutMs ?? 30_000,
    };
  }

  note(name: string, text: string): void {
    this.options.output.write(formatLine(name, `[supervisor] ${text}`, this.options.colour) + '\n');
  }

  /** Registers a role and starts its initial instances. */
  add(spec: RoleSpec): void {
    if (this.roles.has(spec.role)) throw new Error(`role ${spec.role} is already supervised`);
    this.roles.set(spec.role, spec);
    this.instances.set(spec.role, []);
    this.scale(spec.role, spec.replicas ?? 1);
  }

  roleNames(): string[] {
    return [...this.roles.keys()];
  }

  replicas(role: string): number {
    return (this.instances.get(role) ?? []).length;
  }

  /** Starts or stops instances so the role has `count`; the newest instances stop first. */
  scale(role: string, count: number): Promise<void> {
    const spec = this.roles.get(role);
    const list = this.instances.get(role);
    if (!spec || !list) throw new Error(`unknown role ${role}`);
    if (this.stopping) return Promise.resolve();
    while (list.length < count) {
      const instance = new Instance(spec, list.length + 1, this, this.options);
      list.push(instance);
      instance.start();
    }
    const removed = list.splice(count);
    return Promise.all(removed.reverse().map((i) => i.stop())).then(() => undefined);
  }

  list(): InstanceInfo[] {
    return [...this.instances.values()].flat().map((i) => i.info());
  }

  /** SIGTERM to every instance at once, SIGKILL for those still alive after the grace period. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.instances.values()].flat().map((i) => i.stop()));
  }
}
