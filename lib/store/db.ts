/** Anything that runs SQL: the TypeORM data source, the manager of an open transaction, or a pg pool. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

export async function one<T>(db: Queryable, sql: string, params: unknown[] = []): Promise<T | undefined> {
  const rows = (await db.query(sql, params)) as T[];
  return rows[0];
}

export async function many<T>(db: Queryable, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await db.query(sql, params)) as T[];
}

/** `UPDATE ... RETURNING` through TypeORM yields `[rows, count]`; this keeps only the rows. */
export async function returning<T>(db: Queryable, sql: string, params: unknown[] = []): Promise<T[]> {
  const result = (await db.query(sql, params)) as [T[], number] | T[];
  return Array.isArray(result[0]) ? (result[0] as T[]) : (result as T[]);
}
