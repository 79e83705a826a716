import {
  AnthropicMessagesRequest,
  GatewayError,
  type ChatCompletion,
  type ChatCompletionChunk,
  type TranslateMode,
} from '@gw/contracts';
import { anthropicIngress } from '@gw/providers';
import type { JsonBody } from '../http/json-body.js';
import { invalidRequest } from '../chat/openai-format.js';
import { namedEvent } from '../chat/sse.js';
import type { StreamEncoder, WireFormat } from '../chat/wire-format.js';
import { anthropicError } from './anthropic-error.js';

const decoder = new TextDecoder();

function parse<T>(data: Uint8Array, what: string): T {
  try {
    return JSON.parse(decoder.decode(data)) as T;
  } catch {
    throw new GatewayError('INTERNAL', `the executor sent a malformed ${what}`);
  }
}

function sse(events: anthropicIngress.AnthropicEvent[]): string {
  let out = '';
  for (const e of events) out += namedEvent(e.event, e.data);
  return out;
}

class AnthropicSse implements StreamEncoder {
  private readonly encoder: anthropicIngress.AnthropicStreamEncoder;

  constructor(requestId: string) {
    this.encoder = new anthropicIngress.AnthropicStreamEncoder(requestId, '');
  }

  chunk(data: Uint8Array): string | null {
    const events = this.encoder.push(parse<ChatCompletionChunk>(data, 'stream chunk'));
    return events.length ? sse(events) : null;
  }

  end(): string {
    return sse(this.encoder.end());
  }

  fail(err: GatewayError): string {
    return namedEvent('error', anthropicError(err).body);
  }
}

/**
 * POST /v1/messages: the Anthropic Messages API over the same path as chat completions. The body is validated
 * against Anthropic's schema and translated to the internal request (packages/providers/src/anthropic-ingress);
 * answers, streams and errors are translated back (docs/adr/0008).
 */
export function anthropicMessagesFormat(unsupportedParams: TranslateMode): WireFormat {
  const opts = { unsupportedParams };
  return {
    accept(body: JsonBody) {
      const parsed = AnthropicMessagesRequest.safeParse(body.value);
      if (!parsed.success) throw invalidRequest(parsed.error.issues);
      const chat = anthropicIngress.fromAnthropicRequest(parsed.data, opts);
      return { chat, raw: Buffer.from(JSON.stringify(chat), 'utf8'), cacheBody: chat };
    },
    error: anthropicError,
    response: (completion) =>
      JSON.stringify(anthropicIngress.toAnthropicMessage(parse<ChatCompletion>(completion, 'response'))),
    stream: (requestId) => new AnthropicSse(requestId),
  };
}
