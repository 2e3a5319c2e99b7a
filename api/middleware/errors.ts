import type { Middleware } from 'koa';
import type { Logger } from '../../lib/telemetry/logger';
import { HttpProblem, problems } from '../problem';

/** Turns any error into problem+json. Unknown errors become a bare 500: no stack, no SQL. */
export function problemResponses(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.body === undefined || ctx.body === null) {
        if (ctx.status === 404) throw problems.notFound('The route');
        if (ctx.status === 405)
          throw problems.methodNotAllowed(ctx.response.get('allow').split(/,\s*/).filter(Boolean));
      }
    } catch (err) {
      const problem = toProblem(err);
      if (problem.status >= 500) logger.error({ err, reqId: ctx.state.requestId }, 'request failed');
      ctx.status = problem.status;
      for (const [name, value] of Object.entries(problem.headers)) ctx.set(name, value);
      ctx.type = 'application/problem+json';
      ctx.body = {
        type: problem.type,
        title: problem.title,
        status: problem.status,
        ...(problem.detail ? { detail: problem.detail } : {}),
        instance: ctx.path,
        ...problem.extra,
      };
    }
  };
}

function toProblem(err: unknown): HttpProblem {
  if (err instanceof HttpProblem) return err;
  const status = (err as { status?: number }).status;
  // koa-jwt and koa itself throw http-errors with a status.
  if (status === 401) return problems.unauthorized();
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpProblem(status, 'client-error', 'Client error', (err as Error).message);
  }
  return new HttpProblem(500, 'internal-error', 'Internal server error', 'Something went wrong on our side');
}
