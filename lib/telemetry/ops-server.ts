import { closeServer } from '../http-close';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A readiness check: resolves when the dependency is usable, throws with the reason otherwise. */
export type ReadinessCheck = () => Promise<void>;

export interface OpsServer {
  readonly port: number;
  /** Marks the process as shutting down: /readyz answers 503 from now on. */
  drain(): void;
  close(): Promise<void>;
}

export async function runReadinessChecks(checks: Record<string, ReadinessCheck>, timeoutMs = 2000) {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          check(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return [name, 'ok'] as const;
      } catch (err) {
        return [name, err instanceof Error ? err.message : String(err)] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ready: entries.every(([, state]) => state === 'ok'), checks: Object.fromEntries(entries) };
}

/**
 * The exposition of only the named metrics (`/metrics?name[]=a&name[]=b`; unknown names are left
 * out): what a frequent reader of one gauge asks for, since the whole registry, default process
 * metrics included, costs the process more to render than the reader needs.
 */
async function metricsNamed(registry: Registry, names: readonly string[]): Promise<string> {
  const known = names.filter((name) => registry.getSingleMetric(name) !== undefined);
  const parts = await Promise.all(known.map((name) => registry.getSingleMetricAsString(name)));
  return parts.map((part) => `${part}\n`).join('');
}

/**
 * The small HTTP server every non-API process mounts: /metrics for Prometheus (or only the metrics
 * named by `name[]` parameters), /healthz for liveness
 * (the event loop answers), /readyz for readiness (every dependency check passes and we are not draining).
 */
export async function startOpsServer(options: {
  host: string;
  port: number;
  registry: Registry;
  readiness: Record<string, ReadinessCheck>;
  /** Extra read-only JSON endpoints of the role, e.g. the operator's /v1/autoscalers. */
  routes?: Record<string, () => unknown>;
}): Promise<OpsServer> {
  let draining = false;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, { error: 'method not allowed' });
    if (path === '/healthz') return reply(200, { status: 'ok' });
    if (path === '/readyz') {
      if (draining) return reply(503, { ready: false, reason: 'shutting down' });
      void runReadinessChecks(options.readiness).then((result) => reply(result.ready ? 200 : 503, result));
      return;
    }
    if (path === '/metrics') {
      const names = new URLSearchParams((req.url ?? '').split('?')[1] ?? '').getAll('name[]');
      void (names.length > 0 ? metricsNamed(options.registry, names) : options.registry.metrics()).then(
        (text) => reply(200, text, options.registry.contentType),
        (err: Error) => reply(500, { error: err.message }),
      );
      return;
    }
    const route = options.routes?.[path ?? ''];
    if (route) return reply(200, route());
    reply(404, { error: 'not found' });
  });
  // Longer than any client keeps an idle connection (undici: 4 s, Prometheus: longer than its scrape
  // interval), so a client never reuses a socket the server is closing at that instant.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    drain: () => {
      draining = true;
    },
    close: () => closeServer(server),
  };
}
