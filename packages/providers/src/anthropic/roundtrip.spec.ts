import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatCompletionRequest } from '@gw/contracts';
import { startSimulator, type Simulator } from '@gw/testing';
import { roundTrip } from '../shared/http-replay.js';
import { collect, replayStream } from '../shared/replay.js';
import type { ResolvedProvider } from '../types.js';
import { adapter } from './index.js';

/** adapter.buildRequest → real HTTP to the provider simulator's Anthropic endpoint → parseResponse / stream translator. */

let sim: Simulator;
let provider: ResolvedProvider;
const ctx = { model: 'claude-sim', requestId: 'rt-a', created: 1_700_000_000 };

beforeAll(async () => {
  sim = await startSimulator({ port: 0 });
  provider = { id: 'anthropic-sim', type: 'anthropic', baseUrl: sim.url, apiKey: 'sk-ant-sim', headers: {}, options: {} };
});
afterAll(async () => {
  await sim.close();
});

const req = (r: Partial<ChatCompletionRequest>) => ({ model: 'claude', messages: [{ role: 'user', content: 'hello there world' }], ...r }) as ChatCompletionRequest;
const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];

describe('anthropic adapter ⇄ simulator', () => {
  it('text: the upstream saw a valid Messages request (headers, system, max_tokens); the answer is a completion', async () => {
    sim.resetStats();
    const r = await roundTrip(adapter, req({ messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello there world' }] }), false, provider, ctx);
    if (!r.ok || !('completion' in r)) throw new Error(`unexpected ${JSON.stringify(r)}`);
    expect(r.completion.choices[0]!.message.content).toContain('hello there world');
    expect(r.completion.choices[0]!.finish_reason).toBe('stop');
    expect(r.completion.usage!.prompt_tokens).toBe(3 + 5 + 8);
    const seen = sim.stats().lastRequests.at(-1)!;
    expect(seen.path).toBe('/v1/messages');
    expect(seen.headers['x-api-key']).toBe('sk-ant-sim');
    expect(seen.body).toMatchObject({ model: 'claude-sim', max_tokens: 4096, system: 'be brief' });
  });

  it('a forced tool comes back as a tool call; the tool result turn is accepted by the upstream', async () => {
    const first = await roundTrip(adapter, req({ tools, tool_choice: { type: 'function', function: { name: 'get_weather' } } }), false, provider, ctx);
    if (!first.ok || !('completion' in first)) throw new Error('no completion');
    const call = first.completion.choices[0]!.message.tool_calls![0]!;
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'hello there world' });
    expect(first.completion.choices[0]!.finish_reason).toBe('tool_calls');
    const second = await roundTrip(
      adapter,
      req({
        tools,
        messages: [
          { role: 'user', content: 'hello there world' },
          { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: call.id, content: '{"temp":21}' },
        ],
      }),
      false,
      provider,
      ctx,
    );
    expect(second.ok).toBe(true);
  });

  it('every translated parameter is accepted by the upstream (no extra inputs, valid blocks)', async () => {
    const r = await roundTrip(
      adapter,
      req({
        messages: [
          { role: 'developer', content: 'be brief' },
          { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }, { type: 'image_url', image_url: { url: 'https://example.com/a.jpg' } }] },
          { role: 'assistant', content: 'a cat' },
          { role: 'user', content: 'and?' },
        ],
        temperature: 0.5,
        top_p: 0.9,
        stop: ['END'],
        user: 'u1',
        max_completion_tokens: 300,
        tools,
        tool_choice: 'auto',
        parallel_tool_calls: false,
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', properties: {}, additionalProperties: false } } },
        seed: 3,
        n: 1,
      }),
      false,
      provider,
      ctx,
    );
    expect(r).toMatchObject({ ok: true, status: 200 });
  });

  it('streams text and tool calls through the SSE decoder and translator', async () => {
    const text = await roundTrip(adapter, req({ max_tokens: 100 }), true, provider, ctx);
    if (!text.ok || !('stream' in text)) throw new Error('no stream');
    expect(text.stream.done).toBe(true);
    expect(collect(text.stream.chunks).content).toContain('hello there world');
    expect(text.stream.usage!.completion_tokens).toBeGreaterThan(0);
    const tool = await roundTrip(adapter, req({ tools, tool_choice: 'required' }), true, provider, ctx);
    if (!tool.ok || !('stream' in tool)) throw new Error('no stream');
    const all = collect(tool.stream.chunks);
    expect(all.tools).toHaveLength(1);
    expect(JSON.parse(all.tools[0]!.arguments)).toEqual({ city: 'hello there world' });
    expect(all.finish).toBe('tool_calls');
  });

  it('a stream cut by the upstream: the read fails and what arrived is not a complete stream', async () => {
    sim.setFaults([{ times: 1, fault: { kind: 'cut-stream', afterChunks: 4 } }]);
    const up = adapter.chat.buildRequest(req({}), true, provider, ctx, { unsupportedParams: 'drop' });
    const res = await fetch(up.url, { method: up.method, headers: up.headers, body: up.body });
    expect(res.status).toBe(200);
    const pieces: Uint8Array[] = [];
    await expect(
      (async () => {
        for await (const piece of res.body!) pieces.push(piece as Uint8Array);
      })(),
    ).rejects.toThrow();
    const r = replayStream(adapter.chat, ctx, pieces);
    expect(collect(r.chunks).content.length).toBeGreaterThan(0);
    expect(r.done).toBe(false);
  });

  it('upstream errors map to GatewayErrors: validation 400, overloaded 529, rate limit 429 with retry-after', async () => {
    const bad = await roundTrip(adapter, req({ temperature: 1.5 }), false, provider, ctx);
    expect(bad).toMatchObject({ ok: false, status: 400, error: { code: 'INVALID_REQUEST', status: 400 } });
    sim.setFaults([{ times: 1, fault: { kind: 'status', status: 529 } }, { times: 1, fault: { kind: 'status', status: 429, retryAfterSeconds: 4 } }]);
    expect(await roundTrip(adapter, req({}), false, provider, ctx)).toMatchObject({ ok: false, error: { code: 'PROVIDER_UNAVAILABLE', retryable: true } });
    expect(await roundTrip(adapter, req({}), true, provider, ctx)).toMatchObject({ ok: false, error: { code: 'PROVIDER_RATE_LIMITED', retryAfterSeconds: 4 } });
    sim.clearFaults();
  });
});
