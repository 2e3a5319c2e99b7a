import { createServer, STATUS_CODES, type RequestListener, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { PROBLEM_BASE } from './problem';

/** Node's parser errors that mean "the client sent too much header", everything else being malformed. */
const TOO_LARGE = new Set(['HPE_HEADER_OVERFLOW']);
/** Parser errors raised inside a header line: a refused character in its name or value, a lone CR. */
const IN_A_HEADER = new Set(['HPE_INVALID_HEADER_TOKEN', 'HPE_LF_EXPECTED']);
/** A header name as HTTP defines it (a token), short enough to repeat in an answer. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;

const REFUSED_CHARACTER = 'has a character HTTP does not allow (such as NUL or a line break)';

type ParserError = Error & { code?: string; rawPacket?: Buffer; bytesParsed?: number };

/**
 * Where in the request the parser stopped, in words: the request target, or the header whose value
 * holds the refused character (named as the client sent it; its value is never repeated, it may be a
 * credential). Undefined when the bytes do not say.
 */
export function refusedPart(err: ParserError): { where: string; field?: string } | undefined {
  if (err.code === 'HPE_INVALID_URL') return { where: 'the request target' };
  if (!err.rawPacket || err.bytesParsed === undefined || !IN_A_HEADER.has(err.code ?? '')) return undefined;
  const text = err.rawPacket.subarray(0, err.bytesParsed).toString('latin1');
  const lineStart = text.lastIndexOf('\n') + 1;
  if (lineStart === 0) return { where: 'the request line' };
  const line = text.slice(lineStart);
  const colon = line.indexOf(':');
  if (colon < 0) return { where: 'a header name' };
  const name = line.slice(0, colon);
  return HEADER_NAME.test(name) ? { where: `the ${name} header`, field: name } : { where: 'a header' };
}

/**
 * A request Node's HTTP parser refuses never reaches Koa (a NUL or a newline inside a header value, a
 * broken request line, headers over the size limit). Node would answer a bare `400 Bad Request`; this
 * answers the API's problem+json instead, naming the header at fault when the bytes say which, then
 * closes the connection as Node does.
 */
function answerMalformed(err: ParserError, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status = err.code && TOO_LARGE.has(err.code) ? 431 : 400;
  const part = status === 400 ? refusedPart(err) : undefined;
  const body = JSON.stringify({
    type: `${PROBLEM_BASE}${status === 431 ? 'headers-too-large' : 'malformed-request'}`,
    title: STATUS_CODES[status],
    status,
    detail:
      status === 431
        ? 'The request headers are larger than the server accepts'
        : `The request is not valid HTTP: ${part?.where ?? 'a header or the request line'} ${REFUSED_CHARACTER}`,
    ...(part?.field ? { errors: [{ field: part.field, message: REFUSED_CHARACTER }] } : {}),
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
