import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The `admin` role: operators of the platform, who see the console's operations view. */
export class AdminRole1764480000002 implements MigrationInterface {
  name = 'AdminRole1764480000002';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE users DROP CONSTRAINT users_role_check;
      ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('customer', 'merchant', 'admin'));
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      DELETE FROM users WHERE role = 'admin';
      ALTER TABLE users DROP CONSTRAINT users_role_check;
      ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('customer', 'merchant'));
    `);
  }
}
