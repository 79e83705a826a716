import { GatewayError } from '@gw/contracts';
import type { EmbeddingsAdapter, EmbeddingsResponse } from '../types.js';
import { joinUrl, upstreamHeaders, type CompatibleOptions } from './chat.js';
import { parseError as openAiParseError } from './errors.js';

/** OpenAI `/embeddings` on the compatible base (URL and credentials per CompatibleOptions). */
export function compatibleEmbeddings(
  options: Pick<CompatibleOptions, 'url' | 'auth'> = {},
  parseError = openAiParseError,
): EmbeddingsAdapter {
  return {
    buildRequest(req, provider, ctx) {
      return {
        method: 'POST',
        url: options.url
          ? options.url(provider, '/embeddings', ctx)
          : joinUrl(provider.baseUrl, '/embeddings'),
        headers: upstreamHeaders(provider, 'application/json', options.auth),
        body: JSON.stringify({ ...req, model: ctx.model }),
      };
    },
    parseResponse(body) {
      const b = body as Partial<EmbeddingsResponse> | null;
      if (!b || typeof b !== 'object' || !Array.isArray(b.data) || !b.usage) {
        throw new GatewayError('PROVIDER_ERROR', 'the upstream provider sent a malformed embeddings answer');
      }
      return b as EmbeddingsResponse;
    },
    parseError,
  };
}

export const embeddingsAdapter: EmbeddingsAdapter = compatibleEmbeddings();
