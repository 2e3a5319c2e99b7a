import { createDataSource } from '../../lib/adapters/postgres/data-source';
import { DEMO_CUSTOMER, seedDemoData } from '../../cli/demo-data';
import { testConfig } from '../support/services';

describe('demo seed', () => {
  it('creates the demo catalog and customer once, however often it runs', async () => {
    const db = createDataSource({
      url: testConfig().database.url,
      poolSize: 2,
      applicationName: 'jest-seed',
    });
    await db.initialize();
    try {
      const count = async () =>
        (
          await db.query(
            `SELECT (SELECT count(*) FROM users WHERE email LIKE '%@orderflow.test')::int AS users,
                  (SELECT count(*) FROM merchants m JOIN users u ON u.id = m.owner_id WHERE u.email LIKE '%@orderflow.test')::int AS merchants,
                  (SELECT count(*) FROM products p JOIN merchants m ON m.id = p.merchant_id JOIN users u ON u.id = m.owner_id
                    WHERE u.email LIKE '%@orderflow.test')::int AS products`,
          )
        )[0];
      const first = await seedDemoData(db);
      const after = await count();
      expect(after).toEqual({ users: 2, merchants: 3, products: 10 });
      const second = await seedDemoData(db);
      expect(await count()).toEqual(after);
      expect(second).toEqual(first);
      const [customer] = await db.query('SELECT role FROM users WHERE email = $1', [DEMO_CUSTOMER]);
      expect(customer.role).toBe('customer');
    } finally {
      await db.destroy();
    }
  });
});
