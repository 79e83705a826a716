import type { ProviderAdapter } from '../types.js';
import { SseDecoder } from '../openai-compatible/stream.js';
import { buildChatRequest, parseChatResponse } from './chat.js';
import { embeddingsAdapter } from './embeddings.js';
import { parseError } from './errors.js';
import { GeminiStreamTranslator } from './stream.js';

/** Google Gemini API (generativelanguage v1beta, native). */
export const adapter: ProviderAdapter = {
  type: 'gemini',
  defaultBaseUrl: 'https://generativelanguage.googleapis.com',
  // the Gemini API reads fileData URIs from its File API, not from any web URL: the executor fetches them
  needsImageBytes: true,
  chat: {
    buildRequest: buildChatRequest,
    parseResponse: parseChatResponse,
    createStreamDecoder: () => new SseDecoder(),
    createStreamTranslator: (ctx) => new GeminiStreamTranslator(ctx),
    parseError,
  },
  embeddings: embeddingsAdapter,
};
