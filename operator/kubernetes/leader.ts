import type { Logger } from '../../lib/telemetry/logger';
import { apiStatus } from '../../lib/adapters/kubernetes/client';
import type { KubernetesApis } from './resources';

export interface LeaderOptions {
  apis: KubernetesApis;
  name: string;
  namespace: string;
  identity: string;
  /** A holder that has not renewed for this long is replaced. */
  leaseDurationSeconds: number;
  /** How often the holder renews and candidates look. */
  renewSeconds: number;
  logger: Logger;
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

type LeaseSpec = {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: Date | string;
  renewTime?: Date | string;
  leaseTransitions?: number;
};

/**
 * Lease times are MicroTime, which the API server parses with exactly six fractional digits; client-node
 * would send a Date with three, and a string passes through it unchanged.
 */
const microTime = (time: Date | string | undefined) =>
  time instanceof Date ? time.toISOString().replace(/(\.\d{3})Z$/, '$1000Z') : time;

const stamp = (time: Date | string | undefined) => (time instanceof Date ? time.toISOString() : (time ?? ''));

/**
 * Leader election on a coordination.k8s.io Lease, as client-go does it. Expiry is judged by when this
 * instance last saw the Lease change on its own clock, never by comparing the holder's renewTime to
 * ours, so clock skew between nodes cannot make two leaders. Writes carry the resourceVersion they
 * read, so of two candidates racing for an expired Lease exactly one wins (the other gets 409).
 * A leader that cannot renew within the lease duration steps down before anyone else may take over.
 */
export class LeaderElector {
  private leading = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private observed: { record: string; at: number } | undefined;
  private lastRenew = 0;

  constructor(private readonly options: LeaderOptions) {}

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.loop();
  }

  /** Stops electing; a leader releases the Lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.setLeading(false);
    try {
      const lease = await this.read();
      if (lease?.spec?.holderIdentity !== this.options.identity) return;
      await this.write(lease, { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1 });
      this.options.logger.info('released the leader Lease');
    } catch (err) {
      this.options.logger.warn({ err }, 'could not release the leader Lease; it expires on its own');
    }
  }

  private async loop(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.tryAcquireOrRenew();
    } catch (err) {
      this.options.logger.warn({ err }, 'leader election: Lease not reachable');
    }
    if (this.leading && Date.now() - this.lastRenew > this.renewDeadlineMs()) {
      this.options.logger.error('could not renew the leader Lease in time; stepping down');
      this.setLeading(false);
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.loop(), this.options.renewSeconds * 1000);
  }

  /** Renewals must succeed within this much, leaving candidates a margin before the Lease expires. */
  private renewDeadlineMs(): number {
    return (this.options.leaseDurationSeconds - this.options.renewSeconds) * 1000;
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const { identity, leaseDurationSeconds } = this.options;
    const now = new Date();
    const lease = await this.read();
    if (!lease) {
      await this.create({
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: 0,
      });
      return;
    }
    const spec: LeaseSpec = lease.spec ?? {};
    const record = `${spec.holderIdentity ?? ''}|${stamp(spec.renewTime)}|${spec.leaseDurationSeconds ?? ''}`;
    if (this.observed?.record !== record) this.observed = { record, at: Date.now() };
    const holder = spec.holderIdentity ?? '';
    const expired =
      holder === '' ||
      Date.now() - this.observed.at > (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    if (holder !== identity && !expired) {
      if (this.leading) this.setLeading(false);
      return;
    }
    const taking = holder !== identity;
    const next: LeaseSpec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds,
      renewTime: now,
      ...(taking ? { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
    };
    if (!(await this.write(lease, next))) return;
    this.lastRenew = Date.now();
    if (!this.leading) this.setLeading(true);
  }

  private async read() {
    try {
      return await this.options.apis.coordination.readNamespacedLease({
        name: this.options.name,
        namespace: this.options.namespace,
      });
    } catch (err) {
      if (apiStatus(err) === 404) return undefined;
      throw err;
    }
  }

  private async create(spec: LeaseSpec): Promise<void> {
    try {
      await this.options.apis.coordination.createNamespacedLease({
        namespace: this.options.namespace,
        body: {
          metadata: { name: this.options.name, namespace: this.options.namespace },
          spec: wire(spec),
        } as never,
      });
    } catch (err) {
      if (apiStatus(err) === 409) return; // another candidate created it first
      throw err;
    }
    this.lastRenew = Date.now();
    this.setLeading(true);
  }

  /** Replaces the Lease if nobody changed it since we read it; false when someone did. */
  private async write(lease: { metadata?: object }, spec: LeaseSpec): Promise<boolean> {
    try {
      await this.options.apis.coordination.replaceNamespacedLease({
        name: this.options.name,
        namespace: this.options.namespace,
        body: { metadata: lease.metadata, spec: wire(spec) } as never,
      });
      return true;
    } catch (err) {
      if (apiStatus(err) === 409) return false;
      throw err;
    }
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    this.options.logger.info(
      { identity: this.options.identity },
      leading ? 'became leader' : 'lost leadership',
    );
    if (leading) this.options.onStartedLeading();
    else this.options.onStoppedLeading();
  }
}

function wire(spec: LeaseSpec): LeaseSpec {
  return { ...spec, acquireTime: microTime(spec.acquireTime), renewTime: microTime(spec.renewTime) };
}
