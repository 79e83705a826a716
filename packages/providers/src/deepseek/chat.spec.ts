import { GatewayError, type ChatCompletionRequest } from '@gw/contracts';
import { describe, expect, it } from 'vitest';
import { contentOf, ctx, fixture, reasoningOf, translate, wire } from '../shared/spec-helpers.js';
import type { ResolvedProvider } from '../types.js';
import { adapter } from './index.js';

const provider: ResolvedProvider = {
  id: 'ds',
  type: 'deepseek',
  baseUrl: 'https://api.deepseek.com',
  apiKey: 'dk',
  headers: {},
  options: {},
};
const req: ChatCompletionRequest = {
  model: 'client',
  messages: [
    { role: 'developer', content: 'terse' },
    { role: 'assistant', content: 'earlier', reasoning_content: 'old thoughts' },
    { role: 'user', content: 'hi' },
  ],
  temperature: 0.3,
  top_p: 0.9,
  max_completion_tokens: 50,
};
const build = (r: ChatCompletionRequest, model: string, mode: 'drop' | 'reject' = 'drop') =>
  JSON.parse(
    adapter.chat.buildRequest(r, false, provider, { ...ctx, model }, { unsupportedParams: mode })
      .body as string,
  ) as Record<string, unknown>;

function rejection(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (e) {
    return e as GatewayError;
  }
  throw new Error('did not throw');
}

describe('deepseek buildRequest', () => {
  it('chat model: sampling params kept, developer → system, reasoning_content never sent back, max_tokens', () => {
    const b = build(req, 'deepseek-chat');
    expect(adapter.chat.buildRequest(req, false, provider, ctx, { unsupportedParams: 'drop' }).url).toBe(
      'https://api.deepseek.com/chat/completions',
    );
    expect(b).toMatchObject({ model: 'deepseek-chat', temperature: 0.3, top_p: 0.9, max_tokens: 50 });
    const msgs = b['messages'] as Array<Record<string, unknown>>;
    expect(msgs[0]!['role']).toBe('system');
    expect(msgs[1]!['reasoning_content']).toBeUndefined();
  });
  it('reasoner: the parameters it refuses are dropped, or a 400 in reject mode', () => {
    const r = { ...req, logprobs: true };
    const b = build(r, 'deepseek-reasoner');
    for (const p of ['temperature', 'top_p', 'logprobs']) expect(b[p]).toBeUndefined();
    const e = rejection(() => build(r, 'deepseek-reasoner', 'reject'));
    expect(e).toBeInstanceOf(GatewayError);
    expect(e).toMatchObject({ code: 'INVALID_REQUEST', param: 'temperature' });
    expect(() => build(req, 'deepseek-chat', 'reject')).not.toThrow();
    expect(rejection(() => build({ ...req, n: 2 }, 'deepseek-chat', 'reject')).param).toBe('n');
  });
  it('json_schema → JSON mode plus the schema in a system message (the stated fallback)', () => {
    const b = build(
      {
        ...req,
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'city', schema: { type: 'object', properties: { name: { type: 'string' } } } },
        },
      },
      'deepseek-chat',
    );
    expect(b['response_format']).toEqual({ type: 'json_object' });
    const first = (b['messages'] as Array<{ role: string; content: string }>)[0]!;
    expect(first.role).toBe('system');
    expect(first.content).toContain('JSON');
    expect(first.content).toContain('"name":{"type":"string"}');
  });
});

describe('deepseek responses (real captures)', () => {
  it('reasoning_content and cache-hit usage (JSON)', () => {
    const c = adapter.chat.parseResponse(JSON.parse(fixture('deepseek/deepseek-json.json')), ctx);
    expect(c.usage?.prompt_tokens_details?.cached_tokens).toBe(320);
    const r = adapter.chat.parseResponse(JSON.parse(fixture('deepseek/deepseek-reasoning.json')), ctx);
    expect(r.choices[0]!.message.reasoning_content?.length).toBeGreaterThan(10);
  });
  it('prompt_cache_hit_tokens alone (older answers) → cached_tokens', () => {
    const body = JSON.parse(fixture('deepseek/deepseek-text.json')) as { usage: Record<string, unknown> };
    delete body.usage['prompt_tokens_details'];
    body.usage['prompt_cache_hit_tokens'] = 8;
    expect(adapter.chat.parseResponse(body, ctx).usage?.prompt_tokens_details?.cached_tokens).toBe(8);
  });
  it('stream: reasoning deltas as reasoning_content, then content; usage with cache fields', () => {
    const t = adapter.chat.createStreamTranslator(ctx);
    const chunks = translate(wire('deepseek/deepseek-reasoning.chunks.txt', { done: true }), t);
    expect(reasoningOf(chunks).length).toBeGreaterThan(50);
    expect(contentOf(chunks).length).toBeGreaterThan(0);
    const firstContent = chunks.findIndex((c) => (c.choices[0]?.delta.content ?? '').length > 0);
    const lastReasoning = chunks
      .map((c) => (c.choices[0]?.delta.reasoning_content ?? '').length > 0)
      .lastIndexOf(true);
    expect(lastReasoning).toBeLessThan(firstContent);
    expect(t.usage()).toMatchObject({
      prompt_tokens: 18,
      completion_tokens: 219,
      prompt_tokens_details: { cached_tokens: 0 },
    });
    expect(t.done()).toBe(true);
  });
  it('has no embeddings endpoint', () => {
    expect(adapter.embeddings).toBeUndefined();
  });
});
