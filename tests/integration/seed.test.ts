import { createDataSource } from '../../lib/adapters/postgres/data-source';
import { DEMO_CUSTOMER, seedDemoData } from '../../cli/demo-data';
import { testConfig } from '../support/services';

describe('demo seed', () => {
  const db = createDataSource({ url: testConfig().database.url, poolSize: 2, applicationName: 'jest-seed' });
  beforeAll(() => db.initialize());
  afterAll(() => db.destroy());

  it('creates the demo catalog, customer, merchant and admin once, however often it runs', async () => {
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
    expect(after).toEqual({ users: 3, merchants: 3, products: 10 });
    const [admin] = await db.query(`SELECT role FROM users WHERE email = 'admin@orderflow.test'`);
    expect(admin.role).toBe('admin');
    const second = await seedDemoData(db);
    expect(await count()).toEqual(after);
    expect(second).toEqual(first);
    const [customer] = await db.query('SELECT role FROM users WHERE email = $1', [DEMO_CUSTOMER]);
    expect(customer.role).toBe('customer');
  });

  it('restocks the demo products on request (what orderflow load advises when stock ran out)', async () => {
    await seedDemoData(db);
    const demoStock = `SELECT p.name, p.stock FROM products p JOIN merchants m ON m.id = p.merchant_id
                         JOIN users u ON u.id = m.owner_id WHERE u.email LIKE '%@orderflow.test' ORDER BY p.name`;
    // as after a long load: every demo product down to 3 units
    await db.query(
      `UPDATE products SET stock = 3 WHERE merchant_id IN
         (SELECT m.id FROM merchants m JOIN users u ON u.id = m.owner_id WHERE u.email LIKE '%@orderflow.test')`,
    );
    expect((await seedDemoData(db)).restocked).toBe(0);
    expect((await db.query(demoStock)).find((p: { name: string }) => p.name === 'Margherita').stock).toBe(3);

    // --restock alone: back to the seeded stock
    expect((await seedDemoData(db, { restockTo: 0 })).restocked).toBe(10);
    const seeded = (await db.query(demoStock)) as { name: string; stock: number }[];
    expect(seeded.find((p) => p.name === 'Margherita')!.stock).toBe(500);

    // --restock 6000: at least that many units of every demo product
    expect((await seedDemoData(db, { restockTo: 6000 })).restocked).toBe(10);
    const stocked = (await db.query(demoStock)) as { name: string; stock: number }[];
    expect(stocked.every((p) => p.stock === 6000)).toBe(true);
  });
});
