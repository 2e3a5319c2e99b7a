import { Client } from 'pg';
import { backoffDelay, sleep } from '../backoff';
import { TERMINAL_STATUSES, type OrderStatus } from '../domain/order-status';
import type { Logger } from '../telemetry/logger';
import { many, one, type Queryable } from './db';
import { OUTBOX_CHANNEL } from './outbox';

/**
 * The live feed of order_history for the API's event streams (`GET .../events`).
 *
 * Why PostgreSQL and not Kafka: every stage transaction that changes an order NOTIFYs
 * `orderflow_outbox` at commit (new orders do not, see notifyOutbox: a 250 ms poll reads them), and
 * order_history is the record the streams replay from. Reading the feed from the same table as the
 * backlog makes `Last-Event-ID` one number with one meaning (a history id), gives the event at commit
 * instead of after the relay's batch and Kafka, needs no consumer group per API replica (each replica
 * keeps one LISTEN connection and reads what it needs), and keeps the API free of broker clients, as
 * DESIGN.md asks.
 *
 * Ordering: bigserial ids are taken when a row is inserted, not when it commits, so a lower id can
 * appear after a higher one (a transaction still running), or never (one that rolled back). The feed
 * delivers strictly in id order: its watermark is the highest id below which every id was delivered
 * or given up; rows above a missing id wait until it appears or ~2 s pass. So a client holding event
 * N has every earlier row of its order or store, and resuming with `id > N` is exact.
 */

export interface HistoryRow {
  id: number;
  orderId: string;
  customerId: string;
  merchantId: string;
  totalCents: number;
  fromStatus: OrderStatus | null;
  toStatus: OrderStatus;
  reason: string | null;
  at: Date;
}

const ROW_COLUMNS = `h.id::text AS id, h.order_id AS "orderId", o.customer_id AS "customerId",
  o.merchant_id AS "merchantId", o.total_cents::text AS "totalCents", h.from_status AS "fromStatus",
  h.to_status AS "toStatus", h.reason, h.created_at AS at`;

type RawRow = Omit<HistoryRow, 'id' | 'totalCents'> & { id: string; totalCents: string };
const toRow = (r: RawRow): HistoryRow => ({ ...r, id: Number(r.id), totalCents: Number(r.totalCents) });

/** Rows read per query, by the feed and by a backlog. */
const PAGE = 1000;
const TERMINAL = [...TERMINAL_STATUSES];

export async function historyAfter(db: Queryable, afterId: number): Promise<HistoryRow[]> {
  const rows = await many<RawRow>(
    db,
    `SELECT ${ROW_COLUMNS} FROM order_history h JOIN orders o ON o.id = h.order_id
      WHERE h.id > $1 ORDER BY h.id LIMIT ${PAGE}`,
    [afterId],
  );
  return rows.map(toRow);
}

/**
 * An order's rows with ids in (afterId, upTo], and whether its terminal row is at or below afterId
 * (the client already has the end of the order).
 */
export async function orderBacklog(db: Queryable, orderId: string, afterId: number, upTo: number) {
  const rows = (
    await many<RawRow>(
      db,
      `SELECT ${ROW_COLUMNS} FROM order_history h JOIN orders o ON o.id = h.order_id
        WHERE h.order_id = $1 AND ((h.id > $2 AND h.id <= $3) OR h.to_status = ANY($4))
        ORDER BY h.id`,
      [orderId, afterId, upTo, TERMINAL],
    )
  ).map(toRow);
  return {
    rows: rows.filter((r) => r.id > afterId && r.id <= upTo),
    endedBefore: rows.some((r) => r.id <= afterId),
  };
}

/** The highest history id committed now. */
export async function latestHistoryId(db: Queryable): Promise<number> {
  const row = await one<{ max: string }>(db, 'SELECT coalesce(max(id), 0)::text AS max FROM order_history');
  return Number(row?.max ?? 0);
}

/** A store's rows with ids in (afterId, upTo], a page at a time. */
export async function merchantBacklogPage(db: Queryable, merchantId: string, afterId: number, upTo: number) {
  const rows = await many<RawRow>(
    db,
    `SELECT ${ROW_COLUMNS} FROM order_history h JOIN orders o ON o.id = h.order_id
      WHERE o.merchant_id = $1 AND h.id > $2 AND h.id <= $3 ORDER BY h.id LIMIT ${PAGE}`,
    [merchantId, afterId, upTo],
  );
  return { rows: rows.map(toRow), more: rows.length === PAGE };
}

/**
 * The ordering rule, pure: rows read above the watermark go out in id order, contiguous with it. A
 * missing id holds back every row above it until it is read, or until `gapTimeoutMs` after the read
 * that first showed it missing (rolled-back transactions consume ids for good).
 */
export class HistorySequencer {
  /** (upTo, since): every missing id at or below `upTo` has been known missing since `since`. */
  private noticed: { upTo: number; since: number }[] = [];

  constructor(
    public watermark: number,
    private readonly gapTimeoutMs: number,
  ) {}

  /** `rows` in id order, as read after the watermark. Returns the rows to deliver now, and when a missing id blocking the rest gives up. */
  accept(rows: readonly HistoryRow[], now: number): { deliver: HistoryRow[]; retryInMs?: number } {
    const fresh = rows.filter((r) => r.id > this.watermark);
    const top = fresh.at(-1)?.id;
    if (top !== undefined && top > (this.noticed.at(-1)?.upTo ?? -1))
      this.noticed.push({ upTo: top, since: now });
    const deliver: HistoryRow[] = [];
    for (const row of fresh) {
      if (row.id > this.watermark + 1) this.giveUpBelow(row.id, now);
      if (row.id > this.watermark + 1) break;
      deliver.push(row);
      this.watermark = row.id;
    }
    this.noticed = this.noticed.filter((n) => n.upTo > this.watermark);
    const blocking = deliver.length < fresh.length ? this.noticed[0] : undefined;
    return blocking
      ? { deliver, retryInMs: Math.max(0, blocking.since + this.gapTimeoutMs - now) }
      : { deliver };
  }

  /** Gives up the missing ids below `id` that have been missing for `gapTimeoutMs`. */
  private giveUpBelow(id: number, now: number): void {
    let expired = this.watermark;
    for (const n of this.noticed) {
      if (now - n.since < this.gapTimeoutMs) break;
      expired = Math.max(expired, n.upTo);
    }
    this.watermark = Math.max(this.watermark, Math.min(id - 1, expired));
  }
}

export type FeedTopic = { orderId: string } | { merchantId: string };
type Listener = (row: HistoryRow) => void;

export interface FeedSubscription {
  /**
   * Resolves with the id above which this subscription gets every row from the feed: read the
   * backlog up to it from the database, and take the rest from the feed.
   */
  ready: Promise<number>;
  unsubscribe(): void;
}

export interface OrderFeedOptions {
  /** For the dedicated LISTEN connection. */
  url: string;
  /** The pool the reads go through. */
  db: Queryable;
  logger: Logger;
  /** How long a missing id holds back the rows above it (default 2000 ms). */
  gapTimeoutMs?: number;
  /** Read interval besides notifications (default 250 ms): what a new order waits at most to be pushed. */
  pollMs?: number;
}

/** How far back the feed starts when transactions writing history are running at start-up. */
const START_LOOKBACK = PAGE;

/** How soon the feed reads again while a missing id holds rows back. */
const GAP_RECHECK_MS = 50;

/**
 * Where a new feed starts. Ids below the highest committed one may still belong to running
 * transactions; an INSERT holds its RowExclusiveLock on order_history until its transaction ends, so
 * when nobody holds one every id up to the highest is final. Otherwise the feed starts START_LOOKBACK
 * ids back and reads them like any others (their missing ids wait or are given up as usual).
 */
async function startingPoint(db: Queryable): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const row = await one<{ max: string; quiet: boolean }>(
      db,
      `SELECT (SELECT coalesce(max(id), 0) FROM order_history)::text AS max,
              NOT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'relation'
                AND relation = 'order_history'::regclass AND mode = 'RowExclusiveLock'
                AND pid <> pg_backend_pid()) AS quiet`,
    );
    const max = Number(row?.max ?? 0);
    if (row?.quiet) return max;
    if (attempt === 5) return Math.max(0, max - START_LOOKBACK);
    await sleep(20);
  }
}

/** One LISTEN connection and one read at a time for the whole process, while any stream is open. */
export class OrderFeed {
  private readonly byOrder = new Map<string, Set<Listener>>();
  private readonly byMerchant = new Map<string, Set<Listener>>();
  private subscribers = 0;
  private run: FeedRun | undefined;

  constructor(private readonly options: OrderFeedOptions) {}

  subscribe(topic: FeedTopic, listener: Listener): FeedSubscription {
    const [map, key] =
      'orderId' in topic ? [this.byOrder, topic.orderId] : [this.byMerchant, topic.merchantId];
    const set = map.get(key) ?? new Set();
    set.add(listener);
    map.set(key, set);
    this.subscribers += 1;
    this.run ??= new FeedRun(this.options, (row) => this.fanOut(row));
    const ready = this.run.watermark();
    let active = true;
    return {
      ready,
      unsubscribe: () => {
        if (!active) return;
        active = false;
        set.delete(listener);
        if (set.size === 0) map.delete(key);
        this.subscribers -= 1;
        if (this.subscribers === 0) this.stop();
      },
    };
  }

  /** Ends the LISTEN connection and every timer (streams unsubscribe as they end). */
  stop(): void {
    this.run?.stop();
    this.run = undefined;
  }

  private fanOut(row: HistoryRow): void {
    for (const listeners of [this.byOrder.get(row.orderId), this.byMerchant.get(row.merchantId)]) {
      for (const listener of listeners ?? []) listener(row);
    }
  }
}

/** The feed from its first subscriber to its last: connection, watermark, reads and timers. */
class FeedRun {
  private sequencer: HistorySequencer | undefined;
  private readonly started: Promise<number>;
  private client: Client | undefined;
  private stopped = false;
  private reading = false;
  private readAgain = false;
  private listenFailures = 0;
  private readFailures = 0;
  private poll: NodeJS.Timeout | undefined;
  private gapTimer: NodeJS.Timeout | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly options: OrderFeedOptions,
    private readonly deliver: Listener,
  ) {
    this.started = this.start();
    this.startPolling();
    void this.listen();
  }

  /** The watermark now, or once the feed has one. */
  watermark(): Promise<number> {
    return this.sequencer ? Promise.resolve(this.sequencer.watermark) : this.started;
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.poll);
    for (const timer of this.timers) clearTimeout(timer);
    void this.client?.end().catch(() => undefined);
    this.client = undefined;
  }

  private async start(): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        const watermark = await startingPoint(this.options.db);
        this.sequencer = new HistorySequencer(watermark, this.options.gapTimeoutMs ?? 2000);
        void this.read();
        return watermark;
      } catch (err) {
        if (this.stopped) return 0;
        this.options.logger.warn({ err }, 'order feed could not start, retrying');
        await new Promise<void>((resolve) => this.after(backoffDelay(attempt, 200, 5000), resolve));
      }
    }
  }

  private after(ms: number, fn: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    this.timers.add(timer);
    return timer;
  }

  /** Coalesced: one read in flight at a time, and one more after it if anything asked meanwhile. */
  private async read(): Promise<void> {
    const sequencer = this.sequencer;
    if (this.stopped || !sequencer) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.readAgain = false;
        const rows = await historyAfter(this.options.db, sequencer.watermark);
        if (this.stopped) return;
        const { deliver, retryInMs } = sequencer.accept(rows, Date.now());
        for (const row of deliver) this.deliver(row);
        if (retryInMs !== undefined) {
          // A transaction holding a lower id is still running (an order insert does not notify at
          // commit): look again shortly, and at the latest when the missing id is given up.
          if (this.gapTimer) this.timers.delete(this.gapTimer);
          clearTimeout(this.gapTimer);
          this.gapTimer = this.after(Math.min(retryInMs + 1, GAP_RECHECK_MS), () => void this.read());
        } else if (rows.length === PAGE) this.readAgain = true;
      } while (this.readAgain && !this.stopped);
      this.readFailures = 0;
    } catch (err) {
      this.readFailures += 1;
      this.options.logger.warn({ err, failures: this.readFailures }, 'order feed read failed, retrying');
      this.after(backoffDelay(this.readFailures, 200, 5000), () => void this.read());
    } finally {
      this.reading = false;
    }
  }

  /**
   * A read every `pollMs` besides the notifications: new orders do not notify (only stage transactions
   * do), and it stands in for them while there is no LISTEN connection.
   */
  private startPolling(): void {
    this.poll ??= setInterval(() => void this.read(), this.options.pollMs ?? 250);
    this.poll.unref();
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.options.url, application_name: 'orderflow-api-feed' });
    let lost = false;
    const onLost = (err?: unknown) => {
      if (lost) return;
      lost = true;
      void client.end().catch(() => undefined);
      if (this.stopped) return;
      if (this.client === client) this.client = undefined;
      this.listenFailures += 1;
      this.options.logger.warn(
        { err, failures: this.listenFailures },
        'order feed listener lost, polling until it is back',
      );
      this.startPolling();
      this.after(backoffDelay(this.listenFailures, 500, 10_000), () => void this.listen());
    };
    client.on('notification', () => void this.read());
    client.on('error', onLost);
    client.on('end', () => onLost());
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    } catch (err) {
      onLost(err);
      return;
    }
    if (this.stopped) {
      void client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.listenFailures = 0;
    // Commits between the last read and LISTEN sent no notification this connection saw.
    void this.read();
  }
}
