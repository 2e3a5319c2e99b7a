import { parseTask } from './tasks';

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
    [[1, 2], 'orderId is not a UUID'],
    [{ orderId: 'x', stage: 'pay', attempt: 1 }, 'orderId is not a UUID'],
    [{ orderId: id, stage: 'ship', attempt: 1 }, 'unknown stage "ship"'],
    [{ orderId: id, stage: 'validate', attempt: 1 }, 'a validate task on the pay queue'],
    [{ orderId: id, stage: 'pay', attempt: 0 }, 'attempt must be a positive integer'],
    [{ orderId: id, stage: 'pay' }, 'attempt must be a positive integer'],
  ])('refuses %j: %s', (value, reason) => {
    expect(parseTask(body(value), 'pay')).toEqual({ ok: false, reason });
  });
});
