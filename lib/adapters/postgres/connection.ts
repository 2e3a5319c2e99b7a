import { Client } from 'pg';

/** A connection's cached plans are dropped 1 s after it opens, then 2, 4 and 8 s later, then every 10 s. */
export const REPLAN_FIRST_MS = 1000;
export const REPLAN_EVERY_MS = 10_000;

/**
 * A pg connection whose prepared statements are planned again from time to time. The store prepares
 * its statements (lib/store/db.ts), and PostgreSQL keeps a statement's generic plan for as long as
 * nothing invalidates it: one planned on a young, nearly empty table scans it, and kept scanning as
 * the table grew (on a fresh database the stage statements' cost grew with every order until the next
 * automatic ANALYZE, a minute or more away). `DISCARD PLANS` keeps the statements and drops their
 * plans, so the next execution plans against the table as it is now. Tables grow fastest against
 * their size when young, so the first replans come sooner. The command is queued ahead of the query
 * that found it due, on the same connection, and is valid inside a transaction.
 */
export class Connection extends Client {
  private replanAfterMs = REPLAN_FIRST_MS;
  private replanAt = Date.now() + this.replanAfterMs;

  // pg's query() has a dozen overloads; this passes any of them through unchanged.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    const now = Date.now();
    if (now >= this.replanAt) {
      this.replanAfterMs = Math.min(this.replanAfterMs * 2, REPLAN_EVERY_MS);
      this.replanAt = now + this.replanAfterMs;
      // Its failure (a broken connection, an aborted transaction) is the next query's to report.
      super.query('DISCARD PLANS').catch(() => undefined);
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return (super.query as (...a: any[]) => any)(...args);
  }
}
