import { Algorithm, hash, verify } from '@node-rs/argon2';

/** argon2id with OWASP's baseline (19 MiB, 2 passes, 1 lane); the parameters travel in the hash. */
const PARAMS = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export const hashPassword = (password: string) => hash(password, PARAMS);

/**
 * A hash to verify against when the account does not exist, so an unknown email costs the same time
 * as a wrong password and the two cannot be told apart.
 */
let decoy: Promise<string> | undefined;

export async function verifyPassword(passwordHash: string | undefined, password: string): Promise<boolean> {
  if (passwordHash === undefined) {
    decoy ??= hashPassword('decoy password for unknown accounts');
    await verify(await decoy, password).catch(() => false);
    return false;
  }
  return verify(passwordHash, password).catch(() => false);
}
