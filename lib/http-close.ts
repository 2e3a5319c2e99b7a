import type { Server, ServerResponse } from 'node:http';

/**
 * Stops an HTTP server gracefully and surely: no new connections, requests in flight answered, then
 * every connection closed. `server.close()` alone waits for kept-alive connections, and a client
 * that polls (the local operator reading the supervisor and each worker every second, Prometheus
 * scraping) keeps sending requests on its connection, which a closing server still answers, so
 * the close never ended. Each response from here on says `Connection: close`, and connections that
 * go idle are closed as they do.
 */
export function closeServer(server: Server, sweepMs = 50): Promise<void> {
  return new Promise<void>((resolve) => {
    server.prependListener('request', (_req, res: ServerResponse) => {
      res.shouldKeepAlive = false;
    });
    const sweep = setInterval(() => server.closeIdleConnections(), sweepMs);
    server.close(() => {
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });
}
