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

type Writable = Pick<ServerResponse, 'write' | 'end' | 'once' | 'writableEnded' | 'destroyed'>;

/**
 * Server-sent events to the client, OpenAI style: `data: <chunk json>\n\n` per chunk, written at once (never
 * buffered), `data: [DONE]\n\n` at the end, `data: {"error":{...}}\n\n` when a stream fails after it started.
 * A chunk's bytes go out as they came from the executor (no parse, no re-stringify).
 */
export class SseWriter {
  constructor(private readonly res: Writable) {}

  get open(): boolean {
    return !this.res.writableEnded && !this.res.destroyed;
  }

  /** Writes one event; resolves at once, or when the socket drained if the client reads slowly. */
  chunk(data: Uint8Array): Promise<void> | undefined {
    if (!this.open) return undefined;
    const ok = this.res.write(Buffer.concat([DATA, data, END], DATA.length + data.length + END.length));
    return ok ? undefined : this.drain();
  }

  /** Ends the stream normally. */
  done(): void {
    if (!this.open) return;
    this.res.end(DONE);
  }

  /** Ends the stream with an error event (the status line was sent long ago). */
  fail(body: unknown): void {
    if (!this.open) return;
    this.res.end(`data: ${JSON.stringify(body)}\n\n`);
  }

  private drain(): Promise<void> {
    return new Promise((resolve) => {
      this.res.once('drain', resolve);
      this.res.once('close', resolve);
    });
  }
}
