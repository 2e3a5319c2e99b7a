import jsonwebtoken from 'jsonwebtoken';
import { bearer, startTestApi, TEST_JWT_SECRET, type TestApi } from '../support/api';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ LOGIN_MAX_FAILURES: '3', LOGIN_WINDOW_SECONDS: '60' });
});
afterAll(() => api.close());

const forge = (payload: object, secret = TEST_JWT_SECRET, options: jsonwebtoken.SignOptions = {}) =>
  jsonwebtoken.sign(payload, secret, {
    algorithm: 'HS256',
    issuer: 'orderflow',
    audience: 'orderflow-api',
    expiresIn: 300,
    ...options,
  });

describe('accounts', () => {
  it('registers, logs in and answers /v1/me', async () => {
    const email = `Ana.${Date.now()}@Example.test`;
    const registered = await api
      .http()
      .post('/v1/auth/register')
      .send({ email, password: 'a long enough secret', name: 'Ana' });
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ email, name: 'Ana', role: 'customer' });
    expect(registered.body).not.toHaveProperty('passwordHash');
    expect(JSON.stringify(registered.body)).not.toContain('a long enough secret');

    const login = await api
      .http()
      .post('/v1/auth/login')
      .send({ email: email.toLowerCase(), password: 'a long enough secret' });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    const claims = jsonwebtoken.decode(login.body.accessToken) as Record<string, unknown>;
    expect(claims).toMatchObject({
      sub: registered.body.id,
      role: 'customer',
      iss: 'orderflow',
      aud: 'orderflow-api',
    });
    expect(typeof claims.sub).toBe('string');

    const me = await api.http().get('/v1/me').set(bearer(login.body.accessToken));
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(registered.body.id);
  });

  it('stores the password as an argon2id hash', async () => {
    const user = await api.account('customer');
    const [row] = await api.db.query('SELECT password_hash FROM users WHERE id = $1', [user.id]);
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('rejects a duplicate email, case-insensitively, with 409', async () => {
    const user = await api.account('customer');
    const again = await api
      .http()
      .post('/v1/auth/register')
      .send({ email: user.email.toUpperCase(), password: 'another long secret', name: 'X' });
    expect(again.status).toBe(409);
    expect(again.type).toBe('application/problem+json');
    expect(again.body.type).toMatch(/email-taken$/);
  });

  it.each([
    // body, the field the error must name
    [{ email: 'not-an-email', password: 'long enough pw', name: 'x' }, 'email'],
    [{ email: 'a@b.test', password: 'short', name: 'x' }, 'password'],
    [{ email: 'a@b.test', password: 'long enough pw', name: '' }, 'name'],
    [{ email: 'a@b.test', password: 'long enough pw', name: 'x', role: 'admin' }, 'role'],
    [{ email: 'a@b.test', password: 'long enough pw', name: 'x', isAdmin: true }, '(body)'],
    // NUL, which PostgreSQL text cannot hold: a 400, not the 500 of a failed insert
    [{ email: 'a@b.test', password: 'long enough pw', name: 'Ana\u0000' }, 'name'],
    [{ email: 'a@b.test', password: 'long enough\u0000pw', name: 'x' }, 'password'],
    // blank once trimmed, as the document's pattern says
    [{ email: 'a@b.test', password: 'long enough pw', name: ' \t\u3000' }, 'name'],
  ])('rejects an invalid registration %j with 400 naming %s', async (body, field) => {
    const res = await api.http().post('/v1/auth/register').send(body);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it.each([
    [{ email: 'ana\u0000@example.test', password: 'whatever it is' }, 'email'],
    [{ email: 'ana@example.test', password: 'whatever\u0000it is' }, 'password'],
  ])('refuses NUL in a login %j with 400 naming %s, before any lookup', async (body, field) => {
    const res = await api.http().post('/v1/auth/login').send(body);
    expect(res.status).toBe(400);
    expect(res.type).toBe('application/problem+json');
    expect(res.body.errors).toEqual([{ field, message: 'must not contain NUL (U+0000)' }]);
  });

  it('gives the same 401 for an unknown email and a wrong password', async () => {
    const user = await api.account('customer');
    const unknown = await api
      .http()
      .post('/v1/auth/login')
      .send({ email: `nobody-${Date.now()}@example.test`, password: 'whatever it is' });
    const wrong = await api
      .http()
      .post('/v1/auth/login')
      .send({ email: user.email, password: 'wrong password!' });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
  });

  it('limits failed logins per account and client with 429 and Retry-After', async () => {
    const user = await api.account('customer');
    for (let i = 0; i < 3; i++) {
      expect(
        (await api.http().post('/v1/auth/login').send({ email: user.email, password: 'wrong password!' }))
          .status,
      ).toBe(401);
    }
    const limited = await api
      .http()
      .post('/v1/auth/login')
      .send({ email: user.email, password: user.password });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    // Another account from the same client is not affected.
    const other = await api.account('customer');
    expect(
      (await api.http().post('/v1/auth/login').send({ email: other.email, password: other.password })).status,
    ).toBe(200);
  });
});

describe('forged and broken tokens', () => {
  let userId: string;
  beforeAll(async () => {
    userId = (await api.account('customer')).id;
  });

  const cases: [string, () => string][] = [
    [
      'alg none',
      () =>
        `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: userId, role: 'customer', iss: 'orderflow', aud: 'orderflow-api', exp: Math.floor(Date.now() / 1000) + 300 })).toString('base64url')}.`,
    ],
    [
      'wrong secret',
      () => forge({ sub: userId, role: 'customer' }, 'another-secret-0123456789-abcdefghijklmnopqrstuvwxyz'),
    ],
    [
      'tampered payload',
      () => {
        const [h, , s] = forge({ sub: userId, role: 'customer' }).split('.');
        const payload = Buffer.from(
          JSON.stringify({
            sub: userId,
            role: 'merchant',
            iss: 'orderflow',
            aud: 'orderflow-api',
            exp: Math.floor(Date.now() / 1000) + 300,
          }),
        ).toString('base64url');
        return `${h}.${payload}.${s}`;
      },
    ],
    ['expired', () => forge({ sub: userId, role: 'customer' }, TEST_JWT_SECRET, { expiresIn: -10 })],
    [
      'wrong issuer',
      () => forge({ sub: userId, role: 'customer' }, TEST_JWT_SECRET, { issuer: 'someone-else' }),
    ],
    [
      'wrong audience',
      () => forge({ sub: userId, role: 'customer' }, TEST_JWT_SECRET, { audience: 'another-api' }),
    ],
    ['no role', () => forge({ sub: userId })],
    [
      'HS384 instead of HS256',
      () => forge({ sub: userId, role: 'customer' }, TEST_JWT_SECRET, { algorithm: 'HS384' }),
    ],
    ['garbage', () => 'not.a.jwt'],
  ];

  it.each(cases)('%s -> 401 problem', async (_name, token) => {
    const res = await api.http().get('/v1/me').set(bearer(token()));
    expect(res.status).toBe(401);
    expect(res.type).toBe('application/problem+json');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('no token -> 401', async () => {
    expect((await api.http().get('/v1/orders')).status).toBe(401);
  });

  it('a genuine token with the same claims works (the cases above fail for the reason named)', async () => {
    expect(
      (
        await api
          .http()
          .get('/v1/me')
          .set(bearer(forge({ sub: userId, role: 'customer', name: 'x' })))
      ).status,
    ).toBe(200);
  });
});
