import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox no longer NOTIFYs on every insert. PostgreSQL serializes the commits of every transaction
 * that sent a notification, each holding one lock through its write-ahead log flush; with the API's
 * order inserts among them, a saturated machine queued customers' requests behind stage commits (most
 * of the API's database time was that wait). Stage transactions notify explicitly
 * (`notifyOutbox`), and the relay looks for new orders on a short poll.
 */
export class OutboxNotifyFromStages1764480000003 implements MigrationInterface {
  name = 'OutboxNotifyFromStages1764480000003';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER outbox_notify ON outbox; DROP FUNCTION notify_outbox();`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('orderflow_outbox', '');
        RETURN NULL;
      END $$;
      CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();
    `);
  }
}
