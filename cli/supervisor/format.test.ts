import { formatLine } from './format';

describe('formatLine', () => {
  it('renders pino JSON as time, level, message and fields', () => {
    const line = JSON.stringify({
      level: 40,
      time: '2026-11-30T10:11:12.345Z',
      msg: 'slow',
      role: 'api',
      orderId: 'o-1',
      ms: 12,
    });
    expect(formatLine('api#1', line, false)).toBe(
      'api#1         | 10:11:12.345 WARN  slow orderId=o-1 ms=12',
    );
  });

  it('passes plain text through with the prefix', () => {
    expect(formatLine('worker#2', 'hello world', false)).toBe('worker#2      | hello world');
  });
});
