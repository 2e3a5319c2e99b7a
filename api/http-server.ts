import { createServer, STATUS_CODES, type RequestListener, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { PROBLEM_BASE } from './problem';

/** Node's parser errors that mean "the client sent too much header", everything else being malformed. */
const TOO_LARGE = new Set(['HPE_HEADER_OVERFLOW']);

/**
 * A request Node's HTTP parser refuses never reaches Koa (a NUL or a newline inside a header value, a
 * broken request line, headers over the size limit). Node would answer a bare `400 Bad Request`; this
 * answers the API's problem+json instead, then closes the connection as Node does.
 */
function answerMalformed(err: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status = err.code && TOO_LARGE.has(err.code) ? 431 : 400;
  const body = JSON.stringify({
    type: `${PROBLEM_BASE}${status === 431 ? 'headers-too-large' : 'malformed-request'}`,
    title: STATUS_CODES[status],
    status,
    detail:
      status === 431
        ? 'The request headers are larger than the server accepts'
        : 'The request is not valid HTTP: a header or the request line has a character HTTP does not allow (such as NUL or a line break)',
  });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The API's HTTP server: keep-alive longer than any proxy's, and problem+json even for unparsable requests. */
export function createHttpServer(listener: RequestListener): Server {
  const server = createServer(listener);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
  server.on('clientError', answerMalformed);
  return server;
}
