/**
 * Server-Sent Events over fetch(): EventSource cannot send an Authorization header, so the stream is
 * read from a streaming response body and parsed here, following the HTML standard's rules
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).
 */

export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/** Incremental parser: feed it text as it arrives, it returns the events completed by that text. */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private eventType = '';
  private id: string | undefined;
  /** The last event id seen, as the stream's `Last-Event-ID` to resume from. */
  lastEventId: string | undefined;
  /** A `retry:` field from the server, in milliseconds. */
  retryMs: number | undefined;

  feed(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const events: SseEvent[] = [];
    // A lone CR at the end may be the first half of CRLF: keep it until the next chunk.
    const lines = this.buffer.split(/\r\n|\r(?!$)|\n/);
    this.buffer = lines.pop() ?? '';
    for (const line of lines) {
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined; // a comment: heartbeats
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.eventType = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    if (this.id !== undefined) this.lastEventId = this.id;
    const hadData = this.data.length > 0;
    const event = { id: this.lastEventId, event: this.eventType || 'message', data: this.data.join('\n') };
    this.data = [];
    this.eventType = '';
    return hadData ? event : undefined;
  }
}

export class StreamRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`the stream was refused with HTTP ${status}`);
  }
}

export interface FollowOptions {
  token: string | null;
  onEvent: (event: SseEvent) => void;
  /** True when this event is the last one wanted: the stream is then closed and not reopened. */
  isLast?: (event: SseEvent) => boolean;
  /** Called while reconnecting after a drop, and with false once the stream is open again. */
  onConnection?: (open: boolean) => void;
  signal: AbortSignal;
  fetch?: typeof fetch;
  lastEventId?: string;
  /** Delay before reconnecting, doubled per failed attempt up to 15 s (or the server's `retry:`). */
  retryMs?: number;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * Reads the stream at `url` until `isLast` says so or the signal aborts; a dropped connection (or a
 * stream the server ended early) is reopened with the last event id. An HTTP error other than 5xx is
 * final: StreamRefused, with the problem body.
 */
export async function followEvents(url: string, options: FollowOptions): Promise<void> {
  const doFetch = options.fetch ?? fetch;
  let lastEventId = options.lastEventId;
  let failures = 0;
  while (!options.signal.aborted) {
    const parser = new SseParser();
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    try {
      const response = await doFetch(url, { headers, signal: options.signal, cache: 'no-store' });
      if (!response.ok || !response.body) {
        const body: unknown = await response.json().catch(() => undefined);
        if (response.status < 500) throw new StreamRefused(response.status, body);
        throw new Error(`HTTP ${response.status}`);
      }
      options.onConnection?.(true);
      failures = 0;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const event of parser.feed(value)) {
          lastEventId = event.id ?? lastEventId;
          options.onEvent(event);
          if (options.isLast?.(event)) {
            await reader.cancel().catch(() => undefined);
            return;
          }
        }
      }
    } catch (err) {
      if (err instanceof StreamRefused) throw err;
      if (options.signal.aborted) return;
    }
    if (options.signal.aborted) return;
    options.onConnection?.(false);
    failures += 1;
    const base = parser.retryMs ?? options.retryMs ?? 500;
    await sleep(Math.min(base * 2 ** (failures - 1), 15_000), options.signal);
  }
}
