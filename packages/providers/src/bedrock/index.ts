import type { ProviderAdapter } from '../types.js';
import { optionsFromEnv } from './auth.js';
import { buildChatRequest, parseChatResponse } from './chat.js';
import { embeddingsAdapter } from './embeddings.js';
import { parseError } from './errors.js';
import { EventStreamDecoder } from './eventstream.js';
import { BedrockStreamTranslator } from './stream.js';

/** AWS Bedrock Runtime: Converse / ConverseStream (SigV4, event-stream), embeddings through InvokeModel. */
export const adapter: ProviderAdapter = {
  type: 'bedrock',
  defaultBaseUrl: 'https://bedrock-runtime.{region}.amazonaws.com',
  needsImageBytes: true,
  optionsFromEnv,
  chat: {
    buildRequest: buildChatRequest,
    parseResponse: parseChatResponse,
    createStreamDecoder: () => new EventStreamDecoder(),
    createStreamTranslator: (ctx) => new BedrockStreamTranslator(ctx),
    parseError,
  },
  embeddings: embeddingsAdapter,
};
