import type { ServerResponse } from 'node:http';

const DATA = Buffer.from('data: ');
const END = Buffer.from('\n\n');
const DONE = Buffer.from('data: [DONE]\n\n');

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
  connection: 'keep-alive',
} as const;

/** `data: <bytes>\n\n`: one OpenAI SSE event around a chunk's JSON bytes (no parse, no re-stringify). */
export function dataEvent(data: Uint8Array): Buffer {
  return Buffer.concat([DATA, data, END], DATA.length + data.length + END.length);
}

/** `data: [DONE]\n\n` */
export const DONE_EVENT: Buffer = DONE;

/** `event: <name>\ndata: <json>\n\n`: a named event (the Anthropic stream format). */
export function namedEvent(name: string, body: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(body)}\n\n`;
}

type Writable = Pick<ServerResponse, 'write' | 'end' | 'once' | 'writableEnded' | 'destroyed'>;

/**
 * Server-sent events to the client, written at once (never buffered), with back-pressure. The wire format's
 * encoder decides the bytes (write/end); chunk/done/fail are the OpenAI style: `data: <chunk json>\n\n` per
 * chunk, `data: [DONE]\n\n` at the end, `data: {"error":{...}}\n\n` when a stream fails after it started.
 */
export class SseWriter {
  constructor(private readonly res: Writable) {}

  get open(): boolean {
    return !this.res.writableEnded && !this.res.destroyed;
  }

  /** Writes encoded events as they are; resolves at once, or when the socket drained if the client reads slowly. */
  write(events: Uint8Array | string): Promise<void> | undefined {
    if (!this.open) return undefined;
    return this.res.write(events) ? undefined : this.drain();
  }

  /** Writes the last events and ends the stream. */
  end(events: Uint8Array | string): void {
    if (!this.open) return;
    this.res.end(events);
  }

  /** Writes one OpenAI data event (a chunk's JSON bytes). */
  chunk(data: Uint8Array): Promise<void> | undefined {
    return this.write(dataEvent(data));
  }

  /** Ends the stream normally: `data: [DONE]`. */
  done(): void {
    this.end(DONE);
  }

  /** Ends the stream with an error data event (the status line was sent long ago). */
  fail(body: unknown): void {
    this.end(`data: ${JSON.stringify(body)}\n\n`);
  }

  private drain(): Promise<void> {
    return new Promise((resolve) => {
      this.res.once('drain', resolve);
      this.res.once('close', resolve);
    });
  }
}
