/** Turns a child's output line into a readable, coloured, prefixed line for the terminal. */

const COLOURS = [36, 35, 33, 32, 34, 96, 95, 93, 92, 94];
const LEVELS: Record<number, string> = {
  10: '\x1b[90mTRACE\x1b[0m',
  20: '\x1b[90mDEBUG\x1b[0m',
  30: '\x1b[32mINFO \x1b[0m',
  40: '\x1b[33mWARN \x1b[0m',
  50: '\x1b[31mERROR\x1b[0m',
  60: '\x1b[41mFATAL\x1b[0m',
};
// eslint-disable-next-line no-control-regex -- strips our own ANSI colour codes
const ANSI = /\x1b\[\d+m/g;
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'role', 'v']);

export function colourFor(role: string): number {
  let hash = 0;
  for (const char of role) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return COLOURS[hash % COLOURS.length] ?? 36;
}

function renderValue(value: unknown): string {
  if (typeof value === 'string') return /\s/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}

/** pino JSON becomes `time LEVEL msg key=value`; anything else passes through unchanged. */
export function formatLine(name: string, line: string, colour: boolean): string {
  const prefix = colour
    ? `\x1b[${colourFor(name.split('#')[0] ?? name)}m${name.padEnd(14)}\x1b[0m│ `
    : `${name.padEnd(14)}| `;
  if (!line.startsWith('{')) return prefix + line;
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : '';
    const level = LEVELS[Number(entry.level)] ?? String(entry.level);
    const fields = Object.entries(entry)
      .filter(([key]) => !HIDDEN.has(key))
      .map(([key, value]) => `${key}=${renderValue(value)}`)
      .join(' ');
    const text = `${time} ${colour ? level : level.replace(ANSI, '')} ${String(entry.msg ?? '')} ${fields}`;
    return prefix + text.trimEnd();
  } catch {
    return prefix + line;
  }
}
