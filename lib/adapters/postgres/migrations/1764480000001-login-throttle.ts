import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Failed-login counters per throttle key (account, or account and client), shared by every API replica. */
export class LoginThrottle1764480000001 implements MigrationInterface {
  name = 'LoginThrottle1764480000001';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE login_failures (
        key text PRIMARY KEY,
        failures integer NOT NULL,
        window_started_at timestamptz NOT NULL
      );
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE login_failures`);
  }
}
