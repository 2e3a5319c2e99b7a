import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Accounts, catalog, orders with items and history, and the reliability tables: the outbox (events
 * committed with the state change that caused them), the inbox (one row per order and stage handled),
 * payments (one per order, keyed by idempotency key), stock movements (one per order, product and kind)
 * and HTTP idempotency keys.
 */
export class CoreSchema1764480000000 implements MigrationInterface {
  name = 'CoreSchema1764480000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        email text NOT NULL,
        password_hash text NOT NULL,
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('customer', 'merchant')),
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX users_email_key ON users (lower(email));

      CREATE TABLE merchants (
        id uuid PRIMARY KEY,
        owner_id uuid NOT NULL REFERENCES users (id),
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX merchants_owner_idx ON merchants (owner_id);

      CREATE TABLE products (
        id uuid PRIMARY KEY,
        merchant_id uuid NOT NULL REFERENCES merchants (id),
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        price_cents integer NOT NULL CHECK (price_cents >= 0),
        stock integer NOT NULL CHECK (stock >= 0),
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX products_merchant_idx ON products (merchant_id, created_at, id);

      CREATE TABLE orders (
        id uuid PRIMARY KEY,
        customer_id uuid NOT NULL REFERENCES users (id),
        merchant_id uuid NOT NULL REFERENCES merchants (id),
        status text NOT NULL CHECK (status IN
          ('PENDING', 'VALIDATED', 'RESERVED', 'PAID', 'COMPLETED', 'REJECTED', 'FAILED', 'CANCELLED')),
        total_cents bigint NOT NULL CHECK (total_cents >= 0),
        delivery_address jsonb NOT NULL,
        payment_method text NOT NULL,
        payment_token text,
        failure_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      );
      CREATE INDEX orders_customer_idx ON orders (customer_id, created_at DESC, id DESC);
      CREATE INDEX orders_merchant_idx ON orders (merchant_id, created_at DESC, id DESC);

      CREATE TABLE order_items (
        order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
        product_id uuid NOT NULL REFERENCES products (id),
        quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 100),
        unit_price_cents integer NOT NULL CHECK (unit_price_cents >= 0),
        PRIMARY KEY (order_id, product_id)
      );

      CREATE TABLE order_history (
        id bigserial PRIMARY KEY,
        order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
        from_status text,
        to_status text NOT NULL,
        reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (order_id, to_status)
      );

      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        aggregate_id uuid NOT NULL,
        event_type text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz
      );
      CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;

      CREATE TABLE inbox (
        order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
        stage text NOT NULL,
        outcome text NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (order_id, stage)
      );

      CREATE TABLE payments (
        id uuid PRIMARY KEY,
        order_id uuid NOT NULL UNIQUE REFERENCES orders (id) ON DELETE CASCADE,
        idempotency_key text NOT NULL UNIQUE,
        amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
        status text NOT NULL CHECK (status IN ('APPROVED', 'DECLINED')),
        attempts integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE stock_movements (
        id bigserial PRIMARY KEY,
        order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
        product_id uuid NOT NULL REFERENCES products (id),
        kind text NOT NULL CHECK (kind IN ('RESERVE', 'RELEASE')),
        quantity integer NOT NULL CHECK (quantity > 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (order_id, product_id, kind)
      );

      CREATE TABLE idempotency_keys (
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        key text NOT NULL,
        request_hash text NOT NULL,
        response_status integer,
        response_body jsonb,
        response_headers jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz,
        PRIMARY KEY (user_id, key)
      );
      CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

      CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('orderflow_outbox', '');
        RETURN NULL;
      END $$;
      CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      DROP TRIGGER outbox_notify ON outbox;
      DROP FUNCTION notify_outbox();
      DROP TABLE idempotency_keys, stock_movements, payments, inbox, outbox, order_history, order_items,
        orders, products, merchants, users;
    `);
  }
}
