import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatCompletionRequest, ProviderType } from '@gw/contracts';
import { startSimulator, type Simulator } from '@gw/testing';
import { adapterFor } from '../registry.js';
import type { ResolvedProvider } from '../types.js';
import { roundTrip, type RoundTrip } from './http-replay.js';
import { collect } from './replay.js';

/**
 * azure-openai, mistral, deepseek and cohere adapters → real HTTP to the provider simulator's native endpoints
 * (which validate the request against the provider's schema) → parseResponse / stream translator.
 */

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ port: 0 });
});
afterAll(async () => {
  await sim.close();
});

type Case = { type: ProviderType; model: string; base: (url: string) => string; path: string };
const CASES: Case[] = [
  { type: 'azure-openai', model: 'gpt-4o-deploy', base: (u) => u, path: '/openai/deployments/gpt-4o-deploy/chat/completions' },
  { type: 'mistral', model: 'mistral-small-latest', base: (u) => `${u}/mistral/v1`, path: '/mistral/v1/chat/completions' },
  { type: 'deepseek', model: 'deepseek-chat', base: (u) => `${u}/deepseek`, path: '/deepseek/chat/completions' },
  { type: 'cohere', model: 'command-a-03-2025', base: (u) => u, path: '/v2/chat' },
];

const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
const req = (r: Partial<ChatCompletionRequest>) =>
  ({ model: 'client', messages: [{ role: 'developer', content: 'be brief' }, { role: 'user', content: 'hello there world', name: 'ann' }], ...r }) as ChatCompletionRequest;

function completion(r: RoundTrip) {
  if (!r.ok || !('completion' in r)) throw new Error(`unexpected ${JSON.stringify(r)}`);
  return r.completion;
}
function streamed(r: RoundTrip) {
  if (!r.ok || !('stream' in r)) throw new Error(`unexpected ${JSON.stringify(r)}`);
  return r.stream;
}

describe.each(CASES)('$type adapter ⇄ simulator', ({ type, model, base, path }) => {
  const adapter = adapterFor(type);
  const ctx = { model, requestId: `rt-${type}`, created: 1_700_000_000 };
  let provider: ResolvedProvider;
  beforeAll(() => {
    provider = { id: type, type, baseUrl: base(sim.url), apiKey: 'sim-key', headers: {}, options: {} };
  });

  it('text with every sampling parameter: the native endpoint accepted it; content, stop, usage', async () => {
    sim.resetStats();
    const r = completion(
      await roundTrip(adapter, req({ max_completion_tokens: 200, temperature: 0.5, top_p: 0.9, seed: 4, stop: ['ZZZ'], presence_penalty: 0.1, frequency_penalty: 0.1, user: 'u1' }), false, provider, ctx),
    );
    expect(r.choices[0]!.message.content).toContain('hello there world');
    expect(r.choices[0]!.finish_reason).toBe('stop');
    expect(r.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(r.usage!.completion_tokens).toBeGreaterThan(0);
    expect(sim.stats().lastRequests.at(-1)!.path).toBe(path);
  });

  it('stream: text deltas, finish stop, usage, done', async () => {
    const s = streamed(await roundTrip(adapter, req({}), true, provider, ctx));
    const got = collect(s.chunks);
    expect(got.content).toContain('hello there world');
    expect(got.finish).toBe('stop');
    expect(s.usage?.completion_tokens).toBeGreaterThan(0);
    expect(s.done).toBe(true);
  });

  it('required tool (JSON and stream), then the tool result turn', async () => {
    const first = completion(await roundTrip(adapter, req({ tools, tool_choice: 'required' }), false, provider, ctx));
    const call = first.choices[0]!.message.tool_calls![0]!;
    expect(call).toMatchObject({ type: 'function', function: { name: 'get_weather' } });
    expect(JSON.parse(call.function.arguments)).toHaveProperty('city');
    expect(first.choices[0]!.finish_reason).toBe('tool_calls');
    const s = streamed(await roundTrip(adapter, req({ tools, tool_choice: { type: 'function', function: { name: 'get_weather' } } }), true, provider, ctx));
    const got = collect(s.chunks);
    expect(got.tools).toHaveLength(1);
    expect(got.tools[0]!.name).toBe('get_weather');
    expect(JSON.parse(got.tools[0]!.arguments)).toHaveProperty('city');
    expect(got.finish).toBe('tool_calls');
    const follow = completion(
      await roundTrip(
        adapter,
        req({ tools, messages: [{ role: 'user', content: 'weather?' }, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: call.id, content: '{"tempC":21}' }] }),
        false,
        provider,
        ctx,
      ),
    );
    expect(follow.choices[0]!.message.content?.length).toBeGreaterThan(0);
  });

  it('a 429 fault is PROVIDER_RATE_LIMITED with retry-after; without a key the answer is a retryable credentials error', async () => {
    sim.setFaults([{ match: { model }, fault: { kind: 'status', status: 429, retryAfterSeconds: 3 }, times: 1 }]);
    const limited = await roundTrip(adapter, req({}), false, provider, ctx);
    sim.clearFaults();
    expect(limited).toMatchObject({ ok: false, status: 429, error: { code: 'PROVIDER_RATE_LIMITED', retryAfterSeconds: 3 } });
    if (type === 'azure-openai' || type === 'cohere') {
      const noKey = await roundTrip(adapter, req({}), false, { ...provider, apiKey: undefined }, ctx);
      expect(noKey).toMatchObject({ ok: false, status: 401, error: { code: 'PROVIDER_ERROR', status: 502, retryable: true } });
    }
  });
});

describe('provider quirks through the simulator', () => {
  it('deepseek-reasoner: reasoning_content (JSON and stream deltas before content), cache usage as cached_tokens', async () => {
    const adapter = adapterFor('deepseek');
    const ctx = { model: 'deepseek-reasoner', requestId: 'rt-r', created: 1 };
    const provider: ResolvedProvider = { id: 'ds', type: 'deepseek', baseUrl: `${sim.url}/deepseek`, apiKey: 'k', headers: {}, options: {} };
    const withRefused = req({ temperature: 0.2, logprobs: true });
    const c = completion(await roundTrip(adapter, withRefused, false, provider, ctx));
    expect(c.choices[0]!.message.reasoning_content).toBeTruthy();
    expect(c.usage!.prompt_tokens_details?.cached_tokens).toBe(0);
    const s = streamed(await roundTrip(adapter, withRefused, true, provider, ctx));
    const got = collect(s.chunks);
    expect(got.reasoning.length).toBeGreaterThan(0);
    expect(got.content).toContain('hello there world');
    const rejected = adapter.chat.buildRequest.bind(null, withRefused, false, provider, ctx, { unsupportedParams: 'reject' });
    expect(rejected).toThrow(/not supported/);
  });
  it('deepseek: json_schema through its JSON-mode fallback is accepted (the simulator refuses json_schema itself)', async () => {
    const adapter = adapterFor('deepseek');
    const provider: ResolvedProvider = { id: 'ds', type: 'deepseek', baseUrl: `${sim.url}/deepseek`, apiKey: 'k', headers: {}, options: {} };
    const r = await roundTrip(adapter, req({ response_format: { type: 'json_schema', json_schema: { name: 'o', schema: { type: 'object' } } } }), false, provider, { ...ctx0, model: 'deepseek-chat' });
    expect(r.ok).toBe(true);
  });
  it('cohere json_schema and json_object response formats are accepted natively', async () => {
    const adapter = adapterFor('cohere');
    const provider: ResolvedProvider = { id: 'co', type: 'cohere', baseUrl: sim.url, apiKey: 'k', headers: {}, options: {} };
    for (const response_format of [{ type: 'json_object' as const }, { type: 'json_schema' as const, json_schema: { name: 'o', schema: { type: 'object' } } }]) {
      expect((await roundTrip(adapter, req({ response_format }), false, provider, { ...ctx0, model: 'command-a' })).ok).toBe(true);
    }
  });
  it('an image part reaches mistral and cohere as they take it', async () => {
    const image = req({ messages: [{ role: 'user', content: [{ type: 'text', text: 'what is it?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] }] });
    for (const [type, baseUrl] of [
      ['mistral', `${sim.url}/mistral/v1`],
      ['cohere', sim.url],
    ] as const) {
      const r = await roundTrip(adapterFor(type), image, false, { id: type, type, baseUrl, apiKey: 'k', headers: {}, options: {} }, { ...ctx0, model: 'vision' });
      expect(r.ok, type).toBe(true);
    }
  });
  it('embeddings: azure deployment path and cohere v2 embed', async () => {
    for (const [type, model] of [
      ['azure-openai', 'emb-deploy'],
      ['cohere', 'embed-v4.0'],
      ['mistral', 'mistral-embed'],
    ] as const) {
      const e = adapterFor(type).embeddings!;
      const baseUrl = type === 'mistral' ? `${sim.url}/mistral/v1` : sim.url;
      const up = e.buildRequest({ model: 'x', input: ['a', 'bb'] }, { id: type, type, baseUrl, apiKey: 'k', headers: {}, options: {} }, { ...ctx0, model });
      const res = await fetch(up.url, { method: up.method, headers: up.headers, body: up.body });
      expect(res.status, type).toBe(200);
      const out = e.parseResponse(await res.json(), { ...ctx0, model });
      expect(out.data).toHaveLength(2);
      expect(out.data[0]!.embedding.length).toBeGreaterThan(0);
      expect(out.usage.prompt_tokens).toBeGreaterThan(0);
    }
  });
});

const ctx0 = { model: 'm', requestId: 'rt', created: 1 };
