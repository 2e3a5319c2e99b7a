import { randomUUID } from 'node:crypto';
import { one, type Queryable } from './db';

/** `admin` operates the platform; no one can register as one (the demo data creates one account). */
export const ROLES = ['customer', 'merchant', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  createdAt: Date;
}

const COLUMNS = `id, email, name, role, created_at AS "createdAt"`;

/** Returns undefined when the email is taken (case-insensitively). */
export async function createUser(
  db: Queryable,
  input: { email: string; passwordHash: string; name: string; role: Role },
): Promise<User | undefined> {
  return one<User>(
    db,
    `INSERT INTO users (id, email, password_hash, name, role) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT ((lower(email))) DO NOTHING RETURNING ${COLUMNS}`,
    [randomUUID(), input.email, input.passwordHash, input.name, input.role],
  );
}

export async function findUserForLogin(db: Queryable, email: string) {
  return one<User & { passwordHash: string }>(
    db,
    `SELECT ${COLUMNS}, password_hash AS "passwordHash" FROM users WHERE lower(email) = lower($1)`,
    [email],
  );
}

export async function findUser(db: Queryable, id: string): Promise<User | undefined> {
  return one<User>(db, `SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
}
