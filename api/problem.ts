/**
 * Errors as values: every failure the API reports is an HttpProblem, turned into an RFC 9457
 * `application/problem+json` response by one middleware at the top of the stack.
 */

export const PROBLEM_BASE = 'https://orderflow.io/problems/';

export interface FieldError {
  field: string;
  message: string;
}

export class HttpProblem extends Error {
  readonly expose = true;

  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail?: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
    this.name = 'HttpProblem';
  }

  get type(): string {
    return PROBLEM_BASE + this.slug;
  }
}

export const problems = {
  badRequest: (detail: string) => new HttpProblem(400, 'malformed-request', 'Malformed request', detail),
  validation: (errors: FieldError[], status = 400) =>
    new HttpProblem(
      status,
      'validation-error',
      'Request validation failed',
      errors.map((e) => `${e.field}: ${e.message}`).join('; '),
      { errors },
    ),
  unauthorized: (detail = 'A valid bearer token is required') =>
    new HttpProblem(
      401,
      'unauthorized',
      'Unauthorized',
      detail,
      {},
      { 'www-authenticate': 'Bearer realm="orderflow"' },
    ),
  invalidCredentials: () =>
    new HttpProblem(401, 'invalid-credentials', 'Invalid credentials', 'Email or password is wrong'),
  forbidden: (detail: string) => new HttpProblem(403, 'forbidden', 'Forbidden', detail),
  notFound: (what = 'The resource') =>
    new HttpProblem(404, 'not-found', 'Not found', `${what} does not exist`),
  methodNotAllowed: (allowed: string[]) =>
    new HttpProblem(
      405,
      'method-not-allowed',
      'Method not allowed',
      `Allowed: ${allowed.join(', ')}`,
      {},
      { allow: allowed.join(', ') },
    ),
  conflict: (slug: string, title: string, detail: string, extra: Record<string, unknown> = {}) =>
    new HttpProblem(409, slug, title, detail, extra),
  payloadTooLarge: (limit: number) =>
    new HttpProblem(413, 'payload-too-large', 'Payload too large', `The body must not exceed ${limit} bytes`),
  unsupportedMediaType: () =>
    new HttpProblem(
      415,
      'unsupported-media-type',
      'Unsupported media type',
      'Send the body as application/json',
    ),
  unprocessable: (slug: string, title: string, detail: string, extra: Record<string, unknown> = {}) =>
    new HttpProblem(422, slug, title, detail, extra),
  /** A service the answer depends on (RabbitMQ's management API, say) cannot be reached. */
  dependencyUnavailable: (detail: string) =>
    new HttpProblem(503, 'dependency-unavailable', 'Dependency unavailable', detail),
  tooManyRequests: (retryAfterSeconds: number) =>
    new HttpProblem(
      429,
      'too-many-requests',
      'Too many requests',
      `Try again in ${retryAfterSeconds} seconds`,
      {},
      { 'retry-after': String(retryAfterSeconds) },
    ),
};
