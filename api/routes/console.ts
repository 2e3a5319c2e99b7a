import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { Middleware } from 'koa';
import { projectRoot } from '../../lib/paths';

/** Where `npm run build` puts the console (console/vite.config.ts). */
export const CONSOLE_DIR = join(projectRoot(), 'dist', 'console');

const TYPES: Record<string, string> = {
  '.js': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/** The console's own origin only: no inline script or style, no other host, no framing. */
const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Paths that belong to the API, never to the console's client-side routes. */
const API_PATHS = /^\/(v1|docs|healthz|readyz|metrics|openapi\.json)(\/|$)/;

/**
 * The web console (one Vite build): hashed files under /assets/ cached for a year, other files of the
 * build (favicon) for a day, and index.html for `/` and every client-side route a browser asks for
 * as a page (Accept: text/html), always revalidated so a new build is picked up. Mounted after the
 * API's routers: whatever they answer is never shadowed. Without a build it serves nothing.
 */
export function consoleRoutes(dir = CONSOLE_DIR): Middleware {
  const files = existsSync(dir) ? new Set(readdirSync(dir)) : new Set<string>();
  const assets = existsSync(join(dir, 'assets'))
    ? new Set(readdirSync(join(dir, 'assets')))
    : new Set<string>();
  const index = files.has('index.html') ? readFileSync(join(dir, 'index.html')) : undefined;

  const sendFile = (ctx: Parameters<Middleware>[0], path: string, cacheControl: string) => {
    ctx.type = TYPES[extname(path)] ?? 'application/octet-stream';
    ctx.set('cache-control', cacheControl);
    ctx.body = readFileSync(path);
  };

  return async (ctx, next) => {
    await next();
    if (ctx.body !== undefined && ctx.body !== null) return;
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || API_PATHS.test(ctx.path) || !index) return;
    const asset = /^\/assets\/([\w.-]+)$/.exec(ctx.path)?.[1];
    if (asset) {
      if (assets.has(asset)) sendFile(ctx, join(dir, 'assets', asset), 'public, max-age=31536000, immutable');
      return;
    }
    const file = /^\/([\w.-]+\.\w+)$/.exec(ctx.path)?.[1];
    if (file && file !== 'index.html' && files.has(file)) {
      sendFile(ctx, join(dir, file), 'public, max-age=86400');
      return;
    }
    if (!ctx.accepts('html') || ctx.get('accept').indexOf('text/html') === -1) return;
    ctx.status = 200;
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('cache-control', 'no-cache');
    ctx.set('content-security-policy', CONSOLE_CSP);
    ctx.set('referrer-policy', 'no-referrer');
    ctx.body = index;
  };
}
