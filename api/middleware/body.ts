import type { Middleware } from 'koa';
import { problems } from '../problem';

declare module 'koa' {
  interface Request {
    body?: unknown;
  }
}

const JSON_TYPE = /^application\/([\w.+-]*\+)?json$/i;

/**
 * Reads a JSON body for methods that carry one: 415 for anything but JSON, 413 past the limit
 * (checked while streaming, not just from Content-Length), 400 for malformed JSON.
 */
export function jsonBody(limitBytes: number): Middleware {
  return async (ctx, next) => {
    const hasBody =
      ctx.req.headers['transfer-encoding'] !== undefined ||
      Number(ctx.req.headers['content-length'] ?? 0) > 0;
    if (!hasBody || !['POST', 'PUT', 'PATCH'].includes(ctx.method)) return next();
    const type = (ctx.req.headers['content-type'] ?? '').split(';')[0]!.trim();
    if (!JSON_TYPE.test(type)) throw problems.unsupportedMediaType();
    if (Number(ctx.req.headers['content-length'] ?? 0) > limitBytes)
      throw problems.payloadTooLarge(limitBytes);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limitBytes) throw problems.payloadTooLarge(limitBytes);
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      ctx.request.body = JSON.parse(text);
    } catch (err) {
      throw problems.badRequest(`The body is not valid JSON: ${(err as Error).message}`);
    }
    return next();
  };
}
