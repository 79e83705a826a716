import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { adapter } from './index.js';
import { BEDROCK_CTX as ctx, BEDROCK_PROVIDER as provider, readBedrockFixture as read } from './spec-helpers.js';

describe('bedrock embeddings (InvokeModel)', () => {
  const e = adapter.embeddings!;
  const titan = { ...ctx, model: 'amazon.titan-embed-text-v2:0' };
  it('titan: one text, dimensions, signed /invoke; the real capture parses with its token count', () => {
    const up = e.buildRequest({ model: 'x', input: 'hello', dimensions: 256 }, provider, titan);
    expect(up.url).toBe(
      'https://bedrock-runtime.us-east-1.amazonaws.com/model/amazon.titan-embed-text-v2%3A0/invoke',
    );
    expect(JSON.parse(up.body as string)).toEqual({ inputText: 'hello', normalize: true, dimensions: 256 });
    expect(up.headers['authorization']).toContain('/bedrock/aws4_request');
    expect(() => e.buildRequest({ model: 'x', input: ['a', 'b'] }, provider, titan)).toThrow(
      expect.objectContaining({ param: 'input' }) as Error,
    );
    const doc = parse(read('TestBedrock.test_titan_v2_with_dimensions.yaml')) as {
      interactions: Array<{ response: { parsed_body: { inputTextTokenCount: number } } }>;
    };
    const body = doc.interactions[0]!.response.parsed_body;
    const r = e.parseResponse(body, titan);
    expect(r.data).toHaveLength(1);
    expect(r.data[0]!.embedding).toHaveLength(256);
    expect(r.usage.prompt_tokens).toBe(body.inputTextTokenCount);
  });
  it('cohere: a list of texts; dimensions refused; other models refused', () => {
    const cohere = { ...ctx, model: 'cohere.embed-english-v3' };
    const up = e.buildRequest({ model: 'x', input: ['a', 'b'] }, provider, cohere);
    expect(JSON.parse(up.body as string)).toEqual({ texts: ['a', 'b'], input_type: 'search_document' });
    expect(
      e
        .parseResponse(
          {
            embeddings: [
              [1, 2],
              [3, 4],
            ],
            id: 'x',
            response_type: 'embeddings_floats',
          },
          cohere,
        )
        .data.map((d) => d.embedding),
    ).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(() => e.buildRequest({ model: 'x', input: 'a', dimensions: 5 }, provider, cohere)).toThrow(
      expect.objectContaining({ param: 'dimensions' }) as Error,
    );
    expect(() =>
      e.buildRequest({ model: 'x', input: 'a' }, provider, { ...ctx, model: 'meta.llama3' }),
    ).toThrow(expect.objectContaining({ param: 'model' }) as Error);
  });
});
