import { one, type Queryable } from './db';

export interface StoredResponse {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export type KeyClaim =
  | { state: 'claimed' }
  /** Another request with the same key is still running. */
  | { state: 'in-flight' }
  | { state: 'mismatch' }
  | { state: 'replay'; response: StoredResponse };

/**
 * Claims an Idempotency-Key for the rest of the transaction. A transaction-scoped advisory lock tells a
 * concurrent duplicate (in flight) from a finished one (replay) without leaving a stuck row behind if
 * the process dies: the lock and any uncommitted row vanish with the transaction.
 */
export async function claimIdempotencyKey(
  tx: Queryable,
  userId: string,
  key: string,
  requestHash: string,
): Promise<KeyClaim> {
  const lock = await one<{ locked: boolean }>(
    tx,
    `SELECT pg_try_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0)) AS locked`,
    [userId, key],
  );
  if (!lock?.locked) return { state: 'in-flight' };
  const existing = await one<{
    requestHash: string;
    status: number;
    body: unknown;
    headers: Record<string, string>;
  }>(
    tx,
    `SELECT request_hash AS "requestHash", response_status AS status, response_body AS body, response_headers AS headers
       FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
    [userId, key],
  );
  if (!existing) return { state: 'claimed' };
  if (existing.requestHash !== requestHash) return { state: 'mismatch' };
  return {
    state: 'replay',
    response: { status: existing.status, body: existing.body, headers: existing.headers },
  };
}

export async function storeIdempotentResponse(
  tx: Queryable,
  userId: string,
  key: string,
  requestHash: string,
  response: StoredResponse,
): Promise<void> {
  await tx.query(
    `INSERT INTO idempotency_keys (user_id, key, request_hash, response_status, response_body, response_headers, completed_at)
     VALUES ($1, $2, $3, $4, $5, $6, now())`,
    [
      userId,
      key,
      requestHash,
      response.status,
      JSON.stringify(response.body),
      JSON.stringify(response.headers),
    ],
  );
}

/** Keys live at least `retentionHours`; older ones are removed in small batches. */
export async function purgeIdempotencyKeys(
  db: Queryable,
  retentionHours: number,
  batch = 1000,
): Promise<number> {
  const row = await one<{ n: number }>(
    db,
    `WITH gone AS (
       DELETE FROM idempotency_keys WHERE ctid IN (
         SELECT ctid FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1) LIMIT $2)
       RETURNING 1)
     SELECT count(*)::int AS n FROM gone`,
    [retentionHours, batch],
  );
  return row?.n ?? 0;
}
