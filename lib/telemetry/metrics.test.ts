import { createRegistry } from './metrics';

describe('createRegistry', () => {
  it('names only counters with a _total suffix, as Prometheus expects', async () => {
    const types = [...(await createRegistry('test').metrics()).matchAll(/^# TYPE (\S+) (\S+)$/gm)];
    expect(types.length).toBeGreaterThan(10);
    expect(types.filter(([, name, type]) => name!.endsWith('_total') && type !== 'counter')).toEqual([]);
  });
});
