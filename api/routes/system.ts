import { createReadStream } from 'node:fs';
import { METHODS } from 'node:http';
import { dirname, join } from 'node:path';
import Router from '@koa/router';
import type { Registry } from 'prom-client';
import { runReadinessChecks, type ReadinessCheck } from '../../lib/telemetry/ops-server';

const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Orderflow API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body>
</html>`;

const DOCS_INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true });`;

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css',
  'swagger-ui-bundle.js': 'application/javascript',
  'favicon-32x32.png': 'image/png',
};

/** Probes, metrics, the OpenAPI document and Swagger UI (served from the installed package, no CDN). */
export function systemRouter(options: {
  registry: Registry;
  readiness: Record<string, ReadinessCheck>;
  isDraining: () => boolean;
  openApi: () => unknown;
}): Router {
  // As for /v1 (app.ts): an undeclared method is 405 with Allow, never 501.
  const router = new Router({ methods: METHODS });
  const assetsDir = dirname(require.resolve('swagger-ui-dist/package.json'));
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    if (options.isDraining()) {
      ctx.status = 503;
      ctx.body = { ready: false, reason: 'shutting down' };
      return;
    }
    const result = await runReadinessChecks(options.readiness);
    ctx.status = result.ready ? 200 : 503;
    ctx.body = result;
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = options.registry.contentType;
    ctx.body = await options.registry.metrics();
  });
  let document: unknown;
  router.get('/openapi.json', (ctx) => {
    document ??= options.openApi();
    ctx.body = document;
  });
  router.get('/docs', (ctx) => {
    ctx.type = 'text/html';
    ctx.set(
      'content-security-policy',
      "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
    );
    ctx.body = DOCS_PAGE;
  });
  router.get('/docs/init.js', (ctx) => {
    ctx.type = 'application/javascript';
    ctx.body = DOCS_INIT;
  });
  router.get('/docs/assets/:file', (ctx) => {
    const type = ASSETS[ctx.params.file ?? ''];
    if (!type) return; // falls through to the 404 problem
    ctx.type = type;
    ctx.set('cache-control', 'public, max-age=86400');
    ctx.body = createReadStream(join(assetsDir, ctx.params.file!));
  });
  return router;
}
