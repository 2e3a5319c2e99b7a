import { createPrivateKey, createPublicKey, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import jsonwebtoken from 'jsonwebtoken';
import koaJwt from 'koa-jwt';
import type { Middleware } from 'koa';
import type { Config } from '../../lib/config';
import { ROLES, type Role } from '../../lib/store/users';
import { problems } from '../problem';

export interface TokenClaims {
  sub: string;
  role: Role;
  name: string;
}

export interface TokenService {
  issue(claims: TokenClaims): { accessToken: string; tokenType: 'Bearer'; expiresIn: number };
  /** koa-jwt: verifies signature, algorithm allow-list, iss, aud and exp; puts the claims in ctx.state.user. */
  authenticate: Middleware;
}

/**
 * Keys for the configured algorithm, parsed once into KeyObjects (given a string, jsonwebtoken would
 * parse it again on every request, which was a quarter of the API's CPU). In development without a
 * secret, a random one for this process.
 */
function keys(config: Config['jwt']): { sign: KeyObject; verify: KeyObject } {
  if (config.algorithm === 'HS256') {
    const secret = createSecretKey(Buffer.from(config.secret ?? randomBytes(48).toString('base64url')));
    return { sign: secret, verify: secret };
  }
  return { sign: createPrivateKey(config.privateKey!), verify: createPublicKey(config.publicKey!) };
}

export function createTokenService(config: Config['jwt']): TokenService {
  const { sign, verify } = keys(config);
  const verifyOptions = { algorithms: [config.algorithm], issuer: config.issuer, audience: config.audience };
  // koa-jwt hands the secret to jsonwebtoken, which accepts a KeyObject; koa-jwt's types predate that.
  const jwt = koaJwt({ secret: verify as unknown as Buffer, ...verifyOptions, key: 'user' });
  return {
    issue(claims) {
      const accessToken = jsonwebtoken.sign({ role: claims.role, name: claims.name }, sign, {
        algorithm: config.algorithm,
        subject: claims.sub,
        issuer: config.issuer,
        audience: config.audience,
        expiresIn: config.ttlSeconds,
      });
      return { accessToken, tokenType: 'Bearer', expiresIn: config.ttlSeconds };
    },
    authenticate: async (ctx, next) => {
      await jwt(ctx, async () => {
        const user = ctx.state.user as Partial<TokenClaims> | undefined;
        if (typeof user?.sub !== 'string' || !ROLES.includes(user.role as Role)) {
          throw problems.unauthorized('The token does not carry a subject and a role');
        }
        await next();
      });
    },
  };
}

export const currentUser = (state: Record<string, unknown>) => state.user as TokenClaims;
