import { execute, one, type Queryable } from './db';

/**
 * Counts failed logins per key inside a fixed window. Kept in PostgreSQL so every API replica sees the
 * same counters.
 */
export async function secondsUntilAllowed(
  db: Queryable,
  limits: { key: string; maxFailures: number }[],
  windowSeconds: number,
): Promise<number> {
  const row = await one<{ wait: number | null }>(
    db,
    `SELECT ceil(max(extract(epoch FROM f.window_started_at + make_interval(secs => $3) - now())))::int AS wait
       FROM login_failures f
       JOIN unnest($1::text[], $2::int[]) AS l(key, max_failures) ON l.key = f.key
      WHERE f.failures >= l.max_failures AND f.window_started_at > now() - make_interval(secs => $3)`,
    [limits.map((l) => l.key), limits.map((l) => l.maxFailures), windowSeconds],
  );
  return Math.max(0, row?.wait ?? 0);
}

export async function recordLoginFailure(
  db: Queryable,
  keys: string[],
  windowSeconds: number,
): Promise<void> {
  await execute(
    db,
    `INSERT INTO login_failures (key, failures, window_started_at)
     SELECT unnest($1::text[]), 1, now()
     ON CONFLICT (key) DO UPDATE SET
       failures = CASE WHEN login_failures.window_started_at > now() - make_interval(secs => $2)
                       THEN login_failures.failures + 1 ELSE 1 END,
       window_started_at = CASE WHEN login_failures.window_started_at > now() - make_interval(secs => $2)
                                THEN login_failures.window_started_at ELSE now() END`,
    [keys, windowSeconds],
  );
}

export async function clearLoginFailures(db: Queryable, keys: string[]): Promise<void> {
  await execute(db, `DELETE FROM login_failures WHERE key = ANY($1)`, [keys]);
}
