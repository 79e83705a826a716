import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatCompletionRequest } from '@gw/contracts';
import { startSimulator, type Simulator } from '@gw/testing';
import { roundTrip } from '../shared/http-replay.js';
import { collect } from '../shared/replay.js';
import type { ResolvedProvider } from '../types.js';
import { adapter } from './index.js';

/** adapter.buildRequest → real HTTP to the provider simulator's Gemini endpoints → parseResponse / stream translator. */

let sim: Simulator;
let provider: ResolvedProvider;
const ctx = { model: 'gemini-sim', requestId: 'rt-g', created: 1_700_000_000 };

beforeAll(async () => {
  sim = await startSimulator({ port: 0 });
  provider = { id: 'gemini-sim', type: 'gemini', baseUrl: sim.url, apiKey: 'AIza-sim', headers: {}, options: {} };
});
afterAll(async () => {
  await sim.close();
});

const req = (r: Partial<ChatCompletionRequest>) => ({ model: 'gemini', messages: [{ role: 'user', content: 'hello there world' }], ...r }) as ChatCompletionRequest;
const tools = [
  {
    type: 'function' as const,
    function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }, strict: true },
  },
];

describe('gemini adapter ⇄ simulator', () => {
  it('text: the upstream saw a valid generateContent request; the answer is a completion', async () => {
    sim.resetStats();
    const r = await roundTrip(adapter, req({ messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello there world' }], max_tokens: 50, n: 2 }), false, provider, ctx);
    if (!r.ok || !('completion' in r)) throw new Error(`unexpected ${JSON.stringify(r)}`);
    expect(r.completion.choices).toHaveLength(2);
    expect(r.completion.choices[0]!.message.content).toContain('hello there world');
    expect(r.completion.usage!.prompt_tokens).toBe(3 + 5 + 8);
    const seen = sim.stats().lastRequests.at(-1)!;
    expect(seen.path).toBe('/v1beta/models/gemini-sim:generateContent');
    expect(seen.headers['x-goog-api-key']).toBe('AIza-sim');
    expect(sim.stats().requestsByModel).toEqual({ 'gemini-sim': 1 });
  });

  it('a forced tool (schema with additionalProperties, cleaned) comes back as a tool call; the function response turn is accepted', async () => {
    const first = await roundTrip(adapter, req({ tools, tool_choice: { type: 'function', function: { name: 'get_weather' } } }), false, provider, ctx);
    if (!first.ok || !('completion' in first)) throw new Error(`unexpected ${JSON.stringify(first)}`);
    const call = first.completion.choices[0]!.message.tool_calls![0]!;
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'hello there world' });
    expect(first.completion.choices[0]!.finish_reason).toBe('tool_calls');
    const second = await roundTrip(
      adapter,
      req({ tools, messages: [{ role: 'user', content: 'hello there world' }, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: call.id, content: 'sunny' }] }),
      false,
      provider,
      ctx,
    );
    expect(second.ok).toBe(true);
  });

  it('json_schema response_format is accepted upstream (unsupported keywords stripped)', async () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false, $schema: 'x' };
    const r = await roundTrip(adapter, req({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema } } }), false, provider, ctx);
    expect(r.ok).toBe(true);
  });

  it('every translated parameter is accepted by the upstream (known fields only, valid parts)', async () => {
    const r = await roundTrip(
      adapter,
      req({
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }, { type: 'image_url', image_url: { url: 'https://example.com/a.webp' } }] },
          { role: 'assistant', content: 'a cat' },
          { role: 'user', content: 'and?' },
        ],
        temperature: 0.5,
        top_p: 0.9,
        stop: 'END',
        seed: 3,
        presence_penalty: 0.1,
        frequency_penalty: 0.1,
        max_completion_tokens: 300,
        tools,
        tool_choice: 'auto',
        response_format: { type: 'json_object' },
      }),
      false,
      provider,
      ctx,
    );
    expect(r).toMatchObject({ ok: true, status: 200 });
  });

  it('streams text and a tool call through the SSE decoder and translator', async () => {
    const text = await roundTrip(adapter, req({}), true, provider, ctx);
    if (!text.ok || !('stream' in text)) throw new Error('no stream');
    expect(text.stream.done).toBe(true);
    expect(collect(text.stream.chunks).content).toContain('hello there world');
    expect(text.stream.usage!.completion_tokens).toBeGreaterThan(0);
    const tool = await roundTrip(adapter, req({ tools, tool_choice: 'required' }), true, provider, ctx);
    if (!tool.ok || !('stream' in tool)) throw new Error('no stream');
    const all = collect(tool.stream.chunks);
    expect(all.tools.map((t) => t.name)).toEqual(['get_weather']);
    expect(all.finish).toBe('tool_calls');
  });

  it('upstream errors map to GatewayErrors: validation 400, 503, 429 with retry-after', async () => {
    const bad = await roundTrip(adapter, req({ temperature: 2, max_tokens: 1, n: 9 }), false, provider, ctx);
    expect(bad).toMatchObject({ ok: false, status: 400, error: { code: 'INVALID_REQUEST' } });
    sim.setFaults([{ times: 1, fault: { kind: 'status', status: 503 } }, { times: 1, fault: { kind: 'status', status: 429, retryAfterSeconds: 5 } }]);
    expect(await roundTrip(adapter, req({}), false, provider, ctx)).toMatchObject({ ok: false, error: { code: 'PROVIDER_UNAVAILABLE', retryable: true } });
    expect(await roundTrip(adapter, req({}), true, provider, ctx)).toMatchObject({ ok: false, error: { code: 'PROVIDER_RATE_LIMITED', retryAfterSeconds: 5 } });
    sim.clearFaults();
  });
});
