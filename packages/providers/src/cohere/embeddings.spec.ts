import { GatewayError } from '@gw/contracts';
import { describe, expect, it } from 'vitest';
import { ctx, fixture } from '../shared/spec-helpers.js';
import type { ResolvedProvider } from '../types.js';
import { adapter } from './index.js';

const provider: ResolvedProvider = {
  id: 'co',
  type: 'cohere',
  baseUrl: 'https://api.cohere.com/',
  apiKey: 'ck',
  headers: {},
  options: {},
};
const e = adapter.embeddings!;

describe('cohere embeddings (v2 embed)', () => {
  it('builds /v2/embed with texts, input_type (default and option), float type, output_dimension', () => {
    const r = e.buildRequest({ model: 'x', input: 'one', dimensions: 512 }, provider, {
      ...ctx,
      model: 'embed-v4.0',
    });
    expect(r.url).toBe('https://api.cohere.com/v2/embed');
    expect(r.headers['authorization']).toBe('Bearer ck');
    expect(JSON.parse(r.body as string)).toEqual({
      model: 'embed-v4.0',
      texts: ['one'],
      input_type: 'search_document',
      embedding_types: ['float'],
      output_dimension: 512,
    });
    const q = e.buildRequest(
      { model: 'x', input: ['a', 'b'] },
      { ...provider, options: { embedInputType: 'search_query' } },
      ctx,
    );
    expect(JSON.parse(q.body as string)).toMatchObject({ texts: ['a', 'b'], input_type: 'search_query' });
    expect(() => e.buildRequest({ model: 'x', input: [1, 2] }, provider, ctx)).toThrow(GatewayError);
    expect(() =>
      e.buildRequest({ model: 'x', input: 'a' }, { ...provider, options: { embedInputType: 'nope' } }, ctx),
    ).toThrow(GatewayError);
  });
  it('parses a real answer into the OpenAI shape', () => {
    const out = e.parseResponse(JSON.parse(fixture('cohere/cohere-embedding.json')), {
      ...ctx,
      model: 'embed-english-v3.0',
    });
    expect(out.object).toBe('list');
    expect(out.data).toHaveLength(2);
    expect(out.data[1]).toMatchObject({ object: 'embedding', index: 1 });
    expect(out.data[0]!.embedding[0]).toBeCloseTo(0.03302002);
    expect(out.usage).toEqual({ prompt_tokens: 10, total_tokens: 10 });
    expect(out.model).toBe('embed-english-v3.0');
    expect(() => e.parseResponse({ embeddings: {} }, ctx)).toThrow(GatewayError);
  });
});
