import type { ProviderAdapter } from '../types.js';
import { SseDecoder } from '../openai-compatible/stream.js';
import { buildChatRequest, parseChatResponse } from './chat.js';
import { embeddingsAdapter } from './embeddings.js';
import { parseError } from './errors.js';
import { CohereStreamTranslator } from './stream.js';

/** Cohere v2 (chat and embed, native). */
export const adapter: ProviderAdapter = {
  type: 'cohere',
  defaultBaseUrl: 'https://api.cohere.com',
  chat: {
    buildRequest: buildChatRequest,
    parseResponse: parseChatResponse,
    createStreamDecoder: () => new SseDecoder(),
    createStreamTranslator: (ctx) => new CohereStreamTranslator(ctx),
    parseError,
  },
  embeddings: embeddingsAdapter,
};
