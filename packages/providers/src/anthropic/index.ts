import type { ProviderAdapter } from '../types.js';
import { SseDecoder } from '../openai-compatible/stream.js';
import { buildChatRequest, parseChatResponse } from './chat.js';
import { parseError } from './errors.js';
import { AnthropicStreamTranslator } from './stream.js';

/** Anthropic Messages API (native). Provider option `structuredOutputs: tool` selects the json_schema fallback. */
export const adapter: ProviderAdapter = {
  type: 'anthropic',
  defaultBaseUrl: 'https://api.anthropic.com',
  chat: {
    buildRequest: buildChatRequest,
    parseResponse: parseChatResponse,
    createStreamDecoder: () => new SseDecoder(),
    createStreamTranslator: (ctx) => new AnthropicStreamTranslator(ctx),
    parseError,
  },
};
