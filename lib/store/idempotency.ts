import { one, type Queryable } from './db';

export interface StoredResponse {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

/** What a used key stored: the request it was first used with, and the response to replay. */
export async function storedResponse(
  db: Queryable,
  userId: string,
  key: string,
): Promise<(StoredResponse & { requestHash: string }) | undefined> {
  return one(
    db,
    `SELECT request_hash AS "requestHash", response_status AS status, response_body AS body, response_headers AS headers
       FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
    [userId, key],
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
