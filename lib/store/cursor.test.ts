import { CURSOR_PATTERN, decodeCursor, encodeCursor } from './cursor';

const ID = '6d86b618-4824-4b7c-ba9f-8a2fafa67bbf';

describe('encodeCursor', () => {
  it.each([
    // created_at::text as PostgreSQL writes it, and the cursor
    ['UTC, microseconds', '2026-12-03 20:51:03.123456+00', `1796331063123456.${ID}`],
    ['another offset, the same instant', '2026-12-03 17:51:03.123456-03', `1796331063123456.${ID}`],
    ['a half-hour offset', '2026-12-04 02:21:03.123456+05:30', `1796331063123456.${ID}`],
    ['fewer fraction digits', '2026-12-03 20:51:03.5+00', `1796331063500000.${ID}`],
    ['no fraction', '2026-12-03 20:51:03+00', `1796331063000000.${ID}`],
  ])('%s', (_case, createdAt, cursor) => {
    expect(encodeCursor({ createdAt, id: ID })).toBe(cursor);
    expect(cursor).toMatch(CURSOR_PATTERN);
  });

  it('refuses a timestamp it cannot read rather than issue a wrong position', () => {
    expect(() => encodeCursor({ createdAt: 'Thu Dec 03 2026', id: ID })).toThrow(/unexpected timestamp/);
  });
});

describe('decodeCursor', () => {
  it('gives back the position, to the microsecond, as a timestamptz literal', () => {
    expect(decodeCursor(`1796331063000123.${ID}`)).toEqual({
      createdAt: '2026-12-03T20:51:03.000123+00:00',
      id: ID,
    });
  });

  it.each([
    // every string of the documented shape is a position PostgreSQL accepts
    ['the epoch', `0.${ID}`, '1970-01-01T00:00:00.000000+00:00'],
    ['the largest', `9999999999999999.${ID}`, '2286-11-20T17:46:39.999999+00:00'],
  ])('%s', (_case, cursor, createdAt) => {
    expect(decodeCursor(cursor)).toEqual({ createdAt, id: ID });
  });

  it.each([
    // anything else is refused before it reaches SQL
    ['the old base64 form', 'WyIyMDI2LTEyLTAzIDIwOjUxOjAzKzAwIiwiNmQ4NiJd'],
    ['17 digits', `12345678901234567.${ID}`],
    ['a negative time', `-1.${ID}`],
    ['an uppercase id', `1.${ID.toUpperCase()}`],
    ['no id', '1796331063000123.'],
    ['a trailing newline', `1.${ID}\n`],
  ])('refuses %s', (_case, cursor) => {
    expect(decodeCursor(cursor)).toBeUndefined();
  });
});
