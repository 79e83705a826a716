import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ResolvedProvider } from '../types.js';
import { adapter } from './index.js';

const ctx = { model: 'gemini-embedding-2-preview', requestId: 'e1', created: 1 };
const provider: ResolvedProvider = { id: 'g', type: 'gemini', baseUrl: 'https://generativelanguage.googleapis.com/', apiKey: 'k', headers: {}, options: {} };
const emb = adapter.embeddings!;
type Cassette = { interactions: Array<{ request: { parsed_body: unknown; uri: string }; response: { status: { code: number }; parsed_body: unknown } }> };
const cassette = (name: string) => parse(readFileSync(new URL(`../../test/fixtures/google/${name}`, import.meta.url), 'utf8')) as Cassette;

describe('gemini embeddings', () => {
  it('a list → batchEmbedContents with outputDimensionality (the request of the real capture, minus taskType)', () => {
    const up = emb.buildRequest({ model: 'x', input: ['Hello, world!'], dimensions: 768 }, provider, ctx);
    const recorded = cassette('TestGoogle.test_query_with_dimensions.yaml').interactions[0]!.request;
    expect(up.url).toBe(recorded.uri);
    expect(up.headers['x-goog-api-key']).toBe('k');
    const expected = structuredClone(recorded.parsed_body) as { requests: Array<Record<string, unknown>> };
    for (const r of expected.requests) delete r['taskType'];
    expect(JSON.parse(up.body as string)).toEqual(expected);
  });

  it('one string → embedContent', () => {
    const up = emb.buildRequest({ model: 'x', input: 'hi' }, provider, ctx);
    expect(up.url).toBe('https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-2-preview:embedContent');
    expect(JSON.parse(up.body as string)).toEqual({ model: 'models/gemini-embedding-2-preview', content: { parts: [{ text: 'hi' }] } });
    expect(emb.parseResponse({ embedding: { values: [0.5, -0.5] } }, ctx).data).toEqual([{ object: 'embedding', index: 0, embedding: [0.5, -0.5] }]);
  });

  it('token-id input is refused with a 400', () => {
    expect(() => emb.buildRequest({ model: 'x', input: [1, 2, 3] }, provider, ctx)).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST', param: 'input' }) as Error);
  });

  it('parses the real 768-dimension answer and maps the real 404', () => {
    const doc = cassette('TestGoogle.test_query_with_dimensions.yaml');
    const r = emb.parseResponse(doc.interactions[0]!.response.parsed_body, ctx);
    expect(r.object).toBe('list');
    expect(r.data).toHaveLength(1);
    expect(r.data[0]!.embedding).toHaveLength(768);
    expect(r.data[0]!.embedding[0]).toBeCloseTo(-0.039718185);
    const err = cassette('TestGoogle.test_embed_error.yaml').interactions[0]!.response;
    expect(emb.parseError(err.status.code, JSON.stringify(err.parsed_body), {})).toMatchObject({ code: 'PROVIDER_ERROR', retryable: true });
    expect(() => emb.parseResponse({ nothing: true }, ctx)).toThrow(expect.objectContaining({ code: 'PROVIDER_ERROR' }) as Error);
  });
});
