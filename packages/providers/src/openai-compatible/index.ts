import type { ProviderType } from '@gw/contracts';
import type { ProviderAdapter } from '../types.js';
import { buildChatRequest, parseChatResponse, type CompatibleOptions } from './chat.js';
import { compatibleEmbeddings } from './embeddings.js';
import { parseError } from './errors.js';
import { OpenAiStreamTranslator, SseDecoder } from './stream.js';

/**
 * The shared OpenAI-compatible base: a provider that speaks the OpenAI wire format is one call of this factory
 * (its type, its default base URL, and the declarative differences in CompatibleOptions).
 */
export function openAiCompatible(
  type: ProviderType,
  defaultBaseUrl: string | null,
  options: CompatibleOptions = {},
  errors: typeof parseError = parseError,
): ProviderAdapter {
  const chunk = options.chunk;
  return {
    type,
    defaultBaseUrl,
    chat: {
      buildRequest: (req, stream, provider, ctx, opts) => buildChatRequest(req, stream, provider, ctx, opts, options),
      parseResponse: (body, ctx) => parseChatResponse(body, ctx, options),
      createStreamDecoder: () => new SseDecoder(),
      createStreamTranslator: (ctx) => new OpenAiStreamTranslator(ctx, chunk ? chunk() : null, errors),
      parseError: errors,
    },
    embeddings: compatibleEmbeddings(options, errors),
  };
}

/** `type: openai-compatible`: any OpenAI-style server; the config must give its baseUrl. */
export const adapter = openAiCompatible('openai-compatible', null);

export type { CompatibleEndpoint, CompatibleOptions } from './chat.js';
export { applyUnsupported, bearerAuth, buildChatRequest, joinUrl, parseChatResponse, upstreamHeaders } from './chat.js';
export { compatibleEmbeddings, embeddingsAdapter } from './embeddings.js';
export { isContextOverflow, parseError, readErrorBody, retryAfterSeconds } from './errors.js';
export { OpenAiStreamTranslator, SseDecoder } from './stream.js';
