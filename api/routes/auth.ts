import { clearLoginFailures, recordLoginFailure, secondsUntilAllowed } from '../../lib/store/login-throttle';
import { createUser, findUser, findUserForLogin } from '../../lib/store/users';
import { hashPassword, verifyPassword } from '../auth/passwords';
import type { ApiDeps } from '../deps';
import { defineRoute } from '../openapi/route';
import { problems } from '../problem';
import { loginBody, registerBody, tokenView, userView } from '../schemas';
import { toUserView } from '../views';

/** Failed logins are limited per account and client, and (more loosely) per account across clients. */
const ACCOUNT_WIDE_FACTOR = 4;

export function authRoutes(deps: ApiDeps) {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/auth/register',
      operationId: 'register',
      summary: 'Create a customer or merchant account',
      tag: 'accounts',
      auth: 'public',
      body: registerBody,
      responses: { 201: { description: 'Account created', schema: userView } },
      errors: [400, 409, 413, 415],
      async handle(ctx, { body }) {
        const user = await createUser(deps.db, { ...body, passwordHash: await hashPassword(body.password) });
        if (!user)
          throw problems.conflict(
            'email-taken',
            'Email already registered',
            'An account with this email exists',
          );
        ctx.status = 201;
        ctx.set('location', '/v1/me');
        ctx.body = toUserView(user);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/login',
      operationId: 'login',
      summary: 'Exchange email and password for a short-lived bearer token',
      tag: 'accounts',
      auth: 'public',
      body: loginBody,
      responses: { 200: { description: 'Token issued', schema: tokenView } },
      errors: [400, 401, 415, 429],
      async handle(ctx, { body }) {
        const email = body.email.trim().toLowerCase();
        const { maxFailures, windowSeconds } = deps.config.login;
        const limits = [
          { key: `account:${email}|client:${ctx.ip}`, maxFailures },
          { key: `account:${email}`, maxFailures: maxFailures * ACCOUNT_WIDE_FACTOR },
        ];
        const wait = await secondsUntilAllowed(deps.db, limits, windowSeconds);
        if (wait > 0) throw problems.tooManyRequests(wait);
        const user = await findUserForLogin(deps.db, email);
        if (!(await verifyPassword(user?.passwordHash, body.password)) || !user) {
          await recordLoginFailure(
            deps.db,
            limits.map((l) => l.key),
            windowSeconds,
          );
          throw problems.invalidCredentials();
        }
        await clearLoginFailures(deps.db, [limits[0]!.key]);
        ctx.body = deps.tokens.issue({ sub: user.id, role: user.role, name: user.name });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/me',
      operationId: 'me',
      summary: 'The account behind the token',
      tag: 'accounts',
      auth: [],
      responses: { 200: { description: 'The account', schema: userView } },
      errors: [401],
      async handle(ctx, { user }) {
        const found = await findUser(deps.db, user.sub);
        if (!found) throw problems.unauthorized('The account no longer exists');
        ctx.body = toUserView(found);
      },
    }),
  ];
}
