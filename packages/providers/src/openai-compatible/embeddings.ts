import { GatewayError } from '@gw/contracts';
import type { EmbeddingsAdapter, EmbeddingsResponse } from '../types.js';
import { joinUrl, upstreamHeaders } from './chat.js';
import { parseError } from './errors.js';

export const embeddingsAdapter: EmbeddingsAdapter = {
  buildRequest(req, provider, ctx) {
    return {
      method: 'POST',
      url: joinUrl(provider.baseUrl, '/embeddings'),
      headers: upstreamHeaders(provider, 'application/json'),
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
