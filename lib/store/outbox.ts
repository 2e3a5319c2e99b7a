import { execute, one, type Queryable } from './db';

/** The channel stage transactions notify at commit: the relay and the API's order feed listen on it. */
export const OUTBOX_CHANNEL = 'orderflow_outbox';

/**
 * Wakes the listeners when this transaction commits. Only stage transactions call it: PostgreSQL
 * serializes the commits of notifying transactions, and the API's order inserts stay out of that line
 * (the relay finds them on its short poll).
 */
export async function notifyOutbox(tx: Queryable): Promise<void> {
  await execute(tx, `SELECT pg_notify('${OUTBOX_CHANNEL}', '')`);
}

/** Whether any outbox row waits to be published: one index probe, what the relay's idle poll costs. */
export async function hasUnpublished(db: Queryable): Promise<boolean> {
  return (await one(db, 'SELECT 1 FROM outbox WHERE published_at IS NULL LIMIT 1')) !== undefined;
}
