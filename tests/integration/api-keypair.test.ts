import { generateKeyPairSync } from 'node:crypto';
import jsonwebtoken from 'jsonwebtoken';
import { bearer, startTestApi, type TestApi } from '../support/api';

/** RS256 with a key pair instead of a shared secret. */
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({
    JWT_ALGORITHM: 'RS256',
    JWT_PRIVATE_KEY: privatePem.replace(/\n/g, '\\n'), // as it arrives from a one-line env var
    JWT_PUBLIC_KEY: publicPem,
  });
});
afterAll(() => api.close());

describe('RS256 key pair', () => {
  it('issues RS256 tokens that the API accepts', async () => {
    const user = await api.account('customer');
    expect(jsonwebtoken.decode(user.token, { complete: true })?.header.alg).toBe('RS256');
    expect((await api.http().get('/v1/me').set(bearer(user.token))).status).toBe(200);
  });

  it('rejects an HS256 token signed with the public key (algorithm confusion)', async () => {
    const user = await api.account('customer');
    const sub = (jsonwebtoken.decode(user.token) as { sub: string }).sub;
    const forged = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(
      JSON.stringify({
        sub,
        role: 'customer',
        iss: 'orderflow',
        aud: 'orderflow-api',
        exp: Math.floor(Date.now() / 1000) + 300,
      }),
    ).toString('base64url')}`;
    const { createHmac } = await import('node:crypto');
    const signature = createHmac('sha256', publicPem).update(forged).digest('base64url');
    expect(
      (
        await api
          .http()
          .get('/v1/me')
          .set(bearer(`${forged}.${signature}`))
      ).status,
    ).toBe(401);
  });
});
