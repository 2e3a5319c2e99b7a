import { closeServer } from '../../lib/http-close';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Supervisor } from './supervisor';

/**
 * The supervisor's control endpoint on loopback, for the operator's local mode and for people:
 *   GET /v1/roles                      -> [{ role, replicas, instances: [...] }]
 *   PUT /v1/roles/:role/replicas {replicas: n} -> the role, scaled
 *   GET /v1/roles/:role/held           -> { held, instances: [{ name, held }] }: the tasks its
 *                                         instances hold; 503 when an instance cannot tell
 */
export async function startControlServer(
  supervisor: Supervisor,
  options: { host: string; port: number; maxReplicas?: number },
) {
  const maxReplicas = options.maxReplicas ?? 32;
  const describe = (role: string) => ({
    role,
    replicas: supervisor.replicas(role),
    instances: supervisor.list().filter((i) => i.role === role),
  });
  const server: Server = createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && path === '/v1/roles') return reply(200, supervisor.roleNames().map(describe));
    const match = /^\/v1\/roles\/([\w-]+)\/(replicas|held)$/.exec(path);
    if (!match) return reply(404, { error: 'not found' });
    const role = match[1]!;
    if (!supervisor.roleNames().includes(role)) return reply(404, { error: `unknown role ${role}` });
    if (match[2] === 'held') {
      if (req.method !== 'GET') return reply(405, { error: 'use GET' });
      void supervisor.heldByEach(role).then((instances) => {
        const unknown = instances.filter((i) => i.held === undefined).map((i) => i.name);
        if (unknown.length > 0)
          return reply(503, { error: `not readable: ${unknown.join(', ')}`, instances });
        reply(200, { held: instances.reduce((sum, i) => sum + (i.held ?? 0), 0), instances });
      });
      return;
    }
    if (req.method === 'GET') return reply(200, describe(role));
    if (req.method !== 'PUT') return reply(405, { error: 'use GET or PUT' });
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
      if (body.length > 1024) req.destroy();
    });
    req.on('end', () => {
      let replicas: unknown;
      try {
        replicas = (JSON.parse(body) as { replicas?: unknown }).replicas;
      } catch {
        return reply(400, { error: 'body must be JSON {"replicas": n}' });
      }
      if (
        typeof replicas !== 'number' ||
        !Number.isInteger(replicas) ||
        replicas < 0 ||
        replicas > maxReplicas
      ) {
        return reply(400, { error: `replicas must be an integer from 0 to ${maxReplicas}` });
      }
      // Answer once the new instances are spawned; stopping ones finish in the background.
      void supervisor.scale(role, replicas);
      reply(200, describe(role));
    });
  });
  // Longer than any client keeps an idle connection (undici: 4 s), so a client never reuses a socket
  // the server is closing at that instant ("other side closed").
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => closeServer(server),
  };
}
