import { GatewayError, type ChatCompletionRequest } from '@gw/contracts';
import { describe, expect, it } from 'vitest';
import { contentOf, ctx, fixture, reasoningOf, translate, wire } from '../shared/spec-helpers.js';
import type { ResolvedProvider } from '../types.js';
import { parseError } from './errors.js';
import { adapter } from './index.js';

const provider: ResolvedProvider = {
  id: 'mi',
  type: 'mistral',
  baseUrl: 'https://api.mistral.ai/v1',
  apiKey: 'mk',
  headers: {},
  options: {},
};
const req: ChatCompletionRequest = {
  model: 'client',
  messages: [
    { role: 'developer', content: 'be brief', name: 'ops' },
    { role: 'user', content: 'weather?', name: 'ann' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c1', type: 'function', function: { name: 'w', arguments: '{}' } }],
      reasoning_content: 'hmm',
    },
    { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
  ],
  tools: [{ type: 'function', function: { name: 'w', parameters: { type: 'object', properties: {} } } }],
  tool_choice: 'required',
  seed: 7,
  max_completion_tokens: 100,
  n: 2,
  stop: ['END'],
  presence_penalty: 0.5,
  response_format: { type: 'json_schema', json_schema: { name: 'o', schema: { type: 'object' } } },
  stream_options: { include_usage: true },
};
const body = (r: ChatCompletionRequest, stream = false, mode: 'drop' | 'reject' = 'drop') =>
  JSON.parse(
    adapter.chat.buildRequest(r, stream, provider, ctx, { unsupportedParams: mode }).body as string,
  ) as Record<string, unknown>;

describe('mistral buildRequest', () => {
  it("spells OpenAI's parameters Mistral's way", () => {
    const b = body(req, true);
    expect(b['tool_choice']).toBe('any');
    expect(b['random_seed']).toBe(7);
    expect(b['seed']).toBeUndefined();
    expect(b['max_tokens']).toBe(100);
    expect(b['max_completion_tokens']).toBeUndefined();
    expect(b['stream_options']).toBeUndefined();
    expect(b).toMatchObject({
      n: 2,
      stop: ['END'],
      presence_penalty: 0.5,
      stream: true,
      response_format: req.response_format,
    });
    const msgs = b['messages'] as Array<Record<string, unknown>>;
    expect(msgs[0]).toEqual({ role: 'system', content: 'be brief' });
    expect(msgs[1]).toEqual({ role: 'user', content: 'weather?' });
    expect(msgs[2]!['reasoning_content']).toBeUndefined();
    expect(msgs[3]).toEqual({ role: 'tool', tool_call_id: 'c1', content: 'sunny' });
  });
  it('auto, none and a named function pass through', () => {
    expect(body({ ...req, tool_choice: 'auto' })['tool_choice']).toBe('auto');
    expect(
      body({ ...req, tool_choice: { type: 'function', function: { name: 'w' } } })['tool_choice'],
    ).toEqual({ type: 'function', function: { name: 'w' } });
  });
  it('parameters Mistral lacks: dropped, or a 400 naming them in reject mode', () => {
    const withExtras = { ...req, logprobs: true, user: 'u1' };
    const b = body(withExtras);
    expect(b['logprobs']).toBeUndefined();
    expect(b['user']).toBeUndefined();
    let err: unknown;
    try {
      body(withExtras, false, 'reject');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('INVALID_REQUEST');
    expect((err as GatewayError).param).toBe('logprobs');
    expect(() => body(req, false, 'reject')).not.toThrow();
  });
});

describe('mistral responses (real captures)', () => {
  it('magistral content chunks → content and reasoning_content', () => {
    const c = adapter.chat.parseResponse(JSON.parse(fixture('mistral/mistral-reasoning.json')), ctx);
    expect(c.choices[0]!.message.content).toBe('2 + 2 = 4');
    expect(c.choices[0]!.message.reasoning_content).toContain('basic arithmetic');
  });
  it('tool calls get their type', () => {
    const c = adapter.chat.parseResponse(JSON.parse(fixture('mistral/mistral-tool-call.json')), ctx);
    expect(c.choices[0]!.message.tool_calls?.[0]).toMatchObject({
      id: 'gSIMJiOkT',
      type: 'function',
      function: { name: 'weather' },
    });
  });
  it('stream: reasoning chunks → reasoning_content deltas, text → content, usage on the last chunk', () => {
    const t = adapter.chat.createStreamTranslator(ctx);
    const chunks = translate(wire('mistral/mistral-reasoning.chunks.txt', { done: true }), t);
    expect(reasoningOf(chunks)).toContain('basic arithmetic');
    expect(contentOf(chunks)).toContain('2 + 2 = 4');
    expect(chunks.every((c) => !Array.isArray(c.choices[0]?.delta.content))).toBe(true);
    expect(t.usage()).toMatchObject({ prompt_tokens: 10, completion_tokens: 46 });
    expect(t.done()).toBe(true);
  });
  it('stream: a whole tool call in one delta gets index 0 and its type; argument fragments keep the index', () => {
    const t = adapter.chat.createStreamTranslator(ctx);
    const chunks = translate(wire('mistral/mistral-tool-call.chunks.txt', { done: true }), t);
    const call = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])[0];
    expect(call).toMatchObject({
      index: 0,
      id: 'gSIMJiOkT',
      type: 'function',
      function: { name: 'weather' },
    });
    const t2 = adapter.chat.createStreamTranslator(ctx);
    const frame = (tc: unknown) =>
      JSON.stringify({
        id: 'x',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'm',
        choices: [{ index: 0, delta: { tool_calls: [tc] }, finish_reason: null }],
      });
    const a = t2.push({ data: frame({ id: 'a', function: { name: 'f', arguments: '{"x"' } }) });
    const b = t2.push({ data: frame({ function: { arguments: ':1}' } }) });
    const c = t2.push({ data: frame({ id: 'b', function: { name: 'g', arguments: '{}' } }) });
    expect([a, b, c].map((x) => x[0]!.choices[0]!.delta.tool_calls![0]!.index)).toEqual([0, 0, 1]);
  });
});

describe('mistral errors', () => {
  it('a 422 with validation details → INVALID_REQUEST with a readable message and the param', () => {
    const body422 = JSON.stringify({
      object: 'error',
      message: {
        detail: [
          { type: 'extra_forbidden', loc: ['body', 'seed'], msg: 'Extra inputs are not permitted', input: 1 },
        ],
      },
      type: 'invalid_request_error',
      param: null,
      code: null,
    });
    const e = parseError(422, body422, {});
    expect(e).toMatchObject({ code: 'INVALID_REQUEST', status: 400, param: 'seed' });
    expect(e.message).toBe('body.seed: Extra inputs are not permitted');
  });
  it('a 400 with a string message, 401 {message}, 429 with retry-after, 503', () => {
    expect(
      parseError(
        400,
        '{"object":"error","message":"Prompt contains 40000 tokens, too many tokens for model context window","type":"invalid_request_error"}',
        {},
      ).code,
    ).toBe('CONTEXT_WINDOW_EXCEEDED');
    expect(parseError(401, '{"message":"Unauthorized","request_id":"r"}', {})).toMatchObject({
      code: 'PROVIDER_ERROR',
      status: 502,
      retryable: true,
    });
    expect(
      parseError(429, '{"message":"Requests rate limit exceeded"}', { 'retry-after': '2' }),
    ).toMatchObject({ code: 'PROVIDER_RATE_LIMITED', retryAfterSeconds: 2 });
    expect(parseError(503, 'upstream connect error', {})).toMatchObject({
      code: 'PROVIDER_UNAVAILABLE',
      retryable: true,
    });
  });
});
