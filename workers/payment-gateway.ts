import { createHash } from 'node:crypto';

/**
 * A simulated card gateway that behaves like a real one where it matters: charges are keyed by an
 * idempotency key (the same key always gets the same answer), it takes time, declines some cards,
 * and fails transiently. Test tokens: `tok_decline` is declined; `tok_flaky` fails transiently on
 * the first two attempts, then succeeds; anything else is approved unless the decline rate says
 * otherwise (decided by the key, so a retry is never answered differently).
 */

export class TransientPaymentError extends Error {
  readonly transient = true;
  constructor(message: string) {
    super(message);
    this.name = 'TransientPaymentError';
  }
}

export interface ChargeRequest {
  idempotencyKey: string;
  amountCents: number;
  token: string | null;
  /** The caller's attempt number (1-based), which the simulator uses for flaky behaviour. */
  attempt: number;
}

export type ChargeResult = { status: 'APPROVED'; chargeId: string } | { status: 'DECLINED'; reason: string };

export interface PaymentGateway {
  charge(request: ChargeRequest): Promise<ChargeResult>;
}

const FLAKY_FAILURES = 2;

/** A stable number in [0, 1) per key. */
function unitHash(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) / 0x1_0000_0000;
}

export function simulatedGateway(options: { latencyMs: number; declineRate: number }): PaymentGateway {
  return {
    async charge(request) {
      if (options.latencyMs > 0) await new Promise((r) => setTimeout(r, options.latencyMs));
      if (request.token === 'tok_flaky' && request.attempt <= FLAKY_FAILURES) {
        throw new TransientPaymentError(`gateway timeout (attempt ${request.attempt})`);
      }
      if (request.token === 'tok_decline') return { status: 'DECLINED', reason: 'card declined' };
      if (unitHash(request.idempotencyKey) < options.declineRate) {
        return { status: 'DECLINED', reason: 'insufficient funds' };
      }
      const chargeId = `ch_${createHash('sha256').update(request.idempotencyKey).digest('hex').slice(0, 24)}`;
      return { status: 'APPROVED', chargeId };
    },
  };
}
