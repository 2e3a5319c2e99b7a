import type { DataSource, EntityManager } from 'typeorm';

/** Anything that runs SQL: the data source itself, or the manager of an open transaction. */
export type Queryable = Pick<DataSource | EntityManager, 'query'>;

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
