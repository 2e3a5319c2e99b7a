/**
 * Keyset pagination: the cursor is the position (created_at, id) of the last row of a page, written
 * `<microseconds since 1970>.<uuid>`. Every string of that shape is a position, so any cursor that
 * matches CURSOR_PATTERN pages from there (possibly to an empty page) and anything else is refused
 * before it reaches SQL. created_at travels in microseconds, PostgreSQL's own precision, so no row is
 * skipped or repeated between pages.
 */

export interface Cursor {
  /** A timestamptz literal PostgreSQL parses exactly. */
  createdAt: string;
  id: string;
}

/** 16 digits reach the year 2286; the id is a lowercase UUID, as the API writes them. */
export const CURSOR_PATTERN = /^[0-9]{1,16}\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** created_at::text in the ISO DateStyle, with whatever offset the session's TimeZone gives. */
const PG_TIMESTAMP = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?([+-]\d{2})(?::(\d{2}))?$/;

function toMicros(pgTimestamp: string): bigint {
  const match = PG_TIMESTAMP.exec(pgTimestamp);
  if (!match) throw new Error(`unexpected timestamp from PostgreSQL: ${pgTimestamp}`);
  const [, date, time, fraction = '', hours, minutes = '00'] = match;
  const millis = Date.parse(`${date}T${time}${hours}:${minutes}`);
  return BigInt(millis) * 1000n + BigInt(fraction.padEnd(6, '0'));
}

export function encodeCursor(cursor: Cursor): string {
  return `${toMicros(cursor.createdAt)}.${cursor.id}`;
}

export function decodeCursor(text: string): Cursor | undefined {
  if (!CURSOR_PATTERN.test(text)) return undefined;
  const [micros, id] = text.split('.') as [string, string];
  const total = BigInt(micros);
  const seconds = new Date(Number(total / 1_000_000n) * 1000).toISOString().slice(0, 19);
  const fraction = String(total % 1_000_000n).padStart(6, '0');
  return { createdAt: `${seconds}.${fraction}+00:00`, id };
}

/** Fetch one row more than asked: its presence says whether another page exists. */
export function page<T extends { cursorCreatedAt: string; id: string }>(rows: T[], limit: number) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  const nextCursor =
    rows.length > limit && last ? encodeCursor({ createdAt: last.cursorCreatedAt, id: last.id }) : null;
  return { items, nextCursor };
}
