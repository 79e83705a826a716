import { GatewayError } from '@gw/contracts';
import { joinUrl } from '../openai-compatible/chat.js';
import { asRecord, num } from '../shared/content.js';
import type { EmbeddingsAdapter, EmbeddingsRequest, EmbeddingsResponse } from '../types.js';
import { authorizedHeaders } from './auth.js';
import { modelPath } from './chat.js';
import { parseError } from './errors.js';

/**
 * OpenAI embeddings ⇄ Bedrock InvokeModel (`POST /model/{modelId}/invoke`), whose body is the model's own:
 * - Amazon Titan Text Embeddings (amazon.titan-embed-text-*): `{inputText, dimensions?, normalize}`, one text per
 *   call (a list of more than one is a 400: the gateway sends one upstream request per client request). The answer's
 *   `inputTextTokenCount` is the usage.
 * - Cohere Embed (cohere.embed-*): `{texts, input_type: "search_document"}`, up to 96 texts; `dimensions` is not
 *   supported there (400). Cohere's answer carries no token count: usage is 0, and billing estimates.
 * Token-id inputs are refused with a 400; `encoding_format: base64` is answered as floats.
 */

type Family = 'titan' | 'cohere';

function family(model: string): Family {
  if (/(^|\.)cohere\.embed/.test(model)) return 'cohere';
  if (/(^|\.)amazon\.titan-embed/.test(model)) return 'titan';
  throw new GatewayError(
    'INVALID_REQUEST',
    `model ${model}: this provider embeds with amazon.titan-embed-* or cohere.embed-* models only`,
    { param: 'model' },
  );
}

function texts(input: EmbeddingsRequest['input']): string[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'string')) return input;
  throw new GatewayError(
    'INVALID_REQUEST',
    'input: this provider embeds text only (a string or an array of strings)',
    { param: 'input' },
  );
}

function body(req: EmbeddingsRequest, model: string): Record<string, unknown> {
  const list = texts(req.input);
  if (family(model) === 'titan') {
    if (list.length > 1)
      throw new GatewayError('INVALID_REQUEST', 'input: this model embeds one text per request', {
        param: 'input',
      });
    const b: Record<string, unknown> = { inputText: list[0]!, normalize: true };
    if (req.dimensions !== undefined) b['dimensions'] = req.dimensions;
    return b;
  }
  if (req.dimensions !== undefined)
    throw new GatewayError('INVALID_REQUEST', 'dimensions: not supported by this model', {
      param: 'dimensions',
    });
  if (list.length > 96)
    throw new GatewayError('INVALID_REQUEST', 'input: this model embeds at most 96 texts per request', {
      param: 'input',
    });
  return { texts: list, input_type: 'search_document' };
}

function vector(v: unknown, i: number): number[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number'))
    throw new GatewayError('PROVIDER_ERROR', `the upstream provider sent embedding ${i} without numbers`);
  return v;
}

export const embeddingsAdapter: EmbeddingsAdapter = {
  buildRequest(req, provider, ctx) {
    const url = joinUrl(provider.baseUrl, modelPath(ctx.model, 'invoke'));
    const text = JSON.stringify(body(req, ctx.model));
    return {
      method: 'POST',
      url,
      headers: authorizedHeaders(provider, 'POST', url, text, 'application/json'),
      body: text,
    };
  },
  parseResponse(raw, ctx): EmbeddingsResponse {
    const b = asRecord(raw, 'embeddings answer');
    let list: number[][];
    let tokens = 0;
    if (family(ctx.model) === 'titan') {
      list = [vector(b['embedding'], 0)];
      tokens = num(b['inputTextTokenCount']);
    } else {
      const e = b['embeddings'];
      // embeddings_floats: a list of vectors; embeddings_by_type: {float: [...]}
      const floats = Array.isArray(e)
        ? e
        : e && typeof e === 'object'
          ? (e as Record<string, unknown>)['float']
          : undefined;
      if (!Array.isArray(floats))
        throw new GatewayError(
          'PROVIDER_ERROR',
          'the upstream provider sent an embeddings answer without embeddings',
        );
      list = (floats as unknown[]).map(vector);
    }
    return {
      object: 'list',
      data: list.map((embedding, index) => ({ object: 'embedding', index, embedding })),
      model: ctx.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  },
  parseError,
};
