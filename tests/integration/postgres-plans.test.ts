import { Connection, REPLAN_FIRST_MS } from '../../lib/adapters/postgres/connection';
import { sleep } from '../../lib/backoff';
import { many, prepared, type Queryable } from '../../lib/store/db';
import { testConfig, uniqueName } from '../support/services';

describe('prepared statements', () => {
  let connection: Connection;
  let db: Queryable;
  beforeEach(async () => {
    connection = new Connection({ connectionString: testConfig().database.url });
    await connection.connect();
    db = { query: async (sql, params) => (await connection.query(sql, params)).rows };
  });
  afterEach(() => connection.end());

  /** The estimated cost of the plan the connection holds for the statement. */
  const planCost = async (name: string, values: string) => {
    const { rows } = await connection.query(`EXPLAIN (FORMAT JSON) EXECUTE ${name}(${values})`);
    return (rows[0] as { 'QUERY PLAN': { Plan: { 'Total Cost': number } }[] })['QUERY PLAN'][0]!.Plan[
      'Total Cost'
    ];
  };

  it('are parsed once per connection, under a name that follows their text', async () => {
    const sql = `SELECT $1::int + 1 AS n`;
    expect(await many(db, sql, [1])).toEqual([{ n: 2 }]);
    expect(await many(db, sql, [2])).toEqual([{ n: 3 }]);
    const { rows } = await connection.query(
      `SELECT statement FROM pg_prepared_statements WHERE name = $1 AND NOT from_sql`,
      [prepared(sql).name],
    );
    expect(rows).toEqual([{ statement: sql }]);
    expect(prepared(`${sql} `).name).not.toBe(prepared(sql).name);
  });

  it('are planned again once their table has grown, instead of keeping the plan of an empty table', async () => {
    // A temporary table: no automatic ANALYZE reaches it, so only the connection's replan can.
    const table = uniqueName('plans').replace(/-/g, '_');
    await connection.query(`CREATE TEMP TABLE ${table} (id int PRIMARY KEY, note text NOT NULL)`);
    // The generic plan, which PostgreSQL settles on after a statement's first five executions.
    await connection.query(`SET plan_cache_mode = force_generic_plan`);
    const sql = `SELECT note FROM ${table} WHERE id = ANY($1::int[])`;
    expect(await many(db, sql, [[1]])).toEqual([]);
    const young = await planCost(prepared(sql).name, `'{1}'`);

    await connection.query(`INSERT INTO ${table} SELECT g, repeat('x', 40) FROM generate_series(1, 50000) g`);
    await sleep(REPLAN_FIRST_MS + 200);
    expect(await many(db, sql, [[1]])).toEqual([{ note: 'x'.repeat(40) }]);
    expect(await planCost(prepared(sql).name, `'{1}'`)).toBeGreaterThan(young);
  });
});
