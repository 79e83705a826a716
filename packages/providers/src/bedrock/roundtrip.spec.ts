import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatCompletionRequest } from '@gw/contracts';
import { BEDROCK_TEST_CREDENTIALS, startSimulator, type Simulator } from '@gw/testing';
import { roundTrip } from '../shared/http-replay.js';
import { collect } from '../shared/replay.js';
import type { ResolvedProvider } from '../types.js';
import { adapter } from './index.js';

/**
 * adapter.buildRequest → real HTTP to the simulator's Bedrock endpoints → parseResponse / event-stream decoder and
 * translator. Signed with the simulator's test credentials, so every request's SigV4 signature is recomputed and
 * checked by an independent implementation; every body is checked against the Converse schema.
 */

let sim: Simulator;
let provider: ResolvedProvider;
const ctx = { model: 'anthropic.claude-sim-v1:0', requestId: 'rt-b', created: 1_700_000_000 };

beforeAll(async () => {
  sim = await startSimulator({ port: 0 });
  provider = {
    id: 'bedrock-sim',
    type: 'bedrock',
    baseUrl: sim.url,
    apiKey: undefined,
    headers: {},
    options: { region: 'us-east-1', ...BEDROCK_TEST_CREDENTIALS, sessionToken: 'session-sim' },
  };
});
afterAll(async () => {
  await sim.close();
});

const req = (r: Partial<ChatCompletionRequest>) =>
  ({ model: 'b', messages: [{ role: 'user', content: 'hello there world' }], ...r }) as ChatCompletionRequest;
const tools = [
  {
    type: 'function' as const,
    function: {
      name: 'get_weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
];

describe('bedrock adapter ⇄ simulator', () => {
  it('text: a signed, valid Converse request; the answer is a completion with usage', async () => {
    sim.resetStats();
    const r = await roundTrip(
      adapter,
      req({
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'hello there world' },
        ],
        max_tokens: 50,
      }),
      false,
      provider,
      ctx,
    );
    if (!r.ok || !('completion' in r)) throw new Error(`unexpected ${JSON.stringify(r)}`);
    expect(r.completion.choices[0]!.message.content).toContain('hello there world');
    expect(r.completion.usage!.completion_tokens).toBeGreaterThan(0);
    const seen = sim.stats().lastRequests.at(-1)!;
    expect(seen.path).toBe('/model/anthropic.claude-sim-v1%3A0/converse');
    expect(seen.headers['x-amz-security-token']).toBe('session-sim');
    expect(sim.stats().requestsByModel).toEqual({ 'anthropic.claude-sim-v1:0': 1 });
  });

  it('a wrong secret is refused by the signature check (403 → PROVIDER_ERROR, not retryable)', async () => {
    const wrong = { ...provider, options: { ...provider.options, secretAccessKey: 'not-the-secret' } };
    const r = await roundTrip(adapter, req({}), false, wrong, ctx);
    expect(r).toMatchObject({ ok: false, status: 403, error: { code: 'PROVIDER_ERROR', retryable: false } });
  });

  it('every translated parameter is accepted (system, image bytes, document, tools, stop, sampling, JSON fallback)', async () => {
    const r = await roundTrip(
      adapter,
      req({
        messages: [
          { role: 'system', content: 'be brief' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'look' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              {
                type: 'file',
                file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBERi0=' },
              },
            ],
          },
          { role: 'assistant', content: 'a cat' },
          { role: 'user', content: 'and?' },
        ],
        temperature: 0.5,
        top_p: 0.9,
        stop: ['END'],
        max_completion_tokens: 300,
        tools,
        tool_choice: 'auto',
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'x',
            schema: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
          },
        },
      }),
      false,
      provider,
      ctx,
    );
    if (!r.ok || !('completion' in r)) throw new Error(`unexpected ${JSON.stringify(r)}`);
    // the JSON tool was forced, and its input came back as the content
    expect(JSON.parse(r.completion.choices[0]!.message.content!)).toEqual({ a: 'and?' });
    expect(r.completion.choices[0]!.finish_reason).toBe('stop');
  });

  it('a forced tool, then the tool result turn', async () => {
    const first = await roundTrip(
      adapter,
      req({ tools, tool_choice: { type: 'function', function: { name: 'get_weather' } } }),
      false,
      provider,
      ctx,
    );
    if (!first.ok || !('completion' in first)) throw new Error(`unexpected ${JSON.stringify(first)}`);
    const call = first.completion.choices[0]!.message.tool_calls![0]!;
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'hello there world' });
    expect(first.completion.choices[0]!.finish_reason).toBe('tool_calls');
    const second = await roundTrip(
      adapter,
      req({
        tools,
        messages: [
          { role: 'user', content: 'hello there world' },
          { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: call.id, content: 'sunny' },
        ],
      }),
      false,
      provider,
      ctx,
    );
    expect(second).toMatchObject({ ok: true, status: 200 });
  });

  it('streams text and a tool call through the event-stream decoder and translator', async () => {
    const text = await roundTrip(adapter, req({}), true, provider, ctx);
    if (!text.ok || !('stream' in text)) throw new Error('no stream');
    expect(text.stream.done).toBe(true);
    expect(collect(text.stream.chunks).content).toContain('hello there world');
    expect(text.stream.usage!.completion_tokens).toBeGreaterThan(0);
    const tool = await roundTrip(adapter, req({ tools, tool_choice: 'required' }), true, provider, ctx);
    if (!tool.ok || !('stream' in tool)) throw new Error('no stream');
    const all = collect(tool.stream.chunks);
    expect(all.tools.map((t) => t.name)).toEqual(['get_weather']);
    expect(JSON.parse(all.tools[0]!.arguments)).toEqual({ city: 'hello there world' });
    expect(all.finish).toBe('tool_calls');
  });

  it('upstream errors map: validation 400, throttling 429 with retry-after, 503', async () => {
    const bad = await roundTrip(adapter, req({ temperature: 1.5 }), false, provider, ctx);
    expect(bad).toMatchObject({ ok: false, status: 400, error: { code: 'INVALID_REQUEST' } });
    sim.setFaults([
      { times: 1, fault: { kind: 'status', status: 429, retryAfterSeconds: 5 } },
      { times: 1, fault: { kind: 'status', status: 503 } },
    ]);
    expect(await roundTrip(adapter, req({}), true, provider, ctx)).toMatchObject({
      ok: false,
      error: { code: 'PROVIDER_RATE_LIMITED', retryAfterSeconds: 5 },
    });
    expect(await roundTrip(adapter, req({}), false, provider, ctx)).toMatchObject({
      ok: false,
      error: { code: 'PROVIDER_UNAVAILABLE', retryable: true },
    });
    sim.clearFaults();
  });

  it('embeddings through InvokeModel (Titan)', async () => {
    const e = adapter.embeddings!;
    const tctx = { ...ctx, model: 'amazon.titan-embed-text-v2:0' };
    const up = e.buildRequest({ model: 'x', input: 'hello world', dimensions: 512 }, provider, tctx);
    const res = await fetch(up.url, { method: up.method, headers: up.headers, body: up.body });
    expect(res.status).toBe(200);
    const out = e.parseResponse(await res.json(), tctx);
    expect(out.data[0]!.embedding).toHaveLength(512);
    expect(out.usage.prompt_tokens).toBe(3);
  });
});
