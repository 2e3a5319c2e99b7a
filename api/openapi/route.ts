import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import type { Role } from '../../lib/store/users';
import { currentUser, type TokenClaims } from '../auth/tokens';
import { problems } from '../problem';
import { headerToken } from '../schemas';
import { fieldErrors, parseOrThrow } from '../validation';
import { isUuid } from '../../lib/domain/ids';

/**
 * One definition per endpoint drives both the router and the OpenAPI document, so the validation the
 * server applies and the contract it publishes come from the same zod schemas.
 */
export interface RouteSpec<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType> {
  method: 'get' | 'post' | 'patch';
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  /** Roles allowed (any authenticated user when empty); `public` needs no token. */
  auth: 'public' | Role[];
  body?: B;
  query?: Q;
  params?: P;
  /** Documented success responses; `eventStream`: a `text/event-stream` whose events `schema` describes. */
  responses: Record<
    number,
    { description: string; schema?: z.ZodType; headers?: Record<string, string>; eventStream?: boolean }
  >;
  /** Documented error statuses. */
  errors: number[];
  /**
   * Request headers the operation reads, each a `headerToken` unless it has a `schema` (checked before
   * the handler runs).
   */
  headers?: { name: string; description: string; required: boolean; schema?: z.ZodType }[];
  handle(
    ctx: Context,
    input: { body: z.output<B>; query: z.output<Q>; params: z.output<P>; user: TokenClaims },
  ): Promise<void>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- specs of any shape share one list
export type AnyRoute = RouteSpec<any, any, any>;

export function defineRoute<
  B extends z.ZodType = z.ZodUndefined,
  Q extends z.ZodType = z.ZodUndefined,
  P extends z.ZodType = z.ZodUndefined,
>(spec: RouteSpec<B, Q, P>): AnyRoute {
  return spec as AnyRoute;
}

/** A path parameter that is not a UUID names nothing that exists: 404, not 400. */
export const idParams = <K extends string>(...names: K[]) =>
  z.strictObject(Object.fromEntries(names.map((n) => [n, z.string()])) as Record<K, z.ZodString>);

/** 400 naming each declared header that is sent but not a token, or required and missing. */
function checkHeaders(ctx: Context, route: AnyRoute): void {
  const errors = (route.headers ?? []).flatMap(({ name, required, schema }) => {
    const value = ctx.headers[name.toLowerCase()];
    if (value === undefined && !required) return [];
    const result = (schema ?? headerToken).safeParse(value ?? '');
    return result.success ? [] : fieldErrors(result.error).map((e) => ({ ...e, field: name }));
  });
  if (errors.length > 0) throw problems.validation(errors);
}

function requireRoles(roles: Role[]): Middleware {
  return async (ctx, next) => {
    const user = currentUser(ctx.state);
    if (roles.length > 0 && !roles.includes(user.role)) {
      throw problems.forbidden(`This operation is for ${roles.join(' or ')} accounts`);
    }
    await next();
  };
}

export function mountRoutes(router: Router, routes: AnyRoute[], authenticate: Middleware): void {
  for (const route of routes) {
    const guards = route.auth === 'public' ? [] : [authenticate, requireRoles(route.auth)];
    const handler: Middleware = async (ctx) => {
      for (const [name, value] of Object.entries(ctx.params ?? {})) {
        if (!isUuid(value)) throw problems.notFound(`The ${name.replace(/Id$/, '')}`);
      }
      checkHeaders(ctx, route);
      const input = {
        body: route.body ? parseOrThrow(route.body, ctx.request.body) : undefined,
        query: route.query ? parseOrThrow(route.query, ctx.query) : undefined,
        params: route.params ? parseOrThrow(route.params, ctx.params) : undefined,
        user: currentUser(ctx.state),
      };
      await route.handle(ctx, input);
    };
    router[route.method](route.operationId, route.path, ...guards, handler);
  }
}
