import { connect } from 'node:net';
import { bearer, startTestApi, type TestApi } from '../support/api';

let api: TestApi;
let token: string;
beforeAll(async () => {
  api = await startTestApi();
  token = (await api.account('customer')).token;
});
afterAll(() => api.close());

const expectProblem = (
  res: { status: number; type: string; body: Record<string, unknown> },
  status: number,
) => {
  expect(res.status).toBe(status);
  expect(res.type).toBe('application/problem+json');
  expect(res.body).toMatchObject({
    status,
    type: expect.stringMatching(/^https:\/\//),
    title: expect.any(String),
  });
  expect(JSON.stringify(res.body)).not.toMatch(/node_modules|\.ts:\d+|SELECT|INSERT/);
};

describe('HTTP errors are RFC 9457 problems', () => {
  it('malformed JSON -> 400', async () => {
    const res = await api
      .http()
      .post('/v1/orders')
      .set(bearer(token))
      .set('content-type', 'application/json')
      .send('{"merchantId":');
    expectProblem(res, 400);
  });

  it('wrong content type -> 415', async () => {
    const res = await api
      .http()
      .post('/v1/auth/login')
      .set('content-type', 'text/plain')
      .send('email=a&password=b');
    expectProblem(res, 415);
  });

  it('body over 1 MB -> 413', async () => {
    const huge = JSON.stringify({ email: 'a@b.test', password: 'x'.repeat(1_100_000) });
    const res = await api.http().post('/v1/auth/login').set('content-type', 'application/json').send(huge);
    expectProblem(res, 413);
  });

  it('unknown route -> 404', async () => {
    expectProblem(await api.http().get('/v1/nothing-here'), 404);
    expectProblem(await api.http().get('/docs/assets/../../package.json'), 404);
    expectProblem(await api.http().trace('/v1/nothing-here'), 404);
  });

  it('wrong method -> 405 with Allow', async () => {
    const res = await api.http().delete('/v1/orders').set(bearer(token));
    expectProblem(res, 405);
    expect(res.headers.allow).toMatch(/GET/);
    expect(res.headers.allow).toMatch(/POST/);
  });

  it.each([
    ['TRACE', '/v1/orders', 'POST, HEAD, GET'],
    ['TRACE', '/v1/auth/login', 'POST'],
    ['PUT', '/v1/me', 'HEAD, GET'],
    ['TRACE', '/healthz', 'HEAD, GET'],
  ])(
    '%s %s, a method the path does not declare -> 405 with Allow: %s (not 501)',
    async (method, path, allow) => {
      const res = await api.http()[method.toLowerCase() as 'trace' | 'put'](path).set(bearer(token));
      expectProblem(res, 405);
      expect(res.headers.allow).toBe(allow);
    },
  );

  it('a missing body where one is required -> 400', async () => {
    expectProblem(await api.http().post('/v1/orders').set(bearer(token)), 400);
  });
});

/** Sends bytes as they are (no HTTP client would send these) and reads the answer until the server closes. */
async function raw(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(request));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('requests HTTP itself refuses, before the app sees them', () => {
  async function answer(request: string) {
    const { url, stop } = await api.listen();
    try {
      const [head, body] = (await raw(url, request)).split('\r\n\r\n');
      return { head: head!, problem: JSON.parse(body!) as Record<string, unknown> };
    } finally {
      await stop();
    }
  }

  it.each([
    ['a broken request line', 'GET /v1/orders HTTP/9\r\n\r\n', 400],
    ['headers over the size limit', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
  ])('%s: a problem+json with the right status, then the connection closes', async (_, request, status) => {
    const { head, problem } = await answer(request);
    expect(head).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
    expect(head).toMatch(/content-type: application\/problem\+json/i);
    expect(head).toMatch(/connection: close/i);
    expect(problem).toMatchObject({ status, type: expect.stringMatching(/^https:\/\//) });
  });

  it.each([
    [
      'NUL in a header value',
      'POST /v1/orders HTTP/1.1\r\nHost: x\r\nIdempotency-Key: a\u0000b\r\n\r\n',
      'Idempotency-Key',
    ],
    [
      'a lone CR in a header value',
      'GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\rb\r\n\r\n',
      'Authorization',
    ],
  ])('%s: 400 naming the header, never repeating its value', async (_, request, header) => {
    const { head, problem } = await answer(request);
    expect(head).toMatch(/^HTTP\/1.1 400 /);
    expect(problem.detail).toContain(`the ${header} header`);
    expect(problem.errors).toEqual([{ field: header, message: expect.stringContaining('NUL') }]);
    expect(JSON.stringify(problem)).not.toMatch(/Bearer|a\\u0000b/);
  });

  it.each([
    ['NUL in the path', 'GET /v1/orders/a\u0000b HTTP/1.1\r\nHost: x\r\n\r\n', 'the request target'],
    ['NUL in a header name', 'GET /v1/me HTTP/1.1\r\nHost: x\r\nX-A\u0000: 1\r\n\r\n', 'a header name'],
  ])('%s: 400 saying where', async (_, request, where) => {
    const { head, problem } = await answer(request);
    expect(head).toMatch(/^HTTP\/1.1 400 /);
    expect(problem.detail).toContain(`${where} has a character`);
    expect(problem.errors).toBeUndefined();
  });
});

describe('operations endpoints', () => {
  it('serves probes and metrics', async () => {
    expect((await api.http().get('/healthz')).status).toBe(200);
    const ready = await api.http().get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ database: 'ok' });
    await api.http().get('/v1/me').set(bearer(token));
    const metrics = await api.http().get('/metrics');
    expect(metrics.text).toMatch(
      /orderflow_http_requests_total\{method="GET",route="\/v1\/me",status="200"\} \d+/,
    );
    expect(metrics.text).toContain('orderflow_http_request_duration_seconds_bucket');
  });

  it('publishes an OpenAPI 3.1 document generated from the request schemas', async () => {
    const res = await api.http().get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const create = res.body.paths['/v1/orders'].post;
    expect(create.responses['202']).toBeDefined();
    const schema = create.requestBody.content['application/json'].schema;
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.items).toMatchObject({ minItems: 1, maxItems: 50 });
    expect(res.body.paths['/v1/orders/{orderId}'].get.parameters[0]).toMatchObject({
      name: 'orderId',
      in: 'path',
    });
    expect(res.body.paths['/v1/auth/login'].post.security).toEqual([]);
  });

  it('serves Swagger UI from local assets', async () => {
    const page = await api.http().get('/docs');
    expect(page.status).toBe(200);
    expect(page.text).toContain('/docs/assets/swagger-ui-bundle.js');
    expect(page.text).not.toMatch(/https?:\/\//);
    const bundle = await api.http().get('/docs/assets/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
    expect(bundle.text.length).toBeGreaterThan(100_000);
  });
});
