import { PassThrough } from 'node:stream';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { SseWriter } from './sse.js';

function sink(highWaterMark = 16 * 1024): { res: ServerResponse; text: () => string; stream: PassThrough } {
  const stream = new PassThrough({ highWaterMark });
  const parts: Buffer[] = [];
  stream.on('data', (b: Buffer) => parts.push(b));
  return { res: stream as unknown as ServerResponse, text: () => Buffer.concat(parts).toString('utf8'), stream };
}

describe('SseWriter', () => {
  it('writes each chunk as a data event and ends with [DONE]', async () => {
    const { res, text, stream } = sink();
    const sse = new SseWriter(res);
    expect(sse.chunk(Buffer.from('{"id":"a"}'))).toBeUndefined();
    void sse.chunk(new TextEncoder().encode('{"id":"b"}'));
    sse.done();
    await new Promise((r) => stream.on('finish', r));
    expect(text()).toBe('data: {"id":"a"}\n\ndata: {"id":"b"}\n\ndata: [DONE]\n\n');
    expect(sse.open).toBe(false);
  });

  it('ends with an error event after the stream started, and writes nothing after the end', async () => {
    const { res, text, stream } = sink();
    const sse = new SseWriter(res);
    void sse.chunk(Buffer.from('{"id":"a"}'));
    sse.fail({ error: { message: 'boom', type: 'server_error', param: null, code: 'provider_error' } });
    void sse.chunk(Buffer.from('late'));
    sse.done();
    await new Promise((r) => stream.on('finish', r));
    expect(text()).toBe('data: {"id":"a"}\n\ndata: {"error":{"message":"boom","type":"server_error","param":null,"code":"provider_error"}}\n\n');
  });

  it('waits for drain when the client reads slowly', async () => {
    const stream = new PassThrough({ highWaterMark: 4 });
    const sse = new SseWriter(stream as unknown as ServerResponse);
    const wait = sse.chunk(Buffer.from('{"a":"0123456789"}'));
    expect(wait).toBeInstanceOf(Promise);
    let drained = false;
    void wait!.then(() => (drained = true));
    await new Promise((r) => setImmediate(r));
    expect(drained).toBe(false);
    stream.read(); // the client reads
    await wait;
    expect(drained).toBe(true);
  });
});
