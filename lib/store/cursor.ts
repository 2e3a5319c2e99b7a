import { isUuid } from '../domain/ids';

/**
 * Keyset pagination: the cursor is the (created_at, id) of the last row of a page, opaque to clients.
 * created_at travels as PostgreSQL's own text form so no microseconds are lost on the way.
 */

export interface Cursor {
  createdAt: string;
  id: string;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.id])).toString('base64url');
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;

export function decodeCursor(text: string): Cursor | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2) return undefined;
    const [createdAt, id] = value as unknown[];
    if (typeof createdAt !== 'string' || typeof id !== 'string') return undefined;
    if (!TIMESTAMP.test(createdAt) || !isUuid(id)) return undefined;
    return { createdAt, id };
  } catch {
    return undefined;
  }
}

/** Fetch one row more than asked: its presence says whether another page exists. */
export function page<T extends { cursorCreatedAt: string; id: string }>(rows: T[], limit: number) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  const nextCursor =
    rows.length > limit && last ? encodeCursor({ createdAt: last.cursorCreatedAt, id: last.id }) : null;
  return { items, nextCursor };
}
