import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { StreamEvent } from '../types.js';
import { encodeEvent, encodeMessage, EventStreamDecoder } from './eventstream.js';

type Cassette = { interactions: Array<{ response: { body: { string: Uint8Array } } }> };

/** The raw `application/vnd.amazon.eventstream` bodies of pydantic-ai's cassettes (real captures, with CRCs). */
function capture(name: string, interaction = 0): Uint8Array {
  const doc = parse(
    readFileSync(new URL(`../../test/fixtures/bedrock/${name}`, import.meta.url), 'utf8'),
  ) as Cassette;
  return new Uint8Array(doc.interactions[interaction]!.response.body.string);
}

function decodeAll(pieces: Uint8Array[]): StreamEvent[] {
  const d = new EventStreamDecoder();
  const out: StreamEvent[] = [];
  for (const p of pieces) out.push(...d.push(p));
  out.push(...d.end());
  return out;
}

describe('event-stream decoder on real ConverseStream captures', () => {
  it('text stream: messageStart, deltas, stop, metadata; payloads are the JSON events (with their p padding)', () => {
    const events = decodeAll([capture('test_bedrock_model_stream.yaml')]);
    expect(events[0]!.event).toBe('messageStart');
    expect(JSON.parse(events[0]!.data)).toMatchObject({ role: 'assistant' });
    expect(events.at(-1)!.event).toBe('metadata');
    expect(events.map((e) => e.event)).toContain('messageStop');
    const text = events
      .filter((e) => e.event === 'contentBlockDelta')
      .map((e) => (JSON.parse(e.data) as { delta: { text: string } }).delta.text)
      .join('');
    expect(text.startsWith('The capital of France is Paris.')).toBe(true);
  });

  it('the same events whatever the cut: split at every byte boundary, and one byte at a time', () => {
    const bytes = capture('test_bedrock_model_iter_stream.yaml');
    const whole = decodeAll([bytes]);
    expect(whole.map((e) => e.event)).toContain('contentBlockStart');
    const want = JSON.stringify(whole);
    const differing: number[] = [];
    for (let k = 1; k < bytes.length; k++)
      if (JSON.stringify(decodeAll([bytes.subarray(0, k), bytes.subarray(k)])) !== want) differing.push(k);
    expect(differing).toEqual([]);
    const single: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i++) single.push(bytes.subarray(i, i + 1));
    expect(decodeAll(single)).toEqual(whole);
  }, 30_000); // ~5,000 decodes of the whole capture: room for a loaded machine

  it('reasoning capture decodes', () => {
    const events = decodeAll([capture('test_bedrock_model_thinking_part_stream.yaml')]);
    expect(events.some((e) => e.event === 'contentBlockDelta' && e.data.includes('reasoningContent'))).toBe(
      true,
    );
  });
});

describe('event-stream encoder ⇄ decoder', () => {
  it('round-trips events, split at every byte boundary', () => {
    const frames = [
      encodeEvent('messageStart', { role: 'assistant' }),
      encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'héllo ☃' } }),
      encodeEvent('messageStop', { stopReason: 'end_turn' }),
    ];
    const bytes = Buffer.concat(frames);
    const want = [
      { event: 'messageStart', data: '{"role":"assistant"}' },
      { event: 'contentBlockDelta', data: '{"contentBlockIndex":0,"delta":{"text":"héllo ☃"}}' },
      { event: 'messageStop', data: '{"stopReason":"end_turn"}' },
    ];
    for (let k = 0; k <= bytes.length; k++)
      expect(decodeAll([bytes.subarray(0, k), bytes.subarray(k)])).toEqual(want);
  });

  it('exception and error messages become exception:<type> events', () => {
    const ex = encodeMessage(
      {
        ':message-type': 'exception',
        ':exception-type': 'throttlingException',
        ':content-type': 'application/json',
      },
      '{"message":"slow down"}',
    );
    const err = encodeMessage(
      { ':message-type': 'error', ':error-code': 'InternalFailure', ':error-message': 'boom' },
      '',
    );
    expect(decodeAll([ex, err])).toEqual([
      { event: 'exception:throttlingException', data: '{"message":"slow down"}' },
      { event: 'exception:InternalFailure', data: '{"message":"boom"}' },
    ]);
  });

  it('a wrong prelude CRC, a wrong message CRC, a bad length and a truncated end are errors', () => {
    const good = encodeEvent('messageStart', { role: 'assistant' });
    const badPrelude = good.slice();
    badPrelude[9]! ^= 0xff;
    expect(() => decodeAll([badPrelude])).toThrow(/prelude checksum/);
    const badMessage = good.slice();
    badMessage[good.length - 10]! ^= 0x01; // a payload byte
    expect(() => decodeAll([badMessage])).toThrow(/message checksum/);
    const tiny = encodeMessage({}, '');
    new DataView(tiny.buffer).setUint32(0, 8);
    expect(() => new EventStreamDecoder().push(tiny)).toThrow(
      expect.objectContaining({ code: 'PROVIDER_ERROR' }) as Error,
    );
    expect(() => decodeAll([good.subarray(0, good.length - 3)])).toThrow(/ended inside a message/);
  });

  it('header values of other types are skipped by their size', () => {
    // a message with a bool (type 0) and an int32 (type 4) header before :event-type
    const msg = encodeMessage({ ':event-type': 'ping' }, '{}');
    const extra = new Uint8Array([1, 0x61, 0, 1, 0x62, 4, 0, 0, 0, 7]);
    const headersLen = new DataView(msg.buffer).getUint32(4) + extra.length;
    const body = Buffer.concat([extra, msg.subarray(12, msg.length - 4)]);
    const rebuilt = encodeRaw(headersLen, body);
    expect(decodeAll([rebuilt])).toEqual([{ event: 'ping', data: '{}' }]);
  });
});

/** A frame around a header block and payload laid out by hand (header types the encoder does not write). */
function encodeRaw(headersLen: number, rest: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + rest.length + 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, out.length);
  view.setUint32(4, headersLen);
  view.setUint32(8, crc32(out.subarray(0, 8)));
  out.set(rest, 12);
  view.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)));
  return out;
}
