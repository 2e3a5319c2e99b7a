import { HAPPY_PATH, nextTask, notYetDue, parseTask, PIPELINE, STAGES } from './pipeline';

const id = '3f1c2b9e-8a7d-4c6b-9e5f-1a2b3c4d5e6f';
const body = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

describe('parseTask', () => {
  it('accepts a well-formed task for its queue', () => {
    expect(parseTask(body({ orderId: id, stage: 'pay', attempt: 2 }), 'pay')).toEqual({
      ok: true,
      task: { orderId: id, stage: 'pay', attempt: 2 },
    });
  });

  it.each([
    // body, the reason it is refused
    ['{not json', 'body is not JSON'],
    [[1, 2], 'body is not an object'],
    ['null', 'body is not an object'],
    [{ orderId: 7, stage: 'pay', attempt: 1 }, 'orderId is not a UUID'],
    [{ orderId: 'x', stage: 'pay', attempt: 1 }, 'orderId is not a UUID'],
    [{ orderId: id, stage: 'ship', attempt: 1 }, 'unknown stage "ship"'],
    [{ orderId: id, stage: 'validate', attempt: 1 }, 'a validate task on the pay queue'],
    [{ orderId: id, stage: 'pay', attempt: 0 }, 'attempt must be a positive integer'],
    [{ orderId: id, stage: 'pay' }, 'attempt must be a positive integer'],
    [{ orderId: id, stage: 'pay', attempt: 1.5 }, 'attempt must be a positive integer'],
    [{ orderId: id, stage: 'pay', attempt: '1' }, 'attempt must be a positive integer'],
    [{ orderId: id, attempt: 1 }, 'unknown stage undefined'],
  ])('refuses %j: %s', (value, reason) => {
    expect(parseTask(body(value), 'pay')).toEqual({ ok: false, reason });
  });
});

describe('the pipeline', () => {
  it('chains each stage from where the previous one left the order', () => {
    expect(STAGES.map((s) => [PIPELINE[s].from, PIPELINE[s].to, PIPELINE[s].next])).toEqual([
      ['PENDING', 'VALIDATED', 'reserve'],
      ['VALIDATED', 'RESERVED', 'pay'],
      ['RESERVED', 'PAID', 'complete'],
      ['PAID', 'COMPLETED', undefined],
    ]);
    expect(HAPPY_PATH).toEqual(['PENDING', 'VALIDATED', 'RESERVED', 'PAID', 'COMPLETED']);
  });

  it('follows a successful task with the next stage, first attempt, and nothing after the last', () => {
    expect(nextTask({ orderId: id, stage: 'reserve' })).toEqual({ orderId: id, stage: 'pay', attempt: 1 });
    expect(nextTask({ orderId: id, stage: 'complete' })).toBeUndefined();
  });

  it.each([
    ['PENDING', 'RESERVED', true],
    ['PAID', 'RESERVED', false],
    ['RESERVED', 'RESERVED', false],
    ['CANCELLED', 'PAID', false],
  ] as const)('an order in %s is not yet due at %s: %s', (status, due, expected) => {
    expect(notYetDue(status, due)).toBe(expected);
  });
});
