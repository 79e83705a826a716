import { readFileSync } from 'node:fs';
import { GatewayError, type ChatCompletionRequest, type ProviderType } from '@gw/contracts';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { adapterFor } from '../registry.js';
import type { ResolvedProvider } from '../types.js';
import { openAiCompatible } from './index.js';

const fixture = (p: string) => readFileSync(new URL(`../../test/fixtures/${p}`, import.meta.url), 'utf8');
const ctx = { model: 'gpt-4.1-nano', requestId: 'req-1', created: 1 };
const provider: ResolvedProvider = {
  id: 'oa',
  type: 'openai',
  baseUrl: 'https://api.example.test/v1/',
  apiKey: 'sk-test',
  headers: { 'OpenAI-Organization': 'org-1' },
  options: {},
};
const req: ChatCompletionRequest = {
  model: 'client-name',
  messages: [{ role: 'user', content: 'hi' }],
  stream: true,
  stream_options: { include_usage: false },
  temperature: 0.2,
  seed: 1,
};
const drop = { unsupportedParams: 'drop' } as const;

describe('buildRequest (OpenAI-compatible)', () => {
  const a = adapterFor('openai');

  it('non-stream: upstream model, no stream_options, auth and extra headers, URL joined once', () => {
    const r = a.chat.buildRequest(req, false, provider, ctx, drop);
    expect(r.method).toBe('POST');
    expect(r.url).toBe('https://api.example.test/v1/chat/completions');
    expect(r.headers).toMatchObject({ authorization: 'Bearer sk-test', 'content-type': 'application/json', 'openai-organization': 'org-1' });
    const body = JSON.parse(r.body as string) as Record<string, unknown>;
    expect(body).toMatchObject({ model: 'gpt-4.1-nano', stream: false, temperature: 0.2, seed: 1 });
    expect(body['stream_options']).toBeUndefined();
  });

  it('passes images (URL and data URL), tools, tool_choice and a json_schema response_format through unchanged', () => {
    const rich: ChatCompletionRequest = {
      model: 'client-name',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is in these?' },
            { type: 'image_url', image_url: { url: 'https://example.test/cat.png', detail: 'low' } },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          ],
        },
      ],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }],
      tool_choice: { type: 'function', function: { name: 'f' } },
      response_format: { type: 'json_schema', json_schema: { name: 'out', strict: true, schema: { type: 'object', properties: { a: { type: 'string' } } } } },
    };
    const body = JSON.parse(a.chat.buildRequest(rich, false, provider, ctx, drop).body as string) as Record<string, unknown>;
    expect(body['messages']).toEqual(rich.messages);
    expect(body['tools']).toEqual(rich.tools);
    expect(body['tool_choice']).toEqual(rich.tool_choice);
    expect(body['response_format']).toEqual(rich.response_format);
  });

  it('stream: always asks the upstream for usage', () => {
    const r = a.chat.buildRequest(req, true, provider, ctx, drop);
    expect(JSON.parse(r.body as string)).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(r.headers['accept']).toBe('text/event-stream');
  });

  it('no api key: no authorization header', () => {
    const r = a.chat.buildRequest(req, false, { ...provider, apiKey: undefined }, ctx, drop);
    expect(r.headers['authorization']).toBeUndefined();
  });

  it('declared unsupported parameters are dropped or refused', () => {
    const b = openAiCompatible('openai-compatible', null, { unsupportedParams: ['seed'], streamUsage: false });
    const r = b.chat.buildRequest(req, true, provider, ctx, drop);
    const body = JSON.parse(r.body as string) as Record<string, unknown>;
    expect(body['seed']).toBeUndefined();
    expect(body['stream_options']).toEqual({ include_usage: false });
    expect(() => b.chat.buildRequest(req, true, provider, ctx, { unsupportedParams: 'reject' })).toThrow(GatewayError);
  });
});

describe('parseResponse on real captures', () => {
  const a = adapterFor('openai-compatible');
  it('openai text: passes through, upstream model kept', () => {
    const c = a.chat.parseResponse(JSON.parse(fixture('openai/openai-text.json')), ctx);
    expect(c.model).toBe('gpt-4.1-nano-2025-04-14');
    expect(c.choices[0]!.finish_reason).toBe('stop');
    expect(c.usage?.total_tokens).toBeGreaterThan(0);
  });
  it('openai tool call (cassette), deepseek reasoning, mistral tool call', () => {
    const cas = parse(fixture('openai/test_openai_tool_output.yaml')) as { interactions: Array<{ response: { parsed_body: unknown } }> };
    const tool = a.chat.parseResponse(cas.interactions[0]!.response.parsed_body, ctx);
    expect(tool.choices[0]!.message.tool_calls?.[0]?.function.name).toBe('get_user_country');
    const ds = a.chat.parseResponse(JSON.parse(fixture('deepseek/deepseek-reasoning.json')), ctx);
    expect(ds.choices[0]!.message.reasoning_content).toBeTruthy();
    const ms = a.chat.parseResponse(JSON.parse(fixture('mistral/mistral-tool-call.json')), ctx);
    expect(ms.choices[0]!.finish_reason).toBe('tool_calls');
    expect(a.chat.parseResponse(JSON.parse(fixture('deepseek/deepseek-text.json')), ctx).usage?.prompt_tokens).toBeGreaterThan(0);
    expect(a.chat.parseResponse(JSON.parse(fixture('mistral/mistral-text.json')), ctx).model).toContain('mistral');
  });
  it('a malformed body is a PROVIDER_ERROR', () => {
    expect(() => a.chat.parseResponse({ id: 'x' }, ctx)).toThrow(GatewayError);
    expect(() => a.chat.parseResponse(null, ctx)).toThrow(GatewayError);
  });
});

describe('embeddings', () => {
  it('builds /embeddings and parses a real answer', () => {
    const e = adapterFor('openai').embeddings!;
    const r = e.buildRequest({ model: 'x', input: ['a', 'b'] }, provider, { ...ctx, model: 'text-embedding-3-small' });
    expect(r.url).toBe('https://api.example.test/v1/embeddings');
    expect(JSON.parse(r.body as string)).toEqual({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    const out = e.parseResponse(JSON.parse(fixture('openai/openai-embedding.json')), ctx);
    expect(out.data).toHaveLength(2);
    expect(out.usage.prompt_tokens).toBe(12);
    expect(() => e.parseResponse({ data: 'nope' }, ctx)).toThrow(GatewayError);
  });
});

describe('registry', () => {
  it('maps types to adapters; a type without one is an INTERNAL error', () => {
    expect(adapterFor('openai').defaultBaseUrl).toBe('https://api.openai.com/v1');
    expect(adapterFor('openai-compatible').defaultBaseUrl).toBeNull();
    expect(adapterFor('simulator').type).toBe('simulator');
    let err: unknown;
    try {
      adapterFor('no-such-type' as ProviderType);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('INTERNAL');
  });
});
