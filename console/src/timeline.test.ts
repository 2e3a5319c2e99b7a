import { describe, expect, it } from 'vitest';
import { canCancel, mergeChanges, timelineSteps, type StatusChange } from './timeline';

const change = (status: string, at: string, reason: string | null = null): StatusChange => ({
  status,
  fromStatus: null,
  reason,
  at: `2026-12-03T10:00:0${at}Z`,
});

describe('timeline', () => {
  it('shows the happy path with the current step and the steps still ahead', () => {
    const steps = timelineSteps([change('PENDING', '1'), change('VALIDATED', '2')]);
    expect(steps.map((s) => `${s.status}:${s.state}`)).toEqual([
      'PENDING:done',
      'VALIDATED:current',
      'RESERVED:ahead',
      'PAID:ahead',
      'COMPLETED:ahead',
    ]);
  });

  it('marks COMPLETED done, not current', () => {
    const all = ['PENDING', 'VALIDATED', 'RESERVED', 'PAID', 'COMPLETED'].map((s, i) => change(s, String(i)));
    expect(timelineSteps(all).every((s) => s.state === 'done')).toBe(true);
  });

  it('ends with the failure and its reason, without the steps never reached', () => {
    const steps = timelineSteps([
      change('PENDING', '1'),
      change('VALIDATED', '2'),
      change('RESERVED', '3'),
      change('FAILED', '4', 'payment declined'),
    ]);
    expect(steps.map((s) => `${s.status}:${s.state}`)).toEqual([
      'PENDING:done',
      'VALIDATED:done',
      'RESERVED:done',
      'FAILED:failed',
    ]);
    expect(steps[3]!.reason).toBe('payment declined');
  });

  it('merges a replayed history with the live stream, each status once, in time order', () => {
    const merged = mergeChanges(
      [change('PENDING', '1'), change('VALIDATED', '2')],
      [change('PENDING', '1'), change('RESERVED', '3'), change('VALIDATED', '2')],
    );
    expect(merged.map((c) => c.status)).toEqual(['PENDING', 'VALIDATED', 'RESERVED']);
  });

  it.each([
    ['PENDING', true],
    ['RESERVED', true],
    ['PAID', false],
    ['COMPLETED', false],
  ])('cancel allowed while %s: %s', (status, allowed) => {
    expect(canCancel(status)).toBe(allowed);
  });
});
