import { GatewayError } from '@gw/contracts';
import { joinUrl } from '../openai-compatible/chat.js';
import { asRecord, num } from '../shared/content.js';
import type { EmbeddingsAdapter, EmbeddingsResponse } from '../types.js';
import { geminiHeaders, modelPath } from './chat.js';
import { parseError } from './errors.js';

/**
 * OpenAI embeddings ⇄ Gemini: one string → `:embedContent`, a list → `:batchEmbedContents` (one request per text,
 * answers in order). `dimensions` → outputDimensionality. Gemini embeds text only: token-id inputs are refused
 * with a 400, and `encoding_format: base64` is answered as floats (the EmbeddingsResponse carries numbers).
 * Gemini reports no token counts for embeddings: usage is the `usageMetadata.promptTokenCount` when present, else 0.
 */

type EmbedRequest = { model: string; content: { parts: Array<{ text: string }> }; outputDimensionality?: number };

function texts(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'string')) return input;
  throw new GatewayError('INVALID_REQUEST', 'input: this provider embeds text only (a string or an array of strings)', { param: 'input' });
}

function values(e: unknown, i: number): number[] {
  const v: unknown = e && typeof e === 'object' ? (e as Record<string, unknown>)['values'] : undefined;
  if (!Array.isArray(v)) throw new GatewayError('PROVIDER_ERROR', `the upstream provider sent embedding ${i} without values`);
  return v as number[];
}

export const embeddingsAdapter: EmbeddingsAdapter = {
  buildRequest(req, provider, ctx) {
    const list = texts(req.input);
    const model = modelPath(ctx.model);
    const one = (text: string): EmbedRequest => {
      const r: EmbedRequest = { model: `models/${decodeURIComponent(model)}`, content: { parts: [{ text }] } };
      if (req.dimensions !== undefined) r.outputDimensionality = req.dimensions;
      return r;
    };
    const single = typeof req.input === 'string';
    return {
      method: 'POST',
      url: joinUrl(provider.baseUrl, `/v1beta/models/${model}:${single ? 'embedContent' : 'batchEmbedContents'}`),
      headers: geminiHeaders(provider, 'application/json'),
      body: JSON.stringify(single ? one(list[0]!) : { requests: list.map(one) }),
    };
  },
  parseResponse(body, ctx): EmbeddingsResponse {
    const b = asRecord(body, 'embeddings answer');
    const list = Array.isArray(b['embeddings']) ? (b['embeddings'] as unknown[]) : b['embedding'] !== undefined ? [b['embedding']] : null;
    if (!list) throw new GatewayError('PROVIDER_ERROR', 'the upstream provider sent an embeddings answer without embeddings');
    const tokens = num((b['usageMetadata'] as Record<string, unknown> | undefined)?.['promptTokenCount']);
    return {
      object: 'list',
      data: list.map((e, index) => ({ object: 'embedding', index, embedding: values(e, index) })),
      model: ctx.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  },
  parseError,
};
