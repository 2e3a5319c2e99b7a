import { rabbitLiveDepthSource } from './rabbitmq-live-depth';
import type { MetricSource } from './source';

const management = (value: number | Error): MetricSource => ({
  name: 'rabbitmq:orderflow.stage.pay',
  measure: () => (value instanceof Error ? Promise.reject(value) : Promise.resolve(value)),
});
const answer = (value: number | Error) => () =>
  value instanceof Error ? Promise.reject(value) : Promise.resolve(value);
const down = new Error('down');

describe('rabbitLiveDepthSource', () => {
  it.each([
    // ready from the broker plus what the workers hold: the same sum the management API reports late
    ['both live parts', 40, 25, 30, 65, 'amqp+workers'],
    // the AMQP port is unreachable: the management API answers, and the status says so
    ['broker AMQP down', down, 25, 30, 30, 'management'],
    // a worker's metrics cannot be read: its share is unknown, so the management API answers
    ['a worker unreadable', 40, down, 30, 30, 'management'],
    // no workers to ask (the target cannot tell): the management API answers
    ['target cannot tell', 40, undefined, 30, 30, 'management'],
  ])('%s', async (_, ready, held, fallback, value, origin) => {
    const source = rabbitLiveDepthSource({
      queue: 'orderflow.stage.pay',
      ready: answer(ready),
      held: held === undefined ? undefined : answer(held),
      fallback: management(fallback),
    });
    await expect(source.measure()).resolves.toBe(value);
    expect(source.origin?.()).toBe(origin);
    expect(source.name).toBe('rabbitmq:orderflow.stage.pay');
  });

  it('fails with the management API error when neither way works', async () => {
    const source = rabbitLiveDepthSource({
      queue: 'orderflow.stage.pay',
      ready: answer(down),
      held: answer(3),
      fallback: management(new Error('management answered 503')),
    });
    await expect(source.measure()).rejects.toThrow('management answered 503');
  });
});
