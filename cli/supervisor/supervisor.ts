import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import { backoffDelay } from '../../lib/backoff';
import { removalCosts } from '../../lib/scale-down';
import { formatLine } from './format';
import { lowerPriority } from './priority';

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
  /** Tasks the instance holds right now (for a worker: received, not yet settled); throws if unknown. */
  held?: (index: number) => Promise<number>;
  /**
   * Runs below the CPU priority of the roles without it. The pipeline's roles do: their work is
   * asynchronous by design, and on a machine they share with the API they take the CPU it leaves.
   */
  background?: boolean;
}

/** An instance not answering this soon after its start is still starting: it holds nothing yet. */
const STARTING_MS = 10_000;

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
      env: { ...process.env, ...this.spec.env?.(this.index), ORDERFLOW_SUPERVISOR_PID: String(process.pid) },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: Ctrl-C reaches only us, and we can stop the child's whole tree.
      detached: true,
    });
    this.child = child;
    if (this.spec.background && child.pid) lowerPriority(child.pid);
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
  /** Per role, a scale-down waiting for its instances' readings. */
  private readonly scaling = new Map<string, { count: number; done: Promise<void> }>();
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

  /** The instances a role is set to: what it runs, or what a scale-down in progress leaves. */
  replicas(role: string): number {
    return this.scaling.get(role)?.count ?? (this.instances.get(role) ?? []).length;
  }

  /**
   * Starts or stops instances so the role has `count`. New instances take the lowest free number (and
   * so its port). Going down, the instances that hold the least work stop first, the newest first
   * among equals; the choice waits for their readings, and a later call with another count
   * supersedes one still waiting.
   */
  scale(role: string, count: number): Promise<void> {
    const spec = this.roles.get(role);
    const list = this.instances.get(role);
    if (!spec || !list) throw new Error(`unknown role ${role}`);
    if (this.stopping) return Promise.resolve();
    const pending = this.scaling.get(role);
    if (pending?.count === count) return pending.done;
    while (list.length < count) {
      const taken = new Set(list.map((i) => i.index));
      let index = 1;
      while (taken.has(index)) index += 1;
      const instance = new Instance(spec, index, this, this.options);
      list.push(instance);
      instance.start();
    }
    if (list.length <= count) {
      this.scaling.delete(role);
      return Promise.resolve();
    }
    const scaling = { count, done: Promise.resolve() };
    scaling.done = this.heldByEach(role).then(async (held) => {
      if (this.scaling.get(role) !== scaling || this.stopping) return;
      this.scaling.delete(role);
      const costs = removalCosts(held.map((h) => h.held));
      const removed = list
        .map((instance, i) => ({ instance, cost: costs[i]! }))
        .sort((a, b) => a.cost - b.cost || b.instance.index - a.instance.index)
        .slice(0, list.length - count)
        .map(({ instance }) => instance);
      for (const instance of removed) list.splice(list.indexOf(instance), 1);
      await Promise.all(removed.map((i) => i.stop()));
    });
    this.scaling.set(role, scaling);
    return scaling.done;
  }

  /** What each instance of a role holds, in instance order; undefined where it cannot be read. */
  async heldByEach(role: string): Promise<{ name: string; held: number | undefined }[]> {
    const spec = this.roles.get(role);
    const list = [...(this.instances.get(role) ?? [])];
    return Promise.all(
      list.map(async (instance) => {
        if (!spec?.held) return { name: instance.name, held: undefined };
        try {
          return { name: instance.name, held: await spec.held(instance.index) };
        } catch {
          const starting =
            instance.state !== 'running' ||
            !instance.startedAt ||
            Date.now() - instance.startedAt.getTime() < STARTING_MS;
          return { name: instance.name, held: starting ? 0 : undefined };
        }
      }),
    );
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
