import { simulatedGateway, TransientPaymentError } from './payment-gateway';

const charge = (token: string | null, attempt = 1, key = 'pay:order-1') =>
  simulatedGateway({ latencyMs: 0, declineRate: 0 }).charge({
    idempotencyKey: key,
    amountCents: 1000,
    token,
    attempt,
  });

describe('simulated payment gateway', () => {
  it('approves ordinary tokens, with the same charge id for the same key', async () => {
    const first = await charge('tok_visa');
    expect(first.status).toBe('APPROVED');
    expect(await charge('tok_visa')).toEqual(first);
    expect(await charge('tok_visa', 1, 'pay:order-2')).not.toEqual(first);
  });

  it('declines tok_decline', async () => {
    expect(await charge('tok_decline')).toEqual({ status: 'DECLINED', reason: 'card declined' });
  });

  it('fails tok_flaky transiently twice, then approves', async () => {
    await expect(charge('tok_flaky', 1)).rejects.toBeInstanceOf(TransientPaymentError);
    await expect(charge('tok_flaky', 2)).rejects.toBeInstanceOf(TransientPaymentError);
    expect((await charge('tok_flaky', 3)).status).toBe('APPROVED');
  });

  it('declines about the configured share of keys, always the same ones', async () => {
    const gateway = simulatedGateway({ latencyMs: 0, declineRate: 0.3 });
    const results = await Promise.all(
      Array.from({ length: 2000 }, (_, i) =>
        gateway.charge({ idempotencyKey: `k${i}`, amountCents: 1, token: null, attempt: 1 }),
      ),
    );
    const declined = results.filter((r) => r.status === 'DECLINED').length / results.length;
    expect(declined).toBeGreaterThan(0.25);
    expect(declined).toBeLessThan(0.35);
    const again = await gateway.charge({ idempotencyKey: 'k7', amountCents: 1, token: null, attempt: 4 });
    expect(again.status).toBe(results[7]!.status);
  });
});
