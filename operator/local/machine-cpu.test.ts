import { idleShare, saturatedMachine, SATURATED_IDLE_SHARE } from './machine-cpu';

describe('saturatedMachine', () => {
  it.each<[string, number | undefined, boolean]>([
    ['a busy machine with CPU to spare grows', 0.3, false],
    ['a machine without idle CPU holds', SATURATED_IDLE_SHARE / 2, true],
    ['exactly at the threshold grows', SATURATED_IDLE_SHARE, false],
    // no /proc/stat (not Linux), or the first reading: nothing is known, nothing is held
    ['an unknown machine grows', undefined, false],
  ])('%s', async (_name, idle, held) => {
    const reason = await saturatedMachine(() => idle)();
    expect(reason !== undefined).toBe(held);
    if (held) expect(reason).toMatch(/no idle CPU \(5% idle\)/);
  });

  it("reads this machine's idle share from /proc/stat", async () => {
    const read = idleShare();
    await new Promise((resolve) => setTimeout(resolve, 600));
    const share = read();
    expect(share).toBeGreaterThanOrEqual(0);
    expect(share).toBeLessThanOrEqual(1);
  });
});
