import { crc32 } from 'node:zlib';
import { GatewayError } from '@gw/contracts';
import type { StreamDecoder, StreamEvent } from '../types.js';

/**
 * The AWS event-stream binary framing (`application/vnd.amazon.eventstream`), as ConverseStream sends it.
 * A message: prelude (total length u32, headers length u32, prelude CRC32 u32), headers, payload, message CRC32
 * (over everything before it). A header: name length u8, name, value type u8, value (type 7 = u16 length + UTF-8
 * string; the other types are read and skipped by their sizes). Both CRCs are checked: a damaged frame is an error,
 * never a half-read event.
 *
 * Decoded messages become StreamEvents: an `event` message gives `{ event: <:event-type>, data: <payload> }`; an
 * `exception` message `{ event: 'exception:<:exception-type>', data: <payload> }`; an `error` message
 * `{ event: 'exception:<:error-code>', data: {"message": <:error-message>} }`.
 */

const PRELUDE = 12;
const MIN_MESSAGE = PRELUDE + 4;
/** AWS's own limit on one message (16 MiB): a larger length is a corrupt stream, not a message to wait for */
const MAX_MESSAGE = 16 * 1024 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: false });
const encoder = new TextEncoder();

export type EventHeaders = Record<string, string>;

/** Fixed sizes of the non-string header value types (0 true, 1 false, 2 byte, 3 short, 4 int, 5 long, 8 timestamp, 9 uuid). */
const FIXED_SIZE: Record<number, number> = { 0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16 };

function corrupt(what: string): GatewayError {
  return new GatewayError('PROVIDER_ERROR', `the upstream event stream is corrupt: ${what}`);
}

export function readHeaders(view: DataView, bytes: Uint8Array, start: number, end: number): EventHeaders {
  const out: EventHeaders = {};
  let i = start;
  while (i < end) {
    const nameLen = bytes[i]!;
    i += 1;
    if (i + nameLen + 1 > end) throw corrupt('a header runs past the header block');
    const name = utf8.decode(bytes.subarray(i, i + nameLen));
    i += nameLen;
    const type = bytes[i]!;
    i += 1;
    if (type === 6 || type === 7) {
      if (i + 2 > end) throw corrupt('a header runs past the header block');
      const len = view.getUint16(i);
      i += 2;
      if (i + len > end) throw corrupt('a header value runs past the header block');
      if (type === 7) out[name] = utf8.decode(bytes.subarray(i, i + len));
      i += len;
    } else {
      const size = FIXED_SIZE[type];
      if (size === undefined) throw corrupt(`unknown header value type ${type}`);
      i += size;
    }
  }
  if (i !== end) throw corrupt('a header runs past the header block');
  return out;
}

function toEvent(headers: EventHeaders, payload: Uint8Array): StreamEvent {
  const kind = headers[':message-type'] ?? 'event';
  if (kind === 'exception')
    return { event: `exception:${headers[':exception-type'] ?? 'unknown'}`, data: utf8.decode(payload) };
  if (kind === 'error')
    return {
      event: `exception:${headers[':error-code'] ?? 'unknown'}`,
      data: JSON.stringify({ message: headers[':error-message'] ?? '' }),
    };
  return { event: headers[':event-type'] ?? '', data: utf8.decode(payload) };
}

/** Splits an event-stream body into events; keeps a partial message between pushes. */
export class EventStreamDecoder implements StreamDecoder {
  private buf: Uint8Array = new Uint8Array(0);

  push(bytes: Uint8Array): StreamEvent[] {
    if (this.buf.length === 0) this.buf = bytes;
    else {
      const joined = new Uint8Array(this.buf.length + bytes.length);
      joined.set(this.buf, 0);
      joined.set(bytes, this.buf.length);
      this.buf = joined;
    }
    const out: StreamEvent[] = [];
    let offset = 0;
    const buf = this.buf;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    while (buf.length - offset >= PRELUDE) {
      const total = view.getUint32(offset);
      const headersLen = view.getUint32(offset + 4);
      if (crc32(buf.subarray(offset, offset + 8)) !== view.getUint32(offset + 8))
        throw corrupt('prelude checksum mismatch');
      if (total < MIN_MESSAGE || total > MAX_MESSAGE || headersLen > total - MIN_MESSAGE)
        throw corrupt(`bad message length ${total}`);
      if (buf.length - offset < total) break;
      const end = offset + total;
      if (crc32(buf.subarray(offset, end - 4)) !== view.getUint32(end - 4))
        throw corrupt('message checksum mismatch');
      const headersEnd = offset + PRELUDE + headersLen;
      const headers = readHeaders(view, buf, offset + PRELUDE, headersEnd);
      out.push(toEvent(headers, buf.subarray(headersEnd, end - 4)));
      offset = end;
    }
    // keep only the unread tail (a copy, so the consumed bytes can be freed)
    this.buf = offset === 0 ? buf : buf.slice(offset);
    return out;
  }

  end(): StreamEvent[] {
    if (this.buf.length > 0) {
      const n = this.buf.length;
      this.buf = new Uint8Array(0);
      throw corrupt(`the stream ended inside a message (${n} bytes left)`);
    }
    return [];
  }
}

/** One event-stream message with string headers (for tests and tools; the simulator has its own writer). */
export function encodeMessage(headers: EventHeaders, payload: Uint8Array | string): Uint8Array {
  const body = typeof payload === 'string' ? encoder.encode(payload) : payload;
  const parts: Uint8Array[] = [];
  let headersLen = 0;
  for (const [name, value] of Object.entries(headers)) {
    const n = encoder.encode(name);
    const v = encoder.encode(value);
    const h = new Uint8Array(1 + n.length + 1 + 2 + v.length);
    h[0] = n.length;
    h.set(n, 1);
    h[1 + n.length] = 7;
    new DataView(h.buffer).setUint16(2 + n.length, v.length);
    h.set(v, 4 + n.length);
    parts.push(h);
    headersLen += h.length;
  }
  const total = PRELUDE + headersLen + body.length + 4;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, total);
  view.setUint32(4, headersLen);
  view.setUint32(8, crc32(out.subarray(0, 8)));
  let i = PRELUDE;
  for (const p of parts) {
    out.set(p, i);
    i += p.length;
  }
  out.set(body, i);
  view.setUint32(total - 4, crc32(out.subarray(0, total - 4)));
  return out;
}

/** An `event` message as ConverseStream sends it. */
export function encodeEvent(eventType: string, payload: unknown): Uint8Array {
  return encodeMessage(
    { ':event-type': eventType, ':content-type': 'application/json', ':message-type': 'event' },
    JSON.stringify(payload),
  );
}
