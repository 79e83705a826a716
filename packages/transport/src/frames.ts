import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { FRAME_HEADER, GatewayError, GatewayErrorBody, HEADERS, type FrameType } from '@gw/contracts';

export type Frame = { type: FrameType; data: Uint8Array; headers: MsgHdrs | undefined };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}
export function decodeJson(data: Uint8Array): unknown {
  return JSON.parse(decoder.decode(data));
}
export function decodeText(data: Uint8Array): string {
  return decoder.decode(data);
}
export function encodeText(text: string): Uint8Array {
  return encoder.encode(text);
}

export function frameHeaders(type: FrameType, extra?: Record<string, string>): MsgHdrs {
  const h = natsHeaders();
  h.set(FRAME_HEADER, type);
  if (extra) for (const k in extra) h.set(k, extra[k] as string);
  return h;
}

/** The GatewayError carried by an `error` frame. A malformed one is itself an internal error. */
export function errorFromFrame(frame: Frame): GatewayError {
  try {
    return GatewayError.fromJSON(GatewayErrorBody.parse(decodeJson(frame.data)));
  } catch {
    return new GatewayError('INTERNAL', 'malformed error frame');
  }
}

/** The JSON in a header, or undefined. */
export function headerJson(h: MsgHdrs | undefined, name: string): unknown {
  const v = h?.get(name);
  return v ? JSON.parse(v) : undefined;
}

export { HEADERS };
