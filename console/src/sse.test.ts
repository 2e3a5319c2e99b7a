import { describe, expect, it } from 'vitest';
import { followEvents, SseParser, StreamRefused, type SseEvent } from './sse';

describe('SseParser', () => {
  it('parses events split anywhere across chunks, with ids, types and multi-line data', () => {
    const parser = new SseParser();
    const text =
      'id: 7\nevent: status\ndata: {"status":\ndata: "PAID"}\n\n: heartbeat\n\nid: 8\r\ndata: x\r\n\r\n';
    const events: SseEvent[] = [];
    for (const ch of text) events.push(...parser.feed(ch));
    expect(events).toEqual([
      { id: '7', event: 'status', data: '{"status":\n"PAID"}' },
      { id: '8', event: 'message', data: 'x' },
    ]);
    expect(parser.lastEventId).toBe('8');
  });

  it('ignores comments and empty events, keeps the last id for events without one, reads retry', () => {
    const parser = new SseParser();
    expect(parser.feed(': ping\n\nid: 3\n\nretry: 2500\ndata:no-space\n\n')).toEqual([
      { id: '3', event: 'message', data: 'no-space' },
    ]);
    expect(parser.retryMs).toBe(2500);
  });

  it('waits for the end of an event before dispatching it', () => {
    const parser = new SseParser();
    expect(parser.feed('data: a\n')).toEqual([]);
    expect(parser.feed('\n')).toEqual([{ id: undefined, event: 'message', data: 'a' }]);
  });
});

/** A fetch that answers each call with the next scripted stream (or status). */
function scriptedFetch(script: ({ status: number; body?: string } | string)[]) {
  const calls: Record<string, string>[] = [];
  const fake = async (_url: string | URL | Request, init?: RequestInit) => {
    calls.push({ ...(init?.headers as Record<string, string>) });
    const next = script.shift() ?? { status: 503 };
    if (typeof next === 'string')
      return new Response(next, { headers: { 'content-type': 'text/event-stream' } });
    return new Response(next.body ?? null, { status: next.status });
  };
  return { fetch: fake as typeof fetch, calls };
}

describe('followEvents', () => {
  it('sends the token, reconnects after a drop with Last-Event-ID, and stops at the last event', async () => {
    const { fetch, calls } = scriptedFetch([
      'id: 1\nevent: status\ndata: {"status":"PENDING"}\n\n',
      'id: 2\nevent: status\ndata: {"status":"COMPLETED"}\n\nid: 3\ndata: never read\n\n',
    ]);
    const seen: string[] = [];
    await followEvents('/v1/orders/x/events', {
      token: 'tkn',
      fetch,
      retryMs: 1,
      signal: new AbortController().signal,
      onEvent: (e) => seen.push(e.data),
      isLast: (e) => e.data.includes('COMPLETED'),
    });
    expect(seen).toEqual(['{"status":"PENDING"}', '{"status":"COMPLETED"}']);
    expect(calls[0]).toEqual({ accept: 'text/event-stream', authorization: 'Bearer tkn' });
    expect(calls[1]!['last-event-id']).toBe('1');
  });

  it('gives up with the problem on a 4xx', async () => {
    const { fetch } = scriptedFetch([{ status: 404, body: '{"detail":"The order does not exist"}' }]);
    const follow = followEvents('/v1/orders/x/events', {
      token: null,
      fetch,
      signal: new AbortController().signal,
      onEvent: () => undefined,
    });
    await expect(follow).rejects.toBeInstanceOf(StreamRefused);
    await expect(follow).rejects.toMatchObject({ status: 404, body: { detail: 'The order does not exist' } });
  });

  it('retries a 5xx and stops when aborted', async () => {
    const controller = new AbortController();
    const { fetch, calls } = scriptedFetch([{ status: 503 }, { status: 503 }]);
    const follow = followEvents('/x', {
      token: null,
      fetch,
      retryMs: 1,
      signal: controller.signal,
      onEvent: () => undefined,
      onConnection: (open) => {
        if (!open && calls.length >= 2) controller.abort();
      },
    });
    await follow;
    expect(calls.length).toBeGreaterThanOrEqual(2);
  });
});
