import { GatewayError } from '@gw/contracts';
import { joinUrl } from '../openai-compatible/chat.js';
import { asRecord, num } from '../shared/content.js';
import type { EmbeddingsAdapter, EmbeddingsResponse } from '../types.js';
import { cohereHeaders } from './chat.js';
import { parseError } from './errors.js';

/**
 * OpenAI embeddings ⇄ Cohere v2 embed (POST /v2/embed): `texts`, `embedding_types: ['float']`, and the
 * `input_type` Cohere's v3+ models require, from the provider option `embedInputType` (default
 * `search_document`; also search_query, classification, clustering). `dimensions` → `output_dimension`.
 * Cohere embeds text only (token-id inputs get a 400); `encoding_format: base64` is answered as floats. Usage is
 * the billed input tokens.
 */

const INPUT_TYPES = new Set(['search_document', 'search_query', 'classification', 'clustering']);

function texts(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'string')) return input;
  throw new GatewayError(
    'INVALID_REQUEST',
    'input: this provider embeds text only (a string or an array of strings)',
    { param: 'input' },
  );
}

export const embeddingsAdapter: EmbeddingsAdapter = {
  buildRequest(req, provider, ctx) {
    const inputType = provider.options['embedInputType'] ?? 'search_document';
    if (!INPUT_TYPES.has(inputType))
      throw new GatewayError(
        'INTERNAL',
        `provider ${provider.id}: embedInputType ${inputType} is not one of Cohere's input types`,
      );
    const body: Record<string, unknown> = {
      model: ctx.model,
      texts: texts(req.input),
      input_type: inputType,
      embedding_types: ['float'],
    };
    if (req.dimensions !== undefined) body['output_dimension'] = req.dimensions;
    return {
      method: 'POST',
      url: joinUrl(provider.baseUrl, '/v2/embed'),
      headers: cohereHeaders(provider, 'application/json'),
      body: JSON.stringify(body),
    };
  },
  parseResponse(body, ctx): EmbeddingsResponse {
    const b = asRecord(body, 'embeddings answer');
    const floats = (b['embeddings'] as Record<string, unknown> | undefined)?.['float'];
    if (!Array.isArray(floats))
      throw new GatewayError(
        'PROVIDER_ERROR',
        'the upstream provider sent an embeddings answer without float embeddings',
      );
    const tokens = num(
      (
        (b['meta'] as Record<string, unknown> | undefined)?.['billed_units'] as
          Record<string, unknown> | undefined
      )?.['input_tokens'],
    );
    return {
      object: 'list',
      data: (floats as unknown[]).map((v, index) => {
        if (!Array.isArray(v))
          throw new GatewayError(
            'PROVIDER_ERROR',
            `the upstream provider sent embedding ${index} without values`,
          );
        return { object: 'embedding', index, embedding: v as number[] };
      }),
      model: ctx.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  },
  parseError,
};
