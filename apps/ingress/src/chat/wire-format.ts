import type { ChatCompletionRequest, GatewayError } from '@gw/contracts';
import type { JsonBody } from '../http/json-body.js';

/** A client's request in the internal (OpenAI chat) shape, as it goes to moderation, the cache key and the router. */
export type InternalChat = {
  chat: ChatCompletionRequest;
  /** the bytes forwarded to the router (the client's own bytes when the client spoke OpenAI) */
  raw: Buffer;
  /** the JSON value the cache key is computed from */
  cacheBody: Record<string, unknown>;
};

/** Turns the executor's OpenAI chunk frames into the client's SSE bytes, keeping whatever state the format needs. */
export type StreamEncoder = {
  /** the events for one chunk frame (an OpenAI chunk's JSON bytes); null writes nothing */
  chunk(data: Uint8Array): Uint8Array | string | null;
  /** the closing events of a complete stream */
  end(): Uint8Array | string;
  /** the closing events of a stream that failed after its status line was sent */
  fail(err: GatewayError): string;
};

/**
 * A public wire format of chat (OpenAI chat completions, Anthropic Messages). Acceptance and the relay are the same
 * for every format; the format validates and translates the request in, and encodes answers and errors out.
 * Translations in either direction are pure functions (tested on their own).
 */
export type WireFormat = {
  /** validates the client's body and translates it to the internal request; a bad body throws a 400 GatewayError */
  accept(body: JsonBody): InternalChat;
  /** an error response (status and body) in the format's own error shape */
  error(err: GatewayError): { status: number; body: unknown };
  /** the body of a non-stream answer, from the executor's OpenAI completion JSON (a response frame, or a cache entry) */
  response(completion: Uint8Array): Uint8Array | string;
  /** a fresh encoder for one stream */
  stream(requestId: string): StreamEncoder;
};
