import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer } from './http-close';

describe('closeServer', () => {
  it('ends while a client keeps polling on a kept-alive connection, answering the request in flight', async () => {
    const server = createServer((_req, res) => void setTimeout(() => res.end('ok'), 30));
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

    // A client like the local operator: one request after the other on its kept-alive connection.
    let polling = true;
    const answers: { status: number; connection: string | null }[] = [];
    const failures: string[] = [];
    const client = (async () => {
      while (polling) {
        try {
          const res = await fetch(url);
          await res.text();
          answers.push({ status: res.status, connection: res.headers.get('connection') });
        } catch (err) {
          failures.push((err as Error).message);
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    })();
    while (answers.length < 3) await new Promise((r) => setTimeout(r, 10));

    const before = answers.length;
    await new Promise((r) => setTimeout(r, 10)); // a request is in flight now
    let outcome: string;
    let afterClose: number;
    try {
      // Bounded, so that a close that never ends fails here instead of hanging the suite.
      outcome = await Promise.race([
        closeServer(server).then(() => 'closed'),
        new Promise<string>((r) => setTimeout(() => r('still open after 10 s'), 10_000).unref()),
      ]);
      afterClose = answers.length;
    } finally {
      polling = false;
      server.closeAllConnections();
      await client;
    }

    expect(outcome).toBe('closed');
    expect(server.listening).toBe(false);
    // The request in flight when the close began was answered before the connection went.
    expect(afterClose).toBeGreaterThan(before);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    // The client did reuse its connection: a server that only closed idle connections once never ended.
    expect(answers.slice(0, before).every((a) => a.connection === 'keep-alive')).toBe(true);
  }, 20_000);
});
